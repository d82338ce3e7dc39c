/* `llmcap decide`: for each monthly volume, every option (API, hybrid, rent, own; per GPU and
 * precision) sized by simulation over seeds, the cheapest that meets every SLO, and the volumes
 * where the cheapest option changes. The study is sim/study/decide.c; this file reads the
 * arguments and prints. llmcap_cli_print_decision is shared with `llmcap run --decide`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/breakeven.h"
#include "llmcap/decide.h"

#include "cli.h"

enum { O_VOLUMES = 1, O_DTYPES, O_GPUS, O_OUTPUT, O_FORCE, O_AUTOSCALE, O_RENT };

#define MAX_VOLUMES 64

struct args {
	const char *out;
	bool force;
	bool rent_fixed; /* --rent fixed: the own fleet held all month (the upper bound) */
	double volumes[MAX_VOLUMES];
	size_t n_volumes;
	int dtypes[LLMCAP_DECIDE_MAX_DTYPES];
	size_t n_dtypes;
	struct llmcap_cli_gpus gpus;
};

static int decide_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	switch (id) {
	case O_VOLUMES:
		return llmcap_cli_parse_volumes(p->value, a->volumes, MAX_VOLUMES, &a->n_volumes);
	case O_DTYPES:
		a->n_dtypes = 0;
		return llmcap_cli_parse_dtypes(p->value, a->dtypes, LLMCAP_DECIDE_MAX_DTYPES,
					       &a->n_dtypes);
	case O_GPUS:
		return llmcap_cli_parse_gpus(p->value, &a->gpus);
	case O_OUTPUT:
		a->out = p->value;
		return 0;
	case O_FORCE:
		a->force = true;
		return 0;
	case O_AUTOSCALE: /* the default since rent is autoscaled unless --rent fixed */
		a->rent_fixed = false;
		return 0;
	case O_RENT:
		return llmcap_cli_parse_rent(p->value, &a->rent_fixed);
	}
	return -1;
}

int llmcap_cli_parse_rent(const char *s, bool *fixed)
{
	if (strcmp(s, "autoscaled") && strcmp(s, "fixed")) {
		fprintf(stderr, "llmcap: --rent '%s': expected autoscaled or fixed\n", s);
		return -1;
	}
	*fixed = !strcmp(s, "fixed");
	return 0;
}

static const char *dtype_name(int d)
{
	return d >= 0 ? llmcap_dtype_name((enum llmcap_dtype)d) : "";
}

/* "own h100-sxm-80gb fp8" */
static void option_label(const struct llmcap_decide_option *o, char *buf, size_t n)
{
	if (o->option == LLMCAP_OPTION_API)
		snprintf(buf, n, "api");
	else if (o->dtype < 0) /* per-pool: each pool at its own precision */
		snprintf(buf, n, "%s %s", llmcap_option_names[o->option], o->gpu);
	else
		snprintf(buf, n, "%s %s %s", llmcap_option_names[o->option], o->gpu,
			 dtype_name(o->dtype));
}

static void money_ci(double m, double half, char *buf, size_t n)
{
	char a[32], b[32];
	llmcap_format_usd(m, a, sizeof a);
	if (isfinite(half) && half >= 0.5) { /* under half a dollar: none */
		llmcap_format_usd(half, b, sizeof b);
		snprintf(buf, n, "%s +- %s", a, b);
	} else {
		snprintf(buf, n, "%s", a);
	}
}

void llmcap_cli_print_decision(const struct llmcap_scenario *sc, const struct llmcap_decision *d,
			       size_t seeds, FILE *out)
{
	char vol[32], dem[32];
	llmcap_format_count(d->tokens_per_month, vol, sizeof vol);
	llmcap_format_count(d->demand_per_month, dem, sizeof dem);
	fprintf(out, "the decision, sized by simulation (%s tokens/month; %s arrived in the horizon, "
		     "scaled to a month; %zu seed%s, %d simulations)\n",
		vol, dem, seeds, seeds == 1 ? "" : "s", d->simulations);
	int w = 38; /* the option column: wider for a mixed fleet's labels (h200-141gb+l40s-48gb) */
	for (size_t i = 0; i < d->n_options; i++) {
		char label[96];
		option_label(&d->options[i], label, sizeof label);
		if ((int)strlen(label) > w)
			w = (int)strlen(label);
	}
	fprintf(out, "  %-*s %-22s", w, "option", "per month (95% CI)");
	fprintf(out, " %9s", "$/1M");
	for (size_t p = 0; p < sc->n_pools; p++)
		fprintf(out, " %10s", sc->pools[p].name);
	fprintf(out, " %5s  %s\n", "GPUs", "SLOs");
	for (size_t i = 0; i < d->n_options; i++) {
		const struct llmcap_decide_option *o = &d->options[i];
		char label[96], m[80];
		option_label(o, label, sizeof label);
		money_ci(o->monthly, o->monthly_half, m, sizeof m);
		fprintf(out, "  %-*s %-22s %9.3f", w, label, m, o->per_1m);
		for (size_t p = 0; p < sc->n_pools; p++) {
			if (o->gpus == 0)
				fprintf(out, " %10s", "-");
			else
				fprintf(out, " %10lld", (long long)o->replicas[p]);
		}
		if (o->gpus == 0)
			fprintf(out, " %5s", "-");
		else
			fprintf(out, " %5lld", (long long)o->gpus);
		if (o->sized && o->slo_met && !o->why)
			fprintf(out, "  met%s", o->option == LLMCAP_OPTION_API && !o->latency_checked
							? " (latency not checked: no provider named)"
							: "");
		else
			fprintf(out, "  %s", o->why ? o->why : "missed");
		if (o->option == LLMCAP_OPTION_HYBRID && o->sized && o->slo_met)
			fprintf(out, " (%.1f%% spilled)", 100 * o->spilled_share);
		fputc('\n', out);
	}
	for (size_t i = 0; i < d->n_options; i++)
		if (!strcmp(d->options[i].gpu, "per-pool") && d->options[i].sized) {
			fprintf(out, "  %s per-pool GPUs:", llmcap_option_names[d->options[i].option]);
			for (size_t p = 0; p < sc->n_pools; p++)
				fprintf(out, "%s %s on %s TP%lld", p ? "," : "", sc->pools[p].name,
					d->options[i].pool_gpu[p], (long long)d->options[i].pool_tp[p]);
			fputc('\n', out);
		}
	fprintf(out, "  (replicas per pool: the fleet chosen, per pool the largest of the seeds' "
		     "smallest; hybrid: the owned baseline)\n");
	if (d->rent_autoscaled)
		fprintf(out, "  rent bills the GPU-hours held by the fleet autoscaled up to the size "
			     "shown (the fixed fleet's, an upper bound, where autoscaled it missed an "
			     "SLO)\n");
	else
		fprintf(out, "  rent holds the same fixed fleet every hour of the month (--rent fixed): "
			     "an upper bound on rent\n");
	if (d->best < 0) {
		fprintf(out, "decision: no option meets every SLO on every seed\n");
		return;
	}
	char label[96], m[96], per[32];
	const struct llmcap_decide_option *b = &d->options[d->best];
	option_label(b, label, sizeof label);
	money_ci(b->monthly, b->monthly_half, m, sizeof m);
	llmcap_format_usd(b->per_1m, per, sizeof per);
	fprintf(out, "decision: %s, %s/month ($%.3f per 1M tokens)", label, m, b->per_1m);
	if (b->option != LLMCAP_OPTION_API)
		fprintf(out, ", %lld GPUs on %lld server%s", (long long)b->gpus, (long long)b->servers,
			b->servers == 1 ? "" : "s");
	fputc('\n', out);
	if (d->runner_up >= 0) {
		const struct llmcap_decide_option *r = &d->options[d->runner_up];
		option_label(r, label, sizeof label);
		money_ci(r->monthly, r->monthly_half, m, sizeof m);
		fprintf(out, "runner-up: %s, %s/month ($%.3f per 1M tokens)\n", label, m, r->per_1m);
	}
}

/* The cheapest SLO-meeting option at row v among those of GPU g and precision dt (g NULL: any),
 * the API always among them; -1: none. */
static int cheapest(const struct llmcap_decision *row, const char *g, int dt)
{
	int best = -1;
	for (size_t i = 0; i < row->n_options; i++) {
		const struct llmcap_decide_option *o = &row->options[i];
		if (!o->sized || !o->slo_met || !isfinite(o->monthly))
			continue;
		if (g && o->option != LLMCAP_OPTION_API && (strcmp(o->gpu, g) || o->dtype != dt))
			continue;
		if (best < 0 || o->monthly < row->options[best].monthly)
			best = (int)i;
	}
	return best;
}

static void print_tipping(const struct llmcap_decision *rows, size_t n, const char *g, int dt)
{
	int prev = -1;
	bool any = false;
	for (size_t v = 0; v < n; v++) {
		int c = cheapest(&rows[v], g, dt);
		if (v > 0 && c >= 0 && prev >= 0 &&
		    rows[v].options[c].option != rows[v - 1].options[prev].option) {
			char a[32], b[32], la[96], lb[96];
			llmcap_format_count(rows[v - 1].tokens_per_month, a, sizeof a);
			llmcap_format_count(rows[v].tokens_per_month, b, sizeof b);
			option_label(&rows[v - 1].options[prev], la, sizeof la);
			option_label(&rows[v].options[c], lb, sizeof lb);
			printf("    between %s and %s tokens/month: %s -> %s\n", a, b, la, lb);
			any = true;
		}
		prev = c;
	}
	if (!any)
		printf("    no change of the cheapest option over these volumes\n");
}

static void print_table(const struct llmcap_scenario *sc, const struct args *a,
			const struct llmcap_decision *rows, size_t seeds)
{
	printf("llmcap decide: %s, every option sized by simulation to meet every class's SLOs in "
	       "the busiest hour on each of %zu seeds (a fleet is chosen only if it meets them on "
	       "every seed)\n\n", sc->name, seeds);
	printf("  %-12s", "tokens/month");
	for (int o = 0; o < LLMCAP_OPTION_COUNT; o++)
		printf(" %16s", llmcap_option_names[o]);
	printf("  %s\n", "cheapest (per month, mean +- 95% CI)");
	for (size_t v = 0; v < a->n_volumes; v++) {
		const struct llmcap_decision *r = &rows[v];
		char vol[32];
		llmcap_format_count(r->tokens_per_month, vol, sizeof vol);
		printf("  %10s  ", vol);
		for (int o = 0; o < LLMCAP_OPTION_COUNT; o++) {
			/* the cheapest SLO-meeting of this kind over GPUs and precisions */
			double m = NAN;
			for (size_t i = 0; i < r->n_options; i++) {
				const struct llmcap_decide_option *x = &r->options[i];
				if ((int)x->option == o && x->sized && x->slo_met && isfinite(x->monthly) &&
				    !(x->monthly >= m))
					m = x->monthly;
			}
			char s[32];
			llmcap_format_usd(m, s, sizeof s);
			printf(" %16s", isnan(m) ? "missed/n/a" : s);
		}
		if (r->best >= 0) {
			char label[96], m[80];
			option_label(&r->options[r->best], label, sizeof label);
			money_ci(r->options[r->best].monthly, r->options[r->best].monthly_half, m,
				 sizeof m);
			printf("  %s, %s", label, m);
		} else {
			printf("  none meets the SLOs");
		}
		putchar('\n');
	}
	printf("\n  (per month; each kind's cheapest SLO-meeting GPU and precision; missed/n/a: no "
	       "fleet met the SLOs or a price is not published; %s)\n",
	       !a->rent_fixed ? "rent: the autoscaled fleet's held GPU-hours where it met every SLO, "
				"else a fixed fleet all month; --rent fixed for that upper bound"
			      : "rent holds a fixed fleet all month (--rent fixed): an upper bound");
	printf("\n  where the cheapest option changes:\n  overall:\n");
	print_tipping(rows, a->n_volumes, NULL, -1);
	const struct llmcap_decision *r0 = &rows[0];
	for (size_t i = 0; i < r0->n_options; i++) {
		const struct llmcap_decide_option *o = &r0->options[i];
		if (o->option != LLMCAP_OPTION_OWN)
			continue;
		printf("  %s %s (and the API):\n", o->gpu, dtype_name(o->dtype));
		print_tipping(rows, a->n_volumes, o->gpu, o->dtype);
	}
}

static int decide(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		  struct args *a, long jobs, long seeds)
{
	if (llmcap_cli_needs_busiest_hour(sc, "decide") != 0)
		return 2;
	struct llmcap_decision *rows = calloc(a->n_volumes, sizeof *rows);
	if (!rows) {
		fprintf(stderr, "llmcap: out of memory\n");
		return 1;
	}
	fprintf(stderr, "llmcap: deciding at %zu volumes x %zu GPUs x %zu precisions x %ld seeds on "
			"%ld threads\n",
		a->n_volumes, a->gpus.n ? a->gpus.n : 1, a->n_dtypes, seeds, jobs);
	struct llmcap_cli_progress prog;
	llmcap_cli_progress_init(&prog, "decide: simulations");
	struct llmcap_decide_spec spec = {
		.tokens_per_month = NAN, .gpus = a->gpus.names, .n_gpus = a->gpus.n, .dtypes = a->dtypes,
		.n_dtypes = a->n_dtypes, .seeds = (size_t)seeds, .threads = jobs,
		.progress = {.fn = llmcap_cli_progress_show, .user = &prog}, .pool_gpus = a->gpus.per_pool,
		.rent_autoscale = !a->rent_fixed};
	struct llmcap_error err = {0};
	int rc = llmcap_decide_volumes(sc, cat, &spec, a->volumes, a->n_volumes, rows, &err);
	llmcap_cli_progress_end(&prog);
	if (rc != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		free(rows);
		return 1;
	}
	if (a->n_volumes == 1)
		llmcap_cli_print_decision(sc, &rows[0], (size_t)seeds, stdout);
	else
		print_table(sc, a, rows, (size_t)seeds);
	if (a->out) {
		if (llmcap_decide_write_csv(a->out, a->force, rows, a->n_volumes, &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			rc = 1;
		} else {
			printf("\nresults written to %s (analysis/plot_breakeven.py plots it)\n", a->out);
		}
	}
	free(rows);
	return rc;
}

static int decide_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	/* the help's default volumes */
	struct args a = {.volumes = {0.5e9, 1e9, 2e9, 2.7e9, 5e9, 7.5e9, 10e9, 15e9, 20e9, 30e9, 50e9,
				     100e9},
			 .n_volumes = 12};
	struct llmcap_cli_common c = {.seeds = 3};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &c, decide_option, &a);
	if (rc < 0 && (c.seeds < 1 || c.seeds > LLMCAP_DECIDE_MAX_SEEDS)) {
		fprintf(stderr, "llmcap: --seeds: expected 1 to %d\n", LLMCAP_DECIDE_MAX_SEEDS);
		rc = 2;
	}
	if (rc < 0 && llmcap_cli_check_output(a.out, a.force) != 0)
		rc = 2;
	struct llmcap_catalog *cat = rc < 0 ? malloc(sizeof *cat) : NULL;
	struct llmcap_scenario *sc = rc < 0 ? malloc(sizeof *sc) : NULL;
	if (rc < 0 && (!cat || !sc)) {
		fprintf(stderr, "llmcap: out of memory\n");
		rc = 2;
	}
	if (rc < 0 && llmcap_cli_load(cat, sc, &c) != 0)
		rc = 2;
	if (rc < 0) {
		if (!a.n_dtypes) {
			int d[3];
			a.n_dtypes = llmcap_breakeven_default_dtypes(sc, cat, d);
			memcpy(a.dtypes, d, a.n_dtypes * sizeof *d);
		}
		rc = decide(sc, cat, &a, c.jobs, c.seeds);
		llmcap_scenario_free(sc);
	}
	free(cat);
	free(sc);
	llmcap_cli_common_free(&c);
	return rc;
}

static const struct llmcap_opt decide_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{O_VOLUMES, 0, "volumes", "V,...",
	 "the monthly token volumes, comma separated, at most 64, each with a suffix K, M, B or T "
	 "(as breakeven); one volume prints that decision in full",
	 "500M,1B,2B,2.7B,5B,7.5B,10B,15B,20B,30B,50B,100B"},
	{O_DTYPES, 0, "dtypes", "D,...",
	 "the precisions of the largest model: bf16, fp16, fp8, int4-awq, comma separated, at most 4",
	 "the scenario's, fp8 and int4-awq"},
	{O_GPUS, 0, "gpus", "G,...",
	 "the GPU types to size on (catalog names), at most 8; per-pool adds own and rent with each "
	 "pool's GPU chosen among every catalog GPU that holds its model (on every seed)",
	 "the scenario's hardware.gpu"},
	{LLMCAP_OPT_SEEDS, 0, "seeds", "N",
	 "seeds per option (scenario seed, +1, ...); a fleet is chosen only if it meets every SLO on "
	 "every seed", "3"},
	LLMCAP_CLI_OPT_JOBS("simulating"),
	{O_OUTPUT, 'o', "output", "FILE.csv",
	 "also write every option's cost per volume as CSV (analysis/plot_breakeven.py)", "none"},
	LLMCAP_CLI_OPT_FORCE(O_FORCE),
	LLMCAP_CLI_OPT_RENT(O_RENT),
	{O_AUTOSCALE, 0, "autoscale", NULL, "the same as --rent autoscaled (the default; kept for "
	 "scripts)", NULL},
};

const struct llmcap_cmd llmcap_cli_decide = {
	.name = "decide",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--volumes V,...] [--dtypes D,...] [--gpus G,...] "
		    "[--seeds N] [--jobs N] [-o FILE.csv] [--force] [--rent MODE]",
	.summary = "own, rent, API or hybrid: each sized by simulation over seeds to meet every SLO, "
		   "the cheapest per monthly volume and where it changes",
	.details = "Rent bills GPU-hours held by the fleet autoscaled with the load up to the own "
		   "option's size (pools.NAME.autoscale sets a pool's policy; docs/engine.md), or "
		   "with --rent fixed that fleet every hour of the month (an upper bound). Hybrid owns a smaller baseline and "
		   "spills to the API when a replica has a request waiting. An option that missed an "
		   "SLO or rejected a request on any seed is never recommended. docs/cost.md.",
	.opts = decide_opts,
	.n_opts = sizeof decide_opts / sizeof *decide_opts,
	.run = decide_main,
};

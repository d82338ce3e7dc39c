/* `llmcap plan`: the smallest fleet for the scenario's own volume, per candidate configuration,
 * ranked by cost, with what limits each pool. Candidates run in parallel threads; results are
 * stored by index, so they never depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/cost.h"
#include "llmcap/plan.h"
#include "llmcap/sweep.h"

#include "cli.h"


enum { O_VARY = 1, O_SKIP_INVALID, O_OUTPUT, O_FORCE, O_JSON };

struct args {
	struct llmcap_sweep_axis axes[LLMCAP_SWEEP_MAX_AXES];
	size_t n_axes;
	bool skip_invalid, force, json;
	const char *out;
};

/* One option of plan's own; -1 (printed) when it is not valid. */
static int plan_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	struct llmcap_error err = {0};
	switch (id) {
	case O_SKIP_INVALID: a->skip_invalid = true; return 0;
	case O_OUTPUT: a->out = p->value; return 0;
	case O_FORCE: a->force = true; return 0;
	case O_JSON: a->json = true; return 0;
	}
	if (a->n_axes == LLMCAP_SWEEP_MAX_AXES ||
	    llmcap_sweep_parse_axis(p->value, &a->axes[a->n_axes], &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg[0] ? err.msg : "too many --vary");
		return -1;
	}
	a->n_axes++;
	return 0;
}

/* "KEY=VALUE KEY=VALUE" of a candidate, or "(the scenario as given)". */
static void label(const struct llmcap_sweep *sw, size_t i, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t ax = 0; ax < sw->n_axes && k < n; ax++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s=%s", ax ? " " : "", sw->axes[ax].key,
				      sw->axes[ax].values[llmcap_sweep_value_index(sw, i, ax)]);
	if (!sw->n_axes)
		snprintf(buf, n, "(the scenario as given)");
}

static void print_table(FILE *out, const struct llmcap_scenario *sc, const struct llmcap_sweep *sw,
			const struct llmcap_plan_candidate *c, const size_t *order)
{
	size_t n = sw->n_points;
	int width = 9;
	char lab[1024];
	for (size_t i = 0; i < n; i++) {
		label(sw, i, lab, sizeof lab);
		width = (int)strlen(lab) > width ? (int)strlen(lab) : width;
	}
	/* pools on a GPU of their own have servers of their own (cost.h): name them, and the
	 * hardware block's servers only where a pool runs on them */
	size_t n_own = 0;
	for (size_t p = 0; p < sc->n_pools; p++)
		n_own += llmcap_pool_own_servers(sc, p);
	fprintf(out, "llmcap plan: %s, smallest fleet", sc->name);
	if (n_own < sc->n_pools)
		fprintf(out, " of %lld-GPU %s servers", (long long)sc->hardware.gpus_per_server,
			sc->hardware.gpu);
	for (size_t p = 0, k = 0; p < sc->n_pools; p++)
		if (llmcap_pool_own_servers(sc, p))
			fprintf(out, "%s%s on %lld-GPU %s", k++ ? ", " : " (", sc->pools[p].name,
				(long long)llmcap_pool_gpus_per_server(sc, p), llmcap_pool_gpu(sc, p));
	fprintf(out, "%s meeting every SLO in the busiest hour, %.2fB tokens/month\n\n",
		n_own ? ")" : "", c[order[0]].fleet.tokens_per_month / 1e9);
	fprintf(out, "  %-4s  %-*s  %5s %7s %13s %13s %9s\n", "rank", width, "candidate", "GPUs",
		"servers", "self-hosted", "API", "$/1M own");
	for (size_t r = 0; r < n; r++) {
		size_t i = order[r];
		const struct llmcap_fleet *f = &c[i].fleet;
		char rk[24], own[32], api[32];
		snprintf(rk, sizeof rk, "#%zu", r + 1);
		label(sw, i, lab, sizeof lab);
		fprintf(out, "  %-4s  %-*s  ", rk, width, lab);
		if (!llmcap_sweep_point_valid(sw, i)) {
			fprintf(out, "not runnable: %s\n", sw->point_error[i]);
			continue;
		}
		if (!f->feasible) {
			fprintf(out, "no fleet within %d replicas per pool\n", LLMCAP_PLAN_MAX_REPLICAS);
			continue;
		}
		llmcap_format_usd(f->cost.self_total, own, sizeof own);
		llmcap_format_usd(f->cost.api_total, api, sizeof api);
		fprintf(out, "%5lld %7lld %13s %13s %9.3f\n", (long long)f->gpus, (long long)f->servers,
			own, api, f->cost.self_per_1m_served);
		for (size_t p = 0; p < sc->n_pools; p++) {
			const struct llmcap_util_summary *u = &c[i].util[p];
			fprintf(out, "        %-12s %lld replica%s  busy %.2f  KV mean %.2f peak %.2f  "
				"preemptions %lld  MFU %.2f  HBM %.2f  limited by %s\n", sc->pools[p].name,
				(long long)f->replicas[p], f->replicas[p] == 1 ? " " : "s", u->busy,
				u->kv_mean, u->kv_peak, (long long)u->preemptions, u->mfu, u->hbm_fraction,
				llmcap_plan_limit(u, &sc->pools[p]));
		}
	}
	const struct llmcap_fleet *best = &c[order[0]].fleet;
	if (llmcap_sweep_point_valid(sw, order[0]) && best->feasible) {
		char own[32];
		llmcap_format_usd(best->cost.self_total, own, sizeof own);
		label(sw, order[0], lab, sizeof lab);
		fprintf(out, "\nbest: %s: %lld GPUs on %lld server%s, self-hosted %s over %g years\n", lab,
			(long long)best->gpus, (long long)best->servers, best->servers == 1 ? "" : "s", own,
			sc->cost.horizon_years);
	}
	fprintf(out, "\n  (limits: KV capacity = preemptions or >= 95%% of KV blocks in use; compute/HBM "
		"bandwidth = busy >= 60%%, by the nearer roofline (step time with the linear and table "
		"models); queueing = SLOs met only with idle time to spare)\n");
}

static void print_json(FILE *out, const struct llmcap_scenario *sc, const struct llmcap_sweep *sw,
		       const struct llmcap_plan_candidate *c, const size_t *order)
{
	fprintf(out, "{\"command\": \"plan\", \"scenario\": ");
	llmcap_cli_json_str(out, sc->name);
	fprintf(out, ", \"tokens_per_month\": ");
	llmcap_cli_json_num(out, c[order[0]].fleet.tokens_per_month);
	fprintf(out, ", \"horizon_years\": ");
	llmcap_cli_json_num(out, sc->cost.horizon_years);
	fprintf(out, ",\n \"candidates\": [");
	for (size_t r = 0; r < sw->n_points; r++) {
		size_t i = order[r];
		const struct llmcap_fleet *f = &c[i].fleet;
		bool valid = llmcap_sweep_point_valid(sw, i);
		fprintf(out, "%s{\"rank\": %zu, \"values\": {", r ? ",\n  " : "\n  ", r + 1);
		for (size_t ax = 0; ax < sw->n_axes; ax++) {
			fprintf(out, "%s", ax ? ", " : "");
			llmcap_cli_json_str(out, sw->axes[ax].key);
			fprintf(out, ": ");
			llmcap_cli_json_str(out, sw->axes[ax].values[llmcap_sweep_value_index(sw, i, ax)]);
		}
		fprintf(out, "}, \"valid\": %s, \"error\": ", valid ? "true" : "false");
		if (valid)
			fprintf(out, "null");
		else
			llmcap_cli_json_str(out, sw->point_error[i]);
		bool ok = valid && f->feasible;
		fprintf(out, ", \"feasible\": %s", ok ? "true" : "false");
		if (ok) {
			fprintf(out, ", \"gpus\": %lld, \"servers\": %lld, \"self_hosted_total\": ",
				(long long)f->gpus, (long long)f->servers);
			llmcap_cli_json_num(out, f->cost.self_total);
			fprintf(out, ", \"api_total\": ");
			llmcap_cli_json_num(out, f->cost.api_total);
			fprintf(out, ", \"self_per_1m_served\": ");
			llmcap_cli_json_num(out, f->cost.self_per_1m_served);
			fprintf(out, ", \"pools\": [");
			for (size_t p = 0; p < sc->n_pools; p++) {
				const struct llmcap_util_summary *u = &c[i].util[p];
				fprintf(out, "%s{\"name\": ", p ? ", " : "");
				llmcap_cli_json_str(out, sc->pools[p].name);
				fprintf(out, ", \"replicas\": %lld, \"busy\": %.17g, \"kv_mean\": %.17g, "
					"\"kv_peak\": %.17g, \"preemptions\": %lld, \"mfu\": %.17g, "
					"\"hbm_fraction\": %.17g, \"limited_by\": \"%s\"}",
					(long long)f->replicas[p], u->busy, u->kv_mean, u->kv_peak,
					(long long)u->preemptions, u->mfu, u->hbm_fraction,
					llmcap_plan_limit(u, &sc->pools[p]));
			}
			fprintf(out, "]");
		}
		fprintf(out, "}");
	}
	fprintf(out, "]}\n");
}

/* The scenario and the candidates, for --vary and --skip-invalid; -1 (printed) on failure.
 * The candidates' replica counts and servers are what the plan finds, so whether the
 * scenario's own servers hold a candidate's replicas (a check of every scenario) must not
 * rule it out: the check is given as many servers as the schema allows. */
static int load(struct llmcap_cli_common *c, struct args *a, struct llmcap_catalog *cat,
		struct llmcap_scenario *sc, struct llmcap_sweep *sw)
{
	struct llmcap_error err = {0};
	c->sets[c->n_sets] = "hardware.servers=100000";
	size_t n_sets = c->n_sets + 1;
	/* with --skip-invalid the scenario as given need not fit: its candidates are checked
	 * (llmcap_sweep_init) */
	if (llmcap_cli_load_catalog(cat, c, &err) != 0 ||
	    (a->skip_invalid ? llmcap_scenario_load_unchecked : llmcap_scenario_load)(
		    sc, c->file, c->sets, n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return -1;
	}
	int bad = llmcap_cli_needs_busiest_hour(sc, "plan") != 0;
	llmcap_scenario_free(sc); /* the fields read below are not owned ones */
	if (bad)
		return -1;
	/* the candidates are the --vary values alone: a scenario's sweep section is not read */
	struct llmcap_sweep_options opt = {.seeds = 1, .zip = 0, .batch_means = 0, .warmup = -1,
					   .timeseries = 0, .no_file_axes = true,
					   .skip_invalid = a->skip_invalid};
	bad = llmcap_sweep_init(sw, c->file, c->sets, n_sets, a->axes, a->n_axes, &opt, cat, &err);
	a->n_axes = 0; /* taken by llmcap_sweep_init */
	if (bad)
		fprintf(stderr, "llmcap: %s\n", err.msg);
	return bad ? -1 : 0;
}

/* Plans every candidate and prints them ranked; the exit status. */
static int plan(const struct args *a, long jobs, const struct llmcap_scenario *sc,
		const struct llmcap_sweep *sw, const struct llmcap_catalog *cat)
{
	size_t n = sw->n_points;
	struct llmcap_plan_candidate *c = calloc(n, sizeof *c);
	size_t *order = calloc(n, sizeof *order);
	int rc = 1;
	if (!c || !order) {
		fprintf(stderr, "llmcap: out of memory\n");
		goto out;
	}
	fprintf(stderr, "llmcap: planning %zu candidate%s on up to %ld threads\n", n - sw->n_invalid,
		n - sw->n_invalid == 1 ? "" : "s", jobs);
	if (sw->n_invalid)
		fprintf(stderr, "llmcap: %zu of %zu candidates skipped (--skip-invalid): their scenario is "
				"invalid (listed last, with the reason)\n", sw->n_invalid, n);
	struct llmcap_cli_progress prog;
	llmcap_cli_progress_init(&prog, "plan: candidates done");
	struct llmcap_study_progress told = {.fn = llmcap_cli_progress_show, .user = &prog};
	struct llmcap_error err = {0};
	int prc = llmcap_plan_candidates(sw, cat, jobs, &told, c, order, &err);
	llmcap_cli_progress_end(&prog);
	if (prc != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		goto out;
	}
	struct llmcap_cli_output o;
	FILE *f = llmcap_cli_open_output(&o, a->out, a->force);
	if (f) {
		(a->json ? print_json : print_table)(f, sc, sw, c, order);
		rc = llmcap_cli_close_output(&o, a->out) == 0 ? 0 : 1;
	}
out:
	free(c);
	free(order);
	return rc;
}

static int plan_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct args a = {0};
	struct llmcap_cli_common common = {0};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &common, plan_option, &a);
	if (rc < 0 && llmcap_cli_check_output(a.out, a.force) != 0)
		rc = 2;
	struct llmcap_catalog *cat = rc < 0 ? malloc(sizeof *cat) : NULL;
	struct llmcap_scenario *sc = rc < 0 ? malloc(sizeof *sc) : NULL;
	struct llmcap_sweep sw;
	if (rc < 0 && (!cat || !sc)) {
		fprintf(stderr, "llmcap: out of memory\n");
		rc = 2;
	}
	if (rc < 0 && load(&common, &a, cat, sc, &sw) != 0)
		rc = 2;
	if (rc < 0) {
		rc = plan(&a, common.jobs, sc, &sw, cat);
		llmcap_sweep_free(&sw);
	}
	free(cat);
	free(sc);
	for (size_t i = 0; i < a.n_axes; i++)
		free(a.axes[i].values);
	llmcap_cli_common_free(&common);
	return rc;
}

static const struct llmcap_opt plan_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{O_VARY, 0, "vary", "KEY=LIST",
	 "a candidate axis (e.g. pools.reasoning.dtype=bf16,fp8); repeatable: every combination is "
	 "a candidate", "none: the scenario as given"},
	LLMCAP_CLI_OPT_JOBS("planning candidates"),
	{O_SKIP_INVALID, 0, "skip-invalid", NULL,
	 "plan the valid candidates and list the invalid ones last, with the reason", NULL},
	LLMCAP_CLI_OPT_REPORT(O_OUTPUT),
	LLMCAP_CLI_OPT_FORCE(O_FORCE),
	{O_JSON, 0, "json", NULL, "print the ranked candidates as JSON", NULL},
};

const struct llmcap_cmd llmcap_cli_plan = {
	.name = "plan",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--vary KEY=LIST]... [--jobs N] [--skip-invalid] "
		    "[-o FILE] [--force] [--json]",
	.summary = "the smallest fleet meeting every SLO in the busiest hour, per candidate (e.g. "
		   "pools.reasoning.dtype=bf16,fp8), ranked by cost, with what limits each pool",
	.opts = plan_opts,
	.n_opts = sizeof plan_opts / sizeof *plan_opts,
	.run = plan_main,
};

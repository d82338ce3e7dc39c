/* `llmcap maxrate`: the highest mean arrival rate at which every class meets its SLOs in the
 * busiest hour, bisected per seed. Seeds run in parallel threads; results are stored by index,
 * so they never depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/plan.h"
#include "llmcap/sweep.h"

#include "cli.h"

enum { O_TOLERANCE = 1, O_OUTPUT, O_FORCE, O_JSON };

struct args {
	double tolerance;
	const char *out;
	bool force, json;
};

/* One option of maxrate's own; -1 (printed) when it is not valid. */
static int maxrate_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	char *end;
	switch (id) {
	case O_OUTPUT: a->out = p->value; return 0;
	case O_FORCE: a->force = true; return 0;
	case O_JSON: a->json = true; return 0;
	}
	a->tolerance = strtod(p->value, &end);
	if (*end || !(a->tolerance > 0 && a->tolerance < 1)) {
		fprintf(stderr, "llmcap: --tolerance '%s': expected a share between 0 and 1\n", p->value);
		return -1;
	}
	return 0;
}

/* Each seed's highest passing rate (requests/s) and the simulations it took. */
struct rates {
	size_t n;
	double *best;
	int *sims;
};

static void print_table(FILE *out, const struct llmcap_scenario *sc, const struct args *a,
			const struct rates *j)
{
	fprintf(out, "llmcap maxrate: %s, highest mean rate at which every class meets its SLOs in "
		"the busiest hour (diurnal shape kept; bisected to %.1f%%)\n\n", sc->name,
		100 * a->tolerance);
	fprintf(out, "  %-6s %12s %12s %12s\n", "seed", "requests/s", "per day", "simulations");
	int sims = 0;
	for (size_t k = 0; k < j->n; k++) {
		fprintf(out, "  %-6llu %12.4f %12.0f %12d\n", (unsigned long long)(sc->seed + k),
			j->best[k], j->best[k] * 86400, j->sims[k]);
		sims += j->sims[k];
	}
	double mean, half;
	size_t used;
	llmcap_mean_ci95(j->best, j->n, 1, &mean, &half, &used);
	if (isnan(half))
		fprintf(out, "\n  max rate %.4f requests/s (%.0f/day); one seed gives no confidence "
			"interval (--seeds N)\n", mean, mean * 86400);
	else
		fprintf(out, "\n  max rate %.4f +- %.4f requests/s (%.0f +- %.0f/day), 95%% confidence "
			"over %zu seeds (Student t); %d simulations\n", mean, half, mean * 86400,
			half * 86400, used, sims);
}

static void print_json(FILE *out, const struct llmcap_scenario *sc, const struct args *a,
		       const struct rates *j)
{
	double mean, half;
	size_t used;
	llmcap_mean_ci95(j->best, j->n, 1, &mean, &half, &used);
	fprintf(out, "{\"command\": \"maxrate\", \"scenario\": ");
	llmcap_cli_json_str(out, sc->name);
	fprintf(out, ", \"tolerance\": ");
	llmcap_cli_json_num(out, a->tolerance);
	fprintf(out, ",\n \"seeds\": [");
	for (size_t k = 0; k < j->n; k++) {
		fprintf(out, "%s{\"seed\": %llu, \"rate_per_s\": ", k ? ",\n  " : "\n  ",
			(unsigned long long)(sc->seed + k));
		llmcap_cli_json_num(out, j->best[k]);
		fprintf(out, ", \"simulations\": %d}", j->sims[k]);
	}
	fprintf(out, "],\n \"mean_rate_per_s\": ");
	llmcap_cli_json_num(out, mean);
	fprintf(out, ", \"ci95_half_width_per_s\": ");
	llmcap_cli_json_num(out, half);
	fprintf(out, "}\n");
}

/* Bisects every seed and prints; the exit status. */
static int maxrate(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		   const struct args *a, size_t n, long jobs)
{
	struct rates j = {.n = n, .best = calloc(n, sizeof *j.best), .sims = calloc(n, sizeof *j.sims)};
	int rc = 1;
	if (j.best && j.sims) {
		fprintf(stderr, "llmcap: bisecting the rate for %zu seeds on up to %ld threads\n", n, jobs);
		struct llmcap_cli_progress prog;
		llmcap_cli_progress_init(&prog, "maxrate: seeds bisected");
		struct llmcap_study_progress told = {.fn = llmcap_cli_progress_show, .user = &prog};
		struct llmcap_error err = {0};
		rc = llmcap_max_rate_seeds(sc, cat, a->tolerance, n, jobs, &told, j.best, j.sims, &err);
		llmcap_cli_progress_end(&prog);
		if (rc != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			rc = 1;
		}
	} else {
		fprintf(stderr, "llmcap: out of memory\n");
	}
	struct llmcap_cli_output o;
	FILE *f = rc == 0 ? llmcap_cli_open_output(&o, a->out, a->force) : NULL;
	if (f) {
		(a->json ? print_json : print_table)(f, sc, a, &j);
		rc = llmcap_cli_close_output(&o, a->out) == 0 ? 0 : 1;
	} else if (rc == 0) {
		rc = 1;
	}
	free(j.best);
	free(j.sims);
	return rc;
}

static int maxrate_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct args a = {.tolerance = 0.02};
	struct llmcap_cli_common c = {.seeds = 5};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &c, maxrate_option, &a);
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
		rc = llmcap_cli_needs_busiest_hour(sc, "maxrate") != 0
			     ? 2 : maxrate(sc, cat, &a, (size_t)c.seeds, c.jobs);
		llmcap_scenario_free(sc);
	}
	free(cat);
	free(sc);
	llmcap_cli_common_free(&c);
	return rc;
}

static const struct llmcap_opt maxrate_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{LLMCAP_OPT_SEEDS, 0, "seeds", "N", "seeds, each bisected on its own (seed, seed + 1, ...)", "5"},
	{O_TOLERANCE, 0, "tolerance", "F",
	 "bisect until the bracket is within this share of the rate (between 0 and 1)", "0.02"},
	LLMCAP_CLI_OPT_JOBS("bisecting seeds"),
	LLMCAP_CLI_OPT_REPORT(O_OUTPUT),
	LLMCAP_CLI_OPT_FORCE(O_FORCE),
	{O_JSON, 0, "json", NULL, "print the rates per seed and their mean as JSON", NULL},
};

const struct llmcap_cmd llmcap_cli_maxrate = {
	.name = "maxrate",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--seeds N] [--tolerance F] [--jobs N] [-o FILE] "
		    "[--force] [--json]",
	.summary = "the highest mean rate at which every SLO holds in the busiest hour, per seed, "
		   "with its mean and 95% CI",
	.opts = maxrate_opts,
	.n_opts = sizeof maxrate_opts / sizeof *maxrate_opts,
	.run = maxrate_main,
};

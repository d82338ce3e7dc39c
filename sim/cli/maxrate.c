/* `llmcap maxrate`: the highest mean arrival rate at which every class meets its SLOs in the
 * busiest hour, bisected per seed. Seeds run in parallel threads; results are stored by index,
 * so they never depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/plan.h"
#include "llmcap/sweep.h"

#include "cli.h"

enum { O_TOLERANCE = 1 };

/* --tolerance; -1 (printed) when it is not valid. */
static int maxrate_option(const struct llmcap_args *p, int id, void *ctx)
{
	double *tolerance = ctx;
	char *end;
	(void)id; /* the one option of its own */
	*tolerance = strtod(p->value, &end);
	if (*end || !(*tolerance > 0 && *tolerance < 1)) {
		fprintf(stderr, "llmcap: --tolerance '%s': expected a share between 0 and 1\n", p->value);
		return -1;
	}
	return 0;
}

struct rate_job {
	const struct llmcap_scenario *base;
	const struct llmcap_catalog *cat;
	double tolerance;
	double *best;      /* per seed: highest rate that passed */
	int *sims;
	int *rcs;
	struct llmcap_error *errs;
	size_t n;
};

static int max_rate(const struct rate_job *j, size_t k)
{
	return llmcap_max_rate(j->base, j->base->seed + k, j->cat, j->tolerance, &j->best[k],
			       &j->sims[k], &j->errs[k]);
}

static void rate_seed(void *ctx, size_t k)
{
	struct rate_job *j = ctx;
	j->rcs[k] = max_rate(j, k);
}

static int maxrate_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	double tolerance = 0.02;
	struct llmcap_cli_common a = {.seeds = 5};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &a, maxrate_option, &tolerance);
	if (rc >= 0)
		goto out;
	rc = 2;
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!cat || !sc || llmcap_cli_load(cat, sc, a.file, a.sets, a.n_sets) != 0) {
		if (!cat || !sc)
			fprintf(stderr, "llmcap: out of memory\n");
		free(cat);
		free(sc);
		goto out;
	}
	if (llmcap_cli_needs_busiest_hour(sc, "maxrate") != 0) {
		llmcap_scenario_free(sc);
		free(cat);
		free(sc);
		goto out;
	}
	size_t n = (size_t)a.seeds;
	struct rate_job j = {.base = sc, .cat = cat, .tolerance = tolerance, .n = n};
	j.best = calloc(n, sizeof *j.best);
	j.sims = calloc(n, sizeof *j.sims);
	j.rcs = calloc(n, sizeof *j.rcs);
	j.errs = calloc(n, sizeof *j.errs);
	rc = 1;
	if (j.best && j.sims && j.rcs && j.errs) {
		fprintf(stderr, "llmcap: bisecting the rate for %zu seeds on up to %ld threads\n", n, a.jobs);
		llmcap_parallel_for(n, a.jobs, rate_seed, &j);
		rc = 0;
		for (size_t k = 0; k < n; k++)
			if (j.rcs[k]) {
				fprintf(stderr, "llmcap: seed %llu: %s\n",
					(unsigned long long)(sc->seed + k), j.errs[k].msg);
				rc = 1;
			}
	} else {
		fprintf(stderr, "llmcap: out of memory\n");
	}
	if (rc == 0) {
		printf("llmcap maxrate: %s, highest mean rate at which every class meets its SLOs in the "
		       "busiest hour (diurnal shape kept; bisected to %.1f%%)\n\n", sc->name,
		       100 * tolerance);
		int sims = 0;
		for (size_t k = 0; k < n; k++) {
			printf("  seed %-6llu %10.4f requests/s  (%8.0f/day)  %d simulations\n",
			       (unsigned long long)(sc->seed + k), j.best[k], j.best[k] * 86400, j.sims[k]);
			sims += j.sims[k];
		}
		double mean, half;
		size_t used;
		llmcap_mean_ci95(j.best, n, 1, &mean, &half, &used);
		if (isnan(half))
			printf("\n  max rate %.4f requests/s (%.0f/day); one seed gives no confidence "
			       "interval (--seeds N)\n", mean, mean * 86400);
		else
			printf("\n  max rate %.4f +- %.4f requests/s (%.0f +- %.0f/day), 95%% confidence over "
			       "%zu seeds (Student t); %d simulations\n", mean, half, mean * 86400,
			       half * 86400, used, sims);
	}
	free(j.best);
	free(j.sims);
	free(j.rcs);
	free(j.errs);
	llmcap_scenario_free(sc);
	free(cat);
	free(sc);
out:
	llmcap_cli_common_free(&a);
	return rc;
}

static const struct llmcap_opt maxrate_opts[] = {
	LLMCAP_CLI_OPT_SET,
	{LLMCAP_OPT_SEEDS, 0, "seeds", "N", "seeds, each bisected on its own (seed, seed + 1, ...)", "5"},
	{O_TOLERANCE, 0, "tolerance", "F",
	 "bisect until the bracket is within this share of the rate (between 0 and 1)", "0.02"},
	LLMCAP_CLI_OPT_JOBS("bisecting seeds"),
};

const struct llmcap_cmd llmcap_cli_maxrate = {
	.name = "maxrate",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--seeds N] [--tolerance F] [--jobs N]",
	.summary = "the highest mean rate at which every SLO holds in the busiest hour, per seed, "
		   "with its mean and 95% CI",
	.opts = maxrate_opts,
	.n_opts = sizeof maxrate_opts / sizeof *maxrate_opts,
	.run = maxrate_main,
};

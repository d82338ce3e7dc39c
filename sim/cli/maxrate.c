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

enum { O_SET = 1, O_SEEDS, O_TOLERANCE, O_JOBS };

struct args {
	const char *file;
	const char **sets;
	size_t n_sets;
	long jobs, seeds;
	double tolerance;
};

/* One option or the scenario file; -1 (printed) when it is not valid. */
static int maxrate_option(const struct llmcap_args *p, int id, struct args *a)
{
	char *end;
	switch (id) {
	case O_SET:
		a->sets[a->n_sets++] = p->value;
		return 0;
	case O_SEEDS:
	case O_JOBS:
		if (llmcap_cli_long(p->value, 1, 100000, id == O_JOBS ? &a->jobs : &a->seeds) != 0) {
			fprintf(stderr, "llmcap: %s '%s': expected a positive integer\n", p->name, p->value);
			return -1;
		}
		return 0;
	case O_TOLERANCE:
		a->tolerance = strtod(p->value, &end);
		if (*end || !(a->tolerance > 0 && a->tolerance < 1)) {
			fprintf(stderr, "llmcap: --tolerance '%s': expected a share between 0 and 1\n",
				p->value);
			return -1;
		}
		return 0;
	}
	if (a->file) {
		fprintf(stderr, "llmcap: only one scenario file may be given\n");
		return -1;
	}
	a->file = p->value;
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
	struct args a = {.jobs = sysconf(_SC_NPROCESSORS_ONLN), .seeds = 5, .tolerance = 0.02};
	a.sets = calloc((size_t)argc, sizeof *a.sets);
	int rc = 2;
	struct llmcap_args p;
	llmcap_args_init(&p, cmd, argc, argv, 2);
	for (int id; a.sets && (id = llmcap_args_next(&p)) != LLMCAP_ARGS_END;) {
		if (id == LLMCAP_ARGS_STOP) {
			rc = p.status;
			goto out;
		}
		if (maxrate_option(&p, id, &a) != 0)
			goto out;
	}
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	if (!a.sets || !cat || !sc || llmcap_catalog_load_builtin(cat, &err) != 0 ||
	    llmcap_scenario_load(sc, a.file, a.sets, a.n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", cat && sc && a.sets ? err.msg : "out of memory");
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
	struct rate_job j = {.base = sc, .cat = cat, .tolerance = a.tolerance, .n = n};
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
		       100 * a.tolerance);
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
	free(a.sets);
	return rc;
}

static const struct llmcap_opt maxrate_opts[] = {
	{O_SET, 's', "set", "KEY=VALUE", "override a scenario field; repeatable", NULL},
	{O_SEEDS, 0, "seeds", "N", "seeds, each bisected on its own (seed, seed + 1, ...)", "5"},
	{O_TOLERANCE, 0, "tolerance", "F",
	 "bisect until the bracket is within this share of the rate (between 0 and 1)", "0.02"},
	{O_JOBS, 0, "jobs", "N", "threads bisecting seeds at once", "the number of CPUs"},
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

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

/* Whether every class met its busiest-hour SLOs at this mean rate (requests/s). */
static int slo_holds(struct llmcap_scenario *sc, const struct llmcap_catalog *cat, double rate,
		     bool *ok, struct llmcap_error *err)
{
	sc->workload.rate = rate;
	sc->workload.tokens_per_month = NAN;
	int rc = llmcap_scenario_check(sc, cat, err);
	struct llmcap_results res;
	if (rc == 0)
		rc = llmcap_simulate(sc, cat, NULL, &res, err);
	if (rc)
		return rc;
	struct llmcap_summary sum;
	if (llmcap_summarize(&res, &sum) != 0) {
		llmcap_results_free(&res);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	*ok = sum.peak.all_slo_met;
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	return 0;
}

/* Brackets by doubling or halving from the scenario's rate, then bisects until the bracket is
 * within the tolerance (relative); the answer is the bracket's passing end. */
static int max_rate(const struct rate_job *j, size_t k)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(&j->errs[k], LLMCAP_ENOMEM, "out of memory");
	*sc = *j->base; /* shallow: reads only what the base owns */
	sc->seed = j->base->seed + k;
	struct llmcap_error *err = &j->errs[k];
	double r0 = llmcap_scenario_mean_rate(sc), lo = 0, hi = 0;
	bool ok;
	int rc = slo_holds(sc, j->cat, r0, &ok, err);
	j->sims[k]++;
	if (rc == 0 && ok) {
		lo = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, j->cat, lo * 2, &ok, err);
			j->sims[k]++;
			if (!ok) {
				hi = lo * 2;
				break;
			}
			lo *= 2;
		}
	} else if (rc == 0) {
		hi = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, j->cat, hi / 2, &ok, err);
			j->sims[k]++;
			if (ok) {
				lo = hi / 2;
				break;
			}
			hi /= 2;
		}
	}
	while (rc == 0 && lo > 0 && hi > 0 && hi - lo > j->tolerance * lo) {
		double mid = 0.5 * (lo + hi);
		rc = slo_holds(sc, j->cat, mid, &ok, err);
		j->sims[k]++;
		*(ok ? &lo : &hi) = mid;
	}
	j->best[k] = hi > 0 ? lo : INFINITY; /* never failed within 2^40 x the rate */
	free(sc);
	return rc;
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

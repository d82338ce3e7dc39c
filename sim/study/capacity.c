/* Capacity searches: the highest arrival rate a fleet serves within its SLOs. See
 * include/llmcap/plan.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/plan.h"

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
int llmcap_max_rate(const struct llmcap_scenario *base, uint64_t seed,
		    const struct llmcap_catalog *cat, double tolerance, double *best, int *sims,
		    struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	*sc = *base; /* shallow: reads only what the base owns */
	sc->seed = seed;
	double r0 = llmcap_scenario_mean_rate(sc), lo = 0, hi = 0;
	bool ok;
	int rc = slo_holds(sc, cat, r0, &ok, err);
	(*sims)++;
	if (rc == 0 && ok) {
		lo = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, cat, lo * 2, &ok, err);
			(*sims)++;
			if (!ok) {
				hi = lo * 2;
				break;
			}
			lo *= 2;
		}
	} else if (rc == 0) {
		hi = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, cat, hi / 2, &ok, err);
			(*sims)++;
			if (ok) {
				lo = hi / 2;
				break;
			}
			hi /= 2;
		}
	}
	while (rc == 0 && lo > 0 && hi > 0 && hi - lo > tolerance * lo) {
		double mid = 0.5 * (lo + hi);
		rc = slo_holds(sc, cat, mid, &ok, err);
		(*sims)++;
		*(ok ? &lo : &hi) = mid;
	}
	*best = hi > 0 ? lo : INFINITY; /* never failed within 2^40 x the rate */
	free(sc);
	return rc;
}

struct seeds_job {
	const struct llmcap_scenario *base;
	const struct llmcap_catalog *cat;
	double tolerance;
	double *best;
	int *sims, *rcs;
	struct llmcap_error *errs;
};

/* One seed; writes only its own slots. */
static void rate_seed(void *ctx, size_t k)
{
	struct seeds_job *j = ctx;
	j->rcs[k] = llmcap_max_rate(j->base, j->base->seed + k, j->cat, j->tolerance, &j->best[k],
				    &j->sims[k], &j->errs[k]);
}

int llmcap_max_rate_seeds(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			  double tolerance, size_t n, long threads,
			  const struct llmcap_study_progress *progress, double *best, int *sims,
			  struct llmcap_error *err)
{
	struct seeds_job j = {.base = base, .cat = cat, .tolerance = tolerance, .best = best,
			      .sims = sims, .rcs = calloc(n ? n : 1, sizeof *j.rcs),
			      .errs = calloc(n ? n : 1, sizeof *j.errs)};
	int rc = 0;
	if (!j.rcs || !j.errs) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	} else {
		memset(sims, 0, n * sizeof *sims);
		llmcap_study_parallel_for(n, threads, rate_seed, &j, progress);
		for (size_t k = 0; k < n && rc == 0; k++)
			if (j.rcs[k])
				rc = llmcap_errorf(err, -j.rcs[k], "seed %llu: %s",
						   (unsigned long long)(base->seed + k), j.errs[k].msg);
	}
	free(j.rcs);
	free(j.errs);
	return rc;
}

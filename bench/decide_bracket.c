/* The closed-form bracket's saving on the default tipping-point study (issue 21): the study of
 * `llmcap decide` (the reference scenario, its 12 volumes, the default precisions, 3 seeds) with
 * the bracket and without it (spec.no_bracket): simulations, CPU and wall seconds of each, and
 * whether every option's fleet and monthly cost agree. Usage: decide_bracket [JOBS] */
#include "llmcap/breakeven.h"
#include "llmcap/decide.h"
#include "llmcap/scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	static const double volumes[] = {0.5e9, 1e9, 2e9, 2.7e9, 5e9, 7.5e9,
					 10e9, 15e9, 20e9, 30e9, 50e9, 100e9};
	enum { N = sizeof volumes / sizeof *volumes };
	long jobs = argc > 1 ? atol(argv[1]) : 2;
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_decision *rows[2] = {calloc(N, sizeof **rows), calloc(N, sizeof **rows)};
	struct llmcap_error err = {0};
	if (!cat || !sc || !rows[0] || !rows[1] || llmcap_catalog_load_builtin(cat, &err) ||
	    llmcap_scenario_load(sc, NULL, NULL, 0, cat, &err)) {
		fprintf(stderr, "decide_bracket: %s\n", err.msg);
		return 1;
	}
	int dtypes[3];
	size_t nd = llmcap_breakeven_default_dtypes(sc, cat, dtypes);
	for (int k = 0; k < 2; k++) {
		struct llmcap_decide_spec spec = {.tokens_per_month = NAN, .dtypes = dtypes,
						  .n_dtypes = nd, .seeds = 3, .threads = jobs,
						  .no_bracket = k == 1};
		double w = now(CLOCK_MONOTONIC), c = now(CLOCK_PROCESS_CPUTIME_ID);
		if (llmcap_decide_volumes(sc, cat, &spec, volumes, N, rows[k], &err)) {
			fprintf(stderr, "decide_bracket: %s\n", err.msg);
			return 1;
		}
		int sims = 0;
		for (size_t v = 0; v < N; v++)
			sims += rows[k][v].simulations;
		printf("%s: %d simulations, %.1f s CPU, %.1f s wall (--jobs %ld)\n",
		       k ? "without the bracket" : "with the bracket   ", sims,
		       now(CLOCK_PROCESS_CPUTIME_ID) - c, now(CLOCK_MONOTONIC) - w, jobs);
	}
	int differ = 0;
	for (size_t v = 0; v < N; v++)
		for (size_t i = 0; i < rows[0][v].n_options; i++) {
			const struct llmcap_decide_option *a = &rows[0][v].options[i],
							  *b = &rows[1][v].options[i];
			bool same = !memcmp(a->replicas, b->replicas, sizeof a->replicas) &&
				    a->sized == b->sized && a->slo_met == b->slo_met &&
				    (a->monthly == b->monthly || (isnan(a->monthly) && isnan(b->monthly)));
			differ += !same;
		}
	printf("options whose fleet or cost differ: %d; the decisions %s\n", differ,
	       differ ? "DIFFER" : "agree");
	free(cat);
	free(sc);
	free(rows[0]);
	free(rows[1]);
	return differ != 0;
}

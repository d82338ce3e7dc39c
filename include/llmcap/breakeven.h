/* The break-even study (`llmcap breakeven`): for each precision of the largest model and each
 * monthly token volume, the smallest fleet that meets every SLO in the busiest hour
 * (llmcap_plan_fleet), its TCO against the API, and per precision the volume where they cross
 * (llmcap_plan_breakeven). The (precision, volume) points are independent simulations and run on
 * parallel threads; each writes only its own row, so the rows never depend on the thread count.
 */
#ifndef LLMCAP_BREAKEVEN_H
#define LLMCAP_BREAKEVEN_H

#include "llmcap/plan.h"

#define LLMCAP_BREAKEVEN_MAX_VOLUMES 64
#define LLMCAP_BREAKEVEN_MAX_DTYPES 8

/* What to search. volumes: tokens per month (> 0), in the order the rows take; dtypes: enum
 * llmcap_dtype values for the largest model's pools. Neither is owned. */
struct llmcap_breakeven_spec {
	const double *volumes;
	size_t n_volumes;
	const int *dtypes;
	size_t n_dtypes;
	long threads;                          /* >= 1 */
	struct llmcap_study_progress progress; /* told after each point; fn may be NULL */
};

/* The default precisions: the scenario's own precision of its largest model (by parameters),
 * then fp8 and int4-awq unless it is one of them. Returns how many were written (1 to 3). */
size_t llmcap_breakeven_default_dtypes(const struct llmcap_scenario *sc,
				       const struct llmcap_catalog *cat, int dtypes[3]);

/* Fills rows[d * n_volumes + v] (caller-allocated, n_dtypes x n_volumes) with the smallest
 * fleet for volume v and precision d, for `sc` (checked by llmcap_scenario_load; not modified).
 * Every point is searched even when one fails; the return is that of the first failing point
 * (by index), with its message in err; 0 when none failed. */
int llmcap_breakeven_search(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			    const struct llmcap_breakeven_spec *spec, struct llmcap_fleet *rows,
			    struct llmcap_error *err);

#endif

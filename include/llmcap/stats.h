/* Interval estimates over repeated measurements (seeds of a sweep point, batches of one run).
 * Base layer: plain arrays of doubles in, numbers out; no allocation. */
#ifndef LLMCAP_STATS_H
#define LLMCAP_STATS_H

#include <stddef.h>

/* Mean and 95% confidence half-width (Student t, n - 1 degrees of freedom) of the finite values
 * among x[0], x[stride], ...; n_used gets their count. Half-width NAN below two values. */
void llmcap_mean_ci95(const double *x, size_t n, size_t stride, double *mean, double *half,
		      size_t *n_used);

#endif

/* Exact and streaming quantiles. See include/llmcap/metrics.h for the error bound. */
#include "llmcap/metrics.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Histogram range: 1 ns to 1e8 s covers any latency a simulation can produce. */
#define HIST_MIN 1e-9
#define HIST_MAX 1e8

bool llmcap_quantiles_init(struct llmcap_quantiles *q, bool streaming, double rel_err)
{
	memset(q, 0, sizeof *q);
	q->streaming = streaming;
	q->min = INFINITY;
	q->max = -INFINITY;
	if (!streaming)
		return true;
	if (!(rel_err > 0 && rel_err < 1))
		return false;
	q->rel_err = rel_err;
	q->log_gamma = log((1 + rel_err) / (1 - rel_err));
	q->n_buckets = (size_t)ceil(log(HIST_MAX / HIST_MIN) / q->log_gamma) + 2;
	q->bucket = calloc(q->n_buckets, sizeof *q->bucket);
	return q->bucket != NULL;
}

void llmcap_quantiles_free(struct llmcap_quantiles *q)
{
	free(q->v);
	free(q->bucket);
	memset(q, 0, sizeof *q);
}

static size_t bucket_of(const struct llmcap_quantiles *q, double x)
{
	double i = ceil(log(x / HIST_MIN) / q->log_gamma);
	if (i < 0)
		i = 0;
	if (i > (double)(q->n_buckets - 1))
		i = (double)(q->n_buckets - 1);
	return (size_t)i;
}

bool llmcap_quantiles_add(struct llmcap_quantiles *q, double x)
{
	q->count++;
	q->sum += x;
	q->min = x < q->min ? x : q->min;
	q->max = x > q->max ? x : q->max;
	if (q->streaming) {
		if (x < HIST_MIN)
			q->zeros++;
		else
			q->bucket[bucket_of(q, x)]++;
		return true;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 256;
		double *nv = realloc(q->v, cap * sizeof *nv);
		if (!nv)
			return false;
		q->v = nv;
		q->cap = cap;
	}
	q->v[q->n++] = x;
	q->sorted = false;
	return true;
}

bool llmcap_quantiles_merge(struct llmcap_quantiles *dst, const struct llmcap_quantiles *src)
{
	if (dst->streaming != src->streaming || dst->n_buckets != src->n_buckets)
		return false;
	if (dst->streaming) {
		for (size_t i = 0; i < dst->n_buckets; i++)
			dst->bucket[i] += src->bucket[i];
		dst->zeros += src->zeros;
		dst->count += src->count;
		dst->sum += src->sum;
		dst->min = src->min < dst->min ? src->min : dst->min;
		dst->max = src->max > dst->max ? src->max : dst->max;
		return true;
	}
	for (size_t i = 0; i < src->n; i++)
		if (!llmcap_quantiles_add(dst, src->v[i]))
			return false;
	return true;
}

double llmcap_quantiles_get(struct llmcap_quantiles *q, double p)
{
	if (q->count == 0)
		return NAN;
	if (!q->streaming) {
		if (!q->sorted) {
			gsl_sort(q->v, 1, q->n);
			q->sorted = true;
		}
		return gsl_stats_quantile_from_sorted_data(q->v, 1, q->n, p);
	}
	/* the order statistic at rank floor(p (n - 1)), 0-based */
	uint64_t rank = (uint64_t)floor(p * (double)(q->count - 1));
	if (rank < q->zeros)
		return 0.0;
	uint64_t seen = q->zeros;
	for (size_t i = 0; i < q->n_buckets; i++) {
		seen += q->bucket[i];
		if (seen > rank) {
			double upper = HIST_MIN * exp(q->log_gamma * (double)i);
			return 2.0 * upper / (exp(q->log_gamma) + 1.0);
		}
	}
	return q->max;
}

double llmcap_quantiles_mean(const struct llmcap_quantiles *q)
{
	return q->count ? q->sum / (double)q->count : NAN;
}

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

/* Orders doubles by their bits (sign flipped, negatives inverted): an LSD radix sort in four
 * 16-bit passes. GSL's heapsort took a fifth of a month's run; this is linear. The order of
 * equal values cannot show in a quantile. Falls back to gsl_sort without memory. */
static uint64_t key_of(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	return u >> 63 ? ~u : u | UINT64_C(1) << 63;
}

static double value_of(uint64_t k)
{
	uint64_t u = k >> 63 ? k & ~(UINT64_C(1) << 63) : ~k;
	double x;
	memcpy(&x, &u, sizeof x);
	return x;
}

static void sort_doubles(double *v, size_t n)
{
	if (n < 256) {
		gsl_sort(v, 1, n);
		return;
	}
	uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	size_t *count = malloc(65536 * sizeof *count);
	if (!a || !b || !count) {
		free(a);
		free(b);
		free(count);
		gsl_sort(v, 1, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = key_of(v[i]);
	for (int shift = 0; shift < 64; shift += 16) {
		memset(count, 0, 65536 * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[a[i] >> shift & 0xffff]++;
		size_t pos = 0;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = count[d];
			count[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[a[i] >> shift & 0xffff]++] = a[i];
		uint64_t *t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = value_of(a[i]);
	free(a);
	free(b);
	free(count);
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
	if (!(dst->sorted || dst->n == 0) || !src->sorted) {
		for (size_t i = 0; i < src->n; i++)
			if (!llmcap_quantiles_add(dst, src->v[i]))
				return false;
		return true;
	}
	/* both sorted: merge in linear time, and keep the sums in the order adding would */
	size_t cap = dst->n + src->n + 1;
	double *nv = malloc(cap * sizeof *nv);
	if (!nv)
		return false;
	for (size_t i = 0; i < src->n; i++) {
		double x = src->v[i];
		dst->count++;
		dst->sum += x;
		dst->min = x < dst->min ? x : dst->min;
		dst->max = x > dst->max ? x : dst->max;
	}
	size_t i = 0, j = 0, k = 0;
	while (i < dst->n && j < src->n)
		nv[k++] = src->v[j] < dst->v[i] ? src->v[j++] : dst->v[i++];
	while (i < dst->n)
		nv[k++] = dst->v[i++];
	while (j < src->n)
		nv[k++] = src->v[j++];
	free(dst->v);
	dst->v = nv;
	dst->n = k;
	dst->cap = cap;
	dst->sorted = true;
	return true;
}

double llmcap_quantiles_get(struct llmcap_quantiles *q, double p)
{
	if (q->count == 0)
		return NAN;
	if (!q->streaming) {
		if (!q->sorted) {
			sort_doubles(q->v, q->n);
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

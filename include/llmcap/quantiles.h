/* Latency collectors: exact percentiles, or a bounded-memory streaming estimate.
 *
 * Exact mode keeps every sample and reports GSL's interpolated quantile of the sorted data.
 * Streaming mode keeps a log-bucketed histogram (the DDSketch mapping): bucket i holds values in
 * (g^(i-1), g^i] with g = (1 + a) / (1 - a), and reports 2 g^i / (g + 1) for the bucket holding
 * the requested rank. Every value in a bucket is within relative error a of that estimate, so a
 * streaming quantile is within relative error a of an order statistic adjacent to the exact
 * quantile (the one at rank floor(q (n - 1)), or the next when interpolation crosses a bucket).
 * Values below 1 ns count as 0. Memory: about log(1e17) / log(g) counters, 3.9k for a = 0.01.
 */
#ifndef LLMCAP_QUANTILES_H
#define LLMCAP_QUANTILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct llmcap_quantiles {
	bool streaming;
	double rel_err;    /* streaming: a */
	/* exact */
	double *v;
	uint32_t *tag; /* each sample's tag, where llmcap_quantiles_tag asked for them */
	size_t n, cap;
	bool sorted;
	/* streaming */
	uint64_t *bucket;
	size_t n_buckets;
	uint64_t zeros;
	double log_gamma;
	/* both */
	uint64_t count;
	double sum, min, max;
};

/* rel_err is used in streaming mode only (0 < rel_err < 1). Returns false on allocation failure. */
bool llmcap_quantiles_init(struct llmcap_quantiles *q, bool streaming, double rel_err);
void llmcap_quantiles_free(struct llmcap_quantiles *q);
/* Keeps a tag with each sample of an empty exact collector from now on
 * (llmcap_quantiles_add_tagged), so that the samples of one tag have quantiles of their own
 * (llmcap_quantiles_get_tagged): a simulation tags its latencies with the hour of the request's
 * arrival, 4 bytes a sample, instead of keeping a collector per class and hour. False without
 * memory, in streaming mode or with samples already in. */
bool llmcap_quantiles_tag(struct llmcap_quantiles *q);
/* Stores a sample llmcap_quantiles_add_tagged has counted: in its bucket, or in an exact
 * collector without room, which it grows (false without memory). */
bool llmcap_quantiles_store(struct llmcap_quantiles *q, double x, uint32_t tag);
/* Adds a sample with its tag (kept where the collector keeps tags); false without memory.
 * Inline for an exact collector with room (a simulation adds four to six samples a completed
 * request). */
static inline bool llmcap_quantiles_add_tagged(struct llmcap_quantiles *q, double x, uint32_t tag)
{
	q->count++;
	q->sum += x;
	q->min = x < q->min ? x : q->min;
	q->max = x > q->max ? x : q->max;
	if (q->streaming || q->n == q->cap)
		return llmcap_quantiles_store(q, x, tag);
	if (q->tag)
		q->tag[q->n] = tag;
	q->v[q->n++] = x;
	q->sorted = false;
	return true;
}
/* Adds a sample (tag 0 where the collector keeps tags); false without memory. */
static inline bool llmcap_quantiles_add(struct llmcap_quantiles *q, double x)
{
	return llmcap_quantiles_add_tagged(q, x, 0);
}
/* Quantile p in [0, 1]; NAN when empty. Exact mode selects the order statistics it needs
 * (radix select) without reordering the samples, or reads them when they are sorted. */
double llmcap_quantiles_get(struct llmcap_quantiles *q, double p);
/* Most probabilities one selection pass looks for; more are taken in turns. */
#define LLMCAP_QUANTILES_MAX_P 16
/* Quantiles p[0..np) of the union of the nq collectors (same mode, and the same rel_err when
 * streaming), the bits llmcap_quantiles_get would give for one collector holding all their
 * samples; NAN when the union is empty. False (all NAN) on allocation failure, mixed modes or a
 * p outside [0, 1]. */
bool llmcap_quantiles_get_many(const struct llmcap_quantiles *const *qs, size_t nq, const double *p,
			       size_t np, double *out);
/* Quantile p of the samples tagged tag, the bits llmcap_quantiles_get gives for a collector
 * holding those samples alone; NAN where there are none, where the collector keeps no tags (or
 * lost them: a selection without memory sorts the samples in place and drops them) or without
 * memory. */
double llmcap_quantiles_get_tagged(const struct llmcap_quantiles *q, double p, uint32_t tag);
/* The union's mean: the collectors' sums added in turn, over their counts. NAN when empty or
 * the modes differ. */
double llmcap_quantiles_mean_many(const struct llmcap_quantiles *const *qs, size_t nq);
double llmcap_quantiles_mean(const struct llmcap_quantiles *q);

#endif

/* Exact and streaming quantiles. See include/llmcap/quantiles.h for the error bound. */
#include "llmcap/quantiles.h"

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

bool llmcap_quantiles_tag(struct llmcap_quantiles *q)
{
	if (q->streaming || q->n > 0 || q->tag)
		return false;
	q->tag = malloc((q->cap ? q->cap : 1) * sizeof *q->tag);
	return q->tag != NULL;
}

void llmcap_quantiles_free(struct llmcap_quantiles *q)
{
	free(q->v);
	free(q->tag);
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

bool llmcap_quantiles_store(struct llmcap_quantiles *q, double x, uint32_t tag)
{
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
		if (q->tag) {
			uint32_t *nt = realloc(q->tag, cap * sizeof *nt);
			if (!nt)
				return false;
			q->tag = nt;
		}
		q->cap = cap;
	}
	if (q->tag)
		q->tag[q->n] = tag;
	q->v[q->n++] = x;
	q->sorted = false;
	return true;
}

/* Doubles' bits made unsigned-ordered (sign flipped, negatives inverted): the keys of the radix
 * select below. */
static uint64_t key_of(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	/* branch-free: all ones for a negative value, the sign bit alone otherwise */
	return u ^ ((uint64_t)-(int64_t)(u >> 63) | UINT64_C(1) << 63);
}

static double value_of(uint64_t k)
{
	uint64_t u = k >> 63 ? k & ~(UINT64_C(1) << 63) : ~k;
	double x;
	memcpy(&x, &u, sizeof x);
	return x;
}

/* Radix select: the order statistics a quantile needs, without sorting. Keys are the doubles'
 * bits made unsigned-ordered (key_of). A histogram of the top 16 bits puts each wanted rank in
 * one bucket; only those buckets' keys are gathered, and the next 16 bits split them, until a
 * subset is small enough to sort. Latencies occupy a few hundred top buckets, so the gathered
 * keys are a small share of the samples except for narrow distributions (TPOT), whose one
 * bucket the next levels split. The source doubles are never reordered. */
#define SELECT_SMALL 256
#define DIGITS 65536

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* A run of the wanted ranks that fall in one bucket: its keys are gathered at off. */
struct sel_bucket {
	size_t digit, base, size, off, fill, r0, nr;
};

/* Groups the ascending ranks by the bucket of count[] holding them; returns how many buckets. */
static size_t target_buckets(const uint32_t *count, const size_t *ranks, size_t nr,
			     struct sel_bucket *tb)
{
	size_t nb = 0, cum = 0, d = 0;
	for (size_t i = 0; i < nr; i++) {
		while (cum + count[d] <= ranks[i])
			cum += count[d++];
		if (nb && tb[nb - 1].digit == d) {
			tb[nb - 1].nr++;
			continue;
		}
		tb[nb] = (struct sel_bucket){.digit = d, .base = cum, .size = count[d], .r0 = i, .nr = 1};
		nb++;
	}
	size_t off = 0;
	for (size_t b = 0; b < nb; b++) {
		tb[b].off = off;
		off += tb[b].size;
	}
	return nb;
}

/* Finds the keys at ranks[0..nr) (ascending, distinct) among the m keys of a, whose bits above
 * shift + 8 are all equal; a may be reordered. Below the top 16 bits the subsets are far
 * smaller than the samples, so 8-bit digits: 256 counters on the stack, nothing to clear. */
static bool select_keys(uint64_t *a, size_t m, int shift, const size_t *ranks, size_t nr,
			uint64_t *out)
{
	if (shift < 0) { /* every bit seen: the keys are equal */
		for (size_t i = 0; i < nr; i++)
			out[i] = a[0];
		return true;
	}
	if (m <= SELECT_SMALL) {
		qsort(a, m, sizeof *a, cmp_key);
		for (size_t i = 0; i < nr; i++)
			out[i] = a[ranks[i]];
		return true;
	}
	uint32_t count[256] = {0};
	for (size_t i = 0; i < m; i++)
		count[a[i] >> shift & 0xff]++;
	struct sel_bucket tb[2 * LLMCAP_QUANTILES_MAX_P];
	size_t nb = target_buckets(count, ranks, nr, tb);
	if (nb == 1 && tb[0].size == m) /* one bucket holds them all: split it in place */
		return select_keys(a, m, shift - 8, ranks, nr, out);
	size_t total = tb[nb - 1].off + tb[nb - 1].size;
	uint64_t *g = malloc(total * sizeof *g);
	if (!g)
		return false;
	uint8_t slot[256] = {0};
	for (size_t b = 0; b < nb; b++)
		slot[tb[b].digit] = (uint8_t)(b + 1);
	for (size_t i = 0; i < m; i++) {
		unsigned s = slot[a[i] >> shift & 0xff];
		if (s) {
			struct sel_bucket *t = &tb[s - 1];
			g[t->off + t->fill++] = a[i];
		}
	}
	bool ok = true;
	size_t rel[2 * LLMCAP_QUANTILES_MAX_P];
	for (size_t b = 0; ok && b < nb; b++) {
		for (size_t i = 0; i < tb[b].nr; i++)
			rel[i] = ranks[tb[b].r0 + i] - tb[b].base;
		ok = select_keys(g + tb[b].off, tb[b].size, shift - 8, rel, tb[b].nr, out + tb[b].r0);
	}
	free(g);
	return ok;
}

/* The first digit of the union's keys: (key - kmin) >> *shift, below DIGITS, from the
 * collectors' least and greatest values, so that a narrow distribution (TPOT: its keys share
 * their top 16 bits) spreads over the digits as a wide one does. Left as they are where the
 * values give no such bound (none, or NaN). */
static void first_digit(const struct llmcap_quantiles *const *qs, size_t nq, uint64_t *kmin,
			int *shift)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t j = 0; j < nq; j++) {
		if (qs[j]->n == 0)
			continue;
		if (isnan(qs[j]->min) || isnan(qs[j]->max))
			return;
		const uint64_t a = key_of(qs[j]->min), b = key_of(qs[j]->max);
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	if (lo > hi)
		return;
	int sh = 0;
	while ((hi - lo) >> sh >= DIGITS)
		sh++;
	*kmin = lo;
	*shift = sh;
}

/* Counts the union's keys by their first digit, (key - kmin) >> shift; false, the counts
 * partial, at a key whose digit is DIGITS or more. */
static bool count_digits(const struct llmcap_quantiles *const *qs, size_t nq, uint32_t *count,
			 uint64_t kmin, int shift)
{
	for (size_t j = 0; j < nq; j++)
		for (size_t i = 0; i < qs[j]->n; i++) {
			const uint64_t d = (key_of(qs[j]->v[i]) - kmin) >> shift;
			if (__builtin_expect(d >= DIGITS, 0))
				return false;
			count[d]++;
		}
	return true;
}

/* Keys of the union's ranks[0..nr) (ascending, distinct), n samples in all; false without memory.
 * The keys are taken less kmin (first_digit) through the levels, and given back whole. */
static bool select_union(const struct llmcap_quantiles *const *qs, size_t nq, size_t n,
			 const size_t *ranks, size_t nr, uint64_t *out)
{
	if (n <= SELECT_SMALL) {
		uint64_t small[SELECT_SMALL];
		size_t m = 0;
		for (size_t j = 0; j < nq; j++)
			for (size_t i = 0; i < qs[j]->n; i++)
				small[m++] = key_of(qs[j]->v[i]);
		return select_keys(small, m, 0, ranks, nr, out);
	}
	if (n > UINT32_MAX) /* 32-bit counters; 32 GiB of samples is not a simulation's */
		return false;
	uint64_t kmin = 0;
	int shift = 48; /* without bounds: the top 16 bits */
	first_digit(qs, nq, &kmin, &shift);
	uint32_t *count = calloc(DIGITS, sizeof *count);
	if (!count)
		return false;
	if (!count_digits(qs, nq, count, kmin, shift)) { /* a value out of the bounds: a NaN */
		memset(count, 0, DIGITS * sizeof *count);
		kmin = 0;
		shift = 48;
		count_digits(qs, nq, count, kmin, shift);
	}
	struct sel_bucket tb[2 * LLMCAP_QUANTILES_MAX_P];
	size_t nb = target_buckets(count, ranks, nr, tb);
	size_t total = tb[nb - 1].off + tb[nb - 1].size;
	uint64_t *g = malloc(total * sizeof *g);
	if (!g) {
		free(count);
		return false;
	}
	memset(count, 0, DIGITS * sizeof *count);
	for (size_t b = 0; b < nb; b++)
		count[tb[b].digit] = (uint32_t)(b + 1);
	for (size_t j = 0; j < nq; j++)
		for (size_t i = 0; i < qs[j]->n; i++) {
			const uint64_t k = key_of(qs[j]->v[i]) - kmin;
			size_t s = count[k >> shift];
			if (s) {
				struct sel_bucket *t = &tb[s - 1];
				g[t->off + t->fill++] = k;
			}
		}
	bool ok = true;
	size_t rel[2 * LLMCAP_QUANTILES_MAX_P];
	/* a bucket's keys share their bits from shift up; below, 8-bit digits (from bit 0 where
	 * fewer than 8 bits are left: the bits above are equal) */
	const int next = shift >= 8 ? shift - 8 : 0;
	for (size_t b = 0; ok && b < nb; b++) {
		for (size_t i = 0; i < tb[b].nr; i++)
			rel[i] = ranks[tb[b].r0 + i] - tb[b].base;
		ok = select_keys(g + tb[b].off, tb[b].size, shift > 0 ? next : -1, rel, tb[b].nr,
				 out + tb[b].r0);
	}
	for (size_t i = 0; ok && i < nr; i++)
		out[i] += kmin;
	free(g);
	free(count);
	return ok;
}

/* How many of a sorted collector's samples have keys at most k. */
static size_t count_at_most(const struct llmcap_quantiles *q, uint64_t k)
{
	size_t lo = 0, hi = q->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_of(q->v[mid]) <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The key at rank r of the union of sorted collectors: the least key with more than r samples
 * at or below it, found by halving the key space (64 steps of nq binary searches), so a union
 * of collectors the mean has sorted costs no pass over their samples. The radix sort orders by
 * key; a collector under 256 samples, which gsl_sort ordered by value, could differ from key
 * order only between -0 and +0, which a latency never is. */
static uint64_t sorted_union_key(const struct llmcap_quantiles *const *qs, size_t nq, size_t r)
{
	uint64_t lo = 0, hi = UINT64_MAX;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		size_t c = 0;
		for (size_t j = 0; j < nq; j++)
			c += count_at_most(qs[j], mid);
		if (c > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* GSL's gsl_stats_quantile_from_sorted_data, given the order statistics it reads: the same
 * operations in the same order, so the same bits. */
static size_t gsl_lhs(double f, size_t n)
{
	const double index = f * (double)(n - 1);
	return (size_t)(int)index;
}

static double gsl_quantile(double f, size_t n, double lo, double hi)
{
	const double index = f * (double)(n - 1);
	const size_t lhs = (size_t)(int)index;
	const double delta = index - (double)lhs;
	if (lhs == n - 1)
		return lo;
	return (1 - delta) * lo + delta * hi;
}

static double streaming_get(const struct llmcap_quantiles *const *qs, size_t nq, uint64_t count,
			    double p)
{
	/* the order statistic at rank floor(p (n - 1)), 0-based, of the summed histograms */
	const struct llmcap_quantiles *q = qs[0];
	uint64_t rank = (uint64_t)floor(p * (double)(count - 1)), seen = 0;
	double max = -INFINITY;
	for (size_t j = 0; j < nq; j++) {
		seen += qs[j]->zeros;
		max = qs[j]->max > max ? qs[j]->max : max;
	}
	if (rank < seen)
		return 0.0;
	for (size_t i = 0; i < q->n_buckets; i++) {
		for (size_t j = 0; j < nq; j++)
			seen += qs[j]->bucket[i];
		if (seen > rank) {
			double upper = HIST_MIN * exp(q->log_gamma * (double)i);
			return 2.0 * upper / (exp(q->log_gamma) + 1.0);
		}
	}
	return max;
}

/* Up to LLMCAP_QUANTILES_MAX_P probabilities of one union. */
static bool get_chunk(const struct llmcap_quantiles *const *qs, size_t nq, size_t n,
		      const double *p, size_t np, double *out)
{
	size_t ranks[2 * LLMCAP_QUANTILES_MAX_P], nr = 0;
	for (size_t k = 0; k < np; k++) {
		size_t lhs = gsl_lhs(p[k], n);
		for (size_t r = lhs; r <= lhs + 1 && r < n; r++) {
			size_t i = nr;
			while (i > 0 && ranks[i - 1] > r) /* insertion, keeping them ascending */
				i--;
			if (i > 0 && ranks[i - 1] == r)
				continue;
			memmove(&ranks[i + 1], &ranks[i], (nr - i) * sizeof *ranks);
			ranks[i] = r;
			nr++;
		}
	}
	double val[2 * LLMCAP_QUANTILES_MAX_P];
	bool sorted = true;
	for (size_t j = 0; j < nq; j++)
		sorted &= qs[j]->sorted || qs[j]->n == 0;
	if (nq == 1 && qs[0]->sorted) {
		for (size_t i = 0; i < nr; i++)
			val[i] = qs[0]->v[ranks[i]];
	} else if (sorted) {
		for (size_t i = 0; i < nr; i++)
			val[i] = value_of(sorted_union_key(qs, nq, ranks[i]));
	} else {
		uint64_t key[2 * LLMCAP_QUANTILES_MAX_P];
		if (!select_union(qs, nq, n, ranks, nr, key))
			return false;
		for (size_t i = 0; i < nr; i++)
			val[i] = value_of(key[i]);
	}
	for (size_t k = 0; k < np; k++) {
		size_t lhs = gsl_lhs(p[k], n), i = 0;
		while (ranks[i] != lhs)
			i++;
		out[k] = gsl_quantile(p[k], n, val[i], lhs + 1 < n ? val[i + 1] : 0.0);
	}
	return true;
}

bool llmcap_quantiles_get_many(const struct llmcap_quantiles *const *qs, size_t nq, const double *p,
			       size_t np, double *out)
{
	for (size_t k = 0; k < np; k++)
		out[k] = NAN;
	uint64_t count = 0;
	size_t n = 0;
	for (size_t j = 0; j < nq; j++) {
		if (qs[j]->streaming != qs[0]->streaming || qs[j]->n_buckets != qs[0]->n_buckets ||
		    qs[j]->log_gamma != qs[0]->log_gamma)
			return false;
		count += qs[j]->count;
		n += qs[j]->n;
	}
	if (count == 0)
		return true;
	for (size_t k = 0; k < np; k++)
		if (!(p[k] >= 0 && p[k] <= 1))
			return false;
	if (qs[0]->streaming) {
		for (size_t k = 0; k < np; k++)
			out[k] = streaming_get(qs, nq, count, p[k]);
		return true;
	}
	if (n == 0) { /* every sample's memory was refused: GSL's answer for no data */
		for (size_t k = 0; k < np; k++)
			out[k] = 0.0;
		return true;
	}
	for (size_t k = 0; k < np; k += LLMCAP_QUANTILES_MAX_P) {
		size_t c = np - k < LLMCAP_QUANTILES_MAX_P ? np - k : LLMCAP_QUANTILES_MAX_P;
		if (!get_chunk(qs, nq, n, p + k, c, out + k)) {
			for (size_t i = 0; i < np; i++)
				out[i] = NAN;
			return false;
		}
	}
	return true;
}

double llmcap_quantiles_get(struct llmcap_quantiles *q, double p)
{
	const struct llmcap_quantiles *qs[1] = {q};
	double x;
	if (llmcap_quantiles_get_many(qs, 1, &p, 1, &x) || q->streaming || !(p >= 0 && p <= 1))
		return x;
	/* no memory for the selection: sort in place, which needs none (the tags, which it would
	 * scramble, go) */
	if (!q->sorted) {
		gsl_sort(q->v, 1, q->n);
		q->sorted = true;
		free(q->tag);
		q->tag = NULL;
	}
	return gsl_stats_quantile_from_sorted_data(q->v, 1, q->n, p);
}

double llmcap_quantiles_get_tagged(const struct llmcap_quantiles *q, double p, uint32_t tag)
{
	if (q->streaming || !q->tag)
		return NAN;
	size_t m = 0;
	for (size_t i = 0; i < q->n; i++)
		m += q->tag[i] == tag;
	if (m == 0)
		return NAN;
	struct llmcap_quantiles one;
	llmcap_quantiles_init(&one, false, 0);
	one.v = malloc(m * sizeof *one.v);
	if (!one.v)
		return NAN;
	one.cap = m;
	for (size_t i = 0; i < q->n; i++)
		if (q->tag[i] == tag) {
			const double x = q->v[i];
			one.v[one.n++] = x;
			one.min = x < one.min ? x : one.min;
			one.max = x > one.max ? x : one.max;
		}
	one.count = m;
	const double x = llmcap_quantiles_get(&one, p);
	llmcap_quantiles_free(&one);
	return x;
}

/* The union's mean from each collector's own sum (in the order its samples were added), the
 * collectors in turn. */
double llmcap_quantiles_mean_many(const struct llmcap_quantiles *const *qs, size_t nq)
{
	uint64_t count = 0;
	double sum = 0;
	for (size_t j = 0; j < nq; j++) {
		if (qs[j]->streaming != qs[0]->streaming)
			return NAN;
		sum += qs[j]->sum;
		count += qs[j]->count;
	}
	return count ? sum / (double)count : NAN;
}

double llmcap_quantiles_mean(const struct llmcap_quantiles *q)
{
	return q->count ? q->sum / (double)q->count : NAN;
}

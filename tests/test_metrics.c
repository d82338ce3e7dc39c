/* Latency collectors: exact quantiles against a sorted reference, and the streaming estimator
 * against its stated error bound. */
#include "test_util.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "llmcap/quantiles.h"

static const double probes[] = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};

static void exact_matches_sorted_reference(void **state)
{
	(void)state;
	struct llmcap_quantiles q;
	assert_true(llmcap_quantiles_init(&q, false, 0));
	double ref[1001];
	/* 0..1000 shuffled: quantile p is exactly 1000 p with linear interpolation */
	for (int i = 0; i <= 1000; i++)
		ref[i] = (double)((i * 617) % 1001);
	for (int i = 0; i <= 1000; i++)
		assert_true(llmcap_quantiles_add(&q, ref[i]));
	for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++)
		assert_rel(llmcap_quantiles_get(&q, probes[k]), 1000 * probes[k], 1e-12);
	assert_rel(llmcap_quantiles_mean(&q), 500, 1e-15);
	llmcap_quantiles_free(&q);
	assert_true(llmcap_quantiles_init(&q, false, 0));
	assert_true(isnan(llmcap_quantiles_get(&q, 0.5)));
	llmcap_quantiles_free(&q);
}

/* For heavy-tailed latencies spanning microseconds to hours, every streaming quantile lies
 * within relative error a of an order statistic adjacent to the exact quantile. */
static void streaming_within_its_bound(void **state)
{
	(void)state;
	static const double alphas[] = {0.001, 0.01, 0.05};
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 11);
	const size_t n = 100000;
	double *x = malloc(n * sizeof *x);
	for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++) {
		struct llmcap_quantiles q;
		assert_true(llmcap_quantiles_init(&q, true, alphas[a]));
		for (size_t i = 0; i < n; i++) {
			/* lognormal around 50 ms with a long tail, plus some exact zeros */
			x[i] = i % 97 == 0 ? 0.0 : gsl_ran_lognormal(r, log(0.05), 2.0);
			assert_true(llmcap_quantiles_add(&q, x[i]));
		}
		gsl_sort(x, 1, n);
		for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
			double p = probes[k], est = llmcap_quantiles_get(&q, p);
			size_t lo = (size_t)floor(p * (double)(n - 1)), hi = lo + 1 < n ? lo + 1 : lo;
			double low = x[lo] * (1 - alphas[a]), high = x[hi] * (1 + alphas[a]);
			if (!(est >= low && est <= high))
				fail_msg("a=%g p=%g: estimate %.9g outside [%.9g, %.9g]", alphas[a], p, est,
					 low, high);
		}
		double sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += x[i];
		assert_rel(llmcap_quantiles_mean(&q), sum / (double)n, 1e-9);
		/* two halves taken as a union give the bits of one collector holding both, which
		 * is what merging them gave */
		struct llmcap_quantiles h1, h2, e;
		assert_true(llmcap_quantiles_init(&h1, true, alphas[a]));
		assert_true(llmcap_quantiles_init(&h2, true, alphas[a]));
		assert_true(llmcap_quantiles_init(&e, true, alphas[a]));
		for (size_t i = 0; i < n; i++)
			assert_true(llmcap_quantiles_add(i % 2 ? &h1 : &h2, x[i]));
		const struct llmcap_quantiles *u[] = {&h1, &e, &h2};
		size_t np = sizeof probes / sizeof probes[0];
		double got[sizeof probes / sizeof probes[0]], want[sizeof probes / sizeof probes[0]];
		assert_true(llmcap_quantiles_get_many(u, 3, probes, np, got));
		for (size_t k = 0; k < np; k++)
			want[k] = llmcap_quantiles_get(&q, probes[k]);
		assert_memory_equal(got, want, sizeof got);
		const struct llmcap_quantiles *um[] = {&h1, &h2};
		assert_rel(llmcap_quantiles_mean_many(um, 2), (h1.sum + h2.sum) / (double)n, 0);
		llmcap_quantiles_free(&h1);
		llmcap_quantiles_free(&h2);
		llmcap_quantiles_free(&e);
		llmcap_quantiles_free(&q);
	}
	free(x);
	gsl_rng_free(r);
}

/* Exact quantiles of unions, bit for bit against an independent reference: copy, gsl_sort,
 * gsl_stats_quantile_from_sorted_data. The shapes are the selection's hard cases: sizes around
 * its 256-sample and small-subset thresholds, heavy ties (whole buckets of equal keys), a
 * narrow distribution (every sample in one top bucket), 13 decades, and negative values. */
enum shape { UNIFORM, TIES, ZEROS, NARROW, WIDE, SIGNED, N_SHAPES };

static double draw(gsl_rng *r, enum shape s)
{
	static const double three[] = {0.25, 1.5, 7.0};
	switch (s) {
	case UNIFORM: return gsl_rng_uniform(r);
	case TIES: return three[gsl_rng_uniform_int(r, 3)];
	case ZEROS: return gsl_rng_uniform(r) < 0.7 ? 0.0 : (double)gsl_rng_uniform_int(r, 5) * 0.125;
	case NARROW: return 7.7e-3 * (1 + 1e-6 * gsl_rng_uniform(r));
	case WIDE: return exp(log(1e-9) + gsl_rng_uniform(r) * (log(1e4) - log(1e-9)));
	default: return (gsl_rng_uniform(r) - 0.3) * exp(20 * gsl_rng_uniform(r) - 10);
	}
}

static const double exact_p[] = {0, 0.5, 0.9, 0.95, 0.99, 0.999, 1};
#define N_EXACT_P (sizeof exact_p / sizeof exact_p[0])

/* The union's quantiles and mean against the reference; the collectors are left unsorted. */
static void check_union(struct llmcap_quantiles *const *qs, size_t nq)
{
	size_t n = 0;
	for (size_t j = 0; j < nq; j++)
		n += qs[j]->n;
	double *all = malloc((n ? n : 1) * sizeof *all), sum = 0;
	assert_non_null(all);
	size_t k = 0;
	for (size_t j = 0; j < nq; j++) {
		/* the mean: each collector's samples summed in the order they were added, the
		 * collectors' sums in turn */
		double one = 0;
		for (size_t i = 0; i < qs[j]->n; i++)
			one += qs[j]->v[i];
		sum += one;
		if (qs[j]->n) /* an empty collector has no array */
			memcpy(all + k, qs[j]->v, qs[j]->n * sizeof *all);
		k += qs[j]->n;
	}
	gsl_sort(all, 1, n);
	double want[N_EXACT_P], got[N_EXACT_P];
	for (size_t i = 0; i < N_EXACT_P; i++)
		want[i] = n ? gsl_stats_quantile_from_sorted_data(all, 1, n, exact_p[i]) : NAN;
	assert_true(llmcap_quantiles_get_many((const struct llmcap_quantiles *const *)qs, nq, exact_p,
					      N_EXACT_P, got));
	for (size_t j = 0; j < nq; j++)
		assert_false(qs[j]->sorted);
	for (size_t i = 0; i < N_EXACT_P; i++)
		if (memcmp(&got[i], &want[i], sizeof got[i]) != 0)
			fail_msg("n=%zu in %zu, p=%g: %a, reference %a", n, nq, exact_p[i], got[i],
				 want[i]);
	if (nq == 1)
		for (size_t i = 0; i < N_EXACT_P; i++) {
			double one = llmcap_quantiles_get(qs[0], exact_p[i]);
			assert_memory_equal(&one, &want[i], sizeof one);
		}
	double mean = llmcap_quantiles_mean_many((const struct llmcap_quantiles *const *)qs, nq),
	       want_mean = n ? sum / (double)n : NAN;
	assert_memory_equal(&mean, &want_mean, sizeof mean);
	/* sorted collectors (as llmcap_quantiles_get leaves one it sorted in place, without memory
	 * for a selection) are read by a search over their keys: the same bits */
	for (size_t j = 0; j < nq; j++) {
		gsl_sort(qs[j]->v, 1, qs[j]->n);
		qs[j]->sorted = true;
	}
	assert_true(llmcap_quantiles_get_many((const struct llmcap_quantiles *const *)qs, nq, exact_p,
					      N_EXACT_P, got));
	assert_memory_equal(got, want, sizeof got);
	free(all);
}

static void exact_union_is_bit_identical(void **state)
{
	(void)state;
	static const size_t sizes[] = {0, 1, 2, 3, 255, 256, 257, 1000, 100000};
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 5);
	for (int s = 0; s < N_SHAPES; s++) {
		/* one collector of each size */
		for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
			struct llmcap_quantiles q, *qp = &q;
			assert_true(llmcap_quantiles_init(&q, false, 0));
			for (size_t i = 0; i < sizes[z]; i++)
				assert_true(llmcap_quantiles_add(&q, draw(r, (enum shape)s)));
			check_union(&qp, 1);
			llmcap_quantiles_free(&q);
		}
		/* unions of 1 to 4 collectors of different sizes, empty ones among them */
		for (int t = 0; t < 12; t++) {
			struct llmcap_quantiles q[4], *qp[4];
			size_t nq = 1 + (size_t)t % 4;
			for (size_t j = 0; j < nq; j++) {
				assert_true(llmcap_quantiles_init(&q[j], false, 0));
				qp[j] = &q[j];
				size_t m = sizes[gsl_rng_uniform_int(r, sizeof sizes / sizeof sizes[0])];
				if (m == 100000 && t % 3)
					m = 20000;
				for (size_t i = 0; i < m; i++)
					assert_true(llmcap_quantiles_add(&q[j], draw(r, (enum shape)s)));
			}
			check_union(qp, nq);
			for (size_t j = 0; j < nq; j++)
				llmcap_quantiles_free(&q[j]);
		}
	}
	gsl_rng_free(r);
}

/* The selection's first digit spans the keys from the collector's least value to its greatest;
 * a -0 added after +0 lies below the least (the comparisons see them equal), so the selection
 * must fall back to the keys' top bits (without it, the count index overflows: the sanitizer
 * suite reports it). The upper quantiles lie away from the zeros, where the order of -0 and +0
 * cannot matter. */
static void key_outside_the_bounds(void **state)
{
	(void)state;
	struct llmcap_quantiles q, *qp = &q;
	assert_true(llmcap_quantiles_init(&q, false, 0));
	double all[1000];
	for (int i = 0; i < 1000; i++) {
		all[i] = i < 600 ? 0.0 : i == 600 ? -0.0 : 1 + (double)((i * 617) % 1000) * 1e-3;
		assert_true(llmcap_quantiles_add(&q, all[i]));
	}
	assert_true(signbit(q.min) == 0); /* the least is +0: the -0 lies outside */
	gsl_sort(all, 1, 1000);
	static const double p[] = {0.9, 0.99, 1};
	double got[3];
	assert_true(llmcap_quantiles_get_many((const struct llmcap_quantiles *const *)&qp, 1, p, 3, got));
	for (int k = 0; k < 3; k++) {
		double want = gsl_stats_quantile_from_sorted_data(all, 1, 1000, p[k]);
		assert_memory_equal(&got[k], &want, sizeof want);
	}
	llmcap_quantiles_free(&q);
}

/* A tagged collector's quantiles of one tag are those of a collector holding that tag's
 * samples alone, to the bit: over 24 tags (hours) with uneven shares, through the collector's
 * growth (the tags must move with the samples), with samples added untagged (tag 0) among
 * them. A tag without samples, an untagged collector and a streaming one give NAN. */
static void tagged_quantiles_are_the_tags_own(void **state)
{
	(void)state;
	enum { TAGS = 24, N = 50000 };
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 7);
	struct llmcap_quantiles all, one[TAGS], untagged;
	assert_true(llmcap_quantiles_init(&all, false, 0));
	assert_true(llmcap_quantiles_tag(&all));
	assert_false(llmcap_quantiles_tag(&all)); /* once */
	assert_true(llmcap_quantiles_init(&untagged, false, 0));
	for (int t = 0; t < TAGS; t++)
		assert_true(llmcap_quantiles_init(&one[t], false, 0));
	for (int i = 0; i < N; i++) {
		/* tags 0..22 in turn, tag 23 never; heavy tails */
		const uint32_t t = (uint32_t)gsl_rng_uniform_int(r, TAGS - 1);
		const double x = gsl_ran_lognormal(r, -3 + 0.1 * t, 1.5);
		if (t == 0 && i % 2)
			assert_true(llmcap_quantiles_add(&all, x));
		else
			assert_true(llmcap_quantiles_add_tagged(&all, x, t));
		assert_true(llmcap_quantiles_add(&one[t], x));
		assert_true(llmcap_quantiles_add(&untagged, x));
	}
	for (int t = 0; t < TAGS; t++)
		for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
			const double want = llmcap_quantiles_get(&one[t], probes[k]);
			const double got = llmcap_quantiles_get_tagged(&all, probes[k], (uint32_t)t);
			if (t == TAGS - 1)
				assert_true(isnan(got) && isnan(want));
			else
				assert_memory_equal(&got, &want, sizeof want);
		}
	assert_true(isnan(llmcap_quantiles_get_tagged(&untagged, 0.5, 0)));
	struct llmcap_quantiles st;
	assert_true(llmcap_quantiles_init(&st, true, 0.01));
	assert_false(llmcap_quantiles_tag(&st));
	assert_true(llmcap_quantiles_add_tagged(&st, 1.0, 3));
	assert_true(isnan(llmcap_quantiles_get_tagged(&st, 0.5, 3)));
	/* the whole is unchanged by the tags */
	const double a = llmcap_quantiles_get(&all, 0.99), b = llmcap_quantiles_get(&untagged, 0.99);
	assert_memory_equal(&a, &b, sizeof a);
	llmcap_quantiles_free(&st);
	llmcap_quantiles_free(&all);
	llmcap_quantiles_free(&untagged);
	for (int t = 0; t < TAGS; t++)
		llmcap_quantiles_free(&one[t]);
	gsl_rng_free(r);
}

/* More probabilities than one selection takes, unsorted and repeated; p outside [0, 1] and mixed
 * modes are refused. */
static void exact_many_probabilities(void **state)
{
	(void)state;
	struct llmcap_quantiles q, s;
	assert_true(llmcap_quantiles_init(&q, false, 0));
	assert_true(llmcap_quantiles_init(&s, true, 0.01));
	for (int i = 0; i < 5000; i++)
		assert_true(llmcap_quantiles_add(&q, (double)((i * 617) % 5000) * 1e-3));
	double p[40], got[40];
	for (int k = 0; k < 40; k++)
		p[k] = (double)((k * 7) % 40) / 39.0;
	const struct llmcap_quantiles *qs[] = {&q}, *mixed[] = {&q, &s};
	assert_true(llmcap_quantiles_get_many(qs, 1, p, 40, got));
	for (int k = 0; k < 40; k++) {
		double one = llmcap_quantiles_get(&q, p[k]);
		assert_memory_equal(&got[k], &one, sizeof one);
	}
	double bad = 1.5;
	assert_false(llmcap_quantiles_get_many(qs, 1, &bad, 1, got));
	assert_true(isnan(got[0]));
	assert_false(llmcap_quantiles_get_many(mixed, 2, p, 1, got));
	llmcap_quantiles_free(&q);
	llmcap_quantiles_free(&s);
}

static void streaming_memory_is_bounded(void **state)
{
	(void)state;
	struct llmcap_quantiles q;
	assert_true(llmcap_quantiles_init(&q, true, 0.01));
	size_t buckets = q.n_buckets;
	for (int i = 0; i < 1000000; i++)
		assert_true(llmcap_quantiles_add(&q, 1e-3 * (i % 1000 + 1)));
	assert_int_equal(q.n_buckets, buckets);
	assert_null(q.v);
	assert_true(buckets < 5000);
	llmcap_quantiles_free(&q);
	assert_false(llmcap_quantiles_init(&q, true, 0)); /* a bound of 0 is not a bound */
	llmcap_quantiles_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_matches_sorted_reference),
		cmocka_unit_test(streaming_within_its_bound),
		cmocka_unit_test(streaming_memory_is_bounded),
		cmocka_unit_test(exact_union_is_bit_identical),
		cmocka_unit_test(key_outside_the_bounds),
		cmocka_unit_test(tagged_quantiles_are_the_tags_own),
		cmocka_unit_test(exact_many_probabilities),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Latency collectors: exact quantiles against a sorted reference, and the streaming estimator
 * against its stated error bound. */
#include "test_util.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>

#include "llmcap/metrics.h"

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
		/* merging two halves gives the same answers as one collector */
		struct llmcap_quantiles h1, h2;
		assert_true(llmcap_quantiles_init(&h1, true, alphas[a]));
		assert_true(llmcap_quantiles_init(&h2, true, alphas[a]));
		for (size_t i = 0; i < n; i++)
			assert_true(llmcap_quantiles_add(i % 2 ? &h1 : &h2, x[i]));
		assert_true(llmcap_quantiles_merge(&h1, &h2));
		for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++)
			assert_rel(llmcap_quantiles_get(&h1, probes[k]), llmcap_quantiles_get(&q, probes[k]), 0);
		llmcap_quantiles_free(&h1);
		llmcap_quantiles_free(&h2);
		llmcap_quantiles_free(&q);
	}
	free(x);
	gsl_rng_free(r);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

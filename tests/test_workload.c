/* The synthetic workload: independent random streams, the diurnal profile, and statistics of
 * what is generated against what the scenario asks for. */
#include "test_util.h"

#include <gsl/gsl_sf_bessel.h>

#include "llmcap/scenario.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static void load(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(sc, NULL, sets, n, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

/* Changing one class's length distribution must not move any arrival, any class choice, or
 * the other class's lengths. */
static void streams_are_independent(void **state)
{
	(void)state;
	struct llmcap_scenario a, b;
	load(&a, NULL, 0);
	const char *sets[] = {"workload.classes.utility.prompt={dist: uniform, min: 1, max: 100000}"};
	load(&b, sets, 1);
	struct llmcap_workload wa, wb;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wa, &a, &err), 0);
	assert_int_equal(llmcap_workload_init(&wb, &b, &err), 0);
	int differing_utility_prompts = 0;
	for (int i = 0; i < 20000; i++) {
		assert_int_equal(llmcap_workload_next_arrival(&wa), llmcap_workload_next_arrival(&wb));
		size_t ca = llmcap_workload_pick_class(&wa), cb = llmcap_workload_pick_class(&wb);
		assert_int_equal(ca, cb);
		int64_t pa, oa, pb, ob;
		llmcap_workload_lengths(&wa, ca, &pa, &oa);
		llmcap_workload_lengths(&wb, cb, &pb, &ob);
		assert_int_equal(oa, ob);
		if (ca == 1)
			assert_int_equal(pa, pb);
		else
			differing_utility_prompts += pa != pb;
	}
	assert_true(differing_utility_prompts > 1000); /* the change did take effect */
	llmcap_workload_free(&wa);
	llmcap_workload_free(&wb);

	/* and another seed gives other arrivals */
	const char *seed[] = {"seed=43"};
	load(&b, seed, 1);
	assert_int_equal(llmcap_workload_init(&wa, &a, &err), 0);
	assert_int_equal(llmcap_workload_init(&wb, &b, &err), 0);
	int same = 0;
	for (int i = 0; i < 100; i++)
		same += llmcap_workload_next_arrival(&wa) == llmcap_workload_next_arrival(&wb);
	assert_true(same < 5);
	llmcap_workload_free(&wa);
	llmcap_workload_free(&wb);
}

static void diurnal_profile_has_mean_one_and_the_asked_peak(void **state)
{
	(void)state;
	static const double ptms[] = {1.5, 2.0, 3.0, 5.0, 10.0};
	for (size_t i = 0; i < sizeof ptms / sizeof ptms[0]; i++) {
		struct llmcap_scenario sc;
		char set[64];
		snprintf(set, sizeof set, "workload.diurnal.peak_to_mean=%g", ptms[i]);
		const char *sets[] = {set, "workload.diurnal.peak_hour=9.5"};
		load(&sc, sets, 2);
		struct llmcap_workload wl;
		struct llmcap_error err = {0};
		assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
		/* The trapezoid rule is spectrally accurate for a smooth periodic function. */
		double sum = 0, peak = 0;
		llmcap_time peak_at = 0;
		const int n = 86400;
		for (int k = 0; k < n; k++) {
			llmcap_time t = (llmcap_time)k * LLMCAP_SEC;
			double p = llmcap_workload_profile(&wl, t);
			sum += p;
			if (p > peak) {
				peak = p;
				peak_at = t;
			}
		}
		assert_rel(sum / n, 1.0, 1e-9);
		assert_rel(peak, ptms[i], 1e-9);
		assert_int_equal(peak_at, (llmcap_time)(9.5 * 3600) * LLMCAP_SEC);
		llmcap_workload_free(&wl);
	}
	assert_rel(llmcap_diurnal_kappa(1.0), 0, 0);
}

/* Arrivals per hour of day over many days match rate x integral of the profile over the hour
 * (a Poisson count: within 4.5 standard deviations, for each of the 24 hours). */
static void arrivals_follow_the_profile(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=20d"};
	load(&sc, sets, 1);
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	double count[24] = {0}, classes[2] = {0};
	llmcap_time t;
	int64_t total = 0;
	while ((t = llmcap_workload_next_arrival(&wl)) < sc.horizon) {
		count[(t % LLMCAP_DAY) / LLMCAP_HOUR]++;
		classes[llmcap_workload_pick_class(&wl)]++;
		total++;
	}
	const double days = 20;
	for (int h = 0; h < 24; h++) {
		double integral = 0;
		for (int s = 0; s < 3600; s++)
			integral += llmcap_workload_profile(&wl, (llmcap_time)(h * 3600 + s) * LLMCAP_SEC +
									 LLMCAP_SEC / 2);
		double expected = sc.workload.rate * integral * days;
		if (fabs(count[h] - expected) > 4.5 * sqrt(expected))
			fail_msg("hour %d: %g arrivals, expected %g +- %g", h, count[h], expected,
				 sqrt(expected));
	}
	/* the busiest hour carries about 3x the mean hourly load */
	assert_true(count[14] / (total / 24.0) > 2.8);
	/* the 80/20 split: binomial, within 4.5 standard deviations */
	double p = 0.8, n = (double)total;
	assert_true(fabs(classes[0] - p * n) < 4.5 * sqrt(n * p * (1 - p)));
	llmcap_workload_free(&wl);
}

static void lengths_match_their_distributions(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	load(&sc, NULL, 0);
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	for (size_t c = 0; c < 2; c++) {
		const int n = 200000;
		double sp = 0, sp2 = 0, so = 0, so2 = 0;
		int64_t pmin = INT64_MAX, pmax = 0;
		for (int i = 0; i < n; i++) {
			int64_t pr, out;
			llmcap_workload_lengths(&wl, c, &pr, &out);
			sp += (double)pr;
			sp2 += (double)pr * (double)pr;
			so += (double)out;
			so2 += (double)out * (double)out;
			pmin = pr < pmin ? pr : pmin;
			pmax = pr > pmax ? pr : pmax;
		}
		const struct llmcap_class_cfg *cl = &sc.workload.classes[c];
		double mp = sp / n, se_p = sqrt((sp2 / n - mp * mp) / n);
		double mo = so / n, se_o = sqrt((so2 / n - mo * mo) / n);
		/* rounding to whole tokens moves the mean by well under half a token */
		assert_true(fabs(mp - llmcap_dist_mean(&cl->prompt)) < 4.5 * se_p + 0.5);
		assert_true(fabs(mo - llmcap_dist_mean(&cl->output)) < 4.5 * se_o + 0.5);
		assert_true(pmin >= cl->prompt.min && pmax <= cl->prompt.max);
	}
	llmcap_workload_free(&wl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(streams_are_independent),
		cmocka_unit_test(diurnal_profile_has_mean_one_and_the_asked_peak),
		cmocka_unit_test(arrivals_follow_the_profile),
		cmocka_unit_test(lengths_match_their_distributions),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

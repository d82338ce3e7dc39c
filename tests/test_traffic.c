/* Traffic generation, proved statistically: every process and distribution is compared with
 * what its parameters say it is, for a fixed seed and sample size, with tolerances set by the
 * sampling error (Kolmogorov-Smirnov and chi-square p-values above 1e-3, means within 4.5
 * standard errors), never tuned to the seed. Negative controls show that the same tests
 * reject a distribution that is slightly off, so each one can fail. */
#include "test_util.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <fcntl.h>
#include <gsl/gsl_sort_long.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llmcap/sim.h"
#include "llmcap/workload.h"

#define P_MIN 1e-3  /* a correct generator fails a test at this level once in 1,000 seeds */
#define N_SE 4.5    /* standard errors allowed for a mean */

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* The reference scenario with overrides; fails the test on an error. */
static void load(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(sc, NULL, sets, n, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

static int load_err(const char *const *sets, size_t n, struct llmcap_error *err)
{
	struct llmcap_scenario sc;
	int rc = llmcap_scenario_load(&sc, NULL, sets, n, &cat, err);
	llmcap_scenario_free(&sc);
	return rc;
}

/* Loads YAML text from a file in /tmp (for what only a file can say). */
static int load_text(const char *text, struct llmcap_scenario *sc, struct llmcap_error *err)
{
	char path[] = "/tmp/llmcap-traffic-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	int rc = llmcap_scenario_load(sc, path, NULL, 0, &cat, err);
	unlink(path);
	return rc;
}

/* ---- statistics ---- */

/* P(D > d) for the Kolmogorov-Smirnov statistic of n samples (Stephens' small-n correction
 * of the asymptotic Kolmogorov distribution). */
static double ks_pvalue(double d, size_t n)
{
	double en = sqrt((double)n), lambda = (en + 0.12 + 0.11 / en) * d;
	if (lambda < 0.2)
		return 1.0;
	double sum = 0, sign = 1;
	for (int j = 1; j <= 200; j++) {
		double term = sign * exp(-2.0 * j * j * lambda * lambda);
		sum += term;
		if (fabs(term) < 1e-16)
			break;
		sign = -sign;
	}
	return fmin(1.0, fmax(0.0, 2.0 * sum));
}

typedef double (*cdf_fn)(double x, const double *par);

/* One-sample KS of inter-arrival gaps (seconds, sorted in place) against a continuous law.
 * Arrival times are whole nanoseconds, so a gap is the law rounded to the nanosecond: compare
 * with P(round(X) <= v) = F(v + 0.5 ns) at each distinct value and just below it (this matters
 * for very bursty processes, whose shortest gaps are below a nanosecond). */
static double ks_continuous(double *x, size_t n, cdf_fn cdf, const double *par)
{
	gsl_sort(x, 1, n);
	double d = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && x[j] == x[i])
			j++;
		double below = x[i] > 0 ? cdf(x[i] - 0.5e-9, par) : 0.0, at = cdf(x[i] + 0.5e-9, par);
		d = fmax(d, fmax(fabs((double)i / (double)n - below), fabs((double)j / (double)n - at)));
		i = j;
	}
	return ks_pvalue(d, n);
}

/* KS of integer samples (sorted in place) against a length distribution's exact CDF: the
 * largest gap between the empirical and the exact CDF over all integers is reached at a sample
 * value or just below one. For a discrete law this p-value is conservative. */
static double ks_discrete(long *x, size_t n, const struct llmcap_dist *dist)
{
	gsl_sort_long(x, 1, n);
	double d = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && x[j] == x[i])
			j++;
		double below = llmcap_dist_cdf(dist, x[i] - 1), at = llmcap_dist_cdf(dist, x[i]);
		d = fmax(d, fabs((double)i / (double)n - below));
		d = fmax(d, fabs((double)j / (double)n - at));
		i = j;
	}
	return ks_pvalue(d, n);
}

static double exp_cdf(double x, const double *par)
{
	return gsl_cdf_exponential_P(x, par[0]);
}

static double gamma_cdf(double x, const double *par)
{
	return gsl_cdf_gamma_P(x, par[0], par[1]);
}

/* ---- arrivals ---- */

/* n inter-arrival gaps (seconds) of the shared stream */
static double *gaps(const struct llmcap_scenario *sc, size_t n)
{
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	if (llmcap_workload_init(&wl, sc, &err) != 0)
		fail_msg("%s", err.msg);
	double *g = malloc(n * sizeof *g);
	assert_non_null(g);
	llmcap_time prev = 0;
	for (size_t i = 0; i < n; i++) {
		llmcap_time t = llmcap_workload_next_arrival(&wl);
		g[i] = (double)(t - prev) * 1e-9;
		prev = t;
	}
	llmcap_workload_free(&wl);
	return g;
}

static void poisson_gaps_are_exponential(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.rate=10/s", "workload.diurnal.shape=none"};
	load(&sc, sets, 2);
	const size_t n = 20000;
	double *g = gaps(&sc, n);
	double mean = 1.0 / 10;
	double p = ks_continuous(g, n, exp_cdf, &mean);
	print_message("poisson: KS p = %.3f over %zu gaps\n", p, n);
	assert_true(p > P_MIN);
	/* control: a 10% wrong rate is rejected */
	double wrong = 1.0 / 11;
	assert_true(ks_continuous(g, n, exp_cdf, &wrong) < 1e-6);
	free(g);
	/* and gamma gaps of CV 1.3 (same mean) are not exponential */
	const char *sets2[] = {"workload.rate=10/s", "workload.diurnal.shape=none",
			       "workload.arrival=gamma", "workload.gamma_cv=1.3"};
	load(&sc, sets2, 4);
	g = gaps(&sc, n);
	assert_true(ks_continuous(g, n, exp_cdf, &mean) < 1e-6);
	free(g);
}

/* Gamma renewal: KS against Gamma(1/cv^2, cv^2/rate), and the sample mean and CV within 4.5
 * standard errors (delta method with the gamma's third and fourth moments). */
static void gamma_gaps_have_the_asked_mean_and_cv(void **state)
{
	(void)state;
	static const double cvs[] = {0.5, 1.0, 2.0, 4.0};
	for (size_t c = 0; c < sizeof cvs / sizeof cvs[0]; c++) {
		char cv_set[64];
		snprintf(cv_set, sizeof cv_set, "workload.gamma_cv=%g", cvs[c]);
		const char *sets[] = {"workload.rate=2/s", "workload.diurnal.shape=none",
				      "workload.arrival=gamma", cv_set};
		struct llmcap_scenario sc;
		load(&sc, sets, 4);
		const size_t n = 40000;
		double *g = gaps(&sc, n);
		double k = 1 / (cvs[c] * cvs[c]), theta = cvs[c] * cvs[c] / 2.0;
		double s1 = 0, s2 = 0;
		for (size_t i = 0; i < n; i++) {
			s1 += g[i];
			s2 += g[i] * g[i];
		}
		double m = s1 / (double)n, v = s2 / (double)n - m * m, cv = sqrt(v) / m;
		/* moments of Gamma(k, theta) */
		double mu = k * theta, var = k * theta * theta, m3 = 2 * k * pow(theta, 3),
		       m4 = (3 * k * k + 6 * k) * pow(theta, 4);
		double se_m = sqrt(var / (double)n);
		double dv = 1 / (2 * sqrt(var) * mu), dm = -sqrt(var) / (mu * mu);
		double se_cv = sqrt((dv * dv * (m4 - var * var) + dm * dm * var + 2 * dv * dm * m3) / (double)n);
		double par[2] = {k, theta};
		double p = ks_continuous(g, n, gamma_cdf, par);
		print_message("gamma cv %g: mean %.5f (%.5f +- %.5f), cv %.4f (+- %.4f), KS p = %.3f\n",
			      cvs[c], m, mu, se_m, cv, se_cv, p);
		assert_true(fabs(m - mu) < N_SE * se_m);
		assert_true(fabs(cv - cvs[c]) < N_SE * se_cv);
		assert_true(p > P_MIN);
		free(g);
	}
}

/* Counts per hour of the horizon against rate x the integral of the profile over the hour,
 * the integral taken independently of the generator (the profile summed every second). For
 * a Poisson process the counts are independent Poisson; for a renewal process of CV c the
 * variance of a long window's count is c^2 x its mean. Sum of (O - E)^2 / (c^2 E) ~ chi2(n). */
static void check_counts(const char *what, const char *const *sets, size_t n_sets, double cv)
{
	struct llmcap_scenario sc;
	load(&sc, sets, n_sets);
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	size_t hours = (size_t)(sc.horizon / LLMCAP_HOUR);
	double *count = calloc(hours, sizeof *count);
	assert_non_null(count);
	llmcap_time t;
	while ((t = llmcap_workload_next_arrival(&wl)) < sc.horizon)
		count[t / LLMCAP_HOUR]++;
	double chi2 = 0, rate = llmcap_scenario_mean_rate(&sc);
	for (size_t h = 0; h < hours; h++) {
		double integral = 0;
		for (int s = 0; s < 3600; s++)
			integral += llmcap_workload_profile(&wl, (llmcap_time)(h * 3600 + (size_t)s) *
									 LLMCAP_SEC + LLMCAP_SEC / 2);
		double e = rate * integral;
		if (e > 0)
			chi2 += (count[h] - e) * (count[h] - e) / (cv * cv * e);
		else
			assert_true(count[h] == 0);
	}
	double p = gsl_cdf_chisq_Q(chi2, (double)hours);
	print_message("%s: chi2 = %.1f over %zu hours, p = %.3f\n", what, chi2, hours, p);
	if (!(p > P_MIN))
		fail_msg("%s: hourly counts do not follow the rate (chi2 %.1f, df %zu, p %.2g)", what,
			 chi2, hours, p);
	free(count);
	llmcap_workload_free(&wl);
}

static void nonhomogeneous_counts_match_the_rate_integral(void **state)
{
	(void)state;
	const char *smooth_week[] = {"horizon=7d", "workload.rate=100000/day",
				     "workload.diurnal.weekend_factor=0.4", "workload.start_day=thursday"};
	check_counts("poisson, smooth, weekend 0.4", smooth_week, 4, 1.0);
	const char *table[] = {"horizon=3d", "workload.rate=100000/day",
			       "workload.diurnal={shape: table, hours: [0, 0, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, "
			       "6, 6, 5, 4, 3, 2, 2, 1, 1, 1, 1, 0.5]}"};
	check_counts("poisson, table with empty hours", table, 3, 1.0);
	const char *azure[] = {"horizon=7d", "workload.rate=100000/day", "workload.diurnal.shape=azure-code",
			       "workload.start_day=friday"};
	check_counts("poisson, azure-code week", azure, 4, 1.0);
	const char *gamma_table[] = {"horizon=3d", "workload.rate=100000/day", table[2],
				     "workload.arrival=gamma", "workload.gamma_cv=2"};
	check_counts("gamma cv 2, table", gamma_table, 5, 2.0);
	const char *gamma_smooth[] = {"horizon=3d", "workload.rate=100000/day", "workload.arrival=gamma",
				      "workload.gamma_cv=0.5", "workload.diurnal.peak_to_mean=5"};
	check_counts("gamma cv 0.5, smooth 5x", gamma_smooth, 5, 0.5);
	const char *servegen[] = {"horizon=2d", "workload.rate=200000/day",
				  "workload.diurnal.shape=servegen-deepseek-r1", "workload.arrival=gamma",
				  "workload.gamma_cv=1.5"};
	check_counts("gamma cv 1.5, servegen-deepseek-r1", servegen, 5, 1.5);
}

/* Control: counts of a process whose real profile is 3x while the test assumes 2.7x fail. */
static void count_test_rejects_a_wrong_profile(void **state)
{
	(void)state;
	struct llmcap_scenario sc, wrong;
	const char *sets[] = {"horizon=3d", "workload.rate=100000/day"};
	const char *wsets[] = {"horizon=3d", "workload.rate=100000/day", "workload.diurnal.peak_to_mean=2.7"};
	load(&sc, sets, 2);
	load(&wrong, wsets, 3);
	struct llmcap_workload wl, ww;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	assert_int_equal(llmcap_workload_init(&ww, &wrong, &err), 0);
	double count[72] = {0}, chi2 = 0;
	llmcap_time t;
	while ((t = llmcap_workload_next_arrival(&wl)) < sc.horizon)
		count[t / LLMCAP_HOUR]++;
	for (size_t h = 0; h < 72; h++) {
		double e = 0;
		for (int s = 0; s < 3600; s++)
			e += llmcap_workload_profile(&ww, (llmcap_time)(h * 3600 + (size_t)s) * LLMCAP_SEC);
		e *= sc.workload.rate;
		chi2 += (count[h] - e) * (count[h] - e) / e;
	}
	assert_true(gsl_cdf_chisq_Q(chi2, 72) < 1e-6);
	llmcap_workload_free(&wl);
	llmcap_workload_free(&ww);
}

/* MMPP: the count over the horizon and the index of dispersion of 1-minute counts against the
 * Markov-modulated Poisson process's exact second-order theory: for rate switching between
 * l0 and l1 at rates r0 (calm -> burst) and r1, with g = r0 + r1,
 *   Var N(T) = m T + 2 (l1 - l0)^2 r0 r1 / g^3 (T - (1 - e^(-g T)) / g). */
static void mmpp_has_the_asked_mean_and_burstiness(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=20d", "workload.rate=0.5/s", "workload.diurnal.shape=none",
			      "workload.arrival=mmpp", "workload.mmpp={burst_rate_factor: 5, mean_calm: 9min, "
			      "mean_burst: 1min}"};
	load(&sc, sets, 5);
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	const size_t minutes = 20 * 1440;
	double *c = calloc(minutes, sizeof *c);
	assert_non_null(c);
	llmcap_time t;
	double n = 0;
	while ((t = llmcap_workload_next_arrival(&wl)) < sc.horizon) {
		c[t / LLMCAP_MIN]++;
		n++;
	}
	double m = 0.5, r0 = 1.0 / 540, r1 = 1.0 / 60, g = r0 + r1;
	double pi1 = r0 / g, f0 = 1 / (1 - pi1 + pi1 * 5), l0 = m * f0, l1 = 5 * m * f0;
	double k = 2 * (l1 - l0) * (l1 - l0) * r0 * r1 / (g * g * g);
	double T = 20 * 86400.0, var = m * T + k * (T - (1 - exp(-g * T)) / g);
	print_message("mmpp: %.0f arrivals, expected %.0f +- %.0f\n", n, m * T, sqrt(var));
	assert_true(fabs(n - m * T) < N_SE * sqrt(var));
	/* index of dispersion of 1-minute counts, by batch means over the 20 days */
	double idc_theory = 1 + k * (60 - (1 - exp(-g * 60)) / g) / (m * 60);
	double b1 = 0, b2 = 0;
	for (size_t d = 0; d < 20; d++) {
		double s1 = 0, s2 = 0;
		for (size_t i = d * 1440; i < (d + 1) * 1440; i++) {
			s1 += c[i];
			s2 += c[i] * c[i];
		}
		double mean = s1 / 1440, v = (s2 - 1440 * mean * mean) / 1439, idc = v / mean;
		b1 += idc;
		b2 += idc * idc;
	}
	double idc = b1 / 20, se = sqrt((b2 / 20 - idc * idc) / 19);
	print_message("mmpp: 1-minute index of dispersion %.2f +- %.2f, theory %.2f\n", idc, se,
		      idc_theory);
	assert_true(fabs(idc - idc_theory) < N_SE * se);
	assert_true(idc > 10); /* far from Poisson's 1 */
	free(c);
	llmcap_workload_free(&wl);

	/* with a 3x daily curve: each hour of the day, summed over 10 days, against rate x the
	 * profile's integral; the burst variance scales with the local rate, so an hour's count
	 * has variance E (1 + (IDC(1 h) - 1) x profile) */
	const char *prof[] = {"horizon=10d", "workload.rate=2/s", "workload.arrival=mmpp",
			      "workload.mmpp={burst_rate_factor: 5, mean_calm: 9min, mean_burst: 1min}"};
	load(&sc, prof, 4);
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	double hour[24] = {0};
	while ((t = llmcap_workload_next_arrival(&wl)) < sc.horizon)
		hour[(t % LLMCAP_DAY) / LLMCAP_HOUR]++;
	m = 2.0;
	l0 = m * f0, l1 = 5 * m * f0;
	k = 2 * (l1 - l0) * (l1 - l0) * r0 * r1 / (g * g * g);
	double idc_hour = 1 + k * (3600 - (1 - exp(-g * 3600)) / g) / (m * 3600);
	double chi2 = 0;
	for (int h = 0; h < 24; h++) {
		double integral = 0;
		for (int s = 0; s < 3600; s++)
			integral += llmcap_workload_profile(&wl, (llmcap_time)(h * 3600 + s) * LLMCAP_SEC +
									 LLMCAP_SEC / 2);
		double e = m * integral * 10, v = e * (1 + (idc_hour - 1) * integral / 3600);
		chi2 += (hour[h] - e) * (hour[h] - e) / v;
	}
	double p = gsl_cdf_chisq_Q(chi2, 24);
	print_message("mmpp with a 3x daily curve: chi2 %.1f over 24 hours of the day, p = %.3f\n", chi2, p);
	assert_true(p > P_MIN);
	llmcap_workload_free(&wl);
}

/* The acceptance number: the reference day's busiest hour carries 3.0x the mean hour,
 * within a few percent; and within 4.5 standard errors of the exact expectation. The profile
 * peaks at 14:00, so 13:00-14:00 and 14:00-15:00 carry the same expected traffic: either may
 * be the busiest. */
static void reference_day_peak_hour_is_three_times_the_mean(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	load(&sc, NULL, 0);
	struct llmcap_traffic tr;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_traffic_generate(&sc, NULL, &tr, &err), 0);
	print_message("reference day: %lld requests, peak hour / mean hour %.4f (hour %zu), peak "
		      "minute / mean minute %.3f\n", (long long)tr.requests, tr.peak_hour,
		      tr.busiest_hour, tr.peak_minute);
	const size_t h = tr.busiest_hour;
	assert_true(h == 13 || h == 14);
	assert_true(fabs(tr.peak_hour - 3.0) < 0.03 * 3.0);
	/* E[count in that hour] = rate x integral of the profile over it */
	struct llmcap_workload wl;
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	double e = 0;
	for (int s = 0; s < 3600; s++)
		e += llmcap_workload_profile(&wl, (llmcap_time)h * LLMCAP_HOUR + (llmcap_time)s * LLMCAP_SEC +
						      LLMCAP_SEC / 2);
	e *= sc.workload.rate;
	assert_true(fabs((double)tr.per_hour[h] - e) < N_SE * sqrt(e));
	/* mean-hour count: 50,000 / 24 within Poisson error */
	assert_true(fabs((double)tr.requests - 50000) < N_SE * sqrt(50000));
	llmcap_workload_free(&wl);
	llmcap_traffic_free(&tr);
}

/* Per-class streams are merged in time order, each at share x the mean rate. */
static void class_streams_merge_in_time_order(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=2d", "workload.rate=20000/day",
			      "workload.classes.reasoning.arrival=gamma",
			      "workload.classes.reasoning.gamma_cv=2",
			      "workload.classes.reasoning.diurnal.peak_hour=10"};
	load(&sc, sets, 5);
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	assert_int_equal(wl.n_streams, 2);
	llmcap_time t, prev = 0;
	double n[2] = {0}, at10[2] = {0};
	while ((t = llmcap_workload_next_arrival(&wl)) < sc.horizon) {
		assert_true(t >= prev);
		prev = t;
		size_t c = llmcap_workload_pick_class(&wl);
		n[c]++;
		at10[c] += (t % LLMCAP_DAY) / LLMCAP_HOUR == 10;
	}
	/* utility: Poisson at 0.8 x rate; reasoning: gamma CV 2 at 0.2 x rate (variance 4x) */
	double eu = 0.8 * 40000, er = 0.2 * 40000;
	assert_true(fabs(n[0] - eu) < N_SE * sqrt(eu));
	assert_true(fabs(n[1] - er) < N_SE * 2 * sqrt(er));
	/* and each follows its own profile: reasoning peaks at 10:00, utility at 14:00 */
	assert_true(at10[1] / n[1] > at10[0] / n[0] * 1.3);
	llmcap_workload_free(&wl);
}

/* Same seed, same stream; a change to one class's process or lengths moves nothing else. */
static void streams_are_reproducible_and_do_not_share_draws(void **state)
{
	(void)state;
	const char *base[] = {"workload.arrival=gamma", "workload.gamma_cv=2",
			      "workload.classes.reasoning.arrival=mmpp",
			      "workload.classes.reasoning.prompt={dist: zipf, exponent: 1.2, min: 100, max: 8192}",
			      NULL};
	const char *changed[] = {base[0], base[1], base[2], base[3],
				 "workload.classes.reasoning.mmpp.burst_rate_factor=9"};
	struct llmcap_scenario a, b, c;
	load(&a, base, 4);
	load(&b, base, 4);
	load(&c, changed, 5);
	struct llmcap_workload wa, wb, wc;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wa, &a, &err), 0);
	assert_int_equal(llmcap_workload_init(&wb, &b, &err), 0);
	assert_int_equal(llmcap_workload_init(&wc, &c, &err), 0);
	/* the utility requests of the changed scenario, to compare with the base's */
	enum { N = 20000 };
	static llmcap_time ua[N], uc[N];
	static int64_t pa[N], pc[N];
	size_t na = 0, nc = 0;
	for (int i = 0; i < 3 * N && (na < N || nc < N); i++) {
		llmcap_time ta = llmcap_workload_next_arrival(&wa), tb = llmcap_workload_next_arrival(&wb);
		assert_int_equal(ta, tb);
		size_t ca = llmcap_workload_pick_class(&wa), cb = llmcap_workload_pick_class(&wb);
		assert_int_equal(ca, cb);
		int64_t p1, o1, p2, o2;
		llmcap_workload_lengths(&wa, ca, &p1, &o1);
		llmcap_workload_lengths(&wb, cb, &p2, &o2);
		assert_int_equal(p1, p2);
		assert_int_equal(o1, o2);
		if (ca == 0 && na < N) {
			ua[na] = ta;
			pa[na++] = p1;
		}
		llmcap_time tc = llmcap_workload_next_arrival(&wc);
		size_t cc = llmcap_workload_pick_class(&wc);
		int64_t p3, o3;
		llmcap_workload_lengths(&wc, cc, &p3, &o3);
		if (cc == 0 && nc < N) {
			uc[nc] = tc;
			pc[nc++] = p3;
		}
	}
	assert_int_equal(na, N);
	assert_int_equal(nc, N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(ua[i], uc[i]);
		assert_int_equal(pa[i], pc[i]);
	}
	llmcap_workload_free(&wa);
	llmcap_workload_free(&wb);
	llmcap_workload_free(&wc);
}

/* ---- lengths ---- */

struct dist_case {
	const char *yaml;
	double mean, p99;  /* independent checks of the parameters (NAN: none) */
};

static void length_distributions_match_their_parameters(void **state)
{
	(void)state;
	static const struct dist_case cases[] = {
		{"{dist: fixed, value: 512}", 512, NAN},
		{"{dist: uniform, min: 500, max: 8192}", 4346, NAN},
		{"{dist: lognormal, median: 600, sigma: 0.8, min: 16, max: 4096}", NAN, NAN},
		/* by mean and p99, unclamped: the sample mean and p99 must be those */
		{"{dist: lognormal, mean: 1155, p99: 4142, max: 16777216}", 1155, 4142},
		{"{dist: normal, mean: 800, sd: 300, min: 1, max: 16777216}", 800, NAN},
		{"{dist: normal, mean: 100, sd: 80, min: 50, max: 150}", NAN, NAN},
		{"{dist: geometric, mean: 211, max: 16777216}", 211, NAN},
		{"{dist: geometric, mean: 211, min: 20, max: 600}", NAN, NAN},
		{"{dist: zipf, exponent: 1.1, min: 10, max: 20000}", NAN, NAN},
		{"{dist: zipf, exponent: 2.5, min: 1, max: 16777216}", NAN, NAN},
		{"{dist: histogram, edges: [1, 100, 500, 2000, 2001], weights: [5, 3, 0, 1]}", NAN, NAN},
		{"{dist: trace, file: " LLMCAP_SOURCE_DIR "/traces/data/azure2023_conv_first1000.csv, "
		 "column: ContextTokens}", NAN, NAN},
	};
	const size_t n = 100000;
	long *x = malloc(n * sizeof *x);
	assert_non_null(x);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char set[512];
		snprintf(set, sizeof set, "workload.classes.utility.prompt=%s", cases[c].yaml);
		const char *sets[] = {set};
		struct llmcap_scenario sc;
		load(&sc, sets, 1);
		const struct llmcap_dist *d = &sc.workload.classes[0].prompt;
		gsl_rng *r = llmcap_rng_stream(42, "test");
		double s1 = 0, s2 = 0;
		for (size_t i = 0; i < n; i++) {
			int64_t v = llmcap_dist_sample(d, r);
			assert_true(v >= d->min && v <= d->max);
			x[i] = (long)v;
			s1 += (double)v;
			s2 += (double)v * (double)v;
		}
		gsl_rng_free(r);
		double m = s1 / (double)n, se = sqrt(fmax(s2 / (double)n - m * m, 0) / (double)n);
		double expect = llmcap_dist_mean(d);
		double p = ks_discrete(x, n, d); /* sorts x */
		print_message("%-40.40s mean %9.2f (exact %9.2f +- %.2f), KS p = %.3f\n", cases[c].yaml,
			      m, expect, se, p);
		/* rounding to whole tokens moves a continuous law's mean by well under half a token */
		if (fabs(m - expect) > N_SE * se + 0.5)
			fail_msg("%s: mean %g, exact %g +- %g", cases[c].yaml, m, expect, se);
		if (!(p > P_MIN))
			fail_msg("%s: KS p = %g", cases[c].yaml, p);
		if (!isnan(cases[c].mean) && fabs(m - cases[c].mean) > N_SE * se + 0.5)
			fail_msg("%s: mean %g, asked %g", cases[c].yaml, m, cases[c].mean);
		if (!isnan(cases[c].p99)) {
			/* the share of samples at or below the asked p99 is 0.99 (binomial error) */
			size_t below = 0;
			while (below < n && (double)x[below] <= cases[c].p99)
				below++;
			double share = (double)below / (double)n;
			assert_true(fabs(share - 0.99) < N_SE * sqrt(0.99 * 0.01 / (double)n) + 1e-4);
		}
		llmcap_scenario_free(&sc);
	}
	free(x);
}

/* Independent checks of the forms whose CDF the library computes itself. */
static void zipf_histogram_and_trace_by_first_principles(void **state)
{
	(void)state;
	const size_t n = 200000;
	/* zipf on [1, 50], exponent 1.5: P(k) = k^-1.5 / sum, summed here directly */
	struct llmcap_dist z = {.kind = LLMCAP_DIST_ZIPF, .exponent = 1.5, .min = 1, .max = 50};
	double norm = 0;
	for (int k = 1; k <= 50; k++)
		norm += pow(k, -1.5);
	double count[51] = {0};
	gsl_rng *r = llmcap_rng_stream(7, "zipf");
	for (size_t i = 0; i < n; i++)
		count[llmcap_dist_sample(&z, r)]++;
	double chi2 = 0;
	for (int k = 1; k <= 50; k++) {
		double e = (double)n * pow(k, -1.5) / norm;
		chi2 += (count[k] - e) * (count[k] - e) / e;
	}
	print_message("zipf 1.5 on [1, 50]: chi2 %.1f, df 49, p = %.3f\n", chi2, gsl_cdf_chisq_Q(chi2, 49));
	assert_true(gsl_cdf_chisq_Q(chi2, 49) > P_MIN);
	/* histogram: bin frequencies follow the weights (chi-square, 2 df) */
	struct llmcap_dist h = {.kind = LLMCAP_DIST_HISTOGRAM, .n_bins = 3, .edges = {10, 20, 40, 100},
				.weights = {1, 2, 1}, .min = 1, .max = 1000};
	double bins[3] = {0};
	for (size_t i = 0; i < n; i++) {
		int64_t v = llmcap_dist_sample(&h, r);
		bins[v < 20 ? 0 : v < 40 ? 1 : 2]++;
		assert_true(v >= 10 && v < 100);
	}
	chi2 = 0;
	for (int b = 0; b < 3; b++) {
		double e = (double)n * h.weights[b] / 4;
		chi2 += (bins[b] - e) * (bins[b] - e) / e;
	}
	assert_true(gsl_cdf_chisq_Q(chi2, 2) > P_MIN);
	gsl_rng_free(r);

	/* trace: the mean of draws is the column's mean, read here with stdio */
	FILE *f = fopen(LLMCAP_SOURCE_DIR "/traces/data/azure2023_conv_first1000.csv", "r");
	assert_non_null(f);
	char line[256];
	double sum = 0, sum2 = 0, rows = 0;
	assert_non_null(fgets(line, sizeof line, f));
	while (fgets(line, sizeof line, f)) {
		long ctx, gen;
		assert_int_equal(sscanf(strchr(line, ',') + 1, "%ld,%ld", &ctx, &gen), 2);
		double g = gen < 1 ? 1 : (double)gen; /* min 1 */
		sum += g;
		sum2 += g * g;
		rows++;
	}
	fclose(f);
	const char *sets[] = {"workload.classes.utility.output={dist: trace, file: " LLMCAP_SOURCE_DIR
			      "/traces/data/azure2023_conv_first1000.csv, column: GeneratedTokens}"};
	struct llmcap_scenario sc;
	load(&sc, sets, 1);
	assert_int_equal(sc.workload.classes[0].output.n_data, 1000);
	assert_rel(llmcap_dist_mean(&sc.workload.classes[0].output), sum / rows, 1e-12);
	r = llmcap_rng_stream(9, "trace");
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)llmcap_dist_sample(&sc.workload.classes[0].output, r);
	double mean = sum / rows, sd = sqrt(sum2 / rows - mean * mean);
	assert_true(fabs(s / (double)n - mean) < N_SE * sd / sqrt((double)n));
	gsl_rng_free(r);
	llmcap_scenario_free(&sc);
}

/* Control: the KS test rejects a lognormal whose sigma is 5% off. */
static void length_test_rejects_a_wrong_sigma(void **state)
{
	(void)state;
	struct llmcap_dist d = {.kind = LLMCAP_DIST_LOGNORMAL, .median = 600, .sigma = 0.8, .min = 1,
				.max = 1 << 24};
	struct llmcap_dist wrong = d;
	wrong.sigma = 0.84;
	const size_t n = 100000;
	long *x = malloc(n * sizeof *x);
	gsl_rng *r = llmcap_rng_stream(1, "control");
	for (size_t i = 0; i < n; i++)
		x[i] = (long)llmcap_dist_sample(&d, r);
	assert_true(ks_discrete(x, n, &wrong) < 1e-6);
	assert_true(ks_discrete(x, n, &d) > P_MIN);
	gsl_rng_free(r);
	free(x);
}

/* A class whose prompt and output come from the same trace file draws them from one row. */
static void joint_trace_rows_keep_their_pairs(void **state)
{
	(void)state;
	const char *sets[] = {
		"workload.classes.utility.prompt={dist: trace, file: " LLMCAP_SOURCE_DIR
		"/traces/data/azure2023_conv_first1000.csv, column: ContextTokens}",
		"workload.classes.utility.output={dist: trace, file: " LLMCAP_SOURCE_DIR
		"/traces/data/azure2023_conv_first1000.csv, column: GeneratedTokens, max: 1000000}"};
	struct llmcap_scenario sc;
	load(&sc, sets, 2);
	const struct llmcap_class_cfg *cl = &sc.workload.classes[0];
	assert_true(llmcap_class_lengths_joint(cl));
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	/* every generated pair is a row; the trace's correlation (~0.2 in this sample) is kept */
	double sp = 0, so = 0, spp = 0, soo = 0, spo = 0;
	const int n = 50000;
	for (int i = 0; i < n; i++) {
		int64_t p, o;
		llmcap_workload_lengths(&wl, 0, &p, &o);
		bool found = false;
		for (size_t row = 0; row < cl->prompt.n_data && !found; row++)
			found = llmcap_dist_clamp(&cl->prompt, cl->prompt.data[row]) == p &&
				llmcap_dist_clamp(&cl->output, cl->output.data[row]) == o;
		assert_true(found);
		sp += (double)p, so += (double)o, spp += (double)p * (double)p;
		soo += (double)o * (double)o, spo += (double)p * (double)o;
	}
	double cov = spo / n - sp / n * so / n;
	double corr = cov / sqrt((spp / n - sp / n * sp / n) * (soo / n - so / n * so / n));
	/* the same statistic over the rows themselves */
	double rp = 0, ro = 0, rpp = 0, roo = 0, rpo = 0, m = (double)cl->prompt.n_data;
	for (size_t row = 0; row < cl->prompt.n_data; row++) {
		double p = (double)llmcap_dist_clamp(&cl->prompt, cl->prompt.data[row]);
		double o = (double)llmcap_dist_clamp(&cl->output, cl->output.data[row]);
		rp += p, ro += o, rpp += p * p, roo += o * o, rpo += p * o;
	}
	double rcorr = (rpo / m - rp / m * ro / m) /
		       sqrt((rpp / m - rp / m * rp / m) * (roo / m - ro / m * ro / m));
	/* drawn independently from the same columns, the pair would have correlation ~0 */
	double ip = 0, io = 0, ipp = 0, ioo = 0, ipo = 0;
	gsl_rng *r1 = llmcap_rng_stream(5, "a"), *r2 = llmcap_rng_stream(5, "b");
	for (int i = 0; i < n; i++) {
		double p = (double)llmcap_dist_sample(&cl->prompt, r1);
		double o = (double)llmcap_dist_sample(&cl->output, r2);
		ip += p, io += o, ipp += p * p, ioo += o * o, ipo += p * o;
	}
	gsl_rng_free(r1);
	gsl_rng_free(r2);
	double icorr = (ipo / n - ip / n * io / n) /
		       sqrt((ipp / n - ip / n * ip / n) * (ioo / n - io / n * io / n));
	print_message("joint trace: correlation %.4f (rows %.4f, independent draws %.4f)\n", corr,
		      rcorr, icorr);
	/* the standard error of a sample correlation is at most about 1 / sqrt(n) */
	assert_true(fabs(corr - rcorr) < N_SE / sqrt(n));
	assert_true(fabs(icorr) < N_SE / sqrt(n));
	assert_true(fabs(rcorr) > 2 * N_SE / sqrt(n)); /* so the check above can tell them apart */
	llmcap_workload_free(&wl);
	llmcap_scenario_free(&sc);
}

/* tokens_per_month is the rate that makes the classes' mean lengths come to that volume. */
static void tokens_per_month_sets_the_rate(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.tokens_per_month=7.5e9", "horizon=7d"};
	load(&sc, sets, 2);
	assert_true(isnan(sc.workload.rate));
	double tokens = 0;
	for (size_t c = 0; c < sc.workload.n_classes; c++)
		tokens += sc.workload.classes[c].share * (llmcap_dist_mean(&sc.workload.classes[c].prompt) +
							  llmcap_dist_mean(&sc.workload.classes[c].output));
	double rate = llmcap_scenario_mean_rate(&sc);
	assert_rel(rate, 7.5e9 / (tokens * 365.25 / 12 * 86400), 1e-12);
	/* the reference's 50,000/day comes to ~2.7B tokens/month, as the guide says */
	struct llmcap_scenario ref;
	load(&ref, NULL, 0);
	assert_rel(llmcap_scenario_tokens_per_request(&ref) * ref.workload.rate * 365.25 / 12 * 86400,
		   2.73e9, 0.01);
	/* generated over a week: a compound Poisson total, variance = E[N] E[X^2] */
	struct llmcap_traffic tr;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_traffic_generate(&sc, NULL, &tr, &err), 0);
	double ex2 = 0, total = 0;
	for (size_t c = 0; c < tr.n_classes; c++)
		for (int64_t i = 0; i < tr.classes[c].requests; i++) {
			double x = tr.classes[c].prompt[i] + tr.classes[c].output[i];
			ex2 += x * x;
			total += x;
		}
	ex2 /= (double)tr.requests;
	double T = 7 * 86400.0, expected = 7.5e9 * T / (365.25 / 12 * 86400);
	double se = sqrt(rate * T * ex2);
	print_message("tokens_per_month 7.5e9: %.4g tokens in a week, expected %.4g +- %.2g (%.3gB/month)\n",
		      total, expected, se, tr.tokens_per_month / 1e9);
	assert_true(fabs(total - expected) < N_SE * se);
	llmcap_traffic_free(&tr);
}

/* ---- profiles ---- */

static void profiles_have_mean_one_and_invert_exactly(void **state)
{
	(void)state;
	static const char *const shapes[] = {
		"workload.diurnal.shape=smooth", "workload.diurnal.weekend_factor=0.5",
		"workload.diurnal.shape=azure-code", "workload.diurnal.shape=azure-conv",
		"workload.diurnal.shape=servegen-m-large", "workload.diurnal.shape=servegen-m-mid",
		"workload.diurnal.shape=servegen-m-small", "workload.diurnal.shape=servegen-deepseek-r1",
		"workload.diurnal.shape=servegen-mm-image",
		"workload.diurnal={shape: table, hours: [1, 2, 3, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
		"1, 1, 1, 1, 1, 1, 1], days: [1, 1, 1, 1, 1, 0.2, 0.1]}",
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		struct llmcap_scenario sc;
		const char *sets[] = {shapes[i], "workload.start_day=wednesday"};
		load(&sc, sets, 2);
		struct llmcap_profile p;
		struct llmcap_error err = {0};
		assert_int_equal(llmcap_profile_init(&p, &sc.workload.diurnal, sc.workload.start_day, &err), 0);
		/* mean 1 over the period, summed independently every 10 seconds */
		double sum = 0, peak = 0;
		size_t steps = (size_t)(p.period / (10 * LLMCAP_SEC));
		for (size_t k = 0; k < steps; k++) {
			double v = llmcap_profile_value(&p, (llmcap_time)k * 10 * LLMCAP_SEC + 5 * LLMCAP_SEC);
			assert_true(v >= 0);
			sum += v;
			peak = fmax(peak, v);
		}
		assert_rel(sum / (double)steps, 1.0, 1e-6);
		assert_true(peak <= p.peak * (1 + 1e-12));
		assert_rel(llmcap_profile_period_integral(&p), (double)p.period * 1e-9, 1e-9);
		/* the inverse of the integral gives back the time (to a microsecond) */
		gsl_rng *r = llmcap_rng_stream(3, "inverse");
		for (int k = 0; k < 2000; k++) {
			llmcap_time t = (llmcap_time)(gsl_rng_uniform(r) * (double)p.period);
			if (llmcap_profile_value(&p, t) == 0)
				continue; /* the integral is flat there: any time in the gap is right */
			double x = llmcap_profile_integral_within(&p, t);
			llmcap_time back = llmcap_profile_inverse_within(&p, x);
			if (llabs(back - t) > LLMCAP_US)
				fail_msg("%s: inverse(integral(%lld)) = %lld", shapes[i], (long long)t,
					 (long long)back);
		}
		gsl_rng_free(r);
	}
	/* the weekday of time 0 rotates hour-of-week profiles: Friday start = Monday + 4 days */
	struct llmcap_scenario mon, fri;
	const char *m[] = {"workload.diurnal.shape=azure-code"};
	const char *f[] = {"workload.diurnal.shape=azure-code", "workload.start_day=friday"};
	load(&mon, m, 1);
	load(&fri, f, 2);
	struct llmcap_profile pm, pf;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_profile_init(&pm, &mon.workload.diurnal, mon.workload.start_day, &err), 0);
	assert_int_equal(llmcap_profile_init(&pf, &fri.workload.diurnal, fri.workload.start_day, &err), 0);
	for (int h = 0; h < 168; h++)
		assert_rel(llmcap_profile_value(&pf, h * LLMCAP_HOUR),
			   llmcap_profile_value(&pm, ((h + 96) % 168) * LLMCAP_HOUR), 1e-12);
	/* the Azure code week: weekends well below weekdays (-68% in the trace), peak ~19:00 UTC */
	double weekday = 0, weekend = 0;
	for (int h = 0; h < 168; h++)
		*(h < 120 ? &weekday : &weekend) += llmcap_profile_value(&pm, h * LLMCAP_HOUR);
	assert_true(weekend / 48 < 0.5 * weekday / 120);
	int best = 0;
	for (int h = 0; h < 24; h++)
		if (llmcap_profile_value(&pm, h * LLMCAP_HOUR) > llmcap_profile_value(&pm, best * LLMCAP_HOUR))
			best = h;
	assert_true(best >= 16 && best <= 21);
	/* weekend_factor w: weekend days at w x weekdays, mean 1 over the week */
	struct llmcap_scenario wk;
	const char *w[] = {"workload.diurnal.shape=none", "workload.diurnal.weekend_factor=0.25"};
	load(&wk, w, 2);
	struct llmcap_profile pw;
	assert_int_equal(llmcap_profile_init(&pw, &wk.workload.diurnal, 0, &err), 0);
	assert_rel(llmcap_profile_value(&pw, 0), 7 / 5.5, 1e-12);
	assert_rel(llmcap_profile_value(&pw, 5 * LLMCAP_DAY), 0.25 * 7 / 5.5, 1e-12);
}

/* A profile file: relative to the scenario file's folder, # comments, header, CRLF. */
/* The thinning's squeeze: the bounds of each quarter hour hold every value in it, as
 * computed (samples every 997 ms and both ends of every segment), and are tight enough to
 * decide almost every candidate (their gap, over the period, is a few percent of the peak). */
static void profile_bounds_hold_every_value(void **state)
{
	(void)state;
	static const char *const shapes[] = {
		"workload.diurnal.shape=smooth", "workload.diurnal.weekend_factor=0.5",
		"workload.diurnal={shape: smooth, peak_to_mean: 12, peak_hour: 0.1}",
		"workload.diurnal={shape: smooth, peak_to_mean: 1.2, peak_hour: 23.9}",
		"workload.diurnal.shape=azure-conv",
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		struct llmcap_scenario sc;
		const char *sets[] = {shapes[i], "workload.start_day=friday"};
		load(&sc, sets, 2);
		struct llmcap_profile p;
		struct llmcap_error err = {0};
		assert_int_equal(llmcap_profile_init(&p, &sc.workload.diurnal, sc.workload.start_day, &err), 0);
		double gap = 0;
		int64_t n_seg = p.period / LLMCAP_PROFILE_SEGMENT;
		for (int64_t g = 0; g < n_seg; g++) {
			double lo, hi;
			llmcap_profile_bounds(&p, g, &lo, &hi);
			assert_true(lo >= 0 && lo <= hi);
			gap += (hi - lo) / p.peak;
			const llmcap_time a = g * LLMCAP_PROFILE_SEGMENT, b = a + LLMCAP_PROFILE_SEGMENT - 1;
			for (llmcap_time t = a; t <= b; t += 997 * LLMCAP_MS) {
				double v = llmcap_profile_value(&p, t);
				if (!(v >= lo && v <= hi))
					fail_msg("%s: value %.17g at %lld ns outside [%.17g, %.17g]", shapes[i], v,
						 (long long)t, lo, hi);
			}
			double vb = llmcap_profile_value(&p, b);
			assert_true(vb >= lo && vb <= hi);
		}
		/* the share of candidates that still need the profile itself */
		assert_true(gap / (double)n_seg < 0.05);
		llmcap_scenario_free(&sc);
	}
}

static void profile_file_is_read_relative_to_the_scenario(void **state)
{
	(void)state;
	char dir[] = "/tmp/llmcap-prof-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], scen[256];
	snprintf(path, sizeof path, "%s/hours.csv", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "# my service, requests per hour\r\nhour,requests\r\n");
	for (int h = 0; h < 24; h++)
		fprintf(f, "%d,%d\r\n", h, h == 20 ? 480 : 120);
	fclose(f);
	snprintf(scen, sizeof scen, "%s/s.yaml", dir);
	f = fopen(scen, "w");
	fprintf(f, "workload:\n  diurnal: {shape: file, file: hours.csv}\n  classes: {c: {pool: p}}\n"
		   "hardware: {gpus_per_server: 1}\npools: {p: {model: llama-3.1-8b}}\n"
		   "cost: {api: {monthly_bill: 100}}\n");
	fclose(f);
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(&sc, scen, NULL, 0, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(sc.workload.diurnal.file, path);
	assert_int_equal(sc.workload.diurnal.n_file_hours, 24);
	struct llmcap_workload wl;
	assert_int_equal(llmcap_workload_init(&wl, &sc, &err), 0);
	/* 480 / mean(23 x 120 + 480) / 24 = 480 / 135 */
	assert_rel(llmcap_workload_profile(&wl, 20 * LLMCAP_HOUR + 1), 480.0 / 135, 1e-12);
	assert_rel(llmcap_workload_profile(&wl, 3 * LLMCAP_HOUR), 120.0 / 135, 1e-12);
	llmcap_workload_free(&wl);
	/* the resolved scenario names the file absolutely, so it loads from anywhere */
	char *text = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&text, &n);
	llmcap_scenario_write_yaml(&sc, m, false);
	fclose(m);
	assert_contains(text, path);
	struct llmcap_scenario back;
	assert_int_equal(load_text(text, &back, &err), 0);
	assert_int_equal(back.workload.diurnal.n_file_hours, 24);
	free(text);
	unlink(path);
	unlink(scen);
	rmdir(dir);
}

/* ---- bad parameters ---- */

static void bad_parameters_are_clear_errors(void **state)
{
	(void)state;
	static const struct {
		const char *set;
		const char *expect;
	} cases[] = {
		{"workload.rate=-5/day", "workload.rate: '-5/day' is not valid; expected a value > 0"},
		{"workload.gamma_cv=0", "workload.gamma_cv: '0' is not valid; expected a value > 0"},
		{"workload.gamma_cv=-1", "workload.gamma_cv: '-1' is not valid; expected a value > 0"},
		{"workload.classes.utility.gamma_cv=0", "workload.classes.utility.gamma_cv: '0' is not valid"},
		{"workload.arrival=shared", "workload.arrival: 'shared' is not valid; expected one of: poisson gamma mmpp"},
		{"workload.mmpp.burst_rate_factor=0.5", "burst_rate_factor: '0.5' is not valid; expected a value >= 1"},
		{"workload.mmpp.mean_calm=0s", "workload.mmpp.mean_calm: '0s' is not valid; expected a value > 0ns"},
		{"workload.classes.utility.prompt.sigma=-0.5",
		 "workload.classes.utility.prompt.sigma: '-0.5' is not valid; expected a value >= 0"},
		{"workload.classes.utility.prompt={dist: histogram, edges: [], weights: []}", "empty histogram"},
		{"workload.classes.utility.prompt={dist: histogram, edges: [1, 5], weights: [1, 2]}",
		 "2 edges and 2 weights; expected one edge more than weights"},
		{"workload.classes.utility.prompt={dist: histogram, edges: [1, 5, 3], weights: [1, 2]}",
		 "expected whole numbers of tokens in increasing order"},
		{"workload.classes.utility.prompt={dist: histogram, edges: [1, 5], weights: [-1]}",
		 "weights[0]: '-1' is not valid; expected a value >= 0"},
		{"workload.classes.utility.prompt={dist: histogram, edges: [1, 5], weights: [0]}",
		 "every weight is 0"},
		{"workload.classes.utility.prompt={dist: lognormal, mean: 1000, p99: 900}",
		 "p99 (900) must be above the mean (1000)"},
		{"workload.classes.utility.prompt={dist: lognormal, mean: 100, p99: 9000}",
		 "p99 / mean = 90; a lognormal reaches at most 14.97"},
		{"workload.classes.utility.prompt={dist: lognormal, mean: 100}", "needs 'mean' and 'p99'"},
		{"workload.classes.utility.prompt={dist: lognormal, median: 100, sigma: 1, mean: 50, p99: 90}",
		 "give median and sigma, or mean and p99, not both"},
		{"workload.classes.utility.prompt={dist: normal, mean: 100, sd: -1}",
		 "prompt.sd: '-1' is not valid; expected a value >= 0"},
		{"workload.classes.utility.prompt={dist: normal, mean: 100}", "needs 'mean' and 'sd'"},
		{"workload.classes.utility.prompt={dist: geometric, mean: 0.5}",
		 "prompt.mean: '0.5' is not valid; expected a value >= 1"},
		{"workload.classes.utility.prompt={dist: zipf, exponent: 0}",
		 "prompt.exponent: '0' is not valid; expected a value > 0"},
		{"workload.classes.utility.prompt={dist: trace, file: /nonexistent/t.csv, column: x}",
		 "prompt.file: cannot open '/nonexistent/t.csv': No such file or directory"},
		{"workload.classes.utility.prompt={dist: trace, file: " LLMCAP_SOURCE_DIR
		 "/traces/data/azure2023_conv_first1000.csv, column: Tokens}",
		 "no column 'Tokens'; expected one of the header's: TIMESTAMP, ContextTokens, GeneratedTokens"},
		{"workload.classes.utility.prompt={dist: trace, file: " LLMCAP_SOURCE_DIR
		 "/traces/data/azure2023_conv_first1000.csv}", "needs 'file' and 'column'"},
		{"workload.diurnal.hours=[1, 2, -3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]",
		 "workload.diurnal.hours[2]: '-3' is not valid; expected a value >= 0"},
		{"workload.diurnal.hours=[1, 2, 3]", "workload.diurnal.hours: 3 numbers; expected 24 or 168"},
		{"workload.diurnal.hours=[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
		 "every value is 0"},
		{"workload.diurnal.days=[1, 1, 1]", "workload.diurnal.days: 3 numbers; expected 7"},
		{"workload.diurnal.shape=table", "workload.diurnal.shape: table needs workload.diurnal.hours"},
		{"workload.diurnal.shape=file", "workload.diurnal.shape: file needs workload.diurnal.file"},
		{"workload.diurnal.file=/nonexistent/profile.csv",
		 "workload.diurnal.file: cannot open '/nonexistent/profile.csv'"},
		{"workload.diurnal.file=" LLMCAP_SOURCE_DIR "/traces/data/azure2023_conv_first1000.csv",
		 "azure2023_conv_first1000.csv:170: more than 168 rows"},
		{"workload.diurnal={days: [1, 1, 1, 1, 1, 0.5, 0.5], weekend_factor: 0.5}",
		 "days and weekend_factor both given"},
		{"workload.diurnal.weekend_factor=0", "weekend_factor: '0' is not valid; expected a value > 0"},
		{"workload.diurnal.shape=weekly", "expected one of: none smooth table file azure-code"},
		{"workload.tokens_per_month=-1", "workload.tokens_per_month: '-1' is not valid; expected a value > 0"},
		{"workload={rate: 5/s, tokens_per_month: 2.7e9}",
		 "workload.rate and workload.tokens_per_month are alternatives; expected one of them"},
		{"workload.rate=null", "workload.rate and workload.tokens_per_month are both null"},
		{"workload.start_day=someday", "expected one of: monday tuesday"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct llmcap_error err = {0};
		const char *sets[] = {cases[i].set};
		if (load_err(sets, 1, &err) == 0)
			fail_msg("--set %s was accepted", cases[i].set);
		assert_contains(err.msg, cases[i].expect);
	}
	/* a profile file with a negative value or of the wrong length names its line */
	char path[] = "/tmp/llmcap-profile-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "hour,rate\n0,1\n1,-2\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char set[128];
	snprintf(set, sizeof set, "workload.diurnal.file=%s", path);
	const char *sets[] = {set};
	struct llmcap_error err = {0};
	assert_true(load_err(sets, 1, &err) != 0);
	assert_contains(err.msg, ":3: rate -2 is negative");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "1\n2\n", 4), 4);
	close(fd);
	assert_true(load_err(sets, 1, &err) != 0);
	assert_contains(err.msg, ": 2 rows of rates; expected 24 (hour of day) or 168 (hour of week)");
	chmod(path, 0);
	if (access(path, R_OK) != 0) { /* root reads anything */
		assert_true(load_err(sets, 1, &err) != 0);
		assert_contains(err.msg, "Permission denied");
	}
	unlink(path);
	/* in a file, both alternatives at once are an error at their line */
	struct llmcap_scenario sc;
	assert_true(load_text("workload:\n  rate: 5/s\n  tokens_per_month: 2.7e9\n"
			      "  classes: {c: {pool: p}}\nhardware: {gpus_per_server: 1}\n"
			      "pools: {p: {model: llama-3.1-8b}}\ncost: {api: {monthly_bill: 1}}\n",
			      &sc, &err) != 0);
	assert_contains(err.msg, ":2:3: workload.rate and workload.tokens_per_month are alternatives");
	/* an override of one replaces the other */
	const char *over[] = {"workload.tokens_per_month=2.7e9", "workload.rate=60000/day"};
	load(&sc, over, 2);
	assert_true(isnan(sc.workload.tokens_per_month));
	assert_rel(sc.workload.rate, 60000.0 / 86400, 1e-15);
}

/* `llmcap workload --out`'s format: a header, then one request per line in time order, and
 * the same requests as the statistics count. */
static void workload_csv_lists_every_request(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=2h", "workload.classes.reasoning.arrival=gamma"};
	load(&sc, sets, 2);
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	struct llmcap_traffic tr;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_traffic_generate(&sc, f, &tr, &err), 0);
	fclose(f);
	assert_true(!strncmp(text, "arrival_s,class,prompt_tokens,output_tokens\n", 44));
	char *line = strchr(text, '\n') + 1, *next;
	int64_t rows = 0, per_class[2] = {0};
	double prev = 0;
	for (; *line; line = next) {
		next = strchr(line, '\n') + 1;
		double t;
		char cls[64];
		long p, o;
		assert_int_equal(sscanf(line, "%lf,%63[^,],%ld,%ld", &t, cls, &p, &o), 4);
		assert_true(t >= prev && t < 7200);
		assert_true(p >= 1 && o >= 1);
		prev = t;
		per_class[strcmp(cls, "utility") != 0]++;
		rows++;
	}
	assert_int_equal(rows, tr.requests);
	assert_int_equal(per_class[0], tr.classes[0].requests);
	assert_int_equal(per_class[1], tr.classes[1].requests);
	free(text);
	llmcap_traffic_free(&tr);
}

/* `llmcap workload` shows exactly the requests `llmcap run` simulates, per-class streams too. */
static void simulation_consumes_the_generated_requests(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=3h", "workload.arrival=gamma", "workload.gamma_cv=2",
			      "workload.classes.reasoning.arrival=mmpp"};
	load(&sc, sets, 4);
	struct llmcap_results res;
	struct llmcap_traffic tr;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_simulate(&sc, &cat, NULL, &res, &err), 0);
	assert_int_equal(llmcap_traffic_generate(&sc, NULL, &tr, &err), 0);
	for (size_t c = 0; c < 2; c++) {
		assert_int_equal(res.classes[c].arrived, tr.classes[c].requests);
		assert_rel(res.classes[c].prompt_tokens, tr.classes[c].prompt_tokens, 0);
		assert_rel(res.classes[c].output_tokens, tr.classes[c].output_tokens, 0);
	}
	for (size_t h = 0; h < 3; h++)
		assert_int_equal(res.arrivals_per_hour[h], tr.per_hour[h]);
	llmcap_results_free(&res);
	llmcap_traffic_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(poisson_gaps_are_exponential),
		cmocka_unit_test(gamma_gaps_have_the_asked_mean_and_cv),
		cmocka_unit_test(nonhomogeneous_counts_match_the_rate_integral),
		cmocka_unit_test(count_test_rejects_a_wrong_profile),
		cmocka_unit_test(mmpp_has_the_asked_mean_and_burstiness),
		cmocka_unit_test(reference_day_peak_hour_is_three_times_the_mean),
		cmocka_unit_test(class_streams_merge_in_time_order),
		cmocka_unit_test(streams_are_reproducible_and_do_not_share_draws),
		cmocka_unit_test(length_distributions_match_their_parameters),
		cmocka_unit_test(zipf_histogram_and_trace_by_first_principles),
		cmocka_unit_test(length_test_rejects_a_wrong_sigma),
		cmocka_unit_test(joint_trace_rows_keep_their_pairs),
		cmocka_unit_test(tokens_per_month_sets_the_rate),
		cmocka_unit_test(profiles_have_mean_one_and_invert_exactly),
		cmocka_unit_test(profile_bounds_hold_every_value),
		cmocka_unit_test(profile_file_is_read_relative_to_the_scenario),
		cmocka_unit_test(bad_parameters_are_clear_errors),
		cmocka_unit_test(workload_csv_lists_every_request),
		cmocka_unit_test(simulation_consumes_the_generated_requests),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

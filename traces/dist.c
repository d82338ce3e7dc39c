/* Token-length distributions: sampling, exact means and exact CDFs of what is sampled.
 *
 * Every form yields whole tokens in [min, max]. Continuous forms (lognormal, normal) are
 * rounded to the nearest token; lognormal, geometric, histogram and trace values outside
 * [min, max] are clamped onto the bounds (they stand for "at least/at most" in real traffic),
 * while normal and zipf are truncated to [min, max] (redrawn, by inversion, never piled on the
 * bounds), which is what "a truncated normal" and "a power law with a cap" mean.
 *
 * llmcap_dist_cdf is the exact distribution of llmcap_dist_sample's output (rounding and
 * clamping included), so that tests can compare samples with it by Kolmogorov-Smirnov.
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>

#include "llmcap/workload.h"

/* ---- zipf: P(k) ~ k^-s on [a, b], by rejection-inversion (Hormann and Derflinger 1996, as in
 * Apache Commons RNG's RejectionInversionZipfSampler), O(1) per draw for any b ---- */

/* log1p(x) / x and expm1(x) / x, accurate near 0 */
static double helper1(double x)
{
	return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double helper2(double x)
{
	return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x / 3.0 * (1 + 0.25 * x));
}

static double zipf_h(double x, double s)
{
	return exp(-s * log(x));
}

/* H(x) = (x^(1-s) - 1) / (1 - s), an antiderivative of h, and its inverse */
static double zipf_H(double x, double s)
{
	double lx = log(x);
	return helper2((1 - s) * lx) * lx;
}

static double zipf_Hinv(double x, double s)
{
	double t = x * (1 - s);
	if (t < -1)
		t = -1;
	return exp(helper1(t) * x);
}

static int64_t zipf_sample(int64_t a, int64_t b, double s, gsl_rng *r)
{
	/* h is convex, so the hat area of k, [H(k + 1/2) - h(k), H(k + 1/2)], lies inside
	 * [H(k - 1/2), H(k + 1/2)]: a uniform u over the union, mapped back through H^-1 and
	 * accepted when it falls in its k's hat, is exactly P(k) ~ h(k). */
	double lo = zipf_H((double)a + 0.5, s) - zipf_h((double)a, s);
	double hi = zipf_H((double)b + 0.5, s);
	for (;;) {
		double u = hi + llmcap_rng_uniform(r) * (lo - hi);
		double x = zipf_Hinv(u, s);
		int64_t k = (int64_t)(x + 0.5);
		if (k < a)
			k = a;
		else if (k > b)
			k = b;
		if (u >= zipf_H((double)k + 0.5, s) - zipf_h((double)k, s))
			return k;
	}
}

/* sum of k^-p for k in [a, b]: exact for the first 2,000 terms, then Euler-Maclaurin with two
 * correction terms (the remainder is below 1e-15 relative beyond k = 2,000) */
static double power_sum(int64_t a, int64_t b, double p)
{
	double sum = 0;
	int64_t k = a;
	for (; k <= b && k < a + 2000; k++)
		sum += pow((double)k, -p);
	if (k > b)
		return sum;
	double m = (double)k, n = (double)b, l = log(n / m);
	double integral = pow(m, 1 - p) * helper2((1 - p) * l) * l;
	double f1m = -p * pow(m, -p - 1), f1n = -p * pow(n, -p - 1);
	double f3m = -p * (p + 1) * (p + 2) * pow(m, -p - 3), f3n = -p * (p + 1) * (p + 2) * pow(n, -p - 3);
	return sum + integral + (pow(m, -p) + pow(n, -p)) / 2 + (f1n - f1m) / 12 - (f3n - f3m) / 720;
}

/* ---- truncated normal ---- */

/* P(a <= Z <= b) for a standard normal, without cancellation in either tail */
static double normal_mass(double a, double b)
{
	return a > 0 ? gsl_cdf_ugaussian_Q(a) - gsl_cdf_ugaussian_Q(b)
		     : gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a);
}

static double normal_sample(const struct llmcap_dist *d, gsl_rng *r)
{
	if (d->sd == 0)
		return d->mean;
	double a = ((double)d->min - d->mean) / d->sd, b = ((double)d->max - d->mean) / d->sd;
	double u = llmcap_rng_uniform(r), z;
	if (a > 0) /* both bounds in the upper tail: invert Q there */
		z = gsl_cdf_ugaussian_Qinv(gsl_cdf_ugaussian_Q(a) - u * normal_mass(a, b));
	else
		z = gsl_cdf_ugaussian_Pinv(gsl_cdf_ugaussian_P(a) + u * normal_mass(a, b));
	if (!(z >= a)) /* also NaN: all the mass is beyond double precision at a bound */
		z = a;
	if (z > b)
		z = b;
	return d->mean + d->sd * z;
}

/* ---- sampling ---- */

static int64_t clamp(const struct llmcap_dist *d, double v)
{
	if (!(v >= (double)d->min))
		return d->min;
	if (v > (double)d->max)
		return d->max;
	return (int64_t)v;
}

int64_t llmcap_dist_sample(const struct llmcap_dist *d, gsl_rng *r)
{
	return llmcap_dist_sample_ln(d, r, d->kind == LLMCAP_DIST_LOGNORMAL ? log(d->median) : 0);
}

int64_t llmcap_dist_sample_ln(const struct llmcap_dist *d, gsl_rng *r, double log_median)
{
	double x;
	switch (d->kind) {
	case LLMCAP_DIST_FIXED: return (int64_t)d->value;
	case LLMCAP_DIST_UNIFORM:
		return d->min + (int64_t)llmcap_rng_uniform_int(r, (unsigned long)(d->max - d->min + 1));
	case LLMCAP_DIST_LOGNORMAL:
		x = d->sigma > 0 ? llmcap_ran_lognormal(r, log_median, d->sigma) : d->median;
		return clamp(d, nearbyint(x));
	case LLMCAP_DIST_NORMAL: return clamp(d, nearbyint(normal_sample(d, r)));
	case LLMCAP_DIST_GEOMETRIC: return clamp(d, (double)gsl_ran_geometric(r, 1.0 / d->mean));
	case LLMCAP_DIST_ZIPF: return zipf_sample(d->min, d->max, d->exponent, r);
	case LLMCAP_DIST_HISTOGRAM: {
		double total = 0;
		for (size_t i = 0; i < d->n_bins; i++)
			total += d->weights[i];
		double u = llmcap_rng_uniform(r) * total, cum = 0;
		size_t i = 0;
		while (i + 1 < d->n_bins && (cum += d->weights[i]) <= u)
			i++;
		while (d->weights[i] == 0) /* u landed on a boundary next to empty bins */
			i = i > 0 ? i - 1 : i + 1;
		int64_t lo = (int64_t)d->edges[i], width = (int64_t)d->edges[i + 1] - lo;
		return clamp(d, (double)(lo + (int64_t)llmcap_rng_uniform_int(r, (unsigned long)width)));
	}
	case LLMCAP_DIST_TRACE:
		if (d->n_data == 0)
			return d->min;
		return clamp(d, d->data[llmcap_rng_uniform_int(r, d->n_data)]);
	}
	return 1;
}

int64_t llmcap_dist_clamp(const struct llmcap_dist *d, int64_t v)
{
	return clamp(d, (double)v);
}

/* ---- means ---- */

/* sum of clamp(v, m, M) over the integers v in [lo, hi] */
static double clamped_sum(double lo, double hi, double m, double M)
{
	double s = 0;
	if (lo < m)
		s += m * (fmin(hi, m - 1) - lo + 1);
	if (hi > M)
		s += M * (hi - fmax(lo, M + 1) + 1);
	double a = fmax(lo, m), b = fmin(hi, M);
	if (a <= b)
		s += (a + b) / 2 * (b - a + 1);
	return s;
}

double llmcap_dist_mean(const struct llmcap_dist *d)
{
	double lo = (double)d->min, hi = (double)d->max;
	switch (d->kind) {
	case LLMCAP_DIST_FIXED: return d->value;
	case LLMCAP_DIST_UNIFORM: return 0.5 * (lo + hi);
	case LLMCAP_DIST_LOGNORMAL: {
		if (d->sigma == 0)
			return fmin(fmax(d->median, lo), hi);
		/* E[clamp(X, lo, hi)] for X = exp(mu + sigma Z) */
		double mu = log(d->median), s = d->sigma;
		double a = (log(lo) - mu) / s, b = (log(hi) - mu) / s;
		double Phi_a = 0.5 * erfc(-a / sqrt(2)), Phi_b = 0.5 * erfc(-b / sqrt(2));
		double mid = exp(mu + s * s / 2) *
			     (0.5 * erfc(-(b - s) / sqrt(2)) - 0.5 * erfc(-(a - s) / sqrt(2)));
		return lo * Phi_a + mid + hi * (1 - Phi_b);
	}
	case LLMCAP_DIST_NORMAL: {
		if (d->sd == 0)
			return d->mean;
		double a = (lo - d->mean) / d->sd, b = (hi - d->mean) / d->sd, z = normal_mass(a, b);
		if (!(z > 0))
			return a > 0 ? lo : hi;
		return d->mean + d->sd * (gsl_ran_ugaussian_pdf(a) - gsl_ran_ugaussian_pdf(b)) / z;
	}
	case LLMCAP_DIST_GEOMETRIC: {
		/* E[clamp(K, lo, hi)] = lo + sum_{k=lo}^{hi-1} P(K > k), P(K > k) = q^k */
		double p = 1.0 / d->mean, q = 1 - p;
		return p >= 1 ? lo : lo + (pow(q, lo) - pow(q, hi)) / p;
	}
	case LLMCAP_DIST_ZIPF:
		return power_sum(d->min, d->max, d->exponent - 1) / power_sum(d->min, d->max, d->exponent);
	case LLMCAP_DIST_HISTOGRAM: {
		double total = 0, s = 0;
		for (size_t i = 0; i < d->n_bins; i++) {
			double a = d->edges[i], b = d->edges[i + 1] - 1;
			total += d->weights[i];
			s += d->weights[i] * clamped_sum(a, b, lo, hi) / (b - a + 1);
		}
		return s / total;
	}
	case LLMCAP_DIST_TRACE: {
		double s = 0;
		for (size_t i = 0; i < d->n_data; i++)
			s += (double)clamp(d, d->data[i]);
		return d->n_data ? s / (double)d->n_data : NAN;
	}
	}
	return NAN;
}

/* ---- CDFs ---- */

double llmcap_dist_cdf(const struct llmcap_dist *d, int64_t k)
{
	/* Inside [min, max), clamping does not change P(X <= k): only the bounds collect mass. */
	if (d->kind == LLMCAP_DIST_FIXED)
		return k >= (int64_t)d->value ? 1.0 : 0.0;
	if (k < d->min)
		return 0.0;
	if (k >= d->max)
		return 1.0;
	double x = (double)k;
	switch (d->kind) {
	case LLMCAP_DIST_FIXED: break;
	case LLMCAP_DIST_UNIFORM: return (x - (double)d->min + 1) / ((double)(d->max - d->min) + 1);
	case LLMCAP_DIST_LOGNORMAL:
		/* rounding to nearest: the sample is <= k when X < k + 1/2 */
		if (d->sigma == 0)
			return nearbyint(d->median) <= x ? 1.0 : 0.0;
		return gsl_cdf_ugaussian_P((log(x + 0.5) - log(d->median)) / d->sigma);
	case LLMCAP_DIST_NORMAL: {
		if (d->sd == 0)
			return nearbyint(d->mean) <= x ? 1.0 : 0.0;
		double a = ((double)d->min - d->mean) / d->sd, b = ((double)d->max - d->mean) / d->sd;
		double z = normal_mass(a, b);
		if (!(z > 0))
			return a > 0 ? 1.0 : 0.0;
		return normal_mass(a, (x + 0.5 - d->mean) / d->sd) / z;
	}
	case LLMCAP_DIST_GEOMETRIC: return -expm1(x * log1p(-1.0 / d->mean));
	case LLMCAP_DIST_ZIPF:
		return power_sum(d->min, k, d->exponent) / power_sum(d->min, d->max, d->exponent);
	case LLMCAP_DIST_HISTOGRAM: {
		double total = 0, below = 0;
		for (size_t i = 0; i < d->n_bins; i++) {
			double a = d->edges[i], width = d->edges[i + 1] - a;
			total += d->weights[i];
			below += d->weights[i] * fmin(fmax((x - a + 1) / width, 0.0), 1.0);
		}
		return below / total;
	}
	case LLMCAP_DIST_TRACE: {
		size_t n = 0;
		for (size_t i = 0; i < d->n_data; i++)
			n += d->data[i] <= k;
		return d->n_data ? (double)n / (double)d->n_data : NAN;
	}
	}
	return NAN;
}

/* Rate profiles: the multiplier of the mean rate at each instant, its integral and the inverse
 * of its integral (for exact time-rescaled renewal processes). See include/llmcap/workload.h. */
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/workload.h"

/* The built-in profiles, compiled in from models/profiles/ (see meson.build). */
extern const char llmcap_builtin_profile_azure_code[];
extern const char llmcap_builtin_profile_azure_conv[];
extern const char llmcap_builtin_profile_servegen_m_large[];
extern const char llmcap_builtin_profile_servegen_m_mid[];
extern const char llmcap_builtin_profile_servegen_m_small[];
extern const char llmcap_builtin_profile_servegen_deepseek_r1[];
extern const char llmcap_builtin_profile_servegen_mm_image[];

const char *llmcap_builtin_profile(enum llmcap_diurnal_shape shape)
{
	switch (shape) {
	case LLMCAP_DIURNAL_AZURE_CODE: return llmcap_builtin_profile_azure_code;
	case LLMCAP_DIURNAL_AZURE_CONV: return llmcap_builtin_profile_azure_conv;
	case LLMCAP_DIURNAL_SERVEGEN_M_LARGE: return llmcap_builtin_profile_servegen_m_large;
	case LLMCAP_DIURNAL_SERVEGEN_M_MID: return llmcap_builtin_profile_servegen_m_mid;
	case LLMCAP_DIURNAL_SERVEGEN_M_SMALL: return llmcap_builtin_profile_servegen_m_small;
	case LLMCAP_DIURNAL_SERVEGEN_DEEPSEEK_R1: return llmcap_builtin_profile_servegen_deepseek_r1;
	case LLMCAP_DIURNAL_SERVEGEN_MM_IMAGE: return llmcap_builtin_profile_servegen_mm_image;
	default: return NULL;
	}
}

int llmcap_profile_parse(const char *text, const char *name, double *hours, size_t *n_hours,
			 struct llmcap_error *err)
{
	size_t n = 0;
	int line = 0;
	bool first = true;
	double sum = 0;
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char buf[512];
		line++;
		if (len >= sizeof buf)
			return llmcap_errorf(err, LLMCAP_EINVAL, "%s:%d: line longer than %zu characters",
					     name, line, sizeof buf - 1);
		memcpy(buf, p, len);
		buf[len] = '\0';
		p = end ? end + 1 : p + len;
		while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			buf[--len] = '\0';
		const char *s = buf;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		const char *comma = strrchr(s, ',');
		const char *field = comma ? comma + 1 : s;
		while (*field == ' ' || *field == '\t')
			field++;
		double v;
		if (llmcap_parse_double(field, &v) != 0) {
			if (first) { /* a header line */
				first = false;
				continue;
			}
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s:%d: '%s' is not a number; expected a rate >= 0 as the "
					     "last field of each row", name, line, field);
		}
		first = false;
		if (!(v >= 0))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s:%d: rate %g is negative; expected a rate >= 0", name, line, v);
		if (n == LLMCAP_HOURS_PER_WEEK)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s:%d: more than %d rows; expected 24 (hour of day) or 168 "
					     "(hour of week)", name, line, LLMCAP_HOURS_PER_WEEK);
		hours[n++] = v;
		sum += v;
	}
	if (n != 24 && n != LLMCAP_HOURS_PER_WEEK)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: %zu rows of rates; expected 24 (hour of day) or 168 (hour of week)",
				     name, n);
	if (!(sum > 0))
		return llmcap_errorf(err, LLMCAP_EINVAL, "%s: every rate is 0; expected a positive one",
				     name);
	*n_hours = n;
	return 0;
}

/* ---- the smooth curve ---- */

static double kappa_residual(double k, void *params)
{
	/* exp(k) / I0(k) = 1 / I0_scaled(k) */
	double target = *(const double *)params;
	return -log(gsl_sf_bessel_I0_scaled(k)) - log(target);
}

double llmcap_diurnal_kappa(double peak_to_mean)
{
	if (peak_to_mean <= 1.0)
		return 0.0;
	/* exp(k)/I0(k) grows like sqrt(2 pi k), so k < peak^2 bounds the root. */
	double lo = 0.0, hi = fmax(10.0, peak_to_mean * peak_to_mean);
	gsl_function fn = {kappa_residual, &peak_to_mean};
	gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
	double k = 0.5 * (lo + hi);
	if (!s)
		return NAN;
	gsl_root_fsolver_set(s, &fn, lo, hi);
	for (int it = 0; it < 200; it++) {
		gsl_root_fsolver_iterate(s);
		k = gsl_root_fsolver_root(s);
		lo = gsl_root_fsolver_x_lower(s);
		hi = gsl_root_fsolver_x_upper(s);
		if (gsl_root_test_interval(lo, hi, 0, 1e-14) == GSL_SUCCESS)
			break;
	}
	gsl_root_fsolver_free(s);
	return k;
}

/* The daily curve at t ns into a day. The expression is the one llmcap has always used, so
 * that the reference scenario draws the same arrivals bit for bit. */
static double smooth_at(const struct llmcap_profile *p, llmcap_time t)
{
	double hours = (double)(t % LLMCAP_DAY) / (double)LLMCAP_HOUR;
	double theta = 2.0 * M_PI * (hours - p->peak_hour) / 24.0;
	/* exp(k cos) / I0(k) = exp(k (cos - 1)) / I0_scaled(k): no overflow for large k */
	return exp(p->kappa * (cos(theta) - 1.0)) / p->i0s;
}

static double smooth_at_s(const struct llmcap_profile *p, double s)
{
	double theta = 2.0 * M_PI * (s / 3600.0 - p->peak_hour) / 24.0;
	return exp(p->kappa * (cos(theta) - 1.0)) / p->i0s;
}

/* integral of the daily curve over [a, b] seconds, b - a <= 60: 5-point Gauss-Legendre (the
 * curve is entire; its error on a minute is far below 1e-15 relative) */
static double smooth_segment(const struct llmcap_profile *p, double a, double b)
{
	static const double x[5] = {0.0, -0.5384693101056831, 0.5384693101056831,
				    -0.9061798459386640, 0.9061798459386640};
	static const double w[5] = {0.5688888888888889, 0.4786286704993665, 0.4786286704993665,
				    0.2369268850561891, 0.2369268850561891};
	double c = 0.5 * (a + b), h = 0.5 * (b - a), s = 0;
	for (int i = 0; i < 5; i++)
		s += w[i] * smooth_at_s(p, c + h * x[i]);
	return s * h;
}

/* integral of the daily curve from midnight to s seconds, s in [0, 86400] */
static double smooth_integral(const struct llmcap_profile *p, double s)
{
	size_t m = (size_t)(s / 60.0);
	if (m >= LLMCAP_PROFILE_KNOTS - 1)
		m = LLMCAP_PROFILE_KNOTS - 2;
	return p->knots[m] + smooth_segment(p, 60.0 * (double)m, s);
}

/* the s in [0, 86400] where the daily integral reaches y: the minute by bisection over the
 * knots, then Newton inside it (the derivative is the curve itself), kept in a shrinking bracket
 * so that it cannot diverge where the curve is nearly 0 */
static double smooth_inverse(const struct llmcap_profile *p, double y)
{
	size_t lo = 0, hi = LLMCAP_PROFILE_KNOTS - 1;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (p->knots[mid] <= y)
			lo = mid;
		else
			hi = mid;
	}
	double start = 60.0 * (double)lo, a = start, b = start + 60.0, base = p->knots[lo];
	double width = p->knots[lo + 1] - base;
	double s = width > 0 ? start + fmin(fmax((y - base) / width, 0.0), 1.0) * 60.0 : start;
	for (int it = 0; it < 100 && b - a > 1e-10; it++) {
		double f = base + smooth_segment(p, start, s) - y;
		if (fabs(f) < 1e-12)
			break;
		if (f > 0)
			b = s;
		else
			a = s;
		double next = s - f / smooth_at_s(p, s);
		s = (next > a && next < b) ? next : 0.5 * (a + b);
	}
	return s;
}

/* ---- building a profile ---- */

static void normalise(double *v, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	for (size_t i = 0; i < n; i++)
		v[i] *= (double)n / sum;
}

int llmcap_profile_init(struct llmcap_profile *p, const struct llmcap_diurnal_cfg *cfg,
			int start_day, struct llmcap_error *err)
{
	memset(p, 0, sizeof *p);
	/* day-of-week factors, Monday first, then rotated so that index 0 is simulated day 0 */
	double days[7] = {1, 1, 1, 1, 1, 1, 1}, week[7];
	bool weekly = false;
	if (cfg->n_days == 7) {
		memcpy(days, cfg->days, sizeof days);
		weekly = true;
	} else if (cfg->weekend_factor != 1.0) {
		days[5] = days[6] = cfg->weekend_factor;
		weekly = true;
	}
	normalise(days, 7);
	for (int d = 0; d < 7; d++)
		week[d] = days[(d + start_day) % 7];

	double hours[LLMCAP_HOURS_PER_WEEK];
	size_t n_hours = 0;
	const char *builtin = llmcap_builtin_profile(cfg->shape);
	switch (cfg->shape) {
	case LLMCAP_DIURNAL_NONE:
		if (!weekly) {
			p->kind = LLMCAP_PROFILE_FLAT;
			p->period = LLMCAP_DAY;
			p->peak = 1.0;
			return 0;
		}
		for (size_t h = 0; h < 24; h++)
			hours[h] = 1.0;
		n_hours = 24;
		break;
	case LLMCAP_DIURNAL_SMOOTH:
		if (!(cfg->peak_to_mean > 1.0) && !weekly) {
			p->kind = LLMCAP_PROFILE_FLAT;
			p->period = LLMCAP_DAY;
			p->peak = 1.0;
			return 0;
		}
		p->kind = LLMCAP_PROFILE_SMOOTH;
		p->kappa = llmcap_diurnal_kappa(cfg->peak_to_mean);
		if (isnan(p->kappa))
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory solving the diurnal curve");
		p->i0s = gsl_sf_bessel_I0_scaled(p->kappa);
		p->peak_hour = cfg->peak_hour;
		p->weekly = weekly;
		p->period = weekly ? 7 * LLMCAP_DAY : LLMCAP_DAY;
		double max_day = 0;
		for (int d = 0; d < 7; d++) {
			p->day[d] = week[d];
			max_day = fmax(max_day, week[d]);
		}
		p->peak = 1.0 / p->i0s * (weekly ? max_day : 1.0);
		p->knots[0] = 0;
		for (size_t m = 1; m < LLMCAP_PROFILE_KNOTS; m++)
			p->knots[m] = p->knots[m - 1] + smooth_segment(p, 60.0 * (double)(m - 1), 60.0 * (double)m);
		p->day_integral = p->knots[LLMCAP_PROFILE_KNOTS - 1];
		return 0;
	case LLMCAP_DIURNAL_TABLE:
		n_hours = cfg->n_hours;
		memcpy(hours, cfg->hours, n_hours * sizeof hours[0]);
		break;
	case LLMCAP_DIURNAL_FILE:
		n_hours = cfg->n_file_hours;
		memcpy(hours, cfg->file_hours, n_hours * sizeof hours[0]);
		break;
	default:
		if (!builtin || llmcap_profile_parse(builtin, llmcap_diurnal_shape_name(cfg->shape), hours,
						     &n_hours, err) != 0)
			return llmcap_errorf(err, LLMCAP_EINVAL, "built-in profile %s is broken",
					     llmcap_diurnal_shape_name(cfg->shape));
		break;
	}
	if (n_hours != 24 && n_hours != LLMCAP_HOURS_PER_WEEK)
		return llmcap_errorf(err, LLMCAP_EINVAL, "diurnal profile of %zu hours; expected 24 or 168",
				     n_hours);
	/* Steps of an hour. An hour-of-week table is Monday first: rotate it to simulated time. */
	p->kind = LLMCAP_PROFILE_STEPS;
	if (n_hours == 24 && !weekly) {
		p->n = 24;
		memcpy(p->v, hours, 24 * sizeof hours[0]);
	} else {
		p->n = LLMCAP_HOURS_PER_WEEK;
		for (size_t i = 0; i < LLMCAP_HOURS_PER_WEEK; i++) {
			size_t monday_hour = (i + 24 * (size_t)start_day) % LLMCAP_HOURS_PER_WEEK;
			p->v[i] = hours[monday_hour % n_hours];
		}
		normalise(p->v, p->n); /* the hours alone, then the days on top */
		for (size_t i = 0; i < LLMCAP_HOURS_PER_WEEK; i++)
			p->v[i] *= week[i / 24];
	}
	normalise(p->v, p->n);
	p->period = (llmcap_time)p->n * LLMCAP_HOUR;
	p->cum[0] = 0;
	p->peak = 0;
	for (size_t i = 0; i < p->n; i++) {
		p->cum[i + 1] = p->cum[i] + p->v[i] * 3600.0;
		p->peak = fmax(p->peak, p->v[i]);
	}
	return 0;
}

double llmcap_profile_value(const struct llmcap_profile *p, llmcap_time t)
{
	switch (p->kind) {
	case LLMCAP_PROFILE_FLAT: return 1.0;
	case LLMCAP_PROFILE_SMOOTH: {
		double v = smooth_at(p, t);
		return p->weekly ? v * p->day[(t / LLMCAP_DAY) % 7] : v;
	}
	case LLMCAP_PROFILE_STEPS: return p->v[(size_t)((t % p->period) / LLMCAP_HOUR)];
	}
	return 1.0;
}

void llmcap_profile_bounds(const struct llmcap_profile *p, int64_t seg, double *lo, double *hi)
{
	const llmcap_time a = seg * LLMCAP_PROFILE_SEGMENT, b = a + LLMCAP_PROFILE_SEGMENT - 1;
	if (p->kind != LLMCAP_PROFILE_SMOOTH) {
		/* flat, or constant within each hour (a segment lies within one) */
		*lo = *hi = llmcap_profile_value(p, a);
		return;
	}
	/* The daily curve is monotone between its peak and its trough (12 h apart): over
	 * [a, b] it lies between its values at the ends and at a peak or trough inside. */
	double va = smooth_at(p, a), vb = smooth_at(p, b);
	double l = fmin(va, vb), h = fmax(va, vb);
	const double ha = (double)(a % LLMCAP_DAY) / (double)LLMCAP_HOUR,
		     hb = (double)(b % LLMCAP_DAY) / (double)LLMCAP_HOUR;
	for (int k = -1; k <= 2; k++) {
		double x = p->peak_hour + 12.0 * k; /* k even: a peak, odd: a trough */
		if (x >= ha && x <= hb) {
			double v = exp(p->kappa * ((k % 2 ? -1.0 : 1.0) - 1.0)) / p->i0s;
			l = fmin(l, v);
			h = fmax(h, v);
		}
	}
	if (p->weekly) {
		double d = p->day[(a / LLMCAP_DAY) % 7];
		l *= d;
		h *= d;
	}
	/* the values as computed (cos, exp and the products each within an ulp or so, the
	 * exponent's error growing with kappa) stay within this margin of the real curve */
	const double margin = 1e-9 * (1.0 + p->kappa);
	*lo = l * (1.0 - margin);
	*hi = h * (1.0 + margin);
}

double llmcap_profile_period_integral(const struct llmcap_profile *p)
{
	switch (p->kind) {
	case LLMCAP_PROFILE_FLAT: return (double)p->period * 1e-9;
	case LLMCAP_PROFILE_SMOOTH: return p->weekly ? 7 * p->day_integral : p->day_integral;
	case LLMCAP_PROFILE_STEPS: return p->cum[p->n];
	}
	return NAN;
}

double llmcap_profile_integral_within(const struct llmcap_profile *p, llmcap_time t)
{
	switch (p->kind) {
	case LLMCAP_PROFILE_FLAT: return (double)t * 1e-9;
	case LLMCAP_PROFILE_SMOOTH: {
		size_t d = (size_t)(t / LLMCAP_DAY);
		double s = 0;
		for (size_t i = 0; i < d; i++)
			s += p->day[i] * p->day_integral;
		double in_day = smooth_integral(p, (double)(t % LLMCAP_DAY) * 1e-9);
		return s + (p->weekly ? p->day[d] : 1.0) * in_day;
	}
	case LLMCAP_PROFILE_STEPS: {
		size_t i = (size_t)(t / LLMCAP_HOUR);
		if (i >= p->n)
			return p->cum[p->n];
		return p->cum[i] + p->v[i] * (double)(t - (llmcap_time)i * LLMCAP_HOUR) * 1e-9;
	}
	}
	return NAN;
}

double llmcap_profile_integral(const struct llmcap_profile *p, llmcap_time t)
{
	int64_t periods = t / p->period;
	return (double)periods * llmcap_profile_period_integral(p) +
	       llmcap_profile_integral_within(p, t - periods * p->period);
}

llmcap_time llmcap_profile_inverse_within(const struct llmcap_profile *p, double x)
{
	double s;
	switch (p->kind) {
	case LLMCAP_PROFILE_FLAT: s = x; break;
	case LLMCAP_PROFILE_SMOOTH: {
		size_t d = 0;
		double w = p->weekly ? p->day[0] : 1.0;
		if (p->weekly)
			while (d < 6 && (!(p->day[d] > 0) || x >= p->day[d] * p->day_integral)) {
				x -= p->day[d] * p->day_integral;
				d++;
				w = p->day[d];
			}
		double y = fmin(fmax(x / w, 0.0), p->day_integral);
		s = 86400.0 * (double)d + smooth_inverse(p, y);
		break;
	}
	case LLMCAP_PROFILE_STEPS: {
		/* the last step whose cumulative start is <= x, skipping empty hours */
		size_t lo = 0, hi = p->n;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (p->cum[mid] <= x)
				lo = mid;
			else
				hi = mid;
		}
		while (lo + 1 < p->n && !(p->v[lo] > 0))
			lo++;
		double in = p->v[lo] > 0 ? (x - p->cum[lo]) / p->v[lo] : 0.0;
		s = 3600.0 * (double)lo + fmin(fmax(in, 0.0), 3600.0);
		break;
	}
	default: s = x;
	}
	llmcap_time t = (llmcap_time)llround(s * 1e9);
	return t < p->period ? t : p->period - 1;
}

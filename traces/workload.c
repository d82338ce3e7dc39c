/* Synthetic workload generator. See include/llmcap/workload.h. */
#include "llmcap/workload.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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

int llmcap_workload_init(struct llmcap_workload *wl, const struct llmcap_scenario *sc,
			 struct llmcap_error *err)
{
	memset(wl, 0, sizeof *wl);
	wl->rate = sc->workload.rate;
	wl->diurnal = sc->workload.diurnal.shape == LLMCAP_DIURNAL_SMOOTH &&
		      sc->workload.diurnal.peak_to_mean > 1.0;
	wl->kappa = wl->diurnal ? llmcap_diurnal_kappa(sc->workload.diurnal.peak_to_mean) : 0.0;
	wl->peak = wl->diurnal ? 1.0 / gsl_sf_bessel_I0_scaled(wl->kappa) : 1.0;
	wl->peak_hour = sc->workload.diurnal.peak_hour;
	wl->arrivals = llmcap_rng_stream(sc->seed, "arrivals");
	wl->mix = llmcap_rng_stream(sc->seed, "class-mix");
	wl->n_classes = sc->workload.n_classes;
	double total = 0;
	for (size_t c = 0; c < wl->n_classes; c++)
		total += sc->workload.classes[c].share;
	double cum = 0;
	for (size_t c = 0; c < wl->n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		char name[LLMCAP_NAME_MAX + 16];
		cum += cl->share / total;
		wl->cum_share[c] = cum;
		wl->prompt[c] = cl->prompt;
		wl->output[c] = cl->output;
		snprintf(name, sizeof name, "prompt/%s", cl->name);
		wl->prompt_rng[c] = llmcap_rng_stream(sc->seed, name);
		snprintf(name, sizeof name, "output/%s", cl->name);
		wl->output_rng[c] = llmcap_rng_stream(sc->seed, name);
		if (!wl->prompt_rng[c] || !wl->output_rng[c])
			goto nomem;
	}
	if (wl->n_classes)
		wl->cum_share[wl->n_classes - 1] = 1.0; /* no gap from rounding */
	if (!wl->arrivals || !wl->mix || isnan(wl->kappa))
		goto nomem;
	return 0;
nomem:
	llmcap_workload_free(wl);
	return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory creating random streams");
}

void llmcap_workload_free(struct llmcap_workload *wl)
{
	gsl_rng_free(wl->arrivals);
	gsl_rng_free(wl->mix);
	for (size_t c = 0; c < wl->n_classes; c++) {
		gsl_rng_free(wl->prompt_rng[c]);
		gsl_rng_free(wl->output_rng[c]);
	}
	memset(wl, 0, sizeof *wl);
}

double llmcap_workload_profile(const struct llmcap_workload *wl, llmcap_time t)
{
	if (!wl->diurnal)
		return 1.0;
	double hours = (double)(t % LLMCAP_DAY) / (double)LLMCAP_HOUR;
	double theta = 2.0 * M_PI * (hours - wl->peak_hour) / 24.0;
	/* exp(k cos) / I0(k) = exp(k (cos - 1)) / I0_scaled(k): no overflow for large k */
	return exp(wl->kappa * (cos(theta) - 1.0)) / gsl_sf_bessel_I0_scaled(wl->kappa);
}

llmcap_time llmcap_workload_next_arrival(struct llmcap_workload *wl)
{
	double peak_rate = wl->rate * wl->peak;
	for (;;) {
		double gap_s = gsl_ran_exponential(wl->arrivals, 1.0 / peak_rate);
		wl->now += (llmcap_time)llround(gap_s * 1e9);
		if (!wl->diurnal)
			return wl->now;
		double u = gsl_rng_uniform(wl->arrivals);
		if (u * wl->peak < llmcap_workload_profile(wl, wl->now))
			return wl->now;
	}
}

size_t llmcap_workload_pick_class(struct llmcap_workload *wl)
{
	double u = gsl_rng_uniform(wl->mix);
	size_t c = 0;
	while (c + 1 < wl->n_classes && u >= wl->cum_share[c])
		c++;
	return c;
}

int64_t llmcap_dist_sample(const struct llmcap_dist *d, gsl_rng *r)
{
	double x;
	switch (d->kind) {
	case LLMCAP_DIST_FIXED: return (int64_t)d->value;
	case LLMCAP_DIST_UNIFORM:
		return d->min + (int64_t)gsl_rng_uniform_int(r, (unsigned long)(d->max - d->min + 1));
	case LLMCAP_DIST_LOGNORMAL:
		x = d->sigma > 0 ? gsl_ran_lognormal(r, log(d->median), d->sigma) : d->median;
		break;
	default: return 1;
	}
	double v = nearbyint(x);
	if (v < (double)d->min)
		return d->min;
	if (v > (double)d->max)
		return d->max;
	return (int64_t)v;
}

void llmcap_workload_lengths(struct llmcap_workload *wl, size_t cls, int64_t *prompt,
			     int64_t *output)
{
	*prompt = llmcap_dist_sample(&wl->prompt[cls], wl->prompt_rng[cls]);
	*output = llmcap_dist_sample(&wl->output[cls], wl->output_rng[cls]);
}

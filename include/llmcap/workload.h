/* Synthetic workload: arrival times, the class mix and per-class token lengths.
 *
 * Arrivals are Poisson with rate mean x profile(t). With a diurnal profile the process is
 * non-homogeneous and generated exactly by thinning (Lewis & Shedler): candidates at the peak
 * rate, each kept with probability profile(t) / peak. The smooth profile is a von Mises curve,
 *   profile(t) = exp(k cos(2 pi (hour(t) - peak_hour) / 24)) / I0(k),
 * whose mean over a day is exactly 1 and whose maximum is exp(k) / I0(k) = peak_to_mean.
 *
 * Streams: "arrivals" (times), "class-mix" (which class), "prompt/<class>" and
 * "output/<class>" (lengths). Each is its own GSL generator seeded from the scenario seed.
 */
#ifndef LLMCAP_WORKLOAD_H
#define LLMCAP_WORKLOAD_H

#include "llmcap/scenario.h"

struct llmcap_workload {
	double rate;      /* mean requests/s */
	double peak;      /* max of the profile (1 when flat) */
	double kappa;     /* von Mises concentration */
	double peak_hour;
	bool diurnal;
	llmcap_time now;  /* time of the last arrival drawn */
	gsl_rng *arrivals, *mix;
	size_t n_classes;
	double cum_share[LLMCAP_MAX_CLASSES];
	struct llmcap_dist prompt[LLMCAP_MAX_CLASSES], output[LLMCAP_MAX_CLASSES];
	gsl_rng *prompt_rng[LLMCAP_MAX_CLASSES], *output_rng[LLMCAP_MAX_CLASSES];
};

int llmcap_workload_init(struct llmcap_workload *wl, const struct llmcap_scenario *sc,
			 struct llmcap_error *err);
void llmcap_workload_free(struct llmcap_workload *wl);

/* The von Mises concentration k with exp(k) / I0(k) = peak_to_mean (>= 1). */
double llmcap_diurnal_kappa(double peak_to_mean);
/* Rate multiplier at simulated time t (mean 1 over a day). */
double llmcap_workload_profile(const struct llmcap_workload *wl, llmcap_time t);
/* Draws the next arrival time after the previous one (starting at 0). */
llmcap_time llmcap_workload_next_arrival(struct llmcap_workload *wl);
/* Draws a class index from the class mix. */
size_t llmcap_workload_pick_class(struct llmcap_workload *wl);
/* Draws prompt and output lengths (tokens, >= 1) for a class. */
void llmcap_workload_lengths(struct llmcap_workload *wl, size_t cls, int64_t *prompt,
			     int64_t *output);
int64_t llmcap_dist_sample(const struct llmcap_dist *d, gsl_rng *r);

#endif

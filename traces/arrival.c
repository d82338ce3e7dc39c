/* The arrival processes of synthetic streams, a table llmcap_arrival_processes indexed by
 * enum llmcap_arrival_kind (arrival.h). Adding a process: its functions and a row here, and its
 * name in LLMCAP_STREAM_ARRIVALS (spec.h); workload.c draws every stream through its row. */
#include "arrival.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>

/* Thinning against a piecewise-constant envelope (Lewis and Shedler): within each quarter
 * hour (LLMCAP_PROFILE_SEGMENT) candidates come at the rate times the profile's upper bound
 * there (llmcap_profile_bounds), and each is kept with probability profile(t) / bound; a
 * candidate at or past the segment's end is dropped and the exponential restarted at the end
 * (memorylessness makes that exact). The bounds are close over a quarter hour, so an arrival
 * takes ~1.03 candidates, where an envelope at the day's peak took ~3 at 3x peaks; the lower
 * bound decides almost every candidate without evaluating the profile (cos, exp).
 * seg_end: sets the current segment's bounds and returns its end. */
static llmcap_time seg_end(struct llmcap_stream *st)
{
	int64_t seg = st->now / LLMCAP_PROFILE_SEGMENT;
	if (seg != st->seg) {
		st->seg = seg;
		llmcap_profile_bounds(&st->profile, seg, &st->seg_lo, &st->seg_hi);
	}
	return (seg + 1) * LLMCAP_PROFILE_SEGMENT;
}

/* Whether the candidate at t (in the current segment) is kept, u uniform on [0, 1). */
static bool keep(struct llmcap_stream *st, llmcap_time t, double u)
{
	double y = u * st->seg_hi;
	return y < st->seg_lo || y < llmcap_profile_value(&st->profile, t);
}

/* The candidate a gap of gap_s seconds after now, or -1 where it reaches lim. */
static llmcap_time candidate(llmcap_time now, double gap_s, llmcap_time lim)
{
	double ns = gap_s * 1e9;
	if (!(ns < (double)(lim - now)))
		return -1;
	llmcap_time t = now + llmcap_round_time(ns);
	return t < lim ? t : -1;
}

/* The next arrival before lim of a Poisson stream at rate x factor x profile(t), by thinning
 * within each segment (above); -1, with now at lim, where none comes before it. A flat
 * profile is its own envelope. */
static llmcap_time thin(struct llmcap_stream *st, double factor, llmcap_time lim)
{
	const bool flat = st->profile.kind == LLMCAP_PROFILE_FLAT;
	for (;;) {
		const llmcap_time end = flat ? INT64_MAX : seg_end(st);
		const double hi = flat ? st->profile.peak : st->seg_hi;
		const llmcap_time until = end < lim ? end : lim;
		llmcap_time t = -1; /* none where the segment has no traffic */
		if (hi > 0) {
			const double gap_s = llmcap_ran_exponential(st->rng, 1.0 / (st->rate * hi * factor));
			t = candidate(st->now, gap_s, until);
		}
		if (t < 0) {
			st->now = until;
			if (until == lim)
				return -1;
			continue;
		}
		st->now = t;
		if (flat || keep(st, t, llmcap_rng_uniform(st->rng)))
			return t;
	}
}

static llmcap_time next_poisson(struct llmcap_stream *st)
{
	const llmcap_time t = thin(st, 1.0, INT64_MAX);
	return t < 0 ? INT64_MAX : t;
}

/* Renewal epochs of mean 1 / rate in operational time, mapped back through the profile's
 * integral; with a flat profile that is the plain Gamma renewal process. */
static llmcap_time next_gamma(struct llmcap_stream *st)
{
	double k = 1.0 / (st->cv * st->cv), theta = st->cv * st->cv / st->rate;
	double gap = gsl_ran_gamma(st->rng, k, theta);
	if (st->profile.kind == LLMCAP_PROFILE_FLAT) {
		st->now += llmcap_round_time(gap * 1e9);
		return st->now;
	}
	double per = llmcap_profile_period_integral(&st->profile);
	st->rem += gap;
	while (st->rem >= per) {
		st->rem -= per;
		st->periods++;
	}
	llmcap_time t = st->periods * st->profile.period +
			llmcap_profile_inverse_within(&st->profile, st->rem);
	if (t > st->now) /* the inverse is monotone up to rounding to whole nanoseconds */
		st->now = t;
	return st->now;
}

/* Thinning within each calm or burst sojourn (and each segment of the profile): at the switch
 * the state changes and the next sojourn is drawn. */
static llmcap_time next_mmpp(struct llmcap_stream *st)
{
	for (;;) {
		const llmcap_time t = thin(st, st->factor[st->state], st->switch_at);
		if (t >= 0)
			return t;
		st->state ^= 1;
		st->switch_at += (llmcap_time)llround(
			llmcap_ran_exponential(st->state_rng, st->mean_s[st->state]) * 1e9);
	}
}

/* The calm/burst state: its own random stream NAME/state, started in the stationary
 * distribution (sojourns are memoryless). */
static int init_mmpp(struct llmcap_stream *st, const struct llmcap_mmpp_cfg *mm, uint64_t seed,
		     const char *name, struct llmcap_error *err)
{
	char state_name[LLMCAP_NAME_MAX + 32];
	/* c_calm (1 - pi) + c_burst pi = 1 with c_burst = B c_calm, pi the burst share of time */
	st->mean_s[0] = (double)mm->mean_calm * 1e-9;
	st->mean_s[1] = (double)mm->mean_burst * 1e-9;
	double pi = st->mean_s[1] / (st->mean_s[0] + st->mean_s[1]);
	st->factor[0] = 1.0 / (1.0 - pi + pi * mm->burst_rate_factor);
	st->factor[1] = st->factor[0] * mm->burst_rate_factor;
	snprintf(state_name, sizeof state_name, "%s/state", name);
	st->state_rng = llmcap_rng_stream(seed, state_name);
	if (!st->state_rng)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory creating random streams");
	/* start in the stationary distribution; sojourns are memoryless */
	st->state = llmcap_rng_uniform(st->state_rng) < pi;
	st->switch_at = (llmcap_time)llround(
		llmcap_ran_exponential(st->state_rng, st->mean_s[st->state]) * 1e9);
	return 0;
}

const struct llmcap_arrival_row llmcap_arrival_processes[LLMCAP_STREAM_ARRIVAL_COUNT] = {
	[LLMCAP_ARRIVAL_POISSON] = {.next = next_poisson},
	[LLMCAP_ARRIVAL_GAMMA] = {.next = next_gamma},
	[LLMCAP_ARRIVAL_MMPP] = {.init = init_mmpp, .next = next_mmpp},
};

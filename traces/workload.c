/* Synthetic workload generator. See include/llmcap/workload.h. */
#include "llmcap/workload.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int stream_init(struct llmcap_stream *st, int cls, const char *name, double rate,
		       enum llmcap_arrival_kind kind, double cv, const struct llmcap_mmpp_cfg *mm,
		       const struct llmcap_diurnal_cfg *diurnal, const struct llmcap_scenario *sc,
		       struct llmcap_error *err)
{
	char state_name[LLMCAP_NAME_MAX + 32];
	st->kind = kind;
	st->cls = cls;
	st->rate = rate;
	st->cv = cv;
	st->seg = -1; /* no bounds yet */
	int rc = llmcap_profile_init(&st->profile, diurnal, sc->workload.start_day, err);
	if (rc)
		return rc;
	st->rng = llmcap_rng_stream(sc->seed, name);
	if (!st->rng)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory creating random streams");
	if (kind == LLMCAP_ARRIVAL_MMPP) {
		/* c_calm (1 - pi) + c_burst pi = 1 with c_burst = B c_calm, pi the burst share of time */
		st->mean_s[0] = (double)mm->mean_calm * 1e-9;
		st->mean_s[1] = (double)mm->mean_burst * 1e-9;
		double pi = st->mean_s[1] / (st->mean_s[0] + st->mean_s[1]);
		st->factor[0] = 1.0 / (1.0 - pi + pi * mm->burst_rate_factor);
		st->factor[1] = st->factor[0] * mm->burst_rate_factor;
		snprintf(state_name, sizeof state_name, "%s/state", name);
		st->state_rng = llmcap_rng_stream(sc->seed, state_name);
		if (!st->state_rng)
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory creating random streams");
		/* start in the stationary distribution; sojourns are memoryless */
		st->state = llmcap_rng_uniform(st->state_rng) < pi;
		st->switch_at = (llmcap_time)llround(
			llmcap_ran_exponential(st->state_rng, st->mean_s[st->state]) * 1e9);
	}
	return 0;
}

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

static llmcap_time stream_next(struct llmcap_stream *st)
{
	switch (st->kind) {
	case LLMCAP_ARRIVAL_GAMMA: return next_gamma(st);
	case LLMCAP_ARRIVAL_MMPP: return next_mmpp(st);
	default: return next_poisson(st);
	}
}

/* Draws the trace's next row ahead into row_next (with its own copy of the hash ids). */
static llmcap_time trace_next(struct llmcap_workload *wl)
{
	struct llmcap_replay_row row;
	int got = wl->trace_rc ? 0 : llmcap_replay_next(wl->replay, &row, &wl->trace_err);
	if (got <= 0) {
		if (got < 0)
			wl->trace_rc = got;
		return INT64_MAX;
	}
	int b = wl->ids_next;
	if (row.n_hash_ids > wl->ids_cap[b]) {
		uint64_t *n = realloc(wl->ids[b], row.n_hash_ids * sizeof *n);
		if (!n) {
			wl->trace_rc = llmcap_errorf(&wl->trace_err, LLMCAP_ENOMEM, "out of memory");
			return INT64_MAX;
		}
		wl->ids[b] = n;
		wl->ids_cap[b] = row.n_hash_ids;
	}
	if (row.n_hash_ids)
		memcpy(wl->ids[b], row.hash_ids, row.n_hash_ids * sizeof *wl->ids[b]);
	row.hash_ids = wl->ids[b];
	wl->row_next = row;
	return row.t;
}

int llmcap_workload_init(struct llmcap_workload *wl, const struct llmcap_scenario *sc,
			 struct llmcap_error *err)
{
	memset(wl, 0, sizeof *wl);
	const double rate = llmcap_scenario_mean_rate(sc);
	wl->n_classes = sc->workload.n_classes;
	double total = 0, shared = 0;
	size_t n_own = 0;
	for (size_t c = 0; c < wl->n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		total += cl->share;
		if (cl->arrival == LLMCAP_ARRIVAL_SHARED) {
			shared += cl->share;
			wl->shared_class[wl->n_shared++] = c;
		} else {
			n_own++;
		}
	}
	wl->streams = calloc(n_own + 1, sizeof *wl->streams);
	wl->mix = llmcap_rng_stream(sc->seed, "class-mix");
	if (!wl->streams || !wl->mix)
		goto nomem;
	int rc = 0;
	if (wl->n_shared && sc->workload.trace.file[0]) {
		/* the shared classes' arrivals come from the trace; own streams stay synthetic and
		 * are merged with it in time order */
		struct llmcap_stream *st = &wl->streams[wl->n_streams++];
		st->trace = true;
		st->cls = -1;
		rc = llmcap_replay_open(&wl->replay, sc, err);
		if (rc == 0) {
			const struct llmcap_replay_stats *rs = llmcap_replay_stats(wl->replay);
			st->rate = rs->trace_rate * rs->speedup;
		}
	} else if (wl->n_shared)
		rc = stream_init(&wl->streams[wl->n_streams++], -1, "arrivals",
				 shared == total ? rate : rate * shared / total,
				 sc->workload.arrival, sc->workload.gamma_cv, &sc->workload.mmpp,
				 &sc->workload.diurnal, sc, err);
	double cum = 0;
	for (size_t i = 0; i < wl->n_shared; i++) {
		cum += sc->workload.classes[wl->shared_class[i]].share / shared;
		wl->cum_share[i] = cum;
	}
	if (wl->n_shared)
		wl->cum_share[wl->n_shared - 1] = 1.0; /* no gap from rounding */
	for (size_t c = 0; c < wl->n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		char name[LLMCAP_NAME_MAX + 16];
		if (rc == 0 && cl->arrival != LLMCAP_ARRIVAL_SHARED) {
			snprintf(name, sizeof name, "arrivals/%s", cl->name);
			rc = stream_init(&wl->streams[wl->n_streams++], (int)c, name,
					 rate * cl->share / total, cl->arrival, cl->gamma_cv, &cl->mmpp,
					 &cl->diurnal, sc, err);
		}
		wl->prompt[c] = cl->prompt;
		wl->output[c] = cl->output;
		wl->prompt_ln[c] = cl->prompt.kind == LLMCAP_DIST_LOGNORMAL ? log(cl->prompt.median) : 0;
		wl->output_ln[c] = cl->output.kind == LLMCAP_DIST_LOGNORMAL ? log(cl->output.median) : 0;
		wl->joint[c] = llmcap_class_lengths_joint(cl);
		snprintf(name, sizeof name, "prompt/%s", cl->name);
		wl->prompt_rng[c] = llmcap_rng_stream(sc->seed, name);
		snprintf(name, sizeof name, "output/%s", cl->name);
		wl->output_rng[c] = llmcap_rng_stream(sc->seed, name);
		if (!wl->prompt_rng[c] || !wl->output_rng[c])
			goto nomem;
	}
	if (rc) {
		llmcap_workload_free(wl);
		return rc;
	}
	for (size_t i = 0; i < wl->n_streams; i++)
		wl->streams[i].next = wl->streams[i].trace ? trace_next(wl) : stream_next(&wl->streams[i]);
	return 0;
nomem:
	llmcap_workload_free(wl);
	return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory creating random streams");
}

void llmcap_workload_free(struct llmcap_workload *wl)
{
	for (size_t i = 0; wl->streams && i < wl->n_streams; i++) {
		gsl_rng_free(wl->streams[i].rng);
		gsl_rng_free(wl->streams[i].state_rng);
	}
	free(wl->streams);
	gsl_rng_free(wl->mix);
	llmcap_replay_close(wl->replay);
	free(wl->ids[0]);
	free(wl->ids[1]);
	for (size_t c = 0; c < wl->n_classes; c++) {
		gsl_rng_free(wl->prompt_rng[c]);
		gsl_rng_free(wl->output_rng[c]);
	}
	memset(wl, 0, sizeof *wl);
}

double llmcap_workload_profile(const struct llmcap_workload *wl, llmcap_time t)
{
	return wl->n_streams ? llmcap_profile_value(&wl->streams[0].profile, t) : 1.0;
}

llmcap_time llmcap_workload_next_arrival(struct llmcap_workload *wl)
{
	size_t best = 0;
	for (size_t i = 1; i < wl->n_streams; i++)
		if (wl->streams[i].next < wl->streams[best].next)
			best = i;
	struct llmcap_stream *st = &wl->streams[best];
	llmcap_time t = st->next;
	if (st->trace) {
		/* the returned row keeps its buffer; the next row is drawn into the other one */
		wl->row_cur = wl->row_next;
		wl->ids_next ^= 1;
		st->next = trace_next(wl);
	} else {
		st->next = stream_next(st);
	}
	wl->pending = best;
	return t;
}

size_t llmcap_workload_hash_ids(const struct llmcap_workload *wl, const uint64_t **ids)
{
	if (!wl->n_streams || !wl->streams[wl->pending].trace || !wl->row_cur.n_hash_ids) {
		*ids = NULL;
		return 0;
	}
	*ids = wl->row_cur.hash_ids;
	return wl->row_cur.n_hash_ids;
}

int llmcap_workload_error(const struct llmcap_workload *wl, struct llmcap_error *err)
{
	if (wl->trace_rc && err)
		*err = wl->trace_err;
	return wl->trace_rc;
}

size_t llmcap_workload_pick_class(struct llmcap_workload *wl)
{
	const struct llmcap_stream *st = &wl->streams[wl->pending];
	if (st->cls >= 0)
		return (size_t)st->cls;
	if (st->trace && wl->row_cur.cls >= 0)
		return (size_t)wl->row_cur.cls; /* assign: column or rule */
	double u = llmcap_rng_uniform(wl->mix);
	size_t c = 0;
	while (c + 1 < wl->n_shared && u >= wl->cum_share[c])
		c++;
	return wl->shared_class[c];
}

void llmcap_workload_lengths(struct llmcap_workload *wl, size_t cls, int64_t *prompt,
			     int64_t *output)
{
	if (wl->n_streams && wl->streams[wl->pending].trace) {
		*prompt = wl->row_cur.prompt;
		*output = wl->row_cur.output;
		return;
	}
	if (wl->joint[cls] && wl->prompt[cls].n_data > 0) {
		/* one row of the trace for both: the pair keeps the trace's correlation */
		size_t row = llmcap_rng_uniform_int(wl->prompt_rng[cls], wl->prompt[cls].n_data);
		*prompt = llmcap_dist_clamp(&wl->prompt[cls], wl->prompt[cls].data[row]);
		*output = llmcap_dist_clamp(&wl->output[cls], wl->output[cls].data[row]);
		return;
	}
	*prompt = llmcap_dist_sample_ln(&wl->prompt[cls], wl->prompt_rng[cls], wl->prompt_ln[cls]);
	*output = llmcap_dist_sample_ln(&wl->output[cls], wl->output_rng[cls], wl->output_ln[cls]);
}

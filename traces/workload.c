/* Synthetic workload generator: streams merged in time order, the class mix, lengths. The
 * arrival processes themselves are rows of llmcap_arrival_processes (arrival.c). See
 * include/llmcap/workload.h. */
#include "llmcap/workload.h"

#include <assert.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrival.h"

static int stream_init(struct llmcap_stream *st, int cls, const char *name, double rate,
		       enum llmcap_arrival_kind kind, double cv, const struct llmcap_mmpp_cfg *mm,
		       const struct llmcap_diurnal_cfg *diurnal, const struct llmcap_scenario *sc,
		       struct llmcap_error *err)
{
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
	const struct llmcap_arrival_row *row = &llmcap_arrival_processes[kind];
	assert(row->next && "a row of llmcap_arrival_processes for every process");
	if (row->init)
		return row->init(st, mm, sc->seed, name, err);
	return 0;
}

/* The stream's next arrival, by its process's row. */
static llmcap_time stream_next(struct llmcap_stream *st)
{
	return llmcap_arrival_processes[st->kind].next(st);
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

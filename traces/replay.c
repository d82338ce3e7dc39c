/* Trace replay into simulated time, and `llmcap trace stats`. See include/llmcap/trace.h and
 * docs/traces.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/trace.h"

/* A row of the window as replayed (fill: loop keeps the first copy's rows in memory). */
struct cached_row {
	llmcap_time t; /* trace time */
	int64_t prompt, output;
	int cls;
	size_t ids, n_ids; /* offset and count in cache_ids */
};

/* The parsed window kept for fill: loop, at most this many bytes: past it, later copies are
 * read and parsed again (bounded memory whatever the window). */
#define CACHE_MAX_BYTES ((size_t)64 << 20)

struct llmcap_replay {
	const struct llmcap_scenario *sc;
	const struct llmcap_trace_cfg *cfg;
	struct llmcap_trace_reader rd;
	llmcap_time base, stop;  /* the window in trace time: [base, stop) */
	int64_t copy;
	bool done;
	/* fill: loop: the first copy's rows, recorded while caching and replayed once cached */
	struct cached_row *cache;
	size_t n_cache, cap_cache;
	uint64_t *cache_ids;
	size_t n_cache_ids, cap_cache_ids;
	bool caching, cached;
	size_t cursor;
	int model_cls[LLMCAP_TRACE_MODELS_MAX];
	int default_cls, long_cls;
	struct llmcap_replay_stats st;
};

static int class_index(const struct llmcap_scenario *sc, const char *name)
{
	for (size_t c = 0; c < sc->workload.n_classes; c++)
		if (!strcmp(sc->workload.classes[c].name, name))
			return (int)c;
	return -1;
}

/* The row's class: -1 for "by share", -2 when the class column names no class. */
static int row_class(const struct llmcap_replay *rp, const struct llmcap_trace_row *row)
{
	const struct llmcap_trace_cfg *cfg = rp->cfg;
	switch (cfg->assign) {
	case LLMCAP_ASSIGN_RULE:
		return row->prompt > cfg->long_prompt_tokens ? rp->long_cls : rp->default_cls;
	case LLMCAP_ASSIGN_COLUMN:
		for (size_t i = 0; i < cfg->n_models; i++)
			if (!strcmp(cfg->models[i].name, row->cls))
				return rp->model_cls[i];
		{
			int c = class_index(rp->sc, row->cls);
			if (c >= 0 && rp->sc->workload.classes[c].arrival == LLMCAP_ARRIVAL_SHARED)
				return c;
		}
		return rp->default_cls >= 0 ? rp->default_cls : -2;
	default:
		return -1;
	}
}

/* Lengths as replayed: at least 1 token each (a server emits at least one), within the caps. */
static void lengths(const struct llmcap_trace_cfg *cfg, const struct llmcap_trace_row *row,
		    int64_t *prompt, int64_t *output, bool *raised, bool *capped)
{
	*prompt = row->prompt > 0 ? row->prompt : 1;
	*output = row->output > 0 ? row->output : 1;
	*raised = row->prompt == 0 || row->output == 0;
	*capped = false;
	if (cfg->max_prompt > 0 && *prompt > cfg->max_prompt) {
		*prompt = cfg->max_prompt;
		*capped = true;
	}
	if (cfg->max_output > 0 && *output > cfg->max_output) {
		*output = cfg->max_output;
		*capped = true;
	}
}

int llmcap_replay_open(struct llmcap_replay **out, const struct llmcap_scenario *sc,
		       struct llmcap_error *err)
{
	const struct llmcap_trace_cfg *cfg = &sc->workload.trace;
	struct llmcap_replay *rp = calloc(1, sizeof *rp);
	if (!rp)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	rp->sc = sc;
	rp->cfg = cfg;
	rp->default_cls = cfg->cls[0] ? class_index(sc, cfg->cls) : -1;
	rp->long_cls = class_index(sc, cfg->long_prompt_class);
	if (cfg->assign == LLMCAP_ASSIGN_RULE && rp->default_cls < 0)
		for (size_t c = 0; c < sc->workload.n_classes && rp->default_cls < 0; c++)
			if (sc->workload.classes[c].arrival == LLMCAP_ARRIVAL_SHARED)
				rp->default_cls = (int)c;
	for (size_t i = 0; i < cfg->n_models; i++)
		rp->model_cls[i] = class_index(sc, cfg->models[i].cls);
	int rc = llmcap_trace_open(&rp->rd, cfg->file, cfg, err);
	if (rc) {
		free(rp);
		return rc;
	}
	struct llmcap_replay_stats *st = &rp->st;
	snprintf(st->file, sizeof st->file, "%s", cfg->file);
	st->format = rp->rd.fmt;

	/* First pass: every bad row is met (and, by default, stops here, before any simulation),
	 * and the window's rows and rate are known. */
	struct llmcap_trace_row row;
	bool first = true;
	llmcap_time first_in = 0, last_in = 0;
	int64_t unmapped = 0;
	rp->stop = INT64_MAX;
	while ((rc = llmcap_trace_next(&rp->rd, &row, err)) > 0) {
		if (first) {
			/* a window past the last representable time (2262-04-11) holds no row */
			if (__builtin_add_overflow(row.t, cfg->start, &rp->base))
				rp->base = INT64_MAX;
			if (cfg->end > 0 && __builtin_add_overflow(row.t, cfg->end, &rp->stop))
				rp->stop = INT64_MAX;
			first = false;
		}
		if (row.t < rp->base || row.t >= rp->stop) {
			st->outside++;
			continue;
		}
		if (row_class(rp, &row) == -2) {
			if (cfg->bad_rows == LLMCAP_BAD_ROWS_FAIL) {
				rc = llmcap_errorf(err, LLMCAP_EINVAL,
						   "%s:%ld: bad row (class column value with no class): '%s' is "
						   "neither in workload.trace.models nor a class with arrival: "
						   "shared; expected a mapping (workload.trace.models.NAME.class), "
						   "workload.trace.class for the rest, or bad_rows: skip",
						   cfg->file, row.line, row.cls);
				break;
			}
			unmapped++;
			continue;
		}
		int64_t p, o;
		bool raised, capped;
		lengths(cfg, &row, &p, &o, &raised, &capped);
		st->counts.raised += raised;
		st->counts.capped += capped;
		/* offsets are signed nanosecond counts, and a window's period is its last offset
		 * plus a mean gap: rows from 1970 to 2262 each fit, that sum does not */
		llmcap_time offset;
		if (__builtin_sub_overflow(row.t, rp->base, &offset) || offset > INT64_MAX / 2) {
			rc = llmcap_errorf(err, LLMCAP_EINVAL,
					   "%s:%ld: this row is more than 146 years after the replay "
					   "window's start; expected a trace spanning less (or "
					   "workload.trace.end to cut it)", cfg->file, row.line);
			break;
		}
		if (st->window_rows == 0)
			first_in = row.t;
		last_in = row.t;
		st->window_rows++;
	}
	if (rc < 0) {
		llmcap_replay_close(rp);
		return rc;
	}
	int64_t raised = st->counts.raised, capped = st->counts.capped;
	st->counts = rp->rd.counts;
	st->counts.rows -= unmapped;
	st->counts.bad[LLMCAP_BAD_UNMAPPED_CLASS] = unmapped;
	st->counts.raised = raised;
	st->counts.capped = capped;
	if (st->window_rows == 0) {
		llmcap_replay_close(rp);
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: no rows to replay%s; expected at least one row inside "
				     "workload.trace.start and end", cfg->file,
				     first ? " (the file has none)" : " in the window");
	}
	/* One copy of the window lasts end - start; without an end, up to its last row plus one
	 * mean gap, so that looped copies keep the trace's rate across the seam. */
	if (cfg->end > 0) {
		st->period = cfg->end - cfg->start;
	} else {
		llmcap_time gap = st->window_rows > 1 ? (last_in - first_in) / (st->window_rows - 1) : 0;
		st->period = last_in - rp->base + (gap > 0 ? gap : LLMCAP_SEC);
	}
	st->trace_rate = (double)st->window_rows / ((double)st->period * 1e-9);
	st->speedup = isnan(cfg->rate) ? cfg->speedup : cfg->rate / st->trace_rate;
	rc = llmcap_trace_rewind(&rp->rd, err);
	if (rc) {
		llmcap_replay_close(rp);
		return rc;
	}
	st->copies = 1;
	rp->caching = cfg->fill == LLMCAP_FILL_LOOP;
	*out = rp;
	return 0;
}

void llmcap_replay_close(struct llmcap_replay *rp)
{
	if (!rp)
		return;
	llmcap_trace_close(&rp->rd);
	free(rp->cache);
	free(rp->cache_ids);
	free(rp);
}

static void cache_drop(struct llmcap_replay *rp)
{
	free(rp->cache);
	free(rp->cache_ids);
	rp->cache = NULL;
	rp->cache_ids = NULL;
	rp->n_cache = rp->cap_cache = rp->n_cache_ids = rp->cap_cache_ids = 0;
	rp->caching = false;
}

/* Records a replayed row of the first copy; gives up the cache (without error: the copies are
 * then read again) when it would pass CACHE_MAX_BYTES or memory runs out. */
static void cache_add(struct llmcap_replay *rp, llmcap_time t, const struct llmcap_replay_row *out)
{
	size_t bytes = (rp->n_cache + 1) * sizeof *rp->cache +
		       (rp->n_cache_ids + out->n_hash_ids) * sizeof *rp->cache_ids;
	if (bytes > CACHE_MAX_BYTES) {
		cache_drop(rp);
		return;
	}
	if (rp->n_cache == rp->cap_cache) {
		size_t cap = rp->cap_cache ? 2 * rp->cap_cache : 1024;
		struct cached_row *c = realloc(rp->cache, cap * sizeof *c);
		if (!c) {
			cache_drop(rp);
			return;
		}
		rp->cache = c;
		rp->cap_cache = cap;
	}
	if (rp->n_cache_ids + out->n_hash_ids > rp->cap_cache_ids) {
		size_t cap = rp->cap_cache_ids ? 2 * rp->cap_cache_ids : 1024;
		while (cap < rp->n_cache_ids + out->n_hash_ids)
			cap *= 2;
		uint64_t *c = realloc(rp->cache_ids, cap * sizeof *c);
		if (!c) {
			cache_drop(rp);
			return;
		}
		rp->cache_ids = c;
		rp->cap_cache_ids = cap;
	}
	if (out->n_hash_ids)
		memcpy(rp->cache_ids + rp->n_cache_ids, out->hash_ids,
		       out->n_hash_ids * sizeof *rp->cache_ids);
	rp->cache[rp->n_cache++] = (struct cached_row){.t = t, .prompt = out->prompt,
						      .output = out->output, .cls = out->cls,
						      .ids = rp->n_cache_ids, .n_ids = out->n_hash_ids};
	rp->n_cache_ids += out->n_hash_ids;
}

/* A row's time in simulated time: its copy's start plus its offset in the window. */
static llmcap_time replay_time(const struct llmcap_replay *rp, llmcap_time t)
{
	llmcap_time offset;
	if (__builtin_mul_overflow(rp->copy, rp->st.period, &offset) ||
	    __builtin_add_overflow(offset, t - rp->base, &offset)) /* t - base: < 2^62, checked */
		return INT64_MAX; /* so many copies: past any horizon */
	if (rp->st.speedup == 1.0)
		return offset;
	/* a target rate far below the trace's makes the scaled time overflow: past any horizon */
	double scaled = (double)offset / rp->st.speedup;
	return scaled < 0x1p62 ? (llmcap_time)llround(scaled) : INT64_MAX;
}

const struct llmcap_replay_stats *llmcap_replay_stats(const struct llmcap_replay *rp)
{
	return &rp->st;
}

int llmcap_replay_next(struct llmcap_replay *rp, struct llmcap_replay_row *out,
		       struct llmcap_error *err)
{
	struct llmcap_trace_row row;
	if (rp->cached) {
		/* fill: loop, a later copy: the first copy's rows again, without parsing */
		if (rp->cursor == rp->n_cache) {
			rp->cursor = 0;
			rp->copy++;
			rp->st.copies++;
		}
		const struct cached_row *c = &rp->cache[rp->cursor++];
		*out = (struct llmcap_replay_row){.t = replay_time(rp, c->t), .cls = c->cls,
						  .prompt = c->prompt, .output = c->output,
						  .hash_ids = c->n_ids ? rp->cache_ids + c->ids : NULL,
						  .n_hash_ids = c->n_ids};
		rp->st.replayed++;
		return 1;
	}
	while (!rp->done) {
		int got = llmcap_trace_next(&rp->rd, &row, err);
		if (got < 0)
			return got;
		if (got == 0 || row.t >= rp->stop) {
			if (rp->cfg->fill != LLMCAP_FILL_LOOP) {
				rp->done = true;
				break;
			}
			if (rp->caching && rp->n_cache > 0) {
				/* the whole first copy is in memory: replay the next ones from it */
				rp->caching = false;
				rp->cached = true;
				rp->cursor = rp->n_cache; /* the next row starts the next copy */
				return llmcap_replay_next(rp, out, err);
			}
			cache_drop(rp);
			int rc = llmcap_trace_rewind(&rp->rd, err);
			if (rc)
				return rc;
			rp->copy++;
			rp->st.copies++;
			continue;
		}
		if (row.t < rp->base)
			continue;
		int cls = row_class(rp, &row);
		if (cls == -2)
			continue; /* counted by the first pass */
		bool raised, capped;
		lengths(rp->cfg, &row, &out->prompt, &out->output, &raised, &capped);
		out->t = replay_time(rp, row.t);
		out->cls = cls;
		out->hash_ids = row.hash_ids;
		out->n_hash_ids = row.n_hash_ids;
		if (rp->caching)
			cache_add(rp, row.t, out);
		rp->st.replayed++;
		return 1;
	}
	return 0;
}

/* ---- statistics ---- */

/* Exact counts of token lengths (0 to 2^24) in lazily allocated chunks of 4,096 values:
 * memory follows the lengths that occur, not the rows. */
#define CHUNK 4096
#define N_CHUNKS (LLMCAP_TRACE_MAX_TOKENS / CHUNK + 1)

struct hist {
	uint32_t *chunk[N_CHUNKS];
	uint64_t in_chunk[N_CHUNKS];
	uint64_t n;
};

static bool hist_add(struct hist *h, int64_t v)
{
	size_t c = (size_t)v / CHUNK;
	if (!h->chunk[c] && !(h->chunk[c] = calloc(CHUNK, sizeof *h->chunk[c])))
		return false;
	h->chunk[c][v % CHUNK]++;
	h->in_chunk[c]++;
	h->n++;
	return true;
}

/* The k-th smallest value (from 0). */
static double hist_kth(const struct hist *h, uint64_t k)
{
	for (size_t c = 0; c < N_CHUNKS; c++) {
		if (k >= h->in_chunk[c]) {
			k -= h->in_chunk[c];
			continue;
		}
		for (size_t i = 0; i < CHUNK; i++) {
			if (k < h->chunk[c][i])
				return (double)(c * CHUNK + i);
			k -= h->chunk[c][i];
		}
	}
	return NAN;
}

/* As gsl_stats_quantile_from_sorted_data: interpolated between the order statistics around
 * rank p (n - 1). */
static double hist_quantile(const struct hist *h, double p)
{
	if (h->n == 0)
		return NAN;
	double idx = p * (double)(h->n - 1);
	uint64_t lo = (uint64_t)floor(idx);
	double frac = idx - (double)lo;
	double a = hist_kth(h, lo);
	if (lo + 1 >= h->n || frac == 0)
		return a;
	return a + frac * (hist_kth(h, lo + 1) - a);
}

static void hist_free(struct hist *h)
{
	for (size_t c = 0; c < N_CHUNKS; c++)
		free(h->chunk[c]);
}

/* The busiest complete window: windows start at the first row; the one holding the last row
 * is not complete. */
struct peak {
	llmcap_time width;
	int64_t idx, count, best;
	bool any;
};

static void peak_add(struct peak *pk, llmcap_time offset)
{
	int64_t w = offset / pk->width;
	if (w != pk->idx) {
		if (pk->count > pk->best)
			pk->best = pk->count;
		pk->idx = w;
		pk->count = 0;
		pk->any = true;
	}
	pk->count++;
}

int llmcap_trace_stats(const char *path, const struct llmcap_trace_cfg *cfg,
		       struct llmcap_trace_stats *st, struct llmcap_error *err)
{
	memset(st, 0, sizeof *st);
	struct llmcap_trace_reader rd;
	int rc = llmcap_trace_open(&rd, path, cfg, err);
	if (rc)
		return rc;
	snprintf(st->file, sizeof st->file, "%s", path);
	st->format = rd.fmt;
	struct hist *hp = calloc(1, sizeof *hp), *ho = calloc(1, sizeof *ho);
	struct peak pm = {.width = LLMCAP_MIN}, ph = {.width = LLMCAP_HOUR};
	struct llmcap_trace_row row;
	if (!hp || !ho) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		goto out;
	}
	while ((rc = llmcap_trace_next(&rd, &row, err)) > 0) {
		if (rd.counts.rows == 1)
			st->first = row.t;
		st->last = row.t;
		peak_add(&pm, row.t - st->first);
		peak_add(&ph, row.t - st->first);
		st->prompt_tokens += row.prompt;
		st->output_tokens += row.output;
		if (!hist_add(hp, row.prompt) || !hist_add(ho, row.output)) {
			rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
			break;
		}
	}
	if (rc < 0)
		goto out;
	rc = 0;
	st->counts = rd.counts;
	int64_t n = st->counts.rows;
	st->span_s = (double)(st->last - st->first) * 1e-9;
	st->mean_rate = n > 1 && st->span_s > 0 ? (double)n / st->span_s : NAN;
	st->peak_minute = pm.any && pm.best > 0 ? (double)pm.best / (st->mean_rate * 60) : NAN;
	st->peak_hour = ph.any && ph.best > 0 ? (double)ph.best / (st->mean_rate * 3600) : NAN;
	st->prompt_mean = n ? (double)st->prompt_tokens / (double)n : NAN;
	st->output_mean = n ? (double)st->output_tokens / (double)n : NAN;
	static const double qs[3] = {0.5, 0.9, 0.99};
	for (int i = 0; i < 3; i++) {
		st->prompt_q[i] = hist_quantile(hp, qs[i]);
		st->output_q[i] = hist_quantile(ho, qs[i]);
	}
	st->tokens_per_month = st->span_s > 0 ? (double)(st->prompt_tokens + st->output_tokens) /
							st->span_s * LLMCAP_MONTH_SECONDS
					      : NAN;
out:
	if (hp)
		hist_free(hp);
	if (ho)
		hist_free(ho);
	free(hp);
	free(ho);
	llmcap_trace_close(&rd);
	return rc;
}

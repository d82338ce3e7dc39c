/* The serving engine and the simulation loop.
 *
 * Each replica runs vLLM v1's scheduling loop once per step (vllm/v1/core/sched/scheduler.py):
 *   1. running requests in admission order: each asks for num_tokens - num_computed_tokens new
 *      tokens (1 for a decode, the rest of its prompt for a prefill), capped by the remaining
 *      token budget; when its KV blocks cannot be allocated, the most recently admitted
 *      running request is preempted (recompute: its blocks are freed, its computed tokens
 *      reset, and it goes back to the head of the waiting queue), possibly itself;
 *   2. if nothing was preempted, waiting requests in FCFS order while the token budget, the
 *      sequence cap (max_num_seqs) and free KV blocks allow; a prompt longer than the budget
 *      is chunked when chunked prefill is on, and otherwise waits.
 * A request's num_tokens is prompt + generated; a step that completes all of them samples one
 * token. After preemption the generated tokens are recomputed as part of the prompt.
 */
#include <assert.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/event.h"
#include "llmcap/sim.h"
#include "llmcap/workload.h"

enum { EV_ARRIVAL = 1, EV_STEP_END = 2, EV_SAMPLE = 3 };

struct req {
	llmcap_time arrival, first_sched, first_token, last_token;
	int64_t id;
	int32_t prompt, output;    /* tokens; output already cut to max_model_len */
	int32_t computed;          /* tokens whose KV is in the cache */
	int32_t generated;         /* output tokens emitted */
	int32_t blocks;            /* KV blocks held */
	int32_t sched;             /* tokens scheduled in the step in flight */
	llmcap_time max_gap;       /* longest wait between consecutive tokens */
	uint32_t cls, pool, replica;
	uint32_t preemptions;
	int32_t next_free;
};

/* Ring buffer of request slots with push at either end. */
struct deque {
	int32_t *buf;
	size_t head, len, cap;
};

struct replica {
	size_t pool;
	struct deque waiting;
	int32_t *running; /* admission order */
	size_t n_running, cap_running;
	int64_t num_blocks, free_blocks;
	int64_t outstanding;
	bool busy;
	llmcap_time step_start, kv_last;
	struct llmcap_step_work work; /* of the step in flight */
	/* time-series state: cumulative values at the previous sample, and interval counts */
	llmcap_time busy_prev;
	double prefill_prev, output_prev;
	int64_t arrivals_int, completions_int;
};

struct pool_rt {
	struct llmcap_perf perf;
	const struct llmcap_pool_cfg *cfg;
	int64_t max_model_len;
	size_t rr_next;
};

struct sim {
	const struct llmcap_scenario *sc;
	struct llmcap_results *res;
	struct llmcap_workload wl;
	struct llmcap_events events;
	gsl_rng *routing;
	struct req *reqs;
	size_t n_reqs, cap_reqs;
	int32_t free_list;
	struct replica *replicas;
	struct pool_rt pools[LLMCAP_MAX_POOLS];
	size_t class_pool[LLMCAP_MAX_CLASSES];
	int64_t next_id;
	llmcap_time now;
	bool oom;
	int sink_rc; /* first non-zero return of a sink callback */
	const struct llmcap_sink *sink;
};

/* ---- small containers ---- */

static bool deque_grow(struct deque *d)
{
	size_t cap = d->cap ? 2 * d->cap : 16;
	int32_t *b = malloc(cap * sizeof *b);
	if (!b)
		return false;
	for (size_t i = 0; i < d->len; i++)
		b[i] = d->buf[(d->head + i) % d->cap];
	free(d->buf);
	d->buf = b;
	d->head = 0;
	d->cap = cap;
	return true;
}

static bool deque_push_back(struct deque *d, int32_t v)
{
	if (d->len == d->cap && !deque_grow(d))
		return false;
	d->buf[(d->head + d->len++) % d->cap] = v;
	return true;
}

static bool deque_push_front(struct deque *d, int32_t v)
{
	if (d->len == d->cap && !deque_grow(d))
		return false;
	d->head = (d->head + d->cap - 1) % d->cap;
	d->buf[d->head] = v;
	d->len++;
	return true;
}

static int32_t deque_front(const struct deque *d)
{
	return d->buf[d->head];
}

static void deque_pop_front(struct deque *d)
{
	d->head = (d->head + 1) % d->cap;
	d->len--;
}

static int32_t req_alloc(struct sim *s)
{
	if (s->free_list >= 0) {
		int32_t i = s->free_list;
		s->free_list = s->reqs[i].next_free;
		return i;
	}
	if (s->n_reqs == s->cap_reqs) {
		size_t cap = s->cap_reqs ? 2 * s->cap_reqs : 1024;
		struct req *r = realloc(s->reqs, cap * sizeof *r);
		if (!r)
			return -1;
		s->reqs = r;
		s->cap_reqs = cap;
	}
	return (int32_t)s->n_reqs++;
}

static void req_release(struct sim *s, int32_t i)
{
	s->reqs[i].next_free = s->free_list;
	s->free_list = i;
}

/* ---- bookkeeping ---- */

const char *llmcap_request_status_name(int status)
{
	switch (status) {
	case LLMCAP_REQ_COMPLETED: return "completed";
	case LLMCAP_REQ_REJECTED_MAX_MODEL_LEN: return "rejected:max_model_len";
	case LLMCAP_REQ_UNFINISHED: return "unfinished";
	}
	return "?";
}

static double span_s(llmcap_time from, llmcap_time to)
{
	return from < 0 || to < 0 ? NAN : (double)(to - from) * 1e-9;
}

/* Every request ends here exactly once: it enters the digest and, if asked, the output. */
static void request_ended(struct sim *s, const struct req *r, enum llmcap_request_status st)
{
	int64_t rec[10] = {r->id,           st,           r->cls,         r->replica,
			   r->arrival,      r->first_token, r->last_token, r->preemptions,
			   r->prompt,       r->output};
	s->res->digest = llmcap_hash_bytes(s->res->digest, rec, sizeof rec);
	if (!s->sink || !s->sink->request || s->sink_rc)
		return;
	struct llmcap_request_record out = {
		.id = r->id,
		.arrival = (double)r->arrival * 1e-9,
		.cls = (int32_t)r->cls,
		.pool = (int32_t)r->pool,
		.replica = r->replica == UINT32_MAX ? -1 : (int32_t)r->replica,
		.status = st,
		.preemptions = (int32_t)r->preemptions,
		.prompt_tokens = r->prompt,
		.output_tokens = r->output,
		.generated_tokens = r->generated,
		.prefix_hit_tokens = 0,
		.queue = span_s(r->arrival, r->first_sched),
		.ttft = span_s(r->arrival, r->first_token),
		.tpot = r->generated > 1 ? span_s(r->first_token, r->last_token) / (r->generated - 1) : NAN,
		.max_gap = r->generated > 1 ? (double)r->max_gap * 1e-9 : NAN,
		.e2e = st == LLMCAP_REQ_COMPLETED ? span_s(r->arrival, r->last_token) : NAN,
	};
	s->sink_rc = s->sink->request(s->sink->user, &out);
}

static void kv_account(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	st->kv_block_time += (double)(rp->num_blocks - rp->free_blocks) * (double)(s->now - rp->kv_last);
	rp->kv_last = s->now;
}

static int64_t blocks_for(int64_t tokens, int64_t block_size)
{
	return (tokens + block_size - 1) / block_size;
}

/* ---- the scheduler ---- */

static void preempt(struct sim *s, size_t ri, int32_t victim)
{
	struct replica *rp = &s->replicas[ri];
	struct req *v = &s->reqs[victim];
	rp->free_blocks += v->blocks;
	v->blocks = 0;
	v->computed = 0;
	v->sched = 0;
	v->preemptions++;
	s->res->replicas[ri].preemptions++;
	if (!deque_push_front(&rp->waiting, victim))
		s->oom = true;
}

/* Builds the next step; returns its shape (tokens == 0: nothing to do). */
static struct llmcap_step_shape schedule(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct llmcap_pool_cfg *cfg = pl->cfg;
	const int64_t bs = cfg->block_size;
	int64_t budget = cfg->max_num_batched_tokens;
	struct llmcap_step_shape shape = {0};
	bool preempted = false;

	kv_account(s, ri);
	for (size_t i = 0; i < rp->n_running && budget > 0; i++) {
		int32_t id = rp->running[i];
		struct req *r = &s->reqs[id];
		int64_t num_tokens = (int64_t)r->prompt + r->generated;
		int64_t want = num_tokens - r->computed;
		if (want > budget)
			want = budget;
		bool self_preempted = false;
		for (;;) {
			int64_t need = blocks_for(r->computed + want, bs) - r->blocks;
			if (need <= rp->free_blocks) {
				rp->free_blocks -= need;
				r->blocks += (int32_t)need;
				break;
			}
			int32_t victim = rp->running[--rp->n_running];
			preempt(s, ri, victim);
			preempted = true;
			if (victim == id) {
				self_preempted = true;
				break;
			}
		}
		if (self_preempted)
			break;
		r->sched = (int32_t)want;
		budget -= want;
	}
	if (!preempted) {
		while (rp->waiting.len > 0 && budget > 0 && (int64_t)rp->n_running < cfg->max_num_seqs) {
			int32_t id = deque_front(&rp->waiting);
			struct req *r = &s->reqs[id];
			int64_t want = (int64_t)r->prompt + r->generated - r->computed;
			if (!cfg->enable_chunked_prefill && want > budget)
				break;
			if (want > budget)
				want = budget;
			int64_t need = blocks_for(r->computed + want, bs) - r->blocks;
			if (need > rp->free_blocks)
				break;
			deque_pop_front(&rp->waiting);
			rp->free_blocks -= need;
			r->blocks += (int32_t)need;
			r->sched = (int32_t)want;
			if (r->first_sched < 0)
				r->first_sched = s->now;
			budget -= want;
			if (rp->n_running == rp->cap_running) {
				size_t cap = rp->cap_running ? 2 * rp->cap_running : 64;
				int32_t *nr = realloc(rp->running, cap * sizeof *nr);
				if (!nr) {
					s->oom = true;
					break;
				}
				rp->running = nr;
				rp->cap_running = cap;
			}
			rp->running[rp->n_running++] = id;
		}
	}
	int64_t used = rp->num_blocks - rp->free_blocks;
	assert(rp->free_blocks >= 0 && used >= 0);
	if (used > s->res->replicas[ri].kv_peak)
		s->res->replicas[ri].kv_peak = used;

	int64_t seqs = 0;
	for (size_t i = 0; i < rp->n_running; i++) {
		const struct req *r = &s->reqs[rp->running[i]];
		if (r->sched == 0)
			continue;
		double n = r->sched, ctx = r->computed;
		seqs++;
		shape.tokens += r->sched;
		shape.attn_pairs += n * ctx + n * (n + 1) / 2;
		shape.kv_read_tokens += ctx + n;
		if (r->computed + r->sched == r->prompt + r->generated)
			shape.samples++;
	}
	if (shape.tokens > 0) {
		struct llmcap_replica_stats *st = &s->res->replicas[ri];
		st->steps++;
		st->batch_sum += (double)seqs;
		if (seqs > st->batch_peak)
			st->batch_peak = seqs;
	}
	return shape;
}

static void try_start_step(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	if (rp->busy)
		return;
	struct llmcap_step_shape shape = schedule(s, ri);
	if (shape.tokens == 0)
		return;
	llmcap_time dt = llmcap_perf_step_time(&s->pools[rp->pool].perf, &shape, &rp->work);
	rp->busy = true;
	rp->step_start = s->now;
	struct llmcap_event ev = {.time = s->now + dt, .kind = EV_STEP_END, .target = (uint32_t)ri};
	if (llmcap_events_push(&s->events, ev) != 0)
		s->oom = true;
}

static void complete(struct sim *s, size_t ri, int32_t id)
{
	struct req *r = &s->reqs[id];
	struct llmcap_class_stats *cs = &s->res->classes[r->cls];
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[r->cls];
	cs->completed++;
	cs->preemptions += r->preemptions;
	cs->completed_prompt_tokens += r->prompt;
	cs->completed_output_tokens += r->output;
	double ttft = span_s(r->arrival, r->first_token);
	double tpot = r->output > 1 ? span_s(r->first_token, r->last_token) / (r->output - 1) : NAN;
	bool ok = llmcap_quantiles_add(&cs->ttft, ttft) &&
		  llmcap_quantiles_add(&cs->e2e, span_s(r->arrival, r->last_token)) &&
		  llmcap_quantiles_add(&cs->queue, span_s(r->arrival, r->first_sched));
	if (ok && r->output > 1)
		ok = llmcap_quantiles_add(&cs->tpot, tpot);
	if (!ok)
		s->oom = true;
	/* Each request against its class's targets (a one-token reply has no TPOT to miss). */
	if (ttft <= (double)cl->slo_ttft_p99 * 1e-9 &&
	    (r->output <= 1 || tpot <= (double)cl->slo_tpot_p99 * 1e-9)) {
		cs->slo_met++;
		cs->slo_met_output_tokens += r->output;
	}
	request_ended(s, r, LLMCAP_REQ_COMPLETED);
	s->replicas[ri].outstanding--;
	s->replicas[ri].completions_int++;
	req_release(s, id);
}

static void step_end(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	st->busy += s->now - rp->step_start;
	st->flops += rp->work.flops;
	st->bytes += rp->work.bytes;
	st->perf_out_of_range += rp->work.out_of_range;
	rp->busy = false;
	kv_account(s, ri);
	size_t keep = 0;
	for (size_t i = 0; i < rp->n_running; i++) {
		int32_t id = rp->running[i];
		struct req *r = &s->reqs[id];
		bool done = false;
		if (r->sched > 0) {
			int64_t num_tokens = (int64_t)r->prompt + r->generated;
			bool decode = r->generated > 0 && r->computed == num_tokens - 1;
			if (!decode) /* a prompt chunk, or a recomputation after preemption */
				st->prefill_tokens += r->sched;
			r->computed += r->sched;
			r->sched = 0;
			if (r->computed == num_tokens) {
				r->generated++;
				st->output_tokens += 1;
				if (r->generated == 1)
					r->first_token = s->now;
				else if (s->now - r->last_token > r->max_gap)
					r->max_gap = s->now - r->last_token;
				r->last_token = s->now;
				if (r->generated == r->output) {
					rp->free_blocks += r->blocks;
					r->blocks = 0;
					complete(s, ri, id);
					done = true;
				}
			}
		}
		if (!done)
			rp->running[keep++] = id;
	}
	rp->n_running = keep;
	try_start_step(s, ri);
}

static size_t route(struct sim *s, size_t pool)
{
	const struct llmcap_pool_stats *ps = &s->res->pools[pool];
	struct pool_rt *pl = &s->pools[pool];
	size_t n = ps->n_replicas, base = ps->first_replica;
	switch (pl->cfg->router) {
	case LLMCAP_ROUTER_ROUND_ROBIN: return base + pl->rr_next++ % n;
	case LLMCAP_ROUTER_RANDOM: return base + (size_t)gsl_rng_uniform_int(s->routing, n);
	case LLMCAP_ROUTER_LEAST_OUTSTANDING: {
		/* Ties go round-robin (the scan starts after the last choice), as load balancers do;
		 * always taking the lowest index would pile the light load onto replica 0. */
		size_t start = pl->rr_next % n, best = base + start;
		for (size_t k = 1; k < n; k++) {
			size_t i = base + (start + k) % n;
			if (s->replicas[i].outstanding < s->replicas[best].outstanding)
				best = i;
		}
		pl->rr_next = best - base + 1;
		return best;
	}
	}
	return base;
}

static void arrival(struct sim *s)
{
	size_t cls = llmcap_workload_pick_class(&s->wl);
	int64_t prompt, output;
	llmcap_workload_lengths(&s->wl, cls, &prompt, &output);
	struct llmcap_class_stats *cs = &s->res->classes[cls];
	cs->arrived++;
	cs->prompt_tokens += (double)prompt;
	cs->output_tokens += (double)output;
	size_t hour = (size_t)(s->now / LLMCAP_HOUR);
	if (hour < s->res->n_hours)
		s->res->arrivals_per_hour[hour]++;

	size_t pool = s->class_pool[cls];
	int64_t max_len = s->pools[pool].max_model_len;
	struct req r = {.arrival = s->now, .first_sched = -1, .first_token = -1, .last_token = -1,
			.id = s->next_id++, .prompt = (int32_t)prompt, .output = (int32_t)output,
			.cls = (uint32_t)cls, .pool = (uint32_t)pool, .replica = UINT32_MAX};
	if (prompt + output > max_len) {
		/* vLLM's server refuses a request whose prompt plus requested tokens exceed
		 * max_model_len ("maximum context length is ... tokens"). max_model_len never exceeds
		 * the KV cache, so every admitted request fits alone. */
		cs->rejected++;
		request_ended(s, &r, LLMCAP_REQ_REJECTED_MAX_MODEL_LEN);
		return;
	}
	size_t ri = route(s, pool);
	int32_t id = req_alloc(s);
	if (id < 0) {
		s->oom = true;
		return;
	}
	r.replica = (uint32_t)ri;
	s->reqs[id] = r;
	s->replicas[ri].outstanding++;
	s->replicas[ri].arrivals_int++;
	if (!deque_push_back(&s->replicas[ri].waiting, id)) {
		s->oom = true;
		return;
	}
	try_start_step(s, ri);
}

static void schedule_next_arrival(struct sim *s)
{
	llmcap_time t = llmcap_workload_next_arrival(&s->wl);
	if (t < s->sc->horizon) {
		struct llmcap_event ev = {.time = t, .kind = EV_ARRIVAL};
		if (llmcap_events_push(&s->events, ev) != 0)
			s->oom = true;
	}
}

/* ---- set-up, loop and wrap-up ---- */

/* One time-series sample per replica and per pool, for the interval ending now. */
static void sample(struct sim *s)
{
	const double interval = (double)s->sink->sample_interval * 1e-9;
	for (size_t p = 0; p < s->res->n_pools && !s->sink_rc; p++) {
		const struct llmcap_pool_stats *ps = &s->res->pools[p];
		struct llmcap_sample_row pool_row = {.time = (double)s->now * 1e-9, .pool = (int32_t)p,
						     .replica = -1};
		for (size_t i = 0; i < ps->n_replicas; i++) {
			size_t ri = ps->first_replica + i;
			struct replica *rp = &s->replicas[ri];
			const struct llmcap_replica_stats *st = &s->res->replicas[ri];
			llmcap_time busy_now = st->busy + (rp->busy ? s->now - rp->step_start : 0);
			struct llmcap_sample_row row = {
				.time = (double)s->now * 1e-9,
				.pool = (int32_t)p,
				.replica = (int32_t)ri,
				.arrivals = rp->arrivals_int,
				.completions = rp->completions_int,
				.waiting = (int64_t)rp->waiting.len,
				.running = (int64_t)rp->n_running,
				.kv_occupancy = (double)(rp->num_blocks - rp->free_blocks) / (double)rp->num_blocks,
				.busy = (double)(busy_now - rp->busy_prev) * 1e-9 / interval,
				/* tokens of steps that ended in the interval */
				.input_tokens_per_s = (st->prefill_tokens - rp->prefill_prev) / interval,
				.output_tokens_per_s = (st->output_tokens - rp->output_prev) / interval,
			};
			rp->busy_prev = busy_now;
			rp->prefill_prev = st->prefill_tokens;
			rp->output_prev = st->output_tokens;
			rp->arrivals_int = rp->completions_int = 0;
			pool_row.arrivals += row.arrivals;
			pool_row.completions += row.completions;
			pool_row.waiting += row.waiting;
			pool_row.running += row.running;
			pool_row.kv_occupancy += row.kv_occupancy / (double)ps->n_replicas;
			pool_row.busy += row.busy / (double)ps->n_replicas;
			pool_row.input_tokens_per_s += row.input_tokens_per_s;
			pool_row.output_tokens_per_s += row.output_tokens_per_s;
			if (s->sink->sample && !s->sink_rc)
				s->sink_rc = s->sink->sample(s->sink->user, &row);
		}
		if (s->sink->sample && !s->sink_rc)
			s->sink_rc = s->sink->sample(s->sink->user, &pool_row);
	}
	llmcap_time next = s->now + s->sink->sample_interval;
	if (next <= s->sc->horizon) {
		struct llmcap_event ev = {.time = next, .kind = EV_SAMPLE};
		if (llmcap_events_push(&s->events, ev) != 0)
			s->oom = true;
	}
}

static int setup(struct sim *s, const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		 const struct llmcap_sink *sink, struct llmcap_results *res, struct llmcap_error *err)
{
	memset(res, 0, sizeof *res);
	memset(s, 0, sizeof *s);
	s->sc = sc;
	s->res = res;
	s->sink = sink;
	bool streaming = sc->output.percentiles == LLMCAP_PERCENTILES_STREAMING;
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		struct llmcap_class_stats *cs = &res->classes[c];
		if (!llmcap_quantiles_init(&cs->ttft, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&cs->tpot, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&cs->e2e, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&cs->queue, streaming, sc->output.percentile_error))
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	s->free_list = -1;
	res->sc = sc;
	res->horizon = sc->horizon;
	res->digest = LLMCAP_HASH_INIT;
	res->n_classes = sc->workload.n_classes;
	res->n_pools = sc->n_pools;
	res->gpu = llmcap_catalog_gpu(cat, sc->hardware.gpu);
	if (!res->gpu)
		return llmcap_errorf(err, LLMCAP_EINVAL, "hardware.gpu: '%s' is not in the catalog",
				     sc->hardware.gpu);
	llmcap_events_init(&s->events);
	size_t n_rep = 0;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *cfg = &sc->pools[p];
		struct llmcap_pool_stats *ps = &res->pools[p];
		ps->model = llmcap_catalog_model(cat, cfg->model);
		if (!ps->model)
			return llmcap_errorf(err, LLMCAP_EINVAL, "pools.%s.model: '%s' is not in the catalog",
					     cfg->name, cfg->model);
		int rc = llmcap_memory_plan(ps->model, res->gpu, cfg, &ps->plan, err);
		if (rc)
			return rc;
		const struct llmcap_engine_spec *eng = llmcap_catalog_engine(cat, cfg->engine);
		if (!eng)
			return llmcap_errorf(err, LLMCAP_EINVAL, "pools.%s.engine: '%s' is not in the catalog",
					     cfg->name, cfg->engine);
		rc = llmcap_perf_init(&s->pools[p].perf, ps->model, res->gpu, eng, cfg, err);
		if (rc)
			return rc;
		ps->peak_flops = (cfg->dtype == LLMCAP_DTYPE_FP8 ? res->gpu->fp8_tflops
								  : res->gpu->bf16_tflops) * 1e12;
		s->pools[p].cfg = cfg;
		s->pools[p].max_model_len = ps->plan.max_model_len;
		ps->first_replica = n_rep;
		ps->n_replicas = (size_t)cfg->replicas;
		n_rep += (size_t)cfg->replicas;
	}
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		const char *pool = cl->pool[0] ? cl->pool : cl->name;
		for (size_t p = 0; p < sc->n_pools; p++)
			if (!strcmp(sc->pools[p].name, pool))
				s->class_pool[c] = p;
	}
	res->n_replicas = n_rep;
	res->replicas = calloc(n_rep, sizeof *res->replicas);
	s->replicas = calloc(n_rep, sizeof *s->replicas);
	res->n_hours = (size_t)((sc->horizon + LLMCAP_HOUR - 1) / LLMCAP_HOUR);
	res->arrivals_per_hour = calloc(res->n_hours ? res->n_hours : 1, sizeof *res->arrivals_per_hour);
	s->routing = llmcap_rng_stream(sc->seed, "routing");
	if (!res->replicas || !s->replicas || !res->arrivals_per_hour || !s->routing)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	for (size_t p = 0; p < sc->n_pools; p++)
		for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
			struct replica *rp = &s->replicas[res->pools[p].first_replica + i];
			rp->pool = p;
			rp->num_blocks = rp->free_blocks = res->pools[p].plan.num_blocks;
		}
	return llmcap_workload_init(&s->wl, sc, err);
}

static void teardown(struct sim *s)
{
	llmcap_workload_free(&s->wl);
	llmcap_events_free(&s->events);
	gsl_rng_free(s->routing);
	if (s->replicas)
		for (size_t i = 0; i < s->res->n_replicas; i++) {
			free(s->replicas[i].waiting.buf);
			free(s->replicas[i].running);
		}
	free(s->replicas);
	free(s->reqs);
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++)
		llmcap_perf_free(&s->pools[p].perf);
}

/* Requests still waiting or running at the horizon end as unfinished, in replica order. */
static void finish_at_horizon(struct sim *s)
{
	s->now = s->sc->horizon;
	for (size_t ri = 0; ri < s->res->n_replicas; ri++) {
		struct replica *rp = &s->replicas[ri];
		kv_account(s, ri);
		if (rp->busy)
			s->res->replicas[ri].busy += s->now - rp->step_start;
		for (size_t i = 0; i < rp->n_running; i++) {
			const struct req *r = &s->reqs[rp->running[i]];
			s->res->classes[r->cls].unfinished++;
			s->res->classes[r->cls].unfinished_output_tokens += r->generated;
			request_ended(s, r, LLMCAP_REQ_UNFINISHED);
		}
		for (size_t i = 0; i < rp->waiting.len; i++) {
			const struct req *r = &s->reqs[rp->waiting.buf[(rp->waiting.head + i) % rp->waiting.cap]];
			s->res->classes[r->cls].unfinished++;
			/* preempted requests wait with tokens already emitted */
			s->res->classes[r->cls].unfinished_output_tokens += r->generated;
			request_ended(s, r, LLMCAP_REQ_UNFINISHED);
		}
	}
}

int llmcap_simulate(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		    const struct llmcap_sink *sink, struct llmcap_results *res,
		    struct llmcap_error *err)
{
	struct sim s;
	int rc = setup(&s, sc, cat, sink, res, err);
	if (rc == 0) {
		schedule_next_arrival(&s);
		if (sink && sink->sample_interval > 0 && sink->sample_interval <= sc->horizon) {
			struct llmcap_event first = {.time = sink->sample_interval, .kind = EV_SAMPLE};
			if (llmcap_events_push(&s.events, first) != 0)
				s.oom = true;
		}
		struct llmcap_event ev;
		bool canceled = false;
		while (!s.oom && !s.sink_rc && llmcap_events_pop(&s.events, &ev)) {
			if (ev.time > sc->horizon)
				break;
			assert(ev.time >= s.now && "simulated time went backwards");
			s.now = ev.time;
			res->events++;
			if (ev.kind == EV_ARRIVAL) {
				arrival(&s);
				schedule_next_arrival(&s);
			} else if (ev.kind == EV_STEP_END) {
				step_end(&s, ev.target);
			} else {
				sample(&s);
			}
			if (sink && (res->events & 0xfff) == 0) {
				if (sink->cancel && *sink->cancel) {
					canceled = true;
					break;
				}
				if (sink->progress && (res->events & 0xffff) == 0)
					sink->progress(sink->progress_user, s.now, sc->horizon, res->events);
			}
		}
		if (canceled)
			rc = llmcap_errorf(err, LLMCAP_ECANCELED, "interrupted at simulated time %.0f s",
					   (double)s.now * 1e-9);
		else if (s.oom)
			rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory during the simulation");
		else if (s.sink_rc == 0)
			finish_at_horizon(&s);
		if (rc == 0 && s.sink_rc)
			rc = llmcap_errorf(err, -s.sink_rc > 0 ? -s.sink_rc : LLMCAP_EIO,
					   "writing the output failed");
	}
	teardown(&s);
	if (rc)
		llmcap_results_free(res);
	return rc;
}

void llmcap_results_free(struct llmcap_results *res)
{
	for (size_t c = 0; c < LLMCAP_MAX_CLASSES; c++) {
		struct llmcap_class_stats *cs = &res->classes[c];
		llmcap_quantiles_free(&cs->ttft);
		llmcap_quantiles_free(&cs->tpot);
		llmcap_quantiles_free(&cs->e2e);
		llmcap_quantiles_free(&cs->queue);
	}
	free(res->replicas);
	free(res->arrivals_per_hour);
	memset(res, 0, sizeof *res);
}

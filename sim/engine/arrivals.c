/* Arrivals, as their events run: each arrival (drawn by stream.c) is routed (router.c), checked
 * against the pool's and class's limits (spilled or rejected: outcomes.c), queued
 * (scheduler.c) and given its queue timeout; and the queue timeouts themselves. */
#include "engine_private.h"

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

static bool deadline_push(struct deadlines *d, llmcap_time t, int64_t id, int32_t slot)
{
	if (d->len == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64; /* a power of two, as the deque's */
		struct deadline *b = malloc(cap * sizeof *b);
		if (!b)
			return false;
		for (size_t i = 0; i < d->len; i++)
			b[i] = d->buf[(d->head + i) & (d->cap - 1)];
		free(d->buf);
		d->buf = b;
		d->head = 0;
		d->cap = cap;
	}
	d->buf[(d->head + d->len++) & (d->cap - 1)] = (struct deadline){.time = t, .id = id, .slot = slot};
	return true;
}

/* Uses only what a load balancer in front of the replicas can know (router.c). */
static inline size_t route(struct sim *s, size_t pool, const struct req *r)
{
	size_t ri = s->pools[pool].router->pick(s, pool, r);
	/* routers skip replicas out for a failure or maintenance (failures.c) */
	if (s->has_failures && (s->replicas[ri].down || s->replicas[ri].draining))
		ri = llmcap_route_around(s, pool, ri);
	return ri;
}

/* Chains trace hash ids: link k hashes ids 0..k, so equal links mean equal prefixes. */
static uint64_t *chain_ids(const uint64_t *ids, size_t n)
{
	uint64_t *c = malloc(n * sizeof *c);
	if (!c)
		return NULL;
	uint64_t h = UINT64_C(0x7f4a7c159e3779b9);
	for (size_t i = 0; i < n; i++)
		c[i] = h = llmcap_hash_bytes(h, &ids[i], sizeof ids[i]);
	return c;
}

/* The API server in front of replica ri (engine profile frontend_time, frontend_latency): the
 * request waits for its serial process, then its parallel latency, before the scheduler may
 * take it (r->ready, may_admit; llmcap_try_start_step wakes an idle replica then). */
static void frontend_admit(struct sim *s, size_t ri, struct req *r)
{
	const struct pool_rt *pl = &s->pools[r->pool];
	struct replica *rp = &s->replicas[ri];
	llmcap_time start = rp->fe_free > s->now ? rp->fe_free : s->now;
	rp->fe_free = start + pl->fe_time;
	r->ready = rp->fe_free + pl->fe_latency;
}

void llmcap_arrival(struct sim *s, uint64_t data, int ids_slot)
{
	size_t cls;
	int64_t prompt, output;
	int32_t group = 0;
	const uint64_t *ids = NULL;
	size_t n_ids = 0;
	if (s->script && !s->arriving_session) { /* a session's later turn is packed */
		const struct llmcap_scripted_request *q = &s->script[data];
		cls = q->cls;
		prompt = q->prompt;
		output = q->output;
		group = q->prefix_group;
		ids = q->hash_ids;
		n_ids = q->n_hash_ids;
	} else {
		ids = s->ids[ids_slot];
		n_ids = s->n_ids[ids_slot];
		/* packed by stream.c: 5 bits of class, 29 bits each of prompt and output */
		cls = (size_t)(data >> 58);
		prompt = (int64_t)(data >> 29 & ((1u << 29) - 1));
		output = (int64_t)(data & ((1u << 29) - 1));
	}
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[cls];
	struct llmcap_class_stats *cs = &s->res->classes[cls];
	cs->arrived++;
	cs->prompt_tokens += (double)prompt;
	cs->output_tokens += (double)output;
	size_t hour = (size_t)(s->now / LLMCAP_HOUR);
	if (hour < s->res->n_hours) {
		s->res->arrivals_per_hour[hour]++;
		s->res->hours[cls * s->res->n_hours + hour].arrived++;
	}

	size_t pool = cl->long_prompt_tokens > 0 && prompt > cl->long_prompt_tokens
			      ? s->class_long_pool[cls]
			      : s->class_pool[cls];
	const struct pool_rt *pl = &s->pools[pool];
	if (!s->script && cl->shared_prefix_tokens > 0 && cl->prefix_groups > 1)
		group = (int32_t)llmcap_rng_uniform_int(s->prefix_rng, (unsigned long)cl->prefix_groups);
	int64_t shared = cl->shared_prefix_tokens < prompt ? cl->shared_prefix_tokens : prompt;
	/* Built in its slot, from a cleared request: GCC clears a struct this size with rep stos,
	 * whose start-up costs more than the 144 bytes, and a copy of a request just written field
	 * by field would stall on store forwarding. A request turned away gives its slot back. */
	static const struct req cleared;
	const int32_t id = req_alloc(s);
	if (id < 0) {
		s->oom = true;
		return;
	}
	struct req *r = &s->reqs[id];
	*r = cleared;
	r->arrival = s->now;
	r->first_sched = r->first_token = r->last_token = -1;
	r->id = s->next_id++;
	r->prompt = (int32_t)prompt;
	r->output = (int32_t)output;
	r->cls = (uint32_t)cls;
	r->pool = (uint32_t)pool;
	r->replica = UINT32_MAX;
	r->priority = cl->priority;
	r->prefix_group = group;
	r->prefix_blocks = (int32_t)(shared / pl->cfg->block_size);
	if (s->has_sessions && llmcap_class_has_sessions(cl) && !llmcap_session_attach(s, r)) {
		req_release(s, id);
		s->oom = true;
		return;
	}
	if (pl->lora && cl->lora.adapters > 0)
		r->adapter = (uint16_t)llmcap_lora_pick(s, cls, r->id);
	if (prompt + output > pl->max_model_len) {
		/* vLLM's server refuses a request whose prompt plus requested tokens exceed
		 * max_model_len. max_model_len never exceeds the KV cache, so every admitted
		 * request fits alone. */
		llmcap_spill_or_reject(s, r, LLMCAP_REQ_REJECTED_MAX_MODEL_LEN);
		req_release(s, id);
		return;
	}
	if (n_ids > 0) {
		/* full engine blocks of the prompt covered by the trace's hash ids */
		int64_t covered = (int64_t)n_ids * s->hash_block_tokens;
		if (covered > prompt)
			covered = prompt;
		r->chain = chain_ids(ids, n_ids);
		if (!r->chain) {
			req_release(s, id);
			s->oom = true;
			return;
		}
		r->n_chain = (int32_t)n_ids;
		r->prefix_blocks = (int32_t)(covered / pl->cfg->block_size);
	}
	size_t ri = route(s, pool, r);
	struct replica *rp = &s->replicas[ri];
	r->replica = (uint32_t)ri;
	if (r->session) /* session-affinity sends its next turn here */
		s->sessions[r->session - 1].replica = (uint32_t)ri;
	const bool spill = cl->when_limited == LLMCAP_LIMIT_SPILL;
	if (pl->cfg->spill.waiting_above > 0 && (int64_t)rp->waiting.len >= pl->cfg->spill.waiting_above) {
		llmcap_spill_or_reject(s, r, LLMCAP_REQ_SPILLED_POOL_WAITING);
		req_release(s, id);
		return;
	}
	if (pl->cfg->spill.kv_above > 0 &&
	    (double)used_blocks(rp) >= pl->cfg->spill.kv_above * (double)rp->num_blocks) {
		llmcap_spill_or_reject(s, r, LLMCAP_REQ_SPILLED_POOL_KV);
		req_release(s, id);
		return;
	}
	if (cl->max_waiting > 0 && (int64_t)rp->waiting.len >= cl->max_waiting) {
		llmcap_spill_or_reject(s, r, spill ? LLMCAP_REQ_SPILLED_QUEUE_FULL : LLMCAP_REQ_REJECTED_QUEUE_FULL);
		req_release(s, id);
		return;
	}
	if (s->in_flight >= s->sc->max_in_flight) {
		/* An overloaded fleet's queues would grow without bound: past the cap, arrivals are
		 * turned away (counted, and the summary says the fleet is overloaded). */
		s->res->overload_rejected++;
		llmcap_spill_or_reject(s, r, LLMCAP_REQ_REJECTED_QUEUE_FULL);
		req_release(s, id);
		return;
	}
	s->in_flight++;
	count_account(s, ri);
	rp->outstanding++;
	rp->queued++;
	rp->arrivals_int++;
	llmcap_touch_run(s, rp);
	if (pl->frontend)
		frontend_admit(s, ri, r);
	llmcap_enqueue_waiting(s, rp, id, false);
	if (cl->max_queue_time > 0) {
		llmcap_time due = s->now + cl->max_queue_time;
		push_event(s, due, s->now, EV_TIMEOUT, (uint32_t)id, (uint64_t)r->id, (uint64_t)r->id);
		if (s->fast && !deadline_push(&s->deadlines[cls], due, r->id, id))
			s->oom = true;
	}
	/* An idle replica starts its next step after every event of this instant, so that
	 * requests arriving together are scheduled together (the next arrival is already pending,
	 * beside the queue: see dispatch). Where no other event is due at this instant, the
	 * start-of-step event would be the next one run: it runs here, counted as the event it is. */
	if (!rp->busy && !rp->kicked && !rp->down) {
		const struct llmcap_event *next = llmcap_events_peek(&s->events);
		if ((!next || next->time > s->now) && !(s->arrival_due && s->arrival_ev.time <= s->now)) {
			s->res->events++;
			llmcap_try_start_step(s, ri, NULL);
		} else {
			rp->kicked = true;
			push_event(s, s->now, s->now, EV_KICK, (uint32_t)ri, 0, ri);
		}
	}
}

void llmcap_touch_run(const struct sim *s, struct replica *rp)
{
	/* Behind: a run that began with requests waiting began with a plain step, or with one
	 * that left the head refused for blocks or a sequence slot, and its steps only take
	 * blocks; one that began with none waiting was touched by the request that queued first.
	 * An overloaded replica then keeps its runs across the requests that queue behind. */
	const bool behind = rp->deferred && (rp->waiting.len > 0 || rp->swapped.len > 0) &&
			    s->pools[rp->pool].cfg->scheduling_policy == LLMCAP_SCHED_FCFS;
	if (!behind)
		rp->touched = true;
}

/* A request still waiting, never scheduled, when its class's max_queue_time runs out. */
void llmcap_queue_timeout(struct sim *s, int32_t id, int64_t req_id)
{
	if ((size_t)id >= s->n_reqs)
		return;
	struct req *r = &s->reqs[id];
	if (r->state != R_WAITING || r->id != req_id || r->first_sched >= 0)
		return; /* scheduled, finished, or the slot was reused */
	struct replica *rp = &s->replicas[r->replica];
	rp->touched = true;
	for (size_t i = 0; i < rp->waiting.len; i++)
		if (*deque_at(&rp->waiting, i) == id) {
			deque_remove_at(&rp->waiting, i);
			break;
		}
	rp->waiting_tokens -= remaining_prefill(r);
	count_account(s, r->replica);
	rp->outstanding--;
	s->in_flight--;
	rp->queued--;
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[r->cls];
	llmcap_spill_or_reject(s, r, cl->when_limited == LLMCAP_LIMIT_SPILL ? LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT
								      : LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT);
	if (rp->draining && rp->outstanding == 0) /* a maintenance window's drain ends */
		replica_drained(s, r->replica);
	req_release(s, id);
	CHECK_REPLICA(s, rp);
}


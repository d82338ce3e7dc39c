/* The serving engine and the simulation loop.
 *
 * Each replica runs vLLM v1's scheduling loop once per step (vllm/v1/core/sched/scheduler.py,
 * Scheduler.schedule; see docs/engine.md for what was matched):
 *   1. running requests in admission order: each asks for num_tokens - num_computed_tokens new
 *      tokens (1 for a decode, the rest of its prompt for a prefill), capped by the remaining
 *      token budget; when its KV blocks cannot be allocated, a running request is preempted
 *      (FCFS: the most recently admitted; priority: the lowest priority, latest arrival),
 *      possibly itself. Recompute frees its blocks and resets its computed tokens; swap (vLLM
 *      v0's mode) moves its blocks to CPU memory, the transfer adding to the step's time;
 *   2. if nothing was preempted: swapped requests come back first (as vLLM v0 does), then,
 *      once none is swapped out, waiting requests in queue order (FCFS, or priority then
 *      arrival) while the token budget, the sequence cap and free KV blocks allow; a prompt
 *      longer than the budget is chunked when chunked prefill is on, and otherwise waits.
 * A request's num_tokens is prompt + generated; a step that completes all of them samples one
 * token. After a recompute preemption the generated tokens are recomputed as part of the prompt.
 * The waiting queue's order and the preemption victim follow the pool's scheduling policy
 * (FCFS or priority); admission follows the engine profile's rule (llmcap_admissions: vLLM's,
 * TensorRT-LLM's guaranteed-no-evict, SGLang's reserve), and async or multi-step scheduling
 * holds a new request back a step or up to K steps (may_admit); the KV blocks and prefix cache are kv.c's, and a step that begins a run
 * of decode steps hands it to the fast mode (fast.c: llmcap_fast_forward).
 */
#include "engine_private.h"

/* The priority policy's queue order: (priority, arrival, id), the request placed from the back
 * (most arrive last). */
static bool priority_insert(struct sim *s, struct replica *rp, int32_t id)
{
	const struct req *r = &s->reqs[id];
	bool ok = deque_push_back(&rp->waiting, id);
	for (size_t i = rp->waiting.len - 1; ok && i > 0; i--) {
		int32_t *a = deque_at(&rp->waiting, i - 1), *b = deque_at(&rp->waiting, i);
		const struct req *x = &s->reqs[*a];
		if (x->priority < r->priority ||
		    (x->priority == r->priority &&
		     (x->arrival < r->arrival || (x->arrival == r->arrival && x->id < r->id))))
			break;
		*b = *a;
		*a = id;
	}
	return ok;
}

/* FCFS's victim: the most recently admitted. */
static size_t newest_victim(const struct sim *s, const struct replica *rp)
{
	(void)s;
	return rp->n_running - 1;
}

/* The priority policy's victim: the largest (priority, arrival), as vLLM v1 picks. */
static size_t priority_victim(const struct sim *s, const struct replica *rp)
{
	size_t v = 0;
	for (size_t i = 1; i < rp->n_running; i++) {
		const struct req *a = &s->reqs[rp->running[i]], *b = &s->reqs[rp->running[v]];
		if (a->priority > b->priority || (a->priority == b->priority && a->arrival >= b->arrival))
			v = i;
	}
	return v;
}

/* The scheduling policies, indexed by enum llmcap_sched_policy (spec.h). */
const struct llmcap_policy_row llmcap_policies[] = {
	[LLMCAP_SCHED_FCFS] = {.insert = NULL, .victim = newest_victim},
	[LLMCAP_SCHED_PRIORITY] = {.insert = priority_insert, .victim = priority_victim},
};
_Static_assert(sizeof llmcap_policies / sizeof llmcap_policies[0] == LLMCAP_SCHED_COUNT,
	       "a row per scheduling policy");

/* Queue position for a request under the pool's policy: arrival order appends (or, for a
 * preempted request, prepends) inline, with no call; an ordered policy inserts by its row. */
void llmcap_enqueue_waiting(struct sim *s, struct replica *rp, int32_t id, bool front)
{
	struct req *r = &s->reqs[id];
	r->state = R_WAITING;
	rp->waiting_tokens += remaining_prefill(r);
	const struct llmcap_policy_row *pol = s->pools[rp->pool].policy;
	bool ok;
	if (!pol->insert)
		ok = front ? deque_push_front(&rp->waiting, id) : deque_push_back(&rp->waiting, id);
	else
		ok = pol->insert(s, rp, id);
	if (!ok)
		s->oom = true;
}

static bool push_running(struct sim *s, struct replica *rp, int32_t id)
{
	if (rp->n_running == rp->cap_running) {
		size_t cap = rp->cap_running ? 2 * rp->cap_running : 64;
		int32_t *nr = realloc(rp->running, cap * sizeof *nr);
		if (!nr) {
			s->oom = true;
			return false;
		}
		rp->running = nr;
		rp->cap_running = cap;
	}
	rp->running[rp->n_running++] = id;
	s->reqs[id].state = R_RUNNING;
	return true;
}

/* Preempts running[vi]: swap when the pool says so and CPU space allows, else recompute. */
static void preempt(struct sim *s, size_t ri, size_t vi)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	int32_t id = rp->running[vi];
	struct req *v = &s->reqs[id];
	for (size_t i = vi; i + 1 < rp->n_running; i++)
		rp->running[i] = rp->running[i + 1];
	rp->n_running--;
	v->preemptions++;
	v->sched = 0;
	s->res->replicas[ri].preemptions++;
	if (v->adapter != 0)
		llmcap_lora_leave(s, ri, v);
	if (pl->cfg->preemption_mode == LLMCAP_PREEMPT_SWAP && v->blocks <= rp->cpu_free) {
		/* The whole KV cache of the request moves to CPU memory; every TP rank moves its
		 * share in parallel, so one GPU's bytes over one GPU's link set the time. */
		int32_t nb = v->blocks;
		llmcap_release_blocks(rp, v);
		v->swap_blocks = nb;
		rp->cpu_free -= nb;
		llmcap_time t = (llmcap_time)llround((double)nb * pl->block_bytes / pl->cfg->swap_bandwidth * 1e9);
		rp->step_extra += t;
		s->res->replicas[ri].swap_time += t;
		s->res->replicas[ri].swaps_out++;
		v->state = R_SWAPPED;
		if (!deque_push_back(&rp->swapped, id))
			s->oom = true;
		return;
	}
	llmcap_release_blocks(rp, v);
	v->computed = 0;
	llmcap_enqueue_waiting(s, rp, id, true);
}

/* Index of the running request to preempt, by the pool's policy (a preemption is rare: the
 * row's call costs nothing per step). */
static size_t victim_index(const struct sim *s, const struct replica *rp)
{
	return s->pools[rp->pool].policy->victim(s, rp);
}

/* The admission rules, indexed by enum llmcap_admission (spec.h). */
const struct llmcap_admission_row llmcap_admissions[] = {
	[LLMCAP_ADMIT_VLLM] = {.reserve = 0, .commits = false},
	[LLMCAP_ADMIT_MAX_UTILIZATION] = {.reserve = 0, .commits = false},
	[LLMCAP_ADMIT_NO_EVICT] = {.reserve = 1, .commits = true},
	[LLMCAP_ADMIT_RESERVE] = {.reserve = -1, .commits = true},
};
_Static_assert(sizeof llmcap_admissions / sizeof llmcap_admissions[0] == LLMCAP_ADMISSION_COUNT,
	       "a row per admission rule");

/* The blocks request r commits when admitted: its prompt and generated tokens, and the rule's
 * share of its remaining output (the request's max_tokens, which benchmarks set to the output
 * length), at most the whole cache (a request that fits alone is always admitted alone). */
static int32_t commit_blocks(const struct pool_rt *pl, const struct replica *rp,
			     const struct req *r)
{
	double share = pl->admit->reserve >= 0 ? pl->admit->reserve : pl->reserve_output;
	int64_t tokens = (int64_t)r->prompt + r->generated +
			 (int64_t)ceil(share * (double)(r->output - r->generated));
	int64_t b = blocks_for(tokens, pl->cfg->block_size, pl->bs_shift);
	return (int32_t)(b < rp->num_blocks ? b : rp->num_blocks);
}

/* Whether the engine's scheduler may take waiting requests into the next step now:
 * with async scheduling the next step was planned when the last one started, so only requests
 * that arrived before that join (an idle replica plans at once); with multi-step scheduling
 * new requests join every scheduler_steps steps. Returns false where a request must wait. */
static bool may_admit(const struct pool_rt *pl, const struct replica *rp,
		      const struct llmcap_replica_stats *st, const struct req *head)
{
	if (rp->n_running == 0)
		return true;
	if (pl->scheduler_steps > 1 && st->steps - rp->ms_mark < pl->scheduler_steps)
		return false;
	/* behind an API server (arrivals.c) the scheduler sees a request when it is ready */
	return !pl->async_scheduling || (pl->frontend ? head->ready : head->arrival) <= rp->step_start;
}

/* Builds the next step; returns its shape (tokens == 0: nothing to do). ss: where the running
 * requests' loop starts (sched_start_init: at the first). */
static struct llmcap_step_shape schedule(struct sim *s, size_t ri, struct sched_start *ss)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct llmcap_pool_cfg *cfg = pl->cfg;
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const int64_t bs = cfg->block_size;
	const int bs_shift = pl->bs_shift;
	int64_t budget = ss->budget;
	struct llmcap_step_shape shape = {0};
	struct shape_sum sum = ss->sum;
	bool preempted = false, admitted = false, blocked = false;
	const int64_t spec_k = pl->spec_k; /* speculative decoding (specdec.c); 0: off */
	bool held = false; /* a waiting request held back by async or multi-step scheduling */

	kv_account(s, ri);
	rp->step_extra = 0;
	ss->complete = ss->next >= rp->n_running;
	/* separate prefill (SGLang): pass 0 schedules prompt work only (running chunks and
	 * recomputations, then swapped and waiting requests); where it found none, pass 1 the
	 * decodes. Mixed: one pass (2) of both. llmcap_step_end leaves such pools' batches to
	 * this loop (ss->next 0). */
	int pass = pl->split_prefill ? 0 : 2;
next_pass:
	for (size_t i = ss->next; i < rp->n_running && budget > 0; i++) {
		int32_t id = rp->running[i];
		struct req *r = &s->reqs[id];
		const int64_t rem = remaining_prefill(r);
		if (rem == 0)
			continue;
		if (pass != 2 && ((r->generated > 0 && rem == 1) != (pass == 1)))
			continue; /* a decode in pass 0, or prompt work in pass 1 */
		int64_t want = rem < budget ? rem : budget;
		if (spec_k && rem == 1 && r->generated > 0)
			want = spec_want(spec_k, r, budget); /* the last token and its proposals */
		bool self_preempted = false;
		for (;;) {
			int64_t need = blocks_for(r->computed + want, bs, bs_shift) - r->blocks;
			if (need <= allocatable(rp)) {
				if (need != 0) { /* most decode steps need none */
					take_blocks(s, ri, need);
					r->blocks += (int32_t)need;
				}
				break;
			}
			size_t vi = victim_index(s, rp);
			int32_t victim = rp->running[vi];
			if (vi < i) {
				/* already scheduled in this step: its tokens go back to the budget
				 * (unless a pass skipped it) */
				if (pass == 2 || s->reqs[victim].sched > 0) {
					budget += s->reqs[victim].sched;
					shape_add(&sum, &s->reqs[victim], -1);
				}
				i--;
			}
			preempt(s, ri, vi);
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
		shape_add_one(&sum, r->computed, want, rem);
	}
	if (pass == 1)
		goto scheduled;
	/* swapped requests come back before any new admission */
	while (!preempted && rp->swapped.len > 0 && budget > 0 &&
	       (int64_t)rp->n_running < cfg->max_num_seqs) {
		int32_t id = *deque_at(&rp->swapped, 0);
		struct req *r = &s->reqs[id];
		int64_t want = remaining_prefill(r);
		if (want > budget)
			want = budget;
		int64_t need = blocks_for(r->computed + want, bs, bs_shift);
		if (need > allocatable(rp) || (r->adapter != 0 && !llmcap_lora_can_join(s, rp, r))) {
			blocked = true;
			break;
		}
		if (pl->admit->commits) {
			int32_t commit = commit_blocks(pl, rp, r);
			if (rp->committed + commit > rp->num_blocks) {
				blocked = true;
				break;
			}
			rp->committed += commit;
			r->commit = commit;
		}
		deque_pop_front(&rp->swapped);
		if (r->adapter != 0)
			llmcap_lora_join(s, ri, r);
		take_blocks(s, ri, need);
		r->blocks = (int32_t)need;
		rp->cpu_free += r->swap_blocks;
		llmcap_time t = (llmcap_time)llround((double)r->swap_blocks * pl->block_bytes / cfg->swap_bandwidth * 1e9);
		rp->step_extra += t;
		st->swap_time += t;
		st->swaps_in++;
		r->swap_blocks = 0;
		r->sched = (int32_t)want;
		budget -= want;
		admitted = true;
		shape_add(&sum, r, 1);
		sched_note(ss, r, want, (int64_t)r->prompt + r->generated - r->computed);
		if (!push_running(s, rp, id))
			break;
	}
	size_t wi = 0;     /* multi-LoRA: waiting requests passed over, as vLLM skips them */
	while (!preempted && rp->swapped.len == 0 && rp->waiting.len > wi && budget > 0 &&
	       (int64_t)rp->n_running < cfg->max_num_seqs) {
		int32_t id = *deque_at(&rp->waiting, wi);
		struct req *r = &s->reqs[id];
		if (pl->frontend && r->ready > s->now) {
			held = true; /* still in the API server */
			break;
		}
		if (pl->holds && !may_admit(pl, rp, st, r)) {
			held = true;
			break;
		}
		if (r->adapter != 0 && !llmcap_lora_can_join(s, rp, r)) {
			st->lora_skips++; /* its adapter would exceed max_loras */
			wi++;
			continue;
		}
		int64_t revived = 0;
		int32_t hits = 0;
		if (cfg->enable_prefix_caching && r->computed == 0 && r->prefix_blocks > 0)
			hits = llmcap_prefix_lookup(s, rp, r, &revived);
		int64_t computed = (int64_t)hits * bs;
		int64_t want = (int64_t)r->prompt + r->generated - computed;
		if (!cfg->enable_chunked_prefill && want > budget)
			break;
		if (want > budget)
			want = budget;
		int64_t need = blocks_for(computed + want, bs, bs_shift) - hits;
		if (need + revived > allocatable(rp)) {
			blocked = true;
			break;
		}
		int32_t commit = 0;
		if (pl->admit->commits) {
			commit = commit_blocks(pl, rp, r);
			if (rp->committed + commit > rp->num_blocks) {
				/* stays so until a running request ends or is preempted: blocked */
				blocked = true;
				break;
			}
			rp->committed += commit;
			r->commit = commit;
		}
		if (wi == 0)
			deque_pop_front(&rp->waiting);
		else
			deque_remove_at(&rp->waiting, wi);
		if (r->adapter != 0)
			llmcap_lora_join(s, ri, r);
		rp->waiting_tokens -= remaining_prefill(r);
		if (hits > 0 && !llmcap_hold_prefix(s, rp, r, hits)) {
			s->oom = true;
			break;
		}
		take_blocks(s, ri, need);
		r->blocks = hits + (int32_t)need;
		r->computed = (int32_t)computed;
		if (!r->admitted_once && cfg->enable_prefix_caching && r->prefix_blocks > 0) {
			/* hit rate over first admissions (re-admissions after preemption would
			 * count the same prefix twice) */
			r->prefix_hit = (int32_t)computed;
			st->prefix_query_tokens += (double)r->prefix_blocks * (double)bs;
			st->prefix_hit_tokens += (double)computed;
			st->prefix_query_blocks += r->prefix_blocks;
			st->prefix_hit_blocks += hits;
		}
		r->admitted_once = true;
		r->sched = (int32_t)want;
		if (r->first_sched < 0) {
			count_account(s, ri);
			rp->queued--;
			r->first_sched = s->now;
		}
		budget -= want;
		admitted = true;
		shape_add(&sum, r, 1);
		sched_note(ss, r, want, (int64_t)r->prompt + r->generated - r->computed);
		if (!push_running(s, rp, id))
			break;
	}
	if (pass == 0 && sum.tokens == 0) {
		pass = 1; /* no prompt work: a step of decodes */
		goto next_pass;
	}
scheduled:
	/* a request held back joins at a later step: not a plain step, so that no fast run
	 * starts past the step where it joins */
	rp->plain = !preempted && !admitted && !held;
	if (admitted)
		rp->ms_mark = st->steps;
	rp->blocked = blocked || (int64_t)rp->n_running >= cfg->max_num_seqs;
	rp->preempted = preempted;
	int64_t used = used_blocks(rp);
	assert(used >= 0 && used <= rp->num_blocks);
	if (used > st->kv_peak)
		st->kv_peak = used;

	shape.tokens = sum.tokens;
	shape.attn_pairs = (double)sum.pairs;
	shape.kv_read_tokens = (double)sum.kv_read;
	shape.samples = sum.samples;
	if (pl->exact_steps && shape.tokens > 0) {
		if (pl->spec)
			llmcap_spec_step(s, ri, &shape);
		if (pl->lora)
			llmcap_lora_step(s, ri);
	}
	const int64_t seqs = sum.seqs;
	if (shape.tokens > 0) {
		st->steps++;
		st->batch_sum += (double)seqs;
		if (seqs > st->batch_peak)
			st->batch_peak = seqs;
	}
	CHECK_REPLICA(s, rp);
	return shape;
}

void llmcap_try_start_step(struct sim *s, size_t ri, struct sched_start *ss)
{
	struct replica *rp = &s->replicas[ri];
	if (rp->busy)
		return;
	struct sched_start fresh;
	if (!ss) {
		sched_start_init(&fresh, s->pools[rp->pool].cfg);
		ss = &fresh;
	}
	struct llmcap_step_shape shape = schedule(s, ri, ss);
	if (shape.tokens == 0) {
		/* idle with the head still in the API server: a kick when it is ready (one pending
		 * at a time: an earlier one re-arms it) */
		const struct pool_rt *pl = &s->pools[rp->pool];
		if (pl->frontend && rp->waiting.len > 0) {
			llmcap_time t = s->reqs[*deque_at(&rp->waiting, 0)].ready;
			if (t > s->now && (rp->fe_kick <= s->now || rp->fe_kick > t)) {
				rp->fe_kick = t;
				push_event(s, t, s->now, EV_KICK, (uint32_t)ri, 0, ri);
			}
		}
		return;
	}
	const struct llmcap_perf *pf = &s->pools[rp->pool].perf;
	llmcap_time dt;
	if (s->fast && shape.tokens == shape.samples) {
		/* a step of decodes (and last prompt tokens): the timer gives the model's time to
		 * the bit (llmcap_step_timer_ns), and a run of decodes that starts here reuses it */
		if (rp->tm_n != shape.tokens) {
			rp->tm = llmcap_decode_timer(s, rp, shape.tokens);
			rp->tm_n = shape.tokens;
		}
		dt = shape.attn_pairs == shape.kv_read_tokens
			     ? llmcap_step_timer_decode_ns(rp->tm, shape.attn_pairs, &rp->work)
			     : llmcap_step_timer_ns(rp->tm, shape.attn_pairs, shape.kv_read_tokens,
						    &rp->work);
	} else {
		dt = llmcap_perf_step_time(pf, &shape, &rp->work);
	}
	rp->busy = true;
	rp->step_start = s->now;
	llmcap_time end = s->now + dt + rp->step_extra, origin = s->now;
	/* a prefill group's replica takes no runs: its requests leave as their prompts end */
	if (s->fast && (!s->dg || llmcap_disagg_step_started(s, ri, end)) &&
	    !s->pools[rp->pool].exact_steps)
		llmcap_fast_forward(s, ri, &end, &origin, ss);
	push_event(s, end, origin, EV_STEP_END, (uint32_t)ri, 0, ri);
}

/* Ends the step in flight on replica ri, and starts the next. One pass over the batch applies
 * a deferred run's steps (run_apply_req), ends the step for each request, and begins the next
 * step's schedule() for those that stay: the same operations in the same order as the three
 * passes would do them, as long as each request's new blocks are free (no eviction, no
 * preemption: a completion later in the batch could only have freed more). Where they are not,
 * or the budget is spent, schedule() goes on from that request (struct sched_start). */
void llmcap_step_end(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct run_req ra = {0};
	const bool applying = rp->deferred; /* llmcap_run_resume did not go on with it */
	if (applying)
		ra = llmcap_run_apply_stats(s, ri);
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct llmcap_pool_cfg *cfg = pl->cfg;
	const int64_t bs = cfg->block_size;
	const int bs_shift = pl->bs_shift;
	st->busy += s->now - rp->step_start;
	llmcap_add_busy(s, ri, rp->step_start, s->now);
	st->flops += rp->work.flops;
	st->bytes += rp->work.bytes;
	st->perf_out_of_range += rp->work.out_of_range;
	rp->busy = false;
	kv_account(s, ri);
	/* schedule()'s running loop state in locals (struct sched_start after the loop) */
	/* speculative or LoRA pools, and separate prefill: schedule() takes the whole batch */
	bool fusing = !pl->exact_steps && !pl->split_prefill;
	const int64_t spec_k = pl->spec_k;
	size_t keep = 0;
	struct sched_start acc; /* its address stays here, so that it can live in registers */
	sched_start_init(&acc, cfg);
	/* whole numbers, added to the statistics once (exact in any order) */
	int64_t prefill_tokens = 0, output_tokens = 0;
	struct req *const reqs = s->reqs;
	int32_t *const running = rp->running;
	const size_t n = rp->n_running;
	const bool decodes = applying && fusing && !cfg->enable_prefix_caching &&
			     acc.budget >= (int64_t)n && rp->free_blocks >= (int64_t)n;
	if (decodes) {
		keep = llmcap_end_decodes(s, ri, &ra, &acc);
		output_tokens = (int64_t)n;
	}
	for (size_t i = 0; i < n && !decodes; i++) {
		const int32_t id = running[i];
		struct req *r = &reqs[id];
		if (applying)
			run_apply_req(r, &ra);
		/* the request's fields in locals, stored back once */
		int32_t computed = r->computed, generated = r->generated, sched = r->sched;
		const int32_t prompt = r->prompt;
		if (spec_k && sched > 1 && generated > 0 && computed + 1 == prompt + generated) {
			/* a verification: e tokens out; the accepted e - 1 proposals as if computed
			 * before the step's own token (whose KV is its last position's) */
			const int32_t e = llmcap_spec_emit(s, ri, r);
			computed += e - 1;
			r->generated = generated += e - 1;
			output_tokens += e - 1;
			sched = 1;
		}
		if (sched > 0) {
			const int32_t num_tokens = prompt + generated;
			if (!(generated > 0 && computed == num_tokens - 1))
				prefill_tokens += sched; /* a prompt chunk, or a recomputation */
			computed += sched;
			sched = 0;
			r->computed = computed;
			r->sched = 0;
			if (cfg->enable_prefix_caching && r->n_prefix < r->prefix_blocks)
				llmcap_register_prefix(s, rp, r);
			if (computed == num_tokens) {
				r->generated = ++generated;
				output_tokens++;
				if (generated == 1)
					r->first_token = s->now;
				else if (s->now - r->last_token > r->max_gap)
					r->max_gap = s->now - r->last_token;
				r->last_token = s->now;
				if (generated == r->output) {
					llmcap_release_blocks(rp, r);
					llmcap_complete(s, ri, id);
					continue;
				}
				/* disaggregated: the prompt's end leaves for a decode replica */
				if (generated == 1 && s->dg && llmcap_disagg_handoff(s, ri, id))
					continue;
			}
		}
		running[keep++] = id;
		if (!fusing)
			continue;
		/* schedule()'s loop over the running requests, for this one */
		const int64_t rem = (int64_t)prompt + generated - computed;
		if (rem == 0) {
			acc.next = keep;
			acc.finishing = false;
			continue;
		}
		const int64_t want = rem < acc.budget ? rem : acc.budget;
		const int64_t need = blocks_for(computed + want, bs, bs_shift) - r->blocks;
		if (need > rp->free_blocks) {
			fusing = false; /* schedule() takes it from here */
			continue;
		}
		if (need != 0) {
			rp->free_blocks -= need;
			r->blocks += (int32_t)need;
		}
		r->sched = (int32_t)want;
		acc.budget -= want;
		shape_add_one(&acc.sum, computed, want, rem);
		sched_note(&acc, r, want, rem);
		acc.next = keep;
		if (acc.budget == 0)
			fusing = false; /* schedule()'s loop ends here */
	}
	st->prefill_tokens += (double)prefill_tokens;
	st->output_tokens += (double)output_tokens;
	struct sched_start ss = acc;
	rp->n_running = keep;
	if (s->dg) /* reservations waiting for this decode replica's blocks */
		llmcap_disagg_retry(s, ri);
	llmcap_try_start_step(s, ri, &ss);
}

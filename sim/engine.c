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
 *
 * Prefix caching (vLLM's automatic prefix caching): full blocks of a class's shared prefix are
 * cached by (class, prefix group, block index); a request admitted with computed == 0 reuses the
 * longest run of cached leading blocks (at most num_tokens - 1 tokens, as vLLM caps it), which
 * skips their prefill. Unreferenced cached blocks stay allocatable and are evicted least recently
 * freed first. A request with trace hash ids (a Mooncake row) keys its blocks by the chained ids
 * instead (block_key), so that requests of any class share the blocks whose tokens agree.
 */
#include <assert.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/event.h"
#include "llmcap/sim.h"
#include "llmcap/workload.h"

enum { EV_ARRIVAL = 1, EV_STEP_END = 2, EV_SAMPLE = 3, EV_TIMEOUT = 4, EV_KICK = 5 };
enum { R_WAITING = 1, R_RUNNING = 2, R_SWAPPED = 3 };

struct req {
	llmcap_time arrival, first_sched, first_token, last_token;
	llmcap_time max_gap;       /* longest wait between consecutive tokens */
	int64_t id;
	int32_t prompt, output;    /* tokens */
	int32_t computed;          /* tokens whose KV is in the cache */
	int32_t generated;         /* output tokens emitted */
	int32_t blocks;            /* GPU KV blocks held, shared prefix blocks included */
	int32_t sched;             /* tokens scheduled in the step in flight */
	int32_t prefix_hit;        /* tokens reused from the prefix cache at first admission */
	int32_t n_prefix;          /* leading blocks held as prefix-cache entries */
	int32_t prefix_cap;        /* capacity of prefix_ent */
	int32_t *prefix_ent;       /* their entry ids */
	int32_t prefix_blocks;     /* cacheable leading blocks (full blocks of the shared prefix) */
	int32_t prefix_group;
	int32_t n_chain;           /* trace hash ids: chained (prefix) hashes of each trace block */
	uint64_t *chain;
	int32_t swap_blocks;       /* blocks held in CPU memory while swapped out */
	int64_t priority;
	uint32_t cls, pool, replica;
	uint32_t preemptions;
	uint8_t state;
	bool admitted_once;
	int32_t next_free;
};

/* Ring buffer of request slots with push at either end. */
struct deque {
	int32_t *buf;
	size_t head, len, cap;
};

/* Prefix cache of one replica: entries chained in hash buckets; unreferenced entries in an
 * LRU list (evict from the head, the least recently freed). */
struct pentry {
	uint64_t key;
	int32_t next;       /* bucket chain, or the free list */
	int32_t ref;
	int32_t lru_prev, lru_next;
};

struct pcache {
	struct pentry *ent;
	int32_t *bucket;
	size_t n_buckets;
	int32_t free_ent;
	int32_t lru_head, lru_tail;
	int64_t n_cached, n_evictable;
};

struct replica {
	size_t pool;
	struct deque waiting, swapped;
	int32_t *running; /* admission order */
	size_t n_running, cap_running;
	int64_t num_blocks;
	int64_t free_blocks;   /* neither held nor cached */
	int64_t cpu_blocks, cpu_free;
	int64_t outstanding;
	int64_t waiting_tokens; /* prefill tokens still to compute of waiting requests */
	bool busy;
	bool kicked;            /* a start-of-step event is pending */
	llmcap_time step_start, kv_last;
	llmcap_time step_extra; /* swap transfers of the step being built */
	struct llmcap_step_work work; /* of the step in flight */
	struct pcache pc;
	/* time-series state: cumulative values at the previous sample, and interval counts */
	llmcap_time busy_prev;
	double prefill_prev, output_prev;
	int64_t arrivals_int, completions_int;
};

struct pool_rt {
	struct llmcap_perf perf;
	const struct llmcap_pool_cfg *cfg;
	int64_t max_model_len;
	double block_bytes; /* one block's KV bytes on one GPU */
	size_t rr_next;
	gsl_rng *api;       /* API latency draws for spilled requests */
	/* prefix-affinity: the replica last sent each (class, group), by a hash of it */
	int32_t *affinity;
	size_t n_affinity;
};

struct sim {
	const struct llmcap_scenario *sc;
	struct llmcap_results *res;
	struct llmcap_workload wl;
	struct llmcap_events events;
	gsl_rng *routing, *prefix_rng;
	struct req *reqs;
	size_t n_reqs, cap_reqs;
	int32_t free_list;
	struct replica *replicas;
	struct pool_rt pools[LLMCAP_MAX_POOLS];
	size_t class_pool[LLMCAP_MAX_CLASSES], class_long_pool[LLMCAP_MAX_CLASSES];
	int64_t next_id;
	llmcap_time now;
	bool oom;
	int sink_rc; /* first non-zero return of a sink callback */
	const struct llmcap_sink *sink;
	const struct llmcap_scripted_request *script; /* instead of the generator, if set */
	size_t script_n, script_next;
	/* hash ids of the arrival scheduled ahead and of the one being handled (two buffers,
	 * since the next arrival is drawn before the current one is handled) */
	uint64_t *ids[2];
	size_t n_ids[2], cap_ids[2];
	int ids_pending;
	int64_t hash_block_tokens;
	bool trace_failed;
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

static int32_t *deque_at(struct deque *d, size_t i)
{
	return &d->buf[(d->head + i) % d->cap];
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

static void deque_pop_front(struct deque *d)
{
	d->head = (d->head + 1) % d->cap;
	d->len--;
}

/* Removes the element at position i, keeping the order of the others. O(n). */
static void deque_remove_at(struct deque *d, size_t i)
{
	for (; i + 1 < d->len; i++)
		*deque_at(d, i) = *deque_at(d, i + 1);
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
	free(s->reqs[i].prefix_ent);
	s->reqs[i].prefix_ent = NULL;
	free(s->reqs[i].chain);
	s->reqs[i].chain = NULL;
	s->reqs[i].state = 0;
	s->reqs[i].next_free = s->free_list;
	s->free_list = i;
}

/* ---- the prefix cache ---- */

static uint64_t prefix_key(uint32_t cls, int32_t group, int32_t block)
{
	uint64_t k[3] = {cls, (uint64_t)(uint32_t)group, (uint64_t)(uint32_t)block};
	return llmcap_hash_bytes(LLMCAP_HASH_INIT, k, sizeof k);
}

/* The cache key of a request's block: by (class, prefix group, index) for a class's shared
 * prefix; for a request with trace hash ids, by the chained hash of every trace block up to the
 * one holding the block's last token, and the block's index. Two requests then share a block
 * exactly when their ids agree over all the tokens up to its end, whatever block_size is. */
static uint64_t block_key(const struct sim *s, const struct req *r, int32_t block)
{
	if (!r->chain)
		return prefix_key(r->cls, r->prefix_group, block);
	int64_t bs = s->pools[r->pool].cfg->block_size;
	int64_t k = ((int64_t)(block + 1) * bs - 1) / s->hash_block_tokens;
	assert(k >= 0 && k < r->n_chain);
	uint64_t x[2] = {r->chain[k], (uint64_t)(uint32_t)block};
	return llmcap_hash_bytes(UINT64_C(0x51afd7ed558ccd), x, sizeof x);
}

static bool pcache_init(struct pcache *pc, int64_t num_blocks)
{
	size_t nb = 16;
	while (nb < (size_t)num_blocks)
		nb *= 2;
	pc->n_buckets = nb;
	pc->bucket = malloc(nb * sizeof *pc->bucket);
	pc->ent = malloc((size_t)num_blocks * sizeof *pc->ent);
	if (!pc->bucket || !pc->ent)
		return false;
	for (size_t i = 0; i < nb; i++)
		pc->bucket[i] = -1;
	for (int64_t i = 0; i < num_blocks; i++)
		pc->ent[i].next = i + 1 < num_blocks ? (int32_t)(i + 1) : -1;
	pc->free_ent = 0;
	pc->lru_head = pc->lru_tail = -1;
	return true;
}

static int32_t pcache_find(const struct pcache *pc, uint64_t key)
{
	for (int32_t e = pc->bucket[key & (pc->n_buckets - 1)]; e >= 0; e = pc->ent[e].next)
		if (pc->ent[e].key == key)
			return e;
	return -1;
}

static void lru_unlink(struct pcache *pc, int32_t e)
{
	struct pentry *x = &pc->ent[e];
	if (x->lru_prev >= 0)
		pc->ent[x->lru_prev].lru_next = x->lru_next;
	else
		pc->lru_head = x->lru_next;
	if (x->lru_next >= 0)
		pc->ent[x->lru_next].lru_prev = x->lru_prev;
	else
		pc->lru_tail = x->lru_prev;
}

static void lru_append(struct pcache *pc, int32_t e)
{
	pc->ent[e].lru_prev = pc->lru_tail;
	pc->ent[e].lru_next = -1;
	if (pc->lru_tail >= 0)
		pc->ent[pc->lru_tail].lru_next = e;
	else
		pc->lru_head = e;
	pc->lru_tail = e;
}

/* Evicts the least recently freed unreferenced entry; its block becomes free. */
static void pcache_evict_one(struct replica *rp)
{
	struct pcache *pc = &rp->pc;
	int32_t e = pc->lru_head;
	assert(e >= 0);
	lru_unlink(pc, e);
	int32_t *link = &pc->bucket[pc->ent[e].key & (pc->n_buckets - 1)];
	while (*link != e)
		link = &pc->ent[*link].next;
	*link = pc->ent[e].next;
	pc->ent[e].next = pc->free_ent;
	pc->free_ent = e;
	pc->n_cached--;
	pc->n_evictable--;
	rp->free_blocks++;
}

/* ---- blocks ---- */

static int64_t blocks_for(int64_t tokens, int64_t block_size)
{
	return (tokens + block_size - 1) / block_size;
}

/* Blocks an allocation may use: free ones, and cached ones nobody references. */
static int64_t allocatable(const struct replica *rp)
{
	return rp->free_blocks + rp->pc.n_evictable;
}

static int64_t used_blocks(const struct replica *rp)
{
	return rp->num_blocks - allocatable(rp);
}

static void take_blocks(struct sim *s, size_t ri, int64_t n)
{
	struct replica *rp = &s->replicas[ri];
	while (rp->free_blocks < n) {
		pcache_evict_one(rp);
		s->res->replicas[ri].prefix_evictions++;
	}
	rp->free_blocks -= n;
}

/* Gives back every GPU block a request holds: private blocks become free, prefix entries lose a
 * reference (and become evictable, the request's last blocks first, as vLLM frees in reverse). */
static void release_blocks(struct replica *rp, struct req *r)
{
	for (int32_t i = r->n_prefix - 1; i >= 0; i--) {
		struct pentry *e = &rp->pc.ent[r->prefix_ent[i]];
		if (--e->ref == 0) {
			lru_append(&rp->pc, r->prefix_ent[i]);
			rp->pc.n_evictable++;
		}
	}
	rp->free_blocks += r->blocks - r->n_prefix;
	r->blocks = 0;
	r->n_prefix = 0;
}

/* After a step, blocks of the shared prefix that this request computed become cache entries
 * (unless another request cached the same block first). */
static void register_prefix(struct sim *s, struct replica *rp, struct req *r)
{
	const int64_t bs = s->pools[rp->pool].cfg->block_size;
	int64_t full = r->computed / bs;
	if (full > r->prefix_blocks)
		full = r->prefix_blocks;
	while (r->n_prefix < full) {
		uint64_t key = block_key(s, r, r->n_prefix);
		if (pcache_find(&rp->pc, key) >= 0 || rp->pc.free_ent < 0)
			return; /* a duplicate stays private, as does anything after it */
		int32_t e = rp->pc.free_ent;
		rp->pc.free_ent = rp->pc.ent[e].next;
		size_t b = key & (rp->pc.n_buckets - 1);
		rp->pc.ent[e] = (struct pentry){.key = key, .next = rp->pc.bucket[b], .ref = 1,
						.lru_prev = -1, .lru_next = -1};
		rp->pc.bucket[b] = e;
		rp->pc.n_cached++;
		if (r->n_prefix == r->prefix_cap) {
			int32_t cap = r->prefix_cap ? 2 * r->prefix_cap : 8;
			int32_t *ne = realloc(r->prefix_ent, (size_t)cap * sizeof *ne);
			if (!ne) {
				s->oom = true;
				return;
			}
			r->prefix_ent = ne;
			r->prefix_cap = cap;
		}
		/* the block was private; it is now held through the entry */
		r->prefix_ent[r->n_prefix++] = e;
	}
}

/* ---- bookkeeping ---- */

const char *llmcap_request_status_name(int status)
{
	switch (status) {
	case LLMCAP_REQ_COMPLETED: return "completed";
	case LLMCAP_REQ_REJECTED_MAX_MODEL_LEN: return "rejected:max_model_len";
	case LLMCAP_REQ_UNFINISHED: return "unfinished";
	case LLMCAP_REQ_REJECTED_QUEUE_FULL: return "rejected:queue_full";
	case LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT: return "rejected:queue_timeout";
	case LLMCAP_REQ_SPILLED_QUEUE_FULL: return "spilled:queue_full";
	case LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT: return "spilled:queue_timeout";
	case LLMCAP_REQ_SPILLED_POOL_WAITING: return "spilled:pool_waiting";
	case LLMCAP_REQ_SPILLED_POOL_KV: return "spilled:pool_kv";
	}
	return "?";
}

bool llmcap_status_is_rejected(int status)
{
	return status == LLMCAP_REQ_REJECTED_MAX_MODEL_LEN || status == LLMCAP_REQ_REJECTED_QUEUE_FULL ||
	       status == LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT;
}

bool llmcap_status_is_spilled(int status)
{
	return status >= LLMCAP_REQ_SPILLED_QUEUE_FULL && status <= LLMCAP_REQ_SPILLED_POOL_KV;
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
	s->res->classes[r->cls].by_status[st]++;
	if (!s->sink || !s->sink->request || s->sink_rc)
		return;
	bool spilled = llmcap_status_is_spilled(st);
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
		.prefix_hit_tokens = r->prefix_hit,
		.queue = span_s(r->arrival, r->first_sched),
		.ttft = span_s(r->arrival, r->first_token),
		.tpot = r->generated > 1 ? span_s(r->first_token, r->last_token) / (r->generated - 1) : NAN,
		.max_gap = r->generated > 1 && !spilled ? (double)r->max_gap * 1e-9 : NAN,
		.e2e = st == LLMCAP_REQ_COMPLETED || spilled ? span_s(r->arrival, r->last_token) : NAN,
	};
	s->sink_rc = s->sink->request(s->sink->user, &out);
}

static void kv_account(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	st->kv_block_time += (double)used_blocks(rp) * (double)(s->now - rp->kv_last);
	rp->kv_last = s->now;
}

static int64_t remaining_prefill(const struct req *r)
{
	return (int64_t)r->prompt + r->generated - r->computed;
}

/* Whether the request met both of its class's targets (a one-token reply has no TPOT). */
static bool meets_slo(const struct sim *s, const struct req *r, double ttft, double tpot)
{
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[r->cls];
	return ttft <= (double)cl->slo_ttft_p99 * 1e-9 &&
	       (r->output <= 1 || tpot <= (double)cl->slo_tpot_p99 * 1e-9);
}

#ifdef LLMCAP_INVARIANTS
/* Full consistency check of a replica, O(requests): enabled in test and sanitizer builds. */
static void check_replica(const struct sim *s, const struct replica *rp)
{
	int64_t private_blocks = 0, n = 0;
	for (size_t i = 0; i < rp->n_running; i++) {
		const struct req *r = &s->reqs[rp->running[i]];
		assert(r->state == R_RUNNING);
		assert(r->generated <= r->output);
		assert(r->computed <= r->prompt + r->generated);
		assert(r->blocks >= r->n_prefix && r->n_prefix <= r->prefix_blocks);
		private_blocks += r->blocks - r->n_prefix;
		n++;
	}
	int64_t waiting_tokens = 0;
	for (size_t i = 0; i < rp->waiting.len; i++) {
		const struct req *r = &s->reqs[rp->waiting.buf[(rp->waiting.head + i) % rp->waiting.cap]];
		assert(r->state == R_WAITING && r->blocks == 0);
		waiting_tokens += remaining_prefill(r);
		n++;
	}
	int64_t cpu = 0;
	for (size_t i = 0; i < rp->swapped.len; i++) {
		const struct req *r = &s->reqs[rp->swapped.buf[(rp->swapped.head + i) % rp->swapped.cap]];
		assert(r->state == R_SWAPPED && r->blocks == 0);
		cpu += r->swap_blocks;
		n++;
	}
	assert(n == rp->outstanding);
	assert(waiting_tokens == rp->waiting_tokens);
	assert(rp->free_blocks >= 0 && rp->pc.n_evictable >= 0);
	assert(private_blocks + rp->pc.n_cached + rp->free_blocks == rp->num_blocks);
	assert(cpu + rp->cpu_free == rp->cpu_blocks);
}
#define CHECK_REPLICA(s, rp) check_replica(s, rp)
#else
#define CHECK_REPLICA(s, rp) ((void)0)
#endif

/* ---- the waiting queue ---- */

/* Queue position for a request under the pool's policy: FCFS appends (or, for a preempted
 * request, prepends); priority keeps (priority, arrival, id) order. */
static void enqueue_waiting(struct sim *s, struct replica *rp, int32_t id, bool front)
{
	struct req *r = &s->reqs[id];
	r->state = R_WAITING;
	rp->waiting_tokens += remaining_prefill(r);
	bool ok;
	if (s->pools[rp->pool].cfg->scheduling_policy == LLMCAP_SCHED_FCFS) {
		ok = front ? deque_push_front(&rp->waiting, id) : deque_push_back(&rp->waiting, id);
	} else {
		ok = deque_push_back(&rp->waiting, id);
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
	}
	if (!ok)
		s->oom = true;
}

static void spill_or_reject(struct sim *s, struct req *r, enum llmcap_request_status st);

/* ---- the scheduler ---- */

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
	if (pl->cfg->preemption_mode == LLMCAP_PREEMPT_SWAP && v->blocks <= rp->cpu_free) {
		/* The whole KV cache of the request moves to CPU memory; every TP rank moves its
		 * share in parallel, so one GPU's bytes over one GPU's link set the time. */
		int32_t nb = v->blocks;
		release_blocks(rp, v);
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
	release_blocks(rp, v);
	v->computed = 0;
	enqueue_waiting(s, rp, id, true);
}

/* Index of the running request to preempt: FCFS the last admitted; priority the largest
 * (priority, arrival), as vLLM v1 picks. */
static size_t victim_index(const struct sim *s, const struct replica *rp)
{
	if (s->pools[rp->pool].cfg->scheduling_policy == LLMCAP_SCHED_FCFS)
		return rp->n_running - 1;
	size_t v = 0;
	for (size_t i = 1; i < rp->n_running; i++) {
		const struct req *a = &s->reqs[rp->running[i]], *b = &s->reqs[rp->running[v]];
		if (a->priority > b->priority || (a->priority == b->priority && a->arrival >= b->arrival))
			v = i;
	}
	return v;
}

/* Prefix-cache lookup for a request about to be admitted with nothing computed: how many
 * leading blocks are cached, and how many of those are unreferenced (reviving them uses up
 * allocatable blocks, as vLLM counts them). */
static int32_t prefix_lookup(const struct sim *s, const struct replica *rp, const struct req *r,
			     int64_t *revived)
{
	const int64_t bs = s->pools[rp->pool].cfg->block_size;
	int64_t cap = ((int64_t)r->prompt + r->generated - 1) / bs;
	int64_t n = r->prefix_blocks < cap ? r->prefix_blocks : cap;
	int32_t hits = 0;
	*revived = 0;
	while (hits < n) {
		int32_t e = pcache_find(&rp->pc, block_key(s, r, hits));
		if (e < 0)
			break;
		*revived += rp->pc.ent[e].ref == 0;
		hits++;
	}
	return hits;
}

static bool hold_prefix(struct sim *s, struct replica *rp, struct req *r, int32_t hits)
{
	if (hits > r->prefix_cap) {
		int32_t *ne = realloc(r->prefix_ent, (size_t)hits * sizeof *ne);
		if (!ne)
			return false;
		r->prefix_ent = ne;
		r->prefix_cap = hits;
	}
	for (int32_t i = 0; i < hits; i++) {
		int32_t e = pcache_find(&rp->pc, block_key(s, r, i));
		if (rp->pc.ent[e].ref++ == 0) {
			lru_unlink(&rp->pc, e);
			rp->pc.n_evictable--;
		}
		r->prefix_ent[i] = e;
	}
	r->n_prefix = hits;
	r->blocks = hits;
	return true;
}

/* Builds the next step; returns its shape (tokens == 0: nothing to do). */
static struct llmcap_step_shape schedule(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct llmcap_pool_cfg *cfg = pl->cfg;
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const int64_t bs = cfg->block_size;
	int64_t budget = cfg->max_num_batched_tokens;
	struct llmcap_step_shape shape = {0};
	bool preempted = false;

	kv_account(s, ri);
	rp->step_extra = 0;
	for (size_t i = 0; i < rp->n_running && budget > 0; i++) {
		int32_t id = rp->running[i];
		struct req *r = &s->reqs[id];
		int64_t want = remaining_prefill(r);
		if (want > budget)
			want = budget;
		if (want == 0)
			continue;
		bool self_preempted = false;
		for (;;) {
			int64_t need = blocks_for(r->computed + want, bs) - r->blocks;
			if (need <= allocatable(rp)) {
				take_blocks(s, ri, need);
				r->blocks += (int32_t)need;
				break;
			}
			size_t vi = victim_index(s, rp);
			int32_t victim = rp->running[vi];
			if (vi < i) {
				/* already scheduled in this step: its tokens go back to the budget */
				budget += s->reqs[victim].sched;
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
	}
	/* swapped requests come back before any new admission */
	while (!preempted && rp->swapped.len > 0 && budget > 0 &&
	       (int64_t)rp->n_running < cfg->max_num_seqs) {
		int32_t id = *deque_at(&rp->swapped, 0);
		struct req *r = &s->reqs[id];
		int64_t want = remaining_prefill(r);
		if (want > budget)
			want = budget;
		int64_t need = blocks_for(r->computed + want, bs);
		if (need > allocatable(rp))
			break;
		deque_pop_front(&rp->swapped);
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
		if (!push_running(s, rp, id))
			break;
	}
	while (!preempted && rp->swapped.len == 0 && rp->waiting.len > 0 && budget > 0 &&
	       (int64_t)rp->n_running < cfg->max_num_seqs) {
		int32_t id = *deque_at(&rp->waiting, 0);
		struct req *r = &s->reqs[id];
		int64_t revived = 0;
		int32_t hits = 0;
		if (cfg->enable_prefix_caching && r->computed == 0 && r->prefix_blocks > 0)
			hits = prefix_lookup(s, rp, r, &revived);
		int64_t computed = (int64_t)hits * bs;
		int64_t want = (int64_t)r->prompt + r->generated - computed;
		if (!cfg->enable_chunked_prefill && want > budget)
			break;
		if (want > budget)
			want = budget;
		int64_t need = blocks_for(computed + want, bs) - hits;
		if (need + revived > allocatable(rp))
			break;
		deque_pop_front(&rp->waiting);
		rp->waiting_tokens -= remaining_prefill(r);
		if (hits > 0 && !hold_prefix(s, rp, r, hits)) {
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
		if (r->first_sched < 0)
			r->first_sched = s->now;
		budget -= want;
		if (!push_running(s, rp, id))
			break;
	}
	int64_t used = used_blocks(rp);
	assert(used >= 0 && used <= rp->num_blocks);
	if (used > st->kv_peak)
		st->kv_peak = used;

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
		st->steps++;
		st->batch_sum += (double)seqs;
		if (seqs > st->batch_peak)
			st->batch_peak = seqs;
	}
	CHECK_REPLICA(s, rp);
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
	struct llmcap_event ev = {.time = s->now + dt + rp->step_extra, .kind = EV_STEP_END,
				  .target = (uint32_t)ri};
	if (llmcap_events_push(&s->events, ev) != 0)
		s->oom = true;
}

static void complete(struct sim *s, size_t ri, int32_t id)
{
	struct req *r = &s->reqs[id];
	struct llmcap_class_stats *cs = &s->res->classes[r->cls];
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
	if (meets_slo(s, r, ttft, tpot)) {
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
	const struct llmcap_pool_cfg *cfg = s->pools[rp->pool].cfg;
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
			if (cfg->enable_prefix_caching && r->n_prefix < r->prefix_blocks)
				register_prefix(s, rp, r);
			if (r->computed == num_tokens) {
				r->generated++;
				st->output_tokens += 1;
				if (r->generated == 1)
					r->first_token = s->now;
				else if (s->now - r->last_token > r->max_gap)
					r->max_gap = s->now - r->last_token;
				r->last_token = s->now;
				if (r->generated == r->output) {
					release_blocks(rp, r);
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

/* ---- routing ---- */

static double load_score(const struct sim *s, const struct replica *rp, enum llmcap_router how)
{
	switch (how) {
	case LLMCAP_ROUTER_JSQ: return (double)rp->waiting_tokens;
	case LLMCAP_ROUTER_LEAST_KV: return (double)used_blocks(rp) / (double)rp->num_blocks;
	default: return (double)rp->outstanding;
	}
	(void)s;
}

/* The replica with the lowest score; ties go round-robin (the scan starts after the last
 * choice), as load balancers do: always taking the lowest index would pile light load onto
 * replica 0. */
static size_t least_loaded(struct sim *s, size_t pool, enum llmcap_router how)
{
	const struct llmcap_pool_stats *ps = &s->res->pools[pool];
	struct pool_rt *pl = &s->pools[pool];
	size_t n = ps->n_replicas, base = ps->first_replica;
	size_t start = pl->rr_next % n, best = base + start;
	double best_score = load_score(s, &s->replicas[best], how);
	for (size_t k = 1; k < n; k++) {
		size_t i = base + (start + k) % n;
		double sc = load_score(s, &s->replicas[i], how);
		if (sc < best_score) {
			best = i;
			best_score = sc;
		}
	}
	pl->rr_next = best - base + 1;
	return best;
}

/* Uses only what a load balancer in front of the replicas can know: request counts and queue
 * lengths it tracks, KV use replicas publish, and where it sent earlier requests. */
static size_t route(struct sim *s, size_t pool, const struct req *r)
{
	const struct llmcap_pool_stats *ps = &s->res->pools[pool];
	struct pool_rt *pl = &s->pools[pool];
	size_t n = ps->n_replicas, base = ps->first_replica;
	switch (pl->cfg->router) {
	case LLMCAP_ROUTER_ROUND_ROBIN: return base + pl->rr_next++ % n;
	case LLMCAP_ROUTER_RANDOM: return base + (size_t)gsl_rng_uniform_int(s->routing, n);
	case LLMCAP_ROUTER_POWER_OF_TWO: {
		if (n == 1)
			return base;
		size_t a = (size_t)gsl_rng_uniform_int(s->routing, n);
		size_t b = (size_t)gsl_rng_uniform_int(s->routing, n - 1);
		if (b >= a)
			b++;
		return base + (s->replicas[base + b].outstanding < s->replicas[base + a].outstanding ? b : a);
	}
	case LLMCAP_ROUTER_PREFIX_AFFINITY: {
		size_t least = least_loaded(s, pool, LLMCAP_ROUTER_LEAST_OUTSTANDING);
		if (r->prefix_blocks == 0 || !pl->affinity)
			return least;
		size_t slot = (r->chain ? r->chain[0] : prefix_key(r->cls, r->prefix_group, -1)) %
			      pl->n_affinity;
		int32_t last = pl->affinity[slot];
		/* stay with the replica that has the prefix unless it is clearly busier */
		size_t pick = last >= 0 && s->replicas[last].outstanding <=
						   s->replicas[least].outstanding + 4
				      ? (size_t)last
				      : least;
		pl->affinity[slot] = (int32_t)pick;
		return pick;
	}
	case LLMCAP_ROUTER_LEAST_OUTSTANDING:
	case LLMCAP_ROUTER_JSQ:
	case LLMCAP_ROUTER_LEAST_KV: return least_loaded(s, pool, pl->cfg->router);
	}
	return base;
}

/* ---- arrivals, limits and spill ---- */

/* A spilled request is served by the API: latency from the pool's API model, cost from the
 * class's API prices (see cost.c). */
static void spill_or_reject(struct sim *s, struct req *r, enum llmcap_request_status st)
{
	struct llmcap_class_stats *cs = &s->res->classes[r->cls];
	if (llmcap_status_is_spilled(st)) {
		const struct pool_rt *pl = &s->pools[r->pool];
		double ttft = (double)pl->cfg->spill.api_ttft_median * 1e-9;
		if (pl->cfg->spill.api_ttft_sigma > 0)
			ttft = gsl_ran_lognormal(pl->api, log(ttft), pl->cfg->spill.api_ttft_sigma);
		double tpot = (double)pl->cfg->spill.api_tpot * 1e-9;
		r->first_token = s->now + (llmcap_time)llround(ttft * 1e9);
		r->last_token = r->first_token + (llmcap_time)llround(tpot * 1e9 * (r->output - 1));
		r->generated = r->output;
		cs->spilled++;
		cs->spilled_prompt_tokens += r->prompt;
		cs->spilled_output_tokens += r->output;
		if (meets_slo(s, r, ttft, tpot)) {
			cs->slo_met++;
			cs->slo_met_output_tokens += r->output;
		}
	} else {
		cs->rejected++;
	}
	request_ended(s, r, st);
}

/* The class and lengths of a generated arrival travel in its event: 5 bits of class, 29 bits
 * each of prompt and output tokens (lengths are validated below 2^24). */
static uint64_t pack_arrival(size_t cls, int64_t prompt, int64_t output)
{
	assert(cls < 32 && prompt > 0 && prompt < (1 << 29) && output > 0 && output < (1 << 29));
	return (uint64_t)cls << 58 | (uint64_t)prompt << 29 | (uint64_t)output;
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

static void arrival(struct sim *s, uint64_t data, int ids_slot)
{
	size_t cls;
	int64_t prompt, output;
	int32_t group = 0;
	const uint64_t *ids = NULL;
	size_t n_ids = 0;
	if (s->script) {
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
	if (hour < s->res->n_hours)
		s->res->arrivals_per_hour[hour]++;

	size_t pool = cl->long_prompt_tokens > 0 && prompt > cl->long_prompt_tokens
			      ? s->class_long_pool[cls]
			      : s->class_pool[cls];
	const struct pool_rt *pl = &s->pools[pool];
	if (!s->script && cl->shared_prefix_tokens > 0 && cl->prefix_groups > 1)
		group = (int32_t)gsl_rng_uniform_int(s->prefix_rng, (unsigned long)cl->prefix_groups);
	int64_t shared = cl->shared_prefix_tokens < prompt ? cl->shared_prefix_tokens : prompt;
	struct req r = {.arrival = s->now, .first_sched = -1, .first_token = -1, .last_token = -1,
			.id = s->next_id++, .prompt = (int32_t)prompt, .output = (int32_t)output,
			.cls = (uint32_t)cls, .pool = (uint32_t)pool, .replica = UINT32_MAX,
			.priority = cl->priority, .prefix_group = group,
			.prefix_blocks = (int32_t)(shared / pl->cfg->block_size)};
	if (prompt + output > pl->max_model_len) {
		/* vLLM's server refuses a request whose prompt plus requested tokens exceed
		 * max_model_len. max_model_len never exceeds the KV cache, so every admitted
		 * request fits alone. */
		spill_or_reject(s, &r, LLMCAP_REQ_REJECTED_MAX_MODEL_LEN);
		return;
	}
	if (n_ids > 0) {
		/* full engine blocks of the prompt covered by the trace's hash ids */
		int64_t covered = (int64_t)n_ids * s->hash_block_tokens;
		if (covered > prompt)
			covered = prompt;
		r.chain = chain_ids(ids, n_ids);
		if (!r.chain) {
			s->oom = true;
			return;
		}
		r.n_chain = (int32_t)n_ids;
		r.prefix_blocks = (int32_t)(covered / pl->cfg->block_size);
	}
	size_t ri = route(s, pool, &r);
	struct replica *rp = &s->replicas[ri];
	r.replica = (uint32_t)ri;
	const bool spill = cl->when_limited == LLMCAP_LIMIT_SPILL;
	if (pl->cfg->spill.waiting_above > 0 && (int64_t)rp->waiting.len >= pl->cfg->spill.waiting_above) {
		spill_or_reject(s, &r, LLMCAP_REQ_SPILLED_POOL_WAITING);
		free(r.chain);
		return;
	}
	if (pl->cfg->spill.kv_above > 0 &&
	    (double)used_blocks(rp) >= pl->cfg->spill.kv_above * (double)rp->num_blocks) {
		spill_or_reject(s, &r, LLMCAP_REQ_SPILLED_POOL_KV);
		free(r.chain);
		return;
	}
	if (cl->max_waiting > 0 && (int64_t)rp->waiting.len >= cl->max_waiting) {
		spill_or_reject(s, &r, spill ? LLMCAP_REQ_SPILLED_QUEUE_FULL : LLMCAP_REQ_REJECTED_QUEUE_FULL);
		free(r.chain);
		return;
	}
	int32_t id = req_alloc(s);
	if (id < 0) {
		free(r.chain);
		s->oom = true;
		return;
	}
	s->reqs[id] = r;
	rp->outstanding++;
	rp->arrivals_int++;
	enqueue_waiting(s, rp, id, false);
	if (cl->max_queue_time > 0) {
		struct llmcap_event ev = {.time = s->now + cl->max_queue_time, .kind = EV_TIMEOUT,
					  .target = (uint32_t)id, .data = (uint64_t)r.id};
		if (llmcap_events_push(&s->events, ev) != 0)
			s->oom = true;
	}
	/* An idle replica starts its next step after every event of this instant, so that
	 * requests arriving together are scheduled together (the next arrival is already in the
	 * queue: see the event loop). */
	if (!rp->busy && !rp->kicked) {
		struct llmcap_event ev = {.time = s->now, .kind = EV_KICK, .target = (uint32_t)ri};
		rp->kicked = true;
		if (llmcap_events_push(&s->events, ev) != 0)
			s->oom = true;
	}
}

/* A request still waiting, never scheduled, when its class's max_queue_time runs out. */
static void queue_timeout(struct sim *s, int32_t id, int64_t req_id)
{
	if ((size_t)id >= s->n_reqs)
		return;
	struct req *r = &s->reqs[id];
	if (r->state != R_WAITING || r->id != req_id || r->first_sched >= 0)
		return; /* scheduled, finished, or the slot was reused */
	struct replica *rp = &s->replicas[r->replica];
	for (size_t i = 0; i < rp->waiting.len; i++)
		if (*deque_at(&rp->waiting, i) == id) {
			deque_remove_at(&rp->waiting, i);
			break;
		}
	rp->waiting_tokens -= remaining_prefill(r);
	rp->outstanding--;
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[r->cls];
	spill_or_reject(s, r, cl->when_limited == LLMCAP_LIMIT_SPILL ? LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT
								      : LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT);
	req_release(s, id);
	CHECK_REPLICA(s, rp);
}

static void schedule_next_arrival(struct sim *s)
{
	llmcap_time t;
	uint64_t index = 0;
	if (s->script) {
		if (s->script_next == s->script_n)
			return;
		index = s->script_next;
		t = s->script[s->script_next++].time;
	} else {
		/* class and lengths are drawn with the time: with per-class streams the class is
		 * the stream's, known only now */
		t = llmcap_workload_next_arrival(&s->wl);
		if (llmcap_workload_error(&s->wl, NULL))
			s->trace_failed = true;
		if (t >= s->sc->horizon)
			return;
		size_t cls = llmcap_workload_pick_class(&s->wl);
		int64_t prompt, output;
		llmcap_workload_lengths(&s->wl, cls, &prompt, &output);
		index = pack_arrival(cls, prompt, output);
		/* keep the arrival's hash ids until it is handled */
		const uint64_t *ids;
		size_t n = llmcap_workload_hash_ids(&s->wl, &ids);
		int b = s->ids_pending;
		if (n > s->cap_ids[b]) {
			uint64_t *nb = realloc(s->ids[b], n * sizeof *nb);
			if (!nb) {
				s->oom = true;
				return;
			}
			s->ids[b] = nb;
			s->cap_ids[b] = n;
		}
		if (n)
			memcpy(s->ids[b], ids, n * sizeof *ids);
		s->n_ids[b] = n;
	}
	if (t < s->sc->horizon) {
		struct llmcap_event ev = {.time = t, .kind = EV_ARRIVAL, .data = index};
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
				.kv_occupancy = (double)used_blocks(rp) / (double)rp->num_blocks,
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
	s->hash_block_tokens = sc->workload.trace.hash_block_tokens;
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
		s->pools[p].block_bytes = ps->plan.kv_bytes_per_token * (double)cfg->block_size;
		char name[LLMCAP_NAME_MAX + 8];
		snprintf(name, sizeof name, "api/%s", cfg->name);
		s->pools[p].api = llmcap_rng_stream(sc->seed, name);
		if (!s->pools[p].api)
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		if (cfg->router == LLMCAP_ROUTER_PREFIX_AFFINITY) {
			s->pools[p].n_affinity = 4096;
			s->pools[p].affinity = malloc(4096 * sizeof *s->pools[p].affinity);
			if (!s->pools[p].affinity)
				return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
			for (size_t i = 0; i < 4096; i++)
				s->pools[p].affinity[i] = -1;
		}
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
		for (size_t p = 0; p < sc->n_pools; p++) {
			if (!strcmp(sc->pools[p].name, pool))
				s->class_pool[c] = p;
			if (!strcmp(sc->pools[p].name, cl->long_prompt_pool))
				s->class_long_pool[c] = p;
		}
	}
	res->n_replicas = n_rep;
	res->replicas = calloc(n_rep, sizeof *res->replicas);
	s->replicas = calloc(n_rep, sizeof *s->replicas);
	res->n_hours = (size_t)((sc->horizon + LLMCAP_HOUR - 1) / LLMCAP_HOUR);
	res->arrivals_per_hour = calloc(res->n_hours ? res->n_hours : 1, sizeof *res->arrivals_per_hour);
	s->routing = llmcap_rng_stream(sc->seed, "routing");
	s->prefix_rng = llmcap_rng_stream(sc->seed, "prefix-groups");
	if (!res->replicas || !s->replicas || !res->arrivals_per_hour || !s->routing || !s->prefix_rng)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	for (size_t p = 0; p < sc->n_pools; p++)
		for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
			const struct llmcap_pool_cfg *cfg = &sc->pools[p];
			struct replica *rp = &s->replicas[res->pools[p].first_replica + i];
			rp->pool = p;
			rp->num_blocks = rp->free_blocks = res->pools[p].plan.num_blocks;
			rp->pc.lru_head = rp->pc.lru_tail = rp->pc.free_ent = -1;
			if (cfg->enable_prefix_caching && !pcache_init(&rp->pc, rp->num_blocks))
				return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
			if (cfg->preemption_mode == LLMCAP_PREEMPT_SWAP)
				rp->cpu_blocks = rp->cpu_free =
					(int64_t)floor(cfg->swap_space / s->pools[p].block_bytes);
		}
	return llmcap_workload_init(&s->wl, sc, err);
}

static void teardown(struct sim *s)
{
	llmcap_workload_free(&s->wl);
	llmcap_events_free(&s->events);
	gsl_rng_free(s->routing);
	gsl_rng_free(s->prefix_rng);
	free(s->ids[0]);
	free(s->ids[1]);
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++) {
		gsl_rng_free(s->pools[p].api);
		free(s->pools[p].affinity);
	}
	if (s->replicas)
		for (size_t i = 0; i < s->res->n_replicas; i++) {
			free(s->replicas[i].waiting.buf);
			free(s->replicas[i].swapped.buf);
			free(s->replicas[i].running);
			free(s->replicas[i].pc.ent);
			free(s->replicas[i].pc.bucket);
		}
	free(s->replicas);
	for (size_t i = 0; i < s->n_reqs; i++) {
		free(s->reqs[i].prefix_ent);
		free(s->reqs[i].chain);
	}
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
		/* preempted requests wait (or sit swapped out) with tokens already emitted */
		struct deque *queues[2] = {&rp->waiting, &rp->swapped};
		for (int q = 0; q < 2; q++)
			for (size_t i = 0; i < queues[q]->len; i++) {
				const struct req *r = &s->reqs[*deque_at(queues[q], i)];
				s->res->classes[r->cls].unfinished++;
				s->res->classes[r->cls].unfinished_output_tokens += r->generated;
				request_ended(s, r, LLMCAP_REQ_UNFINISHED);
			}
	}
}

static int run(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
	       const struct llmcap_sink *sink, const struct llmcap_scripted_request *script,
	       size_t script_n, struct llmcap_results *res, struct llmcap_error *err)
{
	struct sim s;
	int rc = setup(&s, sc, cat, sink, res, err);
	s.script = script;
	s.script_n = script_n;
	if (rc == 0) {
		schedule_next_arrival(&s);
		if (sink && sink->sample_interval > 0 && sink->sample_interval <= sc->horizon) {
			struct llmcap_event first = {.time = sink->sample_interval, .kind = EV_SAMPLE};
			if (llmcap_events_push(&s.events, first) != 0)
				s.oom = true;
		}
		struct llmcap_event ev;
		bool canceled = false;
		while (!s.oom && !s.sink_rc && !s.trace_failed && llmcap_events_pop(&s.events, &ev)) {
			if (ev.time > sc->horizon)
				break;
			assert(ev.time >= s.now && "simulated time went backwards");
			s.now = ev.time;
			res->events++;
			if (ev.kind == EV_ARRIVAL) {
				/* the next arrival first: one at this same instant then runs before
				 * the replica's start-of-step event */
				int cur = s.ids_pending;
				s.ids_pending ^= 1;
				schedule_next_arrival(&s);
				arrival(&s, ev.data, cur);
			} else if (ev.kind == EV_KICK) {
				s.replicas[ev.target].kicked = false;
				try_start_step(&s, ev.target);
			} else if (ev.kind == EV_STEP_END) {
				step_end(&s, ev.target);
			} else if (ev.kind == EV_TIMEOUT) {
				queue_timeout(&s, (int32_t)ev.target, (int64_t)ev.data);
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
		else if (s.trace_failed)
			rc = llmcap_workload_error(&s.wl, err);
		else if (s.oom)
			rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory during the simulation");
		else if (s.sink_rc == 0)
			finish_at_horizon(&s);
		if (s.wl.replay) {
			res->has_trace = true;
			res->trace = *llmcap_replay_stats(s.wl.replay);
		}
		if (rc == 0 && s.sink_rc)
			rc = llmcap_errorf(err, -s.sink_rc > 0 ? -s.sink_rc : LLMCAP_EIO,
					   "writing the output failed");
	}
	teardown(&s);
	if (rc)
		llmcap_results_free(res);
	return rc;
}

int llmcap_simulate(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		    const struct llmcap_sink *sink, struct llmcap_results *res,
		    struct llmcap_error *err)
{
	return run(sc, cat, sink, NULL, 0, res, err);
}

int llmcap_simulate_script(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			   const struct llmcap_sink *sink, const struct llmcap_scripted_request *reqs,
			   size_t n, struct llmcap_results *res, struct llmcap_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (reqs[i].cls >= sc->workload.n_classes || reqs[i].prompt < 1 || reqs[i].output < 1 ||
		    (i > 0 && reqs[i].time < reqs[i - 1].time) || reqs[i].time < 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "scripted request %zu: expected a known class, lengths >= 1 "
					     "and non-decreasing times", i);
	return run(sc, cat, sink, reqs, n, res, err);
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

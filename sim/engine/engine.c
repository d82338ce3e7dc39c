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

/* The kind is also the order of events scheduled for the same time at the same time (see
 * push_event): arrivals of an instant run before the kicks they cause. */
enum { EV_ARRIVAL = 1, EV_STEP_END = 2, EV_SAMPLE = 3, EV_TIMEOUT = 4, EV_KICK = 5 };
enum { R_WAITING = 1, R_RUNNING = 2, R_SWAPPED = 3 };

/* The KV block-time integral (blocks x ns) is summed exactly, in 128 bits, and converted to the
 * reported double once, at the horizon: a sum of whole numbers has the same value in any order
 * and grouping, so the fast mode may add a run's steps in closed form. */
__extension__ typedef unsigned __int128 u128;

struct req {
	/* what the scheduler reads for every running request at every step first, together */
	int32_t prompt, output;    /* tokens */
	int32_t computed;          /* tokens whose KV is in the cache */
	int32_t generated;         /* output tokens emitted */
	int32_t blocks;            /* GPU KV blocks held, shared prefix blocks included */
	int32_t sched;             /* tokens scheduled in the step in flight */
	int32_t n_prefix;          /* leading blocks held as prefix-cache entries */
	int32_t prefix_blocks;     /* cacheable leading blocks (full blocks of the shared prefix) */
	llmcap_time last_token;
	llmcap_time max_gap;       /* longest wait between consecutive tokens */
	llmcap_time arrival, first_sched, first_token;
	int64_t id;
	int32_t prefix_hit;        /* tokens reused from the prefix cache at first admission */
	int32_t prefix_cap;        /* capacity of prefix_ent */
	int32_t *prefix_ent;       /* their entry ids */
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

/* A run in progress: step j is scheduled and ends at t after dt; the replica's clock, blocks and
 * the statistics that step_end and schedule() accumulate per step. */
struct run {
	llmcap_time t, dt, prev, max_dt; /* prev: end of step j - 1; max_dt: over steps 2..j-1 */
	int64_t j, free_blocks, used, busy, oor;
	u128 kvt;
	double flops, bytes;
	struct llmcap_step_work w;
};

/* The fixed-point step timer of a run (decode_run_fixed): X - eps + 2^(fb-1), X of the next
 * step, as its integer part and its fb-bit fraction in the top bits of a second word; the
 * growth D a step, likewise; and the margin's complement span = 2^fb - 2 eps, likewise. */
struct fixed_timer {
	uint64_t xi, xf, di, df, span;
};

/* A run of decode steps taken by the fast mode, with what applying it needs (run_apply). */
struct pending_run {
	struct run run;
	struct fixed_timer ft;
	int64_t ctx, min_rem;     /* contexts before step 1; the fewest tokens left to emit */
	llmcap_time start, gap1;  /* step 1's start and end */
	int64_t pops;             /* the run's steps that ended as events (run_resume) */
	int64_t prefill1;         /* prompt tokens computed by step 1 */
	bool screened;            /* timed by decode_run_fixed */
	bool sparse;              /* by decode_run_sparse */
	bool ample;               /* by decode_run_ample: its blocks cannot run out */
	int64_t one;              /* ample with one sequence: its boundary's phase, else -1 */
	uint64_t marks;           /* sparse: bits m and m + bs set where phase[m] > 0 */
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
	int64_t queued;         /* requests here never scheduled yet */
	llmcap_time count_last; /* when in_system_time and queued_time were last brought up */
	int64_t waiting_tokens; /* prefill tokens still to compute of waiting requests */
	bool busy;
	bool kicked;            /* a start-of-step event is pending */
	llmcap_time step_start, kv_last;
	u128 kvt;               /* the KV block-time integral up to kv_last (blocks x ns) */
	bool plain;             /* the last schedule() preempted, swapped and admitted nothing */
	bool preempted;         /* the last schedule() preempted */
	bool blocked;           /* the last schedule() left the request at the head of the swapped
				 * or waiting queue for want of blocks or of a sequence slot */
	int32_t *phase;         /* fast mode: block_size counters of a decode run's boundaries */
	llmcap_time step_extra; /* swap transfers of the step being built */
	struct llmcap_step_work work; /* of the step in flight */
	/* fast mode: the step timer of steps with tm_n tokens and as many samples (decodes),
	 * kept while the batch size stays (-1: none yet) */
	const struct llmcap_step_timer *tm;
	int64_t tm_n;
	struct llmcap_step_timer tm_own; /* for batches beyond the pool's table */
	/* fast mode: a run whose steps are taken but not applied yet (deferred), and whether an
	 * arrival or a timeout reached the replica since (touched) */
	struct pending_run pr;
	bool deferred, touched;
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
	int bs_shift;       /* log2(block_size) if a power of two, else -1 */
	/* fast mode: step timers of decode steps of n sequences (n < n_timers), built when first
	 * needed (timer_ok) and shared by the pool's replicas */
	struct llmcap_step_timer *timers;
	uint8_t *timer_ok;
	int64_t n_timers;
	size_t rr_next;     /* round-robin's next replica, where least-loaded scans from (< n) */
	gsl_rng *api;       /* API latency draws for spilled requests */
	/* prefix-affinity: the replica last sent each (class, group), by a hash of it */
	int32_t *affinity;
	size_t n_affinity;
};

/* Queue deadlines of one class, in arrival order (hence in time order: one max_queue_time per
 * class). Entries whose request was scheduled or has ended are dropped lazily. */
struct deadlines {
	struct deadline {
		llmcap_time time;
		int64_t id;
		int32_t slot;
	} *buf;
	size_t head, len, cap;
};

struct pending_arrival {
	llmcap_time time;
	uint64_t index; /* the arrival event's data */
	uint32_t pool;
	uint64_t *ids;  /* a trace's prefix hash ids (owned), or NULL */
	size_t n_ids;
};

struct arrivals_ahead {
	struct pending_arrival *buf;
	size_t head, len, cap;
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
	int64_t in_flight; /* requests waiting, running or swapped, fleet-wide */
	llmcap_time now;
	bool fast;                  /* engine_mode fast: decode runs advance many steps at once */
	llmcap_time next_arrival;   /* of the pending arrival event (INT64_MAX: none) */
	/* The pending arrival event, kept beside the queue (a push and a pop an arrival fewer):
	 * the event loop takes it where it runs before the queue's top. */
	struct llmcap_event arrival_ev;
	bool arrival_due;
	size_t next_arrival_pool;
	struct arrivals_ahead ahead; /* drawn, not yet scheduled */
	bool arrivals_done;         /* none left before the horizon */
	llmcap_time next_sample;    /* of the pending sample event (INT64_MAX: none) */
	struct deadlines deadlines[LLMCAP_MAX_CLASSES];
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
	size_t cap = d->cap ? 2 * d->cap : 16; /* a power of two: indices wrap with a mask */
	int32_t *b = malloc(cap * sizeof *b);
	if (!b)
		return false;
	for (size_t i = 0; i < d->len; i++)
		b[i] = d->buf[(d->head + i) & (d->cap - 1)];
	free(d->buf);
	d->buf = b;
	d->head = 0;
	d->cap = cap;
	return true;
}

static int32_t *deque_at(struct deque *d, size_t i)
{
	return &d->buf[(d->head + i) & (d->cap - 1)];
}

static bool deque_push_back(struct deque *d, int32_t v)
{
	if (d->len == d->cap && !deque_grow(d))
		return false;
	d->buf[(d->head + d->len++) & (d->cap - 1)] = v;
	return true;
}

static bool deque_push_front(struct deque *d, int32_t v)
{
	if (d->len == d->cap && !deque_grow(d))
		return false;
	d->head = (d->head + d->cap - 1) & (d->cap - 1);
	d->buf[d->head] = v;
	d->len++;
	return true;
}

static void deque_pop_front(struct deque *d)
{
	d->head = (d->head + 1) & (d->cap - 1);
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

/* Blocks for tokens (>= 0); shift: the pool's bs_shift, log2 of a power-of-two block size (as
 * block sizes are in practice: a shift instead of a division per request per step), else -1. */
static inline int64_t blocks_for(int64_t tokens, int64_t block_size, int shift)
{
	return shift >= 0 ? (tokens + block_size - 1) >> shift : (tokens + block_size - 1) / block_size;
}

/* The step (mod bs) at which a request with c tokens computed before a run's first step needs
 * its next block: c + j a multiple of bs. */
static int64_t boundary_phase(int64_t c, int64_t bs)
{
	int64_t r = (bs & (bs - 1)) == 0 ? c & (bs - 1) : c % bs;
	return r == 0 ? 0 : bs - r;
}

/* Counts a run's request with c tokens computed after its first step but one in its phase, and
 * marks the phase (bit m of marks: phase[m] > 0; meaningful for bs <= 64). */
static inline void mark_boundary(int32_t *phase, uint64_t *marks, int64_t c, int64_t bs)
{
	const int64_t m = boundary_phase(c, bs);
	phase[m]++;
	*marks |= (uint64_t)1 << (m & 63);
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

/* The hour of a request's arrival (the last hour for one past the horizon's last whole hour):
 * its latencies' tag, and its place in the class's hourly counts. */
static uint32_t hour_index(const struct sim *s, const struct req *r)
{
	size_t h = (size_t)(r->arrival / LLMCAP_HOUR);
	return (uint32_t)(h < s->res->n_hours ? h : s->res->n_hours - 1);
}

static struct llmcap_hour_stats *hour_of(struct sim *s, const struct req *r)
{
	return &s->res->hours[r->cls * s->res->n_hours + hour_index(s, r)];
}

/* Every request ends here exactly once: it enters the digest and, if asked, the output. */
static void request_ended(struct sim *s, const struct req *r, enum llmcap_request_status st)
{
	const uint64_t rec[10] = {(uint64_t)r->id,          (uint64_t)st,
				  (uint64_t)r->cls,         (uint64_t)r->replica,
				  (uint64_t)r->arrival,     (uint64_t)r->first_token,
				  (uint64_t)r->last_token,  (uint64_t)r->preemptions,
				  (uint64_t)r->prompt,      (uint64_t)r->output};
	s->res->digest = llmcap_hash_words(s->res->digest, rec, 10);
	s->res->classes[r->cls].by_status[st]++;
	struct llmcap_hour_stats *h = hour_of(s, r);
	if (llmcap_status_is_spilled(st))
		h->spilled++;
	else if (st != LLMCAP_REQ_COMPLETED)
		h->lost++;
	if (!s->sink || !s->sink->request || s->sink_rc)
		return;
	bool spilled = llmcap_status_is_spilled(st);
	/* zeroed first: the record's padding reaches output files (HDF5 writes the struct's
	 * bytes), which must be the same for the same run */
	struct llmcap_request_record out;
	memset(&out, 0, sizeof out);
	out.id = r->id;
	out.arrival = (double)r->arrival * 1e-9;
	out.cls = (int32_t)r->cls;
	out.pool = (int32_t)r->pool;
	out.replica = r->replica == UINT32_MAX ? -1 : (int32_t)r->replica;
	out.status = st;
	out.preemptions = (int32_t)r->preemptions;
	out.prompt_tokens = r->prompt;
	out.output_tokens = r->output;
	out.generated_tokens = r->generated;
	out.prefix_hit_tokens = r->prefix_hit;
	out.queue = span_s(r->arrival, r->first_sched);
	out.ttft = span_s(r->arrival, r->first_token);
	out.tpot = r->generated > 1 ? span_s(r->first_token, r->last_token) / (r->generated - 1) : NAN;
	out.max_gap = r->generated > 1 && !spilled ? (double)r->max_gap * 1e-9 : NAN;
	out.e2e = st == LLMCAP_REQ_COMPLETED || spilled ? span_s(r->arrival, r->last_token) : NAN;
	s->sink_rc = s->sink->request(s->sink->user, &out);
}

/* Busy time of a replica, split over the simulated hours it falls in. */
static void add_busy(struct sim *s, size_t ri, llmcap_time from, llmcap_time to)
{
	llmcap_time *hours = &s->res->busy_per_hour[ri * s->res->n_hours];
	while (from < to) {
		size_t h = (size_t)(from / LLMCAP_HOUR);
		llmcap_time end = (llmcap_time)(h + 1) * LLMCAP_HOUR;
		if (end > to || h + 1 >= s->res->n_hours)
			end = to;
		if (h >= s->res->n_hours)
			h = s->res->n_hours - 1;
		hours[h] += end - from;
		from = end;
	}
}

static void kv_account(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	rp->kvt += (u128)used_blocks(rp) * (u128)(s->now - rp->kv_last);
	rp->kv_last = s->now;
}

/* Brings the integrals of requests in the system and not yet scheduled up to now; called
 * before either count changes. */
static void count_account(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	double dt = (double)(s->now - rp->count_last);
	st->in_system_time += (double)rp->outstanding * dt;
	st->queued_time += (double)rp->queued * dt;
	rp->count_last = s->now;
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
	int64_t waiting_tokens = 0, queued = 0;
	for (size_t i = 0; i < rp->waiting.len; i++) {
		const struct req *r = &s->reqs[rp->waiting.buf[(rp->waiting.head + i) & (rp->waiting.cap - 1)]];
		assert(r->state == R_WAITING && r->blocks == 0);
		waiting_tokens += remaining_prefill(r);
		queued += r->first_sched < 0;
		n++;
	}
	int64_t cpu = 0;
	for (size_t i = 0; i < rp->swapped.len; i++) {
		const struct req *r = &s->reqs[rp->swapped.buf[(rp->swapped.head + i) & (rp->swapped.cap - 1)]];
		assert(r->state == R_SWAPPED && r->blocks == 0);
		cpu += r->swap_blocks;
		n++;
	}
	assert(n == rp->outstanding);
	assert(queued == rp->queued);
	assert(waiting_tokens == rp->waiting_tokens);
	assert(rp->free_blocks >= 0 && rp->pc.n_evictable >= 0);
	assert(private_blocks + rp->pc.n_cached + rp->free_blocks == rp->num_blocks);
	assert(cpu + rp->cpu_free == rp->cpu_blocks);
}
#define CHECK_REPLICA(s, rp) check_replica(s, rp)
#else
#define CHECK_REPLICA(s, rp) ((void)0)
#endif

/* ---- events ---- */

/* Every event is pushed with origin = now and a canonical tie (its kind, then its replica or
 * request): events due at the same time then run in the order in which they were scheduled,
 * as insertion order would have it, and events scheduled at the same instant in an order that
 * depends on what they are rather than on how many pushes came before them. That lets the fast
 * mode schedule a step end several steps ahead, with the origin the step-by-step mode would
 * give it, and still have it run in its exact place (docs/performance.md). */
static void set_event(struct llmcap_event *ev, llmcap_time time, llmcap_time origin,
		      uint32_t kind, uint32_t target, uint64_t data, uint64_t index)
{
	ev->time = time;
	ev->origin = origin;
	ev->tie = (uint64_t)kind << 56 | (index & ((UINT64_C(1) << 56) - 1));
	ev->seq = 0;
	ev->kind = kind;
	ev->target = target;
	ev->data = data;
}

static struct llmcap_event make_event(llmcap_time time, llmcap_time origin, uint32_t kind,
				      uint32_t target, uint64_t data, uint64_t index)
{
	struct llmcap_event ev;
	set_event(&ev, time, origin, kind, target, data, index);
	return ev;
}

/* A replica's step end (its index is the tie among equal times and origins). */
static struct llmcap_event step_end_event(llmcap_time time, llmcap_time origin, size_t ri)
{
	return make_event(time, origin, EV_STEP_END, (uint32_t)ri, 0, ri);
}

static void push_event(struct sim *s, llmcap_time time, llmcap_time origin, uint32_t kind,
		       uint32_t target, uint64_t data, uint64_t index)
{
	if (llmcap_events_push(&s->events, make_event(time, origin, kind, target, data, index)) != 0)
		s->oom = true;
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

/* The earliest queue timeout that can still act: its request waits, never scheduled. */
static llmcap_time next_deadline(struct sim *s)
{
	llmcap_time t = INT64_MAX;
	for (size_t c = 0; c < s->sc->workload.n_classes; c++) {
		struct deadlines *d = &s->deadlines[c];
		while (d->len > 0) {
			const struct deadline *x = &d->buf[d->head];
			const struct req *r = (size_t)x->slot < s->n_reqs ? &s->reqs[x->slot] : NULL;
			if (r && r->state == R_WAITING && r->id == x->id && r->first_sched < 0)
				break;
			d->head = (d->head + 1) & (d->cap - 1);
			d->len--;
		}
		if (d->len > 0 && d->buf[d->head].time < t)
			t = d->buf[d->head].time;
	}
	return t;
}

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
static llmcap_time next_arrival_to(struct sim *s, size_t p, int64_t skip);

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

/* A step's shape, summed as requests are scheduled (and taken out again when a scheduled one is
 * preempted): whole numbers far below 2^53 (n <= budget, ctx <= max_model_len, at most
 * max_num_seqs of them), summed exactly as integers and converted once at the end. */
struct shape_sum {
	int64_t tokens, pairs, kv_read, samples, seqs;
};

static inline void shape_add(struct shape_sum *a, const struct req *r, int64_t sign)
{
	const int64_t n = r->sched, ctx = r->computed;
	a->tokens += sign * n;
	a->pairs += sign * (n * ctx + (int64_t)((uint64_t)(n * (n + 1)) >> 1));
	a->kv_read += sign * (ctx + n);
	a->samples += sign * (ctx + n == (int64_t)r->prompt + r->generated);
	a->seqs += sign;
}

/* shape_add(a, r, 1) for a request scheduled for n of its rem remaining tokens */
static inline void shape_add_one(struct shape_sum *a, int64_t ctx, int64_t n, int64_t rem)
{
	a->tokens += n;
	a->pairs += n * ctx + (int64_t)((uint64_t)(n * (n + 1)) >> 1);
	a->kv_read += ctx + n;
	a->samples += n == rem;
	a->seqs++;
}

/* The first part of schedule() (running requests in order) as far as step_end took it in its
 * own pass over the batch (step_end: the same operations in the same order, stopped where a
 * request's blocks are not free without evicting, so that schedule() goes on from there), and
 * what fast_forward needs to know of the requests it scheduled. */
struct sched_start {
	size_t next;        /* running requests before it are scheduled */
	int64_t budget;
	struct shape_sum sum;
	bool complete;      /* next reached the end of the batch, with the budget left over */
	/* of the requests scheduled by step_end's pass and by admission (fast_forward): */
	bool finishing;     /* each computes the rest of its tokens (a decode, a prompt's end) */
	int64_t min_rem;    /* the fewest tokens left to emit */
	int64_t ctx;        /* the sum of computed + sched - 1 */
	int64_t prefill;    /* prompt tokens computed (what step_end counts as such) */
};

/* Notes a scheduled request in ss: sched tokens of the rem it had left. */
static inline void sched_note(struct sched_start *ss, const struct req *r, int64_t sched,
			      int64_t rem)
{
	ss->finishing &= sched == rem;
	if (r->output - r->generated < ss->min_rem)
		ss->min_rem = r->output - r->generated;
	ss->ctx += r->computed + sched - 1;
	/* step_end counts a step of a request that is not a decode as prompt tokens */
	if (!((r->generated > 0) & (rem == 1)))
		ss->prefill += sched;
}

static void sched_start_init(struct sched_start *ss, const struct llmcap_pool_cfg *cfg)
{
	/* field by field (a compound literal clears the struct with rep stos first) */
	ss->next = 0;
	ss->budget = cfg->max_num_batched_tokens;
	ss->sum = (struct shape_sum){0, 0, 0, 0, 0};
	ss->complete = false;
	ss->finishing = true;
	ss->min_rem = INT64_MAX;
	ss->ctx = 0;
	ss->prefill = 0;
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

	kv_account(s, ri);
	rp->step_extra = 0;
	ss->complete = ss->next >= rp->n_running;
	for (size_t i = ss->next; i < rp->n_running && budget > 0; i++) {
		int32_t id = rp->running[i];
		struct req *r = &s->reqs[id];
		const int64_t rem = remaining_prefill(r);
		if (rem == 0)
			continue;
		const int64_t want = rem < budget ? rem : budget;
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
				/* already scheduled in this step: its tokens go back to the budget */
				budget += s->reqs[victim].sched;
				shape_add(&sum, &s->reqs[victim], -1);
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
	/* swapped requests come back before any new admission */
	while (!preempted && rp->swapped.len > 0 && budget > 0 &&
	       (int64_t)rp->n_running < cfg->max_num_seqs) {
		int32_t id = *deque_at(&rp->swapped, 0);
		struct req *r = &s->reqs[id];
		int64_t want = remaining_prefill(r);
		if (want > budget)
			want = budget;
		int64_t need = blocks_for(r->computed + want, bs, bs_shift);
		if (need > allocatable(rp)) {
			blocked = true;
			break;
		}
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
		admitted = true;
		shape_add(&sum, r, 1);
		sched_note(ss, r, want, (int64_t)r->prompt + r->generated - r->computed);
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
		int64_t need = blocks_for(computed + want, bs, bs_shift) - hits;
		if (need + revived > allocatable(rp)) {
			blocked = true;
			break;
		}
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
	rp->plain = !preempted && !admitted;
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

/* ---- the fast mode ---- */

/* Whether an arrival to this pool reads its replicas' KV use (the least-kv router, spill on KV
 * use), which a run's steps change. Every other reading of a replica by route() and arrival()
 * (request counts, queue lengths, waiting tokens) is left unchanged by a run, which is what lets
 * runs be applied when they end (fast_forward, run_resume): a router or limit that reads
 * anything else a run changes must be added here. */
static bool arrivals_read_kv(const struct llmcap_pool_cfg *cfg)
{
	return cfg->router == LLMCAP_ROUTER_LEAST_KV || cfg->spill.kv_above > 0;
}

/* The loop of fast_forward: ends steps and schedules the next ones while the run may go on.
 * a is step j's attention pairs (= KV tokens read): the contexts plus j per sequence.
 * Kept apart (not inlined) so that its state lives in registers and profiles show it alone.
 * This general form times each step with llmcap_step_timer_decode_ns (any model);
 * decode_run_fixed below is the same loop for the common case. */
static __attribute__((noinline)) void decode_run(struct run *restrict r,
						 const struct llmcap_step_timer *tm,
						 const int32_t *phase, int64_t bs, double a,
						 double dn, int64_t min_rem, llmcap_time stop)
{
	llmcap_time t = r->t, dt = r->dt, prev = r->prev, max_dt = r->max_dt, busy = r->busy;
	int64_t j = r->j, free_blocks = r->free_blocks, used = r->used, oor = r->oor, m = j % bs;
	double flops = r->flops, bytes = r->bytes;
	u128 kvt = r->kvt;
	struct llmcap_step_work w = r->w;
	while (j < min_rem && t < stop) {
		int64_t need = phase[m];
		if (need > free_blocks)
			break;
		/* step j ends at t, as step_end accounts it */
		busy += dt;
		flops += w.flops;
		bytes += w.bytes;
		oor += w.out_of_range;
		kvt += (u128)used * (u128)dt;
		if (j > 1 && dt > max_dt)
			max_dt = dt;
		/* step j + 1 is scheduled at t, as schedule() does it */
		free_blocks -= need;
		used += need;
		a += dn; /* whole numbers below 2^53: exact */
		dt = llmcap_step_timer_decode_ns(tm, a, &w);
		prev = t;
		t += dt;
		j++;
		if (++m == bs)
			m = 0;
	}
	*r = (struct run){.t = t, .dt = dt, .prev = prev, .max_dt = max_dt, .j = j,
			  .free_blocks = free_blocks, .used = used, .busy = busy, .oor = oor,
			  .kvt = kvt, .flops = flops, .bytes = bytes, .w = w};
}

/* A step of decode_run_fixed near a half nanosecond: the timer's full evaluation. Step j reads
 * ctx + j n KV tokens (whole numbers below 2^53). Out of line, so that the loop keeps no
 * running value of it. */
static __attribute__((noinline, cold)) llmcap_time fixed_fallback(const struct llmcap_step_timer *tm,
								  int64_t ctx, int64_t n, int64_t j)
{
	struct llmcap_step_work w;
	return llmcap_step_timer_decode_ns(tm, (double)(ctx + j * n), &w);
}

/* The state of decode_run_fixed's and decode_run_sparse's loops, in locals (the loops keep it in
 * registers): X - eps as two words, step j's end and time, md (what enters max_dt as step j
 * ends), the steps left, the blocks in use, the step's phase, the block-time integral. */
struct fixed_loop {
	uint64_t xi, xf;
	llmcap_time t, dt, md, max_dt;
	int64_t left, used, m;
	u128 kvt;
};

static inline struct fixed_loop fixed_begin(const struct run *r, const struct fixed_timer *ft,
					     int64_t bs, int64_t min_rem)
{
	return (struct fixed_loop){.xi = ft->xi, .xf = ft->xf, .t = r->t, .dt = r->dt,
				   .md = r->j > 1 ? r->dt : 0, .max_dt = r->max_dt,
				   .left = min_rem - r->j, .used = r->used, .m = r->j % bs,
				   .kvt = r->kvt};
}

/* The step in flight ends (its time into max_dt) and step j is timed and taken: the fixed
 * point's integer part, or the timer's full evaluation near a half nanosecond; the fixed point
 * advances. Every loop's step, whatever it does with blocks. */
static inline __attribute__((always_inline)) void fixed_next(struct fixed_loop *L,
							      const struct llmcap_step_timer *tm,
							      struct fixed_timer ft, int64_t ctx,
							      int64_t n, int64_t j)
{
	L->max_dt = L->md > L->max_dt ? L->md : L->max_dt;
	if (__builtin_expect(L->xf < ft.span, 1))
		L->dt = (llmcap_time)L->xi;
	else
		L->dt = fixed_fallback(tm, ctx, n, j);
	L->md = L->dt;
	L->xi += ft.di + __builtin_add_overflow(L->xf, ft.df, &L->xf);
	L->t += L->dt;
}

/* Ends step j (its block time and, as it ends, its time into max_dt), takes the need blocks of
 * step j + 1 and times it, as step_end and schedule() would. */
static inline __attribute__((always_inline)) void fixed_step(struct fixed_loop *L,
							      const struct llmcap_step_timer *tm,
							      const struct fixed_timer *ft,
							      int64_t need, int64_t bs, int64_t ctx,
							      int64_t n, int64_t min_rem)
{
	L->kvt += (u128)L->used * (u128)L->dt;
	L->used += need;
	fixed_next(L, tm, *ft, ctx, n, min_rem - L->left + 1);
	L->left--;
	if (++L->m == bs)
		L->m = 0;
}

/* Stores the loop state back (the steps ran back to back: the previous end is t - dt). */
static inline void fixed_end(struct run *restrict r, struct fixed_timer *ft,
			     const struct fixed_loop *L, int64_t min_rem, int64_t cap)
{
	const llmcap_time prev = L->t - L->dt;
	ft->xi = L->xi;
	ft->xf = L->xf;
	r->busy += prev - r->prev;
	r->t = L->t;
	r->dt = L->dt;
	r->prev = prev;
	r->max_dt = L->max_dt;
	r->j = min_rem - L->left;
	r->free_blocks = cap - L->used;
	r->used = L->used;
	r->kvt = L->kvt;
}

/* A chunk's next step (fixed_chunk, fixed_chunk_one), clear of the margin: its time is the
 * fixed point's integer part, the fixed point advances, and the step before becomes pen. */
static inline __attribute__((always_inline)) void chunk_next(uint64_t *xi, uint64_t *xf,
							      llmcap_time *dt, llmcap_time *pen,
							      llmcap_time *t, uint64_t di,
							      uint64_t df)
{
	*pen = *dt;
	*dt = (llmcap_time)*xi;
	*xi += di + __builtin_add_overflow(*xf, df, xf);
	*t += *dt;
}

/* A chunk's eight steps taken (fixed_chunk, fixed_chunk_one): the loop state from the new
 * fixed point xi, xf, the eighth step's end t and time dt, and pen the seventh's time; the
 * longest step that ended is md or the seventh. */
static inline __attribute__((always_inline)) void chunk_taken(struct fixed_loop *L, uint64_t xi,
							       uint64_t xf, llmcap_time t,
							       llmcap_time dt, llmcap_time pen,
							       int64_t bs)
{
	if (L->md > L->max_dt)
		L->max_dt = L->md;
	if (pen > L->max_dt)
		L->max_dt = pen;
	L->md = dt;
	L->xi = xi;
	L->xf = xf;
	L->t = t;
	L->dt = dt;
	L->m = (L->m + 8) & (bs - 1);
	L->left -= 8;
}

/* Steps j + 1 .. j + 8 of a run whose blocks cannot run out: as fixed_step eight times,
 * without block tests, with the phases read at fixed offsets from step j's (the phases twice
 * over: block sizes of at least 8), and without a branch that depends on the data but the
 * margin test, which almost never fails (the varying lengths of the stretches between block
 * boundaries cost decode_run_sparse a misprediction each). Without a step near a
 * half nanosecond the step times are the integer parts, which never decrease (di >= 0), so the
 * longest of the steps that end is md or the seventh. The block time of the eight steps that
 * end fits 64 bits (fewer than 2^21 blocks, steps shorter than 2^40 ns). Returns false, with
 * nothing changed, where a step lies near a half nanosecond or the eighth ends at or after
 * stop. */
static inline __attribute__((always_inline)) bool fixed_chunk(struct fixed_loop *L,
							       const int32_t *phase, int64_t bs,
							       const struct fixed_timer *ft,
							       llmcap_time stop)
{
	uint64_t xi = L->xi, xf = L->xf, kv = 0;
	const uint64_t di = ft->di, df = ft->df, span = ft->span;
	const int32_t *p = phase + L->m;
	llmcap_time t = L->t, dt = L->dt, pen = 0;
	int64_t used = L->used;
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		if (__builtin_expect(xf >= span, 0))
			return false;
		kv += (uint64_t)used * (uint64_t)dt; /* the step that ends */
		used += p[i];                          /* the next step's blocks */
		chunk_next(&xi, &xf, &dt, &pen, &t, di, df);
	}
	if (__builtin_expect(t >= stop, 0))
		return false;
	L->kvt += kv;
	L->used = used;
	chunk_taken(L, xi, xf, t, dt, pen, bs);
	return true;
}

/* fixed_chunk for a run of one sequence, whose single block boundary falls at the steps j with
 * j = mb (mod bs): no block count and no multiplication a step, but each step's end kept, from
 * which the chunk's block time is used (T_7 - B) plus, where the boundary falls at step b of the
 * chunk, the time of the steps after it, T_7 - T_b (B the start of the first step that ends,
 * T_i the end of the i-th). A step is then ~6 instructions instead of ~12. */
static inline __attribute__((always_inline)) bool fixed_chunk_one(struct fixed_loop *L, int64_t mb,
								   int64_t bs,
								   const struct fixed_timer *ft,
								   llmcap_time stop)
{
	uint64_t xi = L->xi, xf = L->xf;
	const uint64_t di = ft->di, df = ft->df, span = ft->span;
	llmcap_time t = L->t, dt = L->dt, pen = 0, te[8];
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		if (__builtin_expect(xf >= span, 0))
			return false;
		te[i] = t; /* the step that ends */
		chunk_next(&xi, &xf, &dt, &pen, &t, di, df);
	}
	if (__builtin_expect(t >= stop, 0))
		return false;
	const int64_t b = (mb - L->m) & (bs - 1);
	const uint64_t hit = b < 8, t7 = (uint64_t)(t - dt);
	L->kvt += (uint64_t)L->used * (t7 - (uint64_t)(L->t - L->dt)) + hit * (t7 - (uint64_t)te[b & 7]);
	L->used += (int64_t)hit;
	chunk_taken(L, xi, xf, t, dt, pen, bs);
	return true;
}

/* decode_run_fixed where the free blocks cover every step to min_rem (each sequence takes at
 * most min_rem / bs + 1 blocks), the block size is a power of two of at least 8, and the block
 * time of eight steps fits 64 bits: eight steps at a time (fixed_chunk, or fixed_chunk_one for
 * one sequence: one >= 0, its boundary's phase); where a chunk cannot be taken (a step near a
 * half nanosecond, or stop within it), the next eight one at a time. */
static inline __attribute__((always_inline)) void ample_loop(struct run *restrict r,
							      const struct llmcap_step_timer *tm,
							      const int32_t *phase, int64_t bs,
							      int64_t ctx, int64_t n, int64_t min_rem,
							      llmcap_time stop, struct fixed_timer *ft,
							      int64_t one)
{
	const int64_t cap = r->free_blocks + r->used;
	struct fixed_loop L = fixed_begin(r, ft, bs, min_rem);
	while (L.left > 0 && L.t < stop) {
		if (L.left >= 8 && (one >= 0 ? fixed_chunk_one(&L, one, bs, ft, stop)
					     : fixed_chunk(&L, phase, bs, ft, stop)))
			continue;
		/* up to eight steps one at a time, as fixed_step (with the chunk's block time); the
		 * step written out rather than fixed_next, which GCC compiles here with 9M more
		 * instructions over 3 days (bench/counts.sh) */
		const int32_t *p = phase + L.m;
		const int64_t k = L.left < 8 ? L.left : 8;
		uint64_t kv = 0;
		int64_t i = 0;
		for (; i < k && L.t < stop; i++) {
			kv += (uint64_t)L.used * (uint64_t)L.dt;
			L.max_dt = L.md > L.max_dt ? L.md : L.max_dt;
			L.used += p[i];
			if (__builtin_expect(L.xf < ft->span, 1))
				L.dt = (llmcap_time)L.xi;
			else
				L.dt = fixed_fallback(tm, ctx, n, min_rem - L.left + i + 1);
			L.md = L.dt;
			L.xi += ft->di + __builtin_add_overflow(L.xf, ft->df, &L.xf);
			L.t += L.dt;
		}
		L.kvt += kv;
		L.left -= i;
		L.m = (L.m + i) & (bs - 1);
	}
	fixed_end(r, ft, &L, min_rem, cap);
}

static __attribute__((noinline)) void decode_run_ample(struct run *restrict r,
						       const struct llmcap_step_timer *tm,
						       const int32_t *phase, int64_t bs,
						       int64_t ctx, int64_t n, int64_t min_rem,
						       llmcap_time stop, struct fixed_timer *ft)
{
	ample_loop(r, tm, phase, bs, ctx, n, min_rem, stop, ft, -1);
}

/* decode_run_ample for one sequence whose block boundary falls at the steps j = mb (mod bs). */
static __attribute__((noinline)) void decode_run_ample_one(struct run *restrict r,
							   const struct llmcap_step_timer *tm,
							   const int32_t *phase, int64_t bs,
							   int64_t ctx, int64_t min_rem,
							   llmcap_time stop, struct fixed_timer *ft,
							   int64_t mb)
{
	ample_loop(r, tm, phase, bs, ctx, 1, min_rem, stop, ft, mb);
}

/* decode_run for a screened roofline step timer with a power-of-two TP (tm->screen and
 * tm->tp_pow2: every catalog model), in fixed point. The screen's step time in ns is linear in
 * the step's attention pairs, x = k + a s, and a grows by n a step, so x is kept as an integer
 * X = x 2^fb (fb fraction bits) that grows by D = n s 2^fb: one integer addition a step, and
 * the step's time is the rounded X, (X + 2^(fb-1)) >> fb. X drifts from the real x by at most
 * one unit a step (D's rounding) plus its start's rounding; where the fraction lies within
 * eps units of a half nanosecond (eps covers that drift and the screen's own 2^-40 x margin)
 * the step takes the timer's full evaluation instead, so every step time is the model's, to
 * the bit. The work (FLOPs and bytes) is not summed here: the caller adds it in closed form.
 *
 * The loop keeps X - eps (plus the half) as an integer part (the step time in ns, where the
 * fraction is clear of the margin) and its fraction in the top bits of a second word, so a
 * step is an add with carry and the margin test one comparison (struct fixed_timer). It counts
 * the steps left down, keeps the blocks in use only (free = cap - used) and the previous step's
 * end as t - dt, so that its state stays in registers. max_dt takes each step's time as the
 * step ends (md: 0 for step 1, whose gap run_apply takes from gap1). */
static __attribute__((noinline)) void decode_run_fixed(struct run *restrict r,
						       const struct llmcap_step_timer *tm,
						       const int32_t *phase, int64_t bs,
						       int64_t ctx, int64_t n, int64_t min_rem,
						       llmcap_time stop, struct fixed_timer *ft)
{
	const int64_t cap = r->free_blocks + r->used;
	struct fixed_loop L = fixed_begin(r, ft, bs, min_rem);
	while (L.left > 0 && L.t < stop) {
		const int64_t need = phase[L.m];
		if (need > cap - L.used)
			break;
		fixed_step(&L, tm, ft, need, bs, ctx, n, min_rem);
	}
	fixed_end(r, ft, &L, min_rem, cap);
}

/* decode_run_fixed where few steps take blocks (at most a quarter: small batches, and a block
 * size of at most 32): between two such steps (the run's marks give how many) the loop has no
 * block test and sums the block time once, used x those steps' total time (from the end of the
 * step before the first to the end of the step before the last: they run back to back). The
 * steps that take blocks are decode_run_fixed's (fixed_step). */
static __attribute__((noinline)) void decode_run_sparse(struct run *restrict r,
							const struct llmcap_step_timer *tm,
							const int32_t *phase, uint64_t marks,
							int64_t bs, int64_t ctx, int64_t n,
							int64_t min_rem, llmcap_time stop,
							struct fixed_timer *ft)
{
	const int64_t cap = r->free_blocks + r->used;
	struct fixed_loop L = fixed_begin(r, ft, bs, min_rem);
	const struct fixed_timer f = *ft; /* the loop's constants, in registers */
	while (L.left > 0 && L.t < stop) {
		/* steps to the next that takes blocks (marks has bit m + bs, so it is found) */
		const int64_t z = __builtin_ctzll(marks >> L.m);
		if (z == 0) {
			const int64_t need = phase[L.m];
			if (need > cap - L.used)
				break;
			fixed_step(&L, tm, ft, need, bs, ctx, n, min_rem);
			continue;
		}
		const llmcap_time prev0 = L.t - L.dt;
		const int64_t k0 = z < L.left ? z : L.left;
		int64_t k = k0;
		do /* the step taken is j + 1 = min_rem - left + (k0 - k) + 1 */
			fixed_next(&L, tm, f, ctx, n, min_rem - L.left + k0 - k + 1);
		while (--k > 0 && L.t < stop);
		L.kvt += (u128)L.used * (u128)(L.t - L.dt - prev0);
		L.left -= k0 - k;
		L.m += k0 - k;
		if (L.m >= bs)
			L.m -= bs;
	}
	fixed_end(r, ft, &L, min_rem, cap);
}

/* Sets up decode_run_fixed for a run whose step 2 has a2 attention pairs, growing by n a step,
 * for at most steps more steps; false where the fixed point does not fit (then the caller takes
 * decode_run). */
static bool fixed_timer_init(struct fixed_timer *ft, const struct llmcap_step_timer *tm,
			     double a2, double n, int64_t steps)
{
	if (!tm->screen || !tm->tp_pow2)
		return false;
	const double x2 = fma(a2, tm->s_ns, tm->k_ns);
	const double x_hi = fma(a2 + n * (double)steps, tm->s_ns, tm->k_ns);
	if (!(x2 >= 2 && x_hi < 0x1p40) || steps > ((int64_t)1 << 40))
		return false;
	/* x_hi < 2^e, read from its exponent bits (x_hi >= 2 is a normal number) */
	uint64_t bits;
	memcpy(&bits, &x_hi, sizeof bits);
	const int e = (int)(bits >> 52 & 0x7ff) - 1022;
	const int fb = 61 - e; /* X < 2^61 */
	bits = (uint64_t)(1023 + fb) << 52;
	double scale;
	memcpy(&scale, &bits, sizeof scale); /* 2^fb */
	/* units: the screen's margin at the largest x (rounded up), the drift over the run, and the
	 * roundings of the start and of D */
	const double eps = (double)((int64_t)(x_hi * 0x1p-40 * scale) + 1) + (double)steps + 4;
	if (eps * 16 > scale)
		return false;
	/* X - eps: its fraction lies in [0, span) exactly when X's lies in [eps, 2^fb - eps), and
	 * then both have the same integer part */
	const uint64_t x = (uint64_t)(x2 * scale) + ((uint64_t)1 << (fb - 1)) - (uint64_t)eps;
	const uint64_t d = (uint64_t)(n * tm->s_ns * scale), mask = ((uint64_t)1 << fb) - 1;
	ft->xi = x >> fb;
	ft->xf = (x & mask) << (64 - fb);
	ft->di = d >> fb;
	ft->df = (d & mask) << (64 - fb);
	ft->span = (((uint64_t)1 << fb) - 2 * (uint64_t)eps) << (64 - fb);
	return true;
}

/* How many of the next arrivals to its pool cannot join replica rp while a run of its steps lasts
 * (its request counts and queues stay as they are), or -1 where none reaches its steps:
 *  - in first-come-first-served order with requests waiting or swapped out (then the run began
 *    with a plain step or one that left their head refused for blocks or a sequence slot, and
 *    its steps admit nothing), every arrival queues behind them and
 *    leaves the run as it is (arrival(): behind);
 *  - round-robin sends the arrivals before its turn elsewhere;
 *  - least-outstanding sends each arrival to a replica with the fewest requests, and this one
 *    keeps its count: while another has fewer it is not chosen, and each arrival raises one
 *    count by one (completions and timeouts only lower them), so the first
 *    sum over the others of max(0, its count - theirs) arrivals go elsewhere; where that is
 *    none, the next arrival still goes elsewhere when another with as many requests comes
 *    first in its scan (ties go to the first from rr_next, which only routing moves).
 * Arrivals that are turned away or spilled count as arrivals here, which only stops runs
 * sooner. Other routers: 0 (a run stops at the next arrival to its pool). */
static int64_t arrivals_elsewhere(const struct sim *s, const struct replica *rp)
{
	const struct pool_rt *pl = &s->pools[rp->pool];
	if (pl->cfg->scheduling_policy == LLMCAP_SCHED_FCFS &&
	    (rp->waiting.len > 0 || rp->swapped.len > 0))
		return -1;
	const struct llmcap_pool_stats *ps = &s->res->pools[rp->pool];
	const size_t n = ps->n_replicas, base = ps->first_replica;
	if (n == 1) /* every arrival that is not turned away joins it */
		return 0;
	/* the replica's place in the scan that starts at rr_next (below n: no divisions) */
	const size_t start = pl->rr_next, at = (size_t)(rp - s->replicas) - base,
		     me = at >= start ? at - start : at + n - start;
	if (pl->cfg->router == LLMCAP_ROUTER_ROUND_ROBIN)
		return (int64_t)me;
	if (pl->cfg->router != LLMCAP_ROUTER_LEAST_OUTSTANDING)
		return 0;
	int64_t k = 0;
	bool tie_lost = false;
	const struct replica *first = s->replicas + base;
	for (size_t i = 0, j = start; i < n; i++) { /* without branches on the counts, which vary */
		const int64_t d = rp->outstanding - first[j].outstanding;
		k += d > 0 ? d : 0;
		tie_lost |= (d == 0) & (i < me);
		j = j + 1 < n ? j + 1 : 0;
	}
	return k > 0 ? k : tie_lost;
}

/* The time by which a run of replica rp must have stopped: its steps must end before the next
 * arrival to its pool that may join it, the next time-series sample, the next queue timeout
 * that can still act, and after the horizon. */
static llmcap_time run_stop(struct sim *s, const struct replica *rp)
{
	const int64_t skip = arrivals_read_kv(s->pools[rp->pool].cfg) ? 0 : arrivals_elsewhere(s, rp);
	llmcap_time to_pool = skip < 0 ? INT64_MAX : next_arrival_to(s, rp->pool, skip);
	llmcap_time stop = to_pool < s->next_sample ? to_pool : s->next_sample;
	if (s->sc->horizon < stop)
		stop = s->sc->horizon + 1;
	llmcap_time deadline = next_deadline(s);
	return deadline < stop ? deadline : stop;
}

/* Takes the run's steps from the loop's state until stop (or a completion or a block shortage). */
static void run_loop(struct sim *s, struct replica *rp, llmcap_time stop)
{
	struct pending_run *pr = &rp->pr;
	const int64_t bs = s->pools[rp->pool].cfg->block_size, n = (int64_t)rp->n_running;
	if (pr->ample && pr->one >= 0) {
		decode_run_ample_one(&pr->run, rp->tm, rp->phase, bs, pr->ctx, pr->min_rem, stop,
				     &pr->ft, pr->one);
	} else if (pr->ample) {
		decode_run_ample(&pr->run, rp->tm, rp->phase, bs, pr->ctx, n, pr->min_rem, stop,
				 &pr->ft);
	} else if (pr->screened && pr->sparse) {
		decode_run_sparse(&pr->run, rp->tm, rp->phase, pr->marks, bs, pr->ctx, n,
				  pr->min_rem, stop, &pr->ft);
	} else if (pr->screened) {
		decode_run_fixed(&pr->run, rp->tm, rp->phase, bs, pr->ctx, n, pr->min_rem, stop,
				 &pr->ft);
	} else {
		const double a = (double)(pr->ctx + pr->run.j * n); /* step j's attention pairs */
		decode_run(&pr->run, rp->tm, rp->phase, bs, a, (double)n, pr->min_rem, stop);
	}
}

/* What applying a run does to each of its requests: k more tokens, blocks for them, the last
 * token at prev, and the longest gap (step 1's end less the token before, the run's longest
 * step). */
struct run_req {
	llmcap_time gap1, max_dt, prev;
	int64_t k, bs;
	int bs_shift;
};

/* A request's first token (set where the run emitted it) and its longest gap once the run is
 * applied: step 1 computed the request's sched tokens, the last of its prompt or one decode,
 * and emitted a token at its end (gap1), the first or one after a gap; then the run's longest
 * step. */
static inline llmcap_time run_first_and_gap(struct req *r, const struct run_req *a)
{
	llmcap_time gap = r->max_gap;
	if (r->generated == 0)
		r->first_token = a->gap1;
	else if (a->gap1 - r->last_token > gap)
		gap = a->gap1 - r->last_token;
	return a->max_dt > gap ? a->max_dt : gap;
}

static inline void run_apply_req(struct req *r, const struct run_req *a)
{
	r->max_gap = run_first_and_gap(r, a);
	r->computed += r->sched + (int32_t)a->k - 1;
	r->generated += (int32_t)a->k;
	r->sched = 1;
	r->blocks = (int32_t)blocks_for(r->computed + 1, a->bs, a->bs_shift);
	r->last_token = a->prev;
}

/* Applies the steps 1..j-1 of the replica's run (step j is in flight: step_end ends it) exactly
 * as step_end and schedule() would have, one step at a time: the replica's state and statistics
 * here, each request's by run_apply_req (after, or within the caller's own pass). */
static struct run_req run_apply_stats(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct pending_run *pr = &rp->pr;
	struct run run = pr->run;
	const struct pool_rt *pl = &s->pools[rp->pool];
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const int64_t bs = pl->cfg->block_size;
	const size_t n = rp->n_running;
	const int64_t j = run.j, ctx = pr->ctx;
	const llmcap_time gap1 = pr->gap1, max_dt = run.max_dt, prev = run.prev;
	int32_t *phase = rp->phase;
	rp->deferred = false;
	if (pr->screened) {
		/* The work of steps 1..j-1 in closed form: step i reads a_i = ctx + i n KV tokens
		 * and does F + C a_i FLOPs (the same for bytes), so the sum is
		 * (j - 1 - 1) F + C (a_2 + ... + a_{j-1}) plus step 1's own work. Whole numbers are
		 * exact; the sums' rounding differs from the step-by-step mode's by a few units in
		 * the last place per run (docs/performance.md). Step j's work, which step_end adds,
		 * is the timer's. */
		const struct llmcap_perf *pf = &pl->perf;
		const int64_t q = j - 2, nn = (int64_t)n;
		const double sum_a = (double)(q * ctx + nn * ((j - 1) * j / 2 - 1));
		run.flops += run.w.flops + ((double)q * rp->tm->f.flops + pf->attn_flops_per_pair * sum_a);
		run.bytes += run.w.bytes + ((double)q * rp->tm->f.bytes +
					    pf->kv_bytes_per_token * pf->tp * (sum_a + (double)q * rp->tm->f.t));
		/* into the replica's own (a copy of the local struct just written field by field
		 * would stall on store forwarding) */
		llmcap_step_timer_decode_work(rp->tm, (double)(ctx + j * nn), &rp->work);
	} else {
		rp->work = run.w;
	}
	const int64_t k = j - 1; /* steps taken by the run */
	memset(phase, 0, (size_t)bs * sizeof *phase);
	rp->free_blocks = run.free_blocks;
	add_busy(s, ri, pr->start, prev); /* the k steps ran back to back */
	rp->step_start = prev;
	rp->kv_last = prev;
	st->busy = run.busy;
	st->flops = run.flops;
	st->bytes = run.bytes;
	st->perf_out_of_range = run.oor;
	rp->kvt = run.kvt;
	/* blocks in use only grow during the run; sums of whole numbers below 2^53 are exact in
	 * any order */
	if (run.used > st->kv_peak)
		st->kv_peak = run.used;
	st->output_tokens += (double)(k * (int64_t)n);
	st->prefill_tokens += (double)pr->prefill1;
	st->steps += k;
	st->batch_sum += (double)(k * (int64_t)n);
	/* every step is an event in the step-by-step mode; those the run ended as events were
	 * counted then */
	s->res->events += k - pr->pops;
	s->res->fast_steps += k - pr->pops;
	return (struct run_req){.gap1 = gap1, .max_dt = max_dt, .prev = prev, .k = k, .bs = bs,
				.bs_shift = pl->bs_shift};
}

static void run_apply(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const struct run_req a = run_apply_stats(s, ri);
	for (size_t i = 0; i < rp->n_running; i++)
		run_apply_req(&s->reqs[rp->running[i]], &a);
	CHECK_REPLICA(s, rp);
}

/* The step timer of a decode step of n sequences (n tokens, n samples). */
static const struct llmcap_step_timer *decode_timer(struct sim *s, struct replica *rp, int64_t n)
{
	struct pool_rt *pl = &s->pools[rp->pool];
	if (n >= pl->n_timers) {
		llmcap_step_timer_init(&rp->tm_own, &pl->perf, n, n);
		return &rp->tm_own;
	}
	if (!pl->timer_ok[n]) {
		llmcap_step_timer_init(&pl->timers[n], &pl->perf, n, n);
		pl->timer_ok[n] = 1;
	}
	return &pl->timers[n];
}

/* The step just scheduled on replica ri (time now, ending at *end) may be the first of a run
 * of steps that the step-by-step mode would take one event each: in it every running request
 * decodes or ends its prompt, and from the next on each decodes. While the run lasts, each
 * step schedules every running request for one token and changes nothing else:
 * no request completes, waiting and swapped requests stay blocked (only fewer blocks become
 * free), and no event that reads or changes this replica comes due. Such steps are taken here
 * in a loop, each timed by the same model to the bit and accounted as step_end and schedule()
 * would (run_apply: the same sums in the same order, but the work, summed in closed form);
 * only the run's last step gets an event, with the origin the step-by-step mode would give it
 * (the end of the step before), so it runs in the same place among events due at the same
 * time. Unless arrivals to the pool read KV use, the run is applied when it ends (its
 * requests and statistics are not read meanwhile), and run_resume continues it past an
 * arrival that did not reach this replica. The run stops before:
 *   - the step in which a request completes (that step is the last, a real event);
 *   - a step whose new KV blocks exceed the free ones (an eviction or a preemption);
 *   - any step that would end at or after the next arrival that may join it
 *     (arrivals_elsewhere), sample or live queue timeout, or after the horizon: those events
 *     read this replica (routing, spill, samples) or change it (admission, timeouts), so they
 *     must find it exactly as the step-by-step mode would.
 * Other replicas' step ends neither read nor change this replica; their completions, and this
 * replica's, happen only at real events, ordered by (time, origin, kind, replica). */
static void fast_forward(struct sim *s, size_t ri, llmcap_time *end, llmcap_time *origin,
			 const struct sched_start *ss)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct llmcap_pool_cfg *cfg = pl->cfg;
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const int64_t bs = cfg->block_size;
	const size_t n = rp->n_running;
	if (rp->preempted || rp->step_extra != 0 || n == 0)
		return;
	/* A step that admitted requests may begin a run too, when no prefix entry is registered at
	 * its end and nothing left in the queues could be admitted at a later step: the queues are
	 * empty, or their head was refused for want of blocks or of a sequence slot (blocked). A
	 * later step of the run leaves more of the token budget (its requests decode one token
	 * each, where each admitted one computed its prompt, at least one token) and so wants at
	 * least as many blocks for that head, while blocks are only taken and the sequences stay;
	 * a head refused for the budget, though, might fit then. */
	if (!rp->plain && (((rp->waiting.len > 0 || rp->swapped.len > 0) && !rp->blocked) ||
			   cfg->enable_prefix_caching))
		return;
	/* when the run must stop at the latest: cheap, and most often it ends the attempt */
	llmcap_time t = *end; /* end of step 1 */
	const llmcap_time stop = run_stop(s, rp);
	if (t >= stop)
		return;
	/* In step 1 every running request computes the rest of its tokens (a decode, or the
	 * last of its prompt) and emits a token at its end; from step 2 on each decodes one.
	 * With c = computed + sched - 1 (computed and sched of step 1), a request has c + j
	 * tokens computed after step j, and needs a new block for step j + 1 when c + j is a
	 * multiple of the block size: phase[m] counts those with j = m (mod bs), counted in the
	 * same pass (and cleared when no run starts, or when it is applied). */
	int32_t *phase = rp->phase;
	int64_t min_rem = INT64_MAX, ctx = 0, prefill1 = 0;
	uint64_t marks = 0; /* bit m: phase[m] > 0 (bs <= 32 only) */
	size_t seen = 0;
	if (ss->complete && !cfg->enable_prefix_caching) {
		/* step_end's pass and the admissions saw every request: only the boundaries are
		 * left to count */
		if (!ss->finishing || ss->min_rem < 2)
			return;
		for (; seen < n; seen++) {
			const struct req *r = &s->reqs[rp->running[seen]];
			mark_boundary(phase, &marks, (int64_t)r->computed + r->sched - 1, bs);
		}
		min_rem = ss->min_rem;
		ctx = ss->ctx;
		prefill1 = ss->prefill;
	}
	for (; seen < n; seen++) {
		const struct req *r = &s->reqs[rp->running[seen]];
		if (r->computed + r->sched != r->prompt + r->generated)
			break;
		/* a request holding fewer prefix entries than it could registers more at a step
		 * end if its next block's entry is missing (evicted meanwhile): not a plain step */
		if (cfg->enable_prefix_caching && r->n_prefix < r->prefix_blocks &&
		    rp->pc.free_ent >= 0 &&
		    pcache_find(&rp->pc, prefix_key(r->cls, r->prefix_group, r->n_prefix)) < 0)
			break;
		if (r->output - r->generated < min_rem)
			min_rem = r->output - r->generated;
		const int64_t c = (int64_t)r->computed + r->sched - 1;
		if (r->sched != 1 || r->generated == 0) /* not a decode: step_end counts a prompt */
			prefill1 += r->sched;
		ctx += c;
		mark_boundary(phase, &marks, c, bs);
	}
	if (seen < n || min_rem < 2) {
		memset(phase, 0, (size_t)bs * sizeof *phase);
		return;
	}
	/* steps 2.. are n decodes (step 1 was timed by its own shape) */
	if (rp->tm_n != (int64_t)n) {
		rp->tm = decode_timer(s, rp, (int64_t)n);
		rp->tm_n = (int64_t)n;
	}
	struct pending_run *pr = &rp->pr;
	/* field by field: a compound literal would clear the whole struct first (rep stos) */
	pr->run = (struct run){.t = t, .dt = *end - s->now, .prev = s->now, .max_dt = 0, .j = 1,
			       .free_blocks = rp->free_blocks, .used = used_blocks(rp),
			       .busy = st->busy, .oor = st->perf_out_of_range, .kvt = rp->kvt,
			       .flops = st->flops, .bytes = st->bytes, .w = rp->work};
	pr->ctx = ctx;
	pr->min_rem = min_rem;
	pr->start = s->now;
	pr->gap1 = t;
	pr->pops = 0;
	pr->prefill1 = prefill1;
	pr->screened = fixed_timer_init(&pr->ft, rp->tm, (double)(ctx + 2 * (int64_t)n),
					(double)n, min_rem);
	/* stretches without block boundaries pay where they are long: a quarter of the steps or
	 * fewer take blocks; the marks twice over, so that a shift finds the next one cyclically */
	pr->sparse = pr->screened && bs <= 32 && 4 * (int64_t)n <= bs;
	pr->marks = pr->sparse ? marks | marks << bs : 0; /* the sparse loop's alone (bs <= 32) */
	pr->ample = pr->screened && pl->bs_shift >= 3 && rp->num_blocks < (1 << 21) &&
		    rp->free_blocks >= (int64_t)n * (min_rem / bs + 1);
	if (pr->ample) /* twice over, for fixed_chunk */
		memcpy(phase + bs, phase, (size_t)bs * sizeof *phase);
	/* one sequence: its one boundary's phase, from the marks (bs <= 64) */
	pr->one = pr->ample && n == 1 && bs <= 64 ? __builtin_ctzll(marks) : -1;
	run_loop(s, rp, stop);
	if (pr->run.j == 1) {
		memset(phase, 0, (size_t)bs * sizeof *phase);
		return;
	}
	*end = pr->run.t;
	*origin = pr->run.prev;
	if (!arrivals_read_kv(cfg)) {
		/* applied later (run_apply): nothing reads what the steps change meanwhile */
		rp->deferred = true;
		rp->touched = false;
	} else {
		run_apply(s, ri);
	}
}

/* The run of replica ri ends its last step now (its step-end event, the earliest in the queue,
 * not popped yet). Where nothing has reached the replica since the run began (no arrival joined
 * it, no timeout left it) and the run stopped only for the time, the next step is the same
 * decode step again: the run goes on from the loop's state (the step that ends now is taken as
 * one of the run's steps), and its new last step's event replaces the one at the top of the
 * queue (one sift instead of a pop and a push). Returns false, with nothing changed, where the
 * step must end as usual. */
static bool run_resume(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct pending_run *pr = &rp->pr;
	if (rp->touched || pr->run.j >= pr->min_rem)
		return false;
	llmcap_time stop = run_stop(s, rp);
	const int64_t j0 = pr->run.j;
	if (pr->run.t >= stop)
		return false;
	run_loop(s, rp, stop);
	if (pr->run.j == j0)
		return false;
	pr->pops++; /* the step that ended now was an event */
	llmcap_events_replace_top(&s->events, step_end_event(pr->run.t, pr->run.prev, ri));
	return true;
}

static void try_start_step(struct sim *s, size_t ri, struct sched_start *ss)
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
	if (shape.tokens == 0)
		return;
	const struct llmcap_perf *pf = &s->pools[rp->pool].perf;
	llmcap_time dt;
	if (s->fast && shape.tokens == shape.samples) {
		/* a step of decodes (and last prompt tokens): the timer gives the model's time to
		 * the bit (llmcap_step_timer_ns), and a run of decodes that starts here reuses it */
		if (rp->tm_n != shape.tokens) {
			rp->tm = decode_timer(s, rp, shape.tokens);
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
	if (s->fast)
		fast_forward(s, ri, &end, &origin, ss);
	push_event(s, end, origin, EV_STEP_END, (uint32_t)ri, 0, ri);
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
	/* TTFT and TPOT tagged with the arrival's hour (kept in exact mode): the busiest hour's */
	const uint32_t hour = hour_index(s, r);
	bool ok = llmcap_quantiles_add_tagged(&cs->ttft, ttft, hour) &&
		  llmcap_quantiles_add(&cs->e2e, span_s(r->arrival, r->last_token)) &&
		  llmcap_quantiles_add(&cs->queue, span_s(r->arrival, r->first_sched));
	if (ok && r->output > 1)
		ok = llmcap_quantiles_add_tagged(&cs->tpot, tpot, hour);
	if (!ok)
		s->oom = true;
	if (meets_slo(s, r, ttft, tpot)) {
		cs->slo_met++;
		cs->slo_met_output_tokens += r->output;
	}
	request_ended(s, r, LLMCAP_REQ_COMPLETED);
	count_account(s, ri);
	s->replicas[ri].outstanding--;
	s->in_flight--;
	s->replicas[ri].completions_int++;
	req_release(s, id);
}

/* step_end's pass for the step a run ends, where the batch's next step fits: every request
 * decoded one token in it (run_apply_req leaves each with sched = 1), and each that stays
 * decodes one more, its new block (at most one) free and its token within the budget. The same
 * stores as step_end's general pass, whose branches for this batch are known: its sums are of
 * whole numbers, added here once (exact in any order). Returns the requests kept. */
static size_t end_decodes(struct sim *s, size_t ri, const struct run_req *ra,
			  struct sched_start *acc)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const int64_t bs = pl->cfg->block_size;
	const int bs_shift = pl->bs_shift;
	const llmcap_time now = s->now;
	struct req *const reqs = s->reqs;
	int32_t *const running = rp->running;
	const size_t n = rp->n_running;
	size_t keep = 0;
	int64_t ctx = 0, min_rem = acc->min_rem, took = 0;
	const int32_t kr = (int32_t)ra->k; /* the run's steps */
	for (size_t i = 0; i < n; i++) {
		const int32_t id = running[i];
		struct req *r = &reqs[id];
		/* run_apply_req, then this step's end, in locals (the stores to running[] could
		 * alias the request's fields: each would be read back): the same values */
		const int32_t generated = r->generated + kr + 1, output = r->output;
		const int32_t computed = r->computed + r->sched + kr; /* after the run, and one */
		llmcap_time max_gap = run_first_and_gap(r, ra);
		if (now - ra->prev > max_gap) /* generated > 1: a gap */
			max_gap = now - ra->prev;
		r->computed = computed;
		r->generated = generated;
		r->max_gap = max_gap;
		r->last_token = now;
		if (generated == output) {
			r->sched = 0;
			r->blocks = (int32_t)blocks_for(computed, bs, bs_shift);
			release_blocks(rp, r);
			complete(s, ri, id);
			continue;
		}
		r->sched = 1;
		const int32_t blocks = (int32_t)blocks_for((int64_t)computed + 1, bs, bs_shift);
		took += blocks - blocks_for(computed, bs, bs_shift);
		r->blocks = blocks;
		running[keep++] = id;
		ctx += computed;
		if (output - generated < min_rem)
			min_rem = output - generated;
	}
	const int64_t k = (int64_t)keep;
	rp->free_blocks -= took;
	acc->budget -= k;
	acc->sum.tokens += k;
	acc->sum.pairs += ctx + k;
	acc->sum.kv_read += ctx + k;
	acc->sum.samples += k;
	acc->sum.seqs += k;
	acc->min_rem = min_rem;
	acc->ctx += ctx;
	acc->next = keep;
	return keep;
}

/* Ends the step in flight on replica ri, and starts the next. One pass over the batch applies
 * a deferred run's steps (run_apply_req), ends the step for each request, and begins the next
 * step's schedule() for those that stay: the same operations in the same order as the three
 * passes would do them, as long as each request's new blocks are free (no eviction, no
 * preemption: a completion later in the batch could only have freed more). Where they are not,
 * or the budget is spent, schedule() goes on from that request (struct sched_start). */
static void step_end(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct run_req ra = {0};
	const bool applying = rp->deferred; /* run_resume did not go on with it */
	if (applying)
		ra = run_apply_stats(s, ri);
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct llmcap_pool_cfg *cfg = pl->cfg;
	const int64_t bs = cfg->block_size;
	const int bs_shift = pl->bs_shift;
	st->busy += s->now - rp->step_start;
	add_busy(s, ri, rp->step_start, s->now);
	st->flops += rp->work.flops;
	st->bytes += rp->work.bytes;
	st->perf_out_of_range += rp->work.out_of_range;
	rp->busy = false;
	kv_account(s, ri);
	/* schedule()'s running loop state in locals (struct sched_start after the loop) */
	bool fusing = true;
	size_t keep = 0;
	struct sched_start acc; /* its address stays here, so that it can live in registers */
	sched_start_init(&acc, cfg);
	/* whole numbers, added to the statistics once (exact in any order) */
	int64_t prefill_tokens = 0, output_tokens = 0;
	struct req *const reqs = s->reqs;
	int32_t *const running = rp->running;
	const size_t n = rp->n_running;
	const bool decodes = applying && !cfg->enable_prefix_caching &&
			     acc.budget >= (int64_t)n && rp->free_blocks >= (int64_t)n;
	if (decodes) {
		keep = end_decodes(s, ri, &ra, &acc);
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
		if (sched > 0) {
			const int32_t num_tokens = prompt + generated;
			if (!(generated > 0 && computed == num_tokens - 1))
				prefill_tokens += sched; /* a prompt chunk, or a recomputation */
			computed += sched;
			sched = 0;
			r->computed = computed;
			r->sched = 0;
			if (cfg->enable_prefix_caching && r->n_prefix < r->prefix_blocks)
				register_prefix(s, rp, r);
			if (computed == num_tokens) {
				r->generated = ++generated;
				output_tokens++;
				if (generated == 1)
					r->first_token = s->now;
				else if (s->now - r->last_token > r->max_gap)
					r->max_gap = s->now - r->last_token;
				r->last_token = s->now;
				if (generated == r->output) {
					release_blocks(rp, r);
					complete(s, ri, id);
					continue;
				}
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
	try_start_step(s, ri, &ss);
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
	size_t best = base + pl->rr_next;
	double best_score = load_score(s, &s->replicas[best], how);
	for (size_t k = 1, j = pl->rr_next; k < n; k++) {
		j = j + 1 < n ? j + 1 : 0;
		double sc = load_score(s, &s->replicas[base + j], how);
		if (sc < best_score) {
			best = base + j;
			best_score = sc;
		}
	}
	pl->rr_next = best - base + 1 < n ? best - base + 1 : 0;
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
	case LLMCAP_ROUTER_ROUND_ROBIN: {
		const size_t i = pl->rr_next;
		pl->rr_next = i + 1 < n ? i + 1 : 0;
		return base + i;
	}
	case LLMCAP_ROUTER_RANDOM: return base + (size_t)llmcap_rng_uniform_int(s->routing, n);
	case LLMCAP_ROUTER_POWER_OF_TWO: {
		if (n == 1)
			return base;
		size_t a = (size_t)llmcap_rng_uniform_int(s->routing, n);
		size_t b = (size_t)llmcap_rng_uniform_int(s->routing, n - 1);
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
			ttft = llmcap_ran_lognormal(pl->api, log(ttft), pl->cfg->spill.api_ttft_sigma);
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
	if (prompt + output > pl->max_model_len) {
		/* vLLM's server refuses a request whose prompt plus requested tokens exceed
		 * max_model_len. max_model_len never exceeds the KV cache, so every admitted
		 * request fits alone. */
		spill_or_reject(s, r, LLMCAP_REQ_REJECTED_MAX_MODEL_LEN);
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
	const bool spill = cl->when_limited == LLMCAP_LIMIT_SPILL;
	if (pl->cfg->spill.waiting_above > 0 && (int64_t)rp->waiting.len >= pl->cfg->spill.waiting_above) {
		spill_or_reject(s, r, LLMCAP_REQ_SPILLED_POOL_WAITING);
		req_release(s, id);
		return;
	}
	if (pl->cfg->spill.kv_above > 0 &&
	    (double)used_blocks(rp) >= pl->cfg->spill.kv_above * (double)rp->num_blocks) {
		spill_or_reject(s, r, LLMCAP_REQ_SPILLED_POOL_KV);
		req_release(s, id);
		return;
	}
	if (cl->max_waiting > 0 && (int64_t)rp->waiting.len >= cl->max_waiting) {
		spill_or_reject(s, r, spill ? LLMCAP_REQ_SPILLED_QUEUE_FULL : LLMCAP_REQ_REJECTED_QUEUE_FULL);
		req_release(s, id);
		return;
	}
	if (s->in_flight >= s->sc->max_in_flight) {
		/* An overloaded fleet's queues would grow without bound: past the cap, arrivals are
		 * turned away (counted, and the summary says the fleet is overloaded). */
		s->res->overload_rejected++;
		spill_or_reject(s, r, LLMCAP_REQ_REJECTED_QUEUE_FULL);
		req_release(s, id);
		return;
	}
	s->in_flight++;
	count_account(s, ri);
	rp->outstanding++;
	rp->queued++;
	rp->arrivals_int++;
	/* A run in progress must end at its next step end, unless the request cannot change its
	 * steps: in first-come-first-served order it joins behind a waiting request that the
	 * run's steps could not admit (a run that began with requests waiting began with a plain
	 * step, or with one that left the head refused for blocks or a sequence slot, and its
	 * steps only take blocks; one that began with none waiting was touched by the arrival
	 * that queued first), or behind swapped-out requests, which come back first.
	 * An overloaded replica then keeps its runs across the arrivals that queue behind. */
	const bool behind = rp->deferred && (rp->waiting.len > 0 || rp->swapped.len > 0) &&
			    pl->cfg->scheduling_policy == LLMCAP_SCHED_FCFS;
	enqueue_waiting(s, rp, id, false);
	if (!behind)
		rp->touched = true;
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
	if (!rp->busy && !rp->kicked) {
		const struct llmcap_event *next = llmcap_events_peek(&s->events);
		if ((!next || next->time > s->now) && !(s->arrival_due && s->arrival_ev.time <= s->now)) {
			s->res->events++;
			try_start_step(s, ri, NULL);
		} else {
			rp->kicked = true;
			push_event(s, s->now, s->now, EV_KICK, (uint32_t)ri, 0, ri);
		}
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
	spill_or_reject(s, r, cl->when_limited == LLMCAP_LIMIT_SPILL ? LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT
								      : LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT);
	req_release(s, id);
	CHECK_REPLICA(s, rp);
}

static size_t pool_of(const struct sim *s, size_t cls, int64_t prompt)
{
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[cls];
	return cl->long_prompt_tokens > 0 && prompt > cl->long_prompt_tokens ? s->class_long_pool[cls]
									       : s->class_pool[cls];
}

/* Draws the next arrival before the horizon into *a; false when there is none. */
static bool draw_arrival(struct sim *s, struct pending_arrival *a)
{
	if (s->arrivals_done)
		return false;
	if (s->script) {
		if (s->script_next == s->script_n || s->script[s->script_next].time >= s->sc->horizon) {
			s->arrivals_done = true;
			return false;
		}
		const struct llmcap_scripted_request *q = &s->script[s->script_next];
		*a = (struct pending_arrival){.time = q->time, .index = s->script_next,
					      .pool = (uint32_t)pool_of(s, q->cls, q->prompt)};
		s->script_next++;
		return true;
	}
	/* class and lengths are drawn with the time: with per-class streams the class is the
	 * stream's, known only now */
	llmcap_time t = llmcap_workload_next_arrival(&s->wl);
	if (llmcap_workload_error(&s->wl, NULL))
		s->trace_failed = true;
	if (t >= s->sc->horizon || s->trace_failed) {
		s->arrivals_done = true;
		return false;
	}
	size_t cls = llmcap_workload_pick_class(&s->wl);
	int64_t prompt, output;
	llmcap_workload_lengths(&s->wl, cls, &prompt, &output);
	*a = (struct pending_arrival){.time = t, .index = pack_arrival(cls, prompt, output),
				      .pool = (uint32_t)pool_of(s, cls, prompt)};
	const uint64_t *ids;
	size_t n = llmcap_workload_hash_ids(&s->wl, &ids);
	if (n > 0) {
		a->ids = malloc(n * sizeof *a->ids);
		if (!a->ids) {
			s->oom = true;
			return false;
		}
		memcpy(a->ids, ids, n * sizeof *ids);
		a->n_ids = n;
	}
	return true;
}

/* Arrivals drawn ahead of their events (the fast mode looks ahead for the next arrival to a
 * pool). Every stream is drawn in the same order whenever it is drawn, so drawing early
 * changes nothing. */
static bool ahead_push(struct sim *s)
{
	struct arrivals_ahead *q = &s->ahead;
	if (s->arrivals_done)
		return false;
	if (q->len == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64; /* a power of two: indices wrap with a mask */
		struct pending_arrival *b = malloc(cap * sizeof *b);
		if (!b) {
			s->oom = true;
			return false;
		}
		for (size_t i = 0; i < q->len; i++)
			b[i] = q->buf[(q->head + i) & (q->cap - 1)];
		free(q->buf);
		q->buf = b;
		q->head = 0;
		q->cap = cap;
	}
	/* drawn in place: a copy of the arrival just written field by field would stall on
	 * store forwarding */
	if (!draw_arrival(s, &q->buf[(q->head + q->len) & (q->cap - 1)]))
		return false;
	q->len++;
	return true;
}

static void schedule_next_arrival(struct sim *s)
{
	struct pending_arrival a;
	s->next_arrival = INT64_MAX;
	s->arrival_due = false;
	if (s->ahead.len > 0) {
		a = s->ahead.buf[s->ahead.head];
		s->ahead.head = (s->ahead.head + 1) & (s->ahead.cap - 1);
		s->ahead.len--;
	} else if (!draw_arrival(s, &a)) {
		return;
	}
	/* the arrival's hash ids (a trace's prefix blocks) go with its event */
	{
		int b = s->ids_pending;
		free(s->ids[b]);
		s->ids[b] = a.ids;
		s->n_ids[b] = s->cap_ids[b] = a.n_ids;
	}
	/* set in place (a struct built aside and copied in would stall on store forwarding) */
	set_event(&s->arrival_ev, a.time, s->now, EV_ARRIVAL, 0, a.index, 0);
	llmcap_events_number(&s->events, &s->arrival_ev);
	s->arrival_due = true;
	s->next_arrival = a.time;
	s->next_arrival_pool = a.pool;
}

/* No arrival reaches pool p before the returned time but the first skip ones (the next one
 * after those, or the last one drawn ahead where none of up to 64 is). */
static llmcap_time next_arrival_to(struct sim *s, size_t p, int64_t skip)
{
	if (s->next_arrival == INT64_MAX || (s->next_arrival_pool == p && skip-- == 0))
		return s->next_arrival;
	struct arrivals_ahead *q = &s->ahead;
	llmcap_time last = s->next_arrival;
	for (size_t i = 0; i < 64; i++) {
		if (i == q->len && !ahead_push(s))
			return s->arrivals_done ? INT64_MAX : last;
		const struct pending_arrival *a = &q->buf[(q->head + i) & (q->cap - 1)];
		if (a->pool == p && skip-- == 0)
			return a->time;
		last = a->time;
	}
	return last;
}

/* ---- set-up, loop and wrap-up ---- */

static void schedule_sample(struct sim *s, llmcap_time t)
{
	s->next_sample = INT64_MAX;
	if (t <= s->sc->horizon) {
		push_event(s, t, s->now, EV_SAMPLE, 0, 0, 0);
		s->next_sample = t;
	}
}

/* One time-series sample per replica and per pool, for the interval ending now. */
static void sample(struct sim *s)
{
	const double interval = (double)s->sink->sample_interval * 1e-9;
	/* runs stop before a sample: their steps all ended, and are applied to be read */
	for (size_t ri = 0; ri < s->res->n_replicas; ri++)
		if (s->replicas[ri].deferred)
			run_apply(s, ri);
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
	schedule_sample(s, s->now + s->sink->sample_interval);
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
		    !llmcap_quantiles_init(&cs->queue, streaming, sc->output.percentile_error) ||
		    (!streaming && (!llmcap_quantiles_tag(&cs->ttft) || !llmcap_quantiles_tag(&cs->tpot))))
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	s->free_list = -1;
	s->fast = sc->engine_mode == LLMCAP_ENGINE_FAST;
	s->next_arrival = s->next_sample = INT64_MAX;
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
		s->pools[p].bs_shift = (cfg->block_size & (cfg->block_size - 1)) == 0
					       ? __builtin_ctzll((unsigned long long)cfg->block_size)
					       : -1;
		if (s->fast) {
			/* decode batches up to 1024 (128 bytes a timer) */
			s->pools[p].n_timers = (cfg->max_num_seqs < 1024 ? cfg->max_num_seqs : 1024) + 1;
			s->pools[p].timers = malloc((size_t)s->pools[p].n_timers * sizeof *s->pools[p].timers);
			s->pools[p].timer_ok = calloc((size_t)s->pools[p].n_timers, 1);
			if (!s->pools[p].timers || !s->pools[p].timer_ok)
				return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		}
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
	if (res->n_hours == 0)
		res->n_hours = 1;
	res->arrivals_per_hour = calloc(res->n_hours, sizeof *res->arrivals_per_hour);
	res->hours = calloc(res->n_hours * sc->workload.n_classes, sizeof *res->hours);
	res->busy_per_hour = calloc(res->n_hours * (n_rep ? n_rep : 1), sizeof *res->busy_per_hour);
	if (!res->hours || !res->busy_per_hour)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
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
			rp->tm_n = -1;
			if (s->fast && !(rp->phase = calloc(2 * (size_t)cfg->block_size, sizeof *rp->phase)))
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
		free(s->pools[p].timers);
		free(s->pools[p].timer_ok);
	}
	if (s->replicas)
		for (size_t i = 0; i < s->res->n_replicas; i++) {
			free(s->replicas[i].waiting.buf);
			free(s->replicas[i].swapped.buf);
			free(s->replicas[i].running);
			free(s->replicas[i].pc.ent);
			free(s->replicas[i].pc.bucket);
			free(s->replicas[i].phase);
		}
	for (size_t c = 0; c < LLMCAP_MAX_CLASSES; c++)
		free(s->deadlines[c].buf);
	for (size_t i = 0; i < s->ahead.len; i++)
		free(s->ahead.buf[(s->ahead.head + i) & (s->ahead.cap - 1)].ids);
	free(s->ahead.buf);
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
		if (rp->deferred) /* its steps end by the horizon, the last one after it */
			run_apply(s, ri);
		kv_account(s, ri);
		s->res->replicas[ri].kv_block_time = (double)rp->kvt;
		count_account(s, ri);
		if (rp->busy) {
			s->res->replicas[ri].busy += s->now - rp->step_start;
			add_busy(s, ri, rp->step_start, s->now);
		}
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

/* Handles an event popped from the queue. */
static void dispatch(struct sim *s, const struct llmcap_event *ev)
{
	if (ev->kind == EV_ARRIVAL) {
		/* the next arrival first: one at this same instant then runs before the replica's
		 * start-of-step event */
		int cur = s->ids_pending;
		s->ids_pending ^= 1;
		schedule_next_arrival(s);
		arrival(s, ev->data, cur);
	} else if (ev->kind == EV_KICK) {
		s->replicas[ev->target].kicked = false;
		try_start_step(s, ev->target, NULL);
	} else if (ev->kind == EV_STEP_END) {
		step_end(s, ev->target);
	} else if (ev->kind == EV_TIMEOUT) {
		queue_timeout(s, (int32_t)ev->target, (int64_t)ev->data);
	} else {
		sample(s);
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
		if (sink && sink->sample_interval > 0)
			schedule_sample(&s, sink->sample_interval);
		struct llmcap_event ev;
		bool canceled = false;
		int64_t next_check = 0x1000; /* events, counting the fast mode's steps */
		const struct llmcap_event *top;
		while (!s.oom && !s.sink_rc && !s.trace_failed) {
			top = llmcap_events_peek(&s.events);
			const bool arr = s.arrival_due && (!top || llmcap_event_before(&s.arrival_ev, top));
			if (!arr && !top)
				break;
			ev = arr ? s.arrival_ev : *top;
			if (ev.time > sc->horizon)
				break;
			assert(ev.time >= s.now && "simulated time went backwards");
			s.now = ev.time;
			res->events++;
			/* a run that goes on past its step end replaces the event in place */
			if (arr) {
				s.arrival_due = false;
				dispatch(&s, &ev);
			} else if (!(ev.kind == EV_STEP_END && s.replicas[ev.target].deferred &&
				     run_resume(&s, ev.target))) {
				llmcap_events_pop(&s.events, &ev);
				dispatch(&s, &ev);
			}
			if (sink && res->events >= next_check) {
				if (sink->cancel && *sink->cancel) {
					canceled = true;
					break;
				}
				if (sink->progress && (next_check & 0xffff) == 0)
					sink->progress(sink->progress_user, s.now, sc->horizon, res->events);
				next_check += 0x1000;
				if (next_check <= res->events)
					next_check = (res->events | 0xfff) + 1;
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
	free(res->hours);
	free(res->busy_per_hour);
	free(res->replicas);
	free(res->arrivals_per_hour);
	memset(res, 0, sizeof *res);
}

/* The engine's internal tier: the state every file of sim/engine shares, the helpers its hot
 * paths inline, and the functions its files call in one another. Nothing outside sim/engine
 * includes it (tests and the other parts see include/llmcap/sim.h only).
 *
 * The files, in the order a request meets them:
 *   stream.c     draws arrivals (or reads a script, or sends closed-loop clients' requests)
 *                one ahead, and further ahead for the fast mode's look-ahead; calls no other
 *                engine file, so that the look-ahead makes no circle;
 *   arrivals.c   routes, limits and queues each request as its arrival runs, and its queue
 *                timeout;
 *   router.c     the routers, one row each of llmcap_routers;
 *   scheduler.c  vLLM's scheduling loop: admission, preemption, a step's start and end;
 *   kv.c         KV blocks and the prefix cache;
 *   fast.c       the fast mode: runs of decode steps taken in a loop, applied later;
 *   outcomes.c   how a request ends (completed, spilled, rejected) and how it is counted;
 *   sessions.c   multi-turn sessions: a session's next turn as its previous one ends;
 *   failures.c   replica failures (retries elsewhere), restarts, spares, maintenance;
 *   autoscale.c  an autoscaled pool's decisions, its replicas' cold starts, drains, releases;
 *   loop.c       set-up, the event loop and wrap-up (llmcap_simulate);
 *   event.c      the event queue.
 *
 * Functions called across files are prefixed llmcap_ and hidden (LLMCAP_INTERNAL); the
 * helpers of the per-step and per-request paths are static inline here, so that splitting the
 * engine into files costs those paths no call (bench/compare.sh: the month within noise).
 *
 * Invariants of a replica (struct replica), checked by llmcap_check_replica in invariants
 * builds at every step (CHECK_REPLICA), except while a run is deferred (below):
 *   - running[0..n_running) hold R_RUNNING requests in admission order; waiting holds
 *     R_WAITING and swapped R_SWAPPED requests, neither with GPU blocks;
 *   - outstanding = n_running + waiting.len + swapped.len; queued counts the waiting never
 *     scheduled (first_sched < 0); waiting_tokens sums remaining_prefill over waiting;
 *   - GPU blocks: the running requests' private blocks (blocks - n_prefix) + the prefix
 *     cache's entries (pc.n_cached) + free_blocks = num_blocks, free_blocks >= 0; an entry is
 *     referenced by running requests (ref > 0) or sits in the LRU list (pc.n_evictable);
 *   - CPU blocks: the swapped requests' swap_blocks + cpu_free = cpu_blocks;
 *   - busy: exactly one EV_STEP_END event of the replica is pending (the step in flight, its
 *     requests' sched set); kicked: one EV_KICK is;
 *   - kvt is the block-time integral up to kv_last; in_system_time and queued_time (in the
 *     results) are brought up to count_last before outstanding or queued change;
 *   - fast mode: phase[] is all zeros except while a run is built or deferred; deferred: the
 *     replica's run (pr) has taken steps 1..j-1 whose effects on the replica's requests, blocks
 *     and statistics are not applied yet: nothing reads them until llmcap_run_apply or
 *     llmcap_step_end applies them (an event that would is a run's stop, llmcap_fast_forward);
 *     touched: an arrival or timeout changed the replica's queues since the run began.
 * Invariants of the simulation (struct sim):
 *   - request slots: those in no replica's queues nor running are on the free list (state 0);
 *     in_flight is the sum of the replicas' outstanding;
 *   - now never decreases; the pending arrival (arrival_ev, at next_arrival, to pool
 *     next_arrival_pool) is due while arrival_due and kept beside the queue; ahead holds the
 *     arrivals drawn after it, in order; arrivals_done: none is left before the horizon;
 *   - ids[ids_pending] are the pending arrival's trace hash ids, ids[ids_pending ^ 1] those of
 *     the arrival being handled;
 *   - next_sample is the pending sample event's time, deadlines[c] class c's queue timeouts in
 *     time order (fast mode; entries of requests no longer waiting are dropped lazily);
 *   - oom, sink_rc and trace_failed stop the event loop at the next event.
 */
#ifndef LLMCAP_ENGINE_PRIVATE_H
#define LLMCAP_ENGINE_PRIVATE_H

#include <assert.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/event.h"
#include "llmcap/sim.h"
#include "llmcap/workload.h"

/* Functions one engine file calls in another: hidden, so that they bind within the program or
 * library (no interposition: GCC may still inline them within their own file, as the static
 * functions they were, and calls go direct, not through the PLT of a position-independent
 * build). */
#define LLMCAP_INTERNAL __attribute__((visibility("hidden")))

/* The kind is also the order of events scheduled for the same time at the same time (see
 * push_event): arrivals of an instant run before the kicks they cause. */
enum { EV_ARRIVAL = 1, EV_STEP_END = 2, EV_SAMPLE = 3, EV_TIMEOUT = 4, EV_KICK = 5, EV_CLIENT = 6,
       EV_SESSION = 7, EV_FAIL = 8, EV_UP = 9, EV_SPARE = 10, EV_MAINTAIN = 11 };
/* a KV transfer's end at its decode replica (disagg.c): target the request's slot, data its id */
enum { EV_KV_DONE = 12 };
enum { EV_AUTOSCALE = 13, /* a pool's decision (target: the pool) */
       EV_READY = 14 };   /* a starting replica's cold start ends (target: the replica) */
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
	llmcap_time ready;         /* pools with a frontend: when it reaches the scheduler */
	int64_t id;
	int32_t prefix_hit;        /* tokens reused from the prefix cache at first admission */
	int32_t prefix_cap;        /* capacity of prefix_ent */
	int32_t *prefix_ent;       /* their entry ids */
	int32_t prefix_group;
	int32_t n_chain;           /* trace hash ids: chained (prefix) hashes of each trace block */
	uint64_t *chain;
	int32_t swap_blocks;       /* blocks held in CPU memory while swapped out */
	int32_t commit;            /* blocks its admission committed (admission rows that commit) */
	int64_t priority;
	uint32_t cls, pool, replica;
	uint32_t preemptions;
	uint8_t state;
	bool admitted_once;
	uint16_t adapter;          /* multi-LoRA: 1 + (class << 12 | index); 0: the base model
				    * (in the padding before next_free: the request stays 152 bytes) */
	int32_t next_free;
	int32_t session;           /* 1 + its session's slot (sessions.c); 0: none */
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
 * the statistics that llmcap_step_end and schedule() accumulate per step. */
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

/* A run of decode steps taken by the fast mode, with what applying it needs (llmcap_run_apply). */
struct pending_run {
	struct run run;
	struct fixed_timer ft;
	int64_t ctx, min_rem;     /* contexts before step 1; the fewest tokens left to emit */
	llmcap_time start, gap1;  /* step 1's start and end */
	int64_t pops;             /* the run's steps that ended as events (llmcap_run_resume) */
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
	uint8_t state;          /* enum replica_state (REP_ACTIVE: 0, every fixed fleet's) */
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
	/* admission (cold: read when a request is admitted or released) */
	int64_t committed;     /* sum of the running requests' commit (admission rows that commit) */
	int64_t ms_mark;       /* multi-step scheduling: stats' steps at the last admission */
	/* failures and maintenance (failures.c), the replica's one place for being out: down:
	 * failed or in maintenance, holding no request (routers send none while another is up),
	 * back at up_at; draining: a maintenance window began, it takes no new request and goes
	 * down when its last one ends; out_since: when it went out (failed, or began draining);
	 * stale_step: it failed during a step, whose EV_STEP_END (origin <= failed_at) is
	 * dropped */
	bool down, draining, stale_step;
	llmcap_time up_at, out_since, failed_at;
	/* disaggregation (disagg.c): requests handed to this decode replica and not in its batch
	 * yet (waiting for a reservation or in transfer; in outstanding), and blocks held for
	 * transfers (a prefill replica's until the transfer ends, a decode replica's reserved) */
	int64_t n_transit, kv_held;
	struct lora_cache *lora; /* multi-LoRA (lora.c): the adapters in GPU memory; NULL: off */
	llmcap_time fe_free;   /* frontend: when its serial process is next free */
	llmcap_time fe_kick;   /* frontend: the pending kick for the waiting head's ready time */
};

struct pool_rt {
	struct llmcap_perf perf;
	const struct llmcap_pool_cfg *cfg;
	const struct llmcap_router_row *router; /* llmcap_routers[cfg->router] */
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
	/* from the engine profile with the pool's overrides (llmcap_engine_resolve), resolved once */
	bool async_scheduling;  /* a request arriving during a step joins the step after the next */
	bool holds;             /* async_scheduling or scheduler_steps > 1: admission may wait */
	int64_t scheduler_steps; /* multi-step scheduling: admissions every K steps (1: each) */
	bool split_prefill;     /* separate_prefill: a step with prompt work schedules no decodes */
	bool frontend;          /* frontend_time or frontend_latency > 0 (then holds too) */
	llmcap_time fe_time, fe_latency; /* the profile's frontend_time, frontend_latency */
	double reserve_output;  /* the profile's admission reserve (rows with a negative reserve) */
	const struct llmcap_admission_row *admit; /* llmcap_admissions[the profile's admission] */
	const struct llmcap_policy_row *policy;   /* llmcap_policies[cfg->scheduling_policy] */
	/* speculative decoding (specdec.c) and multi-LoRA (lora.c), resolved once; both off
	 * leave every path as it was. exact_steps: the pool's steps are never taken in fast runs
	 * (a run's closed form knows neither random accepted counts nor adapter loads), so the
	 * fast mode is the exact one there by construction */
	bool exact_steps;
	int64_t spec_k;               /* num_speculative_tokens; 0: off */
	struct spec_rt *spec;         /* owned; NULL: off */
	struct lora_rt *lora;         /* owned; NULL: off */
	/* the replicas new requests may go to (REP_ACTIVE), in index order: what the routers
	 * scan; a fixed fleet's are all of its replicas */
	uint32_t *live;
	size_t n_live;
	struct autoscale_rt *as; /* NULL: the pool's count is fixed */
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
	/* closed loop (workload.clients): each client's next request is an EV_CLIENT event,
	 * pushed when its previous request ends (think_rng: the think times; class_rng: the
	 * requests' classes, by share); the fast mode is off, as a run cannot look ahead at
	 * arrivals that depend on its own completions */
	bool clients;
	gsl_rng *think_rng, *class_rng;
	llmcap_time next_sample;    /* of the pending sample event (INT64_MAX: none) */
	llmcap_time next_autoscale; /* of the earliest pending autoscale event (INT64_MAX: none) */
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
	/* multi-turn sessions (sessions.c): a session lives in a slot of sessions from its first
	 * turn's arrival to its last turn's end; a later turn is an EV_SESSION event (target: the
	 * slot) pushed as the turn before ends; arriving_session is 1 + the slot of the session
	 * whose turn llmcap_arrival is handling (0: a new request). The fast mode is off, as with
	 * clients: the next turn depends on the run's own completions. */
	bool has_sessions;
	struct session {
		int64_t id;           /* from 0, in order of first turns; keys its prefix blocks */
		int32_t prompt, output; /* of its latest turn */
		int32_t turns_left;   /* after the latest turn */
		int32_t turn;         /* the latest turn's number, from 0 */
		int32_t group;        /* the class's prefix group, drawn once */
		int32_t shared_blocks; /* leading blocks of the class's shared prefix */
		uint32_t cls, replica; /* replica: where its latest turn went (UINT32_MAX: none) */
		int32_t next_free;
	} *sessions;
	size_t n_sessions, cap_sessions;
	int32_t session_free;
	int32_t arriving_session;
	int64_t next_session_id;
	gsl_rng *session_rng[LLMCAP_MAX_CLASSES]; /* "sessions/CLASS": turns, growth, pauses, outputs */
	/* failures and maintenance (failures.c): on where a pool has them (exact steps then, as
	 * a failure changes a replica at a time no fast run foresees); per pool its stream
	 * "failures/POOL" and its free spares */
	bool has_failures;
	gsl_rng *failure_rng[LLMCAP_MAX_POOLS];
	int64_t spares_free[LLMCAP_MAX_POOLS];
	struct llmcap_disagg *dg; /* disaggregated prefill and decode (disagg.c); NULL: off */
	/* per-request counters of speculative decoding, multi-LoRA and failures (specdec.c), by
	 * request slot; NULL until a pool with one of them writes one */
	struct req_feat *feat;
	size_t cap_feat;
};

/* ---- small containers ---- */

static inline bool deque_grow(struct deque *d)
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

static inline int32_t *deque_at(struct deque *d, size_t i)
{
	return &d->buf[(d->head + i) & (d->cap - 1)];
}

static inline bool deque_push_back(struct deque *d, int32_t v)
{
	if (d->len == d->cap && !deque_grow(d))
		return false;
	d->buf[(d->head + d->len++) & (d->cap - 1)] = v;
	return true;
}

static inline bool deque_push_front(struct deque *d, int32_t v)
{
	if (d->len == d->cap && !deque_grow(d))
		return false;
	d->head = (d->head + d->cap - 1) & (d->cap - 1);
	d->buf[d->head] = v;
	d->len++;
	return true;
}

static inline void deque_pop_front(struct deque *d)
{
	d->head = (d->head + 1) & (d->cap - 1);
	d->len--;
}

/* Removes the element at position i, keeping the order of the others. O(n). */
static inline void deque_remove_at(struct deque *d, size_t i)
{
	for (; i + 1 < d->len; i++)
		*deque_at(d, i) = *deque_at(d, i + 1);
	d->len--;
}

static inline void req_release(struct sim *s, int32_t i)
{
	free(s->reqs[i].prefix_ent);
	s->reqs[i].prefix_ent = NULL;
	free(s->reqs[i].chain);
	s->reqs[i].chain = NULL;
	s->reqs[i].state = 0;
	s->reqs[i].next_free = s->free_list;
	s->free_list = i;
}

/* ---- blocks and the prefix cache (kv.c) ---- */

LLMCAP_INTERNAL void llmcap_pcache_evict_one(struct replica *rp);
LLMCAP_INTERNAL bool llmcap_pcache_init(struct pcache *pc, int64_t num_blocks);
LLMCAP_INTERNAL uint64_t llmcap_prefix_key(uint32_t cls, int32_t group, int32_t block);
LLMCAP_INTERNAL void llmcap_release_blocks(struct replica *rp, struct req *r);
LLMCAP_INTERNAL void llmcap_register_prefix(struct sim *s, struct replica *rp, struct req *r);
LLMCAP_INTERNAL int32_t llmcap_prefix_lookup(const struct sim *s, const struct replica *rp,
					     const struct req *r, int64_t *revived);
LLMCAP_INTERNAL bool llmcap_hold_prefix(struct sim *s, struct replica *rp, struct req *r,
					int32_t hits);

/* The prefix cache's entry of key, or -1. */
static inline int32_t pcache_find(const struct pcache *pc, uint64_t key)
{
	for (int32_t e = pc->bucket[key & (pc->n_buckets - 1)]; e >= 0; e = pc->ent[e].next)
		if (pc->ent[e].key == key)
			return e;
	return -1;
}

/* Blocks for tokens (>= 0); shift: the pool's bs_shift, log2 of a power-of-two block size (as
 * block sizes are in practice: a shift instead of a division per request per step), else -1. */
static inline int64_t blocks_for(int64_t tokens, int64_t block_size, int shift)
{
	return shift >= 0 ? (tokens + block_size - 1) >> shift : (tokens + block_size - 1) / block_size;
}

/* Blocks an allocation may use: free ones, and cached ones nobody references. */
static inline int64_t allocatable(const struct replica *rp)
{
	return rp->free_blocks + rp->pc.n_evictable;
}

static inline int64_t used_blocks(const struct replica *rp)
{
	return rp->num_blocks - allocatable(rp);
}

static inline void take_blocks(struct sim *s, size_t ri, int64_t n)
{
	struct replica *rp = &s->replicas[ri];
	while (rp->free_blocks < n) {
		llmcap_pcache_evict_one(rp);
		s->res->replicas[ri].prefix_evictions++;
	}
	rp->free_blocks -= n;
}

/* ---- accounting ---- */

static inline void kv_account(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	rp->kvt += (u128)used_blocks(rp) * (u128)(s->now - rp->kv_last);
	rp->kv_last = s->now;
}

/* Brings the integrals of requests in the system and not yet scheduled up to now; called
 * before either count changes. */
static inline void count_account(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	double dt = (double)(s->now - rp->count_last);
	st->in_system_time += (double)rp->outstanding * dt;
	st->queued_time += (double)rp->queued * dt;
	rp->count_last = s->now;
}

static inline int64_t remaining_prefill(const struct req *r)
{
	return (int64_t)r->prompt + r->generated - r->computed;
}

#ifdef LLMCAP_INVARIANTS
LLMCAP_INTERNAL void llmcap_check_replica(const struct sim *s, const struct replica *rp);
#define CHECK_REPLICA(s, rp) llmcap_check_replica(s, rp)
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
static inline void set_event(struct llmcap_event *ev, llmcap_time time, llmcap_time origin,
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

static inline struct llmcap_event make_event(llmcap_time time, llmcap_time origin, uint32_t kind,
				      uint32_t target, uint64_t data, uint64_t index)
{
	struct llmcap_event ev;
	set_event(&ev, time, origin, kind, target, data, index);
	return ev;
}

/* A replica's step end (its index is the tie among equal times and origins). */
static inline struct llmcap_event step_end_event(llmcap_time time, llmcap_time origin, size_t ri)
{
	return make_event(time, origin, EV_STEP_END, (uint32_t)ri, 0, ri);
}

static inline void push_event(struct sim *s, llmcap_time time, llmcap_time origin, uint32_t kind,
		       uint32_t target, uint64_t data, uint64_t index)
{
	if (llmcap_events_push(&s->events, make_event(time, origin, kind, target, data, index)) != 0)
		s->oom = true;
}

/* ---- a step's schedule (scheduler.c, and the fast mode's end of a run) ---- */

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

/* The first part of schedule() (running requests in order) as far as llmcap_step_end took it in its
 * own pass over the batch (llmcap_step_end: the same operations in the same order, stopped where a
 * request's blocks are not free without evicting, so that schedule() goes on from there), and
 * what llmcap_fast_forward needs to know of the requests it scheduled. */
struct sched_start {
	size_t next;        /* running requests before it are scheduled */
	int64_t budget;
	struct shape_sum sum;
	bool complete;      /* next reached the end of the batch, with the budget left over */
	/* of the requests scheduled by llmcap_step_end's pass and by admission (llmcap_fast_forward): */
	bool finishing;     /* each computes the rest of its tokens (a decode, a prompt's end) */
	int64_t min_rem;    /* the fewest tokens left to emit */
	int64_t ctx;        /* the sum of computed + sched - 1 */
	int64_t prefill;    /* prompt tokens computed (what llmcap_step_end counts as such) */
};

/* Notes a scheduled request in ss: sched tokens of the rem it had left. */
static inline void sched_note(struct sched_start *ss, const struct req *r, int64_t sched,
			      int64_t rem)
{
	ss->finishing &= sched == rem;
	if (r->output - r->generated < ss->min_rem)
		ss->min_rem = r->output - r->generated;
	ss->ctx += r->computed + sched - 1;
	/* llmcap_step_end counts a step of a request that is not a decode as prompt tokens */
	if (!((r->generated > 0) & (rem == 1)))
		ss->prefill += sched;
}

static inline void sched_start_init(struct sched_start *ss, const struct llmcap_pool_cfg *cfg)
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

/* ---- applying a run of the fast mode (fast.c, and llmcap_step_end's pass) ---- */

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

/* ---- routers (router.c) ---- */

/* A router: how it picks a pool's replica for a request, and what the rest of the engine must
 * know of it. Adding a router is writing its pick function and adding its row to
 * llmcap_routers (router.c), whose rows are indexed by enum llmcap_router. */
struct llmcap_router_row {
	/* The replica (an index into s->replicas, within the pool) for request r. It may read
	 * the replicas' request counts, queues and KV use (what a load balancer in front of them
	 * can know) and its own state in the pool (rr_next, affinity). */
	size_t (*pick)(struct sim *s, size_t pool, const struct req *r);
	/* How many of the next arrivals to rp's pool surely go to another replica while a fast
	 * run of rp's steps lasts (rp's counts and queues stay as they are; at is rp's place in
	 * the scan that starts at rr_next), or NULL where that cannot be known (0: a run stops at
	 * the next arrival to its pool). Only stops runs sooner where it errs low. */
	int64_t (*elsewhere)(const struct sim *s, const struct replica *rp, size_t at);
	/* pick reads the replicas' KV use, which a run's steps change: a run is then applied
	 * before the next arrival (fast.c: arrivals_read_kv) */
	bool reads_kv;
	/* pick keeps where each (class, prefix group) went: pool_rt.affinity is allocated */
	bool affinity;
};

LLMCAP_INTERNAL extern const struct llmcap_router_row llmcap_routers[];

/* An admission rule: how a replica decides that a waiting request's KV blocks fit. Adding one
 * is a row of LLMCAP_ADMISSIONS (spec.h) and a row of llmcap_admissions (scheduler.c), indexed
 * by enum llmcap_admission. The row is resolved once per pool (pool_rt.admit); schedule() reads
 * it only when it admits a request, never per running request or per step. */
struct llmcap_admission_row {
	/* the share of a request's remaining output whose blocks admission commits; negative:
	 * the profile's reserve_output */
	double reserve;
	/* admission also checks the blocks committed by the running requests (their prompt and
	 * reserved output), released when a request ends or is preempted (kv.c) */
	bool commits;
};
LLMCAP_INTERNAL extern const struct llmcap_admission_row llmcap_admissions[];

/* A scheduling policy: the waiting queue's order and the preemption victim. Adding one is a row
 * of LLMCAP_SCHED_POLICIES (spec.h) and a row of llmcap_policies (scheduler.c), indexed by enum
 * llmcap_sched_policy, resolved once per pool (pool_rt.policy). Arrival order needs no call
 * (insert NULL: the queue appends inline, as most pools run), so the per-request path stays
 * what it was; the fast mode and llmcap_arrival treat any policy but FCFS conservatively (an
 * arrival may overtake the queue: runs stop at it). */
struct llmcap_policy_row {
	/* puts request id (state and waiting_tokens set) into rp's waiting queue in the policy's
	 * order; NULL: arrival order (append; a preempted request goes to the front). False when
	 * out of memory. */
	bool (*insert)(struct sim *s, struct replica *rp, int32_t id);
	/* the index in rp->running of the request to preempt */
	size_t (*victim)(const struct sim *s, const struct replica *rp);
};
LLMCAP_INTERNAL extern const struct llmcap_policy_row llmcap_policies[];

/* ---- speculative decoding (specdec.c) and multi-LoRA (lora.c) ---- */

/* Tokens a decode of r verifies this step with k proposals: its last token and d proposals,
 * d capped so that the step never emits past the output nor spends past the budget. */
static inline int64_t spec_want(int64_t k, const struct req *r, int64_t budget)
{
	int64_t d = (int64_t)r->output - r->generated - 1;
	if (d > k)
		d = k;
	if (d > budget - 1)
		d = budget - 1;
	return d > 0 ? 1 + d : 1;
}
/* A running request's step is a verification of proposals: a decode with sched > 1. */
static inline bool spec_verifying(const struct req *r)
{
	return r->sched > 1 && r->generated > 0 && r->computed + 1 == r->prompt + r->generated;
}
struct llmcap_catalog;
struct llmcap_engine_spec;
LLMCAP_INTERNAL int llmcap_spec_setup(struct sim *s, size_t p, const struct llmcap_catalog *cat,
				      const struct llmcap_engine_spec *eng, struct llmcap_error *err);
LLMCAP_INTERNAL void llmcap_spec_teardown(struct sim *s, size_t p);
/* end of schedule(): the verification's LM-head positions in shape, the proposer's time in
 * step_extra */
LLMCAP_INTERNAL void llmcap_spec_step(struct sim *s, size_t ri, struct llmcap_step_shape *shape);
/* at the step's end, for a verifying request: the tokens it emits (1 .. sched), drawn from
 * the request's own counter-based stream (its id and tokens so far), so that any order of
 * events draws the same */
LLMCAP_INTERNAL int32_t llmcap_spec_emit(struct sim *s, size_t ri, const struct req *r);

LLMCAP_INTERNAL int llmcap_lora_setup(struct sim *s, size_t p, struct llmcap_error *err);
LLMCAP_INTERNAL void llmcap_lora_teardown(struct sim *s, size_t p);
/* the adapter of a new request of class cls (0: none), from its id */
LLMCAP_INTERNAL int32_t llmcap_lora_pick(const struct sim *s, size_t cls, int64_t id);
/* whether r's adapter may join replica rp's batch (max_loras distinct), and joining it (a load
 * from host memory on a miss, its time added to the step), and leaving it (ends, preemption) */
LLMCAP_INTERNAL bool llmcap_lora_can_join(const struct sim *s, const struct replica *rp,
					  const struct req *r);
LLMCAP_INTERNAL void llmcap_lora_join(struct sim *s, size_t ri, struct req *r);
LLMCAP_INTERNAL void llmcap_lora_leave(struct sim *s, size_t ri, const struct req *r);
/* end of schedule(): the batched LoRA kernels' time in step_extra */
LLMCAP_INTERNAL void llmcap_lora_step(struct sim *s, size_t ri);
LLMCAP_INTERNAL size_t llmcap_pick_adapter_affinity(struct sim *s, size_t pool, const struct req *r);
/* A request's speculative, LoRA and retry counters for its row of the requests table, kept beside
 * the request (struct req stays as it is: runs without the features never touch this): a
 * table by request slot, grown on first use; an entry whose id is not the slot's request's is
 * stale (the slot was reused) and counts as zeros. */
struct req_feat {
	int64_t id;
	int32_t spec_verifications, spec_proposed, spec_accepted; /* over its verifications */
	int32_t lora_loads;     /* its admissions that copied its adapter from host memory */
	llmcap_time lora_load;  /* those copies' time, added to the steps that admitted it */
	int32_t retries;        /* failures.c: times its replica failed under it */
};
/* r's entry, zeroed when stale; NULL (and s->oom set) when out of memory */
LLMCAP_INTERNAL struct req_feat *llmcap_req_feat(struct sim *s, const struct req *r);
/* the record's speculative, LoRA and retry columns */
struct llmcap_request_record;
LLMCAP_INTERNAL void llmcap_feat_record(const struct sim *s, const struct req *r,
					struct llmcap_request_record *out);
#ifdef LLMCAP_INVARIANTS
/* invariants.c: the adapter cache holds one reference per running request of an adapter, and
 * the running requests use at most max_loras distinct adapters */
LLMCAP_INTERNAL void llmcap_lora_check(const struct sim *s, const struct replica *rp);
#endif
/* ---- a replica's life (autoscale.c; replica failures may reuse it) ---- */

/* A replica is held (paid for) from the moment it is asked for until it is released:
 *   REP_OFF      not held (an autoscaled pool's slot beyond its count); no requests;
 *   REP_STARTING held, cold-starting: not in the pool's live list; requests that reached an
 *                empty pool wait in its queue, and kicked stays set so that nothing starts a
 *                step until it is active (EV_READY);
 *   REP_ACTIVE   held, in the live list: routers send it requests;
 *   REP_DRAINING held, out of the live list: it finishes its running and waiting requests
 *                (never dropped) and is released (REP_OFF) when it has none left and no step
 *                in flight (llmcap_replica_idle, at its step end).
 * A fixed fleet's replicas are all REP_ACTIVE for the whole run. */
enum replica_state { REP_ACTIVE = 0, REP_STARTING = 1, REP_DRAINING = 2, REP_OFF = 3 };

/* What a pool's autoscaler keeps between its decisions (struct pool_rt.as). */
struct autoscale_rt {
	llmcap_time next_decision;  /* of its pending EV_AUTOSCALE (INT64_MAX: none) */
	llmcap_time cold_start;     /* provisioning + weight bytes per GPU / weights_bandwidth */
	llmcap_time last_change;    /* of the last scale-up or scale-down (cooldown) */
	llmcap_time held_last;      /* the held-count integrals are up to here */
	int64_t min, max;           /* the count's bounds (min 0 with scale_to_zero) */
	int64_t n_held;             /* starting + active + draining */
	int64_t n_starting, n_draining;
	int64_t arrivals;           /* to the pool since the last decision */
	llmcap_time *ready_at;      /* [replica - first]: a starting replica's EV_READY time */
	llmcap_time *busy_prev;     /* [replica - first]: busy time at the last decision */
	/* spot capacity (spot.c; autoscale.spot): NULL spot_rng where the pool is not spot. A
	 * slot's interruption clock is drawn when it becomes held; spot_at its pending notice or
	 * termination (INT64_MAX: none); spot_gen its tenure (a pending event of an older one is
	 * moot); spot_doomed 1 after a notice to a replica the pool was letting go (draining or
	 * starting unwanted), 2 to one it wanted (a replacement starts at its termination) */
	gsl_rng *spot_rng;
	double spot_gap;            /* mean ns between one held replica's interruptions */
	llmcap_time *spot_at;
	uint32_t *spot_gen;
	uint8_t *spot_doomed;
};

/* autoscale.c: set-up (after the replicas exist), an EV_AUTOSCALE or EV_READY event, the
 * held time up to the horizon, and what a draining replica does when it goes idle. */
LLMCAP_INTERNAL int llmcap_autoscale_setup(struct sim *s);
LLMCAP_INTERNAL void llmcap_autoscale_event(struct sim *s, const struct llmcap_event *ev);
LLMCAP_INTERNAL void llmcap_autoscale_finish(struct sim *s);
LLMCAP_INTERNAL void llmcap_autoscale_free(struct sim *s);
LLMCAP_INTERNAL void llmcap_autoscale_release(struct sim *s, size_t ri);
/* spot.c: set-up of pool p's spot clocks (after its autoscaler's; -1 when out of memory); slot
 * i of pool p became held, or was released; a spot event (EV_AUTOSCALE with data != 0):
 * LLMCAP_SPOT_NOTICE (counted, its termination scheduled), LLMCAP_SPOT_TERMINATION, or 0 where
 * moot; and tear-down */
enum { LLMCAP_SPOT_NOTICE = 1, LLMCAP_SPOT_TERMINATION = 2 };
LLMCAP_INTERNAL int llmcap_spot_setup(struct sim *s, size_t p, size_t initial);
LLMCAP_INTERNAL void llmcap_spot_held(struct sim *s, size_t p, size_t i);
LLMCAP_INTERNAL void llmcap_spot_released(struct sim *s, size_t p, size_t i);
LLMCAP_INTERNAL int llmcap_spot_take(struct sim *s, const struct llmcap_event *ev);
LLMCAP_INTERNAL void llmcap_spot_free(struct autoscale_rt *as);
/* Called where a replica may have gone idle (its step end): a draining replica with no request
 * left and no step in flight is released. One predictable branch for every other replica. */
static inline void llmcap_replica_idle(struct sim *s, size_t ri)
{
	const struct replica *rp = &s->replicas[ri];
	if (__builtin_expect(rp->state == REP_DRAINING, 0) && rp->outstanding == 0 && !rp->busy)
		llmcap_autoscale_release(s, ri);
}

/* ---- functions between the engine's files ---- */

/* The class and lengths of a generated arrival travel in its event: 5 bits of class, 29 bits
 * each of prompt and output tokens (lengths are validated below 2^24; a session's later turns
 * are kept below it: sessions.c). */
static inline uint64_t pack_arrival(size_t cls, int64_t prompt, int64_t output)
{
	assert(cls < 32 && prompt > 0 && prompt < (1 << 29) && output > 0 && output < (1 << 29));
	return (uint64_t)cls << 58 | (uint64_t)prompt << 29 | (uint64_t)output;
}

/* failures.c: set-up (streams, spares; the fast mode off where a pool has failures; false when
 * out of memory) and the first events (after the replicas exist); the events EV_FAIL,
 * EV_UP, EV_SPARE and EV_MAINTAIN; the time each replica was out up to the horizon. */
LLMCAP_INTERNAL bool llmcap_failures_init(struct sim *s);
LLMCAP_INTERNAL void llmcap_failures_start(struct sim *s);
LLMCAP_INTERNAL void llmcap_failures_free(struct sim *s);
LLMCAP_INTERNAL void llmcap_failure_event(struct sim *s, const struct llmcap_event *ev);
LLMCAP_INTERNAL void llmcap_failures_finish(struct sim *s);
/* failures.c, for a failure and a spot termination (spot.c): replica ri loses its step in flight
 * (its EV_STEP_END dropped: s->has_failures must be set), its prefix cache and its requests,
 * returned (*n of them, malloc'd; NULL and s->oom when out of memory) out of s->in_flight;
 * then each is retried on its pool's replicas (s->in_flight counted in again by the caller) */
LLMCAP_INTERNAL int32_t *llmcap_replica_detach(struct sim *s, size_t ri, size_t *n);
LLMCAP_INTERNAL void llmcap_replica_retry(struct sim *s, int32_t id);

/* A maintenance window's drain ends (its draining replica's last request ended: outcomes.c,
 * arrivals.c): the replica is down for the window's duration (failures.c). Inline here, as
 * those files call no function of failures.c (no circle of files). */
static inline void replica_drained(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	rp->draining = false;
	rp->down = true;
	rp->up_at = s->now + s->sc->pools[rp->pool].failures.maintenance.duration;
	push_event(s, rp->up_at, s->now, EV_UP, (uint32_t)ri, 0, ri);
}

/* router.c: the replica for a request whose router picked ri, which is out (down or
 * draining): the up replica with the fewest requests, else a draining one, else the one back
 * first. */
LLMCAP_INTERNAL size_t llmcap_route_around(struct sim *s, size_t pool, size_t ri);

/* sessions.c: set-up (the classes' streams; turns the fast mode off where a class has
 * sessions; false when out of memory) and tear-down; a new request's session (its first turn
 * starts one, a later turn's is arriving_session), which keys its prompt's blocks after the
 * class's shared prefix by the session (kv.c), so that the next turn finds them; and, as a request
 * ends (answered: completed or spilled; else rejected, or unfinished at_horizon), its session's
 * next turn (true: one is scheduled). */
LLMCAP_INTERNAL bool llmcap_sessions_init(struct sim *s);
LLMCAP_INTERNAL void llmcap_sessions_free(struct sim *s);
LLMCAP_INTERNAL bool llmcap_session_attach(struct sim *s, struct req *r);
LLMCAP_INTERNAL bool llmcap_session_next(struct sim *s, const struct req *r, bool answered,
					 bool at_horizon);

/* outcomes.c */
LLMCAP_INTERNAL void llmcap_request_ended(struct sim *s, const struct req *r,
					  enum llmcap_request_status st);
LLMCAP_INTERNAL void llmcap_complete(struct sim *s, size_t ri, int32_t id);
LLMCAP_INTERNAL void llmcap_spill_or_reject(struct sim *s, struct req *r,
					    enum llmcap_request_status st);
LLMCAP_INTERNAL void llmcap_add_busy(struct sim *s, size_t ri, llmcap_time from, llmcap_time to);

/* scheduler.c */
LLMCAP_INTERNAL void llmcap_enqueue_waiting(struct sim *s, struct replica *rp, int32_t id,
					    bool front);
LLMCAP_INTERNAL void llmcap_try_start_step(struct sim *s, size_t ri, struct sched_start *ss);
LLMCAP_INTERNAL void llmcap_step_end(struct sim *s, size_t ri);

/* fast.c */
LLMCAP_INTERNAL void llmcap_fast_forward(struct sim *s, size_t ri, llmcap_time *end,
					 llmcap_time *origin, const struct sched_start *ss);
LLMCAP_INTERNAL bool llmcap_run_resume(struct sim *s, size_t ri);
LLMCAP_INTERNAL struct run_req llmcap_run_apply_stats(struct sim *s, size_t ri);
LLMCAP_INTERNAL void llmcap_run_apply(struct sim *s, size_t ri);
LLMCAP_INTERNAL size_t llmcap_end_decodes(struct sim *s, size_t ri, const struct run_req *ra,
					  struct sched_start *acc);
LLMCAP_INTERNAL const struct llmcap_step_timer *llmcap_decode_timer(struct sim *s,
								    struct replica *rp, int64_t n);

/* disagg.c (stop and record: disagg_read.c): disaggregated prefill and decode, called only
 * where s->dg is set.
 * init: after the pools and replicas are set up (clamps a prefill pool's max_model_len to its
 * decode pool's); handoff: a request on replica ri just emitted its first token (in
 * llmcap_step_end's pass): true when ri's pool is a prefill group and the request left the
 * batch for its decode replica; retry: decode replica di's waiting reservations, at its step
 * ends; arrive: EV_KV_DONE; step_started: records a prefill replica's step end, false where
 * the replica takes no fast run (a prefill group's); stop: the time before which a fast run of
 * rp must stop (INT64_MAX: no bound); finish: the requests between the groups at the horizon;
 * record: the request's stage times into its record. */
struct llmcap_catalog;
LLMCAP_INTERNAL int llmcap_disagg_init(struct sim *s, const struct llmcap_catalog *cat,
				       struct llmcap_error *err);
LLMCAP_INTERNAL void llmcap_disagg_free(struct sim *s);
LLMCAP_INTERNAL bool llmcap_disagg_handoff(struct sim *s, size_t ri, int32_t slot);
LLMCAP_INTERNAL void llmcap_disagg_retry(struct sim *s, size_t di);
LLMCAP_INTERNAL void llmcap_disagg_arrive(struct sim *s, int32_t slot, int64_t id);
LLMCAP_INTERNAL bool llmcap_disagg_step_started(struct sim *s, size_t ri, llmcap_time end);
LLMCAP_INTERNAL llmcap_time llmcap_disagg_stop(struct sim *s, const struct replica *rp);
LLMCAP_INTERNAL void llmcap_disagg_finish(struct sim *s);
LLMCAP_INTERNAL void llmcap_disagg_record(const struct sim *s, const struct req *r,
					  struct llmcap_request_record *out);

/* arrivals.c */
LLMCAP_INTERNAL void llmcap_arrival(struct sim *s, uint64_t data, int ids_slot);
/* A request about to join rp's waiting queue (an arrival, or a retry: failures.c) ends rp's
 * fast run in progress at its next step end (rp->touched) unless it cannot change the run's
 * steps: in first-come-first-served order it joins behind a waiting request that the run's
 * steps could not admit, or behind swapped-out requests, which come back first (fast.c). */
LLMCAP_INTERNAL void llmcap_touch_run(const struct sim *s, struct replica *rp);
LLMCAP_INTERNAL void llmcap_queue_timeout(struct sim *s, int32_t id, int64_t req_id);

/* stream.c (uses no other engine file's functions: the fast mode's look-ahead depends on it
 * without a circle through the scheduler) */
LLMCAP_INTERNAL void llmcap_schedule_next_arrival(struct sim *s);
LLMCAP_INTERNAL llmcap_time llmcap_next_arrival_to(struct sim *s, size_t p, int64_t skip);
LLMCAP_INTERNAL llmcap_time llmcap_next_deadline(struct sim *s);
/* Closed-loop clients: every client's first request at time 0; a client's next request after
 * a think time (called as its request ends, not at the horizon); the class and lengths of a
 * client's request as it is sent, packed for llmcap_arrival. */
LLMCAP_INTERNAL void llmcap_clients_start(struct sim *s);
#define LLMCAP_CLIENT_BACKOFF LLMCAP_SEC /* after a request turned away, on top of the think time */
LLMCAP_INTERNAL void llmcap_client_think(struct sim *s, bool turned_away);
LLMCAP_INTERNAL uint64_t llmcap_client_request(struct sim *s);

#endif

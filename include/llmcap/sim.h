/* One simulation: a scenario and its seed in, per-class, per-pool and per-replica results out.
 *
 * The simulation is a deterministic function of (scenario, seed): no global state, no wall
 * clock, events ordered by (time, insertion sequence). Every request that arrives before the
 * horizon ends exactly once: completed, rejected (with a reason) or unfinished at the horizon.
 * Per-request records and time-series rows stream to an optional sink while the simulation
 * runs, so that memory does not grow with the horizon.
 */
#ifndef LLMCAP_SIM_H
#define LLMCAP_SIM_H

#include <signal.h>
#include <stdio.h>

#include "llmcap/quantiles.h"
#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/trace.h"

enum llmcap_request_status {
	LLMCAP_REQ_COMPLETED = 0,
	LLMCAP_REQ_REJECTED_MAX_MODEL_LEN = 1, /* prompt + output > the pool's max_model_len */
	LLMCAP_REQ_UNFINISHED = 2,             /* still waiting or running at the horizon */
	LLMCAP_REQ_REJECTED_QUEUE_FULL = 3,    /* class max_waiting reached at arrival */
	LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT = 4, /* not scheduled within class max_queue_time */
	LLMCAP_REQ_SPILLED_QUEUE_FULL = 5,     /* the same limits, with when_limited: spill */
	LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT = 6,
	LLMCAP_REQ_SPILLED_POOL_WAITING = 7,   /* pool spill.waiting_above reached at arrival */
	LLMCAP_REQ_SPILLED_POOL_KV = 8,        /* pool spill.kv_above reached at arrival */
	LLMCAP_REQ_N_STATUS
};
bool llmcap_status_is_rejected(int status);
bool llmcap_status_is_spilled(int status);
const char *llmcap_request_status_name(int status);

/* What happened to one request. Times in seconds; NAN where the request never got there. */
struct llmcap_request_record {
	int64_t id;              /* arrival order, from 0 */
	double arrival;          /* s since the start */
	int32_t cls, pool;       /* indices into the scenario's classes and pools */
	int32_t replica;         /* global replica index; -1 when rejected */
	int32_t status;          /* enum llmcap_request_status */
	int32_t preemptions;
	int64_t prompt_tokens, output_tokens; /* as requested */
	int64_t generated_tokens;             /* emitted (= output_tokens when completed) */
	int64_t prefix_hit_tokens;            /* prompt tokens served from a prefix cache (none yet) */
	double queue;            /* arrival to first scheduled */
	double ttft;             /* arrival to first token */
	double tpot;             /* mean time per output token after the first */
	double max_gap;          /* longest time between two consecutive tokens */
	double e2e;              /* arrival to last token */
	int64_t session;         /* multi-turn sessions: the session, from 0; -1: none */
	int32_t turn;            /* its turn, from 0 (0 outside sessions) */
	/* disaggregated prefill and decode (pools.NAME.disaggregation): the prefill replica
	 * (replica is then the decode replica; -1 when not handed over), the first scheduling
	 * to the prompt's end there, the prompt's end to the decode replica's reservation (the
	 * decode queue), and the KV transfer; NAN where the request never got there */
	int32_t prefill_replica;
	double prefill, decode_queue, kv_transfer;
	/* speculative decoding (pools.NAME.speculative): the request's verification steps, the
	 * proposals they verified and those accepted (0 without speculative decoding) */
	int32_t spec_verifications, spec_proposed, spec_accepted;
	/* multi-LoRA (classes.NAME.lora): its adapter (index within its class; -1: the base
	 * model), the admissions that copied the adapter from host memory and their time, s,
	 * which the admitting steps waited for */
	int32_t lora_adapter, lora_loads;
	double lora_load;
	int32_t retries; /* failures (pools.NAME.failures): times its replica failed under it */
};

/* One time-series sample: the interval (time - interval, time]. replica = -1: the pool total
 * (counts summed; kv_occupancy and busy averaged over its replicas). */
struct llmcap_sample_row {
	double time;             /* s, end of the interval */
	int32_t pool, replica;
	int64_t arrivals, completions; /* in the interval */
	int64_t waiting, running;      /* at the end of the interval */
	double kv_occupancy;           /* share of KV blocks in use at the end of the interval */
	double busy;                   /* share of the interval spent executing steps */
	double input_tokens_per_s;     /* prefill (and recomputed) tokens processed */
	double output_tokens_per_s;    /* tokens emitted */
	int64_t replicas;              /* held at the end of the interval (a replica: 1 or 0) */
};

/* Where streamed output goes. Any callback may be NULL; a callback returning non-zero stops the
 * simulation with that error. */
struct llmcap_sink {
	void *user;
	int (*request)(void *user, const struct llmcap_request_record *r);
	int (*sample)(void *user, const struct llmcap_sample_row *row);
	llmcap_time sample_interval;            /* 0: no time series */
	const volatile sig_atomic_t *cancel;    /* set (by a signal handler) to stop early */
	/* called every 65,536 events with progress_user; decides itself whether to print */
	void (*progress)(void *progress_user, llmcap_time now, llmcap_time horizon, int64_t events);
	void *progress_user;
};

struct llmcap_class_stats {
	int64_t arrived, completed, unfinished;
	int64_t rejected;           /* all rejection reasons */
	int64_t spilled;            /* served by the API instead */
	int64_t by_status[LLMCAP_REQ_N_STATUS];
	double spilled_prompt_tokens, spilled_output_tokens;
	double prompt_tokens;       /* demand: all arrived requests */
	double output_tokens;
	int64_t preemptions;        /* over completed requests */
	double completed_prompt_tokens;  /* prompt tokens of completed requests */
	double completed_output_tokens;  /* output tokens of completed requests */
	double unfinished_output_tokens; /* tokens already emitted by unfinished requests */
	int64_t slo_met;            /* completed with TTFT <= slo_ttft_p99 and TPOT <= slo_tpot_p99 */
	double slo_met_output_tokens;
	struct llmcap_quantiles ttft, tpot, e2e, queue; /* completed requests */
};

struct llmcap_replica_stats {
	llmcap_time busy;           /* time spent executing steps (within the horizon) */
	double kv_block_time;       /* integral of used blocks over time, block x ns */
	int64_t kv_peak;            /* most blocks in use at once */
	int64_t steps, preemptions;
	double prefill_tokens;      /* prompt (and recomputed) tokens processed */
	double output_tokens;       /* tokens emitted */
	double batch_sum;           /* sequences over all steps, for the mean batch */
	int64_t batch_peak;
	double flops, bytes;        /* whole replica, over steps that ended in the horizon */
	int64_t swaps_out, swaps_in;
	llmcap_time swap_time;      /* transfer time added to steps by swapping */
	double prefix_query_tokens; /* cacheable prompt tokens looked up at admission */
	double prefix_hit_tokens;   /* of those, found in the cache */
	int64_t prefix_query_blocks, prefix_hit_blocks, prefix_evictions;
	int64_t perf_out_of_range;  /* steps whose time the table model clamped or extrapolated */
	/* For Little's law: integrals over time of the requests at the replica (waiting, running
	 * or swapped out) and of those not yet scheduled once, request x ns, up to the horizon */
	double in_system_time, queued_time;
	/* speculative decoding (0 when off): sequence-steps that verified proposals, proposals
	 * made and accepted, and the proposer's time added to steps */
	int64_t spec_verifies, spec_proposed, spec_accepted;
	llmcap_time spec_time;
	/* multi-LoRA (0 when off): adapter loads from host memory and their time (added to the
	 * steps that admitted the requests waiting on them), waiting requests passed over because
	 * their adapter would exceed max_loras, distinct adapters summed over steps, and the most
	 * in one step (never above max_loras) */
	int64_t lora_loads, lora_skips, lora_adapter_sum, lora_peak;
	llmcap_time lora_load_time;
};

struct llmcap_pool_stats {
	struct llmcap_memory_plan plan;
	const struct llmcap_model_spec *model;
	size_t first_replica, n_replicas;
	double peak_flops;          /* per GPU, spec, for the pool's dtype */
	const struct llmcap_gpu_spec *gpu; /* the pool's GPU (pools.NAME.gpu, else hardware.gpu) */
	/* Replicas held (paid for): starting, active or draining. A fixed pool holds n_replicas
	 * for the whole horizon; an autoscaled one (pools.NAME.autoscale) has n_replicas =
	 * max_replicas slots, and held_at[k] is the time (ns) it held k of them, k = 0..n_replicas
	 * (summing to the horizon); held_time = sum of k x held_at[k] (replica x ns). */
	bool autoscaled;
	llmcap_time *held_at;       /* NULL: fixed */
	double held_time;
	int64_t scale_ups, scale_downs; /* replicas asked for, and drained, by the autoscaler */
	int64_t peak_held;
	int64_t spot_interruptions; /* notices received (autoscale.spot; spot.c) */
};

/* One change of a replica's life (autoscaled pools; llmcap_results.scale_log), in time order. */
enum llmcap_scale_kind {
	LLMCAP_SCALE_START = 0,   /* asked for: held, cold-starting */
	LLMCAP_SCALE_READY = 1,   /* cold start over: receives requests */
	LLMCAP_SCALE_DRAIN = 2,   /* receives no more requests; finishes its own */
	LLMCAP_SCALE_RESUME = 3,  /* a draining replica taken back into service (no cold start) */
	LLMCAP_SCALE_RELEASE = 4, /* drained: no longer held */
	LLMCAP_SCALE_NOTICE = 5,  /* spot interruption notice: receives no more requests */
	LLMCAP_SCALE_INTERRUPT = 6, /* spot termination: no longer held, its requests retried */
};
struct llmcap_scale_event {
	llmcap_time time;
	int32_t pool, replica;    /* replica: global index */
	int32_t kind;             /* enum llmcap_scale_kind */
	int32_t held;             /* the pool's held replicas after the change */
};

/* One class in one simulated hour (by arrival time). Its completed requests' latencies are the
 * class's TTFT and TPOT samples tagged with the hour (llmcap_quantiles_get_tagged; exact mode
 * only). */
struct llmcap_hour_stats {
	int64_t arrived, lost, spilled; /* lost: rejected, or unfinished at the horizon */
};

/* A prefill pool of a disaggregated pair (zero for any other pool): its requests handed over,
 * the KV transfers completed and their bytes (all GPUs), and their transfer and decode-queue
 * times (s, one sample per completed transfer). */
struct llmcap_disagg_stats {
	bool on;
	int32_t decode_pool;
	int64_t handoffs, transfers;
	double bytes;
	/* over completed transfers, s: the KV transfer, the decode queue (prompt's end to the
	 * decode replica's reservation), the prefill queue (arrival to first scheduled on the
	 * prefill replica) and the prefill (first scheduled to the prompt's end) */
	struct llmcap_quantiles transfer, decode_queue, prefill_queue, prefill;
};

struct llmcap_results {
	const struct llmcap_scenario *sc;
	const struct llmcap_gpu_spec *gpu;
	llmcap_time horizon;
	size_t n_classes, n_pools, n_replicas;
	struct llmcap_class_stats classes[LLMCAP_MAX_CLASSES];
	struct llmcap_pool_stats pools[LLMCAP_MAX_POOLS];
	struct llmcap_replica_stats *replicas;
	int64_t *arrivals_per_hour; /* length n_hours */
	size_t n_hours;
	struct llmcap_hour_stats *hours; /* [class * n_hours + hour] */
	llmcap_time *busy_per_hour;      /* [replica * n_hours + hour]; integer ns, so that sums
					  * do not depend on how steps are grouped */
	int64_t overload_rejected; /* arrivals turned away at the max_in_flight cap */
	int64_t events;  /* events processed, counting each step (the same in both engine modes) */
	int64_t fast_steps; /* of those, steps the fast mode took without an event of their own */
	uint64_t digest; /* FNV-1a over every request's outcome, in the order they ended */
	/* multi-turn sessions (docs/traffic.md): sessions started; later turns sent; sessions
	 * whose every turn ended answered (completed or spilled); abandoned: a turn was turned
	 * away (rejected), or the next prompt would pass 2^24 tokens; tool-call pauses taken */
	struct llmcap_session_stats {
		int64_t started, later_turns, completed, abandoned, tool_calls;
	} sessions;
	/* failures and maintenance, per pool (docs/engine.md): failures (spares used among them),
	 * requests retried on another replica, maintenance windows taken, and the replicas' time
	 * out (failed, draining or in maintenance; ns): availability = 1 - out_time / (replicas x
	 * horizon) */
	struct llmcap_failure_stats {
		int64_t failures, spares_used, retries, maintenance_windows;
		llmcap_time out_time;
	} failures[LLMCAP_MAX_POOLS];
	bool has_failures;
	bool has_trace;  /* the shared classes replayed workload.trace */
	bool disaggregated; /* some pool has a decode_pool: disagg[] holds its stats */
	struct llmcap_disagg_stats disagg[LLMCAP_MAX_POOLS];
	struct llmcap_replay_stats trace;
	struct llmcap_scale_event *scale_log; /* autoscaled pools' changes, in time order */
	size_t n_scale_log, cap_scale_log;
};

/* A disaggregated pool's KV transfer time, ns (docs/engine.md, "Disaggregated prefill and
 * decode"): latency + T without overlap, where T = lane_bytes_per_token x tokens / bandwidth
 * (lane_bytes_per_token: the larger of the two groups' per-GPU KV bytes per token, bandwidth:
 * bytes/s of one GPU's port); with layer-wise overlap of a prefill step of step_time ns over
 * `layers` layers, latency + max(T / layers, T - step_time x (layers - 1) / layers). */
llmcap_time llmcap_disagg_transfer_time(double lane_bytes_per_token, int64_t tokens,
					double bandwidth, llmcap_time latency, bool overlap,
					int64_t layers, llmcap_time step_time);

/* Runs the scenario (already checked by llmcap_scenario_load). sink may be NULL. Results must be
 * freed. Returns -LLMCAP_ECANCELED when *sink->cancel was set. sc->engine_mode chooses how
 * replicas advance (fast: runs of decode steps at once; exact: one event per step); everything
 * this reports and streams is identical in both (docs/performance.md), fast_steps aside. */
int llmcap_simulate(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		    const struct llmcap_sink *sink, struct llmcap_results *res,
		    struct llmcap_error *err);
void llmcap_results_free(struct llmcap_results *res);

/* A request given explicitly, for scripted scenarios (hand-computed schedules in tests). */
struct llmcap_scripted_request {
	llmcap_time time;     /* non-decreasing */
	uint32_t cls;         /* index into the scenario's classes */
	int64_t prompt, output;
	int32_t prefix_group; /* which shared prefix of the class (0 when it has one) */
	/* prefix hash ids, one per workload.trace.hash_block_tokens prompt tokens (as in a
	 * Mooncake trace); they replace the class's shared prefix; NULL: none */
	const uint64_t *hash_ids;
	size_t n_hash_ids;
};

/* As llmcap_simulate, with these arrivals instead of the scenario's traffic generator. */
int llmcap_simulate_script(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			   const struct llmcap_sink *sink, const struct llmcap_scripted_request *reqs,
			   size_t n, struct llmcap_results *res, struct llmcap_error *err);

#endif

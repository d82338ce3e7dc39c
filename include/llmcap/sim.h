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
};

struct llmcap_pool_stats {
	struct llmcap_memory_plan plan;
	const struct llmcap_model_spec *model;
	size_t first_replica, n_replicas;
	double peak_flops;          /* per GPU, spec, for the pool's dtype */
};

/* One class in one simulated hour (by arrival time). Its completed requests' latencies are the
 * class's TTFT and TPOT samples tagged with the hour (llmcap_quantiles_get_tagged; exact mode
 * only). */
struct llmcap_hour_stats {
	int64_t arrived, lost, spilled; /* lost: rejected, or unfinished at the horizon */
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
	bool has_trace;  /* the shared classes replayed workload.trace */
	struct llmcap_replay_stats trace;
};

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

/* ---- summaries ---- */

enum { LLMCAP_LAT_TTFT, LLMCAP_LAT_TPOT, LLMCAP_LAT_E2E, LLMCAP_LAT_QUEUE, LLMCAP_N_LAT };
enum { LLMCAP_ST_P50, LLMCAP_ST_P90, LLMCAP_ST_P95, LLMCAP_ST_P99, LLMCAP_ST_P999, LLMCAP_ST_MEAN,
       LLMCAP_N_ST };
extern const char *const llmcap_lat_names[LLMCAP_N_LAT];  /* "ttft", ... */
extern const char *const llmcap_stat_names[LLMCAP_N_ST];  /* "p50", ... "mean" */

/* Latency and throughput of a class, a pool (its classes together) or all traffic. */
struct llmcap_group_summary {
	char name[LLMCAP_NAME_MAX];
	int64_t arrived, completed, rejected, unfinished, spilled, preemptions;
	double requests_per_s;      /* completed / horizon */
	double input_tokens_per_s;  /* prompt tokens of completed requests / horizon */
	double output_tokens_per_s; /* output tokens of completed requests / horizon */
	double lat[LLMCAP_N_LAT][LLMCAP_N_ST]; /* s */
	/* share of arrived requests that completed within both SLO targets (rejected and
	 * unfinished requests count as misses); classes only (NAN for pools and overall) */
	double slo_attainment;
	double goodput_requests_per_s;   /* completed within SLO / horizon */
	double goodput_tokens_per_s;     /* their output tokens / horizon */
	bool ttft_ok, tpot_ok;           /* p99 within the class's targets (classes only) */
};

/* Utilisation of a replica, or of a pool (replica = -1: means over replicas, peaks as max). */
struct llmcap_util_summary {
	int32_t pool, replica;
	double busy;               /* share of the horizon executing steps */
	double achieved_tflops;    /* model FLOPs / horizon, per GPU */
	double mfu;                /* achieved / spec peak FLOP/s of the pool's dtype */
	double hbm_fraction;       /* bytes moved / (horizon x spec HBM bandwidth) */
	double kv_mean, kv_peak;   /* shares of the KV blocks */
	double batch_mean;         /* sequences per step */
	int64_t batch_peak, steps, preemptions, swaps;
	double input_tokens_per_s, output_tokens_per_s;
	double energy_kwh;         /* GPUs at idle power, plus up to TDP while busy (catalog watts) */
	double prefix_hit_rate;    /* share of cacheable prompt tokens found cached (NAN: none) */
	double prefix_block_hit_rate;
	/* time-averaged requests at the replica (pool: summed over replicas): in the system
	 * (waiting, running or swapped out), and not yet scheduled (L and Lq of Little's law) */
	double in_system_mean, queued_mean;
};

/* The busiest and the quietest simulated hour (by arrivals; the last hour counts only when
 * complete), and what the fleet did in them. */
struct llmcap_peak_summary {
	int64_t busiest_hour, trough_hour;      /* -1 when the horizon is shorter than an hour */
	double busiest_rate, trough_rate;       /* requests/s */
	double ttft_p99[LLMCAP_MAX_CLASSES], tpot_p99[LLMCAP_MAX_CLASSES]; /* busiest hour */
	double lost_share[LLMCAP_MAX_CLASSES];  /* rejected or unfinished, busiest hour */
	bool slo_met[LLMCAP_MAX_CLASSES];       /* busiest-hour p99s within the class targets */
	bool all_slo_met;
	double trough_gpu_load;                 /* GPU-equivalents busy in the trough hour */
	int64_t trough_gpus_over_40;            /* GPUs at least 40% busy in the trough hour */
};

struct llmcap_summary {
	size_t n_classes, n_pools, n_replicas;
	struct llmcap_group_summary classes[LLMCAP_MAX_CLASSES];
	struct llmcap_group_summary pools[LLMCAP_MAX_POOLS];
	struct llmcap_group_summary overall;
	struct llmcap_util_summary pool_util[LLMCAP_MAX_POOLS];
	struct llmcap_util_summary *replica_util; /* n_replicas; owned */
	struct llmcap_peak_summary peak;
};

int llmcap_summarize(struct llmcap_results *res, struct llmcap_summary *out);
void llmcap_summary_free(struct llmcap_summary *s);

/* Writes the human-readable summary (deterministic: no wall-clock figures). */
void llmcap_report(struct llmcap_results *res, const struct llmcap_summary *sum, FILE *out);
/* The same summary as one JSON object. */
void llmcap_report_json(struct llmcap_results *res, const struct llmcap_summary *sum, FILE *out);
struct llmcap_batch;
/* The same, with a last key "batch_means" when b is not NULL (llmcap run --batch-means):
 * {"batches", "batch_length_s", "warmup_s", "metrics": [{"name", "mean", "ci95_half_width"},
 * ...]}, non-finite numbers as null. Returns 0, or -LLMCAP_ENOMEM (nothing written). */
int llmcap_report_json_batch(struct llmcap_results *res, const struct llmcap_summary *sum,
			     struct llmcap_batch *b, FILE *out);

#endif

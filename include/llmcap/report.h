/* Results: what a simulation's llmcap_results mean to a user. Summaries (latency percentiles,
 * throughput, SLO attainment, utilisation, the busiest hour), the fleet's usage and its cost,
 * and the terminal and JSON reports of a run, of generated traffic and of a replayed trace.
 *
 * Reads the engine's contract (sim.h) and the cost model (cost.h); the engine knows nothing of
 * this part. Every report is deterministic: no wall-clock figures.
 */
#ifndef LLMCAP_REPORT_H
#define LLMCAP_REPORT_H

#include <stdio.h>

#include "llmcap/cost.h"
#include "llmcap/sim.h"
#include "llmcap/workload.h"

/* The fleet's usage over the horizon, for the cost model (llmcap_cost_compute). */
void llmcap_results_usage(const struct llmcap_results *res, struct llmcap_usage *out);
/* llmcap_results_usage, then llmcap_cost_compute with the results' scenario. */
void llmcap_results_cost(const struct llmcap_results *res, struct llmcap_cost *out);

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

/* Speculative decoding and multi-LoRA of pool p, summed over its replicas (docs/engine.md).
 * spec/lora: whether the pool has them on; the rest is zero where off. */
struct llmcap_pool_features {
	bool spec, lora;
	int64_t spec_verifies, spec_proposed, spec_accepted;
	double tokens_per_verification; /* 1 + accepted / verifications (NAN: none) */
	double expected_tokens;         /* the pool's acceptance and k: (1 - a^(k+1)) / (1 - a) */
	double proposer_s;              /* proposer time added to steps */
	int64_t lora_loads, lora_skips, lora_peak;
	double lora_load_s;             /* adapter loads' time added to steps */
	double lora_adapters_mean;      /* distinct adapters per step with any */
};
void llmcap_pool_features(const struct llmcap_results *res, size_t p, struct llmcap_pool_features *f);
void llmcap_summary_free(struct llmcap_summary *s);

/* Writes the human-readable summary (deterministic: no wall-clock figures). */
void llmcap_report(struct llmcap_results *res, const struct llmcap_summary *sum, FILE *out);

/* The decision's answer as the report prints it (go signal 1 and the verdict): filled by the
 * caller from the decision search (study/decide.h; results sit below the study). Without one
 * (llmcap_report), go signal 1 and the verdict say that nothing was decided: the price-only
 * break-even of the given fleet is never a decision. */
struct llmcap_report_decision {
	double tokens_per_month;
	bool any;                /* some option met every SLO on every seed */
	bool self_hosted;        /* the cheapest such option is not the API */
	char best[96];           /* its label ("own h100-sxm-80gb fp8", "api") */
	double best_monthly;     /* USD per month, mean over seeds */
	double api_monthly;      /* the API's bill, NAN when the API missed an SLO */
	bool api_met;
	size_t seeds;
};
void llmcap_report_decided(struct llmcap_results *res, const struct llmcap_summary *sum,
			   const struct llmcap_report_decision *d, FILE *out);
/* The same summary as one JSON object. */
/* What a run's report concludes; the terminal report, --json ("verdict") and run --check
 * read it from here. */
struct llmcap_verdict {
	/* every class meets its TTFT and TPOT p99 targets over the run, none of its requests was
	 * rejected and at most 1% were left unfinished */
	bool served;
	/* the fleet does not keep up: arrivals turned away at max_in_flight, or more than 5% of a
	 * class's arrivals left unfinished */
	bool overloaded;
	bool self_hosting_cheaper; /* the self-hosted TCO is at most the API's */
};
void llmcap_report_verdict(const struct llmcap_results *res, const struct llmcap_summary *sum,
			   struct llmcap_verdict *v);

void llmcap_report_json(struct llmcap_results *res, const struct llmcap_summary *sum, FILE *out);
struct llmcap_batch;
/* The same, with a last key "batch_means" when b is not NULL (llmcap run --batch-means):
 * {"batches", "batch_length_s", "warmup_s", "metrics": [{"name", "mean", "ci95_half_width"},
 * ...]}, non-finite numbers as null. Returns 0, or -LLMCAP_ENOMEM (nothing written). */
int llmcap_report_json_batch(struct llmcap_results *res, const struct llmcap_summary *sum,
			     struct llmcap_batch *b, FILE *out);

/* Terminal reports of what a workload source produced (sim/results/workload_report.c). */
/* A replayed trace, one line per item, for the run and workload summaries. */
void llmcap_replay_report(const struct llmcap_replay_stats *st, FILE *out);
/* A trace file's statistics (llmcap trace stats). */
void llmcap_trace_stats_report(const struct llmcap_trace_stats *st, FILE *out);
/* Generated traffic (llmcap workload): requests per class, mean rate, peak-to-mean ratios over
 * 1-minute and 1-hour windows, the busiest hour, length percentiles per class and tokens per
 * month. Sorts the traffic's length samples in place. */
void llmcap_traffic_report(struct llmcap_traffic *tr, FILE *out);

#endif

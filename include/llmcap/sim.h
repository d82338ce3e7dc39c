/* One simulation: a scenario and its seed in, per-class, per-pool and per-replica results out.
 *
 * The simulation is a deterministic function of (scenario, seed): no global state, no wall
 * clock, events ordered by (time, insertion sequence). Every request that arrives before the
 * horizon ends exactly once: completed, rejected (with a reason) or unfinished at the horizon.
 */
#ifndef LLMCAP_SIM_H
#define LLMCAP_SIM_H

#include <stdio.h>

#include "llmcap/perf.h"
#include "llmcap/scenario.h"

/* A growable array of samples (seconds). */
struct llmcap_samples {
	double *v;
	size_t n, cap;
};

struct llmcap_class_stats {
	int64_t arrived, completed, unfinished;
	int64_t rejected;           /* prompt + output longer than the pool's max_model_len */
	double prompt_tokens;       /* demand: all arrived requests */
	double output_tokens;
	int64_t preemptions;        /* over completed requests */
	double completed_output_tokens; /* output tokens of completed requests */
	double unfinished_output_tokens; /* tokens already emitted by unfinished requests */
	struct llmcap_samples ttft, tpot, e2e, queue; /* completed requests */
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
};

struct llmcap_pool_stats {
	struct llmcap_memory_plan plan;
	const struct llmcap_model_spec *model;
	size_t first_replica, n_replicas;
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
	int64_t events;
	uint64_t digest; /* FNV-1a over every request's outcome, in the order they ended */
};

/* Runs the scenario (already checked by llmcap_scenario_load). Results must be freed. */
int llmcap_simulate(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		    struct llmcap_results *res, struct llmcap_error *err);
void llmcap_results_free(struct llmcap_results *res);

/* Quantile q in [0, 1] of a sample set (sorts it in place); NAN when empty. */
double llmcap_samples_quantile(struct llmcap_samples *s, double q);

/* Writes the human-readable summary (deterministic: no wall-clock figures). */
void llmcap_report(struct llmcap_results *res, FILE *out);

#endif

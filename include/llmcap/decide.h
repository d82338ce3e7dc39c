/* The decision (`llmcap decide`, `llmcap run --decide`): for one scenario and monthly volume,
 * every option sized by simulation to meet every class's TTFT and TPOT p99 targets in the
 * busiest hour, costed per month, and the cheapest one that meets them on every seed.
 *
 * Options, per GPU type and precision of the largest model:
 *  - own: the smallest fleet (llmcap_plan_fleet), llmcap_cost_compute's own cost (capex, power
 *    from the simulated utilisation, spares);
 *  - rent on demand, rent reserved (the reserved baseline for cost.rent.term_years, burst
 *    above it at on demand), rent spot: billed per GPU-hour held. Without autoscaling the SAME
 *    fleet is held every hour of the month (its peak size: an upper bound). Where the scenario
 *    enables pools.NAME.autoscale, or spec.rent_autoscale for every pool (busy above half the
 *    time scales up; the minimum the fleet x the quietest hour's rate / the busiest hour's),
 *    the fleet's count becomes the pool's maximum and one more run per seed scales between the
 *    minimum and it (sim/engine/autoscale.c): its held GPU-hours are billed when it meets every
 *    SLO (reserved: per pool the baseline cheapest for the counts held); otherwise the fixed
 *    fleet's rent stands. That run simulates the whole horizon and rents on spot capacity
 *    (autoscale.spot: interruptions, notice, retries, replacements in the engine) for the spot
 *    bill; a second run without spot bills on demand and reserved only where it was
 *    interrupted. The CLI (decide, run --decide) sets rent_autoscale unless --rent fixed;
 *  - hybrid: an owned baseline smaller than the own fleet (per pool, 3/4, 1/2, 1/4 of it and one
 *    replica; searched, each candidate simulated) that spills an arriving request to the API when
 *    its replica already has a request waiting (pools.NAME.spill.waiting_above = 1), the spilled
 *    requests' latency drawn from the API provider's published latency at its peak; the cheapest
 *    candidate that meets the SLOs on every seed;
 * and one API option: the per-token bill, its latency checked against each class's targets from
 * the provider's published TTFT (the larger of the lognormal fit's p99 and the published p99,
 * both at the provider's peak factor) and output speed (the median, at peak).
 *
 * Seeds: each (GPU, precision) is sized on seeds scenario.seed + k, k < seeds; the fleet chosen is
 * per pool the largest of the seeds' smallest fleets (it meets the SLOs on every seed, the search
 * assuming more replicas never make a pool worse) and is simulated on every seed; its cost is the
 * mean and 95% interval (Student t) over seeds. An option that missed an SLO, lost more than 1%
 * of a busy-hour class or rejected a request on any seed is never recommended.
 *
 * Every simulation is independent: the study runs them on `threads` threads, each writing only
 * its own slots, so the answer never depends on the thread count. The searches are the fast
 * ones (plan.h llmcap_plan_fleet_fast): feasibility judged on the busiest-hour window where the
 * workload allows it, runs stopped once an SLO is lost, costs a month priced from the window
 * (llmcap_plan_month_cost; docs/cost.md states the approximation and its tested tolerance).
 */
#ifndef LLMCAP_DECIDE_H
#define LLMCAP_DECIDE_H

#include "llmcap/plan.h"

#define LLMCAP_DECIDE_MAX_GPUS 8
#define LLMCAP_DECIDE_MAX_DTYPES 4
#define LLMCAP_DECIDE_MAX_SEEDS 16
#define LLMCAP_DECIDE_MAX_VOLUMES 64
#define LLMCAP_DECIDE_HYBRID_CANDIDATES 4

#define LLMCAP_OPTIONS(X)                                \
	X(LLMCAP_OPTION_API, "api")                      \
	X(LLMCAP_OPTION_HYBRID, "hybrid")                \
	X(LLMCAP_OPTION_RENT_ON_DEMAND, "rent-on-demand") \
	X(LLMCAP_OPTION_RENT_RESERVED, "rent-reserved")  \
	X(LLMCAP_OPTION_RENT_SPOT, "rent-spot")          \
	X(LLMCAP_OPTION_OWN, "own")
enum llmcap_option { LLMCAP_OPTIONS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_OPTION_COUNT = 0 LLMCAP_OPTIONS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_option_names[LLMCAP_OPTION_COUNT + 1]; /* NULL-terminated */

/* the API, every (GPU, precision)'s five, and the four per-pool options (own and rent) */
#define LLMCAP_DECIDE_MAX_OPTIONS (5 + LLMCAP_DECIDE_MAX_GPUS * LLMCAP_DECIDE_MAX_DTYPES * 5)

struct llmcap_decide_spec {
	double tokens_per_month;  /* NAN: the scenario's own volume */
	const char *const *gpus;  /* catalog names; n_gpus 0: the scenario's hardware.gpu */
	size_t n_gpus;            /* <= LLMCAP_DECIDE_MAX_GPUS */
	const int *dtypes;        /* largest model's precisions; n_dtypes 0: the scenario's */
	size_t n_dtypes;          /* <= LLMCAP_DECIDE_MAX_DTYPES */
	size_t seeds;             /* 1 to LLMCAP_DECIDE_MAX_SEEDS */
	long threads;             /* >= 1 */
	struct llmcap_study_progress progress; /* told per simulation batch; fn may be NULL */
	/* also own and rent with each pool on its own GPU, chosen among every catalog GPU
	 * (llmcap_decide_pool_gpus below, on every seed): options whose gpu is "per-pool" */
	bool pool_gpus;
	bool rent_autoscale;      /* rent every pool with the default autoscaler (see above) */
	/* the searches start from the closed-form bracket (plan.h llmcap_plan_bound): a count
	 * below a pool's lower bound is never simulated, and a (GPU, precision) whose latency
	 * floor is above a target is not searched (its reason in the option's `why`); true turns
	 * it off (the same answer, more simulations: tests and bench/ compare) */
	bool no_bracket;
};

/* One option's answer. Costs in USD per month; NAN where a price is not published. */
struct llmcap_decide_option {
	enum llmcap_option option;
	char gpu[LLMCAP_NAME_MAX]; /* "" for the API */
	int dtype;                 /* -1 for the API */
	bool sized;                /* a fleet within LLMCAP_PLAN_MAX_REPLICAS met the SLOs */
	bool slo_met;              /* on every seed, nothing rejected or lost */
	const char *why;           /* static: why it is not a candidate; NULL when it is */
	double monthly, monthly_half;    /* mean and 95% half-width over seeds */
	double per_1m;             /* monthly mean per 1M tokens of demand */
	int64_t replicas[LLMCAP_MAX_POOLS]; /* the chosen fleet (owned baseline for hybrid) */
	double replicas_mean[LLMCAP_MAX_POOLS], replicas_half[LLMCAP_MAX_POOLS]; /* seeds' smallest */
	int64_t gpus, servers;
	double spilled_share;      /* hybrid: share of requests sent to the API (mean over seeds) */
	bool latency_checked;      /* API: every class's provider publishes its latency */
	char reason[256];          /* `why` when built for this option (it points here) */
	/* gpu "per-pool" (spec.pool_gpus): each pool's GPU and tensor-parallel size */
	char pool_gpu[LLMCAP_MAX_POOLS][LLMCAP_NAME_MAX];
	int64_t pool_tp[LLMCAP_MAX_POOLS];
};

struct llmcap_decision {
	double tokens_per_month;   /* the volume asked for (the scenario's mean rate x a month) */
	/* the demand that arrived in the simulated horizon, scaled to a month (mean over seeds):
	 * what the bills and the costs per 1M tokens are of; a horizon shorter than the diurnal
	 * cycle sees less or more than the mean */
	double demand_per_month;
	size_t n_pools;
	size_t n_options;
	struct llmcap_decide_option options[LLMCAP_DECIDE_MAX_OPTIONS];
	int best, runner_up;       /* indices into options; -1: none meets the SLOs */
	bool rent_autoscaled;      /* rent was also simulated with the autoscaler (see above) */
	int simulations;
	/* spec.pool_gpus: each pool's GPU in the "own per-pool" option (gpu "per-pool"; every
	 * per-pool option names its own in its pool_gpu) */
	char pool_gpu[LLMCAP_MAX_POOLS][LLMCAP_NAME_MAX];
};

/* Decides for `sc` (checked by llmcap_scenario_load; not modified). Returns 0, or the first
 * failing simulation's error. */
int llmcap_decide(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		  const struct llmcap_decide_spec *spec, struct llmcap_decision *out,
		  struct llmcap_error *err);

/* The API option alone (no simulation): per-class latency check and its bill. */
void llmcap_decide_api(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		       const struct llmcap_cost *cost, struct llmcap_decide_option *out);

/* The tipping points: llmcap_decide at each volume (rows[v], caller-allocated). The (volume)
 * decisions run one after another, each on all threads. */
int llmcap_decide_volumes(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			  const struct llmcap_decide_spec *spec, const double *volumes, size_t n,
			  struct llmcap_decision *rows, struct llmcap_error *err);

/* ---- Each pool on its own GPU (issue 21; sim/study/pool_gpus.c) ----
 * Own and rent with a GPU chosen per pool: every candidate GPU (the list given, or every
 * catalog GPU) that holds a pool's model at its precision, at the pool's tensor-parallel size or
 * the smallest power of two above it that fits one server, is a candidate for that pool. One
 * capacity search (the fast one, plan.h llmcap_plan_fleet_fast, from the closed-form bracket)
 * per candidate GPU and seed sizes every pool that fits it (pools do not share replicas, so
 * each pool's smallest count on that GPU does not depend on the others); a pool's count on a
 * GPU is the largest of the seeds' (it meets the SLOs on every seed, as decide's fleets).
 * Every combination of the pools' sized candidates is then priced without simulating (own:
 * llmcap_cost_compute with servers by GPU type and power from each pool's busy share in its
 * search, scaled from the busiest hour to the horizon's mean; rent: its GPU-hours at each
 * pool's GPU's rates), the cheapest per option (own, rent on demand, reserved, spot) is run
 * on every seed as one fleet, and its SLOs and monthly cost (mean and 95% interval over seeds)
 * come from those runs. */
#define LLMCAP_POOL_GPUS_MAX 32
#define LLMCAP_POOL_GPU_PICKS 4 /* own, rent on demand, rent reserved, rent spot */
struct llmcap_pool_gpu_pick {
	enum llmcap_option option;
	bool feasible;             /* a combination was priced and run */
	bool slo_met;              /* on every seed: every class's busiest-hour SLOs, no rejection */
	char gpu[LLMCAP_MAX_POOLS][LLMCAP_NAME_MAX];
	int64_t tp[LLMCAP_MAX_POOLS], replicas[LLMCAP_MAX_POOLS];
	int64_t gpus, servers;     /* of the fleet, every GPU type */
	double estimated_monthly;  /* USD, as priced from the searches */
	double monthly, monthly_half; /* USD, mean and 95% half-width over the seeds' runs */
	double demand_per_month;   /* tokens, mean over the seeds' runs */
};
struct llmcap_pool_gpu_choice {
	size_t n_pools, n_gpus, seeds;
	char gpus[LLMCAP_POOL_GPUS_MAX][LLMCAP_NAME_MAX];          /* the candidates */
	int64_t tp[LLMCAP_MAX_POOLS][LLMCAP_POOL_GPUS_MAX];        /* [pool][gpu]; 0: does not fit */
	bool sized[LLMCAP_MAX_POOLS][LLMCAP_POOL_GPUS_MAX];        /* sized on every seed */
	int64_t replicas[LLMCAP_MAX_POOLS][LLMCAP_POOL_GPUS_MAX];  /* the largest seed's smallest */
	double busy_gpus[LLMCAP_MAX_POOLS][LLMCAP_POOL_GPUS_MAX];  /* mean GPUs busy, seed 0 */
	struct llmcap_pool_gpu_pick picks[LLMCAP_POOL_GPU_PICKS];  /* in the order above */
	/* the own pick, as before the rent picks were added */
	bool feasible;
	char gpu[LLMCAP_MAX_POOLS][LLMCAP_NAME_MAX];
	int64_t choice_tp[LLMCAP_MAX_POOLS], choice_replicas[LLMCAP_MAX_POOLS];
	int64_t servers;
	double estimated_monthly, monthly;
	bool slo_met;
	size_t combinations;       /* priced */
	int simulations;
};

/* Chooses each pool's GPU for `sc` among gpus[0 .. n_gpus) (n_gpus 0: every catalog GPU), on
 * seeds sc->seed + k, k < seeds (1 to LLMCAP_DECIDE_MAX_SEEDS), on `threads` threads (results
 * never depend on it); bracket false searches without the closed-form bracket (the same
 * answer). Returns 0 (a pick's feasible false when no combination is sized), or an error: a
 * candidate not in the catalog, a pool no candidate holds (located), a failing simulation. */
int llmcap_decide_pool_gpus(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			    const char *const *gpus, size_t n_gpus, size_t seeds, long threads,
			    bool bracket, struct llmcap_pool_gpu_choice *out, struct llmcap_error *err);

/* Adds the per-pool options (own, rent on demand, reserved, spot; gpu "per-pool") to a decision
 * row at `tokens_per_month` (NAN: the scenario's volume), as spec asks (seeds, threads,
 * bracket), and ranks the row's options again; decide.c calls it for spec.pool_gpus. */
int llmcap_decide_add_pool_gpus(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
				double tokens_per_month, const struct llmcap_decide_spec *spec,
				struct llmcap_decision *row, struct llmcap_error *err);

/* Writes the decision sweep as CSV: volume, option, gpu, dtype, slo_met, monthly, monthly_ci95,
 * per_1m, gpus, best (1 on the cheapest SLO-meeting option of its volume), demand_per_month.
 * Through llmcap_outfile (results/output.h): whole or not at all; an existing file is kept
 * unless force. */
int llmcap_decide_write_csv(const char *path, bool force, const struct llmcap_decision *rows, size_t n,
			    struct llmcap_error *err);

#endif

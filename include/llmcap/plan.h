/* Capacity search and the tipping point between owning GPUs and paying an API.
 *
 * The smallest fleet for a scenario is found by simulation: each pool gets the fewest replicas
 * with which every class it serves meets its TTFT and TPOT p99 targets in the busiest hour
 * (and loses at most 1% of that hour's requests). Pools are independent (a class goes to one
 * pool), so one simulation tests a candidate count for every pool at once; the search doubles a
 * pool's count until it passes, then bisects. It assumes more replicas never make a pool worse.
 * Servers are the fewest of the scenario's type that hold the replicas (tensor-parallel groups
 * stay inside a server).
 */
#ifndef LLMCAP_PLAN_H
#define LLMCAP_PLAN_H

#include "llmcap/report.h"

#define LLMCAP_PLAN_MAX_REPLICAS 1024

/* Told how far a study is: `done` of `total` items finished. Called from the study's worker
 * threads, one call at a time (the study holds a lock around it), so fn need not lock; it
 * should be quick. fn NULL: nothing is told. */
struct llmcap_study_progress {
	void (*fn)(void *user, size_t done, size_t total);
	void *user;
};

/* llmcap_parallel_for (core.h) that also tells `progress` after each item. */
void llmcap_study_parallel_for(size_t n, long threads, void (*fn)(void *ctx, size_t i), void *ctx,
			       const struct llmcap_study_progress *progress);

struct llmcap_fleet {
	double tokens_per_month;        /* the volume simulated */
	int dtype;                      /* of the largest model's pools; -1: as the scenario says */
	bool feasible;                  /* false: a pool needed more than the search allows */
	int64_t replicas[LLMCAP_MAX_POOLS];
	int64_t gpus, servers;
	int simulations;
	struct llmcap_cost cost;        /* of the smallest fleet, from its own simulation */
	double busy[LLMCAP_MAX_POOLS];  /* pool busy fraction in that simulation */
	bool slo_met;
};

/* The smallest fleet for `base` at `tokens_per_month` (NAN: the scenario's own volume), with
 * the pools of the largest model in `dtype` (-1: unchanged). */
int llmcap_plan_fleet(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
		      double tokens_per_month, int dtype, struct llmcap_fleet *out,
		      struct llmcap_error *err);

/* The fewest servers of sc's type (hardware.gpus_per_server) that hold `replicas` (per pool,
 * in sc's pool order): tensor-parallel groups stay inside a server. At least 1. */
int64_t llmcap_plan_servers(const struct llmcap_scenario *sc, const int64_t *replicas);

/* llmcap_plan_fleet starting its search from `start` (per pool; NULL or a count < 1: 1): a
 * start that passes is tried one lower, then bisected down from; one that fails is doubled up
 * from. `fails` (per pool; NULL or 0: none) are counts known to miss (the answer at a lower
 * volume, less one): the search never goes below them. A good start (another seed's answer, a
 * lower volume's scaled) saves simulations; with the search's assumption that more replicas
 * never make a pool worse, the answer is the same smallest fleet. start must be > fails. */
int llmcap_plan_fleet_from(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			   double tokens_per_month, int dtype, const int64_t *start,
			   const int64_t *fails, struct llmcap_fleet *out, struct llmcap_error *err);

/* The fast search (the decision's): feasibility judged on the busiest hour alone, and runs that
 * have lost an SLO stopped early.
 *
 * Window: when the workload is generated (no trace, no closed-loop clients), its classes share
 * the workload's arrival stream, its daily curve is `smooth` (or flat) without a day-of-week
 * factor, percentiles are exact and the horizon is at least a day, the busiest hour is the hour
 * centred on the curve's peak. llmcap_plan_window makes the scenario that simulates only it:
 * the curve shifted so that simulated hour 1 is centred on the peak, hour 0 its warm-up (the
 * hour before, at its own rate), and LLMCAP_PLAN_DRAIN after it for its last requests to end;
 * the busiest hour is judged as in any run (the busier complete hour). It is statistically the
 * same hour as the full run's busiest (not the same random draws). Returns false (and `win` a
 * plain copy) when the workload is not one of these.
 *
 * Month cost: llmcap_plan_month_cost prices a window run as a month of `full`: held hours from
 * the fleet and the full horizon; demand the full horizon's mean rate x the window's tokens per
 * request; busy GPU time and spilled tokens scaled from the window in proportion to arrivals
 * (busy time per request as at the peak; spill share of the peak: an upper bound on a month's
 * spill, which is mostly at the peak). docs/cost.md states the tolerance, tests/test_decide.c
 * checks it against the full run. */
#define LLMCAP_PLAN_DRAIN (20 * LLMCAP_MIN)
bool llmcap_plan_window(const struct llmcap_scenario *full, struct llmcap_scenario *win);
void llmcap_plan_month_cost(const struct llmcap_scenario *full, const struct llmcap_results *win,
			    struct llmcap_cost *out);

/* Stops a run as soon as an SLO is lost: a sink (sim.h) whose request callback counts, per
 * class and arrival hour, the requests that missed the class's TTFT or TPOT target or were
 * lost (rejected), and stops the run (llmcap_simulate returns -LLMCAP_ESLO_LOST, no results)
 * once one count exceeds what a p99 target and the 1% loss allowance permit for the busiest
 * hour: 3% of an upper bound on that hour's arrivals of the class (its expected count at the
 * curve's peak + 6 standard deviations, for Poisson arrivals on a smooth or flat curve; else
 * every arrival expected in the horizon, the same spread) + 3. Off unless a search passes it; a run it lets end
 * has the same results as without it. */
#define LLMCAP_ESLO_LOST 1001
struct llmcap_slo_stop {
	struct llmcap_sink sink;
	const struct llmcap_scenario *sc;
	double bound[LLMCAP_MAX_CLASSES];
	int64_t *misses; /* [class * hours + hour] */
	size_t hours;
	int lost_class;  /* the class that stopped it; -1: none */
};
/* Fills `st` for `sc` (the scenario run); 0, or -LLMCAP_ENOMEM. */
int llmcap_slo_stop_init(struct llmcap_slo_stop *st, const struct llmcap_scenario *sc);
void llmcap_slo_stop_free(struct llmcap_slo_stop *st);

/* llmcap_plan_fleet_from with the fast search: `fast` true simulates the busiest-hour window
 * (when it applies), stops runs that have lost an SLO, and prices the answer with
 * llmcap_plan_month_cost; false is llmcap_plan_fleet_from. */
int llmcap_plan_fleet_fast(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			   double tokens_per_month, int dtype, const int64_t *start,
			   const int64_t *fails, bool fast, struct llmcap_fleet *out,
			   struct llmcap_error *err);

/* What limits a pool at its smallest fleet, from its utilisation in that fleet's simulation:
 * "KV capacity", "HBM bandwidth", "compute", "step time (busy)" (a performance model without a
 * roofline) or "queueing". A static string. */
const char *llmcap_plan_limit(const struct llmcap_util_summary *u, const struct llmcap_pool_cfg *p);

/* One candidate of `llmcap plan`: its smallest fleet at the scenario's own volume, and each
 * pool's utilisation when that fleet is simulated (what llmcap_plan_limit reads). */
struct llmcap_plan_candidate {
	struct llmcap_fleet fleet;
	struct llmcap_util_summary util[LLMCAP_MAX_POOLS];
};

struct llmcap_sweep; /* sweep.h: the candidates are a sweep's points, one seed each */

/* Plans every valid point of `sw` on `threads` threads (an invalid one, kept by skip_invalid, is
 * left zeroed), then ranks them into order[0..n_points): valid first, then feasible, then
 * self-hosted cost, then GPUs, then the order given. Results are stored by index, so they never
 * depend on the thread count. Returns 0, or the first failing candidate's error (by index) with
 * "candidate I: " before its message. */
int llmcap_plan_candidates(const struct llmcap_sweep *sw, const struct llmcap_catalog *cat,
			   long threads, const struct llmcap_study_progress *progress,
			   struct llmcap_plan_candidate *out, size_t *order, struct llmcap_error *err);

/* Monthly volume at which owning the fleets costs what the API costs, from rows sorted by
 * volume (one dtype): linear interpolation of (self-hosted - API) between the last volume where
 * the API is cheaper and the first where owning is. NAN when the API is cheaper throughout;
 * the first volume when owning is cheaper throughout. Infeasible rows are skipped. */
double llmcap_plan_breakeven(const struct llmcap_fleet *rows, size_t n);

/* Writes a break-even table (one row per volume and dtype) to its own file, atomically, with
 * the resolved scenario as an attribute. */
int llmcap_h5_write_breakeven(const char *target, bool force, const struct llmcap_scenario *sc,
			      const char *scenario_yaml, const struct llmcap_fleet *rows, size_t n,
			      struct llmcap_error *err);

/* The highest mean arrival rate (requests/s) at which every class meets its busiest-hour SLOs,
 * for one seed of the scenario (checked by llmcap_scenario_load): bracketed by doubling or
 * halving from the scenario's rate, then bisected until the bracket is within `tolerance`
 * (relative). *best gets the bracket's passing end, INFINITY when no rate up to 2^40 x the
 * scenario's failed; *sims is incremented once per simulation. The base is not modified. */
int llmcap_max_rate(const struct llmcap_scenario *base, uint64_t seed,
		    const struct llmcap_catalog *cat, double tolerance, double *best, int *sims,
		    struct llmcap_error *err);

/* llmcap_max_rate for the seeds base->seed + k, k < n, on `threads` threads: best[k] and
 * sims[k] (caller-allocated, n each; sims zeroed here). Stored by index, so they never depend
 * on the thread count. Returns 0, or the first failing seed's error with "seed S: " before its
 * message. */
int llmcap_max_rate_seeds(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			  double tolerance, size_t n, long threads,
			  const struct llmcap_study_progress *progress, double *best, int *sims,
			  struct llmcap_error *err);

/* ---- The closed-form bracket (issue 21; sim/study/capacity.c) ----
 * Before a search simulates, each pool's replica count is bounded from below from the
 * performance model alone, and a target no count can meet is found at zero load.
 *
 * Lower bound: the busiest complete hour's expected arrivals of the pool's classes (mean rate x
 * the largest hourly integral of the diurnal curve, less 6 standard deviations of the compound
 * Poisson work) must be served within that hour plus the longest latency the SLOs allow one of
 * its requests (TTFT + TPOT x (longest output - 1)), on replicas whose step times are at least
 * the performance model's (the roofline's engine CPU overheads left out: they may overlap): each decode token costs at
 * least the largest batch's time per sequence (the batch at most max_num_seqs, the KV cache's
 * blocks, and the largest whose step at the mean decode context stays within the loosest TPOT
 * target: a request's TPOT is the mean of its steps) plus its KV read; every prompt or output token at least the largest
 * step's time per token; and a decode step reads at most the KV cache's tokens, so the decode
 * context read (prompt + tokens so far, summed over steps) takes at least that many steps of
 * one sequence per cache-full. Work is kept at 97% (the share p99 targets and the 1% loss allowance
 * may leave out) and the result x LLMCAP_PLAN_BOUND_MARGIN, for what the closed form does not
 * model. A pool whose requests the form does not describe (speculative decoding, disaggregated
 * groups, pipeline or data-parallel replicas, spill, a table model, sessions,
 * closed-loop clients, traces, non-Poisson arrivals) gets lower 0: no bound.
 *
 * Latency floor: a request alone on a replica takes at least its prompt's step (no overheads)
 * to its first token and the batch-of-one decode step per further token. A class whose floor
 * x LLMCAP_PLAN_BOUND_MARGIN is above its TTFT (or TPOT) target for more than 2% of its
 * requests (by the length distribution) misses it at any fleet size: `unreachable`, with the
 * reason in `why`. No upper bound is known in closed form (queueing tails): upper is 0. */
#define LLMCAP_PLAN_BOUND_MARGIN 0.9
struct llmcap_plan_bound {
	int64_t lower[LLMCAP_MAX_POOLS]; /* fewest replicas that can meet the SLOs; 0: no bound */
	double demand[LLMCAP_MAX_POOLS]; /* replicas' worth of the busiest hour's work, unrounded */
	bool unreachable;                /* a latency floor is above a target */
	char why[256];                   /* the reason, when unreachable */
};
/* The bounds of `sc` as it would run (volume and precisions set; checked). 0, or an error
 * from the catalog or memory plan. */
int llmcap_plan_bound(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		      struct llmcap_plan_bound *out, struct llmcap_error *err);

#endif

/* Cost model: what the simulated traffic costs under each option, from a `struct llmcap_usage`
 * (docs/cost.md has every formula and its sources).
 *
 * Prices follow the fleet's GPU: llmcap_cost_gpu_prices resolves them, the scenario's over the
 * catalog's (cost.capex and cost.opex_monthly for every GPU, then cost.gpus.NAME, then
 * models/catalog/gpus.yaml `price:`). A price nobody published is NAN, and so is every cost
 * that needs it.
 *
 * Own = (servers + spares) x capex paid + months x opex per month + years x support_yearly,
 * where capex is the server price (cost.capex, cost.capex_per_gpu with chassis, cost.gpus.NAME
 * .server, or chassis + GPUs x (gpu + network_per_gpu)), paid cash or as an annuity at the
 * cost of capital, less the residual value; opex per month is (servers + spares) x
 * opex_monthly (flat), or power (GPU idle watts, plus up to busy watts while busy, plus the rest
 * of the server; spares idle) x PUE x electricity price plus colocation per provisioned kW.
 * Rent (per month) = on demand: held GPU-hours x on_demand; reserved: reserved GPUs x every hour
 * of the month x the term's rate + held GPU-hours above them x on_demand; spot: held GPU-hours x
 * (1 + interruptions per replica-hour x spot_restart hours) x spot.
 * API = months x (monthly_bill, or the simulated monthly tokens x per-class prices, less the
 * cached-input and batch discounts). The simulated volume is the demand that arrived in the
 * horizon, scaled to a month (365.25 / 12 days), input and output tokens priced separately.
 * Hybrid = own + the tokens of spilled requests at the class prices (with a flat bill and no
 * prices: at the bill's average price per token); hybrid with rent = own + the held GPU-hours
 * above the baseline at on_demand.
 */
#ifndef LLMCAP_COST_H
#define LLMCAP_COST_H

#include "llmcap/catalog.h"
#include "llmcap/spec.h"

/* What a fleet used over a simulated horizon, the cost model's only input besides the scenario
 * (sim/results/usage.c fills it from a simulation's results). Token counts are over the
 * horizon, not per month: the cost model scales them, class by class, as it always has (the
 * same operations in the same order, so that costs keep their bits). */
struct llmcap_usage_class {
	double prompt_tokens, output_tokens;                     /* demand: every arrival */
	double completed_prompt_tokens, completed_output_tokens; /* served */
	double spilled_prompt_tokens, spilled_output_tokens;     /* sent to the API */
};

/* What one pool held: replica-hours over the horizon, and the part above its baseline (the
 * replicas reserved when renting, or owned in a hybrid), which is billed on demand. A fixed fleet
 * holds its replicas for the whole horizon; an autoscaled one the integral of its count. */
struct llmcap_usage_pool {
	const struct llmcap_gpu_spec *gpu; /* the pool's GPU; NULL: the fleet's (usage.gpu) */
	double busy_gpus;            /* mean GPUs executing the pool's steps (power by GPU type) */
	int64_t gpus_per_replica;    /* tensor-parallel size */
	double replica_hours;        /* held, over the horizon */
	double baseline_replicas;    /* reserved (rent) or owned (hybrid) */
	double burst_replica_hours;  /* held above the baseline, over the horizon; <= replica_hours */
};

struct llmcap_usage {
	llmcap_time horizon;               /* ns, > 0 */
	const struct llmcap_gpu_spec *gpu; /* the fleet's GPU; NULL: no power model */
	/* mean GPUs executing steps over the horizon: each replica's busy share x its GPUs,
	 * summed pool by pool, replica by replica */
	double busy_gpus;
	size_t n_classes;                  /* the scenario's classes, in its order */
	struct llmcap_usage_class classes[LLMCAP_MAX_CLASSES];
	size_t n_pools;                    /* the scenario's pools, in its order; 0: no rent costs */
	struct llmcap_usage_pool pools[LLMCAP_MAX_POOLS];
};

/* The prices that apply to one GPU type in a scenario (USD; watts per GPU; NAN: none known). */
struct llmcap_gpu_costs {
	double server;             /* per server of hardware.gpus_per_server GPUs, before financing */
	double gpu, chassis, network_per_gpu;
	double opex_monthly;       /* per server-month, flat; NAN: the power model applies */
	double idle_watts, busy_watts;
	double on_demand, reserved_1y, reserved_3y, spot; /* per GPU-hour */
	double spot_interruptions; /* per replica-month */
};

/* Resolves the prices of `gpu` (its catalog entry; NULL: the scenario's hardware.gpu with no
 * catalog figures) in `sc`: the scenario's figures over the catalog's. */
void llmcap_cost_gpu_prices(const struct llmcap_scenario *sc, const struct llmcap_gpu_spec *gpu,
			    struct llmcap_gpu_costs *out);

struct llmcap_cost {
	double months;
	double capex, opex, support, self_total;        /* USD over the horizon */
	double self_monthly;                            /* self_total / months */
	double server_price;                            /* USD, before financing */
	double opex_monthly;                            /* USD per month, the fleet */
	double avg_power_watts, provisioned_kw;         /* opex: power only */
	double served_tokens_per_month;                 /* completed requests' tokens */
	double self_per_1m_served;                      /* self_monthly per 1M tokens served */
	double tokens_per_month;                        /* input + output */
	double api_monthly_at_prices;                   /* per-token prices x monthly tokens */
	double api_monthly;                             /* what the comparison uses */
	double api_total;
	bool flat_bill;
	double price_per_m;          /* USD per 1M tokens, blended over the simulated mix */
	double breakeven_tokens_per_month; /* self_monthly / price_per_m x 1e6; NAN if free */
	double spilled_api_total;   /* requests spilled to the API, at the class prices */
	double hybrid_total;        /* self_total + spilled_api_total */
	/* own */
	double spare_servers;
	bool power_opex;            /* opex from the power model (opex power, or auto with no figure) */
	/* API discounts: what cached input and the batch API took off api_monthly_at_prices */
	double api_discount_monthly;
	/* rent: USD per month and over the horizon; NAN where the GPU has no such price */
	double rent_gpu_hours;          /* GPU-hours held per month */
	double rent_burst_gpu_hours;    /* of which above the reserved baseline */
	double rent_reserved_gpus;      /* GPUs reserved for every hour of the month */
	double rent_spot_extra_gpu_hours; /* held again after spot interruptions, per month */
	double rent_on_demand_monthly, rent_reserved_monthly, rent_spot_monthly;
	double rent_on_demand_total, rent_reserved_total, rent_spot_total;
	double hybrid_rent_total;       /* self_total + months x burst GPU-hours x on_demand */
	struct llmcap_gpu_costs prices; /* the prices used (the first server group's GPU) */
	/* rent by GPU type, in the order the pools name them: each pool is billed at its own GPU's
	 * prices, so a fleet on several types has one row per type (the rent_* figures above are
	 * their sums); NAN bills where that type lacks the price */
	size_t n_rent_gpus;
	struct llmcap_cost_rent_gpu {
		char gpu[LLMCAP_NAME_MAX];
		double gpu_hours, burst_gpu_hours, reserved_gpus, spot_extra_gpu_hours; /* per month */
		double on_demand_monthly, reserved_monthly, spot_monthly;          /* USD per month */
		struct llmcap_gpu_costs prices;
	} rent_gpus[LLMCAP_MAX_POOLS];
	/* own, by GPU type: one row per server group that holds servers (llmcap_server_groups) */
	size_t n_groups;
	struct llmcap_cost_group {
		char gpu[LLMCAP_NAME_MAX];
		int64_t gpus_per_server;
		double servers, spares;     /* racked = servers + spares */
		double server_price;        /* USD, before financing */
		double capex;               /* USD over the horizon */
		double opex_monthly;        /* USD per month: flat, or power and colocation */
		double avg_power_watts, provisioned_kw; /* power opex only */
	} groups[LLMCAP_MAX_POOLS + 1];
};

void llmcap_cost_compute(const struct llmcap_scenario *sc, const struct llmcap_usage *use,
			 struct llmcap_cost *out);

/* ---- Servers by GPU type (issue 21: pools on their own GPUs) ----
 * A pool runs on hardware.gpu in servers of hardware.gpus_per_server GPUs unless it names its
 * own (pools.NAME.gpu, pools.NAME.gpus_per_server; "" and 0: the hardware block's). Pools of one
 * (GPU, GPUs per server) share a server group. Group 0 is the hardware block's: hardware.servers
 * when at least one pool runs on it, else none; every other group has the fewest servers that
 * pack its pools' replicas (first fit, largest tensor-parallel groups first: a replica never
 * spans servers). Own costs sum over groups: each group's servers (plus cost.spare_servers of its
 * own type: a spare of one GPU type cannot stand in for another) at its GPU's server price, and
 * its GPUs' idle and busy power. A scenario with no pool off the hardware block prices exactly
 * as before. */
struct llmcap_server_group {
	const char *gpu;         /* catalog name, as the scenario spells it (owned by sc) */
	int64_t gpus_per_server;
	int64_t servers;         /* see above; -1: a replica is larger than a server */
	int64_t gpus_needed;     /* replicas x tensor_parallel_size over its pools */
	size_t n_pools;
	size_t first_pool;       /* a pool of the group (for located errors); group 0 with no pool: 0 */
};

/* The GPU (catalog name) and GPUs per server pool p runs on. */
const char *llmcap_pool_gpu(const struct llmcap_scenario *sc, size_t p);
int64_t llmcap_pool_gpus_per_server(const struct llmcap_scenario *sc, size_t p);

/* The fewest servers of `gpus_per_server` GPUs that hold `replicas[p]` replicas of `tp[p]` GPUs
 * each (p < n), first fit with the largest groups first (exact for powers of two); -1 when a
 * tp exceeds gpus_per_server; 0 for no replicas. */
int64_t llmcap_pack_servers(int64_t gpus_per_server, size_t n, const int64_t *tp,
			    const int64_t *replicas);

/* Fills out[0 .. returned count) (at most LLMCAP_MAX_POOLS + 1) with sc's server groups, at the
 * replica counts `replicas` (NULL: the pools'), and group_of[p] with each pool's group (may be
 * NULL). */
size_t llmcap_server_groups(const struct llmcap_scenario *sc, const int64_t *replicas,
			    struct llmcap_server_group *out, size_t *group_of);

/* Whether pool p runs off the hardware block (its own GPU type or server size). */
bool llmcap_pool_own_servers(const struct llmcap_scenario *sc, size_t p);
/* Whether any pool does. */
bool llmcap_scenario_mixed_gpus(const struct llmcap_scenario *sc);

/* An API provider's time to first token at quantile q (0 < q < 1), ns: a lognormal through the
 * catalog's p50 and p95 (or p99 where p95 is missing), times peak_factor when `peak` (the
 * provider's busiest hours). With only a median, its spread is unknown: q 0.5 gives it, other
 * quantiles -1; -1 also where no median is published. */
llmcap_time llmcap_api_ttft_quantile(const struct llmcap_price_spec *p, double q, bool peak);

#endif

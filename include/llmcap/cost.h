/* Cost model: 3-year (configurable) TCO of owned servers against API prices for the same
 * token volume, and the monthly volume at which they break even.
 *
 * Self-hosted = servers x capex + months x opex per month + years x support_yearly, where capex
 * is the server price (or chassis + GPUs x price per GPU), paid cash or as an annuity at the
 * cost of capital, less the residual value; opex per month is servers x opex_monthly, or
 * power (GPU idle watts, plus up to TDP while busy, plus the rest of the server) x PUE x
 * electricity price plus colocation per provisioned kW.
 * API = months x (monthly_bill, or the simulated monthly tokens x per-class prices).
 * The simulated volume is the demand that arrived in the horizon, scaled to a month
 * (365.25 / 12 days), input and output tokens priced separately.
 * Hybrid = self-hosted + the tokens of spilled requests at the class prices (with a flat bill
 * and no prices: at the bill's average price per token).
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

struct llmcap_usage {
	llmcap_time horizon;               /* ns, > 0 */
	const struct llmcap_gpu_spec *gpu; /* the fleet's GPU; NULL: no power model */
	/* mean GPUs executing steps over the horizon: each replica's busy share x its GPUs,
	 * summed pool by pool, replica by replica */
	double busy_gpus;
	size_t n_classes;                  /* the scenario's classes, in its order */
	struct llmcap_usage_class classes[LLMCAP_MAX_CLASSES];
};

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
};

void llmcap_cost_compute(const struct llmcap_scenario *sc, const struct llmcap_usage *use,
			 struct llmcap_cost *out);

#endif

/* Cost model. See include/llmcap/cost.h. */
#include "llmcap/cost.h"

#include <math.h>
#include <string.h>

/* Capex per server: a given price, or GPUs at a unit price plus the chassis. */
static double server_price(const struct llmcap_scenario *sc)
{
	if (!isnan(sc->cost.capex_per_gpu))
		return sc->cost.chassis + (double)sc->hardware.gpus_per_server * sc->cost.capex_per_gpu;
	return sc->cost.capex;
}

/* Total paid for the hardware over the horizon: cash, or an annuity at the cost of capital;
 * less what selling it brings at the end (undiscounted, as a planner quotes it). */
static double capex_total(const struct llmcap_scenario *sc, double price)
{
	double years = sc->cost.horizon_years, r = sc->cost.cost_of_capital;
	double paid = r > 0 ? price * r / (1.0 - pow(1.0 + r, -years)) * years : price;
	return paid - sc->cost.residual_fraction * price;
}

void llmcap_cost_compute(const struct llmcap_scenario *sc, const struct llmcap_usage *use,
			 struct llmcap_cost *out)
{
	const double years = sc->cost.horizon_years, servers = (double)sc->hardware.servers;
	memset(out, 0, sizeof *out);
	out->months = years * 12.0;
	out->server_price = server_price(sc);
	out->capex = servers * capex_total(sc, out->server_price);
	if (sc->cost.opex == LLMCAP_OPEX_POWER && use->gpu) {
		/* Every GPU draws its idle power, plus up to its TDP while its replica executes a
		 * step (an upper bound: decode steps draw less than prefill); GPUs no pool uses
		 * idle. Colocation is billed on provisioned power: every GPU at TDP plus the rest. */
		const struct llmcap_gpu_spec *g = use->gpu;
		double gpus = servers * (double)sc->hardware.gpus_per_server, busy_gpus = use->busy_gpus;
		out->avg_power_watts = gpus * g->idle_watts + busy_gpus * (g->tdp_watts - g->idle_watts) +
				       servers * sc->cost.power.other_watts;
		out->provisioned_kw = (gpus * g->tdp_watts + servers * sc->cost.power.other_watts) / 1e3;
		double hours_per_month = LLMCAP_MONTH_SECONDS / 3600.0;
		out->opex_monthly = out->avg_power_watts / 1e3 * sc->cost.power.pue * hours_per_month *
					    sc->cost.power.electricity +
				    out->provisioned_kw * sc->cost.power.colocation;
	} else {
		out->opex_monthly = servers * sc->cost.opex_monthly;
	}
	out->opex = out->months * out->opex_monthly;
	out->support = years * sc->cost.support_yearly;
	out->self_total = out->capex + out->opex + out->support;
	out->self_monthly = out->self_total / out->months;

	double scale = LLMCAP_MONTH_SECONDS / ((double)use->horizon * 1e-9);
	double usd = 0, tokens = 0, spill_usd = 0, spill_tokens = 0, served = 0;
	for (size_t c = 0; c < use->n_classes; c++) {
		const struct llmcap_usage_class *cs = &use->classes[c];
		const char *name = sc->workload.classes[c].name;
		tokens += (cs->prompt_tokens + cs->output_tokens) * scale;
		served += (cs->completed_prompt_tokens + cs->completed_output_tokens) * scale;
		spill_tokens += (cs->spilled_prompt_tokens + cs->spilled_output_tokens) * scale;
		for (size_t p = 0; p < sc->cost.api.n_prices; p++)
			if (!strcmp(sc->cost.api.prices[p].name, name)) {
				usd += (cs->prompt_tokens * sc->cost.api.prices[p].input +
					cs->output_tokens * sc->cost.api.prices[p].output) *
				       scale / 1e6;
				spill_usd += (cs->spilled_prompt_tokens * sc->cost.api.prices[p].input +
					      cs->spilled_output_tokens * sc->cost.api.prices[p].output) *
					     scale / 1e6;
			}
	}
	out->tokens_per_month = tokens;
	out->served_tokens_per_month = served;
	out->self_per_1m_served = served > 0 ? out->self_monthly / served * 1e6 : NAN;
	out->api_monthly_at_prices = usd;
	out->flat_bill = !isnan(sc->cost.api.monthly_bill);
	out->api_monthly = out->flat_bill ? sc->cost.api.monthly_bill : usd;
	out->api_total = out->api_monthly * out->months;
	out->price_per_m = tokens > 0 ? out->api_monthly / tokens * 1e6 : NAN;
	out->breakeven_tokens_per_month =
		out->price_per_m > 0 ? out->self_monthly / out->price_per_m * 1e6 : NAN;
	if (sc->cost.api.n_prices == 0 && out->flat_bill && tokens > 0)
		spill_usd = spill_tokens * out->api_monthly / tokens;
	out->spilled_api_total = spill_usd * out->months;
	out->hybrid_total = out->self_total + out->spilled_api_total;
}

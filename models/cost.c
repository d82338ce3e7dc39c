/* Cost model. See include/llmcap/cost.h. */
#include "llmcap/cost.h"

#include <math.h>
#include <string.h>

void llmcap_cost_compute(const struct llmcap_scenario *sc, const struct llmcap_results *res,
			 struct llmcap_cost *out)
{
	const double years = sc->cost.horizon_years, servers = (double)sc->hardware.servers;
	memset(out, 0, sizeof *out);
	out->months = years * 12.0;
	out->capex = servers * sc->cost.capex;
	out->opex = out->months * servers * sc->cost.opex_monthly;
	out->support = years * sc->cost.support_yearly;
	out->self_total = out->capex + out->opex + out->support;
	out->self_monthly = out->self_total / out->months;

	double scale = LLMCAP_MONTH_SECONDS / ((double)res->horizon * 1e-9);
	double usd = 0, tokens = 0, spill_usd = 0, spill_tokens = 0;
	for (size_t c = 0; c < res->n_classes; c++) {
		const struct llmcap_class_stats *cs = &res->classes[c];
		const char *name = sc->workload.classes[c].name;
		tokens += (cs->prompt_tokens + cs->output_tokens) * scale;
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

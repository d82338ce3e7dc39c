/* Cost model. See include/llmcap/cost.h and docs/cost.md. */
#include "llmcap/cost.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

/* The first of a scenario's figure and the catalog's that is known. */
static double pick(double scenario, double catalog)
{
	return isnan(scenario) ? catalog : scenario;
}

/* The prices of `gpu` (NULL: `name` with no catalog figures) in servers of n GPUs. */
static void gpu_prices_n(const struct llmcap_scenario *sc, const struct llmcap_gpu_spec *gpu,
			 const char *name, double n, struct llmcap_gpu_costs *out);

void llmcap_cost_gpu_prices(const struct llmcap_scenario *sc, const struct llmcap_gpu_spec *gpu,
			    struct llmcap_gpu_costs *out)
{
	gpu_prices_n(sc, gpu, sc->hardware.gpu, (double)sc->hardware.gpus_per_server, out);
}

static void gpu_prices_n(const struct llmcap_scenario *sc, const struct llmcap_gpu_spec *gpu,
			 const char *name, double n, struct llmcap_gpu_costs *out)
{
	if (gpu)
		name = gpu->name;
	const struct llmcap_gpu_price_cfg *o = NULL;
	for (size_t i = 0; i < sc->cost.n_gpus; i++)
		if (!strcmp(sc->cost.gpus[i].name, name))
			o = &sc->cost.gpus[i];
	const struct llmcap_gpu_prices none = {
		.gpu = NAN, .chassis = NAN, .network_per_gpu = NAN, .busy_watts = NAN,
		.prefill_watts = NAN, .decode_watts = NAN, .on_demand = NAN, .reserved_1y = NAN,
		.reserved_3y = NAN, .spot = NAN, .spot_interruptions = NAN};
	const struct llmcap_gpu_prices *c = gpu ? &gpu->price : &none;
	const struct llmcap_gpu_price_cfg no_override = {
		.server = NAN, .gpu = NAN, .chassis = NAN, .network_per_gpu = NAN, .opex_monthly = NAN,
		.idle_watts = NAN, .busy_watts = NAN, .on_demand = NAN, .reserved_1y = NAN,
		.reserved_3y = NAN, .spot = NAN, .spot_interruptions = NAN};
	if (!o)
		o = &no_override;
	*out = (struct llmcap_gpu_costs){
		.gpu = pick(o->gpu, c->gpu),
		.chassis = pick(o->chassis, c->chassis),
		/* no network figure is known for most GPUs: none (it sits in the chassis) */
		.network_per_gpu = pick(o->network_per_gpu, isnan(c->network_per_gpu) ? 0 : c->network_per_gpu),
		.opex_monthly = pick(sc->cost.opex_monthly, o->opex_monthly),
		.idle_watts = pick(o->idle_watts, gpu ? gpu->idle_watts : NAN),
		/* busy at TDP where no mean draw is known: an upper bound */
		.busy_watts = pick(o->busy_watts, pick(c->busy_watts, gpu ? gpu->tdp_watts : NAN)),
		.on_demand = pick(o->on_demand, c->on_demand),
		.reserved_1y = pick(o->reserved_1y, c->reserved_1y),
		.reserved_3y = pick(o->reserved_3y, c->reserved_3y),
		.spot = pick(o->spot, c->spot),
		.spot_interruptions = pick(o->spot_interruptions, c->spot_interruptions),
	};
	/* the server: a price for every GPU, a price per GPU plus a chassis (cost.capex_per_gpu),
	 * this GPU's whole server, or its parts */
	if (!isnan(sc->cost.capex_per_gpu))
		out->server = sc->cost.chassis + n * sc->cost.capex_per_gpu;
	else if (!isnan(sc->cost.capex))
		out->server = sc->cost.capex;
	else if (!isnan(o->server))
		out->server = o->server;
	else
		out->server = out->chassis + n * (out->gpu + out->network_per_gpu);
}

/* Total paid for the hardware over the horizon: cash, or an annuity at the cost of capital;
 * less what selling it brings at the end (undiscounted, as a planner quotes it). */
static double capex_total(const struct llmcap_scenario *sc, double price)
{
	double years = sc->cost.horizon_years, r = sc->cost.cost_of_capital;
	double paid = r > 0 ? price * r / (1.0 - pow(1.0 + r, -years)) * years : price;
	return paid - sc->cost.residual_fraction * price;
}

/* What one class's tokens cost at its prices (USD x 1e6): input and output at list price, less
 * the cached share of the prompt at the cached price, less the batch share's discount. Without
 * discounts this is exactly prompt x input + output x output. */
static double class_bill(const struct llmcap_price_cfg *pc, double prompt, double output)
{
	double bill = prompt * pc->input + output * pc->output;
	if (pc->cached_share > 0 && !isnan(pc->cached_input))
		bill -= prompt * pc->cached_share * (pc->input - pc->cached_input);
	if (pc->batch_share > 0 && pc->batch_discount > 0)
		bill *= 1.0 - pc->batch_share * pc->batch_discount;
	return bill;
}

/* Renting: held GPU-hours on demand, a reserved baseline plus on-demand burst, or spot; each
 * pool at its own GPU's prices. */
static void rent_costs(const struct llmcap_scenario *sc, const struct llmcap_usage *use,
		       struct llmcap_cost *out)
{
	double month_h = LLMCAP_MONTH_SECONDS / 3600.0;
	double scale = LLMCAP_MONTH_SECONDS / ((double)use->horizon * 1e-9);
	/* each interruption holds a replacement through its restart before it serves: the held
	 * GPU-hours grow by interruptions x restart x GPUs per replica */
	double restart_h = (double)sc->cost.rent.spot_restart * 1e-9 / 3600.0;
	double held = 0, burst = 0, reserved = 0, extra = 0, od = 0, rs = 0, spot = 0;
	out->n_rent_gpus = 0;
	/* the fleet's GPU's prices: with pools on several types (issue 21) out->prices are the
	 * first server group's, not necessarily hardware.gpu's */
	struct llmcap_gpu_costs fleet_gpu;
	const struct llmcap_gpu_costs *fleet = &out->prices;
	if (out->n_groups > 1 || llmcap_scenario_mixed_gpus(sc)) {
		llmcap_cost_gpu_prices(sc, use->gpu, &fleet_gpu);
		fleet = &fleet_gpu;
	}
	for (size_t p = 0; p < use->n_pools; p++) {
		const struct llmcap_usage_pool *u = &use->pools[p];
		struct llmcap_gpu_costs own_gpu;
		const struct llmcap_gpu_costs *pr = fleet;
		if (u->gpu && u->gpu != use->gpu) {
			llmcap_cost_gpu_prices(sc, u->gpu, &own_gpu);
			pr = &own_gpu;
		}
		double g = (double)u->gpus_per_replica;
		double h = u->replica_hours * g * scale, b = u->burst_replica_hours * g * scale;
		double r = u->baseline_replicas * g;
		/* an unpublished interruption rate counts none: the report says so */
		double per_replica_hour = isnan(pr->spot_interruptions) ? 0 : pr->spot_interruptions / month_h;
		double x = h * per_replica_hour * restart_h;
		double rate = sc->cost.rent.term_years == 3 ? pr->reserved_3y : pr->reserved_1y;
		const char *name = u->gpu ? u->gpu->name : sc->hardware.gpu;
		size_t k = 0;
		while (k < out->n_rent_gpus && strcmp(out->rent_gpus[k].gpu, name))
			k++;
		struct llmcap_cost_rent_gpu *row = &out->rent_gpus[k];
		if (k == out->n_rent_gpus) {
			out->n_rent_gpus++;
			memset(row, 0, sizeof *row);
			snprintf(row->gpu, sizeof row->gpu, "%s", name);
			row->prices = *pr;
		}
		row->gpu_hours += h;
		row->burst_gpu_hours += b;
		row->reserved_gpus += r;
		row->spot_extra_gpu_hours += x;
		row->on_demand_monthly += h * pr->on_demand;
		row->reserved_monthly += r * month_h * rate + b * pr->on_demand;
		row->spot_monthly += (h + x) * pr->spot;
		held += h;
		burst += b;
		reserved += r;
		extra += x;
		od += h * pr->on_demand;
		rs += r * month_h * rate + b * pr->on_demand;
		spot += (h + x) * pr->spot;
		out->hybrid_rent_total += b * pr->on_demand;
	}
	out->rent_gpu_hours = held;
	out->rent_burst_gpu_hours = burst;
	out->rent_reserved_gpus = reserved;
	out->rent_spot_extra_gpu_hours = extra;
	out->rent_on_demand_monthly = od;
	out->rent_reserved_monthly = rs;
	out->rent_spot_monthly = spot;
	out->rent_on_demand_total = od * out->months;
	out->rent_reserved_total = rs * out->months;
	out->rent_spot_total = spot * out->months;
	out->hybrid_rent_total = out->self_total + out->hybrid_rent_total * out->months;
}

/* ---- Servers by GPU type (issue 21). See cost.h. ---- */

const char *llmcap_pool_gpu(const struct llmcap_scenario *sc, size_t p)
{
	return sc->pools[p].gpu[0] ? sc->pools[p].gpu : sc->hardware.gpu;
}

int64_t llmcap_pool_gpus_per_server(const struct llmcap_scenario *sc, size_t p)
{
	return sc->pools[p].gpus_per_server > 0 ? sc->pools[p].gpus_per_server
						 : sc->hardware.gpus_per_server;
}

bool llmcap_pool_own_servers(const struct llmcap_scenario *sc, size_t p)
{
	return strcmp(llmcap_pool_gpu(sc, p), sc->hardware.gpu) ||
	       llmcap_pool_gpus_per_server(sc, p) != sc->hardware.gpus_per_server;
}

bool llmcap_scenario_mixed_gpus(const struct llmcap_scenario *sc)
{
	for (size_t p = 0; p < sc->n_pools; p++)
		if (llmcap_pool_own_servers(sc, p))
			return true;
	return false;
}

int64_t llmcap_pack_servers(int64_t gpus_per_server, size_t n, const int64_t *tp,
			    const int64_t *replicas)
{
	int64_t servers = 0, free_in_last = 0;
	for (size_t p = 0; p < n; p++)
		if (replicas[p] > 0 && tp[p] > gpus_per_server)
			return -1;
	/* sizes are powers of two: first fit decreasing fills every server but the last, so one
	 * open server is enough */
	for (int64_t t = 8; t >= 1; t /= 2)
		for (size_t p = 0; p < n; p++)
			if (tp[p] == t)
				for (int64_t r = 0; r < replicas[p]; r++) {
					if (free_in_last < t) {
						servers++;
						free_in_last = gpus_per_server;
					}
					free_in_last -= t;
				}
	return servers;
}

size_t llmcap_server_groups(const struct llmcap_scenario *sc, const int64_t *replicas,
			    struct llmcap_server_group *out, size_t *group_of)
{
	size_t n = 1;
	out[0] = (struct llmcap_server_group){.gpu = sc->hardware.gpu,
					      .gpus_per_server = sc->hardware.gpus_per_server};
	size_t gof[LLMCAP_MAX_POOLS];
	for (size_t p = 0; p < sc->n_pools; p++) {
		const char *g = llmcap_pool_gpu(sc, p);
		int64_t gps = llmcap_pool_gpus_per_server(sc, p);
		size_t k = 0;
		while (k < n && (strcmp(out[k].gpu, g) || out[k].gpus_per_server != gps))
			k++;
		if (k == n)
			out[n++] = (struct llmcap_server_group){.gpu = g, .gpus_per_server = gps,
								.first_pool = p};
		if (out[k].n_pools++ == 0)
			out[k].first_pool = p;
		out[k].gpus_needed += (replicas ? replicas[p] : sc->pools[p].replicas) *
				      sc->pools[p].tensor_parallel_size;
		gof[p] = k;
	}
	for (size_t k = 0; k < n; k++) {
		if (k == 0) {
			out[0].servers = out[0].n_pools ? sc->hardware.servers : 0;
			continue;
		}
		int64_t tp[LLMCAP_MAX_POOLS], rep[LLMCAP_MAX_POOLS];
		for (size_t p = 0; p < sc->n_pools; p++) {
			tp[p] = sc->pools[p].tensor_parallel_size;
			rep[p] = gof[p] == k ? (replicas ? replicas[p] : sc->pools[p].replicas) : 0;
		}
		out[k].servers = llmcap_pack_servers(out[k].gpus_per_server, sc->n_pools, tp, rep);
	}
	if (group_of)
		memcpy(group_of, gof, sc->n_pools * sizeof *gof);
	return n;
}

/* Own costs of a fleet on several GPU types: every server group priced at its own GPU. */
static void own_by_group(const struct llmcap_scenario *sc, const struct llmcap_usage *use,
			 struct llmcap_cost *out)
{
	struct llmcap_server_group gr[LLMCAP_MAX_POOLS + 1];
	size_t gof[LLMCAP_MAX_POOLS];
	size_t ng = llmcap_server_groups(sc, NULL, gr, gof);
	const double spares = (double)sc->cost.spare_servers;
	const double hours_per_month = LLMCAP_MONTH_SECONDS / 3600.0;
	bool first = true;
	for (size_t k = 0; k < ng; k++) {
		if (gr[k].servers <= 0)
			continue;
		/* no catalog entry given (NULL): prices by name from the scenario only */
		const struct llmcap_gpu_spec *g = k == 0 ? use->gpu : use->pools[gr[k].first_pool].gpu;
		struct llmcap_gpu_costs pr;
		gpu_prices_n(sc, g, gr[k].gpu, (double)gr[k].gpus_per_server, &pr);
		struct llmcap_cost_group *row = &out->groups[out->n_groups++];
		snprintf(row->gpu, sizeof row->gpu, "%s", g ? g->name : gr[k].gpu);
		row->gpus_per_server = gr[k].gpus_per_server;
		row->servers = (double)gr[k].servers;
		row->spares = spares;
		row->server_price = pr.server;
		double racked = row->servers + spares;
		row->capex = racked * capex_total(sc, pr.server);
		bool power = sc->cost.opex == LLMCAP_OPEX_POWER ||
			     (sc->cost.opex == LLMCAP_OPEX_AUTO && isnan(pr.opex_monthly));
		if (power && g) {
			double gpus = racked * (double)gr[k].gpus_per_server, busy = 0;
			for (size_t p = 0; p < sc->n_pools && p < use->n_pools; p++)
				if (gof[p] == k)
					busy += use->pools[p].busy_gpus;
			row->avg_power_watts = gpus * pr.idle_watts + busy * (pr.busy_watts - pr.idle_watts) +
					       racked * sc->cost.power.other_watts;
			row->provisioned_kw = (gpus * g->tdp_watts + racked * sc->cost.power.other_watts) / 1e3;
			row->opex_monthly = row->avg_power_watts / 1e3 * sc->cost.power.pue *
						    hours_per_month * sc->cost.power.electricity +
					    row->provisioned_kw * sc->cost.power.colocation;
		} else {
			row->opex_monthly = power ? NAN : racked * pr.opex_monthly;
		}
		if (first) {
			out->prices = pr;
			out->server_price = pr.server;
			first = false;
		}
		out->power_opex |= power;
		out->spare_servers += spares;
		out->capex += row->capex;
		out->opex_monthly += row->opex_monthly;
		out->avg_power_watts += row->avg_power_watts;
		out->provisioned_kw += row->provisioned_kw;
	}
}

void llmcap_cost_compute(const struct llmcap_scenario *sc, const struct llmcap_usage *use,
			 struct llmcap_cost *out)
{
	const double years = sc->cost.horizon_years, servers = (double)sc->hardware.servers;
	const double spares = (double)sc->cost.spare_servers, racked = servers + spares;
	memset(out, 0, sizeof *out);
	if (llmcap_scenario_mixed_gpus(sc)) {
		out->months = years * 12.0;
		own_by_group(sc, use, out);
		goto own_done;
	}
	llmcap_cost_gpu_prices(sc, use->gpu, &out->prices);
	const struct llmcap_gpu_costs *pr = &out->prices;
	out->months = years * 12.0;
	out->spare_servers = spares;
	out->server_price = pr->server;
	out->capex = racked * capex_total(sc, out->server_price);
	out->power_opex = sc->cost.opex == LLMCAP_OPEX_POWER ||
			  (sc->cost.opex == LLMCAP_OPEX_AUTO && isnan(pr->opex_monthly));
	if (out->power_opex && use->gpu) {
		/* Every GPU draws its idle power, plus up to its busy power while its replica
		 * executes a step (TDP where no mean draw is known: an upper bound); GPUs no pool
		 * uses idle, and so do spares. Colocation is billed on provisioned power: every GPU
		 * at TDP plus the rest. */
		const struct llmcap_gpu_spec *g = use->gpu;
		double gpus = racked * (double)sc->hardware.gpus_per_server, busy_gpus = use->busy_gpus;
		out->avg_power_watts = gpus * pr->idle_watts + busy_gpus * (pr->busy_watts - pr->idle_watts) +
				       racked * sc->cost.power.other_watts;
		out->provisioned_kw = (gpus * g->tdp_watts + racked * sc->cost.power.other_watts) / 1e3;
		double hours_per_month = LLMCAP_MONTH_SECONDS / 3600.0;
		out->opex_monthly = out->avg_power_watts / 1e3 * sc->cost.power.pue * hours_per_month *
					    sc->cost.power.electricity +
				    out->provisioned_kw * sc->cost.power.colocation;
	} else if (out->power_opex) {
		out->opex_monthly = NAN; /* no GPU, no power model */
	} else {
		out->opex_monthly = racked * pr->opex_monthly;
	}
	out->n_groups = 1;
	out->groups[0] = (struct llmcap_cost_group){
		.gpus_per_server = sc->hardware.gpus_per_server, .servers = servers, .spares = spares,
		.server_price = out->server_price, .capex = out->capex,
		.opex_monthly = out->opex_monthly, .avg_power_watts = out->avg_power_watts,
		.provisioned_kw = out->provisioned_kw};
	snprintf(out->groups[0].gpu, sizeof out->groups[0].gpu, "%s",
		 use->gpu ? use->gpu->name : sc->hardware.gpu);
own_done:
	out->opex = out->months * out->opex_monthly;
	out->support = years * sc->cost.support_yearly;
	out->self_total = out->capex + out->opex + out->support;
	out->self_monthly = out->self_total / out->months;

	double scale = LLMCAP_MONTH_SECONDS / ((double)use->horizon * 1e-9);
	double usd = 0, list = 0, tokens = 0, spill_usd = 0, spill_tokens = 0, served = 0;
	for (size_t c = 0; c < use->n_classes; c++) {
		const struct llmcap_usage_class *cs = &use->classes[c];
		const char *name = sc->workload.classes[c].name;
		tokens += (cs->prompt_tokens + cs->output_tokens) * scale;
		served += (cs->completed_prompt_tokens + cs->completed_output_tokens) * scale;
		spill_tokens += (cs->spilled_prompt_tokens + cs->spilled_output_tokens) * scale;
		for (size_t p = 0; p < sc->cost.api.n_prices; p++) {
			const struct llmcap_price_cfg *pc = &sc->cost.api.prices[p];
			if (strcmp(pc->name, name))
				continue;
			usd += class_bill(pc, cs->prompt_tokens, cs->output_tokens) * scale / 1e6;
			list += (cs->prompt_tokens * pc->input + cs->output_tokens * pc->output) * scale / 1e6;
			spill_usd += class_bill(pc, cs->spilled_prompt_tokens, cs->spilled_output_tokens) *
				     scale / 1e6;
		}
	}
	out->tokens_per_month = tokens;
	out->served_tokens_per_month = served;
	out->self_per_1m_served = served > 0 ? out->self_monthly / served * 1e6 : NAN;
	out->api_monthly_at_prices = usd;
	out->api_discount_monthly = list - usd;
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
	rent_costs(sc, use, out);
}

llmcap_time llmcap_api_ttft_quantile(const struct llmcap_price_spec *p, double q, bool peak)
{
	if (p->ttft_p50 <= 0 || !(q > 0 && q < 1))
		return -1;
	double mu = log((double)p->ttft_p50), sigma = NAN;
	if (p->ttft_p95 > p->ttft_p50)
		sigma = (log((double)p->ttft_p95) - mu) / gsl_cdf_ugaussian_Pinv(0.95);
	else if (p->ttft_p99 > p->ttft_p50)
		sigma = (log((double)p->ttft_p99) - mu) / gsl_cdf_ugaussian_Pinv(0.99);
	double t;
	if (q == 0.5)
		t = (double)p->ttft_p50;
	else if (isnan(sigma))
		return -1;
	else
		t = exp(mu + sigma * gsl_cdf_ugaussian_Pinv(q));
	if (peak && !isnan(p->peak_factor))
		t *= p->peak_factor;
	return llmcap_round_time(t);
}

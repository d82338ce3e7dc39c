/* The cost of each option (own, rent, API, hybrid) from a hand-made usage, against hand
 * calculations written out beside each figure; and the price following the GPU. */
#include "test_util.h"

#include "llmcap/cost.h"
#include "llmcap/report.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

#include <math.h>

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* The built-in reference scenario (one 4x H100 server at the guide's $155,000 and $2,450/month,
 * utility on TP1 x 2, reasoning on TP2 x 1) with overrides. */
static void reference(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	int rc = llmcap_scenario_load(sc, NULL, sets, n, &cat, &err);
	if (rc)
		fail_msg("%s", err.msg);
}

/* One day of the reference fleet held as it is: utility 2 x TP1, reasoning 1 x TP2, baselines
 * equal to the replicas; no tokens. */
static struct llmcap_usage fixed_day(const char *gpu)
{
	struct llmcap_usage u = {.horizon = LLMCAP_DAY, .gpu = llmcap_catalog_gpu(&cat, gpu), .n_pools = 2};
	u.pools[0] = (struct llmcap_usage_pool){.gpus_per_replica = 1, .replica_hours = 48,
						.baseline_replicas = 2, .burst_replica_hours = 0};
	u.pools[1] = (struct llmcap_usage_pool){.gpus_per_replica = 2, .replica_hours = 24,
						.baseline_replicas = 1, .burst_replica_hours = 0};
	return u;
}

#define MONTH_H 730.5 /* 365.25 / 12 days x 24 h */

static void own_financed_with_residual_and_spare(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"cost.cost_of_capital=0.05", "cost.residual_fraction=0.2",
			      "cost.spare_servers=1"};
	reference(&sc, sets, 3);
	struct llmcap_usage u = fixed_day("h100-sxm-80gb");
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &u, &c);
	assert_rel(c.server_price, 155000, 0);
	/* an annuity at 5% over 3 years: 155,000 x 0.05 / (1 - 1.05^-3) = 56,917.33 a year, x 3 =
	 * 170,751.98; less 20% of 155,000 back at the end = 139,751.98 per server; 2 servers
	 * (one serving, one spare) = 279,503.97 */
	assert_rel(c.capex, 279503.9651, 1e-9);
	/* flat opex for both racked servers: 2 x 2,450 x 36 months = 176,400; support 3 x 10,000 */
	assert_rel(c.opex_monthly, 4900, 0);
	assert_rel(c.self_total, 279503.9651 + 176400 + 30000, 1e-9);
	assert_false(c.power_opex);
}

static void own_power_from_utilisation(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"cost.opex=power", "cost.spare_servers=1"};
	reference(&sc, sets, 2);
	struct llmcap_usage u = fixed_day("h100-sxm-80gb");
	u.busy_gpus = 1.5;
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &u, &c);
	assert_true(c.power_opex);
	/* 8 GPUs racked (the spare's idle) at 70 W, 1.5 busy GPUs up to 700 W, 2 x 2,300 W for the
	 * rest: 560 + 945 + 4,600 = 6,105 W; provisioned (8 x 700 + 2 x 2,300) W = 10.2 kW */
	assert_rel(c.avg_power_watts, 6105, 1e-12);
	assert_rel(c.provisioned_kw, 10.2, 1e-12);
	/* 6.105 kW x 1.3 x 730.5 h x $0.10 = 579.761 + 10.2 kW x $184.06 = 1,877.412 */
	assert_rel(c.opex_monthly, 579.761325 + 1877.412, 1e-12);
}

/* sweep --vary hardware.gpu: each GPU brings its own server price and running cost. */
static void price_follows_the_gpu(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	reference(&sc, NULL, 0);
	struct llmcap_cost h100, b200, mi300x, pcie;
	struct llmcap_usage u = fixed_day("h100-sxm-80gb");
	llmcap_cost_compute(&sc, &u, &h100);
	u = fixed_day("b200-180gb");
	llmcap_cost_compute(&sc, &u, &b200);
	u = fixed_day("mi300x-192gb");
	llmcap_cost_compute(&sc, &u, &mi300x);
	assert_rel(h100.server_price, 155000, 0);                /* the scenario's cost.gpus entry */
	assert_rel(b200.server_price, 195000 + 4 * 40000.0, 0);   /* catalog: chassis + 4 GPUs */
	assert_rel(mi300x.server_price, 35000 + 4 * 12500.0, 0);
	assert_true(b200.self_total > h100.self_total && mi300x.self_total < h100.self_total);
	/* no monthly figure for them: the power model runs */
	assert_false(h100.power_opex);
	assert_true(b200.power_opex && mi300x.power_opex);
	/* rented by the hour at each GPU's own on-demand price: 2,922 GPU-hours a month */
	assert_rel(b200.rent_on_demand_monthly, 4 * MONTH_H * 5.98, 1e-12);
	assert_rel(mi300x.rent_on_demand_monthly, 4 * MONTH_H * 3.49, 1e-12);
	/* a GPU with no published purchase price: no owned cost, rather than an invented one */
	u = fixed_day("h100-pcie-80gb");
	llmcap_cost_compute(&sc, &u, &pcie);
	assert_true(isnan(pcie.server_price) && isnan(pcie.self_total));
	assert_rel(pcie.rent_on_demand_monthly, 4 * MONTH_H * 2.86, 1e-12);

	/* a scenario's price for one GPU replaces the catalog's; cost.capex replaces every GPU's */
	const char *one[] = {"cost.gpus.b200-180gb={gpu: 50000, on_demand: 4}"};
	reference(&sc, one, 1);
	u = fixed_day("b200-180gb");
	llmcap_cost_compute(&sc, &u, &b200);
	assert_rel(b200.server_price, 195000 + 4 * 50000.0, 0);
	assert_rel(b200.rent_on_demand_monthly, 4 * MONTH_H * 4, 1e-12);
	const char *all[] = {"cost.capex=100000"};
	reference(&sc, all, 1);
	llmcap_cost_compute(&sc, &u, &b200);
	assert_rel(b200.server_price, 100000, 0);
}

static void rent_on_demand_and_spot(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	reference(&sc, NULL, 0);
	struct llmcap_usage u = fixed_day("h100-sxm-80gb");
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &u, &c);
	/* 48 + 24 x 2 = 96 GPU-hours a day x 30.4375 days = 2,922 GPU-hours a month */
	assert_rel(c.rent_gpu_hours, 2922, 1e-12);
	assert_rel(c.rent_on_demand_monthly, 2922 * 2.69, 1e-12);     /* $7,860.18 */
	assert_rel(c.rent_on_demand_total, 2922 * 2.69 * 36, 1e-12);
	/* spot: 0.15 interruptions per replica-month, each holding a replacement 10 minutes: 2,922
	 * x 0.15 / 730.5 x 1/6 h = 0.1 GPU-hours more, all at $1.49 */
	assert_rel(c.rent_spot_extra_gpu_hours, 0.1, 1e-12);
	assert_rel(c.rent_spot_monthly, 2922.1 * 1.49, 1e-12);        /* $4,353.93 */
	/* all reserved (the default baseline is every replica): 4 GPUs x 730.5 h x $1.79 */
	assert_rel(c.rent_reserved_monthly, 4 * MONTH_H * 1.79, 1e-12);
}

/* An autoscaled day: utility holds 2 replicas for 12 h and 4 for 12 h over a baseline of 2
 * reserved; reasoning holds its 1 reserved TP2 replica all day. */
static void rent_reserved_plus_burst(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"cost.rent.reserved.utility.replicas=2"};
	reference(&sc, sets, 1);
	struct llmcap_usage u = fixed_day("h100-sxm-80gb");
	u.pools[0].replica_hours = 2 * 12 + 4 * 12;      /* 72 */
	u.pools[0].burst_replica_hours = (4 - 2) * 12;   /* 24 above the baseline */
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &u, &c);
	assert_rel(c.rent_reserved_gpus, 2 * 1 + 1 * 2, 0);
	/* burst: 24 GPU-hours a day x 30.4375 = 730.5 a month, on demand */
	assert_rel(c.rent_burst_gpu_hours, 730.5, 1e-12);
	/* reserved 4 GPUs x 730.5 h x $1.79 = 5,230.38 + 730.5 x $2.69 = 1,965.045 */
	assert_rel(c.rent_reserved_monthly, 5230.38 + 1965.045, 1e-12);
	/* on demand for everything held: (72 + 48) x 30.4375 = 3,652.5 GPU-hours x $2.69 */
	assert_rel(c.rent_on_demand_monthly, 3652.5 * 2.69, 1e-12);
	/* the hybrid with rented burst: the owned server plus the burst on demand for 36 months */
	assert_rel(c.hybrid_rent_total, 273200 + 1965.045 * 36, 1e-12);
	/* a 3-year term at a scenario's price */
	const char *three[] = {"cost.rent.reserved.utility.replicas=2", "cost.rent.term_years=3",
			       "cost.gpus.h100-sxm-80gb={server: 155000, opex_monthly: 2450, reserved_3y: 1.2}"};
	reference(&sc, three, 3);
	llmcap_cost_compute(&sc, &u, &c);
	assert_rel(c.rent_reserved_monthly, 4 * MONTH_H * 1.2 + 1965.045, 1e-12);
	/* no 3-year price for the B200: none */
	u.gpu = llmcap_catalog_gpu(&cat, "b200-180gb");
	llmcap_cost_compute(&sc, &u, &c);
	assert_true(isnan(c.rent_reserved_monthly));
}

/* A simulated fixed fleet: every replica held for the whole horizon, those above the pool's
 * reserved baseline as burst (sim/results/usage.c). */
static void usage_of_a_simulated_fleet(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=1h", "cost.rent.reserved.utility.replicas=1"};
	reference(&sc, sets, 2);
	struct llmcap_results res;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_simulate(&sc, &cat, NULL, &res, &err), 0);
	struct llmcap_usage u;
	llmcap_results_usage(&res, &u);
	assert_int_equal(u.n_pools, 2);
	assert_rel(u.pools[0].replica_hours, 2, 1e-15);       /* 2 replicas x 1 h */
	assert_rel(u.pools[0].burst_replica_hours, 1, 1e-15); /* 1 above the 1 reserved */
	assert_rel(u.pools[1].replica_hours, 1, 1e-15);
	assert_int_equal(u.pools[1].gpus_per_replica, 2);
	assert_rel(u.pools[1].baseline_replicas, 1, 0);       /* not named: all reserved */
	struct llmcap_cost c;
	llmcap_results_cost(&res, &c);
	/* 1 burst GPU all month: 730.5 GPU-hours on demand; 1 + 2 GPUs reserved */
	assert_rel(c.rent_burst_gpu_hours, 730.5, 1e-12);
	assert_rel(c.rent_reserved_gpus, 3, 0);
	assert_rel(c.rent_reserved_monthly, 3 * MONTH_H * 1.79 + 730.5 * 2.69, 1e-12);
	llmcap_results_free(&res);
}

/* Pools on different GPUs (pools.NAME.gpu, to come) rent each at its own GPU's prices. */
static void rent_per_pool_gpu(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	reference(&sc, NULL, 0);
	struct llmcap_usage u = fixed_day("h100-sxm-80gb");
	u.pools[0].gpu = llmcap_catalog_gpu(&cat, "b200-180gb");
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &u, &c);
	/* utility: 48 GPU-hours a day x 30.4375 = 1,461 a month on B200s at $5.98 = 8,736.78;
	 * reasoning: 1,461 on H100s at $2.69 = 3,930.09 */
	assert_rel(c.rent_on_demand_monthly, 8736.78 + 3930.09, 1e-12);
	/* spot: the B200 has no published interruption rate (none counted), the H100 0.15 per
	 * replica-month: 1,461 x 0.15 / 730.5 / 6 = 0.05 GPU-hours more */
	assert_rel(c.rent_spot_monthly, 1461 * 2.25 + 1461.05 * 1.49, 1e-12);
	/* no 1-year price for the B200: the reserved option has no price */
	assert_true(isnan(c.rent_reserved_monthly));
}

static void api_with_cached_input_and_batch(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	/* the utility class at Gemini 2.0 Flash's list: $0.10 in, $0.40 out, $0.025 cached, batch
	 * 50% (taken from the catalog by `from`); half its prompt tokens cached, a quarter of its
	 * tokens through the batch API; reasoning at $0.75 without discounts */
	const char *sets[] = {"cost.api.prices.utility={from: google-gemini-2.0-flash, cached_share: 0.5, "
			      "batch_share: 0.25}"};
	reference(&sc, sets, 1);
	assert_rel(sc.cost.api.prices[0].cached_input, 0.025, 0);
	assert_rel(sc.cost.api.prices[0].batch_discount, 0.5, 0);
	struct llmcap_usage u = fixed_day("h100-sxm-80gb");
	u.n_classes = 2;
	u.classes[0].prompt_tokens = 8e7;
	u.classes[0].output_tokens = 2e7;
	u.classes[1].prompt_tokens = 4e7;
	u.classes[1].output_tokens = 1e7;
	u.classes[1].spilled_prompt_tokens = 4e6;
	u.classes[1].spilled_output_tokens = 1e6;
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &u, &c);
	/* utility per day: list 8e7 x 0.10 + 2e7 x 0.40 = $16; cached: - 8e7 x 0.5 x (0.10 - 0.025)
	 * / 1e6 = -$3 -> $13; batch: x (1 - 0.25 x 0.5) = $11.375. Reasoning: 5e7 x 0.75 = $37.50.
	 * A month is 30.4375 days. */
	double days = 30.4375;
	assert_rel(c.api_monthly, (11.375 + 37.5) * days, 1e-12);
	assert_rel(c.api_discount_monthly, (16 - 11.375) * days, 1e-12);
	assert_rel(c.api_total, (11.375 + 37.5) * days * 36, 1e-12);
	/* hybrid: the owned server plus the spilled reasoning tokens (5e6 x $0.75) */
	assert_rel(c.spilled_api_total, 3.75 * days * 36, 1e-12);
	assert_rel(c.hybrid_total, 273200 + 3.75 * days * 36, 1e-12);
}

/* Bad price keys are refused with their place. */
static void bad_price_keys(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *gpu[] = {"cost.gpus.h900={gpu: 1}"};
	assert_int_not_equal(llmcap_scenario_load(&sc, NULL, gpu, 1, &cat, &err), 0);
	assert_non_null(strstr(err.msg, "cost.gpus.h900: 'h900' is not in the GPU catalog"));
	const char *pool[] = {"cost.rent.reserved.nope.replicas=1"};
	assert_int_not_equal(llmcap_scenario_load(&sc, NULL, pool, 1, &cat, &err), 0);
	assert_non_null(strstr(err.msg, "there is no pool 'nope'"));
	const char *term[] = {"cost.rent.term_years=2"};
	assert_int_not_equal(llmcap_scenario_load(&sc, NULL, term, 1, &cat, &err), 0);
	assert_non_null(strstr(err.msg, "expected 1 or 3"));
	const char *flat[] = {"hardware.gpu=b200-180gb", "cost.opex=flat"};
	assert_int_not_equal(llmcap_scenario_load(&sc, NULL, flat, 2, &cat, &err), 0);
	assert_non_null(strstr(err.msg, "cost.opex: flat needs a monthly figure for b200-180gb"));
}

/* Every catalog price carries a source; a missing figure says why. */
static void every_price_has_a_source(void **state)
{
	(void)state;
	for (size_t i = 0; i < cat.n_gpus; i++) {
		const struct llmcap_gpu_prices *p = &cat.gpus[i].price;
		assert_true(p->gpu_source[0] && p->server_source[0] && p->on_demand_source[0] &&
			    p->reserved_source[0] && p->spot_source[0]);
	}
	for (size_t i = 0; i < cat.n_prices; i++)
		if (cat.prices[i].ttft_p50 > 0 || !isnan(cat.prices[i].cached_input))
			assert_true(cat.prices[i].latency_source[0] != '\0');
}

/* The provider's TTFT as a lognormal through its published p50 and p95, slower at peak. */
static void api_latency_distribution(void **state)
{
	(void)state;
	const struct llmcap_price_spec *mini = llmcap_catalog_price(&cat, "openai-gpt-4o-mini");
	assert_non_null(mini);
	/* through its points: p50 536 ms, p95 844 ms */
	assert_int_equal(llmcap_api_ttft_quantile(mini, 0.5, false), 536000000);
	assert_rel((double)llmcap_api_ttft_quantile(mini, 0.95, false), 844e6, 1e-9);
	/* p99 from p50 and p95: sigma = ln(844/536) / 1.64485 = 0.276024; 536 ms x exp(2.32635 x
	 * sigma) = 1,018.68 ms (the published p99, 4,461 ms, has a heavier tail than a lognormal) */
	assert_rel((double)llmcap_api_ttft_quantile(mini, 0.99, false), 1018.68e6, 1e-5);
	/* at the provider's peak, x 1.5 */
	assert_rel((double)llmcap_api_ttft_quantile(mini, 0.5, true), 804e6, 1e-12);
	/* a median alone: no spread to draw from */
	const struct llmcap_price_spec *groq = llmcap_catalog_price(&cat, "groq-llama-3.1-8b");
	assert_int_equal(llmcap_api_ttft_quantile(groq, 0.5, false), 200000000);
	assert_int_equal(llmcap_api_ttft_quantile(groq, 0.9, false), -1);
	/* nothing published */
	assert_int_equal(llmcap_api_ttft_quantile(llmcap_catalog_price(&cat, "guide-small"), 0.5, false), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_financed_with_residual_and_spare),
		cmocka_unit_test(own_power_from_utilisation),
		cmocka_unit_test(price_follows_the_gpu),
		cmocka_unit_test(rent_on_demand_and_spot),
		cmocka_unit_test(rent_reserved_plus_burst),
		cmocka_unit_test(usage_of_a_simulated_fleet),
		cmocka_unit_test(rent_per_pool_gpu),
		cmocka_unit_test(api_with_cached_input_and_batch),
		cmocka_unit_test(bad_price_keys),
		cmocka_unit_test(every_price_has_a_source),
		cmocka_unit_test(api_latency_distribution),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

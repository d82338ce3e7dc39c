/* Capacity search and break-even on a scenario whose answer can be worked out by hand.
 *
 * One class of fixed-length requests (100 prompt + 100 output tokens) on 8B replicas with the
 * linear performance model at a constant 10 ms per step and max_num_seqs 8: a request holds one
 * of a replica's 8 slots for 100 steps (about 1 s), so a replica serves at most ~8 requests/s.
 * At 5, 12 and 20 requests/s the fewest replicas that keep up are 1, 2 and 3 (utilisation 0.63,
 * 0.75 and 0.83); one fewer is overloaded (1.25 or more), and its queue grows for the whole hour,
 * far past the 3 s TTFT target. */
#include "test_util.h"

#include "llmcap/breakeven.h"
#include "llmcap/plan.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static void scenario(struct llmcap_scenario *sc)
{
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	const char *sets[] = {
		"workload.classes={c: {pool: p, prompt: {dist: fixed, value: 100}, "
		"output: {dist: fixed, value: 100}, slo_ttft_p99: 3s, slo_tpot_p99: 50ms}}",
		"workload.diurnal.shape=none",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms}, "
		"max_num_seqs: 8}}",
		"hardware={gpus_per_server: 8}",
		"cost={capex: 300000, opex_monthly: 1000, support_yearly: 0, horizon_years: 3}",
		"cost.api.prices={c: {input: 2, output: 2}}",
		"horizon=1h",
		"seed=3",
	};
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
		if (llmcap_scenario_apply_override(sc, sets[i], &err) != 0)
			fail_msg("%s", err.msg);
	if (llmcap_scenario_check(sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

static double volume(double rate)
{
	return rate * 200 * LLMCAP_MONTH_SECONDS; /* 200 tokens a request */
}

static void smallest_fleet_and_breakeven(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc);
	static const double rates[] = {5, 12, 20};
	static const int64_t expect[] = {1, 2, 3};
	struct llmcap_fleet rows[3];
	struct llmcap_error err = {0};
	for (int i = 0; i < 3; i++) {
		if (llmcap_plan_fleet(&sc, &cat, volume(rates[i]), -1, &rows[i], &err) != 0)
			fail_msg("%s", err.msg);
		assert_true(rows[i].feasible);
		assert_true(rows[i].slo_met);
		assert_int_equal(rows[i].replicas[0], expect[i]);
		assert_int_equal(rows[i].servers, 1);
		assert_rel(rows[i].tokens_per_month, volume(rates[i]), 1e-12);
		/* monotone: more volume never needs fewer replicas */
		if (i > 0)
			assert_true(rows[i].replicas[0] >= rows[i - 1].replicas[0]);
	}
	/* one server: $300,000 + 36 x $1,000 = $336,000 = $9,333.33/month; the API at $2 per 1M
	 * tokens costs the same at 4.667B tokens/month, between the first two volumes. The API
	 * bills come from the simulated (Poisson) traffic of one hour, 0.5-0.8% standard deviation
	 * at these volumes, which the interpolation roughly triples: 4% covers it. */
	assert_rel(rows[0].cost.self_total, 336000, 1e-12);
	double by_hand = 336000.0 / 36 / 2 * 1e6;
	assert_rel(llmcap_plan_breakeven(rows, 3), by_hand, 0.04);
	/* the API's bill grows with the simulated traffic (Poisson, so within a few percent) */
	assert_rel(rows[1].cost.api_monthly, volume(12) * 2 / 1e6, 0.03);
}

struct told {
	size_t calls, last, total;
};

static void tell(void *user, size_t done, size_t total)
{
	struct told *t = user;
	t->calls++;
	assert_true(done > t->last); /* one call at a time, counting up */
	t->last = done;
	t->total = total;
}

/* The break-even study: a row per (precision, volume), dtype-major, each the smallest fleet
 * llmcap_plan_fleet finds; the same rows on one thread or three; progress told per point. */
static void breakeven_search(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc);
	int dtypes[3];
	size_t nd = llmcap_breakeven_default_dtypes(&sc, &cat, dtypes);
	assert_int_equal(nd, 3);
	assert_int_equal(dtypes[0], LLMCAP_DTYPE_BF16);
	assert_int_equal(dtypes[1], LLMCAP_DTYPE_FP8);
	assert_int_equal(dtypes[2], LLMCAP_DTYPE_INT4_AWQ);
	const double volumes[] = {volume(5), volume(12)};
	const int two[] = {LLMCAP_DTYPE_BF16, LLMCAP_DTYPE_FP8};
	struct llmcap_fleet one[4], three[4];
	struct told t = {0};
	struct llmcap_breakeven_spec spec = {.volumes = volumes, .n_volumes = 2, .dtypes = two,
					     .n_dtypes = 2, .threads = 1,
					     .progress = {.fn = tell, .user = &t}};
	struct llmcap_error err = {0};
	if (llmcap_breakeven_search(&sc, &cat, &spec, one, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(t.calls, 4);
	assert_int_equal(t.last, 4);
	assert_int_equal(t.total, 4);
	spec.threads = 3;
	spec.progress.fn = NULL;
	if (llmcap_breakeven_search(&sc, &cat, &spec, three, &err) != 0)
		fail_msg("%s", err.msg);
	static const int64_t expect[] = {1, 2};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(one[i].dtype, two[i / 2]);
		assert_int_equal(one[i].replicas[0], expect[i % 2]);
		assert_int_equal(three[i].replicas[0], one[i].replicas[0]);
		assert_true(three[i].cost.api_total == one[i].cost.api_total);
		assert_rel(one[i].tokens_per_month, volumes[i % 2], 1e-12);
	}
}

static void breakeven_edges(void **state)
{
	(void)state;
	struct llmcap_fleet r[2];
	memset(r, 0, sizeof r);
	r[0].feasible = r[1].feasible = true;
	r[0].tokens_per_month = 1e9;
	r[1].tokens_per_month = 2e9;
	/* the API cheaper throughout: no break-even */
	r[0].cost.self_total = r[1].cost.self_total = 100;
	r[0].cost.api_total = 10;
	r[1].cost.api_total = 20;
	assert_true(isnan(llmcap_plan_breakeven(r, 2)));
	/* owning cheaper from the start: the first volume */
	r[0].cost.api_total = 200;
	assert_rel(llmcap_plan_breakeven(r, 2), 1e9, 0);
	/* a crossing: linear in between (self 100 flat; API 50 -> 150) */
	r[0].cost.api_total = 50;
	r[1].cost.api_total = 150;
	assert_rel(llmcap_plan_breakeven(r, 2), 1.5e9, 1e-12);
	/* an infeasible point is skipped */
	r[0].feasible = false;
	assert_rel(llmcap_plan_breakeven(r, 2), 2e9, 0);
}

/* Hand-computed owned-hardware arithmetic: per-GPU pricing, financing, residual value, power. */
static void owned_cost_arithmetic(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc);
	struct llmcap_error err = {0};
	const char *sets[] = {"cost.capex_per_gpu=30000", "cost.chassis=20000",
			      "cost.residual_fraction=0.1", "cost.cost_of_capital=0.08",
			      "cost.opex=power", "cost.power={pue: 1.5, electricity: 0.2, colocation: 100, "
			      "other_watts: 1000}", "horizon=1h", "workload.rate=1/s"};
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
		assert_int_equal(llmcap_scenario_apply_override(&sc, sets[i], &err), 0);
	assert_int_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
	struct llmcap_results res;
	assert_int_equal(llmcap_simulate(&sc, &cat, NULL, &res, &err), 0);
	struct llmcap_cost c;
	llmcap_results_cost(&res, &c);
	double price = 20000 + 8 * 30000.0; /* chassis + 8 GPUs */
	assert_rel(c.server_price, price, 1e-15);
	/* annuity at 8% over 3 years, less 10% back at the end */
	double annuity = price * 0.08 / (1 - pow(1.08, -3));
	assert_rel(c.capex, annuity * 3 - 0.1 * price, 1e-12);
	/* power: 8 GPUs at idle, the busy one up to TDP, 1 kW more; colocation on 8 x TDP + 1 kW */
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	double busy = (double)res.replicas[0].busy / (double)res.horizon;
	double watts = 8 * g->idle_watts + busy * (g->tdp_watts - g->idle_watts) + 1000;
	assert_rel(c.avg_power_watts, watts, 1e-12);
	double month_h = 365.25 / 12 * 24;
	double opex = watts / 1e3 * 1.5 * month_h * 0.2 + (8 * g->tdp_watts + 1000) / 1e3 * 100;
	assert_rel(c.opex_monthly, opex, 1e-12);
	assert_rel(c.self_total, c.capex + 36 * opex, 1e-12);
	llmcap_results_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smallest_fleet_and_breakeven),
		cmocka_unit_test(breakeven_edges),
		cmocka_unit_test(breakeven_search),
		cmocka_unit_test(owned_cost_arithmetic),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

/* The decision (sim/study/decide.c) on test_plan.c's hand-workable scenario: one class of fixed
 * 100 + 100-token requests on 8B replicas at a constant 10 ms per step, 8 slots, so a replica
 * serves at most ~8 requests/s; one server of 8 GPUs priced flat ($300,000, $1,000 a month).
 *
 * - hand-checked costs of every option of a small case, from the catalog's H100 rental prices;
 * - a property over random small scenarios: the recommended option meets every SLO when its own
 *   fleet is simulated again, and no option in a brute-forced space (every fleet of 1 to 6
 *   replicas owned or rented, every owned baseline below the smallest fleet with spill, the API)
 *   that meets the SLOs is cheaper;
 * - the API can miss: a provider whose published p99 TTFT at peak is above the target is never
 *   recommended. */
#include "test_util.h"

#include "llmcap/decide.h"
#include "llmcap/report.h"

#include <math.h>
#include <stdlib.h>

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static void apply(struct llmcap_scenario *sc, const char *set)
{
	struct llmcap_error err = {0};
	if (llmcap_scenario_apply_override(sc, set, &err) != 0)
		fail_msg("%s: %s", set, err.msg);
}

static void scenario(struct llmcap_scenario *sc, double rate, const char *step, const char *ttft,
		     const char *api)
{
	struct llmcap_error err = {0};
	char buf[512];
	llmcap_scenario_defaults(sc);
	snprintf(buf, sizeof buf,
		 "workload.classes={c: {pool: p, prompt: {dist: fixed, value: 100}, "
		 "output: {dist: fixed, value: 100}, slo_ttft_p99: %s, slo_tpot_p99: 50ms}}", ttft);
	apply(sc, buf);
	apply(sc, "workload.diurnal.shape=none");
	snprintf(buf, sizeof buf,
		 "pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: %s}, "
		 "max_num_seqs: 8}}", step);
	apply(sc, buf);
	apply(sc, "hardware={gpu: h100-sxm-80gb, gpus_per_server: 8}");
	apply(sc, "cost={capex: 300000, opex_monthly: 1000, support_yearly: 0, horizon_years: 3}");
	snprintf(buf, sizeof buf, "cost.api.prices={c: %s}", api);
	apply(sc, buf);
	apply(sc, "horizon=1h");
	apply(sc, "seed=3");
	snprintf(buf, sizeof buf, "workload.rate=%g/s", rate);
	apply(sc, buf);
	if (llmcap_scenario_check(sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

static const struct llmcap_decide_option *find(const struct llmcap_decision *d,
					       enum llmcap_option o)
{
	for (size_t i = 0; i < d->n_options; i++)
		if (d->options[i].option == o)
			return &d->options[i];
	fail_msg("option %s missing", llmcap_option_names[o]);
	return NULL;
}

static void decide(const struct llmcap_scenario *sc, size_t seeds, struct llmcap_decision *d)
{
	struct llmcap_error err = {0};
	struct llmcap_decide_spec spec = {.tokens_per_month = NAN, .seeds = seeds, .threads = 2};
	if (llmcap_decide(sc, &cat, &spec, d, &err) != 0)
		fail_msg("%s", err.msg);
}

/* 12 requests/s: 2 replicas (test_plan.c), one server. */
static void hand_checked_costs(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc, 12, "10ms", "3s", "{input: 2, output: 2}");
	struct llmcap_decision *d = malloc(sizeof *d);
	decide(&sc, 2, d);
	const struct llmcap_gpu_prices *pr = &llmcap_catalog_gpu(&cat, "h100-sxm-80gb")->price;
	const struct llmcap_decide_option *own = find(d, LLMCAP_OPTION_OWN);
	assert_true(own->sized && own->slo_met);
	assert_int_equal(own->replicas[0], 2);
	assert_int_equal(own->gpus, 2);
	assert_int_equal(own->servers, 1);
	/* $300,000 + 36 x $1,000 over 36 months, on every seed */
	assert_rel(own->monthly, 336000.0 / 36, 1e-9);
	/* a fixed rented fleet holds 2 GPUs all 730.5 hours of the month */
	double held = 2 * 365.25 / 12 * 24;
	assert_rel(find(d, LLMCAP_OPTION_RENT_ON_DEMAND)->monthly, held * pr->on_demand, 1e-9);
	/* reserved (1-year term by default), every replica reserved: no burst */
	assert_rel(find(d, LLMCAP_OPTION_RENT_RESERVED)->monthly, held * pr->reserved_1y, 1e-9);
	/* spot: each interruption (per replica-month) holds a replacement for spot_restart */
	double restart_h = (double)sc.cost.rent.spot_restart / (double)LLMCAP_HOUR;
	double per_replica_hour = pr->spot_interruptions / (365.25 / 12 * 24);
	assert_rel(find(d, LLMCAP_OPTION_RENT_SPOT)->monthly,
		   held * (1 + per_replica_hour * restart_h) * pr->spot, 1e-9);
	/* the API: $2 per 1M tokens of the simulated demand, per 1M tokens exactly $2 */
	const struct llmcap_decide_option *api = find(d, LLMCAP_OPTION_API);
	assert_rel(api->per_1m, 2.0, 1e-9);
	assert_rel(api->monthly, 12 * 200 * LLMCAP_MONTH_SECONDS * 2 / 1e6, 0.03);
	assert_false(api->latency_checked); /* no provider named */
	/* the cheapest of these is the decision, and it is not the dearer runner-up */
	assert_true(d->best >= 0 && d->runner_up >= 0);
	assert_true(d->options[d->best].monthly <= d->options[d->runner_up].monthly);
	for (size_t i = 0; i < d->n_options; i++)
		if (d->options[i].sized && d->options[i].slo_met && isfinite(d->options[i].monthly))
			assert_true(d->options[d->best].monthly <= d->options[i].monthly);
	free(d);
}

/* An API whose published p99 TTFT at its peak (4.46 s x 1.5) is above a 3 s target misses; with
 * a 10 s target it meets it. */
static void api_latency_can_miss(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_decision *d = malloc(sizeof *d);
	scenario(&sc, 5, "10ms", "3s", "{from: openai-gpt-4o-mini}");
	decide(&sc, 1, d);
	const struct llmcap_decide_option *api = find(d, LLMCAP_OPTION_API);
	assert_true(api->latency_checked);
	assert_false(api->slo_met);
	assert_true(d->best < 0 || d->options[d->best].option != LLMCAP_OPTION_API);
	scenario(&sc, 5, "10ms", "10s", "{from: openai-gpt-4o-mini}");
	decide(&sc, 1, d);
	api = find(d, LLMCAP_OPTION_API);
	assert_true(api->slo_met);
	/* at 5 requests/s the API ($0.15 + $0.60 per 1M) is far below a $9,333 server */
	assert_int_equal(d->options[d->best].option, LLMCAP_OPTION_API);
	free(d);
}

struct judged {
	bool met;
	struct llmcap_cost cost;
};

/* Simulates `sc` with `n` replicas (spill on when hybrid) and judges it as the study does. */
static struct judged run_fleet(const struct llmcap_scenario *base, int64_t n, bool hybrid,
			       const struct llmcap_decide_option *as)
{
	struct llmcap_scenario sc = *base;
	struct llmcap_error err = {0};
	sc.pools[0].replicas = n;
	sc.hardware.servers = 1;
	if (as && as->dtype >= 0)
		sc.pools[0].dtype = (enum llmcap_dtype)as->dtype;
	if (hybrid)
		sc.pools[0].spill.waiting_above = 1;
	if (llmcap_scenario_check(&sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	struct llmcap_results res;
	struct llmcap_summary sum;
	if (llmcap_simulate(&sc, &cat, NULL, &res, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	struct judged j = {.met = sum.peak.all_slo_met && sum.classes[0].rejected == 0};
	llmcap_results_cost(&res, &j.cost);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	return j;
}

static double cost_of(const struct llmcap_cost *k, enum llmcap_option o)
{
	switch (o) {
	case LLMCAP_OPTION_OWN: return k->self_monthly;
	case LLMCAP_OPTION_RENT_ON_DEMAND: return k->rent_on_demand_monthly;
	case LLMCAP_OPTION_RENT_RESERVED: return k->rent_reserved_monthly;
	case LLMCAP_OPTION_RENT_SPOT: return k->rent_spot_monthly;
	case LLMCAP_OPTION_HYBRID: return k->hybrid_total / k->months;
	default: return k->api_monthly;
	}
}

static void recommended_is_cheapest_that_meets(void **state)
{
	(void)state;
	srand(21);
	static const char *steps[] = {"8ms", "10ms", "12ms"};
	static const char *ttfts[] = {"1s", "3s"};
	struct llmcap_decision *d = malloc(sizeof *d);
	for (int trial = 0; trial < 6; trial++) {
		double rate = 3 + 25.0 * rand() / RAND_MAX;          /* needs 1 to ~5 replicas */
		double price = 0.5 + 20.0 * rand() / RAND_MAX;        /* USD per 1M tokens */
		char api[96];
		snprintf(api, sizeof api, "{input: %.3f, output: %.3f}", price, price);
		struct llmcap_scenario sc;
		scenario(&sc, rate, steps[rand() % 3], ttfts[rand() % 2], api);
		decide(&sc, 1, d);
		/* brute force: every fleet, every option, every hybrid baseline */
		double cheapest = INFINITY;
		int64_t smallest = 0;
		for (int64_t n = 1; n <= 6; n++) {
			struct judged j = run_fleet(&sc, n, false, NULL);
			if (!j.met)
				continue;
			if (!smallest)
				smallest = n;
			for (int o = LLMCAP_OPTION_RENT_ON_DEMAND; o < LLMCAP_OPTION_COUNT; o++)
				cheapest = fmin(cheapest, cost_of(&j.cost, (enum llmcap_option)o));
			cheapest = fmin(cheapest, j.cost.api_monthly);
		}
		for (int64_t b = 1; b < smallest; b++) {
			struct judged j = run_fleet(&sc, b, true, NULL);
			if (j.met)
				cheapest = fmin(cheapest, cost_of(&j.cost, LLMCAP_OPTION_HYBRID));
		}
		if (!smallest) {
			/* nothing owned met the SLOs: only the API can be recommended */
			assert_true(d->best < 0 || d->options[d->best].option == LLMCAP_OPTION_API);
			continue;
		}
		assert_true(d->best >= 0);
		const struct llmcap_decide_option *b = &d->options[d->best];
		/* no cheaper option met the SLOs (the API's bill differs by no simulation) */
		assert_true(b->monthly <= cheapest * (1 + 1e-9));
		/* and the recommended one meets them in its own run */
		if (b->option != LLMCAP_OPTION_API) {
			struct judged j = run_fleet(&sc, b->replicas[0],
						    b->option == LLMCAP_OPTION_HYBRID, b);
			assert_true(j.met);
			assert_rel(cost_of(&j.cost, b->option), b->monthly, 1e-9);
		}
		assert_int_equal(find(d, LLMCAP_OPTION_OWN)->replicas[0], smallest);
	}
	free(d);
}

/* A fleet is chosen only if it meets the SLOs on every seed: per pool the largest of the seeds'
 * smallest fleets, and never smaller than any seed's. */
static void fleet_meets_every_seed(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc, 15.5, "10ms", "3s", "{input: 2, output: 2}");
	struct llmcap_decision *d = malloc(sizeof *d);
	decide(&sc, 3, d);
	const struct llmcap_decide_option *own = find(d, LLMCAP_OPTION_OWN);
	assert_true(own->sized && own->slo_met);
	assert_true((double)own->replicas[0] >= own->replicas_mean[0]);
	for (uint64_t s = 0; s < 3; s++) {
		struct llmcap_scenario v = sc;
		v.seed = sc.seed + s;
		assert_true(run_fleet(&v, own->replicas[0], false, NULL).met);
	}
	free(d);
}

/* The fast search's approximation (llmcap_plan_window, llmcap_plan_month_cost): on a daily
 * curve, the fleet sized on the busiest-hour window meets every SLO in a full day's run, its
 * own and rented cost equal the full run's (they depend on the fleet alone) and its API bill
 * is within 2% (demand from the mean rate, not the day's draws); one replica fewer misses in
 * the window (the search's own evaluation). */
static void window_agrees_with_full_run(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(3 * sizeof *sc), *full = sc + 1, *win = sc + 2;
	assert_non_null(sc);
	struct llmcap_error err = {0};
	scenario(sc, 3, "10ms", "300ms", "{input: 1, output: 1}");
	apply(sc, "workload.diurnal={shape: smooth, peak_to_mean: 3, peak_hour: 14}");
	apply(sc, "horizon=1d");
	assert_true(llmcap_plan_window(sc, win));
	assert_true(win->horizon < sc->horizon);
	struct llmcap_fleet fast;
	if (llmcap_plan_fleet_fast(sc, &cat, NAN, -1, NULL, NULL, true, &fast, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(fast.feasible);
	*full = *sc;
	full->pools[0].replicas = fast.replicas[0];
	full->hardware.servers = fast.servers;
	struct llmcap_results res;
	struct llmcap_summary sum;
	if (llmcap_simulate(full, &cat, NULL, &res, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	assert_true(sum.peak.all_slo_met);
	struct llmcap_cost k;
	llmcap_results_cost(&res, &k);
	assert_true(fabs(fast.cost.self_monthly - k.self_monthly) <= 1e-6 * k.self_monthly);
	assert_true(fabs(fast.cost.rent_on_demand_monthly - k.rent_on_demand_monthly) <=
		    1e-6 * k.rent_on_demand_monthly);
	assert_true(fabs(fast.cost.api_monthly - k.api_monthly) <= 0.02 * k.api_monthly);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	if (fast.replicas[0] > 1) {
		full->pools[0].replicas = fast.replicas[0] - 1;
		assert_true(llmcap_plan_window(full, win));
		if (llmcap_simulate(win, &cat, NULL, &res, &err) != 0)
			fail_msg("%s", err.msg);
		assert_int_equal(llmcap_summarize(&res, &sum), 0);
		assert_false(sum.peak.all_slo_met);
		llmcap_summary_free(&sum);
		llmcap_results_free(&res);
	}
	llmcap_scenario_free(sc);
	free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hand_checked_costs),
		cmocka_unit_test(api_latency_can_miss),
		cmocka_unit_test(recommended_is_cheapest_that_meets),
		cmocka_unit_test(fleet_meets_every_seed),
		cmocka_unit_test(window_agrees_with_full_run),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

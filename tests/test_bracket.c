/* The closed-form bracket of the capacity search (plan.h llmcap_plan_bound, issue 21):
 * - the lower bound never exceeds the smallest fleet the search finds (the reference scenario
 *   at several volumes and precisions, and a hand-workable constant-step case where it is
 *   tight: the bound is the answer or one below it);
 * - the decision with the bracket returns the same fleets, on every seed, as without it, in no
 *   more simulations;
 * - a target below the latency floor at zero load is unreachable, with the reason, and a
 *   large fleet at low load indeed misses it. */
#include "test_util.h"
#include "test_scenario.h"

#include "llmcap/decide.h"
#include "llmcap/plan.h"
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

static void load(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(sc, NULL, sets, n, &cat, &err))
		fail_msg("%s", err.msg);
}

static void bound_of(const struct llmcap_scenario *sc, struct llmcap_plan_bound *b)
{
	struct llmcap_error err = {0};
	if (llmcap_plan_bound(sc, &cat, b, &err))
		fail_msg("%s", err.msg);
}

/* The reference scenario: at each volume and precision the bound is at most the fleet the
 * (fast) search finds, and it is informative (above 1) at the larger volumes. */
static void bound_below_the_answer(void **state)
{
	(void)state;
	/* (100B in BF16 takes 214 reasoning replicas: slow for a unit test; bench/decide_bracket
	 * covers the default study's volumes) */
	static const double volumes[] = {2e9, 10e9, 30e9};
	static const char *const dtypes[] = {"bf16", "fp8", "int4-awq"};
	bool informative = false;
	for (size_t d = 0; d < 3; d++)
		for (size_t v = 0; v < 3; v++) {
			struct llmcap_scenario sc;
			char vol[64], dt[64];
			snprintf(vol, sizeof vol, "workload.tokens_per_month=%g", volumes[v]);
			snprintf(dt, sizeof dt, "pools.reasoning.dtype=%s", dtypes[d]);
			const char *sets[] = {vol, "workload.rate=null", dt};
			load(&sc, sets, 3);
			struct llmcap_plan_bound b;
			bound_of(&sc, &b);
			assert_false(b.unreachable);
			struct llmcap_fleet f;
			struct llmcap_error err = {0};
			if (llmcap_plan_fleet_fast(&sc, &cat, NAN, -1, NULL, NULL, true, &f, &err))
				fail_msg("%s", err.msg);
			assert_true(f.feasible);
			for (size_t p = 0; p < sc.n_pools; p++) {
				print_message("%s %.0fB %s: bound %lld (%.2f replicas of work), answer %lld\n",
					      dtypes[d], volumes[v] / 1e9, sc.pools[p].name,
					      (long long)b.lower[p], b.demand[p], (long long)f.replicas[p]);
				assert_true(b.lower[p] <= f.replicas[p]);
				informative |= b.lower[p] > 1;
			}
		}
	assert_true(informative);
}

/* test_decide.c's hand-workable case: one class of fixed 100 + 100-token requests on 8B
 * replicas at a constant `step` per step, 8 slots: a replica decodes at most 8 tokens a step,
 * so its throughput is known in closed form (the bound is tight). */
static void hand_case(struct llmcap_scenario *sc, double rate, const char *step)
{
	static const char *const base[] = {
		"workload.classes={c: {pool: p, prompt: {dist: fixed, value: 100}, "
		"output: {dist: fixed, value: 100}, slo_ttft_p99: 1s, slo_tpot_p99: 50ms}}",
		"workload.diurnal.shape=none",
		"hardware={gpu: h100-sxm-80gb, gpus_per_server: 8}",
		"cost={capex: 300000, opex_monthly: 1000, support_yearly: 0, horizon_years: 3}",
		"cost.api.prices={c: {input: 1, output: 1}}",
		"horizon=1h",
		"seed=3"};
	char pool[512], r[64];
	snprintf(pool, sizeof pool,
		 "pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: %s}, "
		 "max_num_seqs: 8}}", step);
	snprintf(r, sizeof r, "workload.rate=%g/s", rate);
	const char *const sets[] = {pool, r};
	test_scenario_build(sc, &cat, base, sizeof base / sizeof *base, sets, 2, true);
}

/* The decision with and without the bracket: the same fleets on every seed and the same
 * costs, in no more simulations; on the hand case, where the bound is the answer or one below
 * it, in fewer. */
static void same_answer_fewer_simulations(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	hand_case(&sc, 40, "10ms");
	/* 99 decode steps of 10 ms for 8 requests: 0.124 s a request, 40/s: ~5 replicas */
	struct llmcap_plan_bound b;
	bound_of(&sc, &b);
	const double n = 40 * 3600.0, w = 99 * 0.010 / 8; /* requests, seconds of work each */
	/* less 6 standard deviations of the compound Poisson work (sqrt(n) w for fixed lengths) */
	assert_rel(b.demand[0], 0.97 * (n * w - 6 * sqrt(n) * w) / (3600 + 1 + 0.05 * 99), 1e-9);
	const double tokens = 200 * LLMCAP_MONTH_SECONDS;
	const double volumes[] = {20 * tokens, 40 * tokens, 55 * tokens};
	struct llmcap_decision *rows[2] = {calloc(3, sizeof **rows), calloc(3, sizeof **rows)};
	struct llmcap_error err = {0};
	int sims[2] = {0};
	for (int k = 0; k < 2; k++) {
		struct llmcap_decide_spec spec = {.tokens_per_month = NAN, .seeds = 2, .threads = 2,
						  .no_bracket = k == 1};
		if (llmcap_decide_volumes(&sc, &cat, &spec, volumes, 3, rows[k], &err))
			fail_msg("%s", err.msg);
		for (size_t v = 0; v < 3; v++)
			sims[k] += rows[k][v].simulations;
	}
	for (size_t v = 0; v < 3; v++) {
		assert_int_equal(rows[0][v].n_options, rows[1][v].n_options);
		assert_int_equal(rows[0][v].best, rows[1][v].best);
		for (size_t i = 0; i < rows[0][v].n_options; i++) {
			const struct llmcap_decide_option *a = &rows[0][v].options[i],
							  *o = &rows[1][v].options[i];
			assert_memory_equal(a->replicas, o->replicas, sizeof a->replicas);
			assert_memory_equal(a->replicas_mean, o->replicas_mean, sizeof a->replicas_mean);
			assert_int_equal(a->slo_met, o->slo_met);
			if (isfinite(o->monthly))
				assert_rel(a->monthly, o->monthly, 1e-12);
		}
	}
	/* the own fleet at 40/s against the bound: tight */
	int64_t own = 0;
	for (size_t i = 0; i < rows[0][1].n_options; i++)
		if (rows[0][1].options[i].option == LLMCAP_OPTION_OWN)
			own = rows[0][1].options[i].replicas[0];
	print_message("bound %lld (%.2f replicas of work), own fleet %lld; simulations %d with the "
		      "bracket, %d without\n", (long long)b.lower[0], b.demand[0], (long long)own,
		      sims[0], sims[1]);
	assert_true(b.lower[0] <= own && own <= b.lower[0] + 1);
	assert_true(sims[0] < sims[1]);
	free(rows[0]);
	free(rows[1]);
}

/* A step of 60 ms against a 50 ms TPOT target: unreachable at any fleet size, said so with the
 * reason; a fleet of 8 at a twentieth of a replica's load indeed misses it; decide reports the
 * reason for a second GPU without searching it, and the same verdicts as without the bracket. */
static void latency_floor_unreachable(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	hand_case(&sc, 5, "60ms");
	struct llmcap_plan_bound b;
	bound_of(&sc, &b);
	assert_true(b.unreachable);
	assert_contains(b.why, "class c");
	assert_contains(b.why, "60.0 ms, above its TPOT target of 50.0 ms");
	struct llmcap_scenario big = sc;
	big.pools[0].replicas = 8;
	big.workload.rate = 0.3;
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	if (llmcap_simulate(&big, &cat, NULL, &res, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	assert_false(sum.peak.all_slo_met);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	/* the 10 ms step meets it: no floor */
	hand_case(&sc, 5, "10ms");
	bound_of(&sc, &b);
	assert_false(b.unreachable);

	hand_case(&sc, 5, "60ms");
	const char *gpus[] = {"h100-sxm-80gb", "h200-141gb"};
	struct llmcap_decision *d[2] = {malloc(sizeof **d), malloc(sizeof **d)};
	for (int k = 0; k < 2; k++) {
		struct llmcap_decide_spec spec = {.tokens_per_month = NAN, .seeds = 1, .threads = 2,
						  .gpus = gpus, .n_gpus = 2, .no_bracket = k == 1};
		if (llmcap_decide(&sc, &cat, &spec, d[k], &err))
			fail_msg("%s", err.msg);
	}
	for (size_t i = 0; i < d[0]->n_options; i++) {
		const struct llmcap_decide_option *a = &d[0]->options[i], *o = &d[1]->options[i];
		assert_int_equal(a->sized, o->sized);
		assert_int_equal(a->slo_met && a->sized, o->slo_met && o->sized);
		if (a->option == LLMCAP_OPTION_OWN && !strcmp(a->gpu, "h200-141gb")) {
			assert_false(a->sized);
			assert_contains(a->why, "above its TPOT target");
		}
	}
	print_message("simulations %d with the bracket, %d without\n", d[0]->simulations,
		      d[1]->simulations);
	assert_true(d[0]->simulations < d[1]->simulations);
	free(d[0]);
	free(d[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bound_below_the_answer),
		cmocka_unit_test(same_answer_fewer_simulations),
		cmocka_unit_test(latency_floor_unreachable),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

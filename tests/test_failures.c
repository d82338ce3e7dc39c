/* Failures and maintenance (pools.NAME.failures, docs/engine.md "Failures and maintenance"): a
 * scripted failure's in-flight request is retried on the other replica and ends exactly when
 * the recompute arithmetic says; a maintenance window's availability by hand, with a drain
 * that waits for the request in flight and a router that skips the draining replica;
 * conservation under frequent failures, spares and maintenance; the fast mode's digest is the
 * exact mode's, and the same seed gives the same run.
 *
 * The linear performance model (10 ms a step plus 50 us a batched token) makes every step's
 * time a hand calculation. */
#include "test_records.h"
#include "test_scenario.h"

#include "llmcap/sim.h"
#include "llmcap/workload.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static void apply(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	static const char *const base[] = {
		"workload.classes={c: {pool: p, prompt: {dist: fixed, value: 200}, "
		"output: {dist: fixed, value: 20}}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, max_num_seqs: 64, "
		"router: round-robin, replicas: 2, "
		"linear: {per_step: 10ms, per_token_us: 50}, "
		"profile: {step_overhead: 0s, seq_overhead: 0s, async_scheduling: false}}}",
		"hardware={gpus_per_server: 1, servers: 2}",
		"cost.api.prices={c: {input: 1, output: 1}}",
		"horizon=30min",
	};
	test_scenario_build(sc, &cat, base, sizeof base / sizeof base[0], sets, n, false);
}

static void scenario(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	apply(sc, sets, n);
	if (llmcap_scenario_check(sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

/* Replica 0 fails at t = 1 s during a request (prompt 200, output 100) sent at 0:
 *   step 1 (the prompt) = 10 ms + 200 x 50 us = 20 ms: the first token at 0.020 s; then decode
 *   steps of 10.05 ms: at 1 s, 97 decodes have ended (0.020 + 97 x 0.01005 = 0.99485 s), so 98
 *   tokens are out and the 99th step is lost.
 *   retried at 1 s on replica 1: its KV lost, prompt + 98 tokens = 298 recomputed in one step of
 *   10 ms + 298 x 50 us = 24.9 ms, which emits token 99; one more decode (10.05 ms) emits 100:
 *   the request ends at 1 + 0.0249 + 0.01005 = 1.03495 s, TTFT still 20 ms.
 * Replica 0 is out from 1 s to 1 s + restart_time (10 min) = 600 s of 2 x 1800 replica-seconds:
 * availability 1 - 600 / 3600. */
static void failure_retries_by_hand(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.classes.c.output={dist: fixed, value: 100}",
			      "pools.p.failures={scripted_at: 1s, scripted_replica: 0, restart_time: 10min}"};
	scenario(&sc, sets, 2);
	const struct llmcap_scripted_request script[] = {{.time = 0, .cls = 0, .prompt = 200, .output = 100}};
	struct test_run_records t = {0};
	struct llmcap_results res;
	test_records_run(&cat, &sc, script, 1, &t, &res);
	assert_int_equal(t.n, 1);
	const struct llmcap_request_record *r = &t.r[0];
	assert_int_equal(r->status, LLMCAP_REQ_COMPLETED);
	assert_int_equal(r->replica, 1);
	assert_int_equal(r->generated_tokens, 100);
	assert_true(fabs(r->ttft - 0.020) < 1e-9);
	assert_true(fabs(r->e2e - 1.03495) < 1e-9);
	assert_true(fabs(r->max_gap - (1.0249 - 0.99485)) < 1e-9); /* the lost step's stall */
	assert_int_equal(res.failures[0].failures, 1);
	assert_int_equal(res.failures[0].retries, 1);
	assert_int_equal(r->retries, 1); /* its row counts the retry */
	assert_int_equal(res.failures[0].out_time, 600 * LLMCAP_SEC);
	assert_int_equal(res.classes[0].completed, 1);
	/* replica 0 was busy until the failure, replica 1 for the retry's two steps */
	assert_int_equal(res.replicas[0].busy, LLMCAP_SEC);
	assert_int_equal(res.replicas[1].busy, 34950000);
	llmcap_results_free(&res);

	/* with a spare, the replica is back after swap_time (2 min): out 120 s */
	const char *sets2[] = {sets[0], "pools.p.failures={scripted_at: 1s, restart_time: 10min, spares: 1, swap_time: 2min}"};
	struct llmcap_scenario sc2;
	scenario(&sc2, sets2, 2);
	test_records_run(&cat, &sc2, script, 1, &t, &res);
	assert_int_equal(res.failures[0].spares_used, 1);
	assert_int_equal(res.failures[0].out_time, 120 * LLMCAP_SEC);
	assert_true(fabs(t.r[0].e2e - 1.03495) < 1e-9);
	llmcap_results_free(&res);
	free(t.r);
	llmcap_scenario_free(&sc);
	llmcap_scenario_free(&sc2);
}

/* Maintenance {start: 10 min, duration: 5 min} on two replicas over 1 h: replica 0's window at
 * 600 s, replica 1's at 900 s. A request (output 100) sent at 599.9 s to replica 0 ends at
 * 599.9 + 0.020 + 99 x 0.01005 = 600.91495 s: replica 0 drains until then (out from 600 s),
 * is down 300 s, back at 900.91495 s; replica 1 has nothing in flight at 900 s: out exactly
 * 300 s. Out: 600.91495 s of 7200: availability 0.916540... Requests sent at 600.5 s and
 * 600.6 s both go to replica 1 (round-robin would send the second to replica 0, draining). */
static void maintenance_availability_by_hand(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.classes.c.output={dist: fixed, value: 100}",
			      "pools.p.failures={maintenance: {start: 10min, duration: 5min}}",
			      "horizon=1h"};
	scenario(&sc, sets, 3);
	const struct llmcap_scripted_request script[] = {
		{.time = 599900000000, .cls = 0, .prompt = 200, .output = 100},
		{.time = 600500000000, .cls = 0, .prompt = 200, .output = 100},
		{.time = 600600000000, .cls = 0, .prompt = 200, .output = 100}};
	struct test_run_records t = {0};
	struct llmcap_results res;
	test_records_run(&cat, &sc, script, 3, &t, &res);
	assert_int_equal(t.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(t.r[i].status, LLMCAP_REQ_COMPLETED);
		assert_int_equal(t.r[i].replica, t.r[i].id == 0 ? 0 : 1);
	}
	assert_int_equal(res.failures[0].maintenance_windows, 2);
	assert_int_equal(res.failures[0].out_time, 600914950000);
	double availability = 1.0 - (double)res.failures[0].out_time / (2.0 * 3600e9);
	assert_rel(availability, 1.0 - 600.91495 / 7200.0, 1e-12);
	assert_int_equal(res.failures[0].retries, 0); /* maintenance never drops a request */
	llmcap_results_free(&res);
	free(t.r);
	llmcap_scenario_free(&sc);
}

static const char *busy_sets[] = {
	"workload.rate=3/s",
	"workload.diurnal.shape=none",
	"workload.classes.c.prompt={dist: lognormal, median: 300, sigma: 0.6}",
	"workload.classes.c.output={dist: geometric, mean: 80}",
	"pools.p.replicas=3",
	"hardware.servers=3",
	"pools.p.failures={gpu_failures_per_gpu_day: 100, server_failures_per_day: 50, "
	"restart_time: 3min, spares: 1, swap_time: 30s, "
	"maintenance: {start: 20min, duration: 4min, every: 1h}}",
	"horizon=3h",
};

static int by_id(const void *a, const void *b)
{
	const struct llmcap_request_record *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Frequent failures (a replica every ~10 min), a spare and hourly maintenance: every request
 * that arrived ends exactly once (ids 0..n-1 each once), none is lost to a failure (all end
 * completed or unfinished at the horizon), the counters add up, failures happened with
 * requests in flight, the spare was used, and availability lies strictly between 0 and 1. */
static void conservation_with_failures(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc, busy_sets, sizeof busy_sets / sizeof busy_sets[0]);
	struct test_run_records t = {0};
	struct llmcap_results res;
	test_records_run(&cat, &sc, NULL, 0, &t, &res);
	assert_true(t.n > 20000);
	assert_int_equal(res.classes[0].arrived, (int64_t)t.n);
	qsort(t.r, t.n, sizeof *t.r, by_id);
	int64_t row_retries = 0;
	for (size_t i = 0; i < t.n; i++) {
		row_retries += t.r[i].retries;
		assert_int_equal(t.r[i].id, (int64_t)i);
		assert_true(t.r[i].status == LLMCAP_REQ_COMPLETED || t.r[i].status == LLMCAP_REQ_UNFINISHED);
		if (t.r[i].status == LLMCAP_REQ_COMPLETED)
			assert_int_equal(t.r[i].generated_tokens, t.r[i].output_tokens);
	}
	assert_int_equal(res.classes[0].completed + res.classes[0].unfinished, res.classes[0].arrived);
	const struct llmcap_failure_stats *fs = &res.failures[0];
	assert_true(fs->failures > 20);
	assert_true(fs->retries > 0);
	assert_int_equal(row_retries, fs->retries); /* each retry is one request's */
	assert_true(fs->spares_used > 0 && fs->spares_used <= fs->failures);
	assert_true(fs->maintenance_windows > 3);
	double availability = 1.0 - (double)fs->out_time / (3.0 * 3.0 * 3600e9);
	assert_true(availability > 0.5 && availability < 1.0);
	llmcap_results_free(&res);
	free(t.r);
	llmcap_scenario_free(&sc);
}

/* Failures run in exact steps: the same digest in both modes, and the same seed gives the same
 * failures (and digest) twice; another seed other failures. */
static void failures_fast_equals_exact(void **state)
{
	(void)state;
	uint64_t digest[3];
	int64_t failures[3];
	for (int mode = 0; mode < 3; mode++) {
		struct llmcap_scenario sc;
		const char *sets[12];
		size_t n = sizeof busy_sets / sizeof busy_sets[0];
		memcpy(sets, busy_sets, n * sizeof *sets);
		sets[n++] = mode == 1 ? "engine_mode=exact" : "engine_mode=fast";
		sets[n++] = mode == 2 ? "seed=7" : "seed=42";
		sets[n++] = "horizon=1h";
		scenario(&sc, sets, n);
		struct test_run_records t = {0};
		struct llmcap_results res, again;
		test_records_run(&cat, &sc, NULL, 0, &t, &res);
		test_records_run(&cat, &sc, NULL, 0, &t, &again);
		assert_int_equal(again.digest, res.digest);
		assert_int_equal(again.failures[0].out_time, res.failures[0].out_time);
		assert_int_equal(res.fast_steps, 0);
		digest[mode] = res.digest;
		failures[mode] = res.failures[0].failures;
		llmcap_results_free(&again);
		llmcap_results_free(&res);
		free(t.r);
		llmcap_scenario_free(&sc);
	}
	assert_int_equal(digest[0], digest[1]);
	assert_int_not_equal(digest[0], digest[2]);
	assert_true(failures[0] > 0 && failures[2] > 0);
}

/* The shipped example (models/scenarios/failures.yaml) runs: failures, maintenance windows. */
static void shipped_example_runs(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	/* past the first maintenance window (3 d), with failures made frequent enough to happen */
	const char *sets[] = {"horizon=74h", "pools.utility.failures.gpu_failures_per_gpu_day=1"};
	if (llmcap_scenario_load(&sc, LLMCAP_SOURCE_DIR "/models/scenarios/failures.yaml", sets, 2,
				 &cat, &err) != 0)
		fail_msg("%s", err.msg);
	struct test_run_records t = {0};
	struct llmcap_results res;
	test_records_run(&cat, &sc, NULL, 0, &t, &res);
	int64_t failures = 0, windows = 0;
	for (size_t p = 0; p < res.n_pools; p++) {
		failures += res.failures[p].failures;
		windows += res.failures[p].maintenance_windows;
	}
	assert_true(res.has_failures);
	assert_true(failures > 0);
	assert_true(windows > 0);
	llmcap_results_free(&res);
	free(t.r);
	llmcap_scenario_free(&sc);
}

static void check_refuses_bad_replica(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"pools.p.failures={scripted_at: 1s, scripted_replica: 2}"};
	apply(&sc, sets, 1);
	assert_int_not_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
	assert_contains(err.msg, "scripted_replica");
	llmcap_scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failure_retries_by_hand),
		cmocka_unit_test(maintenance_availability_by_hand),
		cmocka_unit_test(conservation_with_failures),
		cmocka_unit_test(failures_fast_equals_exact),
		cmocka_unit_test(shipped_example_runs),
		cmocka_unit_test(check_refuses_bad_replica),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

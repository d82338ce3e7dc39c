/* Closed-loop clients (workload.clients, docs/traffic.md): the interactive response-time law on a
 * run, saturation with the number of clients, conservation, determinism, the fast mode's
 * fall-back to exact steps, and the scenario check's refusals.
 *
 * The linear performance model (10 ms a step plus 50 us a batched token) keeps the runs short;
 * max_num_seqs 64 caps the batch, so that the replica saturates at a known concurrency. */
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

static void scenario(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	static const char *const base[] = {
		"workload.classes={c: {pool: p, share: 0.7, prompt: {dist: fixed, value: 200}, "
		"output: {dist: uniform, min: 20, max: 180}}, d: {pool: p, share: 0.3, "
		"prompt: {dist: fixed, value: 400}, output: {dist: fixed, value: 50}}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, max_num_seqs: 64, "
		"linear: {per_step: 10ms, per_token_us: 50}}}",
		"hardware={gpus_per_server: 1}",
		"cost.api.prices={c: {input: 1, output: 1}, d: {input: 1, output: 1}}",
		"horizon=30min",
	};
	test_scenario_build(sc, &cat, base, sizeof base / sizeof base[0], sets, n, true);
}

/* What the request records and samples say, measured apart from the engine's own counters. */
struct tally {
	int64_t ended, completed, unfinished, by_class[2];
	double e2e_sum;        /* completed: arrival to last token, s */
	int64_t max_in_system; /* waiting + running at any sample */
};

static int on_request(void *user, const struct llmcap_request_record *r)
{
	struct tally *t = user;
	if (r->status == LLMCAP_REQ_UNFINISHED) {
		t->unfinished++;
		return 0;
	}
	t->ended++;
	t->by_class[r->cls]++;
	if (r->status == LLMCAP_REQ_COMPLETED) {
		t->completed++;
		t->e2e_sum += r->e2e;
	}
	return 0;
}

static int on_sample(void *user, const struct llmcap_sample_row *row)
{
	struct tally *t = user;
	if (row->replica < 0 && row->waiting + row->running > t->max_in_system)
		t->max_in_system = row->waiting + row->running;
	return 0;
}

static void run(const struct llmcap_scenario *sc, struct tally *t, struct llmcap_results *res)
{
	struct llmcap_error err = {0};
	memset(t, 0, sizeof *t);
	struct llmcap_sink sink = {.user = t, .request = on_request, .sample = on_sample,
				   .sample_interval = LLMCAP_SEC};
	if (llmcap_simulate(sc, &cat, &sink, res, &err) != 0)
		fail_msg("%s", err.msg);
}

/* N = X (R + Z): X the requests ended per second, R their mean time from send to end, Z the
 * configured mean think time (the exponential's sample mean over ~20,000 draws is within
 * ~1.5% at 2 standard errors, the start and the end of the horizon within N / ended). */
static void closed_loop_obeys_the_response_time_law(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.clients={concurrency: 24, think_time: 2s}"};
	scenario(&sc, sets, 1);
	struct tally t;
	struct llmcap_results res;
	run(&sc, &t, &res);
	assert_int_equal(t.completed, t.ended); /* nothing turned away here */
	assert_true(t.ended > 10000);
	double x = (double)t.ended / 1800.0, r = t.e2e_sum / (double)t.completed, z = 2.0;
	assert_rel(x * (r + z), 24.0, 0.02);
	/* never more requests out than clients, and all of them out at the horizon or thinking */
	assert_true(t.max_in_system <= 24);
	assert_true(t.max_in_system >= 10);
	assert_true(t.unfinished <= 24);
	/* conservation: every request sent ended exactly once, and the class mix is the shares'
	 * (binomial, 4.5 standard errors) */
	int64_t arrived = res.classes[0].arrived + res.classes[1].arrived;
	assert_int_equal(arrived, t.ended + t.unfinished);
	for (int c = 0; c < 2; c++)
		assert_int_equal(res.classes[c].completed + res.classes[c].unfinished +
				 res.classes[c].rejected + res.classes[c].spilled,
				 res.classes[c].arrived);
	double share = (double)res.classes[0].arrived / (double)arrived;
	assert_true(fabs(share - 0.7) < 4.5 * sqrt(0.7 * 0.3 / (double)arrived));
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

static double throughput(int64_t n)
{
	struct llmcap_scenario sc;
	char set[128];
	snprintf(set, sizeof set, "workload.clients={concurrency: %lld, think_time: 0s}", (long long)n);
	const char *sets[] = {set, "horizon=10min"};
	scenario(&sc, sets, 2);
	struct tally t;
	struct llmcap_results res;
	run(&sc, &t, &res);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
	return (double)t.completed / 600.0;
}

/* One client with exponential think times of mean Z = 1 s: a cycle is one request (R) and one
 * think (Z), so the throughput is X = 1 / (E[R] + E[Z]), E[R] measured from the records, E[Z]
 * the configured mean. The tolerance is 4.5 standard errors of the think times' sample mean
 * (Z / sqrt(n)) relative to the cycle, plus one request in the run for the horizon's ends; and
 * never more than one request out. */
static void one_client_throughput(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.clients={concurrency: 1, think_time: 1s}", "horizon=4h"};
	scenario(&sc, sets, 2);
	struct tally t;
	struct llmcap_results res;
	run(&sc, &t, &res);
	assert_true(t.max_in_system <= 1);
	assert_int_equal(t.completed, t.ended);
	assert_true(t.ended > 5000);
	double n = (double)t.ended, r = t.e2e_sum / n, z = 1.0;
	double x = n / (4 * 3600.0), want = 1.0 / (r + z);
	assert_rel(x, want, 4.5 * (z / sqrt(n)) / (r + z) + 1.0 / n);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

/* Light load: a second client nearly doubles the throughput (one more sequence in a step that
 * costs 10 ms anyway); past max_num_seqs the extra clients only queue. */
static void closed_loop_throughput_saturates(void **state)
{
	(void)state;
	double x1 = throughput(1), x2 = throughput(2), x32 = throughput(32), x128 = throughput(128),
	       x256 = throughput(256);
	assert_true(x2 / x1 > 1.8);
	assert_true(x32 / x2 > 5);
	assert_true(x128 / x32 > 1.05); /* still rising up to the batch cap */
	assert_true(x256 / x128 < 1.02);
	assert_true(x256 / x128 > 0.98);
}

static void closed_loop_fast_falls_back_to_exact(void **state)
{
	(void)state;
	uint64_t digest[2];
	for (int mode = 0; mode < 2; mode++) {
		struct llmcap_scenario sc;
		const char *sets[] = {"workload.clients={concurrency: 40, think_time: 500ms, "
				      "think_dist: fixed}",
				      mode ? "engine_mode=exact" : "engine_mode=fast", "horizon=5min"};
		scenario(&sc, sets, 3);
		struct tally t;
		struct llmcap_results res;
		run(&sc, &t, &res);
		digest[mode] = res.digest;
		assert_int_equal(res.fast_steps, 0);
		assert_true(t.completed > 1000);
		/* determinism: the same scenario, the same run */
		struct llmcap_results again;
		run(&sc, &t, &again);
		assert_int_equal(again.digest, res.digest);
		llmcap_results_free(&again);
		llmcap_results_free(&res);
		llmcap_scenario_free(&sc);
	}
	assert_int_equal(digest[0], digest[1]);
}

/* A request turned away (here: longer than max_model_len) brings its client back after the
 * think time plus the 1 s back-off, not at once. */
static void turned_away_clients_back_off(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.clients={concurrency: 3, think_time: 0s}",
			      "pools.p.max_model_len=390", "horizon=1min"};
	scenario(&sc, sets, 3);
	struct tally t;
	struct llmcap_results res;
	run(&sc, &t, &res);
	/* class d (400 prompt tokens) is always refused: each refusal costs its client >= 1 s */
	assert_true(res.classes[1].rejected > 0);
	assert_int_equal(res.classes[1].completed, 0);
	assert_true(res.classes[1].rejected <= 3 * 61);
	assert_true(res.classes[0].completed > 100);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

static void check_refuses_other_sources(void **state)
{
	(void)state;
	const char *bad[] = {"workload.classes.d.arrival=poisson",
			     "workload.trace.file=" LLMCAP_SOURCE_DIR "/tests/fuzz/corpus/trace_csv/azure-head.csv"};
	const char *want[] = {"arrival: poisson with closed-loop clients", "and a trace"};
	for (int i = 0; i < 2; i++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		llmcap_scenario_defaults(&sc);
		const char *base[] = {
			"workload.classes={c: {pool: p, share: 0.7}, d: {pool: p, share: 0.3}}",
			"pools={p: {model: llama-3.1-8b}}", "hardware={gpus_per_server: 1}",
			"cost.api.prices={c: {input: 1, output: 1}, d: {input: 1, output: 1}}",
			"workload.clients.concurrency=4", bad[i]};
		for (size_t k = 0; k < sizeof base / sizeof base[0]; k++)
			if (llmcap_scenario_apply_override(&sc, base[k], &err) != 0)
				fail_msg("%s: %s", base[k], err.msg);
		assert_int_not_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
		assert_contains(err.msg, want[i]);
		llmcap_scenario_free(&sc);
	}
}

/* `llmcap workload` generates traffic without the servers: a closed loop has none. */
static void workload_command_refuses_clients(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.clients.concurrency=8"};
	scenario(&sc, sets, 1);
	struct llmcap_traffic tr;
	struct llmcap_error err = {0};
	assert_int_not_equal(llmcap_traffic_generate(&sc, NULL, &tr, &err), 0);
	assert_contains(err.msg, "workload.clients");
	llmcap_scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_loop_obeys_the_response_time_law),
		cmocka_unit_test(one_client_throughput),
		cmocka_unit_test(closed_loop_throughput_saturates),
		cmocka_unit_test(closed_loop_fast_falls_back_to_exact),
		cmocka_unit_test(turned_away_clients_back_off),
		cmocka_unit_test(check_refuses_other_sources),
		cmocka_unit_test(workload_command_refuses_clients),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

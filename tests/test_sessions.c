/* Multi-turn sessions (workload.classes.NAME.sessions, docs/traffic.md "Sessions"): a scripted
 * session's turns arrive and hit the prefix cache exactly as computed by hand; session-affinity
 * is what makes the hits (round-robin over two replicas: none); conservation on an open-loop
 * run (every turn ends once, the turns of a session never overlap, every session accounted
 * for); the fast mode gives the exact mode's digest; one closed-loop client running sessions
 * obeys X = 1 / (E[R] + E[Z]); the scenario check's refusals.
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
		"enable_prefix_caching: true, router: session-affinity, "
		"linear: {per_step: 10ms, per_token_us: 50}, "
		"profile: {step_overhead: 0s, seq_overhead: 0s, async_scheduling: false}}}",
		"hardware={gpus_per_server: 1}",
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

/* One scripted session of 3 turns at t = 1 s, alone on the replica: prompt 200, outputs 20,
 * growth 50, think 2 s and a tool call of 0.5 s before each later turn (both fixed).
 *   turn 0: prompt 200, nothing cached: step 1 = 10 ms + 200 x 50 us = 20 ms (the first token),
 *           then 19 decode steps of 10.05 ms: e2e = 20 + 190.95 = 210.95 ms.
 *   turn 1: sent 2.5 s after turn 0's last token; prompt 200 + 20 + 50 = 270; turn 0 computed
 *           200 + 20 - 1 = 219 tokens (the last token's KV never is): 13 full blocks of 16 =
 *           208 tokens hit; step 1 = 10 ms + 62 x 50 us = 13.1 ms: e2e = 204.05 ms.
 *   turn 2: prompt 270 + 20 + 50 = 340; 289 computed: 18 blocks = 288 tokens hit; step 1 =
 *           10 ms + 52 x 50 us = 12.6 ms: e2e = 203.55 ms. */
static void turns_arrive_and_hit_by_hand(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.classes.c.sessions={turns: {dist: fixed, value: 3}, "
			      "growth: {dist: fixed, value: 50}, think_time: 2s, think_dist: fixed, "
			      "tool_probability: 1, tool_time: 500ms}"};
	scenario(&sc, sets, 1);
	const struct llmcap_scripted_request script[] = {{.time = LLMCAP_SEC, .cls = 0, .prompt = 200, .output = 20}};
	struct test_run_records t = {0};
	struct llmcap_results res;
	test_records_run(&cat, &sc, script, 1, &t, &res);
	assert_int_equal(t.n, 3);
	const double e2e[3] = {0.21095, 0.20405, 0.20355};
	const int64_t prompt[3] = {200, 270, 340}, hit[3] = {0, 208, 288};
	double arrival = 1.0;
	for (int k = 0; k < 3; k++) {
		const struct llmcap_request_record *r = &t.r[k];
		assert_int_equal(r->status, LLMCAP_REQ_COMPLETED);
		assert_int_equal(r->session, 0);
		assert_int_equal(r->turn, k);
		assert_int_equal(r->prompt_tokens, prompt[k]);
		assert_int_equal(r->output_tokens, 20);
		assert_int_equal(r->prefix_hit_tokens, hit[k]);
		assert_true(fabs(r->arrival - arrival) < 1e-9);
		assert_true(fabs(r->e2e - e2e[k]) < 1e-9);
		arrival += e2e[k] + 2.0 + 0.5;
	}
	assert_int_equal(res.sessions.started, 1);
	assert_int_equal(res.sessions.later_turns, 2);
	assert_int_equal(res.sessions.completed, 1);
	assert_int_equal(res.sessions.abandoned, 0);
	assert_int_equal(res.sessions.tool_calls, 2);
	llmcap_results_free(&res);

	/* control: round-robin over two replicas sends turn 1 elsewhere, where nothing is
	 * cached; turn 2 comes back to turn 0's replica, which holds turn 0's 208 tokens only */
	const char *rr[] = {"pools.p.router=round-robin", "pools.p.replicas=2", "hardware.servers=2"};
	struct llmcap_scenario sc2;
	const char *sets2[] = {sets[0], rr[0], rr[1], rr[2]};
	scenario(&sc2, sets2, 4);
	test_records_run(&cat, &sc2, script, 1, &t, &res);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.r[1].prefix_hit_tokens, 0);
	assert_int_equal(t.r[2].prefix_hit_tokens, 208);
	assert_int_not_equal(t.r[0].replica, t.r[1].replica);
	llmcap_results_free(&res);
	free(t.r);
	llmcap_scenario_free(&sc);
	llmcap_scenario_free(&sc2);
}

static int by_session_turn(const void *a, const void *b)
{
	const struct llmcap_request_record *x = a, *y = b;
	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	return x->turn < y->turn ? -1 : x->turn > y->turn;
}

static const char *open_loop_sets[] = {
	"workload.rate=2/s",
	"workload.diurnal.shape=none",
	"workload.classes.c.prompt={dist: lognormal, median: 300, sigma: 0.6}",
	"workload.classes.c.output={dist: geometric, mean: 80}",
	"workload.classes.c.sessions={turns: {dist: geometric, mean: 3}, "
	"growth: {dist: uniform, min: 10, max: 200}, think_time: 5s, "
	"tool_probability: 0.3, tool_time: 1s}",
	"pools.p.replicas=2",
	"hardware.servers=2",
};

/* Open-loop sessions over two replicas for 30 minutes: every turn that arrived ends exactly
 * once (arrived = records), turn numbers of a session run 0, 1, 2, ... without a gap, a turn
 * arrives no sooner than the previous one's end plus nothing (think times >= 0), every later
 * turn extends the previous prompt by its output plus 10..200 tokens, and the session
 * counters agree with the records. */
static void sessions_conserve_and_never_overlap(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc, open_loop_sets, sizeof open_loop_sets / sizeof open_loop_sets[0]);
	struct test_run_records t = {0};
	struct llmcap_results res;
	test_records_run(&cat, &sc, NULL, 0, &t, &res);
	assert_true(t.n > 5000);
	assert_int_equal(res.classes[0].arrived, (int64_t)t.n);
	assert_int_equal(res.classes[0].completed + res.classes[0].unfinished + res.classes[0].rejected +
				 res.classes[0].spilled, res.classes[0].arrived);
	qsort(t.r, t.n, sizeof *t.r, by_session_turn);
	int64_t sessions = 0, later = 0, hits = 0;
	for (size_t i = 0; i < t.n; i++) {
		const struct llmcap_request_record *r = &t.r[i];
		assert_true(r->session >= 0);
		if (r->turn == 0) {
			assert_true(i == 0 || t.r[i - 1].session != r->session);
			sessions++;
			continue;
		}
		later++;
		const struct llmcap_request_record *p = &t.r[i - 1];
		assert_int_equal(p->session, r->session);
		assert_int_equal(p->turn + 1, r->turn);
		assert_int_equal(p->status, LLMCAP_REQ_COMPLETED);
		assert_true(r->arrival >= p->arrival + p->e2e - 1e-9);
		int64_t growth = r->prompt_tokens - p->prompt_tokens - p->output_tokens;
		assert_true(growth >= 10 && growth <= 200);
		hits += r->prefix_hit_tokens > 0;
	}
	assert_int_equal(sessions, res.sessions.started);
	assert_int_equal(later, res.sessions.later_turns);
	assert_true(res.sessions.completed + res.sessions.abandoned <= res.sessions.started);
	/* the sessions still open at the horizon are those whose last record is not their end:
	 * at most the sessions started in the last minutes and the unfinished ones */
	assert_true(res.sessions.completed > sessions / 2);
	assert_true(hits > later * 9 / 10); /* session-affinity: later turns find their prefix */
	/* tool calls: about 0.3 of the later turns scheduled (binomial, 4.5 standard errors) */
	double p = (double)res.sessions.tool_calls / (double)later;
	assert_true(fabs(p - 0.3) < 4.5 * sqrt(0.3 * 0.7 / (double)later) + 0.01);
	llmcap_results_free(&res);
	free(t.r);
	llmcap_scenario_free(&sc);
}

/* The fast mode runs sessions in exact steps: the same digest, no fast steps, twice the same. */
static void sessions_fast_equals_exact(void **state)
{
	(void)state;
	uint64_t digest[2];
	for (int mode = 0; mode < 2; mode++) {
		struct llmcap_scenario sc;
		const char *sets[10];
		size_t n = sizeof open_loop_sets / sizeof open_loop_sets[0];
		memcpy(sets, open_loop_sets, n * sizeof *sets);
		sets[n++] = mode ? "engine_mode=exact" : "engine_mode=fast";
		sets[n++] = "horizon=5min";
		scenario(&sc, sets, n);
		struct test_run_records t = {0};
		struct llmcap_results res;
		test_records_run(&cat, &sc, NULL, 0, &t, &res);
		digest[mode] = res.digest;
		assert_int_equal(res.fast_steps, 0);
		struct llmcap_results again;
		test_records_run(&cat, &sc, NULL, 0, &t, &again);
		assert_int_equal(again.digest, res.digest);
		llmcap_results_free(&again);
		llmcap_results_free(&res);
		free(t.r);
		llmcap_scenario_free(&sc);
	}
	assert_int_equal(digest[0], digest[1]);
}

/* One closed-loop client running sessions of 4 turns, exponential think times of mean 1 s
 * between turns and none between sessions: a cycle of 4 turns takes 4 R + 3 Z, so the turns'
 * throughput is X = 1 / (E[R] + 0.75 E[Z]), E[R] measured from the records (send to end), E[Z]
 * the configured 1 s. The tolerance is 4.5 standard errors of the think times' sample mean
 * over the cycle, plus one turn in the whole run for the ends of the horizon. And never more
 * than one request in the system. */
static void one_client_obeys_the_response_time_law(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.clients={concurrency: 1, think_time: 0s}",
			      "workload.classes.c.output={dist: uniform, min: 10, max: 60}",
			      "workload.classes.c.sessions={turns: {dist: fixed, value: 4}, "
			      "growth: {dist: fixed, value: 30}, think_time: 1s}",
			      "horizon=4h"};
	scenario(&sc, sets, 4);
	struct test_run_records t = {0};
	struct llmcap_results res;
	test_records_run(&cat, &sc, NULL, 0, &t, &res);
	assert_true(t.max_in_system <= 1);
	double rsum = 0;
	int64_t n = 0;
	for (size_t i = 0; i < t.n; i++)
		if (t.r[i].status == LLMCAP_REQ_COMPLETED) {
			rsum += t.r[i].e2e;
			n++;
		}
	assert_true(n > 10000);
	double r = rsum / (double)n, z = 1.0;
	double x = (double)n / (4 * 3600.0), want = 1.0 / (r + 0.75 * z);
	double thinks = 0.75 * (double)n;
	double tol = 4.5 * (0.75 * z / sqrt(thinks)) / (r + 0.75 * z) + 1.0 / (double)n;
	assert_rel(x, want, tol);
	/* a session's turns, then the next session: the records alternate 0, 1, 2, 3, 0, ... */
	for (size_t i = 0; i < t.n; i++)
		assert_int_equal(t.r[i].turn, (int32_t)(i % 4));
	assert_int_equal(res.sessions.started, (int64_t)(t.n + 3) / 4);
	llmcap_results_free(&res);
	free(t.r);
	llmcap_scenario_free(&sc);
}

/* The shipped example (models/scenarios/chat-sessions.yaml) runs: sessions of both classes,
 * later turns served from the prefix cache, the same digest in both engine modes. */
static void shipped_example_runs(void **state)
{
	(void)state;
	uint64_t digest[2];
	for (int mode = 0; mode < 2; mode++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		const char *sets[] = {"horizon=20min", mode ? "engine_mode=exact" : "engine_mode=fast"};
		if (llmcap_scenario_load(&sc, LLMCAP_SOURCE_DIR "/models/scenarios/chat-sessions.yaml",
					 sets, 2, &cat, &err) != 0)
			fail_msg("%s", err.msg);
		struct test_run_records t = {0};
		struct llmcap_results res;
		test_records_run(&cat, &sc, NULL, 0, &t, &res);
		assert_true(res.sessions.started > 100);
		assert_true(res.sessions.later_turns > 2 * res.sessions.started);
		assert_true(res.sessions.tool_calls > 0);
		int64_t hit = 0, later = 0;
		for (size_t i = 0; i < t.n; i++)
			if (t.r[i].turn > 0) {
				later++;
				hit += t.r[i].prefix_hit_tokens > 0;
			}
		assert_true(hit > later * 9 / 10);
		digest[mode] = res.digest;
		llmcap_results_free(&res);
		free(t.r);
		llmcap_scenario_free(&sc);
	}
	assert_int_equal(digest[0], digest[1]);
}

static void check_refuses(const char *set, const char *also, const char *want)
{
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {set, also};
	apply(&sc, sets, also ? 2 : 1);
	assert_int_not_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
	assert_contains(err.msg, want);
	llmcap_scenario_free(&sc);
}

static void check_refuses_bad_sessions(void **state)
{
	(void)state;
	check_refuses("workload.classes.c.sessions.turns={dist: trace, file: "
		      LLMCAP_SOURCE_DIR "/tests/fuzz/corpus/trace_csv/azure-head.csv, column: ContextTokens}",
		      NULL, "a trace distribution");
	check_refuses("workload.classes.c.sessions.turns={dist: fixed, value: 3}",
		      "workload.trace.file=" LLMCAP_SOURCE_DIR "/tests/fuzz/corpus/trace_csv/azure-head.csv",
		      "sessions and a trace");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(turns_arrive_and_hit_by_hand),
		cmocka_unit_test(sessions_conserve_and_never_overlap),
		cmocka_unit_test(sessions_fast_equals_exact),
		cmocka_unit_test(one_client_obeys_the_response_time_law),
		cmocka_unit_test(shipped_example_runs),
		cmocka_unit_test(check_refuses_bad_sessions),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

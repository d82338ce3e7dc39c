/* Speculative decoding (pools.NAME.speculative): the acceptance model against its closed form,
 * a lone request's schedule by hand for acceptance 1 and 0, the memory plan's draft, token
 * conservation over a loaded run, and the fast mode identical to exact steps. */
#include "test_scenario.h"

#include "llmcap/perf.h"
#include "llmcap/quantiles.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* One class "c" served by pool "p" (8B on H100s) with steps of 10 ms + per_token_us per
 * token, then the overrides. */
static void scenario(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	static const char *const base[] = {
		"workload.classes={c: {pool: p}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms, "
		"per_token_us: 100}}}",
		"hardware={gpus_per_server: 8}",
		"cost.api.prices={c: {input: 1, output: 1}}",
		"horizon=1h",
		"workload.diurnal={shape: none}",
	};
	test_scenario_build(sc, &cat, base, sizeof base / sizeof base[0], sets, n, true);
}

struct capture {
	struct llmcap_request_record *rec;
	size_t n, cap;
};

static int on_request(void *user, const struct llmcap_request_record *r)
{
	struct capture *c = user;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->rec = realloc(c->rec, c->cap * sizeof *c->rec);
		assert_non_null(c->rec);
	}
	c->rec[c->n++] = *r;
	return 0;
}

static void run_script(const struct llmcap_scenario *sc, const struct llmcap_scripted_request *q,
		       size_t n, struct capture *cap, struct llmcap_results *res)
{
	struct llmcap_error err = {0};
	memset(cap, 0, sizeof *cap);
	struct llmcap_sink sink = {.user = cap, .request = on_request};
	if (llmcap_simulate_script(sc, &cat, &sink, q, n, res, &err) != 0)
		fail_msg("%s", err.msg);
}

static void run_gen(const struct llmcap_scenario *sc, struct capture *cap, struct llmcap_results *res)
{
	struct llmcap_error err = {0};
	memset(cap, 0, sizeof *cap);
	struct llmcap_sink sink = {.user = cap, .request = on_request};
	if (llmcap_simulate(sc, &cat, &sink, res, &err) != 0)
		fail_msg("%s", err.msg);
}

#define MS(x) ((double)(x) * 1e-3)

/* The expected tokens per step are the geometric sum; the draw by inversion gives
 * P(accepted >= j) = a^j on a fine grid of u (to its spacing). */
static void acceptance_model(void **state)
{
	(void)state;
	assert_rel(llmcap_spec_expected_tokens(1, 4), 5, 0);
	assert_rel(llmcap_spec_expected_tokens(0, 4), 1, 0);
	const double as[] = {0.3, 0.6, 0.7, 0.9};
	for (size_t i = 0; i < 4; i++)
		for (int64_t k = 1; k <= 6; k++)
			assert_rel(llmcap_spec_expected_tokens(as[i], k),
				   (1 - pow(as[i], (double)k + 1)) / (1 - as[i]), 1e-12);
	/* k = 2, a = 0.7: 1 + 0.7 + 0.49 = 2.19 */
	assert_rel(llmcap_spec_expected_tokens(0.7, 2), 2.19, 1e-12);
	const int64_t N = 200000, d = 4;
	for (size_t i = 0; i < 4; i++) {
		int64_t at_least[5] = {0};
		for (int64_t n = 0; n < N; n++) {
			int64_t acc = llmcap_spec_accepted(as[i], d, ((double)n + 0.5) / (double)N);
			assert_true(acc >= 0 && acc <= d);
			for (int64_t j = 0; j <= acc; j++)
				at_least[j]++;
		}
		for (int64_t j = 0; j <= d; j++)
			assert_true(fabs((double)at_least[j] / (double)N - pow(as[i], (double)j)) <=
				    2.0 / (double)N);
	}
	assert_int_equal(llmcap_spec_accepted(1, 3, 0.999), 3);
	assert_int_equal(llmcap_spec_accepted(0, 3, 0.0), 0);
}

/* A lone request, 100 prompt and 13 output tokens, n-gram proposals (no proposer time), k = 3,
 * steps of 10 ms + 0.1 ms per token. The prefill (100 tokens) takes 20 ms and emits token 1.
 * Acceptance 1: each step verifies 4 tokens (10.4 ms) and emits them all: 1 -> 5 -> 9 -> 13,
 * three steps; TPOT = 31.2 ms / 12. Acceptance 0: each emits one; it verifies 1 + min(3,
 * 12 - generated) tokens: 4 tokens at generated 1..9, then 3, 2, and a plain decode (1):
 * 9 x 10.4 + 10.3 + 10.2 + 10.1 = 124.2 ms over 12 tokens. */
static void lone_request_by_hand(void **state)
{
	(void)state;
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 100, .output = 13}};
	for (int accept = 1; accept >= 0; accept--) {
		struct llmcap_scenario sc;
		const char *sets[] = {"pools.p.speculative={method: ngram, num_speculative_tokens: 3}",
				      accept ? "pools.p.speculative.acceptance=1"
					     : "pools.p.speculative.acceptance=0"};
		scenario(&sc, sets, 2);
		struct capture c;
		struct llmcap_results res;
		run_script(&sc, q, 1, &c, &res);
		assert_int_equal(c.n, 1);
		assert_int_equal(c.rec[0].generated_tokens, 13);
		assert_rel(c.rec[0].ttft, MS(20), 1e-12);
		const struct llmcap_replica_stats *st = &res.replicas[0];
		if (accept) {
			assert_rel(c.rec[0].e2e, MS(20 + 3 * 10.4), 1e-12);
			assert_rel(c.rec[0].tpot, MS(3 * 10.4) / 12, 1e-12);
			assert_int_equal(st->spec_verifies, 3);
			assert_int_equal(st->spec_proposed, 9);
			assert_int_equal(st->spec_accepted, 9);
			assert_int_equal(st->steps, 4);
			assert_int_equal(c.rec[0].spec_verifications, 3); /* its row: the same */
			assert_int_equal(c.rec[0].spec_proposed, 9);
			assert_int_equal(c.rec[0].spec_accepted, 9);
		} else {
			assert_rel(c.rec[0].e2e, MS(20 + 124.2), 1e-12);
			assert_rel(c.rec[0].tpot, MS(124.2) / 12, 1e-12);
			assert_int_equal(st->spec_verifies, 11);
			assert_int_equal(st->spec_proposed, 9 * 3 + 2 + 1);
			assert_int_equal(st->spec_accepted, 0);
			assert_int_equal(st->steps, 13);
			assert_int_equal(c.rec[0].spec_verifications, 11);
			assert_int_equal(c.rec[0].spec_proposed, 30);
			assert_int_equal(c.rec[0].spec_accepted, 0);
		}
		assert_rel(st->output_tokens, 13, 0);
		assert_int_equal(st->spec_time, 0); /* n-gram: no GPU time */
		free(c.rec);
		llmcap_results_free(&res);
	}
}

/* Over many steps the mean accepted proposals per verification matches sum_{j=1..k} a^j within
 * 5 standard errors (the accepted count's variance from its distribution), widened by the
 * verifications near an output's end that propose fewer than k (at most k per request, each
 * off by at most k). */
static void mean_tokens_per_step(void **state)
{
	(void)state;
	const double a = 0.7;
	const int64_t k = 4;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.speculative={method: ngram, num_speculative_tokens: 4, "
			      "acceptance: 0.7}",
			      "workload.rate=2/s", "horizon=10min",
			      "workload.classes.c.output={dist: fixed, value: 400}"};
	scenario(&sc, sets, 4);
	struct capture c;
	struct llmcap_results res;
	run_gen(&sc, &c, &res);
	int64_t ver = 0, acc = 0, prop = 0;
	for (size_t i = 0; i < res.n_replicas; i++) {
		ver += res.replicas[i].spec_verifies;
		acc += res.replicas[i].spec_accepted;
		prop += res.replicas[i].spec_proposed;
	}
	assert_true(ver > 10000);
	double mean = 0, sq = 0;
	for (int64_t j = 0; j <= k; j++) {
		double p = j < k ? pow(a, (double)j) * (1 - a) : pow(a, (double)k);
		mean += p * (double)j;
		sq += p * (double)j * (double)j;
	}
	const double sd = sqrt(sq - mean * mean);
	double tol = 5 * sd / sqrt((double)ver) + (double)(k * k) * (double)c.n / (double)ver;
	double got = (double)acc / (double)ver;
	if (fabs(got - mean) > tol)
		fail_msg("accepted per verification %.5f, expected %.5f within %.5f", got, mean, tol);
	assert_true(prop <= k * ver);
	/* tokens per step: 1 + accepted, the Leviathan et al. expectation */
	assert_true(fabs(1 + got - llmcap_spec_expected_tokens(a, k)) <= tol);
	free(c.rec);
	llmcap_results_free(&res);
}

/* Every token emitted is a token of a request: the replicas' output tokens equal the records'
 * generated tokens (completed and unfinished), every request ends once, and none emits past its
 * output; with a draft model under load (preemptions by recompute included). */
static void tokens_are_conserved(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p={model: llama-3.1-70b, dtype: fp8, tensor_parallel_size: 2, "
			      "num_gpu_blocks_override: 300, perf_model: roofline, speculative: "
			      "{method: draft, draft_model: llama-3.1-8b, num_speculative_tokens: 5, "
			      "acceptance: 0.8}}",
			      "workload.rate=8/s", "horizon=5min",
			      "workload.classes.c.spec_acceptance=0.5",
			      "workload.classes.c.output={dist: uniform, min: 1, max: 1200}"};
	scenario(&sc, sets, 5);
	struct capture c;
	struct llmcap_results res;
	run_gen(&sc, &c, &res);
	double out = 0;
	int64_t acc = 0, pre = 0, ver = 0, prop = 0;
	for (size_t i = 0; i < res.n_replicas; i++) {
		out += res.replicas[i].output_tokens;
		acc += res.replicas[i].spec_accepted;
		ver += res.replicas[i].spec_verifies;
		prop += res.replicas[i].spec_proposed;
		pre += res.replicas[i].preemptions;
		assert_true(res.replicas[i].spec_time > 0);
	}
	double gen = 0;
	int64_t row_acc = 0, row_ver = 0, row_prop = 0;
	for (size_t i = 0; i < c.n; i++) {
		gen += (double)c.rec[i].generated_tokens;
		assert_true(c.rec[i].generated_tokens <= c.rec[i].output_tokens);
		assert_true(c.rec[i].id < (int64_t)c.n);
		assert_true(c.rec[i].spec_accepted <= c.rec[i].spec_proposed);
		row_acc += c.rec[i].spec_accepted;
		row_ver += c.rec[i].spec_verifications;
		row_prop += c.rec[i].spec_proposed;
	}
	/* every verification is one request's: the rows add up to the replicas' counts, but for
	 * the steps in flight at the horizon (counted when they start, not yet ended: at most
	 * one verification of k = 5 proposals per unfinished request) */
	int64_t unfinished = 0;
	for (size_t i = 0; i < c.n; i++)
		unfinished += c.rec[i].status == LLMCAP_REQ_UNFINISHED;
	assert_int_equal(row_acc, acc);
	assert_true(row_ver <= ver && ver - row_ver <= unfinished);
	assert_true(row_prop <= prop && prop - row_prop <= 5 * unfinished);
	assert_int_equal(c.n, res.classes[0].arrived);
	assert_rel(out, gen, 0);
	assert_true(acc > 0);
	assert_true(pre > 0); /* the small cache preempted: recomputation kept the count */
	free(c.rec);
	llmcap_results_free(&res);
}

/* The fast mode gives the exact mode's results: the same records in the same order, digest,
 * events and proposal counts (speculative pools take every step as an event in both). */
static void fast_equals_exact(void **state)
{
	(void)state;
	const char *sets[] = {"pools.p={model: llama-3.1-8b, perf_model: roofline, speculative: "
			      "{method: eagle, num_speculative_tokens: 3, acceptance: 0.6}}",
			      "pools.q={model: llama-3.1-8b, replicas: 2}",
			      "workload.classes={c: {pool: p, share: 0.5}, d: {pool: q, share: 0.5}}",
			      "cost.api.prices={c: {input: 1, output: 1}, d: {input: 1, output: 1}}",
			      "workload.rate=4/s", "horizon=10min", "engine_mode=fast"};
	struct llmcap_scenario f, e;
	scenario(&f, sets, 7);
	e = f;
	e.engine_mode = LLMCAP_ENGINE_EXACT;
	struct capture cf, ce;
	struct llmcap_results rf, re;
	run_gen(&f, &cf, &rf);
	run_gen(&e, &ce, &re);
	assert_int_equal(cf.n, ce.n);
	for (size_t i = 0; i < cf.n; i++) {
		assert_int_equal(cf.rec[i].id, ce.rec[i].id);
		assert_memory_equal(&cf.rec[i].ttft, &ce.rec[i].ttft, sizeof(double));
		assert_memory_equal(&cf.rec[i].e2e, &ce.rec[i].e2e, sizeof(double));
		assert_int_equal(cf.rec[i].generated_tokens, ce.rec[i].generated_tokens);
		assert_int_equal(cf.rec[i].spec_accepted, ce.rec[i].spec_accepted);
		assert_int_equal(cf.rec[i].spec_verifications, ce.rec[i].spec_verifications);
	}
	assert_true(rf.digest == re.digest);
	assert_int_equal(rf.events, re.events);
	assert_true(rf.fast_steps > 0); /* the plain pool still takes runs */
	for (size_t i = 0; i < rf.n_replicas; i++) {
		assert_int_equal(rf.replicas[i].spec_accepted, re.replicas[i].spec_accepted);
		assert_int_equal(rf.replicas[i].spec_verifies, re.replicas[i].spec_verifies);
		assert_int_equal(rf.replicas[i].spec_time, re.replicas[i].spec_time);
	}
	assert_true(rf.replicas[0].spec_verifies > 0);
	free(cf.rec);
	free(ce.rec);
	llmcap_results_free(&rf);
	llmcap_results_free(&re);
}

/* The draft's weights come off the KV cache and its KV per token adds to the target's:
 * 70B in FP8 at TP 2 with the 8B draft: 2 x 80 layers x 4 KV heads x 128 x 2 bytes = 163,840
 * plus 2 x 32 x 4 x 128 x 2 = 65,536 bytes per token per GPU. An EAGLE head takes one layer's
 * weights and KV. */
static void memory_plan_draft(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p={model: llama-3.1-70b, dtype: fp8, tensor_parallel_size: 2, "
			      "speculative: {method: draft, draft_model: llama-3.1-8b}}"};
	scenario(&sc, sets, 1);
	struct llmcap_error err = {0};
	const struct llmcap_pool_cfg *p = &sc.pools[0];
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, p->model);
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, sc.hardware.gpu);
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(&cat, p->engine);
	struct llmcap_memory_plan on, off, draft;
	assert_int_equal(llmcap_memory_plan_pool(&cat, m, g, e, p, &on, &err), 0);
	struct llmcap_pool_cfg po = *p;
	po.speculative.method = LLMCAP_SPEC_OFF;
	assert_int_equal(llmcap_memory_plan_pool(&cat, m, g, e, &po, &off, &err), 0);
	assert_rel(off.kv_bytes_per_token, 163840, 0);
	assert_rel(on.kv_bytes_per_token, 163840 + 65536, 0);
	assert_int_equal(llmcap_memory_plan_engine(llmcap_catalog_model(&cat, "llama-3.1-8b"), g, e,
						   &po, &draft, &err), 0);
	assert_rel(on.draft_weight_bytes_per_gpu, draft.weight_bytes_per_gpu, 0);
	assert_rel(on.kv_bytes_per_gpu, off.kv_bytes_per_gpu - draft.weight_bytes_per_gpu, 1e-15);
	assert_true(on.num_blocks < off.num_blocks);
	/* EAGLE on the 8B: one layer's parameters in bf16 and 1/32 of its KV */
	struct llmcap_pool_cfg pe = *p;
	pe.speculative.method = LLMCAP_SPEC_EAGLE;
	struct llmcap_memory_plan eagle;
	assert_int_equal(llmcap_memory_plan_pool(&cat, m, g, e, &pe, &eagle, &err), 0);
	struct llmcap_param_count pc;
	llmcap_model_params(m, &pc);
	assert_rel(eagle.draft_weight_bytes_per_gpu, pc.per_layer * 1.0 / 2, 1e-15);
	assert_rel(eagle.kv_bytes_per_token, 163840 + 163840 / 80, 0);
}

/* The shipped example (models/scenarios/speculative.yaml) runs, the same in both engine modes,
 * and proposing lowers the 8B class's median TPOT against the same traffic without it. */
static void shipped_example(void **state)
{
	(void)state;
	const char *path = LLMCAP_SOURCE_DIR "/models/scenarios/speculative.yaml";
	const char *sets[] = {"horizon=10min", "pools.utility.speculative.method=off",
			      "pools.reasoning.speculative.method=off"};
	struct llmcap_scenario sc, ex, off;
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(&sc, path, sets, 1, &cat, &err) != 0 ||
	    llmcap_scenario_load(&off, path, sets, 3, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	ex = sc;
	ex.engine_mode = LLMCAP_ENGINE_EXACT;
	struct capture c1, c2, c3;
	struct llmcap_results r1, r2, r3;
	run_gen(&sc, &c1, &r1);
	run_gen(&ex, &c2, &r2);
	run_gen(&off, &c3, &r3);
	assert_true(r1.digest == r2.digest);
	assert_int_equal(c1.n, c2.n);
	assert_true(c1.n > 1000);
	double on_tpot = llmcap_quantiles_get(&r1.classes[0].tpot, 0.5);
	double off_tpot = llmcap_quantiles_get(&r3.classes[0].tpot, 0.5);
	assert_true(on_tpot < off_tpot);
	free(c1.rec);
	free(c2.rec);
	free(c3.rec);
	llmcap_results_free(&r1);
	llmcap_results_free(&r2);
	llmcap_results_free(&r3);
}

/* A draft model that is not in the catalog is refused at its key. */
static void unknown_draft_refused(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	int rc = llmcap_scenario_apply_override(
		&sc, "pools.reasoning.speculative={method: draft, draft_model: nope}", &err);
	if (rc == 0)
		rc = llmcap_scenario_check(&sc, &cat, &err);
	assert_int_not_equal(rc, 0);
	assert_contains(err.msg, "draft_model");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acceptance_model),
		cmocka_unit_test(lone_request_by_hand),
		cmocka_unit_test(mean_tokens_per_step),
		cmocka_unit_test(tokens_are_conserved),
		cmocka_unit_test(fast_equals_exact),
		cmocka_unit_test(memory_plan_draft),
		cmocka_unit_test(unknown_draft_refused),
		cmocka_unit_test(shipped_example),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

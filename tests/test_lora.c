/* Multi-LoRA (classes.NAME.lora, pools.NAME.lora). */
#include "test_scenario.h"

#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}


/* Classes "c" and "d" (one adapter each, rank 16 on the attention projections) served by pool
 * "p" of 8B replicas with 10 ms steps, LoRA on with one slot, then the overrides. */
static void scenario(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	static const char *const base[] = {
		"workload.classes={c: {pool: p, share: 0.5, lora: {adapters: 1}}, "
		"d: {pool: p, share: 0.5, lora: {adapters: 1}}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms}, "
		"lora: {max_loras: 1, load_bandwidth: 25e9, adapter_overhead: 0s}}}",
		"hardware={gpus_per_server: 8}",
		"cost.api.prices={c: {input: 1, output: 1}, d: {input: 1, output: 1}}",
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

/* The record of request id */
static const struct llmcap_request_record *rec_of(const struct capture *c, int64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->rec[i].id == id)
			return &c->rec[i];
	fail_msg("no record of request %lld", (long long)id);
	return NULL;
}

/* Llama-3.1-8B (hidden 4096, 32 heads and 8 KV heads of 128, MLP 14336, 32 layers), rank 16:
 * q 4096 + 4096, k and v 4096 + 1024 each, o 4096 + 4096: 26,624 per layer, x 16 x 32 =
 * 13,631,488 parameters, 27,262,976 bytes in bf16; all-linear adds gate and up 4096 + 14336
 * each and down 14336 + 4096: 81,920 per layer. */
static void adapter_size_by_hand(void **state)
{
	(void)state;
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "llama-3.1-8b");
	assert_rel(llmcap_lora_adapter_params(m, 16, LLMCAP_LORA_ATTENTION), 13631488, 0);
	assert_rel(llmcap_lora_adapter_bytes(m, 16, LLMCAP_LORA_ATTENTION), 27262976, 0);
	assert_rel(llmcap_lora_adapter_params(m, 16, LLMCAP_LORA_QV), 16.0 * 32 * (8192 + 5120), 0);
	assert_rel(llmcap_lora_adapter_params(m, 8, LLMCAP_LORA_ALL_LINEAR), 8.0 * 32 * 81920, 0);
}


/* The batched kernels' time of a step with `tokens` adapted tokens of one rank-16 attention
 * adapter, from the pool's GEMM and HBM rates: 2 x parameters FLOPs a token, the adapter's
 * bytes read once, on one GPU. */
static llmcap_time kernel_ns(const struct llmcap_scenario *sc, double tokens)
{
	struct llmcap_perf pf;
	struct llmcap_error err = {0};
	const struct llmcap_pool_cfg *p = &sc->pools[0];
	assert_int_equal(llmcap_perf_init(&pf, llmcap_catalog_model(&cat, p->model),
					  llmcap_catalog_gpu(&cat, sc->hardware.gpu),
					  llmcap_catalog_engine(&cat, p->engine), p, &err), 0);
	double sec = 2 * 13631488.0 * tokens / pf.gemm_flops + 27262976.0 / pf.mem_bw;
	llmcap_perf_free(&pf);
	return llmcap_round_time(sec * 1e9);
}

/* One slot (max_loras 1): A (class c) and B (class d) arrive together; B's adapter would be a
 * second in the batch, so B is passed over until A ends, then its adapter replaces A's. Each
 * admission loads 27,262,976 bytes at 25 GB/s: 1,090,519 ns added to the step. A: prefill
 * (10 ms + load + kernels of 100 tokens), two decodes (10 ms + kernels of 1 token); B the same
 * from A's end. */
static void one_slot_by_hand(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc, NULL, 0);
	struct llmcap_scripted_request q[] = {{.time = 0, .cls = 0, .prompt = 100, .output = 3},
					      {.time = 0, .cls = 1, .prompt = 100, .output = 3}};
	struct capture c;
	struct llmcap_results res;
	run_script(&sc, q, 2, &c, &res);
	assert_int_equal(c.n, 2);
	const llmcap_time load = 1090519, k100 = kernel_ns(&sc, 100), k1 = kernel_ns(&sc, 1);
	const llmcap_time step = 10 * LLMCAP_MS;
	const llmcap_time a_ttft = step + load + k100, a_end = a_ttft + 2 * (step + k1);
	const struct llmcap_request_record *a = rec_of(&c, 0), *b = rec_of(&c, 1);
	assert_rel(a->ttft, (double)a_ttft * 1e-9, 1e-12);
	assert_rel(a->e2e, (double)a_end * 1e-9, 1e-12);
	assert_rel(b->queue, (double)a_end * 1e-9, 1e-12);
	assert_rel(b->ttft, (double)(a_end + a_ttft) * 1e-9, 1e-12);
	assert_rel(b->e2e, (double)(2 * a_end) * 1e-9, 1e-12);
	const struct llmcap_replica_stats *st = &res.replicas[0];
	assert_int_equal(st->lora_loads, 2);
	assert_int_equal(st->lora_load_time, 2 * load);
	assert_true(st->lora_skips >= 3); /* B passed over at each of A's steps */
	assert_int_equal(st->lora_peak, 1);
	/* each request's row: its class's one adapter (index 0), one load of `load` ns */
	for (int i = 0; i < 2; i++) {
		const struct llmcap_request_record *x = i ? b : a;
		assert_int_equal(x->lora_adapter, 0);
		assert_int_equal(x->lora_loads, 1);
		assert_rel(x->lora_load, (double)load * 1e-9, 1e-12);
		assert_int_equal(x->spec_verifications, 0);
	}
	free(c.rec);
	llmcap_results_free(&res);
}

/* An adapter kept in GPU memory is not loaded again: the second request of class c, after the
 * first ended, takes no load. */
static void cached_adapter_not_reloaded(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	scenario(&sc, NULL, 0);
	struct llmcap_scripted_request q[] = {{.time = 0, .cls = 0, .prompt = 100, .output = 3},
					      {.time = LLMCAP_SEC, .cls = 0, .prompt = 100, .output = 3}};
	struct capture c;
	struct llmcap_results res;
	run_script(&sc, q, 2, &c, &res);
	assert_int_equal(res.replicas[0].lora_loads, 1);
	const struct llmcap_request_record *b = rec_of(&c, 1);
	assert_rel(b->ttft, (double)(10 * LLMCAP_MS + kernel_ns(&sc, 100)) * 1e-9, 1e-12);
	assert_int_equal(rec_of(&c, 0)->lora_loads, 1);
	assert_int_equal(b->lora_loads, 0); /* its row says so too */
	assert_rel(b->lora_load, 0, 0);
	free(c.rec);
	llmcap_results_free(&res);
}

/* Under load with 20 adapters a class and max_loras 3: no step ever holds more than 3 distinct
 * adapters (the engine asserts it at every step; the peak says so), requests are passed over
 * for it, every token emitted belongs to a request, and each request ends once. */
static void max_loras_and_conservation(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.lora={max_loras: 3, gpu_cache: 6}",
			      "pools.p.perf_model=roofline", "pools.p.replicas=2",
			      "workload.classes.c.lora={adapters: 20, popularity: zipf}",
			      "workload.classes.d.lora={adapters: 20, rank: 8, target_modules: all-linear}",
			      "workload.rate=6/s", "horizon=5min"};
	scenario(&sc, sets, 7);
	struct capture c;
	struct llmcap_results res;
	run_gen(&sc, &c, &res);
	double out = 0;
	int64_t loads = 0, skips = 0;
	for (size_t i = 0; i < res.n_replicas; i++) {
		const struct llmcap_replica_stats *st = &res.replicas[i];
		assert_true(st->lora_peak <= 3);
		assert_true(st->lora_adapter_sum <= 3 * st->steps);
		out += st->output_tokens;
		loads += st->lora_loads;
		skips += st->lora_skips;
	}
	assert_true(loads > 6);
	assert_true(skips > 0);
	double gen = 0, load_s = 0, load_t = 0;
	int64_t row_loads = 0;
	for (size_t i = 0; i < c.n; i++) {
		gen += (double)c.rec[i].generated_tokens;
		assert_true(c.rec[i].generated_tokens <= c.rec[i].output_tokens);
		assert_true(c.rec[i].lora_adapter >= 0 && c.rec[i].lora_adapter < 20);
		row_loads += c.rec[i].lora_loads;
		load_s += c.rec[i].lora_load;
	}
	for (size_t i = 0; i < res.n_replicas; i++)
		load_t += (double)res.replicas[i].lora_load_time * 1e-9;
	/* every load is one request's: the rows' loads and their time are the replicas' */
	assert_int_equal(row_loads, loads);
	assert_rel(load_s, load_t, 1e-9);
	assert_int_equal(c.n, res.classes[0].arrived + res.classes[1].arrived);
	assert_rel(out, gen, 0);
	free(c.rec);
	llmcap_results_free(&res);
}

/* The fast mode gives the exact mode's results with a LoRA pool beside a plain one. */
static void fast_equals_exact(void **state)
{
	(void)state;
	const char *sets[] = {"pools.p.lora={max_loras: 2}", "pools.p.perf_model=roofline",
			      "pools.q={model: llama-3.1-8b}",
			      "workload.classes.c.lora={adapters: 6}",
			      "workload.classes.d={pool: q, lora: {adapters: 0}}",
			      "workload.rate=4/s", "horizon=10min", "engine_mode=fast"};
	struct llmcap_scenario f, e;
	scenario(&f, sets, 8);
	e = f;
	e.engine_mode = LLMCAP_ENGINE_EXACT;
	struct capture cf, ce;
	struct llmcap_results rf, re;
	run_gen(&f, &cf, &rf);
	run_gen(&e, &ce, &re);
	assert_int_equal(cf.n, ce.n);
	for (size_t i = 0; i < cf.n; i++) {
		assert_int_equal(cf.rec[i].id, ce.rec[i].id);
		assert_memory_equal(&cf.rec[i].e2e, &ce.rec[i].e2e, sizeof(double));
	}
	assert_true(rf.digest == re.digest);
	assert_int_equal(rf.events, re.events);
	assert_true(rf.fast_steps > 0);
	assert_int_equal(rf.replicas[0].lora_loads, re.replicas[0].lora_loads);
	assert_true(rf.replicas[0].lora_loads > 0);
	free(cf.rec);
	free(ce.rec);
	llmcap_results_free(&rf);
	llmcap_results_free(&re);
}

/* The adapter cache's slots come out of the KV cache: gpu_cache 4 slots of rank 16 on every
 * linear layer, 41,943,040 parameters (83,886,080 bytes) each. */
static void memory_plan_slots(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.lora={max_loras: 2, gpu_cache: 4}"};
	scenario(&sc, sets, 1);
	struct llmcap_error err = {0};
	const struct llmcap_pool_cfg *p = &sc.pools[0];
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, p->model);
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, sc.hardware.gpu);
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(&cat, p->engine);
	struct llmcap_memory_plan on, off;
	assert_int_equal(llmcap_memory_plan_pool(&cat, m, g, e, p, &on, &err), 0);
	assert_int_equal(llmcap_memory_plan_engine(m, g, e, p, &off, &err), 0);
	assert_rel(on.lora_bytes_per_gpu, 4 * 83886080.0, 0);
	assert_rel(on.kv_bytes_per_gpu, off.kv_bytes_per_gpu - 4 * 83886080.0, 1e-15);
	assert_true(on.num_blocks < off.num_blocks);
}

/* adapter-affinity sends a request where its adapter is loaded: two replicas, requests of one
 * adapter one after another load it once; round-robin loads it on both. */
static void adapter_affinity_router(void **state)
{
	(void)state;
	struct llmcap_scripted_request q[4];
	for (int i = 0; i < 4; i++)
		q[i] = (struct llmcap_scripted_request){.time = i * LLMCAP_SEC, .cls = 0, .prompt = 100,
							.output = 3};
	for (int aff = 0; aff < 2; aff++) {
		struct llmcap_scenario sc;
		const char *sets[] = {"pools.p.replicas=2",
				      aff ? "pools.p.router=adapter-affinity" : "pools.p.router=round-robin"};
		scenario(&sc, sets, 2);
		struct capture c;
		struct llmcap_results res;
		run_script(&sc, q, 4, &c, &res);
		assert_int_equal(res.replicas[0].lora_loads + res.replicas[1].lora_loads, aff ? 1 : 2);
		free(c.rec);
		llmcap_results_free(&res);
	}
}

/* A class with adapters on a pool without LoRA, or of a rank above the pool's, is refused. */
static void config_refusals(void **state)
{
	(void)state;
	const char *const cases[][2] = {{"pools.p.lora.max_loras=0", "max_loras"},
					{"workload.classes.c.lora.rank=64", "max_lora_rank"},
					{"pools.p.lora.gpu_cache=0", NULL}};
	for (size_t i = 0; i < 3; i++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		llmcap_scenario_defaults(&sc);
		const char *base[] = {
			"workload.classes={c: {pool: p, lora: {adapters: 3}}}",
			"pools={p: {model: llama-3.1-8b, lora: {max_loras: 2}}}",
			"cost.api.prices={c: {input: 1, output: 1}}",
			cases[i][0],
		};
		for (size_t j = 0; j < 4; j++)
			if (llmcap_scenario_apply_override(&sc, base[j], &err) != 0)
				fail_msg("%s", err.msg);
		int rc = llmcap_scenario_check(&sc, &cat, &err);
		if (cases[i][1]) {
			assert_int_not_equal(rc, 0);
			assert_contains(err.msg, cases[i][1]);
		} else if (rc != 0) {
			fail_msg("%s", err.msg);
		}
	}
}

/* The shipped example (models/scenarios/multi-lora.yaml) runs, the same in both modes. */
static void shipped_example(void **state)
{
	(void)state;
	const char *path = LLMCAP_SOURCE_DIR "/models/scenarios/multi-lora.yaml";
	const char *sets[] = {"horizon=10min"};
	struct llmcap_scenario sc, ex;
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(&sc, path, sets, 1, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	ex = sc;
	ex.engine_mode = LLMCAP_ENGINE_EXACT;
	struct capture c1, c2;
	struct llmcap_results r1, r2;
	run_gen(&sc, &c1, &r1);
	run_gen(&ex, &c2, &r2);
	assert_true(r1.digest == r2.digest);
	assert_int_equal(c1.n, c2.n);
	assert_true(c1.n > 500);
	int64_t loads = 0;
	for (size_t i = 0; i < r1.n_replicas; i++)
		loads += r1.replicas[i].lora_loads;
	assert_true(loads > 0);
	free(c1.rec);
	free(c2.rec);
	llmcap_results_free(&r1);
	llmcap_results_free(&r2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adapter_size_by_hand),
		cmocka_unit_test(one_slot_by_hand),
		cmocka_unit_test(cached_adapter_not_reloaded),
		cmocka_unit_test(max_loras_and_conservation),
		cmocka_unit_test(fast_equals_exact),
		cmocka_unit_test(memory_plan_slots),
		cmocka_unit_test(adapter_affinity_router),
		cmocka_unit_test(config_refusals),
		cmocka_unit_test(shipped_example),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

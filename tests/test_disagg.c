/* Disaggregated prefill and decode (pools.NAME.disaggregation; docs/engine.md): the KV
 * transfer's time by hand, a lone request's TTFT by hand, conservation under load with the
 * engine's invariant checks (this program links the library built with them), the fast mode
 * identical to exact steps, and the feature off by default. */
#include "test_util.h"

#include "llmcap/cost.h"
#include "llmcap/perf.h"
#include "llmcap/plan.h"
#include "llmcap/report.h"
#include "llmcap/sim.h"

#ifndef LLMCAP_SOURCE_DIR
#define LLMCAP_SOURCE_DIR "."
#endif

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* Records of one run, by request id (ids below cap), each counted as it comes. */
struct capture {
	struct llmcap_request_record *rec;
	int32_t *seen;
	size_t cap, n;
};

static int on_request(void *user, const struct llmcap_request_record *r)
{
	struct capture *c = user;
	assert_true(r->id >= 0 && (size_t)r->id < c->cap);
	c->rec[r->id] = *r;
	c->seen[r->id]++;
	c->n++;
	return 0;
}

static void capture_init(struct capture *c, size_t cap)
{
	c->rec = calloc(cap, sizeof *c->rec);
	c->seen = calloc(cap, sizeof *c->seen);
	assert_non_null(c->rec);
	assert_non_null(c->seen);
	c->cap = cap;
	c->n = 0;
}

static void capture_free(struct capture *c)
{
	free(c->rec);
	free(c->seen);
}

/* Prefill pool "p" and decode pool "d" of llama-3.1-8b on H100s, every step 10 ms (the
 * linear model with only a per-step term), then the overrides. */
static void scenario(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	const char *base[] = {
		"workload.classes={c: {pool: p}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms}, "
		"disaggregation: {decode_pool: d, link: infiniband-ndr, overlap: false}}, "
		"d: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms}}}",
		"hardware={gpus_per_server: 8}",
		"cost.api.prices={c: {input: 1, output: 1}}",
		"horizon=1h",
	};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		if (llmcap_scenario_apply_override(sc, base[i], &err) != 0)
			fail_msg("%s", err.msg);
	for (size_t i = 0; i < n; i++)
		if (llmcap_scenario_apply_override(sc, sets[i], &err) != 0)
			fail_msg("%s", err.msg);
	if (llmcap_scenario_check(sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

/* KV bytes of one token of llama-3.1-8b in 16 bits, by hand from its catalog entry: K and V,
 * every layer, every KV head, head_dim values of 2 bytes. */
/* One request of 1,000 prompt and 5 output tokens at t = 0, its record captured in c (free
 * with capture_free) and the run's results in res. */
static void lone_request(const struct llmcap_scenario *sc, struct capture *c,
			 struct llmcap_results *res)
{
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 1000, .output = 5}};
	capture_init(c, 4);
	struct llmcap_sink sink = {.user = c, .request = on_request};
	struct llmcap_error err = {0};
	if (llmcap_simulate_script(sc, &cat, &sink, q, 1, res, &err) != 0)
		fail_msg("%s", err.msg);
}

static double kv_bytes_8b(int64_t *layers)
{
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "llama-3.1-8b");
	assert_non_null(m);
	*layers = m->layers;
	return 2.0 * (double)m->layers * (double)m->num_key_value_heads * (double)m->head_dim * 2.0;
}

static void transfer_time_by_hand(void **state)
{
	(void)state;
	int64_t layers;
	const double per_token = kv_bytes_8b(&layers);
	assert_rel(per_token, 131072, 0); /* 2 x 32 layers x 8 heads x 128 x 2 bytes */
	/* the memory plan's share of one GPU at TP 1 is the whole token */
	struct llmcap_scenario sc;
	scenario(&sc, NULL, 0);
	struct llmcap_memory_plan plan;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_memory_plan_engine(llmcap_catalog_model(&cat, "llama-3.1-8b"),
						   llmcap_catalog_gpu(&cat, sc.hardware.gpu),
						   llmcap_catalog_engine(&cat, "vllm"), &sc.pools[0],
						   &plan, &err),
			 0);
	assert_rel(plan.kv_bytes_per_token, per_token, 0);
	const struct llmcap_link_spec *ib = llmcap_catalog_link(&cat, "infiniband-ndr");
	assert_non_null(ib);
	assert_rel(ib->bandwidth, 50e9, 0);              /* 400 Gb/s */
	assert_int_equal(ib->latency, 10 * LLMCAP_US);
	/* 1000 tokens: 131,072,000 bytes at 50 GB/s = 2.62144 ms, plus 10 us */
	llmcap_time t = llmcap_disagg_transfer_time(per_token, 1000, ib->bandwidth, ib->latency,
						    false, layers, 10 * LLMCAP_MS);
	assert_int_equal(t, 2621440 + 10000);
	/* overlapped with a 10 ms prefill: the link keeps up (2.62 ms < 10 ms), the last layer's
	 * 1/32 remains: 81,920 ns, plus 10 us */
	t = llmcap_disagg_transfer_time(per_token, 1000, ib->bandwidth, ib->latency, true, layers,
					10 * LLMCAP_MS);
	assert_int_equal(t, 81920 + 10000);
	/* overlapped with a 1 ms prefill: the link's backlog, 2.62144 - 1 x 31/32 ms remains */
	t = llmcap_disagg_transfer_time(per_token, 1000, ib->bandwidth, ib->latency, true, layers,
					LLMCAP_MS);
	assert_int_equal(t, 2621440 - 968750 + 10000);
	/* over Ethernet at 25 Gb/s: 131,072,000 / 3.125e9 s = 41.94304 ms, plus 50 us */
	const struct llmcap_link_spec *eth = llmcap_catalog_link(&cat, "ethernet-25g");
	assert_non_null(eth);
	t = llmcap_disagg_transfer_time(per_token, 1000, eth->bandwidth, eth->latency, false, layers, 0);
	assert_int_equal(t, 41943040 + 50000);
	llmcap_scenario_free(&sc);
}

/* One request, prompt 1000, output 5: the prefill replica's one step (10 ms) computes the
 * prompt and samples the first token; the KV moves (T, by hand above); the decode replica's
 * four steps emit the other four tokens. TTFT = 10 ms + T, TPOT = 10 ms. */
static void lone_request_ttft_by_hand(void **state)
{
	(void)state;
	for (int overlap = 0; overlap < 2; overlap++) {
		struct llmcap_scenario sc;
		const char *sets[] = {overlap ? "pools.p.disaggregation.overlap=true"
					      : "pools.p.disaggregation.overlap=false"};
		scenario(&sc, sets, 1);
		const llmcap_time T = overlap ? 81920 + 10000 : 2621440 + 10000;
		struct capture c;
		struct llmcap_results res;
		lone_request(&sc, &c, &res);
		assert_int_equal(c.n, 1);
		const struct llmcap_request_record *r = &c.rec[0];
		assert_int_equal(r->status, LLMCAP_REQ_COMPLETED);
		assert_int_equal(r->prefill_replica, 0); /* pool p's replica */
		assert_int_equal(r->replica, 1);         /* pool d's replica */
		assert_int_equal(r->generated_tokens, 5);
		assert_rel(r->queue, 0, 0);
		assert_rel(r->prefill, 0.010, 1e-12);
		assert_rel(r->decode_queue, 0, 0);
		assert_rel(r->kv_transfer, (double)T * 1e-9, 1e-12);
		assert_rel(r->ttft, 0.010 + (double)T * 1e-9, 1e-12);
		assert_rel(r->tpot, 0.010, 1e-9);
		assert_rel(r->e2e, 0.050 + (double)T * 1e-9, 1e-12);
		/* the prefill replica ran one step, the decode replica four */
		assert_int_equal(res.replicas[0].steps, 1);
		assert_int_equal(res.replicas[1].steps, 4);
		assert_true(res.disaggregated);
		assert_int_equal(res.disagg[0].handoffs, 1);
		assert_int_equal(res.disagg[0].transfers, 1);
		assert_rel(res.disagg[0].bytes, 131072.0 * 1000, 0);
		llmcap_results_free(&res);
		capture_free(&c);
		llmcap_scenario_free(&sc);
	}
}

/* pool pi's roofline step time of one sequence computing n new tokens over `context` tokens
 * already cached, on the pool's own GPU */
static llmcap_time pool_step(const struct llmcap_scenario *sc, size_t pi, int64_t n, int64_t context)
{
	const struct llmcap_pool_cfg *p = &sc->pools[pi];
	struct llmcap_perf pf;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_perf_init(&pf, llmcap_catalog_model(&cat, p->model),
					  llmcap_catalog_gpu(&cat, llmcap_pool_gpu(sc, pi)),
					  llmcap_catalog_engine(&cat, p->engine), p, &err),
			 0);
	const struct llmcap_step_shape s = {.tokens = n,
					    .attn_pairs = (double)n * (double)context +
							  (double)n * (double)(n + 1) / 2,
					    .kv_read_tokens = (double)(context + n),
					    .samples = 1};
	llmcap_time t = llmcap_perf_step_time(&pf, &s, NULL);
	llmcap_perf_free(&pf);
	return t;
}

/* The two groups on GPUs of their own (pools.NAME.gpu): prefill on H100s at TP 2, decode on an
 * H200 at TP 1. Each group's memory plan is its GPU's, each step time its GPU's roofline, the
 * transfer's lane the larger per-GPU share (the decode side's whole token at TP 1), the servers
 * and their cost by GPU type, and a link inside a server is refused between them. One request,
 * prompt 1000, output 5: TTFT = the H100 prefill + T, TPOT = the mean of four H200 decodes. */
static void groups_on_their_own_gpus(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.tensor_parallel_size=2", "pools.d.gpu=h200-141gb",
			      "pools.p.perf_model=roofline", "pools.d.perf_model=roofline"};
	scenario(&sc, sets, 4);
	assert_string_equal(llmcap_pool_gpu(&sc, 0), "h100-sxm-80gb");
	struct capture c;
	struct llmcap_results res;
	lone_request(&sc, &c, &res);
	struct llmcap_error err = {0};
	/* memory plans: each on its own GPU, at its own TP */
	for (size_t p = 0; p < 2; p++) {
		struct llmcap_memory_plan plan;
		assert_int_equal(llmcap_memory_plan_engine(llmcap_catalog_model(&cat, "llama-3.1-8b"),
							   llmcap_catalog_gpu(&cat, llmcap_pool_gpu(&sc, p)),
							   llmcap_catalog_engine(&cat, "vllm"), &sc.pools[p],
							   &plan, &err),
				 0);
		assert_int_equal(res.pools[p].plan.num_blocks, plan.num_blocks);
		assert_rel(res.pools[p].plan.kv_bytes_per_token, p ? 131072 : 65536, 0);
	}
	/* the decode pool on an H100 would hold fewer blocks (80 GB, not 141 GB) */
	struct llmcap_memory_plan h100;
	assert_int_equal(llmcap_memory_plan_engine(llmcap_catalog_model(&cat, "llama-3.1-8b"),
						   llmcap_catalog_gpu(&cat, "h100-sxm-80gb"),
						   llmcap_catalog_engine(&cat, "vllm"), &sc.pools[1],
						   &h100, &err),
			 0);
	assert_true(res.pools[1].plan.num_blocks > 2 * h100.num_blocks);
	const struct llmcap_request_record *r = &c.rec[0];
	assert_int_equal(c.n, 1);
	assert_int_equal(r->status, LLMCAP_REQ_COMPLETED);
	/* lane: max(65,536, 131,072) bytes a token: 1000 tokens at 50 GB/s + 10 us, no overlap */
	const llmcap_time T = 2621440 + 10000;
	const llmcap_time pre = pool_step(&sc, 0, 1000, 0);
	llmcap_time dec = 0;
	for (int64_t k = 0; k < 4; k++) /* the second to fifth tokens over 1000 + k cached */
		dec += pool_step(&sc, 1, 1, 1000 + k);
	assert_rel(r->prefill, (double)pre * 1e-9, 1e-12);
	assert_rel(r->kv_transfer, (double)T * 1e-9, 1e-12);
	assert_rel(r->ttft, (double)(pre + T) * 1e-9, 1e-12);
	assert_rel(r->tpot, (double)dec * 1e-9 / 4, 1e-9);
	/* on an H100 instead the decodes are slower (less HBM bandwidth) */
	sc.pools[1].gpu[0] = '\0';
	llmcap_time dec_h100 = 0;
	for (int64_t k = 0; k < 4; k++)
		dec_h100 += pool_step(&sc, 1, 1, 1000 + k);
	assert_true(dec_h100 > dec);
	snprintf(sc.pools[1].gpu, sizeof sc.pools[1].gpu, "h200-141gb");
	/* the stages' statistics of the pair are the record's */
	assert_rel(llmcap_quantiles_mean(&res.disagg[0].prefill), r->prefill, 1e-12);
	assert_rel(llmcap_quantiles_mean(&res.disagg[0].prefill_queue), 0, 0);
	assert_rel(llmcap_quantiles_mean(&res.disagg[0].decode_queue), 0, 0);
	assert_rel(llmcap_quantiles_mean(&res.disagg[0].transfer), r->kv_transfer, 1e-12);
	/* servers by GPU type: the H100 group (one server of 8) and the H200 group's own */
	struct llmcap_server_group g[LLMCAP_MAX_POOLS + 1];
	size_t group_of[LLMCAP_MAX_POOLS];
	assert_int_equal(llmcap_server_groups(&sc, NULL, g, group_of), 2);
	assert_string_equal(g[group_of[0]].gpu, "h100-sxm-80gb");
	assert_string_equal(g[group_of[1]].gpu, "h200-141gb");
	assert_int_equal(g[group_of[1]].gpus_needed, 1);
	llmcap_results_free(&res);
	capture_free(&c);
	/* NVLink joins GPUs of one server: refused between the two GPU types, kept on one */
	assert_int_equal(llmcap_scenario_apply_override(&sc, "pools.p.disaggregation.link=nvlink-h100",
							&err),
			 0);
	assert_int_not_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
	assert_contains(err.msg, "pools.p.disaggregation.link");
	assert_contains(err.msg, "h200-141gb");
	sc.pools[1].gpu[0] = '\0';
	assert_int_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
	llmcap_scenario_free(&sc);
}

/* Runs sc in the given mode and checks that every arrival ended exactly once. */
static uint64_t run_conserving(struct llmcap_scenario *sc, enum llmcap_engine_mode mode,
			       struct llmcap_results *res, struct capture *c)
{
	sc->engine_mode = mode;
	capture_init(c, 1 << 16);
	struct llmcap_sink sink = {.user = c, .request = on_request};
	struct llmcap_error err = {0};
	if (llmcap_simulate(sc, &cat, &sink, res, &err) != 0)
		fail_msg("%s", err.msg);
	int64_t arrived = 0, ended = 0;
	for (size_t k = 0; k < res->n_classes; k++) {
		arrived += res->classes[k].arrived;
		for (int st = 0; st < LLMCAP_REQ_N_STATUS; st++)
			ended += res->classes[k].by_status[st];
	}
	assert_true(arrived > 0);
	assert_int_equal(ended, arrived);
	assert_int_equal((int64_t)c->n, arrived);
	for (int64_t i = 0; i < arrived; i++)
		assert_int_equal(c->seen[i], 1);
	/* every request handed over was transferred, or is between the groups at the horizon */
	for (size_t p = 0; p < res->n_pools; p++) {
		if (!res->disagg[p].on)
			continue;
		int64_t between = 0, handed = 0;
		for (int64_t i = 0; i < arrived; i++) {
			handed += c->rec[i].prefill_replica >= 0 && c->rec[i].pool == (int32_t)p;
			between += c->rec[i].prefill_replica >= 0 && isnan(c->rec[i].kv_transfer);
		}
		assert_int_equal(handed, res->disagg[p].handoffs);
		assert_int_equal(res->disagg[p].transfers + between, res->disagg[p].handoffs);
	}
	return res->digest;
}

/* Under load, with a decode group short of KV blocks (reservations wait: the decode queue;
 * running requests get preempted), both modes: every request ends once, the invariant checks
 * hold at every step, and the fast mode's digest is exact's. */
static void conservation_and_fast_equals_exact(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {
		"workload.rate=40/s",
		"workload.diurnal.shape=none",
		"workload.classes.c.prompt={dist: lognormal, median: 1500, sigma: 0.8, min: 16, max: 6000}",
		"workload.classes.c.output={dist: lognormal, median: 120, sigma: 0.8, min: 1, max: 1000}",
		"pools.p.perf_model=roofline",
		"pools.p.replicas=2",
		"pools.d.perf_model=roofline",
		"pools.d.replicas=2",
		"pools.d.num_gpu_blocks_override=2000",
		"pools.d.router=least-outstanding",
		"pools.p.disaggregation.overlap=true",
		"horizon=10min",
	};
	scenario(&sc, sets, sizeof sets / sizeof sets[0]);
	struct llmcap_results fast, exact;
	struct capture cf, ce;
	uint64_t df = run_conserving(&sc, LLMCAP_ENGINE_FAST, &fast, &cf);
	uint64_t de = run_conserving(&sc, LLMCAP_ENGINE_EXACT, &exact, &ce);
	assert_true(df == de);
	assert_true(fast.fast_steps > 0); /* decode replicas took runs */
	assert_int_equal(exact.fast_steps, 0);
	assert_int_equal(fast.events, exact.events);
	/* the decode group was short: some reservations waited, some requests were preempted */
	int64_t waited = 0;
	for (size_t i = 0; i < cf.cap && cf.seen[i]; i++)
		waited += cf.rec[i].decode_queue > 0;
	assert_true(waited > 0);
	assert_true(fast.disagg[0].transfers > 1000);
	/* TTFT is the stages' sum for every request that completed after a transfer */
	for (size_t i = 0; i < cf.cap && cf.seen[i]; i++) {
		const struct llmcap_request_record *r = &cf.rec[i];
		if (r->status != LLMCAP_REQ_COMPLETED || r->prefill_replica < 0)
			continue;
		assert_rel(r->ttft, r->queue + r->prefill + r->decode_queue + r->kv_transfer, 1e-9);
	}
	llmcap_results_free(&fast);
	llmcap_results_free(&exact);
	capture_free(&cf);
	capture_free(&ce);
	llmcap_scenario_free(&sc);
}

/* Fast == exact, and conservation, across the decode group's engine rules: swap preemption
 * with jsq routing, TensorRT-LLM's guaranteed-no-evict admission with power-of-two routing,
 * least-kv routing (which reads KV use: runs are applied at once), prefix caching on the
 * prefill group, and a slow link without overlap. */
static void variants_fast_equals_exact(void **state)
{
	(void)state;
	const char *variants[][4] = {
		{"pools.d.preemption_mode=swap", "pools.d.router=jsq", "pools.d.num_gpu_blocks_override=1500", NULL},
		{"pools.d.engine=trtllm", "pools.p.engine=trtllm", "pools.d.router=power-of-two", NULL},
		{"pools.d.router=least-kv", "pools.p.enable_prefix_caching=true",
		 "workload.classes.c.shared_prefix_tokens=512", NULL},
		{"pools.p.disaggregation.link=ethernet-25g", "pools.p.disaggregation.overlap=false",
		 "pools.d.max_num_seqs=8", NULL},
	};
	for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
		const char *sets[16] = {"workload.rate=20/s", "workload.diurnal.shape=none",
					"pools.p.perf_model=roofline", "pools.d.perf_model=roofline",
					"pools.d.replicas=2", "horizon=5min"};
		size_t n = 6;
		for (size_t k = 0; variants[v][k]; k++)
			sets[n++] = variants[v][k];
		struct llmcap_scenario sc;
		scenario(&sc, sets, n);
		struct llmcap_results fast, exact;
		struct capture cf, ce;
		uint64_t df = run_conserving(&sc, LLMCAP_ENGINE_FAST, &fast, &cf);
		uint64_t de = run_conserving(&sc, LLMCAP_ENGINE_EXACT, &exact, &ce);
		if (df != de)
			fail_msg("variant %zu: fast digest %016llx, exact %016llx", v,
				 (unsigned long long)df, (unsigned long long)de);
		assert_true(fast.disagg[0].transfers > 0);
		llmcap_results_free(&fast);
		llmcap_results_free(&exact);
		capture_free(&cf);
		capture_free(&ce);
		llmcap_scenario_free(&sc);
	}
}

/* The shipped example runs, and identically in both modes. */
static void shipped_example(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(&sc, LLMCAP_SOURCE_DIR "/models/scenarios/disaggregated.yaml", NULL,
				 0, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	struct llmcap_results fast, exact;
	struct capture cf, ce;
	uint64_t df = run_conserving(&sc, LLMCAP_ENGINE_FAST, &fast, &cf);
	uint64_t de = run_conserving(&sc, LLMCAP_ENGINE_EXACT, &exact, &ce);
	assert_true(df == de);
	assert_true(fast.disaggregated && fast.disagg[0].on);
	assert_true(fast.disagg[0].transfers > 0);
	llmcap_results_free(&fast);
	llmcap_results_free(&exact);
	capture_free(&cf);
	capture_free(&ce);
	llmcap_scenario_free(&sc);
}

/* Off by default: the reference scenario with the section's other keys set but no decode_pool
 * runs exactly as without them, and no record is handed over. */
static void off_by_default(void **state)
{
	(void)state;
	uint64_t d[2];
	for (int k = 0; k < 2; k++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		const char *sets[] = {"horizon=20min", "pools.utility.disaggregation.link=roce-100g",
				      "pools.utility.disaggregation.overlap=false"};
		if (llmcap_scenario_load(&sc, NULL, sets, k ? 3 : 1, &cat, &err) != 0)
			fail_msg("%s", err.msg);
		struct llmcap_results res;
		struct capture c;
		d[k] = run_conserving(&sc, LLMCAP_ENGINE_FAST, &res, &c);
		assert_false(res.disaggregated);
		for (size_t i = 0; i < c.cap && c.seen[i]; i++) {
			assert_int_equal(c.rec[i].prefill_replica, -1);
			assert_true(isnan(c.rec[i].kv_transfer));
		}
		llmcap_results_free(&res);
		capture_free(&c);
		llmcap_scenario_free(&sc);
	}
	assert_true(d[0] == d[1]);
}

/* Whether sc meets every class's busiest-hour SLOs (what plan asks of a fleet). */
static bool meets_slos(const struct llmcap_scenario *sc)
{
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	if (llmcap_simulate(sc, &cat, NULL, &res, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	bool ok = sum.peak.all_slo_met;
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	return ok;
}

/* plan sizes the two groups separately: at its answer every SLO holds, and one replica fewer
 * in either group (where it has more than one) misses one. */
static void plan_sizes_both_groups(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	/* plan judges the busiest hour: the example's one-hour horizon */
	if (llmcap_scenario_load(&sc, LLMCAP_SOURCE_DIR "/models/scenarios/disaggregated.yaml", NULL,
				 0, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	struct llmcap_fleet f;
	if (llmcap_plan_fleet(&sc, &cat, NAN, -1, &f, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(f.feasible && f.slo_met);
	assert_int_equal(f.gpus, 2 * f.replicas[0] + f.replicas[1]); /* TP 2 prefill, TP 1 decode */
	for (size_t p = 0; p < 2; p++)
		sc.pools[p].replicas = f.replicas[p];
	sc.hardware.servers = llmcap_plan_servers(&sc, f.replicas);
	assert_true(meets_slos(&sc));
	int fewer = 0;
	for (size_t p = 0; p < 2; p++) {
		if (f.replicas[p] < 2)
			continue;
		sc.pools[p].replicas = f.replicas[p] - 1;
		assert_false(meets_slos(&sc));
		sc.pools[p].replicas = f.replicas[p];
		fewer++;
	}
	assert_true(fewer > 0); /* the example's load needs more than one replica somewhere */
	llmcap_scenario_free(&sc);
}

/* What the scenario check refuses, with the key and what it expected. */
static void refused(void **state)
{
	(void)state;
	const struct {
		const char *set, *msg;
	} cases[] = {
		{"pools.p.disaggregation.decode_pool=x", "not a pool"},
		{"pools.p.disaggregation.decode_pool=p", "the pool itself"},
		{"pools.p.disaggregation.link=infiniband-nd", "did you mean 'infiniband-ndr'"},
		{"pools.d.block_size=32", "same model and KV layout"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		llmcap_scenario_defaults(&sc);
		const char *sets[] = {
			"workload.classes={c: {pool: p}}",
			"pools={p: {disaggregation: {decode_pool: d}}, d: {}}",
			"hardware={gpus_per_server: 8}",
			"cost.api.prices={c: {input: 1, output: 1}}",
			cases[i].set,
		};
		for (size_t k = 0; k < 5; k++)
			assert_int_equal(llmcap_scenario_apply_override(&sc, sets[k], &err), 0);
		assert_int_not_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
		assert_contains(err.msg, "disaggregation");
		assert_contains(err.msg, cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transfer_time_by_hand),
		cmocka_unit_test(lone_request_ttft_by_hand),
		cmocka_unit_test(groups_on_their_own_gpus),
		cmocka_unit_test(conservation_and_fast_equals_exact),
		cmocka_unit_test(variants_fast_equals_exact),
		cmocka_unit_test(shipped_example),
		cmocka_unit_test(off_by_default),
		cmocka_unit_test(plan_sizes_both_groups),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

/* Multi-node parallelism (models/parallel.c): pipeline bubble and step by hand, expert
 * parallelism's all-to-all by hand, DeepSeek-V3 FP8's weights per GPU over TP 8 x PP 2 by hand,
 * fast == exact on the shipped example, an unused layout bit for bit the single-server one,
 * and located errors for layouts the fleet cannot hold. */
#include "test_util.h"

#include <hdf5.h>
#include <unistd.h>

#include "llmcap/output.h"
#include "llmcap/perf.h"
#include "llmcap/report.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

#define EXAMPLE LLMCAP_SOURCE_DIR "/models/scenarios/deepseek-v3-2node.yaml"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* The example's pool with overrides, checked. */
static struct llmcap_pool_cfg example_pool(const char *const *sets, size_t n)
{
	static struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(&sc, EXAMPLE, sets, n, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	return sc.pools[0];
}

static const char *const ep_layout[] = {
	"pools.v3.pipeline_parallel_size=1", "pools.v3.data_parallel_attention=2",
	"pools.v3.expert_parallel=16", "pools.v3.expert_imbalance=1.3", "pools.v3.engine=sglang"};

/* A fixed schedule of m micro-batches through PP stages of s seconds, hops h: the last leaves
 * after (m + PP - 1) s + (PP - 1) h; the stages idle (PP - 1) / (m + PP - 1) of it. PP 4,
 * m 4, s 2 ms, h 0.1 ms: 7 x 2 + 3 x 0.1 = 14.3 ms, bubble 3/7; one micro-batch: 3/4. */
static void pipeline_bubble_by_hand(void **state)
{
	(void)state;
	assert_rel(llmcap_pp_schedule_seconds(2e-3, 0.1e-3, 4, 4), 14.3e-3, 1e-12);
	assert_rel(llmcap_pp_bubble(4, 4), 3.0 / 7.0, 1e-15);
	assert_rel(llmcap_pp_bubble(4, 1), 0.75, 1e-15);
	assert_true(llmcap_pp_bubble(1, 5) == 0); /* one stage: no bubble */
	/* the busy share of m micro-batches of time s each: m s / ((m + PP - 1) s) */
	assert_rel(1 - llmcap_pp_bubble(2, 8), 8.0 / 9.0, 1e-15);
	/* a step's micro-batches: its sampling sequences, at least 1, at most PP */
	assert_true(llmcap_pp_micro_batches(4, 0) == 1);
	assert_true(llmcap_pp_micro_batches(4, 2) == 2);
	assert_true(llmcap_pp_micro_batches(4, 9) == 4);
}

/* TP 8 x PP 2: a step of one micro-batch passes both stages (the roofline over all the
 * layers, as the single-server model of the same TP gives it) and one hop of its tokens'
 * hidden states: 10 us + T x 7168 x 2 B / 50 GB/s. With 4 sequences sampling, 2 micro-batches
 * of half the step each: one's time through both stages plus one hop of half the tokens. */
static void pipeline_step_by_hand(void **state)
{
	(void)state;
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "deepseek-v3");
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(&cat, "vllm");
	struct llmcap_pool_cfg pp2 = example_pool(NULL, 0), pp1 = pp2;
	pp1.parallel.pipeline_parallel_size = 1;
	struct llmcap_perf a, b;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_perf_init(&a, m, g, e, &pp2, &err), 0);
	assert_int_equal(llmcap_perf_init(&b, m, g, e, &pp1, &err), 0);
	const double hop1 = 10e-6 + 1 * 7168.0 * 2 / 50e9; /* 10.28672 us */
	struct llmcap_step_shape one = {.tokens = 1, .attn_pairs = 1000, .kv_read_tokens = 1000,
					.samples = 1};
	double sa = llmcap_perf_step_seconds(&a, &one, NULL, NULL);
	double sb = llmcap_perf_step_seconds(&b, &one, NULL, NULL);
	assert_rel(sa - sb, hop1, 1e-6);
	/* 4 sequences of 500 tokens of context each: 2 micro-batches of 2 */
	struct llmcap_step_shape four = {.tokens = 4, .attn_pairs = 2004, .kv_read_tokens = 2004,
					 .samples = 4};
	struct llmcap_step_shape half = {.tokens = 2, .attn_pairs = 1002, .kv_read_tokens = 1002,
					 .samples = 2};
	const double hop2 = 10e-6 + 2 * 7168.0 * 2 / 50e9;
	struct llmcap_step_work wa, wh;
	struct llmcap_step_breakdown bd;
	double s4 = llmcap_perf_step_seconds(&a, &four, &wa, &bd);
	double sh = llmcap_perf_step_seconds(&b, &half, &wh, NULL);
	assert_rel(s4, sh + hop2, 1e-12);
	/* the breakdown sums to the step, the hop in comm; the work is both micro-batches' */
	assert_rel(bd.linear + bd.attention + bd.lm_head + bd.comm + bd.overhead, s4, 1e-12);
	assert_rel(wa.flops, 2 * wh.flops, 1e-12);
	/* the pipeline's throughput: 4 tokens in s4 against 2 in sh + hop, the same step */
	assert_true(s4 < 2 * sh);
	llmcap_perf_free(&a);
	llmcap_perf_free(&b);
}

/* Expert parallelism over 16 ranks, 8 a server: one all-to-all of 64 tokens sends
 * 64 x 7168 x 2 B x top-8 / 16 = 458,752 B per GPU; the busiest rank (1.3 x the mean) moves
 * 7/16 of it over NVLink and 8/16 over the link:
 *   10 us + 458752 x 1.3 x (7/16 / 365 GB/s + 8/16 / 50 GB/s)
 *   = 10 us + 596377.6 B x 1.119863e-11 s/B = 16.6786 us */
static void expert_all_to_all_by_hand(void **state)
{
	(void)state;
	assert_rel(llmcap_ep_all_to_all_bytes(64, 7168, 2, 8, 16), 458752.0, 1e-15);
	double t = llmcap_ep_all_to_all_seconds(458752.0, 16, 1.3, 8, 365e9, 50e9, 10e-6);
	assert_rel(t, 10e-6 + 458752.0 * 1.3 * (7.0 / 16 / 365e9 + 8.0 / 16 / 50e9), 1e-12);
	assert_rel(t, 16.6786e-6, 1e-5);
	/* one server of 16: all over NVLink */
	double t16 = llmcap_ep_all_to_all_seconds(458752.0, 16, 1.0, 16, 365e9, 50e9, 0);
	assert_rel(t16, 458752.0 * 15.0 / 16 / 365e9, 1e-12);

	/* the pool: DeepSeek-V3 (58 MoE layers) at TP 8 x DP 2, EP 16, imbalance 1.3; per step
	 * 2 x 58 all-to-alls, their bytes per token 7168 x 2 x 8 / 16 = 7168 */
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "deepseek-v3");
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(&cat, "sglang");
	struct llmcap_pool_cfg p = example_pool(ep_layout, 5);
	struct llmcap_perf pf;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_perf_init(&pf, m, g, e, &p, &err), 0);
	assert_true(pf.par.a2a_count == 116);
	assert_rel(pf.par.a2a_bytes_per_token, 7168.0, 1e-15);
	llmcap_parallel_servers(&pf.par, 8);
	assert_rel(pf.par.a2a_s_per_token,
		   116 * 7168.0 * 1.3 * (7.0 / 16 / g->allreduce_bandwidth + 8.0 / 16 / 50e9), 1e-12);
	assert_rel(pf.par.a2a_fixed_s, 116 * 10e-6, 1e-12);
	/* a step's communication: the TP all-reduces plus the all-to-alls */
	struct llmcap_step_fixed f;
	llmcap_perf_fixed(&pf, 64, 64, &f);
	assert_rel(f.comm,
		   pf.allreduce_time_fixed + pf.allreduce_s_per_token * 64 + pf.par.a2a_fixed_s +
			   pf.par.a2a_s_per_token * 64,
		   1e-12);
	/* the busiest expert rank: the routed experts' FLOPs grow with the imbalance */
	struct llmcap_pool_cfg q = p;
	q.parallel.expert_imbalance = 1.0;
	struct llmcap_perf even;
	assert_int_equal(llmcap_perf_init(&even, m, g, e, &q, &err), 0);
	struct llmcap_param_count pc;
	llmcap_model_params(m, &pc);
	assert_rel(pf.active_params_layer - even.active_params_layer,
		   0.3 * 8 * pc.expert_per_layer / 16, 1e-9);
	llmcap_perf_free(&pf);
	llmcap_perf_free(&even);
}

/* DeepSeek-V3 in FP8 over TP 8 x PP 2, by hand from config.json (h 7168, 61 layers of which
 * 3 dense, 256 experts of 2048 + 1 shared, MLA q_lora 1536 kv_lora 512, vocab 129280):
 *   attention per layer 187,105,280 (of which q_a + kv_a = 15,138,816 on every TP rank);
 *   a MoE layer 11,507,286,016, a dense one 583,483,392: layers 669,173,039,104;
 *   replicated 61 x 15,138,816 = 923,467,776; embedding = LM head = 926,679,040.
 *   The busiest stage holds 31 of the 61 layers and one of embedding / LM head:
 *   ((669,173,039,104 - 923,467,776) / 8 + 923,467,776) x 31/61 + (926,679,040 + 7168) / 8
 *   = 43,035,419,217.8 B at 1 B a weight, + 926,679,040 / 8 for vLLM's 16-bit embedding
 *   = 43,151,254,097.8 B (40.2 GiB): it fits an H100's 71.7 GiB budget, where TP 8 alone needs
 *   79.1 GiB and does not. KV per token and GPU: MLA's latent (512 + 64) x 31 layers x 2 B. */
static void deepseek_v3_fp8_weights_by_hand(void **state)
{
	(void)state;
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "deepseek-v3");
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(&cat, "vllm");
	struct llmcap_pool_cfg p = example_pool(NULL, 0);
	struct llmcap_memory_plan plan;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_memory_plan_engine(m, g, e, &p, &plan, &err), 0);
	const double layers = 669173039104.0, repl = 923467776.0, emb = 926679040.0;
	const double by_hand = ((layers - repl) / 8 + repl) * 31.0 / 61.0 + (emb + 7168) / 8 + emb / 8;
	assert_rel(by_hand, 43151254097.8, 1e-11);
	assert_rel(plan.weight_bytes_per_gpu, by_hand, 1e-12);
	assert_rel(plan.kv_bytes_per_token, 576.0 * 31 * 2, 1e-15);
	assert_true(plan.num_blocks > 0);
	/* one stage of the same: does not fit */
	struct llmcap_pool_cfg one = p;
	one.parallel.pipeline_parallel_size = 1;
	assert_int_equal(llmcap_memory_plan_engine(m, g, e, &one, &plan, &err), -LLMCAP_ECAPACITY);
	assert_contains(err.msg, "expected pipeline_parallel_size >= 2");

	/* EP 16 with DP attention 2: routed experts over 16, the rest over TP 8, whole model on
	 * one stage; the KV cache of the two DP ranks together */
	struct llmcap_pool_cfg ep = example_pool(ep_layout, 5);
	const double routed = 256 * 3 * 7168.0 * 2048 * 58;
	const double ep_hand = (layers - repl - routed) / 8 + repl + routed / 16 + (2 * emb + 7168) / 8;
	struct llmcap_memory_plan a, b;
	assert_int_equal(llmcap_memory_plan_engine(m, g, llmcap_catalog_engine(&cat, "sglang"), &ep,
						   &a, &err), 0);
	assert_rel(a.weight_bytes_per_gpu, ep_hand + 2 * emb / 8, 1e-12);
	ep.parallel.data_parallel_attention = 1;
	ep.parallel.expert_parallel = 8;
	assert_int_equal(llmcap_memory_plan_engine(m, g, llmcap_catalog_engine(&cat, "sglang"), &ep,
						   &b, &err), -LLMCAP_ECAPACITY); /* EP 8: 80 GiB */
}

/* A pool that uses no layout (1s, or zeros as a pool built by hand has) gives the
 * single-server model's plan and step times bit for bit: the reference digests stay. */
static void unused_layout_is_bit_identical(void **state)
{
	(void)state;
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "llama-3.1-70b");
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(&cat, "vllm");
	static struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	assert_int_equal(llmcap_scenario_apply_override(
				 &sc, "pools.p={model: llama-3.1-70b, tensor_parallel_size: 4}", &err), 0);
	struct llmcap_pool_cfg ones = sc.pools[0], zeros = ones;
	assert_true(ones.parallel.pipeline_parallel_size == 1 && ones.parallel.expert_parallel == 1);
	memset(&zeros.parallel, 0, sizeof zeros.parallel);
	assert_false(llmcap_parallel_active(&ones));
	assert_int_equal(llmcap_pool_gpus_per_replica(&zeros), 4);
	struct llmcap_memory_plan pa, pb;
	assert_int_equal(llmcap_memory_plan_engine(m, g, e, &ones, &pa, &err), 0);
	assert_int_equal(llmcap_memory_plan_engine(m, g, e, &zeros, &pb, &err), 0);
	assert_memory_equal(&pa.weight_bytes_per_gpu, &pb.weight_bytes_per_gpu, sizeof(double));
	assert_int_equal(pa.num_blocks, pb.num_blocks);
	struct llmcap_perf a, b;
	assert_int_equal(llmcap_perf_init(&a, m, g, e, &ones, &err), 0);
	assert_int_equal(llmcap_perf_init(&b, m, g, e, &zeros, &err), 0);
	for (int64_t t = 1; t <= 4096; t *= 4)
		for (int64_t n = 0; n <= t && n <= 256; n = n ? n * 2 : 1) {
			struct llmcap_step_shape s = {.tokens = t, .attn_pairs = (double)t * 700,
						      .kv_read_tokens = (double)t * 650, .samples = n};
			assert_int_equal(llmcap_perf_step_time(&a, &s, NULL),
					 llmcap_perf_step_time(&b, &s, NULL));
		}
	llmcap_perf_free(&a);
	llmcap_perf_free(&b);
}

static void run_both_modes(const char *const *sets, size_t n)
{
	static struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *all[8] = {"horizon=2h"};
	for (size_t i = 0; i < n; i++)
		all[i + 1] = sets[i];
	if (llmcap_scenario_load(&sc, EXAMPLE, all, n + 1, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	struct llmcap_results f, x;
	sc.engine_mode = LLMCAP_ENGINE_FAST;
	if (llmcap_simulate(&sc, &cat, NULL, &f, &err) != 0)
		fail_msg("%s", err.msg);
	sc.engine_mode = LLMCAP_ENGINE_EXACT;
	if (llmcap_simulate(&sc, &cat, NULL, &x, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(f.digest == x.digest);
	assert_int_equal(f.events, x.events);
	assert_true(f.pools[0].plan.num_blocks == x.pools[0].plan.num_blocks);
	llmcap_results_free(&f);
	llmcap_results_free(&x);
}

/* The shipped example, and its expert-parallel layout: the fast mode's results are exact's. */
static void example_fast_equals_exact(void **state)
{
	(void)state;
	run_both_modes(NULL, 0);
	run_both_modes(ep_layout, 5);
}

static void expect_error(const char *const *sets, size_t n, int code, const char *where,
			 const char *what)
{
	static struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_scenario_load(&sc, EXAMPLE, sets, n, &cat, &err), code);
	assert_contains(err.msg, where);
	assert_contains(err.msg, what);
}

/* Layouts the fleet cannot hold, located at the pool's place in the file. */
static void layouts_beyond_the_fleet(void **state)
{
	(void)state;
	const char *one_server[] = {"hardware.servers=1"};
	expect_error(one_server, 1, -LLMCAP_ECAPACITY, "deepseek-v3-2node.yaml:34:3",
		     "need 16 GPUs");
	const char *two_replicas[] = {"pools.v3.replicas=2"};
	expect_error(two_replicas, 1, -LLMCAP_ECAPACITY, "deepseek-v3-2node.yaml:34:3", "need 32 GPUs");
	const char *ragged[] = {"pools.v3.tensor_parallel_size=4", "pools.v3.pipeline_parallel_size=3"};
	expect_error(ragged, 2, -LLMCAP_ECAPACITY, "pools.v3: a replica of 12 GPUs",
		     "expected a multiple of hardware.gpus_per_server");
	const char *dense_dp[] = {"pools.v3.model=llama-3.1-70b", "pools.v3.dtype=bf16",
				  "pools.v3.pipeline_parallel_size=1",
				  "pools.v3.data_parallel_attention=2", "pools.v3.expert_parallel=16",
				  "pools.v3.max_model_len=auto"};
	expect_error(dense_dp, 6, -LLMCAP_EINVAL, "pools.v3.data_parallel_attention",
		     "no multi-head latent attention");
	const char *bad_ep[] = {"pools.v3.expert_parallel=4"};
	expect_error(bad_ep, 1, -LLMCAP_EINVAL, "pools.v3.expert_parallel: 4", "expected 0 or 1");
	/* a packing that fails: a server taken by a second pool of 8 */
	const char *packed[] = {"pools.w={model: llama-3.1-8b, tensor_parallel_size: 8}",
				"hardware.servers=3", "pools.w.replicas=2"};
	expect_error(packed, 3, -LLMCAP_ECAPACITY, "pools.", "GPUs");
}

/* Reads one int64 column of the /pools table of an HDF5 file. */
static void pools_i64(hid_t f, const char *field, int64_t *v)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(int64_t));
	H5Tinsert(t, field, 0, H5T_NATIVE_INT64);
	hid_t d = H5Dopen2(f, "pools", H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
	H5Tclose(t);
}

/* The HDF5 /pools table carries the layout: the example (TP 8 x PP 2: 16 GPUs a replica) and
 * its expert-parallel variant (TP 8 x DP 2, EP 16). */
static void hdf5_pools_layout(void **state)
{
	(void)state;
	static struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	char path[64];
	snprintf(path, sizeof path, "/tmp/llmcap-parallel-%d.h5", (int)getpid());
	for (int variant = 0; variant < 2; variant++) {
		const char *sets[8] = {"horizon=10min"};
		size_t n = 1;
		for (size_t i = 0; variant && i < 5; i++)
			sets[n++] = ep_layout[i];
		assert_int_equal(llmcap_scenario_load(&sc, EXAMPLE, sets, n, &cat, &err), 0);
		struct llmcap_h5 *h;
		struct llmcap_h5_info info = {.command_line = "test", .scenario_yaml = "name: x\n",
					      .started_at = "2026-01-01T00:00:00Z", .catalog_hash = 1};
		assert_int_equal(llmcap_h5_open(&h, path, true, &sc, &cat, &info, &err), 0);
		struct llmcap_sink sink = {0};
		llmcap_h5_sink(h, &sink);
		struct llmcap_results res;
		struct llmcap_summary sum;
		assert_int_equal(llmcap_simulate(&sc, &cat, &sink, &res, &err), 0);
		assert_int_equal(llmcap_summarize(&res, &sum), 0);
		assert_int_equal(llmcap_h5_finish(h, &res, &sum, &err), 0);
		llmcap_summary_free(&sum);
		llmcap_results_free(&res);
		hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
		assert_true(f >= 0);
		int64_t pp, ep, dp, gpus;
		pools_i64(f, "pipeline_parallel_size", &pp);
		pools_i64(f, "expert_parallel", &ep);
		pools_i64(f, "data_parallel_attention", &dp);
		pools_i64(f, "gpus_per_replica", &gpus);
		H5Fclose(f);
		assert_int_equal(pp, variant ? 1 : 2);
		assert_int_equal(ep, variant ? 16 : 1);
		assert_int_equal(dp, variant ? 2 : 1);
		assert_int_equal(gpus, 16);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pipeline_bubble_by_hand),
		cmocka_unit_test(pipeline_step_by_hand),
		cmocka_unit_test(expert_all_to_all_by_hand),
		cmocka_unit_test(deepseek_v3_fp8_weights_by_hand),
		cmocka_unit_test(unused_layout_is_bit_identical),
		cmocka_unit_test(example_fast_equals_exact),
		cmocka_unit_test(layouts_beyond_the_fleet),
		cmocka_unit_test(hdf5_pools_layout),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

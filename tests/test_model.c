/* Memory plan (KV capacity), step-time model and cost model against hand calculations. */
#include "test_util.h"

#include "llmcap/cost.h"
#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

#include <unistd.h>

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static struct llmcap_pool_cfg pool_with_defaults(const char *model, int64_t tp)
{
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	char set[96];
	snprintf(set, sizeof set, "pools.p={model: %s, tensor_parallel_size: %lld}", model, (long long)tp);
	assert_int_equal(llmcap_scenario_apply_override(&sc, set, &err), 0);
	return sc.pools[0];
}

static void parameter_counts(void **state)
{
	(void)state;
	struct llmcap_param_count pc;
	llmcap_model_params(llmcap_catalog_model(&cat, "llama-3.1-8b"), &pc);
	/* Meta publishes 8.03B and 70.6B */
	assert_rel(pc.total, 8.03e9, 0.001);
	llmcap_model_params(llmcap_catalog_model(&cat, "llama-3.1-70b"), &pc);
	assert_rel(pc.total, 70.6e9, 0.001);
}

/* Llama-3.1-8B, BF16, on one H100 80GB with vLLM's defaults, by hand:
 *   budget      = 0.9 x 81559 MiB                                   = 76,965,525,094 B
 *   weights     = 8,030,261,248 params x 2 B                         = 16,060,522,496 B
 *     (embedding 128256x4096 + 32 x (4096x(4096+2x1024) + 4096x4096 + 3x4096x14336 + 2x4096)
 *      + 4096 + LM head 128256x4096)
 *   activations = 8192 tokens x (4x4096 + 2x14336) x 2 B + 256 x 128256 x 4 B
 *   overhead    = 0.5 GiB
 *   KV per token = 2 x 32 layers x 8 KV heads x 128 x 2 B             = 131,072 B
 *   blocks = floor(left / (16 x 131072)) = 28,372 */
static void kv_capacity_8b_on_one_h100(void **state)
{
	(void)state;
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-8b", 1);
	struct llmcap_memory_plan plan;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_memory_plan(llmcap_catalog_model(&cat, "llama-3.1-8b"),
					    llmcap_catalog_gpu(&cat, "h100-sxm-80gb"), &p, &plan, &err), 0);
	double budget = 0.9 * 81559.0 * 1048576.0;
	double weights = 8030261248.0 * 2;
	double act = 8192.0 * (4 * 4096 + 2 * 14336) * 2 + 256.0 * 128256 * 4;
	double left = budget - weights - act - 0.5 * 1073741824.0;
	assert_rel(plan.weight_bytes_per_gpu, weights, 1e-12);
	assert_rel(plan.kv_bytes_per_token, 131072, 0);
	assert_int_equal(plan.num_blocks, (int64_t)floor(left / (16 * 131072.0)));
	assert_int_equal(plan.num_blocks, 28372);
	assert_int_equal(plan.kv_tokens, 28372 * 16);
	assert_int_equal(plan.max_model_len, 131072); /* the cache holds the full context */
}

/* Llama-3.1-70B, FP16, tensor parallel 2 on two H100 80GB, by hand:
 *   weights per GPU = 70,553,706,496 params x 2 B / 2              = 70,553,706,496 B (65.7 GiB)
 *   activations     = 8192 x (4x8192 + 2x28672/2) x 2 B + 256 x 128256 x 4 B
 *   KV per token per GPU = 2 x 80 layers x (8 / 2) KV heads x 128 x 2 B = 163,840 B
 *   blocks = floor((budget - weights - activations - 0.5 GiB) / (16 x 163840)) = 1,808:
 *   28,928 tokens of KV cache for the whole replica. */
static void kv_capacity_70b_fp16_on_two_h100(void **state)
{
	(void)state;
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-70b", 2);
	p.dtype = LLMCAP_DTYPE_FP16;
	struct llmcap_memory_plan plan;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_memory_plan(llmcap_catalog_model(&cat, "llama-3.1-70b"),
					    llmcap_catalog_gpu(&cat, "h100-sxm-80gb"), &p, &plan, &err), 0);
	double budget = 0.9 * 81559.0 * 1048576.0;
	double weights = 70553706496.0 * 2 / 2;
	double act = 8192.0 * (4 * 8192 + 2 * 28672 / 2) * 2 + 256.0 * 128256 * 4;
	double left = budget - weights - act - 0.5 * 1073741824.0;
	assert_rel(plan.kv_bytes_per_token, 163840, 0);
	assert_int_equal(plan.num_blocks, (int64_t)floor(left / (16 * 163840.0)));
	assert_int_equal(plan.num_blocks, 1808);
	/* auto max_model_len drops to what the cache holds, as vLLM would require */
	assert_int_equal(plan.max_model_len, 1808 * 16);

	/* FP8 weights free ~33 GiB per GPU: an order of magnitude more KV cache */
	p.dtype = LLMCAP_DTYPE_FP8;
	struct llmcap_memory_plan fp8;
	assert_int_equal(llmcap_memory_plan(llmcap_catalog_model(&cat, "llama-3.1-70b"),
					    llmcap_catalog_gpu(&cat, "h100-sxm-80gb"), &p, &fp8, &err), 0);
	assert_true(fp8.num_blocks > 8 * plan.num_blocks);
	/* and overriding the block count is honoured */
	p.num_gpu_blocks_override = 100;
	assert_int_equal(llmcap_memory_plan(llmcap_catalog_model(&cat, "llama-3.1-70b"),
					    llmcap_catalog_gpu(&cat, "h100-sxm-80gb"), &p, &fp8, &err), 0);
	assert_int_equal(fp8.num_blocks, 100);
	assert_true(fp8.blocks_overridden);
}

static struct llmcap_perf perf_for(const char *model, const char *gpu, const char *engine,
				   struct llmcap_pool_cfg p)
{
	struct llmcap_perf pf;
	struct llmcap_error err = {0};
	if (llmcap_perf_init(&pf, llmcap_catalog_model(&cat, model), llmcap_catalog_gpu(&cat, gpu),
			     llmcap_catalog_engine(&cat, engine), &p, &err) != 0)
		fail_msg("%s", err.msg);
	return pf;
}

/* One layer of Llama-3.1-8B by hand (H = 4096, 32 query and 8 KV heads of 128, I = 14336):
 *   QKV 4096 x (4096 + 2 x 1024) = 25,165,824; output 4096 x 4096 = 16,777,216;
 *   gate + up + down 3 x 4096 x 14336 = 176,160,768: 218,103,808 weights,
 *   so 436,207,616 FLOPs per token and 436,207,616 bytes of BF16 weights per layer;
 *   element-wise traffic (10 H + 3 I) x 2 B = 167,936 bytes per token;
 *   KV written: 2 x 8 x 128 x 2 B = 4,096 bytes per token per layer (131,072 for 32 layers). */
static void flops_and_bytes_llama_8b_layer(void **state)
{
	(void)state;
	struct llmcap_perf pf = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm-0.5",
					 pool_with_defaults("llama-3.1-8b", 1));
	assert_rel(pf.active_params_layer, 218103808.0, 0);
	assert_rel(pf.dense_weight_bytes + pf.expert_weight_bytes, 436207616.0, 0);
	assert_rel(pf.ew_bytes_per_token, 167936.0, 0);
	assert_rel(pf.kv_bytes_per_token, 131072.0, 0);
	for (int64_t t = 1; t <= 4096; t *= 16) {
		struct llmcap_step_shape s = {.tokens = t}; /* no attention context, no sampling */
		struct llmcap_step_work w;
		llmcap_perf_step_seconds(&pf, &s, &w, NULL);
		assert_rel(w.flops, 436207616.0 * (double)t * 32, 1e-12);
		assert_rel(w.bytes, 32 * (436207616.0 + 167936.0 * (double)t) + 131072.0 * (double)t, 1e-12);
	}
	/* A decode at batch 1 is memory bound: the layer streams its weights at 85% of 3.35 TB/s
	 * (gemm time 2 x 218M x (1 + 63) / (0.717 x 989.4 TFLOPS) = 39 us < 153 us). */
	struct llmcap_step_shape one = {.tokens = 1};
	struct llmcap_step_breakdown bd;
	llmcap_perf_step_seconds(&pf, &one, NULL, &bd);
	double layer = 31.2e-6 + 436207616.0 / (3.35e12 * 0.85) + 167936.0 / (3.35e12 * 0.85);
	assert_rel(bd.linear, 32 * layer, 1e-9);
	/* A 4096-token chunk is compute bound: 2 x 218M x (4096 + 63) FLOPs per layer. */
	struct llmcap_step_shape big = {.tokens = 4096};
	llmcap_perf_step_seconds(&pf, &big, NULL, &bd);
	layer = 31.2e-6 + 2 * 218103808.0 * (4096 + 63) / (989.4e12 * 0.717) +
		167936.0 * 4096 / (3.35e12 * 0.85);
	assert_rel(bd.linear, 32 * layer, 1e-9);
	/* decode attention reads the KV cache at the engine's efficiency */
	struct llmcap_step_shape dec = {.tokens = 1, .attn_pairs = 1001, .kv_read_tokens = 1001, .samples = 1};
	llmcap_perf_step_seconds(&pf, &dec, NULL, &bd);
	assert_rel(bd.attention, 4.0 * 32 * 128 * 32 * 1001 / (989.4e12 * 0.331) +
				 131072.0 * 1002 / (3.35e12 * 0.664), 1e-9);
	/* and the engine adds its CPU time: fixed + per sampled sequence */
	assert_rel(bd.overhead, 1.234e-3 + 68.8e-6, 1e-9);
}

/* Weights and KV bytes per token for each precision. */
static void bytes_per_precision(void **state)
{
	(void)state;
	assert_rel(llmcap_dtype_bytes(LLMCAP_DTYPE_BF16), 2, 0);
	assert_rel(llmcap_dtype_bytes(LLMCAP_DTYPE_FP16), 2, 0);
	assert_rel(llmcap_dtype_bytes(LLMCAP_DTYPE_FP8), 1, 0);
	assert_rel(llmcap_dtype_bytes(LLMCAP_DTYPE_INT4_AWQ), 4.25 / 8, 0);
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "llama-3.1-8b");
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-8b", 1);
	struct llmcap_memory_plan plan;
	struct llmcap_error err = {0};
	const enum llmcap_dtype dt[] = {LLMCAP_DTYPE_BF16, LLMCAP_DTYPE_FP8, LLMCAP_DTYPE_INT4_AWQ};
	const double wb[] = {2, 1, 4.25 / 8};
	for (int i = 0; i < 3; i++) {
		p.dtype = dt[i];
		assert_int_equal(llmcap_memory_plan(m, g, &p, &plan, &err), 0);
		assert_rel(plan.weight_bytes_per_gpu, 8030261248.0 * wb[i], 1e-12);
		struct llmcap_perf pf = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm-0.5", p);
		/* weights streamed per layer scale with the precision; FP8 also doubles the peak */
		assert_rel(pf.dense_weight_bytes + pf.expert_weight_bytes, 218103808.0 * wb[i], 1e-12);
		assert_rel(pf.gemm_flops, (i == 1 ? 1978.9 : 989.4) * 1e12 * 0.717, 1e-12);
	}
	p.dtype = LLMCAP_DTYPE_BF16;
	p.kv_cache_dtype = LLMCAP_KV_FP8;
	assert_int_equal(llmcap_memory_plan(m, g, &p, &plan, &err), 0);
	assert_rel(plan.kv_bytes_per_token, 65536, 0); /* 2 x 32 x 8 x 128 x 1 B */
	/* 70B at TP 4: 8 KV heads over 4 ranks, 2 each: 2 x 80 x 2 x 128 x 2 B */
	struct llmcap_pool_cfg p4 = pool_with_defaults("llama-3.1-70b", 4);
	assert_int_equal(llmcap_memory_plan(llmcap_catalog_model(&cat, "llama-3.1-70b"), g, &p4, &plan, &err), 0);
	assert_rel(plan.kv_bytes_per_token, 81920, 0);
}

/* More tokens never take less time; more TP never needs more memory per GPU. */
static void monotonicity(void **state)
{
	(void)state;
	const char *models[] = {"llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "qwen2.5-7b"};
	const char *engines[] = {"vllm", "vllm-0.6", "vllm-0.5", "trtllm", "sglang"};
	const enum llmcap_dtype dts[] = {LLMCAP_DTYPE_BF16, LLMCAP_DTYPE_FP8, LLMCAP_DTYPE_INT4_AWQ};
	for (size_t mi = 0; mi < 4; mi++)
		for (int64_t tp = 1; tp <= 4; tp *= 2)
			for (size_t e = 0; e < 5; e++)
				for (size_t d = 0; d < 3; d++) {
					struct llmcap_pool_cfg p = pool_with_defaults(models[mi], tp);
					p.dtype = dts[d];
					struct llmcap_perf pf = perf_for(models[mi], "h100-sxm-80gb", engines[e], p);
					for (double ctx = 0; ctx <= 8192; ctx += 4096) {
						llmcap_time prev = 0;
						for (int64_t t = 1; t <= 16384; t = t * 3 / 2 + 1) {
							/* decode batch of t sequences */
							struct llmcap_step_shape s = {
								.tokens = t, .attn_pairs = (double)t * (ctx + 1),
								.kv_read_tokens = (double)t * (ctx + 1), .samples = t};
							llmcap_time x = llmcap_perf_step_time(&pf, &s, NULL);
							assert_true(x >= prev);
							prev = x;
						}
						prev = 0;
						for (int64_t t = 1; t <= 16384; t = t * 3 / 2 + 1) {
							/* one prefill chunk of t tokens after ctx */
							struct llmcap_step_shape s = {
								.tokens = t,
								.attn_pairs = (double)t * ctx + (double)t * (t + 1) / 2,
								.kv_read_tokens = ctx + (double)t, .samples = 1};
							llmcap_time x = llmcap_perf_step_time(&pf, &s, NULL);
							assert_true(x >= prev);
							prev = x;
						}
					}
				}
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h200-141gb");
	for (size_t mi = 0; mi < 4; mi++) {
		double prev_w = HUGE_VAL, prev_kv = HUGE_VAL;
		for (int64_t tp = 1; tp <= 8; tp *= 2) {
			const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, models[mi]);
			if (m->num_attention_heads % tp)
				continue;
			struct llmcap_pool_cfg p = pool_with_defaults(models[mi], tp);
			struct llmcap_memory_plan plan;
			struct llmcap_error err = {0};
			if (llmcap_memory_plan(m, g, &p, &plan, &err) != 0)
				continue; /* does not fit at this TP */
			double w = plan.weight_bytes_per_gpu + plan.activation_bytes_per_gpu;
			assert_true(w <= prev_w);
			assert_true(plan.kv_bytes_per_token <= prev_kv);
			prev_w = w;
			prev_kv = plan.kv_bytes_per_token;
		}
	}
	/* tensor parallelism adds two all-reduces per layer */
	struct llmcap_perf pf2 = perf_for("llama-3.1-70b", "h100-sxm-80gb", "vllm-0.5",
					  pool_with_defaults("llama-3.1-70b", 2));
	assert_rel(pf2.allreduce_time_fixed, 2 * 80 * 32e-6, 1e-12);
	assert_rel(pf2.allreduce_s_per_token, 2 * 80 * 8192 * 2 * 2 * 0.5 / 365e9, 1e-12);
}

/* Mixtral-8x7B: every expert for memory, two for compute, distinct experts for bytes. */
static void mixture_of_experts(void **state)
{
	(void)state;
	struct llmcap_param_count pc;
	llmcap_model_params(llmcap_catalog_model(&cat, "mixtral-8x7b"), &pc);
	assert_rel(pc.total, 46.70e9, 0.002); /* Mistral AI: 46.7B total */
	/* and 12.9B active per token, counting the embedding table (a lookup, not a matmul) */
	assert_rel(pc.active + pc.embedding, 12.88e9, 0.005);
	assert_rel(llmcap_expected_experts(8, 2, 1), 2, 1e-12);
	assert_rel(llmcap_expected_experts(8, 2, 2), 8 * (1 - 0.75 * 0.75), 1e-12);
	assert_rel(llmcap_expected_experts(8, 2, 1000), 8, 1e-9);
	struct llmcap_perf pf = perf_for("mixtral-8x7b", "h100-sxm-80gb", "vllm-0.5",
					 pool_with_defaults("mixtral-8x7b", 2));
	struct llmcap_step_shape one = {.tokens = 1}, many = {.tokens = 64};
	struct llmcap_step_work w1, w64;
	llmcap_perf_step_seconds(&pf, &one, &w1, NULL);
	llmcap_perf_step_seconds(&pf, &many, &w64, NULL);
	double expert = 3.0 * 4096 * 14336 * 2; /* bytes of one expert, one layer, whole replica */
	double ew = (10.0 * 4096 + 3.0 * 2 * 14336 / 2) * 2 * 2; /* two ranks */
	/* 64 tokens touch all 8 experts (1 - 0.75^64 of them), 1 token 2; plus 63 tokens of
	 * element-wise traffic and of KV written (2 x 32 x 4 x 128 x 2 B per rank, 2 ranks) */
	assert_rel(w64.bytes - w1.bytes, 32 * (6 * expert + 63 * ew) + 65536.0 * 63 * 2, 1e-6);
}

/* DeepSeek-V3 (config.json: H 7168, 61 layers of which 3 dense, 128 heads, MLA with kv_lora 512,
 * q_lora 1536, nope 128, rope 64, v 128; dense MLP 18432; 256 routed experts of 2048, top-8, and
 * 1 shared; vocab 129280), by hand:
 *   attention GEMMs: q_a 7168x1536 = 11,010,048; q_b 1536x128x192 = 37,748,736;
 *     kv_a 7168x576 = 4,128,768; kv_b 512x128x256 = 16,777,216; o 128x128x7168 = 117,440,512:
 *     187,105,280, of which q_a + kv_a = 15,138,816 replicated on every TP rank;
 *   norms 2x7168 + 512 + 1536 = 16,384; one expert 3x7168x2048 = 44,040,192;
 *   router 256x7168 = 1,835,008; dense MLP 3x7168x18432 = 396,361,728;
 *   MoE layer = 187,105,280 + 257 experts + router + norms = 11,507,286,016;
 *   dense layer = 187,105,280 + 396,361,728 + 16,384 = 583,483,392;
 *   total = 58 MoE + 3 dense layers + 2 x 129280x7168 (embedding, LM head) + 7168
 *         = 671,026,404,352 (DeepSeek: 671B);
 *   active: MoE layer 187,105,280 + 9 experts + router = 585,302,016; dense layer 583,467,008;
 *     58 x 585,302,016 + 3 x 583,467,008 + LM head 926,679,040 = 36,624,596,992 (DeepSeek: 37B);
 *   KV cache: one latent of 512 + 64 per token and layer: 61 x 576 x 2 B = 70,272 B in BF16,
 *     35,136 B in FP8, on every TP rank;
 *   attention FLOPs per (query, key) pair, prefill form: 2 x 128 x (128 + 64 + 128) x 61
 *     = 4,997,120. */
static void deepseek_mla_moe(void **state)
{
	(void)state;
	const struct llmcap_model_spec *v3 = llmcap_catalog_model(&cat, "deepseek-v3");
	const struct llmcap_model_spec *lite = llmcap_catalog_model(&cat, "deepseek-v2-lite");
	assert_non_null(v3);
	assert_non_null(lite);
	struct llmcap_param_count pc;
	llmcap_model_params(v3, &pc);
	assert_rel(pc.attn_per_layer, 187105280.0, 0);
	assert_rel(pc.attn_replicated, 15138816.0, 0);
	assert_rel(pc.per_layer, 11507286016.0, 0);
	assert_rel(pc.first_per_layer, 583483392.0, 0);
	assert_rel(pc.total, 671026404352.0, 0);
	assert_rel(pc.total, 671e9, 0.001);
	assert_rel(pc.active, 36624596992.0, 0);
	assert_rel(pc.active, 37e9, 0.015);
	/* DeepSeek-V2-Lite: 13,762,560 attention weights (q 2048x16x192 without q_lora), 1 dense
	 * layer of 10944, 26 MoE layers of 64 + 2 experts of 1408: 15.7B, 2.4B active */
	llmcap_model_params(lite, &pc);
	assert_rel(pc.attn_per_layer, 2048.0 * 16 * 192 + 2048 * 576 + 512 * 16 * 256 + 16 * 128 * 2048, 0);
	assert_rel(pc.total, 15706484224.0, 0);
	assert_rel(pc.total, 15.7e9, 0.001);
	assert_rel(pc.active, 2451308544.0, 0);
	assert_rel(pc.active, 2.4e9, 0.025);

	/* KV bytes per token per precision, and the latent on every rank */
	const struct llmcap_gpu_spec *h200 = llmcap_catalog_gpu(&cat, "h200-141gb");
	struct llmcap_pool_cfg p = pool_with_defaults("deepseek-v3", 8);
	p.dtype = LLMCAP_DTYPE_FP8;
	struct llmcap_memory_plan plan;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_memory_plan(v3, h200, &p, &plan, &err), 0);
	assert_rel(plan.kv_bytes_per_token, 70272, 0);
	/* weights per GPU: everything / 8 but the replicated down-projections, FP8 */
	assert_rel(plan.weight_bytes_per_gpu,
		   (671026404352.0 - 61 * 15138816.0) / 8 + 61 * 15138816.0, 1e-12);
	p.kv_cache_dtype = LLMCAP_KV_FP8;
	assert_int_equal(llmcap_memory_plan(v3, h200, &p, &plan, &err), 0);
	assert_rel(plan.kv_bytes_per_token, 35136, 0);
	/* 8 x H100 80GB cannot hold V3 in FP8 (84.7 GB of weights per GPU) */
	assert_int_equal(llmcap_memory_plan(v3, llmcap_catalog_gpu(&cat, "h100-sxm-80gb"), &p, &plan,
					    &err), -LLMCAP_ECAPACITY);
	struct llmcap_pool_cfg pl = pool_with_defaults("deepseek-v2-lite", 1);
	assert_int_equal(llmcap_memory_plan(lite, llmcap_catalog_gpu(&cat, "h100-sxm-80gb"), &pl,
					    &plan, &err), 0);
	assert_rel(plan.kv_bytes_per_token, 27 * 576 * 2, 0);

	/* FLOPs and weight bytes of a layer, TP 1, FP8 weights */
	struct llmcap_pool_cfg p1 = pool_with_defaults("deepseek-v3", 1);
	p1.dtype = LLMCAP_DTYPE_FP8;
	struct llmcap_perf pf = perf_for("deepseek-v3", "h200-141gb", "vllm-0.5", p1);
	assert_rel(pf.active_params_layer, 585302016.0, 0);
	assert_rel(pf.first_params, 583467008.0, 0);
	assert_rel(pf.first_layers, 3, 0);
	/* read every step: attention, router, the shared expert; then each routed expert */
	assert_rel(pf.dense_weight_bytes, 187105280.0 + 1835008 + 44040192, 0);
	assert_rel(pf.expert_weight_bytes, 44040192.0, 0);
	assert_rel(pf.attn_flops_per_pair, 4997120.0, 0);
	for (int64_t t = 1; t <= 4096; t *= 64) {
		struct llmcap_step_shape s = {.tokens = t};
		struct llmcap_step_work w;
		llmcap_perf_step_seconds(&pf, &s, &w, NULL);
		assert_rel(w.flops, 2.0 * (double)t * (58 * 585302016.0 + 3 * 583467008.0), 1e-12);
	}
	/* at TP 8 each rank multiplies its shard and the whole replicated part */
	struct llmcap_perf pf8 = perf_for("deepseek-v3", "h200-141gb", "vllm-0.5", p);
	assert_rel(pf8.active_params_layer, (585302016.0 - 15138816) / 8 + 15138816, 1e-12);
	assert_rel(pf8.kv_bytes_per_token, 35136, 0);
	/* a decode step reads 1 + the expected distinct routed experts per MoE layer */
	struct llmcap_step_shape one = {.tokens = 1}, many = {.tokens = 64};
	struct llmcap_step_work w1, w64;
	llmcap_perf_step_seconds(&pf, &one, &w1, NULL);
	llmcap_perf_step_seconds(&pf, &many, &w64, NULL);
	double distinct = llmcap_expected_experts(256, 8, 64) - 8;
	double ew = 63 * (58 * (10.0 * 7168 + 3 * 2048 * 9) + 3 * (10.0 * 7168 + 3 * 18432)) * 2;
	assert_rel(w64.bytes - w1.bytes, 58 * distinct * 44040192.0 + ew + 63 * 70272.0, 1e-9);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The table model interpolates, and clamps or extrapolates out of range, counting it. */
static void table_model(void **state)
{
	(void)state;
	char path[] = "/tmp/llmcap-table-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# measured\ntokens,context,ms\n1,0,10\n101,0,20\n1,1000,14\n101,1000,30\n");
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-8b", 1);
	p.perf_model = LLMCAP_PERF_TABLE;
	snprintf(p.table.path, sizeof p.table.path, "%s", path);
	struct llmcap_perf pf = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm-0.5", p);
	struct llmcap_step_work w;
	struct llmcap_step_shape mid = {.tokens = 51, .kv_read_tokens = 500};
	/* bilinear: (10 + 20 + 14 + 30) / 4 = 18.5 ms */
	assert_int_equal(llmcap_perf_step_time(&pf, &mid, &w), 18500000);
	assert_false(w.out_of_range);
	struct llmcap_step_shape edge = {.tokens = 101, .kv_read_tokens = 1000};
	assert_int_equal(llmcap_perf_step_time(&pf, &edge, &w), 30000000);
	assert_false(w.out_of_range);
	struct llmcap_step_shape out = {.tokens = 201, .kv_read_tokens = 1000};
	assert_int_equal(llmcap_perf_step_time(&pf, &out, &w), 30000000); /* clamped */
	assert_true(w.out_of_range);
	llmcap_perf_free(&pf);
	p.table.out_of_range = LLMCAP_TABLE_EXTRAPOLATE;
	pf = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm-0.5", p);
	assert_int_equal(llmcap_perf_step_time(&pf, &out, &w), 46000000); /* 30 + 100 x 0.16 */
	assert_true(w.out_of_range);
	llmcap_perf_free(&pf);
	/* one-dimensional: tokens only */
	write_file(path, "tokens,ms\n1,5\n11,7\n");
	p.table.out_of_range = LLMCAP_TABLE_CLAMP;
	pf = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm-0.5", p);
	struct llmcap_step_shape six = {.tokens = 6, .kv_read_tokens = 1e6};
	assert_int_equal(llmcap_perf_step_time(&pf, &six, &w), 6000000);
	assert_false(w.out_of_range);
	llmcap_perf_free(&pf);
	/* errors name the file, line and column, the column and the value */
	write_file(path, "tokens,ms\n1,5\n2,fast\n");
	struct llmcap_perf bad;
	struct llmcap_error err = {0};
	assert_int_not_equal(llmcap_perf_init(&bad, llmcap_catalog_model(&cat, "llama-3.1-8b"),
					      llmcap_catalog_gpu(&cat, "h100-sxm-80gb"),
					      llmcap_catalog_engine(&cat, "vllm-0.5"), &p, &err), 0);
	assert_non_null(strstr(err.msg, ":3:3: ms: 'fast' is not valid"));
	write_file(path, "tokens,context,ms\n1,0,5\n2,0,6\n1,9,7\n");
	assert_int_not_equal(llmcap_perf_init(&bad, llmcap_catalog_model(&cat, "llama-3.1-8b"),
					      llmcap_catalog_gpu(&cat, "h100-sxm-80gb"),
					      llmcap_catalog_engine(&cat, "vllm-0.5"), &p, &err), 0);
	assert_non_null(strstr(err.msg, "full grid"));
	unlink(path);
	snprintf(p.table.path, sizeof p.table.path, "%s", "/nonexistent/steps.csv");
	assert_int_not_equal(llmcap_perf_init(&bad, llmcap_catalog_model(&cat, "llama-3.1-8b"),
					      llmcap_catalog_gpu(&cat, "h100-sxm-80gb"),
					      llmcap_catalog_engine(&cat, "vllm-0.5"), &p, &err), 0);
	assert_non_null(strstr(err.msg, "/nonexistent/steps.csv"));
}

/* step = a + b x tokens + c x KV tokens read, exactly. */
static void linear_model(void **state)
{
	(void)state;
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-8b", 1);
	p.perf_model = LLMCAP_PERF_LINEAR;
	p.linear.per_step = 5000000;
	p.linear.per_token_us = 20;
	p.linear.per_context_token_ns = 0.5;
	struct llmcap_perf pf = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm-0.5", p);
	struct llmcap_step_shape s = {.tokens = 100, .attn_pairs = 1e6, .kv_read_tokens = 50000, .samples = 7};
	assert_int_equal(llmcap_perf_step_time(&pf, &s, NULL), 5000000 + 2000000 + 25000);
}

/* The fast mode's step timer gives llmcap_perf_step_time's nanoseconds bit for bit, with the
 * same work, for every catalog model, GPU and engine, TP 1, 2, 3 (not a power of two) and 8,
 * over batch sizes and contexts of decode steps and a general form of mixed steps; and its
 * screen decides nearly all of them without the full evaluation. */
static void step_timer_is_exact(void **state)
{
	(void)state;
	uint64_t x = 99;
	int64_t checked = 0;
	for (size_t mi = 0; mi < cat.n_models; mi++)
		for (size_t gi = 0; gi < cat.n_gpus; gi++)
			for (size_t ei = 0; ei < cat.n_engines; ei++)
				for (int64_t tp = 1; tp <= 8; tp = tp == 1 ? 2 : tp == 2 ? 3 : tp == 3 ? 8 : 9) {
					struct llmcap_pool_cfg p = pool_with_defaults(cat.models[mi].name, tp);
					struct llmcap_perf pf = perf_for(cat.models[mi].name, cat.gpus[gi].name,
									 cat.engines[ei].name, p);
					for (int k = 0; k < 40; k++) {
						x = x * 6364136223846793005u + 1442695040888963407u;
						int64_t n = 1 + (int64_t)(x >> 56);
						double ctx = (double)((x >> 20) % 4000000);
						struct llmcap_step_timer tm;
						llmcap_step_timer_init(&tm, &pf, n, n);
						struct llmcap_step_shape sh = {.tokens = n, .samples = n,
									       .attn_pairs = ctx + (double)n,
									       .kv_read_tokens = ctx + (double)n};
						for (int j = 0; j < 50; j++) {
							struct llmcap_step_work we, wd, wg;
							llmcap_time e = llmcap_perf_step_time(&pf, &sh, &we);
							llmcap_time d = llmcap_step_timer_decode_ns(&tm, sh.attn_pairs, &wd);
							llmcap_time g = llmcap_step_timer_ns(&tm, sh.attn_pairs, sh.kv_read_tokens, &wg);
							assert_int_equal(d, e);
							assert_int_equal(g, e);
							assert_memory_equal(&wd.flops, &we.flops, sizeof we.flops);
							assert_memory_equal(&wd.bytes, &we.bytes, sizeof we.bytes);
							assert_memory_equal(&wg.flops, &we.flops, sizeof we.flops);
							assert_memory_equal(&wg.bytes, &we.bytes, sizeof we.bytes);
							sh.attn_pairs += (double)n;
							sh.kv_read_tokens += (double)n;
							checked++;
						}
						/* a mixed step (prefill chunk and decodes): the general form */
						struct llmcap_step_shape mix = {.tokens = n + 500, .samples = n,
										.attn_pairs = ctx + 500.0 * 501 / 2,
										.kv_read_tokens = ctx + 500 + (double)n};
						struct llmcap_step_work we, wg;
						llmcap_step_timer_init(&tm, &pf, mix.tokens, mix.samples);
						assert_int_equal(llmcap_step_timer_ns(&tm, mix.attn_pairs, mix.kv_read_tokens, &wg),
								 llmcap_perf_step_time(&pf, &mix, &we));
						assert_memory_equal(&wg.flops, &we.flops, sizeof we.flops);
						assert_memory_equal(&wg.bytes, &we.bytes, sizeof we.bytes);
					}
					llmcap_perf_free(&pf);
				}
	assert_true(checked > 100000);
}

/* Seconds to nanoseconds as llround does, inline. */
static void round_ns_is_llround(void **state)
{
	(void)state;
	static const double xs[] = {1e-9, 0.49e-9, 0.5e-9, 1.5e-9, 2.5e-9, 0.0123456789, 1234.5e-9,
				    1e3, 4503599.6e-9};
	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		llmcap_time want = llround(xs[i] * 1e9);
		assert_int_equal(llmcap_perf_round_ns(xs[i]), want > 0 ? want : 1);
	}
	uint64_t x = 5;
	for (int i = 0; i < 100000; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		double s = (double)(x >> 11) * 0x1p-53 * 10.0; /* up to 10 s */
		llmcap_time want = llround(s * 1e9);
		assert_int_equal(llmcap_perf_round_ns(s), want > 0 ? want : 1);
		/* and exactly half-way values */
		double h = (double)(x >> 40) + 0.5;
		assert_int_equal(llmcap_perf_round_ns(h * 1e-9), llround(h * 1e-9 * 1e9) > 0 ? llround(h * 1e-9 * 1e9) : 1);
	}
}

static void cost_reference_inputs(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, NULL, 0, &cat, &err), 0);
	/* one day: 1e8 utility tokens (in 8e7, out 2e7) and 5e7 reasoning tokens */
	struct llmcap_usage use = {.horizon = LLMCAP_DAY, .n_classes = 2};
	use.classes[0].prompt_tokens = 8e7;
	use.classes[0].output_tokens = 2e7;
	use.classes[1].prompt_tokens = 4e7;
	use.classes[1].output_tokens = 1e7;
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &use, &c);
	assert_rel(c.self_total, 155000 + 36 * 2450 + 3 * 10000, 1e-15);
	assert_rel(c.self_total, 273200, 1e-15);
	double days = 365.25 / 12;
	assert_rel(c.tokens_per_month, 1.5e8 * days, 1e-12);
	assert_rel(c.api_monthly, (1e8 * 0.10 + 5e7 * 0.75) / 1e6 * days, 1e-12);
	assert_rel(c.api_total, c.api_monthly * 36, 1e-12);
	assert_rel(c.breakeven_tokens_per_month, 273200.0 / 36 / (c.api_monthly / c.tokens_per_month), 1e-12);
	/* a flat bill replaces the per-token prices, which stay visible for comparison */
	sc.cost.api.monthly_bill = 3750;
	llmcap_cost_compute(&sc, &use, &c);
	assert_rel(c.api_total, 135000, 1e-15);
	assert_rel(c.api_monthly_at_prices, (1e8 * 0.10 + 5e7 * 0.75) / 1e6 * days, 1e-12);
}

/* Memory per engine, by hand from the plan's own terms and the profile's constants:
 *   vllm:   0.9 x memory - weights - activation - (reserved + graphs [+ NCCL at TP > 1]);
 *   trtllm: (memory - weights - activation - reserved - graphs [- NCCL]) x 0.9;
 *   sglang: 0.9 x memory - weights;
 * FP8 checkpoints keep the embedding and LM head in 16 bits (2 x vocab x hidden / TP bytes
 * more than all-FP8 weights), the legacy rule (vllm-0.5) does not. */
static void memory_per_engine(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	const struct llmcap_model_spec *m8 = llmcap_catalog_model(&cat, "llama-3.1-8b");
	const struct llmcap_model_spec *m70 = llmcap_catalog_model(&cat, "llama-3.1-70b");
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-8b", 1);
	struct llmcap_memory_plan legacy, v, t, sg;
	assert_int_equal(llmcap_memory_plan(m8, g, &p, &legacy, &err), 0);
	const struct llmcap_engine_spec *ev = llmcap_catalog_engine(&cat, "vllm");
	const struct llmcap_engine_spec *et = llmcap_catalog_engine(&cat, "trtllm");
	const struct llmcap_engine_spec *es = llmcap_catalog_engine(&cat, "sglang");
	assert_int_equal(llmcap_memory_plan_engine(m8, g, ev, &p, &v, &err), 0);
	assert_int_equal(llmcap_memory_plan_engine(m8, g, et, &p, &t, &err), 0);
	assert_int_equal(llmcap_memory_plan_engine(m8, g, es, &p, &sg, &err), 0);
	/* BF16: the same weights under every rule */
	assert_rel(v.weight_bytes_per_gpu, legacy.weight_bytes_per_gpu, 0);
	assert_rel(v.kv_bytes_per_gpu, 0.9 * g->memory - v.weight_bytes_per_gpu -
					    v.activation_bytes_per_gpu - ev->reserved_memory -
					    ev->cuda_graph_memory, 1e-12);
	assert_rel(t.kv_bytes_per_gpu, 0.9 * (g->memory - t.weight_bytes_per_gpu -
					      t.activation_bytes_per_gpu - et->reserved_memory -
					      et->cuda_graph_memory), 1e-12);
	assert_rel(sg.kv_bytes_per_gpu, 0.9 * g->memory - sg.weight_bytes_per_gpu, 1e-12);
	assert_true(v.kv_bytes_per_gpu < legacy.kv_bytes_per_gpu);
	/* a pool's override replaces the profile's constant */
	p.profile.reserved_memory = 0;
	struct llmcap_memory_plan v0;
	assert_int_equal(llmcap_memory_plan_engine(m8, g, ev, &p, &v0, &err), 0);
	assert_rel(v0.kv_bytes_per_gpu - v.kv_bytes_per_gpu, ev->reserved_memory, 1e-9);
	/* NCCL buffers at TP 2; FP8 with a 16-bit embedding and LM head */
	struct llmcap_pool_cfg p2 = pool_with_defaults("llama-3.1-70b", 2);
	p2.dtype = LLMCAP_DTYPE_FP8;
	struct llmcap_memory_plan l2, v2;
	assert_int_equal(llmcap_memory_plan(m70, g, &p2, &l2, &err), 0);
	assert_int_equal(llmcap_memory_plan_engine(m70, g, ev, &p2, &v2, &err), 0);
	assert_rel(v2.weight_bytes_per_gpu - l2.weight_bytes_per_gpu, 2.0 * 128256 * 8192 / 2, 1e-9);
	assert_rel(v2.overhead_bytes_per_gpu,
		   ev->reserved_memory + ev->cuda_graph_memory + ev->nccl_memory, 1e-12);
	/* the legacy rule is vllm-0.5's: its plan is llmcap_memory_plan's */
	struct llmcap_memory_plan old;
	assert_int_equal(llmcap_memory_plan_engine(m70, g, llmcap_catalog_engine(&cat, "vllm-0.5"),
						   &p2, &old, &err), 0);
	assert_int_equal(old.num_blocks, l2.num_blocks);
}

/* Every profile names its source; a pool's profile override reaches the step-time model. */
static void profiles_and_overrides(void **state)
{
	(void)state;
	const char *names[] = {"vllm", "vllm-0.6", "vllm-0.5", "trtllm", "sglang"};
	for (size_t i = 0; i < 5; i++) {
		const struct llmcap_engine_spec *e = llmcap_catalog_engine(&cat, names[i]);
		assert_non_null(e);
		assert_true(strlen(e->source) > 40);
	}
	assert_int_equal(llmcap_catalog_engine(&cat, "trtllm")->admission, LLMCAP_ADMIT_NO_EVICT);
	assert_int_equal(llmcap_catalog_engine(&cat, "vllm-0.6")->scheduler_steps, 10);
	assert_true(llmcap_catalog_engine(&cat, "vllm")->async_scheduling);
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-8b", 1);
	struct llmcap_perf a = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm", p);
	p.profile.seq_overhead = 100 * LLMCAP_US;
	p.profile.attention_bw_efficiency = 0.5;
	struct llmcap_perf b = perf_for("llama-3.1-8b", "h100-sxm-80gb", "vllm", p);
	assert_rel(b.seq_overhead_s, 100e-6, 1e-12);
	assert_rel(a.kv_bw / b.kv_bw, 0.75 / 0.5, 1e-12);
	assert_rel(a.step_overhead_s, b.step_overhead_s, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parameter_counts),
		cmocka_unit_test(kv_capacity_8b_on_one_h100),
		cmocka_unit_test(kv_capacity_70b_fp16_on_two_h100),
		cmocka_unit_test(flops_and_bytes_llama_8b_layer),
		cmocka_unit_test(bytes_per_precision),
		cmocka_unit_test(monotonicity),
		cmocka_unit_test(mixture_of_experts),
		cmocka_unit_test(deepseek_mla_moe),
		cmocka_unit_test(table_model),
		cmocka_unit_test(linear_model),
		cmocka_unit_test(step_timer_is_exact),
		cmocka_unit_test(round_ns_is_llround),
		cmocka_unit_test(cost_reference_inputs),
		cmocka_unit_test(memory_per_engine),
		cmocka_unit_test(profiles_and_overrides),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

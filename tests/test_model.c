/* Memory plan (KV capacity), step-time model and cost model against hand calculations. */
#include "test_util.h"

#include "llmcap/cost.h"
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

static void step_time_roofline(void **state)
{
	(void)state;
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "llama-3.1-8b");
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	struct llmcap_pool_cfg p = pool_with_defaults("llama-3.1-8b", 1);
	struct llmcap_perf pf;
	llmcap_perf_init(&pf, m, g, &p);
	/* One decode at context 1000: memory bound; weights (all but the embedding) streamed once
	 * at 3.35 TB/s x 0.866, plus the sequence's KV cache, plus 1.5 ms of CPU overhead. */
	struct llmcap_step_shape one = {.tokens = 1, .attn_pairs = 1000 + 1, .kv_read_tokens = 1001,
					.samples = 1};
	double streamed = (8030261248.0 - 128256.0 * 4096 - 4096) * 2;
	double expect = streamed / (3.35e12 * 0.866) + 131072.0 * 1002 / (3.35e12 * 0.866) + 1.5e-3;
	assert_rel((double)llmcap_perf_step_time(&pf, &one, NULL) * 1e-9, expect, 1e-3);
	/* A 4096-token prefill chunk is compute bound: 2 FLOPs per parameter per token. */
	struct llmcap_step_shape pre = {.tokens = 4096, .attn_pairs = 4096.0 * 4097 / 2,
					.kv_read_tokens = 4096, .samples = 1};
	double linear = 2.0 * (8030261248.0 - 2 * 128256.0 * 4096 - 4096) * 4096 / (989.4e12 * 0.71);
	assert_true((double)llmcap_perf_step_time(&pf, &pre, NULL) * 1e-9 > linear);
	/* Monotone in every input */
	llmcap_time prev = 0;
	for (int64_t b = 1; b <= 512; b *= 2) {
		struct llmcap_step_shape s = {.tokens = b, .attn_pairs = (double)b * 2000,
					      .kv_read_tokens = (double)b * 2000, .samples = b};
		llmcap_time t = llmcap_perf_step_time(&pf, &s, NULL);
		assert_true(t >= prev);
		prev = t;
	}
	/* Tensor parallelism splits the work but adds all-reduces: 70B on TP2 is faster than
	 * half of TP1's compute would suggest only if communication is small. */
	struct llmcap_pool_cfg p2 = pool_with_defaults("llama-3.1-70b", 2);
	struct llmcap_perf pf2;
	llmcap_perf_init(&pf2, llmcap_catalog_model(&cat, "llama-3.1-70b"), g, &p2);
	assert_rel(pf2.allreduce_time_fixed, 2 * 80 * 40e-6, 1e-12);
}

static void cost_reference_inputs(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, NULL, 0, &cat, &err), 0);
	struct llmcap_results res;
	memset(&res, 0, sizeof res);
	res.horizon = LLMCAP_DAY;
	res.n_classes = 2;
	/* one day: 1e8 utility tokens (in 8e7, out 2e7) and 5e7 reasoning tokens */
	res.classes[0].prompt_tokens = 8e7;
	res.classes[0].output_tokens = 2e7;
	res.classes[1].prompt_tokens = 4e7;
	res.classes[1].output_tokens = 1e7;
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &res, &c);
	assert_rel(c.self_total, 155000 + 36 * 2450 + 3 * 10000, 1e-15);
	assert_rel(c.self_total, 273200, 1e-15);
	double days = 365.25 / 12;
	assert_rel(c.tokens_per_month, 1.5e8 * days, 1e-12);
	assert_rel(c.api_monthly, (1e8 * 0.10 + 5e7 * 0.75) / 1e6 * days, 1e-12);
	assert_rel(c.api_total, c.api_monthly * 36, 1e-12);
	assert_rel(c.breakeven_tokens_per_month, 273200.0 / 36 / (c.api_monthly / c.tokens_per_month), 1e-12);
	/* a flat bill replaces the per-token prices, which stay visible for comparison */
	sc.cost.api.monthly_bill = 3750;
	llmcap_cost_compute(&sc, &res, &c);
	assert_rel(c.api_total, 135000, 1e-15);
	assert_rel(c.api_monthly_at_prices, (1e8 * 0.10 + 5e7 * 0.75) / 1e6 * days, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parameter_counts),
		cmocka_unit_test(kv_capacity_8b_on_one_h100),
		cmocka_unit_test(kv_capacity_70b_fp16_on_two_h100),
		cmocka_unit_test(step_time_roofline),
		cmocka_unit_test(cost_reference_inputs),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

/* Speculative decoding's arithmetic: the acceptance model (how many proposed tokens a
 * verification keeps), the proposer's step time, and what the draft takes from the memory
 * plan; and the pool's memory plan with its LoRA adapter cache (models/lora.c sizes it).
 *
 * Semantics follow vLLM's speculative decoding (speculative_config: method, model,
 * num_speculative_tokens): every decode step of a sequence runs the target over its last token
 * and k proposals and keeps the longest accepted prefix plus one token of its own (the
 * correction or bonus token), so a step emits 1 to k + 1 tokens. With each proposal accepted
 * independently with probability a, P(emitted > j) = a^j and the mean is
 * (1 - a^(k+1)) / (1 - a) (Leviathan, Kalman, Matias, "Fast Inference from Transformers via
 * Speculative Decoding", ICML 2023, eq. 1). */
#include "llmcap/perf.h"

#include <math.h>
#include <string.h>

double llmcap_spec_expected_tokens(double a, int64_t k)
{
	/* the sum itself: exact for a = 1 (k + 1) and a = 0 (1) */
	double e = 0, p = 1;
	for (int64_t j = 0; j <= k; j++, p *= a)
		e += p;
	return e;
}

int64_t llmcap_spec_accepted(double a, int64_t d, double u)
{
	if (d <= 0 || a <= 0)
		return 0;
	if (a >= 1)
		return d;
	/* accepted >= j  <=>  u < a^j  <=>  j <= log(u) / log(a); 1 - u is in (0, 1] */
	double x = log1p(-u) / log(a);
	return x >= (double)d ? d : (int64_t)x;
}

int llmcap_spec_perf_init(struct llmcap_spec_perf *sp, const struct llmcap_catalog *cat,
			  const struct llmcap_gpu_spec *g, const struct llmcap_engine_spec *e,
			  const struct llmcap_pool_cfg *p, struct llmcap_error *err)
{
	memset(sp, 0, sizeof *sp);
	sp->method = p->speculative.method;
	if (sp->method != LLMCAP_SPEC_DRAFT)
		return 0;
	const struct llmcap_model_spec *dm = llmcap_catalog_model(cat, p->speculative.draft_model);
	if (!dm)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: pools.%s.speculative.draft_model: '%s' is not in the catalog; "
				     "expected a model name (llmcap catalog)",
				     p->where, p->name, p->speculative.draft_model);
	/* the draft runs on the pool's GPUs at its TP, timed by the roofline whatever the
	 * target's own perf_model (a fitted or measured table describes the target only) */
	struct llmcap_pool_cfg dp = *p;
	dp.perf_model = LLMCAP_PERF_ROOFLINE;
	int rc = llmcap_perf_init(&sp->draft, dm, g, e, &dp, err);
	if (rc)
		return rc;
	sp->has_draft = true;
	return 0;
}

void llmcap_spec_perf_free(struct llmcap_spec_perf *sp)
{
	if (sp->has_draft)
		llmcap_perf_free(&sp->draft);
	sp->has_draft = false;
}

double llmcap_spec_propose_seconds(const struct llmcap_spec_perf *sp, const struct llmcap_perf *target,
				   int64_t seqs, double ctx, struct llmcap_step_work *work)
{
	if (work)
		*work = (struct llmcap_step_work){0};
	if (seqs <= 0 || sp->method == LLMCAP_SPEC_OFF || sp->method == LLMCAP_SPEC_NGRAM)
		return 0; /* n-gram lookup: prompt matching on the CPU, overlapped */
	/* one new token per sequence over its context (a decode step's shape) */
	struct llmcap_step_shape sh = {.tokens = seqs, .attn_pairs = ctx + (double)seqs,
				       .kv_read_tokens = ctx + (double)seqs, .samples = seqs};
	struct llmcap_step_breakdown bd;
	if (sp->method == LLMCAP_SPEC_DRAFT) {
		llmcap_perf_step_seconds(&sp->draft, &sh, work, &bd);
		return bd.linear + bd.attention + bd.lm_head + bd.comm;
	}
	/* EAGLE / MTP: one decoder layer of the target's shape and the target's LM head */
	struct llmcap_step_work w;
	llmcap_perf_step_seconds(target, &sh, &w, &bd);
	if (work) {
		work->flops = w.flops / target->layers;
		work->bytes = w.bytes / target->layers;
	}
	return (bd.linear + bd.attention + bd.comm) / target->layers + bd.lm_head;
}

int llmcap_memory_plan_pool(const struct llmcap_catalog *cat, const struct llmcap_model_spec *m,
			    const struct llmcap_gpu_spec *g, const struct llmcap_engine_spec *e,
			    const struct llmcap_pool_cfg *p, struct llmcap_memory_plan *out,
			    struct llmcap_error *err)
{
	const enum llmcap_spec_method sm = p->speculative.method;
	if (sm == LLMCAP_SPEC_OFF && p->lora.max_loras == 0)
		return llmcap_memory_plan_engine(m, g, e, p, out, err);
	struct llmcap_memory_extra x = {0};
	const double tp = (double)p->tensor_parallel_size;
	if (sm == LLMCAP_SPEC_DRAFT) {
		const struct llmcap_model_spec *dm = llmcap_catalog_model(cat, p->speculative.draft_model);
		if (!dm)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.speculative.draft_model: '%s' is not in the "
					     "catalog; expected a model name (llmcap catalog)",
					     p->where, p->name, p->speculative.draft_model);
		/* the draft's own plan on a pool that only loads it: its weights per GPU (same
		 * dtype, TP and embedding rule) and its KV bytes per token */
		struct llmcap_pool_cfg dp = *p;
		dp.speculative.method = LLMCAP_SPEC_OFF;
		dp.lora.max_loras = 0;
		dp.max_model_len = 0;
		dp.num_gpu_blocks_override = 1;
		dp.enable_chunked_prefill = true;
		struct llmcap_memory_plan d;
		int rc = llmcap_memory_plan_engine(dm, g, e, &dp, &d, err);
		if (rc)
			return rc;
		x.draft_weight_bytes = d.weight_bytes_per_gpu;
		x.draft_kv_bytes_per_token = d.kv_bytes_per_token;
	} else if (sm == LLMCAP_SPEC_EAGLE || sm == LLMCAP_SPEC_MTP) {
		/* a head of one decoder layer of the target's shape (its LM head is the target's) */
		struct llmcap_pool_cfg tp_only = *p;
		tp_only.speculative.method = LLMCAP_SPEC_OFF;
		tp_only.lora.max_loras = 0;
		tp_only.max_model_len = 0;
		tp_only.num_gpu_blocks_override = 1;
		tp_only.enable_chunked_prefill = true;
		struct llmcap_memory_plan t;
		int rc = llmcap_memory_plan_engine(m, g, e, &tp_only, &t, err);
		if (rc)
			return rc;
		struct llmcap_param_count pc;
		llmcap_model_params(m, &pc);
		x.draft_weight_bytes = pc.per_layer * llmcap_dtype_bytes(p->dtype) / tp;
		x.draft_kv_bytes_per_token = t.kv_bytes_per_token / (double)m->layers;
	}
	if (p->lora.max_loras > 0) {
		int64_t slots = p->lora.gpu_cache > p->lora.max_loras ? p->lora.gpu_cache : p->lora.max_loras;
		x.lora_bytes = (double)slots *
			       llmcap_lora_adapter_bytes(m, p->lora.max_lora_rank, LLMCAP_LORA_ALL_LINEAR) /
			       tp;
	}
	return llmcap_memory_plan_extra(m, g, e, p, &x, out, err);
}

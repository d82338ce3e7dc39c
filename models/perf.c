/* Memory plan (KV capacity) and the roofline step-time model. See include/llmcap/perf.h. */
#include "llmcap/perf.h"

#include "perf_table.h"

#include <math.h>
#include <stdio.h>

void llmcap_model_params(const struct llmcap_model_spec *m, struct llmcap_param_count *out)
{
	*out = (struct llmcap_param_count){0};
	double h = (double)m->hidden_size, i = (double)m->intermediate_size;
	double moe_i = m->moe_intermediate_size > 0 ? (double)m->moe_intermediate_size : i;
	double nh = (double)m->num_attention_heads;
	double experts = m->num_experts > 0 ? (double)(m->num_experts + m->num_shared_experts) : 1;
	double active = m->num_experts > 0 ? (double)(m->experts_per_token + m->num_shared_experts) : 1;
	double router = m->num_experts > 0 ? h * (double)m->num_experts : 0;
	/* two RMSNorm weight vectors per layer */
	double norms = 2 * h;
	out->embedding = (double)m->vocab_size * h;
	if (m->kv_lora_rank > 0) {
		/* Multi-head latent attention (DeepSeek-V2 section 2.1; HF modeling_deepseek.py):
		 * q_a (h x q_lora) and q_b (q_lora x heads (nope + rope)), or one q_proj without a
		 * q_lora_rank; kv_a (h x (kv_lora + rope)); kv_b (kv_lora x heads (nope + v));
		 * o (heads v x h); RMSNorms over the two latents. vLLM replicates the two
		 * down-projections (q_a, kv_a) on every TP rank and shards the rest. */
		double c = (double)m->kv_lora_rank, qc = (double)m->q_lora_rank;
		double nope = (double)m->qk_nope_head_dim, rope = (double)m->qk_rope_head_dim;
		double v = (double)m->v_head_dim;
		double q_a = qc > 0 ? h * qc : 0;
		double q_b = (qc > 0 ? qc : h) * nh * (nope + rope);
		double kv_a = h * (c + rope);
		out->attn_replicated = q_a + kv_a;
		out->attn_per_layer = q_a + q_b + kv_a + c * nh * (nope + v) + nh * v * h;
		norms += c + qc;
	} else {
		double q = nh * (double)m->head_dim;
		double kv = (double)m->num_key_value_heads * (double)m->head_dim;
		/* QKV + output projection */
		out->attn_per_layer = h * (q + 2 * kv) + q * h;
	}
	/* gate/up/down of the dense MLP or of one expert */
	out->expert_per_layer = 3 * h * moe_i;
	/* + every expert (routed and shared), the router and the norms */
	out->per_layer = out->attn_per_layer + experts * out->expert_per_layer + router + norms;
	out->active_per_layer = out->attn_per_layer + active * out->expert_per_layer + router;
	/* the dense first layers of a DeepSeek-style MoE model */
	out->first_layers = m->num_experts > 0 ? (double)m->first_dense_layers : 0;
	out->first_active = out->attn_per_layer + 3 * h * i;
	out->first_per_layer = out->first_active + norms;
	double main_layers = (double)m->layers - out->first_layers;
	out->layers = out->per_layer * main_layers + out->first_per_layer * out->first_layers;
	out->replicated = out->attn_replicated * (double)m->layers;
	out->lm_head = m->tie_word_embeddings ? 0 : (double)m->vocab_size * h;
	out->total = out->embedding + out->layers + h + out->lm_head;
	out->active = out->active_per_layer * main_layers + out->first_active * out->first_layers +
		      (double)m->vocab_size * h;
}

double llmcap_dtype_bytes(enum llmcap_dtype d)
{
	switch (d) {
	case LLMCAP_DTYPE_BF16:
	case LLMCAP_DTYPE_FP16: return 2.0;
	case LLMCAP_DTYPE_FP8: return 1.0;
	case LLMCAP_DTYPE_INT4_AWQ: return 4.25 / 8.0; /* 4-bit weights + group-128 scales/zeros */
	}
	return 2.0;
}

double llmcap_kv_dtype_bytes(enum llmcap_kv_dtype d)
{
	return d == LLMCAP_KV_FP8 ? 1.0 : 2.0;
}

static int64_t kv_heads_per_rank(const struct llmcap_model_spec *m, int64_t tp)
{
	int64_t h = m->num_key_value_heads / tp;
	return h < 1 ? 1 : h; /* vLLM replicates KV heads when TP exceeds their number */
}

/* KV-cache bytes of one token, all layers, one GPU. Multi-head latent attention caches one
 * latent (kv_lora_rank + qk_rope_head_dim) per token and layer for all heads, which every TP
 * rank holds in full (as vLLM does); otherwise K and V of the rank's KV heads. */
static double kv_bytes_per_token(const struct llmcap_model_spec *m, const struct llmcap_pool_cfg *p)
{
	double b = llmcap_kv_dtype_bytes(p->kv_cache_dtype);
	if (m->kv_lora_rank > 0)
		return (double)m->layers * (double)(m->kv_lora_rank + m->qk_rope_head_dim) * b;
	return 2.0 * (double)m->layers * (double)kv_heads_per_rank(m, p->tensor_parallel_size) *
	       (double)m->head_dim * b;
}

static double activation_bytes(const struct llmcap_model_spec *m, const struct llmcap_pool_cfg *p)
{
	/* Peak of vLLM's profiling forward pass over max_num_batched_tokens: the gated-MLP
	 * intermediate (gate and up, sharded by TP) and a few hidden-size buffers in 16-bit,
	 * plus FP32 logits over the full vocabulary for max_num_seqs sampled sequences. */
	double t = (double)p->max_num_batched_tokens, tp = (double)p->tensor_parallel_size;
	double per_token = (4.0 * (double)m->hidden_size + 2.0 * (double)m->intermediate_size / tp) * 2.0;
	return t * per_token + (double)p->max_num_seqs * (double)m->vocab_size * 4.0;
}

static double gib(double b)
{
	return b / LLMCAP_GIB;
}

/* Weight bytes on one GPU at TP t: everything is sharded over the TP ranks but MLA's
 * replicated down-projections; with embed16, the embedding and LM head stay in 16 bits (FP8
 * and INT4 checkpoints from ModelOpt, llm-compressor and AutoAWQ leave them unquantised). */
static double weight_bytes(const struct llmcap_param_count *pc, const struct llmcap_pool_cfg *p,
			   double t, bool embed16)
{
	double wb = llmcap_dtype_bytes(p->dtype);
	double w = ((pc->total - pc->replicated) / t + pc->replicated) * wb;
	if (embed16 && wb < 2.0)
		w += (pc->embedding + pc->lm_head) / t * (2.0 - wb);
	return w;
}

int llmcap_memory_plan(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
		       const struct llmcap_pool_cfg *p, struct llmcap_memory_plan *out,
		       struct llmcap_error *err)
{
	return llmcap_memory_plan_engine(m, g, NULL, p, out, err);
}

int llmcap_memory_plan_engine(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
			      const struct llmcap_engine_spec *engine,
			      const struct llmcap_pool_cfg *p, struct llmcap_memory_plan *out,
			      struct llmcap_error *err)
{
	return llmcap_memory_plan_extra(m, g, engine, p, NULL, out, err);
}

int llmcap_memory_plan_extra(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
			     const struct llmcap_engine_spec *engine, const struct llmcap_pool_cfg *p,
			     const struct llmcap_memory_extra *extra, struct llmcap_memory_plan *out,
			     struct llmcap_error *err)
{
	struct llmcap_param_count pc;
	llmcap_model_params(m, &pc);
	double tp = (double)p->tensor_parallel_size;
	struct llmcap_engine_spec e = {.memory_rule = LLMCAP_MEM_LEGACY};
	if (engine)
		llmcap_engine_resolve(engine, &p->profile, &e);
	const bool legacy = e.memory_rule == LLMCAP_MEM_LEGACY;
	const bool embed16 = !legacy && e.embed_16bit;
	*out = (struct llmcap_memory_plan){.rule = e.memory_rule};
	out->params = pc.total;
	/* multi-node layouts (models/parallel.c): the busiest stage's share, experts over EP */
	const bool par = llmcap_parallel_active(p);
	out->weight_bytes_per_gpu =
		par ? llmcap_parallel_weight_bytes(m, &pc, p, llmcap_dtype_bytes(p->dtype), embed16)
		    : weight_bytes(&pc, p, tp, embed16);
	out->activation_bytes_per_gpu = activation_bytes(m, p);
	out->overhead_bytes_per_gpu =
		legacy ? p->memory_overhead
		       : e.reserved_memory + e.cuda_graph_memory + (tp > 1 || par ? e.nccl_memory : 0);
	switch (e.memory_rule) {
	case LLMCAP_MEM_LEGACY:
	case LLMCAP_MEM_VLLM:
		/* vLLM: a share of the whole memory; the profiling run's activation peak and the
		 * memory outside PyTorch's allocator come off it */
		out->budget_bytes_per_gpu = g->memory * p->gpu_memory_utilization;
		break;
	case LLMCAP_MEM_TRTLLM: {
		/* TensorRT-LLM: a share of what is free once weights, runtime buffers and CUDA
		 * graphs are in place; the rest of the free memory stays unused */
		double used = out->weight_bytes_per_gpu + out->activation_bytes_per_gpu +
			      out->overhead_bytes_per_gpu;
		double free = g->memory - used;
		out->budget_bytes_per_gpu = used + (free > 0 ? free * p->gpu_memory_utilization : 0);
		break;
	}
	case LLMCAP_MEM_SGLANG:
		/* SGLang: weights and KV pool together take mem_fraction_static of the memory;
		 * activations, graphs and buffers live in the rest */
		out->budget_bytes_per_gpu = g->memory * p->gpu_memory_utilization;
		out->activation_bytes_per_gpu = 0;
		out->overhead_bytes_per_gpu = 0;
		break;
	}
	/* a draft model's (or head's) weights and an adapter cache sit beside the target's
	 * weights; the draft's KV shares the target's blocks (a block holds both) */
	const double extra_bytes = extra ? extra->draft_weight_bytes + extra->lora_bytes : 0;
	if (extra) {
		out->draft_weight_bytes_per_gpu = extra->draft_weight_bytes;
		out->draft_kv_bytes_per_token = extra->draft_kv_bytes_per_token;
		out->lora_bytes_per_gpu = extra->lora_bytes;
	}
	out->kv_bytes_per_gpu = out->budget_bytes_per_gpu - out->weight_bytes_per_gpu -
				out->activation_bytes_per_gpu - out->overhead_bytes_per_gpu - extra_bytes;
	out->kv_bytes_per_token = kv_bytes_per_token(m, p);
	if (par) /* a GPU caches its stage's layers */
		out->kv_bytes_per_token *= llmcap_parallel_stage_share(m, p);
	out->kv_bytes_per_token += extra ? extra->draft_kv_bytes_per_token : 0;
	out->block_size = p->block_size;

	double fixed = out->activation_bytes_per_gpu + out->overhead_bytes_per_gpu + extra_bytes;
	if (out->weight_bytes_per_gpu + fixed >= out->budget_bytes_per_gpu) {
		/* Name the smallest tensor-parallel degree that would leave room. */
		char hint[160] = "a smaller dtype (fp8, int4-awq) or a larger GPU";
		for (int t = (int)p->tensor_parallel_size * 2; t <= 8; t *= 2)
			if (weight_bytes(&pc, p, t, embed16) + fixed <
			    (e.memory_rule == LLMCAP_MEM_TRTLLM ? g->memory : out->budget_bytes_per_gpu)) {
				snprintf(hint, sizeof hint, "tensor_parallel_size >= %d, or %s", t,
					 "a smaller dtype (fp8, int4-awq)");
				break;
			}
		/* past one server's TP: pipeline stages across servers (models/parallel.c) */
		for (int s = 2; s <= 8 && hint[0] == 'a' && llmcap_parallel_pp(p) == 1; s *= 2) {
			struct llmcap_pool_cfg q = *p;
			q.parallel.pipeline_parallel_size = s;
			if (llmcap_parallel_weight_bytes(m, &pc, &q, llmcap_dtype_bytes(p->dtype), embed16) +
				    fixed < out->budget_bytes_per_gpu) {
				snprintf(hint, sizeof hint,
					 "pipeline_parallel_size >= %d (stages across servers), or %s", s,
					 "a smaller dtype (fp8, int4-awq)");
				break;
			}
		}
		return llmcap_errorf(
			err, LLMCAP_ECAPACITY,
			"%s: pools.%s.model: '%s' (%.2fB parameters) in %s needs %.1f GiB of weights per GPU "
			"at tensor_parallel_size %lld, plus %.1f GiB of activations and overhead, but a %s "
			"offers %.1f GiB (%.1f GiB x gpu_memory_utilization %g); expected %s",
			p->where, p->name, m->name, pc.total / 1e9, llmcap_dtype_name(p->dtype),
			gib(out->weight_bytes_per_gpu), (long long)p->tensor_parallel_size, gib(fixed),
			g->name, gib(out->budget_bytes_per_gpu), gib(g->memory), p->gpu_memory_utilization,
			hint);
	}
	if (p->num_gpu_blocks_override > 0) {
		out->num_blocks = p->num_gpu_blocks_override;
		out->blocks_overridden = true;
	} else {
		out->num_blocks = (int64_t)floor(out->kv_bytes_per_gpu /
						 (out->kv_bytes_per_token * (double)p->block_size));
		if (par) /* each data-parallel attention rank caches its own sequences */
			out->num_blocks *= llmcap_parallel_dp(p);
	}
	out->kv_tokens = out->num_blocks * p->block_size;
	if (out->num_blocks < 1)
		return llmcap_errorf(
			err, LLMCAP_ECAPACITY,
			"%s: pools.%s: '%s' in %s leaves %.2f GiB per GPU for the KV cache, less than one "
			"block of %lld tokens (%.1f MiB); expected more tensor parallelism, a smaller dtype "
			"or a higher gpu_memory_utilization",
			p->where, p->name, m->name, llmcap_dtype_name(p->dtype), gib(out->kv_bytes_per_gpu),
			(long long)p->block_size,
			out->kv_bytes_per_token * (double)p->block_size / (1024.0 * 1024.0));
	if (p->max_model_len > 0) {
		if (p->max_model_len > out->kv_tokens)
			return llmcap_errorf(
				err, LLMCAP_ECAPACITY,
				"%s: pools.%s.max_model_len: %lld tokens do not fit the KV cache of %lld "
				"tokens (%lld blocks of %lld); expected max_model_len <= %lld (as vLLM "
				"requires)",
				p->where, p->name, (long long)p->max_model_len, (long long)out->kv_tokens,
				(long long)out->num_blocks, (long long)p->block_size,
				(long long)out->kv_tokens);
		if (p->max_model_len > m->max_position_embeddings)
			return llmcap_errorf(
				err, LLMCAP_EINVAL,
				"%s: pools.%s.max_model_len: %lld exceeds %s's context length; expected <= %lld",
				p->where, p->name, (long long)p->max_model_len, m->name,
				(long long)m->max_position_embeddings);
		out->max_model_len = p->max_model_len;
	} else {
		out->max_model_len = m->max_position_embeddings < out->kv_tokens
					     ? m->max_position_embeddings
					     : out->kv_tokens;
	}
	if (!p->enable_chunked_prefill && p->max_num_batched_tokens < out->max_model_len)
		return llmcap_errorf(
			err, LLMCAP_EINVAL,
			"%s: pools.%s.max_num_batched_tokens: %lld is below max_model_len %lld with "
			"chunked prefill disabled, so long prompts could never be scheduled; expected "
			">= %lld, or enable_chunked_prefill: true, or a smaller max_model_len",
			p->where, p->name, (long long)p->max_num_batched_tokens,
			(long long)out->max_model_len, (long long)out->max_model_len);
	return 0;
}

double llmcap_expected_experts(double experts, double per_token, double tokens)
{
	if (experts <= 0)
		return 1;
	if (tokens <= 0)
		return 0;
	/* each token picks per_token of the experts: an expert stays untouched with probability
	 * (1 - k/E) per token, independently (uniform routing) */
	return experts * (1.0 - pow(1.0 - per_token / experts, tokens));
}

static void roofline_init(struct llmcap_perf *pf, const struct llmcap_model_spec *m,
			  const struct llmcap_gpu_spec *g, const struct llmcap_engine_spec *e,
			  const struct llmcap_pool_cfg *p)
{
	struct llmcap_param_count pc;
	llmcap_model_params(m, &pc);
	double tp = (double)p->tensor_parallel_size;
	double h = (double)m->hidden_size, wb = llmcap_dtype_bytes(p->dtype);
	double router = m->num_experts > 0 ? h * (double)m->num_experts : 0;
	pf->tp = tp;
	pf->layers = (double)m->layers;
	/* Every weight matrix is split over the TP ranks (Megatron column/row parallelism; the
	 * experts of an MoE layer too, as vLLM's fused-MoE tensor parallelism does), except MLA's
	 * replicated down-projections. Shared experts are read every step, like attention. */
	double repl = pc.attn_replicated, sharded_attn = pc.attn_per_layer - repl;
	double shared = (double)m->num_shared_experts * pc.expert_per_layer;
	pf->dense_weight_bytes = ((sharded_attn + router + shared) / tp + repl) * wb;
	pf->expert_weight_bytes = pc.expert_per_layer * wb / tp;
	pf->num_experts = (double)m->num_experts;
	pf->experts_per_token = (double)m->experts_per_token;
	pf->active_params_layer = (pc.active_per_layer - repl) / tp + repl;
	/* Element-wise operators read and write 16-bit activations: two RMSNorms, rotary
	 * embedding, residual adds (about 10 hidden-size vectors per token, not split by TP) and
	 * the gated activation over the active MLP width (3 vectors, split by TP). */
	double moe_i = m->moe_intermediate_size > 0 ? (double)m->moe_intermediate_size
						    : (double)m->intermediate_size;
	double active_i = m->num_experts > 0
				  ? moe_i * (double)(m->experts_per_token + m->num_shared_experts)
				  : (double)m->intermediate_size;
	pf->ew_bytes_per_token = (10.0 * h + 3.0 * active_i / tp) * 2.0;
	/* dense first layers (DeepSeek's first_k_dense_replace): attention + a dense MLP */
	pf->first_layers = pc.first_layers;
	pf->first_params = (pc.first_active - repl) / tp + repl;
	pf->first_weight_bytes = pf->first_params * wb;
	pf->first_ew_bytes_per_token = (10.0 * h + 3.0 * (double)m->intermediate_size / tp) * 2.0;
	pf->layer_latency = (double)g->layer_latency * 1e-9;
	bool fp8 = p->dtype == LLMCAP_DTYPE_FP8 && g->fp8_tflops > 0;
	/* FP8 weights and activations run on FP8 tensor cores; INT4 weight-only kernels
	 * dequantise to 16-bit and compute there. */
	pf->gemm_flops = (fp8 ? g->fp8_tflops : g->bf16_tflops) * 1e12 * g->gemm_efficiency;
	pf->gemm_half_tokens = g->gemm_half_tokens;
	pf->mem_bw = g->hbm_bandwidth * g->hbm_efficiency;
	/* The LM head stays in 16-bit in FP8 and AWQ checkpoints (ModelOpt, AutoAWQ). */
	pf->lm_head_params = (double)m->vocab_size * h / tp;
	pf->lm_head_bytes = pf->lm_head_params * 2.0;
	/* QK^T and PV: 2 FLOPs per multiply-add, 2 matmuls, over all query heads and layers. MLA
	 * in the form engines run prefill in (keys of nope + rope, values of v_head_dim per head,
	 * up-projected from the latent by kv_b, whose FLOPs are in the linear term); decode runs
	 * the absorbed form, 2 heads (2 kv_lora + rope) per pair, but stays bound by reading the
	 * latent (docs/models.md). */
	if (m->kv_lora_rank > 0)
		pf->attn_flops_per_pair = 2.0 * (double)m->num_attention_heads *
					  (double)(m->qk_nope_head_dim + m->qk_rope_head_dim +
						   m->v_head_dim) * (double)m->layers;
	else
		pf->attn_flops_per_pair =
			4.0 * (double)m->num_attention_heads * (double)m->head_dim * (double)m->layers;
	pf->kv_bytes_per_token = kv_bytes_per_token(m, p);
	pf->attn_flops_peak = g->bf16_tflops * 1e12 * g->attention_efficiency;
	pf->kv_bw = g->hbm_bandwidth * e->attention_bw_efficiency;
	if (p->tensor_parallel_size > 1 && g->allreduce_bandwidth > 0) {
		/* Ring all-reduce: time = latency + size x 2 (n - 1) / n / bus bandwidth; 16-bit
		 * activations of hidden size per token; two per layer (after attention, after
		 * the MLP). */
		double per_token = h * 2.0 * 2.0 * (tp - 1.0) / tp / g->allreduce_bandwidth;
		llmcap_time lat = e->allreduce_latency >= 0 ? e->allreduce_latency : g->allreduce_latency;
		pf->allreduce_time_fixed = 2.0 * pf->layers * (double)lat * 1e-9;
		pf->allreduce_s_per_token = 2.0 * pf->layers * per_token;
	}
	pf->step_overhead_s = (double)(p->step_overhead >= 0 ? p->step_overhead : e->step_overhead) * 1e-9;
	pf->seq_overhead_s = (double)e->seq_overhead * 1e-9;
	pf->eager_s = pf->layers * (double)e->eager_layer_overhead * 1e-9;
	pf->par = (struct llmcap_parallel_perf){.pp = 1, .dp = 1, .ep = 1, .imbalance = 1};
	if (llmcap_parallel_active(p)) {
		llmcap_time lat = e->allreduce_latency >= 0 ? e->allreduce_latency : g->allreduce_latency;
		llmcap_parallel_perf_init(pf, m, &pc, p, wb, g->allreduce_bandwidth, (double)lat * 1e-9);
	}
}

/* ---- the performance models, one row each (llmcap_perf_models) ---- */

static int roofline_model_init(struct llmcap_perf *pf, const struct llmcap_pool_cfg *p,
			       struct llmcap_error *err)
{
	(void)pf, (void)p, (void)err;
	return 0; /* roofline_init set everything */
}

static int linear_model_init(struct llmcap_perf *pf, const struct llmcap_pool_cfg *p,
			     struct llmcap_error *err)
{
	(void)err;
	pf->lin_a = (double)p->linear.per_step * 1e-9;
	pf->lin_b = p->linear.per_token_us * 1e-6;
	pf->lin_c = p->linear.per_context_token_ns * 1e-9;
	return 0;
}

static int table_model_init(struct llmcap_perf *pf, const struct llmcap_pool_cfg *p,
			    struct llmcap_error *err)
{
	pf->out_of_range = p->table.out_of_range;
	char where[256];
	snprintf(where, sizeof where, "%s: pools.%s.table.path", p->where, p->name);
	return llmcap_perf_table_load(&pf->table, p->table.path, where, err);
}

const struct llmcap_perf_model_row llmcap_perf_models[] = {
	[LLMCAP_PERF_ROOFLINE] = {.init = roofline_model_init, .screens = true},
	[LLMCAP_PERF_LINEAR] = {.init = linear_model_init, .screens = false},
	[LLMCAP_PERF_TABLE] = {.init = table_model_init, .screens = false},
};
_Static_assert(sizeof llmcap_perf_models / sizeof llmcap_perf_models[0] == LLMCAP_PERF_MODEL_COUNT,
	       "a row per performance model");

int llmcap_perf_init(struct llmcap_perf *pf, const struct llmcap_model_spec *m,
		     const struct llmcap_gpu_spec *g, const struct llmcap_engine_spec *e,
		     const struct llmcap_pool_cfg *p, struct llmcap_error *err)
{
	*pf = (struct llmcap_perf){.kind = p->perf_model};
	struct llmcap_engine_spec eng;
	llmcap_engine_resolve(e, &p->profile, &eng);
	/* The roofline's constants also give the work (FLOPs, bytes) of every model's steps. */
	roofline_init(pf, m, g, &eng, p);
	return llmcap_perf_models[p->perf_model].init(pf, p, err);
}

void llmcap_perf_free(struct llmcap_perf *pf)
{
	llmcap_perf_table_free(pf->table);
	pf->table = NULL;
}

static double roofline(double flops, double flops_peak, double bytes, double bw)
{
	double c = flops / flops_peak, b = bytes / bw;
	return c > b ? c : b;
}

void llmcap_perf_fixed(const struct llmcap_perf *pf, int64_t tokens, int64_t samples,
		       struct llmcap_step_fixed *f)
{
	llmcap_perf_fixed_d(pf, (double)tokens, (double)samples, f);
}

void llmcap_perf_fixed_d(const struct llmcap_perf *pf, double tokens, double samples,
			 struct llmcap_step_fixed *f)
{
	double tp = pf->tp, t = tokens, n = samples;
	/* Linear operators, per layer and GPU: the weights of the attention projections and of
	 * the experts the step touches are streamed once; the GEMMs reach their efficiency only
	 * with enough rows (T / (T + half) of it: tile waste at small T). */
	double experts = pf->num_experts > 0
				 ? llmcap_expected_experts(pf->num_experts, pf->experts_per_token, t)
				 : 1.0;
	double w_bytes = pf->dense_weight_bytes + experts * pf->expert_weight_bytes;
	double gemm = t > 0 ? roofline(2.0 * pf->active_params_layer * (t + pf->gemm_half_tokens),
				       pf->gemm_flops, w_bytes, pf->mem_bw)
			    : 0;
	f->t = t;
	f->n = n;
	f->lin = (pf->layers - pf->first_layers) *
		 (pf->layer_latency + gemm + pf->ew_bytes_per_token * t / pf->mem_bw);
	double first_flops = 0, first_bytes = 0;
	if (pf->first_layers > 0) {
		double g1 = t > 0 ? roofline(2.0 * pf->first_params * (t + pf->gemm_half_tokens),
					     pf->gemm_flops, pf->first_weight_bytes, pf->mem_bw)
				  : 0;
		f->lin += pf->first_layers * (pf->layer_latency + g1 +
					      pf->first_ew_bytes_per_token * t / pf->mem_bw);
		first_flops = pf->first_layers * (2.0 * pf->first_params * t -
						  2.0 * pf->active_params_layer * t);
		first_bytes = pf->first_layers * (pf->first_weight_bytes - w_bytes +
						  (pf->first_ew_bytes_per_token - pf->ew_bytes_per_token) * t);
	}
	/* Attention (llmcap_perf_finish): prefill pairs are compute (FlashAttention), the KV
	 * cache read and the new tokens' KV written are memory; each step sums both, which is
	 * exact for pure prefill or pure decode and within the smaller term for a mix. */
	double head_flops = 0;
	f->head = 0;
	if (samples > 0) {
		head_flops = 2.0 * pf->lm_head_params * n;
		f->head = roofline(2.0 * pf->lm_head_params * (n + pf->gemm_half_tokens), pf->gemm_flops,
				   pf->lm_head_bytes, pf->mem_bw);
	}
	f->comm = t > 0 ? pf->allreduce_time_fixed + pf->allreduce_s_per_token * t : 0;
	if (t > 0 && pf->par.a2a_count > 0) /* expert parallelism's all-to-alls (parallel.c) */
		f->comm += pf->par.a2a_fixed_s + pf->par.a2a_s_per_token * t;
	f->over = pf->step_overhead_s + pf->seq_overhead_s * n + (t > n ? pf->eager_s : 0);
	f->lin_ab = pf->lin_a + pf->lin_b * t;
	f->flops = (2.0 * pf->active_params_layer * t * pf->layers + first_flops + head_flops) * tp;
	f->bytes = (pf->layers * (w_bytes + pf->ew_bytes_per_token * t) + first_bytes +
		    (samples > 0 ? pf->lm_head_bytes : 0)) * tp;
}

double llmcap_perf_table_time(const struct llmcap_perf *pf, double tokens, double kv_read_tokens,
			      bool *out_of_range)
{
	return llmcap_perf_table_eval(pf->table, tokens, kv_read_tokens, pf->out_of_range,
				      out_of_range);
}

double llmcap_perf_pp_seconds(const struct llmcap_perf *pf, double tokens, double samples,
			      double attn_pairs, double kv_read_tokens, struct llmcap_step_work *work,
			      struct llmcap_step_breakdown *bd)
{
	/* m micro-batches of the step's counts / m; one passes every stage (the roofline with
	 * all the layers), then PP - 1 hops (perf.h "Multi-node parallelism") */
	const double mb = llmcap_pp_micro_batches(pf->par.pp, samples);
	struct llmcap_step_fixed f;
	llmcap_perf_fixed_d(pf, tokens / mb, samples / mb, &f);
	double one = llmcap_perf_finish(pf, &f, attn_pairs / mb, kv_read_tokens / mb, work, bd);
	double hops = (pf->par.pp - 1) * llmcap_pp_hop_seconds(&pf->par, tokens / mb);
	if (work) {
		work->flops *= mb;
		work->bytes *= mb;
	}
	if (bd)
		bd->comm += hops;
	return one + hops;
}

double llmcap_perf_step_seconds(const struct llmcap_perf *pf, const struct llmcap_step_shape *s,
				struct llmcap_step_work *work, struct llmcap_step_breakdown *bd)
{
	if (pf->par.pp > 1)
		return llmcap_perf_pp_seconds(pf, (double)s->tokens, (double)s->samples, s->attn_pairs,
					      s->kv_read_tokens, work, bd);
	struct llmcap_step_fixed f;
	llmcap_perf_fixed(pf, s->tokens, s->samples, &f);
	return llmcap_perf_finish(pf, &f, s->attn_pairs, s->kv_read_tokens, work, bd);
}

llmcap_time llmcap_perf_step_time(const struct llmcap_perf *pf, const struct llmcap_step_shape *s,
				  struct llmcap_step_work *work)
{
	return llmcap_perf_round_ns(llmcap_perf_step_seconds(pf, s, work, NULL));
}

void llmcap_step_timer_init(struct llmcap_step_timer *tm, const struct llmcap_perf *pf,
			    int64_t tokens, int64_t samples)
{
	*tm = (struct llmcap_step_timer){.pf = pf};
	const struct llmcap_step_fixed *f = &tm->f;
	llmcap_perf_fixed(pf, tokens, samples, &tm->f);
	int e;
	tm->tp_pow2 = pf->tp > 0 && frexp(pf->tp, &e) == 0.5;
	tm->inv_tp = 1.0 / pf->tp;
	/* the step time in ns, linear in A and R: each constant within a few roundings */
	tm->k_ns = (f->lin + f->head + f->comm + f->over + pf->kv_bytes_per_token * f->t / pf->kv_bw) * 1e9;
	tm->s_a_ns = pf->attn_flops_per_pair / pf->tp / pf->attn_flops_peak * 1e9;
	tm->s_r_ns = pf->kv_bytes_per_token / pf->kv_bw * 1e9;
	tm->s_ns = tm->s_a_ns + tm->s_r_ns;
	/* the error bound needs every term non-negative (no cancellation) and finite */
	/* a pipelined replica's steps take llmcap_perf_pp_seconds, unscreened */
	tm->pipelined = pf->par.pp > 1;
	tm->screen = !tm->pipelined && llmcap_perf_models[pf->kind].screens && f->lin >= 0 && f->head >= 0 &&
		     f->comm >= 0 && f->over >= 0 && f->t >= 0 && pf->attn_flops_per_pair >= 0 &&
		     pf->kv_bytes_per_token >= 0 && pf->tp > 0 && pf->attn_flops_peak > 0 &&
		     pf->kv_bw > 0 && isfinite(tm->k_ns) && isfinite(tm->s_a_ns) &&
		     isfinite(tm->s_r_ns) && isfinite(tm->s_ns);
}

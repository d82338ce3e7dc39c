/* Memory plan (KV capacity) and the roofline step-time model. See include/llmcap/perf.h. */
#include "llmcap/perf.h"

#include <math.h>
#include <stdio.h>

void llmcap_model_params(const struct llmcap_model_spec *m, struct llmcap_param_count *out)
{
	double h = (double)m->hidden_size, i = (double)m->intermediate_size;
	double q = (double)m->num_attention_heads * (double)m->head_dim;
	double kv = (double)m->num_key_value_heads * (double)m->head_dim;
	out->embedding = (double)m->vocab_size * h;
	/* QKV + output projection + gate/up/down + two RMSNorm weight vectors */
	out->per_layer = h * (q + 2 * kv) + q * h + 3 * h * i + 2 * h;
	out->layers = out->per_layer * (double)m->layers;
	out->lm_head = m->tie_word_embeddings ? 0 : (double)m->vocab_size * h;
	out->total = out->embedding + out->layers + h + out->lm_head;
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

static double kv_dtype_bytes(enum llmcap_kv_dtype d)
{
	return d == LLMCAP_KV_FP8 ? 1.0 : 2.0;
}

static int64_t kv_heads_per_rank(const struct llmcap_model_spec *m, int64_t tp)
{
	int64_t h = m->num_key_value_heads / tp;
	return h < 1 ? 1 : h; /* vLLM replicates KV heads when TP exceeds their number */
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

int llmcap_memory_plan(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
		       const struct llmcap_pool_cfg *p, struct llmcap_memory_plan *out,
		       struct llmcap_error *err)
{
	struct llmcap_param_count pc;
	llmcap_model_params(m, &pc);
	double tp = (double)p->tensor_parallel_size;
	*out = (struct llmcap_memory_plan){0};
	out->params = pc.total;
	out->weight_bytes_per_gpu = pc.total * llmcap_dtype_bytes(p->dtype) / tp;
	out->budget_bytes_per_gpu = g->memory * p->gpu_memory_utilization;
	out->activation_bytes_per_gpu = activation_bytes(m, p);
	out->overhead_bytes_per_gpu = p->memory_overhead;
	out->kv_bytes_per_gpu = out->budget_bytes_per_gpu - out->weight_bytes_per_gpu -
				out->activation_bytes_per_gpu - out->overhead_bytes_per_gpu;
	out->kv_bytes_per_token = 2.0 * (double)m->layers *
				  (double)kv_heads_per_rank(m, p->tensor_parallel_size) *
				  (double)m->head_dim * kv_dtype_bytes(p->kv_cache_dtype);
	out->block_size = p->block_size;

	double fixed = out->activation_bytes_per_gpu + out->overhead_bytes_per_gpu;
	if (out->weight_bytes_per_gpu + fixed >= out->budget_bytes_per_gpu) {
		/* Name the smallest tensor-parallel degree that would leave room. */
		char hint[160] = "a smaller dtype (fp8, int4-awq) or a larger GPU";
		for (int t = (int)p->tensor_parallel_size * 2; t <= 8; t *= 2)
			if (pc.total * llmcap_dtype_bytes(p->dtype) / t + fixed <
			    out->budget_bytes_per_gpu) {
				snprintf(hint, sizeof hint, "tensor_parallel_size >= %d, or %s", t,
					 "a smaller dtype (fp8, int4-awq)");
				break;
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

void llmcap_perf_init(struct llmcap_perf *pf, const struct llmcap_model_spec *m,
		      const struct llmcap_gpu_spec *g, const struct llmcap_pool_cfg *p)
{
	struct llmcap_param_count pc;
	llmcap_model_params(m, &pc);
	double tp = (double)p->tensor_parallel_size;
	double h = (double)m->hidden_size;
	pf->tp = tp;
	pf->linear_params = pc.layers;
	pf->lm_head_params = (double)m->vocab_size * h;
	/* Embedding rows are gathered, not streamed; every other weight is read once per step. */
	pf->weight_bytes = (pc.layers + pf->lm_head_params) * llmcap_dtype_bytes(p->dtype);
	/* QK^T and PV: 2 FLOPs per multiply-add, 2 matmuls, over all query heads and layers. */
	pf->attn_flops_per_pair =
		4.0 * (double)m->num_attention_heads * (double)m->head_dim * (double)m->layers;
	pf->kv_bytes_per_token = 2.0 * (double)m->layers * (double)m->num_key_value_heads *
				 (double)m->head_dim * kv_dtype_bytes(p->kv_cache_dtype);
	double peak16 = g->bf16_tflops * 1e12 * g->achieved_compute;
	bool fp8 = p->dtype == LLMCAP_DTYPE_FP8 && g->fp8_tflops > 0;
	pf->linear_flops_peak = fp8 ? g->fp8_tflops * 1e12 * g->achieved_compute : peak16;
	pf->attn_flops_peak = peak16;
	pf->mem_bw = g->hbm_bandwidth * g->achieved_memory;
	if (p->tensor_parallel_size > 1 && g->allreduce_bandwidth > 0) {
		/* Ring all-reduce: time = latency + size x 2 (n - 1) / n / bus bandwidth; 16-bit
		 * activations of hidden size per token; two per layer. */
		double per_token = h * 2.0 * 2.0 * (tp - 1.0) / tp / g->allreduce_bandwidth;
		pf->allreduce_time_fixed = 2.0 * (double)m->layers * (double)g->allreduce_latency * 1e-9;
		pf->allreduce_s_per_token = 2.0 * (double)m->layers * per_token;
	} else {
		pf->allreduce_time_fixed = 0;
		pf->allreduce_s_per_token = 0;
	}
	pf->step_overhead_s = (double)p->step_overhead * 1e-9;
}

static double roofline(double flops, double flops_peak, double bytes, double bw)
{
	double c = flops / flops_peak, b = bytes / bw;
	return c > b ? c : b;
}

llmcap_time llmcap_perf_step_time(const struct llmcap_perf *pf, const struct llmcap_step_shape *s,
				  struct llmcap_step_work *work)
{
	double tp = pf->tp, t = (double)s->tokens;
	double head_share = pf->lm_head_params / (pf->linear_params + pf->lm_head_params);
	/* Linear layers: weights streamed once, activations negligible next to them. */
	double lin_flops = 2.0 * pf->linear_params * t;
	double lin_bytes = pf->weight_bytes * (1.0 - head_share);
	double attn_flops = pf->attn_flops_per_pair * s->attn_pairs;
	double attn_bytes = pf->kv_bytes_per_token * (s->kv_read_tokens + t);
	double head_flops = 0, head_bytes = 0;
	if (s->samples > 0) {
		head_flops = 2.0 * pf->lm_head_params * (double)s->samples;
		head_bytes = pf->weight_bytes * head_share;
	}
	double lin = roofline(lin_flops / tp, pf->linear_flops_peak, lin_bytes / tp, pf->mem_bw);
	double attn = roofline(attn_flops / tp, pf->attn_flops_peak, attn_bytes / tp, pf->mem_bw);
	double head = roofline(head_flops / tp, pf->linear_flops_peak, head_bytes / tp, pf->mem_bw);
	double comm = t > 0 ? pf->allreduce_time_fixed + pf->allreduce_s_per_token * t : 0;
	double total = lin + attn + head + comm + pf->step_overhead_s;
	if (work) {
		work->flops = lin_flops + attn_flops + head_flops;
		work->bytes = lin_bytes + attn_bytes + head_bytes;
	}
	llmcap_time ns = (llmcap_time)llround(total * 1e9);
	return ns > 0 ? ns : 1;
}

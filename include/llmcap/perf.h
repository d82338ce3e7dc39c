/* Memory and performance models of one replica (one model instance on TP GPUs).
 *
 * Memory: KV-cache capacity derived the way vLLM derives it:
 *   usable per GPU = GPU memory x gpu_memory_utilization
 *                    - weights / TP - activation peak - memory_overhead
 *   blocks = floor(usable / (block_size x KV bytes per token per GPU))
 *   KV bytes per token (all layers) = 2 (K and V) x layers x kv_heads x head_dim x kv bytes,
 *   spread over TP ranks (each rank holds kv_heads / TP heads; heads are replicated when
 *   TP > kv_heads, as vLLM does).
 *
 * Step time: a roofline per operator (each operator takes the longer of its compute time and
 * its memory time), summed:
 *   linear layers (QKV, output projection, gated MLP) over the step's tokens, weights read once;
 *   attention: FLOPs over (new tokens x context) pairs, bytes of the KV cache read and written;
 *   LM head for the sequences that emit a token; two all-reduces per layer when TP > 1;
 *   plus a fixed per-step CPU overhead.
 */
#ifndef LLMCAP_PERF_H
#define LLMCAP_PERF_H

#include "llmcap/catalog.h"
#include "llmcap/scenario.h"

/* Parameter counts from the architecture (embedding, layers, final norm, LM head). */
struct llmcap_param_count {
	double embedding;  /* vocab x hidden */
	double per_layer;  /* attention + MLP + norms */
	double layers;     /* per_layer x layers */
	double lm_head;    /* 0 when tied to the embedding */
	double total;
};
void llmcap_model_params(const struct llmcap_model_spec *m, struct llmcap_param_count *out);

double llmcap_dtype_bytes(enum llmcap_dtype d); /* bytes per weight */

struct llmcap_memory_plan {
	double params;                /* total parameters */
	double weight_bytes_per_gpu;
	double budget_bytes_per_gpu;  /* memory x gpu_memory_utilization */
	double activation_bytes_per_gpu;
	double overhead_bytes_per_gpu;
	double kv_bytes_per_gpu;      /* what is left for the KV cache */
	double kv_bytes_per_token;    /* one token, all layers, one GPU's share */
	int64_t num_blocks;           /* per replica */
	int64_t block_size;
	int64_t kv_tokens;            /* num_blocks x block_size */
	int64_t max_model_len;        /* resolved (auto -> min(context, kv_tokens)) */
	bool blocks_overridden;
};

/* Derives the plan. Returns -LLMCAP_ECAPACITY with err naming the pool, the values and what
 * would fit when the weights do not fit, when no KV block fits, or when an explicit
 * max_model_len exceeds the cache (vLLM refuses to start in that case too). */
int llmcap_memory_plan(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
		       const struct llmcap_pool_cfg *p, struct llmcap_memory_plan *out,
		       struct llmcap_error *err);

/* Precomputed per-pool constants for the step-time model. */
struct llmcap_perf {
	double linear_params;     /* parameters of the per-layer linear operators, all layers */
	double lm_head_params;    /* hidden x vocab */
	double weight_bytes;      /* bytes of weights read per step (whole model) */
	double attn_flops_per_pair; /* FLOPs per (query token, key token) pair, all layers */
	double kv_bytes_per_token;  /* whole replica, all layers */
	double linear_flops_peak;   /* FLOP/s per GPU for the linear layers (dtype-dependent) */
	double attn_flops_peak;     /* FLOP/s per GPU for attention (16-bit) */
	double mem_bw;              /* bytes/s per GPU, achieved */
	double allreduce_time_fixed; /* s per step: 2 x layers x latency */
	double allreduce_s_per_token; /* s per step per token: 2 x layers x bytes/bandwidth */
	double tp;
	double step_overhead_s;
};

void llmcap_perf_init(struct llmcap_perf *pf, const struct llmcap_model_spec *m,
		      const struct llmcap_gpu_spec *g, const struct llmcap_pool_cfg *p);

/* What one step computes, summed over its sequences. */
struct llmcap_step_shape {
	int64_t tokens;        /* new tokens (prefill chunks + decodes) */
	double attn_pairs;     /* sum over sequences of n x context + n (n + 1) / 2 */
	double kv_read_tokens; /* sum over sequences of KV tokens read (context + n) */
	int64_t samples;       /* sequences that emit a token this step */
};

/* The work a step does, whole replica (all TP ranks together). */
struct llmcap_step_work {
	double flops;
	double bytes; /* HBM traffic: weights, KV cache reads and writes */
};

/* Step time in nanoseconds (at least 1). work may be NULL. */
llmcap_time llmcap_perf_step_time(const struct llmcap_perf *pf, const struct llmcap_step_shape *s,
				  struct llmcap_step_work *work);

#endif

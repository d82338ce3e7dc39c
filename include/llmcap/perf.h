/* Memory and performance models of one replica (one model instance on TP GPUs).
 *
 * Memory: KV-cache capacity derived as the pool's engine derives it (the engine profile's
 * memory_rule, catalog.h; docs/models.md "Memory per engine"); vLLM's rule:
 *   usable per GPU = GPU memory x gpu_memory_utilization
 *                    - weights / TP - activation peak - reserved (context, workspaces,
 *                      CUDA graphs, NCCL buffers; the pool's memory_overhead for legacy)
 *   blocks = floor(usable / (block_size x KV bytes per token per GPU))
 *   KV bytes per token (all layers) = 2 (K and V) x layers x kv_heads x head_dim x kv bytes,
 *   spread over TP ranks (each rank holds kv_heads / TP heads; heads are replicated when
 *   TP > kv_heads, as vLLM does). Mixture-of-experts models hold every expert.
 *
 * Step time, three models (pools.NAME.perf_model):
 *   roofline (default): per layer, the linear operators take the longer of streaming their
 *     weights (hbm_efficiency x HBM peak) and their FLOPs at gemm_efficiency x peak x
 *     T / (T + gemm_half_tokens), plus element-wise traffic and a kernel floor
 *     (layer_latency); attention adds prefill FLOPs at attention_efficiency x 16-bit peak and
 *     the KV cache read at the engine's attention_bw_efficiency; the LM head runs for the
 *     sequences that sample; two all-reduces per layer when TP > 1; the engine profile adds
 *     its CPU time per step and per sampled sequence, and per layer in steps carrying
 *     prefill tokens. MoE: active experts' FLOPs, and the weights of the distinct experts the
 *     step's tokens touch, E (1 - (1 - k/E)^T) of them in expectation.
 *   linear: per_step + per_token x tokens + per_context x KV tokens read (a user's quick fit,
 *     and constant step times for queueing checks).
 *   table: a user's measured step times (CSV) interpolated over tokens (and KV tokens read),
 *     out-of-range queries clamped or extrapolated and counted.
 * The step time is a function of the step's shape only (struct llmcap_step_shape).
 */
#ifndef LLMCAP_PERF_H
#define LLMCAP_PERF_H

#include "llmcap/catalog.h"
#include "llmcap/spec.h"

#include <math.h>
#include <string.h>

/* Parameter counts from the architecture (embedding, layers, final norm, LM head). A model's
 * "main" layers are all its layers, except the first_dense_layers of a DeepSeek-style MoE
 * model, which have a dense MLP instead of experts. */
struct llmcap_param_count {
	double embedding;  /* vocab x hidden */
	double per_layer;  /* a main layer: attention + MLP (all experts) + router + norms */
	double layers;     /* all layers: main and dense first ones */
	double lm_head;    /* 0 when tied to the embedding */
	double total;
	double attn_per_layer;        /* attention projections (QKV and output, or MLA's five) */
	double attn_replicated;       /* of which every TP rank holds in full (MLA's down-projections) */
	double expert_per_layer;      /* one expert's (or the dense MLP's) gate, up and down */
	double active_per_layer;      /* what one token multiplies in a main layer: attention +
					 shared and k routed experts + router */
	double first_layers;          /* number of dense first layers (0 unless first_dense_layers) */
	double first_per_layer;       /* one of them, with norms */
	double first_active;          /* what one token multiplies there: attention + dense MLP */
	double replicated;            /* parameters every TP rank holds in full */
	double active;                /* active parameters per token, whole model (with LM head) */
};
void llmcap_model_params(const struct llmcap_model_spec *m, struct llmcap_param_count *out);

double llmcap_dtype_bytes(enum llmcap_dtype d); /* bytes per weight */
double llmcap_kv_dtype_bytes(enum llmcap_kv_dtype d);

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
	enum llmcap_memory_rule rule; /* how the engine sized it (catalog.h) */
	/* speculative decoding and multi-LoRA (0 when off): what came off the KV cache */
	double draft_weight_bytes_per_gpu; /* draft model or EAGLE/MTP head */
	double draft_kv_bytes_per_token;   /* included in kv_bytes_per_token */
	double lora_bytes_per_gpu;         /* the adapter cache's GPU slots */
};

/* Derives the plan. Returns -LLMCAP_ECAPACITY with err naming the pool, the values and what
 * would fit when the weights do not fit, when no KV block fits, or when an explicit
 * max_model_len exceeds the cache (vLLM refuses to start in that case too). */
int llmcap_memory_plan(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
		       const struct llmcap_pool_cfg *p, struct llmcap_memory_plan *out,
		       struct llmcap_error *err);
/* The plan as engine e sizes its cache (e's memory rule, reserved memory and 16-bit embedding,
 * with the pool's profile overrides): llmcap_memory_plan is this with e NULL, the legacy rule
 * (memory x gpu_memory_utilization - weights - activation peak - the pool's memory_overhead). */
int llmcap_memory_plan_engine(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
			      const struct llmcap_engine_spec *e, const struct llmcap_pool_cfg *p,
			      struct llmcap_memory_plan *out, struct llmcap_error *err);

/* ---- speculative decoding and multi-LoRA: memory (models/specdec.c, models/lora.c) ---- */

/* What a pool's speculative decoding and LoRA adapters take from the KV cache, per GPU. */
struct llmcap_memory_extra {
	double draft_weight_bytes;       /* draft model, or one target layer for EAGLE/MTP */
	double draft_kv_bytes_per_token; /* the draft's KV per token (all its layers, one GPU) */
	double lora_bytes;               /* gpu_cache slots of max_lora_rank, all linear layers */
};
/* llmcap_memory_plan_engine with extra (NULL: none) subtracted from the KV cache. */
int llmcap_memory_plan_extra(const struct llmcap_model_spec *m, const struct llmcap_gpu_spec *g,
			     const struct llmcap_engine_spec *e, const struct llmcap_pool_cfg *p,
			     const struct llmcap_memory_extra *extra, struct llmcap_memory_plan *out,
			     struct llmcap_error *err);
/* The pool's plan with its speculative decoding and LoRA (the draft model is looked up in cat):
 * what the engine and the scenario check use. Equal to llmcap_memory_plan_engine when both are
 * off. */
int llmcap_memory_plan_pool(const struct llmcap_catalog *cat, const struct llmcap_model_spec *m,
			    const struct llmcap_gpu_spec *g, const struct llmcap_engine_spec *e,
			    const struct llmcap_pool_cfg *p, struct llmcap_memory_plan *out,
			    struct llmcap_error *err);

struct llmcap_perf_table; /* a loaded step-time table (table model) */

/* Precomputed per-pool constants for the step-time model. Times in seconds, per GPU. */
struct llmcap_perf {
	enum llmcap_perf_model kind;
	double tp;
	double layers;
	/* linear operators of one layer, one GPU */
	double dense_weight_bytes;  /* attention projections and router (read every step) */
	double expert_weight_bytes; /* one expert's (the dense MLP's) weights */
	double num_experts;         /* 0: dense */
	double experts_per_token;
	double active_params_layer; /* parameters a token multiplies in one layer, one GPU */
	double ew_bytes_per_token;  /* element-wise traffic per token per layer (norms, act, adds) */
	/* the dense first layers of a DeepSeek-style MoE model (first_layers 0: none) */
	double first_layers;
	double first_weight_bytes;  /* read every step */
	double first_params;        /* parameters a token multiplies, one GPU */
	double first_ew_bytes_per_token;
	double layer_latency;       /* s per layer: kernel floors */
	double gemm_flops;          /* FLOP/s: peak x gemm_efficiency for the weight dtype */
	double gemm_half_tokens;
	double mem_bw;              /* bytes/s: peak x hbm_efficiency */
	/* LM head, one GPU */
	double lm_head_params;
	double lm_head_bytes;
	/* attention, whole replica (divided by TP when used) */
	double attn_flops_per_pair;  /* FLOPs per (query token, key token) pair, all layers */
	double kv_bytes_per_token;   /* per GPU: one token, all layers */
	double attn_flops_peak;      /* FLOP/s: 16-bit peak x attention_efficiency */
	double kv_bw;                /* bytes/s: peak x the engine's attention_bw_efficiency */
	/* communication */
	double allreduce_time_fixed;  /* s per step: 2 x layers x latency */
	double allreduce_s_per_token; /* s per token: 2 x layers x bytes / bus bandwidth */
	/* engine */
	double step_overhead_s;
	double seq_overhead_s;
	double eager_s;               /* per step with prefill tokens: layers x eager overhead */
	/* linear model */
	double lin_a, lin_b, lin_c;
	/* table model (owned) */
	struct llmcap_perf_table *table;
	enum llmcap_table_range out_of_range;
	/* multi-node parallelism (models/parallel.c): pp 1, dp 1, ep 1 change nothing above */
	struct llmcap_parallel_perf {
		double pp, dp, ep;      /* pipeline stages, attention DP ranks, expert-parallel ranks */
		double imbalance;       /* busiest EP rank over the mean */
		double hop_fixed_s;     /* one stage-to-stage activation transfer: latency, s */
		double hop_s_per_token; /* and per token: hidden x 2 bytes / link bandwidth */
		/* all-to-alls: per step and per token of the step, all MoE layers (from the
		 * constants below and the servers' size, llmcap_parallel_servers) */
		double a2a_fixed_s, a2a_s_per_token;
		double a2a_count;          /* all-to-alls per step: 2 x MoE layers (0: none) */
		double a2a_bytes_per_token; /* one GPU, one all-to-all: hidden x 2 B x top_k / EP */
		double nvlink_bw, nvlink_latency_s, link_bw, link_latency_s;
	} par;
};

/* A performance model (pools.NAME.perf_model): adding one is a row of LLMCAP_PERF_MODELS
 * (spec.h), its keys in the pool's field table, a row here (models/perf.c) and its time in
 * llmcap_perf_finish's switch, which stays a switch on pf->kind because the fast mode calls it
 * once per decode step (an indirect call there would cost the month's run). */
struct llmcap_perf_model_row {
	/* after the roofline's constants are set (they give every model's work): the model's own
	 * constants from the pool; 0 or a negative error code with err set */
	int (*init)(struct llmcap_perf *pf, const struct llmcap_pool_cfg *p, struct llmcap_error *err);
	/* the step time is the roofline's, linear in attention pairs and KV tokens read: the fast
	 * mode's screen (llmcap_step_timer) applies */
	bool screens;
};
extern const struct llmcap_perf_model_row llmcap_perf_models[];

/* Prepares the model of pool p (perf_model, engine e) for model m on GPU g. The table model
 * reads its CSV here: errors name the file, line and column. Returns 0 or a negative error
 * code with err set (err may be NULL). Free with llmcap_perf_free. */
int llmcap_perf_init(struct llmcap_perf *pf, const struct llmcap_model_spec *m,
		     const struct llmcap_gpu_spec *g, const struct llmcap_engine_spec *e,
		     const struct llmcap_pool_cfg *p, struct llmcap_error *err);
void llmcap_perf_free(struct llmcap_perf *pf);

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
	bool out_of_range; /* table model: the query lay outside the table */
};

/* Where one roofline step's time goes, seconds (for tests, bench/ and reports). */
struct llmcap_step_breakdown {
	double linear, attention, lm_head, comm, overhead;
};

/* The terms of a step's time and work that depend only on its token and sample counts. A run
 * of decode-only steps keeps both counts while the context grows, so the fast engine mode
 * prepares them once and evaluates only the context terms per step (llmcap_perf_finish).
 * llmcap_perf_step_seconds is exactly llmcap_perf_fixed then llmcap_perf_finish, operation for
 * operation, so the two ways give the same bits. */
struct llmcap_step_fixed {
	double t, n;          /* tokens, samples */
	double lin, head, comm, over; /* roofline terms, s */
	double lin_ab;        /* linear model: per_step + per_token x tokens */
	double flops, bytes;  /* work of the linear operators and the LM head, whole replica */
};
void llmcap_perf_fixed(const struct llmcap_perf *pf, int64_t tokens, int64_t samples,
		       struct llmcap_step_fixed *f);
/* The table model's time (out of line: GSL interpolation). */
double llmcap_perf_table_time(const struct llmcap_perf *pf, double tokens, double kv_read_tokens,
			      bool *out_of_range);

/* The rest of llmcap_perf_step_seconds: attention, the sum, the work. Inline because the fast
 * engine mode calls it once per decode step. */
static inline double llmcap_perf_finish(const struct llmcap_perf *pf,
					const struct llmcap_step_fixed *f, double attn_pairs,
					double kv_read_tokens, struct llmcap_step_work *work,
					struct llmcap_step_breakdown *bd)
{
	double attn_flops = pf->attn_flops_per_pair * attn_pairs / pf->tp;
	double attn_bytes = pf->kv_bytes_per_token * (kv_read_tokens + f->t);
	double attn = attn_flops / pf->attn_flops_peak + attn_bytes / pf->kv_bw;
	double total = 0;
	bool oor = false;
	switch (pf->kind) {
	case LLMCAP_PERF_ROOFLINE: total = f->lin + attn + f->head + f->comm + f->over; break;
	case LLMCAP_PERF_LINEAR: total = f->lin_ab + pf->lin_c * kv_read_tokens; break;
	case LLMCAP_PERF_TABLE: total = llmcap_perf_table_time(pf, f->t, kv_read_tokens, &oor); break;
	}
	if (work) {
		work->flops = f->flops + attn_flops * pf->tp;
		work->bytes = f->bytes + attn_bytes * pf->tp;
		work->out_of_range = oor;
	}
	if (bd)
		*bd = (struct llmcap_step_breakdown){.linear = f->lin, .attention = attn,
						     .lm_head = f->head, .comm = f->comm,
						     .overhead = f->over};
	return total;
}

/* Seconds to whole nanoseconds, half away from zero (llround), at least 1: inline for the
 * fast mode's per-step loop, exactly llround's result for every value a step can take. */
static inline llmcap_time llmcap_perf_round_ns(double seconds)
{
	const llmcap_time ns = llmcap_round_time(seconds * 1e9);
	return ns > 0 ? ns : 1;
}

double llmcap_perf_pp_seconds(const struct llmcap_perf *pf, double tokens, double samples,
			      double attn_pairs, double kv_read_tokens, struct llmcap_step_work *work,
			      struct llmcap_step_breakdown *bd); /* below: multi-node parallelism */

/* Times a sequence of steps that share their token and sample counts (a run of decodes), in
 * the fast engine mode's per-step loop. Its results are llmcap_perf_step_time's, bit for bit.
 * For the roofline, a screen first evaluates the step time in nanoseconds as k + A s_a + R s_r
 * (A attention pairs, R KV tokens read; the constants folded at init, no division). Every term
 * is non-negative, so the screen and llmcap_perf_finish's chain of roundings each lie within
 * 10 units in the last place of the exact real value: within 2^-48 x of each other. Where the
 * screen is further than 2^-40 x from a half nanosecond, both round to the same nanosecond and
 * the screen's rounding is returned; otherwise (about once in 10^5 steps) the full evaluation
 * runs. The work (FLOPs, bytes) is computed with llmcap_perf_finish's own operations (division
 * by a power-of-two TP is exact and done as a multiplication). */
struct llmcap_step_timer {
	const struct llmcap_perf *pf;
	struct llmcap_step_fixed f;
	bool screen;          /* roofline with non-negative terms: screen without divisions */
	bool tp_pow2;
	bool pipelined;       /* PP > 1: every step through llmcap_perf_pp_seconds */
	double inv_tp;
	double k_ns, s_a_ns, s_r_ns; /* the screen: ns = k + A s_a + R s_r */
	double s_ns;                 /* s_a + s_r, for steps with A = R (decodes) */
};
void llmcap_step_timer_init(struct llmcap_step_timer *tm, const struct llmcap_perf *pf,
			    int64_t tokens, int64_t samples);

static inline llmcap_time llmcap_step_timer_ns(const struct llmcap_step_timer *tm,
					       double attn_pairs, double kv_read_tokens,
					       struct llmcap_step_work *work)
{
	const struct llmcap_perf *pf = tm->pf;
	const struct llmcap_step_fixed *f = &tm->f;
	if (!tm->screen)
		return llmcap_perf_round_ns(
			tm->pipelined ? llmcap_perf_pp_seconds(pf, f->t, f->n, attn_pairs, kv_read_tokens,
							       work, NULL)
				      : llmcap_perf_finish(pf, f, attn_pairs, kv_read_tokens, work, NULL));
	/* the work exactly as llmcap_perf_finish computes it */
	double af = pf->attn_flops_per_pair * attn_pairs;
	double attn_flops = tm->tp_pow2 ? af * tm->inv_tp : af / pf->tp;
	double attn_bytes = pf->kv_bytes_per_token * (kv_read_tokens + f->t);
	work->flops = f->flops + attn_flops * pf->tp;
	work->bytes = f->bytes + attn_bytes * pf->tp;
	work->out_of_range = false;
	double x = tm->k_ns + attn_pairs * tm->s_a_ns + kv_read_tokens * tm->s_r_ns;
	if (x >= 1 && x < 0x1p52) {
		llmcap_time ns = (llmcap_time)x;
		double frac = x - (double)ns;
		if (fabs(frac - 0.5) > x * 0x1p-40)
			return ns + (frac > 0.5);
	}
	return llmcap_perf_round_ns(llmcap_perf_finish(pf, f, attn_pairs, kv_read_tokens, work, NULL));
}

/* The work of a decode step with a attention pairs, for a screened timer with a power-of-two TP
 * ((x / 2^k) 2^k is x: llmcap_perf_finish's work without its division). */
static inline void llmcap_step_timer_decode_work(const struct llmcap_step_timer *tm, double a,
						 struct llmcap_step_work *work)
{
	const struct llmcap_perf *pf = tm->pf;
	work->flops = tm->f.flops + pf->attn_flops_per_pair * a;
	work->bytes = tm->f.bytes + pf->kv_bytes_per_token * (a + tm->f.t) * pf->tp;
	work->out_of_range = false;
}

/* llmcap_step_timer_ns for a step whose attention pairs equal its KV tokens read (every
 * sequence adds one token: a decode step), A = R = a. The screen rounds with the 1.5 x 2^52
 * constant (its low mantissa bits then hold the nearest integer); ties, and anything near one,
 * take the full evaluation like the general form. */
static inline llmcap_time llmcap_step_timer_decode_ns(const struct llmcap_step_timer *tm, double a,
						      struct llmcap_step_work *work)
{
	const struct llmcap_perf *pf = tm->pf;
	const struct llmcap_step_fixed *f = &tm->f;
	if (tm->screen && tm->tp_pow2) {
		llmcap_step_timer_decode_work(tm, a, work);
		const double magic = 0x1.8p52;
		double x = tm->k_ns + a * tm->s_ns;
		double y = x + magic;
		double d = x - (y - magic);
		if (__builtin_expect(x >= 1 && x < 0x1p50 && 0.5 - fabs(d) > x * 0x1p-40, 1)) {
			uint64_t yb, mb;
			memcpy(&yb, &y, sizeof yb);
			memcpy(&mb, &magic, sizeof mb);
			return (llmcap_time)(yb - mb);
		}
	}
	if (tm->pipelined)
		return llmcap_perf_round_ns(llmcap_perf_pp_seconds(pf, f->t, f->n, a, a, work, NULL));
	return llmcap_perf_round_ns(llmcap_perf_finish(pf, f, a, a, work, NULL));
}

/* Step time in nanoseconds (at least 1). work may be NULL. */
llmcap_time llmcap_perf_step_time(const struct llmcap_perf *pf, const struct llmcap_step_shape *s,
				  struct llmcap_step_work *work);
/* The same in seconds, unrounded, with the breakdown (roofline terms; NULL allowed). */
double llmcap_perf_step_seconds(const struct llmcap_perf *pf, const struct llmcap_step_shape *s,
				struct llmcap_step_work *work, struct llmcap_step_breakdown *bd);

/* Expected number of distinct experts that `tokens` tokens route to (k of E each). */
double llmcap_expected_experts(double experts, double per_token, double tokens);

/* llmcap_perf_fixed for fractional counts (a pipeline's micro-batch, llmcap_perf_pp_seconds);
 * llmcap_perf_fixed is this with its counts converted, bit for bit. */
void llmcap_perf_fixed_d(const struct llmcap_perf *pf, double tokens, double samples,
			 struct llmcap_step_fixed *f);

/* ---- Multi-node parallelism (models/parallel.c; docs/engine.md "Multi-node parallelism") ----
 * A replica is TP x PP x DP GPUs: PP pipeline stages of L / PP layers each (vLLM
 * pipeline_parallel_size), each stage a TP group inside one server; with data-parallel
 * attention (SGLang dp-attention, MLA models) DP ranks of TP GPUs each hold the attention
 * and their own KV cache and run their share of the batch; with expert parallelism the routed
 * experts are spread whole over EP = TP x DP ranks (vLLM enable_expert_parallel, SGLang
 * ep_size), two all-to-alls per MoE layer (dispatch, combine) carry the tokens to them, and
 * the busiest rank's expert compute is the mean x expert_imbalance.
 *
 * Pipeline step (llmcap_perf_step_seconds, perf.c): a step's batch runs as
 * m = min(PP, max(samples, 1)) micro-batches (vLLM's PP virtual engines in steady decode;
 * one for a step that samples nothing, a lone prefill chunk). In steady state each micro-batch
 * passes the PP stages back to back, PP - 1 hops between them, so the step (every micro-batch
 * one token further) takes
 *     step = sum over stages of stage(T/m) + (PP - 1) x hop(T/m)
 *          = roofline(T/m, samples/m, pairs/m, KV/m) + (PP - 1) (latency + T/m x hidden x 2 B / bw),
 * each stage busy m / PP of it. On a fixed schedule of m micro-batches through PP equal
 * stages of time s (a burst's first pass), the last leaves after (m + PP - 1) s plus the hops,
 * and the idle share of the stages (the bubble) is (PP - 1) / (m + PP - 1). */

/* Resolved sizes of pool p (each at least 1; EP ranks 1 when expert parallelism is off). */
int64_t llmcap_parallel_pp(const struct llmcap_pool_cfg *p);
int64_t llmcap_parallel_dp(const struct llmcap_pool_cfg *p);
int64_t llmcap_parallel_ep(const struct llmcap_pool_cfg *p);
/* Whether pool p uses any of them (else every model and plan is the single-server one). */
bool llmcap_parallel_active(const struct llmcap_pool_cfg *p);

/* Checks pool p's layout against model m and servers of gpus_per_server GPUs: PP no more
 * than the layers, a replica larger than a server a whole number of servers, DP attention
 * only for MLA models and with expert parallelism, EP only for MoE models and equal to
 * TP x DP, experts divisible by EP. Returns 0 or -LLMCAP_EINVAL / -LLMCAP_ECAPACITY with err
 * naming the pool's place and key. */
int llmcap_parallel_check(const struct llmcap_model_spec *m, const struct llmcap_pool_cfg *p,
			  int64_t gpus_per_server, struct llmcap_error *err);

/* Share of the model's layers on the busiest stage: ceil(L / PP) / L (1 without PP). */
double llmcap_parallel_stage_share(const struct llmcap_model_spec *m, const struct llmcap_pool_cfg *p);

/* Weight bytes on one GPU of the busiest stage, for parameter counts pc at wb bytes each
 * (embed16: embedding and LM head in 16 bits): the layers' share of the stage, sharded by TP
 * but MLA's replicated down-projections, the routed experts divided over EP ranks (TP x DP)
 * when expert parallelism is on, else over the TP x DP GPUs that hold the MoE layers; with
 * PP > 1 a stage holds the embedding (first) or the LM head (last), the larger of the two. */
double llmcap_parallel_weight_bytes(const struct llmcap_model_spec *m,
				    const struct llmcap_param_count *pc,
				    const struct llmcap_pool_cfg *p, double wb, bool embed16);

/* Adjusts the roofline's constants of pool p (pf set by the single-server roofline for model
 * m on GPU g; the all-reduce bus bandwidth nvlink_bw, bytes/s): attention work per GPU over
 * DP ranks, routed experts over EP ranks with the imbalance, the all-to-all terms added to the
 * communication, the pipeline hop kept for llmcap_perf_step_seconds. Nothing when inactive. */
void llmcap_parallel_perf_init(struct llmcap_perf *pf, const struct llmcap_model_spec *m,
			       const struct llmcap_param_count *pc, const struct llmcap_pool_cfg *p,
			       double wb, double nvlink_bw, double nvlink_latency_s);
/* The step time of a pipelined replica (PP > 1), seconds: m micro-batches of the step's
 * counts / m each through the stages, plus PP - 1 hops (the formula above); work, when
 * given, is the m micro-batches'. llmcap_perf_step_seconds and the fast mode's timer call it. */
double llmcap_perf_pp_seconds(const struct llmcap_perf *pf, double tokens, double samples,
			      double attn_pairs, double kv_read_tokens, struct llmcap_step_work *work,
			      struct llmcap_step_breakdown *bd);

/* Sets the all-to-all terms of par for servers of gpus_per_server GPUs (llmcap_perf_init
 * assumes 8, a DGX/HGX server; the engine calls this with hardware.gpus_per_server). */
void llmcap_parallel_servers(struct llmcap_parallel_perf *par, int64_t gpus_per_server);

/* The pipeline's arithmetic (hand-checkable; tests/test_parallel.c). */
double llmcap_pp_micro_batches(double pp, double samples); /* min(PP, max(samples, 1)) */
double llmcap_pp_bubble(double pp, double micro_batches);  /* (PP - 1) / (m + PP - 1) */
/* last micro-batch out on a fixed schedule: (m + PP - 1) x stage + (PP - 1) x hop */
double llmcap_pp_schedule_seconds(double stage_s, double hop_s, double pp, double micro_batches);
/* one stage-to-stage hop of `tokens` tokens: latency + tokens x hidden x 2 B / bandwidth */
double llmcap_pp_hop_seconds(const struct llmcap_parallel_perf *par, double tokens);

/* Expert parallelism: bytes one GPU sends in one all-to-all of `tokens` tokens of the replica
 * (tokens x hidden x bytes x top_k / EP: each token's hidden vector to its k experts, the
 * tokens spread over the EP ranks), and its time, the busiest rank receiving imbalance x the
 * mean: latency + bytes x imbalance x [(g - 1) / EP / nvlink_bw + (EP - g) / EP / link_bw],
 * g = min(EP, gpus_per_server) ranks in the sender's server, the rest across the link. */
double llmcap_ep_all_to_all_bytes(double tokens, double hidden, double bytes, double top_k,
				  double ep);
double llmcap_ep_all_to_all_seconds(double bytes_per_gpu, double ep, double imbalance,
				    double gpus_per_server, double nvlink_bw, double link_bw,
				    double latency_s);
/* ---- speculative decoding: acceptance and the proposer's time (models/specdec.c) ---- */

/* Expected tokens a sequence emits per verification of k proposals at per-token acceptance a
 * (i.i.d.): sum_{j=0..k} a^j = (1 - a^(k+1)) / (1 - a) (Leviathan et al. 2023, eq. 1). */
double llmcap_spec_expected_tokens(double a, int64_t k);
/* Proposals accepted out of d, for u uniform in [0, 1): the truncated geometric
 * P(accepted >= j) = a^j for j <= d, by inversion (a = 1: d; a = 0: 0). */
int64_t llmcap_spec_accepted(double a, int64_t d, double u);

/* The proposer's time model of a pool: a draft model's own roofline (its weights and KV on the
 * pool's GPUs and TP), or one layer of the target and its LM head (EAGLE, MTP), or nothing
 * (n-gram). */
struct llmcap_spec_perf {
	enum llmcap_spec_method method;
	struct llmcap_perf draft; /* method draft */
	bool has_draft;
};
int llmcap_spec_perf_init(struct llmcap_spec_perf *sp, const struct llmcap_catalog *cat,
			  const struct llmcap_gpu_spec *g, const struct llmcap_engine_spec *e,
			  const struct llmcap_pool_cfg *p, struct llmcap_error *err);
void llmcap_spec_perf_free(struct llmcap_spec_perf *sp);
/* Seconds of one proposal step of seqs sequences whose contexts sum to ctx (each adds a token):
 * the GPU work only (the engine's CPU time per step is the target step's). target: the pool's
 * own model, for EAGLE/MTP. */
double llmcap_spec_propose_seconds(const struct llmcap_spec_perf *sp, const struct llmcap_perf *target,
				   int64_t seqs, double ctx, struct llmcap_step_work *work);

/* ---- multi-LoRA: adapter size and batched kernels (models/lora.c) ---- */

/* Parameters of one adapter on model m: rank x (in + out) per target module, every layer
 * (A is in x r, B is r x out). Attention modules only for MoE MLPs (experts are not adapted). */
double llmcap_lora_adapter_params(const struct llmcap_model_spec *m, int64_t rank,
				  enum llmcap_lora_target t);
/* Bytes of one adapter: its parameters in 16 bits (adapters are kept in bf16/fp16). */
double llmcap_lora_adapter_bytes(const struct llmcap_model_spec *m, int64_t rank,
				 enum llmcap_lora_target t);
/* Seconds the batched LoRA kernels add to a step (S-LoRA, Punica SGMV): flops = 2 x adapter
 * parameters per token over the step's adapted tokens, the distinct adapters' weights read once,
 * both split over TP and at the pool's GEMM and HBM rates, plus overhead per distinct adapter. */
double llmcap_lora_step_seconds(const struct llmcap_perf *pf, double flops, double bytes,
				int64_t adapters, double overhead_s);

#endif

/* Catalogs: LLM architectures, accelerators and serving-engine profiles, loaded from YAML data
 * under models/catalog/.
 *
 * The catalog files are compiled into the program (so `llmcap` runs from any directory) and
 * are the same bytes as the files in the source tree. Every entry names its source.
 */
#ifndef LLMCAP_CATALOG_H
#define LLMCAP_CATALOG_H

#include <stdio.h>

#include "llmcap/core.h"
#include "llmcap/spec.h"

#define LLMCAP_CATALOG_MAX 32
#define LLMCAP_ALIASES_MAX 256

struct llmcap_model_spec {
	char name[LLMCAP_NAME_MAX];
	char source[512];
	int64_t layers;
	int64_t hidden_size;
	int64_t num_attention_heads;
	int64_t num_key_value_heads;
	int64_t head_dim;
	int64_t intermediate_size; /* gated MLP: gate and up are hidden x intermediate each */
	int64_t vocab_size;
	int64_t max_position_embeddings; /* tokens */
	bool tie_word_embeddings;
	/* Mixture of experts (0 = dense): the MLP of every layer is num_experts gated experts of
	 * intermediate_size each, experts_per_token of them active per token, plus a router. */
	int64_t num_experts;
	int64_t experts_per_token;
	/* DeepSeek-style MoE (0 = none): experts of moe_intermediate_size (0: intermediate_size),
	 * num_shared_experts that every token uses besides its experts_per_token routed ones,
	 * and first_dense_layers layers with a dense MLP of intermediate_size before the MoE ones. */
	int64_t moe_intermediate_size;
	int64_t num_shared_experts;
	int64_t first_dense_layers;
	/* Multi-head latent attention (kv_lora_rank 0 = none; DeepSeek-V2/V3): keys and values are
	 * cached as one latent of kv_lora_rank + qk_rope_head_dim per token and layer, shared by
	 * all heads; queries go through a q_lora_rank bottleneck (0: a full projection). */
	int64_t kv_lora_rank;
	int64_t q_lora_rank;
	int64_t qk_nope_head_dim;
	int64_t qk_rope_head_dim;
	int64_t v_head_dim;
	char aliases[LLMCAP_ALIASES_MAX]; /* other names it answers to, comma-separated */
};

/* What a GPU costs to buy, run and rent (models/catalog/gpus.yaml, `price:`). Every figure is
 * NAN where no published source was found (its source string says so); each *_source names the
 * source and its date. */
#define LLMCAP_PRICE_SOURCE_MAX 384
struct llmcap_gpu_prices {
	double gpu;             /* USD per GPU, purchase */
	double chassis;         /* USD per server without GPUs: board, CPUs, memory, storage */
	double network_per_gpu; /* USD per GPU: NICs, optics, switch ports */
	double busy_watts;      /* mean board power while a replica executes steps; NAN: tdp_watts */
	double prefill_watts, decode_watts; /* per phase, where measured (NAN elsewhere) */
	double on_demand, reserved_1y, reserved_3y, spot; /* USD per GPU-hour */
	double spot_interruptions; /* interruptions per replica-month on spot capacity */
	char gpu_source[LLMCAP_PRICE_SOURCE_MAX];
	char server_source[LLMCAP_PRICE_SOURCE_MAX];
	char power_source[LLMCAP_PRICE_SOURCE_MAX];
	char on_demand_source[LLMCAP_PRICE_SOURCE_MAX];
	char reserved_source[LLMCAP_PRICE_SOURCE_MAX];
	char spot_source[LLMCAP_PRICE_SOURCE_MAX];
};

struct llmcap_gpu_spec {
	char name[LLMCAP_NAME_MAX];
	char source[1024];
	double memory;              /* bytes of device memory */
	double hbm_bandwidth;       /* bytes/s, peak */
	double bf16_tflops;         /* dense peak, 1e12 FLOP/s */
	double fp8_tflops;          /* dense peak; 0 = no FP8 tensor cores */
	double int8_tflops;         /* dense peak, 1e12 OP/s */
	char interconnect[LLMCAP_NAME_MAX];
	double nvlink_bandwidth;    /* bytes/s per direction (GPU-to-GPU link) */
	double tdp_watts;
	double idle_watts;
	/* Efficiency (fitted by bench/fit_calibration.py where data exists; see the source). */
	double gemm_efficiency;     /* share of peak FLOP/s that large GEMMs reach */
	double gemm_half_tokens;    /* tokens at which a GEMM reaches half of that (tile waste) */
	double hbm_efficiency;      /* share of peak HBM bandwidth reached streaming weights */
	llmcap_time layer_latency;  /* per layer: kernel floors of the non-attention operators */
	double attention_efficiency; /* share of 16-bit peak reached by prefill attention */
	llmcap_time allreduce_latency;
	double allreduce_bandwidth; /* bytes/s bus bandwidth */
	struct llmcap_gpu_prices price; /* purchase, power and rental prices */
	char aliases[LLMCAP_ALIASES_MAX]; /* other names it answers to, comma-separated */
};

/* A serving engine's profile (by engine and version): its per-step costs that do not come from
 * the GPU's kernels, how it sizes the KV cache and how it admits requests. Every constant can
 * be overridden per pool (pools.NAME.profile; llmcap_engine_resolve). */
struct llmcap_engine_spec {
	char name[LLMCAP_NAME_MAX];
	char source[1024];
	llmcap_time step_overhead;  /* CPU time per step left on the critical path: schedule,
				       prepare inputs, launch (what async scheduling does not hide) */
	llmcap_time seq_overhead;   /* CPU time per sequence sampled in a step */
	double attention_bw_efficiency; /* share of peak HBM bandwidth reached reading the KV cache */
	llmcap_time eager_layer_overhead; /* per layer, in steps that carry prefill tokens (run
					     outside CUDA graphs) */
	llmcap_time allreduce_latency; /* per all-reduce; -1: the GPU's (gpus.yaml) */
	/* memory, bytes per GPU */
	enum llmcap_memory_rule memory_rule;
	double reserved_memory;     /* CUDA context, allocator slack, workspaces, sampler */
	double cuda_graph_memory;   /* captured CUDA graphs */
	double nccl_memory;         /* NCCL and custom all-reduce buffers, when TP > 1 */
	bool embed_16bit;           /* FP8 and INT4 checkpoints keep embedding and LM head in 16 bits */
	/* scheduling */
	enum llmcap_admission admission;
	double reserve_output;      /* admission reserve: share of the remaining output (reserve) */
	bool async_scheduling;      /* the scheduler plans step n + 1 while step n runs: a request
				       that arrives during a step joins the step after the next */
	int64_t scheduler_steps;    /* multi-step scheduling: new requests join every K steps */
	bool separate_prefill;      /* a step with prompt work (new prompts, chunks, recomputations)
				       runs it alone and the running decodes wait a step (SGLang's
				       default: enable_mixed_chunk off); false: prompt chunks and
				       decodes share steps (vLLM's, TensorRT-LLM's chunked prefill) */
	/* the API server in front of the engine (HTTP, tokenising, handing the request to the
	 * scheduler), per request: frontend_time in one serial process per replica (a queue in
	 * front of the scheduler: at most 1 / frontend_time requests/s reach it), then
	 * frontend_latency in parallel (time that overlaps other requests'). Both count in the
	 * request's first-token and end-to-end latency; neither occupies the GPU. 0: none. */
	llmcap_time frontend_time, frontend_latency;
};

/* An engine profile with a pool's overrides applied (struct llmcap_engine_override, spec.h). */
void llmcap_engine_resolve(const struct llmcap_engine_spec *base,
			   const struct llmcap_engine_override *ov, struct llmcap_engine_spec *out);

/* An API list price (models/catalog/prices.yaml, from ../shared/pricing with its date), its
 * discounts and the provider's measured latency. NAN: not offered or not published. */
struct llmcap_price_spec {
	char name[LLMCAP_NAME_MAX];
	char source[512];
	char provider[LLMCAP_NAME_MAX];
	double input, output;  /* USD per 1M tokens */
	double cached_input;   /* USD per 1M prompt tokens read from the provider's prompt cache */
	double batch_discount; /* share off both prices through the batch API (24 h turnaround) */
	/* Latency, as measured from outside (streaming API calls): time to first token as a
	 * lognormal through its p50 and p95 (p99 where published), output speed (tokens/s after
	 * the first token) at its median, and the peak-hour slowdown of both (peak / off-peak). */
	llmcap_time ttft_p50, ttft_p95, ttft_p99;
	double speed_p50;      /* output tokens/s */
	double peak_factor;    /* latency at the provider's peak hours over its daily median */
	char latency_source[1024];
};

/* A link between a prefill and a decode replica of a disaggregated pool
 * (models/catalog/links.yaml): the line rate one GPU sends its share of a request's KV at, and a
 * transfer's fixed cost. */
struct llmcap_link_spec {
	char name[LLMCAP_NAME_MAX];
	char source[1024];
	char scope[LLMCAP_NAME_MAX]; /* "server" (NVLink: both groups in one server) or "cluster" */
	double bandwidth;            /* bytes/s per GPU, per direction */
	llmcap_time latency;         /* per transfer */
};

struct llmcap_catalog {
	struct llmcap_model_spec models[LLMCAP_CATALOG_MAX];
	size_t n_models;
	struct llmcap_gpu_spec gpus[LLMCAP_CATALOG_MAX];
	size_t n_gpus;
	struct llmcap_engine_spec engines[LLMCAP_CATALOG_MAX];
	size_t n_engines;
	struct llmcap_price_spec prices[LLMCAP_CATALOG_MAX];
	size_t n_prices;
	struct llmcap_link_spec links[LLMCAP_CATALOG_MAX];
	size_t n_links;
};

/* Loads the built-in catalog. Returns 0 or a negative error code with err set. */
int llmcap_catalog_load_builtin(struct llmcap_catalog *cat, struct llmcap_error *err);

/* ---- user catalogs and names ----
 * A user catalog is one YAML file with any of the top-level keys models, gpus, engines and
 * prices, each a mapping of entries in the built-in files' schema (same keys, units, defaults
 * and FILE:LINE:COLUMN errors). Each entry is added, or replaces in full the entry of the same
 * name (case-insensitive): fields it leaves out take their schema defaults, not the built-in
 * entry's values. Returns 0 or a negative error code with err set (cat then holds the entries
 * merged before the failing one). */
int llmcap_catalog_load_file(struct llmcap_catalog *cat, const char *path, struct llmcap_error *err);
int llmcap_catalog_load_text(struct llmcap_catalog *cat, const char *text, size_t len,
			     const char *origin, struct llmcap_error *err);

/* Lookups (llmcap_catalog_model, _gpu, _engine, _price) match names case-insensitively, then
 * the entries' aliases, then, for "org/name" (a Hugging Face repository id), the part after the
 * last '/'. NULL: no entry. */

/* For an unknown-name error: writes " (did you mean 'NAME'?)" (the entry whose name or alias is
 * closest by edit distance, when it is close enough to be a likely typo) or "" into buf.
 * kind: "models", "gpus", "engines", "prices" or "links". */
void llmcap_catalog_suggest(const struct llmcap_catalog *cat, const char *kind, const char *name,
			    char *buf, size_t len);
const struct llmcap_model_spec *llmcap_catalog_model(const struct llmcap_catalog *cat,
						     const char *name);
const struct llmcap_gpu_spec *llmcap_catalog_gpu(const struct llmcap_catalog *cat,
						 const char *name);
const struct llmcap_engine_spec *llmcap_catalog_engine(const struct llmcap_catalog *cat,
						       const char *name);

/* ---- a Hugging Face config.json as a model entry (models/import.c) ----
 * Fills m (named `name`: letters, digits, '-', '_', '.') from the text of a config.json (len
 * bytes; origin names it in errors). Reads model_type llama, mistral, qwen2, qwen3 (dense, GQA),
 * mixtral, qwen2_moe, qwen3_moe (MoE) and deepseek_v2, deepseek_v3 (MoE with shared experts and
 * leading dense layers, multi-head latent attention). Refuses, with FILE:LINE:COLUMN and the
 * key, what the schema cannot express (other architectures, dense layers between MoE layers, a
 * Qwen shared expert that is not a whole number of routed experts). notes (notes_len bytes)
 * receives lines on what the entry leaves out (dtype, sliding window, MTP). 0, or a negative
 * error code with err set. */
int llmcap_model_import(const char *text, size_t len, const char *origin, const char *name,
			struct llmcap_model_spec *m, char *notes, size_t notes_len,
			struct llmcap_error *err);
/* Writes m as a user catalog file (`models:` with one entry) for --catalog, preceded by
 * comments: its parameter counts and the notes' lines. */
void llmcap_model_write_catalog(const struct llmcap_model_spec *m, const char *notes, FILE *out);

/* Built-in texts, generated at build time from the files under models/. */
extern const char llmcap_builtin_models_yaml[];
extern const char llmcap_builtin_gpus_yaml[];
extern const char llmcap_builtin_engines_yaml[];
extern const char llmcap_builtin_prices_yaml[];
extern const char llmcap_builtin_links_yaml[];
const struct llmcap_link_spec *llmcap_catalog_link(const struct llmcap_catalog *cat,
						   const char *name);
const struct llmcap_price_spec *llmcap_catalog_price(const struct llmcap_catalog *cat,
						     const char *name);
extern const char llmcap_builtin_default_scenario[];
#define LLMCAP_DEFAULT_SCENARIO_NAME "models/scenarios/default.yaml (built in)"

#endif

/* Catalogs: LLM architectures and accelerators, loaded from YAML data under models/catalog/.
 *
 * The catalog files are compiled into the program (so `llmcap` runs from any directory) and
 * are the same bytes as the files in the source tree. Every entry names its source.
 */
#ifndef LLMCAP_CATALOG_H
#define LLMCAP_CATALOG_H

#include "llmcap/core.h"

#define LLMCAP_NAME_MAX 48
#define LLMCAP_CATALOG_MAX 32

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
};

struct llmcap_gpu_spec {
	char name[LLMCAP_NAME_MAX];
	char source[1024];
	double memory;              /* bytes of device memory */
	double hbm_bandwidth;       /* bytes/s, peak */
	double bf16_tflops;         /* dense peak, 1e12 FLOP/s */
	double fp8_tflops;          /* dense peak; 0 = no FP8 tensor cores */
	double nvlink_bandwidth;    /* bytes/s per direction */
	double tdp_watts;
	double achieved_compute;    /* fraction of peak FLOP/s reached by large GEMMs */
	double achieved_memory;     /* fraction of peak HBM bandwidth reached streaming weights */
	llmcap_time allreduce_latency;
	double allreduce_bandwidth; /* bytes/s bus bandwidth */
};

struct llmcap_catalog {
	struct llmcap_model_spec models[LLMCAP_CATALOG_MAX];
	size_t n_models;
	struct llmcap_gpu_spec gpus[LLMCAP_CATALOG_MAX];
	size_t n_gpus;
};

/* Loads the built-in catalog. Returns 0 or a negative error code with err set. */
int llmcap_catalog_load_builtin(struct llmcap_catalog *cat, struct llmcap_error *err);
const struct llmcap_model_spec *llmcap_catalog_model(const struct llmcap_catalog *cat,
						     const char *name);
const struct llmcap_gpu_spec *llmcap_catalog_gpu(const struct llmcap_catalog *cat,
						 const char *name);

/* Built-in texts, generated at build time from the files under models/. */
extern const char llmcap_builtin_models_yaml[];
extern const char llmcap_builtin_gpus_yaml[];
extern const char llmcap_builtin_default_scenario[];
#define LLMCAP_DEFAULT_SCENARIO_NAME "models/scenarios/default.yaml (built in)"

#endif

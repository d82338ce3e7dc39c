/* Scenarios: what to simulate, loaded from YAML with strict validation.
 *
 * Resolution order: schema defaults, then the file (or the built-in reference scenario),
 * then each `--set path.to.key=value` override in order. Every field has a default, listed by
 * `llmcap schema` and in docs/scenario.md. Maps (workload.classes, pools, cost.api.prices) are
 * keyed by name; an entry created by a file or an override starts from the entry defaults.
 *
 * Errors name the place (file:line:column, or the --set argument), the key, the value and what
 * was expected. A scenario that fails llmcap_scenario_resolve must not be simulated.
 */
#ifndef LLMCAP_SCENARIO_H
#define LLMCAP_SCENARIO_H

#include <stdio.h>

#include "llmcap/catalog.h"
#include "llmcap/core.h"

#define LLMCAP_MAX_CLASSES 16
#define LLMCAP_MAX_POOLS 16

enum llmcap_dist_kind { LLMCAP_DIST_FIXED, LLMCAP_DIST_UNIFORM, LLMCAP_DIST_LOGNORMAL };

/* A token-length distribution. Samples are rounded to integers and clamped to [min, max]. */
struct llmcap_dist {
	enum llmcap_dist_kind kind;
	double value;  /* fixed */
	double median; /* lognormal: exp(mu) */
	double sigma;  /* lognormal: standard deviation of log-length */
	int64_t min, max;
};

enum llmcap_diurnal_shape { LLMCAP_DIURNAL_NONE, LLMCAP_DIURNAL_SMOOTH };
enum llmcap_arrival_kind { LLMCAP_ARRIVAL_POISSON };
enum llmcap_dtype { LLMCAP_DTYPE_BF16, LLMCAP_DTYPE_FP16, LLMCAP_DTYPE_FP8, LLMCAP_DTYPE_INT4_AWQ };
enum llmcap_kv_dtype { LLMCAP_KV_AUTO, LLMCAP_KV_FP8 };
enum llmcap_percentiles { LLMCAP_PERCENTILES_EXACT, LLMCAP_PERCENTILES_STREAMING };
enum llmcap_perf_model { LLMCAP_PERF_ROOFLINE, LLMCAP_PERF_LINEAR, LLMCAP_PERF_TABLE };
enum llmcap_table_range { LLMCAP_TABLE_CLAMP, LLMCAP_TABLE_EXTRAPOLATE };
enum llmcap_router { LLMCAP_ROUTER_ROUND_ROBIN, LLMCAP_ROUTER_LEAST_OUTSTANDING,
		     LLMCAP_ROUTER_RANDOM };

struct llmcap_class_cfg {
	char name[LLMCAP_NAME_MAX];
	char where[160]; /* where the entry was defined, for later errors */
	double share;    /* relative weight; normalised over classes */
	char pool[LLMCAP_NAME_MAX];
	struct llmcap_dist prompt, output;
	llmcap_time slo_ttft_p99, slo_tpot_p99;
};

struct llmcap_pool_cfg {
	char name[LLMCAP_NAME_MAX];
	char where[160];
	char model[LLMCAP_NAME_MAX];
	enum llmcap_dtype dtype;
	enum llmcap_kv_dtype kv_cache_dtype;
	int64_t tensor_parallel_size;
	int64_t replicas;
	int64_t max_num_seqs;
	int64_t max_num_batched_tokens;
	bool enable_chunked_prefill;
	double gpu_memory_utilization;
	int64_t block_size;
	int64_t max_model_len;          /* 0 = auto */
	int64_t num_gpu_blocks_override; /* 0 = derived */
	double memory_overhead;          /* bytes per GPU outside the model and KV cache */
	llmcap_time step_overhead;       /* CPU time per engine step; -1 = the engine profile's */
	enum llmcap_router router;
	char engine[LLMCAP_NAME_MAX];    /* engine profile, by catalog name */
	enum llmcap_perf_model perf_model;
	struct {                         /* step = per_step + per_token x tokens + per_context x KV */
		llmcap_time per_step;
		double per_token_us;         /* microseconds per batched (new) token */
		double per_context_token_ns; /* nanoseconds per KV-cache token read */
	} linear;
	struct {
		char path[1024];             /* CSV of measured step times; resolved at load */
		enum llmcap_table_range out_of_range;
	} table;
};

struct llmcap_price_cfg {
	char name[LLMCAP_NAME_MAX]; /* class name */
	char where[160];
	double input, output; /* USD per 1M tokens */
};

struct llmcap_scenario {
	char name[128];
	uint64_t seed;
	llmcap_time horizon;
	struct {
		double rate; /* requests/s, mean over the day */
		enum llmcap_arrival_kind arrival;
		struct {
			enum llmcap_diurnal_shape shape;
			double peak_to_mean;
			double peak_hour;
		} diurnal;
		struct llmcap_class_cfg classes[LLMCAP_MAX_CLASSES];
		size_t n_classes;
	} workload;
	struct {
		int64_t servers;
		char gpu[LLMCAP_NAME_MAX];
		int64_t gpus_per_server;
	} hardware;
	struct llmcap_pool_cfg pools[LLMCAP_MAX_POOLS];
	size_t n_pools;
	struct {
		double horizon_years;
		double capex;          /* USD per server */
		double opex_monthly;   /* USD per server per month: power and colocation */
		double support_yearly; /* USD per year for the fleet: support and labour */
		struct {
			double monthly_bill; /* USD/month; NAN = use per-token prices */
			struct llmcap_price_cfg prices[LLMCAP_MAX_CLASSES];
			size_t n_prices;
		} api;
	} cost;
	struct {
		char path[1024];         /* HDF5 result file; "" = none */
		bool requests;           /* per-request table */
		bool timeseries;
		llmcap_time timeseries_interval;
		enum llmcap_percentiles percentiles;
		double percentile_error; /* streaming: relative error bound */
	} output;
};

/* Sets every field to its schema default (maps empty). */
void llmcap_scenario_defaults(struct llmcap_scenario *sc);

/* Applies a YAML text onto sc. `origin` names it in errors (a path). */
int llmcap_scenario_apply_yaml(struct llmcap_scenario *sc, const char *text, size_t len,
			       const char *origin, struct llmcap_error *err);
/* Applies one "path.to.key=value" override; the value is YAML ("{dist: fixed, value: 9}"). */
int llmcap_scenario_apply_override(struct llmcap_scenario *sc, const char *assignment,
				   struct llmcap_error *err);

/* Loads defaults + file (NULL = the built-in reference scenario) + overrides, then checks
 * cross-references (class -> pool, pool -> model, GPU budget, prices). Reads the file in
 * full; a missing or unreadable file is an error naming it. */
int llmcap_scenario_load(struct llmcap_scenario *sc, const char *path,
			 const char *const *overrides, size_t n_overrides,
			 const struct llmcap_catalog *cat, struct llmcap_error *err);

/* Cross-field validation; called by llmcap_scenario_load. */
int llmcap_scenario_check(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			  struct llmcap_error *err);

/* Writes the fully resolved scenario as YAML that loads back to the same values. With
 * `comments`, each field carries its documentation as a trailing comment. */
void llmcap_scenario_write_yaml(const struct llmcap_scenario *sc, FILE *out, bool comments);
/* Writes the field reference (every key, type, default, meaning) as Markdown. */
void llmcap_scenario_write_schema(FILE *out);

/* Mean of a length distribution after rounding-free clamping to [min, max] (tokens). */
double llmcap_dist_mean(const struct llmcap_dist *d);

const char *llmcap_dtype_name(enum llmcap_dtype d);
const char *llmcap_router_name(enum llmcap_router r);

#endif

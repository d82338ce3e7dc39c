/* The scenario's plain data: every enum, every configuration struct and struct llmcap_scenario,
 * with no loader (that is scenario.h, above the models and traces that read this data).
 *
 * Sits on core.h alone, so that models/ and traces/ can take a scenario's values without
 * depending on how a scenario is loaded or checked.
 *
 * Enums and their names come from one X-macro list each, X(ENUMERATOR, "name"): the list makes
 * the enum (in list order, from 0) and, in sim/base/spec.c, the NULL-terminated name table that
 * the schema parses and writes, so that an enumerator and its name cannot drift apart. The
 * numeric values are stable: they are written to HDF5 result files (add new names at the end).
 * A list named in the plural, e.g. LLMCAP_DTYPES, gives enum llmcap_dtype, LLMCAP_DTYPE_COUNT
 * and llmcap_dtype_names[].
 *
 * Units follow core.h (times in ns, memory in bytes, money in USD, rates per second). Strings
 * are fixed-size buffers, NUL-terminated; a scenario owns nothing on the heap except the trace
 * columns of its length distributions (struct llmcap_dist.data, see scenario.h).
 */
#ifndef LLMCAP_SPEC_H
#define LLMCAP_SPEC_H

#include "llmcap/core.h"

/* The X-macro expanders: an enumerator, a name (a string literal), or +1 to count. */
#define LLMCAP_ENUM_ITEM(e, s) e,
#define LLMCAP_NAME_ITEM(e, s) s,
#define LLMCAP_COUNT_ITEM(e, s) +1

#define LLMCAP_MAX_CLASSES 16
#define LLMCAP_MAX_POOLS 16

#define LLMCAP_DISTS(X)                                                                                  \
	X(LLMCAP_DIST_FIXED, "fixed")                                                                    \
	X(LLMCAP_DIST_UNIFORM, "uniform")                                                                \
	X(LLMCAP_DIST_LOGNORMAL, "lognormal")                                                            \
	X(LLMCAP_DIST_NORMAL, "normal") /* truncated to [min, max] */                                    \
	X(LLMCAP_DIST_GEOMETRIC, "geometric") /* on 1, 2, 3, ... */                                      \
	X(LLMCAP_DIST_ZIPF, "zipf") /* P(k) ~ k^-exponent on [min, max] */                               \
	X(LLMCAP_DIST_HISTOGRAM, "histogram") /* bins of integers [edges[i], edges[i+1]) with weights */ \
	X(LLMCAP_DIST_TRACE, "trace") /* a column of a CSV file, one row drawn uniformly */
enum llmcap_dist_kind { LLMCAP_DISTS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_DIST_COUNT = 0 LLMCAP_DISTS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_dist_names[LLMCAP_DIST_COUNT + 1]; /* NULL-terminated */

#define LLMCAP_HIST_MAX 128

/* A token-length distribution. Samples are integers: continuous forms are rounded to the
 * nearest token, then every form is clamped to [min, max] (normal and zipf are truncated to
 * [min, max] instead: they never put extra mass on the bounds). */
struct llmcap_dist {
	enum llmcap_dist_kind kind;
	double value;    /* fixed */
	double median;   /* lognormal: exp(mu) */
	double sigma;    /* lognormal: standard deviation of log-length */
	double mean, sd; /* normal: before truncation; geometric: mean (sd unused) */
	double exponent; /* zipf */
	size_t n_bins;   /* histogram */
	double edges[LLMCAP_HIST_MAX + 1], weights[LLMCAP_HIST_MAX];
	char file[LLMCAP_PATH_MAX]; /* trace: absolute path, resolved when the scenario is read */
	char column[LLMCAP_NAME_MAX];
	int64_t min, max;
	/* trace: the column's values, read by llmcap_scenario_load and freed by
	 * llmcap_scenario_free; NULL until then */
	int32_t *data;
	size_t n_data;
};

/* A rate profile: the rate at time t is mean x profile(t), profile of mean 1 over its period. */
#define LLMCAP_DIURNAL_SHAPES(X)                                       \
	X(LLMCAP_DIURNAL_NONE, "none")                                 \
	X(LLMCAP_DIURNAL_SMOOTH, "smooth")                             \
	X(LLMCAP_DIURNAL_TABLE, "table")                               \
	X(LLMCAP_DIURNAL_FILE, "file")                                 \
	X(LLMCAP_DIURNAL_AZURE_CODE, "azure-code")                     \
	X(LLMCAP_DIURNAL_AZURE_CONV, "azure-conv")                     \
	X(LLMCAP_DIURNAL_SERVEGEN_M_LARGE, "servegen-m-large")         \
	X(LLMCAP_DIURNAL_SERVEGEN_M_MID, "servegen-m-mid")             \
	X(LLMCAP_DIURNAL_SERVEGEN_M_SMALL, "servegen-m-small")         \
	X(LLMCAP_DIURNAL_SERVEGEN_DEEPSEEK_R1, "servegen-deepseek-r1") \
	X(LLMCAP_DIURNAL_SERVEGEN_MM_IMAGE, "servegen-mm-image")
enum llmcap_diurnal_shape { LLMCAP_DIURNAL_SHAPES(LLMCAP_ENUM_ITEM) LLMCAP_DIURNAL_COUNT };
extern const char *const llmcap_diurnal_shape_names[LLMCAP_DIURNAL_COUNT + 1]; /* NULL-terminated */

#define LLMCAP_HOURS_PER_WEEK 168

struct llmcap_diurnal_cfg {
	enum llmcap_diurnal_shape shape;
	double peak_to_mean; /* smooth */
	double peak_hour;    /* smooth */
	double hours[LLMCAP_HOURS_PER_WEEK]; /* table: 24 (hour of day) or 168 (hour of week) */
	size_t n_hours;
	char file[LLMCAP_PATH_MAX]; /* file: absolute path, read when the scenario is read */
	double file_hours[LLMCAP_HOURS_PER_WEEK];
	size_t n_file_hours;
	double days[7]; /* Monday first; empty = no day-of-week factor */
	size_t n_days;
	double weekend_factor; /* Saturday and Sunday rate relative to weekdays */
};

/* An arrival process. LLMCAP_ARRIVAL_SHARED is for classes only: the class's requests come from
 * the workload's stream, picked by share; so the shared stream takes LLMCAP_STREAM_ARRIVALS'
 * names, a class LLMCAP_ARRIVALS'. */
#define LLMCAP_STREAM_ARRIVALS(X) \
	X(LLMCAP_ARRIVAL_POISSON, "poisson") \
	X(LLMCAP_ARRIVAL_GAMMA, "gamma")     \
	X(LLMCAP_ARRIVAL_MMPP, "mmpp")
#define LLMCAP_ARRIVALS(X) LLMCAP_STREAM_ARRIVALS(X) X(LLMCAP_ARRIVAL_SHARED, "shared")
enum llmcap_arrival_kind { LLMCAP_ARRIVALS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_ARRIVAL_COUNT = 0 LLMCAP_ARRIVALS(LLMCAP_COUNT_ITEM) };
enum { LLMCAP_STREAM_ARRIVAL_COUNT = 0 LLMCAP_STREAM_ARRIVALS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_arrival_names[LLMCAP_ARRIVAL_COUNT + 1]; /* NULL-terminated */
extern const char *const llmcap_stream_arrival_names[LLMCAP_STREAM_ARRIVAL_COUNT + 1];

/* Closed-loop clients' think time between a request's end and the client's next request:
 * exponential (the mean think_time) or fixed. */
#define LLMCAP_THINK_DISTS(X)                        \
	X(LLMCAP_THINK_EXPONENTIAL, "exponential")   \
	X(LLMCAP_THINK_FIXED, "fixed")
enum llmcap_think_dist { LLMCAP_THINK_DISTS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_THINK_COUNT = 0 LLMCAP_THINK_DISTS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_think_dist_names[LLMCAP_THINK_COUNT + 1]; /* NULL-terminated */

/* Two-state Markov-modulated Poisson process: calm and burst periods of exponential length;
 * the burst rate is burst_rate_factor x the calm rate, and both are scaled so that the mean
 * rate stays the configured one. */
struct llmcap_mmpp_cfg {
	double burst_rate_factor;
	llmcap_time mean_calm, mean_burst;
};
#define LLMCAP_DTYPES(X)                     \
	X(LLMCAP_DTYPE_BF16, "bf16")         \
	X(LLMCAP_DTYPE_FP16, "fp16")         \
	X(LLMCAP_DTYPE_FP8, "fp8")           \
	X(LLMCAP_DTYPE_INT4_AWQ, "int4-awq")
enum llmcap_dtype { LLMCAP_DTYPES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_DTYPE_COUNT = 0 LLMCAP_DTYPES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_dtype_names[LLMCAP_DTYPE_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_KV_DTYPES(X)       \
	X(LLMCAP_KV_AUTO, "auto") \
	X(LLMCAP_KV_FP8, "fp8")
enum llmcap_kv_dtype { LLMCAP_KV_DTYPES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_KV_DTYPE_COUNT = 0 LLMCAP_KV_DTYPES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_kv_dtype_names[LLMCAP_KV_DTYPE_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_PERCENTILE_MODES(X)                   \
	X(LLMCAP_PERCENTILES_EXACT, "exact")         \
	X(LLMCAP_PERCENTILES_STREAMING, "streaming")
enum llmcap_percentiles { LLMCAP_PERCENTILE_MODES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_PERCENTILES_COUNT = 0 LLMCAP_PERCENTILE_MODES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_percentiles_names[LLMCAP_PERCENTILES_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_PERF_MODELS(X)               \
	X(LLMCAP_PERF_ROOFLINE, "roofline") \
	X(LLMCAP_PERF_LINEAR, "linear")     \
	X(LLMCAP_PERF_TABLE, "table")
enum llmcap_perf_model { LLMCAP_PERF_MODELS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_PERF_MODEL_COUNT = 0 LLMCAP_PERF_MODELS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_perf_model_names[LLMCAP_PERF_MODEL_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_TABLE_RANGES(X)                     \
	X(LLMCAP_TABLE_CLAMP, "clamp")             \
	X(LLMCAP_TABLE_EXTRAPOLATE, "extrapolate")
enum llmcap_table_range { LLMCAP_TABLE_RANGES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_TABLE_RANGE_COUNT = 0 LLMCAP_TABLE_RANGES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_table_range_names[LLMCAP_TABLE_RANGE_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_ROUTERS(X)                                       \
	X(LLMCAP_ROUTER_ROUND_ROBIN, "round-robin")             \
	X(LLMCAP_ROUTER_LEAST_OUTSTANDING, "least-outstanding") \
	X(LLMCAP_ROUTER_RANDOM, "random")                       \
	X(LLMCAP_ROUTER_JSQ, "jsq")                             \
	X(LLMCAP_ROUTER_LEAST_KV, "least-kv")                   \
	X(LLMCAP_ROUTER_POWER_OF_TWO, "power-of-two")           \
	X(LLMCAP_ROUTER_PREFIX_AFFINITY, "prefix-affinity")     \
	X(LLMCAP_ROUTER_SESSION_AFFINITY, "session-affinity")   \
	X(LLMCAP_ROUTER_ADAPTER_AFFINITY, "adapter-affinity")
enum llmcap_router { LLMCAP_ROUTERS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_ROUTER_COUNT = 0 LLMCAP_ROUTERS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_router_names[LLMCAP_ROUTER_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_SCHED_POLICIES(X)             \
	X(LLMCAP_SCHED_FCFS, "fcfs")         \
	X(LLMCAP_SCHED_PRIORITY, "priority")
enum llmcap_sched_policy { LLMCAP_SCHED_POLICIES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_SCHED_COUNT = 0 LLMCAP_SCHED_POLICIES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_sched_policy_names[LLMCAP_SCHED_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_PREEMPTIONS(X)                    \
	X(LLMCAP_PREEMPT_RECOMPUTE, "recompute") \
	X(LLMCAP_PREEMPT_SWAP, "swap")
enum llmcap_preemption { LLMCAP_PREEMPTIONS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_PREEMPT_COUNT = 0 LLMCAP_PREEMPTIONS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_preemption_names[LLMCAP_PREEMPT_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_LIMIT_ACTIONS(X)          \
	X(LLMCAP_LIMIT_REJECT, "reject") \
	X(LLMCAP_LIMIT_SPILL, "spill")
enum llmcap_limit_action { LLMCAP_LIMIT_ACTIONS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_LIMIT_COUNT = 0 LLMCAP_LIMIT_ACTIONS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_limit_action_names[LLMCAP_LIMIT_COUNT + 1]; /* NULL-terminated */
/* How owned servers' running costs are counted: flat per server, simulated power, or auto (flat
 * where a monthly figure applies to the fleet's GPU, power otherwise). */
#define LLMCAP_OPEX_MODES(X)          \
	X(LLMCAP_OPEX_FLAT, "flat")   \
	X(LLMCAP_OPEX_POWER, "power") \
	X(LLMCAP_OPEX_AUTO, "auto")
enum llmcap_opex_mode { LLMCAP_OPEX_MODES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_OPEX_COUNT = 0 LLMCAP_OPEX_MODES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_opex_mode_names[LLMCAP_OPEX_COUNT + 1]; /* NULL-terminated */

/* Trace replay (docs/traces.md): a production trace as the workload's shared stream. */
#define LLMCAP_TRACE_FORMATS(X)              \
	X(LLMCAP_TRACE_AUTO, "auto")         \
	X(LLMCAP_TRACE_AZURE, "azure")       \
	X(LLMCAP_TRACE_BURSTGPT, "burstgpt") \
	X(LLMCAP_TRACE_MOONCAKE, "mooncake") \
	X(LLMCAP_TRACE_CSV, "csv")           \
	X(LLMCAP_TRACE_LLMCAP, "llmcap")
enum llmcap_trace_format { LLMCAP_TRACE_FORMATS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_TRACE_FORMAT_COUNT = 0 LLMCAP_TRACE_FORMATS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_trace_format_names[LLMCAP_TRACE_FORMAT_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_TIME_UNITS(X)                \
	X(LLMCAP_UNIT_S, "s")               \
	X(LLMCAP_UNIT_MS, "ms")             \
	X(LLMCAP_UNIT_US, "us")             \
	X(LLMCAP_UNIT_NS, "ns")             \
	X(LLMCAP_UNIT_DATETIME, "datetime")
enum llmcap_time_unit { LLMCAP_TIME_UNITS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_TIME_UNIT_COUNT = 0 LLMCAP_TIME_UNITS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_time_unit_names[LLMCAP_TIME_UNIT_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_BAD_ROWS_ACTIONS(X)      \
	X(LLMCAP_BAD_ROWS_FAIL, "fail") \
	X(LLMCAP_BAD_ROWS_SKIP, "skip")
enum llmcap_bad_rows { LLMCAP_BAD_ROWS_ACTIONS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_BAD_ROWS_COUNT = 0 LLMCAP_BAD_ROWS_ACTIONS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_bad_rows_names[LLMCAP_BAD_ROWS_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_TRACE_FILLS(X)       \
	X(LLMCAP_FILL_NONE, "none") \
	X(LLMCAP_FILL_LOOP, "loop")
enum llmcap_trace_fill { LLMCAP_TRACE_FILLS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_FILL_COUNT = 0 LLMCAP_TRACE_FILLS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_trace_fill_names[LLMCAP_FILL_COUNT + 1]; /* NULL-terminated */
#define LLMCAP_TRACE_ASSIGNS(X)           \
	X(LLMCAP_ASSIGN_SHARE, "share")   \
	X(LLMCAP_ASSIGN_COLUMN, "column") \
	X(LLMCAP_ASSIGN_RULE, "rule")
enum llmcap_trace_assign { LLMCAP_TRACE_ASSIGNS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_ASSIGN_COUNT = 0 LLMCAP_TRACE_ASSIGNS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_trace_assign_names[LLMCAP_ASSIGN_COUNT + 1]; /* NULL-terminated */

#define LLMCAP_TRACE_MODELS_MAX 32

/* A value of the trace's class/model column and the class it goes to. */
struct llmcap_trace_model_cfg {
	char name[LLMCAP_NAME_MAX]; /* the column's value */
	char where[160];
	char cls[LLMCAP_NAME_MAX];
};

struct llmcap_trace_cfg {
	char file[LLMCAP_PATH_MAX]; /* absolute once read; "" = no trace */
	enum llmcap_trace_format format;
	char time_column[LLMCAP_NAME_MAX], prompt_column[LLMCAP_NAME_MAX];
	char output_column[LLMCAP_NAME_MAX], class_column[LLMCAP_NAME_MAX];
	enum llmcap_time_unit time_unit;
	llmcap_time start, end;     /* window, relative to the first row; end 0 = the file's end */
	double speedup;             /* NAN: derived from rate */
	double rate;                /* target mean requests/s; NAN: use speedup */
	enum llmcap_trace_fill fill;
	enum llmcap_trace_assign assign;
	struct llmcap_trace_model_cfg models[LLMCAP_TRACE_MODELS_MAX];
	size_t n_models;
	char cls[LLMCAP_NAME_MAX];  /* rule: the class of short prompts; column: unmapped values */
	int64_t long_prompt_tokens; /* rule */
	char long_prompt_class[LLMCAP_NAME_MAX];
	int64_t max_prompt, max_output; /* caps, 0 = none */
	enum llmcap_bad_rows bad_rows;
	int64_t hash_block_tokens;  /* mooncake: prompt tokens per hash id */
};

/* Multi-turn sessions of a class (docs/traffic.md, "Sessions"): each arrival of the class (or
 * each of its requests a closed-loop client sends) starts a session of `turns` turns; a turn's
 * prompt is the previous turn's prompt + its output + `growth` new user tokens, and it is sent
 * a think time (plus, with probability tool_probability, a tool-call pause) after the previous
 * turn's answer ends. Off (every request is a session of one turn) while turns is fixed at 1. */
struct llmcap_session_cfg {
	struct llmcap_dist turns;   /* turns per session, >= 1 (not a trace) */
	struct llmcap_dist growth;  /* new user tokens of each turn after the first (not a trace) */
	llmcap_time think_time;     /* mean, ns */
	enum llmcap_think_dist think_dist;
	double tool_probability;    /* per turn after the first: a tool call precedes it */
	llmcap_time tool_time;      /* mean tool-call pause, ns (think_dist's law) */
};

/* Speculative decoding and multi-LoRA (issue 25; sim/engine/specdec.c, lora.c; models/specdec.c,
 * lora.c; docs/engine.md "Speculative decoding", "Multi-LoRA"). Both are off by default.
 *
 * Speculative decoding (vLLM's speculative_config): each decode step of a sequence verifies
 * k + 1 tokens (its last token and k proposed ones) in one target pass and emits 1 + the
 * accepted prefix of the proposals, drawn i.i.d. per token with acceptance rate a (Leviathan et
 * al. 2023): E[tokens per step] = (1 - a^(k+1)) / (1 - a). The proposer: a draft model from the
 * catalog (k sequential steps of its own, its weights and KV in the memory plan), an n-gram
 * lookup (no GPU time), or an EAGLE/MTP head (one layer of the target and its LM head). */
#define LLMCAP_SPEC_METHODS(X)           \
	X(LLMCAP_SPEC_OFF, "off")        \
	X(LLMCAP_SPEC_DRAFT, "draft")    \
	X(LLMCAP_SPEC_NGRAM, "ngram")    \
	X(LLMCAP_SPEC_EAGLE, "eagle")    \
	X(LLMCAP_SPEC_MTP, "mtp")
enum llmcap_spec_method { LLMCAP_SPEC_METHODS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_SPEC_METHOD_COUNT = 0 LLMCAP_SPEC_METHODS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_spec_method_names[LLMCAP_SPEC_METHOD_COUNT + 1];

struct llmcap_spec_cfg {            /* pools.NAME.speculative */
	enum llmcap_spec_method method; /* off: plain decoding */
	char draft_model[LLMCAP_NAME_MAX]; /* method draft: a catalog model */
	int64_t num_speculative_tokens;    /* k >= 1 */
	double acceptance;                 /* per-token acceptance rate in [0, 1] */
};

/* LoRA target modules of every layer: q and v projections (PEFT's default), the four
 * attention projections, or every linear layer (attention and MLP: vLLM's and S-LoRA's
 * usual choice). */
#define LLMCAP_LORA_TARGETS(X)                       \
	X(LLMCAP_LORA_QV, "qv")                      \
	X(LLMCAP_LORA_ATTENTION, "attention")        \
	X(LLMCAP_LORA_ALL_LINEAR, "all-linear")
enum llmcap_lora_target { LLMCAP_LORA_TARGETS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_LORA_TARGET_COUNT = 0 LLMCAP_LORA_TARGETS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_lora_target_names[LLMCAP_LORA_TARGET_COUNT + 1];
#define LLMCAP_LORA_POPULARITIES(X)            \
	X(LLMCAP_LORA_UNIFORM, "uniform")      \
	X(LLMCAP_LORA_ZIPF, "zipf")
enum llmcap_lora_popularity { LLMCAP_LORA_POPULARITIES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_LORA_POPULARITY_COUNT = 0 LLMCAP_LORA_POPULARITIES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_lora_popularity_names[LLMCAP_LORA_POPULARITY_COUNT + 1];

struct llmcap_lora_class_cfg {      /* classes.NAME.lora */
	int64_t adapters;               /* distinct adapters of the class; 0: the base model */
	enum llmcap_lora_popularity popularity; /* which adapter a request uses */
	double zipf_exponent;           /* zipf: P(adapter i) ~ (i + 1)^-exponent */
	int64_t rank;
	enum llmcap_lora_target target_modules;
};

struct llmcap_lora_pool_cfg {       /* pools.NAME.lora */
	int64_t max_loras;              /* distinct adapters in one batch; 0: LoRA off */
	int64_t gpu_cache;              /* adapters kept in GPU memory (>= max_loras); 0: max_loras */
	int64_t max_lora_rank;          /* every GPU slot is sized for this rank, all linear layers */
	double load_bandwidth;          /* bytes/s per GPU, host to GPU (PCIe) */
	llmcap_time adapter_overhead;   /* per distinct adapter in a step: the batched kernels' segments */
};

struct llmcap_class_cfg {
	char name[LLMCAP_NAME_MAX];
	char where[160]; /* where the entry was defined, for later errors */
	double share;    /* share of all requests; the shares of all classes sum to 1 */
	char pool[LLMCAP_NAME_MAX];
	struct llmcap_dist prompt, output;
	llmcap_time slo_ttft_p99, slo_tpot_p99;
	int64_t priority;               /* priority scheduling: lower runs first */
	int64_t long_prompt_tokens;     /* 0 = off; longer prompts go to long_prompt_pool */
	char long_prompt_pool[LLMCAP_NAME_MAX];
	int64_t shared_prefix_tokens;   /* leading prompt tokens shared with other requests */
	int64_t prefix_groups;          /* distinct shared prefixes, picked uniformly */
	int64_t max_waiting;            /* 0 = no limit: requests waiting at the replica */
	llmcap_time max_queue_time;     /* 0 = no limit: time before first scheduled */
	enum llmcap_limit_action when_limited;
	/* SHARED, or the class's own arrival stream at share x the workload's mean rate */
	enum llmcap_arrival_kind arrival;
	double gamma_cv;
	struct llmcap_mmpp_cfg mmpp;
	struct llmcap_diurnal_cfg diurnal;
	struct llmcap_session_cfg sessions;
	double spec_acceptance;         /* NAN: the pool's speculative.acceptance */
	struct llmcap_lora_class_cfg lora;
};

/* Whether a class's requests are multi-turn sessions (struct llmcap_session_cfg). */
static inline bool llmcap_class_has_sessions(const struct llmcap_class_cfg *cl)
{
	return !(cl->sessions.turns.kind == LLMCAP_DIST_FIXED && cl->sessions.turns.value <= 1);
}

/* How an engine sizes its KV cache (llmcap_memory_plan; docs/models.md "Memory per engine"):
 *   legacy: memory x fraction - weights (all in the pool's dtype) - activation peak -
 *           memory_overhead (the pool's): llmcap before engine profiles (vllm-0.5);
 *   vllm:   memory x gpu_memory_utilization - weights - activation peak (the profiling run)
 *           - reserved (CUDA context, workspaces, sampler) - CUDA graphs - NCCL (TP > 1);
 *   trtllm: (memory - weights - activation - reserved - graphs - NCCL) x the fraction: a
 *           share of what is FREE after loading (free_gpu_memory_fraction, 0.9 by default);
 *   sglang: memory x mem_fraction_static - weights (activations, graphs and buffers live in
 *           the rest, which the fraction must leave).
 * The fraction is the pool's gpu_memory_utilization in each case. */
#define LLMCAP_MEMORY_RULES(X)               \
	X(LLMCAP_MEM_LEGACY, "legacy")       \
	X(LLMCAP_MEM_VLLM, "vllm")           \
	X(LLMCAP_MEM_TRTLLM, "trtllm")       \
	X(LLMCAP_MEM_SGLANG, "sglang")
enum llmcap_memory_rule { LLMCAP_MEMORY_RULES(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_MEMORY_RULE_COUNT = 0 LLMCAP_MEMORY_RULES(LLMCAP_COUNT_ITEM) };
/* NULL-terminated; the _auto table starts with "auto" (a pool's override: index - 1) */
extern const char *const llmcap_memory_rule_names[LLMCAP_MEMORY_RULE_COUNT + 1];
extern const char *const llmcap_memory_rule_auto_names[LLMCAP_MEMORY_RULE_COUNT + 2];

/* How a replica admits requests against its KV blocks (rows in sim/engine/scheduler.c,
 * llmcap_admissions):
 *   vllm: blocks are taken as tokens are computed; a running request that finds none
 *         preempts the newest (vLLM; TensorRT-LLM's MAX_UTILIZATION pauses the same way);
 *   max-utilization: TensorRT-LLM's name for the same rule;
 *   guaranteed-no-evict: TensorRT-LLM's default: a request is admitted only when the blocks
 *         of its whole prompt and output fit beside what every running request may still
 *         grow to, so nothing is ever preempted;
 *   reserve: SGLang: admission reserves reserve_output x the remaining output (its
 *         new_token_ratio, scaled by schedule_conservativeness); a request that outgrows it
 *         can still be preempted (SGLang retracts). */
#define LLMCAP_ADMISSIONS(X)                                  \
	X(LLMCAP_ADMIT_VLLM, "vllm")                          \
	X(LLMCAP_ADMIT_MAX_UTILIZATION, "max-utilization")    \
	X(LLMCAP_ADMIT_NO_EVICT, "guaranteed-no-evict")       \
	X(LLMCAP_ADMIT_RESERVE, "reserve")
enum llmcap_admission { LLMCAP_ADMISSIONS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_ADMISSION_COUNT = 0 LLMCAP_ADMISSIONS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_admission_names[LLMCAP_ADMISSION_COUNT + 1];
extern const char *const llmcap_admission_auto_names[LLMCAP_ADMISSION_COUNT + 2];
/* booleans a pool may leave to the profile: "auto", "false", "true" (index - 1) */
extern const char *const llmcap_bool_auto_names[4];

/* A pool's overrides of its engine profile (pools.NAME.profile): every field of `ov` that is not "auto"
 * (durations -1, doubles NaN, bytes -1, enums and booleans 0 = auto, index - 1 otherwise,
 * scheduler_steps 0) replaces the profile's. */
struct llmcap_engine_override {
	llmcap_time step_overhead, seq_overhead, eager_layer_overhead, allreduce_latency;
	double attention_bw_efficiency;
	int memory_rule;            /* llmcap_memory_rule_auto_names index */
	double reserved_memory, cuda_graph_memory, nccl_memory;
	int embed_16bit;            /* llmcap_bool_auto_names index */
	int admission;              /* llmcap_admission_auto_names index */
	double reserve_output;
	int async_scheduling;       /* llmcap_bool_auto_names index */
	int64_t scheduler_steps;
	int separate_prefill;       /* llmcap_bool_auto_names index */
	llmcap_time frontend_time, frontend_latency;
};
/* Failures and maintenance of a pool's replicas (docs/engine.md, "Failures and maintenance").
 * A replica fails as a Poisson process of rate tensor_parallel_size x gpu_failures_per_gpu_day
 * + server_failures_per_day (per day, from the moment it is up); its requests are retried on
 * the pool's other replicas (their KV lost: recomputed), and it is back after restart_time, or
 * after swap_time when one of the pool's spares is free (the failed hardware rejoins the spares
 * after restart_time). Maintenance windows take the replicas out one after another (replica i
 * at start + i x duration, again every `every`): a replica drains (takes no new requests, ends
 * those it has), then is down for duration. Off while both rates are 0, maintenance.duration
 * is 0 and scripted_at is 0. */
struct llmcap_failures_cfg {
	double gpu_failures_per_gpu_day;
	double server_failures_per_day;  /* per replica (its server's non-GPU interruptions) */
	llmcap_time restart_time;        /* ns; > 0 */
	int64_t spares;                  /* replicas' worth of spare hardware */
	llmcap_time swap_time;           /* ns: a spare replaces a failed replica */
	struct {
		llmcap_time start, duration, every; /* ns; every 0: one window */
	} maintenance;
	llmcap_time scripted_at;         /* ns: one failure of scripted_replica at this time; 0: none */
	int64_t scripted_replica;        /* the pool's replica index */
};

/* Whether a pool's replicas can fail or be taken out for maintenance. */
static inline bool llmcap_pool_has_failures(const struct llmcap_failures_cfg *f)
{
	return f->gpu_failures_per_gpu_day > 0 || f->server_failures_per_day > 0 ||
	       f->maintenance.duration > 0 || f->scripted_at > 0;
}

/* pools.NAME.autoscale: the replica count follows the load (sim/engine/autoscale.c,
 * docs/engine.md "Autoscaling"). Off by default: the pool keeps `replicas` for the whole run.
 * At every interval the metric, averaged over the pool's active replicas, is compared with the
 * thresholds: above up_above the pool grows to ceil(active x metric / target) (at least one
 * more), below down_below it drains one replica (not within cooldown of the last change); the
 * count stays within [min_replicas, max_replicas] (0 with scale_to_zero, when the pool is
 * idle). A new replica is held from the decision and serves after the cold start:
 * provisioning + the weights per GPU (the memory plan's) / weights_bandwidth. */
#define LLMCAP_AUTOSCALE_METRICS(X)                        \
	X(LLMCAP_AUTOSCALE_QUEUE, "queue")                 \
	X(LLMCAP_AUTOSCALE_CONCURRENCY, "concurrency")     \
	X(LLMCAP_AUTOSCALE_KV, "kv")                       \
	X(LLMCAP_AUTOSCALE_UTILISATION, "utilisation")
enum llmcap_autoscale_metric { LLMCAP_AUTOSCALE_METRICS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_AUTOSCALE_COUNT = 0 LLMCAP_AUTOSCALE_METRICS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_autoscale_metric_names[LLMCAP_AUTOSCALE_COUNT + 1];
struct llmcap_autoscale_cfg {
	bool enabled;
	enum llmcap_autoscale_metric metric; /* queue: waiting + swapped requests per replica;
					      * concurrency: in flight per replica; kv: share of
					      * KV blocks in use; utilisation: busy share of the
					      * last interval */
	double target;                 /* the metric per active replica to hold, > 0 */
	double up_above, down_below;   /* NAN: target, and target / 2 */
	llmcap_time interval;          /* between decisions, > 0 */
	int64_t min_replicas;          /* >= 1 */
	int64_t max_replicas;          /* 0: replicas */
	bool scale_to_zero;            /* drain the last replica when the pool is idle */
	llmcap_time provisioning;      /* from the decision to a machine with the engine up */
	double weights_bandwidth;      /* bytes/s per GPU from storage to GPU memory */
	llmcap_time cooldown;          /* no scale-down within this time of the last change */
	/* spot capacity (sim/engine/spot.c): each held replica is interrupted as a Poisson
	 * process at spot_interruptions per replica-month (NAN: the pool's GPU's, cost.gpus or the
	 * catalog); at the notice it drains, spot_notice later it is terminated, its requests
	 * retried on the pool's other replicas, and a replacement cold-starts in its place */
	bool spot;
	llmcap_time spot_notice;       /* the provider's warning before termination, > 0 */
	double spot_interruptions;     /* per replica-month, >= 0; NAN: the GPU's */
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
	enum llmcap_sched_policy scheduling_policy;
	enum llmcap_preemption preemption_mode;
	double swap_space;               /* bytes of CPU memory per GPU for swapped KV blocks */
	double swap_bandwidth;           /* bytes/s per GPU between GPU and CPU memory */
	bool enable_prefix_caching;
	struct {
		int64_t waiting_above;   /* 0 = off */
		double kv_above;         /* 0 = off: share of KV blocks in use */
		llmcap_time api_ttft_median;
		double api_ttft_sigma;
		llmcap_time api_tpot;
	} spill;
	char engine[LLMCAP_NAME_MAX];    /* engine profile, by catalog name */
	struct llmcap_engine_override profile; /* the pool's overrides of the profile's constants */
	struct llmcap_autoscale_cfg autoscale; /* off: a fixed fleet of `replicas` */
	enum llmcap_perf_model perf_model;
	struct {                         /* step = per_step + per_token x tokens + per_context x KV */
		llmcap_time per_step;
		double per_token_us;         /* microseconds per batched (new) token */
		double per_context_token_ns; /* nanoseconds per KV-cache token read */
	} linear;
	struct {
		char path[LLMCAP_PATH_MAX];  /* CSV of measured step times; absolute once loaded */
		enum llmcap_table_range out_of_range;
	} table;
	/* Multi-node parallelism (models/parallel.c, docs/engine.md "Multi-node parallelism"):
	 * a replica is tensor_parallel_size x pipeline_parallel_size x data_parallel_attention
	 * GPUs (llmcap_pool_gpus_per_replica). All 1 (and values below 1, as a pool built by
	 * hand without defaults has): a replica as before, bit for bit. */
	struct {
		int64_t pipeline_parallel_size;  /* stages (layers split), may span servers */
		int64_t expert_parallel;         /* MoE experts over EP ranks: 0 or 1 off;
						    N = TP x DP on */
		int64_t data_parallel_attention; /* attention replicated over DP ranks (MLA) */
		double expert_imbalance;         /* busiest EP rank's tokens over the mean, >= 1 */
		double link_bandwidth;           /* bytes/s per GPU between servers */
		llmcap_time link_latency;        /* ns per message between servers */
	} parallel;
	struct llmcap_failures_cfg failures;
	/* The pool's own GPU type and servers (pools.NAME.gpu, pools.NAME.gpus_per_server; issue
	 * 21): "" and 0 take the hardware block's. A pool whose (gpu, gpus_per_server) differs
	 * from hardware's runs on servers of that type, as few as pack the replicas of every pool
	 * of that type (llmcap_server_groups, cost.h); hardware.servers hold the other pools. */
	char gpu[LLMCAP_NAME_MAX];
	int64_t gpus_per_server;
	/* Disaggregated prefill and decode (docs/engine.md, "Disaggregated prefill and decode"):
	 * a pool with a decode_pool is a prefill group: its replicas compute prompts and emit the
	 * first token, then each request's KV moves over the link (a links catalog entry) to a
	 * replica of decode_pool, picked by that pool's router, which decodes the rest. "" = off
	 * (the pool runs both phases, as every pool did before). */
	struct {
		char decode_pool[LLMCAP_NAME_MAX]; /* a pool of the same model and block size */
		char link[LLMCAP_NAME_MAX];        /* links catalog name */
		bool overlap;  /* layer-wise transfer during the prefill: only the tail is exposed */
	} disaggregation;
	struct llmcap_spec_cfg speculative;
	struct llmcap_lora_pool_cfg lora;
};

/* GPUs one replica of pool p holds: TP x PP x DP (each at least 1). */
static inline int64_t llmcap_pool_gpus_per_replica(const struct llmcap_pool_cfg *p)
{
	int64_t pp = p->parallel.pipeline_parallel_size, dp = p->parallel.data_parallel_attention;
	return p->tensor_parallel_size * (pp > 1 ? pp : 1) * (dp > 1 ? dp : 1);
}

struct llmcap_price_cfg {
	char name[LLMCAP_NAME_MAX]; /* class name */
	char where[160];
	double input, output; /* USD per 1M tokens */
	char from[LLMCAP_NAME_MAX]; /* a price catalog entry that sets both, or "" */
	double cached_input;   /* USD per 1M prompt tokens read from the provider's cache; NAN: the
				  catalog's (with from), else input */
	double cached_share;   /* share of prompt tokens billed as cached, [0, 1] */
	double batch_share;    /* share of the class's tokens sent through the batch API, [0, 1] */
	double batch_discount; /* the batch API's discount, [0, 1]; NAN: the catalog's, else 0 */
};

/* Prices of one GPU type that replace the catalog's (cost.gpus.NAME); NAN: the catalog's. */
#define LLMCAP_MAX_GPU_PRICES 16
struct llmcap_gpu_price_cfg {
	char name[LLMCAP_NAME_MAX]; /* a GPU catalog name */
	char where[160];
	double server;             /* USD per whole server; replaces chassis + GPUs x (gpu + network) */
	double gpu;                /* USD per GPU, purchase */
	double chassis;            /* USD per server without its GPUs: board, CPUs, memory, storage */
	double network_per_gpu;    /* USD per GPU: NICs, optics, switch ports */
	double opex_monthly;       /* USD per server per month, flat (power and colocation) */
	double idle_watts, busy_watts; /* per GPU */
	double on_demand, reserved_1y, reserved_3y, spot; /* USD per GPU-hour */
	double spot_interruptions; /* per replica-month */
};

/* Rented replicas reserved for a pool (cost.rent.reserved.POOL); the rest is billed on demand. */
struct llmcap_reserved_cfg {
	char name[LLMCAP_NAME_MAX]; /* a pool name */
	char where[160];
	int64_t replicas;
};

/* A sweep declared in the scenario file (docs/sweeps.md): `sweep.vary` maps a key path to a
 * SPEC exactly as `--vary KEY=SPEC` takes it (a list given as YAML is joined with commas), and
 * `sweep.sets` maps a set name to a list of values that a SPEC names as `@NAME`. A scenario's
 * sweep section changes nothing in a run; `llmcap sweep` reads it. */
#define LLMCAP_SWEEP_SPEC_MAX 1024
#define LLMCAP_SWEEP_FILE_MAX 16
#define LLMCAP_SWEEP_VALUE_MAX 64 /* bytes of one value of a list, with the NUL */
struct llmcap_sweep_entry {
	char name[128];                   /* a key path (vary) or a set name (sets) */
	char where[160];                  /* FILE:LINE:COLUMN of the entry, for later errors */
	char spec[LLMCAP_SWEEP_SPEC_MAX]; /* vary: the SPEC; sets: the values, comma-separated */
};

/* How the engine advances replicas: fast takes runs of decode-only steps in one go, with results
 * identical to exact, which takes one event per step (the reference; docs/performance.md). */
#define LLMCAP_ENGINE_MODES(X)          \
	X(LLMCAP_ENGINE_FAST, "fast")   \
	X(LLMCAP_ENGINE_EXACT, "exact")
enum llmcap_engine_mode { LLMCAP_ENGINE_MODES(LLMCAP_ENUM_ITEM) }; /* FAST = 0, EXACT = 1 */
enum { LLMCAP_ENGINE_MODE_COUNT = 0 LLMCAP_ENGINE_MODES(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_engine_mode_names[LLMCAP_ENGINE_MODE_COUNT + 1]; /* NULL-terminated */

/* The weekday of simulated time 0 (workload.start_day). */
#define LLMCAP_WEEKDAYS(X)                   \
	X(LLMCAP_MONDAY, "monday")           \
	X(LLMCAP_TUESDAY, "tuesday")         \
	X(LLMCAP_WEDNESDAY, "wednesday")     \
	X(LLMCAP_THURSDAY, "thursday")       \
	X(LLMCAP_FRIDAY, "friday")           \
	X(LLMCAP_SATURDAY, "saturday")       \
	X(LLMCAP_SUNDAY, "sunday")
enum llmcap_weekday { LLMCAP_WEEKDAYS(LLMCAP_ENUM_ITEM) };
enum { LLMCAP_WEEKDAY_COUNT = 0 LLMCAP_WEEKDAYS(LLMCAP_COUNT_ITEM) };
extern const char *const llmcap_weekday_names[LLMCAP_WEEKDAY_COUNT + 1]; /* NULL-terminated */

#define LLMCAP_SCENARIO_CATALOGS 8
struct llmcap_scenario {
	char name[128];
	/* user catalog files, absolute, in order (read before the scenario:
	 * llmcap_scenario_load_catalog) */
	char catalog[LLMCAP_SCENARIO_CATALOGS][LLMCAP_PATH_MAX];
	size_t n_catalog;
	uint64_t seed;
	llmcap_time horizon;
	int64_t max_in_flight; /* requests in the fleet at once; more are rejected as overload */
	enum llmcap_engine_mode engine_mode;
	struct {
		double rate;             /* requests/s, mean; NAN: derived from tokens_per_month */
		double tokens_per_month; /* prompt + output tokens; NAN: derived from rate */
		int start_day;           /* weekday of simulated time 0 (enum llmcap_weekday) */
		enum llmcap_arrival_kind arrival; /* never SHARED */
		double gamma_cv;
		struct llmcap_mmpp_cfg mmpp;
		struct llmcap_diurnal_cfg diurnal;
		struct llmcap_class_cfg classes[LLMCAP_MAX_CLASSES];
		size_t n_classes;
		struct llmcap_trace_cfg trace;
		/* Closed loop (docs/traffic.md): concurrency clients, each sending a request, waiting
		 * for its end and a think time, then sending the next; 0 = open loop (the arrival
		 * streams above). Each request's class is drawn by share. */
		struct {
			int64_t concurrency;
			llmcap_time think_time;           /* mean, ns */
			enum llmcap_think_dist think_dist;
		} clients;
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
		double capex;          /* USD per server, every GPU type; NAN: by GPU (cost.gpus, catalog) */
		double opex_monthly;   /* USD per server per month: power and colocation; NAN: by GPU */
		double support_yearly; /* USD per year for the fleet: support and labour */
		double capex_per_gpu;  /* USD; NAN = use capex per server */
		double chassis;        /* USD per server on top of capex_per_gpu x GPUs */
		double residual_fraction; /* share of capex recovered at the end of the horizon */
		double cost_of_capital;   /* annual rate; capex paid as an annuity over the horizon */
		int64_t spare_servers;    /* bought and racked beside the fleet, serving nothing (N+1: 1) */
		enum llmcap_opex_mode opex;
		struct llmcap_gpu_price_cfg gpus[LLMCAP_MAX_GPU_PRICES]; /* per-GPU price overrides */
		size_t n_gpus;
		struct {
			int64_t term_years;      /* reserved term: 1 or 3 */
			struct llmcap_reserved_cfg reserved[LLMCAP_MAX_POOLS];
			size_t n_reserved;       /* pools not named reserve all their replicas */
			llmcap_time spot_restart; /* held time lost per spot interruption: a new replica's
						     provisioning and weight loading */
		} rent;
		struct {
			double pue;
			double electricity;      /* USD per kWh */
			double colocation;       /* USD per kW-month of provisioned power */
			double other_watts;      /* per server, beyond its GPUs (CPUs, fans, NICs) */
		} power;
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
		int64_t compression;     /* deflate level of the streamed tables, 0: none */
	} output;
	struct {
		struct llmcap_sweep_entry vary[LLMCAP_SWEEP_FILE_MAX];
		size_t n_vary;
		struct llmcap_sweep_entry sets[LLMCAP_SWEEP_FILE_MAX];
		size_t n_sets;
		bool zip;
		int64_t seeds;
		int64_t batch_means;     /* batches per run for batch-means intervals; 0 = off */
		llmcap_time warmup;      /* before the first batch; -1 = auto (one batch's length) */
		bool timeseries;         /* per-run pool time series in the sweep file */
		bool skip_invalid;       /* run the valid points, mark the others */
	} sweep;
};

/* Names of enumerators (never NULL for a valid value; the name a scenario file uses). */
const char *llmcap_dtype_name(enum llmcap_dtype d);
const char *llmcap_router_name(enum llmcap_router r);
const char *llmcap_dist_name(enum llmcap_dist_kind k);
const char *llmcap_arrival_name(enum llmcap_arrival_kind kind);
const char *llmcap_diurnal_shape_name(enum llmcap_diurnal_shape shape);

#endif

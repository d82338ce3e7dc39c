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

enum llmcap_dist_kind {
	LLMCAP_DIST_FIXED,
	LLMCAP_DIST_UNIFORM,
	LLMCAP_DIST_LOGNORMAL,
	LLMCAP_DIST_NORMAL,    /* truncated to [min, max] */
	LLMCAP_DIST_GEOMETRIC, /* on 1, 2, 3, ... */
	LLMCAP_DIST_ZIPF,      /* P(k) ~ k^-exponent on [min, max] */
	LLMCAP_DIST_HISTOGRAM, /* bins of integers [edges[i], edges[i+1]) with weights */
	LLMCAP_DIST_TRACE,     /* a column of a CSV file, one row drawn uniformly */
};

#define LLMCAP_HIST_MAX 128
#define LLMCAP_PATH_MAX 512

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
enum llmcap_diurnal_shape {
	LLMCAP_DIURNAL_NONE,
	LLMCAP_DIURNAL_SMOOTH,
	LLMCAP_DIURNAL_TABLE,
	LLMCAP_DIURNAL_FILE,
	LLMCAP_DIURNAL_AZURE_CODE,
	LLMCAP_DIURNAL_AZURE_CONV,
	LLMCAP_DIURNAL_SERVEGEN_M_LARGE,
	LLMCAP_DIURNAL_SERVEGEN_M_MID,
	LLMCAP_DIURNAL_SERVEGEN_M_SMALL,
	LLMCAP_DIURNAL_SERVEGEN_DEEPSEEK_R1,
	LLMCAP_DIURNAL_SERVEGEN_MM_IMAGE,
	LLMCAP_DIURNAL_COUNT
};

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

/* LLMCAP_ARRIVAL_SHARED is for classes only: the class's requests come from the workload's
 * stream, picked by share. */
enum llmcap_arrival_kind { LLMCAP_ARRIVAL_POISSON, LLMCAP_ARRIVAL_GAMMA, LLMCAP_ARRIVAL_MMPP,
			   LLMCAP_ARRIVAL_SHARED };

/* Two-state Markov-modulated Poisson process: calm and burst periods of exponential length;
 * the burst rate is burst_rate_factor x the calm rate, and both are scaled so that the mean
 * rate stays the configured one. */
struct llmcap_mmpp_cfg {
	double burst_rate_factor;
	llmcap_time mean_calm, mean_burst;
};
enum llmcap_dtype { LLMCAP_DTYPE_BF16, LLMCAP_DTYPE_FP16, LLMCAP_DTYPE_FP8, LLMCAP_DTYPE_INT4_AWQ };
enum llmcap_kv_dtype { LLMCAP_KV_AUTO, LLMCAP_KV_FP8 };
enum llmcap_percentiles { LLMCAP_PERCENTILES_EXACT, LLMCAP_PERCENTILES_STREAMING };
enum llmcap_perf_model { LLMCAP_PERF_ROOFLINE, LLMCAP_PERF_LINEAR, LLMCAP_PERF_TABLE };
enum llmcap_table_range { LLMCAP_TABLE_CLAMP, LLMCAP_TABLE_EXTRAPOLATE };
enum llmcap_router { LLMCAP_ROUTER_ROUND_ROBIN, LLMCAP_ROUTER_LEAST_OUTSTANDING,
		     LLMCAP_ROUTER_RANDOM, LLMCAP_ROUTER_JSQ, LLMCAP_ROUTER_LEAST_KV,
		     LLMCAP_ROUTER_POWER_OF_TWO, LLMCAP_ROUTER_PREFIX_AFFINITY };
enum llmcap_sched_policy { LLMCAP_SCHED_FCFS, LLMCAP_SCHED_PRIORITY };
enum llmcap_preemption { LLMCAP_PREEMPT_RECOMPUTE, LLMCAP_PREEMPT_SWAP };
enum llmcap_limit_action { LLMCAP_LIMIT_REJECT, LLMCAP_LIMIT_SPILL };
enum llmcap_opex_mode { LLMCAP_OPEX_FLAT, LLMCAP_OPEX_POWER };

/* Trace replay (docs/traces.md): a production trace as the workload's shared stream. */
enum llmcap_trace_format { LLMCAP_TRACE_AUTO, LLMCAP_TRACE_AZURE, LLMCAP_TRACE_BURSTGPT,
			   LLMCAP_TRACE_MOONCAKE, LLMCAP_TRACE_CSV, LLMCAP_TRACE_LLMCAP };
enum llmcap_time_unit { LLMCAP_UNIT_S, LLMCAP_UNIT_MS, LLMCAP_UNIT_US, LLMCAP_UNIT_NS,
			LLMCAP_UNIT_DATETIME };
enum llmcap_bad_rows { LLMCAP_BAD_ROWS_FAIL, LLMCAP_BAD_ROWS_SKIP };
enum llmcap_trace_fill { LLMCAP_FILL_NONE, LLMCAP_FILL_LOOP };
enum llmcap_trace_assign { LLMCAP_ASSIGN_SHARE, LLMCAP_ASSIGN_COLUMN, LLMCAP_ASSIGN_RULE };

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
};

struct llmcap_price_cfg {
	char name[LLMCAP_NAME_MAX]; /* class name */
	char where[160];
	double input, output; /* USD per 1M tokens */
	char from[LLMCAP_NAME_MAX]; /* a price catalog entry that sets both, or "" */
};

/* A sweep declared in the scenario file (docs/sweeps.md): `sweep.vary` maps a key path to a
 * SPEC exactly as `--vary KEY=SPEC` takes it (a list given as YAML is joined with commas), and
 * `sweep.sets` maps a set name to a list of values that a SPEC names as `@NAME`. A scenario's
 * sweep section changes nothing in a run; `llmcap sweep` reads it. */
#define LLMCAP_SWEEP_SPEC_MAX 1024
#define LLMCAP_SWEEP_FILE_MAX 16
struct llmcap_sweep_entry {
	char name[128];                   /* a key path (vary) or a set name (sets) */
	char where[160];                  /* FILE:LINE:COLUMN of the entry, for later errors */
	char spec[LLMCAP_SWEEP_SPEC_MAX]; /* vary: the SPEC; sets: the values, comma-separated */
};

/* How the engine advances replicas: fast takes runs of decode-only steps in one go, with results
 * identical to exact, which takes one event per step (the reference; docs/performance.md). */
enum llmcap_engine_mode { LLMCAP_ENGINE_FAST = 0, LLMCAP_ENGINE_EXACT = 1 };

struct llmcap_scenario {
	char name[128];
	uint64_t seed;
	llmcap_time horizon;
	int64_t max_in_flight; /* requests in the fleet at once; more are rejected as overload */
	enum llmcap_engine_mode engine_mode;
	struct {
		double rate;             /* requests/s, mean; NAN: derived from tokens_per_month */
		double tokens_per_month; /* prompt + output tokens; NAN: derived from rate */
		int start_day;           /* weekday of simulated time 0: 0 = Monday */
		enum llmcap_arrival_kind arrival; /* never SHARED */
		double gamma_cv;
		struct llmcap_mmpp_cfg mmpp;
		struct llmcap_diurnal_cfg diurnal;
		struct llmcap_class_cfg classes[LLMCAP_MAX_CLASSES];
		size_t n_classes;
		struct llmcap_trace_cfg trace;
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
		double capex_per_gpu;  /* USD; NAN = use capex per server */
		double chassis;        /* USD per server on top of capex_per_gpu x GPUs */
		double residual_fraction; /* share of capex recovered at the end of the horizon */
		double cost_of_capital;   /* annual rate; capex paid as an annuity over the horizon */
		enum llmcap_opex_mode opex;
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

/* The same without llmcap_scenario_check: every key parsed and typed, the cross-references not
 * checked (a sweep's base, whose own values may not fit while its points do). */
int llmcap_scenario_load_unchecked(struct llmcap_scenario *sc, const char *path,
				   const char *const *overrides, size_t n_overrides,
				   const struct llmcap_catalog *cat, struct llmcap_error *err);

/* Frees what llmcap_scenario_load read beside the scenario (trace columns). Safe on a scenario
 * that holds none, and twice. */
void llmcap_scenario_free(struct llmcap_scenario *sc);

/* Reads the trace columns of every trace length distribution; called by llmcap_scenario_load
 * after the overrides. When a class's prompt and output come from the same file, both columns
 * are read in one pass from the same rows, so that a request keeps a trace row's pair. */
int llmcap_scenario_read_traces(struct llmcap_scenario *sc, struct llmcap_error *err);

/* Whether a class draws prompt and output from the same trace row (both are traces of the
 * same file). */
bool llmcap_class_lengths_joint(const struct llmcap_class_cfg *cl);

/* Reads whole-number columns of a CSV file by header name: n_columns arrays of n_rows values,
 * one allocation (column after column) that the caller frees. Accepts CRLF line ends, blank and
 * '#' comment lines, quoted header names; rejects a missing column, a short row, a value that
 * is not a number >= 0, and a file without rows, naming FILE:LINE. */
/* Splits a CSV line in place at commas, trimming blanks and removing quotes around a field
 * (fields holding commas are not supported: none of the known traces has them). Stores at most
 * `max` field pointers; returns the number of fields found. Shared by every CSV reader. */
size_t llmcap_csv_split(char *line, char **fields, size_t max);

int llmcap_trace_read_columns(const char *path, const char *const *columns, size_t n_columns,
			      int32_t **data, size_t *n_rows, struct llmcap_error *err);

/* Cross-field validation; called by llmcap_scenario_load. */
int llmcap_scenario_check(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			  struct llmcap_error *err);

/* Writes the fully resolved scenario as YAML that loads back to the same values. With
 * `comments`, each field carries its documentation as a trailing comment. */
void llmcap_scenario_write_yaml(const struct llmcap_scenario *sc, FILE *out, bool comments);
/* Writes the field reference (every key, type, default, meaning) as Markdown. */
void llmcap_scenario_write_schema(FILE *out);

/* Mean of a length distribution after clamping or truncation to [min, max] (tokens); for the
 * continuous forms, before rounding to whole tokens (which moves it by well under a token). */
double llmcap_dist_mean(const struct llmcap_dist *d);
/* P(sample <= k) for a whole number of tokens k, exactly as llmcap_dist_sample draws. */
double llmcap_dist_cdf(const struct llmcap_dist *d, int64_t k);
const char *llmcap_dist_name(enum llmcap_dist_kind k);

/* Mean prompt + output tokens of a request, over the class mix. */
double llmcap_scenario_tokens_per_request(const struct llmcap_scenario *sc);
/* The mean request rate (requests/s), all classes together: workload.rate, or
 * workload.tokens_per_month converted with the length distributions' means. */
double llmcap_scenario_mean_rate(const struct llmcap_scenario *sc);

/* Reads a rate profile: '#' comment lines, an optional header, then one row per hour whose
 * last comma-separated field is a rate >= 0; 24 rows (hour of day) or 168 (hour of week,
 * Monday first). CRLF and blank lines are accepted. `name` labels errors ("NAME:LINE: ..."). */
int llmcap_profile_parse(const char *text, const char *name, double *hours, size_t *n_hours,
			 struct llmcap_error *err);
/* The built-in profile of a shape (its CSV text), or NULL for none, smooth, table and file. */
const char *llmcap_builtin_profile(enum llmcap_diurnal_shape shape);
const char *llmcap_diurnal_shape_name(enum llmcap_diurnal_shape shape);
const char *llmcap_arrival_name(enum llmcap_arrival_kind kind);

/* The closed set of values a key path accepts (for `--vary KEY=@all`): an enum's names, false
 * and true for a boolean, or the entry names of the catalog a key refers to (hardware.gpu,
 * pools.NAME.model, pools.NAME.engine, cost.api.prices.NAME.from). Stores at most `max` pointers
 * (into static tables or the catalog) and returns their count; 0 when the key takes open values
 * (numbers, free text); -1 when the path is not a key of the schema. */
int llmcap_schema_key_values(const char *key, const struct llmcap_catalog *cat,
			     const char **names, size_t max);

const char *llmcap_dtype_name(enum llmcap_dtype d);
const char *llmcap_router_name(enum llmcap_router r);

#endif

/* Scenario and catalog loading: one schema table per section drives parsing, defaults,
 * validation messages, the resolved-YAML writer and the Markdown reference, so that the
 * four never disagree. */
#include "llmcap/scenario.h"

#include <assert.h>
#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/perf.h"
#include "llmcap/sweep.h"
#include "llmcap/trace.h"

enum ftype {
	T_STR,
	T_INT,
	T_U64,
	T_DOUBLE,
	T_BOOL,
	T_DURATION,
	T_RATE,
	T_BYTES,
	T_ENUM,
	T_SECTION,
	T_MAP,
	T_DIST,
	T_LIST, /* numbers: double array at offset, count (size_t) at count_offset */
	T_PATH, /* a file name, made absolute against the scenario file's folder when read */
	T_SPECMAP, /* names (key paths) to a scalar or a list of scalars: struct llmcap_sweep_entry
		    * array at offset, count at count_offset */
};

enum {
	F_MIN_EXCL = 1u << 0, /* min is exclusive */
	F_AUTO = 1u << 1,     /* integer: "auto" means 0 */
	F_NULL = 1u << 2,     /* double: null means NAN */
	F_HAS_MAX = 1u << 3,  /* max is meaningful */
	F_PROFILE = 1u << 4,  /* path: a rate profile, read into the diurnal section at once */
};

struct section;

struct field {
	const char *key;
	enum ftype type;
	size_t offset;
	size_t size; /* strings: buffer size */
	const char *def;
	const char *doc;
	double min, max; /* numbers in their stored unit (ns for durations) */
	unsigned flags;
	const char *const *names;  /* enums: NULL-terminated, in enum order */
	const struct section *sub; /* sections and map entries */
	/* maps: struct array at `offset`, element count (size_t) at count_offset */
	size_t count_offset, elem_size, max_count;
	/* lists: the lengths allowed besides empty (len_b = len_a when there is one) */
	size_t len_a, len_b;
	/* an alternative key of the same section: giving this one (not null) sets the other to
	 * null, and a mapping may not give both */
	const char *alt;
	/* strings naming a catalog entry: "gpus", "models", "engines" or "prices" */
	const char *catalog;
};

struct section {
	const struct field *fields;
	size_t n;
};

#define SECTION(arr) {arr, sizeof arr / sizeof arr[0]}
#define NOLIMIT -HUGE_VAL, HUGE_VAL

/* ---- the scenario schema ---- */

#define SC(member) offsetof(struct llmcap_scenario, member)
#define CL(member) offsetof(struct llmcap_class_cfg, member)
#define PO(member) offsetof(struct llmcap_pool_cfg, member)
#define PR(member) offsetof(struct llmcap_price_cfg, member)

/* The arrival process and its daily profile: the same keys for the workload's shared stream and
 * for a class with its own stream. Offsets are relative to the sub-structures. */
#define DI(member) offsetof(struct llmcap_diurnal_cfg, member)
#define MM(member) offsetof(struct llmcap_mmpp_cfg, member)

static const struct field diurnal_fields[] = {
	{.key = "shape", .type = T_ENUM, .offset = DI(shape), .def = "smooth",
	 .names = llmcap_diurnal_shape_names,
	 .doc = "none: constant rate; smooth: a daily curve exp(k cos(2 pi (h - peak_hour) / 24)) / I0(k), "
		"mean exactly 1, k chosen so the peak is peak_to_mean; table: the hours list; file: a "
		"profile file; azure-code, azure-conv: hour-of-week profiles of Azure's 2024 LLM traces; "
		"servegen-*: hour-of-day profiles of ServeGen's 14-day aggregates (models/profiles/)"},
	{.key = "peak_to_mean", .type = T_DOUBLE, .offset = DI(peak_to_mean),
	 .def = "3", .doc = "smooth: busiest instant's rate divided by the mean rate", .min = 1, .max = 50,
	 .flags = F_HAS_MAX},
	{.key = "peak_hour", .type = T_DOUBLE, .offset = DI(peak_hour), .def = "14",
	 .doc = "smooth: hour of day (0-24, simulated time starts at midnight) of the peak", .min = 0,
	 .max = 24, .flags = F_HAS_MAX},
	{.key = "hours", .type = T_LIST, .offset = DI(hours), .count_offset = DI(n_hours),
	 .max_count = LLMCAP_HOURS_PER_WEEK, .len_a = 24, .len_b = LLMCAP_HOURS_PER_WEEK, .def = "[]",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "table: relative rate of each hour, 24 numbers (hour of day) or 168 (hour of week, "
		"Monday 00:00 first), >= 0; normalised to mean 1, constant within the hour"},
	{.key = "file", .type = T_PATH, .offset = DI(file), .size = LLMCAP_PATH_MAX, .def = "",
	 .flags = F_PROFILE,
	 .doc = "file: a CSV of 24 or 168 rows whose last column is the rate (# comments and a header "
		"allowed), relative to the scenario file's folder; normalised to mean 1"},
	{.key = "days", .type = T_LIST, .offset = DI(days), .count_offset = DI(n_days), .max_count = 7,
	 .len_a = 7, .len_b = 7, .def = "[]", .min = 0, .max = HUGE_VAL,
	 .doc = "relative rate of each day of the week, Monday first (7 numbers >= 0, empty: none); "
		"multiplies any shape, and the product is normalised to mean 1 over the week"},
	{.key = "weekend_factor", .type = T_DOUBLE, .offset = DI(weekend_factor), .def = "1",
	 .min = 0, .max = 100, .flags = F_MIN_EXCL | F_HAS_MAX,
	 .doc = "rate on Saturday and Sunday relative to weekdays (e.g. 0.57 for -43%); like days, "
		"renormalised to mean 1 over the week; not with days"},
};
static const struct section diurnal_section = SECTION(diurnal_fields);

static const struct field mmpp_fields[] = {
	{.key = "burst_rate_factor", .type = T_DOUBLE, .offset = MM(burst_rate_factor), .def = "5",
	 .min = 1, .max = 1e6, .flags = F_HAS_MAX,
	 .doc = "rate in a burst divided by the rate when calm"},
	{.key = "mean_calm", .type = T_DURATION, .offset = MM(mean_calm), .def = "9min", .min = 0,
	 .max = HUGE_VAL, .flags = F_MIN_EXCL, .doc = "mean length of a calm period (exponential)"},
	{.key = "mean_burst", .type = T_DURATION, .offset = MM(mean_burst), .def = "1min", .min = 0,
	 .max = HUGE_VAL, .flags = F_MIN_EXCL, .doc = "mean length of a burst (exponential)"},
};
static const struct section mmpp_section = SECTION(mmpp_fields);

#define GAMMA_CV_DOC                                                                               \
	"gamma: coefficient of variation of the inter-arrival times (1 = Poisson; real traces show " \
	"1.5-4)"
#define ARRIVAL_DOC                                                                                \
	"poisson (non-homogeneous when the profile is not flat, generated exactly by thinning); "    \
	"gamma: a renewal process with Gamma inter-arrival times of coefficient of variation "       \
	"gamma_cv, in the profile's time scale; mmpp: a two-state Markov-modulated Poisson process "  \
	"(calm/burst)"

static const struct field class_fields[] = {
	{.key = "share", .type = T_DOUBLE, .offset = CL(share), .def = "1",
	 .doc = "share of all requests that belong to this class; the shares of all classes must sum to 1",
	 .min = 0, .max = HUGE_VAL, .flags = F_MIN_EXCL},
	{.key = "pool", .type = T_STR, .offset = CL(pool), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "pool that serves this class (empty: the pool named like the class)"},
	{.key = "prompt", .type = T_DIST, .offset = CL(prompt),
	 .def = "{dist: fixed, value: 1000}",
	 .doc = "prompt length distribution, tokens: {dist: fixed, value} | {dist: uniform, min, max} "
		"| {dist: lognormal, median, sigma} or {dist: lognormal, mean, p99} | {dist: normal, mean, sd} "
		"| {dist: geometric, mean} | {dist: zipf, exponent} | {dist: histogram, edges, weights} "
		"| {dist: trace, file, column}, each with optional min and max (docs/traffic.md)"},
	{.key = "output", .type = T_DIST, .offset = CL(output), .def = "{dist: fixed, value: 200}",
	 .doc = "output length distribution, tokens (same forms as prompt; a trace with the prompt's "
		"file draws both from the same row)"},
	{.key = "slo_ttft_p99", .type = T_DURATION, .offset = CL(slo_ttft_p99), .def = "2s",
	 .doc = "target for the 99th percentile of time to first token", .min = 0, .max = HUGE_VAL,
	 .flags = F_MIN_EXCL},
	{.key = "slo_tpot_p99", .type = T_DURATION, .offset = CL(slo_tpot_p99), .def = "100ms",
	 .doc = "target for the 99th percentile of time per output token", .min = 0, .max = HUGE_VAL,
	 .flags = F_MIN_EXCL},
	{.key = "priority", .type = T_INT, .offset = CL(priority), .def = "0", .min = -1000000,
	 .max = 1000000, .flags = F_HAS_MAX,
	 .doc = "with scheduling_policy: priority, lower values are scheduled (and kept) first"},
	{.key = "long_prompt_tokens", .type = T_INT, .offset = CL(long_prompt_tokens), .def = "0",
	 .min = 0, .max = 1 << 24, .flags = F_HAS_MAX,
	 .doc = "routing rule: prompts longer than this go to long_prompt_pool (0: off)"},
	{.key = "long_prompt_pool", .type = T_STR, .offset = CL(long_prompt_pool),
	 .size = LLMCAP_NAME_MAX, .def = "", .doc = "pool for prompts longer than long_prompt_tokens"},
	{.key = "shared_prefix_tokens", .type = T_INT, .offset = CL(shared_prefix_tokens), .def = "0",
	 .min = 0, .max = 1 << 24, .flags = F_HAS_MAX,
	 .doc = "leading prompt tokens identical across the class's requests (a system prompt); "
		"reused from the KV cache when the pool enables prefix caching"},
	{.key = "prefix_groups", .type = T_INT, .offset = CL(prefix_groups), .def = "1", .min = 1,
	 .max = 1 << 20, .flags = F_HAS_MAX,
	 .doc = "number of distinct shared prefixes; each request uses one, uniformly"},
	{.key = "max_waiting", .type = T_INT, .offset = CL(max_waiting), .def = "0", .min = 0,
	 .max = 1 << 30, .flags = F_HAS_MAX,
	 .doc = "admission limit: a request finding this many requests waiting at its replica is "
		"rejected or spilled (0: no limit)"},
	{.key = "max_queue_time", .type = T_DURATION, .offset = CL(max_queue_time), .def = "0s",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "admission limit: a request not scheduled within this time is rejected or spilled "
		"(0s: no limit)"},
	{.key = "when_limited", .type = T_ENUM, .offset = CL(when_limited), .def = "reject",
	 .names = llmcap_limit_action_names, .doc = "what an admission limit does: reject, or spill to the API"},
	{.key = "arrival", .type = T_ENUM, .offset = CL(arrival), .def = "shared",
	 .names = llmcap_arrival_names,
	 .doc = "shared: the class's requests come from the workload's stream, picked by share; "
		"poisson, gamma, mmpp: the class has its own stream at share x the mean rate, with this "
		"class's gamma_cv, mmpp and diurnal (their defaults are the schema's, not the workload's)"},
	{.key = "gamma_cv", .type = T_DOUBLE, .offset = CL(gamma_cv), .def = "1", .min = 0,
	 .max = 100, .flags = F_MIN_EXCL | F_HAS_MAX, .doc = GAMMA_CV_DOC},
	{.key = "mmpp", .type = T_SECTION, .offset = CL(mmpp), .sub = &mmpp_section,
	 .doc = "mmpp: the class's calm/burst process"},
	{.key = "diurnal", .type = T_SECTION, .offset = CL(diurnal), .sub = &diurnal_section,
	 .doc = "the class's own rate profile (with its own arrival process)"},
};
static const struct section class_section = SECTION(class_fields);

#define TR(member) offsetof(struct llmcap_trace_cfg, member)
#define TM(member) offsetof(struct llmcap_trace_model_cfg, member)

static const struct field trace_model_fields[] = {
	{.key = "class", .type = T_STR, .offset = TM(cls), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "the class (with arrival: shared) that rows with this class column value go to"},
};
static const struct section trace_model_section = SECTION(trace_model_fields);

static const struct field trace_fields[] = {
	{.key = "file", .type = T_PATH, .offset = TR(file), .size = LLMCAP_PATH_MAX, .def = "",
	 .doc = "a production trace replayed as the arrivals of the classes with arrival: shared "
		"(relative to the scenario file's folder; empty: synthetic traffic); read streamed "
		"(docs/traces.md)"},
	{.key = "format", .type = T_ENUM, .offset = TR(format), .def = "auto",
	 .names = llmcap_trace_format_names,
	 .doc = "auto: detected from the header; azure (TIMESTAMP,ContextTokens,GeneratedTokens), "
		"burstgpt (columns by name, 0 response tokens = failed, not replayed), mooncake (JSON "
		"lines, prefix hash_ids), csv (the *_column keys), llmcap (llmcap workload --out)"},
	{.key = "time_column", .type = T_STR, .offset = TR(time_column), .size = LLMCAP_NAME_MAX,
	 .def = "timestamp", .doc = "csv: the arrival time column"},
	{.key = "time_unit", .type = T_ENUM, .offset = TR(time_unit), .def = "s",
	 .names = llmcap_time_unit_names,
	 .doc = "csv: the time column's unit, or datetime (YYYY-MM-DD HH:MM:SS[.fraction][Z|+HH:MM])"},
	{.key = "prompt_column", .type = T_STR, .offset = TR(prompt_column), .size = LLMCAP_NAME_MAX,
	 .def = "prompt_tokens", .doc = "csv: the prompt tokens column"},
	{.key = "output_column", .type = T_STR, .offset = TR(output_column), .size = LLMCAP_NAME_MAX,
	 .def = "output_tokens", .doc = "csv: the output tokens column"},
	{.key = "class_column", .type = T_STR, .offset = TR(class_column), .size = LLMCAP_NAME_MAX,
	 .def = "",
	 .doc = "the class/model column for assign: column (empty: Model for burstgpt, class for "
		"llmcap; csv needs one)"},
	{.key = "start", .type = T_DURATION, .offset = TR(start), .def = "0s", .min = 0,
	 .max = HUGE_VAL, .doc = "window start, trace time after the first row"},
	{.key = "end", .type = T_DURATION, .offset = TR(end), .def = "0s", .min = 0, .max = HUGE_VAL,
	 .doc = "window end, trace time after the first row (0s: the file's end)"},
	{.key = "speedup", .type = T_DOUBLE, .offset = TR(speedup), .def = "1", .min = 0,
	 .max = 1e6, .flags = F_MIN_EXCL | F_HAS_MAX | F_NULL, .alt = "rate",
	 .doc = "trace time runs this many times faster in simulated time (2: twice the rate); "
		"null: from rate"},
	{.key = "rate", .type = T_RATE, .offset = TR(rate), .def = "null", .min = 0,
	 .max = HUGE_VAL, .flags = F_MIN_EXCL | F_NULL, .alt = "speedup",
	 .doc = "instead of speedup: the mean rate to replay the window at (e.g. 20/s); the speedup "
		"is this over the window's own rate"},
	{.key = "fill", .type = T_ENUM, .offset = TR(fill), .def = "none", .names = llmcap_trace_fill_names,
	 .doc = "none: arrivals end with the window; loop: copies of the window back to back until "
		"the horizon (one copy lasts end - start, or up to the last row plus one mean gap)"},
	{.key = "assign", .type = T_ENUM, .offset = TR(assign), .def = "share", .names = llmcap_trace_assign_names,
	 .doc = "class of each row: share (a seeded random split by the shared classes' shares); "
		"column (the class column through models, else a class of that name, else class); "
		"rule (prompts longer than long_prompt_tokens go to long_prompt_class, others to class)"},
	{.key = "models", .type = T_MAP, .offset = TR(models), .count_offset = TR(n_models),
	 .elem_size = sizeof(struct llmcap_trace_model_cfg), .max_count = LLMCAP_TRACE_MODELS_MAX,
	 .sub = &trace_model_section,
	 .doc = "assign column: class column values (e.g. ChatGPT, GPT-4) and their classes"},
	{.key = "class", .type = T_STR, .offset = TR(cls), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "rule: the class of prompts up to long_prompt_tokens (empty: the first shared "
		"class); column: the class of values with no mapping (empty: such rows are bad rows)"},
	{.key = "long_prompt_tokens", .type = T_INT, .offset = TR(long_prompt_tokens), .def = "0",
	 .min = 0, .max = 1 << 24, .flags = F_HAS_MAX, .doc = "rule: the prompt length threshold"},
	{.key = "long_prompt_class", .type = T_STR, .offset = TR(long_prompt_class),
	 .size = LLMCAP_NAME_MAX, .def = "", .doc = "rule: the class of longer prompts"},
	{.key = "max_prompt", .type = T_INT, .offset = TR(max_prompt), .def = "0", .min = 0,
	 .max = 1 << 24, .flags = F_HAS_MAX,
	 .doc = "cap on replayed prompt tokens (0: none); capped rows are counted"},
	{.key = "max_output", .type = T_INT, .offset = TR(max_output), .def = "0", .min = 0,
	 .max = 1 << 24, .flags = F_HAS_MAX,
	 .doc = "cap on replayed output tokens (0: none); capped rows are counted"},
	{.key = "bad_rows", .type = T_ENUM, .offset = TR(bad_rows), .def = "fail",
	 .names = llmcap_bad_rows_names,
	 .doc = "fail: the first bad row (missing field, non-numeric or negative value, time going "
		"backwards, bad JSON, invalid UTF-8, a line over 1 MiB, a truncated last line) stops "
		"with FILE:LINE and the reason, before the simulation; skip: skip them, counted by "
		"reason in the summary"},
	{.key = "hash_block_tokens", .type = T_INT, .offset = TR(hash_block_tokens), .def = "512",
	 .min = 1, .max = 1 << 20, .flags = F_HAS_MAX,
	 .doc = "mooncake: prompt tokens per hash id (512 in Mooncake's traces); with "
		"enable_prefix_caching, engine blocks whose tokens lie in identical hash-id prefixes "
		"are shared"},
};
static const struct section trace_section = SECTION(trace_fields);

static const struct field workload_fields[] = {
	{.key = "rate", .type = T_RATE, .offset = SC(workload.rate), .def = "50000/day",
	 .flags = F_MIN_EXCL | F_NULL, .alt = "tokens_per_month",
	 .doc = "mean request rate over the period of the profile, all classes together (e.g. "
		"50000/day, 35/min); null: derived from tokens_per_month",
	 .min = 0, .max = HUGE_VAL},
	{.key = "tokens_per_month", .type = T_DOUBLE, .offset = SC(workload.tokens_per_month),
	 .def = "null", .flags = F_MIN_EXCL | F_NULL, .alt = "rate", .min = 0, .max = HUGE_VAL,
	 .doc = "instead of rate: prompt + output tokens per month (365.25/12 days), e.g. 2.7e9; the "
		"rate is this divided by the classes' mean tokens per request. Giving it sets rate to "
		"null and the reverse; a file may not give both"},
	{.key = "start_day", .type = T_ENUM, .offset = SC(workload.start_day), .def = "monday",
	 .names = llmcap_weekday_names,
	 .doc = "weekday of simulated time 0 (midnight), for hour-of-week profiles, days and "
		"weekend_factor"},
	{.key = "arrival", .type = T_ENUM, .offset = SC(workload.arrival), .def = "poisson",
	 .names = llmcap_stream_arrival_names, .doc = "arrival process of the shared stream: " ARRIVAL_DOC},
	{.key = "gamma_cv", .type = T_DOUBLE, .offset = SC(workload.gamma_cv), .def = "1", .min = 0,
	 .max = 100, .flags = F_MIN_EXCL | F_HAS_MAX, .doc = GAMMA_CV_DOC},
	{.key = "mmpp", .type = T_SECTION, .offset = SC(workload.mmpp), .sub = &mmpp_section,
	 .doc = "mmpp: the calm/burst process"},
	{.key = "diurnal", .type = T_SECTION, .offset = SC(workload.diurnal), .sub = &diurnal_section,
	 .doc = "rate profile: the rate at time t is the mean rate x profile(t), profile of mean 1"},
	{.key = "classes", .type = T_MAP, .offset = SC(workload.classes),
	 .count_offset = SC(workload.n_classes), .elem_size = sizeof(struct llmcap_class_cfg),
	 .max_count = LLMCAP_MAX_CLASSES, .sub = &class_section,
	 .doc = "request classes by name (at least one)"},
	{.key = "trace", .type = T_SECTION, .offset = SC(workload.trace), .sub = &trace_section,
	 .doc = "replay a production trace (docs/traces.md)"},
};
static const struct section workload_section = SECTION(workload_fields);

static const struct field hardware_fields[] = {
	{.key = "servers", .type = T_INT, .offset = SC(hardware.servers), .def = "1",
	 .doc = "number of servers", .min = 1, .max = 100000, .flags = F_HAS_MAX},
	{.key = "gpu", .type = T_STR, .offset = SC(hardware.gpu), .size = LLMCAP_NAME_MAX,
	 .def = "h100-sxm-80gb", .doc = "accelerator, by catalog name (llmcap catalog lists them)",
	 .catalog = "gpus"},
	{.key = "gpus_per_server", .type = T_INT, .offset = SC(hardware.gpus_per_server), .def = "8",
	 .doc = "GPUs in each server", .min = 1, .max = 64, .flags = F_HAS_MAX},
};
static const struct section hardware_section = SECTION(hardware_fields);

#define SP(member) offsetof(struct llmcap_pool_cfg, spill.member)
static const struct field spill_fields[] = {
	{.key = "waiting_above", .type = T_INT, .offset = SP(waiting_above), .def = "0", .min = 0,
	 .max = 1 << 30, .flags = F_HAS_MAX,
	 .doc = "spill an arriving request when its replica has this many waiting (0: off)"},
	{.key = "kv_above", .type = T_DOUBLE, .offset = SP(kv_above), .def = "0", .min = 0, .max = 1,
	 .flags = F_HAS_MAX,
	 .doc = "spill an arriving request when its replica's KV use is at least this share (0: off)"},
	{.key = "api_ttft_median", .type = T_DURATION, .offset = SP(api_ttft_median), .def = "800ms",
	 .min = 0, .max = HUGE_VAL, .flags = F_MIN_EXCL,
	 .doc = "API latency model: median time to first token (lognormal)"},
	{.key = "api_ttft_sigma", .type = T_DOUBLE, .offset = SP(api_ttft_sigma), .def = "0.5",
	 .min = 0, .max = 5, .flags = F_HAS_MAX,
	 .doc = "API latency model: sigma of log TTFT"},
	{.key = "api_tpot", .type = T_DURATION, .offset = SP(api_tpot), .def = "20ms", .min = 0,
	 .max = HUGE_VAL, .doc = "API latency model: time per output token"},
};
static const struct section spill_section = SECTION(spill_fields);
static const struct field linear_fields[] = {
	{.key = "per_step", .type = T_DURATION, .offset = PO(linear.per_step), .def = "5ms",
	 .min = 0, .max = HUGE_VAL, .doc = "time of every step (a)"},
	{.key = "per_token_us", .type = T_DOUBLE, .offset = PO(linear.per_token_us), .def = "0",
	 .min = 0, .max = HUGE_VAL, .doc = "microseconds per new token in the step (b)"},
	{.key = "per_context_token_ns", .type = T_DOUBLE, .offset = PO(linear.per_context_token_ns),
	 .def = "0", .min = 0, .max = HUGE_VAL,
	 .doc = "nanoseconds per KV-cache token read, summed over the step's sequences (c)"},
};
static const struct section linear_section = SECTION(linear_fields);

static const struct field table_fields[] = {
	{.key = "path", .type = T_PATH, .offset = PO(table.path), .size = LLMCAP_PATH_MAX, .def = "",
	 .doc = "CSV with a header and columns tokens, [context,] ms (context: KV tokens read); "
		"relative to the scenario file's folder (to the working directory in --set)"},
	{.key = "out_of_range", .type = T_ENUM, .offset = PO(table.out_of_range), .def = "clamp",
	 .names = llmcap_table_range_names,
	 .doc = "steps outside the table: clamp to its edge or extrapolate its edge cell linearly; "
		"either way they are counted and reported"},
};
static const struct section table_section = SECTION(table_fields);

static const struct field pool_fields[] = {
	{.key = "model", .type = T_STR, .offset = PO(model), .size = LLMCAP_NAME_MAX,
	 .def = "llama-3.1-8b", .doc = "model, by catalog name", .catalog = "models"},
	{.key = "dtype", .type = T_ENUM, .offset = PO(dtype), .def = "bf16", .names = llmcap_dtype_names,
	 .doc = "weight precision: bf16 | fp16 (2 bytes), fp8 (1 byte, FP8 tensor cores), "
		"int4-awq (4.25 bits incl. scales, 16-bit compute)"},
	{.key = "kv_cache_dtype", .type = T_ENUM, .offset = PO(kv_cache_dtype), .def = "auto",
	 .names = llmcap_kv_dtype_names, .doc = "KV cache precision: auto (16-bit) | fp8"},
	{.key = "tensor_parallel_size", .type = T_INT, .offset = PO(tensor_parallel_size),
	 .def = "1", .doc = "GPUs per replica: 1, 2, 4 or 8", .min = 1, .max = 8,
	 .flags = F_HAS_MAX},
	{.key = "replicas", .type = T_INT, .offset = PO(replicas), .def = "1",
	 .doc = "model instances in the pool", .min = 1, .max = 100000, .flags = F_HAS_MAX},
	{.key = "max_num_seqs", .type = T_INT, .offset = PO(max_num_seqs), .def = "256",
	 .doc = "vLLM: most sequences in one step", .min = 1, .max = 1 << 20, .flags = F_HAS_MAX},
	{.key = "max_num_batched_tokens", .type = T_INT, .offset = PO(max_num_batched_tokens),
	 .def = "8192", .doc = "vLLM: token budget of one step", .min = 1, .max = 1 << 24,
	 .flags = F_HAS_MAX},
	{.key = "enable_chunked_prefill", .type = T_BOOL, .offset = PO(enable_chunked_prefill),
	 .def = "true", .doc = "vLLM: split long prompts across steps within the token budget"},
	{.key = "gpu_memory_utilization", .type = T_DOUBLE, .offset = PO(gpu_memory_utilization),
	 .def = "0.9", .doc = "vLLM: share of GPU memory the engine may use", .min = 0, .max = 1,
	 .flags = F_MIN_EXCL | F_HAS_MAX},
	{.key = "block_size", .type = T_INT, .offset = PO(block_size), .def = "16",
	 .doc = "vLLM: tokens per KV-cache block", .min = 1, .max = 4096, .flags = F_HAS_MAX},
	{.key = "max_model_len", .type = T_INT, .offset = PO(max_model_len), .def = "auto",
	 .flags = F_AUTO | F_HAS_MAX, .min = 2, .max = 1 << 24,
	 .doc = "vLLM: longest sequence (prompt + output) in tokens; auto: the model's context "
		"length, lowered to what the KV cache holds"},
	{.key = "num_gpu_blocks_override", .type = T_INT, .offset = PO(num_gpu_blocks_override),
	 .def = "auto", .flags = F_AUTO | F_HAS_MAX, .min = 1, .max = 1e12,
	 .doc = "vLLM: KV blocks per replica instead of the derived count"},
	{.key = "memory_overhead", .type = T_BYTES, .offset = PO(memory_overhead), .def = "0.5GiB",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "per-GPU memory outside weights, activations and KV cache (CUDA context, NCCL and "
		"cuBLAS workspaces); an estimate"},
	{.key = "step_overhead", .type = T_DURATION, .offset = PO(step_overhead), .def = "auto",
	 .min = 0, .max = HUGE_VAL, .flags = F_AUTO,
	 .doc = "fixed CPU time per engine step (schedule, prepare inputs, launch); auto: the "
		"engine profile's fitted value (llmcap catalog)"},
	{.key = "router", .type = T_ENUM, .offset = PO(router), .def = "round-robin",
	 .names = llmcap_router_names,
	 .doc = "replica choice within the pool: round-robin; random; least-outstanding (fewest "
		"requests); jsq (fewest waiting prompt tokens); least-kv (lowest KV use); power-of-two "
		"(fewer requests of two random replicas); prefix-affinity (the replica last sent the "
		"same shared prefix, unless it has 4+ more requests than the least loaded)"},
	{.key = "scheduling_policy", .type = T_ENUM, .offset = PO(scheduling_policy), .def = "fcfs",
	 .names = llmcap_sched_policy_names,
	 .doc = "vLLM: waiting-queue order; priority orders by class priority, then arrival, and "
		"preempts the lowest priority first"},
	{.key = "preemption_mode", .type = T_ENUM, .offset = PO(preemption_mode),
	 .def = "recompute", .names = llmcap_preemption_names,
	 .doc = "recompute: drop the KV blocks and redo the prefill; swap: move them to CPU memory "
		"over swap_bandwidth (falls back to recompute when swap_space is full)"},
	{.key = "swap_space", .type = T_BYTES, .offset = PO(swap_space), .def = "4GiB", .min = 0,
	 .max = HUGE_VAL, .doc = "vLLM: CPU memory per GPU for swapped KV blocks"},
	{.key = "swap_bandwidth", .type = T_DOUBLE, .offset = PO(swap_bandwidth), .def = "51e9",
	 .min = 0, .max = HUGE_VAL, .flags = F_MIN_EXCL,
	 .doc = "bytes/s per GPU for swapping (H100 host-to-device, nvbandwidth: 51 GB/s)"},
	{.key = "enable_prefix_caching", .type = T_BOOL, .offset = PO(enable_prefix_caching),
	 .def = "false",
	 .doc = "vLLM: reuse cached KV blocks of identical prompt prefixes (evicted LRU)"},
	{.key = "spill", .type = T_SECTION, .sub = &spill_section,
	 .doc = "hybrid: send requests to the API when the pool is overloaded"},
	{.key = "engine", .type = T_STR, .offset = PO(engine), .size = LLMCAP_NAME_MAX,
	 .def = "vllm",
	 .doc = "serving-engine profile, by catalog name (vllm, trtllm, sglang): per-step and "
		"per-sequence CPU time, decode-attention efficiency", .catalog = "engines"},
	{.key = "perf_model", .type = T_ENUM, .offset = PO(perf_model), .def = "roofline",
	 .names = llmcap_perf_model_names,
	 .doc = "step-time model: roofline (calibrated per GPU and engine; docs/models.md), linear "
		"(pools.NAME.linear), table (measured step times, pools.NAME.table)"},
	{.key = "linear", .type = T_SECTION, .sub = &linear_section,
	 .doc = "perf_model linear: step = per_step + per_token x new tokens + per_context x KV "
		"tokens read"},
	{.key = "table", .type = T_SECTION, .sub = &table_section,
	 .doc = "perf_model table: measured step times"},
};
static const struct section pool_section = SECTION(pool_fields);

static const struct field price_fields[] = {
	{.key = "input", .type = T_DOUBLE, .offset = PR(input), .def = "0",
	 .doc = "USD per 1M input tokens", .min = 0, .max = HUGE_VAL},
	{.key = "output", .type = T_DOUBLE, .offset = PR(output), .def = "0",
	 .doc = "USD per 1M output tokens", .min = 0, .max = HUGE_VAL},
	{.key = "from", .type = T_STR, .offset = PR(from), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "take input and output from the price catalog (llmcap catalog lists it, with sources "
		"and date), e.g. groq-llama-3.1-8b", .catalog = "prices"},
};
static const struct section price_section = SECTION(price_fields);

static const struct field api_fields[] = {
	{.key = "monthly_bill", .type = T_DOUBLE, .offset = SC(cost.api.monthly_bill), .def = "null",
	 .flags = F_NULL, .min = 0, .max = HUGE_VAL,
	 .doc = "a flat API bill in USD/month instead of per-token prices (null: use prices)"},
	{.key = "prices", .type = T_MAP, .offset = SC(cost.api.prices),
	 .count_offset = SC(cost.api.n_prices), .elem_size = sizeof(struct llmcap_price_cfg),
	 .max_count = LLMCAP_MAX_CLASSES, .sub = &price_section,
	 .doc = "API list price per class name (every class needs one unless monthly_bill is set)"},
};
static const struct section api_section = SECTION(api_fields);

static const struct field power_fields[] = {
	{.key = "pue", .type = T_DOUBLE, .offset = SC(cost.power.pue), .def = "1.3", .min = 1,
	 .max = 5, .flags = F_HAS_MAX,
	 .doc = "power usage effectiveness of the facility (an assumption: set yours)"},
	{.key = "electricity", .type = T_DOUBLE, .offset = SC(cost.power.electricity), .def = "0.10",
	 .min = 0, .max = HUGE_VAL, .doc = "USD per kWh (an assumption: set yours)"},
	{.key = "colocation", .type = T_DOUBLE, .offset = SC(cost.power.colocation),
	 .def = "184.06", .min = 0, .max = HUGE_VAL,
	 .doc = "USD per kW-month of provisioned power (CBRE, North America wholesale, H2 2024)"},
	{.key = "other_watts", .type = T_DOUBLE, .offset = SC(cost.power.other_watts), .def = "2300",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "watts per server beyond its GPUs (DGX H100: 10.2 kW max less 8 x 700 W GPUs = "
		"4.6 kW for 8 GPUs; 2.3 kW for a 4-GPU server)"},
};
static const struct section power_section = SECTION(power_fields);

static const struct field cost_fields[] = {
	{.key = "horizon_years", .type = T_DOUBLE, .offset = SC(cost.horizon_years), .def = "3",
	 .doc = "amortisation and comparison horizon, years", .min = 0, .max = 50,
	 .flags = F_MIN_EXCL | F_HAS_MAX},
	{.key = "capex", .type = T_DOUBLE, .offset = SC(cost.capex), .def = "155000",
	 .doc = "purchase price per server, USD", .min = 0, .max = HUGE_VAL},
	{.key = "opex_monthly", .type = T_DOUBLE, .offset = SC(cost.opex_monthly), .def = "2450",
	 .doc = "power and colocation per server per month, USD", .min = 0, .max = HUGE_VAL},
	{.key = "support_yearly", .type = T_DOUBLE, .offset = SC(cost.support_yearly),
	 .def = "10000", .doc = "support and labour per year for the fleet, USD", .min = 0,
	 .max = HUGE_VAL},
	{.key = "capex_per_gpu", .type = T_DOUBLE, .offset = SC(cost.capex_per_gpu), .def = "null",
	 .flags = F_NULL, .min = 0, .max = HUGE_VAL,
	 .doc = "price per GPU, USD; when set, a server costs chassis + gpus_per_server x this "
		"instead of capex (H100 SXM ~30,000: ../shared/pricing)"},
	{.key = "chassis", .type = T_DOUBLE, .offset = SC(cost.chassis), .def = "0", .min = 0,
	 .max = HUGE_VAL, .doc = "price of a server without its GPUs, USD (with capex_per_gpu)"},
	{.key = "residual_fraction", .type = T_DOUBLE, .offset = SC(cost.residual_fraction),
	 .def = "0", .min = 0, .max = 1, .flags = F_HAS_MAX,
	 .doc = "share of the purchase price recovered by selling the hardware at the end"},
	{.key = "cost_of_capital", .type = T_DOUBLE, .offset = SC(cost.cost_of_capital), .def = "0",
	 .min = 0, .max = 1, .flags = F_HAS_MAX,
	 .doc = "annual interest rate; the purchase is paid as an annuity over the horizon (0: cash)"},
	{.key = "opex", .type = T_ENUM, .offset = SC(cost.opex), .def = "flat", .names = llmcap_opex_mode_names,
	 .doc = "flat: opex_monthly per server; power: simulated power x PUE x electricity + "
		"colocation per provisioned kW"},
	{.key = "power", .type = T_SECTION, .sub = &power_section,
	 .doc = "opex: power inputs (GPU idle and peak watts come from the GPU catalog)"},
	{.key = "api", .type = T_SECTION, .sub = &api_section, .doc = "what the same traffic costs on an API"},
};
static const struct section cost_section = SECTION(cost_fields);

static const struct field output_fields[] = {
	{.key = "path", .type = T_STR, .offset = SC(output.path), .size = 1024, .def = "null",
	 .doc = "HDF5 result file (null: none); `llmcap run -o FILE` sets it too"},
	{.key = "requests", .type = T_BOOL, .offset = SC(output.requests), .def = "true",
	 .doc = "write the per-request table"},
	{.key = "timeseries", .type = T_BOOL, .offset = SC(output.timeseries), .def = "true",
	 .doc = "write time series per replica and per pool"},
	{.key = "timeseries_interval", .type = T_DURATION, .offset = SC(output.timeseries_interval),
	 .def = "60s", .doc = "time-series sampling interval (simulated time)", .min = 0,
	 .max = HUGE_VAL, .flags = F_MIN_EXCL},
	{.key = "percentiles", .type = T_ENUM, .offset = SC(output.percentiles), .def = "exact",
	 .names = llmcap_percentiles_names,
	 .doc = "exact: keep every latency; streaming: log-bucketed histograms in bounded memory, "
		"within percentile_error of an adjacent order statistic"},
	{.key = "percentile_error", .type = T_DOUBLE, .offset = SC(output.percentile_error),
	 .def = "0.01", .doc = "relative error bound of streaming percentiles", .min = 0, .max = 0.5,
	 .flags = F_MIN_EXCL | F_HAS_MAX},
	{.key = "compression", .type = T_INT, .offset = SC(output.compression), .def = "1",
	 .min = 0, .max = 9, .flags = F_HAS_MAX,
	 .doc = "deflate level (after a byte shuffle) of the per-request table and the time "
		"series: 0 stores them uncompressed (a month's run: ~1 s faster to write, ~2.5x "
		"larger), 1 is fast, 9 smallest"},
};
static const struct section output_section = SECTION(output_fields);

#define SW(member) offsetof(struct llmcap_scenario, sweep.member)
static const struct field sweep_fields[] = {
	{.key = "vary", .type = T_SPECMAP, .offset = SW(vary), .count_offset = SW(n_vary),
	 .max_count = LLMCAP_SWEEP_FILE_MAX, .size = LLMCAP_SWEEP_SPEC_MAX,
	 .doc = "`llmcap sweep`: key path to SPEC, as `--vary KEY=SPEC` (a list `[a, b]` or "
		"`a,b`, a range `10:200:10/s`, `log:1e3:1e5:5/day`, a named set `@gpus`); in order, "
		"the last varying fastest; `--vary` replaces a key given here or adds one"},
	{.key = "sets", .type = T_SPECMAP, .offset = SW(sets), .count_offset = SW(n_sets),
	 .max_count = LLMCAP_SWEEP_FILE_MAX, .size = LLMCAP_SWEEP_SPEC_MAX,
	 .doc = "named sets of values, as lists, that a SPEC uses as `@NAME` (besides the built-in "
		"`@gpus`, `@models`, `@engines`, `@prices` and `@all`)"},
	{.key = "zip", .type = T_BOOL, .offset = SW(zip), .def = "false",
	 .doc = "vary the keys together instead of their Cartesian product (`--zip`)"},
	{.key = "seeds", .type = T_INT, .offset = SW(seeds), .def = "1", .min = 1, .max = 1000000,
	 .flags = F_HAS_MAX, .doc = "runs per point, with seeds seed, seed + 1, ... (`--seeds`)"},
	{.key = "batch_means", .type = T_INT, .offset = SW(batch_means), .def = "0", .min = 0,
	 .max = 1000, .flags = F_HAS_MAX,
	 .doc = "split each run after the warm-up into this many batches and add batch-means "
		"intervals (0: off; `--batch-means`)"},
	{.key = "warmup", .type = T_DURATION, .offset = SW(warmup), .def = "auto", .min = 0,
	 .max = HUGE_VAL, .flags = F_AUTO,
	 .doc = "simulated time left out before the first batch (auto: one batch's length; "
		"`--warmup`)"},
	{.key = "timeseries", .type = T_BOOL, .offset = SW(timeseries), .def = "false",
	 .doc = "store each run's pool time series in the sweep file (`--timeseries`)"},
	{.key = "skip_invalid", .type = T_BOOL, .offset = SW(skip_invalid), .def = "false",
	 .doc = "run the points whose scenario is valid and keep the others' rows with NaN "
		"metrics, `valid` 0 and the reason in `error`, instead of refusing the sweep "
		"(`--skip-invalid`)"},
};
static const struct section sweep_section = SECTION(sweep_fields);

static const struct field scenario_fields[] = {
	{.key = "name", .type = T_STR, .offset = SC(name), .size = 128, .def = "unnamed",
	 .doc = "label printed with the results"},
	{.key = "seed", .type = T_U64, .offset = SC(seed), .def = "42",
	 .doc = "seed of every random stream; same scenario + seed = same results"},
	{.key = "max_in_flight", .type = T_INT, .offset = SC(max_in_flight), .def = "2000000",
	 .min = 1, .max = 1e9, .flags = F_HAS_MAX,
	 .doc = "most requests waiting or running in the whole fleet at once; an overloaded fleet "
		"turns further arrivals away (counted as rejected:queue_full, and the summary says it "
		"is overloaded), which bounds memory"},
	{.key = "horizon", .type = T_DURATION, .offset = SC(horizon), .def = "1d",
	 .doc = "simulated time (arrivals stop there; requests still in flight are reported unfinished)",
	 .min = 0, .max = 3660.0 * 86400e9, .flags = F_MIN_EXCL | F_HAS_MAX},
	{.key = "engine_mode", .type = T_ENUM, .offset = SC(engine_mode), .def = "fast",
	 .names = llmcap_engine_mode_names,
	 .doc = "fast: runs of decode-only steps advance in one go, results identical to exact "
		"(FLOPs and bytes moved to a relative 1e-12); exact: one event per step, the "
		"reference (`llmcap run --exact-steps`)"},
	{.key = "workload", .type = T_SECTION, .sub = &workload_section, .doc = "the traffic"},
	{.key = "hardware", .type = T_SECTION, .sub = &hardware_section, .doc = "the fleet"},
	{.key = "pools", .type = T_MAP, .offset = SC(pools), .count_offset = SC(n_pools),
	 .elem_size = sizeof(struct llmcap_pool_cfg), .max_count = LLMCAP_MAX_POOLS,
	 .sub = &pool_section, .doc = "pools of identical replicas, by name (at least one)"},
	{.key = "cost", .type = T_SECTION, .sub = &cost_section, .doc = "owned hardware vs API"},
	{.key = "output", .type = T_SECTION, .sub = &output_section, .doc = "what a run writes"},
	{.key = "sweep", .type = T_SECTION, .sub = &sweep_section,
	 .doc = "what `llmcap sweep` varies (docs/sweeps.md); a run ignores it"},
};
static const struct section scenario_section = SECTION(scenario_fields);

/* ---- the catalog schema ---- */

#define MS(member) offsetof(struct llmcap_model_spec, member)
#define GS(member) offsetof(struct llmcap_gpu_spec, member)
#define POSINT(k, m, d) \
	{.key = k, .type = T_INT, .offset = MS(m), .def = d, .doc = d, .min = 1, .max = 1 << 30, \
	 .flags = F_HAS_MAX}

static const struct field model_fields[] = {
	{.key = "source", .type = T_STR, .offset = MS(source), .size = 512, .def = "",
	 .doc = "where the numbers come from"},
	POSINT("layers", layers, "1"),
	POSINT("hidden_size", hidden_size, "1"),
	POSINT("num_attention_heads", num_attention_heads, "1"),
	POSINT("num_key_value_heads", num_key_value_heads, "1"),
	POSINT("head_dim", head_dim, "1"),
	POSINT("intermediate_size", intermediate_size, "1"),
	POSINT("vocab_size", vocab_size, "1"),
	POSINT("max_position_embeddings", max_position_embeddings, "1"),
	{.key = "tie_word_embeddings", .type = T_BOOL, .offset = MS(tie_word_embeddings),
	 .def = "false", .doc = ""},
	{.key = "num_experts", .type = T_INT, .offset = MS(num_experts), .def = "0", .doc = "",
	 .min = 0, .max = 4096, .flags = F_HAS_MAX},
	{.key = "experts_per_token", .type = T_INT, .offset = MS(experts_per_token), .def = "0",
	 .doc = "", .min = 0, .max = 4096, .flags = F_HAS_MAX},
#define ZINT(k, m) \
	{.key = k, .type = T_INT, .offset = MS(m), .def = "0", .doc = "", .min = 0, .max = 1 << 30, \
	 .flags = F_HAS_MAX}
	ZINT("moe_intermediate_size", moe_intermediate_size),
	ZINT("num_shared_experts", num_shared_experts),
	ZINT("first_dense_layers", first_dense_layers),
	ZINT("kv_lora_rank", kv_lora_rank),
	ZINT("q_lora_rank", q_lora_rank),
	ZINT("qk_nope_head_dim", qk_nope_head_dim),
	ZINT("qk_rope_head_dim", qk_rope_head_dim),
	ZINT("v_head_dim", v_head_dim),
#undef ZINT
};
static const struct section model_section = SECTION(model_fields);

#define FRACTION(k, off) \
	{.key = k, .type = T_DOUBLE, .offset = off, .def = "1", .doc = "", .min = 0, .max = 1, \
	 .flags = F_MIN_EXCL | F_HAS_MAX}
#define GPUNUM(k, m, t) \
	{.key = k, .type = t, .offset = GS(m), .def = "0", .doc = "", .min = 0, .max = HUGE_VAL}
static const struct field gpu_fields[] = {
	{.key = "source", .type = T_STR, .offset = GS(source), .size = 1024, .def = "", .doc = ""},
	GPUNUM("memory", memory, T_BYTES),
	GPUNUM("hbm_bandwidth", hbm_bandwidth, T_DOUBLE),
	GPUNUM("bf16_tflops", bf16_tflops, T_DOUBLE),
	GPUNUM("fp8_tflops", fp8_tflops, T_DOUBLE),
	GPUNUM("int8_tflops", int8_tflops, T_DOUBLE),
	{.key = "interconnect", .type = T_STR, .offset = GS(interconnect), .size = LLMCAP_NAME_MAX,
	 .def = "", .doc = ""},
	GPUNUM("nvlink_bandwidth", nvlink_bandwidth, T_DOUBLE),
	GPUNUM("tdp_watts", tdp_watts, T_DOUBLE),
	GPUNUM("idle_watts", idle_watts, T_DOUBLE),
	FRACTION("gemm_efficiency", GS(gemm_efficiency)),
	GPUNUM("gemm_half_tokens", gemm_half_tokens, T_DOUBLE),
	FRACTION("hbm_efficiency", GS(hbm_efficiency)),
	{.key = "layer_latency", .type = T_DURATION, .offset = GS(layer_latency), .def = "0ns",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	FRACTION("attention_efficiency", GS(attention_efficiency)),
	{.key = "allreduce_latency", .type = T_DURATION, .offset = GS(allreduce_latency),
	 .def = "0ns", .doc = "", .min = 0, .max = HUGE_VAL},
	GPUNUM("allreduce_bandwidth", allreduce_bandwidth, T_DOUBLE),
};
static const struct section gpu_section = SECTION(gpu_fields);

#define ES(member) offsetof(struct llmcap_engine_spec, member)
static const struct field engine_fields[] = {
	{.key = "source", .type = T_STR, .offset = ES(source), .size = 1024, .def = "", .doc = ""},
	{.key = "step_overhead", .type = T_DURATION, .offset = ES(step_overhead), .def = "0ns",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	{.key = "seq_overhead", .type = T_DURATION, .offset = ES(seq_overhead), .def = "0ns",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	FRACTION("attention_bw_efficiency", ES(attention_bw_efficiency)),
	{.key = "eager_layer_overhead", .type = T_DURATION, .offset = ES(eager_layer_overhead),
	 .def = "0ns", .doc = "", .min = 0, .max = HUGE_VAL},
};
static const struct section engine_section = SECTION(engine_fields);

static const struct field catalog_models_root = {
	.key = "models", .type = T_MAP, .offset = offsetof(struct llmcap_catalog, models),
	.count_offset = offsetof(struct llmcap_catalog, n_models),
	.elem_size = sizeof(struct llmcap_model_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &model_section};
static const struct field catalog_gpus_root = {
	.key = "gpus", .type = T_MAP, .offset = offsetof(struct llmcap_catalog, gpus),
	.count_offset = offsetof(struct llmcap_catalog, n_gpus),
	.elem_size = sizeof(struct llmcap_gpu_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &gpu_section};
#define PS(member) offsetof(struct llmcap_price_spec, member)
static const struct field price_spec_fields[] = {
	{.key = "source", .type = T_STR, .offset = PS(source), .size = 512, .def = "", .doc = ""},
	{.key = "input", .type = T_DOUBLE, .offset = PS(input), .def = "0", .doc = "", .min = 0,
	 .max = HUGE_VAL},
	{.key = "output", .type = T_DOUBLE, .offset = PS(output), .def = "0", .doc = "", .min = 0,
	 .max = HUGE_VAL},
};
static const struct section price_spec_section = SECTION(price_spec_fields);
static const struct field catalog_prices_root = {
	.key = "prices", .type = T_MAP, .offset = offsetof(struct llmcap_catalog, prices),
	.count_offset = offsetof(struct llmcap_catalog, n_prices),
	.elem_size = sizeof(struct llmcap_price_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &price_spec_section};

static const struct field catalog_engines_root = {
	.key = "engines", .type = T_MAP, .offset = offsetof(struct llmcap_catalog, engines),
	.count_offset = offsetof(struct llmcap_catalog, n_engines),
	.elem_size = sizeof(struct llmcap_engine_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &engine_section};

/* ---- scalar conversion ---- */

static void *at(void *base, size_t off)
{
	return (char *)base + off;
}

static const void *cat_(const void *base, size_t off)
{
	return (const char *)base + off;
}

static bool is_null_text(const char *s)
{
	return strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

static const char *type_expectation(const struct field *f)
{
	switch (f->type) {
	case T_STR: return "a string";
	case T_INT: return f->flags & F_AUTO ? "an integer or auto" : "an integer";
	case T_U64: return "a non-negative integer";
	case T_DOUBLE: return f->flags & F_NULL ? "a number or null" : "a number";
	case T_BOOL: return "true or false";
	case T_DURATION:
		return f->flags & F_AUTO ? "a duration with a unit (ns, us, ms, s, min, h, d, w), e.g. "
					   "500ms, or auto"
					 : "a duration with a unit (ns, us, ms, s, min, h, d, w), e.g. 500ms";
	case T_RATE:
		return f->flags & F_NULL ? "a rate with a unit, e.g. 50000/day, 35/min, 0.5/s, or null"
					 : "a rate with a unit, e.g. 50000/day, 35/min, 0.5/s";
	case T_BYTES: return "a size, e.g. 80GiB, 81559MiB, 1.5GB or a number of bytes";
	case T_ENUM: return "one of the listed names";
	case T_SECTION: return "a mapping";
	case T_MAP: return "a mapping of names to entries";
	case T_DIST: return "a mapping such as {dist: lognormal, median: 600, sigma: 0.8}";
	case T_LIST: return "a list of numbers, e.g. [1, 2.5, 3]";
	case T_PATH: return "a file name";
	case T_SPECMAP: return "a mapping of keys to a list or a SPEC such as 10:200:10/s";
	}
	return "a value";
}

/* Describes the numeric range for messages, in the field's own unit. */
static void range_text(const struct field *f, char *buf, size_t n)
{
	char lo[64], hi[64] = "";
	bool has_max = (f->flags & F_HAS_MAX) != 0;
	/* a bound that is not set may be infinite: only format the ones in the message */
	if (f->type == T_DURATION) {
		llmcap_format_duration((llmcap_time)f->min, lo, sizeof lo);
		if (has_max)
			llmcap_format_duration((llmcap_time)f->max, hi, sizeof hi);
	} else {
		llmcap_format_double(f->min, lo, sizeof lo);
		if (has_max)
			llmcap_format_double(f->max, hi, sizeof hi);
	}
	const char *what = (f->type == T_INT) ? "an integer" : "a value";
	if (has_max)
		snprintf(buf, n, "%s %s %s and <= %s", what, (f->flags & F_MIN_EXCL) ? ">" : ">=",
			 lo, hi);
	else
		snprintf(buf, n, "%s %s %s", what, (f->flags & F_MIN_EXCL) ? ">" : ">=", lo);
}

static bool in_range(const struct field *f, double v)
{
	if (f->min == 0 && f->max == 0)
		return true; /* no range given */
	if ((f->flags & F_MIN_EXCL) ? !(v > f->min) : !(v >= f->min))
		return false;
	if ((f->flags & F_HAS_MAX) && !(v <= f->max))
		return false;
	return true;
}

/* Converts text into the field's storage. On failure writes what was expected into `why`. */
static int convert_scalar(const struct field *f, const char *s, void *dst, char *why, size_t wn)
{
	double v = 0;
	switch (f->type) {
	case T_STR:
	case T_PATH: {
		if (strlen(s) >= f->size) {
			snprintf(why, wn, "a string of at most %zu characters", f->size - 1);
			return -1;
		}
		if (is_null_text(s))
			s = "";
		strcpy(dst, s);
		return 0;
	}
	case T_BOOL:
		if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
			*(bool *)dst = true;
		else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
			*(bool *)dst = false;
		else
			goto type_error;
		return 0;
	case T_ENUM:
		for (int i = 0; f->names[i]; i++)
			if (!strcmp(s, f->names[i])) {
				*(int *)dst = i;
				return 0;
			}
		{
			size_t k = (size_t)snprintf(why, wn, "one of:");
			for (int i = 0; f->names[i] && k < wn; i++)
				k += (size_t)snprintf(why + k, wn - k, " %s", f->names[i]);
		}
		return -1;
	case T_U64: {
		char *end;
		errno = 0;
		if (*s == '-' || !*s)
			goto type_error;
		unsigned long long u = strtoull(s, &end, 10);
		if (*end || errno)
			goto type_error;
		*(uint64_t *)dst = u;
		return 0;
	}
	case T_INT: {
		int64_t i;
		if ((f->flags & F_AUTO) && !strcmp(s, "auto")) {
			*(int64_t *)dst = 0;
			return 0;
		}
		if (llmcap_parse_int(s, &i) != 0)
			goto type_error;
		if (!in_range(f, (double)i))
			goto range_error;
		*(int64_t *)dst = i;
		return 0;
	}
	case T_DOUBLE:
		if ((f->flags & F_NULL) && is_null_text(s)) {
			*(double *)dst = NAN;
			return 0;
		}
		if (llmcap_parse_double(s, &v) != 0)
			goto type_error;
		break;
	case T_RATE:
		if ((f->flags & F_NULL) && is_null_text(s)) {
			*(double *)dst = NAN;
			return 0;
		}
		if (llmcap_parse_rate(s, &v) != 0)
			goto type_error;
		break;
	case T_BYTES:
		if (llmcap_parse_bytes(s, &v) != 0)
			goto type_error;
		break;
	case T_DURATION: {
		llmcap_time t;
		if ((f->flags & F_AUTO) && !strcmp(s, "auto")) {
			*(llmcap_time *)dst = -1;
			return 0;
		}
		if (llmcap_parse_duration(s, &t) != 0)
			goto type_error;
		if (!in_range(f, (double)t))
			goto range_error;
		*(llmcap_time *)dst = t;
		return 0;
	}
	default:
		goto type_error;
	}
	if (!in_range(f, v))
		goto range_error;
	*(double *)dst = v;
	return 0;
type_error:
	snprintf(why, wn, "%s", type_expectation(f));
	return -1;
range_error:
	range_text(f, why, wn);
	return -1;
}

static void format_scalar(const struct field *f, const void *src, char *buf, size_t n)
{
	switch (f->type) {
	case T_STR:
	case T_PATH: snprintf(buf, n, "%s", (const char *)src); return;
	case T_BOOL: snprintf(buf, n, "%s", *(const bool *)src ? "true" : "false"); return;
	case T_ENUM: snprintf(buf, n, "%s", f->names[*(const int *)src]); return;
	case T_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)src); return;
	case T_INT:
		if ((f->flags & F_AUTO) && *(const int64_t *)src == 0)
			snprintf(buf, n, "auto");
		else
			snprintf(buf, n, "%lld", (long long)*(const int64_t *)src);
		return;
	case T_DOUBLE:
		if (isnan(*(const double *)src))
			snprintf(buf, n, "null");
		else
			llmcap_format_double(*(const double *)src, buf, n);
		return;
	case T_BYTES: llmcap_format_double(*(const double *)src, buf, n); return;
	case T_RATE:
		if (isnan(*(const double *)src))
			snprintf(buf, n, "null");
		else
			llmcap_format_rate(*(const double *)src, buf, n);
		return;
	case T_DURATION:
		if ((f->flags & F_AUTO) && *(const llmcap_time *)src < 0)
			snprintf(buf, n, "auto");
		else
			llmcap_format_duration(*(const llmcap_time *)src, buf, n);
		return;
	default: snprintf(buf, n, "?"); return;
	}
}

/* ---- the YAML walker ---- */

struct walk {
	const char *origin;   /* file name, or NULL for an override */
	const char *override; /* the --set argument */
	const char *base_dir; /* relative file names in values are relative to it (NULL: cwd) */
	struct llmcap_error *err;
};

static void where(const struct walk *w, struct fy_node *n, char *buf, size_t len)
{
	if (!w->origin) {
		snprintf(buf, len, "--set '%s'", w->override);
		return;
	}
	struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
	if (m)
		snprintf(buf, len, "%s:%d:%d", w->origin, m->line + 1, m->column + 1);
	else
		snprintf(buf, len, "%s", w->origin);
}

static int fail(const struct walk *w, struct fy_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const struct walk *w, struct fy_node *n, const char *fmt, ...)
{
	char loc[600], msg[800];
	where(w, n, loc, sizeof loc);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return llmcap_errorf(w->err, LLMCAP_EINVAL, "%s: %s", loc, msg);
}

static void join(char *out, size_t n, const char *path, const char *key)
{
	if (path && *path)
		snprintf(out, n, "%s.%s", path, key);
	else
		snprintf(out, n, "%s", key);
}

static const char *kind_name(struct fy_node *n)
{
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING: return "a mapping";
	case FYNT_SEQUENCE: return "a list";
	default: return "a scalar";
	}
}

static void list_keys(const struct section *s, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", s->fields[i].key);
}

static int apply_section(const struct walk *w, const struct section *s, void *base,
			 struct fy_node *map, const char *path, struct fy_node *keynode);
static void set_defaults(const struct section *s, void *base);

static int apply_scalar(const struct walk *w, const struct field *f, void *dst,
			struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_scalar(val))
		return fail(w, keynode, "%s: expected %s, got %s", path, type_expectation(f),
			    kind_name(val));
	const char *s = fy_node_get_scalar0(val);
	char why[256];
	if (!s)
		return llmcap_errorf(w->err, LLMCAP_ENOMEM, "out of memory");
	if (convert_scalar(f, s, dst, why, sizeof why) != 0)
		return fail(w, val, "%s: '%s' is not valid; expected %s", path, s, why);
	return 0;
}

/* Makes a file name given in a scenario absolute: a relative name is relative to the scenario
 * file's folder (the current directory for the built-in scenario and for --set), so that a
 * scenario and its data move together and `llmcap config` output loads from anywhere. The file
 * must be readable now: the error points at the value. */
static int resolve_path(const struct walk *w, struct fy_node *v, const char *path,
			const char *name, char *out, size_t n)
{
	char joined[2 * LLMCAP_PATH_MAX + 2];
	if (name[0] == '/' || !w->base_dir || !*w->base_dir)
		snprintf(joined, sizeof joined, "%s", name);
	else
		snprintf(joined, sizeof joined, "%s/%s", w->base_dir, name);
	char *real = realpath(joined, NULL);
	FILE *f = real ? fopen(real, "rb") : NULL;
	if (!f) {
		int e = errno;
		free(real);
		return fail(w, v, "%s: cannot open '%s': %s; expected a readable file (relative names "
			    "are relative to the scenario file's folder)", path, joined, strerror(e));
	}
	fclose(f);
	if (strlen(real) >= n) {
		free(real);
		return fail(w, v, "%s: '%s' is longer than %zu characters", path, joined, n - 1);
	}
	strcpy(out, real);
	free(real);
	return 0;
}

/* Reads a list of numbers into `dst` (capacity f->max_count); returns the count. */
static int apply_numbers(const struct walk *w, const struct field *f, double *dst, size_t *count,
			 struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (fy_node_is_scalar(val) && is_null_text(fy_node_get_scalar0(val))) {
		*count = 0;
		return 0;
	}
	if (!fy_node_is_sequence(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode, "%s: expected %s, got %s", path,
			    type_expectation(f), kind_name(val));
	int n = fy_node_sequence_item_count(val);
	if (n < 0 || (size_t)n > f->max_count ||
	    (n != 0 && f->len_a && (size_t)n != f->len_a && (size_t)n != f->len_b)) {
		if (f->len_a && f->len_a != f->len_b)
			return fail(w, keynode, "%s: %d numbers; expected %zu or %zu (or an empty list)",
				    path, n, f->len_a, f->len_b);
		if (f->len_a)
			return fail(w, keynode, "%s: %d numbers; expected %zu (or an empty list)", path,
				    n, f->len_a);
		return fail(w, keynode, "%s: %d numbers; expected at most %zu", path, n, f->max_count);
	}
	const struct field elem = {.type = T_DOUBLE, .min = f->min, .max = f->max,
				   .flags = f->flags & (F_MIN_EXCL | F_HAS_MAX)};
	double tmp[LLMCAP_HIST_MAX + LLMCAP_HOURS_PER_WEEK];
	assert(f->max_count <= sizeof tmp / sizeof tmp[0]);
	for (int i = 0; i < n; i++) {
		struct fy_node *item = fy_node_sequence_get_by_index(val, i);
		char p[280];
		snprintf(p, sizeof p, "%s[%d]", path, i);
		if (apply_scalar(w, &elem, &tmp[i], item, item, p) != 0)
			return -LLMCAP_EINVAL;
	}
	memcpy(dst, tmp, (size_t)n * sizeof *dst);
	*count = (size_t)n;
	return 0;
}

static int apply_list(const struct walk *w, const struct field *f, void *base, struct fy_node *val,
		      struct fy_node *keynode, const char *path)
{
	double tmp[LLMCAP_HOURS_PER_WEEK];
	size_t n;
	int rc = apply_numbers(w, f, tmp, &n, val, keynode, path);
	if (rc)
		return rc;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += tmp[i];
	if (n > 0 && !(sum > 0))
		return fail(w, keynode, "%s: every value is 0; expected at least one positive rate", path);
	memcpy(at(base, f->offset), tmp, n * sizeof tmp[0]);
	*(size_t *)at(base, f->count_offset) = n;
	return 0;
}

static char *read_text(const char *path, size_t *len, const char *what, struct llmcap_error *err);

/* A file name; a rate profile's values are read at once, so that a bad file is reported at the
 * scenario's line. */
static int apply_path(const struct walk *w, const struct field *f, void *base, struct fy_node *val,
		      struct fy_node *keynode, const char *path)
{
	char name[LLMCAP_PATH_MAX];
	const struct field tf = {.type = T_PATH, .size = sizeof name};
	if (apply_scalar(w, &tf, name, val, keynode, path) != 0)
		return -LLMCAP_EINVAL;
	char *dst = at(base, f->offset);
	if (!*name) {
		dst[0] = '\0';
	} else if (resolve_path(w, val, path, name, dst, f->size) != 0) {
		return -LLMCAP_EINVAL;
	}
	if (!(f->flags & F_PROFILE))
		return 0;
	struct llmcap_diurnal_cfg *dc = base;
	dc->n_file_hours = 0;
	if (!*dst)
		return 0;
	struct llmcap_error perr = {0};
	size_t len;
	char *text = read_text(dst, &len, "profile file", &perr);
	int rc = text ? llmcap_profile_parse(text, dst, dc->file_hours, &dc->n_file_hours, &perr) : -1;
	free(text);
	if (rc)
		return fail(w, val, "%s: %s", path, perr.msg);
	return 0;
}

/* Distribution keys valid per kind, in the order they are written. */
static const char *const dist_keys[][8] = {
	[LLMCAP_DIST_FIXED] = {"dist", "value", NULL},
	[LLMCAP_DIST_UNIFORM] = {"dist", "min", "max", NULL},
	[LLMCAP_DIST_LOGNORMAL] = {"dist", "median", "sigma", "mean", "p99", "min", "max", NULL},
	[LLMCAP_DIST_NORMAL] = {"dist", "mean", "sd", "min", "max", NULL},
	[LLMCAP_DIST_GEOMETRIC] = {"dist", "mean", "min", "max", NULL},
	[LLMCAP_DIST_ZIPF] = {"dist", "exponent", "min", "max", NULL},
	[LLMCAP_DIST_HISTOGRAM] = {"dist", "edges", "weights", "min", "max", NULL},
	[LLMCAP_DIST_TRACE] = {"dist", "file", "column", "min", "max", NULL},
};

/* The z-score of the 99th percentile of a standard normal. */
#define Z99 2.3263478740408408

static int apply_dist(const struct walk *w, struct llmcap_dist *d, struct fy_node *val,
		      struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_mapping(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode,
			    "%s: expected a mapping such as {dist: lognormal, median: 600, sigma: 0.8}, got %s",
			    path, kind_name(val));
	struct fy_node *kn = fy_node_mapping_lookup_by_string(val, "dist", FY_NT);
	struct llmcap_dist nd = *d;
	bool fresh = false;
	if (kn) {
		static const struct field kf = {.key = "dist", .type = T_ENUM, .names = llmcap_dist_names};
		char p[256];
		join(p, sizeof p, path, "dist");
		int kind;
		if (apply_scalar(w, &kf, &kind, kn, kn, p) != 0)
			return -LLMCAP_EINVAL;
		if ((enum llmcap_dist_kind)kind != d->kind) {
			fresh = true;
			memset(&nd, 0, sizeof nd);
			nd.kind = (enum llmcap_dist_kind)kind;
			nd.value = nd.median = nd.sigma = nd.mean = nd.sd = nd.exponent = NAN;
			nd.min = 1;
			nd.max = 131072;
		}
	}
	bool have_min = false, have_max = false, have_edges = false, have_weights = false;
	size_t n_edges = 0, n_weights = 0;
	double ln_mean = NAN, ln_p99 = NAN;
	struct fy_node *ln_node = NULL, *hist_node = NULL;
	bool ln_classic = false;
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(val, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *key = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!key)
			return fail(w, k, "%s: keys must be plain names", path);
		if (!strcmp(key, "dist"))
			continue;
		bool valid = false;
		for (int i = 0; dist_keys[nd.kind][i]; i++)
			valid |= !strcmp(key, dist_keys[nd.kind][i]);
		if (!valid) {
			char keys[128] = "";
			for (int i = 0; dist_keys[nd.kind][i]; i++)
				snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s",
					 i ? ", " : "", dist_keys[nd.kind][i]);
			return fail(w, k, "unknown key '%s' in %s (a %s distribution); valid keys: %s",
				    key, path, llmcap_dist_names[nd.kind], keys);
		}
		char p[256];
		join(p, sizeof p, path, key);
		if (!v)
			return fail(w, k, "%s: missing value", p);
		static const struct field pos = {.type = T_DOUBLE, .min = 0, .max = 1e9,
						 .flags = F_MIN_EXCL | F_HAS_MAX};
		if (!strcmp(key, "value")) {
			double x;
			if (apply_scalar(w, &pos, &x, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (x != floor(x))
				return fail(w, v, "%s: '%s' is not valid; expected a whole number of tokens", p,
					    fy_node_get_scalar0(v));
			nd.value = x;
		} else if (!strcmp(key, "median")) {
			if (apply_scalar(w, &pos, &nd.median, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			ln_classic = true;
		} else if (!strcmp(key, "sigma")) {
			static const struct field sg = {.type = T_DOUBLE, .min = 0, .max = 10,
							.flags = F_HAS_MAX};
			if (apply_scalar(w, &sg, &nd.sigma, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			ln_classic = true;
		} else if (!strcmp(key, "mean")) {
			double x;
			if (apply_scalar(w, &pos, &x, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (nd.kind == LLMCAP_DIST_GEOMETRIC && x < 1)
				return fail(w, v, "%s: '%s' is not valid; expected a value >= 1 (lengths start "
					    "at 1 token)", p, fy_node_get_scalar0(v));
			if (nd.kind == LLMCAP_DIST_LOGNORMAL) {
				ln_mean = x;
				ln_node = k;
			} else {
				nd.mean = x;
			}
		} else if (!strcmp(key, "p99")) {
			if (apply_scalar(w, &pos, &ln_p99, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			ln_node = k;
		} else if (!strcmp(key, "sd")) {
			static const struct field sd = {.type = T_DOUBLE, .min = 0, .max = 1e9,
							.flags = F_HAS_MAX};
			if (apply_scalar(w, &sd, &nd.sd, v, k, p) != 0)
				return -LLMCAP_EINVAL;
		} else if (!strcmp(key, "exponent")) {
			static const struct field ex = {.type = T_DOUBLE, .min = 0, .max = 20,
							.flags = F_MIN_EXCL | F_HAS_MAX};
			if (apply_scalar(w, &ex, &nd.exponent, v, k, p) != 0)
				return -LLMCAP_EINVAL;
		} else if (!strcmp(key, "edges") || !strcmp(key, "weights")) {
			bool edges = !strcmp(key, "edges");
			const struct field lf = {.type = T_LIST, .min = 0, .max = edges ? 1 << 24 : HUGE_VAL,
						 .flags = F_HAS_MAX,
						 .max_count = edges ? LLMCAP_HIST_MAX + 1 : LLMCAP_HIST_MAX};
			size_t n;
			if (apply_numbers(w, &lf, edges ? nd.edges : nd.weights, &n, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			hist_node = k;
			if (edges) {
				for (size_t i = 0; i < n; i++)
					if (nd.edges[i] != floor(nd.edges[i]) || (i && nd.edges[i] <= nd.edges[i - 1]))
						return fail(w, v, "%s: edge %zu (%g) is not valid; expected whole "
							    "numbers of tokens in increasing order", p, i, nd.edges[i]);
				have_edges = true;
				n_edges = n;
			} else {
				have_weights = true;
				n_weights = n;
			}
		} else if (!strcmp(key, "file")) {
			char name[LLMCAP_PATH_MAX];
			const struct field tf = {.type = T_PATH, .size = sizeof name};
			if (apply_scalar(w, &tf, name, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (!*name)
				return fail(w, v, "%s: empty; expected a CSV file name", p);
			if (resolve_path(w, v, p, name, nd.file, sizeof nd.file) != 0)
				return -LLMCAP_EINVAL;
			nd.data = NULL;
			nd.n_data = 0;
		} else if (!strcmp(key, "column")) {
			const struct field cf = {.type = T_STR, .size = sizeof nd.column};
			if (apply_scalar(w, &cf, nd.column, v, k, p) != 0)
				return -LLMCAP_EINVAL;
		} else { /* min, max */
			static const struct field mm = {.type = T_INT, .min = 1, .max = 1 << 24,
							.flags = F_HAS_MAX};
			if (apply_scalar(w, &mm, !strcmp(key, "min") ? (void *)&nd.min : (void *)&nd.max,
					 v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (!strcmp(key, "min"))
				have_min = true;
			else
				have_max = true;
		}
	}
	/* A new kind must bring its own parameters; a merge (override) keeps the old ones. */
	struct fy_node *at_node = kn ? kn : keynode;
	if (nd.kind == LLMCAP_DIST_LOGNORMAL && (!isnan(ln_mean) || !isnan(ln_p99))) {
		/* mean = exp(mu + s^2 / 2) and p99 = exp(mu + z s) give s^2 / 2 - z s + ln(p99 / mean)
		 * = 0; the smaller root is the one with p99 above the mean for any s < z. */
		if (ln_classic)
			return fail(w, ln_node, "%s: give median and sigma, or mean and p99, not both", path);
		if (isnan(ln_mean) || isnan(ln_p99))
			return fail(w, ln_node, "%s: a lognormal given by its mean needs 'mean' and 'p99'", path);
		double r = log(ln_p99 / ln_mean);
		if (!(r > 0))
			return fail(w, ln_node, "%s: p99 (%g) must be above the mean (%g) for a lognormal",
				    path, ln_p99, ln_mean);
		if (r > Z99 * Z99 / 2)
			return fail(w, ln_node, "%s: p99 / mean = %g; a lognormal reaches at most %.2f "
				    "(expected a smaller p99 or a larger mean)", path, ln_p99 / ln_mean,
				    exp(Z99 * Z99 / 2));
		nd.sigma = Z99 - sqrt(Z99 * Z99 - 2 * r);
		nd.median = ln_mean * exp(-nd.sigma * nd.sigma / 2);
	}
	if (nd.kind == LLMCAP_DIST_FIXED && isnan(nd.value))
		return fail(w, at_node, "%s: a fixed distribution needs 'value'", path);
	if (nd.kind == LLMCAP_DIST_UNIFORM && fresh && !(have_min && have_max))
		return fail(w, at_node, "%s: a uniform distribution needs 'min' and 'max'", path);
	if (nd.kind == LLMCAP_DIST_LOGNORMAL && (isnan(nd.median) || isnan(nd.sigma)))
		return fail(w, at_node,
			    "%s: a lognormal distribution needs 'median' and 'sigma' (or 'mean' and 'p99')",
			    path);
	if (nd.kind == LLMCAP_DIST_NORMAL && (isnan(nd.mean) || isnan(nd.sd)))
		return fail(w, at_node, "%s: a normal distribution needs 'mean' and 'sd'", path);
	if (nd.kind == LLMCAP_DIST_GEOMETRIC && isnan(nd.mean))
		return fail(w, at_node, "%s: a geometric distribution needs 'mean'", path);
	if (nd.kind == LLMCAP_DIST_ZIPF && isnan(nd.exponent))
		return fail(w, at_node, "%s: a zipf distribution needs 'exponent'", path);
	if (nd.kind == LLMCAP_DIST_HISTOGRAM) {
		if (fresh && !(have_edges && have_weights))
			return fail(w, at_node, "%s: a histogram needs 'edges' and 'weights'", path);
		if (have_edges != have_weights)
			return fail(w, at_node, "%s: give 'edges' and 'weights' together", path);
		if (have_weights && n_weights > 0 && n_edges != n_weights + 1)
			return fail(w, hist_node, "%s: %zu edges and %zu weights; expected one edge more "
				    "than weights (bin i is [edges[i], edges[i+1]))", path, n_edges, n_weights);
		if (have_weights)
			nd.n_bins = n_weights;
		if (nd.n_bins == 0)
			return fail(w, hist_node ? hist_node : at_node,
				    "%s: empty histogram; expected at least one bin (edges: [a, b], weights: [w])",
				    path);
		double sum = 0;
		for (size_t i = 0; i < nd.n_bins; i++)
			sum += nd.weights[i];
		if (!(sum > 0))
			return fail(w, hist_node, "%s: every weight is 0; expected at least one positive "
				    "weight", path);
	}
	if (nd.kind == LLMCAP_DIST_TRACE && (!*nd.file || !*nd.column))
		return fail(w, at_node, "%s: a trace distribution needs 'file' and 'column'", path);
	if (nd.min > nd.max)
		return fail(w, at_node, "%s: min (%lld) is greater than max (%lld)", path,
			    (long long)nd.min, (long long)nd.max);
	if (nd.kind == LLMCAP_DIST_FIXED)
		nd.min = nd.max = (int64_t)nd.value;
	*d = nd;
	return 0;
}

static int check_name(const struct walk *w, struct fy_node *k, const char *name, const char *path)
{
	size_t n = strlen(name);
	if (n == 0 || n >= LLMCAP_NAME_MAX)
		return fail(w, k, "%s: name '%s' must have 1 to %d characters", path, name,
			    LLMCAP_NAME_MAX - 1);
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return fail(w, k, "%s: name '%s' may only hold letters, digits, '-', '_' and '.'",
				    path, name);
	return 0;
}

static int apply_map(const struct walk *w, const struct field *f, void *base,
		     struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_mapping(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode, "%s: expected %s, got %s", path,
			    type_expectation(f), kind_name(val));
	char *arr = at(base, f->offset);
	size_t *count = at(base, f->count_offset);
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(val, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *name = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!name)
			return fail(w, keynode, "%s: entry names must be plain names", path);
		if (check_name(w, k, name, path) != 0)
			return -LLMCAP_EINVAL;
		char p[256];
		join(p, sizeof p, path, name);
		char *entry = NULL;
		for (size_t i = 0; i < *count; i++)
			if (!strcmp(arr + i * f->elem_size, name))
				entry = arr + i * f->elem_size;
		if (!entry) {
			if (*count == f->max_count)
				return fail(w, k, "%s: too many entries; at most %zu", path, f->max_count);
			entry = arr + (*count)++ * f->elem_size;
			memset(entry, 0, f->elem_size);
			set_defaults(f->sub, entry);
			strcpy(entry, name); /* every map entry starts with its name */
			/* and, where it has one, the place it was defined (for cross-checks) */
			char loc[160];
			where(w, k, loc, sizeof loc);
			if (f->sub == &class_section)
				snprintf(((struct llmcap_class_cfg *)(void *)entry)->where, 160, "%s", loc);
			else if (f->sub == &pool_section)
				snprintf(((struct llmcap_pool_cfg *)(void *)entry)->where, 160, "%s", loc);
			else if (f->sub == &price_section)
				snprintf(((struct llmcap_price_cfg *)(void *)entry)->where, 160, "%s", loc);
			else if (f->sub == &trace_model_section)
				snprintf(((struct llmcap_trace_model_cfg *)(void *)entry)->where, 160, "%s", loc);
		}
		if (fy_node_is_scalar(v) && is_null_text(fy_node_get_scalar0(v)))
			continue; /* "name: ~" declares an entry with all defaults */
		int rc = apply_section(w, f->sub, entry, v, p, k);
		if (rc)
			return rc;
	}
	return 0;
}

/* sweep.vary and sweep.sets: each entry is a key path (or a set name) and a scalar SPEC or a
 * list of scalars, stored as text joined with commas (as `--vary` takes them). A vary SPEC is
 * parsed now, so that a bad one is reported at its line; named sets are resolved by the sweep,
 * which has the catalog. An entry given again replaces the earlier one in its place; null
 * removes it. */
static const char *const reserved_sets[] = {"gpus", "models", "engines", "prices", "all", NULL};

static int apply_specmap(const struct walk *w, const struct field *f, void *base,
			 struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_mapping(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode, "%s: expected %s, got %s", path,
			    type_expectation(f), kind_name(val));
	bool is_vary = !strcmp(f->key, "vary");
	struct llmcap_sweep_entry *arr = at(base, f->offset);
	size_t *count = at(base, f->count_offset);
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(val, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *name = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!name)
			return fail(w, keynode, "%s: entry names must be plain names", path);
		size_t nl = strlen(name);
		if (nl == 0 || nl >= sizeof arr->name)
			return fail(w, k, "%s: '%s' must have 1 to %zu characters", path, name,
				    sizeof arr->name - 1);
		for (const char *c = name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
			      (*c == '.' && is_vary)))
				return fail(w, k, "%s: '%s' may only hold letters, digits, '-', '_'%s", path,
					    name, is_vary ? " and '.' (a key path such as workload.rate)" : "");
		for (int r = 0; !is_vary && reserved_sets[r]; r++)
			if (!strcmp(name, reserved_sets[r]))
				return fail(w, k, "%s: '%s' is a built-in set (@gpus, @models, @engines, "
					    "@prices, @all); choose another name", path, name);
		char p[400];
		snprintf(p, sizeof p, "%s.%s", path, name);
		size_t idx = *count;
		for (size_t i = 0; i < *count; i++)
			if (!strcmp(arr[i].name, name))
				idx = i;
		if (!v || (fy_node_is_scalar(v) && is_null_text(fy_node_get_scalar0(v)))) {
			if (idx < *count) {
				memmove(&arr[idx], &arr[idx + 1], (*count - idx - 1) * sizeof *arr);
				(*count)--;
			}
			continue;
		}
		char spec[LLMCAP_SWEEP_SPEC_MAX];
		size_t len = 0;
		if (fy_node_is_scalar(v)) {
			const char *t = fy_node_get_scalar0(v);
			if (!t)
				return llmcap_errorf(w->err, LLMCAP_ENOMEM, "out of memory");
			if (!*t || strlen(t) >= sizeof spec)
				return fail(w, v, "%s: '%s' is %s", p, t,
					    *t ? "too long (1023 characters at most)" : "empty");
			if (!is_vary)
				return fail(w, v, "%s: expected a list of values, e.g. [h100-sxm-80gb, "
					    "h200-141gb], got a scalar", p);
			len = (size_t)snprintf(spec, sizeof spec, "%s", t);
		} else if (fy_node_is_sequence(v)) {
			int n = fy_node_sequence_item_count(v);
			if (n <= 0)
				return fail(w, k, "%s: an empty list; expected at least one value", p);
			for (int i = 0; i < n; i++) {
				struct fy_node *item = fy_node_sequence_get_by_index(v, i);
				const char *t = fy_node_is_scalar(item) ? fy_node_get_scalar0(item) : NULL;
				if (!t || !*t || strchr(t, ',') || strlen(t) >= LLMCAP_SWEEP_VALUE_MAX ||
				    (!is_vary && t[0] == '@'))
					return fail(w, item && fy_node_is_scalar(item) ? item : k,
						    "%s[%d]: expected a value of 1 to %d "
						    "characters without commas%s, got %s%.80s%s", p, i,
						    LLMCAP_SWEEP_VALUE_MAX - 1,
						    is_vary ? "" : " (a set cannot name another set)",
						    t ? "'" : kind_name(item), t ? t : "", t ? "'" : "");
				if (len + strlen(t) + 2 > sizeof spec)
					return fail(w, k, "%s: the list is too long (1023 characters at most)", p);
				len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%s", i ? "," : "", t);
			}
		} else {
			return fail(w, k, "%s: expected a list or a SPEC, got %s%s", p, kind_name(v),
				    is_vary && fy_node_is_mapping(v)
					    ? " (a varied key is one dotted name: sweep.vary: {workload.rate: "
					      "SPEC}; on the command line, --vary KEY=SPEC)"
					    : "");
		}
		if (is_vary) {
			/* the same parser as --vary: a bad range is reported here, at its line */
			char arg[sizeof arr->name + sizeof spec + 2];
			snprintf(arg, sizeof arg, "%s=%s", name, spec);
			struct llmcap_sweep_axis ax;
			struct llmcap_error perr = {0};
			if (llmcap_sweep_parse_axis(arg, &ax, &perr) != 0)
				return fail(w, fy_node_is_scalar(v) ? v : k, "%s: %s", p, perr.msg);
			free(ax.values);
		}
		if (idx == *count) {
			if (*count == f->max_count)
				return fail(w, k, "%s: too many entries; at most %zu", path, f->max_count);
			(*count)++;
		}
		struct llmcap_sweep_entry *e = &arr[idx];
		memset(e, 0, sizeof *e);
		snprintf(e->name, sizeof e->name, "%s", name);
		snprintf(e->spec, sizeof e->spec, "%s", spec);
		where(w, k, e->where, sizeof e->where);
	}
	return 0;
}

static int apply_section(const struct walk *w, const struct section *s, void *base,
			 struct fy_node *map, const char *path, struct fy_node *keynode)
{
	if (!fy_node_is_mapping(map))
		return fail(w, fy_node_is_scalar(map) ? map : keynode, "%s: expected a mapping, got %s",
			    *path ? path : "top level", kind_name(map));
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *key = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!key)
			return fail(w, keynode, "%s: keys must be plain names", *path ? path : "top level");
		const struct field *f = NULL;
		for (size_t i = 0; i < s->n; i++)
			if (!strcmp(s->fields[i].key, key))
				f = &s->fields[i];
		if (!f) {
			char keys[512];
			list_keys(s, keys, sizeof keys);
			return fail(w, k, "unknown key '%s' in %s; valid keys: %s", key,
				    *path ? path : "the top level", keys);
		}
		char p[256];
		join(p, sizeof p, path, key);
		int rc;
		if (!v)
			return fail(w, k, "%s: missing value", p);
		struct fy_node *altv = f->alt ? fy_node_mapping_lookup_by_string(map, f->alt, FY_NT) : NULL;
		if (altv && !(fy_node_is_scalar(altv) && is_null_text(fy_node_get_scalar0(altv))) &&
		    !(fy_node_is_scalar(v) && is_null_text(fy_node_get_scalar0(v)))) {
			char q[256];
			join(q, sizeof q, path, f->alt);
			return fail(w, k, "%s and %s are alternatives; expected one of them", p, q);
		}
		switch (f->type) {
		case T_SECTION: rc = apply_section(w, f->sub, at(base, f->offset), v, p, k); break;
		case T_MAP: rc = apply_map(w, f, base, v, k, p); break;
		case T_DIST: rc = apply_dist(w, at(base, f->offset), v, k, p); break;
		case T_LIST: rc = apply_list(w, f, base, v, k, p); break;
		case T_PATH: rc = apply_path(w, f, base, v, k, p); break;
		case T_SPECMAP: rc = apply_specmap(w, f, base, v, k, p); break;
		default: rc = apply_scalar(w, f, at(base, f->offset), v, k, p); break;
		}
		if (rc)
			return rc;
		/* Giving one of two alternatives (rate, tokens_per_month) unsets the other, so that
		 * an override of either replaces what the file said. */
		if (f->alt && !isnan(*(double *)at(base, f->offset)))
			for (size_t i = 0; i < s->n; i++)
				if (!strcmp(s->fields[i].key, f->alt))
					*(double *)at(base, s->fields[i].offset) = NAN;
	}
	return 0;
}

/* ---- defaults ---- */

struct diag_capture {
	char text[512];
	bool got;
};

static void diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	struct diag_capture *c = user;
	/* Skip blank lines and libfyaml's unlocated summaries ("[ERR]: ... failed"): an empty or
	 * comment-only document produces only those. */
	if (c->got || len == 0 || buf[0] == '\n' || buf[0] == '[')
		return;
	/* libfyaml writes "<memory-@...>:L:C: error: message\n" then the source line and a
	 * caret; keep the first line only, without libfyaml's own name for the input. */
	size_t n = len < sizeof c->text - 1 ? len : sizeof c->text - 1;
	memcpy(c->text, buf, n);
	c->text[n] = '\0';
	char *nl = strchr(c->text, '\n');
	if (nl)
		*nl = '\0';
	c->got = true;
}

/* Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) or is a NUL; len when the text is clean. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			lo = c == 0xE0 ? 0xA0 : 0x80;
			hi = c == 0xED ? 0x9F : 0xBF;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			lo = c == 0xF0 ? 0x90 : 0x80;
			hi = c == 0xF4 ? 0x8F : 0xBF;
		} else {
			return i;
		}
		if (i + n >= len) /* truncated sequence */
			return i;
		for (size_t k = 1; k <= n; k++) {
			unsigned b = s[i + k];
			if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
				return i;
		}
		i += n + 1;
	}
	return len;
}

/* Parses YAML text. On a syntax error returns NULL with err set; an empty document gives
 * *empty = true and NULL. */
static struct fy_document *parse_yaml(const char *text, size_t len, const char *origin,
				      const char *override, bool *empty, struct llmcap_error *err)
{
	/* YAML is Unicode text; libfyaml 0.8 also loops forever on some invalid bytes (a
	 * directive name with a byte >= 0x80 that is not UTF-8: "%\xff"), so they stop here */
	*empty = false;
	size_t bad = utf8_invalid_at((const unsigned char *)text, len);
	if (bad < len) {
		int line = 1, col = 1;
		for (size_t i = 0; i < bad; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
				col++;
			}
		}
		unsigned byte = (unsigned char)text[bad];
		if (origin)
			llmcap_errorf(err, LLMCAP_EINVAL, "%s:%d:%d: byte 0x%02X is not UTF-8 text; "
				      "expected a UTF-8 YAML file", origin, line, col, byte);
		else
			llmcap_errorf(err, LLMCAP_EINVAL, "--set: byte 0x%02X is not UTF-8 text; "
				      "expected a UTF-8 value", byte);
		return NULL;
	}
	struct diag_capture cap = {.got = false};
	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_out;
	dc.user = &cap;
	dc.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dc);
	if (!diag)
		return NULL;
	struct fy_parse_cfg pc;
	memset(&pc, 0, sizeof pc);
	pc.flags = FYPCF_QUIET;
	pc.diag = diag;
	struct fy_document *doc = fy_document_build_from_string(&pc, text, len);
	*empty = false;
	struct fy_node *root = doc ? fy_document_root(doc) : NULL;
	if (root && fy_node_is_scalar(root) && is_null_text(fy_node_get_scalar0(root)))
		root = NULL; /* "~" alone: an empty document */
	if (!root) {
		if (cap.got) {
			/* "<memory-@..>:4:1: error: flow sequence without a closing bracket" */
			const char *msg = cap.text;
			const char *gt = strstr(msg, ">:");
			if (msg[0] == '<' && gt)
				msg = gt + 2;
			/* "4:1: error: text" -> "4:1: text" */
			char clean[512];
			const char *e = strstr(msg, " error: ");
			if (e && (size_t)(e - msg) < 24) {
				snprintf(clean, sizeof clean, "%.*s %s", (int)(e - msg), msg, e + 8);
				msg = clean;
			}
			if (origin)
				llmcap_errorf(err, LLMCAP_EINVAL, "%s:%s (YAML syntax)", origin, msg);
			else
				llmcap_errorf(err, LLMCAP_EINVAL, "--set '%s': %s (YAML syntax)", override,
					      msg);
		} else {
			*empty = true;
		}
		fy_document_destroy(doc);
		doc = NULL;
	}
	fy_diag_destroy(diag);
	return doc;
}

static void set_field_default(const struct field *f, void *base)
{
	char why[256];
	switch (f->type) {
	case T_SECTION: set_defaults(f->sub, at(base, f->offset)); return;
	case T_MAP: *(size_t *)at(base, f->count_offset) = 0; return;
	case T_LIST: *(size_t *)at(base, f->count_offset) = 0; return;
	case T_SPECMAP: *(size_t *)at(base, f->count_offset) = 0; return;
	case T_DIST: {
		bool empty;
		struct fy_document *doc =
			parse_yaml(f->def, strlen(f->def), "default", NULL, &empty, NULL);
		assert(doc);
		struct walk w = {.origin = "default"};
		struct llmcap_dist *d = at(base, f->offset);
		d->kind = (enum llmcap_dist_kind)-1;
		int rc = apply_dist(&w, d, fy_document_root(doc), NULL, f->key);
		assert(rc == 0);
		(void)rc;
		fy_document_destroy(doc);
		return;
	}
	default: {
		int rc = convert_scalar(f, f->def, at(base, f->offset), why, sizeof why);
		assert(rc == 0 && "schema default does not parse");
		(void)rc;
	}
	}
}

static void set_defaults(const struct section *s, void *base)
{
	for (size_t i = 0; i < s->n; i++)
		set_field_default(&s->fields[i], base);
}

void llmcap_scenario_defaults(struct llmcap_scenario *sc)
{
	memset(sc, 0, sizeof *sc);
	set_defaults(&scenario_section, sc);
}

int llmcap_scenario_apply_yaml(struct llmcap_scenario *sc, const char *text, size_t len,
			       const char *origin, struct llmcap_error *err)
{
	bool empty;
	struct fy_document *doc = parse_yaml(text, len, origin, NULL, &empty, err);
	if (!doc)
		return empty ? 0 : -LLMCAP_EINVAL;
	/* File names in a scenario file are relative to its folder; the built-in scenario has
	 * none of its own, so its names are relative to the current directory. */
	char dir[LLMCAP_PATH_MAX] = "";
	const char *slash = strrchr(origin, '/');
	if (slash && strcmp(origin, LLMCAP_DEFAULT_SCENARIO_NAME) != 0)
		snprintf(dir, sizeof dir, "%.*s", slash == origin ? 1 : (int)(slash - origin), origin);
	struct walk w = {.origin = origin, .base_dir = dir, .err = err};
	int rc = apply_section(&w, &scenario_section, sc, fy_document_root(doc), "", NULL);
	fy_document_destroy(doc);
	return rc;
}

int llmcap_scenario_apply_override(struct llmcap_scenario *sc, const char *assignment,
				   struct llmcap_error *err)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return llmcap_errorf(err, LLMCAP_EUSAGE,
				     "--set '%s': expected path.to.key=value, e.g. workload.rate=80000/day",
				     assignment);
	/* "a.b.c=v" becomes the YAML "{a: {b: {c: v}}}" and is applied like a file. */
	size_t plen = (size_t)(eq - assignment);
	size_t cap = 2 * plen + strlen(eq) + 16;
	char *yaml = malloc(cap);
	if (!yaml)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	size_t k = 0;
	int depth = 1;
	yaml[k++] = '{';
	for (const char *c = assignment; c < eq; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
		if (!ok || (*c == '.' && (c == assignment || c[1] == '.' || c + 1 == eq))) {
			free(yaml);
			return llmcap_errorf(err, LLMCAP_EUSAGE,
					     "--set '%s': '%.*s' is not a key path; expected names "
					     "separated by dots, e.g. pools.reasoning.dtype",
					     assignment, (int)plen, assignment);
		}
		if (*c == '.') {
			memcpy(yaml + k, ": {", 3);
			k += 3;
			depth++;
		} else {
			yaml[k++] = *c;
		}
	}
	k += (size_t)snprintf(yaml + k, cap - k, ": %s", eq + 1);
	while (depth--)
		yaml[k++] = '}';
	yaml[k] = '\0';
	bool empty;
	int rc = 0;
	struct fy_document *doc = parse_yaml(yaml, k, NULL, assignment, &empty, err);
	if (!doc) {
		rc = empty ? llmcap_errorf(err, LLMCAP_EUSAGE, "--set '%s': empty", assignment)
			   : -LLMCAP_EINVAL;
	} else {
		struct walk w = {.origin = NULL, .override = assignment, .err = err};
		rc = apply_section(&w, &scenario_section, sc, fy_document_root(doc), "", NULL);
		fy_document_destroy(doc);
	}
	free(yaml);
	return rc;
}

static char *read_text(const char *path, size_t *len, const char *what, struct llmcap_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		llmcap_errorf(err, LLMCAP_EIO, "%s: cannot open %s: %s", path, what, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap > ((size_t)64 << 20)) {
			llmcap_errorf(err, LLMCAP_EINVAL, "%s: larger than 64 MiB; not a %s", path,
				      what);
			free(buf);
			buf = NULL;
			break;
		}
		char *nb = realloc(buf, cap *= 2);
		if (!nb) {
			free(buf);
			buf = NULL;
		}
		buf = nb;
	}
	if (buf && ferror(f)) {
		llmcap_errorf(err, LLMCAP_EIO, "%s: read error: %s", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n < cap ? n : cap - 1] = '\0';
		*len = n;
	} else if (err && !err->code) {
		llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
	}
	return buf;
}

static int scenario_load(struct llmcap_scenario *sc, const char *path,
			 const char *const *overrides, size_t n_overrides,
			 const struct llmcap_catalog *cat, bool check, struct llmcap_error *err)
{
	llmcap_scenario_defaults(sc);
	int rc;
	if (path) {
		size_t len;
		if (err)
			err->code = 0;
		char *text = read_text(path, &len, "scenario file", err);
		if (!text)
			return -(err ? err->code : LLMCAP_EIO);
		rc = llmcap_scenario_apply_yaml(sc, text, len, path, err);
		free(text);
	} else {
		rc = llmcap_scenario_apply_yaml(sc, llmcap_builtin_default_scenario,
						strlen(llmcap_builtin_default_scenario),
						LLMCAP_DEFAULT_SCENARIO_NAME, err);
	}
	for (size_t i = 0; rc == 0 && i < n_overrides; i++)
		rc = llmcap_scenario_apply_override(sc, overrides[i], err);
	if (rc == 0)
		rc = llmcap_scenario_read_traces(sc, err);
	/* prices taken from the catalog */
	for (size_t i = 0; rc == 0 && i < sc->cost.api.n_prices; i++) {
		struct llmcap_price_cfg *pc = &sc->cost.api.prices[i];
		if (!pc->from[0])
			continue;
		const struct llmcap_price_spec *ps = llmcap_catalog_price(cat, pc->from);
		if (!ps) {
			char names[1024] = "";
			for (size_t k = 0; k < cat->n_prices; k++)
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
					 k ? ", " : "", cat->prices[k].name);
			rc = llmcap_errorf(err, LLMCAP_EINVAL,
					   "%s: cost.api.prices.%s.from: '%s' is not in the price catalog; "
					   "expected one of: %s",
					   pc->where, pc->name, pc->from, names);
			break;
		}
		pc->input = ps->input;
		pc->output = ps->output;
	}
	if (rc == 0 && check)
		rc = llmcap_scenario_check(sc, cat, err);
	if (rc)
		llmcap_scenario_free(sc);
	return rc;
}

int llmcap_scenario_load(struct llmcap_scenario *sc, const char *path,
			 const char *const *overrides, size_t n_overrides,
			 const struct llmcap_catalog *cat, struct llmcap_error *err)
{
	return scenario_load(sc, path, overrides, n_overrides, cat, true, err);
}

int llmcap_scenario_load_unchecked(struct llmcap_scenario *sc, const char *path,
				   const char *const *overrides, size_t n_overrides,
				   const struct llmcap_catalog *cat, struct llmcap_error *err)
{
	return scenario_load(sc, path, overrides, n_overrides, cat, false, err);
}

void llmcap_scenario_free(struct llmcap_scenario *sc)
{
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		/* a joint pair shares one allocation, owned by the prompt: see below */
		if (!llmcap_class_lengths_joint(cl))
			free(cl->output.data);
		free(cl->prompt.data);
		cl->prompt.data = cl->output.data = NULL;
		cl->prompt.n_data = cl->output.n_data = 0;
	}
}

int llmcap_scenario_read_traces(struct llmcap_scenario *sc, struct llmcap_error *err)
{
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		struct llmcap_dist *d[2] = {&cl->prompt, &cl->output};
		bool joint = llmcap_class_lengths_joint(cl);
		for (int i = 0; i < 2; i++) {
			if (d[i]->kind != LLMCAP_DIST_TRACE || d[i]->data)
				continue;
			const char *cols[2] = {d[i]->column, joint ? d[1]->column : NULL};
			int32_t *data;
			size_t n;
			struct llmcap_error terr = {0};
			int rc = llmcap_trace_read_columns(d[i]->file, cols, joint ? 2 : 1, &data, &n, &terr);
			if (rc)
				return llmcap_errorf(err, -rc, "%s: workload.classes.%s.%s: %s", cl->where,
						     cl->name, i ? "output" : "prompt", terr.msg);
			/* joint: one allocation, prompt column then output column */
			d[i]->data = data;
			d[i]->n_data = n;
			if (joint) {
				d[1]->data = data + n;
				d[1]->n_data = n;
			}
		}
	}
	return 0;
}

/* ---- catalog ---- */

static int load_catalog_map(const struct field *root, struct llmcap_catalog *cat,
			    const char *text, const char *origin, struct llmcap_error *err)
{
	bool empty;
	struct fy_document *doc = parse_yaml(text, strlen(text), origin, NULL, &empty, err);
	if (!doc)
		return empty ? 0 : -LLMCAP_EINVAL;
	struct walk w = {.origin = origin, .err = err};
	int rc = apply_map(&w, root, cat, fy_document_root(doc), NULL, root->key);
	fy_document_destroy(doc);
	return rc;
}

int llmcap_catalog_load_builtin(struct llmcap_catalog *cat, struct llmcap_error *err)
{
	memset(cat, 0, sizeof *cat);
	int rc = load_catalog_map(&catalog_models_root, cat, llmcap_builtin_models_yaml,
				  "models/catalog/models.yaml", err);
	if (rc == 0)
		rc = load_catalog_map(&catalog_gpus_root, cat, llmcap_builtin_gpus_yaml,
				      "models/catalog/gpus.yaml", err);
	if (rc == 0)
		rc = load_catalog_map(&catalog_engines_root, cat, llmcap_builtin_engines_yaml,
				      "models/catalog/engines.yaml", err);
	if (rc == 0)
		rc = load_catalog_map(&catalog_prices_root, cat, llmcap_builtin_prices_yaml,
				      "models/catalog/prices.yaml", err);
	return rc;
}

const struct llmcap_price_spec *llmcap_catalog_price(const struct llmcap_catalog *cat,
						     const char *name)
{
	for (size_t i = 0; i < cat->n_prices; i++)
		if (!strcmp(cat->prices[i].name, name))
			return &cat->prices[i];
	return NULL;
}

const struct llmcap_model_spec *llmcap_catalog_model(const struct llmcap_catalog *cat,
						     const char *name)
{
	for (size_t i = 0; i < cat->n_models; i++)
		if (!strcmp(cat->models[i].name, name))
			return &cat->models[i];
	return NULL;
}

const struct llmcap_engine_spec *llmcap_catalog_engine(const struct llmcap_catalog *cat,
						       const char *name)
{
	for (size_t i = 0; i < cat->n_engines; i++)
		if (!strcmp(cat->engines[i].name, name))
			return &cat->engines[i];
	return NULL;
}

const struct llmcap_gpu_spec *llmcap_catalog_gpu(const struct llmcap_catalog *cat,
						 const char *name)
{
	for (size_t i = 0; i < cat->n_gpus; i++)
		if (!strcmp(cat->gpus[i].name, name))
			return &cat->gpus[i];
	return NULL;
}

/* ---- writing ---- */

static void write_numbers(const double *v, size_t n, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "[");
	for (size_t i = 0; i < n && k < len; i++) {
		char x[64];
		llmcap_format_double(v[i], x, sizeof x);
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", x);
	}
	if (k < len)
		snprintf(buf + k, len - k, "]");
}

static void yaml_string(const char *s, char *buf, size_t n);

static void write_dist(const struct llmcap_dist *d, char *buf, size_t n)
{
	char a[64], b[64], e[4096], w[4096], f[LLMCAP_PATH_MAX + 8], c[LLMCAP_NAME_MAX + 8];
	size_t k = 0;
	switch (d->kind) {
	case LLMCAP_DIST_FIXED:
		llmcap_format_double(d->value, a, sizeof a);
		snprintf(buf, n, "{dist: fixed, value: %s}", a);
		return;
	case LLMCAP_DIST_UNIFORM:
		snprintf(buf, n, "{dist: uniform, min: %lld, max: %lld}", (long long)d->min,
			 (long long)d->max);
		return;
	case LLMCAP_DIST_LOGNORMAL:
		llmcap_format_double(d->median, a, sizeof a);
		llmcap_format_double(d->sigma, b, sizeof b);
		k = (size_t)snprintf(buf, n, "{dist: lognormal, median: %s, sigma: %s", a, b);
		break;
	case LLMCAP_DIST_NORMAL:
		llmcap_format_double(d->mean, a, sizeof a);
		llmcap_format_double(d->sd, b, sizeof b);
		k = (size_t)snprintf(buf, n, "{dist: normal, mean: %s, sd: %s", a, b);
		break;
	case LLMCAP_DIST_GEOMETRIC:
		llmcap_format_double(d->mean, a, sizeof a);
		k = (size_t)snprintf(buf, n, "{dist: geometric, mean: %s", a);
		break;
	case LLMCAP_DIST_ZIPF:
		llmcap_format_double(d->exponent, a, sizeof a);
		k = (size_t)snprintf(buf, n, "{dist: zipf, exponent: %s", a);
		break;
	case LLMCAP_DIST_HISTOGRAM:
		write_numbers(d->edges, d->n_bins + 1, e, sizeof e);
		write_numbers(d->weights, d->n_bins, w, sizeof w);
		k = (size_t)snprintf(buf, n, "{dist: histogram, edges: %s, weights: %s", e, w);
		break;
	case LLMCAP_DIST_TRACE:
		yaml_string(d->file, f, sizeof f);
		yaml_string(d->column, c, sizeof c);
		k = (size_t)snprintf(buf, n, "{dist: trace, file: %s, column: %s", f, c);
		break;
	}
	if (k < n)
		snprintf(buf + k, n - k, ", min: %lld, max: %lld}", (long long)d->min, (long long)d->max);
}

/* Quotes a string scalar when YAML would read it as something else. */
static void yaml_string(const char *s, char *buf, size_t n)
{
	bool plain = *s != '\0';
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			plain = false;
	if (plain && !is_null_text(s) && strcmp(s, "true") && strcmp(s, "false"))
		snprintf(buf, n, "%s", s);
	else {
		size_t k = 0;
		buf[k++] = '"';
		for (const char *c = s; *c && k + 3 < n; c++) {
			if (*c == '"' || *c == '\\')
				buf[k++] = '\\';
			buf[k++] = *c;
		}
		buf[k++] = '"';
		buf[k] = '\0';
	}
}

static void write_section(const struct section *s, const void *base, FILE *out, int indent,
			  bool comments)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct field *f = &s->fields[i];
		char line[9000], val[8192];
		if (f->type == T_SECTION) {
			fprintf(out, "%*s%s:\n", indent, "", f->key);
			write_section(f->sub, cat_(base, f->offset), out, indent + 2, comments);
			continue;
		}
		if (f->type == T_MAP) {
			size_t count = *(const size_t *)cat_(base, f->count_offset);
			fprintf(out, "%*s%s:%s\n", indent, "", f->key, count ? "" : " {}");
			for (size_t e = 0; e < count; e++) {
				const char *entry = (const char *)cat_(base, f->offset) + e * f->elem_size;
				yaml_string(entry, val, sizeof val);
				fprintf(out, "%*s%s:\n", indent + 2, "", val);
				write_section(f->sub, entry, out, indent + 4, comments);
			}
			continue;
		}
		if (f->type == T_SPECMAP) {
			size_t count = *(const size_t *)cat_(base, f->count_offset);
			fprintf(out, "%*s%s:%s\n", indent, "", f->key, count ? "" : " {}");
			for (size_t e = 0; e < count; e++) {
				const struct llmcap_sweep_entry *en =
					(const struct llmcap_sweep_entry *)cat_(base, f->offset) + e;
				char name[300];
				yaml_string(en->name, name, sizeof name);
				if (!strcmp(f->key, "sets")) {
					/* a set is a list: write it as one, each value quoted as needed */
					size_t k = (size_t)snprintf(val, sizeof val, "[");
					for (const char *p = en->spec; p && k < sizeof val;) {
						const char *c = strchr(p, ',');
						char item[LLMCAP_SWEEP_VALUE_MAX], q[2 * LLMCAP_SWEEP_VALUE_MAX + 4];
						snprintf(item, sizeof item, "%.*s", c ? (int)(c - p) : (int)strlen(p), p);
						yaml_string(item, q, sizeof q);
						k += (size_t)snprintf(val + k, sizeof val - k, "%s%s", p == en->spec ? "" : ", ", q);
						p = c ? c + 1 : NULL;
					}
					if (k < sizeof val)
						snprintf(val + k, sizeof val - k, "]");
				} else {
					yaml_string(en->spec, val, sizeof val);
				}
				fprintf(out, "%*s%s: %s\n", indent + 2, "", name, val);
			}
			continue;
		}
		if (f->type == T_DIST)
			write_dist(cat_(base, f->offset), val, sizeof val);
		else if (f->type == T_LIST)
			write_numbers(cat_(base, f->offset), *(const size_t *)cat_(base, f->count_offset),
				      val, sizeof val);
		else if ((f->type == T_STR || f->type == T_PATH) && !*(const char *)cat_(base, f->offset) &&
			 f->def && !strcmp(f->def, "null"))
			snprintf(val, sizeof val, "null");
		else if (f->type == T_STR || f->type == T_PATH)
			yaml_string(cat_(base, f->offset), val, sizeof val);
		else
			format_scalar(f, cat_(base, f->offset), val, sizeof val);
		int w = snprintf(line, sizeof line, "%*s%s: %s", indent, "", f->key, val);
		if (comments && f->doc && *f->doc)
			fprintf(out, "%-48s # %s\n", line, f->doc);
		else
			fprintf(out, "%s\n", line);
		(void)w;
	}
}

void llmcap_scenario_write_yaml(const struct llmcap_scenario *sc, FILE *out, bool comments)
{
	write_section(&scenario_section, sc, out, 0, comments);
}

static const char *type_name(const struct field *f)
{
	switch (f->type) {
	case T_STR: return "string";
	case T_INT: return "integer";
	case T_U64: return "integer";
	case T_DOUBLE: return "number";
	case T_BOOL: return "boolean";
	case T_DURATION: return "duration";
	case T_RATE: return "rate";
	case T_BYTES: return "size";
	case T_ENUM: return "name";
	case T_SECTION: return "mapping";
	case T_MAP: return "map of entries";
	case T_DIST: return "distribution";
	case T_LIST: return "list of numbers";
	case T_PATH: return "file name";
	case T_SPECMAP: return "map of lists or SPECs";
	}
	return "";
}

static void schema_rows(const struct section *s, const char *path, FILE *out)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct field *f = &s->fields[i];
		char p[256], def[256] = "", extra[256] = "";
		join(p, sizeof p, path, f->key);
		if (f->type == T_MAP || f->type == T_SPECMAP)
			strcat(p, ".NAME");
		if (f->def)
			snprintf(def, sizeof def, "`%s`", f->def[0] ? f->def : "\"\"");
		else if (f->type == T_MAP || f->type == T_SPECMAP)
			snprintf(def, sizeof def, "empty");
		if (f->type == T_ENUM) {
			size_t k = (size_t)snprintf(extra, sizeof extra, " (");
			for (int e = 0; f->names[e]; e++)
				k += (size_t)snprintf(extra + k, sizeof extra - k, "%s`%s`", e ? ", " : "",
						      f->names[e]);
			snprintf(extra + k, sizeof extra - k, ")");
		} else if ((f->min != 0 || f->max != 0) && f->type != T_SECTION && f->type != T_MAP &&
			   f->type != T_LIST) {
			char r[128];
			range_text(f, r, sizeof r);
			snprintf(extra, sizeof extra, " (%s)", r);
		}
		fprintf(out, "| `%s` | %s%s | %s | %s |\n", p, type_name(f), extra, def, f->doc);
		if (f->type == T_SECTION || f->type == T_MAP)
			schema_rows(f->sub, p, out);
	}
}

void llmcap_scenario_write_schema(FILE *out)
{
	fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
	schema_rows(&scenario_section, "", out);
}

/* ---- the values of a key ---- */

int llmcap_schema_key_values(const char *key, const struct llmcap_catalog *cat,
			     const char **names, size_t max)
{
	const struct section *s = &scenario_section;
	const struct field *f = NULL;
	const char *p = key;
	bool want_name = false;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0)
			return -1;
		if (want_name) {
			/* an entry name of a map (pools.NAME.dtype): any name */
			want_name = false;
		} else {
			if (f && f->type != T_SECTION && f->type != T_MAP)
				return -1;
			const struct field *found = NULL;
			for (size_t i = 0; i < s->n; i++)
				if (strlen(s->fields[i].key) == len && !strncmp(s->fields[i].key, p, len))
					found = &s->fields[i];
			if (!found)
				return -1;
			f = found;
			if (f->type == T_SECTION || f->type == T_MAP) {
				s = f->sub;
				want_name = f->type == T_MAP;
			}
		}
		p += len;
		if (*p)
			p++;
		else if (key[strlen(key) - 1] == '.')
			return -1;
	}
	if (!f || want_name || f->type == T_SECTION || f->type == T_MAP)
		return -1;
	size_t n = 0;
	if (f->type == T_ENUM) {
		for (; f->names[n]; n++)
			if (n < max)
				names[n] = f->names[n];
	} else if (f->type == T_BOOL) {
		static const char *const bools[] = {"false", "true"};
		for (; n < 2; n++)
			if (n < max)
				names[n] = bools[n];
	} else if (f->catalog && cat) {
		const char *base = NULL;
		size_t count = 0, stride = 0;
		if (!strcmp(f->catalog, "gpus")) {
			base = cat->gpus[0].name, count = cat->n_gpus, stride = sizeof cat->gpus[0];
		} else if (!strcmp(f->catalog, "models")) {
			base = cat->models[0].name, count = cat->n_models, stride = sizeof cat->models[0];
		} else if (!strcmp(f->catalog, "engines")) {
			base = cat->engines[0].name, count = cat->n_engines, stride = sizeof cat->engines[0];
		} else if (!strcmp(f->catalog, "prices")) {
			base = cat->prices[0].name, count = cat->n_prices, stride = sizeof cat->prices[0];
		}
		for (; n < count; n++)
			if (n < max)
				names[n] = base + n * stride;
	}
	return (int)(n < max ? n : max);
}

/* ---- cross-field checks ---- */

static void list_names(const char *base, size_t n, size_t stride, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", base + i * stride);
}

static int check_diurnal(const char *where, const char *what, const struct llmcap_diurnal_cfg *d,
			 struct llmcap_error *err)
{
	const char *sep = *where ? ": " : "";
	if (d->shape == LLMCAP_DIURNAL_TABLE && d->n_hours == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s%s%s.diurnal.shape: table needs %s.diurnal.hours: a list of 24 "
				     "(hour of day) or 168 (hour of week) rates", where, sep, what, what);
	if (d->shape == LLMCAP_DIURNAL_FILE && d->n_file_hours == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s%s%s.diurnal.shape: file needs %s.diurnal.file: a profile file "
				     "of 24 or 168 rows", where, sep, what, what);
	if (d->n_days > 0 && d->weekend_factor != 1.0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s%s%s.diurnal: days and weekend_factor both given; expected one "
				     "of them (days sets every weekday's factor)", where, sep, what);
	return 0;
}

/* A class that takes trace rows: one with arrival: shared. */
static int check_trace_class(const struct llmcap_scenario *sc, const char *key, const char *name,
			     const char *where, struct llmcap_error *err)
{
	char names[512] = "";
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		if (cl->arrival != LLMCAP_ARRIVAL_SHARED)
			continue;
		if (!strcmp(cl->name, name))
			return 0;
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? ", " : "",
			 cl->name);
	}
	return llmcap_errorf(err, LLMCAP_EINVAL,
			     "%s%s%s: '%s' is not a class with arrival: shared; expected one of: %s",
			     where, *where ? ": " : "", key, name, names);
}

static int check_trace(const struct llmcap_scenario *sc, struct llmcap_error *err)
{
	const struct llmcap_trace_cfg *t = &sc->workload.trace;
	size_t shared = 0;
	for (size_t c = 0; c < sc->workload.n_classes; c++)
		shared += sc->workload.classes[c].arrival == LLMCAP_ARRIVAL_SHARED;
	if (shared == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.file: no class takes the trace's rows; expected at "
				     "least one class with arrival: shared (classes with their own "
				     "arrival stay synthetic)");
	if (isnan(t->speedup) && isnan(t->rate))
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.speedup and workload.trace.rate are both null; "
				     "expected one of them");
	if (t->end > 0 && t->end <= t->start)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.end (%.9g s) is not after start (%.9g s); expected "
				     "end > start, or 0s for the file's end",
				     (double)t->end * 1e-9, (double)t->start * 1e-9);
	int rc = 0;
	if (t->cls[0])
		rc = check_trace_class(sc, "workload.trace.class", t->cls, "", err);
	if (rc == 0 && t->assign == LLMCAP_ASSIGN_RULE) {
		if (t->long_prompt_tokens <= 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "workload.trace.assign: rule needs workload.trace.long_prompt_tokens "
					     "> 0 and workload.trace.long_prompt_class");
		rc = check_trace_class(sc, "workload.trace.long_prompt_class", t->long_prompt_class, "",
				       err);
	}
	for (size_t i = 0; rc == 0 && t->assign == LLMCAP_ASSIGN_COLUMN && i < t->n_models; i++) {
		char key[LLMCAP_NAME_MAX + 48];
		snprintf(key, sizeof key, "workload.trace.models.%s.class", t->models[i].name);
		rc = check_trace_class(sc, key, t->models[i].cls, t->models[i].where, err);
	}
	if (rc)
		return rc;
	/* the header now, so that an unknown format or a missing column stops the run early */
	struct llmcap_trace_reader rd;
	struct llmcap_error terr = {0};
	rc = llmcap_trace_open(&rd, t->file, t, &terr);
	if (rc)
		return llmcap_errorf(err, -rc, "workload.trace.file: %s", terr.msg);
	bool no_class = t->assign == LLMCAP_ASSIGN_COLUMN && rd.col_class < 0 &&
			rd.fmt != LLMCAP_TRACE_MOONCAKE;
	bool mooncake_column = t->assign == LLMCAP_ASSIGN_COLUMN && rd.fmt == LLMCAP_TRACE_MOONCAKE;
	enum llmcap_trace_format fmt = rd.fmt;
	llmcap_trace_close(&rd);
	if (no_class || mooncake_column)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.assign: column, but %s (%s) has no class column; "
				     "expected workload.trace.class_column naming one, or assign: share "
				     "or rule", t->file, llmcap_trace_format_name(fmt));
	return 0;
}

int llmcap_scenario_check(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			  struct llmcap_error *err)
{
	char names[512];
	if (sc->workload.n_classes == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.classes: no class defined; expected at least one, e.g. "
				     "classes: {chat: {pool: main}}");
	if (sc->n_pools == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "pools: no pool defined; expected at least one, e.g. pools: {main: "
				     "{model: llama-3.1-8b}}");
	double share_sum = 0;
	char shares[512] = "";
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		share_sum += sc->workload.classes[c].share;
		snprintf(shares + strlen(shares), sizeof shares - strlen(shares), "%s%s %g",
			 c ? " + " : "", sc->workload.classes[c].name, sc->workload.classes[c].share);
	}
	if (fabs(share_sum - 1.0) > 1e-9)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: workload.classes: shares sum to %.12g (%s); expected 1",
				     sc->workload.classes[0].where, share_sum, shares);
	if (isnan(sc->workload.rate) && isnan(sc->workload.tokens_per_month))
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.rate and workload.tokens_per_month are both null; expected "
				     "one of them, e.g. rate: 50000/day or tokens_per_month: 2.7e9");
	int prc = check_diurnal("", "workload", &sc->workload.diurnal, err);
	for (size_t c = 0; prc == 0 && c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		char what[LLMCAP_NAME_MAX + 32];
		snprintf(what, sizeof what, "workload.classes.%s", cl->name);
		if (cl->arrival != LLMCAP_ARRIVAL_SHARED)
			prc = check_diurnal(cl->where, what, &cl->diurnal, err);
	}
	if (prc)
		return prc;
	double mean_rate = llmcap_scenario_mean_rate(sc);
	if (!(mean_rate > 0 && mean_rate < 1e9))
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.tokens_per_month: %g tokens at %.6g tokens per request is "
				     "%g requests/s; expected a rate > 0 and < 1e9/s",
				     sc->workload.tokens_per_month, llmcap_scenario_tokens_per_request(sc),
				     mean_rate);
	/* A scenario asking for more requests than any run could process is refused up front
	 * rather than left to run for days (a rate of 1e12/s, say). */
	double expected = llmcap_scenario_mean_rate(sc) * (double)sc->horizon * 1e-9;
	if (isfinite(expected) && expected > 2e9)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload: %.3g requests expected over the horizon (mean rate x "
				     "horizon); expected at most 2e9: lower the rate or shorten the horizon",
				     expected);
	const struct llmcap_gpu_spec *gpu = llmcap_catalog_gpu(cat, sc->hardware.gpu);
	if (!gpu) {
		list_names(cat->gpus[0].name, cat->n_gpus, sizeof cat->gpus[0], names, sizeof names);
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "hardware.gpu: '%s' is not in the catalog; expected one of: %s",
				     sc->hardware.gpu, names);
	}
	list_names(sc->pools[0].name, sc->n_pools, sizeof sc->pools[0], names, sizeof names);
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		const char *pool = cl->pool[0] ? cl->pool : cl->name;
		bool found = false;
		for (size_t p = 0; p < sc->n_pools; p++)
			found |= !strcmp(sc->pools[p].name, pool);
		if (!found)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: workload.classes.%s.pool: '%s' is not a pool; expected one of: %s",
					     cl->where, cl->name, pool, names);
		if (cl->long_prompt_tokens > 0) {
			found = false;
			for (size_t p = 0; p < sc->n_pools; p++)
				found |= !strcmp(sc->pools[p].name, cl->long_prompt_pool);
			if (!found)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: workload.classes.%s.long_prompt_pool: '%s' is not a pool; "
						     "expected one of: %s",
						     cl->where, cl->name, cl->long_prompt_pool, names);
		}
		if (isnan(sc->cost.api.monthly_bill)) {
			bool priced = false;
			for (size_t i = 0; i < sc->cost.api.n_prices; i++)
				priced |= !strcmp(sc->cost.api.prices[i].name, cl->name);
			if (!priced)
				return llmcap_errorf(
					err, LLMCAP_EINVAL,
					"%s: cost.api.prices has no entry for class '%s'; expected "
					"cost.api.prices.%s: {input: USD per 1M, output: USD per 1M} or "
					"cost.api.monthly_bill",
					cl->where, cl->name, cl->name);
		}
	}
	for (size_t i = 0; i < sc->cost.api.n_prices; i++) {
		bool found = false;
		for (size_t c = 0; c < sc->workload.n_classes; c++)
			found |= !strcmp(sc->workload.classes[c].name, sc->cost.api.prices[i].name);
		if (!found)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: cost.api.prices.%s: there is no class '%s'",
					     sc->cost.api.prices[i].where, sc->cost.api.prices[i].name,
					     sc->cost.api.prices[i].name);
	}
	if (sc->workload.trace.file[0]) {
		int trc = check_trace(sc, err);
		if (trc)
			return trc;
	}
	int64_t gpus_needed = 0;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *pl = &sc->pools[p];
		int64_t tp = pl->tensor_parallel_size;
		if (tp != 1 && tp != 2 && tp != 4 && tp != 8)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.tensor_parallel_size: %lld; expected 1, 2, 4 or 8",
					     pl->where, pl->name, (long long)tp);
		if (tp > sc->hardware.gpus_per_server)
			return llmcap_errorf(err, LLMCAP_ECAPACITY,
					     "%s: pools.%s.tensor_parallel_size: %lld exceeds "
					     "hardware.gpus_per_server %lld; expected a replica to fit one server",
					     pl->where, pl->name, (long long)tp,
					     (long long)sc->hardware.gpus_per_server);
		const struct llmcap_model_spec *m = llmcap_catalog_model(cat, pl->model);
		if (!m) {
			char mn[512];
			list_names(cat->models[0].name, cat->n_models, sizeof cat->models[0], mn, sizeof mn);
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.model: '%s' is not in the catalog; expected one of: %s",
					     pl->where, pl->name, pl->model, mn);
		}
		if (m->num_experts > 0 &&
		    (m->experts_per_token < 1 || m->experts_per_token > m->num_experts))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "models/catalog/models.yaml: %s: experts_per_token %lld; expected "
					     "1 to num_experts (%lld)",
					     m->name, (long long)m->experts_per_token,
					     (long long)m->num_experts);
		if (m->first_dense_layers >= m->layers ||
		    (m->num_experts == 0 && (m->first_dense_layers || m->num_shared_experts ||
					     m->moe_intermediate_size)))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "models/catalog/models.yaml: %s: first_dense_layers %lld, "
					     "num_shared_experts %lld, moe_intermediate_size %lld; expected them "
					     "only with num_experts > 0, and fewer dense layers than layers (%lld)",
					     m->name, (long long)m->first_dense_layers,
					     (long long)m->num_shared_experts, (long long)m->moe_intermediate_size,
					     (long long)m->layers);
		if (m->kv_lora_rank > 0 &&
		    (m->qk_nope_head_dim < 1 || m->qk_rope_head_dim < 1 || m->v_head_dim < 1))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "models/catalog/models.yaml: %s: kv_lora_rank %lld needs "
					     "qk_nope_head_dim, qk_rope_head_dim and v_head_dim >= 1",
					     m->name, (long long)m->kv_lora_rank);
		const struct llmcap_engine_spec *eng = llmcap_catalog_engine(cat, pl->engine);
		if (!eng) {
			char en[512];
			list_names(cat->engines[0].name, cat->n_engines, sizeof cat->engines[0], en,
				   sizeof en);
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.engine: '%s' is not in the catalog; expected one of: %s",
					     pl->where, pl->name, pl->engine, en);
		}
		if (pl->perf_model == LLMCAP_PERF_TABLE) {
			/* read the table now, so that a bad file stops the run before it starts */
			struct llmcap_perf pf;
			int trc = llmcap_perf_init(&pf, m, gpu, eng, pl, err);
			llmcap_perf_free(&pf);
			if (trc)
				return trc;
		}
		if (m->num_attention_heads % tp != 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.tensor_parallel_size: %lld does not divide %s's %lld "
					     "attention heads",
					     pl->where, pl->name, (long long)tp, m->name,
					     (long long)m->num_attention_heads);
		if (pl->dtype == LLMCAP_DTYPE_FP8 && gpu->fp8_tflops <= 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.dtype: fp8 needs FP8 tensor cores, which %s lacks",
					     pl->where, pl->name, gpu->name);
		struct llmcap_memory_plan plan;
		int rc = llmcap_memory_plan(m, gpu, pl, &plan, err);
		if (rc)
			return rc;
		gpus_needed += tp * pl->replicas;
	}
	int64_t gpus_have = sc->hardware.servers * sc->hardware.gpus_per_server;
	if (gpus_needed > gpus_have)
		return llmcap_errorf(err, LLMCAP_ECAPACITY,
				     "pools: need %lld GPUs (sum of replicas x tensor_parallel_size) but "
				     "hardware has %lld (%lld servers x %lld); expected more servers or "
				     "fewer replicas",
				     (long long)gpus_needed, (long long)gpus_have,
				     (long long)sc->hardware.servers,
				     (long long)sc->hardware.gpus_per_server);
	/* A replica's TP group lives inside one server: pack replicas largest first (first fit
	 * decreasing is exact for power-of-two sizes). */
	int64_t free_gpus[64] = {0};
	int64_t ns = sc->hardware.servers < 64 ? sc->hardware.servers : 64;
	for (int64_t s = 0; s < ns; s++)
		free_gpus[s] = sc->hardware.gpus_per_server;
	for (int64_t tp = 8; tp >= 1 && sc->hardware.servers <= 64; tp /= 2)
		for (size_t p = 0; p < sc->n_pools; p++) {
			if (sc->pools[p].tensor_parallel_size != tp)
				continue;
			for (int64_t r = 0; r < sc->pools[p].replicas; r++) {
				int64_t s = 0;
				while (s < ns && free_gpus[s] < tp)
					s++;
				if (s == ns)
					return llmcap_errorf(
						err, LLMCAP_ECAPACITY,
						"%s: pools.%s.replicas: replica %lld of tensor_parallel_size %lld "
						"does not fit in any server (%lld servers x %lld GPUs, a replica "
						"cannot span servers); expected more servers or fewer replicas",
						sc->pools[p].where, sc->pools[p].name, (long long)r + 1,
						(long long)tp, (long long)sc->hardware.servers,
						(long long)sc->hardware.gpus_per_server);
				free_gpus[s] -= tp;
			}
		}
	return 0;
}

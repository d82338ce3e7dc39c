/* The scenario's field tables: every key of a scenario file, its type, default, range and
 * documentation, for the schema walker (sim/base/schema.c), and the hooks of the keys that mean
 * more than their value (a rate profile file, a sweep SPEC). The tables are the single source
 * of `llmcap schema`, `llmcap config` and docs/scenario.md. */
#include "fields.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "llmcap/workload.h"

/* ---- hooks: what a field means beyond its value ---- */

/* diurnal.file: a rate profile's values are read at once, so that a bad file is reported at
 * the scenario's line (base is the diurnal section). */
static int read_profile(const struct llmcap_field *f, void *base, const char *path,
			struct llmcap_error *err)
{
	struct llmcap_diurnal_cfg *dc = base;
	dc->n_file_hours = 0;
	if (!*path)
		return 0;
	size_t len;
	char *text = llmcap_read_text(path, &len, "profile file", err);
	int rc = text ? llmcap_profile_parse(text, path, dc->file_hours, &dc->n_file_hours, err) : -1;
	free(text);
	return rc;
}

/* sweep.vary: "KEY=SPEC" through the same parser as --vary, so that a bad range is reported at
 * its line. */
static int check_vary(const struct llmcap_field *f, void *base, const char *arg,
		      struct llmcap_error *err)
{
	struct llmcap_sweep_axis ax;
	if (llmcap_sweep_parse_axis(arg, &ax, err) != 0)
		return -1;
	free(ax.values);
	return 0;
}

/* The names `@NAME` takes built in (resolved by the sweep, which has the catalog): a set in
 * sweep.sets may not take one. */
static const char *const reserved_sets[] = {"gpus", "models", "engines", "prices", "all", NULL};

/* ---- the scenario's field tables ---- */

#define SC(member) offsetof(struct llmcap_scenario, member)
#define CL(member) offsetof(struct llmcap_class_cfg, member)
#define PO(member) offsetof(struct llmcap_pool_cfg, member)
#define PR(member) offsetof(struct llmcap_price_cfg, member)

/* The arrival process and its daily profile: the same keys for the workload's shared stream and
 * for a class with its own stream. Offsets are relative to the sub-structures. */
#define DI(member) offsetof(struct llmcap_diurnal_cfg, member)
#define MM(member) offsetof(struct llmcap_mmpp_cfg, member)

static const struct llmcap_field diurnal_fields[] = {
	{.key = "shape", .type = LLMCAP_T_ENUM, .offset = DI(shape), .def = "smooth",
	 .names = llmcap_diurnal_shape_names,
	 .doc = "none: constant rate; smooth: a daily curve exp(k cos(2 pi (h - peak_hour) / 24)) / I0(k), "
		"mean exactly 1, k chosen so the peak is peak_to_mean; table: the hours list; file: a "
		"profile file; azure-code, azure-conv: hour-of-week profiles of Azure's 2024 LLM traces; "
		"servegen-*: hour-of-day profiles of ServeGen's 14-day aggregates (models/profiles/)"},
	{.key = "peak_to_mean", .type = LLMCAP_T_DOUBLE, .offset = DI(peak_to_mean),
	 .def = "3", .doc = "smooth: busiest instant's rate divided by the mean rate", .min = 1, .max = 50,
	 .flags = LLMCAP_F_HAS_MAX},
	{.key = "peak_hour", .type = LLMCAP_T_DOUBLE, .offset = DI(peak_hour), .def = "14",
	 .doc = "smooth: hour of day (0-24, simulated time starts at midnight) of the peak", .min = 0,
	 .max = 24, .flags = LLMCAP_F_HAS_MAX},
	{.key = "hours", .type = LLMCAP_T_LIST, .offset = DI(hours), .count_offset = DI(n_hours),
	 .max_count = LLMCAP_HOURS_PER_WEEK, .len_a = 24, .len_b = LLMCAP_HOURS_PER_WEEK, .def = "[]",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "table: relative rate of each hour, 24 numbers (hour of day) or 168 (hour of week, "
		"Monday 00:00 first), >= 0; normalised to mean 1, constant within the hour"},
	{.key = "file", .type = LLMCAP_T_PATH, .offset = DI(file), .size = LLMCAP_PATH_MAX, .def = "",
	 .hook = read_profile,
	 .doc = "file: a CSV of 24 or 168 rows whose last column is the rate (# comments and a header "
		"allowed), relative to the scenario file's folder; normalised to mean 1"},
	{.key = "days", .type = LLMCAP_T_LIST, .offset = DI(days), .count_offset = DI(n_days), .max_count = 7,
	 .len_a = 7, .len_b = 7, .def = "[]", .min = 0, .max = HUGE_VAL,
	 .doc = "relative rate of each day of the week, Monday first (7 numbers >= 0, empty: none); "
		"multiplies any shape, and the product is normalised to mean 1 over the week"},
	{.key = "weekend_factor", .type = LLMCAP_T_DOUBLE, .offset = DI(weekend_factor), .def = "1",
	 .min = 0, .max = 100, .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX,
	 .doc = "rate on Saturday and Sunday relative to weekdays (e.g. 0.57 for -43%); like days, "
		"renormalised to mean 1 over the week; not with days"},
};
static const struct llmcap_section diurnal_section = LLMCAP_SECTION(diurnal_fields);

static const struct llmcap_field mmpp_fields[] = {
	{.key = "burst_rate_factor", .type = LLMCAP_T_DOUBLE, .offset = MM(burst_rate_factor), .def = "5",
	 .min = 1, .max = 1e6, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "rate in a burst divided by the rate when calm"},
	{.key = "mean_calm", .type = LLMCAP_T_DURATION, .offset = MM(mean_calm), .def = "9min", .min = 0,
	 .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL, .doc = "mean length of a calm period (exponential)"},
	{.key = "mean_burst", .type = LLMCAP_T_DURATION, .offset = MM(mean_burst), .def = "1min", .min = 0,
	 .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL, .doc = "mean length of a burst (exponential)"},
};
static const struct llmcap_section mmpp_section = LLMCAP_SECTION(mmpp_fields);

#define GAMMA_CV_DOC                                                                               \
	"gamma: coefficient of variation of the inter-arrival times (1 = Poisson; real traces show " \
	"1.5-4)"
#define ARRIVAL_DOC                                                                                \
	"poisson (non-homogeneous when the profile is not flat, generated exactly by thinning); "    \
	"gamma: a renewal process with Gamma inter-arrival times of coefficient of variation "       \
	"gamma_cv, in the profile's time scale; mmpp: a two-state Markov-modulated Poisson process "  \
	"(calm/burst)"

/* relative to a class's sessions section (struct llmcap_session_cfg) */
#define SE(member) offsetof(struct llmcap_session_cfg, member)
static const struct llmcap_field session_fields[] = {
	{.key = "turns", .type = LLMCAP_T_DIST, .offset = SE(turns), .def = "{dist: fixed, value: 1}",
	 .doc = "turns per session (a length distribution, not a trace; fixed 1: no sessions). Each "
		"arrival of the class, or each of its requests a closed-loop client sends, starts a "
		"session; runs in exact steps (docs/traffic.md)"},
	{.key = "growth", .type = LLMCAP_T_DIST, .offset = SE(growth), .def = "{dist: fixed, value: 100}",
	 .doc = "new user tokens of each later turn: its prompt is the previous turn's prompt + "
		"output + these (a length distribution, not a trace)"},
	{.key = "think_time", .type = LLMCAP_T_DURATION, .offset = SE(think_time), .def = "30s",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "mean time from a turn's answer's end to the next turn"},
	{.key = "think_dist", .type = LLMCAP_T_ENUM, .offset = SE(think_dist), .def = "exponential",
	 .names = llmcap_think_dist_names,
	 .doc = "exponential (of mean think_time, tool_time) or fixed (exactly those)"},
	{.key = "tool_probability", .type = LLMCAP_T_DOUBLE, .offset = SE(tool_probability), .def = "0",
	 .min = 0, .max = 1, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "agent sessions: the chance that a tool call runs before a later turn (its pause is "
		"added to the think time)"},
	{.key = "tool_time", .type = LLMCAP_T_DURATION, .offset = SE(tool_time), .def = "2s",
	 .min = 0, .max = HUGE_VAL, .doc = "mean tool-call pause"},
};
static const struct llmcap_section session_section = LLMCAP_SECTION(session_fields);
#define CLL(member) offsetof(struct llmcap_lora_class_cfg, member)
static const struct llmcap_field class_lora_fields[] = {
	{.key = "adapters", .type = LLMCAP_T_INT, .offset = CLL(adapters), .def = "0", .min = 0,
	 .max = 4095, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "distinct LoRA adapters the class's requests use (0: the base model; 1: one named "
		"adapter)"},
	{.key = "popularity", .type = LLMCAP_T_ENUM, .offset = CLL(popularity), .def = "uniform",
	 .names = llmcap_lora_popularity_names,
	 .doc = "which adapter a request uses: uniform, or zipf (adapter i with weight (i+1)^-s)"},
	{.key = "zipf_exponent", .type = LLMCAP_T_DOUBLE, .offset = CLL(zipf_exponent), .def = "1",
	 .min = 0, .max = 10, .flags = LLMCAP_F_HAS_MAX, .doc = "zipf popularity: the exponent s"},
	{.key = "rank", .type = LLMCAP_T_INT, .offset = CLL(rank), .def = "16", .min = 1, .max = 1024,
	 .flags = LLMCAP_F_HAS_MAX, .doc = "LoRA rank r of the class's adapters"},
	{.key = "target_modules", .type = LLMCAP_T_ENUM, .offset = CLL(target_modules), .def = "attention",
	 .names = llmcap_lora_target_names,
	 .doc = "adapted projections of every layer: qv (q, v), attention (q, k, v, o), all-linear "
		"(attention and MLP gate, up, down)"},
};
#undef CLL
static const struct llmcap_section class_lora_section = LLMCAP_SECTION(class_lora_fields);

static const struct llmcap_field class_fields[] = {
	{.key = "share", .type = LLMCAP_T_DOUBLE, .offset = CL(share), .def = "1",
	 .doc = "share of all requests that belong to this class; the shares of all classes must sum to 1",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL},
	{.key = "pool", .type = LLMCAP_T_STR, .offset = CL(pool), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "pool that serves this class (empty: the pool named like the class)"},
	{.key = "prompt", .type = LLMCAP_T_DIST, .offset = CL(prompt),
	 .def = "{dist: fixed, value: 1000}",
	 .doc = "prompt length distribution, tokens: {dist: fixed, value} | {dist: uniform, min, max} "
		"| {dist: lognormal, median, sigma} or {dist: lognormal, mean, p99} | {dist: normal, mean, sd} "
		"| {dist: geometric, mean} | {dist: zipf, exponent} | {dist: histogram, edges, weights} "
		"| {dist: trace, file, column}, each with optional min and max (docs/traffic.md)"},
	{.key = "output", .type = LLMCAP_T_DIST, .offset = CL(output), .def = "{dist: fixed, value: 200}",
	 .doc = "output length distribution, tokens (same forms as prompt; a trace with the prompt's "
		"file draws both from the same row)"},
	{.key = "slo_ttft_p99", .type = LLMCAP_T_DURATION, .offset = CL(slo_ttft_p99), .def = "2s",
	 .doc = "target for the 99th percentile of time to first token", .min = 0, .max = HUGE_VAL,
	 .flags = LLMCAP_F_MIN_EXCL},
	{.key = "slo_tpot_p99", .type = LLMCAP_T_DURATION, .offset = CL(slo_tpot_p99), .def = "100ms",
	 .doc = "target for the 99th percentile of time per output token", .min = 0, .max = HUGE_VAL,
	 .flags = LLMCAP_F_MIN_EXCL},
	{.key = "priority", .type = LLMCAP_T_INT, .offset = CL(priority), .def = "0", .min = -1000000,
	 .max = 1000000, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "with scheduling_policy: priority, lower values are scheduled (and kept) first"},
	{.key = "long_prompt_tokens", .type = LLMCAP_T_INT, .offset = CL(long_prompt_tokens), .def = "0",
	 .min = 0, .max = 1 << 24, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "routing rule: prompts longer than this go to long_prompt_pool (0: off)"},
	{.key = "long_prompt_pool", .type = LLMCAP_T_STR, .offset = CL(long_prompt_pool),
	 .size = LLMCAP_NAME_MAX, .def = "", .doc = "pool for prompts longer than long_prompt_tokens"},
	{.key = "shared_prefix_tokens", .type = LLMCAP_T_INT, .offset = CL(shared_prefix_tokens), .def = "0",
	 .min = 0, .max = 1 << 24, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "leading prompt tokens identical across the class's requests (a system prompt); "
		"reused from the KV cache when the pool enables prefix caching"},
	{.key = "prefix_groups", .type = LLMCAP_T_INT, .offset = CL(prefix_groups), .def = "1", .min = 1,
	 .max = 1 << 20, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "number of distinct shared prefixes; each request uses one, uniformly"},
	{.key = "max_waiting", .type = LLMCAP_T_INT, .offset = CL(max_waiting), .def = "0", .min = 0,
	 .max = 1 << 30, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "admission limit: a request finding this many requests waiting at its replica is "
		"rejected or spilled (0: no limit)"},
	{.key = "max_queue_time", .type = LLMCAP_T_DURATION, .offset = CL(max_queue_time), .def = "0s",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "admission limit: a request not scheduled within this time is rejected or spilled "
		"(0s: no limit)"},
	{.key = "when_limited", .type = LLMCAP_T_ENUM, .offset = CL(when_limited), .def = "reject",
	 .names = llmcap_limit_action_names, .doc = "what an admission limit does: reject, or spill to the API"},
	{.key = "arrival", .type = LLMCAP_T_ENUM, .offset = CL(arrival), .def = "shared",
	 .names = llmcap_arrival_names,
	 .doc = "shared: the class's requests come from the workload's stream, picked by share; "
		"poisson, gamma, mmpp: the class has its own stream at share x the mean rate, with this "
		"class's gamma_cv, mmpp and diurnal (their defaults are the schema's, not the workload's)"},
	{.key = "gamma_cv", .type = LLMCAP_T_DOUBLE, .offset = CL(gamma_cv), .def = "1", .min = 0,
	 .max = 100, .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX, .doc = GAMMA_CV_DOC},
	{.key = "mmpp", .type = LLMCAP_T_SECTION, .offset = CL(mmpp), .sub = &mmpp_section,
	 .doc = "mmpp: the class's calm/burst process"},
	{.key = "diurnal", .type = LLMCAP_T_SECTION, .offset = CL(diurnal), .sub = &diurnal_section,
	 .doc = "the class's own rate profile (with its own arrival process)"},
	{.key = "sessions", .type = LLMCAP_T_SECTION, .offset = CL(sessions), .sub = &session_section,
	 .doc = "multi-turn sessions: turns, think times, prompt growth, tool calls (docs/traffic.md)"},
	{.key = "spec_acceptance", .type = LLMCAP_T_DOUBLE, .offset = CL(spec_acceptance),
	 .def = "null", .min = 0, .max = 1, .flags = LLMCAP_F_NULL | LLMCAP_F_HAS_MAX,
	 .doc = "speculative decoding: this class's per-token acceptance rate (its prompts draft "
		"better or worse); null: the pool's speculative.acceptance"},
	{.key = "lora", .type = LLMCAP_T_SECTION, .offset = CL(lora), .sub = &class_lora_section,
	 .doc = "multi-LoRA: the class's requests each use one of its adapters (docs/engine.md)"},
};
static const struct llmcap_section class_section = LLMCAP_SECTION(class_fields);

#define TR(member) offsetof(struct llmcap_trace_cfg, member)
#define TM(member) offsetof(struct llmcap_trace_model_cfg, member)

static const struct llmcap_field trace_model_fields[] = {
	{.key = "class", .type = LLMCAP_T_STR, .offset = TM(cls), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "the class (with arrival: shared) that rows with this class column value go to"},
};
static const struct llmcap_section trace_model_section = LLMCAP_SECTION(trace_model_fields);

static const struct llmcap_field trace_fields[] = {
	{.key = "file", .type = LLMCAP_T_PATH, .offset = TR(file), .size = LLMCAP_PATH_MAX, .def = "",
	 .doc = "a production trace replayed as the arrivals of the classes with arrival: shared "
		"(relative to the scenario file's folder; empty: synthetic traffic); read streamed "
		"(docs/traces.md)"},
	{.key = "format", .type = LLMCAP_T_ENUM, .offset = TR(format), .def = "auto",
	 .names = llmcap_trace_format_names,
	 .doc = "auto: detected from the header; azure (TIMESTAMP,ContextTokens,GeneratedTokens), "
		"burstgpt (columns by name, 0 response tokens = failed, not replayed), mooncake (JSON "
		"lines, prefix hash_ids), csv (the *_column keys), llmcap (llmcap workload --out)"},
	{.key = "time_column", .type = LLMCAP_T_STR, .offset = TR(time_column), .size = LLMCAP_NAME_MAX,
	 .def = "timestamp", .doc = "csv: the arrival time column"},
	{.key = "time_unit", .type = LLMCAP_T_ENUM, .offset = TR(time_unit), .def = "s",
	 .names = llmcap_time_unit_names,
	 .doc = "csv: the time column's unit, or datetime (YYYY-MM-DD HH:MM:SS[.fraction][Z|+HH:MM])"},
	{.key = "prompt_column", .type = LLMCAP_T_STR, .offset = TR(prompt_column), .size = LLMCAP_NAME_MAX,
	 .def = "prompt_tokens", .doc = "csv: the prompt tokens column"},
	{.key = "output_column", .type = LLMCAP_T_STR, .offset = TR(output_column), .size = LLMCAP_NAME_MAX,
	 .def = "output_tokens", .doc = "csv: the output tokens column"},
	{.key = "class_column", .type = LLMCAP_T_STR, .offset = TR(class_column), .size = LLMCAP_NAME_MAX,
	 .def = "",
	 .doc = "the class/model column for assign: column (empty: Model for burstgpt, class for "
		"llmcap; csv needs one)"},
	{.key = "start", .type = LLMCAP_T_DURATION, .offset = TR(start), .def = "0s", .min = 0,
	 .max = HUGE_VAL, .doc = "window start, trace time after the first row"},
	{.key = "end", .type = LLMCAP_T_DURATION, .offset = TR(end), .def = "0s", .min = 0, .max = HUGE_VAL,
	 .doc = "window end, trace time after the first row (0s: the file's end)"},
	{.key = "speedup", .type = LLMCAP_T_DOUBLE, .offset = TR(speedup), .def = "1", .min = 0,
	 .max = 1e6, .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX | LLMCAP_F_NULL, .alt = "rate",
	 .doc = "trace time runs this many times faster in simulated time (2: twice the rate); "
		"null: from rate"},
	{.key = "rate", .type = LLMCAP_T_RATE, .offset = TR(rate), .def = "null", .min = 0,
	 .max = LLMCAP_RATE_MAX, .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_NULL | LLMCAP_F_HAS_MAX,
	 .alt = "speedup",
	 .doc = "instead of speedup: the mean rate to replay the window at (e.g. 20/s); the speedup "
		"is this over the window's own rate"},
	{.key = "fill", .type = LLMCAP_T_ENUM, .offset = TR(fill), .def = "none", .names = llmcap_trace_fill_names,
	 .doc = "none: arrivals end with the window; loop: copies of the window back to back until "
		"the horizon (one copy lasts end - start, or up to the last row plus one mean gap)"},
	{.key = "assign", .type = LLMCAP_T_ENUM, .offset = TR(assign), .def = "share", .names = llmcap_trace_assign_names,
	 .doc = "class of each row: share (a seeded random split by the shared classes' shares); "
		"column (the class column through models, else a class of that name, else class); "
		"rule (prompts longer than long_prompt_tokens go to long_prompt_class, others to class)"},
	{.key = "models", .type = LLMCAP_T_MAP, .offset = TR(models), .count_offset = TR(n_models),
	 .elem_size = sizeof(struct llmcap_trace_model_cfg), .max_count = LLMCAP_TRACE_MODELS_MAX,
	 .sub = &trace_model_section, .where_offset = TM(where),
	 .doc = "assign column: class column values (e.g. ChatGPT, GPT-4) and their classes"},
	{.key = "class", .type = LLMCAP_T_STR, .offset = TR(cls), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "rule: the class of prompts up to long_prompt_tokens (empty: the first shared "
		"class); column: the class of values with no mapping (empty: such rows are bad rows)"},
	{.key = "long_prompt_tokens", .type = LLMCAP_T_INT, .offset = TR(long_prompt_tokens), .def = "0",
	 .min = 0, .max = 1 << 24, .flags = LLMCAP_F_HAS_MAX, .doc = "rule: the prompt length threshold"},
	{.key = "long_prompt_class", .type = LLMCAP_T_STR, .offset = TR(long_prompt_class),
	 .size = LLMCAP_NAME_MAX, .def = "", .doc = "rule: the class of longer prompts"},
	{.key = "max_prompt", .type = LLMCAP_T_INT, .offset = TR(max_prompt), .def = "0", .min = 0,
	 .max = 1 << 24, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "cap on replayed prompt tokens (0: none); capped rows are counted"},
	{.key = "max_output", .type = LLMCAP_T_INT, .offset = TR(max_output), .def = "0", .min = 0,
	 .max = 1 << 24, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "cap on replayed output tokens (0: none); capped rows are counted"},
	{.key = "bad_rows", .type = LLMCAP_T_ENUM, .offset = TR(bad_rows), .def = "fail",
	 .names = llmcap_bad_rows_names,
	 .doc = "fail: the first bad row (missing field, non-numeric or negative value, time going "
		"backwards, bad JSON, invalid UTF-8, a line over 1 MiB, a truncated last line) stops "
		"with FILE:LINE and the reason, before the simulation; skip: skip them, counted by "
		"reason in the summary"},
	{.key = "hash_block_tokens", .type = LLMCAP_T_INT, .offset = TR(hash_block_tokens), .def = "512",
	 .min = 1, .max = 1 << 20, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "mooncake: prompt tokens per hash id (512 in Mooncake's traces); with "
		"enable_prefix_caching, engine blocks whose tokens lie in identical hash-id prefixes "
		"are shared"},
};
static const struct llmcap_section trace_section = LLMCAP_SECTION(trace_fields);

/* relative to workload.clients, the section's own base */
#define CLI(member) (SC(workload.clients.member) - SC(workload.clients))
static const struct llmcap_field clients_fields[] = {
	{.key = "concurrency", .type = LLMCAP_T_INT, .offset = CLI(concurrency),
	 .def = "0", .min = 0, .max = 1 << 24, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "closed loop: this many clients, each sending a request, waiting for its end (completed, "
		"rejected or spilled) and a think time, then sending the next; all start at time 0; "
		"each request's class is drawn by share; rate, arrival and diurnal are then unused. "
		"0: open loop (the arrival streams). Runs in exact steps"},
	{.key = "think_time", .type = LLMCAP_T_DURATION, .offset = CLI(think_time),
	 .def = "0s", .min = 0, .max = HUGE_VAL,
	 .doc = "mean time a client waits after a request ends before sending its next"},
	{.key = "think_dist", .type = LLMCAP_T_ENUM, .offset = CLI(think_dist),
	 .def = "exponential", .names = llmcap_think_dist_names,
	 .doc = "exponential (of mean think_time) or fixed (exactly think_time)"},
};
static const struct llmcap_section clients_section = LLMCAP_SECTION(clients_fields);

static const struct llmcap_field workload_fields[] = {
	{.key = "rate", .type = LLMCAP_T_RATE, .offset = SC(workload.rate), .def = "50000/day",
	 .alt = "tokens_per_month",
	 .doc = "mean request rate over the period of the profile, all classes together (e.g. "
		"50000/day, 35/min); null: derived from tokens_per_month",
	 .min = 0, .max = LLMCAP_RATE_MAX, .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_NULL | LLMCAP_F_HAS_MAX},
	{.key = "tokens_per_month", .type = LLMCAP_T_DOUBLE, .offset = SC(workload.tokens_per_month),
	 .def = "null", .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_NULL | LLMCAP_F_COUNT, .alt = "rate",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "instead of rate: prompt + output tokens per month (365.25/12 days), e.g. 2.7e9, 2.7B "
		"or 500M (suffixes K, M, B, T: 1e3, 1e6, 1e9, 1e12); the "
		"rate is this divided by the classes' mean tokens per request. Giving it sets rate to "
		"null and the reverse; a file may not give both"},
	{.key = "start_day", .type = LLMCAP_T_ENUM, .offset = SC(workload.start_day), .def = "monday",
	 .names = llmcap_weekday_names,
	 .doc = "weekday of simulated time 0 (midnight), for hour-of-week profiles, days and "
		"weekend_factor"},
	{.key = "arrival", .type = LLMCAP_T_ENUM, .offset = SC(workload.arrival), .def = "poisson",
	 .names = llmcap_stream_arrival_names, .doc = "arrival process of the shared stream: " ARRIVAL_DOC},
	{.key = "gamma_cv", .type = LLMCAP_T_DOUBLE, .offset = SC(workload.gamma_cv), .def = "1", .min = 0,
	 .max = 100, .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX, .doc = GAMMA_CV_DOC},
	{.key = "mmpp", .type = LLMCAP_T_SECTION, .offset = SC(workload.mmpp), .sub = &mmpp_section,
	 .doc = "mmpp: the calm/burst process"},
	{.key = "diurnal", .type = LLMCAP_T_SECTION, .offset = SC(workload.diurnal), .sub = &diurnal_section,
	 .doc = "rate profile: the rate at time t is the mean rate x profile(t), profile of mean 1"},
	{.key = "classes", .type = LLMCAP_T_MAP, .offset = SC(workload.classes),
	 .count_offset = SC(workload.n_classes), .elem_size = sizeof(struct llmcap_class_cfg),
	 .max_count = LLMCAP_MAX_CLASSES, .sub = &class_section, .where_offset = CL(where),
	 .doc = "request classes by name (at least one)"},
	{.key = "trace", .type = LLMCAP_T_SECTION, .offset = SC(workload.trace), .sub = &trace_section,
	 .doc = "replay a production trace (docs/traces.md)"},
	{.key = "clients", .type = LLMCAP_T_SECTION, .offset = SC(workload.clients),
	 .sub = &clients_section, .doc = "closed-loop clients instead of open arrivals (docs/traffic.md)"},
};
static const struct llmcap_section workload_section = LLMCAP_SECTION(workload_fields);

static const struct llmcap_field hardware_fields[] = {
	{.key = "servers", .type = LLMCAP_T_INT, .offset = SC(hardware.servers), .def = "1",
	 .doc = "number of servers", .min = 1, .max = 100000, .flags = LLMCAP_F_HAS_MAX},
	{.key = "gpu", .type = LLMCAP_T_STR, .offset = SC(hardware.gpu), .size = LLMCAP_NAME_MAX,
	 .def = "h100-sxm-80gb", .doc = "accelerator, by catalog name (llmcap catalog lists them)",
	 .catalog = "gpus"},
	{.key = "gpus_per_server", .type = LLMCAP_T_INT, .offset = SC(hardware.gpus_per_server), .def = "8",
	 .doc = "GPUs in each server", .min = 1, .max = 64, .flags = LLMCAP_F_HAS_MAX},
};
static const struct llmcap_section hardware_section = LLMCAP_SECTION(hardware_fields);

#define SP(member) offsetof(struct llmcap_pool_cfg, spill.member)
static const struct llmcap_field spill_fields[] = {
	{.key = "waiting_above", .type = LLMCAP_T_INT, .offset = SP(waiting_above), .def = "0", .min = 0,
	 .max = 1 << 30, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "spill an arriving request when its replica has this many waiting (0: off)"},
	{.key = "kv_above", .type = LLMCAP_T_DOUBLE, .offset = SP(kv_above), .def = "0", .min = 0, .max = 1,
	 .flags = LLMCAP_F_HAS_MAX,
	 .doc = "spill an arriving request when its replica's KV use is at least this share (0: off)"},
	{.key = "api_ttft_median", .type = LLMCAP_T_DURATION, .offset = SP(api_ttft_median), .def = "800ms",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "API latency model: median time to first token (lognormal)"},
	{.key = "api_ttft_sigma", .type = LLMCAP_T_DOUBLE, .offset = SP(api_ttft_sigma), .def = "0.5",
	 .min = 0, .max = 5, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "API latency model: sigma of log TTFT"},
	{.key = "api_tpot", .type = LLMCAP_T_DURATION, .offset = SP(api_tpot), .def = "20ms", .min = 0,
	 .max = HUGE_VAL, .doc = "API latency model: time per output token"},
};
static const struct llmcap_section spill_section = LLMCAP_SECTION(spill_fields);
#define AS(member) offsetof(struct llmcap_pool_cfg, autoscale.member)
/* pools.NAME.autoscale (spec.h struct llmcap_autoscale_cfg; sim/engine/autoscale.c) */
static const struct llmcap_field autoscale_fields[] = {
	{.key = "enabled", .type = LLMCAP_T_BOOL, .offset = AS(enabled), .def = "false",
	 .doc = "the replica count follows the load (replicas: the count at time 0); off: fixed"},
	{.key = "metric", .type = LLMCAP_T_ENUM, .offset = AS(metric), .def = "queue",
	 .names = llmcap_autoscale_metric_names,
	 .doc = "what is averaged over the active replicas at each decision: queue (waiting and "
		"swapped-out requests), concurrency (requests in flight), kv (share of KV blocks in "
		"use), utilisation (busy share of the last interval)"},
	{.key = "target", .type = LLMCAP_T_DOUBLE, .offset = AS(target), .def = "4", .min = 0,
	 .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "the metric per active replica to hold: scaling up grows the pool to ceil(active "
		"x metric / target) replicas"},
	{.key = "up_above", .type = LLMCAP_T_DOUBLE, .offset = AS(up_above), .def = "null", .min = 0,
	 .max = HUGE_VAL, .flags = LLMCAP_F_NULL,
	 .doc = "scale up when the metric is above this; null: target"},
	{.key = "down_below", .type = LLMCAP_T_DOUBLE, .offset = AS(down_below), .def = "null",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_NULL,
	 .doc = "drain one replica when the metric is below this; null: target / 2"},
	{.key = "interval", .type = LLMCAP_T_DURATION, .offset = AS(interval), .def = "30s", .min = 0,
	 .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "time between decisions (the first at this time)"},
	{.key = "min_replicas", .type = LLMCAP_T_INT, .offset = AS(min_replicas), .def = "1", .min = 1,
	 .max = 100000, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "fewest replicas held while the pool has traffic"},
	{.key = "max_replicas", .type = LLMCAP_T_INT, .offset = AS(max_replicas), .def = "auto",
	 .min = 1, .max = 100000, .flags = LLMCAP_F_AUTO | LLMCAP_F_HAS_MAX,
	 .doc = "most replicas held (rented GPUs are not checked against hardware.servers); auto: "
		"replicas"},
	{.key = "scale_to_zero", .type = LLMCAP_T_BOOL, .offset = AS(scale_to_zero), .def = "false",
	 .doc = "drain the last replica when the pool had no arrival and no request in the last "
		"interval; an arrival to an empty pool waits for a replica's cold start"},
	{.key = "provisioning", .type = LLMCAP_T_DURATION, .offset = AS(provisioning), .def = "2min",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "cold start, part 1: from the decision to a machine with the engine started"},
	{.key = "weights_bandwidth", .type = LLMCAP_T_BYTES, .offset = AS(weights_bandwidth),
	 .def = "2GB", .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "cold start, part 2: bytes per second per GPU loading the weights from storage "
		"(2GB: 2 GB/s); the load takes the memory plan's weight bytes per GPU / this"},
	{.key = "cooldown", .type = LLMCAP_T_DURATION, .offset = AS(cooldown), .def = "5min", .min = 0,
	 .max = HUGE_VAL, .doc = "no scale-down within this time of the last scale-up or -down"},
	{.key = "spot", .type = LLMCAP_T_BOOL, .offset = AS(spot), .def = "false",
	 .doc = "the replicas are spot capacity: each held one is interrupted at "
		"spot_interruptions, drains for spot_notice, then is terminated (its requests "
		"retried elsewhere) and a replacement cold-starts in its place"},
	{.key = "spot_notice", .type = LLMCAP_T_DURATION, .offset = AS(spot_notice), .def = "2min",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "the provider's warning before a spot termination (AWS: 2 minutes; GCP and Azure: "
		"30 seconds); 0: none, terminated at the interruption"},
	{.key = "spot_interruptions", .type = LLMCAP_T_DOUBLE, .offset = AS(spot_interruptions),
	 .def = "null", .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_NULL,
	 .doc = "interruptions per replica-month; null: the GPU's (cost.gpus.NAME or the catalog; "
		"none where unpublished)"},
};
#undef AS
static const struct llmcap_section autoscale_section = LLMCAP_SECTION(autoscale_fields);
static const struct llmcap_field linear_fields[] = {
	{.key = "per_step", .type = LLMCAP_T_DURATION, .offset = PO(linear.per_step), .def = "5ms",
	 .min = 0, .max = HUGE_VAL, .doc = "time of every step (a)"},
	{.key = "per_token_us", .type = LLMCAP_T_DOUBLE, .offset = PO(linear.per_token_us), .def = "0",
	 .min = 0, .max = HUGE_VAL, .doc = "microseconds per new token in the step (b)"},
	{.key = "per_context_token_ns", .type = LLMCAP_T_DOUBLE, .offset = PO(linear.per_context_token_ns),
	 .def = "0", .min = 0, .max = HUGE_VAL,
	 .doc = "nanoseconds per KV-cache token read, summed over the step's sequences (c)"},
};
static const struct llmcap_section linear_section = LLMCAP_SECTION(linear_fields);

static const struct llmcap_field table_fields[] = {
	{.key = "path", .type = LLMCAP_T_PATH, .offset = PO(table.path), .size = LLMCAP_PATH_MAX, .def = "",
	 .doc = "CSV with a header and columns tokens, [context,] ms (context: KV tokens read); "
		"relative to the scenario file's folder (to the working directory in --set)"},
	{.key = "out_of_range", .type = LLMCAP_T_ENUM, .offset = PO(table.out_of_range), .def = "clamp",
	 .names = llmcap_table_range_names,
	 .doc = "steps outside the table: clamp to its edge or extrapolate its edge cell linearly; "
		"either way they are counted and reported"},
};
static const struct llmcap_section table_section = LLMCAP_SECTION(table_fields);

#define PF(member) offsetof(struct llmcap_pool_cfg, profile.member)
#define PROFILE_DURATION(k, m, d)                                                                \
	{.key = k, .type = LLMCAP_T_DURATION, .offset = PF(m), .def = "auto", .min = 0,            \
	 .max = HUGE_VAL, .flags = LLMCAP_F_AUTO, .doc = d "; auto: the profile's"}
#define PROFILE_BYTES(k, m, d)                                                                   \
	{.key = k, .type = LLMCAP_T_BYTES, .offset = PF(m), .def = "-1", .min = -1, .max = HUGE_VAL, \
	 .doc = d " per GPU; -1: the profile's"}
/* Every constant of the engine profile (models/catalog/engines.yaml), overridable per pool. */
static const struct llmcap_field profile_fields[] = {
	PROFILE_DURATION("step_overhead", step_overhead, "CPU time per step on the critical path"),
	PROFILE_DURATION("seq_overhead", seq_overhead, "CPU time per sampled sequence"),
	{.key = "attention_bw_efficiency", .type = LLMCAP_T_DOUBLE, .offset = PF(attention_bw_efficiency),
	 .def = "null", .min = 0, .max = 1, .flags = LLMCAP_F_NULL | LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX,
	 .doc = "share of peak HBM bandwidth reading the KV cache; null: the profile's"},
	PROFILE_DURATION("eager_layer_overhead", eager_layer_overhead,
			 "per layer, in steps with prefill tokens"),
	PROFILE_DURATION("allreduce_latency", allreduce_latency, "per all-reduce (the GPU's when unset)"),
	{.key = "memory_rule", .type = LLMCAP_T_ENUM, .offset = PF(memory_rule), .def = "auto",
	 .names = llmcap_memory_rule_auto_names,
	 .doc = "how the KV cache is sized: legacy, vllm, trtllm (fraction of free memory), sglang"},
	PROFILE_BYTES("reserved_memory", reserved_memory, "CUDA context, workspaces, sampler"),
	PROFILE_BYTES("cuda_graph_memory", cuda_graph_memory, "captured CUDA graphs"),
	PROFILE_BYTES("nccl_memory", nccl_memory, "NCCL and all-reduce buffers (TP > 1)"),
	{.key = "embed_16bit", .type = LLMCAP_T_ENUM, .offset = PF(embed_16bit), .def = "auto",
	 .names = llmcap_bool_auto_names,
	 .doc = "FP8/INT4 checkpoints keep embedding and LM head in 16 bits"},
	{.key = "admission", .type = LLMCAP_T_ENUM, .offset = PF(admission), .def = "auto",
	 .names = llmcap_admission_auto_names,
	 .doc = "KV admission: vllm, max-utilization, guaranteed-no-evict, reserve"},
	{.key = "reserve_output", .type = LLMCAP_T_DOUBLE, .offset = PF(reserve_output), .def = "null",
	 .min = 0, .max = 1, .flags = LLMCAP_F_NULL | LLMCAP_F_HAS_MAX,
	 .doc = "admission reserve: share of the remaining output (admission reserve); null: the "
		"profile's"},
	{.key = "async_scheduling", .type = LLMCAP_T_ENUM, .offset = PF(async_scheduling), .def = "auto",
	 .names = llmcap_bool_auto_names,
	 .doc = "the scheduler runs a step ahead: arrivals join the step after the next"},
	{.key = "scheduler_steps", .type = LLMCAP_T_INT, .offset = PF(scheduler_steps), .def = "auto",
	 .min = 1, .max = 64, .flags = LLMCAP_F_AUTO | LLMCAP_F_HAS_MAX,
	 .doc = "multi-step scheduling: new requests join every K steps"},
	{.key = "separate_prefill", .type = LLMCAP_T_ENUM, .offset = PF(separate_prefill), .def = "auto",
	 .names = llmcap_bool_auto_names,
	 .doc = "a step with prompt work runs it alone; the decodes wait (SGLang)"},
	PROFILE_DURATION("frontend_time", frontend_time,
			 "API server time per request, serial (a queue before the scheduler)"),
	PROFILE_DURATION("frontend_latency", frontend_latency,
			 "API server time per request, in parallel"),
};
#undef PROFILE_DURATION
#undef PROFILE_BYTES
#undef PF
static const struct llmcap_section profile_section = LLMCAP_SECTION(profile_fields);

/* relative to a pool's failures section (struct llmcap_failures_cfg) */
#define FA(member) offsetof(struct llmcap_failures_cfg, member)
static const struct llmcap_field maintenance_fields[] = {
	{.key = "start", .type = LLMCAP_T_DURATION, .offset = FA(maintenance.start) - FA(maintenance),
	 .def = "0s", .min = 0, .max = HUGE_VAL, .doc = "the first window's start (replica 0's)"},
	{.key = "duration", .type = LLMCAP_T_DURATION, .offset = FA(maintenance.duration) - FA(maintenance),
	 .def = "0s", .min = 0, .max = HUGE_VAL,
	 .doc = "time each replica is down once drained (0s: no maintenance); replica i's window "
		"starts i x duration after the first"},
	{.key = "every", .type = LLMCAP_T_DURATION, .offset = FA(maintenance.every) - FA(maintenance),
	 .def = "0s", .min = 0, .max = HUGE_VAL, .doc = "period of the windows (0s: one window)"},
};
static const struct llmcap_section maintenance_section = LLMCAP_SECTION(maintenance_fields);

static const struct llmcap_field failures_fields[] = {
	{.key = "gpu_failures_per_gpu_day", .type = LLMCAP_T_DOUBLE, .offset = FA(gpu_failures_per_gpu_day),
	 .def = "0", .min = 0, .max = 100, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "unexpected interruptions per GPU per day (0: none); a replica fails at "
		"tensor_parallel_size times this rate. Llama 3 405B's training saw 419 in 54 days on "
		"16,384 H100s: 4.7e-4 (docs/engine.md)"},
	{.key = "server_failures_per_day", .type = LLMCAP_T_DOUBLE, .offset = FA(server_failures_per_day),
	 .def = "0", .min = 0, .max = 100, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "other (host, network) interruptions per replica per day"},
	{.key = "restart_time", .type = LLMCAP_T_DURATION, .offset = FA(restart_time), .def = "10min",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "a failed replica is back after this (reboot, weights load); a spare's hardware "
		"is repaired in it"},
	{.key = "spares", .type = LLMCAP_T_INT, .offset = FA(spares), .def = "0", .min = 0,
	 .max = 1 << 20, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "spare replicas' hardware (N+spares): a failed replica is replaced after swap_time "
		"while one is free"},
	{.key = "swap_time", .type = LLMCAP_T_DURATION, .offset = FA(swap_time), .def = "2min",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "a spare takes a failed replica's place after this (weights load)"},
	{.key = "maintenance", .type = LLMCAP_T_SECTION, .offset = FA(maintenance),
	 .sub = &maintenance_section,
	 .doc = "planned windows: replicas drain (nothing dropped), then are down one at a time"},
	{.key = "scripted_at", .type = LLMCAP_T_DURATION, .offset = FA(scripted_at), .def = "0s",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "one failure of scripted_replica at this time (tests, what-ifs; 0s: none)"},
	{.key = "scripted_replica", .type = LLMCAP_T_INT, .offset = FA(scripted_replica), .def = "0",
	 .min = 0, .max = 1 << 20, .flags = LLMCAP_F_HAS_MAX, .doc = "the replica scripted_at fails"},
};
static const struct llmcap_section failures_section = LLMCAP_SECTION(failures_fields);
/* pools.NAME.disaggregation: this pool as the prefill group of a disaggregated pair */
#define DG(member) offsetof(struct llmcap_pool_cfg, disaggregation.member)
static const struct llmcap_field disaggregation_fields[] = {
	{.key = "decode_pool", .type = LLMCAP_T_STR, .offset = DG(decode_pool), .size = LLMCAP_NAME_MAX,
	 .def = "",
	 .doc = "the pool that decodes this pool's requests (same model and block_size); this pool "
		"then only prefills (emitting the first token) and hands each request's KV over the "
		"link; empty: off"},
	{.key = "link", .type = LLMCAP_T_STR, .offset = DG(link), .size = LLMCAP_NAME_MAX,
	 .def = "infiniband-ndr", .catalog = "links",
	 .doc = "the KV transfer's link, by links catalog name (bandwidth per GPU, latency)"},
	{.key = "overlap", .type = LLMCAP_T_BOOL, .offset = DG(overlap), .def = "true",
	 .doc = "send each layer's KV as soon as the prefill computed it: only the last layer's "
		"share (or the link's backlog) remains after the prefill"},
};
#undef DG
static const struct llmcap_section disaggregation_section = LLMCAP_SECTION(disaggregation_fields);
static const struct llmcap_field spec_fields[] = {
	{.key = "method", .type = LLMCAP_T_ENUM, .offset = PO(speculative.method), .def = "off",
	 .names = llmcap_spec_method_names,
	 .doc = "proposer: off; draft (a smaller catalog model, draft_model); ngram (prompt lookup, "
		"no GPU time); eagle or mtp (a one-layer head on the target's hidden states)"},
	{.key = "draft_model", .type = LLMCAP_T_STR, .offset = PO(speculative.draft_model),
	 .size = LLMCAP_NAME_MAX, .def = "", .catalog = "models",
	 .doc = "method draft: the draft model, by catalog name (same tokenizer assumed)"},
	{.key = "num_speculative_tokens", .type = LLMCAP_T_INT,
	 .offset = PO(speculative.num_speculative_tokens), .def = "3", .min = 1, .max = 16,
	 .flags = LLMCAP_F_HAS_MAX, .doc = "k: tokens proposed per sequence per step"},
	{.key = "acceptance", .type = LLMCAP_T_DOUBLE, .offset = PO(speculative.acceptance),
	 .def = "0.7", .min = 0, .max = 1, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "per-token acceptance rate a (i.i.d.): a step emits 1 + accepted tokens, "
		"(1 - a^(k+1)) / (1 - a) in expectation; classes.NAME.spec_acceptance overrides it"},
};
static const struct llmcap_section spec_section = LLMCAP_SECTION(spec_fields);

static const struct llmcap_field pool_lora_fields[] = {
	{.key = "max_loras", .type = LLMCAP_T_INT, .offset = PO(lora.max_loras), .def = "0", .min = 0,
	 .max = 4096, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "distinct adapters in one batch (vLLM --max-loras); 0: LoRA off"},
	{.key = "gpu_cache", .type = LLMCAP_T_INT, .offset = PO(lora.gpu_cache), .def = "0", .min = 0,
	 .max = 65536, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "adapters kept in GPU memory, LRU (at least max_loras; 0: max_loras, as vLLM); "
		"their slots come out of the KV cache"},
	{.key = "max_lora_rank", .type = LLMCAP_T_INT, .offset = PO(lora.max_lora_rank), .def = "16",
	 .min = 1, .max = 1024, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "vLLM --max-lora-rank: every GPU slot is sized for this rank on all linear layers"},
	{.key = "load_bandwidth", .type = LLMCAP_T_DOUBLE, .offset = PO(lora.load_bandwidth),
	 .def = "25e9", .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "bytes/s per GPU loading an adapter from host memory (PCIe 4.0 x16: ~25 GB/s)"},
	{.key = "adapter_overhead", .type = LLMCAP_T_DURATION, .offset = PO(lora.adapter_overhead),
	 .def = "50us", .min = 0, .max = HUGE_VAL,
	 .doc = "step time per distinct adapter in the batch (the batched kernels' segments, "
		"Punica SGMV / S-LoRA MBGMM); an estimate"},
};
static const struct llmcap_section pool_lora_section = LLMCAP_SECTION(pool_lora_fields);

static const struct llmcap_field pool_fields[] = {
	{.key = "model", .type = LLMCAP_T_STR, .offset = PO(model), .size = LLMCAP_NAME_MAX,
	 .def = "llama-3.1-8b", .doc = "model, by catalog name", .catalog = "models"},
	{.key = "dtype", .type = LLMCAP_T_ENUM, .offset = PO(dtype), .def = "bf16", .names = llmcap_dtype_names,
	 .doc = "weight precision: bf16 | fp16 (2 bytes), fp8 (1 byte, FP8 tensor cores), "
		"int4-awq (4.25 bits incl. scales, 16-bit compute)"},
	{.key = "kv_cache_dtype", .type = LLMCAP_T_ENUM, .offset = PO(kv_cache_dtype), .def = "auto",
	 .names = llmcap_kv_dtype_names, .doc = "KV cache precision: auto (16-bit) | fp8"},
	{.key = "tensor_parallel_size", .type = LLMCAP_T_INT, .offset = PO(tensor_parallel_size),
	 .def = "1", .doc = "GPUs per replica: 1, 2, 4 or 8", .min = 1, .max = 8,
	 .flags = LLMCAP_F_HAS_MAX},
	{.key = "replicas", .type = LLMCAP_T_INT, .offset = PO(replicas), .def = "1",
	 .doc = "model instances in the pool", .min = 1, .max = 100000, .flags = LLMCAP_F_HAS_MAX},
	{.key = "max_num_seqs", .type = LLMCAP_T_INT, .offset = PO(max_num_seqs), .def = "256",
	 .doc = "vLLM: most sequences in one step", .min = 1, .max = 1 << 20, .flags = LLMCAP_F_HAS_MAX},
	{.key = "max_num_batched_tokens", .type = LLMCAP_T_INT, .offset = PO(max_num_batched_tokens),
	 .def = "8192", .doc = "vLLM: token budget of one step", .min = 1, .max = 1 << 24,
	 .flags = LLMCAP_F_HAS_MAX},
	{.key = "enable_chunked_prefill", .type = LLMCAP_T_BOOL, .offset = PO(enable_chunked_prefill),
	 .def = "true", .doc = "vLLM: split long prompts across steps within the token budget"},
	{.key = "gpu_memory_utilization", .type = LLMCAP_T_DOUBLE, .offset = PO(gpu_memory_utilization),
	 .def = "0.9", .doc = "vLLM: share of GPU memory the engine may use", .min = 0, .max = 1,
	 .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX},
	{.key = "block_size", .type = LLMCAP_T_INT, .offset = PO(block_size), .def = "16",
	 .doc = "vLLM: tokens per KV-cache block", .min = 1, .max = 4096, .flags = LLMCAP_F_HAS_MAX},
	{.key = "max_model_len", .type = LLMCAP_T_INT, .offset = PO(max_model_len), .def = "auto",
	 .flags = LLMCAP_F_AUTO | LLMCAP_F_HAS_MAX, .min = 2, .max = 1 << 24,
	 .doc = "vLLM: longest sequence (prompt + output) in tokens; auto: the model's context "
		"length, lowered to what the KV cache holds"},
	{.key = "num_gpu_blocks_override", .type = LLMCAP_T_INT, .offset = PO(num_gpu_blocks_override),
	 .def = "auto", .flags = LLMCAP_F_AUTO | LLMCAP_F_HAS_MAX, .min = 1, .max = 1e12,
	 .doc = "vLLM: KV blocks per replica instead of the derived count"},
	{.key = "memory_overhead", .type = LLMCAP_T_BYTES, .offset = PO(memory_overhead), .def = "0.5GiB",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "per-GPU memory outside weights, activations and KV cache (CUDA context, NCCL and "
		"cuBLAS workspaces); an estimate"},
	{.key = "step_overhead", .type = LLMCAP_T_DURATION, .offset = PO(step_overhead), .def = "auto",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_AUTO,
	 .doc = "fixed CPU time per engine step (schedule, prepare inputs, launch); auto: the "
		"engine profile's fitted value (llmcap catalog)"},
	{.key = "router", .type = LLMCAP_T_ENUM, .offset = PO(router), .def = "round-robin",
	 .names = llmcap_router_names,
	 .doc = "replica choice within the pool: round-robin; random; least-outstanding (fewest "
		"requests); jsq (fewest waiting prompt tokens); least-kv (lowest KV use); power-of-two "
		"(fewer requests of two random replicas); prefix-affinity (the replica last sent the "
		"same shared prefix, unless it has 4+ more requests than the least loaded); "
		"session-affinity (a session's turn to its previous turn's replica, else "
		"least-outstanding); adapter-affinity (multi-LoRA: the least loaded replica holding the "
		"request's adapter, on prefix-affinity's terms)"},
	{.key = "scheduling_policy", .type = LLMCAP_T_ENUM, .offset = PO(scheduling_policy), .def = "fcfs",
	 .names = llmcap_sched_policy_names,
	 .doc = "vLLM: waiting-queue order; priority orders by class priority, then arrival, and "
		"preempts the lowest priority first"},
	{.key = "preemption_mode", .type = LLMCAP_T_ENUM, .offset = PO(preemption_mode),
	 .def = "recompute", .names = llmcap_preemption_names,
	 .doc = "recompute: drop the KV blocks and redo the prefill; swap: move them to CPU memory "
		"over swap_bandwidth (falls back to recompute when swap_space is full)"},
	{.key = "swap_space", .type = LLMCAP_T_BYTES, .offset = PO(swap_space), .def = "4GiB", .min = 0,
	 .max = HUGE_VAL, .doc = "vLLM: CPU memory per GPU for swapped KV blocks"},
	{.key = "swap_bandwidth", .type = LLMCAP_T_DOUBLE, .offset = PO(swap_bandwidth), .def = "51e9",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "bytes/s per GPU for swapping (H100 host-to-device, nvbandwidth: 51 GB/s)"},
	{.key = "enable_prefix_caching", .type = LLMCAP_T_BOOL, .offset = PO(enable_prefix_caching),
	 .def = "false",
	 .doc = "vLLM: reuse cached KV blocks of identical prompt prefixes (evicted LRU)"},
	{.key = "spill", .type = LLMCAP_T_SECTION, .sub = &spill_section,
	 .doc = "hybrid: send requests to the API when the pool is overloaded"},
	{.key = "failures", .type = LLMCAP_T_SECTION, .offset = PO(failures), .sub = &failures_section,
	 .doc = "replica failures, restarts, spares and maintenance windows (docs/engine.md)"},
	{.key = "autoscale", .type = LLMCAP_T_SECTION, .sub = &autoscale_section,
	 .doc = "rent: the replica count follows the load (docs/engine.md, Autoscaling)"},
	{.key = "engine", .type = LLMCAP_T_STR, .offset = PO(engine), .size = LLMCAP_NAME_MAX,
	 .def = "vllm",
	 .doc = "serving-engine profile by engine and version, by catalog name (vllm: V1, the "
		"default; vllm-0.6; vllm-0.5; sglang; trtllm): CPU time per step and sequence, "
		"memory rule, admission, async and multi-step scheduling", .catalog = "engines"},
	{.key = "profile", .type = LLMCAP_T_SECTION, .sub = &profile_section,
	 .doc = "overrides of the engine profile's constants (llmcap catalog prints them)"},
	{.key = "perf_model", .type = LLMCAP_T_ENUM, .offset = PO(perf_model), .def = "roofline",
	 .names = llmcap_perf_model_names,
	 .doc = "step-time model: roofline (calibrated per GPU and engine; docs/models.md), linear "
		"(pools.NAME.linear), table (measured step times, pools.NAME.table)"},
	{.key = "linear", .type = LLMCAP_T_SECTION, .sub = &linear_section,
	 .doc = "perf_model linear: step = per_step + per_token x new tokens + per_context x KV "
		"tokens read"},
	{.key = "table", .type = LLMCAP_T_SECTION, .sub = &table_section,
	 .doc = "perf_model table: measured step times"},
	/* multi-node parallelism (models/parallel.c; docs/engine.md "Multi-node parallelism") */
	{.key = "pipeline_parallel_size", .type = LLMCAP_T_INT,
	 .offset = PO(parallel.pipeline_parallel_size), .def = "1", .min = 1, .max = 16,
	 .flags = LLMCAP_F_HAS_MAX,
	 .doc = "vLLM: pipeline stages, the layers split evenly; a replica of TP x PP GPUs may span "
		"servers (whole servers each); steady decode runs PP micro-batches"},
	{.key = "expert_parallel", .type = LLMCAP_T_INT, .offset = PO(parallel.expert_parallel),
	 .def = "1", .min = 0, .max = 1024, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "MoE experts spread whole over EP ranks (vLLM enable_expert_parallel, SGLang "
		"ep_size): 0 or 1 off; N = tensor_parallel_size x data_parallel_attention on; two "
		"all-to-alls per MoE layer"},
	{.key = "data_parallel_attention", .type = LLMCAP_T_INT,
	 .offset = PO(parallel.data_parallel_attention), .def = "1", .min = 1, .max = 64,
	 .flags = LLMCAP_F_HAS_MAX,
	 .doc = "SGLang dp-attention (MLA models, with expert_parallel): attention replicated over "
		"this many ranks of TP GPUs, each with its own KV cache and share of the batch"},
	{.key = "expert_imbalance", .type = LLMCAP_T_DOUBLE, .offset = PO(parallel.expert_imbalance),
	 .def = "1", .min = 1, .max = 64, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "expert parallel: the busiest EP rank's routed tokens over the mean (1: balanced)"},
	{.key = "link_bandwidth", .type = LLMCAP_T_DOUBLE, .offset = PO(parallel.link_bandwidth),
	 .def = "50e9", .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL,
	 .doc = "bytes/s per GPU between servers, for pipeline hops and all-to-alls (InfiniBand "
		"NDR 400 Gb/s, one NIC per GPU as in a DGX H100: 50 GB/s)"},
	{.key = "link_latency", .type = LLMCAP_T_DURATION, .offset = PO(parallel.link_latency),
	 .def = "10us", .min = 0, .max = HUGE_VAL,
	 .doc = "per message between servers (an estimate: RDMA ~2 us plus launch and sync)"},
	{.key = "gpu", .type = LLMCAP_T_STR, .offset = PO(gpu), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "the pool's own accelerator, by catalog name (\"\": hardware.gpu); a pool on another "
		"GPU type runs on servers of that type, as few as hold its replicas (docs/engine.md, "
		"\"Pools on their own GPUs\")", .catalog = "gpus"},
	{.key = "gpus_per_server", .type = LLMCAP_T_INT, .offset = PO(gpus_per_server), .def = "0",
	 .doc = "GPUs in each of the pool's own servers (0: hardware.gpus_per_server)", .min = 0,
	 .max = 64, .flags = LLMCAP_F_HAS_MAX},
	{.key = "disaggregation", .type = LLMCAP_T_SECTION, .sub = &disaggregation_section,
	 .doc = "disaggregated prefill and decode: this pool prefills, decode_pool decodes"},
	{.key = "speculative", .type = LLMCAP_T_SECTION, .sub = &spec_section,
	 .doc = "speculative decoding (vLLM's speculative_config; docs/engine.md)"},
	{.key = "lora", .type = LLMCAP_T_SECTION, .sub = &pool_lora_section,
	 .doc = "multi-LoRA serving (vLLM's --max-loras; S-LoRA, Punica; docs/engine.md)"},
};
static const struct llmcap_section pool_section = LLMCAP_SECTION(pool_fields);

static const struct llmcap_field price_fields[] = {
	{.key = "input", .type = LLMCAP_T_DOUBLE, .offset = PR(input), .def = "0",
	 .doc = "USD per 1M input tokens", .min = 0, .max = HUGE_VAL},
	{.key = "output", .type = LLMCAP_T_DOUBLE, .offset = PR(output), .def = "0",
	 .doc = "USD per 1M output tokens", .min = 0, .max = HUGE_VAL},
	{.key = "from", .type = LLMCAP_T_STR, .offset = PR(from), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = "take input and output from the price catalog (llmcap catalog lists it, with sources "
		"and date), e.g. groq-llama-3.1-8b", .catalog = "prices"},
	{.key = "cached_input", .type = LLMCAP_T_DOUBLE, .offset = PR(cached_input), .def = "null",
	 .flags = LLMCAP_F_NULL, .min = 0, .max = HUGE_VAL,
	 .doc = "USD per 1M prompt tokens read from the provider's prompt cache (null: the "
		"catalog's with from, else input)"},
	{.key = "cached_share", .type = LLMCAP_T_DOUBLE, .offset = PR(cached_share), .def = "0",
	 .min = 0, .max = 1, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "share of the class's prompt tokens billed at cached_input"},
	{.key = "batch_share", .type = LLMCAP_T_DOUBLE, .offset = PR(batch_share), .def = "0",
	 .min = 0, .max = 1, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "share of the class's tokens sent through the provider's batch API"},
	{.key = "batch_discount", .type = LLMCAP_T_DOUBLE, .offset = PR(batch_discount), .def = "null",
	 .flags = LLMCAP_F_NULL | LLMCAP_F_HAS_MAX, .min = 0, .max = 1,
	 .doc = "the batch API's discount on both prices (null: the catalog's with from, else 0)"},
};
static const struct llmcap_section price_section = LLMCAP_SECTION(price_fields);

/* cost.gpus.NAME: prices of one GPU type over the catalog's (models/catalog/gpus.yaml) */
#define GP(member) offsetof(struct llmcap_gpu_price_cfg, member)
#define GPRICE(k, m, d) \
	{.key = k, .type = LLMCAP_T_DOUBLE, .offset = GP(m), .def = "null", .flags = LLMCAP_F_NULL, \
	 .min = 0, .max = HUGE_VAL, .doc = d}
static const struct llmcap_field gpu_price_fields[] = {
	GPRICE("server", server, "USD per server, whole (null: chassis + GPUs x (gpu + network_per_gpu))"),
	GPRICE("gpu", gpu, "USD per GPU, purchase (null: the catalog's)"),
	GPRICE("chassis", chassis, "USD per server without GPUs (null: the catalog's)"),
	GPRICE("network_per_gpu", network_per_gpu, "USD per GPU for NICs and switch ports (null: the catalog's)"),
	GPRICE("opex_monthly", opex_monthly, "USD per server per month, flat power and colocation "
						     "(null: cost.opex_monthly, else the power model)"),
	GPRICE("idle_watts", idle_watts, "W per GPU when idle (null: the catalog's)"),
	GPRICE("busy_watts", busy_watts, "W per GPU while executing steps (null: the catalog's, else TDP)"),
	GPRICE("on_demand", on_demand, "USD per GPU-hour rented on demand (null: the catalog's)"),
	GPRICE("reserved_1y", reserved_1y, "USD per GPU-hour on a 1-year reservation (null: the catalog's)"),
	GPRICE("reserved_3y", reserved_3y, "USD per GPU-hour on a 3-year reservation (null: the catalog's)"),
	GPRICE("spot", spot, "USD per GPU-hour on spot capacity (null: the catalog's)"),
	GPRICE("spot_interruptions", spot_interruptions, "spot interruptions per replica-month (null: the catalog's)"),
};
#undef GPRICE
static const struct llmcap_section gpu_price_section = LLMCAP_SECTION(gpu_price_fields);

#define RS(member) offsetof(struct llmcap_reserved_cfg, member)
static const struct llmcap_field reserved_fields[] = {
	{.key = "replicas", .type = LLMCAP_T_INT, .offset = RS(replicas), .def = "0", .min = 0,
	 .max = 1 << 20, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "replicas of the pool on reserved capacity; held replicas above it are on demand"},
};
static const struct llmcap_section reserved_section = LLMCAP_SECTION(reserved_fields);

static const struct llmcap_field rent_fields[] = {
	{.key = "term_years", .type = LLMCAP_T_INT, .offset = SC(cost.rent.term_years), .def = "1",
	 .min = 1, .max = 3, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "reservation term for the reserved baseline: 1 or 3 years"},
	{.key = "reserved", .type = LLMCAP_T_MAP, .offset = SC(cost.rent.reserved),
	 .count_offset = SC(cost.rent.n_reserved), .elem_size = sizeof(struct llmcap_reserved_cfg),
	 .max_count = LLMCAP_MAX_POOLS, .sub = &reserved_section, .where_offset = RS(where),
	 .doc = "per pool name, the replicas on reserved capacity (a pool not named reserves all "
		"its replicas; an autoscaled one its autoscale.min_replicas)"},
	{.key = "spot_restart", .type = LLMCAP_T_DURATION, .offset = SC(cost.rent.spot_restart),
	 .def = "10min", .min = 0, .max = HUGE_VAL,
	 .doc = "held time paid again per spot interruption: provisioning a replacement and loading "
		"its weights (an assumption: set yours)"},
};
static const struct llmcap_section rent_section = LLMCAP_SECTION(rent_fields);

static const struct llmcap_field api_fields[] = {
	{.key = "monthly_bill", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.api.monthly_bill), .def = "null",
	 .flags = LLMCAP_F_NULL, .min = 0, .max = HUGE_VAL,
	 .doc = "a flat API bill in USD/month instead of per-token prices (null: use prices)"},
	{.key = "prices", .type = LLMCAP_T_MAP, .offset = SC(cost.api.prices),
	 .count_offset = SC(cost.api.n_prices), .elem_size = sizeof(struct llmcap_price_cfg),
	 .max_count = LLMCAP_MAX_CLASSES, .sub = &price_section, .where_offset = PR(where),
	 .doc = "API list price per class name (every class needs one unless monthly_bill is set)"},
};
static const struct llmcap_section api_section = LLMCAP_SECTION(api_fields);

static const struct llmcap_field power_fields[] = {
	{.key = "pue", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.power.pue), .def = "1.3", .min = 1,
	 .max = 5, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "power usage effectiveness of the facility (an assumption: set yours)"},
	{.key = "electricity", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.power.electricity), .def = "0.10",
	 .min = 0, .max = HUGE_VAL, .doc = "USD per kWh (an assumption: set yours)"},
	{.key = "colocation", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.power.colocation),
	 .def = "184.06", .min = 0, .max = HUGE_VAL,
	 .doc = "USD per kW-month of provisioned power (CBRE, North America wholesale, H2 2024)"},
	{.key = "other_watts", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.power.other_watts), .def = "2300",
	 .min = 0, .max = HUGE_VAL,
	 .doc = "watts per server beyond its GPUs (DGX H100: 10.2 kW max less 8 x 700 W GPUs = "
		"4.6 kW for 8 GPUs; 2.3 kW for a 4-GPU server)"},
};
static const struct llmcap_section power_section = LLMCAP_SECTION(power_fields);

static const struct llmcap_field cost_fields[] = {
	{.key = "horizon_years", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.horizon_years), .def = "3",
	 .doc = "amortisation and comparison horizon, years", .min = 0, .max = 50,
	 .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX},
	{.key = "capex", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.capex), .def = "null",
	 .flags = LLMCAP_F_NULL,
	 .doc = "purchase price per server, USD, whatever the GPU (null: the GPU's, from cost.gpus "
		"or the catalog)", .min = 0, .max = HUGE_VAL},
	{.key = "opex_monthly", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.opex_monthly), .def = "null",
	 .flags = LLMCAP_F_NULL,
	 .doc = "power and colocation per server per month, USD, whatever the GPU (null: "
		"cost.gpus.NAME.opex_monthly, else the power model)", .min = 0, .max = HUGE_VAL},
	{.key = "support_yearly", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.support_yearly),
	 .def = "10000", .doc = "support and labour per year for the fleet, USD", .min = 0,
	 .max = HUGE_VAL},
	{.key = "capex_per_gpu", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.capex_per_gpu), .def = "null",
	 .flags = LLMCAP_F_NULL, .min = 0, .max = HUGE_VAL,
	 .doc = "price per GPU, USD; when set, a server costs chassis + gpus_per_server x this "
		"instead of capex (H100 SXM ~30,000: ../shared/pricing)"},
	{.key = "chassis", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.chassis), .def = "0", .min = 0,
	 .max = HUGE_VAL, .doc = "price of a server without its GPUs, USD (with capex_per_gpu)"},
	{.key = "residual_fraction", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.residual_fraction),
	 .def = "0", .min = 0, .max = 1, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "share of the purchase price recovered by selling the hardware at the end"},
	{.key = "cost_of_capital", .type = LLMCAP_T_DOUBLE, .offset = SC(cost.cost_of_capital), .def = "0",
	 .min = 0, .max = 1, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "annual interest rate; the purchase is paid as an annuity over the horizon (0: cash)"},
	{.key = "spare_servers", .type = LLMCAP_T_INT, .offset = SC(cost.spare_servers), .def = "0",
	 .min = 0, .max = 1 << 20, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "spare servers bought and racked beside the fleet (N+1: 1): capex, colocation and "
		"idle power or flat opex, no traffic"},
	{.key = "opex", .type = LLMCAP_T_ENUM, .offset = SC(cost.opex), .def = "auto", .names = llmcap_opex_mode_names,
	 .doc = "flat: opex_monthly per server; power: simulated power x PUE x electricity + "
		"colocation per provisioned kW; auto: flat where a monthly figure applies to the GPU, "
		"power otherwise"},
	{.key = "gpus", .type = LLMCAP_T_MAP, .offset = SC(cost.gpus), .count_offset = SC(cost.n_gpus),
	 .elem_size = sizeof(struct llmcap_gpu_price_cfg), .max_count = LLMCAP_MAX_GPU_PRICES,
	 .sub = &gpu_price_section, .where_offset = GP(where),
	 .doc = "per GPU catalog name, prices that replace the catalog's (llmcap catalog lists "
		"them with sources and dates); a sweep over hardware.gpu takes each GPU's own"},
	{.key = "rent", .type = LLMCAP_T_SECTION, .sub = &rent_section,
	 .doc = "renting GPUs by the hour: reserved baseline, term, spot interruptions"},
	{.key = "power", .type = LLMCAP_T_SECTION, .sub = &power_section,
	 .doc = "opex: power inputs (GPU idle and peak watts come from the GPU catalog)"},
	{.key = "api", .type = LLMCAP_T_SECTION, .sub = &api_section, .doc = "what the same traffic costs on an API"},
};
static const struct llmcap_section cost_section = LLMCAP_SECTION(cost_fields);

static const struct llmcap_field output_fields[] = {
	{.key = "path", .type = LLMCAP_T_STR, .offset = SC(output.path), .size = 1024, .def = "null",
	 .doc = "HDF5 result file (null: none); `llmcap run -o FILE` sets it too"},
	{.key = "requests", .type = LLMCAP_T_BOOL, .offset = SC(output.requests), .def = "true",
	 .doc = "write the per-request table"},
	{.key = "timeseries", .type = LLMCAP_T_BOOL, .offset = SC(output.timeseries), .def = "true",
	 .doc = "write time series per replica and per pool"},
	{.key = "timeseries_interval", .type = LLMCAP_T_DURATION, .offset = SC(output.timeseries_interval),
	 .def = "60s", .doc = "time-series sampling interval (simulated time)", .min = 0,
	 .max = HUGE_VAL, .flags = LLMCAP_F_MIN_EXCL},
	{.key = "percentiles", .type = LLMCAP_T_ENUM, .offset = SC(output.percentiles), .def = "exact",
	 .names = llmcap_percentiles_names,
	 .doc = "exact: keep every latency; streaming: log-bucketed histograms in bounded memory, "
		"within percentile_error of an adjacent order statistic"},
	{.key = "percentile_error", .type = LLMCAP_T_DOUBLE, .offset = SC(output.percentile_error),
	 .def = "0.01", .doc = "relative error bound of streaming percentiles", .min = 0, .max = 0.5,
	 .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX},
	{.key = "compression", .type = LLMCAP_T_INT, .offset = SC(output.compression), .def = "1",
	 .min = 0, .max = 9, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "deflate level (after a byte shuffle) of the per-request table and the time "
		"series: 0 stores them uncompressed (a month's run: ~1 s faster to write, ~2.5x "
		"larger), 1 is fast, 9 smallest"},
};
static const struct llmcap_section output_section = LLMCAP_SECTION(output_fields);

#define SW(member) offsetof(struct llmcap_scenario, sweep.member)
static const struct llmcap_field sweep_fields[] = {
	{.key = "vary", .type = LLMCAP_T_SPECMAP, .offset = SW(vary), .count_offset = SW(n_vary),
	 .max_count = LLMCAP_SWEEP_FILE_MAX, .size = LLMCAP_SWEEP_SPEC_MAX,
	 .flags = LLMCAP_F_KEYPATH, .hook = check_vary,
	 .doc = "`llmcap sweep`: key path to SPEC, as `--vary KEY=SPEC` (a list `[a, b]` or "
		"`a,b`, a range `10:200:10/s`, `log:1e3:1e5:5/day`, a named set `@gpus`); in order, "
		"the last varying fastest; `--vary` replaces a key given here or adds one"},
	{.key = "sets", .type = LLMCAP_T_SPECMAP, .offset = SW(sets), .count_offset = SW(n_sets),
	 .max_count = LLMCAP_SWEEP_FILE_MAX, .size = LLMCAP_SWEEP_SPEC_MAX, .reserved = reserved_sets,
	 .doc = "named sets of values, as lists, that a SPEC uses as `@NAME` (besides the built-in "
		"`@gpus`, `@models`, `@engines`, `@prices` and `@all`)"},
	{.key = "zip", .type = LLMCAP_T_BOOL, .offset = SW(zip), .def = "false",
	 .doc = "vary the keys together instead of their Cartesian product (`--zip`)"},
	{.key = "seeds", .type = LLMCAP_T_INT, .offset = SW(seeds), .def = "1", .min = 1, .max = 1000000,
	 .flags = LLMCAP_F_HAS_MAX, .doc = "runs per point, with seeds seed, seed + 1, ... (`--seeds`)"},
	{.key = "batch_means", .type = LLMCAP_T_INT, .offset = SW(batch_means), .def = "0", .min = 0,
	 .max = 1000, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "split each run after the warm-up into this many batches and add batch-means "
		"intervals (0: off; `--batch-means`)"},
	{.key = "warmup", .type = LLMCAP_T_DURATION, .offset = SW(warmup), .def = "auto", .min = 0,
	 .max = HUGE_VAL, .flags = LLMCAP_F_AUTO,
	 .doc = "simulated time left out before the first batch (auto: one batch's length; "
		"`--warmup`)"},
	{.key = "timeseries", .type = LLMCAP_T_BOOL, .offset = SW(timeseries), .def = "false",
	 .doc = "store each run's pool time series in the sweep file (`--timeseries`)"},
	{.key = "skip_invalid", .type = LLMCAP_T_BOOL, .offset = SW(skip_invalid), .def = "false",
	 .doc = "run the points whose scenario is valid and keep the others' rows with NaN "
		"metrics, `valid` 0 and the reason in `error`, instead of refusing the sweep "
		"(`--skip-invalid`)"},
};
static const struct llmcap_section sweep_section = LLMCAP_SECTION(sweep_fields);

static const struct llmcap_field scenario_fields[] = {
	{.key = "name", .type = LLMCAP_T_STR, .offset = SC(name), .size = 128, .def = "unnamed",
	 .doc = "label printed with the results"},
	{.key = "catalog", .type = LLMCAP_T_PATH, .offset = SC(catalog), .size = LLMCAP_PATH_MAX,
	 .count_offset = SC(n_catalog), .max_count = LLMCAP_SCENARIO_CATALOGS, .def = "",
	 .doc = "YAML files (one, or a list) of models, GPUs, engines, prices and links that add to or "
		"replace the built-in ones, relative to this file (docs/models.md); --catalog adds more"},
	{.key = "seed", .type = LLMCAP_T_U64, .offset = SC(seed), .def = "42",
	 .doc = "seed of every random stream; same scenario + seed = same results"},
	{.key = "max_in_flight", .type = LLMCAP_T_INT, .offset = SC(max_in_flight), .def = "2000000",
	 .min = 1, .max = 1e9, .flags = LLMCAP_F_HAS_MAX,
	 .doc = "most requests waiting or running in the whole fleet at once; an overloaded fleet "
		"turns further arrivals away (counted as rejected:queue_full, and the summary says it "
		"is overloaded), which bounds memory"},
	{.key = "horizon", .type = LLMCAP_T_DURATION, .offset = SC(horizon), .def = "1d",
	 .doc = "simulated time (arrivals stop there; requests still in flight are reported unfinished)",
	 .min = 0, .max = 3660.0 * 86400e9, .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX},
	{.key = "engine_mode", .type = LLMCAP_T_ENUM, .offset = SC(engine_mode), .def = "fast",
	 .names = llmcap_engine_mode_names,
	 .doc = "fast: runs of decode-only steps advance in one go, results identical to exact "
		"(FLOPs and bytes moved to a relative 1e-12); exact: one event per step, the "
		"reference (`llmcap run --exact-steps`)"},
	{.key = "workload", .type = LLMCAP_T_SECTION, .sub = &workload_section, .doc = "the traffic"},
	{.key = "hardware", .type = LLMCAP_T_SECTION, .sub = &hardware_section, .doc = "the fleet"},
	{.key = "pools", .type = LLMCAP_T_MAP, .offset = SC(pools), .count_offset = SC(n_pools),
	 .elem_size = sizeof(struct llmcap_pool_cfg), .max_count = LLMCAP_MAX_POOLS,
	 .sub = &pool_section, .where_offset = PO(where),
	 .doc = "pools of identical replicas, by name (at least one)"},
	{.key = "cost", .type = LLMCAP_T_SECTION, .sub = &cost_section, .doc = "owned hardware vs API"},
	{.key = "output", .type = LLMCAP_T_SECTION, .sub = &output_section, .doc = "what a run writes"},
	{.key = "sweep", .type = LLMCAP_T_SECTION, .sub = &sweep_section,
	 .doc = "what `llmcap sweep` varies (docs/sweeps.md); a run ignores it"},
};
const struct llmcap_section llmcap_scenario_section = LLMCAP_SECTION(scenario_fields);
const struct llmcap_field llmcap_scenario_root = {.key = "", .type = LLMCAP_T_SECTION,
						   .sub = &llmcap_scenario_section};

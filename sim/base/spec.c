/* The name tables of the scenario's enums, generated from the X-macro lists in
 * include/llmcap/spec.h (the same list makes the enum, so a name cannot drift from its value),
 * and the name functions that models, traces and reports print with. */
#include "llmcap/spec.h"

#define NAMES(list) {list(LLMCAP_NAME_ITEM) NULL}

const char *const llmcap_dist_names[LLMCAP_DIST_COUNT + 1] = NAMES(LLMCAP_DISTS);
const char *const llmcap_diurnal_shape_names[LLMCAP_DIURNAL_COUNT + 1] =
	NAMES(LLMCAP_DIURNAL_SHAPES);
const char *const llmcap_arrival_names[LLMCAP_ARRIVAL_COUNT + 1] = NAMES(LLMCAP_ARRIVALS);
const char *const llmcap_stream_arrival_names[LLMCAP_STREAM_ARRIVAL_COUNT + 1] =
	NAMES(LLMCAP_STREAM_ARRIVALS);
const char *const llmcap_think_dist_names[LLMCAP_THINK_COUNT + 1] = NAMES(LLMCAP_THINK_DISTS);
const char *const llmcap_dtype_names[LLMCAP_DTYPE_COUNT + 1] = NAMES(LLMCAP_DTYPES);
const char *const llmcap_kv_dtype_names[LLMCAP_KV_DTYPE_COUNT + 1] = NAMES(LLMCAP_KV_DTYPES);
const char *const llmcap_percentiles_names[LLMCAP_PERCENTILES_COUNT + 1] =
	NAMES(LLMCAP_PERCENTILE_MODES);
const char *const llmcap_perf_model_names[LLMCAP_PERF_MODEL_COUNT + 1] = NAMES(LLMCAP_PERF_MODELS);
const char *const llmcap_table_range_names[LLMCAP_TABLE_RANGE_COUNT + 1] =
	NAMES(LLMCAP_TABLE_RANGES);
const char *const llmcap_router_names[LLMCAP_ROUTER_COUNT + 1] = NAMES(LLMCAP_ROUTERS);
const char *const llmcap_sched_policy_names[LLMCAP_SCHED_COUNT + 1] = NAMES(LLMCAP_SCHED_POLICIES);
const char *const llmcap_preemption_names[LLMCAP_PREEMPT_COUNT + 1] = NAMES(LLMCAP_PREEMPTIONS);
const char *const llmcap_limit_action_names[LLMCAP_LIMIT_COUNT + 1] = NAMES(LLMCAP_LIMIT_ACTIONS);
const char *const llmcap_spec_method_names[LLMCAP_SPEC_METHOD_COUNT + 1] =
	NAMES(LLMCAP_SPEC_METHODS);
const char *const llmcap_lora_target_names[LLMCAP_LORA_TARGET_COUNT + 1] =
	NAMES(LLMCAP_LORA_TARGETS);
const char *const llmcap_lora_popularity_names[LLMCAP_LORA_POPULARITY_COUNT + 1] =
	NAMES(LLMCAP_LORA_POPULARITIES);
const char *const llmcap_autoscale_metric_names[LLMCAP_AUTOSCALE_COUNT + 1] =
	NAMES(LLMCAP_AUTOSCALE_METRICS);
const char *const llmcap_opex_mode_names[LLMCAP_OPEX_COUNT + 1] = NAMES(LLMCAP_OPEX_MODES);
const char *const llmcap_trace_format_names[LLMCAP_TRACE_FORMAT_COUNT + 1] =
	NAMES(LLMCAP_TRACE_FORMATS);
const char *const llmcap_time_unit_names[LLMCAP_TIME_UNIT_COUNT + 1] = NAMES(LLMCAP_TIME_UNITS);
const char *const llmcap_bad_rows_names[LLMCAP_BAD_ROWS_COUNT + 1] = NAMES(LLMCAP_BAD_ROWS_ACTIONS);
const char *const llmcap_trace_fill_names[LLMCAP_FILL_COUNT + 1] = NAMES(LLMCAP_TRACE_FILLS);
const char *const llmcap_trace_assign_names[LLMCAP_ASSIGN_COUNT + 1] = NAMES(LLMCAP_TRACE_ASSIGNS);
const char *const llmcap_engine_mode_names[LLMCAP_ENGINE_MODE_COUNT + 1] =
	NAMES(LLMCAP_ENGINE_MODES);
const char *const llmcap_memory_rule_names[LLMCAP_MEMORY_RULE_COUNT + 1] = NAMES(LLMCAP_MEMORY_RULES);
const char *const llmcap_memory_rule_auto_names[LLMCAP_MEMORY_RULE_COUNT + 2] = {
	"auto", LLMCAP_MEMORY_RULES(LLMCAP_NAME_ITEM) NULL};
const char *const llmcap_admission_names[LLMCAP_ADMISSION_COUNT + 1] = NAMES(LLMCAP_ADMISSIONS);
const char *const llmcap_admission_auto_names[LLMCAP_ADMISSION_COUNT + 2] = {
	"auto", LLMCAP_ADMISSIONS(LLMCAP_NAME_ITEM) NULL};
const char *const llmcap_bool_auto_names[4] = {"auto", "false", "true", NULL};
const char *const llmcap_weekday_names[LLMCAP_WEEKDAY_COUNT + 1] = NAMES(LLMCAP_WEEKDAYS);

const char *llmcap_dtype_name(enum llmcap_dtype d)
{
	return llmcap_dtype_names[d];
}

const char *llmcap_router_name(enum llmcap_router r)
{
	return llmcap_router_names[r];
}

const char *llmcap_dist_name(enum llmcap_dist_kind k)
{
	return llmcap_dist_names[k];
}

const char *llmcap_arrival_name(enum llmcap_arrival_kind kind)
{
	return llmcap_arrival_names[kind];
}

const char *llmcap_diurnal_shape_name(enum llmcap_diurnal_shape shape)
{
	return llmcap_diurnal_shape_names[shape];
}

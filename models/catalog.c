/* The catalogs (the YAML files of models/catalog/, compiled in): their field tables for the schema walker
 * (sim/base/schema.c), loading the built-in catalog, and lookups by name. See
 * include/llmcap/catalog.h. */
#include "llmcap/catalog.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/schema.h"

/* ---- the catalog's field tables ---- */

#define MS(member) offsetof(struct llmcap_model_spec, member)
#define GS(member) offsetof(struct llmcap_gpu_spec, member)
#define POSINT(k, m, d) \
	{.key = k, .type = LLMCAP_T_INT, .offset = MS(m), .def = d, .doc = d, .min = 1, .max = 1 << 30, \
	 .flags = LLMCAP_F_HAS_MAX}

static const struct llmcap_field model_fields[] = {
	{.key = "source", .type = LLMCAP_T_STR, .offset = MS(source), .size = 512, .def = "",
	 .doc = "where the numbers come from"},
	POSINT("layers", layers, "1"),
	POSINT("hidden_size", hidden_size, "1"),
	POSINT("num_attention_heads", num_attention_heads, "1"),
	POSINT("num_key_value_heads", num_key_value_heads, "1"),
	POSINT("head_dim", head_dim, "1"),
	POSINT("intermediate_size", intermediate_size, "1"),
	POSINT("vocab_size", vocab_size, "1"),
	POSINT("max_position_embeddings", max_position_embeddings, "1"),
	{.key = "tie_word_embeddings", .type = LLMCAP_T_BOOL, .offset = MS(tie_word_embeddings),
	 .def = "false", .doc = ""},
	{.key = "num_experts", .type = LLMCAP_T_INT, .offset = MS(num_experts), .def = "0", .doc = "",
	 .min = 0, .max = 4096, .flags = LLMCAP_F_HAS_MAX},
	{.key = "experts_per_token", .type = LLMCAP_T_INT, .offset = MS(experts_per_token), .def = "0",
	 .doc = "", .min = 0, .max = 4096, .flags = LLMCAP_F_HAS_MAX},
#define ZINT(k, m) \
	{.key = k, .type = LLMCAP_T_INT, .offset = MS(m), .def = "0", .doc = "", .min = 0, .max = 1 << 30, \
	 .flags = LLMCAP_F_HAS_MAX}
	ZINT("moe_intermediate_size", moe_intermediate_size),
	ZINT("num_shared_experts", num_shared_experts),
	ZINT("first_dense_layers", first_dense_layers),
	ZINT("kv_lora_rank", kv_lora_rank),
	ZINT("q_lora_rank", q_lora_rank),
	ZINT("qk_nope_head_dim", qk_nope_head_dim),
	ZINT("qk_rope_head_dim", qk_rope_head_dim),
	ZINT("v_head_dim", v_head_dim),
#undef ZINT
	{.key = "aliases", .type = LLMCAP_T_STR, .offset = MS(aliases), .size = LLMCAP_ALIASES_MAX,
	 .def = "", .doc = "other names it answers to (case-insensitive), separated by commas"},
};
static const struct llmcap_section model_section = LLMCAP_SECTION(model_fields);

#define FRACTION(k, off) \
	{.key = k, .type = LLMCAP_T_DOUBLE, .offset = off, .def = "1", .doc = "", .min = 0, .max = 1, \
	 .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX}
#define GPUNUM(k, m, t) \
	{.key = k, .type = t, .offset = GS(m), .def = "0", .doc = "", .min = 0, .max = HUGE_VAL}
/* ---- prices (models/catalog/gpus.yaml `price:`, models/catalog/prices.yaml) ---- */

/* A price that may be missing: null (the default) is NAN, "no published source". */
#define GPRICE(k, m, d) \
	{.key = k, .type = LLMCAP_T_DOUBLE, .offset = GS(price.m), .def = "null", .doc = d, .min = 0, \
	 .max = HUGE_VAL, .flags = LLMCAP_F_NULL}
#define GSOURCE(k, m) \
	{.key = k, .type = LLMCAP_T_STR, .offset = GS(price.m), .size = LLMCAP_PRICE_SOURCE_MAX, .def = "", \
	 .doc = "where the figure comes from, with its date"}
static const struct llmcap_field gpu_price_fields[] = {
	GPRICE("gpu", gpu, "USD per GPU, purchase"),
	GSOURCE("gpu_source", gpu_source),
	GPRICE("chassis", chassis, "USD per server without GPUs: board, CPUs, memory, storage"),
	GPRICE("network_per_gpu", network_per_gpu, "USD per GPU: NICs, optics, switch ports"),
	GSOURCE("server_source", server_source),
	GPRICE("busy_watts", busy_watts, "mean board power while executing steps (null: tdp_watts)"),
	GPRICE("prefill_watts", prefill_watts, "board power in prefill steps"),
	GPRICE("decode_watts", decode_watts, "board power in decode steps"),
	GSOURCE("power_source", power_source),
	GPRICE("on_demand", on_demand, "USD per GPU-hour"),
	GSOURCE("on_demand_source", on_demand_source),
	GPRICE("reserved_1y", reserved_1y, "USD per GPU-hour, 1-year commitment"),
	GPRICE("reserved_3y", reserved_3y, "USD per GPU-hour, 3-year commitment"),
	GSOURCE("reserved_source", reserved_source),
	GPRICE("spot", spot, "USD per GPU-hour, interruptible"),
	GPRICE("spot_interruptions", spot_interruptions, "interruptions per replica-month"),
	GSOURCE("spot_source", spot_source),
};
static const struct llmcap_section gpu_price_section = LLMCAP_SECTION(gpu_price_fields);

static const struct llmcap_field gpu_fields[] = {
	{.key = "source", .type = LLMCAP_T_STR, .offset = GS(source), .size = 1024, .def = "", .doc = ""},
	GPUNUM("memory", memory, LLMCAP_T_BYTES),
	GPUNUM("hbm_bandwidth", hbm_bandwidth, LLMCAP_T_DOUBLE),
	GPUNUM("bf16_tflops", bf16_tflops, LLMCAP_T_DOUBLE),
	GPUNUM("fp8_tflops", fp8_tflops, LLMCAP_T_DOUBLE),
	GPUNUM("int8_tflops", int8_tflops, LLMCAP_T_DOUBLE),
	{.key = "interconnect", .type = LLMCAP_T_STR, .offset = GS(interconnect), .size = LLMCAP_NAME_MAX,
	 .def = "", .doc = ""},
	GPUNUM("nvlink_bandwidth", nvlink_bandwidth, LLMCAP_T_DOUBLE),
	GPUNUM("tdp_watts", tdp_watts, LLMCAP_T_DOUBLE),
	GPUNUM("idle_watts", idle_watts, LLMCAP_T_DOUBLE),
	FRACTION("gemm_efficiency", GS(gemm_efficiency)),
	GPUNUM("gemm_half_tokens", gemm_half_tokens, LLMCAP_T_DOUBLE),
	FRACTION("hbm_efficiency", GS(hbm_efficiency)),
	{.key = "layer_latency", .type = LLMCAP_T_DURATION, .offset = GS(layer_latency), .def = "0ns",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	FRACTION("attention_efficiency", GS(attention_efficiency)),
	{.key = "allreduce_latency", .type = LLMCAP_T_DURATION, .offset = GS(allreduce_latency),
	 .def = "0ns", .doc = "", .min = 0, .max = HUGE_VAL},
	GPUNUM("allreduce_bandwidth", allreduce_bandwidth, LLMCAP_T_DOUBLE),
	{.key = "price", .type = LLMCAP_T_SECTION, .sub = &gpu_price_section,
	 .doc = "purchase, power and rental prices, each with its source"},
	{.key = "aliases", .type = LLMCAP_T_STR, .offset = GS(aliases), .size = LLMCAP_ALIASES_MAX,
	 .def = "", .doc = "other names it answers to (case-insensitive), separated by commas"},
};
static const struct llmcap_section gpu_section = LLMCAP_SECTION(gpu_fields);

#define ES(member) offsetof(struct llmcap_engine_spec, member)
static const struct llmcap_field engine_fields[] = {
	{.key = "source", .type = LLMCAP_T_STR, .offset = ES(source), .size = 1024, .def = "", .doc = ""},
	{.key = "step_overhead", .type = LLMCAP_T_DURATION, .offset = ES(step_overhead), .def = "0ns",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	{.key = "seq_overhead", .type = LLMCAP_T_DURATION, .offset = ES(seq_overhead), .def = "0ns",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	FRACTION("attention_bw_efficiency", ES(attention_bw_efficiency)),
	{.key = "eager_layer_overhead", .type = LLMCAP_T_DURATION, .offset = ES(eager_layer_overhead),
	 .def = "0ns", .doc = "", .min = 0, .max = HUGE_VAL},
	{.key = "allreduce_latency", .type = LLMCAP_T_DURATION, .offset = ES(allreduce_latency),
	 .def = "auto", .doc = "", .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_AUTO},
	{.key = "memory_rule", .type = LLMCAP_T_ENUM, .offset = ES(memory_rule), .def = "vllm",
	 .names = llmcap_memory_rule_names, .doc = ""},
	{.key = "reserved_memory", .type = LLMCAP_T_BYTES, .offset = ES(reserved_memory), .def = "0",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	{.key = "cuda_graph_memory", .type = LLMCAP_T_BYTES, .offset = ES(cuda_graph_memory), .def = "0",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	{.key = "nccl_memory", .type = LLMCAP_T_BYTES, .offset = ES(nccl_memory), .def = "0", .doc = "",
	 .min = 0, .max = HUGE_VAL},
	{.key = "embed_16bit", .type = LLMCAP_T_BOOL, .offset = ES(embed_16bit), .def = "true", .doc = ""},
	{.key = "admission", .type = LLMCAP_T_ENUM, .offset = ES(admission), .def = "vllm",
	 .names = llmcap_admission_names, .doc = ""},
	{.key = "reserve_output", .type = LLMCAP_T_DOUBLE, .offset = ES(reserve_output), .def = "0",
	 .doc = "", .min = 0, .max = 1, .flags = LLMCAP_F_HAS_MAX},
	{.key = "async_scheduling", .type = LLMCAP_T_BOOL, .offset = ES(async_scheduling), .def = "false",
	 .doc = ""},
	{.key = "scheduler_steps", .type = LLMCAP_T_INT, .offset = ES(scheduler_steps), .def = "1",
	 .doc = "", .min = 1, .max = 64, .flags = LLMCAP_F_HAS_MAX},
	{.key = "separate_prefill", .type = LLMCAP_T_BOOL, .offset = ES(separate_prefill),
	 .def = "false", .doc = ""},
	{.key = "frontend_time", .type = LLMCAP_T_DURATION, .offset = ES(frontend_time), .def = "0ns",
	 .doc = "", .min = 0, .max = HUGE_VAL},
	{.key = "frontend_latency", .type = LLMCAP_T_DURATION, .offset = ES(frontend_latency),
	 .def = "0ns", .doc = "", .min = 0, .max = HUGE_VAL},
};
static const struct llmcap_section engine_section = LLMCAP_SECTION(engine_fields);

static const struct llmcap_field catalog_models_root = {
	.key = "models", .type = LLMCAP_T_MAP, .offset = offsetof(struct llmcap_catalog, models),
	.count_offset = offsetof(struct llmcap_catalog, n_models),
	.elem_size = sizeof(struct llmcap_model_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &model_section};
static const struct llmcap_field catalog_gpus_root = {
	.key = "gpus", .type = LLMCAP_T_MAP, .offset = offsetof(struct llmcap_catalog, gpus),
	.count_offset = offsetof(struct llmcap_catalog, n_gpus),
	.elem_size = sizeof(struct llmcap_gpu_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &gpu_section};
#define PS(member) offsetof(struct llmcap_price_spec, member)
static const struct llmcap_field price_spec_fields[] = {
	{.key = "source", .type = LLMCAP_T_STR, .offset = PS(source), .size = 512, .def = "", .doc = ""},
	{.key = "input", .type = LLMCAP_T_DOUBLE, .offset = PS(input), .def = "0", .doc = "", .min = 0,
	 .max = HUGE_VAL},
	{.key = "output", .type = LLMCAP_T_DOUBLE, .offset = PS(output), .def = "0", .doc = "", .min = 0,
	 .max = HUGE_VAL},
	{.key = "provider", .type = LLMCAP_T_STR, .offset = PS(provider), .size = LLMCAP_NAME_MAX, .def = "",
	 .doc = ""},
	{.key = "cached_input", .type = LLMCAP_T_DOUBLE, .offset = PS(cached_input), .def = "null",
	 .doc = "", .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_NULL},
	{.key = "batch_discount", .type = LLMCAP_T_DOUBLE, .offset = PS(batch_discount), .def = "null",
	 .doc = "", .min = 0, .max = 1, .flags = LLMCAP_F_NULL | LLMCAP_F_HAS_MAX},
#define LATENCY(k, m) \
	{.key = k, .type = LLMCAP_T_DURATION, .offset = PS(m), .def = "0ns", .doc = "0: not published", \
	 .min = 0, .max = HUGE_VAL}
	LATENCY("ttft_p50", ttft_p50),
	LATENCY("ttft_p95", ttft_p95),
	LATENCY("ttft_p99", ttft_p99),
#undef LATENCY
	{.key = "speed_p50", .type = LLMCAP_T_DOUBLE, .offset = PS(speed_p50), .def = "null", .doc = "",
	 .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_NULL},
	{.key = "peak_factor", .type = LLMCAP_T_DOUBLE, .offset = PS(peak_factor), .def = "null",
	 .doc = "", .min = 0, .max = HUGE_VAL, .flags = LLMCAP_F_NULL},
	{.key = "latency_source", .type = LLMCAP_T_STR, .offset = PS(latency_source), .size = 1024,
	 .def = "", .doc = ""},
};
static const struct llmcap_section price_spec_section = LLMCAP_SECTION(price_spec_fields);
static const struct llmcap_field catalog_prices_root = {
	.key = "prices", .type = LLMCAP_T_MAP, .offset = offsetof(struct llmcap_catalog, prices),
	.count_offset = offsetof(struct llmcap_catalog, n_prices),
	.elem_size = sizeof(struct llmcap_price_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &price_spec_section};

#define LK(member) offsetof(struct llmcap_link_spec, member)
static const struct llmcap_field link_spec_fields[] = {
	{.key = "source", .type = LLMCAP_T_STR, .offset = LK(source), .size = 1024, .def = "", .doc = ""},
	{.key = "scope", .type = LLMCAP_T_STR, .offset = LK(scope), .size = LLMCAP_NAME_MAX,
	 .def = "cluster", .doc = "server (NVLink) or cluster"},
	{.key = "bandwidth", .type = LLMCAP_T_DOUBLE, .offset = LK(bandwidth), .def = "50e9",
	 .doc = "bytes/s per GPU, per direction", .min = 0, .max = HUGE_VAL,
	 .flags = LLMCAP_F_MIN_EXCL},
	{.key = "latency", .type = LLMCAP_T_DURATION, .offset = LK(latency), .def = "10us",
	 .doc = "per transfer", .min = 0, .max = HUGE_VAL},
};
#undef LK
static const struct llmcap_section link_spec_section = LLMCAP_SECTION(link_spec_fields);
static const struct llmcap_field catalog_links_root = {
	.key = "links", .type = LLMCAP_T_MAP, .offset = offsetof(struct llmcap_catalog, links),
	.count_offset = offsetof(struct llmcap_catalog, n_links),
	.elem_size = sizeof(struct llmcap_link_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &link_spec_section};

static const struct llmcap_field catalog_engines_root = {
	.key = "engines", .type = LLMCAP_T_MAP, .offset = offsetof(struct llmcap_catalog, engines),
	.count_offset = offsetof(struct llmcap_catalog, n_engines),
	.elem_size = sizeof(struct llmcap_engine_spec), .max_count = LLMCAP_CATALOG_MAX,
	.sub = &engine_section};

/* ---- loading and lookups ---- */

/* A user catalog file: the four maps under their keys, in one mapping. */
static const struct llmcap_field user_fields[] = {
#define MAPFIELD(k, arr, n, elem, sect) \
	{.key = k, .type = LLMCAP_T_MAP, .offset = offsetof(struct llmcap_catalog, arr), \
	 .count_offset = offsetof(struct llmcap_catalog, n), .elem_size = sizeof(elem), \
	 .max_count = LLMCAP_CATALOG_MAX, .sub = &sect, .doc = ""}
	MAPFIELD("models", models, n_models, struct llmcap_model_spec, model_section),
	MAPFIELD("gpus", gpus, n_gpus, struct llmcap_gpu_spec, gpu_section),
	MAPFIELD("engines", engines, n_engines, struct llmcap_engine_spec, engine_section),
	MAPFIELD("prices", prices, n_prices, struct llmcap_price_spec, price_spec_section),
	MAPFIELD("links", links, n_links, struct llmcap_link_spec, link_spec_section),
#undef MAPFIELD
};
static const struct llmcap_section user_section = LLMCAP_SECTION(user_fields);
static const struct llmcap_field user_root = {.key = "", .type = LLMCAP_T_SECTION, .sub = &user_section};

/* One catalog file: a mapping of entry names to entries (an empty file adds none). */
static int load_catalog_map(const struct llmcap_field *root, struct llmcap_catalog *cat,
			    const char *text, const char *origin, struct llmcap_error *err)
{
	int rc = llmcap_schema_apply_text(root, cat, text, strlen(text), origin, NULL, NULL, err);
	return rc > 0 ? 0 : rc;
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
	if (rc == 0)
		rc = load_catalog_map(&catalog_links_root, cat, llmcap_builtin_links_yaml,
				      "models/catalog/links.yaml", err);
	return rc;
}

/* Names compare without case: "H100" and "h100" are one name. */
static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* Whether `name` is one of the comma-separated names of `list`. */
static bool in_aliases(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t k = strcspn(p, ", ");
		if (k == n && k > 0) {
			char one[LLMCAP_ALIASES_MAX];
			snprintf(one, sizeof one, "%.*s", (int)k, p);
			if (same_name(one, name))
				return true;
		}
		p += k;
	}
	return false;
}

/* The entries of one kind as a strided array: name at offset 0, aliases at alias_off (0: none). */
struct table {
	const char *base;
	size_t n, stride, alias_off;
};

static struct table table_of(const struct llmcap_catalog *cat, const char *kind)
{
	if (!strcmp(kind, "models"))
		return (struct table){(const char *)cat->models, cat->n_models, sizeof cat->models[0],
				      offsetof(struct llmcap_model_spec, aliases)};
	if (!strcmp(kind, "gpus"))
		return (struct table){(const char *)cat->gpus, cat->n_gpus, sizeof cat->gpus[0],
				      offsetof(struct llmcap_gpu_spec, aliases)};
	if (!strcmp(kind, "engines"))
		return (struct table){(const char *)cat->engines, cat->n_engines, sizeof cat->engines[0], 0};
	if (!strcmp(kind, "links"))
		return (struct table){(const char *)cat->links, cat->n_links, sizeof cat->links[0], 0};
	return (struct table){(const char *)cat->prices, cat->n_prices, sizeof cat->prices[0], 0};
}

/* An entry's index: by name, then by alias, then (for "org/name") the part after the '/'. */
static ptrdiff_t find(struct table t, const char *name)
{
	for (size_t i = 0; i < t.n; i++)
		if (same_name(t.base + i * t.stride, name))
			return (ptrdiff_t)i;
	for (size_t i = 0; t.alias_off && i < t.n; i++)
		if (in_aliases(t.base + i * t.stride + t.alias_off, name))
			return (ptrdiff_t)i;
	const char *slash = strrchr(name, '/');
	return slash && slash[1] ? find(t, slash + 1) : -1;
}

const struct llmcap_price_spec *llmcap_catalog_price(const struct llmcap_catalog *cat,
						     const char *name)
{
	ptrdiff_t i = find(table_of(cat, "prices"), name);
	return i < 0 ? NULL : &cat->prices[i];
}

const struct llmcap_model_spec *llmcap_catalog_model(const struct llmcap_catalog *cat,
						     const char *name)
{
	ptrdiff_t i = find(table_of(cat, "models"), name);
	return i < 0 ? NULL : &cat->models[i];
}

const struct llmcap_engine_spec *llmcap_catalog_engine(const struct llmcap_catalog *cat,
						       const char *name)
{
	ptrdiff_t i = find(table_of(cat, "engines"), name);
	return i < 0 ? NULL : &cat->engines[i];
}

const struct llmcap_link_spec *llmcap_catalog_link(const struct llmcap_catalog *cat,
						   const char *name)
{
	ptrdiff_t i = find(table_of(cat, "links"), name);
	return i < 0 ? NULL : &cat->links[i];
}

const struct llmcap_gpu_spec *llmcap_catalog_gpu(const struct llmcap_catalog *cat,
						 const char *name)
{
	ptrdiff_t i = find(table_of(cat, "gpus"), name);
	return i < 0 ? NULL : &cat->gpus[i];
}

/* Levenshtein distance without case, on names of at most LLMCAP_NAME_MAX characters. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la >= LLMCAP_NAME_MAX || lb >= LLMCAP_NAME_MAX)
		return (size_t)-1;
	size_t row[LLMCAP_NAME_MAX + 1];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char x[2] = {a[i - 1], 0}, y[2] = {b[j - 1], 0};
			size_t sub = diag + !same_name(x, y);
			size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
			diag = row[j];
			row[j] = sub < best ? sub : best;
		}
	}
	return row[lb];
}

void llmcap_catalog_suggest(const struct llmcap_catalog *cat, const char *kind, const char *name,
			    char *buf, size_t len)
{
	struct table t = table_of(cat, kind);
	const char *slash = strrchr(name, '/');
	const char *q = slash && slash[1] ? slash + 1 : name;
	size_t best = (size_t)-1, at = 0;
	for (size_t i = 0; i < t.n; i++) {
		const char *e = t.base + i * t.stride;
		size_t d = distance(q, e);
		/* and each alias */
		const char *p = t.alias_off ? e + t.alias_off : "";
		while (*p) {
			while (*p == ',' || *p == ' ')
				p++;
			size_t k = strcspn(p, ", ");
			if (k > 0 && k < LLMCAP_NAME_MAX) {
				char one[LLMCAP_NAME_MAX];
				snprintf(one, sizeof one, "%.*s", (int)k, p);
				size_t da = distance(q, one);
				d = da < d ? da : d;
			}
			p += k;
		}
		if (d < best) {
			best = d;
			at = i;
		}
	}
	/* a likely typo: a third of the name's characters or fewer changed (at least 2) */
	size_t limit = strlen(q) / 3 > 2 ? strlen(q) / 3 : 2;
	if (t.n > 0 && best <= limit)
		snprintf(buf, len, " (did you mean '%s'?)", t.base + at * t.stride);
	else if (len)
		buf[0] = '\0';
}

/* Adds src's entries of one kind to dst, each replacing the entry of the same name. */
static int merge(struct llmcap_catalog *dst, const struct llmcap_catalog *src, const char *kind,
		 const char *origin, struct llmcap_error *err)
{
	struct table from = table_of(src, kind);
	for (size_t i = 0; i < from.n; i++) {
		const char *e = from.base + i * from.stride;
		struct table to = table_of(dst, kind);
		ptrdiff_t at = -1;
		for (size_t k = 0; k < to.n && at < 0; k++)
			if (same_name(to.base + k * to.stride, e))
				at = (ptrdiff_t)k;
		if (at < 0) {
			if (to.n == LLMCAP_CATALOG_MAX)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: %s.%s: the catalog holds at most %d %s",
						     origin, kind, e, LLMCAP_CATALOG_MAX, kind);
			at = (ptrdiff_t)to.n;
			size_t *count = !strcmp(kind, "models") ? &dst->n_models
				      : !strcmp(kind, "gpus")   ? &dst->n_gpus
				      : !strcmp(kind, "engines") ? &dst->n_engines
			      : !strcmp(kind, "links")   ? &dst->n_links
								 : &dst->n_prices;
			(*count)++;
		}
		char *slot = (char *)to.base + (size_t)at * to.stride;
		char keep[LLMCAP_NAME_MAX];
		memcpy(keep, slot, sizeof keep); /* a replaced entry keeps its spelling */
		memcpy(slot, e, from.stride);
		if ((size_t)at < to.n)
			memcpy(slot, keep, sizeof keep);
	}
	return 0;
}

int llmcap_catalog_load_text(struct llmcap_catalog *cat, const char *text, size_t len,
			     const char *origin, struct llmcap_error *err)
{
	/* parsed into an empty catalog first, so that an entry starts from the schema defaults
	 * rather than merging into the built-in entry of its name */
	struct llmcap_catalog *user = calloc(1, sizeof *user);
	if (!user)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	int rc = llmcap_schema_apply_text(&user_root, user, text, len, origin, NULL, NULL, err);
	rc = rc > 0 ? 0 : rc;
	const char *const kinds[] = {"models", "gpus", "engines", "prices", "links"};
	for (size_t k = 0; rc == 0 && k < 5; k++)
		rc = merge(cat, user, kinds[k], origin, err);
	free(user);
	return rc;
}

int llmcap_catalog_load_file(struct llmcap_catalog *cat, const char *path, struct llmcap_error *err)
{
	size_t len;
	if (err)
		err->code = 0;
	char *text = llmcap_read_text(path, &len, "catalog file", err);
	if (!text)
		return -(err && err->code ? err->code : LLMCAP_EIO);
	int rc = llmcap_catalog_load_text(cat, text, len, path, err);
	free(text);
	return rc;
}

void llmcap_engine_resolve(const struct llmcap_engine_spec *base,
			   const struct llmcap_engine_override *ov, struct llmcap_engine_spec *out)
{
	*out = *base;
	if (!ov)
		return;
	if (ov->step_overhead >= 0)
		out->step_overhead = ov->step_overhead;
	if (ov->seq_overhead >= 0)
		out->seq_overhead = ov->seq_overhead;
	if (ov->eager_layer_overhead >= 0)
		out->eager_layer_overhead = ov->eager_layer_overhead;
	if (ov->allreduce_latency >= 0)
		out->allreduce_latency = ov->allreduce_latency;
	if (!isnan(ov->attention_bw_efficiency))
		out->attention_bw_efficiency = ov->attention_bw_efficiency;
	if (ov->memory_rule > 0)
		out->memory_rule = (enum llmcap_memory_rule)(ov->memory_rule - 1);
	if (ov->reserved_memory >= 0)
		out->reserved_memory = ov->reserved_memory;
	if (ov->cuda_graph_memory >= 0)
		out->cuda_graph_memory = ov->cuda_graph_memory;
	if (ov->nccl_memory >= 0)
		out->nccl_memory = ov->nccl_memory;
	if (ov->embed_16bit > 0)
		out->embed_16bit = ov->embed_16bit == 2;
	if (ov->admission > 0)
		out->admission = (enum llmcap_admission)(ov->admission - 1);
	if (!isnan(ov->reserve_output))
		out->reserve_output = ov->reserve_output;
	if (ov->async_scheduling > 0)
		out->async_scheduling = ov->async_scheduling == 2;
	if (ov->scheduler_steps > 0)
		out->scheduler_steps = ov->scheduler_steps;
	if (ov->separate_prefill > 0)
		out->separate_prefill = ov->separate_prefill == 2;
	if (ov->frontend_time >= 0)
		out->frontend_time = ov->frontend_time;
	if (ov->frontend_latency >= 0)
		out->frontend_latency = ov->frontend_latency;
}

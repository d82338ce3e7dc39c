/* Catalog names (case, aliases, did you mean), user catalogs (--catalog, a scenario's
 * catalog: key) and importing a Hugging Face config.json (models/catalog.c, models/import.c). */
#include <unistd.h>

#include "llmcap/catalog.h"
#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/schema.h"
#include "test_util.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static void names_ignore_case_and_take_aliases(void **state)
{
	(void)state;
	const struct llmcap_gpu_spec *h100 = llmcap_catalog_gpu(&cat, "h100-sxm-80gb");
	assert_non_null(h100);
	assert_ptr_equal(llmcap_catalog_gpu(&cat, "H100-SXM-80GB"), h100);
	assert_ptr_equal(llmcap_catalog_gpu(&cat, "H100"), h100);
	assert_ptr_equal(llmcap_catalog_gpu(&cat, "h100"), h100);
	assert_ptr_not_equal(llmcap_catalog_gpu(&cat, "h100-pcie"), h100);
	const struct llmcap_model_spec *l70 = llmcap_catalog_model(&cat, "llama-3.1-70b");
	assert_non_null(l70);
	assert_ptr_equal(llmcap_catalog_model(&cat, "Llama-3.1-70B"), l70);
	assert_ptr_equal(llmcap_catalog_model(&cat, "llama-3.3-70b"), l70);
	assert_ptr_equal(llmcap_catalog_model(&cat, "meta-llama/Llama-3.3-70B-Instruct"), l70);
	assert_non_null(llmcap_catalog_engine(&cat, "VLLM"));
	assert_non_null(llmcap_catalog_price(&cat, "GROQ-llama-3.1-8b"));
	assert_null(llmcap_catalog_gpu(&cat, "h1000"));
	assert_null(llmcap_catalog_model(&cat, "llama-3.3"));
	/* a name's prefix is not the name */
	assert_null(llmcap_catalog_gpu(&cat, "h100-sxm-80"));
}

static void unknown_names_get_a_suggestion(void **state)
{
	(void)state;
	char hint[128];
	llmcap_catalog_suggest(&cat, "gpus", "h100-sxm-80g", hint, sizeof hint);
	assert_contains(hint, "did you mean 'h100-sxm-80gb'");
	llmcap_catalog_suggest(&cat, "models", "lama-3.1-8b", hint, sizeof hint);
	assert_contains(hint, "'llama-3.1-8b'");
	llmcap_catalog_suggest(&cat, "models", "Llama-3.3-70B-Instrct", hint, sizeof hint);
	assert_contains(hint, "'llama-3.1-70b'"); /* by its alias */
	llmcap_catalog_suggest(&cat, "engines", "vlm", hint, sizeof hint);
	assert_contains(hint, "'vllm'");
	llmcap_catalog_suggest(&cat, "gpus", "tpu-v5e", hint, sizeof hint);
	assert_string_equal(hint, ""); /* nothing close: no guess */
}

static void scenario_names_become_the_catalogs(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	const char *sets[] = {"hardware.gpu=H100", "pools.utility.model=Llama-3.1-8B",
			      "pools.utility.engine=VLLM"};
	assert_int_equal(llmcap_scenario_load(sc, NULL, sets, 3, &cat, &err), 0);
	assert_string_equal(sc->hardware.gpu, "h100-sxm-80gb");
	assert_string_equal(sc->pools[0].model, "llama-3.1-8b");
	assert_string_equal(sc->pools[0].engine, "vllm");
	llmcap_scenario_free(sc);
	const char *bad[] = {"hardware.gpu=h100-sxm-80g"};
	assert_int_not_equal(llmcap_scenario_load(sc, NULL, bad, 1, &cat, &err), 0);
	assert_contains(err.msg, "did you mean 'h100-sxm-80gb'?");
	const char *badm[] = {"pools.utility.model=llama-3.1-8", "hardware.gpu=H100"};
	assert_int_not_equal(llmcap_scenario_load(sc, NULL, badm, 2, &cat, &err), 0);
	assert_contains(err.msg, "pools.utility.model: 'llama-3.1-8' is not in the catalog (did you mean");
	free(sc);
}

static const char user_yaml[] =
	"gpus:\n"
	"  my-gpu:\n"
	"    source: a datasheet\n"
	"    memory: 96GiB\n"
	"    hbm_bandwidth: 4e12\n"
	"    bf16_tflops: 500\n"
	"    aliases: mine\n"
	"  H100-SXM-80GB:\n"
	"    memory: 40GiB\n"
	"    hbm_bandwidth: 2e12\n"
	"    bf16_tflops: 400\n"
	"models:\n"
	"  tiny:\n"
	"    layers: 2\n"
	"    hidden_size: 64\n"
	"    num_attention_heads: 4\n"
	"    num_key_value_heads: 2\n"
	"    head_dim: 16\n"
	"    intermediate_size: 128\n"
	"    vocab_size: 1000\n"
	"    max_position_embeddings: 4096\n";

static void a_user_catalog_adds_and_replaces_entries(void **state)
{
	(void)state;
	struct llmcap_catalog *c = malloc(sizeof *c);
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_catalog_load_builtin(c, &err), 0);
	size_t gpus = c->n_gpus, models = c->n_models;
	assert_int_equal(llmcap_catalog_load_text(c, user_yaml, strlen(user_yaml), "user.yaml", &err), 0);
	assert_int_equal(c->n_gpus, gpus + 1);     /* my-gpu added, the H100 replaced */
	assert_int_equal(c->n_models, models + 1);
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(c, "MINE");
	assert_non_null(g);
	assert_string_equal(g->name, "my-gpu");
	assert_rel(g->memory, 96.0 * LLMCAP_GIB, 1e-12);
	const struct llmcap_gpu_spec *h = llmcap_catalog_gpu(c, "h100-sxm-80gb");
	assert_non_null(h);
	assert_rel(h->memory, 40.0 * LLMCAP_GIB, 1e-12);
	/* replaced in full: what the user entry leaves out is the schema default, not the
	 * built-in value (no price, no aliases) */
	assert_true(isnan(h->price.on_demand));
	assert_string_equal(h->source, "");
	assert_null(llmcap_catalog_gpu(c, "H100"));
	assert_non_null(llmcap_catalog_model(c, "Tiny"));
	free(c);
}

static void user_catalog_errors_are_located(void **state)
{
	(void)state;
	struct llmcap_catalog *c = malloc(sizeof *c);
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_catalog_load_builtin(c, &err), 0);
	const char bad_value[] = "gpus:\n  g:\n    memory: lots\n";
	assert_int_not_equal(llmcap_catalog_load_text(c, bad_value, strlen(bad_value), "u.yaml", &err), 0);
	assert_contains(err.msg, "u.yaml:3:13");
	assert_contains(err.msg, "memory");
	const char bad_key[] = "models:\n  m:\n    layer: 3\n";
	assert_int_not_equal(llmcap_catalog_load_text(c, bad_key, strlen(bad_key), "u.yaml", &err), 0);
	assert_contains(err.msg, "u.yaml:3:5");
	const char bad_kind[] = "accelerators:\n  g: ~\n";
	assert_int_not_equal(llmcap_catalog_load_text(c, bad_kind, strlen(bad_kind), "u.yaml", &err), 0);
	assert_contains(err.msg, "u.yaml:1:1");
	assert_int_not_equal(llmcap_catalog_load_file(c, "/nonexistent/cat.yaml", &err), 0);
	assert_contains(err.msg, "/nonexistent/cat.yaml");
	/* more entries than the catalog holds */
	char many[4096] = "engines:\n";
	for (int i = 0; i < LLMCAP_CATALOG_MAX; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "  e%d: ~\n", i);
	assert_int_not_equal(llmcap_catalog_load_text(c, many, strlen(many), "u.yaml", &err), 0);
	assert_contains(err.msg, "at most");
	free(c);
}

/* A scenario file's catalog: key, relative to the scenario's folder. */
static void a_scenario_names_its_catalog(void **state)
{
	(void)state;
	char dir[] = "/tmp/llmcap-catalog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cpath[128], spath[128];
	snprintf(cpath, sizeof cpath, "%s/user.yaml", dir);
	snprintf(spath, sizeof spath, "%s/scenario.yaml", dir);
	FILE *f = fopen(cpath, "w");
	fputs(user_yaml, f);
	fclose(f);
	f = fopen(spath, "w");
	fputs("catalog: user.yaml\nhardware: {gpu: mine, servers: 1, gpus_per_server: 1}\n"
	      "workload:\n  rate: 1/s\n  classes: {chat: {}}\n"
	      "pools:\n  chat: {model: tiny}\n"
	      "cost: {api: {prices: {chat: {input: 0.1, output: 0.2}}}}\n", f);
	fclose(f);
	struct llmcap_catalog *c = malloc(sizeof *c);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_catalog_load_builtin(c, &err), 0);
	/* without the catalog the scenario's names are unknown */
	assert_int_not_equal(llmcap_scenario_load(sc, spath, NULL, 0, c, &err), 0);
	assert_contains(err.msg, "'mine' is not in the catalog");
	assert_int_equal(llmcap_scenario_load_catalog(c, spath, NULL, 0, &err), 0);
	if (llmcap_scenario_load(sc, spath, NULL, 0, c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(sc->hardware.gpu, "my-gpu");
	assert_string_equal(sc->pools[0].model, "tiny");
	assert_int_equal(sc->n_catalog, 1);
	assert_string_equal(sc->catalog[0], cpath);
	llmcap_scenario_free(sc);
	/* a list, in order: the second file's entry replaces the first's */
	const char other[] = "gpus:\n  my-gpu:\n    memory: 48GiB\n";
	char opath[160];
	snprintf(opath, sizeof opath, "%s/other.yaml", dir);
	f = fopen(opath, "w");
	fputs(other, f);
	fclose(f);
	char set_list[400];
	snprintf(set_list, sizeof set_list, "catalog=[%s, %s]", cpath, opath); /* --set: no folder */
	const char *list[] = {set_list};
	assert_int_equal(llmcap_catalog_load_builtin(c, &err), 0);
	if (llmcap_scenario_load_catalog(c, spath, list, 1, &err) != 0)
		fail_msg("%s", err.msg);
	assert_rel(llmcap_catalog_gpu(c, "my-gpu")->memory, 48.0 * LLMCAP_GIB, 1e-12);
	assert_non_null(llmcap_catalog_model(c, "tiny"));
	unlink(opath);
	/* an override names another file; a missing one is an error naming it */
	const char *set[] = {"catalog=missing.yaml"};
	assert_int_not_equal(llmcap_scenario_load_catalog(c, spath, set, 1, &err), 0);
	assert_contains(err.msg, "missing.yaml");
	unlink(cpath);
	unlink(spath);
	rmdir(dir);
	free(sc);
	free(c);
}

static char *read_file(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/tests/data/hf/%s", LLMCAP_SOURCE_DIR, name);
	struct llmcap_error err = {0};
	char *text = llmcap_read_text(path, len, "config.json", &err);
	if (!text)
		fail_msg("%s", err.msg);
	return text;
}

static void import_one(const char *file, struct llmcap_model_spec *m, char *notes)
{
	size_t len;
	char *text = read_file(file, &len);
	struct llmcap_error err = {0};
	int rc = llmcap_model_import(text, len, file, "imported", m, notes, 1024, &err);
	free(text);
	if (rc != 0)
		fail_msg("%s", err.msg);
}

/* Every field the schema holds, imported, equals the built-in entry written by hand from the
 * same config.json (dense GQA, MoE, MoE with shared experts and MLA). */
static void import_matches_the_builtin_entries(void **state)
{
	(void)state;
	const char *pairs[][2] = {{"llama-3.1-8b.json", "llama-3.1-8b"},
				  {"llama-3.1-70b.json", "llama-3.1-70b"},
				  {"mixtral-8x7b.json", "mixtral-8x7b"},
				  {"deepseek-v3.json", "deepseek-v3"}};
	for (size_t i = 0; i < 4; i++) {
		struct llmcap_model_spec m;
		char notes[1024];
		import_one(pairs[i][0], &m, notes);
		const struct llmcap_model_spec *b = llmcap_catalog_model(&cat, pairs[i][1]);
		assert_non_null(b);
#define SAME(f) assert_int_equal(m.f, b->f)
		SAME(layers);
		SAME(hidden_size);
		SAME(num_attention_heads);
		SAME(num_key_value_heads);
		SAME(head_dim);
		SAME(intermediate_size);
		SAME(vocab_size);
		SAME(max_position_embeddings);
		SAME(tie_word_embeddings);
		SAME(num_experts);
		SAME(experts_per_token);
		SAME(moe_intermediate_size);
		SAME(num_shared_experts);
		SAME(first_dense_layers);
		SAME(kv_lora_rank);
		SAME(q_lora_rank);
		SAME(qk_nope_head_dim);
		SAME(qk_rope_head_dim);
		SAME(v_head_dim);
#undef SAME
		assert_string_equal(m.name, "imported");
		assert_contains(notes, "bfloat16");
	}
}

/* Parameter totals computed from the imported config against the published totals (model
 * cards: Llama 3.1 8.03B and 70.6B, Mixtral-8x7B 46.7B, DeepSeek-V3 671B without its MTP
 * module, Qwen1.5-MoE-A2.7B 14.3B). */
static void import_gives_the_published_parameter_counts(void **state)
{
	(void)state;
	const struct {
		const char *file;
		double total;
	} cases[] = {{"llama-3.1-8b.json", 8.03e9},  {"llama-3.1-70b.json", 70.6e9},
		     {"mixtral-8x7b.json", 46.7e9},  {"deepseek-v3.json", 671e9},
		     {"qwen1.5-moe-a2.7b.json", 14.3e9}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct llmcap_model_spec m;
		char notes[1024];
		import_one(cases[i].file, &m, notes);
		struct llmcap_param_count pc;
		llmcap_model_params(&m, &pc);
		assert_rel(pc.total, cases[i].total, 0.005);
	}
	/* Qwen's one shared expert of 5632 counts as four of the routed experts' 1408 */
	struct llmcap_model_spec q;
	char notes[1024];
	import_one("qwen1.5-moe-a2.7b.json", &q, notes);
	assert_int_equal(q.num_shared_experts, 4);
	assert_int_equal(q.moe_intermediate_size, 1408);
}

static void import_refuses_what_it_cannot_express(void **state)
{
	(void)state;
	struct llmcap_model_spec m;
	char notes[1024];
	struct llmcap_error err = {0};
	const char gemma[] = "{\n  \"model_type\": \"gemma2\",\n  \"hidden_size\": 2304\n}\n";
	assert_int_not_equal(llmcap_model_import(gemma, strlen(gemma), "g.json", "g", &m, notes,
						 sizeof notes, &err), 0);
	assert_contains(err.msg, "g.json:2:18: model_type: 'gemma2'");
	const char sparse[] = "{\"model_type\": \"qwen2_moe\", \"num_hidden_layers\": 4,\n"
			      "\"hidden_size\": 64, \"num_attention_heads\": 4, \"intermediate_size\": 128,\n"
			      "\"vocab_size\": 100, \"max_position_embeddings\": 128, \"num_experts\": 8,\n"
			      "\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 32,\n"
			      "\"decoder_sparse_step\": 2}";
	assert_int_not_equal(llmcap_model_import(sparse, strlen(sparse), "q.json", "q", &m, notes,
						 sizeof notes, &err), 0);
	assert_contains(err.msg, "q.json:5:24: decoder_sparse_step");
	const char missing[] = "{\"model_type\": \"llama\", \"hidden_size\": 64}";
	assert_int_not_equal(llmcap_model_import(missing, strlen(missing), "m.json", "m", &m, notes,
						 sizeof notes, &err), 0);
	assert_contains(err.msg, "num_hidden_layers: missing");
	const char badnum[] = "{\"model_type\": \"llama\",\n \"num_hidden_layers\": \"many\"}";
	assert_int_not_equal(llmcap_model_import(badnum, strlen(badnum), "b.json", "b", &m, notes,
						 sizeof notes, &err), 0);
	assert_contains(err.msg, "b.json:2:24: num_hidden_layers: 'many'");
	const char notjson[] = "{\"model_type\": ";
	assert_int_not_equal(llmcap_model_import(notjson, strlen(notjson), "n.json", "n", &m, notes,
						 sizeof notes, &err), 0);
	assert_contains(err.msg, "n.json");
	size_t len;
	char *text = read_file("llama-3.1-8b.json", &len);
	assert_int_not_equal(llmcap_model_import(text, len, "l.json", "bad name", &m, notes,
						 sizeof notes, &err), 0);
	assert_contains(err.msg, "name 'bad name'");
	free(text);
}

/* What `model import` writes loads back as a user catalog, to the same entry. */
static void imported_entry_loads_back(void **state)
{
	(void)state;
	struct llmcap_model_spec m;
	char notes[1024];
	import_one("deepseek-v3.json", &m, notes);
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	llmcap_model_write_catalog(&m, notes, f);
	fclose(f);
	struct llmcap_catalog *c = malloc(sizeof *c);
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_catalog_load_builtin(c, &err), 0);
	if (llmcap_catalog_load_text(c, text, n, "imported.yaml", &err) != 0)
		fail_msg("%s", err.msg);
	const struct llmcap_model_spec *back = llmcap_catalog_model(c, "imported");
	assert_non_null(back);
	struct llmcap_param_count a, b;
	llmcap_model_params(&m, &a);
	llmcap_model_params(back, &b);
	assert_rel(b.total, a.total, 1e-12);
	assert_int_equal(back->kv_lora_rank, 512);
	assert_int_equal(back->q_lora_rank, 1536);
	assert_string_equal(back->source, m.source);
	free(text);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_ignore_case_and_take_aliases),
		cmocka_unit_test(unknown_names_get_a_suggestion),
		cmocka_unit_test(scenario_names_become_the_catalogs),
		cmocka_unit_test(a_user_catalog_adds_and_replaces_entries),
		cmocka_unit_test(user_catalog_errors_are_located),
		cmocka_unit_test(a_scenario_names_its_catalog),
		cmocka_unit_test(import_matches_the_builtin_entries),
		cmocka_unit_test(import_gives_the_published_parameter_counts),
		cmocka_unit_test(import_refuses_what_it_cannot_express),
		cmocka_unit_test(imported_entry_loads_back),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

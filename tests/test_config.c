/* Scenario files: strict validation with clear errors, defaults, overrides, round trips. */
#include "test_util.h"

#include <time.h>
#include <unistd.h>

#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/schema.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* A valid minimal scenario; tests append or override pieces of it. */
static const char *const base_yaml =
	"name: t\n"
	"workload:\n"
	"  rate: 10/min\n"
	"  classes:\n"
	"    chat: {pool: main}\n"
	"hardware: {gpus_per_server: 1}\n"
	"pools:\n"
	"  main: {model: llama-3.1-8b}\n"
	"cost:\n"
	"  api:\n"
	"    prices: {chat: {input: 0.1, output: 0.2}}\n";

/* Loads text as a file through the public path (defaults, file, overrides, checks). */
static int load_text(const char *text, const char *const *sets, size_t n_sets,
		     struct llmcap_scenario *sc, struct llmcap_error *err)
{
	char path[] = "/tmp/llmcap-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	int rc = llmcap_scenario_load(sc, path, sets, n_sets, &cat, err);
	/* Error messages name the file: replace the random name for stable assertions. */
	char *at;
	while (rc && (at = strstr(err->msg, path)))
		memcpy(at, "/tmp/scenario.yaml_____", strlen(path));
	unlink(path);
	return rc;
}

static void builtin_reference_loads(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, NULL, 0, &cat, &err), 0);
	assert_string_equal(sc.name, "reference-4xh100");
	assert_int_equal(sc.workload.n_classes, 2);
	assert_rel(sc.workload.rate * 86400, 50000, 1e-12);
	assert_rel(sc.workload.diurnal.peak_to_mean, 3.0, 0);
	assert_int_equal(sc.n_pools, 2);
	assert_int_equal(sc.hardware.gpus_per_server, 4);
	assert_int_equal(sc.pools[1].tensor_parallel_size, 2);
	assert_int_equal(sc.cost.n_gpus, 1); /* the guide's server, priced for its GPU */
	assert_rel(sc.cost.gpus[0].server, 155000, 0);
}

static void minimal_file_gets_defaults(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	assert_int_equal(load_text(base_yaml, NULL, 0, &sc, &err), 0);
	const struct llmcap_pool_cfg *p = &sc.pools[0];
	assert_int_equal(p->block_size, 16);
	assert_int_equal(p->max_num_seqs, 256);
	assert_int_equal(p->max_num_batched_tokens, 8192);
	assert_rel(p->gpu_memory_utilization, 0.9, 0);
	assert_true(p->enable_chunked_prefill);
	assert_int_equal(sc.seed, 42);
	assert_int_equal(sc.horizon, LLMCAP_DAY);
	assert_int_equal(sc.workload.classes[0].prompt.kind, LLMCAP_DIST_FIXED);
	assert_true(isnan(sc.cost.api.monthly_bill));
}

static void unknown_key_names_place_and_valid_keys(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	char text[2048];
	snprintf(text, sizeof text, "%s", base_yaml);
	/* line 3 is "  rate: 10/min": misspell it */
	char *r = strstr(text, "rate:");
	memcpy(r, "rte: ", 5);
	assert_int_equal(load_text(text, NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "/tmp/scenario.yaml_____:3:3: unknown key 'rte' in workload");
	assert_contains(err.msg, "valid keys: rate, tokens_per_month, start_day, arrival, gamma_cv, mmpp, diurnal, classes");

	/* line 8 is "  main: {model: llama-3.1-8b}" */
	snprintf(text, sizeof text, "%s", base_yaml);
	memcpy(strstr(text, "{model:"), "{modle:", 7);
	assert_int_equal(load_text(text, NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, ":8:10: unknown key 'modle' in pools.main; valid keys: model, dtype");
}

static void wrong_types_and_ranges(void **state)
{
	(void)state;
	static const struct {
		const char *set;
		const char *expect;
	} cases[] = {
		{"workload.rate=-5/day", "workload.rate: '-5/day' is not valid; expected a value > 0"},
		{"workload.rate=fast", "expected a rate with a unit"},
		{"workload.rate=50000", "expected a rate with a unit, e.g. 50000/day"},
		{"hardware.servers=0", "hardware.servers: '0' is not valid; expected an integer >= 1"},
		{"hardware.gpus_per_server=0", "hardware.gpus_per_server: '0' is not valid"},
		{"pools.main.replicas=0", "pools.main.replicas: '0' is not valid; expected an integer >= 1"},
		{"pools.main.tensor_parallel_size=3", "expected 1, 2, 4 or 8"},
		{"pools.main.gpu_memory_utilization=1.5", "expected a value > 0 and <= 1"},
		{"pools.main.dtype=fp12", "expected one of: bf16 fp16 fp8 int4-awq"},
		{"pools.main.enable_chunked_prefill=maybe", "expected true or false"},
		{"pools.main=7", "pools.main: expected a mapping, got a scalar"},
		{"horizon=12", "horizon: '12' is not valid; expected a duration with a unit"},
		{"workload.classes.chat.prompt={dist: lognormal, median: 5}", "needs 'median' and 'sigma'"},
		{"workload.classes.chat.prompt={dist: uniform, min: 9, max: 3}", "min (9) is greater than max (3)"},
		{"workload.classes.chat.prompt={dist: fixed, value: 10, sigma: 1}",
		 "unknown key 'sigma' in workload.classes.chat.prompt (a fixed distribution); valid keys: dist, value"},
		{"workload.classes.chat.pool=nowhere", "workload.classes.chat.pool: 'nowhere' is not a pool; expected one of: main"},
		{"pools.main.model=gpt-9", "'gpt-9' is not in the catalog; expected one of: llama-3.1-8b, llama-3.1-70b"},
		{"hardware.gpu=tpu", "hardware.gpu: 'tpu' is not in the catalog"},
		{"pools.main.replicas=2", "need 2 GPUs"},
		{"seed=-1", "seed: '-1' is not valid; expected a non-negative integer"},
		{"workload.classes.other={pool: main}", "workload.classes: shares sum to 2 (chat 1 + other 1); expected 1"},
		{"workload.classes.chat.share=0.3", "shares sum to 0.3 (chat 0.3); expected 1"},
		{"pools.main.max_model_len=1000000", "max_model_len: 1000000 tokens do not fit the KV cache"},
		{"pools.main.enable_chunked_prefill=false", "max_num_batched_tokens: 8192 is below max_model_len"},
		{"nosuch.key=1", "--set 'nosuch.key=1': unknown key 'nosuch' in the top level"},
		{"workload.rate", "expected path.to.key=value"},
		{"a..b=1", "is not a key path"},
		{"workload.rate=[1, 2", "YAML syntax"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		const char *sets[] = {cases[i].set};
		int rc = load_text(base_yaml, sets, 1, &sc, &err);
		if (rc == 0)
			fail_msg("--set %s was accepted", cases[i].set);
		assert_contains(err.msg, cases[i].expect);
	}
}

static void every_class_needs_a_price(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"workload.classes.chat.share=0.5",
			      "workload.classes.other={pool: main, share: 0.5}"};
	assert_int_equal(load_text(base_yaml, sets, 2, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "cost.api.prices has no entry for class 'other'");
	/* a flat monthly bill replaces per-class prices */
	const char *bill[] = {sets[0], sets[1], "cost.api.monthly_bill=3750"};
	assert_int_equal(load_text(base_yaml, bill, 3, &sc, &err), 0);
}

/* Absurd values are refused with the key and what was expected, never overflowed or run. */
static void absurd_values(void **state)
{
	(void)state;
	static const struct {
		const char *set;
		const char *expect;
	} cases[] = {
		/* the rate was once converted first and reported as "tokens_per_month: nan" */
		{"workload.rate=1e12/s", "--set 'workload.rate=1e12/s': workload.rate: '1e12/s' is not "
					 "valid; expected a value > 0/s and <= 1000000000/s"},
		{"workload.rate=1e15/s", "workload.rate: '1e15/s' is not valid"},
		/* a trace's target rate had no cap while workload.rate had */
		{"workload.trace.rate=1e10/s", "workload.trace.rate: '1e10/s' is not valid; expected a "
					       "value > 0/s and <= 1000000000/s"},
		{"workload.tokens_per_month=1e30", "workload.tokens_per_month: 1e+30 tokens at"},
		/* exact percentiles keep every latency: 3660 days grew toward 7 GB */
		{"horizon=3660d", "output.percentiles: exact keeps every request's latencies"},
		{"workload.rate=1e5/s", "requests expected over the horizon"},
		{"hardware.servers=1e9", "hardware.servers: '1e9' is not valid; expected an integer >= 1 and <= 100000"},
		{"output.compression=10", "output.compression: '10' is not valid; expected an integer >= 0 and <= 9"},
		{"output.compression=-1", "output.compression: '-1' is not valid; expected an integer >= 0 and <= 9"},
		{"workload.classes.chat.prompt={dist: fixed, value: 1099511627776}", "expected a value > 0 and <= 1000000000"},
		{"workload.classes.chat.prompt={dist: uniform, min: 1, max: 1099511627776}", "expected an integer >= 1 and <= 16777216"},
		{"workload.rate=nan/s", "expected a rate with a unit"},
		{"cost.capex=inf", "expected a number"},
		{"cost.capex=.nan", "expected a number"},
		{"horizon=36500d", "horizon: '36500d' is not valid; expected a value > 0ns and <= 3660d"},
		{"horizon=1e30s", "expected a duration with a unit"},
		{"pools.main.replicas=1e12", "pools.main.replicas: '1e12' is not valid"},
		{"seed=99999999999999999999999", "seed: '99999999999999999999999' is not valid"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		const char *sets[] = {cases[i].set};
		if (load_text(base_yaml, sets, 1, &sc, &err) == 0)
			fail_msg("--set %s was accepted", cases[i].set);
		assert_contains(err.msg, cases[i].expect);
	}
}

static void prices_from_the_catalog(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"cost.api.prices.chat.from=groq-llama-3.1-8b"};
	assert_int_equal(load_text(base_yaml, sets, 1, &sc, &err), 0);
	/* ../shared/pricing/api_list_prices.csv: groq/llama-3.1-8b-instant, $0.05 in, $0.08 out */
	assert_rel(sc.cost.api.prices[0].input, 0.05, 0);
	assert_rel(sc.cost.api.prices[0].output, 0.08, 0);
	const char *bad[] = {"cost.api.prices.chat.from=acme-llm"};
	assert_int_equal(load_text(base_yaml, bad, 1, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "cost.api.prices.chat.from: 'acme-llm' is not in the price catalog; "
				 "expected one of: together-llama-3.1-8b");
}

static void model_that_does_not_fit(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"pools.main.model=llama-3.1-70b"};
	assert_int_equal(load_text(base_yaml, sets, 1, &sc, &err), -LLMCAP_ECAPACITY);
	/* names the key, the value, what it needs and what would fit */
	assert_contains(err.msg, "pools.main.model: 'llama-3.1-70b' (70.55B parameters) in bf16 needs 131.4 GiB");
	assert_contains(err.msg, "expected tensor_parallel_size >= 2");
	const char *sets2[] = {"pools.main.model=llama-3.1-70b", "hardware.gpus_per_server=2",
			       "pools.main.tensor_parallel_size=2", "pools.main.gpu_memory_utilization=0.8"};
	assert_int_equal(load_text(base_yaml, sets2, 4, &sc, &err), -LLMCAP_ECAPACITY);
	assert_contains(err.msg, "expected tensor_parallel_size >= 4");
	/* and FP8 makes it fit */
	const char *sets3[] = {"pools.main.model=llama-3.1-70b", "hardware.gpus_per_server=1",
			       "pools.main.dtype=fp8"};
	assert_int_equal(load_text(base_yaml, sets3, 3, &sc, &err), 0);
}

/* libfyaml 0.7.12 crashed formatting the error of a quoted scalar left open across long
 * lines (found by the override fuzzer): the error is located, in a file and in --set. */
static void long_quoted_scalar_error(void **state)
{
	(void)state;
	enum { N = 1200, M = 700 };
	char *text = malloc(N + M + 64);
	assert_non_null(text);
	int k = sprintf(text, "workload: {rate: ");
	for (int i = 0; i < N; i += 2)
		k += sprintf(text + k, "x,");
	k += sprintf(text + k, "'\n ");
	for (int i = 0; i < M; i += 2)
		k += sprintf(text + k, "y,");
	sprintf(text + k, "}\n");
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	assert_int_equal(load_text(text, NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "scenario.yaml_____:1:");
	assert_contains(err.msg, "single-quoted scalar without closing quote (YAML syntax)");
	llmcap_scenario_defaults(&sc);
	memcpy(text, "workload.rate=   ", 17); /* the same value as --set */
	assert_true(llmcap_scenario_apply_override(&sc, text, &err) < 0);
	assert_contains(err.msg, "--set 'workload.rate=   x,x,");
	llmcap_scenario_free(&sc);
	free(text);
}

static void syntax_errors_and_missing_files(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	assert_int_equal(load_text("workload: {rate: [1, 2\n", NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "/tmp/scenario.yaml_____:");
	assert_contains(err.msg, "(YAML syntax)");
	assert_int_equal(load_text("a: 1\na: 2\n", NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, ":2:1: duplicate key");
	assert_int_equal(load_text("- just\n- a list\n", NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "top level: expected a mapping, got a list");
	assert_contains(err.msg, "/tmp/scenario.yaml_____:1:1: top level: expected a mapping, got a list");
	assert_int_equal(load_text("", NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "/tmp/scenario.yaml_____:1:1: no YAML document");
	assert_int_equal(load_text("# only a comment\n", NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "/tmp/scenario.yaml_____:1:1: no YAML document");
	assert_int_equal(llmcap_scenario_load(&sc, "/nonexistent/scenario.yaml", NULL, 0, &cat, &err),
			 -LLMCAP_EIO);
	assert_contains(err.msg, "/nonexistent/scenario.yaml: cannot open scenario file: No such file");
	assert_int_equal(llmcap_scenario_load(&sc, "/tmp", NULL, 0, &cat, &err), -LLMCAP_EIO);
	assert_contains(err.msg, "/tmp: read error");
}

/* Found by tests/fuzz: libfyaml 0.8 loops forever on a directive name holding a byte that is
 * not UTF-8 ("%\xff"); scenarios must be UTF-8, checked before parsing, with a location.
 * And a duration without an upper bound (max = infinity) made the range message convert
 * infinity to an integer (undefined behaviour, caught by UBSan). */
static void fuzz_regressions(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, "%\xff", 2, "f.yaml", &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "f.yaml:1:2: byte 0xFF is not UTF-8 text");
	const char *bad[] = {"a: 1\nb: \"\xc3\"\n", "a: \xed\xa0\x80\n", "a: \xc0\xaf\n",
			     "a: \xf4\x90\x80\x80\n", "a: x\xe2\x82"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(llmcap_scenario_apply_yaml(&sc, bad[i], strlen(bad[i]), "f.yaml", &err),
				 -LLMCAP_EINVAL);
		assert_contains(err.msg, "is not UTF-8 text");
	}
	/* a NUL inside the text is not YAML either */
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, "name: a\0b\n", 10, "f.yaml", &err),
			 -LLMCAP_EINVAL);
	assert_contains(err.msg, "f.yaml:1:8: byte 0x00");
	/* well-formed multi-byte text passes */
	const char *good = "name: \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n";
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, good, strlen(good), "f.yaml", &err), 0);
	assert_int_equal(llmcap_scenario_apply_override(&sc, "name=\xff", &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "--set: byte 0xFF is not UTF-8 text");
	assert_int_equal(llmcap_scenario_apply_override(&sc, "workload.mmpp.mean_calm=-1s", &err),
			 -LLMCAP_EINVAL);
	assert_contains(err.msg, "a value > 0ns");
	/* an empty mapping before any key: the duplicate-key pass indexed its NULL key array
	 * (undefined; clang's UBSan) */
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, "{}", 2, "f.yaml", &err), 0);
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, "{{}", 3, "f.yaml", &err), -LLMCAP_EINVAL);
}

/* A second document was ignored; aliases read as the anchor's name; duplicate keys were found
 * by comparing every pair (50,000 keys: 100 s); any size was parsed (30 MB: 5 GB). */
static void yaml_streams_aliases_and_limits(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	const char *two = "name: a\n---\nname: b\n";
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, two, strlen(two), "f.yaml", &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "f.yaml:2:1: a second YAML document starts here");
	const char *alias = "name: x\nworkload:\n  rate: &r 10/s\n  tokens_per_month: *r\n";
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, alias, strlen(alias), "f.yaml", &err),
			 -LLMCAP_EINVAL);
	assert_contains(err.msg, "f.yaml:3:9: YAML anchors (&name) are not supported");
	const char *alias2 = "name: *n\n";
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, alias2, strlen(alias2), "f.yaml", &err),
			 -LLMCAP_EINVAL);
	assert_contains(err.msg, "f.yaml:1:7: YAML aliases (*name) are not supported");
	assert_int_equal(llmcap_scenario_apply_override(&sc, "sweep.vary={seed: [&a 1, *a]}", &err),
			 -LLMCAP_EINVAL);
	assert_contains(err.msg, "--set 'sweep.vary={seed: [&a 1, *a]}': YAML anchors");
	/* duplicate keys at any depth, the later one located, in n log n */
	const char *dup = "workload:\n  classes:\n    a: {pool: p, share: 1}\n    b: {}\n    a: {}\n";
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, dup, strlen(dup), "f.yaml", &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "f.yaml:5:5: duplicate key 'a' (first at line 3)");
	size_t keys = 60000, cap = keys * 16 + 64, k = 0;
	char *big = malloc(cap);
	assert_non_null(big);
	k += (size_t)snprintf(big + k, cap - k, "sweep:\n  sets:\n");
	for (size_t i = 0; i < keys; i++)
		k += (size_t)snprintf(big + k, cap - k, "    s%zu: 1\n", i);
	k += (size_t)snprintf(big + k, cap - k, "    s7: 1\n");
	clock_t t0 = clock();
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, big, k, "f.yaml", &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "duplicate key 's7' (first at line 10)");
	/* was minutes; a generous bound for sanitizers and a loaded machine */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 20);
	/* nodes and bytes are capped before the document is built */
	k = (size_t)snprintf(big, cap, "x: [");
	for (size_t i = 0; i <= LLMCAP_YAML_MAX_NODES && k + 8 < cap; i++)
		k += (size_t)snprintf(big + k, cap - k, "1,");
	big[k++] = ']';
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, big, k, "f.yaml", &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "YAML nodes (keys, values, list items); expected a smaller file");
	free(big);
	size_t huge = (size_t)LLMCAP_YAML_MAX_BYTES + 1;
	char *h = malloc(huge + 1);
	assert_non_null(h);
	memset(h, '#', huge);
	h[huge] = '\0';
	assert_int_equal(llmcap_scenario_apply_yaml(&sc, h, huge, "f.yaml", &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "f.yaml: 8388609 bytes; expected a YAML text of at most 8 MiB");
	free(h);
}

/* Errors about a file's content name the file and line: a rate out of range given in the file,
 * an over-subscribed pool (the pool that takes the GPUs past the hardware). */
static void located_errors(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	char *text = malloc(strlen(base_yaml) + 400);
	assert_non_null(text);
	strcpy(text, base_yaml);
	char *r = strstr(text, "10/min");
	memcpy(r, "1e15/s", 6);
	assert_int_equal(load_text(text, NULL, 0, &sc, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "/tmp/scenario.yaml_____:3:9: workload.rate: '1e15/s' is not valid");
	const char *over = "name: t\n"
			   "workload:\n"
			   "  rate: 10/min\n"
			   "  classes:\n"
			   "    chat: {pool: main}\n"
			   "hardware: {gpus_per_server: 1}\n"
			   "pools:\n"
			   "  main: {model: llama-3.1-8b}\n"
			   "  extra: {model: llama-3.1-8b, replicas: 9}\n"
			   "cost:\n"
			   "  api:\n"
			   "    prices: {chat: {input: 0.1, output: 0.2}}\n";
	strcpy(text, over);
	assert_int_equal(load_text(text, NULL, 0, &sc, &err), -LLMCAP_ECAPACITY);
	assert_contains(err.msg, "/tmp/scenario.yaml_____:9:3: pools: need 10 GPUs");
	free(text);
}

static void overrides_merge_and_create(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {
		"workload.rate=80000/day",
		"workload.classes.chat.prompt={dist: lognormal, median: 700, sigma: 0.5}",
		"workload.classes.chat.prompt.median=900", /* merges into the lognormal above */
		"pools.main.dtype=fp8",
		"seed=7",
	};
	assert_int_equal(load_text(base_yaml, sets, 5, &sc, &err), 0);
	assert_rel(sc.workload.rate, 80000.0 / 86400, 1e-15);
	assert_int_equal(sc.workload.classes[0].prompt.kind, LLMCAP_DIST_LOGNORMAL);
	assert_rel(sc.workload.classes[0].prompt.median, 900, 0);
	assert_rel(sc.workload.classes[0].prompt.sigma, 0.5, 0);
	assert_int_equal(sc.pools[0].dtype, LLMCAP_DTYPE_FP8);
	assert_int_equal(sc.seed, 7);
}

/* `llmcap config` output loads back to a scenario that writes the same text. */
static void resolved_yaml_round_trips(void **state)
{
	(void)state;
	struct llmcap_scenario a, b;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_scenario_load(&a, NULL, NULL, 0, &cat, &err), 0);
	char *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f = open_memstream(&t1, &n1);
	llmcap_scenario_write_yaml(&a, f, true);
	fclose(f);
	assert_int_equal(load_text(t1, NULL, 0, &b, &err), 0);
	f = open_memstream(&t2, &n2);
	llmcap_scenario_write_yaml(&b, f, true);
	fclose(f);
	assert_string_equal(t1, t2);
	assert_contains(t1, "gpu_memory_utilization: 0.9");
	assert_contains(t1, "rate: 50000/day");
	assert_contains(t1, "monthly_bill: null");
	free(t1);
	free(t2);
}

/* The traffic forms (lists, alternatives, per-class processes, every distribution, file names)
 * written by `llmcap config` load back to the same text. */
static void traffic_forms_round_trip(void **state)
{
	(void)state;
	struct llmcap_scenario a, b;
	struct llmcap_error err = {0};
	const char *sets[] = {
		"workload.tokens_per_month=2.7e9",
		"workload.start_day=saturday",
		"workload.arrival=mmpp",
		"workload.mmpp={burst_rate_factor: 3.5, mean_calm: 90s, mean_burst: 15s}",
		"workload.diurnal={shape: table, hours: [1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 5, 4, 3, "
		"2, 2, 1, 1, 1, 1, 0.5], days: [1, 1, 1, 1, 1.2, 0.4, 0.3]}",
		"workload.classes.chat.share=0.5",
		"workload.classes.chat.prompt={dist: histogram, edges: [1, 100, 500], weights: [2.5, 1]}",
		"workload.classes.chat.output={dist: lognormal, mean: 211, p99: 601}",
		"workload.classes.batch={pool: main, share: 0.5, arrival: gamma, gamma_cv: 2.5, "
		"diurnal: {shape: azure-conv, weekend_factor: 0.57}, prompt: {dist: trace, file: "
		LLMCAP_SOURCE_DIR "/traces/data/azure2023_conv_first1000.csv, column: ContextTokens}, "
		"output: {dist: zipf, exponent: 1.3, min: 2, max: 900}}",
		"cost.api.monthly_bill=100",
	};
	assert_int_equal(load_text(base_yaml, sets, sizeof sets / sizeof sets[0], &a, &err), 0);
	assert_true(isnan(a.workload.rate));
	assert_int_equal(a.workload.diurnal.n_hours, 24);
	assert_int_equal(a.workload.classes[1].prompt.n_data, 1000);
	/* mean and p99 became median and sigma: mean = median e^(s^2/2) */
	const struct llmcap_dist *o = &a.workload.classes[0].output;
	assert_rel(o->median * exp(o->sigma * o->sigma / 2), 211, 1e-12);
	assert_rel(o->median * exp(o->sigma * 2.3263478740408408), 601, 1e-12);
	char *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f = open_memstream(&t1, &n1);
	llmcap_scenario_write_yaml(&a, f, true);
	fclose(f);
	if (load_text(t1, NULL, 0, &b, &err) != 0)
		fail_msg("%s\n%s", err.msg, t1);
	f = open_memstream(&t2, &n2);
	llmcap_scenario_write_yaml(&b, f, true);
	fclose(f);
	assert_string_equal(t1, t2);
	assert_contains(t1, "tokens_per_month: 2700000000");
	assert_contains(t1, "rate: null");
	assert_contains(t1, "days: [1, 1, 1, 1, 1.2, 0.4, 0.3]");
	assert_contains(t1, "prompt: {dist: histogram, edges: [1, 100, 500], weights: [2.5, 1], min: 1, max: 131072}");
	assert_contains(t1, "file: \"" LLMCAP_SOURCE_DIR "/traces/data/azure2023_conv_first1000.csv\"");
	free(t1);
	free(t2);
	llmcap_scenario_free(&a);
	llmcap_scenario_free(&b);
}

/* The sweep section: vary SPECs and sets as lists or text, kept in order, replaced in place by
 * a later entry of the same key, removed by null; bad input names FILE:LINE:COLUMN. */
static void sweep_section(void **state)
{
	(void)state;
	char text[2048];
	snprintf(text, sizeof text, "%s%s", base_yaml,
		 "sweep:\n"
		 "  seeds: 3\n"
		 "  vary:\n"
		 "    workload.rate: log:1:100:3/s\n"
		 "    pools.main.dtype: [bf16, fp8]\n"
		 "    hardware.gpu: \"@big\"\n"
		 "  sets:\n"
		 "    big: [h100-sxm-80gb, h200-141gb]\n");
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *over[] = {"sweep.seeds=5", "sweep.vary={pools.main.dtype: [fp8, int4-awq]}",
			      "sweep.vary={hardware.gpu: null}"};
	if (load_text(text, over, 3, &sc, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(sc.sweep.seeds, 5);
	assert_int_equal(sc.sweep.n_vary, 2);
	assert_string_equal(sc.sweep.vary[0].name, "workload.rate");
	assert_string_equal(sc.sweep.vary[0].spec, "log:1:100:3/s");
	assert_string_equal(sc.sweep.vary[1].spec, "fp8,int4-awq");
	assert_int_equal(sc.sweep.n_sets, 1);
	assert_string_equal(sc.sweep.sets[0].spec, "h100-sxm-80gb,h200-141gb");
	assert_contains(sc.sweep.vary[0].where, ":15:5");
	assert_int_equal(sc.sweep.warmup, -1);
	/* llmcap config writes the section back in a form that loads to the same sweep */
	char *yaml = NULL;
	size_t ylen = 0;
	FILE *mf = open_memstream(&yaml, &ylen);
	llmcap_scenario_write_yaml(&sc, mf, true);
	fclose(mf);
	struct llmcap_scenario back;
	if (load_text(yaml, NULL, 0, &back, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(back.sweep.seeds, 5);
	assert_int_equal(back.sweep.n_vary, 2);
	assert_int_equal(back.sweep.n_sets, 1);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back.sweep.vary[i].name, sc.sweep.vary[i].name);
		assert_string_equal(back.sweep.vary[i].spec, sc.sweep.vary[i].spec);
	}
	assert_string_equal(back.sweep.sets[0].spec, sc.sweep.sets[0].spec);
	assert_contains(yaml, "    big: [h100-sxm-80gb, h200-141gb]\n");
	free(yaml);
	llmcap_scenario_free(&back);
	llmcap_scenario_free(&sc);

	static const struct {
		const char *yaml, *expect;
	} bad[] = {
		{"sweep:\n  vary:\n    workload.rate: 1:x:2\n",
		 ":14:20: sweep.vary.workload.rate: --vary workload.rate=1:x:2: a range is START:STOP:STEP"},
		{"sweep:\n  vary:\n    workload.rate: []\n", ":14:5: sweep.vary.workload.rate: an empty list"},
		{"sweep:\n  vary:\n    workload.rate: [1/s, {a: 1}]\n",
		 ":14:5: sweep.vary.workload.rate[1]: expected a value of 1 to 63 characters without commas, got a mapping"},
		{"sweep:\n  vary:\n    workload.rate: {a: 1}\n",
		 ":14:5: sweep.vary.workload.rate: expected a list or a SPEC, got a mapping"},
		{"sweep:\n  vary: [workload.rate]\n", ":13:3: sweep.vary: expected a mapping of keys"},
		{"sweep:\n  vary:\n    work/load: 1,2\n", ":14:5: sweep.vary: 'work/load' may only hold"},
		{"sweep:\n  sets:\n    gpus: [a, b]\n", ":14:5: sweep.sets: 'gpus' is a built-in set"},
		{"sweep:\n  sets:\n    a.b: [a, b]\n", ":14:5: sweep.sets: 'a.b' may only hold letters"},
		{"sweep:\n  sets:\n    mine: a,b\n", ":14:11: sweep.sets.mine: expected a list of values"},
		{"sweep:\n  sets:\n    mine: [a, \"@b\"]\n", "a set cannot name another set), got '@b'"},
		{"sweep:\n  vary:\n    x: [\"a,b\"]\n", ":14:10: sweep.vary.x[0]: expected a value of 1 to 63 characters without commas, got 'a,b'"},
		{"sweep:\n  seeds: 0\n", ":13:10: sweep.seeds: '0' is not valid; expected an integer >= 1"},
		{"sweep:\n  batch_means: 1001\n", "sweep.batch_means: '1001' is not valid"},
		{"sweep:\n  warmup: 5\n", ":13:11: sweep.warmup: '5' is not valid; expected a duration"},
		{"sweep:\n  zap: true\n", ":13:3: unknown key 'zap' in sweep; valid keys: vary, sets, zip"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "%s%s", base_yaml, bad[i].yaml);
		memset(&err, 0, sizeof err);
		if (load_text(text, NULL, 0, &sc, &err) == 0)
			fail_msg("accepted: %s", bad[i].yaml);
		assert_contains(err.msg, "/tmp/scenario.yaml_____");
		assert_contains(err.msg, bad[i].expect);
	}
}

/* docs/scenario.md carries the generated field reference; it must not drift. */
static void schema_doc_is_current(void **state)
{
	(void)state;
	char *gen = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&gen, &n);
	llmcap_scenario_write_schema(f);
	fclose(f);
	FILE *doc = fopen(LLMCAP_SOURCE_DIR "/docs/scenario.md", "r");
	assert_non_null(doc);
	static char text[1 << 18];
	size_t len = fread(text, 1, sizeof text - 1, doc);
	text[len] = '\0';
	fclose(doc);
	if (!strstr(text, gen))
		fail_msg("docs/scenario.md does not contain the output of `llmcap schema`; regenerate it");
	free(gen);
}

static void dist_means(void **state)
{
	(void)state;
	struct llmcap_dist fixed = {.kind = LLMCAP_DIST_FIXED, .value = 512, .min = 512, .max = 512};
	assert_rel(llmcap_dist_mean(&fixed), 512, 0);
	struct llmcap_dist uni = {.kind = LLMCAP_DIST_UNIFORM, .min = 500, .max = 8192};
	assert_rel(llmcap_dist_mean(&uni), 4346, 0);
	/* uncapped lognormal: exp(mu + sigma^2 / 2) */
	struct llmcap_dist ln = {.kind = LLMCAP_DIST_LOGNORMAL, .median = 150, .sigma = 0.7,
				 .min = 1, .max = 1 << 24};
	assert_rel(llmcap_dist_mean(&ln), 150 * exp(0.245), 1e-6);
	/* a cap far below the median pins the mean at the cap */
	ln.max = 2;
	assert_rel(llmcap_dist_mean(&ln), 2, 1e-3);
}

static void write_temp(char *path, const char *text, size_t len)
{
	strcpy(path, "/tmp/llmcap-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Found by tests/fuzz: a first line starting with a lone 0xEF byte was taken for a byte order
 * mark and its 3 bytes skipped, past the end of a shorter field. */
static void trace_reader_byte_order_mark(void **state)
{
	(void)state;
	char path[64];
	const char *col[] = {"ContextTokens", "GeneratedTokens"};
	int32_t *v = NULL;
	size_t n = 0;
	struct llmcap_error err = {0};
	write_temp(path, "\xef" "n", 2);
	assert_int_equal(llmcap_trace_read_columns(path, col, 1, &v, &n, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, ":1: no column 'ContextTokens'");
	unlink(path);
	const char bom[] = "\xef\xbb\xbf" "ContextTokens,GeneratedTokens\n3,4\n";
	write_temp(path, bom, sizeof bom - 1);
	assert_int_equal(llmcap_trace_read_columns(path, col, 2, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0], 3);
	assert_int_equal(v[1], 4);
	free(v);
	unlink(path);
}

/* A key path of many short segments expands to more YAML than its length suggests (": {" and
 * "}" for each dot): the buffer was sized for fewer bytes (heap overflow from 15 segments on). */
static void long_key_paths(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	for (size_t n = 1; n <= 2000; n = n < 40 ? n + 1 : n * 3) {
		char *a = malloc(2 * n + 8);
		assert_non_null(a);
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			a[k++] = i ? '.' : 'z';
			if (i)
				a[k++] = 'a';
		}
		strcpy(a + k, "=1");
		llmcap_scenario_defaults(&sc);
		assert_int_equal(llmcap_scenario_apply_override(&sc, a, &err), -LLMCAP_EINVAL);
		/* beyond 64 levels libfyaml itself refuses (in a message cut to err.msg's size) */
		assert_contains(err.msg, n < 60 ? "unknown key 'z'" : "--set 'z.a.a");
		free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_reference_loads),
		cmocka_unit_test(minimal_file_gets_defaults),
		cmocka_unit_test(unknown_key_names_place_and_valid_keys),
		cmocka_unit_test(wrong_types_and_ranges),
		cmocka_unit_test(every_class_needs_a_price),
		cmocka_unit_test(absurd_values),
		cmocka_unit_test(prices_from_the_catalog),
		cmocka_unit_test(model_that_does_not_fit),
		cmocka_unit_test(long_quoted_scalar_error),
		cmocka_unit_test(syntax_errors_and_missing_files),
		cmocka_unit_test(fuzz_regressions),
		cmocka_unit_test(trace_reader_byte_order_mark),
		cmocka_unit_test(overrides_merge_and_create),
		cmocka_unit_test(resolved_yaml_round_trips),
		cmocka_unit_test(traffic_forms_round_trip),
		cmocka_unit_test(schema_doc_is_current),
		cmocka_unit_test(sweep_section),
		cmocka_unit_test(dist_means),
		cmocka_unit_test(long_key_paths),
		cmocka_unit_test(located_errors),
		cmocka_unit_test(yaml_streams_aliases_and_limits),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

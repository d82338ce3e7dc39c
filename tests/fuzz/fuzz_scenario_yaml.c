/* Scenario files: llmcap_scenario_apply_yaml onto the defaults, the cross-checks against the
 * built-in catalog, then `llmcap config`'s output, which must load back to the same text. */
#include "fuzz.h"

#include "llmcap/scenario.h"

static struct llmcap_catalog cat;
static struct llmcap_scenario sc, again;

static char *written(const struct llmcap_scenario *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	llmcap_scenario_write_yaml(s, f, false);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct llmcap_error err = {0};
	if (!ready) {
		if (llmcap_catalog_load_builtin(&cat, &err) != 0)
			abort();
		ready = true;
	}
	llmcap_scenario_defaults(&sc);
	if (llmcap_scenario_apply_yaml(&sc, (const char *)data, size, "fuzz.yaml", &err) != 0)
		return 0;
	if (llmcap_scenario_check(&sc, &cat, &err) != 0)
		return 0;
	size_t n1, n2;
	char *t1 = written(&sc, &n1);
	llmcap_scenario_defaults(&again);
	if (llmcap_scenario_apply_yaml(&again, t1, n1, "config.yaml", &err) != 0) {
		fprintf(stderr, "llmcap config output does not load back: %s\n%s\n", err.msg, t1);
		abort();
	}
	char *t2 = written(&again, &n2);
	if (n1 != n2 || memcmp(t1, t2, n1) != 0) {
		fprintf(stderr, "llmcap config output changes when loaded back:\n%s\n---\n%s\n", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	return 0;
}

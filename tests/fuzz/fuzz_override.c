/* --set arguments: llmcap_scenario_apply_override (a key path turned into YAML). */
#include "fuzz.h"

#include "llmcap/scenario.h"

static struct llmcap_scenario sc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	llmcap_scenario_apply_override(&sc, text, &err);
	free(text);
	return 0;
}

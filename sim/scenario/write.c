/* Writing a scenario: the resolved YAML (`llmcap config`, the result files' copy) and the field
 * reference (`llmcap schema`), both from the field tables of fields.c through the schema
 * writer, so that they always match what loads. */
#include "fields.h"

void llmcap_scenario_write_yaml(const struct llmcap_scenario *sc, FILE *out, bool comments)
{
	llmcap_schema_write_yaml(&llmcap_scenario_section, sc, out, comments);
}

void llmcap_scenario_write_schema(FILE *out)
{
	fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
	llmcap_schema_write_markdown(&llmcap_scenario_section, out);
}

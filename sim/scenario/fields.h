/* Inside sim/scenario: the scenario's schema (fields.c), shared by loading, writing and the
 * `--vary KEY=@all` key values. */
#ifndef LLMCAP_SCENARIO_FIELDS_H
#define LLMCAP_SCENARIO_FIELDS_H

#include "llmcap/scenario.h"
#include "llmcap/schema.h"

/* The top-level section of struct llmcap_scenario, and a section field at offset 0 holding it
 * (the root that llmcap_schema_apply_text takes). */
extern const struct llmcap_section llmcap_scenario_section;
extern const struct llmcap_field llmcap_scenario_root;

#endif

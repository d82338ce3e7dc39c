/* Scenarios: what to simulate, loaded from YAML with strict validation.
 *
 * Resolution order: schema defaults, then the file (or the built-in reference scenario),
 * then each `--set path.to.key=value` override in order. Every field has a default, listed by
 * `llmcap schema` and in docs/scenario.md. Maps (workload.classes, pools, cost.api.prices) are
 * keyed by name; an entry created by a file or an override starts from the entry defaults.
 *
 * Errors name the place (file:line:column, or the --set argument), the key, the value and what
 * was expected. A scenario that fails llmcap_scenario_resolve must not be simulated.
 */
#ifndef LLMCAP_SCENARIO_H
#define LLMCAP_SCENARIO_H

#include <stdio.h>

#include "llmcap/catalog.h"
#include "llmcap/core.h"
#include "llmcap/spec.h"
/* the demand arithmetic, length distributions and trace readers a scenario uses (traces/) */
#include "llmcap/workload.h"

/* The highest mean request rate a scenario may ask for (requests/s), workload.rate and
 * workload.trace.rate alike: beyond it no run finishes (and rates far beyond overflow the
 * conversions to time). */
#define LLMCAP_RATE_MAX 1e9
/* The most requests (mean rate x horizon) a scenario may expect with output.percentiles:
 * exact, which keeps about 48 bytes per request (2.4 GB here); streaming has no such limit. */
#define LLMCAP_EXACT_MAX_REQUESTS 5e7

/* Sets every field to its schema default (maps empty). */
void llmcap_scenario_defaults(struct llmcap_scenario *sc);

/* Applies a YAML text onto sc. `origin` names it in errors (a path). A text without a document
 * (empty, or only comments) is an error: a scenario file says something. */
int llmcap_scenario_apply_yaml(struct llmcap_scenario *sc, const char *text, size_t len,
			       const char *origin, struct llmcap_error *err);
/* Applies one "path.to.key=value" override; the value is YAML ("{dist: fixed, value: 9}"). */
int llmcap_scenario_apply_override(struct llmcap_scenario *sc, const char *assignment,
				   struct llmcap_error *err);

/* Loads defaults + file (NULL = the built-in reference scenario) + overrides, then checks
 * cross-references (class -> pool, pool -> model, GPU budget, prices). Reads the file in
 * full; a missing or unreadable file is an error naming it. */
int llmcap_scenario_load(struct llmcap_scenario *sc, const char *path,
			 const char *const *overrides, size_t n_overrides,
			 const struct llmcap_catalog *cat, struct llmcap_error *err);

/* Adds to cat the user catalog files named by the scenario's `catalog:` key, in order (after the
 * file and the overrides; nothing when it names none), for a caller to call before llmcap_scenario_load
 * with the same arguments. Reads no traces and checks nothing else. */
int llmcap_scenario_load_catalog(struct llmcap_catalog *cat, const char *path,
				 const char *const *overrides, size_t n_overrides,
				 struct llmcap_error *err);

/* The same without llmcap_scenario_check: every key parsed and typed, the cross-references not
 * checked (a sweep's base, whose own values may not fit while its points do). */
int llmcap_scenario_load_unchecked(struct llmcap_scenario *sc, const char *path,
				   const char *const *overrides, size_t n_overrides,
				   const struct llmcap_catalog *cat, struct llmcap_error *err);

/* Frees what llmcap_scenario_load read beside the scenario (trace columns). Safe on a scenario
 * that holds none, and twice. */
void llmcap_scenario_free(struct llmcap_scenario *sc);

/* Reads the trace columns of every trace length distribution; called by llmcap_scenario_load
 * after the overrides. When a class's prompt and output come from the same file, both columns
 * are read in one pass from the same rows, so that a request keeps a trace row's pair. */
int llmcap_scenario_read_traces(struct llmcap_scenario *sc, struct llmcap_error *err);

/* Cross-field validation; called by llmcap_scenario_load. */
int llmcap_scenario_check(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			  struct llmcap_error *err);

/* Writes the fully resolved scenario as YAML that loads back to the same values. With
 * `comments`, each field carries its documentation as a trailing comment. */
void llmcap_scenario_write_yaml(const struct llmcap_scenario *sc, FILE *out, bool comments);
/* Writes the field reference (every key, type, default, meaning) as Markdown. */
void llmcap_scenario_write_schema(FILE *out);

/* The closed set of values a key path accepts (for `--vary KEY=@all`): an enum's names, false
 * and true for a boolean, or the entry names of the catalog a key refers to (hardware.gpu,
 * pools.NAME.model, pools.NAME.engine, cost.api.prices.NAME.from). Stores at most `max` pointers
 * (into static tables or the catalog) and returns their count; 0 when the key takes open values
 * (numbers, free text); -1 when the path is not a key of the schema. */
int llmcap_schema_key_values(const char *key, const struct llmcap_catalog *cat,
			     const char **names, size_t max);

/* A sweep axis: a key path and its values (`--vary KEY=SPEC`, or the scenario's sweep.vary).
 * Parsed here, with the scenario, because loading a scenario file checks its sweep.vary SPECs;
 * the sweep (sweep.h) expands named sets and owns the axes it is given. */
#define LLMCAP_SWEEP_MAX_VALUES 100000
#define LLMCAP_SWEEP_KEY_MAX 128

struct llmcap_sweep_axis {
	char key[LLMCAP_SWEEP_KEY_MAX];       /* dotted path, as for --set */
	char spec[LLMCAP_SWEEP_SPEC_MAX];     /* as given, for the file's attributes */
	char (*values)[LLMCAP_SWEEP_VALUE_MAX]; /* YAML scalars; "@NAME" until llmcap_sweep_init
						 * expands named sets */
	size_t n;
	char where[160];                      /* FILE:LINE:COLUMN of a sweep.vary entry; "" for
					       * --vary */
};

/* Parses "KEY=SPEC" into an axis: SPEC is a list "a,b,c" (each a YAML scalar, kept as text), a
 * range "start:stop:step" (stop included when reached within 1e-9 of a step) or
 * "log:start:stop:n" (n values, geometric). */
int llmcap_sweep_parse_axis(const char *arg, struct llmcap_sweep_axis *ax, struct llmcap_error *err);
/* Appends a value (len bytes, 1 to LLMCAP_SWEEP_VALUE_MAX - 1) to ax->values, of capacity *cap
 * entries (grown as needed; 0 with values NULL to start), zero-padded. */
int llmcap_sweep_axis_add(struct llmcap_sweep_axis *ax, size_t *cap, const char *v, size_t len,
			  struct llmcap_error *err);

#endif

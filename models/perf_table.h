/* The table step-time model (internal to models/): a user's measured step times, read from
 * CSV and interpolated with GSL. */
#ifndef LLMCAP_PERF_TABLE_H
#define LLMCAP_PERF_TABLE_H

#include "llmcap/perf.h"

/* Reads `path`. `where` names the setting in errors (e.g. "f.yaml:3:5: pools.p.table.path").
 * Returns 0, or -LLMCAP_EIO / -LLMCAP_EINVAL with err naming file:line:column, the column,
 * the value and what was expected. */
int llmcap_perf_table_load(struct llmcap_perf_table **out, const char *path, const char *where,
			   struct llmcap_error *err);
void llmcap_perf_table_free(struct llmcap_perf_table *t);
/* Step time in seconds at (tokens, KV tokens read); *out_of_range set when the point lies
 * outside the measured grid (then clamped to it, or extrapolated bilinearly from its edge). */
double llmcap_perf_table_eval(const struct llmcap_perf_table *t, double tokens, double context,
			      enum llmcap_table_range mode, bool *out_of_range);

#endif

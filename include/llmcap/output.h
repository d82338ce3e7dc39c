/* HDF5 result files. The layout is documented in docs/hdf5-layout.md (format version 1).
 *
 * Atomic: the file is written under a temporary name in the target's folder and renamed onto
 * the target only when complete; an error or an interruption removes the temporary file, so
 * the target name never holds a partial result. An existing target is kept unless `force`.
 * Per-request records and time-series rows are appended in chunks while the simulation runs.
 */
#ifndef LLMCAP_OUTPUT_H
#define LLMCAP_OUTPUT_H

#include "llmcap/report.h"

#define LLMCAP_H5_FORMAT_VERSION 1

struct llmcap_h5;

/* Provenance written as root attributes. */
struct llmcap_h5_info {
	const char *command_line;
	const char *scenario_yaml;  /* the fully resolved scenario */
	const char *started_at;     /* UTC, ISO 8601 */
	uint64_t catalog_hash;      /* FNV-1a of the built-in catalog texts */
};

int llmcap_h5_open(struct llmcap_h5 **out, const char *target, bool force,
		   const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		   const struct llmcap_h5_info *info, struct llmcap_error *err);
/* Fills a sink whose callbacks append to the file (as the scenario's output section asks). */
void llmcap_h5_sink(struct llmcap_h5 *h, struct llmcap_sink *sink);
struct llmcap_batch;
/* Adds /summary/batch_means (llmcap run --batch-means) to what finish writes; b is read at
 * finish and must live until then. */
void llmcap_h5_batch_means(struct llmcap_h5 *h, struct llmcap_batch *b);
/* Writes the summaries, closes and renames onto the target; frees h in every case. */
int llmcap_h5_finish(struct llmcap_h5 *h, struct llmcap_results *res,
		     const struct llmcap_summary *sum, struct llmcap_error *err);
/* Closes and removes the temporary file; frees h. */
void llmcap_h5_abort(struct llmcap_h5 *h);
/* The error a sink callback met, if any ("" otherwise). */
const char *llmcap_h5_error(const struct llmcap_h5 *h);

#endif

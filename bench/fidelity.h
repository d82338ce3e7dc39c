/* Fidelity of llmcap against published measurements (bench/data/calibration/, copied from the
 * shared collection with their provenance): step-level tables against the step-time model,
 * end-to-end benchmarks as scenarios run through the engine (llmcap_simulate). Shared by
 * bench/fidelity (the report) and tests/test_fidelity.c (the regression bound). */
#ifndef LLMCAP_FIDELITY_H
#define LLMCAP_FIDELITY_H

#include <stdio.h>

#include "llmcap/catalog.h"

struct fid_point {
	char label[160];
	double measured, predicted;
	bool h100_class; /* H100/H200, a 7-8B or 70B-class model: the target set */
	/* the group the report breaks errors down by (step-level points: "-"): the engine
	 * profile that ran, the model's size class, weights/KV precision, tensor parallelism */
	char engine[24], size[8], precision[16];
	int tp;
};

struct fid_dataset {
	char name[48];
	char file[96];
	char what[160];
	bool end_to_end; /* run through the engine (llmcap_simulate), not the step-time model alone */
	struct fid_point *pts;
	size_t n, cap;
	size_t skipped; /* rows outside the catalog (other GPUs or models) */
};

enum { FID_MAX_DATASETS = 16 };

enum { FID_MAX_OVERRIDES = 8 };

/* What a run changes (bench/fit_calibration.py drives the engine through these): per engine
 * profile, an override in the scenario syntax of pools.NAME.profile ("{step_overhead: 500us}"),
 * applied to every pool that runs that profile; and the datasets to run (NULL: all). Borrowed
 * strings, alive for the run. */
struct fid_options {
	const char *engine[FID_MAX_OVERRIDES], *profile[FID_MAX_OVERRIDES];
	size_t n_overrides;
	const char *only;   /* comma-separated dataset names, or NULL */
	const char *only_engine; /* only the runs of this engine profile (modern files), or NULL */
};

struct fid_report {
	struct fid_dataset sets[FID_MAX_DATASETS];
	size_t n_sets;
	const struct fid_options *opt; /* NULL: none */
};

/* Runs every comparison: the published data in caldir (bench/data/calibration) and, unless
 * datadir is NULL, this project's own measurements there (bench/data). Returns 0, or -1 with a
 * message on stderr when a file is missing. */
int llmcap_fidelity_run(const char *caldir, const char *datadir, const struct llmcap_catalog *cat,
			struct fid_report *rep);
/* The same with options (opt may be NULL). */
int llmcap_fidelity_run_opts(const char *caldir, const char *datadir, const struct llmcap_catalog *cat,
			     const struct fid_options *opt, struct fid_report *rep);
void llmcap_fidelity_free(struct fid_report *rep);

struct fid_stats {
	size_t n;
	double median, p90; /* absolute percentage error, as fractions */
};
/* Over the dataset's points (only_h100_class: the target subset). */
struct fid_stats llmcap_fidelity_stats(const struct fid_dataset *d, bool only_h100_class);
/* Over the dataset's points in like's group (engine profile, size class, precision, TP). */
struct fid_stats llmcap_fidelity_group_stats(const struct fid_dataset *d, const struct fid_point *like);

#endif

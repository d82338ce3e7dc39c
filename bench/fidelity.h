/* Fidelity of the performance model against published measurements (../shared/calibration/).
 * Shared by bench/fidelity (the report) and tests/test_fidelity.c (the regression bound). */
#ifndef LLMCAP_FIDELITY_H
#define LLMCAP_FIDELITY_H

#include <stdio.h>

#include "llmcap/catalog.h"

struct fid_point {
	char label[160];
	double measured, predicted;
	bool h100_class; /* H100/H200, a 7-8B or 70B-class model: the target set */
};

struct fid_dataset {
	char name[48];
	char file[96];
	char what[160];
	bool end_to_end; /* throughput tables (target 15%) rather than step-level data (10%) */
	struct fid_point *pts;
	size_t n, cap;
	size_t skipped; /* rows outside the catalog (other GPUs or models) */
};

enum { FID_MAX_DATASETS = 12 };

struct fid_report {
	struct fid_dataset sets[FID_MAX_DATASETS];
	size_t n_sets;
};

/* Runs every comparison: the published data in caldir (../shared/calibration) and, unless
 * datadir is NULL, this project's own measurements there (bench/data). Returns 0, or -1 with a
 * message on stderr when a file is missing. */
int llmcap_fidelity_run(const char *caldir, const char *datadir, const struct llmcap_catalog *cat,
			struct fid_report *rep);
void llmcap_fidelity_free(struct fid_report *rep);

struct fid_stats {
	size_t n;
	double median, p90; /* absolute percentage error, as fractions */
};
/* Over the dataset's points (only_h100_class: the target subset). */
struct fid_stats llmcap_fidelity_stats(const struct fid_dataset *d, bool only_h100_class);

#endif

/* bench/fidelity: how far the step-time model is from published measurements.
 *
 * usage: fidelity [CALIBRATION_DIR] [--data DIR] [--worst N] [--points]
 *   CALIBRATION_DIR defaults to the shared data beside the source tree (../shared/calibration);
 *   --data names this project's own measurements (default: bench/data in the source tree).
 * Prints, per dataset, the number of points, the median and 90th percentile of the absolute
 * percentage error (all points, and the target subset: H100/H200 with 7-8B and 70B
 * models), and the worst points. See docs/models.md for the method and the current numbers. */
#include <stdlib.h>
#include <string.h>

#include "fidelity.h"

#ifndef LLMCAP_BENCH_DATA_DIR
#define LLMCAP_BENCH_DATA_DIR "bench/data"
#endif
#ifndef LLMCAP_CALIBRATION_DIR
#define LLMCAP_CALIBRATION_DIR "../shared/calibration"
#endif

int main(int argc, char **argv)
{
	const char *dir = LLMCAP_CALIBRATION_DIR, *data = LLMCAP_BENCH_DATA_DIR;
	int worst = 3;
	bool points = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (!strcmp(argv[i], "--worst") && i + 1 < argc)
			worst = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--points"))
			points = true;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [CALIBRATION_DIR] [--data DIR] [--worst N] [--points]\n", argv[0]);
			return 2;
		} else
			dir = argv[i];
	}
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_error err = {0};
	if (!cat || llmcap_catalog_load_builtin(cat, &err) != 0) {
		fprintf(stderr, "fidelity: %s\n", cat ? err.msg : "out of memory");
		free(cat);
		return 2;
	}
	struct fid_report rep;
	if (llmcap_fidelity_run(dir, data, cat, &rep) != 0) {
		llmcap_fidelity_free(&rep);
		free(cat);
		return 1;
	}
	printf("fidelity of the roofline step-time model against %s and %s\n"
	       "APE = |predicted / measured - 1|; target subset = H100/H200 with 7-8B and 70B models\n\n",
	       dir, data);
	printf("| dataset | what | n | median APE | p90 APE | target n | target median | target p90 |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < rep.n_sets; i++) {
		const struct fid_dataset *d = &rep.sets[i];
		struct fid_stats a = llmcap_fidelity_stats(d, false), t = llmcap_fidelity_stats(d, true);
		printf("| %s | %s | %zu | %.1f%% | %.1f%% | %zu | %.1f%% | %.1f%% |\n", d->name, d->what,
		       a.n, 100 * a.median, 100 * a.p90, t.n, 100 * t.median, 100 * t.p90);
	}
	for (size_t i = 0; i < rep.n_sets; i++) {
		struct fid_dataset *d = &rep.sets[i];
		printf("\n%s (%s; %zu rows outside the catalog skipped)\n", d->name, d->file, d->skipped);
		/* worst points: selection by error, without reordering the data */
		bool *shown = calloc(d->n ? d->n : 1, sizeof *shown);
		for (int w = 0; shown && w < worst && (size_t)w < d->n; w++) {
			size_t best = 0;
			double be = -1;
			for (size_t k = 0; k < d->n; k++) {
				double e = d->pts[k].predicted / d->pts[k].measured - 1;
				if (!shown[k] && (e < 0 ? -e : e) > be) {
					be = e < 0 ? -e : e;
					best = k;
				}
			}
			shown[best] = true;
			printf("  worst: %-60s measured %10.4g predicted %10.4g (%+.1f%%)\n",
			       d->pts[best].label, d->pts[best].measured, d->pts[best].predicted,
			       100 * (d->pts[best].predicted / d->pts[best].measured - 1));
		}
		free(shown);
		if (points)
			for (size_t k = 0; k < d->n; k++)
				printf("  %-60s measured %10.4g predicted %10.4g (%+.1f%%)\n",
				       d->pts[k].label, d->pts[k].measured, d->pts[k].predicted,
				       100 * (d->pts[k].predicted / d->pts[k].measured - 1));
	}
	llmcap_fidelity_free(&rep);
	free(cat);
	return 0;
}

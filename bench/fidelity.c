/* bench/fidelity: how far llmcap is from published measurements.
 *
 * usage: fidelity [CALIBRATION_DIR] [--data DIR] [--worst N] [--points] [--only SET,...]
 *                 [--engine PROFILE] [--profile ENGINE '{key: value, ...}']...
 *                 [--gpu NAME KEY VALUE]...
 *   --only runs the named datasets (loader keys: vidur-layer, allreduce, argonne-e2e,
 *   splitwise, trtllm-v0.9, trtllm-throughput, lambdalabs-vllm, vllm-blog-v0.6,
 *   vllm-blog-fp8kv, sglang-h200, gpustack, h100); --engine keeps only the runs of one engine
 *   profile in the modern files; --profile overrides constants of an engine
 *   profile in every pool that runs it (pools.NAME.profile), and --gpu one fitted constant of a
 *   catalog GPU (durations in us), as bench/fit_calibration.py does.
 *   CALIBRATION_DIR defaults to bench/data/calibration in the source tree (the published
 *   tables, copied with their provenance); --data names this project's own measurements
 *   (default: bench/data in the source tree).
 * Prints, per dataset, the number of points, the median and 90th percentile of the absolute
 * percentage error (all points, and the target subset: H100/H200 with 7-8B and 70B
 * models); then the same per dataset, engine profile, model size, precision and TP; and the
 * worst points. End-to-end points run through the engine (llmcap_simulate). See
 * docs/validation.md for the method and docs/models.md for the current numbers. */
#include <stdlib.h>
#include <string.h>

#include "fidelity.h"

#ifndef LLMCAP_BENCH_DATA_DIR
#define LLMCAP_BENCH_DATA_DIR "bench/data"
#endif
#ifndef LLMCAP_CALIBRATION_DIR
#define LLMCAP_CALIBRATION_DIR "bench/data/calibration"
#endif

/* --gpu NAME KEY VALUE: one fitted constant of a catalog GPU replaced for this run (what
 * bench/fit_calibration.py varies); durations in microseconds. Returns 0, or -1 for an
 * unknown GPU or key. */
static int gpu_override(struct llmcap_catalog *cat, const char *name, const char *key,
			const char *value)
{
	struct llmcap_gpu_spec *g = NULL;
	for (size_t i = 0; i < cat->n_gpus; i++)
		if (!strcmp(cat->gpus[i].name, name))
			g = &cat->gpus[i];
	double v = atof(value);
	if (!g)
		return -1;
	if (!strcmp(key, "gemm_efficiency"))
		g->gemm_efficiency = v;
	else if (!strcmp(key, "hbm_efficiency"))
		g->hbm_efficiency = v;
	else if (!strcmp(key, "gemm_half_tokens"))
		g->gemm_half_tokens = v;
	else if (!strcmp(key, "attention_efficiency"))
		g->attention_efficiency = v;
	else if (!strcmp(key, "allreduce_bandwidth"))
		g->allreduce_bandwidth = v;
	else if (!strcmp(key, "layer_latency"))
		g->layer_latency = (llmcap_time)(v * 1e3);
	else if (!strcmp(key, "allreduce_latency"))
		g->allreduce_latency = (llmcap_time)(v * 1e3);
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = LLMCAP_CALIBRATION_DIR, *data = LLMCAP_BENCH_DATA_DIR;
	int worst = 3;
	bool points = false;
	struct fid_options opt = {0};
	const char *gpu_over[16][3];
	int n_gpu_over = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			opt.only = argv[++i];
		else if (!strcmp(argv[i], "--gpu") && i + 3 < argc && n_gpu_over < 16) {
			gpu_over[n_gpu_over][0] = argv[++i];
			gpu_over[n_gpu_over][1] = argv[++i];
			gpu_over[n_gpu_over++][2] = argv[++i];
		} else if (!strcmp(argv[i], "--engine") && i + 1 < argc)
			opt.only_engine = argv[++i];
		else if (!strcmp(argv[i], "--profile") && i + 2 < argc &&
			 opt.n_overrides < FID_MAX_OVERRIDES) {
			opt.engine[opt.n_overrides] = argv[++i];
			opt.profile[opt.n_overrides++] = argv[++i];
		}
		else if (!strcmp(argv[i], "--worst") && i + 1 < argc)
			worst = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--points"))
			points = true;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [CALIBRATION_DIR] [--data DIR] [--worst N] [--points] "
				"[--only SET,...] [--engine PROFILE] [--profile ENGINE '{key: value, ...}']... "
				"[--gpu NAME KEY VALUE]...\n", argv[0]);
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
	for (int k = 0; k < n_gpu_over; k++)
		if (gpu_override(cat, gpu_over[k][0], gpu_over[k][1], gpu_over[k][2]) != 0) {
			fprintf(stderr, "fidelity: --gpu %s %s: no such GPU or key\n", gpu_over[k][0],
				gpu_over[k][1]);
			free(cat);
			return 2;
		}
	struct fid_report rep;
	if (llmcap_fidelity_run_opts(dir, data, cat, &opt, &rep) != 0) {
		llmcap_fidelity_free(&rep);
		free(cat);
		return 1;
	}
	printf("fidelity of llmcap against %s and %s\n"
	       "APE = |predicted / measured - 1|; target subset = H100/H200 with 7-8B and 70B models;\n"
	       "(engine run): each point a scenario simulated by llmcap_simulate\n\n",
	       dir, data);
	printf("| dataset | what | n | median APE | p90 APE | target n | target median | target p90 |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < rep.n_sets; i++) {
		const struct fid_dataset *d = &rep.sets[i];
		struct fid_stats a = llmcap_fidelity_stats(d, false), t = llmcap_fidelity_stats(d, true);
		printf("| %s | %s | %zu | %.1f%% | %.1f%% | %zu | %.1f%% | %.1f%% |\n", d->name, d->what,
		       a.n, 100 * a.median, 100 * a.p90, t.n, 100 * t.median, 100 * t.p90);
	}
	printf("\nby dataset, engine profile, model size, precision (weights/KV) and TP (engine runs)\n\n"
	       "| dataset | engine | size | precision | TP | n | median APE | p90 APE |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < rep.n_sets; i++) {
		const struct fid_dataset *d = &rep.sets[i];
		if (!d->end_to_end)
			continue;
		/* each group once, at its first point, in data order */
		for (size_t k = 0; k < d->n; k++) {
			bool seen = false;
			for (size_t j = 0; j < k && !seen; j++)
				seen = !strcmp(d->pts[j].engine, d->pts[k].engine) &&
				       !strcmp(d->pts[j].size, d->pts[k].size) &&
				       !strcmp(d->pts[j].precision, d->pts[k].precision) &&
				       d->pts[j].tp == d->pts[k].tp;
			if (seen)
				continue;
			struct fid_stats g = llmcap_fidelity_group_stats(d, &d->pts[k]);
			printf("| %s | %s | %s | %s | %d | %zu | %.1f%% | %.1f%% |\n", d->name,
			       d->pts[k].engine, d->pts[k].size, d->pts[k].precision, d->pts[k].tp, g.n,
			       100 * g.median, 100 * g.p90);
		}
	}
	for (size_t i = 0; i < rep.n_sets; i++) {
		struct fid_dataset *d = &rep.sets[i];
		printf("\n%s (%s; %zu rows outside the catalog or not reproducible skipped)\n", d->name,
		       d->file, d->skipped);
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

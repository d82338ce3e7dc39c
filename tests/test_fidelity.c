/* The calibrated model stays within its measured accuracy (bench/fidelity): each dataset's
 * median absolute percentage error may not exceed today's, rounded up a little, and the
 * issue's targets hold for the H100-class 7-8B and 70B points (10% step-level, 15%
 * end-to-end throughput). A change that worsens accuracy fails here. Skipped when the shared
 * calibration data is not beside the source tree. */
#include "test_util.h"

#include <unistd.h>

#include "fidelity.h"

static const struct {
	const char *name;
	double median_bound;        /* all points: today's median APE, rounded up */
	double target_bound;        /* H100/H200 7-8B and 70B points: NAN = no target */
} bounds[] = {
	{"vidur-layer", 0.035, 0.10},
	{"allreduce", 0.18, NAN},
	{"argonne-e2e", 0.09, 0.10},
	/* Splitwise's 2023 stack is slower than Argonne's measurements of the same model and
	 * GPUs (70B TP4 decode at batch 1: 28 ms vs 18 ms): no model fits both; reported, bounded */
	{"splitwise-prefill", 0.145, NAN},
	{"splitwise-decode", 0.295, NAN},
	{"trtllm-v0.9-static", 0.135, 0.165},
	{"trtllm-v0.9-ttft", 0.165, NAN},
	{"trtllm-throughput", 0.09, 0.10},
	/* this project's kernel-only H100 measurements (bench/data): the GEMM curve, and whole
	 * steps of an unfused PyTorch implementation (more kernels per layer and element-wise
	 * traffic than the engines the catalog describes: reported, bounded, no target) */
	{"h100-gemm", 0.09, 0.10},
	{"h100-torch-steps", 0.14, NAN},
};

static void within_measured_error(void **state)
{
	(void)state;
	const char *dir = LLMCAP_SOURCE_DIR "/../shared/calibration";
	if (access(dir, R_OK) != 0)
		skip();
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_error err = {0};
	assert_non_null(cat);
	assert_int_equal(llmcap_catalog_load_builtin(cat, &err), 0);
	struct fid_report rep;
	assert_int_equal(llmcap_fidelity_run(dir, LLMCAP_SOURCE_DIR "/bench/data", cat, &rep), 0);
	assert_int_equal(rep.n_sets, sizeof bounds / sizeof bounds[0]);
	for (size_t i = 0; i < rep.n_sets; i++) {
		const struct fid_dataset *d = &rep.sets[i];
		assert_string_equal(d->name, bounds[i].name);
		struct fid_stats all = llmcap_fidelity_stats(d, false), t = llmcap_fidelity_stats(d, true);
		assert_true(all.n >= 20);
		if (all.median > bounds[i].median_bound)
			fail_msg("%s: median APE %.4f exceeds its bound %.4f", d->name, all.median,
				 bounds[i].median_bound);
		if (!isnan(bounds[i].target_bound) && t.median > bounds[i].target_bound)
			fail_msg("%s: median APE on the H100 7-8B/70B points %.4f exceeds %.4f", d->name,
				 t.median, bounds[i].target_bound);
	}
	llmcap_fidelity_free(&rep);
	free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(within_measured_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

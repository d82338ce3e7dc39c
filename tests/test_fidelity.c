/* llmcap stays within its measured accuracy (bench/fidelity, docs/validation.md): every
 * published point is reproduced (none silently dropped: each dataset keeps at least today's
 * number of points), and each dataset's median and 90th percentile absolute percentage error
 * may not exceed today's by more than a tenth (rounded up to 0.5%). End-to-end points run through the engine
 * (llmcap_simulate). A change that worsens accuracy, or makes a benchmark's scenario fail to
 * run, fails here.
 *
 * These are regression bounds on today's numbers, not the targets (8% median): the
 * engine profiles are being refit, and a refit that improves a dataset lowers its bound here.
 * The data is in the source tree (bench/data/calibration): a missing file FAILS this test
 * (a fresh clone has it; a missing file is a broken checkout, not a reason to skip). */
#include "test_util.h"

#include <unistd.h>

#include "fidelity.h"

static const struct {
	const char *name;
	size_t min_points;   /* today's count: a benchmark whose scenario stops running shows here */
	double median_bound; /* today's median APE x 1.1, rounded up to 0.5% */
	double p90_bound;    /* today's 90th percentile APE x 1.1, rounded up to 0.5% */
} bounds[] = {
	/* today = 2026-12-07, the issue-22 engine profiles with fit 6 (docs/models.md, "Fit 6"):
	 * the current engines' 8 us all-reduce lowered trtllm-throughput; the engines' server
	 * defaults (bench/fidelity_lib.c, server_defaults) moved vllm-blog-v0.6 by 0.2%; the
	 * others did not move. Fit 7 (SGLang's separate prefill steps, the API server's
	 * frontend_latency in the sglang and trtllm profiles) lowered sglang-h200 (10.2% to 8.9%,
	 * p90 41.5% to 40.7%), gpustack (36.8% to 36.4%, p90 78.8% to 78.2%) and vllm-blog-v0.6
	 * (26.9% to 26.7%) */
	{"vidur-layer", 392, 0.035, 0.080},
	{"allreduce", 48, 0.185, 0.400},
	{"argonne-e2e", 890, 0.095, 0.220},
	/* Splitwise's 2023 stack is slower than Argonne's measurements of the same model and
	 * GPUs (70B TP4 decode at batch 1: 28 ms vs 18 ms): no model fits both; reported, bounded */
	{"splitwise-prefill", 114, 0.150, 0.490},
	{"splitwise-decode", 114, 0.315, 0.575},
	{"trtllm-v0.9-static", 40, 0.140, 0.410},
	{"trtllm-v0.9-ttft", 28, 0.170, 0.505},
	{"trtllm-throughput", 154, 0.090, 0.320},
	{"lambdalabs-vllm", 46, 0.250, 0.485},
	{"vllm-blog-v0.6", 26, 0.295, 0.520},
	{"vllm-blog-fp8kv", 8, 0.100, 0.175},
	{"sglang-h200", 12, 0.100, 0.450},
	/* GPUStack's performance lab (vLLM 0.11, SGLang 0.5, TensorRT-LLM 1.x; Qwen3 8-32B, Qwen3-235B,
	 * DeepSeek-R1; `vllm bench serve` metrics): far from the targets, for reasons listed in
	 * docs/models.md ("Fit 6", "Fit 7"): the API server's output streaming under load, vLLM
	 * too fast at large batch, MoE expert GEMMs; bounded so that it does not get worse */
	{"gpustack", 534, 0.405, 0.865},
	/* this project's kernel-only H100 measurements (bench/data): the GEMM curve, and whole
	 * steps of an unfused PyTorch implementation (more kernels per layer and element-wise
	 * traffic than the engines the catalog describes: reported, bounded) */
	{"h100-gemm", 52, 0.095, 0.175},
	{"h100-torch-steps", 56, 0.155, 0.200},
};

static void within_measured_error(void **state)
{
	(void)state;
	const char *dir = LLMCAP_SOURCE_DIR "/bench/data/calibration";
	if (access(dir, R_OK) != 0)
		fail_msg("%s: missing; the published data must be in the source tree "
			 "(bench/data/PROVENANCE.md)", dir);
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_error err = {0};
	assert_non_null(cat);
	assert_int_equal(llmcap_catalog_load_builtin(cat, &err), 0);
	struct fid_report rep;
	if (llmcap_fidelity_run(dir, LLMCAP_SOURCE_DIR "/bench/data", cat, &rep) != 0)
		fail_msg("a calibration file is missing or unreadable (see stderr)");
	assert_int_equal(rep.n_sets, sizeof bounds / sizeof bounds[0]);
	size_t e2e = 0;
	for (size_t i = 0; i < rep.n_sets; i++) {
		const struct fid_dataset *d = &rep.sets[i];
		assert_string_equal(d->name, bounds[i].name);
		struct fid_stats all = llmcap_fidelity_stats(d, false);
		if (all.n < bounds[i].min_points)
			fail_msg("%s: %zu points reproduced, expected at least %zu", d->name, all.n,
				 bounds[i].min_points);
		if (all.median > bounds[i].median_bound)
			fail_msg("%s: median APE %.4f exceeds its bound %.4f", d->name, all.median,
				 bounds[i].median_bound);
		if (all.p90 > bounds[i].p90_bound)
			fail_msg("%s: 90th percentile APE %.4f exceeds its bound %.4f", d->name, all.p90,
				 bounds[i].p90_bound);
		/* an end-to-end point is a run of the engine: the benchmark's own metric, finite,
		 * positive, with the profile that ran it */
		e2e += d->end_to_end;
		for (size_t k = 0; d->end_to_end && k < d->n; k++) {
			assert_true(isfinite(d->pts[k].predicted) && d->pts[k].predicted > 0);
			assert_true(d->pts[k].tp >= 1);
			assert_string_not_equal(d->pts[k].engine, "-");
		}
	}
	assert_int_equal(e2e, 9);
	llmcap_fidelity_free(&rep);
	free(cat);
}

/* A directory without the data fails (the bench and the test report it), never passes. */
static void missing_data_fails(void **state)
{
	(void)state;
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_error err = {0};
	assert_non_null(cat);
	assert_int_equal(llmcap_catalog_load_builtin(cat, &err), 0);
	struct fid_report rep;
	assert_int_equal(llmcap_fidelity_run("/nonexistent/calibration", NULL, cat, &rep), -1);
	llmcap_fidelity_free(&rep);
	/* one dataset alone (the GPUStack file) missing fails too */
	struct fid_options only = {.only = "gpustack"};
	assert_int_equal(llmcap_fidelity_run_opts("/nonexistent/calibration", NULL, cat, &only, &rep),
			 -1);
	llmcap_fidelity_free(&rep);
	free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(within_measured_error),
		cmocka_unit_test(missing_data_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

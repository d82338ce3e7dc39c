/* `llmcap config`: the fully resolved scenario, every default written out, and what the
 * hardware implies per pool as comments. */
#include <stdio.h>
#include <stdlib.h>

#include "llmcap/cost.h"
#include "llmcap/perf.h"
#include "llmcap/scenario.h"

#include "cli.h"

static int cmd_config(const struct llmcap_cli_common *a, bool exact_steps)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	int rc = 2;
	if (cat && sc && llmcap_cli_load(cat, sc, a) == 0) {
		if (exact_steps)
			sc->engine_mode = LLMCAP_ENGINE_EXACT;
		printf("# fully resolved scenario: %s%s\n", a->file ? a->file : LLMCAP_DEFAULT_SCENARIO_NAME,
		       a->n_sets ? " with --set overrides" : "");
		llmcap_scenario_write_yaml(sc, stdout, true);
		/* What the defaults and the hardware imply, as comments. */
		printf("# derived per pool (KV capacity as the pool's engine derives it):\n");
		for (size_t p = 0; p < sc->n_pools; p++) {
			struct llmcap_memory_plan plan;
			const struct llmcap_model_spec *m = llmcap_catalog_model(cat, sc->pools[p].model);
			const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(cat, llmcap_pool_gpu(sc, p));
			const struct llmcap_engine_spec *e = llmcap_catalog_engine(cat, sc->pools[p].engine);
			if (llmcap_memory_plan_pool(cat, m, g, e, &sc->pools[p], &plan, NULL) == 0)
				printf("#   %s: %.2fB params, %.2f GiB weights/GPU, %.2f GiB KV cache/GPU, "
				       "%lld blocks x %lld tokens, max_model_len %lld\n",
				       sc->pools[p].name, plan.params / 1e9,
				       plan.weight_bytes_per_gpu / LLMCAP_GIB, plan.kv_bytes_per_gpu / LLMCAP_GIB,
				       (long long)plan.num_blocks, (long long)plan.block_size,
				       (long long)plan.max_model_len);
		}
		rc = 0;
		llmcap_scenario_free(sc);
	}
	free(cat);
	free(sc);
	return rc;
}

enum { O_EXACT_STEPS = 1 };

static const struct llmcap_opt config_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{O_EXACT_STEPS, 0, "exact-steps", NULL, "resolve with engine_mode: exact, as run --exact-steps",
	 NULL},
};

static int config_option(const struct llmcap_args *p, int id, void *ctx)
{
	(void)p;
	(void)id; /* --exact-steps, the one option of its own */
	*(bool *)ctx = true;
	return 0;
}

static int config_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct llmcap_cli_common a = {0};
	bool exact_steps = false;
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &a, config_option, &exact_steps);
	if (rc < 0)
		rc = cmd_config(&a, exact_steps);
	llmcap_cli_common_free(&a);
	return rc;
}

const struct llmcap_cmd llmcap_cli_config = {
	.name = "config",
	.synopsis = "[FILE] [--set KEY=VALUE]...",
	.summary = "print the fully resolved scenario with every default",
	.opts = config_opts,
	.n_opts = sizeof config_opts / sizeof *config_opts,
	.run = config_main,
};

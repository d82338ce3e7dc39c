/* `llmcap catalog`: the models, API prices, GPUs, engine profiles and links built into llmcap. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "llmcap/catalog.h"
#include "llmcap/perf.h"

#include "cli.h"

static int no_own_option(const struct llmcap_args *p, int id, void *ctx)
{
	(void)p, (void)id, (void)ctx;
	return 0;
}

static const struct llmcap_opt catalog_opts[] = {LLMCAP_CLI_OPT_CATALOG};

struct text {
	char s[32];
};

static struct text usd_hour(double v)
{
	struct text t;
	if (isnan(v))
		snprintf(t.s, sizeof t.s, "n/a");
	else
		snprintf(t.s, sizeof t.s, "$%.2f", v);
	return t;
}

static struct text num(double v)
{
	struct text t;
	snprintf(t.s, sizeof t.s, "%.3g", v);
	return t;
}

static int catalog_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct llmcap_cli_common c = {0};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &c, no_own_option, NULL);
	if (rc < 0 && c.file) {
		fprintf(stderr, "llmcap: catalog takes no arguments ('%s'); see llmcap catalog --help\n",
			c.file);
		rc = 2;
	}
	if (rc >= 0) {
		llmcap_cli_common_free(&c);
		return rc;
	}
	/* the built-in catalog and the --catalog files (there is no scenario here) */
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_error err = {0};
	if (!cat || llmcap_cli_load_catalog(cat, &c, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", cat ? err.msg : "out of memory");
		free(cat);
		llmcap_cli_common_free(&c);
		return 2;
	}
	llmcap_cli_common_free(&c);
	printf("models:\n");
	for (size_t i = 0; i < cat->n_models; i++) {
		struct llmcap_param_count pc;
		const struct llmcap_model_spec *m = &cat->models[i];
		llmcap_model_params(m, &pc);
		char attn[64], moe[96] = "";
		if (m->kv_lora_rank > 0)
			snprintf(attn, sizeof attn, "%lld heads, MLA latent %lld+%lld",
				 (long long)m->num_attention_heads, (long long)m->kv_lora_rank,
				 (long long)m->qk_rope_head_dim);
		else
			snprintf(attn, sizeof attn, "%lld/%lld heads (q/kv)",
				 (long long)m->num_attention_heads, (long long)m->num_key_value_heads);
		if (m->num_experts > 0)
			snprintf(moe, sizeof moe, ", %lld experts (top-%lld%s), %.2fB active",
				 (long long)m->num_experts, (long long)m->experts_per_token,
				 m->num_shared_experts > 0 ? " + shared" : "", pc.active / 1e9);
		printf("  %-16s %6.2fB params, %lld layers, hidden %lld, %s%s, context %lld\n"
		       "  %-16s source: %s\n",
		       m->name, pc.total / 1e9, (long long)m->layers, (long long)m->hidden_size, attn, moe,
		       (long long)m->max_position_embeddings, "", m->source);
		if (m->aliases[0])
			printf("  %-16s aliases: %s\n", "", m->aliases);
	}
	printf("api prices (USD per 1M tokens; use with cost.api.prices.CLASS.from: NAME):\n");
	for (size_t i = 0; i < cat->n_prices; i++)
		printf("  %-26s input %6.3f, output %6.3f  (%s)\n", cat->prices[i].name,
		       cat->prices[i].input, cat->prices[i].output, cat->prices[i].source);
	printf("gpus:\n");
	for (size_t i = 0; i < cat->n_gpus; i++) {
		char fp8[32] = "no FP8"; /* 0 in the catalog: no FP8 tensor cores (A100) */
		if (cat->gpus[i].fp8_tflops > 0)
			snprintf(fp8, sizeof fp8, "%.1f TFLOPS fp8", cat->gpus[i].fp8_tflops);
		printf("  %-16s %.1f GiB, %.2f TB/s, %.1f TFLOPS bf16, %s, %.0f W\n"
		       "  %-16s source: %s\n",
		       cat->gpus[i].name, cat->gpus[i].memory / LLMCAP_GIB, cat->gpus[i].hbm_bandwidth / 1e12,
		       cat->gpus[i].bf16_tflops, fp8, cat->gpus[i].tdp_watts, "", cat->gpus[i].source);
		if (cat->gpus[i].aliases[0])
			printf("  %-16s aliases: %s\n", "", cat->gpus[i].aliases);
	}
	printf("gpu prices (USD; n/a: no published figure, set cost.gpus.NAME; llmcap decide and "
	       "run use them):\n");
	for (size_t i = 0; i < cat->n_gpus; i++) {
		const struct llmcap_gpu_prices *p = &cat->gpus[i].price;
		char g[32], ch[32], net[32];
		llmcap_format_usd(p->gpu, g, sizeof g);
		llmcap_format_usd(p->chassis, ch, sizeof ch);
		llmcap_format_usd(p->network_per_gpu, net, sizeof net);
		printf("  %-16s buy %s per GPU, chassis %s, network %s per GPU\n", cat->gpus[i].name,
		       g, ch, net);
		printf("  %-16s rent per GPU-hour: on demand %s, reserved 1y %s, 3y %s, spot %s "
		       "(%s interruptions per replica-month)\n", "", usd_hour(p->on_demand).s,
		       usd_hour(p->reserved_1y).s, usd_hour(p->reserved_3y).s, usd_hour(p->spot).s,
		       isnan(p->spot_interruptions) ? "n/a" : num(p->spot_interruptions).s);
		printf("  %-16s power: busy %s W, idle %.0f W\n", "",
		       isnan(p->busy_watts) ? num(cat->gpus[i].tdp_watts).s : num(p->busy_watts).s,
		       cat->gpus[i].idle_watts);
		const char *what[] = {"buy", "server", "power", "on demand", "reserved", "spot"};
		const char *src[] = {p->gpu_source, p->server_source, p->power_source,
				     p->on_demand_source, p->reserved_source, p->spot_source};
		for (size_t k = 0; k < sizeof src / sizeof *src; k++)
			if (src[k][0])
				printf("  %-16s %s: %s\n", "", what[k], src[k]);
	}
	printf("engines:\n");
	for (size_t i = 0; i < cat->n_engines; i++) {
		const struct llmcap_engine_spec *e = &cat->engines[i];
		printf("  %-16s %.3f ms per step, %.1f us per sequence, decode attention at %.0f%% of HBM "
		       "peak, %.0f us per layer in prefill steps\n  %-16s source: %s\n",
		       e->name, (double)e->step_overhead * 1e-6, (double)e->seq_overhead * 1e-3,
		       100 * e->attention_bw_efficiency, (double)e->eager_layer_overhead * 1e-3, "",
		       e->source);
		char ar[32] = "the GPU's";
		if (e->allreduce_latency >= 0)
			snprintf(ar, sizeof ar, "%.1f us", (double)e->allreduce_latency * 1e-3);
		printf("  %-16s memory: %s rule, reserved %.2f GiB + CUDA graphs %.2f GiB + NCCL %.2f GiB "
		       "(TP > 1), embedding and LM head %s; admission %s (reserve %g of the output); "
		       "async scheduling %s; scheduler steps %lld; all-reduce latency %s\n",
		       "", llmcap_memory_rule_names[e->memory_rule], e->reserved_memory / LLMCAP_GIB,
		       e->cuda_graph_memory / LLMCAP_GIB, e->nccl_memory / LLMCAP_GIB,
		       e->embed_16bit ? "16-bit" : "in the pool's dtype",
		       llmcap_admission_names[e->admission],
		       e->admission == LLMCAP_ADMIT_NO_EVICT ? 1.0 : e->admission == LLMCAP_ADMIT_RESERVE ? e->reserve_output : 0.0,
		       e->async_scheduling ? "on" : "off", (long long)e->scheduler_steps, ar);
	}
	printf("links (KV transfers of disaggregated pools: pools.NAME.disaggregation.link):\n");
	for (size_t i = 0; i < cat->n_links; i++) {
		const struct llmcap_link_spec *l = &cat->links[i];
		printf("  %-16s %7.2f GB/s per GPU, %6.1f us per transfer, within a %s\n  %-16s source: %s\n",
		       l->name, l->bandwidth * 1e-9, (double)l->latency * 1e-3, l->scope, "", l->source);
	}
	free(cat);
	return 0;
}


const struct llmcap_cmd llmcap_cli_catalog = {
	.name = "catalog",
	.synopsis = "[--catalog FILE]...",
	.summary = "list the models, API prices, GPUs with their prices and sources, engine "
		   "profiles and KV transfer links llmcap knows",
	.opts = catalog_opts,
	.n_opts = sizeof catalog_opts / sizeof *catalog_opts,
	.run = catalog_main,
};

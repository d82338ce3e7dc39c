/* The llmcap command line. */
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"
#include "llmcap/workload.h"

#ifndef LLMCAP_VERSION
#define LLMCAP_VERSION "dev"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: llmcap COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  run [FILE] [--set KEY=VALUE]...     simulate a scenario (no FILE: the built-in\n"
		"                                      reference scenario, models/scenarios/default.yaml)\n"
		"  workload [FILE] [--set KEY=VALUE]... [--out FILE.csv]\n"
		"                                      generate the arrivals without the servers and\n"
		"                                      report their statistics; --out writes the requests\n"
		"                                      (arrival_s,class,prompt_tokens,output_tokens)\n"
		"  config [FILE] [--set KEY=VALUE]...  print the fully resolved scenario with every default\n"
		"  schema                              print the reference of every scenario field\n"
		"  catalog                             list the models and GPUs llmcap knows\n"
		"  version                             print the version\n"
		"\n"
		"KEY is a dotted path (workload.rate, pools.reasoning.dtype); VALUE is YAML.\n");
}

struct args {
	const char *file;
	const char **sets;
	size_t n_sets;
	const char *out; /* workload --out */
};

static int parse_args(int argc, char **argv, struct args *a, bool allow_out)
{
	a->file = NULL;
	a->out = NULL;
	a->n_sets = 0;
	a->sets = calloc((size_t)argc, sizeof *a->sets);
	if (!a->sets)
		return -1;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--set") || !strcmp(argv[i], "-s")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "llmcap: %s needs KEY=VALUE\n", argv[i]);
				return -1;
			}
			a->sets[a->n_sets++] = argv[++i];
		} else if (!strncmp(argv[i], "--set=", 6)) {
			a->sets[a->n_sets++] = argv[i] + 6;
		} else if (allow_out && (!strcmp(argv[i], "--out") || !strcmp(argv[i], "-o"))) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				fprintf(stderr, "llmcap: %s needs a file name\n", argv[i]);
				return -1;
			}
			a->out = argv[++i];
		} else if (allow_out && !strncmp(argv[i], "--out=", 6) && argv[i][6]) {
			a->out = argv[i] + 6;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "llmcap: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return -1;
		} else if (!a->file) {
			a->file = argv[i];
		} else {
			fprintf(stderr, "llmcap: only one scenario file may be given ('%s', '%s')\n", a->file,
				argv[i]);
			return -1;
		}
	}
	return 0;
}

static int load(const struct args *a, struct llmcap_catalog *cat, struct llmcap_scenario *sc)
{
	struct llmcap_error err = {0};
	if (llmcap_catalog_load_builtin(cat, &err) != 0 ||
	    llmcap_scenario_load(sc, a->file, a->sets, a->n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int cmd_run(const struct args *a)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_results res;
	int rc = 2;
	if (!cat || !sc) {
		fprintf(stderr, "llmcap: out of memory\n");
		goto out;
	}
	if (load(a, cat, sc) != 0)
		goto out;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct llmcap_error err = {0};
	if (llmcap_simulate(sc, cat, &res, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		rc = 1;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	llmcap_report(&res, stdout);
	fprintf(stdout, "\nrun digest %016llx (same scenario and seed give the same digest)\n",
		(unsigned long long)res.digest);
	fflush(stdout);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	/* Wall-clock figures go to stderr so that stdout stays byte-identical across runs. */
	fprintf(stderr, "llmcap: simulated %.1f h, %lld events in %.2f s wall time\n",
		(double)sc->horizon / (double)LLMCAP_HOUR, (long long)res.events, wall);
	llmcap_results_free(&res);
	rc = 0;
out:
	if (sc && rc != 2)
		llmcap_scenario_free(sc);
	free(cat);
	free(sc);
	return rc;
}

static int cmd_config(const struct args *a)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	int rc = 2;
	if (cat && sc && load(a, cat, sc) == 0) {
		printf("# fully resolved scenario: %s%s\n", a->file ? a->file : LLMCAP_DEFAULT_SCENARIO_NAME,
		       a->n_sets ? " with --set overrides" : "");
		llmcap_scenario_write_yaml(sc, stdout, true);
		/* What the defaults and the hardware imply, as comments. */
		printf("# derived per pool (KV capacity as vLLM derives it):\n");
		for (size_t p = 0; p < sc->n_pools; p++) {
			struct llmcap_memory_plan plan;
			const struct llmcap_model_spec *m = llmcap_catalog_model(cat, sc->pools[p].model);
			const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(cat, sc->hardware.gpu);
			if (llmcap_memory_plan(m, g, &sc->pools[p], &plan, NULL) == 0)
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

/* Writes to a temporary file beside the target and renames it over the target once complete,
 * so that a failure never leaves a half-written file under the asked name. */
static int cmd_workload(const struct args *a)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	int rc = 2;
	char *tmp = NULL;
	FILE *csv = NULL;
	if (!cat || !sc) {
		fprintf(stderr, "llmcap: out of memory\n");
		goto out;
	}
	if (load(a, cat, sc) != 0)
		goto out;
	rc = 1;
	if (a->out) {
		size_t n = strlen(a->out) + 16;
		tmp = malloc(n);
		if (!tmp) {
			fprintf(stderr, "llmcap: out of memory\n");
			goto out_sc;
		}
		snprintf(tmp, n, "%s.tmpXXXXXX", a->out);
		int fd = mkstemp(tmp);
		if (fd < 0 || !(csv = fdopen(fd, "w"))) {
			fprintf(stderr, "llmcap: %s: cannot create: %s\n", a->out, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			goto out_sc;
		}
	}
	struct llmcap_traffic tr;
	struct llmcap_error err = {0};
	if (llmcap_traffic_generate(sc, csv, &tr, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		goto out_csv;
	}
	if (csv) {
		bool bad = ferror(csv) != 0 || fflush(csv) != 0 || fsync(fileno(csv)) != 0;
		int e = errno;
		bad |= fclose(csv) != 0;
		csv = NULL;
		if (bad || rename(tmp, a->out) != 0) {
			fprintf(stderr, "llmcap: %s: cannot write: %s\n", a->out, strerror(bad ? e : errno));
			unlink(tmp);
			llmcap_traffic_free(&tr);
			goto out_sc;
		}
	}
	llmcap_traffic_report(&tr, stdout);
	if (a->out)
		printf("\nwrote %lld requests to %s\n", (long long)tr.requests, a->out);
	llmcap_traffic_free(&tr);
	rc = 0;
out_csv:
	if (csv) {
		fclose(csv);
		unlink(tmp);
	}
out_sc:
	llmcap_scenario_free(sc);
out:
	free(tmp);
	free(cat);
	free(sc);
	return rc;
}

static int cmd_catalog(void)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_error err = {0};
	if (!cat || llmcap_catalog_load_builtin(cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", cat ? err.msg : "out of memory");
		free(cat);
		return 2;
	}
	printf("models:\n");
	for (size_t i = 0; i < cat->n_models; i++) {
		struct llmcap_param_count pc;
		llmcap_model_params(&cat->models[i], &pc);
		printf("  %-16s %6.2fB params, %lld layers, hidden %lld, %lld/%lld heads (q/kv), context %lld\n"
		       "  %-16s source: %s\n",
		       cat->models[i].name, pc.total / 1e9, (long long)cat->models[i].layers,
		       (long long)cat->models[i].hidden_size, (long long)cat->models[i].num_attention_heads,
		       (long long)cat->models[i].num_key_value_heads,
		       (long long)cat->models[i].max_position_embeddings, "", cat->models[i].source);
	}
	printf("gpus:\n");
	for (size_t i = 0; i < cat->n_gpus; i++)
		printf("  %-16s %.1f GiB, %.2f TB/s, %.1f TFLOPS bf16, %.1f TFLOPS fp8, %.0f W\n"
		       "  %-16s source: %s\n",
		       cat->gpus[i].name, cat->gpus[i].memory / LLMCAP_GIB, cat->gpus[i].hbm_bandwidth / 1e12,
		       cat->gpus[i].bf16_tflops, cat->gpus[i].fp8_tflops, cat->gpus[i].tdp_watts, "",
		       cat->gpus[i].source);
	free(cat);
	return 0;
}

int main(int argc, char **argv)
{
	/* Never let GSL abort the process: every call site checks its status. */
	gsl_set_error_handler_off();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("llmcap %s\n", LLMCAP_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "schema")) {
		llmcap_scenario_write_schema(stdout);
		return 0;
	}
	if (!strcmp(cmd, "catalog"))
		return cmd_catalog();
	if (strcmp(cmd, "run") != 0 && strcmp(cmd, "config") != 0 && strcmp(cmd, "workload") != 0) {
		fprintf(stderr, "llmcap: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	struct args a;
	int rc = 2;
	bool is_workload = !strcmp(cmd, "workload");
	if (parse_args(argc, argv, &a, is_workload) == 0)
		rc = is_workload ? cmd_workload(&a) : !strcmp(cmd, "run") ? cmd_run(&a) : cmd_config(&a);
	free(a.sets);
	return rc;
}

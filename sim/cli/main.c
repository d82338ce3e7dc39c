/* The llmcap command line. */
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "llmcap/batch.h"
#include "llmcap/output.h"
#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"
#include "llmcap/trace.h"
#include "llmcap/workload.h"

#ifndef LLMCAP_VERSION
#define LLMCAP_VERSION "dev"
#endif

int llmcap_cmd_breakeven(int argc, char **argv);
int llmcap_cmd_sweep(int argc, char **argv);
int llmcap_cmd_plan(int argc, char **argv);
int llmcap_cmd_maxrate(int argc, char **argv);

static void usage(FILE *out)
{
	fprintf(out,
		"usage: llmcap COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  run [FILE] [--set KEY=VALUE]... [OPTIONS]\n"
		"                                      simulate a scenario (no FILE: the built-in\n"
		"                                      reference scenario, models/scenarios/default.yaml)\n"
		"      -o, --output FILE.h5            write the HDF5 result (docs/hdf5-layout.md)\n"
		"      --force                         overwrite an existing output file\n"
		"      --no-requests, --no-timeseries  leave those tables out of the output\n"
		"      --quiet                         print nothing but errors\n"
		"      --json                          print the summary as JSON\n"
		"      --exact-steps                   one event per step (engine_mode: exact), the\n"
		"                                      reference the default fast mode matches exactly\n"
		"      --batch-means K [--warmup D]    after a warm-up (auto: one batch), split the run\n"
		"                                      into K batches and print each class and pool\n"
		"                                      metric's mean and 95%% interval over them\n"
		"                                      (also in --json, and in -o FILE as\n"
		"                                      /summary/batch_means)\n"
		"  workload [FILE] [--set KEY=VALUE]... [--out FILE.csv]\n"
		"                                      generate the arrivals without the servers and\n"
		"                                      report their statistics; --out writes the requests\n"
		"                                      (arrival_s,class,prompt_tokens,output_tokens)\n"
		"  breakeven [FILE] [--set KEY=VALUE]... [--volumes V,...] [--dtypes D,...] [--jobs N]\n"
		"            [-o FILE.h5] [--force]  the smallest fleet meeting every SLO in the busiest\n"
		"                                      hour for each monthly token volume and precision of\n"
		"                                      the largest model, its TCO vs the API, the break-even\n"
		"  trace stats FILE [--format F] [--bad-rows skip] [--set workload.trace.KEY=VALUE]...\n"
		"                                      a trace's rows, span, mean rate, peak/mean over\n"
		"                                      1-minute and 1-hour windows, prompt/output mean,\n"
		"                                      p50, p90, p99 and tokens/month (docs/traces.md);\n"
		"                                      F: auto azure burstgpt mooncake csv llmcap\n"
		"  sweep [FILE] --vary KEY=SPEC... [--zip] [--seeds N] [--jobs N] -o OUT.h5\n"
		"        [--force] [--resume] [--timeseries] [--batch-means K] [--warmup D]\n"
		"        [--skip-invalid]\n"
		"                                      run every point (SPEC: a list 1/s,2/s, a range\n"
		"                                      10:200:10/s, log:1e3:1e5:5/day or a named set @gpus,\n"
		"                                      @all, @NAME) with N seeds; one row per run and\n"
		"                                      mean +- 95%% CI per point; the scenario's sweep\n"
		"                                      section can declare it (docs/sweeps.md);\n"
		"                                      --skip-invalid runs the valid points and marks\n"
		"                                      the others (valid = 0, error = why)\n"
		"  plan [FILE] [--vary KEY=LIST]... [--jobs N] [--skip-invalid]\n"
		"                                      the smallest fleet meeting every SLO in the busiest\n"
		"                                      hour, per candidate (e.g. pools.reasoning.dtype=bf16,fp8),\n"
		"                                      ranked by cost, with what limits each pool\n"
		"  maxrate [FILE] [--seeds N] [--tolerance F] [--jobs N]\n"
		"                                      the highest mean rate at which every SLO holds in the\n"
		"                                      busiest hour, per seed, with its mean and 95%% CI\n"
		"  config [FILE] [--set KEY=VALUE]...  print the fully resolved scenario with every default\n"
		"  schema                              print the reference of every scenario field\n"
		"  catalog                             list the models, GPUs and engine profiles llmcap knows\n"
		"  version                             print the version\n"
		"\n"
		"KEY is a dotted path (workload.rate, pools.reasoning.dtype); VALUE is YAML.\n");
}

struct args {
	const char *file;
	const char **sets;
	size_t n_sets;
	const char *output;
	bool force, quiet, json, no_requests, no_timeseries, exact_steps;
	int64_t batch_means;  /* run: batches for batch-means intervals, 0 = off */
	llmcap_time warmup;   /* run: -1 = auto */
	char command_line[2048];
	const char *out; /* workload --out */
};

static int parse_args(int argc, char **argv, struct args *a, bool allow_out)
{
	memset(a, 0, sizeof *a);
	a->warmup = -1;
	for (int i = 0; i < argc; i++) {
		size_t k = strlen(a->command_line);
		snprintf(a->command_line + k, sizeof a->command_line - k, "%s%s", i ? " " : "", argv[i]);
	}
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
		} else if (!allow_out && (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output"))) {
			if (i + 1 >= argc) {
				fprintf(stderr, "llmcap: %s needs a file name\n", argv[i]);
				return -1;
			}
			a->output = argv[++i];
		} else if (!allow_out && !strcmp(argv[i], "--force")) {
			a->force = true;
		} else if (!allow_out && (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))) {
			a->quiet = true;
		} else if (!allow_out && !strcmp(argv[i], "--json")) {
			a->json = true;
		} else if (!allow_out && !strcmp(argv[i], "--no-requests")) {
			a->no_requests = true;
		} else if (!allow_out && !strcmp(argv[i], "--no-timeseries")) {
			a->no_timeseries = true;
		} else if (!allow_out && !strcmp(argv[i], "--exact-steps")) {
			a->exact_steps = true;
		} else if (!allow_out && !strcmp(argv[i], "--batch-means") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 2 || v > LLMCAP_BATCH_MAX) {
				fprintf(stderr, "llmcap: --batch-means '%s': expected a number of batches from 2 "
						"to %d\n", argv[i], LLMCAP_BATCH_MAX);
				return -1;
			}
			a->batch_means = v;
		} else if (!allow_out && !strcmp(argv[i], "--warmup") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "auto")) {
				a->warmup = -1;
			} else if (llmcap_parse_duration(argv[i], &a->warmup) != 0 || a->warmup < 0) {
				fprintf(stderr, "llmcap: --warmup '%s': expected a duration with a unit, e.g. "
						"10min, or auto\n", argv[i]);
				return -1;
			}
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
	if (a->exact_steps)
		sc->engine_mode = LLMCAP_ENGINE_EXACT;
	return 0;
}

/* Set by SIGINT/SIGTERM; the simulation polls it and stops, and the partial output is removed.
 * A signal handler can only talk through such a flag: the one piece of process state here. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct progress {
	struct timespec start;
	bool shown;
};

static double since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/* A progress line on stderr, only when it is a terminal and the run takes over a second. */
static void show_progress(void *user, llmcap_time now, llmcap_time horizon, int64_t events)
{
	struct progress *p = user;
	double wall = since(&p->start);
	if (wall < 1.0)
		return;
	double done = (double)now / (double)horizon;
	fprintf(stderr, "\r  simulated %.1f of %.1f h (%.0f%%), %.1fM events, ETA %.0f s   ",
		(double)now / (double)LLMCAP_HOUR, (double)horizon / (double)LLMCAP_HOUR, 100 * done,
		(double)events / 1e6, done > 0 ? wall * (1 - done) / done : 0.0);
	p->shown = true;
}

static char *resolved_yaml(const struct llmcap_scenario *sc)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	if (!f)
		return NULL;
	llmcap_scenario_write_yaml(sc, f, false);
	fclose(f);
	return text;
}

/* A sink that feeds the batch means and passes everything on to the output file's sink. */
struct run_sink {
	struct llmcap_sink inner;
	struct llmcap_batch *batch;
};

static int run_request(void *user, const struct llmcap_request_record *r)
{
	struct run_sink *rs = user;
	int rc = rs->inner.request ? rs->inner.request(rs->inner.user, r) : 0;
	return rc ? rc : llmcap_batch_request(rs->batch, r);
}

static int run_sample(void *user, const struct llmcap_sample_row *row)
{
	struct run_sink *rs = user;
	llmcap_batch_sample(rs->batch, row);
	return rs->inner.sample ? rs->inner.sample(rs->inner.user, row) : 0;
}

/* The batch-means table: per class and pool metric, mean and 95% half-width over the batches. */
static int print_batch_means(const struct llmcap_scenario *sc, struct llmcap_batch *b, FILE *out)
{
	size_t n = llmcap_batch_n_metrics(sc->workload.n_classes, sc->n_pools);
	double *v = calloc(2 * n, sizeof *v);
	if (!v)
		return -1;
	llmcap_batch_means(b, v);
	char w[32], l[32];
	llmcap_batch_format(llmcap_batch_warmup(b), w, sizeof w);
	llmcap_batch_format(llmcap_batch_length(b), l, sizeof l);
	fprintf(out, "\nbatch means: %lld batches of %s after a warm-up of %s (mean over the batches "
		"+- 95%% Student-t half-width, docs/sweeps.md)\n", (long long)sc->sweep.batch_means, l, w);
	for (size_t i = 0; i < n; i++) {
		char name[96];
		llmcap_batch_metric_name(sc, i, name, sizeof name);
		fprintf(out, "  %-36s %14.6g +- %-12.4g\n", name, v[2 * i], v[2 * i + 1]);
	}
	free(v);
	return 0;
}

static int cmd_run(const struct args *a)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_results res;
	struct llmcap_h5 *h5 = NULL;
	struct llmcap_batch *batch = NULL;
	char *yaml = NULL;
	int rc = 2;
	bool loaded = false;
	if (!cat || !sc) {
		fprintf(stderr, "llmcap: out of memory\n");
		goto out;
	}
	if (load(a, cat, sc) != 0)
		goto out;
	loaded = true;
	if (a->output)
		snprintf(sc->output.path, sizeof sc->output.path, "%s", a->output);
	if (a->no_requests)
		sc->output.requests = false;
	if (a->no_timeseries)
		sc->output.timeseries = false;

	struct llmcap_error err = {0};
	if (a->warmup >= 0 && !a->batch_means) {
		fprintf(stderr, "llmcap: --warmup is the warm-up of --batch-means K, which is not given\n");
		goto out;
	}
	if (a->batch_means) {
		sc->sweep.batch_means = a->batch_means;
		if (llmcap_batch_init(&batch, sc, a->batch_means, a->warmup, &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			goto out;
		}
	}
	struct llmcap_sink sink = {0};
	struct run_sink rs = {0};
	struct progress prog;
	clock_gettime(CLOCK_MONOTONIC, &prog.start);
	prog.shown = false;
	if (sc->output.path[0]) {
		yaml = resolved_yaml(sc);
		char started[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
		uint64_t hash = llmcap_hash_bytes(LLMCAP_HASH_INIT, llmcap_builtin_models_yaml,
						  strlen(llmcap_builtin_models_yaml));
		hash = llmcap_hash_bytes(hash, llmcap_builtin_gpus_yaml, strlen(llmcap_builtin_gpus_yaml));
		hash = llmcap_hash_bytes(hash, llmcap_builtin_engines_yaml,
					 strlen(llmcap_builtin_engines_yaml));
		struct llmcap_h5_info info = {.command_line = a->command_line,
					      .scenario_yaml = yaml ? yaml : "",
					      .started_at = started,
					      .catalog_hash = hash};
		if (llmcap_h5_open(&h5, sc->output.path, a->force, sc, cat, &info, &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			goto out;
		}
		llmcap_h5_sink(h5, &sink);
		if (batch)
			llmcap_h5_batch_means(h5, batch);
	}
	if (batch) {
		/* the batches need the pools' samples: at the output's interval, with or without a file */
		rs.inner = sink;
		rs.batch = batch;
		sink.user = &rs;
		sink.request = run_request;
		sink.sample = run_sample;
		sink.sample_interval = sc->output.timeseries_interval;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sink.cancel = &interrupted;
	if (isatty(STDERR_FILENO) && !a->quiet) {
		sink.progress_user = &prog;
		sink.progress = show_progress;
	}
	int sim_rc = llmcap_simulate(sc, cat, &sink, &res, &err);
	if (prog.shown)
		fprintf(stderr, "\r%*s\r", 79, "");
	if (sim_rc != 0) {
		const char *why = h5 && llmcap_h5_error(h5)[0] ? llmcap_h5_error(h5) : err.msg;
		llmcap_h5_abort(h5);
		h5 = NULL;
		fprintf(stderr, "llmcap: %s%s\n", why,
			sim_rc == -LLMCAP_ECANCELED ? "; no output written" : "");
		rc = sim_rc == -LLMCAP_ECANCELED ? 130 : 1;
		goto out;
	}
	double wall = since(&prog.start);
	struct llmcap_summary sum;
	if (llmcap_summarize(&res, &sum) != 0) {
		fprintf(stderr, "llmcap: out of memory summarising\n");
		llmcap_h5_abort(h5);
		h5 = NULL;
		llmcap_results_free(&res);
		rc = 1;
		goto out;
	}
	if (h5) {
		int hrc = llmcap_h5_finish(h5, &res, &sum, &err);
		h5 = NULL;
		if (hrc != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			llmcap_summary_free(&sum);
			llmcap_results_free(&res);
			rc = 1;
			goto out;
		}
	}
	if (a->json) {
		if (llmcap_report_json_batch(&res, &sum, batch, stdout) != 0) {
			fprintf(stderr, "llmcap: out of memory for the batch means\n");
			llmcap_summary_free(&sum);
			llmcap_results_free(&res);
			rc = 1;
			goto out;
		}
	} else if (!a->quiet) {
		llmcap_report(&res, &sum, stdout);
		fprintf(stdout, "\nrun digest %016llx (same scenario and seed give the same digest)\n",
			(unsigned long long)res.digest);
		if (sc->output.path[0])
			fprintf(stdout, "results written to %s\n", sc->output.path);
		if (batch && print_batch_means(sc, batch, stdout) != 0)
			fprintf(stderr, "llmcap: out of memory for the batch means\n");
	}
	fflush(stdout);
	/* Wall-clock figures go to stderr so that stdout stays byte-identical across runs. */
	if (!a->quiet)
		fprintf(stderr, "llmcap: simulated %.1f h, %lld events (%lld of them steps taken in "
			"runs) in %.2f s wall time\n", (double)sc->horizon / (double)LLMCAP_HOUR,
			(long long)res.events, (long long)res.fast_steps, wall);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	rc = 0;
out:
	llmcap_h5_abort(h5);
	llmcap_batch_free(batch);
	free(yaml);
	if (sc && loaded)
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

/* `llmcap trace stats FILE`: the options are workload.trace keys, validated as in a scenario. */
static int cmd_trace(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "stats") != 0) {
		fprintf(stderr, "llmcap: usage: llmcap trace stats FILE [--format F] [--bad-rows skip] "
			"[--set workload.trace.KEY=VALUE]...\n");
		return 2;
	}
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc) {
		fprintf(stderr, "llmcap: out of memory\n");
		return 2;
	}
	llmcap_scenario_defaults(sc);
	struct llmcap_error err = {0};
	const char *file = NULL;
	int rc = 2;
	for (int i = 3; i < argc; i++) {
		char set[600];
		const char *key = !strcmp(argv[i], "--format") ? "format"
				  : !strcmp(argv[i], "--bad-rows") ? "bad_rows" : NULL;
		if (key || !strcmp(argv[i], "--set")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "llmcap: %s needs a value\n", argv[i]);
				goto out;
			}
			if (key)
				snprintf(set, sizeof set, "workload.trace.%s=%s", key, argv[++i]);
			else if (strncmp(argv[++i], "workload.trace.", 15) != 0) {
				fprintf(stderr, "llmcap: --set '%s': expected a workload.trace key\n", argv[i]);
				goto out;
			} else
				snprintf(set, sizeof set, "%s", argv[i]);
			if (llmcap_scenario_apply_override(sc, set, &err) != 0) {
				fprintf(stderr, "llmcap: %s\n", err.msg);
				goto out;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "llmcap: unknown option '%s'\n", argv[i]);
			goto out;
		} else if (!file) {
			file = argv[i];
		} else {
			fprintf(stderr, "llmcap: only one trace file may be given ('%s', '%s')\n", file, argv[i]);
			goto out;
		}
	}
	if (!file) {
		fprintf(stderr, "llmcap: trace stats needs a FILE\n");
		goto out;
	}
	struct llmcap_trace_stats st;
	if (llmcap_trace_stats(file, &sc->workload.trace, &st, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		rc = 1;
		goto out;
	}
	llmcap_trace_stats_report(&st, stdout);
	rc = 0;
out:
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
	}
	printf("api prices (USD per 1M tokens; use with cost.api.prices.CLASS.from: NAME):\n");
	for (size_t i = 0; i < cat->n_prices; i++)
		printf("  %-26s input %6.3f, output %6.3f  (%s)\n", cat->prices[i].name,
		       cat->prices[i].input, cat->prices[i].output, cat->prices[i].source);
	printf("gpus:\n");
	for (size_t i = 0; i < cat->n_gpus; i++)
		printf("  %-16s %.1f GiB, %.2f TB/s, %.1f TFLOPS bf16, %.1f TFLOPS fp8, %.0f W\n"
		       "  %-16s source: %s\n",
		       cat->gpus[i].name, cat->gpus[i].memory / LLMCAP_GIB, cat->gpus[i].hbm_bandwidth / 1e12,
		       cat->gpus[i].bf16_tflops, cat->gpus[i].fp8_tflops, cat->gpus[i].tdp_watts, "",
		       cat->gpus[i].source);
	printf("engines:\n");
	for (size_t i = 0; i < cat->n_engines; i++) {
		const struct llmcap_engine_spec *e = &cat->engines[i];
		printf("  %-16s %.3f ms per step, %.1f us per sequence, decode attention at %.0f%% of HBM "
		       "peak, %.0f us per layer in prefill steps\n  %-16s source: %s\n",
		       e->name, (double)e->step_overhead * 1e-6, (double)e->seq_overhead * 1e-3,
		       100 * e->attention_bw_efficiency, (double)e->eager_layer_overhead * 1e-3, "",
		       e->source);
	}
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
	if (!strcmp(cmd, "breakeven"))
		return llmcap_cmd_breakeven(argc, argv);
	if (!strcmp(cmd, "trace"))
		return cmd_trace(argc, argv);
	if (!strcmp(cmd, "sweep"))
		return llmcap_cmd_sweep(argc, argv);
	if (!strcmp(cmd, "plan"))
		return llmcap_cmd_plan(argc, argv);
	if (!strcmp(cmd, "maxrate"))
		return llmcap_cmd_maxrate(argc, argv);
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

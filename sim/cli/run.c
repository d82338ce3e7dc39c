/* `llmcap run`: simulate a scenario, print the report (terminal or JSON) with progress on a
 * terminal, optionally write the HDF5 result and batch-means intervals. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "llmcap/batch.h"
#include "llmcap/breakeven.h"
#include "llmcap/decide.h"
#include "llmcap/output.h"
#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

#include "cli.h"

struct args {
	struct llmcap_cli_common c; /* FILE and --set */
	const char *output;
	bool force, quiet, json, no_requests, no_timeseries, exact_steps, check, decide;
	bool rent_fixed; /* --rent fixed (--decide) */
	int64_t batch_means;  /* batches for batch-means intervals, 0 = off */
	llmcap_time warmup;   /* -1 = auto */
	char command_line[2048];
	/* --gpus: the GPU types --decide sizes on, and per-pool (as llmcap decide --gpus) */
	struct llmcap_cli_gpus gpus;
	bool gpus_given;
};

static int load(const struct args *a, struct llmcap_catalog *cat, struct llmcap_scenario *sc)
{
	if (llmcap_cli_load(cat, sc, &a->c) != 0)
		return -1;
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

/* Loads the scenario and applies the output options and --batch-means to it; the exit
 * status on failure (printed), -1 to go on. */
static int prepare(const struct args *a, struct llmcap_catalog *cat, struct llmcap_scenario *sc,
		   bool *loaded, struct llmcap_batch **batch)
{
	if (load(a, cat, sc) != 0)
		return 2;
	*loaded = true;
	if (a->output)
		snprintf(sc->output.path, sizeof sc->output.path, "%s", a->output);
	if (a->no_requests)
		sc->output.requests = false;
	if (a->no_timeseries)
		sc->output.timeseries = false;
	struct llmcap_error err = {0};
	if (a->warmup >= 0 && !a->batch_means) {
		fprintf(stderr, "llmcap: --warmup is the warm-up of --batch-means K, which is not given\n");
		return 2;
	}
	if (a->batch_means) {
		sc->sweep.batch_means = a->batch_means;
		if (llmcap_batch_init(batch, sc, a->batch_means, a->warmup, &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			return 2;
		}
	}
	return -1;
}

/* Opens the HDF5 output (when the scenario has an output path) with what identifies the run;
 * -1 (printed) on failure. *yaml is the resolved scenario, freed by the caller. */
static int open_output(const struct args *a, const struct llmcap_scenario *sc,
		       const struct llmcap_catalog *cat, struct llmcap_h5 **h5, char **yaml)
{
	if (!sc->output.path[0])
		return 0;
	*yaml = resolved_yaml(sc);
	char started[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	uint64_t hash = llmcap_hash_bytes(LLMCAP_HASH_INIT, llmcap_builtin_models_yaml,
					  strlen(llmcap_builtin_models_yaml));
	hash = llmcap_hash_bytes(hash, llmcap_builtin_gpus_yaml, strlen(llmcap_builtin_gpus_yaml));
	hash = llmcap_hash_bytes(hash, llmcap_builtin_engines_yaml, strlen(llmcap_builtin_engines_yaml));
	struct llmcap_h5_info info = {.command_line = a->command_line,
				      .scenario_yaml = *yaml ? *yaml : "",
				      .started_at = started,
				      .catalog_hash = hash};
	struct llmcap_error err = {0};
	if (llmcap_h5_open(h5, sc->output.path, a->force, sc, cat, &info, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* The engine's sink: the output file's, with the batch means in front when asked for. */
static void wire_sink(struct llmcap_sink *sink, struct run_sink *rs, struct llmcap_h5 *h5,
		      struct llmcap_batch *batch, const struct llmcap_scenario *sc)
{
	memset(sink, 0, sizeof *sink);
	if (h5) {
		llmcap_h5_sink(h5, sink);
		if (batch)
			llmcap_h5_batch_means(h5, batch);
	}
	if (batch) {
		/* the batches need the pools' samples: at the output's interval, with or without a file */
		rs->inner = *sink;
		rs->batch = batch;
		sink->user = rs;
		sink->request = run_request;
		sink->sample = run_sample;
		sink->sample_interval = sc->output.timeseries_interval;
	}
}

/* Simulates with the signals caught and progress on a terminal; the exit status on failure
 * (printed; the output file removed), 0 otherwise. *h5 is NULL after a failure. */
static int simulate(const struct args *a, const struct llmcap_scenario *sc,
		    const struct llmcap_catalog *cat, struct llmcap_sink *sink, struct progress *prog,
		    struct llmcap_h5 **h5, struct llmcap_results *res)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sink->cancel = &interrupted;
	if (isatty(STDERR_FILENO) && !a->quiet) {
		sink->progress_user = prog;
		sink->progress = show_progress;
	}
	struct llmcap_error err = {0};
	int sim_rc = llmcap_simulate(sc, cat, sink, res, &err);
	if (prog->shown)
		fprintf(stderr, "\r%*s\r", 79, "");
	if (sim_rc == 0)
		return 0;
	const char *why = *h5 && llmcap_h5_error(*h5)[0] ? llmcap_h5_error(*h5) : err.msg;
	fprintf(stderr, "llmcap: %s%s\n", why, sim_rc == -LLMCAP_ECANCELED ? "; no output written" : "");
	llmcap_h5_abort(*h5);
	*h5 = NULL;
	return sim_rc == -LLMCAP_ECANCELED ? 130 : 1;
}

/* Prints the report (terminal or JSON) and the batch means; 0, or 1 (printed). */
static int print_results(const struct args *a, const struct llmcap_scenario *sc,
			 struct llmcap_results *res, const struct llmcap_summary *sum,
			 struct llmcap_batch *batch, const struct llmcap_report_decision *dec)
{
	if (a->json) {
		if (llmcap_report_json_batch(res, sum, batch, stdout) != 0) {
			fprintf(stderr, "llmcap: out of memory for the batch means\n");
			return 1;
		}
	} else if (!a->quiet) {
		llmcap_report_decided(res, sum, dec, stdout);
		fprintf(stdout, "\nrun digest %016llx (same scenario and seed give the same digest)\n",
			(unsigned long long)res->digest);
		if (sc->output.path[0])
			fprintf(stdout, "results written to %s\n", sc->output.path);
		if (batch && print_batch_means(sc, batch, stdout) != 0)
			fprintf(stderr, "llmcap: out of memory for the batch means\n");
	}
	fflush(stdout);
	return 0;
}

/* --decide: after the given fleet's report, clearly apart, the decision drawn from simulation
 * (llmcap_decide at the scenario's own volume, its GPU, the default precisions, c.seeds seeds).
 * The report's break-even and verdict above are the given fleet's prices alone; this is the
 * answer. 0, or 1 (printed). */
static int run_decide(const struct args *a, const struct llmcap_scenario *sc,
		      const struct llmcap_catalog *cat, struct llmcap_decision **out)
{
	*out = NULL;
	if (a->quiet)
		return 0;
	if (llmcap_cli_needs_busiest_hour(sc, "run --decide") != 0)
		return 1;
	int dtypes[3];
	size_t n = llmcap_breakeven_default_dtypes(sc, cat, dtypes);
	struct llmcap_cli_progress prog;
	llmcap_cli_progress_init(&prog, "decide: simulations");
	struct llmcap_decide_spec spec = {
		.tokens_per_month = NAN, .dtypes = dtypes, .n_dtypes = n,
		.seeds = (size_t)a->c.seeds, .threads = a->c.jobs,
		.progress = {.fn = llmcap_cli_progress_show, .user = &prog},
		.rent_autoscale = !a->rent_fixed,
		.gpus = a->gpus.names, .n_gpus = a->gpus.n, .pool_gpus = a->gpus.per_pool};
	struct llmcap_decision *d = malloc(sizeof *d);
	struct llmcap_error err = {0};
	int rc = d ? llmcap_decide(sc, cat, &spec, d, &err)
		   : llmcap_errorf(&err, LLMCAP_ENOMEM, "out of memory");
	llmcap_cli_progress_end(&prog);
	if (rc != 0) {
		fprintf(stderr, "llmcap: --decide: %s\n", err.msg);
		free(d);
		return 1;
	}
	*out = d;
	return 0;
}

/* The decision as the report's go signal 1 and verdict read it. */
static void report_decision(const struct llmcap_decision *d, size_t seeds,
			    struct llmcap_report_decision *r)
{
	memset(r, 0, sizeof *r);
	r->tokens_per_month = d->tokens_per_month;
	r->seeds = seeds;
	r->api_monthly = NAN;
	for (size_t i = 0; i < d->n_options; i++)
		if (d->options[i].option == LLMCAP_OPTION_API) {
			r->api_met = d->options[i].slo_met && d->options[i].sized;
			r->api_monthly = d->options[i].monthly;
		}
	r->any = d->best >= 0;
	if (!r->any)
		return;
	const struct llmcap_decide_option *b = &d->options[d->best];
	r->self_hosted = b->option != LLMCAP_OPTION_API;
	r->best_monthly = b->monthly;
	if (b->option == LLMCAP_OPTION_API)
		snprintf(r->best, sizeof r->best, "api");
	else if (b->dtype < 0) /* per-pool */
		snprintf(r->best, sizeof r->best, "%s %s", llmcap_option_names[b->option], b->gpu);
	else
		snprintf(r->best, sizeof r->best, "%s %s %s", llmcap_option_names[b->option], b->gpu,
			 llmcap_dtype_name((enum llmcap_dtype)b->dtype));
}

/* Summarises a finished run, completes the output file and prints; the exit status. */
static int finish(const struct args *a, const struct llmcap_scenario *sc,
		  const struct llmcap_catalog *cat, struct llmcap_h5 *h5,
		  struct llmcap_batch *batch, struct llmcap_results *res, double wall)
{
	struct llmcap_summary sum;
	if (llmcap_summarize(res, &sum) != 0) {
		fprintf(stderr, "llmcap: out of memory summarising\n");
		llmcap_h5_abort(h5);
		return 1;
	}
	struct llmcap_error err = {0};
	int rc = h5 ? llmcap_h5_finish(h5, res, &sum, &err) : 0;
	/* --decide: the search first, so that go signal 1 and the verdict are its answer */
	struct llmcap_decision *d = NULL;
	struct llmcap_report_decision rd;
	if (rc != 0)
		fprintf(stderr, "llmcap: %s\n", err.msg);
	else if (a->decide)
		rc = run_decide(a, sc, cat, &d);
	if (d)
		report_decision(d, (size_t)a->c.seeds, &rd);
	if (rc == 0)
		rc = print_results(a, sc, res, &sum, batch, d ? &rd : NULL);
	/* Wall-clock figures go to stderr so that stdout stays byte-identical across runs. */
	if (rc == 0 && !a->quiet)
		fprintf(stderr, "llmcap: simulated %.1f h, %lld events (%lld of them steps taken in "
			"runs) in %.2f s wall time\n", (double)sc->horizon / (double)LLMCAP_HOUR,
			(long long)res->events, (long long)res->fast_steps, wall);
	if (rc == 0 && d) {
		printf("\n==== the answer: every option sized by simulation (go signal 1 and the "
		       "verdict above are its answer) ====\n");
		llmcap_cli_print_decision(sc, d, (size_t)a->c.seeds, stdout);
		fflush(stdout);
	}
	free(d);
	/* --check: the exit status says whether the fleet serves the load (for CI pipelines) */
	struct llmcap_verdict v;
	llmcap_report_verdict(res, &sum, &v);
	if (rc == 0 && a->check && (!v.served || v.overloaded)) {
		fprintf(stderr, "llmcap: --check: %s\n", v.overloaded ? "the fleet is overloaded"
									: "an SLO is missed");
		rc = 1;
	}
	llmcap_summary_free(&sum);
	return rc ? 1 : 0;
}

static int cmd_run(const struct args *a)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_h5 *h5 = NULL;
	struct llmcap_batch *batch = NULL;
	char *yaml = NULL;
	bool loaded = false;
	int rc = cat && sc ? prepare(a, cat, sc, &loaded, &batch) : 2;
	if (!cat || !sc)
		fprintf(stderr, "llmcap: out of memory\n");
	if (rc < 0 && open_output(a, sc, cat, &h5, &yaml) != 0)
		rc = 2;
	if (rc < 0) {
		struct llmcap_sink sink;
		struct run_sink rs = {0};
		struct progress prog = {.shown = false};
		struct llmcap_results res;
		clock_gettime(CLOCK_MONOTONIC, &prog.start);
		wire_sink(&sink, &rs, h5, batch, sc);
		rc = simulate(a, sc, cat, &sink, &prog, &h5, &res);
		if (rc == 0) {
			rc = finish(a, sc, cat, h5, batch, &res, since(&prog.start));
			h5 = NULL; /* finished or aborted */
			llmcap_results_free(&res);
		}
	}
	llmcap_h5_abort(h5);
	llmcap_batch_free(batch);
	free(yaml);
	if (loaded)
		llmcap_scenario_free(sc);
	free(cat);
	free(sc);
	return rc;
}

enum { O_OUTPUT = 1, O_FORCE, O_NO_REQUESTS, O_NO_TIMESERIES, O_QUIET, O_JSON, O_EXACT_STEPS,
       O_BATCH_MEANS, O_WARMUP, O_CHECK, O_DECIDE, O_RENT, O_GPUS };

static const struct llmcap_opt run_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{O_OUTPUT, 'o', "output", "FILE.h5", "write the HDF5 result (docs/hdf5-layout.md)",
	 "the scenario's output.path; none: no file"},
	LLMCAP_CLI_OPT_FORCE(O_FORCE),
	{O_NO_REQUESTS, 0, "no-requests", NULL, "leave the per-request table out of the output", NULL},
	{O_NO_TIMESERIES, 0, "no-timeseries", NULL, "leave the time series out of the output", NULL},
	{O_QUIET, 'q', "quiet", NULL, "print nothing but errors", NULL},
	{O_JSON, 0, "json", NULL,
	 "print the summary as JSON, with \"verdict\": {slo_met, overloaded, cheaper}", NULL},
	{O_CHECK, 0, "check", NULL,
	 "exit 1 when a class misses an SLO (TTFT or TPOT p99, or requests lost) or the fleet is "
	 "overloaded, the verdict of the report; for CI pipelines", NULL},
	{O_DECIDE, 0, "decide", NULL,
	 "after the report, the decision: own, rent, API and hybrid, each sized by simulation to "
	 "meet every SLO on every seed, the cheapest and the runner-up (as llmcap decide at the "
	 "scenario's volume; a search of many runs)", NULL},
	{O_GPUS, 0, "gpus", "G,...",
	 "the GPU types --decide sizes on (catalog names), at most 8; per-pool adds own and rent "
	 "with each pool's GPU chosen among every catalog GPU that holds its model (as llmcap "
	 "decide --gpus)", "the scenario's hardware.gpu"},
	{LLMCAP_OPT_SEEDS, 0, "seeds", "N", "seeds per option of --decide", "3"},
	LLMCAP_CLI_OPT_RENT(O_RENT),
	LLMCAP_CLI_OPT_JOBS("simulating for --decide"),
	{O_EXACT_STEPS, 0, "exact-steps", NULL,
	 "one event per step (engine_mode: exact), the reference the default fast mode matches "
	 "exactly", NULL},
	{O_BATCH_MEANS, 0, "batch-means", "K",
	 "after the warm-up, split the run into K batches (2 to " LLMCAP_CLI_STR(LLMCAP_BATCH_MAX)
	 ") and print each class and pool metric's mean and 95% interval over them (also in --json, "
	 "and in -o FILE as /summary/batch_means)", "off"},
	{O_WARMUP, 0, "warmup", "D", "the warm-up of --batch-means, a duration such as 10min, or auto",
	 "auto: one batch"},
};

static int run_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	const char *v = p->value;
	long k;
	switch (id) {
	case O_OUTPUT: a->output = v; break;
	case O_FORCE: a->force = true; break;
	case O_NO_REQUESTS: a->no_requests = true; break;
	case O_NO_TIMESERIES: a->no_timeseries = true; break;
	case O_QUIET: a->quiet = true; break;
	case O_JSON: a->json = true; break;
	case O_CHECK: a->check = true; break;
	case O_DECIDE: a->decide = true; break;
	case O_RENT: return llmcap_cli_parse_rent(v, &a->rent_fixed) == 0 ? 0 : -1;
	case O_GPUS:
		a->gpus_given = true;
		return llmcap_cli_parse_gpus(v, &a->gpus);
	case O_EXACT_STEPS: a->exact_steps = true; break;
	case O_BATCH_MEANS:
		if (llmcap_cli_long(v, 2, LLMCAP_BATCH_MAX, &k) != 0) {
			fprintf(stderr, "llmcap: --batch-means '%s': expected a number of batches from 2 "
					"to %d\n", v, LLMCAP_BATCH_MAX);
			return -1;
		}
		a->batch_means = k;
		break;
	case O_WARMUP:
		if (!strcmp(v, "auto")) {
			a->warmup = -1;
		} else if (llmcap_parse_duration(v, &a->warmup) != 0 || a->warmup < 0) {
			fprintf(stderr, "llmcap: --warmup '%s': expected a duration with a unit, e.g. "
					"10min, or auto\n", v);
			return -1;
		}
		break;
	}
	return 0;
}

static int run_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct args a = {.warmup = -1, .c = {.seeds = 3}};
	for (int i = 0; i < argc; i++) {
		size_t k = strlen(a.command_line);
		snprintf(a.command_line + k, sizeof a.command_line - k, "%s%s", i ? " " : "", argv[i]);
	}
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &a.c, run_option, &a);
	if (rc < 0 && a.gpus_given && !a.decide) {
		fprintf(stderr, "llmcap: --gpus: only with --decide (the GPU types the decision sizes on)\n");
		rc = 2;
	}
	if (rc < 0 && a.decide && (a.json || a.c.seeds < 1 || a.c.seeds > LLMCAP_DECIDE_MAX_SEEDS)) {
		fprintf(stderr, "llmcap: --decide: %s\n",
			a.json ? "prints a table, not JSON (llmcap decide --volumes V for one volume)"
			       : "--seeds: expected 1 to " LLMCAP_CLI_STR(LLMCAP_DECIDE_MAX_SEEDS));
		rc = 2;
	}
	if (rc < 0)
		rc = cmd_run(&a);
	llmcap_cli_common_free(&a.c);
	return rc;
}

const struct llmcap_cmd llmcap_cli_run = {
	.name = "run",
	.synopsis = "[FILE] [OPTIONS]",
	.summary = "simulate a scenario (no FILE: the built-in reference scenario, "
		   "models/scenarios/default.yaml) and print its report",
	.opts = run_opts,
	.n_opts = sizeof run_opts / sizeof *run_opts,
	.run = run_main,
};

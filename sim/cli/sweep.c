/* `llmcap sweep`: every (point, seed) of a sweep on all cores (threads) or, in the MPI build
 * launched under mpirun, on every rank; results stored by task index, so the file is the same
 * bytes whatever ran them and in whatever order. Completed tasks go to a journal (OUT.partial)
 * as they finish; --resume skips them. See docs/sweeps.md. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef LLMCAP_MPI
#include <mpi.h>
#endif

#include "llmcap/stats.h"
#include "llmcap/sweep.h"

#include "cli.h"


/* Set by SIGINT/SIGTERM; the simulations poll it. A signal handler can only talk through such
 * a flag: the one piece of process state here. */
static volatile sig_atomic_t sweep_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	sweep_interrupted = 1;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

struct progress {
	bool on, shown;
	double start, last;
	size_t total, skipped; /* skipped: done before this run (--resume) */
};

/* "done/total, rate, ETA" on stderr, at most four times a second, only on a terminal. */
static void progress_show(struct progress *p, size_t done, bool final)
{
	if (!p->on)
		return;
	double t = now_s();
	if (!final && t - p->last < 0.25)
		return;
	p->last = t;
	double rate = (double)(done - p->skipped) / fmax(t - p->start, 1e-9);
	double eta = rate > 0 ? (double)(p->total - done) / rate : 0;
	fprintf(stderr, "\r  sweep: %zu/%zu runs (%.0f%%), %.2f runs/s, ETA %.0f s   ", done, p->total,
		100.0 * (double)done / (double)p->total, rate, eta);
	p->shown = true;
}

struct pool {
	const struct llmcap_sweep *sw;
	const struct llmcap_catalog *cat;
	double *metrics;
	uint64_t *digests;
	bool *done;
	size_t n_done, next;
	struct llmcap_sweep_journal *journal;
	struct progress prog;
	int rc;                 /* first failure, by task index */
	size_t rc_task;
	struct llmcap_error err;
	bool stop;
	pthread_mutex_t lock;
};

static void fail(struct pool *p, size_t task, int rc, const struct llmcap_error *e)
{
	if (p->rc == 0 || task < p->rc_task) {
		p->rc = rc;
		p->rc_task = task;
		p->err = *e;
	}
	p->stop = true;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t tasks = llmcap_sweep_tasks(p->sw);
	struct llmcap_error err;
	struct llmcap_sweep_series ts = {0};
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->next < tasks && p->done[p->next])
			p->next++;
		size_t t = p->next++;
		bool stop = p->stop || t >= tasks || sweep_interrupted;
		pthread_mutex_unlock(&p->lock);
		if (stop) {
			free(ts.rows);
			return NULL;
		}
		memset(&err, 0, sizeof err);
		/* each task writes only its own row: no lock needed for the results themselves */
		uint64_t digest = 0;
		int rc = llmcap_sweep_run_task(p->sw, t, p->cat, &sweep_interrupted,
					       &p->metrics[t * p->sw->n_metrics], &digest, &ts, &err);
		pthread_mutex_lock(&p->lock);
		if (rc == 0) {
			p->digests[t] = digest;
			rc = llmcap_sweep_journal_append(p->journal, t, digest,
							 &p->metrics[t * p->sw->n_metrics], &ts, &err);
		}
		if (rc == 0) {
			p->done[t] = true;
			p->n_done++;
			progress_show(&p->prog, p->n_done, false);
		} else if (rc != -LLMCAP_ECANCELED) {
			fail(p, t, rc, &err);
		}
		pthread_mutex_unlock(&p->lock);
	}
}

static int run_threads(struct pool *p, long jobs)
{
	size_t left = llmcap_sweep_tasks(p->sw) - p->n_done;
	if (jobs > (long)left)
		jobs = left ? (long)left : 1;
	llmcap_run_threads(worker, p, jobs);
	return p->rc;
}

#ifdef LLMCAP_MPI
/* Rank 0 hands out task indices one at a time (dynamic balancing: points take different
 * times) and collects [task, digest, status, metrics..., time-series rows...] records (the
 * rows only with --timeseries: the message's length says how many); it alone writes files. */
enum { TAG_TASK = 1, TAG_RESULT = 2 };

static int mpi_master(struct pool *p, int size)
{
	size_t tasks = llmcap_sweep_tasks(p->sw), n = p->sw->n_metrics;
	size_t words = 3 + n, cap = words;
	uint64_t *rec = malloc(cap * sizeof *rec);
	if (!rec) {
		/* the workers wait for a first task: release them, or MPI_Finalize waits forever */
		for (int r = 1; r < size; r++) {
			int64_t stop = -1;
			MPI_Send(&stop, 1, MPI_INT64_T, r, TAG_TASK, MPI_COMM_WORLD);
		}
		return llmcap_errorf(&p->err, LLMCAP_ENOMEM, "out of memory");
	}
	int busy = 0;
	size_t next = 0;
	/* first one task per worker, then one more per result */
	for (int r = 1; r < size; r++) {
		while (next < tasks && p->done[next])
			next++;
		int64_t t = next < tasks && !sweep_interrupted ? (int64_t)next++ : -1;
		MPI_Send(&t, 1, MPI_INT64_T, r, TAG_TASK, MPI_COMM_WORLD);
		busy += t >= 0;
	}
	while (busy > 0) {
		MPI_Status st;
		int bytes = 0;
		MPI_Probe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_BYTE, &bytes);
		size_t got = bytes > 0 ? (size_t)bytes / sizeof *rec : 0;
		if (got > cap) {
			uint64_t *nr = realloc(rec, got * sizeof *rec);
			if (!nr) {
				/* A message cannot be received without its buffer, and a worker whose
				 * result is never received waits forever: end every rank. The journal
				 * holds whole records only, so --resume goes on from here. */
				fprintf(stderr, "llmcap: out of memory for a result of %zu bytes from "
						"rank %d; stopping every rank (--resume continues from the "
						"journal)\n", got * sizeof *rec, st.MPI_SOURCE);
				MPI_Abort(MPI_COMM_WORLD, 1);
			}
			rec = nr;
			cap = got;
		}
		MPI_Recv(rec, bytes, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &st);
		busy--;
		size_t t = rec[0];
		int rc = got >= words ? (int)(int64_t)rec[2] : -LLMCAP_EIO;
		if (rc == 0 && t < tasks) {
			memcpy(&p->metrics[t * n], &rec[3], n * sizeof(double));
			p->digests[t] = rec[1];
			struct llmcap_error err = {0};
			struct llmcap_sweep_series ts = {
				.rows = (struct llmcap_sample_row *)(void *)&rec[words],
				.n = (got - words) * sizeof *rec / sizeof(struct llmcap_sample_row)};
			rc = llmcap_sweep_journal_append(p->journal, t, rec[1], (const double *)&rec[3], &ts,
							 &err);
			if (rc == 0) {
				p->done[t] = true;
				p->n_done++;
				progress_show(&p->prog, p->n_done, false);
			} else {
				fail(p, t, rc, &err);
			}
		} else if (rc != -LLMCAP_ECANCELED) {
			struct llmcap_error err = {0};
			llmcap_errorf(&err, -rc, "task %zu failed on rank %d (its message is on its stderr)",
				      t, st.MPI_SOURCE);
			fail(p, t, rc, &err);
		}
		while (next < tasks && p->done[next])
			next++;
		int64_t nt = next < tasks && !p->stop && !sweep_interrupted ? (int64_t)next++ : -1;
		MPI_Send(&nt, 1, MPI_INT64_T, st.MPI_SOURCE, TAG_TASK, MPI_COMM_WORLD);
		busy += nt >= 0;
	}
	free(rec);
	return p->rc;
}

static void mpi_worker(const struct llmcap_sweep *sw, const struct llmcap_catalog *cat)
{
	size_t n = sw->n_metrics, words = 3 + n, cap = words;
	uint64_t *rec = calloc(cap, sizeof *rec);
	struct llmcap_sweep_series ts = {0};
	for (;;) {
		int64_t t;
		MPI_Recv(&t, 1, MPI_INT64_T, 0, TAG_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		if (t < 0)
			break;
		struct llmcap_error err = {0};
		int rc = rec ? llmcap_sweep_run_task(sw, (size_t)t, cat, &sweep_interrupted,
						     (double *)&rec[3], &rec[1], &ts, &err)
			     : llmcap_errorf(&err, LLMCAP_ENOMEM, "out of memory");
		size_t extra = rc == 0 ? ts.n * sizeof *ts.rows / sizeof *rec : 0;
		if (rc == 0 && words + extra > cap) {
			uint64_t *nr = realloc(rec, (words + extra) * sizeof *rec);
			if (nr) {
				rec = nr;
				cap = words + extra;
			} else {
				rc = llmcap_errorf(&err, LLMCAP_ENOMEM, "out of memory");
				extra = 0;
			}
		}
		if (rc != 0 && rc != -LLMCAP_ECANCELED)
			fprintf(stderr, "llmcap: task %lld: %s\n", (long long)t, err.msg);
		uint64_t head[3] = {(uint64_t)t, rec ? rec[1] : 0, (uint64_t)(int64_t)rc};
		if (rec) {
			memcpy(rec, head, sizeof head);
			if (extra)
				memcpy(&rec[words], ts.rows, extra * sizeof *rec);
			MPI_Send(rec, (int)((words + extra) * sizeof *rec), MPI_BYTE, 0, TAG_RESULT,
				 MPI_COMM_WORLD);
		} else {
			/* the head alone, shorter than a result: rank 0 counts the task failed
			 * (rank 0 waits for an answer to every task it handed out) */
			MPI_Send(head, (int)sizeof head, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
		}
	}
	free(ts.rows);
	free(rec);
}
#endif

/* The points --skip-invalid leaves out: how many, and the first few with their reasons. */
static void report_invalid(const struct llmcap_sweep *sw)
{
	enum { SHOWN = 3 };
	if (!sw->n_invalid)
		return;
	fprintf(stderr, "llmcap: %zu of %zu points skipped (--skip-invalid): their scenario is "
			"invalid\n", sw->n_invalid, sw->n_points);
	size_t shown = 0;
	for (size_t p = 0; p < sw->n_points && shown < SHOWN; p++) {
		if (llmcap_sweep_point_valid(sw, p))
			continue;
		char label[512];
		llmcap_sweep_point_label(sw, p, label, sizeof label);
		fprintf(stderr, "  point %zu (%s): %s\n", p, label, sw->point_error[p]);
		shown++;
	}
	if (sw->n_invalid > shown)
		fprintf(stderr, "  ... and %zu more (the file's error column has every reason)\n",
			sw->n_invalid - shown);
}

enum { O_VARY = 1, O_ZIP, O_BATCH_MEANS, O_WARMUP, O_TIMESERIES, O_SKIP_INVALID, O_OUTPUT,
       O_FORCE, O_RESUME, O_QUIET, O_JSON };

struct args {
	struct llmcap_cli_common c; /* FILE, --set, --jobs, --seeds */
	const char *out;
	size_t n_axes;
	struct llmcap_sweep_axis axes[LLMCAP_SWEEP_MAX_AXES];
	bool force, resume, quiet, json;
	struct llmcap_sweep_options opt;
	char journal_path[4200];
	char cmdline[4096];
};

/* The options that set struct llmcap_sweep_options; -1 (printed) when the value is not valid. */
static int sweep_setting(const struct llmcap_args *p, int id, struct args *a)
{
	const char *v = p->value;
	long k;
	llmcap_time w;
	switch (id) {
	case O_ZIP: a->opt.zip = 1; return 0;
	case O_TIMESERIES: a->opt.timeseries = 1; return 0;
	case O_SKIP_INVALID: a->opt.skip_invalid = 1; return 0;
	case O_BATCH_MEANS:
		if (llmcap_cli_long(v, 0, 1000, &k) != 0 || k == 1) {
			fprintf(stderr, "llmcap: --batch-means '%s': expected a number of batches from "
					"2 to 1000 (0: off)\n", v);
			return -1;
		}
		a->opt.batch_means = k;
		return 0;
	}
	/* O_WARMUP */
	if (!strcmp(v, "auto")) {
		a->opt.warmup = -1;
	} else if (llmcap_parse_duration(v, &w) != 0 || w < 0) {
		fprintf(stderr, "llmcap: --warmup '%s': expected a duration with a unit, e.g. "
				"10min, or auto\n", v);
		return -1;
	} else {
		a->opt.warmup = w;
	}
	return 0;
}

/* One option of the sweep's own; -1 (printed) when it is not valid. */
static int sweep_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	const char *v = p->value;
	struct llmcap_error err = {0};
	switch (id) {
	case O_OUTPUT: a->out = v; return 0;
	case O_FORCE: a->force = true; return 0;
	case O_RESUME: a->resume = true; return 0;
	case O_QUIET: a->quiet = true; return 0;
	case O_JSON: a->json = true; return 0;
	case O_VARY:
		if (a->n_axes == LLMCAP_SWEEP_MAX_AXES) {
			fprintf(stderr, "llmcap: at most %d --vary\n", LLMCAP_SWEEP_MAX_AXES);
			return -1;
		}
		if (llmcap_sweep_parse_axis(v, &a->axes[a->n_axes], &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			return -1;
		}
		a->n_axes++;
		return 0;
	}
	return sweep_setting(p, id, a);
}

/* Reads the arguments; -1 to run, else the exit status (help printed: 0; bad arguments: 2). */
static int parse(const struct llmcap_cmd *cmd, int argc, char **argv, struct args *a)
{
	for (int i = 0; i < argc; i++) {
		size_t k = strlen(a->cmdline);
		snprintf(a->cmdline + k, sizeof a->cmdline - k, "%s%s", i ? " " : "", argv[i]);
	}
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &a->c, sweep_option, a);
	if (rc >= 0)
		return rc;
	a->opt.seeds = a->c.seeds;
	if (!a->out) {
		fprintf(stderr, "llmcap: sweep needs -o OUT.h5; see llmcap sweep --help\n");
		return 2;
	}
	snprintf(a->journal_path, sizeof a->journal_path, "%s.partial", a->out);
	return -1;
}

/* What only the writer checks: an existing output, a journal left by an interrupted run;
 * -1 (printed) when the sweep must not start. */
static int preflight(const struct args *a)
{
	if (llmcap_cli_check_output(a->out, a->force) != 0)
		return -1;
	if (!a->resume && !a->force && access(a->journal_path, F_OK) == 0) {
		fprintf(stderr, "llmcap: %s: an interrupted sweep's journal; continue it with --resume "
				"or start over with --force\n", a->journal_path);
		return -1;
	}
	return 0;
}

/* The sweep's points from the scenario and the axes (taken: a->n_axes becomes 0); -1 with the
 * message in err when there is none to run. */
static int init_sweep(struct args *a, const struct llmcap_catalog *cat, struct llmcap_sweep *sw,
		      struct llmcap_error *err)
{
	int rc = llmcap_sweep_init(sw, a->c.file, a->c.sets, a->c.n_sets, a->axes, a->n_axes, &a->opt,
				   cat, err);
	a->n_axes = 0; /* the sweep took the axes' values */
	if (rc != 0)
		return -1;
	if (sw->n_axes == 0 || (a->opt.warmup != LLMCAP_SWEEP_UNSET && !sw->batch_means)) {
		llmcap_errorf(err, LLMCAP_EUSAGE, "%s", sw->n_axes == 0
			      ? "sweep needs at least one --vary KEY=SPEC, or a sweep.vary section in the "
				"scenario"
			      : "--warmup is the warm-up of --batch-means K (or sweep.batch_means), which is off");
		llmcap_sweep_free(sw);
		return -1;
	}
	return 0;
}

/* An invalid point's runs are done before anything runs: never run, never journaled; the file
 * gets NaN metrics and the point's message for them. Returns how many runs that is. */
static size_t skip_invalid_runs(struct pool *p)
{
	const struct llmcap_sweep *sw = p->sw;
	size_t skipped = 0;
	for (size_t t = 0; t < llmcap_sweep_tasks(sw); t++)
		if (!llmcap_sweep_point_valid(sw, t / (size_t)sw->seeds) && !p->done[t]) {
			for (size_t m = 0; m < sw->n_metrics; m++)
				p->metrics[t * sw->n_metrics + m] = NAN;
			p->done[t] = true;
			p->n_done++;
			skipped++;
		}
	return skipped;
}

/* The mean over a point's seeds of metric m, over the runs where it is finite; NAN if none. */
static double point_mean(const struct pool *p, size_t point, size_t m, size_t *n_finite)
{
	const struct llmcap_sweep *sw = p->sw;
	double sum = 0;
	size_t n = 0;
	for (int64_t k = 0; k < sw->seeds; k++) {
		double v = p->metrics[(point * (size_t)sw->seeds + (size_t)k) * sw->n_metrics + m];
		if (isfinite(v)) {
			sum += v;
			n++;
		}
	}
	if (n_finite)
		*n_finite = n;
	return n ? sum / (double)n : NAN;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);
	return ls >= lt && !strcmp(s + ls - lt, tail);
}

#define SUMMARY_MAX_ROWS 40
#define SUMMARY_MAX_CLASSES 8

/* What the sweep found, on the terminal: per point its axis values, whether every class met
 * its SLOs in the busiest hour (seeds that did / seeds), each class's p99 TTFT and TPOT over
 * the run (mean over seeds) and the self-hosted and API totals; the first SUMMARY_MAX_ROWS
 * points, the rest in the file. */
static void print_summary(const struct pool *p, FILE *out)
{
	const struct llmcap_sweep *sw = p->sw;
	size_t ttft[SUMMARY_MAX_CLASSES], tpot[SUMMARY_MAX_CLASSES], n_cls = 0, n_tpot = 0;
	size_t slo = SIZE_MAX, self = SIZE_MAX, api = SIZE_MAX;
	for (size_t m = 0; m < sw->n_summary_metrics; m++) {
		const char *name = sw->metric_names[m];
		if (ends_with(name, "_ttft_p99_s") && !strstr(name, "_peak_") && n_cls < SUMMARY_MAX_CLASSES)
			ttft[n_cls++] = m;
		else if (ends_with(name, "_tpot_p99_s") && !strstr(name, "_peak_") &&
			 n_tpot < SUMMARY_MAX_CLASSES)
			tpot[n_tpot++] = m;
		else if (!strcmp(name, "all_slo_met"))
			slo = m;
		else if (!strcmp(name, "self_hosted_total"))
			self = m;
		else if (!strcmp(name, "api_total"))
			api = m;
	}
	if (n_tpot < n_cls)
		n_cls = n_tpot;
	int axw[LLMCAP_SWEEP_MAX_AXES];
	for (size_t a = 0; a < sw->n_axes; a++) {
		const char *dot = strrchr(sw->axes[a].key, '.');
		axw[a] = (int)strlen(dot ? dot + 1 : sw->axes[a].key);
		for (size_t v = 0; v < sw->axes[a].n; v++)
			if ((int)strlen(sw->axes[a].values[v]) > axw[a])
				axw[a] = (int)strlen(sw->axes[a].values[v]);
		if (axw[a] > 24)
			axw[a] = 24;
	}
	fprintf(out, "\n%5s", "point");
	for (size_t a = 0; a < sw->n_axes; a++) {
		const char *dot = strrchr(sw->axes[a].key, '.');
		fprintf(out, "  %-*.*s", axw[a], axw[a], dot ? dot + 1 : sw->axes[a].key);
	}
	fprintf(out, "  %9s", "SLOs met");
	for (size_t c = 0; c < n_cls; c++) {
		char h[64];
		size_t len = strlen(sw->metric_names[ttft[c]]) - strlen("_ttft_p99_s");
		snprintf(h, sizeof h, "%.*s", (int)(len > 12 ? 12 : len), sw->metric_names[ttft[c]]);
		fprintf(out, "  %12s TTFT/TPOT p99", h);
	}
	fprintf(out, "  %12s  %12s\n", "self-hosted", "API");
	size_t shown = sw->n_points < SUMMARY_MAX_ROWS ? sw->n_points : SUMMARY_MAX_ROWS;
	for (size_t pt = 0; pt < shown; pt++) {
		fprintf(out, "%5zu", pt);
		for (size_t a = 0; a < sw->n_axes; a++)
			fprintf(out, "  %-*.*s", axw[a], axw[a],
				sw->axes[a].values[llmcap_sweep_value_index(sw, pt, a)]);
		if (!llmcap_sweep_point_valid(sw, pt)) {
			fprintf(out, "  invalid: %.60s\n", sw->point_error[pt]);
			continue;
		}
		char met[32] = "-";
		if (slo != SIZE_MAX) {
			size_t n = 0, yes = 0;
			for (int64_t k = 0; k < sw->seeds; k++) {
				double v = p->metrics[(pt * (size_t)sw->seeds + (size_t)k) * sw->n_metrics + slo];
				n += isfinite(v);
				yes += isfinite(v) && v > 0.5;
			}
			snprintf(met, sizeof met, n ? "%zu/%zu" : "-", yes, n);
		}
		fprintf(out, "  %9s", met);
		for (size_t c = 0; c < n_cls; c++) {
			double a_ = point_mean(p, pt, ttft[c], NULL), b_ = point_mean(p, pt, tpot[c], NULL);
			char cell[64], ta[24] = "-", tb[24] = "-";
			if (isfinite(a_))
				snprintf(ta, sizeof ta, "%.0f ms", a_ * 1e3);
			if (isfinite(b_))
				snprintf(tb, sizeof tb, "%.1f ms", b_ * 1e3);
			snprintf(cell, sizeof cell, "%s / %s", ta, tb);
			fprintf(out, "  %26s", cell);
		}
		char s1[32], s2[32];
		llmcap_format_usd(self != SIZE_MAX ? point_mean(p, pt, self, NULL) : NAN, s1, sizeof s1);
		llmcap_format_usd(api != SIZE_MAX ? point_mean(p, pt, api, NULL) : NAN, s2, sizeof s2);
		fprintf(out, "  %12s  %12s\n", s1, s2);
	}
	if (shown < sw->n_points)
		fprintf(out, "(%zu more points in the file)\n", sw->n_points - shown);
	fprintf(out, "SLOs met: runs (seeds) whose every class met its p99 targets in the busiest hour; "
		     "latencies and costs: means over the seeds (costs over the cost horizon)\n");
}

/* What the sweep found, as JSON for scripts: per point its axis values (as typed), whether it
 * ran, the seeds whose every class met its SLOs in the busiest hour, and every summary metric's
 * mean and 95% half-width over the seeds (null where undefined: one seed, or no finite value).
 * The same numbers as /points in the file. */
static void print_json(const struct args *a, const struct pool *p, FILE *out)
{
	const struct llmcap_sweep *sw = p->sw;
	size_t slo = SIZE_MAX;
	for (size_t m = 0; m < sw->n_summary_metrics; m++)
		if (!strcmp(sw->metric_names[m], "all_slo_met"))
			slo = m;
	fputs("{\"output\": ", out);
	llmcap_cli_json_str(out, a->out);
	fprintf(out, ", \"seeds\": %ld, \"axes\": [", (long)sw->seeds);
	for (size_t ax = 0; ax < sw->n_axes; ax++) {
		fputs(ax ? ", " : "", out);
		llmcap_cli_json_str(out, sw->axes[ax].key);
	}
	fputs("], \"points\": [", out);
	for (size_t pt = 0; pt < sw->n_points; pt++) {
		fprintf(out, "%s\n  {\"point\": %zu, \"values\": {", pt ? "," : "", pt);
		for (size_t ax = 0; ax < sw->n_axes; ax++) {
			fputs(ax ? ", " : "", out);
			llmcap_cli_json_str(out, sw->axes[ax].key);
			fputs(": ", out);
			llmcap_cli_json_str(out, sw->axes[ax].values[llmcap_sweep_value_index(sw, pt, ax)]);
		}
		bool valid = llmcap_sweep_point_valid(sw, pt);
		fprintf(out, "}, \"valid\": %s", valid ? "true" : "false");
		if (!valid) {
			fputs(", \"error\": ", out);
			llmcap_cli_json_str(out, sw->point_error[pt]);
			fputs("}", out);
			continue;
		}
		const double *row = &p->metrics[pt * (size_t)sw->seeds * sw->n_metrics];
		if (slo != SIZE_MAX) {
			size_t yes = 0;
			for (int64_t k = 0; k < sw->seeds; k++)
				yes += row[(size_t)k * sw->n_metrics + slo] > 0.5;
			fprintf(out, ", \"slo_met_seeds\": %zu", yes);
		}
		fputs(", \"metrics\": {", out);
		for (size_t m = 0; m < sw->n_summary_metrics; m++) {
			double mean, half;
			size_t n;
			llmcap_mean_ci95(row + m, (size_t)sw->seeds, sw->n_metrics, &mean, &half, &n);
			fputs(m ? ", " : "", out);
			llmcap_cli_json_str(out, sw->metric_names[m]);
			fputs(": {\"mean\": ", out);
			llmcap_cli_json_num(out, n ? mean : NAN);
			fputs(", \"ci95\": ", out);
			llmcap_cli_json_num(out, half);
			fprintf(out, ", \"n\": %zu}", n);
		}
		fputs("}}", out);
	}
	fputs("\n]}\n", out);
}

/* After the runs: the file written and the journal removed, or the journal kept for --resume;
 * the exit status. */
static int conclude(const struct args *a, struct pool *p, int run_rc, size_t skipped,
		    size_t before, double wall)
{
	const struct llmcap_sweep *sw = p->sw;
	size_t tasks = llmcap_sweep_tasks(sw);
	struct llmcap_error err = {0};
	if (run_rc != 0) {
		fprintf(stderr, "llmcap: %s\nllmcap: %zu of %zu runs done are kept in %s; fix the "
				"cause and continue with --resume\n", p->err.msg, p->n_done - skipped,
			tasks - skipped, a->journal_path);
		llmcap_sweep_journal_close(p->journal, false);
		return 1;
	}
	if (p->n_done < tasks) {
		fprintf(stderr, "llmcap: interrupted; %zu of %zu runs done are kept in %s; continue "
				"with --resume\n", p->n_done - skipped, tasks - skipped, a->journal_path);
		llmcap_sweep_journal_close(p->journal, false);
		return 130;
	}
	if (llmcap_h5_write_sweep(a->out, a->force || a->resume, sw, p->metrics, p->digests,
				  p->journal, a->cmdline, &err) != 0) {
		fprintf(stderr, "llmcap: %s (the runs are kept in %s)\n", err.msg, a->journal_path);
		llmcap_sweep_journal_close(p->journal, false);
		return 1;
	}
	llmcap_sweep_journal_close(p->journal, true);
	if (a->json) {
		print_json(a, p, stdout);
		return 0;
	}
	if (a->quiet)
		return 0;
	fprintf(stderr, "llmcap: %zu runs in %.2f s wall time (%.2f runs/s)\n", p->n_done - before,
		wall, (double)(p->n_done - before) / fmax(wall, 1e-9));
	printf("sweep: %zu points x %ld seeds written to %s (/runs, /points%s)\n", sw->n_points,
	       (long)sw->seeds, a->out, sw->timeseries ? ", /timeseries" : "");
	print_summary(p, stdout);
	if (sw->n_invalid)
		printf("sweep: %zu of %zu points not runnable (invalid scenario), %zu run; their rows "
		       "have valid = 0, NaN metrics and the reason in error\n",
		       sw->n_invalid, sw->n_points, sw->n_points - sw->n_invalid);
	return 0;
}

/* Rank 0 (or the one process): opens the journal, runs what is left on threads or MPI ranks,
 * and concludes; the exit status. */
static int run_sweep(const struct args *a, const struct llmcap_sweep *sw,
		     const struct llmcap_catalog *cat, int size)
{
	size_t tasks = llmcap_sweep_tasks(sw);
	struct pool p = {.sw = sw, .cat = cat};
	p.metrics = calloc(tasks * sw->n_metrics, sizeof *p.metrics);
	p.digests = calloc(tasks, sizeof *p.digests);
	p.done = calloc(tasks, sizeof *p.done);
	pthread_mutex_init(&p.lock, NULL);
	struct llmcap_error err = {0};
	int rc = 1;
	if (!p.metrics || !p.digests || !p.done) {
		fprintf(stderr, "llmcap: out of memory for %zu runs x %zu metrics\n", tasks, sw->n_metrics);
	} else if (llmcap_sweep_journal_open(&p.journal, a->journal_path, sw, a->resume, p.done,
					     p.metrics, p.digests, &p.n_done, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
	} else if (llmcap_sweep_journal_note(p.journal)[0]) {
		fprintf(stderr, "llmcap: %s\n", llmcap_sweep_journal_note(p.journal));
	}
	if (!p.journal) {
#ifdef LLMCAP_MPI
		/* release the workers waiting for their first task */
		for (int r = 1; r < size; r++) {
			int64_t stop = -1;
			MPI_Send(&stop, 1, MPI_INT64_T, r, TAG_TASK, MPI_COMM_WORLD);
		}
#endif
	} else {
		size_t skipped = skip_invalid_runs(&p);
		if (!a->quiet) {
			fprintf(stderr, "llmcap: sweep of %zu points x %ld seeds = %zu runs (%zu already done) "
					"on %ld %s\n", sw->n_points, (long)sw->seeds, tasks,
				p.n_done - skipped, size > 1 ? (long)size - 1 : a->c.jobs,
				size > 1 ? "MPI worker ranks" : "threads");
			report_invalid(sw);
		}
		p.prog = (struct progress){.on = !a->quiet && isatty(STDERR_FILENO), .start = now_s(),
					   .total = tasks, .skipped = p.n_done};
		double t0 = now_s();
		size_t before = p.n_done;
		int run_rc;
#ifdef LLMCAP_MPI
		if (size > 1)
			run_rc = mpi_master(&p, size);
		else
#endif
			run_rc = run_threads(&p, a->c.jobs);
		double wall = now_s() - t0;
		if (p.prog.shown)
			fprintf(stderr, "\r%*s\r", 79, "");
		rc = conclude(a, &p, run_rc, skipped, before, wall);
	}
	pthread_mutex_destroy(&p.lock);
	free(p.metrics);
	free(p.digests);
	free(p.done);
	return rc;
}

static int sweep_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	int rank = 0, size = 1;
#ifdef LLMCAP_MPI
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
#endif
	struct args *a = calloc(1, sizeof *a);
	if (a)
		a->opt = (struct llmcap_sweep_options)LLMCAP_SWEEP_OPTIONS_FROM_FILE;
	int rc = a ? parse(cmd, argc, argv, a) : 2;
	if (!a)
		fprintf(stderr, "llmcap: sweep needs memory\n");
	struct llmcap_catalog *cat = rc < 0 ? malloc(sizeof *cat) : NULL;
	struct llmcap_sweep sw;
	struct llmcap_error err = {0};
	if (rc < 0) {
		int pre = rank == 0 ? preflight(a) : 0;
		int init = !cat || llmcap_cli_load_catalog(cat, &a->c, &err) != 0 ||
			   init_sweep(a, cat, &sw, &err) != 0;
		if (init && (rank == 0 || size == 1))
			fprintf(stderr, "llmcap: %s\n", cat ? err.msg : "out of memory");
		int bad = init || pre;
#ifdef LLMCAP_MPI
		/* every rank goes on, or none does (a rank alone in MPI_Recv would wait forever) */
		MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#endif
		if (bad && !init)
			llmcap_sweep_free(&sw);
		rc = bad ? 2 : -1;
	}
	if (rc < 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
#ifdef LLMCAP_MPI
		if (rank != 0) {
			mpi_worker(&sw, cat);
			rc = 0;
		}
#endif
		if (rc < 0)
			rc = run_sweep(a, &sw, cat, size);
		llmcap_sweep_free(&sw);
	}
	free(cat);
	for (size_t k = 0; a && k < a->n_axes; k++)
		free(a->axes[k].values);
	if (a)
		llmcap_cli_common_free(&a->c);
	free(a);
#ifdef LLMCAP_MPI
	MPI_Finalize();
#endif
	return rc;
}

static const struct llmcap_opt sweep_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{O_VARY, 0, "vary", "KEY=SPEC",
	 "an axis; repeatable. SPEC: a list 1/s,2/s,4/s | a range START:STOP:STEP[UNIT] | "
	 "log:START:STOP:COUNT[UNIT] | a named set @gpus @models @engines @prices @all, or @NAME of "
	 "sweep.sets", "the scenario's sweep.vary"},
	{O_ZIP, 0, "zip", NULL, "pair the axes' values instead of taking every combination", NULL},
	{LLMCAP_OPT_SEEDS, 0, "seeds", "N", "runs per point, seeds 1 to N",
	 "the scenario's sweep.seeds, or 1"},
	{LLMCAP_OPT_JOBS, 0, "jobs", "N", "threads running at once; under mpirun, the ranks instead",
	 "the number of CPUs"},
	{O_BATCH_MEANS, 0, "batch-means", "K",
	 "per run, split what follows the warm-up into K batches (2 to 1000; 0: off) for a "
	 "confidence interval of each metric", "the scenario's sweep.batch_means, or off"},
	{O_WARMUP, 0, "warmup", "D", "the warm-up of --batch-means, a duration such as 10min, or auto",
	 "auto: one batch"},
	{O_TIMESERIES, 0, "timeseries", NULL, "keep each run's time series in /timeseries", NULL},
	{O_SKIP_INVALID, 0, "skip-invalid", NULL,
	 "run the valid points; an invalid one (a model that does not fit) keeps its rows with NaN "
	 "metrics, valid = 0 and the reason in error", NULL},
	{O_OUTPUT, 'o', "output", "OUT.h5", "the HDF5 file to write (required); OUT.h5.partial "
	 "journals the runs done", NULL},
	{O_FORCE, 0, "force", NULL, "overwrite an existing output file and its journal", NULL},
	{O_RESUME, 0, "resume", NULL, "continue an interrupted sweep from its journal", NULL},
	{O_QUIET, 'q', "quiet", NULL, "print nothing but errors", NULL},
	{O_JSON, 0, "json", NULL, "print what was found as JSON on stdout (each point's values, "
	 "SLO seeds, every metric's mean and 95% half-width) instead of the table", NULL},
};

const struct llmcap_cmd llmcap_cli_sweep = {
	.name = "sweep",
	.synopsis = "[FILE] --vary KEY=SPEC... [--set KEY=VALUE]... [--zip] [--seeds N] [--jobs N] "
		    "-o OUT.h5 [--force] [--resume] [--timeseries] [--batch-means K] [--warmup D] "
		    "[--skip-invalid] [--quiet] [--json]",
	.summary = "run every point of a sweep with N seeds: one row per run and mean +- 95% CI per "
		   "point (docs/sweeps.md)",
	.details = "--vary, --zip, --seeds, --batch-means, --warmup, --timeseries and --skip-invalid "
		   "may also be given in the scenario's sweep section; the command line overrides or "
		   "adds to it. In llmcap-mpi under mpirun, rank 0 hands out the runs and writes the "
		   "file.",
	.opts = sweep_opts,
	.n_opts = sizeof sweep_opts / sizeof *sweep_opts,
	.run = sweep_main,
};

/* Sweeps: one scenario, many points (overrides), several seeds each.
 *
 * A point is the base scenario (file + --set overrides) with one value per axis applied as a
 * further override, exactly as `--set KEY=VALUE` would; several axes form a Cartesian product
 * (the last axis varies fastest) or, zipped, advance together. Task t = point x seeds + k runs
 * the point with seed = (the point's own seed) + k: every random stream is seeded from a hash of
 * (seed, stream name), so adjacent seeds give unrelated streams.
 *
 * Each task yields a fixed vector of summary metrics (named from the base scenario's classes
 * and pools) and the run digest. Tasks are independent; whoever runs them (threads, MPI ranks)
 * stores the results by task index, so the output never depends on completion order.
 */
#ifndef LLMCAP_SWEEP_H
#define LLMCAP_SWEEP_H

#include <signal.h>

#include "llmcap/report.h"
#include "llmcap/scenario.h" /* the sweep axis and its parser */
#include "llmcap/stats.h"

#define LLMCAP_SWEEP_MAX_AXES 16
/* at most this many points (each is checked before any run) */
#define LLMCAP_SWEEP_MAX_POINTS 100000
#define LLMCAP_SWEEP_METRIC_MAX 96

/* What the command line says; the rest comes from the scenario's sweep section. */
struct llmcap_sweep_options {
	int64_t seeds;        /* 0: sweep.seeds */
	int zip;              /* -1: sweep.zip; 0, 1 */
	int64_t batch_means;  /* -1: sweep.batch_means; 0: off; else K >= 2 */
	llmcap_time warmup;   /* LLMCAP_SWEEP_UNSET: sweep.warmup; -1: auto */
	int timeseries;       /* -1: sweep.timeseries; 0, 1 */
	bool no_file_axes;    /* leave sweep.vary out (plan: candidates come from --vary only) */
	int skip_invalid;     /* -1: sweep.skip_invalid; 0: an invalid point is an error; 1: it is
			       * marked and not run */
};
#define LLMCAP_SWEEP_UNSET INT64_MIN
#define LLMCAP_SWEEP_OPTIONS_FROM_FILE                                                            \
	{.seeds = 0, .zip = -1, .batch_means = -1, .warmup = LLMCAP_SWEEP_UNSET, .timeseries = -1, \
	 .skip_invalid = -1}

/* A run's pool time series (rows with replica = -1), for --timeseries. */
struct llmcap_sweep_series {
	struct llmcap_sample_row *rows;
	size_t n, cap;
};

struct llmcap_sweep {
	const char *file;                     /* NULL: the built-in reference scenario */
	const char *const *sets;
	size_t n_sets;
	struct llmcap_sweep_axis axes[LLMCAP_SWEEP_MAX_AXES];
	size_t n_axes;
	bool zip;
	size_t n_points;
	int64_t seeds;                        /* replications per point, >= 1 */
	int64_t batch_means;                  /* batches per run, 0 = off */
	llmcap_time warmup;                   /* -1: auto */
	bool timeseries;                      /* keep each run's pool time series */
	llmcap_time ts_interval;              /* their sampling interval (the base scenario's) */
	size_t n_summary_metrics;             /* the first metrics; batch-means pairs follow */
	uint32_t disagg_pools;                /* bit p: pool p of the base is a prefill group
					       * (disaggregation.decode_pool): its stage metrics */
	size_t n_metrics;
	char (*metric_names)[LLMCAP_SWEEP_METRIC_MAX];
	uint64_t *point_seed;                 /* each point's scenario seed (replicate k adds k; the
					       * base's for an invalid point) */
	bool skip_invalid;                    /* invalid points are marked, not an error */
	size_t n_invalid;                     /* points whose scenario is invalid (not run) */
	char **point_error;                   /* per point: NULL, or why its scenario is invalid */
	char *base_yaml;                      /* the base scenario, resolved */
	uint64_t hash;                        /* of everything that decides the results */
};

/* Sets up a sweep: the axes of the scenario's sweep.vary, then the given (command-line) axes,
 * each replacing a file axis of the same key in its place or added after them; named sets
 * (@gpus, @models, @engines, @prices, @all, @NAME of sweep.sets) expanded; options from opt
 * where set, else from the scenario (opt NULL: all from the scenario). Counts the points, loads
 * every point's scenario once to check it and names the metrics. A point whose scenario does
 * not load or check (invalid input, does not fit its hardware) is an error naming the point,
 * or with skip_invalid is kept in point_error and counted in n_invalid (its tasks are never
 * run); a sweep with no valid point is an error either way, as is a point that changes the
 * classes or pools. Takes the given axes' values in every case. Free with llmcap_sweep_free. */
int llmcap_sweep_init(struct llmcap_sweep *sw, const char *file, const char *const *sets,
		      size_t n_sets, struct llmcap_sweep_axis *axes, size_t n_axes,
		      const struct llmcap_sweep_options *opt, const struct llmcap_catalog *cat,
		      struct llmcap_error *err);
void llmcap_sweep_free(struct llmcap_sweep *sw);

static inline size_t llmcap_sweep_tasks(const struct llmcap_sweep *sw)
{
	return sw->n_points * (size_t)sw->seeds;
}

static inline bool llmcap_sweep_point_valid(const struct llmcap_sweep *sw, size_t point)
{
	return !sw->point_error || !sw->point_error[point];
}

/* The value index of axis a at point p. */
size_t llmcap_sweep_value_index(const struct llmcap_sweep *sw, size_t point, size_t axis);

/* "KEY=VALUE, KEY=VALUE" of a point's varied values, for messages (cut to n). */
void llmcap_sweep_point_label(const struct llmcap_sweep *sw, size_t point, char *buf, size_t n);

/* Loads the scenario of a task (its point's overrides, then seed + k). */
int llmcap_sweep_scenario(const struct llmcap_sweep *sw, size_t task, const struct llmcap_catalog *cat,
			  struct llmcap_scenario *sc, struct llmcap_error *err);

/* Runs one task: metrics (n_metrics doubles, NAN where undefined) and the run digest; a task
 * of an invalid point is not run: -LLMCAP_EINVAL with the point's message. With
 * sw->timeseries and ts not NULL, the pool time series into ts (emptied first, grown as
 * needed). Thread-safe. Returns -LLMCAP_ECANCELED when *cancel was set. */
int llmcap_sweep_run_task(const struct llmcap_sweep *sw, size_t task, const struct llmcap_catalog *cat,
			  const volatile sig_atomic_t *cancel, double *metrics, uint64_t *digest,
			  struct llmcap_sweep_series *ts, struct llmcap_error *err);

/* The summary metrics of one simulation, in the order of sw's metric_names (the scenario must
 * have the base's classes and pools; a prefill group of the base that the point does not
 * disaggregate gets NaN stage metrics). */
void llmcap_sweep_metrics(const struct llmcap_sweep *sw, const struct llmcap_scenario *sc,
			  struct llmcap_results *res,
			  const struct llmcap_summary *sum, double *metrics);

/* ---- the journal: completed tasks, appended as they finish, for --resume ----
 * A header (magic, the sweep's hash, task and metric counts) then one record per task: index,
 * digest, the number of time-series words, metrics, a CRC-32 of those, the time-series rows (80
 * bytes each), and a CRC-32 of the record (docs/hdf5-layout.md, "Crash consistency"). Locked
 * (flock, exclusive) while open: a second sweep with the same journal fails at open. */
struct llmcap_sweep_journal;
/* Opens (resume: reads and keeps the records of the same sweep, marking done[] and filling
 * metrics/digests; otherwise: starts empty, replacing an older journal). A torn or damaged
 * last record is cut and described by llmcap_sweep_journal_note; a damaged record with more
 * after it is an error naming the record (nothing is dropped silently). */
int llmcap_sweep_journal_open(struct llmcap_sweep_journal **out, const char *path,
			      const struct llmcap_sweep *sw, bool resume, bool *done, double *metrics,
			      uint64_t *digests, size_t *n_done, struct llmcap_error *err);
/* What opening cut (a torn last record), for the user; "" when nothing. */
const char *llmcap_sweep_journal_note(const struct llmcap_sweep_journal *j);
int llmcap_sweep_journal_append(struct llmcap_sweep_journal *j, size_t task, uint64_t digest,
				const double *metrics, const struct llmcap_sweep_series *ts,
				struct llmcap_error *err);
/* Reads back the time series a record of the task holds (ts->n = 0 when none). */
int llmcap_sweep_journal_series(struct llmcap_sweep_journal *j, size_t task,
				struct llmcap_sweep_series *ts, struct llmcap_error *err);
/* Closes; remove: delete the file (the sweep's result is safely written). */
void llmcap_sweep_journal_close(struct llmcap_sweep_journal *j, bool remove);

/* Writes /runs (one row per task) and /points (mean and ci95 per metric and point), each row
 * with `valid` (0 for an invalid point, whose metrics are NaN) and `error` (its message), with
 * the sweep's definition as attributes, and with sw->timeseries each run's pool time series (read
 * from the journal) under /timeseries, atomically (temp + rename). */
int llmcap_h5_write_sweep(const char *target, bool force, const struct llmcap_sweep *sw,
			  const double *metrics, const uint64_t *digests,
			  struct llmcap_sweep_journal *journal, const char *command_line,
			  struct llmcap_error *err);

#endif

/* HDF5 result files. The layout is documented in docs/hdf5-layout.md (format version 1).
 *
 * Crash-consistent (struct llmcap_outfile below, docs/hdf5-layout.md "Crash consistency"): the
 * file is written under a temporary name in the target's folder, synced, and moved onto the
 * target only when complete, so the target name never holds a partial result; one job at a
 * time writes a path. Per-request records and time-series rows are appended in chunks while the
 * simulation runs.
 */
#ifndef LLMCAP_OUTPUT_H
#define LLMCAP_OUTPUT_H

#include <pthread.h>
#include <signal.h>

#include "llmcap/report.h"

#define LLMCAP_H5_FORMAT_VERSION 1

/* ---- one result file, whole or not at all ----
 * begin: refuses a target that is not a regular file (even with force) or, without force, one
 * that exists; takes an exclusive lock on the target for the job (the lock file
 * .NAME.llmcap-lock beside it, flock(2)), so that a second job to the same path fails at once;
 * removes the temporaries that dead llmcap processes on this host left in that folder; names
 * the temporary (.NAME.llmcap-tmp.HOST.PID), which the caller creates (exclusively, with mode
 * 0666 less the umask) and writes.
 * commit: fsyncs the temporary and the folder, moves it onto the target (without force:
 * never replacing a file, even one created while the job ran: renameat2 RENAME_NOREPLACE, or
 * link(2) where the file system lacks it), fsyncs the folder again.
 * end: removes the temporary if not committed, releases the lock. Always call it after a
 * successful begin. No global state: the caller holds the struct. */
struct llmcap_outfile {
	char target[4096];
	char tmp[4096 + 160];  /* "" once committed */
	char lock[4096 + 32];
	int lock_fd, dir_fd;
	bool force;
	/* llmcap_outfile_guard_signals: the watching thread, and what it and commit/end share */
	bool guarded;
	pthread_t watcher;
	pthread_mutex_t mu;
	sigset_t watched, old_mask;
};
int llmcap_outfile_begin(struct llmcap_outfile *o, const char *target, bool force,
			 struct llmcap_error *err);
/* begin's refusals alone (not a regular file; exists without force), for a job that opens its
 * file only at its end (a sweep): to fail before the work rather than after. */
int llmcap_outfile_check(const char *target, bool force, struct llmcap_error *err);
int llmcap_outfile_commit(struct llmcap_outfile *o, struct llmcap_error *err);
void llmcap_outfile_end(struct llmcap_outfile *o);
/* For a writer that cannot stop half-way by itself (no cancel flag in its loop): SIGINT,
 * SIGTERM and SIGHUP (those not ignored) are blocked in the calling thread (and the threads it
 * starts later) and taken by a thread of their own, which removes the temporary and the lock
 * and then ends the process by the same signal, as if it had not been caught. No signal
 * handler, so no global state: the thread finds the file in its argument. commit and end hold
 * it off; end stops it and restores the signal mask. 0, or -1 when no thread could start. */
int llmcap_outfile_guard_signals(struct llmcap_outfile *o);

struct llmcap_h5;

/* Provenance written as root attributes. */
struct llmcap_h5_info {
	const char *command_line;
	const char *scenario_yaml;  /* the fully resolved scenario */
	const char *started_at;     /* UTC, ISO 8601 */
	uint64_t catalog_hash;      /* FNV-1a of the built-in catalog texts */
};

int llmcap_h5_open(struct llmcap_h5 **out, const char *target, bool force,
		   const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		   const struct llmcap_h5_info *info, struct llmcap_error *err);
/* Fills a sink whose callbacks append to the file (as the scenario's output section asks). */
void llmcap_h5_sink(struct llmcap_h5 *h, struct llmcap_sink *sink);
struct llmcap_batch;
/* Adds /summary/batch_means (llmcap run --batch-means) to what finish writes; b is read at
 * finish and must live until then. */
void llmcap_h5_batch_means(struct llmcap_h5 *h, struct llmcap_batch *b);
/* Writes the summaries, closes and renames onto the target; frees h in every case. */
int llmcap_h5_finish(struct llmcap_h5 *h, struct llmcap_results *res,
		     const struct llmcap_summary *sum, struct llmcap_error *err);
/* Closes and removes the temporary file; frees h. */
void llmcap_h5_abort(struct llmcap_h5 *h);
/* The error a sink callback met, if any ("" otherwise). */
const char *llmcap_h5_error(const struct llmcap_h5 *h);

#endif

/* Replayed traces (workload.trace): the streamed reader of traces/reader.c in every format
 * (automatic detection, Azure, BurstGPT, Mooncake JSON lines, generic CSV in seconds and in
 * date-times, llmcap's own), `llmcap trace stats` (traces/replay.c) and the replay itself
 * with a window, a target rate and fill: loop. Rows that are read must satisfy the reader's
 * contract (times >= 0 and non-decreasing, token counts in range); replayed rows too. */
#include "fuzz.h"

#include <math.h>

#include "llmcap/scenario.h"
#include "llmcap/trace.h"

static struct llmcap_scenario sc;

static void read_rows(const char *path, const struct llmcap_trace_cfg *cfg)
{
	struct llmcap_trace_reader r;
	struct llmcap_error err = {0};
	if (llmcap_trace_open(&r, path, cfg, &err) != 0)
		return;
	struct llmcap_trace_row row;
	llmcap_time last = 0;
	int rc;
	for (int pass = 0; pass < 2; pass++) {
		while ((rc = llmcap_trace_next(&r, &row, &err)) > 0) {
			if (row.t < last || row.prompt < 0 || row.output < 0 ||
			    row.prompt > LLMCAP_TRACE_MAX_TOKENS || row.output > LLMCAP_TRACE_MAX_TOKENS ||
			    !row.cls || (row.n_hash_ids && !row.hash_ids))
				abort();
			last = row.t;
		}
		if (rc < 0 || llmcap_trace_rewind(&r, &err) != 0)
			break;
		last = 0;
	}
	llmcap_trace_close(&r);
}

static void replay(void)
{
	struct llmcap_replay *rp;
	struct llmcap_error err = {0};
	if (llmcap_replay_open(&rp, &sc, &err) != 0)
		return;
	struct llmcap_replay_row row;
	llmcap_time last = 0;
	int rc = 0;
	for (int i = 0; i < 5000 && (rc = llmcap_replay_next(rp, &row, &err)) > 0; i++) {
		if (row.t < last || row.prompt < 1 || row.output < 1 || row.cls >= (int)sc.workload.n_classes)
			abort();
		last = row.t;
	}
	llmcap_replay_close(rp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct llmcap_error err = {0};
	if (!sc.workload.n_classes) {
		llmcap_scenario_defaults(&sc);
		const char *sets[] = {
			"workload.classes={c: {pool: p, share: 0.5}, ChatGPT: {pool: p, share: 0.5}}",
			"pools={p: {model: llama-3.1-8b}}",
			"workload.trace={bad_rows: skip, fill: loop, assign: column, class: c}",
		};
		for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
			if (llmcap_scenario_apply_override(&sc, sets[i], &err) != 0) {
				fprintf(stderr, "%s\n", err.msg);
				abort();
			}
		snprintf(sc.workload.trace.file, sizeof sc.workload.trace.file, "%s", path);
	}
	struct llmcap_trace_cfg cfg = sc.workload.trace;
	cfg.fill = LLMCAP_FILL_NONE;
	static const enum llmcap_trace_format fmts[] = {
		LLMCAP_TRACE_AUTO, LLMCAP_TRACE_AZURE, LLMCAP_TRACE_BURSTGPT, LLMCAP_TRACE_MOONCAKE,
		LLMCAP_TRACE_CSV, LLMCAP_TRACE_LLMCAP};
	for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
		cfg.format = fmts[f];
		cfg.bad_rows = f % 2 ? LLMCAP_BAD_ROWS_SKIP : LLMCAP_BAD_ROWS_FAIL;
		read_rows(path, &cfg);
	}
	/* the generic CSV with date-times, and with the class column named */
	cfg.format = LLMCAP_TRACE_CSV;
	cfg.time_unit = LLMCAP_UNIT_DATETIME;
	read_rows(path, &cfg);
	cfg.time_unit = LLMCAP_UNIT_MS;
	snprintf(cfg.class_column, sizeof cfg.class_column, "model");
	read_rows(path, &cfg);
	struct llmcap_trace_stats st;
	cfg = sc.workload.trace;
	llmcap_trace_stats(path, &cfg, &st, &err);
	/* replay: the whole file once at its own rate, then a window at a target rate, looped */
	sc.workload.trace.fill = LLMCAP_FILL_NONE;
	sc.workload.trace.speedup = 1;
	sc.workload.trace.rate = NAN;
	sc.workload.trace.start = sc.workload.trace.end = 0;
	replay();
	sc.workload.trace.fill = LLMCAP_FILL_LOOP;
	sc.workload.trace.speedup = NAN;
	sc.workload.trace.rate = 1000;
	sc.workload.trace.start = LLMCAP_SEC;
	sc.workload.trace.end = 3 * LLMCAP_SEC;
	replay();
	return 0;
}

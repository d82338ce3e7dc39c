/* `llmcap trace stats FILE`: a trace's statistics without a scenario; the options are
 * workload.trace keys, validated as in a scenario (docs/traces.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/report.h"
#include "llmcap/scenario.h"
#include "llmcap/trace.h"

#include "cli.h"

enum { O_FORMAT = 1, O_BAD_ROWS, O_SET };

static const struct llmcap_opt trace_opts[] = {
	{O_FORMAT, 0, "format", "F",
	 "the trace's format, as workload.trace.format: auto azure burstgpt mooncake csv llmcap", "auto"},
	{O_BAD_ROWS, 0, "bad-rows", "MODE",
	 "what a bad row does, as workload.trace.bad_rows: fail stops at it, skip counts it "
	 "and leaves it out", "fail"},
	{O_SET, 's', "set", "workload.trace.KEY=VALUE", "set another workload.trace key; repeatable",
	 NULL},
};

/* One option as the workload.trace override it stands for; -1 (printed) when it is not valid. */
static int apply(struct llmcap_scenario *sc, int id, const char *v)
{
	char set[600];
	struct llmcap_error err = {0};
	if (id == O_SET && strncmp(v, "workload.trace.", 15) != 0) {
		fprintf(stderr, "llmcap: --set '%s': expected a workload.trace key\n", v);
		return -1;
	}
	if (id == O_SET)
		snprintf(set, sizeof set, "%s", v);
	else
		snprintf(set, sizeof set, "workload.trace.%s=%s", id == O_FORMAT ? "format" : "bad_rows", v);
	if (llmcap_scenario_apply_override(sc, set, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int stats(const char *file, const struct llmcap_scenario *sc)
{
	struct llmcap_trace_stats st;
	struct llmcap_error err = {0};
	if (llmcap_trace_stats(file, &sc->workload.trace, &st, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return 1;
	}
	llmcap_trace_stats_report(&st, stdout);
	return 0;
}

struct trace_args {
	struct llmcap_scenario *sc;
	bool is_stats;
};

static int trace_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct trace_args *t = ctx;
	return t->is_stats ? apply(t->sc, id, p->value) : 0;
}

/* "stats" is the one subcommand; without it the arguments are still read, for --help. */
static int trace_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct trace_args t = {.sc = malloc(sizeof *t.sc),
			       .is_stats = argc >= 3 && !strcmp(argv[2], "stats")};
	if (!t.sc) {
		fprintf(stderr, "llmcap: out of memory\n");
		return 2;
	}
	llmcap_scenario_defaults(t.sc);
	struct llmcap_cli_common c = {.what = "trace"};
	int rc = llmcap_cli_parse(cmd, argc, argv, t.is_stats ? 3 : 2, &c, trace_option, &t);
	if (rc < 0 && (!t.is_stats || argc < 4)) {
		fprintf(stderr, "llmcap: usage: llmcap trace stats FILE [--format F] [--bad-rows skip] "
				"[--set workload.trace.KEY=VALUE]...\n");
		rc = 2;
	} else if (rc < 0 && !c.file) {
		fprintf(stderr, "llmcap: trace stats needs a FILE\n");
		rc = 2;
	} else if (rc < 0) {
		rc = stats(c.file, t.sc);
	}
	llmcap_cli_common_free(&c);
	free(t.sc);
	return rc;
}

const struct llmcap_cmd llmcap_cli_trace = {
	.name = "trace",
	.synopsis = "stats FILE [--format F] [--bad-rows skip] [--set workload.trace.KEY=VALUE]...",
	.summary = "a trace's rows, span, mean rate, peak/mean over 1-minute and 1-hour windows, "
		   "prompt/output mean, p50, p90, p99 and tokens/month (docs/traces.md)",
	.opts = trace_opts,
	.n_opts = sizeof trace_opts / sizeof *trace_opts,
	.run = trace_main,
};

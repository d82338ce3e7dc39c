/* `llmcap workload`: the arrivals without the servers, their statistics, and optionally the
 * requests as CSV. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/output.h"
#include "llmcap/report.h"
#include "llmcap/scenario.h"
#include "llmcap/workload.h"

#include "cli.h"

/* The CSV goes through llmcap_outfile (results/output.h): written to a temporary beside the
 * target and moved onto it once complete and synced, so a failure or Ctrl-C never leaves a
 * half-written file or a temporary under any name; an existing file is kept unless --force. */
static int cmd_workload(const struct llmcap_cli_common *a, const char *out_path, bool force)
{
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_outfile *of = NULL;
	int rc = 2;
	FILE *csv = NULL;
	struct llmcap_error err = {0};
	if (!cat || !sc) {
		fprintf(stderr, "llmcap: out of memory\n");
		goto out;
	}
	if (llmcap_cli_load(cat, sc, a) != 0)
		goto out;
	rc = 1;
	if (out_path) {
		of = malloc(sizeof *of);
		if (!of) {
			fprintf(stderr, "llmcap: out of memory\n");
			goto out_sc;
		}
		if (llmcap_outfile_begin(of, out_path, force, &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			free(of);
			of = NULL;
			goto out_sc;
		}
		if (llmcap_outfile_guard_signals(of) != 0)
			fprintf(stderr, "llmcap: cannot watch for Ctrl-C; an interruption may leave %s\n",
				of->tmp);
		/* 0666 less the umask, as any new file */
		int fd = open(of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 || !(csv = fdopen(fd, "w"))) {
			fprintf(stderr, "llmcap: %s: cannot create: %s\n", out_path, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out_sc;
		}
	}
	struct llmcap_traffic tr;
	if (llmcap_traffic_generate(sc, csv, &tr, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		goto out_csv;
	}
	if (csv) {
		bool bad = ferror(csv) != 0 || fflush(csv) != 0;
		int e = errno;
		bad |= fclose(csv) != 0;
		if (!bad)
			e = errno;
		csv = NULL;
		if (bad) {
			fprintf(stderr, "llmcap: %s: cannot write: %s\n", out_path, strerror(e));
			llmcap_traffic_free(&tr);
			goto out_sc;
		}
		if (llmcap_outfile_commit(of, &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg);
			llmcap_traffic_free(&tr);
			goto out_sc;
		}
	}
	llmcap_traffic_report(&tr, stdout);
	if (out_path)
		printf("\nwrote %lld requests to %s\n", (long long)tr.requests, out_path);
	llmcap_traffic_free(&tr);
	rc = 0;
out_csv:
	if (csv)
		fclose(csv);
out_sc:
	if (of) {
		llmcap_outfile_end(of); /* removes the temporary unless committed */
		free(of);
	}
	llmcap_scenario_free(sc);
out:
	free(cat);
	free(sc);
	return rc;
}

enum { O_OUT = 1, O_FORCE };

struct workload_args {
	const char *out;
	bool force;
};

static const struct llmcap_opt workload_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{O_OUT, 'o', "out", "FILE.csv",
	 "write the requests as CSV with the columns arrival_s,class,prompt_tokens,output_tokens, "
	 "whole or not at all",
	 "none"},
	LLMCAP_CLI_OPT_FORCE(O_FORCE),
};

/* --out and --force, the options of its own. */
static int workload_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct workload_args *w = ctx;
	if (id == O_FORCE) {
		w->force = true;
		return 0;
	}
	if (!*p->value) {
		fprintf(stderr, "llmcap: %s needs a file name\n", p->name);
		return -1;
	}
	w->out = p->value;
	return 0;
}

static int workload_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct llmcap_cli_common a = {0};
	struct workload_args w = {0};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &a, workload_option, &w);
	if (rc < 0)
		rc = cmd_workload(&a, w.out, w.force);
	llmcap_cli_common_free(&a);
	return rc;
}

const struct llmcap_cmd llmcap_cli_workload = {
	.name = "workload",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--out FILE.csv [--force]]",
	.summary = "generate the arrivals without the servers and report their statistics",
	.opts = workload_opts,
	.n_opts = sizeof workload_opts / sizeof *workload_opts,
	.run = workload_main,
};

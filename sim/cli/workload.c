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

struct args {
	const char *file;
	const char **sets;
	size_t n_sets;
	bool exact_steps;
	const char *out;
	bool force;
};

/* The CSV goes through llmcap_outfile (results/output.h): written to a temporary beside the
 * target and moved onto it once complete and synced, so a failure or Ctrl-C never leaves a
 * half-written file or a temporary under any name; an existing file is kept unless --force. */
static int cmd_workload(const struct args *a)
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
	if (llmcap_cli_load(cat, sc, a->file, a->sets, a->n_sets) != 0)
		goto out;
	rc = 1;
	if (a->out) {
		of = malloc(sizeof *of);
		if (!of) {
			fprintf(stderr, "llmcap: out of memory\n");
			goto out_sc;
		}
		if (llmcap_outfile_begin(of, a->out, a->force, &err) != 0) {
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
			fprintf(stderr, "llmcap: %s: cannot create: %s\n", a->out, strerror(errno));
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
			fprintf(stderr, "llmcap: %s: cannot write: %s\n", a->out, strerror(e));
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
	if (a->out)
		printf("\nwrote %lld requests to %s\n", (long long)tr.requests, a->out);
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

enum { O_SET = 1, O_OUT, O_FORCE };

static const struct llmcap_opt workload_opts[] = {
	{O_SET, 's', "set", "KEY=VALUE", "override a scenario field; repeatable", NULL},
	{O_OUT, 'o', "out", "FILE.csv",
	 "write the requests as CSV with the columns arrival_s,class,prompt_tokens,output_tokens, "
	 "whole or not at all",
	 "none"},
	{O_FORCE, 0, "force", NULL, "replace an existing --out file", NULL},
};

static int workload_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct args a = {.sets = calloc((size_t)argc, sizeof *a.sets)};
	struct llmcap_args p;
	int rc = 2;
	if (!a.sets) {
		fprintf(stderr, "llmcap: out of memory\n");
		return rc;
	}
	llmcap_args_init(&p, cmd, argc, argv, 2);
	for (int id; (id = llmcap_args_next(&p)) != LLMCAP_ARGS_END;) {
		if (id == LLMCAP_ARGS_STOP) {
			rc = p.status;
			goto out;
		} else if (id == O_SET) {
			a.sets[a.n_sets++] = p.value;
		} else if (id == O_OUT && !*p.value) {
			fprintf(stderr, "llmcap: %s needs a file name\n", p.name);
			goto out;
		} else if (id == O_OUT) {
			a.out = p.value;
		} else if (id == O_FORCE) {
			a.force = true;
		} else if (!a.file) {
			a.file = p.value;
		} else {
			fprintf(stderr, "llmcap: only one scenario file may be given ('%s', '%s')\n", a.file,
				p.value);
			goto out;
		}
	}
	rc = cmd_workload(&a);
out:
	free(a.sets);
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

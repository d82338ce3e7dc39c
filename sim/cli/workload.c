/* `llmcap workload`: the arrivals without the servers, their statistics, and optionally the
 * requests as CSV. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
};

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
	if (llmcap_cli_load(cat, sc, a->file, a->sets, a->n_sets) != 0)
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

enum { O_SET = 1, O_OUT };

static const struct llmcap_opt workload_opts[] = {
	{O_SET, 's', "set", "KEY=VALUE", "override a scenario field; repeatable", NULL},
	{O_OUT, 'o', "out", "FILE.csv",
	 "write the requests as CSV with the columns arrival_s,class,prompt_tokens,output_tokens, "
	 "whole or not at all",
	 "none"},
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
	.synopsis = "[FILE] [--set KEY=VALUE]... [--out FILE.csv]",
	.summary = "generate the arrivals without the servers and report their statistics",
	.opts = workload_opts,
	.n_opts = sizeof workload_opts / sizeof *workload_opts,
	.run = workload_main,
};

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

/* Writes to a temporary file beside the target and renames it over the target once complete,
 * so that a failure never leaves a half-written file under the asked name. */
static int cmd_workload(const struct llmcap_cli_common *a, const char *out_path)
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
	if (llmcap_cli_load(cat, sc, a) != 0)
		goto out;
	rc = 1;
	if (out_path) {
		size_t n = strlen(out_path) + 16;
		tmp = malloc(n);
		if (!tmp) {
			fprintf(stderr, "llmcap: out of memory\n");
			goto out_sc;
		}
		snprintf(tmp, n, "%s.tmpXXXXXX", out_path);
		int fd = mkstemp(tmp);
		if (fd < 0 || !(csv = fdopen(fd, "w"))) {
			fprintf(stderr, "llmcap: %s: cannot create: %s\n", out_path, strerror(errno));
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
		if (bad || rename(tmp, out_path) != 0) {
			fprintf(stderr, "llmcap: %s: cannot write: %s\n", out_path, strerror(bad ? e : errno));
			unlink(tmp);
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

enum { O_OUT = 1 };

static const struct llmcap_opt workload_opts[] = {
	LLMCAP_CLI_OPT_SET,
	LLMCAP_CLI_OPT_CATALOG,
	{O_OUT, 'o', "out", "FILE.csv",
	 "write the requests as CSV with the columns arrival_s,class,prompt_tokens,output_tokens, "
	 "whole or not at all",
	 "none"},
};

/* --out, the one option of its own. */
static int workload_option(const struct llmcap_args *p, int id, void *ctx)
{
	(void)id;
	if (!*p->value) {
		fprintf(stderr, "llmcap: %s needs a file name\n", p->name);
		return -1;
	}
	*(const char **)ctx = p->value;
	return 0;
}

static int workload_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct llmcap_cli_common a = {0};
	const char *out = NULL;
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &a, workload_option, &out);
	if (rc < 0)
		rc = cmd_workload(&a, out);
	llmcap_cli_common_free(&a);
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

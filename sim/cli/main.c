/* The llmcap command line: the command table and the dispatch to its handlers; `help`,
 * `version` and `schema`, which are a line or two each. */
#include <gsl/gsl_errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "llmcap/scenario.h"

#include "cli.h"

static int schema_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	int rc = llmcap_cli_no_arguments(cmd, argc, argv);
	if (rc >= 0)
		return rc;
	llmcap_scenario_write_schema(stdout);
	return 0;
}

static int version_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	int rc = llmcap_cli_no_arguments(cmd, argc, argv);
	if (rc >= 0)
		return rc;
	printf("llmcap %s\n", LLMCAP_VERSION);
	return 0;
}

enum { O_MARKDOWN = 1 };

/* --markdown is how docs/cli.md is made: hidden, since only the docs need it. */
static const struct llmcap_opt help_opts[] = {
	{O_MARKDOWN, 0, "markdown", NULL, NULL, NULL},
};

static int help_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct llmcap_args p;
	const char *name = NULL;
	bool markdown = false;
	llmcap_args_init(&p, cmd, argc, argv, 2);
	for (int id; (id = llmcap_args_next(&p)) != LLMCAP_ARGS_END;) {
		if (id == LLMCAP_ARGS_STOP)
			return p.status;
		if (id == O_MARKDOWN)
			markdown = true;
		else if (!name)
			name = p.value;
		else {
			fprintf(stderr, "llmcap: help takes one COMMAND ('%s', '%s')\n", name, p.value);
			return 2;
		}
	}
	if (markdown) {
		llmcap_cli_markdown(stdout);
		return 0;
	}
	if (!name) {
		llmcap_cli_usage(stdout);
		return 0;
	}
	const struct llmcap_cmd *c = llmcap_cli_find(name);
	if (!c) {
		fprintf(stderr, "llmcap: unknown command '%s'; `llmcap help` lists them\n", name);
		return 2;
	}
	llmcap_cli_help(c, stdout);
	return 0;
}

const struct llmcap_cmd llmcap_cli_schema = {
	.name = "schema", .synopsis = "",
	.summary = "print the reference of every scenario field", .run = schema_main,
};

const struct llmcap_cmd llmcap_cli_version = {
	.name = "version", .synopsis = "",
	.summary = "print the version (also `llmcap --version` or `llmcap -V`)", .run = version_main,
};

const struct llmcap_cmd llmcap_cli_help_cmd = {
	.name = "help", .synopsis = "[COMMAND]",
	.summary = "list the commands, or a command's options (as COMMAND --help)",
	.opts = help_opts, .n_opts = 1, .run = help_main,
};

const struct llmcap_cmd *const llmcap_cli_commands[] = {
	&llmcap_cli_run, &llmcap_cli_workload, &llmcap_cli_breakeven, &llmcap_cli_decide, &llmcap_cli_trace,
	&llmcap_cli_sweep, &llmcap_cli_plan, &llmcap_cli_maxrate, &llmcap_cli_config,
	&llmcap_cli_schema, &llmcap_cli_catalog, &llmcap_cli_model, &llmcap_cli_version,
	&llmcap_cli_help_cmd, NULL,
};

const struct llmcap_cmd *llmcap_cli_find(const char *name)
{
	for (const struct llmcap_cmd *const *c = llmcap_cli_commands; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

int main(int argc, char **argv)
{
	/* Never let GSL abort the process: every call site checks its status. */
	gsl_set_error_handler_off();
	/* Past a file-size limit (ulimit -f) a write should fail with EFBIG, which the writers
	 * report ("File too large") and clean up after, not kill the process by SIGXFSZ with its
	 * temporaries left behind. */
	signal(SIGXFSZ, SIG_IGN);
	if (argc < 2) {
		llmcap_cli_usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		name = "help";
	else if (!strcmp(name, "--version") || !strcmp(name, "-V"))
		name = "version";
	const struct llmcap_cmd *cmd = llmcap_cli_find(name);
	if (!cmd) {
		fprintf(stderr, "llmcap: unknown command '%s'\n", name);
		llmcap_cli_usage(stderr);
		return 2;
	}
	return cmd->run(cmd, argc, argv);
}

/* `llmcap model import config.json`: a Hugging Face config.json as a user catalog file, for
 * --catalog or a scenario's catalog: key (docs/models.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/catalog.h"
#include "llmcap/schema.h"

#include "cli.h"

enum { O_NAME = 1, O_OUTPUT, O_FORCE };

static const struct llmcap_opt model_opts[] = {
	{O_NAME, 0, "name", "NAME",
	 "the entry's name (letters, digits, '-', '_', '.'); default: the config's folder, or the "
	 "file name without .json, in lower case", NULL},
	{O_OUTPUT, 'o', "output", "FILE", "write the catalog file to FILE rather than stdout", "stdout"},
	LLMCAP_CLI_OPT_FORCE(O_FORCE),
};

struct model_args {
	const char *name, *out;
	bool force;
};

static int model_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct model_args *a = ctx;
	if (id == O_NAME)
		a->name = p->value;
	else if (id == O_OUTPUT)
		a->out = p->value;
	else if (id == O_FORCE)
		a->force = true;
	return 0;
}

/* The default name: "Llama-3.1-8B/config.json" -> llama-3.1-8b, "mixtral.json" -> mixtral;
 * characters a name may not hold become '-'. */
static void default_name(const char *path, char *name, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t n = strlen(base);
	if (!strcmp(base, "config.json") && slash && slash > path) {
		const char *start = slash;
		while (start > path && start[-1] != '/')
			start--;
		base = start;
		n = (size_t)(slash - start);
	} else if (n > 5 && !strcmp(base + n - 5, ".json")) {
		n -= 5;
	}
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++) {
		char c = base[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		name[i] = ok ? c : '-';
	}
	name[n] = '\0';
}

static int import(const char *file, const struct model_args *a)
{
	if (llmcap_cli_check_output(a->out, a->force) != 0)
		return 2;
	struct llmcap_error err = {0};
	size_t len;
	char *text = llmcap_read_text(file, &len, "config.json", &err);
	if (!text) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return 1;
	}
	char name[LLMCAP_NAME_MAX];
	if (a->name)
		snprintf(name, sizeof name, "%s", a->name);
	else
		default_name(file, name, sizeof name);
	struct llmcap_model_spec *m = malloc(sizeof *m);
	char notes[1024];
	int rc = m ? llmcap_model_import(text, len, file, a->name ? a->name : name, m, notes,
					 sizeof notes, &err)
		   : llmcap_errorf(&err, LLMCAP_ENOMEM, "out of memory");
	free(text);
	if (rc != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		free(m);
		return rc == -LLMCAP_EUSAGE ? 2 : 1;
	}
	struct llmcap_cli_output o;
	FILE *out = llmcap_cli_open_output(&o, a->out, a->force);
	if (!out) {
		free(m);
		return 1;
	}
	llmcap_model_write_catalog(m, notes, out);
	free(m);
	return llmcap_cli_close_output(&o, a->out) == 0 ? 0 : 1;
}

/* "import" is the one subcommand; without it the arguments are still read, for --help. */
static int model_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	bool is_import = argc >= 3 && !strcmp(argv[2], "import");
	struct model_args a = {0};
	struct llmcap_cli_common c = {.what = "config.json"};
	int rc = llmcap_cli_parse(cmd, argc, argv, is_import ? 3 : 2, &c, model_option, &a);
	if (rc < 0 && (!is_import || !c.file)) {
		fprintf(stderr, "llmcap: usage: llmcap model import CONFIG.json [--name NAME] [-o FILE]; "
				"see llmcap model --help\n");
		rc = 2;
	} else if (rc < 0) {
		rc = import(c.file, &a);
	}
	llmcap_cli_common_free(&c);
	return rc;
}

const struct llmcap_cmd llmcap_cli_model = {
	.name = "model",
	.synopsis = "import CONFIG.json [--name NAME] [-o FILE]",
	.summary = "turn a Hugging Face config.json into a catalog file for --catalog (dense, GQA, MoE, "
		   "MLA; docs/models.md)",
	.details = "Writes a catalog file with one model entry, read from the config.json's keys "
		   "(model_type llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe, deepseek_v2, "
		   "deepseek_v3), with its parameter count as a comment. Use it with --catalog FILE (or "
		   "a scenario's catalog: key) and pools.NAME.model: NAME.",
	.opts = model_opts,
	.n_opts = sizeof model_opts / sizeof *model_opts,
	.run = model_main,
};

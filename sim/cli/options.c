/* The one option parser of every command: table-driven (struct llmcap_opt), so that what a
 * command accepts and what its help lists cannot differ. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "llmcap/output.h"

#include "cli.h"

void llmcap_args_init(struct llmcap_args *a, const struct llmcap_cmd *cmd, int argc, char **argv,
		      int first)
{
	*a = (struct llmcap_args){.cmd = cmd, .argc = argc, .argv = argv, .i = first};
}

static int stop(struct llmcap_args *a, int status)
{
	a->status = status;
	return LLMCAP_ARGS_STOP;
}

static int fail(struct llmcap_args *a, const char *what)
{
	fprintf(stderr, "llmcap: %s '%s' for %s; see llmcap %s --help\n", what, a->name, a->cmd->name,
		a->cmd->name);
	return stop(a, 2);
}

/* The option spelled s (up to len characters: the part before a '='); NULL: none. */
static const struct llmcap_opt *lookup(const struct llmcap_cmd *cmd, const char *s, size_t len)
{
	for (size_t k = 0; k < cmd->n_opts; k++) {
		const struct llmcap_opt *o = &cmd->opts[k];
		if (s[1] == '-' ? strlen(o->name) == len - 2 && !strncmp(o->name, s + 2, len - 2)
				: len == 2 && o->short_name && o->short_name == s[1])
			return o;
	}
	return NULL;
}

int llmcap_args_next(struct llmcap_args *a)
{
	if (a->i >= a->argc)
		return LLMCAP_ARGS_END;
	const char *s = a->argv[a->i++];
	a->name = s;
	a->value = s;
	if (s[0] != '-' || s[1] == '\0')
		return LLMCAP_ARG_POSITIONAL;
	if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
		llmcap_cli_help(a->cmd, stdout);
		return stop(a, 0);
	}
	const char *eq = s[1] == '-' ? strchr(s, '=') : NULL;
	size_t len = eq ? (size_t)(eq - s) : strlen(s);
	const struct llmcap_opt *o = lookup(a->cmd, s, len);
	if (!o)
		return fail(a, "unknown option");
	if (eq) {
		snprintf(a->spelled, sizeof a->spelled, "%.*s", (int)len, s);
		a->name = a->spelled;
	}
	if (!o->arg) {
		if (eq)
			return fail(a, "a value given to the flag");
		a->value = NULL;
		return o->id;
	}
	if (eq) {
		a->value = eq + 1;
	} else if (a->i < a->argc) {
		a->value = a->argv[a->i++];
	} else {
		fprintf(stderr, "llmcap: %s needs %s; see llmcap %s --help\n", s, o->arg, a->cmd->name);
		return stop(a, 2);
	}
	return o->id;
}

int llmcap_cli_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int llmcap_cli_needs_busiest_hour(const struct llmcap_scenario *sc, const char *cmd)
{
	if (sc->horizon < LLMCAP_HOUR || sc->output.percentiles != LLMCAP_PERCENTILES_EXACT) {
		fprintf(stderr, "llmcap: %s judges SLOs in the busiest hour: it needs horizon >= 1h and "
				"output.percentiles: exact\n", cmd);
		return -1;
	}
	return 0;
}

int llmcap_cli_load_catalog(struct llmcap_catalog *cat, const struct llmcap_cli_common *c,
		       struct llmcap_error *err)
{
	if (llmcap_catalog_load_builtin(cat, err) != 0 ||
	    llmcap_scenario_load_catalog(cat, c->file, c->sets, c->n_sets, err) != 0)
		return -1;
	for (size_t i = 0; i < c->n_catalogs; i++)
		if (llmcap_catalog_load_file(cat, c->catalogs[i], err) != 0)
			return -1;
	return 0;
}

int llmcap_cli_load(struct llmcap_catalog *cat, struct llmcap_scenario *sc,
		    const struct llmcap_cli_common *c)
{
	struct llmcap_error err = {0};
	if (llmcap_cli_load_catalog(cat, c, &err) != 0 ||
	    llmcap_scenario_load(sc, c->file, c->sets, c->n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return -1;
	}
	return 0;
}

int llmcap_cli_no_arguments(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct llmcap_args p;
	llmcap_args_init(&p, cmd, argc, argv, 2);
	int id = llmcap_args_next(&p);
	if (id == LLMCAP_ARGS_STOP)
		return p.status;
	if (id == LLMCAP_ARG_POSITIONAL) {
		fprintf(stderr, "llmcap: %s takes no arguments ('%s'); see llmcap %s --help\n", cmd->name,
			p.value, cmd->name);
		return 2;
	}
	return -1;
}

/* A shared argument into c: 1 taken, 0 not one of them, -1 not valid (printed). */
static int common_arg(const struct llmcap_args *p, int id, struct llmcap_cli_common *c)
{
	switch (id) {
	case LLMCAP_OPT_SET:
		c->sets[c->n_sets++] = p->value;
		return 1;
	case LLMCAP_OPT_CATALOG:
		c->catalogs[c->n_catalogs++] = p->value;
		return 1;
	case LLMCAP_OPT_JOBS:
	case LLMCAP_OPT_SEEDS:
		if (llmcap_cli_long(p->value, 1, 1000000, id == LLMCAP_OPT_JOBS ? &c->jobs : &c->seeds)) {
			fprintf(stderr, "llmcap: %s '%s': expected a positive integer\n", p->name, p->value);
			return -1;
		}
		return 1;
	case LLMCAP_ARG_POSITIONAL:
		if (c->file) {
			fprintf(stderr, "llmcap: only one %s file may be given ('%s', '%s')\n",
				c->what ? c->what : "scenario", c->file, p->value);
			return -1;
		}
		c->file = p->value;
		return 1;
	}
	return 0;
}

int llmcap_cli_parse(const struct llmcap_cmd *cmd, int argc, char **argv, int first,
		     struct llmcap_cli_common *c,
		     int (*own)(const struct llmcap_args *p, int id, void *ctx), void *ctx)
{
	c->jobs = sysconf(_SC_NPROCESSORS_ONLN);
	c->sets = calloc((size_t)argc + 1, sizeof *c->sets);
	c->catalogs = calloc((size_t)argc + 1, sizeof *c->catalogs);
	if (!c->sets || !c->catalogs) {
		fprintf(stderr, "llmcap: out of memory\n");
		return 2;
	}
	struct llmcap_args p;
	llmcap_args_init(&p, cmd, argc, argv, first);
	for (int id; (id = llmcap_args_next(&p)) != LLMCAP_ARGS_END;) {
		if (id == LLMCAP_ARGS_STOP)
			return p.status;
		int taken = common_arg(&p, id, c);
		if (taken < 0 || (!taken && own(&p, id, ctx) != 0))
			return 2;
	}
	return -1;
}

void llmcap_cli_common_free(struct llmcap_cli_common *c)
{
	free(c->sets);
	free(c->catalogs);
	c->sets = NULL;
	c->catalogs = NULL;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void llmcap_cli_progress_init(struct llmcap_cli_progress *p, const char *label)
{
	*p = (struct llmcap_cli_progress){.label = label, .on = isatty(STDERR_FILENO) != 0,
					  .start = now_s()};
}

void llmcap_cli_progress_show(void *user, size_t done, size_t total)
{
	struct llmcap_cli_progress *p = user;
	double t = now_s();
	if (!p->on || (done < total && t - p->last < 0.25))
		return;
	p->last = t;
	double eta = done ? (t - p->start) * (double)(total - done) / (double)done : 0;
	fprintf(stderr, "\r  %s: %zu/%zu (%.0f%%), ETA %.0f s   ", p->label, done, total,
		total ? 100.0 * (double)done / (double)total : 100.0, eta);
	p->shown = true;
}

void llmcap_cli_progress_end(struct llmcap_cli_progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r%*s\r", 79, "");
	p->shown = false;
}

int llmcap_cli_check_output(const char *path, bool force)
{
	struct llmcap_error err = {0};
	if (path && llmcap_outfile_check(path, force, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return -1;
	}
	return 0;
}

FILE *llmcap_cli_open_output(struct llmcap_cli_output *o, const char *path, bool force)
{
	*o = (struct llmcap_cli_output){0};
	if (!path)
		return o->f = stdout;
	struct llmcap_error err = {0};
	o->of = malloc(sizeof *o->of);
	if (!o->of) {
		fprintf(stderr, "llmcap: out of memory\n");
		return NULL;
	}
	if (llmcap_outfile_begin(o->of, path, force, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		free(o->of);
		o->of = NULL;
		return NULL;
	}
	/* 0666 less the umask, as any new file */
	int fd = open(o->of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "llmcap: %s: cannot create: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		llmcap_outfile_end(o->of);
		free(o->of);
		o->of = NULL;
		return NULL;
	}
	return o->f;
}

int llmcap_cli_close_output(struct llmcap_cli_output *o, const char *path)
{
	if (o->f == stdout)
		return fflush(stdout) == 0 ? 0 : -1;
	bool bad = ferror(o->f) != 0 || fflush(o->f) != 0;
	int e = errno;
	bad |= fclose(o->f) != 0;
	if (!bad)
		e = errno;
	o->f = NULL;
	struct llmcap_error err = {0};
	int rc = 0;
	if (bad) {
		fprintf(stderr, "llmcap: %s: cannot write: %s\n", path, strerror(e));
		rc = -1;
	} else if (llmcap_outfile_commit(o->of, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		rc = -1;
	}
	llmcap_outfile_end(o->of); /* removes the temporary unless committed */
	free(o->of);
	o->of = NULL;
	return rc;
}

void llmcap_cli_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void llmcap_cli_json_num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.17g", v);
	else
		fputs("null", out);
}

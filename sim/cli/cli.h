/* The command line's private header: the command table, the one option parser every command
 * uses, and the help printed from the table (so usage, `CMD --help` and docs/cli.md are one
 * text). Nothing here is part of the library's API. */
#ifndef LLMCAP_CLI_H
#define LLMCAP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "llmcap/decide.h"
#include "llmcap/scenario.h"

#ifndef LLMCAP_VERSION
#define LLMCAP_VERSION "dev"
#endif

/* A number macro as a string literal, for help texts that quote a limit. */
#define LLMCAP_CLI_STR_(x) #x
#define LLMCAP_CLI_STR(x) LLMCAP_CLI_STR_(x)

/* One option of one command. Spelled --NAME (and -S when short is set); a value option takes
 * the next argument or --NAME=VALUE. */
struct llmcap_opt {
	int id;           /* > 0, returned by llmcap_args_next; unique within the command */
	char short_name;  /* 0: none */
	const char *name; /* the long name, without "--" */
	const char *arg;  /* the value's placeholder (FILE.h5, KEY=VALUE); NULL: a flag */
	const char *help; /* what it does, one sentence or two; NULL: accepted but listed in no help
			   * (help --markdown, which only makes docs/cli.md) */
	const char *def;  /* the default, as the help shows it; NULL: none (flags: off) */
};

struct llmcap_cmd {
	const char *name;
	const char *synopsis; /* the positional arguments and the shape of the options */
	const char *summary;  /* one line for the global usage */
	const char *details;  /* more for `llmcap help CMD`; NULL: none */
	const struct llmcap_opt *opts;
	size_t n_opts;
	int (*run)(const struct llmcap_cmd *cmd, int argc, char **argv); /* returns the exit status */
};

/* Every command, in the order the usage lists them; NULL-terminated (main.c). */
extern const struct llmcap_cmd *const llmcap_cli_commands[];
/* The command of that name; NULL: none. */
const struct llmcap_cmd *llmcap_cli_find(const char *name);

/* ---- the option parser: an iterator over argv[first..argc) ---- */

enum {
	LLMCAP_ARG_POSITIONAL = 0, /* value holds a non-option argument */
	LLMCAP_ARGS_END = -1,      /* every argument read */
	LLMCAP_ARGS_STOP = -2      /* help printed (status 0) or an error printed (status 2) */
};

struct llmcap_args {
	const struct llmcap_cmd *cmd;
	int argc;
	char **argv;
	int i;             /* the next argument to read */
	const char *name;  /* the option as written (-o, --output; --jobs of --jobs=4), for messages */
	const char *value; /* the option's value or the positional argument */
	int status;        /* after LLMCAP_ARGS_STOP: the exit status */
	char spelled[48];  /* name, when it is the part of an argument before its '=' */
};

void llmcap_args_init(struct llmcap_args *a, const struct llmcap_cmd *cmd, int argc, char **argv,
		      int first);
/* The next option's id, LLMCAP_ARG_POSITIONAL, LLMCAP_ARGS_END or LLMCAP_ARGS_STOP. --help and
 * -h print the command's help; an unknown option, a missing value or a value given to a flag
 * print one error line naming the option and pointing at `llmcap CMD --help`. "-" alone is a
 * positional argument. */
int llmcap_args_next(struct llmcap_args *a);

/* The arguments most commands share, under ids of their own (above any command's own ids):
 * the one FILE (a positional argument), --set, --jobs, --seeds. A command lists the ones it takes
 * in its table with these ids (LLMCAP_CLI_OPT_SET...). */
enum { LLMCAP_OPT_SET = 1000, LLMCAP_OPT_JOBS, LLMCAP_OPT_SEEDS, LLMCAP_OPT_CATALOG };

#define LLMCAP_CLI_OPT_SET \
	{LLMCAP_OPT_SET, 's', "set", "KEY=VALUE", "override a scenario field; repeatable", NULL}
#define LLMCAP_CLI_OPT_CATALOG \
	{LLMCAP_OPT_CATALOG, 0, "catalog", "FILE", \
	 "add or replace models, GPUs, engines, prices and links from a YAML catalog file (after the " \
	 "scenario's catalog: key; docs/models.md); repeatable", NULL}
#define LLMCAP_CLI_OPT_JOBS(what) \
	{LLMCAP_OPT_JOBS, 0, "jobs", "N", "threads " what " at once", "the number of CPUs"}

/* Rows that several commands' tables share, under each command's own id. */
#define LLMCAP_CLI_OPT_FORCE(id) \
	{(id), 0, "force", NULL, "overwrite an existing output file", NULL}
/* decide's and run --decide's rent: autoscaled (the default) or fixed (llmcap_cli_parse_rent) */
#define LLMCAP_CLI_OPT_RENT(id) \
	{(id), 0, "rent", "MODE", \
	 "autoscaled: rent each pool through the engine's autoscaler, up to the own fleet's size and " \
	 "down to the quietest hour's share of it, billed per GPU-hour held (pools.NAME.autoscale " \
	 "sets a pool's policy); fixed: the own fleet held every hour of the month, an upper bound", \
	 "autoscaled"}
#define LLMCAP_CLI_OPT_REPORT(id) \
	{(id), 'o', "output", "FILE", "write the table (or the JSON) to FILE rather than stdout", \
	 "stdout"}

struct llmcap_cli_common {
	const char *what;   /* the FILE's kind in messages ("scenario", "trace"); NULL: scenario */
	const char *file;   /* the one positional argument; NULL: none */
	const char **sets;  /* the --set values, in order (room for every argument, and one more) */
	size_t n_sets;
	const char **catalogs; /* the --catalog files, in order (room for every argument) */
	size_t n_catalogs;
	long jobs;          /* --jobs; the number of CPUs when not given */
	long seeds;         /* --seeds; as initialised when not given */
};

/* Reads argv[first..) with cmd's table: FILE, --set, --jobs and --seeds go into c (c->seeds
 * and c->what as the caller set them); every other option goes to own(p, id, ctx), which
 * returns 0, or -1 after printing why its value is not valid. Returns -1 when every argument
 * was read and the command should go on, else the exit status: 0 after --help, 2 after an
 * error (printed). On every return c->sets must be freed (llmcap_cli_common_free). */
int llmcap_cli_parse(const struct llmcap_cmd *cmd, int argc, char **argv, int first,
		     struct llmcap_cli_common *c,
		     int (*own)(const struct llmcap_args *p, int id, void *ctx), void *ctx);
void llmcap_cli_common_free(struct llmcap_cli_common *c);

/* Parses a whole number in [lo, hi]; 0 on success, -1 (nothing printed) otherwise. */
int llmcap_cli_long(const char *s, long lo, long hi, long *out);

/* ---- help, from the table (help.c) ---- */

void llmcap_cli_usage(FILE *out);
void llmcap_cli_help(const struct llmcap_cmd *cmd, FILE *out);
void llmcap_cli_markdown(FILE *out);

/* ---- shared by the commands ---- */

/* The busiest-hour commands (plan, maxrate, breakeven) need a full hour and exact percentiles;
 * prints why and returns -1 otherwise. */
int llmcap_cli_needs_busiest_hour(const struct llmcap_scenario *sc, const char *cmd);

/* For a command that takes no arguments: reads them (for --help); returns the exit status when
 * the command must stop (help: 0, anything else given: 2), -1 to go on. */
int llmcap_cli_no_arguments(const struct llmcap_cmd *cmd, int argc, char **argv);

/* The catalog a command uses: the built-in one, then the file the scenario's catalog: key names
 * (c->file with c->sets), then each --catalog file in order. 0, or -1 with err set. */
int llmcap_cli_load_catalog(struct llmcap_catalog *cat, const struct llmcap_cli_common *c,
		       struct llmcap_error *err);

/* Loads that catalog and the scenario (c->file, or the built-in one when NULL, with the --set
 * overrides); prints the error and returns -1 on failure. */
int llmcap_cli_load(struct llmcap_catalog *cat, struct llmcap_scenario *sc,
		    const struct llmcap_cli_common *c);

/* ---- what the studies (plan, maxrate, breakeven) share ---- */

/* A progress line on stderr ("  LABEL: 3/8 (38%), ETA 12 s"), only when stderr is a terminal,
 * at most four times a second; llmcap_cli_progress_end clears it. Use as a study's progress
 * hook: .fn = llmcap_cli_progress_show, .user = &p. */
struct llmcap_cli_progress {
	const char *label;
	bool on, shown;
	double start, last; /* seconds, monotonic */
};
void llmcap_cli_progress_init(struct llmcap_cli_progress *p, const char *label);
void llmcap_cli_progress_show(void *user, size_t done, size_t total);
void llmcap_cli_progress_end(struct llmcap_cli_progress *p);

/* Where a study's report goes: -o FILE or stdout (path NULL). check: refused when the target
 * exists (unless force) or is not a regular file (printed, -1). open: through llmcap_outfile
 * (results/output.h: a locked target, a temporary moved onto it only when complete), NULL on
 * failure (printed). close: says whether everything was written and committed (0) or not
 * (-1, printed; the temporary removed). Call close after every successful open. */
struct llmcap_outfile;
struct llmcap_cli_output {
	struct llmcap_outfile *of;
	FILE *f;
};
int llmcap_cli_check_output(const char *path, bool force);
FILE *llmcap_cli_open_output(struct llmcap_cli_output *o, const char *path, bool force);
int llmcap_cli_close_output(struct llmcap_cli_output *o, const char *path);

/* JSON values: a string with its escapes; a number with 17 significant digits, null when it
 * is not finite. */
void llmcap_cli_json_str(FILE *out, const char *s);
void llmcap_cli_json_num(FILE *out, double v);

/* A comma-separated list of monthly token volumes (--volumes), each with a suffix (500M, 5B,
 * 1.2T) or written in full (5e9), at most max; -1 (printed) otherwise (breakeven.c). */
int llmcap_cli_parse_volumes(const char *s, double *out, size_t max, size_t *n);
/* A comma-separated list of precision names (--dtypes), at most max; -1 (printed) otherwise. */
int llmcap_cli_parse_dtypes(const char *s, int *dtypes, size_t max, size_t *n_dtypes);
/* --gpus G,... (decide, run --decide): catalog GPU names, at most LLMCAP_DECIDE_MAX_GPUS, and
 * "per-pool" (each pool's GPU chosen). names[] point into buf: the struct owns its strings. */
struct llmcap_cli_gpus {
	char buf[512];
	const char *names[LLMCAP_DECIDE_MAX_GPUS];
	size_t n;
	bool per_pool;
};
/* Parses s into g (replacing what it held); -1 (printed) on too many names or a list that is
 * too long for buf, so that nothing is cut silently. */
int llmcap_cli_parse_gpus(const char *s, struct llmcap_cli_gpus *g);
/* --rent MODE: "autoscaled" (*fixed = false) or "fixed"; -1 with a message otherwise */
int llmcap_cli_parse_rent(const char *s, bool *fixed);

struct llmcap_decision;
/* The decision, apart from a run's own report (decide.c): every option, the cheapest that meets
 * the SLOs and the runner-up. */
void llmcap_cli_print_decision(const struct llmcap_scenario *sc,
			       const struct llmcap_decision *d, size_t seeds, FILE *out);

/* The command definitions, each in its own file. */
extern const struct llmcap_cmd llmcap_cli_run, llmcap_cli_config, llmcap_cli_workload,
	llmcap_cli_trace, llmcap_cli_breakeven, llmcap_cli_sweep, llmcap_cli_plan,
	llmcap_cli_maxrate, llmcap_cli_decide, llmcap_cli_catalog, llmcap_cli_schema, llmcap_cli_version,
	llmcap_cli_help_cmd, llmcap_cli_model;

#endif

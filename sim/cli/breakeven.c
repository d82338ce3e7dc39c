/* `llmcap breakeven`: for a range of monthly volumes and precisions of the largest model, the
 * smallest fleet that meets every SLO in the busiest hour, its TCO against the API, and the
 * volume where they cross. The search is the study's (llmcap_breakeven_search); this file
 * reads the arguments and prints the table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/breakeven.h"
#include "llmcap/output.h"

#include "cli.h"

enum { O_VOLUMES = 1, O_DTYPES, O_OUTPUT, O_FORCE };

struct args {
	const char *out;
	bool force;
	double volumes[LLMCAP_BREAKEVEN_MAX_VOLUMES];
	size_t n_volumes;
	int dtypes[LLMCAP_BREAKEVEN_MAX_DTYPES];
	size_t n_dtypes;
};

static int parse_volumes(const char *s, double *out, size_t max, size_t *n)
{
	*n = 0;
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		double v;
		if (*n == max || llmcap_parse_double(tok, &v) != 0 || !(v > 0))
			return -1;
		out[(*n)++] = v;
	}
	return *n ? 0 : -1;
}

/* A comma-separated list of precision names; -1 (printed) on a name not known, or too many. */
static int parse_dtypes(const char *s, int *dtypes, size_t *n_dtypes)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		int d = -1;
		for (int k = 0; k <= LLMCAP_DTYPE_INT4_AWQ; k++)
			if (!strcmp(t, llmcap_dtype_name((enum llmcap_dtype)k)))
				d = k;
		if (d < 0 || *n_dtypes == LLMCAP_BREAKEVEN_MAX_DTYPES) {
			fprintf(stderr, "llmcap: --dtypes: '%s' is not one of bf16, fp16, fp8, int4-awq\n", t);
			return -1;
		}
		dtypes[(*n_dtypes)++] = d;
	}
	return 0;
}

static int breakeven_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	switch (id) {
	case O_VOLUMES:
		if (parse_volumes(p->value, a->volumes, LLMCAP_BREAKEVEN_MAX_VOLUMES, &a->n_volumes)) {
			fprintf(stderr, "llmcap: --volumes '%s': expected tokens per month, comma "
					"separated, e.g. 1e9,2.7e9,7.5e9\n", p->value);
			return -1;
		}
		return 0;
	case O_DTYPES:
		return parse_dtypes(p->value, a->dtypes, &a->n_dtypes);
	case O_OUTPUT:
		a->out = p->value;
		return 0;
	case O_FORCE:
		a->force = true;
		return 0;
	}
	return -1;
}

static void usd(double v, char *buf, size_t n)
{
	snprintf(buf, n, "$%.0fk", v / 1e3);
}

static void print_table(const struct llmcap_scenario *sc, const struct args *a,
			const struct llmcap_fleet *rows)
{
	printf("llmcap breakeven: %s, smallest fleet of %lld-GPU %s servers meeting every SLO in the "
	       "busiest hour\n\n",
	       sc->name, (long long)sc->hardware.gpus_per_server, sc->hardware.gpu);
	printf("  %-12s %-9s", "tokens/month", "dtype");
	for (size_t p = 0; p < sc->n_pools; p++)
		printf(" %10s", sc->pools[p].name);
	printf(" %5s %7s %13s %10s %9s %s\n", "GPUs", "servers", "self-hosted", "API", "$/1M own",
	       "cheaper");
	for (size_t i = 0; i < a->n_volumes * a->n_dtypes; i++) {
		const struct llmcap_fleet *r = &rows[i];
		char own[32], api[32];
		usd(r->cost.self_total, own, sizeof own);
		usd(r->cost.api_total, api, sizeof api);
		printf("  %9.2fB   %-9s", r->tokens_per_month / 1e9,
		       llmcap_dtype_name((enum llmcap_dtype)r->dtype));
		for (size_t p = 0; p < sc->n_pools; p++)
			printf(" %10lld", (long long)r->replicas[p]);
		if (!r->feasible)
			printf("  no fleet within %d replicas per pool\n", LLMCAP_PLAN_MAX_REPLICAS);
		else
			printf(" %5lld %7lld %13s %10s %9.3f %s\n", (long long)r->gpus,
			       (long long)r->servers, own, api, r->cost.self_per_1m_served,
			       r->cost.self_total <= r->cost.api_total ? "owning" : "API");
	}
	printf("\n  (replicas per pool; TCO over %g years; API at the scenario's prices)\n\n",
	       sc->cost.horizon_years);
	for (size_t d = 0; d < a->n_dtypes; d++) {
		double be = llmcap_plan_breakeven(&rows[d * a->n_volumes], a->n_volumes);
		const char *name = llmcap_dtype_name((enum llmcap_dtype)a->dtypes[d]);
		if (isnan(be))
			printf("  break-even with the largest model in %-8s: none up to %.1fB tokens/month "
			       "(the API stays cheaper)\n", name, a->volumes[a->n_volumes - 1] / 1e9);
		else
			printf("  break-even with the largest model in %-8s: %.2fB tokens/month\n", name,
			       be / 1e9);
	}
	printf("  (the guide claims ~7.5B tokens/month, halved by FP8 or INT4 weights)\n");
}

/* The table as HDF5 (-o), with the resolved scenario; -1 (printed) on failure. */
static int write_h5(const struct llmcap_scenario *sc, const struct args *a,
		    const struct llmcap_fleet *rows)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	if (f) {
		llmcap_scenario_write_yaml(sc, f, false);
		fclose(f);
	}
	struct llmcap_error err = {0};
	int rc = llmcap_h5_write_breakeven(a->out, a->force, sc, yaml, rows,
					   a->n_volumes * a->n_dtypes, &err);
	free(yaml);
	if (rc != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		return -1;
	}
	printf("\nresults written to %s\n", a->out);
	return 0;
}

/* Searches and prints, for a loaded scenario; the exit status. */
static int breakeven(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		     struct args *a, long jobs)
{
	if (llmcap_cli_needs_busiest_hour(sc, "breakeven") != 0)
		return 2;
	if (!a->n_dtypes)
		a->n_dtypes = llmcap_breakeven_default_dtypes(sc, cat, a->dtypes);
	size_t n = a->n_volumes * a->n_dtypes;
	struct llmcap_fleet *rows = calloc(n, sizeof *rows);
	if (!rows) {
		fprintf(stderr, "llmcap: out of memory\n");
		return 1;
	}
	if (jobs > (long)n)
		jobs = (long)n;
	fprintf(stderr, "llmcap: searching %zu fleets (%zu volumes x %zu precisions) on %ld threads\n",
		n, a->n_volumes, a->n_dtypes, jobs);
	struct llmcap_breakeven_spec spec = {.volumes = a->volumes, .n_volumes = a->n_volumes,
					     .dtypes = a->dtypes, .n_dtypes = a->n_dtypes,
					     .threads = jobs};
	struct llmcap_error err = {0};
	int rc = 0;
	if (llmcap_breakeven_search(sc, cat, &spec, rows, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		rc = 1;
	} else {
		print_table(sc, a, rows);
		if (a->out && write_h5(sc, a, rows) != 0)
			rc = 1;
	}
	free(rows);
	return rc;
}

static int breakeven_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct args a = {.volumes = {0.5e9, 1e9, 2.7e9, 5e9, 7.5e9, 10e9, 20e9, 50e9}, .n_volumes = 8};
	struct llmcap_cli_common c = {0};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &c, breakeven_option, &a);
	if (rc < 0 && a.out && !a.force && access(a.out, F_OK) == 0) {
		fprintf(stderr, "llmcap: %s: exists; not overwritten (use --force, or another path)\n",
			a.out);
		rc = 2;
	}
	struct llmcap_catalog *cat = rc < 0 ? malloc(sizeof *cat) : NULL;
	struct llmcap_scenario *sc = rc < 0 ? malloc(sizeof *sc) : NULL;
	if (rc < 0 && (!cat || !sc)) {
		fprintf(stderr, "llmcap: out of memory\n");
		rc = 2;
	}
	if (rc < 0 && llmcap_cli_load(cat, sc, c.file, c.sets, c.n_sets) != 0)
		rc = 2;
	if (rc < 0) {
		rc = breakeven(sc, cat, &a, c.jobs);
		llmcap_scenario_free(sc);
	}
	free(cat);
	free(sc);
	llmcap_cli_common_free(&c);
	return rc;
}

static const struct llmcap_opt breakeven_opts[] = {
	LLMCAP_CLI_OPT_SET,
	{O_VOLUMES, 0, "volumes", "V,...", "the monthly token volumes, comma separated, at most 64",
	 "0.5e9,1e9,2.7e9,5e9,7.5e9,10e9,20e9,50e9"},
	{O_DTYPES, 0, "dtypes", "D,...",
	 "the precisions of the largest model: bf16, fp16, fp8, int4-awq, comma separated",
	 "the scenario's, fp8 and int4-awq"},
	LLMCAP_CLI_OPT_JOBS("planning fleets"),
	{O_OUTPUT, 'o', "output", "FILE.h5", "write the table as HDF5", "none"},
	{O_FORCE, 0, "force", NULL, "overwrite an existing output file", NULL},
};

const struct llmcap_cmd llmcap_cli_breakeven = {
	.name = "breakeven",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--volumes V,...] [--dtypes D,...] [--jobs N] "
		    "[-o FILE.h5] [--force]",
	.summary = "the smallest fleet meeting every SLO in the busiest hour for each monthly token "
		   "volume and precision of the largest model, its TCO vs the API, the break-even",
	.opts = breakeven_opts,
	.n_opts = sizeof breakeven_opts / sizeof *breakeven_opts,
	.run = breakeven_main,
};

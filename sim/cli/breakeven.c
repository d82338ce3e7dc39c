/* `llmcap breakeven`: for a range of monthly volumes and precisions of the largest model, the
 * smallest fleet that meets every SLO in the busiest hour, its TCO against the API, and the
 * volume where they cross. The search is the study's (llmcap_breakeven_search); this file
 * reads the arguments and prints the table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/breakeven.h"
#include "llmcap/output.h"

#include "cli.h"

enum { O_VOLUMES = 1, O_DTYPES, O_OUTPUT, O_FORCE, O_JSON };

struct args {
	const char *out;
	bool force, json;
	double volumes[LLMCAP_BREAKEVEN_MAX_VOLUMES];
	size_t n_volumes;
	int dtypes[LLMCAP_BREAKEVEN_MAX_DTYPES];
	size_t n_dtypes;
};

/* Below this, a volume without a suffix is refused: "5" is surely 5B, not 5 tokens a month. */
#define SMALLEST_BARE_VOLUME 1e6

int llmcap_cli_parse_volumes(const char *s, double *out, size_t max, size_t *n)
{
	*n = 0;
	char buf[1024], *save = NULL;
	if (strlen(s) >= sizeof buf) { /* cut, "2500000000" would read as 25000000 */
		fprintf(stderr, "llmcap: --volumes: the list is longer than %zu characters\n",
			sizeof buf - 1);
		return -1;
	}
	snprintf(buf, sizeof buf, "%s", s);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		double v;
		bool suffixed;
		if (*n == max || llmcap_parse_count(tok, &v, &suffixed) != 0 || !(v > 0)) {
			fprintf(stderr, "llmcap: --volumes '%s': expected tokens per month, comma "
					"separated, at most %zu, e.g. 500M,2.7B,7.5B or 1e9,2.7e9\n", s, max);
			return -1;
		}
		if (!suffixed && v < SMALLEST_BARE_VOLUME) {
			fprintf(stderr, "llmcap: --volumes: '%s' would be %s tokens a month; give a suffix "
					"(%sB for billions, %sM for millions) or the whole number (e.g. %se9)\n",
				tok, tok, tok, tok, tok);
			return -1;
		}
		out[(*n)++] = v;
	}
	return *n ? 0 : -1;
}

int llmcap_cli_parse_dtypes(const char *s, int *dtypes, size_t max, size_t *n_dtypes)
{
	char buf[256], *save = NULL;
	if (strlen(s) >= sizeof buf) {
		fprintf(stderr, "llmcap: --dtypes: the list is longer than %zu characters\n",
			sizeof buf - 1);
		return -1;
	}
	snprintf(buf, sizeof buf, "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int d = -1;
		for (int k = 0; k <= LLMCAP_DTYPE_INT4_AWQ; k++)
			if (!strcmp(t, llmcap_dtype_name((enum llmcap_dtype)k)))
				d = k;
		if (d < 0 || *n_dtypes == max) {
			fprintf(stderr, "llmcap: --dtypes: '%s' is not one of bf16, fp16, fp8, int4-awq\n", t);
			return -1;
		}
		dtypes[(*n_dtypes)++] = d;
	}
	return 0;
}

int llmcap_cli_parse_gpus(const char *s, struct llmcap_cli_gpus *g)
{
	char *save = NULL;
	g->n = 0;
	g->per_pool = false;
	if (strlen(s) >= sizeof g->buf) {
		fprintf(stderr, "llmcap: --gpus: the list is longer than %zu characters\n",
			sizeof g->buf - 1);
		return -1;
	}
	snprintf(g->buf, sizeof g->buf, "%s", s);
	for (char *t = strtok_r(g->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "per-pool")) { /* each pool's GPU chosen (issue 21) */
			g->per_pool = true;
			continue;
		}
		if (g->n == LLMCAP_DECIDE_MAX_GPUS) {
			fprintf(stderr, "llmcap: --gpus: at most %d GPUs\n", LLMCAP_DECIDE_MAX_GPUS);
			return -1;
		}
		g->names[g->n++] = t;
	}
	return 0;
}

static int breakeven_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	switch (id) {
	case O_VOLUMES:
		return llmcap_cli_parse_volumes(p->value, a->volumes, LLMCAP_BREAKEVEN_MAX_VOLUMES, &a->n_volumes);
	case O_JSON:
		a->json = true;
		return 0;
	case O_DTYPES:
		return llmcap_cli_parse_dtypes(p->value, a->dtypes, LLMCAP_BREAKEVEN_MAX_DTYPES,
					       &a->n_dtypes);
	case O_OUTPUT:
		a->out = p->value;
		return 0;
	case O_FORCE:
		a->force = true;
		return 0;
	}
	return -1;
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
	printf(" %5s %7s %13s %13s %9s %s\n", "GPUs", "servers", "self-hosted", "API", "$/1M own",
	       "cheaper");
	for (size_t i = 0; i < a->n_volumes * a->n_dtypes; i++) {
		const struct llmcap_fleet *r = &rows[i];
		char own[32], api[32], vol[32];
		llmcap_format_count(r->tokens_per_month, vol, sizeof vol);
		llmcap_format_usd(r->cost.self_total, own, sizeof own);
		llmcap_format_usd(r->cost.api_total, api, sizeof api);
		printf("  %10s   %-9s", vol, llmcap_dtype_name((enum llmcap_dtype)r->dtype));
		for (size_t p = 0; p < sc->n_pools; p++)
			printf(" %10lld", (long long)r->replicas[p]);
		if (!r->feasible)
			printf("  no fleet within %d replicas per pool\n", LLMCAP_PLAN_MAX_REPLICAS);
		else
			printf(" %5lld %7lld %13s %13s %9.3f %s\n", (long long)r->gpus,
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

/* The table as JSON (--json): a row per (precision, volume), then the crossings. */
static void print_json(const struct llmcap_scenario *sc, const struct args *a,
		       const struct llmcap_fleet *rows)
{
	printf("{\"command\": \"breakeven\", \"scenario\": ");
	llmcap_cli_json_str(stdout, sc->name);
	printf(", \"gpu\": ");
	llmcap_cli_json_str(stdout, sc->hardware.gpu);
	printf(", \"gpus_per_server\": %lld, \"horizon_years\": ",
	       (long long)sc->hardware.gpus_per_server);
	llmcap_cli_json_num(stdout, sc->cost.horizon_years);
	printf(",\n \"rows\": [");
	for (size_t i = 0; i < a->n_volumes * a->n_dtypes; i++) {
		const struct llmcap_fleet *r = &rows[i];
		printf("%s{\"tokens_per_month\": ", i ? ",\n  " : "\n  ");
		llmcap_cli_json_num(stdout, r->tokens_per_month);
		printf(", \"dtype\": \"%s\", \"feasible\": %s, \"replicas\": {",
		       llmcap_dtype_name((enum llmcap_dtype)r->dtype), r->feasible ? "true" : "false");
		for (size_t p = 0; p < sc->n_pools; p++) {
			printf("%s", p ? ", " : "");
			llmcap_cli_json_str(stdout, sc->pools[p].name);
			printf(": %lld", (long long)r->replicas[p]);
		}
		printf("}, \"gpus\": %lld, \"servers\": %lld, \"self_hosted_total\": ",
		       (long long)r->gpus, (long long)r->servers);
		llmcap_cli_json_num(stdout, r->feasible ? r->cost.self_total : NAN);
		printf(", \"api_total\": ");
		llmcap_cli_json_num(stdout, r->cost.api_total);
		printf(", \"self_per_1m_served\": ");
		llmcap_cli_json_num(stdout, r->feasible ? r->cost.self_per_1m_served : NAN);
		printf(", \"cheaper\": %s}", !r->feasible ? "null"
				: r->cost.self_total <= r->cost.api_total ? "\"self-hosted\"" : "\"api\"");
	}
	printf("],\n \"breakeven\": [");
	for (size_t d = 0; d < a->n_dtypes; d++) {
		printf("%s{\"dtype\": \"%s\", \"tokens_per_month\": ", d ? ", " : "",
		       llmcap_dtype_name((enum llmcap_dtype)a->dtypes[d]));
		llmcap_cli_json_num(stdout, llmcap_plan_breakeven(&rows[d * a->n_volumes], a->n_volumes));
		printf("}");
	}
	printf("]}\n");
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
	if (!a->json)
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
	struct llmcap_cli_progress prog;
	llmcap_cli_progress_init(&prog, "breakeven: fleets searched");
	struct llmcap_breakeven_spec spec = {.volumes = a->volumes, .n_volumes = a->n_volumes,
					     .dtypes = a->dtypes, .n_dtypes = a->n_dtypes,
					     .threads = jobs,
					     .progress = {.fn = llmcap_cli_progress_show, .user = &prog}};
	struct llmcap_error err = {0};
	int rc = 0;
	int src = llmcap_breakeven_search(sc, cat, &spec, rows, &err);
	llmcap_cli_progress_end(&prog);
	if (src != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg);
		rc = 1;
	} else {
		(a->json ? print_json : print_table)(sc, a, rows);
		if (a->out && write_h5(sc, a, rows) != 0)
			rc = 1;
	}
	free(rows);
	return rc;
}

static int breakeven_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	/* the help's default, "500M,1B,2.7B,5B,7.5B,10B,20B,50B" */
	struct args a = {.volumes = {0.5e9, 1e9, 2.7e9, 5e9, 7.5e9, 10e9, 20e9, 50e9}, .n_volumes = 8};
	struct llmcap_cli_common c = {0};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &c, breakeven_option, &a);
	if (rc < 0 && llmcap_cli_check_output(a.out, a.force) != 0)
		rc = 2;
	struct llmcap_catalog *cat = rc < 0 ? malloc(sizeof *cat) : NULL;
	struct llmcap_scenario *sc = rc < 0 ? malloc(sizeof *sc) : NULL;
	if (rc < 0 && (!cat || !sc)) {
		fprintf(stderr, "llmcap: out of memory\n");
		rc = 2;
	}
	if (rc < 0 && llmcap_cli_load(cat, sc, &c) != 0)
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
	LLMCAP_CLI_OPT_CATALOG,
	{O_VOLUMES, 0, "volumes", "V,...",
	 "the monthly token volumes, comma separated, at most 64, each with a suffix K, M, B or T, "
	 "e.g. 500M, 5B, 1.2T, or written in full, e.g. 5e9; a bare number under 1e6 such as 5 is "
	 "refused, not taken as 5 tokens", "500M,1B,2.7B,5B,7.5B,10B,20B,50B"},
	{O_DTYPES, 0, "dtypes", "D,...",
	 "the precisions of the largest model: bf16, fp16, fp8, int4-awq, comma separated",
	 "the scenario's, fp8 and int4-awq"},
	LLMCAP_CLI_OPT_JOBS("planning fleets"),
	{O_OUTPUT, 'o', "output", "FILE.h5", "also write the table as HDF5 (analysis/plot_breakeven.py)",
	 "none"},
	LLMCAP_CLI_OPT_FORCE(O_FORCE),
	{O_JSON, 0, "json", NULL, "print the table and the break-even volumes as JSON", NULL},
};

const struct llmcap_cmd llmcap_cli_breakeven = {
	.name = "breakeven",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--volumes V,...] [--dtypes D,...] [--jobs N] "
		    "[-o FILE.h5] [--force] [--json]",
	.summary = "the smallest fleet meeting every SLO in the busiest hour for each monthly token "
		   "volume and precision of the largest model, its TCO vs the API, the break-even",
	.opts = breakeven_opts,
	.n_opts = sizeof breakeven_opts / sizeof *breakeven_opts,
	.run = breakeven_main,
};

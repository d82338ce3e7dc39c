/* `llmcap breakeven`: for a range of monthly volumes and precisions of the largest model, the
 * smallest fleet that meets every SLO in the busiest hour, its TCO against the API, and the
 * volume where they cross. Points run in parallel threads (each simulation is independent and
 * the library keeps no global state); results do not depend on the thread count. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/output.h"
#include "llmcap/plan.h"

#include "cli.h"


enum { O_SET = 1, O_VOLUMES, O_DTYPES, O_JOBS, O_OUTPUT, O_FORCE };

struct job {
	const struct llmcap_scenario *sc;
	const struct llmcap_catalog *cat;
	struct llmcap_fleet *rows;
	struct llmcap_error *errs;
	int *rcs;
	const double *volumes;
	const int *dtypes;
	size_t n_volumes, n_dtypes;
};

/* One (precision, volume) point; each writes only its own slots. */
static void plan_point(void *ctx, size_t i)
{
	struct job *j = ctx;
	size_t d = i / j->n_volumes, v = i % j->n_volumes;
	j->rcs[i] = llmcap_plan_fleet(j->sc, j->cat, j->volumes[v], j->dtypes[d], &j->rows[i],
				      &j->errs[i]);
}

static int parse_list(const char *s, double *out, size_t max, size_t *n)
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
static int parse_dtypes(const char *s, int dtypes[8], size_t *n_dtypes)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		int d = -1;
		for (int k = 0; k <= LLMCAP_DTYPE_INT4_AWQ; k++)
			if (!strcmp(t, llmcap_dtype_name((enum llmcap_dtype)k)))
				d = k;
		if (d < 0 || *n_dtypes == 8) {
			fprintf(stderr, "llmcap: --dtypes: '%s' is not one of bf16, fp16, fp8, int4-awq\n", t);
			return -1;
		}
		dtypes[(*n_dtypes)++] = d;
	}
	return 0;
}

static void usd(double v, char *buf, size_t n)
{
	snprintf(buf, n, "$%.0fk", v / 1e3);
}

static int breakeven_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	const char *file = NULL, *out = NULL;
	const char **sets = calloc((size_t)argc, sizeof *sets);
	size_t n_sets = 0;
	double volumes[64] = {0.5e9, 1e9, 2.7e9, 5e9, 7.5e9, 10e9, 20e9, 50e9};
	size_t n_volumes = 8;
	int dtypes[8];
	size_t n_dtypes = 0;
	bool force = false, dtypes_given = false;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	int rc = 2;
	struct llmcap_args ap;
	llmcap_args_init(&ap, cmd, argc, argv, 2);
	for (int id; sets && (id = llmcap_args_next(&ap)) != LLMCAP_ARGS_END;) {
		const char *v = ap.value;
		if (id == LLMCAP_ARGS_STOP) {
			rc = ap.status;
			goto out;
		} else if (id == O_SET) {
			sets[n_sets++] = v;
		} else if (id == O_VOLUMES) {
			if (parse_list(v, volumes, 64, &n_volumes) != 0) {
				fprintf(stderr, "llmcap: --volumes '%s': expected tokens per month, comma "
						"separated, e.g. 1e9,2.7e9,7.5e9\n", v);
				goto out;
			}
		} else if (id == O_DTYPES) {
			dtypes_given = true;
			if (parse_dtypes(v, dtypes, &n_dtypes) != 0)
				goto out;
		} else if (id == O_JOBS) {
			if (llmcap_cli_long(v, 1, LONG_MAX, &jobs) != 0) {
				fprintf(stderr, "llmcap: --jobs '%s': expected a positive integer\n", v);
				goto out;
			}
		} else if (id == O_OUTPUT) {
			out = v;
		} else if (id == O_FORCE) {
			force = true;
		} else if (!file) {
			file = v;
		} else {
			fprintf(stderr, "llmcap: only one scenario file may be given\n");
			goto out;
		}
	}
	if (!sets) {
		fprintf(stderr, "llmcap: out of memory\n");
		goto out;
	}
	if (out && !force && access(out, F_OK) == 0) {
		fprintf(stderr, "llmcap: %s: exists; not overwritten (use --force, or another path)\n", out);
		goto out;
	}
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	if (!cat || !sc || llmcap_catalog_load_builtin(cat, &err) != 0 ||
	    llmcap_scenario_load(sc, file, sets, n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", cat && sc ? err.msg : "out of memory");
		free(cat);
		free(sc);
		goto out;
	}
	if (llmcap_cli_needs_busiest_hour(sc, "breakeven") != 0) {
		llmcap_scenario_free(sc);
		free(cat);
		free(sc);
		goto out;
	}
	if (!dtypes_given) {
		/* the scenario's precision of the largest model, and the two that shrink it */
		int own = -1;
		double biggest = 0;
		for (size_t p = 0; p < sc->n_pools; p++) {
			struct llmcap_param_count pc;
			llmcap_model_params(llmcap_catalog_model(cat, sc->pools[p].model), &pc);
			if (pc.total > biggest) {
				biggest = pc.total;
				own = sc->pools[p].dtype;
			}
		}
		dtypes[n_dtypes++] = own;
		if (own != LLMCAP_DTYPE_FP8)
			dtypes[n_dtypes++] = LLMCAP_DTYPE_FP8;
		if (own != LLMCAP_DTYPE_INT4_AWQ)
			dtypes[n_dtypes++] = LLMCAP_DTYPE_INT4_AWQ;
	}
	size_t n = n_volumes * n_dtypes;
	struct job j = {.sc = sc, .cat = cat, .volumes = volumes, .dtypes = dtypes,
			.n_volumes = n_volumes, .n_dtypes = n_dtypes};
	j.rows = calloc(n, sizeof *j.rows);
	j.errs = calloc(n, sizeof *j.errs);
	j.rcs = calloc(n, sizeof *j.rcs);
	if (jobs > (long)n)
		jobs = (long)n;
	if (!j.rows || !j.errs || !j.rcs) {
		fprintf(stderr, "llmcap: out of memory\n");
	} else {
		fprintf(stderr, "llmcap: searching %zu fleets (%zu volumes x %zu precisions) on %ld threads\n",
			n, n_volumes, n_dtypes, jobs);
		llmcap_parallel_for(n, jobs, plan_point, &j);
		rc = 0;
		for (size_t i = 0; i < n; i++)
			if (j.rcs[i]) {
				fprintf(stderr, "llmcap: %s\n", j.errs[i].msg);
				rc = 1;
			}
	}
	if (rc == 0) {
		printf("llmcap breakeven: %s, smallest fleet of %lld-GPU %s servers meeting every SLO in the "
		       "busiest hour\n\n",
		       sc->name, (long long)sc->hardware.gpus_per_server, sc->hardware.gpu);
		printf("  %-12s %-9s", "tokens/month", "dtype");
		for (size_t p = 0; p < sc->n_pools; p++)
			printf(" %10s", sc->pools[p].name);
		printf(" %5s %7s %13s %10s %9s %s\n", "GPUs", "servers", "self-hosted", "API", "$/1M own",
		       "cheaper");
		for (size_t i = 0; i < n; i++) {
			const struct llmcap_fleet *r = &j.rows[i];
			char a[32], b[32];
			usd(r->cost.self_total, a, sizeof a);
			usd(r->cost.api_total, b, sizeof b);
			printf("  %9.2fB   %-9s", r->tokens_per_month / 1e9,
			       llmcap_dtype_name((enum llmcap_dtype)r->dtype));
			for (size_t p = 0; p < sc->n_pools; p++)
				printf(" %10lld", (long long)r->replicas[p]);
			if (!r->feasible)
				printf("  no fleet within %d replicas per pool\n", LLMCAP_PLAN_MAX_REPLICAS);
			else
				printf(" %5lld %7lld %13s %10s %9.3f %s\n", (long long)r->gpus,
				       (long long)r->servers, a, b, r->cost.self_per_1m_served,
				       r->cost.self_total <= r->cost.api_total ? "owning" : "API");
		}
		printf("\n  (replicas per pool; TCO over %g years; API at the scenario's prices)\n\n",
		       sc->cost.horizon_years);
		for (size_t d = 0; d < n_dtypes; d++) {
			double be = llmcap_plan_breakeven(&j.rows[d * n_volumes], n_volumes);
			const char *name = llmcap_dtype_name((enum llmcap_dtype)dtypes[d]);
			if (isnan(be))
				printf("  break-even with the largest model in %-8s: none up to %.1fB tokens/month "
				       "(the API stays cheaper)\n", name, volumes[n_volumes - 1] / 1e9);
			else
				printf("  break-even with the largest model in %-8s: %.2fB tokens/month\n", name,
				       be / 1e9);
		}
		printf("  (the guide claims ~7.5B tokens/month, halved by FP8 or INT4 weights)\n");
		if (out) {
			char *yaml = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&yaml, &len);
			if (f) {
				llmcap_scenario_write_yaml(sc, f, false);
				fclose(f);
			}
			if (llmcap_h5_write_breakeven(out, force, sc, yaml, j.rows, n, &err) != 0) {
				fprintf(stderr, "llmcap: %s\n", err.msg);
				rc = 1;
			} else {
				printf("\nresults written to %s\n", out);
			}
			free(yaml);
		}
	}
	free(j.rows);
	free(j.errs);
	free(j.rcs);
	llmcap_scenario_free(sc);
	free(cat);
	free(sc);
out:
	free(sets);
	return rc;
}

static const struct llmcap_opt breakeven_opts[] = {
	{O_SET, 's', "set", "KEY=VALUE", "override a scenario field; repeatable", NULL},
	{O_VOLUMES, 0, "volumes", "V,...", "the monthly token volumes, comma separated, at most 64",
	 "0.5e9,1e9,2.7e9,5e9,7.5e9,10e9,20e9,50e9"},
	{O_DTYPES, 0, "dtypes", "D,...",
	 "the precisions of the largest model: bf16, fp16, fp8, int4-awq, comma separated",
	 "the scenario's, fp8 and int4-awq"},
	{O_JOBS, 0, "jobs", "N", "threads planning fleets at once", "the number of CPUs"},
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

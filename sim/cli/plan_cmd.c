/* `llmcap plan`: the smallest fleet for the scenario's own volume, per candidate configuration,
 * ranked by cost, with what limits each pool. `llmcap maxrate`: the highest mean arrival rate at
 * which every class meets its SLOs in the busiest hour, bisected per seed. Candidates and seeds
 * run in parallel threads; results are stored by index, so they never depend on the thread count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/plan.h"
#include "llmcap/sweep.h"

int llmcap_cmd_plan(int argc, char **argv);
int llmcap_cmd_maxrate(int argc, char **argv);

/* What limits a pool at its smallest fleet. The count is minimal, so one replica fewer misses an
 * SLO: whichever resource is nearest its end is what forced the count. KV first (preemptions or
 * a nearly full cache mean capacity, not speed, ran out); then, for a busy pool, whether its steps
 * were nearer the compute or the HBM roofline; a pool that meets its SLOs only with idle time to
 * spare is limited by queueing (the tail of the wait, or the latency of a single step). */
static const char *pool_limit(const struct llmcap_util_summary *u, const struct llmcap_pool_cfg *p)
{
	if (u->preemptions > 0 || u->kv_peak >= 0.95)
		return "KV capacity";
	/* only the roofline model knows which roof a step is under */
	if (u->busy >= 0.6 && p->perf_model != LLMCAP_PERF_ROOFLINE)
		return "step time (busy)";
	if (u->busy >= 0.6)
		return u->hbm_fraction >= u->mfu ? "HBM bandwidth" : "compute";
	return "queueing";
}

struct candidate {
	int rc;
	struct llmcap_error err;
	struct llmcap_fleet fleet;
	struct llmcap_util_summary util[LLMCAP_MAX_POOLS];
};

struct plan_job {
	const struct llmcap_sweep *sw;
	const struct llmcap_catalog *cat;
	struct candidate *c;
};

static int plan_one(const struct llmcap_sweep *sw, size_t point, const struct llmcap_catalog *cat,
		    struct candidate *c)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(&c->err, LLMCAP_ENOMEM, "out of memory");
	int rc = llmcap_sweep_scenario(sw, point, cat, sc, &c->err);
	if (rc) {
		free(sc);
		return rc;
	}
	rc = llmcap_plan_fleet(sc, cat, NAN, -1, &c->fleet, &c->err);
	if (rc == 0 && c->fleet.feasible) {
		/* the answer once more, for the utilisation behind the limits */
		for (size_t p = 0; p < sc->n_pools; p++)
			sc->pools[p].replicas = c->fleet.replicas[p];
		sc->hardware.servers = c->fleet.servers;
		struct llmcap_results res;
		struct llmcap_summary sum;
		rc = llmcap_simulate(sc, cat, NULL, &res, &c->err);
		if (rc == 0) {
			if (llmcap_summarize(&res, &sum) == 0) {
				memcpy(c->util, sum.pool_util, sizeof c->util);
				llmcap_summary_free(&sum);
			} else {
				rc = llmcap_errorf(&c->err, LLMCAP_ENOMEM, "out of memory");
			}
			llmcap_results_free(&res);
		}
	}
	llmcap_scenario_free(sc);
	free(sc);
	return rc;
}

/* One candidate; an invalid one (--skip-invalid) is not planned: listed last, with its reason. */
static void plan_candidate(void *ctx, size_t i)
{
	struct plan_job *j = ctx;
	if (llmcap_sweep_point_valid(j->sw, i))
		j->c[i].rc = plan_one(j->sw, i, j->cat, &j->c[i]);
}

struct common_args {
	const char *file;
	const char **sets;
	size_t n_sets;
	struct llmcap_sweep_axis axes[LLMCAP_SWEEP_MAX_AXES];
	size_t n_axes;
	long jobs, seeds;
	double tolerance;
	bool skip_invalid;
};

/* Options shared by plan and maxrate; returns 1 when argv[*i] was one of them, -1 on error. */
static int common_option(int argc, char **argv, int *i, struct common_args *a, bool vary)
{
	const char *s = argv[*i];
	bool has = *i + 1 < argc;
	struct llmcap_error err = {0};
	char *end;
	if ((!strcmp(s, "--set") || !strcmp(s, "-s")) && has) {
		a->sets[a->n_sets++] = argv[++*i];
	} else if (vary && !strcmp(s, "--vary") && has) {
		if (a->n_axes == LLMCAP_SWEEP_MAX_AXES ||
		    llmcap_sweep_parse_axis(argv[++*i], &a->axes[a->n_axes], &err) != 0) {
			fprintf(stderr, "llmcap: %s\n", err.msg[0] ? err.msg : "too many --vary");
			return -1;
		}
		a->n_axes++;
	} else if (vary && !strcmp(s, "--skip-invalid")) {
		a->skip_invalid = true;
	} else if ((!strcmp(s, "--jobs") || (!vary && !strcmp(s, "--seeds"))) && has) {
		long v = strtol(argv[++*i], &end, 10);
		if (*end || v < 1 || v > 100000) {
			fprintf(stderr, "llmcap: %s '%s': expected a positive integer\n", s, argv[*i]);
			return -1;
		}
		*(!strcmp(s, "--jobs") ? &a->jobs : &a->seeds) = v;
	} else if (!vary && !strcmp(s, "--tolerance") && has) {
		double v = strtod(argv[++*i], &end);
		if (*end || !(v > 0 && v < 1)) {
			fprintf(stderr, "llmcap: --tolerance '%s': expected a share between 0 and 1\n",
				argv[*i]);
			return -1;
		}
		a->tolerance = v;
	} else if (s[0] == '-' && s[1]) {
		fprintf(stderr, "llmcap: unknown or incomplete option '%s' for %s\n", s, argv[1]);
		return -1;
	} else if (!a->file) {
		a->file = s;
	} else {
		fprintf(stderr, "llmcap: only one scenario file may be given\n");
		return -1;
	}
	return 1;
}

static int needs_busiest_hour(const struct llmcap_scenario *sc, const char *cmd)
{
	if (sc->horizon < LLMCAP_HOUR || sc->output.percentiles != LLMCAP_PERCENTILES_EXACT) {
		fprintf(stderr, "llmcap: %s judges SLOs in the busiest hour: it needs horizon >= 1h and "
				"output.percentiles: exact\n", cmd);
		return -1;
	}
	return 0;
}

int llmcap_cmd_plan(int argc, char **argv)
{
	struct common_args a = {.jobs = sysconf(_SC_NPROCESSORS_ONLN), .seeds = 1};
	a.sets = calloc((size_t)argc, sizeof *a.sets);
	int rc = 2;
	for (int i = 2; a.sets && i < argc; i++)
		if (common_option(argc, argv, &i, &a, true) < 0)
			goto out;
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_sweep sw;
	struct llmcap_error err = {0};
	/* with --skip-invalid the scenario as given need not fit: its candidates are checked
	 * (llmcap_sweep_init) */
	if (!a.sets || !cat || !sc || llmcap_catalog_load_builtin(cat, &err) != 0 ||
	    (a.skip_invalid ? llmcap_scenario_load_unchecked : llmcap_scenario_load)(
		    sc, a.file, a.sets, a.n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", cat && sc && a.sets ? err.msg : "out of memory");
		free(cat);
		free(sc);
		goto out;
	}
	llmcap_scenario_free(sc);
	/* the candidates are the --vary values alone: a scenario's sweep section is not read */
	struct llmcap_sweep_options opt = {.seeds = 1, .zip = 0, .batch_means = 0, .warmup = -1,
					   .timeseries = 0, .no_file_axes = true,
					   .skip_invalid = a.skip_invalid};
	int bad = needs_busiest_hour(sc, "plan") != 0;
	if (!bad) {
		bad = llmcap_sweep_init(&sw, a.file, a.sets, a.n_sets, a.axes, a.n_axes, &opt, cat,
					&err) != 0;
		a.n_axes = 0; /* taken by llmcap_sweep_init */
	}
	if (bad) {
		if (err.msg[0])
			fprintf(stderr, "llmcap: %s\n", err.msg);
		free(cat);
		free(sc);
		goto out;
	}
	size_t n = sw.n_points;
	struct plan_job j = {.sw = &sw, .cat = cat, .c = calloc(n, sizeof *j.c)};
	size_t *order = calloc(n, sizeof *order);
	rc = 1;
	if (!j.c || !order) {
		fprintf(stderr, "llmcap: out of memory\n");
		goto out_sw;
	}
	fprintf(stderr, "llmcap: planning %zu candidate%s on up to %ld threads\n", n - sw.n_invalid,
		n - sw.n_invalid == 1 ? "" : "s", a.jobs);
	if (sw.n_invalid)
		fprintf(stderr, "llmcap: %zu of %zu candidates skipped (--skip-invalid): their scenario is "
				"invalid (listed last, with the reason)\n", sw.n_invalid, n);
	llmcap_parallel_for(n, a.jobs, plan_candidate, &j);
	for (size_t i = 0; i < n; i++)
		if (j.c[i].rc) {
			fprintf(stderr, "llmcap: candidate %zu: %s\n", i, j.c[i].err.msg);
			goto out_sw;
		}
	/* rank: valid first, then feasible, then total cost, then GPUs, then the order given (a
	 * stable sort) */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0; k--) {
			const struct llmcap_fleet *x = &j.c[order[k - 1]].fleet, *y = &j.c[order[k]].fleet;
			bool xv = llmcap_sweep_point_valid(&sw, order[k - 1]),
			     yv = llmcap_sweep_point_valid(&sw, order[k]);
			bool swap = xv != yv ? yv
				    : x->feasible != y->feasible ? y->feasible
				    : x->cost.self_total != y->cost.self_total
					? y->cost.self_total < x->cost.self_total
					: y->gpus < x->gpus;
			if (!swap)
				break;
			size_t t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	printf("llmcap plan: %s, smallest fleet of %lld-GPU %s servers meeting every SLO in the busiest "
	       "hour, %.2fB tokens/month\n\n", sc->name, (long long)sc->hardware.gpus_per_server,
	       sc->hardware.gpu, j.c[order[0]].fleet.tokens_per_month / 1e9);
	for (size_t r = 0; r < n; r++) {
		size_t i = order[r];
		const struct candidate *c = &j.c[i];
		printf("%s#%zu", r == 0 ? "best " : "     ", r + 1);
		for (size_t ax = 0; ax < sw.n_axes; ax++)
			printf(" %s=%s", sw.axes[ax].key,
			       sw.axes[ax].values[llmcap_sweep_value_index(&sw, i, ax)]);
		if (!sw.n_axes)
			printf(" (the scenario as given)");
		if (!llmcap_sweep_point_valid(&sw, i)) {
			printf(": not runnable: %s\n", sw.point_error[i]);
			continue;
		}
		if (!c->fleet.feasible) {
			printf(": no fleet within %d replicas per pool\n", LLMCAP_PLAN_MAX_REPLICAS);
			continue;
		}
		printf(": %lld GPUs on %lld server%s, self-hosted $%.0f over %g years ($%.3f per 1M tokens "
		       "served), API $%.0f\n", (long long)c->fleet.gpus, (long long)c->fleet.servers,
		       c->fleet.servers == 1 ? "" : "s", c->fleet.cost.self_total, sc->cost.horizon_years,
		       c->fleet.cost.self_per_1m_served, c->fleet.cost.api_total);
		for (size_t p = 0; p < sc->n_pools; p++) {
			const struct llmcap_util_summary *u = &c->util[p];
			printf("      %-12s %lld replica%s  busy %.2f  KV mean %.2f peak %.2f  preemptions %lld"
			       "  MFU %.2f  HBM %.2f  limited by %s\n", sc->pools[p].name,
			       (long long)c->fleet.replicas[p], c->fleet.replicas[p] == 1 ? " " : "s",
			       u->busy, u->kv_mean, u->kv_peak, (long long)u->preemptions, u->mfu,
			       u->hbm_fraction, pool_limit(u, &sc->pools[p]));
		}
	}
	printf("\n  (limits: KV capacity = preemptions or >= 95%% of KV blocks in use; compute/HBM "
	       "bandwidth = busy >= 60%%, by the nearer roofline (step time with the linear and table models); queueing = SLOs met only with idle "
	       "time to spare)\n");
	rc = 0;
out_sw:
	free(j.c);
	free(order);
	llmcap_sweep_free(&sw);
	free(cat);
	free(sc);
out:
	for (size_t i = 0; i < a.n_axes; i++)
		free(a.axes[i].values);
	free(a.sets);
	return rc;
}

/* ---- maxrate ---- */

struct rate_job {
	const struct llmcap_scenario *base;
	const struct llmcap_catalog *cat;
	double tolerance;
	double *best;      /* per seed: highest rate that passed */
	int *sims;
	int *rcs;
	struct llmcap_error *errs;
	size_t n;
};

/* Whether every class met its busiest-hour SLOs at this mean rate (requests/s). */
static int slo_holds(struct llmcap_scenario *sc, const struct llmcap_catalog *cat, double rate,
		     bool *ok, struct llmcap_error *err)
{
	sc->workload.rate = rate;
	sc->workload.tokens_per_month = NAN;
	int rc = llmcap_scenario_check(sc, cat, err);
	struct llmcap_results res;
	if (rc == 0)
		rc = llmcap_simulate(sc, cat, NULL, &res, err);
	if (rc)
		return rc;
	struct llmcap_summary sum;
	if (llmcap_summarize(&res, &sum) != 0) {
		llmcap_results_free(&res);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	*ok = sum.peak.all_slo_met;
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	return 0;
}

/* Brackets by doubling or halving from the scenario's rate, then bisects until the bracket is
 * within the tolerance (relative); the answer is the bracket's passing end. */
static int max_rate(const struct rate_job *j, size_t k)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(&j->errs[k], LLMCAP_ENOMEM, "out of memory");
	*sc = *j->base; /* shallow: reads only what the base owns */
	sc->seed = j->base->seed + k;
	struct llmcap_error *err = &j->errs[k];
	double r0 = llmcap_scenario_mean_rate(sc), lo = 0, hi = 0;
	bool ok;
	int rc = slo_holds(sc, j->cat, r0, &ok, err);
	j->sims[k]++;
	if (rc == 0 && ok) {
		lo = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, j->cat, lo * 2, &ok, err);
			j->sims[k]++;
			if (!ok) {
				hi = lo * 2;
				break;
			}
			lo *= 2;
		}
	} else if (rc == 0) {
		hi = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, j->cat, hi / 2, &ok, err);
			j->sims[k]++;
			if (ok) {
				lo = hi / 2;
				break;
			}
			hi /= 2;
		}
	}
	while (rc == 0 && lo > 0 && hi > 0 && hi - lo > j->tolerance * lo) {
		double mid = 0.5 * (lo + hi);
		rc = slo_holds(sc, j->cat, mid, &ok, err);
		j->sims[k]++;
		*(ok ? &lo : &hi) = mid;
	}
	j->best[k] = hi > 0 ? lo : INFINITY; /* never failed within 2^40 x the rate */
	free(sc);
	return rc;
}

static void rate_seed(void *ctx, size_t k)
{
	struct rate_job *j = ctx;
	j->rcs[k] = max_rate(j, k);
}

int llmcap_cmd_maxrate(int argc, char **argv)
{
	struct common_args a = {.jobs = sysconf(_SC_NPROCESSORS_ONLN), .seeds = 5, .tolerance = 0.02};
	a.sets = calloc((size_t)argc, sizeof *a.sets);
	int rc = 2;
	for (int i = 2; a.sets && i < argc; i++)
		if (common_option(argc, argv, &i, &a, false) < 0)
			goto out;
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	if (!a.sets || !cat || !sc || llmcap_catalog_load_builtin(cat, &err) != 0 ||
	    llmcap_scenario_load(sc, a.file, a.sets, a.n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", cat && sc && a.sets ? err.msg : "out of memory");
		free(cat);
		free(sc);
		goto out;
	}
	if (needs_busiest_hour(sc, "maxrate") != 0) {
		llmcap_scenario_free(sc);
		free(cat);
		free(sc);
		goto out;
	}
	size_t n = (size_t)a.seeds;
	struct rate_job j = {.base = sc, .cat = cat, .tolerance = a.tolerance, .n = n};
	j.best = calloc(n, sizeof *j.best);
	j.sims = calloc(n, sizeof *j.sims);
	j.rcs = calloc(n, sizeof *j.rcs);
	j.errs = calloc(n, sizeof *j.errs);
	rc = 1;
	if (j.best && j.sims && j.rcs && j.errs) {
		fprintf(stderr, "llmcap: bisecting the rate for %zu seeds on up to %ld threads\n", n, a.jobs);
		llmcap_parallel_for(n, a.jobs, rate_seed, &j);
		rc = 0;
		for (size_t k = 0; k < n; k++)
			if (j.rcs[k]) {
				fprintf(stderr, "llmcap: seed %llu: %s\n",
					(unsigned long long)(sc->seed + k), j.errs[k].msg);
				rc = 1;
			}
	} else {
		fprintf(stderr, "llmcap: out of memory\n");
	}
	if (rc == 0) {
		printf("llmcap maxrate: %s, highest mean rate at which every class meets its SLOs in the "
		       "busiest hour (diurnal shape kept; bisected to %.1f%%)\n\n", sc->name,
		       100 * a.tolerance);
		int sims = 0;
		for (size_t k = 0; k < n; k++) {
			printf("  seed %-6llu %10.4f requests/s  (%8.0f/day)  %d simulations\n",
			       (unsigned long long)(sc->seed + k), j.best[k], j.best[k] * 86400, j.sims[k]);
			sims += j.sims[k];
		}
		double mean, half;
		size_t used;
		llmcap_mean_ci95(j.best, n, 1, &mean, &half, &used);
		if (isnan(half))
			printf("\n  max rate %.4f requests/s (%.0f/day); one seed gives no confidence "
			       "interval (--seeds N)\n", mean, mean * 86400);
		else
			printf("\n  max rate %.4f +- %.4f requests/s (%.0f +- %.0f/day), 95%% confidence over "
			       "%zu seeds (Student t); %d simulations\n", mean, half, mean * 86400,
			       half * 86400, used, sims);
	}
	free(j.best);
	free(j.sims);
	free(j.rcs);
	free(j.errs);
	llmcap_scenario_free(sc);
	free(cat);
	free(sc);
out:
	for (size_t i = 0; i < a.n_axes; i++)
		free(a.axes[i].values);
	free(a.sets);
	return rc;
}

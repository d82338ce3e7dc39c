/* `llmcap plan`: the smallest fleet for the scenario's own volume, per candidate configuration,
 * ranked by cost, with what limits each pool. Candidates run in parallel threads; results are
 * stored by index, so they never depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/plan.h"
#include "llmcap/sweep.h"

#include "cli.h"


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

enum { O_VARY = 1, O_SKIP_INVALID };

struct args {
	struct llmcap_sweep_axis axes[LLMCAP_SWEEP_MAX_AXES];
	size_t n_axes;
	bool skip_invalid;
};

/* --vary or --skip-invalid; -1 (printed) when it is not valid. */
static int plan_option(const struct llmcap_args *p, int id, void *ctx)
{
	struct args *a = ctx;
	struct llmcap_error err = {0};
	if (id == O_SKIP_INVALID) {
		a->skip_invalid = true;
		return 0;
	}
	if (a->n_axes == LLMCAP_SWEEP_MAX_AXES ||
	    llmcap_sweep_parse_axis(p->value, &a->axes[a->n_axes], &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", err.msg[0] ? err.msg : "too many --vary");
		return -1;
	}
	a->n_axes++;
	return 0;
}

static int plan_main(const struct llmcap_cmd *cmd, int argc, char **argv)
{
	struct args a = {0};
	struct llmcap_cli_common common = {0};
	int rc = llmcap_cli_parse(cmd, argc, argv, 2, &common, plan_option, &a);
	if (rc >= 0)
		goto out;
	rc = 2;
	struct llmcap_catalog *cat = malloc(sizeof *cat);
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_sweep sw;
	struct llmcap_error err = {0};
	/* with --skip-invalid the scenario as given need not fit: its candidates are checked
	 * (llmcap_sweep_init) */
	if (!cat || !sc || llmcap_catalog_load_builtin(cat, &err) != 0 ||
	    (a.skip_invalid ? llmcap_scenario_load_unchecked : llmcap_scenario_load)(
		    sc, common.file, common.sets, common.n_sets, cat, &err) != 0) {
		fprintf(stderr, "llmcap: %s\n", cat && sc ? err.msg : "out of memory");
		free(cat);
		free(sc);
		goto out;
	}
	llmcap_scenario_free(sc);
	/* the candidates are the --vary values alone: a scenario's sweep section is not read */
	struct llmcap_sweep_options opt = {.seeds = 1, .zip = 0, .batch_means = 0, .warmup = -1,
					   .timeseries = 0, .no_file_axes = true,
					   .skip_invalid = a.skip_invalid};
	int bad = llmcap_cli_needs_busiest_hour(sc, "plan") != 0;
	if (!bad) {
		bad = llmcap_sweep_init(&sw, common.file, common.sets, common.n_sets, a.axes, a.n_axes, &opt, cat,
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
		n - sw.n_invalid == 1 ? "" : "s", common.jobs);
	if (sw.n_invalid)
		fprintf(stderr, "llmcap: %zu of %zu candidates skipped (--skip-invalid): their scenario is "
				"invalid (listed last, with the reason)\n", sw.n_invalid, n);
	llmcap_parallel_for(n, common.jobs, plan_candidate, &j);
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
	llmcap_cli_common_free(&common);
	return rc;
}


static const struct llmcap_opt plan_opts[] = {
	LLMCAP_CLI_OPT_SET,
	{O_VARY, 0, "vary", "KEY=LIST",
	 "a candidate axis (e.g. pools.reasoning.dtype=bf16,fp8); repeatable: every combination is "
	 "a candidate", "none: the scenario as given"},
	LLMCAP_CLI_OPT_JOBS("planning candidates"),
	{O_SKIP_INVALID, 0, "skip-invalid", NULL,
	 "plan the valid candidates and list the invalid ones last, with the reason", NULL},
};

const struct llmcap_cmd llmcap_cli_plan = {
	.name = "plan",
	.synopsis = "[FILE] [--set KEY=VALUE]... [--vary KEY=LIST]... [--jobs N] [--skip-invalid]",
	.summary = "the smallest fleet meeting every SLO in the busiest hour, per candidate (e.g. "
		   "pools.reasoning.dtype=bf16,fp8), ranked by cost, with what limits each pool",
	.opts = plan_opts,
	.n_opts = sizeof plan_opts / sizeof *plan_opts,
	.run = plan_main,
};

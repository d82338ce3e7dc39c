/* Own and rent with each pool on its own GPU type (issue 21): every catalog GPU that holds a
 * pool's model at its precision is a candidate for that pool; each candidate GPU's smallest
 * fleet is sized by simulation on every seed; the cheapest combination of per-pool choices per
 * option is priced, then run on every seed. See include/llmcap/decide.h ("Each pool on its own
 * GPU").
 *
 * Pools do not share replicas: a pool's latency depends on its own replicas and traffic only
 * (a class's requests go to its pool), so one capacity search per candidate GPU, with every
 * pool that fits it moved there, sizes every pool on that GPU at once. Pools that do not fit it
 * stay on a GPU that holds them, with no latency target, and their result of that search is not
 * used. */
#include "llmcap/decide.h"

#include "llmcap/plan.h"
#include "llmcap/scenario.h"
#include "llmcap/stats.h"
#include "llmcap/workload.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The GPUs per server pool p would have on `gpu`: the hardware block's on hardware.gpu, else
 * the pool's own (pools.NAME.gpus_per_server) or the hardware block's. */
static int64_t gps_on(const struct llmcap_scenario *sc, size_t p, const char *gpu)
{
	if (!strcmp(gpu, sc->hardware.gpu))
		return sc->hardware.gpus_per_server;
	return llmcap_pool_gpus_per_server(sc, p);
}

/* The smallest tensor-parallel size, from the pool's own up to 8 and one server, at which pool
 * p's model fits `g` (memory plan, heads, FP8 tensor cores); 0: none. */
static int64_t fit_tp(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat, size_t p,
		      const struct llmcap_gpu_spec *g)
{
	const struct llmcap_pool_cfg *pl = &sc->pools[p];
	const struct llmcap_model_spec *m = llmcap_catalog_model(cat, pl->model);
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(cat, pl->engine);
	if (!m || !e || (pl->dtype == LLMCAP_DTYPE_FP8 && g->fp8_tflops <= 0))
		return 0;
	int64_t gps = gps_on(sc, p, g->name);
	for (int64_t tp = pl->tensor_parallel_size; tp <= 8 && tp <= gps; tp *= 2) {
		if (m->num_attention_heads % tp)
			continue;
		struct llmcap_pool_cfg c = *pl;
		c.tensor_parallel_size = tp;
		struct llmcap_memory_plan plan;
		if (llmcap_memory_plan_engine(m, g, e, &c, &plan, NULL) == 0)
			return tp;
	}
	return 0;
}

/* A pool not under test in a search keeps its traffic but not its latency targets (only its
 * throughput is asked of it), so that it cannot stop the search of the others. */
static void relax(struct llmcap_scenario *sc, size_t p)
{
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		if (!strcmp(cl->pool[0] ? cl->pool : cl->name, sc->pools[p].name))
			cl->slo_ttft_p99 = cl->slo_tpot_p99 = LLMCAP_HOUR;
	}
}

/* Puts pool p on candidate k (its GPU and tensor-parallel size). */
static void place(struct llmcap_scenario *sc, const struct llmcap_pool_gpu_choice *o, size_t p,
		  size_t k)
{
	snprintf(sc->pools[p].gpu, sizeof sc->pools[p].gpu, "%s", o->gpus[k]);
	sc->pools[p].tensor_parallel_size = o->tp[p][k];
	if (!strcmp(o->gpus[k], sc->hardware.gpu))
		sc->pools[p].gpus_per_server = 0; /* the hardware block's servers */
}

/* The horizon's mean rate over the busiest-hour window's (llmcap_plan_window), from the
 * curves: what a busy share measured in the window is scaled by to be the horizon's mean. 1
 * where the search runs the whole horizon. */
static double window_to_mean(const struct llmcap_scenario *full)
{
	struct llmcap_scenario *win = malloc(sizeof *win);
	struct llmcap_profile *pf = malloc(sizeof *pf);
	struct llmcap_error err = {0};
	double k = 1;
	if (win && pf && llmcap_plan_window(full, win) &&
	    llmcap_profile_init(pf, &win->workload.diurnal, win->workload.start_day, &err) == 0) {
		double in = llmcap_profile_integral(pf, win->horizon) / ((double)win->horizon * 1e-9);
		k = in > 0 ? 1 / in : 1;
	}
	free(pf);
	free(win);
	return k;
}

/* The monthly cost of the fleet in `sc` (pools placed, replicas set), from the candidates'
 * searches: each pool's GPU-busy share as it was in its own GPU's search (seed 0, scaled by
 * `busy_scale` from the window to the horizon's mean). */
static void combo_cost(struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		       const struct llmcap_pool_gpu_choice *o, const size_t *pick, double busy_scale,
		       struct llmcap_cost *cost)
{
	int64_t rep[LLMCAP_MAX_POOLS];
	struct llmcap_usage use = {.horizon = sc->horizon,
				   .gpu = llmcap_catalog_gpu(cat, sc->hardware.gpu),
				   .n_pools = sc->n_pools};
	for (size_t p = 0; p < sc->n_pools; p++) {
		place(sc, o, p, pick[p]);
		rep[p] = sc->pools[p].replicas = o->replicas[p][pick[p]];
		double hours = (double)sc->horizon * 1e-9 / 3600.0;
		use.pools[p] = (struct llmcap_usage_pool){
			.gpu = llmcap_catalog_gpu(cat, o->gpus[pick[p]]),
			.busy_gpus = o->busy_gpus[p][pick[p]] * busy_scale,
			.gpus_per_replica = o->tp[p][pick[p]],
			.replica_hours = (double)rep[p] * hours,
			.baseline_replicas = (double)rep[p],
		};
		use.busy_gpus += use.pools[p].busy_gpus;
	}
	sc->hardware.servers = llmcap_plan_servers(sc, rep);
	llmcap_cost_compute(sc, &use, cost);
}

static const enum llmcap_option pick_option[LLMCAP_POOL_GPU_PICKS] = {
	LLMCAP_OPTION_OWN, LLMCAP_OPTION_RENT_ON_DEMAND, LLMCAP_OPTION_RENT_RESERVED,
	LLMCAP_OPTION_RENT_SPOT};

static double pick_monthly(const struct llmcap_cost *c, enum llmcap_option o)
{
	switch (o) {
	case LLMCAP_OPTION_RENT_ON_DEMAND: return c->rent_on_demand_monthly;
	case LLMCAP_OPTION_RENT_RESERVED: return c->rent_reserved_monthly;
	case LLMCAP_OPTION_RENT_SPOT: return c->rent_spot_monthly;
	default: return c->self_monthly;
	}
}

/* One confirmation run: `sc` (a fleet) judged on its busiest-hour window, stopped once an SLO
 * is lost (then slo_met false, costs NAN), priced as a month (as decide.c's evaluate). */
static int confirm(const struct llmcap_scenario *full, const struct llmcap_catalog *cat,
		   bool *slo_met, struct llmcap_cost *cost, struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	llmcap_plan_window(full, sc);
	struct llmcap_slo_stop stop;
	struct llmcap_results res;
	int rc = llmcap_scenario_check(sc, cat, err);
	if (rc == 0 && llmcap_slo_stop_init(&stop, sc) != 0)
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	if (rc == 0) {
		rc = llmcap_simulate(sc, cat, &stop.sink, &res, err);
		bool lost = stop.lost_class >= 0;
		llmcap_slo_stop_free(&stop);
		if (rc && lost) {
			*slo_met = false;
			memset(cost, 0, sizeof *cost);
			cost->self_monthly = cost->rent_on_demand_monthly = NAN;
			cost->rent_reserved_monthly = cost->rent_spot_monthly = NAN;
			cost->tokens_per_month = NAN;
			free(sc);
			return 0;
		}
	}
	if (rc) {
		free(sc);
		return rc;
	}
	struct llmcap_summary sum;
	if (llmcap_summarize(&res, &sum) != 0) {
		llmcap_results_free(&res);
		free(sc);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	*slo_met = sum.peak.all_slo_met;
	for (size_t c = 0; c < sum.n_classes; c++)
		*slo_met &= sum.classes[c].rejected == 0;
	llmcap_plan_month_cost(full, &res, cost);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	free(sc);
	return 0;
}

/* The searches and runs of one llmcap_decide_pool_gpus, for llmcap_study_parallel_for: each
 * item writes only its own slots. */
struct pg_study {
	const struct llmcap_scenario *base;
	const struct llmcap_catalog *cat;
	struct llmcap_pool_gpu_choice *out;
	bool bracket;
	size_t home[LLMCAP_MAX_POOLS];
	bool on[LLMCAP_POOL_GPUS_MAX][LLMCAP_MAX_POOLS]; /* pools searched on GPU k (seed 0's) */
	struct llmcap_fleet *fleets;                     /* [k * seeds + s] */
	size_t picked[LLMCAP_POOL_GPU_PICKS][LLMCAP_MAX_POOLS];
	bool run_pick[LLMCAP_POOL_GPU_PICKS];            /* a distinct fleet to confirm */
	bool slo[LLMCAP_POOL_GPU_PICKS][LLMCAP_DECIDE_MAX_SEEDS];
	struct llmcap_cost costs[LLMCAP_POOL_GPU_PICKS][LLMCAP_DECIDE_MAX_SEEDS];
	int *rcs;
	struct llmcap_error *errs;
};

/* base at seed s with every pool on GPU k that `on` says, the others at home, relaxed. */
static void on_gpu(const struct pg_study *st, size_t k, size_t s, const bool *on,
		   struct llmcap_scenario *sc)
{
	*sc = *st->base;
	sc->seed = st->base->seed + s;
	for (size_t p = 0; p < sc->n_pools; p++) {
		place(sc, st->out, p, on[p] ? k : st->home[p]);
		if (!on[p])
			relax(sc, p);
	}
}

/* The search of GPU k on seed s, from `start` (NULL: the bracket's, or 1). */
static int search(struct pg_study *st, size_t k, size_t s, const int64_t *start,
		  struct llmcap_fleet *f, struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	on_gpu(st, k, s, st->on[k], sc);
	int64_t st0[LLMCAP_MAX_POOLS], fails[LLMCAP_MAX_POOLS] = {0};
	bool bounded = false;
	int rc = 0;
	if (st->bracket) {
		struct llmcap_plan_bound b;
		int64_t rep[LLMCAP_MAX_POOLS];
		for (size_t p = 0; p < sc->n_pools; p++)
			rep[p] = sc->pools[p].replicas;
		sc->hardware.servers = llmcap_plan_servers(sc, rep); /* as the search sets them */
		if ((rc = llmcap_scenario_check(sc, st->cat, err)) ||
		    (rc = llmcap_plan_bound(sc, st->cat, &b, err))) {
			free(sc);
			return rc;
		}
		for (size_t p = 0; p < sc->n_pools; p++) {
			st0[p] = start ? start[p] : 1;
			if (b.lower[p] > 1 && st->on[k][p] && b.lower[p] <= (start ? start[p] : INT64_MAX)) {
				fails[p] = b.lower[p] - 1;
				if (st0[p] < b.lower[p])
					st0[p] = b.lower[p];
				bounded = true;
			}
		}
	}
	rc = llmcap_plan_fleet_fast(sc, st->cat, NAN, -1, bounded ? st0 : start,
				    bounded ? fails : NULL, true, f, err);
	free(sc);
	return rc;
}

/* Phase 1, seed 0 of GPU k: every pool that fits it is moved there; a pool that no count up to
 * LLMCAP_PLAN_MAX_REPLICAS serves on it goes back home and the search runs again without it. */
static void size_gpu(void *ctx, size_t k)
{
	struct pg_study *st = ctx;
	size_t np = st->base->n_pools, seeds = st->out->seeds;
	bool any = false;
	for (size_t p = 0; p < np; p++)
		any |= st->on[k][p] = st->out->tp[p][k] > 0;
	struct llmcap_fleet *f = &st->fleets[k * seeds];
	while (any) {
		int rc = search(st, k, 0, NULL, f, &st->errs[k * seeds]);
		if ((st->rcs[k * seeds] = rc) != 0)
			return;
		if (f->feasible)
			return;
		bool moved = false;
		for (size_t p = 0; p < np; p++)
			if (st->on[k][p] && f->replicas[p] >= LLMCAP_PLAN_MAX_REPLICAS)
				st->on[k][p] = false, moved = true;
		any = false;
		for (size_t p = 0; p < np; p++)
			any |= st->on[k][p];
		if (!moved) /* a pool at home is what failed: nothing known on this GPU */
			break;
	}
	for (size_t p = 0; p < np; p++)
		st->on[k][p] = false;
}

/* Phase 2, item k x (seed >= 1): the same pools on GPU k, from seed 0's answer. */
static void size_seed(void *ctx, size_t i)
{
	struct pg_study *st = ctx;
	size_t seeds = st->out->seeds, per = seeds - 1;
	size_t k = i / per, s = 1 + i % per;
	const struct llmcap_fleet *f0 = &st->fleets[k * seeds];
	bool any = false;
	for (size_t p = 0; p < st->base->n_pools; p++)
		any |= st->on[k][p];
	if (!any || !f0->feasible)
		return;
	st->rcs[k * seeds + s] =
		search(st, k, s, f0->replicas, &st->fleets[k * seeds + s], &st->errs[k * seeds + s]);
}

/* Phase 3, item pick x seed: the pick's fleet run on the seed. */
static void run_pick(void *ctx, size_t i)
{
	struct pg_study *st = ctx;
	size_t seeds = st->out->seeds, q = i / seeds, s = i % seeds;
	if (!st->run_pick[q])
		return;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	size_t slot = i; /* the phases' slots are reused: each phase reads its errors first */
	if (!sc) {
		st->rcs[slot] = llmcap_errorf(&st->errs[slot], LLMCAP_ENOMEM, "out of memory");
		return;
	}
	*sc = *st->base;
	sc->seed = st->base->seed + s;
	int64_t rep[LLMCAP_MAX_POOLS];
	for (size_t p = 0; p < sc->n_pools; p++) {
		place(sc, st->out, p, st->picked[q][p]);
		rep[p] = sc->pools[p].replicas = st->out->replicas[p][st->picked[q][p]];
	}
	sc->hardware.servers = llmcap_plan_servers(sc, rep);
	st->rcs[slot] = confirm(sc, st->cat, &st->slo[q][s], &st->costs[q][s], &st->errs[slot]);
	free(sc);
}

int llmcap_decide_pool_gpus(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			    const char *const *gpus, size_t n_gpus, size_t seeds, long threads,
			    bool bracket, struct llmcap_pool_gpu_choice *out, struct llmcap_error *err)
{
	memset(out, 0, sizeof *out);
	out->n_pools = base->n_pools;
	out->monthly = NAN;
	out->seeds = seeds;
	size_t n = n_gpus ? n_gpus : cat->n_gpus;
	if (n > LLMCAP_POOL_GPUS_MAX)
		return llmcap_errorf(err, LLMCAP_EINVAL, "decide: at most %d candidate GPUs, got %zu",
				     LLMCAP_POOL_GPUS_MAX, n);
	if (seeds < 1 || seeds > LLMCAP_DECIDE_MAX_SEEDS)
		return llmcap_errorf(err, LLMCAP_EINVAL, "decide: 1 to %d seeds, got %zu",
				     LLMCAP_DECIDE_MAX_SEEDS, seeds);
	for (size_t k = 0; k < n; k++) {
		const struct llmcap_gpu_spec *g =
			llmcap_catalog_gpu(cat, n_gpus ? gpus[k] : cat->gpus[k].name);
		if (!g)
			return llmcap_errorf(err, LLMCAP_EINVAL, "decide: GPU '%s' is not in the catalog",
					     gpus[k]);
		snprintf(out->gpus[k], sizeof out->gpus[k], "%s", g->name);
		for (size_t p = 0; p < base->n_pools; p++)
			out->tp[p][k] = fit_tp(base, cat, p, g);
	}
	out->n_gpus = n;
	struct pg_study *st = calloc(1, sizeof *st);
	size_t slots = (n > LLMCAP_POOL_GPU_PICKS ? n : LLMCAP_POOL_GPU_PICKS) * seeds;
	if (st) {
		st->fleets = calloc(n * seeds, sizeof *st->fleets);
		st->rcs = calloc(slots, sizeof *st->rcs);
		st->errs = calloc(slots, sizeof *st->errs);
	}
	int rc = 0;
	if (!st || !st->fleets || !st->rcs || !st->errs) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		goto done;
	}
	st->base = base;
	st->cat = cat;
	st->out = out;
	st->bracket = bracket;
	/* a GPU each pool can stay on while another GPU's search runs: the first that holds it */
	for (size_t p = 0; p < base->n_pools; p++) {
		st->home[p] = n;
		for (size_t k = 0; k < n && st->home[p] == n; k++)
			if (out->tp[p][k])
				st->home[p] = k;
		if (st->home[p] == n) {
			rc = llmcap_errorf(err, LLMCAP_ECAPACITY,
					   "%s: pools.%s: no candidate GPU holds '%s' in %s at any "
					   "tensor_parallel_size up to 8",
					   base->pools[p].where, base->pools[p].name, base->pools[p].model,
					   llmcap_dtype_name(base->pools[p].dtype));
			goto done;
		}
	}
	/* the searches: seed 0 per GPU, then the other seeds from its answer */
	llmcap_study_parallel_for(n, threads, size_gpu, st, NULL);
	if ((rc = llmcap_first_error(st->rcs, st->errs, slots, err)))
		goto done;
	if (seeds > 1) {
		llmcap_study_parallel_for(n * (seeds - 1), threads, size_seed, st, NULL);
		if ((rc = llmcap_first_error(st->rcs, st->errs, slots, err)))
			goto done;
	}
	for (size_t k = 0; k < n; k++) {
		bool ok = true;
		for (size_t s = 0; s < seeds; s++) {
			const struct llmcap_fleet *f = &st->fleets[k * seeds + s];
			out->simulations += f->simulations;
			ok &= f->feasible;
		}
		for (size_t p = 0; p < base->n_pools; p++) {
			if (!ok || !st->on[k][p])
				continue;
			out->sized[p][k] = true;
			for (size_t s = 0; s < seeds; s++) {
				int64_t r = st->fleets[k * seeds + s].replicas[p];
				if (r > out->replicas[p][k])
					out->replicas[p][k] = r;
			}
			const struct llmcap_fleet *f0 = &st->fleets[k * seeds];
			out->busy_gpus[p][k] =
				f0->busy[p] * (double)f0->replicas[p] * (double)out->tp[p][k];
		}
	}
	/* every combination of the pools' sized candidates, priced without simulating; the
	 * cheapest per option is then run on every seed */
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		goto done;
	}
	const double busy_scale = window_to_mean(base);
	size_t pick[LLMCAP_MAX_POOLS] = {0};
	double best_m[LLMCAP_POOL_GPU_PICKS];
	for (size_t q = 0; q < LLMCAP_POOL_GPU_PICKS; q++)
		best_m[q] = INFINITY;
	for (;;) {
		bool ok = true;
		for (size_t p = 0; p < base->n_pools; p++)
			ok &= out->sized[p][pick[p]];
		if (ok) {
			*sc = *base;
			struct llmcap_cost cost;
			combo_cost(sc, cat, out, pick, busy_scale, &cost);
			out->combinations++;
			for (size_t q = 0; q < LLMCAP_POOL_GPU_PICKS; q++) {
				double m = pick_monthly(&cost, pick_option[q]);
				if (m < best_m[q]) {
					best_m[q] = m;
					memcpy(st->picked[q], pick, sizeof pick);
				}
			}
		}
		size_t p = 0;
		while (p < base->n_pools && ++pick[p] == n)
			pick[p++] = 0;
		if (p == base->n_pools)
			break;
	}
	for (size_t q = 0; q < LLMCAP_POOL_GPU_PICKS; q++) {
		st->run_pick[q] = isfinite(best_m[q]);
		for (size_t r = 0; r < q && st->run_pick[q]; r++) /* the same fleet: run once */
			if (st->run_pick[r] &&
			    !memcmp(st->picked[r], st->picked[q], sizeof st->picked[q]))
				st->run_pick[q] = false;
	}
	memset(st->rcs, 0, slots * sizeof *st->rcs);
	llmcap_study_parallel_for(LLMCAP_POOL_GPU_PICKS * seeds, threads, run_pick, st, NULL);
	if ((rc = llmcap_first_error(st->rcs, st->errs, slots, err))) {
		free(sc);
		goto done;
	}
	for (size_t q = 0; q < LLMCAP_POOL_GPU_PICKS; q++) {
		struct llmcap_pool_gpu_pick *k = &out->picks[q];
		k->option = pick_option[q];
		k->monthly = k->monthly_half = k->estimated_monthly = NAN;
		if (!isfinite(best_m[q]))
			continue;
		size_t from = q; /* the pick whose runs are this fleet's */
		for (size_t r = 0; r < q && !st->run_pick[q]; r++)
			if (st->run_pick[r] && !memcmp(st->picked[r], st->picked[q], sizeof st->picked[q]))
				from = r;
		k->feasible = true;
		k->estimated_monthly = best_m[q];
		k->slo_met = true;
		double x[LLMCAP_DECIDE_MAX_SEEDS], tok[LLMCAP_DECIDE_MAX_SEEDS], half;
		for (size_t s = 0; s < seeds; s++) {
			k->slo_met &= st->slo[from][s];
			x[s] = pick_monthly(&st->costs[from][s], k->option);
			tok[s] = st->costs[from][s].tokens_per_month;
		}
		out->simulations += st->run_pick[q] ? (int)seeds : 0;
		size_t used;
		llmcap_mean_ci95(x, seeds, 1, &k->monthly, &k->monthly_half, &used);
		if (used < seeds)
			k->monthly = NAN;
		llmcap_mean_ci95(tok, seeds, 1, &k->demand_per_month, &half, &used);
		*sc = *base;
		int64_t rep[LLMCAP_MAX_POOLS];
		for (size_t p = 0; p < base->n_pools; p++) {
			size_t g = st->picked[q][p];
			snprintf(k->gpu[p], sizeof k->gpu[p], "%s", out->gpus[g]);
			k->tp[p] = out->tp[p][g];
			rep[p] = k->replicas[p] = out->replicas[p][g];
			place(sc, out, p, g);
			sc->pools[p].replicas = rep[p];
			k->gpus += rep[p] * k->tp[p];
		}
		struct llmcap_server_group gr[LLMCAP_MAX_POOLS + 1];
		size_t ng = llmcap_server_groups(sc, rep, gr, NULL);
		for (size_t j = 0; j < ng; j++)
			k->servers += gr[j].servers > 0 ? gr[j].servers : 0;
	}
	free(sc);
	/* the own pick in the fields it had before the rent picks */
	const struct llmcap_pool_gpu_pick *own = &out->picks[0];
	out->feasible = own->feasible;
	out->slo_met = own->feasible && own->slo_met;
	out->monthly = own->monthly;
	out->estimated_monthly = own->estimated_monthly;
	out->servers = own->servers;
	for (size_t p = 0; p < base->n_pools; p++) {
		snprintf(out->gpu[p], sizeof out->gpu[p], "%s", own->gpu[p]);
		out->choice_tp[p] = own->tp[p];
		out->choice_replicas[p] = own->replicas[p];
	}
done:
	if (st) {
		free(st->fleets);
		free(st->rcs);
		free(st->errs);
	}
	free(st);
	return rc;
}

int llmcap_decide_add_pool_gpus(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
				double tokens_per_month, const struct llmcap_decide_spec *spec,
				struct llmcap_decision *row, struct llmcap_error *err)
{
	if (row->n_options + LLMCAP_POOL_GPU_PICKS > LLMCAP_DECIDE_MAX_OPTIONS)
		return llmcap_errorf(err, LLMCAP_EINVAL, "decide: too many options");
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_pool_gpu_choice *ch = malloc(sizeof *ch);
	int rc = 0;
	if (!sc || !ch) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		goto out;
	}
	*sc = *base;
	for (size_t p = 0; p < sc->n_pools; p++) /* sized fixed, as decide's fleets */
		sc->pools[p].autoscale.enabled = false;
	if (!isnan(tokens_per_month)) {
		sc->workload.rate = NAN;
		sc->workload.tokens_per_month = tokens_per_month;
	}
	size_t seeds = spec->seeds ? spec->seeds : 1;
	long threads = spec->threads > 0 ? spec->threads : 1;
	if ((rc = llmcap_decide_pool_gpus(sc, cat, NULL, 0, seeds, threads, !spec->no_bracket, ch,
					  err)))
		goto out;
	for (size_t q = 0; q < LLMCAP_POOL_GPU_PICKS; q++) {
		const struct llmcap_pool_gpu_pick *k = &ch->picks[q];
		struct llmcap_decide_option *o = &row->options[row->n_options++];
		memset(o, 0, sizeof *o);
		o->option = k->option;
		snprintf(o->gpu, sizeof o->gpu, "per-pool");
		o->dtype = -1;
		o->latency_checked = true;
		o->sized = k->feasible;
		o->slo_met = k->feasible && k->slo_met;
		o->monthly = k->feasible ? k->monthly : NAN;
		o->monthly_half = k->feasible ? k->monthly_half : NAN;
		o->per_1m = o->monthly / (row->demand_per_month / 1e6);
		if (!k->feasible)
			o->why = "no combination of GPUs per pool was sized within the search, or a "
				 "price this option needs is not published";
		else if (!k->slo_met)
			o->why = "the per-pool fleet chosen missed an SLO on a seed";
		else if (isnan(o->monthly))
			o->why = "a price this option needs is not published (llmcap catalog)";
		for (size_t p = 0; p < sc->n_pools; p++) {
			o->replicas[p] = k->replicas[p];
			o->replicas_mean[p] = (double)k->replicas[p];
			o->replicas_half[p] = NAN;
			snprintf(o->pool_gpu[p], sizeof o->pool_gpu[p], "%s", k->gpu[p]);
			o->pool_tp[p] = k->tp[p];
			if (q == 0)
				snprintf(row->pool_gpu[p], sizeof row->pool_gpu[p], "%s", k->gpu[p]);
		}
		o->gpus = k->gpus;
		o->servers = k->servers;
	}
	row->simulations += ch->simulations;
	/* ranked again as decide.c ranks: cheapest first, ties keep the order */
	row->best = row->runner_up = -1;
	for (size_t i = 0; i < row->n_options; i++) {
		const struct llmcap_decide_option *c = &row->options[i];
		if (!c->sized || !c->slo_met || !isfinite(c->monthly))
			continue;
		if (row->best < 0 || c->monthly < row->options[row->best].monthly) {
			row->runner_up = row->best;
			row->best = (int)i;
		} else if (row->runner_up < 0 || c->monthly < row->options[row->runner_up].monthly) {
			row->runner_up = (int)i;
		}
	}
out:
	free(ch);
	free(sc);
	return rc;
}

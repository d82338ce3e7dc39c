/* The own option with each pool on its own GPU type (issue 21): every catalog GPU that holds a
 * pool's model at its precision is a candidate for that pool; each candidate GPU's smallest
 * fleet is sized by simulation; the cheapest combination of per-pool choices is priced and run.
 * See include/llmcap/decide.h ("Each pool on its own GPU").
 *
 * Pools do not share replicas: a pool's latency depends on its own replicas and traffic only
 * (a class's requests go to its pool), so one capacity search per candidate GPU, with every
 * pool that fits it moved there, sizes every pool on that GPU at once. Pools that do not fit it
 * stay on a GPU that holds them, with no latency target, and their result of that search is not
 * used. */
#include "llmcap/decide.h"

#include "llmcap/plan.h"
#include "llmcap/scenario.h"

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

/* The own monthly cost of the fleet in `sc` (pools placed, replicas set), from the candidates'
 * runs: each pool's GPU-busy share as it was in its own GPU's search. */
static double combo_monthly(struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			    const struct llmcap_pool_gpu_choice *o, const size_t *pick)
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
			.busy_gpus = o->busy_gpus[p][pick[p]],
			.gpus_per_replica = o->tp[p][pick[p]],
			.replica_hours = (double)rep[p] * hours,
			.baseline_replicas = (double)rep[p],
		};
		use.busy_gpus += use.pools[p].busy_gpus;
	}
	sc->hardware.servers = llmcap_plan_servers(sc, rep);
	struct llmcap_cost cost;
	llmcap_cost_compute(sc, &use, &cost);
	return cost.self_monthly;
}

int llmcap_decide_pool_gpus(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			    const char *const *gpus, size_t n_gpus, struct llmcap_pool_gpu_choice *out,
			    struct llmcap_error *err)
{
	memset(out, 0, sizeof *out);
	out->n_pools = base->n_pools;
	out->monthly = NAN;
	size_t n = n_gpus ? n_gpus : cat->n_gpus;
	if (n > LLMCAP_POOL_GPUS_MAX)
		return llmcap_errorf(err, LLMCAP_EINVAL, "decide: at most %d candidate GPUs, got %zu",
				     LLMCAP_POOL_GPUS_MAX, n);
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
	/* a GPU each pool can stay on while another GPU's search runs: the first that holds it */
	size_t home[LLMCAP_MAX_POOLS];
	for (size_t p = 0; p < base->n_pools; p++) {
		home[p] = n;
		for (size_t k = 0; k < n && home[p] == n; k++)
			if (out->tp[p][k])
				home[p] = k;
		if (home[p] == n)
			return llmcap_errorf(err, LLMCAP_ECAPACITY,
					     "%s: pools.%s: no candidate GPU holds '%s' in %s at any "
					     "tensor_parallel_size up to 8",
					     base->pools[p].where, base->pools[p].name, base->pools[p].model,
					     llmcap_dtype_name(base->pools[p].dtype));
	}
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	int rc = 0;
	/* one capacity search per candidate GPU: every pool that fits it is moved there; a pool
	 * that no count up to LLMCAP_PLAN_MAX_REPLICAS serves on it (the search stops there, the
	 * others unfinished) goes back to its home GPU and the search runs again without it */
	for (size_t k = 0; k < n; k++) {
		bool on[LLMCAP_MAX_POOLS], any = false;
		for (size_t p = 0; p < base->n_pools; p++)
			any |= on[p] = out->tp[p][k] > 0;
		while (any) {
			*sc = *base;
			for (size_t p = 0; p < sc->n_pools; p++) {
				place(sc, out, p, on[p] ? k : home[p]);
				if (!on[p])
					relax(sc, p);
			}
			struct llmcap_fleet f;
			rc = llmcap_plan_fleet(sc, cat, NAN, -1, &f, err);
			if (rc)
				goto done;
			out->simulations += f.simulations;
			if (f.feasible) {
				for (size_t p = 0; p < sc->n_pools; p++) {
					if (!on[p])
						continue;
					out->sized[p][k] = true;
					out->replicas[p][k] = f.replicas[p];
					out->busy_gpus[p][k] =
						f.busy[p] * (double)f.replicas[p] * (double)out->tp[p][k];
				}
				break;
			}
			bool moved = false;
			for (size_t p = 0; p < sc->n_pools; p++)
				if (on[p] && f.replicas[p] >= LLMCAP_PLAN_MAX_REPLICAS)
					on[p] = false, moved = true;
			any = false;
			for (size_t p = 0; p < sc->n_pools; p++)
				any |= on[p];
			if (!moved) /* a pool at home is what failed: nothing known on this GPU */
				break;
		}
	}
	/* every combination of the pools' sized candidates, priced without simulating; the
	 * cheapest is then run as one fleet */
	size_t pick[LLMCAP_MAX_POOLS] = {0}, best[LLMCAP_MAX_POOLS] = {0};
	double best_m = INFINITY;
	for (;;) {
		bool ok = true;
		for (size_t p = 0; p < base->n_pools; p++)
			ok &= out->sized[p][pick[p]];
		if (ok) {
			*sc = *base;
			double m = combo_monthly(sc, cat, out, pick);
			out->combinations++;
			if (m < best_m) {
				best_m = m;
				memcpy(best, pick, sizeof best);
			}
		}
		size_t p = 0;
		while (p < base->n_pools && ++pick[p] == n)
			pick[p++] = 0;
		if (p == base->n_pools)
			break;
	}
	if (!isfinite(best_m))
		goto done; /* no combination sized, or none priced: feasible stays false */
	*sc = *base;
	combo_monthly(sc, cat, out, best);
	for (size_t p = 0; p < base->n_pools; p++) {
		snprintf(out->gpu[p], sizeof out->gpu[p], "%s", out->gpus[best[p]]);
		out->choice_tp[p] = out->tp[p][best[p]];
		out->choice_replicas[p] = out->replicas[p][best[p]];
	}
	out->estimated_monthly = best_m;
	/* the chosen fleet as one run: its SLOs and its cost from its own utilisation */
	struct llmcap_results res;
	struct llmcap_summary sum;
	if ((rc = llmcap_scenario_check(sc, cat, err)) || (rc = llmcap_simulate(sc, cat, NULL, &res, err)))
		goto done;
	out->simulations++;
	if (llmcap_summarize(&res, &sum) != 0) {
		llmcap_results_free(&res);
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		goto done;
	}
	out->slo_met = sum.peak.all_slo_met;
	for (size_t c = 0; c < sum.n_classes; c++)
		out->slo_met &= sum.classes[c].rejected == 0;
	struct llmcap_cost cost;
	llmcap_results_cost(&res, &cost);
	out->monthly = cost.self_monthly;
	struct llmcap_server_group gr[LLMCAP_MAX_POOLS + 1];
	size_t ng = llmcap_server_groups(sc, NULL, gr, NULL);
	for (size_t k = 0; k < ng; k++)
		out->servers += gr[k].servers > 0 ? gr[k].servers : 0;
	out->feasible = true;
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
done:
	free(sc);
	return rc;
}

int llmcap_decide_add_pool_gpus(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
				double tokens_per_month, struct llmcap_decision *row,
				struct llmcap_error *err)
{
	if (row->n_options >= LLMCAP_DECIDE_MAX_OPTIONS)
		return llmcap_errorf(err, LLMCAP_EINVAL, "decide: too many options");
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_pool_gpu_choice *ch = malloc(sizeof *ch);
	int rc = 0;
	if (!sc || !ch) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		goto out;
	}
	*sc = *base;
	if (!isnan(tokens_per_month)) {
		sc->workload.rate = NAN;
		sc->workload.tokens_per_month = tokens_per_month;
	}
	if ((rc = llmcap_decide_pool_gpus(sc, cat, NULL, 0, ch, err)))
		goto out;
	struct llmcap_decide_option *o = &row->options[row->n_options++];
	memset(o, 0, sizeof *o);
	o->option = LLMCAP_OPTION_OWN;
	snprintf(o->gpu, sizeof o->gpu, "per-pool");
	o->dtype = -1;
	o->latency_checked = true;
	o->sized = ch->feasible;
	o->slo_met = ch->feasible && ch->slo_met;
	o->monthly = ch->feasible ? ch->monthly : NAN;
	o->monthly_half = NAN; /* one seed */
	o->per_1m = o->monthly / (row->demand_per_month / 1e6);
	if (!ch->feasible)
		o->why = "no combination of GPUs per pool was sized within the search";
	else if (!ch->slo_met)
		o->why = "the per-pool fleet chosen missed an SLO in its own run";
	for (size_t p = 0; p < sc->n_pools; p++) {
		o->replicas[p] = ch->choice_replicas[p];
		o->replicas_mean[p] = (double)ch->choice_replicas[p];
		o->replicas_half[p] = NAN;
		o->gpus += ch->choice_replicas[p] * ch->choice_tp[p];
		snprintf(row->pool_gpu[p], sizeof row->pool_gpu[p], "%s", ch->gpu[p]);
	}
	o->servers = ch->servers;
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

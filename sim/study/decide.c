/* The decision: every option sized by simulation, the cheapest that meets the SLOs on every seed.
 * See include/llmcap/decide.h. */
#include "llmcap/decide.h"

#include "llmcap/breakeven.h"
#include "llmcap/output.h"
#include "llmcap/scenario.h"
#include "llmcap/stats.h"
#include "llmcap/workload.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const llmcap_option_names[LLMCAP_OPTION_COUNT + 1] = {
	LLMCAP_OPTIONS(LLMCAP_NAME_ITEM) NULL};

/* ---- one simulation, judged ---- */

struct eval {
	bool slo_met;          /* busiest-hour SLOs of every class, nothing rejected */
	double spilled_share;  /* of arrivals */
	struct llmcap_cost cost;
};

/* `full` judged on its busiest-hour window (llmcap_plan_window, when it applies; else the whole
 * horizon), stopped once an SLO is lost, and priced as a month (llmcap_plan_month_cost). */
static int evaluate(const struct llmcap_scenario *full, const struct llmcap_catalog *cat,
		    struct eval *out, struct llmcap_error *err)
{
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	llmcap_plan_window(full, sc);
	struct llmcap_slo_stop stop;
	int rc = llmcap_scenario_check(sc, cat, err);
	if (rc == 0 && llmcap_slo_stop_init(&stop, sc) != 0)
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	if (rc) {
		free(sc);
		return rc;
	}
	rc = llmcap_simulate(sc, cat, &stop.sink, &res, err);
	bool lost = stop.lost_class >= 0;
	llmcap_slo_stop_free(&stop);
	if (rc && lost) {
		/* an SLO lost for good: no cost, never a candidate */
		memset(out, 0, sizeof *out);
		out->slo_met = false;
		out->cost.self_monthly = out->cost.rent_on_demand_monthly = NAN;
		out->cost.rent_reserved_monthly = out->cost.rent_spot_monthly = NAN;
		out->cost.hybrid_total = out->cost.api_monthly = out->cost.tokens_per_month = NAN;
		out->cost.months = 1;
		free(sc);
		return 0;
	}
	if (rc) {
		free(sc);
		return rc;
	}
	if (llmcap_summarize(&res, &sum) != 0) {
		llmcap_results_free(&res);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	out->slo_met = sum.peak.all_slo_met;
	int64_t spilled = 0, arrived = 0;
	for (size_t c = 0; c < sum.n_classes; c++) {
		out->slo_met &= sum.classes[c].rejected == 0;
		spilled += sum.classes[c].spilled;
		arrived += sum.classes[c].arrived;
	}
	out->spilled_share = arrived ? (double)spilled / (double)arrived : 0;
	llmcap_plan_month_cost(full, &res, &out->cost);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	free(sc);
	return 0;
}

/* ---- the API ---- */

static const struct llmcap_price_spec *class_provider(const struct llmcap_scenario *sc,
						      const struct llmcap_catalog *cat, size_t c)
{
	const char *name = sc->workload.classes[c].name;
	for (size_t i = 0; i < sc->cost.api.n_prices; i++) {
		const struct llmcap_price_cfg *pc = &sc->cost.api.prices[i];
		if (!strcmp(pc->name, name) && pc->from[0])
			return llmcap_catalog_price(cat, pc->from);
	}
	return NULL;
}

/* The provider's p99 TTFT at its peak, ns: the larger of the lognormal's p99 and the published
 * p99 (heavier-tailed than the fit) at the peak factor; -1: not published. */
static double api_ttft_p99_peak(const struct llmcap_price_spec *p)
{
	double fit = (double)llmcap_api_ttft_quantile(p, 0.99, true);
	double pf = p->peak_factor > 0 ? p->peak_factor : 1;
	double pub = p->ttft_p99 > 0 ? (double)p->ttft_p99 * pf : -1;
	return fmax(fit, pub);
}

void llmcap_decide_api(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		       const struct llmcap_cost *cost, struct llmcap_decide_option *out)
{
	memset(out, 0, sizeof *out);
	out->option = LLMCAP_OPTION_API;
	out->dtype = -1;
	out->sized = true;
	out->slo_met = true;
	out->latency_checked = true;
	out->monthly = cost->api_monthly;
	out->monthly_half = NAN;
	out->per_1m = cost->api_monthly / (cost->tokens_per_month / 1e6);
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		const struct llmcap_price_spec *p = class_provider(sc, cat, c);
		if (!p || p->ttft_p50 <= 0) {
			out->latency_checked = false;
			continue;
		}
		double ttft = api_ttft_p99_peak(p);
		double pf = p->peak_factor > 0 ? p->peak_factor : 1;
		double tpot = p->speed_p50 > 0 ? 1e9 / p->speed_p50 * pf : -1;
		if (ttft < 0 || tpot < 0)
			out->latency_checked = false;
		if (cl->slo_ttft_p99 > 0 && ttft > (double)cl->slo_ttft_p99) {
			out->slo_met = false;
			out->why = "the provider's TTFT p99 at peak is above a class's target";
		} else if (cl->slo_tpot_p99 > 0 && tpot > (double)cl->slo_tpot_p99) {
			out->slo_met = false;
			out->why = "the provider's time per output token at peak is above a class's target";
		}
	}
}

/* Spilled requests take the latency of the first class's provider in the pool, at its peak;
 * without one, the scenario's spill latency model (its defaults: 800 ms median, sigma 0.5,
 * 20 ms per token). */
static void hybrid_spill(struct llmcap_scenario *sc, const struct llmcap_catalog *cat)
{
	for (size_t p = 0; p < sc->n_pools; p++) {
		struct llmcap_pool_cfg *pool = &sc->pools[p];
		pool->spill.waiting_above = 1;
		if (pool->spill.api_ttft_median <= 0) {
			pool->spill.api_ttft_median = 800 * LLMCAP_MS;
			pool->spill.api_ttft_sigma = 0.5;
			pool->spill.api_tpot = 20 * LLMCAP_MS;
		}
		for (size_t c = 0; c < sc->workload.n_classes; c++) {
			const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
			const char *name = cl->pool[0] ? cl->pool : cl->name;
			const struct llmcap_price_spec *pr = class_provider(sc, cat, c);
			if (strcmp(name, pool->name) || !pr || pr->ttft_p50 <= 0 || pr->speed_p50 <= 0)
				continue;
			llmcap_time med = llmcap_api_ttft_quantile(pr, 0.5, true);
			llmcap_time q95 = llmcap_api_ttft_quantile(pr, 0.95, true);
			double pf = pr->peak_factor > 0 ? pr->peak_factor : 1;
			pool->spill.api_ttft_median = med;
			pool->spill.api_ttft_sigma =
				q95 > med ? fmin(5, log((double)q95 / (double)med) / 1.6448536) : 0.5;
			pool->spill.api_tpot = (llmcap_time)(1e9 / pr->speed_p50 * pf);
			break;
		}
	}
}

/* ---- the study ---- */

/* A (volume, GPU, dtype) combination, its seeds and its sims. */
struct combo {
	size_t v, g, d;
	struct llmcap_fleet sized[LLMCAP_DECIDE_MAX_SEEDS]; /* each seed's smallest fleet */
	struct llmcap_plan_bound bound; /* the closed-form bracket (all zero: none) */
	bool floor_missed; /* bound.unreachable, and the search skipped for it */
	int64_t chosen[LLMCAP_MAX_POOLS];
	bool feasible;
	int64_t hybrid[LLMCAP_DECIDE_HYBRID_CANDIDATES][LLMCAP_MAX_POOLS];
	size_t n_hybrid;
	struct eval own[LLMCAP_DECIDE_MAX_SEEDS];
	struct eval hyb[LLMCAP_DECIDE_HYBRID_CANDIDATES][LLMCAP_DECIDE_MAX_SEEDS];
};

struct study {
	const struct llmcap_scenario *sc;
	const struct llmcap_catalog *cat;
	const struct llmcap_decide_spec *spec;
	const double *volumes;
	size_t n_volumes, n_gpus, n_dtypes, seeds;
	const char *gpus[LLMCAP_DECIDE_MAX_GPUS];
	int dtypes[LLMCAP_DECIDE_MAX_DTYPES];
	struct combo *combos;
	size_t n_combos;
	int *rcs;
	struct llmcap_error *errs;
	size_t order[LLMCAP_DECIDE_MAX_VOLUMES]; /* volume indices, ascending (NAN: alone) */
	bool hybrid_rest; /* phase B's second pass: hybrid baselines on seeds >= 1 */
};

/* A copy of the base at combo c's GPU and seed s (and volume); NULL when out of memory. */
static struct llmcap_scenario *variant(const struct study *st, const struct combo *c, size_t s)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return NULL;
	*sc = *st->sc; /* shallow: only reads what the base owns */
	snprintf(sc->hardware.gpu, sizeof sc->hardware.gpu, "%s", st->gpus[c->g]);
	sc->seed = st->sc->seed + s;
	for (size_t p = 0; p < sc->n_pools; p++) /* sized fixed: rent_autoscaled scales them */
		sc->pools[p].autoscale.enabled = false;
	if (!isnan(st->volumes[c->v])) {
		sc->workload.rate = NAN;
		sc->workload.tokens_per_month = st->volumes[c->v];
	}
	return sc;
}

/* The largest model's pools take the combination's precision (as llmcap_plan_fleet does). */
static void set_dtype(struct llmcap_scenario *sc, const struct llmcap_catalog *cat, int dtype)
{
	if (dtype < 0)
		return;
	double biggest = 0, params[LLMCAP_MAX_POOLS];
	for (size_t p = 0; p < sc->n_pools; p++) {
		struct llmcap_param_count pc = {0};
		const struct llmcap_model_spec *m = llmcap_catalog_model(cat, sc->pools[p].model);
		if (m)
			llmcap_model_params(m, &pc);
		params[p] = pc.total;
		biggest = fmax(biggest, pc.total);
	}
	for (size_t p = 0; p < sc->n_pools; p++)
		if (params[p] == biggest)
			sc->pools[p].dtype = (enum llmcap_dtype)dtype;
}

/* The closed-form bracket of combo c (plan.h llmcap_plan_bound) on scenario `sc` (its volume
 * and GPU set; the precision is set here on a copy). 0 or an error. */
static int bracket_of(const struct study *st, struct combo *c, const struct llmcap_scenario *sc,
		      struct llmcap_error *err)
{
	memset(&c->bound, 0, sizeof c->bound);
	if (st->spec->no_bracket)
		return 0;
	struct llmcap_scenario *b = malloc(sizeof *b);
	if (!b)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	*b = *sc;
	set_dtype(b, st->cat, st->dtypes[c->d]);
	int rc = llmcap_scenario_check(b, st->cat, err);
	if (rc == 0)
		rc = llmcap_plan_bound(b, st->cat, &c->bound, err);
	free(b);
	return rc;
}

/* Phase A, seed 0: item k = a (GPU, precision) chain, its volumes in ascending order. Each
 * volume's search starts from the lower volume's answer scaled by the volume ratio (replicas
 * in proportion to load), and never goes below that answer (more volume never needs fewer
 * replicas); the closed-form bound (bracket_of) raises both: no count below it is simulated.
 * A (GPU, precision) whose latency floor is above a target is not searched, except the
 * first, whose runs also give the API's bill (assemble). */
static void size_chain(void *ctx, size_t k)
{
	struct study *st = ctx;
	size_t per_v = st->n_gpus * st->n_dtypes;
	const struct combo *prev = NULL;
	for (size_t j = 0; j < st->n_volumes; j++) {
		size_t v = st->order[j];
		struct combo *c = &st->combos[v * per_v + k];
		size_t slot = (v * per_v + k) * st->seeds;
		int64_t start[LLMCAP_MAX_POOLS] = {0}, fails[LLMCAP_MAX_POOLS] = {0};
		bool from_prev = prev && prev->sized[0].feasible, bracket = from_prev;
		for (size_t p = 0; from_prev && p < st->sc->n_pools; p++) {
			double ratio = st->volumes[v] / st->volumes[st->order[j - 1]];
			int64_t r = prev->sized[0].replicas[p];
			fails[p] = r - 1;
			start[p] = (int64_t)ceil((double)r * (isfinite(ratio) ? ratio : 1));
			if (start[p] < r)
				start[p] = r;
		}
		struct llmcap_scenario *sc = variant(st, c, 0);
		if (!sc) {
			st->rcs[slot] = llmcap_errorf(&st->errs[slot], LLMCAP_ENOMEM, "out of memory");
			return;
		}
		if ((st->rcs[slot] = bracket_of(st, c, sc, &st->errs[slot]))) {
			free(sc);
			return;
		}
		if (c->bound.unreachable && k > 0) {
			/* no fleet meets the SLOs: as the search to LLMCAP_PLAN_MAX_REPLICAS finds */
			free(sc);
			memset(&c->sized[0], 0, sizeof c->sized[0]);
			c->sized[0].dtype = st->dtypes[c->d];
			c->floor_missed = true;
			continue;
		}
		for (size_t p = 0; p < st->sc->n_pools; p++) {
			int64_t lo = c->bound.lower[p];
			if (lo < 1)
				continue;
			if (!bracket)
				start[p] = 1;
			bracket = true;
			if (fails[p] < lo - 1)
				fails[p] = lo - 1;
			if (start[p] < lo)
				start[p] = lo;
		}
		if (bracket)
			for (size_t p = 0; p < st->sc->n_pools; p++)
				if (start[p] < 1)
					start[p] = 1;
		st->rcs[slot] = llmcap_plan_fleet_fast(sc, st->cat, NAN, st->dtypes[c->d],
						       bracket ? start : NULL, bracket ? fails : NULL,
						       true, &c->sized[0], &st->errs[slot]);
		free(sc);
		if (st->rcs[slot])
			return;
		prev = c;
	}
}

/* Phase A, the other seeds: item i = combo x seed >= 1, each starting from seed 0's answer,
 * never simulating a count below the closed-form bound. */
static void size_one(void *ctx, size_t i)
{
	struct study *st = ctx;
	size_t per = st->seeds - 1;
	struct combo *c = &st->combos[i / per];
	size_t s = 1 + i % per;
	size_t slot = (i / per) * st->seeds + s;
	if (c->floor_missed) {
		memset(&c->sized[s], 0, sizeof c->sized[s]);
		c->sized[s].dtype = st->dtypes[c->d];
		return;
	}
	struct llmcap_scenario *sc = variant(st, c, s);
	if (!sc) {
		st->rcs[slot] = llmcap_errorf(&st->errs[slot], LLMCAP_ENOMEM, "out of memory");
		return;
	}
	const int64_t *start = c->sized[0].feasible ? c->sized[0].replicas : NULL;
	int64_t fails[LLMCAP_MAX_POOLS] = {0};
	bool bounded = false;
	for (size_t p = 0; start && p < st->sc->n_pools; p++)
		if (c->bound.lower[p] > 1 && c->bound.lower[p] <= start[p]) {
			fails[p] = c->bound.lower[p] - 1;
			bounded = true;
		}
	st->rcs[slot] = llmcap_plan_fleet_fast(sc, st->cat, NAN, st->dtypes[c->d], start,
					       bounded ? fails : NULL, true, &c->sized[s],
					       &st->errs[slot]);
	free(sc);
}

/* ---- rent with the autoscaler ---- */

/* The quietest hour's mean rate over the busiest hour's, from the scenario's diurnal profile
 * (1 where flat, or where it cannot be read). */
static double quiet_ratio(const struct llmcap_scenario *sc)
{
	struct llmcap_profile *pf = malloc(sizeof *pf);
	struct llmcap_error err = {0};
	if (!pf || llmcap_profile_init(pf, &sc->workload.diurnal, sc->workload.start_day, &err) != 0) {
		free(pf);
		return 1;
	}
	double lo = INFINITY, hi = 0;
	for (llmcap_time t = 0; t + LLMCAP_HOUR <= pf->period; t += LLMCAP_HOUR) {
		double x = llmcap_profile_integral_within(pf, t + LLMCAP_HOUR - 1) -
			   llmcap_profile_integral_within(pf, t);
		lo = fmin(lo, x);
		hi = fmax(hi, x);
	}
	free(pf);
	return hi > 0 && isfinite(lo) ? lo / hi : 1;
}

/* The reserved baseline that makes an autoscaled pool's reserved rent cheapest, from the time
 * it held each count (held_at[k], k <= n): one more reserved replica costs the reserved rate
 * every hour and saves on demand the hours held above it, so the baseline is the smallest b
 * whose time above it is at most reserved / on_demand of the horizon. -1 where a rate is not
 * published. */
static int64_t best_baseline(const llmcap_time *held_at, size_t n, llmcap_time horizon,
			     double reserved, double on_demand)
{
	if (!(reserved > 0) || !(on_demand > 0))
		return -1;
	double above = (double)horizon; /* time with more than b held */
	for (size_t b = 0; b < n; b++) {
		above -= (double)held_at[b];
		if (above <= reserved / on_demand * (double)horizon)
			return (int64_t)b;
	}
	return (int64_t)n;
}

/* Rent with a replica count that follows the load: where the scenario enables autoscaling for a
 * pool (its policy), or spec->rent_autoscale for every pool (busy above half of the last
 * interval scales up, below a quarter drains one: on the reference scenario the policy that met
 * the SLOs where queue, KV and concurrency targets lagged the morning ramp by their cold
 * starts; with the schema's interval, cold start and cooldown), the own fleet's count is the
 * pool's maximum (the size that meets the SLOs in the busiest hour), its minimum the pool's
 * min_replicas, or by default the fleet x the quietest hour's rate / the busiest hour's (at
 * least 1), and it starts at the minimum. Reserved rent reserves per pool the baseline that
 * makes it cheapest for the counts held (best_baseline; cost.rent.reserved where the scenario
 * names the pool). That run's rent costs (held GPU-hours) replace the fixed fleet's in *out
 * where it meets every SLO (judged as evaluate() does); a fleet that misses one while scaling
 * keeps the fixed fleet's rent, the upper bound. One more simulation per (combo, seed). */
/* One autoscaled run of `sc` over its whole horizon (held hours are billed over all of it),
 * stopped once an SLO is lost for good. *ran: it ran to its end (then *res is filled, *met says
 * whether it met every SLO and rejected nothing, *spot_hits counts its spot interruptions). */
static int autoscaled_run(const struct study *st, struct llmcap_scenario *sc,
			  struct llmcap_results *res, bool *ran, bool *met, int64_t *spot_hits,
			  struct llmcap_error *err)
{
	*ran = *met = false;
	*spot_hits = 0;
	struct llmcap_slo_stop stop;
	int rc = llmcap_scenario_check(sc, st->cat, err);
	if (rc == 0 && llmcap_slo_stop_init(&stop, sc) != 0)
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	if (rc)
		return rc;
	rc = llmcap_simulate(sc, st->cat, &stop.sink, res, err);
	bool lost = stop.lost_class >= 0;
	llmcap_slo_stop_free(&stop);
	if (rc)
		return lost ? 0 : rc;
	struct llmcap_summary sum;
	if (llmcap_summarize(res, &sum) != 0) {
		llmcap_results_free(res);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	*ran = true;
	*met = sum.peak.all_slo_met;
	for (size_t k = 0; k < sum.n_classes; k++)
		*met &= sum.classes[k].rejected == 0;
	llmcap_summary_free(&sum);
	for (size_t p = 0; p < res->n_pools; p++)
		*spot_hits += res->pools[p].spot_interruptions;
	return 0;
}

/* The rent bills of an autoscaled run (res.sc is sc): reserved with per pool the baseline
 * cheapest for the counts held; the on-demand and reserved bills where `od`, the spot bill
 * where `spot` (the run's own held hours: its interruptions and replacements are in them). */
static void autoscaled_bills(struct llmcap_scenario *sc, const struct llmcap_results *res, bool od,
			     bool spot, struct llmcap_cost *k)
{
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_stats *ps = &res->pools[p];
		/* each pool's baseline at its own GPU's prices (pools.NAME.gpu) */
		struct llmcap_gpu_costs pr;
		llmcap_cost_gpu_prices(sc, ps->gpu ? ps->gpu : res->gpu, &pr);
		double rate = sc->cost.rent.term_years == 3 ? pr.reserved_3y : pr.reserved_1y;
		int64_t b = ps->autoscaled ? best_baseline(ps->held_at, ps->n_replicas, res->horizon,
							   rate, pr.on_demand)
					   : -1;
		size_t i = 0;
		while (i < sc->cost.rent.n_reserved && strcmp(sc->cost.rent.reserved[i].name,
							      sc->pools[p].name))
			i++;
		if (b < 0 || i < sc->cost.rent.n_reserved)
			continue; /* the scenario's reservation stands */
		snprintf(sc->cost.rent.reserved[i].name, sizeof sc->cost.rent.reserved[i].name, "%s",
			 sc->pools[p].name);
		sc->cost.rent.reserved[i].replicas = b;
		sc->cost.rent.n_reserved++;
	}
	struct llmcap_cost as;
	llmcap_results_cost(res, &as);
	if (od) {
		k->rent_gpu_hours = as.rent_gpu_hours;
		k->rent_burst_gpu_hours = as.rent_burst_gpu_hours;
		k->rent_reserved_gpus = as.rent_reserved_gpus;
		k->rent_on_demand_monthly = as.rent_on_demand_monthly;
		k->rent_reserved_monthly = as.rent_reserved_monthly;
		k->rent_on_demand_total = as.rent_on_demand_total;
		k->rent_reserved_total = as.rent_reserved_total;
	}
	if (spot) {
		k->rent_spot_extra_gpu_hours = as.rent_spot_extra_gpu_hours; /* 0: spot_restart 0 */
		k->rent_spot_monthly = as.rent_spot_monthly;
		k->rent_spot_total = as.rent_spot_total;
	}
}

/* Rent with a replica count that follows the load: where the scenario enables autoscaling for a
 * pool (its policy), or spec->rent_autoscale for every pool (busy above half of the last
 * interval scales up, below a quarter drains one: on the reference scenario the policy that met
 * the SLOs where queue, KV and concurrency targets lagged the morning ramp by their cold
 * starts; with the schema's interval, cold start and cooldown), the own fleet's count is the
 * pool's maximum (the size that meets the SLOs in the busiest hour), its minimum the pool's
 * min_replicas, or by default the fleet x the quietest hour's rate / the busiest hour's (at
 * least 1), and it starts at the minimum. Reserved rent reserves per pool the baseline that
 * makes it cheapest for the counts held (best_baseline; cost.rent.reserved where the scenario
 * names the pool). The runs simulate the whole horizon (not the busiest hour's window): every
 * hour's held count is simulated.
 *
 * Spot: the first run rents every autoscaled pool on spot capacity (autoscale.spot, the GPU's
 * interruption rate, the schema's notice; sim/engine/spot.c), its interruptions and their
 * replacements' cold starts simulated, so cost.rent.spot_restart's formula is not added
 * (spot_restart 0). A run with no interruption is the on-demand run itself (the spot clocks
 * change nothing until a notice: same results), so its held hours bill all three; otherwise a
 * second run without spot bills on demand and reserved. Each run's bills replace the fixed
 * fleet's in *out where it meets every SLO (judged as evaluate() does); a fleet that misses one
 * while scaling (or, for spot, while interrupted) keeps the fixed fleet's bill (spot: the
 * formula's), the upper bound. One or two more simulations per (combo, seed). */
static int rent_autoscaled(const struct study *st, const struct combo *c, size_t s,
			   const int64_t *fleet, struct eval *out, struct llmcap_error *err)
{
	bool any = false;
	for (size_t p = 0; p < st->sc->n_pools; p++)
		any |= st->sc->pools[p].autoscale.enabled || st->spec->rent_autoscale;
	if (!any || !out->slo_met)
		return 0;
	struct llmcap_scenario *sc = variant(st, c, s);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	set_dtype(sc, st->cat, st->dtypes[c->d]);
	const double quiet = quiet_ratio(sc);
	for (size_t p = 0; p < sc->n_pools; p++) {
		struct llmcap_pool_cfg *pl = &sc->pools[p];
		pl->replicas = fleet[p];
		pl->autoscale = st->sc->pools[p].autoscale;
		if (!pl->autoscale.enabled && st->spec->rent_autoscale) {
			pl->autoscale.enabled = true;
			pl->autoscale.metric = LLMCAP_AUTOSCALE_UTILISATION;
			pl->autoscale.target = 0.5;
			pl->autoscale.up_above = pl->autoscale.down_below = NAN;
			pl->autoscale.min_replicas = (int64_t)ceil((double)fleet[p] * quiet - 1e-9);
		}
		if (!pl->autoscale.enabled)
			continue;
		int64_t lo = pl->autoscale.min_replicas;
		lo = lo < 1 ? 1 : lo > fleet[p] ? fleet[p] : lo;
		pl->autoscale.min_replicas = lo;
		pl->autoscale.max_replicas = fleet[p];
		pl->replicas = lo;
		pl->autoscale.spot = true; /* no rate published: never interrupted */
	}
	sc->hardware.servers = llmcap_plan_servers(sc, fleet);
	sc->cost.rent.spot_restart = 0; /* the engine holds the replacements' cold starts */
	struct llmcap_results res;
	bool ran, met;
	int64_t hits;
	int rc = autoscaled_run(st, sc, &res, &ran, &met, &hits, err);
	if (rc == 0 && ran) {
		if (met)
			autoscaled_bills(sc, &res, hits == 0, true, &out->cost);
		llmcap_results_free(&res);
	}
	if (rc == 0 && !(ran && hits == 0)) {
		/* interrupted (or stopped before its end): on demand and reserved without spot */
		for (size_t p = 0; p < sc->n_pools; p++)
			sc->pools[p].autoscale.spot = false;
		sc->cost.rent.n_reserved = st->sc->cost.rent.n_reserved;
		rc = autoscaled_run(st, sc, &res, &ran, &met, &hits, err);
		if (rc == 0 && ran) {
			if (met)
				autoscaled_bills(sc, &res, true, false, &out->cost);
			llmcap_results_free(&res);
		}
	}
	free(sc);
	return rc;
}

/* Phase B: item i = combo x seed x (own, hybrid candidates). */
static void eval_one(void *ctx, size_t i)
{
	struct study *st = ctx;
	size_t per = st->seeds * (1 + LLMCAP_DECIDE_HYBRID_CANDIDATES);
	struct combo *c = &st->combos[i / per];
	size_t s = (i % per) % st->seeds, h = (i % per) / st->seeds;
	size_t slot = i;
	if (!c->feasible || (h > 0 && h > c->n_hybrid))
		return;
	/* hybrid baselines: seed 0 in the first pass, the other seeds only for those that met
	 * the SLOs on it (a baseline must meet them on every seed) */
	bool second = st->hybrid_rest;
	if (second != (h > 0 && s > 0) || (second && !c->hyb[h - 1][0].slo_met))
		return;
	const int64_t *fleet = h == 0 ? c->chosen : c->hybrid[h - 1];
	struct eval *out = h == 0 ? &c->own[s] : &c->hyb[h - 1][s];
	if (h == 0 && !memcmp(c->sized[s].replicas, c->chosen, sizeof c->chosen)) {
		/* this seed's own smallest fleet is the chosen one: its run is reused */
		out->slo_met = c->sized[s].slo_met;
		out->cost = c->sized[s].cost;
		out->spilled_share = 0;
		st->rcs[slot] = rent_autoscaled(st, c, s, fleet, out, &st->errs[slot]);
		return;
	}
	struct llmcap_scenario *sc = variant(st, c, s);
	if (!sc) {
		st->rcs[slot] = llmcap_errorf(&st->errs[slot], LLMCAP_ENOMEM, "out of memory");
		return;
	}
	set_dtype(sc, st->cat, st->dtypes[c->d]);
	for (size_t p = 0; p < sc->n_pools; p++)
		sc->pools[p].replicas = fleet[p];
	sc->hardware.servers = llmcap_plan_servers(sc, fleet);
	if (h > 0)
		hybrid_spill(sc, st->cat);
	st->rcs[slot] = evaluate(sc, st->cat, out, &st->errs[slot]);
	free(sc);
	if (h == 0 && st->rcs[slot] == 0)
		st->rcs[slot] = rent_autoscaled(st, c, s, fleet, out, &st->errs[slot]);
}

/* Hybrid baselines below the chosen fleet: per pool 3/4, 1/2, 1/4 of it (rounded up) and one
 * replica, distinct and smaller than the chosen fleet somewhere. */
static void hybrid_candidates(struct combo *c, size_t n_pools)
{
	static const double frac[LLMCAP_DECIDE_HYBRID_CANDIDATES] = {0.75, 0.5, 0.25, 0};
	c->n_hybrid = 0;
	for (size_t k = 0; k < LLMCAP_DECIDE_HYBRID_CANDIDATES; k++) {
		int64_t b[LLMCAP_MAX_POOLS] = {0};
		bool smaller = false;
		for (size_t p = 0; p < n_pools; p++) {
			b[p] = (int64_t)ceil((double)c->chosen[p] * frac[k]);
			if (b[p] < 1)
				b[p] = 1;
			smaller |= b[p] < c->chosen[p];
		}
		bool dup = !smaller;
		for (size_t j = 0; j < c->n_hybrid && !dup; j++)
			dup = !memcmp(c->hybrid[j], b, sizeof b);
		if (!dup)
			memcpy(c->hybrid[c->n_hybrid++], b, sizeof b);
	}
}

static double monthly_of(const struct llmcap_cost *k, enum llmcap_option o)
{
	switch (o) {
	case LLMCAP_OPTION_OWN:
		return k->self_monthly;
	case LLMCAP_OPTION_RENT_ON_DEMAND:
		return k->rent_on_demand_monthly;
	case LLMCAP_OPTION_RENT_RESERVED:
		return k->rent_reserved_monthly;
	case LLMCAP_OPTION_RENT_SPOT:
		return k->rent_spot_monthly;
	case LLMCAP_OPTION_HYBRID:
		return k->hybrid_total / k->months;
	default:
		return k->api_monthly;
	}
}

static void ci(const double *x, size_t n, double *mean, double *half)
{
	size_t used;
	llmcap_mean_ci95(x, n, 1, mean, half, &used);
	if (used < n)
		*mean = NAN; /* a price missing on some seed: not comparable */
}

/* An option's GPU label: the GPU sized on, then the GPUs of the pools that name their own
 * (pools.NAME.gpu), each once, joined by '+' ("h200-141gb+l40s-48gb"): the hardware the option
 * buys or rents, not only hardware.gpu. A label too long for buf ends in "+...". */
static void fleet_label(const struct study *st, size_t g, char *buf, size_t n)
{
	snprintf(buf, n, "%s", st->gpus[g]);
	for (size_t p = 0; p < st->sc->n_pools; p++) {
		const char *own = st->sc->pools[p].gpu;
		bool seen = !own[0] || !strcmp(own, st->gpus[g]);
		for (size_t q = 0; q < p && !seen; q++)
			seen = !strcmp(st->sc->pools[q].gpu, own);
		if (seen)
			continue;
		size_t len = strlen(buf);
		if (len + 1 + strlen(own) + 4 >= n) { /* room kept for "+..." */
			snprintf(buf + len, n - len, "+...");
			return;
		}
		snprintf(buf + len, n - len, "+%s", own);
	}
}

static void option_from_fleet(const struct study *st, const struct combo *c,
			      enum llmcap_option o, struct llmcap_decide_option *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->option = o;
	fleet_label(st, c->g, opt->gpu, sizeof opt->gpu);
	opt->dtype = st->dtypes[c->d];
	opt->latency_checked = true;
	size_t np = st->sc->n_pools;
	double x[LLMCAP_DECIDE_MAX_SEEDS];
	for (size_t p = 0; p < np; p++) {
		for (size_t s = 0; s < st->seeds; s++)
			x[s] = (double)c->sized[s].replicas[p];
		ci(x, st->seeds, &opt->replicas_mean[p], &opt->replicas_half[p]);
	}
	opt->sized = c->feasible;
	if (!c->feasible) {
		opt->why = "even the largest fleet searched misses an SLO: the latency floor at zero "
			   "load is above a target (a faster GPU or precision, or a looser target)";
		if (c->bound.unreachable) {
			snprintf(opt->reason, sizeof opt->reason, "%s", c->bound.why);
			opt->why = opt->reason;
		}
		opt->monthly = opt->monthly_half = opt->per_1m = NAN;
		return;
	}
	const struct eval *ev = c->own;
	const int64_t *fleet = c->chosen;
	if (o == LLMCAP_OPTION_HYBRID) {
		/* the cheapest baseline that meets the SLOs on every seed */
		int best = -1;
		double best_m = INFINITY;
		for (size_t h = 0; h < c->n_hybrid; h++) {
			bool ok = true;
			for (size_t s = 0; s < st->seeds; s++) {
				ok &= c->hyb[h][s].slo_met;
				x[s] = monthly_of(&c->hyb[h][s].cost, o);
			}
			double m, half;
			ci(x, st->seeds, &m, &half);
			if (ok && m < best_m) {
				best_m = m;
				best = (int)h;
			}
		}
		if (best < 0) {
			opt->slo_met = false;
			opt->why = c->n_hybrid ? "no owned baseline smaller than the own fleet meets the "
						 "SLOs with spill to the API"
					       : "the own fleet is already one replica per pool";
			opt->monthly = opt->monthly_half = opt->per_1m = NAN;
			return;
		}
		ev = c->hyb[best];
		fleet = c->hybrid[best];
	}
	opt->slo_met = true;
	double sp = 0;
	for (size_t s = 0; s < st->seeds; s++) {
		opt->slo_met &= ev[s].slo_met;
		x[s] = monthly_of(&ev[s].cost, o);
		sp += ev[s].spilled_share;
	}
	opt->spilled_share = sp / (double)st->seeds;
	ci(x, st->seeds, &opt->monthly, &opt->monthly_half);
	opt->per_1m = opt->monthly / (ev[0].cost.tokens_per_month / 1e6);
	if (!opt->slo_met)
		opt->why = "the fleet chosen missed an SLO on a seed";
	else if (isnan(opt->monthly))
		opt->why = "a price this option needs is not published (llmcap catalog)";
	memcpy(opt->replicas, fleet, sizeof opt->replicas);
	for (size_t p = 0; p < np; p++)
		opt->gpus += fleet[p] * llmcap_pool_gpus_per_replica(&st->sc->pools[p]);
	/* every server group: pools on a GPU of their own (pools.NAME.gpu) have their own servers,
	 * which llmcap_plan_servers leaves out */
	struct llmcap_server_group gr[LLMCAP_MAX_POOLS + 1];
	size_t ng = llmcap_server_groups(st->sc, fleet, gr, NULL);
	for (size_t j = 0; j < ng; j++)
		opt->servers += gr[j].servers > 0 ? gr[j].servers : 0;
}

static bool candidate(const struct llmcap_decide_option *o)
{
	return o->sized && o->slo_met && isfinite(o->monthly);
}

static void assemble(const struct study *st, size_t v, struct llmcap_decision *out)
{
	memset(out, 0, sizeof *out);
	out->n_pools = st->sc->n_pools;
	out->best = out->runner_up = -1;
	/* the API: its bill averaged over the seeds of the first combination's sizing runs */
	const struct combo *c0 = &st->combos[v * st->n_gpus * st->n_dtypes];
	double x[LLMCAP_DECIDE_MAX_SEEDS], tok[LLMCAP_DECIDE_MAX_SEEDS];
	for (size_t s = 0; s < st->seeds; s++) {
		x[s] = c0->sized[s].cost.api_monthly;
		tok[s] = c0->sized[s].cost.tokens_per_month;
	}
	struct llmcap_decide_option *api = &out->options[out->n_options++];
	llmcap_decide_api(st->sc, st->cat, &c0->sized[0].cost, api);
	double half;
	ci(x, st->seeds, &api->monthly, &api->monthly_half);
	ci(tok, st->seeds, &out->demand_per_month, &half);
	out->tokens_per_month = c0->sized[0].tokens_per_month;
	api->per_1m = api->monthly / (out->demand_per_month / 1e6);
	for (size_t k = 0; k < st->n_gpus * st->n_dtypes; k++) {
		const struct combo *c = &st->combos[v * st->n_gpus * st->n_dtypes + k];
		for (size_t s = 0; s < st->seeds; s++)
			out->simulations += c->sized[s].simulations;
		for (int o = LLMCAP_OPTION_HYBRID; o < LLMCAP_OPTION_COUNT; o++)
			option_from_fleet(st, c, (enum llmcap_option)o, &out->options[out->n_options++]);
	}
	/* cheapest first; ties keep the order above (API, hybrid, rent, own) */
	for (size_t i = 0; i < out->n_options; i++) {
		const struct llmcap_decide_option *o = &out->options[i];
		if (!candidate(o))
			continue;
		if (out->best < 0 || o->monthly < out->options[out->best].monthly) {
			out->runner_up = out->best;
			out->best = (int)i;
		} else if (out->runner_up < 0 || o->monthly < out->options[out->runner_up].monthly) {
			out->runner_up = (int)i;
		}
	}
}

int llmcap_decide_volumes(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			  const struct llmcap_decide_spec *spec, const double *volumes, size_t n,
			  struct llmcap_decision *rows, struct llmcap_error *err)
{
	struct study st = {.sc = sc, .cat = cat, .spec = spec, .volumes = volumes, .n_volumes = n,
			   .seeds = spec->seeds ? spec->seeds : 1};
	if (st.seeds > LLMCAP_DECIDE_MAX_SEEDS || spec->n_gpus > LLMCAP_DECIDE_MAX_GPUS ||
	    spec->n_dtypes > LLMCAP_DECIDE_MAX_DTYPES || n > LLMCAP_DECIDE_MAX_VOLUMES || n == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "decide: at most %d seeds, %d GPUs, %d precisions and 1 to %d "
				     "volumes", LLMCAP_DECIDE_MAX_SEEDS, LLMCAP_DECIDE_MAX_GPUS,
				     LLMCAP_DECIDE_MAX_DTYPES, LLMCAP_DECIDE_MAX_VOLUMES);
	st.n_gpus = spec->n_gpus ? spec->n_gpus : 1;
	for (size_t g = 0; g < st.n_gpus; g++)
		st.gpus[g] = spec->n_gpus ? spec->gpus[g] : sc->hardware.gpu;
	if (spec->n_dtypes) {
		st.n_dtypes = spec->n_dtypes;
		memcpy(st.dtypes, spec->dtypes, spec->n_dtypes * sizeof *spec->dtypes);
	} else {
		/* the scenario's own precision of its largest model (the first default of breakeven) */
		int d[3];
		llmcap_breakeven_default_dtypes(sc, cat, d);
		st.n_dtypes = 1;
		st.dtypes[0] = d[0];
	}
	st.n_combos = n * st.n_gpus * st.n_dtypes;
	size_t per_b = st.seeds * (1 + LLMCAP_DECIDE_HYBRID_CANDIDATES);
	size_t slots = st.n_combos * per_b;
	st.combos = calloc(st.n_combos ? st.n_combos : 1, sizeof *st.combos);
	st.rcs = calloc(slots ? slots : 1, sizeof *st.rcs);
	st.errs = calloc(slots ? slots : 1, sizeof *st.errs);
	int rc = 0;
	if (!st.combos || !st.rcs || !st.errs) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < st.n_combos; i++) {
		st.combos[i].v = i / (st.n_gpus * st.n_dtypes);
		st.combos[i].g = i / st.n_dtypes % st.n_gpus;
		st.combos[i].d = i % st.n_dtypes;
	}
	/* A: seed 0 sized first, volume after volume per (GPU, precision), each bracketed by the
	 * lower volume's answer; its fleet the start of the other seeds' searches */
	for (size_t j = 0; j < n; j++)
		st.order[j] = j;
	for (size_t j = 1; j < n; j++)
		for (size_t k = j; k > 0 && volumes[st.order[k]] < volumes[st.order[k - 1]]; k--) {
			size_t t = st.order[k];
			st.order[k] = st.order[k - 1];
			st.order[k - 1] = t;
		}
	llmcap_study_parallel_for(st.n_gpus * st.n_dtypes, spec->threads, size_chain, &st,
				  &spec->progress);
	if ((rc = llmcap_first_error(st.rcs, st.errs, st.n_combos * st.seeds, err)))
		goto done;
	if (st.seeds > 1) {
		llmcap_study_parallel_for(st.n_combos * (st.seeds - 1), spec->threads, size_one, &st,
					  &spec->progress);
		if ((rc = llmcap_first_error(st.rcs, st.errs, st.n_combos * st.seeds, err)))
			goto done;
	}
	for (size_t i = 0; i < st.n_combos; i++) {
		struct combo *c = &st.combos[i];
		c->feasible = true;
		for (size_t s = 0; s < st.seeds; s++)
			c->feasible &= c->sized[s].feasible;
		for (size_t p = 0; p < sc->n_pools; p++)
			for (size_t s = 0; s < st.seeds; s++)
				if (c->sized[s].replicas[p] > c->chosen[p])
					c->chosen[p] = c->sized[s].replicas[p];
		if (c->feasible)
			hybrid_candidates(c, sc->n_pools);
	}
	/* B: the chosen fleet on every seed (a seed whose own answer it is reuses its run) and
	 * the hybrid baselines */
	llmcap_study_parallel_for(slots, spec->threads, eval_one, &st, &spec->progress);
	if ((rc = llmcap_first_error(st.rcs, st.errs, slots, err)))
		goto done;
	if (st.seeds > 1) {
		st.hybrid_rest = true;
		llmcap_study_parallel_for(slots, spec->threads, eval_one, &st, &spec->progress);
		if ((rc = llmcap_first_error(st.rcs, st.errs, slots, err)))
			goto done;
	}
	for (size_t v = 0; v < n; v++) {
		assemble(&st, v, &rows[v]);
		for (size_t p = 0; p < sc->n_pools; p++) /* rent_autoscaled's runs were asked for */
			rows[v].rent_autoscaled |= sc->pools[p].autoscale.enabled || spec->rent_autoscale;
		for (size_t i = 0; i < st.n_combos; i++)
			if (st.combos[i].v == v)
				for (size_t s = 0; s < per_b; s++) {
					const struct combo *c = &st.combos[i];
					size_t ss = s % st.seeds, h = s / st.seeds;
					bool ran = c->feasible &&
						   (h == 0 ? memcmp(c->sized[ss].replicas, c->chosen,
								    sizeof c->chosen) != 0
						    : h <= c->n_hybrid &&
							      (ss == 0 || c->hyb[h - 1][0].slo_met));
					rows[v].simulations += ran;
				}
	}
	/* each pool on its own GPU (issue 21; sim/study/pool_gpus.c) */
	for (size_t v = 0; spec->pool_gpus && v < n && !rc; v++)
		rc = llmcap_decide_add_pool_gpus(sc, cat, volumes[v], spec, &rows[v], err);
done:
	free(st.combos);
	free(st.rcs);
	free(st.errs);
	return rc;
}

int llmcap_decide(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		  const struct llmcap_decide_spec *spec, struct llmcap_decision *out,
		  struct llmcap_error *err)
{
	double v = spec->tokens_per_month;
	return llmcap_decide_volumes(sc, cat, spec, &v, 1, out, err);
}

int llmcap_decide_write_csv(const char *path, bool force, const struct llmcap_decision *rows,
			    size_t n, struct llmcap_error *err)
{
	struct llmcap_outfile *of = malloc(sizeof *of);
	if (!of)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
	if (llmcap_outfile_begin(of, path, force, err) != 0) {
		free(of);
		return -1;
	}
	/* 0666 less the umask, as any new file */
	int fd = open(of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = 0;
	if (!f) {
		rc = llmcap_errorf(err, LLMCAP_EIO, "%s: cannot create: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "tokens_per_month,option,gpu,dtype,slo_met,monthly,monthly_ci95,per_1m,gpus,"
		   "best,demand_per_month\n");
	for (size_t v = 0; v < n; v++)
		for (size_t i = 0; i < rows[v].n_options; i++) {
			const struct llmcap_decide_option *o = &rows[v].options[i];
			fprintf(f, "%.6g,%s,%s,%s,%d,%.2f,%.2f,%.4f,%lld,%d,%.6g\n",
				rows[v].tokens_per_month, llmcap_option_names[o->option], o->gpu,
				o->dtype >= 0 ? llmcap_dtype_names[o->dtype] : "", o->slo_met && o->sized,
				o->monthly, o->monthly_half, o->per_1m, (long long)o->gpus,
				rows[v].best == (int)i, rows[v].demand_per_month);
		}
	bool bad = ferror(f) != 0 || fflush(f) != 0;
	int e = errno;
	bad |= fclose(f) != 0;
	if (!bad)
		e = errno;
	if (bad)
		rc = llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write: %s", path, strerror(e));
	else
		rc = llmcap_outfile_commit(of, err);
out:
	llmcap_outfile_end(of); /* removes the temporary unless committed */
	free(of);
	return rc;
}

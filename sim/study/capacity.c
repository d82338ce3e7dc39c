/* Capacity searches: the highest arrival rate a fleet serves within its SLOs. See
 * include/llmcap/plan.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/plan.h"
#include "llmcap/cost.h"
#include "llmcap/perf.h"
#include "llmcap/workload.h"

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
int llmcap_max_rate(const struct llmcap_scenario *base, uint64_t seed,
		    const struct llmcap_catalog *cat, double tolerance, double *best, int *sims,
		    struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	*sc = *base; /* shallow: reads only what the base owns */
	sc->seed = seed;
	double r0 = llmcap_scenario_mean_rate(sc), lo = 0, hi = 0;
	bool ok;
	int rc = slo_holds(sc, cat, r0, &ok, err);
	(*sims)++;
	if (rc == 0 && ok) {
		lo = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, cat, lo * 2, &ok, err);
			(*sims)++;
			if (!ok) {
				hi = lo * 2;
				break;
			}
			lo *= 2;
		}
	} else if (rc == 0) {
		hi = r0;
		for (int i = 0; rc == 0 && i < 40; i++) {
			rc = slo_holds(sc, cat, hi / 2, &ok, err);
			(*sims)++;
			if (ok) {
				lo = hi / 2;
				break;
			}
			hi /= 2;
		}
	}
	while (rc == 0 && lo > 0 && hi > 0 && hi - lo > tolerance * lo) {
		double mid = 0.5 * (lo + hi);
		rc = slo_holds(sc, cat, mid, &ok, err);
		(*sims)++;
		*(ok ? &lo : &hi) = mid;
	}
	*best = hi > 0 ? lo : INFINITY; /* never failed within 2^40 x the rate */
	free(sc);
	return rc;
}

struct seeds_job {
	const struct llmcap_scenario *base;
	const struct llmcap_catalog *cat;
	double tolerance;
	double *best;
	int *sims, *rcs;
	struct llmcap_error *errs;
};

/* One seed; writes only its own slots. */
static void rate_seed(void *ctx, size_t k)
{
	struct seeds_job *j = ctx;
	j->rcs[k] = llmcap_max_rate(j->base, j->base->seed + k, j->cat, j->tolerance, &j->best[k],
				    &j->sims[k], &j->errs[k]);
}

int llmcap_max_rate_seeds(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			  double tolerance, size_t n, long threads,
			  const struct llmcap_study_progress *progress, double *best, int *sims,
			  struct llmcap_error *err)
{
	struct seeds_job j = {.base = base, .cat = cat, .tolerance = tolerance, .best = best,
			      .sims = sims, .rcs = calloc(n ? n : 1, sizeof *j.rcs),
			      .errs = calloc(n ? n : 1, sizeof *j.errs)};
	int rc = 0;
	if (!j.rcs || !j.errs) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	} else {
		memset(sims, 0, n * sizeof *sims);
		llmcap_study_parallel_for(n, threads, rate_seed, &j, progress);
		for (size_t k = 0; k < n && rc == 0; k++)
			if (j.rcs[k])
				rc = llmcap_errorf(err, -j.rcs[k], "seed %llu: %s",
						   (unsigned long long)(base->seed + k), j.errs[k].msg);
	}
	free(j.rcs);
	free(j.errs);
	return rc;
}

/* ---- the closed-form bracket (plan.h llmcap_plan_bound) ---- */

/* Seconds of one step of `tokens` new tokens, `samples` sampling sequences and `ctx` KV tokens
 * read (as many attention pairs), the engine's CPU overheads left out. */
static double step_s(const struct llmcap_perf *pf, double tokens, double samples, double ctx)
{
	struct llmcap_step_shape s = {.tokens = (int64_t)tokens, .samples = (int64_t)samples,
				      .attn_pairs = ctx, .kv_read_tokens = ctx};
	return llmcap_perf_step_seconds(pf, &s, NULL, NULL);
}

/* Whether the closed form describes pool p's requests (plan.h: what gets no bound). */
static bool pool_bounded(const struct llmcap_scenario *sc, size_t p)
{
	const struct llmcap_pool_cfg *pl = &sc->pools[p];
	if (pl->perf_model == LLMCAP_PERF_TABLE || pl->speculative.method != LLMCAP_SPEC_OFF ||
	    pl->disaggregation.decode_pool[0] || pl->spill.waiting_above > 0 ||
	    pl->spill.kv_above > 0 || pl->parallel.pipeline_parallel_size > 1 ||
	    pl->parallel.data_parallel_attention > 1)
		return false;
	for (size_t q = 0; q < sc->n_pools; q++) /* a decode group of another pool */
		if (!strcmp(sc->pools[q].disaggregation.decode_pool, pl->name))
			return false;
	return true;
}

/* Whether class c's requests all reach pool p and its lengths are drawn independently. */
static bool class_counted(const struct llmcap_scenario *sc, size_t c, size_t p)
{
	const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
	if (strcmp(cl->pool[0] ? cl->pool : cl->name, sc->pools[p].name))
		return false;
	return cl->long_prompt_tokens == 0 && cl->max_waiting == 0 && cl->max_queue_time == 0 &&
	       cl->arrival == LLMCAP_ARRIVAL_SHARED && !llmcap_class_has_sessions(cl) &&
	       cl->prompt.kind != LLMCAP_DIST_TRACE && cl->output.kind != LLMCAP_DIST_TRACE;
}

/* The expected arrivals, all classes, of the busiest complete hour of the horizon: the mean
 * rate x the largest hourly integral of the curve. NAN where it cannot be read. */
static double busiest_hour_arrivals(const struct llmcap_scenario *sc)
{
	struct llmcap_profile *pf = malloc(sizeof *pf);
	struct llmcap_error err = {0};
	if (!pf || llmcap_profile_init(pf, &sc->workload.diurnal, sc->workload.start_day, &err) != 0) {
		free(pf);
		return NAN;
	}
	double hi = 0;
	for (llmcap_time t = 0; t + LLMCAP_HOUR <= sc->horizon; t += LLMCAP_HOUR)
		hi = fmax(hi, llmcap_profile_integral(pf, t + LLMCAP_HOUR) -
				      llmcap_profile_integral(pf, t));
	free(pf);
	return llmcap_scenario_mean_rate(sc) * hi;
}

/* Pool p's latency floors against its classes' targets: the reason in out->why when one is
 * above a target for more than 2% of a class's requests. */
static void latency_floor(const struct llmcap_scenario *sc, size_t p,
			  const struct llmcap_perf *pf, struct llmcap_plan_bound *out)
{
	const struct llmcap_pool_cfg *pl = &sc->pools[p];
	for (size_t c = 0; c < sc->workload.n_classes && !out->unreachable; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		if (!class_counted(sc, c, p))
			continue;
		/* TPOT: a batch of one at the shortest prompt's context */
		double tpot = LLMCAP_PLAN_BOUND_MARGIN * step_s(pf, 1, 1, (double)cl->prompt.min + 1);
		double longer = 1 - llmcap_dist_cdf(&cl->output, 1); /* share with a decode step */
		if (cl->slo_tpot_p99 > 0 && tpot > (double)cl->slo_tpot_p99 * 1e-9 && longer > 0.02) {
			out->unreachable = true;
			snprintf(out->why, sizeof out->why,
				 "class %s: one decode step alone on a %s replica of pools.%s takes "
				 "%.1f ms, above its TPOT target of %.1f ms at any fleet size",
				 cl->name, llmcap_pool_gpu(sc, p), pl->name, tpot / LLMCAP_PLAN_BOUND_MARGIN * 1e3,
				 (double)cl->slo_tpot_p99 * 1e-6);
			return;
		}
		/* TTFT: the prompt in one step (chunks only add time); with prefix caching a
		 * cached prompt computes less: no floor */
		if (pl->enable_prefix_caching || cl->slo_ttft_p99 <= 0)
			continue;
		int64_t lo = cl->prompt.min > 1 ? cl->prompt.min : 1, hi = cl->prompt.max;
		double target = (double)cl->slo_ttft_p99 * 1e-9;
		if (hi < lo || LLMCAP_PLAN_BOUND_MARGIN * step_s(pf, (double)hi, 1, 0) <= target)
			continue;
		while (hi - lo > 1) { /* the shortest prompt whose floor is above the target */
			int64_t mid = lo + (hi - lo) / 2;
			*(LLMCAP_PLAN_BOUND_MARGIN * step_s(pf, (double)mid, 1, 0) > target ? &hi : &lo) =
				mid;
		}
		if (LLMCAP_PLAN_BOUND_MARGIN * step_s(pf, (double)lo, 1, 0) > target)
			hi = lo;
		double above = 1 - llmcap_dist_cdf(&cl->prompt, hi - 1);
		if (above > 0.02) {
			out->unreachable = true;
			snprintf(out->why, sizeof out->why,
				 "class %s: %.0f%% of its prompts (%lld tokens and more) take longer "
				 "than its TTFT target of %.0f ms to compute alone on a %s replica of "
				 "pools.%s, at any fleet size",
				 cl->name, 100 * above, (long long)hi, target * 1e3,
				 llmcap_pool_gpu(sc, p), pl->name);
		}
	}
}

int llmcap_plan_bound(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		      struct llmcap_plan_bound *out, struct llmcap_error *err)
{
	memset(out, 0, sizeof *out);
	bool open = !sc->workload.trace.file[0] && sc->workload.clients.concurrency == 0 &&
		    sc->workload.arrival == LLMCAP_ARRIVAL_POISSON;
	double arrivals = open ? busiest_hour_arrivals(sc) : NAN;
	double shares = 0;
	for (size_t c = 0; c < sc->workload.n_classes; c++)
		shares += sc->workload.classes[c].share;
	for (size_t p = 0; p < sc->n_pools && open; p++) {
		const struct llmcap_pool_cfg *pl = &sc->pools[p];
		if (!pool_bounded(sc, p))
			continue;
		const struct llmcap_model_spec *m = llmcap_catalog_model(cat, pl->model);
		const struct llmcap_engine_spec *e = llmcap_catalog_engine(cat, pl->engine);
		const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(cat, llmcap_pool_gpu(sc, p));
		if (!m || !e || !g)
			return llmcap_errorf(err, LLMCAP_EINVAL, "%s: pools.%s: model, engine or GPU "
					     "not in the catalog", pl->where, pl->name);
		struct llmcap_memory_plan plan;
		int rc = llmcap_memory_plan_pool(cat, m, g, e, pl, &plan, err);
		struct llmcap_perf pf;
		if (rc || (rc = llmcap_perf_init(&pf, m, g, e, pl, err)))
			return rc;
		pf.step_overhead_s = pf.seq_overhead_s = pf.eager_s = 0;
		latency_floor(sc, p, &pf, out);
		/* the cheapest decode token: the largest batch's time per sequence, the batch at
		 * most max_num_seqs, the cache's blocks, and the largest whose step at the mean
		 * decode context (per decode step of the pool's classes) stays within the loosest
		 * TPOT target (x the margin): a request's TPOT is the mean of its steps, so a
		 * larger batch held for long misses it */
		int64_t batch = pl->max_num_seqs < plan.num_blocks ? pl->max_num_seqs : plan.num_blocks;
		double ctx_sum = 0, dec_sum = 0, loosest = 0;
		for (size_t c = 0; c < sc->workload.n_classes; c++) {
			const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
			if (!class_counted(sc, c, p))
				continue;
			double w = cl->share, pm = llmcap_dist_mean(&cl->prompt);
			double dm = llmcap_dist_mean(&cl->output) - 1;
			ctx_sum += w * (pm * dm + dm * dm / 2);
			dec_sum += w * dm;
			loosest = cl->slo_tpot_p99 > 0 && loosest >= 0
					  ? fmax(loosest, (double)cl->slo_tpot_p99 * 1e-9)
					  : -1; /* a class without a target: no cap */
		}
		double ctx_mean = dec_sum > 0 ? ctx_sum / dec_sum : 0;
		if (loosest > 0)
			for (int64_t s = 1; s <= batch && s <= 4096; s++)
				if (LLMCAP_PLAN_BOUND_MARGIN *
					    step_s(&pf, (double)s, (double)s, (double)s * ctx_mean) >
				    loosest) {
					batch = s > 1 ? s - 1 : 1;
					break;
				}
		double per_decode = INFINITY, per_token = INFINITY;
		for (int64_t s = 1; s <= batch && s <= 4096; s++)
			per_decode = fmin(per_decode, step_s(&pf, (double)s, (double)s, 0) / (double)s);
		/* the cheapest token of any kind: the largest step's time per token */
		int64_t most = pl->max_num_batched_tokens;
		for (size_t c = 0; c < sc->workload.n_classes; c++)
			if (class_counted(sc, c, p) && sc->workload.classes[c].prompt.max > most)
				most = sc->workload.classes[c].prompt.max;
		most = most < 65536 ? most : 65536;
		for (int64_t t = 1; t <= most; t += t < 64 ? 1 : t / 64)
			per_token = fmin(per_token, step_s(&pf, (double)t, 1, 0) / (double)t);
		per_token = fmin(per_token, step_s(&pf, (double)most, 1, 0) / (double)most);
		/* a KV token read in a decode step (attention is linear in it) */
		const double k = 1e6;
		double per_ctx = (step_s(&pf, 1, 1, k) - step_s(&pf, 1, 1, 0)) / k;
		/* a decode step's sequences read at most the KV cache: per KV token read, at
		 * least a step of one / the cache's tokens */
		double per_kv_step = step_s(&pf, 1, 1, 0) / (double)plan.kv_tokens;
		llmcap_perf_free(&pf);
		/* work of the busiest hour, replica-seconds: decode bound A, token bound B */
		double ea = 0, eb = 0, ec = 0, va = 0, vb = 0, vc = 0, slack = 0;
		for (size_t c = 0; c < sc->workload.n_classes; c++) {
			const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
			if (!class_counted(sc, c, p))
				continue;
			double n = arrivals * cl->share / shares;
			double pm = llmcap_dist_mean(&cl->prompt), dm = llmcap_dist_mean(&cl->output) - 1;
			double pmax = (double)cl->prompt.max, dmax = (double)cl->output.max - 1;
			/* decode steps j = 1 .. D - 1 read P + j >= P + j tokens: E >= E[P] E[D-1]
			 * + E[D-1]^2 / 2 (independent draws, Jensen) */
			double wa = dm * per_decode + (pm * dm + dm * dm / 2) * per_ctx;
			double wamax = dmax * per_decode + (pmax * dmax + dmax * dmax / 2) * per_ctx;
			double wb = (pm + dm + 1) * per_token, wbmax = (pmax + dmax + 1) * per_token;
			double wc = (pm * dm + dm * dm / 2) * per_kv_step;
			double wcmax = (pmax * dmax + dmax * dmax / 2) * per_kv_step;
			ec += n * wc;
			vc += n * wcmax * wc;
			ea += n * wa;
			eb += n * wb;
			va += n * wamax * wa; /* E[w^2] <= max w x E[w] */
			vb += n * wbmax * wb;
			slack = fmax(slack, (double)(cl->slo_ttft_p99 + cl->slo_tpot_p99 * (int64_t)dmax) * 1e-9);
		}
		double work = fmax(fmax(ea - 6 * sqrt(va), eb - 6 * sqrt(vb)), ec - 6 * sqrt(vc));
		if (!(work > 0) || !isfinite(work))
			continue;
		out->demand[p] = 0.97 * work / (3600.0 + slack);
		double lower = ceil(LLMCAP_PLAN_BOUND_MARGIN * out->demand[p]);
		out->lower[p] = lower >= LLMCAP_PLAN_MAX_REPLICAS ? LLMCAP_PLAN_MAX_REPLICAS
								   : (int64_t)lower;
	}
	return 0;
}

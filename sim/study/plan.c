/* Capacity search and break-even. See include/llmcap/plan.h. */
#include "llmcap/plan.h"

#include "llmcap/sweep.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Index of the largest model's pools (by parameters); they take the dtype alternatives. */
static double pool_params(const struct llmcap_catalog *cat, const struct llmcap_pool_cfg *p)
{
	struct llmcap_param_count pc;
	const struct llmcap_model_spec *m = llmcap_catalog_model(cat, p->model);
	if (!m)
		return 0;
	llmcap_model_params(m, &pc);
	return pc.total;
}

/* Servers needed for the replicas: first fit, largest replicas first; a replica larger than a
 * server (pipeline stages, data-parallel attention) takes whole servers of its own. */
int64_t llmcap_plan_servers(const struct llmcap_scenario *sc, const int64_t *replicas)
{
	int64_t g = sc->hardware.gpus_per_server, servers = 0, gpus = 0, whole = 0, largest = 1;
	/* pools on their own GPU type (pools.NAME.gpu) have servers of their own (cost.h) */
	int64_t own[LLMCAP_MAX_POOLS];
	for (size_t p = 0; p < sc->n_pools; p++)
		own[p] = llmcap_pool_own_servers(sc, p) ? 0 : replicas[p];
	replicas = own;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const int64_t size = llmcap_pool_gpus_per_replica(&sc->pools[p]);
		if (size > g)
			whole += replicas[p] * ((size + g - 1) / g);
		else
			gpus += replicas[p] * size;
		largest = size > largest && size <= g ? size : largest;
	}
	/* sizes are powers of two no larger than a server; when they divide g, ceil(gpus / g)
	 * servers always pack them; otherwise pack explicitly */
	bool divides = true;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const int64_t size = llmcap_pool_gpus_per_replica(&sc->pools[p]);
		divides &= !replicas[p] || size > g || g % size == 0;
	}
	if (divides)
		return whole + (gpus ? (gpus + g - 1) / g : (whole ? 0 : 1));
	int64_t free_in_last = 0;
	for (int64_t size = largest; size >= 1; size--)
		for (size_t p = 0; p < sc->n_pools; p++)
			if (llmcap_pool_gpus_per_replica(&sc->pools[p]) == size)
				for (int64_t r = 0; r < replicas[p]; r++) {
					if (free_in_last < size) {
						servers++;
						free_in_last = g;
					}
					free_in_last -= size;
				}
	servers += whole;
	return servers ? servers : 1;
}

/* Disaggregated prefill and decode (pools.NAME.disaggregation): a class of prefill pool p that
 * missed its busiest-hour SLOs fails the group that answers for the target it missed, so that
 * the search sizes the two groups separately: the decode group for TPOT and for the decode
 * queue (TTFT missed while the decode queue's p99 takes at least half the TTFT target: the
 * decode group has no room for the handed-over KV), the prefill group for the rest of TTFT;
 * both where both targets were met but requests were lost. Returns false, with nothing done,
 * where p is not a prefill group. */
static bool disaggregated_miss(const struct llmcap_scenario *sc, struct llmcap_results *res,
			       const struct llmcap_summary *sum, size_t c, size_t p, bool *pass)
{
	const struct llmcap_disagg_stats *ds = &res->disagg[p];
	if (!ds->on)
		return false;
	const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
	const size_t d = (size_t)ds->decode_pool;
	const bool ttft_ok = sum->peak.ttft_p99[c] <= (double)cl->slo_ttft_p99 * 1e-9;
	const bool tpot_ok = !(sum->peak.tpot_p99[c] > (double)cl->slo_tpot_p99 * 1e-9);
	const double queue_p99 = llmcap_quantiles_get(&res->disagg[p].decode_queue, 0.99);
	if (ttft_ok == tpot_ok) {
		pass[p] = pass[d] = false;
		return true;
	}
	if (!tpot_ok)
		pass[d] = false;
	else if (queue_p99 >= 0.5 * (double)cl->slo_ttft_p99 * 1e-9)
		pass[d] = false;
	else
		pass[p] = false;
	return true;
}

/* ---- the fast search: the busiest-hour window, the month's cost, the early stop ---- */

static size_t pool_of_class(const struct llmcap_scenario *sc, size_t c)
{
	const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
	const char *pool = cl->pool[0] ? cl->pool : cl->name;
	for (size_t p = 0; p < sc->n_pools; p++)
		if (!strcmp(sc->pools[p].name, pool))
			return p;
	return 0;
}

bool llmcap_plan_window(const struct llmcap_scenario *full, struct llmcap_scenario *win)
{
	*win = *full; /* shallow: only reads what `full` owns */
	const struct llmcap_diurnal_cfg *d = &full->workload.diurnal;
	bool ok = !full->workload.trace.file[0] && full->workload.clients.concurrency == 0 &&
		  d->shape == LLMCAP_DIURNAL_SMOOTH && d->n_days == 0 && d->weekend_factor == 1.0 &&
		  full->output.percentiles == LLMCAP_PERCENTILES_EXACT && full->horizon >= LLMCAP_DAY;
	for (size_t c = 0; c < full->workload.n_classes && ok; c++)
		ok = full->workload.classes[c].arrival == LLMCAP_ARRIVAL_SHARED &&
		     full->workload.classes[c].prompt.kind != LLMCAP_DIST_TRACE &&
		     full->workload.classes[c].output.kind != LLMCAP_DIST_TRACE;
	if (!ok)
		return false;
	/* the curve is a function of (hour - peak_hour) alone: moving the peak to 1.5 h makes
	 * simulated hour 1 the hour centred on it; a flat curve has every hour alike */
	win->workload.diurnal.peak_hour = 1.5;
	win->horizon = 2 * LLMCAP_HOUR + LLMCAP_PLAN_DRAIN;
	/* the same mean rate as the full day (the curve's mean is over the day, not the window) */
	if (isnan(full->workload.rate))
		win->workload.tokens_per_month = full->workload.tokens_per_month;
	return true;
}

void llmcap_plan_month_cost(const struct llmcap_scenario *full, const struct llmcap_results *win,
			    struct llmcap_cost *out)
{
	struct llmcap_usage use;
	llmcap_results_usage(win, &use);
	int64_t arrived = 0;
	for (size_t c = 0; c < win->n_classes; c++)
		arrived += win->classes[c].arrived;
	double h_full = (double)full->horizon, h_win = (double)win->horizon;
	/* arrivals of the full horizon over the window's: what per-request quantities scale by */
	double k = arrived ? llmcap_scenario_mean_rate(full) * h_full * 1e-9 / (double)arrived : 0;
	use.horizon = full->horizon;
	use.busy_gpus *= k * h_win / h_full; /* busy GPU-time, per request as in the window */
	for (size_t p = 0; p < use.n_pools; p++) {
		use.pools[p].replica_hours *= h_full / h_win;
		use.pools[p].burst_replica_hours *= h_full / h_win;
	}
	for (size_t c = 0; c < use.n_classes; c++) {
		struct llmcap_usage_class *u = &use.classes[c];
		u->prompt_tokens *= k;
		u->output_tokens *= k;
		u->completed_prompt_tokens *= k;
		u->completed_output_tokens *= k;
		u->spilled_prompt_tokens *= k;
		u->spilled_output_tokens *= k;
	}
	/* the window's fleet (replicas, servers) on the full scenario */
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc) {
		memset(out, 0, sizeof *out);
		out->self_monthly = out->api_monthly = NAN;
		return;
	}
	*sc = *full;
	for (size_t p = 0; p < sc->n_pools; p++)
		sc->pools[p].replicas = win->sc->pools[p].replicas;
	sc->hardware.servers = win->sc->hardware.servers;
	llmcap_cost_compute(sc, &use, out);
	free(sc);
}

static int slo_stop_request(void *user, const struct llmcap_request_record *r)
{
	struct llmcap_slo_stop *st = user;
	const struct llmcap_class_cfg *cl = &st->sc->workload.classes[r->cls];
	bool miss;
	if (r->status == LLMCAP_REQ_COMPLETED)
		miss = r->ttft > (double)cl->slo_ttft_p99 * 1e-9 ||
		       (r->output_tokens > 1 && r->tpot > (double)cl->slo_tpot_p99 * 1e-9);
	else
		miss = !llmcap_status_is_spilled(r->status); /* rejected or unfinished: lost */
	if (!miss)
		return 0;
	/* only complete hours are judged (the busiest hour is one of them) */
	size_t h = (size_t)(r->arrival / 3600.0);
	if (h >= st->hours)
		return 0;
	int64_t *m = &st->misses[(size_t)r->cls * st->hours + h];
	if ((double)++*m > st->bound[r->cls]) {
		st->lost_class = r->cls;
		return -LLMCAP_ESLO_LOST;
	}
	return 0;
}

int llmcap_slo_stop_init(struct llmcap_slo_stop *st, const struct llmcap_scenario *sc)
{
	memset(st, 0, sizeof *st);
	st->sc = sc;
	st->lost_class = -1;
	st->hours = (size_t)(sc->horizon / LLMCAP_HOUR);
	st->misses = calloc((st->hours ? st->hours : 1) *
				    (sc->workload.n_classes ? sc->workload.n_classes : 1),
			    sizeof *st->misses);
	if (!st->misses)
		return -LLMCAP_ENOMEM;
	/* the busiest hour's arrivals at the smooth curve's peak rate (peak_to_mean x the mean),
	 * an upper bound with its Poisson spread; any other curve or source: every arrival of
	 * the horizon (a weaker stop, never a wrong one) */
	const struct llmcap_diurnal_cfg *d = &sc->workload.diurnal;
	bool smooth = d->shape == LLMCAP_DIURNAL_SMOOTH && d->n_days == 0 &&
		      d->weekend_factor == 1.0 && !sc->workload.trace.file[0] &&
		      sc->workload.arrival == LLMCAP_ARRIVAL_POISSON &&
		      sc->workload.clients.concurrency == 0;
	double total = 0, span = 3600.0 * fmax(1.0, d->peak_to_mean);
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		total += sc->workload.classes[c].share;
		smooth &= sc->workload.classes[c].arrival == LLMCAP_ARRIVAL_SHARED;
	}
	if (!smooth)
		span = (double)sc->horizon * 1e-9;
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		double n = llmcap_scenario_mean_rate(sc) * span * sc->workload.classes[c].share / total;
		st->bound[c] = 0.03 * (n + 6 * sqrt(n) + 10) + 3;
	}
	st->sink.user = st;
	st->sink.request = slo_stop_request;
	return 0;
}

void llmcap_slo_stop_free(struct llmcap_slo_stop *st)
{
	free(st->misses);
	st->misses = NULL;
}

/* Runs `sc` and reports, per pool, whether all its classes met their busiest-hour SLOs.
 * fast: `sc` is a window of `full` (its cost a month of it), and the run stops once an SLO is
 * lost: the pools of the class that stopped it fail, and known[p] is false for the others
 * (nothing is learnt about them). */
static int trial_fast(struct llmcap_scenario *sc, const struct llmcap_catalog *cat, bool *pass,
		      bool *known, const struct llmcap_scenario *full, bool fast,
		      struct llmcap_fleet *out, struct llmcap_error *err)
{
	struct llmcap_results res;
	struct llmcap_summary sum;
	int rc = llmcap_scenario_check(sc, cat, err);
	if (rc)
		return rc;
	for (size_t p = 0; p < sc->n_pools; p++)
		known[p] = true;
	struct llmcap_slo_stop stop;
	if (fast && llmcap_slo_stop_init(&stop, sc) != 0)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	rc = llmcap_simulate(sc, cat, fast ? &stop.sink : NULL, &res, err);
	int lost = fast ? stop.lost_class : -1;
	if (fast)
		llmcap_slo_stop_free(&stop);
	out->simulations++;
	if (rc && lost >= 0) {
		size_t lp = pool_of_class(sc, (size_t)lost);
		for (size_t p = 0; p < sc->n_pools; p++) {
			known[p] = p == lp;
			pass[p] = false;
		}
		out->slo_met = false;
		return 0;
	}
	if (rc)
		return rc;
	if (llmcap_summarize(&res, &sum) != 0) {
		llmcap_results_free(&res);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	for (size_t p = 0; p < sc->n_pools; p++) {
		pass[p] = true;
		out->busy[p] = sum.pool_util[p].busy;
	}
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		const char *pool = cl->pool[0] ? cl->pool : cl->name;
		for (size_t p = 0; p < sc->n_pools; p++)
			if (!strcmp(sc->pools[p].name, pool) && !sum.peak.slo_met[c] &&
			    !disaggregated_miss(sc, &res, &sum, c, p, pass))
				pass[p] = false;
	}
	out->slo_met = sum.peak.all_slo_met;
	if (fast)
		llmcap_plan_month_cost(full, &res, &out->cost);
	else
		llmcap_results_cost(&res, &out->cost);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	return 0;
}

static void apply_fleet(struct llmcap_scenario *sc, const int64_t *replicas)
{
	for (size_t p = 0; p < sc->n_pools; p++)
		sc->pools[p].replicas = replicas[p];
	sc->hardware.servers = llmcap_plan_servers(sc, replicas);
}

int llmcap_plan_fleet(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
		      double tokens_per_month, int dtype, struct llmcap_fleet *out,
		      struct llmcap_error *err)
{
	return llmcap_plan_fleet_from(base, cat, tokens_per_month, dtype, NULL, NULL, out, err);
}

int llmcap_plan_fleet_from(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			   double tokens_per_month, int dtype, const int64_t *start,
			   const int64_t *fails, struct llmcap_fleet *out, struct llmcap_error *err)
{
	return llmcap_plan_fleet_fast(base, cat, tokens_per_month, dtype, start, fails, false, out,
				      err);
}

int llmcap_plan_fleet_fast(const struct llmcap_scenario *base, const struct llmcap_catalog *cat,
			   double tokens_per_month, int dtype, const int64_t *start,
			   const int64_t *fails, bool fast, struct llmcap_fleet *out,
			   struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(2 * sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	struct llmcap_scenario *full = sc + 1; /* what the window's cost is a month of */
	/* A shallow copy: the copy only reads what the base owns (trace columns) */
	*sc = *base;
	memset(out, 0, sizeof *out);
	out->dtype = dtype;
	if (!isnan(tokens_per_month)) {
		sc->workload.rate = NAN;
		sc->workload.tokens_per_month = tokens_per_month;
	}
	out->tokens_per_month = llmcap_scenario_mean_rate(sc) * LLMCAP_MONTH_SECONDS *
				llmcap_scenario_tokens_per_request(sc);
	if (dtype >= 0) {
		double biggest = 0;
		for (size_t p = 0; p < sc->n_pools; p++)
			biggest = fmax(biggest, pool_params(cat, &sc->pools[p]));
		for (size_t p = 0; p < sc->n_pools; p++)
			if (pool_params(cat, &sc->pools[p]) == biggest)
				sc->pools[p].dtype = (enum llmcap_dtype)dtype;
	}
	*full = *sc;
	if (fast && !llmcap_plan_window(full, sc))
		*sc = *full; /* no window: the whole horizon, still stopped early */
	int64_t lo[LLMCAP_MAX_POOLS], hi[LLMCAP_MAX_POOLS], cand[LLMCAP_MAX_POOLS];
	bool pass[LLMCAP_MAX_POOLS], done[LLMCAP_MAX_POOLS], first[LLMCAP_MAX_POOLS];
	bool known[LLMCAP_MAX_POOLS], whole = false; /* whole: the last trial ran to its end */
	int64_t step[LLMCAP_MAX_POOLS] = {0}; /* galloping from a start, up or down */
	bool down[LLMCAP_MAX_POOLS] = {0};
	int64_t simulated[LLMCAP_MAX_POOLS]; /* the fleet of the last trial */
	for (size_t p = 0; p < sc->n_pools; p++) {
		/* known to fail: zero replicas serve nothing, or the caller knows more */
		lo[p] = fails && fails[p] > 0 ? fails[p] : 0;
		hi[p] = -1;
		cand[p] = start && start[p] >= 1 ? (start[p] < LLMCAP_PLAN_MAX_REPLICAS
							 ? start[p] : LLMCAP_PLAN_MAX_REPLICAS)
						  : 1;
		done[p] = false;
		first[p] = true;
	}
	int rc = 0;
	out->feasible = true;
	for (;;) {
		apply_fleet(sc, cand);
		memcpy(simulated, cand, sizeof simulated);
		rc = trial_fast(sc, cat, pass, known, full, fast, out, err);
		if (rc)
			break;
		whole = true;
		for (size_t p = 0; p < sc->n_pools; p++)
			whole &= known[p];
		bool all = true;
		for (size_t p = 0; p < sc->n_pools; p++) {
			if (done[p] || !known[p]) {
				all &= done[p];
				continue;
			}
			if (pass[p])
				hi[p] = cand[p];
			else
				lo[p] = cand[p];
			bool was_first = first[p];
			first[p] = false;
			if (hi[p] < 0) {
				if (cand[p] >= LLMCAP_PLAN_MAX_REPLICAS) {
					out->feasible = false;
					done[p] = true;
					continue;
				}
				/* from a start (an estimate): up in steps from 1/16 of it, doubling;
				 * without one: doubling */
				int64_t next = cand[p] * 2;
				if (start && start[p] >= 1) {
					if (step[p] < 1)
						step[p] = start[p] / 16 > 1 ? start[p] / 16 : 1;
					next = cand[p] + step[p];
					step[p] *= 2;
				}
				cand[p] = next > LLMCAP_PLAN_MAX_REPLICAS ? LLMCAP_PLAN_MAX_REPLICAS : next;
			} else if (hi[p] - lo[p] <= 1) {
				cand[p] = hi[p];
				done[p] = true;
			} else if (was_first && start && hi[p] == start[p]) {
				/* a start that passes is most often the answer: one below settles it */
				cand[p] = hi[p] - 1;
				down[p] = true;
			} else if (down[p] && pass[p]) {
				/* below a start that passed twice: down in steps from 1/16 of it,
				 * doubling, never below the bisection's point */
				if (step[p] < 1)
					step[p] = start[p] / 16 > 2 ? start[p] / 16 : 2;
				int64_t mid = (lo[p] + hi[p]) / 2;
				cand[p] = hi[p] - step[p] > mid ? hi[p] - step[p] : mid;
				step[p] *= 2;
			} else {
				down[p] = false;
				cand[p] = (lo[p] + hi[p]) / 2;
			}
			all &= done[p];
		}
		if (all || !out->feasible)
			break;
	}
	if (rc == 0 && out->feasible) {
		/* the answer, simulated as a whole, gives the cost and utilisation: the last trial
		 * when it was that fleet (a simulation is deterministic), else once more */
		apply_fleet(sc, cand);
		if (!whole || memcmp(simulated, cand, sc->n_pools * sizeof *cand) != 0)
			rc = trial_fast(sc, cat, pass, known, full, fast, out, err);
	}
	if (rc == 0) {
		for (size_t p = 0; p < sc->n_pools; p++) {
			out->replicas[p] = cand[p];
			out->gpus += cand[p] * llmcap_pool_gpus_per_replica(&sc->pools[p]);
		}
		/* every GPU type's servers (pools on their own GPUs have their own: cost.h) */
		struct llmcap_server_group gr[LLMCAP_MAX_POOLS + 1];
		size_t ng = llmcap_server_groups(sc, cand, gr, NULL);
		out->servers = 0;
		for (size_t k = 0; k < ng; k++)
			out->servers += gr[k].servers > 0 ? gr[k].servers : 0;
	}
	free(sc);
	return rc;
}

double llmcap_plan_breakeven(const struct llmcap_fleet *rows, size_t n)
{
	const struct llmcap_fleet *prev = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct llmcap_fleet *r = &rows[i];
		if (!r->feasible)
			continue;
		double diff = r->cost.self_total - r->cost.api_total;
		if (diff <= 0) {
			if (!prev)
				return r->tokens_per_month;
			double d0 = prev->cost.self_total - prev->cost.api_total;
			return prev->tokens_per_month +
			       (r->tokens_per_month - prev->tokens_per_month) * d0 / (d0 - diff);
		}
		prev = r;
	}
	return NAN;
}

struct told_for {
	void (*fn)(void *ctx, size_t i);
	void *ctx;
	const struct llmcap_study_progress *progress;
	size_t done, n;
	pthread_mutex_t lock;
};

static void told_item(void *ctx, size_t i)
{
	struct told_for *t = ctx;
	t->fn(t->ctx, i);
	pthread_mutex_lock(&t->lock);
	t->progress->fn(t->progress->user, ++t->done, t->n);
	pthread_mutex_unlock(&t->lock);
}

void llmcap_study_parallel_for(size_t n, long threads, void (*fn)(void *ctx, size_t i), void *ctx,
			       const struct llmcap_study_progress *progress)
{
	if (!progress || !progress->fn) {
		llmcap_parallel_for(n, threads, fn, ctx);
		return;
	}
	struct told_for t = {.fn = fn, .ctx = ctx, .progress = progress, .n = n};
	pthread_mutex_init(&t.lock, NULL);
	llmcap_parallel_for(n, threads, told_item, &t);
	pthread_mutex_destroy(&t.lock);
}

/* ---- plan's candidates ---- */

/* The count is minimal, so one replica fewer misses an SLO: whichever resource is nearest its
 * end is what forced the count. KV first (preemptions or a nearly full cache mean capacity, not
 * speed, ran out); then, for a busy pool, whether its steps were nearer the compute or the HBM
 * roofline; a pool that meets its SLOs only with idle time to spare is limited by queueing (the
 * tail of the wait, or the latency of a single step). */
const char *llmcap_plan_limit(const struct llmcap_util_summary *u, const struct llmcap_pool_cfg *p)
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

/* The smallest fleet of one point, then that fleet simulated once more for the utilisation
 * behind its limits. */
static int plan_one(const struct llmcap_sweep *sw, size_t point, const struct llmcap_catalog *cat,
		    struct llmcap_plan_candidate *c, struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	int rc = llmcap_sweep_scenario(sw, point, cat, sc, err);
	if (rc) {
		free(sc);
		return rc;
	}
	rc = llmcap_plan_fleet(sc, cat, NAN, -1, &c->fleet, err);
	if (rc == 0 && c->fleet.feasible) {
		apply_fleet(sc, c->fleet.replicas);
		sc->hardware.servers = c->fleet.servers;
		struct llmcap_results res;
		struct llmcap_summary sum;
		rc = llmcap_simulate(sc, cat, NULL, &res, err);
		if (rc == 0) {
			if (llmcap_summarize(&res, &sum) == 0) {
				memcpy(c->util, sum.pool_util, sizeof c->util);
				llmcap_summary_free(&sum);
			} else {
				rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
			}
			llmcap_results_free(&res);
		}
	}
	llmcap_scenario_free(sc);
	free(sc);
	return rc;
}

struct candidates_job {
	const struct llmcap_sweep *sw;
	const struct llmcap_catalog *cat;
	struct llmcap_plan_candidate *out;
	int *rcs;
	struct llmcap_error *errs;
};

/* One candidate; an invalid one (skip_invalid) is not planned. Writes only its own slots. */
static void plan_candidate(void *ctx, size_t i)
{
	struct candidates_job *j = ctx;
	if (llmcap_sweep_point_valid(j->sw, i))
		j->rcs[i] = plan_one(j->sw, i, j->cat, &j->out[i], &j->errs[i]);
}

/* A stable insertion sort: valid, feasible, cheaper, fewer GPUs, then the order given. */
static void rank(const struct llmcap_sweep *sw, const struct llmcap_plan_candidate *c,
		 size_t *order)
{
	size_t n = sw->n_points;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0; k--) {
			const struct llmcap_fleet *x = &c[order[k - 1]].fleet, *y = &c[order[k]].fleet;
			bool xv = llmcap_sweep_point_valid(sw, order[k - 1]),
			     yv = llmcap_sweep_point_valid(sw, order[k]);
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
}

int llmcap_plan_candidates(const struct llmcap_sweep *sw, const struct llmcap_catalog *cat,
			   long threads, const struct llmcap_study_progress *progress,
			   struct llmcap_plan_candidate *out, size_t *order, struct llmcap_error *err)
{
	size_t n = sw->n_points;
	struct candidates_job j = {.sw = sw, .cat = cat, .out = out,
				   .rcs = calloc(n ? n : 1, sizeof *j.rcs),
				   .errs = calloc(n ? n : 1, sizeof *j.errs)};
	int rc = 0;
	if (!j.rcs || !j.errs) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	} else {
		memset(out, 0, n * sizeof *out);
		llmcap_study_parallel_for(n, threads, plan_candidate, &j, progress);
		for (size_t i = 0; i < n && rc == 0; i++)
			if (j.rcs[i])
				rc = llmcap_errorf(err, -j.rcs[i], "candidate %zu: %s", i, j.errs[i].msg);
		rank(sw, out, order);
	}
	free(j.rcs);
	free(j.errs);
	return rc;
}

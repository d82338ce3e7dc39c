/* The terminal summary: latency by class, utilisation by pool, cost and a verdict. */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <string.h>

#include "llmcap/cost.h"
#include "llmcap/sim.h"

double llmcap_samples_quantile(struct llmcap_samples *s, double q)
{
	if (s->n == 0)
		return NAN;
	gsl_sort(s->v, 1, s->n);
	return gsl_stats_quantile_from_sorted_data(s->v, 1, s->n, q);
}

/* A duration with its unit, three significant figures: "6.72ms", "87.1ms", "5.18s", "1660s". */
static void fmt_time(double seconds, char *buf, size_t n)
{
	double ms = seconds * 1e3;
	if (isnan(seconds))
		snprintf(buf, n, "-");
	else if (ms < 10)
		snprintf(buf, n, "%.2fms", ms);
	else if (ms < 100)
		snprintf(buf, n, "%.1fms", ms);
	else if (ms < 1000)
		snprintf(buf, n, "%.0fms", ms);
	else if (seconds < 10)
		snprintf(buf, n, "%.2fs", seconds);
	else if (seconds < 100)
		snprintf(buf, n, "%.1fs", seconds);
	else
		snprintf(buf, n, "%.0fs", seconds);
}

/* "$273,200" */
static void fmt_usd(double v, char *buf, size_t n)
{
	char digits[64];
	snprintf(digits, sizeof digits, "%.0f", fabs(v));
	size_t len = strlen(digits), k = 0;
	if (v < 0 && k + 1 < n)
		buf[k++] = '-';
	if (k + 1 < n)
		buf[k++] = '$';
	for (size_t i = 0; i < len && k + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = digits[i];
	}
	buf[k] = '\0';
}

static void fmt_tokens(double v, char *buf, size_t n)
{
	if (v >= 1e9)
		snprintf(buf, n, "%.2fB", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.1fM", v / 1e6);
	else
		snprintf(buf, n, "%.0f", v);
}

struct class_view {
	double ttft[3], tpot[3], e2e[3], queue_p99;
	bool ttft_ok, tpot_ok;
};

static void class_view(struct llmcap_results *res, size_t c, struct class_view *v)
{
	static const double qs[3] = {0.5, 0.9, 0.99};
	struct llmcap_class_stats *cs = &res->classes[c];
	const struct llmcap_class_cfg *cl = &res->sc->workload.classes[c];
	for (int i = 0; i < 3; i++) {
		v->ttft[i] = llmcap_samples_quantile(&cs->ttft, qs[i]);
		v->tpot[i] = llmcap_samples_quantile(&cs->tpot, qs[i]);
		v->e2e[i] = llmcap_samples_quantile(&cs->e2e, qs[i]);
	}
	v->queue_p99 = llmcap_samples_quantile(&cs->queue, 0.99);
	/* Unfinished requests count against the SLO: they have waited at least this long. */
	v->ttft_ok = !isnan(v->ttft[2]) && v->ttft[2] <= (double)cl->slo_ttft_p99 * 1e-9 &&
		     cs->unfinished * 100 <= cs->arrived;
	v->tpot_ok = isnan(v->tpot[2]) || v->tpot[2] <= (double)cl->slo_tpot_p99 * 1e-9;
}

void llmcap_report(struct llmcap_results *res, FILE *out)
{
	const struct llmcap_scenario *sc = res->sc;
	char a[64], b[64], c_[64], d[64];
	double horizon_s = (double)res->horizon * 1e-9;

	llmcap_format_duration(res->horizon, a, sizeof a);
	fprintf(out, "llmcap: %s (seed %llu, horizon %s)\n\n", sc->name, (unsigned long long)sc->seed, a);

	/* -- workload -- */
	const double rate = llmcap_scenario_mean_rate(sc);
	if (isnan(sc->workload.rate)) /* derived: no exact short form */
		snprintf(a, sizeof a, "%.0f/day", rate * 86400);
	else
		llmcap_format_rate(rate, a, sizeof a);
	fprintf(out, "workload   %s mean (%.1f/min)", a, rate * 60);
	if (isnan(sc->workload.rate)) {
		fmt_tokens(sc->workload.tokens_per_month, b, sizeof b);
		fprintf(out, " from %s tokens/month", b);
	}
	if (sc->workload.arrival != LLMCAP_ARRIVAL_POISSON)
		fprintf(out, ", %s arrivals", llmcap_arrival_name(sc->workload.arrival));
	if (sc->workload.diurnal.shape == LLMCAP_DIURNAL_SMOOTH)
		fprintf(out, ", diurnal peak %gx mean at %g:00", sc->workload.diurnal.peak_to_mean,
			sc->workload.diurnal.peak_hour);
	else if (sc->workload.diurnal.shape != LLMCAP_DIURNAL_NONE)
		fprintf(out, ", diurnal profile %s", llmcap_diurnal_shape_name(sc->workload.diurnal.shape));
	fprintf(out, "\n");
	size_t busiest = 0;
	int64_t total_arrived = 0;
	for (size_t h = 0; h < res->n_hours; h++)
		if (res->arrivals_per_hour[h] > res->arrivals_per_hour[busiest])
			busiest = h;
	for (size_t cl = 0; cl < res->n_classes; cl++)
		total_arrived += res->classes[cl].arrived;
	if (res->n_hours > 0 && res->horizon >= LLMCAP_HOUR)
		fprintf(out, "           busiest hour %02zu:00-%02zu:00 of day %zu: %.1f req/min (%.2fx the simulated mean)\n",
			busiest % 24, busiest % 24 + 1, busiest / 24 + 1,
			(double)res->arrivals_per_hour[busiest] / 60.0,
			(double)res->arrivals_per_hour[busiest] / 3600.0 / ((double)total_arrived / horizon_s));
	double mean_tokens = 0, share_total = 0;
	for (size_t cl = 0; cl < res->n_classes; cl++)
		share_total += sc->workload.classes[cl].share;
	for (size_t cl = 0; cl < res->n_classes; cl++) {
		const struct llmcap_class_cfg *k = &sc->workload.classes[cl];
		double mp = llmcap_dist_mean(&k->prompt), mo = llmcap_dist_mean(&k->output);
		mean_tokens += k->share / share_total * (mp + mo);
		fprintf(out, "           class %-10s %4.0f%% -> pool %-10s prompt mean %6.0f, output mean %5.0f tokens",
			k->name, 100 * k->share / share_total, k->pool[0] ? k->pool : k->name, mp, mo);
		if (k->arrival != LLMCAP_ARRIVAL_SHARED)
			fprintf(out, ", own %s stream", llmcap_arrival_name(k->arrival));
		fprintf(out, "\n");
	}
	fmt_tokens(mean_tokens * rate * LLMCAP_MONTH_SECONDS, a, sizeof a);
	fprintf(out, "           expected %.0f tokens/request -> %s tokens/month\n\n", mean_tokens, a);

	/* -- deployment -- */
	int64_t gpus_used = 0;
	for (size_t p = 0; p < res->n_pools; p++)
		gpus_used += sc->pools[p].tensor_parallel_size * sc->pools[p].replicas;
	fprintf(out, "deployment %lld x %lld x %s, %lld of %lld GPUs in use; %.1f GiB per GPU (budget = memory x gpu_memory_utilization)\n",
		(long long)sc->hardware.servers, (long long)sc->hardware.gpus_per_server, res->gpu->name,
		(long long)gpus_used, (long long)(sc->hardware.servers * sc->hardware.gpus_per_server),
		res->gpu->memory / LLMCAP_GIB);
	fprintf(out, "  %-10s %-14s %-8s %2s %4s %7s %8s %8s %8s %8s %8s %9s %9s %8s\n", "pool", "model",
		"dtype", "TP", "repl", "params", "budget", "weights", "activ.", "other", "KV cache",
		"KV B/tok", "blocks", "max_len");
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_pool_cfg *pc = &sc->pools[p];
		const struct llmcap_memory_plan *m = &res->pools[p].plan;
		fprintf(out, "  %-10s %-14s %-8s %2lld %4lld %6.2fB %4.1f GiB %4.1f GiB %4.2f GiB %4.2f GiB %4.1f GiB %9.0f %9lld%s %8lld\n",
			pc->name, pc->model, llmcap_dtype_name(pc->dtype), (long long)pc->tensor_parallel_size,
			(long long)pc->replicas, m->params / 1e9, m->budget_bytes_per_gpu / LLMCAP_GIB,
			m->weight_bytes_per_gpu / LLMCAP_GIB, m->activation_bytes_per_gpu / LLMCAP_GIB,
			m->overhead_bytes_per_gpu / LLMCAP_GIB, m->kv_bytes_per_gpu / LLMCAP_GIB,
			m->kv_bytes_per_token, (long long)m->num_blocks, m->blocks_overridden ? "*" : "",
			(long long)m->max_model_len);
	}
	fprintf(out, "  (per replica: KV cache holds blocks x %lld tokens; KV B/tok is one GPU's share of one token)\n\n",
		(long long)sc->pools[0].block_size);

	/* -- latency -- */
	fprintf(out, "latency by class (completed requests)\n");
	fprintf(out, "  %-10s %8s %6s %6s  %21s  %18s  %18s  %s\n", "class", "done", "rej", "unfin", "TTFT p50/p90/p99", "TPOT p50/p90/p99", "E2E p50/p90/p99", "SLO p99 (TTFT, TPOT)");
	struct class_view views[LLMCAP_MAX_CLASSES];
	for (size_t cl = 0; cl < res->n_classes; cl++) {
		const struct llmcap_class_stats *cs = &res->classes[cl];
		struct class_view *v = &views[cl];
		class_view(res, cl, v);
		char t[3][16], p[3][16], e[3][16], slo_t[32], slo_p[32];
		for (int i = 0; i < 3; i++) {
			fmt_time(v->ttft[i], t[i], sizeof t[i]);
			fmt_time(v->tpot[i], p[i], sizeof p[i]);
			fmt_time(v->e2e[i], e[i], sizeof e[i]);
		}
		llmcap_format_duration(sc->workload.classes[cl].slo_ttft_p99, slo_t, sizeof slo_t);
		llmcap_format_duration(sc->workload.classes[cl].slo_tpot_p99, slo_p, sizeof slo_p);
		char tt[64], pp[64], ee[64];
		snprintf(tt, sizeof tt, "%s/%s/%s", t[0], t[1], t[2]);
		snprintf(pp, sizeof pp, "%s/%s/%s", p[0], p[1], p[2]);
		snprintf(ee, sizeof ee, "%s/%s/%s", e[0], e[1], e[2]);
		fprintf(out, "  %-10s %8lld %6lld %6lld  %21s  %18s  %18s  %s %s, %s %s\n",
			sc->workload.classes[cl].name, (long long)cs->completed, (long long)cs->rejected,
			(long long)cs->unfinished, tt, pp, ee, slo_t,
			v->ttft_ok ? "met" : "MISSED", slo_p, v->tpot_ok ? "met" : "MISSED");
	}
	fprintf(out, "\n");

	/* -- pools -- */
	fprintf(out, "pools (busy = share of time a replica executes steps; KV = share of its blocks in use)\n");
	fprintf(out, "  %-10s %6s %8s %8s %11s %11s %10s %11s %13s\n", "pool", "busy", "KV mean",
		"KV peak", "in tok/s", "out tok/s", "steps", "preemptions", "batch mean/max");
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_pool_stats *ps = &res->pools[p];
		double busy = 0, kv_mean = 0, kv_peak = 0, in = 0, outk = 0, batch = 0;
		int64_t steps = 0, pre = 0, bpeak = 0;
		for (size_t i = 0; i < ps->n_replicas; i++) {
			const struct llmcap_replica_stats *r = &res->replicas[ps->first_replica + i];
			busy += (double)r->busy / (double)res->horizon;
			kv_mean += r->kv_block_time / (double)res->horizon / (double)ps->plan.num_blocks;
			double pk = (double)r->kv_peak / (double)ps->plan.num_blocks;
			kv_peak = pk > kv_peak ? pk : kv_peak;
			in += r->prefill_tokens;
			outk += r->output_tokens;
			steps += r->steps;
			pre += r->preemptions;
			batch += r->batch_sum;
			bpeak = r->batch_peak > bpeak ? r->batch_peak : bpeak;
		}
		double nrep = (double)ps->n_replicas;
		snprintf(a, sizeof a, "%.1f/%lld", steps ? batch / (double)steps : 0.0, (long long)bpeak);
		fprintf(out, "  %-10s %5.1f%% %7.1f%% %7.1f%% %11.1f %11.1f %10lld %11lld %13s\n",
			sc->pools[p].name, 100 * busy / nrep, 100 * kv_mean / nrep, 100 * kv_peak,
			in / horizon_s, outk / horizon_s, (long long)steps, (long long)pre, a);
	}
	fprintf(out, "\n");

	/* -- cost -- */
	struct llmcap_cost cost;
	llmcap_cost_compute(sc, res, &cost);
	fprintf(out, "cost over %g years (%g months)\n", sc->cost.horizon_years, cost.months);
	fmt_usd(cost.self_total, a, sizeof a);
	fmt_usd(cost.capex, b, sizeof b);
	fmt_usd(sc->cost.opex_monthly * (double)sc->hardware.servers, c_, sizeof c_);
	fmt_usd(sc->cost.support_yearly, d, sizeof d);
	fprintf(out, "  self-hosted  %s = capex %s + %g x %s/month power and colocation + %g x %s/year support\n",
		a, b, cost.months, c_, sc->cost.horizon_years, d);
	fmt_tokens(cost.tokens_per_month, a, sizeof a);
	fmt_usd(cost.api_monthly_at_prices, b, sizeof b);
	fmt_usd(cost.api_monthly, c_, sizeof c_);
	fmt_usd(cost.api_total, d, sizeof d);
	if (cost.flat_bill) {
		fprintf(out, "  API          %s = %g x %s/month flat bill (%s tokens/month simulated: $%.2f per 1M tokens)\n",
			d, cost.months, c_, a, cost.price_per_m);
		if (sc->cost.api.n_prices > 0)
			fprintf(out, "  note         at the per-token prices in cost.api.prices the same %s tokens/month "
				     "would cost %s/month, not %s\n", a, b, c_);
	} else {
		fprintf(out, "  API          %s = %g x %s/month for %s tokens/month at the scenario's prices ($%.3f per 1M blended)\n",
			d, cost.months, c_, a, cost.price_per_m);
	}
	fmt_tokens(cost.breakeven_tokens_per_month, a, sizeof a);
	fmt_usd(cost.self_monthly, b, sizeof b);
	if (!isnan(cost.breakeven_tokens_per_month))
		fprintf(out, "  break-even   %s tokens/month (self-hosted %s/month at $%.3f per 1M), if the fleet can serve it\n",
			a, b, cost.price_per_m);
	fprintf(out, "\n");

	/* -- verdict -- */
	bool served = true;
	char problems[512] = "";
	size_t k = 0;
	for (size_t cl = 0; cl < res->n_classes; cl++) {
		const struct llmcap_class_stats *cs = &res->classes[cl];
		bool lost = cs->unfinished * 100 > cs->arrived || cs->rejected > 0;
		if (!views[cl].ttft_ok || !views[cl].tpot_ok || lost) {
			served = false;
			k += (size_t)snprintf(problems + k, k < sizeof problems ? sizeof problems - k : 0,
					      "%s%s %s%s%s", k ? "; " : "", sc->workload.classes[cl].name,
					      !views[cl].ttft_ok ? "misses its TTFT p99 target" : "",
					      (!views[cl].ttft_ok && !views[cl].tpot_ok) ? " and " : "",
					      !views[cl].tpot_ok ? "misses its TPOT p99 target" : "");
			if (lost && views[cl].ttft_ok && views[cl].tpot_ok)
				k += (size_t)snprintf(problems + k, k < sizeof problems ? sizeof problems - k : 0,
						      "loses requests");
		}
	}
	fmt_usd(cost.self_total, a, sizeof a);
	fmt_usd(cost.api_total, b, sizeof b);
	const char *cheaper = cost.api_total < cost.self_total ? "the API is cheaper" : "self-hosting is cheaper";
	if (served)
		fprintf(out, "verdict: %s (%s API vs %s self-hosted over %g years); the fleet serves this load within its SLOs.\n",
			cheaper, b, a, sc->cost.horizon_years);
	else
		fprintf(out, "verdict: %s (%s API vs %s self-hosted over %g years), and the fleet does NOT serve this load: %s.\n",
			cheaper, b, a, sc->cost.horizon_years, problems);
}

/* The terminal summary: latency by class, utilisation by pool, cost and a verdict. */
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "llmcap/report.h"
#include "llmcap/batch.h"
#include "llmcap/cost.h"
#include "llmcap/perf.h"
#include "llmcap/sim.h"

void llmcap_pool_features(const struct llmcap_results *res, size_t p, struct llmcap_pool_features *f)
{
	const struct llmcap_pool_cfg *pc = &res->sc->pools[p];
	const struct llmcap_pool_stats *ps = &res->pools[p];
	memset(f, 0, sizeof *f);
	f->spec = pc->speculative.method != LLMCAP_SPEC_OFF;
	f->lora = pc->lora.max_loras > 0;
	int64_t steps = 0, adapter_sum = 0;
	llmcap_time spec_t = 0, load_t = 0;
	for (size_t i = 0; i < ps->n_replicas; i++) {
		const struct llmcap_replica_stats *st = &res->replicas[ps->first_replica + i];
		f->spec_verifies += st->spec_verifies;
		f->spec_proposed += st->spec_proposed;
		f->spec_accepted += st->spec_accepted;
		spec_t += st->spec_time;
		f->lora_loads += st->lora_loads;
		f->lora_skips += st->lora_skips;
		load_t += st->lora_load_time;
		adapter_sum += st->lora_adapter_sum;
		if (st->lora_peak > f->lora_peak)
			f->lora_peak = st->lora_peak;
		steps += st->lora_adapter_sum > 0 ? st->steps : 0;
	}
	f->tokens_per_verification = f->spec_verifies > 0
		? 1 + (double)f->spec_accepted / (double)f->spec_verifies : NAN;
	f->expected_tokens = f->spec ? llmcap_spec_expected_tokens(pc->speculative.acceptance,
								  pc->speculative.num_speculative_tokens)
				     : NAN;
	f->proposer_s = (double)spec_t * 1e-9;
	f->lora_load_s = (double)load_t * 1e-9;
	f->lora_adapters_mean = steps > 0 ? (double)adapter_sum / (double)steps : NAN;
}

const char *const llmcap_lat_names[LLMCAP_N_LAT] = {"ttft", "tpot", "e2e", "queue"};
const char *const llmcap_stat_names[LLMCAP_N_ST] = {"p50", "p90", "p95", "p99", "p99.9", "mean"};
static const double stat_q[LLMCAP_N_ST - 1] = {0.5, 0.9, 0.95, 0.99, 0.999};

/* The latencies of the union of nq classes' collectors (cs[0..nq)); false without memory. */
static bool fill_latency(struct llmcap_group_summary *g, struct llmcap_class_stats *const *cs,
			 size_t nq)
{
	for (int l = 0; l < LLMCAP_N_LAT; l++) {
		struct llmcap_quantiles *q[LLMCAP_MAX_CLASSES];
		for (size_t c = 0; c < nq; c++)
			q[c] = l == LLMCAP_LAT_TTFT   ? &cs[c]->ttft
			       : l == LLMCAP_LAT_TPOT ? &cs[c]->tpot
			       : l == LLMCAP_LAT_E2E  ? &cs[c]->e2e
						      : &cs[c]->queue;
		g->lat[l][LLMCAP_ST_MEAN] = llmcap_quantiles_mean_many((const struct llmcap_quantiles *const *)q, nq);
		if (llmcap_quantiles_get_many((const struct llmcap_quantiles *const *)q, nq, stat_q,
					      LLMCAP_N_ST - 1, g->lat[l]))
			continue;
		if (nq != 1)
			return false;
		for (int k = 0; k < LLMCAP_N_ST - 1; k++) /* sorts in place, needing no memory */
			g->lat[l][k] = llmcap_quantiles_get(q[0], stat_q[k]);
	}
	return true;
}

static void add_counts(struct llmcap_group_summary *g, const struct llmcap_class_stats *cs,
		       double horizon_s)
{
	g->arrived += cs->arrived;
	g->completed += cs->completed;
	g->rejected += cs->rejected;
	g->spilled += cs->spilled;
	g->unfinished += cs->unfinished;
	g->preemptions += cs->preemptions;
	g->requests_per_s += (double)cs->completed / horizon_s;
	g->input_tokens_per_s += cs->completed_prompt_tokens / horizon_s;
	g->output_tokens_per_s += cs->completed_output_tokens / horizon_s;
	g->goodput_requests_per_s += (double)cs->slo_met / horizon_s;
	g->goodput_tokens_per_s += cs->slo_met_output_tokens / horizon_s;
}

/* Pools and the overall group: the quantiles of their classes' collectors taken together (a
 * group of one class has that class's latencies, out of the summary's classes). */
static int merged_group(struct llmcap_results *res, int pool, struct llmcap_group_summary *g,
			const struct llmcap_group_summary *classes)
{
	const struct llmcap_scenario *sc = res->sc;
	double horizon_s = (double)res->horizon * 1e-9;
	struct llmcap_class_stats *cs[LLMCAP_MAX_CLASSES];
	size_t nq = 0, last = 0;
	for (size_t c = 0; c < res->n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		const char *cp = cl->pool[0] ? cl->pool : cl->name;
		if (pool >= 0 && strcmp(cp, sc->pools[pool].name) != 0)
			continue;
		add_counts(g, &res->classes[c], horizon_s);
		cs[nq++] = &res->classes[c];
		last = c;
	}
	g->slo_attainment = NAN;
	if (nq == 1) {
		memcpy(g->lat, classes[last].lat, sizeof g->lat);
		return 0;
	}
	return fill_latency(g, cs, nq) ? 0 : -LLMCAP_ENOMEM;
}

static void util_of(const struct llmcap_results *res, size_t p, size_t ri,
		    struct llmcap_util_summary *u)
{
	const struct llmcap_pool_stats *ps = &res->pools[p];
	const struct llmcap_replica_stats *r = &res->replicas[ri];
	double h = (double)res->horizon * 1e-9, tp = (double)llmcap_pool_gpus_per_replica(&res->sc->pools[p]);
	u->pool = (int32_t)p;
	u->replica = (int32_t)ri;
	u->busy = (double)r->busy / (double)res->horizon;
	/* the same power model as the cost's power opex: an upper bound while busy */
	u->energy_kwh = tp * (ps->gpu->idle_watts + u->busy * (ps->gpu->tdp_watts - ps->gpu->idle_watts)) *
			h / 3.6e6;
	u->achieved_tflops = r->flops / tp / h / 1e12;
	u->mfu = r->flops / tp / h / ps->peak_flops;
	u->hbm_fraction = r->bytes / tp / h / ps->gpu->hbm_bandwidth;
	u->kv_mean = r->kv_block_time / (double)res->horizon / (double)ps->plan.num_blocks;
	u->kv_peak = (double)r->kv_peak / (double)ps->plan.num_blocks;
	u->batch_mean = r->steps ? r->batch_sum / (double)r->steps : 0;
	u->batch_peak = r->batch_peak;
	u->steps = r->steps;
	u->preemptions = r->preemptions;
	u->swaps = r->swaps_out;
	u->prefix_hit_rate = r->prefix_query_tokens > 0 ? r->prefix_hit_tokens / r->prefix_query_tokens : NAN;
	u->prefix_block_hit_rate = r->prefix_query_blocks > 0
					   ? (double)r->prefix_hit_blocks / (double)r->prefix_query_blocks
					   : NAN;
	u->input_tokens_per_s = r->prefill_tokens / h;
	u->output_tokens_per_s = r->output_tokens / h;
	u->in_system_mean = r->in_system_time / (double)res->horizon;
	u->queued_mean = r->queued_time / (double)res->horizon;
}

/* The busiest and quietest complete hours, and each class's service in the busiest. */
static void peak_of(struct llmcap_results *res, struct llmcap_peak_summary *pk)
{
	const struct llmcap_scenario *sc = res->sc;
	size_t full = (size_t)(res->horizon / LLMCAP_HOUR);
	if (full > res->n_hours)
		full = res->n_hours;
	pk->busiest_hour = pk->trough_hour = -1;
	pk->all_slo_met = true;
	for (size_t h = 0; h < full; h++) {
		if (pk->busiest_hour < 0 || res->arrivals_per_hour[h] > res->arrivals_per_hour[pk->busiest_hour])
			pk->busiest_hour = (int64_t)h;
		if (pk->trough_hour < 0 || res->arrivals_per_hour[h] < res->arrivals_per_hour[pk->trough_hour])
			pk->trough_hour = (int64_t)h;
	}
	bool hourly = pk->busiest_hour >= 0 && sc->output.percentiles == LLMCAP_PERCENTILES_EXACT;
	if (pk->busiest_hour >= 0) {
		pk->busiest_rate = (double)res->arrivals_per_hour[pk->busiest_hour] / 3600.0;
		pk->trough_rate = (double)res->arrivals_per_hour[pk->trough_hour] / 3600.0;
	}
	for (size_t c = 0; c < res->n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		struct llmcap_class_stats *cs = &res->classes[c];
		int64_t arrived, lost;
		if (hourly) {
			const uint32_t hour = (uint32_t)pk->busiest_hour;
			struct llmcap_hour_stats *h = &res->hours[c * res->n_hours + hour];
			pk->ttft_p99[c] = llmcap_quantiles_get_tagged(&cs->ttft, 0.99, hour);
			pk->tpot_p99[c] = llmcap_quantiles_get_tagged(&cs->tpot, 0.99, hour);
			arrived = h->arrived;
			lost = h->lost;
		} else {
			/* no hourly latencies (streaming percentiles, or under an hour): the whole run */
			pk->ttft_p99[c] = llmcap_quantiles_get(&cs->ttft, 0.99);
			pk->tpot_p99[c] = llmcap_quantiles_get(&cs->tpot, 0.99);
			arrived = cs->arrived;
			lost = cs->rejected + cs->unfinished;
		}
		pk->lost_share[c] = arrived ? (double)lost / (double)arrived : 0;
		bool ttft_ok = arrived == 0 || (!isnan(pk->ttft_p99[c]) &&
						pk->ttft_p99[c] <= (double)cl->slo_ttft_p99 * 1e-9);
		bool tpot_ok = isnan(pk->tpot_p99[c]) || pk->tpot_p99[c] <= (double)cl->slo_tpot_p99 * 1e-9;
		pk->slo_met[c] = ttft_ok && tpot_ok && pk->lost_share[c] <= 0.01;
		pk->all_slo_met &= pk->slo_met[c];
	}
	if (pk->trough_hour >= 0)
		for (size_t p = 0; p < res->n_pools; p++)
			for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
				size_t ri = res->pools[p].first_replica + i;
				double busy = (double)res->busy_per_hour[ri * res->n_hours + (size_t)pk->trough_hour] /
					      (double)LLMCAP_HOUR;
				int64_t tp = llmcap_pool_gpus_per_replica(&sc->pools[p]);
				pk->trough_gpu_load += busy * (double)tp;
				if (busy >= 0.4)
					pk->trough_gpus_over_40 += tp;
			}
}

int llmcap_summarize(struct llmcap_results *res, struct llmcap_summary *out)
{
	const struct llmcap_scenario *sc = res->sc;
	double horizon_s = (double)res->horizon * 1e-9;
	memset(out, 0, sizeof *out);
	out->n_classes = res->n_classes;
	out->n_pools = res->n_pools;
	out->n_replicas = res->n_replicas;
	for (size_t c = 0; c < res->n_classes; c++) {
		struct llmcap_class_stats *cs = &res->classes[c];
		struct llmcap_group_summary *g = &out->classes[c];
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		snprintf(g->name, sizeof g->name, "%s", cl->name);
		add_counts(g, cs, horizon_s);
		if (!fill_latency(g, &cs, 1))
			return -LLMCAP_ENOMEM;
		g->slo_attainment = cs->arrived ? (double)cs->slo_met / (double)cs->arrived : NAN;
		/* Unfinished requests have waited at least as long as the horizon allowed: more than
		 * 1% of them means the p99 target cannot be claimed. */
		g->ttft_ok = !isnan(g->lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P99]) &&
			     g->lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P99] <= (double)cl->slo_ttft_p99 * 1e-9 &&
			     cs->unfinished * 100 <= cs->arrived;
		g->tpot_ok = isnan(g->lat[LLMCAP_LAT_TPOT][LLMCAP_ST_P99]) ||
			     g->lat[LLMCAP_LAT_TPOT][LLMCAP_ST_P99] <= (double)cl->slo_tpot_p99 * 1e-9;
	}
	for (size_t p = 0; p < res->n_pools; p++) {
		snprintf(out->pools[p].name, sizeof out->pools[p].name, "%s", sc->pools[p].name);
		if (merged_group(res, (int)p, &out->pools[p], out->classes) != 0)
			return -LLMCAP_ENOMEM;
	}
	snprintf(out->overall.name, sizeof out->overall.name, "all");
	if (merged_group(res, -1, &out->overall, out->classes) != 0)
		return -LLMCAP_ENOMEM;
	peak_of(res, &out->peak);
	out->replica_util = calloc(res->n_replicas ? res->n_replicas : 1, sizeof *out->replica_util);
	if (!out->replica_util)
		return -LLMCAP_ENOMEM;
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_pool_stats *ps = &res->pools[p];
		struct llmcap_util_summary *pu = &out->pool_util[p];
		double n = (double)ps->n_replicas;
		pu->pool = (int32_t)p;
		pu->replica = -1;
		double q_tok = 0, h_tok = 0, q_blk = 0, h_blk = 0;
		for (size_t i = 0; i < ps->n_replicas; i++) {
			struct llmcap_util_summary *u = &out->replica_util[ps->first_replica + i];
			util_of(res, p, ps->first_replica + i, u);
			pu->busy += u->busy / n;
			pu->achieved_tflops += u->achieved_tflops / n;
			pu->mfu += u->mfu / n;
			pu->hbm_fraction += u->hbm_fraction / n;
			pu->kv_mean += u->kv_mean / n;
			pu->kv_peak = u->kv_peak > pu->kv_peak ? u->kv_peak : pu->kv_peak;
			pu->batch_peak = u->batch_peak > pu->batch_peak ? u->batch_peak : pu->batch_peak;
			pu->steps += u->steps;
			pu->preemptions += u->preemptions;
			pu->swaps += u->swaps;
			pu->energy_kwh += u->energy_kwh;
			const struct llmcap_replica_stats *rs = &res->replicas[ps->first_replica + i];
			q_tok += rs->prefix_query_tokens;
			h_tok += rs->prefix_hit_tokens;
			q_blk += (double)rs->prefix_query_blocks;
			h_blk += (double)rs->prefix_hit_blocks;
			pu->input_tokens_per_s += u->input_tokens_per_s;
			pu->output_tokens_per_s += u->output_tokens_per_s;
			pu->in_system_mean += u->in_system_mean;
			pu->queued_mean += u->queued_mean;
			pu->batch_mean += u->batch_mean * (double)u->steps;
		}
		pu->batch_mean = pu->steps ? pu->batch_mean / (double)pu->steps : 0;
		pu->prefix_hit_rate = q_tok > 0 ? h_tok / q_tok : NAN;
		pu->prefix_block_hit_rate = q_blk > 0 ? h_blk / q_blk : NAN;
	}
	return 0;
}

void llmcap_summary_free(struct llmcap_summary *s)
{
	free(s->replica_util);
	s->replica_util = NULL;
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

/* "$273,200": the one money format of every text output (core.h) */
static void fmt_usd(double v, char *buf, size_t n)
{
	llmcap_format_usd(v, buf, n);
}

/* The rent lines of the cost block: the same held GPUs rented by the hour. One GPU type: each
 * bill as its formula; several (pools on GPUs of their own): each bill's total, then its terms
 * per type, each at that type's prices, and the types lacking a price named. */
static void rent_lines(FILE *out, const struct llmcap_scenario *sc, const struct llmcap_cost *cost)
{
	char a[64], b[64], c[64];
	long long term = (long long)sc->cost.rent.term_years;
	const char *key = term == 3 ? "reserved_3y" : "reserved_1y";
	if (cost->n_rent_gpus == 1) {
		const struct llmcap_cost_rent_gpu *g = &cost->rent_gpus[0];
		double reserved = term == 3 ? g->prices.reserved_3y : g->prices.reserved_1y;
		fmt_usd(cost->rent_on_demand_total, a, sizeof a);
		llmcap_format_count(cost->rent_gpu_hours, b, sizeof b);
		if (isnan(cost->rent_on_demand_total))
			fprintf(out, "  rent         on demand n/a: no on-demand price for %s (cost.gpus.%s.on_demand)\n",
				g->gpu, g->gpu);
		else
			fprintf(out, "  rent         on demand %s = %g x %s GPU-hours/month x $%.2f\n", a,
				cost->months, b, g->prices.on_demand);
		fmt_usd(cost->rent_reserved_total, a, sizeof a);
		llmcap_format_count(cost->rent_burst_gpu_hours, b, sizeof b);
		if (isnan(cost->rent_reserved_total))
			fprintf(out, "               reserved  n/a: no %lld-year price for %s (cost.gpus.%s.%s)\n",
				term, g->gpu, g->gpu, key);
		else
			fprintf(out, "               reserved  %s = %g x (%g GPUs x every hour x $%.2f (%lld-year term) "
				     "+ %s burst GPU-hours/month on demand)\n",
				a, cost->months, cost->rent_reserved_gpus, reserved, term, b);
		fmt_usd(cost->rent_spot_total, a, sizeof a);
		if (isnan(cost->rent_spot_total))
			fprintf(out, "               spot      n/a: no spot price for %s (cost.gpus.%s.spot)\n",
				g->gpu, g->gpu);
		else if (isnan(g->prices.spot_interruptions))
			fprintf(out, "               spot      %s at $%.2f (interruption rate not published: none counted)\n",
				a, g->prices.spot);
		else
			fprintf(out, "               spot      %s at $%.2f, +%.1f GPU-hours/month restarting after "
				     "%g interruptions per replica-month\n",
				a, g->prices.spot, cost->rent_spot_extra_gpu_hours, g->prices.spot_interruptions);
		return;
	}
	static const char *const heads[3] = {"  rent         on demand", "               reserved ",
					     "               spot     "};
	const double totals[3] = {cost->rent_on_demand_total, cost->rent_reserved_total,
				  cost->rent_spot_total};
	for (int bill = 0; bill < 3; bill++) {
		fmt_usd(totals[bill], a, sizeof a);
		if (isnan(totals[bill]))
			fprintf(out, "%s n/a: a GPU type below has no price\n", heads[bill]);
		else
			fprintf(out, "%s %s = %g x %s/month, each pool at its GPU's price:\n", heads[bill],
				a, cost->months, (fmt_usd(totals[bill] / cost->months, b, sizeof b), b));
		for (size_t k = 0; k < cost->n_rent_gpus; k++) {
			const struct llmcap_cost_rent_gpu *g = &cost->rent_gpus[k];
			const struct llmcap_gpu_costs *pr = &g->prices;
			double reserved = term == 3 ? pr->reserved_3y : pr->reserved_1y;
			const double monthly[3] = {g->on_demand_monthly, g->reserved_monthly,
						   g->spot_monthly};
			fmt_usd(monthly[bill], b, sizeof b);
			fprintf(out, "                 %-14s ", g->gpu);
			if (isnan(monthly[bill])) {
				fprintf(out, "n/a: no %s price (cost.gpus.%s.%s)\n",
					bill == 0 ? "on-demand" : bill == 1 ? "reserved" : "spot", g->gpu,
					bill == 0 ? "on_demand" : bill == 1 ? key : "spot");
				continue;
			}
			if (bill == 0) {
				llmcap_format_count(g->gpu_hours, c, sizeof c);
				fprintf(out, "%s/month = %s GPU-hours x $%.2f\n", b, c, pr->on_demand);
			} else if (bill == 1) {
				llmcap_format_count(g->burst_gpu_hours, c, sizeof c);
				fprintf(out, "%s/month = %g GPUs x every hour x $%.2f (%lld-year term) + %s "
					     "burst GPU-hours on demand\n", b, g->reserved_gpus, reserved, term, c);
			} else if (isnan(pr->spot_interruptions)) {
				fprintf(out, "%s/month at $%.2f (interruption rate not published: none counted)\n",
					b, pr->spot);
			} else {
				fprintf(out, "%s/month at $%.2f, +%.1f GPU-hours restarting after %g "
					     "interruptions per replica-month\n",
					b, pr->spot, g->spot_extra_gpu_hours, pr->spot_interruptions);
			}
		}
	}
}

/* Disaggregated prefill and decode, per prefill pool: its stages' times (p50, p99, mean) of
 * the completed transfers, s, in the order a request meets them. */
enum { DG_PREFILL_QUEUE, DG_PREFILL, DG_DECODE_QUEUE, DG_TRANSFER, DG_STAGES };
static const char *const disagg_stage_names[DG_STAGES] = {"prefill_queue", "prefill",
							   "decode_queue", "kv_transfer"};
static const char *const disagg_stage_labels[DG_STAGES] = {"prefill queue", "prefill",
							    "decode queue", "KV transfer"};
struct disagg_times {
	double t[DG_STAGES][3];
};

static void disagg_times(struct llmcap_results *res, size_t p, struct disagg_times *t)
{
	struct llmcap_disagg_stats *d = &res->disagg[p];
	struct llmcap_quantiles *q[DG_STAGES] = {&d->prefill_queue, &d->prefill, &d->decode_queue,
						 &d->transfer};
	for (int i = 0; i < DG_STAGES; i++) {
		t->t[i][0] = llmcap_quantiles_get(q[i], 0.5);
		t->t[i][1] = llmcap_quantiles_get(q[i], 0.99);
		t->t[i][2] = llmcap_quantiles_mean(q[i]);
	}
}

static void disagg_report(struct llmcap_results *res, const struct llmcap_summary *sum, FILE *out)
{
	const struct llmcap_scenario *sc = res->sc;
	fprintf(out, "disaggregated prefill -> decode (each stage's p50/p99/mean over completed transfers)\n");
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_disagg_stats *d = &res->disagg[p];
		if (!d->on)
			continue;
		struct disagg_times t;
		disagg_times(res, p, &t);
		const size_t dp = (size_t)d->decode_pool;
		fprintf(out, "  %s (%lld x TP %lld on %s, busy %.1f%%) -> %s (%lld x TP %lld on %s, busy %.1f%%) over %s%s\n",
			sc->pools[p].name, (long long)sc->pools[p].replicas,
			(long long)sc->pools[p].tensor_parallel_size, llmcap_pool_gpu(sc, p),
			100 * sum->pool_util[p].busy, sc->pools[dp].name,
			(long long)sc->pools[dp].replicas, (long long)sc->pools[dp].tensor_parallel_size,
			llmcap_pool_gpu(sc, dp), 100 * sum->pool_util[dp].busy,
			sc->pools[p].disaggregation.link,
			sc->pools[p].disaggregation.overlap ? ", layer-wise overlap" : "");
		fprintf(out, "    %lld handed over, %lld transferred (%.2f GB)\n", (long long)d->handoffs,
			(long long)d->transfers, d->bytes * 1e-9);
		fputs("   ", out);
		for (int k = 0; k < DG_STAGES; k++) {
			char x[3][16];
			for (int i = 0; i < 3; i++)
				fmt_time(t.t[k][i], x[i], sizeof x[i]);
			fprintf(out, "%s %s %s/%s/%s", k ? "," : "", disagg_stage_labels[k], x[0], x[1],
				x[2]);
		}
		fputc('\n', out);
	}
}

void llmcap_report(struct llmcap_results *res, const struct llmcap_summary *sum, FILE *out)
{
	llmcap_report_decided(res, sum, NULL, out);
}

void llmcap_report_decided(struct llmcap_results *res, const struct llmcap_summary *sum,
			   const struct llmcap_report_decision *dec, FILE *out)
{
	const struct llmcap_scenario *sc = res->sc;
	char a[64], b[64], c_[64], d[64];
	double horizon_s = (double)res->horizon * 1e-9;

	llmcap_format_duration(res->horizon, a, sizeof a);
	fprintf(out, "llmcap: %s (seed %llu, horizon %s)\n\n", sc->name, (unsigned long long)sc->seed, a);

	/* -- workload -- */
	const double rate = llmcap_scenario_mean_rate(sc);
	const bool closed = sc->workload.clients.concurrency > 0;
	bool synthetic = !res->has_trace && !closed;
	if (closed) { /* the rate is the fleet's (docs/traffic.md): no configured one to print */
		int64_t n = 0;
		for (size_t cl = 0; cl < res->n_classes; cl++)
			n += res->classes[cl].arrived;
		llmcap_format_duration(sc->workload.clients.think_time, a, sizeof a);
		fprintf(out, "workload   closed loop: %lld clients, think time %s (%s); %.1f/min arrived\n",
			(long long)sc->workload.clients.concurrency, a,
			llmcap_think_dist_names[sc->workload.clients.think_dist],
			(double)n / horizon_s * 60);
	}
	if (res->has_trace) {
		llmcap_replay_report(&res->trace, out);
		for (size_t cl = 0; cl < res->n_classes; cl++)
			synthetic |= sc->workload.classes[cl].arrival != LLMCAP_ARRIVAL_SHARED;
	}
	if (isnan(sc->workload.rate)) /* derived: no exact short form */
		snprintf(a, sizeof a, "%.0f/day", rate * 86400);
	else
		llmcap_format_rate(rate, a, sizeof a);
	if (synthetic)
		fprintf(out, "%s %s mean (%.1f/min)", res->has_trace ? "synthetic " : "workload  ", a,
			rate * 60);
	if (synthetic && res->has_trace)
		fprintf(out, " x share, for the classes with their own arrival stream");
	if (!closed && isnan(sc->workload.rate)) {
		llmcap_format_count(sc->workload.tokens_per_month, b, sizeof b);
		fprintf(out, " from %s tokens/month", b);
	}
	if (!closed && !res->has_trace && sc->workload.arrival != LLMCAP_ARRIVAL_POISSON)
		fprintf(out, ", %s arrivals", llmcap_arrival_name(sc->workload.arrival));
	if (res->has_trace || closed)
		;
	else if (sc->workload.diurnal.shape == LLMCAP_DIURNAL_SMOOTH)
		fprintf(out, ", diurnal peak %gx mean at %g:00", sc->workload.diurnal.peak_to_mean,
			sc->workload.diurnal.peak_hour);
	else if (sc->workload.diurnal.shape != LLMCAP_DIURNAL_NONE)
		fprintf(out, ", diurnal profile %s", llmcap_diurnal_shape_name(sc->workload.diurnal.shape));
	if (synthetic)
		fprintf(out, "\n");
	if (res->sessions.started > 0) { /* multi-turn sessions (docs/traffic.md) */
		const struct llmcap_session_stats *ss = &res->sessions;
		fprintf(out, "sessions   %lld started (%.2f turns each), %lld completed, %lld abandoned, "
			"%lld tool calls\n", (long long)ss->started,
			1.0 + (double)ss->later_turns / (double)ss->started, (long long)ss->completed,
			(long long)ss->abandoned, (long long)ss->tool_calls);
	}
	for (size_t p = 0; res->has_failures && p < res->n_pools; p++) {
		/* failures and maintenance (docs/engine.md) */
		const struct llmcap_failure_stats *fs = &res->failures[p];
		if (!llmcap_pool_has_failures(&sc->pools[p].failures))
			continue;
		const double held = (double)res->pools[p].n_replicas * (double)res->horizon;
		fprintf(out, "failures   pool %s: %lld failures (%lld on spares), %lld requests retried, "
			"%lld maintenance windows; availability %.3f%% (%.1f replica-hours out of %.1f)\n",
			sc->pools[p].name, (long long)fs->failures, (long long)fs->spares_used,
			(long long)fs->retries, (long long)fs->maintenance_windows,
			100.0 * (1.0 - (double)fs->out_time / held), (double)fs->out_time / (double)LLMCAP_HOUR,
			held / (double)LLMCAP_HOUR);
	}
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
		if (res->has_trace && k->arrival == LLMCAP_ARRIVAL_SHARED) {
			/* lengths are the trace's: report what arrived */
			const struct llmcap_class_stats *cs = &res->classes[cl];
			double n = cs->arrived > 0 ? (double)cs->arrived : NAN;
			fprintf(out, "           class %-10s trace -> pool %-10s prompt mean %6.0f, output mean "
				"%5.0f tokens over %lld requests\n", k->name, k->pool[0] ? k->pool : k->name,
				cs->prompt_tokens / n, cs->output_tokens / n, (long long)cs->arrived);
			continue;
		}
		fprintf(out, "           class %-10s %4.0f%% -> pool %-10s prompt mean %6.0f, output mean %5.0f tokens",
			k->name, 100 * k->share / share_total, k->pool[0] ? k->pool : k->name, mp, mo);
		if (k->arrival != LLMCAP_ARRIVAL_SHARED)
			fprintf(out, ", own %s stream", llmcap_arrival_name(k->arrival));
		fprintf(out, "\n");
	}
	if (res->has_trace || closed) {
		double tokens = 0;
		for (size_t cl = 0; cl < res->n_classes; cl++)
			tokens += res->classes[cl].prompt_tokens + res->classes[cl].output_tokens;
		llmcap_format_count(tokens / horizon_s * LLMCAP_MONTH_SECONDS, a, sizeof a);
		fprintf(out, "           arrived %.0f tokens/request -> %s tokens/month\n\n",
			total_arrived ? tokens / (double)total_arrived : 0.0, a);
	} else {
		llmcap_format_count(mean_tokens * rate * LLMCAP_MONTH_SECONDS, a, sizeof a);
		fprintf(out, "           expected %.0f tokens/request -> %s tokens/month\n\n", mean_tokens, a);
	}

	/* -- deployment -- */
	int64_t gpus_used = 0;
	for (size_t p = 0; p < res->n_pools; p++)
		if (res->pools[p].gpu == res->gpu && /* pools on their own servers: below */
		    llmcap_pool_gpus_per_server(sc, p) == sc->hardware.gpus_per_server)
			gpus_used += llmcap_pool_gpus_per_replica(&sc->pools[p]) * sc->pools[p].replicas;
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
	/* multi-node layouts (models/parallel.c), only for pools that use one */
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_pool_cfg *pc = &sc->pools[p];
		if (!llmcap_parallel_active(pc))
			continue;
		fprintf(out, "  %-10s layout TP %lld x PP %lld x DP-attention %lld = %lld GPUs a replica; "
			"expert parallel %lld (imbalance %.2f); GiB and KV B/tok: the busiest stage's GPU\n",
			pc->name, (long long)pc->tensor_parallel_size, (long long)llmcap_parallel_pp(pc),
			(long long)llmcap_parallel_dp(pc), (long long)llmcap_pool_gpus_per_replica(pc),
			(long long)llmcap_parallel_ep(pc),
			llmcap_parallel_ep(pc) > 1 ? pc->parallel.expert_imbalance : 1.0);
	}
	fprintf(out, "  (per replica: KV cache holds blocks x %lld tokens; KV B/tok is one GPU's share of one token)\n",
		(long long)sc->pools[0].block_size);
	if (llmcap_scenario_mixed_gpus(sc)) {
		/* pools on their own GPUs (issue 21): each pool's GPU, and the servers of each type */
		struct llmcap_server_group gr[LLMCAP_MAX_POOLS + 1];
		size_t gof[LLMCAP_MAX_POOLS], ng = llmcap_server_groups(sc, NULL, gr, gof);
		fprintf(out, "  GPUs by pool:");
		for (size_t p = 0; p < res->n_pools; p++)
			fprintf(out, "%s %s on %s (%.0f GiB)", p ? "," : "", sc->pools[p].name,
				res->pools[p].gpu->name, res->pools[p].gpu->memory / LLMCAP_GIB);
		fprintf(out, "\n  servers by GPU type:");
		for (size_t k = 0, n = 0; k < ng; k++)
			if (gr[k].servers > 0)
				fprintf(out, "%s %lld x %lld x %s (%lld GPUs in use)", n++ ? "," : "",
					(long long)gr[k].servers, (long long)gr[k].gpus_per_server, gr[k].gpu,
					(long long)gr[k].gpus_needed);
		fprintf(out, "\n");
	}
	fprintf(out, "\n");

	/* -- latency -- */
	/* An overloaded fleet: requests left waiting (or turned away at max_in_flight) are the
	 * result; percentiles of the few that completed would understate the wait. */
	struct llmcap_verdict verdict;
	llmcap_report_verdict(res, sum, &verdict);
	if (verdict.overloaded) {
		fprintf(out, "OVERLOADED: the fleet does not keep up with this traffic");
		if (res->overload_rejected > 0)
			fprintf(out, "; %lld arrivals were turned away at max_in_flight (%lld requests in the fleet)",
				(long long)res->overload_rejected, (long long)sc->max_in_flight);
		fprintf(out, "\n");
		for (size_t cl = 0; cl < res->n_classes; cl++) {
			const struct llmcap_class_stats *cs = &res->classes[cl];
			if (cs->unfinished * 20 > cs->arrived)
				fprintf(out, "  %s: %lld of %lld requests (%.0f%%) still unfinished at the horizon; "
					     "its percentiles are not shown\n",
					sc->workload.classes[cl].name, (long long)cs->unfinished,
					(long long)cs->arrived, 100.0 * (double)cs->unfinished / (double)cs->arrived);
		}
		fprintf(out, "\n");
	}
	fprintf(out, "latency by class (completed requests)\n");
	fprintf(out, "  %-10s %8s %6s %6s %6s  %21s  %18s  %18s  %s\n", "class", "done", "rej", "spill", "unfin", "TTFT p50/p90/p99", "TPOT p50/p90/p99", "E2E p50/p90/p99", "SLO p99 (TTFT, TPOT)");
	for (size_t cl = 0; cl < res->n_classes; cl++) {
		const struct llmcap_group_summary *g = &sum->classes[cl];
		char t[3][16], p[3][16], e[3][16], slo_t[32], slo_p[32];
		static const int st[3] = {LLMCAP_ST_P50, LLMCAP_ST_P90, LLMCAP_ST_P99};
		for (int i = 0; i < 3; i++) {
			fmt_time(g->lat[LLMCAP_LAT_TTFT][st[i]], t[i], sizeof t[i]);
			fmt_time(g->lat[LLMCAP_LAT_TPOT][st[i]], p[i], sizeof p[i]);
			fmt_time(g->lat[LLMCAP_LAT_E2E][st[i]], e[i], sizeof e[i]);
		}
		llmcap_format_duration(sc->workload.classes[cl].slo_ttft_p99, slo_t, sizeof slo_t);
		llmcap_format_duration(sc->workload.classes[cl].slo_tpot_p99, slo_p, sizeof slo_p);
		char tt[64], pp[64], ee[64];
		snprintf(tt, sizeof tt, "%s/%s/%s", t[0], t[1], t[2]);
		snprintf(pp, sizeof pp, "%s/%s/%s", p[0], p[1], p[2]);
		snprintf(ee, sizeof ee, "%s/%s/%s", e[0], e[1], e[2]);
		if (res->classes[cl].unfinished * 20 > res->classes[cl].arrived) {
			snprintf(tt, sizeof tt, "overloaded");
			snprintf(pp, sizeof pp, "overloaded");
			snprintf(ee, sizeof ee, "overloaded");
		}
		fprintf(out, "  %-10s %8lld %6lld %6lld %6lld  %21s  %18s  %18s  %s %s, %s %s\n", g->name,
			(long long)g->completed, (long long)g->rejected, (long long)g->spilled,
			(long long)g->unfinished, tt, pp,
			ee, slo_t, g->ttft_ok ? "met" : "MISSED", slo_p, g->tpot_ok ? "met" : "MISSED");
	}
	for (size_t cl = 0; cl < res->n_classes; cl++) {
		const struct llmcap_class_stats *cs = &res->classes[cl];
		if (cs->rejected == 0 && cs->spilled == 0)
			continue;
		fprintf(out, "  %-10s", sc->workload.classes[cl].name);
		for (int st = 0; st < LLMCAP_REQ_N_STATUS; st++)
			if ((llmcap_status_is_rejected(st) || llmcap_status_is_spilled(st)) && cs->by_status[st])
				fprintf(out, " %s %lld;", llmcap_request_status_name(st), (long long)cs->by_status[st]);
		fprintf(out, "\n");
	}
	fprintf(out, "\n");

	/* -- pools -- */
	fprintf(out, "pools (busy = share of time a replica executes steps; KV = share of its blocks in use)\n");
	fprintf(out, "  %-10s %6s %6s %8s %8s %10s %10s %10s %11s %13s\n", "pool", "busy", "MFU",
		"KV mean", "KV peak", "in tok/s", "out tok/s", "steps", "preemptions", "batch mean/max");
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_util_summary *u = &sum->pool_util[p];
		snprintf(a, sizeof a, "%.1f/%lld", u->batch_mean, (long long)u->batch_peak);
		fprintf(out, "  %-10s %5.1f%% %5.1f%% %7.1f%% %7.1f%% %10.1f %10.1f %10lld %11lld %13s\n",
			sc->pools[p].name, 100 * u->busy, 100 * u->mfu, 100 * u->kv_mean, 100 * u->kv_peak,
			u->input_tokens_per_s, u->output_tokens_per_s, (long long)u->steps,
			(long long)u->preemptions, a);
		if (u->swaps > 0)
			fprintf(out, "  %-10s %lld of the preemptions swapped KV blocks to CPU memory\n", "",
				(long long)u->swaps);
		if (!isnan(u->prefix_hit_rate))
			fprintf(out, "  %-10s prefix cache: %.1f%% of shared-prefix tokens (%.1f%% of blocks) found cached\n",
				"", 100 * u->prefix_hit_rate, 100 * u->prefix_block_hit_rate);
		struct llmcap_pool_features f;
		llmcap_pool_features(res, p, &f);
		const struct llmcap_pool_cfg *pc = &sc->pools[p];
		if (f.spec)
			fprintf(out, "  %-10s speculative (%s%s%s, k %lld): %.2f tokens per verification "
				"(%.2f at the pool's acceptance %g), proposer %.1f s of steps; draft %.2f GiB/GPU\n",
				"", llmcap_spec_method_names[pc->speculative.method],
				pc->speculative.method == LLMCAP_SPEC_DRAFT ? " " : "",
				pc->speculative.method == LLMCAP_SPEC_DRAFT ? pc->speculative.draft_model : "",
				(long long)pc->speculative.num_speculative_tokens, f.tokens_per_verification,
				f.expected_tokens, pc->speculative.acceptance, f.proposer_s,
				res->pools[p].plan.draft_weight_bytes_per_gpu / LLMCAP_GIB);
		if (f.lora)
			fprintf(out, "  %-10s LoRA: %lld adapter loads (%.2f s of steps), %lld passed over at "
				"max_loras %lld, %.2f adapters a step (peak %lld); slots %.2f GiB/GPU\n",
				"", (long long)f.lora_loads, f.lora_load_s, (long long)f.lora_skips,
				(long long)pc->lora.max_loras, f.lora_adapters_mean, (long long)f.lora_peak,
				res->pools[p].plan.lora_bytes_per_gpu / LLMCAP_GIB);
	}
	if (res->disaggregated) {
		fprintf(out, "\n");
		disagg_report(res, sum, out);
	}
	for (size_t p = 0; p < res->n_pools; p++) {
		/* autoscaled pools: the held replicas' integral, which renting bills */
		const struct llmcap_pool_stats *ps = &res->pools[p];
		if (!ps->autoscaled)
			continue;
		llmcap_time busy = 0;
		for (size_t i = 0; i < ps->n_replicas; i++)
			busy += res->replicas[ps->first_replica + i].busy;
		fprintf(out, "  %-10s autoscaled: %.1f replica-hours held (mean %.2f replicas, peak %lld of "
			"%zu); %lld asked for, %lld drained; busy %.1f%% of the held time\n",
			sc->pools[p].name, ps->held_time * 1e-9 / 3600.0,
			ps->held_time / (double)res->horizon, (long long)ps->peak_held, ps->n_replicas,
			(long long)ps->scale_ups, (long long)ps->scale_downs,
			ps->held_time > 0 ? 100.0 * (double)busy / ps->held_time : 0.0);
	}
	for (size_t p = 0; p < res->n_pools; p++) {
		/* the table model never goes out of range silently */
		int64_t oor = 0, steps = 0;
		for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
			oor += res->replicas[res->pools[p].first_replica + i].perf_out_of_range;
			steps += res->replicas[res->pools[p].first_replica + i].steps;
		}
		if (oor > 0)
			fprintf(out, "  %s: %lld of %lld steps fell outside the step-time table (%s)\n",
				sc->pools[p].name, (long long)oor, (long long)steps,
				sc->pools[p].table.out_of_range == LLMCAP_TABLE_CLAMP ? "clamped to its edge"
											: "extrapolated");
	}
	fprintf(out, "\n");

	/* -- cost -- */
	struct llmcap_cost cost;
	llmcap_results_cost(res, &cost);
	fprintf(out, "cost over %g years (%g months)\n", sc->cost.horizon_years, cost.months);
	fmt_usd(cost.self_total, a, sizeof a);
	fmt_usd(cost.capex, b, sizeof b);
	fmt_usd(sc->cost.support_yearly, d, sizeof d);
	fmt_usd(cost.opex_monthly, c_, sizeof c_);
	if (isnan(cost.self_total)) {
		/* the GPU type whose price is missing (with pools on several types, the first) */
		const char *gn = sc->hardware.gpu;
		bool no_server = isnan(cost.server_price);
		for (size_t k = 0; k < cost.n_groups && cost.n_groups > 1; k++)
			if (isnan(cost.groups[k].server_price) || isnan(cost.groups[k].opex_monthly)) {
				gn = cost.groups[k].gpu;
				no_server = isnan(cost.groups[k].server_price);
				break;
			}
		if (no_server)
			fprintf(out, "  self-hosted  n/a: no published server price for %s (set cost.gpus.%s.server, "
				     "or its gpu and chassis; docs/cost.md)\n",
				gn, gn);
		else
			fprintf(out, "  self-hosted  n/a: no running cost for %s (set cost.gpus.%s.opex_monthly, or "
				     "cost.opex: power)\n",
				gn, gn);
	} else {
		fprintf(out, "  self-hosted  %s = capex %s + %g x %s/month power and colocation + %g x %s/year support\n",
			a, b, cost.months, c_, sc->cost.horizon_years, d);
	}
	if (cost.spare_servers > 0 && cost.n_groups > 1) {
		fprintf(out, "               including spare servers, racked and idle:");
		for (size_t k = 0; k < cost.n_groups; k++) {
			fmt_usd(cost.groups[k].server_price, b, sizeof b);
			fprintf(out, "%s %g x %s at %s", k ? "," : "", cost.groups[k].spares,
				cost.groups[k].gpu, b);
		}
		fputc('\n', out);
	} else if (cost.spare_servers > 0) {
		fmt_usd(cost.server_price, b, sizeof b);
		fprintf(out, "               including %g spare server(s) at %s, racked and idle\n",
			cost.spare_servers, b);
	}
	if (cost.n_groups > 1) /* pools on their own GPUs (issue 21) */
		for (size_t k = 0; k < cost.n_groups; k++) {
			const struct llmcap_cost_group *g = &cost.groups[k];
			fmt_usd(g->server_price, b, sizeof b);
			fmt_usd(g->capex, c_, sizeof c_);
			fmt_usd(g->opex_monthly, d, sizeof d);
			fprintf(out, "               %s: %g server(s) of %lld at %s, capex %s, %s/month\n",
				g->gpu, g->servers, (long long)g->gpus_per_server, b, c_, d);
		}
	fmt_usd(sc->cost.support_yearly, d, sizeof d);
	if (cost.power_opex)
		fprintf(out, "               power: %.2f kW average x PUE %g at $%g/kWh, %.1f kW provisioned at $%g/kW-month\n",
			cost.avg_power_watts / 1e3, sc->cost.power.pue, sc->cost.power.electricity,
			cost.provisioned_kw, sc->cost.power.colocation);
	if (!isnan(cost.self_per_1m_served))
		fprintf(out, "               $%.3f per 1M tokens actually served\n", cost.self_per_1m_served);
	llmcap_format_count(cost.tokens_per_month, a, sizeof a);
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
	if (cost.api_discount_monthly > 0) {
		fmt_usd(cost.api_discount_monthly, a, sizeof a);
		fprintf(out, "               after %s/month of cached-input and batch discounts\n", a);
	}
	if (cost.rent_gpu_hours > 0)
		rent_lines(out, sc, &cost);
	if (cost.spilled_api_total > 0) {
		fmt_usd(cost.spilled_api_total, a, sizeof a);
		fmt_usd(cost.hybrid_total, b, sizeof b);
		fprintf(out, "  hybrid       %s = self-hosted + %s for the requests spilled to the API\n", b, a);
	}
	llmcap_format_count(cost.breakeven_tokens_per_month, a, sizeof a);
	fmt_usd(cost.self_monthly, b, sizeof b);
	if (!isnan(cost.breakeven_tokens_per_month))
		fprintf(out, "  break-even   %s tokens/month (self-hosted %s/month at $%.3f per 1M), if the fleet can serve it\n",
			a, b, cost.price_per_m);
	fprintf(out, "\n");

	/* -- the guide's go signals -- */
	const struct llmcap_peak_summary *pk = &sum->peak;
	if (pk->busiest_hour >= 0) {
		fprintf(out, "busiest hour %02lld:00 of day %lld (%.1f req/min), by class: ",
			(long long)(pk->busiest_hour % 24), (long long)(pk->busiest_hour / 24 + 1),
			pk->busiest_rate * 60);
		for (size_t cl = 0; cl < res->n_classes; cl++) {
			char t1[16], t2[16];
			fmt_time(pk->ttft_p99[cl], t1, sizeof t1);
			fmt_time(pk->tpot_p99[cl], t2, sizeof t2);
			fprintf(out, "%s%s p99 TTFT %s, TPOT %s%s", cl ? "; " : "", sc->workload.classes[cl].name,
				t1, t2, pk->slo_met[cl] ? " (SLO met)" : " (SLO MISSED)");
		}
		fprintf(out, "\n\n");
		fprintf(out, "the guide's go signals for owning GPUs\n");
		/* go signal 1 from the decision search: at this volume, is an option other than the
		 * API the cheapest that meets every SLO? Never the price-only break-even. */
		if (dec && dec->any) {
			char m[32], api[32];
			llmcap_format_count(dec->tokens_per_month, a, sizeof a);
			fmt_usd(dec->best_monthly, m, sizeof m);
			fmt_usd(dec->api_monthly, api, sizeof api);
			fprintf(out, "  1. volume above break-even      %s: at %s tokens/month the cheapest option "
				     "meeting every SLO is %s (%s/month; API %s%s)\n",
				dec->self_hosted ? "yes" : "no ", a, dec->best, m,
				dec->api_met ? api : "misses an SLO", dec->api_met ? "/month" : "");
		} else if (dec) {
			fprintf(out, "  1. volume above break-even      no : no option meets every SLO on every "
				     "seed\n");
		} else {
			fprintf(out, "  1. volume above break-even      ?  : not decided (llmcap run --decide "
				     "sizes every option by simulation)\n");
		}
		fprintf(out, "  2. trough needs 2 GPUs at 40%%    %s: %02lld:00 of day %lld keeps %.2f GPU-equivalents busy (%lld GPUs >= 40%%)\n",
			pk->trough_gpu_load >= 0.8 ? "yes" : "no ", (long long)(pk->trough_hour % 24),
			(long long)(pk->trough_hour / 24 + 1), pk->trough_gpu_load,
			(long long)pk->trough_gpus_over_40);
		size_t tight = 0;
		for (size_t cl = 1; cl < res->n_classes; cl++)
			if (sc->workload.classes[cl].slo_ttft_p99 < sc->workload.classes[tight].slo_ttft_p99)
				tight = cl;
		fmt_time(pk->ttft_p99[tight], a, sizeof a);
		fprintf(out, "  3. %s p99 TTFT < 100 ms at peak %s: %s in the busiest hour\n\n",
			sc->workload.classes[tight].name, pk->ttft_p99[tight] < 0.1 ? "yes" : "no ", a);
	}

	/* -- verdict -- */
	bool served = verdict.served;
	char problems[512] = "";
	size_t k = 0;
	for (size_t cl = 0; cl < res->n_classes; cl++) {
		const struct llmcap_class_stats *cs = &res->classes[cl];
		bool ttft_ok = sum->classes[cl].ttft_ok, tpot_ok = sum->classes[cl].tpot_ok;
		bool lost = cs->unfinished * 100 > cs->arrived || cs->rejected > 0;
		if (!ttft_ok || !tpot_ok || lost) {
			k += (size_t)snprintf(problems + k, k < sizeof problems ? sizeof problems - k : 0,
					      "%s%s %s%s%s", k ? "; " : "", sc->workload.classes[cl].name,
					      !ttft_ok ? "misses its TTFT p99 target" : "",
					      (!ttft_ok && !tpot_ok) ? " and " : "",
					      !tpot_ok ? "misses its TPOT p99 target" : "");
			if (lost && ttft_ok && tpot_ok)
				k += (size_t)snprintf(problems + k, k < sizeof problems ? sizeof problems - k : 0,
						      "loses requests");
		}
	}
	/* the verdict's choice is the decision search's (an option that missed an SLO or lost
	 * requests is never its answer); without a search, none is claimed */
	char cheaper[256];
	if (dec && dec->any) {
		fmt_usd(dec->best_monthly, a, sizeof a);
		snprintf(cheaper, sizeof cheaper, "%s is the cheapest option meeting every SLO (%s/month, "
			 "sized by simulation on %zu seed%s)", dec->best, a, dec->seeds,
			 dec->seeds == 1 ? "" : "s");
	} else if (dec) {
		snprintf(cheaper, sizeof cheaper, "no option meets every SLO on every seed");
	} else {
		snprintf(cheaper, sizeof cheaper, "the cheapest option is not decided here (llmcap run "
			 "--decide)");
	}
	if (served)
		fprintf(out, "verdict: %s; the given fleet serves this load within its SLOs.\n", cheaper);
	else
		fprintf(out, "verdict: %s; the given fleet does NOT serve this load: %s.\n", cheaper,
			problems);
}

void llmcap_report_verdict(const struct llmcap_results *res, const struct llmcap_summary *sum,
			   struct llmcap_verdict *v)
{
	v->overloaded = res->overload_rejected > 0;
	v->served = true;
	for (size_t cl = 0; cl < res->n_classes; cl++) {
		const struct llmcap_class_stats *cs = &res->classes[cl];
		v->overloaded |= cs->unfinished * 20 > cs->arrived;
		bool lost = cs->unfinished * 100 > cs->arrived || cs->rejected > 0;
		v->served &= sum->classes[cl].ttft_ok && sum->classes[cl].tpot_ok && !lost;
	}
	struct llmcap_cost cost;
	llmcap_results_cost(res, &cost);
	v->self_hosting_cheaper = !(cost.api_total < cost.self_total);
}

/* ---- JSON ---- */

static void json_num(FILE *out, double v)
{
	char buf[64];
	if (!isfinite(v)) {
		fputs("null", out);
		return;
	}
	llmcap_format_double(v, buf, sizeof buf);
	fputs(buf, out);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void json_group(FILE *out, const struct llmcap_group_summary *g, bool is_class)
{
	fputs("{\"name\": ", out);
	json_str(out, g->name);
	fprintf(out, ", \"arrived\": %lld, \"completed\": %lld, \"rejected\": %lld, \"spilled\": %lld, "
		     "\"unfinished\": %lld, \"preemptions\": %lld",
		(long long)g->arrived, (long long)g->completed, (long long)g->rejected,
		(long long)g->spilled, (long long)g->unfinished, (long long)g->preemptions);
	const char *keys[] = {"requests_per_s", "input_tokens_per_s", "output_tokens_per_s",
			      "goodput_requests_per_s", "goodput_tokens_per_s", "slo_attainment"};
	double vals[] = {g->requests_per_s, g->input_tokens_per_s, g->output_tokens_per_s,
			 g->goodput_requests_per_s, g->goodput_tokens_per_s, g->slo_attainment};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		if (!is_class && i >= 3)
			break;
		fprintf(out, ", \"%s\": ", keys[i]);
		json_num(out, vals[i]);
	}
	if (is_class)
		fprintf(out, ", \"ttft_p99_met\": %s, \"tpot_p99_met\": %s", g->ttft_ok ? "true" : "false",
			g->tpot_ok ? "true" : "false");
	for (int l = 0; l < LLMCAP_N_LAT; l++) {
		fprintf(out, ", \"%s_s\": {", llmcap_lat_names[l]);
		for (int k = 0; k < LLMCAP_N_ST; k++) {
			fprintf(out, "%s\"%s\": ", k ? ", " : "", llmcap_stat_names[k]);
			json_num(out, g->lat[l][k]);
		}
		fputc('}', out);
	}
	fputc('}', out);
}

static void json_util(FILE *out, const struct llmcap_util_summary *u, const char *name)
{
	fputs("{\"pool\": ", out);
	json_str(out, name);
	fprintf(out, ", \"replica\": %d", u->replica);
	const char *keys[] = {"busy", "achieved_tflops_per_gpu", "mfu", "hbm_fraction", "kv_mean",
			      "kv_peak", "batch_mean", "input_tokens_per_s", "output_tokens_per_s",
			      "prefix_hit_rate", "prefix_block_hit_rate", "in_system_mean", "queued_mean",
			      "energy_kwh"};
	double vals[] = {u->busy, u->achieved_tflops, u->mfu, u->hbm_fraction, u->kv_mean,
			 u->kv_peak, u->batch_mean, u->input_tokens_per_s, u->output_tokens_per_s,
			 u->prefix_hit_rate, u->prefix_block_hit_rate, u->in_system_mean,
			 u->queued_mean, u->energy_kwh};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		fprintf(out, ", \"%s\": ", keys[i]);
		json_num(out, vals[i]);
	}
	fprintf(out, ", \"batch_peak\": %lld, \"steps\": %lld, \"preemptions\": %lld, \"swaps\": %lld}",
		(long long)u->batch_peak, (long long)u->steps, (long long)u->preemptions,
		(long long)u->swaps);
}

void llmcap_report_json(struct llmcap_results *res, const struct llmcap_summary *sum, FILE *out)
{
	llmcap_report_json_batch(res, sum, NULL, out);
}

int llmcap_report_json_batch(struct llmcap_results *res, const struct llmcap_summary *sum,
			     struct llmcap_batch *b, FILE *out)
{
	const struct llmcap_scenario *sc = res->sc;
	size_t nbm = b ? llmcap_batch_n_metrics(sc->workload.n_classes, sc->n_pools) : 0;
	double *bm = NULL;
	if (b) {
		bm = calloc(2 * nbm + 1, sizeof *bm);
		if (!bm)
			return -LLMCAP_ENOMEM;
		llmcap_batch_means(b, bm);
	}
	struct llmcap_cost cost;
	llmcap_results_cost(res, &cost);
	fputs("{\"scenario\": ", out);
	json_str(out, sc->name);
	fprintf(out, ", \"seed\": %llu, \"horizon_s\": ", (unsigned long long)sc->seed);
	json_num(out, (double)res->horizon * 1e-9);
	fprintf(out, ", \"digest\": \"%016llx\",", (unsigned long long)res->digest);
	if (res->has_trace) {
		const struct llmcap_replay_stats *t = &res->trace;
		fputs("\n \"trace\": {\"file\": ", out);
		json_str(out, t->file);
		fputs(", \"format\": ", out);
		json_str(out, llmcap_trace_format_name(t->format));
		fprintf(out, ", \"window_rows\": %lld, \"replayed\": %lld, \"copies\": %lld, "
			"\"failed\": %lld, \"blank\": %lld, \"raised\": %lld, \"capped\": %lld, "
			"\"speedup\": ", (long long)t->window_rows, (long long)t->replayed,
			(long long)t->copies, (long long)t->counts.failed, (long long)t->counts.blank,
			(long long)t->counts.raised, (long long)t->counts.capped);
		json_num(out, t->speedup);
		fputs(", \"bad_rows\": {", out);
		for (int i = 0; i < LLMCAP_BAD_N; i++)
			fprintf(out, "%s\"%s\": %lld", i ? ", " : "", llmcap_bad_row_name(i),
				(long long)t->counts.bad[i]);
		fputs("}},", out);
	}
	if (res->has_failures) { /* failures and maintenance (docs/engine.md), per pool */
		fputs("\n \"failures\": [", out);
		for (size_t p = 0; p < res->n_pools; p++) {
			const struct llmcap_failure_stats *fs = &res->failures[p];
			const double held = (double)res->pools[p].n_replicas * (double)res->horizon;
			fputs(p ? ", {\"pool\": " : "{\"pool\": ", out);
			json_str(out, sc->pools[p].name);
			fprintf(out, ", \"failures\": %lld, \"spares_used\": %lld, \"retries\": %lld, "
				"\"maintenance_windows\": %lld, \"out_hours\": ", (long long)fs->failures,
				(long long)fs->spares_used, (long long)fs->retries,
				(long long)fs->maintenance_windows);
			json_num(out, (double)fs->out_time / (double)LLMCAP_HOUR);
			fputs(", \"availability\": ", out);
			json_num(out, held > 0 ? 1.0 - (double)fs->out_time / held : NAN);
			fputs("}", out);
		}
		fputs("],", out);
	}
	if (res->sessions.started > 0) { /* multi-turn sessions (docs/traffic.md) */
		const struct llmcap_session_stats *ss = &res->sessions;
		fprintf(out, "\n \"sessions\": {\"started\": %lld, \"later_turns\": %lld, "
			"\"completed\": %lld, \"abandoned\": %lld, \"tool_calls\": %lld},",
			(long long)ss->started, (long long)ss->later_turns, (long long)ss->completed,
			(long long)ss->abandoned, (long long)ss->tool_calls);
	}
	fputs("\n \"classes\": [", out);
	for (size_t c = 0; c < sum->n_classes; c++) {
		fputs(c ? ",\n  " : "\n  ", out);
		json_group(out, &sum->classes[c], true);
	}
	fputs("],\n \"pools\": [", out);
	for (size_t p = 0; p < sum->n_pools; p++) {
		fputs(p ? ",\n  " : "\n  ", out);
		json_group(out, &sum->pools[p], false);
	}
	fputs("],\n \"overall\": ", out);
	json_group(out, &sum->overall, false);
	fputs(",\n \"utilisation\": [", out);
	for (size_t p = 0; p < sum->n_pools; p++) {
		fputs(p ? ",\n  " : "\n  ", out);
		json_util(out, &sum->pool_util[p], sc->pools[p].name);
	}
	if (res->disaggregated) {
		/* only where a pool is disaggregated: every other report keeps its bytes */
		fputs("],\n \"disaggregation\": [", out);
		bool first = true;
		for (size_t p = 0; p < res->n_pools; p++) {
			const struct llmcap_disagg_stats *d = &res->disagg[p];
			if (!d->on)
				continue;
			struct disagg_times t;
			disagg_times(res, p, &t);
			fputs(first ? "\n  {\"prefill_pool\": " : ",\n  {\"prefill_pool\": ", out);
			first = false;
			json_str(out, sc->pools[p].name);
			fputs(", \"decode_pool\": ", out);
			json_str(out, sc->pools[d->decode_pool].name);
			fputs(", \"link\": ", out);
			json_str(out, sc->pools[p].disaggregation.link);
			fprintf(out, ", \"overlap\": %s, \"handoffs\": %lld, \"transfers\": %lld, \"bytes\": ",
				sc->pools[p].disaggregation.overlap ? "true" : "false",
				(long long)d->handoffs, (long long)d->transfers);
			json_num(out, d->bytes);
			const char *names[3] = {"p50", "p99", "mean"};
			for (int k = 0; k < DG_STAGES; k++)
				for (int i = 0; i < 3; i++) {
					fprintf(out, ", \"%s_%s_s\": ", disagg_stage_names[k], names[i]);
					json_num(out, t.t[k][i]);
				}
			fputs(", \"prefill_busy\": ", out);
			json_num(out, sum->pool_util[p].busy);
			fputs(", \"decode_busy\": ", out);
			json_num(out, sum->pool_util[d->decode_pool].busy);
			fputc('}', out);
		}
	}
	/* speculative decoding and multi-LoRA: only where a pool has them on */
	bool any_spec = false, any_lora = false;
	for (size_t p = 0; p < sum->n_pools; p++) {
		any_spec |= sc->pools[p].speculative.method != LLMCAP_SPEC_OFF;
		any_lora |= sc->pools[p].lora.max_loras > 0;
	}
	for (int which = 0; which < 2; which++) {
		if (!(which ? any_lora : any_spec))
			continue;
		fputs(which ? "],\n \"lora\": [" : "],\n \"speculative\": [", out);
		bool first = true;
		for (size_t p = 0; p < sum->n_pools; p++) {
			struct llmcap_pool_features f;
			llmcap_pool_features(res, p, &f);
			if (!(which ? f.lora : f.spec))
				continue;
			fputs(first ? "\n  {\"pool\": " : ",\n  {\"pool\": ", out);
			first = false;
			json_str(out, sc->pools[p].name);
			if (which == 0) {
				fprintf(out, ", \"verifications\": %lld, \"proposed\": %lld, \"accepted\": %lld",
					(long long)f.spec_verifies, (long long)f.spec_proposed,
					(long long)f.spec_accepted);
				const char *k[] = {"tokens_per_verification", "expected_tokens", "proposer_s",
						   "draft_weight_bytes_per_gpu"};
				double v[] = {f.tokens_per_verification, f.expected_tokens, f.proposer_s,
					      res->pools[p].plan.draft_weight_bytes_per_gpu};
				for (size_t i = 0; i < 4; i++) {
					fprintf(out, ", \"%s\": ", k[i]);
					json_num(out, v[i]);
				}
			} else {
				fprintf(out, ", \"loads\": %lld, \"passed_over\": %lld, \"adapters_peak\": %lld",
					(long long)f.lora_loads, (long long)f.lora_skips, (long long)f.lora_peak);
				const char *k[] = {"load_s", "adapters_mean", "lora_bytes_per_gpu"};
				double v[] = {f.lora_load_s, f.lora_adapters_mean,
					      res->pools[p].plan.lora_bytes_per_gpu};
				for (size_t i = 0; i < 3; i++) {
					fprintf(out, ", \"%s\": ", k[i]);
					json_num(out, v[i]);
				}
			}
			fputc('}', out);
		}
	}
	fputs("],", out);
	/* autoscaled pools only (a fixed fleet's JSON stays as it was) */
	for (size_t p = 0, first = 1; p < sum->n_pools; p++) {
		const struct llmcap_pool_stats *ps = &res->pools[p];
		if (!ps->autoscaled)
			continue;
		fputs(first ? "\n \"autoscale\": [\n  {\"pool\": " : ",\n  {\"pool\": ", out);
		json_str(out, sc->pools[p].name);
		fputs(", \"replica_hours_held\": ", out);
		json_num(out, ps->held_time * 1e-9 / 3600.0);
		fputs(", \"mean_replicas\": ", out);
		json_num(out, ps->held_time / (double)res->horizon);
		fprintf(out, ", \"peak_replicas\": %lld, \"max_replicas\": %zu, \"scale_ups\": %lld, "
			"\"scale_downs\": %lld}", (long long)ps->peak_held, ps->n_replicas,
			(long long)ps->scale_ups, (long long)ps->scale_downs);
		first = 0;
		bool more = false;
		for (size_t q = p + 1; q < sum->n_pools; q++)
			more |= res->pools[q].autoscaled;
		if (!more)
			fputs("],", out);
	}
	fputs("\n \"cost\": {", out);
	const char *keys[] = {"months", "self_hosted_total", "self_hosted_monthly", "api_total",
			      "api_monthly", "api_monthly_at_prices", "tokens_per_month",
			      "api_price_per_1m", "breakeven_tokens_per_month", "spilled_api_total",
			      "hybrid_total", "server_price", "spare_servers", "api_discount_monthly",
			      "rent_gpu_hours_per_month", "rent_burst_gpu_hours_per_month",
			      "rent_reserved_gpus", "rent_on_demand_total", "rent_reserved_total",
			      "rent_spot_total", "hybrid_rent_total"};
	double vals[] = {cost.months, cost.self_total, cost.self_monthly, cost.api_total,
			 cost.api_monthly, cost.api_monthly_at_prices, cost.tokens_per_month,
			 cost.price_per_m, cost.breakeven_tokens_per_month, cost.spilled_api_total,
			 cost.hybrid_total, cost.server_price, cost.spare_servers,
			 cost.api_discount_monthly, cost.rent_gpu_hours, cost.rent_burst_gpu_hours,
			 cost.rent_reserved_gpus, cost.rent_on_demand_total, cost.rent_reserved_total,
			 cost.rent_spot_total, cost.hybrid_rent_total};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		fprintf(out, "%s\"%s\": ", i ? ", " : "", keys[i]);
		json_num(out, vals[i]);
	}
	fprintf(out, ", \"flat_bill\": %s}", cost.flat_bill ? "true" : "false");
	if (llmcap_scenario_mixed_gpus(sc)) {
		/* pools on their own GPUs (issue 21): each pool's GPU, own costs by GPU type */
		fputs(",\n \"gpus\": {\"pools\": {", out);
		for (size_t p = 0; p < res->n_pools; p++) {
			fputs(p ? ", " : "", out);
			json_str(out, sc->pools[p].name);
			fputs(": ", out);
			json_str(out, res->pools[p].gpu->name);
		}
		fputs("}, \"servers\": [", out);
		for (size_t k = 0; k < cost.n_groups; k++) {
			const struct llmcap_cost_group *g = &cost.groups[k];
			fputs(k ? ",\n  {\"gpu\": " : "\n  {\"gpu\": ", out);
			json_str(out, g->gpu);
			fprintf(out, ", \"gpus_per_server\": %lld", (long long)g->gpus_per_server);
			const char *gk[] = {"servers", "spare_servers", "server_price", "capex_total",
					    "opex_monthly", "avg_power_watts", "provisioned_kw"};
			double gv[] = {g->servers, g->spares, g->server_price, g->capex, g->opex_monthly,
				       g->avg_power_watts, g->provisioned_kw};
			for (size_t i = 0; i < sizeof gv / sizeof gv[0]; i++) {
				fprintf(out, ", \"%s\": ", gk[i]);
				json_num(out, gv[i]);
			}
			fputc('}', out);
		}
		fputs("]}", out);
	}
	struct llmcap_verdict v;
	llmcap_report_verdict(res, sum, &v);
	fprintf(out, ",\n \"verdict\": {\"slo_met\": %s, \"overloaded\": %s, \"cheaper\": \"%s\"}",
		v.served ? "true" : "false", v.overloaded ? "true" : "false",
		v.self_hosting_cheaper ? "self-hosted" : "api");
	if (b) {
		fprintf(out, ",\n \"batch_means\": {\"batches\": %lld, \"batch_length_s\": ",
			(long long)llmcap_batch_count(b));
		json_num(out, (double)llmcap_batch_length(b) * 1e-9);
		fputs(", \"warmup_s\": ", out);
		json_num(out, (double)llmcap_batch_warmup(b) * 1e-9);
		fputs(", \"metrics\": [", out);
		for (size_t i = 0; i < nbm; i++) {
			char name[96];
			llmcap_batch_metric_name(sc, i, name, sizeof name);
			fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", out);
			json_str(out, name);
			fputs(", \"mean\": ", out);
			json_num(out, bm[2 * i]);
			fputs(", \"ci95_half_width\": ", out);
			json_num(out, bm[2 * i + 1]);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("}\n", out);
	free(bm);
	return 0;
}

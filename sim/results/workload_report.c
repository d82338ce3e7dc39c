/* Terminal reports of workload sources: a replayed trace's counts (in a run's report and in
 * `llmcap workload`), a trace file's statistics (`llmcap trace`) and generated traffic
 * (`llmcap workload`). The traces part computes; this file only formats. See
 * include/llmcap/report.h. */
#include "llmcap/report.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>

static void counts_line(const struct llmcap_trace_counts *c, FILE *out)
{
	int64_t nbad = 0;
	for (int i = 0; i < LLMCAP_BAD_N; i++)
		nbad += c->bad[i];
	fprintf(out, "           not replayed: %lld bad rows", (long long)nbad);
	if (nbad) {
		fprintf(out, " (");
		bool first = true;
		for (int i = 0; i < LLMCAP_BAD_N; i++)
			if (c->bad[i]) {
				fprintf(out, "%s%s %lld", first ? "" : ", ", llmcap_bad_row_name(i),
					(long long)c->bad[i]);
				first = false;
			}
		fprintf(out, ")");
	}
	fprintf(out, ", %lld failed requests (0 response tokens)", (long long)c->failed);
	fprintf(out, "; %lld blank or comment lines skipped\n", (long long)c->blank);
	if (c->raised || c->capped)
		fprintf(out, "           %lld rows with 0 prompt or output tokens replayed with 1, "
			"%lld shortened to the length caps\n", (long long)c->raised, (long long)c->capped);
}

void llmcap_replay_report(const struct llmcap_replay_stats *st, FILE *out)
{
	fprintf(out, "trace      %s (%s): %lld rows in the window (%lld outside), one copy lasts %.1f s "
		"of trace time at %.3f/s\n", st->file, llmcap_trace_format_name(st->format),
		(long long)st->window_rows, (long long)st->outside, (double)st->period * 1e-9,
		st->trace_rate);
	fprintf(out, "           replayed %lld requests over %lld cop%s at speedup %.6g (%.3f/s)\n",
		(long long)st->replayed, (long long)st->copies, st->copies == 1 ? "y" : "ies",
		st->speedup, st->trace_rate * st->speedup);
	counts_line(&st->counts, out);
}

void llmcap_trace_stats_report(const struct llmcap_trace_stats *st, FILE *out)
{
	char a[64];
	fprintf(out, "llmcap trace stats: %s (%s)\n\n", st->file, llmcap_trace_format_name(st->format));
	fprintf(out, "rows       %lld\n", (long long)st->counts.rows);
	counts_line(&st->counts, out);
	fprintf(out, "span       %.3f s (%.2f h), first row at %lld.%09lld s\n", st->span_s,
		st->span_s / 3600,
		(long long)(st->first / LLMCAP_SEC), (long long)(st->first % LLMCAP_SEC));
	fprintf(out, "rate       %.4f/s mean (%.2f/min, %.0f/day)\n", st->mean_rate, st->mean_rate * 60,
		st->mean_rate * 86400);
	fprintf(out, "peak/mean  ");
	if (isnan(st->peak_minute))
		fprintf(out, "over 1-minute windows - (no complete minute)");
	else
		fprintf(out, "over 1-minute windows %.2f", st->peak_minute);
	if (isnan(st->peak_hour))
		fprintf(out, ", over 1-hour windows - (no complete hour)\n");
	else
		fprintf(out, ", over 1-hour windows %.2f\n", st->peak_hour);
	fprintf(out, "\n  %-8s %10s %8s %8s %8s\n", "tokens", "mean", "p50", "p90", "p99");
	fprintf(out, "  %-8s %10.1f %8.0f %8.0f %8.0f\n", "prompt", st->prompt_mean, st->prompt_q[0],
		st->prompt_q[1], st->prompt_q[2]);
	fprintf(out, "  %-8s %10.1f %8.0f %8.0f %8.0f\n", "output", st->output_mean, st->output_q[0],
		st->output_q[1], st->output_q[2]);
	llmcap_format_count(st->tokens_per_month, a, sizeof a);
	fprintf(out, "\ntokens     %lld prompt + %lld output -> %s tokens/month at this rate\n",
		(long long)st->prompt_tokens, (long long)st->output_tokens, a);
}

static void fmt_process(enum llmcap_arrival_kind kind, double cv, const struct llmcap_mmpp_cfg *mm,
			const struct llmcap_diurnal_cfg *d, char *buf, size_t n)
{
	char a[32], b[32];
	size_t k;
	if (kind == LLMCAP_ARRIVAL_GAMMA)
		k = (size_t)snprintf(buf, n, "gamma renewal (CV %g)", cv);
	else if (kind == LLMCAP_ARRIVAL_MMPP) {
		llmcap_format_duration(mm->mean_calm, a, sizeof a);
		llmcap_format_duration(mm->mean_burst, b, sizeof b);
		k = (size_t)snprintf(buf, n, "mmpp (bursts of %s every %s at %gx the calm rate)", b, a,
				     mm->burst_rate_factor);
	} else {
		k = (size_t)snprintf(buf, n, "poisson");
	}
	if (k >= n)
		return;
	if (d->shape == LLMCAP_DIURNAL_SMOOTH)
		k += (size_t)snprintf(buf + k, n - k, ", smooth daily profile peaking at %gx the mean at %g:00",
				      d->peak_to_mean, d->peak_hour);
	else if (d->shape != LLMCAP_DIURNAL_NONE)
		k += (size_t)snprintf(buf + k, n - k, ", profile %s", llmcap_diurnal_shape_name(d->shape));
	if (k < n && d->n_days)
		k += (size_t)snprintf(buf + k, n - k, ", day-of-week factors");
	if (k < n && d->weekend_factor != 1.0)
		snprintf(buf + k, n - k, ", weekend x%g", d->weekend_factor);
}

void llmcap_traffic_report(struct llmcap_traffic *tr, FILE *out)
{
	const struct llmcap_scenario *sc = tr->sc;
	char a[64], b[64], proc[256];
	llmcap_format_duration(tr->horizon, a, sizeof a);
	fprintf(out, "llmcap workload: %s (seed %llu, horizon %s, starting %s 00:00)\n\n", sc->name,
		(unsigned long long)sc->seed, a,
		(const char *[]){"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
				 "Sunday"}[sc->workload.start_day]);
	double rate = llmcap_scenario_mean_rate(sc);
	if (tr->has_trace) {
		/* the rate applies to the classes with their own streams only */
		llmcap_format_rate(rate, a, sizeof a);
		fprintf(out, "rate       %s mean x share for classes with their own stream\n", a);
	} else if (isnan(sc->workload.rate)) {
		llmcap_format_count(sc->workload.tokens_per_month, b, sizeof b);
		fprintf(out, "rate       %.0f/day mean (%.2f/min), from %s tokens/month at %.0f tokens/request\n",
			rate * 86400, rate * 60, b, llmcap_scenario_tokens_per_request(sc));
	} else {
		llmcap_format_rate(rate, a, sizeof a);
		fprintf(out, "rate       %s mean (%.2f/min)\n", a, rate * 60);
	}
	fmt_process(sc->workload.arrival, sc->workload.gamma_cv, &sc->workload.mmpp,
		    &sc->workload.diurnal, proc, sizeof proc);
	if (tr->has_trace)
		llmcap_replay_report(&tr->trace, out);
	else
		fprintf(out, "arrivals   %s\n", proc);
	for (size_t c = 0; c < tr->n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		if (cl->arrival == LLMCAP_ARRIVAL_SHARED)
			continue;
		fmt_process(cl->arrival, cl->gamma_cv, &cl->mmpp, &cl->diurnal, proc, sizeof proc);
		fprintf(out, "           class %s has its own stream: %s\n", cl->name, proc);
	}
	double horizon_s = (double)tr->horizon * 1e-9;
	fprintf(out, "\ngenerated  %lld requests (expected %.0f over this horizon): %.2f/min mean\n",
		(long long)tr->requests, tr->expected_requests, tr->mean_rate * 60);
	if (!isnan(tr->peak_minute))
		fprintf(out, "           peak/mean over 1-minute windows %.2f", tr->peak_minute);
	else
		fprintf(out, "           peak/mean over 1-minute windows -");
	if (!isnan(tr->peak_hour)) {
		size_t h = tr->busiest_hour;
		fprintf(out, ", over 1-hour windows %.2f\n", tr->peak_hour);
		fprintf(out, "           busiest hour %02zu:00-%02zu:00 of day %zu: %lld requests (%.1f/min)\n",
			h % 24, h % 24 + 1, h / 24 + 1, (long long)tr->per_hour[h],
			(double)tr->per_hour[h] / 60.0);
	} else {
		fprintf(out, ", over 1-hour windows - (horizon under an hour)\n");
	}
	fprintf(out, "\n  %-12s %9s %6s  %-8s %7s %7s %7s %7s %8s\n", "class", "requests", "share",
		"tokens", "p50", "p90", "p99", "max", "mean");
	double tokens = 0;
	for (size_t c = 0; c < tr->n_classes; c++) {
		struct llmcap_traffic_class *tc = &tr->classes[c];
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		for (int which = 0; which < 2; which++) {
			double *v = which ? tc->output : tc->prompt;
			size_t n = (size_t)tc->requests;
			double q[4] = {NAN, NAN, NAN, NAN};
			if (n > 0) {
				gsl_sort(v, 1, n);
				q[0] = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5);
				q[1] = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.9);
				q[2] = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.99);
				q[3] = v[n - 1];
			}
			double mean = n ? (which ? tc->output_tokens : tc->prompt_tokens) / (double)n : NAN;
			const struct llmcap_dist *d = which ? &cl->output : &cl->prompt;
			if (which == 0)
				fprintf(out, "  %-12s %9lld %5.1f%%  ", cl->name, (long long)tc->requests,
					tr->requests ? 100.0 * (double)tc->requests / (double)tr->requests : 0.0);
			else
				fprintf(out, "  %-12s %9s %6s  ", "", "", "");
			if (tr->has_trace && cl->arrival == LLMCAP_ARRIVAL_SHARED)
				fprintf(out, "%-8s %7.0f %7.0f %7.0f %7.0f %8.1f  (trace rows)\n",
					which ? "output" : "prompt", q[0], q[1], q[2], q[3], mean);
			else
				fprintf(out, "%-8s %7.0f %7.0f %7.0f %7.0f %8.1f  (%s; expected mean %.1f)\n",
					which ? "output" : "prompt", q[0], q[1], q[2], q[3], mean,
					llmcap_dist_name(d->kind), llmcap_dist_mean(d));
		}
		tokens += tc->prompt_tokens + tc->output_tokens;
	}
	llmcap_format_count(tr->tokens_per_month, a, sizeof a);
	llmcap_format_count(rate * llmcap_scenario_tokens_per_request(sc) * LLMCAP_MONTH_SECONDS, b, sizeof b);
	if (tr->has_trace)
		fprintf(out, "\ntokens     %.0f tokens/request -> %s tokens/month generated\n",
			tr->requests ? tokens / (double)tr->requests : 0.0, a);
	else
		fprintf(out, "\ntokens     %.0f tokens/request -> %s tokens/month generated (%s expected)\n",
			tr->requests ? tokens / (double)tr->requests : 0.0, a, b);
	(void)horizon_s;
}

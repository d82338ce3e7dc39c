/* `llmcap workload`: the generated traffic without the servers, and what it measures. */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/workload.h"

static bool push(struct llmcap_traffic_class *tc, double prompt, double output)
{
	if ((size_t)tc->requests == tc->cap) {
		size_t cap = tc->cap ? 2 * tc->cap : 1024;
		double *p = realloc(tc->prompt, cap * sizeof *p);
		if (p)
			tc->prompt = p;
		double *o = realloc(tc->output, cap * sizeof *o);
		if (o)
			tc->output = o;
		if (!p || !o)
			return false;
		tc->cap = cap;
	}
	tc->prompt[tc->requests] = prompt;
	tc->output[tc->requests] = output;
	tc->requests++;
	tc->prompt_tokens += prompt;
	tc->output_tokens += output;
	return true;
}

/* Busiest full window over the mean count per window (the horizon's mean rate x window). */
static double peak_ratio(const int64_t *counts, size_t n_full, double per_window, size_t *at)
{
	if (n_full == 0 || !(per_window > 0))
		return NAN;
	size_t best = 0;
	for (size_t i = 1; i < n_full; i++)
		if (counts[i] > counts[best])
			best = i;
	if (at)
		*at = best;
	return (double)counts[best] / per_window;
}

int llmcap_traffic_generate(const struct llmcap_scenario *sc, FILE *csv, struct llmcap_traffic *tr,
			    struct llmcap_error *err)
{
	memset(tr, 0, sizeof *tr);
	tr->sc = sc;
	tr->horizon = sc->horizon;
	tr->n_classes = sc->workload.n_classes;
	tr->n_minutes = (size_t)((sc->horizon + LLMCAP_MIN - 1) / LLMCAP_MIN);
	tr->n_hours = (size_t)((sc->horizon + LLMCAP_HOUR - 1) / LLMCAP_HOUR);
	tr->per_minute = calloc(tr->n_minutes ? tr->n_minutes : 1, sizeof *tr->per_minute);
	tr->per_hour = calloc(tr->n_hours ? tr->n_hours : 1, sizeof *tr->per_hour);
	if (!tr->per_minute || !tr->per_hour) {
		llmcap_traffic_free(tr);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	struct llmcap_workload wl;
	int rc = llmcap_workload_init(&wl, sc, err);
	if (rc) {
		llmcap_traffic_free(tr);
		return rc;
	}
	/* E[count] = sum over streams of rate x integral of the profile over the horizon (exact
	 * for Poisson and MMPP started in their stationary state; a renewal process differs by
	 * less than one request per stream) */
	for (size_t i = 0; i < wl.n_streams; i++) {
		if (wl.streams[i].trace) {
			/* a replay without loop ends with its window */
			const struct llmcap_replay_stats *rs = llmcap_replay_stats(wl.replay);
			double copies = (double)sc->horizon * rs->speedup / (double)rs->period;
			if (sc->workload.trace.fill == LLMCAP_FILL_NONE && copies > 1)
				copies = 1;
			tr->expected_requests += copies * (double)rs->window_rows;
			continue;
		}
		tr->expected_requests +=
			wl.streams[i].rate * llmcap_profile_integral(&wl.streams[i].profile, sc->horizon);
	}
	if (csv)
		fprintf(csv, "arrival_s,class,prompt_tokens,output_tokens\n");
	llmcap_time t;
	/* the same calls in the same order as the simulation's arrivals: the same requests */
	while ((t = llmcap_workload_next_arrival(&wl)) < sc->horizon) {
		size_t cls = llmcap_workload_pick_class(&wl);
		int64_t prompt, output;
		llmcap_workload_lengths(&wl, cls, &prompt, &output);
		if (!push(&tr->classes[cls], (double)prompt, (double)output)) {
			llmcap_workload_free(&wl);
			llmcap_traffic_free(tr);
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		}
		tr->requests++;
		tr->per_minute[t / LLMCAP_MIN]++;
		tr->per_hour[t / LLMCAP_HOUR]++;
		if (csv)
			fprintf(csv, "%lld.%09lld,%s,%lld,%lld\n", (long long)(t / LLMCAP_SEC),
				(long long)(t % LLMCAP_SEC), sc->workload.classes[cls].name,
				(long long)prompt, (long long)output);
	}
	rc = llmcap_workload_error(&wl, err);
	if (wl.replay) {
		tr->has_trace = true;
		tr->trace = *llmcap_replay_stats(wl.replay);
	}
	llmcap_workload_free(&wl);
	if (rc) {
		llmcap_traffic_free(tr);
		return rc;
	}

	double horizon_s = (double)sc->horizon * 1e-9;
	tr->mean_rate = (double)tr->requests / horizon_s;
	tr->peak_minute = peak_ratio(tr->per_minute, (size_t)(sc->horizon / LLMCAP_MIN),
				     tr->mean_rate * 60.0, NULL);
	tr->peak_hour = peak_ratio(tr->per_hour, (size_t)(sc->horizon / LLMCAP_HOUR),
				   tr->mean_rate * 3600.0, &tr->busiest_hour);
	double tokens = 0;
	for (size_t c = 0; c < tr->n_classes; c++)
		tokens += tr->classes[c].prompt_tokens + tr->classes[c].output_tokens;
	tr->tokens_per_month = tokens / horizon_s * LLMCAP_MONTH_SECONDS;
	return 0;
}

void llmcap_traffic_free(struct llmcap_traffic *tr)
{
	for (size_t c = 0; c < LLMCAP_MAX_CLASSES; c++) {
		free(tr->classes[c].prompt);
		free(tr->classes[c].output);
	}
	free(tr->per_minute);
	free(tr->per_hour);
	memset(tr, 0, sizeof *tr);
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

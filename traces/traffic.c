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
	if (sc->workload.clients.concurrency > 0)
		/* a closed loop's arrivals follow the servers' completions: only a run has them */
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.clients: %lld closed-loop clients send their next request "
				     "when the previous one ends, so the traffic depends on the servers; "
				     "expected open-loop arrivals (workload.clients.concurrency: 0), or "
				     "`llmcap run` to simulate the clients with the fleet",
				     (long long)sc->workload.clients.concurrency);
	for (size_t c = 0; c < sc->workload.n_classes; c++)
		if (llmcap_class_has_sessions(&sc->workload.classes[c]))
			/* likewise a session's later turns: each follows its previous answer */
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "workload.classes.%s.sessions: a session's next turn is sent "
					     "a think time after the previous answer ends, so the traffic "
					     "depends on the servers; expected no sessions (turns: {dist: "
					     "fixed, value: 1}), or `llmcap run` to simulate them with the fleet",
					     sc->workload.classes[c].name);
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

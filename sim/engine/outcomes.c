/* How a request ends, and how it is counted: completed (latencies, SLO), spilled to the API or
 * rejected, or unfinished at the horizon (loop.c); every end enters the run's digest and, if
 * asked, the per-request output (llmcap_request_ended). Also the replicas' busy time by hour. */
#include <gsl/gsl_randist.h>

#include "engine_private.h"

const char *llmcap_request_status_name(int status)
{
	switch (status) {
	case LLMCAP_REQ_COMPLETED: return "completed";
	case LLMCAP_REQ_REJECTED_MAX_MODEL_LEN: return "rejected:max_model_len";
	case LLMCAP_REQ_UNFINISHED: return "unfinished";
	case LLMCAP_REQ_REJECTED_QUEUE_FULL: return "rejected:queue_full";
	case LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT: return "rejected:llmcap_queue_timeout";
	case LLMCAP_REQ_SPILLED_QUEUE_FULL: return "spilled:queue_full";
	case LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT: return "spilled:llmcap_queue_timeout";
	case LLMCAP_REQ_SPILLED_POOL_WAITING: return "spilled:pool_waiting";
	case LLMCAP_REQ_SPILLED_POOL_KV: return "spilled:pool_kv";
	}
	return "?";
}

bool llmcap_status_is_rejected(int status)
{
	return status == LLMCAP_REQ_REJECTED_MAX_MODEL_LEN || status == LLMCAP_REQ_REJECTED_QUEUE_FULL ||
	       status == LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT;
}

bool llmcap_status_is_spilled(int status)
{
	return status >= LLMCAP_REQ_SPILLED_QUEUE_FULL && status <= LLMCAP_REQ_SPILLED_POOL_KV;
}

static double span_s(llmcap_time from, llmcap_time to)
{
	return from < 0 || to < 0 ? NAN : (double)(to - from) * 1e-9;
}

/* The hour of a request's arrival (the last hour for one past the horizon's last whole hour):
 * its latencies' tag, and its place in the class's hourly counts. */
static uint32_t hour_index(const struct sim *s, const struct req *r)
{
	size_t h = (size_t)(r->arrival / LLMCAP_HOUR);
	return (uint32_t)(h < s->res->n_hours ? h : s->res->n_hours - 1);
}

static struct llmcap_hour_stats *hour_of(struct sim *s, const struct req *r)
{
	return &s->res->hours[r->cls * s->res->n_hours + hour_index(s, r)];
}

/* Every request ends here exactly once: it enters the digest and, if asked, the output. */
void llmcap_request_ended(struct sim *s, const struct req *r, enum llmcap_request_status st)
{
	const uint64_t rec[10] = {(uint64_t)r->id,          (uint64_t)st,
				  (uint64_t)r->cls,         (uint64_t)r->replica,
				  (uint64_t)r->arrival,     (uint64_t)r->first_token,
				  (uint64_t)r->last_token,  (uint64_t)r->preemptions,
				  (uint64_t)r->prompt,      (uint64_t)r->output};
	s->res->digest = llmcap_hash_words(s->res->digest, rec, 10);
	s->res->classes[r->cls].by_status[st]++;
	/* its session and turn, read before the session moves on to its next turn */
	const int64_t session = r->session ? s->sessions[r->session - 1].id : -1;
	const int32_t turn = r->session ? s->sessions[r->session - 1].turn : 0;
	/* a session's next turn (sessions.c); else the request's client thinks, then sends its
	 * next */
	const bool next_turn = r->session &&
			       llmcap_session_next(s, r, st == LLMCAP_REQ_COMPLETED || llmcap_status_is_spilled(st),
						   st == LLMCAP_REQ_UNFINISHED);
	if (s->clients && st != LLMCAP_REQ_UNFINISHED && !next_turn)
		llmcap_client_think(s, st != LLMCAP_REQ_COMPLETED);
	struct llmcap_hour_stats *h = hour_of(s, r);
	if (llmcap_status_is_spilled(st))
		h->spilled++;
	else if (st != LLMCAP_REQ_COMPLETED)
		h->lost++;
	if (!s->sink || !s->sink->request || s->sink_rc)
		return;
	bool spilled = llmcap_status_is_spilled(st);
	/* zeroed first: the record's padding reaches output files (HDF5 writes the struct's
	 * bytes), which must be the same for the same run */
	struct llmcap_request_record out;
	memset(&out, 0, sizeof out);
	out.id = r->id;
	out.arrival = (double)r->arrival * 1e-9;
	out.cls = (int32_t)r->cls;
	out.pool = (int32_t)r->pool;
	out.replica = r->replica == UINT32_MAX ? -1 : (int32_t)r->replica;
	out.status = st;
	out.preemptions = (int32_t)r->preemptions;
	out.prompt_tokens = r->prompt;
	out.output_tokens = r->output;
	out.generated_tokens = r->generated;
	out.prefix_hit_tokens = r->prefix_hit;
	out.queue = span_s(r->arrival, r->first_sched);
	out.ttft = span_s(r->arrival, r->first_token);
	out.tpot = r->generated > 1 ? span_s(r->first_token, r->last_token) / (r->generated - 1) : NAN;
	out.max_gap = r->generated > 1 && !spilled ? (double)r->max_gap * 1e-9 : NAN;
	out.e2e = st == LLMCAP_REQ_COMPLETED || spilled ? span_s(r->arrival, r->last_token) : NAN;
	out.session = session;
	out.turn = turn;
	out.prefill_replica = -1;
	out.prefill = out.decode_queue = out.kv_transfer = NAN;
	if (s->dg)
		llmcap_disagg_record(s, r, &out);
	llmcap_feat_record(s, r, &out);
	s->sink_rc = s->sink->request(s->sink->user, &out);
}

/* Busy time of a replica, split over the simulated hours it falls in. */
void llmcap_add_busy(struct sim *s, size_t ri, llmcap_time from, llmcap_time to)
{
	llmcap_time *hours = &s->res->busy_per_hour[ri * s->res->n_hours];
	while (from < to) {
		size_t h = (size_t)(from / LLMCAP_HOUR);
		llmcap_time end = (llmcap_time)(h + 1) * LLMCAP_HOUR;
		if (end > to || h + 1 >= s->res->n_hours)
			end = to;
		if (h >= s->res->n_hours)
			h = s->res->n_hours - 1;
		hours[h] += end - from;
		from = end;
	}
}

/* Whether the request met both of its class's targets (a one-token reply has no TPOT). */
static bool meets_slo(const struct sim *s, const struct req *r, double ttft, double tpot)
{
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[r->cls];
	return ttft <= (double)cl->slo_ttft_p99 * 1e-9 &&
	       (r->output <= 1 || tpot <= (double)cl->slo_tpot_p99 * 1e-9);
}

void llmcap_complete(struct sim *s, size_t ri, int32_t id)
{
	struct req *r = &s->reqs[id];
	struct llmcap_class_stats *cs = &s->res->classes[r->cls];
	if (r->adapter != 0)
		llmcap_lora_leave(s, ri, r);
	cs->completed++;
	cs->preemptions += r->preemptions;
	cs->completed_prompt_tokens += r->prompt;
	cs->completed_output_tokens += r->output;
	double ttft = span_s(r->arrival, r->first_token);
	double tpot = r->output > 1 ? span_s(r->first_token, r->last_token) / (r->output - 1) : NAN;
	/* TTFT and TPOT tagged with the arrival's hour (kept in exact mode): the busiest hour's */
	const uint32_t hour = hour_index(s, r);
	bool ok = llmcap_quantiles_add_tagged(&cs->ttft, ttft, hour) &&
		  llmcap_quantiles_add(&cs->e2e, span_s(r->arrival, r->last_token)) &&
		  llmcap_quantiles_add(&cs->queue, span_s(r->arrival, r->first_sched));
	if (ok && r->output > 1)
		ok = llmcap_quantiles_add_tagged(&cs->tpot, tpot, hour);
	if (!ok)
		s->oom = true;
	if (meets_slo(s, r, ttft, tpot)) {
		cs->slo_met++;
		cs->slo_met_output_tokens += r->output;
	}
	llmcap_request_ended(s, r, LLMCAP_REQ_COMPLETED);
	count_account(s, ri);
	s->replicas[ri].outstanding--;
	s->in_flight--;
	s->replicas[ri].completions_int++;
	if (s->replicas[ri].draining && s->replicas[ri].outstanding == 0)
		replica_drained(s, ri); /* a maintenance window's drain ends (failures.c) */
	req_release(s, id);
}

/* A spilled request is served by the API: latency from the pool's API model, cost from the
 * class's API prices (see cost.c). */
void llmcap_spill_or_reject(struct sim *s, struct req *r, enum llmcap_request_status st)
{
	struct llmcap_class_stats *cs = &s->res->classes[r->cls];
	if (llmcap_status_is_spilled(st)) {
		const struct pool_rt *pl = &s->pools[r->pool];
		double ttft = (double)pl->cfg->spill.api_ttft_median * 1e-9;
		if (pl->cfg->spill.api_ttft_sigma > 0)
			ttft = llmcap_ran_lognormal(pl->api, log(ttft), pl->cfg->spill.api_ttft_sigma);
		double tpot = (double)pl->cfg->spill.api_tpot * 1e-9;
		r->first_token = s->now + (llmcap_time)llround(ttft * 1e9);
		r->last_token = r->first_token + (llmcap_time)llround(tpot * 1e9 * (r->output - 1));
		r->generated = r->output;
		cs->spilled++;
		cs->spilled_prompt_tokens += r->prompt;
		cs->spilled_output_tokens += r->output;
		if (meets_slo(s, r, ttft, tpot)) {
			cs->slo_met++;
			cs->slo_met_output_tokens += r->output;
		}
	} else {
		cs->rejected++;
	}
	llmcap_request_ended(s, r, st);
}


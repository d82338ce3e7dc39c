/* What other engine files read of disaggregated prefill and decode's state (disagg.c): the fast
 * mode's bound for a run of a decode replica, and a request's stage times for its record. It
 * calls no engine file's functions but stream.c's, so that fast.c and outcomes.c, which
 * disagg.c calls, use it without a circle of files. */
#include "disagg.h"

llmcap_time llmcap_disagg_stop(struct sim *s, const struct replica *rp)
{
	struct llmcap_disagg *dg = s->dg;
	const size_t d = rp->pool;
	if (!dg->pools[d].decode)
		return INT64_MAX;
	/* a run of a decode replica stops before anything can be handed to it: the end of a
	 * transfer to its pool, the end of a prefill step of a pool that feeds it, or the next
	 * arrival to such a pool (an idle prefill replica starts a step only at one of those, at
	 * a kick pending now, or at its frontend's kick) */
	llmcap_time stop = INT64_MAX;
	for (size_t i = 0; i < dg->n_flight; i++) {
		const struct dg_req *q = &dg->req[dg->flight[i]];
		if (dg->pools[s->reqs[dg->flight[i]].pool].peer == d && q->xfer_end < stop)
			stop = q->xfer_end;
	}
	for (size_t p = 0; p < s->res->n_pools; p++) {
		if (!dg->pools[p].prefill || dg->pools[p].peer != d)
			continue;
		const llmcap_time a = llmcap_next_arrival_to(s, p, 0);
		if (a < stop)
			stop = a;
		const struct llmcap_pool_stats *ps = &s->res->pools[p];
		for (size_t i = 0; i < ps->n_replicas; i++) {
			const size_t pi = ps->first_replica + i;
			const struct replica *pp = &s->replicas[pi];
			if (pp->kicked)
				return s->now;
			if (pp->busy && dg->step_end[pi] < stop)
				stop = dg->step_end[pi];
			/* an idle one whose waiting head is still in the API server starts a step at
			 * its frontend kick (scheduler.c; engine profile frontend_*) */
			if (s->pools[p].frontend && pp->fe_kick > s->now && pp->fe_kick < stop)
				stop = pp->fe_kick;
		}
	}
	return stop;
}

void llmcap_disagg_record(const struct sim *s, const struct req *r,
			  struct llmcap_request_record *out)
{
	const struct llmcap_disagg *dg = s->dg;
	const size_t slot = (size_t)(r - s->reqs);
	if (slot >= dg->cap_req || dg->req[slot].id != r->id)
		return;
	const struct dg_req *q = &dg->req[slot];
	out->prefill_replica = q->prefill_replica;
	out->prefill = (double)(q->prefill_end - r->first_sched) * 1e-9;
	if (q->xfer_start >= 0)
		out->decode_queue = (double)(q->xfer_start - q->prefill_end) * 1e-9;
	if (q->xfer_end >= 0 && q->xfer_end <= s->now)
		out->kv_transfer = (double)(q->xfer_end - q->xfer_start) * 1e-9;
}

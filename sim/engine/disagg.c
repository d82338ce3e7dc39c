/* Disaggregated prefill and decode (pools.NAME.disaggregation; docs/engine.md, "Disaggregated
 * prefill and decode"), as Splitwise, DistServe, Mooncake, NVIDIA Dynamo, llm-d, vLLM's KV
 * connectors (NixlConnector) and SGLang's PD disaggregation run it: a prefill group's replicas
 * compute prompts; when a request's prompt is done (its first token sampled on the prefill
 * replica) it leaves the prefill replica's batch and is handed to a replica of the decode pool
 * chosen by that pool's router. The decode replica reserves blocks for the prompt's KV (in
 * FIFO order, when its free blocks allow: the decode queue), the KV moves over the link
 * (transfer time = latency + exposed bytes / bandwidth), and then the request joins the decode
 * replica's running batch with its prompt computed and one token emitted. The prefill replica
 * holds the request's blocks until the transfer ends.
 *
 * The first token reaches the client when the KV (with the prefill's first token) lands on the
 * decode replica: TTFT = prefill queue + prefill + decode queue + transfer (SGLang's decode
 * server returns the token the prefill server sampled, which arrives with the KV; Dynamo's
 * and vLLM's proxies stream the decode worker's output, so the client sees nothing before the
 * transfer either).
 *
 * Everything here runs at events of its own (a prefill step end, a transfer's end) or at a
 * decode replica's step end, in the same order in both engine modes; the fast mode's runs on a
 * decode replica stop before any of them can reach it (llmcap_disagg_stop), and a prefill
 * replica takes no runs (its requests leave as they finish their prompt).
 */
#include "disagg.h"

int llmcap_disagg_init(struct sim *s, const struct llmcap_catalog *cat, struct llmcap_error *err)
{
	const struct llmcap_scenario *sc = s->sc;
	bool any = false;
	for (size_t p = 0; p < sc->n_pools; p++)
		any |= sc->pools[p].disaggregation.decode_pool[0] != '\0';
	if (!any)
		return 0;
	struct llmcap_disagg *dg = calloc(1, sizeof *dg);
	if (!dg)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	s->dg = dg;
	s->res->disaggregated = true;
	const size_t n = s->res->n_replicas;
	dg->pending = calloc(n ? n : 1, sizeof *dg->pending);
	dg->step_end = calloc(n ? n : 1, sizeof *dg->step_end);
	if (!dg->pending || !dg->step_end)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	const bool streaming = sc->output.percentiles == LLMCAP_PERCENTILES_STREAMING;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *cfg = &sc->pools[p];
		if (!cfg->disaggregation.decode_pool[0])
			continue;
		size_t d = 0;
		while (d < sc->n_pools && strcmp(sc->pools[d].name, cfg->disaggregation.decode_pool))
			d++;
		const struct llmcap_link_spec *link = llmcap_catalog_link(cat, cfg->disaggregation.link);
		if (d == sc->n_pools || d == p || !link)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "pools.%s.disaggregation: decode_pool '%s' or link '%s' "
					     "unknown (llmcap_scenario_check refuses it)",
					     cfg->name, cfg->disaggregation.decode_pool,
					     cfg->disaggregation.link);
		struct dg_pool *g = &dg->pools[p];
		const double kp = s->res->pools[p].plan.kv_bytes_per_token;
		const double kd = s->res->pools[d].plan.kv_bytes_per_token;
		*g = (struct dg_pool){.prefill = true, .peer = d, .bandwidth = link->bandwidth,
				      .latency = link->latency, .overlap = cfg->disaggregation.overlap,
				      .layers = s->res->pools[p].model->layers,
				      .lane_bytes = kp > kd ? kp : kd,
				      .total_bytes = kp * (double)cfg->tensor_parallel_size};
		dg->pools[d].decode = true;
		/* a request must fit the decode group too: the prefill group admits what both hold */
		if (s->pools[d].max_model_len < s->pools[p].max_model_len)
			s->pools[p].max_model_len = s->pools[d].max_model_len;
		struct llmcap_disagg_stats *ds = &s->res->disagg[p];
		ds->on = true;
		ds->decode_pool = (int32_t)d;
		if (!llmcap_quantiles_init(&ds->transfer, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&ds->decode_queue, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&ds->prefill_queue, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&ds->prefill, streaming, sc->output.percentile_error))
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	return 0;
}

void llmcap_disagg_free(struct sim *s)
{
	struct llmcap_disagg *dg = s->dg;
	if (!dg)
		return;
	if (dg->pending)
		for (size_t i = 0; i < s->res->n_replicas; i++)
			free(dg->pending[i].buf);
	free(dg->pending);
	free(dg->step_end);
	free(dg->flight);
	free(dg->req);
	free(dg);
	s->dg = NULL;
}

/* The KV transfer's time for a prompt of `tokens` whose last prefill step took step_time:
 * every GPU of the smaller share moves its part over its own port at once, so the larger
 * per-GPU share (lane_bytes) over one port's bandwidth is the transfer, T. Without overlap T
 * follows the prefill. With layer-wise overlap, layer l's KV leaves as soon as the step
 * computed it (layers computed at an even pace over the step, P): the link finishes at
 * max(P/L + T, P + T/L) after the step's start, the first term where the link is the
 * bottleneck, the second where the compute is; after the step's end that leaves
 * max(T/L, T - P (L - 1)/L). The latency is paid once, after the prefill. */
llmcap_time llmcap_disagg_transfer_time(double lane_bytes_per_token, int64_t tokens,
					double bandwidth, llmcap_time latency, bool overlap,
					int64_t layers, llmcap_time step_time)
{
	double t = lane_bytes_per_token * (double)tokens / bandwidth * 1e9; /* ns */
	if (overlap && layers > 1) {
		const double l = (double)layers, tail = t / l,
			     backlog = t - (double)step_time * (l - 1) / l;
		t = backlog > tail ? backlog : tail;
	}
	return latency + (llmcap_time)llround(t);
}

static struct dg_req *dg_slot(struct llmcap_disagg *dg, int32_t slot)
{
	if ((size_t)slot >= dg->cap_req) {
		size_t cap = dg->cap_req ? dg->cap_req : 1024;
		while (cap <= (size_t)slot)
			cap *= 2;
		struct dg_req *nr = realloc(dg->req, cap * sizeof *nr);
		if (!nr)
			return NULL;
		for (size_t i = dg->cap_req; i < cap; i++)
			nr[i].id = -1;
		dg->req = nr;
		dg->cap_req = cap;
	}
	return &dg->req[slot];
}

/* Needs an idle replica's next step at this instant (after this instant's other events). */
static void kick(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	if (!rp->busy && !rp->kicked) {
		rp->kicked = true;
		push_event(s, s->now, s->now, EV_KICK, (uint32_t)ri, 0, ri);
	}
}

/* Reserves blocks on decode replica di for the request in slot and starts its transfer, if
 * the blocks are free beyond one a running request (a decode's next block at most) and a
 * sequence slot is left: as vLLM's scheduler allocates a remote prefill's blocks from its
 * waiting loop, after the running requests, so that a reservation never preempts. */
static bool reserve(struct sim *s, size_t di, int32_t slot)
{
	struct llmcap_disagg *dg = s->dg;
	struct replica *rp = &s->replicas[di];
	struct req *r = &s->reqs[slot];
	struct dg_req *q = &dg->req[slot];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const int64_t need = blocks_for(r->prompt, pl->cfg->block_size, pl->bs_shift);
	/* a run's steps all ended before now (llmcap_disagg_stop); its last one is in flight, as
	 * in exact steps once the run is applied */
	if (rp->deferred)
		llmcap_run_apply(s, di);
	const int64_t reserved_seqs = rp->n_transit - (int64_t)dg->pending[di].len;
	if (need + (int64_t)rp->n_running > allocatable(rp) ||
	    (int64_t)rp->n_running + reserved_seqs >= pl->cfg->max_num_seqs)
		return false;
	if (dg->n_flight == dg->cap_flight) {
		size_t cap = dg->cap_flight ? 2 * dg->cap_flight : 64;
		int32_t *f = realloc(dg->flight, cap * sizeof *f);
		if (!f) {
			s->oom = true;
			return false;
		}
		dg->flight = f;
		dg->cap_flight = cap;
	}
	dg->flight[dg->n_flight++] = slot;
	kv_account(s, di);
	take_blocks(s, di, need);
	rp->kv_held += need;
	q->reserved = (int32_t)need;
	const struct dg_pool *g = &dg->pools[r->pool];
	q->xfer_start = s->now;
	q->xfer_end = s->now + llmcap_disagg_transfer_time(g->lane_bytes, r->prompt, g->bandwidth,
							   g->latency, g->overlap, g->layers,
							   q->step_time);
	push_event(s, q->xfer_end, s->now, EV_KV_DONE, (uint32_t)slot, (uint64_t)r->id,
		   (uint64_t)r->id);
	return true;
}

bool llmcap_disagg_handoff(struct sim *s, size_t ri, int32_t slot)
{
	struct llmcap_disagg *dg = s->dg;
	struct replica *rp = &s->replicas[ri];
	const struct dg_pool *g = &dg->pools[rp->pool];
	if (!g->prefill)
		return false;
	struct req *r = &s->reqs[slot];
	struct dg_req *q = dg_slot(dg, slot);
	if (!q) {
		s->oom = true;
		return false;
	}
	*q = (struct dg_req){.id = r->id, .prefill_end = s->now, .step_time = s->now - rp->step_start,
			     .xfer_start = -1, .xfer_end = -1, .prefill_replica = (int32_t)ri,
			     .held = r->blocks - r->n_prefix};
	/* the prefill replica keeps the blocks (and its prefix entries' references) until the
	 * transfer ends; the request leaves its batch and its counts */
	rp->kv_held += q->held;
	rp->committed -= r->commit;
	r->commit = 0;
	count_account(s, ri);
	rp->outstanding--;
	rp->completions_int++;
	s->res->disagg[rp->pool].handoffs++;
	/* the client sees the first token when it lands on the decode replica */
	r->first_token = r->last_token = -1;
	const size_t d = g->peer;
	const size_t di = s->pools[d].router->pick(s, d, r);
	struct replica *dp = &s->replicas[di];
	r->replica = (uint32_t)di;
	count_account(s, di);
	dp->outstanding++;
	dp->n_transit++;
	dp->arrivals_int++;
	if (dg->pending[di].len > 0 || !reserve(s, di, slot)) {
		if (!deque_push_back(&dg->pending[di], slot))
			s->oom = true;
	}
	return true;
}

void llmcap_disagg_retry(struct sim *s, size_t di)
{
	struct deque *q = &s->dg->pending[di];
	while (q->len > 0 && reserve(s, di, *deque_at(q, 0)))
		deque_pop_front(q);
}

void llmcap_disagg_arrive(struct sim *s, int32_t slot, int64_t id)
{
	struct llmcap_disagg *dg = s->dg;
	struct req *r = &s->reqs[slot];
	struct dg_req *q = &dg->req[slot];
	assert(r->state == R_RUNNING && r->id == id && q->id == id && q->xfer_end == s->now);
	(void)id;
	for (size_t i = 0; i < dg->n_flight; i++)
		if (dg->flight[i] == slot) {
			dg->flight[i] = dg->flight[--dg->n_flight];
			break;
		}
	/* the prefill replica lets go of the blocks */
	const size_t pi = (size_t)q->prefill_replica;
	struct replica *pp = &s->replicas[pi];
	kv_account(s, pi);
	pp->kv_held -= q->held;
	llmcap_release_blocks(pp, r);
	if (pp->waiting.len > 0 || pp->swapped.len > 0)
		kick(s, pi);
	CHECK_REPLICA(s, pp);
	/* the decode replica takes the request into its batch: its prompt computed, the first
	 * token out now; its next step decodes the second */
	const size_t di = r->replica;
	struct replica *dp = &s->replicas[di];
	if (dp->deferred) /* as in reserve() */
		llmcap_run_apply(s, di);
	dp->kv_held -= q->reserved;
	dp->n_transit--;
	r->blocks = q->reserved;
	r->n_prefix = 0;
	r->prefix_blocks = 0; /* its prefix entries stay the prefill replica's */
	r->first_token = r->last_token = s->now;
	r->sched = 0;
	if (dp->n_running == dp->cap_running) {
		size_t cap = dp->cap_running ? 2 * dp->cap_running : 64;
		int32_t *nr = realloc(dp->running, cap * sizeof *nr);
		if (!nr) {
			s->oom = true;
			return;
		}
		dp->running = nr;
		dp->cap_running = cap;
	}
	dp->running[dp->n_running++] = slot;
	dp->touched = true;
	struct llmcap_disagg_stats *ds = &s->res->disagg[r->pool];
	ds->transfers++;
	ds->bytes += dg->pools[r->pool].total_bytes * (double)r->prompt;
	if (!llmcap_quantiles_add(&ds->transfer, (double)(q->xfer_end - q->xfer_start) * 1e-9) ||
	    !llmcap_quantiles_add(&ds->decode_queue, (double)(q->xfer_start - q->prefill_end) * 1e-9) ||
	    !llmcap_quantiles_add(&ds->prefill_queue, (double)(r->first_sched - r->arrival) * 1e-9) ||
	    !llmcap_quantiles_add(&ds->prefill, (double)(q->prefill_end - r->first_sched) * 1e-9))
		s->oom = true;
	kick(s, di);
	CHECK_REPLICA(s, dp);
}

bool llmcap_disagg_step_started(struct sim *s, size_t ri, llmcap_time end)
{
	struct llmcap_disagg *dg = s->dg;
	if (!dg->pools[s->replicas[ri].pool].prefill)
		return true;
	dg->step_end[ri] = end;
	return false;
}

/* Requests between the groups at the horizon end as unfinished: those waiting for a
 * reservation, then those whose transfer is under way, by decode replica. */
void llmcap_disagg_finish(struct sim *s)
{
	struct llmcap_disagg *dg = s->dg;
	for (size_t di = 0; di < s->res->n_replicas; di++) {
		for (size_t i = 0; i < dg->pending[di].len; i++) {
			const struct req *r = &s->reqs[*deque_at(&dg->pending[di], i)];
			s->res->classes[r->cls].unfinished++;
			s->res->classes[r->cls].unfinished_output_tokens += r->generated;
			llmcap_request_ended(s, r, LLMCAP_REQ_UNFINISHED);
		}
		for (size_t i = 0; i < dg->n_flight; i++) {
			const struct req *r = &s->reqs[dg->flight[i]];
			if (r->replica != di)
				continue;
			s->res->classes[r->cls].unfinished++;
			s->res->classes[r->cls].unfinished_output_tokens += r->generated;
			llmcap_request_ended(s, r, LLMCAP_REQ_UNFINISHED);
		}
	}
}

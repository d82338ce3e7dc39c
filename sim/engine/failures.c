/* Failures and maintenance of replicas (pools.NAME.failures; docs/engine.md, "Failures and
 * maintenance").
 *
 * Each replica of a pool with failure rates fails as a Poisson process in calendar time (its
 * own stream "failures/POOL", one draw per failure, in event order): an EV_FAIL event draws the
 * next one, then takes the replica out unless it is already down (a failure during a restart
 * or a maintenance is moot). A failed replica's requests (running, swapped, waiting) are
 * retried on the pool's other replicas (counted as retries): their KV is lost, so the new
 * replica recomputes prompt + tokens already emitted as a prefill, as after a recompute
 * preemption; the tokens already streamed stay emitted. The failed replica's prefix cache is
 * emptied, a step in flight is lost (its EV_STEP_END is dropped: loop.c), and the replica is
 * back (EV_UP) after restart_time, or after swap_time while a spare is free (the failed
 * hardware rejoins the spares after restart_time: EV_SPARE).
 *
 * Maintenance windows (EV_MAINTAIN) take replica i out at start + i x duration (+ k x every):
 * it drains (routers send it nothing while another replica is up; nothing is dropped), goes
 * down for duration once its last request ends, and comes back. A replica is "out" from its
 * failure or its drain's start to its return; availability = 1 - time out / (replicas x
 * horizon).
 *
 * Runs in exact steps: a failure changes a replica at a time no fast run foresees. */
#include "engine_private.h"

bool llmcap_failures_init(struct sim *s)
{
	for (size_t p = 0; p < s->sc->n_pools; p++) {
		const struct llmcap_pool_cfg *cfg = &s->sc->pools[p];
		if (!llmcap_pool_has_failures(&cfg->failures))
			continue;
		char name[LLMCAP_NAME_MAX + 16];
		snprintf(name, sizeof name, "failures/%s", cfg->name);
		s->failure_rng[p] = llmcap_rng_stream(s->sc->seed, name);
		if (!s->failure_rng[p])
			return false;
		s->spares_free[p] = cfg->failures.spares;
		s->has_failures = true;
	}
	s->res->has_failures = s->has_failures;
	if (s->has_failures)
		s->fast = false;
	return true;
}

void llmcap_failures_free(struct sim *s)
{
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++)
		gsl_rng_free(s->failure_rng[p]);
}

/* Draws replica ri's next failure (data 0: a drawn one; 1: scripted). */
static void next_failure(struct sim *s, size_t ri)
{
	const size_t p = s->replicas[ri].pool;
	const struct llmcap_pool_cfg *cfg = &s->sc->pools[p];
	const double per_day = (double)cfg->tensor_parallel_size * cfg->failures.gpu_failures_per_gpu_day +
			       cfg->failures.server_failures_per_day;
	if (!(per_day > 0))
		return;
	double gap = llmcap_ran_exponential(s->failure_rng[p], (double)LLMCAP_DAY / per_day);
	if (gap < (double)(s->sc->horizon - s->now))
		push_event(s, s->now + llmcap_round_time(gap), s->now, EV_FAIL, (uint32_t)ri, 0, ri);
}

void llmcap_failures_start(struct sim *s)
{
	for (size_t p = 0; p < s->sc->n_pools; p++) {
		const struct llmcap_failures_cfg *f = &s->sc->pools[p].failures;
		if (!llmcap_pool_has_failures(f))
			continue;
		const struct llmcap_pool_stats *ps = &s->res->pools[p];
		for (size_t i = 0; i < ps->n_replicas; i++) {
			const size_t ri = ps->first_replica + i;
			next_failure(s, ri);
			llmcap_time t = f->maintenance.start + (llmcap_time)i * f->maintenance.duration;
			if (f->maintenance.duration > 0 && t < s->sc->horizon)
				push_event(s, t, s->now, EV_MAINTAIN, (uint32_t)ri, 0, ri);
		}
		if (f->scripted_at > 0 && f->scripted_at < s->sc->horizon &&
		    (size_t)f->scripted_replica < ps->n_replicas) {
			const size_t ri = ps->first_replica + (size_t)f->scripted_replica;
			push_event(s, f->scripted_at, s->now, EV_FAIL, (uint32_t)ri, 1, ri);
		}
	}
}

/* An idle replica that is up starts a step after this instant's events (as an arrival's). */
static void kick(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	if (!rp->busy && !rp->kicked && !rp->down) {
		rp->kicked = true;
		push_event(s, s->now, s->now, EV_KICK, (uint32_t)ri, 0, ri);
	}
}

/* Request id of the failed replica `from` (its blocks given back) is retried elsewhere. */
void llmcap_replica_retry(struct sim *s, int32_t id)
{
	struct req *r = &s->reqs[id];
	const size_t pool = r->pool;
	r->computed = 0; /* its KV is lost: prompt + emitted tokens are recomputed */
	r->sched = 0;
	size_t ri = s->pools[pool].router->pick(s, pool, r);
	if (s->replicas[ri].down || s->replicas[ri].draining)
		ri = llmcap_route_around(s, pool, ri);
	struct replica *dst = &s->replicas[ri];
	r->replica = (uint32_t)ri;
	count_account(s, ri);
	dst->outstanding++;
	if (r->first_sched < 0)
		dst->queued++;
	/* as an arrival: spot terminations retry in the fast mode (spot.c), and a run that went
	 * on past the retry made fast != exact */
	llmcap_touch_run(s, dst);
	llmcap_enqueue_waiting(s, dst, id, false);
	s->res->failures[pool].retries++;
	struct req_feat *f = llmcap_req_feat(s, r);
	if (f) /* its row's count */
		f->retries++;
	kick(s, ri);
}

int32_t *llmcap_replica_detach(struct sim *s, size_t ri, size_t *n_out)
{
	struct replica *rp = &s->replicas[ri];
	/* the step in flight is lost: its busy time so far counts, its end event is dropped */
	kv_account(s, ri);
	count_account(s, ri);
	if (rp->busy) {
		s->res->replicas[ri].busy += s->now - rp->step_start;
		llmcap_add_busy(s, ri, rp->step_start, s->now);
		rp->busy = false;
		rp->stale_step = true;
		rp->failed_at = s->now;
	}
	rp->step_extra = 0;
	/* its requests, in the order the replica held them: running (admission order), then
	 * swapped and waiting (queue order) */
	size_t n_run = rp->n_running;
	rp->n_running = 0;
	for (size_t i = 0; i < n_run; i++) {
		int32_t id = rp->running[i];
		llmcap_release_blocks(rp, &s->reqs[id]);
	}
	for (size_t i = 0; i < rp->swapped.len; i++) {
		struct req *r = &s->reqs[*deque_at(&rp->swapped, i)];
		rp->cpu_free += r->swap_blocks;
		r->swap_blocks = 0;
	}
	/* the requests leave before any is routed, so that none is sent back here */
	int32_t *ids = malloc((n_run + rp->swapped.len + rp->waiting.len + 1) * sizeof *ids);
	if (!ids) {
		s->oom = true;
		return NULL;
	}
	size_t n = 0;
	for (size_t i = 0; i < n_run; i++)
		ids[n++] = rp->running[i];
	for (size_t i = 0; i < rp->swapped.len; i++)
		ids[n++] = *deque_at(&rp->swapped, i);
	for (size_t i = 0; i < rp->waiting.len; i++)
		ids[n++] = *deque_at(&rp->waiting, i);
	rp->swapped.len = rp->waiting.len = 0;
	rp->outstanding = rp->queued = rp->waiting_tokens = 0;
	s->in_flight -= (int64_t)n; /* retry() counts them in again where they go */
	while (rp->pc.n_evictable > 0) /* the prefix cache is lost with the replica */
		llmcap_pcache_evict_one(rp);
	*n_out = n;
	return ids;
}

static void fail(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	if (rp->down)
		return; /* restarting or in maintenance already */
	const size_t p = rp->pool;
	const struct llmcap_failures_cfg *f = &s->sc->pools[p].failures;
	struct llmcap_failure_stats *fs = &s->res->failures[p];
	fs->failures++;
	if (!rp->draining) /* a draining replica is out since its drain began */
		rp->out_since = s->now;
	rp->draining = false;
	rp->down = true;
	if (s->spares_free[p] > 0) {
		s->spares_free[p]--;
		fs->spares_used++;
		rp->up_at = s->now + f->swap_time;
		push_event(s, s->now + f->restart_time, s->now, EV_SPARE, (uint32_t)p, 0, p);
	} else {
		rp->up_at = s->now + f->restart_time;
	}
	push_event(s, rp->up_at, s->now, EV_UP, (uint32_t)ri, 0, ri);
	size_t n;
	int32_t *ids = llmcap_replica_detach(s, ri, &n);
	if (!ids)
		return;
	for (size_t i = 0; i < n; i++) {
		s->in_flight++;
		llmcap_replica_retry(s, ids[i]);
	}
	free(ids);
	CHECK_REPLICA(s, rp);
}

static void maintain(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const struct llmcap_failures_cfg *f = &s->sc->pools[rp->pool].failures;
	if (f->maintenance.every > 0 && s->now + f->maintenance.every < s->sc->horizon)
		push_event(s, s->now + f->maintenance.every, s->now, EV_MAINTAIN, (uint32_t)ri, 0, ri);
	if (rp->down || rp->draining)
		return; /* failed: this window is skipped */
	s->res->failures[rp->pool].maintenance_windows++;
	rp->draining = true;
	rp->out_since = s->now;
	if (rp->outstanding == 0)
		replica_drained(s, ri);
}

static void up(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	if (!rp->down || rp->up_at != s->now)
		return;
	rp->down = false;
	s->res->failures[rp->pool].out_time += s->now - rp->out_since;
	if (rp->waiting.len > 0) /* requests sent while every replica was out */
		kick(s, ri);
}

void llmcap_failure_event(struct sim *s, const struct llmcap_event *ev)
{
	switch (ev->kind) {
	case EV_FAIL:
		if (ev->data == 0)
			next_failure(s, ev->target);
		fail(s, ev->target);
		break;
	case EV_UP: up(s, ev->target); break;
	case EV_SPARE: s->spares_free[ev->target]++; break;
	case EV_MAINTAIN: maintain(s, ev->target); break;
	}
}

void llmcap_failures_finish(struct sim *s)
{
	for (size_t ri = 0; ri < s->res->n_replicas; ri++) {
		const struct replica *rp = &s->replicas[ri];
		if (rp->down || rp->draining)
			s->res->failures[rp->pool].out_time += s->sc->horizon - rp->out_since;
	}
}

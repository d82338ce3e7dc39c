/* The autoscaler: a pool's replica count follows its load (pools.NAME.autoscale, spec.h;
 * docs/engine.md "Autoscaling"). A pool with autoscaling has max_replicas replica slots; each
 * is off, starting, active or draining (enum replica_state, engine_private.h). Every interval
 * an EV_AUTOSCALE event reads the metric over the active replicas and asks for replicas (held
 * at once, active after the cold start: an EV_READY event) or drains one (it takes no new
 * requests, finishes its own, and is released when it has none left: llmcap_replica_idle).
 * The held count's time integral, per count (held_at), is what renting bills.
 *
 * Routing goes through this file's router rows for such pools: the pool's own router picks among
 * the live (active) replicas; an arrival to a pool with none waits on a starting replica (one
 * is asked for if none starts). The rows have no elsewhere function, so that the fast mode's
 * runs stop at every arrival to the pool; its runs also stop before every autoscale event
 * (s->next_autoscale, fast.c run_stop), which reads the replicas' queues, KV use and busy time:
 * both modes then see the same state and give the same results. */
#include "engine_private.h"

static struct autoscale_rt *as_of(struct sim *s, size_t p)
{
	return s->pools[p].as;
}

static void log_change(struct sim *s, size_t p, size_t ri, enum llmcap_scale_kind kind)
{
	struct llmcap_results *res = s->res;
	if (res->n_scale_log == res->cap_scale_log) {
		size_t cap = res->cap_scale_log ? 2 * res->cap_scale_log : 64;
		struct llmcap_scale_event *b = realloc(res->scale_log, cap * sizeof *b);
		if (!b) {
			s->oom = true;
			return;
		}
		res->scale_log = b;
		res->cap_scale_log = cap;
	}
	res->scale_log[res->n_scale_log++] = (struct llmcap_scale_event){
		.time = s->now, .pool = (int32_t)p, .replica = (int32_t)ri, .kind = (int32_t)kind,
		.held = (int32_t)as_of(s, p)->n_held};
}

/* Brings the time at each held count up to now, then changes the count by delta. */
static void held_change(struct sim *s, size_t p, int64_t delta)
{
	struct autoscale_rt *as = as_of(s, p);
	struct llmcap_pool_stats *ps = &s->res->pools[p];
	ps->held_at[as->n_held] += s->now - as->held_last;
	as->held_last = s->now;
	as->n_held += delta;
	if (as->n_held > ps->peak_held)
		ps->peak_held = as->n_held;
}

/* The live list keeps index order, so that a router's scan is the same whatever the order of
 * the changes that led to it. */
static void live_add(struct sim *s, size_t p, size_t ri)
{
	struct pool_rt *pl = &s->pools[p];
	size_t i = pl->n_live;
	while (i > 0 && pl->live[i - 1] > ri) {
		pl->live[i] = pl->live[i - 1];
		i--;
	}
	pl->live[i] = (uint32_t)ri;
	pl->n_live++;
}

static void live_remove(struct sim *s, size_t p, size_t ri)
{
	struct pool_rt *pl = &s->pools[p];
	size_t i = 0;
	while (pl->live[i] != ri)
		i++;
	for (; i + 1 < pl->n_live; i++)
		pl->live[i] = pl->live[i + 1];
	pl->n_live--;
	if (pl->rr_next >= pl->n_live)
		pl->rr_next = 0;
}

/* The earliest pending autoscale event of every pool. */
static void update_next(struct sim *s)
{
	llmcap_time next = INT64_MAX;
	for (size_t p = 0; p < s->res->n_pools; p++) {
		const struct autoscale_rt *as = as_of(s, p);
		if (!as)
			continue;
		if (as->next_decision < next)
			next = as->next_decision;
		const struct llmcap_pool_stats *ps = &s->res->pools[p];
		for (size_t i = 0; as->n_starting > 0 && i < ps->n_replicas; i++)
			if (s->replicas[ps->first_replica + i].state == REP_STARTING &&
			    as->ready_at[i] < next)
				next = as->ready_at[i];
		for (size_t i = 0; as->spot_rng && i < ps->n_replicas; i++)
			if (as->spot_at[i] < next)
				next = as->spot_at[i];
	}
	s->next_autoscale = next;
}

/* Asks for one replica: a draining one is taken back (it is still held and warm), else the
 * first slot that is off starts its cold start. Returns the replica, or SIZE_MAX where every
 * slot is held and none drains. */
static size_t scale_up_one(struct sim *s, size_t p)
{
	struct autoscale_rt *as = as_of(s, p);
	const struct llmcap_pool_stats *ps = &s->res->pools[p];
	for (size_t i = 0; i < ps->n_replicas; i++) {
		size_t ri = ps->first_replica + i;
		struct replica *rp = &s->replicas[ri];
		if (rp->state == REP_DRAINING && !(as->spot_rng && as->spot_doomed[i])) {
			rp->state = REP_ACTIVE;
			as->n_draining--;
			live_add(s, p, ri);
			log_change(s, p, ri, LLMCAP_SCALE_RESUME);
			return ri;
		}
	}
	for (size_t i = 0; i < ps->n_replicas; i++) {
		size_t ri = ps->first_replica + i;
		struct replica *rp = &s->replicas[ri];
		if (rp->state != REP_OFF)
			continue;
		rp->state = REP_STARTING;
		rp->kicked = true; /* no step starts until it is active */
		as->n_starting++;
		held_change(s, p, 1);
		s->res->pools[p].scale_ups++;
		as->ready_at[i] = s->now + as->cold_start;
		push_event(s, as->ready_at[i], s->now, EV_READY, (uint32_t)ri, 0, ri);
		log_change(s, p, ri, LLMCAP_SCALE_START);
		if (as->spot_rng)
			llmcap_spot_held(s, p, i);
		return ri;
	}
	return SIZE_MAX;
}

void llmcap_autoscale_release(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const size_t p = rp->pool;
	struct autoscale_rt *as = as_of(s, p);
	const size_t i = ri - s->res->pools[p].first_replica;
	if (as->spot_rng && as->spot_doomed[i] == 2)
		return; /* held to its spot termination, where its replacement starts */
	assert(rp->state == REP_DRAINING && rp->outstanding == 0 && !rp->busy);
	/* a new instance starts with an empty prefix cache */
	while (rp->pc.n_evictable > 0)
		llmcap_pcache_evict_one(rp);
	rp->state = REP_OFF;
	as->n_draining--;
	held_change(s, p, -1);
	log_change(s, p, ri, LLMCAP_SCALE_RELEASE);
	if (as->spot_rng)
		llmcap_spot_released(s, p, i);
}

/* Drains active replica ri: no new request reaches it; released at once where it is idle. */
static void drain(struct sim *s, size_t p, size_t ri)
{
	struct autoscale_rt *as = as_of(s, p);
	struct replica *rp = &s->replicas[ri];
	live_remove(s, p, ri);
	rp->state = REP_DRAINING;
	as->n_draining++;
	s->res->pools[p].scale_downs++;
	log_change(s, p, ri, LLMCAP_SCALE_DRAIN);
	if (rp->outstanding == 0 && !rp->busy && !rp->kicked)
		llmcap_autoscale_release(s, ri);
}

/* The metric averaged over the pool's active replicas (their busy times noted for the next
 * decision's utilisation). */
static double pool_metric(struct sim *s, size_t p)
{
	struct pool_rt *pl = &s->pools[p];
	struct autoscale_rt *as = pl->as;
	const struct llmcap_autoscale_cfg *cfg = &pl->cfg->autoscale;
	const struct llmcap_pool_stats *ps = &s->res->pools[p];
	double sum = 0;
	for (size_t i = 0; i < ps->n_replicas; i++) {
		size_t ri = ps->first_replica + i;
		struct replica *rp = &s->replicas[ri];
		llmcap_time busy = s->res->replicas[ri].busy + (rp->busy ? s->now - rp->step_start : 0);
		llmcap_time busy_int = busy - as->busy_prev[i];
		as->busy_prev[i] = busy;
		if (rp->state != REP_ACTIVE)
			continue;
		switch (cfg->metric) {
		case LLMCAP_AUTOSCALE_QUEUE:
			sum += (double)(rp->waiting.len + rp->swapped.len);
			break;
		case LLMCAP_AUTOSCALE_CONCURRENCY: sum += (double)rp->outstanding; break;
		case LLMCAP_AUTOSCALE_KV: sum += (double)used_blocks(rp) / (double)rp->num_blocks; break;
		default: sum += (double)busy_int / (double)cfg->interval; break;
		}
	}
	return pl->n_live ? sum / (double)pl->n_live : 0;
}

/* A pool's decision, at each interval. */
static void decide(struct sim *s, size_t p)
{
	struct pool_rt *pl = &s->pools[p];
	struct autoscale_rt *as = pl->as;
	const struct llmcap_autoscale_cfg *cfg = &pl->cfg->autoscale;
	const struct llmcap_pool_stats *ps = &s->res->pools[p];
	/* runs stop before this event: their steps all ended, and are applied to be read */
	int64_t outstanding = 0;
	for (size_t i = 0; i < ps->n_replicas; i++) {
		size_t ri = ps->first_replica + i;
		if (s->replicas[ri].deferred)
			llmcap_run_apply(s, ri);
		outstanding += s->replicas[ri].outstanding;
	}
	const double m = pool_metric(s, p);
	const double up = isnan(cfg->up_above) ? cfg->target : cfg->up_above;
	const double down = isnan(cfg->down_below) ? cfg->target / 2 : cfg->down_below;
	const int64_t active = (int64_t)pl->n_live, coming = active + as->n_starting;
	const bool traffic = as->arrivals > 0 || outstanding > 0;
	as->arrivals = 0;
	int64_t want = coming;
	if (active > 0 && m > up) {
		double w = ceil((double)active * m / cfg->target);
		want = w > (double)(active + 1) ? (int64_t)fmin(w, (double)as->max) : active + 1;
	}
	if (want < as->min && (traffic || !cfg->scale_to_zero))
		want = as->min; /* back to the minimum once an empty pool has traffic again */
	if (want > as->max)
		want = as->max;
	if (want > coming) {
		for (int64_t k = coming; k < want; k++)
			if (scale_up_one(s, p) == SIZE_MAX)
				break;
		as->last_change = s->now;
		return;
	}
	if (as->n_starting > 0 || active == 0 || s->now - as->last_change < cfg->cooldown)
		return;
	/* one replica at a time: the active one with the fewest requests (the highest index
	 * among equals), which finishes soonest */
	const bool to_zero = cfg->scale_to_zero && active == 1 && !traffic;
	if (!((m < down && active > as->min) || to_zero))
		return;
	size_t pick = SIZE_MAX;
	for (size_t i = 0; i < pl->n_live; i++)
		if (pick == SIZE_MAX || s->replicas[pl->live[i]].outstanding <= s->replicas[pick].outstanding)
			pick = pl->live[i];
	drain(s, p, pick);
	as->last_change = s->now;
}

/* A spot notice (spot.c) to replica ri: an active one leaves the live list and drains, held
 * to its termination (doomed 2: wanted, replaced then); a starting one is wanted too, serves
 * nothing new once ready; one the autoscaler drains is let go as any (doomed 1). */
static void spot_notice(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const size_t p = rp->pool;
	struct autoscale_rt *as = as_of(s, p);
	const size_t i = ri - s->res->pools[p].first_replica;
	log_change(s, p, ri, LLMCAP_SCALE_NOTICE);
	if (rp->state == REP_ACTIVE) {
		live_remove(s, p, ri);
		rp->state = REP_DRAINING;
		as->n_draining++;
		as->spot_doomed[i] = 2;
	} else {
		as->spot_doomed[i] = rp->state == REP_STARTING ? 2 : 1;
	}
}

/* A spot termination: the replica's step in flight and requests are taken from it
 * (failures.c), it is no longer held, a replacement is asked for where the pool wanted it (held
 * from now, maybe in this very slot), and then its requests are retried on the pool. */
static void spot_terminate(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const size_t p = rp->pool;
	struct autoscale_rt *as = as_of(s, p);
	const size_t i = ri - s->res->pools[p].first_replica;
	if (rp->deferred) /* a fast run's steps, all ended before now */
		llmcap_run_apply(s, ri);
	const bool wanted = as->spot_doomed[i] == 2;
	size_t n;
	int32_t *ids = llmcap_replica_detach(s, ri, &n);
	if (!ids)
		return;
	if (rp->state == REP_STARTING)
		as->n_starting--;
	else
		as->n_draining--;
	rp->state = REP_OFF;
	held_change(s, p, -1);
	log_change(s, p, ri, LLMCAP_SCALE_INTERRUPT);
	llmcap_spot_released(s, p, i);
	if (wanted && scale_up_one(s, p) != SIZE_MAX)
		as->last_change = s->now;
	for (size_t k = 0; k < n; k++) {
		s->in_flight++;
		llmcap_replica_retry(s, ids[k]);
	}
	free(ids);
	CHECK_REPLICA(s, rp);
}

void llmcap_autoscale_event(struct sim *s, const struct llmcap_event *ev)
{
	if (ev->kind == EV_AUTOSCALE && ev->data != 0) {
		/* a spot notice or termination (spot.c) */
		const int what = llmcap_spot_take(s, ev);
		if (what == LLMCAP_SPOT_NOTICE)
			spot_notice(s, ev->target);
		else if (what == LLMCAP_SPOT_TERMINATION)
			spot_terminate(s, ev->target);
	} else if (ev->kind == EV_AUTOSCALE) {
		const size_t p = ev->target;
		struct autoscale_rt *as = as_of(s, p);
		decide(s, p);
		as->next_decision = s->now + s->pools[p].cfg->autoscale.interval;
		if (as->next_decision <= s->sc->horizon)
			push_event(s, as->next_decision, s->now, EV_AUTOSCALE, (uint32_t)p, 0, p);
		else
			as->next_decision = INT64_MAX;
	} else { /* EV_READY: the cold start is over */
		const size_t ri = ev->target;
		struct replica *rp = &s->replicas[ri];
		const size_t p = rp->pool;
		struct autoscale_rt *as = as_of(s, p);
		const size_t i = ri - s->res->pools[p].first_replica;
		if (rp->state != REP_STARTING || as->ready_at[i] != s->now) {
			update_next(s); /* a start a spot termination cut short (spot.c) */
			return;
		}
		as->n_starting--;
		log_change(s, p, ri, LLMCAP_SCALE_READY);
		if (as->spot_rng && as->spot_doomed[i]) {
			/* a notice came while it started: it serves only what waits on it, to its
			 * termination */
			rp->state = REP_DRAINING;
			as->n_draining++;
		} else {
			rp->state = REP_ACTIVE;
			live_add(s, p, ri);
		}
		/* requests that waited for it start now, after the events of this instant */
		if (rp->outstanding > 0)
			push_event(s, s->now, s->now, EV_KICK, (uint32_t)ri, 0, ri);
		else
			rp->kicked = false;
	}
	update_next(s);
}

/* ---- routing through the autoscaler ---- */

/* The pool's own router over its live replicas; an empty pool's arrival waits on a starting
 * replica, asked for now if none is starting (whatever the cooldown: traffic is waiting). */
static size_t pick_autoscaled(struct sim *s, size_t pool, const struct req *r)
{
	struct pool_rt *pl = &s->pools[pool];
	pl->as->arrivals++;
	if (pl->n_live > 0)
		return llmcap_routers[pl->cfg->router].pick(s, pool, r);
	const struct llmcap_pool_stats *ps = &s->res->pools[pool];
	for (size_t i = 0; i < ps->n_replicas; i++)
		if (s->replicas[ps->first_replica + i].state == REP_STARTING)
			return ps->first_replica + i;
	size_t ri = scale_up_one(s, pool);
	if (ri == SIZE_MAX) {
		/* every slot held, none live: replicas under a spot notice (spot.c); the request
		 * waits on the first, and is retried on its replacement at its termination */
		for (size_t i = 0; i < ps->n_replicas && ri == SIZE_MAX; i++)
			if (s->replicas[ps->first_replica + i].state == REP_DRAINING)
				ri = ps->first_replica + i;
		assert(ri != SIZE_MAX && "an empty pool has a slot to start or one draining");
		return ri;
	}
	pl->as->last_change = s->now;
	update_next(s);
	return ri;
}

/* No elsewhere function: the fast mode's runs stop at every arrival to an autoscaled pool. */
static const struct llmcap_router_row autoscaled_rows[2] = {
	{.pick = pick_autoscaled},
	{.pick = pick_autoscaled, .reads_kv = true},
};

/* ---- set-up and wrap-up ---- */

int llmcap_autoscale_setup(struct sim *s)
{
	s->next_autoscale = INT64_MAX;
	for (size_t p = 0; p < s->res->n_pools; p++) {
		struct pool_rt *pl = &s->pools[p];
		struct llmcap_pool_stats *ps = &s->res->pools[p];
		const struct llmcap_autoscale_cfg *cfg = &pl->cfg->autoscale;
		pl->live = malloc((ps->n_replicas ? ps->n_replicas : 1) * sizeof *pl->live);
		if (!pl->live)
			return -1;
		const size_t initial = cfg->enabled ? (size_t)pl->cfg->replicas : ps->n_replicas;
		for (size_t i = 0; i < initial; i++)
			pl->live[i] = (uint32_t)(ps->first_replica + i);
		pl->n_live = initial;
		if (!cfg->enabled)
			continue;
		struct autoscale_rt *as = calloc(1, sizeof *as);
		pl->as = as;
		if (!as)
			return -1;
		as->ready_at = calloc(ps->n_replicas, sizeof *as->ready_at);
		as->busy_prev = calloc(ps->n_replicas, sizeof *as->busy_prev);
		ps->held_at = calloc(ps->n_replicas + 1, sizeof *ps->held_at);
		if (!as->ready_at || !as->busy_prev || !ps->held_at)
			return -1;
		ps->autoscaled = true;
		for (size_t i = initial; i < ps->n_replicas; i++)
			s->replicas[ps->first_replica + i].state = REP_OFF;
		as->n_held = ps->peak_held = (int64_t)initial;
		as->min = cfg->min_replicas;
		as->max = (int64_t)ps->n_replicas;
		as->last_change = INT64_MIN / 2;
		as->cold_start = cfg->provisioning +
				 llmcap_round_time(ps->plan.weight_bytes_per_gpu / cfg->weights_bandwidth * 1e9);
		pl->router = &autoscaled_rows[llmcap_routers[pl->cfg->router].reads_kv];
		if (cfg->spot && llmcap_spot_setup(s, p, initial) != 0)
			return -1;
		as->next_decision = cfg->interval <= s->sc->horizon ? cfg->interval : INT64_MAX;
		if (as->next_decision != INT64_MAX)
			push_event(s, as->next_decision, 0, EV_AUTOSCALE, (uint32_t)p, 0, p);
	}
	update_next(s);
	return 0;
}

/* At the horizon (s->now): the held time up to it, and the replica x ns integral. */
void llmcap_autoscale_finish(struct sim *s)
{
	for (size_t p = 0; p < s->res->n_pools; p++) {
		struct llmcap_pool_stats *ps = &s->res->pools[p];
		if (!s->pools[p].as) {
			ps->held_time = (double)ps->n_replicas * (double)s->res->horizon;
			ps->peak_held = (int64_t)ps->n_replicas;
			continue;
		}
		held_change(s, p, 0);
		double t = 0;
		for (size_t k = 1; k <= ps->n_replicas; k++)
			t += (double)k * (double)ps->held_at[k];
		ps->held_time = t;
	}
}

void llmcap_autoscale_free(struct sim *s)
{
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++) {
		free(s->pools[p].live);
		if (s->pools[p].as) {
			free(s->pools[p].as->ready_at);
			free(s->pools[p].as->busy_prev);
			llmcap_spot_free(s->pools[p].as);
			free(s->pools[p].as);
		}
	}
}

/* Spot capacity (pools.NAME.autoscale.spot; docs/engine.md, "Spot interruptions"): the provider
 * takes a spot replica back with a notice (AWS: two minutes; GCP and Azure: 30 seconds).
 *
 * Each held slot of a spot pool is interrupted as a Poisson process in held time, at
 * autoscale.spot_interruptions per replica-month (null: the GPU's spot_interruptions, from
 * cost.gpus or the catalog; the same figure and unit models/cost.c bills): when a slot becomes
 * held (at time 0, or asked for by the autoscaler) its time to the next notice is drawn from
 * the pool's own stream "spot/POOL", one draw per tenure, in event order. A notice (an
 * EV_AUTOSCALE event with data = tenure << 2 | 1, target the replica) takes the replica out of
 * the live list: it drains, taking no new request, and is still held; spot_notice later (data
 * ... | 2) it is terminated: its step in flight is lost and its requests are retried on the
 * pool's other replicas (failures.c, counted as retries; their KV is lost), it is no longer
 * held, and where the pool wanted it (it was active or starting) the autoscaler asks for a
 * replacement at once, held from then and serving after its cold start: back at notice +
 * cold start after the notice. A replica the autoscaler was draining is let go (released as
 * soon as it is idle, as any). A slot released before its notice or termination makes the
 * pending event moot (its tenure changed).
 *
 * This file keeps the clocks; autoscale.c changes the replicas' states (spot_notice,
 * spot_terminate there). The events are autoscale events: they are in s->next_autoscale, before which the fast mode's
 * runs stop, so both modes see the same state. A terminated step's end is dropped as a failed
 * one's (loop.c, under s->has_failures, set here). */
#include "engine_private.h"

#include "llmcap/cost.h"

enum { NOTICE = LLMCAP_SPOT_NOTICE, TERMINATION = LLMCAP_SPOT_TERMINATION };

int llmcap_spot_setup(struct sim *s, size_t p, size_t initial)
{
	struct autoscale_rt *as = s->pools[p].as;
	const struct llmcap_pool_cfg *cfg = s->pools[p].cfg;
	const struct llmcap_pool_stats *ps = &s->res->pools[p];
	double rate = cfg->autoscale.spot_interruptions;
	if (isnan(rate)) {
		struct llmcap_gpu_costs pr;
		llmcap_cost_gpu_prices(s->sc, ps->gpu, &pr);
		rate = isnan(pr.spot_interruptions) ? 0 : pr.spot_interruptions;
	}
	if (!(rate > 0))
		return 0; /* never interrupted: as on demand */
	char name[LLMCAP_NAME_MAX + 16];
	snprintf(name, sizeof name, "spot/%s", cfg->name);
	as->spot_rng = llmcap_rng_stream(s->sc->seed, name);
	as->spot_at = malloc(ps->n_replicas * sizeof *as->spot_at);
	as->spot_gen = calloc(ps->n_replicas, sizeof *as->spot_gen);
	as->spot_doomed = calloc(ps->n_replicas, sizeof *as->spot_doomed);
	if (!as->spot_rng || !as->spot_at || !as->spot_gen || !as->spot_doomed)
		return -1;
	as->spot_gap = LLMCAP_MONTH_SECONDS * 1e9 / rate;
	for (size_t i = 0; i < ps->n_replicas; i++)
		as->spot_at[i] = INT64_MAX;
	/* a terminated step's end is dropped (loop.c); nothing else reads it without failures */
	s->has_failures = true;
	for (size_t i = 0; i < initial; i++)
		llmcap_spot_held(s, p, i);
	return 0;
}

static void push_spot(struct sim *s, size_t p, size_t i, llmcap_time t, int phase)
{
	struct autoscale_rt *as = s->pools[p].as;
	const size_t ri = s->res->pools[p].first_replica + i;
	if (t > s->sc->horizon) {
		as->spot_at[i] = INT64_MAX;
		return;
	}
	as->spot_at[i] = t;
	push_event(s, t, s->now, EV_AUTOSCALE, (uint32_t)ri, (uint64_t)as->spot_gen[i] << 2 | (uint64_t)phase,
		   ri);
}

void llmcap_spot_held(struct sim *s, size_t p, size_t i)
{
	struct autoscale_rt *as = s->pools[p].as;
	if (!as->spot_rng)
		return;
	as->spot_gen[i]++;
	as->spot_doomed[i] = 0;
	double gap = llmcap_ran_exponential(as->spot_rng, as->spot_gap);
	/* far beyond the horizon: no event (and no overflow) */
	if (gap < (double)(s->sc->horizon - s->now) + 1)
		push_spot(s, p, i, s->now + llmcap_round_time(gap), NOTICE);
	else
		as->spot_at[i] = INT64_MAX;
}

void llmcap_spot_released(struct sim *s, size_t p, size_t i)
{
	struct autoscale_rt *as = s->pools[p].as;
	as->spot_gen[i]++;
	as->spot_doomed[i] = 0;
	as->spot_at[i] = INT64_MAX;
}

int llmcap_spot_take(struct sim *s, const struct llmcap_event *ev)
{
	const size_t ri = ev->target;
	const size_t p = s->replicas[ri].pool;
	struct autoscale_rt *as = s->pools[p].as;
	const size_t i = ri - s->res->pools[p].first_replica;
	if ((uint32_t)(ev->data >> 2) != as->spot_gen[i])
		return 0; /* of a tenure that ended: moot */
	as->spot_at[i] = INT64_MAX;
	if ((ev->data & 3) == NOTICE) {
		s->res->pools[p].spot_interruptions++;
		push_spot(s, p, i, s->now + s->pools[p].cfg->autoscale.spot_notice, TERMINATION);
		return NOTICE;
	}
	return TERMINATION;
}

void llmcap_spot_free(struct autoscale_rt *as)
{
	gsl_rng_free(as->spot_rng);
	free(as->spot_at);
	free(as->spot_gen);
	free(as->spot_doomed);
}

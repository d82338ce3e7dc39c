/* The routers: which replica of a pool each arrival goes to. Each is a row of llmcap_routers,
 * indexed by enum llmcap_router: its pick function and what the engine must know of it
 * (struct llmcap_router_row, engine_private.h). A router uses only what a load balancer in
 * front of the replicas can know: request counts and queue lengths it tracks, KV use replicas
 * publish, and where it sent earlier requests. */
#include "engine_private.h"

/* ---- least-loaded routers ---- */

static inline double load_score(const struct replica *rp, enum llmcap_router how)
{
	switch (how) {
	case LLMCAP_ROUTER_JSQ: return (double)rp->waiting_tokens;
	case LLMCAP_ROUTER_LEAST_KV: return (double)used_blocks(rp) / (double)rp->num_blocks;
	default: return (double)rp->outstanding;
	}
}

/* The replica with the lowest score; ties go round-robin (the scan starts after the last
 * choice), as load balancers do: always taking the lowest index would pile light load onto
 * replica 0. Inlined into each router with its score. Every router picks among the pool's live
 * replicas (pool_rt.live: all of a fixed fleet's; an autoscaled pool's active ones), rr_next
 * being a place in that list. */
static inline __attribute__((always_inline)) size_t least_loaded(struct sim *s, size_t pool,
								  enum llmcap_router how)
{
	struct pool_rt *pl = &s->pools[pool];
	const uint32_t *live = pl->live;
	const size_t n = pl->n_live;
	size_t best = pl->rr_next;
	double best_score = load_score(&s->replicas[live[best]], how);
	for (size_t k = 1, j = pl->rr_next; k < n; k++) {
		j = j + 1 < n ? j + 1 : 0;
		double sc = load_score(&s->replicas[live[j]], how);
		if (sc < best_score) {
			best = j;
			best_score = sc;
		}
	}
	pl->rr_next = best + 1 < n ? best + 1 : 0;
	return live[best];
}

static size_t pick_least_outstanding(struct sim *s, size_t pool, const struct req *r)
{
	return least_loaded(s, pool, LLMCAP_ROUTER_LEAST_OUTSTANDING);
}

static size_t pick_jsq(struct sim *s, size_t pool, const struct req *r)
{
	return least_loaded(s, pool, LLMCAP_ROUTER_JSQ);
}

static size_t pick_least_kv(struct sim *s, size_t pool, const struct req *r)
{
	return least_loaded(s, pool, LLMCAP_ROUTER_LEAST_KV);
}

/* least-outstanding sends each arrival to a replica with the fewest requests, and rp keeps its
 * count while its run lasts: while another has fewer it is not chosen, and each arrival raises
 * one count by one (completions and timeouts only lower them), so the first sum over the others
 * of max(0, rp's count - theirs) arrivals go elsewhere; where that is none, the next arrival
 * still goes elsewhere when another with as many requests comes first in the scan (ties go to
 * the first from rr_next, which only routing moves). */
static int64_t elsewhere_least_outstanding(const struct sim *s, const struct replica *rp,
					   size_t at)
{
	const struct llmcap_pool_stats *ps = &s->res->pools[rp->pool];
	const size_t n = ps->n_replicas, start = s->pools[rp->pool].rr_next;
	const struct replica *first = s->replicas + ps->first_replica;
	int64_t k = 0;
	bool tie_lost = false;
	for (size_t i = 0, j = start; i < n; i++) { /* without branches on the counts, which vary */
		const int64_t d = rp->outstanding - first[j].outstanding;
		k += d > 0 ? d : 0;
		tie_lost |= (d == 0) & (i < at);
		j = j + 1 < n ? j + 1 : 0;
	}
	return k > 0 ? k : tie_lost;
}

/* ---- round-robin ---- */

static size_t pick_round_robin(struct sim *s, size_t pool, const struct req *r)
{
	struct pool_rt *pl = &s->pools[pool];
	const size_t i = pl->rr_next;
	pl->rr_next = i + 1 < pl->n_live ? i + 1 : 0;
	return pl->live[i];
}

/* round-robin sends the arrivals before rp's turn elsewhere */
static int64_t elsewhere_round_robin(const struct sim *s, const struct replica *rp, size_t at)
{
	return (int64_t)at;
}

/* ---- random choices ---- */

static size_t pick_random(struct sim *s, size_t pool, const struct req *r)
{
	const struct pool_rt *pl = &s->pools[pool];
	return pl->live[llmcap_rng_uniform_int(s->routing, pl->n_live)];
}

/* the less loaded (fewer requests) of two distinct replicas drawn at random */
static size_t pick_power_of_two(struct sim *s, size_t pool, const struct req *r)
{
	const struct pool_rt *pl = &s->pools[pool];
	const uint32_t *live = pl->live;
	const size_t n = pl->n_live;
	if (n == 1)
		return live[0];
	size_t a = (size_t)llmcap_rng_uniform_int(s->routing, n);
	size_t b = (size_t)llmcap_rng_uniform_int(s->routing, n - 1);
	if (b >= a)
		b++;
	return s->replicas[live[b]].outstanding < s->replicas[live[a]].outstanding ? live[b] : live[a];
}

/* ---- prefix affinity ---- */

/* Requests of a (class, prefix group), or of a trace's first block, go where the last one went
 * (its prefix is cached there), unless that replica is clearly busier than the least loaded. */
static size_t pick_prefix_affinity(struct sim *s, size_t pool, const struct req *r)
{
	struct pool_rt *pl = &s->pools[pool];
	size_t least = least_loaded(s, pool, LLMCAP_ROUTER_LEAST_OUTSTANDING);
	if (r->prefix_blocks == 0 || !pl->affinity)
		return least;
	size_t slot = (r->chain ? r->chain[0] : llmcap_prefix_key(r->cls, r->prefix_group, -1)) %
		      pl->n_affinity;
	int32_t last = pl->affinity[slot];
	/* stay with the replica that has the prefix (while it takes requests) unless it is
	 * clearly busier */
	size_t pick = last >= 0 && s->replicas[last].state == REP_ACTIVE &&
			      s->replicas[last].outstanding <= s->replicas[least].outstanding + 4
			      ? (size_t)last
			      : least;
	pl->affinity[slot] = (int32_t)pick;
	return pick;
}

/* ---- session affinity ---- */

/* A session's turn goes where its previous turn went (its prompt's blocks are cached there,
 * sessions.c); a first turn, or a request outside sessions, to the replica with the fewest
 * requests. */
static size_t pick_session_affinity(struct sim *s, size_t pool, const struct req *r)
{
	if (r->session) {
		const uint32_t last = s->sessions[r->session - 1].replica;
		const struct llmcap_pool_stats *ps = &s->res->pools[pool];
		if (last != UINT32_MAX && last >= ps->first_replica &&
		    last < ps->first_replica + ps->n_replicas &&
		    s->replicas[last].state == REP_ACTIVE) /* not one the autoscaler drains */
			return last;
	}
	return least_loaded(s, pool, LLMCAP_ROUTER_LEAST_OUTSTANDING);
}

/* ---- around replicas that are out (failures.c) ---- */

size_t llmcap_route_around(struct sim *s, size_t pool, size_t ri)
{
	const struct llmcap_pool_stats *ps = &s->res->pools[pool];
	size_t best = ri;
	int best_rank = 3;
	for (size_t i = 0; i < ps->n_replicas; i++) {
		const size_t j = ps->first_replica + i;
		const struct replica *rp = &s->replicas[j], *b = &s->replicas[best];
		if (rp->state != REP_ACTIVE)
			continue; /* off, cold-starting or drained by the autoscaler */
		/* up, then draining (it still serves), then down (the one back first) */
		const int rank = rp->down ? 2 : rp->draining ? 1 : 0;
		if (rank < best_rank ||
		    (rank == best_rank && (rank == 2 ? rp->up_at < b->up_at : rp->outstanding < b->outstanding))) {
			best = j;
			best_rank = rank;
		}
	}
	return best;
}

/* ---- the table ---- */

/* Designated rows: each at its enum value. A router with no elsewhere function stops the fast
 * mode's runs at every arrival to its pool (correct, only slower). */
const struct llmcap_router_row llmcap_routers[] = {
	[LLMCAP_ROUTER_ROUND_ROBIN] = {.pick = pick_round_robin, .elsewhere = elsewhere_round_robin},
	[LLMCAP_ROUTER_LEAST_OUTSTANDING] = {.pick = pick_least_outstanding,
					     .elsewhere = elsewhere_least_outstanding},
	[LLMCAP_ROUTER_RANDOM] = {.pick = pick_random},
	[LLMCAP_ROUTER_JSQ] = {.pick = pick_jsq},
	[LLMCAP_ROUTER_LEAST_KV] = {.pick = pick_least_kv, .reads_kv = true},
	[LLMCAP_ROUTER_POWER_OF_TWO] = {.pick = pick_power_of_two},
	[LLMCAP_ROUTER_PREFIX_AFFINITY] = {.pick = pick_prefix_affinity, .affinity = true},
	[LLMCAP_ROUTER_SESSION_AFFINITY] = {.pick = pick_session_affinity},
	/* lora.c: the least loaded replica that holds the request's adapter in GPU memory */
	[LLMCAP_ROUTER_ADAPTER_AFFINITY] = {.pick = llmcap_pick_adapter_affinity},
};
_Static_assert(sizeof llmcap_routers / sizeof llmcap_routers[0] == LLMCAP_ROUTER_COUNT,
	       "a row of llmcap_routers for every enum llmcap_router");

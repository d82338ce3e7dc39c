/* Multi-LoRA serving in the engine (classes.NAME.lora, pools.NAME.lora; docs/engine.md).
 *
 * vLLM's semantics (--max-loras, --max-lora-rank; the v1 scheduler's scheduled_loras): a
 * batch holds requests of at most max_loras distinct adapters; a waiting request whose adapter
 * would exceed that is passed over (counted: lora_skips) and the queue is scanned on, as vLLM
 * skips it and keeps it at its place. The GPU keeps gpu_cache adapters (at least max_loras;
 * vLLM's own cache is max_loras slots of max_lora_rank), least recently used first out among
 * those no running request uses; an adapter not in GPU memory is copied from host memory when
 * a request of it is admitted, and the step that admits it waits for the copy (bytes / PCIe
 * bandwidth, counted: lora_loads, lora_load_time), as vLLM loads adapters before the step's
 * forward pass. The batched LoRA kernels (S-LoRA, Punica) add their time to every step
 * (models/lora.c). The slots' memory comes out of the KV cache (llmcap_memory_plan_pool).
 *
 * A request's adapter is a function of its id and the run's seed (a counter-based draw), so
 * arrivals draw nothing from a shared stream. The pool's steps are never taken in fast runs
 * (pool_rt.exact_steps).
 */
#include "engine_private.h"

#include "llmcap/perf.h"

struct lora_slot {
	int32_t adapter; /* 0: empty */
	int32_t ref;     /* running requests that use it */
	llmcap_time used; /* when its last request left */
};

struct lora_cache {
	struct lora_slot *slot;
	int64_t n;
	int64_t active; /* slots with ref > 0: the batch's distinct adapters */
};

struct lora_rt {
	int64_t max_loras;
	double load_ns_per_byte; /* per GPU: 1e9 / (TP x bandwidth) of the whole adapter's bytes */
	double overhead_s;
	double bytes[LLMCAP_MAX_CLASSES];  /* one adapter of the class, whole replica */
	double params[LLMCAP_MAX_CLASSES]; /* its parameters */
};

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

int llmcap_lora_setup(struct sim *s, size_t p, struct llmcap_error *err)
{
	struct pool_rt *pl = &s->pools[p];
	const struct llmcap_pool_cfg *cfg = &s->sc->pools[p];
	const struct llmcap_pool_stats *ps = &s->res->pools[p];
	if (cfg->lora.max_loras == 0)
		return 0;
	struct lora_rt *lr = calloc(1, sizeof *lr);
	if (!lr)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	pl->lora = lr;
	lr->max_loras = cfg->lora.max_loras;
	lr->load_ns_per_byte = 1e9 / ((double)cfg->tensor_parallel_size * cfg->lora.load_bandwidth);
	lr->overhead_s = (double)cfg->lora.adapter_overhead / 1e9;
	for (size_t c = 0; c < s->sc->workload.n_classes; c++) {
		const struct llmcap_lora_class_cfg *lc = &s->sc->workload.classes[c].lora;
		if (lc->adapters == 0)
			continue;
		lr->params[c] = llmcap_lora_adapter_params(ps->model, lc->rank, lc->target_modules);
		lr->bytes[c] = llmcap_lora_adapter_bytes(ps->model, lc->rank, lc->target_modules);
	}
	const int64_t slots = cfg->lora.gpu_cache > cfg->lora.max_loras ? cfg->lora.gpu_cache
									 : cfg->lora.max_loras;
	for (size_t i = 0; i < ps->n_replicas; i++) {
		struct replica *rp = &s->replicas[ps->first_replica + i];
		rp->lora = calloc(1, sizeof *rp->lora);
		if (!rp->lora || !(rp->lora->slot = calloc((size_t)slots, sizeof *rp->lora->slot)))
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		rp->lora->n = slots;
	}
	pl->exact_steps = true;
	return 0;
}

void llmcap_lora_teardown(struct sim *s, size_t p)
{
	struct pool_rt *pl = &s->pools[p];
	if (!pl->lora)
		return;
	if (s->replicas) {
		const struct llmcap_pool_stats *ps = &s->res->pools[p];
		for (size_t i = 0; i < ps->n_replicas; i++) {
			struct replica *rp = &s->replicas[ps->first_replica + i];
			if (rp->lora)
				free(rp->lora->slot);
			free(rp->lora);
			rp->lora = NULL;
		}
	}
	free(pl->lora);
	pl->lora = NULL;
}

int32_t llmcap_lora_pick(const struct sim *s, size_t cls, int64_t id)
{
	const struct llmcap_lora_class_cfg *lc = &s->sc->workload.classes[cls].lora;
	const uint64_t x = mix64(mix64(s->sc->seed ^ 0x6c6f7261u) ^ (uint64_t)id);
	const double u = (double)(x >> 11) * 0x1p-53;
	int64_t i = 0;
	if (lc->popularity == LLMCAP_LORA_UNIFORM || lc->adapters == 1) {
		i = (int64_t)(u * (double)lc->adapters);
	} else {
		/* zipf by inversion over the weights (i + 1)^-s: a scan, adapters are few */
		double total = 0;
		for (int64_t j = 0; j < lc->adapters; j++)
			total += pow((double)(j + 1), -lc->zipf_exponent);
		double acc = 0, target = u * total;
		for (i = 0; i < lc->adapters - 1; i++) {
			acc += pow((double)(i + 1), -lc->zipf_exponent);
			if (target < acc)
				break;
		}
	}
	if (i >= lc->adapters)
		i = lc->adapters - 1;
	return (int32_t)(((int64_t)cls << 12 | i) + 1); /* at most 16 classes x 4095 adapters */
}

static int64_t find_slot(const struct lora_cache *lc, int32_t adapter)
{
	for (int64_t i = 0; i < lc->n; i++)
		if (lc->slot[i].adapter == adapter)
			return i;
	return -1;
}

bool llmcap_lora_can_join(const struct sim *s, const struct replica *rp, const struct req *r)
{
	if (r->adapter == 0 || !rp->lora)
		return true;
	const struct lora_cache *lc = rp->lora;
	int64_t i = find_slot(lc, r->adapter);
	if (i >= 0 && lc->slot[i].ref > 0)
		return true;
	return lc->active < s->pools[rp->pool].lora->max_loras;
}

void llmcap_lora_join(struct sim *s, size_t ri, struct req *r)
{
	struct replica *rp = &s->replicas[ri];
	if (r->adapter == 0 || !rp->lora)
		return;
	struct lora_cache *lc = rp->lora;
	int64_t i = find_slot(lc, r->adapter);
	if (i < 0) {
		/* a miss: an empty slot, else the least recently used one no request holds (one
		 * exists: fewer than max_loras <= slots are active) */
		for (int64_t j = 0; j < lc->n; j++) {
			const struct lora_slot *c = &lc->slot[j];
			if (c->ref > 0)
				continue;
			if (i < 0 || c->adapter == 0 ||
			    (lc->slot[i].adapter != 0 && c->used < lc->slot[i].used))
				i = j;
			if (c->adapter == 0)
				break;
		}
		assert(i >= 0);
		const struct lora_rt *lr = s->pools[rp->pool].lora;
		const size_t cls = (size_t)((r->adapter - 1) >> 12);
		llmcap_time t = llmcap_round_time(lr->bytes[cls] * lr->load_ns_per_byte);
		rp->step_extra += t;
		s->res->replicas[ri].lora_loads++;
		s->res->replicas[ri].lora_load_time += t;
		struct req_feat *f = llmcap_req_feat(s, r);
		if (f) {
			f->lora_loads++;
			f->lora_load += t;
		}
		lc->slot[i].adapter = r->adapter;
		lc->slot[i].ref = 0;
	}
	if (lc->slot[i].ref++ == 0)
		lc->active++;
}

void llmcap_lora_leave(struct sim *s, size_t ri, const struct req *r)
{
	struct replica *rp = &s->replicas[ri];
	if (r->adapter == 0 || !rp->lora)
		return;
	struct lora_cache *lc = rp->lora;
	int64_t i = find_slot(lc, r->adapter);
	assert(i >= 0 && lc->slot[i].ref > 0);
	if (--lc->slot[i].ref == 0) {
		lc->active--;
		lc->slot[i].used = s->now;
	}
}

void llmcap_lora_step(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct lora_rt *lr = pl->lora;
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	double flops = 0, bytes = 0;
	int64_t distinct = 0;
	for (size_t i = 0; i < rp->n_running; i++) {
		const struct req *r = &s->reqs[rp->running[i]];
		if (r->adapter == 0 || r->sched == 0)
			continue;
		const size_t cls = (size_t)((r->adapter - 1) >> 12);
		flops += 2.0 * lr->params[cls] * (double)r->sched;
		/* the first of the batch's requests with this adapter reads its weights */
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = s->reqs[rp->running[j]].adapter != r->adapter ||
				s->reqs[rp->running[j]].sched == 0;
		if (first) {
			distinct++;
			bytes += lr->bytes[cls];
		}
	}
	/* the invariant max_loras bounds: distinct adapters among the batch's requests */
	assert(distinct <= lr->max_loras);
	if (distinct == 0)
		return;
	st->lora_adapter_sum += distinct;
	if (distinct > st->lora_peak)
		st->lora_peak = distinct;
	double sec = llmcap_lora_step_seconds(&pl->perf, flops, bytes, distinct, lr->overhead_s);
	rp->step_extra += llmcap_round_time(sec * 1e9);
}

#ifdef LLMCAP_INVARIANTS
void llmcap_lora_check(const struct sim *s, const struct replica *rp)
{
	const struct lora_cache *lc = rp->lora;
	int64_t refs = 0, active = 0, with = 0, distinct = 0;
	for (int64_t i = 0; i < lc->n; i++) {
		assert(lc->slot[i].ref >= 0);
		refs += lc->slot[i].ref;
		active += lc->slot[i].ref > 0;
		for (int64_t j = 0; j < i; j++)
			assert(lc->slot[i].adapter == 0 || lc->slot[j].adapter != lc->slot[i].adapter);
	}
	for (size_t i = 0; i < rp->n_running; i++) {
		const int32_t a = s->reqs[rp->running[i]].adapter;
		if (a == 0)
			continue;
		with++;
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = s->reqs[rp->running[j]].adapter != a;
		distinct += first;
	}
	assert(refs == with && active == lc->active && distinct == active);
	assert(distinct <= s->pools[rp->pool].lora->max_loras);
}
#endif

/* The least loaded (fewest requests) of the pool's replicas holding the request's adapter in
 * GPU memory, unless that one has 4 or more requests than the least loaded of all (as
 * prefix-affinity); requests without an adapter, or whose adapter is nowhere, go to the least
 * loaded. */
size_t llmcap_pick_adapter_affinity(struct sim *s, size_t pool, const struct req *r)
{
	/* among the pool's live replicas (all of a fixed fleet's, in index order; an autoscaled
	 * pool's active ones), starting where the last pick left off */
	struct pool_rt *pl = &s->pools[pool];
	const uint32_t *live = pl->live;
	const size_t n = pl->n_live;
	size_t least = SIZE_MAX, held = SIZE_MAX; /* indices into live */
	for (size_t k = 0, j = pl->rr_next < n ? pl->rr_next : 0; k < n;
	     k++, j = j + 1 < n ? j + 1 : 0) {
		const struct replica *rp = &s->replicas[live[j]];
		if (least == SIZE_MAX || rp->outstanding < s->replicas[live[least]].outstanding)
			least = j;
		if (r->adapter != 0 && rp->lora && find_slot(rp->lora, r->adapter) >= 0 &&
		    (held == SIZE_MAX || rp->outstanding < s->replicas[live[held]].outstanding))
			held = j;
	}
	size_t pick = held != SIZE_MAX && s->replicas[live[held]].outstanding <=
						  s->replicas[live[least]].outstanding + 4
			      ? held
			      : least;
	pl->rr_next = pick + 1 < n ? pick + 1 : 0;
	return live[pick];
}

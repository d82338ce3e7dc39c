/* The engine's invariant checks (engine_private.h's CHECK_REPLICA), compiled in test and
 * sanitizer builds (-Dinvariants=true). A file of their own: the scheduler and the fast mode
 * both call them, and each calls the other's code, so that a check kept in either would close a
 * circle of files (.ci/layers.py). */
#include <assert.h>

#include "engine_private.h"

#ifdef LLMCAP_INVARIANTS
/* Full consistency check of a replica, O(requests): enabled in test and sanitizer builds. */
void llmcap_check_replica(const struct sim *s, const struct replica *rp)
{
	int64_t private_blocks = 0, n = 0;
	for (size_t i = 0; i < rp->n_running; i++) {
		const struct req *r = &s->reqs[rp->running[i]];
		assert(r->state == R_RUNNING);
		assert(r->generated <= r->output);
		assert(r->computed <= r->prompt + r->generated);
		assert(r->blocks >= r->n_prefix && r->n_prefix <= r->prefix_blocks);
		private_blocks += r->blocks - r->n_prefix;
		n++;
	}
	int64_t waiting_tokens = 0, queued = 0;
	for (size_t i = 0; i < rp->waiting.len; i++) {
		const struct req *r = &s->reqs[rp->waiting.buf[(rp->waiting.head + i) & (rp->waiting.cap - 1)]];
		assert(r->state == R_WAITING && r->blocks == 0);
		waiting_tokens += remaining_prefill(r);
		queued += r->first_sched < 0;
		n++;
	}
	int64_t cpu = 0;
	for (size_t i = 0; i < rp->swapped.len; i++) {
		const struct req *r = &s->reqs[rp->swapped.buf[(rp->swapped.head + i) & (rp->swapped.cap - 1)]];
		assert(r->state == R_SWAPPED && r->blocks == 0);
		cpu += r->swap_blocks;
		n++;
	}
	assert(n + rp->n_transit == rp->outstanding);
	assert(queued == rp->queued);
	assert(waiting_tokens == rp->waiting_tokens);
	assert(rp->free_blocks >= 0 && rp->pc.n_evictable >= 0);
	assert(private_blocks + rp->kv_held + rp->pc.n_cached + rp->free_blocks == rp->num_blocks);
	assert(cpu + rp->cpu_free == rp->cpu_blocks);
	int64_t committed = 0;
	for (size_t i = 0; i < rp->n_running; i++)
		committed += s->reqs[rp->running[i]].commit;
	assert(committed == rp->committed && committed <= rp->num_blocks);
	if (rp->lora)
		llmcap_lora_check(s, rp);
}
#endif

/* KV blocks and the prefix cache of a replica.
 *
 * Prefix caching (vLLM's automatic prefix caching): full blocks of a class's shared prefix are
 * cached by (class, prefix group, block index); a request admitted with computed == 0 reuses the
 * longest run of cached leading blocks (at most num_tokens - 1 tokens, as vLLM caps it), which
 * skips their prefill. Unreferenced cached blocks stay allocatable and are evicted least recently
 * freed first. A request with trace hash ids (a Mooncake row) keys its blocks by the chained ids
 * instead (block_key), so that requests of any class share the blocks whose tokens agree.
 * The per-step block arithmetic (blocks_for, allocatable, take_blocks) is inline in
 * engine_private.h.
 */
#include "engine_private.h"

uint64_t llmcap_prefix_key(uint32_t cls, int32_t group, int32_t block)
{
	uint64_t k[3] = {cls, (uint64_t)(uint32_t)group, (uint64_t)(uint32_t)block};
	return llmcap_hash_bytes(LLMCAP_HASH_INIT, k, sizeof k);
}

/* A session's block (sessions.c): the class's shared prefix by (class, group, index), shared
 * across sessions; after it by (session, index), so that the session's next turn finds it. */
static uint64_t session_key(const struct sim *s, const struct req *r, int32_t block)
{
	const struct session *x = &s->sessions[r->session - 1];
	if (block < x->shared_blocks) /* the class's shared prefix, shared across sessions */
		return llmcap_prefix_key(r->cls, r->prefix_group, block);
	uint64_t k[2] = {(uint64_t)x->id, (uint64_t)(uint32_t)block};
	return llmcap_hash_bytes(UINT64_C(0x5e5510b10c4), k, sizeof k);
}

/* The cache key of a request's block: by (class, prefix group, index) for a class's shared
 * prefix; for a request with trace hash ids, by the chained hash of every trace block up to the
 * one holding the block's last token, and the block's index. Two requests then share a block
 * exactly when their ids agree over all the tokens up to its end, whatever block_size is. */
static uint64_t block_key(const struct sim *s, const struct req *r, int32_t block)
{
	if (!r->chain)
		return r->session ? session_key(s, r, block)
				  : llmcap_prefix_key(r->cls, r->prefix_group, block);
	int64_t bs = s->pools[r->pool].cfg->block_size;
	int64_t k = ((int64_t)(block + 1) * bs - 1) / s->hash_block_tokens;
	assert(k >= 0 && k < r->n_chain);
	uint64_t x[2] = {r->chain[k], (uint64_t)(uint32_t)block};
	return llmcap_hash_bytes(UINT64_C(0x51afd7ed558ccd), x, sizeof x);
}

bool llmcap_pcache_init(struct pcache *pc, int64_t num_blocks)
{
	size_t nb = 16;
	while (nb < (size_t)num_blocks)
		nb *= 2;
	pc->n_buckets = nb;
	pc->bucket = malloc(nb * sizeof *pc->bucket);
	pc->ent = malloc((size_t)num_blocks * sizeof *pc->ent);
	if (!pc->bucket || !pc->ent)
		return false;
	for (size_t i = 0; i < nb; i++)
		pc->bucket[i] = -1;
	for (int64_t i = 0; i < num_blocks; i++)
		pc->ent[i].next = i + 1 < num_blocks ? (int32_t)(i + 1) : -1;
	pc->free_ent = 0;
	pc->lru_head = pc->lru_tail = -1;
	return true;
}

static void lru_unlink(struct pcache *pc, int32_t e)
{
	struct pentry *x = &pc->ent[e];
	if (x->lru_prev >= 0)
		pc->ent[x->lru_prev].lru_next = x->lru_next;
	else
		pc->lru_head = x->lru_next;
	if (x->lru_next >= 0)
		pc->ent[x->lru_next].lru_prev = x->lru_prev;
	else
		pc->lru_tail = x->lru_prev;
}

static void lru_append(struct pcache *pc, int32_t e)
{
	pc->ent[e].lru_prev = pc->lru_tail;
	pc->ent[e].lru_next = -1;
	if (pc->lru_tail >= 0)
		pc->ent[pc->lru_tail].lru_next = e;
	else
		pc->lru_head = e;
	pc->lru_tail = e;
}

/* Evicts the least recently freed unreferenced entry; its block becomes free. */
void llmcap_pcache_evict_one(struct replica *rp)
{
	struct pcache *pc = &rp->pc;
	int32_t e = pc->lru_head;
	assert(e >= 0);
	lru_unlink(pc, e);
	int32_t *link = &pc->bucket[pc->ent[e].key & (pc->n_buckets - 1)];
	while (*link != e)
		link = &pc->ent[*link].next;
	*link = pc->ent[e].next;
	pc->ent[e].next = pc->free_ent;
	pc->free_ent = e;
	pc->n_cached--;
	pc->n_evictable--;
	rp->free_blocks++;
}

/* Gives back every GPU block a request holds: private blocks become free, prefix entries lose a
 * reference (and become evictable, the request's last blocks first, as vLLM frees in reverse). */
void llmcap_release_blocks(struct replica *rp, struct req *r)
{
	for (int32_t i = r->n_prefix - 1; i >= 0; i--) {
		struct pentry *e = &rp->pc.ent[r->prefix_ent[i]];
		if (--e->ref == 0) {
			lru_append(&rp->pc, r->prefix_ent[i]);
			rp->pc.n_evictable++;
		}
	}
	rp->free_blocks += r->blocks - r->n_prefix;
	r->blocks = 0;
	r->n_prefix = 0;
	rp->committed -= r->commit; /* 0 unless the admission rule commits */
	r->commit = 0;
}

/* After a step, blocks of the shared prefix that this request computed become cache entries
 * (unless another request cached the same block first). */
void llmcap_register_prefix(struct sim *s, struct replica *rp, struct req *r)
{
	const int64_t bs = s->pools[rp->pool].cfg->block_size;
	int64_t full = r->computed / bs;
	if (full > r->prefix_blocks)
		full = r->prefix_blocks;
	while (r->n_prefix < full) {
		uint64_t key = block_key(s, r, r->n_prefix);
		if (pcache_find(&rp->pc, key) >= 0 || rp->pc.free_ent < 0)
			return; /* a duplicate stays private, as does anything after it */
		int32_t e = rp->pc.free_ent;
		rp->pc.free_ent = rp->pc.ent[e].next;
		size_t b = key & (rp->pc.n_buckets - 1);
		rp->pc.ent[e] = (struct pentry){.key = key, .next = rp->pc.bucket[b], .ref = 1,
						.lru_prev = -1, .lru_next = -1};
		rp->pc.bucket[b] = e;
		rp->pc.n_cached++;
		if (r->n_prefix == r->prefix_cap) {
			int32_t cap = r->prefix_cap ? 2 * r->prefix_cap : 8;
			int32_t *ne = realloc(r->prefix_ent, (size_t)cap * sizeof *ne);
			if (!ne) {
				s->oom = true;
				return;
			}
			r->prefix_ent = ne;
			r->prefix_cap = cap;
		}
		/* the block was private; it is now held through the entry */
		r->prefix_ent[r->n_prefix++] = e;
	}
}

/* Prefix-cache lookup for a request about to be admitted with nothing computed: how many
 * leading blocks are cached, and how many of those are unreferenced (reviving them uses up
 * allocatable blocks, as vLLM counts them). */
int32_t llmcap_prefix_lookup(const struct sim *s, const struct replica *rp, const struct req *r,
			     int64_t *revived)
{
	const int64_t bs = s->pools[rp->pool].cfg->block_size;
	int64_t cap = ((int64_t)r->prompt + r->generated - 1) / bs;
	int64_t n = r->prefix_blocks < cap ? r->prefix_blocks : cap;
	int32_t hits = 0;
	*revived = 0;
	while (hits < n) {
		int32_t e = pcache_find(&rp->pc, block_key(s, r, hits));
		if (e < 0)
			break;
		*revived += rp->pc.ent[e].ref == 0;
		hits++;
	}
	return hits;
}

bool llmcap_hold_prefix(struct sim *s, struct replica *rp, struct req *r, int32_t hits)
{
	if (hits > r->prefix_cap) {
		int32_t *ne = realloc(r->prefix_ent, (size_t)hits * sizeof *ne);
		if (!ne)
			return false;
		r->prefix_ent = ne;
		r->prefix_cap = hits;
	}
	for (int32_t i = 0; i < hits; i++) {
		int32_t e = pcache_find(&rp->pc, block_key(s, r, i));
		if (rp->pc.ent[e].ref++ == 0) {
			lru_unlink(&rp->pc, e);
			rp->pc.n_evictable--;
		}
		r->prefix_ent[i] = e;
	}
	r->n_prefix = hits;
	r->blocks = hits;
	return true;
}


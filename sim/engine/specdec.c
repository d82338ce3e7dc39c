/* Speculative decoding in the engine (pools.NAME.speculative; docs/engine.md).
 *
 * vLLM's semantics (speculative_config; the v1 scheduler's spec_token_ids): a running
 * request that decodes is scheduled for 1 + d tokens, its last token and d <= k proposals
 * (num_speculative_tokens, fewer near the end of its output or of the step's budget), and its
 * KV blocks cover them (the lookahead slots). The target verifies them in that step, a
 * prefill-like chunk of d + 1 tokens whose positions all reach the LM head; at the step's end
 * the request keeps the accepted prefix of its proposals and one token of the target's own,
 * 1 + accepted tokens, and its computed tokens advance by as many (the rejected positions'
 * KV is overwritten later). The proposer's work comes before the verification in the same
 * step: k sequential steps of a draft model (its own roofline), of a one-layer EAGLE/MTP head,
 * or nothing for n-gram lookup; a draft model also runs over every prompt chunk of the step,
 * to fill its own KV cache.
 *
 * Acceptance: each proposal is accepted with probability a (the class's, else the pool's),
 * independently, until the first rejection (Leviathan et al. 2023). The draw is a function of
 * the run's seed, the request's id and its tokens so far (a counter-based stream), so the fast
 * and exact modes, and any order of events at one instant, draw the same. The pool's steps
 * are never taken in fast runs (pool_rt.exact_steps).
 */
#include "engine_private.h"

#include "llmcap/perf.h"

struct spec_rt {
	struct llmcap_spec_perf perf;
	double accept[LLMCAP_MAX_CLASSES]; /* per class: the class's, or the pool's, rate */
	uint64_t key;                      /* the run's seed, hashed with the pool's name */
};

int llmcap_spec_setup(struct sim *s, size_t p, const struct llmcap_catalog *cat,
		      const struct llmcap_engine_spec *eng, struct llmcap_error *err)
{
	struct pool_rt *pl = &s->pools[p];
	const struct llmcap_pool_cfg *cfg = &s->sc->pools[p];
	if (cfg->speculative.method == LLMCAP_SPEC_OFF)
		return 0;
	struct spec_rt *sr = calloc(1, sizeof *sr);
	if (!sr)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	pl->spec = sr;
	int rc = llmcap_spec_perf_init(&sr->perf, cat, s->res->gpu, eng, cfg, err);
	if (rc)
		return rc;
	for (size_t c = 0; c < LLMCAP_MAX_CLASSES; c++) {
		double a = c < s->sc->workload.n_classes ? s->sc->workload.classes[c].spec_acceptance : NAN;
		sr->accept[c] = isnan(a) ? cfg->speculative.acceptance : a;
	}
	sr->key = llmcap_hash_bytes(llmcap_hash_bytes(LLMCAP_HASH_INIT, &s->sc->seed, sizeof s->sc->seed),
				    cfg->name, strlen(cfg->name));
	pl->spec_k = cfg->speculative.num_speculative_tokens;
	pl->exact_steps = true;
	return 0;
}

void llmcap_spec_teardown(struct sim *s, size_t p)
{
	struct spec_rt *sr = s->pools[p].spec;
	if (!sr)
		return;
	llmcap_spec_perf_free(&sr->perf);
	free(sr);
	s->pools[p].spec = NULL;
}

void llmcap_spec_step(struct sim *s, size_t ri, struct llmcap_step_shape *shape)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct spec_rt *sr = pl->spec;
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	/* proposer steps j = 0 .. dmax - 1: the sequences with more than j proposals, each over
	 * its context so far */
	int64_t dmax = 0, prefill = 0;
	double prefill_pairs = 0;
	for (size_t i = 0; i < rp->n_running; i++) {
		const struct req *r = &s->reqs[rp->running[i]];
		if (spec_verifying(r)) {
			const int64_t d = r->sched - 1;
			shape->samples += r->sched; /* every verified position is scored */
			st->spec_verifies++;
			st->spec_proposed += d;
			if (d > dmax)
				dmax = d;
		} else if (r->sched > 0 && !(r->generated > 0 && r->sched == 1)) {
			/* a prompt chunk (or recomputation): a draft model prefills it too */
			prefill += r->sched;
			prefill_pairs += (double)r->sched * r->computed +
					 (double)r->sched * (double)(r->sched + 1) / 2;
		}
	}
	double sec = 0;
	for (int64_t j = 0; j < dmax; j++) {
		int64_t seqs = 0;
		double ctx = 0;
		for (size_t i = 0; i < rp->n_running; i++) {
			const struct req *r = &s->reqs[rp->running[i]];
			if (spec_verifying(r) && r->sched - 1 > j) {
				seqs++;
				ctx += (double)r->computed + (double)j;
			}
		}
		sec += llmcap_spec_propose_seconds(&sr->perf, &pl->perf, seqs, ctx, NULL);
	}
	if (prefill > 0 && sr->perf.has_draft) {
		struct llmcap_step_shape sh = {.tokens = prefill, .attn_pairs = prefill_pairs,
					       .kv_read_tokens = prefill_pairs, .samples = 0};
		struct llmcap_step_breakdown bd;
		llmcap_perf_step_seconds(&sr->perf.draft, &sh, NULL, &bd);
		sec += bd.linear + bd.attention + bd.comm;
	}
	if (sec > 0) {
		llmcap_time t = llmcap_round_time(sec * 1e9);
		rp->step_extra += t;
		st->spec_time += t;
	}
}

/* splitmix64's finaliser: a counter's bits mixed into a uniform word */
static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

int32_t llmcap_spec_emit(struct sim *s, size_t ri, const struct req *r)
{
	const struct pool_rt *pl = &s->pools[r->pool];
	const struct spec_rt *sr = pl->spec;
	const uint64_t x = mix64(sr->key ^ mix64((uint64_t)r->id * 0x100000001b3u + (uint64_t)r->generated));
	const double u = (double)(x >> 11) * 0x1p-53;
	const int64_t acc = llmcap_spec_accepted(sr->accept[r->cls], r->sched - 1, u);
	s->res->replicas[ri].spec_accepted += acc;
	struct req_feat *f = llmcap_req_feat(s, r);
	if (f) {
		f->spec_verifications++;
		f->spec_proposed += r->sched - 1;
		f->spec_accepted += (int32_t)acc;
	}
	return (int32_t)(1 + acc);
}

struct req_feat *llmcap_req_feat(struct sim *s, const struct req *r)
{
	const size_t slot = (size_t)(r - s->reqs);
	if (slot >= s->cap_feat) {
		size_t cap = s->cap_feat ? s->cap_feat : 1024;
		while (cap <= slot)
			cap *= 2;
		struct req_feat *nf = realloc(s->feat, cap * sizeof *nf);
		if (!nf) {
			s->oom = true;
			return NULL;
		}
		for (size_t i = s->cap_feat; i < cap; i++)
			nf[i].id = -1;
		s->feat = nf;
		s->cap_feat = cap;
	}
	struct req_feat *f = &s->feat[slot];
	if (f->id != r->id)
		*f = (struct req_feat){.id = r->id};
	return f;
}

void llmcap_feat_record(const struct sim *s, const struct req *r, struct llmcap_request_record *out)
{
	out->lora_adapter = r->adapter ? (int32_t)((r->adapter - 1) & 0xfff) : -1;
	const size_t slot = (size_t)(r - s->reqs);
	if (slot >= s->cap_feat || s->feat[slot].id != r->id)
		return;
	const struct req_feat *f = &s->feat[slot];
	out->spec_verifications = f->spec_verifications;
	out->spec_proposed = f->spec_proposed;
	out->spec_accepted = f->spec_accepted;
	out->lora_loads = f->lora_loads;
	out->lora_load = (double)f->lora_load * 1e-9;
	out->retries = f->retries;
}

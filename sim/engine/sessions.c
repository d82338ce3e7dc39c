/* Multi-turn sessions (workload.classes.NAME.sessions; docs/traffic.md, "Sessions").
 *
 * A session starts with a request of its class (an open-loop arrival, a closed-loop client's
 * request, or a scripted one) and lives in a slot of s->sessions until its last turn ends. As a
 * turn ends answered (completed, or spilled: the API answered), the next one is drawn: its
 * prompt is the turn's prompt + output + new user tokens (growth), its output from the class's
 * output distribution, and it is sent a think time (plus, with tool_probability, a tool-call
 * pause) after the answer's last token, as an EV_SESSION event that loop.c hands to
 * llmcap_arrival with arriving_session set. So the turns of a session never overlap, and each
 * turn ends exactly once (outcomes.c), a turn turned away (rejected) ending its session.
 *
 * Prefix reuse: a session's blocks past the class's shared prefix are keyed by (session,
 * block index) (kv.c's block_key), and every full block of a turn's prompt and
 * output may be cached, so the next turn, on the same replica while the blocks are not
 * evicted, reuses floor((prompt + output - 1) / block_size) blocks of the previous turn (the
 * last output token's KV is never computed, as in vLLM). session-affinity (router.c) sends a
 * turn where its session's previous one went.
 *
 * Randomness: one stream per class, "sessions/CLASS", drawn in a fixed order: the turns as a
 * session starts; per later turn its growth, its output, its think time, the tool-call coin
 * (when tool_probability > 0) and the tool pause (when the coin says so). */
#include "engine_private.h"

bool llmcap_sessions_init(struct sim *s)
{
	const struct llmcap_scenario *sc = s->sc;
	s->session_free = -1;
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		if (!llmcap_class_has_sessions(cl))
			continue;
		char name[LLMCAP_NAME_MAX + 16];
		snprintf(name, sizeof name, "sessions/%s", cl->name);
		s->session_rng[c] = llmcap_rng_stream(sc->seed, name);
		if (!s->session_rng[c])
			return false;
		s->has_sessions = true;
	}
	/* exact steps: a fast run looks ahead at the next arrival to its pool, and a session's
	 * next turn depends on the run's own completions */
	if (s->has_sessions)
		s->fast = false;
	return true;
}

void llmcap_sessions_free(struct sim *s)
{
	for (size_t c = 0; c < LLMCAP_MAX_CLASSES; c++)
		gsl_rng_free(s->session_rng[c]);
	free(s->sessions);
	s->sessions = NULL;
}

static int32_t session_alloc(struct sim *s)
{
	if (s->session_free >= 0) {
		int32_t i = s->session_free;
		s->session_free = s->sessions[i].next_free;
		return i;
	}
	if (s->n_sessions == s->cap_sessions) {
		size_t cap = s->cap_sessions ? 2 * s->cap_sessions : 256;
		struct session *b = realloc(s->sessions, cap * sizeof *b);
		if (!b)
			return -1;
		s->sessions = b;
		s->cap_sessions = cap;
	}
	return (int32_t)s->n_sessions++;
}

static void session_release(struct sim *s, int32_t slot)
{
	s->sessions[slot].next_free = s->session_free;
	s->session_free = slot;
}

bool llmcap_session_attach(struct sim *s, struct req *r)
{
	const int64_t bs = s->pools[r->pool].cfg->block_size;
	int32_t slot;
	if (s->arriving_session > 0) {
		slot = s->arriving_session - 1;
		s->res->sessions.later_turns++;
	} else {
		slot = session_alloc(s);
		if (slot < 0)
			return false;
		const struct llmcap_class_cfg *cl = &s->sc->workload.classes[r->cls];
		int64_t turns = llmcap_dist_sample(&cl->sessions.turns, s->session_rng[r->cls]);
		int64_t shared = cl->shared_prefix_tokens < r->prompt ? cl->shared_prefix_tokens : r->prompt;
		s->sessions[slot] = (struct session){
			.id = s->next_session_id++, .turns_left = (int32_t)(turns > 1 ? turns - 1 : 0),
			.group = r->prefix_group, .shared_blocks = (int32_t)(shared / bs),
			.cls = r->cls, .replica = UINT32_MAX, .next_free = -1};
		s->res->sessions.started++;
	}
	struct session *x = &s->sessions[slot];
	x->prompt = r->prompt;
	x->output = r->output;
	r->session = slot + 1;
	r->prefix_group = x->group;
	/* every full block of the prompt and the output may be cached: the next turn's prompt
	 * begins with them */
	r->prefix_blocks = (int32_t)(((int64_t)r->prompt + r->output) / bs);
	return true;
}

static llmcap_time draw_pause(gsl_rng *g, llmcap_time mean, enum llmcap_think_dist how)
{
	if (mean <= 0 || how == LLMCAP_THINK_FIXED)
		return mean;
	return llmcap_round_time(llmcap_ran_exponential(g, (double)mean));
}

bool llmcap_session_next(struct sim *s, const struct req *r, bool answered, bool at_horizon)
{
	const int32_t slot = r->session - 1;
	struct session *x = &s->sessions[slot];
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[x->cls];
	struct llmcap_session_stats *ss = &s->res->sessions;
	if (at_horizon) { /* unfinished at the horizon: nothing follows */
		session_release(s, slot);
		return false;
	}
	if (!answered) { /* rejected */
		ss->abandoned++;
		session_release(s, slot);
		return false;
	}
	if (x->turns_left == 0) {
		ss->completed++;
		session_release(s, slot);
		return false;
	}
	gsl_rng *g = s->session_rng[x->cls];
	int64_t prompt = (int64_t)x->prompt + x->output + llmcap_dist_sample(&cl->sessions.growth, g);
	int64_t output = llmcap_dist_sample(&cl->output, g);
	llmcap_time pause = draw_pause(g, cl->sessions.think_time, cl->sessions.think_dist);
	if (cl->sessions.tool_probability > 0 && llmcap_rng_uniform(g) < cl->sessions.tool_probability) {
		pause += draw_pause(g, cl->sessions.tool_time, cl->sessions.think_dist);
		ss->tool_calls++;
	}
	if (prompt >= 1 << 24) { /* lengths stay below 2^24, as the scenario's are validated */
		ss->abandoned++;
		session_release(s, slot);
		return false;
	}
	x->turns_left--;
	x->turn++;
	/* after the answer's last token: now for a completion, later for the API's answer */
	llmcap_time end = r->last_token > s->now ? r->last_token : s->now;
	push_event(s, end + pause, s->now, EV_SESSION, (uint32_t)slot,
		   pack_arrival(x->cls, prompt, output), (uint64_t)x->id);
	return true;
}

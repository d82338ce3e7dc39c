/* The arrival stream: arrivals drawn from the workload (or read from a script) one ahead of the
 * event loop, and further ahead where the fast mode looks for the next arrival to a pool
 * (llmcap_next_arrival_to), and the earliest queue timeout that can still act. Nothing here
 * queues or schedules a request (arrivals.c does, when the arrival's event runs), so the fast
 * mode's look-ahead (fast.c) depends on this file alone and not on the scheduler's callers. */
#include "engine_private.h"

/* The earliest queue timeout that can still act: its request waits, never scheduled. */
llmcap_time llmcap_next_deadline(struct sim *s)
{
	llmcap_time t = INT64_MAX;
	for (size_t c = 0; c < s->sc->workload.n_classes; c++) {
		struct deadlines *d = &s->deadlines[c];
		while (d->len > 0) {
			const struct deadline *x = &d->buf[d->head];
			const struct req *r = (size_t)x->slot < s->n_reqs ? &s->reqs[x->slot] : NULL;
			if (r && r->state == R_WAITING && r->id == x->id && r->first_sched < 0)
				break;
			d->head = (d->head + 1) & (d->cap - 1);
			d->len--;
		}
		if (d->len > 0 && d->buf[d->head].time < t)
			t = d->buf[d->head].time;
	}
	return t;
}

static size_t pool_of(const struct sim *s, size_t cls, int64_t prompt)
{
	const struct llmcap_class_cfg *cl = &s->sc->workload.classes[cls];
	return cl->long_prompt_tokens > 0 && prompt > cl->long_prompt_tokens ? s->class_long_pool[cls]
									       : s->class_pool[cls];
}

/* Draws the next arrival before the horizon into *a; false when there is none. */
static bool draw_arrival(struct sim *s, struct pending_arrival *a)
{
	if (s->arrivals_done)
		return false;
	if (s->script) {
		if (s->script_next == s->script_n || s->script[s->script_next].time >= s->sc->horizon) {
			s->arrivals_done = true;
			return false;
		}
		const struct llmcap_scripted_request *q = &s->script[s->script_next];
		*a = (struct pending_arrival){.time = q->time, .index = s->script_next,
					      .pool = (uint32_t)pool_of(s, q->cls, q->prompt)};
		s->script_next++;
		return true;
	}
	/* class and lengths are drawn with the time: with per-class streams the class is the
	 * stream's, known only now */
	llmcap_time t = llmcap_workload_next_arrival(&s->wl);
	if (llmcap_workload_error(&s->wl, NULL))
		s->trace_failed = true;
	if (t >= s->sc->horizon || s->trace_failed) {
		s->arrivals_done = true;
		return false;
	}
	size_t cls = llmcap_workload_pick_class(&s->wl);
	int64_t prompt, output;
	llmcap_workload_lengths(&s->wl, cls, &prompt, &output);
	*a = (struct pending_arrival){.time = t, .index = pack_arrival(cls, prompt, output),
				      .pool = (uint32_t)pool_of(s, cls, prompt)};
	const uint64_t *ids;
	size_t n = llmcap_workload_hash_ids(&s->wl, &ids);
	if (n > 0) {
		a->ids = malloc(n * sizeof *a->ids);
		if (!a->ids) {
			s->oom = true;
			return false;
		}
		memcpy(a->ids, ids, n * sizeof *ids);
		a->n_ids = n;
	}
	return true;
}

/* Arrivals drawn ahead of their events (the fast mode looks ahead for the next arrival to a
 * pool). Every stream is drawn in the same order whenever it is drawn, so drawing early
 * changes nothing. */
static bool ahead_push(struct sim *s)
{
	struct arrivals_ahead *q = &s->ahead;
	if (s->arrivals_done)
		return false;
	if (q->len == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64; /* a power of two: indices wrap with a mask */
		struct pending_arrival *b = malloc(cap * sizeof *b);
		if (!b) {
			s->oom = true;
			return false;
		}
		for (size_t i = 0; i < q->len; i++)
			b[i] = q->buf[(q->head + i) & (q->cap - 1)];
		free(q->buf);
		q->buf = b;
		q->head = 0;
		q->cap = cap;
	}
	/* drawn in place: a copy of the arrival just written field by field would stall on
	 * store forwarding */
	if (!draw_arrival(s, &q->buf[(q->head + q->len) & (q->cap - 1)]))
		return false;
	q->len++;
	return true;
}

void llmcap_schedule_next_arrival(struct sim *s)
{
	struct pending_arrival a;
	s->next_arrival = INT64_MAX;
	s->arrival_due = false;
	if (s->ahead.len > 0) {
		a = s->ahead.buf[s->ahead.head];
		s->ahead.head = (s->ahead.head + 1) & (s->ahead.cap - 1);
		s->ahead.len--;
	} else if (!draw_arrival(s, &a)) {
		return;
	}
	/* the arrival's hash ids (a trace's prefix blocks) go with its event */
	{
		int b = s->ids_pending;
		free(s->ids[b]);
		s->ids[b] = a.ids;
		s->n_ids[b] = s->cap_ids[b] = a.n_ids;
	}
	/* set in place (a struct built aside and copied in would stall on store forwarding) */
	set_event(&s->arrival_ev, a.time, s->now, EV_ARRIVAL, 0, a.index, 0);
	llmcap_events_number(&s->events, &s->arrival_ev);
	s->arrival_due = true;
	s->next_arrival = a.time;
	s->next_arrival_pool = a.pool;
}

/* No arrival reaches pool p before the returned time but the first skip ones (the next one
 * after those, or the last one drawn ahead where none of up to 64 is). */
llmcap_time llmcap_next_arrival_to(struct sim *s, size_t p, int64_t skip)
{
	if (s->next_arrival == INT64_MAX || (s->next_arrival_pool == p && skip-- == 0))
		return s->next_arrival;
	struct arrivals_ahead *q = &s->ahead;
	llmcap_time last = s->next_arrival;
	for (size_t i = 0; i < 64; i++) {
		if (i == q->len && !ahead_push(s))
			return s->arrivals_done ? INT64_MAX : last;
		const struct pending_arrival *a = &q->buf[(q->head + i) & (q->cap - 1)];
		if (a->pool == p && skip-- == 0)
			return a->time;
		last = a->time;
	}
	return last;
}


/* ---- closed-loop clients (workload.clients) ---- */

void llmcap_clients_start(struct sim *s)
{
	/* no open arrivals: the clients are the only source (the scenario check refuses a trace
	 * or a class with its own stream beside them) */
	s->arrivals_done = true;
	for (int64_t i = 0; i < s->sc->workload.clients.concurrency; i++)
		push_event(s, 0, 0, EV_CLIENT, 0, 0, 0);
}

void llmcap_client_think(struct sim *s, bool turned_away)
{
	const llmcap_time mean = s->sc->workload.clients.think_time;
	llmcap_time think = mean;
	if (mean > 0 && s->sc->workload.clients.think_dist == LLMCAP_THINK_EXPONENTIAL)
		think = llmcap_round_time(llmcap_ran_exponential(s->think_rng, (double)mean));
	/* a request turned away (rejected or spilled) ends at once: without a back-off, clients
	 * with no think time would resend without end at one instant */
	if (turned_away)
		think += LLMCAP_CLIENT_BACKOFF;
	push_event(s, s->now + think, s->now, EV_CLIENT, 0, 0, 0);
}

uint64_t llmcap_client_request(struct sim *s)
{
	struct llmcap_workload *wl = &s->wl;
	size_t cls = wl->shared_class[0];
	if (wl->n_shared > 1) {
		double u = llmcap_rng_uniform(s->class_rng);
		size_t c = 0;
		while (c + 1 < wl->n_shared && u >= wl->cum_share[c])
			c++;
		cls = wl->shared_class[c];
	}
	int64_t prompt, output;
	llmcap_workload_lengths(wl, cls, &prompt, &output);
	return pack_arrival(cls, prompt, output);
}

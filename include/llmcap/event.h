/* The event queue: a binary min-heap of events ordered by (time, origin, tie, sequence number).
 *
 * Ordering contract: events run in increasing time; events at the same time run in increasing
 * origin (the caller's time of the cause that scheduled the event), then increasing tie (a
 * caller-defined key), then in the order they were pushed (the sequence number is a per-queue
 * insertion counter). Callers that leave origin and tie at 0 get plain insertion order among
 * equal times. The order is total and every run is reproducible bit for bit. Payloads are
 * inline (indices, not pointers) and there is no allocation per event beyond amortised growth
 * of the array.
 *
 * Why origin and tie: a simulation that pushes every event with origin = its current time gets
 * exactly insertion order wherever origins differ (a later push never has an earlier origin),
 * and a canonical order (tie) where they do not. Such an order depends only on *when* an event
 * was scheduled, not on how many other events were pushed before it, so an event can be
 * scheduled ahead of time (with the origin it would have had) and still run in its place.
 */
#ifndef LLMCAP_EVENT_H
#define LLMCAP_EVENT_H

#include "llmcap/core.h"

struct llmcap_event {
	llmcap_time time;
	llmcap_time origin; /* caller-defined: when the event was caused (see above) */
	uint64_t tie;  /* caller-defined order among equal (time, origin) */
	uint64_t seq;  /* insertion order, assigned by llmcap_events_push */
	uint32_t kind; /* caller-defined */
	uint32_t target; /* caller-defined index, e.g. a replica */
	uint64_t data; /* caller-defined payload */
};

struct llmcap_events {
	struct llmcap_event *heap;
	size_t len, cap;
	uint64_t next_seq;
};

void llmcap_events_init(struct llmcap_events *q);
void llmcap_events_free(struct llmcap_events *q);
/* Room for one more event; -LLMCAP_ENOMEM without memory. */
int llmcap_events_grow(struct llmcap_events *q);
/* Removes the earliest event into *out; returns false when the queue is empty. */
bool llmcap_events_pop(struct llmcap_events *q, struct llmcap_event *out);
/* Pops the earliest event and pushes ev in one sift (the queue must not be empty): the order is
 * the same as a pop then a push. ev's seq field is overwritten. */
void llmcap_events_replace_top(struct llmcap_events *q, struct llmcap_event ev);
/* The earliest event without removing it, or NULL. */
const struct llmcap_event *llmcap_events_peek(const struct llmcap_events *q);
/* Gives ev the sequence number a push would, for an event the caller keeps outside the queue
 * and compares with its top (llmcap_event_before): the order is the same as if pushed. */
void llmcap_events_number(struct llmcap_events *q, struct llmcap_event *ev);

/* Whether a runs before b. */
static inline bool llmcap_event_before(const struct llmcap_event *a, const struct llmcap_event *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	if (a->origin != b->origin)
		return a->origin < b->origin;
	if (a->tie != b->tie)
		return a->tie < b->tie;
	return a->seq < b->seq;
}

/* Returns 0, or -LLMCAP_ENOMEM. The event's seq field is overwritten. Inline, so that an event
 * built by the caller field by field is stored into the heap the same way (a copy of it through
 * memory, as an argument, would stall on store forwarding). */
static inline int llmcap_events_push(struct llmcap_events *q, struct llmcap_event ev)
{
	if (q->len == q->cap && llmcap_events_grow(q) != 0)
		return -LLMCAP_ENOMEM;
	ev.seq = q->next_seq++;
	size_t i = q->len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!llmcap_event_before(&ev, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = ev;
	return 0;
}

#endif

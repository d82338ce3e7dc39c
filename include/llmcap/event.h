/* The event queue: a binary min-heap of events ordered by (time, sequence number).
 *
 * Ordering contract: events run in increasing time; events at the same time run in the order
 * they were pushed (the sequence number is a per-queue insertion counter). The order is
 * therefore total and every run is reproducible bit for bit. Payloads are inline (indices, not
 * pointers) and there is no allocation per event beyond amortised growth of the array.
 */
#ifndef LLMCAP_EVENT_H
#define LLMCAP_EVENT_H

#include "llmcap/core.h"

struct llmcap_event {
	llmcap_time time;
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
/* Returns 0, or -LLMCAP_ENOMEM. The event's seq field is overwritten. */
int llmcap_events_push(struct llmcap_events *q, struct llmcap_event ev);
/* Removes the earliest event into *out; returns false when the queue is empty. */
bool llmcap_events_pop(struct llmcap_events *q, struct llmcap_event *out);
/* The earliest event without removing it, or NULL. */
const struct llmcap_event *llmcap_events_peek(const struct llmcap_events *q);

#endif

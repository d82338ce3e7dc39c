/* Binary min-heap keyed by (time, origin, tie, seq): see include/llmcap/event.h. */
#include "llmcap/event.h"

#include <stdlib.h>

void llmcap_events_init(struct llmcap_events *q)
{
	q->heap = NULL;
	q->len = q->cap = 0;
	q->next_seq = 0;
}

void llmcap_events_free(struct llmcap_events *q)
{
	free(q->heap);
	llmcap_events_init(q);
}

int llmcap_events_grow(struct llmcap_events *q)
{
	size_t cap = q->cap ? 2 * q->cap : 64;
	struct llmcap_event *h = realloc(q->heap, cap * sizeof *h);
	if (!h)
		return -LLMCAP_ENOMEM;
	q->heap = h;
	q->cap = cap;
	return 0;
}

/* Puts ev at the root's place and sifts it down among the len events of the heap. */
static void sift_down(struct llmcap_events *q, struct llmcap_event ev)
{
	size_t i = 0, n = q->len;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && llmcap_event_before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!llmcap_event_before(&q->heap[c], &ev))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	q->heap[i] = ev;
}

bool llmcap_events_pop(struct llmcap_events *q, struct llmcap_event *out)
{
	if (q->len == 0)
		return false;
	*out = q->heap[0];
	struct llmcap_event last = q->heap[--q->len];
	if (q->len > 0)
		sift_down(q, last);
	return true;
}

void llmcap_events_replace_top(struct llmcap_events *q, struct llmcap_event ev)
{
	ev.seq = q->next_seq++;
	sift_down(q, ev);
}

const struct llmcap_event *llmcap_events_peek(const struct llmcap_events *q)
{
	return q->len ? &q->heap[0] : NULL;
}

void llmcap_events_number(struct llmcap_events *q, struct llmcap_event *ev)
{
	ev->seq = q->next_seq++;
}

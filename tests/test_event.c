/* The event queue: time order, and insertion order among equal times. */
#include "test_util.h"

#include <gsl/gsl_rng.h>

#include "llmcap/event.h"

static void ties_pop_in_insertion_order(void **state)
{
	(void)state;
	struct llmcap_events q;
	llmcap_events_init(&q);
	/* Interleave three timestamps; within each, the data field records push order. */
	for (uint64_t i = 0; i < 300; i++) {
		struct llmcap_event ev = {.time = (llmcap_time)(i % 3) * 10, .data = i};
		assert_int_equal(llmcap_events_push(&q, ev), 0);
	}
	struct llmcap_event ev, prev = {.time = -1};
	size_t n = 0;
	while (llmcap_events_pop(&q, &ev)) {
		assert_true(ev.time >= prev.time);
		if (ev.time == prev.time)
			assert_true(ev.data > prev.data && ev.seq > prev.seq);
		prev = ev;
		n++;
	}
	assert_int_equal(n, 300);
	llmcap_events_free(&q);
}

static void random_times_come_out_sorted(void **state)
{
	(void)state;
	struct llmcap_events q;
	llmcap_events_init(&q);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 7);
	/* Mix pushes and pops, as a simulation does: each pop must be the minimum present. */
	llmcap_time floor_time = 0;
	size_t popped = 0;
	for (int round = 0; round < 20000; round++) {
		if (gsl_rng_uniform(r) < 0.6 || q.len == 0) {
			struct llmcap_event ev = {
				.time = floor_time + (llmcap_time)gsl_rng_uniform_int(r, 1000),
				.data = (uint64_t)round};
			assert_int_equal(llmcap_events_push(&q, ev), 0);
		} else {
			struct llmcap_event ev;
			const struct llmcap_event *top = llmcap_events_peek(&q);
			llmcap_time t = top->time;
			assert_true(llmcap_events_pop(&q, &ev));
			assert_int_equal(ev.time, t);
			for (size_t i = 0; i < q.len; i++) {
				assert_true(q.heap[i].time > ev.time ||
					    (q.heap[i].time == ev.time && q.heap[i].seq > ev.seq));
			}
			assert_true(ev.time >= floor_time);
			floor_time = ev.time;
			popped++;
		}
	}
	assert_true(popped > 1000);
	gsl_rng_free(r);
	llmcap_events_free(&q);
}

static void empty_queue(void **state)
{
	(void)state;
	struct llmcap_events q;
	llmcap_events_init(&q);
	struct llmcap_event ev;
	assert_false(llmcap_events_pop(&q, &ev));
	assert_null(llmcap_events_peek(&q));
	llmcap_events_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ties_pop_in_insertion_order),
		cmocka_unit_test(random_times_come_out_sorted),
		cmocka_unit_test(empty_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

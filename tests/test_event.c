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

/* Replacing the top is a pop then a push: two queues fed the same random operations, one
 * replacing where the other pops and pushes, pop the same events in the same order. */
static void replace_top_is_pop_then_push(void **state)
{
	(void)state;
	struct llmcap_events a, b;
	llmcap_events_init(&a);
	llmcap_events_init(&b);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 11);
	llmcap_time now = 0;
	size_t replaced = 0;
	for (int round = 0; round < 20000; round++) {
		double u = gsl_rng_uniform(r);
		/* equal times, origins and ties are frequent, so that seq decides */
		struct llmcap_event ev = {.time = now + (llmcap_time)gsl_rng_uniform_int(r, 50),
					  .origin = (llmcap_time)gsl_rng_uniform_int(r, 3),
					  .tie = gsl_rng_uniform_int(r, 3), .data = (uint64_t)round};
		if (u < 0.4 || a.len == 0) {
			assert_int_equal(llmcap_events_push(&a, ev), 0);
			assert_int_equal(llmcap_events_push(&b, ev), 0);
		} else if (u < 0.7) {
			struct llmcap_event x, y;
			assert_true(llmcap_events_pop(&a, &x));
			assert_true(llmcap_events_pop(&b, &y));
			assert_memory_equal(&x, &y, sizeof x);
			now = x.time;
		} else {
			struct llmcap_event x;
			now = llmcap_events_peek(&a)->time;
			ev.time += now;
			assert_true(llmcap_events_pop(&a, &x));
			assert_int_equal(llmcap_events_push(&a, ev), 0);
			llmcap_events_replace_top(&b, ev);
			replaced++;
		}
		assert_int_equal(a.len, b.len);
	}
	struct llmcap_event x, y;
	while (llmcap_events_pop(&a, &x)) {
		assert_true(llmcap_events_pop(&b, &y));
		assert_memory_equal(&x, &y, sizeof x);
	}
	assert_int_equal(b.len, 0);
	assert_true(replaced > 1000);
	gsl_rng_free(r);
	llmcap_events_free(&a);
	llmcap_events_free(&b);
}

/* An event kept beside the queue and numbered (llmcap_events_number) takes its turn among the
 * queue's events exactly where it would have, pushed: equal keys at every level, so that the
 * sequence number decides. */
static void numbered_event_runs_in_its_place(void **state)
{
	(void)state;
	struct llmcap_events a, b;
	llmcap_events_init(&a);
	llmcap_events_init(&b);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	assert_non_null(r);
	for (int round = 0; round < 200; round++) {
		const unsigned long n = 1 + gsl_rng_uniform_int(r, 20), at = gsl_rng_uniform_int(r, n + 1);
		struct llmcap_event side = {0};
		for (unsigned long i = 0; i <= n; i++) {
			struct llmcap_event ev = {.time = (llmcap_time)gsl_rng_uniform_int(r, 3),
						  .origin = (llmcap_time)gsl_rng_uniform_int(r, 2),
						  .tie = gsl_rng_uniform_int(r, 2), .data = i};
			assert_int_equal(llmcap_events_push(&a, ev), 0); /* a: everything pushed */
			if (i == at) {
				side = ev;
				llmcap_events_number(&b, &side); /* b: this one beside the queue */
			} else {
				assert_int_equal(llmcap_events_push(&b, ev), 0);
			}
		}
		bool pending = true;
		struct llmcap_event x, y;
		while (llmcap_events_pop(&a, &x)) {
			const struct llmcap_event *top = llmcap_events_peek(&b);
			if (pending && (!top || llmcap_event_before(&side, top))) {
				y = side;
				pending = false;
			} else {
				assert_true(llmcap_events_pop(&b, &y));
			}
			assert_int_equal(x.data, y.data);
		}
		assert_false(pending);
		assert_null(llmcap_events_peek(&b));
	}
	gsl_rng_free(r);
	llmcap_events_free(&a);
	llmcap_events_free(&b);
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
		cmocka_unit_test(replace_top_is_pop_then_push),
		cmocka_unit_test(numbered_event_runs_in_its_place),
		cmocka_unit_test(empty_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Per-request records kept by the tests' sinks, in the order the requests end. */
#ifndef LLMCAP_TEST_RECORDS_H
#define LLMCAP_TEST_RECORDS_H

#include "test_util.h"

#include <stdlib.h>

#include "llmcap/sim.h"

/* Appends r to the growing array *v of *n records (room for *cap). */
static inline void test_append_record(struct llmcap_request_record **v, size_t *n, size_t *cap,
				      const struct llmcap_request_record *r)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*v = realloc(*v, *cap * sizeof **v);
		assert_non_null(*v);
	}
	(*v)[(*n)++] = *r;
}

/* A run's records (at most TEST_MAX_RECORDS, in the order the requests ended; the run stops
 * there) and the most requests waiting or running in the fleet at any 1 s sample. */
#define TEST_MAX_RECORDS 200000
struct test_run_records {
	struct llmcap_request_record *r; /* owned: free(r) when done */
	size_t n;
	int64_t max_in_system;
};

static inline int test_records_on_request(void *user, const struct llmcap_request_record *r)
{
	struct test_run_records *t = user;
	if (t->n == TEST_MAX_RECORDS)
		return 1;
	t->r[t->n++] = *r;
	return 0;
}

static inline int test_records_on_sample(void *user, const struct llmcap_sample_row *row)
{
	struct test_run_records *t = user;
	if (row->replica < 0 && row->waiting + row->running > t->max_in_system)
		t->max_in_system = row->waiting + row->running;
	return 0;
}

/* Runs sc (or its script of n_script requests, where script) into t and res, failing the test
 * on an error. */
static inline void test_records_run(const struct llmcap_catalog *cat,
				    const struct llmcap_scenario *sc,
				    const struct llmcap_scripted_request *script, size_t n_script,
				    struct test_run_records *t, struct llmcap_results *res)
{
	struct llmcap_error err = {0};
	t->n = 0;
	t->max_in_system = 0;
	if (!t->r)
		t->r = malloc(TEST_MAX_RECORDS * sizeof *t->r);
	assert_non_null(t->r);
	struct llmcap_sink sink = {.user = t, .request = test_records_on_request,
				   .sample = test_records_on_sample, .sample_interval = LLMCAP_SEC};
	int rc = script ? llmcap_simulate_script(sc, cat, &sink, script, n_script, res, &err)
			: llmcap_simulate(sc, cat, &sink, res, &err);
	if (rc != 0)
		fail_msg("%s", err.msg);
}

#endif

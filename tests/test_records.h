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

#endif

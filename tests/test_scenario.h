/* A test file's scenario: the defaults, the file's fixed overrides, then the test's own. */
#ifndef LLMCAP_TEST_SCENARIO_H
#define LLMCAP_TEST_SCENARIO_H

#include "test_util.h"

#include <stdbool.h>

#include "llmcap/scenario.h"

/* Fills sc from the defaults, `base` (n_base overrides: what every test of the file shares) and
 * `sets` (n overrides), then, where check, checks it against cat; any step that fails fails the
 * test with its message. */
static inline void test_scenario_build(struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
				       const char *const *base, size_t n_base,
				       const char *const *sets, size_t n, bool check)
{
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	for (size_t i = 0; i < n_base + n; i++)
		if (llmcap_scenario_apply_override(sc, i < n_base ? base[i] : sets[i - n_base], &err) != 0)
			fail_msg("%s", err.msg);
	if (check && llmcap_scenario_check(sc, cat, &err) != 0)
		fail_msg("%s", err.msg);
}

#endif

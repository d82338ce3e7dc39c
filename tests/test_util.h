/* Helpers shared by the unit tests. */
#ifndef LLMCAP_TEST_UTIL_H
#define LLMCAP_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* cmocka compares exactly; floating-point results need a relative tolerance. */
#define assert_rel(actual, expected, rtol) \
	assert_rel_impl((double)(actual), (double)(expected), (rtol), #actual, __FILE__, __LINE__)

static inline void assert_rel_impl(double a, double e, double rtol, const char *what,
				   const char *file, int line)
{
	double err = fabs(a - e);
	if (!(err <= rtol * fabs(e))) {
		print_error("%s = %.17g, expected %.17g within relative %.3g (off by %.3g)\n", what, a,
			    e, rtol, e != 0 ? err / fabs(e) : err);
		_fail(file, line);
	}
}

#define assert_contains(haystack, needle)                                               \
	do {                                                                            \
		const char *h_ = (haystack), *n_ = (needle);                            \
		if (!strstr(h_, n_)) {                                                  \
			print_error("'%s'\n  does not contain '%s'\n", h_, n_);          \
			_fail(__FILE__, __LINE__);                                       \
		}                                                                       \
	} while (0)

#endif

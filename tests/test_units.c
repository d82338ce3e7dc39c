/* Unit parsers and formatters: what a scenario may write, and what it may not. */
#include "test_util.h"

#include "llmcap/core.h"

#include <gsl/gsl_randist.h>
#include <string.h>

static void durations(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		llmcap_time ns;
	} ok[] = {
		{"500ms", 500 * LLMCAP_MS}, {"1.5s", 1500 * LLMCAP_MS}, {"1d", LLMCAP_DAY},
		{"30d", 30 * LLMCAP_DAY},   {"2h", 2 * LLMCAP_HOUR},    {"3min", 3 * LLMCAP_MIN},
		{"250us", 250 * LLMCAP_US}, {"10ns", 10},               {"1w", 7 * LLMCAP_DAY},
		{"1e3s", 1000 * LLMCAP_SEC}, {"0s", 0},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		llmcap_time t = -1;
		assert_int_equal(llmcap_parse_duration(ok[i].text, &t), 0);
		assert_int_equal(t, ok[i].ns);
	}
	static const char *const bad[] = {"500", "", "ms", "5 parsecs", "1.2.3s", "nans", "infs",
					  "5s5", "-", "0x10s", "1e400s"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		llmcap_time t;
		assert_int_equal(llmcap_parse_duration(bad[i], &t), -LLMCAP_EINVAL);
	}
}

static void rates(void **state)
{
	(void)state;
	double r;
	assert_int_equal(llmcap_parse_rate("50000/day", &r), 0);
	assert_rel(r, 50000.0 / 86400.0, 1e-15);
	assert_int_equal(llmcap_parse_rate("35/min", &r), 0);
	assert_rel(r, 35.0 / 60.0, 1e-15);
	assert_int_equal(llmcap_parse_rate("0.5/s", &r), 0);
	assert_rel(r, 0.5, 1e-15);
	assert_int_equal(llmcap_parse_rate("2/hour", &r), 0);
	assert_rel(r, 2.0 / 3600.0, 1e-15);
	assert_int_equal(llmcap_parse_rate("50000", &r), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_rate("50000/fortnight", &r), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_rate("/day", &r), -LLMCAP_EINVAL);
}

static void sizes(void **state)
{
	(void)state;
	double b;
	assert_int_equal(llmcap_parse_bytes("81559MiB", &b), 0);
	assert_rel(b, 81559.0 * 1024 * 1024, 1e-15);
	assert_int_equal(llmcap_parse_bytes("0.5GiB", &b), 0);
	assert_rel(b, 0.5 * 1024 * 1024 * 1024, 1e-15);
	assert_int_equal(llmcap_parse_bytes("80GB", &b), 0);
	assert_rel(b, 80e9, 1e-15);
	assert_int_equal(llmcap_parse_bytes("4096", &b), 0);
	assert_rel(b, 4096, 1e-15);
	assert_int_equal(llmcap_parse_bytes("12 apples", &b), -LLMCAP_EINVAL);
}

static void counts(void **state)
{
	(void)state;
	double v;
	bool suffixed = true;
	assert_int_equal(llmcap_parse_count("2.7e9", &v, &suffixed), 0);
	assert_rel(v, 2.7e9, 1e-15);
	assert_false(suffixed);
	assert_int_equal(llmcap_parse_count("500M", &v, &suffixed), 0);
	assert_rel(v, 5e8, 1e-15);
	assert_true(suffixed);
	assert_int_equal(llmcap_parse_count("5B", &v, NULL), 0);
	assert_rel(v, 5e9, 1e-15);
	assert_int_equal(llmcap_parse_count("1.2T", &v, NULL), 0);
	assert_rel(v, 1.2e12, 1e-15);
	assert_int_equal(llmcap_parse_count("20K", &v, NULL), 0);
	assert_rel(v, 2e4, 1e-15);
	assert_int_equal(llmcap_parse_count("5G", &v, NULL), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_count("5b", &v, NULL), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_count("B", &v, NULL), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_count("5BB", &v, NULL), -LLMCAP_EINVAL);
}

static void money(void **state)
{
	(void)state;
	char b[32];
	llmcap_format_usd(273200, b, sizeof b);
	assert_string_equal(b, "$273,200");
	llmcap_format_usd(45083.4, b, sizeof b);
	assert_string_equal(b, "$45,083");
	llmcap_format_usd(999.5, b, sizeof b);
	assert_string_equal(b, "$1,000");
	llmcap_format_usd(12, b, sizeof b);
	assert_string_equal(b, "$12");
	llmcap_format_usd(-1500, b, sizeof b);
	assert_string_equal(b, "-$1,500");
	llmcap_format_usd(-0.2, b, sizeof b);
	assert_string_equal(b, "$0");
	llmcap_format_usd(1234567890, b, sizeof b);
	assert_string_equal(b, "$1,234,567,890");
	llmcap_format_usd(NAN, b, sizeof b);
	assert_string_equal(b, "n/a");
	llmcap_format_usd(273200, b, 5); /* cut short, still a string */
	assert_true(strlen(b) < 5 && !strncmp(b, "$27", 3));
}

static void numbers(void **state)
{
	(void)state;
	int64_t i;
	double d;
	assert_int_equal(llmcap_parse_int("8192", &i), 0);
	assert_int_equal(i, 8192);
	assert_int_equal(llmcap_parse_int("1e6", &i), 0);
	assert_int_equal(i, 1000000);
	assert_int_equal(llmcap_parse_int("2.5", &i), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_int("two", &i), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_double("nan", &d), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_double("inf", &d), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_double("0x1p3", &d), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_double(" 1", &d), -LLMCAP_EINVAL);
	assert_int_equal(llmcap_parse_double("-0.25", &d), 0);
	assert_rel(d, -0.25, 0);
}

static void formats_round_trip(void **state)
{
	(void)state;
	char buf[64];
	static const llmcap_time ts[] = {LLMCAP_DAY, 90 * LLMCAP_SEC, 1500 * LLMCAP_MS, 7, 0,
					 3 * LLMCAP_DAY + 1};
	for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		llmcap_time back;
		llmcap_format_duration(ts[i], buf, sizeof buf);
		assert_int_equal(llmcap_parse_duration(buf, &back), 0);
		assert_int_equal(back, ts[i]);
	}
	llmcap_format_duration(LLMCAP_DAY, buf, sizeof buf);
	assert_string_equal(buf, "1d");
	static const double rs[] = {50000.0 / 86400, 35.0 / 60, 0.5, 1e-3, 1234.5678};
	for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
		double back;
		llmcap_format_rate(rs[i], buf, sizeof buf);
		assert_int_equal(llmcap_parse_rate(buf, &back), 0);
		assert_rel(back, rs[i], 1e-15);
	}
	llmcap_format_rate(50000.0 / 86400, buf, sizeof buf);
	assert_string_equal(buf, "50000/day");
	llmcap_format_double(0.1, buf, sizeof buf);
	assert_string_equal(buf, "0.1");
	llmcap_format_double(155000, buf, sizeof buf);
	assert_string_equal(buf, "155000");
}

/* The streams' own MT19937 against GSL's, word for word and draw for draw, over several blocks
 * of 624 words, for seeds including 0 (GSL's default seed) and ones with zero low words; and
 * the inline draws against GSL's distributions on GSL's generator, to the bit. */
static bool same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static void generator_is_gsls_mt19937(void **state)
{
	(void)state;
	const unsigned long seeds[] = {0, 1, 42, 4357, 0xffffffffUL, 0x100000000UL, 2718281828UL};
	for (size_t si = 0; si < sizeof seeds / sizeof *seeds; si++) {
		gsl_rng *ref = gsl_rng_alloc(gsl_rng_mt19937), *own = gsl_rng_alloc(&llmcap_mt19937);
		assert_non_null(ref);
		assert_non_null(own);
		gsl_rng_set(ref, seeds[si]);
		gsl_rng_set(own, seeds[si]);
		for (int i = 0; i < 5000; i++) /* through GSL's interface (function pointers) */
			assert_int_equal(gsl_rng_get(ref), gsl_rng_get(own));
		size_t bad = 0;
		for (int i = 0; i < 200000; i++) {
			switch (i % 6) {
			case 0: bad += !same_bits(gsl_rng_uniform(ref), llmcap_rng_uniform(own)); break;
			case 1: {
				const unsigned long n = 1 + (unsigned long)i % 100003;
				bad += gsl_rng_uniform_int(ref, n) != llmcap_rng_uniform_int(own, n);
				break;
			}
			case 2: bad += gsl_rng_uniform_int(ref, 0xffffffffUL) !=
				       llmcap_rng_uniform_int(own, 0xffffffffUL);
				break;
			case 3: bad += !same_bits(gsl_ran_exponential(ref, 0.37),
						  llmcap_ran_exponential(own, 0.37));
				break;
			case 4: /* the lognormal lengths' normals: words through the type's get */
				bad += !same_bits(exp(6.4 + gsl_ran_gaussian_ziggurat(ref, 0.8)),
						  llmcap_ran_lognormal(own, 6.4, 0.8));
				break;
			default: /* GSL's distributions draw from it through its type */
				bad += !same_bits(gsl_ran_gamma(ref, 0.7, 2.0), gsl_ran_gamma(own, 0.7, 2.0));
			}
		}
		assert_int_equal(bad, 0);
		/* on another generator type the inline draws are GSL's own calls */
		gsl_rng *a = gsl_rng_alloc(gsl_rng_taus2), *b = gsl_rng_alloc(gsl_rng_taus2);
		assert_non_null(a);
		assert_non_null(b);
		gsl_rng_set(a, seeds[si]);
		gsl_rng_set(b, seeds[si]);
		for (int i = 0; i < 1000; i++) {
			assert_true(same_bits(gsl_rng_uniform(a), llmcap_rng_uniform(b)));
			assert_int_equal(gsl_rng_uniform_int(a, 977), llmcap_rng_uniform_int(b, 977));
		}
		gsl_rng_free(a);
		gsl_rng_free(b);
		gsl_rng_free(ref);
		gsl_rng_free(own);
	}
}

static void error_names(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_errorf(&err, LLMCAP_EINVAL, "x=%d", 3), -LLMCAP_EINVAL);
	assert_string_equal(err.msg, "x=3");
	assert_string_equal(llmcap_strerror(-LLMCAP_EIO), "input/output error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations), cmocka_unit_test(rates),
		cmocka_unit_test(sizes),     cmocka_unit_test(numbers),
		cmocka_unit_test(counts),    cmocka_unit_test(money),
		cmocka_unit_test(formats_round_trip), cmocka_unit_test(error_names),
		cmocka_unit_test(generator_is_gsls_mt19937),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

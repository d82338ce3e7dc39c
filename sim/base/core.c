/* Errors, unit parsing and random streams. */
#include "llmcap/core.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *llmcap_strerror(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
#define XX(name, msg)         \
	case LLMCAP_E##name: \
		return msg;
		LLMCAP_ERRNO_MAP(XX)
#undef XX
	}
	return "unknown error";
}

int llmcap_first_error(const int *rcs, const struct llmcap_error *errs, size_t n,
		       struct llmcap_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (rcs[i]) {
			if (err)
				*err = errs[i];
			return rcs[i];
		}
	return 0;
}

int llmcap_errorf(struct llmcap_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return -code;
}

int llmcap_parse_double(const char *s, double *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -LLMCAP_EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
		return -LLMCAP_EINVAL;
	/* strtod accepts hex floats and "nan"/"inf"; a scenario has no business with them. */
	for (const char *p = s; p < end; p++)
		if (isalpha((unsigned char)*p) && *p != 'e' && *p != 'E')
			return -LLMCAP_EINVAL;
	*out = v;
	return 0;
}

int llmcap_parse_int(const char *s, int64_t *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -LLMCAP_EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end != s && *end == '\0' && errno == 0) {
		*out = v;
		return 0;
	}
	/* Accept integral values written as floats ("1e6", "8192.0"), as YAML users do. */
	double d;
	if (llmcap_parse_double(s, &d) == 0 && d == floor(d) && fabs(d) < 9.0e15) {
		*out = (int64_t)d;
		return 0;
	}
	return -LLMCAP_EINVAL;
}

/* Splits "123.5unit" into a number and a unit suffix. */
static int split_number(const char *s, double *num, const char **unit)
{
	if (!s || !*s)
		return -LLMCAP_EINVAL;
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	/* exponent, but only when followed by a digit (so "1e3s" works and "1e" is a unit) */
	if ((*p == 'e' || *p == 'E') &&
	    (isdigit((unsigned char)p[1]) ||
	     ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char)p[2])))) {
		p += 2;
		while (isdigit((unsigned char)*p))
			p++;
	}
	char buf[64];
	size_t n = (size_t)(p - s);
	if (n == 0 || n >= sizeof buf)
		return -LLMCAP_EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (llmcap_parse_double(buf, num) != 0)
		return -LLMCAP_EINVAL;
	while (*p == ' ')
		p++;
	*unit = p;
	return 0;
}

struct unit {
	const char *name;
	double scale;
};

static const struct unit time_units[] = {
	{"ns", 1.0},       {"us", 1e3},         {"ms", 1e3 * 1e3},
	{"s", 1e9},        {"sec", 1e9},        {"min", 60e9},
	{"m", 60e9},       {"h", 3600e9},       {"hour", 3600e9},
	{"d", 86400e9},    {"day", 86400e9},    {"w", 7 * 86400e9},
	{"week", 7 * 86400e9},
};

static const struct unit *find_unit(const struct unit *u, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(u[i].name, name) == 0)
			return &u[i];
	return NULL;
}

int llmcap_parse_duration(const char *s, llmcap_time *out)
{
	double v;
	const char *unit;
	if (split_number(s, &v, &unit) != 0 || !*unit)
		return -LLMCAP_EINVAL;
	const struct unit *u = find_unit(time_units, sizeof time_units / sizeof *time_units, unit);
	if (!u)
		return -LLMCAP_EINVAL;
	double ns = v * u->scale;
	if (!(fabs(ns) < 9.0e18))
		return -LLMCAP_EINVAL;
	*out = (llmcap_time)llround(ns);
	return 0;
}

int llmcap_parse_rate(const char *s, double *out_per_s)
{
	double v;
	const char *unit;
	if (split_number(s, &v, &unit) != 0 || *unit != '/')
		return -LLMCAP_EINVAL;
	unit++;
	const struct unit *u = find_unit(time_units, sizeof time_units / sizeof *time_units, unit);
	if (!u)
		return -LLMCAP_EINVAL;
	*out_per_s = v / (u->scale / 1e9);
	return 0;
}

int llmcap_parse_bytes(const char *s, double *out_bytes)
{
	static const struct unit units[] = {
		{"", 1.0},         {"B", 1.0},
		{"KB", 1e3},       {"MB", 1e6},
		{"GB", 1e9},       {"TB", 1e12},
		{"KiB", 1024.0},   {"MiB", 1024.0 * 1024.0},
		{"GiB", LLMCAP_GIB}, {"TiB", LLMCAP_GIB * 1024.0},
	};
	double v;
	const char *unit;
	if (split_number(s, &v, &unit) != 0)
		return -LLMCAP_EINVAL;
	const struct unit *u = find_unit(units, sizeof units / sizeof *units, unit);
	if (!u)
		return -LLMCAP_EINVAL;
	*out_bytes = v * u->scale;
	return 0;
}

void llmcap_format_duration(llmcap_time t, char *buf, size_t n)
{
	static const struct {
		const char *name;
		llmcap_time ns;
	} units[] = {
		{"w", 7 * LLMCAP_DAY}, {"d", LLMCAP_DAY}, {"h", LLMCAP_HOUR}, {"min", LLMCAP_MIN},
		{"s", LLMCAP_SEC},     {"ms", LLMCAP_MS}, {"us", LLMCAP_US},
	};
	if (t != 0)
		for (size_t i = 0; i < sizeof units / sizeof *units; i++)
			if (t % units[i].ns == 0) {
				snprintf(buf, n, "%lld%s", (long long)(t / units[i].ns), units[i].name);
				return;
			}
	snprintf(buf, n, "%lldns", (long long)t);
}

void llmcap_format_double(double v, char *buf, size_t n)
{
	/* Whole numbers in plain digits (50000, not 5e+04): scenario files stay readable. */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

void llmcap_format_rate(double per_s, char *buf, size_t n)
{
	static const struct {
		const char *name;
		double s;
	} units[] = {{"s", 1}, {"min", 60}, {"hour", 3600}, {"day", 86400}};
	/* Prefer the unit in which the value is a short exact number (50000/day, not 0.5787/s). */
	char tmp[64];
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		double v = per_s * units[i].s;
		llmcap_format_double(v, tmp, sizeof tmp);
		if (strlen(tmp) <= 8) {
			snprintf(buf, n, "%s/%s", tmp, units[i].name);
			return;
		}
	}
	llmcap_format_double(per_s, tmp, sizeof tmp);
	snprintf(buf, n, "%s/s", tmp);
}

uint64_t llmcap_hash_bytes(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

void llmcap_run_threads(void *(*fn)(void *), void *arg, long threads)
{
	pthread_t *th = threads > 0 ? calloc((size_t)threads, sizeof *th) : NULL;
	long started = 0;
	for (; th && started < threads; started++)
		if (pthread_create(&th[started], NULL, fn, arg) != 0)
			break;
	if (started == 0)
		fn(arg);
	for (long t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	free(th);
}

struct parallel_for {
	void (*fn)(void *ctx, size_t i);
	void *ctx;
	size_t next, n;
	pthread_mutex_t lock;
};

static void *parallel_for_worker(void *arg)
{
	struct parallel_for *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		p->fn(p->ctx, i);
	}
}

void llmcap_parallel_for(size_t n, long threads, void (*fn)(void *ctx, size_t i), void *ctx)
{
	struct parallel_for p = {.fn = fn, .ctx = ctx, .n = n};
	pthread_mutex_init(&p.lock, NULL);
	if (threads > (long)n)
		threads = n ? (long)n : 1;
	llmcap_run_threads(parallel_for_worker, &p, threads);
	pthread_mutex_destroy(&p.lock);
}

static const struct unit count_suffixes[] = {
	{"K", 1e3}, {"M", 1e6}, {"B", 1e9}, {"T", 1e12},
};

int llmcap_parse_count(const char *s, double *out, bool *suffixed)
{
	double v;
	const char *unit;
	if (split_number(s, &v, &unit) != 0)
		return -LLMCAP_EINVAL;
	double scale = 1;
	if (*unit) {
		const struct unit *u = find_unit(count_suffixes, sizeof count_suffixes /
							       sizeof *count_suffixes, unit);
		if (!u)
			return -LLMCAP_EINVAL;
		scale = u->scale;
	}
	if (!isfinite(v * scale))
		return -LLMCAP_EINVAL;
	*out = v * scale;
	if (suffixed)
		*suffixed = *unit != '\0';
	return 0;
}

void llmcap_format_usd(double v, char *buf, size_t n)
{
	if (!isfinite(v)) {
		snprintf(buf, n, "n/a");
		return;
	}
	char digits[64];
	snprintf(digits, sizeof digits, "%.0f", fabs(v));
	size_t len = strlen(digits), k = 0;
	/* "-0" is not money: a value that rounds to 0 has no sign */
	if (v < 0 && strcmp(digits, "0") != 0 && k + 1 < n)
		buf[k++] = '-';
	if (k + 1 < n)
		buf[k++] = '$';
	for (size_t i = 0; i < len && k + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = digits[i];
	}
	if (n)
		buf[k < n ? k : n - 1] = '\0';
}

void llmcap_format_count(double v, char *buf, size_t n)
{
	if (v >= 1e9)
		snprintf(buf, n, "%.2fB", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.1fM", v / 1e6);
	else
		snprintf(buf, n, "%.0f", v);
}

uint64_t llmcap_hash_words(uint64_t h, const uint64_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h = (h ^ w[i]) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 29;
	}
	return h;
}

/* splitmix64 finaliser: spreads the hashed (seed, name) over all bits. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* MT19937's recurrence over the whole state: word k becomes word k + 397 (mod 624, already
 * renewed where k + 397 wrapped) xor the twist of word k's top bit and word k + 1's other
 * bits. */
static inline uint32_t mt_twist(uint32_t hi, uint32_t lo)
{
	const uint32_t y = (hi & 0x80000000u) | (lo & 0x7fffffffu);
	return (y >> 1) ^ (-(y & 1u) & 0x9908b0dfu);
}

void llmcap_mt_refill(struct llmcap_mt *m)
{
	enum { N = 624, M = 397 };
	uint32_t *x = m->mt;
	int k = 0;
	for (; k < N - M; k++)
		x[k] = x[k + M] ^ mt_twist(x[k], x[k + 1]);
	for (; k < N - 1; k++)
		x[k] = x[k + M - N] ^ mt_twist(x[k], x[k + 1]);
	x[N - 1] = x[M - 1] ^ mt_twist(x[N - 1], x[0]);
	m->next = 0;
}

/* init_genrand: seed 0 is GSL's "default seed", 4357 */
static void mt_set(void *state, unsigned long seed)
{
	struct llmcap_mt *m = state;
	m->mt[0] = (uint32_t)(seed ? seed : 4357);
	for (uint32_t i = 1; i < 624; i++)
		m->mt[i] = 1812433253u * (m->mt[i - 1] ^ m->mt[i - 1] >> 30) + i;
	m->next = 624;
}

static unsigned long mt_get(void *state)
{
	return llmcap_mt_next(state);
}

static double mt_get_double(void *state)
{
	return (double)llmcap_mt_next(state) / 4294967296.0;
}

const gsl_rng_type llmcap_mt19937 = {.name = "llmcap-mt19937", .max = 0xffffffffUL, .min = 0,
				     .size = sizeof(struct llmcap_mt), .set = mt_set,
				     .get = mt_get, .get_double = mt_get_double};

gsl_rng *llmcap_rng_stream(uint64_t seed, const char *stream_name)
{
	uint64_t h = llmcap_hash_bytes(LLMCAP_HASH_INIT, &seed, sizeof seed);
	h = llmcap_hash_bytes(h, stream_name, strlen(stream_name));
	gsl_rng *r = gsl_rng_alloc(&llmcap_mt19937);
	if (!r)
		return NULL;
	/* mt19937 takes a 32-bit seed; 0 means "default seed" to GSL, so avoid it. */
	unsigned long s = (unsigned long)(mix64(h) & 0xffffffffu);
	gsl_rng_set(r, s ? s : 1);
	return r;
}

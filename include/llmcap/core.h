/* llmcap core: simulated time, units, errors and random-number streams.
 *
 * Units used throughout llmcap (and in every public header):
 *   time      int64 nanoseconds (llmcap_time); a month is ~2.6e15 ns, far within range
 *   tokens    int64 counts
 *   memory    bytes, as double where derived from model arithmetic
 *   money     USD, double
 *   rates     per second, double
 */
#ifndef LLMCAP_CORE_H
#define LLMCAP_CORE_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>

typedef int64_t llmcap_time;

/* llround(x) as a time: inline for values in [0, 2^52), where truncation and the fraction are
 * exact (the same result, without the libm call), llround's own call otherwise. */
static inline llmcap_time llmcap_round_time(double x)
{
	if (x >= 0 && x < 0x1p52) {
		llmcap_time t = (llmcap_time)x;
		return t + (x - (double)t >= 0.5);
	}
	return (llmcap_time)llround(x);
}

#define LLMCAP_NS ((llmcap_time)1)
#define LLMCAP_US ((llmcap_time)1000)
#define LLMCAP_MS ((llmcap_time)1000000)
#define LLMCAP_SEC ((llmcap_time)1000000000)
#define LLMCAP_MIN (60 * LLMCAP_SEC)
#define LLMCAP_HOUR (3600 * LLMCAP_SEC)
#define LLMCAP_DAY (86400 * LLMCAP_SEC)
/* A calendar month for cost purposes: 365.25 / 12 days. */
#define LLMCAP_MONTH_SECONDS (365.25 / 12.0 * 86400.0)

#define LLMCAP_GIB (1024.0 * 1024.0 * 1024.0)

/* Buffer sizes (bytes, with the NUL) of the names (catalog entries, classes, pools, columns)
 * and file names that scenarios and catalogs hold. */
#define LLMCAP_NAME_MAX 48
#define LLMCAP_PATH_MAX 512

/* Error codes, one table so that code, name and message never drift apart. */
#define LLMCAP_ERRNO_MAP(XX)                                   \
	XX(OK, "success")                                      \
	XX(INVAL, "invalid input")                           \
	XX(IO, "input/output error")                           \
	XX(NOMEM, "out of memory")                             \
	XX(CAPACITY, "configuration does not fit its hardware") \
	XX(USAGE, "bad command line")                          \
	XX(CANCELED, "interrupted")

enum llmcap_errno {
#define XX(name, msg) LLMCAP_E##name,
	LLMCAP_ERRNO_MAP(XX)
#undef XX
};

const char *llmcap_strerror(int code);

/* An error with its context: "file:line:column: what was wrong, what was expected". */
struct llmcap_error {
	int code;
	char msg[1024];
};

/* The first non-zero of rcs[0 .. n) (the results of a parallel job's tasks, in task order), with
 * its error copied to err (if not NULL); 0 when every task succeeded. */
int llmcap_first_error(const int *rcs, const struct llmcap_error *errs, size_t n,
		       struct llmcap_error *err);

/* Sets err (if not NULL) and returns -code, so callers can `return llmcap_errorf(...)`. */
int llmcap_errorf(struct llmcap_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Unit parsers. Each returns 0 on success, or -LLMCAP_EINVAL with `why` set to what was
 * expected. All of them reject trailing garbage, NaN and infinity. */
int llmcap_parse_double(const char *s, double *out);
int llmcap_parse_int(const char *s, int64_t *out);
/* "500ms", "1.5s", "2h", "1d", "1w", "250us", "10ns", "3min". A bare number is rejected. */
int llmcap_parse_duration(const char *s, llmcap_time *out);
/* "50000/day", "35/min", "0.5/s", "2/hour", "3/ms"... -> events per second. */
int llmcap_parse_rate(const char *s, double *out_per_s);
/* "80GiB", "81559MiB", "1.5GB", "4096" (bytes) -> bytes. */
int llmcap_parse_bytes(const char *s, double *out_bytes);
/* A count such as a token volume: a number with an optional suffix K (1e3), M (1e6), B (1e9)
 * or T (1e12), e.g. "500M", "5B", "1.2T", "2.7e9". *suffixed says whether it had one (may be
 * NULL): a command can refuse a bare small number that was surely meant in billions. */
int llmcap_parse_count(const char *s, double *out, bool *suffixed);

/* Writes a duration with the largest unit that keeps it exact ("1d", "90s", "1500ms"). */
void llmcap_format_duration(llmcap_time t, char *buf, size_t n);
/* Writes a rate as "<value>/<unit>" choosing a readable unit. */
void llmcap_format_rate(double per_s, char *buf, size_t n);
/* Formats a number with %.17g then trims it to the shortest form that round-trips. */
void llmcap_format_double(double v, char *buf, size_t n);

/* Random streams. Every source of randomness (arrivals, the class mix, each class's prompt
 * and output lengths, routing) owns one generator seeded from (scenario seed, stream name),
 * so that changing how one source draws never shifts another source's draws. */
gsl_rng *llmcap_rng_stream(uint64_t seed, const char *stream_name);

/* The streams' generator: MT19937 (Matsumoto and Nishimura 1998), seeded as in their 2002
 * init_genrand, as a GSL generator type, so that GSL's distributions draw from it. Its output
 * is the same sequence as GSL's own gsl_rng_mt19937 for the same seed (tests/test_units.c
 * compares them word for word), so the streams did not change when it replaced it. The draws
 * below inline it where the traffic generator draws millions of times (GSL reaches a
 * generator through two function pointers a draw). */
struct llmcap_mt {
	uint32_t mt[624];
	uint32_t next; /* the next word of mt to temper; 624: draw a new block */
};
extern const gsl_rng_type llmcap_mt19937;
void llmcap_mt_refill(struct llmcap_mt *m);

static inline uint32_t llmcap_mt_next(struct llmcap_mt *m)
{
	if (__builtin_expect(m->next >= 624, 0))
		llmcap_mt_refill(m);
	uint32_t y = m->mt[m->next++];
	y ^= y >> 11;
	y ^= y << 7 & 0x9d2c5680u;
	y ^= y << 15 & 0xefc60000u;
	return y ^ y >> 18;
}

/* gsl_rng_uniform(r): [0, 1), a word over 2^32; GSL's own call for other generator types. */
static inline double llmcap_rng_uniform(const gsl_rng *r)
{
	if (__builtin_expect(r->type == &llmcap_mt19937, 1))
		return (double)llmcap_mt_next(r->state) / 4294967296.0;
	return gsl_rng_uniform(r);
}

/* gsl_rng_uniform_int(r, n) for 0 < n <= 2^32 - 1: [0, n), by division with rejection. */
static inline unsigned long llmcap_rng_uniform_int(const gsl_rng *r, unsigned long n)
{
	if (r->type != &llmcap_mt19937 || n == 0 || n > 0xffffffffUL)
		return gsl_rng_uniform_int(r, n);
	const unsigned long scale = 0xffffffffUL / n;
	unsigned long k;
	do
		k = llmcap_mt_next(r->state) / scale;
	while (k >= n);
	return k;
}

/* gsl_ran_exponential(r, mu), the same operations (the same bits). */
static inline double llmcap_ran_exponential(const gsl_rng *r, double mu)
{
	return -mu * log1p(-llmcap_rng_uniform(r));
}

/* A lognormal: exp of a normal drawn by GSL's ziggurat (Marsaglia and Tsang), which takes one
 * generator word per draw almost always, where the polar Box-Muller method took two or three
 * words, a log, a square root and a division. */
static inline double llmcap_ran_lognormal(const gsl_rng *r, double zeta, double sigma)
{
	return exp(zeta + gsl_ran_gaussian_ziggurat(r, sigma));
}

/* Runs fn(arg) on `threads` threads at once and waits for them all; where no thread can be
 * started, the caller's thread runs it once. fn takes its work from arg itself. */
void llmcap_run_threads(void *(*fn)(void *), void *arg, long threads);
/* Calls fn(ctx, i) once for each i in [0, n) on up to `threads` threads, handing out indices
 * as threads become free (items take different times). */
void llmcap_parallel_for(size_t n, long threads, void (*fn)(void *ctx, size_t i), void *ctx);

/* A count for reports: 2.70B, 19.9M, or the whole number below a million. */
void llmcap_format_count(double v, char *buf, size_t n);
/* Money for every text report: whole dollars with thousands separated, "$273,200" ("-$1,500"
 * below zero); "n/a" when v is not finite. */
void llmcap_format_usd(double v, char *buf, size_t n);

/* 64-bit FNV-1a, used for stream seeds and sweep identities. */
uint64_t llmcap_hash_bytes(uint64_t h, const void *data, size_t n);
/* A word at a time (a multiply and a shift per 64-bit word): the run digest, which hashes
 * every request's record. */
uint64_t llmcap_hash_words(uint64_t h, const uint64_t *w, size_t n);
#define LLMCAP_HASH_INIT UINT64_C(1469598103934665603)

#endif

/* Bounded memory of trace replay: generates an Azure-2024-style CSV of N rows (default
 * 5,000,000, ~230 MB), then reads it with `llmcap trace stats`' code and replays it as the
 * workload's arrival stream (the first pass over the file and the replay itself), printing the
 * peak resident set size after a tenth of the rows and after all of them. Memory stays flat:
 * the readers hold one line, not the file.
 *
 * usage: trace_memory [ROWS] [DIR]   (the file is removed at the end) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "llmcap/trace.h"
#include "llmcap/scenario.h"

static double peak_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Rows a few tens of milliseconds apart over a week, with Azure 2024's timestamp style
 * (microseconds, a time zone, sometimes no fraction). */
static int generate(const char *path, long rows)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "TIMESTAMP,ContextTokens,GeneratedTokens\n");
	unsigned long long x = 88172645463325252ULL;
	long long us = 0;
	for (long i = 0; i < rows; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		us += (long long)(x % 72000);
		if (x % 50 == 0) /* on the second: Azure then writes no fraction */
			us = (us / 1000000 + 1) * 1000000;
		long long s = us / 1000000, frac = us % 1000000;
		int d = 10 + (int)(s / 86400), h = (int)(s / 3600 % 24), m = (int)(s / 60 % 60), sec = (int)(s % 60);
		if (frac == 0)
			fprintf(f, "2024-05-%02d %02d:%02d:%02d+00:00,%llu,%llu\n", d, h, m, sec, 1 + x % 8000,
				x / 8000 % 700);
		else
			fprintf(f, "2024-05-%02d %02d:%02d:%02d.%06lld+00:00,%llu,%llu\n", d, h, m, sec, frac,
				1 + x % 8000, x / 8000 % 700);
	}
	return fclose(f);
}

static int measure(const char *path, long rows)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	char set[600];
	snprintf(set, sizeof set, "workload.trace.file=%s", path);
	const char *sets[] = {"workload.classes={c: {pool: p}}", set, "horizon=8d"};
	for (int i = 0; i < 3; i++)
		if (llmcap_scenario_apply_override(sc, sets[i], &err) != 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	double t0 = now_s();
	struct llmcap_trace_stats st;
	if (llmcap_trace_stats(path, &sc->workload.trace, &st, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double t1 = now_s();
	struct llmcap_workload wl;
	if (llmcap_workload_init(&wl, sc, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	long n = 0;
	while (llmcap_workload_next_arrival(&wl) < sc->horizon) {
		size_t c = llmcap_workload_pick_class(&wl);
		int64_t p, o;
		llmcap_workload_lengths(&wl, c, &p, &o);
		n++;
	}
	llmcap_workload_free(&wl);
	double t2 = now_s();
	printf("%9ld rows: stats %.2f s (%.1fM rows/s), replay (2 passes) %.2f s (%.1fM rows/s), "
	       "replayed %ld, peak RSS %.1f MiB\n", rows, t1 - t0, (double)rows / (t1 - t0) / 1e6,
	       t2 - t1, (double)rows / (t2 - t1) / 1e6, n, peak_mib());
	free(sc);
	return n == rows ? 0 : 1;
}

int main(int argc, char **argv)
{
	long rows = argc > 1 ? atol(argv[1]) : 5000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char small[512], large[512];
	snprintf(small, sizeof small, "%s/llmcap-bench-%d-small.csv", dir, (int)getpid());
	snprintf(large, sizeof large, "%s/llmcap-bench-%d-large.csv", dir, (int)getpid());
	printf("peak RSS at start %.1f MiB\n", peak_mib());
	int rc = 1;
	if (generate(small, rows / 10) == 0 && generate(large, rows) == 0) {
		FILE *f = fopen(large, "r");
		fseek(f, 0, SEEK_END);
		printf("generated %ld rows, %.0f MB (and a tenth of it)\n", rows, (double)ftell(f) / 1e6);
		fclose(f);
		rc = measure(small, rows / 10) | measure(large, rows);
	} else {
		fprintf(stderr, "cannot write the trace under %s\n", dir);
	}
	unlink(small);
	unlink(large);
	return rc;
}

/* The table step-time model: see models/perf_table.h.
 *
 * Format: CSV with a header naming the columns; `tokens` (new tokens in the step) and `ms`
 * (measured step time) are required, `context` (KV-cache tokens read: sum over sequences of
 * context + new tokens) is optional. Lines starting with '#' and blank lines are skipped;
 * other columns are ignored. With `context`, the points must form a full grid (every tokens
 * value at every context value): step times are interpolated bilinearly (gsl_interp2d).
 * Without it, linearly over tokens. */
#include "perf_table.h"

#include <errno.h>
#include <gsl/gsl_interp2d.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct llmcap_perf_table {
	double *x, *y, *z; /* tokens, context (2 values {0, 1} for a 1-D table), ms (z[j nx + i]) */
	size_t nx, ny;
	bool has_context;
	gsl_interp2d *interp;
};

struct point {
	double tokens, context, ms;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorted distinct values of one coordinate. */
static double *distinct(const struct point *p, size_t n, size_t off, size_t *count)
{
	double *v = malloc(n * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&p[i] + off);
	qsort(v, n, sizeof *v, cmp_double);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	*count = k;
	return v;
}

static size_t find(const double *v, size_t n, double x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void llmcap_perf_table_free(struct llmcap_perf_table *t)
{
	if (!t)
		return;
	gsl_interp2d_free(t->interp);
	free(t->x);
	free(t->y);
	free(t->z);
	free(t);
}

/* Splits a line on commas in place; returns the number of fields (at most max). */
static size_t split(char *line, char **fields, size_t *cols, size_t max)
{
	size_t n = 0;
	char *s = line;
	while (n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		fields[n] = s;
		cols[n] = (size_t)(s - line) + 1;
		n++;
		char *c = strchr(s, ',');
		char *end = c ? c : s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
			end--;
		if (!c) {
			*end = '\0';
			break;
		}
		*end = '\0';
		s = c + 1;
	}
	return n;
}

int llmcap_perf_table_load(struct llmcap_perf_table **out, const char *path, const char *where,
			   struct llmcap_error *err)
{
	*out = NULL;
	if (!path || !*path)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: no file given; expected table: {path: FILE.csv} with columns "
				     "tokens, [context,] ms",
				     where);
	FILE *f = fopen(path, "r");
	if (!f)
		return llmcap_errorf(err, LLMCAP_EIO, "%s: '%s': cannot open: %s", where, path,
				     strerror(errno));
	char line[4096];
	long lineno = 0;
	int ci_tokens = -1, ci_context = -1, ci_ms = -1;
	size_t n = 0, cap = 0;
	struct point *pts = NULL;
	int rc = 0;
	bool header = false;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
			continue;
		char *fields[64];
		size_t cols[64];
		size_t nf = split(line, fields, cols, 64);
		if (!header) {
			for (size_t i = 0; i < nf; i++) {
				if (!strcmp(fields[i], "tokens"))
					ci_tokens = (int)i;
				else if (!strcmp(fields[i], "context"))
					ci_context = (int)i;
				else if (!strcmp(fields[i], "ms"))
					ci_ms = (int)i;
			}
			if (ci_tokens < 0 || ci_ms < 0) {
				rc = llmcap_errorf(err, LLMCAP_EINVAL,
						   "%s:%ld:1: header '%s' lacks %s; expected columns tokens, "
						   "[context,] ms (%s)",
						   path, lineno, fields[0], ci_tokens < 0 ? "'tokens'" : "'ms'",
						   where);
				goto done;
			}
			header = true;
			continue;
		}
		struct point p = {0};
		int want[3] = {ci_tokens, ci_context, ci_ms};
		double *dst[3] = {&p.tokens, &p.context, &p.ms};
		const char *names[3] = {"tokens", "context", "ms"};
		for (int k = 0; k < 3; k++) {
			if (want[k] < 0)
				continue;
			if ((size_t)want[k] >= nf) {
				rc = llmcap_errorf(err, LLMCAP_EINVAL,
						   "%s:%ld: column '%s' is missing; expected %d fields (%s)",
						   path, lineno, names[k], want[k] + 1, where);
				goto done;
			}
			char *end;
			errno = 0;
			double v = strtod(fields[want[k]], &end);
			bool ok = end != fields[want[k]] && *end == '\0' && errno == 0 && isfinite(v);
			if (!ok || v < 0 || (k == 2 && v <= 0)) {
				rc = llmcap_errorf(err, LLMCAP_EINVAL,
						   "%s:%ld:%zu: %s: '%s' is not valid; expected a %s number (%s)",
						   path, lineno, cols[want[k]], names[k], fields[want[k]],
						   k == 2 ? "positive" : "non-negative", where);
				goto done;
			}
			*dst[k] = v;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			struct point *np = realloc(pts, cap * sizeof *np);
			if (!np) {
				rc = llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
				goto done;
			}
			pts = np;
		}
		pts[n++] = p;
	}
	if (!header || n == 0) {
		rc = llmcap_errorf(err, LLMCAP_EINVAL, "%s: no data rows; expected a header and rows of "
				   "tokens, [context,] ms (%s)", path, where);
		goto done;
	}
	struct llmcap_perf_table *t = calloc(1, sizeof *t);
	if (!t) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	t->has_context = ci_context >= 0;
	t->x = distinct(pts, n, offsetof(struct point, tokens), &t->nx);
	if (t->has_context) {
		t->y = distinct(pts, n, offsetof(struct point, context), &t->ny);
	} else {
		t->y = malloc(2 * sizeof *t->y);
		t->ny = 2;
		if (t->y) {
			t->y[0] = 0;
			t->y[1] = 1;
		}
	}
	t->z = t->x && t->y ? malloc(t->nx * t->ny * sizeof *t->z) : NULL;
	if (!t->z) {
		llmcap_perf_table_free(t);
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	if (t->nx < 2 || (t->has_context && t->ny < 2)) {
		llmcap_perf_table_free(t);
		rc = llmcap_errorf(err, LLMCAP_EINVAL,
				   "%s: needs at least 2 distinct values of tokens%s to interpolate; got "
				   "%zu (%s)",
				   path, ci_context >= 0 ? " and of context" : "", n, where);
		goto done;
	}
	size_t cells = t->nx * (t->has_context ? t->ny : 1);
	if (n != cells) {
		rc = llmcap_errorf(err, LLMCAP_EINVAL,
				   "%s: %zu rows for %zu tokens x %zu context values; expected a full "
				   "grid of %zu rows, each (tokens, context) once (%s)",
				   path, n, t->nx, t->has_context ? t->ny : 1, cells, where);
		llmcap_perf_table_free(t);
		goto done;
	}
	for (size_t i = 0; i < t->nx * t->ny; i++)
		t->z[i] = NAN;
	for (size_t k = 0; k < n; k++) {
		size_t i = find(t->x, t->nx, pts[k].tokens);
		size_t j0 = t->has_context ? find(t->y, t->ny, pts[k].context) : 0;
		size_t j1 = t->has_context ? j0 : 1;
		for (size_t j = j0; j <= j1; j++)
			t->z[j * t->nx + i] = pts[k].ms * 1e-3;
	}
	for (size_t i = 0; i < t->nx * t->ny; i++)
		if (isnan(t->z[i])) {
			rc = llmcap_errorf(err, LLMCAP_EINVAL,
					   "%s: tokens %g appears twice or (tokens, context) pairs do not "
					   "form a full grid; expected each pair once (%s)",
					   path, t->x[i % t->nx], where);
			llmcap_perf_table_free(t);
			goto done;
		}
	t->interp = gsl_interp2d_alloc(gsl_interp2d_bilinear, t->nx, t->ny);
	if (!t->interp || gsl_interp2d_init(t->interp, t->x, t->y, t->z, t->nx, t->ny) != 0) {
		llmcap_perf_table_free(t);
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "%s: cannot set up the interpolation", path);
		goto done;
	}
	*out = t;
done:
	free(pts);
	fclose(f);
	return rc;
}

double llmcap_perf_table_eval(const struct llmcap_perf_table *t, double tokens, double context,
			      enum llmcap_table_range mode, bool *out_of_range)
{
	double x = tokens, y = t->has_context ? context : 0;
	double xc = fmin(fmax(x, t->x[0]), t->x[t->nx - 1]);
	double yc = fmin(fmax(y, t->y[0]), t->y[t->ny - 1]);
	*out_of_range = xc != x || yc != y;
	double v;
	if (*out_of_range && mode == LLMCAP_TABLE_EXTRAPOLATE)
		/* bilinear continuation of the edge cell */
		v = gsl_interp2d_eval_extrap(t->interp, t->x, t->y, t->z, x, y, NULL, NULL);
	else
		v = gsl_interp2d_eval(t->interp, t->x, t->y, t->z, xc, yc, NULL, NULL);
	return v > 0 ? v : 0;
}

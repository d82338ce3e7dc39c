/* The table-driven YAML walker (see include/llmcap/schema.h): scalar conversion with ranges,
 * the walk that applies a YAML mapping onto a struct by its field table with located errors,
 * the length-distribution and sweep-entry forms that spec.h's data takes, defaults, the YAML
 * writer and the Markdown reference. Knows nothing of what a scenario or a catalog means:
 * anything more goes through a field's hook. */
#include "llmcap/schema.h"

#include <assert.h>
#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scalar conversion ---- */

static void *at(void *base, size_t off)
{
	return (char *)base + off;
}

static const void *cat_(const void *base, size_t off)
{
	return (const char *)base + off;
}

static bool is_null_text(const char *s)
{
	return strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

static const char *type_expectation(const struct llmcap_field *f)
{
	switch (f->type) {
	case LLMCAP_T_STR: return "a string";
	case LLMCAP_T_INT: return f->flags & LLMCAP_F_AUTO ? "an integer or auto" : "an integer";
	case LLMCAP_T_U64: return "a non-negative integer";
	case LLMCAP_T_DOUBLE:
		if (f->flags & LLMCAP_F_COUNT)
			return f->flags & LLMCAP_F_NULL ? "a count, e.g. 2.7e9, 500M, 5B or 1.2T, or null"
							: "a count, e.g. 2.7e9, 500M, 5B or 1.2T";
		return f->flags & LLMCAP_F_NULL ? "a number or null" : "a number";
	case LLMCAP_T_BOOL: return "true or false";
	case LLMCAP_T_DURATION:
		return f->flags & LLMCAP_F_AUTO ? "a duration with a unit (ns, us, ms, s, min, h, d, w), e.g. "
					   "500ms, or auto"
					 : "a duration with a unit (ns, us, ms, s, min, h, d, w), e.g. 500ms";
	case LLMCAP_T_RATE:
		return f->flags & LLMCAP_F_NULL ? "a rate with a unit, e.g. 50000/day, 35/min, 0.5/s, or null"
					 : "a rate with a unit, e.g. 50000/day, 35/min, 0.5/s";
	case LLMCAP_T_BYTES: return "a size, e.g. 80GiB, 81559MiB, 1.5GB or a number of bytes";
	case LLMCAP_T_ENUM: return "one of the listed names";
	case LLMCAP_T_SECTION: return "a mapping";
	case LLMCAP_T_MAP: return "a mapping of names to entries";
	case LLMCAP_T_DIST: return "a mapping such as {dist: lognormal, median: 600, sigma: 0.8}";
	case LLMCAP_T_LIST: return "a list of numbers, e.g. [1, 2.5, 3]";
	case LLMCAP_T_PATH: return "a file name";
	case LLMCAP_T_SPECMAP: return "a mapping of keys to a list or a SPEC such as 10:200:10/s";
	}
	return "a value";
}

/* Describes the numeric range for messages, in the field's own unit. */
static void range_text(const struct llmcap_field *f, char *buf, size_t n)
{
	char lo[64], hi[64] = "";
	bool has_max = (f->flags & LLMCAP_F_HAS_MAX) != 0;
	/* a bound that is not set may be infinite: only format the ones in the message */
	if (f->type == LLMCAP_T_DURATION) {
		llmcap_format_duration((llmcap_time)f->min, lo, sizeof lo);
		if (has_max)
			llmcap_format_duration((llmcap_time)f->max, hi, sizeof hi);
	} else {
		llmcap_format_double(f->min, lo, sizeof lo);
		if (has_max)
			llmcap_format_double(f->max, hi, sizeof hi);
	}
	if (f->type == LLMCAP_T_RATE) { /* stored per second */
		strcat(lo, "/s");
		if (has_max)
			strcat(hi, "/s");
	}
	const char *what = (f->type == LLMCAP_T_INT) ? "an integer" : "a value";
	if (has_max)
		snprintf(buf, n, "%s %s %s and <= %s", what, (f->flags & LLMCAP_F_MIN_EXCL) ? ">" : ">=",
			 lo, hi);
	else
		snprintf(buf, n, "%s %s %s", what, (f->flags & LLMCAP_F_MIN_EXCL) ? ">" : ">=", lo);
}

static bool in_range(const struct llmcap_field *f, double v)
{
	if (f->min == 0 && f->max == 0)
		return true; /* no range given */
	if ((f->flags & LLMCAP_F_MIN_EXCL) ? !(v > f->min) : !(v >= f->min))
		return false;
	if ((f->flags & LLMCAP_F_HAS_MAX) && !(v <= f->max))
		return false;
	return true;
}

/* Converts text into the field's storage. On failure writes what was expected into `why`. */
static int convert_scalar(const struct llmcap_field *f, const char *s, void *dst, char *why, size_t wn)
{
	double v = 0;
	switch (f->type) {
	case LLMCAP_T_STR:
	case LLMCAP_T_PATH: {
		if (strlen(s) >= f->size) {
			snprintf(why, wn, "a string of at most %zu characters", f->size - 1);
			return -1;
		}
		if (is_null_text(s))
			s = "";
		strcpy(dst, s);
		return 0;
	}
	case LLMCAP_T_BOOL:
		if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
			*(bool *)dst = true;
		else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
			*(bool *)dst = false;
		else
			goto type_error;
		return 0;
	case LLMCAP_T_ENUM:
		for (int i = 0; f->names[i]; i++)
			if (!strcmp(s, f->names[i])) {
				*(int *)dst = i;
				return 0;
			}
		{
			size_t k = (size_t)snprintf(why, wn, "one of:");
			for (int i = 0; f->names[i] && k < wn; i++)
				k += (size_t)snprintf(why + k, wn - k, " %s", f->names[i]);
		}
		return -1;
	case LLMCAP_T_U64: {
		char *end;
		errno = 0;
		if (*s == '-' || !*s)
			goto type_error;
		unsigned long long u = strtoull(s, &end, 10);
		if (*end || errno)
			goto type_error;
		*(uint64_t *)dst = u;
		return 0;
	}
	case LLMCAP_T_INT: {
		int64_t i;
		if ((f->flags & LLMCAP_F_AUTO) && !strcmp(s, "auto")) {
			*(int64_t *)dst = 0;
			return 0;
		}
		if (llmcap_parse_int(s, &i) != 0)
			goto type_error;
		if (!in_range(f, (double)i))
			goto range_error;
		*(int64_t *)dst = i;
		return 0;
	}
	case LLMCAP_T_DOUBLE:
		if ((f->flags & LLMCAP_F_NULL) && is_null_text(s)) {
			*(double *)dst = NAN;
			return 0;
		}
		if ((f->flags & LLMCAP_F_COUNT) ? llmcap_parse_count(s, &v, NULL) != 0
						: llmcap_parse_double(s, &v) != 0)
			goto type_error;
		break;
	case LLMCAP_T_RATE:
		if ((f->flags & LLMCAP_F_NULL) && is_null_text(s)) {
			*(double *)dst = NAN;
			return 0;
		}
		if (llmcap_parse_rate(s, &v) != 0)
			goto type_error;
		break;
	case LLMCAP_T_BYTES:
		if (llmcap_parse_bytes(s, &v) != 0)
			goto type_error;
		break;
	case LLMCAP_T_DURATION: {
		llmcap_time t;
		if ((f->flags & LLMCAP_F_AUTO) && !strcmp(s, "auto")) {
			*(llmcap_time *)dst = -1;
			return 0;
		}
		if (llmcap_parse_duration(s, &t) != 0)
			goto type_error;
		if (!in_range(f, (double)t))
			goto range_error;
		*(llmcap_time *)dst = t;
		return 0;
	}
	default:
		goto type_error;
	}
	if (!in_range(f, v))
		goto range_error;
	*(double *)dst = v;
	return 0;
type_error:
	snprintf(why, wn, "%s", type_expectation(f));
	return -1;
range_error:
	range_text(f, why, wn);
	return -1;
}

static void format_scalar(const struct llmcap_field *f, const void *src, char *buf, size_t n)
{
	switch (f->type) {
	case LLMCAP_T_STR:
	case LLMCAP_T_PATH: snprintf(buf, n, "%s", (const char *)src); return;
	case LLMCAP_T_BOOL: snprintf(buf, n, "%s", *(const bool *)src ? "true" : "false"); return;
	case LLMCAP_T_ENUM: snprintf(buf, n, "%s", f->names[*(const int *)src]); return;
	case LLMCAP_T_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)src); return;
	case LLMCAP_T_INT:
		if ((f->flags & LLMCAP_F_AUTO) && *(const int64_t *)src == 0)
			snprintf(buf, n, "auto");
		else
			snprintf(buf, n, "%lld", (long long)*(const int64_t *)src);
		return;
	case LLMCAP_T_DOUBLE:
		if (isnan(*(const double *)src))
			snprintf(buf, n, "null");
		else
			llmcap_format_double(*(const double *)src, buf, n);
		return;
	case LLMCAP_T_BYTES: llmcap_format_double(*(const double *)src, buf, n); return;
	case LLMCAP_T_RATE:
		if (isnan(*(const double *)src))
			snprintf(buf, n, "null");
		else
			llmcap_format_rate(*(const double *)src, buf, n);
		return;
	case LLMCAP_T_DURATION:
		if ((f->flags & LLMCAP_F_AUTO) && *(const llmcap_time *)src < 0)
			snprintf(buf, n, "auto");
		else
			llmcap_format_duration(*(const llmcap_time *)src, buf, n);
		return;
	default: snprintf(buf, n, "?"); return;
	}
}

/* ---- the YAML walker ---- */

struct walk {
	const char *origin;   /* file name, or NULL for an override */
	const char *override; /* the --set argument */
	const char *base_dir; /* relative file names in values are relative to it (NULL: cwd) */
	struct llmcap_error *err;
	int root_line, root_col; /* where the root node starts, for errors about it (0: unknown) */
};

static void where(const struct walk *w, struct fy_node *n, char *buf, size_t len)
{
	if (!w->origin) {
		snprintf(buf, len, "--set '%s'", w->override);
		return;
	}
	struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
	if (m)
		snprintf(buf, len, "%s:%d:%d", w->origin, m->line + 1, m->column + 1);
	else if (!n && w->root_line) /* only the top level has no key node */
		snprintf(buf, len, "%s:%d:%d", w->origin, w->root_line, w->root_col);
	else
		snprintf(buf, len, "%s", w->origin);
}

static int fail(const struct walk *w, struct fy_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const struct walk *w, struct fy_node *n, const char *fmt, ...)
{
	char loc[600], msg[800];
	where(w, n, loc, sizeof loc);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return llmcap_errorf(w->err, LLMCAP_EINVAL, "%s: %s", loc, msg);
}

static void join(char *out, size_t n, const char *path, const char *key)
{
	if (path && *path)
		snprintf(out, n, "%s.%s", path, key);
	else
		snprintf(out, n, "%s", key);
}

static const char *kind_name(struct fy_node *n)
{
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING: return "a mapping";
	case FYNT_SEQUENCE: return "a list";
	default: return "a scalar";
	}
}

static void list_keys(const struct llmcap_section *s, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", s->fields[i].key);
}

static int apply_section(const struct walk *w, const struct llmcap_section *s, void *base,
			 struct fy_node *map, const char *path, struct fy_node *keynode);
static void set_defaults(const struct llmcap_section *s, void *base);

static int apply_scalar(const struct walk *w, const struct llmcap_field *f, void *dst,
			struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_scalar(val))
		return fail(w, keynode, "%s: expected %s, got %s", path, type_expectation(f),
			    kind_name(val));
	const char *s = fy_node_get_scalar0(val);
	char why[256];
	if (!s)
		return llmcap_errorf(w->err, LLMCAP_ENOMEM, "out of memory");
	if (convert_scalar(f, s, dst, why, sizeof why) != 0)
		return fail(w, val, "%s: '%s' is not valid; expected %s", path, s, why);
	return 0;
}

/* Makes a file name given in a scenario absolute: a relative name is relative to the scenario
 * file's folder (the current directory for the built-in scenario and for --set), so that a
 * scenario and its data move together and `llmcap config` output loads from anywhere. The file
 * must be readable now: the error points at the value. */
static int resolve_path(const struct walk *w, struct fy_node *v, const char *path,
			const char *name, char *out, size_t n)
{
	char joined[2 * LLMCAP_PATH_MAX + 2];
	if (name[0] == '/' || !w->base_dir || !*w->base_dir)
		snprintf(joined, sizeof joined, "%s", name);
	else
		snprintf(joined, sizeof joined, "%s/%s", w->base_dir, name);
	char *real = realpath(joined, NULL);
	FILE *f = real ? fopen(real, "rb") : NULL;
	if (!f) {
		int e = errno;
		free(real);
		return fail(w, v, "%s: cannot open '%s': %s; expected a readable file (relative names "
			    "are relative to the scenario file's folder)", path, joined, strerror(e));
	}
	fclose(f);
	if (strlen(real) >= n) {
		free(real);
		return fail(w, v, "%s: '%s' is longer than %zu characters", path, joined, n - 1);
	}
	strcpy(out, real);
	free(real);
	return 0;
}

/* Reads a list of numbers into `dst` (capacity f->max_count); returns the count. */
static int apply_numbers(const struct walk *w, const struct llmcap_field *f, double *dst, size_t *count,
			 struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (fy_node_is_scalar(val) && is_null_text(fy_node_get_scalar0(val))) {
		*count = 0;
		return 0;
	}
	if (!fy_node_is_sequence(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode, "%s: expected %s, got %s", path,
			    type_expectation(f), kind_name(val));
	int n = fy_node_sequence_item_count(val);
	if (n < 0 || (size_t)n > f->max_count ||
	    (n != 0 && f->len_a && (size_t)n != f->len_a && (size_t)n != f->len_b)) {
		if (f->len_a && f->len_a != f->len_b)
			return fail(w, keynode, "%s: %d numbers; expected %zu or %zu (or an empty list)",
				    path, n, f->len_a, f->len_b);
		if (f->len_a)
			return fail(w, keynode, "%s: %d numbers; expected %zu (or an empty list)", path,
				    n, f->len_a);
		return fail(w, keynode, "%s: %d numbers; expected at most %zu", path, n, f->max_count);
	}
	const struct llmcap_field elem = {.type = LLMCAP_T_DOUBLE, .min = f->min, .max = f->max,
				   .flags = f->flags & (LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX)};
	double tmp[LLMCAP_HIST_MAX + LLMCAP_HOURS_PER_WEEK];
	assert(f->max_count <= sizeof tmp / sizeof tmp[0]);
	for (int i = 0; i < n; i++) {
		struct fy_node *item = fy_node_sequence_get_by_index(val, i);
		char p[280];
		snprintf(p, sizeof p, "%s[%d]", path, i);
		if (apply_scalar(w, &elem, &tmp[i], item, item, p) != 0)
			return -LLMCAP_EINVAL;
	}
	memcpy(dst, tmp, (size_t)n * sizeof *dst);
	*count = (size_t)n;
	return 0;
}

static int apply_list(const struct walk *w, const struct llmcap_field *f, void *base, struct fy_node *val,
		      struct fy_node *keynode, const char *path)
{
	double tmp[LLMCAP_HOURS_PER_WEEK];
	size_t n;
	int rc = apply_numbers(w, f, tmp, &n, val, keynode, path);
	if (rc)
		return rc;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += tmp[i];
	if (n > 0 && !(sum > 0))
		return fail(w, keynode, "%s: every value is 0; expected at least one positive rate", path);
	memcpy(at(base, f->offset), tmp, n * sizeof tmp[0]);
	*(size_t *)at(base, f->count_offset) = n;
	return 0;
}

/* A file name; the field's hook may read the file at once (a rate profile), so that a bad file
 * is reported at the value's line. */
static int apply_one_path(const struct walk *w, const struct llmcap_field *f, void *base,
			  struct fy_node *val, struct fy_node *keynode, const char *path, char *dst);

/* A path field with max_count > 1 takes one file name or a list of them: char[max_count][size]
 * at offset, the count (size_t) at count_offset. */
static int apply_path(const struct walk *w, const struct llmcap_field *f, void *base, struct fy_node *val,
		      struct fy_node *keynode, const char *path)
{
	if (f->max_count <= 1)
		return apply_one_path(w, f, base, val, keynode, path, at(base, f->offset));
	size_t *count = at(base, f->count_offset);
	char *arr = at(base, f->offset);
	if (!fy_node_is_sequence(val)) {
		int rc = apply_one_path(w, f, base, val, keynode, path, arr);
		*count = rc == 0 && arr[0] ? 1 : 0;
		return rc;
	}
	int n = fy_node_sequence_item_count(val);
	if (n < 0 || (size_t)n > f->max_count)
		return fail(w, keynode, "%s: %d file names; expected at most %zu", path, n, f->max_count);
	*count = 0;
	for (int i = 0; i < n; i++) {
		int rc = apply_one_path(w, f, base, fy_node_sequence_get_by_index(val, i), keynode, path,
					arr + (size_t)i * f->size);
		if (rc)
			return rc;
		*count += arr[(size_t)i * f->size] != '\0';
	}
	return 0;
}

static int apply_one_path(const struct walk *w, const struct llmcap_field *f, void *base,
			  struct fy_node *val, struct fy_node *keynode, const char *path, char *dst)
{
	char name[LLMCAP_PATH_MAX];
	const struct llmcap_field tf = {.type = LLMCAP_T_PATH, .size = sizeof name};
	if (apply_scalar(w, &tf, name, val, keynode, path) != 0)
		return -LLMCAP_EINVAL;
	if (!*name) {
		dst[0] = '\0';
	} else if (resolve_path(w, val, path, name, dst, f->size) != 0) {
		return -LLMCAP_EINVAL;
	}
	if (!f->hook)
		return 0;
	struct llmcap_error perr = {0};
	if (f->hook(f, base, dst, &perr) != 0)
		return fail(w, val, "%s: %s", path, perr.msg);
	return 0;
}

/* Distribution keys valid per kind, in the order they are written. */
static const char *const dist_keys[][8] = {
	[LLMCAP_DIST_FIXED] = {"dist", "value", NULL},
	[LLMCAP_DIST_UNIFORM] = {"dist", "min", "max", NULL},
	[LLMCAP_DIST_LOGNORMAL] = {"dist", "median", "sigma", "mean", "p99", "min", "max", NULL},
	[LLMCAP_DIST_NORMAL] = {"dist", "mean", "sd", "min", "max", NULL},
	[LLMCAP_DIST_GEOMETRIC] = {"dist", "mean", "min", "max", NULL},
	[LLMCAP_DIST_ZIPF] = {"dist", "exponent", "min", "max", NULL},
	[LLMCAP_DIST_HISTOGRAM] = {"dist", "edges", "weights", "min", "max", NULL},
	[LLMCAP_DIST_TRACE] = {"dist", "file", "column", "min", "max", NULL},
};

/* The z-score of the 99th percentile of a standard normal. */
#define Z99 2.3263478740408408

static int apply_dist(const struct walk *w, struct llmcap_dist *d, struct fy_node *val,
		      struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_mapping(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode,
			    "%s: expected a mapping such as {dist: lognormal, median: 600, sigma: 0.8}, got %s",
			    path, kind_name(val));
	struct fy_node *kn = fy_node_mapping_lookup_by_string(val, "dist", FY_NT);
	struct llmcap_dist nd = *d;
	bool fresh = false;
	if (kn) {
		static const struct llmcap_field kf = {.key = "dist", .type = LLMCAP_T_ENUM, .names = llmcap_dist_names};
		char p[256];
		join(p, sizeof p, path, "dist");
		int kind;
		if (apply_scalar(w, &kf, &kind, kn, kn, p) != 0)
			return -LLMCAP_EINVAL;
		if ((enum llmcap_dist_kind)kind != d->kind) {
			fresh = true;
			memset(&nd, 0, sizeof nd);
			nd.kind = (enum llmcap_dist_kind)kind;
			nd.value = nd.median = nd.sigma = nd.mean = nd.sd = nd.exponent = NAN;
			nd.min = 1;
			nd.max = 131072;
		}
	}
	bool have_min = false, have_max = false, have_edges = false, have_weights = false;
	size_t n_edges = 0, n_weights = 0;
	double ln_mean = NAN, ln_p99 = NAN;
	struct fy_node *ln_node = NULL, *hist_node = NULL;
	bool ln_classic = false;
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(val, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *key = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!key)
			return fail(w, k, "%s: keys must be plain names", path);
		if (!strcmp(key, "dist"))
			continue;
		bool valid = false;
		for (int i = 0; dist_keys[nd.kind][i]; i++)
			valid |= !strcmp(key, dist_keys[nd.kind][i]);
		if (!valid) {
			char keys[128] = "";
			for (int i = 0; dist_keys[nd.kind][i]; i++)
				snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s",
					 i ? ", " : "", dist_keys[nd.kind][i]);
			return fail(w, k, "unknown key '%s' in %s (a %s distribution); valid keys: %s",
				    key, path, llmcap_dist_names[nd.kind], keys);
		}
		char p[256];
		join(p, sizeof p, path, key);
		if (!v)
			return fail(w, k, "%s: missing value", p);
		static const struct llmcap_field pos = {.type = LLMCAP_T_DOUBLE, .min = 0, .max = 1e9,
						 .flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX};
		if (!strcmp(key, "value")) {
			double x;
			if (apply_scalar(w, &pos, &x, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (x != floor(x))
				return fail(w, v, "%s: '%s' is not valid; expected a whole number of tokens", p,
					    fy_node_get_scalar0(v));
			nd.value = x;
		} else if (!strcmp(key, "median")) {
			if (apply_scalar(w, &pos, &nd.median, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			ln_classic = true;
		} else if (!strcmp(key, "sigma")) {
			static const struct llmcap_field sg = {.type = LLMCAP_T_DOUBLE, .min = 0, .max = 10,
							.flags = LLMCAP_F_HAS_MAX};
			if (apply_scalar(w, &sg, &nd.sigma, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			ln_classic = true;
		} else if (!strcmp(key, "mean")) {
			double x;
			if (apply_scalar(w, &pos, &x, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (nd.kind == LLMCAP_DIST_GEOMETRIC && x < 1)
				return fail(w, v, "%s: '%s' is not valid; expected a value >= 1 (lengths start "
					    "at 1 token)", p, fy_node_get_scalar0(v));
			if (nd.kind == LLMCAP_DIST_LOGNORMAL) {
				ln_mean = x;
				ln_node = k;
			} else {
				nd.mean = x;
			}
		} else if (!strcmp(key, "p99")) {
			if (apply_scalar(w, &pos, &ln_p99, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			ln_node = k;
		} else if (!strcmp(key, "sd")) {
			static const struct llmcap_field sd = {.type = LLMCAP_T_DOUBLE, .min = 0, .max = 1e9,
							.flags = LLMCAP_F_HAS_MAX};
			if (apply_scalar(w, &sd, &nd.sd, v, k, p) != 0)
				return -LLMCAP_EINVAL;
		} else if (!strcmp(key, "exponent")) {
			static const struct llmcap_field ex = {.type = LLMCAP_T_DOUBLE, .min = 0, .max = 20,
							.flags = LLMCAP_F_MIN_EXCL | LLMCAP_F_HAS_MAX};
			if (apply_scalar(w, &ex, &nd.exponent, v, k, p) != 0)
				return -LLMCAP_EINVAL;
		} else if (!strcmp(key, "edges") || !strcmp(key, "weights")) {
			bool edges = !strcmp(key, "edges");
			const struct llmcap_field lf = {.type = LLMCAP_T_LIST, .min = 0, .max = edges ? 1 << 24 : HUGE_VAL,
						 .flags = LLMCAP_F_HAS_MAX,
						 .max_count = edges ? LLMCAP_HIST_MAX + 1 : LLMCAP_HIST_MAX};
			size_t n;
			if (apply_numbers(w, &lf, edges ? nd.edges : nd.weights, &n, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			hist_node = k;
			if (edges) {
				for (size_t i = 0; i < n; i++)
					if (nd.edges[i] != floor(nd.edges[i]) || (i && nd.edges[i] <= nd.edges[i - 1]))
						return fail(w, v, "%s: edge %zu (%g) is not valid; expected whole "
							    "numbers of tokens in increasing order", p, i, nd.edges[i]);
				have_edges = true;
				n_edges = n;
			} else {
				have_weights = true;
				n_weights = n;
			}
		} else if (!strcmp(key, "file")) {
			char name[LLMCAP_PATH_MAX];
			const struct llmcap_field tf = {.type = LLMCAP_T_PATH, .size = sizeof name};
			if (apply_scalar(w, &tf, name, v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (!*name)
				return fail(w, v, "%s: empty; expected a CSV file name", p);
			if (resolve_path(w, v, p, name, nd.file, sizeof nd.file) != 0)
				return -LLMCAP_EINVAL;
			nd.data = NULL;
			nd.n_data = 0;
		} else if (!strcmp(key, "column")) {
			const struct llmcap_field cf = {.type = LLMCAP_T_STR, .size = sizeof nd.column};
			if (apply_scalar(w, &cf, nd.column, v, k, p) != 0)
				return -LLMCAP_EINVAL;
		} else { /* min, max */
			static const struct llmcap_field mm = {.type = LLMCAP_T_INT, .min = 1, .max = 1 << 24,
							.flags = LLMCAP_F_HAS_MAX};
			if (apply_scalar(w, &mm, !strcmp(key, "min") ? (void *)&nd.min : (void *)&nd.max,
					 v, k, p) != 0)
				return -LLMCAP_EINVAL;
			if (!strcmp(key, "min"))
				have_min = true;
			else
				have_max = true;
		}
	}
	/* A new kind must bring its own parameters; a merge (override) keeps the old ones. */
	struct fy_node *at_node = kn ? kn : keynode;
	if (nd.kind == LLMCAP_DIST_LOGNORMAL && (!isnan(ln_mean) || !isnan(ln_p99))) {
		/* mean = exp(mu + s^2 / 2) and p99 = exp(mu + z s) give s^2 / 2 - z s + ln(p99 / mean)
		 * = 0; the smaller root is the one with p99 above the mean for any s < z. */
		if (ln_classic)
			return fail(w, ln_node, "%s: give median and sigma, or mean and p99, not both", path);
		if (isnan(ln_mean) || isnan(ln_p99))
			return fail(w, ln_node, "%s: a lognormal given by its mean needs 'mean' and 'p99'", path);
		double r = log(ln_p99 / ln_mean);
		if (!(r > 0))
			return fail(w, ln_node, "%s: p99 (%g) must be above the mean (%g) for a lognormal",
				    path, ln_p99, ln_mean);
		if (r > Z99 * Z99 / 2)
			return fail(w, ln_node, "%s: p99 / mean = %g; a lognormal reaches at most %.2f "
				    "(expected a smaller p99 or a larger mean)", path, ln_p99 / ln_mean,
				    exp(Z99 * Z99 / 2));
		nd.sigma = Z99 - sqrt(Z99 * Z99 - 2 * r);
		nd.median = ln_mean * exp(-nd.sigma * nd.sigma / 2);
	}
	if (nd.kind == LLMCAP_DIST_FIXED && isnan(nd.value))
		return fail(w, at_node, "%s: a fixed distribution needs 'value'", path);
	if (nd.kind == LLMCAP_DIST_UNIFORM && fresh && !(have_min && have_max))
		return fail(w, at_node, "%s: a uniform distribution needs 'min' and 'max'", path);
	if (nd.kind == LLMCAP_DIST_LOGNORMAL && (isnan(nd.median) || isnan(nd.sigma)))
		return fail(w, at_node,
			    "%s: a lognormal distribution needs 'median' and 'sigma' (or 'mean' and 'p99')",
			    path);
	if (nd.kind == LLMCAP_DIST_NORMAL && (isnan(nd.mean) || isnan(nd.sd)))
		return fail(w, at_node, "%s: a normal distribution needs 'mean' and 'sd'", path);
	if (nd.kind == LLMCAP_DIST_GEOMETRIC && isnan(nd.mean))
		return fail(w, at_node, "%s: a geometric distribution needs 'mean'", path);
	if (nd.kind == LLMCAP_DIST_ZIPF && isnan(nd.exponent))
		return fail(w, at_node, "%s: a zipf distribution needs 'exponent'", path);
	if (nd.kind == LLMCAP_DIST_HISTOGRAM) {
		if (fresh && !(have_edges && have_weights))
			return fail(w, at_node, "%s: a histogram needs 'edges' and 'weights'", path);
		if (have_edges != have_weights)
			return fail(w, at_node, "%s: give 'edges' and 'weights' together", path);
		if (have_weights && n_weights > 0 && n_edges != n_weights + 1)
			return fail(w, hist_node, "%s: %zu edges and %zu weights; expected one edge more "
				    "than weights (bin i is [edges[i], edges[i+1]))", path, n_edges, n_weights);
		if (have_weights)
			nd.n_bins = n_weights;
		if (nd.n_bins == 0)
			return fail(w, hist_node ? hist_node : at_node,
				    "%s: empty histogram; expected at least one bin (edges: [a, b], weights: [w])",
				    path);
		double sum = 0;
		for (size_t i = 0; i < nd.n_bins; i++)
			sum += nd.weights[i];
		if (!(sum > 0))
			return fail(w, hist_node, "%s: every weight is 0; expected at least one positive "
				    "weight", path);
	}
	if (nd.kind == LLMCAP_DIST_TRACE && (!*nd.file || !*nd.column))
		return fail(w, at_node, "%s: a trace distribution needs 'file' and 'column'", path);
	if (nd.min > nd.max)
		return fail(w, at_node, "%s: min (%lld) is greater than max (%lld)", path,
			    (long long)nd.min, (long long)nd.max);
	if (nd.kind == LLMCAP_DIST_FIXED)
		nd.min = nd.max = (int64_t)nd.value;
	*d = nd;
	return 0;
}

static int check_name(const struct walk *w, struct fy_node *k, const char *name, const char *path)
{
	size_t n = strlen(name);
	if (n == 0 || n >= LLMCAP_NAME_MAX)
		return fail(w, k, "%s: name '%s' must have 1 to %d characters", path, name,
			    LLMCAP_NAME_MAX - 1);
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return fail(w, k, "%s: name '%s' may only hold letters, digits, '-', '_' and '.'",
				    path, name);
	return 0;
}

static int apply_map(const struct walk *w, const struct llmcap_field *f, void *base,
		     struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_mapping(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode, "%s: expected %s, got %s", path,
			    type_expectation(f), kind_name(val));
	char *arr = at(base, f->offset);
	size_t *count = at(base, f->count_offset);
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(val, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *name = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!name)
			return fail(w, keynode, "%s: entry names must be plain names", path);
		if (check_name(w, k, name, path) != 0)
			return -LLMCAP_EINVAL;
		char p[256];
		join(p, sizeof p, path, name);
		char *entry = NULL;
		for (size_t i = 0; i < *count; i++)
			if (!strcmp(arr + i * f->elem_size, name))
				entry = arr + i * f->elem_size;
		if (!entry) {
			if (*count == f->max_count)
				return fail(w, k, "%s: too many entries; at most %zu", path, f->max_count);
			entry = arr + (*count)++ * f->elem_size;
			memset(entry, 0, f->elem_size);
			set_defaults(f->sub, entry);
			strcpy(entry, name); /* every map entry starts with its name */
			/* and, where it has one, the place it was defined (for cross-checks) */
			char loc[160];
			where(w, k, loc, sizeof loc);
			if (f->where_offset)
				snprintf(entry + f->where_offset, 160, "%s", loc);
		}
		if (fy_node_is_scalar(v) && is_null_text(fy_node_get_scalar0(v)))
			continue; /* "name: ~" declares an entry with all defaults */
		int rc = apply_section(w, f->sub, entry, v, p, k);
		if (rc)
			return rc;
	}
	return 0;
}

/* sweep.vary and sweep.sets: each entry is a key path (or a set name) and a scalar SPEC or a
 * list of scalars, stored as text joined with commas (as `--vary` takes them). The field's hook
 * checks a vary SPEC now, so that a bad one is reported at its line; named sets are resolved by
 * the sweep, which has the catalog. An entry given again replaces the earlier one in its place;
 * null removes it. */

static int apply_specmap(const struct walk *w, const struct llmcap_field *f, void *base,
			 struct fy_node *val, struct fy_node *keynode, const char *path)
{
	if (!fy_node_is_mapping(val))
		return fail(w, fy_node_is_scalar(val) ? val : keynode, "%s: expected %s, got %s", path,
			    type_expectation(f), kind_name(val));
	bool is_vary = (f->flags & LLMCAP_F_KEYPATH) != 0;
	struct llmcap_sweep_entry *arr = at(base, f->offset);
	size_t *count = at(base, f->count_offset);
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(val, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *name = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!name)
			return fail(w, keynode, "%s: entry names must be plain names", path);
		size_t nl = strlen(name);
		if (nl == 0 || nl >= sizeof arr->name)
			return fail(w, k, "%s: '%s' must have 1 to %zu characters", path, name,
				    sizeof arr->name - 1);
		for (const char *c = name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
			      (*c == '.' && is_vary)))
				return fail(w, k, "%s: '%s' may only hold letters, digits, '-', '_'%s", path,
					    name, is_vary ? " and '.' (a key path such as workload.rate)" : "");
		for (int r = 0; f->reserved && f->reserved[r]; r++)
			if (!strcmp(name, f->reserved[r])) {
				char sets[256];
				size_t used = 0;
				sets[0] = '\0';
				for (int q = 0; f->reserved[q] && used < sizeof sets; q++)
					used += (size_t)snprintf(sets + used, sizeof sets - used, "%s@%s",
								 q ? ", " : "", f->reserved[q]);
				return fail(w, k, "%s: '%s' is a built-in set (%s); choose another name", path,
					    name, sets);
			}
		char p[400];
		snprintf(p, sizeof p, "%s.%s", path, name);
		size_t idx = *count;
		for (size_t i = 0; i < *count; i++)
			if (!strcmp(arr[i].name, name))
				idx = i;
		if (!v || (fy_node_is_scalar(v) && is_null_text(fy_node_get_scalar0(v)))) {
			if (idx < *count) {
				memmove(&arr[idx], &arr[idx + 1], (*count - idx - 1) * sizeof *arr);
				(*count)--;
			}
			continue;
		}
		char spec[LLMCAP_SWEEP_SPEC_MAX];
		size_t len = 0;
		if (fy_node_is_scalar(v)) {
			const char *t = fy_node_get_scalar0(v);
			if (!t)
				return llmcap_errorf(w->err, LLMCAP_ENOMEM, "out of memory");
			if (!*t || strlen(t) >= sizeof spec)
				return fail(w, v, "%s: '%s' is %s", p, t,
					    *t ? "too long (1023 characters at most)" : "empty");
			if (!is_vary)
				return fail(w, v, "%s: expected a list of values, e.g. [h100-sxm-80gb, "
					    "h200-141gb], got a scalar", p);
			len = (size_t)snprintf(spec, sizeof spec, "%s", t);
		} else if (fy_node_is_sequence(v)) {
			int n = fy_node_sequence_item_count(v);
			if (n <= 0)
				return fail(w, k, "%s: an empty list; expected at least one value", p);
			for (int i = 0; i < n; i++) {
				struct fy_node *item = fy_node_sequence_get_by_index(v, i);
				const char *t = fy_node_is_scalar(item) ? fy_node_get_scalar0(item) : NULL;
				if (!t || !*t || strchr(t, ',') || strlen(t) >= LLMCAP_SWEEP_VALUE_MAX ||
				    (!is_vary && t[0] == '@'))
					return fail(w, item && fy_node_is_scalar(item) ? item : k,
						    "%s[%d]: expected a value of 1 to %d "
						    "characters without commas%s, got %s%.80s%s", p, i,
						    LLMCAP_SWEEP_VALUE_MAX - 1,
						    is_vary ? "" : " (a set cannot name another set)",
						    t ? "'" : kind_name(item), t ? t : "", t ? "'" : "");
				if (len + strlen(t) + 2 > sizeof spec)
					return fail(w, k, "%s: the list is too long (1023 characters at most)", p);
				len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%s", i ? "," : "", t);
			}
		} else {
			return fail(w, k, "%s: expected a list or a SPEC, got %s%s", p, kind_name(v),
				    is_vary && fy_node_is_mapping(v)
					    ? " (a varied key is one dotted name: sweep.vary: {workload.rate: "
					      "SPEC}; on the command line, --vary KEY=SPEC)"
					    : "");
		}
		if (f->hook) {
			/* e.g. the same parser as --vary: a bad range is reported here, at its line */
			char arg[sizeof arr->name + sizeof spec + 2];
			snprintf(arg, sizeof arg, "%s=%s", name, spec);
			struct llmcap_error perr = {0};
			if (f->hook(f, base, arg, &perr) != 0)
				return fail(w, fy_node_is_scalar(v) ? v : k, "%s: %s", p, perr.msg);
		}
		if (idx == *count) {
			if (*count == f->max_count)
				return fail(w, k, "%s: too many entries; at most %zu", path, f->max_count);
			(*count)++;
		}
		struct llmcap_sweep_entry *e = &arr[idx];
		memset(e, 0, sizeof *e);
		snprintf(e->name, sizeof e->name, "%s", name);
		snprintf(e->spec, sizeof e->spec, "%s", spec);
		where(w, k, e->where, sizeof e->where);
	}
	return 0;
}

static int apply_section(const struct walk *w, const struct llmcap_section *s, void *base,
			 struct fy_node *map, const char *path, struct fy_node *keynode)
{
	if (!fy_node_is_mapping(map))
		return fail(w, fy_node_is_scalar(map) ? map : keynode, "%s: expected a mapping, got %s",
			    *path ? path : "top level", kind_name(map));
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *key = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!key)
			return fail(w, keynode, "%s: keys must be plain names", *path ? path : "top level");
		const struct llmcap_field *f = NULL;
		for (size_t i = 0; i < s->n; i++)
			if (!strcmp(s->fields[i].key, key))
				f = &s->fields[i];
		if (!f) {
			char keys[512];
			list_keys(s, keys, sizeof keys);
			return fail(w, k, "unknown key '%s' in %s; valid keys: %s", key,
				    *path ? path : "the top level", keys);
		}
		char p[256];
		join(p, sizeof p, path, key);
		int rc;
		if (!v)
			return fail(w, k, "%s: missing value", p);
		struct fy_node *altv = f->alt ? fy_node_mapping_lookup_by_string(map, f->alt, FY_NT) : NULL;
		if (altv && !(fy_node_is_scalar(altv) && is_null_text(fy_node_get_scalar0(altv))) &&
		    !(fy_node_is_scalar(v) && is_null_text(fy_node_get_scalar0(v)))) {
			char q[256];
			join(q, sizeof q, path, f->alt);
			return fail(w, k, "%s and %s are alternatives; expected one of them", p, q);
		}
		switch (f->type) {
		case LLMCAP_T_SECTION: rc = apply_section(w, f->sub, at(base, f->offset), v, p, k); break;
		case LLMCAP_T_MAP: rc = apply_map(w, f, base, v, k, p); break;
		case LLMCAP_T_DIST: rc = apply_dist(w, at(base, f->offset), v, k, p); break;
		case LLMCAP_T_LIST: rc = apply_list(w, f, base, v, k, p); break;
		case LLMCAP_T_PATH: rc = apply_path(w, f, base, v, k, p); break;
		case LLMCAP_T_SPECMAP: rc = apply_specmap(w, f, base, v, k, p); break;
		default: rc = apply_scalar(w, f, at(base, f->offset), v, k, p); break;
		}
		if (rc)
			return rc;
		/* Giving one of two alternatives (rate, tokens_per_month) unsets the other, so that
		 * an override of either replaces what the file said. */
		if (f->alt && !isnan(*(double *)at(base, f->offset)))
			for (size_t i = 0; i < s->n; i++)
				if (!strcmp(s->fields[i].key, f->alt))
					*(double *)at(base, s->fields[i].offset) = NAN;
	}
	return 0;
}

/* ---- defaults ---- */

struct diag_capture {
	char text[512];
	bool got;
};

/* The first collected error as libfyaml would print its first line ("L:C: error: text").
 * Errors are collected, not printed, because libfyaml 0.7.12 crashes printing the source
 * excerpt of some errors (a multi-line quoted scalar with long lines: "wrongly indented"),
 * and formats every message it prints, so discarding the output does not avoid it (found
 * by the override fuzzer; tests/test_config.c long_quoted_scalar_error). */
static void collected_error(struct fy_diag *diag, struct diag_capture *c)
{
	void *it = NULL;
	struct fy_diag_error *e;
	while (!c->got && (e = fy_diag_errors_iterate(diag, &it)) != NULL) {
		if (e->type != FYET_ERROR || !e->msg)
			continue;
		snprintf(c->text, sizeof c->text, "%d:%d: error: %s", e->line, e->column,
			 e->msg);
		char *nl = strchr(c->text, '\n');
		if (nl)
			*nl = '\0';
		c->got = true;
	}
}

static void diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	struct diag_capture *c = user;
	/* Skip blank lines and libfyaml's unlocated summaries ("[ERR]: ... failed"): an empty or
	 * comment-only document produces only those. */
	if (c->got || len == 0 || buf[0] == '\n' || buf[0] == '[')
		return;
	/* libfyaml writes "<memory-@...>:L:C: error: message\n" then the source line and a
	 * caret; keep the first line only, without libfyaml's own name for the input. */
	size_t n = len < sizeof c->text - 1 ? len : sizeof c->text - 1;
	memcpy(c->text, buf, n);
	c->text[n] = '\0';
	char *nl = strchr(c->text, '\n');
	if (nl)
		*nl = '\0';
	c->got = true;
}

/* Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) or is a NUL; len when the text is clean. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			lo = c == 0xE0 ? 0xA0 : 0x80;
			hi = c == 0xED ? 0x9F : 0xBF;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			lo = c == 0xF0 ? 0x90 : 0x80;
			hi = c == 0xF4 ? 0x8F : 0xBF;
		} else {
			return i;
		}
		if (i + n >= len) /* truncated sequence */
			return i;
		for (size_t k = 1; k <= n; k++) {
			unsigned b = s[i + k];
			if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
				return i;
		}
		i += n + 1;
	}
	return len;
}

/* ---- a streaming pass before the document is built ----
 * libfyaml's document builder checks duplicate keys by comparing each new key with every
 * earlier one (50,000 keys: 100 s), keeps ~170 bytes per byte of a file of small nodes (30 MB:
 * 5 GB), reads only the first document of a stream and leaves aliases as nodes whose text is
 * the anchor's name. This pass over the parser's events (constant memory but the keys)
 * refuses all of that with a location first, so that the builder only ever sees one document
 * of at most LLMCAP_YAML_MAX_NODES nodes without anchors, aliases or duplicate keys (and is
 * told to skip its own duplicate check). */

struct key_seen {
	char *text;
	size_t len, order;
	int line, col;
};

struct scan_frame {
	bool map;
	size_t children; /* nodes completed inside; in a mapping, even ones are keys */
	size_t first_key; /* this mapping's keys are keys[first_key, n_keys) */
};

struct scan {
	const char *origin, *override;
	struct llmcap_error *err;
	struct scan_frame *frames;
	size_t n_frames, cap_frames;
	struct key_seen *keys;
	size_t n_keys, cap_keys, order;
	size_t nodes, docs;
	int root_line, root_col; /* where the first document's root starts (1-based; 0: none) */
	bool root_seen;
};

static int scan_fail(struct scan *sc, const struct fy_mark *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int scan_fail(struct scan *sc, const struct fy_mark *m, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!sc->origin)
		return llmcap_errorf(sc->err, LLMCAP_EINVAL, "--set '%s': %s", sc->override, msg);
	if (m)
		return llmcap_errorf(sc->err, LLMCAP_EINVAL, "%s:%d:%d: %s", sc->origin, m->line + 1,
				     m->column + 1, msg);
	return llmcap_errorf(sc->err, LLMCAP_EINVAL, "%s: %s", sc->origin, msg);
}

static int key_cmp(const void *a, const void *b)
{
	const struct key_seen *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->text, y->text, n);
	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts the keys of the mapping that ends and reports the first repeated one (in file order). */
static int scan_mapping_end(struct scan *sc, size_t first)
{
	size_t n = sc->n_keys - first;
	if (n == 0)
		return 0; /* also before any key: keys is still NULL (found by tests/fuzz) */
	struct key_seen *k = sc->keys + first;
	qsort(k, n, sizeof *k, key_cmp);
	const struct key_seen *dup = NULL, *orig = NULL;
	for (size_t i = 1; i < n; i++)
		if (k[i].len == k[i - 1].len && !memcmp(k[i].text, k[i - 1].text, k[i].len) &&
		    (!dup || k[i].order < dup->order)) {
			dup = &k[i];
			size_t j = i - 1;
			while (j > 0 && k[j - 1].len == k[i].len && !memcmp(k[j - 1].text, k[i].text, k[i].len))
				j--;
			orig = &k[j];
		}
	int rc = 0;
	if (dup) {
		struct fy_mark m = {.line = dup->line, .column = dup->col};
		char q[120];
		/* the text is UTF-8 (checked before); a quoted key may still hold control bytes */
		size_t qn = 0;
		for (size_t i = 0; i < dup->len && qn + 4 < sizeof q; i++) {
			unsigned char c = (unsigned char)dup->text[i];
			qn += (size_t)snprintf(q + qn, sizeof q - qn, c < 0x20 || c == 0x7F ? "\\x%02X" : "%c", c);
		}
		q[qn] = '\0';
		rc = scan_fail(sc, &m, "duplicate key '%s' (first at line %d); expected each key once "
			       "in a mapping", q, orig->line + 1);
	}
	for (size_t i = 0; i < n; i++)
		free(k[i].text);
	sc->n_keys = first;
	return rc;
}

/* One event; returns 0, or a negative code with err set. */
static int scan_event(struct scan *sc, struct fy_event *ev)
{
	const struct fy_mark *m = fy_event_start_mark(ev);
	enum fy_event_type t = ev->type;
	if (t == FYET_DOCUMENT_START && ++sc->docs > 1)
		return scan_fail(sc, m, "a second YAML document starts here; expected one document "
				 "(a scenario is one mapping; remove the '---' or split the file)");
	bool node = t == FYET_SCALAR || t == FYET_ALIAS || t == FYET_MAPPING_START ||
		    t == FYET_SEQUENCE_START;
	if (!node && t != FYET_MAPPING_END && t != FYET_SEQUENCE_END)
		return 0;
	if (node) {
		if (++sc->nodes > LLMCAP_YAML_MAX_NODES)
			return scan_fail(sc, m, "more than %d YAML nodes (keys, values, list items); "
					 "expected a smaller file", LLMCAP_YAML_MAX_NODES);
		if (t == FYET_ALIAS) {
			/* libfyaml marks the alias's name: point at its '*' */
			struct fy_mark star = m ? *m : (struct fy_mark){0};
			if (m && star.column > 0)
				star.column--;
			return scan_fail(sc, m ? &star : NULL, "YAML aliases (*name) are not supported; expected the "
					 "value written out (see docs/scenario.md)");
		}
		struct fy_token *anchor = fy_event_get_anchor_token(ev);
		if (anchor) {
			/* libfyaml marks the anchor's name: point at its '&' */
			const struct fy_mark *am = fy_token_start_mark(anchor);
			struct fy_mark amp = am ? *am : m ? *m : (struct fy_mark){0};
			if (am && amp.column > 0)
				amp.column--;
			return scan_fail(sc, &amp, "YAML anchors (&name) are not supported; "
					 "expected the value written out (see docs/scenario.md)");
		}
		if (!sc->root_seen) {
			sc->root_seen = true;
			sc->root_line = m ? m->line + 1 : 0;
			sc->root_col = m ? m->column + 1 : 0;
		}
	}
	struct scan_frame *top = sc->n_frames ? &sc->frames[sc->n_frames - 1] : NULL;
	if (t == FYET_SCALAR && top && top->map && top->children % 2 == 0) {
		size_t len;
		const char *text = fy_token_get_text(fy_event_get_token(ev), &len);
		if (sc->n_keys == sc->cap_keys) {
			size_t cap = sc->cap_keys ? 2 * sc->cap_keys : 64;
			struct key_seen *nk = realloc(sc->keys, cap * sizeof *nk);
			if (!nk)
				return llmcap_errorf(sc->err, LLMCAP_ENOMEM, "out of memory");
			sc->keys = nk;
			sc->cap_keys = cap;
		}
		char *copy = malloc(len + 1);
		if (!copy)
			return llmcap_errorf(sc->err, LLMCAP_ENOMEM, "out of memory");
		if (len)
			memcpy(copy, text, len);
		copy[len] = '\0';
		sc->keys[sc->n_keys++] = (struct key_seen){.text = copy, .len = len,
							   .order = sc->order++,
							   .line = m ? m->line : 0,
							   .col = m ? m->column : 0};
	}
	if (t == FYET_MAPPING_START || t == FYET_SEQUENCE_START) {
		if (sc->n_frames == sc->cap_frames) {
			size_t cap = sc->cap_frames ? 2 * sc->cap_frames : 16;
			struct scan_frame *nf = realloc(sc->frames, cap * sizeof *nf);
			if (!nf)
				return llmcap_errorf(sc->err, LLMCAP_ENOMEM, "out of memory");
			sc->frames = nf;
			sc->cap_frames = cap;
		}
		sc->frames[sc->n_frames++] = (struct scan_frame){.map = t == FYET_MAPPING_START,
								 .first_key = sc->n_keys};
		return 0;
	}
	if (t == FYET_MAPPING_END || t == FYET_SEQUENCE_END) {
		if (!top)
			return 0;
		int rc = top->map ? scan_mapping_end(sc, top->first_key) : 0;
		sc->n_frames--;
		if (rc)
			return rc;
		top = sc->n_frames ? &sc->frames[sc->n_frames - 1] : NULL;
	}
	if (top)
		top->children++;
	return 0;
}

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag, (void)user, (void)buf, (void)len;
}

/* Returns 0 (also on a syntax error: the builder reports it, located), or a negative code. */
static int prescan(struct scan *sc, const char *text, size_t len)
{
	if (len > LLMCAP_YAML_MAX_BYTES)
		return scan_fail(sc, NULL, "%zu bytes; expected a YAML text of at most %d MiB",
				 len, LLMCAP_YAML_MAX_BYTES >> 20);
	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_discard;
	dc.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dc);
	if (diag)
		fy_diag_set_collect_errors(diag, true);
	struct fy_parse_cfg pc;
	memset(&pc, 0, sizeof pc);
	pc.flags = FYPCF_QUIET;
	pc.diag = diag;
	struct fy_parser *fyp = diag ? fy_parser_create(&pc) : NULL;
	if (!fyp || fy_parser_set_string(fyp, text, len) != 0) {
		if (fyp)
			fy_parser_destroy(fyp);
		if (diag)
			fy_diag_destroy(diag);
		return llmcap_errorf(sc->err, LLMCAP_ENOMEM, "out of memory");
	}
	int rc = 0;
	struct fy_event *ev;
	while (rc == 0 && (ev = fy_parser_parse(fyp))) {
		rc = scan_event(sc, ev);
		fy_parser_event_free(fyp, ev);
	}
	for (size_t i = 0; i < sc->n_keys; i++)
		free(sc->keys[i].text);
	free(sc->keys);
	free(sc->frames);
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	return rc;
}

/* Parses YAML text. On a syntax error returns NULL with err set; an empty document gives
 * *empty = true and NULL. */
static struct fy_document *parse_yaml(const char *text, size_t len, const char *origin,
				      const char *override, bool *empty, struct llmcap_error *err,
				      int *root_line, int *root_col)
{
	/* YAML is Unicode text; libfyaml 0.8 also loops forever on some invalid bytes (a
	 * directive name with a byte >= 0x80 that is not UTF-8: "%\xff"), so they stop here */
	*empty = false;
	size_t bad = utf8_invalid_at((const unsigned char *)text, len);
	if (bad < len) {
		int line = 1, col = 1;
		for (size_t i = 0; i < bad; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
				col++;
			}
		}
		unsigned byte = (unsigned char)text[bad];
		if (origin)
			llmcap_errorf(err, LLMCAP_EINVAL, "%s:%d:%d: byte 0x%02X is not UTF-8 text; "
				      "expected a UTF-8 YAML file", origin, line, col, byte);
		else
			llmcap_errorf(err, LLMCAP_EINVAL, "--set: byte 0x%02X is not UTF-8 text; "
				      "expected a UTF-8 value", byte);
		return NULL;
	}
	struct scan sc = {.origin = origin, .override = override, .err = err};
	if (prescan(&sc, text, len) != 0)
		return NULL;
	if (root_line) {
		*root_line = sc.root_line;
		*root_col = sc.root_col;
	}
	struct diag_capture cap = {.got = false};
	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_out;
	dc.user = &cap;
	dc.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dc);
	if (!diag)
		return NULL;
	fy_diag_set_collect_errors(diag, true); /* why: collected_error below */
	struct fy_parse_cfg pc;
	memset(&pc, 0, sizeof pc);
	pc.flags = FYPCF_QUIET | FYPCF_ALLOW_DUPLICATE_KEYS; /* checked above, in n log n */
	pc.diag = diag;
	struct fy_document *doc = fy_document_build_from_string(&pc, text, len);
	*empty = false;
	struct fy_node *root = doc ? fy_document_root(doc) : NULL;
	if (root && fy_node_is_scalar(root) && is_null_text(fy_node_get_scalar0(root)))
		root = NULL; /* "~" alone: an empty document */
	if (!root)
		collected_error(diag, &cap);
	if (!root) {
		if (cap.got) {
			/* "<memory-@..>:4:1: error: flow sequence without a closing bracket" */
			const char *msg = cap.text;
			const char *gt = strstr(msg, ">:");
			if (msg[0] == '<' && gt)
				msg = gt + 2;
			/* "4:1: error: text" -> "4:1: text" */
			char clean[512];
			const char *e = strstr(msg, " error: ");
			if (e && (size_t)(e - msg) < 24) {
				snprintf(clean, sizeof clean, "%.*s %s", (int)(e - msg), msg, e + 8);
				msg = clean;
			}
			if (origin)
				llmcap_errorf(err, LLMCAP_EINVAL, "%s:%s (YAML syntax)", origin, msg);
			else
				llmcap_errorf(err, LLMCAP_EINVAL, "--set '%s': %s (YAML syntax)", override,
					      msg);
		} else {
			*empty = true;
		}
		fy_document_destroy(doc);
		doc = NULL;
	}
	fy_diag_destroy(diag);
	return doc;
}

static void set_field_default(const struct llmcap_field *f, void *base)
{
	char why[256];
	if (f->type == LLMCAP_T_PATH && f->max_count > 1) { /* a list of file names: none */
		*(size_t *)at(base, f->count_offset) = 0;
		*(char *)at(base, f->offset) = '\0';
		return;
	}
	switch (f->type) {
	case LLMCAP_T_SECTION: set_defaults(f->sub, at(base, f->offset)); return;
	case LLMCAP_T_MAP: *(size_t *)at(base, f->count_offset) = 0; return;
	case LLMCAP_T_LIST: *(size_t *)at(base, f->count_offset) = 0; return;
	case LLMCAP_T_SPECMAP: *(size_t *)at(base, f->count_offset) = 0; return;
	case LLMCAP_T_DIST: {
		bool empty;
		struct fy_document *doc =
			parse_yaml(f->def, strlen(f->def), "default", NULL, &empty, NULL, NULL, NULL);
		assert(doc);
		struct walk w = {.origin = "default"};
		struct llmcap_dist *d = at(base, f->offset);
		d->kind = (enum llmcap_dist_kind)-1;
		int rc = apply_dist(&w, d, fy_document_root(doc), NULL, f->key);
		assert(rc == 0);
		(void)rc;
		fy_document_destroy(doc);
		return;
	}
	default: {
		int rc = convert_scalar(f, f->def, at(base, f->offset), why, sizeof why);
		assert(rc == 0 && "schema default does not parse");
		(void)rc;
	}
	}
}

static void set_defaults(const struct llmcap_section *s, void *base)
{
	for (size_t i = 0; i < s->n; i++)
		set_field_default(&s->fields[i], base);
}

void llmcap_schema_defaults(const struct llmcap_section *s, void *base)
{
	set_defaults(s, base);
}

int llmcap_schema_apply_text(const struct llmcap_field *root, void *base, const char *text,
			     size_t len, const char *origin, const char *override,
			     const char *base_dir, struct llmcap_error *err)
{
	bool empty;
	int root_line = 0, root_col = 0;
	struct fy_document *doc =
		parse_yaml(text, len, origin, override, &empty, err, &root_line, &root_col);
	if (!doc)
		return empty ? 1 : -LLMCAP_EINVAL;
	struct walk w = {.origin = origin, .override = override, .base_dir = base_dir, .err = err,
			 .root_line = root_line, .root_col = root_col};
	int rc;
	if (root->type == LLMCAP_T_MAP)
		rc = apply_map(&w, root, base, fy_document_root(doc), NULL, root->key);
	else
		rc = apply_section(&w, root->sub, at(base, root->offset), fy_document_root(doc), "",
				   NULL);
	fy_document_destroy(doc);
	return rc;
}

char *llmcap_read_text(const char *path, size_t *len, const char *what, struct llmcap_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		llmcap_errorf(err, LLMCAP_EIO, "%s: cannot open %s: %s", path, what, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap > ((size_t)64 << 20)) {
			llmcap_errorf(err, LLMCAP_EINVAL, "%s: larger than 64 MiB; not a %s", path,
				      what);
			free(buf);
			buf = NULL;
			break;
		}
		char *nb = realloc(buf, cap *= 2);
		if (!nb) {
			free(buf);
			buf = NULL;
		}
		buf = nb;
	}
	if (buf && ferror(f)) {
		llmcap_errorf(err, LLMCAP_EIO, "%s: read error: %s", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n < cap ? n : cap - 1] = '\0';
		*len = n;
	} else if (err && !err->code) {
		llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
	}
	return buf;
}

/* ---- writing ---- */

static void write_numbers(const double *v, size_t n, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "[");
	for (size_t i = 0; i < n && k < len; i++) {
		char x[64];
		llmcap_format_double(v[i], x, sizeof x);
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", x);
	}
	if (k < len)
		snprintf(buf + k, len - k, "]");
}

static void yaml_string(const char *s, char *buf, size_t n);

static void write_dist(const struct llmcap_dist *d, char *buf, size_t n)
{
	char a[64], b[64], e[4096], w[4096], f[LLMCAP_PATH_MAX + 8], c[LLMCAP_NAME_MAX + 8];
	size_t k = 0;
	switch (d->kind) {
	case LLMCAP_DIST_FIXED:
		llmcap_format_double(d->value, a, sizeof a);
		snprintf(buf, n, "{dist: fixed, value: %s}", a);
		return;
	case LLMCAP_DIST_UNIFORM:
		snprintf(buf, n, "{dist: uniform, min: %lld, max: %lld}", (long long)d->min,
			 (long long)d->max);
		return;
	case LLMCAP_DIST_LOGNORMAL:
		llmcap_format_double(d->median, a, sizeof a);
		llmcap_format_double(d->sigma, b, sizeof b);
		k = (size_t)snprintf(buf, n, "{dist: lognormal, median: %s, sigma: %s", a, b);
		break;
	case LLMCAP_DIST_NORMAL:
		llmcap_format_double(d->mean, a, sizeof a);
		llmcap_format_double(d->sd, b, sizeof b);
		k = (size_t)snprintf(buf, n, "{dist: normal, mean: %s, sd: %s", a, b);
		break;
	case LLMCAP_DIST_GEOMETRIC:
		llmcap_format_double(d->mean, a, sizeof a);
		k = (size_t)snprintf(buf, n, "{dist: geometric, mean: %s", a);
		break;
	case LLMCAP_DIST_ZIPF:
		llmcap_format_double(d->exponent, a, sizeof a);
		k = (size_t)snprintf(buf, n, "{dist: zipf, exponent: %s", a);
		break;
	case LLMCAP_DIST_HISTOGRAM:
		write_numbers(d->edges, d->n_bins + 1, e, sizeof e);
		write_numbers(d->weights, d->n_bins, w, sizeof w);
		k = (size_t)snprintf(buf, n, "{dist: histogram, edges: %s, weights: %s", e, w);
		break;
	case LLMCAP_DIST_TRACE:
		yaml_string(d->file, f, sizeof f);
		yaml_string(d->column, c, sizeof c);
		k = (size_t)snprintf(buf, n, "{dist: trace, file: %s, column: %s", f, c);
		break;
	}
	if (k < n)
		snprintf(buf + k, n - k, ", min: %lld, max: %lld}", (long long)d->min, (long long)d->max);
}

/* Quotes a string scalar when YAML would read it as something else. */
static void yaml_string(const char *s, char *buf, size_t n)
{
	bool plain = *s != '\0';
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			plain = false;
	if (plain && !is_null_text(s) && strcmp(s, "true") && strcmp(s, "false"))
		snprintf(buf, n, "%s", s);
	else {
		size_t k = 0;
		buf[k++] = '"';
		for (const char *c = s; *c && k + 3 < n; c++) {
			if (*c == '"' || *c == '\\')
				buf[k++] = '\\';
			buf[k++] = *c;
		}
		buf[k++] = '"';
		buf[k] = '\0';
	}
}

static void write_section(const struct llmcap_section *s, const void *base, FILE *out, int indent,
			  bool comments)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct llmcap_field *f = &s->fields[i];
		char line[9000], val[8192];
		if (f->type == LLMCAP_T_SECTION) {
			fprintf(out, "%*s%s:\n", indent, "", f->key);
			write_section(f->sub, cat_(base, f->offset), out, indent + 2, comments);
			continue;
		}
		if (f->type == LLMCAP_T_MAP) {
			size_t count = *(const size_t *)cat_(base, f->count_offset);
			fprintf(out, "%*s%s:%s\n", indent, "", f->key, count ? "" : " {}");
			for (size_t e = 0; e < count; e++) {
				const char *entry = (const char *)cat_(base, f->offset) + e * f->elem_size;
				yaml_string(entry, val, sizeof val);
				fprintf(out, "%*s%s:\n", indent + 2, "", val);
				write_section(f->sub, entry, out, indent + 4, comments);
			}
			continue;
		}
		if (f->type == LLMCAP_T_SPECMAP) {
			size_t count = *(const size_t *)cat_(base, f->count_offset);
			fprintf(out, "%*s%s:%s\n", indent, "", f->key, count ? "" : " {}");
			for (size_t e = 0; e < count; e++) {
				const struct llmcap_sweep_entry *en =
					(const struct llmcap_sweep_entry *)cat_(base, f->offset) + e;
				char name[300];
				yaml_string(en->name, name, sizeof name);
				if (!(f->flags & LLMCAP_F_KEYPATH)) {
					/* a set is a list: write it as one, each value quoted as needed */
					size_t k = (size_t)snprintf(val, sizeof val, "[");
					for (const char *p = en->spec; p && k < sizeof val;) {
						const char *c = strchr(p, ',');
						char item[LLMCAP_SWEEP_VALUE_MAX], q[2 * LLMCAP_SWEEP_VALUE_MAX + 4];
						snprintf(item, sizeof item, "%.*s", c ? (int)(c - p) : (int)strlen(p), p);
						yaml_string(item, q, sizeof q);
						k += (size_t)snprintf(val + k, sizeof val - k, "%s%s", p == en->spec ? "" : ", ", q);
						p = c ? c + 1 : NULL;
					}
					if (k < sizeof val)
						snprintf(val + k, sizeof val - k, "]");
				} else {
					yaml_string(en->spec, val, sizeof val);
				}
				fprintf(out, "%*s%s: %s\n", indent + 2, "", name, val);
			}
			continue;
		}
		if (f->type == LLMCAP_T_DIST)
			write_dist(cat_(base, f->offset), val, sizeof val);
		else if (f->type == LLMCAP_T_LIST)
			write_numbers(cat_(base, f->offset), *(const size_t *)cat_(base, f->count_offset),
				      val, sizeof val);
		else if (f->type == LLMCAP_T_PATH && f->max_count > 1 &&
			 *(const size_t *)cat_(base, f->count_offset) > 1) {
			/* a list of file names: [a, b] */
			size_t k = 0, n = *(const size_t *)cat_(base, f->count_offset);
			for (size_t j = 0; j < n && k < sizeof val; j++) {
				char one[LLMCAP_PATH_MAX + 8];
				yaml_string(cat_(base, f->offset + j * f->size), one, sizeof one);
				k += (size_t)snprintf(val + k, sizeof val - k, "%s%s%s", j ? ", " : "[", one,
						      j + 1 == n ? "]" : "");
			}
		} else if ((f->type == LLMCAP_T_STR || f->type == LLMCAP_T_PATH) && !*(const char *)cat_(base, f->offset) &&
			 f->def && !strcmp(f->def, "null"))
			snprintf(val, sizeof val, "null");
		else if (f->type == LLMCAP_T_STR || f->type == LLMCAP_T_PATH)
			yaml_string(cat_(base, f->offset), val, sizeof val);
		else
			format_scalar(f, cat_(base, f->offset), val, sizeof val);
		int w = snprintf(line, sizeof line, "%*s%s: %s", indent, "", f->key, val);
		if (comments && f->doc && *f->doc)
			fprintf(out, "%-48s # %s\n", line, f->doc);
		else
			fprintf(out, "%s\n", line);
		(void)w;
	}
}

static const char *type_name(const struct llmcap_field *f)
{
	switch (f->type) {
	case LLMCAP_T_STR: return "string";
	case LLMCAP_T_INT: return "integer";
	case LLMCAP_T_U64: return "integer";
	case LLMCAP_T_DOUBLE: return "number";
	case LLMCAP_T_BOOL: return "boolean";
	case LLMCAP_T_DURATION: return "duration";
	case LLMCAP_T_RATE: return "rate";
	case LLMCAP_T_BYTES: return "size";
	case LLMCAP_T_ENUM: return "name";
	case LLMCAP_T_SECTION: return "mapping";
	case LLMCAP_T_MAP: return "map of entries";
	case LLMCAP_T_DIST: return "distribution";
	case LLMCAP_T_LIST: return "list of numbers";
	case LLMCAP_T_PATH: return "file name";
	case LLMCAP_T_SPECMAP: return "map of lists or SPECs";
	}
	return "";
}

/* A table cell's text with each '|' escaped, so that a doc listing alternatives ("bf16 | fp8")
 * stays in its cell when the Markdown is rendered. */
static void put_cell(const char *text, FILE *out)
{
	for (const char *c = text; *c; c++) {
		if (*c == '|')
			fputc('\\', out);
		fputc(*c, out);
	}
}

static void schema_rows(const struct llmcap_section *s, const char *path, FILE *out)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct llmcap_field *f = &s->fields[i];
		char p[256], def[256] = "", extra[256] = "";
		join(p, sizeof p, path, f->key);
		if (f->type == LLMCAP_T_MAP || f->type == LLMCAP_T_SPECMAP)
			strcat(p, ".NAME");
		if (f->def)
			snprintf(def, sizeof def, "`%s`", f->def[0] ? f->def : "\"\"");
		else if (f->type == LLMCAP_T_MAP || f->type == LLMCAP_T_SPECMAP)
			snprintf(def, sizeof def, "empty");
		if (f->type == LLMCAP_T_ENUM) {
			size_t k = (size_t)snprintf(extra, sizeof extra, " (");
			for (int e = 0; f->names[e]; e++)
				k += (size_t)snprintf(extra + k, sizeof extra - k, "%s`%s`", e ? ", " : "",
						      f->names[e]);
			snprintf(extra + k, sizeof extra - k, ")");
		} else if ((f->min != 0 || f->max != 0) && f->type != LLMCAP_T_SECTION && f->type != LLMCAP_T_MAP &&
			   f->type != LLMCAP_T_LIST) {
			char r[128];
			range_text(f, r, sizeof r);
			snprintf(extra, sizeof extra, " (%s)", r);
		}
		fprintf(out, "| `%s` | %s%s | %s | ", p, type_name(f), extra, def);
		put_cell(f->doc, out);
		fputs(" |\n", out);
		if (f->type == LLMCAP_T_SECTION || f->type == LLMCAP_T_MAP)
			schema_rows(f->sub, p, out);
	}
}

void llmcap_schema_write_yaml(const struct llmcap_section *s, const void *base, FILE *out,
			      bool comments)
{
	write_section(s, base, out, 0, comments);
}

void llmcap_schema_write_markdown(const struct llmcap_section *s, FILE *out)
{
	schema_rows(s, "", out);
}

/* Streamed trace readers: Azure, BurstGPT, Mooncake, generic CSV and llmcap's own CSV.
 * See include/llmcap/trace.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llmcap/trace.h"

#define IO_SIZE (64 * 1024)
#define MAXF 64

static const char *const bad_names[] = {
#define XX(id, name, msg) name,
	LLMCAP_BAD_ROW_MAP(XX)
#undef XX
};
static const char *const bad_msgs[] = {
#define XX(id, name, msg) msg,
	LLMCAP_BAD_ROW_MAP(XX)
#undef XX
};

const char *llmcap_bad_row_name(int reason)
{
	return reason >= 0 && reason < LLMCAP_BAD_N ? bad_names[reason] : "?";
}

const char *llmcap_trace_format_name(enum llmcap_trace_format f)
{
	return llmcap_trace_format_names[f];
}

/* ---- formats ----
 * One row a format, indexed by enum llmcap_trace_format: how automatic detection knows it, its
 * columns and time unit, how its rows are read. Adding a format is an enumerator and its name
 * in spec.h's list and a row here (docs/architecture.md). */
struct format {
	const char *help;  /* for "expected one of" */
	bool json;         /* JSON lines without a header (json_row), detected by a leading '{' */
	/* header names of the time, prompt and output columns; NULL: the scenario's *_column
	 * keys (csv). A format with all three is detected by them, in the table's order. */
	const char *time, *prompt, *output;
	/* the class column: NULL none; "" only workload.trace.class_column; otherwise the default
	 * name, optional unless the scenario names it */
	const char *cls;
	int unit;          /* enum llmcap_time_unit; -1: workload.trace.time_unit */
	bool zero_output_failed; /* a row with 0 output tokens logs a failed request: never ran */
};

static const struct format formats[] = {
	[LLMCAP_TRACE_AZURE] = {"azure (TIMESTAMP,ContextTokens,GeneratedTokens)", false, "TIMESTAMP",
				"ContextTokens", "GeneratedTokens", NULL, LLMCAP_UNIT_DATETIME, false},
	[LLMCAP_TRACE_BURSTGPT] = {"burstgpt (Timestamp,Model,Request tokens,Response tokens,...)",
				   false, "Timestamp", "Request tokens", "Response tokens", "Model",
				   LLMCAP_UNIT_S, true},
	[LLMCAP_TRACE_MOONCAKE] = {"mooncake (JSON lines with timestamp, input_length, output_length, "
				   "hash_ids)", true, NULL, NULL, NULL, NULL, -1, false}, /* json_row reads its times */
	[LLMCAP_TRACE_CSV] = {"csv (any header, with workload.trace.format: csv and its *_column keys)",
			      false, NULL, NULL, NULL, "", -1, false},
	[LLMCAP_TRACE_LLMCAP] = {"llmcap (arrival_s,class,prompt_tokens,output_tokens)", false,
				 "arrival_s", "prompt_tokens", "output_tokens", "class", LLMCAP_UNIT_S,
				 false},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])
_Static_assert(N_FORMATS == LLMCAP_TRACE_LLMCAP + 1, "a row for every trace format");

/* "A, B, ..., or Z": the formats that name their own columns, then the generic csv. */
static const char *known_formats(char *buf, size_t n)
{
	size_t k = 0, listed = 0, total = N_FORMATS - 1; /* AUTO has no row */
	for (int generic = 0; generic < 2; generic++)
		for (size_t i = 1; i < N_FORMATS; i++) {
			const struct format *f = &formats[i];
			if ((f->time || f->json) == (generic == 1))
				continue;
			listed++;
			const char *sep = listed == 1 ? "" : listed == total ? ", or " : ", ";
			if (k < n)
				k += (size_t)snprintf(buf + k, n - k, "%s%s", sep, f->help);
		}
	return buf;
}

/* ---- messages ---- */

/* Up to `max` characters of s for a message, quoted as trace.h's llmcap_trace_shown says. */
static const char *shown(const char *s, size_t max, char *buf, size_t n)
{
	return llmcap_trace_shown(s, strlen(s), max, buf, n);
}

/* ---- time ---- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool digits(const char **p, int n, int64_t *out)
{
	int64_t v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

int llmcap_parse_datetime(const char *s, llmcap_time *out)
{
	int64_t y, mo, d, h, mi, sec, frac = 0;
	const char *p = s;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d) || (*p != ' ' && *p != 'T') || !(++p, digits(&p, 2, &h)) ||
	    *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' || !digits(&p, 2, &sec))
		return -LLMCAP_EINVAL;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || sec > 60)
		return -LLMCAP_EINVAL;
	if (*p == '.') {
		/* 7 digits in the Azure traces; nanoseconds keep 9, more must be zeros */
		p++;
		int n = 0;
		while (*p >= '0' && *p <= '9') {
			if (n < 9)
				frac = frac * 10 + (*p - '0');
			else if (*p != '0')
				return -LLMCAP_EINVAL;
			n++;
			p++;
		}
		if (n == 0)
			return -LLMCAP_EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	int64_t offset = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int64_t oh, om = 0;
		if (!digits(&p, 2, &oh))
			return -LLMCAP_EINVAL;
		if (*p == ':')
			p++;
		if (*p && !digits(&p, 2, &om))
			return -LLMCAP_EINVAL;
		if (oh > 23 || om > 59)
			return -LLMCAP_EINVAL;
		offset = sign * (oh * 3600 + om * 60);
	}
	if (*p)
		return -LLMCAP_EINVAL;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
	/* 64 bits of nanoseconds reach from 1677-09-21 to 2262-04-11: a date outside wrapped
	 * (1500 read as a late date, 2300 as 2015) */
	int64_t ns;
	if (__builtin_mul_overflow(secs, LLMCAP_SEC, &ns) || __builtin_add_overflow(ns, frac, &ns))
		return 1;
	*out = ns;
	return 0;
}

int llmcap_parse_time_number(const char *s, llmcap_time unit, llmcap_time *out)
{
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
		return -LLMCAP_EINVAL;
	int64_t ip = 0;
	bool over = false;
	while (*p >= '0' && *p <= '9') {
		over = over || __builtin_mul_overflow(ip, 10, &ip) ||
		       __builtin_add_overflow(ip, *p - '0', &ip);
		p++;
	}
	/* the fraction in units of 1e-18 of `unit`, then scaled: exact for unit <= 1 s */
	int64_t frac_ns = 0;
	if (*p == '.') {
		p++;
		int64_t scale = unit; /* ns per unit */
		int64_t num = 0, den = 1;
		while (*p >= '0' && *p <= '9') {
			if (den < 1000000000000000000 / 10) {
				num = num * 10 + (*p - '0');
				den *= 10;
			}
			p++;
		}
		frac_ns = (int64_t)((__int128)num * scale / den);
	}
	if (*p)
		return -LLMCAP_EINVAL;
	int64_t v;
	if (over || __builtin_mul_overflow(ip, unit, &v) || __builtin_add_overflow(v, frac_ns, &v))
		return 1; /* a number, but beyond 64 bits of nanoseconds (292 years) */
	*out = neg ? -v : v;
	return 0;
}

/* ---- lines ---- */

/* Fills r->line with the next record (line end removed): one line, or for a CSV trace the
 * lines of a record whose quoted field holds line ends (RFC 4180; kept as '\n'). Returns 1, 0
 * at the end, -1 on a read error. *too_long: the record had more than LLMCAP_TRACE_MAX_LINE
 * bytes (the rest is dropped); *unterminated: the file ended without a line end after it (or
 * inside a quoted field). r->lineno is the record's first line. */
static int read_line(struct llmcap_trace_reader *r, bool *too_long, bool *unterminated)
{
	size_t n = 0, seg = 0; /* seg: where the record's current line starts in r->line */
	long extra = 0;        /* line ends inside the record's quoted fields */
	struct llmcap_csv_quote q = {0};
	bool got = false;
	*too_long = *unterminated = false;
	r->lineno += r->extra_lines;
	r->extra_lines = 0;
	for (;;) {
		if (r->io_pos == r->io_len) {
			if (r->io_eof)
				break;
			r->io_len = fread(r->io, 1, IO_SIZE, r->f);
			r->io_pos = 0;
			if (r->io_len < IO_SIZE) {
				if (ferror(r->f))
					return -1;
				r->io_eof = true;
			}
			if (r->io_len == 0)
				break;
		}
		got = true;
		const char *start = r->io + r->io_pos;
		size_t avail = r->io_len - r->io_pos;
		const char *nl = memchr(start, '\n', avail);
		size_t take = nl ? (size_t)(nl - start) : avail;
		size_t keep = take;
		if (n + keep > LLMCAP_TRACE_MAX_LINE) {
			keep = n < LLMCAP_TRACE_MAX_LINE ? LLMCAP_TRACE_MAX_LINE - n : 0;
			*too_long = true;
		}
		memcpy(r->line + n, start, keep);
		n += keep;
		r->io_pos += take + (nl != NULL);
		if (!nl)
			continue;
		if (r->csv_records && llmcap_csv_quote_open(&q, r->line + seg, n - seg)) {
			if (n > seg && r->line[n - 1] == '\r')
				n--;
			if (n < LLMCAP_TRACE_MAX_LINE)
				r->line[n++] = '\n';
			else
				*too_long = true;
			seg = n;
			extra++;
			continue;
		}
		goto done;
	}
	if (!got)
		return 0;
	*unterminated = true;
done:
	r->lineno++;
	r->extra_lines = extra;
	if (n > 0 && r->line[n - 1] == '\r')
		n--;
	r->line[n] = '\0';
	r->line_len = n;
	return 1;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		uint32_t cp;
		if ((c & 0xE0) == 0xC0) {
			k = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		/* overlong forms, surrogates and code points past U+10FFFF */
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return false;
		i += k + 1;
	}
	return true;
}

/* ---- opening and the header ---- */

static int find_col(char **fields, size_t nf, const char *name)
{
	for (size_t i = 0; i < nf && i < MAXF; i++)
		if (!strcasecmp(fields[i], name))
			return (int)i;
	return -1;
}

static bool blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return !*s || *s == '#';
}

static int header(struct llmcap_trace_reader *r, struct llmcap_error *err)
{
	char known[512];
	bool too_long, unterminated;
	int got;
	while ((got = read_line(r, &too_long, &unterminated)) > 0) {
		if (r->lineno == 1 && (unsigned char)r->line[0] == 0xEF && r->line_len >= 3)
			memmove(r->line, r->line + 3, r->line_len - 2); /* UTF-8 byte order mark */
		if (!blank_or_comment(r->line))
			break;
		r->counts.blank++;
	}
	if (got < 0)
		return llmcap_errorf(err, LLMCAP_EIO, "%s: read error: %s", r->path, strerror(errno));
	if (got == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL, "%s: empty; expected a trace: %s", r->path,
				     known_formats(known, sizeof known));
	if (too_long)
		return llmcap_errorf(err, LLMCAP_EINVAL, "%s:%ld: first line longer than 1 MiB; "
				     "expected a header or a JSON object", r->path, r->lineno);
	const char *s = r->line;
	while (*s == ' ' || *s == '\t')
		s++;
	const struct llmcap_trace_cfg *cfg = r->cfg;
	if (formats[r->fmt].json || (r->fmt == LLMCAP_TRACE_AUTO && *s == '{')) {
		r->fmt = LLMCAP_TRACE_MOONCAKE;
		/* no header: the first line is a row; read it again */
		if (fseek(r->f, 0, SEEK_SET) != 0)
			return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot seek: %s", r->path, strerror(errno));
		r->io_len = r->io_pos = 0;
		r->io_eof = false;
		r->lineno = r->extra_lines = 0;
		return 0;
	}
	char copy[4 * 200 + 8];
	shown(r->line, 200, copy, sizeof copy);
	char *fields[MAXF];
	size_t nf = llmcap_csv_split(r->line, fields, MAXF);
	r->n_cols = (int)(nf < MAXF ? nf : MAXF);
	for (size_t i = 1; r->fmt == LLMCAP_TRACE_AUTO && i < N_FORMATS; i++) {
		const struct format *f = &formats[i];
		if (f->time && find_col(fields, nf, f->time) >= 0 &&
		    find_col(fields, nf, f->prompt) >= 0 && find_col(fields, nf, f->output) >= 0)
			r->fmt = (enum llmcap_trace_format)i;
	}
	if (r->fmt == LLMCAP_TRACE_AUTO)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s:%ld: header '%s' is not a known trace format; expected "
				     "one of: %s", r->path, r->lineno, copy,
				     known_formats(known, sizeof known));
	const struct format *f = &formats[r->fmt];
	const char *want[4] = {f->time, f->prompt, f->output, NULL}; /* time, prompt, output, class */
	if (!f->time)
		want[0] = cfg->time_column, want[1] = cfg->prompt_column, want[2] = cfg->output_column;
	if (f->cls)
		want[3] = cfg->class_column[0] ? cfg->class_column : *f->cls ? f->cls : NULL;
	r->unit = f->unit >= 0 ? (enum llmcap_time_unit)f->unit : cfg->time_unit;
	r->col_class = -1;
	int *cols[4] = {&r->col_time, &r->col_prompt, &r->col_output, &r->col_class};
	for (int i = 0; i < 4; i++) {
		if (!want[i])
			continue;
		*cols[i] = find_col(fields, nf, want[i]);
		/* a format's default class column (BurstGPT's Model) is optional unless classes come
		 * from it */
		if (*cols[i] < 0 && !(i == 3 && !cfg->class_column[0]))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s:%ld: no column '%s' in the header '%s'; expected the %s "
					     "format's columns%s", r->path, r->lineno, want[i], copy,
					     llmcap_trace_format_name(r->fmt),
					     f->time ? "" : " (workload.trace.*_column)");
	}
	r->csv_records = true; /* rows may hold quoted line ends */
	return 0;
}

int llmcap_trace_open(struct llmcap_trace_reader *r, const char *path,
		      const struct llmcap_trace_cfg *cfg, struct llmcap_error *err)
{
	memset(r, 0, sizeof *r);
	r->cfg = cfg;
	r->fmt = cfg->format;
	r->skip_bad = cfg->bad_rows == LLMCAP_BAD_ROWS_SKIP;
	r->col_class = -1;
	snprintf(r->path, sizeof r->path, "%s", path);
	r->f = fopen(path, "rb");
	if (!r->f)
		return llmcap_errorf(err, LLMCAP_EIO, "cannot open trace file '%s': %s", path,
				     strerror(errno));
	r->io = malloc(IO_SIZE);
	r->line = malloc(LLMCAP_TRACE_MAX_LINE + 1);
	if (!r->io || !r->line) {
		llmcap_trace_close(r);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
	}
	int rc = header(r, err);
	if (rc)
		llmcap_trace_close(r);
	return rc;
}

int llmcap_trace_rewind(struct llmcap_trace_reader *r, struct llmcap_error *err)
{
	struct llmcap_trace_counts keep = r->counts;
	enum llmcap_trace_format fmt = r->fmt;
	if (fseek(r->f, 0, SEEK_SET) != 0)
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot seek: %s", r->path, strerror(errno));
	r->io_len = r->io_pos = 0;
	r->io_eof = false;
	r->lineno = r->extra_lines = 0;
	r->csv_records = false; /* the header is one line */
	r->have_last = false;
	r->fmt = fmt;
	int rc = header(r, err);
	r->counts = keep;
	return rc;
}

void llmcap_trace_close(struct llmcap_trace_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->io);
	free(r->line);
	free(r->hash);
	memset(r, 0, sizeof *r);
}

/* ---- rows ---- */

struct bad {
	int reason;
	char detail[320];
};

static int bad(struct bad *b, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct bad *b, int reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	b->reason = reason;
	vsnprintf(b->detail, sizeof b->detail, fmt, ap);
	va_end(ap);
	return -1;
}

static int tokens(const char *s, const char *what, int64_t *out, struct bad *b)
{
	double v;
	char q[4 * 40 + 8];
	if (!*s)
		return bad(b, LLMCAP_BAD_MISSING_FIELD, "%s is empty; expected a number of tokens", what);
	/* converting a double beyond int64_t's range is undefined: past 2^62 every double is a
	 * whole number anyway, and the range checks below refuse it */
	if (llmcap_parse_double(s, &v) != 0 || (fabs(v) < 0x1p62 && v != (double)(int64_t)v))
		return bad(b, LLMCAP_BAD_NOT_A_NUMBER, "%s is '%s'; expected a whole number of tokens",
			   what, shown(s, 40, q, sizeof q));
	if (v < 0)
		return bad(b, LLMCAP_BAD_NEGATIVE, "%s is %.15g; expected a number of tokens >= 0", what, v);
	if (v > LLMCAP_TRACE_MAX_TOKENS)
		return bad(b, LLMCAP_BAD_TOO_LARGE, "%s is %.15g; expected at most %d tokens", what, v,
			   LLMCAP_TRACE_MAX_TOKENS);
	*out = (int64_t)v;
	return 0;
}

static int timestamp(const struct llmcap_trace_reader *r, const char *s, llmcap_time *t, struct bad *b)
{
	static const llmcap_time unit_ns[] = {LLMCAP_SEC, LLMCAP_MS, LLMCAP_US, LLMCAP_NS};
	if (!*s)
		return bad(b, LLMCAP_BAD_MISSING_FIELD, "the timestamp is empty");
	char q[4 * 60 + 8];
	int rc = r->unit == LLMCAP_UNIT_DATETIME ? llmcap_parse_datetime(s, t)
						 : llmcap_parse_time_number(s, unit_ns[r->unit], t);
	if (rc > 0)
		return bad(b, LLMCAP_BAD_BAD_TIMESTAMP, "timestamp '%s' is out of range; expected %s",
			   shown(s, 60, q, sizeof q),
			   r->unit == LLMCAP_UNIT_DATETIME
				   ? "a date from 1677-09-21 to 2262-04-11 (times are 64-bit nanoseconds)"
				   : "at most 292 years (times are 64-bit nanoseconds)");
	if (rc)
		return bad(b, LLMCAP_BAD_BAD_TIMESTAMP, "timestamp '%s'; expected %s",
			   shown(s, 60, q, sizeof q),
			   r->unit == LLMCAP_UNIT_DATETIME
				   ? "YYYY-MM-DD HH:MM:SS[.fraction][Z|+HH:MM]"
				   : "a number");
	if (*t < 0)
		return bad(b, LLMCAP_BAD_NEGATIVE, "timestamp '%s' is negative; expected >= 0",
			   shown(s, 60, q, sizeof q));
	return 0;
}

static int csv_row(struct llmcap_trace_reader *r, struct llmcap_trace_row *row, struct bad *b)
{
	char *fields[MAXF];
	size_t nf = llmcap_csv_split(r->line, fields, MAXF);
	int need = r->col_time;
	if (r->col_prompt > need)
		need = r->col_prompt;
	if (r->col_output > need)
		need = r->col_output;
	if (r->col_class > need)
		need = r->col_class;
	if ((int)nf <= need)
		return bad(b, LLMCAP_BAD_MISSING_FIELD, "%zu fields; expected at least %d", nf, need + 1);
	if (timestamp(r, fields[r->col_time], &row->t, b) ||
	    tokens(fields[r->col_prompt], "the prompt tokens", &row->prompt, b) ||
	    tokens(fields[r->col_output], "the output tokens", &row->output, b))
		return -1;
	row->cls = r->col_class >= 0 ? fields[r->col_class] : "";
	return 0;
}

/* ---- a minimal JSON reader for one Mooncake object per line ---- */

static void ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

static bool json_skip(const char **p, int depth);

static bool json_string(const char **p, char *key, size_t n)
{
	if (**p != '"')
		return false;
	(*p)++;
	size_t k = 0;
	while (**p && **p != '"') {
		if (**p == '\\') {
			(*p)++;
			if (!**p)
				return false;
		}
		if (key && k + 1 < n)
			key[k++] = **p;
		(*p)++;
	}
	if (**p != '"')
		return false;
	(*p)++;
	if (key)
		key[k] = '\0';
	return true;
}

static bool json_number(const char **p, char *buf, size_t n)
{
	size_t k = 0;
	while ((**p >= '0' && **p <= '9') || **p == '-' || **p == '+' || **p == '.' || **p == 'e' ||
	       **p == 'E') {
		if (k + 1 < n)
			buf[k++] = **p;
		(*p)++;
	}
	buf[k] = '\0';
	return k > 0;
}

static bool json_skip(const char **p, int depth)
{
	char tmp[64];
	ws(p);
	if (depth > 32)
		return false;
	if (**p == '"')
		return json_string(p, NULL, 0);
	if (**p == '{' || **p == '[') {
		char close = **p == '{' ? '}' : ']';
		bool obj = **p == '{';
		(*p)++;
		ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		for (;;) {
			if (obj) {
				ws(p);
				if (!json_string(p, NULL, 0))
					return false;
				ws(p);
				if (**p != ':')
					return false;
				(*p)++;
			}
			if (!json_skip(p, depth + 1))
				return false;
			ws(p);
			if (**p == ',') {
				(*p)++;
				continue;
			}
			if (**p != close)
				return false;
			(*p)++;
			return true;
		}
	}
	if (!strncmp(*p, "true", 4) || !strncmp(*p, "null", 4)) {
		*p += 4;
		return true;
	}
	if (!strncmp(*p, "false", 5)) {
		*p += 5;
		return true;
	}
	return json_number(p, tmp, sizeof tmp);
}

static bool push_hash(struct llmcap_trace_reader *r, uint64_t h)
{
	if (r->n_hash == r->cap_hash) {
		size_t cap = r->cap_hash ? 2 * r->cap_hash : 256;
		uint64_t *nh = realloc(r->hash, cap * sizeof *nh);
		if (!nh)
			return false;
		r->hash = nh;
		r->cap_hash = cap;
	}
	r->hash[r->n_hash++] = h;
	return true;
}

static int json_row(struct llmcap_trace_reader *r, struct llmcap_trace_row *row, struct bad *b)
{
	const char *p = r->line;
	char key[64], num[64];
	bool have[4] = {false, false, false, false};
	r->n_hash = 0;
	ws(&p);
	if (*p != '{')
		return bad(b, LLMCAP_BAD_BAD_JSON, "expected a JSON object");
	p++;
	ws(&p);
	if (*p == '}')
		p++;
	else
		for (;;) {
			ws(&p);
			if (!json_string(&p, key, sizeof key))
				return bad(b, LLMCAP_BAD_BAD_JSON, "expected a key at column %td", p - r->line + 1);
			ws(&p);
			if (*p != ':')
				return bad(b, LLMCAP_BAD_BAD_JSON, "expected ':' at column %td", p - r->line + 1);
			p++;
			ws(&p);
			int which = !strcmp(key, "timestamp") ? 0 : !strcmp(key, "input_length") ? 1
				    : !strcmp(key, "output_length") ? 2 : !strcmp(key, "hash_ids") ? 3 : -1;
			if (which == 3) {
				if (*p != '[')
					return bad(b, LLMCAP_BAD_BAD_JSON, "hash_ids: expected a list of ids");
				p++;
				ws(&p);
				while (*p != ']') {
					char *end;
					if (*p < '0' || *p > '9')
						return bad(b, LLMCAP_BAD_BAD_JSON,
							   "hash_ids: expected whole numbers >= 0 at column %td",
							   p - r->line + 1);
					errno = 0;
					unsigned long long h = strtoull(p, &end, 10);
					if (errno)
						return bad(b, LLMCAP_BAD_TOO_LARGE, "hash_ids: id beyond 64 bits");
					p = end;
					if (!push_hash(r, h))
						return bad(b, LLMCAP_BAD_TOO_LARGE, "hash_ids: out of memory");
					ws(&p);
					if (*p == ',') {
						p++;
						ws(&p);
					} else if (*p != ']') {
						return bad(b, LLMCAP_BAD_BAD_JSON, "hash_ids: expected ',' or ']' "
							   "at column %td", p - r->line + 1);
					}
				}
				p++;
				have[3] = true;
			} else if (which >= 0) {
				if (!json_number(&p, num, sizeof num))
					return bad(b, which ? LLMCAP_BAD_NOT_A_NUMBER : LLMCAP_BAD_BAD_TIMESTAMP,
						   "%s: expected a number", key);
				if (which == 0) {
					int trc = llmcap_parse_time_number(num, LLMCAP_MS, &row->t);
					if (trc)
						return bad(b, LLMCAP_BAD_BAD_TIMESTAMP, "timestamp '%s'; expected "
							   "%smilliseconds", num,
							   trc > 0 ? "at most 292 years of " : "");
					if (row->t < 0)
						return bad(b, LLMCAP_BAD_NEGATIVE, "timestamp %s is negative", num);
				} else if (tokens(num, key, which == 1 ? &row->prompt : &row->output, b)) {
					return -1;
				}
				have[which] = true;
			} else if (!json_skip(&p, 0)) {
				return bad(b, LLMCAP_BAD_BAD_JSON, "%s: unreadable value", key);
			}
			ws(&p);
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p != '}')
				return bad(b, LLMCAP_BAD_BAD_JSON, "expected ',' or '}' at column %td",
					   p - r->line + 1);
			p++;
			break;
		}
	ws(&p);
	if (*p)
		return bad(b, LLMCAP_BAD_BAD_JSON, "text after the object at column %td", p - r->line + 1);
	static const char *const names[] = {"timestamp", "input_length", "output_length"};
	for (int i = 0; i < 3; i++)
		if (!have[i])
			return bad(b, LLMCAP_BAD_MISSING_FIELD, "no '%s'", names[i]);
	row->cls = "";
	row->hash_ids = r->hash;
	row->n_hash_ids = r->n_hash;
	return 0;
}

int llmcap_trace_next(struct llmcap_trace_reader *r, struct llmcap_trace_row *row,
		      struct llmcap_error *err)
{
	for (;;) {
		bool too_long, unterminated;
		int got = read_line(r, &too_long, &unterminated);
		if (got < 0)
			return llmcap_errorf(err, LLMCAP_EIO, "%s:%ld: read error: %s", r->path,
					     r->lineno + 1, strerror(errno));
		if (got == 0)
			return 0;
		memset(row, 0, sizeof *row);
		row->line = r->lineno;
		struct bad b = {.reason = -1};
		if (too_long && r->extra_lines > 0)
			bad(&b, LLMCAP_BAD_LINE_TOO_LONG, "a quoted field runs on over %ld lines and "
			    "%d bytes; expected its closing quote", r->extra_lines + 1,
			    LLMCAP_TRACE_MAX_LINE);
		else if (too_long)
			bad(&b, LLMCAP_BAD_LINE_TOO_LONG, "expected lines of at most %d bytes",
			    LLMCAP_TRACE_MAX_LINE);
		else if (!valid_utf8((const unsigned char *)r->line, r->line_len))
			bad(&b, LLMCAP_BAD_INVALID_UTF8, "expected UTF-8 text");
		else if (blank_or_comment(r->line)) {
			r->counts.blank++;
			continue;
		} else if (formats[r->fmt].json ? json_row(r, row, &b) : csv_row(r, row, &b)) {
			/* a last line cut short reads as a broken row: say why (from a copy: the
			 * detail is the buffer the message is written to) */
			if (unterminated) {
				char why[sizeof b.detail];
				memcpy(why, b.detail, sizeof why);
				bad(&b, LLMCAP_BAD_TRUNCATED, "the file ends inside this row (%s)", why);
			}
		} else if (r->have_last && row->t < r->last_t) {
			char d[64];
			llmcap_format_duration(r->last_t - row->t, d, sizeof d);
			bad(&b, LLMCAP_BAD_BACKWARDS, "%s before the previous row; expected rows in "
			    "non-decreasing time", d);
		}
		if (b.reason >= 0) {
			if (!r->skip_bad)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s:%ld: bad row (%s): %s; or set workload.trace.bad_rows: "
						     "skip to skip and count such rows", r->path, r->lineno,
						     bad_msgs[b.reason], b.detail);
			r->counts.bad[b.reason]++;
			continue;
		}
		if (formats[r->fmt].zero_output_failed && row->output == 0) {
			/* BurstGPT logs a failed request with 0 response tokens: it never ran */
			r->counts.failed++;
			r->counts.failed_prompt_tokens += row->prompt;
			r->last_t = row->t;
			r->have_last = true;
			continue;
		}
		r->last_t = row->t;
		r->have_last = true;
		r->counts.rows++;
		return 1;
	}
}

/* Reading length columns from a trace's CSV file (e.g. the Azure 2023 traces:
 * TIMESTAMP,ContextTokens,GeneratedTokens). See llmcap_trace_read_columns in trace.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/trace.h"

/* A quoted field from p (at its opening quote), RFC 4180: commas inside, "" for a quote.
 * Returns where the text after it starts (its comma or the line's end), or NULL where the
 * quote is not closed or text follows the closing quote (then the field is read as it stands,
 * as before quoting was understood). Unquotes in place on success. */
static char *quoted_field(char *p)
{
	char *q = p + 1;
	for (;; q++) {
		if (!*q)
			return NULL;
		if (*q == '"') {
			if (q[1] != '"')
				break;
			q++;
		}
	}
	char *after = q + 1;
	while (*after == ' ' || *after == '\t')
		after++;
	if (*after && *after != ',')
		return NULL;
	char *w = p;
	for (char *c = p + 1; c < q; c++) {
		if (*c == '"')
			c++; /* the first of a doubled quote */
		*w++ = *c;
	}
	*w = '\0';
	return after;
}

size_t llmcap_csv_split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		char *start = p, *end = NULL;
		if (*p == '"')
			end = quoted_field(p);
		bool more;
		if (end) {
			more = *end == ',';
		} else {
			end = strchr(p, ',');
			more = end != NULL;
			if (!end)
				end = p + strlen(p);
			char *e = end;
			while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e - start >= 2 && *start == '"' && e[-1] == '"') {
				start++;
				e--;
			}
			*e = '\0';
		}
		if (n < max)
			fields[n] = start;
		n++;
		if (!more)
			break;
		p = end + 1;
	}
	return n;
}

bool llmcap_csv_quote_open(struct llmcap_csv_quote *q, const char *s, size_t n)
{
	/* a line without a quote outside a quoted field, the common case, ends its record */
	if (!q->in_quote && !memchr(s, '"', n))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (q->in_quote) {
			if (c == '"') {
				if (i + 1 < n && s[i + 1] == '"')
					i++; /* "" is one quote */
				else
					q->in_quote = false, q->mid_field = true;
			}
		} else if (c == ',') {
			q->mid_field = false;
		} else if (c == '"' && !q->mid_field) {
			q->in_quote = true;
		} else if (c != ' ' && c != '\t') {
			q->mid_field = true;
		}
	}
	return q->in_quote;
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t k;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		k = 1, cp = c & 0x1F;
	else if ((c & 0xF0) == 0xE0)
		k = 2, cp = c & 0x0F;
	else if ((c & 0xF8) == 0xF0)
		k = 3, cp = c & 0x07;
	else
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if (j >= n || (s[j] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[j] & 0x3F);
	}
	if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return k + 1;
}

const char *llmcap_trace_shown(const char *s, size_t len, size_t max, char *buf, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, chars = 0, i = 0;
	if (n == 0)
		return buf;
	while (i < len && chars < max) {
		size_t seq = utf8_seq(u + i, len - i);
		size_t need = seq > 1 ? seq : 4;
		bool plain = seq > 1 || (seq == 1 && u[i] >= 0x20 && u[i] != 0x7F && u[i] != '\\');
		if (plain)
			need = seq;
		else if (u[i] == '\\')
			need = 2;
		if (k + need + 4 > n) /* room for "..." and the NUL */
			break;
		if (plain) {
			memcpy(buf + k, s + i, seq);
			k += seq;
			i += seq;
		} else if (u[i] == '\\') {
			memcpy(buf + k, "\\\\", 2);
			k += 2;
			i++;
		} else {
			k += (size_t)snprintf(buf + k, n - k, "\\x%02X", u[i]);
			i++;
		}
		chars++;
	}
	if (i < len && k + 4 <= n) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

int llmcap_trace_read_columns(const char *path, const char *const *columns, size_t n_columns,
			      int32_t **data, size_t *n_rows, struct llmcap_error *err)
{
	enum { MAXF = 256 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return llmcap_errorf(err, LLMCAP_EIO, "cannot open trace file '%s': %s", path,
				     strerror(errno));
	char *line = NULL, *fields[MAXF];
	size_t cap = 0, n = 0, alloc = 0, idx[4];
	int32_t *cols[4] = {NULL};
	long lineno = 0;
	int rc = 0;
	bool header = false;
	ssize_t len;
	if (n_columns > 4) {
		fclose(f);
		return llmcap_errorf(err, LLMCAP_EINVAL, "at most 4 columns");
	}
	char *more = NULL;
	size_t more_cap = 0;
	long joined = 0; /* lines the previous record took beyond its first */
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno += 1 + joined; /* the record's first line, for its errors */
		joined = 0;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* a quoted field holding line ends (RFC 4180): the record goes on */
		struct llmcap_csv_quote quote = {0};
		size_t seg = 0;
		ssize_t ml;
		while (header && llmcap_csv_quote_open(&quote, line + seg, (size_t)len - seg) &&
		       (ml = getline(&more, &more_cap, f)) >= 0) {
			while (ml > 0 && (more[ml - 1] == '\n' || more[ml - 1] == '\r'))
				more[--ml] = '\0';
			if ((size_t)len + (size_t)ml + 2 > cap) {
				char *grown = realloc(line, (size_t)len + (size_t)ml + 2);
				if (!grown) {
					rc = llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
					goto out;
				}
				line = grown;
				cap = (size_t)len + (size_t)ml + 2;
			}
			line[len++] = '\n';
			joined++;
			seg = (size_t)len;
			memcpy(line + len, more, (size_t)ml + 1);
			len += ml;
		}
		const char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		size_t nf = llmcap_csv_split(line, fields, MAXF);
		if (!header) {
			char names[512] = "", q[4 * 200 + 8];
			/* a UTF-8 byte order mark; only the whole mark (a lone 0xEF byte once made
			 * this skip past the end of the field) */
			if (lineno == 1 && !strncmp(fields[0], "\xEF\xBB\xBF", 3))
				fields[0] += 3;
			for (size_t c = 0; c < n_columns; c++) {
				idx[c] = SIZE_MAX;
				for (size_t i = 0; i < nf && i < MAXF; i++)
					if (!strcmp(fields[i], columns[c]))
						idx[c] = i;
				if (idx[c] == SIZE_MAX) {
					for (size_t i = 0; i < nf && i < MAXF; i++)
						snprintf(names + strlen(names), sizeof names - strlen(names),
							 "%s%s", i ? ", " : "",
							 llmcap_trace_shown(fields[i], strlen(fields[i]), 40,
									    q, sizeof q));
					rc = llmcap_errorf(err, LLMCAP_EINVAL,
							   "%s:%ld: no column '%s'; expected one of the header's: %s",
							   path, lineno, columns[c], names);
					goto out;
				}
			}
			header = true;
			continue;
		}
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 4096;
			for (size_t c = 0; c < n_columns; c++) {
				int32_t *nc = realloc(cols[c], alloc * sizeof *nc);
				if (!nc) {
					rc = llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
					goto out;
				}
				cols[c] = nc;
			}
		}
		for (size_t c = 0; c < n_columns; c++) {
			if (idx[c] >= nf) {
				rc = llmcap_errorf(err, LLMCAP_EINVAL,
						   "%s:%ld: %zu fields; expected a value in column '%s' (field %zu)",
						   path, lineno, nf, columns[c], idx[c] + 1);
				goto out;
			}
			double v;
			if (llmcap_parse_double(fields[idx[c]], &v) != 0 || !(v >= 0) || v > 2e9) {
				char q[4 * 60 + 8];
				rc = llmcap_errorf(err, LLMCAP_EINVAL,
						   "%s:%ld: column '%s' is '%s'; expected a number of tokens >= 0",
						   path, lineno, columns[c],
						   llmcap_trace_shown(fields[idx[c]], strlen(fields[idx[c]]),
								      60, q, sizeof q));
				goto out;
			}
			cols[c][n] = (int32_t)(v + 0.5);
		}
		n++;
	}
	if (ferror(f)) {
		rc = llmcap_errorf(err, LLMCAP_EIO, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	if (n == 0) {
		rc = llmcap_errorf(err, LLMCAP_EINVAL, "%s: no rows%s; expected a header and at least "
				   "one row", path, header ? " after the header" : "");
		goto out;
	}
	/* one allocation, column after column */
	int32_t *all = malloc(n * n_columns * sizeof *all);
	if (!all) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t c = 0; c < n_columns; c++)
		memcpy(all + c * n, cols[c], n * sizeof *all);
	*data = all;
	*n_rows = n;
out:
	for (size_t c = 0; c < n_columns; c++)
		free(cols[c]);
	free(line);
	free(more);
	fclose(f);
	return rc;
}

/* Reading length columns from a trace's CSV file (e.g. the Azure 2023 traces:
 * TIMESTAMP,ContextTokens,GeneratedTokens). See llmcap_trace_read_columns in trace.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/trace.h"

size_t llmcap_csv_split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		char *start = p, *end;
		char *comma = strchr(p, ',');
		end = comma ? comma : p + strlen(p);
		char *e = end;
		while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - start >= 2 && *start == '"' && e[-1] == '"') {
			start++;
			e--;
		}
		*e = '\0';
		if (n < max)
			fields[n] = start;
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return n;
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
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		const char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		size_t nf = llmcap_csv_split(line, fields, MAXF);
		if (!header) {
			char names[512] = "";
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
							 "%s%s", i ? ", " : "", fields[i]);
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
				rc = llmcap_errorf(err, LLMCAP_EINVAL,
						   "%s:%ld: column '%s' is '%s'; expected a number of tokens >= 0",
						   path, lineno, columns[c], fields[idx[c]]);
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
	fclose(f);
	return rc;
}

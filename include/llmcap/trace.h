/* Production traces: streamed readers, replay into simulated time, and `llmcap trace stats`.
 *
 * Formats (docs/traces.md):
 *   azure     TIMESTAMP,ContextTokens,GeneratedTokens (Azure LLM inference 2023 and 2024);
 *             timestamps "2023-11-16 18:17:03.9799600" or "2024-05-10 00:00:00.009930+00:00",
 *             0 to 9 fractional digits, an optional Z or +HH:MM / -HH:MM suffix
 *   burstgpt  BurstGPT v1-v3, columns by name: Timestamp (s), Model, Request tokens,
 *             Response tokens, Log Type...; a row with 0 response tokens is a failed request:
 *             counted and reported, not replayed
 *   mooncake  JSON lines: timestamp (ms), input_length, output_length, hash_ids (one id per
 *             hash_block_tokens-token prompt block; equal ids = the same prefix)
 *   csv       any CSV with a header, columns named by the scenario (time in s, ms, us, ns or
 *             as a date-time)
 *   llmcap    `llmcap workload --out`: arrival_s,class,prompt_tokens,output_tokens
 * The format is detected from the first line when not given.
 *
 * Memory: a reader holds one line (at most LLMCAP_TRACE_MAX_LINE bytes; a longer line is a
 * bad row whose rest is read and dropped), its hash ids and a 64 KiB read buffer, whatever
 * the file's size. Times are int64 nanoseconds: date-times since the Unix epoch, numbers as
 * given. Rows must come in non-decreasing time (equal times are fine).
 */
#ifndef LLMCAP_TRACE_H
#define LLMCAP_TRACE_H

#include <stdio.h>

#include "llmcap/spec.h"

#define LLMCAP_TRACE_MAX_LINE (1 << 20)
#define LLMCAP_TRACE_MAX_TOKENS (1 << 24)

/* Why a row was not replayed. One table so that names, messages and counters agree. */
#define LLMCAP_BAD_ROW_MAP(XX)                                                        \
	XX(MISSING_FIELD, "missing-field", "missing field")                          \
	XX(NOT_A_NUMBER, "not-a-number", "non-numeric value")                        \
	XX(NEGATIVE, "negative", "negative value")                                   \
	XX(TOO_LARGE, "too-large", "value too large")                                \
	XX(BAD_TIMESTAMP, "bad-timestamp", "unreadable timestamp")                   \
	XX(BACKWARDS, "backwards", "timestamp going backwards")                      \
	XX(BAD_JSON, "bad-json", "malformed JSON")                                   \
	XX(TRUNCATED, "truncated", "truncated last line")                            \
	XX(INVALID_UTF8, "invalid-utf8", "invalid UTF-8")                            \
	XX(LINE_TOO_LONG, "line-too-long", "line longer than 1 MiB")                 \
	XX(UNMAPPED_CLASS, "unmapped-class", "class column value with no class")

enum llmcap_bad_row {
#define XX(id, name, msg) LLMCAP_BAD_##id,
	LLMCAP_BAD_ROW_MAP(XX)
#undef XX
	LLMCAP_BAD_N
};
const char *llmcap_bad_row_name(int reason);

/* Splits a CSV line in place at commas, trimming blanks around fields. A field in double quotes
 * is read as RFC 4180 says: it may hold commas and line ends, and "" inside it is one quote
 * (readers join a record's lines with llmcap_csv_quote_open). A quote that is not closed, or
 * text after the closing quote, leaves the field as it stands (quotes around it removed).
 * Stores at most `max` field pointers; returns the number of fields found. Shared by every CSV
 * reader. */
size_t llmcap_csv_split(char *line, char **fields, size_t max);

/* RFC 4180 quoting across line ends: a quoted field may hold line ends, so one CSV record may
 * span several lines. The state of a record read so far; zero it ({0}) at a record's start. */
struct llmcap_csv_quote {
	bool in_quote;      /* inside a quoted field */
	bool mid_field;     /* past a field's first non-blank character (a quote there is text) */
};
/* Advances q over n bytes of a record (a line without its line end). Returns true when the
 * record is still inside a quoted field after them: the line end that follows is part of the
 * field, and the record goes on on the next line. A quote opens a field only at its start
 * (after blanks), "" inside a quoted field is one quote, as llmcap_csv_split reads them. */
bool llmcap_csv_quote_open(struct llmcap_csv_quote *q, const char *s, size_t n);

/* Up to `max` characters of s[0, len) for an error message, into buf (n bytes; 4 max + 8 holds
 * any): valid UTF-8 printable text as it is, control bytes, bytes that are not UTF-8 and the
 * backslash escaped (\x1B, \xFF, \\) so that raw binary never reaches a terminal, "..." where
 * cut. Returns buf, always NUL-terminated. */
const char *llmcap_trace_shown(const char *s, size_t len, size_t max, char *buf, size_t n);

/* Reads whole-number columns of a CSV file by header name: n_columns arrays of n_rows values,
 * one allocation (column after column) that the caller frees. Accepts CRLF line ends, blank and
 * '#' comment lines, quoted header names; rejects a missing column, a short row, a value that
 * is not a number >= 0, and a file without rows, naming FILE:LINE. */
int llmcap_trace_read_columns(const char *path, const char *const *columns, size_t n_columns,
			      int32_t **data, size_t *n_rows, struct llmcap_error *err);

/* What a pass over a trace met, besides the rows it returned. */
struct llmcap_trace_counts {
	int64_t rows;            /* returned */
	int64_t bad[LLMCAP_BAD_N]; /* skipped, by reason (bad_rows: skip) */
	int64_t blank;           /* blank and '#' comment lines, skipped */
	int64_t failed;          /* BurstGPT failed requests (0 response tokens), not replayed */
	int64_t failed_prompt_tokens;
	int64_t raised;          /* rows with 0 prompt or output tokens, replayed with 1 */
	int64_t capped;          /* rows shortened to max_prompt / max_output */
};

/* One row. Strings and hash ids stay valid until the next read. */
struct llmcap_trace_row {
	llmcap_time t;           /* ns: since the Unix epoch for date-times, else as in the file */
	int64_t prompt, output;  /* tokens, as in the file (>= 0) */
	const char *cls;         /* the class/model column's text ("" without one) */
	const uint64_t *hash_ids;
	size_t n_hash_ids;
	long line;
};

struct llmcap_trace_reader {
	FILE *f;
	char path[LLMCAP_PATH_MAX];
	enum llmcap_trace_format fmt;
	const struct llmcap_trace_cfg *cfg;
	bool skip_bad;           /* bad_rows: skip (else the first bad row is an error) */
	char *io;                /* read buffer */
	size_t io_len, io_pos;
	bool io_eof;
	char *line;              /* the current line, NUL-terminated */
	size_t line_len;
	long lineno;             /* the current record's first line */
	long extra_lines;        /* line ends inside the current record's quoted fields */
	bool csv_records;        /* a CSV trace past its header: records may span lines */
	int col_time, col_prompt, col_output, col_class, n_cols;
	enum llmcap_time_unit unit;
	uint64_t *hash;
	size_t n_hash, cap_hash;
	llmcap_time last_t;
	bool have_last;
	struct llmcap_trace_counts counts;
};

/* Opens a trace and reads its header (detecting the format when cfg->format is auto).
 * cfg supplies the format, the csv column mapping and the bad-row policy; it must outlive
 * the reader. */
int llmcap_trace_open(struct llmcap_trace_reader *r, const char *path,
		      const struct llmcap_trace_cfg *cfg, struct llmcap_error *err);
/* The next row: 1, or 0 at the end, or a negative error code with err naming FILE:LINE and
 * the reason (a bad row under bad_rows: fail, or a read error). */
int llmcap_trace_next(struct llmcap_trace_reader *r, struct llmcap_trace_row *row,
		      struct llmcap_error *err);
/* Back to the first row (for looping), keeping the counts. */
int llmcap_trace_rewind(struct llmcap_trace_reader *r, struct llmcap_error *err);
void llmcap_trace_close(struct llmcap_trace_reader *r);
const char *llmcap_trace_format_name(enum llmcap_trace_format f);

/* "2023-11-16 18:17:03.9799600", "2024-05-10T00:00:00.009930+00:00", "... Z": ns since the
 * Unix epoch (UTC), exactly. Returns 0, -LLMCAP_EINVAL for text that is not a date-time, or 1
 * for a date-time that 64 bits of nanoseconds cannot hold (before 1677-09-21 or after
 * 2262-04-11); *out is set only on 0. */
int llmcap_parse_datetime(const char *s, llmcap_time *out);
/* A decimal number of `unit` ns ("1.5" s, "27482" ms), exactly to the nanosecond. Returns 0,
 * -LLMCAP_EINVAL for text that is not a number, or 1 for one beyond 64 bits of nanoseconds
 * (about 292 years); *out is set only on 0. */
int llmcap_parse_time_number(const char *s, llmcap_time unit, llmcap_time *out);

/* ---- replay: a trace as the workload's shared arrival stream ---- */

struct llmcap_replay_stats {
	char file[LLMCAP_PATH_MAX];
	enum llmcap_trace_format format;
	struct llmcap_trace_counts counts; /* one pass over the whole file */
	int64_t window_rows;     /* rows inside [start, end) */
	int64_t outside;         /* rows outside the window */
	llmcap_time period;      /* trace time of one copy of the window */
	double speedup;
	double trace_rate;       /* requests/s of the window, before scaling */
	int64_t replayed;        /* rows handed to the simulation */
	int64_t copies;          /* passes started over the window (loop) */
};

struct llmcap_replay;

/* Opens the scenario's trace and makes a first pass over it (bad rows, the window, the rate for
 * a target rate). `cls_of` maps a class column value to a class index, -1 when none. */
int llmcap_replay_open(struct llmcap_replay **out, const struct llmcap_scenario *sc,
		       struct llmcap_error *err);
void llmcap_replay_close(struct llmcap_replay *rp);
/* The next row in simulated time: 1 (time, class or -1 for "by share", capped lengths >= 1,
 * hash ids), 0 when the replay is over, or a negative error code. */
struct llmcap_replay_row {
	llmcap_time t;
	int cls;
	int64_t prompt, output;
	const uint64_t *hash_ids;
	size_t n_hash_ids;
};
int llmcap_replay_next(struct llmcap_replay *rp, struct llmcap_replay_row *row,
		       struct llmcap_error *err);
const struct llmcap_replay_stats *llmcap_replay_stats(const struct llmcap_replay *rp);

/* ---- `llmcap trace stats FILE` ---- */

struct llmcap_trace_stats {
	char file[LLMCAP_PATH_MAX];
	enum llmcap_trace_format format;
	struct llmcap_trace_counts counts;
	llmcap_time first, last;
	double span_s, mean_rate; /* rows / span */
	double peak_minute, peak_hour; /* busiest full window / mean per window; NAN: none */
	double prompt_mean, prompt_q[3], output_mean, output_q[3]; /* p50, p90, p99 */
	double tokens_per_month;
	int64_t prompt_tokens, output_tokens;
};

int llmcap_trace_stats(const char *path, const struct llmcap_trace_cfg *cfg,
		       struct llmcap_trace_stats *st, struct llmcap_error *err);

#endif

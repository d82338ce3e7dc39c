/* Trace readers, replay and statistics (traces/reader.c, traces/replay.c).
 *
 * Fixtures are written to a temporary folder; the shipped traces under traces/data/ are checked
 * against figures computed here independently (plain sscanf, qsort, timegm). */
#define _GNU_SOURCE
#include "test_util.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <time.h>
#include <unistd.h>

#include "llmcap/sim.h"
#include "llmcap/trace.h"
#include "llmcap/workload.h"

#define DATA LLMCAP_SOURCE_DIR "/traces/data/"

static struct llmcap_catalog cat;
static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	snprintf(tmpdir, sizeof tmpdir, "/tmp/llmcap-trace-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return llmcap_catalog_load_builtin(&cat, &err);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *fixture(const char *name, const char *text, size_t len)
{
	static char path[8][400];
	static int k;
	char *p = path[k++ % 8];
	snprintf(p, 400, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return p;
}
#define FIXTURE(name, text) fixture(name, text, sizeof text - 1)

static struct llmcap_trace_cfg default_cfg(void)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	assert_non_null(sc);
	llmcap_scenario_defaults(sc);
	struct llmcap_trace_cfg c = sc->workload.trace;
	free(sc);
	return c;
}

/* Reads every row; returns the count, or -1 with err set. */
static long read_all(const char *path, const struct llmcap_trace_cfg *cfg, struct llmcap_trace_row *rows,
		     size_t max, struct llmcap_trace_counts *counts, struct llmcap_error *err)
{
	struct llmcap_trace_reader r;
	if (llmcap_trace_open(&r, path, cfg, err) != 0)
		return -1;
	long n = 0;
	int rc;
	struct llmcap_trace_row row;
	while ((rc = llmcap_trace_next(&r, &row, err)) > 0) {
		if ((size_t)n < max) {
			rows[n] = row;
			rows[n].cls = NULL; /* not valid after the next read */
			rows[n].hash_ids = NULL;
		}
		n++;
	}
	if (counts)
		*counts = r.counts;
	llmcap_trace_close(&r);
	return rc < 0 ? -1 : n;
}

/* ---- timestamps ---- */

static llmcap_time utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_min = mi, .tm_sec = s};
	return (llmcap_time)timegm(&tm) * LLMCAP_SEC;
}

static void datetimes_are_exact(void **state)
{
	(void)state;
	llmcap_time t;
	assert_int_equal(llmcap_parse_datetime("2023-11-16 18:17:03.9799600", &t), 0);
	assert_int_equal(t, utc(2023, 11, 16, 18, 17, 3) + 979960000);
	assert_int_equal(llmcap_parse_datetime("2024-05-10 00:00:00.009930+00:00", &t), 0);
	assert_int_equal(t, utc(2024, 5, 10, 0, 0, 0) + 9930000);
	assert_int_equal(llmcap_parse_datetime("2024-05-10 00:00:00+00:00", &t), 0); /* no fraction */
	assert_int_equal(t, utc(2024, 5, 10, 0, 0, 0));
	assert_int_equal(llmcap_parse_datetime("2024-05-10T02:30:00.5+02:30", &t), 0);
	assert_int_equal(t, utc(2024, 5, 10, 0, 0, 0) + 500000000);
	assert_int_equal(llmcap_parse_datetime("2024-02-29 23:59:59.123456789Z", &t), 0);
	assert_int_equal(t, utc(2024, 2, 29, 23, 59, 59) + 123456789);
	assert_int_equal(llmcap_parse_datetime("1999-12-31 23:00:00-01:00", &t), 0);
	assert_int_equal(t, utc(2000, 1, 1, 0, 0, 0));
	const char *bad[] = {"2023-02-29 00:00:00", "2023-13-01 00:00:00", "2023-11-16", "2023-11-16 18:17",
			     "2023-11-16 18:17:03.", "2023-11-16 18:17:03.1234567891", "2023-11-16 18:17:03 x",
			     "16/11/2023 18:17:03", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (llmcap_parse_datetime(bad[i], &t) == 0)
			fail_msg("'%s' parsed", bad[i]);
	assert_int_equal(llmcap_parse_time_number("27482", LLMCAP_MS, &t), 0);
	assert_int_equal(t, 27482 * LLMCAP_MS);
	assert_int_equal(llmcap_parse_time_number("1.000000001", LLMCAP_SEC, &t), 0);
	assert_int_equal(t, LLMCAP_SEC + 1);
	assert_int_equal(llmcap_parse_time_number("0.25", LLMCAP_MS, &t), 0);
	assert_int_equal(t, 250000);
	assert_int_not_equal(llmcap_parse_time_number("1e3", LLMCAP_SEC, &t), 0);
}

/* The Azure 2023 code trace's first rows: 18:17:03.9799600, 04.0319600, 04.0781490, 04.1206440. */
static void azure_code_first_gaps(void **state)
{
	(void)state;
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_row rows[4];
	struct llmcap_error err = {0};
	struct llmcap_trace_reader r;
	assert_int_equal(llmcap_trace_open(&r, DATA "azure2023_code.csv", &cfg, &err), 0);
	assert_int_equal(r.fmt, LLMCAP_TRACE_AZURE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(llmcap_trace_next(&r, &rows[i], &err), 1);
	llmcap_trace_close(&r);
	assert_int_equal(rows[0].t, utc(2023, 11, 16, 18, 17, 3) + 979960000);
	assert_int_equal(rows[1].t - rows[0].t, 52000000);
	assert_int_equal(rows[2].t - rows[1].t, 46189000);
	assert_int_equal(rows[3].t - rows[2].t, 42495000);
	assert_int_equal(rows[0].prompt, 4808);
	assert_int_equal(rows[0].output, 10);
	assert_int_equal(rows[3].prompt, 7433);
	assert_int_equal(rows[3].line, 5);
}

/* ---- each format ---- */

static void azure_2024_styles(void **state)
{
	(void)state;
	const char *p = FIXTURE("az24.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
					    "2024-05-10 00:00:00.009930+00:00,100,5\r\n"
					    "2024-05-10 00:00:01+00:00,200,0\r\n"
					    "2024-05-10 00:00:01.5+00:00,300,7\r\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_row rows[8];
	struct llmcap_trace_counts c;
	struct llmcap_error err = {0};
	assert_int_equal(read_all(p, &cfg, rows, 8, &c, &err), 3);
	assert_int_equal(rows[0].t, utc(2024, 5, 10, 0, 0, 0) + 9930000);
	assert_int_equal(rows[1].t - rows[0].t, LLMCAP_SEC - 9930000);
	assert_int_equal(rows[2].t - rows[1].t, 500 * LLMCAP_MS);
	assert_int_equal(rows[1].output, 0); /* read as is; replay raises it to 1 and counts it */
	assert_int_equal(rows[2].prompt, 300);
}

static void burstgpt_columns_by_name(void **state)
{
	(void)state;
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_row rows[8];
	struct llmcap_trace_counts c;
	struct llmcap_error err = {0};
	/* v1 order */
	const char *v1 = FIXTURE("b1.csv", "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
					   "5,ChatGPT,472,18,490,Conversation log\n"
					   "45,ChatGPT,1087,0,1087,Conversation log\n"
					   "46.5,GPT-4,300,20,320,API log\n");
	assert_int_equal(read_all(v1, &cfg, rows, 8, &c, &err), 2);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.failed_prompt_tokens, 1087);
	assert_int_equal(rows[0].t, 5 * LLMCAP_SEC);
	assert_int_equal(rows[1].t, 46500 * LLMCAP_MS);
	assert_int_equal(rows[1].prompt, 300);
	assert_int_equal(rows[1].output, 20);
	/* v3 puts Session ID and Elapsed time in columns 2-3: read by name all the same */
	const char *v3 = FIXTURE("b3.csv", "Timestamp,Session ID,Elapsed time,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
					   "1,s1,0.5,GPT-4,10,2,12,API log\n"
					   "2,s1,0.7,ChatGPT,20,3,23,API log\n");
	struct llmcap_trace_reader r;
	assert_int_equal(llmcap_trace_open(&r, v3, &cfg, &err), 0);
	assert_int_equal(r.fmt, LLMCAP_TRACE_BURSTGPT);
	struct llmcap_trace_row row;
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_string_equal(row.cls, "GPT-4");
	assert_int_equal(row.prompt, 10);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_string_equal(row.cls, "ChatGPT");
	assert_int_equal(row.output, 3);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 0);
	llmcap_trace_close(&r);
	/* the shipped sample: 400 rows, 17 failed */
	assert_int_equal(read_all(DATA "burstgpt_1_first400rows.csv", &cfg, rows, 0, &c, &err), 383);
	assert_int_equal(c.failed, 17);
}

static void mooncake_jsonl(void **state)
{
	(void)state;
	const char *p = FIXTURE("m.jsonl",
				"{\"timestamp\": 0, \"input_length\": 1100, \"output_length\": 5, \"hash_ids\": [0, 1, 2]}\n"
				"{\"hash_ids\": [0, 1, 7], \"extra\": {\"a\": [1, \"x\"]}, \"timestamp\": 3000, \"input_length\": 1030, \"output_length\": 9}\n"
				"{\"timestamp\": 3000.5, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": []}\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_reader r;
	struct llmcap_error err = {0};
	struct llmcap_trace_row row;
	assert_int_equal(llmcap_trace_open(&r, p, &cfg, &err), 0);
	assert_int_equal(r.fmt, LLMCAP_TRACE_MOONCAKE);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_int_equal(row.t, 0);
	assert_int_equal(row.prompt, 1100);
	assert_int_equal(row.n_hash_ids, 3);
	assert_int_equal(row.hash_ids[2], 2);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_int_equal(row.t, 3 * LLMCAP_SEC);
	assert_int_equal(row.output, 9);
	assert_int_equal(row.n_hash_ids, 3);
	assert_int_equal(row.hash_ids[2], 7);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_int_equal(row.t, 3 * LLMCAP_SEC + 500 * LLMCAP_US);
	assert_int_equal(row.n_hash_ids, 0);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 0);
	llmcap_trace_close(&r);
	/* the shipped slice */
	struct llmcap_trace_counts c;
	assert_int_equal(read_all(DATA "mooncake_conversation_first2000.jsonl", &cfg, NULL, 0, &c, &err), 2000);
}

static void generic_csv_mapping(void **state)
{
	(void)state;
	const char *p = FIXTURE("g.csv", "# exported by a gateway\nts_ms,model,in,out\n"
					 "1000,a,10,1\n\n1250.5,b,20,2\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	cfg.format = LLMCAP_TRACE_CSV;
	strcpy(cfg.time_column, "ts_ms");
	cfg.time_unit = LLMCAP_UNIT_MS;
	strcpy(cfg.prompt_column, "in");
	strcpy(cfg.output_column, "out");
	strcpy(cfg.class_column, "model");
	struct llmcap_trace_reader r;
	struct llmcap_error err = {0};
	struct llmcap_trace_row row;
	assert_int_equal(llmcap_trace_open(&r, p, &cfg, &err), 0);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_int_equal(row.t, LLMCAP_SEC);
	assert_string_equal(row.cls, "a");
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_int_equal(row.t, 1250500 * LLMCAP_US);
	assert_string_equal(row.cls, "b");
	assert_int_equal(row.prompt, 20);
	assert_int_equal(row.line, 5);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 0);
	assert_int_equal(r.counts.blank, 2); /* the comment and the blank line */
	llmcap_trace_close(&r);
	/* date-times in a generic file, and a column that is not there */
	const char *q = FIXTURE("g2.csv", "when,p,o\n2024-01-01T00:00:00Z,1,1\n2024-01-01T00:00:02Z,1,1\n");
	strcpy(cfg.time_column, "when");
	cfg.time_unit = LLMCAP_UNIT_DATETIME;
	strcpy(cfg.prompt_column, "p");
	strcpy(cfg.output_column, "o");
	cfg.class_column[0] = '\0';
	struct llmcap_trace_row rows[4];
	assert_int_equal(read_all(q, &cfg, rows, 4, NULL, &err), 2);
	assert_int_equal(rows[1].t - rows[0].t, 2 * LLMCAP_SEC);
	strcpy(cfg.prompt_column, "prompt");
	assert_int_equal(read_all(q, &cfg, rows, 4, NULL, &err), -1);
	assert_contains(err.msg, "g2.csv:1: no column 'prompt'");
}

/* Date-times outside 64 bits of nanoseconds (1677-09-21 to 2262-04-11) wrapped: 1500 was
 * accepted, 2300 read as 2015, 9999 called negative. Numbers of seconds past 292 years
 * overflowed while being read. Both are refused as out of range. */
static void times_out_of_range(void **state)
{
	(void)state;
	llmcap_time t = 42;
	assert_int_equal(llmcap_parse_datetime("2262-04-11 23:47:16", &t), 0);
	assert_true(t > 0);
	const char *far[] = {"1500-01-01 00:00:00", "1677-09-21 00:12:43", "2262-04-11 23:47:17",
			     "2300-01-01 00:00:00", "9999-12-31 23:59:59Z", "0000-01-01 00:00:00"};
	for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
		t = 42;
		if (llmcap_parse_datetime(far[i], &t) != 1)
			fail_msg("'%s' not refused as out of range (t = %lld)", far[i], (long long)t);
	}
	assert_int_equal(llmcap_parse_time_number("9223372036", LLMCAP_SEC, &t), 0);
	assert_int_equal(llmcap_parse_time_number("9223372037", LLMCAP_SEC, &t), 1);
	assert_int_equal(llmcap_parse_time_number("99999999999999999999999", LLMCAP_NS, &t), 1);
	assert_int_equal(llmcap_parse_time_number("9223372036854775807", LLMCAP_NS, &t), 0);
	assert_int_equal(t, INT64_MAX);
	assert_int_equal(llmcap_parse_time_number("9223372036854775808", LLMCAP_NS, &t), 1);
	/* in a file: a located bad row that says why */
	const char *p = FIXTURE("far.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
					   "2024-01-01 00:00:00,1,1\n2300-01-01 00:00:00,1,1\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_error err = {0};
	assert_int_equal(read_all(p, &cfg, NULL, 0, NULL, &err), -1);
	assert_contains(err.msg, "far.csv:3: bad row (unreadable timestamp): timestamp '2300-01-01 00:00:00' "
				 "is out of range; expected a date from 1677-09-21 to 2262-04-11");
	/* token counts too large for any integer are refused, not converted (undefined) */
	const char *b = FIXTURE("big.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
					   "2024-01-01 00:00:00,1e300,1\n");
	assert_int_equal(read_all(b, &cfg, NULL, 0, NULL, &err), -1);
	assert_contains(err.msg, "big.csv:2: bad row (value too large): the prompt tokens is 1e+300;");
	const char *m = FIXTURE("big.jsonl", "{\"timestamp\": 1e30, \"input_length\": 5, "
					     "\"output_length\": 1}\n"
					     "{\"timestamp\": 0, \"input_length\": -1e300, "
					     "\"output_length\": 1}\n");
	cfg.bad_rows = LLMCAP_BAD_ROWS_SKIP;
	struct llmcap_trace_counts c;
	assert_int_equal(read_all(m, &cfg, NULL, 0, &c, &err), 0);
	assert_int_equal(c.bad[LLMCAP_BAD_BAD_TIMESTAMP], 1);
	assert_int_equal(c.bad[LLMCAP_BAD_NEGATIVE], 1);
}

/* The message for a bad last line without a line end was formatted into the buffer it read
 * from ("the file ends inside this row (the file ends inside this row (..."). */
static void truncated_row_message(void **state)
{
	(void)state;
	const char *p = FIXTURE("cut.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
					   "2024-01-01 00:00:00,1,1\n2024-01-01 00:00:01,7");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_error err = {0};
	assert_int_equal(read_all(p, &cfg, NULL, 0, NULL, &err), -1);
	assert_contains(err.msg, "cut.csv:3: bad row (truncated last line): the file ends inside "
				 "this row (2 fields; expected at least 3);");
	assert_null(strstr(err.msg, "this row (the file"));
}

/* Raw bytes of a garbage file are escaped in messages, never sent to the terminal as they are. */
static void garbage_is_escaped_in_messages(void **state)
{
	(void)state;
	const char *p = FIXTURE("junk.csv", "\x1b[2J\x7f\xff\xfe,a\\b,caf\xc3\xa9\n1,2,3\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_error err = {0};
	assert_int_equal(read_all(p, &cfg, NULL, 0, NULL, &err), -1);
	assert_contains(err.msg, "junk.csv:1: header '\\x1B[2J\\x7F\\xFF\\xFE,a\\\\b,caf\xc3\xa9' is not");
	for (const char *c = err.msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fail_msg("control byte 0x%02x in '%s'", (unsigned char)*c, err.msg);
	const char *q = FIXTURE("junk2.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
					    "2024-01-01 00:00:00,\x1b]0;owned\x07,1\n");
	assert_int_equal(read_all(q, &cfg, NULL, 0, NULL, &err), -1);
	assert_contains(err.msg, "the prompt tokens is '\\x1B]0;owned\\x07'");
	const char *col[] = {"ContextTokens"};
	int32_t *v = NULL;
	size_t n = 0;
	assert_int_equal(llmcap_trace_read_columns(q, col, 1, &v, &n, &err), -LLMCAP_EINVAL);
	assert_contains(err.msg, "column 'ContextTokens' is '\\x1B]0;owned\\x07'");
	char buf[4 * 5 + 8];
	assert_string_equal(llmcap_trace_shown("abcdefgh", 8, 5, buf, sizeof buf), "abcde...");
	assert_string_equal(llmcap_trace_shown("\xff\xff\xff\xff\xff\xff", 6, 5, buf, sizeof buf),
			    "\\xFF\\xFF\\xFF\\xFF\\xFF...");
}

/* RFC 4180 quoting in every CSV reader: a quoted field may hold commas and doubled quotes. */
static void csv_quoting(void **state)
{
	(void)state;
	char line[] = "\"gpt-4, turbo\", \"say \"\"hi\"\"\" ,plain,\"\",\"open,x\"y\",last";
	char *f[8];
	assert_int_equal(llmcap_csv_split(line, f, 8), 7);
	assert_string_equal(f[0], "gpt-4, turbo");
	assert_string_equal(f[1], "say \"hi\"");
	assert_string_equal(f[2], "plain");
	assert_string_equal(f[3], "");
	/* a quote followed by text is not RFC 4180: read as it stands, cut at the comma */
	assert_string_equal(f[4], "\"open");
	assert_string_equal(f[5], "x\"y\"");
	assert_string_equal(f[6], "last");
	const char *p = FIXTURE("q.csv", "Timestamp,Model,Request tokens,Response tokens\n"
					 "1,\"gpt-4, turbo\",10,2\n2,\"ChatGPT \"\"mini\"\"\",20,3\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_reader r;
	struct llmcap_error err = {0};
	struct llmcap_trace_row row;
	assert_int_equal(llmcap_trace_open(&r, p, &cfg, &err), 0);
	assert_int_equal(r.fmt, LLMCAP_TRACE_BURSTGPT);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_string_equal(row.cls, "gpt-4, turbo");
	assert_int_equal(row.prompt, 10);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_string_equal(row.cls, "ChatGPT \"mini\"");
	assert_int_equal(row.output, 3);
	llmcap_trace_close(&r);
}

/* A quoted field may hold line ends (RFC 4180): the record spans lines, the rows after it keep
 * their line numbers, and a quote never closed is one located bad row, not a crash. */
static void csv_quoted_line_ends(void **state)
{
	(void)state;
	struct llmcap_csv_quote q = {0};
	assert_true(llmcap_csv_quote_open(&q, "1,\"a", 4));
	assert_true(llmcap_csv_quote_open(&q, "b \"\"", 4)); /* "" inside: still open */
	assert_false(llmcap_csv_quote_open(&q, "c\",2", 4));
	struct llmcap_csv_quote t = {0};
	assert_false(llmcap_csv_quote_open(&t, "5\" screen,\"x\"", 14)); /* mid-field quote is text */
	const char *p = FIXTURE("ml.csv", "Timestamp,Model,Request tokens,Response tokens\r\n"
					  "1,\"gpt-4,\r\nturbo \"\"x\"\"\",10,2\r\n"
					  "2,plain,20,3\r\n"
					  "3,plain,x,3\r\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_reader r;
	struct llmcap_error err = {0};
	struct llmcap_trace_row row;
	assert_int_equal(llmcap_trace_open(&r, p, &cfg, &err), 0);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_string_equal(row.cls, "gpt-4,\nturbo \"x\"");
	assert_int_equal(row.line, 2);
	assert_int_equal(row.output, 2);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_int_equal(row.line, 4);
	assert_int_equal(row.prompt, 20);
	assert_true(llmcap_trace_next(&r, &row, &err) < 0);
	assert_non_null(strstr(err.msg, "ml.csv:5:"));
	llmcap_trace_close(&r);
	/* a field never closed runs to the end of the file: one row, cut short, located */
	p = FIXTURE("open.csv", "Timestamp,Model,Request tokens,Response tokens\n"
				"1,ok,10,2\n2,\"never closed,20,3\n3,ok,30,4\n");
	assert_int_equal(llmcap_trace_open(&r, p, &cfg, &err), 0);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_true(llmcap_trace_next(&r, &row, &err) < 0);
	assert_non_null(strstr(err.msg, "open.csv:3:"));
	llmcap_trace_close(&r);
	/* the column reader joins the record's lines too */
	p = FIXTURE("cols.csv", "ContextTokens,Note,GeneratedTokens\n7,\"two\nlines\",8\n9,x,10\n");
	const char *col[] = {"ContextTokens", "GeneratedTokens"};
	int32_t *v = NULL;
	size_t n = 0;
	assert_int_equal(llmcap_trace_read_columns(p, col, 2, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0], 7);
	assert_int_equal(v[n], 8); /* column-major: n rows per column */
	assert_int_equal(v[1], 9);
	free(v);
}

/* `llmcap workload --out` writes a trace that reads back row for row. */
static void llmcap_own_format(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	const char *sets[] = {"horizon=10min"};
	assert_int_equal(llmcap_scenario_load(sc, NULL, sets, 1, &cat, &err), 0);
	char path[400];
	snprintf(path, sizeof path, "%s/own.csv", tmpdir);
	FILE *f = fopen(path, "w");
	struct llmcap_traffic tr;
	assert_int_equal(llmcap_traffic_generate(sc, f, &tr, &err), 0);
	fclose(f);
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_counts c;
	assert_int_equal(read_all(path, &cfg, NULL, 0, &c, &err), tr.requests);
	struct llmcap_trace_reader r;
	struct llmcap_trace_row row;
	assert_int_equal(llmcap_trace_open(&r, path, &cfg, &err), 0);
	assert_int_equal(r.fmt, LLMCAP_TRACE_LLMCAP);
	assert_int_equal(llmcap_trace_next(&r, &row, &err), 1);
	assert_true(!strcmp(row.cls, "utility") || !strcmp(row.cls, "reasoning"));
	llmcap_trace_close(&r);
	llmcap_traffic_free(&tr);
	llmcap_scenario_free(sc);
	free(sc);
}

static void unknown_format_lists_formats(void **state)
{
	(void)state;
	const char *p = FIXTURE("u.csv", "time,tokens\n1,2\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_error err = {0};
	assert_int_equal(read_all(p, &cfg, NULL, 0, NULL, &err), -1);
	assert_contains(err.msg, "u.csv:1: header 'time,tokens' is not a known trace format");
	const char *names[] = {"azure (TIMESTAMP", "burstgpt (", "mooncake (", "llmcap (", "csv ("};
	for (size_t i = 0; i < 5; i++)
		assert_contains(err.msg, names[i]);
}

/* ---- bad rows: each kind, failing (default) and skipped and counted ---- */

struct bad_case {
	const char *name, *text;
	size_t len;
	int reason; /* -1: accepted under both policies */
	long line;
	long good;  /* rows read when skipping */
};

static void bad_rows_both_policies(void **state)
{
	(void)state;
	const char *H = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
	/* a 10 MB line between two good rows */
	size_t big = 10 * 1000 * 1000;
	char *ten_mb = malloc(big + 200);
	size_t k = (size_t)sprintf(ten_mb, "%s2024-01-01 00:00:01,1,1\n2024-01-01 00:00:02,", H);
	memset(ten_mb + k, '7', big);
	k += big;
	k += (size_t)sprintf(ten_mb + k, ",1\n2024-01-01 00:00:03,1,1\n");
#define ROW1 "2024-01-01 00:00:01,10,1\n"
#define ROW3 "2024-01-01 00:00:03,30,3\n"
	char buf[16][256];
	struct bad_case cases[] = {
		{"missing field", NULL, 0, LLMCAP_BAD_MISSING_FIELD, 3, 2},
		{"non-numeric tokens", NULL, 0, LLMCAP_BAD_NOT_A_NUMBER, 3, 2},
		{"negative tokens", NULL, 0, LLMCAP_BAD_NEGATIVE, 3, 2},
		{"backwards", NULL, 0, LLMCAP_BAD_BACKWARDS, 3, 2},
		{"bad timestamp", NULL, 0, LLMCAP_BAD_BAD_TIMESTAMP, 3, 2},
		{"invalid utf-8", NULL, 0, LLMCAP_BAD_INVALID_UTF8, 3, 2},
		{"truncated last line", NULL, 0, LLMCAP_BAD_TRUNCATED, 4, 2},
		{"crlf, blank and comment lines", NULL, 0, -1, 0, 3},
		{"10 MB line", ten_mb, k, LLMCAP_BAD_LINE_TOO_LONG, 3, 2},
	};
	const char *bodies[] = {
		"2024-01-01 00:00:02,20\n",
		"2024-01-01 00:00:02,2O,2\n",
		"2024-01-01 00:00:02,-20,2\n",
		"2023-12-31 23:59:59,20,2\n",
		"2024-01-01 25:00:02,20,2\n",
		"2024-01-01 00:00:02,\xff\xfe,2\n",
	};
	for (size_t i = 0; i < 6; i++) {
		snprintf(buf[i], sizeof buf[i], "%s" ROW1 "%s" ROW3, H, bodies[i]);
		cases[i].text = buf[i];
		cases[i].len = strlen(buf[i]);
	}
	snprintf(buf[6], sizeof buf[6], "%s" ROW1 "2024-01-01 00:00:02,20,2\n2024-01-01 00:00:03,30", H);
	cases[6].text = buf[6];
	cases[6].len = strlen(buf[6]);
	cases[6].good = 2;
	snprintf(buf[7], sizeof buf[7], "%s\r\n# note\r\n" ROW1 "\r\n2024-01-01 00:00:02,20,2\r\n   \n" ROW3, H);
	cases[7].text = buf[7];
	cases[7].len = strlen(buf[7]);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bad_case *bc = &cases[i];
		char name[32];
		snprintf(name, sizeof name, "bad%zu.csv", i);
		const char *p = fixture(name, bc->text, bc->len);
		struct llmcap_trace_cfg cfg = default_cfg();
		struct llmcap_error err = {0};
		struct llmcap_trace_counts c;
		long n = read_all(p, &cfg, NULL, 0, &c, &err);
		if (bc->reason < 0) {
			if (n != bc->good)
				fail_msg("%s: %ld rows (%s), expected %ld", bc->name, n, err.msg, bc->good);
			assert_int_equal(c.blank, 4);
		} else {
			char where[450];
			snprintf(where, sizeof where, "%s:%ld: bad row (", p, bc->line);
			if (n != -1)
				fail_msg("%s: read %ld rows under bad_rows: fail", bc->name, n);
			if (!strstr(err.msg, where))
				fail_msg("%s: '%s' lacks '%s'", bc->name, err.msg, where);
			assert_contains(err.msg, "bad_rows: skip");
		}
		cfg.bad_rows = LLMCAP_BAD_ROWS_SKIP;
		n = read_all(p, &cfg, NULL, 0, &c, &err);
		if (n != bc->good)
			fail_msg("%s: %ld rows when skipping, expected %ld", bc->name, n, bc->good);
		int64_t total = 0;
		for (int r = 0; r < LLMCAP_BAD_N; r++)
			total += c.bad[r];
		assert_int_equal(total, bc->reason < 0 ? 0 : 1);
		if (bc->reason >= 0 && c.bad[bc->reason] != 1)
			fail_msg("%s: not counted as %s", bc->name, llmcap_bad_row_name(bc->reason));
	}
	free(ten_mb);
	/* malformed JSON, both policies */
	const char *m = FIXTURE("bad.jsonl", "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1}\n"
					     "{\"timestamp\": 1, \"input_length\": 5 \"output_length\": 1}\n"
					     "{\"timestamp\": 2, \"input_length\": 5, \"output_length\": 1}\n");
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_error err = {0};
	struct llmcap_trace_counts c;
	assert_int_equal(read_all(m, &cfg, NULL, 0, &c, &err), -1);
	assert_contains(err.msg, "bad.jsonl:2: bad row (malformed JSON)");
	cfg.bad_rows = LLMCAP_BAD_ROWS_SKIP;
	assert_int_equal(read_all(m, &cfg, NULL, 0, &c, &err), 2);
	assert_int_equal(c.bad[LLMCAP_BAD_BAD_JSON], 1);
}

/* ---- statistics of the shipped Azure 2023 conversation trace, recomputed here ---- */

static void conv_stats_match_independent_figures(void **state)
{
	(void)state;
	FILE *f = fopen(DATA "azure2023_conv.csv", "r");
	assert_non_null(f);
	char line[256];
	size_t n = 0, cap = 32768;
	double *p = malloc(cap * sizeof *p), *o = malloc(cap * sizeof *o);
	double sp = 0, so = 0;
	assert_non_null(fgets(line, sizeof line, f));
	while (fgets(line, sizeof line, f)) {
		int y, mo, d, h, mi;
		double s, a, b;
		assert_int_equal(sscanf(line, "%d-%d-%d %d:%d:%lf,%lf,%lf", &y, &mo, &d, &h, &mi, &s, &a, &b), 8);
		p[n] = a;
		o[n] = b;
		sp += a;
		so += b;
		n++;
	}
	fclose(f);
	assert_int_equal(n, 19366);
	struct llmcap_trace_cfg cfg = default_cfg();
	struct llmcap_trace_stats st;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_trace_stats(DATA "azure2023_conv.csv", &cfg, &st, &err), 0);
	assert_int_equal(st.counts.rows, 19366);
	assert_rel(st.prompt_mean, sp / (double)n, 1e-12);
	assert_rel(st.output_mean, so / (double)n, 1e-12);
	assert_rel(st.prompt_mean, 1155, 0.001); /* PROVENANCE.md */
	assert_rel(st.output_mean, 211, 0.001);
	gsl_sort(p, 1, n);
	gsl_sort(o, 1, n);
	const double qs[3] = {0.5, 0.9, 0.99};
	for (int i = 0; i < 3; i++) {
		assert_rel(st.prompt_q[i], gsl_stats_quantile_from_sorted_data(p, 1, n, qs[i]), 1e-12);
		assert_rel(st.output_q[i], gsl_stats_quantile_from_sorted_data(o, 1, n, qs[i]), 1e-12);
	}
	/* 18:15:46.6805900 to the last row */
	assert_rel(st.mean_rate, (double)(n) / st.span_s, 1e-12);
	assert_true(st.peak_minute > 1.2 && st.peak_minute < 2); /* close to Poisson: ~1.5 */
	assert_true(isnan(st.peak_hour));                        /* 58 minutes: no full hour */
	assert_rel(st.tokens_per_month, (sp + so) / st.span_s * LLMCAP_MONTH_SECONDS, 1e-12);
	free(p);
	free(o);
}

/* ---- replay ---- */

static void scenario(struct llmcap_scenario *sc, const char *trace, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	char file[600];
	snprintf(file, sizeof file, "workload.trace.file=%s", trace);
	llmcap_scenario_defaults(sc);
	const char *base[] = {
		"workload.classes={c: {pool: p, share: 0.5}, d: {pool: p, share: 0.5}}",
		"pools={p: {model: llama-3.1-8b, replicas: 2, perf_model: linear, linear: {per_step: 10ms, per_token_us: 20}}}",
		"hardware={gpus_per_server: 8}",
		"cost.api.prices={c: {input: 1, output: 1}, d: {input: 1, output: 1}}",
		"horizon=1h",
		file,
	};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		if (llmcap_scenario_apply_override(sc, base[i], &err) != 0)
			fail_msg("%s", err.msg);
	for (size_t i = 0; i < n; i++)
		if (llmcap_scenario_apply_override(sc, sets[i], &err) != 0)
			fail_msg("%s", err.msg);
	if (llmcap_scenario_check(sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

struct drawn {
	llmcap_time t[40000];
	size_t cls[40000];
	int64_t prompt[40000], output[40000];
	size_t n;
};

static void draw(const struct llmcap_scenario *sc, struct drawn *d)
{
	struct llmcap_workload wl;
	struct llmcap_error err = {0};
	if (llmcap_workload_init(&wl, sc, &err) != 0)
		fail_msg("%s", err.msg);
	d->n = 0;
	llmcap_time t;
	while ((t = llmcap_workload_next_arrival(&wl)) < sc->horizon && d->n < 40000) {
		d->t[d->n] = t;
		d->cls[d->n] = llmcap_workload_pick_class(&wl);
		llmcap_workload_lengths(&wl, d->cls[d->n], &d->prompt[d->n], &d->output[d->n]);
		d->n++;
	}
	assert_int_equal(llmcap_workload_error(&wl, NULL), 0);
	llmcap_workload_free(&wl);
}

static void replay_controls(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct drawn *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	const char *code = DATA "azure2023_code.csv";
	/* as is: every row, first at 0, gaps kept to the nanosecond */
	scenario(sc, code, NULL, 0);
	draw(sc, a);
	assert_int_equal(a->n, 8819);
	assert_int_equal(a->t[0], 0);
	assert_int_equal(a->t[1], 52000000);
	assert_int_equal(a->prompt[0], 4808);
	/* speedup 2: every time halved */
	const char *s2[] = {"workload.trace.speedup=2"};
	scenario(sc, code, s2, 1);
	draw(sc, b);
	assert_int_equal(b->n, 8819);
	for (size_t i = 0; i < b->n; i++)
		assert_true(llabs(b->t[i] - a->t[i] / 2) <= 1);
	/* a window of ten minutes after the first 5 */
	const char *w[] = {"workload.trace.start=5min", "workload.trace.end=15min"};
	scenario(sc, code, w, 2);
	draw(sc, b);
	size_t in = 0;
	for (size_t i = 0; i < a->n; i++)
		in += a->t[i] >= 5 * LLMCAP_MIN && a->t[i] < 15 * LLMCAP_MIN;
	assert_int_equal(b->n, in);
	size_t i0 = 0;
	while (a->t[i0] < 5 * LLMCAP_MIN)
		i0++;
	assert_int_equal(b->t[0], a->t[i0] - 5 * LLMCAP_MIN); /* the window starts at time 0 */
	assert_true(b->t[b->n - 1] < 10 * LLMCAP_MIN);
	/* a target rate, looped over 3 hours: the copies keep coming at that rate */
	const char *r[] = {"workload.trace.rate=1/s", "workload.trace.fill=loop", "horizon=3h"};
	scenario(sc, code, r, 3);
	draw(sc, b);
	assert_rel(b->n, 3 * 3600, 0.01);
	for (size_t i = 1; i < b->n; i++)
		assert_true(b->t[i] >= b->t[i - 1]);
	/* caps */
	const char *cap[] = {"workload.trace.max_prompt=1000", "workload.trace.max_output=20"};
	scenario(sc, code, cap, 2);
	draw(sc, b);
	for (size_t i = 0; i < b->n; i++) {
		assert_int_equal(b->prompt[i], a->prompt[i] < 1000 ? a->prompt[i] : 1000);
		assert_int_equal(b->output[i], a->output[i] < 20 ? (a->output[i] ? a->output[i] : 1) : 20);
	}
	/* a rule: long prompts to d */
	const char *rule[] = {"workload.trace.assign=rule", "workload.trace.long_prompt_tokens=2048",
			      "workload.trace.long_prompt_class=d", "workload.trace.class=c"};
	scenario(sc, code, rule, 4);
	draw(sc, b);
	for (size_t i = 0; i < b->n; i++)
		assert_int_equal(b->cls[i], b->prompt[i] > 2048 ? 1 : 0);
	/* a seeded random split by share: about half each, and the same split twice */
	scenario(sc, code, NULL, 0);
	draw(sc, b);
	size_t nd = 0;
	for (size_t i = 0; i < b->n; i++)
		nd += b->cls[i];
	assert_true(fabs((double)nd - 0.5 * (double)b->n) < 4 * sqrt(0.25 * (double)b->n));
	draw(sc, a);
	assert_memory_equal(a->cls, b->cls, b->n * sizeof b->cls[0]);
	/* mixing: the trace for c, a synthetic Poisson stream for d, merged in time order */
	const char *mix[] = {"workload.classes.d.arrival=poisson", "workload.classes.d.diurnal.shape=none",
			     "workload.rate=2/s"};
	scenario(sc, code, mix, 3);
	draw(sc, b);
	size_t nc = 0;
	nd = 0;
	for (size_t i = 0; i < b->n; i++) {
		nc += b->cls[i] == 0;
		nd += b->cls[i] == 1;
		if (i)
			assert_true(b->t[i] >= b->t[i - 1]);
	}
	assert_int_equal(nc, 8819);
	assert_true(fabs((double)nd - 3600) < 4 * 60); /* 0.5 x 2/s over an hour */
	/* the class column, through a mapping (BurstGPT's Model) */
	const char *col[] = {"workload.trace.assign=column", "workload.trace.models={ChatGPT: {class: c}, GPT-4: {class: d}}"};
	scenario(sc, DATA "burstgpt_1_first400rows.csv", col, 2);
	sc->horizon = 12 * LLMCAP_HOUR;
	draw(sc, b);
	assert_int_equal(b->n, 383);
	free(a);
	free(b);
	free(sc);
}

static void replay_rejects_bad_scenarios(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	char file[600];
	snprintf(file, sizeof file, "workload.trace.file=%s", DATA "burstgpt_1_first400rows.csv");
	const char *sets[] = {"workload.classes.utility.arrival=poisson",
			      "workload.classes.reasoning.arrival=poisson", file};
	assert_int_not_equal(llmcap_scenario_load(sc, NULL, sets, 3, &cat, &err), 0);
	assert_contains(err.msg, "no class takes the trace's rows");
	const char *col[] = {file, "workload.trace.assign=column", "workload.trace.models={ChatGPT: {class: utility}}"};
	/* GPT-4 rows have no class: a bad row, at load */
	llmcap_scenario_defaults(sc);
	assert_int_equal(llmcap_scenario_load(sc, NULL, col, 3, &cat, &err), 0);
	struct llmcap_results res;
	assert_int_not_equal(llmcap_simulate(sc, &cat, NULL, &res, &err), 0);
	assert_contains(err.msg, "burstgpt_1_first400rows.csv:");
	assert_contains(err.msg, "'GPT-4' is neither in workload.trace.models");
	llmcap_scenario_free(sc);
	const char *az[] = {"workload.trace.file=" DATA "azure2023_conv.csv", "workload.trace.assign=column"};
	assert_int_not_equal(llmcap_scenario_load(sc, NULL, az, 2, &cat, &err), 0);
	assert_contains(err.msg, "has no class column");
	free(sc);
}

static int count_request(void *user, const struct llmcap_request_record *r)
{
	int64_t *n = user;
	n[0]++;
	n[1 + r->status]++;
	return 0;
}

/* Every row of the trace arrives once and ends once: completed, rejected, spilled or
 * unfinished; and the run is deterministic. */
static void replay_conserves_every_request(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	/* one replica with slow steps: overloaded, so requests are rejected and left unfinished */
	const char *sets[] = {"horizon=50min", "workload.classes.c.max_waiting=20", "pools.p.replicas=1",
			      "pools.p.linear.per_token_us=200"};
	scenario(sc, DATA "azure2023_conv.csv", sets, 4);
	int64_t ended[1 + LLMCAP_REQ_N_STATUS] = {0};
	struct llmcap_sink sink = {.user = ended, .request = count_request};
	struct llmcap_results res;
	if (llmcap_simulate(sc, &cat, &sink, &res, &err) != 0)
		fail_msg("%s", err.msg);
	/* the rows in the first 50 minutes, counted independently */
	FILE *f = fopen(DATA "azure2023_conv.csv", "r");
	char line[256];
	int64_t rows = 0;
	double t0 = -1;
	assert_non_null(fgets(line, sizeof line, f));
	while (fgets(line, sizeof line, f)) {
		int h, mi;
		double s;
		assert_int_equal(sscanf(line, "2023-11-16 %d:%d:%lf", &h, &mi, &s), 3);
		double t = h * 3600 + mi * 60 + s;
		if (t0 < 0)
			t0 = t;
		rows += t - t0 < 3000;
	}
	fclose(f);
	int64_t arrived = 0, outcomes = 0;
	for (size_t c = 0; c < res.n_classes; c++) {
		const struct llmcap_class_stats *cs = &res.classes[c];
		arrived += cs->arrived;
		assert_int_equal(cs->arrived, cs->completed + cs->rejected + cs->spilled + cs->unfinished);
		outcomes += cs->completed + cs->rejected + cs->spilled + cs->unfinished;
	}
	assert_int_equal(arrived, rows);
	assert_int_equal(outcomes, rows);
	assert_int_equal(ended[0], rows);
	/* not vacuous: every kind of ending happened */
	assert_true(ended[1 + LLMCAP_REQ_REJECTED_QUEUE_FULL] > 0);
	assert_true(ended[1 + LLMCAP_REQ_UNFINISHED] > 0);
	assert_true(ended[1 + LLMCAP_REQ_COMPLETED] > 0);
	assert_true(res.has_trace);
	assert_true(res.trace.replayed >= rows); /* rows are drawn ahead of the horizon */
	uint64_t digest = res.digest;
	llmcap_results_free(&res);
	assert_int_equal(llmcap_simulate(sc, &cat, NULL, &res, &err), 0);
	assert_int_equal(res.digest, digest);
	llmcap_results_free(&res);
	free(sc);
}

static int record_hits(void *u, const struct llmcap_request_record *r)
{
	int64_t *hits = u;
	hits[r->id] = r->prefix_hit_tokens;
	return 0;
}

/* Mooncake hash ids become prefix-cache blocks: one id covers hash_block_tokens tokens, and an
 * engine block is shared when the ids up to its last token agree. */
static void hash_ids_share_prefix_blocks(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	struct llmcap_error err = {0};
	for (int bs = 0; bs < 2; bs++) {
		const char *sets[] = {"workload.classes={c: {pool: p}}",
				      "pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms}, "
				      "enable_prefix_caching: true}}",
				      "hardware={gpus_per_server: 8}", "cost.api.prices={c: {input: 1, output: 1}}",
				      bs ? "pools.p.block_size=1000" : "pools.p.block_size=16"};
		llmcap_scenario_defaults(sc);
		for (size_t i = 0; i < 5; i++)
			assert_int_equal(llmcap_scenario_apply_override(sc, sets[i], &err), 0);
		assert_int_equal(llmcap_scenario_check(sc, &cat, &err), 0);
		static const uint64_t a[] = {1, 2, 3, 4}, b[] = {1, 2, 9, 10}, c[] = {5, 2, 3, 4};
		struct llmcap_scripted_request q[] = {
			{.time = 0, .prompt = 2000, .output = 2, .hash_ids = a, .n_hash_ids = 4},
			{.time = LLMCAP_SEC, .prompt = 2000, .output = 2, .hash_ids = b, .n_hash_ids = 4},
			{.time = 2 * LLMCAP_SEC, .prompt = 2000, .output = 2, .hash_ids = c, .n_hash_ids = 4},
			{.time = 3 * LLMCAP_SEC, .prompt = 2000, .output = 2, .hash_ids = a, .n_hash_ids = 4},
		};
		int64_t hits[4] = {-1, -1, -1, -1};
		struct llmcap_results res;
		struct llmcap_sink sink = {.user = hits, .request = record_hits};
		assert_int_equal(llmcap_simulate_script(sc, &cat, &sink, q, 4, &res, &err), 0);
		llmcap_results_free(&res);
		assert_int_equal(hits[0], 0);
		/* ids 1, 2 agree: tokens 0-1023, i.e. 64 blocks of 16, or block 0 (tokens 0-999) of 1000 */
		assert_int_equal(hits[1], bs ? 1000 : 1024);
		assert_int_equal(hits[2], 0); /* the first id differs: nothing after it is shared */
		/* the same ids: the whole prompt but the last token's block (vLLM's cap) */
		assert_int_equal(hits[3], bs ? 1000 : 1984);
	}
	free(sc);
}

/* fill: loop replays the first copy's rows from memory: every later copy must be the first one
 * again, shifted by the copy's length, with the same classes, lengths and hash ids (Mooncake's
 * sample, with ids; a window that starts past the file's first rows; a speedup). */
static void looped_copies_repeat_the_window(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	const char *sets[] = {"workload.trace.format=mooncake", "workload.trace.fill=loop",
			      "workload.trace.start=30s", "workload.trace.speedup=1", "horizon=10h"};
	for (int sp = 0; sp < 2; sp++) {
		sets[3] = sp ? "workload.trace.speedup=3" : "workload.trace.speedup=1";
		scenario(sc, DATA "mooncake_conversation_first2000.jsonl", sets, 5);
		struct llmcap_replay *rp;
		struct llmcap_error err = {0};
		assert_int_equal(llmcap_replay_open(&rp, sc, &err), 0);
		const struct llmcap_replay_stats *st = llmcap_replay_stats(rp);
		const size_t n = (size_t)st->window_rows;
		struct llmcap_replay_row *first = calloc(n, sizeof *first);
		uint64_t **ids = calloc(n, sizeof *ids);
		for (int copy = 0; copy < 4; copy++)
			for (size_t i = 0; i < n; i++) {
				struct llmcap_replay_row r;
				assert_int_equal(llmcap_replay_next(rp, &r, &err), 1);
				if (copy == 0) {
					first[i] = r;
					ids[i] = malloc((r.n_hash_ids + 1) * sizeof **ids);
					memcpy(ids[i], r.hash_ids, r.n_hash_ids * sizeof **ids);
					continue;
				}
				llmcap_time shift = (llmcap_time)llround((double)(copy * st->period) / st->speedup);
				assert_true(llabs(r.t - (first[i].t + shift)) <= 1);
				assert_int_equal(r.cls, first[i].cls);
				assert_int_equal(r.prompt, first[i].prompt);
				assert_int_equal(r.output, first[i].output);
				assert_int_equal(r.n_hash_ids, first[i].n_hash_ids);
				assert_true(r.n_hash_ids > 0);
				assert_memory_equal(r.hash_ids, ids[i], r.n_hash_ids * sizeof **ids);
			}
		assert_int_equal(st->copies, 4);
		assert_int_equal(st->replayed, 4 * (int64_t)n);
		for (size_t i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		free(first);
		llmcap_replay_close(rp);
	}
	free(sc);
}

/* A target rate far below the trace's scales trace time past 64 bits of nanoseconds: those
 * rows were converted with llround out of range (INT64_MIN on x86: arrivals at negative times,
 * out of order); they lie past any horizon now. */
static void replay_time_beyond_64_bits(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	assert_non_null(sc);
	const char *r[] = {"workload.trace.rate=0.000000001/s"};
	scenario(sc, DATA "azure2023_code.csv", r, 1);
	struct llmcap_replay *rp;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_replay_open(&rp, sc, &err), 0);
	struct llmcap_replay_row row;
	llmcap_time last = 0;
	int rc, n = 0;
	while ((rc = llmcap_replay_next(rp, &row, &err)) > 0) {
		if (row.t < last)
			fail_msg("row %d at %lld after %lld", n, (long long)row.t, (long long)last);
		last = row.t;
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 8819);
	assert_int_equal(last, INT64_MAX);
	llmcap_replay_close(rp);
	llmcap_scenario_free(sc);
	free(sc);
}

/* The replay window is first row + start .. first row + end, and rows are placed at their
 * offset from the window's start: a first row at the last representable second plus an end of
 * 1 s wrapped the window's end negative (signed overflow; found by the trace_replay fuzzer), and
 * rows 229 years apart wrapped the period (their distance plus a mean gap). */
static void replay_window_at_the_edges_of_time(void **state)
{
	(void)state;
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	assert_non_null(sc);
	const char *end[] = {"workload.trace.end=1s"};
	scenario(sc, FIXTURE("edge.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
					 "2262-04-11 23:47:16,10,20\n"), end, 1);
	struct llmcap_replay *rp;
	struct llmcap_error err = {0};
	if (llmcap_replay_open(&rp, sc, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(llmcap_replay_stats(rp)->window_rows, 1);
	struct llmcap_replay_row row;
	if (llmcap_replay_next(rp, &row, &err) != 1)
		fail_msg("%s", err.msg);
	assert_int_equal(row.t, 0);
	assert_int_equal(row.prompt, 10);
	llmcap_replay_close(rp);
	llmcap_scenario_free(sc);

	scenario(sc, FIXTURE("far.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
					"1971-01-01 00:00:00,10,20\n2200-01-01 00:00:00,10,20\n"),
		 NULL, 0);
	assert_int_equal(llmcap_replay_open(&rp, sc, &err), -LLMCAP_EINVAL);
	if (!strstr(err.msg, "far.csv:3: this row is more than 146 years after"))
		fail_msg("%s", err.msg);
	llmcap_scenario_free(sc);
	free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(datetimes_are_exact),
		cmocka_unit_test(azure_code_first_gaps),
		cmocka_unit_test(azure_2024_styles),
		cmocka_unit_test(burstgpt_columns_by_name),
		cmocka_unit_test(mooncake_jsonl),
		cmocka_unit_test(generic_csv_mapping),
		cmocka_unit_test(times_out_of_range),
		cmocka_unit_test(truncated_row_message),
		cmocka_unit_test(garbage_is_escaped_in_messages),
		cmocka_unit_test(csv_quoting),
		cmocka_unit_test(csv_quoted_line_ends),
		cmocka_unit_test(llmcap_own_format),
		cmocka_unit_test(unknown_format_lists_formats),
		cmocka_unit_test(bad_rows_both_policies),
		cmocka_unit_test(conv_stats_match_independent_figures),
		cmocka_unit_test(replay_controls),
		cmocka_unit_test(replay_time_beyond_64_bits),
		cmocka_unit_test(replay_window_at_the_edges_of_time),
		cmocka_unit_test(replay_rejects_bad_scenarios),
		cmocka_unit_test(replay_conserves_every_request),
		cmocka_unit_test(hash_ids_share_prefix_blocks),
		cmocka_unit_test(looped_copies_repeat_the_window),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* HDF5 results: written, read back with the HDF5 C API and compared with what the simulator
 * computed; atomic replacement; refusal to overwrite. */
#include "test_util.h"

#include <dirent.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "llmcap/batch.h"
#include "llmcap/output.h"

static struct llmcap_catalog cat;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	snprintf(dir, sizeof dir, "/tmp/llmcap-h5-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	return llmcap_catalog_load_builtin(&cat, &err);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static int files_in_dir(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(d);
	return n;
}

/* Runs the reference scenario for `horizon` into path; returns the results and summary. */
static int run_to_with(const char *path, bool force, const char *horizon, const char *extra,
		       struct llmcap_results *res, struct llmcap_summary *sum, struct llmcap_error *err)
{
	static struct llmcap_scenario sc;
	char set[64];
	snprintf(set, sizeof set, "horizon=%s", horizon);
	const char *sets[] = {set, "output.timeseries_interval=10min", extra};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, sets, extra ? 3 : 2, &cat, err), 0);
	struct llmcap_h5 *h;
	struct llmcap_h5_info info = {.command_line = "test", .scenario_yaml = "name: x\n",
				      .started_at = "2026-01-01T00:00:00Z", .catalog_hash = 1};
	int rc = llmcap_h5_open(&h, path, force, &sc, &cat, &info, err);
	if (rc)
		return rc;
	struct llmcap_sink sink = {0};
	llmcap_h5_sink(h, &sink);
	assert_int_equal(llmcap_simulate(&sc, &cat, &sink, res, err), 0);
	assert_int_equal(llmcap_summarize(res, sum), 0);
	return llmcap_h5_finish(h, res, sum, err);
}

static int run_to(const char *path, bool force, const char *horizon, struct llmcap_results *res,
		  struct llmcap_summary *sum, struct llmcap_error *err)
{
	return run_to_with(path, force, horizon, NULL, res, sum, err);
}

static hsize_t rows(hid_t f, const char *name)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
	assert_true(d >= 0);
	hid_t sp = H5Dget_space(d);
	hsize_t n;
	H5Sget_simple_extent_dims(sp, &n, NULL);
	H5Sclose(sp);
	H5Dclose(d);
	return n;
}

/* Reads one double column of a compound dataset. */
static double *column(hid_t f, const char *name, const char *field, hsize_t *n)
{
	*n = rows(f, name);
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(double));
	H5Tinsert(t, field, 0, H5T_NATIVE_DOUBLE);
	double *v = malloc((*n ? *n : 1) * sizeof *v);
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
	assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
	H5Tclose(t);
	return v;
}

static int64_t attr_i64(hid_t f, const char *name)
{
	int64_t v = -1;
	hid_t a = H5Aopen(f, name, H5P_DEFAULT);
	assert_true(a >= 0);
	H5Aread(a, H5T_NATIVE_INT64, &v);
	H5Aclose(a);
	return v;
}

static void round_trip(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/run.h5", dir);
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	assert_int_equal(run_to(path, false, "6h", &res, &sum, &err), 0);
	assert_int_equal(files_in_dir(), 1); /* no temporary file left behind */

	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	assert_int_equal(attr_i64(f, "format_version"), LLMCAP_H5_FORMAT_VERSION);
	assert_int_equal(attr_i64(f, "complete"), 1);

	/* one row per request that arrived */
	int64_t arrived = 0;
	for (size_t c = 0; c < res.n_classes; c++)
		arrived += res.classes[c].arrived;
	assert_int_equal(rows(f, "requests"), (hsize_t)arrived);

	/* the TTFTs in the file give the percentiles the simulator reported */
	hsize_t n;
	double *ttft = column(f, "requests", "ttft_s", &n);
	double *status = NULL;
	hsize_t ns;
	{
		hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(int32_t));
		H5Tinsert(t, "class", 0, H5T_NATIVE_INT32);
		int32_t *cls = malloc(n * sizeof *cls);
		hid_t d = H5Dopen2(f, "requests", H5P_DEFAULT);
		assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, cls) >= 0);
		H5Dclose(d);
		H5Tclose(t);
		status = column(f, "requests", "e2e_s", &ns); /* NaN unless completed */
		struct llmcap_quantiles q;
		assert_true(llmcap_quantiles_init(&q, false, 0));
		for (hsize_t i = 0; i < n; i++)
			if (cls[i] == 1 && !isnan(status[i]))
				assert_true(llmcap_quantiles_add(&q, ttft[i]));
		assert_int_equal(q.count, (uint64_t)res.classes[1].completed);
		assert_rel(llmcap_quantiles_get(&q, 0.99), sum.classes[1].lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P99], 0);
		assert_rel(llmcap_quantiles_get(&q, 0.5), sum.classes[1].lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P50], 0);
		llmcap_quantiles_free(&q);
		free(cls);
	}
	free(ttft);
	free(status);

	/* summaries hold the same numbers */
	double *p99 = column(f, "summary/classes", "ttft_p99_s", &n);
	assert_int_equal(n, res.n_classes);
	for (size_t c = 0; c < res.n_classes; c++)
		assert_rel(p99[c], sum.classes[c].lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P99], 0);
	free(p99);
	double *tco = column(f, "summary/cost", "self_hosted_total", &n);
	assert_rel(tco[0], 273200, 0);
	free(tco);
	double *busy = column(f, "summary/utilisation", "busy", &n);
	assert_int_equal(n, res.n_pools + res.n_replicas);
	for (size_t p = 0; p < res.n_pools; p++)
		assert_rel(busy[p], sum.pool_util[p].busy, 0);
	free(busy);

	/* time series: 6 h at 10 min = 36 samples, per replica and per pool; arrivals add up to
	 * every request that reached a replica */
	assert_int_equal(rows(f, "timeseries/replicas"), 36 * res.n_replicas);
	assert_int_equal(rows(f, "timeseries/pools"), 36 * res.n_pools);
	hsize_t nt;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(int64_t));
	H5Tinsert(t, "arrivals", 0, H5T_NATIVE_INT64);
	nt = rows(f, "timeseries/replicas");
	int64_t *arr = malloc(nt * sizeof *arr), total = 0;
	hid_t d = H5Dopen2(f, "timeseries/replicas", H5P_DEFAULT);
	assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, arr) >= 0);
	H5Dclose(d);
	H5Tclose(t);
	for (hsize_t i = 0; i < nt; i++)
		total += arr[i];
	int64_t rejected = res.classes[0].rejected + res.classes[1].rejected;
	assert_int_equal(total, arrived - rejected);
	free(arr);
	H5Fclose(f);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
}

/* output.compression: level 0 stores the streamed tables without filters, a level > 0 with
 * the byte shuffle and deflate; the rows read back are the same either way, byte for byte. */
static int filters_of(hid_t f, const char *name)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
	hid_t p = H5Dget_create_plist(d);
	int n = H5Pget_nfilters(p);
	H5Pclose(p);
	H5Dclose(d);
	return n;
}

static void compression_levels(void **state)
{
	(void)state;
	char p0[128], p6[128];
	snprintf(p0, sizeof p0, "%s/c0.h5", dir);
	snprintf(p6, sizeof p6, "%s/c6.h5", dir);
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	assert_int_equal(run_to_with(p0, false, "12h", "output.compression=0", &res, &sum, &err), 0);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	assert_int_equal(run_to_with(p6, false, "12h", "output.compression=6", &res, &sum, &err), 0);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	hid_t f0 = H5Fopen(p0, H5F_ACC_RDONLY, H5P_DEFAULT), f6 = H5Fopen(p6, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f0 >= 0 && f6 >= 0);
	assert_int_equal(filters_of(f0, "requests"), 0);
	assert_int_equal(filters_of(f0, "timeseries/pools"), 0);
	assert_int_equal(filters_of(f6, "requests"), 2);
	/* every byte of every row, read back through HDF5's own filters: level 6's chunks are
	 * shuffled and deflated by llmcap (libdeflate) and written raw, the last one partial */
	const hsize_t n0 = rows(f0, "requests"), n6 = rows(f6, "requests");
	assert_true(n0 > 4096 && n0 % 4096 != 0 && n0 == n6);
	struct llmcap_request_record *a = malloc(n0 * sizeof *a), *b = malloc(n6 * sizeof *b);
	assert_non_null(a);
	assert_non_null(b);
	hid_t d0 = H5Dopen2(f0, "requests", H5P_DEFAULT), d6 = H5Dopen2(f6, "requests", H5P_DEFAULT);
	hid_t t0 = H5Dget_type(d0);
	assert_true(H5Tget_size(t0) == sizeof *a);
	assert_true(H5Dread(d0, t0, H5S_ALL, H5S_ALL, H5P_DEFAULT, a) >= 0);
	assert_true(H5Dread(d6, t0, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) >= 0);
	assert_memory_equal(a, b, n0 * sizeof *a);
	H5Tclose(t0);
	H5Dclose(d0);
	H5Dclose(d6);
	free(a);
	free(b);
	H5Fclose(f0);
	H5Fclose(f6);
	unlink(p0);
	unlink(p6);
}

static void existing_target_needs_force(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/keep.h5", dir);
	FILE *fp = fopen(path, "w");
	fputs("precious", fp);
	fclose(fp);
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	int before = files_in_dir();
	assert_int_equal(run_to(path, false, "1h", &res, &sum, &err), -LLMCAP_EIO);
	assert_contains(err.msg, "keep.h5: exists; not overwritten (use --force");
	assert_int_equal(files_in_dir(), before);
	assert_int_equal(run_to(path, true, "1h", &res, &sum, &err), 0);
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	H5Fclose(f);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
}

static void unwritable_target_is_a_clear_error(void **state)
{
	(void)state;
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	assert_int_equal(run_to("/nonexistent-dir/x.h5", false, "1h", &res, &sum, &err), -LLMCAP_EIO);
	assert_contains(err.msg, "/nonexistent-dir/x.h5: cannot create the output file: No such file");
}

/* An aborted run (an error or an interruption) leaves nothing behind. */
static void abort_leaves_nothing(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/aborted.h5", dir);
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"horizon=2h"};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, sets, 1, &cat, &err), 0);
	struct llmcap_h5 *h;
	struct llmcap_h5_info info = {.command_line = "t", .scenario_yaml = "", .started_at = "", .catalog_hash = 0};
	int before = files_in_dir();
	assert_int_equal(llmcap_h5_open(&h, path, false, &sc, &cat, &info, &err), 0);
	struct llmcap_sink sink = {0};
	llmcap_h5_sink(h, &sink);
	volatile sig_atomic_t stop = 1;
	sink.cancel = &stop;
	struct llmcap_results res;
	assert_int_equal(llmcap_simulate(&sc, &cat, &sink, &res, &err), -LLMCAP_ECANCELED);
	llmcap_h5_abort(h);
	assert_int_equal(files_in_dir(), before);
	assert_int_equal(access(path, F_OK), -1);
}

/* A file-size limit (EFBIG, as a full disk gives ENOSPC) while the per-request table grows:
 * an error that says why, no file, no temporary, and no crash later (HDF5's exit handler used
 * to dereference the half-closed file: SIGSEGV at exit). */
static void write_failure_says_why(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/full.h5", dir);
	struct rlimit old, small;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 40 * 1024;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	int before = files_in_dir();
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"horizon=1h"};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, sets, 1, &cat, &err), 0);
	struct llmcap_h5 *h;
	struct llmcap_h5_info info = {.command_line = "t", .scenario_yaml = "", .started_at = "", .catalog_hash = 0};
	assert_int_equal(llmcap_h5_open(&h, path, false, &sc, &cat, &info, &err), 0);
	struct llmcap_sink sink = {0};
	llmcap_h5_sink(h, &sink);
	struct llmcap_results res;
	int rc = llmcap_simulate(&sc, &cat, &sink, &res, &err);
	char msg[1100];
	if (rc != 0) { /* a sink append failed: the run stops, as llmcap run does */
		snprintf(msg, sizeof msg, "%s", llmcap_h5_error(h));
		llmcap_h5_abort(h);
	} else {
		struct llmcap_summary sum;
		assert_int_equal(llmcap_summarize(&res, &sum), 0);
		assert_int_equal(llmcap_h5_finish(h, &res, &sum, &err), -LLMCAP_EIO);
		snprintf(msg, sizeof msg, "%s", err.msg);
		llmcap_summary_free(&sum);
		llmcap_results_free(&res);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_contains(msg, "full.h5");
	assert_contains(msg, "File too large");
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(files_in_dir(), before);
	llmcap_scenario_free(&sc);
}

/* Two jobs to one path: the second fails at once, even with --force; the first's file is
 * whole. */
static void second_writer_is_refused(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/two.h5", dir);
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"horizon=1h"};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, sets, 1, &cat, &err), 0);
	struct llmcap_h5_info info = {.command_line = "t", .scenario_yaml = "", .started_at = "", .catalog_hash = 0};
	struct llmcap_h5 *a, *b;
	assert_int_equal(llmcap_h5_open(&a, path, true, &sc, &cat, &info, &err), 0);
	assert_int_equal(llmcap_h5_open(&b, path, true, &sc, &cat, &info, &err), -LLMCAP_EIO);
	assert_contains(err.msg, "two.h5: another llmcap job is writing this file");
	struct llmcap_sink sink = {0};
	llmcap_h5_sink(a, &sink);
	struct llmcap_results res;
	struct llmcap_summary sum;
	assert_int_equal(llmcap_simulate(&sc, &cat, &sink, &res, &err), 0);
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	assert_int_equal(llmcap_h5_finish(a, &res, &sum, &err), 0);
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	assert_int_equal(attr_i64(f, "complete"), 1);
	H5Fclose(f);
	/* the lock went with the job: a later job may write (here: replace) it */
	assert_int_equal(llmcap_h5_open(&b, path, true, &sc, &cat, &info, &err), 0);
	llmcap_h5_abort(b);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

/* Without --force, a file that appears at the target while the job runs is never replaced
 * (the check at the start is not enough: the move itself must not replace). */
static void file_created_meanwhile_is_kept(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/race.h5", dir);
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"horizon=30min"};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, sets, 1, &cat, &err), 0);
	struct llmcap_h5_info info = {.command_line = "t", .scenario_yaml = "", .started_at = "", .catalog_hash = 0};
	struct llmcap_h5 *h;
	int before = files_in_dir();
	assert_int_equal(llmcap_h5_open(&h, path, false, &sc, &cat, &info, &err), 0);
	FILE *fp = fopen(path, "w");
	fputs("precious", fp);
	fclose(fp);
	struct llmcap_sink sink = {0};
	llmcap_h5_sink(h, &sink);
	struct llmcap_results res;
	struct llmcap_summary sum;
	assert_int_equal(llmcap_simulate(&sc, &cat, &sink, &res, &err), 0);
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	assert_int_equal(llmcap_h5_finish(h, &res, &sum, &err), -LLMCAP_EIO);
	assert_contains(err.msg, "race.h5: was created by something else while this job ran");
	char buf[16] = "";
	fp = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof buf, fp));
	fclose(fp);
	assert_string_equal(buf, "precious");
	assert_int_equal(files_in_dir(), before + 1); /* the precious file, no temporary, no lock */
	unlink(path);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

/* A device (or any non-regular file) is never replaced, even with --force. */
static void device_refused_even_with_force(void **state)
{
	(void)state;
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	assert_int_equal(run_to("/dev/null", true, "1h", &res, &sum, &err), -LLMCAP_EUSAGE);
	assert_contains(err.msg, "/dev/null: not a regular file (a device)");
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

/* The temporaries of processes that are gone are removed by the next job in the folder; a
 * live process's are kept. The new file has mode 0666 less the umask. */
static void stale_temporaries_and_mode(void **state)
{
	(void)state;
	char host[64], dead[256], live[256], path[128];
	gethostname(host, sizeof host);
	host[sizeof host - 1] = 0;
	for (char *c = host; *c; c++)
		if (*c == '/')
			*c = '_';
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	assert_true(child > 0);
	waitpid(child, NULL, 0);
	snprintf(dead, sizeof dead, "%s/.old.h5.llmcap-tmp.%s.%ld", dir, host, (long)child);
	snprintf(live, sizeof live, "%s/.other.h5.llmcap-tmp.%s.%ld", dir, host, (long)getppid());
	FILE *fp = fopen(dead, "w");
	fclose(fp);
	fp = fopen(live, "w");
	fclose(fp);
	snprintf(path, sizeof path, "%s/mode.h5", dir);
	mode_t old = umask(027);
	struct llmcap_results res;
	struct llmcap_summary sum;
	struct llmcap_error err = {0};
	assert_int_equal(run_to(path, false, "10min", &res, &sum, &err), 0);
	umask(old);
	assert_int_equal(access(dead, F_OK), -1);
	assert_int_equal(access(live, F_OK), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	unlink(live);
	unlink(path);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
}

/* Feeds two batch-means accumulators and the file's sink, as llmcap run --batch-means does. */
struct bm_sink {
	struct llmcap_sink inner;
	struct llmcap_batch *a, *b;
};

static int bm_request(void *user, const struct llmcap_request_record *r)
{
	struct bm_sink *s = user;
	int rc = s->inner.request ? s->inner.request(s->inner.user, r) : 0;
	if (rc == 0)
		rc = llmcap_batch_request(s->a, r);
	return rc ? rc : llmcap_batch_request(s->b, r);
}

static int bm_sample(void *user, const struct llmcap_sample_row *row)
{
	struct bm_sink *s = user;
	llmcap_batch_sample(s->a, row);
	llmcap_batch_sample(s->b, row);
	return s->inner.sample ? s->inner.sample(s->inner.user, row) : 0;
}

/* /summary/batch_means holds what llmcap_batch_means computes for the same run. */
static void batch_means_table(void **state)
{
	(void)state;
	static struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	char path[128];
	snprintf(path, sizeof path, "%s/bm.h5", dir);
	const char *sets[] = {"horizon=5h", "output.timeseries_interval=10min"};
	assert_int_equal(llmcap_scenario_load(&sc, NULL, sets, 2, &cat, &err), 0);
	struct llmcap_batch *written, *ref;
	assert_int_equal(llmcap_batch_init(&written, &sc, 4, -1, &err), 0);
	assert_int_equal(llmcap_batch_init(&ref, &sc, 4, -1, &err), 0);
	int before = files_in_dir();
	struct llmcap_h5 *h;
	struct llmcap_h5_info info = {.command_line = "test", .scenario_yaml = "name: x\n",
				      .started_at = "2026-01-01T00:00:00Z", .catalog_hash = 1};
	assert_int_equal(llmcap_h5_open(&h, path, false, &sc, &cat, &info, &err), 0);
	struct bm_sink bs = {.a = written, .b = ref};
	llmcap_h5_sink(h, &bs.inner);
	llmcap_h5_batch_means(h, written);
	struct llmcap_sink sink = bs.inner;
	sink.user = &bs;
	sink.request = bm_request;
	sink.sample = bm_sample;
	sink.sample_interval = sc.output.timeseries_interval;
	struct llmcap_results res;
	struct llmcap_summary sum;
	assert_int_equal(llmcap_simulate(&sc, &cat, &sink, &res, &err), 0);
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	assert_int_equal(llmcap_h5_finish(h, &res, &sum, &err), 0);
	assert_int_equal(files_in_dir(), before + 1); /* no temporary file left behind */

	size_t n = llmcap_batch_n_metrics(sc.workload.n_classes, sc.n_pools);
	double *want = calloc(2 * n, sizeof *want);
	assert_non_null(want);
	llmcap_batch_means(ref, want);

	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	hsize_t nr;
	double *mean = column(f, "summary/batch_means", "mean", &nr);
	assert_int_equal(nr, n);
	double *ci = column(f, "summary/batch_means", "ci95_half_width", &nr);
	int finite_ci = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(isnan(want[2 * i]) ? isnan(mean[i]) : mean[i] == want[2 * i]);
		assert_true(isnan(want[2 * i + 1]) ? isnan(ci[i]) : ci[i] == want[2 * i + 1]);
		finite_ci += isfinite(ci[i]) && ci[i] > 0;
	}
	assert_true(finite_ci > 0);
	/* names in llmcap_batch_metric_name order */
	hid_t s96 = H5Tcopy(H5T_C_S1);
	H5Tset_size(s96, 96);
	hid_t nt = H5Tcreate(H5T_COMPOUND, 96);
	H5Tinsert(nt, "name", 0, s96);
	char(*names)[96] = calloc(n, sizeof *names);
	hid_t d = H5Dopen2(f, "summary/batch_means", H5P_DEFAULT);
	assert_true(H5Dread(d, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0);
	for (size_t i = 0; i < n; i++) {
		char name[96];
		llmcap_batch_metric_name(&sc, i, name, sizeof name);
		assert_string_equal(names[i], name);
	}
	assert_int_equal(attr_i64(d, "batches"), 4);
	double len = 0, warm = 0;
	hid_t a = H5Aopen(d, "batch_length_s", H5P_DEFAULT);
	H5Aread(a, H5T_NATIVE_DOUBLE, &len);
	H5Aclose(a);
	a = H5Aopen(d, "warmup_s", H5P_DEFAULT);
	H5Aread(a, H5T_NATIVE_DOUBLE, &warm);
	H5Aclose(a);
	assert_true(len == 3600.0 && warm == 3600.0); /* 5 h in K + 1 parts, auto warm-up */
	H5Dclose(d);
	H5Tclose(nt);
	H5Tclose(s96);
	H5Fclose(f);
	free(names);
	free(mean);
	free(ci);
	free(want);
	llmcap_batch_free(written);
	llmcap_batch_free(ref);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(batch_means_table),
		cmocka_unit_test(compression_levels),
		cmocka_unit_test(existing_target_needs_force),
		cmocka_unit_test(unwritable_target_is_a_clear_error),
		cmocka_unit_test(abort_leaves_nothing),
		cmocka_unit_test(write_failure_says_why),
		cmocka_unit_test(second_writer_is_refused),
		cmocka_unit_test(file_created_meanwhile_is_kept),
		cmocka_unit_test(device_refused_even_with_force),
		cmocka_unit_test(stale_temporaries_and_mode),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* The sweep's file (llmcap sweep -o): /runs, /points and the runs' time series. See
 * include/llmcap/sweep.h and docs/hdf5-layout.md. */
#include "llmcap/sweep.h"

#include <hdf5.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/h5.h"
#include "llmcap/output.h"

#define INSERT LLMCAP_H5_INSERT

/* A compound type built at run time: one field per varied key and per metric. Fields are
 * placed in order, each aligned to 8 bytes, in a row of `size` bytes. */
struct row_layout {
	size_t size, off_point, off_seed, off_replicate, off_n, off_digest;
	size_t off_axes, off_axes_si, off_metrics, off_valid, off_error, error_size;
};

/* A varied value as a number in SI base units, for plotting beside its typed text: a bare
 * number as is, a rate ("20/s", "5e4/day") in 1/s, a duration ("2h") in s, a token volume
 * ("500M", "5B", "1.2T": 1e6, 1e9, 1e12; "20k" 1e3) as a count, a size ("80GiB") in bytes;
 * NaN for anything else (a name, a boolean). The key's type is not consulted: the forms do not
 * overlap, except a bare "B", which is a billion (token volumes) rather than bytes. */
static double sweep_value_si(const char *v)
{
	double x;
	llmcap_time t;
	size_t n = strlen(v);
	if (llmcap_parse_double(v, &x) == 0 || llmcap_parse_rate(v, &x) == 0)
		return x;
	if (llmcap_parse_duration(v, &t) == 0)
		return (double)t / 1e9; /* exact for whole seconds, unlike * 1e-9 */
	if (n >= 2 && strchr("kKMBT", v[n - 1])) {
		char num[LLMCAP_SWEEP_VALUE_MAX];
		snprintf(num, sizeof num, "%.*s", (int)(n - 1), v);
		double scale = v[n - 1] == 'M' ? 1e6 : v[n - 1] == 'B' ? 1e9 : v[n - 1] == 'T' ? 1e12 : 1e3;
		if (llmcap_parse_double(num, &x) == 0)
			return x * scale;
	}
	if (llmcap_parse_bytes(v, &x) == 0)
		return x;
	return NAN;
}

/* The width of the error column: the longest message of an invalid point, NUL included. */
static size_t sweep_error_size(const struct llmcap_sweep *sw)
{
	size_t n = 1;
	for (size_t p = 0; sw->point_error && p < sw->n_points; p++)
		if (sw->point_error[p] && strlen(sw->point_error[p]) + 1 > n)
			n = strlen(sw->point_error[p]) + 1;
	return n;
}

static int sweep_type(const struct llmcap_sweep *sw, bool points, struct row_layout *l, hid_t *out)
{
	size_t off = 0;
	l->off_point = off;
	off += 8;
	l->off_seed = l->off_replicate = l->off_n = off;
	off += points ? 8 : 16; /* n_seeds, or seed + replicate */
	if (!points)
		l->off_replicate = l->off_seed + 8;
	l->off_axes = off;
	off += sw->n_axes * LLMCAP_SWEEP_VALUE_MAX;
	l->off_axes_si = off;
	off += sw->n_axes * 8;
	l->off_metrics = off;
	off += sw->n_metrics * 8 * (points ? 2 : 1);
	l->off_digest = off;
	off += points ? 0 : 24;
	l->off_valid = off;
	off += 8;
	l->off_error = off;
	l->error_size = sweep_error_size(sw);
	off += (l->error_size + 7) / 8 * 8;
	l->size = off;
	hid_t t = H5Tcreate(H5T_COMPOUND, l->size);
	hid_t sv = llmcap_h5_string_type(LLMCAP_SWEEP_VALUE_MAX), s17 = llmcap_h5_string_type(17);
	int rc = H5Tinsert(t, "point", l->off_point, H5T_NATIVE_INT64) < 0;
	if (points) {
		rc |= H5Tinsert(t, "n_seeds", l->off_n, H5T_NATIVE_INT64) < 0;
	} else {
		rc |= H5Tinsert(t, "seed", l->off_seed, H5T_NATIVE_UINT64) < 0;
		rc |= H5Tinsert(t, "replicate", l->off_replicate, H5T_NATIVE_INT64) < 0;
	}
	for (size_t a = 0; a < sw->n_axes; a++) {
		/* a varied key names its column, unless it is a fixed column's name (seed) */
		const char *k = sw->axes[a].key;
		char name[LLMCAP_SWEEP_KEY_MAX + 8];
		bool clash = !strcmp(k, "point") || !strcmp(k, "seed") || !strcmp(k, "replicate") ||
			     !strcmp(k, "n_seeds") || !strcmp(k, "digest") || !strcmp(k, "valid") ||
			     !strcmp(k, "error");
		snprintf(name, sizeof name, "%s%s", clash ? "vary." : "", k);
		rc |= H5Tinsert(t, name, l->off_axes + a * LLMCAP_SWEEP_VALUE_MAX, sv) < 0;
	}
	for (size_t a = 0; a < sw->n_axes; a++) {
		/* the same value as a number (sweep_value_si), beside the text: KEY_si */
		const char *k = sw->axes[a].key;
		char name[LLMCAP_SWEEP_KEY_MAX + 16];
		bool clash = !strcmp(k, "point") || !strcmp(k, "seed") || !strcmp(k, "replicate") ||
			     !strcmp(k, "n_seeds") || !strcmp(k, "digest") || !strcmp(k, "valid") ||
			     !strcmp(k, "error");
		snprintf(name, sizeof name, "%s%s_si", clash ? "vary." : "", k);
		rc |= H5Tinsert(t, name, l->off_axes_si + a * 8, H5T_NATIVE_DOUBLE) < 0;
	}
	for (size_t m = 0; m < sw->n_metrics; m++) {
		if (!points) {
			rc |= H5Tinsert(t, sw->metric_names[m], l->off_metrics + 8 * m, H5T_NATIVE_DOUBLE) < 0;
			continue;
		}
		char name[LLMCAP_SWEEP_METRIC_MAX + 8];
		snprintf(name, sizeof name, "%s_mean", sw->metric_names[m]);
		rc |= H5Tinsert(t, name, l->off_metrics + 16 * m, H5T_NATIVE_DOUBLE) < 0;
		snprintf(name, sizeof name, "%s_ci95", sw->metric_names[m]);
		rc |= H5Tinsert(t, name, l->off_metrics + 16 * m + 8, H5T_NATIVE_DOUBLE) < 0;
	}
	if (!points)
		rc |= H5Tinsert(t, "digest", l->off_digest, s17) < 0;
	hid_t se = llmcap_h5_string_type(l->error_size);
	rc |= H5Tinsert(t, "valid", l->off_valid, H5T_NATIVE_INT64) < 0;
	rc |= H5Tinsert(t, "error", l->off_error, se) < 0;
	H5Tclose(se);
	H5Tclose(sv);
	H5Tclose(s17);
	if (rc) {
		H5Tclose(t);
		return -1;
	}
	*out = t;
	return 0;
}

static void put(char *row, size_t off, const void *v, size_t n)
{
	memcpy(row + off, v, n);
}

/* /timeseries/point_NNNNNN/replicate_K: each run's pool rows, in the layout of a run's
 * /timeseries/pools; the point's group carries its varied values as attributes. */
static int write_sweep_series(hid_t f, const struct llmcap_sweep *sw,
			      struct llmcap_sweep_journal *journal, struct llmcap_error *err)
{
	hid_t top = H5Gcreate2(f, "timeseries", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (top < 0)
		return -1;
	int rc = llmcap_h5_attr_double(top, "interval_s", (double)sw->ts_interval * 1e-9);
	hid_t st = llmcap_h5_sample_type();
	struct llmcap_sweep_series ts = {0};
	size_t seeds = (size_t)sw->seeds;
	for (size_t p = 0; rc == 0 && p < sw->n_points; p++) {
		char name[64];
		snprintf(name, sizeof name, "point_%06zu", p);
		hid_t g = H5Gcreate2(top, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		if (g < 0) {
			rc = -1;
			break;
		}
		rc = llmcap_h5_attr_int(g, "point", (int64_t)p) |
		     llmcap_h5_attr_int(g, "valid", llmcap_sweep_point_valid(sw, p));
		for (size_t a = 0; rc == 0 && a < sw->n_axes; a++)
			rc = llmcap_h5_attr_string(g, sw->axes[a].key,
					 sw->axes[a].values[llmcap_sweep_value_index(sw, p, a)]);
		for (size_t k = 0; rc == 0 && k < seeds; k++) {
			snprintf(name, sizeof name, "replicate_%zu", k);
			if (llmcap_sweep_journal_series(journal, p * seeds + k, &ts, err) != 0) {
				rc = -2;
				break;
			}
			rc = llmcap_h5_write_table(g, name, st, ts.n, ts.rows);
			if (rc == 0) {
				hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
				uint64_t seed = sw->point_seed[p] + k;
				rc = d < 0 ? -1 : llmcap_h5_attr_num(d, "seed", H5T_NATIVE_UINT64, &seed);
				if (d >= 0)
					H5Dclose(d);
			}
		}
		H5Gclose(g);
	}
	free(ts.rows);
	H5Tclose(st);
	H5Gclose(top);
	return rc;
}

int llmcap_h5_write_sweep(const char *target, bool force, const struct llmcap_sweep *sw,
			  const double *metrics, const uint64_t *digests,
			  struct llmcap_sweep_journal *journal, const char *command_line,
			  struct llmcap_error *err)
{
	llmcap_h5_init();
	struct llmcap_outfile out;
	int trc = llmcap_outfile_begin(&out, target, force, err);
	if (trc)
		return trc;
	size_t tasks = llmcap_sweep_tasks(sw), seeds = (size_t)sw->seeds;
	struct row_layout rl, pl;
	hid_t rt = -1, pt = -1;
	int rc = sweep_type(sw, false, &rl, &rt) | sweep_type(sw, true, &pl, &pt);
	char *runs = rc ? NULL : calloc(tasks ? tasks : 1, rl.size);
	char *pts = rc ? NULL : calloc(sw->n_points ? sw->n_points : 1, pl.size);
	double *col = calloc(seeds, sizeof *col);
	hid_t f = H5Fcreate(out.tmp, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
	if (!runs || !pts || !col || f < 0)
		rc = -1;
	for (size_t p = 0; rc == 0 && p < sw->n_points; p++) {
		char *prow = pts + p * pl.size;
		int64_t ip = (int64_t)p, ns = sw->seeds;
		bool valid = llmcap_sweep_point_valid(sw, p);
		int64_t iv = valid;
		const char *why = valid ? "" : sw->point_error[p];
		put(prow, pl.off_point, &ip, 8);
		put(prow, pl.off_n, &ns, 8);
		put(prow, pl.off_valid, &iv, 8);
		put(prow, pl.off_error, why, strlen(why));
		for (size_t a = 0; a < sw->n_axes; a++) {
			const char *v = sw->axes[a].values[llmcap_sweep_value_index(sw, p, a)];
			double si = sweep_value_si(v);
			put(prow, pl.off_axes + a * LLMCAP_SWEEP_VALUE_MAX, v, LLMCAP_SWEEP_VALUE_MAX);
			put(prow, pl.off_axes_si + a * 8, &si, 8);
		}
		for (size_t k = 0; k < seeds; k++) {
			size_t t = p * seeds + k;
			char *row = runs + t * rl.size;
			int64_t ik = (int64_t)k;
			put(row, rl.off_point, &ip, 8);
			put(row, rl.off_replicate, &ik, 8);
			uint64_t seed = sw->point_seed[p] + k;
			put(row, rl.off_seed, &seed, 8);
			put(row, rl.off_axes, prow + pl.off_axes, sw->n_axes * LLMCAP_SWEEP_VALUE_MAX);
			put(row, rl.off_axes_si, prow + pl.off_axes_si, sw->n_axes * 8);
			put(row, rl.off_valid, &iv, 8);
			put(row, rl.off_error, why, strlen(why));
			char d[24] = "";
			if (valid) {
				put(row, rl.off_metrics, &metrics[t * sw->n_metrics], sw->n_metrics * 8);
				snprintf(d, sizeof d, "%016llx", (unsigned long long)digests[t]);
			} else {
				/* never run: no metrics, no digest */
				for (size_t m = 0; m < sw->n_metrics; m++) {
					double nan = NAN;
					put(row, rl.off_metrics + 8 * m, &nan, 8);
				}
			}
			put(row, rl.off_digest, d, 17);
		}
		for (size_t m = 0; m < sw->n_metrics; m++) {
			double mc[2] = {NAN, NAN};
			size_t used;
			if (valid)
				llmcap_mean_ci95(&metrics[p * seeds * sw->n_metrics + m], seeds, sw->n_metrics,
						 &mc[0], &mc[1], &used);
			put(prow, pl.off_metrics + 16 * m, mc, 16);
		}
	}
	if (rc == 0) {
		int64_t one = 1;
		uint64_t hash = sw->hash;
		rc = llmcap_h5_write_table(f, "runs", rt, tasks, runs) | llmcap_h5_write_table(f, "points", pt, sw->n_points, pts) |
		     llmcap_h5_set_units(f, "runs", "*_s: seconds; busy, kv_*, mfu, hbm_fraction, slo_attainment: "
					  "shares; *_total: USD over the cost horizon; counts as doubles; KEY_si: "
					  "the varied value KEY in SI base units (1/s, s, bytes, counts; NaN: not a number)") |
		     llmcap_h5_set_units(f, "points", "as /runs; *_mean: mean over seeds; *_ci95: half-width of "
					    "the 95% Student-t confidence interval (NaN with one seed)") |
		     llmcap_h5_attr_int(f, "format_version", LLMCAP_H5_FORMAT_VERSION) |
		     llmcap_h5_attr_string(f, "kind", "sweep") |
		     llmcap_h5_attr_string(f, "llmcap_version", LLMCAP_VERSION) |
		     llmcap_h5_attr_string(f, "scenario_yaml", sw->base_yaml ? sw->base_yaml : "") |
		     llmcap_h5_attr_int(f, "seeds", sw->seeds) | llmcap_h5_attr_int(f, "zip", sw->zip) |
		     llmcap_h5_attr_int(f, "batch_means", sw->batch_means) |
		     llmcap_h5_attr_int(f, "skip_invalid", sw->skip_invalid) |
		     llmcap_h5_attr_int(f, "n_invalid", (int64_t)sw->n_invalid) |
		     llmcap_h5_attr_double(f, "warmup_s", sw->warmup < 0 ? NAN : (double)sw->warmup * 1e-9) |
		     llmcap_h5_attr_num(f, "sweep_hash", H5T_NATIVE_UINT64, &hash) |
		     llmcap_h5_attr_string(f, "command_line", command_line ? command_line : "") |
		     llmcap_h5_attr_num(f, "complete", H5T_NATIVE_INT64, &one);
		for (size_t a = 0; a < sw->n_axes; a++) {
			char name[LLMCAP_SWEEP_KEY_MAX + 16];
			snprintf(name, sizeof name, "vary:%s", sw->axes[a].key);
			rc |= llmcap_h5_attr_string(f, name, sw->axes[a].spec);
		}
	}
	int series_rc = 0;
	if (rc == 0 && sw->timeseries) {
		series_rc = journal ? write_sweep_series(f, sw, journal, err) : -1;
		rc = series_rc != 0;
	}
	if (rt >= 0)
		H5Tclose(rt);
	if (pt >= 0)
		H5Tclose(pt);
	/* a failed flush leaves a file to discard: HDF5 1.10 does not survive a failed H5Fclose */
	if (f >= 0 && rc == 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0)
		rc = -1;
	int e = errno;
	char why[160] = "";
	if (rc != 0 && series_rc != -2)
		llmcap_h5_why(why, sizeof why, e);
	if (f >= 0 && rc != 0)
		llmcap_h5_discard(f);
	else if (f >= 0 && H5Fclose(f) < 0)
		rc = -1;
	free(runs);
	free(pts);
	free(col);
	if (rc != 0) {
		llmcap_outfile_end(&out);
		if (series_rc == -2)
			return -err->code;
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write HDF5 output%s%s", target,
				     why[0] ? ": " : "", why);
	}
	rc = llmcap_outfile_commit(&out, err);
	llmcap_outfile_end(&out);
	return rc;
}

/* HDF5 building blocks shared by every result file. See include/llmcap/h5.h. */
#include "llmcap/h5.h"

#include "llmcap/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSERT LLMCAP_H5_INSERT

hid_t llmcap_h5_string_type(size_t n)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, n);
	H5Tset_strpad(t, H5T_STR_NULLTERM);
	return t;
}

int llmcap_h5_attr_string(hid_t loc, const char *name, const char *value)
{
	hid_t t = llmcap_h5_string_type(strlen(value) + 1);
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	herr_t rc = a < 0 ? -1 : H5Awrite(a, t, value);
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return rc < 0 ? -1 : 0;
}

int llmcap_h5_attr_num(hid_t loc, const char *name, hid_t type, const void *value)
{
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
	herr_t rc = a < 0 ? -1 : H5Awrite(a, type, value);
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	return rc < 0 ? -1 : 0;
}

int llmcap_h5_attr_double(hid_t loc, const char *name, double v)
{
	return llmcap_h5_attr_num(loc, name, H5T_NATIVE_DOUBLE, &v);
}

int llmcap_h5_attr_int(hid_t loc, const char *name, int64_t v)
{
	return llmcap_h5_attr_num(loc, name, H5T_NATIVE_INT64, &v);
}

/* A whole table written at once: chunked and compressed, readable with pandas. */
int llmcap_h5_write_table(hid_t loc, const char *name, hid_t type, size_t n, const void *rows)
{
	hsize_t dims[1] = {n}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {n ? n : 1};
	if (chunk[0] > LLMCAP_H5_CHUNK_ROWS)
		chunk[0] = LLMCAP_H5_CHUNK_ROWS;
	hid_t sp = H5Screate_simple(1, dims, maxdims);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 1, chunk);
	H5Pset_shuffle(dcpl);
	H5Pset_deflate(dcpl, 1);
	hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	herr_t rc = d < 0 ? -1 : n ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : 0;
	if (d >= 0)
		H5Dclose(d);
	H5Pclose(dcpl);
	H5Sclose(sp);
	return rc < 0 ? -1 : 0;
}

int llmcap_h5_set_units(hid_t loc, const char *name, const char *units)
{
	hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
	if (d < 0)
		return -1;
	int rc = llmcap_h5_attr_string(d, "units", units);
	H5Dclose(d);
	return rc;
}

/* Creates an empty temporary file beside `target` (so that the final rename() is atomic), with
 * the permissions a new file would get (mkstemp makes it 0600), and writes its name into tmp.
 * Refuses an existing target unless force. */
int llmcap_h5_temp_beside(const char *target, bool force, char *tmp, size_t n,
			  struct llmcap_error *err)
{
	if (!force && access(target, F_OK) == 0)
		return llmcap_errorf(err, LLMCAP_EIO,
				     "%s: exists; not overwritten (use --force, or another path)", target);
	const char *slash = strrchr(target, '/');
	int dirlen = slash ? (int)(slash - target + 1) : 0;
	if ((size_t)snprintf(tmp, n, "%.*s.%s.tmp-XXXXXX", dirlen, target, slash ? slash + 1 : target) >= n)
		return llmcap_errorf(err, LLMCAP_EINVAL, "%s: output path too long", target);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot create the output file: %s", target,
				     strerror(errno));
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	close(fd);
	return 0;
}

hid_t llmcap_h5_sample_type(void)
{
	typedef struct llmcap_sample_row S;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(S));
	INSERT(t, "time_s", S, time, H5T_NATIVE_DOUBLE);
	INSERT(t, "pool", S, pool, H5T_NATIVE_INT32);
	INSERT(t, "replica", S, replica, H5T_NATIVE_INT32);
	INSERT(t, "arrivals", S, arrivals, H5T_NATIVE_INT64);
	INSERT(t, "completions", S, completions, H5T_NATIVE_INT64);
	INSERT(t, "waiting", S, waiting, H5T_NATIVE_INT64);
	INSERT(t, "running", S, running, H5T_NATIVE_INT64);
	INSERT(t, "kv_occupancy", S, kv_occupancy, H5T_NATIVE_DOUBLE);
	INSERT(t, "busy", S, busy, H5T_NATIVE_DOUBLE);
	INSERT(t, "input_tokens_per_s", S, input_tokens_per_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "output_tokens_per_s", S, output_tokens_per_s, H5T_NATIVE_DOUBLE);
	return t;
}

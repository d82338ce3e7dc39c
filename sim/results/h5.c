/* HDF5 building blocks shared by every result file. See include/llmcap/h5.h. */
#define _GNU_SOURCE /* memfd_create, dup3, renameat2 */
#include "llmcap/h5.h"

#include "llmcap/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSERT LLMCAP_H5_INSERT

/* HDF5 1.10 registers an exit handler (H5_term_library) at its first call; it closes the files
 * still open, and a file whose close failed (after a write failed: a full disk) is half torn
 * down, which that handler then dereferences: SIGSEGV at exit. No handler, then: asked for
 * when the library is loaded, before any HDF5 call of any program linking it (a call in the
 * writers would come too late for a program that used HDF5 before, such as the tests). The
 * writers close every file they open; HDF5's memory at exit stays reachable (its globals).
 * The one load-time side effect of the library, and it sets HDF5's state, not ours. */
__attribute__((constructor)) static void no_hdf5_exit_handler(void)
{
	(void)H5dont_atexit();
}

void llmcap_h5_init(void)
{
	(void)H5dont_atexit(); /* fails harmlessly when the constructor above did it */
	/* HDF5's automatic error printing is process-wide; llmcap reports errors itself. */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

struct why {
	char *buf;
	size_t n;
};

static herr_t find_why(unsigned depth, const H5E_error2_t *e, void *user)
{
	(void)depth;
	struct why *w = user;
	/* the file drivers put the system's reason in their description:
	 * "..., errno = 28, error message = 'No space left on device', ..." */
	const char *m = e->desc ? strstr(e->desc, "error message = '") : NULL;
	if (m && !w->buf[0]) {
		m += strlen("error message = '");
		const char *q = strchr(m, '\'');
		snprintf(w->buf, w->n, "%.*s", q ? (int)(q - m) : (int)strlen(m), m);
	}
	return 0;
}

const char *llmcap_h5_why(char *buf, size_t n, int saved_errno)
{
	buf[0] = 0;
	struct why w = {buf, n};
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_why, &w);
	if (!buf[0] && saved_errno)
		snprintf(buf, n, "%s", strerror(saved_errno));
	return buf;
}

void llmcap_h5_discard(hid_t file)
{
	/* The file is being thrown away, maybe after a write failed (ENOSPC, EIO, EFBIG): what
	 * H5Fclose still writes (cached metadata, the final truncation) goes to an anonymous
	 * memory file put in place of its descriptor, so that the close cannot fail on the disk;
	 * the pages it writes are few (sparse), and gone with the descriptor. */
	void *handle = NULL;
	if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle) {
		int mem = memfd_create("llmcap-discarded", MFD_CLOEXEC);
		if (mem >= 0) {
			(void)dup3(mem, *(int *)handle, O_CLOEXEC);
			close(mem);
		}
	}
	/* HDF5 1.10.8 may still fail here (a flush that failed leaves its metadata cache
	 * inconsistent: "slist already enabled"); the file then stays half-closed, harmless
	 * without HDF5's exit handler (no_hdf5_exit_handler) */
	H5Fclose(file);
}

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
	INSERT(t, "replicas", S, replicas, H5T_NATIVE_INT64);
	return t;
}

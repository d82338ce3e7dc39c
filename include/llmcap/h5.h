/* HDF5 building blocks of the result files (sim/results/h5.c): the run's file
 * (sim/results/output.c), the sweep's and the break-even tables (sim/study/). Results part.
 *
 * HDF5 identifiers returned are owned by the caller. Functions return 0 or -1 (HDF5's own
 * error stack is silenced by the writers; the caller names the file in its error). */
#ifndef LLMCAP_H5_H
#define LLMCAP_H5_H

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmcap/core.h"

/* Rows per chunk of the tables written whole (and of the streamed per-request table). */
#define LLMCAP_H5_CHUNK_ROWS 4096
#define LLMCAP_H5_INSERT(t, name, type, member, htype) \
	H5Tinsert(t, name, HOFFSET(type, member), htype)

/* Call before the first HDF5 call of a writer: no HDF5 exit handler (see h5.c), HDF5's own
 * error printing off (errors are reported by llmcap, naming the file). */
void llmcap_h5_init(void);

/* Closes a file whose content is being thrown away, without touching the disk again (a failed
 * H5Fclose leaves HDF5 1.10 with a half-closed file): for the error paths. */
void llmcap_h5_discard(hid_t file);

/* Why the last HDF5 call failed, as the system said it (strerror's words, from HDF5's error
 * stack, else strerror(saved_errno)), into buf; "" when neither says. Returns buf. */
const char *llmcap_h5_why(char *buf, size_t n, int saved_errno);

/* A fixed-length, NUL-terminated string type of n bytes (the caller closes it). */
hid_t llmcap_h5_string_type(size_t n);

/* Scalar attributes on a file, group or dataset; 0 or -1. */
int llmcap_h5_attr_string(hid_t loc, const char *name, const char *value);

int llmcap_h5_attr_num(hid_t loc, const char *name, hid_t type, const void *value);

int llmcap_h5_attr_double(hid_t loc, const char *name, double v);

int llmcap_h5_attr_int(hid_t loc, const char *name, int64_t v);

/* A whole table written at once: chunked and compressed, readable with pandas. */
int llmcap_h5_write_table(hid_t loc, const char *name, hid_t type, size_t n, const void *rows);

/* The attribute "units" on the dataset `name` under loc. */
int llmcap_h5_set_units(hid_t loc, const char *name, const char *units);

/* The compound type of struct llmcap_sample_row (the caller closes it). */
hid_t llmcap_h5_sample_type(void);

#endif

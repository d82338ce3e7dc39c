/* The arrival processes of the workload's synthetic streams, as a table (traces/arrival.c),
 * internal to traces. A row's functions own the process-specific fields of struct
 * llmcap_stream (include/llmcap/workload.h); workload.c has already set kind, cls, rate, cv,
 * profile, rng and now (0) when init runs. */
#ifndef LLMCAP_TRACES_ARRIVAL_H
#define LLMCAP_TRACES_ARRIVAL_H

#include "llmcap/workload.h"

struct llmcap_arrival_row {
	/* The process's own state and random streams (named from the stream's name, so that no
	 * two sources share draws); NULL: none. 0, or an error in err. */
	int (*init)(struct llmcap_stream *st, const struct llmcap_mmpp_cfg *mm, uint64_t seed,
		    const char *name, struct llmcap_error *err);
	/* The next arrival time (ns, >= the last one), advancing st; INT64_MAX: none ever. */
	llmcap_time (*next)(struct llmcap_stream *st);
};

/* Indexed by enum llmcap_arrival_kind; LLMCAP_ARRIVAL_SHARED (a class taking the shared
 * stream) has no row. */
extern const struct llmcap_arrival_row llmcap_arrival_processes[LLMCAP_STREAM_ARRIVAL_COUNT];

#endif

/* The state of disaggregated prefill and decode (disagg.c), shared with disagg_read.c: what fast.c
 * and outcomes.c read of it (a decode replica's run bound, a request's stage times) lives in a
 * file of its own, which uses only the arrival stream, so that they depend on it without a
 * circle through disagg.c (which applies runs and ends requests). */
#ifndef LLMCAP_ENGINE_DISAGG_H
#define LLMCAP_ENGINE_DISAGG_H

#include "engine_private.h"

/* A prefill pool's link and KV sizes, resolved once. */
struct dg_pool {
	bool prefill;            /* this pool hands its requests over */
	bool decode;             /* some prefill pool hands its requests to this one */
	size_t peer;             /* prefill: the decode pool */
	double bandwidth;        /* bytes/s per GPU */
	llmcap_time latency;     /* per transfer */
	bool overlap;
	int64_t layers;
	double lane_bytes;       /* per prompt token: the larger of the two groups' per-GPU shares */
	double total_bytes;      /* per prompt token: all of the prefill group's GPUs */
};

/* A request handed over, by its slot: valid while id is the slot's request's. */
struct dg_req {
	int64_t id;
	llmcap_time prefill_end, step_time; /* the prefill step's end and duration */
	llmcap_time xfer_start, xfer_end;   /* -1 until reserved */
	int32_t prefill_replica;
	int32_t held;                       /* private blocks held on the prefill replica */
	int32_t reserved;                   /* blocks reserved on the decode replica */
};

struct llmcap_disagg {
	struct dg_pool pools[LLMCAP_MAX_POOLS];
	struct dg_req *req;
	size_t cap_req;
	struct deque *pending;   /* per replica: slots waiting for a reservation (decode pools) */
	int32_t *flight;         /* slots whose transfer is under way, in no order */
	size_t n_flight, cap_flight;
	llmcap_time *step_end;   /* per replica: the end of a prefill replica's step in flight */
};

#endif

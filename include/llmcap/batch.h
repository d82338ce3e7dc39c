/* Batch means: confidence intervals from one long run.
 *
 * After a warm-up W, the rest of the horizon is split into K batches of equal simulated length
 * L = (horizon - W) / K. A request belongs to the batch its arrival falls in; a time-series
 * sample (pool totals) to the batch its interval's midpoint falls in. Each batch gives the same
 * per-class metrics as a sweep's first sixteen (counts, TTFT/TPOT/E2E percentiles and means,
 * mean queueing time, SLO attainment) and per pool the busy share and mean KV occupancy. The
 * batch values are treated as K roughly independent, roughly normal observations: their mean
 * and a Student-t 95% interval with K - 1 degrees of freedom. That holds when a batch is much
 * longer than the correlation time of the queue (docs/sweeps.md says how to check).
 */
#ifndef LLMCAP_BATCH_H
#define LLMCAP_BATCH_H

#include "llmcap/sim.h"

#define LLMCAP_BATCH_MAX 1000

struct llmcap_batch;

/* k >= 2 batches; warmup < 0: auto (one batch's length, i.e. the horizon in k + 1 parts).
 * Fails (with a message naming the option) when a batch is shorter than the scenario's
 * output.timeseries_interval, or the warm-up leaves no time. */
int llmcap_batch_init(struct llmcap_batch **out, const struct llmcap_scenario *sc, int64_t k,
		      llmcap_time warmup, struct llmcap_error *err);
void llmcap_batch_free(struct llmcap_batch *b);

/* A duration for messages: "40s", "2min", or seconds to 4 digits ("10.91s"). */
void llmcap_batch_format(llmcap_time t, char *buf, size_t n);

/* The number of batches K. */
int64_t llmcap_batch_count(const struct llmcap_batch *b);
/* The warm-up and batch length actually used (ns). */
llmcap_time llmcap_batch_warmup(const struct llmcap_batch *b);
llmcap_time llmcap_batch_length(const struct llmcap_batch *b);

/* Feed every request record and every pool-total sample row (replica = -1) of the run; the
 * samples must come at the scenario's output.timeseries_interval. Returns 0, or
 * -LLMCAP_ENOMEM. */
int llmcap_batch_request(struct llmcap_batch *b, const struct llmcap_request_record *r);
void llmcap_batch_sample(struct llmcap_batch *b, const struct llmcap_sample_row *row);

/* Metrics per batch: 16 per class, then 2 per pool. */
size_t llmcap_batch_n_metrics(size_t n_classes, size_t n_pools);
/* The metric's name as in a sweep ("CLASS_ttft_p99_s", "POOL_busy"), at most 95 characters. */
void llmcap_batch_metric_name(const struct llmcap_scenario *sc, size_t i, char *buf, size_t n);
/* out[2 i]: mean of metric i over the batches whose value is finite; out[2 i + 1]: the 95%
 * half-width (NAN below two values). Sorts exact quantiles (not const). */
void llmcap_batch_means(struct llmcap_batch *b, double *out);

#endif

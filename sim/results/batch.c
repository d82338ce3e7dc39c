/* Batch means within one run. See include/llmcap/batch.h. */
#include "llmcap/batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/stats.h"

enum { N_CLASS = 16, N_POOL = 2 };
static const char *const class_names[N_CLASS] = {
	"completed", "rejected", "unfinished", "spilled",
	"ttft_p50_s", "ttft_p90_s", "ttft_p99_s", "ttft_mean_s",
	"tpot_p50_s", "tpot_p90_s", "tpot_p99_s",
	"e2e_p50_s", "e2e_p90_s", "e2e_p99_s", "queue_mean_s", "slo_attainment",
};
static const char *const pool_names[N_POOL] = {"busy", "kv_mean"};

struct class_batch {
	int64_t arrived, completed, rejected, unfinished, spilled, slo_met;
	double queue_sum;
	struct llmcap_quantiles ttft, tpot, e2e;
};

struct pool_batch {
	double busy_sum, kv_sum;
	int64_t samples;
};

struct llmcap_batch {
	const struct llmcap_scenario *sc;
	size_t k, n_classes, n_pools;
	llmcap_time warmup, length, interval;
	struct class_batch *cls; /* [batch * n_classes + class] */
	struct pool_batch *pool; /* [batch * n_pools + pool] */
	double *scratch;         /* k values of one metric */
};

void llmcap_batch_format(llmcap_time t, char *buf, size_t n)
{
	/* a whole unit when there is one (40s, 2min), else seconds to 4 digits (10.91s) */
	llmcap_format_duration(t, buf, n);
	if (strlen(buf) > 2 && !strcmp(buf + strlen(buf) - 2, "ns") && t >= 1000000)
		snprintf(buf, n, "%.4gs", (double)t * 1e-9);
}

int llmcap_batch_init(struct llmcap_batch **out, const struct llmcap_scenario *sc, int64_t k,
		      llmcap_time warmup, struct llmcap_error *err)
{
	*out = NULL;
	if (k < 2 || k > LLMCAP_BATCH_MAX)
		return llmcap_errorf(err, LLMCAP_EUSAGE, "--batch-means %lld: expected 2 to %d batches",
				     (long long)k, LLMCAP_BATCH_MAX);
	llmcap_time w = warmup < 0 ? sc->horizon / (k + 1) : warmup;
	char h[32], ws[32], ls[32], is[32];
	llmcap_batch_format(sc->horizon, h, sizeof h);
	llmcap_batch_format(w, ws, sizeof ws);
	if (w >= sc->horizon)
		return llmcap_errorf(err, LLMCAP_EUSAGE, "--warmup %s: leaves nothing of the %s horizon "
				     "for the batches", ws, h);
	llmcap_time len = (sc->horizon - w) / k;
	llmcap_batch_format(len, ls, sizeof ls);
	llmcap_batch_format(sc->output.timeseries_interval, is, sizeof is);
	if (len < sc->output.timeseries_interval)
		return llmcap_errorf(err, LLMCAP_EUSAGE,
				     "--batch-means %lld: batches of %s (horizon %s, warm-up %s) are "
				     "shorter than output.timeseries_interval (%s), which samples the "
				     "pools' busy share; use fewer batches, a longer horizon or a shorter "
				     "--set output.timeseries_interval", (long long)k, ls, h, ws, is);
	struct llmcap_batch *b = calloc(1, sizeof *b);
	if (!b)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	b->sc = sc;
	b->k = (size_t)k;
	b->n_classes = sc->workload.n_classes;
	b->n_pools = sc->n_pools;
	b->warmup = w;
	b->length = len;
	b->interval = sc->output.timeseries_interval;
	b->cls = calloc(b->k * b->n_classes, sizeof *b->cls);
	b->pool = calloc(b->k * b->n_pools + 1, sizeof *b->pool);
	b->scratch = calloc(b->k, sizeof *b->scratch);
	bool ok = b->cls && b->pool && b->scratch;
	bool streaming = sc->output.percentiles == LLMCAP_PERCENTILES_STREAMING;
	for (size_t i = 0; ok && i < b->k * b->n_classes; i++) {
		struct class_batch *c = &b->cls[i];
		ok = llmcap_quantiles_init(&c->ttft, streaming, sc->output.percentile_error) &&
		     llmcap_quantiles_init(&c->tpot, streaming, sc->output.percentile_error) &&
		     llmcap_quantiles_init(&c->e2e, streaming, sc->output.percentile_error);
	}
	if (!ok) {
		llmcap_batch_free(b);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	*out = b;
	return 0;
}

void llmcap_batch_free(struct llmcap_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->cls && i < b->k * b->n_classes; i++) {
		llmcap_quantiles_free(&b->cls[i].ttft);
		llmcap_quantiles_free(&b->cls[i].tpot);
		llmcap_quantiles_free(&b->cls[i].e2e);
	}
	free(b->cls);
	free(b->pool);
	free(b->scratch);
	free(b);
}

int64_t llmcap_batch_count(const struct llmcap_batch *b)
{
	return (int64_t)b->k;
}

llmcap_time llmcap_batch_warmup(const struct llmcap_batch *b)
{
	return b->warmup;
}

llmcap_time llmcap_batch_length(const struct llmcap_batch *b)
{
	return b->length;
}

/* The batch of a time in seconds, or k when outside every batch. */
static size_t batch_of(const struct llmcap_batch *b, double t_s)
{
	double x = (t_s * 1e9 - (double)b->warmup) / (double)b->length;
	if (!(x >= 0) || x >= (double)b->k)
		return b->k;
	return (size_t)x;
}

int llmcap_batch_request(struct llmcap_batch *b, const struct llmcap_request_record *r)
{
	size_t i = batch_of(b, r->arrival);
	if (i == b->k || r->cls < 0 || (size_t)r->cls >= b->n_classes)
		return 0;
	struct class_batch *c = &b->cls[i * b->n_classes + (size_t)r->cls];
	const struct llmcap_class_cfg *cl = &b->sc->workload.classes[r->cls];
	c->arrived++;
	bool done = r->status == LLMCAP_REQ_COMPLETED, spilled = llmcap_status_is_spilled(r->status);
	if (done) {
		c->completed++;
		c->queue_sum += r->queue;
		if (!llmcap_quantiles_add(&c->ttft, r->ttft) || !llmcap_quantiles_add(&c->e2e, r->e2e) ||
		    (r->output_tokens > 1 && !llmcap_quantiles_add(&c->tpot, r->tpot)))
			return -LLMCAP_ENOMEM;
	} else if (spilled) {
		c->spilled++;
	} else if (r->status == LLMCAP_REQ_UNFINISHED) {
		c->unfinished++;
	} else {
		c->rejected++;
	}
	/* as the engine counts SLO attainment: completed or spilled within both targets */
	if ((done || spilled) && r->ttft <= (double)cl->slo_ttft_p99 * 1e-9 &&
	    (r->output_tokens <= 1 || r->tpot <= (double)cl->slo_tpot_p99 * 1e-9))
		c->slo_met++;
	return 0;
}

void llmcap_batch_sample(struct llmcap_batch *b, const struct llmcap_sample_row *row)
{
	if (row->replica >= 0 || row->pool < 0 || (size_t)row->pool >= b->n_pools)
		return;
	size_t i = batch_of(b, row->time - 0.5e-9 * (double)b->interval);
	if (i == b->k)
		return;
	struct pool_batch *p = &b->pool[i * b->n_pools + (size_t)row->pool];
	p->busy_sum += row->busy;
	p->kv_sum += row->kv_occupancy;
	p->samples++;
}

size_t llmcap_batch_n_metrics(size_t n_classes, size_t n_pools)
{
	return n_classes * N_CLASS + n_pools * N_POOL;
}

void llmcap_batch_metric_name(const struct llmcap_scenario *sc, size_t i, char *buf, size_t n)
{
	size_t nc = sc->workload.n_classes;
	if (i < nc * N_CLASS)
		snprintf(buf, n, "%s_%s", sc->workload.classes[i / N_CLASS].name,
			 class_names[i % N_CLASS]);
	else
		snprintf(buf, n, "%s_%s", sc->pools[(i - nc * N_CLASS) / N_POOL].name,
			 pool_names[(i - nc * N_CLASS) % N_POOL]);
}

static double class_metric(struct class_batch *c, const struct llmcap_class_cfg *cl, size_t m)
{
	(void)cl;
	switch (m) {
	case 0: return (double)c->completed;
	case 1: return (double)c->rejected;
	case 2: return (double)c->unfinished;
	case 3: return (double)c->spilled;
	case 4: return llmcap_quantiles_get(&c->ttft, 0.50);
	case 5: return llmcap_quantiles_get(&c->ttft, 0.90);
	case 6: return llmcap_quantiles_get(&c->ttft, 0.99);
	case 7: return llmcap_quantiles_mean(&c->ttft);
	case 8: return llmcap_quantiles_get(&c->tpot, 0.50);
	case 9: return llmcap_quantiles_get(&c->tpot, 0.90);
	case 10: return llmcap_quantiles_get(&c->tpot, 0.99);
	case 11: return llmcap_quantiles_get(&c->e2e, 0.50);
	case 12: return llmcap_quantiles_get(&c->e2e, 0.90);
	case 13: return llmcap_quantiles_get(&c->e2e, 0.99);
	case 14: return c->completed ? c->queue_sum / (double)c->completed : NAN;
	default: return c->arrived ? (double)c->slo_met / (double)c->arrived : NAN;
	}
}

void llmcap_batch_means(struct llmcap_batch *b, double *out)
{
	size_t nc = b->n_classes, np = b->n_pools, k = 0;
	for (size_t c = 0; c < nc; c++)
		for (size_t m = 0; m < N_CLASS; m++, k++) {
			for (size_t i = 0; i < b->k; i++)
				b->scratch[i] = class_metric(&b->cls[i * nc + c], &b->sc->workload.classes[c], m);
			size_t used;
			llmcap_mean_ci95(b->scratch, b->k, 1, &out[2 * k], &out[2 * k + 1], &used);
		}
	for (size_t p = 0; p < np; p++)
		for (size_t m = 0; m < N_POOL; m++, k++) {
			for (size_t i = 0; i < b->k; i++) {
				const struct pool_batch *pb = &b->pool[i * np + p];
				double s = m == 0 ? pb->busy_sum : pb->kv_sum;
				b->scratch[i] = pb->samples ? s / (double)pb->samples : NAN;
			}
			size_t used;
			llmcap_mean_ci95(b->scratch, b->k, 1, &out[2 * k], &out[2 * k + 1], &used);
		}
}

/* HDF5 writer. See include/llmcap/output.h and docs/hdf5-layout.md. */
#include "llmcap/output.h"

#include <errno.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <libdeflate.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llmcap/batch.h"
#include "llmcap/cost.h"
#include "llmcap/h5.h"

#define BUF_ROWS 4096
#define CHUNK_ROWS LLMCAP_H5_CHUNK_ROWS /* = BUF_ROWS: each flush of the per-request table is one chunk */
#define NAME_LEN LLMCAP_NAME_MAX

struct llmcap_h5 {
	struct llmcap_outfile out; /* the target, its lock and the temporary */
	hid_t file;
	hid_t req_type, ts_type;
	hid_t req_dset;              /* the per-request table (request_dataset), or -1 */
	hid_t ts_replicas, ts_pools; /* packet tables, or -1 */
	struct llmcap_request_record *req_buf;
	size_t req_n;
	hsize_t req_rows; /* written so far */
	/* output.compression > 0: the chunks' compressor and buffers (flush_requests) */
	struct libdeflate_compressor *zc;
	unsigned char *shuffled, *deflated;
	size_t deflated_cap;
	struct llmcap_sample_row *rep_buf, *pool_buf;
	size_t rep_n, pool_n;
	const struct llmcap_scenario *sc;
	struct llmcap_batch *batch; /* batch means to write at finish, or NULL */
	char error[512];
};

/* ---- types ---- */

#define INSERT LLMCAP_H5_INSERT

static hid_t request_type(void)
{
	typedef struct llmcap_request_record R;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(R));
	INSERT(t, "id", R, id, H5T_NATIVE_INT64);
	INSERT(t, "arrival_s", R, arrival, H5T_NATIVE_DOUBLE);
	INSERT(t, "class", R, cls, H5T_NATIVE_INT32);
	INSERT(t, "pool", R, pool, H5T_NATIVE_INT32);
	INSERT(t, "replica", R, replica, H5T_NATIVE_INT32);
	INSERT(t, "status", R, status, H5T_NATIVE_INT32);
	INSERT(t, "preemptions", R, preemptions, H5T_NATIVE_INT32);
	INSERT(t, "prompt_tokens", R, prompt_tokens, H5T_NATIVE_INT64);
	INSERT(t, "output_tokens", R, output_tokens, H5T_NATIVE_INT64);
	INSERT(t, "generated_tokens", R, generated_tokens, H5T_NATIVE_INT64);
	INSERT(t, "prefix_hit_tokens", R, prefix_hit_tokens, H5T_NATIVE_INT64);
	INSERT(t, "queue_s", R, queue, H5T_NATIVE_DOUBLE);
	INSERT(t, "ttft_s", R, ttft, H5T_NATIVE_DOUBLE);
	INSERT(t, "tpot_s", R, tpot, H5T_NATIVE_DOUBLE);
	INSERT(t, "max_gap_s", R, max_gap, H5T_NATIVE_DOUBLE);
	INSERT(t, "e2e_s", R, e2e, H5T_NATIVE_DOUBLE);
	INSERT(t, "session", R, session, H5T_NATIVE_INT64);
	INSERT(t, "turn", R, turn, H5T_NATIVE_INT32);
	/* disaggregated prefill and decode: -1 and NaN for requests not handed over */
	INSERT(t, "prefill_replica", R, prefill_replica, H5T_NATIVE_INT32);
	INSERT(t, "prefill_s", R, prefill, H5T_NATIVE_DOUBLE);
	INSERT(t, "decode_queue_s", R, decode_queue, H5T_NATIVE_DOUBLE);
	INSERT(t, "kv_transfer_s", R, kv_transfer, H5T_NATIVE_DOUBLE);
	/* speculative decoding and multi-LoRA: 0 (and adapter -1) where off */
	INSERT(t, "spec_verifications", R, spec_verifications, H5T_NATIVE_INT32);
	INSERT(t, "spec_proposed", R, spec_proposed, H5T_NATIVE_INT32);
	INSERT(t, "spec_accepted", R, spec_accepted, H5T_NATIVE_INT32);
	INSERT(t, "lora_adapter", R, lora_adapter, H5T_NATIVE_INT32);
	INSERT(t, "lora_loads", R, lora_loads, H5T_NATIVE_INT32);
	INSERT(t, "lora_load_s", R, lora_load, H5T_NATIVE_DOUBLE);
	INSERT(t, "retries", R, retries, H5T_NATIVE_INT32);
	return t;
}



/* ---- attributes ---- */





/* ---- tables ---- */

static hid_t packet_table(hid_t loc, const char *name, hid_t type, int64_t level)
{
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	/* byte shuffle then deflate (output.compression, default 1): the per-request table of a
	 * month is ~180 MB raw, and deflate 4 alone took half of a month's run; shuffled, level 1
	 * compresses as well. Level 0 skips both: zlib is then out of the run's time. */
	if (level > 0) {
		H5Pset_shuffle(dcpl);
		H5Pset_deflate(dcpl, (unsigned)level);
	}
	hid_t t = H5PTcreate(loc, name, type, CHUNK_ROWS, dcpl);
	H5Pclose(dcpl);
	return t;
}

/* The per-request table: chunks of CHUNK_ROWS rows, growing, which flush_requests writes as
 * they are stored. With output.compression > 0 it declares HDF5's byte shuffle and deflate
 * filters, as packet_table does, but flush_requests shuffles and compresses each chunk itself,
 * with libdeflate, and writes it as it is
 * (H5Dwrite_chunk): the same zlib stream that HDF5's deflate filter reads back, 2-3x faster
 * than zlib at the same level and size. zlib took ~3 s of a month's run with per-request
 * output, ~55 MB/s over the shuffled records (docs/performance.md). */
static hid_t request_dataset(struct llmcap_h5 *h, hid_t loc, int64_t level)
{
	hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {CHUNK_ROWS};
	hid_t sp = H5Screate_simple(1, dims, maxdims), dcpl = H5Pcreate(H5P_DATASET_CREATE), d = -1;
	if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0 &&
	    (level == 0 || (H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, (unsigned)level) >= 0)))
		d = H5Dcreate2(loc, "requests", h->req_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (sp >= 0)
		H5Sclose(sp);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (d < 0 || level == 0)
		return d;
	const size_t bytes = CHUNK_ROWS * sizeof(struct llmcap_request_record);
	h->zc = libdeflate_alloc_compressor((int)level);
	h->deflated_cap = h->zc ? libdeflate_zlib_compress_bound(h->zc, bytes) : 0;
	h->shuffled = malloc(bytes);
	h->deflated = malloc(h->deflated_cap ? h->deflated_cap : 1);
	if (!h->zc || !h->shuffled || !h->deflated) {
		H5Dclose(d);
		return -1;
	}
	return d;
}

/* HDF5's shuffle filter: byte b of element i goes to b x n + i. In tiles of 64 elements, so
 * that the tile's source stays in the L1 cache and each byte plane is written 64 bytes at a
 * time (element by element, it took a quarter of a month's run with per-request output). */
static void shuffle_bytes(unsigned char *restrict dst, const unsigned char *restrict src,
			  size_t size, size_t n)
{
	enum { TILE = 64 };
	for (size_t i0 = 0; i0 < n; i0 += TILE) {
		const size_t m = n - i0 < TILE ? n - i0 : TILE;
		const unsigned char *s = src + i0 * size;
		for (size_t b = 0; b < size; b++) {
			unsigned char *d = dst + b * n + i0;
			for (size_t i = 0; i < m; i++)
				d[i] = s[i * size + b];
		}
	}
}



/* Appends the buffered rows to the per-request table as one chunk, written as it is stored
 * (H5Dwrite_chunk): every flush but the last has BUF_ROWS = CHUNK_ROWS rows, so rows start at
 * a chunk's start, and the last is padded with zeros to a whole chunk, as HDF5 stores a partial
 * one. Compressed, the chunk is shuffled and deflated first. */
static int flush_requests(struct llmcap_h5 *h)
{
	const size_t n = h->req_n, rec = sizeof *h->req_buf;
	if (n == 0)
		return 0;
	hsize_t start[1] = {h->req_rows}, size[1] = {h->req_rows + n};
	memset(h->req_buf + n, 0, (CHUNK_ROWS - n) * rec);
	const void *chunk = h->req_buf;
	size_t bytes = CHUNK_ROWS * rec;
	if (h->zc) {
		shuffle_bytes(h->shuffled, (const unsigned char *)h->req_buf, rec, CHUNK_ROWS);
		bytes = libdeflate_zlib_compress(h->zc, h->shuffled, bytes, h->deflated, h->deflated_cap);
		chunk = h->deflated;
	}
	int rc = bytes == 0 || H5Dset_extent(h->req_dset, size) < 0 ||
			 H5Dwrite_chunk(h->req_dset, H5P_DEFAULT, 0, start, bytes, chunk) < 0
		 ? -1
		 : 0;
	if (rc != 0) {
		int e = errno;
		char why[160];
		snprintf(h->error, sizeof h->error, "%.300s: cannot append to /requests: %s",
			 h->out.target, bytes == 0 ? "the compressor failed" : llmcap_h5_why(why, sizeof why, e));
		return -LLMCAP_EIO;
	}
	h->req_rows += n;
	h->req_n = 0;
	return 0;
}

static int flush_samples(struct llmcap_h5 *h)
{
	if ((h->rep_n && H5PTappend(h->ts_replicas, h->rep_n, h->rep_buf) < 0) ||
	    (h->pool_n && H5PTappend(h->ts_pools, h->pool_n, h->pool_buf) < 0)) {
		int e = errno;
		char why[160];
		snprintf(h->error, sizeof h->error, "%.300s: cannot append to /timeseries: %s",
			 h->out.target, llmcap_h5_why(why, sizeof why, e));
		return -LLMCAP_EIO;
	}
	h->rep_n = h->pool_n = 0;
	return 0;
}

static int on_request(void *user, const struct llmcap_request_record *r)
{
	struct llmcap_h5 *h = user;
	h->req_buf[h->req_n++] = *r;
	return h->req_n == BUF_ROWS ? flush_requests(h) : 0;
}

static int on_sample(void *user, const struct llmcap_sample_row *row)
{
	struct llmcap_h5 *h = user;
	if (row->replica < 0)
		h->pool_buf[h->pool_n++] = *row;
	else
		h->rep_buf[h->rep_n++] = *row;
	return h->rep_n == BUF_ROWS || h->pool_n == BUF_ROWS ? flush_samples(h) : 0;
}

void llmcap_h5_sink(struct llmcap_h5 *h, struct llmcap_sink *sink)
{
	sink->user = h;
	sink->request = h->req_dset >= 0 ? on_request : NULL;
	sink->sample = h->ts_replicas >= 0 ? on_sample : NULL;
	sink->sample_interval = h->ts_replicas >= 0 ? h->sc->output.timeseries_interval : 0;
}

const char *llmcap_h5_error(const struct llmcap_h5 *h)
{
	return h->error;
}

/* ---- open ---- */

/* Static description tables: classes and pools with their resolved deployment. */
struct class_row {
	int32_t index;
	char name[NAME_LEN], pool[NAME_LEN];
	double share, slo_ttft_p99_s, slo_tpot_p99_s;
};

struct pool_row {
	int32_t index;
	char name[NAME_LEN], model[NAME_LEN], dtype[16];
	int64_t tensor_parallel_size, replicas, first_replica, num_blocks, block_size, max_model_len;
	double params, weight_bytes_per_gpu, kv_bytes_per_gpu, kv_bytes_per_token;
	/* multi-node layout (models/parallel.c): 1s, and TP GPUs a replica, when unused */
	int64_t pipeline_parallel_size, expert_parallel, data_parallel_attention, gpus_per_replica;
	double expert_imbalance;
	char gpu[NAME_LEN];      /* the pool's GPU (pools.NAME.gpu, else hardware.gpu; issue 21) */
	int64_t gpus_per_server; /* of the servers it runs on */
};

static int write_descriptions(struct llmcap_h5 *h, const struct llmcap_scenario *sc,
			      const struct llmcap_catalog *cat)
{
	struct class_row cr[LLMCAP_MAX_CLASSES];
	struct pool_row pr[LLMCAP_MAX_POOLS];
	memset(cr, 0, sizeof cr);
	memset(pr, 0, sizeof pr);
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		cr[c].index = (int32_t)c;
		snprintf(cr[c].name, NAME_LEN, "%s", cl->name);
		snprintf(cr[c].pool, NAME_LEN, "%s", cl->pool[0] ? cl->pool : cl->name);
		cr[c].share = cl->share;
		cr[c].slo_ttft_p99_s = (double)cl->slo_ttft_p99 * 1e-9;
		cr[c].slo_tpot_p99_s = (double)cl->slo_tpot_p99 * 1e-9;
	}
	int64_t first = 0;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *pc = &sc->pools[p];
		struct llmcap_memory_plan plan;
		const struct llmcap_gpu_spec *gpu = llmcap_catalog_gpu(cat, llmcap_pool_gpu(sc, p));
		if (!gpu || llmcap_memory_plan_pool(cat, llmcap_catalog_model(cat, pc->model), gpu,
						    llmcap_catalog_engine(cat, pc->engine), pc, &plan,
						    NULL) != 0)
			return -1;
		snprintf(pr[p].gpu, NAME_LEN, "%s", gpu->name);
		pr[p].gpus_per_server = llmcap_pool_gpus_per_server(sc, p);
		pr[p].index = (int32_t)p;
		snprintf(pr[p].name, NAME_LEN, "%s", pc->name);
		snprintf(pr[p].model, NAME_LEN, "%s", pc->model);
		snprintf(pr[p].dtype, sizeof pr[p].dtype, "%s", llmcap_dtype_name(pc->dtype));
		pr[p].tensor_parallel_size = pc->tensor_parallel_size;
		pr[p].replicas = pc->replicas;
		pr[p].first_replica = first;
		first += pc->replicas;
		pr[p].num_blocks = plan.num_blocks;
		pr[p].block_size = plan.block_size;
		pr[p].max_model_len = plan.max_model_len;
		pr[p].params = plan.params;
		pr[p].weight_bytes_per_gpu = plan.weight_bytes_per_gpu;
		pr[p].kv_bytes_per_gpu = plan.kv_bytes_per_gpu;
		pr[p].kv_bytes_per_token = plan.kv_bytes_per_token;
		pr[p].pipeline_parallel_size = llmcap_parallel_pp(pc);
		pr[p].expert_parallel = llmcap_parallel_ep(pc);
		pr[p].data_parallel_attention = llmcap_parallel_dp(pc);
		pr[p].gpus_per_replica = llmcap_pool_gpus_per_replica(pc);
		pr[p].expert_imbalance = pr[p].expert_parallel > 1 ? pc->parallel.expert_imbalance : 1.0;
	}
	hid_t s48 = llmcap_h5_string_type(NAME_LEN), s16 = llmcap_h5_string_type(16);
	hid_t ct = H5Tcreate(H5T_COMPOUND, sizeof(struct class_row));
	INSERT(ct, "index", struct class_row, index, H5T_NATIVE_INT32);
	INSERT(ct, "name", struct class_row, name, s48);
	INSERT(ct, "pool", struct class_row, pool, s48);
	INSERT(ct, "share", struct class_row, share, H5T_NATIVE_DOUBLE);
	INSERT(ct, "slo_ttft_p99_s", struct class_row, slo_ttft_p99_s, H5T_NATIVE_DOUBLE);
	INSERT(ct, "slo_tpot_p99_s", struct class_row, slo_tpot_p99_s, H5T_NATIVE_DOUBLE);
	hid_t pt = H5Tcreate(H5T_COMPOUND, sizeof(struct pool_row));
	INSERT(pt, "index", struct pool_row, index, H5T_NATIVE_INT32);
	INSERT(pt, "name", struct pool_row, name, s48);
	INSERT(pt, "model", struct pool_row, model, s48);
	INSERT(pt, "dtype", struct pool_row, dtype, s16);
	INSERT(pt, "tensor_parallel_size", struct pool_row, tensor_parallel_size, H5T_NATIVE_INT64);
	INSERT(pt, "replicas", struct pool_row, replicas, H5T_NATIVE_INT64);
	INSERT(pt, "first_replica", struct pool_row, first_replica, H5T_NATIVE_INT64);
	INSERT(pt, "num_blocks", struct pool_row, num_blocks, H5T_NATIVE_INT64);
	INSERT(pt, "block_size", struct pool_row, block_size, H5T_NATIVE_INT64);
	INSERT(pt, "max_model_len", struct pool_row, max_model_len, H5T_NATIVE_INT64);
	INSERT(pt, "params", struct pool_row, params, H5T_NATIVE_DOUBLE);
	INSERT(pt, "weight_bytes_per_gpu", struct pool_row, weight_bytes_per_gpu, H5T_NATIVE_DOUBLE);
	INSERT(pt, "kv_bytes_per_gpu", struct pool_row, kv_bytes_per_gpu, H5T_NATIVE_DOUBLE);
	INSERT(pt, "kv_bytes_per_token", struct pool_row, kv_bytes_per_token, H5T_NATIVE_DOUBLE);
	INSERT(pt, "pipeline_parallel_size", struct pool_row, pipeline_parallel_size, H5T_NATIVE_INT64);
	INSERT(pt, "expert_parallel", struct pool_row, expert_parallel, H5T_NATIVE_INT64);
	INSERT(pt, "data_parallel_attention", struct pool_row, data_parallel_attention, H5T_NATIVE_INT64);
	INSERT(pt, "gpus_per_replica", struct pool_row, gpus_per_replica, H5T_NATIVE_INT64);
	INSERT(pt, "expert_imbalance", struct pool_row, expert_imbalance, H5T_NATIVE_DOUBLE);
	INSERT(pt, "gpu", struct pool_row, gpu, s48);
	INSERT(pt, "gpus_per_server", struct pool_row, gpus_per_server, H5T_NATIVE_INT64);
	int rc = llmcap_h5_write_table(h->file, "classes", ct, sc->workload.n_classes, cr) |
		 llmcap_h5_write_table(h->file, "pools", pt, sc->n_pools, pr);
	H5Tclose(ct);
	H5Tclose(pt);
	H5Tclose(s48);
	H5Tclose(s16);
	return rc;
}


int llmcap_h5_open(struct llmcap_h5 **out, const char *target, bool force,
		   const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		   const struct llmcap_h5_info *info, struct llmcap_error *err)
{
	*out = NULL;
	llmcap_h5_init();
	struct llmcap_h5 *h = calloc(1, sizeof *h);
	if (!h)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	h->file = h->req_type = h->ts_type = h->req_dset = h->ts_replicas = h->ts_pools = -1;
	h->sc = sc;
	h->out.lock_fd = h->out.dir_fd = -1;
	int trc = llmcap_outfile_begin(&h->out, target, force, err);
	if (trc) {
		free(h);
		return trc;
	}
	h->file = H5Fcreate(h->out.tmp, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
	if (h->file < 0)
		goto fail;
	char version[32];
	snprintf(version, sizeof version, "%s", LLMCAP_VERSION);
	char hash[32];
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)info->catalog_hash);
	if (llmcap_h5_attr_int(h->file, "format_version", LLMCAP_H5_FORMAT_VERSION) ||
	    llmcap_h5_attr_string(h->file, "llmcap_version", version) ||
	    llmcap_h5_attr_string(h->file, "scenario_yaml", info->scenario_yaml) ||
	    llmcap_h5_attr_string(h->file, "scenario_name", sc->name) ||
	    llmcap_h5_attr_num(h->file, "seed", H5T_NATIVE_UINT64, &sc->seed) ||
	    llmcap_h5_attr_double(h->file, "horizon_s", (double)sc->horizon * 1e-9) ||
	    llmcap_h5_attr_string(h->file, "command_line", info->command_line) ||
	    llmcap_h5_attr_string(h->file, "started_at", info->started_at) ||
	    llmcap_h5_attr_string(h->file, "performance_model", "roofline-1") ||
	    llmcap_h5_attr_string(h->file, "catalog_hash", hash) || llmcap_h5_attr_int(h->file, "complete", 0))
		goto fail;
	if (write_descriptions(h, sc, cat) != 0)
		goto fail;
	h->req_type = request_type();
	h->ts_type = llmcap_h5_sample_type();
	if (sc->output.requests) {
		h->req_buf = malloc(BUF_ROWS * sizeof *h->req_buf);
		h->req_dset = request_dataset(h, h->file, sc->output.compression);
		if (!h->req_buf || h->req_dset < 0)
			goto fail;
		char names[256] = "";
		for (int s = 0; s < LLMCAP_REQ_N_STATUS; s++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%d=%s", s ? "," : "",
				 s, llmcap_request_status_name(s));
		if (llmcap_h5_attr_string(h->req_dset, "status_codes", names) ||
		    llmcap_h5_attr_string(h->req_dset, "units", "arrival_s, queue_s, ttft_s, tpot_s, max_gap_s, "
						      "e2e_s: seconds (NaN where not reached); "
						      "*_tokens: tokens"))
			goto fail;
	}
	if (sc->output.timeseries) {
		hid_t g = H5Gcreate2(h->file, "timeseries", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		if (g < 0)
			goto fail;
		int rc = llmcap_h5_attr_double(g, "interval_s", (double)sc->output.timeseries_interval * 1e-9);
		H5Gclose(g);
		h->rep_buf = malloc(BUF_ROWS * sizeof *h->rep_buf);
		h->pool_buf = malloc(BUF_ROWS * sizeof *h->pool_buf);
		h->ts_replicas = packet_table(h->file, "timeseries/replicas", h->ts_type,
					      sc->output.compression);
		h->ts_pools = packet_table(h->file, "timeseries/pools", h->ts_type,
					   sc->output.compression);
		if (rc || !h->rep_buf || !h->pool_buf || h->ts_replicas < 0 || h->ts_pools < 0)
			goto fail;
	}
	*out = h;
	return 0;
fail:;
	int e = errno;
	char why[160];
	llmcap_h5_why(why, sizeof why, e);
	llmcap_h5_abort(h);
	return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write HDF5 output%s%s", target, why[0] ? ": " : "",
			     why);
}

/* ---- finish ---- */

struct group_row {
	char name[NAME_LEN];
	int64_t arrived, completed, rejected, spilled, unfinished, preemptions;
	double requests_per_s, input_tokens_per_s, output_tokens_per_s;
	double slo_attainment, goodput_requests_per_s, goodput_tokens_per_s;
	double lat[LLMCAP_N_LAT][LLMCAP_N_ST];
	int8_t ttft_p99_met, tpot_p99_met;
};

static hid_t group_type(hid_t s48)
{
	typedef struct group_row G;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(G));
	INSERT(t, "name", G, name, s48);
	INSERT(t, "arrived", G, arrived, H5T_NATIVE_INT64);
	INSERT(t, "completed", G, completed, H5T_NATIVE_INT64);
	INSERT(t, "rejected", G, rejected, H5T_NATIVE_INT64);
	INSERT(t, "spilled", G, spilled, H5T_NATIVE_INT64);
	INSERT(t, "unfinished", G, unfinished, H5T_NATIVE_INT64);
	INSERT(t, "preemptions", G, preemptions, H5T_NATIVE_INT64);
	INSERT(t, "requests_per_s", G, requests_per_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "input_tokens_per_s", G, input_tokens_per_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "output_tokens_per_s", G, output_tokens_per_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "slo_attainment", G, slo_attainment, H5T_NATIVE_DOUBLE);
	INSERT(t, "goodput_requests_per_s", G, goodput_requests_per_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "goodput_tokens_per_s", G, goodput_tokens_per_s, H5T_NATIVE_DOUBLE);
	for (int l = 0; l < LLMCAP_N_LAT; l++)
		for (int k = 0; k < LLMCAP_N_ST; k++) {
			char name[32];
			snprintf(name, sizeof name, "%s_%s_s", llmcap_lat_names[l], llmcap_stat_names[k]);
			H5Tinsert(t, name, HOFFSET(G, lat) + ((size_t)l * LLMCAP_N_ST + (size_t)k) * sizeof(double),
				  H5T_NATIVE_DOUBLE);
		}
	INSERT(t, "ttft_p99_met", G, ttft_p99_met, H5T_NATIVE_INT8);
	INSERT(t, "tpot_p99_met", G, tpot_p99_met, H5T_NATIVE_INT8);
	return t;
}

static void group_row_of(const struct llmcap_group_summary *g, struct group_row *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->name, NAME_LEN, "%s", g->name);
	r->arrived = g->arrived;
	r->completed = g->completed;
	r->rejected = g->rejected;
	r->spilled = g->spilled;
	r->unfinished = g->unfinished;
	r->preemptions = g->preemptions;
	r->requests_per_s = g->requests_per_s;
	r->input_tokens_per_s = g->input_tokens_per_s;
	r->output_tokens_per_s = g->output_tokens_per_s;
	r->slo_attainment = g->slo_attainment;
	r->goodput_requests_per_s = g->goodput_requests_per_s;
	r->goodput_tokens_per_s = g->goodput_tokens_per_s;
	memcpy(r->lat, g->lat, sizeof r->lat);
	r->ttft_p99_met = g->ttft_ok;
	r->tpot_p99_met = g->tpot_ok;
}

static hid_t util_type(void)
{
	typedef struct llmcap_util_summary U;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(U));
	INSERT(t, "pool", U, pool, H5T_NATIVE_INT32);
	INSERT(t, "replica", U, replica, H5T_NATIVE_INT32);
	INSERT(t, "busy", U, busy, H5T_NATIVE_DOUBLE);
	INSERT(t, "achieved_tflops_per_gpu", U, achieved_tflops, H5T_NATIVE_DOUBLE);
	INSERT(t, "mfu", U, mfu, H5T_NATIVE_DOUBLE);
	INSERT(t, "hbm_fraction", U, hbm_fraction, H5T_NATIVE_DOUBLE);
	INSERT(t, "kv_mean", U, kv_mean, H5T_NATIVE_DOUBLE);
	INSERT(t, "kv_peak", U, kv_peak, H5T_NATIVE_DOUBLE);
	INSERT(t, "batch_mean", U, batch_mean, H5T_NATIVE_DOUBLE);
	INSERT(t, "batch_peak", U, batch_peak, H5T_NATIVE_INT64);
	INSERT(t, "steps", U, steps, H5T_NATIVE_INT64);
	INSERT(t, "preemptions", U, preemptions, H5T_NATIVE_INT64);
	INSERT(t, "swaps", U, swaps, H5T_NATIVE_INT64);
	INSERT(t, "input_tokens_per_s", U, input_tokens_per_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "output_tokens_per_s", U, output_tokens_per_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "energy_kwh", U, energy_kwh, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefix_hit_rate", U, prefix_hit_rate, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefix_block_hit_rate", U, prefix_block_hit_rate, H5T_NATIVE_DOUBLE);
	return t;
}

void llmcap_h5_batch_means(struct llmcap_h5 *h, struct llmcap_batch *b)
{
	h->batch = b;
}

/* /summary/batch_means: one row per metric (llmcap_batch_metric_name order), the run's
 * batching as attributes. */
struct batch_row {
	char name[96];
	double mean, ci95_half_width;
};

static int write_batch_means(hid_t g, const struct llmcap_scenario *sc, struct llmcap_batch *b)
{
	size_t n = llmcap_batch_n_metrics(sc->workload.n_classes, sc->n_pools);
	double *v = calloc(2 * n + 1, sizeof *v);
	struct batch_row *rows = calloc(n + 1, sizeof *rows);
	if (!v || !rows) {
		free(v);
		free(rows);
		return -1;
	}
	llmcap_batch_means(b, v);
	for (size_t i = 0; i < n; i++) {
		llmcap_batch_metric_name(sc, i, rows[i].name, sizeof rows[i].name);
		rows[i].mean = v[2 * i];
		rows[i].ci95_half_width = v[2 * i + 1];
	}
	typedef struct batch_row B;
	hid_t s96 = llmcap_h5_string_type(sizeof rows[0].name);
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(B));
	INSERT(t, "name", B, name, s96);
	INSERT(t, "mean", B, mean, H5T_NATIVE_DOUBLE);
	INSERT(t, "ci95_half_width", B, ci95_half_width, H5T_NATIVE_DOUBLE);
	int rc = llmcap_h5_write_table(g, "batch_means", t, n, rows);
	H5Tclose(t);
	H5Tclose(s96);
	free(v);
	free(rows);
	if (rc == 0)
		rc = llmcap_h5_set_units(g, "batch_means", "as the metric's name says (*_s: seconds; counts per "
			       "batch; slo_attainment, busy, kv_mean: shares); ci95_half_width: "
			       "Student-t 95% half-width over the batches, NaN below two");
	hid_t d = rc == 0 ? H5Dopen2(g, "batch_means", H5P_DEFAULT) : -1;
	if (d < 0)
		return -1;
	rc |= llmcap_h5_attr_int(d, "batches", llmcap_batch_count(b));
	rc |= llmcap_h5_attr_double(d, "batch_length_s", (double)llmcap_batch_length(b) * 1e-9);
	rc |= llmcap_h5_attr_double(d, "warmup_s", (double)llmcap_batch_warmup(b) * 1e-9);
	H5Dclose(d);
	return rc ? -1 : 0;
}

/* /summary/disaggregation: one row per prefill pool of a disaggregated pair (docs/hdf5-layout.md),
 * written only where a pool is disaggregated. */
struct disagg_row {
	int32_t prefill_pool, decode_pool;
	int64_t handoffs, transfers;
	double bytes;
	double kv_transfer_p50_s, kv_transfer_p99_s, kv_transfer_mean_s;
	double decode_queue_p50_s, decode_queue_p99_s, decode_queue_mean_s;
	double prefill_busy, decode_busy;
	double prefill_queue_p50_s, prefill_queue_p99_s, prefill_queue_mean_s;
	double prefill_p50_s, prefill_p99_s, prefill_mean_s;
};

static int write_disaggregation(hid_t g, struct llmcap_results *res, const struct llmcap_summary *sum)
{
	struct disagg_row rows[LLMCAP_MAX_POOLS];
	size_t n = 0;
	for (size_t p = 0; p < res->n_pools; p++) {
		struct llmcap_disagg_stats *d = &res->disagg[p];
		if (!d->on)
			continue;
		rows[n++] = (struct disagg_row){
			.prefill_pool = (int32_t)p, .decode_pool = d->decode_pool,
			.handoffs = d->handoffs, .transfers = d->transfers, .bytes = d->bytes,
			.kv_transfer_p50_s = llmcap_quantiles_get(&d->transfer, 0.5),
			.kv_transfer_p99_s = llmcap_quantiles_get(&d->transfer, 0.99),
			.kv_transfer_mean_s = llmcap_quantiles_mean(&d->transfer),
			.decode_queue_p50_s = llmcap_quantiles_get(&d->decode_queue, 0.5),
			.decode_queue_p99_s = llmcap_quantiles_get(&d->decode_queue, 0.99),
			.decode_queue_mean_s = llmcap_quantiles_mean(&d->decode_queue),
			.prefill_busy = sum->pool_util[p].busy,
			.decode_busy = sum->pool_util[d->decode_pool].busy,
			.prefill_queue_p50_s = llmcap_quantiles_get(&d->prefill_queue, 0.5),
			.prefill_queue_p99_s = llmcap_quantiles_get(&d->prefill_queue, 0.99),
			.prefill_queue_mean_s = llmcap_quantiles_mean(&d->prefill_queue),
			.prefill_p50_s = llmcap_quantiles_get(&d->prefill, 0.5),
			.prefill_p99_s = llmcap_quantiles_get(&d->prefill, 0.99),
			.prefill_mean_s = llmcap_quantiles_mean(&d->prefill)};
	}
	typedef struct disagg_row D;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(D));
	INSERT(t, "prefill_pool", D, prefill_pool, H5T_NATIVE_INT32);
	INSERT(t, "decode_pool", D, decode_pool, H5T_NATIVE_INT32);
	INSERT(t, "handoffs", D, handoffs, H5T_NATIVE_INT64);
	INSERT(t, "transfers", D, transfers, H5T_NATIVE_INT64);
	INSERT(t, "bytes", D, bytes, H5T_NATIVE_DOUBLE);
	INSERT(t, "kv_transfer_p50_s", D, kv_transfer_p50_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "kv_transfer_p99_s", D, kv_transfer_p99_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "kv_transfer_mean_s", D, kv_transfer_mean_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "decode_queue_p50_s", D, decode_queue_p50_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "decode_queue_p99_s", D, decode_queue_p99_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "decode_queue_mean_s", D, decode_queue_mean_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefill_busy", D, prefill_busy, H5T_NATIVE_DOUBLE);
	INSERT(t, "decode_busy", D, decode_busy, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefill_queue_p50_s", D, prefill_queue_p50_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefill_queue_p99_s", D, prefill_queue_p99_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefill_queue_mean_s", D, prefill_queue_mean_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefill_p50_s", D, prefill_p50_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefill_p99_s", D, prefill_p99_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "prefill_mean_s", D, prefill_mean_s, H5T_NATIVE_DOUBLE);
	int rc = llmcap_h5_write_table(g, "disaggregation", t, n, rows);
	H5Tclose(t);
	if (rc == 0)
		rc = llmcap_h5_set_units(g, "disaggregation", "*_pool: pool index; bytes: KV bytes moved "
					 "(all GPUs); *_s: seconds, over completed transfers; *_busy: shares");
	return rc ? -1 : 0;
}
/* /summary/speculative and /summary/lora: a row per pool that has the feature on, each table
 * only when some pool does (files of runs without them keep their layout). */
struct feature_row {
	int32_t pool;
	char name[NAME_LEN];
	struct llmcap_pool_features f;
	double draft_weight_bytes_per_gpu, lora_bytes_per_gpu;
};

static int write_features(hid_t g, hid_t s48, struct llmcap_results *res)
{
	struct feature_row rows[LLMCAP_MAX_POOLS];
	size_t ns = 0, nl = 0;
	struct feature_row lrows[LLMCAP_MAX_POOLS];
	for (size_t p = 0; p < res->n_pools; p++) {
		struct feature_row r = {.pool = (int32_t)p};
		snprintf(r.name, sizeof r.name, "%s", res->sc->pools[p].name);
		llmcap_pool_features(res, p, &r.f);
		r.draft_weight_bytes_per_gpu = res->pools[p].plan.draft_weight_bytes_per_gpu;
		r.lora_bytes_per_gpu = res->pools[p].plan.lora_bytes_per_gpu;
		if (r.f.spec)
			rows[ns++] = r;
		if (r.f.lora)
			lrows[nl++] = r;
	}
	typedef struct feature_row F;
	int rc = 0;
	if (ns > 0) {
		hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(F));
		INSERT(t, "pool", F, pool, H5T_NATIVE_INT32);
		INSERT(t, "name", F, name, s48);
		INSERT(t, "verifications", F, f.spec_verifies, H5T_NATIVE_INT64);
		INSERT(t, "proposed", F, f.spec_proposed, H5T_NATIVE_INT64);
		INSERT(t, "accepted", F, f.spec_accepted, H5T_NATIVE_INT64);
		INSERT(t, "tokens_per_verification", F, f.tokens_per_verification, H5T_NATIVE_DOUBLE);
		INSERT(t, "expected_tokens", F, f.expected_tokens, H5T_NATIVE_DOUBLE);
		INSERT(t, "proposer_s", F, f.proposer_s, H5T_NATIVE_DOUBLE);
		INSERT(t, "draft_weight_bytes_per_gpu", F, draft_weight_bytes_per_gpu, H5T_NATIVE_DOUBLE);
		rc |= llmcap_h5_write_table(g, "speculative", t, ns, rows);
		H5Tclose(t);
		if (rc == 0)
			rc |= llmcap_h5_set_units(g, "speculative", "counts of sequence-steps and tokens; "
						  "tokens_per_verification, expected_tokens: tokens; "
						  "proposer_s: seconds; bytes");
	}
	if (nl > 0) {
		hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(F));
		INSERT(t, "pool", F, pool, H5T_NATIVE_INT32);
		INSERT(t, "name", F, name, s48);
		INSERT(t, "loads", F, f.lora_loads, H5T_NATIVE_INT64);
		INSERT(t, "load_s", F, f.lora_load_s, H5T_NATIVE_DOUBLE);
		INSERT(t, "passed_over", F, f.lora_skips, H5T_NATIVE_INT64);
		INSERT(t, "adapters_mean", F, f.lora_adapters_mean, H5T_NATIVE_DOUBLE);
		INSERT(t, "adapters_peak", F, f.lora_peak, H5T_NATIVE_INT64);
		INSERT(t, "lora_bytes_per_gpu", F, lora_bytes_per_gpu, H5T_NATIVE_DOUBLE);
		rc |= llmcap_h5_write_table(g, "lora", t, nl, lrows);
		H5Tclose(t);
		if (rc == 0)
			rc |= llmcap_h5_set_units(g, "lora", "loads, passed_over: counts; load_s: seconds "
						  "added to steps; adapters_*: distinct adapters a step; bytes");
	}
	return rc ? -1 : 0;
}
/* /summary/autoscale (one row per autoscaled pool: the held replicas that renting bills) and
 * /summary/autoscale_log (every change of a replica's life, in time order); neither where no
 * pool is autoscaled. */
static int write_autoscale(hid_t g, const struct llmcap_results *res)
{
	struct as_row {
		int32_t pool;
		double replica_hours_held, mean_replicas;
		int64_t peak_replicas, max_replicas, scale_ups, scale_downs;
	} rows[LLMCAP_MAX_POOLS];
	size_t n = 0;
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_pool_stats *ps = &res->pools[p];
		if (ps->autoscaled)
			rows[n++] = (struct as_row){
				.pool = (int32_t)p, .replica_hours_held = ps->held_time * 1e-9 / 3600.0,
				.mean_replicas = ps->held_time / (double)res->horizon,
				.peak_replicas = ps->peak_held, .max_replicas = (int64_t)ps->n_replicas,
				.scale_ups = ps->scale_ups, .scale_downs = ps->scale_downs};
	}
	if (n == 0)
		return 0;
	typedef struct as_row A;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(A));
	INSERT(t, "pool", A, pool, H5T_NATIVE_INT32);
	INSERT(t, "replica_hours_held", A, replica_hours_held, H5T_NATIVE_DOUBLE);
	INSERT(t, "mean_replicas", A, mean_replicas, H5T_NATIVE_DOUBLE);
	INSERT(t, "peak_replicas", A, peak_replicas, H5T_NATIVE_INT64);
	INSERT(t, "max_replicas", A, max_replicas, H5T_NATIVE_INT64);
	INSERT(t, "scale_ups", A, scale_ups, H5T_NATIVE_INT64);
	INSERT(t, "scale_downs", A, scale_downs, H5T_NATIVE_INT64);
	int rc = llmcap_h5_write_table(g, "autoscale", t, n, rows);
	H5Tclose(t);
	struct log_row {
		double time_s;
		int32_t pool, replica, kind, held;
	} *log = malloc((res->n_scale_log ? res->n_scale_log : 1) * sizeof *log);
	if (!log)
		return -1;
	for (size_t i = 0; i < res->n_scale_log; i++)
		log[i] = (struct log_row){.time_s = (double)res->scale_log[i].time * 1e-9,
					  .pool = res->scale_log[i].pool,
					  .replica = res->scale_log[i].replica,
					  .kind = res->scale_log[i].kind, .held = res->scale_log[i].held};
	typedef struct log_row L;
	t = H5Tcreate(H5T_COMPOUND, sizeof(L));
	INSERT(t, "time_s", L, time_s, H5T_NATIVE_DOUBLE);
	INSERT(t, "pool", L, pool, H5T_NATIVE_INT32);
	INSERT(t, "replica", L, replica, H5T_NATIVE_INT32);
	INSERT(t, "kind", L, kind, H5T_NATIVE_INT32);
	INSERT(t, "held", L, held, H5T_NATIVE_INT32);
	rc |= llmcap_h5_write_table(g, "autoscale_log", t, res->n_scale_log, log);
	H5Tclose(t);
	free(log);
	rc |= llmcap_h5_set_units(g, "autoscale", "replica_hours_held: replica-hours (starting, active "
				  "and draining); mean_replicas: held_time / horizon; the rest counts");
	rc |= llmcap_h5_set_units(g, "autoscale_log", "time_s: seconds; kind: 0 start, 1 ready, "
				  "2 drain, 3 resume, 4 release, 5 spot notice, 6 spot termination; held: the pool's held replicas after it");
	return rc;
}

static int write_summaries(struct llmcap_h5 *h, struct llmcap_results *res,
			   const struct llmcap_summary *sum)
{
	hid_t g = H5Gcreate2(h->file, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (g < 0)
		return -1;
	hid_t s48 = llmcap_h5_string_type(NAME_LEN);
	hid_t gt = group_type(s48), ut = util_type();
	struct group_row rows[LLMCAP_MAX_CLASSES > LLMCAP_MAX_POOLS ? LLMCAP_MAX_CLASSES : LLMCAP_MAX_POOLS];
	int rc = 0;
	for (size_t c = 0; c < sum->n_classes; c++)
		group_row_of(&sum->classes[c], &rows[c]);
	rc |= llmcap_h5_write_table(g, "classes", gt, sum->n_classes, rows);
	for (size_t p = 0; p < sum->n_pools; p++)
		group_row_of(&sum->pools[p], &rows[p]);
	rc |= llmcap_h5_write_table(g, "pools", gt, sum->n_pools, rows);
	group_row_of(&sum->overall, &rows[0]);
	rc |= llmcap_h5_write_table(g, "overall", gt, 1, rows);
	/* utilisation: one row per pool (replica -1), then one per replica */
	size_t n = sum->n_pools + sum->n_replicas;
	struct llmcap_util_summary *u = calloc(n, sizeof *u);
	if (!u) {
		rc = -1;
	} else {
		memcpy(u, sum->pool_util, sum->n_pools * sizeof *u);
		memcpy(u + sum->n_pools, sum->replica_util, sum->n_replicas * sizeof *u);
		rc |= llmcap_h5_write_table(g, "utilisation", ut, n, u);
		free(u);
	}
	struct llmcap_cost cost;
	llmcap_results_cost(res, &cost);
	typedef struct llmcap_cost C;
	hid_t ctype = H5Tcreate(H5T_COMPOUND, sizeof(C));
	INSERT(ctype, "months", C, months, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "capex", C, capex, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "opex", C, opex, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "support", C, support, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "self_hosted_total", C, self_total, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "self_hosted_monthly", C, self_monthly, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "tokens_per_month", C, tokens_per_month, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "api_monthly_at_prices", C, api_monthly_at_prices, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "api_monthly", C, api_monthly, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "api_total", C, api_total, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "flat_bill", C, flat_bill, H5T_NATIVE_HBOOL);
	INSERT(ctype, "api_price_per_1m", C, price_per_m, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "breakeven_tokens_per_month", C, breakeven_tokens_per_month, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "spilled_api_total", C, spilled_api_total, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "hybrid_total", C, hybrid_total, H5T_NATIVE_DOUBLE);
	/* prices of the fleet's GPU and the other options (docs/cost.md); NaN: no published price */
	INSERT(ctype, "server_price", C, server_price, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "spare_servers", C, spare_servers, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "api_discount_monthly", C, api_discount_monthly, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "rent_gpu_hours_per_month", C, rent_gpu_hours, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "rent_burst_gpu_hours_per_month", C, rent_burst_gpu_hours, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "rent_reserved_gpus", C, rent_reserved_gpus, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "rent_on_demand_total", C, rent_on_demand_total, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "rent_reserved_total", C, rent_reserved_total, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "rent_spot_total", C, rent_spot_total, H5T_NATIVE_DOUBLE);
	INSERT(ctype, "hybrid_rent_total", C, hybrid_rent_total, H5T_NATIVE_DOUBLE);
	rc |= llmcap_h5_write_table(g, "cost", ctype, 1, &cost);
	H5Tclose(ctype);
	/* own costs by GPU type: one row per server group (issue 21) */
	typedef struct llmcap_cost_group G;
	hid_t s48g = llmcap_h5_string_type(LLMCAP_NAME_MAX);
	hid_t gtype = H5Tcreate(H5T_COMPOUND, sizeof(G));
	INSERT(gtype, "gpu", G, gpu, s48g);
	INSERT(gtype, "gpus_per_server", G, gpus_per_server, H5T_NATIVE_INT64);
	INSERT(gtype, "servers", G, servers, H5T_NATIVE_DOUBLE);
	INSERT(gtype, "spare_servers", G, spares, H5T_NATIVE_DOUBLE);
	INSERT(gtype, "server_price", G, server_price, H5T_NATIVE_DOUBLE);
	INSERT(gtype, "capex", G, capex, H5T_NATIVE_DOUBLE);
	INSERT(gtype, "opex_monthly", G, opex_monthly, H5T_NATIVE_DOUBLE);
	INSERT(gtype, "avg_power_watts", G, avg_power_watts, H5T_NATIVE_DOUBLE);
	INSERT(gtype, "provisioned_kw", G, provisioned_kw, H5T_NATIVE_DOUBLE);
	rc |= llmcap_h5_write_table(g, "cost_by_gpu", gtype, cost.n_groups, cost.groups);
	H5Tclose(gtype);
	H5Tclose(s48g);
	rc |= write_autoscale(g, res);
	if (h->batch)
		rc |= write_batch_means(g, res->sc, h->batch);
	if (res->disaggregated)
		rc |= write_disaggregation(g, res, sum);
	rc |= write_features(g, s48, res);
	rc |= llmcap_h5_set_units(g, "classes", "*_s: seconds; *_per_s: per second; slo_attainment: share of arrived requests");
	rc |= llmcap_h5_set_units(g, "pools", "*_s: seconds; *_per_s: per second");
	rc |= llmcap_h5_set_units(g, "utilisation", "busy, mfu, hbm_fraction, kv_*: shares; achieved_tflops_per_gpu: 1e12 FLOP/s");
	rc |= llmcap_h5_set_units(g, "cost", "USD; tokens_per_month: tokens; api_price_per_1m: USD per 1M tokens; "
					    "rent_*_gpu_hours_per_month: GPU-hours; rent_reserved_gpus, spare_servers: counts");
	for (size_t p = 0; res->has_failures && p < res->n_pools; p++) {
		/* failures and maintenance (docs/engine.md), per pool: POOL_failures, ... */
		const struct llmcap_failure_stats *fs = &res->failures[p];
		const char *pool = res->sc->pools[p].name;
		char name[LLMCAP_NAME_MAX + 32];
		const double held = (double)res->pools[p].n_replicas * (double)res->horizon;
#define FAILURE_ATTR(what, v, kind)                                                  \
		snprintf(name, sizeof name, "%s_%s", pool, what);                     \
		rc |= llmcap_h5_attr_##kind(g, name, v)
		FAILURE_ATTR("failures", fs->failures, int);
		FAILURE_ATTR("spares_used", fs->spares_used, int);
		FAILURE_ATTR("retries", fs->retries, int);
		FAILURE_ATTR("maintenance_windows", fs->maintenance_windows, int);
		FAILURE_ATTR("out_hours", (double)fs->out_time / (double)LLMCAP_HOUR, double);
		FAILURE_ATTR("availability", held > 0 ? 1.0 - (double)fs->out_time / held : NAN, double);
#undef FAILURE_ATTR
	}
	if (res->sessions.started > 0) { /* multi-turn sessions (docs/traffic.md): counts */
		const struct llmcap_session_stats *ss = &res->sessions;
		rc |= llmcap_h5_attr_int(g, "sessions_started", ss->started);
		rc |= llmcap_h5_attr_int(g, "sessions_later_turns", ss->later_turns);
		rc |= llmcap_h5_attr_int(g, "sessions_completed", ss->completed);
		rc |= llmcap_h5_attr_int(g, "sessions_abandoned", ss->abandoned);
		rc |= llmcap_h5_attr_int(g, "sessions_tool_calls", ss->tool_calls);
	}
	H5Tclose(gt);
	H5Tclose(ut);
	H5Tclose(s48);
	H5Gclose(g);
	return rc ? -1 : 0;
}

static void free_h5(struct llmcap_h5 *h)
{
	libdeflate_free_compressor(h->zc);
	free(h->shuffled);
	free(h->deflated);
	free(h->req_buf);
	free(h->rep_buf);
	free(h->pool_buf);
	free(h);
}

int llmcap_h5_finish(struct llmcap_h5 *h, struct llmcap_results *res,
		     const struct llmcap_summary *sum, struct llmcap_error *err)
{
	int rc = 0;
	if ((h->req_dset >= 0 && flush_requests(h) != 0) ||
	    (h->ts_replicas >= 0 && flush_samples(h) != 0))
		rc = -1;
	if (rc == 0)
		rc = write_summaries(h, res, sum);
	char digest[32];
	snprintf(digest, sizeof digest, "%016llx", (unsigned long long)res->digest);
	int64_t one = 1;
	if (rc == 0)
		rc = llmcap_h5_attr_string(h->file, "digest", digest);
	if (rc == 0) {
		hid_t a = H5Aopen(h->file, "complete", H5P_DEFAULT);
		rc = a < 0 || H5Awrite(a, H5T_NATIVE_INT64, &one) < 0 ? -1 : 0;
		if (a >= 0)
			H5Aclose(a);
	}
	/* everything to the file before H5Fclose, whose failure HDF5 1.10 does not survive: a
	 * failed flush leaves a file to discard */
	if (rc == 0 && H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0)
		rc = -1;
	if (rc != 0) {
		int e = errno;
		char why[160];
		if (!h->error[0])
			llmcap_h5_why(why, sizeof why, e);
		llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write HDF5 output: %s", h->out.target,
			      h->error[0] ? h->error : why[0] ? why : "unknown HDF5 error");
		llmcap_h5_abort(h);
		return -LLMCAP_EIO;
	}
	if (h->req_dset >= 0)
		H5Dclose(h->req_dset);
	if (h->ts_replicas >= 0)
		H5PTclose(h->ts_replicas);
	if (h->ts_pools >= 0)
		H5PTclose(h->ts_pools);
	h->req_dset = h->ts_replicas = h->ts_pools = -1;
	if (H5Fclose(h->file) < 0) {
		/* rare after a whole flush; the file stays open for the process (not closed twice) */
		int e = errno;
		char why[160];
		h->file = -1;
		llmcap_errorf(err, LLMCAP_EIO, "%s: cannot close the HDF5 output: %s", h->out.target,
			      llmcap_h5_why(why, sizeof why, e));
		llmcap_h5_abort(h);
		return -LLMCAP_EIO;
	}
	h->file = -1;
	if (llmcap_outfile_commit(&h->out, err) != 0) {
		llmcap_h5_abort(h);
		return -LLMCAP_EIO;
	}
	llmcap_h5_abort(h); /* frees h; the committed file stays */
	return 0;
}

void llmcap_h5_abort(struct llmcap_h5 *h)
{
	if (!h)
		return;
	if (h->req_dset >= 0)
		H5Dclose(h->req_dset);
	if (h->ts_replicas >= 0)
		H5PTclose(h->ts_replicas);
	if (h->ts_pools >= 0)
		H5PTclose(h->ts_pools);
	if (h->file >= 0)
		llmcap_h5_discard(h->file);
	if (h->req_type >= 0)
		H5Tclose(h->req_type);
	if (h->ts_type >= 0)
		H5Tclose(h->ts_type);
	llmcap_outfile_end(&h->out);
	free_h5(h);
}

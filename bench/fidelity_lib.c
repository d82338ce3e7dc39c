/* Fidelity of llmcap against published measurements (bench/data/calibration/, copied with
 * their provenance): see bench/fidelity.h and docs/validation.md. Nothing here is fitted.
 *
 * Step-level tables are compared with the step-time model itself (llmcap_perf_init,
 * llmcap_perf_step_seconds):
 *   vidur-layer: the linear-operator part of one layer (GEMMs, element-wise, kernel floors)
 *     against vidur's per-layer non-attention operator time, per token count and TP;
 *   allreduce: the all-reduce term against vidur's NCCL medians (one NVSwitch node);
 *   splitwise-prefill / -decode: Splitwise's Llama2-70B prompt phase (batch x prompt tokens in
 *     one step) and mean per-token decode time (context = prompt + half the output);
 *   h100-gemm, h100-torch-steps: this project's kernel-only H100 measurements (bench/data).
 *
 * Every end-to-end benchmark becomes a scenario simulated by the engine (llmcap_simulate or
 * llmcap_simulate_script): one replica of the model on the source's GPUs and TP, the engine
 * profile its engine and version name (the nearest one the catalog has while the profiles
 * are being added: profile()), the benchmark's batch limits where it set them, and its
 * traffic:
 *   offline (rate inf, static batches, trtllm-bench): the source's request count all at t = 0;
 *   online at a rate: Poisson times at the rate, the source's request count;
 *   --max-concurrency N: N closed-loop clients (workload.clients) without think time, until
 *     the first num_prompts requests have ended;
 * with lengths fixed, uniform (random datasets: a range ratio) or ShareGPT's as vLLM's
 * benchmark samples them (sharegpt_len). Each point is compared on the metric the source
 * printed (bench_metric: output/input/total token and request throughput, duration, median and
 * mean TTFT and TPOT; median ITL as median TPOT), computed from the request records as `vllm
 * bench serve` computes it:
 *   argonne-e2e: LLM-Inference-Bench's static batches: b requests at once, max_num_seqs b, one
 *     prefill step for the batch; end-to-end time;
 *   trtllm-v0.9-static / -ttft: TensorRT-LLM 0.9's static batches (output tokens/s per GPU) and
 *     batch-1 first-token latency, FP8 engines with an FP8 KV cache;
 *   trtllm-throughput: TensorRT-LLM v0.20/v1.0 max-throughput tables (3000 requests, 1000 when
 *     input + output > 5000 tokens, at most 2048 sequences and 8192 tokens a step, blocks of
 *     32, FP8 weights and KV cache): the profile's KV capacity and admission decide the
 *     concurrency, as on the real system;
 *   lambdalabs-vllm, vllm-blog-v0.6, vllm-blog-fp8kv, sglang-h200: the modern/ files, one row a
 *     metric of a run; rows of one run share one simulation;
 *   gpustack: GPUStack's performance lab (modern/gpustack_performance_lab.csv), the same way,
 *     with the server's command-line limits (gpustack_limits), the runs llmcap does not model
 *     skipped (gpustack_in_scope), and one throughput metric per run (the others share its
 *     duration). Runs without limits get their engine's server defaults (server_defaults). */
#include "fidelity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <stddef.h>

#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

/* ---- a small CSV reader (quoted fields, header row) ---- */

struct csv {
	char **head;
	size_t ncol;
	char ***rows;
	size_t nrow;
};

static size_t parse_line(char *line, char **out, size_t max)
{
	size_t n = 0;
	char *r = line, *w = line;
	while (n < max) {
		out[n++] = w;
		bool q = false;
		for (;; r++) {
			if (*r == '"') {
				if (q && r[1] == '"') {
					*w++ = '"';
					r++;
				} else {
					q = !q;
				}
			} else if ((*r == ',' && !q) || *r == '\0' || *r == '\n' || *r == '\r') {
				break;
			} else {
				*w++ = *r;
			}
		}
		char c = *r;
		*w++ = '\0';
		if (c != ',')
			break;
		r++;
	}
	return n;
}

static void csv_free(struct csv *c)
{
	for (size_t i = 0; i < c->nrow; i++) {
		free(c->rows[i][0]);
		free(c->rows[i]);
	}
	free(c->rows);
	if (c->head)
		free(c->head[0]);
	free(c->head);
	memset(c, 0, sizeof *c);
}

static int csv_read(const char *dir, const char *name, struct csv *c)
{
	char path[1024], line[8192];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	memset(c, 0, sizeof *c);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "fidelity: cannot open %s\n", path);
		return -1;
	}
	size_t cap = 0;
	while (fgets(line, sizeof line, f)) {
		char *copy = strdup(line);
		char **fields = calloc(64, sizeof *fields);
		if (!copy || !fields) {
			free(copy);
			free(fields);
			break;
		}
		size_t n = parse_line(copy, fields, 64);
		if (!c->head) {
			c->head = fields;
			c->ncol = n;
			continue;
		}
		if (n < c->ncol) { /* blank or short line */
			free(copy);
			free(fields);
			continue;
		}
		if (c->nrow == cap) {
			cap = cap ? 2 * cap : 256;
			char ***nr = realloc(c->rows, cap * sizeof *nr);
			if (!nr) {
				free(copy);
				free(fields);
				break;
			}
			c->rows = nr;
		}
		c->rows[c->nrow++] = fields;
	}
	fclose(f);
	return c->head ? 0 : -1;
}

static const char *col(const struct csv *c, char **row, const char *name)
{
	for (size_t i = 0; i < c->ncol; i++)
		if (!strcmp(c->head[i], name))
			return row[i];
	return "";
}

static double num(const struct csv *c, char **row, const char *name)
{
	return atof(col(c, row, name));
}

/* ---- names in the data -> catalog entries ---- */

static const char *model_name(const char *s)
{
	static const char *const map[][2] = {
		{"meta-llama/Llama-2-7b-hf", "llama-2-7b"},   {"Llama-2-7B", "llama-2-7b"},
		{"meta-llama/Llama-2-70b-hf", "llama-2-70b"}, {"Llama-2-70B", "llama-2-70b"},
		{"llama2-70b", "llama-2-70b"},
		/* Llama 3 and 3.1 (and 3.3-70B) share their shapes; only the context length differs */
		{"meta-llama/Meta-Llama-3-8B", "llama-3.1-8b"}, {"Llama-3-8B", "llama-3.1-8b"},
		{"Llama-3.1-8B", "llama-3.1-8b"},
		{"meta-llama/Meta-Llama-3-70B", "llama-3.1-70b"}, {"Llama-3-70B", "llama-3.1-70b"},
		{"Llama-3.3-70B", "llama-3.1-70b"},
		{"Llama-3.1-405B", "llama-3.1-405b"},
		{"mistralai/Mistral-7B-v0.1", "mistral-7b"},  {"Mistral-7B", "mistral-7b"},
		{"Mixtral-8x7B", "mixtral-8x7b"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i][0], s))
			return map[i][1];
	return NULL;
}

static const char *gpu_name(const char *s)
{
	if (strstr(s, "H200"))
		return "h200-141gb";
	if (strstr(s, "GH200"))
		return NULL;
	if (strstr(s, "H100") || strstr(s, "h100"))
		return strstr(s, "pcap") ? NULL : "h100-sxm-80gb";
	/* Argonne's A100 rows come from Polaris (A100-SXM4-40GB) */
	if (!strcmp(s, "Nvidia A100 GPU"))
		return "a100-sxm-40gb";
	if (strstr(s, "A100") || strstr(s, "a100"))
		return "a100-sxm-80gb";
	return NULL;
}

static bool target_class(const char *gpu, const char *model)
{
	bool hopper = !strcmp(gpu, "h100-sxm-80gb") || !strcmp(gpu, "h200-141gb");
	bool size = strstr(model, "-7b") || strstr(model, "-8b") || strstr(model, "-70b");
	return hopper && size && !strstr(model, "mixtral");
}

/* ---- the model under test ---- */

struct rig {
	const struct llmcap_model_spec *m;
	struct llmcap_model_spec spec; /* a modified copy, where m points to it */
	const struct llmcap_gpu_spec *g;
	struct llmcap_pool_cfg p;
	struct llmcap_perf pf;
};

static bool rig_init_kv(struct rig *r, const struct llmcap_catalog *cat, const char *model,
			const char *gpu, const char *engine, enum llmcap_dtype dtype, int tp,
			enum llmcap_kv_dtype kv)
{
	struct llmcap_scenario sc;
	llmcap_scenario_defaults(&sc);
	struct llmcap_error err = {0};
	if (llmcap_scenario_apply_override(&sc, "pools.p={}", &err) != 0)
		return false;
	r->p = sc.pools[0];
	r->m = llmcap_catalog_model(cat, model);
	r->g = llmcap_catalog_gpu(cat, gpu);
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(cat, engine);
	if (!r->m || !r->g || !e)
		return false;
	r->p.tensor_parallel_size = tp;
	r->p.dtype = dtype;
	r->p.kv_cache_dtype = kv;
	snprintf(r->p.engine, sizeof r->p.engine, "%s", engine);
	return llmcap_perf_init(&r->pf, r->m, r->g, e, &r->p, &err) == 0;
}

static bool rig_init(struct rig *r, const struct llmcap_catalog *cat, const char *model,
		     const char *gpu, const char *engine, enum llmcap_dtype dtype, int tp)
{
	return rig_init_kv(r, cat, model, gpu, engine, dtype, tp, LLMCAP_KV_AUTO);
}

static double step_s(const struct rig *r, double tokens, double pairs, double kv, double samples)
{
	struct llmcap_step_shape s = {.tokens = (int64_t)tokens, .attn_pairs = pairs,
				      .kv_read_tokens = kv, .samples = (int64_t)samples};
	return llmcap_perf_step_seconds(&r->pf, &s, NULL, NULL);
}

static void add_group(struct fid_dataset *d, const char *label, double measured, double predicted,
		      bool target, const char *engine, const char *size, const char *prec, int tp)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		struct fid_point *np = realloc(d->pts, d->cap * sizeof *np);
		if (!np)
			return;
		d->pts = np;
	}
	struct fid_point *p = &d->pts[d->n++];
	snprintf(p->label, sizeof p->label, "%s", label);
	p->measured = measured;
	p->predicted = predicted;
	p->h100_class = target;
	snprintf(p->engine, sizeof p->engine, "%s", engine);
	snprintf(p->size, sizeof p->size, "%s", size);
	snprintf(p->precision, sizeof p->precision, "%s", prec);
	p->tp = tp;
}

/* A step-level point: no engine run, grouped under "-" */
static void add(struct fid_dataset *d, const char *label, double measured, double predicted,
		bool target)
{
	add_group(d, label, measured, predicted, target, "-", "-", "-", 0);
}

static struct fid_dataset *new_set(struct fid_report *rep, const char *name, const char *file,
				   const char *what, bool e2e)
{
	struct fid_dataset *d = &rep->sets[rep->n_sets++];
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	snprintf(d->file, sizeof d->file, "%s", file);
	snprintf(d->what, sizeof d->what, "%s", what);
	d->end_to_end = e2e;
	return d;
}

/* ---- datasets ---- */

static int vidur_layer(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "vidur_profiled_layer_linear_ops.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "vidur-layer", "vidur_profiled_layer_linear_ops.csv",
					"one layer's non-attention operators, ms", false);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hw"));
		struct rig r;
		if (!m || !g || !rig_init(&r, cat, m, g, "vllm-0.5", LLMCAP_DTYPE_FP16, (int)num(&c, row, "tp"))) {
			d->skipped++;
			continue;
		}
		double t = num(&c, row, "num_tokens");
		struct llmcap_step_shape s = {.tokens = (int64_t)t};
		struct llmcap_step_breakdown bd;
		llmcap_perf_step_seconds(&r.pf, &s, NULL, &bd);
		char label[160];
		snprintf(label, sizeof label, "%s %s tp%d %g tokens", m, g, (int)num(&c, row, "tp"), t);
		add(d, label, num(&c, row, "layer_nonattn_total_ms"), bd.linear / r.pf.layers * 1e3,
		    target_class(g, m));
	}
	csv_free(&c);
	return 0;
}

static int allreduce(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "vidur_allreduce_summary.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "allreduce", "vidur_allreduce_summary.csv",
					"NCCL all-reduce on one NVSwitch node, ms", false);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *topo = col(&c, row, "topology");
		double n = num(&c, row, "num_gpus"), size = num(&c, row, "size_bytes");
		const char *g = strstr(topo, "H100 DGX") ? "h100-sxm-80gb"
				: strstr(topo, "A100 DGX") ? "a100-sxm-80gb" : NULL;
		if (!g || n != num(&c, row, "devices_per_node")) {
			d->skipped++;
			continue;
		}
		const struct llmcap_gpu_spec *gs = llmcap_catalog_gpu(cat, g);
		double t = (double)gs->allreduce_latency * 1e-9 +
			   size * 2 * (n - 1) / n / gs->allreduce_bandwidth;
		char label[160];
		snprintf(label, sizeof label, "%s %g GPUs %g bytes", g, n, size);
		add(d, label, num(&c, row, "median_ms"), t * 1e3, !strcmp(g, "h100-sxm-80gb"));
	}
	csv_free(&c);
	return 0;
}

static int splitwise(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "splitwise_perf_model_summary.csv", &c))
		return -1;
	struct fid_dataset *pre = new_set(rep, "splitwise-prefill", "splitwise_perf_model_summary.csv",
					  "Llama2-70B prompt phase, ms", false);
	struct fid_dataset *dec = new_set(rep, "splitwise-decode", "splitwise_perf_model_summary.csv",
					  "Llama2-70B per-token decode, ms", false);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hardware"));
		int tp = (int)num(&c, row, "tp");
		struct rig r;
		if (!m || !g || !rig_init(&r, cat, m, g, "vllm-0.5", LLMCAP_DTYPE_FP16, tp)) {
			pre->skipped++;
			dec->skipped++;
			continue;
		}
		double b = num(&c, row, "batch_size"), p = num(&c, row, "prompt_tokens"),
		       o = num(&c, row, "output_tokens");
		char label[160];
		snprintf(label, sizeof label, "%s %s tp%d b%g prompt %g out %g", m, g, tp, b, p, o);
		add(pre, label, num(&c, row, "prompt_phase_ms"),
		    step_s(&r, b * p, b * p * (p + 1) / 2, b * p, b) * 1e3, target_class(g, m));
		double ctx = p + o / 2;
		add(dec, label, num(&c, row, "per_token_decode_ms"),
		    step_s(&r, b, b * (ctx + 1), b * (ctx + 1), b) * 1e3, target_class(g, m));
	}
	csv_free(&c);
	return 0;
}

/* ---- this project's H100 measurements (bench/data/h100_steps.csv, bench/gpu_steps.py) ---- */

/* The model for `layers` layers of a catalog model (the 70B rows time a 4-layer stack). */
static bool rig_init_layers(struct rig *r, const struct llmcap_catalog *cat, const char *model,
			    enum llmcap_dtype dtype, int64_t layers)
{
	struct llmcap_scenario sc;
	llmcap_scenario_defaults(&sc);
	struct llmcap_error err = {0};
	const struct llmcap_model_spec *m = llmcap_catalog_model(cat, model);
	const struct llmcap_engine_spec *e = llmcap_catalog_engine(cat, "vllm-0.5");
	r->g = llmcap_catalog_gpu(cat, "h100-sxm-80gb");
	if (!m || !e || !r->g || llmcap_scenario_apply_override(&sc, "pools.p={}", &err) != 0)
		return false;
	r->spec = *m;
	r->spec.layers = layers;
	r->m = &r->spec;
	r->p = sc.pools[0];
	r->p.dtype = dtype;
	if (llmcap_perf_init(&r->pf, r->m, r->g, e, &r->p, &err) != 0)
		return false;
	/* kernel-only: no engine CPU costs; decode attention at vLLM's kernel efficiency */
	r->pf.step_overhead_s = r->pf.seq_overhead_s = r->pf.eager_s = 0;
	return true;
}

/* One layer's four projections (qkv, o, gate_up, down) summed per M, against the model's
 * per-layer GEMM term: roofline(2 P (M + gemm_half_tokens) / (peak x gemm_efficiency),
 * weights / (HBM x hbm_efficiency)), without the layer's kernel floor and element-wise part. */
static int torch_gemm(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "h100_steps.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "h100-gemm", "h100_steps.csv",
					"one layer's 4 projection GEMMs, kernel-only, ms (bench/gpu_steps.py)",
					false);
	static const char *const models[] = {"llama-3.1-8b", "llama-3.1-70b"};
	static const char *const ops[] = {"qkv", "o", "gate_up", "down"};
	for (int mi = 0; mi < 2; mi++)
		for (int fp8 = 0; fp8 < 2; fp8++) {
			struct rig r;
			if (!rig_init_layers(&r, cat, models[mi],
					     fp8 ? LLMCAP_DTYPE_FP8 : LLMCAP_DTYPE_BF16, 1)) {
				d->skipped++;
				continue;
			}
			/* M values in file order, from the first projection's rows */
			for (size_t i = 0; i < c.nrow; i++) {
				char want[96];
				snprintf(want, sizeof want, "%s:%s", models[mi], ops[0]);
				if (strcmp(col(&c, c.rows[i], "section"), fp8 ? "gemm_fp8" : "gemm_bf16") ||
				    strcmp(col(&c, c.rows[i], "shape"), want))
					continue;
				double m = num(&c, c.rows[i], "m"), sum = 0;
				int found = 0;
				for (size_t j = 0; j < c.nrow; j++) {
					char **row = c.rows[j];
					const char *sh = col(&c, row, "shape");
					size_t ml = strlen(models[mi]);
					if (strcmp(col(&c, row, "section"), fp8 ? "gemm_fp8" : "gemm_bf16") ||
					    strncmp(sh, models[mi], ml) || sh[ml] != ':' || num(&c, row, "m") != m)
						continue;
					for (int o = 0; o < 4; o++)
						if (!strcmp(sh + ml + 1, ops[o]) && isfinite(num(&c, row, "median_ms"))) {
							sum += num(&c, row, "median_ms");
							found++;
						}
				}
				if (found != 4) {
					d->skipped++;
					continue;
				}
				struct llmcap_step_fixed f;
				llmcap_perf_fixed(&r.pf, (int64_t)m, 0, &f);
				double gemm = f.lin / r.pf.layers - r.pf.layer_latency -
					      r.pf.ew_bytes_per_token * m / r.pf.mem_bw;
				char label[160];
				snprintf(label, sizeof label, "%s %s M=%g", models[mi], fp8 ? "fp8" : "bf16", m);
				add(d, label, sum, gemm * 1e3, true);
			}
		}
	csv_free(&c);
	return 0;
}

/* Whole steps of the PyTorch reference: the model's GPU terms only (engine CPU costs 0). */
static int torch_steps(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "h100_steps.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "h100-torch-steps", "h100_steps.csv",
					"PyTorch Llama decode/prefill steps, kernel-only, ms (bench/gpu_steps.py)",
					false);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *sec = col(&c, row, "section");
		bool decode = strstr(sec, "decode") == sec, prefill = strstr(sec, "prefill") == sec;
		if (!decode && !prefill)
			continue;
		const char *shape = col(&c, row, "shape");
		struct rig r;
		if (!rig_init_layers(&r, cat, shape, LLMCAP_DTYPE_BF16, (int64_t)num(&c, row, "layers"))) {
			d->skipped++;
			continue;
		}
		double ns = num(&c, row, "nseq"), kv = num(&c, row, "kv_len");
		double samples = num(&c, row, "lm_head") > 0 ? ns : 0, pred;
		if (decode) /* each sequence's new token attends kv_len keys (its own included) */
			pred = step_s(&r, ns, ns * kv, ns * kv, samples);
		else /* ns sequences of kv_len new tokens, empty cache */
			pred = step_s(&r, ns * kv, ns * kv * (kv + 1) / 2, ns * kv, samples);
		char label[160];
		snprintf(label, sizeof label, "%s x%g layers %s b%g kv%g", shape, num(&c, row, "layers"),
			 decode ? "decode" : "prefill", ns, kv);
		add(d, label, num(&c, row, "median_ms"), pred * 1e3, true);
	}
	csv_free(&c);
	return 0;
}

/* ---- end-to-end points through the engine (llmcap_simulate) ---- */

/* Request lengths of a benchmark. */
enum len_kind {
	LEN_FIXED,    /* exactly isl / osl */
	LEN_UNIFORM,  /* uniform on [lo x L, hi x L] (random datasets with a range ratio) */
	LEN_SHAREGPT, /* vLLM's ShareGPT sampling (see sharegpt_len) */
};

/* One published benchmark run, as a scenario. */
struct bench {
	const char *model, *gpu, *engine; /* catalog names */
	enum llmcap_dtype dtype;
	enum llmcap_kv_dtype kv;
	int tp;
	int64_t max_num_seqs, max_num_batched_tokens, block_size, max_model_len; /* 0: default */
	int n;           /* requests the benchmark sends */
	double rate;     /* requests/s, Poisson; 0: all at t = 0 (rate inf) */
	int concurrency; /* > 0: closed loop of this many clients, no think time */
	enum len_kind len;
	double isl, osl; /* fixed, uniform: the nominal lengths; sharegpt: their means */
	double lo, hi;   /* uniform: the range as fractions of the nominal length */
};

/* What `vllm bench serve` (and its relatives) print, from the first n requests' records. */
struct bench_out {
	bool ok;
	double duration;                  /* s, first send to last end */
	double out_tok_s, in_tok_s, req_s, tot_tok_s;
	double ttft_med, ttft_mean;       /* ms */
	double tpot_med, tpot_mean;       /* ms */
	double itl_mean;                  /* ms: decode time over decode intervals, all requests */
	double ttft_single;               /* ms: the first request's (batch-1 runs) */
};

struct capture {
	int n;
	int got;
	double *arrival, *end, *ttft, *tpot, *e2e, *prompt, *output;
};

static int on_record(void *user, const struct llmcap_request_record *r)
{
	struct capture *c = user;
	if (r->id >= c->n || r->status != LLMCAP_REQ_COMPLETED)
		return 0;
	size_t i = (size_t)r->id;
	c->arrival[i] = r->arrival;
	c->end[i] = r->arrival + r->e2e;
	c->ttft[i] = r->ttft;
	c->tpot[i] = r->tpot;
	c->e2e[i] = r->e2e;
	c->prompt[i] = (double)r->prompt_tokens;
	c->output[i] = (double)r->output_tokens;
	c->got++;
	return 0;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of the finite values (sorted in place); NAN when none. */
static double median(double *v, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[k++] = v[i];
	if (k == 0)
		return NAN;
	qsort(v, (size_t)k, sizeof *v, dcmp);
	return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

/* ShareGPT as vLLM's benchmark samples it (datasets.csv, Llama-3 tokenizer): prompts
 * log-normal with the measured median 102.5 and mean 221.5 (sigma = sqrt(2 ln(mean/median)) =
 * 1.24), kept in [4, 1024]; outputs (only their mean is published: 179) log-normal with the
 * same sigma, scaled to the benchmark's mean, kept in [4, 2048 - prompt]. The source's own
 * means rescale both. */
#define SHAREGPT_SIGMA 1.2412
static int64_t sharegpt_len(gsl_rng *r, double mean, int64_t lo, int64_t hi)
{
	double med = mean / exp(0.5 * SHAREGPT_SIGMA * SHAREGPT_SIGMA);
	double x = exp(log(med) + SHAREGPT_SIGMA * gsl_ran_ugaussian(r));
	int64_t v = (int64_t)llround(x);
	return v < lo ? lo : v > hi ? hi : v;
}

static void draw_lengths(const struct bench *b, gsl_rng *r, int64_t *prompt, int64_t *output)
{
	switch (b->len) {
	case LEN_FIXED:
		*prompt = (int64_t)b->isl;
		*output = (int64_t)b->osl;
		break;
	case LEN_UNIFORM: {
		int64_t plo = (int64_t)ceil(b->lo * b->isl), phi = (int64_t)floor(b->hi * b->isl);
		int64_t olo = (int64_t)ceil(b->lo * b->osl), ohi = (int64_t)floor(b->hi * b->osl);
		plo = plo < 1 ? 1 : plo;
		olo = olo < 1 ? 1 : olo;
		*prompt = plo + (int64_t)gsl_rng_uniform_int(r, (unsigned long)(phi - plo + 1));
		*output = olo + (int64_t)gsl_rng_uniform_int(r, (unsigned long)(ohi - olo + 1));
		break;
	}
	default:
		*prompt = sharegpt_len(r, b->isl, 4, 1024);
		*output = sharegpt_len(r, b->osl, 4, 2048 - *prompt);
	}
}

static const char *dtype_key(enum llmcap_dtype d)
{
	return llmcap_dtype_names[d];
}

/* The benchmark as a scenario: one replica of the model on its GPUs, the engine profile the
 * point names, the benchmark's batch limits where it set them; closed loop for
 * --max-concurrency runs. */
static bool bench_scenario(const struct bench *b, struct llmcap_scenario *sc, llmcap_time horizon,
			   const struct llmcap_catalog *cat, const struct fid_options *opt)
{
	char pool[512], cls[512], hz[64];
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	int k = snprintf(pool, sizeof pool,
			 "pools={p: {model: %s, engine: %s, dtype: %s, kv_cache_dtype: %s, "
			 "tensor_parallel_size: %d, replicas: 1",
			 b->model, b->engine, dtype_key(b->dtype), llmcap_kv_dtype_names[b->kv], b->tp);
	if (b->max_num_seqs)
		k += snprintf(pool + k, sizeof pool - (size_t)k, ", max_num_seqs: %lld",
			      (long long)b->max_num_seqs);
	if (b->max_num_batched_tokens)
		k += snprintf(pool + k, sizeof pool - (size_t)k, ", max_num_batched_tokens: %lld",
			      (long long)b->max_num_batched_tokens);
	if (b->block_size)
		k += snprintf(pool + k, sizeof pool - (size_t)k, ", block_size: %lld",
			      (long long)b->block_size);
	if (b->max_model_len)
		k += snprintf(pool + k, sizeof pool - (size_t)k, ", max_model_len: %lld",
			      (long long)b->max_model_len);
	for (size_t i = 0; opt && i < opt->n_overrides; i++)
		if (!strcmp(opt->engine[i], b->engine))
			k += snprintf(pool + k, sizeof pool - (size_t)k, ", profile: %s", opt->profile[i]);
	snprintf(pool + k, sizeof pool - (size_t)k, "}}");
	/* the class's distributions matter only for closed loop (a script gives the lengths) */
	if (b->len == LEN_FIXED)
		snprintf(cls, sizeof cls, "workload.classes={c: {pool: p, prompt: {dist: fixed, value: %g}, "
			 "output: {dist: fixed, value: %g}}}", b->isl, b->osl);
	else if (b->len == LEN_UNIFORM)
		snprintf(cls, sizeof cls, "workload.classes={c: {pool: p, prompt: {dist: uniform, min: %lld, "
			 "max: %lld}, output: {dist: uniform, min: %lld, max: %lld}}}",
			 (long long)fmax(1, ceil(b->lo * b->isl)), (long long)floor(b->hi * b->isl),
			 (long long)fmax(1, ceil(b->lo * b->osl)), (long long)floor(b->hi * b->osl));
	else
		snprintf(cls, sizeof cls, "workload.classes={c: {pool: p, prompt: {dist: lognormal, "
			 "median: %g, sigma: %g, min: 4, max: 1024}, output: {dist: lognormal, median: %g, "
			 "sigma: %g, min: 4, max: 1024}}}",
			 b->isl / exp(0.5 * SHAREGPT_SIGMA * SHAREGPT_SIGMA), SHAREGPT_SIGMA,
			 b->osl / exp(0.5 * SHAREGPT_SIGMA * SHAREGPT_SIGMA), SHAREGPT_SIGMA);
	snprintf(hz, sizeof hz, "horizon=%llds", (long long)(horizon / LLMCAP_SEC));
	char clients[96];
	snprintf(clients, sizeof clients, "workload.clients={concurrency: %d, think_time: 0s}",
		 b->concurrency);
	char gpu[96];
	snprintf(gpu, sizeof gpu, "hardware={gpu: %s, servers: 1, gpus_per_server: 8}", b->gpu);
	const char *sets[] = {cls, pool, gpu, "cost.api.prices={c: {input: 1, output: 1}}", hz,
			      "max_in_flight=1000000", clients};
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
		if (llmcap_scenario_apply_override(sc, sets[i], &err) != 0)
			return false;
	return llmcap_scenario_check(sc, cat, &err) == 0;
}

/* Runs the benchmark through the engine. Open loop: the n requests as a script (all at 0, or
 * Poisson times at the rate), lengths from a fixed seed; closed loop: the clients, until the
 * first n requests (by id) have all completed. */
static struct bench_out bench_run(const struct bench *b, const struct llmcap_catalog *cat,
				   const struct fid_options *opt)
{
	struct bench_out o = {0};
	struct capture c = {.n = b->n};
	double *buf = calloc((size_t)b->n * 7, sizeof *buf);
	struct llmcap_scripted_request *rq = calloc((size_t)b->n, sizeof *rq);
	gsl_rng *r = llmcap_rng_stream(42, "fidelity/lengths");
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!buf || !rq || !r || !sc)
		goto out;
	c.arrival = buf, c.end = buf + b->n, c.ttft = buf + 2 * b->n, c.tpot = buf + 3 * b->n;
	c.e2e = buf + 4 * b->n, c.prompt = buf + 5 * b->n, c.output = buf + 6 * b->n;
	struct llmcap_sink sink = {.user = &c, .request = on_record};
	struct llmcap_results res;
	struct llmcap_error err = {0};
	if (b->concurrency > 0) {
		for (llmcap_time h = 2 * LLMCAP_HOUR; h <= 16 * LLMCAP_DAY && c.got < b->n; h *= 2) {
			c.got = 0;
			if (!bench_scenario(b, sc, h, cat, opt))
				goto out;
			int rc = llmcap_simulate(sc, cat, &sink, &res, &err);
			llmcap_scenario_free(sc);
			if (rc != 0)
				goto out;
			llmcap_results_free(&res);
		}
	} else {
		double t = 0;
		for (int i = 0; i < b->n; i++) {
			if (b->rate > 0 && i > 0)
				t += gsl_ran_exponential(r, 1.0 / b->rate);
			rq[i].time = (llmcap_time)llround(t * 1e9);
			draw_lengths(b, r, &rq[i].prompt, &rq[i].output);
		}
		if (!bench_scenario(b, sc, 16 * LLMCAP_DAY, cat, opt))
			goto out;
		int rc = llmcap_simulate_script(sc, cat, &sink, rq, (size_t)b->n, &res, &err);
		llmcap_scenario_free(sc);
		if (rc != 0)
			goto out;
		llmcap_results_free(&res);
	}
	if (c.got < b->n)
		goto out;
	double first = INFINITY, last = 0, in = 0, out_t = 0, dec = 0, gaps = 0;
	for (int i = 0; i < b->n; i++) {
		first = fmin(first, c.arrival[i]);
		last = fmax(last, c.end[i]);
		in += c.prompt[i];
		out_t += c.output[i];
		if (c.output[i] > 1) {
			dec += c.e2e[i] - c.ttft[i];
			gaps += c.output[i] - 1;
		}
	}
	o.duration = last - first;
	o.out_tok_s = out_t / o.duration;
	o.in_tok_s = in / o.duration;
	o.tot_tok_s = (in + out_t) / o.duration;
	o.req_s = b->n / o.duration;
	o.itl_mean = gaps > 0 ? dec / gaps * 1e3 : NAN;
	o.ttft_single = c.ttft[0] * 1e3;
	double sum = 0;
	for (int i = 0; i < b->n; i++)
		sum += c.ttft[i];
	o.ttft_mean = sum / b->n * 1e3;
	o.ttft_med = median(c.ttft, b->n) * 1e3;
	sum = 0;
	int nt = 0;
	for (int i = 0; i < b->n; i++)
		if (isfinite(c.tpot[i])) {
			sum += c.tpot[i];
			nt++;
		}
	o.tpot_mean = nt ? sum / nt * 1e3 : NAN;
	o.tpot_med = median(c.tpot, b->n) * 1e3;
	o.ok = true;
out:
	free(buf);
	free(rq);
	gsl_rng_free(r);
	free(sc);
	return o;
}

/* The predicted value of a metric as `vllm bench serve` names it; NAN for one not reproduced.
 * Median ITL is taken as the median TPOT (the engine records each request's mean time per
 * output token, not every gap; in steady decoding they agree). */
static double bench_metric(const struct bench_out *o, const char *metric)
{
	static const struct {
		const char *name;
		size_t off;
	} m[] = {
		{"output_throughput", offsetof(struct bench_out, out_tok_s)},
		{"reported_throughput_first_value", offsetof(struct bench_out, out_tok_s)},
		{"input_throughput", offsetof(struct bench_out, in_tok_s)},
		{"total_token_throughput", offsetof(struct bench_out, tot_tok_s)},
		{"request_throughput", offsetof(struct bench_out, req_s)},
		{"median_ttft", offsetof(struct bench_out, ttft_med)},
		{"mean_ttft", offsetof(struct bench_out, ttft_mean)},
		{"median_tpot", offsetof(struct bench_out, tpot_med)},
		{"mean_tpot", offsetof(struct bench_out, tpot_mean)},
		{"median_itl", offsetof(struct bench_out, tpot_med)},
		{"reported_latency_second_value", offsetof(struct bench_out, tpot_med)},
		{"mean_itl", offsetof(struct bench_out, itl_mean)},
		{"duration", offsetof(struct bench_out, duration)},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (!strcmp(m[i].name, metric))
			return *(const double *)((const char *)o + m[i].off);
	return NAN;
}

/* The catalog's profile for an engine and version (models/catalog/engines.yaml), or NULL when
 * the catalog lacks it: the point is then counted as skipped, and the fidelity test's point
 * counts catch a profile that went missing. */
static const char *profile(const struct llmcap_catalog *cat, const char *want)
{
	return llmcap_catalog_engine(cat, want) ? want : NULL;
}

/* The profile for a source's engine column and version. */
static const char *profile_for(const struct llmcap_catalog *cat, const char *engine,
			       const char *version)
{
	if (strstr(engine, "SGLang") || strstr(engine, "sglang"))
		return profile(cat, "sglang");
	if (strstr(engine, "TensorRT") || strstr(engine, "trtllm"))
		return profile(cat, "trtllm");
	if (strstr(engine, "vLLM") || strstr(engine, "vllm")) {
		if (!strncmp(version, "0.5", 3) || !strncmp(version, "0.4", 3))
			return profile(cat, "vllm-0.5");
		if (!strncmp(version, "0.6", 3))
			return profile(cat, "vllm-0.6");
		return profile(cat, "vllm");
	}
	return NULL;
}

static const char *size_class(const char *model)
{
	static const char *const sizes[][2] = {
		{"-405b", "405B"}, {"-235b", "235B MoE"}, {"-70b", "70B"}, {"-72b", "72B"},
		{"-32b", "32B"},   {"-14b", "14B"},       {"-8x7b", "8x7B"}, {"-8b", "8B"},
		{"deepseek-v3", "671B MoE"},
	};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (strstr(model, sizes[i][0]))
			return sizes[i][1];
	return "7B";
}

static void add_run(struct fid_dataset *d, const char *label, double measured, double predicted,
		    const struct bench *b)
{
	char prec[16];
	snprintf(prec, sizeof prec, "%s%s", llmcap_dtype_names[b->dtype],
		 b->kv == LLMCAP_KV_FP8 ? "/kv8" : "");
	add_group(d, label, measured, predicted, target_class(b->gpu, b->model), b->engine,
		  size_class(b->model), prec, b->tp);
}

/* Argonne's LLM-Inference-Bench: static batches of b requests of fixed lengths, all at once,
 * the engine's batch limit at b (and one prefill step for the batch); end-to-end latency. */
static int argonne(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "argonne_llm_inference_bench_nvidia.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "argonne-e2e", "argonne_llm_inference_bench_nvidia.csv",
					"static batch end-to-end latency, s (engine run)", true);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hardware"));
		const char *fw = col(&c, row, "framework");
		int tp = (int)num(&c, row, "num_gpus");
		const char *e = !strcmp(fw, "vLLM") ? profile(cat, "vllm-0.5") : profile(cat, "trtllm-0.9");
		double bs = num(&c, row, "batch_size"), isl = num(&c, row, "input_len"),
		       osl = num(&c, row, "output_len");
		if (!m || !g || !e) {
			d->skipped++;
			continue;
		}
		struct bench b = {.model = m, .gpu = g, .engine = e, .dtype = LLMCAP_DTYPE_FP16, .tp = tp,
				  .max_num_seqs = (int64_t)bs,
				  .max_num_batched_tokens = (int64_t)fmax(bs * isl, 2048),
				  .n = (int)bs, .len = LEN_FIXED, .isl = isl, .osl = osl};
		struct bench_out o = bench_run(&b, cat, rep->opt);
		if (!o.ok) {
			d->skipped++;
			continue;
		}
		char label[160];
		snprintf(label, sizeof label, "%s %s tp%d %s b%g %g/%g", m, g, tp, e, bs, isl, osl);
		add_run(d, label, num(&c, row, "e2e_latency_s"), o.duration, &b);
	}
	csv_free(&c);
	return 0;
}

/* TensorRT-LLM 0.9's static batches (output tokens/s per GPU) and batch-1 first-token
 * latency, as Argonne's. */
static int trtllm_static(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "trtllm_v0.9_static.csv", &c))
		return -1;
	struct fid_dataset *thr = new_set(rep, "trtllm-v0.9-static", "trtllm_v0.9_static.csv",
					  "static batch output tokens/s per GPU (engine run)", true);
	struct fid_dataset *ttft = new_set(rep, "trtllm-v0.9-ttft", "trtllm_v0.9_static.csv",
					   "batch-1 first-token latency, ms (engine run)", true);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *metric = col(&c, row, "metric");
		bool is_thr = !strcmp(metric, "output_tokens_per_s_per_GPU");
		bool is_ttft = !strncmp(metric, "first_token_latency_ms", 22);
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hardware"));
		bool fp8 = !strcmp(col(&c, row, "precision"), "FP8");
		int tp = (int)num(&c, row, "tp");
		/* the third metric mixes per-GPU and per-system figures: not comparable; FP8 engines
		 * there quantise the KV cache too */
		if (!m || !g || !(is_thr || is_ttft) || !profile(cat, "trtllm-0.9")) {
			(is_ttft ? ttft : thr)->skipped++;
			continue;
		}
		double bs = num(&c, row, "batch_size"), isl = num(&c, row, "isl"), osl = num(&c, row, "osl");
		if (is_ttft)
			bs = 1;
		struct bench b = {.model = m, .gpu = g, .engine = profile(cat, "trtllm-0.9"),
				  .dtype = fp8 ? LLMCAP_DTYPE_FP8 : LLMCAP_DTYPE_FP16,
				  .kv = fp8 ? LLMCAP_KV_FP8 : LLMCAP_KV_AUTO, .tp = tp,
				  .max_num_seqs = (int64_t)bs,
				  .max_num_batched_tokens = (int64_t)fmax(bs * isl, 2048), .n = (int)bs,
				  .len = LEN_FIXED, .isl = isl, .osl = is_ttft ? 1 : osl};
		struct bench_out o = bench_run(&b, cat, rep->opt);
		if (!o.ok) {
			(is_ttft ? ttft : thr)->skipped++;
			continue;
		}
		char label[160];
		snprintf(label, sizeof label, "%s %s %s tp%d b%g %g/%g", m, g, fp8 ? "fp8" : "fp16", tp,
			 bs, isl, osl);
		if (is_thr)
			add_run(thr, label, num(&c, row, "value"), bs * osl / o.duration / tp, &b);
		else
			add_run(ttft, label, num(&c, row, "value"), o.ttft_single, &b);
	}
	csv_free(&c);
	return 0;
}

/* TensorRT-LLM v0.20/v1.0 max-throughput tables (trtllm-bench): all requests at t = 0 with
 * fixed lengths (3000, or 1000 when input + output > 5000 tokens), at most 2048 sequences and
 * 8192 tokens a step, blocks of 32 tokens, FP8 weights and KV cache (ModelOpt checkpoints);
 * output tokens/s over the run. The KV capacity the profile gives decides the concurrency. */
static int trtllm_throughput(const char *dir, const struct llmcap_catalog *cat,
			     struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "trtllm_v0.20_v1.0_throughput.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "trtllm-throughput", "trtllm_v0.20_v1.0_throughput.csv",
					"max-throughput output tokens/s, all at t=0 (engine run)", true);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hardware"));
		int tp = (int)num(&c, row, "tp");
		double isl = num(&c, row, "isl"), osl = num(&c, row, "osl");
		if (!m || !g || !profile(cat, "trtllm")) {
			d->skipped++;
			continue;
		}
		struct bench b = {.model = m, .gpu = g, .engine = profile(cat, "trtllm"),
				  .dtype = LLMCAP_DTYPE_FP8, .kv = LLMCAP_KV_FP8, .tp = tp,
				  .max_num_seqs = 2048, .max_num_batched_tokens = 8192, .block_size = 32,
				  .n = isl + osl > 5000 ? 1000 : 3000, .len = LEN_FIXED, .isl = isl,
				  .osl = osl};
		struct bench_out o = bench_run(&b, cat, rep->opt);
		char label[160];
		snprintf(label, sizeof label, "%s %s tp%d %g/%g (%.20s)", m, g, tp, isl, osl,
			 col(&c, row, "engine"));
		if (!o.ok) {
			d->skipped++;
			continue;
		}
		add_run(d, label, num(&c, row, "value"), o.out_tok_s, &b);
	}
	csv_free(&c);
	return 0;
}

/* ---- the modern/ files: one row a metric of a `vllm bench serve`-style run ---- */

static const char *modern_model(const char *s, enum llmcap_dtype *dt)
{
	static const char *const map[][2] = {
		{"Meta-Llama-3.1-8B-FP8", "llama-3.1-8b"}, {"Meta-Llama-3.1-70B-Instruct-FP8", "llama-3.1-70b"},
		{"Hermes-3-Llama-3.1-405B-FP8", "llama-3.1-405b"}, {"Mistral-7B-Instruct-v0.3", "mistral-7b"},
		{"Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"}, {"Llama 3 8B", "llama-3.1-8b"},
		{"Llama 3 70B", "llama-3.1-70b"}, {"meta-llama/Llama-3.1-8B", "llama-3.1-8b"},
		{"meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i][0], s)) {
			*dt = strstr(s, "FP8") ? LLMCAP_DTYPE_FP8 : LLMCAP_DTYPE_BF16;
			return map[i][1];
		}
	return NULL;
}

/* The leading number of a cell ("~20000", "202 (mean, stated)"); NAN if none. */
static double lead_num(const char *s)
{
	while (*s == '~' || *s == ' ')
		s++;
	char *end;
	double v = strtod(s, &end);
	return end == s ? NAN : v;
}

/* ---- GPUStack's performance lab (modern/gpustack_performance_lab.csv) ---- */

/* The catalog model of a GPUStack row and its weight dtype (the weight_dtype column: "fp8
 * (checkpoint ...)" is FP8); NULL for models outside the catalog (Qwen3.5's hybrid linear
 * attention, GPT-OSS's MXFP4 experts, GLM, DeepSeek-V3.2's sparse attention). */
static const char *gpustack_model(const struct csv *c, char **row, enum llmcap_dtype *dt)
{
	static const char *const map[][2] = {
		{"Qwen3-8B", "qwen3-8b"},           {"Qwen3-14B", "qwen3-14b"},
		{"Qwen3-32B", "qwen3-32b"},         {"Qwen3-235B-A22B", "qwen3-235b-a22b"},
		{"DeepSeek-R1", "deepseek-v3"},
	};
	const char *s = col(c, row, "model");
	*dt = !strncmp(col(c, row, "weight_dtype"), "fp8", 3) ? LLMCAP_DTYPE_FP8 : LLMCAP_DTYPE_BF16;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strstr(s, map[i][0]))
			return map[i][1];
	return NULL;
}

/* Runs llmcap does not model, counted as skipped: speculative decoding, AWQ (INT4 with its own
 * kernels), data-parallel or DP attention, expert or pipeline parallelism, more GPUs than the
 * TP (replicas the page does not describe), and the guidellm pages, whose printed fields are
 * inconsistent (modern/PROVENANCE.md, section 1, caveat a). */
static bool gpustack_in_scope(const struct csv *c, char **row, int tp)
{
	const char *flags = col(c, row, "server_flags"), *notes = col(c, row, "notes");
	static const char *const out[] = {"AWQ", "awq", "dp-attention", "--dp", "data-parallel",
					   "expert-parallel", "--ep", "-pp", "pipeline", "speculative"};
	for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
		if (strstr(flags, out[i]))
			return false;
	if (strstr(notes, "speculative") || strstr(col(c, row, "dataset"), "guidellm"))
		return false;
	return (int)num(c, row, "num_gpus") == tp;
}

/* The number after the last `name` in flags ("--x 8" or "--x=8"); 0 if absent. */
static int64_t flag_int(const char *flags, const char *name)
{
	int64_t v = 0;
	size_t n = strlen(name);
	for (const char *p = strstr(flags, name); p; p = strstr(p + n, name)) {
		const char *q = p + n;
		if (*q != ' ' && *q != '=')
			continue;
		long long x = strtoll(q + 1, NULL, 10);
		if (x > 0)
			v = x;
	}
	return v;
}

/* The server's batch limits and KV dtype from its command line, and the run's mean output
 * length from its printed totals (no --ignore-eos: random-dataset requests may stop before
 * their max_tokens; the page prints total generated tokens and completed requests). */
static void gpustack_limits(struct bench *b, const char *flags, const struct csv *c, size_t first)
{
	int64_t v;
	if ((v = flag_int(flags, "--max-num-seqs")) || (v = flag_int(flags, "--max_batch_size")) ||
	    (v = flag_int(flags, "--max-running-requests")))
		b->max_num_seqs = v;
	if ((v = flag_int(flags, "--max-num-batched-tokens")) || (v = flag_int(flags, "--max_num_tokens")) ||
	    (v = flag_int(flags, "--chunked-prefill-size")))
		b->max_num_batched_tokens = v;
	if (strstr(flags, "kv-cache-dtype fp8") || strstr(flags, "kv-cache-dtype=fp8"))
		b->kv = LLMCAP_KV_FP8;
	if (b->len != LEN_FIXED)
		return;
	double out = NAN, done = NAN;
	const char *src = col(c, c->rows[first], "source_id"), *exp = col(c, c->rows[first], "experiment");
	const char *load = col(c, c->rows[first], "load"), *eng = col(c, c->rows[first], "engine");
	for (size_t k = first; k < c->nrow; k++) {
		char **r = c->rows[k];
		if (strcmp(col(c, r, "source_id"), src) || strcmp(col(c, r, "experiment"), exp) ||
		    strcmp(col(c, r, "load"), load) || strcmp(col(c, r, "engine"), eng))
			break;
		if (!strcmp(col(c, r, "metric"), "total_output_tokens"))
			out = num(c, r, "value");
		else if (!strcmp(col(c, r, "metric"), "completed_requests"))
			done = num(c, r, "value");
	}
	if (out > 0 && done > 0)
		b->osl = fmax(1, round(out / done));
}

/* The batch limits a current engine's server starts with when its command line sets none
 * (the pool's defaults are vLLM V0's 256 sequences and 8192 tokens):
 *   vllm (V1, 0.10+): 1024 sequences and 8192 tokens a step on GPUs of 70 GiB or more other
 *     than the A100, 256 and 2048 elsewhere (vllm/engine/arg_utils.py, default_max_num_seqs
 *     and default_max_num_batched_tokens for the OpenAI API server);
 *   trtllm (trtllm-serve 1.x): max_batch_size 2048, max_num_tokens 8192;
 *   sglang (0.5): chunked_prefill_size 8192 on 80-141 GB GPUs; max_running_requests from the
 *     KV pool (thousands): 2048 here. */
static void server_defaults(struct bench *b)
{
	int64_t seqs = 0, tokens = 0;
	if (!strcmp(b->engine, "vllm")) {
		bool a100 = !strncmp(b->gpu, "a100", 4);
		seqs = a100 ? 256 : 1024;
		tokens = a100 ? 2048 : 8192;
	} else if (!strcmp(b->engine, "trtllm") || !strcmp(b->engine, "sglang")) {
		seqs = 2048;
		tokens = 8192;
	}
	if (!b->max_num_seqs)
		b->max_num_seqs = seqs;
	if (!b->max_num_batched_tokens)
		b->max_num_batched_tokens = tokens;
}

/* One modern file: rows grouped into runs by (source, engine, version, gpu, tp, model, dtypes,
 * dataset, lengths, mode, load, prompts, experiment); each run simulated once. */
static int modern(const char *dir, const char *file, const char *name, const char *what,
		  bool gpustack, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, file, &c))
		return -1;
	struct fid_dataset *d = new_set(rep, name, file, what, true);
	char last_key[2048] = "";
	struct bench_out o = {0};
	struct bench b = {0};
	bool have = false;
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		char key[2048];
		snprintf(key, sizeof key, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
			 col(&c, row, "source_id"), col(&c, row, "engine"), col(&c, row, "engine_version"),
			 col(&c, row, "gpu"), col(&c, row, "tp"), col(&c, row, "model"),
			 col(&c, row, "weight_dtype"), col(&c, row, "kv_dtype"), col(&c, row, "dataset"),
			 col(&c, row, "input_len"), col(&c, row, "output_len"), col(&c, row, "mode"),
			 col(&c, row, "load"), col(&c, row, "num_prompts"), col(&c, row, "experiment"));
		const char *metric = col(&c, row, "metric");
		if (strcmp(key, last_key)) {
			snprintf(last_key, sizeof last_key, "%s", key);
			have = false;
			enum llmcap_dtype dt = LLMCAP_DTYPE_BF16;
			const char *flags = col(&c, row, "server_flags");
			const char *m = gpustack ? gpustack_model(&c, row, &dt)
						 : modern_model(col(&c, row, "model"), &dt);
			const char *g = gpu_name(col(&c, row, "gpu"));
			const char *e = profile_for(cat, col(&c, row, "engine"), col(&c, row, "engine_version"));
			const char *ds = col(&c, row, "dataset"), *exp = col(&c, row, "experiment");
			const char *mode = col(&c, row, "mode"), *load = col(&c, row, "load");
			int tp = (int)num(&c, row, "tp");
			/* out of scope: models or GPUs outside the catalog, engines without a profile,
			 * speculative decoding, text-stated curve fits */
			if (!m || !g || !e || tp < 1 || strstr(exp, "spec") || strstr(exp, "fit"))
				continue;
			if (e && rep->opt && rep->opt->only_engine && strcmp(e, rep->opt->only_engine))
				continue;
			if (gpustack && !gpustack_in_scope(&c, row, tp)) {
				d->skipped++;
				continue;
			}
			memset(&b, 0, sizeof b);
			b.model = m;
			b.gpu = g;
			b.engine = e;
			b.dtype = dt;
			b.kv = strstr(col(&c, row, "kv_dtype"), "fp8") ? LLMCAP_KV_FP8 : LLMCAP_KV_AUTO;
			b.tp = tp;
			b.n = (int)num(&c, row, "num_prompts");
			b.isl = lead_num(col(&c, row, "input_len"));
			b.osl = lead_num(col(&c, row, "output_len"));
			if (strstr(ds, "ShareGPT")) {
				b.len = LEN_SHAREGPT;
				/* means not printed: ShareGPT's under vLLM's sampling (datasets.csv) */
				if (isnan(b.isl))
					b.isl = 221.5;
				if (isnan(b.osl))
					b.osl = 179;
				b.max_model_len = 2048;
			} else if (strstr(ds, "+-15%")) {
				b.len = LEN_UNIFORM, b.lo = 0.85, b.hi = 1.15;
			} else if (strstr(ds, "random") && strstr(ds, "range-ratio")) {
				b.len = LEN_UNIFORM, b.lo = 0, b.hi = 1; /* sglang's default ratio 0 */
			} else {
				b.len = LEN_FIXED;
			}
			if (gpustack)
				gpustack_limits(&b, flags, &c, i);
			server_defaults(&b);
			if (!strcmp(mode, "concurrency"))
				b.concurrency = (int)lead_num(load);
			else if (strcmp(load, "inf"))
				b.rate = lead_num(load);
			if (b.n < 1 || isnan(b.isl) || isnan(b.osl)) {
				d->skipped++;
				continue;
			}
			o = bench_run(&b, cat, rep->opt);
			have = o.ok;
			if (!have)
				d->skipped++;
		}
		if (!have)
			continue;
		/* GPUStack prints every `vllm bench serve` field: the throughputs and duration of a
		 * run share its duration (one comparison, output_throughput, stands for them), and
		 * median ITL is the median gap between streamed tokens, which request records do not
		 * hold (mean ITL is compared instead) */
		if (gpustack && (!strcmp(metric, "total_token_throughput") ||
				 !strcmp(metric, "request_throughput") || !strcmp(metric, "duration") ||
				 !strcmp(metric, "median_itl")))
			continue;
		double pred = bench_metric(&o, metric), meas = num(&c, row, "value");
		if (isnan(pred) || !(meas > 0))
			continue;
		char label[200];
		snprintf(label, sizeof label, "%s %s tp%d %s %s n%d %.0f/%.0f %s %s: %s", b.model, b.gpu,
			 b.tp, b.engine, llmcap_dtype_names[b.dtype], b.n, b.isl, b.osl,
			 col(&c, row, "mode"), col(&c, row, "load"), metric);
		add_run(d, label, meas, pred, &b);
	}
	csv_free(&c);
	return 0;
}

static int lambdalabs(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	return modern(dir, "modern/lambdalabs_vllm_benchmark_v0.csv", "lambdalabs-vllm",
		      "vLLM 0.5/0.6 ShareGPT rate inf: output tok/s, median ITL (engine run)", false,
		      cat, rep);
}

static int vllm_v060(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	return modern(dir, "modern/vllm_blog_v060_charts_approx.csv", "vllm-blog-v0.6",
		      "vLLM/SGLang/TRT-LLM 2024 on H100, read off charts (engine run)", false, cat,
		      rep);
}

static int vllm_fp8kv(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	return modern(dir, "modern/vllm_blog_fp8_kvcache_2026.csv", "vllm-blog-fp8kv",
		      "vLLM V1 2026, 20k/2k at concurrency 8: TTFT, ITL, throughput (closed loop)",
		      false, cat, rep);
}

static int sglang_h200(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	return modern(dir, "modern/sglang_attention_backend_h200.csv", "sglang-h200",
		      "SGLang on H200, random lengths at 16 req/s: token throughput (engine run)",
		      false, cat, rep);
}


static int gpustack(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	return modern(dir, "modern/gpustack_performance_lab.csv", "gpustack",
		      "GPUStack lab 2025-26 (vLLM 0.11, SGLang 0.5, TRT-LLM 1.x; Qwen3, DeepSeek-R1): "
		      "bench serve metrics (engine run)", true, cat, rep);
}

/* Whether opt selects the dataset set (a name in its comma-separated list). */
static bool selected(const struct fid_options *opt, const char *name)
{
	if (!opt || !opt->only)
		return true;
	size_t n = strlen(name);
	for (const char *p = strstr(opt->only, name); p; p = strstr(p + 1, name))
		if ((p == opt->only || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return true;
	return false;
}

int llmcap_fidelity_run(const char *caldir, const char *datadir, const struct llmcap_catalog *cat,
			struct fid_report *rep)
{
	return llmcap_fidelity_run_opts(caldir, datadir, cat, NULL, rep);
}

int llmcap_fidelity_run_opts(const char *caldir, const char *datadir, const struct llmcap_catalog *cat,
			     const struct fid_options *opt, struct fid_report *rep)
{
	memset(rep, 0, sizeof *rep);
	rep->opt = opt;
	/* each loader under the name --only selects it by (its dataset's, or its datasets'
	 * common prefix) */
	static const struct {
		const char *key;
		int (*run)(const char *, const struct llmcap_catalog *, struct fid_report *);
	} sets[] = {
		{"vidur-layer", vidur_layer},
		{"allreduce", allreduce},
		{"argonne-e2e", argonne},
		{"splitwise", splitwise},
		{"trtllm-v0.9", trtllm_static},
		{"trtllm-throughput", trtllm_throughput},
		{"lambdalabs-vllm", lambdalabs},
		{"vllm-blog-v0.6", vllm_v060},
		{"vllm-blog-fp8kv", vllm_fp8kv},
		{"sglang-h200", sglang_h200},
		{"gpustack", gpustack},
	};
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
		if (selected(opt, sets[i].key) && sets[i].run(caldir, cat, rep) != 0)
			return -1;
	if (datadir && selected(opt, "h100") &&
	    (torch_gemm(datadir, cat, rep) != 0 || torch_steps(datadir, cat, rep) != 0))
		return -1;
	return 0;
}

void llmcap_fidelity_free(struct fid_report *rep)
{
	for (size_t i = 0; i < rep->n_sets; i++)
		free(rep->sets[i].pts);
	rep->n_sets = 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static bool same_group(const struct fid_point *a, const struct fid_point *b)
{
	return !strcmp(a->engine, b->engine) && !strcmp(a->size, b->size) &&
	       !strcmp(a->precision, b->precision) && a->tp == b->tp;
}

/* Over the dataset's points that are in the target subset (only_h100_class) and in like's
 * group (like non-NULL). */
static struct fid_stats stats(const struct fid_dataset *d, bool only_h100_class,
			      const struct fid_point *like)
{
	struct fid_stats st = {0};
	double *e = malloc((d->n ? d->n : 1) * sizeof *e);
	if (!e)
		return st;
	for (size_t i = 0; i < d->n; i++)
		if ((!only_h100_class || d->pts[i].h100_class) && (!like || same_group(like, &d->pts[i])))
			e[st.n++] = fabs(d->pts[i].predicted / d->pts[i].measured - 1.0);
	if (st.n) {
		qsort(e, st.n, sizeof *e, cmp);
		/* linear interpolation between order statistics (numpy's default) */
		double qs[2] = {0.5, 0.9}, *out[2] = {&st.median, &st.p90};
		for (int k = 0; k < 2; k++) {
			double h = (double)(st.n - 1) * qs[k];
			size_t lo = (size_t)floor(h);
			size_t hi = lo + 1 < st.n ? lo + 1 : lo;
			*out[k] = e[lo] + (h - (double)lo) * (e[hi] - e[lo]);
		}
	} else {
		st.median = st.p90 = NAN;
	}
	free(e);
	return st;
}

struct fid_stats llmcap_fidelity_stats(const struct fid_dataset *d, bool only_h100_class)
{
	return stats(d, only_h100_class, NULL);
}

struct fid_stats llmcap_fidelity_group_stats(const struct fid_dataset *d, const struct fid_point *like)
{
	return stats(d, false, like);
}

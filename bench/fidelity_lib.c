/* Fidelity of the step-time model against ../shared/calibration/: see bench/fidelity.h and
 * docs/models.md ("Fidelity"). Every comparison calls the library's own model
 * (llmcap_perf_init, llmcap_perf_step_seconds, llmcap_memory_plan) with the catalog's values;
 * nothing here is fitted.
 *
 * How each dataset is reproduced:
 *   vidur-layer: the linear-operator part of one layer (GEMMs, element-wise, kernel floors)
 *     against vidur's per-layer non-attention operator time, per token count and TP;
 *   allreduce: the all-reduce term against vidur's NCCL medians (one NVSwitch node);
 *   argonne-e2e: a static batch as LLM-Inference-Bench runs it: one prefill step of
 *     batch x input tokens, then output-1 decode steps with growing context; end-to-end time;
 *   splitwise-prefill / -decode: Splitwise's Llama2-70B prompt phase (batch x prompt tokens in
 *     one step) and mean per-token decode time (context = prompt + half the output);
 *   trtllm-v0.9-static: TensorRT-LLM 0.9's static-batch output tokens/s per GPU and batch-1
 *     first-token latency, reproduced as argonne-e2e;
 *   trtllm-throughput: TensorRT-LLM v0.20/v1.0 max-throughput tables. All requests arrive at
 *     t = 0 with fixed lengths; in-flight batching as trtllm-bench configures it by default:
 *     KV cache = 95% of the memory left after weights and activations (kv_frac 0.95), blocks of
 *     32 tokens reserved for the whole request at admission (GUARANTEED_NO_EVICT), at most
 *     2048 sequences and 8192 tokens per step, decodes first then prompt chunks (chunked
 *     context, which long inputs need), FP8 weights and FP8 KV cache (the ModelOpt checkpoints); output tokens/s over
 *     the whole run (3000 requests, 1000 when input + output > 5000 tokens). The KV-capacity
 *     model therefore decides the concurrency, as on the real system. */
#include "fidelity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/perf.h"
#include "llmcap/scenario.h"

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

/* A static batch: one prefill of b x isl tokens, then osl - 1 decode steps. */
static double static_batch_s(const struct rig *r, double b, double isl, double osl)
{
	double t = step_s(r, b * isl, b * isl * (isl + 1) / 2, b * isl, b);
	for (double j = 1; j < osl; j++) {
		double ctx = isl + j - 1;
		t += step_s(r, b, b * (ctx + 1), b * (ctx + 1), b);
	}
	return t;
}

static void add(struct fid_dataset *d, const char *label, double measured, double predicted,
		bool target)
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

static int argonne(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "argonne_llm_inference_bench_nvidia.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "argonne-e2e", "argonne_llm_inference_bench_nvidia.csv",
					"static batch end-to-end latency, s (mean step = e2e / output)",
					false);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hardware"));
		const char *fw = col(&c, row, "framework");
		const char *e = !strcmp(fw, "vLLM") ? "vllm-0.5" : "trtllm-0.9";
		int tp = (int)num(&c, row, "num_gpus");
		struct rig r;
		if (!m || !g || !rig_init(&r, cat, m, g, e, LLMCAP_DTYPE_FP16, tp)) {
			d->skipped++;
			continue;
		}
		double b = num(&c, row, "batch_size"), isl = num(&c, row, "input_len"),
		       osl = num(&c, row, "output_len");
		char label[160];
		snprintf(label, sizeof label, "%s %s tp%d %s b%g %g/%g", m, g, tp, e, b, isl, osl);
		add(d, label, num(&c, row, "e2e_latency_s"), static_batch_s(&r, b, isl, osl),
		    target_class(g, m));
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

static int trtllm_static(const char *dir, const struct llmcap_catalog *cat, struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "trtllm_v0.9_static.csv", &c))
		return -1;
	struct fid_dataset *thr = new_set(rep, "trtllm-v0.9-static", "trtllm_v0.9_static.csv",
					  "static batch output tokens/s per GPU", true);
	struct fid_dataset *ttft = new_set(rep, "trtllm-v0.9-ttft", "trtllm_v0.9_static.csv",
					   "batch-1 first-token latency, ms", false);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *metric = col(&c, row, "metric");
		bool is_thr = !strcmp(metric, "output_tokens_per_s_per_GPU");
		bool is_ttft = !strncmp(metric, "first_token_latency_ms", 22);
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hardware"));
		bool fp8 = !strcmp(col(&c, row, "precision"), "FP8");
		int tp = (int)num(&c, row, "tp");
		struct rig r;
		/* the third metric mixes per-GPU and per-system figures: not comparable */
		/* FP8 engines there quantise the KV cache too: at FP16 the largest batches' KV cache
		 * (e.g. Llama-2-7B, 56 x 4096 tokens, 117 GB) would not fit the GPU */
		if (!m || !g || !(is_thr || is_ttft) ||
		    !rig_init_kv(&r, cat, m, g, "trtllm-0.9", fp8 ? LLMCAP_DTYPE_FP8 : LLMCAP_DTYPE_FP16, tp,
				 fp8 ? LLMCAP_KV_FP8 : LLMCAP_KV_AUTO)) {
			(is_ttft ? ttft : thr)->skipped++;
			continue;
		}
		double b = num(&c, row, "batch_size"), isl = num(&c, row, "isl"), osl = num(&c, row, "osl");
		char label[160];
		snprintf(label, sizeof label, "%s %s %s tp%d b%g %g/%g", m, g, fp8 ? "fp8" : "fp16", tp,
			 b, isl, osl);
		if (is_thr)
			add(thr, label, num(&c, row, "value"),
			    b * osl / static_batch_s(&r, b, isl, osl) / tp, target_class(g, m));
		else
			add(ttft, label, num(&c, row, "value"),
			    step_s(&r, isl, isl * (isl + 1) / 2, isl, 1) * 1e3, target_class(g, m));
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

/* All requests at t = 0, fixed lengths, in-flight batching (see the header comment). */
static double max_throughput(struct rig *r, double isl_d, double osl_d, int n_req)
{
	int64_t isl = (int64_t)isl_d, osl = (int64_t)osl_d;
	struct llmcap_pool_cfg p = r->p;
	p.gpu_memory_utilization = 1.0;
	p.block_size = 32;
	p.max_num_seqs = 2048;
	p.max_num_batched_tokens = 8192;
	p.max_model_len = 0;
	struct llmcap_memory_plan plan;
	struct llmcap_error err = {0};
	if (llmcap_memory_plan(r->m, r->g, &p, &plan, &err) != 0)
		return NAN;
	int64_t blocks = (int64_t)floor(0.95 * (double)plan.num_blocks);
	int64_t need = (isl + osl + p.block_size - 1) / p.block_size;
	if (need > blocks)
		return NAN;
	/* per running request: prompt tokens computed, output tokens emitted */
	int64_t *pre = malloc((size_t)n_req * sizeof *pre), *gen = malloc((size_t)n_req * sizeof *gen);
	if (!pre || !gen) {
		free(pre);
		free(gen);
		return NAN;
	}
	int64_t waiting = n_req, running = 0, free_blocks = blocks, done_tokens = 0;
	double t = 0;
	while (waiting > 0 || running > 0) {
		double tokens = 0, pairs = 0, kv = 0, samples = 0;
		int64_t budget = p.max_num_batched_tokens;
		int64_t sched[2048];
		/* decodes first, then prompt chunks in admission order (chunked context) */
		for (int64_t i = 0; i < running; i++) {
			double ctx = (double)(pre[i] + gen[i] - 1);
			sched[i] = 0;
			if (pre[i] < isl)
				continue;
			sched[i] = 1;
			budget--;
			tokens += 1;
			pairs += ctx + 1;
			kv += ctx + 1;
			samples += 1;
		}
		for (int64_t i = 0; i < running && budget > 0; i++) {
			if (pre[i] >= isl)
				continue;
			int64_t n = isl - pre[i] < budget ? isl - pre[i] : budget;
			sched[i] = n;
			budget -= n;
			tokens += (double)n;
			pairs += (double)n * (double)pre[i] + (double)n * (double)(n + 1) / 2;
			kv += (double)(pre[i] + n);
			samples += pre[i] + n == isl;
		}
		while (waiting > 0 && running < p.max_num_seqs && free_blocks >= need && budget > 0) {
			int64_t n = isl < budget ? isl : budget;
			waiting--;
			free_blocks -= need;
			pre[running] = 0;
			gen[running] = 0;
			sched[running++] = n;
			budget -= n;
			tokens += (double)n;
			pairs += (double)n * (double)(n + 1) / 2;
			kv += (double)n;
			samples += n == isl;
		}
		struct llmcap_step_shape s = {.tokens = (int64_t)tokens, .attn_pairs = pairs,
					      .kv_read_tokens = kv, .samples = (int64_t)samples};
		t += llmcap_perf_step_seconds(&r->pf, &s, NULL, NULL);
		int64_t keep = 0;
		for (int64_t i = 0; i < running; i++) {
			if (pre[i] < isl) {
				pre[i] += sched[i];
				if (pre[i] == isl) {
					gen[i] = 1; /* the last chunk samples the first token */
					done_tokens++;
				}
			} else {
				gen[i]++;
				done_tokens++;
			}
			if (gen[i] >= osl) {
				free_blocks += need;
			} else {
				pre[keep] = pre[i];
				gen[keep++] = gen[i];
			}
		}
		running = keep;
	}
	free(pre);
	free(gen);
	return (double)done_tokens / t;
}

static int trtllm_throughput(const char *dir, const struct llmcap_catalog *cat,
			     struct fid_report *rep)
{
	struct csv c;
	if (csv_read(dir, "trtllm_v0.20_v1.0_throughput.csv", &c))
		return -1;
	struct fid_dataset *d = new_set(rep, "trtllm-throughput", "trtllm_v0.20_v1.0_throughput.csv",
					"max-throughput output tokens/s (all requests at t=0)", true);
	for (size_t i = 0; i < c.nrow; i++) {
		char **row = c.rows[i];
		const char *m = model_name(col(&c, row, "model"));
		const char *g = gpu_name(col(&c, row, "hardware"));
		int tp = (int)num(&c, row, "tp");
		struct rig r;
		if (!m || !g ||
		    !rig_init_kv(&r, cat, m, g, "trtllm", LLMCAP_DTYPE_FP8, tp, LLMCAP_KV_FP8)) {
			d->skipped++;
			continue;
		}
		double isl = num(&c, row, "isl"), osl = num(&c, row, "osl");
		double pred = max_throughput(&r, isl, osl, isl + osl > 5000 ? 1000 : 3000);
		char label[160];
		snprintf(label, sizeof label, "%s %s tp%d %g/%g (%.20s)", m, g, tp, isl, osl,
			 col(&c, row, "engine"));
		if (isnan(pred)) {
			d->skipped++;
			continue;
		}
		add(d, label, num(&c, row, "value"), pred, target_class(g, m));
	}
	csv_free(&c);
	return 0;
}

int llmcap_fidelity_run(const char *caldir, const char *datadir, const struct llmcap_catalog *cat,
			struct fid_report *rep)
{
	memset(rep, 0, sizeof *rep);
	int (*const sets[])(const char *, const struct llmcap_catalog *, struct fid_report *) = {
		vidur_layer, allreduce, argonne, splitwise, trtllm_static, trtllm_throughput};
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
		if (sets[i](caldir, cat, rep) != 0)
			return -1;
	if (datadir && (torch_gemm(datadir, cat, rep) != 0 || torch_steps(datadir, cat, rep) != 0))
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

struct fid_stats llmcap_fidelity_stats(const struct fid_dataset *d, bool only_h100_class)
{
	struct fid_stats st = {0};
	double *e = malloc((d->n ? d->n : 1) * sizeof *e);
	if (!e)
		return st;
	for (size_t i = 0; i < d->n; i++)
		if (!only_h100_class || d->pts[i].h100_class)
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

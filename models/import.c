/* `llmcap model import`: a Hugging Face config.json as a catalog entry (struct
 * llmcap_model_spec). The keys read per architecture, and what cannot be expressed (and is
 * therefore refused), are listed in docs/models.md. See include/llmcap/catalog.h. */
#include "llmcap/catalog.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/perf.h"

struct ctx {
	struct fy_node *root;
	const char *origin;
	struct llmcap_error *err;
};

/* The value of `key` in the root mapping and, for messages, its place; NULL when absent. A JSON
 * null counts as absent (DeepSeek-V2-Lite's "q_lora_rank": null). */
static struct fy_node *lookup(const struct ctx *c, const char *key, char *where, size_t len)
{
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(c->root, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *name = k && fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!name || strcmp(name, key) != 0)
			continue;
		struct fy_node *at = v && fy_node_is_scalar(v) ? v : k;
		struct fy_token *t = fy_node_get_scalar_token(at);
		const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
		if (m)
			snprintf(where, len, "%s:%d:%d", c->origin, m->line + 1, m->column + 1);
		else
			snprintf(where, len, "%s", c->origin);
		if (!v || (fy_node_is_scalar(v) && !strcmp(fy_node_get_scalar0(v), "null")))
			return NULL;
		return v;
	}
	snprintf(where, len, "%s", c->origin);
	return NULL;
}

/* An integer key: *out = its value, or def when absent and not required. 0, or -1 with the
 * error set ("FILE:LINE:COLUMN: key: expected ..."). */
static int get_int(const struct ctx *c, const char *key, bool required, int64_t min, int64_t def,
		   int64_t *out)
{
	char where[LLMCAP_PATH_MAX + 32];
	struct fy_node *v = lookup(c, key, where, sizeof where);
	if (!v) {
		if (required)
			return llmcap_errorf(c->err, LLMCAP_EINVAL,
					     "%s: %s: missing; expected an integer >= %lld", where, key,
					     (long long)min);
		*out = def;
		return 0;
	}
	const char *s = fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
	char *end = NULL;
	errno = 0;
	long long x = s ? strtoll(s, &end, 10) : 0;
	if (!s || end == s || *end || errno || x < min || x > (1LL << 30))
		return llmcap_errorf(c->err, LLMCAP_EINVAL, "%s: %s: '%s' is not an integer >= %lld",
				     where, key, s ? s : "(not a number)", (long long)min);
	*out = x;
	return 0;
}

/* A text key ("" when absent). */
static const char *get_str(const struct ctx *c, const char *key)
{
	char where[LLMCAP_PATH_MAX + 32];
	struct fy_node *v = lookup(c, key, where, sizeof where);
	return v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : "";
}

static int refuse(const struct ctx *c, const char *key, const char *why)
{
	char where[LLMCAP_PATH_MAX + 32];
	lookup(c, key, where, sizeof where);
	return llmcap_errorf(c->err, LLMCAP_EINVAL, "%s: %s: %s", where, key, why);
}

/* libfyaml's first diagnostic line, for a file that is not JSON */
struct diag_capture {
	char text[256];
	bool got;
};

static void diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	struct diag_capture *d = user;
	if (d->got || len == 0 || buf[0] == '\n' || buf[0] == '[')
		return;
	const char *gt = memchr(buf, '>', len); /* "<memory-@...>:L:C: error: ..." */
	if (gt && gt[1] == ':' && buf[0] == '<') {
		len -= (size_t)(gt + 2 - buf);
		buf = gt + 2;
	}
	snprintf(d->text, sizeof d->text, "%.*s", (int)len, buf);
	d->text[strcspn(d->text, "\n")] = '\0';
	char *e = strstr(d->text, " error: "); /* "4:1: error: text" -> "4:1: text" */
	if (e && e - d->text < 24)
		memmove(e + 1, e + 8, strlen(e + 8) + 1);
	d->got = true;
}

/* The architectures whose config.json keys are read below. */
static const char *const known_types[] = {"llama", "mistral", "qwen2", "qwen3", "mixtral",
					  "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3", NULL};

static int convert(const struct ctx *c, struct llmcap_model_spec *m, char *notes, size_t nlen)
{
	char where[LLMCAP_PATH_MAX + 32];
	const char *type = get_str(c, "model_type");
	bool known = false;
	for (size_t i = 0; known_types[i]; i++)
		known |= !strcmp(type, known_types[i]);
	if (!known) {
		char tc[LLMCAP_PATH_MAX + 32];
		if (lookup(c, "text_config", tc, sizeof tc))
			return llmcap_errorf(c->err, LLMCAP_EINVAL,
					     "%s: text_config: a multimodal config; expected a text model's "
					     "config.json (llmcap models the language model only)", tc);
		lookup(c, "model_type", where, sizeof where);
		return llmcap_errorf(c->err, LLMCAP_EINVAL,
				     "%s: model_type: '%s' is not an architecture llmcap imports; expected "
				     "llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe, "
				     "deepseek_v2 or deepseek_v3 (or write the entry by hand: docs/models.md)",
				     where, type);
	}
	bool deepseek = !strncmp(type, "deepseek", 8);
	bool qwen_moe = !strcmp(type, "qwen2_moe") || !strcmp(type, "qwen3_moe");
	int64_t tie = 0;
	const char *tw = get_str(c, "tie_word_embeddings");
	if (!strcmp(tw, "true"))
		tie = 1;
	m->tie_word_embeddings = tie != 0;
	if (get_int(c, "num_hidden_layers", true, 1, 0, &m->layers) ||
	    get_int(c, "hidden_size", true, 1, 0, &m->hidden_size) ||
	    get_int(c, "num_attention_heads", true, 1, 0, &m->num_attention_heads) ||
	    get_int(c, "num_key_value_heads", false, 1, m->num_attention_heads, &m->num_key_value_heads) ||
	    get_int(c, "intermediate_size", true, 1, 0, &m->intermediate_size) ||
	    get_int(c, "vocab_size", true, 1, 0, &m->vocab_size) ||
	    get_int(c, "max_position_embeddings", true, 1, 0, &m->max_position_embeddings))
		return -LLMCAP_EINVAL;
	if (m->num_attention_heads % m->num_key_value_heads != 0)
		return refuse(c, "num_key_value_heads", "expected a divisor of num_attention_heads");
	/* head_dim: given (Qwen3, Mistral-Nemo) or hidden_size / heads */
	if (get_int(c, "head_dim", false, 1, m->hidden_size / m->num_attention_heads, &m->head_dim))
		return -LLMCAP_EINVAL;
	/* mixture of experts */
	if (!strcmp(type, "mixtral")) {
		if (get_int(c, "num_local_experts", true, 1, 0, &m->num_experts) ||
		    get_int(c, "num_experts_per_tok", true, 1, 0, &m->experts_per_token))
			return -LLMCAP_EINVAL;
	} else if (qwen_moe) {
		int64_t step, shared = 0;
		if (get_int(c, "num_experts", true, 1, 0, &m->num_experts) ||
		    get_int(c, "num_experts_per_tok", true, 1, 0, &m->experts_per_token) ||
		    get_int(c, "moe_intermediate_size", true, 1, 0, &m->moe_intermediate_size) ||
		    get_int(c, "shared_expert_intermediate_size", false, 0, 0, &shared) ||
		    get_int(c, "decoder_sparse_step", false, 1, 1, &step))
			return -LLMCAP_EINVAL;
		struct fy_node *mlp_only = lookup(c, "mlp_only_layers", where, sizeof where);
		if (step != 1 || (mlp_only && fy_node_is_sequence(mlp_only) &&
				  fy_node_sequence_item_count(mlp_only) > 0))
			return refuse(c, step != 1 ? "decoder_sparse_step" : "mlp_only_layers",
				      "dense layers between MoE layers cannot be expressed (the catalog "
				      "has leading dense layers only: first_dense_layers); expected "
				      "decoder_sparse_step 1 and no mlp_only_layers");
		/* Qwen's one shared expert of shared_expert_intermediate_size holds the weights
		 * and does the work of shared / moe_intermediate_size experts (a gated MLP is
		 * linear in its width); its sigmoid gate (hidden_size weights) is left out. */
		if (shared % m->moe_intermediate_size != 0)
			return refuse(c, "shared_expert_intermediate_size",
				      "expected a multiple of moe_intermediate_size (the catalog counts "
				      "shared experts of the routed experts' width)");
		m->num_shared_experts = shared / m->moe_intermediate_size;
	} else if (deepseek) {
		int64_t freq;
		if (get_int(c, "n_routed_experts", true, 1, 0, &m->num_experts) ||
		    get_int(c, "num_experts_per_tok", true, 1, 0, &m->experts_per_token) ||
		    get_int(c, "moe_intermediate_size", true, 1, 0, &m->moe_intermediate_size) ||
		    get_int(c, "n_shared_experts", false, 0, 0, &m->num_shared_experts) ||
		    get_int(c, "first_k_dense_replace", false, 0, 0, &m->first_dense_layers) ||
		    get_int(c, "moe_layer_freq", false, 1, 1, &freq))
			return -LLMCAP_EINVAL;
		if (freq != 1)
			return refuse(c, "moe_layer_freq",
				      "dense layers between MoE layers cannot be expressed; expected 1");
		if (m->first_dense_layers >= m->layers)
			return refuse(c, "first_k_dense_replace", "expected fewer than num_hidden_layers");
		/* multi-head latent attention: the cache holds kv_lora_rank + qk_rope_head_dim per
		 * token and layer (the schema's MLA fields; kv.c and perf.c read them) */
		if (get_int(c, "kv_lora_rank", true, 1, 0, &m->kv_lora_rank) ||
		    get_int(c, "q_lora_rank", false, 1, 0, &m->q_lora_rank) ||
		    get_int(c, "qk_nope_head_dim", true, 1, 0, &m->qk_nope_head_dim) ||
		    get_int(c, "qk_rope_head_dim", true, 1, 0, &m->qk_rope_head_dim) ||
		    get_int(c, "v_head_dim", true, 1, 0, &m->v_head_dim))
			return -LLMCAP_EINVAL;
		m->head_dim = m->qk_nope_head_dim + m->qk_rope_head_dim;
	}
	if (m->experts_per_token > m->num_experts)
		return refuse(c, "num_experts_per_tok", "expected at most the number of experts");

	/* what the entry leaves out, as comments in the written file */
	size_t k = 0;
	notes[0] = '\0';
	const char *dtype = get_str(c, "torch_dtype");
	if (*dtype)
		k += (size_t)snprintf(notes + k, nlen - k, "released in %s (a pool's dtype: bf16, fp8, "
					  "int8 or int4-awq)\n", dtype);
	if (lookup(c, "quantization_config", where, sizeof where) && k < nlen)
		k += (size_t)snprintf(notes + k, nlen - k, "the checkpoint is quantized "
					  "(quantization_config): set the pool's dtype to match\n");
	if (lookup(c, "sliding_window", where, sizeof where) &&
	    strcmp(get_str(c, "use_sliding_window"), "false") != 0 && k < nlen)
		k += (size_t)snprintf(notes + k, nlen - k, "sliding_window: not modelled; the KV cache "
					  "is counted in full, as vLLM allocates it\n");
	if (deepseek && lookup(c, "num_nextn_predict_layers", where, sizeof where) && k < nlen)
		k += (size_t)snprintf(notes + k, nlen - k, "num_nextn_predict_layers: the MTP module is "
					  "not counted (loaded only for speculative decoding)\n");
	if (!strcmp(get_str(c, "attention_bias"), "true") || !strcmp(type, "qwen2") ||
	    !strcmp(type, "qwen2_moe")) {
		if (k < nlen)
			k += (size_t)snprintf(notes + k, nlen - k, "attention biases: not counted "
						  "(about 0.01%% of the weights)\n");
	}
	(void)k;
	return 0;
}

int llmcap_model_import(const char *text, size_t len, const char *origin, const char *name,
			struct llmcap_model_spec *m, char *notes, size_t notes_len,
			struct llmcap_error *err)
{
	memset(m, 0, sizeof *m);
	size_t n = strlen(name);
	bool ok = n > 0 && n < LLMCAP_NAME_MAX;
	for (const char *p = name; *p; p++)
		ok &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.';
	if (!ok)
		return llmcap_errorf(err, LLMCAP_EUSAGE,
				     "name '%s': expected 1 to %d letters, digits, '-', '_' or '.'", name,
				     LLMCAP_NAME_MAX - 1);
	snprintf(m->name, sizeof m->name, "%s", name);
	struct diag_capture cap = {.got = false};
	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_out;
	dc.user = &cap;
	dc.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dc);
	if (!diag)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	struct fy_parse_cfg pc;
	memset(&pc, 0, sizeof pc);
	pc.flags = FYPCF_QUIET;
	pc.diag = diag;
	struct fy_document *doc = fy_document_build_from_string(&pc, text, len);
	struct fy_node *root = doc ? fy_document_root(doc) : NULL;
	int rc;
	if (!root || !fy_node_is_mapping(root)) {
		rc = cap.got ? llmcap_errorf(err, LLMCAP_EINVAL, "%s:%s (JSON syntax)", origin, cap.text)
			     : llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: expected a Hugging Face config.json (a JSON object)", origin);
	} else {
		struct ctx c = {.root = root, .origin = origin, .err = err};
		rc = convert(&c, m, notes, notes_len);
		if (rc == 0) {
			const char *type = get_str(&c, "model_type");
			const char *from = get_str(&c, "_name_or_path");
			snprintf(m->source, sizeof m->source,
				 "imported by llmcap model import from %.200s (model_type %.40s%s%.200s)",
				 origin, type, *from ? ", " : "", from);
		}
	}
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	return rc > 0 ? -rc : rc;
}

/* A YAML double-quoted string. */
static void quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void llmcap_model_write_catalog(const struct llmcap_model_spec *m, const char *notes, FILE *out)
{
	struct llmcap_param_count pc;
	llmcap_model_params(m, &pc);
	fprintf(out, "# an llmcap catalog (llmcap run --catalog THIS_FILE --set pools.NAME.model=%s)\n",
		m->name);
	fprintf(out, "# %.2fB parameters, %.2fB active per token (computed by llmcap from these "
		     "fields)\n", pc.total / 1e9, pc.active / 1e9);
	for (const char *p = notes; p && *p;) {
		size_t k = strcspn(p, "\n");
		fprintf(out, "# %.*s\n", (int)k, p);
		p += k + (p[k] == '\n');
	}
	fprintf(out, "models:\n  %s:\n    source: ", m->name);
	quoted(out, m->source);
	fputc('\n', out);
#define I(key, v) fprintf(out, "    %s: %lld\n", key, (long long)(v))
	I("layers", m->layers);
	I("hidden_size", m->hidden_size);
	I("num_attention_heads", m->num_attention_heads);
	I("num_key_value_heads", m->num_key_value_heads);
	I("head_dim", m->head_dim);
	I("intermediate_size", m->intermediate_size);
	I("vocab_size", m->vocab_size);
	I("max_position_embeddings", m->max_position_embeddings);
	fprintf(out, "    tie_word_embeddings: %s\n", m->tie_word_embeddings ? "true" : "false");
	if (m->num_experts > 0) {
		I("num_experts", m->num_experts);
		I("experts_per_token", m->experts_per_token);
		I("moe_intermediate_size", m->moe_intermediate_size);
		I("num_shared_experts", m->num_shared_experts);
		I("first_dense_layers", m->first_dense_layers);
	}
	if (m->kv_lora_rank > 0) {
		I("kv_lora_rank", m->kv_lora_rank);
		I("q_lora_rank", m->q_lora_rank);
		I("qk_nope_head_dim", m->qk_nope_head_dim);
		I("qk_rope_head_dim", m->qk_rope_head_dim);
		I("v_head_dim", m->v_head_dim);
	}
#undef I
}

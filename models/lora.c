/* Multi-LoRA arithmetic: an adapter's size and the step time of batched LoRA kernels.
 *
 * A LoRA adapter (Hu et al. 2021) adds B A x to a projection W x, A of r x in and B of out x r:
 * r (in + out) parameters per adapted module per layer. Serving many adapters over one base
 * model batches requests of different adapters through gather-matmul kernels (Punica's SGMV,
 * Chen et al., MLSys 2024; S-LoRA's MBGMM, Sheng et al., MLSys 2024; vLLM's punica kernels):
 * per token 2 r (in + out) FLOPs per module per layer (shrink then expand), each distinct
 * adapter's weights read once per step, and a per-adapter segment cost that grows with the
 * number of distinct adapters in the batch. */
#include "llmcap/perf.h"

double llmcap_lora_adapter_params(const struct llmcap_model_spec *m, int64_t rank,
				  enum llmcap_lora_target t)
{
	const double h = (double)m->hidden_size;
	double q_out, kv_out, o_in;
	if (m->kv_lora_rank > 0) {
		/* MLA: queries of heads x (nope + rope), keys/values through the latent; taken as
		 * the up-projections' widths */
		q_out = (double)m->num_attention_heads * (double)(m->qk_nope_head_dim + m->qk_rope_head_dim);
		kv_out = (double)m->num_attention_heads * (double)m->qk_nope_head_dim;
		o_in = (double)m->num_attention_heads * (double)m->v_head_dim;
	} else {
		q_out = (double)m->num_attention_heads * (double)m->head_dim;
		kv_out = (double)m->num_key_value_heads * (double)m->head_dim;
		o_in = q_out;
	}
	/* (in + out) of each adapted module of one layer */
	double per_layer = (h + q_out) + (h + kv_out); /* q, v */
	if (t != LLMCAP_LORA_QV)
		per_layer += (h + kv_out) + (o_in + h); /* k, o */
	if (t == LLMCAP_LORA_ALL_LINEAR && m->num_experts == 0) {
		const double f = (double)m->intermediate_size;
		per_layer += 2 * (h + f) + (f + h); /* gate, up, down */
	}
	return (double)rank * per_layer * (double)m->layers;
}

double llmcap_lora_adapter_bytes(const struct llmcap_model_spec *m, int64_t rank,
				 enum llmcap_lora_target t)
{
	return 2.0 * llmcap_lora_adapter_params(m, rank, t);
}

double llmcap_lora_step_seconds(const struct llmcap_perf *pf, double flops, double bytes,
				int64_t adapters, double overhead_s)
{
	if (adapters <= 0)
		return 0;
	return flops / pf->tp / pf->gemm_flops + bytes / pf->tp / pf->mem_bw +
	       (double)adapters * overhead_s;
}

/* Multi-node parallelism: pipeline stages, expert parallelism, data-parallel attention. The
 * layout's checks, its memory (weights per GPU of the busiest stage) and its changes to the
 * roofline's constants; the pipelined step itself is in perf.c (llmcap_perf_pp_seconds), which
 * calls this file and never the other way (no circle between the two). See
 * include/llmcap/perf.h and docs/engine.md "Multi-node parallelism".
 *
 * The semantics follow the engines: vLLM's pipeline_parallel_size (layers split evenly over
 * stages, one virtual engine per stage keeping PP micro-batches in flight in steady decode)
 * and enable_expert_parallel (EP = TP x DP, experts not sharded but placed whole); SGLang's
 * enable_dp_attention (attention and KV cache per DP rank, made for MLA, whose single latent
 * KV head TP can only replicate) with ep_size for the MoE layers. */
#include "llmcap/perf.h"

#include <math.h>

int64_t llmcap_parallel_pp(const struct llmcap_pool_cfg *p)
{
	return p->parallel.pipeline_parallel_size > 1 ? p->parallel.pipeline_parallel_size : 1;
}

int64_t llmcap_parallel_dp(const struct llmcap_pool_cfg *p)
{
	return p->parallel.data_parallel_attention > 1 ? p->parallel.data_parallel_attention : 1;
}

int64_t llmcap_parallel_ep(const struct llmcap_pool_cfg *p)
{
	return p->parallel.expert_parallel > 1 ? p->parallel.expert_parallel : 1;
}

bool llmcap_parallel_active(const struct llmcap_pool_cfg *p)
{
	return llmcap_parallel_pp(p) > 1 || llmcap_parallel_dp(p) > 1 || llmcap_parallel_ep(p) > 1;
}

int llmcap_parallel_check(const struct llmcap_model_spec *m, const struct llmcap_pool_cfg *p,
			  int64_t gpus_per_server, struct llmcap_error *err)
{
	const int64_t tp = p->tensor_parallel_size, pp = llmcap_parallel_pp(p);
	const int64_t dp = llmcap_parallel_dp(p), ep = llmcap_parallel_ep(p);
	const int64_t gpus = llmcap_pool_gpus_per_replica(p);
	if (pp > m->layers)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: pools.%s.pipeline_parallel_size: %lld exceeds %s's %lld layers; "
				     "expected at most one stage per layer",
				     p->where, p->name, (long long)pp, m->name, (long long)m->layers);
	if (dp > 1 && m->kv_lora_rank <= 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: pools.%s.data_parallel_attention: %lld, but %s has no multi-head "
				     "latent attention (kv_lora_rank); expected 1, or an MLA model such as "
				     "deepseek-v3",
				     p->where, p->name, (long long)dp, m->name);
	if (dp > 1 && ep == 1)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: pools.%s.data_parallel_attention: %lld needs expert_parallel; "
				     "expected expert_parallel: %lld (tensor_parallel_size x "
				     "data_parallel_attention), as SGLang pairs dp-attention with ep_size",
				     p->where, p->name, (long long)dp, (long long)(tp * dp));
	if (ep > 1 && m->num_experts <= 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: pools.%s.expert_parallel: %lld, but %s has no experts; expected 0 "
				     "or 1 (off)",
				     p->where, p->name, (long long)ep, m->name);
	if (ep > 1 && ep != tp * dp)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: pools.%s.expert_parallel: %lld; expected 0 or 1 (off) or %lld "
				     "(tensor_parallel_size %lld x data_parallel_attention %lld: the "
				     "experts are spread over a stage's GPUs)",
				     p->where, p->name, (long long)ep, (long long)(tp * dp), (long long)tp,
				     (long long)dp);
	if (ep > 1 && m->num_experts % ep != 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: pools.%s.expert_parallel: %lld does not divide %s's %lld experts; "
				     "expected a divisor",
				     p->where, p->name, (long long)ep, m->name, (long long)m->num_experts);
	if (gpus > gpus_per_server && gpus % gpus_per_server != 0)
		return llmcap_errorf(err, LLMCAP_ECAPACITY,
				     "%s: pools.%s: a replica of %lld GPUs (tensor_parallel_size %lld x "
				     "pipeline_parallel_size %lld x data_parallel_attention %lld) spans "
				     "servers of %lld GPUs but not whole ones; expected a multiple of "
				     "hardware.gpus_per_server",
				     p->where, p->name, (long long)gpus, (long long)tp, (long long)pp,
				     (long long)dp, (long long)gpus_per_server);
	return 0;
}

double llmcap_parallel_stage_share(const struct llmcap_model_spec *m, const struct llmcap_pool_cfg *p)
{
	const int64_t pp = llmcap_parallel_pp(p);
	if (pp <= 1 || m->layers <= 0)
		return 1.0;
	/* vLLM splits the layers as evenly as it can; the busiest stage sizes the plan */
	return (double)((m->layers + pp - 1) / pp) / (double)m->layers;
}

/* Routed experts' parameters over all MoE layers (the shared experts are not routed). */
static double routed_params(const struct llmcap_model_spec *m, const struct llmcap_param_count *pc)
{
	if (m->num_experts <= 0)
		return 0;
	return (double)m->num_experts * pc->expert_per_layer * ((double)m->layers - pc->first_layers);
}

double llmcap_parallel_weight_bytes(const struct llmcap_model_spec *m,
				    const struct llmcap_param_count *pc,
				    const struct llmcap_pool_cfg *p, double wb, bool embed16)
{
	const double tp = (double)p->tensor_parallel_size, pp = (double)llmcap_parallel_pp(p);
	const double ep = (double)llmcap_parallel_ep(p);
	const double share = llmcap_parallel_stage_share(m, p);
	const double routed = routed_params(m, pc);
	/* the MoE layers' routed experts: whole over EP ranks, or TP-sharded */
	const double moe_div = ep > 1 ? ep : tp;
	double layers = ((pc->layers - pc->replicated - routed) / tp + pc->replicated + routed / moe_div) *
			share;
	/* the first stage holds the embedding, the last the LM head and final norm; one stage
	 * holds all three */
	double ends = pp > 1 ? fmax(pc->embedding, pc->lm_head) : pc->embedding + pc->lm_head;
	double w = (layers + (ends + (double)m->hidden_size) / tp) * wb;
	if (embed16 && wb < 2.0)
		w += ends / tp * (2.0 - wb);
	return w;
}

void llmcap_parallel_servers(struct llmcap_parallel_perf *par, int64_t gpus_per_server)
{
	par->a2a_fixed_s = 0;
	par->a2a_s_per_token = 0;
	if (par->a2a_count <= 0)
		return;
	const double g = fmin(par->ep, (double)(gpus_per_server > 0 ? gpus_per_server : 8));
	const double lat = par->ep > g ? par->link_latency_s : par->nvlink_latency_s;
	/* one all-to-all's per-token cost: the busiest rank's bytes over the two links */
	const double per_token = llmcap_ep_all_to_all_seconds(par->a2a_bytes_per_token, par->ep,
							      par->imbalance, g, par->nvlink_bw,
							      par->link_bw, 0.0);
	par->a2a_fixed_s = par->a2a_count * lat;
	par->a2a_s_per_token = par->a2a_count * per_token;
}

void llmcap_parallel_perf_init(struct llmcap_perf *pf, const struct llmcap_model_spec *m,
			       const struct llmcap_param_count *pc, const struct llmcap_pool_cfg *p,
			       double wb, double nvlink_bw, double nvlink_latency_s)
{
	const double tp = (double)p->tensor_parallel_size, h = (double)m->hidden_size;
	struct llmcap_parallel_perf *par = &pf->par;
	par->pp = (double)llmcap_parallel_pp(p);
	par->dp = (double)llmcap_parallel_dp(p);
	par->ep = (double)llmcap_parallel_ep(p);
	par->imbalance = par->ep > 1 && p->parallel.expert_imbalance > 1 ? p->parallel.expert_imbalance : 1;
	par->link_bw = p->parallel.link_bandwidth > 0 ? p->parallel.link_bandwidth : 50e9;
	par->link_latency_s = (double)(p->parallel.link_latency > 0 ? p->parallel.link_latency : 0) * 1e-9;
	par->nvlink_bw = nvlink_bw > 0 ? nvlink_bw : par->link_bw;
	par->nvlink_latency_s = nvlink_latency_s;
	/* a stage-to-stage hop: each DP rank's tokens' 16-bit hidden states over the link */
	par->hop_fixed_s = par->link_latency_s;
	par->hop_s_per_token = h * 2.0 / par->dp / par->link_bw;
	if (par->ep > 1 || par->dp > 1) {
		/* per GPU: the attention side (projections, shared experts, router, dense first
		 * layers, element-wise traffic, attention itself, the TP all-reduces) works on its
		 * DP rank's share of the tokens; the routed experts on the EP rank's share of the
		 * token-expert pairs, the busiest rank imbalance x the mean */
		const double k = (double)m->experts_per_token;
		const double routed = k * pc->expert_per_layer, repl = pc->attn_replicated;
		const double moe_div = par->ep > 1 ? par->ep : tp;
		pf->active_params_layer = ((pc->active_per_layer - repl - routed) / tp + repl) / par->dp +
					  routed * par->imbalance / moe_div;
		pf->expert_weight_bytes = pc->expert_per_layer * wb / moe_div;
		pf->first_params /= par->dp;
		pf->ew_bytes_per_token /= par->dp;
		pf->first_ew_bytes_per_token /= par->dp;
		/* attention's FLOPs divide over the TP x DP GPUs (llmcap_perf_finish divides by
		 * pf->tp), and the work of a step, per GPU x pf->tp, counts every GPU */
		pf->tp = tp * par->dp;
		pf->kv_bytes_per_token /= par->dp;
		pf->allreduce_s_per_token /= par->dp;
	}
	if (par->ep > 1) {
		par->a2a_count = 2.0 * ((double)m->layers - pc->first_layers);
		par->a2a_bytes_per_token = llmcap_ep_all_to_all_bytes(1.0, h, 2.0, (double)m->experts_per_token, par->ep);
	}
	llmcap_parallel_servers(par, 8);
}

double llmcap_pp_micro_batches(double pp, double samples)
{
	double m = samples > 1 ? samples : 1;
	return m < pp ? m : pp;
}

double llmcap_pp_bubble(double pp, double micro_batches)
{
	return (pp - 1) / (micro_batches + pp - 1);
}

double llmcap_pp_schedule_seconds(double stage_s, double hop_s, double pp, double micro_batches)
{
	return (micro_batches + pp - 1) * stage_s + (pp - 1) * hop_s;
}

double llmcap_pp_hop_seconds(const struct llmcap_parallel_perf *par, double tokens)
{
	return par->hop_fixed_s + par->hop_s_per_token * tokens;
}

double llmcap_ep_all_to_all_bytes(double tokens, double hidden, double bytes, double top_k,
				  double ep)
{
	return tokens * hidden * bytes * top_k / ep;
}

double llmcap_ep_all_to_all_seconds(double bytes_per_gpu, double ep, double imbalance,
				    double gpus_per_server, double nvlink_bw, double link_bw,
				    double latency_s)
{
	const double g = fmin(ep, gpus_per_server);
	return latency_s + bytes_per_gpu * imbalance *
				   ((g - 1) / ep / nvlink_bw + (ep - g) / ep / link_bw);
}

/* A simulation's usage for the cost model. See include/llmcap/report.h.
 *
 * The cost model (models/cost.c) sits below the engine and takes this plain struct, so that any
 * source of usage (a simulation, a rented fleet's hours, a test) can be priced. */
#include "llmcap/report.h"

#include <string.h>

void llmcap_results_usage(const struct llmcap_results *res, struct llmcap_usage *out)
{
	const struct llmcap_scenario *sc = res->sc;
	memset(out, 0, sizeof *out);
	out->horizon = res->horizon;
	out->gpu = res->gpu;
	/* summed in the order the cost model always used: pool by pool, replica by replica */
	for (size_t p = 0; p < res->n_pools; p++)
		for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
			const struct llmcap_replica_stats *r = &res->replicas[res->pools[p].first_replica + i];
			double b = (double)r->busy / (double)res->horizon *
				   (double)llmcap_pool_gpus_per_replica(&sc->pools[p]);
			out->busy_gpus += b;
			out->pools[p].busy_gpus += b; /* by pool: power by GPU type (issue 21) */
		}
	/* held replicas: a fixed fleet holds every replica for the whole horizon; rented, the
	 * replicas reserved for the pool (cost.rent.reserved, else all of them) are the baseline
	 * and the rest is burst. An autoscaled pool holds the integral of its count (starting,
	 * active and draining replicas: held_at, the time at each count), its baseline is
	 * cost.rent.reserved, else autoscale.min_replicas, and its burst the time above it:
	 * sum over counts k > base of (k - base) x the time at k. */
	double hours = (double)res->horizon * 1e-9 / 3600.0;
	out->n_pools = res->n_pools;
	for (size_t p = 0; p < res->n_pools; p++) {
		const struct llmcap_pool_stats *ps = &res->pools[p];
		double held = (double)ps->n_replicas, base = held;
		if (ps->autoscaled)
			base = (double)sc->pools[p].autoscale.min_replicas;
		for (size_t i = 0; i < sc->cost.rent.n_reserved; i++)
			if (!strcmp(sc->cost.rent.reserved[i].name, sc->pools[p].name))
				base = (double)sc->cost.rent.reserved[i].replicas;
		out->pools[p] = (struct llmcap_usage_pool){
			.gpu = res->pools[p].gpu,
			.busy_gpus = out->pools[p].busy_gpus,
			.gpus_per_replica = llmcap_pool_gpus_per_replica(&sc->pools[p]),
			.replica_hours = held * hours,
			.baseline_replicas = base,
			.burst_replica_hours = (held > base ? held - base : 0) * hours,
		};
		if (ps->autoscaled && ps->held_at) {
			double burst = 0;
			for (size_t k = 1; k <= ps->n_replicas; k++)
				if ((double)k > base)
					burst += ((double)k - base) * (double)ps->held_at[k];
			out->pools[p].replica_hours = ps->held_time * 1e-9 / 3600.0;
			out->pools[p].burst_replica_hours = burst * 1e-9 / 3600.0;
		}
	}
	out->n_classes = res->n_classes;
	for (size_t c = 0; c < res->n_classes; c++) {
		const struct llmcap_class_stats *cs = &res->classes[c];
		out->classes[c] = (struct llmcap_usage_class){
			.prompt_tokens = cs->prompt_tokens,
			.output_tokens = cs->output_tokens,
			.completed_prompt_tokens = cs->completed_prompt_tokens,
			.completed_output_tokens = cs->completed_output_tokens,
			.spilled_prompt_tokens = cs->spilled_prompt_tokens,
			.spilled_output_tokens = cs->spilled_output_tokens,
		};
	}
}

void llmcap_results_cost(const struct llmcap_results *res, struct llmcap_cost *out)
{
	struct llmcap_usage use;
	llmcap_results_usage(res, &use);
	llmcap_cost_compute(res->sc, &use, out);
}

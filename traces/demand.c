/* Demand arithmetic on a scenario's workload: the mean tokens per request and the mean request
 * rate (workload.rate, or tokens_per_month converted through the length distributions' means),
 * and whether a class's lengths come from one trace row. See include/llmcap/workload.h. */
#include <string.h>

#include "llmcap/workload.h"

double llmcap_scenario_tokens_per_request(const struct llmcap_scenario *sc)
{
	double total = 0, tokens = 0;
	for (size_t c = 0; c < sc->workload.n_classes; c++)
		total += sc->workload.classes[c].share;
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		tokens += cl->share / total * (llmcap_dist_mean(&cl->prompt) + llmcap_dist_mean(&cl->output));
	}
	return tokens;
}

double llmcap_scenario_mean_rate(const struct llmcap_scenario *sc)
{
	if (!isnan(sc->workload.rate))
		return sc->workload.rate;
	return sc->workload.tokens_per_month /
	       (LLMCAP_MONTH_SECONDS * llmcap_scenario_tokens_per_request(sc));
}

bool llmcap_class_lengths_joint(const struct llmcap_class_cfg *cl)
{
	return cl->prompt.kind == LLMCAP_DIST_TRACE && cl->output.kind == LLMCAP_DIST_TRACE &&
	       !strcmp(cl->prompt.file, cl->output.file);
}

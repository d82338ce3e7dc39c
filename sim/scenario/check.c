/* Cross-field checks of a loaded scenario (llmcap_scenario_check): classes, pools, the catalog
 * entries they name, the GPU budget, traces, profiles and prices; each error names the place
 * where the offending entry was defined. */
#include <stdlib.h>
#include <string.h>

#include "llmcap/cost.h"
#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/trace.h"

static void list_names(const char *base, size_t n, size_t stride, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", base + i * stride);
}

static int check_diurnal(const char *where, const char *what, const struct llmcap_diurnal_cfg *d,
			 struct llmcap_error *err)
{
	const char *sep = *where ? ": " : "";
	if (d->shape == LLMCAP_DIURNAL_TABLE && d->n_hours == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s%s%s.diurnal.shape: table needs %s.diurnal.hours: a list of 24 "
				     "(hour of day) or 168 (hour of week) rates", where, sep, what, what);
	if (d->shape == LLMCAP_DIURNAL_FILE && d->n_file_hours == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s%s%s.diurnal.shape: file needs %s.diurnal.file: a profile file "
				     "of 24 or 168 rows", where, sep, what, what);
	if (d->n_days > 0 && d->weekend_factor != 1.0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s%s%s.diurnal: days and weekend_factor both given; expected one "
				     "of them (days sets every weekday's factor)", where, sep, what);
	return 0;
}

/* A class that takes trace rows: one with arrival: shared. */
static int check_trace_class(const struct llmcap_scenario *sc, const char *key, const char *name,
			     const char *where, struct llmcap_error *err)
{
	char names[512] = "";
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		if (cl->arrival != LLMCAP_ARRIVAL_SHARED)
			continue;
		if (!strcmp(cl->name, name))
			return 0;
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? ", " : "",
			 cl->name);
	}
	return llmcap_errorf(err, LLMCAP_EINVAL,
			     "%s%s%s: '%s' is not a class with arrival: shared; expected one of: %s",
			     where, *where ? ": " : "", key, name, names);
}

static int check_trace(const struct llmcap_scenario *sc, struct llmcap_error *err)
{
	const struct llmcap_trace_cfg *t = &sc->workload.trace;
	size_t shared = 0;
	for (size_t c = 0; c < sc->workload.n_classes; c++)
		shared += sc->workload.classes[c].arrival == LLMCAP_ARRIVAL_SHARED;
	if (shared == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.file: no class takes the trace's rows; expected at "
				     "least one class with arrival: shared (classes with their own "
				     "arrival stay synthetic)");
	if (isnan(t->speedup) && isnan(t->rate))
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.speedup and workload.trace.rate are both null; "
				     "expected one of them");
	if (t->end > 0 && t->end <= t->start)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.end (%.9g s) is not after start (%.9g s); expected "
				     "end > start, or 0s for the file's end",
				     (double)t->end * 1e-9, (double)t->start * 1e-9);
	int rc = 0;
	if (t->cls[0])
		rc = check_trace_class(sc, "workload.trace.class", t->cls, "", err);
	if (rc == 0 && t->assign == LLMCAP_ASSIGN_RULE) {
		if (t->long_prompt_tokens <= 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "workload.trace.assign: rule needs workload.trace.long_prompt_tokens "
					     "> 0 and workload.trace.long_prompt_class");
		rc = check_trace_class(sc, "workload.trace.long_prompt_class", t->long_prompt_class, "",
				       err);
	}
	for (size_t i = 0; rc == 0 && t->assign == LLMCAP_ASSIGN_COLUMN && i < t->n_models; i++) {
		char key[LLMCAP_NAME_MAX + 48];
		snprintf(key, sizeof key, "workload.trace.models.%s.class", t->models[i].name);
		rc = check_trace_class(sc, key, t->models[i].cls, t->models[i].where, err);
	}
	if (rc)
		return rc;
	/* the header now, so that an unknown format or a missing column stops the run early */
	struct llmcap_trace_reader rd;
	struct llmcap_error terr = {0};
	rc = llmcap_trace_open(&rd, t->file, t, &terr);
	if (rc)
		return llmcap_errorf(err, -rc, "workload.trace.file: %s", terr.msg);
	bool no_class = t->assign == LLMCAP_ASSIGN_COLUMN && rd.col_class < 0 &&
			rd.fmt != LLMCAP_TRACE_MOONCAKE;
	bool mooncake_column = t->assign == LLMCAP_ASSIGN_COLUMN && rd.fmt == LLMCAP_TRACE_MOONCAKE;
	enum llmcap_trace_format fmt = rd.fmt;
	llmcap_trace_close(&rd);
	if (no_class || mooncake_column)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.trace.assign: column, but %s (%s) has no class column; "
				     "expected workload.trace.class_column naming one, or assign: share "
				     "or rule", t->file, llmcap_trace_format_name(fmt));
	return 0;
}

/* pools.NAME.disaggregation: the decode pool exists, is another pool, serves the same model
 * with the same KV layout (the blocks move as they are: vLLM's and Dynamo's KV connectors need
 * equal block sizes), is no prefill group itself, and the link is in the catalog. */
static int check_disaggregation(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
				struct llmcap_error *err)
{
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *pl = &sc->pools[p];
		if (!pl->disaggregation.decode_pool[0])
			continue;
		const struct llmcap_pool_cfg *d = NULL;
		for (size_t q = 0; q < sc->n_pools; q++)
			if (!strcmp(sc->pools[q].name, pl->disaggregation.decode_pool))
				d = &sc->pools[q];
		char names[512];
		list_names(sc->pools[0].name, sc->n_pools, sizeof sc->pools[0], names, sizeof names);
		if (!d || d == pl)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.disaggregation.decode_pool: '%s' is %s; expected "
					     "another pool: %s",
					     pl->where, pl->name, pl->disaggregation.decode_pool,
					     d ? "the pool itself" : "not a pool", names);
		if (d->disaggregation.decode_pool[0])
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.disaggregation.decode_pool: '%s' is itself a "
					     "prefill group (it has a decode_pool); expected a pool that "
					     "decodes",
					     pl->where, pl->name, d->name);
		if (strcmp(d->model, pl->model) || d->block_size != pl->block_size ||
		    d->kv_cache_dtype != pl->kv_cache_dtype)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.disaggregation.decode_pool: '%s' serves %s with "
					     "block_size %lld and kv_cache_dtype %s, this pool %s with %lld "
					     "and %s; expected the same model and KV layout (the KV blocks "
					     "move as they are)",
					     pl->where, pl->name, d->name, d->model, (long long)d->block_size,
					     llmcap_kv_dtype_names[d->kv_cache_dtype], pl->model,
					     (long long)pl->block_size, llmcap_kv_dtype_names[pl->kv_cache_dtype]);
		const struct llmcap_link_spec *link = llmcap_catalog_link(cat, pl->disaggregation.link);
		/* a link inside a server (NVLink) needs both groups in one server group: pools on
		 * different GPU types (or servers of another size) are in different servers */
		const size_t dp = (size_t)(d - sc->pools);
		if (link && !strcmp(link->scope, "server") &&
		    (llmcap_catalog_gpu(cat, llmcap_pool_gpu(sc, p)) !=
			     llmcap_catalog_gpu(cat, llmcap_pool_gpu(sc, dp)) ||
		     llmcap_pool_gpus_per_server(sc, p) != llmcap_pool_gpus_per_server(sc, dp)))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.disaggregation.link: '%s' joins GPUs of one "
					     "server, but this pool runs on %d x %s and '%s' on %d x %s "
					     "(other servers); expected a link between servers, e.g. "
					     "infiniband-ndr",
					     pl->where, pl->name, link->name,
					     (int)llmcap_pool_gpus_per_server(sc, p), llmcap_pool_gpu(sc, p),
					     d->name, (int)llmcap_pool_gpus_per_server(sc, dp),
					     llmcap_pool_gpu(sc, dp));
		if (!link) {
			char hint[LLMCAP_NAME_MAX + 32];
			llmcap_catalog_suggest(cat, "links", pl->disaggregation.link, hint, sizeof hint);
			list_names(cat->links[0].name, cat->n_links, sizeof cat->links[0], names,
				   sizeof names);
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.disaggregation.link: '%s' is not in the links "
					     "catalog%s; expected one of: %s",
					     pl->where, pl->name, pl->disaggregation.link, hint, names);
		}
	}
	return 0;
}

int llmcap_scenario_check(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			  struct llmcap_error *err)
{
	char names[512];
	if (sc->workload.n_classes == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.classes: no class defined; expected at least one, e.g. "
				     "classes: {chat: {pool: main}}");
	if (sc->n_pools == 0)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "pools: no pool defined; expected at least one, e.g. pools: {main: "
				     "{model: llama-3.1-8b}}");
	double share_sum = 0;
	char shares[512] = "";
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		share_sum += sc->workload.classes[c].share;
		snprintf(shares + strlen(shares), sizeof shares - strlen(shares), "%s%s %g",
			 c ? " + " : "", sc->workload.classes[c].name, sc->workload.classes[c].share);
	}
	if (fabs(share_sum - 1.0) > 1e-9)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s: workload.classes: shares sum to %.12g (%s); expected 1",
				     sc->workload.classes[0].where, share_sum, shares);
	if (isnan(sc->workload.rate) && isnan(sc->workload.tokens_per_month))
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.rate and workload.tokens_per_month are both null; expected "
				     "one of them, e.g. rate: 50000/day or tokens_per_month: 2.7e9");
	int prc = check_diurnal("", "workload", &sc->workload.diurnal, err);
	for (size_t c = 0; prc == 0 && c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		char what[LLMCAP_NAME_MAX + 32];
		snprintf(what, sizeof what, "workload.classes.%s", cl->name);
		if (cl->arrival != LLMCAP_ARRIVAL_SHARED)
			prc = check_diurnal(cl->where, what, &cl->diurnal, err);
	}
	if (prc)
		return prc;
	if (sc->workload.clients.concurrency > 0) {
		/* closed-loop clients are the only source of requests: nothing else may send any */
		if (sc->workload.trace.file[0])
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "workload.clients.concurrency: %lld clients and a trace "
					     "(workload.trace.file); expected one source of requests",
					     (long long)sc->workload.clients.concurrency);
		for (size_t c = 0; c < sc->workload.n_classes; c++)
			if (sc->workload.classes[c].arrival != LLMCAP_ARRIVAL_SHARED)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: workload.classes.%s.arrival: %s with closed-loop "
						     "clients; expected shared (the clients send every "
						     "class's requests, by share)",
						     sc->workload.classes[c].where, sc->workload.classes[c].name,
						     llmcap_arrival_names[sc->workload.classes[c].arrival]);
	}
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		/* sessions: their turns' lengths are drawn, and a trace's rows are requests of their
		 * own (a replayed trace's multi-turn reuse is its hash ids) */
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		if (!llmcap_class_has_sessions(cl))
			continue;
		if (cl->sessions.turns.kind == LLMCAP_DIST_TRACE || cl->sessions.growth.kind == LLMCAP_DIST_TRACE)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: workload.classes.%s.sessions: a trace distribution; "
					     "expected fixed, uniform, lognormal, normal, geometric, zipf "
					     "or histogram", cl->where, cl->name);
		if (sc->workload.trace.file[0])
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: workload.classes.%s.sessions: sessions and a trace "
					     "(workload.trace.file); expected one or the other (a trace's "
					     "turns reuse prefixes through its hash ids)", cl->where, cl->name);
	}
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *cfg = &sc->pools[p];
		if (cfg->failures.scripted_at > 0 && cfg->failures.scripted_replica >= cfg->replicas)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.failures.scripted_replica: %lld; expected a "
					     "replica of the pool's %lld", cfg->where, cfg->name,
					     (long long)cfg->failures.scripted_replica,
					     (long long)cfg->replicas);
	}
	double mean_rate = llmcap_scenario_mean_rate(sc);
	if (!(mean_rate > 0 && mean_rate <= LLMCAP_RATE_MAX)) {
		if (!isnan(sc->workload.rate)) /* the schema bounds a rate given: the profile made it */
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "workload.rate: %g requests/s over the profile's period; "
					     "expected a rate > 0 and <= %g/s", mean_rate, LLMCAP_RATE_MAX);
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload.tokens_per_month: %g tokens at %.6g tokens per request is "
				     "%g requests/s; expected a rate > 0 and <= %g/s",
				     sc->workload.tokens_per_month, llmcap_scenario_tokens_per_request(sc),
				     mean_rate, LLMCAP_RATE_MAX);
	}
	/* A scenario asking for more requests than any run could process is refused up front
	 * rather than left to run for days (a rate of 1e12/s, say). */
	double expected = llmcap_scenario_mean_rate(sc) * (double)sc->horizon * 1e-9;
	if (isfinite(expected) && expected > 2e9)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "workload: %.3g requests expected over the horizon (mean rate x "
				     "horizon); expected at most 2e9: lower the rate or shorten the horizon",
				     expected);
	/* Exact percentiles keep every request's latencies (4 doubles and 2 tags in arrays that
	 * double as they grow): 3660 days at 50000/day would grow toward 7 GB. */
	if (sc->output.percentiles == LLMCAP_PERCENTILES_EXACT && isfinite(expected) &&
	    expected > LLMCAP_EXACT_MAX_REQUESTS)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "output.percentiles: exact keeps every request's latencies, and "
				     "%.3g requests are expected over the horizon (about %.1f GB); "
				     "expected at most %.0e with exact percentiles: set "
				     "output.percentiles: streaming (bounded memory, within "
				     "output.percentile_error), or shorten the horizon",
				     expected, expected * 48 * 1e-9, LLMCAP_EXACT_MAX_REQUESTS);
	const struct llmcap_gpu_spec *pool_gpu = llmcap_catalog_gpu(cat, sc->hardware.gpu);
	char hint[LLMCAP_NAME_MAX + 32];
	if (!pool_gpu) {
		list_names(cat->gpus[0].name, cat->n_gpus, sizeof cat->gpus[0], names, sizeof names);
		llmcap_catalog_suggest(cat, "gpus", sc->hardware.gpu, hint, sizeof hint);
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "hardware.gpu: '%s' is not in the catalog%s; expected one of: %s",
				     sc->hardware.gpu, hint, names);
	}
	list_names(sc->pools[0].name, sc->n_pools, sizeof sc->pools[0], names, sizeof names);
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		const char *pool = cl->pool[0] ? cl->pool : cl->name;
		bool found = false;
		for (size_t p = 0; p < sc->n_pools; p++)
			found |= !strcmp(sc->pools[p].name, pool);
		if (!found)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: workload.classes.%s.pool: '%s' is not a pool; expected one of: %s",
					     cl->where, cl->name, pool, names);
		if (cl->long_prompt_tokens > 0) {
			found = false;
			for (size_t p = 0; p < sc->n_pools; p++)
				found |= !strcmp(sc->pools[p].name, cl->long_prompt_pool);
			if (!found)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: workload.classes.%s.long_prompt_pool: '%s' is not a pool; "
						     "expected one of: %s",
						     cl->where, cl->name, cl->long_prompt_pool, names);
		}
		/* multi-LoRA: the class's pools serve adapters of its rank (vLLM refuses a rank
		 * above --max-lora-rank) */
		for (size_t p = 0; p < sc->n_pools && cl->lora.adapters > 0; p++) {
			const struct llmcap_pool_cfg *pl = &sc->pools[p];
			if (strcmp(pl->name, pool) &&
			    (cl->long_prompt_tokens == 0 || strcmp(pl->name, cl->long_prompt_pool)))
				continue;
			if (pl->lora.max_loras == 0)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: workload.classes.%s.lora.adapters: %lld, but pool %s "
						     "serves no adapters; expected pools.%s.lora.max_loras >= 1",
						     cl->where, cl->name, (long long)cl->lora.adapters, pl->name,
						     pl->name);
			if (cl->lora.rank > pl->lora.max_lora_rank)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: workload.classes.%s.lora.rank: %lld exceeds pools.%s."
						     "lora.max_lora_rank %lld; expected a rank <= %lld",
						     cl->where, cl->name, (long long)cl->lora.rank, pl->name,
						     (long long)pl->lora.max_lora_rank,
						     (long long)pl->lora.max_lora_rank);
		}
		if (isnan(sc->cost.api.monthly_bill)) {
			bool priced = false;
			for (size_t i = 0; i < sc->cost.api.n_prices; i++)
				priced |= !strcmp(sc->cost.api.prices[i].name, cl->name);
			if (!priced)
				return llmcap_errorf(
					err, LLMCAP_EINVAL,
					"%s: cost.api.prices has no entry for class '%s'; expected "
					"cost.api.prices.%s: {input: USD per 1M, output: USD per 1M} or "
					"cost.api.monthly_bill",
					cl->where, cl->name, cl->name);
		}
	}
	for (size_t i = 0; i < sc->cost.api.n_prices; i++) {
		bool found = false;
		for (size_t c = 0; c < sc->workload.n_classes; c++)
			found |= !strcmp(sc->workload.classes[c].name, sc->cost.api.prices[i].name);
		if (!found)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: cost.api.prices.%s: there is no class '%s'",
					     sc->cost.api.prices[i].where, sc->cost.api.prices[i].name,
					     sc->cost.api.prices[i].name);
	}
	/* price overrides name catalog GPUs and pools */
	for (size_t i = 0; i < sc->cost.n_gpus; i++)
		if (!llmcap_catalog_gpu(cat, sc->cost.gpus[i].name)) {
			llmcap_catalog_suggest(cat, "gpus", sc->cost.gpus[i].name, hint, sizeof hint);
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: cost.gpus.%s: '%s' is not in the GPU catalog%s (llmcap "
					     "catalog lists it)",
					     sc->cost.gpus[i].where, sc->cost.gpus[i].name, sc->cost.gpus[i].name,
					     hint);
		}
	for (size_t i = 0; i < sc->cost.rent.n_reserved; i++) {
		bool found = false;
		for (size_t p = 0; p < sc->n_pools; p++)
			found |= !strcmp(sc->pools[p].name, sc->cost.rent.reserved[i].name);
		if (!found)
			return llmcap_errorf(err, LLMCAP_EINVAL, "%s: cost.rent.reserved.%s: there is no pool '%s'",
					     sc->cost.rent.reserved[i].where, sc->cost.rent.reserved[i].name,
					     sc->cost.rent.reserved[i].name);
	}
	/* every GPU type the fleet holds servers of (hardware.gpu, and pools.NAME.gpu) */
	for (size_t p = 0; p <= sc->n_pools && sc->cost.opex == LLMCAP_OPEX_FLAT &&
			   isnan(sc->cost.opex_monthly);
	     p++) {
		const char *gn = p == sc->n_pools ? sc->hardware.gpu : llmcap_pool_gpu(sc, p);
		bool figure = false;
		for (size_t i = 0; i < sc->cost.n_gpus; i++)
			figure |= !strcmp(sc->cost.gpus[i].name, gn) &&
				  !isnan(sc->cost.gpus[i].opex_monthly);
		if (!figure)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "cost.opex: flat needs a monthly figure for %s; expected "
					     "cost.opex_monthly, cost.gpus.%s.opex_monthly, or cost.opex: "
					     "power or auto",
					     gn, gn);
	}
	if (sc->cost.rent.term_years != 1 && sc->cost.rent.term_years != 3)
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "cost.rent.term_years: %lld; expected 1 or 3 (the terms clouds sell)",
				     (long long)sc->cost.rent.term_years);
	if (sc->workload.trace.file[0]) {
		int trc = check_trace(sc, err);
		if (trc)
			return trc;
	}
	int64_t gpus_needed = 0;
	const char *over = NULL;
	/* pools off the hardware block (issue 21) are sized on their own servers: the budget and the
	 * packing below hold the others */
	bool on_own[LLMCAP_MAX_POOLS];
	struct llmcap_server_group groups[LLMCAP_MAX_POOLS + 1];
	size_t group_of[LLMCAP_MAX_POOLS];
	llmcap_server_groups(sc, NULL, groups, group_of);
	for (size_t p = 0; p < sc->n_pools; p++)
		on_own[p] = group_of[p] != 0;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *pl = &sc->pools[p];
		int64_t tp = pl->tensor_parallel_size;
		if (tp != 1 && tp != 2 && tp != 4 && tp != 8)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.tensor_parallel_size: %lld; expected 1, 2, 4 or 8",
					     pl->where, pl->name, (long long)tp);
		/* the pool's own GPU and servers (issue 21), else the hardware block's */
		const struct llmcap_gpu_spec *gpu = pool_gpu;
		if (pl->gpu[0] && !(gpu = llmcap_catalog_gpu(cat, pl->gpu))) {
			list_names(cat->gpus[0].name, cat->n_gpus, sizeof cat->gpus[0], names, sizeof names);
			llmcap_catalog_suggest(cat, "gpus", pl->gpu, hint, sizeof hint);
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.gpu: '%s' is not in the catalog%s; expected one of: %s",
					     pl->where, pl->name, pl->gpu, hint, names);
		}
		if (tp > llmcap_pool_gpus_per_server(sc, p))
			return llmcap_errorf(err, LLMCAP_ECAPACITY,
					     "%s: pools.%s.tensor_parallel_size: %lld exceeds %s %lld; expected "
					     "a tensor-parallel group to fit one server (pipeline_parallel_size "
					     "spans servers)",
					     pl->where, pl->name, (long long)tp,
					     pl->gpus_per_server > 0 ? "its gpus_per_server"
								     : "hardware.gpus_per_server",
					     (long long)llmcap_pool_gpus_per_server(sc, p));
		const struct llmcap_model_spec *m = llmcap_catalog_model(cat, pl->model);
		if (!m) {
			char mn[512];
			list_names(cat->models[0].name, cat->n_models, sizeof cat->models[0], mn, sizeof mn);
			llmcap_catalog_suggest(cat, "models", pl->model, hint, sizeof hint);
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.model: '%s' is not in the catalog%s; expected one of: %s",
					     pl->where, pl->name, pl->model, hint, mn);
		}
		if (m->num_experts > 0 &&
		    (m->experts_per_token < 1 || m->experts_per_token > m->num_experts))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "models/catalog/models.yaml: %s: experts_per_token %lld; expected "
					     "1 to num_experts (%lld)",
					     m->name, (long long)m->experts_per_token,
					     (long long)m->num_experts);
		if (m->first_dense_layers >= m->layers ||
		    (m->num_experts == 0 && (m->first_dense_layers || m->num_shared_experts ||
					     m->moe_intermediate_size)))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "models/catalog/models.yaml: %s: first_dense_layers %lld, "
					     "num_shared_experts %lld, moe_intermediate_size %lld; expected them "
					     "only with num_experts > 0, and fewer dense layers than layers (%lld)",
					     m->name, (long long)m->first_dense_layers,
					     (long long)m->num_shared_experts, (long long)m->moe_intermediate_size,
					     (long long)m->layers);
		if (m->kv_lora_rank > 0 &&
		    (m->qk_nope_head_dim < 1 || m->qk_rope_head_dim < 1 || m->v_head_dim < 1))
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "models/catalog/models.yaml: %s: kv_lora_rank %lld needs "
					     "qk_nope_head_dim, qk_rope_head_dim and v_head_dim >= 1",
					     m->name, (long long)m->kv_lora_rank);
		const struct llmcap_engine_spec *eng = llmcap_catalog_engine(cat, pl->engine);
		if (!eng) {
			char en[512];
			list_names(cat->engines[0].name, cat->n_engines, sizeof cat->engines[0], en,
				   sizeof en);
			llmcap_catalog_suggest(cat, "engines", pl->engine, hint, sizeof hint);
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.engine: '%s' is not in the catalog%s; expected one of: %s",
					     pl->where, pl->name, pl->engine, hint, en);
		}
		if (pl->perf_model == LLMCAP_PERF_TABLE) {
			/* read the table now, so that a bad file stops the run before it starts */
			struct llmcap_perf pf;
			int trc = llmcap_perf_init(&pf, m, gpu, eng, pl, err);
			llmcap_perf_free(&pf);
			if (trc)
				return trc;
		}
		if (m->num_attention_heads % tp != 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.tensor_parallel_size: %lld does not divide %s's %lld "
					     "attention heads",
					     pl->where, pl->name, (long long)tp, m->name,
					     (long long)m->num_attention_heads);
		if (pl->dtype == LLMCAP_DTYPE_FP8 && gpu->fp8_tflops <= 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.dtype: fp8 needs FP8 tensor cores, which %s lacks",
					     pl->where, pl->name, gpu->name);
		int lrc = llmcap_parallel_check(m, pl, sc->hardware.gpus_per_server, err);
		if (lrc)
			return lrc;
		if (pl->lora.gpu_cache > 0 && pl->lora.gpu_cache < pl->lora.max_loras)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.lora.gpu_cache: %lld is below max_loras %lld; "
					     "expected 0 (max_loras) or at least max_loras",
					     pl->where, pl->name, (long long)pl->lora.gpu_cache,
					     (long long)pl->lora.max_loras);
		if (pl->speculative.method == LLMCAP_SPEC_DRAFT && !pl->speculative.draft_model[0])
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.speculative.draft_model: empty; expected a catalog "
					     "model for method draft",
					     pl->where, pl->name);
		/* autoscaling: the initial count within [min, max], the thresholds in order */
		const struct llmcap_autoscale_cfg *as = &pl->autoscale;
		if (as->spot && !as->enabled)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "%s: pools.%s.autoscale.spot: true with enabled: false; "
					     "expected enabled: true (the autoscaler replaces an "
					     "interrupted replica)", pl->where, pl->name);
		if (as->enabled) {
			int64_t mx = as->max_replicas > 0 ? as->max_replicas : pl->replicas;
			double up = isnan(as->up_above) ? as->target : as->up_above;
			double down = isnan(as->down_below) ? as->target / 2 : as->down_below;
			if (as->min_replicas > pl->replicas || pl->replicas > mx)
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: pools.%s.autoscale: min_replicas %lld, replicas %lld, "
						     "max_replicas %lld; expected min_replicas <= replicas <= "
						     "max_replicas", pl->where, pl->name,
						     (long long)as->min_replicas, (long long)pl->replicas,
						     (long long)mx);
			if (!(down < up))
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "%s: pools.%s.autoscale: down_below %g, up_above %g; "
						     "expected down_below < up_above", pl->where, pl->name,
						     down, up);
		}
		struct llmcap_memory_plan plan;
		int rc = llmcap_memory_plan_pool(cat, m, gpu, eng, pl, &plan, err);
		if (rc)
			return rc;
		if (on_own[p])
			continue; /* its own servers: as many as its replicas take */
		gpus_needed += llmcap_pool_gpus_per_replica(pl) * pl->replicas;
		if (!over && gpus_needed > sc->hardware.servers * sc->hardware.gpus_per_server)
			over = pl->where; /* the pool that takes the sum past the hardware */
	}
	int64_t gpus_have = sc->hardware.servers * sc->hardware.gpus_per_server;
	if (gpus_needed > gpus_have)
		return llmcap_errorf(err, LLMCAP_ECAPACITY,
				     "%s: pools: need %lld GPUs (sum of replicas x tensor_parallel_size x "
				     "pipeline_parallel_size x data_parallel_attention) but "
				     "hardware has %lld (%lld servers x %lld); expected more servers or "
				     "fewer replicas",
				     over, (long long)gpus_needed, (long long)gpus_have,
				     (long long)sc->hardware.servers,
				     (long long)sc->hardware.gpus_per_server);
	/* A replica no larger than a server lives inside one; a larger one (pipeline stages,
	 * data-parallel attention) takes whole servers (llmcap_parallel_check). Pack replicas
	 * largest first (first fit decreasing is exact for power-of-two sizes). */
	int64_t free_gpus[64] = {0};
	int64_t ns = sc->hardware.servers < 64 ? sc->hardware.servers : 64;
	const int64_t gps = sc->hardware.gpus_per_server;
	for (int64_t s = 0; s < ns; s++)
		free_gpus[s] = gps;
	int64_t largest = 1;
	for (size_t p = 0; p < sc->n_pools; p++)
		if (llmcap_pool_gpus_per_replica(&sc->pools[p]) > largest)
			largest = llmcap_pool_gpus_per_replica(&sc->pools[p]);
	for (int64_t size = largest; size >= 1 && sc->hardware.servers <= 64; size--)
		for (size_t p = 0; p < sc->n_pools; p++) {
			if (llmcap_pool_gpus_per_replica(&sc->pools[p]) != size || on_own[p])
				continue;
			const int64_t span = size > gps ? size / gps : 1, take = size > gps ? gps : size;
			for (int64_t r = 0; r < sc->pools[p].replicas; r++) {
				int64_t s = 0, run = 0;
				/* span consecutive servers with `take` GPUs free each */
				for (; s < ns; s++) {
					run = free_gpus[s] >= take ? run + 1 : 0;
					if (run == span)
						break;
				}
				if (s == ns)
					return llmcap_errorf(
						err, LLMCAP_ECAPACITY,
						"%s: pools.%s.replicas: replica %lld of %lld GPUs "
						"(tensor_parallel_size %lld x pipeline_parallel_size %lld x "
						"data_parallel_attention %lld) does not fit the free GPUs (%lld "
						"servers x %lld GPUs; a tensor-parallel group stays in one server, "
						"larger replicas take whole servers); expected more servers or "
						"fewer replicas",
						sc->pools[p].where, sc->pools[p].name, (long long)r + 1,
						(long long)size, (long long)sc->pools[p].tensor_parallel_size,
						(long long)(size / sc->pools[p].tensor_parallel_size /
							    (sc->pools[p].parallel.data_parallel_attention > 1
								     ? sc->pools[p].parallel.data_parallel_attention
								     : 1)),
						(long long)(sc->pools[p].parallel.data_parallel_attention > 1
								    ? sc->pools[p].parallel.data_parallel_attention
								    : 1),
						(long long)sc->hardware.servers, (long long)gps);
				for (int64_t k = s - span + 1; k <= s; k++)
					free_gpus[k] -= take;
			}
		}
	return check_disaggregation(sc, cat, err);
}

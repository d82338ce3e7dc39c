/* Properties of every simulation, over many random small scenarios.
 *
 * Scenarios are drawn from a fixed seed: one or two pools with small KV caches (so that
 * preemption, swapping and rejection happen), random batch limits, chunked prefill, routers,
 * scheduling policies, prefix caching, admission limits and spill, and loads from light to
 * far beyond capacity. Each runs on a library built with -DLLMCAP_INVARIANTS (check_replica
 * after every scheduling decision: block accounting, queue membership, token counts), and
 * must show:
 *   - every arrived request ends exactly once (ids 0..n-1, none twice), and the per-class
 *     counts add up (completed + rejected + spilled + unfinished = arrived);
 *   - tokens are conserved: tokens emitted by the replicas = output of completed requests +
 *     tokens already emitted by unfinished ones; completed requests emitted all they asked for;
 *     prompt tokens of completed requests were all prefilled or found in the prefix cache;
 *   - KV blocks in use never above capacity nor negative (peak and time integral);
 *   - per request: arrival <= first scheduled <= first token <= last token;
 *   - Little's law as an identity per replica (in system and not yet scheduled);
 *   - the same digest and the same records from a second run.
 * Then monotonicity, checked empirically over several seeds (docs/validation.md):
 *   - JSQ: more replicas never increase the mean queueing delay of the same seeded run;
 *   - a higher rate never lowers the busy fraction. */
#include "test_records.h"

#include <gsl/gsl_rng.h>

#include "llmcap/sim.h"

/* The sanitizer build (with -Dinvariants=true) runs some 50 times slower: fewer draws there;
 * the normal build runs them all, on a library with the same invariant checks. */
#ifdef LLMCAP_INVARIANTS
#define N_RANDOM 50
#define N_SEEDS 2
#else
#define N_RANDOM 200
#define N_SEEDS 6
#endif

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* ---- records ---- */

struct rec_set {
	struct llmcap_request_record *r;
	size_t n, cap;
	int64_t max_id;
	uint64_t sum; /* order-independent fingerprint for the determinism check */
};

static int keep(void *user, const struct llmcap_request_record *r)
{
	struct rec_set *s = user;
	test_append_record(&s->r, &s->n, &s->cap, r);
	if (r->id > s->max_id)
		s->max_id = r->id;
	uint64_t h = llmcap_hash_bytes(LLMCAP_HASH_INIT, r, sizeof *r);
	s->sum += h;
	return 0;
}

/* ---- random scenarios ---- */

static size_t pick(gsl_rng *g, size_t n)
{
	return (size_t)gsl_rng_uniform_int(g, n);
}

/* One random scenario: overrides applied in order onto the defaults. */
struct gen {
	char sets[10][4096];
	size_t n;
};

static void random_scenario(gsl_rng *g, struct gen *out, uint64_t seed)
{
	static const char *const routers[] = {"round-robin", "random", "least-outstanding", "jsq",
					      "least-kv", "power-of-two", "prefix-affinity"};
	size_t n_pools = 1 + pick(g, 2), n_classes = 1 + pick(g, 2);
	char classes[2048] = "", pools[2048] = "", prices[256] = "";
	size_t len = 0;
	for (size_t p = 0; p < n_pools; p++) {
		int bs = (int[]){8, 16, 32}[pick(g, 3)];
		int blocks = 16 + (int)pick(g, 200), budget = 64 + (int)pick(g, 1000);
		bool swap = pick(g, 2), chunked = pick(g, 2);
		char mml[48] = "";
		if (!chunked) /* unchunked prompts must fit one step's budget */
			snprintf(mml, sizeof mml, "max_model_len: %d, ",
				 budget < blocks * bs ? budget : blocks * bs);
		len += (size_t)snprintf(pools + len, sizeof pools - len,
			"%sp%zu: {model: llama-3.1-8b, perf_model: linear, "
			"linear: {per_step: %dms, per_token_us: %d, per_context_token_ns: %d}, "
			"replicas: %d, max_num_seqs: %d, max_num_batched_tokens: %d, %s"
			"enable_chunked_prefill: %s, block_size: %d, num_gpu_blocks_override: %d, "
			"preemption_mode: %s, swap_space: %s, enable_prefix_caching: %s, router: %s, "
			"scheduling_policy: %s, spill: {waiting_above: %d, kv_above: %.2f}}",
			p ? ", " : "", p, 1 + (int)pick(g, 20), (int)pick(g, 30), (int)pick(g, 3),
			1 + (int)pick(g, 3), 1 + (int)pick(g, 12), budget, mml,
			chunked ? "true" : "false", bs, blocks, swap ? "swap" : "recompute",
			swap ? (pick(g, 2) ? "64KiB" : "1MiB") : "0", pick(g, 2) ? "true" : "false",
			routers[pick(g, 7)], pick(g, 2) ? "priority" : "fcfs",
			pick(g, 4) == 0 ? 1 + (int)pick(g, 20) : 0,
			pick(g, 5) == 0 ? 0.5 + 0.1 * (double)pick(g, 5) : 0.0);
	}
	len = 0;
	size_t plen = 0;
	for (size_t c = 0; c < n_classes; c++) {
		int pmin = 1 + (int)pick(g, 100), omin = 1 + (int)pick(g, 30);
		len += (size_t)snprintf(classes + len, sizeof classes - len,
			"%sc%zu: {pool: p%zu, share: %s, prompt: {dist: uniform, min: %d, max: %d}, "
			"output: {dist: geometric, mean: %d, min: 1, max: %d}, priority: %d, "
			"shared_prefix_tokens: %d, prefix_groups: %d, max_waiting: %d, "
			"max_queue_time: %dms, when_limited: %s}",
			c ? ", " : "", c, c % n_pools, n_classes == 1 ? "1" : "0.5", pmin,
			pmin + (int)pick(g, 600), omin + 5, omin + 5 + (int)pick(g, 200), (int)pick(g, 3),
			(int)pick(g, 64), 1 + (int)pick(g, 3), pick(g, 4) == 0 ? 1 + (int)pick(g, 10) : 0,
			pick(g, 4) == 0 ? 100 + (int)pick(g, 5000) : 0, pick(g, 2) ? "spill" : "reject");
		plen += (size_t)snprintf(prices + plen, sizeof prices - plen,
					 "%sc%zu: {input: 1, output: 2}", c ? ", " : "", c);
	}
	size_t n = 0;
	snprintf(out->sets[n++], sizeof out->sets[0], "hardware={gpus_per_server: 8}");
	snprintf(out->sets[n++], sizeof out->sets[0], "horizon=%ds", 30 + (int)pick(g, 120));
	snprintf(out->sets[n++], sizeof out->sets[0], "seed=%llu", (unsigned long long)seed);
	snprintf(out->sets[n++], sizeof out->sets[0], "workload.rate=%d/s", 1 + (int)pick(g, 60));
	snprintf(out->sets[n++], sizeof out->sets[0], "workload.diurnal.shape=none");
	snprintf(out->sets[n++], sizeof out->sets[0], "workload.arrival=%s",
		 (const char *[]){"poisson", "gamma", "mmpp"}[pick(g, 3)]);
	snprintf(out->sets[n++], sizeof out->sets[0], "cost.api.prices={%s}", prices);
	snprintf(out->sets[n++], sizeof out->sets[0], "workload.classes={%s}", classes);
	snprintf(out->sets[n++], sizeof out->sets[0], "pools={%s}", pools);
	out->n = n;
}

static bool load(struct llmcap_scenario *sc, const struct gen *gen, struct llmcap_error *err)
{
	llmcap_scenario_defaults(sc);
	for (size_t i = 0; i < gen->n; i++)
		if (llmcap_scenario_apply_override(sc, gen->sets[i], err) != 0)
			return false;
	return llmcap_scenario_check(sc, &cat, err) == 0;
}

/* ---- the checks ---- */

static void check_little(const struct llmcap_scenario *sc, const struct rec_set *rs,
			 const struct llmcap_results *res)
{
	double T = (double)sc->horizon * 1e-9;
	for (size_t ri = 0; ri < res->n_replicas; ri++) {
		double sys = 0, queued = 0;
		for (size_t i = 0; i < rs->n; i++) {
			const struct llmcap_request_record *r = &rs->r[i];
			if (r->replica != (int32_t)ri)
				continue;
			double end;
			switch (r->status) {
			case LLMCAP_REQ_COMPLETED: end = r->arrival + r->e2e; break;
			case LLMCAP_REQ_UNFINISHED: end = T; break;
			case LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT:
			case LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT:
				end = r->arrival + (double)sc->workload.classes[r->cls].max_queue_time * 1e-9;
				break;
			default: continue; /* never at the replica */
			}
			sys += fmin(end, T) - r->arrival;
			queued += isnan(r->queue) ? fmin(end, T) - r->arrival : r->queue;
		}
		const struct llmcap_replica_stats *st = &res->replicas[ri];
		assert_true(fabs(st->in_system_time * 1e-9 - sys) <= 1e-9 * sys + 1e-6);
		assert_true(fabs(st->queued_time * 1e-9 - queued) <= 1e-9 * queued + 1e-6);
	}
}

static void check_run(const struct llmcap_scenario *sc, const struct rec_set *rs,
		      const struct llmcap_results *res)
{
	int64_t arrived = 0;
	double completed_out = 0, unfinished_out = 0, completed_prompt_net = 0;
	int64_t by_status[LLMCAP_MAX_CLASSES][LLMCAP_REQ_N_STATUS] = {{0}};
	for (size_t c = 0; c < res->n_classes; c++) {
		const struct llmcap_class_stats *cs = &res->classes[c];
		assert_int_equal(cs->arrived, cs->completed + cs->rejected + cs->spilled + cs->unfinished);
		arrived += cs->arrived;
		completed_out += cs->completed_output_tokens;
		unfinished_out += cs->unfinished_output_tokens;
	}
	/* each id exactly once */
	assert_int_equal((int64_t)rs->n, arrived);
	unsigned char *seen = calloc(rs->n ? rs->n : 1, 1);
	assert_non_null(seen);
	double T = (double)sc->horizon * 1e-9;
	for (size_t i = 0; i < rs->n; i++) {
		const struct llmcap_request_record *r = &rs->r[i];
		assert_true(r->id >= 0 && (size_t)r->id < rs->n);
		assert_int_equal(seen[r->id], 0);
		seen[r->id] = 1;
		by_status[r->cls][r->status]++;
		assert_true(r->arrival >= 0 && r->arrival <= T);
		assert_true(r->generated_tokens >= 0 && r->generated_tokens <= r->output_tokens);
		if (r->status == LLMCAP_REQ_COMPLETED) {
			assert_int_equal(r->generated_tokens, r->output_tokens);
			assert_true(r->queue >= 0 && r->queue <= r->ttft + 1e-12 &&
				    r->ttft <= r->e2e + 1e-12 && r->arrival + r->e2e <= T + 1e-9);
			completed_prompt_net += (double)(r->prompt_tokens - r->prefix_hit_tokens);
		}
	}
	free(seen);
	for (size_t c = 0; c < res->n_classes; c++)
		for (int s = 0; s < LLMCAP_REQ_N_STATUS; s++)
			assert_int_equal(by_status[c][s], res->classes[c].by_status[s]);
	/* tokens */
	double emitted = 0, prefilled = 0;
	for (size_t p = 0; p < res->n_pools; p++)
		for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
			const struct llmcap_replica_stats *st = &res->replicas[res->pools[p].first_replica + i];
			int64_t blocks = res->pools[p].plan.num_blocks;
			emitted += st->output_tokens;
			prefilled += st->prefill_tokens;
			assert_true(st->kv_peak >= 0 && st->kv_peak <= blocks);
			assert_true(st->kv_block_time >= 0 &&
				    st->kv_block_time <= (double)blocks * (double)res->horizon);
			assert_true(st->busy >= 0 && st->busy <= res->horizon);
			assert_true(st->batch_peak <= sc->pools[p].max_num_seqs);
		}
	assert_rel(emitted, completed_out + unfinished_out, 1e-12);
	/* every completed prompt token was computed at least once, unless found cached (a token
	 * may also be emitted in the same step that finished the prefill: decodes count apart) */
	assert_true(prefilled + 1e-9 >= completed_prompt_net);
	check_little(sc, rs, res);
}

static void random_scenarios_keep_every_property(void **state)
{
	(void)state;
	gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(g, 20240611);
	int ran = 0, preempting = 0, rejecting = 0, spilling = 0;
	for (int k = 0; k < N_RANDOM; k++) {
		static struct gen gen;
		random_scenario(g, &gen, 1000 + (uint64_t)k);
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		if (!load(&sc, &gen, &err))
			fail_msg("scenario %d: %s\n  %s\n  %s", k, err.msg, gen.sets[7], gen.sets[8]);
		struct rec_set a = {0}, b = {0};
		struct llmcap_sink sa = {.user = &a, .request = keep}, sb = {.user = &b, .request = keep};
		struct llmcap_results ra, rb;
		if (llmcap_simulate(&sc, &cat, &sa, &ra, &err) != 0)
			fail_msg("scenario %d: %s", k, err.msg);
		check_run(&sc, &a, &ra);
		if (llmcap_simulate(&sc, &cat, &sb, &rb, &err) != 0)
			fail_msg("scenario %d: %s", k, err.msg);
		assert_int_equal(ra.digest, rb.digest);
		assert_int_equal(a.n, b.n);
		assert_int_equal(a.sum, b.sum);
		for (size_t i = 0; i < ra.n_replicas; i++) {
			preempting += ra.replicas[i].preemptions > 0;
			assert_memory_equal(&ra.replicas[i], &rb.replicas[i], sizeof ra.replicas[i]);
		}
		for (size_t c = 0; c < ra.n_classes; c++) {
			rejecting += ra.classes[c].rejected > 0;
			spilling += ra.classes[c].spilled > 0;
		}
		ran++;
		free(a.r);
		free(b.r);
		llmcap_results_free(&ra);
		llmcap_results_free(&rb);
	}
	gsl_rng_free(g);
	/* the draw reaches the interesting paths */
	assert_int_equal(ran, N_RANDOM);
	if (getenv("LLMCAP_TEST_VERBOSE"))
		printf("%d scenarios: %d replicas preempted, %d classes rejected, %d spilled\n", ran,
		       preempting, rejecting, spilling);
	assert_true(preempting >= N_RANDOM / 10 && rejecting >= N_RANDOM / 10 &&
		    spilling >= N_RANDOM / 10);
}

/* ---- monotonicity ---- */

static double mean_queue(const struct llmcap_results *res)
{
	return llmcap_quantiles_mean(&res->classes[0].queue);
}

static void run_simple(const char *horizon, const char *const *sets, size_t n,
		       struct llmcap_results *res)
{
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	const char *base[] = {
		"workload={diurnal: {shape: none}, classes: {c: {pool: p, "
		"prompt: {dist: lognormal, median: 400, sigma: 1, max: 4000}, "
		"output: {dist: geometric, mean: 150, max: 2000}}}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, "
		"linear: {per_step: 8ms, per_token_us: 20, per_context_token_ns: 2}}}",
		"hardware={gpus_per_server: 8}", "cost.api.prices={c: {input: 1, output: 1}}",
	};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		if (llmcap_scenario_apply_override(&sc, base[i], &err) != 0)
			fail_msg("%s", err.msg);
	if (llmcap_scenario_apply_override(&sc, horizon, &err) != 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < n; i++)
		if (llmcap_scenario_apply_override(&sc, sets[i], &err) != 0)
			fail_msg("%s", err.msg);
	if (llmcap_scenario_check(&sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	if (llmcap_simulate(&sc, &cat, NULL, res, &err) != 0)
		fail_msg("%s", err.msg);
}

/* JSQ over 1..4 replicas, same seed (same arrivals and lengths): the mean queueing delay does
 * not increase with each added replica. Small KV caches make preemption part of it. */
static void jsq_more_replicas_never_queue_longer(void **state)
{
	(void)state;
	for (int seed = 1; seed <= N_SEEDS; seed++)
		for (int rate = 0; rate < 2; rate++) {
			double prev = INFINITY;
			for (int n = 1; n <= 4; n++) {
				char s1[64], s2[160], s3[64];
				snprintf(s1, sizeof s1, "seed=%d", seed);
				snprintf(s2, sizeof s2, "pools.p={replicas: %d, router: jsq, "
					 "max_num_seqs: 32, num_gpu_blocks_override: 2000}", n);
				snprintf(s3, sizeof s3, "workload.rate=%s", rate ? "12/s" : "5/s");
				const char *sets[] = {s1, s2, s3};
				struct llmcap_results res;
				run_simple("horizon=20min", sets, 3, &res);
				double q = mean_queue(&res);
				if (!(q <= prev * (1 + 1e-12)))
					fail_msg("seed %d rate %s: %d replicas queue %.6g s on average, "
						 "%d queue %.6g s", seed, rate ? "12/s" : "5/s", n, q, n - 1, prev);
				prev = q;
				llmcap_results_free(&res);
			}
		}
}

/* The busy fraction does not fall as the rate rises (same seed), with constant and
 * load-dependent step times, up to overload. */
static void higher_rate_never_lowers_utilisation(void **state)
{
	(void)state;
	static const char *const models[] = {
		"pools.p.linear={per_step: 8ms, per_token_us: 20, per_context_token_ns: 2}",
		"pools.p.linear={per_step: 10ms, per_token_us: 0, per_context_token_ns: 0}",
		"pools.p={perf_model: roofline}",
	};
	for (int seed = 1; seed <= (N_SEEDS < 4 ? N_SEEDS : 4); seed++)
		for (size_t m = 0; m < 3; m++) {
			double prev = 0;
			for (int rate = 1; rate <= 32; rate *= 2) {
				char s1[64], s2[64];
				snprintf(s1, sizeof s1, "seed=%d", seed);
				snprintf(s2, sizeof s2, "workload.rate=%d/s", rate);
				const char *sets[] = {s1, s2, models[m]};
				struct llmcap_results res;
				run_simple("horizon=4min", sets, 3, &res);
				double busy = (double)res.replicas[0].busy / (double)res.horizon;
				if (!(busy >= prev))
					fail_msg("seed %d model %zu: busy %.6g at %d/s, %.6g at %d/s", seed, m,
						 busy, rate, prev, rate / 2);
				prev = busy;
				llmcap_results_free(&res);
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_scenarios_keep_every_property),
		cmocka_unit_test(jsq_more_replicas_never_queue_longer),
		cmocka_unit_test(higher_rate_never_lowers_utilisation),
	};
	if (getenv("LLMCAP_TEST_FILTER"))
		cmocka_set_test_filter(getenv("LLMCAP_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, NULL);
}

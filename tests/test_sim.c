/* End-to-end simulations: conservation, determinism, and the engine's step arithmetic
 * checked against the performance model by hand. */
#include "test_records.h"

#include "llmcap/report.h"
#include "llmcap/sim.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static void run(struct llmcap_scenario *sc, const char *const *sets, size_t n,
		struct llmcap_results *res)
{
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(sc, NULL, sets, n, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	if (llmcap_simulate(sc, &cat, NULL, res, &err) != 0)
		fail_msg("%s", err.msg);
}

/* Every request that arrived ends exactly once, and KV use never exceeds capacity. */
static void check_conservation(const struct llmcap_results *res)
{
	for (size_t c = 0; c < res->n_classes; c++) {
		const struct llmcap_class_stats *cs = &res->classes[c];
		assert_int_equal(cs->arrived, cs->completed + cs->rejected + cs->spilled + cs->unfinished);
		assert_int_equal(cs->ttft.count, (uint64_t)cs->completed);
		assert_int_equal(cs->e2e.count, (uint64_t)cs->completed);
	}
	for (size_t p = 0; p < res->n_pools; p++)
		for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
			const struct llmcap_replica_stats *r = &res->replicas[res->pools[p].first_replica + i];
			assert_true(r->kv_peak <= res->pools[p].plan.num_blocks);
			assert_true(r->kv_block_time >= 0);
			assert_true(r->busy >= 0 && r->busy <= res->horizon);
		}
}

/* Every router, preemption mode and spill setting on an overloaded reference server with a
 * small KV cache: every request ends exactly once, and two runs give the same digest. */
static void conservation_every_policy(void **state)
{
	(void)state;
	static const char *const routers[] = {"round-robin", "random", "least-outstanding", "jsq",
					      "least-kv", "power-of-two", "prefix-affinity"};
	static const char *const modes[] = {"recompute", "swap"};
	for (size_t ro = 0; ro < sizeof routers / sizeof routers[0]; ro++)
		for (size_t mo = 0; mo < 2; mo++)
			for (int spill = 0; spill < 2; spill++) {
				char r1[64], r2[64], m1[64], m2[64];
				snprintf(r1, sizeof r1, "pools.utility.router=%s", routers[ro]);
				snprintf(r2, sizeof r2, "pools.reasoning.router=%s", routers[ro]);
				snprintf(m1, sizeof m1, "pools.utility.preemption_mode=%s", modes[mo]);
				snprintf(m2, sizeof m2, "pools.reasoning.preemption_mode=%s", modes[mo]);
				const char *sets[] = {
					r1, r2, m1, m2, "horizon=15min", "workload.rate=400000/day",
					"workload.diurnal.shape=none",
					"pools.utility.num_gpu_blocks_override=200",
					"pools.reasoning.replicas=1",
					"pools.utility.enable_prefix_caching=true",
					"workload.classes.utility.shared_prefix_tokens=300",
					"workload.classes.utility.prefix_groups=3",
					spill ? "pools.reasoning.spill.waiting_above=30" : "seed=42",
					spill ? "workload.classes.utility.max_queue_time=2s" : "seed=42",
					spill ? "workload.classes.utility.when_limited=spill" : "seed=42",
					"pools.utility.swap_space=0.05GiB",
				};
				size_t n = sizeof sets / sizeof sets[0];
				struct llmcap_scenario sc;
				struct llmcap_results a, b;
				run(&sc, sets, n, &a);
				for (size_t c = 0; c < a.n_classes; c++) {
					const struct llmcap_class_stats *cs = &a.classes[c];
					assert_int_equal(cs->arrived, cs->completed + cs->rejected + cs->spilled + cs->unfinished);
					int64_t by = 0;
					for (int st = 0; st < LLMCAP_REQ_N_STATUS; st++)
						by += cs->by_status[st];
					assert_int_equal(by, cs->arrived);
				}
				/* tokens: what replicas emitted is what requests received */
				double emitted = 0, received = 0;
				for (size_t i = 0; i < a.n_replicas; i++)
					emitted += a.replicas[i].output_tokens;
				for (size_t c = 0; c < a.n_classes; c++)
					received += a.classes[c].completed_output_tokens +
						    a.classes[c].unfinished_output_tokens;
				assert_rel(emitted, received, 0);
				if (spill)
					assert_true(a.classes[0].spilled + a.classes[1].spilled > 0);
				if (mo == 1)
					assert_true(a.replicas[0].swaps_out + a.replicas[1].swaps_out +
							    a.replicas[2].swaps_out > 0);
				run(&sc, sets, n, &b);
				assert_int_equal(a.digest, b.digest);
				llmcap_results_free(&a);
				llmcap_results_free(&b);
			}
}

/* Far above capacity, the fleet turns arrivals away at max_in_flight: memory stays bounded,
 * every request still ends once, and the summary says the fleet is overloaded. */
static void overload_is_bounded_and_said(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_results res;
	const char *sets[] = {"workload.rate=200/s", "horizon=10min", "workload.diurnal.shape=none",
			      "max_in_flight=3000"};
	run(&sc, sets, 4, &res);
	check_conservation(&res);
	assert_true(res.overload_rejected > 0);
	int64_t unfinished = res.classes[0].unfinished + res.classes[1].unfinished;
	assert_true(unfinished <= 3000);
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	struct llmcap_summary sum;
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	llmcap_report(&res, &sum, f);
	fclose(f);
	assert_non_null(strstr(text, "OVERLOADED: the fleet does not keep up"));
	assert_non_null(strstr(text, "arrivals were turned away at max_in_flight"));
	free(text);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
}

static void conservation_reference_day(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_results res;
	run(&sc, NULL, 0, &res);
	check_conservation(&res);
	int64_t arrived = res.classes[0].arrived + res.classes[1].arrived;
	/* 50,000/day: a Poisson count, within 5 standard deviations */
	assert_true(fabs((double)arrived - 50000) < 5 * sqrt(50000));
	assert_true(res.classes[0].completed > 0 && res.classes[1].completed > 0);
	llmcap_results_free(&res);
}

/* The busiest hour's p99 TTFT and TPOT (the summary's, from latencies tagged with their
 * request's arrival hour) are those of the completed requests that arrived in that hour, taken
 * from the per-request records: the reference scenario over two days, both classes (the
 * reasoning pool's requests complete hours after they arrive, out of arrival order). */
struct hour_recs {
	struct llmcap_request_record *r;
	size_t n, cap;
};

static int keep_rec(void *user, const struct llmcap_request_record *r)
{
	struct hour_recs *h = user;
	test_append_record(&h->r, &h->n, &h->cap, r);
	return 0;
}

static void busiest_hour_from_the_records(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_results res;
	struct llmcap_error err = {0};
	const char *sets[] = {"horizon=2d"};
	if (llmcap_scenario_load(&sc, NULL, sets, 1, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	struct hour_recs h = {0};
	struct llmcap_sink sink = {.user = &h, .request = keep_rec};
	if (llmcap_simulate(&sc, &cat, &sink, &res, &err) != 0)
		fail_msg("%s", err.msg);
	struct llmcap_summary sum;
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	const int64_t hour = sum.peak.busiest_hour;
	assert_true(hour >= 0);
	for (size_t c = 0; c < res.n_classes; c++) {
		struct llmcap_quantiles ttft, tpot;
		assert_true(llmcap_quantiles_init(&ttft, false, 0));
		assert_true(llmcap_quantiles_init(&tpot, false, 0));
		for (size_t i = 0; i < h.n; i++) {
			const struct llmcap_request_record *r = &h.r[i];
			const int64_t ns = llround(r->arrival * 1e9);
			if (r->cls != (int32_t)c || r->status != LLMCAP_REQ_COMPLETED ||
			    ns / LLMCAP_HOUR != hour)
				continue;
			assert_true(llmcap_quantiles_add(&ttft, r->ttft));
			if (r->output_tokens > 1)
				assert_true(llmcap_quantiles_add(&tpot, r->tpot));
		}
		assert_true(ttft.n > 100);
		const double want_ttft = llmcap_quantiles_get(&ttft, 0.99),
			     want_tpot = llmcap_quantiles_get(&tpot, 0.99);
		assert_memory_equal(&sum.peak.ttft_p99[c], &want_ttft, sizeof want_ttft);
		assert_memory_equal(&sum.peak.tpot_p99[c], &want_tpot, sizeof want_tpot);
		llmcap_quantiles_free(&ttft);
		llmcap_quantiles_free(&tpot);
	}
	llmcap_summary_free(&sum);
	free(h.r);
	llmcap_results_free(&res);
}

static void conservation_overloaded_and_rejecting(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_results res;
	/* ten times the traffic for two hours: queues cannot drain */
	const char *over[] = {"workload.rate=500000/day", "horizon=2h", "workload.diurnal.shape=none"};
	run(&sc, over, 3, &res);
	check_conservation(&res);
	assert_true(res.classes[1].unfinished > 0);
	llmcap_results_free(&res);
	/* a max_model_len below the longest requests: rejections */
	const char *reject[] = {"pools.reasoning.max_model_len=6000", "horizon=3h"};
	run(&sc, reject, 2, &res);
	check_conservation(&res);
	assert_true(res.classes[1].rejected > 0);
	assert_int_equal(res.classes[0].rejected, 0);
	llmcap_results_free(&res);
}

static void preemption_keeps_every_token(void **state)
{
	(void)state;
	struct llmcap_results res;
	/* A tiny KV cache (64 blocks = 1024 tokens) forces preemptions; after the last arrival the
	 * queue drains, so every request completes and every output token is emitted once. */
	const char *sets[] = {
		"workload.classes={one: {pool: p, prompt: {dist: uniform, min: 100, max: 600}, "
		"output: {dist: uniform, min: 50, max: 400}}}",
		"pools={p: {model: llama-3.1-8b, num_gpu_blocks_override: 64, max_model_len: 1024}}",
		"hardware.gpus_per_server=8", "workload.rate=3/s", "workload.diurnal.shape=none",
		"horizon=30min", "cost.api.prices={one: {input: 1, output: 1}}",
	};
	struct llmcap_error err = {0};
	struct llmcap_scenario only;
	llmcap_scenario_defaults(&only);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(llmcap_scenario_apply_override(&only, sets[i], &err), 0);
	assert_int_equal(llmcap_scenario_check(&only, &cat, &err), 0);
	assert_int_equal(llmcap_simulate(&only, &cat, NULL, &res, &err), 0);
	check_conservation(&res);
	const struct llmcap_replica_stats *r = &res.replicas[0];
	assert_true(r->preemptions > 0);
	assert_true(res.classes[0].preemptions > 0);
	/* Recomputation re-runs prefill but emits no token twice: the tokens a replica emitted are
	 * exactly the outputs of completed requests plus what unfinished ones had generated. */
	assert_true(res.classes[0].completed > 100);
	assert_rel(r->output_tokens,
		   res.classes[0].completed_output_tokens + res.classes[0].unfinished_output_tokens, 0);
	/* and recomputation shows up as prefill work beyond the prompts */
	assert_true(r->prefill_tokens > 0);
	assert_true(r->kv_peak <= 64);
	llmcap_results_free(&res);
}

static char *report_text(struct llmcap_results *res)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	struct llmcap_summary sum;
	assert_int_equal(llmcap_summarize(res, &sum), 0);
	llmcap_report(res, &sum, f);
	llmcap_summary_free(&sum);
	fclose(f);
	return text;
}

static void same_seed_same_bytes_other_seed_other_results(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_results a, b, c;
	const char *sets[] = {"horizon=8h"};
	run(&sc, sets, 1, &a);
	char *ta = report_text(&a);
	run(&sc, sets, 1, &b);
	char *tb = report_text(&b);
	assert_int_equal(a.digest, b.digest);
	assert_string_equal(ta, tb);
	const char *other[] = {"horizon=8h", "seed=7"};
	run(&sc, other, 2, &c);
	char *tc = report_text(&c);
	assert_true(a.digest != c.digest);
	assert_true(strcmp(ta, tc) != 0);
	free(ta);
	free(tb);
	free(tc);
	llmcap_results_free(&a);
	llmcap_results_free(&b);
	llmcap_results_free(&c);
}

/* A request alone on a replica: its TTFT is exactly the prefill steps and its E2E adds one
 * decode step per further token, each step timed by the performance model. The least TTFT and
 * E2E over many well-spaced requests are those of a request that ran alone. */
static void lone_request_timing(void **state, int64_t prompt, int64_t output)
{
	(void)state;
	char classes[256];
	snprintf(classes, sizeof classes,
		 "workload.classes={solo: {pool: p, prompt: {dist: fixed, value: %lld}, "
		 "output: {dist: fixed, value: %lld}}}",
		 (long long)prompt, (long long)output);
	const char *sets[] = {classes, "pools={p: {model: llama-3.1-8b}}", "workload.rate=20/hour",
			      "workload.diurnal.shape=none", "horizon=6h",
			      "cost.api.prices={solo: {input: 1, output: 1}}"};
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(&sc);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(llmcap_scenario_apply_override(&sc, sets[i], &err), 0);
	assert_int_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
	struct llmcap_results res;
	assert_int_equal(llmcap_simulate(&sc, &cat, NULL, &res, &err), 0);
	assert_true(res.classes[0].completed > 50);

	struct llmcap_perf pf;
	assert_int_equal(llmcap_perf_init(&pf, llmcap_catalog_model(&cat, "llama-3.1-8b"),
					  llmcap_catalog_gpu(&cat, "h100-sxm-80gb"),
					  llmcap_catalog_engine(&cat, "vllm"), &sc.pools[0], &err), 0);
	/* prefill in chunks of max_num_batched_tokens */
	llmcap_time ttft = 0;
	int64_t done = 0, budget = sc.pools[0].max_num_batched_tokens;
	while (done < prompt) {
		int64_t n = prompt - done < budget ? prompt - done : budget;
		struct llmcap_step_shape s = {.tokens = n,
					      .attn_pairs = (double)n * (double)done + (double)n * (double)(n + 1) / 2,
					      .kv_read_tokens = (double)(done + n),
					      .samples = done + n == prompt};
		ttft += llmcap_perf_step_time(&pf, &s, NULL);
		done += n;
	}
	llmcap_time e2e = ttft;
	for (int64_t k = 1; k < output; k++) {
		double ctx = (double)(prompt + k - 1);
		struct llmcap_step_shape s = {.tokens = 1, .attn_pairs = ctx + 1, .kv_read_tokens = ctx + 1,
					      .samples = 1};
		e2e += llmcap_perf_step_time(&pf, &s, NULL);
	}
	assert_rel(llmcap_quantiles_get(&res.classes[0].ttft, 0.0), (double)ttft * 1e-9, 1e-12);
	assert_rel(llmcap_quantiles_get(&res.classes[0].e2e, 0.0), (double)e2e * 1e-9, 1e-12);
	assert_rel(llmcap_quantiles_get(&res.classes[0].queue, 0.0), 0, 0);
	if (output > 1)
		assert_rel(llmcap_quantiles_get(&res.classes[0].tpot, 0.0),
			   (double)(e2e - ttft) * 1e-9 / (double)(output - 1), 1e-9);
	llmcap_results_free(&res);
}

static void lone_request_short_prompt(void **state)
{
	lone_request_timing(state, 1000, 50);
}

static void lone_request_chunked_prefill(void **state)
{
	/* 20,000 tokens: chunks of 8192, 8192 and 3616 */
	lone_request_timing(state, 20000, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(conservation_reference_day),
		cmocka_unit_test(busiest_hour_from_the_records),
		cmocka_unit_test(conservation_overloaded_and_rejecting),
		cmocka_unit_test(conservation_every_policy),
		cmocka_unit_test(overload_is_bounded_and_said),
		cmocka_unit_test(preemption_keeps_every_token),
		cmocka_unit_test(same_seed_same_bytes_other_seed_other_results),
		cmocka_unit_test(lone_request_short_prompt),
		cmocka_unit_test(lone_request_chunked_prefill),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

/* The serving engine against hand-computed schedules.
 *
 * The linear performance model with only a per-step term makes every step take exactly 10 ms,
 * whatever it holds, so each schedule below can be worked out by hand. Arrivals are scripted. */
#include "test_util.h"

#include "llmcap/sim.h"

#define STEP (10 * LLMCAP_MS)

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* Records of one run, by request id. */
struct capture {
	struct llmcap_request_record rec[64];
	size_t n;
};

static int on_request(void *user, const struct llmcap_request_record *r)
{
	struct capture *c = user;
	assert_true(r->id < 64);
	c->rec[r->id] = *r;
	c->n++;
	return 0;
}

/* One class "c" (and "hi" when two_classes) served by pool "p" of 8B replicas on H100s with
 * 10 ms steps, then the given overrides. */
static void scenario(struct llmcap_scenario *sc, const char *const *sets, size_t n, bool two_classes)
{
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	const char *base[] = {
		two_classes ? "workload.classes={c: {pool: p, share: 0.5}, hi: {pool: p, share: 0.5}}"
			    : "workload.classes={c: {pool: p}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms}}}",
		"hardware={gpus_per_server: 8}",
		two_classes ? "cost.api.prices={c: {input: 1, output: 1}, hi: {input: 1, output: 1}}"
			    : "cost.api.prices={c: {input: 1, output: 1}}",
		"horizon=1h",
	};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		assert_int_equal(llmcap_scenario_apply_override(sc, base[i], &err), 0);
	for (size_t i = 0; i < n; i++)
		if (llmcap_scenario_apply_override(sc, sets[i], &err) != 0)
			fail_msg("%s", err.msg);
	if (llmcap_scenario_check(sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

static void run(const struct llmcap_scenario *sc, const struct llmcap_scripted_request *reqs,
		size_t n, struct capture *cap, struct llmcap_results *res)
{
	struct llmcap_error err = {0};
	memset(cap, 0, sizeof *cap);
	struct llmcap_sink sink = {.user = cap, .request = on_request};
	if (llmcap_simulate_script(sc, &cat, &sink, reqs, n, res, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(cap->n, n);
}

#define MS(x) ((double)(x) * 1e-3)

static void token_budget_chunks_a_long_prompt(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.max_num_batched_tokens=100"};
	scenario(&sc, sets, 1, false);
	/* 250 prompt tokens in chunks of 100, 100, 50: the third step samples the first token */
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 250, .output = 3}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 1, &c, &res);
	assert_rel(c.rec[0].ttft, MS(30), 1e-12);
	assert_rel(c.rec[0].e2e, MS(50), 1e-12);
	assert_rel(c.rec[0].tpot, MS(10), 1e-12);
	assert_rel(res.replicas[0].prefill_tokens, 250, 0);
	llmcap_results_free(&res);
}

static void budget_is_shared_running_first(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.max_num_batched_tokens=100"};
	scenario(&sc, sets, 1, false);
	/* step 1: A 80 + B 20 (chunk); step 2: A decodes, B's last 60; step 3: B decodes */
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 80, .output = 2},
					      {.time = 0, .prompt = 80, .output = 2}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 2, &c, &res);
	assert_rel(c.rec[0].ttft, MS(10), 1e-12);
	assert_rel(c.rec[0].e2e, MS(20), 1e-12);
	assert_rel(c.rec[1].ttft, MS(20), 1e-12);
	assert_rel(c.rec[1].e2e, MS(30), 1e-12);
	assert_rel(c.rec[1].queue, 0, 0); /* its first chunk ran in step 1 */
	llmcap_results_free(&res);
}

static void sequence_cap_and_fcfs_order(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.max_num_seqs=1"};
	scenario(&sc, sets, 1, false);
	/* one at a time, in arrival order: each takes 3 steps (prefill + 2 decodes) */
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 10, .output = 3},
					      {.time = 1 * LLMCAP_MS, .prompt = 10, .output = 3},
					      {.time = 2 * LLMCAP_MS, .prompt = 10, .output = 3}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 3, &c, &res);
	for (int i = 0; i < 3; i++) {
		double start = 30.0 * i, arrival = 1.0 * i;
		assert_rel(c.rec[i].queue, MS(start - arrival), 1e-9);
		assert_rel(c.rec[i].ttft, MS(start + 10 - arrival), 1e-9);
		assert_rel(c.rec[i].e2e, MS(start + 30 - arrival), 1e-9);
	}
	assert_int_equal(res.replicas[0].batch_peak, 1);
	llmcap_results_free(&res);
}

static void chunked_prefill_off_waits_for_room(void **state)
{
	(void)state;
	/* budget 200: A takes 150; B's 100 do not fit the remaining 50. Chunked, B starts in
	 * step 1; unchunked it waits for step 2. */
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 150, .output = 2},
					      {.time = 0, .prompt = 100, .output = 2}};
	struct capture c;
	struct llmcap_results res;
	struct llmcap_scenario sc;
	const char *on[] = {"pools.p.max_num_batched_tokens=200", "pools.p.max_model_len=200"};
	scenario(&sc, on, 2, false);
	run(&sc, q, 2, &c, &res);
	assert_rel(c.rec[1].queue, 0, 0);
	assert_rel(c.rec[1].ttft, MS(20), 1e-12);
	llmcap_results_free(&res);
	const char *off[] = {"pools.p.max_num_batched_tokens=200", "pools.p.max_model_len=200",
			     "pools.p.enable_chunked_prefill=false"};
	scenario(&sc, off, 3, false);
	run(&sc, q, 2, &c, &res);
	assert_rel(c.rec[1].queue, MS(10), 1e-12);
	assert_rel(c.rec[1].ttft, MS(20), 1e-12);
	llmcap_results_free(&res);
}

/* 4 blocks of 16 tokens. A (30 + 30) and B (20 + 20) start together with 2 blocks each. At
 * step 4 A needs a third block: B, admitted last, is preempted (recompute) and waits until A
 * finishes at step 30; it then recomputes its 20 + 3 tokens and emits tokens 4..20 in steps
 * 31..47. */
static void preemption_victim_and_readmission(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.num_gpu_blocks_override=4", "pools.p.max_model_len=64"};
	scenario(&sc, sets, 2, false);
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 30, .output = 30},
					      {.time = 0, .prompt = 20, .output = 20}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 2, &c, &res);
	assert_int_equal(c.rec[0].preemptions, 0);
	assert_rel(c.rec[0].e2e, MS(300), 1e-12);
	assert_int_equal(c.rec[1].preemptions, 1);
	assert_rel(c.rec[1].ttft, MS(10), 1e-12);
	assert_rel(c.rec[1].e2e, MS(470), 1e-12);
	assert_rel(c.rec[1].max_gap, MS(280), 1e-12);
	assert_rel(res.replicas[0].prefill_tokens, 30 + 20 + 23, 0);
	assert_int_equal(res.replicas[0].kv_peak, 4);
	llmcap_results_free(&res);

	/* swap mode: B's 2 blocks go to CPU memory and come back; nothing is recomputed, and the
	 * two transfers add their time to the steps that made them */
	const char *swap[] = {"pools.p.num_gpu_blocks_override=4", "pools.p.max_model_len=64",
			      "pools.p.preemption_mode=swap", "pools.p.swap_bandwidth=1e9"};
	scenario(&sc, swap, 4, false);
	run(&sc, q, 2, &c, &res);
	double xfer = 2 * 16 * 131072.0 / 1e9; /* 2 blocks of 16 tokens x 128 KiB each */
	assert_int_equal(c.rec[1].preemptions, 1);
	assert_int_equal(res.replicas[0].swaps_out, 1);
	assert_int_equal(res.replicas[0].swaps_in, 1);
	assert_rel(res.replicas[0].prefill_tokens, 30 + 20, 0);
	assert_rel(c.rec[0].e2e, MS(300) + xfer, 1e-9);
	/* B resumes with its 22 computed tokens, 17 more decode steps, after the swap-in */
	assert_rel(c.rec[1].e2e, MS(300) + xfer + MS(170) + xfer, 1e-9);
	llmcap_results_free(&res);
}

static void longer_than_max_model_len_is_rejected(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.max_model_len=64"};
	scenario(&sc, sets, 1, false);
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 50, .output = 14},
					      {.time = 0, .prompt = 50, .output = 15}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 2, &c, &res);
	assert_int_equal(c.rec[0].status, LLMCAP_REQ_COMPLETED);
	assert_int_equal(c.rec[1].status, LLMCAP_REQ_REJECTED_MAX_MODEL_LEN);
	assert_int_equal(c.rec[1].replica, -1);
	assert_int_equal(res.classes[0].rejected, 1);
	llmcap_results_free(&res);
}

static void prefix_hit_skips_prefill(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"workload.classes.c.shared_prefix_tokens=40",
			      "pools.p.enable_prefix_caching=true"};
	scenario(&sc, sets, 2, false);
	/* 40 shared tokens = 2 full blocks of 16 (the last 8 are not a full block). The second
	 * request finds both blocks cached and prefills 50 - 32 = 18 tokens; the third uses
	 * another prefix group and finds nothing. */
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 50, .output = 2},
					      {.time = 100 * LLMCAP_MS, .prompt = 50, .output = 2},
					      {.time = 200 * LLMCAP_MS, .prompt = 50, .output = 2, .prefix_group = 1}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 3, &c, &res);
	assert_int_equal(c.rec[0].prefix_hit_tokens, 0);
	assert_int_equal(c.rec[1].prefix_hit_tokens, 32);
	assert_int_equal(c.rec[2].prefix_hit_tokens, 0);
	assert_rel(res.replicas[0].prefill_tokens, 50 + 18 + 50, 0);
	assert_rel(res.replicas[0].prefix_hit_tokens, 32, 0);
	assert_rel(res.replicas[0].prefix_query_tokens, 3 * 32, 0);
	llmcap_results_free(&res);

	/* without prefix caching nothing is reused */
	const char *off[] = {"workload.classes.c.shared_prefix_tokens=40"};
	scenario(&sc, off, 1, false);
	run(&sc, q, 3, &c, &res);
	assert_rel(res.replicas[0].prefill_tokens, 150, 0);
	llmcap_results_free(&res);
}

static void priority_goes_first(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.max_num_seqs=1", "pools.p.scheduling_policy=priority",
			      "workload.classes.c.priority=1", "workload.classes.hi.priority=0"};
	scenario(&sc, sets, 4, true);
	/* c arrives first and runs; c2 then hi wait; hi overtakes c2 */
	struct llmcap_scripted_request q[] = {{.time = 0, .cls = 0, .prompt = 10, .output = 3},
					      {.time = 1 * LLMCAP_MS, .cls = 0, .prompt = 10, .output = 3},
					      {.time = 2 * LLMCAP_MS, .cls = 1, .prompt = 10, .output = 3}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 3, &c, &res);
	assert_rel(c.rec[2].queue, MS(30 - 2), 1e-9);
	assert_rel(c.rec[1].queue, MS(60 - 1), 1e-9);
	llmcap_results_free(&res);
	/* under FCFS the order is arrival order */
	const char *fcfs[] = {"pools.p.max_num_seqs=1", "workload.classes.c.priority=1"};
	scenario(&sc, fcfs, 2, true);
	run(&sc, q, 3, &c, &res);
	assert_rel(c.rec[1].queue, MS(30 - 1), 1e-9);
	assert_rel(c.rec[2].queue, MS(60 - 2), 1e-9);
	llmcap_results_free(&res);
}

static void admission_limits_reject_or_spill(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.max_num_seqs=1", "workload.classes.c.max_waiting=1",
			      "workload.classes.c.max_queue_time=25ms"};
	scenario(&sc, sets, 3, false);
	/* A runs 0-30 ms; B waits; C finds 1 waiting: rejected (queue full); B, unscheduled
	 * 25 ms after it came, times out; D arrives at 26 ms to an empty queue, starts at 30 ms */
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 10, .output = 3},
					      {.time = LLMCAP_MS / 2, .prompt = 10, .output = 3},
					      {.time = 1 * LLMCAP_MS, .prompt = 10, .output = 3},
					      {.time = 26 * LLMCAP_MS, .prompt = 10, .output = 3}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 4, &c, &res);
	assert_int_equal(c.rec[0].status, LLMCAP_REQ_COMPLETED);
	assert_int_equal(c.rec[1].status, LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT);
	assert_int_equal(c.rec[2].status, LLMCAP_REQ_REJECTED_QUEUE_FULL);
	assert_int_equal(c.rec[3].status, LLMCAP_REQ_COMPLETED);
	assert_rel(c.rec[3].queue, MS(4), 1e-9);
	assert_int_equal(res.classes[0].rejected, 2);
	llmcap_results_free(&res);

	/* the same limits spilling to the API: latency from the API model, tokens billed */
	const char *spill[] = {"pools.p.max_num_seqs=1", "workload.classes.c.max_waiting=1",
			       "workload.classes.c.max_queue_time=25ms", "workload.classes.c.when_limited=spill",
			       "pools.p.spill.api_ttft_sigma=0", "pools.p.spill.api_ttft_median=700ms",
			       "pools.p.spill.api_tpot=20ms"};
	scenario(&sc, spill, 7, false);
	run(&sc, q, 4, &c, &res);
	assert_int_equal(c.rec[1].status, LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT);
	assert_int_equal(c.rec[2].status, LLMCAP_REQ_SPILLED_QUEUE_FULL);
	assert_rel(c.rec[1].ttft, MS(25 + 700), 1e-9); /* from its arrival: 25 ms of queue */
	assert_rel(c.rec[2].ttft, MS(700), 1e-9);
	assert_rel(c.rec[2].e2e, MS(700 + 2 * 20), 1e-9);
	assert_int_equal(res.classes[0].spilled, 2);
	assert_rel(res.classes[0].spilled_prompt_tokens, 20, 0);
	assert_rel(res.classes[0].spilled_output_tokens, 6, 0);
	llmcap_results_free(&res);

	/* pool-level spill on queue length at arrival */
	const char *pool_spill[] = {"pools.p.max_num_seqs=1", "pools.p.spill.waiting_above=1"};
	scenario(&sc, pool_spill, 2, false);
	run(&sc, q, 4, &c, &res);
	assert_int_equal(c.rec[2].status, LLMCAP_REQ_SPILLED_POOL_WAITING);
	llmcap_results_free(&res);
}

static int32_t replicas_of(const char *router, const struct llmcap_scripted_request *q, size_t n,
			   int32_t *out)
{
	struct llmcap_scenario sc;
	char set[64];
	snprintf(set, sizeof set, "pools.p.router=%s", router);
	const char *sets[] = {set, "pools.p.replicas=2", "pools.p.max_num_seqs=1",
			      "workload.classes.c.shared_prefix_tokens=32"};
	scenario(&sc, sets, 4, false);
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, n, &c, &res);
	for (size_t i = 0; i < n; i++)
		out[i] = c.rec[i].replica;
	llmcap_results_free(&res);
	return 0;
}

static void each_router_choice(void **state)
{
	(void)state;
	/* A (100) and B (10) at 0; C (500) at 1 ms; D (10) at 2 ms; E (10) at 3 ms */
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 100, .output = 50},
					      {.time = 0, .prompt = 10, .output = 50},
					      {.time = 1 * LLMCAP_MS, .prompt = 500, .output = 50},
					      {.time = 2 * LLMCAP_MS, .prompt = 10, .output = 50},
					      {.time = 3 * LLMCAP_MS, .prompt = 10, .output = 50}};
	int32_t r[5];
	replicas_of("round-robin", q, 5, r);
	int32_t rr[5] = {0, 1, 0, 1, 0};
	assert_memory_equal(r, rr, sizeof r);
	/* outstanding: A->0, B->1 (0 busy), C tie -> 0 (round-robin on ties), D: 0 has 2, 1 has 1
	 * -> 1; E: 2 and 2 -> next after 1 -> 0 */
	replicas_of("least-outstanding", q, 5, r);
	int32_t lo[5] = {0, 1, 0, 1, 0};
	assert_memory_equal(r, lo, sizeof r);
	/* waiting prompt tokens: A, B start at once (nothing waits); C ties -> 0 and waits with
	 * 500; D -> 1 (0 tokens); E: 500 vs 10 -> 1 */
	replicas_of("jsq", q, 5, r);
	int32_t jsq[5] = {0, 1, 0, 1, 1};
	assert_memory_equal(r, jsq, sizeof r);
	/* KV use: A holds 7 blocks on 0, B 1 block on 1: C -> 1 (fewer blocks), D -> 1? no: B
	 * and C on 1 hold 1 block (C waits) vs 7 on 0 -> 1; E -> 1 */
	replicas_of("least-kv", q, 5, r);
	int32_t kv[5] = {0, 1, 1, 1, 1};
	assert_memory_equal(r, kv, sizeof r);
	/* power of two with two replicas compares both: the less loaded wins */
	replicas_of("power-of-two", q, 5, r);
	assert_true(r[0] != r[1]);
	/* prefix affinity: requests with the same shared prefix (two groups here) stay on the
	 * replica that has it unless it has 4+ more outstanding; least-outstanding alternates */
	struct llmcap_scripted_request g[5];
	for (int i = 0; i < 5; i++)
		g[i] = (struct llmcap_scripted_request){.time = i * LLMCAP_MS, .prompt = 100, .output = 50,
							.prefix_group = i < 3 ? 0 : 1};
	replicas_of("prefix-affinity", g, 5, r);
	int32_t pa[5] = {0, 0, 0, 1, 1};
	assert_memory_equal(r, pa, sizeof r);
	replicas_of("least-outstanding", g, 5, r);
	int32_t pb[5] = {0, 1, 0, 1, 0};
	assert_memory_equal(r, pb, sizeof r);
}

/* TensorRT-LLM's guaranteed-no-evict admission on the preemption case above: A (30 + 30
 * tokens) commits all 4 blocks, so B (20 + 20, 3 blocks) waits for A to end at 300 ms instead
 * of being admitted and preempted; it then runs alone: first token at 310 ms, last at 500. */
static void no_evict_admission_waits_instead_of_preempting(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	/* without the profile's API-server latency, so that the steps alone set the times */
	const char *sets[] = {"pools.p.num_gpu_blocks_override=4", "pools.p.max_model_len=64",
			      "pools.p.engine=trtllm", "pools.p.profile.frontend_latency=0s"};
	scenario(&sc, sets, 4, false);
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 30, .output = 30},
					      {.time = 0, .prompt = 20, .output = 20}};
	struct capture c;
	struct llmcap_results res;
	run(&sc, q, 2, &c, &res);
	assert_int_equal(c.rec[0].preemptions + c.rec[1].preemptions, 0);
	assert_rel(c.rec[0].e2e, MS(300), 1e-12);
	assert_rel(c.rec[1].ttft, MS(310), 1e-12);
	assert_rel(c.rec[1].e2e, MS(500), 1e-12);
	assert_int_equal(res.replicas[0].preemptions, 0);
	llmcap_results_free(&res);
	/* the same pool with max-utilization admits both and preempts B, as vLLM does */
	const char *mu[] = {"pools.p.num_gpu_blocks_override=4", "pools.p.max_model_len=64",
			    "pools.p.engine=trtllm", "pools.p.profile.admission=max-utilization",
			    "pools.p.profile.frontend_latency=0s"};
	scenario(&sc, mu, 5, false);
	run(&sc, q, 2, &c, &res);
	assert_int_equal(c.rec[1].preemptions, 1);
	assert_rel(c.rec[1].ttft, MS(10), 1e-12);
	llmcap_results_free(&res);
}

/* Async scheduling (vllm, V1): B arrives at 15 ms, during A's second step; the step after it
 * was planned when that step began (10 ms), so B joins the step that starts at 30 ms (first
 * token at 40 ms, TTFT 25 ms) where vllm-0.5 takes it at 20 ms (TTFT 15 ms). Multi-step
 * scheduling (vllm-0.6, 10 steps): new requests join every 10 steps, at 100 ms (TTFT 95 ms). */
static void async_and_multi_step_scheduling_hold_arrivals(void **state)
{
	(void)state;
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 16, .output = 30},
					      {.time = 15 * LLMCAP_MS, .prompt = 16, .output = 2}};
	const char *engines[] = {"vllm-0.5", "vllm", "vllm-0.6"};
	const double ttft[] = {MS(15), MS(25), MS(95)};
	for (size_t e = 0; e < 3; e++)
		for (int exact = 0; exact < 2; exact++) {
			struct llmcap_scenario sc;
			char set[64];
			snprintf(set, sizeof set, "pools.p.engine=%s", engines[e]);
			const char *sets[] = {set, exact ? "engine_mode=exact" : "engine_mode=fast"};
			scenario(&sc, sets, 2, false);
			struct capture c;
			struct llmcap_results res;
			run(&sc, q, 2, &c, &res);
			assert_rel(c.rec[0].ttft, MS(10), 1e-12); /* an idle replica plans at once */
			assert_rel(c.rec[1].ttft, ttft[e], 1e-9);
			llmcap_results_free(&res);
		}
}

/* Separate prefill (SGLang, enable_mixed_chunk off): B (16 + 2 tokens) arrives at 15 ms during
 * A's second step (A: 16 + 5). Mixed (vllm-0.5), B's prompt joins A's decode at 20 ms: A's
 * tokens at 10, 20, 30, 40, 50 ms. Separate, the step at 20 ms is B's prompt alone and A's
 * decode waits: A's tokens at 10, 20, 40, 50, 60 ms; B's first token at 30 ms either way. */
static void separate_prefill_pauses_decodes(void **state)
{
	(void)state;
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 16, .output = 5},
					      {.time = 15 * LLMCAP_MS, .prompt = 16, .output = 2}};
	for (int sep = 0; sep < 2; sep++)
		for (int exact = 0; exact < 2; exact++) {
			struct llmcap_scenario sc;
			const char *sets[] = {"pools.p.engine=vllm-0.5",
					      sep ? "pools.p.profile.separate_prefill=true"
						  : "pools.p.profile.separate_prefill=false",
					      exact ? "engine_mode=exact" : "engine_mode=fast"};
			scenario(&sc, sets, 3, false);
			struct capture c;
			struct llmcap_results res;
			run(&sc, q, 2, &c, &res);
			assert_rel(c.rec[0].e2e, sep ? MS(60) : MS(50), 1e-12);
			assert_rel(c.rec[1].ttft, MS(15), 1e-12);
			assert_rel(c.rec[1].e2e, MS(25), 1e-12);
			assert_int_equal(res.replicas[0].steps, sep ? 6 : 5);
			llmcap_results_free(&res);
		}
}

/* The API server: frontend_time 5 ms (serial), frontend_latency 3 ms. A lone request reaches
 * the scheduler at 8 ms: TTFT = 8 ms + one 10 ms step. Two at once: the second waits for the
 * serial part (5 + 5 + 3: ready at 13 ms) and joins the step after A's first (18 ms): its
 * first token at 28 ms, its last at 38 ms. */
static void frontend_delays_requests_before_the_scheduler(void **state)
{
	(void)state;
	struct llmcap_scripted_request q[] = {{.time = 0, .prompt = 16, .output = 2},
					      {.time = 0, .prompt = 16, .output = 2}};
	for (int exact = 0; exact < 2; exact++) {
		struct llmcap_scenario sc;
		const char *sets[] = {"pools.p.engine=vllm-0.5", "pools.p.profile.frontend_time=5ms",
				      "pools.p.profile.frontend_latency=3ms",
				      exact ? "engine_mode=exact" : "engine_mode=fast"};
		scenario(&sc, sets, 4, false);
		struct capture c;
		struct llmcap_results res;
		run(&sc, q, 1, &c, &res);
		assert_rel(c.rec[0].ttft, MS(18), 1e-12);
		assert_rel(c.rec[0].e2e, MS(28), 1e-12);
		llmcap_results_free(&res);
		run(&sc, q, 2, &c, &res);
		assert_rel(c.rec[0].ttft, MS(18), 1e-12);
		assert_rel(c.rec[0].e2e, MS(28), 1e-12);
		assert_rel(c.rec[1].ttft, MS(28), 1e-12);
		assert_rel(c.rec[1].e2e, MS(38), 1e-12);
		assert_rel(res.replicas[0].busy, 3 * STEP, 1e-12); /* the API server holds no GPU */
		llmcap_results_free(&res);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_budget_chunks_a_long_prompt),
		cmocka_unit_test(budget_is_shared_running_first),
		cmocka_unit_test(sequence_cap_and_fcfs_order),
		cmocka_unit_test(chunked_prefill_off_waits_for_room),
		cmocka_unit_test(preemption_victim_and_readmission),
		cmocka_unit_test(longer_than_max_model_len_is_rejected),
		cmocka_unit_test(prefix_hit_skips_prefill),
		cmocka_unit_test(priority_goes_first),
		cmocka_unit_test(admission_limits_reject_or_spill),
		cmocka_unit_test(each_router_choice),
		cmocka_unit_test(no_evict_admission_waits_instead_of_preempting),
		cmocka_unit_test(async_and_multi_step_scheduling_hold_arrivals),
		cmocka_unit_test(separate_prefill_pauses_decodes),
		cmocka_unit_test(frontend_delays_requests_before_the_scheduler),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

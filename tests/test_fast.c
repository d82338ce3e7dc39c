/* The fast engine mode against the step-by-step reference (engine_mode: exact).
 *
 * Every observable result must be identical, bit for bit: each request's record in the order
 * requests end, each time-series row, every replica's and class's statistics, the digest and
 * the event count. The one exception is the work (FLOPs and bytes moved, and the utilisation
 * figures derived from them), which the fast mode sums per run in closed form: equal to a
 * relative 1e-12 (with the catalog's dense models the sums are exact and equal too). Scenarios cover the reference day and stressed servers (preemption by
 * recompute and swap, prefix caching, spill, admission limits and queue timeouts, priority
 * scheduling, every router, chunked prefill on and off), randomized over seeds, and step times
 * that tie across replicas (constant steps) to exercise the order of simultaneous events. */
#include "test_records.h"

#include "llmcap/report.h"
#include "llmcap/sim.h"

#include <unistd.h>

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* What a run streams: records in the order requests end, and time-series rows. */
struct capture {
	struct llmcap_request_record *rec;
	size_t n_rec, cap_rec;
	struct llmcap_sample_row *row;
	size_t n_row, cap_row;
};

static int on_request(void *user, const struct llmcap_request_record *r)
{
	struct capture *c = user;
	test_append_record(&c->rec, &c->n_rec, &c->cap_rec, r);
	return 0;
}

static int on_sample(void *user, const struct llmcap_sample_row *r)
{
	struct capture *c = user;
	if (c->n_row == c->cap_row) {
		c->cap_row = c->cap_row ? 2 * c->cap_row : 1024;
		c->row = realloc(c->row, c->cap_row * sizeof *c->row);
		assert_non_null(c->row);
	}
	c->row[c->n_row++] = *r;
	return 0;
}

static void capture_free(struct capture *c)
{
	free(c->rec);
	free(c->row);
	memset(c, 0, sizeof *c);
}

static void load(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(sc, NULL, sets, n, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

static void simulate(const struct llmcap_scenario *sc, llmcap_time interval,
		     struct capture *cap, struct llmcap_results *res)
{
	struct llmcap_error err = {0};
	memset(cap, 0, sizeof *cap);
	struct llmcap_sink sink = {.user = cap, .request = on_request, .sample = on_sample,
				   .sample_interval = interval};
	if (llmcap_simulate(sc, &cat, &sink, res, &err) != 0)
		fail_msg("%s", err.msg);
}

/* A scenario from defaults and overrides only (not the reference scenario). */
static void load_bare(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	for (size_t i = 0; i < n; i++)
		if (llmcap_scenario_apply_override(sc, sets[i], &err) != 0)
			fail_msg("%s", err.msg);
	if (llmcap_scenario_check(sc, &cat, &err) != 0)
		fail_msg("%s", err.msg);
}

/* Bitwise, so that NaN fields compare too and no rounding hides a difference. */
#define assert_same_bits(a, b) assert_memory_equal(&(a), &(b), sizeof(a))
#define SAME(a, b, f) (memcmp(&(a)->f, &(b)->f, sizeof((a)->f)) == 0)

/* Field by field: the struct has padding. */
static bool same_record(const struct llmcap_request_record *a, const struct llmcap_request_record *b)
{
	return SAME(a, b, id) && SAME(a, b, arrival) && SAME(a, b, cls) && SAME(a, b, pool) &&
	       SAME(a, b, replica) && SAME(a, b, status) && SAME(a, b, preemptions) &&
	       SAME(a, b, prompt_tokens) && SAME(a, b, output_tokens) &&
	       SAME(a, b, generated_tokens) && SAME(a, b, prefix_hit_tokens) && SAME(a, b, queue) &&
	       SAME(a, b, ttft) && SAME(a, b, tpot) && SAME(a, b, max_gap) && SAME(a, b, e2e);
}

static bool same_row(const struct llmcap_sample_row *a, const struct llmcap_sample_row *b)
{
	return SAME(a, b, time) && SAME(a, b, pool) && SAME(a, b, replica) && SAME(a, b, arrivals) &&
	       SAME(a, b, completions) && SAME(a, b, waiting) && SAME(a, b, running) &&
	       SAME(a, b, kv_occupancy) && SAME(a, b, busy) && SAME(a, b, input_tokens_per_s) &&
	       SAME(a, b, output_tokens_per_s);
}

static void assert_same_quantiles(struct llmcap_quantiles *a, struct llmcap_quantiles *b)
{
	assert_int_equal(a->count, b->count);
	static const double ps[] = {0, 0.1, 0.5, 0.9, 0.99, 0.999, 1};
	for (size_t i = 0; i < sizeof ps / sizeof ps[0] && a->count > 0; i++) {
		double x = llmcap_quantiles_get(a, ps[i]), y = llmcap_quantiles_get(b, ps[i]);
		assert_same_bits(x, y);
	}
	double ma = llmcap_quantiles_mean(a), mb = llmcap_quantiles_mean(b);
	assert_same_bits(ma, mb);
}

/* The fast mode's bound on FLOPs and bytes (and what derives from them): a few units in the
 * last place per run of steps, accumulated over the runs of a day. */
#define REL_BOUND 1e-12
#define assert_close_rel(a, b)                                                                   \
	do {                                                                                     \
		double a_ = (a), b_ = (b);                                                       \
		if (!(a_ == b_ || (isnan(a_) && isnan(b_)) || fabs(a_ - b_) <= REL_BOUND * fabs(b_))) \
			fail_msg("%s = %.17g vs %.17g: beyond the rounding bound", #a, a_, b_);   \
	} while (0)

/* Utilisation summaries: bitwise, except the fields that derive from FLOPs and bytes. */
static void assert_same_util(struct llmcap_util_summary *x, struct llmcap_util_summary *y,
			     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct llmcap_util_summary a = x[i], b = y[i];
		assert_close_rel(a.achieved_tflops, b.achieved_tflops);
		assert_close_rel(a.mfu, b.mfu);
		assert_close_rel(a.hbm_fraction, b.hbm_fraction);
		a.achieved_tflops = b.achieved_tflops = a.mfu = b.mfu = 0;
		a.hbm_fraction = b.hbm_fraction = 0;
		assert_memory_equal(&a, &b, sizeof a);
	}
}

/* Runs sc in both modes and compares everything observable. Returns the steps the fast mode
 * took without events (to show that a scenario exercises it). */
static int64_t fast_equals_exact(struct llmcap_scenario *sc, llmcap_time interval)
{
	struct capture cf, ce;
	struct llmcap_results f, e;
	sc->engine_mode = LLMCAP_ENGINE_FAST;
	simulate(sc, interval, &cf, &f);
	sc->engine_mode = LLMCAP_ENGINE_EXACT;
	simulate(sc, interval, &ce, &e);
	assert_int_equal(f.digest, e.digest);
	assert_int_equal(f.events, e.events);
	assert_int_equal(cf.n_rec, ce.n_rec);
	for (size_t i = 0; i < cf.n_rec; i++)
		if (!same_record(&cf.rec[i], &ce.rec[i]))
			fail_msg("request record %zu (id %lld) differs: e2e %.9f vs %.9f, max_gap %.9f "
				 "vs %.9f", i, (long long)ce.rec[i].id, cf.rec[i].e2e, ce.rec[i].e2e,
				 cf.rec[i].max_gap, ce.rec[i].max_gap);
	assert_int_equal(cf.n_row, ce.n_row);
	for (size_t i = 0; i < cf.n_row; i++)
		if (!same_row(&cf.row[i], &ce.row[i]))
			fail_msg("time-series row %zu (t %.0f s, replica %d) differs: busy %.17g vs %.17g, "
				 "out %.17g vs %.17g, kv %.17g vs %.17g", i, ce.row[i].time,
				 ce.row[i].replica, cf.row[i].busy, ce.row[i].busy,
				 cf.row[i].output_tokens_per_s, ce.row[i].output_tokens_per_s,
				 cf.row[i].kv_occupancy, ce.row[i].kv_occupancy);
	assert_int_equal(f.n_replicas, e.n_replicas);
	for (size_t i = 0; i < f.n_replicas; i++) {
		/* FLOPs and bytes: sums of per-step work, added per run in closed form by the fast
		 * mode, so equal to a rounding bound (docs/performance.md); all else to the bit */
		struct llmcap_replica_stats a = f.replicas[i], b = e.replicas[i];
		assert_close_rel(a.flops, b.flops);
		assert_close_rel(a.bytes, b.bytes);
		a.flops = b.flops = a.bytes = b.bytes = 0;
		if (memcmp(&a, &b, sizeof a) != 0)
			fail_msg("replica %zu statistics differ: steps %lld vs %lld, busy %lld vs %lld, "
				 "kv_block_time %.17g vs %.17g, flops %.17g vs %.17g", i,
				 (long long)f.replicas[i].steps, (long long)e.replicas[i].steps,
				 (long long)f.replicas[i].busy, (long long)e.replicas[i].busy,
				 f.replicas[i].kv_block_time, e.replicas[i].kv_block_time,
				 f.replicas[i].flops, e.replicas[i].flops);
	}
	for (size_t c = 0; c < f.n_classes; c++) {
		struct llmcap_class_stats *a = &f.classes[c], *b = &e.classes[c];
		assert_int_equal(a->arrived, b->arrived);
		assert_int_equal(a->completed, b->completed);
		assert_int_equal(a->unfinished, b->unfinished);
		assert_int_equal(a->rejected, b->rejected);
		assert_int_equal(a->spilled, b->spilled);
		assert_int_equal(a->preemptions, b->preemptions);
		assert_int_equal(a->slo_met, b->slo_met);
		assert_memory_equal(a->by_status, b->by_status, sizeof a->by_status);
		assert_same_bits(a->completed_output_tokens, b->completed_output_tokens);
		assert_same_bits(a->unfinished_output_tokens, b->unfinished_output_tokens);
		assert_same_bits(a->slo_met_output_tokens, b->slo_met_output_tokens);
		assert_same_quantiles(&a->ttft, &b->ttft);
		assert_same_quantiles(&a->tpot, &b->tpot);
		assert_same_quantiles(&a->e2e, &b->e2e);
		assert_same_quantiles(&a->queue, &b->queue);
	}
	/* the summaries derive from the above; compare them too, as users read them */
	struct llmcap_summary sf, se;
	assert_int_equal(llmcap_summarize(&f, &sf), 0);
	assert_int_equal(llmcap_summarize(&e, &se), 0);
	assert_memory_equal(sf.classes, se.classes, sizeof sf.classes);
	assert_same_util(sf.pool_util, se.pool_util, sizeof sf.pool_util / sizeof *sf.pool_util);
	assert_same_util(sf.replica_util, se.replica_util, f.n_replicas);
	llmcap_summary_free(&sf);
	llmcap_summary_free(&se);
	/* the fast mode must actually have skipped events, or the comparison shows nothing */
	int64_t skipped = f.fast_steps;
	assert_true(skipped > 0);
	assert_int_equal(e.fast_steps, 0);
	llmcap_results_free(&f);
	llmcap_results_free(&e);
	capture_free(&cf);
	capture_free(&ce);
	return skipped;
}

static void reference_day(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	load(&sc, NULL, 0);
	fast_equals_exact(&sc, 60 * LLMCAP_SEC);
	llmcap_scenario_free(&sc);
}

/* An overloaded reference server with a small KV cache under every router and preemption
 * mode, with prefix caching, spill, admission limits and timeouts. */
static void stressed_every_policy(void **state)
{
	(void)state;
	static const char *const routers[] = {"round-robin", "random", "least-outstanding", "jsq",
					      "least-kv", "power-of-two", "prefix-affinity"};
	static const char *const modes[] = {"recompute", "swap"};
	for (size_t ro = 0; ro < sizeof routers / sizeof routers[0]; ro++)
		for (size_t mo = 0; mo < 2; mo++)
			for (int limits = 0; limits < 2; limits++) {
				char r1[64], r2[64], m1[64], m2[64], seed[32];
				snprintf(r1, sizeof r1, "pools.utility.router=%s", routers[ro]);
				snprintf(r2, sizeof r2, "pools.reasoning.router=%s", routers[ro]);
				snprintf(m1, sizeof m1, "pools.utility.preemption_mode=%s", modes[mo]);
				snprintf(m2, sizeof m2, "pools.reasoning.preemption_mode=%s", modes[mo]);
				snprintf(seed, sizeof seed, "seed=%zu", 100 + ro * 4 + mo * 2 + (size_t)limits);
				const char *sets[] = {
					r1, r2, m1, m2, seed, "horizon=15min", "workload.rate=300000/day",
					"workload.diurnal.shape=none",
					"pools.utility.num_gpu_blocks_override=300",
					"pools.reasoning.replicas=2",
					"pools.reasoning.tensor_parallel_size=1",
					"pools.reasoning.dtype=fp8",
					"pools.reasoning.num_gpu_blocks_override=1200",
					"pools.reasoning.max_model_len=12800",
					"pools.utility.enable_prefix_caching=true",
					"pools.reasoning.enable_prefix_caching=true",
					"workload.classes.utility.shared_prefix_tokens=300",
					"workload.classes.utility.prefix_groups=3",
					"workload.classes.reasoning.shared_prefix_tokens=1000",
					limits ? "pools.reasoning.spill.waiting_above=30" : "pools.utility.max_num_seqs=24",
					limits ? "workload.classes.utility.max_queue_time=3s" : "pools.reasoning.max_num_seqs=32",
					limits ? "workload.classes.utility.when_limited=spill" : "hardware.gpus_per_server=8",
					limits ? "workload.classes.reasoning.max_waiting=20" : "pools.reasoning.scheduling_policy=priority",
					limits ? "pools.utility.spill.kv_above=0.9" : "workload.classes.utility.priority=1",
					mo ? "pools.utility.swap_space=0.05GiB" : "pools.utility.enable_chunked_prefill=false",
					"hardware.gpus_per_server=8",
					/* some utility requests go to the other pool: the fast mode's look
					 * ahead for arrivals to a pool must route them as arrival() does */
					"workload.classes.utility.long_prompt_tokens=1500",
					"workload.classes.utility.long_prompt_pool=reasoning",
				};
				struct llmcap_scenario sc;
				load(&sc, sets, sizeof sets / sizeof sets[0]);
				fast_equals_exact(&sc, 10 * LLMCAP_SEC);
				llmcap_scenario_free(&sc);
			}
}

/* A mixture-of-experts model with INT4 weights and an FP8 KV cache, and a TP 4 pool: per-step
 * work that is not a whole number (expected distinct experts, 4.25-bit weights), where the
 * fast mode's closed-form work sums may round differently from the step-by-step sums. */
static void moe_int4_fp8_kv(void **state)
{
	(void)state;
	const char *sets[] = {
		"horizon=2h", "pools.utility.model=mixtral-8x7b", "pools.utility.dtype=int4-awq",
		"pools.utility.kv_cache_dtype=fp8", "pools.reasoning.tensor_parallel_size=4",
		"hardware.gpus_per_server=8",
	};
	struct llmcap_scenario sc;
	load(&sc, sets, sizeof sets / sizeof sets[0]);
	fast_equals_exact(&sc, 60 * LLMCAP_SEC);
	llmcap_scenario_free(&sc);
}

/* Blocks of 64 and 128 tokens (vLLM allows up to 128 on GPUs): the runs' boundary marks, a bit
 * per phase, cover 64 phases at most (the sanitizer suite checks the shifts). */
static void large_blocks(void **state)
{
	(void)state;
	const char *sets[] = {"horizon=2h", "pools.utility.block_size=64",
			      "pools.reasoning.block_size=128"};
	struct llmcap_scenario sc;
	load(&sc, sets, sizeof sets / sizeof sets[0]);
	fast_equals_exact(&sc, 60 * LLMCAP_SEC);
	llmcap_scenario_free(&sc);
}

/* Constant 10 ms steps: replicas end steps at the same nanosecond all the time, so the order of
 * simultaneous events (completions in the digest, arrivals at a step end) is exercised. Random
 * small scenarios over many seeds, with and without chunked prefill and prefix caching. */
static void randomized_with_ties(void **state)
{
	(void)state;
	static const char *const routers[] = {"round-robin", "random", "least-outstanding", "jsq",
					      "least-kv", "power-of-two", "prefix-affinity"};
	for (int seed = 1; seed <= 42; seed++) {
		char sd[32], ro[64], ctx[96], rate[64], blocks[64];
		snprintf(sd, sizeof sd, "seed=%d", seed);
		snprintf(ro, sizeof ro, "pools.p.router=%s", routers[seed % 7]);
		/* half of the runs add a context term: steps then differ by replica */
		snprintf(ctx, sizeof ctx, "pools.p.linear={per_step: 10ms, per_context_token_ns: %d}",
			 seed % 2 ? 0 : 7);
		snprintf(rate, sizeof rate, "workload.rate=%d/s", 5 + seed % 20);
		snprintf(blocks, sizeof blocks, "pools.p.num_gpu_blocks_override=%d", 64 + 13 * seed);
		const char *sets[] = {
			"workload.classes={a: {pool: p, share: 0.7, prompt: {dist: uniform, min: 1, max: 250}, "
			"output: {dist: geometric, mean: 40, max: 240}, shared_prefix_tokens: 48, "
			"prefix_groups: 2}, b: {pool: p, share: 0.3, priority: 1, "
			"prompt: {dist: fixed, value: 64}, output: {dist: fixed, value: 33}}}",
			"pools={p: {model: llama-3.1-8b, perf_model: linear, replicas: 3, max_model_len: 500}}",
			ctx, ro, sd, rate, blocks, "hardware.gpus_per_server=8",
			"workload.diurnal.shape=none", "horizon=3min",
			"cost.api.prices={a: {input: 1, output: 1}, b: {input: 1, output: 1}}",
			seed % 3 == 0 ? "pools.p.enable_chunked_prefill=false" : "pools.p.max_num_batched_tokens=256",
			seed % 4 == 0 ? "pools.p.enable_prefix_caching=true" : "pools.p.max_num_seqs=16",
			seed % 5 == 0 ? "pools.p.preemption_mode=swap" : "pools.p.block_size=8",
			seed % 6 == 0 ? "pools.p.scheduling_policy=priority" : "workload.arrival=poisson",
			seed % 7 == 0 ? "workload.classes.a.max_queue_time=500ms" : "workload.arrival=poisson",
		};
		struct llmcap_scenario sc;
		load_bare(&sc, sets, sizeof sets / sizeof sets[0]);
		fast_equals_exact(&sc, (1 + seed % 3) * LLMCAP_SEC);
		llmcap_scenario_free(&sc);
	}
}

/* The table model (GSL interpolation, no screen), with contexts beyond the table counted as
 * out of range: per step, in both modes. */
static void table_model(void **state)
{
	(void)state;
	char path[] = "/tmp/llmcap-fast-table-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("tokens,context,ms\n1,0,6\n64,0,9\n512,0,30\n1,20000,11\n64,20000,15\n512,20000,41\n", f);
	fclose(f);
	for (int extrapolate = 0; extrapolate < 2; extrapolate++) {
		char table[160];
		snprintf(table, sizeof table, "pools.p.table={path: %s, out_of_range: %s}", path,
			 extrapolate ? "extrapolate" : "clamp");
		const char *sets[] = {
			"workload.classes={a: {pool: p, prompt: {dist: uniform, min: 100, max: 3000}, "
			"output: {dist: geometric, mean: 150, max: 2000}}}",
			"pools={p: {model: llama-3.1-8b, perf_model: table, replicas: 2}}", table,
			"hardware.gpus_per_server=8", "workload.rate=4/s", "workload.diurnal.shape=none",
			"horizon=5min", "cost.api.prices={a: {input: 1, output: 1}}",
		};
		struct llmcap_scenario sc;
		load_bare(&sc, sets, sizeof sets / sizeof sets[0]);
		fast_equals_exact(&sc, 7 * LLMCAP_SEC);
		llmcap_scenario_free(&sc);
	}
	unlink(path);
}

/* Scripted arrivals on a 10 ms grid with constant 10 ms steps: every step of every replica
 * ends on the grid, replicas run in lockstep, arrivals come due exactly at step ends, and
 * requests complete at the same nanosecond on several replicas. The order of those events
 * (hence of records and the digest) must not depend on the mode. */
static void scripted_lockstep(void **state)
{
	(void)state;
	static const char *const routers[] = {"round-robin", "least-outstanding", "jsq", "least-kv"};
	uint64_t x = 12345;
	for (int run = 0; run < 8; run++) {
		enum { N = 600 };
		static struct llmcap_scripted_request q[N];
		llmcap_time t = 0;
		for (int i = 0; i < N; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			if ((x >> 60) < 6) /* groups arrive together, others one grid step later */
				t += (llmcap_time)((x >> 40) % 8) * 10 * LLMCAP_MS;
			q[i] = (struct llmcap_scripted_request){
				.time = t, .cls = 0, .prompt = 1 + (int64_t)((x >> 20) % 120),
				.output = 1 + (int64_t)((x >> 8) % (run % 2 ? 12 : 90))};
		}
		char ro[64];
		snprintf(ro, sizeof ro, "pools.p.router=%s", routers[run % 4]);
		const char *sets[] = {"workload.classes={c: {pool: p}}",
				      "pools={p: {model: llama-3.1-8b, perf_model: linear, "
				      "linear: {per_step: 10ms}, replicas: 3, max_model_len: 512}}",
				      "hardware.gpus_per_server=8", "horizon=1h",
				      "cost.api.prices={c: {input: 1, output: 1}}", ro,
				      run < 4 ? "pools.p.num_gpu_blocks_override=40" : "pools.p.block_size=16"};
		struct llmcap_scenario sc;
		load_bare(&sc, sets, sizeof sets / sizeof sets[0]);
		struct capture cf, ce;
		struct llmcap_results f, e;
		struct llmcap_error err = {0};
		struct llmcap_sink sf = {.user = &cf, .request = on_request, .sample = on_sample,
					 .sample_interval = 50 * LLMCAP_MS};
		struct llmcap_sink se = sf;
		se.user = &ce;
		memset(&cf, 0, sizeof cf);
		memset(&ce, 0, sizeof ce);
		sc.engine_mode = LLMCAP_ENGINE_FAST;
		assert_int_equal(llmcap_simulate_script(&sc, &cat, &sf, q, N, &f, &err), 0);
		sc.engine_mode = LLMCAP_ENGINE_EXACT;
		assert_int_equal(llmcap_simulate_script(&sc, &cat, &se, q, N, &e, &err), 0);
		assert_true(f.fast_steps > 0);
		assert_int_equal(f.digest, e.digest);
		assert_int_equal(cf.n_rec, ce.n_rec);
		for (size_t i = 0; i < cf.n_rec; i++)
			assert_true(same_record(&cf.rec[i], &ce.rec[i]));
		assert_int_equal(cf.n_row, ce.n_row);
		for (size_t i = 0; i < cf.n_row; i++)
			assert_true(same_row(&cf.row[i], &ce.row[i]));
		for (size_t i = 0; i < f.n_replicas; i++)
			assert_memory_equal(&f.replicas[i], &e.replicas[i], sizeof f.replicas[i]);
		llmcap_results_free(&f);
		llmcap_results_free(&e);
		capture_free(&cf);
		capture_free(&ce);
	}
}

/* A run may begin at a step that admitted requests while others wait only where the head of
 * the queue was refused for want of blocks (or of a sequence slot), which a run's steps do
 * not give back; where the admissions spent the token budget, the next step (whose decodes
 * leave most of it) admits the head. One replica decodes a long request on a 10 ms grid; at
 * 95 ms a request whose prompt is about the 64-token budget less that decode arrives with a
 * short one behind it, with blocks to spare or with none left for the short one (24 blocks:
 * 20 for the first request, 4 for the second). Both modes must agree in every record; they
 * part where the fast mode counts a spent budget as a lasting refusal (checked). */
static void admission_that_spends_the_budget(void **state)
{
	(void)state;
	for (int run = 0; run < 8; run++) {
		const int64_t first = 61 + run % 4; /* 63: the budget spent to the token */
		struct llmcap_scripted_request q[] = {
			{.time = 0, .cls = 0, .prompt = 300, .output = 80},
			{.time = 95 * LLMCAP_MS, .cls = 0, .prompt = first, .output = 40},
			{.time = 95 * LLMCAP_MS, .cls = 0, .prompt = 10, .output = 30},
			{.time = 2505 * LLMCAP_MS, .cls = 0, .prompt = 30, .output = 20},
		};
		const char *sets[] = {"workload.classes={c: {pool: p}}",
				      "pools={p: {model: llama-3.1-8b, perf_model: linear, "
				      "linear: {per_step: 10ms}, replicas: 1, max_model_len: 384, "
				      "max_num_batched_tokens: 64, block_size: 16}}",
				      "hardware.gpus_per_server=8", "horizon=1h",
				      "cost.api.prices={c: {input: 1, output: 1}}",
				      run < 4 ? "pools.p.num_gpu_blocks_override=400"
					      : "pools.p.num_gpu_blocks_override=24"};
		struct llmcap_scenario sc;
		load_bare(&sc, sets, sizeof sets / sizeof sets[0]);
		struct capture cf, ce;
		struct llmcap_results f, e;
		struct llmcap_error err = {0};
		struct llmcap_sink sf = {.user = &cf, .request = on_request};
		struct llmcap_sink se = {.user = &ce, .request = on_request};
		memset(&cf, 0, sizeof cf);
		memset(&ce, 0, sizeof ce);
		const size_t n = sizeof q / sizeof q[0];
		sc.engine_mode = LLMCAP_ENGINE_FAST;
		assert_int_equal(llmcap_simulate_script(&sc, &cat, &sf, q, n, &f, &err), 0);
		sc.engine_mode = LLMCAP_ENGINE_EXACT;
		assert_int_equal(llmcap_simulate_script(&sc, &cat, &se, q, n, &e, &err), 0);
		assert_true(f.fast_steps > 0);
		assert_int_equal(cf.n_rec, n);
		assert_int_equal(ce.n_rec, n);
		for (size_t i = 0; i < n; i++)
			if (!same_record(&cf.rec[i], &ce.rec[i]))
				fail_msg("run %d: record %zu (id %lld) differs: queue %.9f vs %.9f s", run, i,
					 (long long)ce.rec[i].id, cf.rec[i].queue, ce.rec[i].queue);
		assert_int_equal(f.digest, e.digest);
		assert_int_equal(f.events, e.events);
		llmcap_results_free(&f);
		llmcap_results_free(&e);
		capture_free(&cf);
		capture_free(&ce);
		llmcap_scenario_free(&sc);
	}
}

/* A month of the reference traffic at a tenth of the rate, fast mode only: every request ends
 * once (a correctness run; bench/speed times the full month). */
static void month_at_reduced_rate(void **state)
{
	(void)state;
	const char *sets[] = {"horizon=30d", "workload.rate=5000/day",
			      "output.percentiles=streaming"};
	struct llmcap_scenario sc;
	load(&sc, sets, 3);
	struct llmcap_results res;
	struct llmcap_error err = {0};
	assert_int_equal(llmcap_simulate(&sc, &cat, NULL, &res, &err), 0);
	int64_t arrived = 0, ended = 0;
	for (size_t c = 0; c < res.n_classes; c++) {
		const struct llmcap_class_stats *cs = &res.classes[c];
		arrived += cs->arrived;
		ended += cs->completed + cs->rejected + cs->spilled + cs->unfinished;
	}
	assert_int_equal(arrived, ended);
	assert_true(fabs((double)arrived - 150000) < 5 * sqrt(150000));
	/* most steps took no event of their own */
	assert_true(res.fast_steps > res.events / 2);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_day),
		cmocka_unit_test(stressed_every_policy),
		cmocka_unit_test(randomized_with_ties),
		cmocka_unit_test(scripted_lockstep),
		cmocka_unit_test(admission_that_spends_the_budget),
		cmocka_unit_test(table_model),
		cmocka_unit_test(moe_int4_fp8_kv),
		cmocka_unit_test(large_blocks),
		cmocka_unit_test(month_at_reduced_rate),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

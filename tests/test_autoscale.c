/* The autoscaler (pools.NAME.autoscale, sim/engine/autoscale.c) against hand-computed schedules:
 * a step in the arrival rate brings replicas at the first decision after it plus the cold
 * start; a cold start delays an empty pool's first request by exactly provisioning + weights /
 * bandwidth; scale-down drains and never drops a request; the held replica-hours and the rent
 * billed from them; the fast mode identical to the exact one.
 *
 * As in test_engine.c, the linear performance model with only a per-step term makes every step
 * take exactly 10 ms, and arrivals are scripted. */
#include "test_util.h"

#include "llmcap/cost.h"
#include "llmcap/decide.h"
#include "llmcap/report.h"
#include "llmcap/sim.h"

#define STEP (10 * LLMCAP_MS)

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* Every record of a run, by request id. */
#define MAX_REQ 4096
struct capture {
	struct llmcap_request_record rec[MAX_REQ];
	int seen[MAX_REQ];
	size_t n;
};

static int on_request(void *user, const struct llmcap_request_record *r)
{
	struct capture *c = user;
	assert_true(r->id >= 0 && r->id < MAX_REQ);
	c->rec[r->id] = *r;
	c->seen[r->id]++;
	c->n++;
	return 0;
}

/* One class "c" served by pool "p" of 8B replicas with 10 ms steps, then the overrides. */
static void scenario(struct llmcap_scenario *sc, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	llmcap_scenario_defaults(sc);
	const char *base[] = {
		"workload.classes={c: {pool: p}}",
		"pools={p: {model: llama-3.1-8b, perf_model: linear, linear: {per_step: 10ms}}}",
		"hardware={gpus_per_server: 8}",
		"cost.api.prices={c: {input: 1, output: 1}}",
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

/* The first logged change of this kind to this replica (-1: none). */
static llmcap_time first_change(const struct llmcap_results *res, int32_t replica, int kind)
{
	for (size_t i = 0; i < res->n_scale_log; i++)
		if (res->scale_log[i].replica == replica && res->scale_log[i].kind == kind)
			return res->scale_log[i].time;
	return -1;
}

/* The cold start of an 8B BF16 replica: provisioning + its weight bytes per GPU / bandwidth,
 * the weights being 2 bytes per parameter of the catalog's model. */
static llmcap_time cold_start(const struct llmcap_results *res, llmcap_time provisioning,
			      double bandwidth)
{
	const double w = res->pools[0].plan.weight_bytes_per_gpu;
	assert_rel(w, 2.0 * res->pools[0].plan.params, 0.02); /* 16-bit weights, one GPU */
	return provisioning + llmcap_round_time(w / bandwidth * 1e9);
}

/* A step from one request every 2 s to four a second at t = 25 s, with one sequence per step:
 * each request takes 100 steps (1 s), so before the step no request ever waits and after it the
 * queue grows by about 3 a second. Decisions every 10 s: at 10 s and 20 s nothing waits; at
 * 30 s (the first decision after the step) about 15 wait, above up_above 2, and the pool grows
 * to its maximum of 3. Replica 1 becomes active at 30 s + 20 s + weights / 4 GB/s. */
static void step_brings_a_replica_after_the_interval_and_cold_start(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.max_num_seqs=1",
			      "pools.p.autoscale={enabled: true, metric: queue, target: 2, interval: 10s, "
			      "min_replicas: 1, max_replicas: 3, provisioning: 20s, "
			      "weights_bandwidth: 4GB, cooldown: 1h}",
			      "horizon=10min"};
	scenario(&sc, sets, 3);
	static struct llmcap_scripted_request q[256];
	size_t n = 0;
	for (llmcap_time t = 0; t < 25 * LLMCAP_SEC; t += 2 * LLMCAP_SEC)
		q[n++] = (struct llmcap_scripted_request){.time = t, .prompt = 10, .output = 100};
	for (llmcap_time t = 25 * LLMCAP_SEC; t < 80 * LLMCAP_SEC; t += LLMCAP_SEC / 4)
		q[n++] = (struct llmcap_scripted_request){.time = t, .prompt = 10, .output = 100};
	static struct capture c;
	struct llmcap_results res;
	run(&sc, q, n, &c, &res);
	const llmcap_time cold = cold_start(&res, 20 * LLMCAP_SEC, 4e9);
	assert_true(res.pools[0].autoscaled);
	assert_int_equal(res.pools[0].n_replicas, 3);
	/* nothing before the step; both new replicas asked for at the decision after it */
	assert_true(res.n_scale_log >= 4);
	assert_int_equal(res.scale_log[0].kind, LLMCAP_SCALE_START);
	assert_int_equal(res.scale_log[0].time, 30 * LLMCAP_SEC);
	assert_int_equal(first_change(&res, 1, LLMCAP_SCALE_START), 30 * LLMCAP_SEC);
	assert_int_equal(first_change(&res, 2, LLMCAP_SCALE_START), 30 * LLMCAP_SEC);
	assert_int_equal(first_change(&res, 1, LLMCAP_SCALE_READY), 30 * LLMCAP_SEC + cold);
	assert_int_equal(first_change(&res, 2, LLMCAP_SCALE_READY), 30 * LLMCAP_SEC + cold);
	/* no request starts on a new replica before it is ready, and some start on it */
	size_t on_new = 0;
	for (size_t i = 0; i < n; i++) {
		const struct llmcap_request_record *r = &c.rec[i];
		assert_int_equal(r->status, LLMCAP_REQ_COMPLETED);
		if (r->replica > 0) {
			on_new++;
			assert_true((r->arrival + r->queue) * 1e9 >=
				    (double)(30 * LLMCAP_SEC + cold) - 1e-3);
		}
	}
	assert_true(on_new > 0);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

/* An empty pool: the only replica is drained at the first decision (10 s: no traffic, idle) and
 * released at once; a request at 15 s starts a replica then, which serves it after its cold
 * start: it waits exactly the cold start, its first token one step later. */
static void cold_start_delays_the_first_request_exactly(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.autoscale={enabled: true, metric: concurrency, target: 1, "
			      "interval: 10s, min_replicas: 1, max_replicas: 2, scale_to_zero: true, "
			      "provisioning: 20s, weights_bandwidth: 4GB, cooldown: 0s}",
			      "horizon=60s"};
	scenario(&sc, sets, 2);
	struct llmcap_scripted_request q[] = {{.time = 15 * LLMCAP_SEC, .prompt = 10, .output = 5}};
	static struct capture c;
	struct llmcap_results res;
	run(&sc, q, 1, &c, &res);
	const llmcap_time cold = cold_start(&res, 20 * LLMCAP_SEC, 4e9);
	const struct llmcap_request_record *r = &c.rec[0];
	assert_int_equal(r->status, LLMCAP_REQ_COMPLETED);
	assert_rel(r->queue, (double)cold * 1e-9, 1e-12);
	assert_rel(r->ttft, (double)(cold + STEP) * 1e-9, 1e-12);
	assert_rel(r->e2e, (double)(cold + 5 * STEP) * 1e-9, 1e-12);
	/* held [0, 10 s], then from 15 s to the first decision after it ended idle (40 s) */
	const llmcap_time done = 15 * LLMCAP_SEC + cold + 5 * STEP;
	assert_true(done > 30 * LLMCAP_SEC && done < 40 * LLMCAP_SEC);
	assert_int_equal(first_change(&res, 0, LLMCAP_SCALE_RELEASE), 10 * LLMCAP_SEC);
	assert_int_equal(first_change(&res, 0, LLMCAP_SCALE_START), 15 * LLMCAP_SEC);
	assert_int_equal(res.scale_log[res.n_scale_log - 1].kind, LLMCAP_SCALE_RELEASE);
	assert_int_equal(res.scale_log[res.n_scale_log - 1].time, 40 * LLMCAP_SEC);
	assert_rel(res.pools[0].held_time, 35e9, 1e-15);
	assert_int_equal(res.pools[0].held_at[0], 25 * LLMCAP_SEC);
	assert_int_equal(res.pools[0].held_at[1], 35 * LLMCAP_SEC);
	assert_int_equal(res.pools[0].held_at[2], 0);
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

/* Bursts of 60 requests every 2 minutes into a pool that scales between 1 and 4 replicas every
 * 5 s with no cooldown: replicas are asked for and drained many times, and still every request
 * ends exactly once, completed; none starts on a replica that is not active or draining, and
 * none ends on a replica after it was released. */
static void scale_down_never_drops_a_request(void **state)
{
	(void)state;
	static struct llmcap_scripted_request q[MAX_REQ];
	size_t n = 0;
	for (int b = 0; b < 5; b++)
		for (int k = 0; k < 60; k++)
			q[n++] = (struct llmcap_scripted_request){
				.time = b * 120 * LLMCAP_SEC + k * 50 * LLMCAP_MS,
				.prompt = 50 + 37 * (k % 7), .output = 100 + 53 * (k % 5)};
	const char *routers[] = {"pools.p.router=round-robin", "pools.p.router=least-outstanding",
				 "pools.p.router=random", "pools.p.router=prefix-affinity"};
	for (size_t ro = 0; ro < sizeof routers / sizeof routers[0]; ro++) {
		uint64_t digest[2];
		double held[2];
		size_t n_log[2];
		for (int mode = 0; mode < 2; mode++) {
			struct llmcap_scenario sc;
			const char *sets[] = {"pools.p.max_num_seqs=4",
					      "pools.p.autoscale={enabled: true, metric: concurrency, "
					      "target: 4, interval: 5s, min_replicas: 1, max_replicas: 4, "
					      "provisioning: 1s, weights_bandwidth: 100GB, cooldown: 0s}",
					      "horizon=15min", routers[ro],
					      mode ? "engine_mode=exact" : "engine_mode=fast"};
			scenario(&sc, sets, 5);
			static struct capture c;
			struct llmcap_results res;
			run(&sc, q, n, &c, &res);
			assert_int_equal(res.classes[0].completed, (int64_t)n);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(c.seen[i], 1);
			assert_true(res.pools[0].scale_ups > 0 && res.pools[0].scale_downs > 0);
			for (size_t i = 0; i < n; i++) {
				const struct llmcap_request_record *r = &c.rec[i];
				assert_int_equal(r->status, LLMCAP_REQ_COMPLETED);
				const double start = r->arrival + r->queue, end = r->arrival + r->e2e;
				/* the replica's state from the log: at its start (changes up to then),
				 * and at its end (changes before then: a release at the very step
				 * end that finished the last request comes after it) */
				int st_start = r->replica == 0 ? LLMCAP_SCALE_READY : LLMCAP_SCALE_RELEASE;
				int st_end = st_start;
				for (size_t e = 0; e < res.n_scale_log; e++) {
					const struct llmcap_scale_event *ev = &res.scale_log[e];
					if (ev->replica != r->replica)
						continue;
					double t = (double)ev->time * 1e-9;
					if (t <= start + 1e-12)
						st_start = ev->kind;
					if (t < end - 1e-12)
						st_end = ev->kind;
				}
				assert_true(st_start == LLMCAP_SCALE_READY || st_start == LLMCAP_SCALE_RESUME ||
					    st_start == LLMCAP_SCALE_DRAIN);
				assert_true(st_end != LLMCAP_SCALE_RELEASE && st_end != LLMCAP_SCALE_START);
			}
			/* the held integral equals the log's */
			double integral = 0, last = 0;
			int64_t h = 1;
			for (size_t e = 0; e < res.n_scale_log; e++) {
				integral += (double)h * ((double)res.scale_log[e].time - last);
				last = (double)res.scale_log[e].time;
				h = res.scale_log[e].held;
			}
			integral += (double)h * ((double)res.horizon - last);
			assert_rel(res.pools[0].held_time, integral, 1e-12);
			digest[mode] = res.digest;
			held[mode] = res.pools[0].held_time;
			n_log[mode] = res.n_scale_log;
			llmcap_results_free(&res);
			llmcap_scenario_free(&sc);
		}
		assert_true(digest[0] == digest[1]);
		assert_true(held[0] == held[1]);
		assert_int_equal(n_log[0], n_log[1]);
	}
}

/* With no traffic at all, 4 replicas and a decision every 12 h that drains one (the metric 0 is
 * below down_below, 4 and 3 above min_replicas 2): held 4 for 12 h, then 3 for 12 h (the second
 * decision falls at the horizon). 84 replica-hours, of which 2 x 12 + 1 x 12 = 36 above the
 * reserved baseline of min_replicas 2. Rent on demand bills the 84, scaled to a month; reserved
 * bills 2 GPUs every hour of the month at the 1-year rate plus the 36 on demand. */
static void held_hours_and_their_rent(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.replicas=4",
			      "pools.p.autoscale={enabled: true, metric: queue, target: 1, interval: 12h, "
			      "min_replicas: 2, max_replicas: 4, cooldown: 0s}",
			      "horizon=24h", "cost.horizon_years=1",
			      "cost.gpus={h100-sxm-80gb: {on_demand: 2.5, reserved_1y: 1.5, spot: 1}}"};
	scenario(&sc, sets, 5);
	static struct capture c;
	struct llmcap_results res;
	const struct llmcap_scripted_request none[1] = {{0}};
	run(&sc, none, 0, &c, &res); /* a script of no request: no traffic at all */
	const double h12 = 12 * 3600e9;
	assert_rel(res.pools[0].held_time, 4 * h12 + 3 * h12, 1e-15);
	assert_int_equal(res.pools[0].held_at[4], 12 * LLMCAP_HOUR);
	assert_int_equal(res.pools[0].held_at[3], 12 * LLMCAP_HOUR);
	struct llmcap_usage use;
	llmcap_results_usage(&res, &use);
	assert_rel(use.pools[0].replica_hours, 84, 1e-12);
	assert_rel(use.pools[0].baseline_replicas, 2, 0);
	assert_rel(use.pools[0].burst_replica_hours, 36, 1e-12);
	struct llmcap_cost cost;
	llmcap_cost_compute(&sc, &use, &cost);
	const double scale = LLMCAP_MONTH_SECONDS / 86400.0, month_h = LLMCAP_MONTH_SECONDS / 3600.0;
	assert_rel(cost.rent_gpu_hours, 84 * scale, 1e-12);
	assert_rel(cost.rent_on_demand_monthly, 84 * scale * 2.5, 1e-12);
	assert_rel(cost.rent_reserved_monthly, 2 * month_h * 1.5 + 36 * scale * 2.5, 1e-12);
	assert_rel(cost.rent_on_demand_total, 12 * 84 * scale * 2.5, 1e-12);
	/* cost.rent.reserved replaces the baseline: 3 reserved, 12 h at 4 above them */
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);

	/* a schedule that holds 2 replicas for 12 h and 4 for 12 h, priced as the usage of a
	 * results struct written by hand (one pool of 4 slots, min_replicas 2) */
	const char *sets2[] = {"pools.p.replicas=2",
			       "pools.p.autoscale={enabled: true, min_replicas: 2, max_replicas: 4}",
			       "horizon=24h", "cost.horizon_years=1",
			       "cost.gpus={h100-sxm-80gb: {on_demand: 2.5, reserved_1y: 1.5}}",
			       "cost.rent.reserved={p: {replicas: 3}}"};
	scenario(&sc, sets2, 5);
	llmcap_time held_at[5] = {0, 0, 12 * LLMCAP_HOUR, 0, 12 * LLMCAP_HOUR};
	static struct llmcap_replica_stats reps[4];
	memset(&res, 0, sizeof res);
	res.sc = &sc;
	res.horizon = 24 * LLMCAP_HOUR;
	res.n_pools = 1;
	res.n_classes = 1;
	res.n_replicas = 4;
	res.replicas = reps;
	res.pools[0].n_replicas = 4;
	res.pools[0].autoscaled = true;
	res.pools[0].held_at = held_at;
	res.pools[0].held_time = 2 * h12 + 4 * h12;
	llmcap_results_usage(&res, &use);
	assert_rel(use.pools[0].replica_hours, 72, 1e-12);
	assert_rel(use.pools[0].burst_replica_hours, 24, 1e-12); /* min 2: 2 above it for 12 h */
	llmcap_cost_compute(&sc, &use, &cost);
	assert_rel(cost.rent_on_demand_monthly, 72 * scale * 2.5, 1e-12);
	assert_rel(cost.rent_reserved_monthly, 2 * month_h * 1.5 + 24 * scale * 2.5, 1e-12);
	llmcap_scenario_free(&sc);
	scenario(&sc, sets2, 6); /* with cost.rent.reserved: p: 3 */
	res.sc = &sc;
	llmcap_results_usage(&res, &use);
	assert_rel(use.pools[0].baseline_replicas, 3, 0);
	assert_rel(use.pools[0].burst_replica_hours, 12, 1e-12); /* 1 above 3 for 12 h */
	llmcap_cost_compute(&sc, &use, &cost);
	assert_rel(cost.rent_reserved_monthly, 3 * month_h * 1.5 + 12 * scale * 2.5, 1e-12);
	llmcap_scenario_free(&sc);
}

/* The shipped scenario (diurnal traffic, both pools autoscaled) in both engine modes: the same
 * digest, held time and changes, and the pools do scale; with each metric (KV use and
 * utilisation change during the fast mode's runs, which must stop before each decision). */
static void shipped_scenario_fast_equals_exact(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof path, "%s/models/scenarios/autoscale-rent.yaml", LLMCAP_SOURCE_DIR);
	const char *metrics[][2] = {
		{"pools.utility.autoscale.metric=concurrency", "pools.reasoning.autoscale.metric=concurrency"},
		{"pools.utility.autoscale={metric: kv, target: 0.002}",
		 "pools.reasoning.autoscale={metric: kv, target: 0.05}"},
		{"pools.utility.autoscale={metric: utilisation, target: 0.5}",
		 "pools.reasoning.autoscale={metric: utilisation, target: 0.5}"},
	};
	for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++) {
		struct llmcap_results res[2];
		struct llmcap_scenario sc[2];
		for (int mode = 0; mode < 2; mode++) {
			struct llmcap_error err = {0};
			const char *sets[] = {"horizon=16h", mode ? "engine_mode=exact" : "engine_mode=fast",
					      metrics[m][0], metrics[m][1]};
			if (llmcap_scenario_load(&sc[mode], path, sets, 4, &cat, &err) != 0)
				fail_msg("%s", err.msg);
			if (llmcap_simulate(&sc[mode], &cat, NULL, &res[mode], &err) != 0)
				fail_msg("%s", err.msg);
		}
		assert_true(res[0].digest == res[1].digest);
		assert_int_equal(res[0].events, res[1].events);
		assert_true(res[0].fast_steps > 0 && res[1].fast_steps == 0);
		assert_int_equal(res[0].n_scale_log, res[1].n_scale_log);
		for (size_t i = 0; i < res[0].n_scale_log; i++)
			assert_memory_equal(&res[0].scale_log[i], &res[1].scale_log[i],
					    sizeof res[0].scale_log[i]);
		for (size_t p = 0; p < res[0].n_pools; p++) {
			assert_true(res[0].pools[p].autoscaled);
			assert_true(res[0].pools[p].held_time == res[1].pools[p].held_time);
			assert_true(res[0].pools[p].scale_ups > 0);
			/* less than the peak fleet all the time */
			assert_true(res[0].pools[p].held_time <
				    (double)res[0].pools[p].peak_held * (double)res[0].horizon);
		}
		for (int mode = 0; mode < 2; mode++) {
			llmcap_results_free(&res[mode]);
			llmcap_scenario_free(&sc[mode]);
		}
	}
}

/* llmcap decide with --autoscale: the rent options bill the autoscaled run's held GPU-hours,
 * never more than the fixed fleet held all month (the same fleet is each pool's maximum), and
 * less on the reference scenario's diurnal day, where the quietest hour needs a fraction of it. */
static void decide_rents_the_autoscaled_fleet(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"horizon=1d"};
	if (llmcap_scenario_load(&sc, NULL, sets, 1, &cat, &err) != 0)
		fail_msg("%s", err.msg);
	static struct llmcap_decision d[2];
	const int bf16[] = {LLMCAP_DTYPE_BF16};
	for (int as = 0; as < 2; as++) {
		struct llmcap_decide_spec spec = {.tokens_per_month = NAN, .seeds = 1, .threads = 2,
						  .dtypes = bf16, .n_dtypes = 1,
						  .rent_autoscale = as == 1};
		if (llmcap_decide(&sc, &cat, &spec, &d[as], &err) != 0)
			fail_msg("%s", err.msg);
		assert_true(d[as].rent_autoscaled == (as == 1));
	}
	size_t checked = 0;
	for (size_t i = 0; i < d[0].n_options; i++) {
		const struct llmcap_decide_option *fixed = &d[0].options[i], *scaled = &d[1].options[i];
		assert_int_equal(fixed->option, scaled->option);
		if (fixed->option == LLMCAP_OPTION_OWN || fixed->option == LLMCAP_OPTION_API ||
		    fixed->option == LLMCAP_OPTION_HYBRID) {
			assert_true(fixed->monthly == scaled->monthly || isnan(fixed->monthly));
			continue;
		}
		assert_true(fixed->slo_met && scaled->slo_met);
		assert_memory_equal(fixed->replicas, scaled->replicas, sizeof fixed->replicas);
		assert_true(scaled->monthly < fixed->monthly);
		checked++;
	}
	assert_int_equal(checked, 3); /* on demand, reserved, spot */
	llmcap_scenario_free(&sc);
}

/* Spot (autoscale.spot, sim/engine/spot.c): two replicas held at their bounds (no scaling: the
 * queue target is never reached, the cooldown an hour), interrupted at 2,000 per replica-month
 * (about 2.7 per replica-hour) with a 1 s notice, under a steady load of 3 s requests. For every notice at
 * T to replica r: r leaves the live list (no request that arrived in (T, T + notice] starts on
 * r before its replacement), is terminated at exactly T + notice, and a replacement is held
 * from then and ready exactly a cold start later (unless itself interrupted first). The pool
 * never holds more than its two slots nor fewer than one (terminations and their replacements
 * at the same instant): held time is exactly 2 x the horizon, the replacements' cold starts
 * included. Requests on a terminated replica are retried (counted), and every request ends
 * exactly once, completed. */
static void spot_interruption_hand_checked(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.p.replicas=2",
			      "pools.p.autoscale={enabled: true, metric: queue, target: 1000, "
			      "interval: 10s, min_replicas: 2, max_replicas: 2, provisioning: 20s, "
			      "weights_bandwidth: 4GB, cooldown: 1h, spot: true, spot_notice: 1s, "
			      "spot_interruptions: 2000}",
			      "horizon=2h"};
	scenario(&sc, sets, 3);
	static struct llmcap_scripted_request q[MAX_REQ];
	size_t n = 0;
	for (llmcap_time t = 0; t < 2 * LLMCAP_HOUR - 5 * LLMCAP_MIN && n < MAX_REQ; t += 2 * LLMCAP_SEC)
		q[n++] = (struct llmcap_scripted_request){.time = t, .prompt = 200, .output = 300};
	static struct capture c;
	struct llmcap_results res;
	run(&sc, q, n, &c, &res);
	const llmcap_time cold = cold_start(&res, 20 * LLMCAP_SEC, 4e9);
	const llmcap_time notice = LLMCAP_SEC; /* shorter than a request (3 s): some are retried */
	size_t notices = 0, checked = 0;
	for (size_t k = 0; k < res.n_scale_log; k++) {
		const struct llmcap_scale_event *e = &res.scale_log[k];
		assert_true(e->held >= 1 && e->held <= 2);
		if (e->kind != LLMCAP_SCALE_NOTICE)
			continue;
		notices++;
		if (e->time + notice > sc.horizon)
			continue;
		/* its termination, then a replacement's start at the same instant */
		bool term = false, start = false;
		int32_t repl = -1;
		for (size_t j = k + 1; j < res.n_scale_log; j++) {
			const struct llmcap_scale_event *f = &res.scale_log[j];
			if (f->replica == e->replica && f->kind == LLMCAP_SCALE_INTERRUPT) {
				assert_int_equal(f->time, e->time + notice);
				term = true;
			} else if (term && f->kind == LLMCAP_SCALE_START) {
				assert_int_equal(f->time, e->time + notice);
				start = true;
				repl = f->replica;
				break;
			}
		}
		assert_true(term && start);
		/* ready a cold start later, unless a notice reached it first */
		for (size_t j = k + 1; j < res.n_scale_log; j++) {
			const struct llmcap_scale_event *f = &res.scale_log[j];
			if (f->replica != repl || f->time < e->time + notice)
				continue;
			if (f->kind == LLMCAP_SCALE_NOTICE)
				break;
			if (f->kind == LLMCAP_SCALE_READY) {
				assert_int_equal(f->time, e->time + notice + cold);
				checked++;
				break;
			}
		}
		/* no request that arrived during the notice started on the doomed replica before
		 * its replacement was ready */
		for (size_t i = 0; i < n; i++) {
			const struct llmcap_request_record *r = &c.rec[i];
			double a = (double)q[i].time * 1e-9, t0 = (double)e->time * 1e-9;
			if (r->replica == e->replica && a > t0 && a <= t0 + (double)notice * 1e-9)
				assert_true(a + r->queue >= (double)(e->time + notice + cold) * 1e-9 - 1e-6);
		}
	}
	assert_true(notices >= 3); /* ~10 expected: the test has something to check */
	assert_true(checked >= 1);
	assert_int_equal(res.pools[0].spot_interruptions, (int64_t)notices);
	assert_true(res.failures[0].retries > 0);
	assert_true(res.pools[0].held_time == 2.0 * (double)res.horizon);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(c.seen[i], 1);
		assert_int_equal(c.rec[i].status, LLMCAP_REQ_COMPLETED);
	}
	llmcap_results_free(&res);
	llmcap_scenario_free(&sc);
}

/* The shipped scenario with both pools on spot at a high rate: fast == exact (the same digest,
 * events and replica changes), the same bytes again for the same seed, and interruptions
 * happen (the reasoning pool's with a 1 s notice: its requests in flight are retried); with a rate too low to interrupt anything in the horizon the run is the plain
 * autoscaled run (what decide relies on to bill all three rents from one run). */
static void spot_fast_equals_exact_and_is_off_unless_asked(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof path, "%s/models/scenarios/autoscale-rent.yaml", LLMCAP_SOURCE_DIR);
	const char *variants[][3] = {
		{"engine_mode=fast", "pools.utility.autoscale={spot: true, spot_interruptions: 1000, spot_notice: 5s}",
		 "pools.reasoning.autoscale={spot: true, spot_interruptions: 1000, spot_notice: 1s}"},
		{"engine_mode=exact", "pools.utility.autoscale={spot: true, spot_interruptions: 1000, spot_notice: 5s}",
		 "pools.reasoning.autoscale={spot: true, spot_interruptions: 1000, spot_notice: 1s}"},
		{"engine_mode=fast", "pools.utility.autoscale={spot: true, spot_interruptions: 1000, spot_notice: 5s}",
		 "pools.reasoning.autoscale={spot: true, spot_interruptions: 1000, spot_notice: 1s}"},
		{"engine_mode=fast", "pools.utility.autoscale={spot: true, spot_interruptions: 1e-9}",
		 "pools.reasoning.autoscale={spot: true, spot_interruptions: 1e-9}"},
		{"engine_mode=fast", "pools.utility.autoscale={spot: false}",
		 "pools.reasoning.autoscale={spot: false}"},
	};
	struct llmcap_results res[5];
	struct llmcap_scenario sc[5];
	for (int v = 0; v < 5; v++) {
		struct llmcap_error err = {0};
		const char *sets[] = {"horizon=10h", variants[v][0], variants[v][1], variants[v][2]};
		if (llmcap_scenario_load(&sc[v], path, sets, 4, &cat, &err) != 0)
			fail_msg("%s", err.msg);
		if (llmcap_simulate(&sc[v], &cat, NULL, &res[v], &err) != 0)
			fail_msg("%s", err.msg);
	}
	for (int v = 1; v < 5; v += 2) {
		/* 1: exact against fast; 3: no interruption against spot off */
		const struct llmcap_results *a = &res[v == 1 ? 0 : 3], *b = &res[v == 1 ? 1 : 4];
		assert_true(a->digest == b->digest);
		assert_int_equal(a->events, b->events);
		assert_int_equal(a->n_scale_log, b->n_scale_log);
		for (size_t i = 0; i < a->n_scale_log; i++)
			assert_memory_equal(&a->scale_log[i], &b->scale_log[i], sizeof a->scale_log[i]);
		for (size_t p = 0; p < a->n_pools; p++)
			assert_true(a->pools[p].held_time == b->pools[p].held_time);
	}
	assert_true(res[0].fast_steps > 0 && res[1].fast_steps == 0);
	assert_true(res[0].digest == res[2].digest);
	int64_t hits = 0, retries = 0;
	for (size_t p = 0; p < res[0].n_pools; p++) {
		hits += res[0].pools[p].spot_interruptions;
		retries += res[0].failures[p].retries;
		assert_int_equal(res[3].pools[p].spot_interruptions, 0);
	}
	assert_true(hits > 0 && retries > 0);
	assert_true(res[0].digest != res[4].digest);
	for (int v = 0; v < 5; v++) {
		llmcap_results_free(&res[v]);
		llmcap_scenario_free(&sc[v]);
	}
}

/* fast == exact with spot interruptions on several seeds and notices, 0 included: a request
 * retried at a termination must end the fast run of the replica it is sent to, as an arrival
 * does (before the fix seeds 1-4 differed at notices of 1 ns to 5 s: the run went on past the
 * retry and the request waited for its end). */
static void spot_fast_equals_exact_on_every_seed(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof path, "%s/models/scenarios/autoscale-rent.yaml", LLMCAP_SOURCE_DIR);
	static const char *const notices[] = {"0s", "1ns", "5s"};
	int64_t retries = 0;
	for (int seed = 1; seed <= 4; seed++)
		for (size_t k = 0; k < 3; k++) {
			char sd[32], u[128], r[128];
			snprintf(sd, sizeof sd, "seed=%d", seed);
			snprintf(u, sizeof u, "pools.utility.autoscale={spot: true, spot_interruptions: 1000, "
					      "spot_notice: %s}", notices[k]);
			snprintf(r, sizeof r, "pools.reasoning.autoscale={spot: true, spot_interruptions: "
					      "1000, spot_notice: %s}", notices[k]);
			struct llmcap_results res[2];
			struct llmcap_scenario sc[2];
			for (int m = 0; m < 2; m++) {
				struct llmcap_error err = {0};
				const char *sets[] = {"horizon=10h", sd, u, r,
						      m ? "engine_mode=exact" : "engine_mode=fast"};
				if (llmcap_scenario_load(&sc[m], path, sets, 5, &cat, &err) != 0)
					fail_msg("%s", err.msg);
				if (llmcap_simulate(&sc[m], &cat, NULL, &res[m], &err) != 0)
					fail_msg("%s", err.msg);
			}
			if (res[0].digest != res[1].digest)
				fail_msg("seed %d, spot_notice %s: fast != exact", seed, notices[k]);
			assert_int_equal(res[0].events, res[1].events);
			assert_true(res[0].fast_steps > 0);
			for (size_t p = 0; p < res[0].n_pools; p++)
				retries += res[0].failures[p].retries;
			for (int m = 0; m < 2; m++) {
				llmcap_results_free(&res[m]);
				llmcap_scenario_free(&sc[m]);
			}
		}
	assert_true(retries > 0);
}

/* The bounds are checked before a run. */
static void bounds_are_checked(void **state)
{
	(void)state;
	const char *bad[][2] = {
		{"pools.p.autoscale={enabled: true, min_replicas: 3, max_replicas: 4}",
		 "expected min_replicas <= replicas <= max_replicas"},
		{"pools.p.autoscale={enabled: true, target: 2, down_below: 3}",
		 "expected down_below < up_above"},
		{"pools.p.autoscale={spot: true}", "expected enabled: true"},
	};
	for (size_t i = 0; i < 3; i++) {
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		llmcap_scenario_defaults(&sc);
		const char *sets[] = {"workload.classes={c: {pool: p}}",
				      "pools={p: {model: llama-3.1-8b}}", bad[i][0],
				      "cost.api.prices={c: {input: 1, output: 1}}"};
		for (size_t k = 0; k < 4; k++)
			assert_int_equal(llmcap_scenario_apply_override(&sc, sets[k], &err), 0);
		assert_int_not_equal(llmcap_scenario_check(&sc, &cat, &err), 0);
		assert_contains(err.msg, bad[i][1]);
		llmcap_scenario_free(&sc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(step_brings_a_replica_after_the_interval_and_cold_start),
		cmocka_unit_test(cold_start_delays_the_first_request_exactly),
		cmocka_unit_test(scale_down_never_drops_a_request),
		cmocka_unit_test(held_hours_and_their_rent),
		cmocka_unit_test(shipped_scenario_fast_equals_exact),
		cmocka_unit_test(decide_rents_the_autoscaled_fleet),
		cmocka_unit_test(spot_interruption_hand_checked),
		cmocka_unit_test(spot_fast_equals_exact_and_is_off_unless_asked),
		cmocka_unit_test(spot_fast_equals_exact_on_every_seed),
		cmocka_unit_test(bounds_are_checked),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

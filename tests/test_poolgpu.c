/* Pools on their own GPUs (issue 21, pools.NAME.gpu): a mixed fleet's own cost by GPU type
 * against a hand calculation; a pool's KV capacity on a GPU with less memory; a GPU that cannot
 * hold the model as a located error; the shipped mixed-gpus.yaml as a run; the per-pool GPU
 * decision (own and rent) on every seed against a brute-force enumeration of every combination
 * sized on every seed; the per-pool options of llmcap_decide. */
#include "test_util.h"

#include "llmcap/cost.h"
#include "llmcap/decide.h"
#include "llmcap/plan.h"
#include "llmcap/report.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

static struct llmcap_catalog cat;

#define MIXED LLMCAP_SOURCE_DIR "/models/scenarios/mixed-gpus.yaml"
#define MONTH_H 730.5 /* 365.25 / 12 days x 24 h */

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

static void load(struct llmcap_scenario *sc, const char *path, const char *const *sets, size_t n)
{
	struct llmcap_error err = {0};
	if (llmcap_scenario_load(sc, path, sets, n, &cat, &err))
		fail_msg("%s", err.msg);
}

/* mixed-gpus.yaml: reasoning 2 x TP2 on one 4x H200 server (the hardware block), utility
 * 2 x TP1 on 4x L40S servers of its own; one spare of each type; prices set here. */
static void mixed_fleet_cost_by_hand(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {
		"cost.spare_servers=1", "cost.opex=power", "cost.cost_of_capital=0",
		"cost.residual_fraction=0", "cost.gpus.h200-141gb.server=200000",
		"cost.gpus.l40s-48gb.server=60000", "cost.gpus.h200-141gb.idle_watts=100",
		"cost.gpus.h200-141gb.busy_watts=600", "cost.gpus.l40s-48gb.idle_watts=30",
		"cost.gpus.l40s-48gb.busy_watts=300", "cost.power.other_watts=1000",
		"cost.power.pue=1.5", "cost.power.electricity=0.2", "cost.power.colocation=100"};
	load(&sc, MIXED, sets, sizeof sets / sizeof *sets);
	struct llmcap_server_group gr[LLMCAP_MAX_POOLS + 1];
	size_t gof[LLMCAP_MAX_POOLS];
	size_t ng = llmcap_server_groups(&sc, NULL, gr, gof);
	/* group 0: the H200 block holding reasoning; group 1: L40S x 4 holding utility */
	assert_int_equal(ng, 2);
	assert_int_equal(gof[0], 1);
	assert_int_equal(gof[1], 0);
	assert_int_equal(gr[0].servers, 1);
	assert_int_equal(gr[1].servers, 1);
	assert_int_equal(gr[1].gpus_needed, 2);
	struct llmcap_usage u = {.horizon = LLMCAP_DAY, .gpu = llmcap_catalog_gpu(&cat, "h200-141gb"),
				 .n_pools = 2, .busy_gpus = 1.5};
	u.pools[0] = (struct llmcap_usage_pool){.gpu = llmcap_catalog_gpu(&cat, "l40s-48gb"),
						.busy_gpus = 0.5, .gpus_per_replica = 1,
						.replica_hours = 48, .baseline_replicas = 2};
	u.pools[1] = (struct llmcap_usage_pool){.gpu = u.gpu, .busy_gpus = 1.0,
						.gpus_per_replica = 2, .replica_hours = 48,
						.baseline_replicas = 2};
	struct llmcap_cost c;
	llmcap_cost_compute(&sc, &u, &c);
	assert_int_equal(c.n_groups, 2);
	/* capex, cash: (1 + 1 spare) x $200,000 + (1 + 1 spare) x $60,000 = $520,000 */
	assert_rel(c.capex, 520000, 1e-12);
	assert_rel(c.groups[0].capex, 400000, 1e-12);
	assert_rel(c.groups[1].capex, 120000, 1e-12);
	assert_rel(c.spare_servers, 2, 0);
	/* H200: 8 GPUs racked x 100 W + 1.0 busy x (600 - 100) + 2 servers x 1,000 = 3,300 W;
	 * L40S: 8 x 30 + 0.5 x (300 - 30) + 2 x 1,000 = 2,375 W */
	assert_rel(c.groups[0].avg_power_watts, 3300, 1e-12);
	assert_rel(c.groups[1].avg_power_watts, 2375, 1e-12);
	assert_rel(c.avg_power_watts, 5675, 1e-12);
	/* provisioned at TDP: H200 (8 x 700 + 2,000) W = 7.6 kW, L40S (8 x 350 + 2,000) = 4.8 kW */
	assert_rel(c.provisioned_kw, 12.4, 1e-12);
	/* 5.675 kW x PUE 1.5 x 730.5 h x $0.2 + 12.4 kW x $100 = 1,243.68 + 1,240 */
	double opex = 5.675 * 1.5 * MONTH_H * 0.2 + 12.4 * 100;
	assert_rel(c.opex_monthly, opex, 1e-12);
	assert_rel(c.self_total, 520000 + 36 * opex + 3 * 10000, 1e-12);
	assert_true(c.power_opex);
	/* rent follows each pool's GPU: utility 48 L40S GPU-hours a day, reasoning 96 H200 */
	double scale = 365.25 / 12;
	double od = 48 * scale * llmcap_catalog_gpu(&cat, "l40s-48gb")->price.on_demand +
		    96 * scale * llmcap_catalog_gpu(&cat, "h200-141gb")->price.on_demand;
	assert_rel(c.rent_on_demand_monthly, od, 1e-12);
	/* one rent row per GPU type, in the pools' order, each at its own prices, summing to the
	 * bills (the report prints these rows for a mixed fleet) */
	assert_int_equal(c.n_rent_gpus, 2);
	assert_string_equal(c.rent_gpus[0].gpu, "l40s-48gb");
	assert_string_equal(c.rent_gpus[1].gpu, "h200-141gb");
	assert_rel(c.rent_gpus[0].gpu_hours, 48 * scale, 1e-12);
	assert_rel(c.rent_gpus[1].gpu_hours, 96 * scale, 1e-12);
	assert_rel(c.rent_gpus[0].on_demand_monthly,
		   48 * scale * llmcap_catalog_gpu(&cat, "l40s-48gb")->price.on_demand, 1e-12);
	assert_rel(c.rent_gpus[0].on_demand_monthly + c.rent_gpus[1].on_demand_monthly, od, 1e-12);
	assert_rel(c.rent_gpus[0].spot_monthly + c.rent_gpus[1].spot_monthly, c.rent_spot_monthly,
		   1e-12);
	assert_rel(c.rent_gpus[0].reserved_gpus, 2, 0);
	assert_rel(c.rent_gpus[1].reserved_gpus, 4, 0);
	/* a reserved price missing for one type leaves its row and the bill without a figure */
	assert_true(isnan(c.rent_gpus[1].reserved_monthly) == isnan(c.rent_reserved_monthly));
}

/* The same fleet with one pool moved to the hardware GPU is priced as one group (as before). */
static void one_type_is_one_group(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"pools.utility.gpu=h200-141gb", "pools.utility.gpus_per_server=0",
			      "hardware.servers=2"};
	load(&sc, MIXED, sets, 3);
	assert_false(llmcap_scenario_mixed_gpus(&sc));
	const char *sets2[] = {"pools.utility.gpu=h200", "pools.utility.gpus_per_server=8"};
	load(&sc, MIXED, sets2, 2);
	/* an alias names the catalog entry; a different server size is a group of its own */
	assert_string_equal(sc.pools[0].gpu, "h200-141gb");
	assert_true(llmcap_scenario_mixed_gpus(&sc));
}

/* A pool on an A100 40GB beside an H100 fleet: its KV cache is what 40 GiB leaves. */
static void kv_capacity_on_smaller_gpu(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=10min", "pools.utility.gpu=a100-sxm-40gb"};
	load(&sc, NULL, sets, 2);
	struct llmcap_results res;
	struct llmcap_error err = {0};
	if (llmcap_simulate(&sc, &cat, NULL, &res, &err))
		fail_msg("%s", err.msg);
	const struct llmcap_memory_plan *m = &res.pools[0].plan;
	assert_string_equal(res.pools[0].gpu->name, "a100-sxm-40gb");
	assert_string_equal(res.pools[1].gpu->name, "h100-sxm-80gb");
	/* vLLM's rule: 40,960 MiB x gpu_memory_utilization 0.9 */
	double budget = 40960.0 * 1024 * 1024 * 0.9;
	assert_rel(m->budget_bytes_per_gpu, budget, 1e-12);
	/* Llama-3.1-8B, 16-bit KV: 32 layers x 8 KV heads x 128 x (K, V) x 2 bytes per token */
	assert_rel(m->kv_bytes_per_token, 32 * 8 * 128 * 2 * 2, 0);
	double kv = budget - m->weight_bytes_per_gpu - m->activation_bytes_per_gpu -
		    m->overhead_bytes_per_gpu;
	assert_int_equal(m->num_blocks, (int64_t)floor(kv / (131072.0 * 16)));
	/* the same weights on the H100 fleet leave (81,559 - 40,960) MiB x 0.9 more */
	struct llmcap_scenario h;
	const char *hs[] = {"horizon=10min"};
	load(&h, NULL, hs, 1);
	struct llmcap_results hres;
	if (llmcap_simulate(&h, &cat, NULL, &hres, &err))
		fail_msg("%s", err.msg);
	assert_rel(hres.pools[0].plan.kv_bytes_per_gpu - m->kv_bytes_per_gpu,
		   (81559.0 - 40960.0) * 1024 * 1024 * 0.9, 1e-9);
	assert_true(hres.pools[0].plan.num_blocks > m->num_blocks);
	llmcap_results_free(&hres);
	llmcap_results_free(&res);
}

/* The 70B model in BF16 on TP 2 of L40S (48 GB): 65.7 GiB of weights per GPU do not fit. */
static void gpu_that_cannot_hold_the_model(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	const char *sets[] = {"pools.reasoning.gpu=l40s-48gb"};
	assert_int_not_equal(llmcap_scenario_load(&sc, MIXED, sets, 1, &cat, &err), 0);
	assert_contains(err.msg, "mixed-gpus.yaml:");
	assert_contains(err.msg, "pools.reasoning.model");
	assert_contains(err.msg, "l40s-48gb");
	const char *bad[] = {"pools.utility.gpu=h900"};
	assert_int_not_equal(llmcap_scenario_load(&sc, MIXED, bad, 1, &cat, &err), 0);
	assert_contains(err.msg, "mixed-gpus.yaml:");
	assert_contains(err.msg, "pools.utility.gpu: 'h900' is not in the catalog");
	const char *big[] = {"pools.utility.tensor_parallel_size=8"};
	assert_int_not_equal(llmcap_scenario_load(&sc, MIXED, big, 1, &cat, &err), 0);
	assert_contains(err.msg, "pools.utility.tensor_parallel_size: 8 exceeds its gpus_per_server 4");
}

/* The shipped mixed fleet runs: each pool on its GPU, servers and costs by type. */
static void mixed_scenario_runs(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=2h"};
	load(&sc, MIXED, sets, 1);
	struct llmcap_results res;
	struct llmcap_error err = {0};
	if (llmcap_simulate(&sc, &cat, NULL, &res, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(res.pools[0].gpu->name, "l40s-48gb");
	assert_string_equal(res.pools[1].gpu->name, "h200-141gb");
	/* the L40S pool's step times use the L40S's peak */
	assert_rel(res.pools[0].peak_flops, 362e12, 1e-12);
	struct llmcap_cost c;
	llmcap_results_cost(&res, &c);
	assert_int_equal(c.n_groups, 2);
	assert_string_equal(c.groups[1].gpu, "l40s-48gb");
	/* the H200 server (35,000 + 4 x 32,000) and the L40S one (20,000 + 4 x 9,000), cash */
	assert_rel(c.capex, 163000 + 56000, 1e-12);
	/* run --json names each pool's GPU and the servers by type */
	struct llmcap_summary sum;
	assert_int_equal(llmcap_summarize(&res, &sum), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	llmcap_report_json(&res, &sum, f);
	fclose(f);
	assert_contains(buf, "\"gpus\": {\"pools\": {\"utility\": \"l40s-48gb\", \"reasoning\": \"h200-141gb\"}");
	assert_contains(buf, "{\"gpu\": \"l40s-48gb\", \"gpus_per_server\": 4, \"servers\": 1,");
	free(buf);
	llmcap_summary_free(&sum);
	llmcap_results_free(&res);
}

/* One combination of the brute force: pools on GPUs (gi, gj) at the decision's TP sizes. */
static void place_both(struct llmcap_scenario *v, const struct llmcap_pool_gpu_choice *d,
		       const char *const *gpus, size_t i, size_t j)
{
	snprintf(v->pools[0].gpu, sizeof v->pools[0].gpu, "%s", gpus[i]);
	snprintf(v->pools[1].gpu, sizeof v->pools[1].gpu, "%s", gpus[j]);
	v->pools[0].tensor_parallel_size = d->tp[0][i];
	v->pools[1].tensor_parallel_size = d->tp[1][j];
	for (size_t p = 0; p < 2; p++)
		if (!strcmp(v->pools[p].gpu, v->hardware.gpu))
			v->pools[p].gpus_per_server = 0;
}

/* The per-pool GPU decision on a small case over SEEDS seeds, against every combination of GPUs
 * sized on every seed (the largest of the seeds' smallest fleets, as decide chooses), then run
 * as one fleet on every seed and priced as the decision prices (a month of the run): the same
 * choice for own and for rent on demand, at the cost of the cheapest combination that meets the
 * SLOs on every seed; and the chosen fleet is at least every seed's smallest on its GPUs. */
#define SEEDS 2
static void decision_matches_brute_force(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=2h", "workload.rate=60000/day", "workload.classes.reasoning.slo_tpot_p99=30ms",
			      "workload.diurnal.shape=none", "cost.opex=power",
			      "cost.gpus.l40s-48gb.chassis=20000", "hardware.gpus_per_server=2", "hardware.servers=2"};
	load(&sc, MIXED, sets, sizeof sets / sizeof *sets);
	const char *gpus[] = {"h100-sxm-80gb", "l40s-48gb", "h200-141gb"};
	struct llmcap_pool_gpu_choice *d = malloc(sizeof *d);
	struct llmcap_error err = {0};
	if (llmcap_decide_pool_gpus(&sc, &cat, gpus, 3, SEEDS, 2, true, d, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(d->seeds, SEEDS);
	assert_true(d->feasible);
	assert_true(d->slo_met);
	double best = INFINITY, best_od = INFINITY;
	size_t bi = 0, bj = 0, oi = 0, oj = 0;
	int64_t fleet_own[2] = {0}, fleet_od[2] = {0};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++) {
			if (!d->tp[0][i] || !d->tp[1][j])
				continue;
			struct llmcap_scenario v = sc;
			place_both(&v, d, gpus, i, j);
			int64_t rep[2] = {0};
			bool sized = true;
			for (size_t s = 0; s < SEEDS; s++) {
				v.seed = sc.seed + s;
				struct llmcap_fleet f;
				if (llmcap_plan_fleet_fast(&v, &cat, NAN, -1, NULL, NULL, true, &f, &err))
					fail_msg("%s", err.msg);
				sized &= f.feasible;
				for (size_t p = 0; p < 2; p++)
					rep[p] = f.replicas[p] > rep[p] ? f.replicas[p] : rep[p];
			}
			if (!sized)
				continue;
			/* every seed's smallest fleet on the decision's GPUs is within its choice */
			for (size_t p = 0; p < 2; p++)
				if (!strcmp(gpus[p ? j : i], d->gpu[p]))
					assert_true(d->replicas[p][p ? j : i] == rep[p]);
			v.pools[0].replicas = rep[0];
			v.pools[1].replicas = rep[1];
			v.hardware.servers = llmcap_plan_servers(&v, rep);
			bool met = true;
			double own = 0, od = 0;
			for (size_t s = 0; s < SEEDS; s++) {
				v.seed = sc.seed + s;
				struct llmcap_results res;
				struct llmcap_summary sum;
				if (llmcap_simulate(&v, &cat, NULL, &res, &err))
					fail_msg("%s", err.msg);
				assert_int_equal(llmcap_summarize(&res, &sum), 0);
				met &= sum.peak.all_slo_met;
				for (size_t c = 0; c < sum.n_classes; c++)
					met &= sum.classes[c].rejected == 0;
				struct llmcap_cost c;
				llmcap_plan_month_cost(&v, &res, &c);
				own += c.self_monthly / SEEDS;
				od += c.rent_on_demand_monthly / SEEDS;
				llmcap_summary_free(&sum);
				llmcap_results_free(&res);
			}
			if (met && own < best) {
				best = own;
				bi = i, bj = j;
				memcpy(fleet_own, rep, sizeof rep);
			}
			if (met && od < best_od) {
				best_od = od;
				oi = i, oj = j;
				memcpy(fleet_od, rep, sizeof rep);
			}
		}
	print_message("decision: %s TP%lld x%lld, %s TP%lld x%lld, $%.2f/month (est $%.2f), %zu combinations, %d sims; brute force %s, %s $%.2f; rent on demand %s, %s $%.2f (brute force %s, %s $%.2f)\n", d->gpu[0], (long long)d->choice_tp[0], (long long)d->choice_replicas[0], d->gpu[1], (long long)d->choice_tp[1], (long long)d->choice_replicas[1], d->monthly, d->estimated_monthly, d->combinations, d->simulations, gpus[bi], gpus[bj], best, d->picks[1].gpu[0], d->picks[1].gpu[1], d->picks[1].monthly, gpus[oi], gpus[oj], best_od);
	assert_true(isfinite(best));
	/* the case is built so that the pools differ: reasoning fills 2-GPU H200 servers, and a
	 * 4x L40S server costs less than a third H200 one for the utility replica */
	assert_string_not_equal(d->gpu[0], d->gpu[1]);
	assert_string_equal(d->gpu[0], gpus[bi]);
	assert_string_equal(d->gpu[1], gpus[bj]);
	assert_int_equal(d->choice_replicas[0], fleet_own[0]);
	assert_int_equal(d->choice_replicas[1], fleet_own[1]);
	assert_rel(d->monthly, best, 1e-9);
	/* rent on demand: its own choice, priced by each pool's GPU's hourly rate */
	const struct llmcap_pool_gpu_pick *r = &d->picks[1];
	assert_int_equal(r->option, LLMCAP_OPTION_RENT_ON_DEMAND);
	assert_true(r->feasible && r->slo_met);
	assert_string_equal(r->gpu[0], gpus[oi]);
	assert_string_equal(r->gpu[1], gpus[oj]);
	assert_int_equal(r->replicas[0], fleet_od[0]);
	assert_int_equal(r->replicas[1], fleet_od[1]);
	assert_rel(r->monthly, best_od, 1e-9);
	/* the closed-form bracket changes nothing */
	struct llmcap_pool_gpu_choice *u = malloc(sizeof *u);
	if (llmcap_decide_pool_gpus(&sc, &cat, gpus, 3, SEEDS, 2, false, u, &err))
		fail_msg("%s", err.msg);
	assert_memory_equal(u->replicas, d->replicas, sizeof d->replicas);
	assert_memory_equal(u->sized, d->sized, sizeof d->sized);
	print_message("simulations: %d with the bracket, %d without\n", d->simulations, u->simulations);
	assert_true(d->simulations <= u->simulations);
	free(u);
	free(d);
}

/* llmcap_decide with spec.pool_gpus adds own and the three rents per pool, every one run on
 * every seed: each that meets its SLOs did so on every seed, and the ranking includes them. */
static void decide_adds_per_pool_options(void **state)
{
	(void)state;
	struct llmcap_scenario sc;
	const char *sets[] = {"horizon=2h", "workload.rate=20000/day", "workload.diurnal.shape=none"};
	load(&sc, MIXED, sets, sizeof sets / sizeof *sets);
	struct llmcap_decide_spec spec = {.tokens_per_month = NAN, .seeds = SEEDS, .threads = 2,
					  .pool_gpus = true};
	struct llmcap_decision *row = malloc(sizeof *row);
	struct llmcap_error err = {0};
	if (llmcap_decide(&sc, &cat, &spec, row, &err))
		fail_msg("%s", err.msg);
	size_t per_pool = 0;
	for (size_t i = 0; i < row->n_options; i++) {
		const struct llmcap_decide_option *o = &row->options[i];
		if (strcmp(o->gpu, "per-pool"))
			continue;
		per_pool++;
		assert_true(o->option == LLMCAP_OPTION_OWN || o->option == LLMCAP_OPTION_RENT_ON_DEMAND ||
			    o->option == LLMCAP_OPTION_RENT_RESERVED || o->option == LLMCAP_OPTION_RENT_SPOT);
		if (!o->sized)
			continue;
		for (size_t p = 0; p < sc.n_pools; p++) {
			assert_true(o->pool_gpu[p][0] != 0);
			assert_true(o->pool_tp[p] >= 1);
			assert_true(o->replicas[p] >= 1);
		}
		if (o->option == LLMCAP_OPTION_OWN)
			for (size_t p = 0; p < sc.n_pools; p++)
				assert_string_equal(row->pool_gpu[p], o->pool_gpu[p]);
		if (o->slo_met && isfinite(o->monthly))
			assert_true(row->best >= 0 &&
				    row->options[row->best].monthly <= o->monthly);
	}
	assert_int_equal(per_pool, LLMCAP_POOL_GPU_PICKS);
	free(row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mixed_fleet_cost_by_hand),
		cmocka_unit_test(one_type_is_one_group),
		cmocka_unit_test(kv_capacity_on_smaller_gpu),
		cmocka_unit_test(gpu_that_cannot_hold_the_model),
		cmocka_unit_test(mixed_scenario_runs),
		cmocka_unit_test(decision_matches_brute_force),
		cmocka_unit_test(decide_adds_per_pool_options),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

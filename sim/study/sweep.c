/* Sweep points, seeds, metrics, confidence intervals and the resume journal. See
 * include/llmcap/sweep.h. */
#include "llmcap/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llmcap/batch.h"
#include "llmcap/cost.h"

size_t llmcap_sweep_value_index(const struct llmcap_sweep *sw, size_t point, size_t axis)
{
	if (sw->zip)
		return point;
	/* mixed radix, the last axis fastest */
	for (size_t a = sw->n_axes; a-- > axis + 1;)
		point /= sw->axes[a].n;
	return point % sw->axes[axis].n;
}

static int load_point(const struct llmcap_sweep *sw, size_t point, const struct llmcap_catalog *cat,
		      struct llmcap_scenario *sc, struct llmcap_error *err)
{
	size_t n = sw->n_sets + sw->n_axes;
	const char **ov = calloc(n ? n : 1, sizeof *ov);
	char (*buf)[LLMCAP_SWEEP_KEY_MAX + LLMCAP_SWEEP_VALUE_MAX + 2] =
		calloc(sw->n_axes ? sw->n_axes : 1, sizeof *buf);
	if (!ov || !buf) {
		free(ov);
		free(buf);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sw->n_sets; i++)
		ov[i] = sw->sets[i];
	for (size_t a = 0; a < sw->n_axes; a++) {
		snprintf(buf[a], sizeof buf[a], "%s=%s", sw->axes[a].key,
			 sw->axes[a].values[llmcap_sweep_value_index(sw, point, a)]);
		ov[sw->n_sets + a] = buf[a];
	}
	int rc = llmcap_scenario_load(sc, sw->file, ov, n, cat, err);
	/* the axes' values are applied as overrides, whose messages name --set: name --vary */
	for (size_t a = 0; rc != 0 && err && a < sw->n_axes; a++) {
		char set[sizeof buf[a] + 16];
		int k = snprintf(set, sizeof set, "--set '%s'", buf[a]);
		if (k > 0 && !strncmp(err->msg, set, (size_t)k)) {
			/* "--set" and "--var" have one length: shift one byte for the 'y' */
			memmove(err->msg + 6, err->msg + 5, sizeof err->msg - 6);
			err->msg[sizeof err->msg - 1] = '\0';
			memcpy(err->msg, "--vary", 6);
		}
	}
	free(ov);
	free(buf);
	return rc;
}

int llmcap_sweep_scenario(const struct llmcap_sweep *sw, size_t task, const struct llmcap_catalog *cat,
			  struct llmcap_scenario *sc, struct llmcap_error *err)
{
	int rc = load_point(sw, task / (size_t)sw->seeds, cat, sc, err);
	if (rc == 0)
		sc->seed += (uint64_t)(task % (size_t)sw->seeds);
	return rc;
}

/* ---- metrics ---- */

static const char *const class_metrics[] = {
	"completed", "rejected", "unfinished", "spilled",
	"ttft_p50_s", "ttft_p90_s", "ttft_p99_s", "ttft_mean_s",
	"tpot_p50_s", "tpot_p90_s", "tpot_p99_s",
	"e2e_p50_s", "e2e_p90_s", "e2e_p99_s", "queue_mean_s",
	"slo_attainment", "peak_ttft_p99_s", "peak_tpot_p99_s", "peak_slo_met",
};
#define N_CLASS_METRICS (sizeof class_metrics / sizeof class_metrics[0])
static const char *const pool_metrics[] = {
	"busy", "kv_mean", "kv_peak", "preemptions", "mfu", "hbm_fraction",
};
#define N_POOL_METRICS (sizeof pool_metrics / sizeof pool_metrics[0])
static const char *const run_metrics[] = {
	"all_slo_met", "tokens_per_month", "self_hosted_total", "api_total", "hybrid_total",
	"self_per_1m_served",
	/* renting the same fleet (held every hour: a fixed fleet), over the horizon */
	"rent_on_demand_total", "rent_reserved_total", "rent_spot_total", "hybrid_rent_total",
	"rent_gpu_hours_per_month",
};
#define N_RUN_METRICS (sizeof run_metrics / sizeof run_metrics[0])
/* per prefill group of a disaggregated pair (pools.NAME.disaggregation), its stages in the
 * order a request meets them, over completed transfers (docs/engine.md) */
static const char *const disagg_metrics[] = {
	"prefill_queue_p99_s", "prefill_queue_mean_s", "prefill_p99_s", "prefill_mean_s",
	"decode_queue_p99_s", "decode_queue_mean_s", "kv_transfer_p99_s", "kv_transfer_mean_s",
};
#define N_DISAGG_METRICS (sizeof disagg_metrics / sizeof disagg_metrics[0])

static size_t n_disagg_pools(uint32_t mask)
{
	size_t n = 0;
	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

void llmcap_sweep_metrics(const struct llmcap_sweep *sw, const struct llmcap_scenario *sc,
			  struct llmcap_results *res, const struct llmcap_summary *sum, double *m)
{
	size_t k = 0;
	for (size_t c = 0; c < sum->n_classes; c++) {
		const struct llmcap_group_summary *g = &sum->classes[c];
		m[k++] = (double)g->completed;
		m[k++] = (double)g->rejected;
		m[k++] = (double)g->unfinished;
		m[k++] = (double)g->spilled;
		m[k++] = g->lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P50];
		m[k++] = g->lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P90];
		m[k++] = g->lat[LLMCAP_LAT_TTFT][LLMCAP_ST_P99];
		m[k++] = g->lat[LLMCAP_LAT_TTFT][LLMCAP_ST_MEAN];
		m[k++] = g->lat[LLMCAP_LAT_TPOT][LLMCAP_ST_P50];
		m[k++] = g->lat[LLMCAP_LAT_TPOT][LLMCAP_ST_P90];
		m[k++] = g->lat[LLMCAP_LAT_TPOT][LLMCAP_ST_P99];
		m[k++] = g->lat[LLMCAP_LAT_E2E][LLMCAP_ST_P50];
		m[k++] = g->lat[LLMCAP_LAT_E2E][LLMCAP_ST_P90];
		m[k++] = g->lat[LLMCAP_LAT_E2E][LLMCAP_ST_P99];
		m[k++] = g->lat[LLMCAP_LAT_QUEUE][LLMCAP_ST_MEAN];
		m[k++] = g->slo_attainment;
		bool hour = sum->peak.busiest_hour >= 0;
		m[k++] = hour ? sum->peak.ttft_p99[c] : NAN;
		m[k++] = hour ? sum->peak.tpot_p99[c] : NAN;
		m[k++] = hour ? (double)sum->peak.slo_met[c] : NAN;
	}
	for (size_t p = 0; p < sum->n_pools; p++) {
		const struct llmcap_util_summary *u = &sum->pool_util[p];
		m[k++] = u->busy;
		m[k++] = u->kv_mean;
		m[k++] = u->kv_peak;
		m[k++] = (double)u->preemptions;
		m[k++] = u->mfu;
		m[k++] = u->hbm_fraction;
	}
	struct llmcap_cost cost;
	llmcap_results_cost(res, &cost);
	m[k++] = sum->peak.busiest_hour >= 0 ? (double)sum->peak.all_slo_met : NAN;
	m[k++] = cost.tokens_per_month;
	m[k++] = cost.self_total;
	m[k++] = cost.api_total;
	m[k++] = cost.hybrid_total;
	m[k++] = cost.self_per_1m_served;
	m[k++] = cost.rent_on_demand_total;
	m[k++] = cost.rent_reserved_total;
	m[k++] = cost.rent_spot_total;
	m[k++] = cost.hybrid_rent_total;
	m[k++] = cost.rent_gpu_hours;
	for (size_t p = 0; p < sum->n_pools; p++) {
		if (!(sw->disagg_pools >> p & 1))
			continue;
		struct llmcap_disagg_stats *d = &res->disagg[p];
		struct llmcap_quantiles *q[] = {&d->prefill_queue, &d->prefill, &d->decode_queue,
						&d->transfer};
		for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
			m[k++] = d->on ? llmcap_quantiles_get(q[i], 0.99) : NAN;
			m[k++] = d->on ? llmcap_quantiles_mean(q[i]) : NAN;
		}
	}
}

static int name_metrics(struct llmcap_sweep *sw, const struct llmcap_scenario *sc,
			struct llmcap_error *err)
{
	size_t nc = sc->workload.n_classes, np = sc->n_pools;
	sw->disagg_pools = 0;
	for (size_t p = 0; p < np; p++)
		if (sc->pools[p].disaggregation.decode_pool[0])
			sw->disagg_pools |= UINT32_C(1) << p;
	sw->n_summary_metrics = nc * N_CLASS_METRICS + np * N_POOL_METRICS + N_RUN_METRICS +
				n_disagg_pools(sw->disagg_pools) * N_DISAGG_METRICS;
	size_t nb = sw->batch_means ? llmcap_batch_n_metrics(nc, np) : 0;
	sw->n_metrics = sw->n_summary_metrics + 2 * nb;
	sw->metric_names = calloc(sw->n_metrics, sizeof *sw->metric_names);
	if (!sw->metric_names)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t c = 0; c < nc; c++)
		for (size_t i = 0; i < N_CLASS_METRICS; i++)
			snprintf(sw->metric_names[k++], LLMCAP_SWEEP_METRIC_MAX, "%s_%s",
				 sc->workload.classes[c].name, class_metrics[i]);
	for (size_t p = 0; p < np; p++)
		for (size_t i = 0; i < N_POOL_METRICS; i++)
			snprintf(sw->metric_names[k++], LLMCAP_SWEEP_METRIC_MAX, "%s_%s", sc->pools[p].name,
				 pool_metrics[i]);
	for (size_t i = 0; i < N_RUN_METRICS; i++)
		snprintf(sw->metric_names[k++], LLMCAP_SWEEP_METRIC_MAX, "%s", run_metrics[i]);
	for (size_t p = 0; p < np; p++)
		for (size_t i = 0; (sw->disagg_pools >> p & 1) && i < N_DISAGG_METRICS; i++)
			snprintf(sw->metric_names[k++], LLMCAP_SWEEP_METRIC_MAX, "%s_%s", sc->pools[p].name,
				 disagg_metrics[i]);
	for (size_t i = 0; i < nb; i++) {
		char name[LLMCAP_SWEEP_METRIC_MAX];
		llmcap_batch_metric_name(sc, i, name, sizeof name);
		snprintf(sw->metric_names[k++], LLMCAP_SWEEP_METRIC_MAX, "%.80s_bm_mean", name);
		snprintf(sw->metric_names[k++], LLMCAP_SWEEP_METRIC_MAX, "%.80s_bm_ci95", name);
	}
	/* a class and a pool may share a name; their suffixes differ, but check anyway */
	for (size_t i = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++)
			if (!strcmp(sw->metric_names[i], sw->metric_names[j]))
				return llmcap_errorf(err, LLMCAP_EINVAL,
						     "sweep: two metrics would be named '%s'; rename a class "
						     "or pool", sw->metric_names[i]);
	return 0;
}

/* Points must keep the base's classes and pools (same names, same order): the table has one
 * column per class and pool metric. */
static int same_shape(const struct llmcap_scenario *a, const struct llmcap_scenario *b)
{
	if (a->workload.n_classes != b->workload.n_classes || a->n_pools != b->n_pools)
		return 0;
	for (size_t c = 0; c < a->workload.n_classes; c++)
		if (strcmp(a->workload.classes[c].name, b->workload.classes[c].name))
			return 0;
	for (size_t p = 0; p < a->n_pools; p++)
		if (strcmp(a->pools[p].name, b->pools[p].name))
			return 0;
	return 1;
}

void llmcap_sweep_free(struct llmcap_sweep *sw)
{
	for (size_t a = 0; a < sw->n_axes; a++)
		free(sw->axes[a].values);
	for (size_t p = 0; sw->point_error && p < sw->n_points; p++)
		free(sw->point_error[p]);
	free(sw->point_error);
	free(sw->metric_names);
	free(sw->point_seed);
	free(sw->base_yaml);
	memset(sw, 0, sizeof *sw);
}

void llmcap_sweep_point_label(const struct llmcap_sweep *sw, size_t point, char *buf, size_t n)
{
	size_t k = 0;
	if (n)
		buf[0] = '\0';
	for (size_t a = 0; a < sw->n_axes && k < n; a++) {
		int w = snprintf(buf + k, n - k, "%s%s=%s", a ? ", " : "", sw->axes[a].key,
				 sw->axes[a].values[llmcap_sweep_value_index(sw, point, a)]);
		if (w < 0)
			break;
		k += (size_t)w;
	}
}

/* Whether a point's failure to load is the point's own (its values are invalid or do not fit),
 * which --skip-invalid may skip, rather than the machine's (memory, files). */
static bool point_invalid(int rc)
{
	return rc == -LLMCAP_EINVAL || rc == -LLMCAP_ECAPACITY;
}

/* "--vary KEY=SPEC" or "FILE:LINE:COLUMN: sweep.vary.KEY", for messages about an axis */
static void axis_origin(const struct llmcap_sweep_axis *ax, char *buf, size_t n)
{
	if (ax->where[0])
		snprintf(buf, n, "%s: sweep.vary.%s", ax->where, ax->key);
	else
		snprintf(buf, n, "--vary %s=%s", ax->key, ax->spec);
}

/* Replaces every "@NAME" value of an axis by the set's values, in place. */
static int expand_sets(struct llmcap_sweep_axis *ax, const struct llmcap_scenario *base,
		       const struct llmcap_catalog *cat, struct llmcap_error *err)
{
	bool any = false;
	for (size_t i = 0; i < ax->n; i++)
		any |= ax->values[i][0] == '@';
	if (!any)
		return 0;
	struct llmcap_sweep_axis out = {0};
	snprintf(out.key, sizeof out.key, "%s", ax->key);
	size_t cap = 0;
	char where[LLMCAP_SWEEP_SPEC_MAX + 400];
	axis_origin(ax, where, sizeof where);
	int rc = 0;
	enum { MAXN = 4 * LLMCAP_CATALOG_MAX };
	const char **names = malloc(MAXN * sizeof *names);
	if (!names)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < ax->n; i++) {
		const char *v = ax->values[i];
		if (v[0] != '@') {
			rc = llmcap_sweep_axis_add(&out, &cap, v, strlen(v), err);
			continue;
		}
		const char *set = v + 1;
		int n = -2;
		const char *user = NULL;
		if (!strcmp(set, "all")) {
			n = llmcap_schema_key_values(ax->key, cat, names, MAXN);
			if (n < 0)
				rc = llmcap_errorf(err, LLMCAP_EUSAGE, "%s: '%s' is not a key of the scenario "
						   "(llmcap schema lists them)", where, ax->key);
			else if (n == 0)
				rc = llmcap_errorf(err, LLMCAP_EUSAGE,
						   "%s: @all needs a key with a fixed set of values (a name such "
						   "as a dtype or router, true/false, or a catalog entry such as "
						   "hardware.gpu); %s takes open values: give a list or a range",
						   where, ax->key);
		} else if (!strcmp(set, "gpus") || !strcmp(set, "models") || !strcmp(set, "engines") ||
			   !strcmp(set, "prices")) {
			const char *key = !strcmp(set, "gpus")      ? "hardware.gpu"
					  : !strcmp(set, "models")  ? "pools.x.model"
					  : !strcmp(set, "engines") ? "pools.x.engine"
								    : "cost.api.prices.x.from";
			n = llmcap_schema_key_values(key, cat, names, MAXN);
		} else {
			for (size_t k = 0; k < base->sweep.n_sets; k++)
				if (!strcmp(base->sweep.sets[k].name, set))
					user = base->sweep.sets[k].spec;
			if (!user) {
				char known[1024] = "";
				for (size_t k = 0; k < base->sweep.n_sets; k++)
					snprintf(known + strlen(known), sizeof known - strlen(known), ", @%s",
						 base->sweep.sets[k].name);
				rc = llmcap_errorf(err, LLMCAP_EUSAGE,
						   "%s: no set named '@%s'; expected @gpus, @models, @engines, "
						   "@prices, @all%s (a scenario declares its own under sweep.sets)",
						   where, set, known);
			}
		}
		for (int k = 0; rc == 0 && k < n; k++)
			rc = llmcap_sweep_axis_add(&out, &cap, names[k], strlen(names[k]), err);
		for (const char *p = user; rc == 0 && p;) {
			const char *c = strchr(p, ',');
			size_t len = c ? (size_t)(c - p) : strlen(p);
			rc = llmcap_sweep_axis_add(&out, &cap, p, len, err);
			p = c ? c + 1 : NULL;
		}
	}
	free(names);
	if (rc) {
		free(out.values);
		return rc;
	}
	free(ax->values);
	ax->values = out.values;
	ax->n = out.n;
	return 0;
}

/* The file's axes, then the command line's: one of the same key takes the file axis's place. */
static int merge_axes(struct llmcap_sweep *sw, const struct llmcap_scenario *base, bool no_file,
		      struct llmcap_sweep_axis *axes, size_t n_axes, struct llmcap_error *err)
{
	for (size_t i = 0; i < base->sweep.n_vary && !no_file; i++) {
		const struct llmcap_sweep_entry *e = &base->sweep.vary[i];
		char arg[sizeof e->name + sizeof e->spec + 2];
		snprintf(arg, sizeof arg, "%s=%s", e->name, e->spec);
		struct llmcap_sweep_axis *ax = &sw->axes[sw->n_axes];
		if (llmcap_sweep_parse_axis(arg, ax, err) != 0)
			return -err->code;
		snprintf(ax->where, sizeof ax->where, "%s", e->where);
		sw->n_axes++;
	}
	size_t n_file = sw->n_axes;
	for (size_t a = 0; a < n_axes; a++) {
		for (size_t b = 0; b < a; b++)
			if (!strcmp(axes[b].key, axes[a].key))
				return llmcap_errorf(err, LLMCAP_EUSAGE, "--vary %s is given twice",
						     axes[a].key);
		size_t slot = sw->n_axes;
		for (size_t i = 0; i < n_file; i++)
			if (!strcmp(sw->axes[i].key, axes[a].key))
				slot = i;
		if (slot == sw->n_axes && sw->n_axes == LLMCAP_SWEEP_MAX_AXES)
			return llmcap_errorf(err, LLMCAP_EUSAGE, "sweep: at most %d varied keys",
					     LLMCAP_SWEEP_MAX_AXES);
		if (slot == sw->n_axes)
			sw->n_axes++;
		else
			free(sw->axes[slot].values);
		sw->axes[slot] = axes[a];
		axes[a].values = NULL;
	}
	return 0;
}

int llmcap_sweep_init(struct llmcap_sweep *sw, const char *file, const char *const *sets,
		      size_t n_sets, struct llmcap_sweep_axis *axes, size_t n_axes,
		      const struct llmcap_sweep_options *opt, const struct llmcap_catalog *cat,
		      struct llmcap_error *err)
{
	memset(sw, 0, sizeof *sw);
	const struct llmcap_sweep_options from_file = LLMCAP_SWEEP_OPTIONS_FROM_FILE;
	if (!opt)
		opt = &from_file;
	sw->file = file;
	sw->sets = sets;
	sw->n_sets = n_sets;
	struct llmcap_scenario *sc = malloc(sizeof *sc), *base = malloc(sizeof *base);
	int rc = sc && base ? 0 : llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	bool base_loaded = false;
	if (rc == 0 && n_axes > LLMCAP_SWEEP_MAX_AXES)
		rc = llmcap_errorf(err, LLMCAP_EUSAGE, "sweep: at most %d --vary", LLMCAP_SWEEP_MAX_AXES);
	if (rc == 0 && opt->seeds != 0 && (opt->seeds < 1 || opt->seeds > 1000000))
		rc = llmcap_errorf(err, LLMCAP_EUSAGE, "sweep: --seeds must be between 1 and 1000000");
	/* the base unchecked: with skip_invalid its own values may not fit while its points do */
	bool base_valid = false;
	if (rc == 0)
		base_loaded = (rc = llmcap_scenario_load_unchecked(base, file, sets, n_sets, cat, err)) == 0;
	if (rc == 0) {
		sw->skip_invalid = opt->skip_invalid >= 0 ? opt->skip_invalid : base->sweep.skip_invalid;
		struct llmcap_error berr = {0};
		int brc = llmcap_scenario_check(base, cat, &berr);
		base_valid = brc == 0;
		if (brc && !(sw->skip_invalid && point_invalid(brc))) {
			*err = berr;
			rc = brc;
		}
	}
	if (rc == 0)
		rc = merge_axes(sw, base, opt->no_file_axes, axes, n_axes, err);
	for (size_t a = 0; rc == 0 && a < sw->n_axes; a++)
		rc = expand_sets(&sw->axes[a], base, cat, err);
	if (rc == 0) {
		sw->seeds = opt->seeds ? opt->seeds : base->sweep.seeds;
		sw->zip = opt->zip >= 0 ? opt->zip : base->sweep.zip;
		sw->batch_means = opt->batch_means >= 0 ? opt->batch_means : base->sweep.batch_means;
		sw->warmup = opt->warmup != LLMCAP_SWEEP_UNSET ? opt->warmup : base->sweep.warmup;
		sw->timeseries = opt->timeseries >= 0 ? opt->timeseries : base->sweep.timeseries;
		sw->ts_interval = base->output.timeseries_interval;
		sw->n_points = 1;
	}
	for (size_t a = 0; rc == 0 && a < sw->n_axes; a++) {
		if (sw->zip) {
			if (a > 0 && sw->axes[a].n != sw->axes[0].n)
				rc = llmcap_errorf(err, LLMCAP_EUSAGE,
						   "sweep --zip: --vary %s has %zu values but %s has %zu; "
						   "zipped axes need as many values each", sw->axes[a].key,
						   sw->axes[a].n, sw->axes[0].key, sw->axes[0].n);
			sw->n_points = sw->axes[0].n;
		} else if (sw->n_points > SIZE_MAX / 2 / sw->axes[a].n / (size_t)sw->seeds) {
			rc = llmcap_errorf(err, LLMCAP_EUSAGE, "sweep: too many points");
		} else {
			sw->n_points *= sw->axes[a].n;
		}
	}
	/* every point is loaded and checked before the first run (about a millisecond each):
	 * 10^9 points would spend minutes there in silence, and far more running */
	if (rc == 0 && sw->n_points > LLMCAP_SWEEP_MAX_POINTS) {
		char sizes[200] = "";
		for (size_t a = 0; a < sw->n_axes; a++)
			snprintf(sizes + strlen(sizes), sizeof sizes - strlen(sizes), "%s%zu",
				 a ? (sw->zip ? ", " : " x ") : "", sw->axes[a].n);
		rc = llmcap_errorf(err, LLMCAP_EUSAGE,
				   "sweep: %zu points (%s values); expected at most %d: fewer values "
				   "per --vary or sweep.vary axis", sw->n_points, sizes,
				   LLMCAP_SWEEP_MAX_POINTS);
	}
	if (rc == 0 && sw->batch_means != 0 && base_valid) {
		/* checked on the base; every point is checked again below */
		struct llmcap_batch *b;
		rc = llmcap_batch_init(&b, base, sw->batch_means, sw->warmup, err);
		llmcap_batch_free(rc == 0 ? b : NULL);
	}
	if (rc == 0 && (!(sw->point_seed = calloc(sw->n_points, sizeof *sw->point_seed)) ||
			!(sw->point_error = calloc(sw->n_points, sizeof *sw->point_error))))
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	if (rc == 0) {
		rc = name_metrics(sw, base, err);
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (f) {
			llmcap_scenario_write_yaml(base, f, false);
			fclose(f);
		}
		sw->base_yaml = text;
		/* every point once, so that a typo fails now and not after hours */
		for (size_t p = 0; rc == 0 && p < sw->n_points; p++) {
			struct llmcap_error perr = {0};
			int prc = load_point(sw, p, cat, sc, &perr);
			if (prc == 0) {
				sw->point_seed[p] = sc->seed;
				if (!same_shape(base, sc))
					rc = llmcap_errorf(err, LLMCAP_EUSAGE,
							   "sweep: point %zu changes the scenario's classes or "
							   "pools; a sweep keeps them (vary their settings instead)", p);
				if (rc == 0 && sw->batch_means) {
					struct llmcap_batch *b;
					prc = llmcap_batch_init(&b, sc, sw->batch_means, sw->warmup, &perr);
					if (prc == 0)
						llmcap_batch_free(b);
				}
				llmcap_scenario_free(sc);
			}
			if (rc || prc == 0)
				continue;
			if (sw->skip_invalid && point_invalid(prc)) {
				sw->point_seed[p] = base->seed;
				if (!(sw->point_error[p] = strdup(perr.msg)))
					rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
				sw->n_invalid++;
				continue;
			}
			/* the point's own message, then which point it is */
			char label[512];
			llmcap_sweep_point_label(sw, p, label, sizeof label);
			*err = perr;
			rc = prc;
			size_t k = strlen(err->msg);
			snprintf(err->msg + k, sizeof err->msg - k, " (at point %zu: %s%s)", p, label,
				 point_invalid(prc) ? "; --skip-invalid runs the valid points and marks the "
						      "others" : "");
		}
		if (rc == 0 && sw->n_invalid == sw->n_points) {
			char label[512], first[sizeof err->msg];
			llmcap_sweep_point_label(sw, 0, label, sizeof label);
			snprintf(first, sizeof first, "%s", sw->point_error[0]);
			rc = llmcap_errorf(err, LLMCAP_EINVAL, "sweep: none of the %zu points is valid; "
					   "point 0 (%s): %s", sw->n_points, label, first);
		}
	}
	if (base_loaded)
		llmcap_scenario_free(base);
	free(sc);
	free(base);
	for (size_t a = 0; a < n_axes; a++) {
		free(axes[a].values); /* those not moved into sw */
		axes[a].values = NULL;
	}
	if (rc) {
		llmcap_sweep_free(sw);
		return rc;
	}
	/* what decides the results: the resolved base, the axes, the seeds, the metric layout */
	uint64_t h = llmcap_hash_bytes(LLMCAP_HASH_INIT, LLMCAP_VERSION, strlen(LLMCAP_VERSION));
	h = llmcap_hash_bytes(h, sw->base_yaml ? sw->base_yaml : "", sw->base_yaml ? strlen(sw->base_yaml) : 0);
	for (size_t a = 0; a < sw->n_axes; a++) {
		h = llmcap_hash_bytes(h, sw->axes[a].key, strlen(sw->axes[a].key) + 1);
		h = llmcap_hash_bytes(h, sw->axes[a].values, sw->axes[a].n * sizeof *sw->axes[a].values);
	}
	uint64_t misc[6] = {(uint64_t)sw->seeds, sw->zip, sw->n_metrics, (uint64_t)sw->batch_means,
			    (uint64_t)sw->warmup, sw->timeseries};
	h = llmcap_hash_bytes(h, misc, sizeof misc);
	h = llmcap_hash_bytes(h, sw->metric_names, sw->n_metrics * sizeof *sw->metric_names);
	sw->hash = h;
	return 0;
}

struct task_sink {
	struct llmcap_batch *batch;
	struct llmcap_sweep_series *ts;
	bool oom;
};

static int task_request(void *user, const struct llmcap_request_record *r)
{
	struct task_sink *t = user;
	return t->batch ? llmcap_batch_request(t->batch, r) : 0;
}

static int task_sample(void *user, const struct llmcap_sample_row *row)
{
	struct task_sink *t = user;
	if (row->replica >= 0)
		return 0;
	if (t->batch)
		llmcap_batch_sample(t->batch, row);
	struct llmcap_sweep_series *ts = t->ts;
	if (!ts)
		return 0;
	if (ts->n == ts->cap) {
		size_t nc = ts->cap ? 2 * ts->cap : 1024;
		void *p = realloc(ts->rows, nc * sizeof *ts->rows);
		if (!p)
			return -LLMCAP_ENOMEM;
		ts->rows = p;
		ts->cap = nc;
	}
	ts->rows[ts->n++] = *row;
	return 0;
}

int llmcap_sweep_run_task(const struct llmcap_sweep *sw, size_t task, const struct llmcap_catalog *cat,
			  const volatile sig_atomic_t *cancel, double *metrics, uint64_t *digest,
			  struct llmcap_sweep_series *ts, struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	size_t point = task / (size_t)sw->seeds;
	int rc = llmcap_sweep_point_valid(sw, point)
			 ? llmcap_sweep_scenario(sw, task, cat, sc, err)
			 : llmcap_errorf(err, LLMCAP_EINVAL, "%s", sw->point_error[point]);
	if (rc) {
		free(sc);
		return rc;
	}
	struct task_sink ts_user = {.ts = sw->timeseries ? ts : NULL};
	if (ts)
		ts->n = 0;
	if (sw->batch_means)
		rc = llmcap_batch_init(&ts_user.batch, sc, sw->batch_means, sw->warmup, err);
	struct llmcap_sink sink = {.cancel = cancel, .user = &ts_user};
	if (ts_user.batch || ts_user.ts) {
		sink.request = ts_user.batch ? task_request : NULL;
		sink.sample = task_sample;
		sink.sample_interval = sc->output.timeseries_interval;
	}
	struct llmcap_results res;
	if (rc == 0)
		rc = llmcap_simulate(sc, cat, &sink, &res, err);
	if (rc == 0) {
		struct llmcap_summary sum;
		if (llmcap_summarize(&res, &sum) != 0) {
			rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		} else {
			llmcap_sweep_metrics(sw, sc, &res, &sum, metrics);
			if (ts_user.batch)
				llmcap_batch_means(ts_user.batch, &metrics[sw->n_summary_metrics]);
			*digest = res.digest;
			llmcap_summary_free(&sum);
		}
		llmcap_results_free(&res);
	}
	llmcap_batch_free(ts_user.batch);
	llmcap_scenario_free(sc);
	free(sc);
	return rc;
}

/* ---- journal ----
 * A header, then one record per finished task:
 *   fixed part  task, digest, extra (time-series words), metrics      (3 + n_metrics words)
 *   head check  CRC-32 of the fixed part                               (1 word)
 *   extra       the time-series rows                                   (extra words)
 *   check       CRC-32 of the whole record before it                   (1 word)
 * The head check makes the record's length trustworthy before it is used, so that reading
 * can tell a torn tail (a record the file ends inside: a killed writer; cut, and said so)
 * from a damaged record with more after it (an error naming the record: never a silent drop
 * of the records behind it). */

#define JOURNAL_MAGIC "LLMCAPJ3"
#define ROW_WORDS (sizeof(struct llmcap_sample_row) / 8)
_Static_assert(sizeof(struct llmcap_sample_row) % 8 == 0, "sample rows are whole words");
/* at most this many time-series words in one record: a bound for a corrupt length */
#define MAX_EXTRA_WORDS ((uint64_t)1 << 32)
/* the high half of a check word: its kind, so that a check is never read as data */
#define CHECK_TAG ((uint64_t)0x4c4a4352 << 32) /* "LJCR" */

struct journal_header {
	char magic[8];
	uint64_t hash, tasks, metrics;
};

struct llmcap_sweep_journal {
	int fd;
	char path[4096];
	size_t n_metrics, tasks;
	uint64_t *rec;      /* the fixed part and its head check: 4 + n_metrics words */
	off_t *ts_off;      /* per task: where its time-series words start, 0 = none */
	uint64_t *ts_words; /* per task: how many */
	off_t end;          /* where the next record goes */
	char note[512];     /* what opening found and cut (a torn tail), or "" */
};

static size_t fixed_words(size_t n_metrics)
{
	return 3 + n_metrics; /* task, digest, extra words, metrics */
}

static uint64_t check_word(uint32_t crc)
{
	return CHECK_TAG | crc;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void journal_free(struct llmcap_sweep_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->rec);
	free(j->ts_off);
	free(j->ts_words);
	free(j);
}

/* Whether every byte from `at` to the end of the file is zero (a tail that a crash of the
 * machine, not of the process, leaves: the size grew, the data never came). */
static bool zeros_to_end(int fd, off_t at, off_t size)
{
	unsigned char buf[4096];
	while (at < size) {
		size_t n = size - at < (off_t)sizeof buf ? (size_t)(size - at) : sizeof buf;
		ssize_t r = pread(fd, buf, n, at);
		if (r <= 0)
			return false;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i])
				return false;
		at += r;
	}
	return true;
}

enum record_state { REC_OK, REC_END, REC_TORN, REC_BAD };

/* Reads record k at `at` (the file is `size` bytes); says why it is not whole in why. */
static enum record_state read_record(struct llmcap_sweep_journal *j, off_t at, off_t size,
				     uint64_t *task, uint64_t *extra, off_t *extra_at, char *why,
				     size_t n)
{
	const size_t fw = fixed_words(j->n_metrics), head = (fw + 1) * 8;
	if (at == size)
		return REC_END;
	if (size - at < (off_t)head) {
		snprintf(why, n, "the file ends inside it (%lld of at least %zu bytes)",
			 (long long)(size - at), head + 8);
		return REC_TORN;
	}
	if (lseek(j->fd, at, SEEK_SET) != at || read_all(j->fd, j->rec, head) != 0) {
		snprintf(why, n, "cannot be read: %s", strerror(errno));
		return REC_BAD;
	}
	uint32_t crc = libdeflate_crc32(0, j->rec, fw * 8);
	if (j->rec[fw] != check_word(crc)) {
		if (zeros_to_end(j->fd, at, size)) {
			snprintf(why, n, "it and the rest of the file are zeros (%lld bytes)",
				 (long long)(size - at));
			return REC_TORN;
		}
		snprintf(why, n, "its head's checksum does not match (damaged)");
		/* the last record, if its length (unchecked) is right: a tail, cut as torn ones */
		uint64_t x = j->rec[2];
		bool last = x <= MAX_EXTRA_WORDS && at + (off_t)(head + (x + 1) * 8) == size;
		return last ? REC_TORN : REC_BAD;
	}
	*task = j->rec[0];
	*extra = j->rec[2];
	if (*task >= j->tasks || *extra > MAX_EXTRA_WORDS || *extra % ROW_WORDS) {
		snprintf(why, n, "holds task %llu and %llu time-series words, which this sweep cannot "
			 "have (damaged)", (unsigned long long)*task, (unsigned long long)*extra);
		return REC_BAD;
	}
	const off_t end = at + (off_t)(head + (*extra + 1) * 8);
	if (end > size) {
		snprintf(why, n, "the file ends inside it (%lld of %lld bytes)", (long long)(size - at),
			 (long long)(end - at));
		return REC_TORN;
	}
	*extra_at = at + (off_t)head;
	crc = libdeflate_crc32(0, j->rec, head);
	uint64_t buf[512];
	for (uint64_t left = *extra; left;) {
		size_t m = left < 512 ? (size_t)left : 512;
		if (read_all(j->fd, buf, m * 8) != 0) {
			snprintf(why, n, "cannot be read: %s", strerror(errno));
			return REC_BAD;
		}
		crc = libdeflate_crc32(crc, buf, m * 8);
		left -= m;
	}
	uint64_t check;
	if (read_all(j->fd, &check, 8) != 0) {
		snprintf(why, n, "cannot be read: %s", strerror(errno));
		return REC_BAD;
	}
	if (check != check_word(crc)) {
		snprintf(why, n, "its checksum does not match (damaged)");
		return end == size ? REC_TORN : REC_BAD;
	}
	return REC_OK;
}

/* An exclusive lock on the journal for the sweep's life: a second sweep to the same output
 * (even with --force) would otherwise truncate or interleave the first one's records. The
 * journal is unlinked while held at the end, hence the check that the locked file is still
 * the one at the path. */
static int open_locked(const char *path, struct llmcap_error *err)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0)
			return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot open the sweep journal: %s", path,
					     strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				return llmcap_errorf(err, LLMCAP_EIO, "%s: another llmcap sweep to the same "
						     "output is running (it holds this journal); not started",
						     path);
			return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot lock the sweep journal: %s", path,
					     strerror(e));
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot lock the sweep journal (it keeps changing)",
			     path);
}

int llmcap_sweep_journal_open(struct llmcap_sweep_journal **out, const char *path,
			      const struct llmcap_sweep *sw, bool resume, bool *done, double *metrics,
			      uint64_t *digests, size_t *n_done, struct llmcap_error *err)
{
	*out = NULL;
	*n_done = 0;
	struct llmcap_sweep_journal *j = calloc(1, sizeof *j);
	if (!j)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	j->fd = -1;
	j->n_metrics = sw->n_metrics;
	j->tasks = llmcap_sweep_tasks(sw);
	j->rec = calloc(fixed_words(sw->n_metrics) + 1, sizeof *j->rec);
	j->ts_off = calloc(j->tasks, sizeof *j->ts_off);
	j->ts_words = calloc(j->tasks, sizeof *j->ts_words);
	if (!j->rec || !j->ts_off || !j->ts_words) {
		journal_free(j);
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	snprintf(j->path, sizeof j->path, "%s", path);
	struct journal_header want = {.hash = sw->hash, .tasks = j->tasks, .metrics = sw->n_metrics};
	memcpy(want.magic, JOURNAL_MAGIC, 8);
	int fd = open_locked(path, err);
	if (fd < 0) {
		journal_free(j);
		return fd;
	}
	j->fd = fd;
	struct journal_header have;
	struct stat st;
	bool whole = resume && read_all(j->fd, &have, sizeof have) == 0 && fstat(j->fd, &st) == 0;
	off_t good = sizeof want;
	if (whole) {
		if (memcmp(&have, &want, sizeof want) != 0) {
			journal_free(j);
			return llmcap_errorf(err, LLMCAP_EUSAGE,
					     "%s: this journal belongs to another sweep (other scenario, "
					     "axes, seeds or llmcap version), or its header is damaged; "
					     "remove it or drop --resume", path);
		}
		/* every record whole, up to the end or to a torn last one */
		for (size_t k = 0;; k++) {
			uint64_t task, extra;
			off_t extra_at;
			char why[200];
			enum record_state r = read_record(j, good, st.st_size, &task, &extra, &extra_at, why,
							  sizeof why);
			if (r == REC_END)
				break;
			if (r == REC_TORN) {
				snprintf(j->note, sizeof j->note, "%s: its last record (record %zu, at byte "
					 "%lld) is not whole: %s; cut (%lld bytes), that run is done again",
					 path, k + 1, (long long)good, why, (long long)(st.st_size - good));
				break;
			}
			if (r == REC_BAD) {
				journal_free(j);
				return llmcap_errorf(err, LLMCAP_EIO,
						     "%s: record %zu (at byte %lld) %s, and %lld bytes follow it: "
						     "the journal is damaged; remove it to start the sweep over "
						     "(the runs it kept are lost)", path, k + 1, (long long)good,
						     why, (long long)(st.st_size - good));
			}
			if (!done[task]) {
				done[task] = true;
				(*n_done)++;
			}
			digests[task] = j->rec[1];
			memcpy(&metrics[task * sw->n_metrics], &j->rec[3], sw->n_metrics * sizeof(double));
			j->ts_off[task] = extra ? extra_at : 0;
			j->ts_words[task] = extra;
			good = lseek(j->fd, 0, SEEK_CUR);
		}
	} else {
		/* new, replaced, empty or shorter than a header: start over */
		if (ftruncate(j->fd, 0) != 0 || lseek(j->fd, 0, SEEK_SET) != 0 ||
		    write_all(j->fd, &want, sizeof want) != 0) {
			int e = errno;
			journal_free(j);
			return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write the sweep journal: %s", path,
					     strerror(e));
		}
	}
	/* cut a torn tail so that new records follow the last whole one */
	if (ftruncate(j->fd, good) != 0 || lseek(j->fd, good, SEEK_SET) != good) {
		int e = errno;
		journal_free(j);
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot truncate the sweep journal: %s", path,
				     strerror(e));
	}
	j->end = good;
	*out = j;
	return 0;
}

const char *llmcap_sweep_journal_note(const struct llmcap_sweep_journal *j)
{
	return j->note;
}

int llmcap_sweep_journal_append(struct llmcap_sweep_journal *j, size_t task, uint64_t digest,
				const double *metrics, const struct llmcap_sweep_series *ts,
				struct llmcap_error *err)
{
	const size_t fw = fixed_words(j->n_metrics);
	size_t n_rows = ts ? ts->n : 0, extra = n_rows * ROW_WORDS;
	size_t bytes = (fw + 1 + extra + 1) * 8;
	uint64_t *buf = malloc(bytes);
	if (!buf)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	buf[0] = task;
	buf[1] = digest;
	buf[2] = extra;
	memcpy(&buf[3], metrics, j->n_metrics * sizeof(double));
	buf[fw] = check_word(libdeflate_crc32(0, buf, fw * 8));
	if (extra)
		memcpy(&buf[fw + 1], ts->rows, extra * 8);
	buf[fw + 1 + extra] = check_word(libdeflate_crc32(0, buf, bytes - 8));
	/* one write(2) per record, no stdio buffer: a killed process loses at most the task it
	 * was running, and the kernel keeps what was written */
	int rc = write_all(j->fd, buf, bytes);
	int e = errno;
	free(buf);
	if (rc != 0) {
		/* a part written (a full disk) must not stay as a torn record in the middle: the
		 * next record goes where this one started */
		if (ftruncate(j->fd, j->end) != 0 || lseek(j->fd, j->end, SEEK_SET) != j->end)
			j->end = lseek(j->fd, 0, SEEK_CUR);
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot append to the sweep journal: %s",
				     j->path, e ? strerror(e) : "short write");
	}
	if (task < j->tasks) {
		j->ts_off[task] = extra ? j->end + (off_t)((fw + 1) * 8) : 0;
		j->ts_words[task] = extra;
	}
	j->end += (off_t)bytes;
	return 0;
}

int llmcap_sweep_journal_series(struct llmcap_sweep_journal *j, size_t task,
				struct llmcap_sweep_series *ts, struct llmcap_error *err)
{
	ts->n = 0;
	if (task >= j->tasks || !j->ts_words[task])
		return 0;
	size_t n = (size_t)(j->ts_words[task] / ROW_WORDS);
	if (n > ts->cap) {
		void *p = realloc(ts->rows, n * sizeof *ts->rows);
		if (!p)
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		ts->rows = p;
		ts->cap = n;
	}
	size_t bytes = n * sizeof *ts->rows;
	char *p = (char *)ts->rows;
	for (size_t done = 0; done < bytes;) {
		ssize_t r = pread(j->fd, p + done, bytes - done, j->ts_off[task] + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot read the time series of run %zu",
					     j->path, task);
		done += (size_t)r;
	}
	ts->n = n;
	return 0;
}

void llmcap_sweep_journal_close(struct llmcap_sweep_journal *j, bool remove)
{
	if (!j)
		return;
	if (remove)
		unlink(j->path);
	journal_free(j);
}

/* Synthetic workload: arrival times, the class mix and per-class token lengths.
 *
 * Arrival streams. The workload has one shared stream whose requests are split among the
 * classes with `arrival: shared` by share, plus one stream per class with its own process (at
 * share x the mean rate). Streams are merged in time order; equal times go to the stream listed
 * first (shared, then classes in scenario order), so the merge is deterministic. Processes (rows
 * of the table llmcap_arrival_processes, traces/arrival.c):
 *   poisson  rate mean x profile(t), generated exactly by thinning (Lewis & Shedler):
 *            within each quarter hour, candidates at the rate x the profile's upper bound
 *            there, each kept with probability profile(t) / bound;
 *   gamma    a renewal process whose inter-arrival times are Gamma with mean 1 and the given
 *            coefficient of variation in operational time L(t) = integral of mean x profile:
 *            arrivals at L^-1 of the renewal epochs (exact time rescaling, by inversion);
 *   mmpp     a Poisson process whose rate is mean x profile(t) x c(state), the state a two-state
 *            Markov chain (calm, burst) with exponential sojourns; c(burst) / c(calm) is
 *            burst_rate_factor and the time-average of c is 1; exact thinning within sojourns.
 * The smooth profile is a von Mises curve,
 *   profile(t) = exp(k cos(2 pi (hour(t) - peak_hour) / 24)) / I0(k),
 * whose mean over a day is exactly 1 and whose maximum is exp(k) / I0(k) = peak_to_mean.
 * Tables (hour of day or week, built in, from a file) are constant within each hour; day
 * factors multiply any of them. Every profile is normalised to mean 1 over its period.
 *
 * Random streams: "arrivals" (the shared stream; "arrivals/state" for its MMPP state),
 * "arrivals/CLASS" and "arrivals/CLASS/state" for a class's own stream, "class-mix", and
 * "prompt/CLASS", "output/CLASS" (lengths; a joint trace draws its row from "prompt/CLASS").
 * Each is its own GSL generator seeded from the scenario seed, so no two sources share draws.
 */
#ifndef LLMCAP_WORKLOAD_H
#define LLMCAP_WORKLOAD_H

#include "llmcap/spec.h"
#include "llmcap/trace.h"

/* Mean of a length distribution after clamping or truncation to [min, max] (tokens); for the
 * continuous forms, before rounding to whole tokens (which moves it by well under a token). */
double llmcap_dist_mean(const struct llmcap_dist *d);
/* P(sample <= k) for a whole number of tokens k, exactly as llmcap_dist_sample draws. */
double llmcap_dist_cdf(const struct llmcap_dist *d, int64_t k);

/* Demand arithmetic on a scenario's workload (traces/demand.c). */
/* Mean prompt + output tokens of a request, over the class mix. */
double llmcap_scenario_tokens_per_request(const struct llmcap_scenario *sc);
/* The mean request rate (requests/s), all classes together: workload.rate, or
 * workload.tokens_per_month converted with the length distributions' means. */
double llmcap_scenario_mean_rate(const struct llmcap_scenario *sc);
/* Whether a class draws prompt and output from the same trace row (both are traces of the
 * same file). */
bool llmcap_class_lengths_joint(const struct llmcap_class_cfg *cl);

/* Reads a rate profile: '#' comment lines, an optional header, then one row per hour whose
 * last comma-separated field is a rate >= 0; 24 rows (hour of day) or 168 (hour of week,
 * Monday first). CRLF and blank lines are accepted. `name` labels errors ("NAME:LINE: ..."). */
int llmcap_profile_parse(const char *text, const char *name, double *hours, size_t *n_hours,
			 struct llmcap_error *err);
/* The built-in profile of a shape (its CSV text), or NULL for none, smooth, table and file. */
const char *llmcap_builtin_profile(enum llmcap_diurnal_shape shape);

#define LLMCAP_PROFILE_KNOTS 1441 /* the smooth curve's integral at every minute of a day */

enum llmcap_profile_kind { LLMCAP_PROFILE_FLAT, LLMCAP_PROFILE_SMOOTH, LLMCAP_PROFILE_STEPS };

/* A rate profile in simulated time (time 0 = midnight of workload.start_day). */
struct llmcap_profile {
	enum llmcap_profile_kind kind;
	llmcap_time period; /* a day or a week */
	double peak;        /* maximum of the profile */
	/* smooth */
	double kappa, i0s, peak_hour;
	bool weekly;
	double day[7];      /* factors by simulated day, mean 1 */
	double knots[LLMCAP_PROFILE_KNOTS]; /* integral of the daily curve, seconds */
	double day_integral;                /* knots[last], 86400 up to quadrature error */
	/* steps of one hour */
	size_t n;
	double v[LLMCAP_HOURS_PER_WEEK];
	double cum[LLMCAP_HOURS_PER_WEEK + 1]; /* integral at each step start, seconds */
};

int llmcap_profile_init(struct llmcap_profile *p, const struct llmcap_diurnal_cfg *cfg,
			int start_day, struct llmcap_error *err);
/* Rate multiplier at simulated time t. */
double llmcap_profile_value(const struct llmcap_profile *p, llmcap_time t);
/* Bounds lo <= llmcap_profile_value(p, t) <= hi, as computed, for every t of segment seg (of
 * LLMCAP_PROFILE_SEGMENT ns): the thinning's squeeze. */
#define LLMCAP_PROFILE_SEGMENT (LLMCAP_HOUR / 4)
void llmcap_profile_bounds(const struct llmcap_profile *p, int64_t seg, double *lo, double *hi);
/* Integral of the profile from 0 to t, in seconds (t seconds when flat). */
double llmcap_profile_integral(const struct llmcap_profile *p, llmcap_time t);
/* The same within one period (t in [0, period)), and over a whole period. */
double llmcap_profile_integral_within(const struct llmcap_profile *p, llmcap_time t);
double llmcap_profile_period_integral(const struct llmcap_profile *p);
/* The t in [0, period) at which the integral within the period reaches x. */
llmcap_time llmcap_profile_inverse_within(const struct llmcap_profile *p, double x);
/* The von Mises concentration k with exp(k) / I0(k) = peak_to_mean (>= 1). */
double llmcap_diurnal_kappa(double peak_to_mean);

struct llmcap_stream {
	enum llmcap_arrival_kind kind;
	int cls;           /* the class of an own stream; -1 for the shared stream */
	double rate;       /* mean requests/s */
	double cv;         /* gamma */
	double factor[2];  /* mmpp: rate multiplier when calm [0] and in a burst [1] */
	double mean_s[2];  /* mmpp: mean sojourn, seconds */
	int state;         /* mmpp: 0 calm, 1 burst */
	llmcap_time switch_at;
	int64_t periods;   /* gamma: operational time = periods x period integral + rem */
	double rem;
	llmcap_time now;   /* last candidate or arrival */
	llmcap_time next;  /* the next arrival, drawn ahead for the merge */
	gsl_rng *rng, *state_rng;
	struct llmcap_profile profile;
	/* thinning: bounds of the profile over the segment of time holding the last candidate
	 * (llmcap_profile_bounds), which decide most candidates without evaluating it */
	int64_t seg;
	double seg_lo, seg_hi;
	bool trace;        /* the shared stream replays workload.trace instead */
};

struct llmcap_workload {
	size_t n_streams;
	struct llmcap_stream *streams; /* the shared stream first, when any class shares it */
	size_t pending;                /* stream of the arrival last returned */
	gsl_rng *mix;
	size_t n_classes, n_shared;
	size_t shared_class[LLMCAP_MAX_CLASSES];
	double cum_share[LLMCAP_MAX_CLASSES]; /* over the shared classes */
	struct llmcap_dist prompt[LLMCAP_MAX_CLASSES], output[LLMCAP_MAX_CLASSES];
	double prompt_ln[LLMCAP_MAX_CLASSES], output_ln[LLMCAP_MAX_CLASSES]; /* log(median) */
	bool joint[LLMCAP_MAX_CLASSES];
	gsl_rng *prompt_rng[LLMCAP_MAX_CLASSES], *output_rng[LLMCAP_MAX_CLASSES];
	/* trace replay: the row drawn ahead (time = the stream's next) and the row last returned;
	 * each owns one of two hash-id buffers, swapped as rows move on */
	struct llmcap_replay *replay;
	struct llmcap_replay_row row_next, row_cur;
	uint64_t *ids[2];
	size_t ids_cap[2];
	int ids_next;
	int trace_rc;                  /* a read error met while drawing ahead */
	struct llmcap_error trace_err;
};

/* The scenario must outlive the workload (trace columns are shared, not copied). */
int llmcap_workload_init(struct llmcap_workload *wl, const struct llmcap_scenario *sc,
			 struct llmcap_error *err);
void llmcap_workload_free(struct llmcap_workload *wl);

/* Rate multiplier of the first stream (the shared one) at simulated time t. */
double llmcap_workload_profile(const struct llmcap_workload *wl, llmcap_time t);
/* Draws the next arrival time (non-decreasing, starting after 0), over all streams. */
llmcap_time llmcap_workload_next_arrival(struct llmcap_workload *wl);
/* The class of the arrival last drawn: the own stream's class, or a draw from the class mix. */
size_t llmcap_workload_pick_class(struct llmcap_workload *wl);
/* The prefix hash ids of the arrival last drawn (a Mooncake trace row); 0 when none. Valid until
 * the next arrival is drawn. */
size_t llmcap_workload_hash_ids(const struct llmcap_workload *wl, const uint64_t **ids);
/* Non-zero (a negative error code, with *err set) when the trace failed while drawing. */
int llmcap_workload_error(const struct llmcap_workload *wl, struct llmcap_error *err);
/* Draws prompt and output lengths (tokens, >= 1) for a class: a trace arrival's own lengths. */
void llmcap_workload_lengths(struct llmcap_workload *wl, size_t cls, int64_t *prompt,
			     int64_t *output);
int64_t llmcap_dist_sample(const struct llmcap_dist *d, gsl_rng *r);
/* llmcap_dist_sample with a lognormal's log(median) given (the caller computes it once, not at
 * every draw); other kinds ignore it. */
int64_t llmcap_dist_sample_ln(const struct llmcap_dist *d, gsl_rng *r, double log_median);
/* A value clamped to the distribution's [min, max]. */
int64_t llmcap_dist_clamp(const struct llmcap_dist *d, int64_t v);

/* ---- `llmcap workload`: the generated traffic and its statistics ---- */

struct llmcap_traffic_class {
	int64_t requests;
	double prompt_tokens, output_tokens;
	double *prompt, *output; /* every request's lengths, for percentiles */
	size_t cap;
};

struct llmcap_traffic {
	const struct llmcap_scenario *sc;
	llmcap_time horizon;
	int64_t requests;
	size_t n_classes;
	struct llmcap_traffic_class classes[LLMCAP_MAX_CLASSES];
	int64_t *per_minute, *per_hour; /* arrivals in each minute / hour of the horizon */
	size_t n_minutes, n_hours;
	/* derived by llmcap_traffic_generate */
	double expected_requests;      /* rate x integral of the profiles over the horizon */
	double mean_rate;              /* requests/s over the horizon */
	double peak_minute, peak_hour; /* busiest full window / mean window (NAN: none) */
	size_t busiest_hour;
	double tokens_per_month;
	bool has_trace;
	struct llmcap_replay_stats trace;
};

/* Generates the scenario's arrivals up to its horizon exactly as `llmcap run` draws them, and
 * measures them. With csv, writes one line per request: arrival_s,class,prompt_tokens,
 * output_tokens after a header. The result must be freed. */
int llmcap_traffic_generate(const struct llmcap_scenario *sc, FILE *csv, struct llmcap_traffic *tr,
			    struct llmcap_error *err);
void llmcap_traffic_free(struct llmcap_traffic *tr);

#endif

/* The simulator against queueing theory.
 *
 * With the linear performance model reduced to a constant step time D and short fixed prompts
 * (one prefill step), a request with K output tokens occupies its sequence slot for exactly K
 * steps: a prefill step that samples the first token, then K - 1 decode steps. With
 * max_num_seqs = 1 the next request is admitted at the step end that completes the previous
 * one, so the replica is a work-conserving single server with service time S = K D: M/D/1
 * for fixed K, M/G/1 for geometric K. With max_num_seqs = c > 1 requests are admitted only at
 * step boundaries (an arrival to an idle replica starts a step at once), which is a slotted
 * c-server queue; geometric K makes it an exact Markov chain at step boundaries, solved below,
 * and Erlang C (M/M/c) is its limit as D -> 0. docs/validation.md derives every formula used
 * here and lists the measured agreement.
 *
 * Statistics: waiting time = queue delay (arrival to first scheduled). Requests that arrive in
 * the first and last 2% of the horizon are dropped (warm-up from empty; requests still waiting
 * at the horizon); the rest, in arrival order, form B = 20 batches whose means are treated as
 * independent (each batch spans thousands of mean waits, far longer than the waits'
 * correlation time). Each check passes when theory lies in the batch-means 99.9% confidence
 * interval (t distribution, B - 1 degrees of freedom); fixed seeds make each run reproducible.
 * Set LLMCAP_QUEUEING_VERBOSE=1 to print simulated value, 95% CI and theory for each check.
 */
#include "test_util.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sf_gamma.h>

#include "llmcap/report.h"
#include "llmcap/sim.h"

#define N_BATCHES 20
/* The invariant-checking sanitizer build runs some 50 times slower: a quarter of the samples
 * there (the intervals widen accordingly; the statistics proper are the normal build's). */
#ifdef LLMCAP_INVARIANTS
#define SAMPLE_SCALE 0.25
#else
#define SAMPLE_SCALE 1.0
#endif

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* ---- running a case ---- */

/* What the sink keeps of each request, by id (= arrival order). */
struct trace {
	double *arrival, *queue, *end; /* s; end: when it left its replica (NAN: never entered) */
	int32_t *replica;
	size_t n, cap;
	double horizon;
	const struct llmcap_scenario *sc; /* for the classes' max_queue_time */
};

static int keep_request(void *user, const struct llmcap_request_record *r)
{
	struct trace *t = user;
	size_t i = (size_t)r->id;
	if (i >= t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1 << 16;
		while (cap <= i)
			cap *= 2;
		t->arrival = realloc(t->arrival, cap * sizeof(double));
		t->queue = realloc(t->queue, cap * sizeof(double));
		t->end = realloc(t->end, cap * sizeof(double));
		t->replica = realloc(t->replica, cap * sizeof(int32_t));
		assert_non_null(t->arrival);
		assert_non_null(t->queue);
		assert_non_null(t->end);
		assert_non_null(t->replica);
		t->cap = cap;
	}
	if (i >= t->n)
		t->n = i + 1;
	t->arrival[i] = r->arrival;
	t->queue[i] = r->queue;
	t->replica[i] = r->replica;
	switch (r->status) {
	case LLMCAP_REQ_COMPLETED: t->end[i] = r->arrival + r->e2e; break;
	case LLMCAP_REQ_UNFINISHED: t->end[i] = t->horizon; break;
	case LLMCAP_REQ_REJECTED_QUEUE_TIMEOUT:
	case LLMCAP_REQ_SPILLED_QUEUE_TIMEOUT:
		t->end[i] = r->arrival + (double)t->sc->workload.classes[r->cls].max_queue_time * 1e-9;
		break;
	default: t->end[i] = NAN; /* refused or spilled at arrival: never at a replica */
	}
	return 0;
}

static void trace_free(struct trace *t)
{
	free(t->arrival);
	free(t->queue);
	free(t->end);
	free(t->replica);
	memset(t, 0, sizeof *t);
}

/* One pool "p" of llama-3.1-8b replicas with constant steps, one class "c" with Poisson
 * arrivals at `rate` requests/s and 16-token prompts. */
struct qcase {
	const char *name;
	double rate;       /* requests/s */
	double step_s;     /* D */
	const char *output;
	int seqs;          /* max_num_seqs */
	int replicas;
	const char *router;
	double requests;   /* expected arrivals: the horizon is requests / rate */
	uint64_t seed;
};

static void simulate_case(const struct qcase *q, struct trace *t, struct llmcap_results *res)
{
	struct llmcap_scenario sc;
	struct llmcap_error err = {0};
	char sets[8][200];
	llmcap_scenario_defaults(&sc);
	snprintf(sets[0], sizeof sets[0], "workload={rate: %.17g/s, diurnal: {shape: none}, "
		 "classes: {c: {pool: p, prompt: {dist: fixed, value: 16}, output: %s}}}",
		 q->rate, q->output);
	snprintf(sets[1], sizeof sets[1], "pools={p: {model: llama-3.1-8b, perf_model: linear, "
		 "linear: {per_step: %.0fus}, max_num_seqs: %d, replicas: %d, router: %s, engine: vllm-0.5}}",
		 q->step_s * 1e6, q->seqs, q->replicas, q->router ? q->router : "round-robin");
	snprintf(sets[2], sizeof sets[2], "hardware={gpus_per_server: 8}");
	snprintf(sets[3], sizeof sets[3], "cost.api.prices={c: {input: 1, output: 1}}");
	snprintf(sets[4], sizeof sets[4], "horizon=%.0fs", SAMPLE_SCALE * q->requests / q->rate);
	snprintf(sets[5], sizeof sets[5], "seed=%llu", (unsigned long long)q->seed);
	for (int i = 0; i < 6; i++)
		if (llmcap_scenario_apply_override(&sc, sets[i], &err) != 0)
			fail_msg("%s: %s", q->name, err.msg);
	if (llmcap_scenario_check(&sc, &cat, &err) != 0)
		fail_msg("%s: %s", q->name, err.msg);
	memset(t, 0, sizeof *t);
	t->horizon = (double)sc.horizon * 1e-9;
	t->sc = &sc;
	struct llmcap_sink sink = {.user = t, .request = keep_request};
	if (llmcap_simulate(&sc, &cat, &sink, res, &err) != 0)
		fail_msg("%s: %s", q->name, err.msg);
	llmcap_scenario_free(&sc);
}

/* ---- statistics ---- */

/* Batch means over the requests arriving in [2%, 98%] of the horizon that pass `pick` (a
 * replica, or -1 for all), of f(wait). */
struct estimate {
	double mean, se;
	size_t n;
};

static struct estimate batch_means(const struct trace *t, int replica,
				   double (*f)(double wait, double arg), double arg)
{
	double lo = 0.02 * t->horizon, hi = 0.98 * t->horizon;
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->arrival[i] >= lo && t->arrival[i] <= hi && (replica < 0 || t->replica[i] == replica))
			n++;
	assert_true(n >= 20 * N_BATCHES);
	double sum[N_BATCHES] = {0};
	size_t cnt[N_BATCHES] = {0}, k = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!(t->arrival[i] >= lo && t->arrival[i] <= hi && (replica < 0 || t->replica[i] == replica)))
			continue;
		/* every request of the window was scheduled before the horizon */
		assert_false(isnan(t->queue[i]));
		size_t b = k++ * N_BATCHES / n;
		sum[b] += f(t->queue[i], arg);
		cnt[b]++;
	}
	double m = 0, s2 = 0;
	for (int b = 0; b < N_BATCHES; b++)
		m += sum[b] / (double)cnt[b] / N_BATCHES;
	for (int b = 0; b < N_BATCHES; b++) {
		double d = sum[b] / (double)cnt[b] - m;
		s2 += d * d / (N_BATCHES - 1);
	}
	return (struct estimate){.mean = m, .se = sqrt(s2 / N_BATCHES), .n = n};
}

static double f_wait(double w, double arg) { (void)arg; return w; }
static double f_wait2(double w, double arg) { (void)arg; return w * w; }
/* waits below 1 ns are zero: times are whole nanoseconds */
static double f_zero(double w, double arg) { (void)arg; return w < 1e-9; }
static double f_below(double w, double t) { return w <= t; }

/* Passes when theory lies in the 99.9% confidence interval of the estimate, widened by `slack`
 * (a known bias bound, 0 for the exact cases). */
static void check(const char *what, struct estimate e, double theory, double slack)
{
	double t999 = gsl_cdf_tdist_Pinv(0.9995, N_BATCHES - 1);
	double t95 = gsl_cdf_tdist_Pinv(0.975, N_BATCHES - 1);
	const char *v = getenv("LLMCAP_QUEUEING_VERBOSE");
	if (v && *v == '1')
		printf("%-34s sim %.6g +- %.3g (95%%; n %zu)  theory %.6g  (%+.2f%%, %.2f se)\n", what,
		       e.mean, t95 * e.se, e.n, theory, 100 * (e.mean / theory - 1),
		       (e.mean - theory) / e.se);
	if (!(fabs(e.mean - theory) <= t999 * e.se + slack))
		fail_msg("%s: simulated %.6g (99.9%% CI +- %.3g, n %zu), theory %.6g, slack %.3g", what,
			 e.mean, t999 * e.se, e.n, theory, slack);
}

/* ---- closed forms ---- */

/* Moments E[K], E[K^2], E[K^3] of a geometric length on 1, 2, ... of mean m, clamped to
 * [1, max] as llmcap draws it. */
static void geometric_moments(double m, int64_t max, double mom[3])
{
	double p = 1 / m, q = 1 - p, pk = p, tail = 1;
	mom[0] = mom[1] = mom[2] = 0;
	for (int64_t k = 1; k < max; k++) {
		double kk = (double)k;
		mom[0] += kk * pk;
		mom[1] += kk * kk * pk;
		mom[2] += kk * kk * kk * pk;
		tail -= pk;
		pk *= q;
	}
	double kk = (double)max; /* the clamped mass */
	mom[0] += kk * tail;
	mom[1] += kk * kk * tail;
	mom[2] += kk * kk * kk * tail;
}

/* M/G/1 (Pollaczek-Khinchine, Takacs): mean and second moment of the wait, from the service
 * moments s1..s3. */
static double mg1_wait(double lambda, const double s[3])
{
	return lambda * s[1] / (2 * (1 - lambda * s[0]));
}

static double mg1_wait2(double lambda, const double s[3])
{
	double w = mg1_wait(lambda, s);
	return 2 * w * w + lambda * s[2] / (3 * (1 - lambda * s[0]));
}

/* M/D/1: P(W <= t) = (1 - rho) sum_{k=0}^{floor(t/S)} (lambda (kS - t))^k / k! e^{-lambda (kS - t)}
 * (Erlang, 1909). */
static double md1_cdf(double lambda, double S, double t)
{
	double sum = 0;
	for (int k = 0; k <= (int)floor(t / S); k++) {
		double x = lambda * (k * S - t);
		sum += exp(k * log(fabs(x)) - gsl_sf_lnfact((unsigned)k) - x) * (k % 2 ? -1 : 1);
	}
	return (1 - lambda * S) * sum;
}

/* Erlang C: P(wait) for c servers at offered load a = lambda / mu; the M/M/c mean wait is
 * C / (c mu - lambda). */
static double erlang_c(int c, double a)
{
	double term = 1, sum = 0;
	for (int k = 0; k < c; k++) {
		sum += term;
		term *= a / (k + 1);
	}
	double top = term / (1 - a / c);
	return top / (sum + top);
}

/* The slotted c-server queue with geometric lengths, exactly: the number in system n at the
 * start of each step (n >= 1; min(n, c) run) is a Markov chain. During a step, A ~
 * Poisson(lambda D) requests arrive and wait; at its end each running request finishes with
 * probability p = 1/m. If none is left, the replica idles until the next arrival, which starts
 * a step alone (n = 1). With pi the stationary law, T_n = D + P0_n / lambda the expected time
 * from one step start to the next and R_n = max(n - c, 0) D + lambda D^2 / 2 the expected
 * request-time spent waiting during it, renewal-reward and Little give
 *     Wq = sum pi R / (lambda sum pi T),     P(W = 0) = sum pi P0 / (lambda sum pi T),
 * where P0_n = e^{-lambda D} p^n (n <= c) is the chance that the step empties the replica
 * (an arrival waits zero only when it finds the replica idle). */
static void slotted_queue(double lambda, double D, int c, double m, double *wq, double *p_zero)
{
	/* states 1..N: the tail decays about like rho^n, rho = lambda m D / c; cut it at ~1e-26 */
	double rho = lambda * m * D / c;
	const size_t N = (size_t)c + 20 + (size_t)(60 / -log(rho));
	double p = 1 / m, la = lambda * D, pa[40];
	for (int a = 0; a < 40; a++)
		pa[a] = exp(a * log(la) - la - gsl_sf_lnfact((unsigned)a));
	gsl_matrix *A = gsl_matrix_calloc(N, N);
	gsl_vector *b = gsl_vector_calloc(N), *pi = gsl_vector_alloc(N);
	gsl_permutation *perm = gsl_permutation_alloc(N);
	assert_true(A && b && pi && perm);
	/* (P^T - I) pi = 0 with the last equation replaced by sum pi = 1; state n is index n-1 */
	for (size_t n = 1; n <= N; n++) {
		int r = n < (size_t)c ? (int)n : c;
		for (int k = 0; k <= r; k++) {
			double pb = gsl_sf_choose((unsigned)r, (unsigned)k) * pow(p, k) * pow(1 - p, r - k);
			for (int a = 0; a < 40; a++) {
				long to = (long)n - k + a;
				if (to == 0)
					to = 1;
				if (to > (long)N)
					to = (long)N;
				*gsl_matrix_ptr(A, (size_t)to - 1, n - 1) += pb * pa[a];
			}
		}
		*gsl_matrix_ptr(A, n - 1, n - 1) -= 1;
	}
	for (size_t n = 0; n < N; n++)
		gsl_matrix_set(A, N - 1, n, 1);
	gsl_vector_set(b, N - 1, 1);
	int sign;
	gsl_linalg_LU_decomp(A, perm, &sign);
	gsl_linalg_LU_solve(A, perm, b, pi);
	double R = 0, T = 0, Z = 0;
	for (size_t n = 1; n <= N; n++) {
		double w = gsl_vector_get(pi, n - 1);
		double p0 = n <= (size_t)c ? exp(-la) * pow(p, (double)n) : 0;
		R += w * ((n > (size_t)c ? (double)(n - (size_t)c) * D : 0) + lambda * D * D / 2);
		T += w * (D + p0 / lambda);
		Z += w * p0;
	}
	*wq = R / (lambda * T);
	*p_zero = Z / (lambda * T);
	gsl_matrix_free(A);
	gsl_vector_free(b);
	gsl_vector_free(pi);
	gsl_permutation_free(perm);
}

/* ---- Little's law ---- */

/* Over a finite horizon T, Little's law is an identity: the integral of the number of
 * requests at a replica equals the sum over requests of their time there, cut at T. Checked
 * per replica for requests in the system and for requests not yet scheduled, against the
 * engine's integrals; then L = lambda W with lambda = arrivals / T. */
static void check_little(const struct trace *t, const struct llmcap_results *res)
{
	for (size_t ri = 0; ri < res->n_replicas; ri++) {
		double sys = 0, queued = 0;
		for (size_t i = 0; i < t->n; i++) {
			if (t->replica[i] != (int32_t)ri || isnan(t->end[i]))
				continue;
			sys += fmin(t->end[i], t->horizon) - t->arrival[i];
			queued += (isnan(t->queue[i]) ? fmin(t->end[i], t->horizon) - t->arrival[i]
						      : t->queue[i]);
		}
		const struct llmcap_replica_stats *st = &res->replicas[ri];
		/* per request, times are exact in ns; the doubles carry ~1e-16 relative error */
		assert_rel(st->in_system_time * 1e-9, sys, 1e-9);
		if (queued > 0)
			assert_rel(st->queued_time * 1e-9, queued, 1e-9);
		else
			assert_true(st->queued_time < 1);
	}
}

/* ---- the cases ---- */

#define STEP 0.010 /* s */
static const double loads[] = {0.3, 0.7, 0.9};
/* arrivals per case, by load: the waits' correlation time grows like 1/(1 - rho)^2 */
static const double sizes[] = {60000, 150000, 500000};

static void md1(void **state)
{
	(void)state;
	const int K = 4;
	const double S = K * STEP;
	for (int l = 0; l < 3; l++) {
		double lambda = loads[l] / S;
		struct qcase q = {.name = "M/D/1", .rate = lambda, .step_s = STEP,
				  .output = "{dist: fixed, value: 4}", .seqs = 1, .replicas = 1,
				  .requests = sizes[l], .seed = 101 + (uint64_t)l};
		struct trace t;
		struct llmcap_results res;
		simulate_case(&q, &t, &res);
		const double s[3] = {S, S * S, S * S * S};
		char what[64];
		snprintf(what, sizeof what, "M/D/1 rho %.1f E[W]", loads[l]);
		check(what, batch_means(&t, -1, f_wait, 0), mg1_wait(lambda, s), 0);
		snprintf(what, sizeof what, "M/D/1 rho %.1f E[W^2]", loads[l]);
		check(what, batch_means(&t, -1, f_wait2, 0), mg1_wait2(lambda, s), 0);
		snprintf(what, sizeof what, "M/D/1 rho %.1f P(W=0)", loads[l]);
		check(what, batch_means(&t, -1, f_zero, 0), 1 - loads[l], 0);
		const double at[] = {0.5, 1.5, 3.0};
		for (int k = 0; k < 3; k++) {
			snprintf(what, sizeof what, "M/D/1 rho %.1f P(W<=%.1fS)", loads[l], at[k]);
			check(what, batch_means(&t, -1, f_below, at[k] * S), md1_cdf(lambda, S, at[k] * S), 0);
		}
		/* the server is busy a share rho of the time */
		assert_rel((double)res.replicas[0].busy / (double)res.horizon, loads[l], 0.02);
		check_little(&t, &res);
		trace_free(&t);
		llmcap_results_free(&res);
	}
}

static void mg1_geometric(void **state)
{
	(void)state;
	const double m = 4;
	double k[3];
	geometric_moments(m, 4096, k);
	const double s[3] = {k[0] * STEP, k[1] * STEP * STEP, k[2] * STEP * STEP * STEP};
	for (int l = 0; l < 3; l++) {
		double lambda = loads[l] / s[0];
		struct qcase q = {.name = "M/G/1", .rate = lambda, .step_s = STEP,
				  .output = "{dist: geometric, mean: 4, min: 1, max: 4096}", .seqs = 1,
				  .replicas = 1, .requests = sizes[l], .seed = 201 + (uint64_t)l};
		struct trace t;
		struct llmcap_results res;
		simulate_case(&q, &t, &res);
		char what[64];
		snprintf(what, sizeof what, "M/G/1 rho %.1f E[W]", loads[l]);
		check(what, batch_means(&t, -1, f_wait, 0), mg1_wait(lambda, s), 0);
		snprintf(what, sizeof what, "M/G/1 rho %.1f E[W^2]", loads[l]);
		check(what, batch_means(&t, -1, f_wait2, 0), mg1_wait2(lambda, s), 0);
		snprintf(what, sizeof what, "M/G/1 rho %.1f P(W=0)", loads[l]);
		check(what, batch_means(&t, -1, f_zero, 0), 1 - loads[l], 0);
		check_little(&t, &res);
		trace_free(&t);
		llmcap_results_free(&res);
	}
}

/* Random routing splits a Poisson stream into independent Poisson streams of rate lambda/N:
 * N independent M/G/1 queues. */
static void random_routing(void **state)
{
	(void)state;
	const int N = 3;
	double k[3];
	geometric_moments(4, 4096, k);
	const double s[3] = {k[0] * STEP, k[1] * STEP * STEP, k[2] * STEP * STEP * STEP};
	for (int l = 0; l < 3; l++) {
		double lambda = N * loads[l] / s[0];
		struct qcase q = {.name = "random routing", .rate = lambda, .step_s = STEP,
				  .output = "{dist: geometric, mean: 4, min: 1, max: 4096}", .seqs = 1,
				  .replicas = N, .router = "random", .requests = N * sizes[l] / 2,
				  .seed = 301 + (uint64_t)l};
		struct trace t;
		struct llmcap_results res;
		simulate_case(&q, &t, &res);
		char what[64];
		for (int r = 0; r < N; r++) {
			snprintf(what, sizeof what, "%dxM/G/1 rho %.1f E[W] replica %d", N, loads[l], r);
			check(what, batch_means(&t, r, f_wait, 0), mg1_wait(lambda / N, s), 0);
		}
		snprintf(what, sizeof what, "%dxM/G/1 rho %.1f E[W] all", N, loads[l]);
		check(what, batch_means(&t, -1, f_wait, 0), mg1_wait(lambda / N, s), 0);
		snprintf(what, sizeof what, "%dxM/G/1 rho %.1f P(W=0) all", N, loads[l]);
		check(what, batch_means(&t, -1, f_zero, 0), 1 - loads[l], 0);
		check_little(&t, &res);
		trace_free(&t);
		llmcap_results_free(&res);
	}
}

/* The discretisation bound of docs/validation.md: the slotted queue's mean wait is within
 * D/2 + Wc D/(2S) of Erlang C's Wc (alignment to step boundaries adds up to D, D/2 on
 * average; geometric lengths have a squared coefficient of variation 1 - D/S instead of
 * the exponential's 1, which takes about Wc D/(2S) off). */
static double discretisation_bound(double D, double S, double erlang)
{
	return D / 2 + erlang * D / (2 * S);
}

/* Continuous batching: c sequences, constant steps, geometric lengths of mean m. Exactly the
 * slotted chain above; Erlang C within the discretisation bound. */
static void multi_server(void **state)
{
	(void)state;
	const int c = 4;
	const double m = 10, S = m * STEP;
	const double mg_sizes[] = {60000, 150000, 400000};
	for (int l = 0; l < 3; l++) {
		double lambda = c * loads[l] / S;
		double wq, pz;
		slotted_queue(lambda, STEP, c, m, &wq, &pz);
		double erlang = erlang_c(c, lambda * S) / (c / S - lambda);
		double bound = discretisation_bound(STEP, S, erlang);
		if (!(fabs(wq - erlang) <= bound))
			fail_msg("slotted %.6g vs Erlang C %.6g: beyond %.3g", wq, erlang, bound);
		struct qcase q = {.name = "M/G/c", .rate = lambda, .step_s = STEP,
				  .output = "{dist: geometric, mean: 10, min: 1, max: 4096}", .seqs = c,
				  .replicas = 1, .requests = mg_sizes[l], .seed = 401 + (uint64_t)l};
		struct trace t;
		struct llmcap_results res;
		simulate_case(&q, &t, &res);
		char what[64];
		struct estimate w = batch_means(&t, -1, f_wait, 0);
		snprintf(what, sizeof what, "slotted c=%d rho %.1f E[W]", c, loads[l]);
		check(what, w, wq, 0);
		snprintf(what, sizeof what, "Erlang C c=%d rho %.1f E[W]", c, loads[l]);
		check(what, w, erlang, bound);
		snprintf(what, sizeof what, "slotted c=%d rho %.1f P(W=0)", c, loads[l]);
		check(what, batch_means(&t, -1, f_zero, 0), pz, 0);
		assert_true(res.replicas[0].batch_peak <= c);
		check_little(&t, &res);
		trace_free(&t);
		llmcap_results_free(&res);
	}
}

/* The discretisation bound over a grid of sequence caps, step sizes and loads (the chain
 * alone, no simulation). */
static void slotted_converges_to_erlang_c(void **state)
{
	(void)state;
	const int cs[] = {1, 2, 4, 8};
	const double ms[] = {2, 4, 10, 100};
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			for (int l = 0; l < 3; l++) {
				double S = 1, D = S / ms[j], lambda = cs[i] * loads[l] / S, wq, pz;
				slotted_queue(lambda, D, cs[i], ms[j], &wq, &pz);
				double erlang = erlang_c(cs[i], lambda * S) / (cs[i] / S - lambda);
				if (!(fabs(wq - erlang) <= discretisation_bound(D, S, erlang)))
					fail_msg("c %d m %g rho %g: slotted %.6g, Erlang C %.6g, D %g", cs[i],
						 ms[j], loads[l], wq, erlang, D);
			}
}

/* Little's law on every pool of the shipped end-to-end scenarios (a few simulated hours
 * each): L = lambda W, per replica and pool, from the engine's integrals and the requests. */
static void little_end_to_end(void **state)
{
	(void)state;
	const char *files[] = {"default.yaml", "bursty-week.yaml", "guide-flat-bill.yaml"};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char path[512];
		snprintf(path, sizeof path, "%s/models/scenarios/%s", LLMCAP_SOURCE_DIR, files[f]);
		/* from midnight to past the afternoon peak */
		const char *sets[] = {SAMPLE_SCALE < 1 ? "horizon=4h" : "horizon=16h"};
		struct llmcap_scenario sc;
		struct llmcap_error err = {0};
		if (llmcap_scenario_load(&sc, path, sets, 1, &cat, &err) != 0)
			fail_msg("%s", err.msg);
		struct trace t = {0};
		t.horizon = (double)sc.horizon * 1e-9;
		t.sc = &sc;
		struct llmcap_results res;
		struct llmcap_sink sink = {.user = &t, .request = keep_request};
		if (llmcap_simulate(&sc, &cat, &sink, &res, &err) != 0)
			fail_msg("%s", err.msg);
		check_little(&t, &res);
		struct llmcap_summary sum;
		assert_int_equal(llmcap_summarize(&res, &sum), 0);
		for (size_t p = 0; p < res.n_pools; p++) {
			double in = 0, w = 0;
			for (size_t i = 0; i < t.n; i++) {
				int32_t r = t.replica[i];
				if (r < 0 || isnan(t.end[i]) || (size_t)r < res.pools[p].first_replica ||
				    (size_t)r >= res.pools[p].first_replica + res.pools[p].n_replicas)
					continue;
				in++;
				w += fmin(t.end[i], t.horizon) - t.arrival[i];
			}
			/* L = lambda W */
			assert_true(in > 0);
			assert_rel(sum.pool_util[p].in_system_mean, in / t.horizon * (w / in), 1e-9);
		}
		llmcap_summary_free(&sum);
		llmcap_results_free(&res);
		llmcap_scenario_free(&sc);
		trace_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slotted_converges_to_erlang_c),
		cmocka_unit_test(md1),
		cmocka_unit_test(mg1_geometric),
		cmocka_unit_test(random_routing),
		cmocka_unit_test(multi_server),
		cmocka_unit_test(little_end_to_end),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

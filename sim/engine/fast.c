/* The fast mode (engine_mode fast): runs of decode steps taken in a loop instead of one event
 * each, to the bit what the step-by-step mode computes (docs/performance.md).
 * llmcap_fast_forward starts a run where a step begins one (scheduler.c: llmcap_try_start_step), the
 * decode_run loops take its steps, and the run is applied (llmcap_run_apply_stats, then each
 * request's run_apply_req) when something reads the replica, at the latest at its last step's
 * end (scheduler.c: llmcap_step_end, or llmcap_end_decodes for a batch that only decodes on). A run
 * whose last step's end finds nothing changed goes on (llmcap_run_resume). The loops are kept
 * in this one file, each out of line (noinline) with its helpers inlined into it.
 */
#include "engine_private.h"

/* The step (mod bs) at which a request with c tokens computed before a run's first step needs
 * its next block: c + j a multiple of bs. */
static int64_t boundary_phase(int64_t c, int64_t bs)
{
	int64_t r = (bs & (bs - 1)) == 0 ? c & (bs - 1) : c % bs;
	return r == 0 ? 0 : bs - r;
}

/* Counts a run's request with c tokens computed after its first step but one in its phase, and
 * marks the phase (bit m of marks: phase[m] > 0; meaningful for bs <= 64). */
static inline void mark_boundary(int32_t *phase, uint64_t *marks, int64_t c, int64_t bs)
{
	const int64_t m = boundary_phase(c, bs);
	phase[m]++;
	*marks |= (uint64_t)1 << (m & 63);
}

/* Whether an arrival to this pool reads its replicas' KV use (a router whose row says so, spill
 * on KV use), which a run's steps change. Every other reading of a replica by a router and
 * llmcap_arrival() (request counts, queue lengths, waiting tokens) is left unchanged by a run,
 * which is what lets runs be applied when they end (llmcap_fast_forward, llmcap_run_resume): a
 * router or limit that reads anything else a run changes must be added here. */
static bool arrivals_read_kv(const struct pool_rt *pl)
{
	return pl->router->reads_kv || pl->cfg->spill.kv_above > 0;
}

/* The loop of llmcap_fast_forward: ends steps and schedules the next ones while the run may go on.
 * a is step j's attention pairs (= KV tokens read): the contexts plus j per sequence.
 * Kept apart (not inlined) so that its state lives in registers and profiles show it alone.
 * This general form times each step with llmcap_step_timer_decode_ns (any model);
 * decode_run_fixed below is the same loop for the common case. */
static __attribute__((noinline)) void decode_run(struct run *restrict r,
						 const struct llmcap_step_timer *tm,
						 const int32_t *phase, int64_t bs, double a,
						 double dn, int64_t min_rem, llmcap_time stop)
{
	llmcap_time t = r->t, dt = r->dt, prev = r->prev, max_dt = r->max_dt, busy = r->busy;
	int64_t j = r->j, free_blocks = r->free_blocks, used = r->used, oor = r->oor, m = j % bs;
	double flops = r->flops, bytes = r->bytes;
	u128 kvt = r->kvt;
	struct llmcap_step_work w = r->w;
	while (j < min_rem && t < stop) {
		int64_t need = phase[m];
		if (need > free_blocks)
			break;
		/* step j ends at t, as llmcap_step_end accounts it */
		busy += dt;
		flops += w.flops;
		bytes += w.bytes;
		oor += w.out_of_range;
		kvt += (u128)used * (u128)dt;
		if (j > 1 && dt > max_dt)
			max_dt = dt;
		/* step j + 1 is scheduled at t, as schedule() does it */
		free_blocks -= need;
		used += need;
		a += dn; /* whole numbers below 2^53: exact */
		dt = llmcap_step_timer_decode_ns(tm, a, &w);
		prev = t;
		t += dt;
		j++;
		if (++m == bs)
			m = 0;
	}
	*r = (struct run){.t = t, .dt = dt, .prev = prev, .max_dt = max_dt, .j = j,
			  .free_blocks = free_blocks, .used = used, .busy = busy, .oor = oor,
			  .kvt = kvt, .flops = flops, .bytes = bytes, .w = w};
}

/* A step of decode_run_fixed near a half nanosecond: the timer's full evaluation. Step j reads
 * ctx + j n KV tokens (whole numbers below 2^53). Out of line, so that the loop keeps no
 * running value of it. */
static __attribute__((noinline, cold)) llmcap_time fixed_fallback(const struct llmcap_step_timer *tm,
								  int64_t ctx, int64_t n, int64_t j)
{
	struct llmcap_step_work w;
	return llmcap_step_timer_decode_ns(tm, (double)(ctx + j * n), &w);
}

/* The state of decode_run_fixed's and decode_run_sparse's loops, in locals (the loops keep it in
 * registers): X - eps as two words, step j's end and time, md (what enters max_dt as step j
 * ends), the steps left, the blocks in use, the step's phase, the block-time integral. */
struct fixed_loop {
	uint64_t xi, xf;
	llmcap_time t, dt, md, max_dt;
	int64_t left, used, m;
	u128 kvt;
};

static inline struct fixed_loop fixed_begin(const struct run *r, const struct fixed_timer *ft,
					     int64_t bs, int64_t min_rem)
{
	return (struct fixed_loop){.xi = ft->xi, .xf = ft->xf, .t = r->t, .dt = r->dt,
				   .md = r->j > 1 ? r->dt : 0, .max_dt = r->max_dt,
				   .left = min_rem - r->j, .used = r->used, .m = r->j % bs,
				   .kvt = r->kvt};
}

/* The step in flight ends (its time into max_dt) and step j is timed and taken: the fixed
 * point's integer part, or the timer's full evaluation near a half nanosecond; the fixed point
 * advances. Every loop's step, whatever it does with blocks. */
static inline __attribute__((always_inline)) void fixed_next(struct fixed_loop *L,
							      const struct llmcap_step_timer *tm,
							      struct fixed_timer ft, int64_t ctx,
							      int64_t n, int64_t j)
{
	L->max_dt = L->md > L->max_dt ? L->md : L->max_dt;
	if (__builtin_expect(L->xf < ft.span, 1))
		L->dt = (llmcap_time)L->xi;
	else
		L->dt = fixed_fallback(tm, ctx, n, j);
	L->md = L->dt;
	L->xi += ft.di + __builtin_add_overflow(L->xf, ft.df, &L->xf);
	L->t += L->dt;
}

/* Ends step j (its block time and, as it ends, its time into max_dt), takes the need blocks of
 * step j + 1 and times it, as llmcap_step_end and schedule() would. */
static inline __attribute__((always_inline)) void fixed_step(struct fixed_loop *L,
							      const struct llmcap_step_timer *tm,
							      const struct fixed_timer *ft,
							      int64_t need, int64_t bs, int64_t ctx,
							      int64_t n, int64_t min_rem)
{
	L->kvt += (u128)L->used * (u128)L->dt;
	L->used += need;
	fixed_next(L, tm, *ft, ctx, n, min_rem - L->left + 1);
	L->left--;
	if (++L->m == bs)
		L->m = 0;
}

/* Stores the loop state back (the steps ran back to back: the previous end is t - dt). */
static inline void fixed_end(struct run *restrict r, struct fixed_timer *ft,
			     const struct fixed_loop *L, int64_t min_rem, int64_t cap)
{
	const llmcap_time prev = L->t - L->dt;
	ft->xi = L->xi;
	ft->xf = L->xf;
	r->busy += prev - r->prev;
	r->t = L->t;
	r->dt = L->dt;
	r->prev = prev;
	r->max_dt = L->max_dt;
	r->j = min_rem - L->left;
	r->free_blocks = cap - L->used;
	r->used = L->used;
	r->kvt = L->kvt;
}

/* A chunk's next step (fixed_chunk, fixed_chunk_one), clear of the margin: its time is the
 * fixed point's integer part, the fixed point advances, and the step before becomes pen. */
static inline __attribute__((always_inline)) void chunk_next(uint64_t *xi, uint64_t *xf,
							      llmcap_time *dt, llmcap_time *pen,
							      llmcap_time *t, uint64_t di,
							      uint64_t df)
{
	*pen = *dt;
	*dt = (llmcap_time)*xi;
	*xi += di + __builtin_add_overflow(*xf, df, xf);
	*t += *dt;
}

/* A chunk's eight steps taken (fixed_chunk, fixed_chunk_one): the loop state from the new
 * fixed point xi, xf, the eighth step's end t and time dt, and pen the seventh's time; the
 * longest step that ended is md or the seventh. */
static inline __attribute__((always_inline)) void chunk_taken(struct fixed_loop *L, uint64_t xi,
							       uint64_t xf, llmcap_time t,
							       llmcap_time dt, llmcap_time pen,
							       int64_t bs)
{
	if (L->md > L->max_dt)
		L->max_dt = L->md;
	if (pen > L->max_dt)
		L->max_dt = pen;
	L->md = dt;
	L->xi = xi;
	L->xf = xf;
	L->t = t;
	L->dt = dt;
	L->m = (L->m + 8) & (bs - 1);
	L->left -= 8;
}

/* Steps j + 1 .. j + 8 of a run whose blocks cannot run out: as fixed_step eight times,
 * without block tests, with the phases read at fixed offsets from step j's (the phases twice
 * over: block sizes of at least 8), and without a branch that depends on the data but the
 * margin test, which almost never fails (the varying lengths of the stretches between block
 * boundaries cost decode_run_sparse a misprediction each). Without a step near a
 * half nanosecond the step times are the integer parts, which never decrease (di >= 0), so the
 * longest of the steps that end is md or the seventh. The block time of the eight steps that
 * end fits 64 bits (fewer than 2^21 blocks, steps shorter than 2^40 ns). Returns false, with
 * nothing changed, where a step lies near a half nanosecond or the eighth ends at or after
 * stop. */
static inline __attribute__((always_inline)) bool fixed_chunk(struct fixed_loop *L,
							       const int32_t *phase, int64_t bs,
							       const struct fixed_timer *ft,
							       llmcap_time stop)
{
	uint64_t xi = L->xi, xf = L->xf, kv = 0;
	const uint64_t di = ft->di, df = ft->df, span = ft->span;
	const int32_t *p = phase + L->m;
	llmcap_time t = L->t, dt = L->dt, pen = 0;
	int64_t used = L->used;
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		if (__builtin_expect(xf >= span, 0))
			return false;
		kv += (uint64_t)used * (uint64_t)dt; /* the step that ends */
		used += p[i];                          /* the next step's blocks */
		chunk_next(&xi, &xf, &dt, &pen, &t, di, df);
	}
	if (__builtin_expect(t >= stop, 0))
		return false;
	L->kvt += kv;
	L->used = used;
	chunk_taken(L, xi, xf, t, dt, pen, bs);
	return true;
}

/* fixed_chunk for a run of one sequence, whose single block boundary falls at the steps j with
 * j = mb (mod bs): no block count and no multiplication a step, but each step's end kept, from
 * which the chunk's block time is used (T_7 - B) plus, where the boundary falls at step b of the
 * chunk, the time of the steps after it, T_7 - T_b (B the start of the first step that ends,
 * T_i the end of the i-th). A step is then ~6 instructions instead of ~12. */
static inline __attribute__((always_inline)) bool fixed_chunk_one(struct fixed_loop *L, int64_t mb,
								   int64_t bs,
								   const struct fixed_timer *ft,
								   llmcap_time stop)
{
	uint64_t xi = L->xi, xf = L->xf;
	const uint64_t di = ft->di, df = ft->df, span = ft->span;
	llmcap_time t = L->t, dt = L->dt, pen = 0, te[8];
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		if (__builtin_expect(xf >= span, 0))
			return false;
		te[i] = t; /* the step that ends */
		chunk_next(&xi, &xf, &dt, &pen, &t, di, df);
	}
	if (__builtin_expect(t >= stop, 0))
		return false;
	const int64_t b = (mb - L->m) & (bs - 1);
	const uint64_t hit = b < 8, t7 = (uint64_t)(t - dt);
	L->kvt += (uint64_t)L->used * (t7 - (uint64_t)(L->t - L->dt)) + hit * (t7 - (uint64_t)te[b & 7]);
	L->used += (int64_t)hit;
	chunk_taken(L, xi, xf, t, dt, pen, bs);
	return true;
}

/* decode_run_fixed where the free blocks cover every step to min_rem (each sequence takes at
 * most min_rem / bs + 1 blocks), the block size is a power of two of at least 8, and the block
 * time of eight steps fits 64 bits: eight steps at a time (fixed_chunk, or fixed_chunk_one for
 * one sequence: one >= 0, its boundary's phase); where a chunk cannot be taken (a step near a
 * half nanosecond, or stop within it), the next eight one at a time. */
static inline __attribute__((always_inline)) void ample_loop(struct run *restrict r,
							      const struct llmcap_step_timer *tm,
							      const int32_t *phase, int64_t bs,
							      int64_t ctx, int64_t n, int64_t min_rem,
							      llmcap_time stop, struct fixed_timer *ft,
							      int64_t one)
{
	const int64_t cap = r->free_blocks + r->used;
	struct fixed_loop L = fixed_begin(r, ft, bs, min_rem);
	while (L.left > 0 && L.t < stop) {
		if (L.left >= 8 && (one >= 0 ? fixed_chunk_one(&L, one, bs, ft, stop)
					     : fixed_chunk(&L, phase, bs, ft, stop)))
			continue;
		/* up to eight steps one at a time, as fixed_step (with the chunk's block time); the
		 * step written out rather than fixed_next, which GCC compiles here with 9M more
		 * instructions over 3 days (bench/counts.sh) */
		const int32_t *p = phase + L.m;
		const int64_t k = L.left < 8 ? L.left : 8;
		uint64_t kv = 0;
		int64_t i = 0;
		for (; i < k && L.t < stop; i++) {
			kv += (uint64_t)L.used * (uint64_t)L.dt;
			L.max_dt = L.md > L.max_dt ? L.md : L.max_dt;
			L.used += p[i];
			if (__builtin_expect(L.xf < ft->span, 1))
				L.dt = (llmcap_time)L.xi;
			else
				L.dt = fixed_fallback(tm, ctx, n, min_rem - L.left + i + 1);
			L.md = L.dt;
			L.xi += ft->di + __builtin_add_overflow(L.xf, ft->df, &L.xf);
			L.t += L.dt;
		}
		L.kvt += kv;
		L.left -= i;
		L.m = (L.m + i) & (bs - 1);
	}
	fixed_end(r, ft, &L, min_rem, cap);
}

static __attribute__((noinline)) void decode_run_ample(struct run *restrict r,
						       const struct llmcap_step_timer *tm,
						       const int32_t *phase, int64_t bs,
						       int64_t ctx, int64_t n, int64_t min_rem,
						       llmcap_time stop, struct fixed_timer *ft)
{
	ample_loop(r, tm, phase, bs, ctx, n, min_rem, stop, ft, -1);
}

/* decode_run_ample for one sequence whose block boundary falls at the steps j = mb (mod bs). */
static __attribute__((noinline)) void decode_run_ample_one(struct run *restrict r,
							   const struct llmcap_step_timer *tm,
							   const int32_t *phase, int64_t bs,
							   int64_t ctx, int64_t min_rem,
							   llmcap_time stop, struct fixed_timer *ft,
							   int64_t mb)
{
	ample_loop(r, tm, phase, bs, ctx, 1, min_rem, stop, ft, mb);
}

/* decode_run for a screened roofline step timer with a power-of-two TP (tm->screen and
 * tm->tp_pow2: every catalog model), in fixed point. The screen's step time in ns is linear in
 * the step's attention pairs, x = k + a s, and a grows by n a step, so x is kept as an integer
 * X = x 2^fb (fb fraction bits) that grows by D = n s 2^fb: one integer addition a step, and
 * the step's time is the rounded X, (X + 2^(fb-1)) >> fb. X drifts from the real x by at most
 * one unit a step (D's rounding) plus its start's rounding; where the fraction lies within
 * eps units of a half nanosecond (eps covers that drift and the screen's own 2^-40 x margin)
 * the step takes the timer's full evaluation instead, so every step time is the model's, to
 * the bit. The work (FLOPs and bytes) is not summed here: the caller adds it in closed form.
 *
 * The loop keeps X - eps (plus the half) as an integer part (the step time in ns, where the
 * fraction is clear of the margin) and its fraction in the top bits of a second word, so a
 * step is an add with carry and the margin test one comparison (struct fixed_timer). It counts
 * the steps left down, keeps the blocks in use only (free = cap - used) and the previous step's
 * end as t - dt, so that its state stays in registers. max_dt takes each step's time as the
 * step ends (md: 0 for step 1, whose gap llmcap_run_apply takes from gap1). */
static __attribute__((noinline)) void decode_run_fixed(struct run *restrict r,
						       const struct llmcap_step_timer *tm,
						       const int32_t *phase, int64_t bs,
						       int64_t ctx, int64_t n, int64_t min_rem,
						       llmcap_time stop, struct fixed_timer *ft)
{
	const int64_t cap = r->free_blocks + r->used;
	struct fixed_loop L = fixed_begin(r, ft, bs, min_rem);
	while (L.left > 0 && L.t < stop) {
		const int64_t need = phase[L.m];
		if (need > cap - L.used)
			break;
		fixed_step(&L, tm, ft, need, bs, ctx, n, min_rem);
	}
	fixed_end(r, ft, &L, min_rem, cap);
}

/* decode_run_fixed where few steps take blocks (at most a quarter: small batches, and a block
 * size of at most 32): between two such steps (the run's marks give how many) the loop has no
 * block test and sums the block time once, used x those steps' total time (from the end of the
 * step before the first to the end of the step before the last: they run back to back). The
 * steps that take blocks are decode_run_fixed's (fixed_step). */
static __attribute__((noinline)) void decode_run_sparse(struct run *restrict r,
							const struct llmcap_step_timer *tm,
							const int32_t *phase, uint64_t marks,
							int64_t bs, int64_t ctx, int64_t n,
							int64_t min_rem, llmcap_time stop,
							struct fixed_timer *ft)
{
	const int64_t cap = r->free_blocks + r->used;
	struct fixed_loop L = fixed_begin(r, ft, bs, min_rem);
	const struct fixed_timer f = *ft; /* the loop's constants, in registers */
	while (L.left > 0 && L.t < stop) {
		/* steps to the next that takes blocks (marks has bit m + bs, so it is found) */
		const int64_t z = __builtin_ctzll(marks >> L.m);
		if (z == 0) {
			const int64_t need = phase[L.m];
			if (need > cap - L.used)
				break;
			fixed_step(&L, tm, ft, need, bs, ctx, n, min_rem);
			continue;
		}
		const llmcap_time prev0 = L.t - L.dt;
		const int64_t k0 = z < L.left ? z : L.left;
		int64_t k = k0;
		do /* the step taken is j + 1 = min_rem - left + (k0 - k) + 1 */
			fixed_next(&L, tm, f, ctx, n, min_rem - L.left + k0 - k + 1);
		while (--k > 0 && L.t < stop);
		L.kvt += (u128)L.used * (u128)(L.t - L.dt - prev0);
		L.left -= k0 - k;
		L.m += k0 - k;
		if (L.m >= bs)
			L.m -= bs;
	}
	fixed_end(r, ft, &L, min_rem, cap);
}

/* Sets up decode_run_fixed for a run whose step 2 has a2 attention pairs, growing by n a step,
 * for at most steps more steps; false where the fixed point does not fit (then the caller takes
 * decode_run). */
static bool fixed_timer_init(struct fixed_timer *ft, const struct llmcap_step_timer *tm,
			     double a2, double n, int64_t steps)
{
	if (!tm->screen || !tm->tp_pow2)
		return false;
	const double x2 = fma(a2, tm->s_ns, tm->k_ns);
	const double x_hi = fma(a2 + n * (double)steps, tm->s_ns, tm->k_ns);
	if (!(x2 >= 2 && x_hi < 0x1p40) || steps > ((int64_t)1 << 40))
		return false;
	/* x_hi < 2^e, read from its exponent bits (x_hi >= 2 is a normal number) */
	uint64_t bits;
	memcpy(&bits, &x_hi, sizeof bits);
	const int e = (int)(bits >> 52 & 0x7ff) - 1022;
	const int fb = 61 - e; /* X < 2^61 */
	bits = (uint64_t)(1023 + fb) << 52;
	double scale;
	memcpy(&scale, &bits, sizeof scale); /* 2^fb */
	/* units: the screen's margin at the largest x (rounded up), the drift over the run, and the
	 * roundings of the start and of D */
	const double eps = (double)((int64_t)(x_hi * 0x1p-40 * scale) + 1) + (double)steps + 4;
	if (eps * 16 > scale)
		return false;
	/* X - eps: its fraction lies in [0, span) exactly when X's lies in [eps, 2^fb - eps), and
	 * then both have the same integer part */
	const uint64_t x = (uint64_t)(x2 * scale) + ((uint64_t)1 << (fb - 1)) - (uint64_t)eps;
	const uint64_t d = (uint64_t)(n * tm->s_ns * scale), mask = ((uint64_t)1 << fb) - 1;
	ft->xi = x >> fb;
	ft->xf = (x & mask) << (64 - fb);
	ft->di = d >> fb;
	ft->df = (d & mask) << (64 - fb);
	ft->span = (((uint64_t)1 << fb) - 2 * (uint64_t)eps) << (64 - fb);
	return true;
}

/* How many of the next arrivals to its pool cannot join replica rp while a run of its steps lasts
 * (its request counts and queues stay as they are), or -1 where none reaches its steps:
 *  - in first-come-first-served order with requests waiting or swapped out (then the run began
 *    with a plain step or one that left their head refused for blocks or a sequence slot, and
 *    its steps admit nothing), every arrival queues behind them and
 *    leaves the run as it is (llmcap_arrival(): behind);
 *  - otherwise the router's row says (its elsewhere function, router.c: round-robin sends the
 *    arrivals before rp's turn elsewhere, least-outstanding those that find rp busier).
 * Arrivals that are turned away or spilled count as arrivals here, which only stops runs
 * sooner. Routers without an elsewhere function: 0 (a run stops at the next arrival to its
 * pool). */
static int64_t arrivals_elsewhere(const struct sim *s, const struct replica *rp)
{
	const struct pool_rt *pl = &s->pools[rp->pool];
	if (pl->cfg->scheduling_policy == LLMCAP_SCHED_FCFS &&
	    (rp->waiting.len > 0 || rp->swapped.len > 0))
		return -1;
	const struct llmcap_pool_stats *ps = &s->res->pools[rp->pool];
	const size_t n = ps->n_replicas, base = ps->first_replica;
	if (n == 1 || !pl->router->elsewhere) /* n == 1: every arrival not turned away joins it */
		return 0;
	/* the replica's place in the scan that starts at rr_next (below n: no divisions) */
	const size_t start = pl->rr_next, at = (size_t)(rp - s->replicas) - base,
		     me = at >= start ? at - start : at + n - start;
	return pl->router->elsewhere(s, rp, me);
}

/* The time by which a run of replica rp must have stopped: its steps must end before the next
 * arrival to its pool that may join it, the next time-series sample, the next autoscale event,
 * the next queue timeout that can still act, and after the horizon. */
static llmcap_time run_stop(struct sim *s, const struct replica *rp)
{
	const int64_t skip = arrivals_read_kv(&s->pools[rp->pool]) ? 0 : arrivals_elsewhere(s, rp);
	llmcap_time to_pool = skip < 0 ? INT64_MAX : llmcap_next_arrival_to(s, rp->pool, skip);
	llmcap_time stop = to_pool < s->next_sample ? to_pool : s->next_sample;
	if (s->next_autoscale < stop) /* a decision reads the replicas (autoscale.c) */
		stop = s->next_autoscale;
	if (s->sc->horizon < stop)
		stop = s->sc->horizon + 1;
	llmcap_time deadline = llmcap_next_deadline(s);
	if (deadline < stop)
		stop = deadline;
	if (s->dg) { /* a decode replica: before anything is handed to it (disagg.c) */
		const llmcap_time handed = llmcap_disagg_stop(s, rp);
		if (handed < stop)
			stop = handed;
	}
	return stop;
}

/* Takes the run's steps from the loop's state until stop (or a completion or a block shortage). */
static void run_loop(struct sim *s, struct replica *rp, llmcap_time stop)
{
	struct pending_run *pr = &rp->pr;
	const int64_t bs = s->pools[rp->pool].cfg->block_size, n = (int64_t)rp->n_running;
	if (pr->ample && pr->one >= 0) {
		decode_run_ample_one(&pr->run, rp->tm, rp->phase, bs, pr->ctx, pr->min_rem, stop,
				     &pr->ft, pr->one);
	} else if (pr->ample) {
		decode_run_ample(&pr->run, rp->tm, rp->phase, bs, pr->ctx, n, pr->min_rem, stop,
				 &pr->ft);
	} else if (pr->screened && pr->sparse) {
		decode_run_sparse(&pr->run, rp->tm, rp->phase, pr->marks, bs, pr->ctx, n,
				  pr->min_rem, stop, &pr->ft);
	} else if (pr->screened) {
		decode_run_fixed(&pr->run, rp->tm, rp->phase, bs, pr->ctx, n, pr->min_rem, stop,
				 &pr->ft);
	} else {
		const double a = (double)(pr->ctx + pr->run.j * n); /* step j's attention pairs */
		decode_run(&pr->run, rp->tm, rp->phase, bs, a, (double)n, pr->min_rem, stop);
	}
}

/* Applies the steps 1..j-1 of the replica's run (step j is in flight: llmcap_step_end ends it) exactly
 * as llmcap_step_end and schedule() would have, one step at a time: the replica's state and statistics
 * here, each request's by run_apply_req (after, or within the caller's own pass). */
struct run_req llmcap_run_apply_stats(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct pending_run *pr = &rp->pr;
	struct run run = pr->run;
	const struct pool_rt *pl = &s->pools[rp->pool];
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const int64_t bs = pl->cfg->block_size;
	const size_t n = rp->n_running;
	const int64_t j = run.j, ctx = pr->ctx;
	const llmcap_time gap1 = pr->gap1, max_dt = run.max_dt, prev = run.prev;
	int32_t *phase = rp->phase;
	rp->deferred = false;
	if (pr->screened) {
		/* The work of steps 1..j-1 in closed form: step i reads a_i = ctx + i n KV tokens
		 * and does F + C a_i FLOPs (the same for bytes), so the sum is
		 * (j - 1 - 1) F + C (a_2 + ... + a_{j-1}) plus step 1's own work. Whole numbers are
		 * exact; the sums' rounding differs from the step-by-step mode's by a few units in
		 * the last place per run (docs/performance.md). Step j's work, which llmcap_step_end adds,
		 * is the timer's. */
		const struct llmcap_perf *pf = &pl->perf;
		const int64_t q = j - 2, nn = (int64_t)n;
		const double sum_a = (double)(q * ctx + nn * ((j - 1) * j / 2 - 1));
		run.flops += run.w.flops + ((double)q * rp->tm->f.flops + pf->attn_flops_per_pair * sum_a);
		run.bytes += run.w.bytes + ((double)q * rp->tm->f.bytes +
					    pf->kv_bytes_per_token * pf->tp * (sum_a + (double)q * rp->tm->f.t));
		/* into the replica's own (a copy of the local struct just written field by field
		 * would stall on store forwarding) */
		llmcap_step_timer_decode_work(rp->tm, (double)(ctx + j * nn), &rp->work);
	} else {
		rp->work = run.w;
	}
	const int64_t k = j - 1; /* steps taken by the run */
	memset(phase, 0, (size_t)bs * sizeof *phase);
	rp->free_blocks = run.free_blocks;
	llmcap_add_busy(s, ri, pr->start, prev); /* the k steps ran back to back */
	rp->step_start = prev;
	rp->kv_last = prev;
	st->busy = run.busy;
	st->flops = run.flops;
	st->bytes = run.bytes;
	st->perf_out_of_range = run.oor;
	rp->kvt = run.kvt;
	/* blocks in use only grow during the run; sums of whole numbers below 2^53 are exact in
	 * any order */
	if (run.used > st->kv_peak)
		st->kv_peak = run.used;
	st->output_tokens += (double)(k * (int64_t)n);
	st->prefill_tokens += (double)pr->prefill1;
	st->steps += k;
	st->batch_sum += (double)(k * (int64_t)n);
	/* every step is an event in the step-by-step mode; those the run ended as events were
	 * counted then */
	s->res->events += k - pr->pops;
	s->res->fast_steps += k - pr->pops;
	return (struct run_req){.gap1 = gap1, .max_dt = max_dt, .prev = prev, .k = k, .bs = bs,
				.bs_shift = pl->bs_shift};
}

void llmcap_run_apply(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	const struct run_req a = llmcap_run_apply_stats(s, ri);
	for (size_t i = 0; i < rp->n_running; i++)
		run_apply_req(&s->reqs[rp->running[i]], &a);
	CHECK_REPLICA(s, rp);
}

/* The step timer of a decode step of n sequences (n tokens, n samples). */
const struct llmcap_step_timer *llmcap_decode_timer(struct sim *s, struct replica *rp, int64_t n)
{
	struct pool_rt *pl = &s->pools[rp->pool];
	if (n >= pl->n_timers) {
		llmcap_step_timer_init(&rp->tm_own, &pl->perf, n, n);
		return &rp->tm_own;
	}
	if (!pl->timer_ok[n]) {
		llmcap_step_timer_init(&pl->timers[n], &pl->perf, n, n);
		pl->timer_ok[n] = 1;
	}
	return &pl->timers[n];
}

/* The step just scheduled on replica ri (time now, ending at *end) may be the first of a run
 * of steps that the step-by-step mode would take one event each: in it every running request
 * decodes or ends its prompt, and from the next on each decodes. While the run lasts, each
 * step schedules every running request for one token and changes nothing else:
 * no request completes, waiting and swapped requests stay blocked (only fewer blocks become
 * free), and no event that reads or changes this replica comes due. Such steps are taken here
 * in a loop, each timed by the same model to the bit and accounted as llmcap_step_end and schedule()
 * would (llmcap_run_apply: the same sums in the same order, but the work, summed in closed form);
 * only the run's last step gets an event, with the origin the step-by-step mode would give it
 * (the end of the step before), so it runs in the same place among events due at the same
 * time. Unless arrivals to the pool read KV use, the run is applied when it ends (its
 * requests and statistics are not read meanwhile), and llmcap_run_resume continues it past an
 * arrival that did not reach this replica. The run stops before:
 *   - the step in which a request completes (that step is the last, a real event);
 *   - a step whose new KV blocks exceed the free ones (an eviction or a preemption);
 *   - any step that would end at or after the next arrival that may join it
 *     (arrivals_elsewhere), sample or live queue timeout, or after the horizon: those events
 *     read this replica (routing, spill, samples) or change it (admission, timeouts), so they
 *     must find it exactly as the step-by-step mode would.
 * Other replicas' step ends neither read nor change this replica; their completions, and this
 * replica's, happen only at real events, ordered by (time, origin, kind, replica). */
void llmcap_fast_forward(struct sim *s, size_t ri, llmcap_time *end, llmcap_time *origin,
			 const struct sched_start *ss)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const struct llmcap_pool_cfg *cfg = pl->cfg;
	struct llmcap_replica_stats *st = &s->res->replicas[ri];
	const int64_t bs = cfg->block_size;
	const size_t n = rp->n_running;
	if (rp->preempted || rp->step_extra != 0 || n == 0)
		return;
	/* A step that admitted requests may begin a run too, when no prefix entry is registered at
	 * its end and nothing left in the queues could be admitted at a later step: the queues are
	 * empty, or their head was refused for want of blocks or of a sequence slot (blocked). A
	 * later step of the run leaves more of the token budget (its requests decode one token
	 * each, where each admitted one computed its prompt, at least one token) and so wants at
	 * least as many blocks for that head, while blocks are only taken and the sequences stay;
	 * a head refused for the budget, though, might fit then. */
	if (!rp->plain && (((rp->waiting.len > 0 || rp->swapped.len > 0) && !rp->blocked) ||
			   cfg->enable_prefix_caching))
		return;
	/* when the run must stop at the latest: cheap, and most often it ends the attempt */
	llmcap_time t = *end; /* end of step 1 */
	const llmcap_time stop = run_stop(s, rp);
	if (t >= stop)
		return;
	/* In step 1 every running request computes the rest of its tokens (a decode, or the
	 * last of its prompt) and emits a token at its end; from step 2 on each decodes one.
	 * With c = computed + sched - 1 (computed and sched of step 1), a request has c + j
	 * tokens computed after step j, and needs a new block for step j + 1 when c + j is a
	 * multiple of the block size: phase[m] counts those with j = m (mod bs), counted in the
	 * same pass (and cleared when no run starts, or when it is applied). */
	int32_t *phase = rp->phase;
	int64_t min_rem = INT64_MAX, ctx = 0, prefill1 = 0;
	uint64_t marks = 0; /* bit m: phase[m] > 0 (bs <= 32 only) */
	size_t seen = 0;
	if (ss->complete && !cfg->enable_prefix_caching) {
		/* llmcap_step_end's pass and the admissions saw every request: only the boundaries are
		 * left to count */
		if (!ss->finishing || ss->min_rem < 2)
			return;
		for (; seen < n; seen++) {
			const struct req *r = &s->reqs[rp->running[seen]];
			mark_boundary(phase, &marks, (int64_t)r->computed + r->sched - 1, bs);
		}
		min_rem = ss->min_rem;
		ctx = ss->ctx;
		prefill1 = ss->prefill;
	}
	for (; seen < n; seen++) {
		const struct req *r = &s->reqs[rp->running[seen]];
		if (r->computed + r->sched != r->prompt + r->generated)
			break;
		/* a request holding fewer prefix entries than it could registers more at a step
		 * end if its next block's entry is missing (evicted meanwhile): not a plain step */
		if (cfg->enable_prefix_caching && r->n_prefix < r->prefix_blocks &&
		    rp->pc.free_ent >= 0 &&
		    pcache_find(&rp->pc, llmcap_prefix_key(r->cls, r->prefix_group, r->n_prefix)) < 0)
			break;
		if (r->output - r->generated < min_rem)
			min_rem = r->output - r->generated;
		const int64_t c = (int64_t)r->computed + r->sched - 1;
		if (r->sched != 1 || r->generated == 0) /* not a decode: llmcap_step_end counts a prompt */
			prefill1 += r->sched;
		ctx += c;
		mark_boundary(phase, &marks, c, bs);
	}
	if (seen < n || min_rem < 2) {
		memset(phase, 0, (size_t)bs * sizeof *phase);
		return;
	}
	/* steps 2.. are n decodes (step 1 was timed by its own shape) */
	if (rp->tm_n != (int64_t)n) {
		rp->tm = llmcap_decode_timer(s, rp, (int64_t)n);
		rp->tm_n = (int64_t)n;
	}
	struct pending_run *pr = &rp->pr;
	/* field by field: a compound literal would clear the whole struct first (rep stos) */
	pr->run = (struct run){.t = t, .dt = *end - s->now, .prev = s->now, .max_dt = 0, .j = 1,
			       .free_blocks = rp->free_blocks, .used = used_blocks(rp),
			       .busy = st->busy, .oor = st->perf_out_of_range, .kvt = rp->kvt,
			       .flops = st->flops, .bytes = st->bytes, .w = rp->work};
	pr->ctx = ctx;
	pr->min_rem = min_rem;
	pr->start = s->now;
	pr->gap1 = t;
	pr->pops = 0;
	pr->prefill1 = prefill1;
	pr->screened = fixed_timer_init(&pr->ft, rp->tm, (double)(ctx + 2 * (int64_t)n),
					(double)n, min_rem);
	/* stretches without block boundaries pay where they are long: a quarter of the steps or
	 * fewer take blocks; the marks twice over, so that a shift finds the next one cyclically */
	pr->sparse = pr->screened && bs <= 32 && 4 * (int64_t)n <= bs;
	pr->marks = pr->sparse ? marks | marks << bs : 0; /* the sparse loop's alone (bs <= 32) */
	pr->ample = pr->screened && pl->bs_shift >= 3 && rp->num_blocks < (1 << 21) &&
		    rp->free_blocks >= (int64_t)n * (min_rem / bs + 1);
	if (pr->ample) /* twice over, for fixed_chunk */
		memcpy(phase + bs, phase, (size_t)bs * sizeof *phase);
	/* one sequence: its one boundary's phase, from the marks (bs <= 64) */
	pr->one = pr->ample && n == 1 && bs <= 64 ? __builtin_ctzll(marks) : -1;
	run_loop(s, rp, stop);
	if (pr->run.j == 1) {
		memset(phase, 0, (size_t)bs * sizeof *phase);
		return;
	}
	*end = pr->run.t;
	*origin = pr->run.prev;
	if (!arrivals_read_kv(pl)) {
		/* applied later (llmcap_run_apply): nothing reads what the steps change meanwhile */
		rp->deferred = true;
		rp->touched = false;
	} else {
		llmcap_run_apply(s, ri);
	}
}

/* The run of replica ri ends its last step now (its step-end event, the earliest in the queue,
 * not popped yet). Where nothing has reached the replica since the run began (no arrival joined
 * it, no timeout left it) and the run stopped only for the time, the next step is the same
 * decode step again: the run goes on from the loop's state (the step that ends now is taken as
 * one of the run's steps), and its new last step's event replaces the one at the top of the
 * queue (one sift instead of a pop and a push). Returns false, with nothing changed, where the
 * step must end as usual. */
bool llmcap_run_resume(struct sim *s, size_t ri)
{
	struct replica *rp = &s->replicas[ri];
	struct pending_run *pr = &rp->pr;
	if (rp->touched || pr->run.j >= pr->min_rem)
		return false;
	llmcap_time stop = run_stop(s, rp);
	const int64_t j0 = pr->run.j;
	if (pr->run.t >= stop)
		return false;
	run_loop(s, rp, stop);
	if (pr->run.j == j0)
		return false;
	pr->pops++; /* the step that ended now was an event */
	llmcap_events_replace_top(&s->events, step_end_event(pr->run.t, pr->run.prev, ri));
	return true;
}

/* llmcap_step_end's pass for the step a run ends, where the batch's next step fits: every request
 * decoded one token in it (run_apply_req leaves each with sched = 1), and each that stays
 * decodes one more, its new block (at most one) free and its token within the budget. The same
 * stores as llmcap_step_end's general pass, whose branches for this batch are known: its sums are of
 * whole numbers, added here once (exact in any order). Returns the requests kept. */
size_t llmcap_end_decodes(struct sim *s, size_t ri, const struct run_req *ra,
			  struct sched_start *acc)
{
	struct replica *rp = &s->replicas[ri];
	const struct pool_rt *pl = &s->pools[rp->pool];
	const int64_t bs = pl->cfg->block_size;
	const int bs_shift = pl->bs_shift;
	const llmcap_time now = s->now;
	struct req *const reqs = s->reqs;
	int32_t *const running = rp->running;
	const size_t n = rp->n_running;
	size_t keep = 0;
	int64_t ctx = 0, min_rem = acc->min_rem, took = 0;
	const int32_t kr = (int32_t)ra->k; /* the run's steps */
	for (size_t i = 0; i < n; i++) {
		const int32_t id = running[i];
		struct req *r = &reqs[id];
		/* run_apply_req, then this step's end, in locals (the stores to running[] could
		 * alias the request's fields: each would be read back): the same values */
		const int32_t generated = r->generated + kr + 1, output = r->output;
		const int32_t computed = r->computed + r->sched + kr; /* after the run, and one */
		llmcap_time max_gap = run_first_and_gap(r, ra);
		if (now - ra->prev > max_gap) /* generated > 1: a gap */
			max_gap = now - ra->prev;
		r->computed = computed;
		r->generated = generated;
		r->max_gap = max_gap;
		r->last_token = now;
		if (generated == output) {
			r->sched = 0;
			r->blocks = (int32_t)blocks_for(computed, bs, bs_shift);
			llmcap_release_blocks(rp, r);
			llmcap_complete(s, ri, id);
			continue;
		}
		r->sched = 1;
		const int32_t blocks = (int32_t)blocks_for((int64_t)computed + 1, bs, bs_shift);
		took += blocks - blocks_for(computed, bs, bs_shift);
		r->blocks = blocks;
		running[keep++] = id;
		ctx += computed;
		if (output - generated < min_rem)
			min_rem = output - generated;
	}
	const int64_t k = (int64_t)keep;
	rp->free_blocks -= took;
	acc->budget -= k;
	acc->sum.tokens += k;
	acc->sum.pairs += ctx + k;
	acc->sum.kv_read += ctx + k;
	acc->sum.samples += k;
	acc->sum.seqs += k;
	acc->min_rem = min_rem;
	acc->ctx += ctx;
	acc->next = keep;
	return keep;
}


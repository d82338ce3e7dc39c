/* The simulation: set-up of the engine's state from a scenario, the event loop (with the fast
 * mode's runs that go on past their step end), time-series samples, the wrap-up at the horizon,
 * and the results' release. */
#include "engine_private.h"

static void schedule_sample(struct sim *s, llmcap_time t)
{
	s->next_sample = INT64_MAX;
	if (t <= s->sc->horizon) {
		push_event(s, t, s->now, EV_SAMPLE, 0, 0, 0);
		s->next_sample = t;
	}
}

/* One time-series sample per replica and per pool, for the interval ending now. */
static void sample(struct sim *s)
{
	const double interval = (double)s->sink->sample_interval * 1e-9;
	/* runs stop before a sample: their steps all ended, and are applied to be read */
	for (size_t ri = 0; ri < s->res->n_replicas; ri++)
		if (s->replicas[ri].deferred)
			llmcap_run_apply(s, ri);
	for (size_t p = 0; p < s->res->n_pools && !s->sink_rc; p++) {
		const struct llmcap_pool_stats *ps = &s->res->pools[p];
		struct llmcap_sample_row pool_row = {.time = (double)s->now * 1e-9, .pool = (int32_t)p,
						     .replica = -1};
		/* pool averages over the replicas held (an autoscaled pool's slots that are off
		 * are left out) */
		size_t held = ps->n_replicas;
		for (size_t i = 0; ps->autoscaled && i < ps->n_replicas; i++)
			held -= s->replicas[ps->first_replica + i].state == REP_OFF;
		pool_row.replicas = (int64_t)held;
		for (size_t i = 0; i < ps->n_replicas; i++) {
			size_t ri = ps->first_replica + i;
			struct replica *rp = &s->replicas[ri];
			const bool off = rp->state == REP_OFF;
			const struct llmcap_replica_stats *st = &s->res->replicas[ri];
			llmcap_time busy_now = st->busy + (rp->busy ? s->now - rp->step_start : 0);
			struct llmcap_sample_row row = {
				.time = (double)s->now * 1e-9,
				.pool = (int32_t)p,
				.replica = (int32_t)ri,
				.arrivals = rp->arrivals_int,
				.completions = rp->completions_int,
				.waiting = (int64_t)rp->waiting.len,
				.running = (int64_t)rp->n_running,
				.kv_occupancy = (double)used_blocks(rp) / (double)rp->num_blocks,
				.busy = (double)(busy_now - rp->busy_prev) * 1e-9 / interval,
				/* tokens of steps that ended in the interval */
				.input_tokens_per_s = (st->prefill_tokens - rp->prefill_prev) / interval,
				.output_tokens_per_s = (st->output_tokens - rp->output_prev) / interval,
				.replicas = !off,
			};
			rp->busy_prev = busy_now;
			rp->prefill_prev = st->prefill_tokens;
			rp->output_prev = st->output_tokens;
			rp->arrivals_int = rp->completions_int = 0;
			pool_row.arrivals += row.arrivals;
			pool_row.completions += row.completions;
			pool_row.waiting += row.waiting;
			pool_row.running += row.running;
			if (!off) {
				pool_row.kv_occupancy += row.kv_occupancy / (double)held;
				pool_row.busy += row.busy / (double)held;
			}
			pool_row.input_tokens_per_s += row.input_tokens_per_s;
			pool_row.output_tokens_per_s += row.output_tokens_per_s;
			if (s->sink->sample && !s->sink_rc)
				s->sink_rc = s->sink->sample(s->sink->user, &row);
		}
		if (s->sink->sample && !s->sink_rc)
			s->sink_rc = s->sink->sample(s->sink->user, &pool_row);
	}
	schedule_sample(s, s->now + s->sink->sample_interval);
}

static int setup(struct sim *s, const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		 const struct llmcap_sink *sink, struct llmcap_results *res, struct llmcap_error *err)
{
	memset(res, 0, sizeof *res);
	memset(s, 0, sizeof *s);
	s->sc = sc;
	s->res = res;
	s->sink = sink;
	s->hash_block_tokens = sc->workload.trace.hash_block_tokens;
	bool streaming = sc->output.percentiles == LLMCAP_PERCENTILES_STREAMING;
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		struct llmcap_class_stats *cs = &res->classes[c];
		if (!llmcap_quantiles_init(&cs->ttft, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&cs->tpot, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&cs->e2e, streaming, sc->output.percentile_error) ||
		    !llmcap_quantiles_init(&cs->queue, streaming, sc->output.percentile_error) ||
		    (!streaming && (!llmcap_quantiles_tag(&cs->ttft) || !llmcap_quantiles_tag(&cs->tpot))))
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	s->free_list = -1;
	/* closed-loop clients run in exact steps: a fast run looks ahead at the next arrival to
	 * its pool, which there depends on the run's own completions */
	s->fast = sc->engine_mode == LLMCAP_ENGINE_FAST && sc->workload.clients.concurrency == 0;
	if (!llmcap_sessions_init(s)) /* sessions: exact steps too */
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	if (!llmcap_failures_init(s)) /* failures: likewise */
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	s->next_arrival = s->next_sample = INT64_MAX;
	res->sc = sc;
	res->horizon = sc->horizon;
	res->digest = LLMCAP_HASH_INIT;
	res->n_classes = sc->workload.n_classes;
	res->n_pools = sc->n_pools;
	res->gpu = llmcap_catalog_gpu(cat, sc->hardware.gpu);
	if (!res->gpu)
		return llmcap_errorf(err, LLMCAP_EINVAL, "hardware.gpu: '%s' is not in the catalog",
				     sc->hardware.gpu);
	llmcap_events_init(&s->events);
	size_t n_rep = 0;
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_pool_cfg *cfg = &sc->pools[p];
		struct llmcap_pool_stats *ps = &res->pools[p];
		ps->model = llmcap_catalog_model(cat, cfg->model);
		if (!ps->model)
			return llmcap_errorf(err, LLMCAP_EINVAL, "pools.%s.model: '%s' is not in the catalog",
					     cfg->name, cfg->model);
		const struct llmcap_engine_spec *eng = llmcap_catalog_engine(cat, cfg->engine);
		if (!eng)
			return llmcap_errorf(err, LLMCAP_EINVAL, "pools.%s.engine: '%s' is not in the catalog",
					     cfg->name, cfg->engine);
		/* the pool's own GPU (issue 21), else the fleet's */
		ps->gpu = cfg->gpu[0] ? llmcap_catalog_gpu(cat, cfg->gpu) : res->gpu;
		if (!ps->gpu)
			return llmcap_errorf(err, LLMCAP_EINVAL, "pools.%s.gpu: '%s' is not in the catalog",
					     cfg->name, cfg->gpu);
		int rc = llmcap_memory_plan_pool(cat, ps->model, ps->gpu, eng, cfg, &ps->plan, err);
		if (rc)
			return rc;
		struct llmcap_engine_spec profile;
		llmcap_engine_resolve(eng, &cfg->profile, &profile);
		s->pools[p].async_scheduling = profile.async_scheduling;
		s->pools[p].scheduler_steps = profile.scheduler_steps > 1 ? profile.scheduler_steps : 1;
		s->pools[p].holds = profile.async_scheduling || profile.scheduler_steps > 1;
		s->pools[p].split_prefill = profile.separate_prefill;
		s->pools[p].fe_time = profile.frontend_time;
		s->pools[p].fe_latency = profile.frontend_latency;
		s->pools[p].frontend = profile.frontend_time > 0 || profile.frontend_latency > 0;
		if (s->pools[p].frontend)
			s->pools[p].holds = true;
		s->pools[p].reserve_output = profile.reserve_output;
		s->pools[p].admit = &llmcap_admissions[profile.admission];
		s->pools[p].policy = &llmcap_policies[cfg->scheduling_policy];
		rc = llmcap_perf_init(&s->pools[p].perf, ps->model, ps->gpu, eng, cfg, err);
		if (rc)
			return rc;
		/* expert parallelism's all-to-alls: how many ranks share a server */
		llmcap_parallel_servers(&s->pools[p].perf.par, sc->hardware.gpus_per_server);
		rc = llmcap_spec_setup(s, p, cat, eng, err); /* speculative decoding, when on */
		if (rc)
			return rc;
		s->pools[p].block_bytes = ps->plan.kv_bytes_per_token * (double)cfg->block_size;
		s->pools[p].bs_shift = (cfg->block_size & (cfg->block_size - 1)) == 0
					       ? __builtin_ctzll((unsigned long long)cfg->block_size)
					       : -1;
		if (s->fast) {
			/* decode batches up to 1024 (128 bytes a timer) */
			s->pools[p].n_timers = (cfg->max_num_seqs < 1024 ? cfg->max_num_seqs : 1024) + 1;
			s->pools[p].timers = malloc((size_t)s->pools[p].n_timers * sizeof *s->pools[p].timers);
			s->pools[p].timer_ok = calloc((size_t)s->pools[p].n_timers, 1);
			if (!s->pools[p].timers || !s->pools[p].timer_ok)
				return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		}
		char name[LLMCAP_NAME_MAX + 8];
		snprintf(name, sizeof name, "api/%s", cfg->name);
		s->pools[p].api = llmcap_rng_stream(sc->seed, name);
		if (!s->pools[p].api)
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		s->pools[p].router = &llmcap_routers[cfg->router];
		assert(s->pools[p].router->pick && "a row of llmcap_routers for every router");
		if (s->pools[p].router->affinity) {
			s->pools[p].n_affinity = 4096;
			s->pools[p].affinity = malloc(4096 * sizeof *s->pools[p].affinity);
			if (!s->pools[p].affinity)
				return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
			for (size_t i = 0; i < 4096; i++)
				s->pools[p].affinity[i] = -1;
		}
		ps->peak_flops = (cfg->dtype == LLMCAP_DTYPE_FP8 ? ps->gpu->fp8_tflops
								  : ps->gpu->bf16_tflops) * 1e12;
		s->pools[p].cfg = cfg;
		s->pools[p].max_model_len = ps->plan.max_model_len;
		ps->first_replica = n_rep;
		/* an autoscaled pool has a slot for each replica it may hold (autoscale.c) */
		ps->n_replicas = (size_t)(cfg->autoscale.enabled && cfg->autoscale.max_replicas > 0
						  ? cfg->autoscale.max_replicas
						  : cfg->replicas);
		n_rep += ps->n_replicas;
	}
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		const struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		const char *pool = cl->pool[0] ? cl->pool : cl->name;
		for (size_t p = 0; p < sc->n_pools; p++) {
			if (!strcmp(sc->pools[p].name, pool))
				s->class_pool[c] = p;
			if (!strcmp(sc->pools[p].name, cl->long_prompt_pool))
				s->class_long_pool[c] = p;
		}
	}
	res->n_replicas = n_rep;
	res->replicas = calloc(n_rep, sizeof *res->replicas);
	s->replicas = calloc(n_rep, sizeof *s->replicas);
	res->n_hours = (size_t)((sc->horizon + LLMCAP_HOUR - 1) / LLMCAP_HOUR);
	if (res->n_hours == 0)
		res->n_hours = 1;
	res->arrivals_per_hour = calloc(res->n_hours, sizeof *res->arrivals_per_hour);
	res->hours = calloc(res->n_hours * sc->workload.n_classes, sizeof *res->hours);
	res->busy_per_hour = calloc(res->n_hours * (n_rep ? n_rep : 1), sizeof *res->busy_per_hour);
	if (!res->hours || !res->busy_per_hour)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	s->routing = llmcap_rng_stream(sc->seed, "routing");
	s->prefix_rng = llmcap_rng_stream(sc->seed, "prefix-groups");
	if (!res->replicas || !s->replicas || !res->arrivals_per_hour || !s->routing || !s->prefix_rng)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	if (sc->workload.clients.concurrency > 0) {
		s->think_rng = llmcap_rng_stream(sc->seed, "clients/think");
		s->class_rng = llmcap_rng_stream(sc->seed, "clients/class");
		if (!s->think_rng || !s->class_rng)
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	}
	for (size_t p = 0; p < sc->n_pools; p++)
		for (size_t i = 0; i < res->pools[p].n_replicas; i++) {
			const struct llmcap_pool_cfg *cfg = &sc->pools[p];
			struct replica *rp = &s->replicas[res->pools[p].first_replica + i];
			rp->pool = p;
			rp->num_blocks = rp->free_blocks = res->pools[p].plan.num_blocks;
			rp->pc.lru_head = rp->pc.lru_tail = rp->pc.free_ent = -1;
			if (cfg->enable_prefix_caching && !llmcap_pcache_init(&rp->pc, rp->num_blocks))
				return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
			rp->tm_n = -1;
			if (s->fast && !(rp->phase = calloc(2 * (size_t)cfg->block_size, sizeof *rp->phase)))
				return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
			if (cfg->preemption_mode == LLMCAP_PREEMPT_SWAP)
				rp->cpu_blocks = rp->cpu_free =
					(int64_t)floor(cfg->swap_space / s->pools[p].block_bytes);
		}
	int rc = llmcap_disagg_init(s, cat, err);
	if (rc)
		return rc;
	for (size_t p = 0; p < sc->n_pools; p++) {
		rc = llmcap_lora_setup(s, p, err); /* multi-LoRA, when on */
		if (rc)
			return rc;
	}
	if (llmcap_autoscale_setup(s) != 0)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	return llmcap_workload_init(&s->wl, sc, err);
}

static void teardown(struct sim *s)
{
	llmcap_disagg_free(s);
	free(s->feat);
	llmcap_workload_free(&s->wl);
	llmcap_events_free(&s->events);
	gsl_rng_free(s->routing);
	gsl_rng_free(s->prefix_rng);
	gsl_rng_free(s->think_rng);
	gsl_rng_free(s->class_rng);
	llmcap_sessions_free(s);
	llmcap_failures_free(s);
	free(s->ids[0]);
	free(s->ids[1]);
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++) {
		llmcap_spec_teardown(s, p);
		llmcap_lora_teardown(s, p);
		gsl_rng_free(s->pools[p].api);
		free(s->pools[p].affinity);
		free(s->pools[p].timers);
		free(s->pools[p].timer_ok);
	}
	if (s->replicas)
		for (size_t i = 0; i < s->res->n_replicas; i++) {
			free(s->replicas[i].waiting.buf);
			free(s->replicas[i].swapped.buf);
			free(s->replicas[i].running);
			free(s->replicas[i].pc.ent);
			free(s->replicas[i].pc.bucket);
			free(s->replicas[i].phase);
		}
	for (size_t c = 0; c < LLMCAP_MAX_CLASSES; c++)
		free(s->deadlines[c].buf);
	for (size_t i = 0; i < s->ahead.len; i++)
		free(s->ahead.buf[(s->ahead.head + i) & (s->ahead.cap - 1)].ids);
	free(s->ahead.buf);
	llmcap_autoscale_free(s);
	free(s->replicas);
	for (size_t i = 0; i < s->n_reqs; i++) {
		free(s->reqs[i].prefix_ent);
		free(s->reqs[i].chain);
	}
	free(s->reqs);
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++)
		llmcap_perf_free(&s->pools[p].perf);
}

/* Requests still waiting or running at the horizon end as unfinished, in replica order. */
static void finish_at_horizon(struct sim *s)
{
	s->now = s->sc->horizon;
	if (s->has_failures)
		llmcap_failures_finish(s);
	llmcap_autoscale_finish(s);
	for (size_t ri = 0; ri < s->res->n_replicas; ri++) {
		struct replica *rp = &s->replicas[ri];
		if (rp->deferred) /* its steps end by the horizon, the last one after it */
			llmcap_run_apply(s, ri);
		kv_account(s, ri);
		s->res->replicas[ri].kv_block_time = (double)rp->kvt;
		count_account(s, ri);
		if (rp->busy) {
			s->res->replicas[ri].busy += s->now - rp->step_start;
			llmcap_add_busy(s, ri, rp->step_start, s->now);
		}
		for (size_t i = 0; i < rp->n_running; i++) {
			const struct req *r = &s->reqs[rp->running[i]];
			s->res->classes[r->cls].unfinished++;
			s->res->classes[r->cls].unfinished_output_tokens += r->generated;
			llmcap_request_ended(s, r, LLMCAP_REQ_UNFINISHED);
		}
		/* preempted requests wait (or sit swapped out) with tokens already emitted */
		struct deque *queues[2] = {&rp->waiting, &rp->swapped};
		for (int q = 0; q < 2; q++)
			for (size_t i = 0; i < queues[q]->len; i++) {
				const struct req *r = &s->reqs[*deque_at(queues[q], i)];
				s->res->classes[r->cls].unfinished++;
				s->res->classes[r->cls].unfinished_output_tokens += r->generated;
				llmcap_request_ended(s, r, LLMCAP_REQ_UNFINISHED);
			}
	}
	if (s->dg)
		llmcap_disagg_finish(s);
}

/* Handles an event popped from the queue. */
static void dispatch(struct sim *s, const struct llmcap_event *ev)
{
	if (ev->kind == EV_ARRIVAL) {
		/* the next arrival first: one at this same instant then runs before the replica's
		 * start-of-step event */
		int cur = s->ids_pending;
		s->ids_pending ^= 1;
		llmcap_schedule_next_arrival(s);
		llmcap_arrival(s, ev->data, cur);
	} else if (ev->kind == EV_KICK) {
		struct replica *kr = &s->replicas[ev->target];
		/* a replacement cold-starting in the slot of a spot termination that had a kick
		 * pending starts nothing before its EV_READY (spot.c) */
		kr->kicked = kr->state == REP_STARTING;
		if (!kr->down && !kr->kicked) /* a failed replica starts nothing (failures.c) */
			llmcap_try_start_step(s, ev->target, NULL);
		llmcap_replica_idle(s, ev->target); /* drained while its kick was pending */
	} else if (ev->kind == EV_STEP_END) {
		struct replica *rp = &s->replicas[ev->target];
		if (s->has_failures && rp->stale_step && ev->origin <= rp->failed_at)
			rp->stale_step = false; /* the step its failure lost (failures.c) */
		else
			llmcap_step_end(s, ev->target);
		llmcap_replica_idle(s, ev->target); /* a draining replica's release */
	} else if (ev->kind == EV_CLIENT) {
		/* no trace ids: the clients are the only source, so both slots stay empty */
		llmcap_arrival(s, llmcap_client_request(s), s->ids_pending);
	} else if (ev->kind == EV_SESSION) {
		/* a session's next turn (sessions.c); no trace ids: sessions exclude a trace */
		s->arriving_session = (int32_t)ev->target + 1;
		llmcap_arrival(s, ev->data, s->ids_pending);
		s->arriving_session = 0;
	} else if (ev->kind >= EV_FAIL && ev->kind <= EV_MAINTAIN) {
		llmcap_failure_event(s, ev);
	} else if (ev->kind == EV_TIMEOUT) {
		llmcap_queue_timeout(s, (int32_t)ev->target, (int64_t)ev->data);
	} else if (ev->kind == EV_KV_DONE) {
		llmcap_disagg_arrive(s, (int32_t)ev->target, (int64_t)ev->data);
	} else if (ev->kind == EV_AUTOSCALE || ev->kind == EV_READY) {
		llmcap_autoscale_event(s, ev);
	} else {
		sample(s);
	}
}

static int run(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
	       const struct llmcap_sink *sink, const struct llmcap_scripted_request *script,
	       size_t script_n, struct llmcap_results *res, struct llmcap_error *err)
{
	struct sim s;
	int rc = setup(&s, sc, cat, sink, res, err);
	s.script = script;
	s.script_n = script_n;
	if (rc == 0) {
		/* a script replaces every other source of requests, clients included */
		s.clients = !script && sc->workload.clients.concurrency > 0;
		if (s.clients)
			llmcap_clients_start(&s);
		if (s.has_failures)
			llmcap_failures_start(&s);
		llmcap_schedule_next_arrival(&s);
		if (sink && sink->sample_interval > 0)
			schedule_sample(&s, sink->sample_interval);
		struct llmcap_event ev;
		bool canceled = false;
		int64_t next_check = 0x1000; /* events, counting the fast mode's steps */
		const struct llmcap_event *top;
		while (!s.oom && !s.sink_rc && !s.trace_failed) {
			top = llmcap_events_peek(&s.events);
			const bool arr = s.arrival_due && (!top || llmcap_event_before(&s.arrival_ev, top));
			if (!arr && !top)
				break;
			ev = arr ? s.arrival_ev : *top;
			if (ev.time > sc->horizon)
				break;
			assert(ev.time >= s.now && "simulated time went backwards");
			s.now = ev.time;
			res->events++;
			/* a run that goes on past its step end replaces the event in place */
			if (arr) {
				s.arrival_due = false;
				dispatch(&s, &ev);
			} else if (!(ev.kind == EV_STEP_END && s.replicas[ev.target].deferred &&
				     llmcap_run_resume(&s, ev.target))) {
				llmcap_events_pop(&s.events, &ev);
				dispatch(&s, &ev);
			}
			if (sink && res->events >= next_check) {
				if (sink->cancel && *sink->cancel) {
					canceled = true;
					break;
				}
				if (sink->progress && (next_check & 0xffff) == 0)
					sink->progress(sink->progress_user, s.now, sc->horizon, res->events);
				next_check += 0x1000;
				if (next_check <= res->events)
					next_check = (res->events | 0xfff) + 1;
			}
		}
		if (canceled)
			rc = llmcap_errorf(err, LLMCAP_ECANCELED, "interrupted at simulated time %.0f s",
					   (double)s.now * 1e-9);
		else if (s.trace_failed)
			rc = llmcap_workload_error(&s.wl, err);
		else if (s.oom)
			rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory during the simulation");
		else if (s.sink_rc == 0)
			finish_at_horizon(&s);
		if (s.wl.replay) {
			res->has_trace = true;
			res->trace = *llmcap_replay_stats(s.wl.replay);
		}
		if (rc == 0 && s.sink_rc)
			rc = llmcap_errorf(err, -s.sink_rc > 0 ? -s.sink_rc : LLMCAP_EIO,
					   "writing the output failed");
	}
	teardown(&s);
	if (rc)
		llmcap_results_free(res);
	return rc;
}

int llmcap_simulate(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
		    const struct llmcap_sink *sink, struct llmcap_results *res,
		    struct llmcap_error *err)
{
	return run(sc, cat, sink, NULL, 0, res, err);
}

int llmcap_simulate_script(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			   const struct llmcap_sink *sink, const struct llmcap_scripted_request *reqs,
			   size_t n, struct llmcap_results *res, struct llmcap_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (reqs[i].cls >= sc->workload.n_classes || reqs[i].prompt < 1 || reqs[i].output < 1 ||
		    (i > 0 && reqs[i].time < reqs[i - 1].time) || reqs[i].time < 0)
			return llmcap_errorf(err, LLMCAP_EINVAL,
					     "scripted request %zu: expected a known class, lengths >= 1 "
					     "and non-decreasing times", i);
	return run(sc, cat, sink, reqs, n, res, err);
}

void llmcap_results_free(struct llmcap_results *res)
{
	for (size_t c = 0; c < LLMCAP_MAX_CLASSES; c++) {
		struct llmcap_class_stats *cs = &res->classes[c];
		llmcap_quantiles_free(&cs->ttft);
		llmcap_quantiles_free(&cs->tpot);
		llmcap_quantiles_free(&cs->e2e);
		llmcap_quantiles_free(&cs->queue);
	}
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++) {
		llmcap_quantiles_free(&res->disagg[p].transfer);
		llmcap_quantiles_free(&res->disagg[p].decode_queue);
		llmcap_quantiles_free(&res->disagg[p].prefill_queue);
		llmcap_quantiles_free(&res->disagg[p].prefill);
	}
	free(res->hours);
	free(res->busy_per_hour);
	free(res->replicas);
	free(res->arrivals_per_hour);
	for (size_t p = 0; p < LLMCAP_MAX_POOLS; p++)
		free(res->pools[p].held_at);
	free(res->scale_log);
	memset(res, 0, sizeof *res);
}


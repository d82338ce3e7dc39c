/* The break-even search: a smallest fleet per (precision, volume), on threads. See
 * include/llmcap/breakeven.h. */
#include "llmcap/breakeven.h"

#include <stdlib.h>

size_t llmcap_breakeven_default_dtypes(const struct llmcap_scenario *sc,
				       const struct llmcap_catalog *cat, int dtypes[3])
{
	int own = -1;
	double biggest = 0;
	for (size_t p = 0; p < sc->n_pools; p++) {
		struct llmcap_param_count pc;
		llmcap_model_params(llmcap_catalog_model(cat, sc->pools[p].model), &pc);
		if (pc.total > biggest) {
			biggest = pc.total;
			own = sc->pools[p].dtype;
		}
	}
	size_t n = 0;
	dtypes[n++] = own;
	if (own != LLMCAP_DTYPE_FP8)
		dtypes[n++] = LLMCAP_DTYPE_FP8;
	if (own != LLMCAP_DTYPE_INT4_AWQ)
		dtypes[n++] = LLMCAP_DTYPE_INT4_AWQ;
	return n;
}

struct job {
	const struct llmcap_scenario *sc;
	const struct llmcap_catalog *cat;
	const struct llmcap_breakeven_spec *spec;
	struct llmcap_fleet *rows;
	struct llmcap_error *errs;
	int *rcs;
};

/* One (precision, volume) point; each writes only its own slots. */
static void plan_point(void *ctx, size_t i)
{
	struct job *j = ctx;
	size_t d = i / j->spec->n_volumes, v = i % j->spec->n_volumes;
	j->rcs[i] = llmcap_plan_fleet(j->sc, j->cat, j->spec->volumes[v], j->spec->dtypes[d],
				      &j->rows[i], &j->errs[i]);
}

int llmcap_breakeven_search(const struct llmcap_scenario *sc, const struct llmcap_catalog *cat,
			    const struct llmcap_breakeven_spec *spec, struct llmcap_fleet *rows,
			    struct llmcap_error *err)
{
	size_t n = spec->n_volumes * spec->n_dtypes;
	struct job j = {.sc = sc, .cat = cat, .spec = spec, .rows = rows,
			.errs = calloc(n ? n : 1, sizeof *j.errs), .rcs = calloc(n ? n : 1, sizeof *j.rcs)};
	int rc = 0;
	if (!j.errs || !j.rcs) {
		rc = llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	} else {
		llmcap_study_parallel_for(n, spec->threads, plan_point, &j, &spec->progress);
		for (size_t i = 0; i < n && rc == 0; i++)
			if (j.rcs[i]) {
				rc = j.rcs[i];
				if (err)
					*err = j.errs[i];
			}
	}
	free(j.errs);
	free(j.rcs);
	return rc;
}

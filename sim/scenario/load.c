/* Loading a scenario: schema defaults, then a file (or the built-in reference scenario), then
 * each `--set path.to.key=value` override, expanded into nested YAML and applied like a file;
 * then the trace columns of the length distributions and the prices taken from the catalog,
 * and (llmcap_scenario_load) the cross-field checks of check.c. See include/llmcap/scenario.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

void llmcap_scenario_defaults(struct llmcap_scenario *sc)
{
	memset(sc, 0, sizeof *sc);
	llmcap_schema_defaults(&llmcap_scenario_section, sc);
}

int llmcap_scenario_apply_yaml(struct llmcap_scenario *sc, const char *text, size_t len,
			       const char *origin, struct llmcap_error *err)
{
	/* File names in a scenario file are relative to its folder; the built-in scenario has
	 * none of its own, so its names are relative to the current directory. */
	char dir[LLMCAP_PATH_MAX] = "";
	const char *slash = strrchr(origin, '/');
	if (slash && strcmp(origin, LLMCAP_DEFAULT_SCENARIO_NAME) != 0)
		snprintf(dir, sizeof dir, "%.*s", slash == origin ? 1 : (int)(slash - origin), origin);
	int rc = llmcap_schema_apply_text(&llmcap_scenario_root, sc, text, len, origin, NULL, dir, err);
	if (rc > 0) /* an empty file is more likely a mistake (a wrong path, a failed export) */
		return llmcap_errorf(err, LLMCAP_EINVAL,
				     "%s:1:1: no YAML document (the file is empty or only comments); "
				     "expected a scenario mapping such as 'workload: {classes: {chat: "
				     "{pool: main}}}' (docs/scenario.md)", origin);
	return rc;
}

/* -1 (message in err) when path is "pools.NAME.KEY..." or "workload.classes.NAME.KEY..." and
 * the scenario has no pool or class NAME. */
static int unknown_entry(const struct llmcap_scenario *sc, const char *path, size_t plen,
			 struct llmcap_error *err)
{
	static const char pools[] = "pools.", classes[] = "workload.classes.";
	bool is_pool = plen > sizeof pools - 1 && !strncmp(path, pools, sizeof pools - 1);
	bool is_class = plen > sizeof classes - 1 && !strncmp(path, classes, sizeof classes - 1);
	if (!is_pool && !is_class)
		return 0;
	const char *name = path + (is_pool ? sizeof pools - 1 : sizeof classes - 1);
	const char *dot = memchr(name, '.', plen - (size_t)(name - path));
	if (!dot)
		return 0; /* the whole entry: adds or replaces it */
	size_t n = (size_t)(dot - name), count = is_pool ? sc->n_pools : sc->workload.n_classes;
	char known[512] = "";
	size_t k = 0;
	for (size_t i = 0; i < count; i++) {
		const char *have = is_pool ? sc->pools[i].name : sc->workload.classes[i].name;
		if (strlen(have) == n && !strncmp(have, name, n))
			return 0;
		k += (size_t)snprintf(known + k, k < sizeof known ? sizeof known - k : 0, "%s%s",
				      i ? ", " : "", have);
		if (k >= sizeof known)
			k = sizeof known - 1;
	}
	return llmcap_errorf(err, LLMCAP_EUSAGE,
			     "--set '%s': the scenario has no %s '%.*s' (it has: %s); to add one, "
			     "give it whole, e.g. --set '%.*s={...}'",
			     path, is_pool ? "pool" : "class", (int)n, name, count ? known : "none",
			     (int)(dot - path), path);
}

int llmcap_scenario_apply_override(struct llmcap_scenario *sc, const char *assignment,
				   struct llmcap_error *err)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return llmcap_errorf(err, LLMCAP_EUSAGE,
				     "--set '%s': expected path.to.key=value, e.g. workload.rate=80000/day",
				     assignment);
	/* A dotted path below a pool or class the scenario does not have would create one with
	 * every default (a typo in its name runs a different fleet): refused; a new one is given
	 * whole (pools.NAME={...}). */
	if (unknown_entry(sc, assignment, (size_t)(eq - assignment), err) != 0)
		return -LLMCAP_EUSAGE;
	/* "a.b.c=v" becomes the YAML "{a: {b: {c: v}}}" and is applied like a file. */
	size_t plen = (size_t)(eq - assignment), dots = 0;
	for (const char *c = assignment; c < eq; c++)
		dots += *c == '.';
	/* each segment's name, ": {" for each dot and "}" to close it, then "{", ": ", the value,
	 * "}" and the NUL: a path of short segments writes far more than its length */
	size_t cap = plen + 4 * dots + strlen(eq + 1) + 8;
	char *yaml = malloc(cap);
	if (!yaml)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	size_t k = 0;
	int depth = 1;
	yaml[k++] = '{';
	for (const char *c = assignment; c < eq; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
		if (!ok || (*c == '.' && (c == assignment || c[1] == '.' || c + 1 == eq))) {
			free(yaml);
			return llmcap_errorf(err, LLMCAP_EUSAGE,
					     "--set '%s': '%.*s' is not a key path; expected names "
					     "separated by dots, e.g. pools.reasoning.dtype",
					     assignment, (int)plen, assignment);
		}
		if (*c == '.') {
			memcpy(yaml + k, ": {", 3);
			k += 3;
			depth++;
		} else {
			yaml[k++] = *c;
		}
	}
	k += (size_t)snprintf(yaml + k, cap - k, ": %s", eq + 1);
	while (depth--)
		yaml[k++] = '}';
	yaml[k] = '\0';
	int rc = llmcap_schema_apply_text(&llmcap_scenario_root, sc, yaml, k, NULL, assignment, NULL, err);
	if (rc > 0)
		rc = llmcap_errorf(err, LLMCAP_EUSAGE, "--set '%s': empty", assignment);
	free(yaml);
	return rc;
}

/* Catalog names as the catalog spells them: a name given in another case or by an alias
 * ("H100", "Llama-3.3-70B") becomes the entry's own, so that every later comparison and every
 * output names one entry one way. Unknown names are left for llmcap_scenario_check. */
static void canonical_names(struct llmcap_scenario *sc, const struct llmcap_catalog *cat)
{
	const struct llmcap_gpu_spec *g = llmcap_catalog_gpu(cat, sc->hardware.gpu);
	if (g)
		snprintf(sc->hardware.gpu, sizeof sc->hardware.gpu, "%s", g->name);
	for (size_t p = 0; p < sc->n_pools; p++) {
		const struct llmcap_model_spec *m = llmcap_catalog_model(cat, sc->pools[p].model);
		const struct llmcap_engine_spec *e = llmcap_catalog_engine(cat, sc->pools[p].engine);
		if (m)
			snprintf(sc->pools[p].model, sizeof sc->pools[p].model, "%s", m->name);
		if (e)
			snprintf(sc->pools[p].engine, sizeof sc->pools[p].engine, "%s", e->name);
		const struct llmcap_gpu_spec *pg = llmcap_catalog_gpu(cat, sc->pools[p].gpu);
		if (sc->pools[p].gpu[0] && pg)
			snprintf(sc->pools[p].gpu, sizeof sc->pools[p].gpu, "%s", pg->name);
	}
	for (size_t i = 0; i < sc->cost.n_gpus; i++) {
		g = llmcap_catalog_gpu(cat, sc->cost.gpus[i].name);
		if (g)
			snprintf(sc->cost.gpus[i].name, sizeof sc->cost.gpus[i].name, "%s", g->name);
	}
	for (size_t i = 0; i < sc->cost.api.n_prices; i++) {
		struct llmcap_price_cfg *pc = &sc->cost.api.prices[i];
		const struct llmcap_price_spec *ps = pc->from[0] ? llmcap_catalog_price(cat, pc->from) : NULL;
		if (ps)
			snprintf(pc->from, sizeof pc->from, "%s", ps->name);
	}
}

static int scenario_load(struct llmcap_scenario *sc, const char *path,
			 const char *const *overrides, size_t n_overrides,
			 const struct llmcap_catalog *cat, bool check, struct llmcap_error *err)
{
	llmcap_scenario_defaults(sc);
	int rc;
	if (path) {
		size_t len;
		if (err)
			err->code = 0;
		char *text = llmcap_read_text(path, &len, "scenario file", err);
		if (!text)
			return -(err ? err->code : LLMCAP_EIO);
		rc = llmcap_scenario_apply_yaml(sc, text, len, path, err);
		free(text);
	} else {
		rc = llmcap_scenario_apply_yaml(sc, llmcap_builtin_default_scenario,
						strlen(llmcap_builtin_default_scenario),
						LLMCAP_DEFAULT_SCENARIO_NAME, err);
	}
	for (size_t i = 0; rc == 0 && i < n_overrides; i++)
		rc = llmcap_scenario_apply_override(sc, overrides[i], err);
	if (rc == 0)
		rc = llmcap_scenario_read_traces(sc, err);
	if (rc == 0)
		canonical_names(sc, cat);
	/* prices taken from the catalog */
	for (size_t i = 0; rc == 0 && i < sc->cost.api.n_prices; i++) {
		struct llmcap_price_cfg *pc = &sc->cost.api.prices[i];
		if (!pc->from[0])
			continue;
		const struct llmcap_price_spec *ps = llmcap_catalog_price(cat, pc->from);
		if (!ps) {
			char names[1024] = "";
			for (size_t k = 0; k < cat->n_prices; k++)
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
					 k ? ", " : "", cat->prices[k].name);
			char hint[LLMCAP_NAME_MAX + 32];
			llmcap_catalog_suggest(cat, "prices", pc->from, hint, sizeof hint);
			rc = llmcap_errorf(err, LLMCAP_EINVAL,
					   "%s: cost.api.prices.%s.from: '%s' is not in the price catalog%s; "
					   "expected one of: %s",
					   pc->where, pc->name, pc->from, hint, names);
			break;
		}
		pc->input = ps->input;
		pc->output = ps->output;
		if (isnan(pc->cached_input))
			pc->cached_input = ps->cached_input;
		if (isnan(pc->batch_discount))
			pc->batch_discount = ps->batch_discount;
	}
	if (rc == 0 && check)
		rc = llmcap_scenario_check(sc, cat, err);
	if (rc)
		llmcap_scenario_free(sc);
	return rc;
}

int llmcap_scenario_load_catalog(struct llmcap_catalog *cat, const char *path,
				 const char *const *overrides, size_t n_overrides,
				 struct llmcap_error *err)
{
	struct llmcap_scenario *sc = malloc(sizeof *sc);
	if (!sc)
		return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
	llmcap_scenario_defaults(sc);
	int rc = 0;
	if (path) {
		size_t len;
		if (err)
			err->code = 0;
		char *text = llmcap_read_text(path, &len, "scenario file", err);
		rc = text ? llmcap_scenario_apply_yaml(sc, text, len, path, err)
			  : -(err && err->code ? err->code : LLMCAP_EIO);
		free(text);
	} else {
		/* the overrides apply to the built-in scenario, as in scenario_load (they may name
		 * its pools and classes) */
		rc = llmcap_scenario_apply_yaml(sc, llmcap_builtin_default_scenario,
						strlen(llmcap_builtin_default_scenario),
						LLMCAP_DEFAULT_SCENARIO_NAME, err);
	}
	for (size_t i = 0; rc == 0 && i < n_overrides; i++)
		rc = llmcap_scenario_apply_override(sc, overrides[i], err);
	for (size_t i = 0; rc == 0 && i < sc->n_catalog; i++)
		rc = llmcap_catalog_load_file(cat, sc->catalog[i], err);
	llmcap_scenario_free(sc);
	free(sc);
	return rc;
}

int llmcap_scenario_load(struct llmcap_scenario *sc, const char *path,
			 const char *const *overrides, size_t n_overrides,
			 const struct llmcap_catalog *cat, struct llmcap_error *err)
{
	return scenario_load(sc, path, overrides, n_overrides, cat, true, err);
}

int llmcap_scenario_load_unchecked(struct llmcap_scenario *sc, const char *path,
				   const char *const *overrides, size_t n_overrides,
				   const struct llmcap_catalog *cat, struct llmcap_error *err)
{
	return scenario_load(sc, path, overrides, n_overrides, cat, false, err);
}

void llmcap_scenario_free(struct llmcap_scenario *sc)
{
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		/* a joint pair shares one allocation, owned by the prompt: see below */
		if (!llmcap_class_lengths_joint(cl))
			free(cl->output.data);
		free(cl->prompt.data);
		cl->prompt.data = cl->output.data = NULL;
		cl->prompt.n_data = cl->output.n_data = 0;
	}
}

int llmcap_scenario_read_traces(struct llmcap_scenario *sc, struct llmcap_error *err)
{
	for (size_t c = 0; c < sc->workload.n_classes; c++) {
		struct llmcap_class_cfg *cl = &sc->workload.classes[c];
		struct llmcap_dist *d[2] = {&cl->prompt, &cl->output};
		bool joint = llmcap_class_lengths_joint(cl);
		for (int i = 0; i < 2; i++) {
			if (d[i]->kind != LLMCAP_DIST_TRACE || d[i]->data)
				continue;
			const char *cols[2] = {d[i]->column, joint ? d[1]->column : NULL};
			int32_t *data;
			size_t n;
			struct llmcap_error terr = {0};
			int rc = llmcap_trace_read_columns(d[i]->file, cols, joint ? 2 : 1, &data, &n, &terr);
			if (rc)
				return llmcap_errorf(err, -rc, "%s: workload.classes.%s.%s: %s", cl->where,
						     cl->name, i ? "output" : "prompt", terr.msg);
			/* joint: one allocation, prompt column then output column */
			d[i]->data = data;
			d[i]->n_data = n;
			if (joint) {
				d[1]->data = data + n;
				d[1]->n_data = n;
			}
		}
	}
	return 0;
}

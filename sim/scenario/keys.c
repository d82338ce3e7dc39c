/* The closed set of values a key path accepts, for `--vary KEY=@all`: an enum's names, false
 * and true, or the entry names of the catalog the key refers to. See llmcap_schema_key_values
 * in include/llmcap/scenario.h. */
#include <string.h>

#include "fields.h"

int llmcap_schema_key_values(const char *key, const struct llmcap_catalog *cat,
			     const char **names, size_t max)
{
	const struct llmcap_section *s = &llmcap_scenario_section;
	const struct llmcap_field *f = NULL;
	const char *p = key;
	bool want_name = false;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0)
			return -1;
		if (want_name) {
			/* an entry name of a map (pools.NAME.dtype): any name */
			want_name = false;
		} else {
			if (f && f->type != LLMCAP_T_SECTION && f->type != LLMCAP_T_MAP)
				return -1;
			const struct llmcap_field *found = NULL;
			for (size_t i = 0; i < s->n; i++)
				if (strlen(s->fields[i].key) == len && !strncmp(s->fields[i].key, p, len))
					found = &s->fields[i];
			if (!found)
				return -1;
			f = found;
			if (f->type == LLMCAP_T_SECTION || f->type == LLMCAP_T_MAP) {
				s = f->sub;
				want_name = f->type == LLMCAP_T_MAP;
			}
		}
		p += len;
		if (*p)
			p++;
		else if (key[strlen(key) - 1] == '.')
			return -1;
	}
	if (!f || want_name || f->type == LLMCAP_T_SECTION || f->type == LLMCAP_T_MAP)
		return -1;
	size_t n = 0;
	if (f->type == LLMCAP_T_ENUM) {
		for (; f->names[n]; n++)
			if (n < max)
				names[n] = f->names[n];
	} else if (f->type == LLMCAP_T_BOOL) {
		static const char *const bools[] = {"false", "true"};
		for (; n < 2; n++)
			if (n < max)
				names[n] = bools[n];
	} else if (f->catalog && cat) {
		const char *base = NULL;
		size_t count = 0, stride = 0;
		if (!strcmp(f->catalog, "gpus")) {
			base = cat->gpus[0].name, count = cat->n_gpus, stride = sizeof cat->gpus[0];
		} else if (!strcmp(f->catalog, "models")) {
			base = cat->models[0].name, count = cat->n_models, stride = sizeof cat->models[0];
		} else if (!strcmp(f->catalog, "engines")) {
			base = cat->engines[0].name, count = cat->n_engines, stride = sizeof cat->engines[0];
		} else if (!strcmp(f->catalog, "prices")) {
			base = cat->prices[0].name, count = cat->n_prices, stride = sizeof cat->prices[0];
		} else if (!strcmp(f->catalog, "links")) {
			base = cat->links[0].name, count = cat->n_links, stride = sizeof cat->links[0];
		}
		for (; n < count; n++)
			if (n < max)
				names[n] = base + n * stride;
	}
	return (int)(n < max ? n : max);
}

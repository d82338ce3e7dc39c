/* Parsing a sweep axis, "KEY=SPEC" (`--vary` and the scenario's sweep.vary): a list of YAML
 * scalars, a range START:STOP:STEP or log:START:STOP:N, with an optional unit suffix. Lives with
 * the scenario because the scenario file's sweep section is checked with it as it loads; the
 * sweep (sim/study/sweep.c) expands named sets and runs the points. See scenario.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcap/scenario.h"

int llmcap_sweep_axis_add(struct llmcap_sweep_axis *ax, size_t *cap, const char *v, size_t len,
			  struct llmcap_error *err)
{
	if (len == 0 || len >= LLMCAP_SWEEP_VALUE_MAX)
		return llmcap_errorf(err, LLMCAP_EUSAGE, "--vary %s: value '%.*s' is %s", ax->key, (int)len,
				     v, len ? "too long (63 characters at most)" : "empty");
	if (ax->n == LLMCAP_SWEEP_MAX_VALUES)
		return llmcap_errorf(err, LLMCAP_EUSAGE, "--vary %s: more than %d values", ax->key,
				     LLMCAP_SWEEP_MAX_VALUES);
	if (ax->n == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		void *p = realloc(ax->values, nc * sizeof *ax->values);
		if (!p)
			return llmcap_errorf(err, LLMCAP_ENOMEM, "out of memory");
		ax->values = p;
		*cap = nc;
	}
	/* zeroed whole: the values' bytes enter the sweep's hash and the file's string columns */
	memset(ax->values[ax->n], 0, LLMCAP_SWEEP_VALUE_MAX);
	memcpy(ax->values[ax->n++], v, len);
	return 0;
}

static int add_number(struct llmcap_sweep_axis *ax, size_t *cap, double v, const char *unit,
		      struct llmcap_error *err)
{
	char buf[LLMCAP_SWEEP_VALUE_MAX];
	/* 15 significant digits: 0.1 + 2 x 0.1 prints as 0.3, and the text is what gets applied */
	int n = snprintf(buf, sizeof buf, "%.15g%s", v, unit);
	return llmcap_sweep_axis_add(ax, cap, buf, (size_t)n, err);
}

static int parse_num(const char *s, size_t len, double *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *end;
	errno = 0;
	*out = strtod(buf, &end);
	return *end || errno || !isfinite(*out) ? -1 : 0;
}

/* A list's values that are numbers take a unit each or none: "2e4,5e4/day" would apply 2e4
 * without a unit, which is not what the writer meant. -1 (err set) on a mixed list. */
static int units_alike(const struct llmcap_sweep_axis *ax, struct llmcap_error *err)
{
	const char *bare = NULL, *unit = NULL;
	for (size_t i = 0; i < ax->n; i++) {
		char *end;
		const char *v = ax->values[i];
		strtod(v, &end);
		if (end == v || (!isdigit((unsigned char)end[-1]) && end[-1] != '.'))
			continue; /* not a number: a name */
		if (!*end)
			bare = bare ? bare : v;
		else
			unit = unit ? unit : v;
	}
	if (!bare || !unit)
		return 0;
	return llmcap_errorf(err, LLMCAP_EUSAGE,
			     "--vary %s=%s: '%s' has no unit while '%s' has one; a unit goes on each "
			     "value of a list (e.g. 2e4/day,5e4/day), or on none",
			     ax->key, ax->spec, bare, unit);
}

int llmcap_sweep_parse_axis(const char *arg, struct llmcap_sweep_axis *ax, struct llmcap_error *err)
{
	memset(ax, 0, sizeof *ax);
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof ax->key)
		return llmcap_errorf(err, LLMCAP_EUSAGE,
				     "--vary '%s': expected KEY=SPEC, e.g. workload.rate=1/s,2/s,4/s, "
				     "workload.rate=1:10:1 or workload.rate=log:1:100:5", arg);
	snprintf(ax->key, sizeof ax->key, "%.*s", (int)(eq - arg), arg);
	snprintf(ax->spec, sizeof ax->spec, "%s", eq + 1);
	const char *s = eq + 1;
	size_t cap = 0;
	int rc = 0;
	bool is_log = !strncmp(s, "log:", 4);
	if (is_log || (strchr(s, ':') && !strchr(s, ','))) {
		/* a range: three numbers separated by ':' after the optional "log:" */
		const char *p = is_log ? s + 4 : s;
		double x[3];
		int k = 0;
		const char *unit = "";
		for (; k < 3; k++) {
			const char *c = strchr(p, ':');
			size_t len = c ? (size_t)(c - p) : strlen(p);
			if (k == 2 && !c) {
				/* a unit after the last number applies to every value: 1:10:1/s */
				char *end;
				strtod(p, &end);
				if (end != p && *end && strlen(end) < 16)
					unit = end;
				len = (size_t)(end - p);
			}
			if (parse_num(p, len, &x[k]) != 0 || (k < 2) != (c != NULL))
				break;
			p = c ? c + 1 : p + len;
		}
		if (k != 3)
			rc = llmcap_errorf(err, LLMCAP_EUSAGE,
					   "--vary %s=%s: a range is START:STOP:STEP or log:START:STOP:COUNT "
					   "with plain numbers and an optional unit at the end (10:200:10/s)",
					   ax->key, s);
		else if (is_log) {
			double n = x[2];
			if (!(x[0] > 0 && x[1] > 0 && n >= 2 && n == floor(n) && n <= LLMCAP_SWEEP_MAX_VALUES))
				rc = llmcap_errorf(err, LLMCAP_EUSAGE,
						   "--vary %s=%s: log ranges need START, STOP > 0 and an integer "
						   "COUNT >= 2", ax->key, s);
			for (int i = 0; rc == 0 && i < (int)n; i++) {
				double v = i == (int)n - 1 ? x[1]
							   : x[0] * pow(x[1] / x[0], (double)i / (n - 1));
				rc = add_number(ax, &cap, v, unit, err);
			}
		} else {
			double span = (x[1] - x[0]) / x[2];
			if (!(x[2] != 0) || span < -1e-9 || span > LLMCAP_SWEEP_MAX_VALUES)
				rc = llmcap_errorf(err, LLMCAP_EUSAGE,
						   "--vary %s=%s: STEP must be non-zero, of STOP - START's sign, "
						   "and give at most %d values", ax->key, s, LLMCAP_SWEEP_MAX_VALUES);
			/* start + i x step, never accumulated, so the values do not drift */
			for (long i = 0; rc == 0 && (double)i <= span + 1e-9; i++)
				rc = add_number(ax, &cap, x[0] + (double)i * x[2], unit, err);
		}
	} else {
		for (const char *p = s;;) {
			const char *c = strchr(p, ',');
			size_t len = c ? (size_t)(c - p) : strlen(p);
			while (len && (*p == ' ')) {
				p++;
				len--;
			}
			while (len && p[len - 1] == ' ')
				len--;
			if ((rc = llmcap_sweep_axis_add(ax, &cap, p, len, err)) != 0 || !c)
				break;
			p = c + 1;
		}
		if (rc == 0)
			rc = units_alike(ax, err);
	}
	if (rc) {
		free(ax->values);
		ax->values = NULL;
		ax->n = 0;
	}
	return rc;
}

/* ---- points ---- */

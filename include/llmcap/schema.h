/* The table-driven YAML walker: a struct is described by a table of fields (key, type, offset,
 * default, range, documentation), and one walker uses the table to apply a YAML mapping onto
 * the struct, to set every default, to write the struct back as YAML and to write the table as
 * a Markdown reference, so that the four never disagree. The scenario (sim/scenario/fields.c)
 * and the catalogs (models/catalog.c) are both described this way.
 *
 * Errors name the place: FILE:LINE:COLUMN of the offending key or value for a file, the --set
 * argument for an override, then the key path, the value and what was expected.
 *
 * Field tables are static const data; the walker keeps no state between calls. A step that a
 * field needs beyond storing its value (reading a rate profile's file, parsing a sweep SPEC)
 * is a hook in the field, so that the walker depends on nothing above base.
 */
#ifndef LLMCAP_SCHEMA_H
#define LLMCAP_SCHEMA_H

#include <stdio.h>

#include "llmcap/core.h"
#include "llmcap/spec.h"

enum llmcap_ftype {
	LLMCAP_T_STR,
	LLMCAP_T_INT,
	LLMCAP_T_U64,
	LLMCAP_T_DOUBLE,
	LLMCAP_T_BOOL,
	LLMCAP_T_DURATION,
	LLMCAP_T_RATE,
	LLMCAP_T_BYTES,
	LLMCAP_T_ENUM,
	LLMCAP_T_SECTION,
	LLMCAP_T_MAP,
	LLMCAP_T_DIST, /* struct llmcap_dist at offset: a mapping {dist: KIND, ...} */
	LLMCAP_T_LIST, /* numbers: double array at offset, count (size_t) at count_offset */
	LLMCAP_T_PATH, /* a file name, made absolute against the YAML file's folder when read */
	LLMCAP_T_SPECMAP, /* names to a scalar or a list of scalars: struct llmcap_sweep_entry
			   * array at offset, count at count_offset */
};

enum {
	LLMCAP_F_MIN_EXCL = 1u << 0, /* min is exclusive */
	LLMCAP_F_AUTO = 1u << 1,     /* integer: "auto" means 0; duration: "auto" means -1 */
	LLMCAP_F_NULL = 1u << 2,     /* double: null means NAN */
	LLMCAP_F_HAS_MAX = 1u << 3,  /* max is meaningful */
	/* specmap: entry names are key paths (with dots) whose value may be one SPEC scalar (the
	 * form of sweep.vary); without it, names are set names and values lists (sweep.sets) */
	LLMCAP_F_KEYPATH = 1u << 4,
	LLMCAP_F_COUNT = 1u << 5,    /* double: a count, with an optional K, M, B or T suffix (5B) */
};

struct llmcap_section;
struct llmcap_field;

/* A field's extra step, called by the walker with the struct holding the field and a text:
 * for a path, the absolute file name once stored ("" when none); for a specmap entry,
 * "NAME=SPEC". Returns 0, or nonzero with err's message set (without a place: the walker
 * prefixes the value's place and key path). */
typedef int (*llmcap_field_hook)(const struct llmcap_field *f, void *base, const char *text,
				 struct llmcap_error *err);

struct llmcap_field {
	const char *key;
	enum llmcap_ftype type;
	size_t offset;
	size_t size; /* strings: buffer size */
	const char *def;
	const char *doc;
	double min, max; /* numbers in their stored unit (ns for durations); both 0: no range */
	unsigned flags;
	const char *const *names;  /* enums: NULL-terminated, in enum order (spec.h's tables) */
	const struct llmcap_section *sub; /* sections and map entries */
	/* maps: struct array at `offset`, element count (size_t) at count_offset; every entry
	 * starts with its name (char[LLMCAP_NAME_MAX] at offset 0) */
	size_t count_offset, elem_size, max_count;
	/* maps: where the entry keeps the place it was defined (char[160], FILE:LINE:COLUMN or
	 * the --set argument, for later cross-field errors); 0 = it does not */
	size_t where_offset;
	/* lists: the lengths allowed besides empty (len_b = len_a when there is one) */
	size_t len_a, len_b;
	/* an alternative key of the same section: giving this one (not null) sets the other to
	 * null, and a mapping may not give both */
	const char *alt;
	/* strings naming a catalog entry: "gpus", "models", "engines" or "prices" */
	const char *catalog;
	/* specmap: names an entry may not take (NULL-terminated; the built-in sets) */
	const char *const *reserved;
	llmcap_field_hook hook; /* paths and specmaps; NULL = none */
};

struct llmcap_section {
	const struct llmcap_field *fields;
	size_t n;
};

#define LLMCAP_SECTION(arr) {arr, sizeof arr / sizeof arr[0]}

/* Sets every field of s in base to its default (maps, lists and specmaps empty). */
void llmcap_schema_defaults(const struct llmcap_section *s, void *base);

/* Limits on a YAML text (a scenario file, a catalog, a --set value), refused with a located
 * error before the document is built: the builder needs memory in proportion to the nodes
 * (about 400 bytes each), and a scenario needs far fewer (the shipped ones: under 2,000). */
#define LLMCAP_YAML_MAX_BYTES (8 << 20)
#define LLMCAP_YAML_MAX_NODES 200000

/* Parses `text` (len bytes, UTF-8 YAML) and applies its root onto base by `root`: a section
 * field applies the root mapping onto the section at root->offset, a map field applies it as
 * the map's entries. `origin` names a file in errors (relative file names in values are
 * relative to base_dir, NULL or "" for the current directory); with origin NULL, errors name
 * `override` as "--set 'OVERRIDE'". One document only; anchors, aliases and duplicate keys
 * are refused, located. Returns 0, 1 when the document is empty (nothing applied,
 * err untouched), or a negative error code with err set. */
int llmcap_schema_apply_text(const struct llmcap_field *root, void *base, const char *text,
			     size_t len, const char *origin, const char *override,
			     const char *base_dir, struct llmcap_error *err);

/* Writes base as YAML that applies back to the same values; with `comments`, each scalar
 * carries its field's documentation as a trailing comment. */
void llmcap_schema_write_yaml(const struct llmcap_section *s, const void *base, FILE *out,
			      bool comments);
/* Writes one Markdown table row per field (key path, type, range, default, meaning). */
void llmcap_schema_write_markdown(const struct llmcap_section *s, FILE *out);

/* Reads a whole file (at most 64 MiB) into a NUL-terminated allocation the caller frees;
 * NULL with err set ("PATH: cannot open WHAT: reason") on failure. */
char *llmcap_read_text(const char *path, size_t *len, const char *what, struct llmcap_error *err);

#endif

/* plugin_schema - parses a plugin's argument text ("KEY=VALUE,KEY=VALUE") against the table
 * of arguments its descriptor declares (struct lp_arg), with the value grammar of values.h.
 * Pure: no I/O, no globals; allocates only the result. Main thread (startup) in practice. */
#ifndef LINEPOOL_PLUGIN_SCHEMA_H
#define LINEPOOL_PLUGIN_SCHEMA_H

#include <linepool.h>

#include <stddef.h>

/* Most arguments a plugin may declare. */
#define PLUGIN_SCHEMA_MAX 64

/* Parsed values: one per declared argument, defaults where the text said nothing. String
 * values point into `strings`. Owned by the caller: plugin_schema_free. */
struct plugin_values {
    union lp_value *v;
    size_t n;
    char *strings;
};

/* Checks the table itself (names, types, defaults that parse and fit, at most
 * PLUGIN_SCHEMA_MAX entries). Returns 0 or -EINVAL with one line in err. */
int plugin_schema_check(const struct lp_arg *args, char *err, size_t errlen);

/* Parses text against args (already checked) into out. Refuses, with one line in err naming
 * the key and what is accepted: a pair without '=', an unknown key, a key given twice, a
 * value outside its type's grammar or bounds, a trailing ','. Returns 0, -EINVAL or -ENOMEM. */
int plugin_schema_parse(const struct lp_arg *args, const char *text, struct plugin_values *out,
                        char *err, size_t errlen);

void plugin_schema_free(struct plugin_values *v);

/* What the argument accepts, e.g. "a bool (1/0, true/false, yes/no, on/off)" or "a size from
 * 1 to 1048576 bytes (K, M, G, T suffixes)". */
const char *plugin_schema_accepts(const struct lp_arg *a, char *buf, size_t len);

/* Splits a --plugin spec "NAME[@INSTANCE][:ARGS]": *name and *inst are malloc'd (*inst NULL
 * without '@'; the '@' counts only after the last '/' of a path), *args points into spec
 * after the first ':' ("" when none). Refuses an empty name, and an instance name that is
 * not 1-PLUGIN_INSTANCE_MAX of [A-Za-z0-9._-], with one line. 0, -EINVAL or -ENOMEM; on
 * failure nothing is left allocated. */
#define PLUGIN_INSTANCE_MAX 64
int plugin_schema_split_spec(const char *spec, char **name, char **inst, const char **args,
                             char *err, size_t errlen);

/* The type's name: "bool", "unsigned", "size", "duration", "string". */
const char *plugin_schema_type_name(enum lp_arg_type t);

#endif

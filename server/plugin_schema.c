/* plugin_schema - declared plugin arguments: KEY=VALUE text to typed values; see the header. */
#include "plugin_schema.h"

#include "errbuf.h"

#include "values.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

const char *plugin_schema_type_name(enum lp_arg_type t)
{
    static const char *const names[] = {"?", "bool", "unsigned", "size", "duration", "string"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

static int known_type(enum lp_arg_type t)
{
    return t >= LP_ARG_BOOL && t <= LP_ARG_STRING;
}

static void upper(const struct lp_arg *a, char *buf, size_t len, const char *unit)
{
    if (a->max)
        snprintf(buf, len, "%llu%s", (unsigned long long)a->max, unit);
    else
        snprintf(buf, len, "any");
}

/* ns as seconds, exact, without trailing zeros: "0.001", "3600". */
static const char *seconds(uint64_t ns, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000ull),
                     (unsigned long long)(ns % 1000000000ull));
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
    return buf;
}

const char *plugin_schema_accepts(const struct lp_arg *a, char *buf, size_t len)
{
    char hi[48], lo[48];
    switch (a->type) {
    case LP_ARG_BOOL:
        snprintf(buf, len, "a bool (1/0, true/false, yes/no, on/off)");
        break;
    case LP_ARG_UNSIGNED:
        upper(a, hi, sizeof hi, "");
        snprintf(buf, len, "a whole number from %llu to %s", (unsigned long long)a->min, hi);
        break;
    case LP_ARG_SIZE:
        upper(a, hi, sizeof hi, " bytes");
        snprintf(buf, len, "a size from %llu to %s (K, M, G, T suffixes)",
                 (unsigned long long)a->min, hi);
        break;
    case LP_ARG_DURATION:
        snprintf(buf, len, "a duration from %s to %s s (e.g. 2, 0.5, 1500ms)",
                 seconds(a->min, lo, sizeof lo),
                 seconds(a->max ? a->max : VALUES_MAX_SECONDS * 1000000000ull, hi, sizeof hi));
        break;
    default:
        upper(a, hi, sizeof hi, "");
        snprintf(buf, len, "%llu to %s bytes without ',' or newline", (unsigned long long)a->min,
                 hi);
        break;
    }
    return buf;
}

/* One value of argument a from (text, len); strings are copied to *store. 0 or -EINVAL. */
static int parse_value(const struct lp_arg *a, const char *text, size_t len, union lp_value *out,
                       char **store)
{
    uint64_t u = 0;
    int rc;
    switch (a->type) {
    case LP_ARG_BOOL:
        return values_parse_bool(text, len, &out->b) ? -EINVAL : 0;
    case LP_ARG_UNSIGNED:
        rc = values_parse_uint(text, len, &u);
        break;
    case LP_ARG_SIZE:
        rc = values_parse_size(text, len, &u);
        break;
    case LP_ARG_DURATION:
        rc = values_parse_duration(text, len, &u);
        break;
    default:
        if (len < a->min || (a->max && len > a->max) || memchr(text, ',', len) ||
            memchr(text, '\n', len) || memchr(text, '\0', len))
            return -EINVAL;
        memcpy(*store, text, len);
        (*store)[len] = '\0';
        out->s = *store;
        *store += len + 1;
        return 0;
    }
    if (rc || u < a->min || (a->max && u > a->max))
        return -EINVAL;
    out->u = u;
    return 0;
}

int plugin_schema_check(const struct lp_arg *args, char *err, size_t errlen)
{
    size_t n = 0;
    for (; args && args[n].name; n++) {
        const struct lp_arg *a = &args[n];
        char scratch[256], *store = scratch;
        union lp_value v;
        if (n == PLUGIN_SCHEMA_MAX)
            return errbuf_set(err, errlen, -EINVAL, "declares more than %d arguments",
                              PLUGIN_SCHEMA_MAX);
        if (!a->name[0] || strlen(a->name) > 32 || a->name[strspn(a->name, KEY_CHARS)])
            return errbuf_set(err, errlen, -EINVAL,
                              "argument '%.32s': name must be 1-32 of [a-z0-9_-]", a->name);
        if (!known_type(a->type))
            return errbuf_set(err, errlen, -EINVAL, "argument '%s': unknown type %d", a->name,
                              (int)a->type);
        if (a->max && a->min > a->max)
            return errbuf_set(err, errlen, -EINVAL, "argument '%s': min above max", a->name);
        const char *def = a->def ? a->def : a->type == LP_ARG_STRING ? "" : "0";
        if (strlen(def) >= sizeof scratch || parse_value(a, def, strlen(def), &v, &store) != 0)
            return errbuf_set(err, errlen, -EINVAL, "argument '%s': default '%.64s' is not %s",
                              a->name, def, plugin_schema_accepts(a, scratch, sizeof scratch));
        for (size_t j = 0; j < n; j++)
            if (strcmp(args[j].name, a->name) == 0)
                return errbuf_set(err, errlen, -EINVAL, "argument '%s' declared twice", a->name);
    }
    return 0;
}

static const struct lp_arg *find(const struct lp_arg *args, const char *key, size_t klen,
                                 size_t *index)
{
    for (size_t i = 0; args && args[i].name; i++)
        if (strlen(args[i].name) == klen && memcmp(args[i].name, key, klen) == 0)
            return *index = i, &args[i];
    return NULL;
}

static const char *list_keys(const struct lp_arg *args, char *buf, size_t len)
{
    size_t used = 0;
    snprintf(buf, len, "none");
    for (size_t i = 0; args && args[i].name && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", args[i].name);
    return buf;
}

/* Sets every value to its default (checked by plugin_schema_check). */
static int defaults(const struct lp_arg *args, struct plugin_values *out, char **store)
{
    for (size_t i = 0; i < out->n; i++) {
        const struct lp_arg *a = &args[i];
        const char *def = a->def ? a->def : a->type == LP_ARG_STRING ? "" : "0";
        if (parse_value(a, def, strlen(def), &out->v[i], store))
            return -EINVAL;
    }
    return 0;
}

static size_t defaults_size(const struct lp_arg *args, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += (args[i].def ? strlen(args[i].def) : 0) + 1;
    return total;
}

/* One "KEY=VALUE" of length len at p. */
static int parse_pair(const struct lp_arg *args, const char *p, size_t len,
                      struct plugin_values *out, uint64_t *seen, char **store, char *err,
                      size_t errlen)
{
    char keys[512], accepts[160];
    size_t klen = strcspn(p, "=,"), i;
    if (klen >= len || klen == 0)
        return errbuf_set(err, errlen, -EINVAL, "expected KEY=VALUE, got '%.*s'", (int)len, p);
    const struct lp_arg *a = find(args, p, klen, &i);
    if (!a)
        return errbuf_set(err, errlen, -EINVAL, "unknown argument '%.*s' (accepted: %s)", (int)klen,
                          p, list_keys(args, keys, sizeof keys));
    if (*seen & (1ull << i))
        return errbuf_set(err, errlen, -EINVAL, "argument '%s' given twice", a->name);
    *seen |= 1ull << i;
    const char *val = p + klen + 1;
    size_t vlen = len - klen - 1;
    if (parse_value(a, val, vlen, &out->v[i], store))
        return errbuf_set(err, errlen, -EINVAL, "%s=%.*s: expected %s", a->name, (int)vlen, val,
                          plugin_schema_accepts(a, accepts, sizeof accepts));
    return 0;
}

int plugin_schema_parse(const struct lp_arg *args, const char *text, struct plugin_values *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    while (args && args[out->n].name)
        out->n++;
    size_t tlen = strlen(text);
    out->v = calloc(out->n ? out->n : 1, sizeof *out->v);
    out->strings = malloc(tlen + defaults_size(args, out->n) + 1);
    if (!out->v || !out->strings) {
        plugin_schema_free(out);
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    }
    char *store = out->strings;
    uint64_t seen = 0;
    int rc = defaults(args, out, &store);
    if (rc)
        errbuf_set(err, errlen, rc, "a default does not parse");
    for (const char *p = text; !rc && *p;) {
        size_t len = strcspn(p, ",");
        rc = parse_pair(args, p, len, out, &seen, &store, err, errlen);
        p += len;
        if (!rc && *p == ',' && !*++p)
            rc = errbuf_set(err, errlen, -EINVAL, "expected KEY=VALUE after the last ','");
    }
    if (rc)
        plugin_schema_free(out);
    return rc;
}

void plugin_schema_free(struct plugin_values *v)
{
    free(v->v);
    free(v->strings);
    memset(v, 0, sizeof *v);
}

/* strndup, which strict C11 (the fake host's build) does not declare. */
static char *copy(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

#define INSTANCE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

int plugin_schema_split_spec(const char *spec, char **name, char **inst, const char **args,
                             char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    *inst = NULL;
    *args = colon ? colon + 1 : "";
    if (!(*name = copy(spec, len)))
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    char *slash = strrchr(*name, '/'), *at = strchr(slash ? slash : *name, '@');
    int rc = 0;
    if (at) {
        *at = '\0';
        size_t ilen = strlen(at + 1);
        if (ilen == 0 || ilen > PLUGIN_INSTANCE_MAX || at[1 + strspn(at + 1, INSTANCE_CHARS)])
            rc = errbuf_set(err, errlen, -EINVAL,
                            "plugin '%s': instance name must be 1-64 of [A-Za-z0-9._-] after '@'",
                            spec);
        else if (!(*inst = copy(at + 1, ilen)))
            rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
    }
    if (!rc && !(*name)[0])
        rc = errbuf_set(err, errlen, -EINVAL,
                        "plugin '%s': empty name (expected NAME[@INSTANCE][:ARGS])", spec);
    if (rc) {
        free(*name);
        free(*inst);
        *name = *inst = NULL;
    }
    return rc;
}

/* fuzz_plugin_schema - server/plugin_schema.c (declared plugin arguments) and the value
 * parsers of server/values.c under it. Oracle: the structure of the text (pairs, known keys,
 * a key at most once, no trailing ',') is checked by an independent reference; every
 * accepted value lies within its declared bounds and prints back to text that parses to the
 * same values; a refusal has one line naming a key or the pair; the value parsers agree with
 * reference parsers for bools and whole numbers and keep their documented limits; as a whole
 * --plugin spec (NAME[@INSTANCE][:ARGS]) it splits exactly when a reference says it is well
 * formed, into parts that give the spec back. The input is the argument text, as after
 * `--plugin NAME:`. */
#include "fuzz.h"
#include "plugin_schema.h"
#include "values.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define NS 1000000000ull

static const struct lp_arg args[] = {
    {.name = "flag", .type = LP_ARG_BOOL, .def = "0"},
    {.name = "n", .type = LP_ARG_UNSIGNED, .def = "1", .min = 1, .max = 1000},
    {.name = "big", .type = LP_ARG_UNSIGNED},
    {.name = "sz", .type = LP_ARG_SIZE, .def = "64K", .min = 1, .max = 1ull << 30},
    {.name = "dur", .type = LP_ARG_DURATION, .def = "1s", .max = 3600 * NS},
    {.name = "name", .type = LP_ARG_STRING, .def = "x", .min = 1, .max = 16},
    {.name = "any", .type = LP_ARG_STRING},
    {0},
};
#define NARGS 7

/* Reference of the structure only: "" or PAIR *("," PAIR), PAIR = KEY "=" rest, KEY known
 * and not repeated. Values are judged by the value oracles below. */
static bool ref_structure(const char *s)
{
    unsigned seen = 0;
    if (!*s)
        return true;
    for (;;) {
        size_t len = strcspn(s, ","), klen = strcspn(s, "=,");
        if (klen == 0 || klen >= len)
            return false;
        int k = -1;
        for (int i = 0; i < NARGS; i++)
            if (strlen(args[i].name) == klen && memcmp(args[i].name, s, klen) == 0)
                k = i;
        if (k < 0 || (seen & (1u << k)))
            return false;
        seen |= 1u << k;
        if (!s[len])
            return true;
        s += len + 1;
        if (!*s)
            return false;
    }
}

static bool ref_bool(const char *v, size_t len, int *out)
{
    static const char *const words[] = {"0", "1", "false", "true", "no", "yes", "off", "on"};
    for (int i = 0; i < 8; i++)
        if (strlen(words[i]) == len && memcmp(words[i], v, len) == 0)
            return *out = i & 1, true;
    return false;
}

static bool in_bounds(const struct lp_arg *a, uint64_t v)
{
    return v >= a->min && (!a->max || v <= a->max);
}

/* Prints the values back; the text must parse to exactly the same values. */
static void check_round_trip(const struct plugin_values *v)
{
    char text[512], err[256];
    int n = snprintf(text, sizeof text, "flag=%s,n=%llu,big=%llu,sz=%llu,dur=%llu.%09llu,name=%s",
                     v->v[0].b ? "on" : "off", (unsigned long long)v->v[1].u,
                     (unsigned long long)v->v[2].u, (unsigned long long)v->v[3].u,
                     (unsigned long long)(v->v[4].u / NS), (unsigned long long)(v->v[4].u % NS),
                     v->v[5].s);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof text);
    if (v->v[6].s[0]) {
        n += snprintf(text + n, sizeof text - (size_t)n, ",any=%s", v->v[6].s);
        if ((size_t)n >= sizeof text)
            return; /* a long string: nothing to learn from a cut copy */
    }
    struct plugin_values again;
    FUZZ_CHECK(plugin_schema_parse(args, text, &again, err, sizeof err) == 0);
    for (int i = 0; i < 5; i++)
        FUZZ_CHECK(i == 0 ? again.v[0].b == v->v[0].b : again.v[i].u == v->v[i].u);
    FUZZ_CHECK(strcmp(again.v[5].s, v->v[5].s) == 0 && strcmp(again.v[6].s, v->v[6].s) == 0);
    plugin_schema_free(&again);
}

static void check_accepted(const struct plugin_values *v)
{
    FUZZ_CHECK(v->n == NARGS);
    FUZZ_CHECK(v->v[0].b == 0 || v->v[0].b == 1);
    for (int i = 1; i < 5; i++)
        FUZZ_CHECK(in_bounds(&args[i], v->v[i].u));
    for (int i = 5; i < 7; i++) {
        size_t len = strlen(v->v[i].s);
        FUZZ_CHECK(in_bounds(&args[i], len));
        FUZZ_CHECK(!strchr(v->v[i].s, ',') && !strchr(v->v[i].s, '\n'));
    }
    check_round_trip(v);
}

/* The value parsers on the whole input, as one value. */
static void check_values(const char *t, size_t len)
{
    uint64_t u = 0, want = 0;
    int b = -1, want_b = -1;
    bool ref_ok = ref_bool(t, len, &want_b);
    FUZZ_CHECK((values_parse_bool(t, len, &b) == 0) == ref_ok);
    FUZZ_CHECK(!ref_ok || b == want_b);

    bool digits = len > 0, over = false;
    for (size_t i = 0; i < len && digits; i++) {
        if (t[i] < '0' || t[i] > '9')
            digits = false;
        else if (want > (UINT64_MAX - (uint64_t)(t[i] - '0')) / 10)
            over = true;
        else
            want = want * 10 + (uint64_t)(t[i] - '0');
    }
    int rc = values_parse_uint(t, len, &u);
    FUZZ_CHECK(rc == (!digits ? -EINVAL : over ? -ERANGE : 0));
    FUZZ_CHECK(rc || u == want);

    rc = values_parse_size(t, len, &u);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
    if (rc == 0 && digits && !over)
        FUZZ_CHECK(u == want); /* no unit: bytes */
    if (digits && over)
        FUZZ_CHECK(rc == -ERANGE);

    rc = values_parse_duration(t, len, &u);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
    if (rc == 0)
        FUZZ_CHECK(u <= VALUES_MAX_SECONDS * NS);
    if (digits && !over)
        FUZZ_CHECK(want <= VALUES_MAX_SECONDS ? rc == 0 && u == want * NS : rc == -ERANGE);
    uint16_t port;
    rc = values_parse_port(t, len, &port);
    FUZZ_CHECK(rc == (!digits ? -EINVAL : (over || want > 65535) ? -ERANGE : 0));
    FUZZ_CHECK(rc || port == want);
}

/* The input as a --plugin spec: accepted exactly when its parts are well formed, and the
 * parts put back together give the spec again. */
static void check_spec(const char *spec)
{
    char *name, *inst, err[256];
    const char *rest;
    int rc = plugin_schema_split_spec(spec, &name, &inst, &rest, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    size_t head = strcspn(spec, ":");
    const char *slash = NULL;
    for (size_t i = 0; i < head; i++)
        if (spec[i] == '/')
            slash = spec + i;
    const char *at =
        memchr(slash ? slash : spec, '@', head - (size_t)((slash ? slash : spec) - spec));
    size_t nlen = at ? (size_t)(at - spec) : head, ilen = at ? head - nlen - 1 : 0;
    bool inst_ok = !at || (ilen >= 1 && ilen <= 64);
    for (size_t i = 0; at && i < ilen; i++) {
        char ch = at[1 + i];
        inst_ok = inst_ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.');
    }
    FUZZ_CHECK((rc == 0) == (nlen > 0 && inst_ok) || rc == -ENOMEM);
    if (rc) {
        FUZZ_CHECK(err[0]);
        for (const char *p = err; *p; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
        return;
    }
    char again[8192];
    int n = snprintf(again, sizeof again, "%s%s%s%s%s", name, inst ? "@" : "", inst ? inst : "",
                     spec[head] ? ":" : "", rest);
    if (n > 0 && (size_t)n < sizeof again)
        FUZZ_CHECK(strcmp(again, spec) == 0);
    FUZZ_CHECK(spec[head] ? rest == spec + head + 1 : rest[0] == '\0');
    free(name);
    free(inst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1); /* exact size: a read past the NUL trips ASan */
    FUZZ_CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';
    check_values(text, size);
    check_spec(text);

    char err[128];
    err[0] = '\0';
    struct plugin_values v;
    FUZZ_CHECK(plugin_schema_check(args, err, sizeof err) == 0);
    int rc = plugin_schema_parse(args, text, &v, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (!ref_structure(text)) /* NUL inside the input ends the text early: judged as C sees it */
        FUZZ_CHECK(rc != 0);
    if (rc == 0) {
        check_accepted(&v);
        plugin_schema_free(&v);
    } else {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err));
        for (const char *p = err; *p; p++) /* one printable line, whatever the input held */
            FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    free(text);
    return 0;
}

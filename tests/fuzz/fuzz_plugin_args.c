/* fuzz_plugin_args - plugins/args.h against an independent reference parser: for any
 * argument string the two agree on accept or refuse and on every value; a refusal always
 * comes with an error line; an accepted configuration prints back to a string that parses
 * to the same values. The keys mirror the bundled plugins' (counter, rate-meter). */
#include "args.h"
#include "fuzz.h"

#include <stdbool.h>

struct opts {
    char marker[128]; /* like counter's: 1 to 127 bytes, no '\n' */
    size_t marker_len;
    uint64_t reset, quiet, show, interval, big, zero;
};

static int set_marker(void *cfg, const struct args_key *k, const char *val, size_t len, char *err,
                      size_t errlen)
{
    struct opts *o = cfg;
    (void)k;
    if (len == 0 || len >= sizeof o->marker || memchr(val, '\n', len)) {
        snprintf(err, errlen, "marker: expected 1 to %zu bytes", sizeof o->marker - 1);
        return -EINVAL;
    }
    memcpy(o->marker, val, len);
    o->marker_len = len;
    return 0;
}

static const struct args_key keys[] = {
    {"marker", set_marker, 0, 0},
    {"reset", args_set_uint, offsetof(struct opts, reset), 1},
    {"quiet", args_set_uint, offsetof(struct opts, quiet), 1},
    {"show", args_set_uint, offsetof(struct opts, show), UINT32_MAX},
    {"interval", args_set_uint, offsetof(struct opts, interval), 3600},
    {"big", args_set_uint, offsetof(struct opts, big), UINT64_MAX},
    {"zero", args_set_uint, offsetof(struct opts, zero), 0},
};
#define NKEYS (sizeof keys / sizeof *keys)

static void defaults(struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->marker[0] = 'Y';
    o->marker_len = 1;
    o->show = 1;
    o->interval = 1;
}

/* A whole number: decimal digits only (leading zeros allowed), at most max. */
static bool ref_uint(const char *v, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        unsigned d = (unsigned)(v[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    if (len == 0 || n > max)
        return false;
    *out = n;
    return true;
}

static bool ref_item(struct opts *o, const char *item, size_t len, unsigned *seen)
{
    const char *eq = memchr(item, '=', len);
    if (!eq || eq == item)
        return false;
    size_t klen = (size_t)(eq - item), vlen = len - klen - 1;
    for (size_t i = 0; i < NKEYS; i++) {
        if (strlen(keys[i].key) != klen || memcmp(keys[i].key, item, klen) != 0)
            continue;
        if (*seen & (1u << i))
            return false;
        *seen |= 1u << i;
        if (keys[i].set == set_marker) {
            if (vlen == 0 || vlen >= sizeof o->marker || memchr(eq + 1, '\n', vlen))
                return false;
            memcpy(o->marker, eq + 1, vlen);
            o->marker_len = vlen;
            return true;
        }
        uint64_t v;
        if (!ref_uint(eq + 1, vlen, keys[i].max, &v))
            return false;
        memcpy((char *)o + keys[i].offset, &v, sizeof v);
        return true;
    }
    return false;
}

/* The grammar: "" or ITEM *("," ITEM); ITEM = KEY "=" VALUE, KEY a known key given at most
 * once, VALUE valid for it (no ','). */
static bool ref_parse(const char *s, struct opts *o)
{
    unsigned seen = 0;
    if (!*s)
        return true;
    for (;;) {
        size_t len = strcspn(s, ",");
        if (!ref_item(o, s, len, &seen))
            return false;
        if (!s[len])
            return true;
        s += len + 1;
    }
}

static bool same(const struct opts *a, const struct opts *b)
{
    return a->marker_len == b->marker_len && memcmp(a->marker, b->marker, a->marker_len) == 0 &&
           a->reset == b->reset && a->quiet == b->quiet && a->show == b->show &&
           a->interval == b->interval && a->big == b->big && a->zero == b->zero;
}

/* Prints every key back; the string must parse to the same values. */
static void check_round_trip(const struct opts *o)
{
    char text[512], err[256];
    int n = snprintf(text, sizeof text,
                     "marker=%.*s,reset=%llu,quiet=%llu,show=%llu,interval=%llu,big=%llu,"
                     "zero=%llu",
                     (int)o->marker_len, o->marker, (unsigned long long)o->reset,
                     (unsigned long long)o->quiet, (unsigned long long)o->show,
                     (unsigned long long)o->interval, (unsigned long long)o->big,
                     (unsigned long long)o->zero);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof text);
    struct opts again;
    memset(&again, 0, sizeof again);
    FUZZ_CHECK(args_parse(text, keys, NKEYS, &again, err, sizeof err) == 0);
    FUZZ_CHECK(same(o, &again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args = malloc(size + 1); /* exact size: a read past the NUL trips ASan */
    FUZZ_CHECK(args);
    memcpy(args, data, size);
    args[size] = '\0';

    struct opts got, want;
    char err[96];
    defaults(&got);
    defaults(&want);
    err[0] = '\0';
    int rc = args_parse(args, keys, NKEYS, &got, err, sizeof err);
    bool ok = ref_parse(args, &want);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
    FUZZ_CHECK((rc == 0) == ok);
    if (ok) {
        FUZZ_CHECK(same(&got, &want));
        FUZZ_CHECK(got.reset <= 1 && got.quiet <= 1 && got.show <= UINT32_MAX &&
                   got.interval <= 3600);
        FUZZ_CHECK(got.zero == 0 && got.marker_len >= 1 && got.marker_len < sizeof got.marker);
        FUZZ_CHECK(!memchr(got.marker, '\n', got.marker_len));
        check_round_trip(&got);
    } else {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err));
    }
    free(args);
    return 0;
}

/* fuzz_values - server/values.c, the one set of value parsers behind the server's and the
 * client's options, the config file and declared plugin arguments, and server/opt.c's typed
 * entries over them. The input is one value. Oracles: independent reference parsers (written
 * from the grammar in values.h, with 128-bit arithmetic instead of saturation; addresses
 * split at the port's ':' first) agree on every
 * result, -EINVAL vs -ERANGE included, and on every value; *out is untouched by a refusal; an
 * option entry with limits stores the value exactly when it parses and is within them, else
 * returns the parser's code (-ERANGE outside the limits) with an error line naming it. */
#include "fuzz.h"
#include "opt.h"
#include "values.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

typedef unsigned __int128 u128;

#define U64_MAX_128 ((u128)UINT64_MAX)

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits at t[*i...] into *v (stops growing past 2^64, enough to know it overflowed). */
static size_t ref_digits(const char *t, size_t len, size_t *i, u128 *v)
{
    size_t start = *i;
    *v = 0;
    for (; *i < len && digit(t[*i]); (*i)++)
        if (*v <= U64_MAX_128)
            *v = *v * 10 + (u128)(t[*i] - '0');
    return *i - start;
}

static int ref_uint(const char *t, size_t len, uint64_t *out)
{
    size_t i = 0;
    u128 v;
    if (!ref_digits(t, len, &i, &v) || i != len)
        return -EINVAL;
    if (v > U64_MAX_128)
        return -ERANGE;
    *out = (uint64_t)v;
    return 0;
}

static int ref_size(const char *t, size_t len, uint64_t *out)
{
    size_t i = 0;
    u128 v;
    if (!ref_digits(t, len, &i, &v))
        return -EINVAL;
    static const char units[] = "kmgt";
    const char *u = i < len && t[i] ? strchr(units, t[i] | 0x20) : NULL;
    unsigned shift = 0;
    if (u) {
        shift = 10 * (unsigned)(u - units + 1);
        i++;
        if (i < len && t[i] == 'i')
            i++;
        if (i < len && (t[i] == 'b' || t[i] == 'B'))
            i++;
    }
    if (i != len)
        return -EINVAL;
    if (v > U64_MAX_128 || (v << shift) > U64_MAX_128)
        return -ERANGE;
    *out = (uint64_t)(v << shift);
    return 0;
}

static int ref_duration(const char *t, size_t len, uint64_t *ns)
{
    size_t i = 0;
    u128 whole, frac = 0, scale = 1000000000;
    if (!ref_digits(t, len, &i, &whole))
        return -EINVAL;
    if (i < len && t[i] == '.') {
        size_t start = ++i;
        for (; i < len && digit(t[i]); i++)
            if (scale /= 10)
                frac += (u128)(t[i] - '0') * scale; /* digits past 1 ns are cut */
        if (i == start)
            return -EINVAL;
    }
    u128 per = 1000000000; /* ns per unit */
    if (len - i == 2 && t[i] == 'm' && t[i + 1] == 's')
        per = 1000000;
    else if (!(i == len || (len - i == 1 && t[i] == 's')))
        return -EINVAL;
    if (whole > U64_MAX_128)
        return -ERANGE;
    u128 v = whole * per + frac / (1000000000 / per);
    if (v > (u128)VALUES_MAX_SECONDS * 1000000000)
        return -ERANGE;
    *ns = (uint64_t)v;
    return 0;
}

static int ref_bool(const char *t, size_t len, int *out)
{
    static const char *const words[] = {"0", "1", "false", "true", "no", "yes", "off", "on"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strlen(words[i]) == len && memcmp(words[i], t, len) == 0)
            return *out = (int)(i % 2), 0;
    return -EINVAL;
}

static int ref_port(const char *t, size_t len, uint16_t *out)
{
    uint64_t v;
    int rc = ref_uint(t, len, &v);
    if (rc)
        return rc;
    if (v > 65535)
        return -ERANGE;
    *out = (uint16_t)v;
    return 0;
}

/* HOST:PORT / [IPV6]:PORT, from the grammar in values.h: split at the port's ':' first. */
static int ref_address(const char *t, size_t len, size_t *hoff, size_t *hlen, uint16_t *port)
{
    size_t colon, h = 0, n;
    if (len && t[0] == '[') {
        const char *close = memchr(t, ']', len);
        if (!close || (size_t)(close - t) + 1 >= len || close[1] != ':')
            return -EINVAL;
        h = 1;
        n = (size_t)(close - t) - 1;
        colon = (size_t)(close - t) + 1;
    } else {
        const char *c = memchr(t, ':', len);
        if (!c || memchr(c + 1, ':', len - (size_t)(c - t) - 1))
            return -EINVAL;
        colon = (size_t)(c - t);
        n = colon;
    }
    for (size_t i = h; i < h + n; i++)
        if (t[i] == '[' || t[i] == ']')
            return -EINVAL;
    if (n == 0)
        return -EINVAL;
    int rc = ref_port(t + colon + 1, len - colon - 1, port);
    if (!rc) {
        *hoff = h;
        *hlen = n;
    }
    return rc;
}

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

/* Each parser against its reference: same code, same value, *out untouched on a refusal. */
static void check_parsers(const char *t, size_t len)
{
    uint64_t a = SENTINEL, b = SENTINEL;
    int rc = values_parse_uint(t, len, &a);
    FUZZ_CHECK(rc == ref_uint(t, len, &b) && a == b);
    a = b = SENTINEL;
    rc = values_parse_size(t, len, &a);
    FUZZ_CHECK(rc == ref_size(t, len, &b) && a == b);
    a = b = SENTINEL;
    rc = values_parse_duration(t, len, &a);
    FUZZ_CHECK(rc == ref_duration(t, len, &b) && a == b);
    int x = 7, y = 7;
    rc = values_parse_bool(t, len, &x);
    FUZZ_CHECK(rc == ref_bool(t, len, &y) && x == y);
    uint16_t p = 7, q = 7;
    rc = values_parse_port(t, len, &p);
    FUZZ_CHECK(rc == ref_port(t, len, &q) && p == q);
    const char *host = NULL, *why = NULL;
    size_t hlen = 0, hoff = 0, rlen = 0;
    p = q = 7;
    rc = values_parse_address(t, len, &host, &hlen, &p, &why);
    FUZZ_CHECK(rc == ref_address(t, len, &hoff, &rlen, &q) && p == q);
    FUZZ_CHECK(rc ? why != NULL : host == t + hoff && hlen == rlen);
}

struct dest {
    unsigned count;
    size_t size;
    double seconds;
    uint16_t port;
};

static const struct opt entries[] = {
    {.name = "count",
     .type = OPT_UINT,
     .min = 3,
     .max = 1000,
     .offset = offsetof(struct dest, count)},
    {.name = "size", .type = OPT_SIZE, .min = 1024, .offset = offsetof(struct dest, size)},
    {.name = "seconds",
     .type = OPT_SECONDS,
     .min = 1000000,
     .max = 60000000000ull,
     .offset = offsetof(struct dest, seconds)},
    {.name = "port", .type = OPT_PORT, .min = 1, .offset = offsetof(struct dest, port)},
};

/* The option layer over the same parsers: the value is stored exactly when it parses and is
 * within the entry's limits; otherwise the parser's code, or -ERANGE outside the limits. */
static void check_entries(const char *value, size_t len)
{
    struct opt_table t = OPT_TABLE(entries);
    uint64_t want[4];
    int ref[4];
    ref[0] = ref_uint(value, len, &want[0]);
    ref[1] = ref_size(value, len, &want[1]);
    ref[2] = ref_duration(value, len, &want[2]);
    uint16_t port = 0;
    ref[3] = ref_port(value, len, &port);
    want[3] = port;
    for (size_t i = 0; i < t.n; i++) {
        const struct opt *o = &entries[i];
        uint64_t max = o->max ? o->max : o->type == OPT_PORT ? 65535 : UINT64_MAX;
        if (!ref[i] && (want[i] < o->min || want[i] > max))
            ref[i] = -ERANGE;
        struct dest d = {0};
        char err[256] = "";
        int rc = opt_apply(&t, o, &d, value, OPT_SRC_CLI, NULL, err, sizeof err);
        FUZZ_CHECK(rc == ref[i]);
        if (rc) {
            FUZZ_CHECK(strncmp(err, "--", 2) == 0 && strstr(err, o->name) &&
                       strstr(err, "expected"));
            continue;
        }
        if (o->type == OPT_UINT)
            FUZZ_CHECK(d.count == want[i]);
        else if (o->type == OPT_SIZE)
            FUZZ_CHECK(d.size == want[i]);
        else if (o->type == OPT_SECONDS)
            FUZZ_CHECK(d.seconds == (double)want[i] / 1e9);
        else
            FUZZ_CHECK(d.port == want[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exact size: an over-read trips ASan */
    FUZZ_CHECK(text);
    memcpy(text, data, size);
    check_parsers(text, size);
    free(text);
    if (size < 64 && !memchr(data, '\0', size)) { /* the option layer takes C strings */
        char value[64];
        memcpy(value, data, size);
        value[size] = '\0';
        check_entries(value, size);
    }
    return 0;
}

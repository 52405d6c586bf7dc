/* values - one grammar for sizes, durations, counts, bools, ports and addresses; see values.h. */
#include "values.h"

#include <errno.h>
#include <string.h>

#define NS_PER_S 1000000000ull

/* Leading decimal digits of text into *v, saturating (*over set) instead of wrapping;
 * returns how many digits there were. */
static size_t digits(const char *text, size_t len, uint64_t *v, int *over)
{
    size_t i = 0;
    *v = 0;
    *over = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(text[i] - '0');
        if (*over || *v > (UINT64_MAX - d) / 10)
            *over = 1, *v = UINT64_MAX;
        else
            *v = *v * 10 + d;
    }
    return i;
}

int values_parse_uint(const char *text, size_t len, uint64_t *out)
{
    uint64_t v;
    int over;
    size_t n = digits(text, len, &v, &over);
    if (n == 0 || n != len)
        return -EINVAL;
    if (over)
        return -ERANGE;
    *out = v;
    return 0;
}

static unsigned unit_shift(char c)
{
    switch (c | 0x20) {
    case 'k':
        return 10;
    case 'm':
        return 20;
    case 'g':
        return 30;
    case 't':
        return 40;
    default:
        return 0;
    }
}

int values_parse_size(const char *text, size_t len, uint64_t *out)
{
    size_t n = 0;
    while (n < len && text[n] >= '0' && text[n] <= '9')
        n++;
    if (n == 0)
        return -EINVAL;
    size_t i = n;
    unsigned shift = i < len ? unit_shift(text[i]) : 0;
    if (shift) {
        i++;
        if (i < len && text[i] == 'i')
            i++;
        if (i < len && (text[i] == 'b' || text[i] == 'B'))
            i++;
    }
    if (i != len)
        return -EINVAL;
    uint64_t v;
    int over;
    digits(text, n, &v, &over);
    if (over || v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}

/* "123.456" at the start of text -> whole part (saturated) and the fraction in units of
 * 1e-9; returns the length consumed, 0 when there is no number ("", ".5", "1."). */
static size_t decimal(const char *text, size_t len, uint64_t *whole, uint64_t *nano)
{
    int over;
    size_t i = digits(text, len, whole, &over);
    *nano = 0;
    if (i == 0)
        return 0;
    if (i < len && text[i] == '.') {
        size_t start = ++i;
        uint64_t scale = NS_PER_S / 10;
        for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, scale /= 10)
            *nano += (uint64_t)(text[i] - '0') * scale;
        if (i == start)
            return 0;
    }
    return i;
}

int values_parse_duration(const char *text, size_t len, uint64_t *ns)
{
    uint64_t whole, nano;
    size_t n = decimal(text, len, &whole, &nano);
    if (n == 0)
        return -EINVAL;
    const char *unit = text + n;
    size_t ulen = len - n;
    uint64_t per = NS_PER_S; /* ns per unit */
    if (ulen == 2 && memcmp(unit, "ms", 2) == 0)
        per = 1000000;
    else if (!(ulen == 0 || (ulen == 1 && unit[0] == 's')))
        return -EINVAL;
    if (whole > VALUES_MAX_SECONDS * (NS_PER_S / per))
        return -ERANGE;
    uint64_t v = whole * per + nano / (NS_PER_S / per);
    if (v > VALUES_MAX_SECONDS * NS_PER_S)
        return -ERANGE;
    *ns = v;
    return 0;
}

int values_parse_bool(const char *text, size_t len, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strlen(yes[i]) == len && memcmp(text, yes[i], len) == 0)
            return *out = 1, 0;
        if (strlen(no[i]) == len && memcmp(text, no[i], len) == 0)
            return *out = 0, 0;
    }
    return -EINVAL;
}

int values_parse_port(const char *text, size_t len, uint16_t *out)
{
    uint64_t v;
    int rc = values_parse_uint(text, len, &v);
    if (rc)
        return rc;
    if (v > 65535)
        return -ERANGE;
    *out = (uint16_t)v;
    return 0;
}

static int bad(const char **why, const char *reason, int rc)
{
    if (why)
        *why = reason;
    return rc;
}

int values_parse_address(const char *text, size_t len, const char **host, size_t *hostlen,
                         uint16_t *port, const char **why)
{
    const char *end = text + len, *h = text, *h_end, *colon;
    if (len && *text == '[') {
        h = text + 1;
        h_end = memchr(h, ']', (size_t)(end - h));
        if (!h_end || h_end + 1 == end || h_end[1] != ':')
            return bad(why, "expected [IPV6]:PORT", -EINVAL);
        colon = h_end + 1;
    } else {
        colon = memchr(text, ':', len);
        if (!colon)
            return bad(why, "missing :PORT", -EINVAL);
        h_end = colon;
        if (memchr(colon + 1, ':', (size_t)(end - colon - 1)))
            return bad(why, "write IPv6 hosts as [ADDR]:PORT", -EINVAL);
    }
    size_t hlen = (size_t)(h_end - h);
    if (hlen == 0)
        return bad(why, "empty host", -EINVAL);
    if (memchr(h, '[', hlen) || memchr(h, ']', hlen))
        return bad(why, "'[' or ']' in the host", -EINVAL);
    uint16_t p;
    int rc = values_parse_port(colon + 1, (size_t)(end - colon - 1), &p);
    if (rc)
        return bad(why, "bad port", rc);
    *host = h;
    *hostlen = hlen;
    *port = p;
    return 0;
}

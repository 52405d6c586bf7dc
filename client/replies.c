/* replies - reply framing for line, RESP and memcached text protocols. */
#include "replies.h"

#include <stdlib.h>
#include <string.h>

void replies_init(struct replies *r, enum replies_protocol proto)
{
    memset(r, 0, sizeof *r);
    r->proto = (uint8_t)proto;
}

static int64_t number(const char *s, size_t n)
{
    int neg = n && s[0] == '-';
    int64_t v = 0;
    size_t i = neg;
    if (i == n)
        return -2;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -2;
        v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
}

/* One RESP element ends (a simple line, a bulk, or an empty array): closes what it ends. */
static int resp_element_done(struct replies *r)
{
    while (r->depth) {
        if (--r->left[r->depth - 1] > 0)
            return 0;
        r->depth--;
    }
    return 1;
}

/* A complete RESP line (without CRLF). Returns 1 when the reply is complete. */
static int resp_line(struct replies *r, const char *s, size_t n)
{
    char type = n ? s[0] : '+';
    int64_t v = n > 1 ? number(s + 1, n - 1) : -2;
    if (type == '$' && v >= 0) {
        r->skip = (uint64_t)v + 2;
        return 0;
    }
    if (type == '$' && v == -1 && r->depth == 0)
        r->miss = 1;
    if (type == '*' && v > 0 && r->depth < REPLIES_DEPTH) {
        r->left[r->depth++] = v;
        return 0;
    }
    return resp_element_done(r);
}

/* A complete memcache line. Returns 1 when the reply is complete. */
static int memcache_line(struct replies *r, const char *s, size_t n)
{
    if (n > 6 && memcmp(s, "VALUE ", 6) == 0) {
        /* VALUE <key> <flags> <bytes> [<cas>]: the 4th word is the data length */
        const char *p = s, *end = s + n;
        for (int word = 0; word < 3 && p < end; word++) {
            p = memchr(p, ' ', (size_t)(end - p));
            p = p ? p + 1 : end;
        }
        const char *q = p < end ? memchr(p, ' ', (size_t)(end - p)) : NULL;
        int64_t len = p < end ? number(p, (size_t)((q ? q : end) - p)) : -2;
        if (len >= 0) {
            r->had_value = 1;
            r->skip = (uint64_t)len + 2;
            return 0;
        }
        return 1;
    }
    if (n > 5 && memcmp(s, "STAT ", 5) == 0)
        return 0;
    if (n == 3 && memcmp(s, "END", 3) == 0)
        r->miss = !r->had_value;
    return 1;
}

static int line_done(struct replies *r)
{
    size_t n = r->linelen;
    if (n && r->line[n - 1] == '\r')
        n--;
    r->linelen = 0;
    if (r->proto == REPLIES_RESP)
        return resp_line(r, r->line, n);
    return memcache_line(r, r->line, n);
}

size_t replies_feed(struct replies *r, const char *data, size_t n, int *done, int *miss)
{
    size_t i = 0;
    *done = 0;
    while (i < n) {
        if (r->skip) {
            size_t take = n - i < r->skip ? n - i : (size_t)r->skip;
            i += take;
            r->skip -= take;
            if (r->skip == 0 && r->proto == REPLIES_RESP && resp_element_done(r))
                *done = 1;
            if (*done)
                break;
            continue;
        }
        const char *nl = memchr(data + i, '\n', n - i);
        size_t take = nl ? (size_t)(nl - (data + i)) : n - i;
        size_t room = REPLIES_LINE_MAX - r->linelen;
        memcpy(r->line + r->linelen, data + i, take < room ? take : room);
        r->linelen += take < room ? take : room;
        i += take;
        if (!nl)
            break;
        i++;
        if (r->proto == REPLIES_LINE || line_done(r)) {
            r->linelen = 0;
            *done = 1;
            break;
        }
    }
    if (*done) {
        *miss = r->miss;
        r->miss = r->had_value = 0;
        r->depth = 0;
    }
    return i;
}

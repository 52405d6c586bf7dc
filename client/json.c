/* json - recursive-descent JSON reader with a depth bound and line-numbered errors. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    int failed;
};

static void fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = EINVAL;
    unsigned line = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
        line += *q == '\n';
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "line %u: %s%s", line,
             ps->p >= ps->end ? "truncated (the text ends early): " : "", what);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static struct json *node(struct parser *ps, enum json_type t)
{
    struct json *j = calloc(1, sizeof *j);
    if (!j && !ps->failed)
        ps->failed = ENOMEM;
    if (j)
        j->type = t;
    return j;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* An escape after the backslash at ps->p; writes its bytes to o. Returns their count or 0. */
static size_t escape(struct parser *ps, char *o)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (ps->p >= ps->end) {
        fail(ps, "unterminated string");
        return 0;
    }
    const char *e = strchr(from, *ps->p);
    if (e && *ps->p) {
        ps->p++;
        *o = to[e - from];
        return 1;
    }
    unsigned cp, lo;
    if (*ps->p != 'u' || ps->end - ps->p < 5 || hex4(ps->p + 1, &cp)) {
        fail(ps, "bad escape in a string");
        return 0;
    }
    ps->p += 5;
    if (cp >= 0xd800 && cp < 0xdc00) {
        if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
            lo < 0xdc00 || lo >= 0xe000) {
            fail(ps, "unpaired surrogate in a string");
            return 0;
        }
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp < 0xe000) {
        fail(ps, "unpaired surrogate in a string");
        return 0;
    }
    return put_utf8(o, cp);
}

/* A string at ps->p (after its opening quote): malloc'd copy, length in *len. */
static char *string(struct parser *ps, size_t *len)
{
    const char *q = ps->p;
    size_t raw = 0;
    while (q < ps->end && *q != '"') {
        q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
        raw++;
    }
    /* every escape yields at most 4 bytes from at least 2 (6 for 4 bytes of UTF-8) */
    char *out = malloc((size_t)(q - ps->p) + 1);
    if (!out) {
        ps->failed = ENOMEM;
        return NULL;
    }
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"' && !ps->failed) {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20)
            fail(ps, "control character in a string");
        else if (c == '\\')
            n += escape(ps, out + n);
        else
            out[n++] = (char)c;
    }
    if (!ps->failed && ps->p >= ps->end)
        fail(ps, "unterminated string");
    if (ps->failed) {
        free(out);
        return NULL;
    }
    ps->p++;
    out[n] = '\0';
    *len = n;
    (void)raw;
    return out;
}

static struct json *value(struct parser *ps, int depth);

static struct json *number(struct parser *ps)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        fail(ps, "unexpected character '%c'", s < ps->end ? *s : '?');
        return NULL;
    }
    if (*ps->p == '0')
        ps->p++;
    else
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            fail(ps, "a digit must follow the decimal point");
            return NULL;
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            fail(ps, "a digit must follow the exponent");
            return NULL;
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    char buf[64];
    size_t n = (size_t)(ps->p - s);
    if (n >= sizeof buf) {
        fail(ps, "number too long");
        return NULL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct json *j = node(ps, JSON_NUMBER);
    if (j)
        j->number = strtod(buf, NULL);
    return j;
}

static int literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

/* Members of an array or object after its opening bracket. */
static struct json *container(struct parser *ps, int depth, int object)
{
    struct json *j = node(ps, object ? JSON_OBJECT : JSON_ARRAY), **tail = j ? &j->child : NULL;
    char close = object ? '}' : ']';
    skip_ws(ps);
    if (j && ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return j;
    }
    while (j && !ps->failed) {
        char *key = NULL;
        size_t klen;
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a quoted object key");
                break;
            }
            ps->p++;
            if (!(key = string(ps, &klen)))
                break;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                fail(ps, "expected ':' after an object key");
                break;
            }
            ps->p++;
        }
        struct json *m = value(ps, depth + 1);
        if (!m) {
            free(key);
            break;
        }
        m->key = key;
        *tail = m;
        tail = &m->next;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return j;
        }
        fail(ps, "expected ',' or '%c'", close);
    }
    json_free(j);
    return NULL;
}

static struct json *value(struct parser *ps, int depth)
{
    skip_ws(ps);
    if (depth > JSON_MAX_DEPTH) {
        fail(ps, "nested deeper than %d", JSON_MAX_DEPTH);
        return NULL;
    }
    if (ps->p >= ps->end) {
        fail(ps, "expected a value");
        return NULL;
    }
    char c = *ps->p;
    if (c == '{' || c == '[') {
        ps->p++;
        return container(ps, depth, c == '{');
    }
    if (c == '"') {
        ps->p++;
        size_t len;
        char *s = string(ps, &len);
        struct json *j = s ? node(ps, JSON_STRING) : NULL;
        if (!j) {
            free(s);
            return NULL;
        }
        j->string = s;
        j->len = len;
        return j;
    }
    if (literal(ps, "true"))
        return node(ps, JSON_TRUE);
    if (literal(ps, "false"))
        return node(ps, JSON_FALSE);
    if (literal(ps, "null"))
        return node(ps, JSON_NULL);
    return number(ps);
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct parser ps = {.p = text, .end = text + len, .start = text, .err = err, .errlen = errlen};
    struct json *j = value(&ps, 0);
    if (j) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            fail(&ps, "text after the end of the JSON value");
    }
    if (ps.failed) {
        json_free(j);
        if (ps.failed == ENOMEM)
            snprintf(err, errlen, "out of memory");
        errno = ps.failed;
        return NULL;
    }
    return j;
}

void json_free(struct json *j)
{
    while (j) {
        struct json *next = j->next;
        json_free(j->child);
        free(j->string);
        free(j->key);
        free(j);
        j = next;
    }
}

const struct json *json_get(const struct json *j, const char *key)
{
    if (!j || j->type != JSON_OBJECT)
        return NULL;
    for (const struct json *m = j->child; m; m = m->next)
        if (strcmp(m->key, key) == 0)
            return m;
    return NULL;
}

int json_double(const struct json *j, double *out)
{
    if (!j || j->type != JSON_NUMBER || !isfinite(j->number))
        return -1;
    *out = j->number;
    return 0;
}

int json_u64(const struct json *j, uint64_t *out)
{
    double v;
    if (json_double(j, &v) || v < 0 || v >= 18446744073709551616.0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* fuzz_admin_proto - server/admin_proto.c, the admin listener's request parser. The input is
 * what a client sent; requests are parsed and consumed one after another as the server does.
 * Oracles: each result is consistent with an independent reading of the bytes (where the
 * first line ends, whether it is an HTTP request line, where its head ends); every field
 * points inside the request it describes; and a request is decided by its own bytes only:
 * every prefix of the buffer gives ADMIN_MORE or exactly the same result. The input is
 * copied to a buffer of its exact size, so an over-read trips ASan. */
#include "admin_proto.h"
#include "fuzz.h"

#include <string.h>

static const char *find_nl(const char *p, size_t n)
{
    return memchr(p, '\n', n);
}

/* Reference: the last word of the first line (CR dropped) starts with "HTTP/". */
static int ref_is_http(const char *line, size_t n)
{
    if (n && line[n - 1] == '\r')
        n--;
    size_t i = n;
    while (i > 0 && line[i - 1] != ' ')
        i--;
    return i > 0 && n - i >= 5 && memcmp(line + i, "HTTP/", 5) == 0;
}

static int inside(const char *p, size_t n, const char *lo, const char *hi)
{
    return p >= lo && p + n <= hi;
}

static void check_one(const char *buf, size_t len, const struct admin_request *r)
{
    const char *nl = find_nl(buf, len < ADMIN_LINE_MAX ? len : ADMIN_LINE_MAX);
    switch (r->kind) {
    case ADMIN_MORE:
        FUZZ_CHECK(r->used == 0 && len < ADMIN_HEAD_MAX);
        FUZZ_CHECK(!nl || ref_is_http(buf, (size_t)(nl - buf)));
        break;
    case ADMIN_LINE_TOO_LONG:
        FUZZ_CHECK(!nl && len >= ADMIN_LINE_MAX);
        break;
    case ADMIN_LINE:
        FUZZ_CHECK(nl && r->used == (size_t)(nl - buf) + 1);
        FUZZ_CHECK(!ref_is_http(buf, (size_t)(nl - buf)));
        FUZZ_CHECK(inside(r->word, r->word_len, buf, nl));
        if (r->word_len) {
            FUZZ_CHECK(r->word[0] != ' ' && r->word[0] != '\t' && r->word[0] != '\r');
            char last = r->word[r->word_len - 1];
            FUZZ_CHECK(last != ' ' && last != '\t' && last != '\r');
        }
        break;
    case ADMIN_HEAD_TOO_LONG:
        FUZZ_CHECK(nl && ref_is_http(buf, (size_t)(nl - buf)) && len >= ADMIN_HEAD_MAX);
        break;
    case ADMIN_HTTP:
        FUZZ_CHECK(r->method_len > 0 && inside(r->method, r->method_len, buf, nl));
        for (size_t i = 0; i < r->method_len; i++)
            FUZZ_CHECK(r->method[i] >= 'A' && r->method[i] <= 'Z');
        FUZZ_CHECK(r->path_len > 0 && r->path[0] == '/' && inside(r->path, r->path_len, buf, nl));
        FUZZ_CHECK(!memchr(r->path, '?', r->path_len) && !memchr(r->path, ' ', r->path_len));
        FUZZ_CHECK(r->http_minor == 0 || r->http_minor == 1);
        /* fall through */
    case ADMIN_BAD_HTTP:
    case ADMIN_BAD_VERSION:
        FUZZ_CHECK(nl && ref_is_http(buf, (size_t)(nl - buf)));
        FUZZ_CHECK(r->used > (size_t)(nl - buf) && r->used <= len && r->used <= ADMIN_HEAD_MAX);
        FUZZ_CHECK(buf[r->used - 1] == '\n');
        /* the head ends at the first empty line after the request line */
        {
            const char *end = buf + r->used - 1; /* its '\n' */
            const char *prev = end - 1;
            FUZZ_CHECK(*prev == '\n' || (*prev == '\r' && prev > nl && prev[-1] == '\n'));
        }
        break;
    }
}

static void same(const struct admin_request *a, const struct admin_request *b)
{
    FUZZ_CHECK(a->kind == b->kind && a->used == b->used && a->word == b->word &&
               a->word_len == b->word_len && a->method == b->method &&
               a->method_len == b->method_len && a->path == b->path && a->path_len == b->path_len &&
               a->http_minor == b->http_minor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    const char *buf = copy;
    size_t len = size;
    for (int guard = 0; guard < 10000; guard++) {
        /* the server's buffer holds at most ADMIN_HEAD_MAX bytes */
        size_t have = len < ADMIN_HEAD_MAX ? len : ADMIN_HEAD_MAX;
        struct admin_request r;
        FUZZ_CHECK(admin_parse(buf, have, &r) == r.kind);
        check_one(buf, have, &r);
        /* decided by its own bytes: shorter buffers say MORE, or the same thing */
        size_t step = have > 512 ? have / 97 + 1 : 1;
        for (size_t k = 0; k < have; k += step) {
            struct admin_request p;
            admin_parse(buf, k, &p);
            if (p.kind != ADMIN_MORE && p.kind != ADMIN_LINE_TOO_LONG &&
                p.kind != ADMIN_HEAD_TOO_LONG)
                same(&p, &r);
            else if (p.kind == ADMIN_MORE)
                FUZZ_CHECK(p.used == 0);
        }
        if (r.kind == ADMIN_MORE || r.kind == ADMIN_LINE_TOO_LONG ||
            r.kind == ADMIN_HEAD_TOO_LONG || r.kind != ADMIN_LINE)
            break; /* the server answers and closes after anything but a line command */
        buf += r.used;
        len -= r.used;
    }
    free(copy);
    return 0;
}

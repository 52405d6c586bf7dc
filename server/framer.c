/* framer - newline framing with a carry-over buffer that exists only while a line is split
 * across pushes, so an idle stream costs no memory. */
#include "framer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A carry buffer larger than this is freed once its line completes: a connection that sent
 * one huge line must not keep the memory while it idles. */
#define KEEP_CAP 4096

static int carry(struct framer *f, const char *data, size_t n)
{
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 256;
        while (cap < f->len + n)
            cap *= 2;
        char *p = realloc(f->partial, cap);
        if (!p)
            return -ENOMEM;
        f->partial = p;
        f->cap = cap;
    }
    memcpy(f->partial + f->len, data, n);
    f->len += n;
    return 0;
}

static void release_carry(struct framer *f)
{
    f->len = 0;
    if (f->cap > KEEP_CAP) {
        free(f->partial);
        f->partial = NULL;
        f->cap = 0;
    }
}

/* Completes the carried line with the first `head` bytes of the new data. */
static int complete_carry(struct framer *f, const char *data, size_t head, size_t max_line,
                          framer_fn fn, void *ctx)
{
    if (f->len + head > max_line)
        return -EMSGSIZE;
    int rc = carry(f, data, head);
    if (rc)
        return rc;
    rc = fn(ctx, f->partial, f->len);
    release_carry(f);
    return rc;
}

int framer_push(struct framer *f, const char *data, size_t n, size_t max_line, framer_fn fn,
                void *ctx)
{
    const char *p = data, *end = data + n;
    const char *nl = memchr(p, '\n', n);

    if (f->len > 0) {
        if (!nl) {
            if (f->len + n > max_line)
                return -EMSGSIZE;
            return carry(f, p, n);
        }
        int rc = complete_carry(f, p, (size_t)(nl - p), max_line, fn, ctx);
        if (rc)
            return rc;
        p = nl + 1;
        nl = memchr(p, '\n', (size_t)(end - p));
    }
    while (nl) {
        size_t len = (size_t)(nl - p);
        if (len > max_line)
            return -EMSGSIZE;
        int rc = fn(ctx, p, len);
        if (rc)
            return rc;
        p = nl + 1;
        nl = memchr(p, '\n', (size_t)(end - p));
    }
    if (p < end) {
        if ((size_t)(end - p) > max_line)
            return -EMSGSIZE;
        return carry(f, p, (size_t)(end - p));
    }
    return 0;
}

int framer_finish(struct framer *f, framer_fn fn, void *ctx)
{
    int rc = 0;
    if (f->len > 0)
        rc = fn(ctx, f->partial, f->len);
    framer_reset(f);
    return rc;
}

void framer_reset(struct framer *f)
{
    free(f->partial);
    f->partial = NULL;
    f->len = 0;
    f->cap = 0;
}

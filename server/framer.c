/* framer - newline framing with a carry-over buffer that exists only while a line is split
 * across pushes, so an idle stream costs no memory. */
#include "framer.h"

#include <errno.h>
#include <string.h>

/* A carry buffer larger than this is freed once its line completes: a connection that sent
 * one huge line must not keep the memory while it idles. */
#define KEEP_CAP 4096

static int carry(struct framer *f, const char *data, size_t n)
{
    return bytebuf_append(&f->carry, data, n, 256);
}

/* Completes the carried line with the first `head` bytes of the new data. */
static int complete_carry(struct framer *f, const char *data, size_t head, size_t max_line,
                          framer_fn fn, void *ctx)
{
    size_t len = bytebuf_pending(f->carry);
    if (len + head > max_line)
        return -EMSGSIZE;
    int rc = carry(f, data, head);
    if (rc)
        return rc;
    rc = fn(ctx, bytebuf_data(f->carry), len + head);
    bytebuf_consume(&f->carry, len + head, KEEP_CAP);
    return rc;
}

int framer_push(struct framer *f, const char *data, size_t n, size_t max_line, framer_fn fn,
                void *ctx)
{
    const char *p = data, *end = data + n;
    const char *nl = memchr(p, '\n', n);

    size_t pending = bytebuf_pending(f->carry);
    if (pending > 0) {
        if (!nl) {
            if (pending + n > max_line)
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
    size_t pending = bytebuf_pending(f->carry);
    if (pending > 0)
        rc = fn(ctx, bytebuf_data(f->carry), pending);
    framer_reset(f);
    return rc;
}

void framer_reset(struct framer *f)
{
    bytebuf_free(&f->carry);
}

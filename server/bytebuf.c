/* bytebuf - see bytebuf.h. */
#include "bytebuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int bytebuf_append(struct bytebuf **b, const void *data, size_t n, size_t first_cap)
{
    struct bytebuf *buf = *b;
    size_t len = buf ? buf->len : 0, cap = buf ? buf->cap : 0;
    if (n > SIZE_MAX / 4 - len) /* so the doubling below cannot overflow */
        return -ENOMEM;
    if (len + n > cap) {
        size_t want = cap ? cap : first_cap ? first_cap : 64;
        while (want < len + n)
            want *= 2;
        struct bytebuf *grown = realloc(buf, sizeof *grown + want);
        if (!grown)
            return -ENOMEM;
        if (!buf)
            grown->off = grown->len = 0;
        grown->cap = want;
        *b = buf = grown;
    }
    memcpy(buf->bytes + buf->len, data, n);
    buf->len += n;
    return 0;
}

void bytebuf_consume(struct bytebuf **b, size_t n, size_t keep_cap)
{
    struct bytebuf *buf = *b;
    if (!buf)
        return;
    buf->off += n;
    if (buf->off < buf->len)
        return;
    buf->off = buf->len = 0;
    if (buf->cap > keep_cap)
        bytebuf_free(b);
}

void bytebuf_free(struct bytebuf **b)
{
    free(*b);
    *b = NULL;
}

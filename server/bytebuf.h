/* bytebuf - a growable byte buffer behind one pointer: NULL while it holds nothing, so a
 * connection pays 8 bytes for each buffer it is not using (its carried-over partial line,
 * its queued replies) instead of a pointer and three sizes. Pure: no sockets, no threads.
 * Owned by one thread at a time. */
#ifndef LINEPOOL_BYTEBUF_H
#define LINEPOOL_BYTEBUF_H

#include <stddef.h>

/* The pending bytes are bytes[off, len); cap is the room after the header. */
struct bytebuf {
    size_t off, len, cap;
    char bytes[];
};

/* Appends n bytes (n > 0), making the buffer with room for at least first_cap bytes when
 * *b is NULL and doubling it when full. Returns 0 or -ENOMEM (then *b is unchanged). */
int bytebuf_append(struct bytebuf **b, const void *data, size_t n, size_t first_cap);

/* Bytes pending: 0 for NULL. */
static inline size_t bytebuf_pending(const struct bytebuf *b)
{
    return b ? b->len - b->off : 0;
}

/* The first pending byte; only when bytebuf_pending(b) > 0. */
static inline const char *bytebuf_data(const struct bytebuf *b)
{
    return b->bytes + b->off;
}

/* Drops the first n pending bytes (n <= pending). Once nothing is pending, the buffer is
 * freed (*b = NULL) when its room is above keep_cap, and kept empty for reuse otherwise:
 * a connection that once queued a huge reply does not keep the memory while it idles. */
void bytebuf_consume(struct bytebuf **b, size_t n, size_t keep_cap);

/* Frees the buffer; *b = NULL. No-op for NULL. */
void bytebuf_free(struct bytebuf **b);

#endif

/* textbuf - a growing byte buffer for building replies (metrics, stats, HTTP heads). One
 * owner thread; no locking. A failed allocation sets `failed` and later appends do nothing,
 * so a writer checks once at the end. */
#ifndef LINEPOOL_TEXTBUF_H
#define LINEPOOL_TEXTBUF_H

#include <stddef.h>

struct textbuf {
    char *data;
    size_t len, cap;
    int failed; /* an append ran out of memory: the contents are incomplete */
};

void textbuf_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void textbuf_put(struct textbuf *b, const void *bytes, size_t len);
/* Drops the first n bytes (n <= len). */
void textbuf_consume(struct textbuf *b, size_t n);
void textbuf_free(struct textbuf *b);

#endif

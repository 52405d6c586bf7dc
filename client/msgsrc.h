/* msgsrc - the outgoing byte stream of send and stream: COUNT messages of SIZE bytes
 * ((SIZE-1) 'X' and '\n'), then a tail (e.g. "Y\n"), served from one fixed buffer so any total
 * takes bounded memory and one write can carry thousands of messages. Pure: no I/O. */
#ifndef LINEPOOL_CLIENT_MSGSRC_H
#define LINEPOOL_CLIENT_MSGSRC_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the pattern buffer: the most a single peek returns. */
#define MSGSRC_BUF (256u * 1024)

struct msgsrc {
    char *pattern;    /* owned: whole messages repeated, or 'X'... '\n' for big ones */
    size_t patlen;    /* small messages: a multiple of size */
    int big;          /* size > MSGSRC_BUF / 2: messages are assembled from X runs */
    uint64_t size;    /* bytes per message */
    uint64_t body;    /* count * size */
    uint64_t pos;     /* bytes consumed so far, body and tail */
    const char *tail; /* borrowed, sent after the body */
    size_t tail_len;
};

/* Prepares count messages of size bytes (size >= 1 when count > 0), then tail_len bytes of
 * tail (borrowed: must outlive s). Returns 0 or -ENOMEM. */
int msgsrc_init(struct msgsrc *s, uint64_t count, uint64_t size, const char *tail, size_t tail_len);

/* Points *p at the next bytes and returns how many (at most MSGSRC_BUF + 1), 0 at the end. */
size_t msgsrc_peek(const struct msgsrc *s, const char **p);

/* Marks n bytes (no more than the last peek returned) as sent. */
static inline void msgsrc_advance(struct msgsrc *s, size_t n)
{
    s->pos += n;
}

/* Total bytes of the stream. */
static inline uint64_t msgsrc_total(const struct msgsrc *s)
{
    return s->body + s->tail_len;
}

void msgsrc_free(struct msgsrc *s);

#endif

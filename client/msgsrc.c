/* msgsrc - COUNT messages of SIZE bytes and a tail, from one fixed buffer. */
#include "msgsrc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int msgsrc_init(struct msgsrc *s, uint64_t count, uint64_t size, const char *tail, size_t tail_len)
{
    memset(s, 0, sizeof *s);
    s->size = size;
    s->body = count * size;
    s->tail = tail;
    s->tail_len = tail_len;
    if (count == 0)
        return 0;
    s->big = size > MSGSRC_BUF / 2;
    /* small: as many whole messages as fit, so any offset into the buffer lines up with the
     * same offset into the stream modulo patlen. big: a run of X ending in '\n'. */
    s->patlen = s->big ? MSGSRC_BUF + 1 : (MSGSRC_BUF / size) * size;
    if (!(s->pattern = malloc(s->patlen)))
        return -ENOMEM;
    memset(s->pattern, 'X', s->patlen);
    if (s->big) {
        s->pattern[MSGSRC_BUF] = '\n';
    } else {
        for (size_t i = size - 1; i < s->patlen; i += size)
            s->pattern[i] = '\n';
    }
    return 0;
}

size_t msgsrc_peek(const struct msgsrc *s, const char **p)
{
    if (s->pos >= s->body) {
        uint64_t t = s->pos - s->body;
        *p = s->tail + t;
        return t < s->tail_len ? s->tail_len - (size_t)t : 0;
    }
    uint64_t left = s->body - s->pos;
    if (!s->big) {
        size_t off = (size_t)(s->pos % s->patlen);
        size_t n = s->patlen - off;
        *p = s->pattern + off;
        return left < n ? (size_t)left : n;
    }
    uint64_t xs = s->size - 1 - s->pos % s->size; /* X bytes left in this message */
    if (xs >= MSGSRC_BUF) {
        *p = s->pattern; /* only X: the '\n' comes in a later peek */
        return MSGSRC_BUF;
    }
    *p = s->pattern + MSGSRC_BUF - xs; /* the last xs X and the '\n' */
    return (size_t)xs + 1;
}

void msgsrc_free(struct msgsrc *s)
{
    free(s->pattern);
    s->pattern = NULL;
}

/* replies - where one reply ends, for bench: a line (any server of lines, the default),
 * RESP (Redis: +OK, $N bulk strings over two lines, $-1 for a miss, *N arrays) or
 * memcached's text protocol (VALUE ... data ... END, STAT ... END, one line otherwise). A
 * small state machine per connection fed with whatever each read brought, split anywhere;
 * it also tells hits from misses (a GET that found nothing). Pure: no I/O, no allocation.
 */
#ifndef LINEPOOL_CLIENT_REPLIES_H
#define LINEPOOL_CLIENT_REPLIES_H

#include <stddef.h>
#include <stdint.h>

enum replies_protocol { REPLIES_LINE = 0, REPLIES_RESP, REPLIES_MEMCACHE };

#define REPLIES_DEPTH    8  /* RESP arrays nested deeper count as one reply each level */
#define REPLIES_LINE_MAX 64 /* bytes of a line kept to read its header ($N, VALUE k f N) */

struct replies {
    uint8_t proto;
    uint8_t depth;               /* RESP: open arrays */
    uint8_t had_value;           /* memcache: a VALUE came in this reply: a hit */
    uint8_t miss;                /* the reply being read is a miss so far */
    uint64_t skip;               /* bytes of bulk data (and its CRLF) still to pass over */
    int64_t left[REPLIES_DEPTH]; /* RESP: elements still due in each open array */
    char line[REPLIES_LINE_MAX];
    size_t linelen;
};

void replies_init(struct replies *r, enum replies_protocol proto);

/* Consumes up to n bytes; stops right after the end of one complete reply. Returns the bytes
 * consumed; *done is 1 when a reply ended there (then *miss says whether it was a miss). A
 * malformed header counts as a one-line reply, never a crash or a hang. */
size_t replies_feed(struct replies *r, const char *data, size_t n, int *done, int *miss);

#endif

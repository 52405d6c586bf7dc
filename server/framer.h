/* framer - turns a TCP byte stream into newline-terminated messages.
 * Pure: no sockets, no threads, no logging. The server's; the client does not use it: it keeps
 * a bounded prefix of reply lines of any length (answer.c, send.c) and counts bench replies
 * in place (bench_loop.c, replies.c), where whole-line delivery would buffer a line without
 * bound or copy every reply. */
#ifndef LINEPOOL_FRAMER_H
#define LINEPOOL_FRAMER_H

#include "bytebuf.h"

#include <stddef.h>
#include <stdint.h>

/* Called once per message: the bytes before '\n', borrowed for the call. Return 0 to go on,
 * anything else to stop framing (framer_push then returns that value). */
typedef int (*framer_fn)(void *ctx, const char *msg, size_t len);

/* Per-stream state: only the bytes of an unterminated line carried from one push to the
 * next. Zero-initialise; one NULL pointer while no line is pending. Owned by one thread. */
struct framer {
    struct bytebuf *carry;
};

/* Feeds n bytes. Calls fn for every complete message, in order. A message longer than
 * max_line bytes (the '\n' not counted) is never delivered: the framer returns -EMSGSIZE as
 * soon as it is known, after delivering every message before it. Returns 0, -EMSGSIZE,
 * -ENOMEM, or fn's non-zero result (the bytes after that message are dropped). */
int framer_push(struct framer *f, const char *data, size_t n, size_t max_line, framer_fn fn,
                void *ctx);

/* End of stream: delivers the unterminated tail, if any, as a last message. Returns 0 or
 * fn's result. The framer is empty afterwards. */
int framer_finish(struct framer *f, framer_fn fn, void *ctx);

/* Bytes of the pending unterminated line. */
static inline size_t framer_pending(const struct framer *f)
{
    return bytebuf_pending(f->carry);
}

/* Drops any pending bytes and frees the buffer. */
void framer_reset(struct framer *f);

#endif

/* errbuf - fills a caller's `char *err, size_t errlen` with one formatted line and hands back
 * an error code, so a failing path is one statement: `return errbuf_set(err, errlen, -EINVAL,
 * "bad %s", what);`. Shared by the server, the client and their parsers (library lp_values). */
#ifndef LINEPOOL_ERRBUF_H
#define LINEPOOL_ERRBUF_H

#include <stddef.h>

/* Writes the message into err (truncated to errlen, always terminated when errlen > 0; control
 * characters, such as a newline in quoted input, become '?') and returns rc. Any thread. */
int errbuf_set(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

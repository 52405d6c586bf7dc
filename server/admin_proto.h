/* admin_proto - what an admin client sent: one line command, or an HTTP/1.x request head.
 * Pure: no I/O, no allocation, no threads; results point into the caller's buffer.
 *
 * A first line whose last word starts with "HTTP/" is an HTTP request line
 * ("METHOD SP TARGET SP HTTP/1.x", LF or CRLF); its head ends at the first empty line and
 * must fit in ADMIN_HEAD_MAX bytes. Any other line is a command (CR and surrounding blanks
 * dropped), at most ADMIN_LINE_MAX bytes. */
#ifndef LINEPOOL_ADMIN_PROTO_H
#define LINEPOOL_ADMIN_PROTO_H

#include <stddef.h>

#define ADMIN_LINE_MAX 1024 /* a command or an HTTP request line, '\n' included */
#define ADMIN_HEAD_MAX 8192 /* an HTTP request head: request line, headers, empty line */

enum admin_kind {
    ADMIN_MORE = 0,      /* incomplete: read more */
    ADMIN_LINE,          /* a command in word/word_len (may be empty) */
    ADMIN_HTTP,          /* a well-formed request head: method, path (query dropped), minor */
    ADMIN_BAD_HTTP,      /* an HTTP request line that is malformed: 400 */
    ADMIN_BAD_VERSION,   /* HTTP/ but not 1.0 or 1.1: 505 */
    ADMIN_LINE_TOO_LONG, /* no '\n' within ADMIN_LINE_MAX: close (414 when it looked HTTP) */
    ADMIN_HEAD_TOO_LONG, /* no empty line within ADMIN_HEAD_MAX: 431 */
};

struct admin_request {
    enum admin_kind kind;
    size_t used;      /* bytes of the buffer this request took (0 unless complete) */
    const char *word; /* ADMIN_LINE: the command */
    size_t word_len;
    const char *method; /* ADMIN_HTTP */
    size_t method_len;
    const char *path;
    size_t path_len;
    int http_minor; /* ADMIN_HTTP: 0 or 1 */
    int looks_http; /* ADMIN_LINE_TOO_LONG: the bytes began like "GET /..." */
};

/* Classifies the first request in buf[0, len). Always fills *out; returns out->kind. */
enum admin_kind admin_parse(const char *buf, size_t len, struct admin_request *out);

#endif

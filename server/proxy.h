/* proxy - parses the PROXY protocol header (v1 text, v2 binary) a load balancer sends first
 * on each connection. Pure, in the style of picohttpparser: no I/O, no allocation, no threads;
 * the caller buffers bytes and calls again with more while it gets PROXY_PARTIAL. */
#ifndef LINEPOOL_PROXY_H
#define LINEPOOL_PROXY_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#define PROXY_V1_MAX     107  /* the longest v1 line, CRLF included (spec 2.1) */
#define PROXY_V2_MAX_LEN 2048 /* the largest v2 length field accepted: address block + TLVs */
#define PROXY_HEADER_MAX (16 + PROXY_V2_MAX_LEN) /* a buffer this big holds any accepted header */

#define PROXY_PARTIAL (-2) /* a valid prefix: more bytes are needed */
#define PROXY_BAD     (-1) /* not a header, or a malformed one: why says what */

union proxy_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

struct proxy_header {
    int version; /* 1 or 2 */
    /* 1: keep the socket's own addresses (v2 LOCAL, v1 UNKNOWN, v2 UNSPEC or UNIX): src and
     * dst are then zeroed. 0: src is the client the proxy reports, dst the address it hit. */
    int local;
    union proxy_addr src, dst;
    const char *why; /* after PROXY_BAD: a static phrase, e.g. "v1 line without CRLF" */
};

/* Parses the header at the start of buf[0, len). Returns its length in bytes (> 0; data after
 * it is the stream's first bytes), PROXY_PARTIAL when every byte so far fits a header that is
 * not complete yet, or PROXY_BAD (out->why set). A header ends within PROXY_HEADER_MAX bytes,
 * so a caller that has that many and still gets PROXY_PARTIAL cannot: it never does. */
int proxy_parse(const char *buf, size_t len, struct proxy_header *out);

#endif

/* proxy - the PROXY protocol v1/v2 header parser (haproxy doc/proxy-protocol.txt). Every
 * check that can fail on a prefix fails there, so garbage is refused at its first wrong
 * byte instead of waiting for the timeout. */
#include "proxy.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

static const unsigned char v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum { V2_LOCAL = 0, V2_PROXY = 1 };
enum { FAM_UNSPEC = 0, FAM_INET = 1, FAM_INET6 = 2, FAM_UNIX = 3 };
enum { TRANSPORT_STREAM = 1 };

/* The address block's size for each family (spec 2.2). */
static const size_t v2_block[4] = {0, 12, 36, 216};

static int bad(struct proxy_header *out, const char *why)
{
    out->why = why;
    return PROXY_BAD;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* A decimal port with no leading zero. */
static int v1_port(const char *s, size_t n, uint16_t *port)
{
    if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = htons((uint16_t)v);
    return 0;
}

static int v1_addr(int family, const char *s, size_t n, union proxy_addr *a)
{
    char text[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof text)
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    if (family == AF_INET) {
        a->in4.sin_family = AF_INET;
        return inet_pton(AF_INET, text, &a->in4.sin_addr) == 1 ? 0 : -1;
    }
    a->in6.sin6_family = AF_INET6;
    return inet_pton(AF_INET6, text, &a->in6.sin6_addr) == 1 ? 0 : -1;
}

/* "SRC DST SPORT DPORT": exactly four fields, one space apart. */
static int v1_fields(int family, const char *s, size_t n, struct proxy_header *out)
{
    const char *f[4];
    size_t flen[4], k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ' ')
            continue;
        if (k == 4)
            return -1;
        f[k] = s + start;
        flen[k++] = i - start;
        start = i + 1;
    }
    if (k != 4 || v1_addr(family, f[0], flen[0], &out->src) ||
        v1_addr(family, f[1], flen[1], &out->dst))
        return -1;
    uint16_t sport, dport;
    if (v1_port(f[2], flen[2], &sport) || v1_port(f[3], flen[3], &dport))
        return -1;
    if (family == AF_INET) {
        out->src.in4.sin_port = sport;
        out->dst.in4.sin_port = dport;
    } else {
        out->src.in6.sin6_port = sport;
        out->dst.in6.sin6_port = dport;
    }
    return 0;
}

static int parse_v1(const char *buf, size_t len, struct proxy_header *out)
{
    out->version = 1;
    size_t scan = min_size(len, PROXY_V1_MAX);
    const char *lf = memchr(buf, '\n', scan);
    const char *cr = memchr(buf, '\r', scan);
    if (cr && cr + 1 < buf + len && cr[1] != '\n')
        return bad(out, "v1 line with a CR not followed by LF");
    if (!lf)
        return len >= PROXY_V1_MAX ? bad(out, "v1 line without CRLF in 107 bytes") : PROXY_PARTIAL;
    if (lf == buf || lf[-1] != '\r')
        return bad(out, "v1 line ended by a lone LF");
    const char *line = buf + 6; /* after "PROXY " */
    size_t n = (size_t)(lf - 1 - line);
    if (n >= 7 && memcmp(line, "UNKNOWN", 7) == 0 && (n == 7 || line[7] == ' ')) {
        out->local = 1; /* the rest of an UNKNOWN line is ignored (spec 2.1) */
        return (int)(lf - buf + 1);
    }
    int family = n > 5 && memcmp(line, "TCP4 ", 5) == 0   ? AF_INET
                 : n > 5 && memcmp(line, "TCP6 ", 5) == 0 ? AF_INET6
                                                          : 0;
    if (!family)
        return bad(out, "v1 protocol not TCP4, TCP6 or UNKNOWN");
    if (v1_fields(family, line + 5, n - 5, out))
        return bad(out, "v1 addresses or ports malformed");
    return (int)(lf - buf + 1);
}

static void v2_addresses(const unsigned char *b, int family, struct proxy_header *out)
{
    if (family == FAM_INET) {
        out->src.in4.sin_family = out->dst.in4.sin_family = AF_INET;
        memcpy(&out->src.in4.sin_addr, b, 4);
        memcpy(&out->dst.in4.sin_addr, b + 4, 4);
        memcpy(&out->src.in4.sin_port, b + 8, 2);
        memcpy(&out->dst.in4.sin_port, b + 10, 2);
    } else {
        out->src.in6.sin6_family = out->dst.in6.sin6_family = AF_INET6;
        memcpy(&out->src.in6.sin6_addr, b, 16);
        memcpy(&out->dst.in6.sin6_addr, b + 16, 16);
        memcpy(&out->src.in6.sin6_port, b + 32, 2);
        memcpy(&out->dst.in6.sin6_port, b + 34, 2);
    }
}

/* Type (1), length (2), value: each must end inside the header. Their content is skipped. */
static int v2_tlvs_fit(const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (n < 3)
            return -1;
        size_t vlen = (size_t)p[1] << 8 | p[2];
        if (vlen > n - 3)
            return -1;
        p += 3 + vlen;
        n -= 3 + vlen;
    }
    return 0;
}

static int parse_v2(const unsigned char *b, size_t len, struct proxy_header *out)
{
    out->version = 2;
    if (len > 12 && (b[12] >> 4 != 2 || (b[12] & 0xF) > V2_PROXY))
        return bad(out, "v2 version or command unknown");
    if (len > 13 && ((b[13] >> 4) > FAM_UNIX || (b[13] & 0xF) > 2))
        return bad(out, "v2 address family or transport unknown");
    if (len < 16)
        return PROXY_PARTIAL;
    size_t hlen = (size_t)b[14] << 8 | b[15];
    if (hlen > PROXY_V2_MAX_LEN)
        return bad(out, "v2 length over 2048 bytes");
    int cmd = b[12] & 0xF, family = b[13] >> 4, transport = b[13] & 0xF;
    size_t block = v2_block[family];
    if (cmd == V2_PROXY && hlen < block)
        return bad(out, "v2 length shorter than its address block");
    if (len < 16 + hlen)
        return PROXY_PARTIAL;
    if (cmd == V2_PROXY && v2_tlvs_fit(b + 16 + block, hlen - block))
        return bad(out, "v2 TLV runs past the header");
    /* LOCAL is the proxy's own connection (its health checks); UNSPEC, UNIX and datagram
     * claims say nothing usable about a TCP client: all keep the socket's addresses. */
    if (cmd == V2_PROXY && transport == TRANSPORT_STREAM &&
        (family == FAM_INET || family == FAM_INET6))
        v2_addresses(b + 16, family, out);
    else
        out->local = 1;
    return (int)(16 + hlen);
}

int proxy_parse(const char *buf, size_t len, struct proxy_header *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return PROXY_PARTIAL;
    /* Detection (spec 2.2): v2 by its signature, v1 by "PROXY "; anything else is refused at
     * its first byte that fits neither. */
    if ((unsigned char)buf[0] == v2_sig[0]) {
        if (memcmp(buf, v2_sig, min_size(len, sizeof v2_sig)))
            return bad(out, "not a PROXY header");
        return parse_v2((const unsigned char *)buf, len, out);
    }
    if (memcmp(buf, "PROXY ", min_size(len, 6)))
        return bad(out, "not a PROXY header");
    return len < 6 ? PROXY_PARTIAL : parse_v1(buf, len, out);
}

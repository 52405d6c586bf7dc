/* fuzz_proxy - an oracle for server/proxy.c on any bytes: prefixes agree with the whole (a
 * valid header is partial at every shorter prefix, a refusal stays a refusal, an accepted
 * length does not change with more bytes); an accepted header has its version's shape and,
 * printed back in canonical form, parses to the same addresses; a caller holding
 * PROXY_HEADER_MAX bytes never gets PROXY_PARTIAL. Input: the bytes a client sent first. */
#include "fuzz.h"
#include "proxy.h"

#include <arpa/inet.h>
#include <string.h>

#define PREFIXES 160 /* prefixes tried one by one; longer ones are sampled */

static int parse_copy(const uint8_t *data, size_t n, struct proxy_header *h)
{
    char *copy = malloc(n ? n : 1); /* exactly n bytes: an over-read trips ASan */
    FUZZ_CHECK(copy);
    memcpy(copy, data, n);
    int rc = proxy_parse(copy, n, h);
    free(copy);
    return rc;
}

static int same_addr(const union proxy_addr *a, const union proxy_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return 0;
    if (a->sa.sa_family == AF_INET)
        return a->in4.sin_port == b->in4.sin_port &&
               memcmp(&a->in4.sin_addr, &b->in4.sin_addr, 4) == 0;
    if (a->sa.sa_family == AF_INET6)
        return a->in6.sin6_port == b->in6.sin6_port &&
               memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
    return a->sa.sa_family == 0;
}

static int same_header(const struct proxy_header *a, const struct proxy_header *b)
{
    return a->local == b->local && same_addr(&a->src, &b->src) && same_addr(&a->dst, &b->dst);
}

/* The header printed back: v1 text or a v2 INET/INET6 block, no TLVs. */
static size_t canonical(const struct proxy_header *h, char *out, size_t cap)
{
    int v6 = h->src.sa.sa_family == AF_INET6;
    if (h->version == 1) {
        char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
        const void *sa = v6 ? (const void *)&h->src.in6.sin6_addr : &h->src.in4.sin_addr;
        const void *da = v6 ? (const void *)&h->dst.in6.sin6_addr : &h->dst.in4.sin_addr;
        inet_ntop(v6 ? AF_INET6 : AF_INET, sa, s, sizeof s);
        inet_ntop(v6 ? AF_INET6 : AF_INET, da, d, sizeof d);
        unsigned sp = ntohs(v6 ? h->src.in6.sin6_port : h->src.in4.sin_port);
        unsigned dp = ntohs(v6 ? h->dst.in6.sin6_port : h->dst.in4.sin_port);
        return (size_t)snprintf(out, cap, "PROXY %s %s %s %u %u\r\n", v6 ? "TCP6" : "TCP4", s, d,
                                sp, dp);
    }
    static const char sig[12] = "\r\n\r\n\0\r\nQUIT\n";
    memcpy(out, sig, 12);
    out[12] = 0x21;
    out[13] = v6 ? 0x21 : 0x11;
    size_t alen = v6 ? 16 : 4, blen = v6 ? 36 : 12;
    out[14] = 0;
    out[15] = (char)blen;
    memcpy(out + 16, v6 ? (const void *)&h->src.in6.sin6_addr : &h->src.in4.sin_addr, alen);
    memcpy(out + 16 + alen, v6 ? (const void *)&h->dst.in6.sin6_addr : &h->dst.in4.sin_addr, alen);
    memcpy(out + 16 + 2 * alen, v6 ? (const void *)&h->src.in6.sin6_port : &h->src.in4.sin_port, 2);
    memcpy(out + 18 + 2 * alen, v6 ? (const void *)&h->dst.in6.sin6_port : &h->dst.in4.sin_port, 2);
    return 16 + blen;
}

static void check_accepted(const uint8_t *data, size_t n, int rc, const struct proxy_header *h)
{
    FUZZ_CHECK((size_t)rc <= n && rc <= PROXY_HEADER_MAX);
    if (h->version == 1) {
        FUZZ_CHECK(rc <= PROXY_V1_MAX && memcmp(data, "PROXY ", 6) == 0);
        FUZZ_CHECK(data[rc - 2] == '\r' && data[rc - 1] == '\n');
        FUZZ_CHECK(memchr(data, '\n', (size_t)rc - 1) == NULL);
    } else {
        FUZZ_CHECK(h->version == 2 && rc >= 16);
        FUZZ_CHECK((size_t)rc == 16 + ((size_t)data[14] << 8 | data[15]));
    }
    if (h->local) {
        FUZZ_CHECK(h->src.sa.sa_family == 0 && h->dst.sa.sa_family == 0);
        return;
    }
    FUZZ_CHECK(h->src.sa.sa_family == h->dst.sa.sa_family);
    FUZZ_CHECK(h->src.sa.sa_family == AF_INET || h->src.sa.sa_family == AF_INET6);
    char text[128];
    size_t len = canonical(h, text, sizeof text);
    struct proxy_header again;
    FUZZ_CHECK(proxy_parse(text, len, &again) == (int)len);
    FUZZ_CHECK(same_header(h, &again));
}

/* A prefix of k bytes must agree with the whole input's result rc. */
static void check_prefix(const uint8_t *data, size_t k, int rc, const struct proxy_header *h)
{
    struct proxy_header p;
    int rk = parse_copy(data, k, &p);
    if (rc > 0 && k < (size_t)rc)
        FUZZ_CHECK(rk == PROXY_PARTIAL);
    else if (rc > 0)
        FUZZ_CHECK(rk == rc && same_header(h, &p));
    else if (rc == PROXY_PARTIAL)
        FUZZ_CHECK(rk == PROXY_PARTIAL);
    else
        FUZZ_CHECK(rk != PROXY_BAD || p.why != NULL); /* refused early or not: never accepted */
    FUZZ_CHECK(rk <= 0 || rc > 0);
    if (rk == PROXY_BAD)
        FUZZ_CHECK(rc == PROXY_BAD);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proxy_header h;
    int rc = parse_copy(data, size, &h);
    FUZZ_CHECK(rc > 0 || rc == PROXY_PARTIAL || rc == PROXY_BAD);
    if (rc == PROXY_BAD)
        FUZZ_CHECK(h.why != NULL && *h.why);
    if (rc == PROXY_PARTIAL)
        FUZZ_CHECK(size < PROXY_HEADER_MAX);
    if (rc > 0)
        check_accepted(data, size, rc, &h);
    for (size_t k = 0; k < size && k < PREFIXES; k++)
        check_prefix(data, k, rc, &h);
    for (size_t k = PREFIXES; k < size; k = k * 2)
        check_prefix(data, k, rc, &h);
    if (rc > 1)
        check_prefix(data, (size_t)rc - 1, rc, &h);
    return 0;
}

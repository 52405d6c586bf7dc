/* Unit tests of the PROXY header parser: every case of the spec, each tried at every prefix
 * (a header split byte by byte is what a caller that reads one byte at a time sees), with the
 * input ending right before a PROT_NONE page so any read past its end crashes the test. */
#include "cunit_main.h"
#include "proxy.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Parses bytes[0, n) copied to end exactly at a PROT_NONE page. */
static int parse_guarded(const char *bytes, size_t n, struct proxy_header *h)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t body = ((n + (size_t)page) / (size_t)page) * (size_t)page;
    char *m =
        mmap(NULL, body + (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(m != MAP_FAILED);
    mprotect(m + body, (size_t)page, PROT_NONE);
    memcpy(m + body - n, bytes, n);
    int rc = proxy_parse(m + body - n, n, h);
    munmap(m, body + (size_t)page);
    return rc;
}

/* A valid header of `hlen` bytes at the start of in[0, n): every shorter prefix is partial
 * (fed one byte more each time), and the whole input gives hlen. */
static void accepted_at_every_split(const char *in, size_t n, size_t hlen, struct proxy_header *h)
{
    for (size_t k = 0; k < hlen; k++) {
        int rc = parse_guarded(in, k, h);
        CU_ASSERT_EQUAL(rc, PROXY_PARTIAL);
        if (rc != PROXY_PARTIAL)
            printf("prefix %zu of %zu: %d (%s)\n", k, hlen, rc, h->why ? h->why : "");
    }
    CU_ASSERT_EQUAL(parse_guarded(in, n, h), (int)hlen);
}

/* Refused once `at` bytes are there, and not before (partial up to then). */
static void refused_from(const char *in, size_t n, size_t at, const char *why)
{
    struct proxy_header h;
    for (size_t k = 0; k < at; k++)
        CU_ASSERT_EQUAL(parse_guarded(in, k, &h), PROXY_PARTIAL);
    for (size_t k = at; k <= n; k++) {
        CU_ASSERT_EQUAL(parse_guarded(in, k, &h), PROXY_BAD);
        CU_ASSERT_PTR_NOT_NULL(h.why);
        if (h.why && why)
            CU_ASSERT_STRING_EQUAL(h.why, why);
    }
}

static void check_v4(const union proxy_addr *a, const char *ip, unsigned port)
{
    char text[INET_ADDRSTRLEN] = "";
    CU_ASSERT_EQUAL(a->sa.sa_family, AF_INET);
    inet_ntop(AF_INET, &a->in4.sin_addr, text, sizeof text);
    CU_ASSERT_STRING_EQUAL(text, ip);
    CU_ASSERT_EQUAL(ntohs(a->in4.sin_port), port);
}

static void check_v6(const union proxy_addr *a, const char *ip, unsigned port)
{
    char text[INET6_ADDRSTRLEN] = "";
    CU_ASSERT_EQUAL(a->sa.sa_family, AF_INET6);
    inet_ntop(AF_INET6, &a->in6.sin6_addr, text, sizeof text);
    CU_ASSERT_STRING_EQUAL(text, ip);
    CU_ASSERT_EQUAL(ntohs(a->in6.sin6_port), port);
}

#define STR(s) s, sizeof s - 1

static void v1_tcp4_split_byte_by_byte(void)
{
    static const char in[] = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
    struct proxy_header h;
    accepted_at_every_split(STR(in), sizeof in - 1, &h);
    CU_ASSERT_EQUAL(h.version, 1);
    CU_ASSERT_EQUAL(h.local, 0);
    check_v4(&h.src, "192.0.2.1", 56324);
    check_v4(&h.dst, "198.51.100.2", 443);
}

static void v1_tcp6_longest_addresses(void)
{
    static const char in[] = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n";
    struct proxy_header h;
    CU_ASSERT_EQUAL(sizeof in - 1, 104); /* the spec's TCP6 maximum */
    accepted_at_every_split(STR(in), sizeof in - 1, &h);
    check_v6(&h.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    check_v6(&h.dst, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
}

static void v1_unknown_keeps_socket_addresses(void)
{
    struct proxy_header h;
    accepted_at_every_split(STR("PROXY UNKNOWN\r\n"), 15, &h);
    CU_ASSERT_EQUAL(h.local, 1);
    CU_ASSERT_EQUAL(h.src.sa.sa_family, 0);
    accepted_at_every_split(STR("PROXY UNKNOWN ::1 ::2 1 2\r\n"), 27, &h);
    CU_ASSERT_EQUAL(h.local, 1);
}

/* The worst case the spec allows is exactly 107 bytes with its CRLF; 108 is refused. */
static void v1_line_of_107_bytes(void)
{
    char in[120];
    memset(in, 'x', sizeof in);
    memcpy(in, "PROXY UNKNOWN ", 14);
    memcpy(in + 105, "\r\n", 2);
    struct proxy_header h;
    accepted_at_every_split(in, 107, 107, &h);
    CU_ASSERT_EQUAL(h.local, 1);

    memset(in, 'x', sizeof in);
    memcpy(in, "PROXY UNKNOWN ", 14);
    memcpy(in + 106, "\r\n", 2); /* 108 bytes: no CRLF within the first 107 */
    refused_from(in, 108, 107, "v1 line without CRLF in 107 bytes");
}

static void v1_lone_lf_or_cr_refused(void)
{
    static const char lf[] = "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n";
    refused_from(STR(lf), sizeof lf - 1, "v1 line ended by a lone LF");
    static const char cr[] = "PROXY TCP4 192.0.2.1\r198.51.100.2 1 2\r\n";
    refused_from(STR(cr), 22, "v1 line with a CR not followed by LF");
}

static void v1_malformed_fields_refused(void)
{
    static const char *const bad[] = {
        "PROXY TCP4 192.0.2.1 198.51.100.2 056324 443\r\n", /* leading zero */
        "PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n",  /* port range */
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n",      /* a fifth field */
        "PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n",       /* two spaces */
        "PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n",          /* a field short */
        "PROXY TCP4 ::1 ::2 1 2\r\n",                       /* family mismatch */
        "PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n",
        "PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n", /* an octet with a leading zero */
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n", /* trailing space */
        "PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n",
        "PROXY \r\n",
        "PROXY UNKNOWNX\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct proxy_header h;
        int rc = parse_guarded(bad[i], strlen(bad[i]), &h);
        CU_ASSERT_EQUAL(rc, PROXY_BAD);
        if (rc != PROXY_BAD)
            printf("accepted: %s", bad[i]);
    }
}

static void not_a_header_refused_at_first_wrong_byte(void)
{
    refused_from(STR("GET / HTTP/1.1\r\n"), 1, "not a PROXY header");
    refused_from(STR("PROXZ TCP4\r\n"), 5, "not a PROXY header");
    refused_from(STR("hello\n"), 1, "not a PROXY header");
    refused_from(STR("\r\n\r\n\x00\r\nQUIX\n"), 11, "not a PROXY header");
}

/* Builds a v2 header: signature, ver_cmd, fam, the address block, then tlvs. */
static size_t v2(unsigned char *out, unsigned ver_cmd, unsigned fam, const void *block, size_t blen,
                 const void *tlvs, size_t tlen)
{
    static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                          0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    memcpy(out, sig, 12);
    out[12] = (unsigned char)ver_cmd;
    out[13] = (unsigned char)fam;
    out[14] = (unsigned char)((blen + tlen) >> 8);
    out[15] = (unsigned char)(blen + tlen);
    memcpy(out + 16, block, blen);
    memcpy(out + 16 + blen, tlvs, tlen);
    return 16 + blen + tlen;
}

static const unsigned char inet_block[12] = {192, 0, 2, 1, 198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB};

static void v2_inet_with_tlvs_split_byte_by_byte(void)
{
    /* ALPN "h2", NOOP of 3 bytes, UNIQUE_ID of 5, an application type 0xE0 of 0 bytes */
    static const unsigned char tlvs[] = {0x01, 0, 2, 'h', '2', 0x04, 0, 3, 0,    0, 0,
                                         0x05, 0, 5, 1,   2,   3,    4, 5, 0xE0, 0, 0};
    unsigned char in[128];
    size_t n = v2(in, 0x21, 0x11, inet_block, sizeof inet_block, tlvs, sizeof tlvs);
    struct proxy_header h;
    accepted_at_every_split((char *)in, n, n, &h);
    CU_ASSERT_EQUAL(h.version, 2);
    CU_ASSERT_EQUAL(h.local, 0);
    check_v4(&h.src, "192.0.2.1", 56324);
    check_v4(&h.dst, "198.51.100.2", 443);
}

static void v2_inet6(void)
{
    unsigned char block[36] = {0};
    block[0] = 0x20, block[1] = 0x01, block[2] = 0x0d, block[3] = 0xb8, block[15] = 1;
    block[16] = 0x20, block[17] = 0x01, block[18] = 0x0d, block[19] = 0xb8, block[31] = 2;
    block[32] = 0x13, block[33] = 0x88, block[34] = 0x1b, block[35] = 0x59;
    unsigned char in[64];
    size_t n = v2(in, 0x21, 0x21, block, sizeof block, "", 0);
    struct proxy_header h;
    accepted_at_every_split((char *)in, n, n, &h);
    check_v6(&h.src, "2001:db8::1", 5000);
    check_v6(&h.dst, "2001:db8::2", 7001);
}

static void v2_local_and_unspec_keep_socket_addresses(void)
{
    unsigned char in[64];
    struct proxy_header h;
    size_t n = v2(in, 0x20, 0x00, "", 0, "", 0); /* LOCAL, UNSPEC: a health check */
    accepted_at_every_split((char *)in, n, n, &h);
    CU_ASSERT_EQUAL(h.local, 1);
    n = v2(in, 0x20, 0x11, inet_block, sizeof inet_block, "", 0); /* LOCAL, addresses skipped */
    accepted_at_every_split((char *)in, n, n, &h);
    CU_ASSERT_EQUAL(h.local, 1);
    CU_ASSERT_EQUAL(h.src.sa.sa_family, 0);
    n = v2(in, 0x21, 0x00, "", 0, "", 0); /* PROXY, UNSPEC */
    accepted_at_every_split((char *)in, n, n, &h);
    CU_ASSERT_EQUAL(h.local, 1);
    n = v2(in, 0x21, 0x12, inet_block, sizeof inet_block, "", 0); /* INET over datagrams */
    accepted_at_every_split((char *)in, n, n, &h);
    CU_ASSERT_EQUAL(h.local, 1);
}

static void v2_absurd_length_refused_at_16_bytes(void)
{
    unsigned char in[16];
    v2(in, 0x21, 0x11, "", 0, "", 0);
    in[14] = 0xFF, in[15] = 0xFF;
    refused_from((char *)in, 16, 16, "v2 length over 2048 bytes");
    in[14] = 0x08, in[15] = 0x01; /* 2049 */
    refused_from((char *)in, 16, 16, "v2 length over 2048 bytes");
}

static void v2_largest_length_accepted(void)
{
    unsigned char *in = calloc(1, PROXY_HEADER_MAX + 8);
    CU_ASSERT_FATAL(in != NULL);
    unsigned char tlv[3] = {0x04, (PROXY_V2_MAX_LEN - 12 - 3) >> 8,
                            (PROXY_V2_MAX_LEN - 12 - 3) & 0xFF};
    size_t n = v2(in, 0x21, 0x11, inet_block, sizeof inet_block, tlv, sizeof tlv);
    in[14] = PROXY_V2_MAX_LEN >> 8, in[15] = PROXY_V2_MAX_LEN & 0xFF;
    n = 16 + PROXY_V2_MAX_LEN;
    struct proxy_header h;
    CU_ASSERT_EQUAL(parse_guarded((char *)in, n - 1, &h), PROXY_PARTIAL);
    CU_ASSERT_EQUAL(parse_guarded((char *)in, n + 8, &h), (int)n);
    free(in);
}

static void v2_malformed_refused(void)
{
    unsigned char in[64];
    size_t n = v2(in, 0x11, 0x11, inet_block, sizeof inet_block, "", 0); /* version 1 */
    refused_from((char *)in, n, 13, "v2 version or command unknown");
    n = v2(in, 0x22, 0x11, inet_block, sizeof inet_block, "", 0); /* command 2 */
    refused_from((char *)in, n, 13, "v2 version or command unknown");
    n = v2(in, 0x21, 0x41, inet_block, sizeof inet_block, "", 0); /* family 4 */
    refused_from((char *)in, n, 14, "v2 address family or transport unknown");
    n = v2(in, 0x21, 0x13, inet_block, sizeof inet_block, "", 0); /* transport 3 */
    refused_from((char *)in, n, 14, "v2 address family or transport unknown");
    n = v2(in, 0x21, 0x21, inet_block, sizeof inet_block, "", 0); /* INET6 in 12 bytes */
    refused_from((char *)in, n, 16, "v2 length shorter than its address block");
    static const unsigned char overrun[] = {0x01, 0, 9, 'h', '2'};
    n = v2(in, 0x21, 0x11, inet_block, sizeof inet_block, overrun, sizeof overrun);
    refused_from((char *)in, n, n, "v2 TLV runs past the header");
    static const unsigned char stub[] = {0x01, 0};
    n = v2(in, 0x21, 0x11, inet_block, sizeof inet_block, stub, sizeof stub);
    refused_from((char *)in, n, n, "v2 TLV runs past the header");
}

/* The data that came in the same segment as the header is not part of it. */
static void data_in_the_same_segment(void)
{
    static const char v1[] = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nhello\nworld\n";
    struct proxy_header h;
    CU_ASSERT_EQUAL(parse_guarded(STR(v1), &h), 45);
    check_v4(&h.src, "192.0.2.1", 56324);
    unsigned char in[64];
    size_t n = v2(in, 0x21, 0x11, inet_block, sizeof inet_block, "", 0);
    memcpy(in + n, "\r\n\r\nPROXY hello\n", 16); /* even bytes that look like a header */
    CU_ASSERT_EQUAL(parse_guarded((char *)in, n + 16, &h), (int)n);
    check_v4(&h.src, "192.0.2.1", 56324);
}

static void empty_input_is_partial(void)
{
    struct proxy_header h;
    CU_ASSERT_EQUAL(proxy_parse("", 0, &h), PROXY_PARTIAL);
}

static CU_TestInfo proxy_tests[] = {
    {"v1_tcp4_split_byte_by_byte", v1_tcp4_split_byte_by_byte},
    {"v1_tcp6_longest_addresses", v1_tcp6_longest_addresses},
    {"v1_unknown_keeps_socket_addresses", v1_unknown_keeps_socket_addresses},
    {"v1_line_of_107_bytes", v1_line_of_107_bytes},
    {"v1_lone_lf_or_cr_refused", v1_lone_lf_or_cr_refused},
    {"v1_malformed_fields_refused", v1_malformed_fields_refused},
    {"not_a_header_refused_at_first_wrong_byte", not_a_header_refused_at_first_wrong_byte},
    {"v2_inet_with_tlvs_split_byte_by_byte", v2_inet_with_tlvs_split_byte_by_byte},
    {"v2_inet6", v2_inet6},
    {"v2_local_and_unspec_keep_socket_addresses", v2_local_and_unspec_keep_socket_addresses},
    {"v2_absurd_length_refused_at_16_bytes", v2_absurd_length_refused_at_16_bytes},
    {"v2_largest_length_accepted", v2_largest_length_accepted},
    {"v2_malformed_refused", v2_malformed_refused},
    {"data_in_the_same_segment", data_in_the_same_segment},
    {"empty_input_is_partial", empty_input_is_partial},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "proxy", .pTests = proxy_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

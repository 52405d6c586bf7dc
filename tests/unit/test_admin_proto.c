/* Unit tests of the admin listener's request parser (server/admin_proto.c): line commands,
 * HTTP request heads with LF or CRLF, every truncation of a request is "more", and the
 * refusals at their bounds. */
#include "admin_proto.h"
#include "cunit_main.h"

#include <stdlib.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

static int is(const struct admin_request *r, const char *word)
{
    return r->word_len == strlen(word) && memcmp(r->word, word, r->word_len) == 0;
}

static void line_commands_trim_blanks_and_cr(void)
{
    struct admin_request r;
    CU_ASSERT_EQUAL(admin_parse(S("PING\n"), &r), ADMIN_LINE);
    CU_ASSERT(is(&r, "PING"));
    CU_ASSERT_EQUAL(r.used, 5);
    CU_ASSERT_EQUAL(admin_parse(S(" \tstats \r\nplugins\n"), &r), ADMIN_LINE);
    CU_ASSERT(is(&r, "stats"));
    CU_ASSERT_EQUAL(r.used, 10);
    CU_ASSERT_EQUAL(admin_parse(S("\r\n"), &r), ADMIN_LINE);
    CU_ASSERT_EQUAL(r.word_len, 0);
    CU_ASSERT_EQUAL(admin_parse(S("PIN"), &r), ADMIN_MORE);
    CU_ASSERT_EQUAL(r.used, 0);
    /* "HTTP/" inside a command that is not its last word is still a command */
    CU_ASSERT_EQUAL(admin_parse(S("HTTP/1.1 x\n"), &r), ADMIN_LINE);
}

static void http_heads_with_lf_or_crlf(void)
{
    struct admin_request r;
    static const char crlf[] = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nPING\n";
    CU_ASSERT_EQUAL(admin_parse(S(crlf), &r), ADMIN_HTTP);
    CU_ASSERT_EQUAL(r.used, sizeof crlf - 1 - 5);
    CU_ASSERT(r.method_len == 3 && memcmp(r.method, "GET", 3) == 0);
    CU_ASSERT(r.path_len == 8 && memcmp(r.path, "/metrics", 8) == 0);
    CU_ASSERT_EQUAL(r.http_minor, 1);
    CU_ASSERT_EQUAL(admin_parse(S("HEAD /readyz HTTP/1.0\n\n"), &r), ADMIN_HTTP);
    CU_ASSERT_EQUAL(r.http_minor, 0);
    CU_ASSERT_EQUAL(r.used, 23);
    /* every truncation of a request is incomplete, never a different answer */
    for (size_t k = 0; k < sizeof crlf - 1 - 5; k++) {
        CU_ASSERT_EQUAL(admin_parse(crlf, k, &r), ADMIN_MORE);
    }
}

static void malformed_requests(void)
{
    struct admin_request r;
    CU_ASSERT_EQUAL(admin_parse(S("GET  /x HTTP/1.1\r\n\r\n"), &r), ADMIN_BAD_HTTP);
    CU_ASSERT_EQUAL(admin_parse(S("get /x HTTP/1.1\r\n\r\n"), &r), ADMIN_BAD_HTTP);
    CU_ASSERT_EQUAL(admin_parse(S("GET x HTTP/1.1\r\n\r\n"), &r), ADMIN_BAD_HTTP);
    CU_ASSERT_EQUAL(admin_parse(S("GET /x HTTP/2.0\r\n\r\n"), &r), ADMIN_BAD_VERSION);
    CU_ASSERT_EQUAL(admin_parse(S("GET /x HTTP/1.10\r\n\r\n"), &r), ADMIN_BAD_VERSION);
    CU_ASSERT(r.used > 0); /* the whole head is taken, answered once */
}

static void bounds_of_a_line_and_a_head(void)
{
    struct admin_request r;
    char *buf = malloc(ADMIN_HEAD_MAX + 16);
    memset(buf, 'x', ADMIN_HEAD_MAX + 16);
    CU_ASSERT_EQUAL(admin_parse(buf, ADMIN_LINE_MAX - 1, &r), ADMIN_MORE);
    CU_ASSERT_EQUAL(admin_parse(buf, ADMIN_LINE_MAX, &r), ADMIN_LINE_TOO_LONG);
    CU_ASSERT_EQUAL(r.looks_http, 0);
    buf[ADMIN_LINE_MAX - 1] = '\n'; /* a line of exactly the maximum, its '\n' included */
    CU_ASSERT_EQUAL(admin_parse(buf, ADMIN_LINE_MAX, &r), ADMIN_LINE);
    memcpy(buf, "GET /", 5);
    buf[ADMIN_LINE_MAX - 1] = 'x';
    CU_ASSERT_EQUAL(admin_parse(buf, ADMIN_LINE_MAX, &r), ADMIN_LINE_TOO_LONG);
    CU_ASSERT_EQUAL(r.looks_http, 1);
    /* a request line, then headers that never end */
    static const char line[] = "GET /metrics HTTP/1.1\r\nX: ";
    memcpy(buf, line, sizeof line - 1);
    CU_ASSERT_EQUAL(admin_parse(buf, ADMIN_HEAD_MAX - 1, &r), ADMIN_MORE);
    CU_ASSERT_EQUAL(admin_parse(buf, ADMIN_HEAD_MAX + 16, &r), ADMIN_HEAD_TOO_LONG);
    free(buf);
}

static CU_TestInfo tests[] = {
    {"line_commands_trim_blanks_and_cr", line_commands_trim_blanks_and_cr},
    {"http_heads_with_lf_or_crlf", http_heads_with_lf_or_crlf},
    {"malformed_requests", malformed_requests},
    {"bounds_of_a_line_and_a_head", bounds_of_a_line_and_a_head},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "admin_proto", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

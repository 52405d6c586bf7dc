/* Unit tests of the shared value parsers: every type's grammar, its bounds, and -ERANGE
 * (not -EINVAL) for a well-formed value that does not fit. Inputs are (text, len) slices. */
#include "cunit_main.h"
#include "values.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

static void uint_grammar_and_range(void)
{
    uint64_t v = 7;
    CU_ASSERT_EQUAL(values_parse_uint(S("0"), &v), 0);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(values_parse_uint(S("18446744073709551615"), &v), 0);
    CU_ASSERT_EQUAL(v, UINT64_MAX);
    CU_ASSERT_EQUAL(values_parse_uint(S("18446744073709551616"), &v), -ERANGE);
    CU_ASSERT_EQUAL(values_parse_uint(S("99999999999999999999999"), &v), -ERANGE);
    CU_ASSERT_EQUAL(v, UINT64_MAX); /* untouched by the refusals */
    static const char *bad[] = {"", " 1", "+1", "-1", "1 ", "1x", "0x10", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_EQUAL(values_parse_uint(bad[i], strlen(bad[i]), &v), -EINVAL);
    CU_ASSERT_EQUAL(values_parse_uint("12345", 2, &v), 0); /* a slice: no NUL needed */
    CU_ASSERT_EQUAL(v, 12);
}

static void size_units(void)
{
    uint64_t v;
    CU_ASSERT_EQUAL(values_parse_size(S("300000"), &v), 0);
    CU_ASSERT_EQUAL(v, 300000);
    CU_ASSERT_EQUAL(values_parse_size(S("64k"), &v), 0);
    CU_ASSERT_EQUAL(v, 65536);
    CU_ASSERT_EQUAL(values_parse_size(S("1MiB"), &v), 0);
    CU_ASSERT_EQUAL(v, 1u << 20);
    CU_ASSERT_EQUAL(values_parse_size(S("2gb"), &v), 0);
    CU_ASSERT_EQUAL(v, 2ull << 30);
    CU_ASSERT_EQUAL(values_parse_size(S("3T"), &v), 0);
    CU_ASSERT_EQUAL(v, 3ull << 40);
    CU_ASSERT_EQUAL(values_parse_size(S("16777215T"), &v), 0);
    CU_ASSERT_EQUAL(values_parse_size(S("16777216T"), &v), -ERANGE);
    CU_ASSERT_EQUAL(values_parse_size(S("99999999999999999999"), &v), -ERANGE);
    static const char *bad[] = {"", "K", "1B", "1KK", "1Kx", "1 K", "-1", "1.5K", "1P"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_EQUAL(values_parse_size(bad[i], strlen(bad[i]), &v), -EINVAL);
}

static void duration_units(void)
{
    uint64_t ns;
    CU_ASSERT_EQUAL(values_parse_duration(S("2"), &ns), 0);
    CU_ASSERT_EQUAL(ns, 2000000000ull);
    CU_ASSERT_EQUAL(values_parse_duration(S("0.5s"), &ns), 0);
    CU_ASSERT_EQUAL(ns, 500000000ull);
    CU_ASSERT_EQUAL(values_parse_duration(S("1500ms"), &ns), 0);
    CU_ASSERT_EQUAL(ns, 1500000000ull);
    CU_ASSERT_EQUAL(values_parse_duration(S("0.25ms"), &ns), 0);
    CU_ASSERT_EQUAL(ns, 250000ull);
    CU_ASSERT_EQUAL(values_parse_duration(S("1.0000000019"), &ns), 0); /* past 1 ns: cut */
    CU_ASSERT_EQUAL(ns, 1000000001ull);
    CU_ASSERT_EQUAL(values_parse_duration(S("1000000000"), &ns), 0);
    CU_ASSERT_EQUAL(values_parse_duration(S("1000000000.5"), &ns), -ERANGE);
    CU_ASSERT_EQUAL(values_parse_duration(S("99999999999999999999999s"), &ns), -ERANGE);
    static const char *bad[] = {"",    "s",  ".5",  "1.",  "1e3",  "3h",
                                "1 s", "-1", "nan", "inf", "1sec", "1..2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_EQUAL(values_parse_duration(bad[i], strlen(bad[i]), &ns), -EINVAL);
}

static void bools_and_ports(void)
{
    int b = 5;
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(values_parse_bool(yes[i], strlen(yes[i]), &b), 0);
        CU_ASSERT_EQUAL(b, 1);
        CU_ASSERT_EQUAL(values_parse_bool(no[i], strlen(no[i]), &b), 0);
        CU_ASSERT_EQUAL(b, 0);
    }
    CU_ASSERT_EQUAL(values_parse_bool(S("TRUE"), &b), -EINVAL);
    CU_ASSERT_EQUAL(values_parse_bool(S("2"), &b), -EINVAL);
    CU_ASSERT_EQUAL(values_parse_bool(S(""), &b), -EINVAL);
    CU_ASSERT_EQUAL(values_parse_bool("yes", 2, &b), -EINVAL); /* "ye" */
    uint16_t port;
    CU_ASSERT_EQUAL(values_parse_port(S("65535"), &port), 0);
    CU_ASSERT_EQUAL(port, 65535);
    CU_ASSERT_EQUAL(values_parse_port(S("65536"), &port), -ERANGE);
    CU_ASSERT_EQUAL(values_parse_port(S(":80"), &port), -EINVAL);
}

/* HOST:PORT and [IPV6]:PORT: the host is a slice of the text, brackets removed; each refusal
 * names its reason. */
static void addresses(void)
{
    const char *host, *why;
    size_t hlen;
    uint16_t port = 7;
    CU_ASSERT_EQUAL_FATAL(values_parse_address(S("127.0.0.1:5005"), &host, &hlen, &port, NULL), 0);
    CU_ASSERT(hlen == 9 && memcmp(host, "127.0.0.1", 9) == 0 && port == 5005);
    CU_ASSERT_EQUAL_FATAL(values_parse_address(S("[::1]:0"), &host, &hlen, &port, NULL), 0);
    CU_ASSERT(hlen == 3 && memcmp(host, "::1", 3) == 0 && port == 0);
    CU_ASSERT_EQUAL(values_parse_address("localhost:80x", 12, &host, &hlen, &port, NULL), 0);
    CU_ASSERT_EQUAL(port, 80); /* a slice: no NUL needed */
    static const struct {
        const char *text, *why;
        int rc;
    } bad[] = {
        {"localhost", "missing :PORT", -EINVAL},
        {"::1:80", "write IPv6 hosts as [ADDR]:PORT", -EINVAL},
        {"[::1:80", "expected [IPV6]:PORT", -EINVAL},
        {"[::1]80", "expected [IPV6]:PORT", -EINVAL},
        {"[::1]", "expected [IPV6]:PORT", -EINVAL},
        {":80", "empty host", -EINVAL},
        {"[]:80", "empty host", -EINVAL},
        {"a]b:80", "'[' or ']' in the host", -EINVAL},
        {"h:", "bad port", -EINVAL},
        {"h: 80", "bad port", -EINVAL},
        {"h:65536", "bad port", -ERANGE},
        {"", "missing :PORT", -EINVAL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        port = 7;
        CU_ASSERT_EQUAL(
            values_parse_address(bad[i].text, strlen(bad[i].text), &host, &hlen, &port, &why),
            bad[i].rc);
        CU_ASSERT_PTR_NOT_NULL_FATAL(why);
        CU_ASSERT_STRING_EQUAL(why, bad[i].why);
        CU_ASSERT_EQUAL(port, 7); /* untouched */
    }
}

static CU_TestInfo tests[] = {
    {"addresses", addresses},
    {"uint_grammar_and_range", uint_grammar_and_range},
    {"size_units", size_units},
    {"duration_units", duration_units},
    {"bools_and_ports", bools_and_ports},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "values", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

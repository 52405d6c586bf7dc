/* Unit tests of plugins/args.h (installed as <linepool/args.h>), the strict KEY=VALUE parser
 * for plugins that parse their own text, at the limits of its number keys and for repeated
 * keys (fuzz_plugin_args checks the rest against a reference parser). */
#include "args.h"
#include "cunit_main.h"

#include <stddef.h>

struct opts {
    uint64_t big, small;
};

static const struct args_key keys[] = {
    {"big", args_set_uint, offsetof(struct opts, big), UINT64_MAX},
    {"small", args_set_uint, offsetof(struct opts, small), 3600},
};

static int parse(const char *args, struct opts *o)
{
    char err[256];
    return args_parse(args, keys, sizeof keys / sizeof *keys, o, err, sizeof err);
}

/* Found by fuzz_plugin_args: the overflow guard stopped at 19 digits, so values from
 * 18446744073709551610 to UINT64_MAX were refused although max allowed them. */
static void uint_accepts_up_to_uint64_max(void)
{
    struct opts o = {0};
    CU_ASSERT_EQUAL(parse("big=18446744073709551615", &o), 0);
    CU_ASSERT_EQUAL(o.big, UINT64_MAX);
    CU_ASSERT_EQUAL(parse("big=18446744073709551610", &o), 0);
    CU_ASSERT_EQUAL(o.big, UINT64_MAX - 5);
    CU_ASSERT_EQUAL(parse("big=0018446744073709551615", &o), 0);
    CU_ASSERT_EQUAL(o.big, UINT64_MAX);
}

static void uint_refuses_overflow_and_over_max(void)
{
    struct opts o = {0};
    CU_ASSERT_EQUAL(parse("big=18446744073709551616", &o), -ERANGE);
    CU_ASSERT_EQUAL(parse("big=99999999999999999999", &o), -ERANGE);
    CU_ASSERT_EQUAL(parse("big=184467440737095516150", &o), -ERANGE);
    CU_ASSERT_EQUAL(o.big, 0);
    CU_ASSERT_EQUAL(parse("small=3600", &o), 0);
    CU_ASSERT_EQUAL(o.small, 3600);
    CU_ASSERT_EQUAL(parse("small=3601", &o), -ERANGE);
    CU_ASSERT_EQUAL(parse("small=", &o), -EINVAL);
    CU_ASSERT_EQUAL(parse("small=+1", &o), -EINVAL);
}

/* `reset=1,reset=0` used to be accepted, the last one winning: a typo passed silently. */
static void repeated_key_refused(void)
{
    struct opts o = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL(args_parse("small=1,big=2,small=3", keys, 2, &o, err, sizeof err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "small: given twice");
    CU_ASSERT_EQUAL(parse("small=1,big=2", &o), 0);
    CU_ASSERT_EQUAL(o.small, 1);
    CU_ASSERT_EQUAL(o.big, 2);
}

static CU_TestInfo args_tests[] = {
    {"repeated_key_refused", repeated_key_refused},
    {"uint_accepts_up_to_uint64_max", uint_accepts_up_to_uint64_max},
    {"uint_refuses_overflow_and_over_max", uint_refuses_overflow_and_over_max},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "plugin_args", .pTests = args_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

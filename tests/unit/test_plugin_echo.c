/* test_plugin_echo - the echo plugin through the fake host. */
#include "cunit_main.h"
#include "fake_host.h"

#include <errno.h>
#include <string.h>

extern const struct lp_plugin lp_plugin;

static void answers_each_message_verbatim_plus_newline(void)
{
    char err[256];
    void *st;
    struct fake_conn c;
    CU_ASSERT_EQUAL_FATAL(fake_load(&lp_plugin, "", &st, err, sizeof err), 0);
    CU_ASSERT_EQUAL(fake_open(&c, &lp_plugin, st, 1, 5006), 0);
    CU_ASSERT_EQUAL(FAKE_FEED(&c, "hello\n\nx\r\n"), 0);
    CU_ASSERT_EQUAL(fake_message(&c, "a\0b", 3), LP_NEXT);
    CU_ASSERT_EQUAL(c.outlen, 14);
    CU_ASSERT_EQUAL(memcmp(c.out, "hello\n\nx\r\na\0b\n", 14), 0);
    fake_close(&c);
    fake_conn_free(&c);
    if (lp_plugin.unload)
        lp_plugin.unload(st);
}

static void refuses_arguments(void)
{
    char err[256];
    void *st;
    CU_ASSERT_EQUAL(fake_load(&lp_plugin, "x=1", &st, err, sizeof err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "unknown argument 'x' (accepted: none)");
}

static void descriptor_is_complete(void)
{
    CU_ASSERT_EQUAL(lp_plugin.abi, LP_PLUGIN_ABI);
    CU_ASSERT_STRING_EQUAL(lp_plugin.name, "echo");
    CU_ASSERT_PTR_NOT_NULL(lp_plugin.version);
    CU_ASSERT_PTR_NOT_NULL(lp_plugin.summary);
}

static CU_TestInfo tests[] = {
    {"answers_each_message_verbatim_plus_newline", answers_each_message_verbatim_plus_newline},
    {"refuses_arguments", refuses_arguments},
    {"descriptor_is_complete", descriptor_is_complete},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "echo", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

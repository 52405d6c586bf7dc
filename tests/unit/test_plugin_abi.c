/* Unit tests of the ABI macros of linepool.h: version encoding (the first header's `.abi = 1`
 * reads as 1.0) and LP_HOST_HAS against hosts of an older minor, a shorter table and a
 * missing function. */
#include "cunit_main.h"
#include "fake_host.h"

#include <stddef.h>

static void versions_encode_major_and_minor(void)
{
    CU_ASSERT_EQUAL(LP_ABI_MAJOR_OF(1u), 1);
    CU_ASSERT_EQUAL(LP_ABI_MINOR_OF(1u), 0);
    CU_ASSERT_EQUAL(LP_ABI_MAJOR_OF(LP_ABI_VERSION(1, 0)), 1);
    CU_ASSERT_EQUAL(LP_ABI_MINOR_OF(LP_ABI_VERSION(1, 0)), 0);
    CU_ASSERT_EQUAL(LP_ABI_MAJOR_OF(LP_PLUGIN_ABI), LP_ABI_MAJOR);
    CU_ASSERT_EQUAL(LP_ABI_MINOR_OF(LP_PLUGIN_ABI), LP_ABI_MINOR);
    CU_ASSERT_EQUAL(LP_ABI_MAJOR_OF(LP_ABI_VERSION(2, 7)), 2);
    CU_ASSERT_EQUAL(LP_ABI_MINOR_OF(LP_ABI_VERSION(2, 7)), 7);
    CU_ASSERT_EQUAL(LP_ABI_MAJOR_OF(0u), 0);
}

static void host_has_tests_minor_size_and_pointer(void)
{
    struct lp_host h = fake_host;
    CU_ASSERT_TRUE(LP_HOST_HAS(&h, listener_name));
    CU_ASSERT_TRUE(LP_HOST_HAS(&h, timer_cancel)); /* the last one */
    h.listener_addr = NULL;
    CU_ASSERT_FALSE(LP_HOST_HAS(&h, listener_addr));
    h.size = (uint32_t)offsetof(struct lp_host, timer_start); /* a table ending before it */
    CU_ASSERT_FALSE(LP_HOST_HAS(&h, timer_start));
    CU_ASSERT_TRUE(LP_HOST_HAS(&h, overtake));
    h = fake_host;
    h.abi = LP_ABI_VERSION(1, 0); /* a 1.0 host has no size field to trust */
    CU_ASSERT_FALSE(LP_HOST_HAS(&h, listener_name));
}

/* Minor 2's via: the last function; a minor-1 table (ending before it) does not have it. */
static void host_has_via_only_from_minor_2(void)
{
    struct lp_host h = fake_host;
    CU_ASSERT_TRUE(LP_HOST_HAS(&h, via));
    h.size = (uint32_t)offsetof(struct lp_host, metric_new); /* where minor 1 ended */
    CU_ASSERT_FALSE(LP_HOST_HAS(&h, via));
    CU_ASSERT_TRUE(LP_HOST_HAS(&h, timer_cancel));
    struct fake_conn c = {.via = NULL};
    CU_ASSERT_PTR_NULL(fake_host.via((struct lp_conn *)&c)); /* a listener without +proxy */
    c.via = "127.0.0.1:40112";
    CU_ASSERT_STRING_EQUAL(fake_host.via((struct lp_conn *)&c), "127.0.0.1:40112");
}

static CU_TestInfo abi_tests[] = {
    {"host_has_via_only_from_minor_2", host_has_via_only_from_minor_2},
    {"versions_encode_major_and_minor", versions_encode_major_and_minor},
    {"host_has_tests_minor_size_and_pointer", host_has_tests_minor_size_and_pointer},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "plugin_abi", .pTests = abi_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

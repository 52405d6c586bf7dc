/* Unit tests of plugins' own metrics (server/plugin_metrics.c): the naming rules, the
 * refusals, and the rendering (one family per name, every instance a labelled sample). */
#include "cunit_main.h"
#include "plugin_metrics.h"
#include "textbuf.h"

#include <errno.h>
#include <string.h>

static void names_follow_prometheus_rules(void)
{
    struct plugin_metrics pm = {0};
    CU_ASSERT_PTR_NOT_NULL(plugin_metrics_new(&pm, "kv", LP_METRIC_COUNTER, "kv_hits_total", "h"));
    CU_ASSERT_PTR_NOT_NULL(plugin_metrics_new(&pm, "kv", LP_METRIC_GAUGE, "kv_keys", NULL));
    static const struct {
        enum lp_metric_type type;
        const char *name;
    } bad[] = {
        {LP_METRIC_COUNTER, "kv_hits"},       /* a counter without _total */
        {LP_METRIC_GAUGE, "kv_keys_total"},   /* a gauge with it */
        {LP_METRIC_GAUGE, "Kv"},              /* upper case */
        {LP_METRIC_GAUGE, "9kv"},             /* a leading digit */
        {LP_METRIC_GAUGE, "kv-keys"},         /* a dash */
        {LP_METRIC_GAUGE, ""},                /* empty */
        {(enum lp_metric_type)7, "kv_other"}, /* no such type */
        {LP_METRIC_GAUGE, "a_name_longer_than_the_forty_eight_bytes_allowed_x"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        errno = 0;
        CU_ASSERT_PTR_NULL(plugin_metrics_new(&pm, "kv", bad[i].type, bad[i].name, ""));
        CU_ASSERT_EQUAL(errno, EINVAL);
    }
    errno = 0;
    CU_ASSERT_PTR_NULL(plugin_metrics_new(&pm, "kv", LP_METRIC_GAUGE, "kv_x", "two\nlines"));
    CU_ASSERT_EQUAL(errno, EINVAL);
    errno = 0;
    CU_ASSERT_PTR_NULL(plugin_metrics_new(&pm, "kv", LP_METRIC_GAUGE, "kv_keys", ""));
    CU_ASSERT_EQUAL(errno, EEXIST);
    CU_ASSERT_PTR_NOT_NULL(plugin_metrics_new(&pm, "kv@b", LP_METRIC_COUNTER, "kv_hits_total", ""));
    CU_ASSERT_EQUAL(pm.n, 3);
    plugin_metrics_free(&pm);
}

static void instances_share_one_family(void)
{
    struct plugin_metrics pm = {0};
    struct lp_metric *a = plugin_metrics_new(&pm, "kv", LP_METRIC_COUNTER, "kv_hits_total", "Hits");
    struct lp_metric *g = plugin_metrics_new(&pm, "kv", LP_METRIC_GAUGE, "kv_keys", "Keys \\ now");
    struct lp_metric *b = plugin_metrics_new(&pm, "kv@b", LP_METRIC_COUNTER, "kv_hits_total", "");
    CU_ASSERT(a && g && b);
    atomic_store(&a->value, 3);
    atomic_store(&b->value, 4);
    atomic_store(&g->value, -2);
    struct textbuf out = {0};
    plugin_metrics_render(&pm, &out);
    CU_ASSERT_FALSE(out.failed);
    CU_ASSERT_STRING_EQUAL(out.data, "# HELP linepool_plugin_kv_hits_total Hits\n"
                                     "# TYPE linepool_plugin_kv_hits_total counter\n"
                                     "linepool_plugin_kv_hits_total{plugin=\"kv\"} 3\n"
                                     "linepool_plugin_kv_hits_total{plugin=\"kv@b\"} 4\n"
                                     "# HELP linepool_plugin_kv_keys Keys \\\\ now\n"
                                     "# TYPE linepool_plugin_kv_keys gauge\n"
                                     "linepool_plugin_kv_keys{plugin=\"kv\"} -2\n");
    textbuf_free(&out);
    plugin_metrics_free(&pm);
}

static CU_TestInfo tests[] = {
    {"names_follow_prometheus_rules", names_follow_prometheus_rules},
    {"instances_share_one_family", instances_share_one_family},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "plugin_metrics", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

/* Unit tests of declared plugin arguments (server/plugin_schema.c): defaults, every type,
 * every refusal with its exact line, and the checks on a plugin's own table. */
#include "cunit_main.h"
#include "plugin_schema.h"

#include <errno.h>
#include <string.h>

static const struct lp_arg table[] = {
    {.name = "on", .type = LP_ARG_BOOL, .def = "yes"},
    {.name = "count", .type = LP_ARG_UNSIGNED, .def = "3", .min = 1, .max = 10},
    {.name = "buf", .type = LP_ARG_SIZE, .def = "4K", .max = 1 << 20},
    {.name = "wait", .type = LP_ARG_DURATION, .def = "250ms", .min = 1000000},
    {.name = "tag", .type = LP_ARG_STRING, .def = "abc", .max = 8},
    {0},
};

static char err[256];
static struct plugin_values v;

static int parse(const char *text)
{
    err[0] = '\0';
    return plugin_schema_parse(table, text, &v, err, sizeof err);
}

static void defaults_fill_every_value(void)
{
    CU_ASSERT_EQUAL_FATAL(parse(""), 0);
    CU_ASSERT_EQUAL(v.n, 5);
    CU_ASSERT_EQUAL(v.v[0].b, 1);
    CU_ASSERT_EQUAL(v.v[1].u, 3);
    CU_ASSERT_EQUAL(v.v[2].u, 4096);
    CU_ASSERT_EQUAL(v.v[3].u, 250000000ull);
    CU_ASSERT_STRING_EQUAL(v.v[4].s, "abc");
    plugin_schema_free(&v);
}

static void every_type_parses(void)
{
    CU_ASSERT_EQUAL_FATAL(parse("tag=x y,on=off,wait=2,buf=1MiB,count=10"), 0);
    CU_ASSERT_EQUAL(v.v[0].b, 0);
    CU_ASSERT_EQUAL(v.v[1].u, 10);
    CU_ASSERT_EQUAL(v.v[2].u, 1 << 20);
    CU_ASSERT_EQUAL(v.v[3].u, 2000000000ull);
    CU_ASSERT_STRING_EQUAL(v.v[4].s, "x y");
    plugin_schema_free(&v);
    CU_ASSERT_EQUAL_FATAL(parse("tag="), 0); /* min 0: empty is a value */
    CU_ASSERT_STRING_EQUAL(v.v[4].s, "");
    plugin_schema_free(&v);
}

static void refusals_name_key_and_what_is_accepted(void)
{
    static const char *cases[][2] = {
        {"bogus=1", "unknown argument 'bogus' (accepted: on, count, buf, wait, tag)"},
        {"count=1,count=2", "argument 'count' given twice"},
        {"count", "expected KEY=VALUE, got 'count'"},
        {"=3", "expected KEY=VALUE, got '=3'"},
        {"count=2,", "expected KEY=VALUE after the last ','"},
        {"on=2", "on=2: expected a bool (1/0, true/false, yes/no, on/off)"},
        {"count=0", "count=0: expected a whole number from 1 to 10"},
        {"count=11", "count=11: expected a whole number from 1 to 10"},
        {"count=-1", "count=-1: expected a whole number from 1 to 10"},
        {"buf=2M", "buf=2M: expected a size from 0 to 1048576 bytes (K, M, G, T suffixes)"},
        {"buf=1Q", "buf=1Q: expected a size from 0 to 1048576 bytes (K, M, G, T suffixes)"},
        {"wait=0.5ms", "wait=0.5ms: expected a duration from 0.001 to 1000000000 s (e.g. 2, "
                       "0.5, 1500ms)"},
        {"tag=123456789", "tag=123456789: expected 0 to 8 bytes without ',' or newline"},
        {"tag=a\nb", "tag=a?b: expected 0 to 8 bytes without ',' or newline"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CU_ASSERT_EQUAL(parse(cases[i][0]), -EINVAL);
        if (strcmp(err, cases[i][1]) != 0) {
            fprintf(stderr, "\n  %s -> %s\n", cases[i][0], err);
            CU_FAIL("wrong refusal line");
        }
        CU_ASSERT_PTR_NULL(v.v); /* nothing left to free after a refusal */
    }
}

static void empty_table_refuses_every_argument(void)
{
    static const struct lp_arg none[] = {{0}};
    CU_ASSERT_EQUAL(plugin_schema_parse(none, "x=1", &v, err, sizeof err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "unknown argument 'x' (accepted: none)");
    CU_ASSERT_EQUAL_FATAL(plugin_schema_parse(none, "", &v, err, sizeof err), 0);
    CU_ASSERT_EQUAL(v.n, 0);
    plugin_schema_free(&v);
}

static void a_bad_table_is_refused(void)
{
    struct {
        struct lp_arg a[3];
        const char *line;
    } cases[] = {
        {{{.name = "Big", .type = LP_ARG_BOOL}}, "argument 'Big': name must be 1-32 of [a-z0-9_-]"},
        {{{.name = "x", .type = 9}}, "argument 'x': unknown type 9"},
        {{{.name = "x", .type = LP_ARG_UNSIGNED, .min = 5, .max = 2}},
         "argument 'x': min above max"},
        {{{.name = "x", .type = LP_ARG_UNSIGNED, .def = "99", .max = 10}},
         "argument 'x': default '99' is not a whole number from 0 to 10"},
        {{{.name = "x", .type = LP_ARG_STRING, .min = 1}},
         "argument 'x': default '' is not 1 to any bytes without ',' or newline"},
        {{{.name = "x", .type = LP_ARG_BOOL}, {.name = "x", .type = LP_ARG_BOOL}},
         "argument 'x' declared twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CU_ASSERT_EQUAL(plugin_schema_check(cases[i].a, err, sizeof err), -EINVAL);
        if (strcmp(err, cases[i].line) != 0) {
            fprintf(stderr, "\n  case %zu -> %s\n", i, err);
            CU_FAIL("wrong table refusal line");
        }
    }
    CU_ASSERT_EQUAL(plugin_schema_check(table, err, sizeof err), 0);
    CU_ASSERT_EQUAL(plugin_schema_check(NULL, err, sizeof err), 0);
}

static CU_TestInfo schema_tests[] = {
    {"defaults_fill_every_value", defaults_fill_every_value},
    {"every_type_parses", every_type_parses},
    {"refusals_name_key_and_what_is_accepted", refusals_name_key_and_what_is_accepted},
    {"empty_table_refuses_every_argument", empty_table_refuses_every_argument},
    {"a_bad_table_is_refused", a_bad_table_is_refused},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "plugin_schema", .pTests = schema_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

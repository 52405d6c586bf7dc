/* Unit tests of the option-table module (server/opt.c) on a table of its own: each type with
 * its limits, scopes, optional values, lists replaced by a later source, config-file lines,
 * and the generated help. */
#include "cunit_main.h"
#include "opt.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct dest {
    unsigned n;
    uint64_t big;
    size_t bytes;
    double secs;
    uint16_t port;
    int flag;
    char *name;
    int items;    /* how many list entries */
    int cleared;  /* times the list was emptied */
    int optional; /* 1: given bare, 2: given with a value */
};

static int add_item(void *base, const char *v, char *err, size_t errlen)
{
    (void)v, (void)err, (void)errlen;
    ((struct dest *)base)->items++;
    return 0;
}

static void clear_items(void *base)
{
    ((struct dest *)base)->items = 0;
    ((struct dest *)base)->cleared++;
}

static int set_optional(void *base, const char *v, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    ((struct dest *)base)->optional = v ? 2 : 1;
    return 0;
}

#define F(f) offsetof(struct dest, f)
static const struct opt opts[] = {
    {.name = "n",
     .short_name = 'n',
     .metavar = "N",
     .type = OPT_UINT,
     .min = 2,
     .max = 9,
     .offset = F(n),
     .def = "3",
     .help = "a count"},
    {.name = "big",
     .metavar = "N",
     .type = OPT_U64,
     .offset = F(big),
     .def = "0",
     .help = "a big count",
     .scope = 1},
    {.name = "bytes",
     .metavar = "B",
     .type = OPT_SIZE,
     .min = 1024,
     .offset = F(bytes),
     .def = "1M",
     .help = "a size",
     .scope = 2},
    {.name = "secs",
     .metavar = "S",
     .type = OPT_SECONDS,
     .min = 1,
     .offset = F(secs),
     .def = "2",
     .help = "seconds"},
    {.name = "port",
     .metavar = "P",
     .type = OPT_PORT,
     .min = 1,
     .offset = F(port),
     .def = "80",
     .help = "a port"},
    {.name = "flag", .short_name = 'f', .type = OPT_FLAG, .offset = F(flag), .help = "a flag"},
    {.name = "name",
     .metavar = "TEXT",
     .type = OPT_STRING,
     .offset = F(name),
     .def = "x",
     .help = "a string"},
    {.name = "item",
     .metavar = "V",
     .type = OPT_FUNC,
     .flags = OPT_REPEAT,
     .apply = add_item,
     .clear = clear_items,
     .def_note = "none",
     .help = "a list, with a help text long enough to need wrapping at the width of one hundred "
             "columns, and then some more words"},
    {.name = "maybe",
     .metavar = "V",
     .type = OPT_FUNC,
     .flags = OPT_OPTIONAL,
     .apply = set_optional,
     .def_note = "off",
     .help = "an optional value"},
    {.name = "cli-only", .type = OPT_FLAG, .flags = OPT_CLI, .offset = F(flag), .help = "x"},
};

struct run {
    const struct opt_table *t;
    struct dest *d;
    char err[256];
};

static int visit(void *ctx, const struct opt *o, const char *value)
{
    struct run *r = ctx;
    return opt_apply(r->t, o, r->d, value, OPT_SRC_CLI, NULL, r->err, sizeof r->err);
}

static void types_limits_and_defaults(void)
{
    struct opt_table t = OPT_TABLE(opts);
    struct dest d = {0};
    char err[256];
    CU_ASSERT_EQUAL_FATAL(opt_defaults(&t, &d, err, sizeof err), 0);
    CU_ASSERT(d.n == 3 && d.bytes == 1u << 20 && d.secs == 2.0 && d.port == 80);
    CU_ASSERT_STRING_EQUAL(d.name, "x");
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[0], &d, "10", OPT_SRC_CLI, NULL, err, sizeof err), -ERANGE);
    CU_ASSERT_STRING_EQUAL(err, "--n 10: expected a whole number from 2 to 9");
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[0], &d, "x", OPT_SRC_FILE, NULL, err, sizeof err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "n x: expected a whole number from 2 to 9");
    CU_ASSERT_EQUAL(d.n, 3); /* untouched by refusals */
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[2], &d, "1000", OPT_SRC_CLI, NULL, err, sizeof err),
                    -ERANGE);
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[3], &d, "0", OPT_SRC_CLI, NULL, err, sizeof err), -ERANGE);
    CU_ASSERT_STRING_EQUAL(err, "--secs 0: expected seconds above 0 (e.g. 2, 0.5, 1500ms)");
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[3], &d, "250ms", OPT_SRC_CLI, NULL, err, sizeof err), 0);
    CU_ASSERT_DOUBLE_EQUAL(d.secs, 0.25, 1e-12);
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[4], &d, "0", OPT_SRC_CLI, NULL, err, sizeof err), -ERANGE);
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[4], &d, "65536", OPT_SRC_CLI, NULL, err, sizeof err),
                    -ERANGE);
    CU_ASSERT_EQUAL(
        opt_apply(&t, &opts[1], &d, "18446744073709551616", OPT_SRC_CLI, NULL, err, sizeof err),
        -ERANGE);
    CU_ASSERT_EQUAL(opt_apply(&t, &opts[6], &d, "y", OPT_SRC_CLI, NULL, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(d.name, "y");
    opt_free_strings(&t, &d);
    CU_ASSERT_PTR_NULL(d.name);
}

/* Entries outside the table's scope are neither options nor directives. */
static void scope_hides_entries(void)
{
    struct opt_table t = OPT_TABLE(opts);
    t.scope = 1;
    CU_ASSERT_PTR_NOT_NULL(opt_find(&t, "big", 3));
    CU_ASSERT_PTR_NULL(opt_find(&t, "bytes", 5));
    CU_ASSERT_PTR_NOT_NULL(opt_find(&t, "n", 1)); /* scope 0: everywhere */
    struct dest d = {0};
    char err[256];
    static const char text[] = "bytes 2K\n";
    CU_ASSERT_EQUAL(opt_parse_text(&t, &d, "f", text, sizeof text - 1, NULL, err, sizeof err),
                    -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "f:1: unknown directive 'bytes'");
}

/* A later source's first entry of a list replaces the earlier source's list; more entries of
 * the same source add. */
static void later_source_replaces_a_list(void)
{
    struct opt_table t = OPT_TABLE(opts);
    unsigned char src[sizeof opts / sizeof opts[0]] = {0};
    struct opt_state st = {src, t.n};
    struct dest d = {0};
    char err[256];
    static const char text[] = "item a\n  item b\n# item c\n\nflag\n";
    CU_ASSERT_EQUAL(opt_parse_text(&t, &d, "f", text, sizeof text - 1, &st, err, sizeof err), 0);
    CU_ASSERT_EQUAL(d.items, 2);
    CU_ASSERT_EQUAL(d.flag, 1);
    const struct opt *item = opt_find(&t, "item", 4);
    CU_ASSERT_EQUAL(opt_apply(&t, item, &d, "c", OPT_SRC_CLI, &st, err, sizeof err), 0);
    CU_ASSERT_EQUAL(opt_apply(&t, item, &d, "d", OPT_SRC_CLI, &st, err, sizeof err), 0);
    CU_ASSERT_EQUAL(d.items, 2);
    CU_ASSERT_EQUAL(d.cleared, 2); /* once for the default source, once for the file's */
    static const char cli[] = "cli-only\n";
    CU_ASSERT_EQUAL(opt_parse_text(&t, &d, "f", cli, sizeof cli - 1, &st, err, sizeof err),
                    -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "f:1: unknown directive 'cli-only' (command line only)");
}

/* getopt from the table: short and long names, an optional value only as --name=VALUE. */
static void getopt_from_the_table(void)
{
    struct opt_table t = OPT_TABLE(opts);
    struct dest d = {0};
    char err[256];
    struct run r = {&t, &d, ""};
    char *argv[] = {"prog", "-n", "5", "-f", "--maybe", "word", "--secs=1500ms", NULL};
    int first = 0;
    CU_ASSERT_EQUAL(opt_getopt(&t, 7, argv, visit, &r, &first, err, sizeof err), 0);
    CU_ASSERT(d.n == 5 && d.flag == 1 && d.optional == 1 && d.secs == 1.5);
    CU_ASSERT_STRING_EQUAL(argv[first], "word");
    char *argv2[] = {"prog", "--maybe=v", "--bogus", NULL};
    CU_ASSERT_EQUAL(opt_getopt(&t, 3, argv2, visit, &r, &first, err, sizeof err), -EINVAL);
    CU_ASSERT_EQUAL(d.optional, 2);
    CU_ASSERT_STRING_EQUAL(err, "unknown option '--bogus'");
    char *argv3[] = {"prog", "-n", NULL};
    CU_ASSERT_EQUAL(opt_getopt(&t, 2, argv3, visit, &r, &first, err, sizeof err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "option '-n' needs a value");
}

/* --help: every entry, its default, lines within 100 columns. */
static void usage_lists_and_wraps(void)
{
    struct opt_table t = OPT_TABLE(opts);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    opt_usage(out, &t);
    fclose(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "  -n, --n N               a count (default: 3)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "      --maybe[=V]         an optional value"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "(default: none)"));
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        CU_ASSERT(strlen(line) <= 100);
    free(text);
}

static CU_TestInfo opt_tests[] = {
    {"types_limits_and_defaults", types_limits_and_defaults},
    {"scope_hides_entries", scope_hides_entries},
    {"later_source_replaces_a_list", later_source_replaces_a_list},
    {"getopt_from_the_table", getopt_from_the_table},
    {"usage_lists_and_wraps", usage_lists_and_wraps},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "opt", .pTests = opt_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

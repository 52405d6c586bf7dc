/* Unit tests of stream's answer collector: the rate-meter's figures are found whatever way the
 * answer is split across reads; only the last lines are kept; long lines are cut, counted. */
#include "answer.h"
#include "cunit_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rate_meter[] = "Processed 50,000,002 bytes in 2,412 chunks.\n"
                                 "Total time: 0.123 seconds.\n"
                                 "Data rate: 406,504,081 bytes/second.\n"
                                 "Message rate: 8,130,097 messages/second.\n";

static void figures_found_at_every_split(void)
{
    size_t n = strlen(rate_meter);
    struct answer *a = malloc(sizeof *a);
    CU_ASSERT_FATAL(a != NULL);
    for (size_t cut = 0; cut <= n; cut++) {
        answer_init(a);
        answer_feed(a, rate_meter, cut);
        answer_feed(a, rate_meter + cut, n - cut);
        answer_finish(a);
        CU_ASSERT_EQUAL(a->has_processed, 1);
        CU_ASSERT_EQUAL(a->processed_bytes, 50000002);
        CU_ASSERT_EQUAL(a->processed_chunks, 2412);
        CU_ASSERT_EQUAL(a->has_time, 1);
        CU_ASSERT_DOUBLE_EQUAL(a->seconds, 0.123, 1e-12);
        CU_ASSERT_EQUAL(a->has_rate, 1);
        CU_ASSERT_EQUAL(a->rate, 406504081);
        CU_ASSERT_EQUAL(a->nlines, 4);
        CU_ASSERT_EQUAL(a->bytes, n);
        CU_ASSERT_STRING_EQUAL(answer_line(a, 2), "Data rate: 406,504,081 bytes/second.");
    }
    free(a);
}

static void crlf_and_unterminated_last_line(void)
{
    struct answer a;
    answer_init(&a);
    answer_feed(&a, "Processed 7 bytes in 1 chunks.\r\nTotal time: 2 seconds.", 55);
    CU_ASSERT_EQUAL(a.nlines, 1);
    CU_ASSERT_EQUAL(a.has_time, 0);
    answer_finish(&a);
    CU_ASSERT_EQUAL(a.nlines, 2);
    CU_ASSERT_STRING_EQUAL(answer_line(&a, 0), "Processed 7 bytes in 1 chunks.");
    CU_ASSERT_EQUAL(a.processed_bytes, 7);
    CU_ASSERT_EQUAL(a.has_time, 1);
    CU_ASSERT_DOUBLE_EQUAL(a.seconds, 2.0, 1e-12);
}

static void other_answers_have_no_figures(void)
{
    struct answer a;
    answer_init(&a);
    const char *in = "count messages=1000001 bytes=50000002\n"
                     "Processed lots bytes in 3 chunks.\n"
                     "Total time: soon seconds.\n"
                     "Data rate: fast bytes/second.\n";
    answer_feed(&a, in, strlen(in));
    answer_finish(&a);
    CU_ASSERT_EQUAL(a.nlines, 4);
    CU_ASSERT_EQUAL(a.has_processed, 0);
    CU_ASSERT_EQUAL(a.has_time, 0);
    CU_ASSERT_EQUAL(a.has_rate, 0);
    CU_ASSERT_STRING_EQUAL(answer_line(&a, 0), "count messages=1000001 bytes=50000002");
}

static void keeps_only_the_last_lines(void)
{
    struct answer *a = malloc(sizeof *a);
    CU_ASSERT_FATAL(a != NULL);
    answer_init(a);
    char line[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(line, sizeof line, "line %d\n", i);
        answer_feed(a, line, (size_t)n);
    }
    answer_finish(a);
    CU_ASSERT_EQUAL(a->nlines, 1000);
    CU_ASSERT_EQUAL(answer_kept(a), ANSWER_KEEP);
    CU_ASSERT_STRING_EQUAL(answer_line(a, 0), "line 984");
    CU_ASSERT_STRING_EQUAL(answer_line(a, ANSWER_KEEP - 1), "line 999");
    free(a);
}

static void long_lines_are_cut_but_counted(void)
{
    struct answer *a = malloc(sizeof *a);
    CU_ASSERT_FATAL(a != NULL);
    answer_init(a);
    size_t n = 300000;
    char *big = malloc(n + 1);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'X', n);
    big[n] = '\n';
    answer_feed(a, big, n + 1);
    answer_feed(a, "ok\n", 3);
    CU_ASSERT_EQUAL(a->nlines, 2);
    CU_ASSERT_EQUAL(a->bytes, n + 4);
    CU_ASSERT_EQUAL(strlen(answer_line(a, 0)), ANSWER_LINE_MAX);
    CU_ASSERT_STRING_EQUAL(answer_line(a, 1), "ok");
    free(big);
    free(a);
}

static void counts_with_and_without_separators(void)
{
    uint64_t v;
    CU_ASSERT_EQUAL(answer_parse_count("50,000,002", 10, &v), 0);
    CU_ASSERT_EQUAL(v, 50000002);
    CU_ASSERT_EQUAL(answer_parse_count("2412", 4, &v), 0);
    CU_ASSERT_EQUAL(v, 2412);
    CU_ASSERT_EQUAL(answer_parse_count(",5", 2, &v), -EINVAL);
    CU_ASSERT_EQUAL(answer_parse_count("", 0, &v), -EINVAL);
    CU_ASSERT_EQUAL(answer_parse_count("12a", 3, &v), -EINVAL);
    CU_ASSERT_EQUAL(answer_parse_count("99999999999999999999999", 23, &v), -EINVAL);
}

static CU_TestInfo answer_tests[] = {
    {"figures_found_at_every_split", figures_found_at_every_split},
    {"crlf_and_unterminated_last_line", crlf_and_unterminated_last_line},
    {"other_answers_have_no_figures", other_answers_have_no_figures},
    {"keeps_only_the_last_lines", keeps_only_the_last_lines},
    {"long_lines_are_cut_but_counted", long_lines_are_cut_but_counted},
    {"counts_with_and_without_separators", counts_with_and_without_separators},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "client_answer", .pTests = answer_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

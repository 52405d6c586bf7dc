/* Unit tests of the per-command statistics: per-second sparse histograms equal what was
 * recorded in each second, the seconds add up to the whole run, and a merge of two equals
 * one cmdstat that recorded everything. */
#include "cmdstat.h"
#include "cunit_main.h"

#include <stdlib.h>
#include <string.h>

static uint64_t next(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 20;
}

/* Records n values spread over secs seconds into a (and into b when not NULL). */
static void feed(struct cmdstat *a, struct cmdstat *b, uint64_t seed, int n, int secs)
{
    for (int i = 0; i < n; i++) {
        uint64_t sec = (uint64_t)i * (uint64_t)secs / (uint64_t)n;
        uint64_t v = next(&seed) % 50000000, u = v / 2;
        cmdstat_record(a, sec, v, u);
        cmdstat_bytes(a, sec, 7, 5);
        if (b) {
            cmdstat_record(b, sec, v, u);
            cmdstat_bytes(b, sec, 7, 5);
        }
    }
}

static int same(const struct histogram *x, const struct histogram *y)
{
    return x->count == y->count && x->min == y->min && x->max == y->max && x->sum == y->sum &&
           memcmp(x->buckets, y->buckets, sizeof x->buckets) == 0;
}

static void seconds_add_up_to_the_whole_run(void)
{
    struct cmdstat s;
    CU_ASSERT_FATAL(cmdstat_init(&s, 1) == 0);
    feed(&s, NULL, 1, 30000, 5);
    cmdstat_roll(&s, 8); /* an idle gap, then one more value */
    cmdstat_record(&s, 8, 1000, 900);
    cmdstat_finish(&s);
    CU_ASSERT_EQUAL(s.nsecs, 9);
    struct histogram *sum = malloc(sizeof *sum), *one = malloc(sizeof *one);
    CU_ASSERT_FATAL(sum && one);
    for (int k = 0; k < CMDSTAT_KINDS; k++) {
        histogram_reset(sum);
        for (size_t i = 0; i < s.nsecs; i++) {
            cmdstat_second_histogram(&s, i, k, one);
            histogram_merge(sum, one);
        }
        CU_ASSERT(same(sum, s.whole[k]));
    }
    CU_ASSERT_EQUAL(s.secs[0].count[0], 6000);
    CU_ASSERT_EQUAL(s.secs[6].count[0], 0);
    CU_ASSERT_EQUAL(s.secs[8].count[1], 1);
    CU_ASSERT_EQUAL(s.secs[8].max[1], 900);
    CU_ASSERT_EQUAL(s.secs[2].bytes_in, 6000 * 7);
    CU_ASSERT_EQUAL(s.bytes_out, 30000 * 5);
    free(sum);
    free(one);
    cmdstat_free(&s);
}

static void merge_equals_one_that_saw_everything(void)
{
    struct cmdstat a, b, all;
    CU_ASSERT_FATAL(cmdstat_init(&a, 1) == 0 && cmdstat_init(&b, 1) == 0);
    CU_ASSERT_FATAL(cmdstat_init(&all, 1) == 0);
    feed(&a, &all, 1, 20000, 4);
    feed(&b, &all, 2, 9000, 3);
    cmdstat_finish(&a);
    cmdstat_finish(&b);
    cmdstat_finish(&all);
    struct cmdstat m;
    CU_ASSERT_FATAL(cmdstat_init(&m, 1) == 0);
    CU_ASSERT_EQUAL(cmdstat_merge(&m, &a), 0);
    CU_ASSERT_EQUAL(cmdstat_merge(&m, &b), 0);
    CU_ASSERT_EQUAL(m.nsecs, all.nsecs);
    struct histogram *x = malloc(sizeof *x), *y = malloc(sizeof *y);
    CU_ASSERT_FATAL(x && y);
    for (int k = 0; k < CMDSTAT_KINDS; k++) {
        CU_ASSERT(same(m.whole[k], all.whole[k]));
        for (size_t i = 0; i < all.nsecs; i++) {
            cmdstat_second_histogram(&m, i, k, x);
            cmdstat_second_histogram(&all, i, k, y);
            CU_ASSERT(same(x, y));
            CU_ASSERT_EQUAL(histogram_percentile(x, 99.9), histogram_percentile(y, 99.9));
        }
    }
    CU_ASSERT_EQUAL(m.secs[1].bytes_in, all.secs[1].bytes_in);
    free(x);
    free(y);
    cmdstat_free(&a);
    cmdstat_free(&b);
    cmdstat_free(&all);
    cmdstat_free(&m);
}

static void closed_loop_keeps_one_kind(void)
{
    struct cmdstat s;
    CU_ASSERT_FATAL(cmdstat_init(&s, 0) == 0);
    cmdstat_record(&s, 0, 10, 5);
    cmdstat_finish(&s);
    CU_ASSERT_EQUAL(s.whole[0]->count, 1);
    CU_ASSERT_EQUAL(s.whole[1]->count, 0);
    cmdstat_free(&s);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"seconds_add_up_to_the_whole_run", seconds_add_up_to_the_whole_run},
        {"merge_equals_one_that_saw_everything", merge_equals_one_that_saw_everything},
        {"closed_loop_keeps_one_kind", closed_loop_keeps_one_kind},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{.pName = "client_cmdstat", .pTests = tests}, CU_SUITE_INFO_NULL};
    return cunit_run(suites);
}

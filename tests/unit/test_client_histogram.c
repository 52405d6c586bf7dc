/* Unit tests of the client's latency histogram: exact percentiles on known data, the 1%
 * relative-error bound over the whole 64-bit range, bucket arithmetic, merge. */
#include "cunit_main.h"
#include "histogram.h"

#include <stdlib.h>
#include <string.h>

static struct histogram *fresh(void)
{
    struct histogram *h = malloc(sizeof *h);
    CU_ASSERT_FATAL(h != NULL);
    histogram_reset(h);
    return h;
}

static void empty_reports_zero(void)
{
    struct histogram *h = fresh();
    CU_ASSERT_EQUAL(h->count, 0);
    CU_ASSERT_EQUAL(histogram_percentile(h, 50), 0);
    CU_ASSERT_EQUAL(histogram_percentile(h, 0), 0);
    CU_ASSERT_EQUAL(histogram_percentile(h, 100), 0);
    CU_ASSERT_DOUBLE_EQUAL(histogram_mean(h), 0.0, 1e-12);
    free(h);
}

/* 1..100 lies in the exact range: every percentile is the textbook value. */
static void exact_percentiles_of_1_to_100(void)
{
    struct histogram *h = fresh();
    for (uint64_t v = 100; v >= 1; v--) /* order must not matter */
        histogram_record(h, v);
    CU_ASSERT_EQUAL(h->count, 100);
    CU_ASSERT_EQUAL(histogram_percentile(h, 0), 1);
    CU_ASSERT_EQUAL(histogram_percentile(h, 1), 1);
    CU_ASSERT_EQUAL(histogram_percentile(h, 50), 50);
    CU_ASSERT_EQUAL(histogram_percentile(h, 90), 90);
    CU_ASSERT_EQUAL(histogram_percentile(h, 99), 99);
    CU_ASSERT_EQUAL(histogram_percentile(h, 99.9), 100);
    CU_ASSERT_EQUAL(histogram_percentile(h, 100), 100);
    CU_ASSERT_EQUAL(h->min, 1);
    CU_ASSERT_EQUAL(h->max, 100);
    CU_ASSERT_DOUBLE_EQUAL(histogram_mean(h), 50.5, 1e-12);
    free(h);
}

/* Skewed known data: 990 values of 10 and 10 of 120: p99 is 10, p99.9 is 120. Also checks
 * that 99.9% of 1000 is rank 999, not 1000 through float noise. */
static void exact_percentiles_of_skewed_data(void)
{
    struct histogram *h = fresh();
    for (int i = 0; i < 990; i++)
        histogram_record(h, 10);
    for (int i = 0; i < 9; i++)
        histogram_record(h, 120);
    histogram_record(h, 127);
    CU_ASSERT_EQUAL(histogram_percentile(h, 50), 10);
    CU_ASSERT_EQUAL(histogram_percentile(h, 99), 10);
    CU_ASSERT_EQUAL(histogram_percentile(h, 99.1), 120);
    CU_ASSERT_EQUAL(histogram_percentile(h, 99.9), 120);
    CU_ASSERT_EQUAL(histogram_percentile(h, 100), 127);
    free(h);
}

/* min and max are exact even where buckets are wide. */
static void min_and_max_are_exact(void)
{
    struct histogram *h = fresh();
    histogram_record(h, 1000003);
    histogram_record(h, 123456789012ull);
    CU_ASSERT_EQUAL(histogram_percentile(h, 0), 1000003);
    CU_ASSERT_EQUAL(histogram_percentile(h, 100), 123456789012ull);
    uint64_t mid = histogram_percentile(h, 50); /* a bucket's middle, not clamped here */
    CU_ASSERT(mid >= 1000003 && mid - 1000003 <= 1000003 / 256);
    histogram_record(h, 1000003);
    histogram_record(h, 1000003);
    CU_ASSERT(histogram_percentile(h, 1) >= 1000003); /* never below the exact min */
    free(h);
}

static void check_error(uint64_t v)
{
    static struct histogram h;
    static int ready;
    if (!ready) {
        histogram_reset(&h);
        ready = 1;
    }
    if (v == 0)
        return;
    /* a smaller and a larger value around v, so the min/max clamp cannot hide an error */
    histogram_record(&h, 0);
    histogram_record(&h, v);
    histogram_record(&h, UINT64_MAX);
    uint64_t got = histogram_percentile(&h, 50);
    double rel = got > v ? (double)(got - v) / (double)v : (double)(v - got) / (double)v;
    CU_ASSERT(rel <= 0.01);
    CU_ASSERT(rel <= 1.0 / (2 * HISTOGRAM_SUB) + 1e-12); /* the designed bound, 0.39% */
    if (rel > 0.01)
        fprintf(stderr, "\n  value %llu reported as %llu\n", (unsigned long long)v,
                (unsigned long long)got);
    /* empty it again by hand: a full reset per value would clear 58 KB 350,000 times */
    h.buckets[histogram_index(0)] = h.buckets[histogram_index(v)] = 0;
    h.buckets[histogram_index(UINT64_MAX)] = 0;
    h.count = h.sum = h.max = 0;
    h.min = UINT64_MAX;
}

/* Every value from 1 ns to hours, and around every power of two, is within 1%. */
static void error_bound_holds_over_wide_range(void)
{
    for (uint64_t v = 1; v < 100000; v++)
        check_error(v);
    for (int e = 7; e < 63; e++) {
        uint64_t p = 1ull << e;
        for (uint64_t d = 0; d < 300; d++) {
            check_error(p + d);
            check_error(p - d);
            check_error(p + p / 2 + d);
        }
    }
    /* a pseudo-random sweep (xorshift) across the 64-bit range */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_error((x >> (x % 60)) | 1);
    }
}

/* Buckets tile the number line: each starts where the previous ends, and index() agrees. */
static void buckets_are_contiguous(void)
{
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        uint64_t lo = histogram_bucket_low(i), w = histogram_bucket_width(i);
        CU_ASSERT_EQUAL(histogram_index(lo), i);
        CU_ASSERT_EQUAL(histogram_index(lo + (w - 1)), i);
        if (i + 1 < HISTOGRAM_BUCKETS)
            CU_ASSERT_EQUAL(histogram_bucket_low(i + 1), lo + w);
    }
    CU_ASSERT_EQUAL(histogram_index(UINT64_MAX), HISTOGRAM_BUCKETS - 1);
    CU_ASSERT_EQUAL(histogram_index(0), 0);
}

static void sum_saturates(void)
{
    struct histogram *h = fresh();
    histogram_record(h, UINT64_MAX);
    histogram_record(h, UINT64_MAX);
    CU_ASSERT_EQUAL(h->sum, UINT64_MAX);
    CU_ASSERT_EQUAL(h->count, 2);
    free(h);
}

/* Merging per-thread histograms equals recording everything in one. */
static void merge_equals_recording_all(void)
{
    struct histogram *a = fresh(), *b = fresh(), *all = fresh(), *empty = fresh();
    for (uint64_t v = 1; v <= 50000; v++) {
        uint64_t x = v * v % 1000003 * 997;
        histogram_record(v % 3 ? a : b, x);
        histogram_record(all, x);
    }
    histogram_merge(a, b);
    histogram_merge(a, empty); /* an idle thread changes nothing */
    CU_ASSERT_EQUAL(a->count, all->count);
    CU_ASSERT_EQUAL(a->sum, all->sum);
    CU_ASSERT_EQUAL(a->min, all->min);
    CU_ASSERT_EQUAL(a->max, all->max);
    CU_ASSERT_EQUAL(memcmp(a->buckets, all->buckets, sizeof a->buckets), 0);
    static const double ps[] = {0, 50, 90, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        CU_ASSERT_EQUAL(histogram_percentile(a, ps[i]), histogram_percentile(all, ps[i]));
    histogram_merge(empty, all); /* into an empty one: min comes from src */
    CU_ASSERT_EQUAL(empty->min, all->min);
    free(a);
    free(b);
    free(all);
    free(empty);
}

/* Percentiles never decrease with p. */
static void percentiles_are_monotonic(void)
{
    struct histogram *h = fresh();
    uint64_t x = 12345;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        histogram_record(h, (x >> 40) % 50000000);
    }
    uint64_t prev = 0;
    for (double p = 0; p <= 100; p += 0.1) {
        uint64_t v = histogram_percentile(h, p);
        CU_ASSERT(v >= prev);
        prev = v;
    }
    free(h);
}

static CU_TestInfo histogram_tests[] = {
    {"empty_reports_zero", empty_reports_zero},
    {"exact_percentiles_of_1_to_100", exact_percentiles_of_1_to_100},
    {"exact_percentiles_of_skewed_data", exact_percentiles_of_skewed_data},
    {"min_and_max_are_exact", min_and_max_are_exact},
    {"error_bound_holds_over_wide_range", error_bound_holds_over_wide_range},
    {"buckets_are_contiguous", buckets_are_contiguous},
    {"sum_saturates", sum_saturates},
    {"merge_equals_recording_all", merge_equals_recording_all},
    {"percentiles_are_monotonic", percentiles_are_monotonic},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "client_histogram", .pTests = histogram_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

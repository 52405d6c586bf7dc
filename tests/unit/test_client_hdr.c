/* Unit tests of the HdrHistogram V2 codec: round trips of linepool's histograms, decoding of
 * strings written by HdrHistogram_c and HdrHistogram Java to counts derived independently
 * here, and clear errors (never a crash) on corrupt input. */
#include "base64.h"
#include "cunit_main.h"
#include "hdr.h"
#include "hlog.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* HdrHistogram_c's "standard Hdr test histogram" and its corrected twin, as encoded by
 * HdrHistogram_c's own tests and kept as interop fixtures in HdrHistogram_py
 * (test/test_hdrhistogram.py, ENCODE_SAMPLES_HDRHISTOGRAM_C). load_histogram() there is
 * hdr_init(1, 3600000000, 3), then 10,000 x record(1000) and one record(100000000); the
 * corrected one uses hdr_record_corrected_value(.., 10000) for the same values. */
static const char c_raw[] = "HISTFAAAACl4nJNpmSzMwMBgyAABzFCaEURcm7yEwf4DROA8/4I5jNM7mJgAlWkH9g==";
static const char c_corrected[] =
    "HISTFAAAAP94nJNpmSzMwCByigECmKE0I4i4NnkJg/0HiMB5/gVzGD8aM/3lZ7rPyTSbjektC9N7Fqa"
    "HzEzbmZi2whCEvZKRaSYj02wwiYng4tFM3lDoC2dhhwh5UyZlJlUMjClCmgpMEUUmQSZ+IBZEojFFCM"
    "vQRwUxenmZ2MGQFUqz4+CTo4I2pg4dFdQylZWJkYkZCaPyMEUIydPLjMHrssFixuB12XD0HRAwMsFJg"
    "kwilZHJHHKmjzp41MFDOjhYmFiQEUEmMWqGsvKBd8Fwd/Co/waTC9jYOMAIiSJRhLbKh5x9Q87Bo/YN"
    "bfsoM4CPhw+IIJAkxnDXN+QcTIpyAPnGh6k=";
/* HdrHistogram Java (commit de84b0a) output, quoted as foreign-writer fixtures in a Go
 * port's tests: PackedHistogram(1, 1000, 0).recordValue(100), and (1, 2048, 3) with
 * recordValue(2048) (byte-identical from Java and C). */
static const char java_zero_digits[] = "HISTFAAAAB14nJNpmSzMwMDAxIAKGCEU8wv7DxAWLxMASToDcw==";
static const char java_2048[] = "HISTFAAAACB4nJNpmSzMwMDAzAABMJoRQnEw2H+AsP7LMwEARZgDpQ==";

/* An interval-log line as HdrHistogram's writers format it, quoted in HdrHistogramJS's
 * HistogramLogReader tests (a jHiccup-style histogram: lowest 20,000, 2 digits, ns). Its
 * counts cannot be derived, but the writer's own Interval_Max column (max / 1e6, "%.3f")
 * must agree with the decoded histogram's highest value. */
static const char foreign_hlog_line[] =
    "Tag=NOT-EMPTY,0.127,1.007,2.769,HISTFAAAAEV42pNpmSzMwMCgyAABTBDKT4GBgdnNYMcCBvsPEBEJISEuAT"
    "EZMQ4uASkhIR4nrxg9v2lMaxhvMekILGZkKmcCAEf2CsI=";

static int decode(struct hdr *h, const char *s)
{
    char err[200] = "";
    int rc = hdr_decode(h, s, strlen(s), err, sizeof err);
    if (rc)
        fprintf(stderr, "decode: %s\n", err);
    return rc;
}

/* Compares every count of a with b; returns the number of buckets that differ. */
static unsigned differing(const struct hdr *a, const struct hdr *b)
{
    unsigned n = 0, len = a->len > b->len ? a->len : b->len;
    for (unsigned i = 0; i < len; i++) {
        uint64_t x = i < a->len ? a->counts[i] : 0, y = i < b->len ? b->counts[i] : 0;
        n += x != y;
    }
    return n;
}

static void decodes_hdrhistogram_c_standard_histogram(void)
{
    struct hdr h;
    CU_ASSERT_FATAL(decode(&h, c_raw) == 0);
    CU_ASSERT_EQUAL(h.lowest, 1);
    CU_ASSERT_EQUAL(h.highest, 3600000000LL);
    CU_ASSERT_EQUAL(h.sig, 3);
    CU_ASSERT_EQUAL(h.total, 10001);
    struct hdr want;
    CU_ASSERT_FATAL(hdr_init(&want, 1, 3600000000LL, 3) == 0);
    hdr_record(&want, 1000, 10000);
    hdr_record(&want, 100000000, 1);
    CU_ASSERT_EQUAL(differing(&h, &want), 0);
    /* 1000 is exact at 3 digits; 100000000 lies in a bucket of width 2^16 */
    uint32_t i = hdr_index(&h, 100000000);
    CU_ASSERT_EQUAL(h.counts[hdr_index(&h, 1000)], 10000);
    CU_ASSERT_EQUAL(hdr_value_at(&h, hdr_index(&h, 1000)), 1000);
    CU_ASSERT_EQUAL(h.counts[i], 1);
    CU_ASSERT(hdr_value_at(&h, i) <= 100000000 &&
              100000000 < hdr_value_at(&h, i) + hdr_width_at(&h, i));
    CU_ASSERT_EQUAL(hdr_width_at(&h, i), 65536);
    hdr_free(&h);
    hdr_free(&want);
}

/* record_corrected_value(v, 10000) records v, then v - 10000, v - 20000, ... while >= 10000. */
static void decodes_hdrhistogram_c_corrected_histogram(void)
{
    struct hdr h, want;
    CU_ASSERT_FATAL(decode(&h, c_corrected) == 0);
    CU_ASSERT_FATAL(hdr_init(&want, 1, 3600000000LL, 3) == 0);
    hdr_record(&want, 1000, 10000);
    for (uint64_t v = 100000000; v >= 10000; v -= 10000)
        hdr_record(&want, v, 1);
    CU_ASSERT_EQUAL(h.total, 20000);
    CU_ASSERT_EQUAL(want.total, 20000);
    CU_ASSERT_EQUAL(differing(&h, &want), 0);
    /* and the encoder writes the same counts back */
    char *again = hdr_encode(&want);
    struct hdr back;
    CU_ASSERT_FATAL(again != NULL && decode(&back, again) == 0);
    CU_ASSERT_EQUAL(differing(&back, &h), 0);
    free(again);
    hdr_free(&back);
    hdr_free(&h);
    hdr_free(&want);
}

static void decodes_java_zero_digit_and_boundary_histograms(void)
{
    struct hdr h;
    CU_ASSERT_FATAL(decode(&h, java_zero_digits) == 0);
    CU_ASSERT_EQUAL(h.sig, 0);
    CU_ASSERT_EQUAL(h.highest, 1000);
    CU_ASSERT_EQUAL(h.total, 1);
    uint32_t i = hdr_index(&h, 100);
    CU_ASSERT_EQUAL(h.counts[i], 1);
    CU_ASSERT_EQUAL(hdr_value_at(&h, i), 64); /* 0 digits: one power of two per bucket */
    CU_ASSERT_EQUAL(hdr_width_at(&h, i), 64);
    hdr_free(&h);
    CU_ASSERT_FATAL(decode(&h, java_2048) == 0);
    CU_ASSERT_EQUAL(h.sig, 3);
    CU_ASSERT_EQUAL(h.total, 1);
    CU_ASSERT_EQUAL(h.counts[hdr_index(&h, 2048)], 1);
    CU_ASSERT_EQUAL(hdr_value_at(&h, hdr_index(&h, 2048)), 2048);
    hdr_free(&h);
}

static void decodes_a_foreign_interval_log_line(void)
{
    struct hlog_line l;
    char err[200];
    double start = -1, base = -1;
    CU_ASSERT_EQUAL_FATAL(hlog_parse_line(foreign_hlog_line, strlen(foreign_hlog_line), &l, &start,
                                          &base, err, sizeof err),
                          1);
    CU_ASSERT_STRING_EQUAL(l.tag, "NOT-EMPTY");
    CU_ASSERT_DOUBLE_EQUAL(l.start, 0.127, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(l.length, 1.007, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(l.max, 2.769, 1e-9);
    struct hdr h;
    CU_ASSERT_FATAL(hdr_decode(&h, l.b64, l.b64_len, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(h.lowest, 20000);
    CU_ASSERT_EQUAL(h.highest, 3600000000000LL);
    CU_ASSERT_EQUAL(h.sig, 2);
    CU_ASSERT_EQUAL(h.total, 741);
    uint32_t last = 0;
    for (uint32_t i = 0; i < h.len; i++)
        if (h.counts[i])
            last = i;
    uint64_t max = hdr_value_at(&h, last) + hdr_width_at(&h, last) - 1;
    char shown[32];
    snprintf(shown, sizeof shown, "%.3f", (double)max / 1e6);
    CU_ASSERT_STRING_EQUAL(shown, "2.769"); /* the writer's Interval_Max */
    hdr_free(&h);
}

static void fill(struct histogram *h)
{
    histogram_reset(h);
    uint64_t v = 1;
    for (int i = 0; i < 5000; i++) {
        histogram_record(h, v % 5000000000ull);
        v = v * 6364136223846793005ull + 1442695040888963407ull;
    }
    histogram_record(h, 0);
    histogram_record(h, 127);
    histogram_record(h, 128);
    histogram_record(h, 3600000000000ull);
}

/* linepool's buckets are HdrHistogram's (lowest 1, 2 digits): the round trip is exact. */
static void linepool_histogram_round_trips_exactly(void)
{
    struct histogram *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    CU_ASSERT_FATAL(a && b);
    fill(a);
    struct hdr h, back;
    CU_ASSERT_FATAL(hdr_from_histogram(&h, a) == 0);
    char *s = hdr_encode(&h);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_NSTRING_EQUAL(s, "HISTF", 5);
    CU_ASSERT_FATAL(decode(&back, s) == 0);
    CU_ASSERT_EQUAL(back.lowest, 1);
    CU_ASSERT_EQUAL(back.sig, 2);
    hdr_to_histogram(&back, 1, b);
    CU_ASSERT_EQUAL(b->count, a->count);
    CU_ASSERT_EQUAL(memcmp(a->buckets, b->buckets, sizeof a->buckets), 0);
    for (double p = 0.5; p < 100; p += 0.5) {
        CU_ASSERT_EQUAL(histogram_percentile(a, p), histogram_percentile(b, p));
    }
    /* every index maps the same value in both layouts */
    for (unsigned i = 0; i < h.len && i < HISTOGRAM_BUCKETS; i++) {
        CU_ASSERT_EQUAL(hdr_value_at(&h, i), histogram_bucket_low(i));
        CU_ASSERT_EQUAL(hdr_width_at(&h, i), histogram_bucket_width(i));
    }
    free(s);
    hdr_free(&h);
    hdr_free(&back);
    free(a);
    free(b);
}

static void empty_histogram_round_trips(void)
{
    struct histogram *a = malloc(sizeof *a);
    CU_ASSERT_FATAL(a != NULL);
    histogram_reset(a);
    struct hdr h, back;
    CU_ASSERT_FATAL(hdr_from_histogram(&h, a) == 0);
    char *s = hdr_encode(&h);
    CU_ASSERT_FATAL(s && decode(&back, s) == 0);
    CU_ASSERT_EQUAL(back.total, 0);
    free(s);
    hdr_free(&h);
    hdr_free(&back);
    free(a);
}

/* memtier's form: µs, hdr_init(10, 600000000, 2); each ns bucket at its middle / 1000. */
static void microsecond_form_has_memtier_parameters(void)
{
    struct histogram *a = malloc(sizeof *a);
    CU_ASSERT_FATAL(a != NULL);
    histogram_reset(a);
    for (int i = 0; i < 100; i++)
        histogram_record(a, 250000); /* 250 µs */
    histogram_record(a, 12000000);   /* 12 ms */
    struct hdr h;
    CU_ASSERT_FATAL(hdr_from_histogram_us(&h, a) == 0);
    CU_ASSERT_EQUAL(h.lowest, 10);
    CU_ASSERT_EQUAL(h.highest, 600000000);
    CU_ASSERT_EQUAL(h.total, 101);
    CU_ASSERT_EQUAL(h.counts[hdr_index(&h, 250)], 100);
    CU_ASSERT_EQUAL(h.counts[hdr_index(&h, 12000)], 1);
    hdr_free(&h);
    free(a);
}

static void add_requires_matching_buckets(void)
{
    struct hdr a, b, c;
    CU_ASSERT_FATAL(hdr_init(&a, 1, 1000, 2) == 0);
    CU_ASSERT_FATAL(hdr_init(&b, 1, 1000000, 2) == 0);
    CU_ASSERT_FATAL(hdr_init(&c, 1, 1000, 3) == 0);
    hdr_record(&a, 5, 2);
    hdr_record(&b, 500000, 3);
    CU_ASSERT_EQUAL(hdr_add(&a, &b), 0); /* a grows */
    CU_ASSERT_EQUAL(a.total, 5);
    CU_ASSERT_EQUAL(a.counts[hdr_index(&a, 500000)], 3);
    CU_ASSERT_EQUAL(hdr_add(&a, &c), -EINVAL);
    CU_ASSERT_EQUAL(a.total, 5);
    hdr_free(&a);
    hdr_free(&b);
    hdr_free(&c);
}

static void expect_error(const char *s, size_t len, const char *why)
{
    struct hdr h;
    char err[200] = "";
    CU_ASSERT_EQUAL(hdr_decode(&h, s, len, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
    CU_ASSERT_PTR_NULL(h.counts);
}

/* Builds a compressed string around a hand-made payload. */
static char *wrap(const uint8_t *payload, size_t n, size_t cut)
{
    uint8_t z[512];
    uLongf zl = sizeof z - 8;
    CU_ASSERT_FATAL(compress(z + 8, &zl, payload, n) == Z_OK);
    zl -= cut;
    uint32_t words[2] = {0x1c849314u, (uint32_t)zl};
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 4; i++)
            z[4 * w + i] = (uint8_t)(words[w] >> (24 - 8 * i));
    char *s = malloc(BASE64_ENCODED_SIZE(8 + zl));
    base64_encode(z, 8 + zl, s);
    return s;
}

static void corrupt_input_gets_a_clear_error(void)
{
    expect_error("", 0, "not a V2");
    expect_error("HISTF!!!", 8, "not base64");
    expect_error("SGVsbG8sIFdvcmxkIQ==", 20, "not a V2 compressed");
    /* cut short: fewer compressed bytes than announced */
    expect_error(c_corrected, 40, "truncated");
    /* one flipped byte in the zlib stream */
    char bad[sizeof c_corrected];
    memcpy(bad, c_corrected, sizeof bad);
    bad[60] = bad[60] == 'A' ? 'B' : 'A';
    struct hdr h;
    char err[200];
    int rc = hdr_decode(&h, bad, strlen(bad), err, sizeof err);
    CU_ASSERT(rc == -EINVAL || rc == 0); /* zlib's checksum catches most; never a crash */
    if (rc == 0)
        hdr_free(&h);
    /* a valid header whose zero run jumps past the counts */
    uint8_t p[48] = {0x1c, 0x84, 0x93, 0x13, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2};
    p[23] = 1;                  /* lowest 1 */
    p[31] = 100;                /* highest 100 */
    p[32] = 0x3f, p[33] = 0xf0; /* ratio 1.0 */
    p[40] = 0x02;               /* count 1 */
    p[41] = 0xff, p[42] = 0x7f; /* zero run of -8192 */
    char *s = wrap(p, 43, 0);
    expect_error(s, strlen(s), "zero run past the end");
    free(s);
    p[15] = 9; /* 9 significant digits */
    s = wrap(p, 43, 0);
    expect_error(s, strlen(s), "invalid parameters");
    free(s);
    p[15] = 2;
    s = wrap(p, 43, 10); /* the zlib stream cut short */
    expect_error(s, strlen(s), "corrupt or truncated");
    free(s);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"decodes_hdrhistogram_c_standard_histogram", decodes_hdrhistogram_c_standard_histogram},
        {"decodes_hdrhistogram_c_corrected_histogram", decodes_hdrhistogram_c_corrected_histogram},
        {"decodes_java_zero_digit_and_boundary_histograms",
         decodes_java_zero_digit_and_boundary_histograms},
        {"decodes_a_foreign_interval_log_line", decodes_a_foreign_interval_log_line},
        {"linepool_histogram_round_trips_exactly", linepool_histogram_round_trips_exactly},
        {"empty_histogram_round_trips", empty_histogram_round_trips},
        {"microsecond_form_has_memtier_parameters", microsecond_form_has_memtier_parameters},
        {"add_requires_matching_buckets", add_requires_matching_buckets},
        {"corrupt_input_gets_a_clear_error", corrupt_input_gets_a_clear_error},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{.pName = "client_hdr", .pTests = tests}, CU_SUITE_INFO_NULL};
    return cunit_run(suites);
}

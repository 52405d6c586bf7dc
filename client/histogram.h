/* histogram - latency histogram with bounded relative error, HdrHistogram-style.
 *
 * Log-linear buckets: values below 2^HISTOGRAM_SUB_BITS are exact; every power-of-two range
 * above is split into 2^HISTOGRAM_SUB_BITS equal buckets, so a reported value is within
 * 1/2^(HISTOGRAM_SUB_BITS+1) (0.4%) of the true one. min, max, count and sum are exact.
 * Recording is a few instructions and never allocates: each thread owns one histogram and
 * they are merged after the run, so the hot path takes no lock. Pure: no I/O.
 */
#ifndef LINEPOOL_CLIENT_HISTOGRAM_H
#define LINEPOOL_CLIENT_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_SUB_BITS 7
#define HISTOGRAM_SUB      (1u << HISTOGRAM_SUB_BITS)
/* Exact values 0..SUB-1, then SUB buckets for each exponent SUB_BITS..63. */
#define HISTOGRAM_BUCKETS (HISTOGRAM_SUB + (64 - HISTOGRAM_SUB_BITS) * HISTOGRAM_SUB)

struct histogram {
    uint64_t count;
    uint64_t sum; /* saturates instead of wrapping */
    uint64_t min; /* UINT64_MAX while empty */
    uint64_t max;
    uint64_t buckets[HISTOGRAM_BUCKETS];
};

/* Empties h. A zeroed struct must be reset before use (min starts at UINT64_MAX). */
void histogram_reset(struct histogram *h);

/* Bucket index of v; exposed so tests can check bucket bounds. */
static inline unsigned histogram_index(uint64_t v)
{
    if (v < HISTOGRAM_SUB)
        return (unsigned)v;
    unsigned exp = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
    unsigned sub = (unsigned)(v >> (exp - HISTOGRAM_SUB_BITS)) - HISTOGRAM_SUB;
    return HISTOGRAM_SUB + (exp - HISTOGRAM_SUB_BITS) * HISTOGRAM_SUB + sub;
}

/* Records one value. Owner thread only. */
static inline void histogram_record(struct histogram *h, uint64_t v)
{
    h->buckets[histogram_index(v)]++;
    h->count++;
    h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

/* Adds every value of src to dst. */
void histogram_merge(struct histogram *dst, const struct histogram *src);

/* The value at percentile p (0..100): the smallest recorded value v such that at least p% of
 * all values are <= v, as the middle of its bucket, clamped to [min, max]. p = 0 gives min,
 * p = 100 max. Returns 0 when empty. */
uint64_t histogram_percentile(const struct histogram *h, double p);

/* Mean of the recorded values, 0 when empty. */
double histogram_mean(const struct histogram *h);

/* Lowest value and width of bucket i. */
uint64_t histogram_bucket_low(unsigned i);
uint64_t histogram_bucket_width(unsigned i);

#endif

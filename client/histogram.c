/* histogram - log-linear latency histogram: bucket arithmetic, merge and percentiles. */
#include "histogram.h"

#include <math.h>
#include <string.h>

void histogram_reset(struct histogram *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

uint64_t histogram_bucket_low(unsigned i)
{
    if (i < HISTOGRAM_SUB)
        return i;
    unsigned exp = (i - HISTOGRAM_SUB) / HISTOGRAM_SUB + HISTOGRAM_SUB_BITS;
    uint64_t sub = (i - HISTOGRAM_SUB) % HISTOGRAM_SUB + HISTOGRAM_SUB;
    return sub << (exp - HISTOGRAM_SUB_BITS);
}

uint64_t histogram_bucket_width(unsigned i)
{
    if (i < HISTOGRAM_SUB)
        return 1;
    unsigned exp = (i - HISTOGRAM_SUB) / HISTOGRAM_SUB + HISTOGRAM_SUB_BITS;
    return 1ull << (exp - HISTOGRAM_SUB_BITS);
}

void histogram_merge(struct histogram *dst, const struct histogram *src)
{
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX : dst->sum + src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t histogram_percentile(const struct histogram *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    /* rank of the wanted value, 1-based: the ceiling so that p50 of 1..100 is 50 */
    double exact = p / 100.0 * (double)h->count;
    /* shave float noise so 99.9% of 1000 is rank 999, not 1000 */
    uint64_t rank = (uint64_t)ceil(exact - exact * 1e-12);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            /* middle of the bucket halves the worst-case error of reporting an edge */
            uint64_t v = histogram_bucket_low(i) + histogram_bucket_width(i) / 2;
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double histogram_mean(const struct histogram *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

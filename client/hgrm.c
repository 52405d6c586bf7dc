/* hgrm - the .hgrm percentile distribution, Java layout, rows from a percentile iterator that
 * halves its step every time the remaining distance to 100% halves. */
#include "hgrm.h"

#include <math.h>

static uint64_t highest_equivalent(const struct hdr *h, uint32_t i)
{
    return hdr_value_at(h, i) + hdr_width_at(h, i) - 1;
}

/* The next level the iterator reports: ticks per half distance, doubling per halving. */
static double next_level(double level, unsigned ticks)
{
    double halvings = floor(log(100.0 / (100.0 - level)) / log(2));
    double per = (double)ticks * pow(2, halvings + 1);
    return level + 100.0 / per;
}

static void footer(FILE *out, const struct hdr *h, double mean, double scale)
{
    double var = 0;
    uint32_t last = 0;
    for (uint32_t i = 0; i < h->len; i++) {
        if (!h->counts[i])
            continue;
        double mid = ((double)hdr_value_at(h, i) + (double)hdr_width_at(h, i) / 2) / scale;
        var += (mid - mean / scale) * (mid - mean / scale) * (double)h->counts[i];
        last = i;
    }
    double sd = h->total ? sqrt(var / (double)h->total) : 0;
    double max = h->total ? (double)highest_equivalent(h, last) / scale : 0;
    fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean / scale, sd);
    fprintf(out, "#[Max     = %12.3f, Total count    = %12llu]\n", max,
            (unsigned long long)h->total);
    fprintf(out, "#[Buckets = %12u, SubBuckets     = %12u]\n", (h->len >> h->half_mag) - 1,
            2u << h->half_mag);
}

void hgrm_write(FILE *out, const struct hdr *h, double mean, unsigned ticks, double scale)
{
    fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
            "1/(1-Percentile)");
    double level = 0;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < h->len && seen < h->total; i++) {
        if (!h->counts[i])
            continue;
        seen += h->counts[i];
        double v = (double)highest_equivalent(h, i) / scale;
        /* every level this bucket reaches gets a row, until the last bucket's one */
        while (100.0 * (double)seen / (double)h->total >= level) {
            fprintf(out, "%12.3f %2.12f %10llu %14.2f\n", v, level / 100.0,
                    (unsigned long long)seen, 1.0 / (1.0 - level / 100.0));
            level = next_level(level, ticks);
            if (seen == h->total)
                break;
        }
        if (seen == h->total)
            fprintf(out, "%12.3f %2.12f %10llu\n", v, 1.0, (unsigned long long)seen);
    }
    footer(out, h, mean, scale);
}

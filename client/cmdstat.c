/* cmdstat - per-command whole-run and per-second latency histograms (sparse per second). */
#include "cmdstat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cmdstat_init(struct cmdstat *s, int both)
{
    memset(s, 0, sizeof *s);
    s->both = both;
    for (int k = 0; k < CMDSTAT_KINDS; k++) {
        s->whole[k] = malloc(sizeof *s->whole[k]);
        s->cur[k] = malloc(sizeof *s->cur[k]);
        if (!s->whole[k] || !s->cur[k])
            return -ENOMEM;
        histogram_reset(s->whole[k]);
        histogram_reset(s->cur[k]);
    }
    return 0;
}

void cmdstat_free(struct cmdstat *s)
{
    for (int k = 0; k < CMDSTAT_KINDS; k++) {
        free(s->whole[k]);
        free(s->cur[k]);
        s->whole[k] = s->cur[k] = NULL;
    }
    for (size_t i = 0; i < s->nsecs; i++)
        for (int k = 0; k < CMDSTAT_KINDS; k++)
            free(s->secs[i].cells[k]);
    free(s->secs);
    s->secs = NULL;
    s->nsecs = s->capsecs = 0;
}

/* Makes secs long enough to hold second sec. 0 or -ENOMEM. */
static int reserve(struct cmdstat *s, size_t sec)
{
    if (sec < s->nsecs)
        return 0;
    if (sec >= s->capsecs) {
        size_t cap = s->capsecs ? s->capsecs : 16;
        while (cap <= sec)
            cap *= 2;
        struct cmdstat_second *grown = realloc(s->secs, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        s->secs = grown;
        s->capsecs = cap;
    }
    memset(s->secs + s->nsecs, 0, (sec + 1 - s->nsecs) * sizeof *s->secs);
    for (size_t i = s->nsecs; i <= sec; i++)
        for (int k = 0; k < CMDSTAT_KINDS; k++)
            s->secs[i].min[k] = UINT64_MAX;
    s->nsecs = sec + 1;
    return 0;
}

/* Stores h (added to what second sec, kind k, already holds) in sparse form. */
static int store(struct cmdstat_second *d, int k, const struct histogram *h)
{
    uint32_t n = d->ncells[k];
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        n += h->buckets[i] != 0;
    if (n == d->ncells[k])
        return 0;
    struct histogram *dense = NULL;
    if (d->ncells[k]) { /* rare: a second stored twice (merge); add through a dense copy */
        if (!(dense = malloc(sizeof *dense)))
            return -ENOMEM;
        memcpy(dense, h, sizeof *dense);
        for (uint32_t c = 0; c < d->ncells[k]; c++)
            dense->buckets[d->cells[k][c].index] += d->cells[k][c].count;
        h = dense;
        n = 0;
        for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
            n += h->buckets[i] != 0;
    }
    struct cmdstat_cell *cells = malloc(n * sizeof *cells);
    if (!cells) {
        free(dense);
        return -ENOMEM;
    }
    uint32_t j = 0;
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        if (h->buckets[i])
            cells[j++] = (struct cmdstat_cell){.index = i, .count = h->buckets[i]};
    free(d->cells[k]);
    d->cells[k] = cells;
    d->ncells[k] = j;
    free(dense);
    return 0;
}

static void add_totals(struct cmdstat_second *d, int k, uint64_t count, uint64_t sum, uint64_t min,
                       uint64_t max)
{
    d->count[k] += count;
    d->sum[k] = d->sum[k] + sum < d->sum[k] ? UINT64_MAX : d->sum[k] + sum;
    if (min < d->min[k])
        d->min[k] = min;
    if (max > d->max[k])
        d->max[k] = max;
}

int cmdstat_put_second(struct cmdstat *s, size_t sec, int k, const struct histogram *h)
{
    if (reserve(s, sec) || store(&s->secs[sec], k, h))
        return -ENOMEM;
    add_totals(&s->secs[sec], k, h->count, h->sum, h->min, h->max);
    return 0;
}

int cmdstat_put_counts(struct cmdstat *s, size_t sec, uint64_t replies, uint64_t bytes_in,
                       uint64_t bytes_out)
{
    if (reserve(s, sec))
        return -ENOMEM;
    s->secs[sec].nohist += replies;
    s->secs[sec].bytes_in += bytes_in;
    s->secs[sec].bytes_out += bytes_out;
    return 0;
}

static void close_current(struct cmdstat *s)
{
    int empty = s->cur[0]->count == 0 && s->cur_in == 0 && s->cur_out == 0;
    if (!empty) {
        if (reserve(s, (size_t)s->cur_sec)) {
            s->oom = 1;
        } else {
            struct cmdstat_second *d = &s->secs[s->cur_sec];
            d->bytes_in += s->cur_in;
            d->bytes_out += s->cur_out;
            for (int k = 0; k < CMDSTAT_KINDS; k++) {
                if (store(d, k, s->cur[k]))
                    s->oom = 1;
                else
                    add_totals(d, k, s->cur[k]->count, s->cur[k]->sum, s->cur[k]->min,
                               s->cur[k]->max);
            }
        }
    }
    for (int k = 0; k < CMDSTAT_KINDS; k++)
        if (s->cur[k]->count)
            histogram_reset(s->cur[k]);
    s->cur_in = s->cur_out = 0;
}

void cmdstat_roll(struct cmdstat *s, uint64_t sec)
{
    close_current(s);
    s->cur_sec = sec;
}

void cmdstat_finish(struct cmdstat *s)
{
    close_current(s);
}

int cmdstat_merge(struct cmdstat *dst, const struct cmdstat *src)
{
    for (int k = 0; k < CMDSTAT_KINDS; k++)
        histogram_merge(dst->whole[k], src->whole[k]);
    dst->both |= src->both;
    dst->bytes_in += src->bytes_in;
    dst->bytes_out += src->bytes_out;
    dst->misses += src->misses;
    struct histogram *h = malloc(sizeof *h);
    if (!h || (src->nsecs && reserve(dst, src->nsecs - 1))) {
        free(h);
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < src->nsecs && !rc; i++) {
        const struct cmdstat_second *from = &src->secs[i];
        struct cmdstat_second *to = &dst->secs[i];
        to->bytes_in += from->bytes_in;
        to->bytes_out += from->bytes_out;
        to->nohist += from->nohist;
        for (int k = 0; k < CMDSTAT_KINDS && !rc; k++) {
            if (!from->count[k])
                continue;
            cmdstat_second_histogram(src, i, k, h);
            rc = store(to, k, h);
            add_totals(to, k, from->count[k], from->sum[k], from->min[k], from->max[k]);
        }
    }
    free(h);
    return rc;
}

void cmdstat_second_histogram(const struct cmdstat *s, size_t sec, int k, struct histogram *out)
{
    histogram_reset(out);
    if (sec >= s->nsecs)
        return;
    const struct cmdstat_second *d = &s->secs[sec];
    for (uint32_t c = 0; c < d->ncells[k]; c++)
        out->buckets[d->cells[k][c].index] += d->cells[k][c].count;
    out->count = d->count[k];
    out->sum = d->sum[k];
    out->min = d->min[k];
    out->max = d->max[k];
}

/* timing - a histogram of handler times, one per plugin instance per worker: written by that
 * worker only (a load and a store per message, on its own cache lines: no locked instruction
 * and no line shared with another worker), summed when a scrape reads it. Buckets are
 * decades from 1 us to 10 s, plus +Inf. */
#ifndef LINEPOOL_TIMING_H
#define LINEPOOL_TIMING_H

#include <stdatomic.h>
#include <stdint.h>

#define TIMING_BUCKETS 8 /* finite upper bounds: 1e-6 ... 1e1 s */

struct timing {
    _Alignas(64) _Atomic uint64_t counts[TIMING_BUCKETS + 1]; /* per bucket, not cumulative */
    _Atomic uint64_t sum_ns;
};

/* The upper bound of bucket i in nanoseconds (i < TIMING_BUCKETS). */
static inline uint64_t timing_bound_ns(unsigned i)
{
    uint64_t b = 1000;
    while (i--)
        b *= 10;
    return b;
}

/* Owner worker only. */
static inline void timing_record(struct timing *t, uint64_t ns)
{
    unsigned i = 0;
    for (uint64_t b = 1000; i < TIMING_BUCKETS && ns > b; b *= 10)
        i++;
    uint64_t n = atomic_load_explicit(&t->counts[i], memory_order_relaxed);
    atomic_store_explicit(&t->counts[i], n + 1, memory_order_relaxed);
    uint64_t sum = atomic_load_explicit(&t->sum_ns, memory_order_relaxed);
    atomic_store_explicit(&t->sum_ns, sum + ns, memory_order_relaxed);
}

#endif

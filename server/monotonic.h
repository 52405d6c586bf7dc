/* monotonic - the one clock for durations, deadlines and rates in the whole tree (server,
 * client, tests' C code): CLOCK_MONOTONIC in nanoseconds. Any thread; no allocation. */
#ifndef LINEPOOL_MONOTONIC_H
#define LINEPOOL_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif

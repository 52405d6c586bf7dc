/* stats - server-wide counters of rare events (per connection, never per message), listed
 * once, updated with relaxed atomics. Per-message counters are per worker: conn_counters. */
#ifndef LINEPOOL_STATS_H
#define LINEPOOL_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define STATS_FIELDS(X)                                                                            \
    X(connections, "connections accepted")                                                         \
    X(rejected, "connections refused by --max-conns")                                              \
    X(fd_limit_refusals, "connections refused at the fd limit")                                    \
    X(line_too_long, "connections closed for a line over --max-line")                              \
    X(idle_kicks, "connections closed by --idle-timeout")                                          \
    X(slow_kicks, "connections closed by --write-timeout")                                         \
    X(resets, "connections reset by the peer")                                                     \
    X(dropped_tail_bytes, "unterminated bytes dropped after a reset or at shutdown")

struct stats {
#define STATS_DECLARE(name, what) _Atomic uint64_t name;
    STATS_FIELDS(STATS_DECLARE)
#undef STATS_DECLARE
};

extern struct stats stats;

static inline void stats_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline uint64_t stats_get(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

#endif

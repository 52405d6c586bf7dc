/* stats - server-wide counters of rare events (per connection or per pause, never per
 * message), listed once, updated with relaxed atomics. Per-message counters are per worker
 * (conn_counters). Each entry names the Prometheus family it is a sample of, and the value of
 * that family's one label when it has one, so /metrics, the admin `stats` command and the
 * exit summary all read these same counters (metrics.c). */
#ifndef LINEPOOL_STATS_H
#define LINEPOOL_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* X(field, family, label name, label value, help of the family or of the sample) */
#define STATS_FIELDS(X)                                                                            \
    X(rejected, "linepool_connections_rejected_total", "reason", "max_conns",                      \
      "Connections refused at accept, by reason")                                                  \
    X(fd_limit_refusals, "linepool_connections_rejected_total", "reason", "fd_limit", "")          \
    X(rejected_proxy_untrusted, "linepool_connections_rejected_total", "reason",                   \
      "proxy_untrusted", "")                                                                       \
    X(closed_peer, "linepool_connections_closed_total", "reason", "peer",                          \
      "Connections closed, by reason")                                                             \
    X(closed_reset, "linepool_connections_closed_total", "reason", "reset", "")                    \
    X(closed_line_too_long, "linepool_connections_closed_total", "reason", "line_too_long", "")    \
    X(closed_idle_timeout, "linepool_connections_closed_total", "reason", "idle_timeout", "")      \
    X(closed_write_timeout, "linepool_connections_closed_total", "reason", "write_timeout", "")    \
    X(closed_plugin, "linepool_connections_closed_total", "reason", "plugin", "")                  \
    X(closed_shutdown, "linepool_connections_closed_total", "reason", "shutdown", "")              \
    X(closed_error, "linepool_connections_closed_total", "reason", "error", "")                    \
    X(closed_proxy_header, "linepool_connections_closed_total", "reason", "proxy_header", "")      \
    X(closed_proxy_timeout, "linepool_connections_closed_total", "reason", "proxy_timeout", "")    \
    X(output_limit_pauses, "linepool_output_limit_pauses_total", NULL, NULL,                       \
      "Times a connection stopped being read because its replies passed --max-output")             \
    X(accept_pauses, "linepool_accept_pauses_total", NULL, NULL,                                   \
      "Times accepting paused for 100 ms because the process was out of file descriptors")         \
    X(dropped_tail_bytes, "linepool_dropped_tail_bytes_total", NULL, NULL,                         \
      "Bytes of unterminated messages dropped after a reset, a kick or at shutdown")

struct stats {
#define STATS_DECLARE(field, family, lname, lvalue, help) _Atomic uint64_t field;
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

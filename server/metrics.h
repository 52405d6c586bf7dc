/* metrics - what the admin listener reports, rendered from the counters the server keeps
 * anyway: stats.h (rare events), the per-worker, per-listener conn_counters, the pool's busy
 * time, the per-worker handler histograms, plugins' own metrics, /proc/self. Every reader
 * sums at read time, so a scrape writes nothing the hot path reads or writes. Called on the
 * admin thread; every source it points to stays valid until the admin thread is stopped. */
#ifndef LINEPOOL_METRICS_H
#define LINEPOOL_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct conn_env;
struct chain;
struct pool;
struct registry;
struct plugin_metrics;
struct textbuf;

struct metrics_src {
    const struct conn_env *env;
    struct pool *pool;
    struct registry *reg;
    const struct plugin_metrics *plugin_metrics;
    const struct chain *listeners; /* one per listener: env->nlisteners */
    const _Atomic int *draining;
    unsigned max_conns;
    double start_unix; /* wall-clock start, seconds since the epoch */
};

/* Prometheus text format 0.0.4: every family with # HELP and # TYPE, '\n' after each line. */
void metrics_prometheus(const struct metrics_src *m, struct textbuf *out);

/* memcached-style "STAT name value" lines, then "END". */
void metrics_stats(const struct metrics_src *m, struct textbuf *out);

/* One "PLUGIN name version connections=N" line per plugin instance, then "END". */
void metrics_plugins(const struct metrics_src *m, struct textbuf *out);

/* Totals for the exit summary, from the same counters as the metrics. */
struct metrics_totals {
    uint64_t accepted, open, messages, bytes_in, bytes_out, rejected;
};
void metrics_totals(const struct metrics_src *m, struct metrics_totals *t);

#endif

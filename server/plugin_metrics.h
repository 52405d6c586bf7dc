/* plugin_metrics - counters and gauges that plugins register through the host (SDK minor 2),
 * exported by /metrics as linepool_plugin_NAME{plugin="INSTANCE"}. Registration happens only
 * in load hooks (main thread, before the admin thread starts), so the list is fixed while
 * anyone reads it; values are relaxed atomics, written by any thread. */
#ifndef LINEPOOL_PLUGIN_METRICS_H
#define LINEPOOL_PLUGIN_METRICS_H

#include <linepool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PLUGIN_METRICS_MAX 256
#define PLUGIN_METRIC_NAME 48 /* bytes of NAME, [a-z_][a-z0-9_]* */
#define PLUGIN_METRIC_HELP 160

struct lp_metric {
    char name[PLUGIN_METRIC_NAME + 1];
    char help[PLUGIN_METRIC_HELP + 1];
    char *instance; /* the plugin's key ("counter@a"), a copy */
    enum lp_metric_type type;
    _Atomic int64_t value;
};

struct plugin_metrics {
    struct lp_metric *items[PLUGIN_METRICS_MAX];
    size_t n;
};

/* Registers one metric for `instance`. NULL with errno: EINVAL (a bad name, type or help:
 * a counter's name must end in _total, a gauge's must not, so one name never has two
 * types), EEXIST (this instance has it already), ENOSPC, ENOMEM. */
struct lp_metric *plugin_metrics_new(struct plugin_metrics *pm, const char *instance,
                                     enum lp_metric_type type, const char *name, const char *help);

/* For a version loaded by a reload (SIGHUP): the metric its instance registered at startup
 * with this type and name, so the series goes on; NULL with errno EPERM when there is none
 * (the list does not grow once the server runs). */
struct lp_metric *plugin_metrics_find(const struct plugin_metrics *pm, const char *instance,
                                      enum lp_metric_type type, const char *name);

void plugin_metrics_free(struct plugin_metrics *pm);

struct textbuf;
/* Appends every family, grouped by name, in text format 0.0.4. */
void plugin_metrics_render(const struct plugin_metrics *pm, struct textbuf *out);

#endif

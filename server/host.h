/* host - the function table plugins call (struct lp_host), backed by conn and log. */
#ifndef LINEPOOL_HOST_H
#define LINEPOOL_HOST_H

#include <linepool.h>
#include <stdatomic.h>

struct connset;
struct timers;
struct plugin_metrics;

/* The table, valid for the life of the process. `stopping` is the server's draining flag;
 * `conns` is where a deferred answer's ticket finds its connection; `timers` serves
 * timer_start and timer_cancel; `metrics` holds what metric_new registers. */
const struct lp_host *host_table(const _Atomic int *stopping, struct connset *conns,
                                 struct timers *timers, struct plugin_metrics *metrics);

/* Frees the blocks plugins got from `shared`: at exit, after the last unload. */
void host_shared_free(void);

#endif

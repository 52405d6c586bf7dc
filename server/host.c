/* host - adapts the plugin API onto the server's connection and log modules. */
#include "host.h"

#include "chain.h"
#include "conn.h"
#include "log.h"
#include "monotonic.h"
#include "plugin_metrics.h"
#include "timers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The host table is a fixed set of functions with no context argument (plugins call them by
 * pointer), so what they need from the server is set once here, before any plugin loads. */
static const _Atomic int *stopping_flag;
static struct connset *all_conns;
static struct timers *all_timers;
static struct plugin_metrics *all_metrics;

static int host_reply(struct lp_conn *conn, const void *bytes, size_t len)
{
    return conn_reply((struct conn *)conn, bytes, len);
}

static void host_close(struct lp_conn *conn)
{
    conn_request_close((struct conn *)conn);
}

static void host_log(const struct lp_plugin *self, enum lp_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if ((unsigned)level > LP_LOG_DEBUG)
        level = LP_LOG_DEBUG;
    log_vmsg((enum log_level)level, self && self->name ? self->name : "plugin", fmt, ap);
    va_end(ap);
}

static const char *host_peer(struct lp_conn *conn)
{
    return conn_peer_text((struct conn *)conn);
}

static uint64_t host_conn_id(struct lp_conn *conn)
{
    return conn_id((struct conn *)conn);
}

static int host_stopping(void)
{
    return stopping_flag && atomic_load_explicit(stopping_flag, memory_order_relaxed);
}

static const char *host_listener_name(struct lp_conn *conn)
{
    return conn_chain((struct conn *)conn)->listener_name;
}

static const char *host_listener_addr(struct lp_conn *conn)
{
    return conn_chain((struct conn *)conn)->listener_addr;
}

static const char *host_via(struct lp_conn *conn)
{
    return conn_via_text((struct conn *)conn);
}

static int host_defer(struct lp_conn *conn, struct lp_deferred *out)
{
    struct conn *c = (struct conn *)conn;
    if (!c || !out)
        return -EINVAL;
    int rc = conn_defer(c, &out->seq);
    if (rc == 0)
        out->conn_id = conn_id(c);
    return rc;
}

static int host_complete(struct lp_deferred ticket, const void *bytes, size_t len, unsigned flags)
{
    if (len && !bytes)
        return -EINVAL;
    return conn_complete(all_conns, ticket.conn_id, ticket.seq, bytes, len, flags);
}

static int host_overtake(struct lp_conn *conn, int allow)
{
    return conn ? conn_overtake((struct conn *)conn, allow) : -EINVAL;
}

static int host_timer_start(struct lp_conn *conn, uint64_t delay_ns, uint64_t every_ns,
                            lp_timer_fn fn, void *arg, uint64_t *id)
{
    if (conn)
        return conn_timer_start((struct conn *)conn, delay_ns, every_ns, fn, arg, id);
    return timers_start(all_timers, NULL, delay_ns, every_ns, fn, arg, id);
}

static int host_timer_cancel(uint64_t id)
{
    return timers_cancel(all_timers, id);
}

static struct lp_metric *host_metric_new(enum lp_metric_type type, const char *name,
                                         const char *help)
{
    const struct chain_site *site = chain_site_current();
    if (!site || !site->hook || !all_metrics ||
        (strcmp(site->hook, "load") != 0 && strcmp(site->hook, "reload") != 0)) {
        errno = EPERM; /* the instance is known only while its load hook runs */
        return NULL;
    }
    /* A version loaded by SIGHUP continues its instance's series (the list is fixed once
     * the server runs: the admin thread reads it unlocked). */
    if (strcmp(site->hook, "reload") == 0)
        return plugin_metrics_find(all_metrics, site->name, type, name);
    return plugin_metrics_new(all_metrics, site->name, type, name, help);
}

static void host_metric_add(struct lp_metric *m, int64_t delta)
{
    if (m && (delta >= 0 || m->type == LP_METRIC_GAUGE))
        atomic_fetch_add_explicit(&m->value, delta, memory_order_relaxed);
}

static void host_metric_set(struct lp_metric *m, int64_t value)
{
    if (m && m->type == LP_METRIC_GAUGE)
        atomic_store_explicit(&m->value, value, memory_order_relaxed);
}

/* Blocks that outlive plugin versions, found by instance key and name. A handful per
 * server, looked up only from load hooks: a list under a mutex. */
struct shared_block {
    struct shared_block *next;
    char *key, *name;
    size_t size;
    _Alignas(max_align_t) char bytes[];
};
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_block *shared_blocks;

static void *host_shared(const char *name, size_t size)
{
    const struct chain_site *site = chain_site_current();
    if (!site || !site->name || !site->hook || !name || !size ||
        (strcmp(site->hook, "load") != 0 && strcmp(site->hook, "reload") != 0))
        return NULL;
    pthread_mutex_lock(&shared_lock);
    struct shared_block *b = shared_blocks;
    while (b && (strcmp(b->key, site->name) != 0 || strcmp(b->name, name) != 0))
        b = b->next;
    if (!b && (b = calloc(1, sizeof *b + size))) {
        b->key = strdup(site->name);
        b->name = strdup(name);
        b->size = size;
        b->next = shared_blocks;
        shared_blocks = b;
        if (!b->key || !b->name) {
            shared_blocks = b->next;
            free(b->key);
            free(b->name);
            free(b);
            b = NULL;
        }
    }
    void *bytes = b && b->size == size ? b->bytes : NULL;
    pthread_mutex_unlock(&shared_lock);
    return bytes;
}

void host_shared_free(void)
{
    pthread_mutex_lock(&shared_lock);
    while (shared_blocks) {
        struct shared_block *b = shared_blocks;
        shared_blocks = b->next;
        free(b->key);
        free(b->name);
        free(b);
    }
    pthread_mutex_unlock(&shared_lock);
}

/* Grows only at its end (see LP_ABI_MINOR in linepool.h). */
static uint64_t host_now_ns(void)
{
    return monotonic_ns();
}

static const struct lp_host table = {
    .abi = LP_PLUGIN_ABI,
    .server = "linepool-server " LP_VERSION,
    .reply = host_reply,
    .close = host_close,
    .log = host_log,
    .peer = host_peer,
    .conn_id = host_conn_id,
    .stopping = host_stopping,
    .now_ns = host_now_ns,
    /* minor 1 */
    .size = sizeof(struct lp_host),
    .listener_name = host_listener_name,
    .listener_addr = host_listener_addr,
    .defer = host_defer,
    .complete = host_complete,
    .overtake = host_overtake,
    .timer_start = host_timer_start,
    .timer_cancel = host_timer_cancel,
    /* minor 2 */
    .metric_new = host_metric_new,
    .metric_add = host_metric_add,
    .metric_set = host_metric_set,
    .via = host_via,
    .shared = host_shared,
};

const struct lp_host *host_table(const _Atomic int *stopping, struct connset *conns,
                                 struct timers *timers, struct plugin_metrics *metrics)
{
    all_metrics = metrics;
    stopping_flag = stopping;
    all_conns = conns;
    all_timers = timers;
    return &table;
}

/* counter - counts messages and bytes per connection and for the whole server. The message
 * `Y` (marker=TEXT) answers this connection's totals: "count messages=N bytes=M". On a
 * minor-2 host the closed connections' totals are also metrics (linepool_plugin_counted_*).
 * Reload-safe: the server totals live in a block the host keeps across versions (shared),
 * and a connection's tally moves to a reloaded version (conn_export/conn_import), so both
 * survive a SIGHUP (a reloaded version gets its instance's metrics back). */
#include <linepool.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct lp_plugin lp_plugin;

/* Closed connections' totals. Each connection adds its own once, at close, so the message
 * path touches no shared cache line and the sum at unload is exact. */
struct totals {
    _Atomic uint64_t conns, messages, bytes;
    _Atomic uint32_t versions; /* loaded versions sharing it: the last to unload reports */
};

struct counter {
    const struct lp_host *host;
    struct totals *tot; /* the host's block shared by every version, or `own` */
    struct totals own;  /* for a host without `shared` (older than minor 2) */
    char marker[128];   /* the message that asks for the totals, exact bytes */
    size_t marker_len;
    int reset, quiet;
    struct lp_metric *m_conns, *m_messages, *m_bytes; /* NULL on an older host */
};

struct tally {
    uint64_t messages, bytes;           /* the whole connection, marker messages excluded */
    uint64_t base_messages, base_bytes; /* the totals at the last reset=1 answer */
};

/* Declared arguments: the server parses and checks them before load (linepool.h). */
static const struct lp_arg counter_args[] = {
    {.name = "marker",
     .type = LP_ARG_STRING,
     .def = "Y",
     .min = 1,
     .max = 127,
     .help = "the message that asks for this connection's totals"},
    {.name = "reset",
     .type = LP_ARG_BOOL,
     .def = "0",
     .help = "each answer counts only since the previous one"},
    {.name = "quiet",
     .type = LP_ARG_BOOL,
     .def = "0",
     .help = "do not log each connection's totals at close"},
    {0},
};

static int counter_load(const struct lp_load *ld, void **state, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    struct counter *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->host = ld->host;
    const char *marker = lp_arg_value(ld, &lp_plugin, "marker")->s;
    c->marker_len = strlen(marker); /* 1 to 127 bytes: the table's bounds */
    memcpy(c->marker, marker, c->marker_len);
    c->reset = lp_arg_value(ld, &lp_plugin, "reset")->b;
    c->quiet = lp_arg_value(ld, &lp_plugin, "quiet")->b;
    if (LP_HOST_HAS(c->host, metric_new)) {
        c->m_conns = c->host->metric_new(LP_METRIC_COUNTER, "counted_connections_total",
                                         "Connections through counter that have closed");
        c->m_messages = c->host->metric_new(LP_METRIC_COUNTER, "counted_messages_total",
                                            "Messages counted on closed connections");
        c->m_bytes = c->host->metric_new(LP_METRIC_COUNTER, "counted_bytes_total",
                                         "Bytes counted on closed connections, newlines included");
    }
    c->tot = &c->own;
    if (LP_HOST_HAS(c->host, shared)) {
        struct totals *shared = c->host->shared("totals.v1", sizeof *shared);
        if (shared)
            c->tot = shared;
    }
    atomic_fetch_add_explicit(&c->tot->versions, 1, memory_order_relaxed);
    *state = c;
    return 0;
}

static void counter_unload(void *state)
{
    struct counter *c = state;
    /* An old version unloaded after a reload says nothing: the totals go on in the newer
     * one. acq_rel: the last one sees every other version's adds. */
    int last = atomic_fetch_sub_explicit(&c->tot->versions, 1, memory_order_acq_rel) == 1;
    if (last && c->tot->conns) /* nothing to say when no connection came through us */
        c->host->log(&lp_plugin, LP_LOG_INFO,
                     "server totals: connections=%llu messages=%llu bytes=%llu",
                     (unsigned long long)c->tot->conns, (unsigned long long)c->tot->messages,
                     (unsigned long long)c->tot->bytes);
    free(c);
}

static int counter_open(void *state, struct lp_conn *conn, void **conn_state)
{
    (void)state, (void)conn;
    return (*conn_state = calloc(1, sizeof(struct tally))) ? 0 : -ENOMEM;
}

static void counter_close(void *state, struct lp_conn *conn, void *conn_state)
{
    struct counter *c = state;
    struct tally *t = conn_state;
    if (!t) /* our open never ran or failed */
        return;
    if (!c->quiet)
        c->host->log(&lp_plugin, LP_LOG_INFO, "conn %llu %s closed: messages=%llu bytes=%llu",
                     (unsigned long long)c->host->conn_id(conn), c->host->peer(conn),
                     (unsigned long long)t->messages, (unsigned long long)t->bytes);
    atomic_fetch_add_explicit(&c->tot->conns, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->tot->messages, t->messages, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->tot->bytes, t->bytes, memory_order_relaxed);
    if (c->m_conns) { /* the same totals, for /metrics: added once per connection */
        c->host->metric_add(c->m_conns, 1);
        c->host->metric_add(c->m_messages, (int64_t)t->messages);
        c->host->metric_add(c->m_bytes, (int64_t)t->bytes);
    }
    free(t);
}

/* A tally as it crosses to another version: tagged, so a version with another layout
 * refuses it instead of misreading it. */
#define TALLY_MAGIC 0x636e7431u /* "cnt1" */
struct tally_blob {
    uint32_t magic, size;
    struct tally t;
};

static int counter_export(void *state, struct lp_conn *conn, void *conn_state, void *buf,
                          size_t cap, size_t *len)
{
    (void)state, (void)conn;
    struct tally_blob b = {.magic = TALLY_MAGIC, .size = sizeof b.t};
    if (!conn_state || cap < sizeof b)
        return -EINVAL;
    b.t = *(struct tally *)conn_state;
    memcpy(buf, &b, sizeof b);
    *len = sizeof b;
    free(conn_state); /* the connection is the new version's now */
    return 0;
}

static int counter_import(void *state, struct lp_conn *conn, const void *buf, size_t len,
                          void **conn_state)
{
    (void)state, (void)conn;
    struct tally_blob b;
    if (len != sizeof b)
        return -EINVAL;
    memcpy(&b, buf, sizeof b);
    if (b.magic != TALLY_MAGIC || b.size != sizeof b.t)
        return -EINVAL;
    struct tally *t = malloc(sizeof *t);
    if (!t)
        return -ENOMEM;
    *t = b.t;
    *conn_state = t;
    return 0;
}

static void answer(struct counter *c, struct lp_conn *conn, struct tally *t)
{
    char line[96];
    int n = snprintf(line, sizeof line, "count messages=%llu bytes=%llu\n",
                     (unsigned long long)(t->messages - t->base_messages),
                     (unsigned long long)(t->bytes - t->base_bytes));
    c->host->reply(conn, line, (size_t)n);
    if (c->reset) {
        t->base_messages = t->messages;
        t->base_bytes = t->bytes;
    }
}

/* Per message: one length compare, two adds. A message counts len + 1 bytes (its '\n').
 * Counting is watching, not handling: other messages are LP_NOT_MINE, so a catch-all later
 * in the chain still answers them. */
static enum lp_verdict counter_message(void *state, struct lp_conn *conn, void *conn_state,
                                       const char *msg, size_t len)
{
    struct counter *c = state;
    struct tally *t = conn_state;
    if (len == c->marker_len && memcmp(msg, c->marker, len) == 0) {
        answer(c, conn, t);
        return LP_STOP;
    }
    t->messages++;
    t->bytes += len + 1;
    return LP_NOT_MINE;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "counter",
    .version = "1.0.0",
    .summary = "counts messages and bytes; 'Y' answers this connection's totals",
    .args = counter_args,
    .load_args = counter_load,
    .unload = counter_unload,
    .open = counter_open,
    .close = counter_close,
    .message = counter_message,
    .conn_export = counter_export,
    .conn_import = counter_import,
};

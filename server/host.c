/* host - adapts the plugin API onto the server's connection and log modules. */
#include "host.h"

#include "conn.h"
#include "log.h"

static const _Atomic int *stopping_flag;

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
    return ((struct conn *)conn)->id;
}

static int host_stopping(void)
{
    return stopping_flag && atomic_load_explicit(stopping_flag, memory_order_relaxed);
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
    .now_ns = conn_now_ns,
};

const struct lp_host *host_table(const _Atomic int *stopping)
{
    stopping_flag = stopping;
    return &table;
}

/* rate-meter - the tutorial's stream receiver done right: from a connection's first byte to
 * the message `Y` (or the close) it counts bytes, reads ("chunks") and messages, then
 * answers and logs the figures. Per message it only adds and compares: no copy, no malloc. */
#include "fmt.h"

#include <linepool.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

extern const struct lp_plugin lp_plugin;

#define SHOW_MAX 60 /* message bytes quoted in a "Data from" line */

struct meter {
    const struct lp_host *host;
    uint64_t show;        /* messages logged per connection */
    uint64_t interval_ns; /* between progress lines; 0 = none */
};

/* One connection. Offsets count bytes since the connection opened: `received` from the read
 * hooks, `consumed` as message length + 1. A stream starts at offset `origin`. */
struct stream {
    uint64_t received, consumed, origin;
    uint64_t start_ns; /* the stream's first byte; 0 = no stream yet */
    uint64_t chunks, messages, shown;
    uint64_t tick_ns, tick_bytes; /* where the last progress interval ended */
    struct meter *meter;          /* for the timer's callback */
    uint64_t timer;               /* while a stream runs: its progress timer (0 = none) */
};

/* A progress line is due at most a tenth of the interval late: the timer looks that often
 * while a stream runs, so the lines come on time through a silent stretch too. */
#define LOOKS_PER_INTERVAL 10

static const struct lp_arg meter_args[] = {
    {.name = "show",
     .type = LP_ARG_UNSIGNED,
     .def = "1",
     .max = UINT32_MAX,
     .help = "log the first N messages of each connection"},
    {.name = "interval",
     .type = LP_ARG_DURATION,
     .def = "1",
     .max = 3600000000000ull,
     .help = "time between progress lines while a stream runs (0: none)"},
    {0},
};

static int meter_load(const struct lp_load *ld, void **state, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    struct meter *m = malloc(sizeof *m);
    if (!m)
        return -ENOMEM;
    m->host = ld->host;
    m->show = lp_arg_value(ld, &lp_plugin, "show")->u;
    m->interval_ns = lp_arg_value(ld, &lp_plugin, "interval")->u;
    *state = m;
    return 0;
}

/* Answers and logs the figures of the stream that ends now with `bytes` bytes. */
static void report(struct meter *m, struct lp_conn *conn, struct stream *s, uint64_t bytes)
{
    uint64_t ns = m->host->now_ns() - s->start_ns;
    char b[FMT_GROUP_MAX], c[FMT_GROUP_MAX], br[FMT_GROUP_MAX], mr[FMT_GROUP_MAX], text[256];
    int n = snprintf(text, sizeof text,
                     "Processed %s bytes in %s chunk%s.\nTotal time: %.3f seconds.\n"
                     "Data rate: %s bytes/second.\nMessage rate: %s messages/second.\n",
                     fmt_group(b, bytes), fmt_group(c, s->chunks), s->chunks == 1 ? "" : "s",
                     (double)ns / 1e9, fmt_group(br, fmt_per_second(bytes, ns)),
                     fmt_group(mr, fmt_per_second(s->messages, ns)));
    m->host->reply(conn, text, (size_t)n);
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ' ' : '\0';
    m->host->log(&lp_plugin, LP_LOG_INFO, "conn %llu %s: %s",
                 (unsigned long long)m->host->conn_id(conn), m->host->peer(conn), text);
}

/* The next stream begins right after the Y: now, if this read holds bytes past it. */
static void progress(struct meter *m, struct lp_conn *conn, struct stream *s, uint64_t now);

static void on_timer(void *arg, struct lp_conn *conn, uint64_t id)
{
    (void)id;
    struct stream *s = arg;
    struct meter *m = s->meter;
    uint64_t now = m->host->now_ns();
    if (s->start_ns && now - s->tick_ns >= m->interval_ns)
        progress(m, conn, s, now);
}

/* From a hook of the connection, when its stream starts. A host without timers (an older
 * server) still gets the lines, from the read hook, when data arrives. */
static void start_timer(struct meter *m, struct lp_conn *conn, struct stream *s)
{
    if (!m->interval_ns || s->timer || !LP_HOST_HAS(m->host, timer_start))
        return;
    uint64_t look = m->interval_ns / LOOKS_PER_INTERVAL;
    if (!look)
        look = 1;
    if (m->host->timer_start(conn, look, look, on_timer, s, &s->timer) < 0)
        s->timer = 0;
}

static void stop_timer(struct meter *m, struct stream *s)
{
    if (s->timer)
        m->host->timer_cancel(s->timer);
    s->timer = 0;
}

static void restart(struct meter *m, struct stream *s)
{
    s->origin = s->tick_bytes = s->consumed;
    s->messages = 0;
    s->start_ns = s->received > s->consumed ? m->host->now_ns() : 0;
    s->tick_ns = s->start_ns;
    s->chunks = s->start_ns ? 1 : 0;
}

static void progress(struct meter *m, struct lp_conn *conn, struct stream *s, uint64_t now)
{
    char b[FMT_GROUP_MAX], r[FMT_GROUP_MAX];
    uint64_t bytes = s->received - s->tick_bytes, ns = now - s->tick_ns;
    m->host->log(&lp_plugin, LP_LOG_INFO, "conn %llu [%5.2f-%5.2f s] %s bytes %s bytes/s",
                 (unsigned long long)m->host->conn_id(conn),
                 (double)(s->tick_ns - s->start_ns) / 1e9, (double)(now - s->start_ns) / 1e9,
                 fmt_group(b, bytes), fmt_group(r, fmt_per_second(bytes, ns)));
    s->tick_ns = now;
    s->tick_bytes = s->received;
}

/* Once per read(2): one clock read, a few adds, and a progress line once per interval. */
static void meter_read(void *state, struct lp_conn *conn, void *conn_state, size_t nbytes)
{
    struct meter *m = state;
    struct stream *s = conn_state;
    uint64_t now = m->host->now_ns();
    if (!s->start_ns)
        s->start_ns = s->tick_ns = now;
    start_timer(m, conn, s);
    s->received += nbytes;
    s->chunks++;
    if (m->interval_ns && now - s->tick_ns >= m->interval_ns)
        progress(m, conn, s, now);
}

/* Per message: two adds, one rarely-taken branch. Never stops the chain: a meter, which
 * handles only its Y (it answers it); everything else is LP_NOT_MINE. */
static enum lp_verdict meter_message(void *state, struct lp_conn *conn, void *conn_state,
                                     const char *msg, size_t len)
{
    struct meter *m = state;
    struct stream *s = conn_state;
    s->consumed += len + 1;
    s->messages++;
    enum lp_verdict v = LP_NOT_MINE;
    if (__builtin_expect(len == 1 || s->shown < m->show, 0)) {
        char quoted[FMT_QUOTE_SIZE(SHOW_MAX)];
        if (s->shown < m->show && ++s->shown)
            m->host->log(&lp_plugin, LP_LOG_INFO, "Data from %s %s", m->host->peer(conn),
                         fmt_quote(quoted, msg, len, SHOW_MAX));
        if (len == 1 && msg[0] == 'Y') { /* an unterminated "Y" at EOF has no '\n' to count */
            report(m, conn, s, (s->consumed < s->received ? s->consumed : s->received) - s->origin);
            restart(m, s);
            if (!s->start_ns)
                stop_timer(m, s); /* no stream until the next byte */
            v = LP_NEXT;
        }
    }
    return v;
}

static int meter_open(void *state, struct lp_conn *conn, void **conn_state)
{
    (void)conn;
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->meter = state;
    *conn_state = s;
    return 0;
}

/* A stream cut short by the close is reported over every byte received (an unterminated
 * last message included); the reply reaches a client that only half-closed. */
static void meter_close(void *state, struct lp_conn *conn, void *conn_state)
{
    struct stream *s = conn_state;
    if (s && s->start_ns && s->received > s->origin)
        report(state, conn, s, s->received - s->origin);
    free(s);
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "rate-meter",
    .version = "1.0.0",
    .summary = "measures a stream up to 'Y': bytes, chunks, time, data and message rate",
    .args = meter_args,
    .load_args = meter_load,
    .unload = free,
    .open = meter_open,
    .close = meter_close,
    .read = meter_read,
    .message = meter_message,
};

/* linepool.h - the one header a linepool plugin includes.
 *
 * A plugin is a shared object exporting one symbol, `lp_plugin`, a const struct lp_plugin.
 * The server frames each TCP byte stream into messages (the bytes before each '\n') and
 * passes every message through the plugins chained on that listener, in order.
 * A plugin never links against the server: everything it may ask of the host is in the
 * struct lp_host function table handed to its load hook.
 *
 * Thread rules (the host guarantees these; a plugin relies on nothing more):
 *   - load and unload run once per instance, with no connection open on that instance:
 *     load on the main thread (at a SIGHUP reload, on a helper thread with signals blocked),
 *     unload on the main thread. SIGHUP loads a NEW version of every plugin beside the old
 *     one (see "Reload" below): each version is its own instance with its own statics.
 *     `--plugin counter@a --plugin counter@b` loads one file twice: two states, one code, so
 *     a plugin that may be loaded twice keeps everything in its state (statics are shared).
 *   - All hooks of ONE connection (open, read, message, close) run one at a time, in
 *     order, on whichever worker thread owns the connection at that moment; per-connection
 *     state needs no lock. open comes first, close comes last and exactly once.
 *   - Hooks of DIFFERENT connections run concurrently on up to --threads workers, so
 *     anything shared between connections (the plugin's own state) must be locked or
 *     atomic.
 *   - A hook may block (disk, remote call): it stalls only its own connection and one
 *     worker; other connections keep being served by the other workers.
 *   - Host functions that take a struct lp_conn are valid only inside a hook running for
 *     that connection; the handle is dead after the close hook returns.
 */
#ifndef LINEPOOL_H
#define LINEPOOL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: MAJOR.MINOR, encoded in one uint32_t as (MAJOR << 16) | MINOR.
 *   - A minor adds only: new host functions at the END of struct lp_host, new descriptor
 *     fields at the END of struct lp_plugin, new enum values a plugin opts into. A plugin
 *     built against minor N loads on any server of the same major with minor >= N.
 *   - Anything else (a field moved, removed or retyped, a changed contract) is a new major;
 *     the loader refuses another major, and a minor newer than its own, naming both.
 * A plugin built against the first header (which said `.abi = 1`) reads as 1.0. */
#define LP_ABI_MAJOR         1
#define LP_ABI_MINOR         2
#define LP_ABI_VERSION(M, m) (((uint32_t)(M) << 16) | (uint32_t)(m))
#define LP_ABI_MAJOR_OF(v)   ((v) < 0x10000u ? (v) : (v) >> 16)
#define LP_ABI_MINOR_OF(v)   ((v) < 0x10000u ? 0u : (v)&0xffffu)
#define LP_PLUGIN_ABI        LP_ABI_VERSION(LP_ABI_MAJOR, LP_ABI_MINOR)

#define LP_EXPORT __attribute__((visibility("default")))

/* One connection, owned by the host. Opaque to plugins. */
struct lp_conn;
struct lp_plugin;

enum lp_log_level { LP_LOG_ERROR = 0, LP_LOG_WARN = 1, LP_LOG_INFO = 2, LP_LOG_DEBUG = 3 };

/* What a message hook returns. LP_NEXT and LP_STOP say the plugin handled the message (it
 * answered, or acted on it); LP_NOT_MINE (minor 1) says it did not, and passes it on. When
 * every plugin that saw a message said LP_NOT_MINE, the first plugin of the chain with an
 * `unhandled` hook gets it: that is where a catch-all "ERR unknown command" belongs. */
enum lp_verdict { LP_NEXT = 0, LP_STOP = 1, LP_NOT_MINE = 2 };

/* A deferred reply (minor 1): names one pending answer of one connection. Both numbers are
 * compared on completion, so a ticket can never complete an answer of another (or a newer)
 * connection: conn_id is never reused, seq counts this connection's deferrals from 1. */
struct lp_deferred {
    uint64_t conn_id;
    uint64_t seq;
};

/* A timer callback (minor 1). conn is NULL for a plugin timer; for a connection timer it is
 * that connection, and the callback runs as one of its hooks (see lp_host.timer_start). */
typedef void (*lp_timer_fn)(void *arg, struct lp_conn *conn, uint64_t timer_id);

/* A metric of the plugin's own (minor 2), exported by the admin listener (--admin). */
enum lp_metric_type { LP_METRIC_COUNTER = 1, LP_METRIC_GAUGE = 2 };
struct lp_metric;

/* Host services. Every function is safe to call from any thread, but the ones taking a
 * connection only from a hook running for that connection. */
struct lp_host {
    uint32_t abi;       /* LP_PLUGIN_ABI of the server (major.minor, see LP_ABI_VERSION) */
    const char *server; /* "linepool-server 0.1.0" */

    /* Queue bytes for the connection (copied: the caller keeps its buffer). The host adds
     * nothing, so a line reply includes its own '\n'. Returns 0 or -ENOMEM. Replies are
     * written after the hook returns, in the order queued. */
    int (*reply)(struct lp_conn *conn, const void *bytes, size_t len);
    /* Close the connection once its queued replies are written. No further message hooks
     * run for it; the close hook still does. */
    void (*close)(struct lp_conn *conn);
    /* Log one line to the server's log (stderr), tagged with the plugin's name. */
    void (*log)(const struct lp_plugin *self, enum lp_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* The peer as "127.0.0.1:50696" or "[::1]:50696"; valid until the close hook returns.
     * Behind a PROXY header, the client the proxy reported (see `via`, minor 2). */
    const char *(*peer)(struct lp_conn *conn);
    /* A number unique to this connection for the life of the server, starting at 1. */
    uint64_t (*conn_id)(struct lp_conn *conn);
    /* Non-zero once the server has been asked to stop (SIGINT/SIGTERM): a long-blocking
     * hook should return soon. */
    int (*stopping)(void);
    /* Monotonic clock in nanoseconds, the one the host uses for its own timings. */
    uint64_t (*now_ns)(void);

    /* ---- minor 1 ---------------------------------------------------------------------
     * Everything below is present only when LP_HOST_HAS says so: a plugin that declares an
     * older minor (to load on older servers) must test before calling. */

    /* sizeof(struct lp_host) as the server was built: what LP_HOST_HAS compares against. */
    uint32_t size;
    /* The listener the connection came in on: its name (--listen NAME@HOST:PORT=..., or the
     * bound address when unnamed) and its bound address "127.0.0.1:7000" / "[::1]:7000".
     * Valid for the life of the server. */
    const char *(*listener_name)(struct lp_conn *conn);
    const char *(*listener_addr)(struct lp_conn *conn);

    /* Deferred replies. Called from a message hook, `defer` promises this message's answer
     * for later and fills *out; the hook then returns as usual (its verdict still applies).
     * `complete` delivers that answer from ANY thread (the plugin's own worker, a client
     * library's callback), exactly once: the bytes are copied; flags LP_COMPLETE_CLOSE closes
     * the connection once they are written.
     *   - Order: the connection's later messages are not delivered until every earlier
     *     deferred answer is complete, so replies keep the order of their messages - unless
     *     `overtake(conn, 1)` was called from one of its hooks: then later messages run at
     *     once and their replies may pass the pending ones.
     *   - A connection that closes while answers are pending still closes (its close hooks
     *     run); a later `complete` for it is dropped and returns -ESTALE, with no access to
     *     freed memory (tickets are values, matched by conn_id and seq, never pointers).
     *   - A second `complete` of one ticket returns -EALREADY; an unknown ticket -ESTALE.
     *   - At SIGINT/SIGTERM the drain waits for pending answers until --drain-timeout;
     *     `stopping()` is then true, so a plugin should finish or complete them quickly.
     * Return 0 or a negative errno (-EPIPE from a connection that is closing). */
    int (*defer)(struct lp_conn *conn, struct lp_deferred *out);
    int (*complete)(struct lp_deferred ticket, const void *bytes, size_t len, unsigned flags);
    int (*overtake)(struct lp_conn *conn, int allow);

    /* Timers. `timer_start` calls fn(arg, conn, id) after delay_ns, then every every_ns
     * (0 = once); *id (never 0) names it for `timer_cancel`. It is called from the plugin's
     * load or one of its hooks, and the timer belongs to the instance whose code is running
     * (the host knows it; -EPERM from any other thread).
     *   - conn == NULL: a plugin timer. It runs on the server's timer thread, concurrently
     *     with any connection's hooks (lock what it shares), and must not block (it holds
     *     up every other timer: hand long work to a thread of your own); the timer thread is
     *     stopped before any unload runs, so no callback can run into unloaded code.
     *   - conn != NULL (only from one of that connection's hooks): a connection timer. Its
     *     callback runs as a hook of that connection - never at the same time as its other
     *     hooks, conn valid inside it, replies allowed - and it is cancelled before the
     *     connection's close hooks run.
     *   - A repeating timer never runs two callbacks at once and skips ticks it is late for.
     *   - `timer_cancel` from any thread: after it returns no new callback starts; a callback
     *     already running finishes (cancel from inside it is fine). -ENOENT if unknown/done.
     *   - At SIGINT/SIGTERM timers stop being started once the drain begins.
     * Return 0 or a negative errno (-ECANCELED once the drain began). */
    int (*timer_start)(struct lp_conn *conn, uint64_t delay_ns, uint64_t every_ns, lp_timer_fn fn,
                       void *arg, uint64_t *id);
    int (*timer_cancel)(uint64_t id);

    /* ---- minor 2 ---------------------------------------------------------------------
     * Metrics. `metric_new`, from the load hook only, registers a counter or a gauge of this
     * instance; /metrics shows it as linepool_plugin_NAME{plugin="INSTANCE"} (so two
     * instances of one plugin share a family). NAME is 1-48 of [a-z0-9_], not starting with
     * a digit; a counter's ends in `_total` (Prometheus naming) and a gauge's does not; help
     * is one line. Returns NULL with errno EINVAL (a bad name or help), EEXIST (registered
     * already by this instance), EPERM (not in a load hook), ENOSPC.
     *   - `metric_add` (counters and gauges; a counter ignores delta < 0) and `metric_set`
     *     (gauges only) work from any thread. Each is one atomic operation on a shared
     *     cache line: from a message hook, count per connection and add at close (as the
     *     bundled counter plugin does), so the message path stays free of shared writes.
     *   - The metric lives as long as the server; the plugin never frees it. */
    struct lp_metric *(*metric_new)(enum lp_metric_type type, const char *name, const char *help);
    void (*metric_add)(struct lp_metric *m, int64_t delta);
    void (*metric_set)(struct lp_metric *m, int64_t value);

    /* On a listener with +proxy (a PROXY protocol header first), `peer` is the client the
     * proxy reported and `via` the proxy's own address, the socket's peer: "127.0.0.1:40112".
     * After a LOCAL or UNKNOWN header (the proxy's own health check) both are the socket's
     * peer. NULL on a listener without +proxy. Valid until the close hook returns. */
    const char *(*via)(struct lp_conn *conn);

    /* Reload (minor 2). A zeroed block of `size` bytes that outlives every generation of the
     * calling instance: each version loaded by SIGHUP gets the SAME block for the same `name`, so
     * totals kept there in atomics survive a reload. Only from load/load_args (NULL elsewhere, or
     * when a block of that name exists with another size: change `name` when its layout changes).
     * Freed by the host at exit, after the last unload. */
    void *(*shared)(const char *name, size_t size);
};

/* For `complete`: close the connection once this answer is written. */
#define LP_COMPLETE_CLOSE 1u

/* Non-zero when this server's host table has function `fn` (like redismodule's
 * RMAPI_FUNC_SUPPORTED). Only meaningful on a minor-1 or newer host, which is every host
 * that loads a plugin built against this header. */
#define LP_HOST_HAS(host, fn)                                                                      \
    ((host)->abi >= LP_ABI_VERSION(1, 1) &&                                                        \
     (host)->size >= offsetof(struct lp_host, fn) + sizeof((host)->fn) && (host)->fn != NULL)

/* Declared arguments (minor 1). The server parses --plugin NAME:KEY=VALUE,... against the
 * descriptor's table before load: an unknown or repeated key, or a malformed or out-of-range
 * value, refuses the start with one line naming plugin, key and what is accepted. */
enum lp_arg_type {
    LP_ARG_BOOL = 1, /* 1/0, true/false, yes/no, on/off              -> value.b */
    LP_ARG_UNSIGNED, /* decimal whole number                          -> value.u */
    LP_ARG_SIZE,     /* bytes, K/M/G/T suffixes (powers of 1024)      -> value.u (bytes) */
    LP_ARG_DURATION, /* "1.5", "250ms", "2s", "1m", "1h" (default s)  -> value.u (ns) */
    LP_ARG_STRING,   /* any bytes but ',' and '\n'                     -> value.s */
};

struct lp_arg {
    const char *name; /* [a-z0-9_-]; a NULL name ends the table */
    enum lp_arg_type type;
    const char *def;   /* the default, written as a user would ("1", "64K", "1s"); NULL:
                        * 0 / false / "" */
    uint64_t min, max; /* inclusive; numbers in the value's unit (bytes, ns), strings in
                        * length; max 0 = no upper bound. Ignored for bool. */
    const char *help;  /* one line for --list-plugins */
};

union lp_value {
    uint64_t u;    /* unsigned, size in bytes, duration in ns */
    int b;         /* bool */
    const char *s; /* string, NUL-terminated, valid until unload */
};

/* What load_args receives. Grows at its end (size). */
struct lp_load {
    uint32_t size;
    const struct lp_host *host;
    const char *instance;         /* "counter@a", or "counter" when loaded once */
    const char *args;             /* the raw text after ':' ("" when none) */
    const union lp_value *values; /* one per declared argument, in table order */
};

/* The descriptor. Every hook but message may be NULL. Each hook that can fail returns 0 or
 * a negative errno. */
struct lp_plugin {
    uint32_t abi;        /* LP_PLUGIN_ABI, or an older LP_ABI_VERSION(1, m) to load on older
                          * servers (then read only what minor m has; see LP_HOST_HAS) */
    const char *name;    /* short name users write in --listen, e.g. "echo" */
    const char *version; /* the plugin's own version, e.g. "1.0.0" */
    const char *summary; /* one line for --list-plugins */

    /* Once per instance, before any connection. `args` is the text after ':' in --plugin NAME:ARGS,
     * or
     * "" when none was given. Set *state to the plugin's global state. On failure write a
     * one-line reason into err (errlen bytes) and return a negative errno: the server
     * refuses to start and prints it. */
    int (*load)(const struct lp_host *host, const char *args, void **state, char *err,
                size_t errlen);
    /* Once, at shutdown, after every connection has closed. */
    void (*unload)(void *state);

    /* A connection was accepted. *conn_state starts NULL and is handed to every later hook
     * of this connection. A negative return closes the connection at once. */
    int (*open)(void *state, struct lp_conn *conn, void **conn_state);
    /* The connection is closing (peer closed, error, server stopping, host->close). On a
     * clean end of stream, replies queued here are still written before the socket closes.
     * Called for every plugin of the chain, in reverse order, even one whose open failed or
     * never ran (an earlier plugin refused the connection): conn_state is then NULL or
     * whatever that open left in it. */
    void (*close)(void *state, struct lp_conn *conn, void *conn_state);

    /* Once per read(2) that returned data, with its byte count, before the messages it
     * completes. For plugins that measure the stream itself (bytes, chunks, first byte). */
    void (*read)(void *state, struct lp_conn *conn, void *conn_state, size_t nbytes);
    /* One message: the bytes before '\n' (a '\r' before it is kept), borrowed for the call
     * only; may contain NUL. A final unterminated message is delivered at a clean end of
     * stream. Returns LP_NEXT or LP_STOP. */
    enum lp_verdict (*message)(void *state, struct lp_conn *conn, void *conn_state, const char *msg,
                               size_t len);

    /* ---- minor 1 (read by the loader only when abi says minor >= 1) --------------------- */

    /* Declared arguments, ended by an entry with a NULL name. With a table, the server parses
     * the arguments and calls load_args instead of load (either may be given, not both). */
    const struct lp_arg *args;
    int (*load_args)(const struct lp_load *ld, void **state, char *err, size_t errlen);
    /* The chain's catch-all: gets a message no plugin of the chain handled (all said
     * LP_NOT_MINE). Only the first plugin of the chain with this hook gets it. */
    void (*unhandled)(void *state, struct lp_conn *conn, void *conn_state, const char *msg,
                      size_t len);

    /* ---- minor 2: moving live connections to a reloaded version ----------------------- */

    /* Reload (SIGHUP). The server loads a new version of every plugin from a private copy of
     * its file and uses it for connections opened from then on; a connection keeps the
     * version it started with until it closes, and that version's unload runs once its last
     * connection has closed (its close hooks returned) and its last timer finished. So a
     * plugin is reload-safe when it keeps everything in its state (not in statics other
     * versions would need), and its unload stops and JOINS every thread it started (code
     * that runs after unload runs from an unmapped file).
     *
     * A plugin that gives BOTH hooks below lets its connections move to the new version at
     * a message boundary: before the next message is delivered, the old version's
     * conn_export writes the connection's state into buf (cap bytes, at least
     * LP_EXPORT_MIN) and sets *len, and on success frees its conn_state (the connection is
     * no longer its own: no close hook follows); then the new version's conn_import builds
     * *conn_state from the bytes. That message and all later ones go to the new version;
     * every message is handled by exactly one version. A negative export keeps the
     * connection where it is (it is asked again at the next message); a negative import
     * gives the bytes back to the old version's conn_import. A connection with timers or
     * deferred answers outstanding moves only once they are done. */
    int (*conn_export)(void *state, struct lp_conn *conn, void *conn_state, void *buf, size_t cap,
                       size_t *len);
    int (*conn_import)(void *state, struct lp_conn *conn, const void *buf, size_t len,
                       void **conn_state);
};

/* The smallest buffer conn_export is given. */
#define LP_EXPORT_MIN 4096

/* The symbol the loader looks up. */
#define LP_PLUGIN_SYMBOL "lp_plugin"

/* Helpers over the table, so plugin code reads naturally. */
static inline int lp_reply_str(const struct lp_host *h, struct lp_conn *c, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return h->reply(c, s, n);
}

/* The value of the declared argument `name` in a load_args call (NULL if not declared). */
static inline const union lp_value *lp_arg_value(const struct lp_load *ld,
                                                 const struct lp_plugin *self, const char *name)
{
    for (size_t i = 0; self->args && self->args[i].name; i++) {
        const char *a = self->args[i].name, *b = name;
        while (*a && *a == *b)
            a++, b++;
        if (*a == *b)
            return &ld->values[i];
    }
    return NULL;
}

/* Drops one trailing '\r' (for CRLF clients) by shortening *len. */
static inline void lp_strip_cr(const char *msg, size_t *len)
{
    if (*len > 0 && msg[*len - 1] == '\r')
        (*len)--;
}

#ifdef __cplusplus
}
#endif
#endif /* LINEPOOL_H */

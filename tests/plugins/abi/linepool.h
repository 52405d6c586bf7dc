/* The plugin header as released with ABI 1 (minor 0), kept verbatim: v10.c builds against it
 * to prove that a plugin built before minor 1 still loads. Do not edit. */
/* linepool.h - the one header a linepool plugin includes.
 *
 * A plugin is a shared object exporting one symbol, `lp_plugin`, a const struct lp_plugin.
 * The server frames each TCP byte stream into messages (the bytes before each '\n') and
 * passes every message through the plugins chained on that listener, in order.
 * A plugin never links against the server: everything it may ask of the host is in the
 * struct lp_host function table handed to its load hook.
 *
 * Thread rules (the host guarantees these; a plugin relies on nothing more):
 *   - load and unload run once, on the main thread, with no connection open.
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

/* Bumped on any incompatible change of struct lp_plugin or struct lp_host. The loader
 * refuses a plugin built against another value. */
#define LP_PLUGIN_ABI 1

#define LP_EXPORT __attribute__((visibility("default")))

/* One connection, owned by the host. Opaque to plugins. */
struct lp_conn;
struct lp_plugin;

enum lp_log_level { LP_LOG_ERROR = 0, LP_LOG_WARN = 1, LP_LOG_INFO = 2, LP_LOG_DEBUG = 3 };

/* What a message hook returns: pass the message on to the next plugin in the chain, or
 * stop here (later plugins do not see it). */
enum lp_verdict { LP_NEXT = 0, LP_STOP = 1 };

/* Host services. Every function is safe to call from any thread, but the ones taking a
 * connection only from a hook running for that connection. */
struct lp_host {
    uint32_t abi;       /* LP_PLUGIN_ABI of the server */
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
    /* The peer as "127.0.0.1:50696" or "[::1]:50696"; valid until the close hook returns. */
    const char *(*peer)(struct lp_conn *conn);
    /* A number unique to this connection for the life of the server, starting at 1. */
    uint64_t (*conn_id)(struct lp_conn *conn);
    /* Non-zero once the server has been asked to stop (SIGINT/SIGTERM): a long-blocking
     * hook should return soon. */
    int (*stopping)(void);
    /* Monotonic clock in nanoseconds, the one the host uses for its own timings. */
    uint64_t (*now_ns)(void);
};

/* The descriptor. Every hook but message may be NULL. Each hook that can fail returns 0 or
 * a negative errno. */
struct lp_plugin {
    uint32_t abi;        /* always LP_PLUGIN_ABI */
    const char *name;    /* short name users write in --listen, e.g. "echo" */
    const char *version; /* the plugin's own version, e.g. "1.0.0" */
    const char *summary; /* one line for --list-plugins */

    /* Once, before any connection. `args` is the text after ':' in --plugin NAME:ARGS, or
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
};

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

/* reloadable - a test plugin for SIGHUP reloads (tests/integration/test_reload.py), built in
 * variants by reload.cmake; every variant calls itself "reloadable", so one can be copied
 * over another as its new version:
 *   reloadable.so       answers each message "reloadable VERSION" and keeps a repeating
 *                       plugin timer (every 1 ms) that touches its state: a timer still
 *                       running into an unloaded version would crash the server;
 *   reloadable_v2.so    the same, VERSION 2;
 *   reloadable_fail.so  its load hook fails with a message;
 *   reloadable_hang.so  its load hook never returns (--reload-timeout gives up on it). */
#include <linepool.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef RELOADABLE_VERSION
#define RELOADABLE_VERSION "1"
#endif

extern const struct lp_plugin lp_plugin;

struct state {
    const struct lp_host *host;
    uint64_t timer;
    _Atomic uint64_t ticks;
};

static void tick(void *arg, struct lp_conn *conn, uint64_t id)
{
    (void)conn, (void)id;
    struct state *st = arg;
    atomic_fetch_add_explicit(&st->ticks, 1, memory_order_relaxed);
}

static int reloadable_load(const struct lp_load *ld, void **state, char *err, size_t errlen)
{
    (void)err, (void)errlen;
#if defined(RELOADABLE_FAIL)
    snprintf(err, errlen, "refusing on purpose (the failing variant)");
    return -EINVAL;
#elif defined(RELOADABLE_HANG)
    for (;;) { /* never returns: the server must give up on it, not wait */
        struct timespec ts = {.tv_sec = 1};
        nanosleep(&ts, NULL);
    }
#endif
    struct state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    st->host = ld->host;
    int rc = st->host->timer_start(NULL, 1000000, 1000000, tick, st, &st->timer);
    if (rc) {
        free(st);
        return rc;
    }
    *state = st;
    return 0;
}

static void reloadable_unload(void *state)
{
    struct state *st = state;
    st->host->log(&lp_plugin, LP_LOG_INFO, "version %s unloaded after %s ticks", RELOADABLE_VERSION,
                  atomic_load_explicit(&st->ticks, memory_order_relaxed) ? "some" : "no");
    free(st);
}

static enum lp_verdict reloadable_message(void *state, struct lp_conn *conn, void *conn_state,
                                          const char *msg, size_t len)
{
    (void)conn_state, (void)msg, (void)len;
    struct state *st = state;
    lp_reply_str(st->host, conn, "reloadable " RELOADABLE_VERSION "\n");
    return LP_STOP;
}

static const struct lp_arg reloadable_args[] = {{0}};

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "reloadable",
    .version = RELOADABLE_VERSION,
    .summary = "a test plugin for reloads: answers its version",
    .args = reloadable_args,
    .load_args = reloadable_load,
    .unload = reloadable_unload,
    .message = reloadable_message,
};

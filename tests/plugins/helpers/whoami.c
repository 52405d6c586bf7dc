/* whoami - answers "whoami" with "PEER via VIA" (host peer and, minor 2, via; "-" when via is
 * NULL) and logs "whoami open PEER" from its open hook, so a test can tell which connections
 * reached the plugins at all. Other messages pass on (LP_NOT_MINE). */
#include <linepool.h>

#include <stdio.h>
#include <string.h>

static const struct lp_host *host;
LP_EXPORT extern const struct lp_plugin lp_plugin;

static int whoami_load(const struct lp_host *h, const char *args, void **state, char *err,
                       size_t errlen)
{
    (void)args, (void)state;
    if (!LP_HOST_HAS(h, via)) {
        snprintf(err, errlen, "needs a host with via (ABI 1.2)");
        return -95;
    }
    host = h;
    return 0;
}

static int whoami_open(void *state, struct lp_conn *conn, void **conn_state)
{
    (void)state, (void)conn_state;
    host->log(&lp_plugin, LP_LOG_INFO, "whoami open %s", host->peer(conn));
    return 0;
}

static enum lp_verdict whoami_message(void *state, struct lp_conn *conn, void *conn_state,
                                      const char *msg, size_t len)
{
    (void)state, (void)conn_state;
    lp_strip_cr(msg, &len);
    if (len != 6 || memcmp(msg, "whoami", 6) != 0)
        return LP_NOT_MINE;
    const char *via = host->via(conn);
    char line[256];
    int n = snprintf(line, sizeof line, "%s via %s\n", host->peer(conn), via ? via : "-");
    host->reply(conn, line, (size_t)n);
    return LP_STOP;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "whoami",
    .version = "1.0.0",
    .summary = "test plugin: answers 'whoami' with the peer and the proxy it came through",
    .load = whoami_load,
    .open = whoami_open,
    .message = whoami_message,
};

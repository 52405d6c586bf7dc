/* slow - a test plugin whose handler blocks: "sleep N" sleeps N milliseconds, then answers
 * "slept N"; any other message is echoed. It ignores the stop flag on purpose, to stand for
 * a handler stuck in a remote call. */
#include <linepool.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct lp_host *host;

static int slow_load(const struct lp_host *h, const char *args, void **state, char *err,
                     size_t errlen)
{
    (void)args;
    (void)state;
    (void)err;
    (void)errlen;
    host = h;
    return 0;
}

static enum lp_verdict slow_message(void *state, struct lp_conn *conn, void *conn_state,
                                    const char *msg, size_t len)
{
    (void)state;
    (void)conn_state;
    if (len > 6 && len < 32 && memcmp(msg, "sleep ", 6) == 0) {
        char num[32];
        memcpy(num, msg + 6, len - 6);
        num[len - 6] = '\0';
        long ms = strtol(num, NULL, 10);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0)
            ;
        host->reply(conn, "slept ", 6);
        host->reply(conn, num, strlen(num));
        host->reply(conn, "\n", 1);
        return LP_STOP;
    }
    host->reply(conn, msg, len);
    host->reply(conn, "\n", 1);
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "slow",
    .version = "1.0.0",
    .summary = "test plugin: 'sleep N' blocks N ms",
    .load = slow_load,
    .message = slow_message,
};

/* echo - answers every message with the same bytes plus '\n'. */
#include <linepool.h>

#include <string.h>

static const struct lp_host *host;

static int echo_load(const struct lp_host *h, const char *args, void **state, char *err,
                     size_t errlen)
{
    (void)state;
    if (args[0] != '\0') {
        strncpy(err, "echo takes no arguments", errlen - 1);
        err[errlen - 1] = '\0';
        return -22; /* EINVAL */
    }
    host = h;
    return 0;
}

static enum lp_verdict echo_message(void *state, struct lp_conn *conn, void *conn_state,
                                    const char *msg, size_t len)
{
    (void)state;
    (void)conn_state;
    host->reply(conn, msg, len);
    host->reply(conn, "\n", 1);
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "echo",
    .version = "1.0.0",
    .summary = "answers each message verbatim plus a newline",
    .load = echo_load,
    .message = echo_message,
};

/* v10 - a plugin built against the first header (tests/plugins/abi/linepool.h, `.abi = 1`,
 * the descriptor ending at `message`): it must load on a minor-1 server and work. Answers
 * each message with "v10 " + the message. */
#include <linepool.h>

static const struct lp_host *host;

static int v10_load(const struct lp_host *h, const char *args, void **state, char *err,
                    size_t errlen)
{
    (void)args, (void)state, (void)err, (void)errlen;
    host = h;
    return 0;
}

static enum lp_verdict v10_message(void *state, struct lp_conn *conn, void *conn_state,
                                   const char *msg, size_t len)
{
    (void)state, (void)conn_state;
    host->reply(conn, "v10 ", 4);
    host->reply(conn, msg, len);
    host->reply(conn, "\n", 1);
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI, /* 1 in that header */
    .name = "v10",
    .version = "1.0.0",
    .summary = "built against ABI 1.0",
    .load = v10_load,
    .message = v10_message,
};

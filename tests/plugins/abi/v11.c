/* v11 - a plugin built against the minor-1 header (tests/plugins/abi/v11/linepool.h, kept
 * verbatim: its struct lp_host ends at timer_cancel): it must load on a minor-2 server and
 * use minor-1 features there. Declared argument `tag` (default "v11"); answers each message
 * with "TAG MSG", and "listener NAME" to "where". */
#include <linepool.h>

#include <string.h>

static const struct lp_host *host;
static char tag[32];

static const struct lp_arg v11_args[] = {
    {.name = "tag", .type = LP_ARG_STRING, .def = "v11", .min = 1, .max = 31, .help = "prefix"},
    {0},
};

static int v11_load(const struct lp_load *ld, void **state, char *err, size_t errlen)
{
    (void)state, (void)err, (void)errlen;
    host = ld->host;
    const char *t = ld->values[0].s;
    memcpy(tag, t, strlen(t) + 1);
    return LP_HOST_HAS(host, listener_name) ? 0 : -22;
}

static enum lp_verdict v11_message(void *state, struct lp_conn *conn, void *conn_state,
                                   const char *msg, size_t len)
{
    (void)state, (void)conn_state;
    if (len == 5 && memcmp(msg, "where", 5) == 0) {
        lp_reply_str(host, conn, "listener ");
        lp_reply_str(host, conn, host->listener_name(conn));
    } else {
        lp_reply_str(host, conn, tag);
        host->reply(conn, " ", 1);
        host->reply(conn, msg, len);
    }
    host->reply(conn, "\n", 1);
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI, /* 1.1 in that header */
    .name = "v11",
    .version = "1.1.0",
    .summary = "built against ABI 1.1",
    .message = v11_message,
    .args = v11_args,
    .load_args = v11_load,
};

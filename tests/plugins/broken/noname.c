/* noname - a descriptor without a name. */
#include <linepool.h>

static enum lp_verdict noname_message(void *state, struct lp_conn *conn, void *conn_state,
                                      const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .message = noname_message,
};

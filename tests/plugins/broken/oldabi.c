/* oldabi - a plugin built against an older header: ABI version 0. */
#include <linepool.h>

static enum lp_verdict oldabi_message(void *state, struct lp_conn *conn, void *conn_state,
                                      const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = 0,
    .name = "oldabi",
    .message = oldabi_message,
};

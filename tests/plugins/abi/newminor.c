/* newminor - claims a minor newer than the server's: must be refused, naming both. */
#include <linepool.h>

static enum lp_verdict newminor_message(void *state, struct lp_conn *conn, void *conn_state,
                                        const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_ABI_VERSION(LP_ABI_MAJOR, LP_ABI_MINOR + 1),
    .name = "newminor",
    .message = newminor_message,
};

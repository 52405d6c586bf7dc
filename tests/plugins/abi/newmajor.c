/* newmajor - built for the next major: must be refused, naming both versions. */
#include <linepool.h>

static enum lp_verdict newmajor_message(void *state, struct lp_conn *conn, void *conn_state,
                                        const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_ABI_VERSION(LP_ABI_MAJOR + 1, 0),
    .name = "newmajor",
    .message = newmajor_message,
};

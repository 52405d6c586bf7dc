/* impostor - a well-formed plugin that calls itself "echo", for the duplicate-name refusal
 * (loaded by path) and the short-name mismatch refusal (loaded as "impostor"). */
#include <linepool.h>

static enum lp_verdict impostor_message(void *state, struct lp_conn *conn, void *conn_state,
                                        const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "echo",
    .message = impostor_message,
};

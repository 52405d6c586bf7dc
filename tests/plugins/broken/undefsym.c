/* undefsym - needs a function nobody defines, so dlopen(RTLD_NOW) must fail at startup
 * instead of on the first message. */
#include <linepool.h>

void lp_no_such_function(void);

static enum lp_verdict undefsym_message(void *state, struct lp_conn *conn, void *conn_state,
                                        const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    lp_no_such_function();
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "undefsym",
    .message = undefsym_message,
};

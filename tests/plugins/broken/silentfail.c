/* silentfail - a load hook that fails without writing a reason. */
#include <linepool.h>

#include <errno.h>

static int silentfail_load(const struct lp_host *h, const char *args, void **state, char *err,
                           size_t errlen)
{
    (void)h, (void)args, (void)state, (void)err, (void)errlen;
    return -EACCES;
}

static enum lp_verdict silentfail_message(void *state, struct lp_conn *conn, void *conn_state,
                                          const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "silentfail",
    .load = silentfail_load,
    .message = silentfail_message,
};

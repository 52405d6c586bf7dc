/* failload - a load hook that always fails, quoting its arguments (with a newline, which
 * the loader must flatten into its one line). */
#include <linepool.h>

#include <errno.h>
#include <stdio.h>

static int failload_load(const struct lp_host *h, const char *args, void **state, char *err,
                         size_t errlen)
{
    (void)h, (void)state;
    snprintf(err, errlen, "refusing on purpose\n(args '%s')", args);
    return -EINVAL;
}

static enum lp_verdict failload_message(void *state, struct lp_conn *conn, void *conn_state,
                                        const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "failload",
    .load = failload_load,
    .message = failload_message,
};

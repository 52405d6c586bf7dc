/* echo - answers every message with the same bytes plus '\n'. */
#include <linepool.h>

/* A test build answers visibly differently (tests/integration/reload.cmake builds one as
 * echo_v2.so, to stand in for a new version at a reload): every reply starts with
 * LP_ECHO_PREFIX. The prefix is a constant, so the bundled echo pays nothing for it. */
#ifndef LP_ECHO_PREFIX
#define LP_ECHO_PREFIX  ""
#define LP_ECHO_VERSION "1.0.0"
#endif

static const struct lp_host *host; /* the same for every instance of one version */

static const struct lp_arg echo_args[] = {{0}}; /* no arguments: any is refused */

static int echo_load(const struct lp_load *ld, void **state, char *err, size_t errlen)
{
    (void)state, (void)err, (void)errlen;
    host = ld->host;
    return 0;
}

static enum lp_verdict echo_message(void *state, struct lp_conn *conn, void *conn_state,
                                    const char *msg, size_t len)
{
    (void)state;
    (void)conn_state;
    if (sizeof LP_ECHO_PREFIX > 1)
        host->reply(conn, LP_ECHO_PREFIX, sizeof LP_ECHO_PREFIX - 1);
    host->reply(conn, msg, len);
    host->reply(conn, "\n", 1);
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "echo",
    .version = LP_ECHO_VERSION,
    .summary = "answers each message verbatim plus a newline",
    .args = echo_args,
    .load_args = echo_load,
    .message = echo_message,
};

/* where - answers "where" with its tag, the connection's listener name and address:
 * "TAG NAME ADDR". Declares an older minor (1.0) and tests for the listener functions with
 * LP_HOST_HAS, the way a plugin that wants to load on older servers does (so it uses only
 * minor-0 verdicts: other messages are LP_NEXT). Its tag (an argument) is per instance:
 * where@a:tag=A. */
#include <linepool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct where {
    const struct lp_host *host;
    char tag[32];
};

static int where_load(const struct lp_host *h, const char *args, void **state, char *err,
                      size_t errlen)
{
    struct where *w = calloc(1, sizeof *w);
    if (!w)
        return -12;
    w->host = h;
    if (strncmp(args, "tag=", 4) == 0 && strlen(args + 4) < sizeof w->tag)
        strcpy(w->tag, args + 4);
    else if (args[0]) {
        snprintf(err, errlen, "expected tag=TEXT");
        free(w);
        return -22;
    } else
        strcpy(w->tag, "-");
    *state = w;
    return 0;
}

static enum lp_verdict where_message(void *state, struct lp_conn *conn, void *conn_state,
                                     const char *msg, size_t len)
{
    struct where *w = state;
    (void)conn_state;
    if (len != 5 || memcmp(msg, "where", 5) != 0)
        return LP_NEXT;
    char line[256];
    int has = LP_HOST_HAS(w->host, listener_name) && LP_HOST_HAS(w->host, listener_addr);
    int n =
        snprintf(line, sizeof line, "%s %s %s\n", w->tag, has ? w->host->listener_name(conn) : "?",
                 has ? w->host->listener_addr(conn) : "?");
    w->host->reply(conn, line, (size_t)n);
    return LP_STOP;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_ABI_VERSION(1, 0),
    .name = "where",
    .version = "1.0.0",
    .summary = "test plugin: answers 'where' with its tag and the listener",
    .load = where_load,
    .unload = free,
    .message = where_message,
};

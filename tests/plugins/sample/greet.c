/* greet - the example plugin of plugins/README.md: answers each message with a greeting and
 * the message's number on its connection, e.g. "hello #1: world". --plugin greet:TEXT sets
 * the greeting (default "hello"). */
#include <linepool.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct lp_plugin lp_plugin;

struct greet {
    const struct lp_host *host;
    char greeting[64];
};

struct greet_conn {
    unsigned long messages;
};

static int greet_load(const struct lp_host *host, const char *args, void **state, char *err,
                      size_t errlen)
{
    if (strlen(args) >= sizeof((struct greet *)0)->greeting) {
        snprintf(err, errlen, "greeting longer than 63 bytes");
        return -EINVAL;
    }
    struct greet *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->host = host;
    strcpy(g->greeting, args[0] ? args : "hello");
    *state = g;
    return 0;
}

static void greet_unload(void *state)
{
    free(state);
}

static int greet_open(void *state, struct lp_conn *conn, void **conn_state)
{
    (void)state, (void)conn;
    *conn_state = calloc(1, sizeof(struct greet_conn));
    return *conn_state ? 0 : -ENOMEM;
}

static void greet_close(void *state, struct lp_conn *conn, void *conn_state)
{
    struct greet *g = state;
    struct greet_conn *gc = conn_state;
    if (gc)
        g->host->log(&lp_plugin, LP_LOG_INFO, "%s greeted %lu times", g->host->peer(conn),
                     gc->messages);
    free(gc);
}

static enum lp_verdict greet_message(void *state, struct lp_conn *conn, void *conn_state,
                                     const char *msg, size_t len)
{
    struct greet *g = state;
    struct greet_conn *gc = conn_state;
    char head[96];
    lp_strip_cr(msg, &len);
    int n = snprintf(head, sizeof head, "%s #%lu: ", g->greeting, ++gc->messages);
    g->host->reply(conn, head, (size_t)n);
    g->host->reply(conn, msg, len);
    g->host->reply(conn, "\n", 1);
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "greet",
    .version = "1.0.0",
    .summary = "answers each message with a numbered greeting",
    .load = greet_load,
    .unload = greet_unload,
    .open = greet_open,
    .close = greet_close,
    .message = greet_message,
};

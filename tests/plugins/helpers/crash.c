/* crash - dies with a NULL write (the bug the crash report must name) in its message hook on
 * "crash", or in its open hook when loaded with crash:in_open=1. Built without sanitizers,
 * so the fault is a plain SIGSEGV in every build. */
#include <linepool.h>

#include <stddef.h>
#include <string.h>

extern const struct lp_plugin lp_plugin;

static int in_open;

static void fault(void)
{
    volatile int *p = NULL;
    *p = 1;
}

static int crash_load(const struct lp_load *ld, void **state, char *err, size_t errlen)
{
    (void)state, (void)err, (void)errlen;
    in_open = lp_arg_value(ld, &lp_plugin, "in_open")->b;
    return 0;
}

static int crash_open(void *state, struct lp_conn *conn, void **conn_state)
{
    (void)state, (void)conn, (void)conn_state;
    if (in_open)
        fault();
    return 0;
}

static enum lp_verdict crash_message(void *state, struct lp_conn *conn, void *conn_state,
                                     const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state;
    if (len == 5 && memcmp(msg, "crash", 5) == 0)
        fault();
    return LP_NOT_MINE;
}

static const struct lp_arg crash_args[] = {
    {.name = "in_open", .type = LP_ARG_BOOL, .def = "0", .help = "crash in open instead"},
    {0},
};

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "crash",
    .summary = "test plugin: a NULL write on 'crash'",
    .args = crash_args,
    .load_args = crash_load,
    .open = crash_open,
    .message = crash_message,
};

/* probe - a correct plugin for the loader's success cases: its state is a copy of the
 * argument string it was loaded with, and it counts unloads in a counter the test reads
 * through the exported `probe_unloads` symbol. */
#include <linepool.h>

#include <stdlib.h>
#include <string.h>

LP_EXPORT int probe_unloads;

static int probe_load(const struct lp_host *h, const char *args, void **state, char *err,
                      size_t errlen)
{
    (void)h, (void)err, (void)errlen;
    *state = strdup(args);
    return *state ? 0 : -12; /* ENOMEM */
}

static void probe_unload(void *state)
{
    free(state);
    probe_unloads++;
}

static enum lp_verdict probe_message(void *state, struct lp_conn *conn, void *conn_state,
                                     const char *msg, size_t len)
{
    (void)state, (void)conn, (void)conn_state, (void)msg, (void)len;
    return LP_NEXT;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "probe",
    .version = "1.0.0",
    .summary = "test plugin: state is its argument string",
    .load = probe_load,
    .unload = probe_unload,
    .message = probe_message,
};

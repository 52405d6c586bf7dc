/* chain - the plugins on one listener, run in order for each event of a connection, and
 * the record of which plugin hook a thread is in (named in the log if it crashes there).
 * A listener's chain holds the current version of each plugin (a reload swaps one in, on the
 * main thread, which alone reads it); each connection copies it when accepted and runs its
 * own copy (`ps`, n slots), next to its array of per-plugin states (one slot per plugin),
 * both owned by the connection's owner thread. Each call names the connection twice: the
 * handle its hooks get, and its id (conn_id) for the crash report. */
#ifndef LINEPOOL_CHAIN_H
#define LINEPOOL_CHAIN_H

#include <linepool.h>
#include <stddef.h>
#include <stdint.h>

struct plugin;

struct chain {
    struct plugin **plugins;
    size_t n;
    const char *listener_name; /* --listen NAME@..., or the bound address */
    const char *listener_addr; /* the bound address, "127.0.0.1:7000" */
    unsigned index;            /* the listener's place in the server's list (for counters) */
};

/* Runs every open hook in order. Returns 0, or -ECONNREFUSED with *refused_by set to the
 * name of the plugin that refused (the later plugins' open hooks do not run). */
int chain_open(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
               void **states, const char **refused_by);

/* Tells every plugin with a read hook that n bytes arrived, before they are framed. */
void chain_read(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
                void **states, size_t nbytes);

/* One complete message through the chain, until a plugin answers LP_STOP. When every plugin
 * answered LP_NOT_MINE, the first plugin with an `unhandled` hook gets the message. With
 * `row` (the calling worker's histograms, indexed by plugin->index), each message hook's time
 * is recorded: one clock read per hook plus one. */
struct timing;
void chain_message(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
                   void **states, const char *msg, size_t len, struct timing *row);

/* Every close hook, last plugin first. Called once, and only after chain_open ran. */
void chain_close(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
                 void **states);

/* Where the calling thread is: inside plugin `name`'s hook `hook` for connection conn_id (0
 * = none). Set around every hook call (here and in the registry); read by the crash report
 * and by host functions that depend on the hook. The pointed-to site must stay valid until
 * chain_site_enter(NULL). */
struct chain_site {
    const char *name;
    const char *hook;
    uint64_t conn_id;
};
void chain_site_enter(const struct chain_site *site);
/* The calling thread's site, NULL outside plugin code: whose timer a timer_start is, which
 * plugin a metric_new or shared call comes from. */
const struct chain_site *chain_site_current(void);

/* Installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT that, when the thread
 * was inside a plugin hook, write one line naming the plugin, the hook and the connection
 * to stderr (async-signal-safe: write(2) only), then let the process die by the same signal
 * as before. Main thread, at startup. Returns 0 or -errno. */
int chain_crash_report_install(void);

#endif

/* chain - the plugins on one listener, run in order for each event of a connection.
 * The chain is immutable once the server starts; `states` is the connection's array of
 * per-plugin states (one slot per plugin), owned by the connection's owner thread. */
#ifndef LINEPOOL_CHAIN_H
#define LINEPOOL_CHAIN_H

#include <linepool.h>
#include <stddef.h>

struct plugin;

struct chain {
    struct plugin **plugins;
    size_t n;
};

/* Runs every open hook in order. Returns 0, or -ECONNREFUSED with *refused_by set to the
 * name of the plugin that refused (the later plugins' open hooks do not run). */
int chain_open(const struct chain *ch, struct lp_conn *c, void **states, const char **refused_by);

/* Tells every plugin with a read hook that n bytes arrived, before they are framed. */
void chain_read(const struct chain *ch, struct lp_conn *c, void **states, size_t n);

/* One complete message through the chain, until a plugin answers LP_STOP. */
void chain_message(const struct chain *ch, struct lp_conn *c, void **states, const char *msg,
                   size_t len);

/* Every close hook, last plugin first. Called once, and only after chain_open ran. */
void chain_close(const struct chain *ch, struct lp_conn *c, void **states);

#endif

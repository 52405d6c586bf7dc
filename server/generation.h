/* generation - which version of each plugin a connection runs, and moving it to a newer one.
 * Every connection counts itself on the versions it holds: once when accepted, once when its
 * close hooks have returned, never per message, so a version no connection counts runs no
 * hook any more and may be unloaded (reload.h). Counting is host code after the hook
 * returned: a plugin never decides when its own code may go. */
#ifndef LINEPOOL_GENERATION_H
#define LINEPOOL_GENERATION_H

#include <linepool.h>
#include <stddef.h>
#include <stdint.h>

struct plugin;

/* Accept (main thread): copies the listener's current versions into the connection's own
 * slots and counts it on each. Returns the mask of slots whose plugin migrates. */
uint32_t generation_hold(struct plugin **mine, struct plugin *const *current, size_t n);

/* After the close hooks: the connection no longer counts on its versions. */
void generation_release(struct plugin *const *mine, size_t n);

/* Whether a newer version of p has been published (one relaxed load). */
int generation_replaced(const struct plugin *p);

enum { GEN_STAYED = 0, GEN_MOVED = 1, GEN_PINNED = 2, GEN_LOST = 3 };

/* Owner thread, at a message boundary: moves one slot (*slot, *state) to the current version
 * through the old version's conn_export and the new one's conn_import. GEN_MOVED; GEN_STAYED
 * (nothing newer, or the export refused: asked again at the next message); GEN_PINNED (the
 * new version has no import hook, or refused and the old one took the state back: the slot
 * stays where it is for good);
 * GEN_LOST (neither version took the state back; *state is NULL). */
int generation_migrate(struct plugin **slot, void **state, struct lp_conn *conn, uint64_t conn_id);

#endif

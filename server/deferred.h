/* deferred - a connection's answers promised for later (host defer/complete/overtake).
 * The owner thread issues tickets and takes completed answers; completers on any thread
 * fill them in. Both sides hold the spin word while touching the queue; a completer finds
 * the connection only through the connset, under its lock, so the connection (and the
 * `struct deferred` in it) cannot be destroyed under it. */
#ifndef LINEPOOL_DEFERRED_H
#define LINEPOOL_DEFERRED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct deferred_queue;

/* Embedded in each connection, zeroed when it is made; only these functions touch it. */
struct deferred {
    _Atomic int spin;             /* guards `queue` against completers on other threads */
    struct deferred_queue *queue; /* made on the first defer: most never defer */
};

/* Owner: whether the connection ever deferred (since deferred_free): one load, no lock, so
 * a connection that never defers pays nothing per run. */
static inline int deferred_any(const struct deferred *d)
{
    return d->queue != NULL;
}

/* Owner: a new ticket for the message being handled. 0 or -ENOMEM. */
int deferred_issue(struct deferred *d, uint64_t *seq);

/* Any thread, under the connset lock: fills ticket seq with a copy of the bytes. 0,
 * -EALREADY (completed before), -ESTALE (never issued), -ENOMEM. */
int deferred_fill(struct deferred *d, uint64_t seq, const void *bytes, size_t len, unsigned flags);

/* Owner: queues the completed answers as replies of `to` (conn_reply), in the order of their
 * messages (with overtake: every completed one). Returns how many; *close is set when one
 * asked to close. */
size_t deferred_take(struct deferred *d, struct conn *to, int overtake, int *close);

/* Owner: whether an earlier answer is still outstanding (later messages must wait). */
int deferred_outstanding(struct deferred *d);

/* Owner: keeps the input that follows a message whose answer is outstanding, and gives it
 * back once the answers are in. deferred_hold copies; deferred_unhold hands over ownership
 * (free() it), NULL when nothing is held. */
int deferred_hold(struct deferred *d, const char *bytes, size_t len);
char *deferred_unhold(struct deferred *d, size_t *len);

/* Owner, at destroy: drops everything (answers still outstanding are dropped; their later
 * completions find no connection). */
void deferred_free(struct deferred *d);

#endif

/* deferred - a connection's answers promised for later (host defer/complete/overtake).
 * The owner thread issues tickets and takes completed answers; completers on any thread
 * fill them in. Both sides hold the connection's `dspin` while touching the queue; a
 * completer finds the connection only through the connset, under its lock, so the
 * connection cannot be destroyed under it. */
#ifndef LINEPOOL_DEFERRED_H
#define LINEPOOL_DEFERRED_H

#include <stddef.h>
#include <stdint.h>

struct conn;

/* Owner: a new ticket for the message being handled. 0 or -ENOMEM. */
int deferred_issue(struct conn *c, uint64_t *seq);

/* Any thread, under the connset lock: fills ticket seq with a copy of the bytes. 0,
 * -EALREADY (completed before), -ESTALE (never issued), -ENOMEM. */
int deferred_fill(struct conn *c, uint64_t seq, const void *bytes, size_t len, unsigned flags);

/* Owner: queues the completed answers as replies, in the order of their messages (with
 * overtake: every completed one). Returns how many; *close is set when one asked to close. */
size_t deferred_take(struct conn *c, int overtake, int *close);

/* Owner: whether an earlier answer is still outstanding (later messages must wait). */
int deferred_outstanding(struct conn *c);

/* Owner: keeps the input that follows a message whose answer is outstanding, and gives it
 * back once the answers are in. deferred_hold copies; deferred_unhold hands over ownership
 * (free() it), NULL when nothing is held. */
int deferred_hold(struct conn *c, const char *bytes, size_t len);
char *deferred_unhold(struct conn *c, size_t *len);

/* Owner, at destroy: drops everything (answers still outstanding are dropped; their later
 * completions find no connection). */
void deferred_free(struct conn *c);

#endif

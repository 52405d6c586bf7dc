/* connset - the set of open connections, so the main thread can count them, sweep timeouts
 * and signal every one at shutdown. One mutex; taken on open, close and a sweep, never per
 * message. A connection leaves the set before its fd is closed, so a sweep that holds the
 * lock never touches a closed (and maybe reused) fd. */
#ifndef LINEPOOL_CONNSET_H
#define LINEPOOL_CONNSET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* A member's place in the set, embedded in the connection (conn_of_link, conn.h, turns it
 * back into one). The links are the set's, under its lock; id is the hash key, set before
 * connset_add and unchanged while in the set. */
struct connset_link {
    struct connset_link *prev, *next; /* in the list */
    struct connset_link *hnext;       /* in the id hash */
    uint64_t id;
};

struct connset {
    pthread_mutex_t lock;
    struct connset_link *head;
    size_t count;
    struct connset_link **buckets; /* by id: for completions that name a connection by its id */
    size_t nbuckets;               /* a power of two, or 0 */
};

void connset_init(struct connset *set);
void connset_destroy(struct connset *set);
void connset_add(struct connset *set, struct connset_link *l);
void connset_remove(struct connset *set, struct connset_link *l);
size_t connset_count(struct connset *set);

/* Calls fn for the connection with this id, with the lock held (so it cannot be destroyed
 * meanwhile: a connection leaves the set first), and returns fn's result; -ESTALE when there
 * is none. fn must not block. Any thread. */
int connset_with(struct connset *set, uint64_t id, int (*fn)(struct connset_link *l, void *arg),
                 void *arg);

/* Calls fn for every connection with the lock held: fn must not block nor close. */
void connset_foreach(struct connset *set, void (*fn)(struct connset_link *l, void *arg), void *arg);

#endif

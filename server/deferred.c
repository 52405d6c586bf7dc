/* deferred - the queue of a connection's promised answers; see deferred.h. */
#include "deferred.h"

#include "conn.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

struct answer {
    struct answer *next;
    uint64_t seq;
    int done;
    unsigned flags;
    char *bytes;
    size_t len;
};

/* Made on the first defer of a connection: most never defer and pay one pointer. */
struct deferred_queue {
    struct answer *head, *tail; /* outstanding or completed, not yet taken; message order */
    uint64_t issued;            /* tickets so far (seq of the last one) */
    char *held;                 /* owner only: input after a message still waiting */
    size_t held_len;
};

/* A completion holds it for a lookup and a few stores: a spin is cheaper than a mutex in
 * every connection (40 bytes each), and it is never taken on a message without deferrals. */
static void spin_lock(_Atomic int *lock)
{
    int expected = 0;
    while (!atomic_compare_exchange_weak_explicit(lock, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed)) {
        expected = 0;
        sched_yield();
    }
}

static void spin_unlock(_Atomic int *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
}

int deferred_issue(struct deferred *d, uint64_t *seq)
{
    struct answer *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    struct deferred_queue *made = NULL;
    if (!d->queue && !(made = calloc(1, sizeof *made))) {
        free(a);
        return -ENOMEM;
    }
    spin_lock(&d->spin);
    if (made)
        d->queue = made;
    struct deferred_queue *q = d->queue;
    a->seq = ++q->issued;
    if (q->tail)
        q->tail->next = a;
    else
        q->head = a;
    q->tail = a;
    spin_unlock(&d->spin);
    *seq = a->seq;
    return 0;
}

int deferred_fill(struct deferred *d, uint64_t seq, const void *bytes, size_t len, unsigned flags)
{
    char *copy = NULL;
    if (len && !(copy = malloc(len)))
        return -ENOMEM;
    if (len)
        memcpy(copy, bytes, len);
    int rc = -ESTALE;
    spin_lock(&d->spin);
    struct deferred_queue *q = d->queue;
    if (q) {
        struct answer *a = q->head;
        while (a && a->seq != seq)
            a = a->next;
        if (a && !a->done) {
            a->bytes = copy;
            a->len = len;
            a->flags = flags;
            a->done = 1;
            copy = NULL;
            rc = 0;
        } else if (seq >= 1 && seq <= q->issued) {
            rc = -EALREADY; /* taken already, or completed twice */
        }
    }
    spin_unlock(&d->spin);
    free(copy);
    return rc;
}

size_t deferred_take(struct deferred *d, struct conn *to, int overtake, int *close)
{
    struct deferred_queue *q = d->queue;
    if (!q)
        return 0;
    struct answer *ready = NULL, **tail = &ready;
    spin_lock(&d->spin);
    for (struct answer **at = &q->head; *at;) {
        struct answer *a = *at;
        if (!a->done) {
            if (!overtake)
                break;
            at = &a->next;
            continue;
        }
        *at = a->next;
        a->next = NULL;
        *tail = a;
        tail = &a->next;
    }
    q->tail = NULL;
    for (struct answer *a = q->head; a; a = a->next)
        q->tail = a;
    spin_unlock(&d->spin);
    size_t n = 0;
    while (ready) {
        struct answer *a = ready;
        ready = a->next;
        if (a->len && conn_reply(to, a->bytes, a->len) < 0)
            *close = 1; /* out of memory for the reply: the peer cannot get it in order */
        if (a->flags & LP_COMPLETE_CLOSE)
            *close = 1;
        free(a->bytes);
        free(a);
        n++;
    }
    return n;
}

int deferred_outstanding(struct deferred *d)
{
    if (!d->queue)
        return 0;
    spin_lock(&d->spin);
    int any = d->queue->head != NULL;
    spin_unlock(&d->spin);
    return any;
}

int deferred_hold(struct deferred *d, const char *bytes, size_t len)
{
    struct deferred_queue *q = d->queue; /* made by the defer that asks for the hold */
    char *copy = malloc(len ? len : 1);
    if (!q || !copy) {
        free(copy);
        return -ENOMEM;
    }
    memcpy(copy, bytes, len);
    free(q->held);
    q->held = copy;
    q->held_len = len;
    return 0;
}

char *deferred_unhold(struct deferred *d, size_t *len)
{
    struct deferred_queue *q = d->queue;
    if (!q || !q->held)
        return NULL;
    char *held = q->held;
    *len = q->held_len;
    q->held = NULL;
    q->held_len = 0;
    return held;
}

void deferred_free(struct deferred *d)
{
    struct deferred_queue *q = d->queue;
    if (!q)
        return;
    spin_lock(&d->spin);
    d->queue = NULL;
    spin_unlock(&d->spin);
    for (struct answer *a = q->head, *next; a; a = next) {
        next = a->next;
        free(a->bytes);
        free(a);
    }
    free(q->held);
    free(q);
}

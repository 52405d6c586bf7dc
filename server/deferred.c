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
struct conn_deferred {
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

int deferred_issue(struct conn *c, uint64_t *seq)
{
    struct answer *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    struct conn_deferred *made = NULL;
    if (!c->deferred && !(made = calloc(1, sizeof *made))) {
        free(a);
        return -ENOMEM;
    }
    spin_lock(&c->dspin);
    if (made)
        c->deferred = made;
    struct conn_deferred *d = c->deferred;
    a->seq = ++d->issued;
    if (d->tail)
        d->tail->next = a;
    else
        d->head = a;
    d->tail = a;
    spin_unlock(&c->dspin);
    *seq = a->seq;
    return 0;
}

int deferred_fill(struct conn *c, uint64_t seq, const void *bytes, size_t len, unsigned flags)
{
    char *copy = NULL;
    if (len && !(copy = malloc(len)))
        return -ENOMEM;
    if (len)
        memcpy(copy, bytes, len);
    int rc = -ESTALE;
    spin_lock(&c->dspin);
    struct conn_deferred *d = c->deferred;
    if (d) {
        struct answer *a = d->head;
        while (a && a->seq != seq)
            a = a->next;
        if (a && !a->done) {
            a->bytes = copy;
            a->len = len;
            a->flags = flags;
            a->done = 1;
            copy = NULL;
            rc = 0;
        } else if (seq >= 1 && seq <= d->issued) {
            rc = -EALREADY; /* taken already, or completed twice */
        }
    }
    spin_unlock(&c->dspin);
    free(copy);
    return rc;
}

size_t deferred_take(struct conn *c, int overtake, int *close)
{
    struct conn_deferred *d = c->deferred;
    if (!d)
        return 0;
    struct answer *ready = NULL, **tail = &ready;
    spin_lock(&c->dspin);
    for (struct answer **at = &d->head; *at;) {
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
    d->tail = NULL;
    for (struct answer *a = d->head; a; a = a->next)
        d->tail = a;
    spin_unlock(&c->dspin);
    size_t n = 0;
    while (ready) {
        struct answer *a = ready;
        ready = a->next;
        if (a->len && conn_reply(c, a->bytes, a->len) < 0)
            *close = 1; /* out of memory for the reply: the peer cannot get it in order */
        if (a->flags & LP_COMPLETE_CLOSE)
            *close = 1;
        free(a->bytes);
        free(a);
        n++;
    }
    return n;
}

int deferred_outstanding(struct conn *c)
{
    if (!c->deferred)
        return 0;
    spin_lock(&c->dspin);
    int any = c->deferred->head != NULL;
    spin_unlock(&c->dspin);
    return any;
}

int deferred_hold(struct conn *c, const char *bytes, size_t len)
{
    struct conn_deferred *d = c->deferred; /* made by the defer that asks for the hold */
    char *copy = malloc(len ? len : 1);
    if (!d || !copy) {
        free(copy);
        return -ENOMEM;
    }
    memcpy(copy, bytes, len);
    free(d->held);
    d->held = copy;
    d->held_len = len;
    return 0;
}

char *deferred_unhold(struct conn *c, size_t *len)
{
    struct conn_deferred *d = c->deferred;
    if (!d || !d->held)
        return NULL;
    char *held = d->held;
    *len = d->held_len;
    d->held = NULL;
    d->held_len = 0;
    return held;
}

void deferred_free(struct conn *c)
{
    struct conn_deferred *d = c->deferred;
    if (!d)
        return;
    spin_lock(&c->dspin);
    c->deferred = NULL;
    spin_unlock(&c->dspin);
    for (struct answer *a = d->head, *next; a; a = next) {
        next = a->next;
        free(a->bytes);
        free(a);
    }
    free(d->held);
    free(d);
}

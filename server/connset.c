/* connset - a locked doubly linked list of open connections. */
#include "connset.h"

#include "conn.h"

#include <errno.h>
#include <stdlib.h>

static size_t bucket_of(const struct connset *set, uint64_t id)
{
    return (size_t)(id * 0x9e3779b97f4a7c15ull >> 32) & (set->nbuckets - 1);
}

/* Under lock: doubles the hash when it is fuller than one per bucket. On no memory it stays
 * as it is (longer chains, still correct). */
static void grow(struct connset *set)
{
    size_t n = set->nbuckets ? set->nbuckets * 2 : 256;
    struct conn **b = calloc(n, sizeof *b);
    if (!b)
        return;
    struct conn **old = set->buckets;
    size_t old_n = set->nbuckets;
    set->buckets = b;
    set->nbuckets = n;
    for (size_t i = 0; i < old_n; i++) {
        for (struct conn *c = old[i], *next; c; c = next) {
            next = c->hnext;
            size_t k = bucket_of(set, c->id);
            c->hnext = b[k];
            b[k] = c;
        }
    }
    free(old);
}

void connset_init(struct connset *set)
{
    pthread_mutex_init(&set->lock, NULL);
    set->head = NULL;
    set->count = 0;
    set->buckets = NULL;
    set->nbuckets = 0;
}

void connset_destroy(struct connset *set)
{
    free(set->buckets);
    set->buckets = NULL;
    set->nbuckets = 0;
    pthread_mutex_destroy(&set->lock);
}

void connset_add(struct connset *set, struct conn *c)
{
    pthread_mutex_lock(&set->lock);
    c->prev = NULL;
    c->next = set->head;
    if (set->head)
        set->head->prev = c;
    set->head = c;
    set->count++;
    if (set->count > set->nbuckets)
        grow(set);
    if (set->nbuckets) {
        size_t k = bucket_of(set, c->id);
        c->hnext = set->buckets[k];
        set->buckets[k] = c;
    }
    pthread_mutex_unlock(&set->lock);
}

void connset_remove(struct connset *set, struct conn *c)
{
    pthread_mutex_lock(&set->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        set->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    set->count--;
    if (set->nbuckets) {
        for (struct conn **at = &set->buckets[bucket_of(set, c->id)]; *at; at = &(*at)->hnext) {
            if (*at == c) {
                *at = c->hnext;
                break;
            }
        }
    }
    pthread_mutex_unlock(&set->lock);
}

size_t connset_count(struct connset *set)
{
    pthread_mutex_lock(&set->lock);
    size_t n = set->count;
    pthread_mutex_unlock(&set->lock);
    return n;
}

int connset_with(struct connset *set, uint64_t id, int (*fn)(struct conn *c, void *arg), void *arg)
{
    int rc = -ESTALE;
    pthread_mutex_lock(&set->lock);
    if (set->nbuckets) {
        for (struct conn *c = set->buckets[bucket_of(set, id)]; c; c = c->hnext) {
            if (c->id == id) {
                rc = fn(c, arg);
                break;
            }
        }
    }
    pthread_mutex_unlock(&set->lock);
    return rc;
}

void connset_foreach(struct connset *set, void (*fn)(struct conn *c, void *arg), void *arg)
{
    pthread_mutex_lock(&set->lock);
    for (struct conn *c = set->head; c; c = c->next)
        fn(c, arg);
    pthread_mutex_unlock(&set->lock);
}

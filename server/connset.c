/* connset - a locked doubly linked list of open connections' links, and a hash of them by
 * id. Knows nothing of a connection but its link. */
#include "connset.h"

#include <errno.h>
#include <stdlib.h>

/* Mean links per bucket before the hash doubles. A lookup (a completion naming its
 * connection, a close) walks about this many; the buckets cost every open connection
 * 8 / MAX_CHAIN_MEAN to 16 / MAX_CHAIN_MEAN bytes, a share of the idle cost worth halving. */
#define MAX_CHAIN_MEAN 2

static size_t bucket_of(const struct connset *set, uint64_t id)
{
    return (size_t)(id * 0x9e3779b97f4a7c15ull >> 32) & (set->nbuckets - 1);
}

/* Under lock: doubles the hash when it is fuller than two per bucket (MAX_CHAIN_MEAN). On no
 * memory it stays as it is (longer chains, still correct). */
static void grow(struct connset *set)
{
    size_t n = set->nbuckets ? set->nbuckets * 2 : 256;
    struct connset_link **b = calloc(n, sizeof *b);
    if (!b)
        return;
    struct connset_link **old = set->buckets;
    size_t old_n = set->nbuckets;
    set->buckets = b;
    set->nbuckets = n;
    for (size_t i = 0; i < old_n; i++) {
        for (struct connset_link *l = old[i], *next; l; l = next) {
            next = l->hnext;
            size_t k = bucket_of(set, l->id);
            l->hnext = b[k];
            b[k] = l;
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

void connset_add(struct connset *set, struct connset_link *l)
{
    pthread_mutex_lock(&set->lock);
    l->prev = NULL;
    l->next = set->head;
    if (set->head)
        set->head->prev = l;
    set->head = l;
    set->count++;
    if (set->count > MAX_CHAIN_MEAN * set->nbuckets)
        grow(set);
    if (set->nbuckets) {
        size_t k = bucket_of(set, l->id);
        l->hnext = set->buckets[k];
        set->buckets[k] = l;
    }
    pthread_mutex_unlock(&set->lock);
}

void connset_remove(struct connset *set, struct connset_link *l)
{
    pthread_mutex_lock(&set->lock);
    if (l->prev)
        l->prev->next = l->next;
    else
        set->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    set->count--;
    if (set->nbuckets) {
        for (struct connset_link **at = &set->buckets[bucket_of(set, l->id)]; *at;
             at = &(*at)->hnext) {
            if (*at == l) {
                *at = l->hnext;
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

int connset_with(struct connset *set, uint64_t id, int (*fn)(struct connset_link *l, void *arg),
                 void *arg)
{
    int rc = -ESTALE;
    pthread_mutex_lock(&set->lock);
    if (set->nbuckets) {
        for (struct connset_link *l = set->buckets[bucket_of(set, id)]; l; l = l->hnext) {
            if (l->id == id) {
                rc = fn(l, arg);
                break;
            }
        }
    }
    pthread_mutex_unlock(&set->lock);
    return rc;
}

void connset_foreach(struct connset *set, void (*fn)(struct connset_link *l, void *arg), void *arg)
{
    pthread_mutex_lock(&set->lock);
    for (struct connset_link *l = set->head; l; l = l->next)
        fn(l, arg);
    pthread_mutex_unlock(&set->lock);
}

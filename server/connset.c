/* connset - a locked doubly linked list of open connections. */
#include "connset.h"

#include "conn.h"

void connset_init(struct connset *set)
{
    pthread_mutex_init(&set->lock, NULL);
    set->head = NULL;
    set->count = 0;
}

void connset_destroy(struct connset *set)
{
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
    pthread_mutex_unlock(&set->lock);
}

size_t connset_count(struct connset *set)
{
    pthread_mutex_lock(&set->lock);
    size_t n = set->count;
    pthread_mutex_unlock(&set->lock);
    return n;
}

void connset_foreach(struct connset *set, void (*fn)(struct conn *c, void *arg), void *arg)
{
    pthread_mutex_lock(&set->lock);
    for (struct conn *c = set->head; c; c = c->next)
        fn(c, arg);
    pthread_mutex_unlock(&set->lock);
}

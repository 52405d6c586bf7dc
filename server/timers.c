/* timers - a binary heap of due times under one mutex, served by one thread; timers live in
 * slots recycled through a free list, named by slot and generation so a stale id never
 * cancels a newer timer. See timers.h. */
#include "timers.h"

#include "chain.h"
#include "conn.h"
#include "connset.h"
#include "monotonic.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

struct timer {
    uint32_t slot; /* its own index: slots never move (connections hold pointers to them) */
    uint64_t id;   /* gen << 32 | slot + 1; 0 while the slot is free */
    uint64_t due_ns, every_ns;
    lp_timer_fn fn;
    void *arg;
    const char *owner;       /* the plugin version that started it (its key), or NULL */
    struct conn *conn;       /* NULL for a plugin timer; valid while linked (under lock) */
    uint64_t conn_id;        /* to find the connection from the timer thread */
    struct timer *conn_next; /* in the connection's list */
    int in_heap, fired, cancelled;
    uint32_t next_free;
};

struct timers {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    pthread_cond_t done; /* a plugin timer's callback returned (timers_forget_owner) */
    const char *running; /* owner of the plugin timer callback running now */
    pthread_t thread;
    int started, quit, quiesced;
    struct connset *conns;
    struct timer **chunks;               /* SLOT_CHUNK slots each, allocated once, never moved */
    uint32_t nchunks, nslots, free_head; /* free_head: slot + 1, 0 = none */
    uint32_t gen;
    uint32_t *heap; /* slot indexes by due time */
    uint32_t nheap, heap_cap;
};

#define SLOT_CHUNK 256

static struct timer *at(const struct timers *t, uint32_t slot)
{
    return &t->chunks[slot / SLOT_CHUNK][slot % SLOT_CHUNK];
}

static int earlier(struct timers *t, uint32_t a, uint32_t b)
{
    return at(t, a)->due_ns < at(t, b)->due_ns;
}

static void heap_swap(struct timers *t, uint32_t i, uint32_t j)
{
    uint32_t x = t->heap[i];
    t->heap[i] = t->heap[j];
    t->heap[j] = x;
}

static int heap_push(struct timers *t, uint32_t slot)
{
    if (t->nheap == t->heap_cap) {
        uint32_t cap = t->heap_cap ? t->heap_cap * 2 : 64;
        uint32_t *h = realloc(t->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        t->heap = h;
        t->heap_cap = cap;
    }
    uint32_t i = t->nheap++;
    t->heap[i] = slot;
    while (i > 0 && earlier(t, t->heap[i], t->heap[(i - 1) / 2])) {
        heap_swap(t, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    at(t, slot)->in_heap = 1;
    return 0;
}

static uint32_t heap_pop(struct timers *t)
{
    uint32_t top = t->heap[0];
    t->heap[0] = t->heap[--t->nheap];
    for (uint32_t i = 0;;) {
        uint32_t k = 2 * i + 1, m = i;
        if (k < t->nheap && earlier(t, t->heap[k], t->heap[m]))
            m = k;
        if (k + 1 < t->nheap && earlier(t, t->heap[k + 1], t->heap[m]))
            m = k + 1;
        if (m == i)
            break;
        heap_swap(t, i, m);
        i = m;
    }
    at(t, top)->in_heap = 0;
    return top;
}

static void slot_free(struct timers *t, uint32_t slot)
{
    struct timer *x = at(t, slot);
    x->id = 0;
    x->conn = NULL;
    x->next_free = t->free_head;
    t->free_head = slot + 1;
}

static struct timer *find(struct timers *t, uint64_t id)
{
    uint32_t slot = (uint32_t)id - 1;
    if (!id || slot >= t->nslots || at(t, slot)->id != id)
        return NULL;
    return at(t, slot);
}

static void unlink_conn(struct timer *x)
{
    if (!x->conn)
        return;
    for (struct timer **at = &conn_timers(x->conn)->head; *at; at = &(*at)->conn_next) {
        if (*at == x) {
            *at = x->conn_next;
            break;
        }
    }
    x->conn = NULL;
}

static int wake_conn(struct connset_link *l, void *arg)
{
    (void)arg;
    conn_wake(conn_of_link(l));
    return 0;
}

/* Under lock, for a due timer at slot: fire it, then schedule its next tick or let it be. */
static void fire(struct timers *t, uint32_t slot, uint64_t now)
{
    struct timer *x = at(t, slot);
    if (x->cancelled) { /* cancelled while queued: the heap held its last reference */
        slot_free(t, slot);
        return;
    }
    uint64_t id = x->id;
    if (!x->conn_id) {
        lp_timer_fn fn = x->fn;
        void *arg = x->arg;
        struct chain_site site = {.name = x->owner, .hook = "timer"};
        t->running = x->owner;
        pthread_mutex_unlock(&t->lock);
        chain_site_enter(&site); /* a timer it starts is its own too */
        fn(arg, NULL, id);
        chain_site_enter(NULL);
        pthread_mutex_lock(&t->lock);
        t->running = NULL;
        pthread_cond_broadcast(&t->done);
    } else if (!x->fired) { /* still fired: its owner has not run it yet; one run serves */
        x->fired = 1;
        uint64_t conn_id = x->conn_id;
        pthread_mutex_unlock(&t->lock); /* the connset's lock is never taken inside ours */
        connset_with(t->conns, conn_id, wake_conn, NULL);
        pthread_mutex_lock(&t->lock);
    }
    x = at(t, slot);
    if (x->id != id)
        return; /* cancelled meanwhile, and freed by the cancel */
    if (!x->every_ns || t->quiesced) {
        if (!x->conn_id)
            slot_free(t, slot); /* a plugin timer is done */
        return;                 /* a connection's is freed by its owner or its close */
    }
    do /* ticks it is late for are skipped, not run in a burst */
        x->due_ns += x->every_ns;
    while (x->due_ns <= now);
    heap_push(t, slot); /* cannot fail: it was just popped, so there is room */
}

static void deadline(struct timespec *ts, uint64_t due)
{
    ts->tv_sec = (time_t)(due / 1000000000u);
    ts->tv_nsec = (long)(due % 1000000000u);
}

static void *timer_main(void *arg)
{
    struct timers *t = arg;
    pthread_setname_np(pthread_self(), "lp-timers");
    pthread_mutex_lock(&t->lock);
    while (!t->quit) {
        if (!t->nheap || t->quiesced) {
            pthread_cond_wait(&t->cond, &t->lock);
            continue;
        }
        uint64_t now = monotonic_ns(), due = at(t, t->heap[0])->due_ns;
        if (due > now) {
            struct timespec ts;
            deadline(&ts, due);
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
            continue;
        }
        fire(t, heap_pop(t), now);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct timers *timers_new(struct connset *conns)
{
    struct timers *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->conns = conns;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&t->done, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&t->thread, NULL, timer_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        timers_free(t);
        errno = rc;
        return NULL;
    }
    t->started = 1;
    return t;
}

void timers_free(struct timers *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->quit = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    if (t->started)
        pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_cond_destroy(&t->done);
    pthread_mutex_destroy(&t->lock);
    for (uint32_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    free(t->heap);
    free(t);
}

void timers_quiesce(struct timers *t)
{
    pthread_mutex_lock(&t->lock);
    t->quiesced = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

static int slot_take(struct timers *t, uint32_t *slot)
{
    if (!t->free_head) {
        struct timer **chunks = realloc(t->chunks, (t->nchunks + 1) * sizeof *chunks);
        if (!chunks)
            return -ENOMEM;
        t->chunks = chunks;
        struct timer *c = calloc(SLOT_CHUNK, sizeof *c);
        if (!c)
            return -ENOMEM;
        t->chunks[t->nchunks++] = c;
        for (uint32_t i = 0; i < SLOT_CHUNK; i++) {
            c[i].slot = t->nslots + i;
            c[i].next_free = i + 1 < SLOT_CHUNK ? t->nslots + i + 2 : 0;
        }
        t->free_head = t->nslots + 1;
        t->nslots += SLOT_CHUNK;
    }
    *slot = t->free_head - 1;
    t->free_head = at(t, *slot)->next_free;
    return 0;
}

int timers_start(struct timers *t, struct conn *conn, uint64_t delay_ns, uint64_t every_ns,
                 lp_timer_fn fn, void *arg, uint64_t *id)
{
    if (!fn || !id)
        return -EINVAL;
    const struct chain_site *site = chain_site_current();
    const char *owner = site ? site->name : NULL;
    pthread_mutex_lock(&t->lock);
    int rc = -ECANCELED;
    uint32_t slot;
    if (!t->quiesced && !(rc = slot_take(t, &slot))) {
        if (++t->gen == 0)
            t->gen = 1;
        struct timer *x = at(t, slot);
        *x = (struct timer){.slot = slot,
                            .id = (uint64_t)t->gen << 32 | (slot + 1),
                            .due_ns = monotonic_ns() + delay_ns,
                            .every_ns = every_ns,
                            .fn = fn,
                            .arg = arg,
                            .owner = owner,
                            .conn = conn,
                            .conn_id = conn ? conn_id(conn) : 0};
        if ((rc = heap_push(t, slot))) {
            slot_free(t, slot);
        } else {
            if (conn) {
                struct timers_conn *own = conn_timers(conn);
                x->conn_next = own->head;
                own->head = x;
            }
            *id = x->id;
            pthread_cond_signal(&t->cond);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int timers_cancel(struct timers *t, uint64_t id)
{
    pthread_mutex_lock(&t->lock);
    struct timer *x = find(t, id);
    int rc = x && !x->cancelled ? 0 : -ENOENT;
    if (!rc) {
        x->cancelled = 1;
        x->fired = 0;
        unlink_conn(x);
        if (!x->in_heap) /* else the heap frees it when it comes up */
            slot_free(t, x->slot);
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int timers_run_fired(struct timers *t, struct conn *c)
{
    enum { MAX = 8 };
    struct {
        lp_timer_fn fn;
        void *arg;
        uint64_t id;
        const char *owner;
    } due[MAX];
    int n = 0, more = 0;
    struct timers_conn *own = conn_timers(c);
    uint64_t c_id = conn_id(c);
    pthread_mutex_lock(&t->lock);
    for (struct timer *x = own->head, *next; x; x = next) {
        next = x->conn_next;
        if (!x->fired || x->cancelled)
            continue;
        if (n == MAX) {
            more = 1; /* the rest on the next run */
            break;
        }
        x->fired = 0;
        due[n].fn = x->fn;
        due[n].arg = x->arg;
        due[n].owner = x->owner;
        due[n++].id = x->id;
        if (!x->every_ns) { /* a one-shot timer is done once its callback runs (a repeating
                             * one is out of the heap only while the thread fires it) */
            unlink_conn(x);
            slot_free(t, x->slot);
        }
    }
    int left = own->head != NULL;
    pthread_mutex_unlock(&t->lock);
    for (int i = 0; i < n; i++) {
        struct chain_site site = {.name = due[i].owner, .hook = "timer", .conn_id = c_id};
        chain_site_enter(&site);
        due[i].fn(due[i].arg, (struct lp_conn *)c, due[i].id);
        chain_site_enter(NULL);
    }
    if (more)
        conn_wake(c);
    return left;
}

void timers_cancel_conn(struct timers *t, struct conn *c)
{
    struct timers_conn *own = conn_timers(c);
    pthread_mutex_lock(&t->lock);
    while (own->head) {
        struct timer *x = own->head;
        own->head = x->conn_next;
        x->conn = NULL;
        x->cancelled = 1;
        x->fired = 0;
        if (!x->in_heap)
            slot_free(t, x->slot);
    }
    pthread_mutex_unlock(&t->lock);
}

void timers_forget_owner(struct timers *t, const char *owner)
{
    pthread_mutex_lock(&t->lock);
    for (uint32_t i = 0; i < t->nslots; i++) {
        struct timer *x = at(t, i);
        if (x->id && !x->cancelled && !x->conn_id && x->owner == owner) {
            x->cancelled = 1;
            if (!x->in_heap) /* being fired right now: fire() sees the cancel */
                slot_free(t, x->slot);
        }
    }
    while (t->running == owner)
        pthread_cond_wait(&t->done, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

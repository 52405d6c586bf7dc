/* pool - N workers, one epoll set, one-shot sources, one poller and a watcher; see pool.h. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define BATCH      16       /* events one epoll_wait may return to a worker */
#define TICK_NS    1000000L /* the watcher's look: how long a stall can go unnoticed */
#define IDLE_TICKS 8        /* looks at an idle poller before the watcher sleeps untimed */

/* The events a worker took in one epoll_wait and has not run yet. Its owner runs them in
 * order; any other worker may take them from the front, so a callback that blocks holds up
 * only its own source, never the rest of the batch. */
struct batch {
    pthread_mutex_t lock;
    struct epoll_event ev[BATCH];
    int next, count;      /* under lock: ev[next..count) are unclaimed */
    unsigned long filled; /* under lock: batches published so far */
};

struct worker {
    struct pool *pool;
    pthread_t thread;
    struct batch batch;
    _Atomic unsigned long ran; /* callbacks finished: the watcher's sign of progress */
    _Atomic int in_wait;       /* 1 while blocked in epoll_wait */
};

struct pool {
    int epfd;
    int quit_fd; /* eventfd, level-triggered and never re-armed: once written, every
                    epoll_wait returns it, so every worker that polls sees the stop */
    pool_fn fn;
    void *ctx;
    size_t scratch_size;
    unsigned nthreads;
    unsigned started;
    int stopped;
    struct worker *workers;

    /* Exactly one worker, the poller, blocks in epoll_wait. Two workers blocked on one epoll
     * set wake each other for every event that arrives while one is busy: on a machine
     * shared with the load, that cost more than the second worker gained. One of the others,
     * the watcher, looks every tick: a poller stuck in one callback for a whole tick loses
     * the poller's role to the watcher, and events left unstarted in a batch for a whole
     * tick are taken by it. The rest wait on the bench to become the watcher. */
    _Atomic(struct worker *) poller;
    pthread_mutex_t standby_lock;
    pthread_cond_t watch_cond;  /* the watcher's ticks (CLOCK_MONOTONIC) */
    pthread_cond_t bench_cond;  /* workers waiting to become the watcher */
    struct worker *watcher;     /* under standby_lock */
    _Atomic int watcher_asleep; /* the watcher waits untimed: the poller must wake it */
    int quitting;               /* under standby_lock */
    unsigned long *seen;        /* the watcher's last look at each batch (filled) */
};

static char quit_tag; /* data.ptr of the pool's quit eventfd */

static int claim(struct batch *b, struct epoll_event *ev)
{
    int got = 0;
    pthread_mutex_lock(&b->lock);
    if (b->next < b->count) {
        *ev = b->ev[b->next++];
        got = 1;
    }
    pthread_mutex_unlock(&b->lock);
    return got;
}

/* The next event to run: our own batch first, then what another worker has not reached. */
static int next_event(struct worker *self, struct epoll_event *ev)
{
    struct pool *p = self->pool;
    if (claim(&self->batch, ev))
        return 1;
    for (unsigned i = 0; i < p->nthreads; i++) {
        if (&p->workers[i] != self && claim(&p->workers[i].batch, ev))
            return 1;
    }
    return 0;
}

static void wake_watcher(struct pool *p)
{
    pthread_mutex_lock(&p->standby_lock);
    atomic_store(&p->watcher_asleep, 0);
    pthread_cond_signal(&p->watch_cond);
    pthread_mutex_unlock(&p->standby_lock);
}

/* Takes ready sources (blocking if timeout is -1) and publishes them as our batch. Returns
 * how many, or -1 at quit. */
static int fill_batch(struct worker *self, int timeout)
{
    struct pool *p = self->pool;
    struct epoll_event got[BATCH];
    if (timeout)
        atomic_store(&self->in_wait, 1);
    int n = epoll_wait(p->epfd, got, BATCH, timeout);
    if (timeout) {
        /* Dekker with stand_by: it sets watcher_asleep, then looks at in_wait */
        atomic_store(&self->in_wait, 0);
        if (n > 0 && atomic_load(&p->watcher_asleep))
            wake_watcher(p);
    }
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (got[i].data.ptr == &quit_tag)
            return -1;
        got[kept++] = got[i];
    }
    pthread_mutex_lock(&self->batch.lock);
    for (int i = 0; i < kept; i++)
        self->batch.ev[i] = got[i];
    self->batch.next = 0;
    self->batch.count = kept;
    self->batch.filled++;
    pthread_mutex_unlock(&self->batch.lock);
    return kept;
}

/* Under standby_lock: records each other batch's generation; returns whether one that was
 * recorded last time still holds the same unclaimed events (they waited a whole tick). */
static int batch_waited(struct worker *self)
{
    struct pool *p = self->pool;
    int waited = 0;
    for (unsigned i = 0; i < p->nthreads; i++) {
        struct batch *b = &p->workers[i].batch;
        if (&p->workers[i] == self)
            continue;
        pthread_mutex_lock(&b->lock);
        unsigned long mark = b->next < b->count ? b->filled : 0;
        pthread_mutex_unlock(&b->lock);
        if (mark && mark == p->seen[i])
            waited = 1;
        p->seen[i] = mark;
    }
    return waited;
}

static void tick_deadline(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += TICK_NS;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

enum standby { QUIT = -1, POLL, HELP };

/* Waits until this worker has something to do: POLL when it became the poller, HELP when a
 * batch has events that waited a whole tick, QUIT at stop. */
static enum standby stand_by(struct worker *self)
{
    struct pool *p = self->pool;
    enum standby rc = QUIT;
    int idle = 0;
    pthread_mutex_lock(&p->standby_lock);
    while (!p->quitting) {
        struct worker *poller = atomic_load(&p->poller);
        if (!poller) { /* only at start: the role is handed on, never given up */
            if (atomic_compare_exchange_strong(&p->poller, &poller, self)) {
                rc = POLL;
                break;
            }
            continue;
        }
        if (p->watcher && p->watcher != self) {
            pthread_cond_wait(&p->bench_cond, &p->standby_lock);
            continue;
        }
        p->watcher = self;
        if (idle >= IDLE_TICKS) {
            /* Dekker with fill_batch: it clears in_wait, then looks at watcher_asleep */
            atomic_store(&p->watcher_asleep, 1);
            while (atomic_load(&poller->in_wait) && atomic_load(&p->watcher_asleep) && !p->quitting)
                pthread_cond_wait(&p->watch_cond, &p->standby_lock);
            atomic_store(&p->watcher_asleep, 0);
            idle = 0;
            continue;
        }
        unsigned long ran = atomic_load(&poller->ran);
        int was_waiting = atomic_load(&poller->in_wait);
        struct timespec until;
        tick_deadline(&until);
        while (!p->quitting &&
               pthread_cond_timedwait(&p->watch_cond, &p->standby_lock, &until) == 0)
            ;
        if (p->quitting)
            break;
        int waiting = atomic_load(&poller->in_wait);
        if (!was_waiting && !waiting && atomic_load(&poller->ran) == ran &&
            atomic_compare_exchange_strong(&p->poller, &poller, self)) {
            rc = POLL; /* stuck in one callback for a whole tick: we poll instead */
            break;
        }
        if (batch_waited(self)) {
            rc = HELP;
            break;
        }
        idle = was_waiting && waiting && atomic_load(&poller->ran) == ran ? idle + 1 : 0;
    }
    if (p->watcher == self) {
        p->watcher = NULL;
        pthread_cond_signal(&p->bench_cond); /* one of the bench watches now */
    }
    pthread_mutex_unlock(&p->standby_lock);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *self = arg;
    struct pool *p = self->pool;
    char *scratch = malloc(p->scratch_size);
    if (!scratch)
        return NULL;
    int helping = 0;
    for (;;) {
        struct epoll_event ev;
        if (next_event(self, &ev)) {
            p->fn(p->ctx, ev.data.ptr, ev.events, scratch);
            atomic_fetch_add_explicit(&self->ran, 1, memory_order_relaxed);
            continue;
        }
        int rc;
        if (atomic_load(&p->poller) == self) {
            helping = 0;
            rc = fill_batch(self, -1);
        } else if (helping) {
            /* a backlog: keep taking ready sources while full batches come back */
            rc = fill_batch(self, 0);
            helping = rc == BATCH;
        } else {
            rc = stand_by(self);
            helping = rc == HELP;
        }
        if (rc < 0)
            break;
    }
    free(scratch);
    return NULL;
}

static int ctl(struct pool *p, int op, int fd, uint32_t events, void *source)
{
    struct epoll_event ev = {.events = events | EPOLLONESHOT, .data.ptr = source};
    return epoll_ctl(p->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int pool_add(struct pool *p, int fd, uint32_t events, void *source)
{
    return ctl(p, EPOLL_CTL_ADD, fd, events, source);
}

int pool_rearm(struct pool *p, int fd, uint32_t events, void *source)
{
    return ctl(p, EPOLL_CTL_MOD, fd, events, source);
}

static int start_threads(struct pool *p)
{
    /* Workers never take signals: the main thread handles them through a signalfd. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = 0;
    for (; p->started < p->nthreads; p->started++) {
        struct worker *w = &p->workers[p->started];
        if ((rc = pthread_create(&w->thread, NULL, worker_main, w)))
            break;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}

struct pool *pool_new(unsigned nthreads, size_t scratch_size, pool_fn fn, void *ctx)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fn = fn;
    p->ctx = ctx;
    p->scratch_size = scratch_size;
    p->nthreads = nthreads;
    p->quit_fd = -1;
    pthread_mutex_init(&p->standby_lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&p->watch_cond, &monotonic);
    pthread_condattr_destroy(&monotonic);
    pthread_cond_init(&p->bench_cond, NULL);
    if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        goto out_free;
    if ((p->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        goto out_free;
    struct epoll_event quit = {.events = EPOLLIN, .data.ptr = &quit_tag};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->quit_fd, &quit) < 0)
        goto out_free;
    if (!(p->seen = calloc(nthreads, sizeof *p->seen)) ||
        !(p->workers = calloc(nthreads, sizeof *p->workers)))
        goto out_free;
    /* Every batch exists before any worker starts: workers look into each other's. */
    for (unsigned i = 0; i < nthreads; i++) {
        p->workers[i].pool = p;
        pthread_mutex_init(&p->workers[i].batch.lock, NULL);
    }
    int rc = start_threads(p);
    if (rc) {
        pool_free(p);
        errno = -rc;
        return NULL;
    }
    return p;
out_free:
    pool_free(p);
    return NULL;
}

void pool_stop(struct pool *p)
{
    if (p->stopped)
        return;
    p->stopped = 1;
    pthread_mutex_lock(&p->standby_lock);
    p->quitting = 1;
    pthread_cond_broadcast(&p->watch_cond);
    pthread_cond_broadcast(&p->bench_cond);
    pthread_mutex_unlock(&p->standby_lock);
    uint64_t one = 1;
    if (p->quit_fd >= 0 && write(p->quit_fd, &one, sizeof one) < 0) {
        /* an eventfd write only fails on counter overflow: it is already readable */
    }
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->workers[i].thread, NULL);
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    int saved = errno;
    pool_stop(p);
    if (p->quit_fd >= 0)
        close(p->quit_fd);
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->workers) {
        for (unsigned i = 0; i < p->nthreads; i++)
            pthread_mutex_destroy(&p->workers[i].batch.lock);
    }
    pthread_cond_destroy(&p->bench_cond);
    pthread_cond_destroy(&p->watch_cond);
    pthread_mutex_destroy(&p->standby_lock);
    free(p->seen);
    free(p->workers);
    free(p);
    errno = saved;
}

unsigned pool_threads(const struct pool *p)
{
    return p->nthreads;
}

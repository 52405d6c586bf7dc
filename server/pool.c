/* pool - N workers, one shared epoll set, one-shot sources, shared batches; see pool.h. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BATCH 16 /* events one epoll_wait may return to a worker */

/* The events a worker took in one epoll_wait and has not run yet. Its owner runs them in
 * order; any other worker with nothing to do takes them from the front, so a callback that
 * blocks holds up only its own source, never the rest of the batch. */
struct batch {
    pthread_mutex_t lock;
    struct epoll_event ev[BATCH];
    int next, count; /* under lock: ev[next..count) are unclaimed */
};

struct worker {
    struct pool *pool;
    pthread_t thread;
    struct batch batch;
};

struct pool {
    int epfd;
    int quit_fd; /* eventfd, level-triggered and never re-armed: once written, every
                    worker's epoll_wait returns it, so all of them see the stop */
    int wake_fd; /* eventfd, edge-triggered: a write wakes one sleeping worker */
    pool_fn fn;
    void *ctx;
    size_t scratch_size;
    unsigned nthreads;
    unsigned started;
    int stopped;
    _Atomic unsigned sleepers; /* workers in, or about to enter, an epoll_wait */
    struct worker *workers;
};

static char quit_tag, wake_tag; /* data.ptr of the pool's own eventfds */

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

/* Waits for ready sources and publishes them as our batch. Returns -1 at quit. */
static int fill_batch(struct worker *self)
{
    struct pool *p = self->pool;
    struct epoll_event got[BATCH];
    int n = epoll_wait(p->epfd, got, BATCH, -1);
    atomic_fetch_sub(&p->sleepers, 1);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int kept = 0, quit = 0;
    for (int i = 0; i < n; i++) {
        if (got[i].data.ptr == &quit_tag)
            quit = 1;
        else if (got[i].data.ptr != &wake_tag)
            got[kept++] = got[i];
    }
    if (quit)
        return -1;
    pthread_mutex_lock(&self->batch.lock);
    for (int i = 0; i < kept; i++)
        self->batch.ev[i] = got[i];
    self->batch.next = 0;
    self->batch.count = kept;
    pthread_mutex_unlock(&self->batch.lock);
    /* More than we can run at once and a worker idle: wake it to share the batch. It
     * registered as a sleeper before its last look at our batch, so it either saw this one
     * or is counted here. */
    if (kept > 1 && atomic_load(&p->sleepers) > 0) {
        uint64_t one = 1;
        if (write(p->wake_fd, &one, sizeof one) < 0) {
            /* only at counter overflow, when it is readable anyway */
        }
    }
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *self = arg;
    struct pool *p = self->pool;
    char *scratch = malloc(p->scratch_size);
    if (!scratch)
        return NULL;
    for (;;) {
        struct epoll_event ev;
        if (!next_event(self, &ev)) {
            atomic_fetch_add(&p->sleepers, 1);
            if (!next_event(self, &ev)) { /* else: published while we registered */
                if (fill_batch(self) < 0)
                    break;
                continue;
            }
            atomic_fetch_sub(&p->sleepers, 1);
        }
        p->fn(p->ctx, ev.data.ptr, ev.events, scratch);
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
    p->quit_fd = p->wake_fd = -1;
    if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        goto out_free;
    if ((p->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
        (p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        goto out_free;
    struct epoll_event quit = {.events = EPOLLIN, .data.ptr = &quit_tag};
    struct epoll_event wake = {.events = EPOLLIN | EPOLLET, .data.ptr = &wake_tag};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->quit_fd, &quit) < 0 ||
        epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wake_fd, &wake) < 0)
        goto out_free;
    if (!(p->workers = calloc(nthreads, sizeof *p->workers)))
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
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->workers) {
        for (unsigned i = 0; i < p->nthreads; i++)
            pthread_mutex_destroy(&p->workers[i].batch.lock);
    }
    free(p->workers);
    free(p);
    errno = saved;
}

unsigned pool_threads(const struct pool *p)
{
    return p->nthreads;
}

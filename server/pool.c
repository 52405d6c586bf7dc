/* pool - N workers, one shared epoll set, one-shot sources; see pool.h for the rules. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct pool {
    int epfd;
    int quit_fd; /* eventfd, level-triggered and never re-armed: once written, every
                    worker's epoll_wait returns it, so all of them see the stop */
    pool_fn fn;
    void *ctx;
    size_t scratch_size;
    unsigned nthreads;
    unsigned started;
    int stopped;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    char *scratch = malloc(p->scratch_size);
    if (!scratch)
        return NULL;
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(p->epfd, &ev, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (ev.data.ptr == NULL)
            break; /* the quit eventfd */
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
        if ((rc = pthread_create(&p->threads[p->started], NULL, worker_main, p)))
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
    if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        goto out_free;
    if ((p->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        goto out_free;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->quit_fd, &ev) < 0)
        goto out_free;
    if (!(p->threads = calloc(nthreads, sizeof *p->threads)))
        goto out_free;
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
        pthread_join(p->threads[i], NULL);
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
    free(p->threads);
    free(p);
    errno = saved;
}

unsigned pool_threads(const struct pool *p)
{
    return p->nthreads;
}

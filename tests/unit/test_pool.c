/* Unit tests of the worker pool: one worker at a time per source, a blocked callback does not
 * hold up other sources, stop joins every worker. Assertions are on behaviour, not timing. */
#include "cunit_main.h"
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct source {
    int fd;
    struct pool *pool;
    _Atomic int inside;   /* workers inside this source's callback right now */
    _Atomic int overlaps; /* times two were inside at once */
    _Atomic int calls;
    int target;
};

static void drain_eventfd(int fd)
{
    uint64_t v;
    ssize_t rc = read(fd, &v, sizeof v);
    (void)rc;
}

/* Polls done(arg) under lock every 10 ms, for 12 s at most: a broken pool fails the test
 * instead of hanging it. */
static void wait_until(pthread_mutex_t *lock, int (*done)(void *), void *arg)
{
    for (int i = 0; i < 1200; i++) {
        pthread_mutex_lock(lock);
        int yes = done(arg);
        pthread_mutex_unlock(lock);
        if (yes)
            return;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

static void serial_cb(void *ctx, void *src, uint32_t events, char *scratch)
{
    (void)ctx;
    (void)events;
    (void)scratch;
    struct source *s = src;
    if (atomic_fetch_add(&s->inside, 1) != 0)
        atomic_fetch_add(&s->overlaps, 1);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL); /* widen the window in which a second worker could sneak in */
    drain_eventfd(s->fd);
    atomic_fetch_sub(&s->inside, 1);
    if (atomic_fetch_add(&s->calls, 1) + 1 < s->target) {
        uint64_t one = 1;
        ssize_t rc = write(s->fd, &one, sizeof one); /* ready again before the re-arm */
        (void)rc;
    }
    pool_rearm(s->pool, s->fd, EPOLLIN, s);
}

static void one_worker_at_a_time_per_source(void)
{
    struct source s = {.target = 300};
    struct pool *p = pool_new(4, 64, serial_cb, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    s.pool = p;
    s.fd = eventfd(0, EFD_NONBLOCK);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(write(s.fd, &one, sizeof one), 8);
    CU_ASSERT_EQUAL(pool_add(p, s.fd, EPOLLIN, &s), 0);
    for (int i = 0; i < 1000 && atomic_load(&s.calls) < s.target; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    pool_free(p);
    CU_ASSERT_EQUAL(atomic_load(&s.calls), s.target);
    CU_ASSERT_EQUAL(atomic_load(&s.overlaps), 0);
    close(s.fd);
}

/* Source A blocks until source B has been served: possible only if another worker takes B
 * while A's worker is stuck. */
struct handoff {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int b_served;
    int a_saw_b;
    int fd_a, fd_b;
};

static void blocking_cb(void *ctx, void *src, uint32_t events, char *scratch)
{
    (void)events;
    (void)scratch;
    struct handoff *h = ctx;
    pthread_mutex_lock(&h->lock);
    if (src == &h->fd_a) {
        uint64_t one = 1;
        ssize_t rc = write(h->fd_b, &one, sizeof one); /* B becomes ready while A blocks */
        (void)rc;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10; /* a bound so a broken pool fails instead of hanging */
        while (!h->b_served && pthread_cond_timedwait(&h->cond, &h->lock, &until) == 0)
            ;
        h->a_saw_b = h->b_served;
    } else {
        h->b_served = 1;
        pthread_cond_broadcast(&h->cond);
    }
    pthread_mutex_unlock(&h->lock);
}

static int a_saw_b(void *arg)
{
    return ((struct handoff *)arg)->a_saw_b;
}

static void blocked_callback_does_not_stall_other_sources(void)
{
    struct handoff h = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    h.fd_a = eventfd(0, EFD_NONBLOCK);
    h.fd_b = eventfd(0, EFD_NONBLOCK);
    struct pool *p = pool_new(2, 64, blocking_cb, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(pool_add(p, h.fd_b, EPOLLIN, &h.fd_b), 0);
    CU_ASSERT_EQUAL(pool_add(p, h.fd_a, EPOLLIN, &h.fd_a), 0);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(write(h.fd_a, &one, sizeof one), 8);
    wait_until(&h.lock, a_saw_b, &h);
    pool_free(p);
    CU_ASSERT_EQUAL(h.b_served, 1);
    CU_ASSERT_EQUAL(h.a_saw_b, 1);
    close(h.fd_a);
    close(h.fd_b);
}

/* Eight sources made ready by one write (dup()s of one eventfd), so they reach a worker in
 * one epoll_wait. The first callback to run blocks until the other seven have run: possible
 * only if the rest of its batch is taken by the other worker. */
#define SIBLINGS 8
struct siblings {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int blocker_taken;
    int served; /* callbacks other than the blocker */
    int blocker_saw;
    int fds[SIBLINGS];
};

static void sibling_cb(void *ctx, void *src, uint32_t events, char *scratch)
{
    (void)src;
    (void)events;
    (void)scratch;
    struct siblings *g = ctx;
    pthread_mutex_lock(&g->lock);
    if (!g->blocker_taken) {
        g->blocker_taken = 1;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10; /* a bound so a broken pool fails instead of hanging */
        while (g->served < SIBLINGS - 1 && pthread_cond_timedwait(&g->cond, &g->lock, &until) == 0)
            ;
        g->blocker_saw = g->served;
    } else {
        g->served++;
        pthread_cond_broadcast(&g->cond);
    }
    pthread_mutex_unlock(&g->lock);
}

static int blocker_answered(void *arg)
{
    return ((struct siblings *)arg)->blocker_saw >= 0;
}

static void blocked_callback_does_not_stall_its_batch(void)
{
    struct siblings g = {
        .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .blocker_saw = -1};
    g.fds[0] = eventfd(0, EFD_NONBLOCK);
    for (int i = 1; i < SIBLINGS; i++)
        g.fds[i] = dup(g.fds[0]);
    struct pool *p = pool_new(2, 64, sibling_cb, &g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (int i = 0; i < SIBLINGS; i++)
        CU_ASSERT_EQUAL(pool_add(p, g.fds[i], EPOLLIN, &g.fds[i]), 0);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(write(g.fds[0], &one, sizeof one), 8);
    wait_until(&g.lock, blocker_answered, &g);
    pool_free(p);
    CU_ASSERT_EQUAL(g.blocker_saw, SIBLINGS - 1);
    CU_ASSERT_EQUAL(g.served, SIBLINGS - 1);
    for (int i = 0; i < SIBLINGS; i++)
        close(g.fds[i]);
}

/* Three sources each block in turn, and each makes the next one ready while it blocks; the
 * fourth unblocks them all. With four workers that is possible only if every blocked poller
 * is replaced by a waiting worker, one after another. */
#define CHAIN 4
struct chain {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int released;
    int blocked; /* callbacks that blocked and then saw the release */
    int fds[CHAIN];
};

static void chain_cb(void *ctx, void *src, uint32_t events, char *scratch)
{
    (void)events;
    (void)scratch;
    struct chain *c = ctx;
    int i = (int)((int *)src - c->fds);
    pthread_mutex_lock(&c->lock);
    if (i == CHAIN - 1) {
        c->released = 1;
        pthread_cond_broadcast(&c->cond);
    } else {
        uint64_t one = 1;
        ssize_t rc = write(c->fds[i + 1], &one, sizeof one);
        (void)rc;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10; /* a bound so a broken pool fails instead of hanging */
        while (!c->released && pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0)
            ;
        c->blocked += c->released;
    }
    pthread_mutex_unlock(&c->lock);
}

static int chain_done(void *arg)
{
    return ((struct chain *)arg)->blocked == CHAIN - 1;
}

static void every_blocked_worker_is_replaced_in_turn(void)
{
    struct chain c = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct pool *p = pool_new(CHAIN, 64, chain_cb, &c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (int i = 0; i < CHAIN; i++) {
        c.fds[i] = eventfd(0, EFD_NONBLOCK);
        CU_ASSERT_EQUAL(pool_add(p, c.fds[i], EPOLLIN, &c.fds[i]), 0);
    }
    uint64_t one = 1;
    CU_ASSERT_EQUAL(write(c.fds[0], &one, sizeof one), 8);
    wait_until(&c.lock, chain_done, &c);
    pool_free(p);
    CU_ASSERT_EQUAL(c.released, 1);
    CU_ASSERT_EQUAL(c.blocked, CHAIN - 1);
    for (int i = 0; i < CHAIN; i++)
        close(c.fds[i]);
}

static void noop_cb(void *ctx, void *src, uint32_t events, char *scratch)
{
    (void)src;
    (void)events;
    (void)scratch;
    atomic_fetch_add((_Atomic int *)ctx, 1);
}

static void stop_joins_idle_workers_and_leaves_sources_alone(void)
{
    _Atomic int calls = 0;
    struct pool *p = pool_new(3, 64, noop_cb, &calls);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(pool_threads(p), 3);
    int fd = eventfd(0, EFD_NONBLOCK);
    CU_ASSERT_EQUAL(pool_add(p, fd, EPOLLIN, &fd), 0);
    uint64_t one = 1; /* ready once: the workers run it once (one-shot, never re-armed) */
    CU_ASSERT_EQUAL(write(fd, &one, sizeof one), 8);
    for (int i = 0; i < 1200 && atomic_load(&calls) < 1; i++) /* 12 s at most */
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    pool_stop(p);
    pool_stop(p); /* idempotent */
    pool_free(p);
    pool_free(NULL);
    CU_ASSERT_EQUAL(atomic_load(&calls), 1);
    uint64_t got = 0; /* the source's fd is still open, and its count was left unread */
    CU_ASSERT_EQUAL(read(fd, &got, sizeof got), 8);
    CU_ASSERT_EQUAL(got, 1);
    close(fd);
}

static CU_TestInfo pool_tests[] = {
    {"one_worker_at_a_time_per_source", one_worker_at_a_time_per_source},
    {"blocked_callback_does_not_stall_other_sources",
     blocked_callback_does_not_stall_other_sources},
    {"blocked_callback_does_not_stall_its_batch", blocked_callback_does_not_stall_its_batch},
    {"every_blocked_worker_is_replaced_in_turn", every_blocked_worker_is_replaced_in_turn},
    {"stop_joins_idle_workers_and_leaves_sources_alone",
     stop_joins_idle_workers_and_leaves_sources_alone},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "pool", .pTests = pool_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

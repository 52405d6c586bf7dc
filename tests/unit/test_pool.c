/* Unit tests of the worker pool: one worker at a time per source, a blocked callback does not
 * hold up other sources, stop joins every worker. Assertions are on behaviour, not timing. */
#include "cunit_main.h"
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

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

/* Waits on cond until *flag or 10 s passed (a bound so a broken pool fails, not hangs). */
static void wait_flag(pthread_mutex_t *lock, pthread_cond_t *cond, const int *flag)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    while (!*flag && pthread_cond_timedwait(cond, lock, &until) == 0)
        ;
}

/* Returns whether the eventfd held a poke. An eventfd also reports itself writable after a
 * read, so a source runs now and then with nothing to do: tests act only on pokes. */
static int drain_eventfd(int fd)
{
    uint64_t v;
    return read(fd, &v, sizeof v) == sizeof v;
}

static void poke(int fd)
{
    uint64_t one = 1;
    ssize_t rc = write(fd, &one, sizeof one);
    (void)rc;
}

/* An eventfd source. The pool's word comes first, as in a connection. */
struct source {
    struct pool_source src;
    int fd;
    int index;
    _Atomic int inside;   /* workers inside this source's callback right now */
    _Atomic int overlaps; /* times two were inside at once */
    _Atomic int calls;
    int target;
};

static void source_open(struct source *s, int index)
{
    memset(s, 0, sizeof *s);
    pool_source_init(&s->src);
    s->fd = eventfd(0, EFD_NONBLOCK);
    s->index = index;
}

static void no_release(void *ctx, struct pool_source *src)
{
    (void)ctx;
    (void)src;
}

static enum pool_verdict serial_cb(void *ctx, struct pool_source *src, uint32_t events,
                                   struct pool_worker *w)
{
    (void)ctx;
    (void)events;
    (void)w;
    struct source *s = (struct source *)src;
    if (atomic_fetch_add(&s->inside, 1) != 0)
        atomic_fetch_add(&s->overlaps, 1);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL); /* widen the window in which a second worker could sneak in */
    uint64_t v = 0;
    int got = read(s->fd, &v, sizeof v) == sizeof v;
    atomic_fetch_sub(&s->inside, 1);
    /* Only runs that took a poke count: an eventfd also reports itself writable after a
     * read, which is a run with nothing to do. One poke is outstanding at a time. */
    if (got && atomic_fetch_add(&s->calls, 1) + 1 < s->target)
        poke(s->fd); /* ready again while this run is still in progress */
    return POOL_WAIT;
}

static void one_worker_at_a_time_per_source(void)
{
    struct source s;
    source_open(&s, 0);
    s.target = 300;
    struct pool *p = pool_new(4, 64, serial_cb, no_release, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(pool_add(p, s.fd, &s.src), 0);
    poke(s.fd);
    for (int i = 0; i < 1000 && atomic_load(&s.calls) < s.target; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    pool_free(p);
    CU_ASSERT_EQUAL(atomic_load(&s.calls), s.target);
    CU_ASSERT_EQUAL(atomic_load(&s.overlaps), 0);
    close(s.fd);
}

/* Every source's registration run (a fresh eventfd is writable) is over once each has been
 * called at least once; tests arm their logic only after that. Bounded like wait_until. */
static void await_registration_runs(struct source *srcs, int n)
{
    for (int i = 0; i < 1200; i++) {
        int all = 1;
        for (int k = 0; k < n; k++)
            all &= atomic_load(&srcs[k].calls) > 0;
        if (all)
            return;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

/* Sources are placed in the least-loaded set, ties in turn: with n workers the k-th source
 * added lands in set k % n. The tests rely on that to put sources side by side. */
static void add_all(struct pool *p, struct source *srcs, int n)
{
    for (int i = 0; i < n; i++) {
        source_open(&srcs[i], i);
        CU_ASSERT_EQUAL(pool_add(p, srcs[i].fd, &srcs[i].src), 0);
    }
}

/* Source A blocks until source B, in the same set, has been served: possible only if another
 * worker takes the set over while A's worker is stuck. */
struct handoff {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int armed;
    int b_served;
    int a_saw_b;
    struct source srcs[3]; /* A, a filler in the other set, B */
};

static enum pool_verdict blocking_cb(void *ctx, struct pool_source *src, uint32_t events,
                                     struct pool_worker *w)
{
    (void)events;
    (void)w;
    struct handoff *h = ctx;
    struct source *s = (struct source *)src;
    atomic_fetch_add(&s->calls, 1);
    int poked = drain_eventfd(s->fd);
    pthread_mutex_lock(&h->lock);
    if (h->armed && poked && s->index == 0) {
        poke(h->srcs[2].fd); /* B becomes ready while A blocks */
        wait_flag(&h->lock, &h->cond, &h->b_served);
        h->a_saw_b = h->b_served;
    } else if (h->armed && poked && s->index == 2) {
        h->b_served = 1;
        pthread_cond_broadcast(&h->cond);
    }
    pthread_mutex_unlock(&h->lock);
    return POOL_WAIT;
}

static int a_saw_b(void *arg)
{
    return ((struct handoff *)arg)->a_saw_b;
}

static void blocked_callback_does_not_stall_its_set(void)
{
    struct handoff h = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct pool *p = pool_new(2, 64, blocking_cb, no_release, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    add_all(p, h.srcs, 3);
    CU_ASSERT_EQUAL(h.srcs[0].src.home, h.srcs[2].src.home);
    CU_ASSERT_NOT_EQUAL(h.srcs[0].src.home, h.srcs[1].src.home);
    await_registration_runs(h.srcs, 3);
    pthread_mutex_lock(&h.lock);
    h.armed = 1; /* after the registration runs (eventfds are writable at once) */
    pthread_mutex_unlock(&h.lock);
    poke(h.srcs[0].fd);
    wait_until(&h.lock, a_saw_b, &h);
    pool_free(p);
    CU_ASSERT_EQUAL(h.b_served, 1);
    CU_ASSERT_EQUAL(h.a_saw_b, 1);
    for (int i = 0; i < 3; i++)
        close(h.srcs[i].fd);
}

/* Eight sources made ready by one write (dup()s of one eventfd), so each set's four reach
 * its worker in one epoll_wait. The first callback to run blocks until the other seven have
 * run: possible only if the rest of its batch is taken by the other worker. */
#define SIBLINGS 8
struct siblings {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int armed;
    int blocker_taken;
    int served; /* callbacks other than the blocker */
    int blocker_saw;
    struct source srcs[SIBLINGS];
};

static enum pool_verdict sibling_cb(void *ctx, struct pool_source *src, uint32_t events,
                                    struct pool_worker *w)
{
    (void)events;
    (void)w;
    struct siblings *g = ctx;
    atomic_fetch_add(&((struct source *)src)->calls, 1);
    pthread_mutex_lock(&g->lock);
    if (!g->armed) {
        /* the registration's writable edge */
    } else if (!g->blocker_taken) {
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
    return POOL_WAIT;
}

static int blocker_answered(void *arg)
{
    return ((struct siblings *)arg)->blocker_saw >= 0;
}

static void blocked_callback_does_not_stall_its_batch(void)
{
    struct siblings g = {
        .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .blocker_saw = -1};
    struct pool *p = pool_new(2, 64, sibling_cb, no_release, &g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    int fd0 = eventfd(0, EFD_NONBLOCK);
    for (int i = 0; i < SIBLINGS; i++) {
        memset(&g.srcs[i], 0, sizeof g.srcs[i]);
        pool_source_init(&g.srcs[i].src);
        g.srcs[i].fd = i ? dup(fd0) : fd0;
        CU_ASSERT_EQUAL(pool_add(p, g.srcs[i].fd, &g.srcs[i].src), 0);
    }
    await_registration_runs(g.srcs, SIBLINGS);
    pthread_mutex_lock(&g.lock);
    g.armed = 1;
    pthread_mutex_unlock(&g.lock);
    poke(fd0);
    wait_until(&g.lock, blocker_answered, &g);
    pool_free(p);
    CU_ASSERT_EQUAL(g.blocker_saw, SIBLINGS - 1);
    CU_ASSERT_EQUAL(g.served, SIBLINGS - 1);
    for (int i = 0; i < SIBLINGS; i++)
        close(g.srcs[i].fd);
}

/* Three sources each block in turn, and each makes the next one ready while it blocks; the
 * fourth unblocks them all. All four live in one set (fillers take the other sets), so with
 * four workers that is possible only if every blocked worker's set is taken over by a
 * waiting worker, one after another, through a chain of nested sets. */
#define CHAIN   4
#define WORKERS 4
struct chain {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int armed;
    int released;
    int blocked; /* callbacks that blocked and then saw the release */
    struct source srcs[CHAIN * WORKERS];
};

static enum pool_verdict chain_cb(void *ctx, struct pool_source *src, uint32_t events,
                                  struct pool_worker *w)
{
    (void)events;
    (void)w;
    struct chain *c = ctx;
    struct source *s = (struct source *)src;
    atomic_fetch_add(&s->calls, 1);
    int poked = drain_eventfd(s->fd);
    pthread_mutex_lock(&c->lock);
    if (c->armed && poked && s->index % WORKERS == 0) {
        int link = s->index / WORKERS;
        if (link == CHAIN - 1) {
            c->released = 1;
            pthread_cond_broadcast(&c->cond);
        } else {
            poke(c->srcs[(link + 1) * WORKERS].fd);
            wait_flag(&c->lock, &c->cond, &c->released);
            c->blocked += c->released;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return POOL_WAIT;
}

static int chain_done(void *arg)
{
    return ((struct chain *)arg)->blocked == CHAIN - 1;
}

static void every_blocked_worker_is_replaced_in_turn(void)
{
    struct chain c = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct pool *p = pool_new(WORKERS, 64, chain_cb, no_release, &c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    add_all(p, c.srcs, CHAIN * WORKERS);
    for (int i = 1; i < CHAIN; i++)
        CU_ASSERT_EQUAL(c.srcs[i * WORKERS].src.home, c.srcs[0].src.home);
    await_registration_runs(c.srcs, CHAIN * WORKERS);
    pthread_mutex_lock(&c.lock);
    c.armed = 1;
    pthread_mutex_unlock(&c.lock);
    poke(c.srcs[0].fd);
    wait_until(&c.lock, chain_done, &c);
    pool_free(p);
    CU_ASSERT_EQUAL(c.released, 1);
    CU_ASSERT_EQUAL(c.blocked, CHAIN - 1);
    for (int i = 0; i < CHAIN * WORKERS; i++)
        close(c.srcs[i].fd);
}

/* Two sources in two sets: the first callback waits until the second is inside its own
 * callback too. Possible only if two workers run callbacks at the same time. */
struct parallel {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int armed;
    int inside;
    int both;
    struct source srcs[2];
};

static enum pool_verdict parallel_cb(void *ctx, struct pool_source *src, uint32_t events,
                                     struct pool_worker *w)
{
    (void)events;
    (void)w;
    struct parallel *q = ctx;
    struct source *s = (struct source *)src;
    atomic_fetch_add(&s->calls, 1);
    int poked = drain_eventfd(s->fd);
    pthread_mutex_lock(&q->lock);
    if (q->armed && poked) {
        if (++q->inside == 2) {
            q->both = 1;
            pthread_cond_broadcast(&q->cond);
        }
        wait_flag(&q->lock, &q->cond, &q->both);
    }
    pthread_mutex_unlock(&q->lock);
    return POOL_WAIT;
}

static int both_inside(void *arg)
{
    return ((struct parallel *)arg)->both;
}

static void sources_in_two_sets_run_at_once(void)
{
    struct parallel q = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct pool *p = pool_new(2, 64, parallel_cb, no_release, &q);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    add_all(p, q.srcs, 2);
    CU_ASSERT_NOT_EQUAL(q.srcs[0].src.home, q.srcs[1].src.home);
    await_registration_runs(q.srcs, 2);
    pthread_mutex_lock(&q.lock);
    q.armed = 1;
    pthread_mutex_unlock(&q.lock);
    poke(q.srcs[0].fd);
    poke(q.srcs[1].fd);
    wait_until(&q.lock, both_inside, &q);
    pool_free(p);
    CU_ASSERT_EQUAL(q.both, 1);
    for (int i = 0; i < 2; i++)
        close(q.srcs[i].fd);
}

/* A source whose callback says it is finished is released exactly once, and never run again
 * even when its fd (kept open here) becomes ready again. */
struct gone {
    struct source s;
    _Atomic int runs;
    _Atomic int released;
};

static enum pool_verdict gone_cb(void *ctx, struct pool_source *src, uint32_t events,
                                 struct pool_worker *w)
{
    (void)ctx;
    (void)events;
    (void)w;
    struct gone *g = (struct gone *)src;
    atomic_fetch_add(&g->runs, 1);
    return POOL_GONE;
}

static void count_release(void *ctx, struct pool_source *src)
{
    (void)ctx;
    atomic_fetch_add(&((struct gone *)src)->released, 1);
}

static int released_once(void *arg)
{
    return atomic_load(&((struct gone *)arg)->released) == 1;
}

static void finished_source_is_released_once_and_not_run_again(void)
{
    struct gone g = {0};
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct pool *p = pool_new(2, 64, gone_cb, count_release, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    source_open(&g.s, 0);
    CU_ASSERT_EQUAL(pool_add(p, g.s.fd, &g.s.src), 0);
    wait_until(&lock, released_once, &g);
    for (int i = 0; i < 5; i++)
        poke(g.s.fd); /* edges for a source the pool holds as gone */
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL); /* give a wrong pool the chance to run it again */
    pool_free(p);
    CU_ASSERT_EQUAL(atomic_load(&g.runs), 1);
    CU_ASSERT_EQUAL(atomic_load(&g.released), 1);
    close(g.s.fd);
}

static enum pool_verdict count_cb(void *ctx, struct pool_source *src, uint32_t events,
                                  struct pool_worker *w)
{
    (void)src;
    (void)events;
    (void)w;
    atomic_fetch_add((_Atomic int *)ctx, 1);
    return POOL_WAIT;
}

static int one_call(void *arg)
{
    return atomic_load((_Atomic int *)arg) == 1;
}

static void stop_joins_workers_and_leaves_sources_alone(void)
{
    _Atomic int calls = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct pool *p = pool_new(3, 64, count_cb, no_release, &calls);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(pool_threads(p), 3);
    struct source s;
    source_open(&s, 0);
    CU_ASSERT_EQUAL(pool_add(p, s.fd, &s.src), 0);
    wait_until(&lock, one_call, &calls); /* the registration's writable edge */
    pool_stop(p);
    pool_stop(p); /* idempotent */
    poke(s.fd);   /* stopped: nobody runs it */
    pool_free(p);
    pool_free(NULL);
    CU_ASSERT_EQUAL(atomic_load(&calls), 1);
    uint64_t v = 0; /* the source's fd is still open and holds the poke */
    CU_ASSERT_EQUAL(read(s.fd, &v, sizeof v), 8);
    CU_ASSERT_EQUAL(v, 1);
    close(s.fd);
}

/* Spread by load: sources pack on one worker while nothing asks for more; a callback that
 * blocks makes every worker take sources, and a source of the stuck set moves to the other
 * at the end of its next run (which the hand-off lets run), then runs there. */
struct packed {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int armed;
    int a_inside;
    int release;
    struct source srcs[3]; /* A blocks; B moves; C stays */
    struct pool *pool;
};

static enum pool_verdict packed_cb(void *ctx, struct pool_source *src, uint32_t events,
                                   struct pool_worker *w)
{
    (void)events;
    (void)w;
    struct packed *k = ctx;
    struct source *s = (struct source *)src;
    int poked = drain_eventfd(s->fd);
    pthread_mutex_lock(&k->lock);
    if (k->armed && poked && s->index == 0) {
        k->a_inside = 1;
        wait_flag(&k->lock, &k->cond, &k->release);
    }
    pthread_mutex_unlock(&k->lock);
    if (poked || !k->armed)
        atomic_fetch_add(&s->calls, 1);
    return POOL_WAIT;
}

static int a_blocks(void *arg)
{
    return ((struct packed *)arg)->a_inside;
}

static int every_worker_takes_sources(void *arg)
{
    return pool_width(((struct packed *)arg)->pool) == 2;
}

static int b_moved(void *arg)
{
    struct packed *k = arg;
    if (atomic_load(&k->srcs[1].src.home) == 1)
        return 1;
    poke(k->srcs[1].fd); /* its move happens at the end of a run */
    return 0;
}

static void spread_by_load_packs_then_spreads_when_a_callback_blocks(void)
{
    struct packed k = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    pthread_mutex_t none = PTHREAD_MUTEX_INITIALIZER;
    struct pool *p = pool_new(2, 64, packed_cb, no_release, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    k.pool = p;
    pool_spread_by_load(p);
    CU_ASSERT_EQUAL(pool_width(p), 1);
    add_all(p, k.srcs, 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(atomic_load(&k.srcs[i].src.home), 0);
    await_registration_runs(k.srcs, 3);
    pthread_mutex_lock(&k.lock);
    k.armed = 1;
    pthread_mutex_unlock(&k.lock);
    poke(k.srcs[0].fd);
    wait_until(&k.lock, a_blocks, &k);
    CU_ASSERT_EQUAL_FATAL(k.a_inside, 1);
    wait_until(&none, every_worker_takes_sources, &k);
    CU_ASSERT_EQUAL(pool_width(p), 2);
    int before = atomic_load(&k.srcs[1].calls);
    wait_until(&none, b_moved, &k);
    CU_ASSERT_EQUAL(atomic_load(&k.srcs[1].src.home), 1);
    CU_ASSERT(atomic_load(&k.srcs[1].calls) > before);
    int moved_calls = atomic_load(&k.srcs[1].calls);
    poke(k.srcs[1].fd); /* served from its new set, A still blocked */
    for (int i = 0; i < 1200 && atomic_load(&k.srcs[1].calls) == moved_calls; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    CU_ASSERT(atomic_load(&k.srcs[1].calls) > moved_calls);
    CU_ASSERT_EQUAL(atomic_load(&k.srcs[2].src.home), 0); /* never ran again: never moved */
    pthread_mutex_lock(&k.lock);
    k.release = 1;
    pthread_cond_broadcast(&k.cond);
    pthread_mutex_unlock(&k.lock);
    pool_free(p);
    for (int i = 0; i < 3; i++)
        close(k.srcs[i].fd);
}

static CU_TestInfo pool_tests[] = {
    {"spread_by_load_packs_then_spreads_when_a_callback_blocks",
     spread_by_load_packs_then_spreads_when_a_callback_blocks},
    {"one_worker_at_a_time_per_source", one_worker_at_a_time_per_source},
    {"blocked_callback_does_not_stall_its_set", blocked_callback_does_not_stall_its_set},
    {"blocked_callback_does_not_stall_its_batch", blocked_callback_does_not_stall_its_batch},
    {"every_blocked_worker_is_replaced_in_turn", every_blocked_worker_is_replaced_in_turn},
    {"sources_in_two_sets_run_at_once", sources_in_two_sets_run_at_once},
    {"finished_source_is_released_once_and_not_run_again",
     finished_source_is_released_once_and_not_run_again},
    {"stop_joins_workers_and_leaves_sources_alone", stop_joins_workers_and_leaves_sources_alone},
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

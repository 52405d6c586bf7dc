/* pool - per-worker epoll sets, edge-triggered sources with a state word, and a monitor that
 * hands a stuck worker's set to a waiting worker. See pool.h for the contract.
 *
 * Roles
 * - Worker w is the home of set w. It loops: run the sources queued in its set (budgets that
 *   ran out), run the batch of its set, fill the batch with one epoll_wait (blocking when
 *   nothing is queued). A set's batch lives in the set, not in the thread, so any worker may
 *   claim the rest of it.
 * - The monitor looks every 2 ms while any worker runs (every 1 ms for a second after it found
 *   one stuck). A worker whose run counter has not moved for a whole look is stuck in one
 *   callback: its set is nested into the epoll set
 *   of a worker that is blocked in epoll_wait (EPOLL_CTL_ADD of one epoll fd into another) and
 *   kicked (an eventfd in the set). That worker wakes, visits the stuck set (claims the rest
 *   of its batch, runs its queue, fills it without blocking) and goes back to its own. When
 *   the stuck worker returns from its callback it takes its set back (EPOLL_CTL_DEL). Nothing
 *   of this runs while no callback is slow: the hot path is epoll_wait, the callback's own
 *   read and write, two uncontended atomics on the source and one on the set per event.
 *
 * - Spreading by load (pool_spread_by_load): sets [0, width) take new sources. The monitor
 *   sets width and a per-set quota (spread.c decides: every 20 ms on blocking, every 100 ms
 *   on CPU). A thread that claims a
 *   source whose set is outside the width or over the quota moves it (ADD to the new set,
 *   DEL from the old) and queues it there with its events instead of running it.
 *
 * Memory-order rules
 * - A source's state word is the only hand-over of a source between threads: a claim (CAS
 *   to RUNNING) is acquire, giving it up (CAS to IDLE, store of NOTIFIED or GONE) is release,
 *   so everything a run wrote is visible to the next run, on whatever thread. An event that
 *   finds the source RUNNING only sets NOTIFIED; the runner sees it when it tries to go IDLE
 *   and runs again, so no event is lost and no two runs overlap.
 * - A set's batch entries are written only by the thread that moved the cursor to FILLING,
 *   and published by its release store of the new cursor. A claim reads an entry and then
 *   CASes the cursor forward (acquire); when the CAS fails the entry is discarded, so an
 *   entry is run by exactly one claimer even if a refill raced with the read.
 * - A source's home (which set holds it) is written only by its owner of the moment, while
 *   it is RUNNING; others read it relaxed to pick a queue (pool_notify): a stale home puts
 *   it in the old set's queue, whose worker then runs it once, which is still exactly one
 *   run at a time. Width and quota are hints, read relaxed.
 * - Phase and run counters are each written by their worker only. The monitor's sleep is a
 *   Dekker pair: a worker stores its RUN phase (seq_cst) and then reads monitor_asleep; the
 *   monitor stores monitor_asleep and then reads every phase. */
#include "pool.h"

#include "log.h"
#include "monotonic.h"
#include "spread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64 /* events one epoll_wait may take into a set's batch */
/* The monitor's look, which bounds how long a stuck callback goes unnoticed: a callback is
 * stuck when its worker's run counter has not moved between two looks. Calm, it looks every
 * 2 ms; for a second after it finds a stuck worker, every 1 ms (blocking handlers are about:
 * the next one is taken over sooner). Like Go's sysmon, it looks less often while it finds
 * nothing, because a look is a wake-up. */
#define TICK_NS      1000000L
#define CALM_TICK_NS 2000000L
#define ALERT_NS     1000000000L
/* With one worker nobody can take a stuck set: the monitor only keeps the stuck time the
 * watchdog reads (seconds matter there), so it looks far less often. */
#define LONE_TICK_NS 50000000L
#define IDLE_TICKS   8 /* looks with every worker waiting before the monitor sleeps */
/* When spread by load, the width is decided every window from the workers' busy and CPU time
 * over it (nanosecond clocks: a short window reacts to blocking handlers before a backlog
 * builds on the few active workers), and from the machine's idle time over the longer idle
 * window (/proc/stat counts in 10 ms jiffies). */
#define SPREAD_WINDOW_NS 20000000L
#define IDLE_WINDOW_NS   100000000L
#define EV_SOURCE        (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)
#define FILLING          0xffffu /* cursor's `next` while one thread refills the batch */

enum { ST_IDLE = 0, ST_RUNNING = 1, ST_NOTIFIED = 2, ST_GONE = 4 };
enum { PH_RUN = 0, PH_WAIT = 1 };

/* An epoll set, the batch last taken from it and its queue of sources with more to do. */
struct evset {
    int epfd;
    int kick_fd;             /* eventfd in this set: the monitor's nudge to a visitor */
    _Atomic uint64_t cursor; /* gen << 32 | next << 16 | count: the unclaimed ev[next..count) */
    _Atomic(void *) ev_ptr[BATCH];
    _Atomic uint32_t ev_mask[BATCH];
    _Atomic int adopted_by;     /* index of the worker whose set holds this one nested, or -1 */
    _Atomic unsigned sources;   /* registered here and not gone: for placing new ones */
    _Atomic unsigned queued;    /* entries in queue: read without the lock as a hint */
    pthread_mutex_t queue_lock; /* taken only when a budget runs out, never per event */
    struct pool_source **queue;
    size_t queue_len, queue_cap;
};

struct worker {
    struct evset set;
    struct pool *pool;
    unsigned index;
    pthread_t thread;
    struct pool_worker ctx;
    /* Written by the monitor: since when (CLOCK_MONOTONIC ns) the current callback has made
     * no progress, 0 while it moves or waits. Read by pool_longest_stuck_ns. */
    _Atomic uint64_t stuck_since_ns;
    /* Written by this worker only, read by the monitor once per look (and busy_ns by a
     * scrape). */
    _Alignas(64) _Atomic unsigned long runs; /* callbacks finished */
    _Atomic int phase;                       /* PH_WAIT while blocked in epoll_wait */
    _Atomic uint64_t busy_ns;                /* time outside a blocking epoll_wait, summed */
    _Atomic uint64_t run_since_ns;           /* when the current run phase began */
    char pad[64 - sizeof(unsigned long) - sizeof(int) - 2 * sizeof(uint64_t)];
    /* This thread's time on the CPU and waiting for one, for the monitor's spread decision:
     * /proc/thread-self/schedstat, opened by the thread itself (-1: not readable), else its
     * CPU clock alone. */
    _Atomic int sched_fd;
    clockid_t cpu_clock;
    int has_cpu_clock;
};

struct pool {
    pool_fn fn;
    pool_release_fn release;
    void *ctx;
    size_t scratch_size;
    unsigned nthreads;
    unsigned started;
    int stopped;
    int quit_fd; /* eventfd in every set, level-triggered: once written, every set reports it */
    _Atomic int stop_now; /* set by pool_stop: no callback starts after it (read per event) */
    struct worker *workers;
    _Atomic unsigned next_home; /* round-robin start for placing sources */

    /* Where sources go: sets [0, width) take new ones, and a source whose set is outside
     * them or holds more than quota moves when a worker next claims it. Both fixed (every set, no
     * quota) unless spread by load; then the monitor writes them once a window and every
     * run reads them: their own read-mostly line. */
    _Alignas(64) _Atomic unsigned width;
    _Atomic unsigned quota;
    _Atomic int by_load;
    char spread_pad[64 - 2 * sizeof(unsigned) - sizeof(int)];

    pthread_t monitor;
    int monitor_started;
    /* The monitor sleeps in one futex wait on monitor_seq, timed (a look) or untimed (every
     * worker waits): one system call per look, none by the workers while it looks. A waker
     * bumps the word and then wakes it, so a bump between its read and its wait is not lost. */
    _Atomic uint32_t monitor_seq;
    _Atomic int monitor_asleep; /* the monitor waits untimed: the first worker that runs wakes it */
    _Atomic int quitting;
    pthread_mutex_t adopt_lock; /* nesting and un-nesting of sets: slow path only */
    _Atomic uint64_t handoffs;  /* stuck sets nested into a waiting worker's, ever */
};

static char quit_tag; /* data.ptr of the quit eventfd */

void pool_source_init(struct pool_source *src)
{
    atomic_store_explicit(&src->state, ST_GONE, memory_order_relaxed);
    atomic_store_explicit(&src->pending, 0, memory_order_relaxed);
    atomic_store_explicit(&src->home, 0, memory_order_relaxed);
    src->fd = -1;
}

static unsigned source_home(const struct pool_source *src)
{
    return atomic_load_explicit(&src->home, memory_order_relaxed);
}

static unsigned set_sources(struct pool *p, unsigned i)
{
    return atomic_load_explicit(&p->workers[i].set.sources, memory_order_relaxed);
}

/* The set in [0, width) with the fewest sources, looking from a rotating start so that ties
 * spread out. */
static unsigned least_loaded(struct pool *p, unsigned width)
{
    unsigned start = atomic_fetch_add_explicit(&p->next_home, 1, memory_order_relaxed);
    unsigned best = start % width, best_n = ~0u;
    for (unsigned k = 0; k < width; k++) {
        unsigned i = (start + k) % width, n = set_sources(p, i);
        if (n < best_n) {
            best = i;
            best_n = n;
        }
    }
    return best;
}

/* By the thread that just claimed src (it owns it): moves it to a set inside the width when
 * its own is outside, or holds more than the quota and another has fewer. Returns 1 when
 * it moved, 0 when it stays. Registered in the new set first, so no moment finds it in none;
 * an event either set reports meanwhile meets the state word (RUNNING: folded into one more
 * run), and a stale one in the old set's batch costs one spare run. */
static int move_if_crowded(struct pool *p, struct pool_source *src)
{
    unsigned home = source_home(src);
    unsigned width = atomic_load_explicit(&p->width, memory_order_relaxed);
    unsigned here = set_sources(p, home);
    if (home < width && here <= atomic_load_explicit(&p->quota, memory_order_relaxed))
        return 0;
    unsigned to = least_loaded(p, width);
    if (to == home || (home < width && set_sources(p, to) + 1 >= here))
        return 0;
    struct evset *from_set = &p->workers[home].set, *to_set = &p->workers[to].set;
    struct epoll_event ev = {.events = EV_SOURCE, .data.ptr = src};
    if (epoll_ctl(to_set->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0)
        return 0; /* it stays where it is, which still serves it */
    atomic_fetch_add_explicit(&to_set->sources, 1, memory_order_relaxed);
    atomic_store_explicit(&src->home, to, memory_order_relaxed);
    epoll_ctl(from_set->epfd, EPOLL_CTL_DEL, src->fd, NULL);
    atomic_fetch_sub_explicit(&from_set->sources, 1, memory_order_relaxed);
    return 1;
}

/* --- sources: claim, run, give up ------------------------------------------------------ */

/* Takes the source for this thread (returns 1, with the events folded into it meanwhile
 * added to *events), or folds this event into the run in progress (returns 0): its mask is
 * kept in `pending`, since a hang-up is reported once and the run must still see it. */
static int claim_source(struct pool_source *src, uint32_t *events)
{
    uint32_t s = atomic_load_explicit(&src->state, memory_order_relaxed);
    int folded = 0;
    for (;;) {
        if (s & ST_GONE)
            return 0;
        if (s & ST_RUNNING) {
            if (!folded) {
                atomic_fetch_or_explicit(&src->pending, *events, memory_order_relaxed);
                folded = 1;
            }
            /* Even when NOTIFIED is set already: the CAS orders our mask before the runner's
             * exchange of the state word, which it then takes with acquire. */
            if (atomic_compare_exchange_weak_explicit(&src->state, &s, s | ST_NOTIFIED,
                                                      memory_order_release, memory_order_relaxed))
                return 0;
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&src->state, &s, ST_RUNNING, memory_order_acquire,
                                                  memory_order_relaxed)) {
            if (s & ST_NOTIFIED)
                *events |= atomic_exchange_explicit(&src->pending, 0, memory_order_relaxed);
            return 1;
        }
    }
}

/* Appends src to the set's queue of sources to run again. Returns 0, or -ENOMEM when the
 * queue cannot grow (the caller then leaves the source to its next event). */
static int queue_push(struct evset *set, struct pool_source *src)
{
    int rc = 0;
    pthread_mutex_lock(&set->queue_lock);
    if (set->queue_len == set->queue_cap) {
        size_t cap = set->queue_cap ? set->queue_cap * 2 : 64;
        struct pool_source **q = realloc(set->queue, cap * sizeof *q);
        if (q) {
            set->queue = q;
            set->queue_cap = cap;
        } else {
            rc = -ENOMEM;
        }
    }
    if (rc == 0) {
        set->queue[set->queue_len++] = src;
        atomic_store_explicit(&set->queued, (unsigned)set->queue_len, memory_order_relaxed);
    }
    pthread_mutex_unlock(&set->queue_lock);
    return rc;
}

static void kick(struct evset *set)
{
    uint64_t one = 1;
    if (write(set->kick_fd, &one, sizeof one) < 0) {
        /* only fails when the counter would overflow: it is readable already */
    }
}

/* By the source's owner: gives it up as ready and queues it in set. Ready and unowned
 * before it is queued, since a pop that found it still RUNNING would fold into a run that
 * nobody makes. Whoever claims it first (a queue pop or an event) runs it; a stale queue
 * entry then finds it running, idle or gone (type-stable memory), and costs one spare run
 * at most. */
static void enqueue(struct evset *set, struct pool_source *src)
{
    atomic_store_explicit(&src->state, ST_NOTIFIED, memory_order_release);
    if (queue_push(set, src) < 0) {
        /* No room to remember it: run it again on the next event instead. Its data is
         * still in the socket, and the peer's next byte or our next write wakes it. */
        uint32_t s = ST_NOTIFIED;
        atomic_compare_exchange_strong_explicit(&src->state, &s, ST_IDLE, memory_order_relaxed,
                                                memory_order_relaxed);
    }
}

/* By the source's owner: queues it in its own set (which a move or a visit makes another
 * than ours), kicking that set's worker, or the visitor holding the set, unless it is us: it
 * must not wait behind whatever keeps us busy. */
static void requeue(struct worker *self, struct pool_source *src)
{
    struct evset *home = &self->pool->workers[source_home(src)].set;
    enqueue(home, src);
    if (home != &self->set)
        kick(home);
}

static void run_source(struct worker *self, struct pool_source *src, uint32_t events)
{
    struct pool *p = self->pool;
    if (!claim_source(src, &events))
        return;
    if (atomic_load_explicit(&p->by_load, memory_order_relaxed) && move_if_crowded(p, src)) {
        /* Moved before it runs: its new set's worker runs it, with this event, while we
         * go on with ours. A crowded set (everything packed on one worker when handlers
         * began to block) empties in microseconds instead of one run at a time. */
        atomic_fetch_or_explicit(&src->pending, events, memory_order_relaxed);
        requeue(self, src);
        return;
    }
    enum pool_verdict v = p->fn(p->ctx, src, events, &self->ctx);
    unsigned long r = atomic_load_explicit(&self->runs, memory_order_relaxed);
    atomic_store_explicit(&self->runs, r + 1, memory_order_relaxed);
    if (v == POOL_GONE) {
        atomic_fetch_sub_explicit(&p->workers[source_home(src)].set.sources, 1,
                                  memory_order_relaxed);
        atomic_store_explicit(&src->state, ST_GONE, memory_order_release);
        p->release(p->ctx, src);
        return;
    }
    uint32_t s = ST_RUNNING;
    if (v == POOL_WAIT && atomic_compare_exchange_strong_explicit(
                              &src->state, &s, ST_IDLE, memory_order_release, memory_order_relaxed))
        return;
    /* More to do, or an event came while we ran (edge-triggered: it will not be reported
     * again). Run it again, but behind the rest of the batch: a client that pipelines as
     * fast as we answer must not keep its worker from the other sources of the set. */
    requeue(self, src);
}

/* --- batches --------------------------------------------------------------------------- */

static uint64_t cursor_make(uint64_t gen, unsigned next, unsigned count)
{
    return gen << 32 | (uint64_t)next << 16 | count;
}

static int claim_event(struct evset *set, void **ptr, uint32_t *mask)
{
    uint64_t c = atomic_load_explicit(&set->cursor, memory_order_acquire);
    for (;;) {
        unsigned next = (unsigned)(c >> 16) & 0xffffu, count = (unsigned)c & 0xffffu;
        if (next == FILLING || next >= count)
            return 0;
        void *pv = atomic_load_explicit(&set->ev_ptr[next], memory_order_relaxed);
        uint32_t m = atomic_load_explicit(&set->ev_mask[next], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&set->cursor, &c, c + (1u << 16),
                                                  memory_order_acquire, memory_order_acquire)) {
            *ptr = pv;
            *mask = m;
            return 1;
        }
    }
}

static void futex_wake_one(_Atomic uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sleeps while *word == seen, up to ns (0: no limit). Returns at once if it changed. */
static void futex_wait_for(_Atomic uint32_t *word, uint32_t seen, long ns)
{
    struct timespec rel = {(time_t)(ns / 1000000000L), ns % 1000000000L};
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, ns ? &rel : NULL, NULL, 0);
}

/* Bumps the word the monitor sleeps on, then wakes it: a bump between its read of the word
 * and its wait makes the wait return at once. */
static void rouse_monitor(struct pool *p)
{
    atomic_fetch_add(&p->monitor_seq, 1);
    futex_wake_one(&p->monitor_seq);
}

static void wake_monitor(struct pool *p)
{
    int asleep = 1;
    /* Only the worker that clears the flag pays for the wake-up. */
    if (atomic_compare_exchange_strong(&p->monitor_asleep, &asleep, 0))
        rouse_monitor(p);
}

enum fill { FILL_QUIT = -2, FILL_BUSY = -1, FILL_NONE = 0, FILL_SOME = 1 };

/* Refills a set's batch once it is used up: one epoll_wait, blocking up to `timeout` ms
 * (only the home worker blocks). FILL_BUSY when another thread is filling it. */
static enum fill fill(struct worker *self, struct evset *set, int timeout)
{
    struct pool *p = self->pool;
    uint64_t c = atomic_load_explicit(&set->cursor, memory_order_acquire);
    unsigned next = (unsigned)(c >> 16) & 0xffffu, count = (unsigned)c & 0xffffu;
    if (next == FILLING)
        return FILL_BUSY;
    if (next < count)
        return FILL_SOME; /* someone's leftovers: claim them first */
    uint64_t gen = c >> 32;
    if (!atomic_compare_exchange_strong_explicit(&set->cursor, &c, cursor_make(gen, FILLING, 0),
                                                 memory_order_acquire, memory_order_relaxed))
        return FILL_SOME;
    struct epoll_event got[BATCH];
    if (timeout) {
        /* Busy time is counted per wake-up, not per event: two clock reads around a wait
         * that may block. A run phase is counted once it ends. */
        uint64_t now = monotonic_ns(),
                 busy = atomic_load_explicit(&self->busy_ns, memory_order_relaxed);
        atomic_store_explicit(
            &self->busy_ns,
            busy + (now - atomic_load_explicit(&self->run_since_ns, memory_order_relaxed)),
            memory_order_relaxed);
        atomic_store_explicit(&self->phase, PH_WAIT, memory_order_relaxed);
    }
    int n = epoll_wait(set->epfd, got, BATCH, timeout);
    if (timeout) {
        atomic_store_explicit(&self->run_since_ns, monotonic_ns(), memory_order_relaxed);
        atomic_store(&self->phase, PH_RUN); /* seq_cst: Dekker with the monitor's sleep */
        if (atomic_load(&p->monitor_asleep))
            wake_monitor(p);
    }
    if (n < 0)
        n = 0; /* EINTR: workers block signals, but a debugger may still interrupt */
    for (int i = 0; i < n; i++) {
        atomic_store_explicit(&set->ev_ptr[i], got[i].data.ptr, memory_order_relaxed);
        atomic_store_explicit(&set->ev_mask[i], got[i].events, memory_order_relaxed);
    }
    atomic_store_explicit(&set->cursor, cursor_make(gen + 1, 0, (unsigned)n), memory_order_release);
    return n ? FILL_SOME : FILL_NONE;
}

/* --- hand-off of a stuck worker's set -------------------------------------------------- */

static void take_back(struct worker *self)
{
    struct pool *p = self->pool;
    pthread_mutex_lock(&p->adopt_lock);
    int v = atomic_load_explicit(&self->set.adopted_by, memory_order_relaxed);
    if (v >= 0) {
        epoll_ctl(p->workers[v].set.epfd, EPOLL_CTL_DEL, self->set.epfd, NULL);
        atomic_store_explicit(&self->set.adopted_by, -1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->adopt_lock);
}

static void maybe_take_back(struct worker *self)
{
    if (atomic_load_explicit(&self->set.adopted_by, memory_order_relaxed) >= 0)
        take_back(self);
}

static void run_batch(struct worker *self, struct evset *set, unsigned depth, int *quit);
static void dispatch(struct worker *self, void *ptr, uint32_t mask, unsigned depth, int *quit);

static void run_queue(struct worker *self, struct evset *set)
{
    if (!atomic_load_explicit(&set->queued, memory_order_relaxed))
        return;
    pthread_mutex_lock(&set->queue_lock);
    size_t n = set->queue_len;
    struct pool_source **taken = set->queue;
    set->queue = NULL;
    set->queue_len = set->queue_cap = 0;
    atomic_store_explicit(&set->queued, 0, memory_order_relaxed);
    pthread_mutex_unlock(&set->queue_lock);
    for (size_t i = 0; i < n && !atomic_load_explicit(&self->pool->stop_now, memory_order_relaxed);
         i++)
        run_source(self, taken[i], EPOLLIN | EPOLLOUT);
    free(taken);
}

static int still_adopted(struct evset *set)
{
    return atomic_load_explicit(&set->adopted_by, memory_order_relaxed) >= 0;
}

/* Runs what a stuck worker's set holds: its queue, the rest of its batch, one more batch.
 * Leaves as soon as the set's own worker is back, which then claims what is left: a visitor
 * that lingered would keep its own set waiting. */
static void visit(struct worker *self, struct evset *set, unsigned depth)
{
    int quit_seen = 0; /* the visited set's quit is its home worker's business */
    void *ptr;
    uint32_t mask;
    run_queue(self, set);
    for (int round = 0; round < 2 && still_adopted(set); round++) {
        while (still_adopted(set) && claim_event(set, &ptr, &mask))
            dispatch(self, ptr, mask, depth, &quit_seen);
        if (!still_adopted(set) || fill(self, set, 0) != FILL_SOME)
            break;
    }
}

static struct worker *tag_worker(struct pool *p, void *ptr, size_t offset)
{
    char *base = (char *)p->workers;
    char *c = ptr;
    if (c < base || c >= base + (size_t)p->nthreads * sizeof *p->workers)
        return NULL;
    struct worker *w = &p->workers[(size_t)(c - base) / sizeof *p->workers];
    return c == (char *)w + offset ? w : NULL;
}

static void dispatch(struct worker *self, void *ptr, uint32_t mask, unsigned depth, int *quit)
{
    struct pool *p = self->pool;
    struct worker *w;
    if (ptr == &quit_tag) {
        *quit = 1;
    } else if ((w = tag_worker(p, ptr, offsetof(struct worker, set.kick_fd)))) {
        uint64_t v;
        if (read(w->set.kick_fd, &v, sizeof v) < 0) {
            /* another visitor drained it first */
        }
    } else if ((w = tag_worker(p, ptr, offsetof(struct worker, set)))) {
        if (depth < p->nthreads)
            visit(self, &w->set, depth + 1);
    } else {
        run_source(self, ptr, mask);
        maybe_take_back(self);
    }
}

static void run_batch(struct worker *self, struct evset *set, unsigned depth, int *quit)
{
    void *ptr;
    uint32_t mask;
    while (!atomic_load_explicit(&self->pool->stop_now, memory_order_relaxed) &&
           claim_event(set, &ptr, &mask))
        dispatch(self, ptr, mask, depth, quit);
    if (atomic_load_explicit(&self->pool->stop_now, memory_order_relaxed))
        *quit = 1;
}

static void *worker_main(void *arg)
{
    struct worker *self = arg;
    struct pool *p = self->pool;
    char name[16]; /* named for top -H, perf and the tests that look at each thread */
    snprintf(name, sizeof name, "lp-worker-%u", self->index);
    pthread_setname_np(pthread_self(), name);
    if (!(self->ctx.scratch = malloc(p->scratch_size)))
        return NULL;
    atomic_store_explicit(&self->sched_fd,
                          open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC),
                          memory_order_release);
    atomic_store_explicit(&self->run_since_ns, monotonic_ns(), memory_order_relaxed);
    int quit = 0;
    while (!quit) {
        run_queue(self, &self->set);
        run_batch(self, &self->set, 0, &quit);
        if (quit)
            break;
        maybe_take_back(self);
        int timeout = atomic_load_explicit(&self->set.queued, memory_order_relaxed) ? 0 : -1;
        if (fill(self, &self->set, timeout) == FILL_BUSY)
            sched_yield(); /* a visitor's non-blocking refill: over in microseconds */
    }
    free(self->ctx.scratch);
    self->ctx.scratch = NULL;
    return NULL;
}

/* --- the monitor ----------------------------------------------------------------------- */

static struct worker *waiting_worker(struct pool *p, unsigned stuck)
{
    for (unsigned k = 1; k < p->nthreads; k++) {
        struct worker *v = &p->workers[(stuck + k) % p->nthreads];
        if (atomic_load_explicit(&v->phase, memory_order_relaxed) == PH_WAIT &&
            atomic_load_explicit(&v->set.adopted_by, memory_order_relaxed) < 0)
            return v;
    }
    return NULL;
}

static int has_work(struct evset *set)
{
    uint64_t c = atomic_load_explicit(&set->cursor, memory_order_relaxed);
    unsigned next = (unsigned)(c >> 16) & 0xffffu, count = (unsigned)c & 0xffffu;
    return (next != FILLING && next < count) ||
           atomic_load_explicit(&set->queued, memory_order_relaxed);
}

/* Worker w made no progress for a whole look inside its RUN phase. */
static void help_stuck(struct pool *p, struct worker *w, unsigned long runs_seen)
{
    int by = atomic_load_explicit(&w->set.adopted_by, memory_order_relaxed);
    if (by >= 0) {
        /* Already nested; if its visitor got stuck too, the kick reaches whoever holds the
         * visitor's set, through the chain of nested sets. */
        if (has_work(&w->set))
            kick(&w->set);
        return;
    }
    struct worker *v = waiting_worker(p, w->index);
    if (!v)
        return; /* every worker is busy: events wait, as they would for a free worker */
    pthread_mutex_lock(&p->adopt_lock);
    if (atomic_load_explicit(&w->runs, memory_order_relaxed) == runs_seen &&
        atomic_load_explicit(&w->set.adopted_by, memory_order_relaxed) < 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->set};
        if (epoll_ctl(v->set.epfd, EPOLL_CTL_ADD, w->set.epfd, &ev) == 0) {
            atomic_store_explicit(&w->set.adopted_by, (int)v->index, memory_order_relaxed);
            atomic_fetch_add_explicit(&p->handoffs, 1, memory_order_relaxed);
            kick(&w->set); /* the rest of its batch is in memory, not in the kernel */
        }
    }
    pthread_mutex_unlock(&p->adopt_lock);
}

/* Sleeps until a worker runs again. Returns 0 at quit. */
static int sleep_while_idle(struct pool *p)
{
    for (;;) {
        uint32_t seen = atomic_load(&p->monitor_seq);
        atomic_store(&p->monitor_asleep, 1); /* seq_cst: Dekker with fill() */
        int running = 0;
        for (unsigned i = 0; i < p->nthreads; i++)
            running |= atomic_load(&p->workers[i].phase) == PH_RUN;
        if (running || atomic_load(&p->quitting)) {
            atomic_store(&p->monitor_asleep, 0);
            break;
        }
        futex_wait_for(&p->monitor_seq, seen, 0);
        if (!atomic_load(&p->monitor_asleep))
            break; /* a worker woke us (or pool_stop): it cleared the flag */
    }
    return !atomic_load(&p->quitting);
}

/* A worker seen stuck has been so since the previous look at least. */
static void note_stuck(struct worker *w, int stuck, uint64_t prev_look)
{
    uint64_t since = atomic_load_explicit(&w->stuck_since_ns, memory_order_relaxed);
    if (!stuck && since)
        atomic_store_explicit(&w->stuck_since_ns, 0, memory_order_relaxed);
    else if (stuck && !since)
        atomic_store_explicit(&w->stuck_since_ns, prev_look, memory_order_relaxed);
}

uint64_t pool_longest_stuck_ns(struct pool *p)
{
    uint64_t now = monotonic_ns(), longest = 0;
    for (unsigned i = 0; i < p->nthreads; i++) {
        uint64_t since = atomic_load_explicit(&p->workers[i].stuck_since_ns, memory_order_relaxed);
        if (since && now > since && now - since > longest)
            longest = now - since;
    }
    return longest;
}

/* --- spreading by load (the monitor's, once a window) ----------------------------------- */

/* What the monitor keeps between windows to decide the width. Two windows: a short one for
 * blocking (nanosecond clocks, so 20 ms tell), a long one for growing and shrinking by CPU,
 * whose busy time and the machine's idle time cover the same stretch (/proc/stat counts in
 * 10 ms jiffies). */
struct spread_state {
    int started;
    uint64_t since_ns, slow_since_ns; /* starts of the short and the long window */
    uint64_t *busy_seen, *cpu_seen;   /* per worker, at the short window's start */
    uint64_t *slow_busy_seen;         /* per worker, at the long window's start */
    uint64_t idle_seen;               /* the machine's idle jiffies then; 0: unknown */
    int stat_fd;                      /* /proc/stat, or -1: idle time unknown */
    double jiffies_per_s;
    struct spread_memory memory;
};

/* Idle and iowait jiffies summed over every CPU, from /proc/stat's first line; 0 unknown. */
static uint64_t machine_idle_jiffies(int fd)
{
    char buf[256];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    unsigned long long v[5];
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
        return 0;
    return v[3] + v[4];
}

/* Busy time so far, counting a run phase in progress (busy_ns counts it only once it ends). */
static uint64_t busy_so_far(struct worker *w, uint64_t now)
{
    uint64_t b = atomic_load_explicit(&w->busy_ns, memory_order_relaxed);
    if (atomic_load_explicit(&w->phase, memory_order_acquire) == PH_RUN) {
        uint64_t since = atomic_load_explicit(&w->run_since_ns, memory_order_relaxed);
        if (now > since)
            b += now - since;
    }
    return b;
}

/* Nanoseconds the worker has been on a CPU or waiting in a run queue for one: what is left
 * of its busy time is time asleep inside callbacks (a handler blocking). 0 when unknown. */
static uint64_t cpu_so_far(struct worker *w)
{
    int fd = atomic_load_explicit(&w->sched_fd, memory_order_acquire); /* after its open */
    if (fd >= 0) {
        char buf[96];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        unsigned long long on_cpu, waiting;
        if (n > 0) {
            buf[n] = '\0';
            if (sscanf(buf, "%llu %llu", &on_cpu, &waiting) == 2)
                return on_cpu + waiting;
        }
    }
    struct timespec ts;
    if (!w->has_cpu_clock || clock_gettime(w->cpu_clock, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double fraction(uint64_t now, uint64_t then, double dt)
{
    double f = now > then ? (double)(now - then) / dt : 0;
    return f > 1 ? 1 : f;
}

/* The work every worker's callbacks reported (pool_worker.work_done), summed. */
static uint64_t work_done(struct pool *p)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < p->nthreads; i++)
        sum += atomic_load_explicit(&p->workers[i].ctx.work_done, memory_order_relaxed);
    return sum;
}

static void slow_sample(struct pool *p, struct spread_state *sp, uint64_t now)
{
    for (unsigned i = 0; i < p->nthreads; i++)
        sp->slow_busy_seen[i] = busy_so_far(&p->workers[i], now);
    sp->idle_seen = machine_idle_jiffies(sp->stat_fd);
    sp->slow_since_ns = now;
}

static void fast_sample(struct pool *p, struct spread_state *sp, uint64_t now)
{
    for (unsigned i = 0; i < p->nthreads; i++) {
        sp->busy_seen[i] = busy_so_far(&p->workers[i], now);
        sp->cpu_seen[i] = cpu_so_far(&p->workers[i]);
    }
    sp->since_ns = now;
}

static int spread_start(struct pool *p, struct spread_state *sp, uint64_t now)
{
    sp->busy_seen = calloc(p->nthreads, sizeof *sp->busy_seen);
    sp->cpu_seen = calloc(p->nthreads, sizeof *sp->cpu_seen);
    sp->slow_busy_seen = calloc(p->nthreads, sizeof *sp->slow_busy_seen);
    if (!sp->busy_seen || !sp->cpu_seen || !sp->slow_busy_seen)
        return -1;
    sp->stat_fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    long tck = sysconf(_SC_CLK_TCK);
    sp->jiffies_per_s = tck > 0 ? (double)tck : 100;
    fast_sample(p, sp, now);
    slow_sample(p, sp, now);
    sp->started = 1;
    return 0;
}

static void set_width(struct pool *p, unsigned width)
{
    unsigned total = 0;
    for (unsigned i = 0; i < p->nthreads; i++)
        total += set_sources(p, i);
    /* One over the even share, so that two sets one apart do not trade a source back and
     * forth. */
    atomic_store_explicit(&p->quota, total / width + 1, memory_order_relaxed);
    atomic_store_explicit(&p->width, width, memory_order_relaxed);
}

/* After the monitor slept: windows start afresh, so none spans the sleep. */
static void spread_resume(struct pool *p, struct spread_state *sp, uint64_t now)
{
    unsigned width = atomic_load_explicit(&p->width, memory_order_relaxed);
    unsigned next = spread_restart(&sp->memory, width, now);
    if (next != width) {
        log_debug("pool: %u of %u workers take connections (were %u): no handler asleep for "
                  "a while",
                  next, p->nthreads, width);
        set_width(p, next);
    }
    fast_sample(p, sp, now);
    slow_sample(p, sp, now);
}

static void spread_stop(struct spread_state *sp)
{
    if (sp->started && sp->stat_fd >= 0)
        close(sp->stat_fd);
    free(sp->busy_seen);
    free(sp->cpu_seen);
    free(sp->slow_busy_seen);
}

/* After every look: at the end of a short window measures the active workers, at the end
 * of a long one the machine too, and sets width and quota. */
static void spread_look(struct pool *p, struct spread_state *sp, uint64_t now)
{
    if (!sp->started && spread_start(p, sp, now) < 0)
        return;
    unsigned width = atomic_load_explicit(&p->width, memory_order_relaxed);
    if (now < sp->since_ns + (uint64_t)SPREAD_WINDOW_NS)
        return;
    int slow = now - sp->slow_since_ns >= (uint64_t)IDLE_WINDOW_NS;
    double dt = (double)(now - sp->since_ns), slow_dt = (double)(now - sp->slow_since_ns);
    struct spread_window w = {.width = width, .nthreads = p->nthreads, .idle_cores = -1};
    for (unsigned i = 0; i < p->nthreads; i++) {
        struct worker *wk = &p->workers[i];
        uint64_t b = busy_so_far(wk, now), c = i < width ? cpu_so_far(wk) : 0;
        if (i < width) {
            double busy = fraction(b, sp->busy_seen[i], dt), cpu = fraction(c, sp->cpu_seen[i], dt);
            w.blocked += busy > cpu && c ? busy - cpu : 0;
            if (slow)
                w.busy += fraction(b, sp->slow_busy_seen[i], slow_dt);
        }
        /* the next short window starts here: one read of each clock serves both */
        sp->busy_seen[i] = b;
        sp->cpu_seen[i] = c;
    }
    sp->since_ns = now;
    unsigned next = spread_on_short(&sp->memory, width, p->nthreads, w.blocked, now);
    if (slow) {
        uint64_t idle = machine_idle_jiffies(sp->stat_fd);
        w.idle_cores = idle && sp->idle_seen && idle >= sp->idle_seen
                           ? (double)(idle - sp->idle_seen) / sp->jiffies_per_s / (slow_dt / 1e9)
                           : -1;
        w.width = next;
        next = spread_on_long(&sp->memory, &w, work_done(p), now);
        slow_sample(p, sp, now);
    }
    if (next != width)
        log_debug("pool: %u of %u workers take connections (were %u): asleep in callbacks %.2f; "
                  "busy %.2f, idle CPUs %.2f; work done %.0f/s",
                  next, p->nthreads, width, w.blocked, w.busy, w.idle_cores, sp->memory.rate);
    set_width(p, next);
}

static void *monitor_main(void *arg)
{
    struct pool *p = arg;
    pthread_setname_np(pthread_self(), "lp-monitor");
    unsigned long *seen = calloc(p->nthreads, sizeof *seen);
    if (!seen)
        return NULL;
    int idle = 0;
    uint64_t prev_look = monotonic_ns(), alert_until = 0;
    struct spread_state spread = {.stat_fd = -1};
    while (!atomic_load(&p->quitting)) {
        long tick = p->nthreads == 1          ? LONE_TICK_NS
                    : prev_look < alert_until ? TICK_NS
                                              : CALM_TICK_NS;
        /* A look is a whole tick apart from the last: an early return (pool_stop, or a late
         * wake-up meant for an untimed sleep) waits out the rest, since a look too soon would
         * take a worker in the middle of a short callback for a stuck one. */
        uint64_t look_at = prev_look + (uint64_t)tick, t;
        while (!atomic_load(&p->quitting) && (t = monotonic_ns()) < look_at)
            futex_wait_for(&p->monitor_seq, atomic_load(&p->monitor_seq), (long)(look_at - t));
        if (atomic_load(&p->quitting))
            break;
        int running = 0, any_stuck = 0;
        uint64_t now = monotonic_ns();
        for (unsigned i = 0; i < p->nthreads; i++) {
            struct worker *w = &p->workers[i];
            unsigned long r = atomic_load_explicit(&w->runs, memory_order_relaxed);
            int stuck = 0;
            if (atomic_load_explicit(&w->phase, memory_order_relaxed) == PH_RUN) {
                running = 1;
                if ((stuck = r == seen[i]))
                    help_stuck(p, w, r);
            }
            note_stuck(w, stuck, prev_look);
            any_stuck |= stuck;
            seen[i] = r;
        }
        if (any_stuck)
            alert_until = now + ALERT_NS;
        if (p->nthreads > 1 && atomic_load_explicit(&p->by_load, memory_order_relaxed))
            spread_look(p, &spread, now);
        prev_look = now;
        idle = running ? 0 : idle + 1;
        if (idle >= IDLE_TICKS) {
            if (!sleep_while_idle(p))
                break;
            idle = 0;
            prev_look = monotonic_ns(); /* counters seen before the sleep are a sleep old */
            if (spread.started)
                spread_resume(p, &spread, prev_look);
        }
    }
    spread_stop(&spread);
    free(seen);
    return NULL;
}

void pool_notify(struct pool *p, struct pool_source *src)
{
    uint32_t s = atomic_load_explicit(&src->state, memory_order_relaxed);
    for (;;) {
        if (s & (ST_GONE | ST_NOTIFIED))
            return; /* gone, or a run is due already */
        uint32_t want = s | ST_NOTIFIED;
        if (atomic_compare_exchange_weak_explicit(&src->state, &s, want, memory_order_release,
                                                  memory_order_relaxed))
            break;
    }
    if (s & ST_RUNNING)
        return; /* its runner sees NOTIFIED and queues it */
    /* It was idle and is now ready and unowned: queue it where its worker looks, and wake
     * that worker (it may be blocked in epoll_wait). */
    struct evset *set = &p->workers[source_home(src)].set;
    int queued = queue_push(set, src) == 0;
    if (queued)
        kick(set);
    else /* out of memory: put the word back; the next event or notify runs it */
        atomic_fetch_and_explicit(&src->state, ~(uint32_t)ST_NOTIFIED, memory_order_relaxed);
}

/* --- setup ----------------------------------------------------------------------------- */

int pool_add(struct pool *p, int fd, struct pool_source *src)
{
    unsigned best = least_loaded(p, atomic_load_explicit(&p->width, memory_order_relaxed));
    struct evset *set = &p->workers[best].set;
    atomic_store_explicit(&src->home, best, memory_order_relaxed);
    src->fd = fd;
    atomic_store_explicit(&src->pending, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&set->sources, 1, memory_order_relaxed);
    atomic_store_explicit(&src->state, ST_IDLE, memory_order_release);
    struct epoll_event ev = {.events = EV_SOURCE, .data.ptr = src};
    if (epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = errno;
        /* A stale claim may hold it right now; it finds GONE once that run ends. */
        uint32_t s = ST_IDLE;
        atomic_compare_exchange_strong(&src->state, &s, ST_GONE);
        atomic_fetch_sub_explicit(&set->sources, 1, memory_order_relaxed);
        return -err;
    }
    return 0;
}

static int add_tag(int epfd, int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int set_init(struct pool *p, struct worker *w, unsigned index)
{
    struct evset *set = &w->set;
    w->pool = p;
    w->index = index;
    w->ctx.index = index;
    w->ctx.scratch_size = p->scratch_size;
    atomic_store(&w->phase, PH_RUN);
    atomic_store(&set->adopted_by, -1);
    set->kick_fd = -1;
    pthread_mutex_init(&set->queue_lock, NULL);
    if ((set->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return -errno;
    if ((set->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return -errno;
    if (add_tag(set->epfd, set->kick_fd, &set->kick_fd) < 0 ||
        add_tag(set->epfd, p->quit_fd, &quit_tag) < 0)
        return -errno;
    return 0;
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
        w->has_cpu_clock = pthread_getcpuclockid(w->thread, &w->cpu_clock) == 0;
    }
    if (!rc && !(rc = pthread_create(&p->monitor, NULL, monitor_main, p)))
        p->monitor_started = 1;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}

struct pool *pool_new(unsigned nthreads, size_t scratch_size, pool_fn fn, pool_release_fn release,
                      void *ctx)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fn = fn;
    p->release = release;
    p->ctx = ctx;
    p->scratch_size = scratch_size;
    p->nthreads = nthreads ? nthreads : 1;
    atomic_store(&p->width, p->nthreads);
    atomic_store(&p->quota, UINT_MAX);
    pthread_mutex_init(&p->adopt_lock, NULL);
    int rc = -ENOMEM;
    if ((p->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        rc = -errno;
        goto out_free;
    }
    size_t bytes = p->nthreads * sizeof *p->workers;
    if (!(p->workers = aligned_alloc(64, (bytes + 63) / 64 * 64)))
        goto out_free;
    memset(p->workers, 0, bytes);
    for (unsigned i = 0; i < p->nthreads; i++) {
        p->workers[i].set.epfd = p->workers[i].set.kick_fd = -1;
        atomic_store(&p->workers[i].sched_fd, -1);
    }
    for (unsigned i = 0; i < p->nthreads; i++) {
        if ((rc = set_init(p, &p->workers[i], i)))
            goto out_free;
    }
    if ((rc = start_threads(p)))
        goto out_free;
    return p;
out_free:
    pool_free(p);
    errno = -rc;
    return NULL;
}

void pool_stop(struct pool *p)
{
    if (p->stopped)
        return;
    p->stopped = 1;
    atomic_store(&p->quitting, 1);
    atomic_store(&p->monitor_asleep, 0);
    rouse_monitor(p);
    if (p->monitor_started)
        pthread_join(p->monitor, NULL);
    atomic_store(&p->stop_now, 1);
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
    if (p->workers) {
        for (unsigned i = 0; i < p->nthreads; i++) {
            struct evset *set = &p->workers[i].set;
            if (set->kick_fd >= 0)
                close(set->kick_fd);
            if (set->epfd >= 0)
                close(set->epfd);
            pthread_mutex_destroy(&set->queue_lock);
            free(set->queue);
            int fd = atomic_load(&p->workers[i].sched_fd);
            if (fd >= 0)
                close(fd);
        }
    }
    if (p->quit_fd >= 0)
        close(p->quit_fd);
    pthread_mutex_destroy(&p->adopt_lock);
    free(p->workers);
    free(p);
    errno = saved;
}

unsigned pool_threads(const struct pool *p)
{
    return p->nthreads;
}

void pool_spread_by_load(struct pool *p)
{
    atomic_store(&p->width, 1);
    atomic_store(&p->quota, UINT_MAX);
    atomic_store(&p->by_load, 1);
}

unsigned pool_width(struct pool *p)
{
    return atomic_load_explicit(&p->width, memory_order_relaxed);
}

uint64_t pool_handoffs(struct pool *p)
{
    return atomic_load_explicit(&p->handoffs, memory_order_relaxed);
}

uint64_t pool_busy_ns(struct pool *p, unsigned i)
{
    return atomic_load_explicit(&p->workers[i].busy_ns, memory_order_relaxed);
}

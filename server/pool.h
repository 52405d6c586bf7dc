/* pool - N workers, each with its own epoll set; a source (a connection) lives in one set.
 *
 * Contract:
 * - pool_add registers a source's fd once, edge-triggered, in the set with the fewest
 *   sources (among the sets taking sources: pool_spread_by_load). It is never re-armed:
 *   there is no system call per event beyond the I/O itself. It moves to another set only
 *   when that number changes, by the worker that claims it, before a run.
 * - Exactly one worker at a time runs a source's callback (a state word in the source:
 *   events that arrive while it runs are folded into one more run by the same worker), so a
 *   source's events are handled in order, never twice at once.
 * - A worker stuck in one callback for 2 to 4 ms (1 to 2 ms while handlers have been blocking
 *   lately) loses its set to a worker that is waiting: the stuck callback holds up only its
 *   own source. With every worker stuck, new events wait.
 * - Source memory must stay readable (type-stable) after the source is gone: a late event may
 *   still name it. The pool calls `release` once no run is in progress; the owner may then
 *   reuse the memory for another source, never give it back to the system while the pool
 *   runs. */
#ifndef LINEPOOL_POOL_H
#define LINEPOOL_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Embedded at the start of every source. pool_source_init once when its memory is made. */
struct pool_source {
    _Atomic uint32_t state;   /* pool.c: idle, running, notified, gone */
    _Atomic uint32_t pending; /* events folded into a run in progress */
    _Atomic uint32_t home;    /* index of the set it is registered in (moved by its runner) */
    int fd;                   /* as given to pool_add */
};

/* What a worker gives the callback: its private scratch buffer and its index (for
 * per-worker counters), valid for the call; and a counter of the work its callbacks did
 * (the connection layer counts messages), which only this worker's callbacks advance (a
 * relaxed load and store, no read-modify-write). When spread by load, the monitor reads it
 * to see whether giving the load more workers made it go faster. */
struct pool_worker {
    char *scratch;
    size_t scratch_size;
    unsigned index;
    _Atomic uint64_t work_done;
};

enum pool_verdict {
    POOL_WAIT,  /* done until the next event */
    POOL_AGAIN, /* more to do (a budget ran out): run me again soon, after the others */
    POOL_GONE,  /* the source is finished and its fd closed: release it */
};

typedef enum pool_verdict (*pool_fn)(void *ctx, struct pool_source *src, uint32_t events,
                                     struct pool_worker *w);
typedef void (*pool_release_fn)(void *ctx, struct pool_source *src);

/* Starts nthreads workers (and one monitor thread). NULL with errno set. */
struct pool *pool_new(unsigned nthreads, size_t scratch_size, pool_fn fn, pool_release_fn release,
                      void *ctx);

void pool_source_init(struct pool_source *src);

/* Spread by load instead of over every set (call before the first pool_add): sources are
 * placed on as few workers as the load needs, and move, each when a worker next claims it,
 * when that number changes. It grows while the active workers are busy and the machine has
 * idle CPU, and keeps the growth only if the work done per second rose with it (see
 * spread.h); shrinks when the load fits in fewer; and becomes every worker while handlers
 * are seen asleep inside callbacks (blocking handlers want them all). Workers outside it
 * keep serving the sources they hold. Without this call every set takes sources from the
 * start. */
void pool_spread_by_load(struct pool *p);

/* How many workers take new sources now: pool_threads(), or fewer when spread by load. */
unsigned pool_width(struct pool *p);

/* Registers fd (EPOLLIN|EPOLLOUT|EPOLLRDHUP, edge-triggered) for src in the least-loaded set;
 * a fresh socket is writable, so its first callback runs at once. Any thread. 0 or -errno. */
int pool_add(struct pool *p, int fd, struct pool_source *src);

/* Asks for one more run of src soon, from any thread (a deferred answer completed, a timer
 * fired). src must be registered and not gone: the caller holds what keeps it alive. A run
 * in progress runs again; an idle source is queued in its set and the set's worker woken. */
void pool_notify(struct pool *p, struct pool_source *src);

/* Wakes every worker, waits for each to finish its current callback and exit. Sources still
 * registered are not touched. */
void pool_stop(struct pool *p);

/* Stops (if needed) and frees. NULL is a no-op. */
void pool_free(struct pool *p);

unsigned pool_threads(const struct pool *p);

/* Nanoseconds worker i has spent outside a blocking epoll_wait (running callbacks, claiming
 * and filling batches), up to the start of its last wait: a worker inside one long callback
 * is counted when it next waits. Only grows. Any thread. */
uint64_t pool_busy_ns(struct pool *p, unsigned i);
/* How many times a stuck worker's set was handed to a waiting worker. Any thread. */
uint64_t pool_handoffs(struct pool *p);

/* How long the longest-running callback in progress has gone without finishing, as the
 * monitor last saw it (to a few milliseconds; with one worker, to 50 ms); 0 when every worker
 * moves or waits. Any
 * thread. A watchdog keep-alive is held back while this is too long (server.c). */
uint64_t pool_longest_stuck_ns(struct pool *p);

#endif

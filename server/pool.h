/* pool - worker threads that share one epoll set.
 *
 * Every source is registered EPOLLONESHOT, so when epoll hands a ready source to a worker it
 * is disarmed until that worker re-arms it: exactly one worker at a time runs a source's
 * callback. One worker, the poller, blocks in epoll_wait, takes up to 16 ready sources (one
 * system call for many events) and runs them in order. One other worker, the watcher, looks
 * every millisecond while there is traffic: if the poller has sat in one callback for a
 * whole look, the watcher becomes the poller (the old one stands by once its callback
 * returns); if sources in a batch have waited a whole look unstarted, the watcher takes them,
 * and keeps taking ready sources from epoll while full batches come back. The other workers
 * wait to become the watcher. So a callback that blocks holds up only its own source, for
 * about 1-2 ms at most; a single poller never wakes a second one for every event; and an
 * idle pool sleeps without timers. */
#ifndef LINEPOOL_POOL_H
#define LINEPOOL_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;

/* Runs on a worker for one ready source. `scratch` is that worker's private buffer of
 * scratch_size bytes (a read buffer), valid for the call. */
typedef void (*pool_fn)(void *ctx, void *source, uint32_t events, char *scratch);

/* Starts nthreads workers. Returns NULL with errno set. Owned by the caller (pool_free). */
struct pool *pool_new(unsigned nthreads, size_t scratch_size, pool_fn fn, void *ctx);

/* Registers fd, armed once for `events` (EPOLLONESHOT is added). Any thread. 0 or -errno. */
int pool_add(struct pool *p, int fd, uint32_t events, void *source);

/* Re-arms fd for `events`; only the worker currently running its callback may call it. */
int pool_rearm(struct pool *p, int fd, uint32_t events, void *source);

/* Wakes every worker, waits for each to finish its current callback and exit. Sources still
 * registered are not touched. Returns once all workers have exited. */
void pool_stop(struct pool *p);

/* Stops (if needed) and frees. NULL is a no-op. */
void pool_free(struct pool *p);

unsigned pool_threads(const struct pool *p);

#endif

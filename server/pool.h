/* pool - worker threads that share one epoll set.
 *
 * Every source is registered EPOLLONESHOT, so when epoll hands a ready source to a worker it
 * is disarmed until that worker re-arms it: exactly one worker at a time runs a source's
 * callback. A worker takes up to 16 ready sources per epoll_wait (one system call for many
 * events, which at high load is most of the saving) and runs them in order; a worker with
 * nothing to do takes the ones not yet started from another worker's batch, and a worker
 * that took more than one wakes an idle one to share. So a callback that blocks holds up
 * only its own source: the rest of its batch goes to the other workers. The only lock is a
 * per-worker mutex around its batch, taken once per event and almost never contended. */
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

/* pool - worker threads that share one epoll set.
 *
 * Lock rules: there are none on the hot path. Every source is registered EPOLLONESHOT, so
 * when epoll hands a ready source to one worker it is disarmed until that worker re-arms it:
 * exactly one worker at a time runs a source's callback, and the re-arm (epoll_ctl, a full
 * barrier in the kernel) publishes the callback's writes to the next worker that gets it.
 * Each worker takes ONE event per epoll_wait, so a callback that blocks holds up only its
 * own source; the other workers keep taking the rest. */
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

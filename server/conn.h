/* conn - one client connection: its framer, its queued replies and its plugin states.
 * Owned by exactly one thread at a time: the pool worker running conn_ready for it (the
 * pool's state word decides, see pool.h). The main thread only sweeps and kicks it
 * (conn_sweep_verdict, conn_kick), under the connset's lock.
 * `struct conn` is conn.c's alone; what other modules keep in it is a struct of theirs,
 * embedded in it: its place in the connset (connset.h), its deferred answers (deferred.h)
 * and the head of its timers (timers.h). They reach it through the functions below. */
#ifndef LINEPOOL_CONN_H
#define LINEPOOL_CONN_H

#include "pool.h"

#include <linepool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct chain;
struct conn;
struct connset;
struct connset_link;
struct conn_env;
struct timers_conn;

/* Why a connection ended: the first cause seen wins (a line too long that the peer then
 * closes is a line too long). Counted once, when it is destroyed (stats.h closed_*). */
enum conn_why {
    WHY_NONE = 0,
    WHY_PEER,
    WHY_RESET,
    WHY_LINE_TOO_LONG,
    WHY_IDLE_TIMEOUT,
    WHY_WRITE_TIMEOUT,
    WHY_PLUGIN,
    WHY_SHUTDOWN,
    WHY_ERROR,
    WHY_PROXY_HEADER,  /* a +proxy connection's header was malformed or cut short */
    WHY_PROXY_TIMEOUT, /* ... or not complete within --proxy-timeout */
};

/* Why the main thread wants a connection to end. */
/* KICK_SLOW: its deadline (write timeout or linger end) passed. */
enum conn_kick { KICK_NONE = 0, KICK_IDLE, KICK_SLOW, KICK_DRAIN };

struct conn_slab;
struct timers;

/* Counters a worker bumps for every read and write: one block per worker, on its own cache
 * lines, written by that worker only (a load and a store, no locked instruction), summed when
 * read. */
struct conn_counters {
    _Alignas(64) _Atomic uint64_t messages;
    _Atomic uint64_t bytes_in;
    _Atomic uint64_t bytes_out;
    struct timing *timing; /* this worker's handler histograms (one per plugin), or NULL */
};

/* Per listener, per connection (never per message): written by the main thread (accepted)
 * and by owners (closed); open connections = accepted - closed. */
struct listener_counters {
    _Alignas(64) _Atomic uint64_t accepted;
    _Atomic uint64_t closed;
};

/* Server-wide settings every connection reads; set once before the pool starts, then
 * immutable. Passed as the pool's context, so it reaches every callback. */
struct conn_env {
    struct pool *pool;
    struct connset *set;
    struct conn_slab *slab;
    struct timers *timers;
    struct conn_counters *counters; /* per worker and listener: [worker * nlisteners + listener] */
    struct listener_counters *listeners; /* one per listener */
    struct timing *timing; /* [worker * nplugins + plugin->index], or NULL: not timed */
    size_t nplugins;
    unsigned nworkers;
    unsigned nlisteners;
    size_t max_line;
    size_t max_output;
    uint64_t write_timeout_ns;
    const _Atomic int *draining;
};

/* Connection memory is type-stable while the pool runs (see pool.h): freed connections go
 * to a free list, and the slab gives everything back only in conn_slab_free, after the pool
 * has stopped. max_plugins is the longest chain any listener has. NULL + errno. */
struct conn_slab *conn_slab_new(size_t max_plugins);
void conn_slab_free(struct conn_slab *slab);

/* A connection for an accepted fd (taken over), not yet registered anywhere. NULL + errno. */
struct conn *conn_new(const struct conn_env *env, int fd, const struct sockaddr *peer,
                      const struct chain *chain, uint64_t id);

/* A connection from conn_new that will not start: gives back its plugin versions and its
 * memory; the fd stays the caller's (to answer and close). Main thread. */
void conn_discard(struct conn *c);

/* For a +proxy listener, before conn_start: the connection's first bytes must be a PROXY
 * header, complete within timeout_ns, before any plugin hook runs. 0 or -ENOMEM. */
int conn_expect_proxy(struct conn *c, uint64_t timeout_ns);

/* Adds to the connset and to the pool; the first worker event runs the open hooks. On
 * failure the connection is destroyed. Returns 0 or a negative errno. */
int conn_start(struct conn *c);

/* The pool callback (ctx is the conn_env): everything that happens to a connection. */
enum pool_verdict conn_ready(void *ctx, struct pool_source *src, uint32_t events,
                             struct pool_worker *w);

/* The pool's release: the connection's memory goes back to the slab. */
void conn_release(void *ctx, struct pool_source *src);

/* The connection whose connset link this is (connset callbacks hand out links). */
struct conn *conn_of_link(struct connset_link *link);

/* Its id (never 0, unique in the process) and its listener's chain; fixed at conn_new. Any
 * thread that keeps the connection alive (its owner, or the connset's lock). */
uint64_t conn_id(const struct conn *c);
const struct chain *conn_chain(const struct conn *c);

/* Its timers' list head, for timers.c (under the timers' lock). */
struct timers_conn *conn_timers(struct conn *c);

/* Asks the pool to run the connection again soon (pool_notify). Any thread that keeps the
 * connection alive. */
void conn_wake(struct conn *c);

/* Main thread, under the connset's lock: the kick the connection has earned by `now`:
 * KICK_SLOW past its deadline, else KICK_IDLE when no event came for idle_ns (0 = never),
 * else KICK_NONE. */
enum conn_kick conn_sweep_verdict(const struct conn *c, uint64_t now, uint64_t idle_ns);

/* Main thread, under the connset's lock: tells the owner to end the connection, and wakes
 * it by shutting the socket. KICK_DRAIN replaces any earlier kick and shuts only reading
 * (the owner finishes what was received); another kick is given only to a connection not
 * kicked yet. */
void conn_kick(struct conn *c, enum conn_kick kick);

/* Sums of every worker's counters for one listener (listener < nlisteners), or for all
 * (listener = -1). Any thread. */
void conn_totals(const struct conn_env *env, int listener, uint64_t *messages, uint64_t *bytes_in,
                 uint64_t *bytes_out);

/* Deferred answers (host defer/complete/overtake). conn_defer and conn_overtake from a hook
 * of the connection (owner thread); conn_complete from any thread, through the connset:
 * -ESTALE when the connection is gone or the ticket unknown, -EALREADY when completed. */
int conn_defer(struct conn *c, uint64_t *seq);
int conn_overtake(struct conn *c, int allow);
int conn_complete(struct connset *set, uint64_t conn_id, uint64_t seq, const void *bytes,
                  size_t len, unsigned flags);

/* A timer of this connection (from one of its hooks): see timers.h. */
int conn_timer_start(struct conn *c, uint64_t delay_ns, uint64_t every_ns, lp_timer_fn fn,
                     void *arg, uint64_t *id);

/* Host-table services (owner thread only). */
int conn_reply(struct conn *c, const void *bytes, size_t len);
void conn_request_close(struct conn *c);
const char *conn_peer_text(struct conn *c);
/* The proxy's own address (the socket's peer) on a +proxy listener, else NULL. */
const char *conn_via_text(struct conn *c);

#endif

/* conn - one client connection: its framer, its queued replies and its plugin states.
 * Owned by exactly one thread at a time: the pool worker running conn_ready for it (the
 * pool's state word decides, see pool.h). The main thread only reads the atomics below and
 * may set `kick`. */
#ifndef LINEPOOL_CONN_H
#define LINEPOOL_CONN_H

#include "deferred.h"
#include "framer.h"
#include "pool.h"

#include <linepool.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct chain;
struct connset;
struct conn_env;

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
struct conn_proxy;
struct timer;
struct timers;

struct conn {
    struct pool_source src; /* first: the pool's state word; the pool hands us this */
    union {
        struct conn *prev;      /* in the connset, under its lock */
        struct conn *free_next; /* in the slab's free list while unused */
    };
    struct conn *next;  /* in the connset, under its lock */
    struct conn *hnext; /* in the connset's id hash, under its lock */
    const struct conn_env *env;
    _Atomic int kick; /* enum conn_kick, set by the main thread */
    int fd;
    uint32_t flags;                  /* owner only */
    uint32_t why;                    /* enum conn_why, owner only */
    struct deferred deferred;        /* its deferred answers: deferred.c's (see conn_defer) */
    struct timer *timers;            /* its timers, under the timers' lock (timers.c) */
    _Atomic uint64_t deadline_ns;    /* owner sets: write-timeout or linger end; 0 = none */
    _Atomic uint64_t last_active_ns; /* owner sets on every event */
    uint64_t id;
    const struct chain *chain; /* its listener's (names, length); not its plugins */
    struct plugin **plugins;   /* the version of each plugin it runs: its own copy of the
                                * listener's chain at accept, changed only by migration */
    uint32_t migrates;         /* slots whose plugin may move it to a newer version */
    struct framer in;
    char *out; /* queued reply bytes [out_off, out_len); NULL when none */
    size_t out_off, out_len, out_cap;
    uint64_t msgs, bytes_in;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
    char *peer_text;          /* formatted on first use */
    struct conn_proxy *proxy; /* +proxy listeners only: the header being read, the proxy */
    void *states[];           /* one per plugin in chain, then the `plugins` array */
};

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

/* Sums of every worker's counters for one listener (listener < nlisteners), or for all
 * (listener = -1). Any thread. */
void conn_totals(const struct conn_env *env, int listener, uint64_t *messages, uint64_t *bytes_in,
                 uint64_t *bytes_out);

/* Deferred answers (host defer/complete/overtake). conn_defer and conn_overtake from a hook
 * of the connection (owner thread); conn_complete from any thread, through the connset:
 * -ESTALE when the connection is gone or the ticket unknown, -EALREADY when completed. */
int conn_defer(struct conn *c, uint64_t *seq);
int conn_overtake(struct conn *c, int allow);

/* A timer of this connection (from one of its hooks): see timers.h. */
int conn_timer_start(struct conn *c, uint64_t delay_ns, uint64_t every_ns, lp_timer_fn fn,
                     void *arg, uint64_t *id);
int conn_complete(struct connset *set, uint64_t conn_id, uint64_t seq, const void *bytes,
                  size_t len, unsigned flags);

/* Host-table services (owner thread only). */
int conn_reply(struct conn *c, const void *bytes, size_t len);
void conn_request_close(struct conn *c);
const char *conn_peer_text(struct conn *c);
/* The proxy's own address (the socket's peer) on a +proxy listener, else NULL. */
const char *conn_via_text(struct conn *c);

#endif

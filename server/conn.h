/* conn - one client connection: its framer, its queued replies and its plugin states.
 * Owned by exactly one thread at a time: the pool worker running conn_ready for it (see
 * pool.h). The main thread only reads the atomics below and may set `kick`. */
#ifndef LINEPOOL_CONN_H
#define LINEPOOL_CONN_H

#include "framer.h"

#include <linepool.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct chain;
struct pool;
struct connset;

/* Why the main thread wants a connection to end. */
/* KICK_SLOW: its deadline (write timeout or linger end) passed. */
enum conn_kick { KICK_NONE = 0, KICK_IDLE, KICK_SLOW, KICK_DRAIN };

struct conn {
    struct conn *prev, *next; /* in the connset, under its lock */
    _Atomic int kick;         /* enum conn_kick, set by the main thread */
    /* Bumped with release just before the fd is (re-)armed, read with acquire by the next
     * owner: the kernel already orders the hand-over through epoll_ctl/epoll_wait, but the
     * C memory model (and TSan) cannot see that, so the hand-over is also made explicit. */
    _Atomic unsigned handoff;
    _Atomic unsigned rearming; /* TSan builds only: re-arms whose epoll_ctl has not returned */
    int fd;
    uint32_t flags;                  /* owner only */
    _Atomic uint64_t deadline_ns;    /* owner sets: write-timeout or linger end; 0 = none */
    _Atomic uint64_t last_active_ns; /* owner sets on every event */
    uint64_t id;
    const struct chain *chain;
    struct framer in;
    char *out; /* queued reply bytes [out_off, out_len); NULL when none */
    size_t out_off, out_len, out_cap;
    size_t batch_msgs; /* messages delivered in the current read */
    uint64_t msgs, bytes_in;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
    char *peer_text; /* formatted on first use */
    void *states[];  /* one per plugin in chain */
};

/* Server-wide settings every connection reads; set once before the pool starts. */
struct conn_env {
    struct pool *pool;
    struct connset *set;
    size_t read_size; /* the pool's scratch size */
    size_t max_line;
    size_t max_output;
    uint64_t write_timeout_ns;
    const _Atomic int *draining;
};

void conn_env_set(const struct conn_env *env);

/* A connection for an accepted fd (taken over), not yet registered anywhere. NULL + errno. */
struct conn *conn_new(int fd, const struct sockaddr *peer, const struct chain *chain, uint64_t id);

/* Adds to the connset and arms it in the pool; the first worker event runs the open hooks.
 * On failure the connection is destroyed. Returns 0 or a negative errno. */
int conn_start(struct conn *c);

/* The pool callback: everything that happens to a connection happens here. */
void conn_ready(void *ctx, void *source, uint32_t events, char *scratch);

/* Host-table services (owner thread only). */
int conn_reply(struct conn *c, const void *bytes, size_t len);
void conn_request_close(struct conn *c);
const char *conn_peer_text(struct conn *c);

uint64_t conn_now_ns(void);

#endif

/* conn - reads, frames, runs the plugin chain and writes, for one connection at a time, on
 * whichever worker the pool lets run it. The worker's scratch buffer is the read buffer, so
 * an idle connection holds no buffer at all: only a partial line or unsent replies allocate.
 * Sockets are registered edge-triggered once, so every run reads until the socket is empty
 * (a short read), or says it has more to do when a budget stops it early. */
#include "conn.h"

#include "bytebuf.h"
#include "chain.h"
#include "connset.h"
#include "deferred.h"
#include "framer.h"
#include "generation.h"
#include "listener.h"
#include "log.h"
#include "monotonic.h"
#include "proxy.h"
#include "registry.h"
#include "stats.h"
#include "timers.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    C_OPENED = 1 << 0,       /* open hooks ran */
    C_CLOSING = 1 << 1,      /* no more messages: flush, then close (or linger) */
    C_EOF = 1 << 2,          /* the peer finished sending */
    C_CLOSED = 1 << 3,       /* close hooks ran */
    C_PAUSED = 1 << 4,       /* replies over --max-output: not reading */
    C_LINGER = 1 << 5,       /* our side shut down; discarding input until the peer closes */
    C_UNREAD = 1 << 6,       /* reading stopped before the socket was empty */
    C_HUP = 1 << 7,          /* the peer (or our drain) shut the stream: read on to end of stream */
    C_HELD = 1 << 8,         /* an answer is deferred: later input waits in `deferred`, unread */
    C_DEFERRED_NOW = 1 << 9, /* the message being handled deferred its answer */
    C_OVERTAKE = 1 << 10,    /* later messages may run (and answer) before deferred ones */
    C_TIMERS = 1 << 11,      /* it has started timers: look for fired ones on each run */
    C_PROXY_WAIT = 1 << 12,  /* +proxy: its PROXY header is not complete yet */
    C_STAYED = 1 << 13,      /* a migration was refused (export failed) during this run */
};

/* The connection itself: conn.c's alone. The structs of other modules embedded in it are
 * theirs to touch (see conn.h); every other field is the owner thread's, except the atomics
 * the main thread's sweep reads and `kick`, which it sets. */
struct conn {
    struct pool_source src; /* first: the pool's state word; the pool hands us this. Its fd is
                             * the socket's: conn_new sets it, pool_add sets it again */
    union {
        struct connset_link link; /* in the connset while open (its id is the connection's) */
        struct conn *free_next;   /* in the slab's free list while unused */
    };
    const struct conn_env *env;
    _Atomic int kick;                /* enum conn_kick, set by the main thread */
    uint32_t flags;                  /* owner only */
    uint32_t why;                    /* enum conn_why, owner only */
    uint32_t migrates;               /* slots whose plugin may move it to a newer version */
    struct deferred deferred;        /* its deferred answers: deferred.c's (see conn_defer) */
    struct timers_conn timers;       /* its timers: timers.c's, under the timers' lock */
    _Atomic uint64_t deadline_ns;    /* owner sets: write-timeout or linger end; 0 = none */
    _Atomic uint64_t last_active_ns; /* owner sets on every event */
    const struct chain *chain;       /* its listener's (names, length); not its plugins */
    struct framer in;
    struct bytebuf *out; /* queued reply bytes; NULL when none */
    uint64_t msgs, bytes_in;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
    char *peer_text;          /* formatted on first use */
    struct conn_proxy *proxy; /* +proxy listeners only: the header being read, the proxy */
    /* One state per plugin in the chain, then the version of each plugin it runs (see
     * conn_plugins): its own copy of the listener's chain at accept, changed only by
     * migration. Sized by the slab for the longest chain. */
    void *states[];
};

/* The plugin versions this connection runs, right after its states: computed, not stored,
 * since every idle connection would carry the pointer. */
static inline struct plugin **conn_plugins(struct conn *c)
{
    return (struct plugin **)&c->states[c->chain->n];
}

/* What a +proxy connection keeps: the header's bytes while they arrive (freed once the
 * bytes after it are framed), and the proxy's address for host->via. */
struct conn_proxy {
    char *buf; /* PROXY_HEADER_MAX bytes; [0, hlen) header, [hlen, len) the first data */
    size_t len, hlen;
    union proxy_addr via;
    char *via_text;
};

#define READ_BUDGET  8                      /* full reads per run before yielding: fairness */
#define LINGER_NS    (2ull * 1000000000ull) /* how long to wait for the peer to close */
#define OUT_KEEP_CAP 4096                   /* a drained reply buffer larger than this is freed */
#define SLAB_CHUNK   64                     /* connections allocated at once */

/* Type-stable connection memory: chunks of fixed-size slots, recycled through a free list,
 * returned to the system only when the slab is freed after the pool stopped. A lock per
 * connection opened or closed, never per message. */
struct conn_slab {
    pthread_mutex_t lock;
    size_t slot_size;
    size_t max_plugins;
    struct conn *free;
    void **chunks;
    size_t nchunks, cap;
};

struct conn_slab *conn_slab_new(size_t max_plugins)
{
    struct conn_slab *slab = calloc(1, sizeof *slab);
    if (!slab)
        return NULL;
    pthread_mutex_init(&slab->lock, NULL);
    slab->max_plugins = max_plugins;
    size_t size = sizeof(struct conn) + 2 * max_plugins * sizeof(void *);
    slab->slot_size =
        (size + _Alignof(struct conn) - 1) / _Alignof(struct conn) * _Alignof(struct conn);
    return slab;
}

void conn_slab_free(struct conn_slab *slab)
{
    if (!slab)
        return;
    for (size_t i = 0; i < slab->nchunks; i++)
        free(slab->chunks[i]);
    free(slab->chunks);
    pthread_mutex_destroy(&slab->lock);
    free(slab);
}

static int slab_grow(struct conn_slab *slab)
{
    if (slab->nchunks == slab->cap) {
        size_t cap = slab->cap ? slab->cap * 2 : 16;
        void **chunks = realloc(slab->chunks, cap * sizeof *chunks);
        if (!chunks)
            return -ENOMEM;
        slab->chunks = chunks;
        slab->cap = cap;
    }
    char *chunk = calloc(SLAB_CHUNK, slab->slot_size);
    if (!chunk)
        return -ENOMEM;
    slab->chunks[slab->nchunks++] = chunk;
    for (size_t i = 0; i < SLAB_CHUNK; i++) {
        struct conn *c = (struct conn *)(chunk + i * slab->slot_size);
        pool_source_init(&c->src);
        c->free_next = slab->free;
        slab->free = c;
    }
    return 0;
}

static struct conn *slab_take(struct conn_slab *slab)
{
    pthread_mutex_lock(&slab->lock);
    struct conn *c = slab->free;
    if (!c && slab_grow(slab) == 0)
        c = slab->free;
    if (c)
        slab->free = c->free_next;
    pthread_mutex_unlock(&slab->lock);
    return c;
}

void conn_release(void *ctx, struct pool_source *src)
{
    const struct conn_env *env = ctx;
    struct conn *c = (struct conn *)src;
    pthread_mutex_lock(&env->slab->lock);
    c->free_next = env->slab->free;
    env->slab->free = c;
    pthread_mutex_unlock(&env->slab->lock);
}

struct conn *conn_new(const struct conn_env *env, int fd, const struct sockaddr *peer,
                      const struct chain *chain, uint64_t id)
{
    struct conn *c = slab_take(env->slab);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    /* Everything but the pool's word, which stays GONE until pool_add: a late event that
     * still names this slot skips it meanwhile. */
    memset((char *)c + sizeof c->src, 0, env->slab->slot_size - sizeof c->src);
    c->env = env;
    c->src.fd = fd; /* before pool_add: a sweep may kick it as soon as it is in the set */
    c->link.id = id;
    c->chain = chain;
    c->migrates = generation_hold(conn_plugins(c), chain->plugins, chain->n);
    size_t len = peer->sa_family == AF_INET6 ? sizeof c->peer.in6 : sizeof c->peer.in4;
    memcpy(&c->peer, peer, len);
    atomic_store_explicit(&c->last_active_ns, monotonic_ns(), memory_order_relaxed);
    return c;
}

void conn_discard(struct conn *c)
{
    generation_release(conn_plugins(c), c->chain->n); /* conn_new held its plugin versions */
    conn_release((void *)c->env, &c->src);
}

struct conn *conn_of_link(struct connset_link *link)
{
    return (struct conn *)((char *)link - offsetof(struct conn, link));
}

uint64_t conn_id(const struct conn *c)
{
    return c->link.id;
}

const struct chain *conn_chain(const struct conn *c)
{
    return c->chain;
}

struct timers_conn *conn_timers(struct conn *c)
{
    return &c->timers;
}

void conn_wake(struct conn *c)
{
    pool_notify(c->env->pool, &c->src);
}

enum conn_kick conn_sweep_verdict(const struct conn *c, uint64_t now, uint64_t idle_ns)
{
    uint64_t deadline = atomic_load_explicit(&c->deadline_ns, memory_order_relaxed);
    uint64_t active = atomic_load_explicit(&c->last_active_ns, memory_order_relaxed);
    if (deadline && now > deadline)
        return KICK_SLOW;
    if (idle_ns && now > active + idle_ns)
        return KICK_IDLE;
    return KICK_NONE;
}

void conn_kick(struct conn *c, enum conn_kick kick)
{
    if (kick == KICK_DRAIN) {
        atomic_store_explicit(&c->kick, KICK_DRAIN, memory_order_relaxed);
        /* Reads return what is already queued, then end of stream: the owner finishes every
         * complete message, flushes, closes. Wakes idle connections too. */
        shutdown(c->src.fd, SHUT_RD);
        return;
    }
    int none = KICK_NONE;
    if (kick && atomic_compare_exchange_strong(&c->kick, &none, (int)kick))
        shutdown(c->src.fd, SHUT_RDWR); /* wakes the connection so its owner closes it */
}

void conn_totals(const struct conn_env *env, int listener, uint64_t *messages, uint64_t *bytes_in,
                 uint64_t *bytes_out)
{
    *messages = *bytes_in = *bytes_out = 0;
    for (unsigned i = 0; i < env->nworkers * env->nlisteners; i++) {
        if (listener >= 0 && i % env->nlisteners != (unsigned)listener)
            continue;
        const struct conn_counters *k = &env->counters[i];
        *messages += atomic_load_explicit(&k->messages, memory_order_relaxed);
        *bytes_in += atomic_load_explicit(&k->bytes_in, memory_order_relaxed);
        *bytes_out += atomic_load_explicit(&k->bytes_out, memory_order_relaxed);
    }
}

static void closed_because(struct conn *c, enum conn_why why)
{
    if (c->why == WHY_NONE)
        c->why = why;
}

/* Counts the close once, under the first cause it had. */
static void count_close(struct conn *c)
{
    _Atomic uint64_t *by[] = {
        [WHY_NONE] = &stats.closed_error,
        [WHY_PEER] = &stats.closed_peer,
        [WHY_RESET] = &stats.closed_reset,
        [WHY_LINE_TOO_LONG] = &stats.closed_line_too_long,
        [WHY_IDLE_TIMEOUT] = &stats.closed_idle_timeout,
        [WHY_WRITE_TIMEOUT] = &stats.closed_write_timeout,
        [WHY_PLUGIN] = &stats.closed_plugin,
        [WHY_SHUTDOWN] = &stats.closed_shutdown,
        [WHY_ERROR] = &stats.closed_error,
        [WHY_PROXY_HEADER] = &stats.closed_proxy_header,
        [WHY_PROXY_TIMEOUT] = &stats.closed_proxy_timeout,
    };
    stats_add(by[c->why < sizeof by / sizeof *by ? c->why : WHY_ERROR], 1);
    atomic_fetch_add_explicit(&c->env->listeners[c->chain->index].closed, 1, memory_order_relaxed);
}

/* Only the worker that owns the block writes it: no read-modify-write needed. */
static void count(_Atomic uint64_t *counter, uint64_t n)
{
    uint64_t v = atomic_load_explicit(counter, memory_order_relaxed);
    atomic_store_explicit(counter, v + n, memory_order_relaxed);
}

const char *conn_peer_text(struct conn *c)
{
    if (!c->peer_text) {
        char text[ADDR_TEXT_MAX];
        addr_format(&c->peer.sa, text);
        c->peer_text = strdup(text);
    }
    return c->peer_text ? c->peer_text : "?";
}

const char *conn_via_text(struct conn *c)
{
    if (!c->proxy)
        return NULL;
    if (!c->proxy->via_text) {
        char text[ADDR_TEXT_MAX];
        addr_format(&c->proxy->via.sa, text);
        c->proxy->via_text = strdup(text);
    }
    return c->proxy->via_text ? c->proxy->via_text : "?";
}

int conn_reply(struct conn *c, const void *bytes, size_t len)
{
    if (len == 0)
        return 0; /* an empty message echoed: nothing to queue */
    return bytebuf_append(&c->out, bytes, len, 512);
}

void conn_request_close(struct conn *c)
{
    closed_because(c, WHY_PLUGIN);
    c->flags |= C_CLOSING;
}

int conn_defer(struct conn *c, uint64_t *seq)
{
    if (c->flags & C_CLOSING)
        return -EPIPE; /* closing: no later answer could be written */
    int rc = deferred_issue(&c->deferred, seq);
    if (rc == 0)
        c->flags |= C_DEFERRED_NOW;
    return rc;
}

int conn_timer_start(struct conn *c, uint64_t delay_ns, uint64_t every_ns, lp_timer_fn fn,
                     void *arg, uint64_t *id)
{
    if (c->flags & C_CLOSED)
        return -EPIPE;
    int rc = timers_start(c->env->timers, c, delay_ns, every_ns, fn, arg, id);
    if (rc == 0)
        c->flags |= C_TIMERS;
    return rc;
}

int conn_overtake(struct conn *c, int allow)
{
    if (allow)
        c->flags |= C_OVERTAKE;
    else
        c->flags &= ~(uint32_t)C_OVERTAKE;
    return 0;
}

struct completion {
    uint64_t seq;
    const void *bytes;
    size_t len;
    unsigned flags;
};

/* Under the connset's lock: the connection cannot be destroyed meanwhile. */
static int complete_locked(struct connset_link *l, void *arg)
{
    struct conn *c = conn_of_link(l);
    const struct completion *k = arg;
    int rc = deferred_fill(&c->deferred, k->seq, k->bytes, k->len, k->flags);
    if (rc == 0)
        conn_wake(c);
    return rc;
}

int conn_complete(struct connset *set, uint64_t conn_id, uint64_t seq, const void *bytes,
                  size_t len, unsigned flags)
{
    struct completion k = {.seq = seq, .bytes = bytes, .len = len, .flags = flags};
    return connset_with(set, conn_id, complete_locked, &k);
}

static void run_close_hooks(struct conn *c)
{
    if (c->flags & C_TIMERS) { /* no timer callback after the close hooks */
        timers_cancel_conn(c->env->timers, c);
        c->flags &= ~(uint32_t)C_TIMERS;
    }
    if ((c->flags & (C_OPENED | C_CLOSED)) != C_OPENED)
        return;
    c->flags |= C_CLOSED;
    chain_close(conn_plugins(c), c->chain->n, (struct lp_conn *)c, c->link.id, c->states);
}

/* Runs the close hooks, closes the fd and frees the buffers; the slot itself goes back to
 * the slab when the pool releases it (POOL_GONE). */
static enum pool_verdict destroy(struct conn *c, const char *why)
{
    run_close_hooks(c);
    count_close(c);
    generation_release(conn_plugins(c), c->chain->n); /* after its last hook returned */
    log_debug("conn %llu %s closed (%s): messages=%llu bytes_in=%llu",
              (unsigned long long)c->link.id, conn_peer_text(c), why, (unsigned long long)c->msgs,
              (unsigned long long)c->bytes_in);
    connset_remove(c->env->set, &c->link); /* from here no completer can reach it */
    deferred_free(&c->deferred);
    close(c->src.fd);
    c->src.fd = -1;
    framer_reset(&c->in);
    bytebuf_free(&c->out);
    free(c->peer_text);
    c->peer_text = NULL;
    if (c->proxy) {
        free(c->proxy->buf);
        free(c->proxy->via_text);
        free(c->proxy);
        c->proxy = NULL;
    }
    return POOL_GONE;
}

int conn_expect_proxy(struct conn *c, uint64_t timeout_ns)
{
    struct conn_proxy *p = calloc(1, sizeof *p);
    if (!p || !(p->buf = malloc(PROXY_HEADER_MAX))) {
        free(p);
        return -ENOMEM;
    }
    memcpy(&p->via, &c->peer, sizeof p->via);
    c->proxy = p;
    c->flags |= C_PROXY_WAIT;
    /* The main thread's sweep kicks it (KICK_SLOW) once this passes: see obey_kick. */
    atomic_store_explicit(&c->deadline_ns, monotonic_ns() + timeout_ns, memory_order_relaxed);
    return 0;
}

int conn_start(struct conn *c)
{
    connset_add(c->env->set, &c->link);
    /* A fresh socket is writable, so a worker runs the open hooks at once even if the client
     * never sends. */
    int rc = pool_add(c->env->pool, c->src.fd, &c->src);
    if (rc) {
        closed_because(c, WHY_ERROR);
        destroy(c, "cannot register");
        conn_release((void *)c->env, &c->src);
    }
    return rc;
}

static int run_open_hooks(struct conn *c)
{
    c->flags |= C_OPENED;
    const char *refused_by;
    int rc = chain_open(conn_plugins(c), c->chain->n, (struct lp_conn *)c, c->link.id, c->states,
                        &refused_by);
    if (rc < 0)
        log_info("conn %llu %s refused by plugin %s", (unsigned long long)c->link.id,
                 conn_peer_text(c), refused_by);
    return rc;
}

/* What one read delivered: counted once per read, not per message. */
struct read_ctx {
    struct conn *c;
    struct conn_counters *k;
    uint64_t msgs;
    const char *data; /* the bytes being framed, to find where a hold stopped */
    size_t n;
    const char *rest; /* set when framing stopped for a deferred answer */
};

#define HOLD 2 /* deliver's result: stop framing, keep the rest of the input */

/* A message boundary of a connection with a plugin that migrates: a slot whose version was
 * replaced moves to the current one, unless code of the old version may still run for this
 * connection (its timers, or answers it deferred). One load per such slot per message (a
 * line written only by a reload). Returns 0, or -1 when the connection lost a plugin's
 * state and closes. */
static int migrate(struct conn *c)
{
    /* A version whose export keeps refusing is asked once per run, not once per message:
     * each ask takes the registry lock and a shared count. */
    if (c->flags & C_STAYED)
        return 0;
    for (size_t i = 0; i < c->chain->n; i++) {
        if (!(c->migrates & (1u << i)) || !generation_replaced(conn_plugins(c)[i]))
            continue;
        if ((c->flags & C_TIMERS) ||
            (deferred_any(&c->deferred) && deferred_outstanding(&c->deferred)))
            return 0; /* asked again at the next message */
        int rc =
            generation_migrate(&conn_plugins(c)[i], &c->states[i], (struct lp_conn *)c, c->link.id);
        if (rc == GEN_PINNED) {
            c->migrates &= ~(1u << i);
        } else if (rc == GEN_STAYED) {
            c->flags |= C_STAYED;
        } else if (rc == GEN_LOST) {
            log_error("conn %llu %s: plugin %s lost its state moving to a new version; closing",
                      (unsigned long long)c->link.id, conn_peer_text(c), conn_plugins(c)[i]->key);
            c->flags |= C_CLOSING;
            return -1;
        }
    }
    return 0;
}

/* framer callback: one message through the chain. Stops framing once a plugin closed us,
 * or deferred its answer (unless later answers may overtake it). */
static int deliver(void *arg, const char *msg, size_t len)
{
    struct read_ctx *r = arg;
    struct conn *c = r->c;
    r->msgs++;
    if (__builtin_expect(c->migrates != 0, 0) && migrate(c) < 0)
        return 1;
    chain_message(conn_plugins(c), c->chain->n, (struct lp_conn *)c, c->link.id, c->states, msg,
                  len, r->k->timing);
    if (c->flags & C_CLOSING)
        return 1;
    if (c->flags & C_DEFERRED_NOW) {
        c->flags &= ~(uint32_t)C_DEFERRED_NOW;
        if (!(c->flags & C_OVERTAKE)) {
            /* The message is either inside the pushed bytes or was completed from the
             * framer's carry by their first line. */
            if (r->data && msg >= r->data && msg < r->data + r->n)
                r->rest = msg + len + 1;
            else
                r->rest = (const char *)memchr(r->data, '\n', r->n) + 1;
            return HOLD;
        }
    }
    return 0;
}

static void line_too_long(struct conn *c)
{
    char line[64];
    size_t max = c->env->max_line;
    int n = snprintf(line, sizeof line, "ERR line too long (max %zu bytes)\n", max);
    conn_reply(c, line, (size_t)n);
    closed_because(c, WHY_LINE_TOO_LONG);
    log_info("conn %llu %s: line longer than --max-line %zu bytes; closing",
             (unsigned long long)c->link.id, conn_peer_text(c), max);
    framer_reset(&c->in);
    c->flags |= C_CLOSING;
}

/* Frames bytes that read hooks have already seen (held input given back). */
static void frame_again(struct conn *c, const char *data, size_t n, struct conn_counters *k)
{
    struct read_ctx r = {.c = c, .k = k, .data = data, .n = n};
    int rc = framer_push(&c->in, data, n, c->env->max_line, deliver, &r);
    c->msgs += r.msgs;
    count(&k->messages, r.msgs);
    if (rc == HOLD) {
        c->flags |= C_HELD;
        if (deferred_hold(&c->deferred, r.rest, (size_t)(data + n - r.rest)) < 0) {
            log_error("conn %llu %s: out of memory holding input; closing",
                      (unsigned long long)c->link.id, conn_peer_text(c));
            closed_because(c, WHY_ERROR);
            c->flags |= C_CLOSING;
        }
    } else if (rc == -EMSGSIZE) {
        line_too_long(c);
    } else if (rc == -ENOMEM) {
        log_error("conn %llu %s: out of memory framing; closing", (unsigned long long)c->link.id,
                  conn_peer_text(c));
        closed_because(c, WHY_ERROR);
        c->flags |= C_CLOSING;
    }
}

static void frame(struct conn *c, const char *data, size_t n, struct conn_counters *k)
{
    chain_read(conn_plugins(c), c->chain->n, (struct lp_conn *)c, c->link.id, c->states, n);
    frame_again(c, data, n, k);
}

/* Deferred answers that came in go out, in order; once none is outstanding the input held
 * behind them is framed, and reading resumes. */
static void take_answers(struct conn *c, struct conn_counters *k)
{
    int close = 0;
    deferred_take(&c->deferred, c, (c->flags & C_OVERTAKE) != 0, &close);
    if (close) {
        closed_because(c, WHY_PLUGIN);
        c->flags |= C_CLOSING;
    }
    while ((c->flags & C_HELD) && !(c->flags & C_CLOSING) && !deferred_outstanding(&c->deferred)) {
        c->flags &= ~(uint32_t)C_HELD;
        c->flags |= C_UNREAD; /* the socket's edges came while we held: read it again */
        size_t len = 0;
        char *held = deferred_unhold(&c->deferred, &len);
        if (held)
            frame_again(c, held, len, k);
        free(held);
        deferred_take(&c->deferred, c, (c->flags & C_OVERTAKE) != 0, &close);
        if (close) {
            closed_because(c, WHY_PLUGIN);
            c->flags |= C_CLOSING;
        }
    }
}

static int is_draining(const struct conn *c)
{
    return atomic_load_explicit(c->env->draining, memory_order_relaxed);
}

static void drop_tail(struct conn *c, const char *why)
{
    size_t n = framer_pending(&c->in);
    if (n) {
        stats_add(&stats.dropped_tail_bytes, n);
        log_info("conn %llu %s: %s; dropped %zu bytes of an unterminated message",
                 (unsigned long long)c->link.id, conn_peer_text(c), why, n);
    }
    framer_reset(&c->in);
}

/* Clean end of stream: the tail is a last message, then close hooks (their replies are
 * still flushed, for half-closed peers). At shutdown the tail is not a complete message. */
static void on_eof(struct conn *c, struct conn_counters *k)
{
    c->flags |= C_EOF;
    closed_because(c, is_draining(c) ? WHY_SHUTDOWN : WHY_PEER);
    if (c->flags & C_CLOSING) {
        framer_reset(&c->in);
    } else if (is_draining(c)) {
        drop_tail(c, "server stopping");
    } else {
        struct read_ctx r = {.c = c, .k = k};
        framer_finish(&c->in, deliver, &r);
        c->msgs += r.msgs;
        count(&k->messages, r.msgs);
    }
    c->flags |= C_CLOSING;
    run_close_hooks(c);
}

/* Reads until the socket is empty (a short read, EAGAIN or end of stream), or sets C_UNREAD
 * when it stops early: the budget ran out, the connection is closing, or replies are over
 * --max-output. Returns 0, or -1 when the connection was destroyed. */
static int read_some(struct conn *c, struct pool_worker *w, struct conn_counters *k)
{
    c->flags &= ~(uint32_t)C_UNREAD;
    for (int i = 0; i < READ_BUDGET; i++) {
        ssize_t n = recv(c->src.fd, w->scratch, w->scratch_size, 0);
        if (n > 0) {
            c->bytes_in += (uint64_t)n;
            count(&k->bytes_in, (uint64_t)n);
            if (!(c->flags & C_CLOSING))
                frame(c, w->scratch, (size_t)n, k);
            if (c->flags & C_HELD) {
                c->flags |= C_UNREAD;
                break; /* later input waits in the socket until the answer is in */
            }
            if ((size_t)n < w->scratch_size && !(c->flags & C_HUP))
                return 0; /* the socket is empty: its next byte is a new edge */
            if ((c->flags & C_CLOSING) && !(c->flags & C_LINGER))
                break;
            if (bytebuf_pending(c->out) > c->env->max_output)
                break;
        } else if (n == 0) {
            on_eof(c, k);
            return 0;
        } else if (errno == EINTR) {
            i--;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        } else {
            closed_because(c, WHY_RESET);
            drop_tail(c, strerror(errno));
            return -1;
        }
    }
    c->flags |= C_UNREAD;
    return 0;
}

/* One log line with the first bytes the peer sent, escaped, so an operator can tell a
 * misconfigured proxy (no send-proxy) from a port scan. */
static void refuse_header(struct conn *c, enum conn_why reason, const char *why)
{
    char shown[4 * 24 + 1];
    size_t o = 0, n = c->proxy->len < 24 ? c->proxy->len : 24;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)c->proxy->buf[i];
        o += (size_t)snprintf(shown + o, sizeof shown - o,
                              b >= 0x20 && b < 0x7f && b != '\\' ? "%c" : "\\x%02x", b);
    }
    shown[o] = '\0';
    closed_because(c, reason);
    log_info("conn %llu %s: PROXY header refused (%s) after %zu bytes \"%s\"; closing unanswered",
             (unsigned long long)c->link.id, conn_peer_text(c), why, c->proxy->len, shown);
}

/* The client the header names becomes the connection's peer; the socket's peer stays as
 * the proxy (host->via). LOCAL and UNKNOWN keep the socket's addresses. */
static void apply_header(struct conn *c, const struct proxy_header *h, size_t hlen)
{
    c->proxy->hlen = hlen;
    c->flags &= ~(uint32_t)C_PROXY_WAIT;
    atomic_store_explicit(&c->deadline_ns, 0, memory_order_relaxed);
    if (!h->local) {
        memcpy(&c->peer, &h->src, sizeof h->src);
        free(c->peer_text); /* the accept log formatted the proxy's address */
        c->peer_text = NULL;
    }
    log_debug("conn %llu %s via %s: PROXY v%d%s", (unsigned long long)c->link.id, conn_peer_text(c),
              conn_via_text(c), h->version, h->local ? " (local: socket addresses kept)" : "");
}

/* Reads until the header is complete, the socket is empty, or the header is refused.
 * Returns 1 when complete, 0 when more must come, -1 when the connection must close
 * unanswered (counted and logged). Before any hook: nothing is framed here. */
static int read_header(struct conn *c, struct conn_counters *k)
{
    struct conn_proxy *p = c->proxy;
    while (p->len < PROXY_HEADER_MAX) {
        ssize_t n = recv(c->src.fd, p->buf + p->len, PROXY_HEADER_MAX - p->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0) {
            closed_because(c, WHY_RESET);
            return -1;
        }
        if (n == 0) {
            if (!is_draining(c))
                refuse_header(c, WHY_PROXY_HEADER, "stream ended inside it");
            return -1;
        }
        p->len += (size_t)n;
        c->bytes_in += (uint64_t)n;
        count(&k->bytes_in, (uint64_t)n);
        struct proxy_header h;
        int rc = proxy_parse(p->buf, p->len, &h);
        if (rc > 0) {
            apply_header(c, &h, (size_t)rc);
            return 1;
        }
        if (rc == PROXY_BAD) {
            refuse_header(c, WHY_PROXY_HEADER, h.why);
            return -1;
        }
    }
    refuse_header(c, WHY_PROXY_HEADER, "longer than any header"); /* proxy.h: cannot be */
    return -1;
}

/* The bytes that came with the header are the stream's first: framed once the open hooks
 * ran, like any read. */
static void frame_after_header(struct conn *c, struct conn_counters *k)
{
    struct conn_proxy *p = c->proxy;
    if (p->len > p->hlen && !(c->flags & C_CLOSING))     /* an open hook may have closed it */
        frame(c, p->buf + p->hlen, p->len - p->hlen, k); /* a hold copies what it keeps */
    free(p->buf);
    p->buf = NULL;
    p->len = p->hlen = 0;
}

/* Returns 0, or -1 when the write failed (the caller destroys). */
static int flush(struct conn *c, struct conn_counters *k)
{
    size_t left;
    while ((left = bytebuf_pending(c->out)) > 0) {
        ssize_t n = send(c->src.fd, bytebuf_data(c->out), left, MSG_NOSIGNAL);
        if (n > 0) {
            /* once drained, a buffer above OUT_KEEP_CAP is freed, and so is a closing one's */
            bytebuf_consume(&c->out, (size_t)n, (c->flags & C_CLOSING) ? 0 : OUT_KEEP_CAP);
            count(&k->bytes_out, (uint64_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0; /* the socket's next room is an EPOLLOUT edge */
        } else {
            closed_because(c, WHY_RESET);
            drop_tail(c, "write failed");
            return -1;
        }
    }
    return 0;
}

static void set_deadline(struct conn *c, uint64_t ns)
{
    atomic_store_explicit(&c->deadline_ns, ns, memory_order_relaxed);
}

/* After a read and a flush: wait for the next edge, run again soon, or finish. */
static enum pool_verdict settle(struct conn *c)
{
    int pending = bytebuf_pending(c->out) > 0;
    if (c->flags & C_CLOSING) {
        if (pending) {
            if (!atomic_load_explicit(&c->deadline_ns, memory_order_relaxed))
                set_deadline(c, monotonic_ns() + c->env->write_timeout_ns);
            return POOL_WAIT;
        }
        if ((c->flags & C_EOF) && deferred_outstanding(&c->deferred))
            return POOL_WAIT; /* a half-closed peer still reads: its answers come first */
        if (c->flags & C_EOF)
            return destroy(c, "closed");
        if (!(c->flags & C_LINGER)) {
            /* Close only after the peer read our last line: shut our side, then discard
             * its input until it closes, so a close with unread data (an RST) cannot
             * destroy the error line in flight. */
            c->flags |= C_LINGER | C_UNREAD;
            shutdown(c->src.fd, SHUT_WR);
            set_deadline(c, monotonic_ns() + LINGER_NS);
        }
        return (c->flags & C_UNREAD) ? POOL_AGAIN : POOL_WAIT;
    }
    if (bytebuf_pending(c->out) > c->env->max_output) {
        if (!(c->flags & C_PAUSED)) {
            c->flags |= C_PAUSED;
            stats_add(&stats.output_limit_pauses, 1);
            set_deadline(c, monotonic_ns() + c->env->write_timeout_ns);
        }
        return POOL_WAIT; /* the flush met a full socket: its EPOLLOUT edge wakes us */
    }
    if (c->flags & C_HELD)
        return POOL_WAIT; /* the completion of the answer wakes us (pool_notify) */
    if (c->flags & C_PAUSED) {
        c->flags &= ~(uint32_t)C_PAUSED;
        c->flags |= C_UNREAD; /* input that came while paused has had its edge already */
        set_deadline(c, 0);
    }
    return (c->flags & C_UNREAD) ? POOL_AGAIN : POOL_WAIT;
}

/* The main thread decided this connection must go. Returns 1 when it should be destroyed. */
static int obey_kick(struct conn *c, int kick)
{
    if ((c->flags & C_PROXY_WAIT) && kick != KICK_DRAIN) {
        refuse_header(c, WHY_PROXY_TIMEOUT, "not complete within --proxy-timeout");
        return 1;
    }
    switch (kick) {
    case KICK_IDLE:
        closed_because(c, WHY_IDLE_TIMEOUT);
        log_info("conn %llu %s: idle past --idle-timeout; closing", (unsigned long long)c->link.id,
                 conn_peer_text(c));
        break;
    case KICK_SLOW:
        if (c->flags & C_LINGER)
            break; /* the linger deadline, not a slow reader */
        closed_because(c, WHY_WRITE_TIMEOUT);
        log_info("conn %llu %s: %zu reply bytes unread past --write-timeout; closing",
                 (unsigned long long)c->link.id, conn_peer_text(c), bytebuf_pending(c->out));
        break;
    default:
        return 0; /* KICK_DRAIN: read what is left, then close at end of stream */
    }
    drop_tail(c, "closing");
    return 1;
}

static enum pool_verdict run(struct conn *c, uint32_t events, struct pool_worker *w,
                             struct conn_counters *k)
{
    atomic_store_explicit(&c->last_active_ns, monotonic_ns(), memory_order_relaxed);
    c->flags &= ~(uint32_t)C_STAYED; /* a refused migration is asked again once this run */
    int kick = atomic_load_explicit(&c->kick, memory_order_relaxed);
    /* Edge-triggered: every run tries both directions. A hang-up is reported once, so from
     * then on a short read no longer proves the stream has nothing more (its end). */
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || kick == KICK_DRAIN)
        c->flags |= C_HUP;
    if (kick == KICK_DRAIN)
        closed_because(c, WHY_SHUTDOWN);
    if (kick && obey_kick(c, kick))
        return destroy(c, "kicked");
    if (c->flags & C_PROXY_WAIT) {
        int rc = read_header(c, k);
        if (rc <= 0)
            return rc < 0 ? destroy(c, "PROXY header refused") : POOL_WAIT;
    }
    if (!(c->flags & C_OPENED) && run_open_hooks(c) < 0) {
        closed_because(c, WHY_PLUGIN);
        return destroy(c, "refused by plugin");
    }
    if (c->proxy && c->proxy->buf)
        frame_after_header(c, k);
    if ((c->flags & C_TIMERS) && !(c->flags & C_CLOSED) && !timers_run_fired(c->env->timers, c))
        c->flags &= ~(uint32_t)C_TIMERS;
    if (deferred_any(&c->deferred))
        take_answers(c, k);
    if (flush(c, k) < 0)
        return destroy(c, "write failed");
    if (!(c->flags & (C_PAUSED | C_EOF | C_HELD)) && read_some(c, w, k) < 0)
        return destroy(c, "reset");
    if (flush(c, k) < 0)
        return destroy(c, "write failed");
    return settle(c);
}

enum pool_verdict conn_ready(void *ctx, struct pool_source *src, uint32_t events,
                             struct pool_worker *w)
{
    (void)ctx;
    struct conn *c = (struct conn *)src;
    struct conn_counters *k = &c->env->counters[w->index * c->env->nlisteners + c->chain->index];
    uint64_t msgs = c->msgs;
    enum pool_verdict v = run(c, events, w, k); /* c stays valid until the pool releases it */
    if (c->msgs != msgs)
        count(&w->work_done, c->msgs - msgs);
    return v;
}

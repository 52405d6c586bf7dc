/* conn - reads, frames, runs the plugin chain and writes, for one connection at a time, on
 * the worker that owns it. The worker's scratch buffer is the read buffer, so an idle
 * connection holds no buffer at all: only a partial line or unsent replies allocate. */
#include "conn.h"

#include "chain.h"
#include "connset.h"
#include "listener.h"
#include "log.h"
#include "pool.h"
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    C_OPENED = 1 << 0,  /* open hooks ran */
    C_CLOSING = 1 << 1, /* no more messages: flush, then close (or linger) */
    C_EOF = 1 << 2,     /* the peer finished sending */
    C_CLOSED = 1 << 3,  /* close hooks ran */
    C_PAUSED = 1 << 4,  /* replies over --max-output: not reading */
    C_LINGER = 1 << 5,  /* our side shut down; discarding input until the peer closes */
};

#define READ_BUDGET  8                      /* reads per event before yielding: fairness */
#define LINGER_NS    (2ull * 1000000000ull) /* how long to wait for the peer to close */
#define OUT_KEEP_CAP 4096                   /* a drained reply buffer larger than this is freed */

static struct conn_env env;

#if defined(__SANITIZE_THREAD__)
#define LP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LP_TSAN 1
#endif
#endif

/* TSan models epoll_ctl(MOD) as a use of the fd that synchronizes with nothing, so a new
 * owner's close() looks like a race with the old owner's re-arm, which in the kernel holds
 * its own reference to the file and has finished with our memory. In TSan builds only, the
 * closer waits until every re-arm of this connection has returned, which TSan can see. */
#ifdef LP_TSAN
#include <sched.h>
static void rearm_begin(struct conn *c)
{
    atomic_fetch_add_explicit(&c->rearming, 1, memory_order_relaxed);
}
static void rearm_end(struct conn *c)
{
    atomic_fetch_sub_explicit(&c->rearming, 1, memory_order_release);
}
static void await_rearms(struct conn *c)
{
    while (atomic_load_explicit(&c->rearming, memory_order_acquire))
        sched_yield();
}
#else
static void rearm_begin(struct conn *c)
{
    (void)c;
}
static void rearm_end(struct conn *c)
{
    (void)c;
}
static void await_rearms(struct conn *c)
{
    (void)c;
}
#endif

void conn_env_set(const struct conn_env *e)
{
    env = *e;
}

uint64_t conn_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct conn *conn_new(int fd, const struct sockaddr *peer, const struct chain *chain, uint64_t id)
{
    struct conn *c = calloc(1, sizeof *c + chain->n * sizeof c->states[0]);
    if (!c)
        return NULL;
    c->fd = fd;
    c->id = id;
    c->chain = chain;
    size_t len = peer->sa_family == AF_INET6 ? sizeof c->peer.in6 : sizeof c->peer.in4;
    memcpy(&c->peer, peer, len);
    atomic_store_explicit(&c->last_active_ns, conn_now_ns(), memory_order_relaxed);
    return c;
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

int conn_reply(struct conn *c, const void *bytes, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 512;
        while (cap < c->out_len + len)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return -ENOMEM;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, bytes, len);
    c->out_len += len;
    return 0;
}

void conn_request_close(struct conn *c)
{
    c->flags |= C_CLOSING;
}

static void run_close_hooks(struct conn *c)
{
    if ((c->flags & (C_OPENED | C_CLOSED)) != C_OPENED)
        return;
    c->flags |= C_CLOSED;
    chain_close(c->chain, (struct lp_conn *)c, c->states);
}

static void destroy(struct conn *c, const char *why)
{
    run_close_hooks(c);
    log_debug("conn %llu %s closed (%s): messages=%llu bytes_in=%llu", (unsigned long long)c->id,
              conn_peer_text(c), why, (unsigned long long)c->msgs, (unsigned long long)c->bytes_in);
    connset_remove(env.set, c);
    await_rearms(c);
    close(c->fd);
    framer_reset(&c->in);
    free(c->out);
    free(c->peer_text);
    free(c);
}

/* Publishes everything this owner wrote to whoever owns the connection next. */
static void hand_over(struct conn *c)
{
    unsigned n = atomic_load_explicit(&c->handoff, memory_order_relaxed);
    atomic_store_explicit(&c->handoff, n + 1, memory_order_release);
}

int conn_start(struct conn *c)
{
    connset_add(env.set, c);
    /* EPOLLOUT is ready at once on a fresh socket, so a worker runs the open hooks now even
     * if the client never sends. */
    hand_over(c);
    int rc = pool_add(env.pool, c->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, c);
    if (rc)
        destroy(c, "cannot register");
    return rc;
}

static int run_open_hooks(struct conn *c)
{
    c->flags |= C_OPENED;
    const char *refused_by;
    int rc = chain_open(c->chain, (struct lp_conn *)c, c->states, &refused_by);
    if (rc < 0)
        log_info("conn %llu %s refused by plugin %s", (unsigned long long)c->id, conn_peer_text(c),
                 refused_by);
    return rc;
}

/* framer callback: one message through the chain. Stops framing once a plugin closed us. */
static int deliver(void *arg, const char *msg, size_t len)
{
    struct conn *c = arg;
    c->batch_msgs++;
    chain_message(c->chain, (struct lp_conn *)c, c->states, msg, len);
    return (c->flags & C_CLOSING) ? 1 : 0;
}

static void line_too_long(struct conn *c)
{
    char line[64];
    int n = snprintf(line, sizeof line, "ERR line too long (max %zu bytes)\n", env.max_line);
    conn_reply(c, line, (size_t)n);
    stats_add(&stats.line_too_long, 1);
    log_info("conn %llu %s: line longer than --max-line %zu bytes; closing",
             (unsigned long long)c->id, conn_peer_text(c), env.max_line);
    framer_reset(&c->in);
    c->flags |= C_CLOSING;
}

static void frame(struct conn *c, const char *data, size_t n)
{
    chain_read(c->chain, (struct lp_conn *)c, c->states, n);
    c->batch_msgs = 0;
    int rc = framer_push(&c->in, data, n, env.max_line, deliver, c);
    c->msgs += c->batch_msgs;
    stats_add(&stats.messages, c->batch_msgs);
    if (rc == -EMSGSIZE) {
        line_too_long(c);
    } else if (rc == -ENOMEM) {
        log_error("conn %llu %s: out of memory framing; closing", (unsigned long long)c->id,
                  conn_peer_text(c));
        c->flags |= C_CLOSING;
    }
}

static int is_draining(void)
{
    return atomic_load_explicit(env.draining, memory_order_relaxed);
}

static void drop_tail(struct conn *c, const char *why)
{
    size_t n = framer_pending(&c->in);
    if (n) {
        stats_add(&stats.dropped_tail_bytes, n);
        log_info("conn %llu %s: %s; dropped %zu bytes of an unterminated message",
                 (unsigned long long)c->id, conn_peer_text(c), why, n);
    }
    framer_reset(&c->in);
}

/* Clean end of stream: the tail is a last message, then close hooks (their replies are
 * still flushed, for half-closed peers). At shutdown the tail is not a complete message. */
static void on_eof(struct conn *c)
{
    c->flags |= C_EOF;
    if (c->flags & C_CLOSING) {
        framer_reset(&c->in);
    } else if (is_draining()) {
        drop_tail(c, "server stopping");
    } else {
        c->batch_msgs = 0;
        framer_finish(&c->in, deliver, c);
        c->msgs += c->batch_msgs;
        stats_add(&stats.messages, c->batch_msgs);
    }
    c->flags |= C_CLOSING;
    run_close_hooks(c);
}

/* Returns 0 to carry on, -1 when the connection was destroyed. */
static int read_some(struct conn *c, char *buf, size_t size)
{
    for (int i = 0; i < READ_BUDGET; i++) {
        ssize_t n = recv(c->fd, buf, size, 0);
        if (n > 0) {
            c->bytes_in += (uint64_t)n;
            stats_add(&stats.bytes_in, (uint64_t)n);
            if (!(c->flags & C_CLOSING))
                frame(c, buf, (size_t)n);
            if ((size_t)n < size || (c->flags & C_CLOSING) || c->out_len > env.max_output)
                return 0;
        } else if (n == 0) {
            on_eof(c);
            return 0;
        } else if (errno == EINTR) {
            i--;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        } else {
            stats_add(&stats.resets, 1);
            drop_tail(c, strerror(errno));
            destroy(c, "reset");
            return -1;
        }
    }
    return 0;
}

/* Returns 0, or -1 when the connection was destroyed. */
static int flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            stats_add(&stats.bytes_out, (uint64_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            drop_tail(c, "write failed");
            destroy(c, "write failed");
            return -1;
        }
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > OUT_KEEP_CAP || (c->flags & C_CLOSING)) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    return 0;
}

static void set_deadline(struct conn *c, uint64_t ns)
{
    atomic_store_explicit(&c->deadline_ns, ns, memory_order_relaxed);
}

/* After a read and a flush: what to wait for next. */
static void rearm(struct conn *c)
{
    int pending = c->out_off < c->out_len;
    uint32_t events;
    if (c->flags & C_CLOSING) {
        if (pending) {
            if (!atomic_load_explicit(&c->deadline_ns, memory_order_relaxed))
                set_deadline(c, conn_now_ns() + env.write_timeout_ns);
            events = EPOLLOUT;
        } else if (c->flags & C_EOF) {
            destroy(c, "closed");
            return;
        } else {
            /* Close only after the peer read our last line: shut our side, then discard
             * its input until it closes, so a close with unread data (an RST) cannot
             * destroy the error line in flight. */
            if (!(c->flags & C_LINGER)) {
                c->flags |= C_LINGER;
                shutdown(c->fd, SHUT_WR);
                set_deadline(c, conn_now_ns() + LINGER_NS);
            }
            events = EPOLLIN | EPOLLRDHUP;
        }
    } else if (c->out_len - c->out_off > env.max_output) {
        if (!(c->flags & C_PAUSED)) {
            c->flags |= C_PAUSED;
            set_deadline(c, conn_now_ns() + env.write_timeout_ns);
        }
        events = EPOLLOUT;
    } else {
        if (c->flags & C_PAUSED) {
            c->flags &= ~(uint32_t)C_PAUSED;
            set_deadline(c, 0);
        }
        events = EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0);
    }
    hand_over(c);
    rearm_begin(c);
    int rc = pool_rearm(env.pool, c->fd, events, c);
    rearm_end(c); /* once armed, c may belong to another worker: touch it no more */
    if (rc < 0)
        destroy(c, "cannot re-arm");
}

/* The main thread decided this connection must go. Returns -1 when destroyed. */
static int obey_kick(struct conn *c, int kick)
{
    switch (kick) {
    case KICK_IDLE:
        stats_add(&stats.idle_kicks, 1);
        log_info("conn %llu %s: idle past --idle-timeout; closing", (unsigned long long)c->id,
                 conn_peer_text(c));
        break;
    case KICK_SLOW:
        if (c->flags & C_LINGER)
            break; /* the linger deadline, not a slow reader */
        stats_add(&stats.slow_kicks, 1);
        log_info("conn %llu %s: %zu reply bytes unread past --write-timeout; closing",
                 (unsigned long long)c->id, conn_peer_text(c), c->out_len - c->out_off);
        break;
    default:
        return 0; /* KICK_DRAIN: read what is left, then close at end of stream */
    }
    drop_tail(c, "closing");
    destroy(c, "kicked");
    return -1;
}

void conn_ready(void *ctx, void *source, uint32_t events, char *scratch)
{
    (void)ctx;
    struct conn *c = source;
    (void)atomic_load_explicit(&c->handoff, memory_order_acquire); /* take ownership */
    atomic_store_explicit(&c->last_active_ns, conn_now_ns(), memory_order_relaxed);
    int kick = atomic_load_explicit(&c->kick, memory_order_relaxed);
    if (kick && obey_kick(c, kick) < 0)
        return;
    if (!(c->flags & C_OPENED) && run_open_hooks(c) < 0) {
        destroy(c, "refused by plugin");
        return;
    }
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        if (flush(c) < 0)
            return;
    }
    if (!(c->flags & (C_PAUSED | C_EOF)) &&
        (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        if (read_some(c, scratch, env.read_size) < 0)
            return;
    }
    if (flush(c) < 0)
        return;
    rearm(c);
}

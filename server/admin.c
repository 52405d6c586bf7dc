/* admin - the admin listener's thread: accept, read, answer, close. See admin.h. */
#include "admin.h"

#include "admin_proto.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "monotonic.h"
#include "textbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX   (256 * 1024)           /* queued answers before we stop reading a client */
#define LINGER_NS (1000ull * 1000000ull) /* after our last byte: wait this long for its close */
#define PAUSE_NS  (100ull * 1000000ull)  /* accept back-off when out of fds */
#define NS        1000000000ull

struct aconn {
    struct aconn *prev, *next;
    int fd;
    int closing;   /* answer the rest, then shut our side */
    int lingering; /* our side is shut: discard input until the peer closes or the deadline */
    int peer_done; /* end of stream or an error: nothing more to read */
    uint64_t deadline_ns;
    uint32_t events; /* what epoll watches now */
    size_t in_len;
    struct textbuf out;
    size_t out_off;
    char in[ADMIN_HEAD_MAX];
};

struct admin {
    int lfd, epfd, quit_fd;
    char addr[ADDR_TEXT_MAX];
    const struct metrics_src *src;
    pthread_t thread;
    int started;
    struct aconn *conns;
    unsigned nconns;
    int accepting;      /* the listener is in the epoll set */
    uint64_t resume_ns; /* accepting paused (fds short) until then; 0 = not paused */
};

struct admin *admin_open(const char *host, uint16_t port, char *err, size_t errlen)
{
    struct admin *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->epfd = a->quit_fd = -1;
    a->lfd = listener_open(host, port, a->addr, err, errlen);
    if (a->lfd < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "--admin: %s", why);
        free(a);
        return NULL;
    }
    return a;
}

struct admin *admin_adopt(int fd, char *err, size_t errlen)
{
    struct admin *a = calloc(1, sizeof *a);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int flags = fcntl(fd, F_GETFL);
    if (!a || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(err, errlen, "--admin: passed socket %d: %s", fd,
                 a ? strerror(errno) : "out of memory");
        free(a);
        close(fd);
        return NULL;
    }
    a->epfd = a->quit_fd = -1;
    a->lfd = fd;
    addr_format((struct sockaddr *)&ss, a->addr);
    return a;
}

int admin_fd(const struct admin *a)
{
    return a->lfd;
}

const char *admin_addr(const struct admin *a)
{
    return a->addr;
}

/* --- one client ------------------------------------------------------------------------ */

static void watch(struct admin *a, struct aconn *c)
{
    uint32_t want = 0;
    if (c->out_off < c->out.len)
        want |= EPOLLOUT;
    if (c->out.len - c->out_off < OUT_MAX && !c->peer_done)
        want |= EPOLLIN | EPOLLRDHUP;
    if (want == c->events)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = want;
}

static void drop(struct admin *a, struct aconn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    close(c->fd); /* also leaves the epoll set */
    textbuf_free(&c->out);
    free(c);
    a->nconns--;
}

static void http_answer(struct aconn *c, int head_only, int status, const char *reason,
                        const char *type, const char *body, size_t len, const char *extra)
{
    textbuf_printf(&c->out,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                   "Connection: close\r\n\r\n",
                   status, reason, type, len, extra ? extra : "");
    if (!head_only)
        textbuf_put(&c->out, body, len);
    c->closing = 1;
}

static void http_text(struct aconn *c, int head_only, int status, const char *reason,
                      const char *body)
{
    http_answer(c, head_only, status, reason, "text/plain; charset=utf-8", body, strlen(body),
                NULL);
}

static int same(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(p, word, n) == 0;
}

static int draining(const struct admin *a)
{
    return atomic_load_explicit(a->src->draining, memory_order_relaxed);
}

static void http_request(struct admin *a, struct aconn *c, const struct admin_request *r)
{
    int head = same(r->method, r->method_len, "HEAD");
    if (!head && !same(r->method, r->method_len, "GET")) {
        http_answer(c, 0, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                    "method not allowed\n", 19, "Allow: GET, HEAD\r\n");
        return;
    }
    if (same(r->path, r->path_len, "/metrics")) {
        struct textbuf body = {0};
        metrics_prometheus(a->src, &body);
        if (body.failed)
            http_text(c, head, 500, "Internal Server Error", "out of memory\n");
        else
            http_answer(c, head, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body.data,
                        body.len, NULL);
        textbuf_free(&body);
    } else if (same(r->path, r->path_len, "/healthz")) {
        http_text(c, head, 200, "OK", "ok\n");
    } else if (same(r->path, r->path_len, "/readyz")) {
        if (draining(a))
            http_text(c, head, 503, "Service Unavailable", "draining\n");
        else
            http_text(c, head, 200, "OK", "ready\n");
    } else {
        http_text(c, head, 404, "Not Found", "not found\n");
    }
}

/* Line commands are matched without regard to case, like memcached's and Redis's. */
static int command_is(const struct admin_request *r, const char *word)
{
    if (strlen(word) != r->word_len)
        return 0;
    for (size_t i = 0; i < r->word_len; i++) {
        char ch = r->word[i];
        if ((ch >= 'A' && ch <= 'Z' ? ch + 32 : ch) != word[i])
            return 0;
    }
    return 1;
}

static void line_command(struct admin *a, struct aconn *c, const struct admin_request *r)
{
    if (r->word_len == 0)
        return; /* an empty line asks nothing */
    if (command_is(r, "ping"))
        textbuf_printf(&c->out, "%s\n", draining(a) ? "DRAINING" : "PONG");
    else if (command_is(r, "stats"))
        metrics_stats(a->src, &c->out);
    else if (command_is(r, "plugins"))
        metrics_plugins(a->src, &c->out);
    else if (command_is(r, "quit"))
        c->closing = 1;
    else
        textbuf_printf(&c->out, "ERROR unknown command\n");
}

/* Answers every complete request in the input, while the answers fit OUT_MAX. */
static void answer(struct admin *a, struct aconn *c)
{
    while (!c->closing && c->out.len - c->out_off < OUT_MAX) {
        struct admin_request r;
        switch (admin_parse(c->in, c->in_len, &r)) {
        case ADMIN_MORE:
            return;
        case ADMIN_LINE:
            line_command(a, c, &r);
            break;
        case ADMIN_HTTP:
            http_request(a, c, &r);
            break;
        case ADMIN_BAD_HTTP:
            http_text(c, 0, 400, "Bad Request", "bad request\n");
            break;
        case ADMIN_BAD_VERSION:
            http_text(c, 0, 505, "HTTP Version Not Supported", "HTTP/1.0 or HTTP/1.1 only\n");
            break;
        case ADMIN_LINE_TOO_LONG:
            if (r.looks_http)
                http_text(c, 0, 414, "URI Too Long", "request line too long\n");
            else
                textbuf_printf(&c->out, "ERROR line too long (max %d bytes)\n", ADMIN_LINE_MAX);
            c->closing = 1;
            return;
        case ADMIN_HEAD_TOO_LONG:
            http_text(c, 0, 431, "Request Header Fields Too Large", "request head too large\n");
            return;
        }
        memmove(c->in, c->in + r.used, c->in_len - r.used);
        c->in_len -= r.used;
        c->deadline_ns = monotonic_ns() + ADMIN_TIMEOUT_S * NS;
    }
}

/* Returns 0, or -1 when the connection is finished (the caller drops it). */
static int flush(struct aconn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0)
            c->out_off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        else
            return -1;
    }
    textbuf_free(&c->out);
    c->out_off = 0;
    if (c->closing && !c->lingering) {
        /* Our answer is complete: shut our side and wait for the peer's close, so unread
         * input of its own cannot turn our close into a reset that loses the answer. */
        shutdown(c->fd, SHUT_WR);
        c->lingering = 1;
        c->deadline_ns = monotonic_ns() + LINGER_NS;
    }
    return 0;
}

/* Returns -1 at end of stream or an error. */
static int fill(struct aconn *c)
{
    for (;;) {
        char sink[4096];
        char *to = c->lingering ? sink : c->in + c->in_len;
        size_t room = c->lingering ? sizeof sink : sizeof c->in - c->in_len;
        if (room == 0)
            return 0; /* full: the parser has refused it already */
        ssize_t n = recv(c->fd, to, room, 0);
        if (n > 0) {
            if (!c->lingering)
                c->in_len += (size_t)n;
            if ((size_t)n < room)
                return 0;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            return -1;
        }
    }
}

static void on_event(struct admin *a, struct aconn *c, uint32_t events)
{
    if (!c->peer_done && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        c->peer_done = fill(c) < 0;
    int ended = c->peer_done;
    for (;;) {
        size_t before = c->in_len;
        if (!c->lingering) {
            answer(a, c);
            if (ended)
                c->closing = 1; /* the peer is gone or half-closed: answer what came, then close */
        }
        if (flush(c) < 0 || (ended && c->lingering && c->out_off >= c->out.len)) {
            drop(a, c);
            return;
        }
        /* Pipelined commands that answer() left at OUT_MAX are not new input: no EPOLLIN
         * will come for them, so answer them now that the output has drained. */
        if (c->lingering || c->closing || c->out_off < c->out.len || c->in_len == 0 ||
            c->in_len == before)
            break;
    }
    watch(a, c);
}

/* --- the listener ---------------------------------------------------------------------- */

static void set_accepting(struct admin *a, int on)
{
    if (on == a->accepting)
        return;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = a};
    epoll_ctl(a->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, a->lfd, on ? &ev : NULL);
    a->accepting = on;
}

static void accept_some(struct admin *a)
{
    while (a->nconns < ADMIN_MAX_CONNS) {
        int fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warn("admin accept: %s; pausing admin accepts for 100 ms", strerror(errno));
                a->resume_ns = monotonic_ns() + PAUSE_NS;
                set_accepting(a, 0);
            }
            return;
        }
        struct aconn *c = calloc(1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (!c || epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            free(c);
            close(fd);
            return;
        }
        c->fd = fd;
        c->events = ev.events;
        c->deadline_ns = monotonic_ns() + ADMIN_TIMEOUT_S * NS;
        c->next = a->conns;
        if (a->conns)
            a->conns->prev = c;
        a->conns = c;
        a->nconns++;
    }
    set_accepting(a, 0); /* full: the rest wait in the backlog until a client leaves */
}

static void expire(struct admin *a, uint64_t now)
{
    for (struct aconn *c = a->conns, *next; c; c = next) {
        next = c->next;
        if (now >= c->deadline_ns)
            drop(a, c); /* too slow to send a request, to read our answer, or to close */
    }
}

static void *admin_main(void *arg)
{
    struct admin *a = arg;
    pthread_setname_np(pthread_self(), "lp-admin");
    set_accepting(a, 1);
    for (;;) {
        struct epoll_event evs[32];
        int timeout = a->nconns || a->resume_ns ? 100 : -1;
        int n = epoll_wait(a->epfd, evs, 32, timeout);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &a->quit_fd)
                return NULL;
            if (p == a)
                accept_some(a);
            else
                on_event(a, p, evs[i].events);
        }
        uint64_t now = monotonic_ns();
        expire(a, now);
        if (a->resume_ns && now >= a->resume_ns)
            a->resume_ns = 0;
        if (!a->resume_ns && a->nconns < ADMIN_MAX_CONNS)
            set_accepting(a, 1);
    }
}

int admin_start(struct admin *a, const struct metrics_src *src)
{
    a->src = src;
    if ((a->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return -errno;
    if ((a->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->quit_fd};
    if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->quit_fd, &ev) < 0)
        return -errno;
    /* Signals belong to the main thread's signalfd. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&a->thread, NULL, admin_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return -rc;
    a->started = 1;
    return 0;
}

void admin_free(struct admin *a)
{
    if (!a)
        return;
    if (a->started) {
        uint64_t one = 1;
        if (write(a->quit_fd, &one, sizeof one) < 0) {
            /* only fails on counter overflow: readable already */
        }
        pthread_join(a->thread, NULL);
    }
    while (a->conns)
        drop(a, a->conns);
    if (a->quit_fd >= 0)
        close(a->quit_fd);
    if (a->epfd >= 0)
        close(a->epfd);
    close(a->lfd);
    free(a);
}

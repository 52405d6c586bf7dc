/* listener - getaddrinfo + bind + listen with errors that name the address; accepting with
 * the back-off at the fd limit. */
#include "listener.h"

#include "log.h"
#include "stats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define BACKLOG         4096 /* the kernel caps it at net.core.somaxconn */
#define ACCEPT_BURST    64   /* accepts per wake-up, so signals stay responsive */
#define ACCEPT_PAUSE_NS (100ull * 1000000ull)

void addr_format(const struct sockaddr *sa, char out[ADDR_TEXT_MAX])
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(out, ADDR_TEXT_MAX, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(out, ADDR_TEXT_MAX, "[%s]:%u", host, port);
    } else {
        snprintf(out, ADDR_TEXT_MAX, "unknown");
    }
}

static int bind_one(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int listener_open(const char *host, uint16_t port, char name[ADDR_TEXT_MAX], char *err,
                  size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai) {
        snprintf(err, errlen, "cannot resolve listen host '%s': %s", host, gai_strerror(gai));
        return -EINVAL;
    }
    int fd = -EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = bind_one(ai);
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(-fd));
        return fd;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    addr_format((struct sockaddr *)&ss, name);
    return fd;
}

static int watch(struct listeners *ls, struct listener *l)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
    return epoll_ctl(ls->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0 ? -errno : 0;
}

int listeners_init(struct listeners *ls, size_t capacity, int epfd, listener_admit_fn admit,
                   void *admit_ctx)
{
    *ls = (struct listeners){.epfd = epfd, .admit = admit, .admit_ctx = admit_ctx};
    ls->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (ls->reserve_fd < 0)
        return -errno;
    if (!(ls->items = calloc(capacity ? capacity : 1, sizeof *ls->items)))
        return -ENOMEM;
    return 0;
}

int listeners_add(struct listeners *ls, const char *host, uint16_t port, void *user, char *err,
                  size_t errlen)
{
    struct listener *l = &ls->items[ls->n];
    *l = (struct listener){.fd = -1, .user = user};
    int fd = listener_open(host, port, l->name, err, errlen);
    if (fd < 0)
        return fd;
    l->fd = fd;
    ls->n++;
    int rc = watch(ls, l);
    if (rc)
        snprintf(err, errlen, "cannot poll listener %s: %s", l->name, strerror(-rc));
    return rc;
}

int listeners_adopt(struct listeners *ls, int fd, void *user, char *err, size_t errlen)
{
    struct listener *l = &ls->items[ls->n];
    *l = (struct listener){.fd = fd, .user = user};
    ls->n++;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(err, errlen, "passed socket %d: %s", fd, strerror(errno));
        return -errno;
    }
    addr_format((struct sockaddr *)&ss, l->name);
    int rc = watch(ls, l);
    if (rc)
        snprintf(err, errlen, "cannot poll listener %s: %s", l->name, strerror(-rc));
    return rc;
}

static void reject_out_of_fds(struct listeners *ls, struct listener *l)
{
    close(ls->reserve_fd);
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
        static const char line[] = "ERR server out of file descriptors\n";
        ssize_t rc = send(fd, line, sizeof line - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)rc; /* best effort: the client learns why, or at least sees the close */
        close(fd);
        stats_add(&stats.fd_limit_refusals, 1);
    }
    ls->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void pause_accepting(struct listeners *ls, struct listener *l, int err, uint64_t now_ns)
{
    /* Often the shortage is gone within the pause (a burst of clients that already hung up,
     * whose fds the workers are closing), so the first back-off tells nobody; if fds are still
     * short after it, one waiting client is told why at every further back-off. */
    if (ls->fds_short && ls->reserve_fd >= 0)
        reject_out_of_fds(ls, l);
    stats_add(&stats.accept_pauses, 1);
    log_warn("accept: %s; pausing accepts for 100 ms", strerror(err));
    ls->paused = 1;
    ls->fds_short = 1;
    ls->resume_ns = now_ns + ACCEPT_PAUSE_NS;
    for (size_t i = 0; i < ls->n; i++)
        if (ls->items[i].fd >= 0 && epoll_ctl(ls->epfd, EPOLL_CTL_DEL, ls->items[i].fd, NULL) < 0)
            log_warn("pausing listener %s: epoll_ctl: %s", ls->items[i].name, strerror(errno));
}

void listeners_tick(struct listeners *ls, uint64_t now_ns)
{
    if (!ls->paused || now_ns < ls->resume_ns)
        return;
    ls->paused = 0;
    for (size_t i = 0; i < ls->n; i++) {
        int rc = ls->items[i].fd >= 0 ? watch(ls, &ls->items[i]) : 0;
        if (rc) {
            /* A listener left out of the set would be deaf with no word: retry next tick. */
            log_error("resuming listener %s: epoll_ctl: %s; retrying", ls->items[i].name,
                      strerror(-rc));
            for (size_t j = 0; j < i; j++)
                epoll_ctl(ls->epfd, EPOLL_CTL_DEL, ls->items[j].fd, NULL);
            ls->paused = 1;
            ls->resume_ns = now_ns + ACCEPT_PAUSE_NS;
            return;
        }
    }
}

void listeners_accept(struct listeners *ls, struct listener *l, uint64_t now_ns)
{
    if (ls->paused || l->fd < 0)
        return; /* another listener's event from the same epoll_wait, before the pause */
    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            ls->fds_short = 0;
            ls->admit(ls->admit_ctx, l, fd, (struct sockaddr *)&ss);
        } else if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            pause_accepting(ls, l, errno, now_ns);
            return;
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_warn("accept on %s: %s", l->name, strerror(errno));
            return;
        }
    }
}

void listeners_close(struct listeners *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        struct listener *l = &ls->items[i];
        if (l->fd < 0)
            continue;
        if (!ls->paused)
            epoll_ctl(ls->epfd, EPOLL_CTL_DEL, l->fd, NULL); /* closing removes it anyway */
        close(l->fd);
        l->fd = -1;
    }
    ls->paused = 1; /* nothing resumes after a close */
    ls->resume_ns = UINT64_MAX;
}

void listeners_free(struct listeners *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        if (ls->items[i].fd >= 0)
            close(ls->items[i].fd);
    free(ls->items);
    if (ls->reserve_fd >= 0)
        close(ls->reserve_fd);
    *ls = (struct listeners){.reserve_fd = -1};
}

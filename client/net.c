/* net - resolve, connect (non-blocking or with a timeout), clock. */
#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int net_resolve(struct net_addr *out, const char *host, uint16_t port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -EINVAL;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    char ip[INET6_ADDRSTRLEN] = "?";
    getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
    snprintf(out->text, sizeof out->text, res->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
             (unsigned)port);
    freeaddrinfo(res);
    return 0;
}

int net_connect_start(const struct net_addr *a)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        return -errno;
    int rc;
    do
        rc = connect(fd, (const struct sockaddr *)&a->ss, a->len);
    while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int net_connect_result(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        return -errno;
    return -e;
}

int net_connect_wait(const struct net_addr *a, double timeout)
{
    int fd = net_connect_start(a);
    if (fd < 0)
        return fd;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int rc;
    do
        rc = poll(&p, 1, (int)(timeout * 1000 + 0.999));
    while (rc < 0 && errno == EINTR);
    int e = rc < 0 ? -errno : rc == 0 ? -ETIMEDOUT : net_connect_result(fd);
    if (e) {
        close(fd);
        return e;
    }
    return fd;
}

void net_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

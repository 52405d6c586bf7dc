/* notify - sd_notify's datagram protocol, written out: socket(AF_UNIX, SOCK_DGRAM), sendto. */
#include "notify.h"

#include "values.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define AFTER_READY_ENV "LINEPOOL_NOTIFY_AFTER_READY"

static void close_fd(struct notify *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    n->addrlen = 0;
}

int notify_open(struct notify *n, const char *where)
{
    close_fd(n);
    if (!where || !*where)
        return 0;
    size_t len = strlen(where);
    if ((where[0] != '/' && where[0] != '@') || len >= sizeof n->addr.sun_path || len < 2)
        return -EINVAL;
    memset(&n->addr, 0, sizeof n->addr);
    n->addr.sun_family = AF_UNIX;
    memcpy(n->addr.sun_path, where, len);
    if (where[0] == '@')
        n->addr.sun_path[0] = '\0'; /* abstract: the name is the bytes after the NUL */
    n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (where[0] == '/'));
    if ((n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
        int rc = -errno;
        n->addrlen = 0;
        return rc;
    }
    return 0;
}

uint64_t notify_parse_watchdog(const char *usec, const char *pid, pid_t self)
{
    uint64_t us, p;
    if (!usec || values_parse_uint(usec, strlen(usec), &us) || us == 0 || us > UINT64_MAX / 1000)
        return 0;
    if (pid && *pid && (values_parse_uint(pid, strlen(pid), &p) || p != (uint64_t)self))
        return 0;
    return us * 1000;
}

int notify_from_env(struct notify *n, char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    const char *where = getenv("NOTIFY_SOCKET");
    const char *after = getenv(AFTER_READY_ENV);
    n->watchdog_ns =
        notify_parse_watchdog(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid());
    int rc = notify_open(n, where);
    if (rc == -EINVAL)
        snprintf(err, errlen, "NOTIFY_SOCKET=%s: expected an absolute path or an @name", where);
    else if (rc)
        snprintf(err, errlen, "NOTIFY_SOCKET=%s: %s", where, strerror(-rc));
    if (!rc && after && !(n->after_ready = strdup(after)))
        rc = -ENOMEM;
    unsetenv("NOTIFY_SOCKET");
    unsetenv(AFTER_READY_ENV);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return rc;
}

int notify_send(const struct notify *n, const char *msg)
{
    if (n->fd < 0)
        return 0;
    ssize_t rc;
    do
        rc = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
                    n->addrlen);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
}

int notify_ready(struct notify *n, const char *msg)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "READY=1\n%s", msg ? msg : "");
    int rc = notify_send(n, buf);
    if (n->after_ready) {
        /* An upgrade's child: its parent heard READY on a private socket; from now on the
         * service manager (or nobody) hears this process. */
        int orc = notify_open(n, n->after_ready);
        free(n->after_ready);
        n->after_ready = NULL;
        rc = rc ? rc : orc;
    }
    return rc;
}

const char *notify_target(const struct notify *n, char *buf, size_t len)
{
    if (n->fd < 0 || len == 0) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    size_t path = n->addrlen - offsetof(struct sockaddr_un, sun_path);
    if (n->addr.sun_path[0] != '\0' && path > 0)
        path--; /* the terminating NUL of a file path */
    if (path >= len)
        path = len - 1;
    memcpy(buf, n->addr.sun_path, path);
    buf[path] = '\0';
    if (path && buf[0] == '\0')
        buf[0] = '@';
    return buf;
}

void notify_close(struct notify *n)
{
    close_fd(n);
    free(n->after_ready);
    n->after_ready = NULL;
}

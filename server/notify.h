/* notify - the systemd notification protocol (sd_notify(3)) without libsystemd: each message
 * is one datagram of "KEY=VALUE\n..." lines to $NOTIFY_SOCKET, a path or an abstract '@' name.
 * Everything here is a no-op when there is no socket to notify. Main thread only. */
#ifndef LINEPOOL_NOTIFY_H
#define LINEPOOL_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

struct notify {
    int fd; /* -1: nobody listens */
    struct sockaddr_un addr;
    socklen_t addrlen;
    char *after_ready;    /* where messages go once READY=1 is sent (an upgrade's child), or NULL */
    uint64_t watchdog_ns; /* 0: no watchdog */
};

/* The environment's notify target (NOTIFY_SOCKET), the target after READY
 * (LINEPOOL_NOTIFY_AFTER_READY, set by an upgrading parent) and the watchdog interval
 * (WATCHDOG_USEC, when WATCHDOG_PID is unset or ours), then unsets them so that no process
 * a plugin starts inherits them. Returns 0, or a negative errno with one line in err (a
 * NOTIFY_SOCKET that is not an absolute path or '@' name). */
int notify_from_env(struct notify *n, char *err, size_t errlen);

/* Points n at `where` ("/path", "@abstract"; NULL or "" = nowhere). 0 or -EINVAL. */
int notify_open(struct notify *n, const char *where);

/* Sends one message; 0, or -errno (logged by nobody: a manager that went away is no reason
 * to stop serving). */
int notify_send(const struct notify *n, const char *msg);

/* Sends READY=1 plus msg, then switches to the after-ready target if there is one. */
int notify_ready(struct notify *n, const char *msg);

/* The current target as NOTIFY_SOCKET text ("@name", "/path"), or "" when there is none. */
const char *notify_target(const struct notify *n, char *buf, size_t len);

void notify_close(struct notify *n);

/* Parses WATCHDOG_USEC/WATCHDOG_PID values (either may be NULL) for process `self`: the
 * interval in ns, 0 when absent, malformed, zero or meant for another process. Pure. */
uint64_t notify_parse_watchdog(const char *usec, const char *pid, pid_t self);

#endif

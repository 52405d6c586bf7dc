/* upgrade - the binary upgrade at SIGUSR2: start a new copy of the executable (the file at
 * the path this process was started from, as it is on disk now) with the same arguments,
 * handing it every listening socket through the socket-activation protocol (passfd.h), and
 * wait until it says READY=1 on a private notify socket. The server then drains (server.c).
 * Main thread only. */
#ifndef LINEPOOL_UPGRADE_H
#define LINEPOOL_UPGRADE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct upgrade {
    pid_t child;          /* the new process while one starts, else 0 */
    int sock;             /* the private notify socket it reports to, or -1 */
    uint64_t deadline_ns; /* CLOCK_MONOTONIC: not ready by then = failed */
};

struct upgrade_fd {
    int fd;
    const char *name; /* its LISTEN_FDNAMES entry */
};

enum upgrade_state { UPGRADE_PENDING = 0, UPGRADE_READY = 1, UPGRADE_FAILED = 2 };

/* The absolute path of argv0 as the shell found it (a name without '/' is looked up in
 * PATH; symlinks are kept, so an upgrade runs whatever the link names then). 0 or -ENOENT. */
int upgrade_resolve_exe(const char *argv0, char *out, size_t len);

void upgrade_init(struct upgrade *u);

/* Forks and execs exe with argv, the n listening sockets as fds 3.. with LISTEN_PID set to
 * the child, NOTIFY_SOCKET set to a private socket, LINEPOOL_NOTIFY_AFTER_READY to
 * `notify_after` (where the child reports once ready: the service manager's socket, or ""),
 * and WATCHDOG_USEC/WATCHDOG_PID when watchdog_ns is set. Returns 0 once the exec happened
 * (u->child, u->sock set), or a negative errno with one line in err. */
int upgrade_start(struct upgrade *u, const char *exe, char *const argv[],
                  const struct upgrade_fd *fds, size_t n, const char *notify_after,
                  uint64_t watchdog_ns, uint64_t timeout_ns, char *err, size_t errlen);

/* Reads the private socket and the child's state. READY: the child said READY=1 (u->child
 * still names it, u->sock is closed). FAILED: it exited, or was not ready by the deadline
 * and was killed; reaped; the reason is in why. Either ends the upgrade. */
enum upgrade_state upgrade_poll(struct upgrade *u, uint64_t now_ns, char *why, size_t len);

/* Ends an upgrade in progress: kills and reaps the child, closes the socket. */
void upgrade_abandon(struct upgrade *u);

/* Forgets a child that is ready (it now lives on its own). */
void upgrade_done(struct upgrade *u);

#endif

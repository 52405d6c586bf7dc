/* upgrade - fork/exec with inherited listeners and a private readiness socket.
 *
 * Between fork and exec the child may only make async-signal-safe calls (the parent has
 * threads, one may hold the malloc lock): everything it needs, the environment array with
 * room for its own pid, is built before the fork. */
#include "upgrade.h"

#include "monotonic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PID_DIGITS 20 /* a slot "LISTEN_PID=" + this many characters, filled in the child */

static const char *const replaced[] = {"LISTEN_PID=",
                                       "LISTEN_FDS=",
                                       "LISTEN_FDNAMES=",
                                       "NOTIFY_SOCKET=",
                                       "WATCHDOG_USEC=",
                                       "WATCHDOG_PID=",
                                       "LINEPOOL_NOTIFY_AFTER_READY="};

/* What the child needs, ready before the fork. */
struct spawn {
    char **envp;
    size_t nenv, nowned; /* owned: the strings from envp[nenv - nowned] on are ours */
    char *listen_pid, *watchdog_pid;
    int *tmp; /* one per listener, plus the error pipe */
};

int upgrade_resolve_exe(const char *argv0, char *out, size_t len)
{
    if (!argv0 || !*argv0)
        return -ENOENT;
    if (argv0[0] == '/')
        return snprintf(out, len, "%s", argv0) < (int)len ? 0 : -ENAMETOOLONG;
    if (strchr(argv0, '/')) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return -errno;
        return snprintf(out, len, "%s/%s", cwd, argv0) < (int)len ? 0 : -ENAMETOOLONG;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        char found[PATH_MAX];
        if (n && snprintf(found, sizeof found, "%.*s/%s", (int)n, p, argv0) < (int)sizeof found &&
            access(found, X_OK) == 0)
            return upgrade_resolve_exe(found, out, len); /* absolute, or made so from the cwd */
        p += n + (p[n] == ':');
    }
    return -ENOENT;
}

void upgrade_init(struct upgrade *u)
{
    u->child = 0;
    u->sock = -1;
    u->deadline_ns = 0;
}

static int replaced_name(const char *entry)
{
    for (size_t i = 0; i < sizeof replaced / sizeof *replaced; i++)
        if (strncmp(entry, replaced[i], strlen(replaced[i])) == 0)
            return 1;
    return 0;
}

static int add_env(struct spawn *sp, const char *fmt, const char *a, const char *b)
{
    size_t len = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = malloc(len);
    if (!s)
        return -ENOMEM;
    snprintf(s, len, fmt, a, b);
    sp->envp[sp->nenv++] = s;
    sp->nowned++;
    return 0;
}

static char *add_pid_slot(struct spawn *sp, const char *name)
{
    char zeros[PID_DIGITS + 1];
    memset(zeros, '0', PID_DIGITS);
    zeros[PID_DIGITS] = '\0';
    if (add_env(sp, "%s%s", name, zeros))
        return NULL;
    return sp->envp[sp->nenv - 1] + strlen(name);
}

static void spawn_free(struct spawn *sp)
{
    for (size_t i = sp->nenv - sp->nowned; sp->envp && i < sp->nenv; i++)
        free(sp->envp[i]);
    free(sp->envp);
    free(sp->tmp);
}

static char *join_names(const struct upgrade_fd *fds, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(fds[i].name) + 1;
    char *s = malloc(len), *p = s;
    for (size_t i = 0; s && i < n; i++)
        p += sprintf(p, "%s%s", i ? ":" : "", fds[i].name);
    if (s)
        *p = '\0';
    return s;
}

static int spawn_prepare(struct spawn *sp, const struct upgrade_fd *fds, size_t n,
                         const char *notify, const char *notify_after, uint64_t watchdog_ns)
{
    size_t count = 0;
    while (environ && environ[count])
        count++;
    memset(sp, 0, sizeof *sp);
    if (!(sp->envp = calloc(count + 8, sizeof *sp->envp)) ||
        !(sp->tmp = calloc(n + 1, sizeof(int))))
        return -ENOMEM;
    for (size_t i = 0; i < count; i++)
        if (!replaced_name(environ[i]))
            sp->envp[sp->nenv++] = environ[i];
    char nfds[24], usec[24], *names = join_names(fds, n);
    snprintf(nfds, sizeof nfds, "%zu", n);
    snprintf(usec, sizeof usec, "%llu", (unsigned long long)(watchdog_ns / 1000));
    int rc = names ? 0 : -ENOMEM;
    if (!rc)
        rc = add_env(sp, "%s%s", "LISTEN_FDS=", nfds);
    if (!rc)
        rc = add_env(sp, "%s%s", "LISTEN_FDNAMES=", names);
    if (!rc)
        rc = add_env(sp, "%s%s", "NOTIFY_SOCKET=", notify);
    if (!rc)
        rc = add_env(sp, "%s%s", "LINEPOOL_NOTIFY_AFTER_READY=", notify_after);
    if (!rc && watchdog_ns)
        rc = add_env(sp, "%s%s", "WATCHDOG_USEC=", usec);
    free(names);
    if (!rc && !(sp->listen_pid = add_pid_slot(sp, "LISTEN_PID=")))
        rc = -ENOMEM;
    if (!rc && watchdog_ns && !(sp->watchdog_pid = add_pid_slot(sp, "WATCHDOG_PID=")))
        rc = -ENOMEM;
    return rc;
}

/* In the child: the pid in decimal over a slot of zeros, no libc formatting. */
static void put_pid(char *slot, pid_t pid)
{
    char digits[PID_DIGITS];
    int k = 0;
    unsigned long v = (unsigned long)pid;
    do
        digits[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < PID_DIGITS);
    for (int i = 0; i < k; i++)
        slot[i] = digits[k - 1 - i];
    slot[k] = '\0';
}

/* In the child, async-signal-safe only: listeners to fds 3..3+n-1 (inheritable), the error
 * pipe at 3+n (close-on-exec), every other fd closed, signals as a fresh process has them. */
static void child_exec(struct spawn *sp, const char *exe, char *const argv[],
                       const struct upgrade_fd *fds, size_t n, int err_fd)
{
    put_pid(sp->listen_pid, getpid());
    if (sp->watchdog_pid)
        put_pid(sp->watchdog_pid, getpid());
    int base = 3 + (int)n + 1, e = 0;
    for (size_t i = 0; i <= n && !e; i++)
        e = (sp->tmp[i] = fcntl(i < n ? fds[i].fd : err_fd, F_DUPFD_CLOEXEC, base)) < 0;
    for (size_t i = 0; i < n && !e; i++)
        e = dup2(sp->tmp[i], 3 + (int)i) < 0; /* dup2 clears close-on-exec */
    if (!e)
        e = dup3(sp->tmp[n], 3 + (int)n, O_CLOEXEC) < 0;
    err_fd = e ? err_fd : 3 + (int)n;
    if (!e)
        close_range((unsigned)base, ~0u, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (!e)
        execve(exe, argv, sp->envp);
    int code = errno;
    ssize_t w = write(err_fd, &code, sizeof code);
    (void)w;
    _exit(127);
}

/* A datagram socket on an autobound abstract name ("@" + 5 hex digits), with the sender's
 * credentials on every message. */
static int private_socket(char *name, size_t len)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t sl = sizeof sa;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 || sl <= sizeof(sa_family_t) + 1) {
        int rc = errno ? -errno : -EINVAL;
        close(fd);
        return rc;
    }
    size_t nlen = sl - sizeof(sa_family_t) - 1;
    snprintf(name, len, "@%.*s", (int)nlen, sa.sun_path + 1);
    return fd;
}

/* Parent side of the exec: the pipe's end of file means the exec happened. */
static int await_exec(pid_t pid, int rd, const char *exe, char *err, size_t errlen)
{
    int code = 0;
    ssize_t got;
    do
        got = read(rd, &code, sizeof code);
    while (got < 0 && errno == EINTR);
    close(rd);
    if (got <= 0)
        return 0;
    waitpid(pid, NULL, 0);
    snprintf(err, errlen, "cannot run %s: %s", exe, strerror(code));
    return -code;
}

int upgrade_start(struct upgrade *u, const char *exe, char *const argv[],
                  const struct upgrade_fd *fds, size_t n, const char *notify_after,
                  uint64_t watchdog_ns, uint64_t timeout_ns, char *err, size_t errlen)
{
    char name[64];
    struct spawn sp;
    int pipefd[2] = {-1, -1};
    int sock = private_socket(name, sizeof name), rc = sock;
    if (sock < 0) {
        snprintf(err, errlen, "cannot make a notify socket: %s", strerror(-rc));
        return rc;
    }
    if ((rc = spawn_prepare(&sp, fds, n, name, notify_after, watchdog_ns)) == 0 &&
        pipe2(pipefd, O_CLOEXEC) < 0)
        rc = -errno;
    pid_t pid = rc ? -1 : fork();
    if (pid == 0)
        child_exec(&sp, exe, argv, fds, n, pipefd[1]);
    if (!rc && pid < 0)
        rc = -errno;
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (rc) {
        snprintf(err, errlen, "cannot start %s: %s", exe, strerror(-rc));
    } else {
        rc = await_exec(pid, pipefd[0], exe, err, errlen);
        pipefd[0] = -1;
    }
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    spawn_free(&sp);
    if (rc) {
        close(sock);
        return rc;
    }
    u->child = pid;
    u->sock = sock;
    u->deadline_ns = monotonic_ns() + timeout_ns;
    return 0;
}

/* 1 when a datagram from the child holds the line READY=1. */
static int heard_ready(struct upgrade *u)
{
    for (;;) {
        char buf[4096];
        union {
            struct cmsghdr align;
            char space[CMSG_SPACE(sizeof(struct ucred))];
        } ctl;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl};
        ssize_t got = recvmsg(u->sock, &mh, MSG_DONTWAIT);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return 0;
        buf[got] = '\0';
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        struct ucred cred = {0};
        if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS)
            memcpy(&cred, CMSG_DATA(cm), sizeof cred);
        if (cred.pid != u->child)
            continue; /* someone else found the abstract name: not our child's word */
        for (char *line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
            if (strncmp(line, "READY=1", 7) == 0 && (line[7] == '\n' || line[7] == '\0'))
                return 1;
    }
}

static void describe_exit(int status, char *why, size_t len)
{
    if (WIFEXITED(status))
        snprintf(why, len, "exited with status %d before it was ready", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(why, len, "was killed by signal %d before it was ready", WTERMSIG(status));
    else
        snprintf(why, len, "stopped before it was ready");
}

static void close_sock(struct upgrade *u)
{
    if (u->sock >= 0)
        close(u->sock);
    u->sock = -1;
}

enum upgrade_state upgrade_poll(struct upgrade *u, uint64_t now, char *why, size_t len)
{
    if (!u->child)
        return UPGRADE_FAILED;
    if (heard_ready(u)) {
        close_sock(u);
        return UPGRADE_READY;
    }
    int status;
    pid_t got = waitpid(u->child, &status, WNOHANG);
    if (got == u->child) {
        describe_exit(status, why, len);
    } else if (now > u->deadline_ns) {
        snprintf(why, len, "was not ready in time; killed it");
        kill(u->child, SIGKILL);
        waitpid(u->child, NULL, 0);
    } else {
        return UPGRADE_PENDING;
    }
    close_sock(u);
    u->child = 0;
    return UPGRADE_FAILED;
}

void upgrade_abandon(struct upgrade *u)
{
    if (u->child) {
        kill(u->child, SIGKILL);
        waitpid(u->child, NULL, 0);
    }
    close_sock(u);
    u->child = 0;
}

void upgrade_done(struct upgrade *u)
{
    close_sock(u);
    u->child = 0;
}

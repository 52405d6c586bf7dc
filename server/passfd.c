/* passfd - LISTEN_FDS/LISTEN_FDNAMES read once at startup; claims by name. */
#include "passfd.h"

#include "log.h"
#include "values.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FIRST_FD 3    /* SD_LISTEN_FDS_START */
#define MAX_FDS  4096 /* more than any socket unit passes; bounds a hostile LISTEN_FDS */

void passfd_free_names(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* Segments of text between ':'; 0 for "" (no names at all). */
static size_t count_names(const char *text)
{
    size_t k = *text ? 1 : 0;
    for (const char *c = text; *c; c++)
        k += *c == ':';
    return k;
}

int passfd_parse_names(const char *text, size_t n, char ***out)
{
    if (text && count_names(text) != n)
        return -EINVAL;
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return -ENOMEM;
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        size_t len = p ? strcspn(p, ":") : 0;
        if (p && (len == 0 || len > PASSFD_NAME_MAX)) {
            passfd_free_names(names, n);
            return -EINVAL;
        }
        if (!(names[i] = p ? strndup(p, len) : strdup("unknown"))) {
            passfd_free_names(names, n);
            return -ENOMEM;
        }
        if (p)
            p += len + 1; /* past the ':' (or the NUL of the last name, never read again) */
    }
    *out = names;
    return 0;
}

static int parse_env_count(const char *text, uint64_t max, uint64_t *out)
{
    return !text || values_parse_uint(text, strlen(text), out) || *out > max ? -EINVAL : 0;
}

static int take(struct passfds *p, size_t n, const char *names_text, char *err, size_t errlen)
{
    char **names;
    int rc = passfd_parse_names(names_text, n, &names);
    if (rc == -EINVAL)
        snprintf(err, errlen, "LISTEN_FDNAMES=%s does not name the %zu sockets of LISTEN_FDS",
                 names_text, n);
    if (rc)
        return rc;
    if (!(p->v = calloc(n, sizeof *p->v))) {
        passfd_free_names(names, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int fd = FIRST_FD + (int)i;
        p->v[i] = (struct passfd){.fd = fd, .name = names[i]};
        p->n++;
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
            snprintf(err, errlen, "LISTEN_FDS=%zu: fd %d (%s) is not open", n, fd, names[i]);
            p->v[i].fd = -1;
            rc = -EBADF;
        }
    }
    free(names); /* the strings now belong to p */
    return rc;
}

int passfd_from_env(struct passfds *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    const char *pid_text = getenv("LISTEN_PID"), *fds_text = getenv("LISTEN_FDS");
    char *names_text = getenv("LISTEN_FDNAMES");
    names_text = names_text ? strdup(names_text) : NULL;
    uint64_t pid, n = 0;
    int rc = 0;
    if (pid_text && fds_text && parse_env_count(pid_text, UINT32_MAX, &pid) == 0 &&
        pid == (uint64_t)getpid()) {
        if (parse_env_count(fds_text, MAX_FDS, &n)) {
            snprintf(err, errlen, "LISTEN_FDS=%s: expected a count of sockets from 0 to %d",
                     fds_text, MAX_FDS);
            rc = -EINVAL;
        } else {
            rc = take(p, (size_t)n, names_text, err, errlen);
        }
    }
    free(names_text);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return rc;
}

int passfd_claim(struct passfds *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!p->v[i].used && p->v[i].fd >= 0 && strcmp(p->v[i].name, name) == 0) {
            p->v[i].used = 1;
            return p->v[i].fd;
        }
    }
    return -ENOENT;
}

size_t passfd_count(const struct passfds *p, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        k += p->v[i].fd >= 0 && strcmp(p->v[i].name, name) == 0;
    return k;
}

int passfd_check_listening(int fd, char *why, size_t len)
{
    int type = 0, listening = 0;
    socklen_t tl = sizeof type, ll = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0) {
        snprintf(why, len, "not a socket");
        return -ENOTSOCK;
    }
    if (type != SOCK_STREAM) {
        snprintf(why, len, "not a stream socket");
        return -EINVAL;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) < 0 || !listening) {
        snprintf(why, len, "a stream socket that is not listening");
        return -EINVAL;
    }
    return 0;
}

void passfd_key(const char *host, uint16_t port, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%u", host, port);
    for (int i = 0; i < n && (size_t)i < len; i++)
        if (out[i] == ':')
            out[i] = '.';
}

void passfd_finish(struct passfds *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!p->v[i].used && p->v[i].fd >= 0) {
            log_warn("passed socket %d (%s) is not used by any --listen; closing it", p->v[i].fd,
                     p->v[i].name);
            close(p->v[i].fd);
        }
        free(p->v[i].name);
    }
    free(p->v);
    memset(p, 0, sizeof *p);
}

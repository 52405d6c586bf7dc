/* pump - one connection, written and read at once with poll(2). */
#include "pump.h"

#include "monotonic.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUF (64 * 1024)

/* Writes until the socket is full or the source is empty. Returns 1 on progress, 0 on none,
 * or a negative errno. */
static int write_some(struct pump *p)
{
    int progress = 0;
    for (;;) {
        const char *buf;
        size_t n = msgsrc_peek(p->src, &buf);
        if (n == 0)
            return progress;
        ssize_t w = send(p->fd, buf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return progress;
            return -errno;
        }
        msgsrc_advance(p->src, (size_t)w);
        p->bytes_out += (uint64_t)w;
        p->writes++;
        progress = 1;
        if ((size_t)w < n)
            return progress; /* socket full: poll before trying again */
    }
}

/* Reads what is there. Returns 1 on progress, 0 on none, or a negative errno; sets eof and
 * stopped. */
static int read_some(struct pump *p, char *buf)
{
    int progress = 0;
    for (;;) {
        ssize_t r = recv(p->fd, buf, READ_BUF, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? progress : -errno;
        }
        if (r == 0) {
            p->eof = 1;
            return 1;
        }
        p->bytes_in += (uint64_t)r;
        if (p->sink && p->sink(p->ctx, buf, (size_t)r)) {
            p->stopped = 1;
            return 1;
        }
        progress = 1;
        if (r < READ_BUF)
            return progress;
    }
}

static int sent_all(const struct pump *p)
{
    return p->bytes_out == msgsrc_total(p->src);
}

/* One poll round. Returns 0 to go on, 1 when done, or a negative errno. */
static int step(struct pump *p, char *buf, uint64_t *last_progress)
{
    int sending = !sent_all(p);
    struct pollfd pf = {.fd = p->fd, .events = POLLIN | (sending ? POLLOUT : 0)};
    uint64_t deadline = *last_progress + (uint64_t)(p->timeout * 1e9);
    uint64_t now = monotonic_ns();
    int ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
    int rc = poll(&pf, 1, ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0) {
        p->stalled = sending;
        return sending ? -ETIMEDOUT : 1;
    }
    int got = read_some(p, buf);
    if (got < 0)
        return got;
    if (p->eof || p->stopped)
        return 1;
    int put = sending ? write_some(p) : 0;
    if (put < 0)
        return put;
    if (got || put)
        *last_progress = monotonic_ns();
    if (sending && sent_all(p)) {
        p->t_sent = *last_progress;
        if (p->half_close)
            shutdown(p->fd, SHUT_WR);
    }
    return 0;
}

int pump_run(struct pump *p)
{
    char buf[READ_BUF];
    p->t_start = monotonic_ns();
    uint64_t last_progress = p->t_start;
    if (sent_all(p))
        p->t_sent = p->t_start;
    int rc;
    while ((rc = step(p, buf, &last_progress)) == 0) {
    }
    if (rc < 0) {
        p->error = rc;
        /* what the server said before it reset or closed (e.g. "line too long") */
        if (!p->eof && !p->stopped && rc != -ETIMEDOUT)
            read_some(p, buf);
        return rc;
    }
    if (!sent_all(p) && p->eof)
        return p->error = -EPIPE; /* closed before it got everything */
    return 0;
}

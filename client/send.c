/* send - one message, then the reply line if one comes within --timeout. */
#include "commands.h"
#include "fmt.h"
#include "msgsrc.h"
#include "net.h"
#include "pump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poll.h>
#include <sys/socket.h>

#define REPLY_KEEP  (1024 * 1024) /* bytes of the reply line kept for printing */
#define REPLY_SHOWN 200           /* --size: a longer reply is shown cut */
#define REST_KEEP   (64 * 1024)   /* bytes after the first line kept for printing */
#define MORE_QUIET  0.2           /* after the first line, more lines end after this silence */

struct reply {
    char *line; /* REPLY_KEEP bytes */
    size_t kept;
    uint64_t len; /* whole line, '\n' not counted */
    int complete;
    char rest[REST_KEEP]; /* what came after the first line in its read */
    size_t nrest;
};

static int on_reply(void *ctx, const char *data, size_t n)
{
    struct reply *r = ctx;
    const char *nl = memchr(data, '\n', n);
    size_t take = nl ? (size_t)(nl - data) : n;
    size_t room = REPLY_KEEP - r->kept;
    memcpy(r->line + r->kept, data, take < room ? take : room);
    r->kept += take < room ? take : room;
    r->len += take;
    r->complete = nl != NULL;
    if (nl) {
        size_t more = n - take - 1;
        r->nrest = more < REST_KEEP ? more : REST_KEEP;
        memcpy(r->rest, nl + 1, r->nrest);
    }
    return r->complete; /* the first line ends the exchange; print_more takes the rest */
}

/* Prints answer bytes with CRLF shown as LF. */
static void print_bytes(const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(data[i] == '\r' && i + 1 < n && data[i + 1] == '\n'))
            fputc(data[i], stdout);
}

/* A server that answers with several lines at the end of a stream (the rate meter: bytes,
 * time, rates) sends them together: print what follows the first line until the server
 * closes or is quiet for MORE_QUIET (at most --timeout). */
static void print_more(int fd, const struct reply *r, double timeout)
{
    char buf[4096];
    print_bytes(r->rest, r->nrest);
    int ended_nl = r->nrest == 0 || r->rest[r->nrest - 1] == '\n';
    double quiet = timeout < MORE_QUIET ? timeout : MORE_QUIET;
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int n = poll(&pf, 1, (int)(quiet * 1000));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            break;
        print_bytes(buf, (size_t)got);
        ended_nl = buf[got - 1] == '\n';
    }
    if (!ended_nl)
        fputc('\n', stdout);
}

void commands_report_error(const char *addr, int error, int stalled, unsigned long long sent,
                           unsigned long long total, double timeout)
{
    char a[32], b[32];
    fmt_thousands(a, sizeof a, sent);
    fmt_thousands(b, sizeof b, total);
    if (stalled)
        fprintf(stderr,
                "linepool-client: %s stopped reading: no progress for %g s after %s of %s "
                "bytes\n",
                addr, timeout, a, b);
    else if (error == -ECONNRESET || (error == -EPIPE && sent < total))
        fprintf(stderr, "linepool-client: connection %s by %s after %s of %s bytes\n",
                error == -ECONNRESET ? "reset" : "closed", addr, a, b);
    else
        fprintf(stderr, "linepool-client: %s: %s after %s of %s bytes\n", addr, strerror(-error), a,
                b);
}

static void print_reply(const struct client_opts *o, const struct reply *r)
{
    size_t shown = r->kept;
    if (shown && r->line[shown - 1] == '\r' && shown == r->len)
        shown--; /* a CRLF server's line prints like any other */
    if (!o->size_given) {
        fwrite(r->line, 1, shown, stdout);
        fputc('\n', stdout);
        if (r->len > r->kept)
            fprintf(stderr, "linepool-client: reply cut to %zu of %llu bytes\n", r->kept,
                    (unsigned long long)r->len);
        return;
    }
    char n[32];
    printf("Reply (%s bytes): %.*s%s\n", fmt_thousands(n, sizeof n, r->len),
           (int)(shown < REPLY_SHOWN ? shown : REPLY_SHOWN), r->line,
           shown > REPLY_SHOWN ? "..." : "");
}

static int report(const struct client_opts *o, const struct net_addr *a, struct pump *p,
                  const struct reply *r, int rc)
{
    uint64_t total = msgsrc_total(p->src);
    if (o->size_given) {
        char n[32];
        printf("Sent %s bytes in %.3f seconds.\n", fmt_thousands(n, sizeof n, p->bytes_out),
               p->t_sent ? (double)(p->t_sent - p->t_start) / 1e9 : 0.0);
    }
    if (r->complete || r->len)
        print_reply(o, r);
    if (rc) {
        commands_report_error(a->text, rc, p->stalled, (unsigned long long)p->bytes_out,
                              (unsigned long long)total, o->timeout);
        return 1;
    }
    if (p->bytes_out < total) { /* it answered early: usually an error line, then a close */
        char x[32], y[32];
        fprintf(
            stderr, "linepool-client: %s answered after %s of %s bytes; the rest was not sent\n",
            a->text, fmt_thousands(x, sizeof x, p->bytes_out), fmt_thousands(y, sizeof y, total));
        return 1;
    }
    if (!r->complete && !r->len)
        fprintf(stderr,
                p->eof ? "linepool-client: %s closed the connection without a reply\n"
                       : "linepool-client: no reply from %s within %g s\n",
                a->text, o->timeout);
    return 0;
}

int cmd_send(const struct client_opts *o)
{
    char err[256];
    struct net_addr a;
    if (net_resolve(&a, o->host, o->port, err, sizeof err)) {
        fprintf(stderr, "linepool-client: %s\n", err);
        return 1;
    }
    static struct reply r; /* 64 KiB of kept answer: not on the stack; send runs once */
    r.line = malloc(REPLY_KEEP);
    char *text = NULL;
    size_t tlen = 0;
    if (!o->size_given) {
        tlen = strlen(o->text);
        text = malloc(tlen + 2);
        if (text) {
            memcpy(text, o->text, tlen);
            if (!o->raw)
                text[tlen++] = '\n';
        }
    }
    struct msgsrc src;
    int status = 1;
    if (!r.line || (!o->size_given && !text) ||
        msgsrc_init(&src, o->size_given ? 1 : 0, o->size, text, tlen)) {
        fprintf(stderr, "linepool-client: out of memory\n");
        goto out_free;
    }
    int fd = net_connect_wait(&a, o->timeout);
    if (fd < 0) {
        fprintf(stderr, "linepool-client: cannot connect to %s: %s\n", a.text, strerror(-fd));
        goto out_src;
    }
    net_nodelay(fd);
    /* half-close once sent: a server that answers at the end of a stream (the rate meter on
     * the default port) answers now instead of after --timeout */
    struct pump p = {
        .fd = fd, .src = &src, .timeout = o->timeout, .half_close = 1, .sink = on_reply, .ctx = &r};
    int rc = pump_run(&p);
    status = report(o, &a, &p, &r, rc);
    if (!rc && r.complete && !o->size_given)
        print_more(fd, &r, o->timeout);
    close(fd);
out_src:
    msgsrc_free(&src);
out_free:
    free(text);
    free(r.line);
    return status;
}

/* stream - the tutorial's many-message sender: TOTAL/S messages, then "Y\n", many messages per
 * write; prints the server's answer and the client's own rate. */
#include "answer.h"

#include "commands.h"
#include "fmt.h"
#include "monotonic.h"
#include "msgsrc.h"
#include "net.h"
#include "pump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int on_answer(void *ctx, const char *data, size_t n)
{
    answer_feed(ctx, data, n);
    return 0; /* read until the server closes or falls silent */
}

static void print_answer(const struct answer *ans)
{
    if (ans->nlines > answer_kept(ans)) {
        char n[32];
        printf("[server answered %s lines; the last %u:]\n",
               fmt_thousands(n, sizeof n, ans->nlines), answer_kept(ans));
    }
    for (unsigned i = 0; i < answer_kept(ans); i++)
        printf("%s\n", answer_line(ans, i));
}

/* The tutorial's one line for spreadsheets: the server's figures when it gave them, else the
 * client's own (bytes sent, write calls, seconds from connect to the last byte written). The
 * server's rate is its own "Data rate" (from its exact clock); its time has 3 decimals, so a
 * stream under a millisecond takes its seconds from bytes / rate instead of printing 0. */
static void print_tsv(const struct answer *ans, const struct pump *p, double secs)
{
    uint64_t bytes = p->bytes_out, chunks = p->writes;
    double rate = secs > 0 ? (double)bytes / secs : 0.0;
    if (ans->has_processed && ans->has_time) {
        bytes = ans->processed_bytes;
        chunks = ans->processed_chunks;
        secs = ans->seconds;
        rate = ans->has_rate ? (double)ans->rate : secs > 0 ? (double)bytes / secs : 0.0;
        if (ans->has_rate && ans->rate && secs < 0.0005)
            secs = (double)bytes / (double)ans->rate;
    }
    printf(secs > 0 && secs < 0.001 ? "%llu\t%llu\t%.9f\t%.0f\n" : "%llu\t%llu\t%.6f\t%.0f\n",
           (unsigned long long)bytes, (unsigned long long)chunks, secs, rate);
}

static void print_rate(const struct pump *p, uint64_t messages, double secs)
{
    char b[32], r[32], m[32], w[32];
    printf("Sent %s bytes in %.3f seconds (%s bytes/second); %s messages in %s writes.\n",
           fmt_thousands(b, sizeof b, p->bytes_out), secs,
           fmt_thousands(r, sizeof r, secs > 0 ? (uint64_t)((double)p->bytes_out / secs) : 0),
           fmt_thousands(m, sizeof m, messages), fmt_thousands(w, sizeof w, p->writes));
}

static int run(const struct client_opts *o, const struct net_addr *a, struct msgsrc *src,
               struct answer *ans)
{
    uint64_t t0 = monotonic_ns();
    int fd = net_connect_wait(a, o->timeout);
    if (fd < 0) {
        fprintf(stderr, "linepool-client: cannot connect to %s: %s\n", a->text, strerror(-fd));
        return 1;
    }
    net_nodelay(fd);
    struct pump p = {.fd = fd,
                     .src = src,
                     .timeout = o->timeout,
                     .half_close = 1, /* lets a server that closes at EOF end the answer */
                     .sink = on_answer,
                     .ctx = ans};
    int rc = pump_run(&p);
    close(fd);
    answer_finish(ans);
    double secs = (double)((p.t_sent ? p.t_sent : monotonic_ns()) - t0) / 1e9;
    if (o->tsv && !rc) {
        print_tsv(ans, &p, secs);
        return 0;
    }
    print_answer(ans);
    print_rate(&p, o->total / o->size + 1, secs);
    if (rc) {
        commands_report_error(a->text, rc, p.stalled, (unsigned long long)p.bytes_out,
                              (unsigned long long)msgsrc_total(src), o->timeout);
        return 1;
    }
    return 0;
}

int cmd_stream(const struct client_opts *o)
{
    char err[256];
    struct net_addr a;
    if (net_resolve(&a, o->host, o->port, err, sizeof err)) {
        fprintf(stderr, "linepool-client: %s\n", err);
        return 1;
    }
    static const char tail[] = "Y\n";
    struct msgsrc src;
    struct answer *ans = malloc(sizeof *ans);
    if (!ans || msgsrc_init(&src, o->total / o->size, o->size, tail, sizeof tail - 1)) {
        fprintf(stderr, "linepool-client: out of memory\n");
        free(ans);
        return 1;
    }
    answer_init(ans);
    int status = run(o, &a, &src, ans);
    msgsrc_free(&src);
    free(ans);
    return status;
}

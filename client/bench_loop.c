/* bench_loop - one worker: an epoll loop over its share of the connections, non-blocking
 * sockets, pipelined requests written in batches, replies counted with memchr. Sleeps in
 * epoll_pwait2 until the next event or deadline, so an idle connection costs no CPU. */
#include "bench.h"

#include "monotonic.h"
#include "replies.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUF      (256 * 1024)
#define MAX_EVENTS    256
#define BACKOFF_FIRST 10000000ull   /* 10 ms before the first reconnect */
#define BACKOFF_MAX   1000000000ull /* then doubling up to 1 s */
#define WAKE_TAG      UINT32_MAX    /* epoll data of the stop eventfd */

enum conn_state { DOWN, CONNECTING, UP, DEAD };

struct bench_conn {
    int fd;
    uint8_t state;
    uint8_t want_out; /* EPOLLOUT registered: a write was cut short */
    uint8_t ever_up;
    uint32_t index;      /* within the thread: the open-loop schedule slot */
    uint32_t inflight;   /* queued or sent, not answered */
    uint32_t head;       /* ring slot of the oldest in flight */
    uint64_t *ring;      /* start time of each request in flight: intended (open loop) */
    uint64_t *sent;      /* and actual: when it was queued for writing */
    uint64_t line_bytes; /* of the reply line being read, before this read */
    uint16_t *word;      /* command word of each request in flight (--command) */
    struct replies rp;   /* --protocol redis|memcache: the reply being read */
    char *obuf;          /* --command: rendered requests not yet written */
    size_t olen, ooff, ocap;
    uint32_t warm_left;     /* requests in flight at the end of the warm-up: not measured */
    uint64_t issued;        /* requests issued since this connect (--reconnect-interval) */
    uint64_t close_at;      /* --connection-duration: when to drain and reconnect; 0 = never */
    uint64_t connect_t;     /* when the connect started (connect latency) */
    uint64_t wpend;         /* bytes queued, not yet written */
    uint64_t woff;          /* bytes written on this connection */
    uint64_t deadline;      /* CONNECTING or UP with inflight: timeout; DOWN: retry time */
    uint64_t failing_since; /* first failure since the last reply; 0 = none */
    uint64_t backoff;
    uint64_t due;     /* open loop: requests scheduled on this connection */
    uint64_t backlog; /* open loop: scheduled, not yet queued */
};

static void conn_fail(struct bench_thread *t, struct bench_conn *c, enum report_error kind,
                      uint64_t now);

static void arm(struct bench_thread *t, uint64_t deadline)
{
    if (deadline < t->next_sweep)
        t->next_sweep = deadline;
}

static enum report_error kind_of(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return REPORT_REFUSED;
    case ECONNRESET:
    case EPIPE:
        return REPORT_RESET;
    case ETIMEDOUT:
        return REPORT_TIMEOUT;
    default:
        return REPORT_OTHER;
    }
}

static void set_events(struct bench_thread *t, struct bench_conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = c->index};
    epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Intended send time of the i-th request scheduled on c (open loop). */
static uint64_t intended(const struct bench_thread *t, const struct bench_conn *c, uint64_t i)
{
    double k = (double)i * t->nconns + c->index;
    return t->t0 + (uint64_t)(k * t->interval_ns);
}

/* The second of the run (from 0) that now falls in. */
static uint64_t second_of(const struct bench_thread *t, uint64_t now)
{
    return now > t->t0 ? (now - t->t0) / 1000000000u : 0;
}

/* Writes queued bytes from the request pattern until done or the socket is full. */
static void flush(struct bench_thread *t, struct bench_conn *c, uint64_t now)
{
    const struct bench_plan *p = t->plan;
    while (c->wpend) {
        /* the pattern holds pipeline + 1 requests, so one send covers a whole batch */
        size_t off = p->workload ? c->ooff : (size_t)(c->woff % p->req_len);
        size_t n = p->workload ? c->olen - c->ooff : p->pattern_len - off;
        const char *from = p->workload ? c->obuf + off : p->pattern + off;
        if (n > c->wpend)
            n = (size_t)c->wpend;
        ssize_t w = send(c->fd, from, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                conn_fail(t, c, kind_of(errno), now);
                return;
            }
            break;
        }
        c->wpend -= (uint64_t)w;
        c->woff += (uint64_t)w;
        c->ooff += (size_t)w;
        if (c->ooff == c->olen)
            c->ooff = c->olen = 0;
        t->local.bytes_out += (uint64_t)w;
        if ((size_t)w < n)
            break; /* socket full: EPOLLOUT tells when to go on */
    }
    int want = c->wpend != 0;
    if (want != c->want_out) {
        c->want_out = (uint8_t)want;
        set_events(t, c, EPOLLIN | (want ? EPOLLOUT : 0));
    }
}

static void start_connect(struct bench_thread *t, struct bench_conn *c, uint64_t now);

/* Churn: a connection that used up its --reconnect-interval or --connection-duration closes
 * once drained and connects again at once. Not an error; counted as planned. */
static void maybe_recycle(struct bench_thread *t, struct bench_conn *c, uint64_t now)
{
    const struct bench_plan *p = t->plan;
    int used = (p->reconnect_interval && c->issued >= p->reconnect_interval) ||
               (c->close_at && now >= c->close_at);
    if (!used || c->inflight || c->wpend || c->state != UP)
        return;
    if (t->budget == 0 || (p->rate > 0 && t->sched_left == 0 && t->backlog == 0))
        return; /* nothing left to send: a new connection would only be closed */
    close(c->fd);
    c->fd = -1;
    c->state = DOWN;
    c->line_bytes = 0;
    replies_init(&c->rp, (enum replies_protocol)p->protocol);
    t->planned++;
    start_connect(t, c, now);
}

/* --command: renders n requests after what c still has to write, noting each one's command
 * word in its ring slot. 0, or -ENOMEM. */
static int render(struct bench_thread *t, struct bench_conn *c, uint64_t n, uint64_t now)
{
    const struct workload *w = t->plan->workload;
    size_t need = c->olen + (size_t)n * w->max_len;
    if (need > c->ocap) {
        if (c->ooff) { /* slide the unwritten bytes to the front first */
            memmove(c->obuf, c->obuf + c->ooff, c->olen - c->ooff);
            c->olen -= c->ooff;
            c->ooff = 0;
            need = c->olen + (size_t)n * w->max_len;
        }
        if (need > c->ocap) {
            char *grown = realloc(c->obuf, need);
            if (!grown)
                return -ENOMEM;
            c->obuf = grown;
            c->ocap = need;
        }
    }
    uint64_t sec = second_of(t, now);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t slot = (c->head + c->inflight + (uint32_t)i) % t->plan->pipeline;
        unsigned word;
        size_t len = workload_render(&t->gen, c->obuf + c->olen, &word);
        c->olen += len;
        c->wpend += len;
        c->word[slot] = (uint16_t)word;
        cmdstat_bytes(&t->stats[word], sec, 0, len);
    }
    return 0;
}

/* Queues as many requests as the pipeline, the budget and (open loop) the backlog allow,
 * then writes them in one go. */
static void issue(struct bench_thread *t, struct bench_conn *c, uint64_t now)
{
    const struct bench_plan *p = t->plan;
    uint64_t n = p->pipeline - c->inflight;
    if (p->rate > 0 && c->backlog < n)
        n = c->backlog;
    if (t->budget < n)
        n = t->budget;
    if (p->reconnect_interval && c->issued + n > p->reconnect_interval)
        n = p->reconnect_interval - c->issued;
    if (c->close_at && now >= c->close_at)
        n = 0; /* its time is up: drain, then reconnect */
    if (n == 0) {
        maybe_recycle(t, c, now);
        return;
    }
    c->issued += n;
    if (c->inflight == 0) {
        c->deadline = now + p->timeout_ns;
        arm(t, c->deadline);
    }
    uint64_t first_sched = c->due - c->backlog;
    if (p->workload && render(t, c, n, now)) {
        conn_fail(t, c, REPORT_OTHER, now); /* out of memory for the write buffer */
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint32_t slot = (c->head + c->inflight + (uint32_t)i) % p->pipeline;
        c->ring[slot] = p->rate > 0 ? intended(t, c, first_sched + i) : now;
        c->sent[slot] = now;
    }
    if (!p->workload)
        cmdstat_bytes(&t->stats[0], second_of(t, now), 0, n * p->req_len);
    c->inflight += (uint32_t)n;
    t->inflight += n;
    if (p->rate > 0) {
        c->backlog -= n;
        t->backlog -= n;
    }
    if (t->budget != UINT64_MAX)
        t->budget -= n;
    if (!p->workload)
        c->wpend += n * p->req_len;
    if (!c->want_out)
        flush(t, c, now);
}

static void start_connect(struct bench_thread *t, struct bench_conn *c, uint64_t now)
{
    int fd = net_connect_start(&t->plan->addr);
    if (fd < 0) {
        c->state = DOWN;
        conn_fail(t, c, kind_of(-fd), now);
        return;
    }
    net_nodelay(fd);
    c->fd = fd;
    c->state = CONNECTING;
    c->connect_t = now;
    c->issued = 0;
    c->close_at = 0;
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = c->index};
    epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
    c->deadline = now + t->plan->timeout_ns;
    arm(t, c->deadline);
}

static void connected(struct bench_thread *t, struct bench_conn *c, uint64_t now)
{
    int err = net_connect_result(c->fd);
    if (err) {
        conn_fail(t, c, kind_of(-err), now);
        return;
    }
    c->state = UP;
    c->want_out = 0;
    if (!c->ever_up) {
        c->ever_up = 1;
        t->never_up--;
    }
    t->connects++;
    histogram_record(t->connect_hist, now > c->connect_t ? now - c->connect_t : 0);
    if (t->plan->conn_life_ns) {
        /* duration +- jitter/2, as redis-benchmark's proposed --connection-duration-jitter */
        uint64_t j = t->plan->conn_jitter_ns;
        uint64_t r = j ? (uint64_t)((double)j * ((double)(rand_r(&t->seed) % 10001) / 10000.0)) : 0;
        c->close_at = now + t->plan->conn_life_ns - j / 2 + r;
        arm(t, c->close_at);
    }
    set_events(t, c, EPOLLIN);
    issue(t, c, now);
}

/* Counts an error, drops what was in flight, closes, and schedules a reconnect unless the
 * connection has failed for --timeout without a single reply: then it gives up. */
static void conn_fail(struct bench_thread *t, struct bench_conn *c, enum report_error kind,
                      uint64_t now)
{
    t->local.errors[kind]++;
    t->lost += c->inflight;
    t->inflight -= c->inflight;
    c->inflight = c->head = 0;
    c->wpend = c->woff = c->line_bytes = 0;
    c->olen = c->ooff = 0;
    replies_init(&c->rp, (enum replies_protocol)t->plan->protocol);
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from the epoll set */
        c->fd = -1;
    }
    if (!c->failing_since)
        c->failing_since = now;
    if (now - c->failing_since >= t->plan->timeout_ns) {
        c->state = DEAD;
        t->alive--;
        t->unsent += c->backlog;
        t->backlog -= c->backlog;
        c->backlog = 0;
        return;
    }
    c->state = DOWN;
    c->backoff =
        c->backoff ? (c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : c->backoff * 2) : BACKOFF_FIRST;
    c->deadline = now + c->backoff;
    arm(t, c->deadline);
}

/* The oldest request in flight on c got its reply of `bytes` bytes. */
static void complete(struct bench_thread *t, struct bench_conn *c, uint64_t now, uint64_t sec,
                     uint64_t bytes, int miss)
{
    uint64_t start = c->ring[c->head], sent = c->sent[c->head];
    struct cmdstat *st = &t->stats[t->plan->workload ? c->word[c->head] : 0];
    if (c->warm_left) {
        c->warm_left--; /* sent in the warm-up: its latency belongs to neither window */
    } else {
        cmdstat_record(st, sec, now > start ? now - start : 0, now > sent ? now - sent : 0);
        cmdstat_bytes(st, sec, bytes, 0);
        st->misses += (uint64_t)miss;
        t->local.ok++;
    }
    c->head = c->head + 1 == t->plan->pipeline ? 0 : c->head + 1;
    c->inflight--;
    t->inflight--;
    c->failing_since = 0;
    c->backoff = 0;
}

/* Completes one request per reply in buf: per '\n' for line servers (memchr, the fast path),
 * through the reply framer for RESP and memcached; each reply's bytes go to its command. */
static void count_replies(struct bench_thread *t, struct bench_conn *c, const char *buf, size_t n,
                          uint64_t now)
{
    const char *p = buf, *from = buf, *end = buf + n;
    uint64_t sec = second_of(t, now);
    int framed = t->plan->protocol != REPLIES_LINE;
    while (p < end) {
        int done = 0, miss = 0;
        if (framed) {
            p += replies_feed(&c->rp, p, (size_t)(end - p), &done, &miss);
        } else if ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            p++;
            done = 1;
        } else {
            p = end;
        }
        if (!done)
            break;
        uint64_t bytes = c->line_bytes + (uint64_t)(p - from);
        from = p;
        c->line_bytes = 0;
        if (c->inflight == 0)
            t->extra++; /* a reply nobody asked for: not a request */
        else
            complete(t, c, now, sec, bytes, miss);
    }
    c->line_bytes += (uint64_t)(end - from);
}

static void on_readable(struct bench_thread *t, struct bench_conn *c, uint64_t now)
{
    for (;;) {
        ssize_t r = recv(c->fd, t->rbuf, READ_BUF, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                conn_fail(t, c, kind_of(errno), now);
            break;
        }
        if (r == 0) {
            conn_fail(t, c, REPORT_CLOSED, now);
            return;
        }
        t->local.bytes_in += (uint64_t)r;
        count_replies(t, c, t->rbuf, (size_t)r, now);
        if (r < READ_BUF)
            break; /* drained: saves the recv that would say EAGAIN */
    }
    if (c->state != UP)
        return;
    c->deadline = now + t->plan->timeout_ns; /* progress: the timeout starts over */
    issue(t, c, now);
}

static void on_event(struct bench_thread *t, uint32_t tag, uint32_t events, uint64_t now)
{
    if (tag == WAKE_TAG)
        return; /* only there to end the wait; the loop checks plan->stop */
    struct bench_conn *c = &t->conns[tag];
    if (c->state == CONNECTING) {
        connected(t, c, now);
        return;
    }
    if (c->state != UP)
        return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(t, c, now);
    if (c->state == UP && (events & EPOLLOUT) && c->wpend)
        flush(t, c, now);
}

/* Runs expired deadlines (timeouts, reconnects) and finds the next one. */
static void sweep(struct bench_thread *t, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < t->nconns; i++) {
        struct bench_conn *c = &t->conns[i];
        if (c->state == UP && c->close_at && c->close_at <= now && !c->inflight)
            maybe_recycle(t, c, now);
        else if (c->state == UP && c->close_at > now && c->close_at < next)
            next = c->close_at;
        int timed = c->state == CONNECTING || (c->state == UP && c->inflight) || c->state == DOWN;
        if (!timed)
            continue;
        if (c->deadline <= now) {
            if (c->state == DOWN)
                start_connect(t, c, now);
            else
                conn_fail(t, c, REPORT_TIMEOUT, now);
            timed = c->state != DEAD && (c->state != UP || c->inflight);
        }
        if (timed && c->deadline < next)
            next = c->deadline;
    }
    t->next_sweep = next;
}

/* Open loop: makes every request whose intended time has come due on its connection. */
static void schedule(struct bench_thread *t, uint64_t now)
{
    while (t->sched_left) {
        struct bench_conn *c = &t->conns[t->sched_k % t->nconns];
        uint64_t when = intended(t, c, c->due);
        if (when > now)
            return;
        t->sched_k++;
        t->sched_left--;
        c->due++; /* even when given up, so every slot keeps its place in the schedule */
        if (c->state == DEAD) {
            t->unsent++;
            continue;
        }
        c->backlog++;
        t->backlog++;
        if (c->state == UP)
            issue(t, c, now);
    }
}

static uint64_t next_wake(const struct bench_thread *t)
{
    uint64_t next = t->next_sweep < t->plan->t_end ? t->next_sweep : t->plan->t_end;
    if (t->warming && t->plan->t_measure < next)
        next = t->plan->t_measure;
    if (t->plan->rate > 0 && t->sched_left) {
        const struct bench_conn *c = &t->conns[t->sched_k % t->nconns];
        uint64_t due = intended(t, c, c->due);
        if (due < next)
            next = due;
    }
    return next;
}

/* The end of the warm-up: statistics and counters start over, the open-loop schedule starts
 * again from now, so no backlog of the warm-up is carried into the measured window. */
static void end_warmup(struct bench_thread *t)
{
    const struct bench_plan *p = t->plan;
    t->warming = 0;
    t->t0 = p->t_measure;
    for (unsigned k = 0; k < p->ncmds; k++) {
        cmdstat_free(&t->stats[k]);
        if (cmdstat_init(&t->stats[k], p->rate > 0))
            t->failed = ENOMEM; /* reported after join */
    }
    t->base = t->local; /* connects and their latency keep counting: warm-up connects are real */
    t->base_lost = t->lost;
    t->base_unsent = t->unsent;
    t->base_extra = t->extra;
    t->budget = t->budget_init;
    t->sched_left = t->sched_init;
    t->sched_k = 0;
    t->backlog = 0;
    for (unsigned i = 0; i < t->nconns; i++) {
        struct bench_conn *c = &t->conns[i];
        c->warm_left = c->inflight;
        c->due = c->backlog = 0;
    }
}

static int finished(const struct bench_thread *t, uint64_t now)
{
    if (now >= t->plan->t_end || t->alive == 0 ||
        atomic_load_explicit(&t->plan->stop, memory_order_relaxed))
        return 1;
    /* -n: everything issued and answered, timed out or lost */
    int issued_all = t->plan->rate > 0 ? t->sched_left == 0 && t->backlog == 0 : t->budget == 0;
    return issued_all && t->inflight == 0;
}

static void publish(struct bench_thread *t)
{
    atomic_store_explicit(&t->pub.ok, t->local.ok, memory_order_relaxed);
    atomic_store_explicit(&t->pub.bytes_out, t->local.bytes_out, memory_order_relaxed);
    atomic_store_explicit(&t->pub.bytes_in, t->local.bytes_in, memory_order_relaxed);
    for (int k = 0; k < REPORT_ERROR_KINDS; k++)
        atomic_store_explicit(&t->pub.errors[k], t->local.errors[k], memory_order_relaxed);
}

static void wait_events(struct bench_thread *t, struct epoll_event *evs)
{
    uint64_t now = monotonic_ns(), wake = next_wake(t);
    uint64_t ns = wake > now ? wake - now : 0;
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    int n = epoll_pwait2(t->epfd, evs, MAX_EVENTS, wake == UINT64_MAX ? NULL : &ts, NULL);
    now = monotonic_ns();
    for (int i = 0; i < n; i++)
        on_event(t, evs[i].data.u32, evs[i].events, now);
    if (now >= t->next_sweep)
        sweep(t, now);
    if (t->plan->rate > 0)
        schedule(t, now);
}

void *bench_thread_main(void *arg)
{
    struct bench_thread *t = arg;
    struct epoll_event evs[MAX_EVENTS];
    uint64_t now = monotonic_ns();
    for (unsigned i = 0; i < t->nconns; i++)
        start_connect(t, &t->conns[i], now);
    while (!finished(t, monotonic_ns())) {
        if (t->warming && monotonic_ns() >= t->plan->t_measure)
            end_warmup(t);
        wait_events(t, evs);
        publish(t);
    }
    t->t_done = monotonic_ns();
    t->unsent += t->backlog;
    for (unsigned k = 0; k < t->plan->ncmds; k++)
        cmdstat_finish(&t->stats[k]);
    for (unsigned i = 0; i < t->nconns; i++) {
        if (t->conns[i].fd >= 0)
            close(t->conns[i].fd);
        t->conns[i].fd = -1;
    }
    publish(t);
    uint64_t one = 1;
    if (write(t->donefd, &one, sizeof one) < 0) {
        /* the main thread also wakes every second and checks; nothing to do */
    }
    return NULL;
}

int bench_thread_init(struct bench_thread *t, struct bench_plan *plan, unsigned nconns, int donefd)
{
    t->plan = plan;
    t->nconns = t->alive = t->never_up = nconns;
    t->donefd = donefd;
    t->next_sweep = UINT64_MAX;
    t->epfd = t->wakefd = -1;
    t->conns = calloc(nconns, sizeof *t->conns);
    t->rings = calloc(2 * (size_t)nconns * plan->pipeline, sizeof *t->rings);
    t->rbuf = malloc(READ_BUF);
    t->stats = calloc(plan->ncmds, sizeof *t->stats);
    t->connect_hist = malloc(sizeof *t->connect_hist);
    if (t->connect_hist)
        histogram_reset(t->connect_hist);
    t->words = calloc((size_t)nconns * plan->pipeline, sizeof *t->words);
    if (!t->conns || !t->rings || !t->rbuf || !t->stats || !t->words || !t->connect_hist)
        return -ENOMEM;
    for (unsigned k = 0; k < plan->ncmds; k++)
        if (cmdstat_init(&t->stats[k], plan->rate > 0))
            return -ENOMEM;
    for (unsigned i = 0; i < nconns; i++) {
        t->conns[i].fd = -1;
        t->conns[i].index = i;
        t->conns[i].ring = t->rings + 2 * (size_t)i * plan->pipeline;
        t->conns[i].sent = t->conns[i].ring + plan->pipeline;
        t->conns[i].word = t->words + (size_t)i * plan->pipeline;
        replies_init(&t->conns[i].rp, (enum replies_protocol)plan->protocol);
    }
    if ((t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (t->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_TAG};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &ev) < 0)
        return -errno;
    return 0;
}

void bench_thread_free(struct bench_thread *t)
{
    if (t->epfd >= 0)
        close(t->epfd);
    if (t->wakefd >= 0)
        close(t->wakefd);
    for (unsigned i = 0; t->conns && i < t->nconns; i++)
        free(t->conns[i].obuf);
    free(t->conns);
    free(t->rings);
    free(t->words);
    free(t->connect_hist);
    free(t->rbuf);
    for (unsigned k = 0; t->stats && k < t->plan->ncmds; k++)
        cmdstat_free(&t->stats[k]);
    free(t->stats);
}

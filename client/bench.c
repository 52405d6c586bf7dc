/* bench - the load test's main thread: plans the run, starts one worker per thread, prints a
 * progress line every second, merges the workers' histograms and counters, reports. */
#include "bench.h"

#include "bench_out.h"
#include "commands.h"
#include "fmt.h"
#include "monotonic.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_MAX (1024 * 1024) /* beyond this, batches take more than one send */
#define SECOND      1000000000ull

struct run {
    const struct client_opts *o;
    struct bench_plan plan;
    char *pattern;
    struct bench_thread *threads;
    unsigned nthreads;
    unsigned inited;  /* threads prepared by bench_thread_init, to free */
    unsigned started; /* threads running, to join */
    int donefd, sigfd;
    FILE *json, *csv;
    struct report_second *series;
    size_t nseries, capseries;
    struct report_counts last; /* totals at the previous series row */
    uint64_t last_t;
    struct cmdstat *merged;               /* per command word, over all threads; after join */
    struct histogram *all[CMDSTAT_KINDS]; /* every command together */
    struct cmdstat totals;                /* the same with its seconds, for the files */
    struct histogram *connect_hist;       /* connect latency over all threads */
    uint64_t wall_start_ms;               /* CLOCK_REALTIME at plan.t_start */
    char word[64];                        /* the command word of --message */
    unsigned conn_base, conn_total;       /* --segment: our first connection, all of them */
    int populate;                         /* the unmeasured pass that fills the key space */
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int build_pattern(struct run *r)
{
    const struct client_opts *o = r->o;
    size_t len = o->message ? strlen(o->message) + 1 : (size_t)o->size;
    size_t copies = PATTERN_MAX / len;
    if (copies > o->pipeline + 1u)
        copies = o->pipeline + 1u;
    if (copies < 2)
        copies = 2;
    if (!(r->pattern = malloc(copies * len)))
        return -ENOMEM;
    for (size_t i = 0; i < copies; i++) {
        char *req = r->pattern + i * len;
        if (o->message)
            memcpy(req, o->message, len - 1);
        else
            memset(req, 'X', len - 1);
        req[len - 1] = '\n';
    }
    r->plan.pattern = r->pattern;
    r->plan.req_len = len;
    r->plan.pattern_len = copies * len;
    return 0;
}

/* The share of total that falls to connections [from, from + n) of conns, so shares add up. */
static uint64_t share(uint64_t total, unsigned from, unsigned n, unsigned conns)
{
    unsigned __int128 hi = (unsigned __int128)total * (from + n) / conns;
    unsigned __int128 lo = (unsigned __int128)total * from / conns;
    return (uint64_t)(hi - lo);
}

static int start_threads(struct run *r)
{
    const struct client_opts *o = r->o;
    unsigned from = 0;
    for (unsigned i = 0; i < r->nthreads; i++) {
        struct bench_thread *t = &r->threads[i];
        unsigned n = o->conns / r->nthreads + (i < o->conns % r->nthreads);
        int rc = bench_thread_init(t, &r->plan, n, r->donefd);
        r->inited = i + 1;
        if (rc)
            return rc;
        uint64_t mine = o->requests ? share(o->requests, from, n, o->conns) : UINT64_MAX;
        if (r->plan.workload) {
            workload_gen_init(&t->gen, r->plan.workload, (uint64_t)i + 1 + r->conn_base * 7919u,
                              r->conn_base + from, n, r->conn_total);
            if (r->populate) /* each key of this worker's share exactly once */
                mine = t->gen.seq_hi - t->gen.seq_lo;
        }
        t->budget = t->budget_init = o->rate > 0 ? UINT64_MAX : mine;
        t->sched_left = t->sched_init = o->rate > 0 ? mine : 0;
        t->seed = (unsigned)(i * 2654435761u + r->conn_base);
        if (o->warmup > 0) { /* -n counts the measured window: unlimited until then */
            t->warming = 1;
            t->budget = UINT64_MAX;
            t->sched_left = o->rate > 0 ? UINT64_MAX : 0;
        }
        t->interval_ns = o->rate > 0 ? 1e9 * o->conns / (o->rate * n) : 0;
        from += n;
    }
    r->plan.t_start = monotonic_ns();
    r->plan.t_measure = r->plan.t_start + (uint64_t)(o->warmup * 1e9);
    r->wall_start_ms = wall_ms() + (uint64_t)(o->warmup * 1000.0 + 0.5);
    r->plan.t_end =
        o->duration > 0 ? r->plan.t_measure + (uint64_t)(o->duration * 1e9) : UINT64_MAX;
    for (unsigned i = 0; i < r->nthreads; i++)
        r->threads[i].t0 = r->plan.t_start;
    for (unsigned i = 0; i < r->nthreads; i++) {
        int rc = pthread_create(&r->threads[i].tid, NULL, bench_thread_main, &r->threads[i]);
        if (rc)
            return -rc;
        r->started = i + 1;
    }
    return 0;
}

static void sum_published(const struct run *r, struct report_counts *c)
{
    memset(c, 0, sizeof *c);
    for (unsigned i = 0; i < r->nthreads; i++) {
        const struct bench_pub *p = &r->threads[i].pub;
        c->ok += atomic_load_explicit(&p->ok, memory_order_relaxed);
        c->bytes_out += atomic_load_explicit(&p->bytes_out, memory_order_relaxed);
        c->bytes_in += atomic_load_explicit(&p->bytes_in, memory_order_relaxed);
        for (int k = 0; k < REPORT_ERROR_KINDS; k++)
            c->errors[k] += atomic_load_explicit(&p->errors[k], memory_order_relaxed);
    }
}

/* Appends the interval since the last row. Returns the row, or NULL when out of memory. */
static struct report_second *add_row(struct run *r, const struct report_counts *now_c, uint64_t t)
{
    if (r->nseries == r->capseries) {
        size_t cap = r->capseries ? 2 * r->capseries : 64;
        struct report_second *grown = realloc(r->series, cap * sizeof *grown);
        if (!grown)
            return NULL;
        r->series = grown;
        r->capseries = cap;
    }
    struct report_second *s = &r->series[r->nseries++];
    s->t = (double)(t - r->plan.t_measure) / 1e9;
    s->dt = (double)(t - r->last_t) / 1e9;
    s->c.ok = now_c->ok - r->last.ok;
    s->c.bytes_out = now_c->bytes_out - r->last.bytes_out;
    s->c.bytes_in = now_c->bytes_in - r->last.bytes_in;
    for (int k = 0; k < REPORT_ERROR_KINDS; k++)
        s->c.errors[k] = now_c->errors[k] - r->last.errors[k];
    r->last = *now_c;
    r->last_t = t;
    return s;
}

static void stop_workers(struct run *r)
{
    atomic_store_explicit(&r->plan.stop, 1, memory_order_relaxed);
    uint64_t one = 1;
    for (unsigned i = 0; i < r->started; i++) {
        if (write(r->threads[i].wakefd, &one, sizeof one) < 0) {
            /* an eventfd write fails only on overflow, which still leaves it readable */
        }
    }
}

/* Main thread while the workers run: a progress row every second, until all are done. */
static void watch(struct run *r)
{
    unsigned done = 0;
    uint64_t next_tick = r->plan.t_start + SECOND;
    int warm = r->plan.t_measure > r->plan.t_start;
    r->last_t = r->plan.t_start;
    while (done < r->nthreads) {
        uint64_t now = monotonic_ns(),
                 wake = warm && r->plan.t_measure < next_tick ? r->plan.t_measure : next_tick;
        int ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
        struct pollfd pf[2] = {{.fd = r->donefd, .events = POLLIN},
                               {.fd = r->sigfd, .events = POLLIN}};
        int n = poll(pf, r->sigfd >= 0 ? 2 : 1, ms);
        uint64_t v;
        if (n > 0 && (pf[0].revents & POLLIN) && read(r->donefd, &v, sizeof v) == sizeof v)
            done += (unsigned)v;
        struct signalfd_siginfo si;
        if (n > 0 && r->sigfd >= 0 && (pf[1].revents & POLLIN) &&
            read(r->sigfd, &si, sizeof si) == sizeof si)
            stop_workers(r); /* Ctrl-C: end early, still report */
        now = monotonic_ns();
        if (warm && now >= r->plan.t_measure) {
            /* the measured window starts: the series starts over from here */
            warm = 0;
            sum_published(r, &r->last);
            r->last_t = r->plan.t_measure;
            r->nseries = 0;
            next_tick = r->plan.t_measure + SECOND;
            if (!r->o->quiet)
                fprintf(stderr, "warm-up done after %g s: measuring\n", r->o->warmup);
            continue;
        }
        if (now < next_tick || done == r->nthreads)
            continue;
        struct report_counts c;
        sum_published(r, &c);
        struct report_second *s = add_row(r, &c, next_tick);
        next_tick += SECOND;
        if (s && !r->o->quiet) {
            char line[200];
            report_progress(line, sizeof line, s);
            fprintf(stderr, "%s%s\n", warm ? "Warming up " : "", line);
        }
        if (s && warm)
            r->nseries--; /* warm-up rows are shown, not kept */
    }
}

/* Closes the series with the exact totals, so its rows add up to the report: a new row for
 * the last partial second, or, when that is under 10 ms, folded into the previous row (a
 * 1 ms row would show absurd rates). */
static void fold_last_row(struct run *r, const struct report_counts *total, uint64_t t_done)
{
    if (t_done < r->last_t)
        t_done = r->last_t;
    if (r->nseries == 0 || t_done >= r->last_t + SECOND / 100) {
        add_row(r, total, t_done);
        return;
    }
    struct report_second *s = &r->series[r->nseries - 1];
    s->c.ok += total->ok - r->last.ok;
    s->c.bytes_out += total->bytes_out - r->last.bytes_out;
    s->c.bytes_in += total->bytes_in - r->last.bytes_in;
    for (int k = 0; k < REPORT_ERROR_KINDS; k++)
        s->c.errors[k] += total->errors[k] - r->last.errors[k];
    s->dt += (double)(t_done - r->last_t) / 1e9;
    s->t = (double)(t_done - r->plan.t_measure) / 1e9;
    r->last = *total;
    r->last_t = t_done;
}

/* The template texts to show: --populate's in the populate pass. */
static const char **populate_or(const struct run *r, const char **templates,
                                const struct client_opts *o)
{
    if (r->populate)
        templates[0] = o->populate;
    return templates;
}

/* After join: the workers' statistics per command word, and every command together. */
static int merge_stats(struct run *r)
{
    unsigned n = r->plan.ncmds;
    if (!(r->merged = calloc(n, sizeof *r->merged)))
        return -ENOMEM;
    for (int k = 0; k < CMDSTAT_KINDS; k++) {
        if (!(r->all[k] = malloc(sizeof *r->all[k])))
            return -ENOMEM;
        histogram_reset(r->all[k]);
    }
    if (cmdstat_init(&r->totals, r->plan.rate > 0))
        return -ENOMEM;
    for (unsigned c = 0; c < n; c++) {
        if (cmdstat_init(&r->merged[c], r->plan.rate > 0))
            return -ENOMEM;
        for (unsigned i = 0; i < r->nthreads; i++)
            if (cmdstat_merge(&r->merged[c], &r->threads[i].stats[c]))
                return -ENOMEM;
        for (int k = 0; k < CMDSTAT_KINDS; k++)
            histogram_merge(r->all[k], r->merged[c].whole[k]);
        if (cmdstat_merge(&r->totals, &r->merged[c]))
            return -ENOMEM;
    }
    return 0;
}

/* The command word of --message ("GET" of "GET k"); "request" for --size requests. */
static void first_word(char *buf, size_t len, const char *message)
{
    size_t n = 0;
    if (message)
        while (message[n] && message[n] != ' ' && message[n] != '\r' && n + 1 < len)
            n++;
    if (n == 0)
        snprintf(buf, len, "request");
    else
        snprintf(buf, len, "%.*s", (int)n, message);
}

/* --json-out-file, --hdr-file-prefix, --hlog. Returns 0 or -1 after a line on stderr. */
static int write_files(struct run *r, const struct report *rep)
{
    const struct client_opts *o = r->o;
    if (!o->json_out_path && !o->hdr_prefix && !o->hlog_path)
        return 0;
    first_word(r->word, sizeof r->word, o->message);
    const struct workload *w = r->plan.workload;
    const char *words[WORKLOAD_MAX_COMMANDS] = {r->word};
    char ratio[WORKLOAD_MAX_COMMANDS * 12] = "1:0", pattern[4] = "R:R";
    if (w) {
        size_t n = 0;
        for (unsigned i = 0; i < w->nwords; i++)
            words[i] = w->words[i];
        for (unsigned i = 0; i < w->ncmds && n + 12 < sizeof ratio; i++)
            n += (size_t)snprintf(ratio + n, sizeof ratio - n, "%s%u", i ? ":" : "",
                                  w->cmds[i].weight);
        snprintf(pattern, sizeof pattern, "%c:%c", w->pattern, w->pattern);
    }
    struct memtier_run m = {
        .cfg = {.server = o->host,
                .port = o->port,
                .protocol = o->protocol == 1   ? "redis"
                            : o->protocol == 2 ? "memcache_text"
                                               : "inline",
                .conns = o->conns,
                .threads = r->nthreads,
                .pipeline = o->pipeline,
                .test_time = o->duration,
                .requests = o->requests,
                .rate = o->rate,
                .ratio = ratio,
                .data_size = w ? w->data_size : r->plan.req_len,
                .key_prefix = w ? w->key_prefix : "",
                .key_pattern = pattern,
                .key_minimum = w ? w->key_min : 0,
                .key_maximum = w ? w->key_max : 0,
                .warmup = o->warmup,
                .reconnect_interval = o->reconnect_interval,
                .connection_duration_ms = (uint64_t)(o->conn_duration * 1000 + 0.5)},
        .start_ms = r->wall_start_ms,
        .finish_ms = r->wall_start_ms + (uint64_t)(rep->elapsed * 1000.0 + 0.5),
        .interrupted = atomic_load_explicit(&r->plan.stop, memory_order_relaxed) != 0,
        .ncmds = r->plan.ncmds,
        .words = words,
        .cmds = r->merged,
        .totals = &r->totals,
        .errors = report_errors_total(&rep->total),
        .connects = rep->connects,
        .connect_latency = rep->connect_latency,
    };
    m.nseconds = (size_t)(rep->elapsed + 0.999);
    if (r->totals.nsecs > m.nseconds)
        m.nseconds = r->totals.nsecs;
    int rc = 0;
    if (o->json_out_path && bench_out_json(o->json_out_path, &m))
        rc = -1;
    if (o->hdr_prefix && bench_out_hgrm(o->hdr_prefix, &m))
        rc = -1;
    if (o->hlog_path && bench_out_hlog(o->hlog_path, &m))
        rc = -1;
    return rc;
}

/* After join: exact totals (the warm-up's taken off), merged histograms, the last series row. */
static void collect(struct run *r, struct report *rep)
{
    uint64_t t_done = r->plan.t_measure;
    struct report_counts raw = {0}; /* as published, warm-up included: what the rows add up to */
    for (unsigned i = 0; i < r->nthreads; i++) {
        const struct bench_thread *t = &r->threads[i];
        raw.ok += t->local.ok;
        raw.bytes_out += t->local.bytes_out;
        raw.bytes_in += t->local.bytes_in;
        rep->total.ok += t->local.ok - t->base.ok;
        rep->total.bytes_out += t->local.bytes_out - t->base.bytes_out;
        rep->total.bytes_in += t->local.bytes_in - t->base.bytes_in;
        for (int k = 0; k < REPORT_ERROR_KINDS; k++) {
            raw.errors[k] += t->local.errors[k];
            rep->total.errors[k] += t->local.errors[k] - t->base.errors[k];
        }
        rep->lost += t->lost - t->base_lost;
        rep->unsent += t->unsent - t->base_unsent;
        rep->connects += t->connects - t->base_connects;
        rep->never_up += t->never_up;
        rep->extra += t->extra - t->base_extra;
        rep->planned += t->planned;
        histogram_merge(r->connect_hist, t->connect_hist);
        if (t->t_done > t_done)
            t_done = t->t_done;
    }
    rep->elapsed = (double)(t_done - r->plan.t_measure) / 1e9;
    fold_last_row(r, &raw, t_done);
    rep->latency = r->all[CMDSTAT_CORRECTED];
    rep->latency_actual = r->plan.rate > 0 ? r->all[CMDSTAT_UNCORRECTED] : NULL;
    rep->connect_latency = r->connect_hist;
    rep->series = r->series;
    rep->nseries = r->nseries;
}

static int finish(struct run *r)
{
    const struct client_opts *o = r->o;
    int failed = 0;
    for (unsigned i = 0; i < r->nthreads; i++)
        failed |= r->threads[i].failed;
    if (failed || merge_stats(r) || !(r->connect_hist = malloc(sizeof *r->connect_hist))) {
        fprintf(stderr, "linepool-client: out of memory\n");
        return 2;
    }
    histogram_reset(r->connect_hist);
    struct report rep = {.target = r->plan.addr.text,
                         .conns = o->conns,
                         .threads = r->nthreads,
                         .pipeline = o->pipeline,
                         .rate = o->rate,
                         .duration = o->duration,
                         .requests_cfg = o->requests,
                         .message = o->message,
                         .request_len = r->plan.req_len,
                         .timeout = o->timeout};
    const struct workload *w = r->plan.workload;
    const char *templates[WORKLOAD_MAX_COMMANDS], *words[WORKLOAD_MAX_COMMANDS];
    for (unsigned i = 0; w && i < w->ncmds; i++)
        templates[i] = i < o->ncommands ? o->commands[i] : "(from --commands-file)";
    for (unsigned i = 0; w && i < w->nwords; i++)
        words[i] = w->words[i];
    if (w) {
        rep.templates = populate_or(r, templates, o);
        rep.ntemplates = w->ncmds;
        rep.words = words;
        rep.word_stats = r->merged;
        rep.nwords = w->nwords;
    }
    collect(r, &rep);
    if (r->populate) {
        char a[32], b[32], c[32];
        printf("populate: %s requests ok in %.2f s (%s req/s), errors %llu, %s lost\n",
               fmt_thousands(a, sizeof a, rep.total.ok), rep.elapsed,
               fmt_thousands(b, sizeof b,
                             (uint64_t)(rep.elapsed > 0 ? (double)rep.total.ok / rep.elapsed : 0)),
               (unsigned long long)report_errors_total(&rep.total),
               fmt_thousands(c, sizeof c, rep.lost));
        return rep.total.ok > 0 ? 0 : 1;
    }
    report_text(stdout, &rep);
    if (r->json) {
        report_json(r->json, &rep);
        fflush(r->json);
    }
    if (r->csv) {
        report_csv(r->csv, &rep);
        fflush(r->csv);
    }
    if (write_files(r, &rep))
        return 2;
    if (rep.total.ok > 0)
        return 0;
    fprintf(stderr, "linepool-client: bench failed: no request got a reply%s\n",
            rep.never_up == o->conns ? " (no connection could be established)" : "");
    return 1;
}

/* Each connection is a descriptor: raise the soft limit toward the hard one so -c 10000 works
 * without a ulimit dance, and say so up front when even the hard limit is too low. */
static void fit_fd_limit(unsigned conns, unsigned threads)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)conns + 3u * threads + 32u; /* epoll, eventfds, stdio, outputs */
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        fprintf(stderr,
                "linepool-client: warning: the open-file limit (%llu) is below what %u "
                "connections need; the rest count as 'other' errors\n",
                (unsigned long long)rl.rlim_cur, conns);
}

static FILE *open_output(const char *path)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (path && !f)
        fprintf(stderr, "linepool-client: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

/* SIGINT/SIGTERM go to a signalfd the main thread polls; blocked before the workers start so
 * they inherit the mask and never take them. */
static int take_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void cleanup(struct run *r)
{
    for (unsigned i = 0; i < r->inited; i++)
        bench_thread_free(&r->threads[i]);
    free(r->threads);
    free(r->pattern);
    free(r->series);
    for (unsigned c = 0; r->merged && c < r->plan.ncmds; c++)
        cmdstat_free(&r->merged[c]);
    free(r->merged);
    cmdstat_free(&r->totals);
    free(r->connect_hist);
    for (int k = 0; k < CMDSTAT_KINDS; k++)
        free(r->all[k]);
    if (r->json)
        fclose(r->json);
    if (r->csv)
        fclose(r->csv);
    if (r->donefd >= 0)
        close(r->donefd);
    if (r->sigfd >= 0)
        close(r->sigfd);
}

/* --segment i/N: this instance's share of the connections, and as much of the rate and of
 * -n as its connections are of all of them, so N instances add up to the whole test. */
static void take_segment(struct client_opts *eff, unsigned *base, unsigned *total)
{
    *base = 0;
    *total = eff->conns;
    if (!eff->seg_n)
        return;
    unsigned all = eff->conns, from = (unsigned)share(all, 0, eff->seg_i - 1, eff->seg_n);
    unsigned mine = (unsigned)share(all, eff->seg_i - 1, 1, eff->seg_n);
    *base = from;
    eff->rate = eff->rate * mine / all;
    if (eff->requests)
        eff->requests = share(eff->requests, from, mine, all);
    eff->conns = mine;
    if (eff->threads > mine)
        eff->threads = mine;
}

/* --start-at: waits for the wall clock, still taking Ctrl-C. 0, or -1 when interrupted. */
static int wait_start(const struct client_opts *o, int sigfd)
{
    if (!o->start_at_ms)
        return 0;
    uint64_t now = wall_ms();
    if (now > o->start_at_ms) {
        fprintf(stderr,
                "linepool-client: warning: --start-at is %llu ms in the past; starting now\n",
                (unsigned long long)(now - o->start_at_ms));
        return 0;
    }
    while ((now = wall_ms()) < o->start_at_ms) {
        uint64_t left = o->start_at_ms - now;
        struct pollfd pf = {.fd = sigfd, .events = POLLIN};
        if (poll(&pf, sigfd >= 0 ? 1 : 0, left > 1000 ? 1000 : (int)left) > 0)
            return -1;
    }
    return 0;
}

/* One pass: the measured run, or (populate) the unmeasured fill of the key space. */
static int run_phase(const struct client_opts *o, const struct workload *w, unsigned base,
                     unsigned total, int populate)
{
    struct run r = {.o = o, .nthreads = o->threads, .donefd = -1, .sigfd = -1};
    char err[256];
    int status = 2, rc;
    r.conn_base = base;
    r.conn_total = total;
    r.populate = populate;
    r.plan.pipeline = o->pipeline;
    r.plan.workload = w;
    r.plan.protocol = o->protocol;
    r.plan.reconnect_interval = o->reconnect_interval;
    r.plan.conn_life_ns = (uint64_t)(o->conn_duration * 1e9);
    r.plan.conn_jitter_ns = (uint64_t)(o->conn_jitter * 1e9);
    r.plan.ncmds = w ? w->nwords : 1;
    r.plan.conns = o->conns;
    r.plan.rate = o->rate;
    r.plan.timeout_ns = (uint64_t)(o->timeout * 1e9);
    if (net_resolve(&r.plan.addr, o->host, o->port, err, sizeof err)) {
        fprintf(stderr, "linepool-client: %s\n", err);
        goto out;
    }
    r.json = open_output(o->json_path);
    r.csv = open_output(o->csv_path);
    if ((o->json_path && !r.json) || (o->csv_path && !r.csv))
        goto out;
    if ((!w && build_pattern(&r)) || !(r.threads = calloc(r.nthreads, sizeof *r.threads)) ||
        (r.donefd = eventfd(0, EFD_CLOEXEC)) < 0) {
        fprintf(stderr, "linepool-client: %s\n", strerror(errno ? errno : ENOMEM));
        goto out;
    }
    if (w)
        r.plan.req_len = w->max_len;
    fit_fd_limit(o->conns, r.nthreads);
    r.sigfd = take_signals();
    if (!populate && wait_start(o, r.sigfd)) {
        fprintf(stderr, "linepool-client: interrupted before --start-at\n");
        goto out;
    }
    if ((rc = start_threads(&r))) {
        fprintf(stderr, "linepool-client: cannot start the workers: %s\n", strerror(-rc));
        stop_workers(&r);
        for (unsigned i = 0; i < r.started; i++)
            pthread_join(r.threads[i].tid, NULL);
        goto out;
    }
    watch(&r);
    for (unsigned i = 0; i < r.nthreads; i++)
        pthread_join(r.threads[i].tid, NULL);
    status = finish(&r);
out:
    cleanup(&r);
    return status;
}

/* Reads --commands-file: "WEIGHT<TAB>TEMPLATE" or "TEMPLATE" lines, '#' comments. */
static int read_commands_file(struct workload *w, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "linepool-client: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int rc = 0;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *text = line, *tab = strchr(line, '\t'), *end;
        unsigned long weight = 1;
        if (tab) {
            *tab = '\0';
            weight = strtoul(line, &end, 10);
            if (*end || end == line || weight < 1 || weight > 1000000) {
                fprintf(stderr,
                        "linepool-client: %s:%u: expected WEIGHT<TAB>TEMPLATE with a "
                        "weight from 1 to 1000000\n",
                        path, lineno);
                rc = -1;
                break;
            }
            text = tab + 1;
        }
        char why[200];
        if (w->ncmds == WORKLOAD_MAX_COMMANDS) {
            fprintf(stderr, "linepool-client: %s: more than %d commands\n", path,
                    WORKLOAD_MAX_COMMANDS);
            rc = -1;
        } else if (template_parse(&w->cmds[w->ncmds], text, why, sizeof why)) {
            fprintf(stderr, "linepool-client: %s:%u: %s\n", path, lineno, why);
            template_free(&w->cmds[w->ncmds]);
            rc = -1;
        } else {
            w->cmds[w->ncmds++].weight = (unsigned)weight;
        }
    }
    free(line);
    fclose(f);
    if (!rc && w->ncmds == 0) {
        fprintf(stderr, "linepool-client: %s: no command in it\n", path);
        rc = -1;
    }
    return rc;
}

/* The workload of --command/--commands-file, or with populate that of --populate. NULL
 * after one line on stderr. */
static struct workload *build_workload(const struct client_opts *o, int populate)
{
    struct workload *w = calloc(1, sizeof *w);
    char why[200];
    if (!w) {
        fprintf(stderr, "linepool-client: out of memory\n");
        return NULL;
    }
    w->rand_range = o->rand_range;
    w->key_prefix = o->key_prefix;
    w->key_min = o->key_min;
    w->key_max = o->key_max;
    w->pattern = populate ? KEYS_SEQUENTIAL : o->key_pattern;
    w->key_median = o->key_median;
    w->key_stddev = o->key_stddev;
    w->zipf_exp = o->zipf_exp;
    w->data_size = (size_t)o->data_size;
    int rc = 0;
    if (populate) {
        rc = template_parse(&w->cmds[0], o->populate, why, sizeof why);
        w->ncmds = 1;
    } else {
        for (unsigned i = 0; i < o->ncommands && !rc; i++) {
            rc = template_parse(&w->cmds[i], o->commands[i], why, sizeof why);
            w->cmds[i].weight = o->command_weights[i];
            w->ncmds = i + 1;
        }
        if (!rc && o->commands_file && read_commands_file(w, o->commands_file))
            rc = -EINVAL, why[0] = '\0';
    }
    if (!rc)
        rc = workload_finish(w, why, sizeof why);
    if (rc) {
        if (why[0])
            fprintf(stderr, "linepool-client: %s\n", rc == -ENOMEM ? "out of memory" : why);
        workload_free(w);
        free(w);
        return NULL;
    }
    return w;
}

int cmd_bench(const struct client_opts *opts)
{
    struct client_opts eff = *opts; /* shallow: the strings stay opts' */
    unsigned base, total;
    take_segment(&eff, &base, &total);
    struct workload *w = NULL, *pw = NULL;
    int status = 2;
    if ((eff.ncommands || eff.commands_file) && !(w = build_workload(&eff, 0)))
        goto out;
    if (eff.populate) {
        if (!(pw = build_workload(&eff, 1)))
            goto out;
        struct client_opts pop = eff;
        unsigned __int128 range = (unsigned __int128)(eff.key_max - eff.key_min) + 1;
        pop.requests = (uint64_t)(range * (base + eff.conns) / total - range * base / total);
        pop.duration = 0;
        pop.rate = 0;
        pop.quiet = 1;
        pop.json_path = pop.csv_path = pop.json_out_path = pop.hdr_prefix = pop.hlog_path = NULL;
        if ((status = run_phase(&pop, pw, base, total, 1)))
            goto out;
    }
    status = run_phase(&eff, w, base, total, 0);
out:
    if (w)
        workload_free(w);
    if (pw)
        workload_free(pw);
    free(w);
    free(pw);
    return status;
}

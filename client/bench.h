/* bench - internals shared by bench.c (setup, progress, report: the main thread) and
 * bench_loop.c (one epoll loop per worker thread).
 *
 * Concurrency rules: a worker owns its connections, its histogram and its local counters;
 * nobody else touches them until it has been joined. It publishes copies of its counters in
 * `pub` with relaxed atomic stores, which the main thread reads for the progress line (a
 * slightly stale figure is fine there). The plan is immutable once workers start, except
 * `stop`, an atomic flag the main thread sets on SIGINT/SIGTERM before poking each worker's
 * eventfd. */
#ifndef LINEPOOL_CLIENT_BENCH_H
#define LINEPOOL_CLIENT_BENCH_H

#include "cmdstat.h"
#include "histogram.h"
#include "net.h"
#include "report.h"
#include "workload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct bench_plan {
    struct net_addr addr;
    const char *pattern; /* the request repeated: any window of it is a run of requests */
    size_t pattern_len;  /* a multiple of req_len, at least 2 requests */
    size_t req_len;
    unsigned pipeline;
    unsigned ncmds;                  /* command words with their own statistics */
    const struct workload *workload; /* --command: requests rendered per send; else NULL */
    int protocol;                    /* enum replies_protocol: where a reply ends */
    unsigned conns;                  /* in all threads */
    double rate;                     /* total requests/s; 0 = closed loop */
    uint64_t timeout_ns;
    uint64_t t_start;            /* monotonic_ns when the run starts (the warm-up, if any) */
    uint64_t t_measure;          /* when the measured window starts: t_start + --warmup */
    uint64_t reconnect_interval; /* requests per connection before a planned reconnect */
    uint64_t conn_life_ns, conn_jitter_ns; /* --connection-duration and its jitter */
    uint64_t t_end;                        /* UINT64_MAX without -d */
    atomic_int stop;
};

/* Counters a worker publishes for the progress line. */
struct bench_pub {
    atomic_uint_fast64_t ok, bytes_out, bytes_in;
    atomic_uint_fast64_t errors[REPORT_ERROR_KINDS];
};

struct bench_conn;

struct bench_thread {
    pthread_t tid;
    struct bench_plan *plan;
    struct bench_conn *conns;
    uint64_t *rings; /* nconns * pipeline start times */
    unsigned nconns;
    unsigned alive; /* connections not given up */
    int epfd;
    int wakefd;          /* eventfd: the main thread's "stop now" */
    int donefd;          /* the main thread's eventfd: written once when this worker ends */
    uint64_t budget;     /* closed loop: requests it may still issue; UINT64_MAX = no limit */
    uint64_t sched_left; /* open loop: requests it may still schedule */
    uint64_t sched_k;    /* open loop: requests scheduled so far */
    double interval_ns;  /* open loop: between two of this thread's requests */
    uint64_t inflight;   /* over all its connections */
    uint64_t backlog;    /* open loop: due, not yet sent, over all its connections */
    uint64_t next_sweep;
    uint64_t t_done;
    char *rbuf;
    struct report_counts local;
    uint64_t lost, unsent, connects, extra;
    unsigned never_up;
    struct cmdstat *stats;   /* one per command word (plan->ncmds), owned by the worker */
    struct workload_gen gen; /* --command: this worker's random state and key share */
    uint16_t *words;         /* nconns * pipeline: command word of each request in flight */
    struct bench_pub pub;
    int failed; /* setup error (errno) */
    /* --warmup: what the warm-up counted, taken off the totals; the schedule's origin */
    uint64_t t0; /* plan->t_start, then plan->t_measure */
    int warming;
    struct report_counts base;
    uint64_t base_lost, base_unsent, base_connects, base_extra, budget_init, sched_init;
    struct histogram *connect_hist; /* ns from connect() to connected, owned */
    uint64_t planned;               /* planned reconnects (churn), not errors */
    unsigned seed;                  /* rand_r state for the connection-duration jitter */
};

/* Prepares t for nconns connections (index base..): allocates, creates epoll and eventfd.
 * Returns 0 or a negative errno. Main thread, before the worker starts. */
int bench_thread_init(struct bench_thread *t, struct bench_plan *plan, unsigned nconns, int donefd);

/* The worker: runs until the end time, -n done, stop, or every connection gave up. */
void *bench_thread_main(void *arg);

/* Frees what bench_thread_init allocated. After join. */
void bench_thread_free(struct bench_thread *t);

#endif

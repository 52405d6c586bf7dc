/* report - the bench results as text, JSON and CSV, and the progress line. Pure: writes only
 * to the FILE it is given. */
#ifndef LINEPOOL_CLIENT_REPORT_H
#define LINEPOOL_CLIENT_REPORT_H

#include "cmdstat.h"
#include "histogram.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Connection errors by kind, listed once: a new kind is one line. */
#define REPORT_ERRORS(X)                                                                           \
    X(REFUSED, "refused") /* connect(2) refused: nothing listens */                                \
    X(RESET, "reset")     /* ECONNRESET or EPIPE while connected */                                \
    X(TIMEOUT, "timeout") /* no reply, or no connect, within --timeout */                          \
    X(CLOSED, "closed")   /* the server closed the connection */                                   \
    X(OTHER, "other")     /* anything else (EMFILE, EHOSTUNREACH, ...) */

enum report_error {
#define X(name, text) REPORT_##name,
    REPORT_ERRORS(X)
#undef X
        REPORT_ERROR_KINDS
};

extern const char *const report_error_names[REPORT_ERROR_KINDS];

/* Counters of a run or of one interval. */
struct report_counts {
    uint64_t ok; /* requests answered */
    uint64_t bytes_out;
    uint64_t bytes_in;
    uint64_t errors[REPORT_ERROR_KINDS];
};

/* One row of the per-second series: what happened in (t - dt, t]. */
struct report_second {
    double t;  /* seconds since the start */
    double dt; /* length of the interval (the last one may be short) */
    struct report_counts c;
};

struct report {
    /* the run as configured */
    const char *target; /* "127.0.0.1:5005" */
    unsigned conns, threads, pipeline;
    double rate;     /* 0 = closed loop */
    double duration; /* 0 = until -n */
    uint64_t requests_cfg;
    const char *message; /* NULL with --size */
    uint64_t request_len;
    double timeout;
    /* what happened */
    double elapsed;
    struct report_counts total;
    uint64_t lost;     /* in flight when their connection failed */
    uint64_t unsent;   /* open loop: due but never sent (connection down or given up) */
    uint64_t connects; /* successful connects, including reconnects */
    unsigned never_up; /* connections that never connected */
    uint64_t extra;    /* reply lines with no request in flight */
    const struct histogram *latency;         /* ns; open loop: from the intended send time */
    const struct histogram *latency_actual;  /* open loop: from the actual send time; else NULL */
    const struct histogram *connect_latency; /* ns from connect() to connected; NULL = none */
    uint64_t planned;                        /* planned reconnects (churn options) */
    const struct report_second *series;
    size_t nseries;
    /* --command: the templates, and statistics per command word */
    const char *const *templates;
    unsigned ntemplates;
    const char *const *words;
    const struct cmdstat *word_stats;
    unsigned nwords;
};

uint64_t report_errors_total(const struct report_counts *c);

/* The human-readable report. */
void report_text(FILE *out, const struct report *r);
/* The whole report as one JSON object. */
void report_json(FILE *out, const struct report *r);
/* The per-second series, one header line then one row per interval. */
void report_csv(FILE *out, const struct report *r);
/* "[  3.0s] 123,456 req/s  1.23 MB/s in  0.62 MB/s out  errors 0" into buf. */
void report_progress(char *buf, size_t len, const struct report_second *s);

#endif

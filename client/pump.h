/* pump - drives one connection for send and stream: writes a msgsrc as fast as the socket
 * takes it while reading whatever the server answers (so an echoing server can never block
 * us both), then optionally half-closes and keeps reading. Single-threaded, poll-based. */
#ifndef LINEPOOL_CLIENT_PUMP_H
#define LINEPOOL_CLIENT_PUMP_H

#include "msgsrc.h"

#include <stddef.h>
#include <stdint.h>

/* Receives answer bytes as they arrive. Return non-zero to stop reading. */
typedef int (*pump_sink)(void *ctx, const char *data, size_t n);

struct pump {
    /* in */
    int fd;             /* connected, non-blocking; not closed by pump_run */
    struct msgsrc *src; /* what to send */
    double timeout;     /* seconds without progress while sending; silence after it */
    int half_close;     /* shutdown(SHUT_WR) once everything is written */
    pump_sink sink;
    void *ctx;

    /* out */
    uint64_t bytes_out;
    uint64_t writes; /* successful write calls */
    uint64_t bytes_in;
    uint64_t t_start; /* monotonic_ns at pump_run */
    uint64_t t_sent;  /* when the last byte was written; 0 if it never was */
    int eof;          /* the server closed its side */
    int stopped;      /* the sink asked to stop */
    int error;        /* 0, or the negative errno that ended the connection */
    int stalled;      /* -ETIMEDOUT came while sending (not after) */
};

/* Runs until the sink stops, the server closes, an error, or timeout seconds of silence after
 * everything was sent. Returns 0 when everything was sent and no error came (a silent end is
 * not an error), else p->error. */
int pump_run(struct pump *p);

#endif

/* spread - how many workers the load needs, when the pool spreads by load
 * (pool_spread_by_load). A pure decision, taken by the pool's monitor once per window from
 * what it measured there, so it can be tested without threads or a clock.
 *
 * Why: connections spread over every worker while the load is light make each worker sleep
 * and wake for a few events, and a wake-up costs more than the events (measured on 2 cores,
 * echo, 50 connections: 11.7 µs of server CPU per request over two workers, 10.0 µs with
 * every connection on one). So the pool packs them on as few workers as keep up, and spreads
 * as soon as the active ones are busy and the machine has a core to spare, or as soon as
 * handlers block. */
#ifndef LINEPOOL_SPREAD_H
#define LINEPOOL_SPREAD_H

struct spread_window {
    unsigned width;    /* workers taking sources now, 1..nthreads */
    unsigned nthreads; /* workers in the pool */
    double busy;       /* summed over the active workers: fraction of the window each spent
                        * outside a blocking wait (running callbacks, or ready to) */
    double blocked;    /* summed over the active workers: the part of `busy` spent neither
                        * on a CPU nor waiting for one (a handler asleep or waiting on I/O) */
    double idle_cores; /* the machine's idle CPUs over the window; < 0 when unknown */
};

/* Grow when the active workers are this busy on average ... */
#define SPREAD_GROW_BUSY 0.75
/* ... and the machine has this much idle CPU to grow onto. */
#define SPREAD_GROW_IDLE_CORES 0.4
/* Every worker when the active ones spend this much time blocked in callbacks, in workers. */
#define SPREAD_BLOCKED 0.25
/* One fewer when the load would keep one fewer workers at most this busy. */
#define SPREAD_SHRINK_BUSY 0.5

/* The width this window's measurements ask for. */
unsigned spread_width(const struct spread_window *w);

/* Growing takes effect at once (a blocked or saturated worker should not wait); shrinking
 * only once asked for in SPREAD_SHRINK_WINDOWS windows in a row and SPREAD_HOLD_NS after the
 * last growth, so a load at the edge (or a worker preempted long enough to look stuck) does
 * not move every connection back and forth each window. */
#define SPREAD_SHRINK_WINDOWS 25
#define SPREAD_HOLD_NS        1000000000ull

struct spread_hold {
    unsigned long long hold_until_ns; /* no shrinking before */
    unsigned votes;                   /* consecutive windows that asked for fewer */
};

/* The width to use, from the current one and the one asked for, at time now (ns). */
unsigned spread_settle(struct spread_hold *h, unsigned width, unsigned wanted,
                       unsigned long long now_ns);

#endif

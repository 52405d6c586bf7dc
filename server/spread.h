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

/* The width this long window's measurements of busy and idle time ask for (blocking is
 * spread_on_short's). */
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

/* A growth for load is a trial. Busy workers and an idle core do not prove the workers are
 * what holds the load back: with the load generator on the same machine, or an open-loop
 * client the server already keeps up with, more workers only add wake-ups (measured on
 * 2 cores, echo, 50 connections: 296,000 req/s packed on one worker, 215,000 spread over
 * two). So a growth stays only if the work done per second since it beat the rate before
 * it by SPREAD_TRIAL_GAIN (or by half what the added workers could add, when that is less),
 * judged from SPREAD_TRIAL_PASS_NS on (so a large machine grows
 * step by step, a few hundred ms apart) and at SPREAD_TRIAL_NS at the latest; otherwise
 * the width goes back, and growth
 * for load waits SPREAD_BACKOFF_MIN_NS, doubling up to SPREAD_BACKOFF_MAX_NS while trials
 * keep failing, so a load that does not scale pays a failed trial rarely. */
#define SPREAD_TRIAL_NS       1000000000ull
#define SPREAD_TRIAL_PASS_NS  200000000ull /* a growth that paid is kept this soon */
#define SPREAD_TRIAL_GAIN     0.10
#define SPREAD_BACKOFF_MIN_NS 2000000000ull
#define SPREAD_BACKOFF_MAX_NS 64000000000ull

/* Blocking: every worker once SPREAD_BLOCKED_WINDOWS short windows in a row found the
 * active workers asleep in callbacks (one window can be a sampling artefact: a thread's
 * CPU time is brought up to date only when it is switched, so a window may miss some and
 * the next gets it), and back to the width before once SPREAD_UNBLOCK_NS went by with none. */
#define SPREAD_BLOCKED_WINDOWS 2
#define SPREAD_UNBLOCK_NS      1000000000ull

/* What the decision remembers from window to window. Zero-initialise; the monitor's. */
struct spread_memory {
    struct spread_hold hold;
    unsigned blocked_streak;  /* short windows in a row asleep in callbacks */
    unsigned before_blocking; /* the width to go back to; 0: not spread for blocking */
    unsigned long long last_blocked_ns;
    unsigned trial_from; /* the width before a growth on trial; 0: none */
    double rate_before;  /* work per second before it */
    unsigned long long trial_start_ns, trial_start_work;
    unsigned long long no_grow_until_ns, backoff_ns;
    double rate; /* work per second, smoothed over long windows */
    unsigned long long last_ns, last_work;
};

/* After a gap in the windows (the monitor slept while every worker waited): a trial across
 * it would weigh a busy stretch against an idle one, so it ends with no verdict (the width
 * stays, with no back-off), and the rate and the shrink votes start again. Nothing was
 * asleep in a callback during the gap, so a spread for blocking handlers that has been
 * quiet for SPREAD_UNBLOCK_NS ends here too (a light load may never fill a window). Returns
 * the width to use. */
unsigned spread_restart(struct spread_memory *m, unsigned width, unsigned long long now_ns);

/* Every short window, with the active workers' time asleep in callbacks (in workers): the
 * width blocking handlers need. */
unsigned spread_on_short(struct spread_memory *m, unsigned width, unsigned nthreads, double blocked,
                         unsigned long long now_ns);

/* Every long window, with its busy and idle measurements and the work done so far (a
 * counter that only grows): the width for the load, trials and shrinking included. */
unsigned spread_on_long(struct spread_memory *m, const struct spread_window *w,
                        unsigned long long work, unsigned long long now_ns);

#endif

/* timers - plugin and connection timers (host timer_start/timer_cancel), on one thread.
 * A plugin timer's callback runs on the timer thread (it must not block: hand long work to
 * a thread of your own). A connection timer only marks itself fired and wakes the
 * connection (pool_notify); its owner runs the callback as one of the connection's hooks.
 * One mutex, taken per timer started, fired or cancelled, never per message. */
#ifndef LINEPOOL_TIMERS_H
#define LINEPOOL_TIMERS_H

#include <linepool.h>
#include <stdint.h>

struct timers;
struct timer;
struct conn;
struct connset;

/* A connection's own timers, embedded in it (conn_timers, conn.h): the timers' to link and
 * unlink, under their lock; zeroed = none. */
struct timers_conn {
    struct timer *head;
};

/* Starts the timer thread. NULL + errno. */
struct timers *timers_new(struct connset *conns);

/* Stops the thread (callbacks end), frees every timer. NULL is a no-op. */
void timers_free(struct timers *t);

/* From the drain on: no callback starts any more. */
void timers_quiesce(struct timers *t);

/* conn NULL: a plugin timer; else a timer of that connection (from one of its hooks).
 * every_ns 0: once. *id is never 0. 0, -EINVAL, -ENOMEM, -ECANCELED (draining). */
int timers_start(struct timers *t, struct conn *conn, uint64_t delay_ns, uint64_t every_ns,
                 lp_timer_fn fn, void *arg, uint64_t *id);

/* No new callback of id starts once this returns. 0 or -ENOENT. Any thread. */
int timers_cancel(struct timers *t, uint64_t id);

/* Owner of c: runs the callbacks of c's timers that fired. Returns whether c still has
 * timers. */
int timers_run_fired(struct timers *t, struct conn *c);

/* A plugin version is retiring (no connection holds it): cancels its plugin timers and waits
 * for a callback of its that is running. `owner` is its key pointer, what timers_start
 * recorded from the calling thread's chain site. */
void timers_forget_owner(struct timers *t, const char *owner);

/* Owner of c, before its close hooks: cancels every timer of c. */
void timers_cancel_conn(struct timers *t, struct conn *c);

#endif

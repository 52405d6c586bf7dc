/* Unit tests of the spread decision (server/spread.c): how many workers the load needs,
 * from one window's measurements, and what it remembers between windows (blocking streaks,
 * trials of a growth, back-off). */
#include "cunit_main.h"
#include "spread.h"

static unsigned width_for(unsigned width, unsigned n, double busy, double blocked, double idle)
{
    struct spread_window w = {
        .width = width, .nthreads = n, .busy = busy, .blocked = blocked, .idle_cores = idle};
    return spread_width(&w);
}

static void light_load_stays_packed(void)
{
    CU_ASSERT_EQUAL(width_for(1, 2, 0.30, 0.0, 1.5), 1);
    CU_ASSERT_EQUAL(width_for(1, 64, 0.74, 0.0, 60), 1);
}

static void busy_workers_grow_onto_idle_cores(void)
{
    /* one worker saturated, most of a core idle: the second worker joins */
    CU_ASSERT_EQUAL(width_for(1, 2, 0.98, 0.02, 0.7), 2);
    /* half the idle cores at once on a large machine, capped at the pool */
    CU_ASSERT_EQUAL(width_for(4, 64, 3.6, 0.0, 40), 24);
    CU_ASSERT_EQUAL(width_for(60, 64, 58, 0.0, 30), 64);
    /* the machine's idle time unknown (no /proc): one at a time */
    CU_ASSERT_EQUAL(width_for(3, 8, 2.9, 0.0, -1), 4);
}

static void busy_workers_on_a_full_machine_do_not_grow(void)
{
    /* echo with the load generator on the other core: spreading would only add wake-ups */
    CU_ASSERT_EQUAL(width_for(1, 2, 0.97, 0.05, 0.08), 1);
    CU_ASSERT_EQUAL(width_for(8, 16, 7.9, 0.1, 0.3), 8);
}

static void long_window_leaves_blocking_to_the_short_one(void)
{
    /* spread_width weighs busy and idle time only: blocking is spread_on_short's */
    CU_ASSERT_EQUAL(width_for(1, 32, 0.3, 0.3, 1.8), 1);
}

#define MS 1000000ull

static void blocking_takes_every_worker_after_two_windows(void)
{
    struct spread_memory m = {0};
    unsigned long long t = 10000 * MS;
    /* one window over the bar can be a sampling artefact */
    CU_ASSERT_EQUAL(spread_on_short(&m, 1, 32, 0.9, t), 1);
    CU_ASSERT_EQUAL(spread_on_short(&m, 1, 32, 0.0, t + 20 * MS), 1);
    CU_ASSERT_EQUAL(spread_on_short(&m, 1, 32, 0.3, t + 40 * MS), 1);
    CU_ASSERT_EQUAL(spread_on_short(&m, 1, 32, 0.3, t + 60 * MS), 32);
    /* at the bar is not over it */
    struct spread_memory at = {0};
    CU_ASSERT_EQUAL(spread_on_short(&at, 2, 4, SPREAD_BLOCKED, t), 2);
    CU_ASSERT_EQUAL(spread_on_short(&at, 2, 4, SPREAD_BLOCKED, t + 20 * MS), 2);
}

static void blocking_ends_back_at_the_width_before(void)
{
    struct spread_memory m = {0};
    unsigned long long t = 10000 * MS;
    CU_ASSERT_EQUAL(spread_on_short(&m, 3, 16, 1.0, t), 3);
    CU_ASSERT_EQUAL(spread_on_short(&m, 3, 16, 1.0, t + 20 * MS), 16);
    unsigned long long last = t + 20 * MS;
    /* the long window leaves the width alone meanwhile, busy as the workers are */
    struct spread_window w = {.width = 16, .nthreads = 16, .busy = 16, .idle_cores = 0};
    CU_ASSERT_EQUAL(spread_on_long(&m, &w, 1000, last + 100 * MS), 16);
    CU_ASSERT_EQUAL(spread_on_short(&m, 16, 16, 0.0, last + SPREAD_UNBLOCK_NS - MS), 16);
    CU_ASSERT_EQUAL(spread_on_short(&m, 16, 16, 0.0, last + SPREAD_UNBLOCK_NS), 3);
    CU_ASSERT_EQUAL(spread_on_short(&m, 3, 16, 0.0, last + SPREAD_UNBLOCK_NS + 20 * MS), 3);
}

/* Long windows of 100 ms at a steady work rate (per second) from *t, *work on. */
static unsigned steady(struct spread_memory *m, struct spread_window *w, unsigned n_windows,
                       double rate, unsigned long long *t, unsigned long long *work)
{
    unsigned width = w->width;
    for (unsigned i = 0; i < n_windows; i++) {
        *t += 100 * MS;
        *work += (unsigned long long)(rate / 10);
        w->width = width;
        width = spread_on_long(m, w, *work, *t);
    }
    w->width = width; /* the width the next window starts with */
    return width;
}

static void growth_that_pays_is_kept(void)
{
    struct spread_memory m = {0};
    unsigned long long t = 10000 * MS, work = 0;
    struct spread_window w = {.width = 1, .nthreads = 2, .busy = 0.5, .idle_cores = 1.0};
    CU_ASSERT_EQUAL(steady(&m, &w, 5, 15000, &t, &work), 1);
    w.busy = 0.99; /* CPU-bound handlers: the one worker is the bottleneck */
    CU_ASSERT_EQUAL(steady(&m, &w, 1, 15000, &t, &work), 2);
    w.busy = 1.9;
    CU_ASSERT_EQUAL(steady(&m, &w, 11, 28000, &t, &work), 2); /* 1.9x: kept */
    CU_ASSERT_EQUAL(m.trial_from, 0);
    CU_ASSERT_EQUAL(m.backoff_ns, 0);
}

static void a_large_machine_grows_step_after_step(void)
{
    struct spread_memory m = {0};
    unsigned long long t = 10000 * MS, work = 0;
    double per_worker = 10000;
    struct spread_window w = {.width = 1, .nthreads = 64, .busy = 0.5, .idle_cores = 63};
    CU_ASSERT_EQUAL(steady(&m, &w, 3, per_worker, &t, &work), 1);
    unsigned width = 1, steps = 0;
    unsigned long long start = t;
    while (width < 64 && steps < 100) {
        /* every active worker saturated, the rest of the machine idle, the rate with them */
        w.busy = 0.99 * width;
        w.idle_cores = 64 - width;
        width = steady(&m, &w, 1, per_worker * width, &t, &work);
        steps++;
    }
    CU_ASSERT_EQUAL(width, 64);
    /* each paid growth is known 200 ms on: 1 -> 32 -> 48 -> ... -> 64 in a few seconds */
    CU_ASSERT(t - start <= 3000 * MS);
}

static void growth_that_does_not_pay_is_undone_and_backs_off(void)
{
    struct spread_memory m = {0};
    unsigned long long t = 10000 * MS, work = 0;
    /* echo, the load generator bound: the worker is busy, yet two go no faster */
    struct spread_window w = {.width = 1, .nthreads = 2, .busy = 0.5, .idle_cores = 1.0};
    CU_ASSERT_EQUAL(steady(&m, &w, 5, 290000, &t, &work), 1);
    w.busy = 0.95;
    CU_ASSERT_EQUAL(steady(&m, &w, 1, 290000, &t, &work), 2);
    w.busy = 1.3;
    CU_ASSERT_EQUAL(steady(&m, &w, 9, 220000, &t, &work), 2); /* on trial for a second */
    CU_ASSERT_EQUAL(steady(&m, &w, 1, 220000, &t, &work), 1); /* slower: undone */
    CU_ASSERT_EQUAL(m.backoff_ns, SPREAD_BACKOFF_MIN_NS);
    /* no growth for load during the back-off, however busy */
    w.busy = 0.99;
    CU_ASSERT_EQUAL(steady(&m, &w, 19, 290000, &t, &work), 1);
    CU_ASSERT_EQUAL(steady(&m, &w, 1, 290000, &t, &work), 2);  /* the next trial */
    CU_ASSERT_EQUAL(steady(&m, &w, 10, 291000, &t, &work), 1); /* 0.3% faster: undone */
    CU_ASSERT_EQUAL(m.backoff_ns, 2 * SPREAD_BACKOFF_MIN_NS);
    /* the back-off doubles to its cap */
    for (int i = 0; i < 10; i++) {
        m.no_grow_until_ns = 0;
        CU_ASSERT_EQUAL(steady(&m, &w, 1, 290000, &t, &work), 2);
        CU_ASSERT_EQUAL(steady(&m, &w, 10, 290000, &t, &work), 1);
    }
    CU_ASSERT_EQUAL(m.backoff_ns, SPREAD_BACKOFF_MAX_NS);
}

static void shrinks_when_the_load_fits_in_fewer(void)
{
    CU_ASSERT_EQUAL(width_for(2, 2, 0.4, 0.0, 1.5), 1);
    CU_ASSERT_EQUAL(width_for(2, 2, 0.6, 0.0, 1.5), 2);    /* would make one 60% busy */
    CU_ASSERT_EQUAL(width_for(32, 32, 2.0, 0.0, 1.0), 31); /* one at a time */
    CU_ASSERT_EQUAL(width_for(1, 4, 0.0, 0.0, 2.0), 1);    /* never below one */
}

static void out_of_range_input_is_clamped(void)
{
    CU_ASSERT_EQUAL(width_for(0, 4, 0.1, 0.0, 2.0), 1);
    CU_ASSERT_EQUAL(width_for(9, 4, 3.9, 0.0, 0.0), 4);
    CU_ASSERT_EQUAL(width_for(1, 0, 1.0, 0.0, 2.0), 1);
}

static void growth_is_at_once_shrinking_waits(void)
{
    struct spread_hold h = {0};
    unsigned long long t = 5000000000ull, step = 20000000ull; /* 20 ms windows */
    CU_ASSERT_EQUAL(spread_settle(&h, 1, 4, t), 4);           /* grows at once */
    CU_ASSERT_EQUAL(spread_settle(&h, 4, 1, t + step), 4);    /* held after a growth */
    t += SPREAD_HOLD_NS;
    for (int i = 1; i < SPREAD_SHRINK_WINDOWS; i++)
        CU_ASSERT_EQUAL(spread_settle(&h, 4, 3, t + (unsigned long long)i * step), 4);
    CU_ASSERT_EQUAL(spread_settle(&h, 4, 3, t + SPREAD_SHRINK_WINDOWS * step), 3);
    /* the votes must be in a row: one window content with the width starts them again */
    t += 2 * SPREAD_SHRINK_WINDOWS * step;
    for (int i = 1; i < SPREAD_SHRINK_WINDOWS; i++)
        CU_ASSERT_EQUAL(spread_settle(&h, 3, 2, t + (unsigned long long)i * step), 3);
    CU_ASSERT_EQUAL(spread_settle(&h, 3, 3, t + SPREAD_SHRINK_WINDOWS * step), 3);
    CU_ASSERT_EQUAL(spread_settle(&h, 3, 2, t + (SPREAD_SHRINK_WINDOWS + 1) * step), 3);
}

static void restart_ends_a_trial_without_a_verdict(void)
{
    struct spread_memory m = {0};
    unsigned long long t = 10000 * MS, work = 0;
    struct spread_window w = {.width = 1, .nthreads = 4, .busy = 0.5, .idle_cores = 3.0};
    steady(&m, &w, 3, 10000, &t, &work);
    w.busy = 0.95;
    CU_ASSERT_EQUAL(steady(&m, &w, 1, 10000, &t, &work), 2);
    /* the load stops and the monitor sleeps: the trial ends there, kept, with no back-off */
    t += 3000 * MS;
    CU_ASSERT_EQUAL(spread_restart(&m, 2, t), 2);
    CU_ASSERT_EQUAL(m.trial_from, 0);
    CU_ASSERT_EQUAL(m.backoff_ns, 0);
    CU_ASSERT_EQUAL(m.no_grow_until_ns, 0);
    /* no growth in the first window after it: the rate before a trial is not known yet */
    w.busy = 1.9;
    CU_ASSERT_EQUAL(steady(&m, &w, 1, 20000, &t, &work), 2);
    CU_ASSERT_EQUAL(steady(&m, &w, 1, 20000, &t, &work), 3);
}

static void restart_ends_a_quiet_spread_for_blocking(void)
{
    struct spread_memory m = {0};
    unsigned long long t = 10000 * MS;
    spread_on_short(&m, 1, 8, 1.0, t);
    CU_ASSERT_EQUAL(spread_on_short(&m, 1, 8, 1.0, t + 20 * MS), 8);
    /* a light load that never fills a window: the sleeps in between end it */
    CU_ASSERT_EQUAL(spread_restart(&m, 8, t + 500 * MS), 8);
    CU_ASSERT_EQUAL(spread_restart(&m, 8, t + 20 * MS + SPREAD_UNBLOCK_NS), 1);
    CU_ASSERT_EQUAL(m.before_blocking, 0);
}

static CU_TestInfo tests[] = {
    {"restart_ends_a_trial_without_a_verdict", restart_ends_a_trial_without_a_verdict},
    {"restart_ends_a_quiet_spread_for_blocking", restart_ends_a_quiet_spread_for_blocking},
    {"growth_is_at_once_shrinking_waits", growth_is_at_once_shrinking_waits},
    {"light_load_stays_packed", light_load_stays_packed},
    {"busy_workers_grow_onto_idle_cores", busy_workers_grow_onto_idle_cores},
    {"busy_workers_on_a_full_machine_do_not_grow", busy_workers_on_a_full_machine_do_not_grow},
    {"long_window_leaves_blocking_to_the_short_one", long_window_leaves_blocking_to_the_short_one},
    {"blocking_takes_every_worker_after_two_windows",
     blocking_takes_every_worker_after_two_windows},
    {"blocking_ends_back_at_the_width_before", blocking_ends_back_at_the_width_before},
    {"growth_that_pays_is_kept", growth_that_pays_is_kept},
    {"a_large_machine_grows_step_after_step", a_large_machine_grows_step_after_step},
    {"growth_that_does_not_pay_is_undone_and_backs_off",
     growth_that_does_not_pay_is_undone_and_backs_off},
    {"shrinks_when_the_load_fits_in_fewer", shrinks_when_the_load_fits_in_fewer},
    {"out_of_range_input_is_clamped", out_of_range_input_is_clamped},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "spread", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

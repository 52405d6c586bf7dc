/* Unit tests of the spread decision (server/spread.c): how many workers the load needs,
 * from one window's measurements. */
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

static void blocking_handlers_take_every_worker(void)
{
    CU_ASSERT_EQUAL(width_for(1, 32, 1.0, 0.9, 1.8), 32);
    CU_ASSERT_EQUAL(width_for(1, 32, 0.3, 0.3, 1.8), 32); /* one handler asleep 30% of it */
    CU_ASSERT_EQUAL(width_for(2, 4, 1.0, SPREAD_BLOCKED, 1.0), 2); /* at the bar: not yet */
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

static CU_TestInfo tests[] = {
    {"growth_is_at_once_shrinking_waits", growth_is_at_once_shrinking_waits},
    {"light_load_stays_packed", light_load_stays_packed},
    {"busy_workers_grow_onto_idle_cores", busy_workers_grow_onto_idle_cores},
    {"busy_workers_on_a_full_machine_do_not_grow", busy_workers_on_a_full_machine_do_not_grow},
    {"blocking_handlers_take_every_worker", blocking_handlers_take_every_worker},
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

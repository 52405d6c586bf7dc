/* burn - a test plugin for the pool's scaling and stress tests (not installed).
 *   "burn N"           spins N microseconds of this thread's CPU time, then answers "ok"
 *   "mix SEQ S B"      sleeps S microseconds, then spins B microseconds, then answers "SEQ"
 * Anything else is answered "ERR burn: unknown". It holds no shared state, so every worker
 * can run it at once: what it measures is the pool. */
#include <linepool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct lp_host *host;

static int burn_load(const struct lp_host *h, const char *args, void **state, char *err,
                     size_t errlen)
{
    (void)args;
    (void)state;
    (void)err;
    (void)errlen;
    host = h;
    return 0;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time, not wall time: a worker descheduled meanwhile still does the whole work. */
static void spin_us(unsigned long us)
{
    uint64_t until = thread_cpu_ns() + us * 1000ull;
    while (thread_cpu_ns() < until)
        ;
}

static void sleep_us(unsigned long us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static enum lp_verdict burn_message(void *state, struct lp_conn *conn, void *conn_state,
                                    const char *msg, size_t len)
{
    (void)state;
    (void)conn_state;
    char line[64];
    if (len >= sizeof line)
        len = sizeof line - 1;
    memcpy(line, msg, len);
    line[len] = '\0';
    unsigned long a, b, c;
    char out[32];
    if (sscanf(line, "burn %lu", &a) == 1 && a <= 1000000) {
        spin_us(a);
        host->reply(conn, "ok\n", 3);
    } else if (sscanf(line, "mix %lu %lu %lu", &a, &b, &c) == 3 && b <= 1000000 && c <= 1000000) {
        sleep_us(b);
        spin_us(c);
        int n = snprintf(out, sizeof out, "%lu\n", a);
        host->reply(conn, out, (size_t)n);
    } else {
        host->reply(conn, "ERR burn: unknown\n", 18);
    }
    return LP_STOP;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "burn",
    .version = "1.0.0",
    .summary = "test plugin: 'burn N' spins N us of CPU, 'mix SEQ S B' sleeps S us, spins B us",
    .load = burn_load,
    .message = burn_message,
};

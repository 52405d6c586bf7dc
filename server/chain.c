/* chain - open, read, message and close over a listener's plugins, and the crash report that
 * names the plugin hook a fatal signal hit; see chain.h. */
#include "chain.h"

#include "monotonic.h"
#include "registry.h"
#include "timing.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The hook this thread is in. A plain pointer store per hook call: only this thread writes
 * it, and only a signal handler on this same thread reads it. */
static _Thread_local const struct chain_site *current;

/* Pool workers start with every signal blocked, and a fault while SIGSEGV is blocked kills
 * the process without running any handler. So each thread unblocks the fatal signals the
 * first time it runs a hook (one thread-local test per chain call after that). */
static _Thread_local int fatal_unblocked;
static void unblock_fatal(void);

static inline void enter(const struct chain_site *site)
{
    if (__builtin_expect(!fatal_unblocked, 0))
        unblock_fatal();
    current = site;
}

void chain_site_enter(const struct chain_site *site)
{
    enter(site);
}

const struct chain_site *chain_site_current(void)
{
    return current;
}

int chain_open(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
               void **states, const char **refused_by)
{
    struct chain_site site = {.hook = "open", .conn_id = conn_id};
    int rc = 0;
    enter(&site);
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = ps[i];
        site.name = p->key;
        if (p->desc->open && p->desc->open(p->state, c, &states[i]) < 0) {
            *refused_by = p->key;
            rc = -ECONNREFUSED;
            break;
        }
    }
    current = NULL;
    return rc;
}

void chain_read(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
                void **states, size_t nbytes)
{
    struct chain_site site = {.hook = "read", .conn_id = conn_id};
    enter(&site);
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = ps[i];
        site.name = p->key;
        if (p->desc->read)
            p->desc->read(p->state, c, states[i], nbytes);
    }
    current = NULL;
}

/* Nobody handled the message: the chain's first catch-all answers it. */
static void unhandled(struct plugin *const *ps, size_t n, struct lp_conn *c, void **states,
                      const char *msg, size_t len, struct chain_site *site)
{
    site->hook = "unhandled";
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = ps[i];
        if (p->desc->unhandled) {
            site->name = p->key;
            p->desc->unhandled(p->state, c, states[i], msg, len);
            return;
        }
    }
}

void chain_message(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
                   void **states, const char *msg, size_t len, struct timing *row)
{
    struct chain_site site = {.hook = "message", .conn_id = conn_id};
    int handled = 0;
    enter(&site);
    uint64_t t0 = row ? monotonic_ns() : 0;
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = ps[i];
        site.name = p->key;
        enum lp_verdict v = p->desc->message(p->state, c, states[i], msg, len);
        if (row) {
            uint64_t t1 = monotonic_ns();
            timing_record(&row[p->index], t1 - t0);
            t0 = t1;
        }
        if (v != LP_NOT_MINE)
            handled = 1;
        if (v == LP_STOP)
            break;
    }
    if (!handled)
        unhandled(ps, n, c, states, msg, len, &site);
    current = NULL;
}

void chain_close(struct plugin *const *ps, size_t n, struct lp_conn *c, uint64_t conn_id,
                 void **states)
{
    struct chain_site site = {.hook = "close", .conn_id = conn_id};
    enter(&site);
    for (size_t i = n; i-- > 0;) {
        struct plugin *p = ps[i];
        site.name = p->key;
        if (p->desc->close)
            p->desc->close(p->state, c, states[i]);
    }
    current = NULL;
}

/* ---- the crash report: async-signal-safe from here on (no stdio, no malloc, no locks) -- */

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    default:
        return "SIGABRT";
    }
}

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
    while (s && *s && at < cap)
        buf[at++] = *s++;
    return at;
}

static size_t put_u64(char *buf, size_t at, size_t cap, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < sizeof digits);
    while (n && at < cap)
        buf[at++] = digits[--n];
    return at;
}

static void on_fatal(int sig)
{
    const struct chain_site *s = current;
    if (s && s->name) {
        char line[256];
        size_t cap = sizeof line - 1, n = 0;
        n = put(line, n, cap, "linepool-server: fatal ");
        n = put(line, n, cap, signal_name(sig));
        n = put(line, n, cap, " in plugin ");
        n = put(line, n, cap, s->name);
        n = put(line, n, cap, ", hook ");
        n = put(line, n, cap, s->hook);
        if (s->conn_id) {
            n = put(line, n, cap, ", conn ");
            n = put_u64(line, n, cap, s->conn_id);
        }
        line[n++] = '\n';
        ssize_t rc = write(STDERR_FILENO, line, n);
        (void)rc;
    }
    /* SA_RESETHAND made the default action current again: a fault re-faults on return, and
     * a raised signal is delivered once this handler returns (it is blocked until then). */
    raise(sig);
}

static void unblock_fatal(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        sigaddset(&set, fatal_signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    fatal_unblocked = 1;
}

int chain_crash_report_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (sigaction(fatal_signals[i], &sa, NULL) < 0)
            return -errno;
    return 0;
}

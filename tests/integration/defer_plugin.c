/* defer - a test plugin that answers later, from its own thread (not installed).
 *   "d SEQ MS"    defers; its thread completes the answer "SEQ" after MS milliseconds
 *   "now SEQ"     answers "SEQ" at once (behind any deferred answer, unless overtaking)
 *   "overtake"    lets this connection's later answers pass deferred ones; answers "ok"
 *   "tick MS"     a one-shot connection timer answers "tick" after MS ms
 *   "every MS N"  a repeating connection timer answers "tock 1".."tock N", then cancels
 *   "ptimer MS"   defers, and a plugin timer (the timer thread) completes it with "ptimer"
 * Its thread keeps the pending completions in a heap by due time. unload stops and joins it
 * (the plugin author's duty); completions still pending then are dropped. The number of
 * completions the server refused as stale (the connection had closed) is logged at unload. */
#include <linepool.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
    uint64_t due_ns;
    struct lp_deferred ticket;
    char text[24];
    size_t len;
};

struct defer_state {
    const struct lp_host *host;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    struct job *heap;
    size_t n, cap;
    int quit;
    unsigned long stale, done;
};

static const struct lp_plugin *self_desc(void);

static void heap_push(struct defer_state *d, struct job j)
{
    size_t i = d->n++;
    while (i > 0 && d->heap[(i - 1) / 2].due_ns > j.due_ns) {
        d->heap[i] = d->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    d->heap[i] = j;
}

static struct job heap_pop(struct defer_state *d)
{
    struct job top = d->heap[0], last = d->heap[--d->n];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= d->n)
            break;
        if (k + 1 < d->n && d->heap[k + 1].due_ns < d->heap[k].due_ns)
            k++;
        if (d->heap[k].due_ns >= last.due_ns)
            break;
        d->heap[i] = d->heap[k];
        i = k;
    }
    if (d->n)
        d->heap[i] = last;
    return top;
}

static void *completer(void *arg)
{
    struct defer_state *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->quit) {
        if (!d->n) {
            pthread_cond_wait(&d->cond, &d->lock);
            continue;
        }
        uint64_t now = d->host->now_ns();
        if (d->heap[0].due_ns > now) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            uint64_t wait = d->heap[0].due_ns - now;
            until.tv_sec += (time_t)(wait / 1000000000u);
            until.tv_nsec += (long)(wait % 1000000000u);
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&d->cond, &d->lock, &until);
            continue;
        }
        struct job j = heap_pop(d);
        pthread_mutex_unlock(&d->lock); /* complete may take the server's locks */
        int rc = d->host->complete(j.ticket, j.text, j.len, 0);
        pthread_mutex_lock(&d->lock);
        if (rc == -ESTALE)
            d->stale++;
        else if (rc == 0)
            d->done++;
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static int defer_load(const struct lp_host *host, const char *args, void **state, char *err,
                      size_t errlen)
{
    (void)args;
    struct defer_state *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->host = host;
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&d->thread, NULL, completer, d)) {
        snprintf(err, errlen, "cannot start its thread");
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static void defer_unload(void *state)
{
    struct defer_state *d = state;
    pthread_mutex_lock(&d->lock);
    d->quit = 1;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    d->host->log(self_desc(), LP_LOG_INFO, "completed %lu, stale %lu, dropped %zu", d->done,
                 d->stale, d->n);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free(d->heap);
    free(d);
}

/* A repeating timer's state. The connection's state owns it: a timer still running when
 * the connection closes is cancelled by the server before the close hook, which frees it. */
struct ticker {
    const struct lp_host *host;
    uint64_t id;
    unsigned left, n;
    struct ticker **owner; /* the connection state's slot */
};

struct conn_ticks {
    struct ticker *ticker;
};

static void on_tick(void *arg, struct lp_conn *conn, uint64_t id)
{
    (void)id;
    const struct lp_host *host = arg;
    host->reply(conn, "tick\n", 5);
}

static void on_tock(void *arg, struct lp_conn *conn, uint64_t id)
{
    struct ticker *t = arg;
    char out[32];
    int n = snprintf(out, sizeof out, "tock %u\n", ++t->n);
    t->host->reply(conn, out, (size_t)n);
    if (t->n == t->left) {
        t->host->timer_cancel(id);
        *t->owner = NULL;
        free(t);
    }
}

struct ptimer {
    const struct lp_host *host;
    struct lp_deferred ticket;
};

static void on_ptimer(void *arg, struct lp_conn *conn, uint64_t id)
{
    (void)id;
    struct ptimer *p = arg;
    if (!conn) /* a plugin timer: no connection, on the timer thread */
        p->host->complete(p->ticket, "ptimer\n", 7, 0);
    free(p);
}

static int defer_open(void *state, struct lp_conn *conn, void **conn_state)
{
    (void)state, (void)conn;
    return (*conn_state = calloc(1, sizeof(struct conn_ticks))) ? 0 : -ENOMEM;
}

static void defer_close(void *state, struct lp_conn *conn, void *conn_state)
{
    (void)state, (void)conn;
    struct conn_ticks *ct = conn_state;
    if (ct)
        free(ct->ticker); /* its timer was cancelled before this hook */
    free(ct);
}

static enum lp_verdict defer_message(void *state, struct lp_conn *conn, void *conn_state,
                                     const char *msg, size_t len)
{
    struct conn_ticks *ct = conn_state;
    struct defer_state *d = state;
    char line[64], out[32];
    unsigned long seq, ms;
    if (len >= sizeof line)
        len = sizeof line - 1;
    memcpy(line, msg, len);
    line[len] = '\0';
    if (sscanf(line, "d %lu %lu", &seq, &ms) == 2 && ms <= 60000) {
        struct job j = {.due_ns = d->host->now_ns() + ms * 1000000ull};
        j.len = (size_t)snprintf(j.text, sizeof j.text, "%lu\n", seq);
        if (d->host->defer(conn, &j.ticket) < 0) {
            d->host->reply(conn, "ERR defer refused\n", 18);
            return LP_STOP;
        }
        pthread_mutex_lock(&d->lock);
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 256;
            struct job *h = realloc(d->heap, cap * sizeof *h);
            if (!h) {
                pthread_mutex_unlock(&d->lock);
                d->host->complete(j.ticket, "ERR out of memory\n", 18, 0);
                return LP_STOP;
            }
            d->heap = h;
            d->cap = cap;
        }
        heap_push(d, j);
        pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->lock);
    } else if (sscanf(line, "now %lu", &seq) == 1) {
        int n = snprintf(out, sizeof out, "%lu\n", seq);
        d->host->reply(conn, out, (size_t)n);
    } else if (sscanf(line, "tick %lu", &ms) == 1) {
        uint64_t id;
        if (d->host->timer_start(conn, ms * 1000000ull, 0, on_tick, (void *)d->host, &id) < 0)
            d->host->reply(conn, "ERR timer refused\n", 18);
    } else if (sscanf(line, "every %lu %lu", &ms, &seq) == 2 && seq > 0 && !ct->ticker) {
        struct ticker *t = calloc(1, sizeof *t);
        if (t) {
            t->host = d->host;
            t->left = (unsigned)seq;
            t->owner = &ct->ticker;
        }
        if (!t ||
            d->host->timer_start(conn, ms * 1000000ull, ms * 1000000ull, on_tock, t, &t->id) < 0) {
            free(t);
            d->host->reply(conn, "ERR timer refused\n", 18);
        } else {
            ct->ticker = t;
        }
    } else if (sscanf(line, "ptimer %lu", &ms) == 1) {
        struct ptimer *p = calloc(1, sizeof *p);
        uint64_t id;
        if (!p || d->host->defer(conn, &p->ticket) < 0) {
            free(p);
            d->host->reply(conn, "ERR defer refused\n", 18);
            return LP_STOP;
        }
        p->host = d->host;
        if (d->host->timer_start(NULL, ms * 1000000ull, 0, on_ptimer, p, &id) < 0) {
            d->host->complete(p->ticket, "ERR timer refused\n", 18, 0);
            free(p);
        }
    } else if (strcmp(line, "overtake") == 0) {
        d->host->overtake(conn, 1);
        d->host->reply(conn, "ok\n", 3);
    } else {
        d->host->reply(conn, "ERR defer: unknown\n", 19);
    }
    return LP_STOP;
}

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "defer",
    .version = "1.0.0",
    .summary = "test plugin: 'd SEQ MS' answers SEQ from its own thread after MS ms",
    .load = defer_load,
    .unload = defer_unload,
    .open = defer_open,
    .close = defer_close,
    .message = defer_message,
};

static const struct lp_plugin *self_desc(void)
{
    return &lp_plugin;
}

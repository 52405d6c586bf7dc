/* fake_host - the lp_host table of the plugin unit tests; see fake_host.h. */
#include "fake_host.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOG 4096

static _Atomic uint64_t now = 1000000000ull;
static _Atomic int stopping;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[MAX_LOG];
static size_t nlog;

static int fake_reply(struct lp_conn *conn, const void *bytes, size_t len)
{
    struct fake_conn *c = (struct fake_conn *)conn;
    char *out = realloc(c->out, c->outlen + len + 1);
    if (!out)
        return -12;
    memcpy(out + c->outlen, bytes, len);
    c->out = out;
    c->outlen += len;
    c->out[c->outlen] = '\0';
    return 0;
}

static void fake_close_conn(struct lp_conn *conn)
{
    ((struct fake_conn *)conn)->close_requested = 1;
}

static void fake_log(const struct lp_plugin *self, enum lp_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *line = NULL;
    if (asprintf(&line, "%s %s: %s", names[level & 3], self ? self->name : "?", text) < 0)
        return;
    pthread_mutex_lock(&log_lock);
    if (nlog < MAX_LOG)
        log_lines[nlog++] = line, line = NULL;
    pthread_mutex_unlock(&log_lock);
    free(line);
}

static const char *fake_peer(struct lp_conn *conn)
{
    return ((struct fake_conn *)conn)->peer;
}

static uint64_t fake_conn_id(struct lp_conn *conn)
{
    return ((struct fake_conn *)conn)->id;
}

static int fake_stopping(void)
{
    return atomic_load(&stopping);
}

static uint64_t fake_now(void)
{
    return atomic_load(&now);
}

const struct lp_host fake_host = {
    .abi = LP_PLUGIN_ABI,
    .server = "fake-host 0",
    .reply = fake_reply,
    .close = fake_close_conn,
    .log = fake_log,
    .peer = fake_peer,
    .conn_id = fake_conn_id,
    .stopping = fake_stopping,
    .now_ns = fake_now,
};

void fake_set_now(uint64_t ns)
{
    atomic_store(&now, ns);
}

void fake_advance(uint64_t ns)
{
    atomic_fetch_add(&now, ns);
}

void fake_set_stopping(int v)
{
    atomic_store(&stopping, v);
}

int fake_load(const struct lp_plugin *p, const char *args, void **state, char *err, size_t errlen)
{
    err[0] = '\0';
    *state = NULL;
    return p->load ? p->load(&fake_host, args, state, err, errlen) : 0;
}

int fake_open(struct fake_conn *c, const struct lp_plugin *p, void *pstate, uint64_t id,
              unsigned port)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->p = p;
    c->pstate = pstate;
    snprintf(c->peer, sizeof c->peer, "127.0.0.1:%u", port);
    return p->open ? p->open(pstate, (struct lp_conn *)c, &c->state) : 0;
}

enum lp_verdict fake_message(struct fake_conn *c, const char *msg, size_t len)
{
    return c->p->message(c->pstate, (struct lp_conn *)c, c->state, msg, len);
}

int fake_feed(struct fake_conn *c, const char *data, size_t len)
{
    int stops = 0;
    if (c->p->read)
        c->p->read(c->pstate, (struct lp_conn *)c, c->state, len);
    const char *end = data + len;
    for (const char *p = data, *nl; p < end && (nl = memchr(p, '\n', (size_t)(end - p)));
         p = nl + 1)
        stops += fake_message(c, p, (size_t)(nl - p)) == LP_STOP;
    return stops;
}

void fake_close(struct fake_conn *c)
{
    if (c->p->close)
        c->p->close(c->pstate, (struct lp_conn *)c, c->state);
    c->state = NULL;
}

void fake_clear(struct fake_conn *c)
{
    free(c->out);
    c->out = NULL;
    c->outlen = 0;
}

void fake_conn_free(struct fake_conn *c)
{
    fake_clear(c);
}

size_t fake_log_count(void)
{
    pthread_mutex_lock(&log_lock);
    size_t n = nlog;
    pthread_mutex_unlock(&log_lock);
    return n;
}

const char *fake_log_line(size_t i)
{
    return i < fake_log_count() ? log_lines[i] : NULL;
}

const char *fake_log_find(const char *needle)
{
    for (size_t i = 0, n = fake_log_count(); i < n; i++)
        if (strstr(log_lines[i], needle))
            return log_lines[i];
    return NULL;
}

void fake_log_clear(void)
{
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < nlog; i++)
        free(log_lines[i]);
    nlog = 0;
    pthread_mutex_unlock(&log_lock);
}

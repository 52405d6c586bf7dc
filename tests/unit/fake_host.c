/* fake_host - the lp_host table of the plugin unit tests; see fake_host.h. Plain C11 and
 * POSIX threads: a plugin's test builds with no feature macros. */
#include "fake_host.h"

#include "plugin_schema.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
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
    const char *name = self ? self->name : "?";
    size_t len = strlen(names[level & 3]) + strlen(name) + strlen(text) + 4;
    char *line = malloc(len);
    if (!line)
        return;
    snprintf(line, len, "%s %s: %s", names[level & 3], name, text);
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

static const char *fake_listener_name(struct lp_conn *conn)
{
    return ((struct fake_conn *)conn)->listener_name;
}

static const char *fake_via(struct lp_conn *conn)
{
    return ((struct fake_conn *)conn)->via;
}

static const char *fake_listener_addr(struct lp_conn *conn)
{
    return ((struct fake_conn *)conn)->listener_addr;
}

/* Deferred replies and timers: the server has them; the fake host does not yet (-ENOSYS), so
 * unit tests exercise them through the integration tests (tests/integration/test_deferred.py). */
static int fake_defer(struct lp_conn *conn, struct lp_deferred *out)
{
    (void)conn, (void)out;
    return -ENOSYS;
}

static int fake_complete(struct lp_deferred t, const void *bytes, size_t len, unsigned flags)
{
    (void)t, (void)bytes, (void)len, (void)flags;
    return -ENOSYS;
}

static int fake_overtake(struct lp_conn *conn, int allow)
{
    (void)conn, (void)allow;
    return -ENOSYS;
}

static int fake_timer_start(struct lp_conn *conn, uint64_t delay_ns, uint64_t every_ns,
                            lp_timer_fn fn, void *arg, uint64_t *id)
{
    (void)conn, (void)delay_ns, (void)every_ns, (void)fn, (void)arg, (void)id;
    return -ENOSYS;
}

static int fake_timer_cancel(uint64_t id)
{
    (void)id;
    return -ENOSYS;
}

/* Metrics and shared blocks (minor 2). The fake host has one instance: every fake_load is
 * that instance's next version, so it gets back the metrics and blocks of the loads before
 * it, as a version loaded by SIGHUP does. Both live until fake_host_reset or exit. */
struct fake_metric_rec {
    struct fake_metric_rec *next;
    char name[64];
    enum lp_metric_type type;
    _Atomic int64_t value;
    unsigned load; /* the load that last registered it: a second ask in one load is EEXIST */
};

struct fake_block {
    struct fake_block *next;
    size_t size;
    char name[64];
    _Alignas(max_align_t) unsigned char bytes[];
};

static pthread_mutex_t minor2_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_metric_rec *metrics;
static struct fake_block *blocks;
static unsigned load_serial;   /* which fake_load runs; 0 before the first */
static _Atomic int in_load;    /* metric_new and shared answer only inside a load hook */
static int minor2_cleanup_set; /* atexit(fake_host_reset) registered */

static int metric_name_ok(enum lp_metric_type type, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 48 || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return 0;
    int total = n > 6 && strcmp(name + n - 6, "_total") == 0;
    return type == LP_METRIC_COUNTER ? total : type == LP_METRIC_GAUGE ? !total : 0;
}

static struct lp_metric *fake_metric_new(enum lp_metric_type type, const char *name,
                                         const char *help)
{
    if (!atomic_load(&in_load))
        return errno = EPERM, NULL;
    if (!metric_name_ok(type, name) || !help || strchr(help, '\n'))
        return errno = EINVAL, NULL;
    pthread_mutex_lock(&minor2_lock);
    struct fake_metric_rec *m = metrics;
    while (m && strcmp(m->name, name) != 0)
        m = m->next;
    int again = m && m->load == load_serial;
    if (!m && (m = calloc(1, sizeof *m))) {
        snprintf(m->name, sizeof m->name, "%s", name);
        m->type = type;
        m->next = metrics;
        metrics = m;
    }
    if (m && !again)
        m->load = load_serial;
    pthread_mutex_unlock(&minor2_lock);
    if (again)
        return errno = EEXIST, NULL;
    if (!m)
        return errno = ENOSPC, NULL;
    return (struct lp_metric *)m;
}

static void fake_metric_add(struct lp_metric *metric, int64_t delta)
{
    struct fake_metric_rec *m = (struct fake_metric_rec *)metric;
    if (m && !(m->type == LP_METRIC_COUNTER && delta < 0))
        atomic_fetch_add(&m->value, delta);
}

static void fake_metric_set(struct lp_metric *metric, int64_t value)
{
    struct fake_metric_rec *m = (struct fake_metric_rec *)metric;
    if (m && m->type == LP_METRIC_GAUGE)
        atomic_store(&m->value, value);
}

static void *fake_shared(const char *name, size_t size)
{
    if (!atomic_load(&in_load) || !name || strlen(name) >= sizeof blocks->name)
        return NULL;
    pthread_mutex_lock(&minor2_lock);
    struct fake_block *b = blocks;
    while (b && strcmp(b->name, name) != 0)
        b = b->next;
    if (!b && (b = calloc(1, sizeof *b + size))) {
        snprintf(b->name, sizeof b->name, "%s", name);
        b->size = size;
        b->next = blocks;
        blocks = b;
    }
    pthread_mutex_unlock(&minor2_lock);
    return b && b->size == size ? b->bytes : NULL;
}

int fake_metric_value(const char *name, int64_t *value)
{
    pthread_mutex_lock(&minor2_lock);
    struct fake_metric_rec *m = metrics;
    while (m && strcmp(m->name, name) != 0)
        m = m->next;
    if (m)
        *value = atomic_load(&m->value);
    pthread_mutex_unlock(&minor2_lock);
    return m ? 0 : -ENOENT;
}

void fake_host_reset(void)
{
    pthread_mutex_lock(&minor2_lock);
    while (metrics) {
        struct fake_metric_rec *m = metrics;
        metrics = m->next;
        free(m);
    }
    while (blocks) {
        struct fake_block *b = blocks;
        blocks = b->next;
        free(b);
    }
    pthread_mutex_unlock(&minor2_lock);
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
    .size = sizeof(struct lp_host),
    .listener_name = fake_listener_name,
    .listener_addr = fake_listener_addr,
    .defer = fake_defer,
    .complete = fake_complete,
    .overtake = fake_overtake,
    .timer_start = fake_timer_start,
    .timer_cancel = fake_timer_cancel,
    .metric_new = fake_metric_new,
    .metric_add = fake_metric_add,
    .metric_set = fake_metric_set,
    .via = fake_via,
    .shared = fake_shared,
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

/* Parsed declared arguments stay alive until exit: a plugin may keep pointers to them. */
#define MAX_LOADS 256
static struct plugin_values loads[MAX_LOADS];
static size_t nloads;

static void free_loads(void)
{
    for (size_t i = 0; i < nloads; i++)
        plugin_schema_free(&loads[i]);
    nloads = 0;
}

/* The server's own path: the same parser (plugin_schema.c) refuses the same arguments. */
static int load_declared(const struct lp_plugin *p, const char *args, void **state, char *err,
                         size_t errlen)
{
    int rc = plugin_schema_check(p->args, err, errlen);
    if (rc)
        return rc;
    if (nloads == MAX_LOADS)
        return snprintf(err, errlen, "fake host: too many loads"), -ENOMEM;
    if (nloads == 0)
        atexit(free_loads);
    struct plugin_values *v = &loads[nloads];
    if ((rc = plugin_schema_parse(p->args, args, v, err, errlen)))
        return rc;
    nloads++;
    struct lp_load ld = {
        .size = sizeof ld, .host = &fake_host, .instance = p->name, .args = args, .values = v->v};
    if (p->load_args)
        return p->load_args(&ld, state, err, errlen);
    return p->load ? p->load(&fake_host, args, state, err, errlen) : 0;
}

int fake_load(const struct lp_plugin *p, const char *args, void **state, char *err, size_t errlen)
{
    err[0] = '\0';
    *state = NULL;
    pthread_mutex_lock(&minor2_lock);
    load_serial++;
    if (!minor2_cleanup_set)
        minor2_cleanup_set = 1, atexit(fake_host_reset);
    pthread_mutex_unlock(&minor2_lock);
    atomic_store(&in_load, 1);
    int rc;
    if (LP_ABI_MINOR_OF(p->abi) >= 1 && (p->args || p->load_args))
        rc = load_declared(p, args, state, err, errlen);
    else
        rc = p->load ? p->load(&fake_host, args, state, err, errlen) : 0;
    atomic_store(&in_load, 0);
    return rc;
}

int fake_open(struct fake_conn *c, const struct lp_plugin *p, void *pstate, uint64_t id,
              unsigned port)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->p = p;
    c->pstate = pstate;
    snprintf(c->peer, sizeof c->peer, "127.0.0.1:%u", port);
    c->listener_name = "test";
    c->listener_addr = "127.0.0.1:7000";
    return p->open ? p->open(pstate, (struct lp_conn *)c, &c->state) : 0;
}

enum lp_verdict fake_message(struct fake_conn *c, const char *msg, size_t len)
{
    enum lp_verdict v = c->p->message(c->pstate, (struct lp_conn *)c, c->state, msg, len);
    /* a chain of one: a message this plugin said is not its own goes to its catch-all */
    if (v == LP_NOT_MINE && LP_ABI_MINOR_OF(c->p->abi) >= 1 && c->p->unhandled)
        c->p->unhandled(c->pstate, (struct lp_conn *)c, c->state, msg, len);
    return v;
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

/* metrics - see metrics.h. Names follow Prometheus conventions: the linepool_ prefix, base
 * units (seconds, bytes), _total on counters, and only bounded labels (listener, reason,
 * worker, plugin: each set is fixed at startup). */
#include "metrics.h"

#include "chain.h"
#include "conn.h"
#include "connset.h"
#include "plugin_metrics.h"
#include "pool.h"
#include "registry.h"
#include "stats.h"
#include "textbuf.h"
#include "timing.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void family(struct textbuf *out, const char *name, const char *type, const char *help)
{
    textbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the text format wants (backslash, quote, newline). */
static void label_value(struct textbuf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            textbuf_printf(out, "\\%c", *v);
        else if (*v == '\n')
            textbuf_put(out, "\\n", 2);
        else
            textbuf_put(out, v, 1);
    }
}

static void sample(struct textbuf *out, const char *name, const char *label, const char *value,
                   uint64_t v)
{
    textbuf_printf(out, "%s", name);
    if (label) {
        textbuf_printf(out, "{%s=\"", label);
        label_value(out, value);
        textbuf_put(out, "\"}", 2);
    }
    textbuf_printf(out, " %llu\n", (unsigned long long)v);
}

static void sample_f(struct textbuf *out, const char *name, const char *label, const char *value,
                     double v)
{
    textbuf_printf(out, "%s", name);
    if (label) {
        textbuf_printf(out, "{%s=\"", label);
        label_value(out, value);
        textbuf_put(out, "\"}", 2);
    }
    textbuf_printf(out, " %.15g\n", v);
}

static uint64_t listener_open_now(const struct conn_env *env, unsigned i)
{
    const struct listener_counters *l = &env->listeners[i];
    /* closed first: a connection accepted after this read is then counted as open, never
     * one closed in between as open -1 */
    uint64_t closed = atomic_load_explicit(&l->closed, memory_order_relaxed);
    uint64_t accepted = atomic_load_explicit(&l->accepted, memory_order_relaxed);
    return accepted > closed ? accepted - closed : 0;
}

void metrics_totals(const struct metrics_src *m, struct metrics_totals *t)
{
    memset(t, 0, sizeof *t);
    for (unsigned i = 0; i < m->env->nlisteners; i++) {
        t->accepted += atomic_load_explicit(&m->env->listeners[i].accepted, memory_order_relaxed);
        t->open += listener_open_now(m->env, i);
    }
    conn_totals(m->env, -1, &t->messages, &t->bytes_in, &t->bytes_out);
    t->rejected = stats_get(&stats.rejected) + stats_get(&stats.fd_limit_refusals);
}

/* --- /proc/self ------------------------------------------------------------------------ */

struct process {
    double cpu_seconds;
    uint64_t rss_bytes, open_fds, max_fds;
};

static void read_process(struct process *p)
{
    memset(p, 0, sizeof *p);
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
        p->cpu_seconds = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        unsigned long size, resident;
        if (fscanf(f, "%lu %lu", &size, &resident) == 2)
            p->rss_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        for (struct dirent *e; (e = readdir(d));)
            p->open_fds += e->d_name[0] != '.';
        closedir(d);
        p->open_fds--; /* the directory's own fd */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        p->max_fds = (uint64_t)rl.rlim_cur;
}

/* --- the families ---------------------------------------------------------------------- */

static void server_families(const struct metrics_src *m, struct textbuf *out)
{
    family(out, "linepool_build_info", "gauge", "Always 1; the version is the label");
    sample(out, "linepool_build_info", "version", LP_VERSION, 1);
    family(out, "linepool_start_time_seconds", "gauge",
           "When the server started, in seconds since the Unix epoch");
    sample_f(out, "linepool_start_time_seconds", NULL, NULL, m->start_unix);
    family(out, "linepool_draining", "gauge", "1 once SIGINT or SIGTERM started the drain");
    sample(out, "linepool_draining", NULL, NULL,
           (uint64_t)atomic_load_explicit(m->draining, memory_order_relaxed));
    family(out, "linepool_connections_max", "gauge",
           "Open connections allowed (--max-conns, or the fd limit less 64)");
    sample(out, "linepool_connections_max", NULL, NULL, m->max_conns);
}

static void listener_families(const struct metrics_src *m, struct textbuf *out)
{
    const struct conn_env *env = m->env;
    family(out, "linepool_connections", "gauge", "Connections open now, by listener");
    for (unsigned i = 0; i < env->nlisteners; i++)
        sample(out, "linepool_connections", "listener", m->listeners[i].listener_name,
               listener_open_now(env, i));
    family(out, "linepool_connections_accepted_total", "counter",
           "Connections accepted (and not refused), by listener");
    for (unsigned i = 0; i < env->nlisteners; i++)
        sample(out, "linepool_connections_accepted_total", "listener",
               m->listeners[i].listener_name,
               atomic_load_explicit(&env->listeners[i].accepted, memory_order_relaxed));
    static const char *const names[] = {"linepool_messages_total", "linepool_read_bytes_total",
                                        "linepool_written_bytes_total"};
    static const char *const helps[] = {
        "Messages delivered to the plugin chain, by listener",
        "Bytes read from clients, by listener",
        "Bytes written to clients, by listener",
    };
    for (int f = 0; f < 3; f++) {
        family(out, names[f], "counter", helps[f]);
        for (unsigned i = 0; i < env->nlisteners; i++) {
            uint64_t v[3];
            conn_totals(env, (int)i, &v[0], &v[1], &v[2]);
            sample(out, names[f], "listener", m->listeners[i].listener_name, v[f]);
        }
    }
}

static void stats_families(struct textbuf *out)
{
    const char *last = "";
#define STATS_RENDER(field, fam, lname, lvalue, help)                                              \
    if (strcmp(last, fam) != 0) {                                                                  \
        family(out, fam, "counter", help);                                                         \
        last = fam;                                                                                \
    }                                                                                              \
    sample(out, fam, lname, lvalue, stats_get(&stats.field));
    STATS_FIELDS(STATS_RENDER)
#undef STATS_RENDER
}

static void worker_families(const struct metrics_src *m, struct textbuf *out)
{
    family(out, "linepool_worker_busy_seconds_total", "counter",
           "Time each worker spent outside a blocking epoll_wait, counted when it next waits");
    for (unsigned i = 0; i < m->env->nworkers; i++) {
        char worker[16];
        snprintf(worker, sizeof worker, "%u", i);
        sample_f(out, "linepool_worker_busy_seconds_total", "worker", worker,
                 (double)pool_busy_ns(m->pool, i) / 1e9);
    }
    family(out, "linepool_worker_handoffs_total", "counter",
           "Times a worker stuck in one callback had its set taken over by a waiting worker");
    sample(out, "linepool_worker_handoffs_total", NULL, NULL, pool_handoffs(m->pool));
    family(out, "linepool_workers_taking_connections", "gauge",
           "Workers that new and moving connections go to now (--spread load: as many as the "
           "load needs; --spread all: every worker)");
    sample(out, "linepool_workers_taking_connections", NULL, NULL, pool_width(m->pool));
}

/* The per-worker histograms of one plugin instance, summed. */
static void handler_histogram(const struct metrics_src *m, const struct plugin *p,
                              struct textbuf *out)
{
    uint64_t counts[TIMING_BUCKETS + 1] = {0}, sum_ns = 0;
    for (unsigned w = 0; w < m->env->nworkers; w++) {
        const struct timing *t = &m->env->timing[w * m->env->nplugins + p->index];
        for (unsigned b = 0; b <= TIMING_BUCKETS; b++)
            counts[b] += atomic_load_explicit(&t->counts[b], memory_order_relaxed);
        sum_ns += atomic_load_explicit(&t->sum_ns, memory_order_relaxed);
    }
    const char *name = "linepool_handler_duration_seconds";
    uint64_t cumulative = 0;
    for (unsigned b = 0; b <= TIMING_BUCKETS; b++) {
        cumulative += counts[b];
        textbuf_printf(out, "%s_bucket{plugin=\"", name);
        label_value(out, p->key);
        if (b < TIMING_BUCKETS)
            textbuf_printf(out, "\",le=\"%g\"} %llu\n", (double)timing_bound_ns(b) / 1e9,
                           (unsigned long long)cumulative);
        else
            textbuf_printf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
    }
    sample_f(out, "linepool_handler_duration_seconds_sum", "plugin", p->key, (double)sum_ns / 1e9);
    sample(out, "linepool_handler_duration_seconds_count", "plugin", p->key, cumulative);
}

struct plugin_visit {
    const struct metrics_src *m;
    struct textbuf *out;
};

static void visit_histogram(const struct plugin *p, uint64_t conns, void *arg)
{
    (void)conns;
    struct plugin_visit *v = arg;
    handler_histogram(v->m, p, v->out);
}

static void handler_families(const struct metrics_src *m, struct textbuf *out)
{
    if (!m->env->timing)
        return;
    family(out, "linepool_handler_duration_seconds", "histogram",
           "Time in each plugin's message hook, per message");
    struct plugin_visit v = {m, out};
    registry_visit(m->reg, visit_histogram, &v); /* a reload may unload what it replaced */
}

static void process_families(const struct metrics_src *m, struct textbuf *out)
{
    struct process p;
    read_process(&p);
    family(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent");
    sample_f(out, "process_cpu_seconds_total", NULL, NULL, p.cpu_seconds);
    family(out, "process_resident_memory_bytes", "gauge", "Resident memory size");
    sample(out, "process_resident_memory_bytes", NULL, NULL, p.rss_bytes);
    family(out, "process_open_fds", "gauge", "Open file descriptors");
    sample(out, "process_open_fds", NULL, NULL, p.open_fds);
    family(out, "process_max_fds", "gauge", "The soft limit on open file descriptors");
    sample(out, "process_max_fds", NULL, NULL, p.max_fds);
    family(out, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch, in seconds");
    sample_f(out, "process_start_time_seconds", NULL, NULL, m->start_unix);
}

void metrics_prometheus(const struct metrics_src *m, struct textbuf *out)
{
    server_families(m, out);
    listener_families(m, out);
    stats_families(out);
    worker_families(m, out);
    handler_families(m, out);
    if (m->plugin_metrics)
        plugin_metrics_render(m->plugin_metrics, out);
    process_families(m, out);
}

void metrics_stats(const struct metrics_src *m, struct textbuf *out)
{
    struct metrics_totals t;
    metrics_totals(m, &t);
    struct process p;
    read_process(&p);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double uptime = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - m->start_unix;
    textbuf_printf(out, "STAT pid %ld\n", (long)getpid());
    textbuf_printf(out, "STAT uptime %.0f\n", uptime > 0 ? uptime : 0);
    textbuf_printf(out, "STAT time %lld\n", (long long)now.tv_sec);
    textbuf_printf(out, "STAT version %s\n", LP_VERSION);
    textbuf_printf(out, "STAT threads %u\n", m->env->nworkers);
    textbuf_printf(out, "STAT draining %d\n",
                   atomic_load_explicit(m->draining, memory_order_relaxed));
    textbuf_printf(out, "STAT curr_connections %llu\n", (unsigned long long)t.open);
    textbuf_printf(out, "STAT max_connections %u\n", m->max_conns);
    textbuf_printf(out, "STAT total_connections %llu\n", (unsigned long long)t.accepted);
    textbuf_printf(out, "STAT messages %llu\n", (unsigned long long)t.messages);
    textbuf_printf(out, "STAT bytes_read %llu\n", (unsigned long long)t.bytes_in);
    textbuf_printf(out, "STAT bytes_written %llu\n", (unsigned long long)t.bytes_out);
#define STATS_LINE(field, fam, lname, lvalue, help)                                                \
    textbuf_printf(out, "STAT %s %llu\n", #field, (unsigned long long)stats_get(&stats.field));
    STATS_FIELDS(STATS_LINE)
#undef STATS_LINE
    textbuf_printf(out, "STAT rusage_cpu_seconds %.6f\n", p.cpu_seconds);
    textbuf_printf(out, "STAT rss_bytes %llu\n", (unsigned long long)p.rss_bytes);
    textbuf_printf(out, "STAT open_fds %llu\n", (unsigned long long)p.open_fds);
    textbuf_printf(out, "END\n");
}

static void visit_plugin_line(const struct plugin *p, uint64_t conns, void *arg)
{
    struct plugin_visit *v = arg;
    textbuf_printf(v->out, "PLUGIN %s %s connections=%llu\n", p->key,
                   p->desc->version ? p->desc->version : "-", (unsigned long long)conns);
}

void metrics_plugins(const struct metrics_src *m, struct textbuf *out)
{
    struct plugin_visit v = {m, out};
    registry_visit(m->reg, visit_plugin_line, &v); /* connections on every version it has */
    textbuf_printf(out, "END\n");
}

/* server - startup, the accept/signal/timeout loop on the main thread, graceful shutdown. */
#include "server.h"

#include "admin.h"
#include "chain.h"
#include "cidr.h"
#include "conn.h"
#include "connset.h"
#include "host.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "monotonic.h"
#include "notify.h"
#include "passfd.h"
#include "plugin_metrics.h"
#include "pool.h"
#include "registry.h"
#include "reload.h"
#include "stats.h"
#include "timers.h"
#include "timing.h"
#include "upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct stats stats;

#define READ_BUFFER (256 * 1024) /* per worker, not per connection */
#define SWEEP_NS    (100ull * 1000000ull)
#define FD_RESERVE  64 /* fds kept back from --max-conns for listeners, plugins, logs */
#define NS_PER_S    1000000000.0

struct server {
    const struct config *cfg;
    struct registry *reg;
    struct reload *reload; /* SIGHUP */
    struct pool *pool;
    struct conn_env env; /* the pool's context: read by every connection, fixed once started */
    struct timers *timers;
    struct connset conns;
    struct listeners listeners;
    struct chain *chains;           /* one per listener, in --listen order; the listener's user */
    struct admin *admin;            /* --admin, or NULL */
    struct metrics_src metrics;     /* what the admin listener and the exit summary read */
    struct plugin_metrics pmetrics; /* what plugins registered (host metric_new) */
    size_t nchains;
    char (*fdnames)[PASSFD_NAME_MAX + 1]; /* per listener: its name when handed to an upgrade */
    const struct listen_spec **specs;     /* per listener */
    char admin_fdname[PASSFD_NAME_MAX + 1];
    int epfd, sigfd;
    _Atomic int draining;
    uint64_t next_id;
    unsigned max_conns;
    size_t retiring; /* plugin versions waiting for their last connection */
    uint64_t next_sweep_ns, started_ns, drain_deadline_ns;
    struct notify notify;   /* the service manager, if any (notify.h) */
    struct passfds passed;  /* sockets passed at exec, until the listeners took theirs */
    struct upgrade upgrade; /* a SIGUSR2 upgrade in progress */
    const char *exe;        /* what SIGUSR2 runs, with argv; NULL: upgrades refused */
    char *const *argv;
    uint64_t next_ping_ns;
    int watchdog_held; /* a keep-alive was withheld for a stuck worker */
};

static unsigned raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur > 1000000 ? 1000000 : (unsigned)rl.rlim_cur;
}

static int load_plugins(struct server *s, char *err, size_t errlen)
{
    const char *const *dirs = (const char *const *)s->cfg->plugin_dirs;
    for (size_t i = 0; i < s->cfg->nplugin_specs; i++) {
        int rc =
            registry_load(s->reg, s->cfg->plugin_specs[i], dirs, s->cfg->nplugin_dirs, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int build_chain(struct server *s, const struct listen_spec *spec, struct chain *chain,
                       char *err, size_t errlen)
{
    const char *const *dirs = (const char *const *)s->cfg->plugin_dirs;
    chain->plugins = calloc(spec->nplugins, sizeof *chain->plugins);
    if (!chain->plugins)
        return -ENOMEM;
    for (size_t i = 0; i < spec->nplugins; i++) {
        char why[512];
        struct plugin *p =
            registry_get(s->reg, spec->plugins[i], dirs, s->cfg->nplugin_dirs, why, sizeof why);
        if (!p) {
            if (spec->systemd)
                snprintf(err, errlen, "--listen systemd:%s: %s", spec->systemd, why);
            else
                snprintf(err, errlen, "--listen %s:%u: %s", spec->host, spec->port, why);
            return -ENOENT;
        }
        chain->plugins[i] = p;
        chain->n++;
    }
    return 0;
}

static void print_listener(const struct listen_spec *spec, const char *name)
{
    printf("listening on %s (", name);
    for (size_t i = 0; i < spec->nplugins; i++)
        printf("%s%s", i ? "," : "", spec->plugins[i]);
    printf(")\n");
}

static void admit(void *ctx, struct listener *l, int fd, const struct sockaddr *sa);

/* One listener of spec: a passed socket named for it (systemd:NAME, or an upgrade's
 * HOST/PORT: passfd.h), else a fresh bind. */
static int open_one(struct server *s, const struct listen_spec *spec, size_t i, char *err,
                    size_t errlen)
{
    struct chain *chain = &s->chains[i];
    char *fdname = s->fdnames[i];
    s->specs[i] = spec;
    int rc = build_chain(s, spec, chain, err, errlen);
    if (rc)
        return rc;
    char what[PASSFD_NAME_MAX + 16], why[128];
    if (spec->systemd) {
        snprintf(fdname, sizeof s->fdnames[i], "%s", spec->systemd);
        snprintf(what, sizeof what, "systemd:%s", spec->systemd);
    } else {
        passfd_key(spec->host, spec->port, fdname, sizeof s->fdnames[i]);
        snprintf(what, sizeof what, "%s:%u", spec->host, spec->port);
    }
    int fd = passfd_claim(&s->passed, fdname);
    if (fd >= 0 && (rc = passfd_check_listening(fd, why, sizeof why))) {
        snprintf(err, errlen, "--listen %s: the passed socket %d is %s", what, fd, why);
        close(fd);
        return rc;
    }
    if (fd >= 0)
        rc = listeners_adopt(&s->listeners, fd, chain, err, errlen);
    else if (spec->systemd)
        rc = -ENOENT; /* not reached: count_listeners made sure there are enough */
    else
        rc = listeners_add(&s->listeners, spec->host, spec->port, chain, err, errlen);
    if (rc)
        return rc;
    chain->listener_addr = s->listeners.items[i].name;
    chain->listener_name = spec->name ? spec->name : chain->listener_addr;
    chain->index = (unsigned)i;
    return 0;
}

/* Listeners per spec: one, or every passed socket a systemd:NAME names (a socket unit may
 * pass several under one name, e.g. an IPv4 and an IPv6 address). */
static size_t listeners_of(const struct server *s, const struct listen_spec *spec)
{
    return spec->systemd ? passfd_count(&s->passed, spec->systemd) : 1;
}

static void passed_names(const struct passfds *p, char *out, size_t len)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->n && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%s", i ? ":" : "", p->v[i].name);
}

/* How many listeners the specs make; 0 with a line in err when a systemd:NAME has none. */
static size_t count_listeners(const struct server *s, char *err, size_t errlen)
{
    size_t total = 0;
    for (size_t i = 0; i < s->cfg->nlistens; i++) {
        const struct listen_spec *spec = &s->cfg->listens[i];
        size_t k = listeners_of(s, spec);
        if (k == 0) {
            char names[512];
            passed_names(&s->passed, names, sizeof names);
            snprintf(err, errlen,
                     "--listen systemd:%s: no socket named '%s' was passed (LISTEN_FDNAMES: %s)",
                     spec->systemd, spec->systemd, s->passed.n ? names : "none passed");
            return 0;
        }
        total += k;
    }
    return total;
}

static int open_listeners(struct server *s, char *err, size_t errlen)
{
    size_t n = count_listeners(s, err, errlen);
    if (n == 0)
        return -ENOENT; /* --listen is never empty: the defaults fill it */
    int rc = listeners_init(&s->listeners, n, s->epfd, admit, s);
    if (rc || !(s->chains = calloc(n, sizeof *s->chains)) ||
        !(s->fdnames = calloc(n, sizeof *s->fdnames)) || !(s->specs = calloc(n, sizeof *s->specs)))
        return rc ? rc : -ENOMEM;
    size_t i = 0;
    for (size_t k = 0; k < s->cfg->nlistens; k++) {
        const struct listen_spec *spec = &s->cfg->listens[k];
        for (size_t left = listeners_of(s, spec); left > 0; left--, i++) {
            s->nchains = i + 1;
            if ((rc = open_one(s, spec, i, err, errlen)))
                return rc;
        }
    }
    passfd_finish(&s->passed);
    /* Print only once every listener is bound, so a script that sees the lines can connect. */
    if (s->admin)
        printf("admin listening on %s\n", admin_addr(s->admin));
    for (i = 0; i < n; i++)
        print_listener(s->specs[i], s->listeners.items[i].name);
    fflush(stdout);
    return 0;
}

static int setup_signals(struct server *s)
{
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished is an EPIPE, never a death */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL))
        return -EINVAL;
    if ((s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->sigfd};
    return epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev) < 0 ? -errno : 0;
}

static int start_reload(struct server *s)
{
    size_t n = s->nchains; /* one per listener: a systemd:NAME spec may make several */
    struct chain **chains = calloc(n ? n : 1, sizeof *chains);
    if (!chains)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        chains[i] = &s->chains[i];
    s->reload =
        reload_new(s->reg, s->timers, chains, n, s->cfg->max_generations, s->cfg->reload_timeout);
    free(chains);
    return s->reload ? 0 : -ENOMEM;
}

static size_t longest_chain(const struct server *s)
{
    size_t n = 1;
    for (size_t i = 0; i < s->nchains; i++)
        n = s->chains[i].n > n ? s->chains[i].n : n;
    return n;
}

static int start_workers(struct server *s)
{
    unsigned n = s->cfg->threads;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (unsigned)cpus : 1;
    }
    s->env = (struct conn_env){
        .set = &s->conns,
        .timers = s->timers,
        .nworkers = n,
        .nlisteners = (unsigned)s->listeners.n,
        .max_line = s->cfg->max_line,
        .max_output = s->cfg->max_output,
        .write_timeout_ns = (uint64_t)(s->cfg->write_timeout * NS_PER_S),
        .draining = &s->draining,
    };
    if (!(s->env.slab = conn_slab_new(longest_chain(s))))
        return -errno;
    size_t blocks = n * s->listeners.n;
    if (!(s->env.counters = aligned_alloc(64, blocks * sizeof *s->env.counters)))
        return -ENOMEM;
    memset(s->env.counters, 0, blocks * sizeof *s->env.counters);
    /* Handler times are taken only when someone can read them (--admin). */
    s->env.nplugins = registry_count(s->reg);
    if (s->cfg->admin_host && s->env.nplugins) {
        if (!(s->env.timing = aligned_alloc(64, n * s->env.nplugins * sizeof *s->env.timing)))
            return -ENOMEM;
        memset(s->env.timing, 0, n * s->env.nplugins * sizeof *s->env.timing);
        for (size_t b = 0; b < blocks; b++)
            s->env.counters[b].timing = s->env.timing + b / s->listeners.n * s->env.nplugins;
    }
    size_t lsize = s->listeners.n * sizeof *s->env.listeners;
    if (!(s->env.listeners = aligned_alloc(64, lsize)))
        return -ENOMEM;
    memset(s->env.listeners, 0, lsize);
    /* The pool is created last: from here on the environment does not change. */
    if (!(s->pool = pool_new(n, READ_BUFFER, conn_ready, conn_release, &s->env)))
        return -errno;
    if (!s->cfg->spread_all)
        pool_spread_by_load(s->pool);
    s->env.pool = s->pool;
    return 0;
}

static int start_admin(struct server *s)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s->metrics = (struct metrics_src){
        .env = &s->env,
        .pool = s->pool,
        .reg = s->reg,
        .plugin_metrics = &s->pmetrics,
        .listeners = s->chains,
        .draining = &s->draining,
        .max_conns = s->max_conns,
        .start_unix = (double)now.tv_sec + (double)now.tv_nsec / 1e9,
    };
    return s->admin ? admin_start(s->admin, &s->metrics) : 0;
}

/* The admin listener: the socket an upgrading parent passed for it, else a fresh bind. */
static struct admin *open_admin(struct server *s, char *err, size_t errlen)
{
    char why[128];
    strcpy(s->admin_fdname, "admin/");
    passfd_key(s->cfg->admin_host, s->cfg->admin_port, s->admin_fdname + 6,
               sizeof s->admin_fdname - 6);
    int fd = passfd_claim(&s->passed, s->admin_fdname);
    if (fd < 0)
        return admin_open(s->cfg->admin_host, s->cfg->admin_port, err, errlen);
    if (passfd_check_listening(fd, why, sizeof why)) {
        snprintf(err, errlen, "--admin: the passed socket %d is %s", fd, why);
        close(fd);
        return NULL;
    }
    return admin_adopt(fd, err, errlen);
}

static unsigned pick_max_conns(const struct config *cfg)
{
    unsigned fds = raise_fd_limit();
    unsigned fit = fds > 2 * FD_RESERVE ? fds - FD_RESERVE : fds / 2;
    return cfg->max_conns ? cfg->max_conns : fit;
}

/* A server with nothing open yet, or NULL with err filled. */
static struct server *server_new(const struct config *cfg, char *err, size_t errlen)
{
    struct server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->epfd = s->sigfd = -1;
    s->listeners.reserve_fd = -1;
    s->started_ns = monotonic_ns();
    connset_init(&s->conns);
    upgrade_init(&s->upgrade);
    s->notify.fd = -1; /* nobody to notify until notify_from_env says */
    return s;
}

/* The timer thread and the registry whose plugins use it. */
static int make_registry(struct server *s)
{
    if (!(s->timers = timers_new(&s->conns)))
        return -errno;
    if (!(s->reg = registry_new(host_table(&s->draining, &s->conns, s->timers, &s->pmetrics))))
        return -errno;
    return 0;
}

int server_check(const struct config *cfg, char *err, size_t errlen)
{
    struct server *s = server_new(cfg, err, errlen);
    if (!s)
        return -ENOMEM;
    int rc = make_registry(s);
    if (rc)
        snprintf(err, errlen, "cannot check: %s", strerror(-rc));
    if (!rc)
        rc = load_plugins(s, err, errlen);
    for (size_t i = 0; !rc && i < cfg->nlistens; i++) {
        struct chain chain = {0};
        rc = build_chain(s, &cfg->listens[i], &chain, err, errlen);
        free(chain.plugins);
    }
    server_free(s);
    return rc;
}

struct server *server_start(const struct config *cfg, char *err, size_t errlen)
{
    struct server *s = server_new(cfg, err, errlen);
    if (!s)
        return NULL;
    s->max_conns = pick_max_conns(cfg);
    /* The environment is read before any thread starts (unsetenv is not thread-safe). */
    int rc = notify_from_env(&s->notify, err, errlen);
    if (rc || (rc = passfd_from_env(&s->passed, err, errlen)))
        goto out_free;
    if ((rc = chain_crash_report_install()) || (rc = make_registry(s)))
        goto out_fail;
    /* Signals are blocked before any plugin loads: a thread a plugin starts in its load hook
     * inherits the mask, so SIGTERM reaches our signalfd and never kills the process there. */
    if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        rc = -errno;
    if (rc || (rc = setup_signals(s)))
        goto out_fail;
    if ((rc = load_plugins(s, err, errlen)))
        goto out_free;
    if (cfg->admin_host && !(s->admin = open_admin(s, err, errlen))) {
        rc = -EADDRNOTAVAIL;
        goto out_free;
    }
    if ((rc = open_listeners(s, err, errlen)))
        goto out_free;
    if ((rc = start_reload(s)) || (rc = start_workers(s)) || (rc = start_admin(s)))
        goto out_fail;
    log_info("linepool-server %s: %u workers, max %u connections, max line %zu bytes", LP_VERSION,
             pool_threads(s->pool), s->max_conns, cfg->max_line);
    for (size_t i = 0; i < registry_count(s->reg); i++) {
        const struct plugin *p = registry_at(s->reg, i);
        log_info("plugin %s%s%s loaded from %s", p->key, p->desc->version ? " " : "",
                 p->desc->version ? p->desc->version : "", p->real);
    }
    return s;
out_fail:
    snprintf(err, errlen, "cannot start: %s", strerror(-rc));
out_free:
    server_free(s);
    return NULL;
}

static void reject(int fd, const char *line)
{
    ssize_t rc = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)rc; /* best effort: the client learns why, or at least sees the close */
    close(fd);
}

/* Every accepted socket: refused over --max-conns, else a connection placed in the pool. */
/* Only trusted proxies may name a client (spec 5): anyone else is closed unanswered. */
static int untrusted_proxy(struct server *s, struct listener *l, const struct sockaddr *sa)
{
    if (cidr_match(s->cfg->proxy_trusted, s->cfg->nproxy_trusted, sa))
        return 0;
    char text[ADDR_TEXT_MAX];
    addr_format(sa, text);
    stats_add(&stats.rejected_proxy_untrusted, 1);
    log_info("%s: peer %s is not in --proxy-trusted; closing unanswered", l->name, text);
    return 1;
}

static void admit(void *ctx, struct listener *l, int fd, const struct sockaddr *sa)
{
    struct server *s = ctx;
    /* +proxy: a PROXY header first, from --proxy-trusted peers only */
    int proxy = (s->specs[l - s->listeners.items]->flags & LISTEN_PROXY) != 0;
    if (proxy && untrusted_proxy(s, l, sa)) {
        close(fd);
        return;
    }
    if (connset_count(&s->conns) >= s->max_conns) {
        stats_add(&stats.rejected, 1);
        char line[64];
        snprintf(line, sizeof line, "ERR too many connections (max %u)\n", s->max_conns);
        reject(fd, line);
        return;
    }
    int one = 1; /* replies are small and latency matters more than packet count */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = conn_new(&s->env, fd, sa, l->user, ++s->next_id);
    if (c && proxy && conn_expect_proxy(c, (uint64_t)(s->cfg->proxy_timeout * NS_PER_S)) < 0) {
        conn_discard(c);
        c = NULL;
    }
    if (!c) {
        reject(fd, "ERR server out of memory\n");
        return;
    }
    const struct chain *chain = l->user;
    atomic_fetch_add_explicit(&s->env.listeners[chain->index].accepted, 1, memory_order_relaxed);
    log_debug("conn %llu %s accepted on %s", (unsigned long long)conn_id(c), conn_peer_text(c),
              l->name);
    conn_start(c);
}

static void kick_drain(struct connset_link *l, void *arg)
{
    (void)arg;
    conn_kick(conn_of_link(l), KICK_DRAIN);
}

static void start_drain(struct server *s, const char *signame)
{
    if (s->upgrade.child) {
        log_warn("%s: abandoning the upgrade: killing new process %d, which was not ready yet",
                 signame, (int)s->upgrade.child);
        upgrade_abandon(&s->upgrade);
    }
    notify_send(&s->notify, "STOPPING=1\nSTATUS=draining");
    size_t nconns = connset_count(&s->conns);
    log_info("%s: stopping; finishing %zu connection%s (deadline %.3f s)", signame, nconns,
             nconns == 1 ? "" : "s", s->cfg->drain_timeout);
    listeners_close(&s->listeners);
    s->drain_deadline_ns = monotonic_ns() + (uint64_t)(s->cfg->drain_timeout * NS_PER_S);
    atomic_store(&s->draining, 1);
    timers_quiesce(s->timers); /* no timer callback from the drain on */
    connset_foreach(&s->conns, kick_drain, NULL);
}

struct sweep {
    uint64_t now, idle_ns;
};

static void sweep_one(struct connset_link *l, void *arg)
{
    const struct sweep *sw = arg;
    struct conn *c = conn_of_link(l);
    enum conn_kick kick = conn_sweep_verdict(c, sw->now, sw->idle_ns);
    if (kick != KICK_NONE)
        conn_kick(c, kick);
}

static void sweep(struct server *s, uint64_t now)
{
    struct sweep sw = {.now = now, .idle_ns = (uint64_t)(s->cfg->idle_timeout * NS_PER_S)};
    connset_foreach(&s->conns, sweep_one, &sw);
}

/* Returns the signal that arrived, or 0. */
static int read_signal(struct server *s)
{
    struct signalfd_siginfo si;
    if (read(s->sigfd, &si, sizeof si) != sizeof si)
        return 0;
    return (int)si.ssi_signo;
}

/* SIGUSR2: start the new process; this one keeps serving until it is ready. */
static void start_upgrade(struct server *s)
{
    if (atomic_load(&s->draining)) {
        log_warn("SIGUSR2 during the drain: ignored (this process is stopping)");
        return;
    }
    if (s->upgrade.child) {
        log_warn("SIGUSR2: ignored, the upgrade to pid %d is in progress", (int)s->upgrade.child);
        return;
    }
    if (!s->exe) {
        log_warn("SIGUSR2: ignored, the server's own path is unknown");
        return;
    }
    size_t n = s->listeners.n;
    struct upgrade_fd *fds = calloc(n + 1, sizeof *fds);
    if (!fds) {
        log_error("SIGUSR2: out of memory; still serving");
        return;
    }
    for (size_t i = 0; i < n; i++)
        fds[i] = (struct upgrade_fd){.fd = s->listeners.items[i].fd, .name = s->fdnames[i]};
    if (s->admin) /* the admin port moves too: the new process could not bind it */
        fds[n++] = (struct upgrade_fd){.fd = admin_fd(s->admin), .name = s->admin_fdname};
    char target[128], err[512];
    notify_target(&s->notify, target, sizeof target);
    int rc = upgrade_start(&s->upgrade, s->exe, s->argv, fds, n, target, s->notify.watchdog_ns,
                           (uint64_t)(s->cfg->upgrade_timeout * NS_PER_S), err, sizeof err);
    free(fds);
    if (rc) {
        log_error("SIGUSR2: upgrade failed: %s; still serving", err);
        return;
    }
    log_info("SIGUSR2: started %s as pid %d; waiting up to %.3f s for it to be ready", s->exe,
             (int)s->upgrade.child, s->cfg->upgrade_timeout);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->upgrade};
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->upgrade.sock, &ev);
}

/* The upgrade's progress: once the new process is ready this one hands the service over
 * (the manager learns the new main pid) and drains as at SIGTERM. */
static void check_upgrade(struct server *s, uint64_t now)
{
    char why[128];
    pid_t child = s->upgrade.child;
    enum upgrade_state st = upgrade_poll(&s->upgrade, now, why, sizeof why);
    if (st == UPGRADE_PENDING)
        return;
    if (st == UPGRADE_FAILED) {
        log_error("upgrade: new process %d %s; still serving", (int)child, why);
        return;
    }
    log_info("upgrade: new process %d is ready; pid %d stops accepting and drains", (int)child,
             (int)getpid());
    char msg[128];
    snprintf(msg, sizeof msg, "MAINPID=%d\nSTATUS=upgraded: pid %d serves", (int)child, (int)child);
    notify_send(&s->notify, msg);
    notify_close(&s->notify); /* no longer the main process: STOPPING would stop the service */
    upgrade_done(&s->upgrade);
    /* Health checks and scrapes go to the new process from now on (this one's /readyz would
     * answer 503 for the drain). */
    admin_free(s->admin);
    s->admin = NULL;
    start_drain(s, "upgrade");
}

/* WATCHDOG=1 every half interval, held back while a worker is stuck in one callback for
 * longer than that: a wedged plugin ends in the manager's watchdog action. */
static void watchdog_tick(struct server *s, uint64_t now)
{
    uint64_t every = s->notify.watchdog_ns / 2;
    if (!every || now < s->next_ping_ns)
        return;
    s->next_ping_ns = now + every;
    uint64_t stuck = s->pool ? pool_longest_stuck_ns(s->pool) : 0;
    if (stuck > every) {
        if (!s->watchdog_held)
            log_warn("watchdog: a worker has been in one callback for %.3f s; keep-alive withheld",
                     (double)stuck / NS_PER_S);
        s->watchdog_held = 1;
        return;
    }
    if (s->watchdog_held)
        log_info("watchdog: every worker moves again; keep-alive resumed");
    s->watchdog_held = 0;
    notify_send(&s->notify, "WATCHDOG=1");
}

/* The main loop's longest sleep: until the next sweep, ping or upgrade check. */
static int loop_timeout_ms(const struct server *s, uint64_t now)
{
    int ms =
        atomic_load(&s->draining) || s->upgrade.child || s->retiring || reload_pending(s->reload)
            ? 10
            : 100;
    if (s->notify.watchdog_ns) {
        uint64_t left = s->next_ping_ns > now ? (s->next_ping_ns - now + 999999) / 1000000 : 0;
        ms = left < (uint64_t)ms ? (int)left : ms;
    }
    return ms;
}

static void print_summary(struct server *s)
{
    double up = (double)(monotonic_ns() - s->started_ns) / NS_PER_S;
    struct metrics_totals t = {0};
    uint64_t reloads, reload_failures;
    if (s->metrics.env)
        metrics_totals(&s->metrics, &t); /* the counters /metrics reads */
    reload_counts(s->reload, &reloads, &reload_failures);
    printf("linepool-server: stopped after %.3f s: connections=%llu messages=%llu bytes_in=%llu "
           "bytes_out=%llu rejected=%llu reloads=%llu reload_failures=%llu\n",
           up, (unsigned long long)t.accepted, (unsigned long long)t.messages,
           (unsigned long long)t.bytes_in, (unsigned long long)t.bytes_out,
           (unsigned long long)t.rejected, (unsigned long long)reloads,
           (unsigned long long)reload_failures);
    fflush(stdout);
}

static void handle_event(struct server *s, void *ptr, int *forced)
{
    if (ptr == &s->sigfd) {
        int signo = read_signal(s);
        if (!signo)
            return;
        if (signo == SIGUSR2) {
            start_upgrade(s);
            return;
        }
        const char *sig = signo == SIGINT ? "SIGINT" : signo == SIGHUP ? "SIGHUP" : "SIGTERM";
        if (signo == SIGHUP) {
            if (atomic_load(&s->draining))
                log_info("SIGHUP while stopping: no reload");
            else
                reload_run(s->reload, s->cfg->config_path);
            s->retiring = reload_retire(s->reload);
        } else if (atomic_load(&s->draining)) {
            log_warn("%s again: exiting now with %zu connections open", sig,
                     connset_count(&s->conns));
            *forced = 1;
        } else {
            start_drain(s, sig);
        }
    } else if (ptr == &s->upgrade) {
        if (s->upgrade.child)
            check_upgrade(s, monotonic_ns());
    } else if (!atomic_load(&s->draining)) {
        listeners_accept(&s->listeners, ptr, monotonic_ns());
    }
}

static void announce_ready(struct server *s)
{
    char status[512];
    size_t off = (size_t)snprintf(status, sizeof status, "STATUS=listening on");
    for (size_t i = 0; i < s->listeners.n && off < sizeof status; i++)
        off += (size_t)snprintf(status + off, sizeof status - off, "%s %s", i ? "," : "",
                                s->listeners.items[i].name);
    char mainpid[32];
    snprintf(mainpid, sizeof mainpid, "\nMAINPID=%d", (int)getpid());
    if (off + strlen(mainpid) < sizeof status)
        strcat(status, mainpid);
    notify_ready(&s->notify, status);
    s->next_ping_ns = monotonic_ns();
}

void server_allow_upgrade(struct server *s, const char *exe, char *const argv[])
{
    s->exe = exe;
    s->argv = argv;
}

int server_run(struct server *s)
{
    int forced = 0;
    announce_ready(s);
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(s->epfd, evs, 16, loop_timeout_ms(s, monotonic_ns()));
        for (int i = 0; i < n && !forced; i++)
            handle_event(s, evs[i].data.ptr, &forced);
        uint64_t now = monotonic_ns();
        watchdog_tick(s, now);
        if (s->upgrade.child && !forced)
            check_upgrade(s, now);
        if (!atomic_load(&s->draining))
            listeners_tick(&s->listeners, now);
        if (atomic_load(&s->draining))
            reload_abandon(s->reload); /* a reload still loading is given up, not waited for */
        else if (reload_pending(s->reload)) {
            reload_poll(s->reload, now);
            s->retiring = 1; /* versions it replaced may go: reload_retire counts them below */
        }
        if (s->retiring)
            s->retiring = reload_retire(s->reload);
        if (now >= s->next_sweep_ns) {
            sweep(s, now);
            s->next_sweep_ns = now + SWEEP_NS;
        }
        if (forced)
            break;
        if (atomic_load(&s->draining)) {
            if (connset_count(&s->conns) == 0)
                break;
            if (now > s->drain_deadline_ns) {
                log_error("drain deadline passed with %zu connections still open; exiting",
                          connset_count(&s->conns));
                forced = 1;
                break;
            }
        }
    }
    if (!forced) {
        admin_free(s->admin); /* it reads the registry and the pool: stopped before them */
        s->admin = NULL;
        pool_stop(s->pool);
        timers_free(s->timers); /* joined: no plugin timer runs into unloaded code */
        s->timers = NULL;
        log_info("all connections finished; unloading plugins");
        registry_free(s->reg);
        s->reg = NULL;
    }
    print_summary(s);
    return forced ? 1 : 0;
}

void server_free(struct server *s)
{
    if (!s)
        return;
    admin_free(s->admin);
    upgrade_abandon(&s->upgrade);
    notify_close(&s->notify);
    passfd_finish(&s->passed);
    pool_free(s->pool);
    timers_free(s->timers);
    conn_slab_free(s->env.slab);
    free(s->env.counters);
    free(s->env.listeners);
    free(s->env.timing);
    registry_free(s->reg);
    host_shared_free(); /* after the last unload */
    reload_free(s->reload);
    listeners_free(&s->listeners);
    for (size_t i = 0; s->chains && i < s->nchains; i++)
        free(s->chains[i].plugins);
    free(s->chains);
    free(s->fdnames);
    free(s->specs);
    if (s->sigfd >= 0)
        close(s->sigfd);
    if (s->epfd >= 0)
        close(s->epfd);
    connset_destroy(&s->conns);
    plugin_metrics_free(&s->pmetrics);
    free(s);
}

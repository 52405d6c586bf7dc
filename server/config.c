/* config - the server's option table, and argv plus the config file through it. Adding an
 * option is one entry in `options` below (and a field in struct config). */
#include "config.h"

#include "errbuf.h"

#include "cidr.h"
#include "values.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The default listeners: the tutorial's port 5005 measures streams like its receiver. */
static const char *const default_listens[] = {
    "127.0.0.1:5005=rate-meter",
    "127.0.0.1:5006=echo",
    "127.0.0.1:5007=counter",
};

static int push_string(char ***arr, size_t *n, const char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!grown)
        return -ENOMEM;
    *arr = grown;
    if (!(grown[*n] = strdup(s)))
        return -ENOMEM;
    (*n)++;
    return 0;
}

static void free_strings(char ***arr, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
}

/* A listener is given twice when its name, its host and (non-zero) port, or its systemd
 * socket name (systemd:NAME takes every socket of that name) is. */
static int check_duplicate(const struct config *cfg, const struct listen_spec *l, char *err,
                           size_t errlen)
{
    for (size_t i = 0; i < cfg->nlistens; i++) {
        const struct listen_spec *o = &cfg->listens[i];
        if (l->name && o->name && strcmp(l->name, o->name) == 0)
            return errbuf_set(err, errlen, -EINVAL, "listener name '%s' given twice", l->name);
        if (l->host && o->host && l->port && l->port == o->port && strcmp(l->host, o->host) == 0)
            return errbuf_set(err, errlen, -EINVAL, "listener %s:%u given twice", l->host, l->port);
        if (l->systemd && o->systemd && strcmp(l->systemd, o->systemd) == 0)
            return errbuf_set(err, errlen, -EINVAL, "listener systemd:%s given twice", l->systemd);
    }
    return 0;
}

static int apply_listen(void *base, const char *text, char *err, size_t errlen)
{
    struct config *cfg = base;
    struct listen_spec spec;
    int rc = listen_spec_parse(&spec, text, err, errlen);
    if (!rc)
        rc = check_duplicate(cfg, &spec, err, errlen);
    struct listen_spec *grown =
        rc ? NULL : realloc(cfg->listens, (cfg->nlistens + 1) * sizeof *grown);
    if (!grown) {
        listen_spec_free(&spec);
        return rc ? rc : -ENOMEM;
    }
    cfg->listens = grown;
    cfg->listens[cfg->nlistens++] = spec;
    return 0;
}

static void clear_listens(void *base)
{
    struct config *cfg = base;
    for (size_t i = 0; i < cfg->nlistens; i++)
        listen_spec_free(&cfg->listens[i]);
    free(cfg->listens);
    cfg->listens = NULL;
    cfg->nlistens = 0;
}

static int apply_plugin(void *base, const char *arg, char *err, size_t errlen)
{
    struct config *cfg = base;
    if (!*arg || *arg == ':')
        return errbuf_set(err, errlen, -EINVAL, "expected NAME[:ARGS]");
    return push_string(&cfg->plugin_specs, &cfg->nplugin_specs, arg);
}

static void clear_plugins(void *base)
{
    struct config *cfg = base;
    free_strings(&cfg->plugin_specs, &cfg->nplugin_specs);
}

static int apply_plugin_dir(void *base, const char *arg, char *err, size_t errlen)
{
    struct config *cfg = base;
    if (!*arg)
        return errbuf_set(err, errlen, -EINVAL, "expected a directory");
    return push_string(&cfg->plugin_dirs, &cfg->nplugin_dirs, arg);
}

static void clear_plugin_dirs(void *base)
{
    struct config *cfg = base;
    free_strings(&cfg->plugin_dirs, &cfg->nplugin_dirs);
}

/* --admin "HOST:PORT", "[IPV6]:PORT" or "PORT" (which means 127.0.0.1:PORT). */
static int apply_admin(void *base, const char *text, char *err, size_t errlen)
{
    struct config *cfg = base;
    const char *host = "127.0.0.1", *why = "", *port = strrchr(text, ':');
    size_t hlen = strlen(host);
    int rc = port ? values_parse_address(text, strlen(text), &host, &hlen, &cfg->admin_port, &why)
                  : values_parse_port(text, strlen(text), &cfg->admin_port);
    if (rc && (!port || strcmp(why, "bad port") == 0))
        return errbuf_set(err, errlen, -EINVAL, "bad port '%s' (0-65535; 0 picks a free port)",
                          port ? port + 1 : text);
    if (rc)
        return errbuf_set(err, errlen, -EINVAL, "%s (expected HOST:PORT, [IPV6]:PORT or PORT)",
                          why);
    char *copy = strndup(host, hlen);
    if (!copy)
        return -ENOMEM;
    free(cfg->admin_host);
    cfg->admin_host = copy;
    return 0;
}

/* --proxy-trusted "CIDR[,CIDR...]": replaces the list (the default's too). */
static int apply_proxy_trusted(void *base, const char *text, char *err, size_t errlen)
{
    struct config *cfg = base;
    struct cidr *list;
    size_t n;
    int rc = cidr_parse_list(text, &list, &n, err, errlen);
    if (rc)
        return rc;
    free(cfg->proxy_trusted);
    cfg->proxy_trusted = list;
    cfg->nproxy_trusted = n;
    return 0;
}

static int apply_verbose(void *base, const char *arg, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    struct config *cfg = base;
    cfg->verbosity = cfg->verbosity < 0 ? 1 : cfg->verbosity + 1;
    return 0;
}

static int apply_spread(void *base, const char *arg, char *err, size_t errlen)
{
    struct config *cfg = base;
    if (strcmp(arg, "load") == 0)
        cfg->spread_all = 0;
    else if (strcmp(arg, "all") == 0)
        cfg->spread_all = 1;
    else
        return errbuf_set(err, errlen, -EINVAL, "expected 'load' or 'all'");
    return 0;
}

static int apply_quiet(void *base, const char *arg, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    ((struct config *)base)->verbosity = -1;
    return 0;
}

/* --help, --version, --list-plugins, --check-config: the first one decides; parsing goes on,
 * since the plugin dirs of the whole line are what they show. */
static int set_mode(struct config *cfg, int mode)
{
    if (cfg->mode == CONFIG_RUN)
        cfg->mode = mode;
    return 0;
}

#define MODE_FN(fn, mode)                                                                          \
    static int fn(void *base, const char *arg, char *err, size_t errlen)                           \
    {                                                                                              \
        (void)arg, (void)err, (void)errlen;                                                        \
        return set_mode(base, mode);                                                               \
    }
MODE_FN(apply_help, CONFIG_HELP)
MODE_FN(apply_version, CONFIG_VERSION)
MODE_FN(apply_list, CONFIG_LIST)
MODE_FN(apply_check, CONFIG_CHECK)

#define FIELD(f) offsetof(struct config, f)
#define LIST     (OPT_REPEAT)
#define MODE     (OPT_CLI | OPT_NOVALUE)

/* Every option of linepool-server, in --help order. The long name is also the config-file
 * directive. def is parsed at start and printed by --help; def_note stands for a default
 * that is computed. */
static const struct opt options[] = {
    {.name = "config",
     .metavar = "FILE",
     .type = OPT_STRING,
     .offset = FIELD(config_path),
     .flags = OPT_CLI,
     .def_note = "none",
     .help = "read options from FILE first: one per line, NAME VALUE, NAME a long\n"
             "option without '--'; '#' starts a comment line. The command line\n"
             "overrides the file; a list (--listen, --plugin, --plugin-dir) given\n"
             "on the command line replaces the file's"},
    {.name = "check-config",
     .type = OPT_FUNC,
     .flags = MODE,
     .apply = apply_check,
     .help = "check the options, the config file, and the plugins with their\n"
             "arguments (their load hooks run; nothing is bound), print\n"
             "'configuration ok' and exit 0 (2 and one line on an error)"},
    {.name = "listen",
     .short_name = 'l',
     .metavar = "[NAME@]HOST:PORT[+proxy]=PLUGIN[,PLUGIN...]",
     .type = OPT_FUNC,
     .flags = LIST,
     .apply = apply_listen,
     .clear = clear_listens,
     .def_note = "127.0.0.1:5005=rate-meter, 127.0.0.1:5006=echo,\n127.0.0.1:5007=counter",
     .help = "listen on HOST:PORT and run each message through the plugins in\n"
             "order; repeatable. HOST: IPv4, [IPv6] or a name (first address).\n"
             "PORT 0 picks a free port; each listener prints\n"
             "'listening on HOST:PORT (PLUGINS)' on stdout.\n"
             "NAME@ names the listener for plugins (unnamed, its name is its address).\n"
             "+proxy: each connection starts with a PROXY v1 or v2 header\n"
             "(HAProxy send-proxy[-v2]); plugins see the client it names.\n"
             "HOST:PORT may be systemd:FDNAME: the sockets systemd passed\n"
             "(LISTEN_FDS) whose FileDescriptorName is FDNAME."},
    {.name = "plugin",
     .metavar = "NAME[@INSTANCE][:ARGS]",
     .type = OPT_FUNC,
     .flags = LIST,
     .apply = apply_plugin,
     .clear = clear_plugins,
     .def_note = "none",
     .help = "load plugin NAME (short name or path to a .so) with ARGS;\n"
             "repeatable. @INSTANCE loads it again with its own state,\n"
             "named NAME@INSTANCE in --listen. Plugins named only in\n"
             "--listen load with no ARGS."},
    {.name = "plugin-dir",
     .metavar = "DIR",
     .type = OPT_FUNC,
     .flags = LIST,
     .apply = apply_plugin_dir,
     .clear = clear_plugin_dirs,
     .def_note = "the plugins folder of this installation",
     .help = "where short plugin names are looked up; repeatable"},
    {.name = "list-plugins",
     .type = OPT_FUNC,
     .flags = MODE,
     .apply = apply_list,
     .help = "print every plugin in the plugin directories (name, version,\n"
             "summary, path, each argument and its value when not given), then exit"},
    {.name = "threads",
     .short_name = 't',
     .metavar = "N",
     .type = OPT_UINT,
     .min = 1,
     .max = 1024,
     .offset = FIELD(threads),
     .def_note = "number of CPUs",
     .help = "worker threads that read, frame and run handlers"},
    {.name = "spread",
     .metavar = "MODE",
     .type = OPT_FUNC,
     .apply = apply_spread,
     .def = "load",
     .help = "how connections spread over the workers: 'load' packs them on as\n"
             "few as keep up (growing while those are busy and a CPU is idle, and\n"
             "to all once handlers block); 'all' spreads them over every worker"},
    {.name = "max-line",
     .metavar = "BYTES",
     .type = OPT_SIZE,
     .min = 1,
     .def = "1M",
     .offset = FIELD(max_line),
     .help = "longest message; a longer line gets 'ERR line too long (max N\n"
             "bytes)' and the connection is closed"},
    {.name = "max-conns",
     .metavar = "N",
     .type = OPT_UINT,
     .min = 1,
     .max = 10000000,
     .offset = FIELD(max_conns),
     .def_note = "the fd limit less 64",
     .help = "open connections; one more gets 'ERR too many connections' and is\nclosed"},
    {.name = "max-output",
     .metavar = "BYTES",
     .type = OPT_SIZE,
     .min = 1024,
     .def = "1M",
     .offset = FIELD(max_output),
     .help = "queued reply bytes per connection before the server stops reading\n"
             "from it until it drains"},
    {.name = "write-timeout",
     .metavar = "SEC",
     .type = OPT_SECONDS,
     .def = "30",
     .offset = FIELD(write_timeout),
     .help = "close a connection whose replies have not drained below\n"
             "--max-output for SEC seconds"},
    {.name = "idle-timeout",
     .metavar = "SEC",
     .type = OPT_SECONDS,
     .def = "300",
     .offset = FIELD(idle_timeout),
     .help = "close a connection silent both ways for SEC seconds; 0 = never"},
    {.name = "drain-timeout",
     .metavar = "SEC",
     .type = OPT_SECONDS,
     .def = "2",
     .offset = FIELD(drain_timeout),
     .help = "at SIGINT/SIGTERM, time to finish received messages and flush\n"
             "replies before exiting anyway with status 1"},
    {.name = "upgrade-timeout",
     .metavar = "SEC",
     .type = OPT_SECONDS,
     .def = "10",
     .offset = FIELD(upgrade_timeout),
     .help = "at SIGUSR2, time the new process has to say it is ready before it\n"
             "is killed and this one keeps serving"},
    {.name = "max-generations",
     .metavar = "N",
     .type = OPT_UINT,
     .min = 1,
     .max = 64,
     .def = "2",
     .offset = FIELD(max_generations),
     .help = "at SIGHUP, refuse to reload a plugin that already has N versions\n"
             "loaded (older ones still serving connections)"},
    {.name = "reload-timeout",
     .metavar = "SEC",
     .type = OPT_SECONDS,
     .def = "5",
     .offset = FIELD(reload_timeout),
     .help = "at SIGHUP, give up on a new version whose load hook has not\n"
             "returned after SEC seconds; the old one keeps serving"},
    {.name = "admin",
     .metavar = "[HOST:]PORT",
     .type = OPT_FUNC,
     .apply = apply_admin,
     .def_note = "off",
     .help = "serve metrics (GET /metrics), health (GET /healthz, /readyz)\n"
             "and line commands (PING, stats, plugins) on HOST:PORT;\n"
             "127.0.0.1 when HOST is omitted"},
    {.name = "proxy-trusted",
     .metavar = "CIDR[,CIDR...]",
     .type = OPT_FUNC,
     .apply = apply_proxy_trusted,
     .def = "127.0.0.0/8,::1",
     .help = "peers allowed to connect to +proxy listeners (numeric; ADDR alone\n"
             "is one host); others are closed unanswered"},
    /* the PROXY spec asks for "at least 3 seconds to cover a TCP retransmit" */
    {.name = "proxy-timeout",
     .metavar = "SEC",
     .type = OPT_SECONDS,
     .def = "3",
     .offset = FIELD(proxy_timeout),
     .help = "close a +proxy connection whose header is not complete after SEC\n"
             "seconds, unanswered"},
    {.name = "verbose",
     .short_name = 'v',
     .type = OPT_FUNC,
     .flags = OPT_NOVALUE,
     .apply = apply_verbose,
     .help = "log more (debug lines, one per connection)"},
    {.name = "quiet",
     .short_name = 'q',
     .type = OPT_FUNC,
     .flags = OPT_NOVALUE,
     .apply = apply_quiet,
     .help = "log warnings and errors only"},
    {.name = "help",
     .short_name = 'h',
     .type = OPT_FUNC,
     .flags = MODE,
     .apply = apply_help,
     .help = "this text"},
    {.name = "version",
     .short_name = 'V',
     .type = OPT_FUNC,
     .flags = MODE,
     .apply = apply_version,
     .help = "print the version"},
};

static const struct opt_table table = {options, sizeof options / sizeof options[0], 0};

const struct opt_table *config_options(void)
{
    return &table;
}

int config_default_plugin_dir(const char *exe, char *out, size_t len)
{
    char dir[PATH_MAX];
    if (!exe || !*exe) {
        snprintf(out, len, "%s", LP_INSTALL_PLUGIN_DIR);
        return 0;
    }
    snprintf(dir, sizeof dir, "%s", exe);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, "%s", slash ? "/" : ".");
    /* Only the binary in the build tree uses the build tree's plugins; an installed copy
     * (wherever its prefix was moved) uses the folder beside it. */
    const char *build_dir = LP_BUILD_SERVER_DIR;
    char real_build[PATH_MAX];
    if (realpath(build_dir, real_build))
        build_dir = real_build;
    int n = strcmp(dir, build_dir) == 0
                ? snprintf(out, len, "%s", LP_BUILD_PLUGIN_DIR)
                : snprintf(out, len, "%s/%s", strcmp(dir, "/") ? dir : "", LP_REL_PLUGIN_DIR);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The plugin directory of the running binary (/proc/self/exe). */
static int push_default_dir(struct config *cfg)
{
    char exe[PATH_MAX], dir[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    if (config_default_plugin_dir(exe, dir, sizeof dir))
        return -ENAMETOOLONG;
    char real[PATH_MAX]; /* "P/bin/../lib/..." reads better, and compares, as "P/lib/..." */
    return push_string(&cfg->plugin_dirs, &cfg->nplugin_dirs, realpath(dir, real) ? real : dir);
}

/* What no source gave: the default listeners (when the server will use them) and dirs. */
static int finish(struct config *cfg, int rc, char *err, size_t errlen)
{
    int listens = (cfg->mode == CONFIG_RUN || cfg->mode == CONFIG_CHECK) && cfg->nlistens == 0;
    for (size_t i = 0; !rc && listens && i < sizeof default_listens / sizeof *default_listens; i++)
        rc = apply_listen(cfg, default_listens[i], err, errlen);
    if (!rc && cfg->nplugin_dirs == 0)
        rc = push_default_dir(cfg);
    if (rc == -ENOMEM)
        errbuf_set(err, errlen, rc, "out of memory");
    if (rc == -ENAMETOOLONG)
        errbuf_set(err, errlen, rc, "the server's path is too long for its plugin directory");
    return rc ? rc : cfg->mode;
}

static int start(struct config *cfg, struct opt_state *st, unsigned char *src, char *err,
                 size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    memset(src, 0, table.n);
    *st = (struct opt_state){src, table.n};
    return opt_defaults(&table, cfg, err, errlen);
}

/* The command line's options, in order, kept until the file is read. One word may hold
 * several ("-vvq"), so the arrays grow. */
struct cli {
    const struct opt **opts;
    const char **values;
    size_t n, cap;
};

static int record(void *ctx, const struct opt *o, const char *value)
{
    struct cli *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        const struct opt **opts = realloc(c->opts, cap * sizeof *opts);
        if (opts)
            c->opts = opts;
        const char **values = realloc(c->values, cap * sizeof *values);
        if (values)
            c->values = values;
        if (!opts || !values)
            return -ENOMEM;
        c->cap = cap;
    }
    c->opts[c->n] = o;
    c->values[c->n++] = value;
    return 0;
}

int config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    unsigned char src[sizeof options / sizeof options[0]];
    struct opt_state st;
    int rc = start(cfg, &st, src, err, errlen);
    struct cli cli = {0};
    int first_arg = argc;
    if (!rc && (rc = opt_getopt(&table, argc, argv, record, &cli, &first_arg, err, errlen)))
        snprintf(err + strlen(err), errlen - strlen(err), " (see --help)");
    /* --config first (the last one given), so that the command line overrides the file */
    const struct opt *config_opt = opt_find(&table, "config", strlen("config"));
    for (size_t i = 0; !rc && i < cli.n; i++)
        if (cli.opts[i] == config_opt)
            rc = opt_apply(&table, config_opt, cfg, cli.values[i], OPT_SRC_CLI, &st, err, errlen);
    if (!rc && cfg->config_path)
        rc = opt_parse_file(&table, cfg, cfg->config_path, 0, &st, err, errlen);
    for (size_t i = 0; !rc && i < cli.n; i++)
        if (cli.opts[i] != config_opt)
            rc = opt_apply(&table, cli.opts[i], cfg, cli.values[i], OPT_SRC_CLI, &st, err, errlen);
    free(cli.opts);
    free(cli.values);
    if (!rc && cfg->mode == CONFIG_RUN && first_arg < argc)
        rc = errbuf_set(err, errlen, -EINVAL, "unexpected argument '%s' (see --help)",
                        argv[first_arg]);
    return finish(cfg, rc, err, errlen);
}

int config_parse_text(struct config *cfg, const char *path, const char *text, size_t len, char *err,
                      size_t errlen)
{
    unsigned char src[sizeof options / sizeof options[0]];
    struct opt_state st;
    int rc = start(cfg, &st, src, err, errlen);
    if (!rc)
        rc = opt_parse_text(&table, cfg, path, text, len, &st, err, errlen);
    return finish(cfg, rc, err, errlen);
}

int config_parse_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    unsigned char src[sizeof options / sizeof options[0]];
    struct opt_state st;
    int rc = start(cfg, &st, src, err, errlen);
    if (!rc)
        rc = opt_parse_file(&table, cfg, path, OPT_FILE_REGULAR, &st, err, errlen);
    return finish(cfg, rc, err, errlen);
}

void config_free(struct config *cfg)
{
    clear_listens(cfg);
    clear_plugins(cfg);
    clear_plugin_dirs(cfg);
    free(cfg->admin_host);
    free(cfg->proxy_trusted);
    opt_free_strings(&table, cfg);
    memset(cfg, 0, sizeof *cfg);
}

void config_usage(FILE *out, const struct config *cfg)
{
    fputs("Usage: linepool-server [OPTIONS]\n"
          "Accepts TCP connections, frames each byte stream into newline-terminated messages and\n"
          "passes every message through the plugins chained on its listener.\n\n",
          out);
    opt_usage(out, &table);
    fputs(
        "\nSizes take K, M, G, T suffixes (powers of 1024); times take s or ms (default\n"
        "seconds). Logs go to stderr; the listening lines and the exit summary go to stdout.\n"
        "Signals: SIGTERM/SIGINT drain and exit (a second one exits at once); SIGUSR2 starts\n"
        "the executable anew with the same arguments and listening sockets, and drains this\n"
        "process once the new one is ready. Under systemd (Type=notify) it sends READY=1,\n"
        "STOPPING=1 and WATCHDOG=1 to $NOTIFY_SOCKET.\n"
        "Exit status: 0 after a clean stop, 1 when the drain deadline passed or a second signal\n"
        "forced the exit, 2 when the server could not start. A fatal signal inside a plugin hook\n"
        "logs 'linepool-server: fatal SIGSEGV in plugin P, hook H, conn N' and the server\n"
        "dies by that signal.\n",
        out);
    config_print_dirs(out, cfg);
}

void config_print_dirs(FILE *out, const struct config *cfg)
{
    fprintf(out, "Plugin directories:");
    for (size_t i = 0; cfg && i < cfg->nplugin_dirs; i++)
        fprintf(out, " %s", cfg->plugin_dirs[i]);
    fprintf(out, "\n");
}

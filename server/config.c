/* config - parses the command line; every option and its default is documented in usage. */
#include "config.h"

#include "values.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_LINE      (1024 * 1024)
#define DEFAULT_MAX_OUTPUT    (1024 * 1024)
#define DEFAULT_WRITE_TIMEOUT 30.0
#define DEFAULT_IDLE_TIMEOUT  300.0
#define DEFAULT_DRAIN_TIMEOUT 2.0

/* The default listeners: the tutorial's port 5005 measures streams like its receiver. */
static const char *const default_listens[] = {
    "127.0.0.1:5005=rate-meter",
    "127.0.0.1:5006=echo",
    "127.0.0.1:5007=counter",
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

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

int config_parse_size(const char *text, size_t *out)
{
    uint64_t v;
    if (!text)
        return -EINVAL;
    int rc = values_parse_size(text, strlen(text), &v);
    if (rc)
        return rc;
    if (v > SIZE_MAX)
        return -ERANGE;
    *out = (size_t)v;
    return 0;
}

int config_parse_seconds(const char *text, double *out)
{
    uint64_t ns;
    if (!text)
        return -EINVAL;
    int rc = values_parse_duration(text, strlen(text), &ns);
    if (rc)
        return rc;
    *out = (double)ns / 1e9;
    return 0;
}

static int parse_port(const char *text, uint16_t *port)
{
    return values_parse_port(text, strlen(text), port) ? -EINVAL : 0;
}

int config_check_name(const char *name, size_t len)
{
    if (len == 0 || len > CONFIG_NAME_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!strchr(CONFIG_NAME_CHARS, name[i]) || !name[i])
            return -EINVAL;
    return 0;
}

static int split_plugins(struct listen_spec *out, const char *list, char *err, size_t errlen,
                         const char *text)
{
    char *copy = strdup(list);
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    char *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if ((rc = push_string(&out->plugins, &out->nplugins, name)))
            break;
    }
    free(copy);
    if (!rc && (out->nplugins == 0 || list[strlen(list) - 1] == ',' || strstr(list, ",,")))
        rc = fail(err, errlen, -EINVAL, "--listen %s: empty plugin name", text);
    return rc;
}

int config_parse_listen(struct listen_spec *out, const char *text, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(text, '=');
    if (!eq)
        return fail(err, errlen, -EINVAL,
                    "--listen %s: expected [NAME@]HOST:PORT=PLUGIN[,PLUGIN...]", text);
    const char *host = text, *host_end, *colon;
    const char *at = memchr(text, '@', (size_t)(eq - text));
    if (at) {
        if (config_check_name(text, (size_t)(at - text)))
            return fail(err, errlen, -EINVAL,
                        "--listen %s: listener name must be 1-%d of [A-Za-z0-9._-] before '@'",
                        text, CONFIG_NAME_MAX);
        if (!(out->name = strndup(text, (size_t)(at - text))))
            return -ENOMEM;
        host = at + 1;
    }
    const char *start = host;
    if (*start == '[') {
        host = start + 1;
        host_end = memchr(host, ']', (size_t)(eq - host));
        if (!host_end || host_end[1] != ':')
            return fail(err, errlen, -EINVAL, "--listen %s: expected [IPV6]:PORT=...", text);
        colon = host_end + 1;
    } else {
        colon = memchr(start, ':', (size_t)(eq - start));
        if (!colon)
            return fail(err, errlen, -EINVAL, "--listen %s: missing :PORT", text);
        host_end = colon;
        if (memchr(colon + 1, ':', (size_t)(eq - colon - 1)))
            return fail(err, errlen, -EINVAL, "--listen %s: write IPv6 hosts as [ADDR]:PORT", text);
    }
    if (host_end == host)
        return fail(err, errlen, -EINVAL, "--listen %s: empty host", text);
    if (memchr(host, '@', (size_t)(host_end - host))) /* NAME@ comes once, first */
        return fail(err, errlen, -EINVAL, "--listen %s: '@' in the host", text);
    char port[8];
    size_t plen = (size_t)(eq - colon - 1);
    if (plen == 0 || plen >= sizeof port)
        return fail(err, errlen, -EINVAL, "--listen %s: bad port", text);
    memcpy(port, colon + 1, plen);
    port[plen] = '\0';
    if (parse_port(port, &out->port))
        return fail(err, errlen, -EINVAL, "--listen %s: bad port '%s' (0-65535)", text, port);
    if (!(out->host = strndup(host, (size_t)(host_end - host))))
        return -ENOMEM;
    return split_plugins(out, eq + 1, err, errlen, text);
}

static void listen_spec_free(struct listen_spec *l)
{
    for (size_t i = 0; i < l->nplugins; i++)
        free(l->plugins[i]);
    free(l->plugins);
    free(l->host);
    free(l->name);
}

static int add_listen(struct config *cfg, const char *text, char *err, size_t errlen)
{
    struct listen_spec spec;
    int rc = config_parse_listen(&spec, text, err, errlen);
    if (rc) {
        listen_spec_free(&spec);
        return rc;
    }
    struct listen_spec *grown = realloc(cfg->listens, (cfg->nlistens + 1) * sizeof *grown);
    if (!grown) {
        listen_spec_free(&spec);
        return -ENOMEM;
    }
    cfg->listens = grown;
    cfg->listens[cfg->nlistens++] = spec;
    return 0;
}

int config_parse_admin(struct config *cfg, const char *text, char *err, size_t errlen)
{
    const char *host = "127.0.0.1", *port = text;
    size_t hlen = strlen(host);
    const char *colon = strrchr(text, ':');
    if (colon) {
        host = text;
        hlen = (size_t)(colon - text);
        port = colon + 1;
        if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']')
            host++, hlen -= 2;
        else if (memchr(text, ':', hlen))
            return fail(err, errlen, -EINVAL, "--admin %s: write IPv6 hosts as [ADDR]:PORT", text);
    }
    if (hlen == 0 || memchr(host, '[', hlen) || memchr(host, ']', hlen))
        return fail(err, errlen, -EINVAL, "--admin %s: expected HOST:PORT, [IPV6]:PORT or PORT",
                    text);
    if (parse_port(port, &cfg->admin_port))
        return fail(err, errlen, -EINVAL, "--admin %s: bad port '%s' (0-65535)", text, port);
    free(cfg->admin_host);
    return (cfg->admin_host = strndup(host, hlen)) ? 0 : -ENOMEM;
}

static int parse_count(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
                       char *err, size_t errlen)
{
    uint64_t v;
    if (values_parse_uint(text, strlen(text), &v) || v < min || v > max)
        return fail(err, errlen, -EINVAL, "%s %s: expected a whole number from %u to %u", opt, text,
                    min, max);
    *out = (unsigned)v;
    return 0;
}

static int parse_size_opt(const char *opt, const char *text, size_t min, size_t *out, char *err,
                          size_t errlen)
{
    if (config_parse_size(text, out) || *out < min)
        return fail(err, errlen, -EINVAL,
                    "%s %s: expected a size of at least %zu bytes (suffixes K, M, G, T)", opt, text,
                    min);
    return 0;
}

static int parse_seconds_opt(const char *opt, const char *text, double *out, char *err,
                             size_t errlen)
{
    if (config_parse_seconds(text, out))
        return fail(err, errlen, -EINVAL, "%s %s: expected seconds (e.g. 2, 0.5, 1500ms)", opt,
                    text);
    return 0;
}

enum {
    OPT_MAX_LINE = 256,
    OPT_MAX_CONNS,
    OPT_MAX_OUTPUT,
    OPT_WRITE_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_DRAIN_TIMEOUT,
    OPT_PLUGIN_DIR,
    OPT_PLUGIN,
    OPT_LIST_PLUGINS,
    OPT_ADMIN
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
    {"list-plugins", no_argument, NULL, OPT_LIST_PLUGINS},
    {"threads", required_argument, NULL, 't'},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
    {"write-timeout", required_argument, NULL, OPT_WRITE_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"admin", required_argument, NULL, OPT_ADMIN},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int apply_option(struct config *cfg, int opt, const char *arg, char *err, size_t errlen)
{
    switch (opt) {
    case 'l':
        return add_listen(cfg, arg, err, errlen);
    case OPT_PLUGIN:
        if (!*arg || *arg == ':')
            return fail(err, errlen, -EINVAL, "--plugin %s: expected NAME[:ARGS]", arg);
        return push_string(&cfg->plugin_specs, &cfg->nplugin_specs, arg);
    case OPT_PLUGIN_DIR:
        return push_string(&cfg->plugin_dirs, &cfg->nplugin_dirs, arg);
    case 't':
        return parse_count("--threads", arg, 1, 1024, &cfg->threads, err, errlen);
    case OPT_MAX_LINE:
        return parse_size_opt("--max-line", arg, 1, &cfg->max_line, err, errlen);
    case OPT_MAX_CONNS:
        return parse_count("--max-conns", arg, 1, 10000000, &cfg->max_conns, err, errlen);
    case OPT_MAX_OUTPUT:
        return parse_size_opt("--max-output", arg, 1024, &cfg->max_output, err, errlen);
    case OPT_WRITE_TIMEOUT:
        return parse_seconds_opt("--write-timeout", arg, &cfg->write_timeout, err, errlen);
    case OPT_IDLE_TIMEOUT:
        return parse_seconds_opt("--idle-timeout", arg, &cfg->idle_timeout, err, errlen);
    case OPT_DRAIN_TIMEOUT:
        return parse_seconds_opt("--drain-timeout", arg, &cfg->drain_timeout, err, errlen);
    case OPT_ADMIN:
        return config_parse_admin(cfg, arg, err, errlen);
    case 'v':
        cfg->verbosity = cfg->verbosity < 0 ? 1 : cfg->verbosity + 1;
        return 0;
    case 'q':
        cfg->verbosity = -1;
        return 0;
    default:
        return fail(err, errlen, -EINVAL, "unknown option (see --help)");
    }
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

static int check_listener_names(const struct config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->nlistens; i++)
        for (size_t j = 0; cfg->listens[i].name && j < i; j++)
            if (cfg->listens[j].name && strcmp(cfg->listens[i].name, cfg->listens[j].name) == 0)
                return fail(err, errlen, -EINVAL, "--listen %s@...: listener name given twice",
                            cfg->listens[i].name);
    return 0;
}

static int apply_defaults(struct config *cfg, char *err, size_t errlen)
{
    int rc = 0;
    if (cfg->nlistens == 0 && cfg->mode == CONFIG_RUN) {
        cfg->defaults_listens = 1;
        for (size_t i = 0; !rc && i < sizeof default_listens / sizeof *default_listens; i++)
            rc = add_listen(cfg, default_listens[i], err, errlen);
    }
    if (!rc && cfg->nplugin_dirs == 0)
        rc = push_default_dir(cfg);
    if (!rc)
        rc = check_listener_names(cfg, err, errlen);
    return rc;
}

int config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_line = DEFAULT_MAX_LINE;
    cfg->max_output = DEFAULT_MAX_OUTPUT;
    cfg->write_timeout = DEFAULT_WRITE_TIMEOUT;
    cfg->idle_timeout = DEFAULT_IDLE_TIMEOUT;
    cfg->drain_timeout = DEFAULT_DRAIN_TIMEOUT;
    optind = 0; /* glibc: full re-initialisation, so parsing can run more than once */
    opterr = 0;
    int opt, rc = 0;
    while (!rc && (opt = getopt_long(argc, argv, ":l:t:vqhV", long_options, NULL)) != -1) {
        if (opt == 'h' || opt == 'V' || opt == OPT_LIST_PLUGINS) {
            /* parsing goes on: the plugin dirs of the whole line are what they show */
            if (cfg->mode == CONFIG_RUN)
                cfg->mode = opt == 'h' ? CONFIG_HELP : opt == 'V' ? CONFIG_VERSION : CONFIG_LIST;
            continue;
        }
        if (opt == '?')
            rc = fail(err, errlen, -EINVAL, "unknown option '%s' (see --help)", argv[optind - 1]);
        else if (opt == ':')
            rc = fail(err, errlen, -EINVAL, "option '%s' needs a value", argv[optind - 1]);
        else
            rc = apply_option(cfg, opt, optarg, err, errlen);
    }
    if (!rc && cfg->mode == CONFIG_RUN && optind < argc)
        rc = fail(err, errlen, -EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!rc)
        rc = apply_defaults(cfg, err, errlen);
    if (rc == -ENOMEM)
        fail(err, errlen, rc, "out of memory");
    if (rc == -ENAMETOOLONG)
        fail(err, errlen, rc, "the server's path is too long for its plugin directory");
    return rc ? rc : cfg->mode;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->nlistens; i++)
        listen_spec_free(&cfg->listens[i]);
    free(cfg->listens);
    for (size_t i = 0; i < cfg->nplugin_specs; i++)
        free(cfg->plugin_specs[i]);
    free(cfg->plugin_specs);
    for (size_t i = 0; i < cfg->nplugin_dirs; i++)
        free(cfg->plugin_dirs[i]);
    free(cfg->plugin_dirs);
    free(cfg->admin_host);
    memset(cfg, 0, sizeof *cfg);
}

/* clang-format off: the help text is laid out as it prints */
void config_usage(FILE *out, const struct config *cfg)
{
    fprintf(
        out,
        "Usage: linepool-server [OPTIONS]\n"
        "Accepts TCP connections, frames each byte stream into newline-terminated messages and\n"
        "passes every message through the plugins chained on its listener.\n"
        "\n"
        "  -l, --listen [NAME@]HOST:PORT=PLUGIN[,PLUGIN...]\n"
        "                          listen on HOST:PORT and run each message through the plugins "
        "in\n"
        "                          order; repeatable. HOST: IPv4, [IPv6] or a name (first "
        "address).\n"
        "                          PORT 0 picks a free port; each listener prints\n"
        "                          'listening on HOST:PORT (PLUGINS)' on stdout.\n"
        "                          default: 127.0.0.1:5005=rate-meter, 127.0.0.1:5006=echo,\n"
        "                          127.0.0.1:5007=counter\n"
        "                          NAME@ names the listener for plugins (unnamed, its name is its "
        "address).\n"
        "      --plugin NAME[@INSTANCE][:ARGS]\n"
        "                          load plugin NAME (short name or path to a .so) with ARGS;\n"
        "                          repeatable. @INSTANCE loads it again with its own state,\n"
        "                          named NAME@INSTANCE in --listen. Plugins named only in\n"
        "                          --listen load with no ARGS.\n"
        "      --plugin-dir DIR    where short plugin names are looked up; repeatable.\n"
        "                          default: the plugins folder of this installation\n"
        "      --list-plugins      print every plugin in the plugin directories (name, version,\n"
        "                          summary, path, each argument and its value when not given),\n"
        "                          then exit\n"
        "  -t, --threads N         worker threads that read, frame and run handlers\n"
        "                          (default: number of CPUs)\n"
        "      --max-line BYTES    longest message; a longer line gets 'ERR line too long (max N\n"
        "                          bytes)' and the connection is closed (default: 1M)\n"
        "      --max-conns N       open connections; one more gets 'ERR too many connections' and "
        "is\n"
        "                          closed (default: the fd limit less 64)\n"
        "      --max-output BYTES  queued reply bytes per connection before the server stops "
        "reading\n"
        "                          from it until it drains (default: 1M)\n"
        "      --write-timeout SEC close a connection whose replies have not drained below\n"
        "                          --max-output for SEC seconds (default: 30)\n"
        "      --idle-timeout SEC  close a connection silent both ways for SEC seconds; 0 = never\n"
        "                          (default: 300)\n"
        "      --drain-timeout SEC at SIGINT/SIGTERM, time to finish received messages and flush\n"
        "                          replies before exiting anyway with status 1 (default: 2)\n"
        "      --admin [HOST:]PORT serve metrics (GET /metrics), health (GET /healthz, /readyz)\n"
        "                          and line commands (PING, stats, plugins) on HOST:PORT;\n"
        "                          127.0.0.1 when HOST is omitted (default: off)\n"
        "  -v, --verbose           log more (debug lines, one per connection)\n"
        "  -q, --quiet             log warnings and errors only\n"
        "  -h, --help              this text\n"
        "  -V, --version           print the version\n"
        "\n"
        "Sizes take K, M, G, T suffixes (powers of 1024); times take s or ms (default seconds).\n"
        "Logs go to stderr; the listening lines and the exit summary go to stdout.\n"
        "Exit status: 0 after a clean stop, 1 when the drain deadline passed or a second signal\n"
        "forced the exit, 2 when the server could not start. A fatal signal inside a plugin hook\n"
        "logs 'linepool-server: fatal SIGSEGV in plugin P, hook H, conn N' and the server\n"
        "dies by that signal.\n");
    config_print_dirs(out, cfg);
}
/* clang-format on */

void config_print_dirs(FILE *out, const struct config *cfg)
{
    fprintf(out, "Plugin directories:");
    for (size_t i = 0; cfg && i < cfg->nplugin_dirs; i++)
        fprintf(out, " %s", cfg->plugin_dirs[i]);
    fprintf(out, "\n");
}

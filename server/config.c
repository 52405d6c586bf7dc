/* config - parses the command line; every option and its default is documented in usage. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
    char *end;
    /* A digit first: strtoull would skip spaces and negate, so " -1" became SIZE_MAX. */
    if (!text || !isdigit((unsigned char)*text))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || errno)
        return errno == ERANGE ? -ERANGE : -EINVAL;
    static const char units[] = "kmg"; /* powers of 1024 */
    const char *unit = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
    unsigned shift = unit ? 10 * (unsigned)(unit - units + 1) : 0;
    if (unit)
        end++;
    if (*end == 'i' && shift) /* accept "KiB"-style too */
        end++;
    if ((*end == 'b' || *end == 'B') && shift)
        end++;
    if (*end)
        return -EINVAL;
    if (v > (SIZE_MAX >> shift))
        return -ERANGE;
    *out = (size_t)(v << shift);
    return 0;
}

int config_parse_seconds(const char *text, double *out)
{
    char *end;
    if (!text || !*text)
        return -EINVAL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !isfinite(v) || v < 0)
        return -EINVAL;
    if (strcmp(end, "ms") == 0)
        v /= 1000.0;
    else if (*end && strcmp(end, "s") != 0)
        return -EINVAL;
    if (v > 1e9)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_port(const char *text, uint16_t *port)
{
    char *end;
    if (!isdigit((unsigned char)*text)) /* strtoul skips spaces and accepts signs */
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (*end || errno || v > 65535)
        return -EINVAL;
    *port = (uint16_t)v;
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
        return fail(err, errlen, -EINVAL, "--listen %s: expected HOST:PORT=PLUGIN[,PLUGIN...]",
                    text);
    const char *host = text, *host_end, *colon;
    if (*text == '[') {
        host = text + 1;
        host_end = memchr(host, ']', (size_t)(eq - host));
        if (!host_end || host_end[1] != ':')
            return fail(err, errlen, -EINVAL, "--listen %s: expected [IPV6]:PORT=...", text);
        colon = host_end + 1;
    } else {
        colon = memchr(text, ':', (size_t)(eq - text));
        if (!colon)
            return fail(err, errlen, -EINVAL, "--listen %s: missing :PORT", text);
        host_end = colon;
        if (memchr(colon + 1, ':', (size_t)(eq - colon - 1)))
            return fail(err, errlen, -EINVAL, "--listen %s: write IPv6 hosts as [ADDR]:PORT", text);
    }
    if (host_end == host)
        return fail(err, errlen, -EINVAL, "--listen %s: empty host", text);
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

static int parse_count(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
                       char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (!isdigit((unsigned char)*text) || *end || errno || v < min || v > max)
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
                    "%s %s: expected a size of at least %zu bytes (suffixes K, M, G)", opt, text,
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
    OPT_PLUGIN
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
    {"threads", required_argument, NULL, 't'},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
    {"write-timeout", required_argument, NULL, OPT_WRITE_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
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

static int apply_defaults(struct config *cfg, char *err, size_t errlen)
{
    int rc = 0;
    if (cfg->nlistens == 0) {
        cfg->defaults_listens = 1;
        for (size_t i = 0; !rc && i < sizeof default_listens / sizeof *default_listens; i++)
            rc = add_listen(cfg, default_listens[i], err, errlen);
    }
    if (!rc && cfg->nplugin_dirs == 0) {
        rc = push_string(&cfg->plugin_dirs, &cfg->nplugin_dirs, LP_BUILD_PLUGIN_DIR);
        if (!rc)
            rc = push_string(&cfg->plugin_dirs, &cfg->nplugin_dirs, LP_INSTALL_PLUGIN_DIR);
    }
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
        if (opt == 'h' || opt == 'V')
            return opt == 'h' ? CONFIG_HELP : CONFIG_VERSION;
        if (opt == '?')
            rc = fail(err, errlen, -EINVAL, "unknown option '%s' (see --help)", argv[optind - 1]);
        else if (opt == ':')
            rc = fail(err, errlen, -EINVAL, "option '%s' needs a value", argv[optind - 1]);
        else
            rc = apply_option(cfg, opt, optarg, err, errlen);
    }
    if (!rc && optind < argc)
        rc = fail(err, errlen, -EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!rc)
        rc = apply_defaults(cfg, err, errlen);
    if (rc == -ENOMEM)
        fail(err, errlen, rc, "out of memory");
    return rc;
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
    memset(cfg, 0, sizeof *cfg);
}

/* clang-format off: the help text is laid out as it prints */
void config_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: linepool-server [OPTIONS]\n"
        "Accepts TCP connections, frames each byte stream into newline-terminated messages and\n"
        "passes every message through the plugins chained on its listener.\n"
        "\n"
        "  -l, --listen HOST:PORT=PLUGIN[,PLUGIN...]\n"
        "                          listen on HOST:PORT and run each message through the plugins "
        "in\n"
        "                          order; repeatable. HOST: IPv4, [IPv6] or a name (first "
        "address).\n"
        "                          PORT 0 picks a free port; each listener prints\n"
        "                          'listening on HOST:PORT (PLUGINS)' on stdout.\n"
        "                          default: 127.0.0.1:5005=rate-meter, 127.0.0.1:5006=echo,\n"
        "                          127.0.0.1:5007=counter\n"
        "      --plugin NAME[:ARGS]\n"
        "                          load plugin NAME (short name or path to a .so) with ARGS;\n"
        "                          repeatable. Plugins named only in --listen load with no ARGS.\n"
        "      --plugin-dir DIR    where short plugin names are looked up; repeatable.\n"
        "                          default: " LP_BUILD_PLUGIN_DIR ",\n"
        "                          then " LP_INSTALL_PLUGIN_DIR "\n"
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
        "  -v, --verbose           log more (debug lines, one per connection)\n"
        "  -q, --quiet             log warnings and errors only\n"
        "  -h, --help              this text\n"
        "  -V, --version           print the version\n"
        "\n"
        "Sizes take K, M, G suffixes (powers of 1024); times take s or ms (default seconds).\n"
        "Logs go to stderr; the listening lines and the exit summary go to stdout.\n"
        "Exit status: 0 after a clean stop, 1 when the drain deadline passed or a second signal\n"
        "forced the exit, 2 when the server could not start.\n");
}
/* clang-format on */

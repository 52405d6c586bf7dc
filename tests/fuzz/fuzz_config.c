/* fuzz_config - server/config.c on arbitrary command lines (the input's NUL-separated
 * words) and config files (the input, NULs as line ends): no crash or leak, an error line
 * with every refusal (FILE:LINE of a real line for a file), the documented limits after
 * every accepted parse, the same result when parsed again (getopt's global state), a file
 * that parses the same as its directives on the command line, listeners that print back to
 * the same spec, and each number option held to its grammar. */
#include "cidr.h"
#include "config.h"
#include "fuzz.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#define MAX_WORDS 64

/* The command line: argv[0] plus the input's words, each in a buffer of its exact size. */
struct words {
    char *own[MAX_WORDS + 1];
    int argc;
};

static void split_words(struct words *w, const uint8_t *data, size_t size)
{
    static char prog[] = "linepool-server";
    w->own[0] = prog;
    w->argc = 1;
    for (size_t i = 0; i < size && w->argc <= MAX_WORDS;) {
        const uint8_t *nul = memchr(data + i, '\0', size - i);
        size_t len = nul ? (size_t)(nul - (data + i)) : size - i;
        char *s = malloc(len + 1);
        FUZZ_CHECK(s);
        memcpy(s, data + i, len);
        s[len] = '\0';
        w->own[w->argc++] = s;
        i += len + 1;
    }
}

static void free_words(struct words *w)
{
    for (int i = 1; i < w->argc; i++)
        free(w->own[i]);
}

/* Parses a fresh argv (getopt permutes the one it gets). */
static int parse(struct config *cfg, const struct words *w, char *err, size_t errlen)
{
    char *argv[MAX_WORDS + 2];
    memcpy(argv, w->own, (size_t)w->argc * sizeof *argv);
    argv[w->argc] = NULL;
    err[0] = '\0';
    return config_parse(cfg, w->argc, argv, err, errlen);
}

static int same_or_both_null(const char *a, const char *b)
{
    return !a == !b && (!a || strcmp(a, b) == 0);
}

/* "[NAME@]HOST:PORT[+proxy]=A,B" (or "[NAME@]systemd:FDNAME[+proxy]=A,B"), bracketing the
 * host when it needs it, parses back to the same spec. */
static void check_listen_round_trip(const struct listen_spec *l)
{
    char text[8192], err[256];
    int bracket = l->host && (strchr(l->host, ':') || l->host[0] == '[');
    const char *proxy = l->flags & LISTEN_PROXY ? "+proxy" : "";
    int n = l->systemd ? snprintf(text, sizeof text, "%s%ssystemd:%s%s=", l->name ? l->name : "",
                                  l->name ? "@" : "", l->systemd, proxy)
                       : snprintf(text, sizeof text, "%s%s%s%s%s:%u%s=", l->name ? l->name : "",
                                  l->name ? "@" : "", bracket ? "[" : "", l->host,
                                  bracket ? "]" : "", (unsigned)l->port, proxy);
    for (size_t i = 0; i < l->nplugins && n > 0 && (size_t)n < sizeof text; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s%s", i ? "," : "", l->plugins[i]);
    if (n <= 0 || (size_t)n >= sizeof text)
        return;
    struct listen_spec again;
    FUZZ_CHECK(listen_spec_parse(&again, text, err, sizeof err) == 0);
    FUZZ_CHECK(same_or_both_null(again.host, l->host) && again.port == l->port);
    FUZZ_CHECK(same_or_both_null(again.systemd, l->systemd));
    FUZZ_CHECK(!again.name == !l->name && (!l->name || strcmp(again.name, l->name) == 0));
    FUZZ_CHECK(again.nplugins == l->nplugins && again.flags == l->flags);
    for (size_t i = 0; i < l->nplugins; i++)
        FUZZ_CHECK(strcmp(again.plugins[i], l->plugins[i]) == 0);
    listen_spec_free(&again);
}

static void check_listen(const struct listen_spec *l)
{
    if (l->systemd) /* systemd:NAME, NAME as systemd's FileDescriptorName allows */
        FUZZ_CHECK(!l->host && l->systemd[0] && strlen(l->systemd) <= 255 &&
                   !strchr(l->systemd, ':') && !strchr(l->systemd, '=') && l->port == 0);
    else
        FUZZ_CHECK(l->host && l->host[0] && !strchr(l->host, '=') && !strchr(l->host, '@'));
    FUZZ_CHECK(!l->name || config_check_name(l->name, strlen(l->name)) == 0);
    FUZZ_CHECK(l->nplugins >= 1);
    for (size_t i = 0; i < l->nplugins; i++)
        FUZZ_CHECK(l->plugins[i][0] && !strchr(l->plugins[i], ','));
    check_listen_round_trip(l);
}

static int seconds_ok(double s)
{
    return isfinite(s) && s >= 0 && s <= 1e9;
}

/* What an accepted command line guarantees the server. */
static void check_config(const struct config *c)
{
    FUZZ_CHECK(c->nlistens >= 1);
    for (size_t i = 0; i < c->nlistens; i++)
        check_listen(&c->listens[i]);
    for (size_t i = 0; i < c->nplugin_specs; i++)
        FUZZ_CHECK(c->plugin_specs[i][0] && c->plugin_specs[i][0] != ':');
    FUZZ_CHECK(c->nplugin_dirs >= 1);
    for (size_t i = 0; i < c->nplugin_dirs; i++)
        FUZZ_CHECK(c->plugin_dirs[i] != NULL);
    FUZZ_CHECK(c->threads <= 1024);
    FUZZ_CHECK(c->max_line >= 1);
    FUZZ_CHECK(c->max_conns <= 10000000);
    FUZZ_CHECK(c->max_output >= 1024);
    FUZZ_CHECK(seconds_ok(c->write_timeout) && seconds_ok(c->idle_timeout));
    FUZZ_CHECK(seconds_ok(c->drain_timeout) && seconds_ok(c->upgrade_timeout));
    FUZZ_CHECK(c->verbosity >= -1);
}

static int same_strings(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static int same_config(const struct config *a, const struct config *b)
{
    if (a->nlistens != b->nlistens)
        return 0;
    for (size_t i = 0; i < a->nlistens; i++) {
        const struct listen_spec *x = &a->listens[i], *y = &b->listens[i];
        if (!same_or_both_null(x->host, y->host) || !same_or_both_null(x->systemd, y->systemd) ||
            x->port != y->port || x->flags != y->flags ||
            !same_strings(x->plugins, x->nplugins, y->plugins, y->nplugins))
            return 0;
    }
    return same_strings(a->plugin_specs, a->nplugin_specs, b->plugin_specs, b->nplugin_specs) &&
           same_strings(a->plugin_dirs, a->nplugin_dirs, b->plugin_dirs, b->nplugin_dirs) &&
           a->threads == b->threads && a->max_line == b->max_line && a->max_conns == b->max_conns &&
           a->max_output == b->max_output && a->write_timeout == b->write_timeout &&
           a->idle_timeout == b->idle_timeout && a->drain_timeout == b->drain_timeout &&
           a->proxy_timeout == b->proxy_timeout && a->nproxy_trusted == b->nproxy_trusted &&
           memcmp(a->proxy_trusted, b->proxy_trusted,
                  a->nproxy_trusted * sizeof *a->proxy_trusted) == 0 &&
           a->verbosity == b->verbosity;
}

/* A whole number option: decimal digits only, from min to max. */
static int reference_count(const char *t, unsigned min, unsigned max, unsigned *out)
{
    unsigned long long v = 0;
    size_t i = 0;
    for (; isdigit((unsigned char)t[i]); i++)
        if ((v = v * 10 + (unsigned)(t[i] - '0')) > max)
            return -1;
    if (i == 0 || t[i] || v < min)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Each count option with this word as its value: accepted exactly when its grammar and its
 * limits say (the value parsers themselves are fuzz_values' job). */
static void check_number_options(const char *word)
{
    char *argv[] = {"linepool-server", NULL, (char *)word, NULL};
    char err[256];
    struct config c;
    unsigned cnt;

    argv[1] = "--threads";
    int rc = config_parse(&c, 3, argv, err, sizeof err);
    FUZZ_CHECK((rc == 0) == (reference_count(word, 1, 1024, &cnt) == 0));
    FUZZ_CHECK(rc || c.threads == cnt);
    config_free(&c);

    argv[1] = "--max-conns";
    rc = config_parse(&c, 3, argv, err, sizeof err);
    FUZZ_CHECK((rc == 0) == (reference_count(word, 1, 10000000, &cnt) == 0));
    FUZZ_CHECK(rc || c.max_conns == cnt);
    config_free(&c);
}

/* The directives of an accepted config file as a command line ("--NAME=VALUE" or "--NAME"):
 * one table serves both, so it must parse to the same config. */
static void check_file_as_argv(const char *text, size_t len, const struct config *from_file)
{
    char *argv[1024], *copy = malloc(len + 1);
    FUZZ_CHECK(copy);
    memcpy(copy, text, len);
    copy[len] = '\0';
    int argc = 0;
    argv[argc++] = "linepool-server";
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t\r\v\f");
        size_t n = strlen(line);
        while (n && strchr(" \t\r\v\f", line[n - 1]))
            line[--n] = '\0';
        if (!n || line[0] == '#')
            continue;
        size_t name = strcspn(line, " \t\r\v\f");
        const char *value = line + name + strspn(line + name, " \t\r\v\f");
        if (argc == (int)(sizeof argv / sizeof *argv) - 1)
            goto out; /* too many lines to compare */
        char *arg = malloc(n + 4);
        FUZZ_CHECK(arg);
        snprintf(arg, n + 4, *value ? "--%.*s=%s" : "--%.*s", (int)name, line, value);
        argv[argc++] = arg;
    }
    argv[argc] = NULL;
    struct config c;
    char err[256];
    int rc = config_parse(&c, argc, argv, err, sizeof err);
    FUZZ_CHECK(rc == from_file->mode);
    FUZZ_CHECK(same_config(&c, from_file));
    config_free(&c);
out:
    for (int i = 1; i < argc; i++)
        free(argv[i]);
    free(copy);
}

/* The input as a config file (NUL bytes as line ends): an error names the file and a line
 * that exists; an accepted file holds the documented limits, and as a command line parses
 * to the same config. */
static void check_file(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_CHECK(text);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++) {
        text[i] = data[i] ? (char)data[i] : '\n';
        lines += text[i] == '\n';
    }
    struct config c;
    char err[256] = "";
    int rc = config_parse_text(&c, "fuzz.conf", text, size, err, sizeof err);
    FUZZ_CHECK(rc == CONFIG_RUN || rc == -EINVAL || rc == -ERANGE || rc == -ENOMEM);
    if (rc < 0) {
        unsigned long line = 0;
        FUZZ_CHECK(sscanf(err, "fuzz.conf:%lu: ", &line) == 1);
        FUZZ_CHECK(line >= 1 && line <= lines);
    } else {
        check_config(&c);
        check_file_as_argv(text, size, &c);
    }
    config_free(&c);
    free(text);
}

/* A --config word (getopt takes "--co" for it) would read files, or block on /dev/stdin. */
static int reads_a_file(const struct words *w)
{
    for (int i = 1; i < w->argc; i++)
        if (strncmp(w->own[i], "--co", 4) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_file(data, size);
    struct words w;
    split_words(&w, data, size);
    if (reads_a_file(&w)) {
        free_words(&w);
        return 0;
    }

    struct config a, b;
    char err_a[128], err_b[128];
    int rc = parse(&a, &w, err_a, sizeof err_a);
    FUZZ_CHECK(rc == CONFIG_RUN || rc == CONFIG_HELP || rc == CONFIG_VERSION || rc == CONFIG_LIST ||
               rc == CONFIG_CHECK || rc == -EINVAL || rc == -ERANGE || rc == -ENOMEM);
    FUZZ_CHECK(memchr(err_a, '\0', sizeof err_a));
    if (rc < 0)
        FUZZ_CHECK(err_a[0] != '\0');
    if (rc == CONFIG_RUN)
        check_config(&a);

    FUZZ_CHECK(parse(&b, &w, err_b, sizeof err_b) == rc);
    FUZZ_CHECK(strcmp(err_a, err_b) == 0);
    if (rc == CONFIG_RUN)
        FUZZ_CHECK(same_config(&a, &b));
    config_free(&a);
    config_free(&b);
    FUZZ_CHECK(a.nlistens == 0 && a.listens == NULL);

    for (int i = 1; i < w.argc && i <= 8; i++)
        check_number_options(w.own[i]);
    free_words(&w);
    return 0;
}

/* Unit tests of command-line parsing: every option, its default, and a clear error for each
 * kind of bad value. */
#include "cidr.h"
#include "config.h"
#include "cunit_main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(struct config *cfg, char *err, size_t errlen, int argc, char **argv)
{
    return config_parse(cfg, argc, argv, err, errlen);
}

#define PARSE(cfg, err, ...)                                                                       \
    parse(cfg, err, sizeof err,                                                                    \
          (int)(sizeof((char *[]){"linepool-server", __VA_ARGS__}) / sizeof(char *)),              \
          (char *[]){"linepool-server", __VA_ARGS__})

static void defaults_when_no_options(void)
{
    struct config cfg;
    char err[256] = "";
    char *argv[] = {"linepool-server"};
    CU_ASSERT_EQUAL_FATAL(config_parse(&cfg, 1, argv, err, sizeof err), CONFIG_RUN);
    CU_ASSERT_EQUAL_FATAL(cfg.nlistens, 3);
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].host, "127.0.0.1");
    CU_ASSERT_EQUAL(cfg.listens[0].port, 5005);
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].plugins[0], "rate-meter");
    CU_ASSERT_EQUAL(cfg.listens[1].port, 5006);
    CU_ASSERT_STRING_EQUAL(cfg.listens[1].plugins[0], "echo");
    CU_ASSERT_EQUAL(cfg.listens[2].port, 5007);
    CU_ASSERT_STRING_EQUAL(cfg.listens[2].plugins[0], "counter");
    CU_ASSERT_EQUAL(cfg.max_line, 1024 * 1024);
    CU_ASSERT_EQUAL(cfg.max_output, 1024 * 1024);
    CU_ASSERT_EQUAL(cfg.threads, 0);
    CU_ASSERT_EQUAL(cfg.max_conns, 0);
    CU_ASSERT_DOUBLE_EQUAL(cfg.drain_timeout, 2.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cfg.idle_timeout, 300.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cfg.write_timeout, 30.0, 1e-9);
    /* one plugin dir, the one of this binary (tests/unit is not the build tree's server) */
    char exe[4096], want[4200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CU_ASSERT_FATAL(n > 0);
    exe[n] = '\0';
    CU_ASSERT_EQUAL_FATAL(config_default_plugin_dir(exe, want, sizeof want), 0);
    CU_ASSERT_EQUAL_FATAL(cfg.nplugin_dirs, 1);
    CU_ASSERT_STRING_EQUAL(cfg.plugin_dirs[0], want);
    CU_ASSERT_PTR_NULL(strstr(want, LP_BUILD_PLUGIN_DIR));
    config_free(&cfg);
}

/* The build tree's server uses the build tree's plugins; any other location (an install
 * prefix, a moved tree) the folder relative to itself - never the build tree. */
static void plugin_dir_follows_the_binary(void)
{
    char out[4200];
    CU_ASSERT_EQUAL(
        config_default_plugin_dir(LP_BUILD_SERVER_DIR "/linepool-server", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, LP_BUILD_PLUGIN_DIR);
    CU_ASSERT_EQUAL(config_default_plugin_dir("/opt/lp/bin/linepool-server", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/opt/lp/bin/" LP_REL_PLUGIN_DIR);
    CU_ASSERT_STRING_EQUAL(LP_REL_PLUGIN_DIR, "../lib/linepool/plugins");
    CU_ASSERT_EQUAL(config_default_plugin_dir("/linepool-server", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/" LP_REL_PLUGIN_DIR);
    CU_ASSERT_EQUAL(config_default_plugin_dir("/a/b/linepool-server", out, 8), -ENAMETOOLONG);
}

/* --listen NAME@HOST:PORT=...: the name is kept; bad or repeated names are refused. */
static void listener_names(void)
{
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(
        PARSE(&cfg, err, "-l", "public@127.0.0.1:7000=counter@a,echo", "-l", "[::1]:0=echo"),
        CONFIG_RUN);
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].name, "public");
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].host, "127.0.0.1");
    CU_ASSERT_EQUAL(cfg.listens[0].port, 7000);
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].plugins[0], "counter@a");
    CU_ASSERT_PTR_NULL(cfg.listens[1].name);
    CU_ASSERT_STRING_EQUAL(cfg.listens[1].host, "::1");
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "-l", "a@127.0.0.1:1=echo", "-l", "a@127.0.0.1:2=echo"),
                    -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "--listen a@127.0.0.1:2=echo: listener name 'a' given twice");
    config_free(&cfg);
    static char *const bad[] = {"@127.0.0.1:1=echo", "a b@127.0.0.1:1=echo",
                                "x/y@127.0.0.1:1=echo"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CU_ASSERT_EQUAL(PARSE(&cfg, err, "-l", bad[i]), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "listener name must be 1-64 of [A-Za-z0-9._-]"));
        config_free(&cfg);
    }
}

/* --help, --version and --list-plugins see the plugin dirs of the whole command line. */
static void modes_keep_the_plugin_dirs(void)
{
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(PARSE(&cfg, err, "--list-plugins", "--plugin-dir", "/x"), CONFIG_LIST);
    CU_ASSERT_EQUAL_FATAL(cfg.nplugin_dirs, 1);
    CU_ASSERT_STRING_EQUAL(cfg.plugin_dirs[0], "/x");
    CU_ASSERT_EQUAL(cfg.nlistens, 0);
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--help", "--bogus"), -EINVAL);
    config_free(&cfg);
}

static void every_option_is_applied(void)
{
    struct config cfg;
    char err[256] = "";
    int rc =
        PARSE(&cfg, err, "--listen", "127.0.0.1:0=counter,echo", "-l", "[::1]:7000=echo",
              "--plugin", "counter:marker=END", "--plugin-dir", "/opt/p", "--threads", "3",
              "--max-line", "64K", "--max-conns", "500", "--max-output", "2M", "--write-timeout",
              "1500ms", "--idle-timeout", "0", "--drain-timeout", "5s", "-v", "-v");
    CU_ASSERT_EQUAL_FATAL(rc, CONFIG_RUN);
    CU_ASSERT_EQUAL_FATAL(cfg.nlistens, 2);
    CU_ASSERT_EQUAL(cfg.listens[0].port, 0);
    CU_ASSERT_EQUAL_FATAL(cfg.listens[0].nplugins, 2);
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].plugins[0], "counter");
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].plugins[1], "echo");
    CU_ASSERT_STRING_EQUAL(cfg.listens[1].host, "::1");
    CU_ASSERT_EQUAL(cfg.listens[1].port, 7000);
    CU_ASSERT_EQUAL_FATAL(cfg.nplugin_specs, 1);
    CU_ASSERT_STRING_EQUAL(cfg.plugin_specs[0], "counter:marker=END");
    CU_ASSERT_EQUAL_FATAL(cfg.nplugin_dirs, 1);
    CU_ASSERT_STRING_EQUAL(cfg.plugin_dirs[0], "/opt/p");
    CU_ASSERT_EQUAL(cfg.threads, 3);
    CU_ASSERT_EQUAL(cfg.max_line, 65536);
    CU_ASSERT_EQUAL(cfg.max_conns, 500);
    CU_ASSERT_EQUAL(cfg.max_output, 2 * 1024 * 1024);
    CU_ASSERT_DOUBLE_EQUAL(cfg.write_timeout, 1.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cfg.idle_timeout, 0.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cfg.drain_timeout, 5.0, 1e-9);
    CU_ASSERT_EQUAL(cfg.verbosity, 2);
    config_free(&cfg);
}

static void quiet_sets_negative_verbosity(void)
{
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(PARSE(&cfg, err, "-q"), CONFIG_RUN);
    CU_ASSERT_EQUAL(cfg.verbosity, -1);
    config_free(&cfg);
}

static void help_and_version(void)
{
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--help"), CONFIG_HELP);
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "-V"), CONFIG_VERSION);
    config_free(&cfg);
}

/* Each bad command line is refused with an error line naming the culprit. */
static void expect_error(const char *opt, const char *value, const char *fragment)
{
    struct config cfg;
    char err[256] = "";
    char *argv[] = {"linepool-server", (char *)opt, (char *)value};
    int argc = value ? 3 : 2;
    int rc = config_parse(&cfg, argc, argv, err, sizeof err);
    CU_ASSERT(rc == -EINVAL || rc == -ERANGE);
    if (!strstr(err, fragment)) {
        CU_FAIL("error line does not name the problem");
        fprintf(stderr, "\n  %s %s -> '%s' (wanted '%s')\n", opt, value ? value : "", err,
                fragment);
    }
    config_free(&cfg);
}

static void bad_values_are_refused_clearly(void)
{
    expect_error("--listen", "127.0.0.1:5005", "HOST:PORT[+proxy]=PLUGIN");
    expect_error("--listen", "127.0.0.1:5005+tls=echo", "unknown listener option '+tls'");
    expect_error("--listen", "127.0.0.1:+proxy=echo", "bad port");
    expect_error("--proxy-trusted", "10.0.0.1/8",
                 "--proxy-trusted 10.0.0.1/8: '10.0.0.1/8' is not ADDR or ADDR/BITS");
    expect_error("--proxy-trusted", "10.0.0.0/33", "'10.0.0.0/33'");
    expect_error("--proxy-trusted", "::1,", "'' is not");
    expect_error("--proxy-trusted", "localhost", "'localhost'");
    expect_error("--proxy-timeout", "never", "--proxy-timeout never");
    expect_error("--listen", "127.0.0.1=echo", "missing :PORT");
    expect_error("--listen", ":5005=echo", "empty host");
    expect_error("--listen", "127.0.0.1:70000=echo", "bad port");
    expect_error("--listen", "127.0.0.1:-1=echo", "bad port");
    expect_error("--listen", "127.0.0.1:=echo", "bad port");
    expect_error("--listen", "127.0.0.1:5005=", "empty plugin name");
    expect_error("--listen", "127.0.0.1:5005=a,,b", "empty plugin name");
    expect_error("--listen", "127.0.0.1:5005=a,", "empty plugin name");
    expect_error("--listen", "::1:5005=echo", "[ADDR]:PORT");
    expect_error("--listen", "[::1=echo", "[IPV6]:PORT");
    expect_error("--threads", "0", "--threads 0");
    expect_error("--threads", "two", "--threads two");
    expect_error("--max-line", "0", "--max-line 0");
    expect_error("--max-line", "12Q", "--max-line 12Q");
    expect_error("--max-line", "-5", "--max-line -5");
    expect_error("--max-output", "10", "at least 1024");
    expect_error("--max-conns", "x", "--max-conns x");
    expect_error("--drain-timeout", "soon", "--drain-timeout soon");
    expect_error("--idle-timeout", "-1", "--idle-timeout -1");
    expect_error("--plugin", ":args", "NAME[:ARGS]");
    expect_error("--bogus", NULL, "unknown option '--bogus'");
    expect_error("--listen", NULL, "needs a value");
    expect_error("stray", NULL, "unexpected argument 'stray'");
}

/* Found by fuzz_config: strtoul/strtoull skip leading spaces and negate a '-', so " -5" was a
 * huge size and " -18446744073709551615" a thread count of 1. */
static void numbers_must_start_with_a_digit(void)
{
    expect_error("--max-line", " -5", "--max-line  -5");
    expect_error("--max-output", " -1M", "--max-output  -1M");
    expect_error("--threads", " -18446744073709551615", "--threads");
    expect_error("--max-conns", " -18446744073709551615", "--max-conns");
    expect_error("--threads", "+4", "--threads +4");
    expect_error("--listen", "h: -0=echo", "bad port");
    expect_error("--listen", "h: 80=echo", "bad port");
}

/* The same codes everywhere (values.h): -EINVAL outside the grammar, -ERANGE for a
 * well-formed value that overflows or is outside the option's limits. */
static void grammar_and_range_errors_differ(void)
{
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--threads", "two"), -EINVAL);
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--threads", "0"), -ERANGE);
    CU_ASSERT_STRING_EQUAL(err, "--threads 0: expected a whole number from 1 to 1024");
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--max-line", "99999999999999999999"), -ERANGE);
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--max-output", "1000"), -ERANGE);
    CU_ASSERT_STRING_EQUAL(err,
                           "--max-output 1000: expected a size of at least 1024 bytes (suffixes "
                           "K, M, G, T)");
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--drain-timeout", "1.5h"), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "--drain-timeout 1.5h: expected seconds (e.g. 2, 0.5, 1500ms)");
    config_free(&cfg);
}

/* --help comes from the option table: every entry is in it, and every option that takes a
 * value shows its default (a new entry without one fails here). */
static void help_documents_every_option_with_its_default(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    config_usage(out, NULL);
    fclose(out);
    size_t w = 0; /* whitespace runs as one space: lines wrap anywhere */
    for (size_t r = 0; text[r]; r++)
        if (!(strchr(" \n", text[r]) && w && text[w - 1] == ' '))
            text[w++] = text[r] == '\n' ? ' ' : text[r];
    text[w] = '\0';
    const struct opt_table *t = config_options();
    CU_ASSERT(t->n >= 17);
    for (size_t i = 0; i < t->n; i++) {
        const struct opt *o = &t->opts[i];
        char want[256];
        snprintf(want, sizeof want, "--%s", o->name);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
        int takes_value = o->type != OPT_FLAG && !(o->flags & OPT_NOVALUE);
        if (!takes_value)
            continue;
        const char *def = o->def_note ? o->def_note : o->def;
        CU_ASSERT_PTR_NOT_NULL(def);
        if (!def)
            continue;
        snprintf(want, sizeof want, "(default: %s)", def);
        for (char *c = want; *c; c++)
            *c = *c == '\n' ? ' ' : *c;
        char *at = strstr(text, want);
        if (!at) {
            CU_FAIL("a default is not in --help");
            fprintf(stderr, "\n  --%s: '%s' missing\n", o->name, want);
        }
    }
    free(text);
}

#define TEXT(cfg, err, lit) config_parse_text(cfg, "f.conf", lit, sizeof(lit) - 1, err, sizeof err)

/* A config file: directives are the long names; blanks and comments are skipped; each
 * refusal names FILE:LINE. */
static void config_file_lines(void)
{
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(TEXT(&cfg, err,
                               "# c\n\n listen\t127.0.0.1:0=echo \r\nthreads 3\n"
                               "verbose\nplugin counter:marker=A B\nmax-line 2K"),
                          CONFIG_RUN);
    CU_ASSERT_EQUAL_FATAL(cfg.nlistens, 1);
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].plugins[0], "echo");
    CU_ASSERT_EQUAL(cfg.threads, 3);
    CU_ASSERT_EQUAL(cfg.verbosity, 1);
    CU_ASSERT_EQUAL(cfg.max_line, 2048);
    CU_ASSERT_EQUAL_FATAL(cfg.nplugin_specs, 1);
    CU_ASSERT_STRING_EQUAL(cfg.plugin_specs[0], "counter:marker=A B"); /* inner blanks kept */
    config_free(&cfg);
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"threads 2\nthreads x\n", "f.conf:2: threads x: expected a whole number from 1 to 1024"},
        {"verbose yes", "f.conf:1: 'verbose' takes no value"},
        {"threads", "f.conf:1: 'threads' needs a value"},
        {"version", "f.conf:1: unknown directive 'version' (command line only)"},
        {"config other.conf", "f.conf:1: unknown directive 'config' (command line only)"},
        {"--threads 2", "f.conf:1: unknown directive '--threads'"},
        {"max-l 1K", "f.conf:1: unknown directive 'max-l'"},
        {"\n\nthreads 2\0", "f.conf:3: NUL byte in the line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = strlen(bad[i].text) + (strstr(bad[i].err, "NUL") ? 1 : 0);
        int rc = config_parse_text(&cfg, "f.conf", bad[i].text, len, err, sizeof err);
        CU_ASSERT(rc == -EINVAL || rc == -ERANGE);
        CU_ASSERT_STRING_EQUAL(err, bad[i].err);
        config_free(&cfg);
    }
}

/* The command line overrides the file; its --listen list replaces the file's. */
static void command_line_over_config_file(void)
{
    char path[] = "/tmp/lp-test-config-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    static const char text[] = "listen 127.0.0.1:1=echo\nlisten 127.0.0.1:2=echo\n"
                               "plugin-dir /file\nthreads 2\nmax-line 1K\n";
    CU_ASSERT_EQUAL_FATAL(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(
        PARSE(&cfg, err, "-l", "127.0.0.1:3=counter", "--threads", "4", "--config", path),
        CONFIG_RUN);
    CU_ASSERT_EQUAL_FATAL(cfg.nlistens, 1);
    CU_ASSERT_EQUAL(cfg.listens[0].port, 3);
    CU_ASSERT_EQUAL(cfg.threads, 4);
    CU_ASSERT_EQUAL(cfg.max_line, 1024);
    CU_ASSERT_EQUAL_FATAL(cfg.nplugin_dirs, 1);
    CU_ASSERT_STRING_EQUAL(cfg.plugin_dirs[0], "/file");
    CU_ASSERT_STRING_EQUAL(cfg.config_path, path);
    config_free(&cfg);
    /* a CLI listener that repeats a file's is no duplicate: the file's list is gone */
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--config", path, "-l", "127.0.0.1:1=echo"), CONFIG_RUN);
    CU_ASSERT_EQUAL(cfg.nlistens, 1);
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--config", path, "--check-config"), CONFIG_CHECK);
    CU_ASSERT_EQUAL(cfg.nlistens, 2);
    config_free(&cfg);
    unlink(path);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--config", path), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ": No such file or directory"));
    config_free(&cfg);
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--config", "/"), -EISDIR);
    CU_ASSERT_STRING_EQUAL(err, "/: Is a directory");
    config_free(&cfg);
}

static void listen_forms(void)
{
    struct listen_spec l;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(listen_spec_parse(&l, "localhost:0=echo", err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(l.host, "localhost");
    CU_ASSERT_EQUAL(l.port, 0);
    free(l.host);
    free(l.plugins[0]);
    free(l.plugins);
    CU_ASSERT_EQUAL_FATAL(listen_spec_parse(&l, "[::]:5005=a,b,c", err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(l.host, "::");
    CU_ASSERT_EQUAL(l.nplugins, 3);
    CU_ASSERT_STRING_EQUAL(l.plugins[2], "c");
    free(l.host);
    for (size_t i = 0; i < l.nplugins; i++)
        free(l.plugins[i]);
    free(l.plugins);
}

static void listen_systemd_form(void)
{
    struct listen_spec l;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(listen_spec_parse(&l, "api@systemd:web=echo,counter", err, sizeof err),
                          0);
    CU_ASSERT_PTR_NULL(l.host);
    CU_ASSERT_STRING_EQUAL(l.systemd, "web");
    CU_ASSERT_STRING_EQUAL(l.name, "api");
    CU_ASSERT_EQUAL(l.nplugins, 2);
    listen_spec_address(&l, err, sizeof err);
    CU_ASSERT_STRING_EQUAL(err, "api@systemd:web");
    listen_spec_free(&l);
    const char *bad[] = {"systemd:=echo", "systemd:a b=echo", "systemd:a:b=echo"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(listen_spec_parse(&l, bad[i], err, sizeof err), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected systemd:NAME"));
        listen_spec_free(&l);
    }
}

static void parsing_twice_starts_fresh(void)
{
    struct config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--threads", "4", "-v"), CONFIG_RUN);
    CU_ASSERT_EQUAL(cfg.threads, 4);
    config_free(&cfg);
    /* config_free zeroes the struct, so plant what a parse that kept the last call's values
     * would see: config_parse itself must start from the defaults */
    cfg.threads = 4;
    cfg.verbosity = 1;
    cfg.max_line = 7;
    CU_ASSERT_EQUAL(PARSE(&cfg, err, "--max-conns", "9"), CONFIG_RUN);
    CU_ASSERT_EQUAL(cfg.threads, 0);
    CU_ASSERT_EQUAL(cfg.verbosity, 0);
    CU_ASSERT_EQUAL(cfg.max_line, 1024 * 1024);
    CU_ASSERT_EQUAL(cfg.max_conns, 9);
    config_free(&cfg);
}

static int trusted(const struct config *cfg, const char *ip)
{
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6};
    struct sockaddr_in sa4 = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, ip, &sa4.sin_addr) == 1)
        return cidr_match(cfg->proxy_trusted, cfg->nproxy_trusted, (struct sockaddr *)&sa4);
    CU_ASSERT_FATAL(inet_pton(AF_INET6, ip, &sa6.sin6_addr) == 1);
    return cidr_match(cfg->proxy_trusted, cfg->nproxy_trusted, (struct sockaddr *)&sa6);
}

/* +proxy per listener (after the port, NAME@ still first), the trusted ranges and timeout. */
static void proxy_listeners_and_trust(void)
{
    struct config cfg;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(PARSE(&cfg, err, "-l", "lb@0.0.0.0:7001+proxy=counter,echo", "-l",
                                "[::1]:7002+proxy=echo", "-l", "127.0.0.1:7003=echo"),
                          CONFIG_RUN);
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].name, "lb");
    CU_ASSERT_STRING_EQUAL(cfg.listens[0].host, "0.0.0.0");
    CU_ASSERT_EQUAL(cfg.listens[0].port, 7001);
    CU_ASSERT_EQUAL(cfg.listens[0].flags, LISTEN_PROXY);
    CU_ASSERT_EQUAL(cfg.listens[0].nplugins, 2);
    CU_ASSERT_EQUAL(cfg.listens[1].port, 7002);
    CU_ASSERT_EQUAL(cfg.listens[1].flags, LISTEN_PROXY);
    CU_ASSERT_EQUAL(cfg.listens[2].flags, 0);
    CU_ASSERT_DOUBLE_EQUAL(cfg.proxy_timeout, 3.0, 1e-9); /* the default */
    CU_ASSERT_EQUAL(cfg.nproxy_trusted, 2);               /* default: loopback */
    CU_ASSERT_TRUE(trusted(&cfg, "127.0.0.1"));
    CU_ASSERT_TRUE(trusted(&cfg, "127.255.0.9"));
    CU_ASSERT_TRUE(trusted(&cfg, "::1"));
    CU_ASSERT_TRUE(trusted(&cfg, "::ffff:127.0.0.2")); /* v4-mapped */
    CU_ASSERT_FALSE(trusted(&cfg, "128.0.0.1"));
    CU_ASSERT_FALSE(trusted(&cfg, "::2"));
    config_free(&cfg);

    CU_ASSERT_EQUAL_FATAL(PARSE(&cfg, err, "--proxy-trusted", "10.1.0.0/16,fd00::/8,192.0.2.7",
                                "--proxy-timeout", "500ms"),
                          CONFIG_RUN);
    CU_ASSERT_EQUAL(cfg.nproxy_trusted, 3);
    CU_ASSERT_DOUBLE_EQUAL(cfg.proxy_timeout, 0.5, 1e-9);
    CU_ASSERT_TRUE(trusted(&cfg, "10.1.255.255"));
    CU_ASSERT_FALSE(trusted(&cfg, "10.2.0.0"));
    CU_ASSERT_TRUE(trusted(&cfg, "fdff::1"));
    CU_ASSERT_FALSE(trusted(&cfg, "fe00::1"));
    CU_ASSERT_TRUE(trusted(&cfg, "192.0.2.7"));
    CU_ASSERT_FALSE(trusted(&cfg, "192.0.2.8"));
    CU_ASSERT_FALSE(trusted(&cfg, "127.0.0.1")); /* the list replaces the default */
    config_free(&cfg);

    /* the same from a config file */
    CU_ASSERT_EQUAL_FATAL(TEXT(&cfg, err,
                               "listen lb@127.0.0.1:7001+proxy=echo\n"
                               "proxy-trusted 10.0.0.0/8\nproxy-timeout 1500ms\n"),
                          CONFIG_RUN);
    CU_ASSERT_EQUAL(cfg.listens[0].flags, LISTEN_PROXY);
    CU_ASSERT_DOUBLE_EQUAL(cfg.proxy_timeout, 1.5, 1e-9);
    CU_ASSERT_TRUE(trusted(&cfg, "10.9.8.7"));
    CU_ASSERT_FALSE(trusted(&cfg, "127.0.0.1"));
    config_free(&cfg);

    CU_ASSERT_EQUAL_FATAL(PARSE(&cfg, err, "--proxy-trusted", "0.0.0.0/0,::/0"), CONFIG_RUN);
    CU_ASSERT_TRUE(trusted(&cfg, "203.0.113.5"));
    CU_ASSERT_TRUE(trusted(&cfg, "2001:db8::1"));
    config_free(&cfg);
}

static CU_TestInfo config_tests[] = {
    {"proxy_listeners_and_trust", proxy_listeners_and_trust},
    {"defaults_when_no_options", defaults_when_no_options},
    {"every_option_is_applied", every_option_is_applied},
    {"quiet_sets_negative_verbosity", quiet_sets_negative_verbosity},
    {"help_and_version", help_and_version},
    {"plugin_dir_follows_the_binary", plugin_dir_follows_the_binary},
    {"listener_names", listener_names},
    {"modes_keep_the_plugin_dirs", modes_keep_the_plugin_dirs},
    {"bad_values_are_refused_clearly", bad_values_are_refused_clearly},
    {"numbers_must_start_with_a_digit", numbers_must_start_with_a_digit},
    {"listen_forms", listen_forms},
    {"config_file_lines", config_file_lines},
    {"command_line_over_config_file", command_line_over_config_file},
    {"help_documents_every_option_with_its_default", help_documents_every_option_with_its_default},
    {"grammar_and_range_errors_differ", grammar_and_range_errors_differ},
    {"listen_systemd_form", listen_systemd_form},
    {"parsing_twice_starts_fresh", parsing_twice_starts_fresh},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "config", .pTests = config_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

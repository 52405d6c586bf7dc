/* Unit tests of linepool-client's argument parsing: defaults of each command, every option,
 * and a clear error naming the option for each bad value. */
#include "cunit_main.h"
#include "options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NCPU 4

static struct client_opts o;
static char err[512];

/* Parses a NULL-terminated list of words after "linepool-client". */
static int parse(const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "linepool-client";
    va_list ap;
    va_start(ap, first);
    for (const char *w = first; w; w = va_arg(ap, const char *))
        argv[argc++] = (char *)w;
    va_end(ap);
    argv[argc] = NULL;
    options_free(&o);
    err[0] = '\0';
    return options_parse(&o, argc, argv, NCPU, err, sizeof err);
}

/* The parse must fail, and the error line must mention `what`. */
static void refused(const char *what, const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "linepool-client";
    va_list ap;
    va_start(ap, first);
    for (const char *w = first; w; w = va_arg(ap, const char *))
        argv[argc++] = (char *)w;
    va_end(ap);
    argv[argc] = NULL;
    options_free(&o);
    err[0] = '\0';
    int rc = options_parse(&o, argc, argv, NCPU, err, sizeof err);
    CU_ASSERT(rc == -EINVAL || rc == -ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
    if (!strstr(err, what))
        fprintf(stderr, "\n  error for %s was: '%s' (wanted '%s')\n", first, err, what);
}

static void send_defaults(void)
{
    CU_ASSERT_EQUAL(parse("send", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.cmd, CMD_SEND);
    CU_ASSERT_STRING_EQUAL(o.host, "127.0.0.1");
    CU_ASSERT_EQUAL(o.port, 5005);
    CU_ASSERT_STRING_EQUAL(o.text, "Hello, World!");
    CU_ASSERT_EQUAL(o.raw, 0);
    CU_ASSERT_EQUAL(o.size_given, 0);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 1.0, 1e-9);
}

static void send_options(void)
{
    CU_ASSERT_EQUAL(parse("send", "-h", "example.org", "-p", "6379", "--raw", "--timeout", "250ms",
                          "PING", "me", NULL),
                    OPTIONS_RUN);
    CU_ASSERT_STRING_EQUAL(o.host, "example.org");
    CU_ASSERT_EQUAL(o.port, 6379);
    CU_ASSERT_EQUAL(o.raw, 1);
    CU_ASSERT_STRING_EQUAL(o.text, "PING me");
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 0.25, 1e-9);
    CU_ASSERT_EQUAL(parse("send", "--host", "::1", "--port", "1", "x", NULL), OPTIONS_RUN);
    CU_ASSERT_STRING_EQUAL(o.host, "::1");
    CU_ASSERT_EQUAL(o.port, 1);
    CU_ASSERT_STRING_EQUAL(o.text, "x");
}

static void send_size_forms(void)
{
    CU_ASSERT_EQUAL(parse("send", "--size", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.size, 300000);
    CU_ASSERT_PTR_NULL(o.text);
    CU_ASSERT_EQUAL(parse("send", "--size", "1000", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.size, 1000);
    CU_ASSERT_EQUAL(parse("send", "--size=64K", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.size, 65536);
    CU_ASSERT_EQUAL(parse("send", "--size", "5G", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.size, 5ull << 30);
    refused("not both", "send", "--size=10", "text", NULL);
    refused("--raw", "send", "--raw", "--size", NULL);
    refused("--size 0", "send", "--size=0", NULL);
    refused("--size 0", "send", "--size", "0", NULL);
}

static void server_forms(void)
{
    CU_ASSERT_EQUAL(parse("send", "--server", "10.0.0.1:7000", NULL), OPTIONS_RUN);
    CU_ASSERT_STRING_EQUAL(o.host, "10.0.0.1");
    CU_ASSERT_EQUAL(o.port, 7000);
    CU_ASSERT_EQUAL(parse("stream", "--server", "[::1]:6379", NULL), OPTIONS_RUN);
    CU_ASSERT_STRING_EQUAL(o.host, "::1");
    CU_ASSERT_EQUAL(o.port, 6379);
    CU_ASSERT_EQUAL(parse("bench", "--server", "localhost:11211", NULL), OPTIONS_RUN);
    CU_ASSERT_STRING_EQUAL(o.host, "localhost");
    CU_ASSERT_EQUAL(parse("bench", "-h", "[fe80::1]", NULL), OPTIONS_RUN);
    CU_ASSERT_STRING_EQUAL(o.host, "fe80::1");
    /* the last option wins, so -p after --server overrides its port */
    CU_ASSERT_EQUAL(parse("send", "--server", "a:1", "-p", "2", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.port, 2);
    refused("[IPV6]:PORT", "send", "--server", "::1:80", NULL);
    refused("HOST:PORT", "send", "--server", "nohost", NULL);
    refused("HOST:PORT", "send", "--server", "h:0", NULL);
    refused("HOST:PORT", "send", "--server", ":80", NULL);
    refused("--host", "send", "--host", "[]", NULL);
}

static void stream_defaults_and_options(void)
{
    CU_ASSERT_EQUAL(parse("stream", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.cmd, CMD_STREAM);
    CU_ASSERT_EQUAL(o.total, 50000000);
    CU_ASSERT_EQUAL(o.size, 50);
    CU_ASSERT_EQUAL(o.tsv, 0);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 2.0, 1e-9);
    CU_ASSERT_EQUAL(parse("stream", "--total", "1G", "--size", "1KiB", "--tsv", "--timeout", "3",
                          "-p", "5006", NULL),
                    OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.total, 1ull << 30);
    CU_ASSERT_EQUAL(o.size, 1024);
    CU_ASSERT_EQUAL(o.tsv, 1);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 3.0, 1e-9);
    CU_ASSERT_EQUAL(o.port, 5006);
    CU_ASSERT_EQUAL(parse("stream", "--total", "0", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.total, 0);
    refused("--total abc", "stream", "--total", "abc", NULL);
    refused("--total -5", "stream", "--total", "-5", NULL);
    refused("--size 0", "stream", "--size", "0", NULL);
    refused("--size 12Q", "stream", "--size", "12Q", NULL);
    refused("unexpected argument 'extra'", "stream", "extra", NULL);
    refused("unknown option '--raw'", "stream", "--raw", NULL);
}

static void bench_defaults(void)
{
    CU_ASSERT_EQUAL(parse("bench", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.cmd, CMD_BENCH);
    CU_ASSERT_EQUAL(o.conns, 50);
    CU_ASSERT_EQUAL(o.threads, NCPU);
    CU_ASSERT_DOUBLE_EQUAL(o.duration, 10.0, 1e-9);
    CU_ASSERT_EQUAL(o.requests, 0);
    CU_ASSERT_STRING_EQUAL(o.message, "PING");
    CU_ASSERT_EQUAL(o.size_given, 0);
    CU_ASSERT_EQUAL(o.pipeline, 1);
    CU_ASSERT_DOUBLE_EQUAL(o.rate, 0.0, 1e-9);
    CU_ASSERT_EQUAL(o.quiet, 0);
    CU_ASSERT_PTR_NULL(o.json_path);
    CU_ASSERT_PTR_NULL(o.csv_path);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 5.0, 1e-9);
}

static void bench_options(void)
{
    CU_ASSERT_EQUAL(parse("bench", "-c", "1000", "-t", "3", "-d", "2.5", "--message", "version",
                          "--pipeline", "32", "--rate", "1500.5", "-q", "--json", "r.json", "--csv",
                          "r.csv", "--timeout", "100ms", NULL),
                    OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.conns, 1000);
    CU_ASSERT_EQUAL(o.threads, 3);
    CU_ASSERT_DOUBLE_EQUAL(o.duration, 2.5, 1e-9);
    CU_ASSERT_STRING_EQUAL(o.message, "version");
    CU_ASSERT_EQUAL(o.pipeline, 32);
    CU_ASSERT_DOUBLE_EQUAL(o.rate, 1500.5, 1e-9);
    CU_ASSERT_EQUAL(o.quiet, 1);
    CU_ASSERT_STRING_EQUAL(o.json_path, "r.json");
    CU_ASSERT_STRING_EQUAL(o.csv_path, "r.csv");
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 0.1, 1e-9);
    CU_ASSERT_EQUAL(parse("bench", "--connections", "7", "--threads", "2", "--duration", "3s",
                          "--requests", "100", "--size", "1K", "--quiet", NULL),
                    OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.conns, 7);
    CU_ASSERT_EQUAL(o.threads, 2);
    CU_ASSERT_DOUBLE_EQUAL(o.duration, 3.0, 1e-9);
    CU_ASSERT_EQUAL(o.requests, 100);
    CU_ASSERT_EQUAL(o.size, 1024);
    CU_ASSERT_PTR_NULL(o.message);
}

static void bench_resolves_duration_and_threads(void)
{
    /* -n alone: no time limit; -n with -d: whichever comes first */
    CU_ASSERT_EQUAL(parse("bench", "-n", "200000", NULL), OPTIONS_RUN);
    CU_ASSERT_DOUBLE_EQUAL(o.duration, 0.0, 1e-9);
    CU_ASSERT_EQUAL(parse("bench", "-n", "5", "-d", "1", NULL), OPTIONS_RUN);
    CU_ASSERT_DOUBLE_EQUAL(o.duration, 1.0, 1e-9);
    CU_ASSERT_EQUAL(o.requests, 5);
    /* never more threads than connections */
    CU_ASSERT_EQUAL(parse("bench", "-c", "2", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.threads, 2);
    CU_ASSERT_EQUAL(parse("bench", "-c", "1", "-t", "8", NULL), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.threads, 1);
}

static void bench_bad_values(void)
{
    refused("--connections 0: expected a whole number from 1 to 1000000", "bench", "-c", "0", NULL);
    refused("--connections x", "bench", "-c", "x", NULL);
    refused("--connections -1", "bench", "-c", "-1", NULL);
    refused("--threads 0", "bench", "-t", "0", NULL);
    refused("--threads 5000", "bench", "-t", "5000", NULL);
    refused("--duration 0", "bench", "-d", "0", NULL);
    refused("--duration -2", "bench", "-d", "-2", NULL);
    refused("--duration 2h", "bench", "-d", "2h", NULL);
    refused("--requests 0", "bench", "-n", "0", NULL);
    refused("--requests 1.5", "bench", "-n", "1.5", NULL);
    refused("--pipeline 0", "bench", "--pipeline", "0", NULL);
    refused("--pipeline 4097", "bench", "--pipeline", "4097", NULL);
    refused("--rate 0", "bench", "--rate", "0", NULL);
    refused("--rate -5", "bench", "--rate", "-5", NULL);
    refused("--rate fast", "bench", "--rate", "fast", NULL);
    refused("--timeout 0", "bench", "--timeout", "0", NULL);
    refused("--size 0", "bench", "--size", "0", NULL);
    refused("--size 65M: at most", "bench", "--size", "65M", NULL);
    refused("newline", "bench", "--message", "a\nb", NULL);
    refused("not both", "bench", "--message", "PING", "--size", "10", NULL);
    refused("--port 0", "bench", "-p", "0", NULL);
    refused("--port 65536", "bench", "-p", "65536", NULL);
    refused("--port http", "bench", "--port", "http", NULL);
    refused("unexpected argument", "bench", "now", NULL);
}

static void usage_errors_are_clear(void)
{
    refused("missing command", NULL, NULL);
    refused("unknown command 'blast'", "blast", NULL);
    refused("unknown option '--bogus'", "send", "--bogus", NULL);
    refused("unknown option '-z'", "bench", "-z", NULL);
    refused("unknown option '--tsv'", "send", "--tsv", NULL);
    refused("needs a value", "bench", "-c", NULL);
    refused("needs a value", "stream", "--total", NULL);
    refused("-h needs a HOST (help is --help)", "send", "-h", NULL);
    refused("help: unknown command", "help", "nope", NULL);
}

static void help_and_version(void)
{
    CU_ASSERT_EQUAL(parse("--help", NULL), OPTIONS_HELP);
    CU_ASSERT_EQUAL(o.cmd, CMD_NONE);
    CU_ASSERT_EQUAL(parse("--version", NULL), OPTIONS_VERSION);
    CU_ASSERT_EQUAL(parse("send", "--help", NULL), OPTIONS_HELP);
    CU_ASSERT_EQUAL(o.cmd, CMD_SEND);
    CU_ASSERT_EQUAL(parse("bench", "-c", "5", "--help", NULL), OPTIONS_HELP);
    CU_ASSERT_EQUAL(o.cmd, CMD_BENCH);
    CU_ASSERT_EQUAL(parse("help", "stream", NULL), OPTIONS_HELP);
    CU_ASSERT_EQUAL(o.cmd, CMD_STREAM);
}

/* Each command's help names each of its options, with the documented defaults. */
static void help_lists_every_option(void)
{
    static const struct {
        enum client_cmd cmd;
        const char *words[16];
    } want[] = {
        {CMD_SEND,
         {"--host", "--port", "--server", "--raw", "--size", "--timeout", "300000", "(default: 1)",
          "Hello, World!", "--help"}},
        {CMD_STREAM,
         {"--total", "--size", "--tsv", "--timeout", "50000000", "(default: 50)", "(default: 2)"}},
        {CMD_BENCH,
         {"-c, --connections", "-t, --threads", "-d, --duration", "-n, --requests", "--message",
          "--size", "--pipeline", "--rate", "--timeout", "-q, --quiet", "--json", "--csv",
          "(default: 5)", "(default: 50)", "(default: 10"}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        options_usage(f, want[i].cmd);
        fclose(f);
        for (size_t w = 0; w < 16 && want[i].words[w]; w++) {
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, want[i].words[w]));
            if (!strstr(buf, want[i].words[w]))
                fprintf(stderr, "\n  help lacks '%s'\n", want[i].words[w]);
        }
        free(buf);
    }
}

/* Sizes and seconds are the server's grammar (server/values.c), through the option table:
 * -EINVAL outside the grammar, -ERANGE for what overflows or is outside the limits. */
static void size_and_seconds_spellings(void)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } sizes[] = {
        {"0", 0}, {"1k", 1024}, {"2MB", 2u << 20}, {"3GiB", 3ull << 30}, {"1T", 1ull << 40}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        CU_ASSERT_EQUAL(parse("stream", "--total", sizes[i].text, NULL), OPTIONS_RUN);
        CU_ASSERT_EQUAL(o.total, sizes[i].bytes);
    }
    static const char *const bad_sizes[] = {"", "k", "1kx", " 5", "+5", "-5"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof *bad_sizes; i++) {
        CU_ASSERT_EQUAL(parse("stream", "--total", bad_sizes[i], NULL), -EINVAL);
    }
    CU_ASSERT_EQUAL(parse("stream", "--total", "99999999999T", NULL), -ERANGE);
    CU_ASSERT_EQUAL(parse("stream", "--total", "99999999999999999999", NULL), -ERANGE);
    CU_ASSERT_EQUAL(parse("send", "--timeout", "1500ms", NULL), OPTIONS_RUN);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 1.5, 1e-9);
    CU_ASSERT_EQUAL(parse("send", "--timeout", "0.5", NULL), OPTIONS_RUN);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout, 0.5, 1e-9);
    CU_ASSERT_EQUAL(parse("send", "--timeout", "2s", NULL), OPTIONS_RUN);
    static const char *const bad_seconds[] = {"inf", "nan", "-1", "1m", ".5", "1e3"};
    for (size_t i = 0; i < sizeof bad_seconds / sizeof *bad_seconds; i++) {
        CU_ASSERT_EQUAL(parse("send", "--timeout", bad_seconds[i], NULL), -EINVAL);
    }
    CU_ASSERT_EQUAL(parse("send", "--timeout", "0", NULL), -ERANGE);
    CU_ASSERT_STRING_EQUAL(err, "--timeout 0: expected seconds above 0 (e.g. 2, 0.5, 1500ms)");
    CU_ASSERT_EQUAL(parse("bench", "--port", "65536", NULL), -ERANGE);
    CU_ASSERT_STRING_EQUAL(err, "--port 65536: expected a port from 1 to 65535");
}

static char stale_json[] = "stale.json";

static void parsing_twice_starts_fresh(void)
{
    CU_ASSERT_EQUAL(parse("bench", "-c", "3", "--json", "a", NULL), OPTIONS_RUN);
    options_free(&o);
    /* options_free already NULLs the strings, so plant what a parse that kept the last
     * call's fields would see: options_parse itself must reset them */
    o.json_path = stale_json;
    o.conns = 3;
    char *argv[] = {"linepool-client", "bench", "--csv", "b", NULL};
    CU_ASSERT_EQUAL(options_parse(&o, 4, argv, NCPU, err, sizeof err), OPTIONS_RUN);
    CU_ASSERT_EQUAL(o.conns, 50);
    CU_ASSERT_PTR_NULL(o.json_path);
    if (o.json_path == stale_json)
        o.json_path = NULL; /* not ours to free */
    CU_ASSERT_STRING_EQUAL(o.csv_path, "b");
}

static void bench_workload_and_files_options(void)
{
    CU_ASSERT_EQUAL(parse("bench", "--command", "GET __key__", "--command-ratio", "3", "--command",
                          "SET __key__ __data__", "-r", "100", "--key-pattern", "Z",
                          "--key-zipf-exp", "0.9", "--data-size", "1K", "--protocol", "redis",
                          "--json-out-file", "m.json", "--hdr-file-prefix", "P", "--hlog", "l.hlog",
                          "--warmup", "2", "--reconnect-interval", "10", "--connection-duration",
                          "1s", "--connection-duration-jitter", "200", "--start-at",
                          "1767225600000", "-c", "10", "--segment", "2/3", NULL),
                    0);
    CU_ASSERT_EQUAL(o.ncommands, 2);
    CU_ASSERT_EQUAL(o.command_weights[0], 3);
    CU_ASSERT_EQUAL(o.command_weights[1], 1);
    CU_ASSERT_PTR_NULL(o.message); /* no default PING with templates */
    CU_ASSERT_EQUAL(o.rand_range, 100);
    CU_ASSERT_EQUAL(o.key_pattern, 'Z');
    CU_ASSERT_EQUAL(o.data_size, 1024);
    CU_ASSERT_EQUAL(o.protocol, 1);
    CU_ASSERT_STRING_EQUAL(o.key_prefix, "memtier-");
    CU_ASSERT_EQUAL(o.key_max, 10000000);
    CU_ASSERT_STRING_EQUAL(o.json_out_path, "m.json");
    CU_ASSERT_STRING_EQUAL(o.hdr_prefix, "P");
    CU_ASSERT_DOUBLE_EQUAL(o.warmup, 2.0, 1e-12);
    CU_ASSERT_EQUAL(o.reconnect_interval, 10);
    CU_ASSERT_DOUBLE_EQUAL(o.conn_duration, 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(o.conn_jitter, 0.2, 1e-12);
    CU_ASSERT_EQUAL(o.start_at_ms, 1767225600000ull);
    CU_ASSERT(o.seg_i == 2 && o.seg_n == 3);
    CU_ASSERT_EQUAL(parse("merge", "a.json", "b.hlog", "--relative", "-o", "all.json", NULL), 0);
    CU_ASSERT(o.ninputs == 2 && o.relative && strcmp(o.out_path, "all.json") == 0);
    CU_ASSERT_EQUAL(parse("plot", "a.json", "-o", "a.svg", NULL), 0);
    CU_ASSERT(o.cmd == CMD_PLOT && o.ninputs == 1);
    refused("unknown placeholder __nope__", "bench", "--command", "GET __nope__", NULL);
    refused("comes after the --command", "bench", "--command-ratio", "2", NULL);
    refused("give --command/--commands-file or --message", "bench", "--command", "x", "--message",
            "y", NULL);
    refused("expected R (uniform)", "bench", "--key-pattern", "Q", NULL);
    refused("--key-maximum is below", "bench", "--key-minimum", "9", "--key-maximum", "3", NULL);
    refused("expected line, redis or memcache", "bench", "--protocol", "http", NULL);
    refused("expected i/N with 1 <= i <= N", "bench", "--segment", "4/3", NULL);
    refused("expected i/N", "bench", "--segment", "3", NULL);
    refused("fewer connections", "bench", "-c", "2", "--segment", "1/3", NULL);
    refused("needs a longer", "bench", "--connection-duration", "100",
            "--connection-duration-jitter", "300", NULL);
    refused("below 5", "bench", "--key-zipf-exp", "7", NULL);
    refused("merge: -o OUT.json is required", "merge", "a.json", NULL);
    refused("merge: give the runs", "merge", "-o", "x.json", NULL);
    refused("plot: -o OUT.svg or OUT.png is required", "plot", "a.json", NULL);
}

static CU_TestInfo option_tests[] = {
    {"bench_workload_and_files_options", bench_workload_and_files_options},
    {"send_defaults", send_defaults},
    {"send_options", send_options},
    {"send_size_forms", send_size_forms},
    {"server_forms", server_forms},
    {"stream_defaults_and_options", stream_defaults_and_options},
    {"bench_defaults", bench_defaults},
    {"bench_options", bench_options},
    {"bench_resolves_duration_and_threads", bench_resolves_duration_and_threads},
    {"bench_bad_values", bench_bad_values},
    {"usage_errors_are_clear", usage_errors_are_clear},
    {"help_and_version", help_and_version},
    {"help_lists_every_option", help_lists_every_option},
    {"size_and_seconds_spellings", size_and_seconds_spellings},
    {"parsing_twice_starts_fresh", parsing_twice_starts_fresh},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "client_options", .pTests = option_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    int rc = cunit_run(suites);
    options_free(&o);
    return rc;
}

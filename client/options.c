/* options - argv to struct client_opts through one option table (server/opt.h): each entry
 * names the commands it belongs to (scope), its type, default and limits, so parsing and
 * --help cannot drift apart. Compound values are parsed in option_values.c; this file holds
 * the table and the checks that look at several options of one command. */
#include "options.h"

#include "errbuf.h"

#include "opt.h"
#include "option_values.h"
#include "values.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ON_SEND   (1u << CMD_SEND)
#define ON_STREAM (1u << CMD_STREAM)
#define ON_BENCH  (1u << CMD_BENCH)
#define ON_MERGE  (1u << CMD_MERGE)
#define ON_PLOT   (1u << CMD_PLOT)
#define ON_ALL    (ON_SEND | ON_STREAM | ON_BENCH)

static int set_string(char **dst, const char *arg)
{
    free(*dst);
    return (*dst = strdup(arg)) ? 0 : -ENOMEM;
}

/* --help: parse_flags returns OPTIONS_HELP when it sees it. */
static int apply_help(void *base, const char *arg, char *err, size_t errlen)
{
    (void)base, (void)arg, (void)err, (void)errlen;
    return OPTIONS_HELP;
}

#define F(field) offsetof(struct client_opts, field)
#define NS       1000000000ull
#define MAX_REQ  OPTIONS_MAX_REQUEST

/* Every option of every command, in --help order; an entry applies to the commands in its
 * scope (one name may have an entry per command, with its own help and default). */
static const struct opt opt_defs[] = {
    {.name = "host",
     .short_name = 'h',
     .metavar = "HOST",
     .scope = ON_ALL,
     .type = OPT_FUNC,
     .apply = apply_host,
     .def = OPTIONS_DEFAULT_HOST,
     .help = "server host name or address, IPv6 as ::1 or [::1]"},
    {.name = "port",
     .short_name = 'p',
     .metavar = "PORT",
     .scope = ON_ALL,
     .type = OPT_PORT,
     .min = 1,
     .offset = F(port),
     .def = "5005",
     .help = "server TCP port"},
    {.name = "server",
     .metavar = "HOST:PORT",
     .scope = ON_ALL,
     .type = OPT_FUNC,
     .apply = apply_server,
     .def_note = "127.0.0.1:5005",
     .help = "host and port in one, IPv6 as [::1]:5005"},
    /* send */
    {.name = "raw",
     .scope = ON_SEND,
     .type = OPT_FLAG,
     .offset = F(raw),
     .help = "send TEXT as is, without appending '\\n'"},
    {.name = "size",
     .metavar = "N",
     .scope = ON_SEND,
     .type = OPT_FUNC,
     .flags = OPT_OPTIONAL,
     .apply = apply_size,
     .def_note = "300000",
     .help = "instead of TEXT send one message of N bytes: N-1 'X' and '\\n',\n"
             "streamed from a small buffer, so any size works"},
    {.name = "timeout",
     .metavar = "SECONDS",
     .scope = ON_SEND,
     .type = OPT_SECONDS,
     .min = 1,
     .offset = F(timeout),
     .def = "1",
     .help = "how long to wait for a reply line, or for any progress"},
    /* stream */
    {.name = "total",
     .metavar = "BYTES",
     .scope = ON_STREAM,
     .type = OPT_SIZE64,
     .offset = F(total),
     .def = "50000000",
     .help = "bytes of messages to send before 'Y\\n'"},
    {.name = "size",
     .metavar = "S",
     .scope = ON_STREAM,
     .type = OPT_FUNC,
     .apply = apply_size,
     .def_note = "50",
     .help = "bytes per message: S-1 'X' and '\\n'; sends TOTAL/S messages"},
    {.name = "tsv",
     .scope = ON_STREAM,
     .type = OPT_FLAG,
     .offset = F(tsv),
     .help = "print only bytes<TAB>chunks<TAB>seconds<TAB>bytes/second, from the server's answer\n"
             "when it has 'Processed ... bytes in ... chunks.' and 'Total time: ... seconds.',\n"
             "otherwise from the client's own count (bytes sent, write calls, seconds)"},
    {.name = "timeout",
     .metavar = "SECONDS",
     .scope = ON_STREAM,
     .type = OPT_SECONDS,
     .min = 1,
     .offset = F(timeout),
     .def = "2",
     .help = "give up after this long without progress; after 'Y\\n' the answer is read until\n"
             "the server closes or is silent this long"},
    /* bench */
    {.name = "connections",
     .short_name = 'c',
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_UINT,
     .min = 1,
     .max = OPTIONS_MAX_CONNS,
     .offset = F(conns),
     .def = "50",
     .help = "connections"},
    {.name = "threads",
     .short_name = 't',
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_UINT,
     .min = 1,
     .max = OPTIONS_MAX_THREADS,
     .offset = F(threads),
     .def_note = "number of CPUs, at most -c",
     .help = "threads, each running one epoll loop over its share of the connections"},
    {.name = "duration",
     .short_name = 'd',
     .metavar = "SECONDS",
     .scope = ON_BENCH,
     .type = OPT_SECONDS,
     .min = 1,
     .offset = F(duration),
     .def_note = "10; with -n only: until the requests are done",
     .help = "run this long"},
    {.name = "requests",
     .short_name = 'n',
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_U64,
     .min = 1,
     .offset = F(requests),
     .def_note = "no limit",
     .help = "stop after N requests in total (replied, timed out or lost)"},
    {.name = "message",
     .metavar = "TEXT",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_message,
     .def_note = "PING: Redis inline PING",
     .help = "request line, '\\n' appended"},
    {.name = "size",
     .metavar = "S",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_size,
     .def_note = "none",
     .help = "instead of --message: requests of S bytes, S-1 'X' and '\\n'"},
    {.name = "pipeline",
     .metavar = "K",
     .scope = ON_BENCH,
     .type = OPT_UINT,
     .min = 1,
     .max = OPTIONS_MAX_PIPELINE,
     .offset = F(pipeline),
     .def = "1",
     .help = "requests in flight per connection, at most 4096"},
    {.name = "rate",
     .metavar = "R",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_rate,
     .def_note = "closed loop",
     .help = "open loop: R requests/s in total on a fixed schedule; latency counts from the\n"
             "intended send time, so a stall is not hidden"},
    {.name = "timeout",
     .metavar = "SECONDS",
     .scope = ON_BENCH,
     .type = OPT_SECONDS,
     .min = 1,
     .offset = F(timeout),
     .def = "5",
     .help = "a connection with requests in flight and no reply for this long counts a timeout\n"
             "and reconnects; a connection that cannot connect for this long gives up"},
    {.name = "quiet",
     .short_name = 'q',
     .scope = ON_BENCH,
     .type = OPT_FLAG,
     .offset = F(quiet),
     .help = "no progress line on stderr"},
    {.name = "json",
     .metavar = "FILE",
     .scope = ON_BENCH,
     .type = OPT_STRING,
     .offset = F(json_path),
     .def_note = "none",
     .help = "write the whole report as JSON to FILE"},
    {.name = "csv",
     .metavar = "FILE",
     .scope = ON_BENCH,
     .type = OPT_STRING,
     .offset = F(csv_path),
     .def_note = "none",
     .help = "write the per-second series as CSV to FILE"},
    {.name = "json-out-file",
     .metavar = "FILE",
     .scope = ON_BENCH,
     .type = OPT_STRING,
     .offset = F(json_out_path),
     .def_note = "none",
     .help = "write the results in memtier_benchmark's JSON schema (plus exact histograms)\n"
             "to FILE"},
    {.name = "hdr-file-prefix",
     .metavar = "P",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_hdr_prefix,
     .def_note = "none",
     .help = "write HdrHistogram percentile distributions P_<TYPE>.hgrm (open loop: also\n"
             "P_<TYPE>.uncorrected.hgrm), values in ms, for TYPE FULL_RUN and each command word"},
    {.name = "hlog",
     .metavar = "FILE",
     .scope = ON_BENCH,
     .type = OPT_STRING,
     .offset = F(hlog_path),
     .def_note = "none",
     .help = "write an HdrHistogram interval log: one compressed histogram per second per\n"
             "command word (tags <word> and <word>.uncorrected), values in ns"},
    {.name = "command",
     .metavar = "TEMPLATE",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_command,
     .def_note = "none",
     .help = "instead of --message: a request template (repeatable), with __rand_int__,\n"
             "__key__, __data__ and the escapes \\r \\n \\t \\\\; '\\n' appended unless it ends\n"
             "with one; statistics per first word"},
    {.name = "command-ratio",
     .metavar = "W",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_command_ratio,
     .def_note = "1",
     .help = "weight of the --command before it"},
    {.name = "commands-file",
     .metavar = "FILE",
     .scope = ON_BENCH,
     .type = OPT_STRING,
     .offset = F(commands_file),
     .def_note = "none",
     .help = "templates from FILE, one per line as 'WEIGHT<TAB>TEMPLATE' or 'TEMPLATE';\n"
             "'#' lines are comments"},
    {.name = "rand-range",
     .short_name = 'r',
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_U64,
     .min = 1,
     .offset = F(rand_range),
     .def_note = "0",
     .help = "__rand_int__ is a 12-digit number from 0 to N-1 (redis-benchmark's -r)"},
    {.name = "key-prefix",
     .metavar = "TEXT",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_key_prefix,
     .def = "memtier-",
     .help = "__key__ is TEXT and a key id"},
    {.name = "key-minimum",
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_U64,
     .max = UINT64_MAX - 1,
     .offset = F(key_min),
     .def = "0",
     .help = "lowest key id"},
    {.name = "key-maximum",
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_U64,
     .max = UINT64_MAX - 1,
     .offset = F(key_max),
     .def = "10000000",
     .help = "highest key id"},
    {.name = "key-pattern",
     .metavar = "P",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_key_pattern,
     .def = "R",
     .help = "key ids R uniform, S sequential (each connection its share of the range),\n"
             "G gaussian, Z zipf"},
    {.name = "key-median",
     .metavar = "X",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_key_median,
     .def_note = "the range's middle",
     .help = "G: the middle of the bell"},
    {.name = "key-stddev",
     .metavar = "X",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_key_stddev,
     .def_note = "the range / 6",
     .help = "G: its standard deviation"},
    {.name = "key-zipf-exp",
     .metavar = "S",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_zipf_exp,
     .def = "1",
     .help = "Z: the exponent, above 0 and below 5"},
    {.name = "data-size",
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_SIZE64,
     .max = MAX_REQ,
     .offset = F(data_size),
     .def = "32",
     .help = "bytes of __data__"},
    {.name = "populate",
     .metavar = "TEMPLATE",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_populate,
     .def_note = "none",
     .help = "before the run, send TEMPLATE once for every key id from --key-minimum to\n"
             "--key-maximum, in order, unmeasured (e.g. 'SET __key__ __data__')"},
    {.name = "protocol",
     .metavar = "P",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_protocol,
     .def = "line",
     .help = "where a reply ends: line (one line per request), redis (RESP: bulk strings\n"
             "span two lines) or memcache (VALUE ... END); also tells GET misses"},
    {.name = "warmup",
     .metavar = "SECONDS",
     .scope = ON_BENCH,
     .type = OPT_SECONDS,
     .offset = F(warmup),
     .def = "0",
     .help = "run the load this long first, then start the measured window afresh: statistics\n"
             "reset, open-loop schedule restarted (-d and -n count the measured window)"},
    {.name = "reconnect-interval",
     .metavar = "N",
     .scope = ON_BENCH,
     .type = OPT_U64,
     .min = 1,
     .offset = F(reconnect_interval),
     .def_note = "never",
     .help = "close each connection after N requests and connect again (memtier's)"},
    {.name = "connection-duration",
     .metavar = "MS",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_conn_duration,
     .def_note = "for the whole run",
     .help = "close each connection after MS milliseconds (drained first) and connect again"},
    {.name = "connection-duration-jitter",
     .metavar = "MS",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_conn_jitter,
     .def_note = "0",
     .help = "vary each connection's duration by\n"
             "up to +-MS/2"},
    {.name = "start-at",
     .metavar = "EPOCH_MS",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_start_at,
     .def_note = "now",
     .help = "wait until this wall-clock time (ms since the epoch) to start: several machines\n"
             "start one test together without a coordinator"},
    {.name = "segment",
     .metavar = "i/N",
     .scope = ON_BENCH,
     .type = OPT_FUNC,
     .apply = apply_segment,
     .def_note = "1/1",
     .help = "run instance i's share of N: of the -c connections, of --rate and of -n\n"
             "(the others run the rest; merge adds the results)"},
    /* merge, plot */
    {.name = "output",
     .short_name = 'o',
     .metavar = "FILE",
     .scope = ON_MERGE,
     .type = OPT_STRING,
     .offset = F(out_path),
     .def_note = "none: required",
     .help = "write the merged run to FILE"},
    {.name = "output",
     .short_name = 'o',
     .metavar = "FILE",
     .scope = ON_PLOT,
     .type = OPT_STRING,
     .offset = F(out_path),
     .def_note = "none: required",
     .help = "write the picture to FILE, .svg or .png"},
    {.name = "relative",
     .scope = ON_MERGE,
     .type = OPT_FLAG,
     .offset = F(relative),
     .help = "align each run's second 0 instead of absolute wall-clock seconds"},
    {.name = "help",
     .scope = ON_ALL | ON_MERGE | ON_PLOT,
     .type = OPT_FUNC,
     .flags = OPT_NOVALUE,
     .apply = apply_help,
     .help = "this help"},
};

static struct opt_table table_of(enum client_cmd cmd)
{
    return (struct opt_table){opt_defs, sizeof opt_defs / sizeof opt_defs[0], 1u << cmd};
}

static const struct {
    const char *name;
    const char *synopsis;
    const char *summary;
} commands[] = {
    [CMD_SEND] = {"send", "send [OPTIONS] [TEXT...]",
                  "Connects, sends one message (TEXT, default 'Hello, World!', '\\n' appended;\n"
                  "several words are joined by spaces) and prints the reply line if one comes\n"
                  "within --timeout. Exit status 0, or 1 when the connection fails or is reset."},
    [CMD_STREAM] =
        {"stream", "stream [OPTIONS]",
         "The tutorial's many-message sender: TOTAL/S messages of S bytes, then 'Y\\n',\n"
         "many messages per write(2), with TCP_NODELAY; then half-closes, prints the\n"
         "server's answer lines and the client's own rate."},
    [CMD_BENCH] = {"bench", "bench [OPTIONS]",
                   "Load test: one reply line completes one request. Prints a progress line\n"
                   "every second on stderr and a final report (requests/s, MB/s, latency\n"
                   "percentiles, errors by kind: refused, reset, timeout, closed, other).\n"
                   "Exit status 1 when no request succeeded."},
    [CMD_MERGE] = {"merge", "merge [OPTIONS] RUN.json|RUN.hlog... -o OUT.json",
                   "Adds the runs of several bench processes (--json-out-file files, memtier's\n"
                   "JSON, or --hlog logs) into one memtier-schema file: histograms added bucket\n"
                   "by bucket, per-second series aligned on absolute seconds, every percentile\n"
                   "recomputed from the merged histograms (never averaged). Exit status 2 on\n"
                   "bad input; nothing is written then."},
    [CMD_PLOT] = {"plot", "plot [OPTIONS] RUN.json... -o OUT.svg|OUT.png",
                  "Draws throughput over time, latency percentiles over time and the percentile\n"
                  "spectrum (x = 1/(1-p), log scale) of one or more runs (--json-out-file or\n"
                  "merge files, memtier's too), overlaid, with gnuplot (Debian: gnuplot-nox).\n"
                  "Exit status 2 on bad input or when gnuplot fails."},
};

void options_usage(FILE *out, enum client_cmd cmd)
{
    if (cmd == CMD_NONE) {
        fprintf(out, "usage: linepool-client COMMAND [OPTIONS]\n"
                     "       linepool-client COMMAND --help | --version\n\n"
                     "A client for any newline-delimited TCP server (default 127.0.0.1:5005).\n\n"
                     "commands:\n"
                     "  send     send one message and print the reply line\n"
                     "  stream   send many messages fast, then 'Y', and print the rate\n"
                     "  bench    load test with latency percentiles\n"
                     "  merge    add the results of several bench runs exactly\n"
                     "  plot     draw runs with gnuplot\n");
        return;
    }
    fprintf(out, "usage: linepool-client %s\n\n%s\n\noptions:\n", commands[cmd].synopsis,
            commands[cmd].summary);
    struct opt_table t = table_of(cmd);
    opt_usage(out, &t);
    fputs("\nSizes take K, M, G, T (powers of 1024); seconds take s or ms (2, 0.5, 1500ms).\n",
          out);
}

static int set_defaults(struct client_opts *o, enum client_cmd cmd, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    if (cmd == CMD_NONE)
        return 0;
    struct opt_table t = table_of(cmd);
    int rc = opt_defaults(&t, o, err, errlen);
    o->duration = -1; /* "not given", resolved in finish_bench */
    return rc;
}

static enum client_cmd find_command(const char *name)
{
    for (size_t c = CMD_SEND; c <= CMD_LAST; c++) {
        if (strcmp(commands[c].name, name) == 0)
            return (enum client_cmd)c;
    }
    return CMD_NONE;
}

struct parse_ctx {
    struct client_opts *o;
    const struct opt_table *t;
    char *err;
    size_t errlen;
    int applied; /* the error, if any, came from a value (not from getopt) */
};

static int visit(void *ctx, const struct opt *d, const char *value)
{
    struct parse_ctx *c = ctx;
    int rc = opt_apply(c->t, d, c->o, value, OPT_SRC_CLI, NULL, c->err, c->errlen);
    c->applied = rc < 0;
    return rc;
}

/* Runs getopt over argv (argv[0] is the command name). Returns 0, OPTIONS_HELP or a negative
 * errno; *first_word is the first operand. */
static int parse_flags(struct client_opts *o, int argc, char **argv, int *first_word, char *err,
                       size_t errlen)
{
    struct opt_table t = table_of(o->cmd);
    struct parse_ctx c = {o, &t, err, errlen, 0};
    char why[512];
    int rc = opt_getopt(&t, argc, argv, visit, &c, first_word, why, sizeof why);
    if (rc >= 0 || c.applied)
        return rc; /* done, --help, or a value's error line (in err already) */
    const char *name = commands[o->cmd].name;
    if (optopt == 'h' && strstr(why, "needs a value"))
        return errbuf_set(err, errlen, -EINVAL, "-h needs a HOST (help is --help)");
    return errbuf_set(err, errlen, -EINVAL, "%s: %s; try linepool-client %s --help", name, why,
                      name);
}

static int join_words(char **out, char **words, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += strlen(words[i]) + 1;
    if (len > OPTIONS_MAX_TEXT)
        return -E2BIG;
    char *s = malloc(len ? len : 1);
    if (!s)
        return -ENOMEM;
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, words[i]);
    }
    *out = s;
    return 0;
}

static int finish_send(struct client_opts *o, char **words, int nwords, char *err, size_t errlen)
{
    /* "send --size 1000": a bare --size takes a lone size-looking word as its value */
    if (o->size_given == SIZE_BARE) {
        o->size = OPTIONS_DEFAULT_SEND_SIZE;
        if (nwords == 1 && values_parse_size(words[0], strlen(words[0]), &o->size) == 0) {
            if (o->size == 0)
                return errbuf_set(err, errlen, -EINVAL,
                                  "--size 0: expected a size in bytes of at least 1");
            nwords = 0;
        }
    }
    if (o->size_given && nwords > 0)
        return errbuf_set(err, errlen, -EINVAL, "send: give TEXT or --size, not both");
    if (o->size_given && o->raw)
        return errbuf_set(err, errlen, -EINVAL, "send: --raw applies to TEXT, not to --size");
    if (o->size_given)
        return 0;
    int rc =
        nwords ? join_words(&o->text, words, nwords) : set_string(&o->text, OPTIONS_DEFAULT_TEXT);
    if (rc)
        return errbuf_set(err, errlen, -EINVAL, "send: TEXT is too long");
    return 0;
}

static int finish_stream(struct client_opts *o, char **words, int nwords, char *err, size_t errlen)
{
    (void)words;
    if (nwords > 0)
        return errbuf_set(err, errlen, -EINVAL, "stream: unexpected argument '%s'", words[0]);
    if (!o->size_given)
        o->size = OPTIONS_DEFAULT_MSG_SIZE;
    return 0;
}

static int finish_bench(struct client_opts *o, unsigned ncpu, char **words, int nwords, char *err,
                        size_t errlen)
{
    if (nwords > 0)
        return errbuf_set(err, errlen, -EINVAL, "bench: unexpected argument '%s'", words[0]);
    if (o->size_given && o->message)
        return errbuf_set(err, errlen, -EINVAL, "bench: give --message or --size, not both");
    if ((o->ncommands || o->commands_file) && (o->size_given || o->message))
        return errbuf_set(err, errlen, -EINVAL,
                          "bench: give --command/--commands-file or --message/--size");
    if (o->key_max < o->key_min)
        return errbuf_set(err, errlen, -EINVAL, "bench: --key-maximum is below --key-minimum");
    if (o->conn_jitter > 0 && o->conn_jitter >= 2 * o->conn_duration)
        return errbuf_set(err, errlen, -EINVAL,
                          "bench: --connection-duration-jitter needs a longer "
                          "--connection-duration (jitter/2 below it)");
    if (!o->size_given && !o->message && !o->ncommands && !o->commands_file &&
        set_string(&o->message, OPTIONS_DEFAULT_MESSAGE))
        return errbuf_set(err, errlen, -EINVAL, "out of memory");
    if (o->duration < 0)
        o->duration = o->requests ? 0 : OPTIONS_DEFAULT_DURATION;
    if (o->threads == 0)
        o->threads = ncpu ? ncpu : 1;
    if (o->seg_n > o->conns)
        return errbuf_set(err, errlen, -EINVAL,
                          "bench: --segment %u/%u: fewer connections (-c %u) than "
                          "segments",
                          o->seg_i, o->seg_n, o->conns);
    if (o->threads > o->conns)
        o->threads = o->conns; /* a thread without a connection would only idle */
    return 0;
}

static int finish_merge(struct client_opts *o, char **words, int nwords, char *err, size_t errlen)
{
    int plot = o->cmd == CMD_PLOT;
    if (nwords == 0)
        return errbuf_set(err, errlen, -EINVAL,
                          plot ? "plot: give the runs to draw (RUN.json files)"
                               : "merge: give the runs to merge (RUN.json or RUN.hlog files)");
    if (!o->out_path)
        return errbuf_set(err, errlen, -EINVAL,
                          plot ? "plot: -o OUT.svg or OUT.png is required"
                               : "merge: -o OUT.json is required");
    o->inputs = words;
    o->ninputs = nwords;
    return 0;
}

int options_parse(struct client_opts *o, int argc, char **argv, unsigned ncpu, char *err,
                  size_t errlen)
{
    set_defaults(o, CMD_NONE, err, errlen);
    if (argc < 2)
        return errbuf_set(err, errlen, -EINVAL,
                          "missing command (send, stream, bench, merge or plot); try --help");
    const char *first = argv[1];
    if (strcmp(first, "--version") == 0)
        return OPTIONS_VERSION;
    if (strcmp(first, "--help") == 0)
        return OPTIONS_HELP;
    if (strcmp(first, "help") == 0) {
        if (argc > 2 && (o->cmd = find_command(argv[2])) == CMD_NONE)
            return errbuf_set(err, errlen, -EINVAL, "help: unknown command '%s'", argv[2]);
        return OPTIONS_HELP;
    }
    enum client_cmd cmd = find_command(first);
    if (cmd == CMD_NONE)
        return errbuf_set(err, errlen, -EINVAL,
                          "unknown command '%s' (send, stream, bench, merge or plot); try --help",
                          first);
    int first_word = 0;
    int rc = set_defaults(o, cmd, err, errlen);
    if (!rc)
        rc = parse_flags(o, argc - 1, argv + 1, &first_word, err, errlen);
    if (rc)
        return rc;
    char **words = argv + 1 + first_word;
    int nwords = argc - 1 - first_word;
    if (cmd == CMD_SEND)
        return finish_send(o, words, nwords, err, errlen);
    if (cmd == CMD_STREAM)
        return finish_stream(o, words, nwords, err, errlen);
    if (cmd == CMD_MERGE || cmd == CMD_PLOT)
        return finish_merge(o, words, nwords, err, errlen);
    return finish_bench(o, ncpu, words, nwords, err, errlen);
}

void options_free(struct client_opts *o)
{
    free(o->text);
    free(o->message);
    free(o->json_path);
    free(o->csv_path);
    free(o->json_out_path);
    free(o->hdr_prefix);
    free(o->hlog_path);
    free(o->out_path);
    for (unsigned i = 0; i < o->ncommands; i++)
        free(o->commands[i]);
    free(o->commands);
    free(o->command_weights);
    free(o->commands_file);
    free(o->key_prefix);
    free(o->populate);
    o->commands = NULL;
    o->command_weights = NULL;
    o->ncommands = 0;
    o->commands_file = o->key_prefix = o->populate = NULL;
    o->text = o->message = o->json_path = o->csv_path = NULL;
    o->json_out_path = o->hdr_prefix = o->hlog_path = o->out_path = NULL;
}

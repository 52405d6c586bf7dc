/* options - argv to struct client_opts. One table lists every option once, with the commands
 * it belongs to and its help line, so parsing and --help cannot drift apart. */
#include "options.h"

#include "replies.h"
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CMD_BIT(c) (1u << (c))
#define ON_SEND    CMD_BIT(CMD_SEND)
#define ON_STREAM  CMD_BIT(CMD_STREAM)
#define ON_BENCH   CMD_BIT(CMD_BENCH)
#define ON_MERGE   CMD_BIT(CMD_MERGE)
#define ON_PLOT    CMD_BIT(CMD_PLOT)
#define ON_ALL     (ON_SEND | ON_STREAM | ON_BENCH)

/* Keys above the char range for options without a short form. */
enum {
    K_SERVER = 256,
    K_TIMEOUT,
    K_RAW,
    K_SIZE,
    K_TOTAL,
    K_TSV,
    K_MESSAGE,
    K_PIPELINE,
    K_RATE,
    K_JSON,
    K_CSV,
    K_JSON_OUT,
    K_HDR_PREFIX,
    K_HLOG,
    K_START_AT,
    K_SEGMENT,
    K_RELATIVE,
    K_COMMAND,
    K_COMMAND_RATIO,
    K_COMMANDS_FILE,
    K_KEY_PREFIX,
    K_KEY_MIN,
    K_KEY_MAX,
    K_KEY_PATTERN,
    K_KEY_MEDIAN,
    K_KEY_STDDEV,
    K_ZIPF_EXP,
    K_DATA_SIZE,
    K_POPULATE,
    K_PROTOCOL,
    K_WARMUP,
    K_RECONNECT,
    K_CONN_DURATION,
    K_CONN_JITTER,
    K_HELP,
};

/* size_given value when send's --size came without a value (see finish_send). */
#define SIZE_BARE 2

struct opt_def {
    const char *name;
    int key;         /* short option character, or a K_ value */
    const char *arg; /* metavariable; NULL for a flag */
    unsigned cmds;   /* ON_ bits of the commands that accept it */
    int optional;    /* argument may be omitted (only as --name=VALUE then) */
    /* Stores arg into o; on a bad value returns -EINVAL with the reason in err. */
    int (*apply)(struct client_opts *o, const char *arg, char *err, size_t errlen);
    const char *help;
};

static int reason(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reason(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (!*text || !isdigit((unsigned char)*text))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || errno || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int options_parse_size(const char *text, uint64_t *out)
{
    char *end;
    if (!text || !isdigit((unsigned char)*text))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno)
        return -EINVAL;
    static const char units[] = "kmgt"; /* powers of 1024, like the server's options */
    const char *unit = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
    unsigned shift = unit ? 10 * (unsigned)(unit - units + 1) : 0;
    if (unit) {
        end++;
        if (*end == 'i')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
    }
    if (*end || v > (UINT64_MAX >> shift))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

int options_parse_seconds(const char *text, double *out)
{
    char *end;
    if (!text || !*text || !(isdigit((unsigned char)*text) || *text == '.'))
        return -EINVAL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !isfinite(v))
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
    uint64_t v;
    if (parse_uint(text, 1, 65535, &v))
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

static int set_host(char *host, size_t hostlen, const char *text, size_t len)
{
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= hostlen || memchr(text, '[', len) || memchr(text, ']', len))
        return -EINVAL;
    memcpy(host, text, len);
    host[len] = '\0';
    return 0;
}

int options_parse_server(const char *text, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon)
        return -EINVAL;
    size_t hlen = (size_t)(colon - text);
    /* a bare IPv6 address has colons but no brackets: its last group is no port */
    if (memchr(text, ':', hlen) && !(text[0] == '[' && hlen > 0 && text[hlen - 1] == ']'))
        return -EINVAL;
    if (parse_port(colon + 1, port))
        return -EINVAL;
    return set_host(host, hostlen, text, hlen);
}

static int apply_host(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (set_host(o->host, sizeof o->host, arg, strlen(arg)))
        return reason(err, errlen, "expected a host name or address");
    return 0;
}

static int apply_port(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (parse_port(arg, &o->port))
        return reason(err, errlen, "expected a port from 1 to 65535");
    return 0;
}

static int apply_server(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (options_parse_server(arg, o->host, sizeof o->host, &o->port))
        return reason(err, errlen, "expected HOST:PORT or [IPV6]:PORT");
    return 0;
}

static int apply_seconds(double *out, const char *arg, int zero_ok, char *err, size_t errlen)
{
    double v;
    if (options_parse_seconds(arg, &v) || (!zero_ok && v <= 0))
        return reason(err, errlen, "expected %s seconds, like 2, 0.5 or 1500ms",
                      zero_ok ? "a number of" : "a positive number of");
    *out = v;
    return 0;
}

static int apply_timeout(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_seconds(&o->timeout, arg, 0, err, errlen);
}

static int apply_duration(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_seconds(&o->duration, arg, 0, err, errlen);
}

static int apply_raw(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    o->raw = 1;
    return 0;
}

static int apply_tsv(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    o->tsv = 1;
    return 0;
}

static int apply_quiet(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    o->quiet = 1;
    return 0;
}

static int apply_size(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    o->size_given = arg ? 1 : SIZE_BARE;
    if (!arg)
        return 0;
    if (options_parse_size(arg, &o->size) || o->size == 0)
        return reason(err, errlen, "expected a size in bytes of at least 1, like 300000 or 64K");
    /* bench keeps whole requests in memory; send and stream stream them from a small buffer */
    if (o->cmd == CMD_BENCH && o->size > OPTIONS_MAX_REQUEST)
        return reason(err, errlen, "at most 64M bytes per request");
    return 0;
}

static int apply_total(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (options_parse_size(arg, &o->total))
        return reason(err, errlen, "expected a size in bytes, like 50000000 or 1G");
    return 0;
}

static int apply_count(unsigned *out, const char *arg, unsigned min, unsigned max, char *err,
                       size_t errlen)
{
    uint64_t v;
    if (parse_uint(arg, min, max, &v))
        return reason(err, errlen, "expected a whole number from %u to %u", min, max);
    *out = (unsigned)v;
    return 0;
}

static int apply_conns(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_count(&o->conns, arg, 1, OPTIONS_MAX_CONNS, err, errlen);
}

static int apply_threads(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_count(&o->threads, arg, 1, OPTIONS_MAX_THREADS, err, errlen);
}

static int apply_pipeline(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_count(&o->pipeline, arg, 1, OPTIONS_MAX_PIPELINE, err, errlen);
}

static int apply_requests(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (parse_uint(arg, 1, UINT64_MAX, &o->requests))
        return reason(err, errlen, "expected a whole number of at least 1");
    return 0;
}

static int apply_rate(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (!isdigit((unsigned char)*arg) || *end || errno || !isfinite(v) || v <= 0 || v > 1e9)
        return reason(err, errlen, "expected requests per second, more than 0");
    o->rate = v;
    return 0;
}

static int set_string(char **dst, const char *arg)
{
    free(*dst);
    return (*dst = strdup(arg)) ? 0 : -ENOMEM;
}

static int apply_message(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (strchr(arg, '\n'))
        return reason(err, errlen, "must not contain a newline ('\\n' is appended)");
    return set_string(&o->message, arg);
}

static int apply_json(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return set_string(&o->json_path, arg);
}

static int apply_csv(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return set_string(&o->csv_path, arg);
}

static int apply_json_out(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return set_string(&o->json_out_path, arg);
}

static int apply_hdr_prefix(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (!*arg)
        return reason(err, errlen, "expected a file name prefix");
    return set_string(&o->hdr_prefix, arg);
}

static int apply_hlog(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return set_string(&o->hlog_path, arg);
}

static int apply_start_at(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (parse_uint(arg, 1, UINT64_MAX / 2, &o->start_at_ms))
        return reason(err, errlen, "expected milliseconds since the epoch, like $(date +%%s%%3N)");
    return 0;
}

static int apply_segment(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    uint64_t i, n;
    const char *slash = strchr(arg, '/');
    char first[24];
    size_t len = slash ? (size_t)(slash - arg) : 0;
    if (!slash || len == 0 || len >= sizeof first)
        return reason(err, errlen, "expected i/N, like 1/3");
    memcpy(first, arg, len);
    first[len] = '\0';
    if (parse_uint(first, 1, OPTIONS_MAX_CONNS, &i) ||
        parse_uint(slash + 1, 1, OPTIONS_MAX_CONNS, &n) || i > n)
        return reason(err, errlen, "expected i/N with 1 <= i <= N, like 1/3");
    o->seg_i = (unsigned)i;
    o->seg_n = (unsigned)n;
    return 0;
}

static int apply_out(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return set_string(&o->out_path, arg);
}

static int apply_relative(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    o->relative = 1;
    return 0;
}

/* Parses a template only to refuse a bad one on the command line (exit 2). */
static int check_template(const char *arg, char *err, size_t errlen)
{
    struct template t;
    int rc = template_parse(&t, arg, err, errlen);
    template_free(&t);
    return rc;
}

static int apply_command(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (o->ncommands == OPTIONS_MAX_COMMANDS)
        return reason(err, errlen, "at most %d commands", OPTIONS_MAX_COMMANDS);
    int rc = check_template(arg, err, errlen);
    if (rc)
        return rc;
    char **c = realloc(o->commands, (o->ncommands + 1) * sizeof *c);
    if (!c)
        return -ENOMEM;
    o->commands = c;
    unsigned *w = realloc(o->command_weights, (o->ncommands + 1) * sizeof *w);
    if (!w)
        return -ENOMEM;
    o->command_weights = w;
    if (!(c[o->ncommands] = strdup(arg)))
        return -ENOMEM;
    w[o->ncommands++] = 1;
    return 0;
}

static int apply_command_ratio(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    uint64_t v;
    if (!o->ncommands)
        return reason(err, errlen, "comes after the --command it weighs");
    if (parse_uint(arg, 1, 1000000, &v))
        return reason(err, errlen, "expected a weight from 1 to 1000000");
    o->command_weights[o->ncommands - 1] = (unsigned)v;
    return 0;
}

static int apply_commands_file(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return set_string(&o->commands_file, arg);
}

static int apply_rand_range(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (parse_uint(arg, 1, UINT64_MAX, &o->rand_range))
        return reason(err, errlen, "expected a keyspace size of at least 1");
    return 0;
}

static int apply_key_prefix(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (strpbrk(arg, " \r\n") || strlen(arg) > 256)
        return reason(err, errlen, "expected at most 256 bytes without spaces or line breaks");
    return set_string(&o->key_prefix, arg);
}

static int apply_key_min(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (parse_uint(arg, 0, UINT64_MAX - 1, &o->key_min))
        return reason(err, errlen, "expected a whole number");
    return 0;
}

static int apply_key_max(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (parse_uint(arg, 0, UINT64_MAX - 1, &o->key_max))
        return reason(err, errlen, "expected a whole number");
    return 0;
}

static int apply_key_pattern(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    /* memtier writes SET:GET pairs like "S:R"; one letter applies to every command */
    if (!arg[0] || !strchr("RSGZ", arg[0]) ||
        (arg[1] && !(arg[1] == ':' && arg[2] == arg[0] && !arg[3])))
        return reason(err, errlen,
                      "expected R (uniform), S (sequential), G (gaussian) or Z (zipf)");
    o->key_pattern = arg[0];
    return 0;
}

static int apply_real(double *out, const char *arg, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || errno || !isfinite(v) || v <= 0)
        return reason(err, errlen, "expected a number above 0");
    *out = v;
    return 0;
}

static int apply_key_median(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_real(&o->key_median, arg, err, errlen);
}

static int apply_key_stddev(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_real(&o->key_stddev, arg, err, errlen);
}

static int apply_zipf_exp(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    int rc = apply_real(&o->zipf_exp, arg, err, errlen);
    if (!rc && o->zipf_exp >= 5)
        return reason(err, errlen, "expected a number above 0 and below 5");
    return rc;
}

static int apply_data_size(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (options_parse_size(arg, &o->data_size) || o->data_size > OPTIONS_MAX_REQUEST)
        return reason(err, errlen, "expected a size in bytes up to 64M");
    return 0;
}

static int apply_populate(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    int rc = check_template(arg, err, errlen);
    return rc ? rc : set_string(&o->populate, arg);
}

static int apply_protocol(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    static const char *const names[] = {
        [REPLIES_LINE] = "line", [REPLIES_RESP] = "redis", [REPLIES_MEMCACHE] = "memcache"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(arg, names[i]) == 0 ||
            (i == REPLIES_MEMCACHE && !strcmp(arg, "memcache_text"))) {
            o->protocol = i;
            return 0;
        }
    }
    return reason(err, errlen, "expected line, redis or memcache");
}

static int apply_warmup(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_seconds(&o->warmup, arg, 1, err, errlen);
}

static int apply_reconnect(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    if (parse_uint(arg, 1, UINT64_MAX, &o->reconnect_interval))
        return reason(err, errlen, "expected a number of requests, at least 1");
    return 0;
}

/* Milliseconds, as redis-benchmark's proposed --connection-duration; "2s" works too. */
static int apply_ms(double *out, const char *arg, int zero_ok, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || errno || !isfinite(v) || v < 0 || (!zero_ok && v == 0) || v > 1e12)
        return reason(err, errlen, "expected milliseconds, like 500, or 2s");
    if (strcmp(end, "s") == 0)
        v *= 1000;
    else if (*end && strcmp(end, "ms") != 0)
        return reason(err, errlen, "expected milliseconds, like 500, or 2s");
    *out = v / 1000.0;
    return 0;
}

static int apply_conn_duration(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_ms(&o->conn_duration, arg, 0, err, errlen);
}

static int apply_conn_jitter(struct client_opts *o, const char *arg, char *err, size_t errlen)
{
    return apply_ms(&o->conn_jitter, arg, 1, err, errlen);
}

/* clang-format off */
static const struct opt_def opt_defs[] = {
    {"host", 'h', "HOST", ON_ALL, 0, apply_host,
     "server host name or address, IPv6 as ::1 or [::1] (default 127.0.0.1)"},
    {"port", 'p', "PORT", ON_ALL, 0, apply_port, "server TCP port (default 5005)"},
    {"server", K_SERVER, "HOST:PORT", ON_ALL, 0, apply_server,
     "host and port in one, IPv6 as [::1]:5005"},
    {"raw", K_RAW, NULL, ON_SEND, 0, apply_raw, "send TEXT as is, without appending '\\n'"},
    {"size", K_SIZE, "N", ON_SEND, 1, apply_size,
     "instead of TEXT send one message of N bytes: N-1 'X' and '\\n' (default 300000),\n"
     "streamed from a small buffer, so any size works"},
    {"timeout", K_TIMEOUT, "SECONDS", ON_SEND, 0, apply_timeout,
     "how long to wait for a reply line, or for any progress (default 1)"},
    {"total", K_TOTAL, "BYTES", ON_STREAM, 0, apply_total,
     "bytes of messages to send before 'Y\\n' (default 50000000)"},
    {"size", K_SIZE, "S", ON_STREAM, 0, apply_size,
     "bytes per message: S-1 'X' and '\\n' (default 50); sends TOTAL/S messages"},
    {"tsv", K_TSV, NULL, ON_STREAM, 0, apply_tsv,
     "print only bytes<TAB>chunks<TAB>seconds<TAB>bytes/second, from the server's answer\n"
     "when it has 'Processed ... bytes in ... chunks.' and 'Total time: ... seconds.',\n"
     "otherwise from the client's own count (bytes sent, write calls, seconds)"},
    {"timeout", K_TIMEOUT, "SECONDS", ON_STREAM, 0, apply_timeout,
     "give up after this long without progress; after 'Y\\n' the answer is read until the\n"
     "server closes or is silent this long (default 2)"},
    {"connections", 'c', "N", ON_BENCH, 0, apply_conns, "connections (default 50)"},
    {"threads", 't', "N", ON_BENCH, 0, apply_threads,
     "threads, each running one epoll loop over its share of the connections\n"
     "(default: number of CPUs, at most -c)"},
    {"duration", 'd', "SECONDS", ON_BENCH, 0, apply_duration,
     "run this long (default 10; with -n only: until the requests are done)"},
    {"requests", 'n', "N", ON_BENCH, 0, apply_requests,
     "stop after N requests in total (replied, timed out or lost)"},
    {"message", K_MESSAGE, "TEXT", ON_BENCH, 0, apply_message,
     "request line, '\\n' appended (default PING: Redis inline PING)"},
    {"size", K_SIZE, "S", ON_BENCH, 0, apply_size,
     "instead of --message: requests of S bytes, S-1 'X' and '\\n'"},
    {"pipeline", K_PIPELINE, "K", ON_BENCH, 0, apply_pipeline,
     "requests in flight per connection (default 1, at most 4096)"},
    {"rate", K_RATE, "R", ON_BENCH, 0, apply_rate,
     "open loop: R requests/s in total on a fixed schedule; latency counts from the\n"
     "intended send time, so a stall is not hidden (default: closed loop)"},
    {"timeout", K_TIMEOUT, "SECONDS", ON_BENCH, 0, apply_timeout,
     "a connection with requests in flight and no reply for this long counts a timeout and\n"
     "reconnects; a connection that cannot connect for this long gives up (default 5)"},
    {"quiet", 'q', NULL, ON_BENCH, 0, apply_quiet, "no progress line on stderr"},
    {"json", K_JSON, "FILE", ON_BENCH, 0, apply_json, "write the whole report as JSON to FILE"},
    {"csv", K_CSV, "FILE", ON_BENCH, 0, apply_csv, "write the per-second series as CSV to FILE"},
    {"json-out-file", K_JSON_OUT, "FILE", ON_BENCH, 0, apply_json_out,
     "write the results in memtier_benchmark's JSON schema (plus exact histograms) to FILE"},
    {"hdr-file-prefix", K_HDR_PREFIX, "P", ON_BENCH, 0, apply_hdr_prefix,
     "write HdrHistogram percentile distributions P_<TYPE>.hgrm (open loop: also\n"
     "P_<TYPE>.uncorrected.hgrm), values in ms, for TYPE FULL_RUN and each command word"},
    {"hlog", K_HLOG, "FILE", ON_BENCH, 0, apply_hlog,
     "write an HdrHistogram interval log: one compressed histogram per second per command\n"
     "word (tags <word> and <word>.uncorrected), values in ns"},
    {"command", K_COMMAND, "TEMPLATE", ON_BENCH, 0, apply_command,
     "instead of --message: a request template (repeatable), with __rand_int__,\n"
     "__key__, __data__ and the escapes \\r \\n \\t \\\\; '\\n' appended unless it ends\n"
     "with one; statistics per first word"},
    {"command-ratio", K_COMMAND_RATIO, "W", ON_BENCH, 0, apply_command_ratio,
     "weight of the --command before it (default 1)"},
    {"commands-file", K_COMMANDS_FILE, "FILE", ON_BENCH, 0, apply_commands_file,
     "templates from FILE, one per line as 'WEIGHT<TAB>TEMPLATE' or 'TEMPLATE';\n"
     "'#' lines are comments"},
    {"rand-range", 'r', "N", ON_BENCH, 0, apply_rand_range,
     "__rand_int__ is a 12-digit number from 0 to N-1 (redis-benchmark's -r; default: 0)"},
    {"key-prefix", K_KEY_PREFIX, "TEXT", ON_BENCH, 0, apply_key_prefix,
     "__key__ is TEXT and a key id (default memtier-)"},
    {"key-minimum", K_KEY_MIN, "N", ON_BENCH, 0, apply_key_min, "lowest key id (default 0)"},
    {"key-maximum", K_KEY_MAX, "N", ON_BENCH, 0, apply_key_max,
     "highest key id (default 10000000)"},
    {"key-pattern", K_KEY_PATTERN, "P", ON_BENCH, 0, apply_key_pattern,
     "key ids R uniform (default), S sequential (each connection its share of the range),\n"
     "G gaussian, Z zipf"},
    {"key-median", K_KEY_MEDIAN, "X", ON_BENCH, 0, apply_key_median,
     "G: the middle of the bell (default: the range's middle)"},
    {"key-stddev", K_KEY_STDDEV, "X", ON_BENCH, 0, apply_key_stddev,
     "G: its standard deviation (default: the range / 6)"},
    {"key-zipf-exp", K_ZIPF_EXP, "S", ON_BENCH, 0, apply_zipf_exp,
     "Z: the exponent, above 0 and below 5 (default 1)"},
    {"data-size", K_DATA_SIZE, "N", ON_BENCH, 0, apply_data_size,
     "bytes of __data__ (default 32)"},
    {"populate", K_POPULATE, "TEMPLATE", ON_BENCH, 0, apply_populate,
     "before the run, send TEMPLATE once for every key id from --key-minimum to\n"
     "--key-maximum, in order, unmeasured (e.g. 'SET __key__ __data__')"},
    {"protocol", K_PROTOCOL, "P", ON_BENCH, 0, apply_protocol,
     "where a reply ends: line (default: one line per request), redis (RESP: bulk\n"
     "strings span two lines) or memcache (VALUE ... END); also tells GET misses"},
    {"warmup", K_WARMUP, "SECONDS", ON_BENCH, 0, apply_warmup,
     "run the load this long first, then start the measured window afresh: statistics\n"
     "reset, open-loop schedule restarted (-d and -n count the measured window)"},
    {"reconnect-interval", K_RECONNECT, "N", ON_BENCH, 0, apply_reconnect,
     "close each connection after N requests and connect again (memtier's)"},
    {"connection-duration", K_CONN_DURATION, "MS", ON_BENCH, 0, apply_conn_duration,
     "close each connection after MS milliseconds (drained first) and connect again"},
    {"connection-duration-jitter", K_CONN_JITTER, "MS", ON_BENCH, 0, apply_conn_jitter,
     "vary each connection's duration by up to +-MS/2"},
    {"start-at", K_START_AT, "EPOCH_MS", ON_BENCH, 0, apply_start_at,
     "wait until this wall-clock time (ms since the epoch) to start: several machines\n"
     "start one test together without a coordinator"},
    {"segment", K_SEGMENT, "i/N", ON_BENCH, 0, apply_segment,
     "run instance i's share of N: of the -c connections, of --rate and of -n\n"
     "(the others run the rest; merge adds the results)"},
    {"output", 'o', "FILE", ON_MERGE, 0, apply_out, "write the merged run to FILE (required)"},
    {"output", 'o', "FILE", ON_PLOT, 0, apply_out,
     "write the picture to FILE, .svg or .png (required)"},
    {"relative", K_RELATIVE, NULL, ON_MERGE, 0, apply_relative,
     "align each run's second 0 instead of absolute wall-clock seconds"},
    {"help", K_HELP, NULL, ON_ALL | ON_MERGE | ON_PLOT, 0, NULL, "this help"},
};
/* clang-format on */

#define NDEFS (sizeof opt_defs / sizeof opt_defs[0])

static const struct {
    const char *name;
    const char *synopsis;
    const char *summary;
    double timeout;
} commands[] = {
    [CMD_SEND] = {"send", "send [OPTIONS] [TEXT...]",
                  "Connects, sends one message (TEXT, default 'Hello, World!', '\\n' appended;\n"
                  "several words are joined by spaces) and prints the reply line if one comes\n"
                  "within --timeout. Exit status 0, or 1 when the connection fails or is reset.",
                  1.0},
    [CMD_STREAM] =
        {"stream", "stream [OPTIONS]",
         "The tutorial's many-message sender: TOTAL/S messages of S bytes, then 'Y\\n',\n"
         "many messages per write(2), with TCP_NODELAY; then half-closes, prints the\n"
         "server's answer lines and the client's own rate.",
         2.0},
    [CMD_BENCH] = {"bench", "bench [OPTIONS]",
                   "Load test: one reply line completes one request. Prints a progress line\n"
                   "every second on stderr and a final report (requests/s, MB/s, latency\n"
                   "percentiles, errors by kind: refused, reset, timeout, closed, other).\n"
                   "Exit status 1 when no request succeeded.",
                   5.0},
    [CMD_MERGE] = {"merge", "merge [OPTIONS] RUN.json|RUN.hlog... -o OUT.json",
                   "Adds the runs of several bench processes (--json-out-file files, memtier's\n"
                   "JSON, or --hlog logs) into one memtier-schema file: histograms added bucket\n"
                   "by bucket, per-second series aligned on absolute seconds, every percentile\n"
                   "recomputed from the merged histograms (never averaged). Exit status 2 on\n"
                   "bad input; nothing is written then.",
                   0.0},
    [CMD_PLOT] = {"plot", "plot [OPTIONS] RUN.json... -o OUT.svg|OUT.png",
                  "Draws throughput over time, latency percentiles over time and the percentile\n"
                  "spectrum (x = 1/(1-p), log scale) of one or more runs (--json-out-file or\n"
                  "merge files, memtier's too), overlaid, with gnuplot (Debian: gnuplot-nox).\n"
                  "Exit status 2 on bad input or when gnuplot fails.",
                  0.0},
};

static void print_option(FILE *out, const struct opt_def *d)
{
    char left[64];
    int n = 0;
    if (d->key < 256)
        n = snprintf(left, sizeof left, "-%c, ", d->key);
    snprintf(left + n, sizeof left - (size_t)n, d->optional ? "--%s[=%s]" : "--%s%s%s", d->name,
             d->arg && !d->optional ? " " : "", d->arg ? d->arg : "");
    fprintf(out, "  %-24s", left);
    if (strlen(left) > 24)
        fprintf(out, "\n  %-24s", "");
    for (const char *p = d->help; *p; p++) {
        fputc(*p, out);
        if (*p == '\n')
            fprintf(out, "  %-24s", "");
    }
    fputc('\n', out);
}

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
    for (size_t i = 0; i < NDEFS; i++) {
        if (opt_defs[i].cmds & CMD_BIT(cmd))
            print_option(out, &opt_defs[i]);
    }
}

static void set_defaults(struct client_opts *o, enum client_cmd cmd)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    strcpy(o->host, OPTIONS_DEFAULT_HOST);
    o->port = OPTIONS_DEFAULT_PORT;
    o->timeout = cmd == CMD_NONE ? 0 : commands[cmd].timeout;
    o->total = OPTIONS_DEFAULT_TOTAL;
    o->conns = OPTIONS_DEFAULT_CONNS;
    o->duration = -1; /* "not given", resolved in finish_bench */
    o->pipeline = 1;
    o->key_max = OPTIONS_DEFAULT_KEY_MAX;
    o->key_pattern = 'R';
    o->zipf_exp = 1.0;
    o->data_size = OPTIONS_DEFAULT_DATA_SIZE;
}

static enum client_cmd find_command(const char *name)
{
    for (size_t c = CMD_SEND; c <= CMD_LAST; c++) {
        if (strcmp(commands[c].name, name) == 0)
            return (enum client_cmd)c;
    }
    return CMD_NONE;
}

static const struct opt_def *find_def(enum client_cmd cmd, int key)
{
    for (size_t i = 0; i < NDEFS; i++) {
        if (opt_defs[i].key == key && (opt_defs[i].cmds & CMD_BIT(cmd)))
            return &opt_defs[i];
    }
    return NULL;
}

static void build_getopt(enum client_cmd cmd, struct option *longs, char *shorts)
{
    size_t nl = 0, ns = 0;
    shorts[ns++] = ':'; /* report a missing value as ':' rather than '?' */
    for (size_t i = 0; i < NDEFS; i++) {
        const struct opt_def *d = &opt_defs[i];
        if (!(d->cmds & CMD_BIT(cmd)))
            continue;
        int has = !d->arg ? no_argument : d->optional ? optional_argument : required_argument;
        longs[nl++] = (struct option){d->name, has, NULL, d->key};
        if (d->key < 256) {
            shorts[ns++] = (char)d->key;
            if (d->arg)
                shorts[ns++] = ':';
        }
    }
    longs[nl] = (struct option){0};
    shorts[ns] = '\0';
}

static int bad_option(char *err, size_t errlen, enum client_cmd cmd, int c, char **argv)
{
    const char *name = commands[cmd].name;
    const char *word = argv[optind - 1];
    if (c == ':' && optopt == 'h')
        return reason(err, errlen, "-h needs a HOST (help is --help)");
    if (c == ':')
        return reason(err, errlen, "%s: option %s needs a value", name, word);
    return reason(err, errlen, "%s: unknown option %s; try linepool-client %s --help", name, word,
                  name);
}

/* Runs getopt over argv (argv[0] is the command name). Returns 0, OPTIONS_HELP or -EINVAL. */
static int parse_flags(struct client_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    struct option longs[NDEFS + 1];
    char shorts[2 * NDEFS + 2];
    build_getopt(o->cmd, longs, shorts);
    optind = 0; /* glibc: full re-initialisation, so parsing twice in one process works */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (c == '?' || c == ':')
            return bad_option(err, errlen, o->cmd, c, argv);
        if (c == K_HELP)
            return OPTIONS_HELP;
        const struct opt_def *d = find_def(o->cmd, c);
        char why[200];
        int rc = d->apply(o, optarg, why, sizeof why);
        if (rc == -ENOMEM)
            return reason(err, errlen, "out of memory");
        if (rc)
            return reason(err, errlen, "--%s %s: %s", d->name, optarg ? optarg : "", why);
    }
    return 0;
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
        if (nwords == 1 && options_parse_size(words[0], &o->size) == 0) {
            if (o->size == 0)
                return reason(err, errlen, "--size 0: expected a size in bytes of at least 1");
            nwords = 0;
        }
    }
    if (o->size_given && nwords > 0)
        return reason(err, errlen, "send: give TEXT or --size, not both");
    if (o->size_given && o->raw)
        return reason(err, errlen, "send: --raw applies to TEXT, not to --size");
    if (o->size_given)
        return 0;
    int rc =
        nwords ? join_words(&o->text, words, nwords) : set_string(&o->text, OPTIONS_DEFAULT_TEXT);
    if (rc)
        return reason(err, errlen, "send: TEXT is too long");
    return 0;
}

static int finish_stream(struct client_opts *o, char **words, int nwords, char *err, size_t errlen)
{
    (void)words;
    if (nwords > 0)
        return reason(err, errlen, "stream: unexpected argument '%s'", words[0]);
    if (!o->size_given)
        o->size = OPTIONS_DEFAULT_MSG_SIZE;
    return 0;
}

static int finish_bench(struct client_opts *o, unsigned ncpu, char **words, int nwords, char *err,
                        size_t errlen)
{
    if (nwords > 0)
        return reason(err, errlen, "bench: unexpected argument '%s'", words[0]);
    if (o->size_given && o->message)
        return reason(err, errlen, "bench: give --message or --size, not both");
    if ((o->ncommands || o->commands_file) && (o->size_given || o->message))
        return reason(err, errlen, "bench: give --command/--commands-file or --message/--size");
    if (o->key_max < o->key_min)
        return reason(err, errlen, "bench: --key-maximum is below --key-minimum");
    if (o->conn_jitter > 0 && o->conn_jitter >= 2 * o->conn_duration)
        return reason(err, errlen,
                      "bench: --connection-duration-jitter needs a longer "
                      "--connection-duration (jitter/2 below it)");
    if (!o->key_prefix && set_string(&o->key_prefix, "memtier-"))
        return reason(err, errlen, "out of memory");
    if (!o->size_given && !o->message && !o->ncommands && !o->commands_file &&
        set_string(&o->message, OPTIONS_DEFAULT_MESSAGE))
        return reason(err, errlen, "out of memory");
    if (o->duration < 0)
        o->duration = o->requests ? 0 : OPTIONS_DEFAULT_DURATION;
    if (o->threads == 0)
        o->threads = ncpu ? ncpu : 1;
    if (o->seg_n > o->conns)
        return reason(err, errlen,
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
        return reason(err, errlen,
                      plot ? "plot: give the runs to draw (RUN.json files)"
                           : "merge: give the runs to merge (RUN.json or RUN.hlog files)");
    if (!o->out_path)
        return reason(err, errlen,
                      plot ? "plot: -o OUT.svg or OUT.png is required"
                           : "merge: -o OUT.json is required");
    o->inputs = words;
    o->ninputs = nwords;
    return 0;
}

int options_parse(struct client_opts *o, int argc, char **argv, unsigned ncpu, char *err,
                  size_t errlen)
{
    set_defaults(o, CMD_NONE);
    if (argc < 2)
        return reason(err, errlen,
                      "missing command (send, stream, bench, merge or plot); try --help");
    const char *first = argv[1];
    if (strcmp(first, "--version") == 0)
        return OPTIONS_VERSION;
    if (strcmp(first, "--help") == 0)
        return OPTIONS_HELP;
    if (strcmp(first, "help") == 0) {
        if (argc > 2 && (o->cmd = find_command(argv[2])) == CMD_NONE)
            return reason(err, errlen, "help: unknown command '%s'", argv[2]);
        return OPTIONS_HELP;
    }
    enum client_cmd cmd = find_command(first);
    if (cmd == CMD_NONE)
        return reason(err, errlen,
                      "unknown command '%s' (send, stream, bench, merge or plot); try --help",
                      first);
    set_defaults(o, cmd);
    int rc = parse_flags(o, argc - 1, argv + 1, err, errlen);
    if (rc)
        return rc;
    char **words = argv + 1 + optind;
    int nwords = argc - 1 - optind;
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

/* option_values - the client's compound option values; see option_values.h. */
#include "option_values.h"

#include "errbuf.h"

#include "options.h"
#include "replies.h"
#include "template.h"
#include "values.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A whole number min..max in the shared grammar (values.h). */
static int parse_count(const char *text, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int rc = values_parse_uint(text, len, &v);
    if (!rc && (v < min || v > max))
        rc = -ERANGE;
    if (!rc)
        *out = v;
    return rc;
}

static int set_string(char **dst, const char *arg)
{
    char *copy = strdup(arg);
    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
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
    const char *h;
    size_t hlen;
    uint16_t p;
    if (values_parse_address(text, strlen(text), &h, &hlen, &p, NULL) || p == 0 || hlen >= hostlen)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = p;
    return 0;
}

int apply_host(void *base, const char *arg, char *err, size_t errlen)
{
    struct client_opts *o = base;
    if (set_host(o->host, sizeof o->host, arg, strlen(arg)))
        return errbuf_set(err, errlen, -EINVAL, "expected a host name or address");
    return 0;
}

int apply_server(void *base, const char *arg, char *err, size_t errlen)
{
    struct client_opts *o = base;
    if (options_parse_server(arg, o->host, sizeof o->host, &o->port))
        return errbuf_set(err, errlen, -EINVAL, "expected HOST:PORT or [IPV6]:PORT");
    return 0;
}

int apply_size(void *base, const char *arg, char *err, size_t errlen)
{
    struct client_opts *o = base;
    o->size_given = arg ? 1 : SIZE_BARE;
    if (!arg)
        return 0;
    int rc = values_parse_size(arg, strlen(arg), &o->size);
    if (rc || o->size == 0) {
        errbuf_set(err, errlen, -EINVAL,
                   "expected a size in bytes of at least 1, like 300000 or 64K");
        return rc ? rc : -ERANGE;
    }
    /* bench keeps whole requests in memory; send and stream stream them from a small buffer */
    if (o->cmd == CMD_BENCH && o->size > OPTIONS_MAX_REQUEST)
        return errbuf_set(err, errlen, -EINVAL, "at most 64M bytes per request"), -ERANGE;
    return 0;
}

/* A real number above 0 (strtod's spellings, without inf and nan) and at most max. */
static int parse_real(const char *arg, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(arg[0] >= '0' && arg[0] <= '9') || !isfinite(v))
        return -EINVAL;
    if (errno || v <= 0 || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int apply_rate(void *base, const char *arg, char *err, size_t errlen)
{
    int rc = parse_real(arg, 1e9, &((struct client_opts *)base)->rate);
    if (rc)
        errbuf_set(err, errlen, -EINVAL, "expected requests per second, more than 0");
    return rc;
}

int apply_message(void *base, const char *arg, char *err, size_t errlen)
{
    if (strchr(arg, '\n'))
        return errbuf_set(err, errlen, -EINVAL, "must not contain a newline ('\\n' is appended)");
    return set_string(&((struct client_opts *)base)->message, arg);
}

int apply_hdr_prefix(void *base, const char *arg, char *err, size_t errlen)
{
    if (!*arg)
        return errbuf_set(err, errlen, -EINVAL, "expected a file name prefix");
    return set_string(&((struct client_opts *)base)->hdr_prefix, arg);
}

int apply_start_at(void *base, const char *arg, char *err, size_t errlen)
{
    int rc = parse_count(arg, strlen(arg), 1, UINT64_MAX / 2,
                         &((struct client_opts *)base)->start_at_ms);
    if (rc)
        errbuf_set(err, errlen, -EINVAL,
                   "expected milliseconds since the epoch, like $(date +%%s%%3N)");
    return rc;
}

int apply_segment(void *base, const char *arg, char *err, size_t errlen)
{
    struct client_opts *o = base;
    uint64_t i, n;
    const char *slash = strchr(arg, '/');
    if (!slash || slash == arg)
        return errbuf_set(err, errlen, -EINVAL, "expected i/N, like 1/3");
    if (parse_count(arg, (size_t)(slash - arg), 1, OPTIONS_MAX_CONNS, &i) ||
        parse_count(slash + 1, strlen(slash + 1), 1, OPTIONS_MAX_CONNS, &n) || i > n)
        return errbuf_set(err, errlen, -EINVAL, "expected i/N with 1 <= i <= N, like 1/3");
    o->seg_i = (unsigned)i;
    o->seg_n = (unsigned)n;
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

int apply_command(void *base, const char *arg, char *err, size_t errlen)
{
    struct client_opts *o = base;
    if (o->ncommands == OPTIONS_MAX_COMMANDS)
        return errbuf_set(err, errlen, -EINVAL, "at most %d commands", OPTIONS_MAX_COMMANDS);
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

int apply_command_ratio(void *base, const char *arg, char *err, size_t errlen)
{
    struct client_opts *o = base;
    uint64_t v;
    if (!o->ncommands)
        return errbuf_set(err, errlen, -EINVAL, "comes after the --command it weighs");
    int rc = parse_count(arg, strlen(arg), 1, 1000000, &v);
    if (rc)
        return errbuf_set(err, errlen, -EINVAL, "expected a weight from 1 to 1000000"), rc;
    o->command_weights[o->ncommands - 1] = (unsigned)v;
    return 0;
}

int apply_key_prefix(void *base, const char *arg, char *err, size_t errlen)
{
    if (strpbrk(arg, " \r\n") || strlen(arg) > 256)
        return errbuf_set(err, errlen, -EINVAL,
                          "expected at most 256 bytes without spaces or line breaks");
    return set_string(&((struct client_opts *)base)->key_prefix, arg);
}

int apply_key_pattern(void *base, const char *arg, char *err, size_t errlen)
{
    /* memtier writes SET:GET pairs like "S:R"; one letter applies to every command */
    if (!arg[0] || !strchr("RSGZ", arg[0]) ||
        (arg[1] && !(arg[1] == ':' && arg[2] == arg[0] && !arg[3])))
        return errbuf_set(err, errlen, -EINVAL,
                          "expected R (uniform), S (sequential), G (gaussian) or Z (zipf)");
    ((struct client_opts *)base)->key_pattern = arg[0];
    return 0;
}

static int apply_positive(double *out, double max, const char *arg, char *err, size_t errlen)
{
    int rc = parse_real(arg, max, out);
    if (rc && max < 1e300)
        errbuf_set(err, errlen, -EINVAL, "expected a number above 0 and below %g", max);
    else if (rc)
        errbuf_set(err, errlen, -EINVAL, "expected a number above 0");
    return rc;
}

int apply_key_median(void *base, const char *arg, char *err, size_t errlen)
{
    return apply_positive(&((struct client_opts *)base)->key_median, 1e308, arg, err, errlen);
}

int apply_key_stddev(void *base, const char *arg, char *err, size_t errlen)
{
    return apply_positive(&((struct client_opts *)base)->key_stddev, 1e308, arg, err, errlen);
}

int apply_zipf_exp(void *base, const char *arg, char *err, size_t errlen)
{
    struct client_opts *o = base;
    double v;
    int rc = apply_positive(&v, 5, arg, err, errlen);
    if (!rc && v >= 5)
        return errbuf_set(err, errlen, -EINVAL, "expected a number above 0 and below 5"), -ERANGE;
    if (!rc)
        o->zipf_exp = v;
    return rc;
}

int apply_populate(void *base, const char *arg, char *err, size_t errlen)
{
    int rc = check_template(arg, err, errlen);
    return rc ? rc : set_string(&((struct client_opts *)base)->populate, arg);
}

int apply_protocol(void *base, const char *arg, char *err, size_t errlen)
{
    static const char *const names[] = {
        [REPLIES_LINE] = "line", [REPLIES_RESP] = "redis", [REPLIES_MEMCACHE] = "memcache"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(arg, names[i]) == 0 ||
            (i == REPLIES_MEMCACHE && !strcmp(arg, "memcache_text"))) {
            ((struct client_opts *)base)->protocol = i;
            return 0;
        }
    }
    return errbuf_set(err, errlen, -EINVAL, "expected line, redis or memcache");
}

/* Milliseconds, as redis-benchmark's proposed --connection-duration: the shared duration
 * grammar with ms as the default unit ("500", "500ms", "2s", "0.5s"). */
static int apply_ms(double *out, const char *arg, int zero_ok, char *err, size_t errlen)
{
    size_t len = strlen(arg);
    int unit = len && arg[len - 1] == 's';
    char buf[64];
    uint64_t ns = 0;
    int rc = len + 3 > sizeof buf ? -EINVAL : 0;
    if (!rc) {
        snprintf(buf, sizeof buf, "%s%s", arg, unit ? "" : "ms");
        rc = values_parse_duration(buf, strlen(buf), &ns);
    }
    if (!rc && !zero_ok && ns == 0)
        rc = -ERANGE;
    if (rc)
        return errbuf_set(err, errlen, -EINVAL, "expected milliseconds, like 500, or 2s"), rc;
    *out = (double)ns / 1e9;
    return 0;
}

int apply_conn_duration(void *base, const char *arg, char *err, size_t errlen)
{
    return apply_ms(&((struct client_opts *)base)->conn_duration, arg, 0, err, errlen);
}

int apply_conn_jitter(void *base, const char *arg, char *err, size_t errlen)
{
    return apply_ms(&((struct client_opts *)base)->conn_jitter, arg, 1, err, errlen);
}

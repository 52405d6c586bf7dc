/* merge - several runs into one: histograms added, seconds aligned, percentiles recomputed. */
#include "merge.h"

#include "errbuf.h"

#include "hdr.h"
#include "hlog.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_S (365.0 * 86400.0)

static const struct json *path(const struct json *j, const char *a, const char *b, const char *c)
{
    j = json_get(j, a);
    if (b)
        j = json_get(j, b);
    if (c)
        j = json_get(j, c);
    return j;
}

static int is_string(const struct json *j)
{
    return j && j->type == JSON_STRING;
}

/* An op type: an object of ALL STATS with a Count, other than Totals. */
static int is_type(const struct json *m)
{
    return m->type == JSON_OBJECT && json_get(m, "Count") && strcmp(m->key, "Totals") != 0;
}

/* Walks the lines of an .hlog; calls fn for every interval. Checks every line. */
static int hlog_each(const struct merge_input *in, double *start_time,
                     int (*fn)(void *ctx, const struct hlog_line *l, unsigned lineno), void *ctx,
                     char *err, size_t errlen)
{
    const char *p = in->hlog, *end = in->hlog + in->hlog_len;
    double base = -1;
    unsigned lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        struct hlog_line l;
        char why[160];
        lineno++;
        int rc = hlog_parse_line(p, len, &l, start_time, &base, why, sizeof why);
        if (rc < 0)
            return errbuf_set(err, errlen, -EINVAL, "%s: line %u: %s", in->name, lineno, why);
        if (rc == 1 && fn && (rc = fn(ctx, &l, lineno)))
            return rc;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int note_uncorrected(void *ctx, const struct hlog_line *l, unsigned lineno)
{
    (void)lineno;
    size_t n = strlen(l->tag);
    if (n > 12 && strcmp(l->tag + n - 12, ".uncorrected") == 0)
        ((struct merge_input *)ctx)->has_uncorrected = 1;
    return 0;
}

int merge_inspect(struct merge_input *in, char *err, size_t errlen)
{
    if (!in->json) {
        double start = -1;
        int rc = hlog_each(in, &start, note_uncorrected, in, err, errlen);
        if (rc)
            return rc;
        if (start < 0)
            return errbuf_set(err, errlen, -EINVAL, "%s: no #[StartTime: ...] line", in->name);
        in->start_ms = (uint64_t)llround(start * 1000.0);
        in->has_ns = 1;
        return 0;
    }
    const struct json *all = json_get(in->json, "ALL STATS");
    if (!all || all->type != JSON_OBJECT)
        return errbuf_set(err, errlen, -EINVAL, "%s: no \"ALL STATS\" object: not a bench result",
                          in->name);
    uint64_t finish;
    if (json_u64(path(all, "Runtime", "Start time", NULL), &in->start_ms) ||
        json_u64(path(all, "Runtime", "Finish time", NULL), &finish) || finish < in->start_ms)
        return errbuf_set(err, errlen, -EINVAL, "%s: no valid Runtime Start time and Finish time",
                          in->name);
    const struct json *tot = json_get(all, "Totals");
    if (!tot || tot->type != JSON_OBJECT)
        return errbuf_set(err, errlen, -EINVAL, "%s: no \"Totals\"", in->name);
    in->has_ns = is_string(path(tot, "linepool", "Compressed Histogram ns", NULL));
    in->has_uncorrected =
        is_string(path(tot, "linepool", "Uncorrected Compressed Histogram ns", NULL));
    return 0;
}

int merge_begin(struct merge *m, struct merge_input *in, size_t n, int relative)
{
    memset(m, 0, sizeof *m);
    m->relative = relative;
    m->both = 1;
    m->start_ms = UINT64_MAX;
    uint64_t latest = 0;
    for (size_t i = 0; i < n; i++) {
        m->micro |= !in[i].has_ns;
        m->both &= in[i].has_uncorrected;
        if (in[i].start_ms < m->start_ms)
            m->start_ms = in[i].start_ms;
        if (in[i].start_ms > latest)
            latest = in[i].start_ms;
        if (!m->config && in[i].json)
            m->config = json_get(in[i].json, "configuration");
    }
    m->both &= !m->micro;
    m->base_s = m->start_ms / 1000;
    m->max_start_skew_ms = n ? (double)(latest - m->start_ms) : 0;
    return cmdstat_init(&m->totals, m->both);
}

/* Index of type name, added when new (allowed: an .hlog, or the first JSON input). */
static int type_index(struct merge *m, const char *name, const char *word, int may_add)
{
    for (unsigned i = 0; i < m->ntypes; i++)
        if (strcmp(m->names[i], name) == 0)
            return (int)i;
    if (!may_add || m->ntypes == MERGE_MAX_TYPES || strlen(name) >= sizeof m->names[0] ||
        strlen(word) >= sizeof m->words[0])
        return -1; /* a truncated name would never match again */
    unsigned i = m->ntypes;
    if (cmdstat_init(&m->cmds[i], m->both))
        return -2;
    m->ntypes++;
    snprintf(m->names[i], sizeof m->names[i], "%s", name);
    snprintf(m->words[i], sizeof m->words[i], "%s", word);
    return (int)i;
}

/* A compressed string into h (reset), checking the buckets fit the merge's mode. */
static int load_histogram(const struct merge *m, const struct json *s, struct histogram *h,
                          const char *what, char *err, size_t errlen)
{
    if (!is_string(s))
        return errbuf_set(err, errlen, -EINVAL, "%s: no compressed histogram", what);
    struct hdr e;
    char why[160];
    int rc = hdr_decode(&e, s->string, s->len, why, sizeof why);
    if (rc == -ENOMEM)
        return rc;
    if (rc)
        return errbuf_set(err, errlen, -EINVAL, "%s: %s", what, why);
    int ok = m->micro ? e.lowest == HDR_US_LOWEST && e.sig == HDR_US_SIG
                      : e.lowest == HDR_NS_LOWEST && e.sig == HDR_NS_SIG;
    if (!ok) {
        errbuf_set(err, errlen, -EINVAL,
                   "%s: incompatible histograms (lowest %lld, %d digits; expected %d, %d)", what,
                   (long long)e.lowest, (int)e.sig, m->micro ? HDR_US_LOWEST : HDR_NS_LOWEST,
                   m->micro ? HDR_US_SIG : HDR_NS_SIG);
        hdr_free(&e);
        return -EINVAL;
    }
    hdr_to_histogram(&e, m->micro ? 1000 : 1, h);
    hdr_free(&e);
    return 0;
}

/* The exact min, max and sum the file states beside its histogram. */
static void exact_figures(const struct json *from, const char *prefix, struct histogram *h)
{
    char key[64];
    uint64_t v;
    if (!h->count)
        return;
    snprintf(key, sizeof key, "%sMin Latency ns", prefix);
    if (!json_u64(json_get(from, key), &v))
        h->min = v;
    snprintf(key, sizeof key, "%sMax Latency ns", prefix);
    if (!json_u64(json_get(from, key), &v))
        h->max = v;
    snprintf(key, sizeof key, "%sAccumulated Latency ns", prefix);
    if (!json_u64(json_get(from, key), &v))
        h->sum = v;
}

static void memtier_figures(const struct json *op, struct histogram *h)
{
    double v;
    if (!h->count)
        return;
    if (!json_double(json_get(op, "Min Latency"), &v))
        h->min = (uint64_t)llround(v * 1e6);
    if (!json_double(json_get(op, "Max Latency"), &v))
        h->max = (uint64_t)llround(v * 1e6);
    if (!json_double(json_get(op, "Accumulated Latency"), &v))
        h->sum = (uint64_t)llround(v * 1e6);
}

/* Misses: exact from linepool's extras, else memtier's Misses/sec over the run's length. */
static void add_misses(struct cmdstat *cs, const struct json *op, const struct json *all)
{
    uint64_t n, start, finish;
    double per;
    if (!json_u64(path(op, "linepool", "Misses", NULL), &n)) {
        cs->misses += n;
    } else if (!json_double(json_get(op, "Misses/sec"), &per) &&
               !json_u64(path(all, "Runtime", "Start time", NULL), &start) &&
               !json_u64(path(all, "Runtime", "Finish time", NULL), &finish) && finish > start) {
        cs->misses += (uint64_t)llround(per * (double)(finish - start) / 1000.0);
    }
}

static int add_whole(struct merge *m, struct cmdstat *cs, const struct json *op, const char *what,
                     struct histogram *h, char *err, size_t errlen)
{
    const struct json *ex = json_get(op, "linepool");
    for (int k = 0; k < (m->both ? 2 : 1); k++) {
        const struct json *s = m->micro ? path(op, "Percentile Latencies", "Histogram log format",
                                               "Compressed Histogram")
                                        : json_get(ex, k ? "Uncorrected Compressed Histogram ns"
                                                         : "Compressed Histogram ns");
        int rc = load_histogram(m, s, h, what, err, errlen);
        if (rc)
            return rc;
        if (m->micro)
            memtier_figures(op, h);
        else
            exact_figures(ex, k ? "Uncorrected " : "", h);
        uint64_t count;
        if (k == 0 && (json_u64(json_get(op, "Count"), &count) || count != h->count))
            return errbuf_set(err, errlen, -EINVAL,
                              "%s: the histogram holds %llu values, Count says otherwise", what,
                              (unsigned long long)h->count);
        histogram_merge(cs->whole[k], h);
    }
    return 0;
}

static int add_second(struct merge *m, struct cmdstat *cs, const struct json *e, size_t sec,
                      const char *what, struct histogram *h, char *err, size_t errlen)
{
    uint64_t rx = 0, tx = 0, count = 0;
    json_u64(json_get(e, "Bytes RX"), &rx);
    json_u64(json_get(e, "Bytes TX"), &tx);
    if (json_u64(json_get(e, "Count"), &count))
        return errbuf_set(err, errlen, -EINVAL, "%s: a Time-Serie entry without a Count", what);
    const struct json *ex = json_get(e, "linepool");
    int exact = !m->micro && is_string(json_get(ex, "Compressed Histogram ns"));
    int rc = cmdstat_put_counts(cs, sec, exact ? 0 : count, rx, tx);
    for (int k = 0; exact && !rc && k < (m->both ? 2 : 1); k++) {
        rc = load_histogram(
            m, json_get(ex, k ? "Uncorrected Compressed Histogram ns" : "Compressed Histogram ns"),
            h, what, err, errlen);
        if (rc)
            break;
        exact_figures(ex, k ? "Uncorrected " : "", h);
        if (k == 0 && h->count != count)
            return errbuf_set(err, errlen, -EINVAL,
                              "%s: second %zu: the histogram holds %llu values, Count %llu", what,
                              sec, (unsigned long long)h->count, (unsigned long long)count);
        rc = cmdstat_put_second(cs, sec, k, h);
    }
    return rc;
}

static int add_series(struct merge *m, struct cmdstat *cs, const struct json *op, uint64_t offset,
                      const char *what, struct histogram *h, char *err, size_t errlen)
{
    const struct json *ts = json_get(op, "Time-Serie");
    if (!ts)
        return 0;
    if (ts->type != JSON_OBJECT)
        return errbuf_set(err, errlen, -EINVAL, "%s: Time-Serie is not an object", what);
    for (const struct json *e = ts->child; e; e = e->next) {
        char *end;
        unsigned long long s = strtoull(e->key, &end, 10);
        if (!isdigit((unsigned char)e->key[0]) || *end)
            return errbuf_set(err, errlen, -EINVAL, "%s: Time-Serie key \"%s\" is not a second",
                              what, e->key);
        if (s + offset >= MERGE_MAX_SECONDS)
            return errbuf_set(err, errlen, -EINVAL,
                              "%s: second %llu is more than %d s after the earliest start "
                              "(runs that far apart need --relative)",
                              what, s + offset, MERGE_MAX_SECONDS);
        int rc = add_second(m, cs, e, (size_t)(offset + s), what, h, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static void word_of(char *word, size_t len, const char *type)
{
    size_t n = strlen(type);
    if (n > 1 && type[n - 1] == 's')
        n--;
    snprintf(word, len, "%.*s", (int)n, type);
    for (char *p = word; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

/* Same op types as the first JSON input, no more, no fewer. */
static int check_types(struct merge *m, const struct json *all, const char *name, char *err,
                       size_t errlen)
{
    unsigned n = 0;
    for (const struct json *t = all->child; t; t = t->next) {
        if (!is_type(t))
            continue;
        n++;
        if (strlen(t->key) >= sizeof m->names[0])
            return errbuf_set(err, errlen, -EINVAL,
                              "%s: op type \"%.20s...\" is longer than %zu bytes", name, t->key,
                              sizeof m->names[0] - 1);
        if (n > MERGE_MAX_TYPES)
            return errbuf_set(err, errlen, -EINVAL, "%s: more than %d op types", name,
                              MERGE_MAX_TYPES);
        if (m->inputs && type_index(m, t->key, "", 0) < 0)
            return errbuf_set(err, errlen, -EINVAL,
                              "%s has \"%s\", the first run not: different commands", name, t->key);
    }
    if (m->inputs && n != m->ntypes)
        return errbuf_set(err, errlen, -EINVAL,
                          "%s has %u op types, the first run %u: different commands", name, n,
                          m->ntypes);
    if (n == 0)
        return errbuf_set(err, errlen, -EINVAL, "%s: no op type (like \"Gets\") in ALL STATS",
                          name);
    return 0;
}

static void add_run_figures(struct merge *m, const struct merge_input *in, const struct json *all)
{
    uint64_t v, finish = 0, threads = 0, per = 0;
    json_u64(path(all, "Runtime", "Finish time", NULL), &finish);
    if (!json_u64(path(all, "Totals", "Connection Errors", NULL), &v))
        m->errors += v;
    if (!json_u64(path(all, "linepool connections", "Connects", NULL), &v))
        m->connects += v;
    const struct json *ri = json_get(in->json, "run information");
    json_u64(json_get(ri, "Threads"), &threads);
    json_u64(json_get(ri, "Connections per thread"), &per);
    m->threads += (unsigned)threads;
    const struct json *cfg = json_get(in->json, "configuration");
    uint64_t conns = threads * per;
    double rate = 0;
    if (!json_u64(path(cfg, "linepool", "connections", NULL), &v))
        conns = v;
    if (json_double(path(cfg, "linepool", "rate", NULL), &rate) &&
        !json_double(json_get(cfg, "rate_limit"), &rate))
        rate *= (double)conns;
    m->conns += (unsigned)conns;
    m->rate += rate;
    /* relative: every run starts with the earliest one */
    uint64_t end = m->relative ? m->start_ms + (finish - in->start_ms) : finish;
    if (end > m->finish_ms)
        m->finish_ms = end;
}

static int add_json(struct merge *m, const struct merge_input *in, struct histogram *h, char *err,
                    size_t errlen)
{
    const struct json *all = json_get(in->json, "ALL STATS");
    int rc = check_types(m, all, in->name, err, errlen);
    if (rc)
        return rc;
    uint64_t offset = m->relative ? 0 : in->start_ms / 1000 - m->base_s;
    for (const struct json *t = all->child; t && !rc; t = t->next) {
        if (!is_type(t))
            continue;
        char word[64], what[256];
        word_of(word, sizeof word, t->key);
        int i = type_index(m, t->key, word, m->inputs == 0);
        if (i == -2)
            return -ENOMEM;
        if (i < 0) /* check_types ruled this out */
            return errbuf_set(err, errlen, -EINVAL, "%s: op type \"%s\" not merged", in->name,
                              t->key);
        snprintf(what, sizeof what, "%s: %s", in->name, t->key);
        rc = add_whole(m, &m->cmds[i], t, what, h, err, errlen);
        add_misses(&m->cmds[i], t, all);
        if (!rc)
            rc = add_series(m, &m->cmds[i], t, offset, what, h, err, errlen);
    }
    if (!rc)
        add_run_figures(m, in, all);
    return rc;
}

struct hlog_ctx {
    struct merge *m;
    const struct merge_input *in;
    struct histogram *h;
    double start_time;
    char *err;
    size_t errlen;
};

static int hlog_interval_add(void *arg, const struct hlog_line *l, unsigned lineno)
{
    struct hlog_ctx *c = arg;
    struct merge *m = c->m;
    char word[64], name[sizeof m->names[0]], what[256];
    snprintf(what, sizeof what, "%s: line %u", c->in->name, lineno);
    if (m->micro)
        return errbuf_set(c->err, c->errlen, -EINVAL,
                          "%s: an .hlog (ns) cannot be merged with memtier's µs "
                          "histograms",
                          what);
    size_t n = strlen(l->tag);
    int k = n > 12 && strcmp(l->tag + n - 12, ".uncorrected") == 0;
    snprintf(word, sizeof word, "%.*s", (int)(k ? n - 12 : n), *l->tag ? l->tag : "request");
    memtier_type_name(name, sizeof name, word);
    int i = type_index(m, name, word, 1);
    if (i < 0)
        return i == -2 ? -ENOMEM
                       : errbuf_set(c->err, c->errlen, -EINVAL, "%s: too many tags", what);
    if (k && !m->both)
        return 0;
    struct json s = {.type = JSON_STRING, .string = (char *)l->b64, .len = l->b64_len};
    int rc = load_histogram(m, &s, c->h, what, c->err, c->errlen);
    if (rc)
        return rc;
    /* absolute stamps (within a year of StartTime) or relative ones, as HistogramLogReader */
    double start = l->start >= c->start_time - YEAR_S ? l->start - c->start_time : l->start;
    double base = m->relative ? 0 : floor(c->start_time) - (double)m->base_s;
    if (start + base < 0 || start + base >= MERGE_MAX_SECONDS)
        return errbuf_set(c->err, c->errlen, -EINVAL,
                          "%s: interval start out of range (more than %d s after "
                          "the earliest start)",
                          what, MERGE_MAX_SECONDS);
    size_t sec = (size_t)floor(start + base + 1e-9);
    histogram_merge(m->cmds[i].whole[k], c->h);
    uint64_t end = (uint64_t)llround((m->relative ? (double)m->start_ms : c->start_time * 1000.0) +
                                     (start + l->length) * 1000.0);
    if (end > m->finish_ms)
        m->finish_ms = end;
    return cmdstat_put_second(&m->cmds[i], sec, k, c->h);
}

int merge_add(struct merge *m, const struct merge_input *in, char *err, size_t errlen)
{
    struct histogram *h = malloc(sizeof *h);
    if (!h)
        return -ENOMEM;
    int rc;
    if (in->json) {
        rc = add_json(m, in, h, err, errlen);
    } else {
        struct hlog_ctx c = {
            .m = m, .in = in, .h = h, .err = err, .errlen = errlen, .start_time = -1};
        double start = -1;
        rc = hlog_each(in, &start, NULL, NULL, err, errlen); /* StartTime first */
        c.start_time = start;
        if (!rc)
            rc = hlog_each(in, &start, hlog_interval_add, &c, err, errlen);
    }
    free(h);
    if (!rc)
        m->inputs++;
    return rc;
}

static const char *config_string(const struct json *cfg, const char *key, const char *dflt)
{
    const struct json *j = json_get(cfg, key);
    return is_string(j) ? j->string : dflt;
}

int merge_finish(struct merge *m, struct memtier_run *out, const char **words, const char **names)
{
    for (unsigned i = 0; i < m->ntypes; i++) {
        if (cmdstat_merge(&m->totals, &m->cmds[i]))
            return -ENOMEM;
        words[i] = m->words[i];
        names[i] = m->names[i];
        if (m->cmds[i].nsecs > m->nseconds)
            m->nseconds = m->cmds[i].nsecs;
    }
    uint64_t port = 0, pipeline = 1;
    json_u64(json_get(m->config, "port"), &port);
    json_u64(json_get(m->config, "pipeline"), &pipeline);
    memset(out, 0, sizeof *out);
    out->cfg.server = config_string(m->config, "server", "");
    out->cfg.protocol = config_string(m->config, "protocol", "");
    out->cfg.port = (unsigned)port;
    out->cfg.pipeline = (unsigned)pipeline;
    out->cfg.threads = m->threads;
    out->cfg.conns = m->conns;
    out->cfg.rate = m->rate;
    out->cfg.ratio = config_string(m->config, "ratio", "1:0");
    out->start_ms = m->start_ms;
    out->finish_ms = m->finish_ms > m->start_ms ? m->finish_ms : m->start_ms;
    out->cfg.test_time = (double)(out->finish_ms - out->start_ms) / 1000.0;
    uint64_t origin = m->relative ? out->start_ms : m->base_s * 1000;
    size_t span = (size_t)((out->finish_ms - origin + 999) / 1000);
    if (span > m->nseconds && span < m->nseconds + 2)
        m->nseconds = span;
    out->nseconds = m->nseconds;
    out->ncmds = m->ntypes;
    out->words = words;
    out->type_names = names;
    out->cmds = m->cmds;
    out->totals = &m->totals;
    out->errors = m->errors;
    out->connects = m->connects;
    return 0;
}

void merge_free(struct merge *m)
{
    for (unsigned i = 0; i < m->ntypes; i++)
        cmdstat_free(&m->cmds[i]);
    cmdstat_free(&m->totals);
    m->ntypes = 0;
}

/* memtier - memtier_benchmark's JSON schema, key for key (run_stats.cpp print_json and
 * result_print_to_json, memtier_benchmark.cpp config_print_to_json, as quoted in the notes). */
#include "memtier.h"

#include "hdr.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The percentiles memtier prints by default (50, 99, 99.9) and 90 and 99.99 besides. */
static const double quantiles[] = {50, 90, 99, 99.9, 99.99};
#define NQ (sizeof quantiles / sizeof quantiles[0])

void memtier_type_name(char *buf, size_t len, const char *word)
{
    size_t n = 0;
    for (; word[n] && n + 2 < len; n++)
        buf[n] = (char)(n ? tolower((unsigned char)word[n]) : toupper((unsigned char)word[n]));
    buf[n++] = 's';
    buf[n] = '\0';
}

/* memtier's header: snprintf(h, sizeof h - 1, "p%.3f", q) with char h[8], so p50 is
 * "p50.00" and p99.9 "p99.90" (6 characters). */
static void quantile_key(char key[8], double q)
{
    snprintf(key, 7, "p%.3f", q);
}

static void str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* The exact ns histogram (or the µs one memtier writes) as a V2 string; -ENOMEM. */
static int compressed(FILE *out, const struct histogram *h, int micro)
{
    struct hdr e;
    int rc = micro ? hdr_from_histogram_us(&e, h) : hdr_from_histogram(&e, h);
    char *s = rc ? NULL : hdr_encode(&e);
    hdr_free(&e);
    if (!s)
        return -ENOMEM;
    str(out, s);
    free(s);
    return 0;
}

static void write_config(FILE *out, const struct memtier_config *c)
{
    unsigned per_thread = c->threads ? c->conns / c->threads : c->conns;
    fprintf(out, "\"configuration\": {\n\"server\": ");
    str(out, c->server);
    fprintf(out, ",\n\"port\": %u,\n\"uri\": \"\",\n\"unix socket\": \"\",\n", c->port);
    fprintf(out, "\"address family\": \"%s\",\n\"protocol\": ",
            c->server && strchr(c->server, ':') ? "IPv6" : "IPv4");
    str(out, c->protocol);
    fprintf(out, ",\n\"out_file\": \"\",\n\"tls\": \"false\",\n\"client_stats\": \"\",\n"
                 "\"run_count\": 1,\n\"debug\": 0,\n");
    fprintf(out, "\"requests\": %llu,\n\"rate_limit\": %.0f,\n\"clients\": %u,\n\"threads\": %u,\n",
            (unsigned long long)c->requests, c->rate > 0 && c->conns ? c->rate / c->conns : 0.0,
            per_thread, c->threads);
    fprintf(out, "\"test_time\": %.0f,\n\"ratio\": ", c->test_time);
    str(out, c->ratio ? c->ratio : "1:0");
    fprintf(out, ",\n\"pipeline\": %u,\n\"data_size\": %llu,\n\"key_prefix\": ", c->pipeline,
            (unsigned long long)c->data_size);
    str(out, c->key_prefix ? c->key_prefix : "");
    fprintf(out, ",\n\"key_minimum\": %llu,\n\"key_maximum\": %llu,\n\"key_pattern\": ",
            (unsigned long long)c->key_minimum, (unsigned long long)c->key_maximum);
    str(out, c->key_pattern ? c->key_pattern : "R:R");
    fprintf(out, ",\n\"reconnect_interval\": %llu,\n", (unsigned long long)c->reconnect_interval);
    /* linepool's own: the totals memtier splits per connection, and what it lacks */
    fprintf(out,
            "\"linepool\": {\"connections\": %u, \"rate\": %.17g, \"warmup\": %.17g, "
            "\"connection_duration_ms\": %llu}\n},\n",
            c->conns, c->rate, c->warmup, (unsigned long long)c->connection_duration_ms);
}

static void write_run_information(FILE *out, const struct memtier_config *c)
{
    fprintf(out, "\"run information\": {\n\"Threads\": %u,\n\"Connections per thread\": %u,\n",
            c->threads, c->threads ? c->conns / c->threads : c->conns);
    if (c->test_time > 0)
        fprintf(out, "\"Seconds\": %.0f,\n", c->test_time);
    else
        fprintf(out, "\"Requests per client\": %llu,\n",
                (unsigned long long)(c->conns ? c->requests / c->conns : c->requests));
    fprintf(out, "\"Format version\": 2\n},\n");
}

static void latency_fields(FILE *out, const struct histogram *h)
{
    if (h->count)
        fprintf(out, "\"Latency\": %.3f,\n\"Average Latency\": %.3f,\n", histogram_mean(h) / 1e6,
                histogram_mean(h) / 1e6);
    else
        fprintf(out, "\"Latency\": null,\n\"Average Latency\": null,\n");
    fprintf(out, "\"Accumulated Latency\": %llu,\n\"Min Latency\": %.3f,\n\"Max Latency\": %.3f,\n",
            (unsigned long long)(h->sum / 1000000u), h->count ? ms(h->min) : 0.0, ms(h->max));
}

/* One Time-Serie entry; its exact histograms go under "linepool" for merge. */
static int write_second(FILE *out, const struct cmdstat *s, size_t i, struct histogram *h)
{
    const struct cmdstat_second *d = i < s->nsecs ? &s->secs[i] : NULL;
    fprintf(out, "\"%zu\": {\"Bytes RX\": %llu, \"Bytes TX\": %llu, ", i,
            (unsigned long long)(d ? d->bytes_in : 0), (unsigned long long)(d ? d->bytes_out : 0));
    cmdstat_second_histogram(s, i, CMDSTAT_CORRECTED, h);
    uint64_t nohist = d ? d->nohist : 0;
    fprintf(out, "\"Count\": %llu", (unsigned long long)(h->count + nohist));
    if (nohist) {
        /* merged with a file that kept no histogram for this second: never invent one */
        fprintf(out, ", \"Average Latency\": null, \"Accumulated Latency\": null, "
                     "\"Min Latency\": null, \"Max Latency\": null");
        for (size_t q = 0; q < NQ; q++) {
            char key[8];
            snprintf(key, 7, "p%.2f", quantiles[q]);
            fprintf(out, ", \"%s\": null", key);
        }
        fprintf(out, "}");
        return 0;
    }
    if (h->count) {
        fprintf(out, ", \"Average Latency\": %.3f, \"Accumulated Latency\": %llu, ",
                histogram_mean(h) / 1e6, (unsigned long long)(h->sum / 1000000u));
        fprintf(out, "\"Min Latency\": %.3f, \"Max Latency\": %.3f", ms(h->min), ms(h->max));
        for (size_t q = 0; q < NQ; q++) {
            char key[8];
            snprintf(key, 7, "p%.2f", quantiles[q]);
            fprintf(out, ", \"%s\": %.3f", key, ms(histogram_percentile(h, quantiles[q])));
        }
    }
    fprintf(out, ", \"linepool\": {");
    for (int k = 0; k < CMDSTAT_KINDS; k++) {
        if (k == CMDSTAT_UNCORRECTED && !s->both)
            break;
        cmdstat_second_histogram(s, i, k, h);
        fprintf(out, "%s\"%sCompressed Histogram ns\": ", k ? ", " : "", k ? "Uncorrected " : "");
        if (compressed(out, h, 0))
            return -ENOMEM;
        fprintf(out,
                ", \"%sAccumulated Latency ns\": %llu, \"%sMin Latency ns\": %llu, "
                "\"%sMax Latency ns\": %llu",
                k ? "Uncorrected " : "", (unsigned long long)h->sum, k ? "Uncorrected " : "",
                (unsigned long long)(h->count ? h->min : 0), k ? "Uncorrected " : "",
                (unsigned long long)h->max);
    }
    fprintf(out, "}}");
    return 0;
}

static int write_percentiles(FILE *out, const char *name, const struct histogram *h)
{
    fprintf(out, "\"%s\": {\n", name);
    for (size_t q = 0; q < NQ; q++) {
        char key[8];
        quantile_key(key, quantiles[q]);
        fprintf(out, "\"%s\": %.3f,\n", key, ms(histogram_percentile(h, quantiles[q])));
    }
    fprintf(out, "\"Histogram log format\": {\"Compressed Histogram\": ");
    if (compressed(out, h, 1))
        return -ENOMEM;
    fprintf(out, "}\n}");
    return 0;
}

static int write_extras(FILE *out, const struct cmdstat *s)
{
    if (s->both) {
        fprintf(out, ",\n");
        if (write_percentiles(out, "Uncorrected Percentile Latencies", s->whole[1]))
            return -ENOMEM;
    }
    fprintf(out, ",\n\"linepool\": {\"Latency from\": \"%s\"",
            s->both ? "intended send time (open loop)"
                    : "actual send time: service time "
                      "(closed loop)");
    fprintf(out, ", \"Misses\": %llu", (unsigned long long)s->misses);
    for (int k = 0; k < CMDSTAT_KINDS; k++) {
        if (k == CMDSTAT_UNCORRECTED && !s->both)
            break;
        const struct histogram *h = s->whole[k];
        const char *p = k ? "Uncorrected " : "";
        fprintf(out, ", \"%sCompressed Histogram ns\": ", p);
        if (compressed(out, h, 0))
            return -ENOMEM;
        fprintf(out,
                ", \"%sAccumulated Latency ns\": %llu, \"%sMin Latency ns\": %llu, "
                "\"%sMax Latency ns\": %llu",
                p, (unsigned long long)h->sum, p, (unsigned long long)(h->count ? h->min : 0), p,
                (unsigned long long)h->max);
    }
    fprintf(out, "}");
    return 0;
}

static int write_op(FILE *out, const struct memtier_run *m, const char *name,
                    const struct cmdstat *s, uint64_t errors)
{
    double secs = (double)(m->finish_ms - m->start_ms) / 1000.0;
    const struct histogram *h = s->whole[CMDSTAT_CORRECTED];
    double rx = secs > 0 ? (double)s->bytes_in / 1024.0 / secs : 0;
    double tx = secs > 0 ? (double)s->bytes_out / 1024.0 / secs : 0;
    fprintf(out, "\"%s\": {\n\"Count\": %llu,\n\"Ops/sec\": %.2f,\n", name,
            (unsigned long long)h->count, secs > 0 ? (double)h->count / secs : 0.0);
    /* memtier counts hits and misses for its gets only */
    int gets = strncmp(name, "Get", 3) == 0 || strncmp(name, "Mget", 4) == 0;
    uint64_t misses = s->misses < h->count ? s->misses : h->count;
    fprintf(out, "\"Hits/sec\": %.2f,\n\"Misses/sec\": %.2f,\n",
            gets && secs > 0 ? (double)(h->count - misses) / secs : 0.0,
            secs > 0 ? (double)misses / secs : 0.0);
    fprintf(out, "\"Connection Errors/sec\": %.2f,\n\"Connection Errors\": %llu,\n",
            secs > 0 ? (double)errors / secs : 0.0, (unsigned long long)errors);
    latency_fields(out, h);
    fprintf(out,
            "\"KB/sec\": %.2f,\n\"KB/sec RX/TX\": %.2f,\n\"KB/sec RX\": %.2f,\n"
            "\"KB/sec TX\": %.2f,\n\"Time-Serie\": {\n",
            rx + tx, rx + tx, rx, tx);
    struct histogram *tmp = malloc(sizeof *tmp);
    if (!tmp)
        return -ENOMEM;
    for (size_t i = 0; i < m->nseconds; i++) {
        if (i)
            fprintf(out, ",\n");
        if (write_second(out, s, i, tmp)) {
            free(tmp);
            return -ENOMEM;
        }
    }
    free(tmp);
    fprintf(out, "\n},\n");
    if (write_percentiles(out, "Percentile Latencies", h) || write_extras(out, s))
        return -ENOMEM;
    fprintf(out, "\n}");
    return 0;
}

/* memtier's "SET": [{"<=msec": .., "percent": ..}]: each occupied bucket's top, cumulative. */
static void write_distribution(FILE *out, const char *word, const struct histogram *h)
{
    fputc('"', out);
    for (const char *p = word; *p; p++)
        fputc(toupper((unsigned char)*p), out);
    fprintf(out, "\": [");
    uint64_t seen = 0;
    int first = 1;
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS && h->count; i++) {
        if (!h->buckets[i])
            continue;
        seen += h->buckets[i];
        uint64_t top = histogram_bucket_low(i) + histogram_bucket_width(i) - 1;
        fprintf(out, "%s{\"<=msec\": %.3f, \"percent\": %.2f}", first ? "" : ", ",
                ms(top > h->max ? h->max : top), 100.0 * (double)seen / (double)h->count);
        first = 0;
    }
    fprintf(out, "]");
}

static void write_connects(FILE *out, const struct memtier_run *m)
{
    fprintf(out, ",\n\"linepool connections\": {\"Connects\": %llu, \"Connection Errors\": %llu",
            (unsigned long long)m->connects, (unsigned long long)m->errors);
    const struct histogram *h = m->connect_latency;
    if (h && h->count) {
        fprintf(out,
                ", \"Connect Latency\": {\"Count\": %llu, \"Average Latency\": %.3f, "
                "\"Min Latency\": %.3f, \"Max Latency\": %.3f",
                (unsigned long long)h->count, histogram_mean(h) / 1e6, ms(h->min), ms(h->max));
        for (size_t q = 0; q < NQ; q++) {
            char key[8];
            quantile_key(key, quantiles[q]);
            fprintf(out, ", \"%s\": %.3f", key, ms(histogram_percentile(h, quantiles[q])));
        }
        fprintf(out, "}");
    }
    fprintf(out, "}");
}

int memtier_json(FILE *out, const struct memtier_run *m)
{
    fprintf(out, "{\n");
    write_config(out, &m->cfg);
    write_run_information(out, &m->cfg);
    fprintf(out,
            "\"ALL STATS\": {\n\"Runtime\": {\n\"Start time\": %llu,\n\"Finish time\": %llu,\n",
            (unsigned long long)m->start_ms, (unsigned long long)m->finish_ms);
    fprintf(out,
            "\"Total duration\": %llu,\n\"Time unit\": \"MILLISECONDS\",\n"
            "\"Interrupted\": \"%s\"\n},\n",
            (unsigned long long)(m->finish_ms - m->start_ms), m->interrupted ? "true" : "false");
    for (unsigned c = 0; c < m->ncmds; c++) {
        char name[64];
        if (m->type_names)
            snprintf(name, sizeof name, "%s", m->type_names[c]);
        else
            memtier_type_name(name, sizeof name, m->words[c]);
        if (write_op(out, m, name, &m->cmds[c], m->errors))
            return -ENOMEM;
        fprintf(out, ",\n");
    }
    if (write_op(out, m, "Totals", m->totals, m->errors))
        return -ENOMEM;
    write_connects(out, m);
    for (unsigned c = 0; c < m->ncmds; c++) {
        fprintf(out, ",\n");
        write_distribution(out, m->words[c], m->cmds[c].whole[CMDSTAT_CORRECTED]);
    }
    fprintf(out, "\n}\n}\n");
    return ferror(out) ? -EIO : 0;
}

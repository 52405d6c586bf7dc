/* report - bench results as text, JSON and CSV; the progress line. */
#include "report.h"

#include "fmt.h"

#include <string.h>

const char *const report_error_names[REPORT_ERROR_KINDS] = {
#define X(name, text) [REPORT_##name] = text,
    REPORT_ERRORS(X)
#undef X
};

/* The percentiles every report shows, in order. */
static const struct {
    const char *name;
    double p;
} percentiles[] = {
    {"min", 0}, {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}, {"max", 100},
};

#define NPCT (sizeof percentiles / sizeof percentiles[0])

uint64_t report_errors_total(const struct report_counts *c)
{
    uint64_t n = 0;
    for (int k = 0; k < REPORT_ERROR_KINDS; k++)
        n += c->errors[k];
    return n;
}

static double per_second(uint64_t n, double secs)
{
    return secs > 0 ? (double)n / secs : 0.0;
}

static void text_header(FILE *out, const struct report *r)
{
    fprintf(out, "linepool-client bench: %s, %u connections, %u threads, pipeline %u, ", r->target,
            r->conns, r->threads, r->pipeline);
    if (r->rate > 0)
        fprintf(out, "open loop at %.0f req/s", r->rate);
    else
        fprintf(out, "closed loop");
    if (r->duration > 0)
        fprintf(out, ", %g s", r->duration);
    if (r->requests_cfg)
        fprintf(out, ", %llu requests", (unsigned long long)r->requests_cfg);
    if (r->ntemplates) {
        fprintf(out, "\nrequests:");
        for (unsigned i = 0; i < r->ntemplates; i++)
            fprintf(out, "%s \"%s\"", i ? "," : "", r->templates[i]);
        fputc('\n', out);
    } else if (r->message)
        fprintf(out, "\nrequest: \"%s\" + '\\n' (%llu bytes)\n", r->message,
                (unsigned long long)r->request_len);
    else
        fprintf(out, "\nrequest: %llu bytes (X... '\\n')\n", (unsigned long long)r->request_len);
}

static void text_latency_row(FILE *out, const char *label, const struct histogram *h,
                             const char *note)
{
    char v[32];
    if (!h->count) {
        fprintf(out, "  %-9s none measured\n", label);
        return;
    }
    fprintf(out, "  %-9s", label);
    for (size_t i = 0; i < NPCT; i++)
        fprintf(out, " %s %s", percentiles[i].name,
                fmt_ns(v, sizeof v, histogram_percentile(h, percentiles[i].p)));
    fprintf(out, "  (mean %s, %s)\n", fmt_ns(v, sizeof v, (uint64_t)histogram_mean(h)), note);
}

/* Open loop: both latencies, as wrk2 -U; closed loop: one, which is service time only. */
static void text_latency(FILE *out, const struct report *r)
{
    if (r->rate <= 0) {
        text_latency_row(out, "latency", r->latency,
                         "service time: closed loop, queueing behind a slow reply not counted");
        return;
    }
    text_latency_row(out, "latency", r->latency, "from intended send times");
    if (r->latency_actual)
        text_latency_row(out, "uncorr.", r->latency_actual, "from actual send times");
}

/* One line per command word: its count and latency (memtier's per-type rows). */
static void text_words(FILE *out, const struct report *r)
{
    char a[32], v[32];
    for (unsigned i = 0; i < r->nwords; i++) {
        const struct histogram *h = r->word_stats[i].whole[CMDSTAT_CORRECTED];
        fprintf(out, "  %-9s %s ok", r->words[i], fmt_thousands(a, sizeof a, h->count));
        if (h->count) {
            fprintf(out, ", p50 %s", fmt_ns(v, sizeof v, histogram_percentile(h, 50)));
            fprintf(out, " p99 %s", fmt_ns(v, sizeof v, histogram_percentile(h, 99)));
            fprintf(out, " max %s", fmt_ns(v, sizeof v, h->max));
        }
        fputc('\n', out);
    }
}

void report_text(FILE *out, const struct report *r)
{
    char a[32], b[32], c[32];
    const struct report_counts *t = &r->total;
    text_header(out, r);
    fprintf(out, "  requests  %s ok in %.2f s = %s req/s\n", fmt_thousands(a, sizeof a, t->ok),
            r->elapsed, fmt_thousands(b, sizeof b, (uint64_t)per_second(t->ok, r->elapsed)));
    fprintf(out, "  traffic   %.2f MB/s out, %.2f MB/s in (%s bytes out, %s in)\n",
            per_second(t->bytes_out, r->elapsed) / 1e6, per_second(t->bytes_in, r->elapsed) / 1e6,
            fmt_thousands(a, sizeof a, t->bytes_out), fmt_thousands(b, sizeof b, t->bytes_in));
    text_latency(out, r);
    text_words(out, r);
    fprintf(out, "  errors    %s (", fmt_thousands(a, sizeof a, report_errors_total(t)));
    for (int k = 0; k < REPORT_ERROR_KINDS; k++)
        fprintf(out, "%s%s %s", k ? ", " : "", report_error_names[k],
                fmt_thousands(b, sizeof b, t->errors[k]));
    fprintf(out, "); requests lost %s", fmt_thousands(a, sizeof a, r->lost));
    if (r->rate > 0)
        fprintf(out, ", never sent %s", fmt_thousands(b, sizeof b, r->unsent));
    fprintf(out, "\n  conns     %s connects, %s of %s never connected",
            fmt_thousands(c, sizeof c, r->connects), fmt_thousands(a, sizeof a, r->never_up),
            fmt_thousands(b, sizeof b, r->conns));
    if (r->extra)
        fprintf(out, "; %s unexpected reply lines", fmt_thousands(a, sizeof a, r->extra));
    if (r->planned)
        fprintf(out, "; %s planned reconnects", fmt_thousands(a, sizeof a, r->planned));
    fputc('\n', out);
    const struct histogram *h = r->connect_latency;
    if (h && h->count) {
        fprintf(out, "  connect   p50 %s", fmt_ns(a, sizeof a, histogram_percentile(h, 50)));
        fprintf(out, " p99 %s", fmt_ns(a, sizeof a, histogram_percentile(h, 99)));
        fprintf(out, " max %s (%s connects)\n", fmt_ns(a, sizeof a, h->max),
                fmt_thousands(b, sizeof b, h->count));
    }
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
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

static void json_errors(FILE *out, const struct report_counts *c)
{
    fprintf(out, "{");
    for (int k = 0; k < REPORT_ERROR_KINDS; k++)
        fprintf(out, "\"%s\": %llu, ", report_error_names[k], (unsigned long long)c->errors[k]);
    fprintf(out, "\"total\": %llu}", (unsigned long long)report_errors_total(c));
}

static void json_config(FILE *out, const struct report *r)
{
    fprintf(out, "{\n  \"target\": ");
    json_string(out, r->target);
    fprintf(out, ",\n  \"connections\": %u,\n  \"threads\": %u,\n  \"pipeline\": %u,\n", r->conns,
            r->threads, r->pipeline);
    fprintf(out, "  \"rate\": %.17g,\n  \"duration\": %.17g,\n  \"requests_limit\": %llu,\n",
            r->rate, r->duration, (unsigned long long)r->requests_cfg);
    fprintf(out, "  \"message\": ");
    if (r->message)
        json_string(out, r->message);
    else
        fprintf(out, "null");
    fprintf(out, ",\n  \"request_bytes\": %llu,\n  \"timeout\": %.17g,\n",
            (unsigned long long)r->request_len, r->timeout);
}

static void json_series(FILE *out, const struct report *r)
{
    fprintf(out, "  \"series\": [");
    for (size_t i = 0; i < r->nseries; i++) {
        const struct report_second *s = &r->series[i];
        fprintf(out, "%s\n    {\"t\": %.3f, \"dt\": %.3f, \"requests\": %llu, ", i ? "," : "", s->t,
                s->dt, (unsigned long long)s->c.ok);
        fprintf(out, "\"bytes_out\": %llu, \"bytes_in\": %llu, \"errors\": ",
                (unsigned long long)s->c.bytes_out, (unsigned long long)s->c.bytes_in);
        json_errors(out, &s->c);
        fputc('}', out);
    }
    fprintf(out, "\n  ]\n}\n");
}

void report_json(FILE *out, const struct report *r)
{
    const struct report_counts *t = &r->total;
    json_config(out, r);
    fprintf(out, "  \"elapsed\": %.6f,\n  \"requests\": %llu,\n  \"requests_per_second\": %.3f,\n",
            r->elapsed, (unsigned long long)t->ok, per_second(t->ok, r->elapsed));
    fprintf(out, "  \"bytes_out\": %llu,\n  \"bytes_in\": %llu,\n",
            (unsigned long long)t->bytes_out, (unsigned long long)t->bytes_in);
    fprintf(out, "  \"mb_per_second_out\": %.6f,\n  \"mb_per_second_in\": %.6f,\n",
            per_second(t->bytes_out, r->elapsed) / 1e6, per_second(t->bytes_in, r->elapsed) / 1e6);
    fprintf(out, "  \"latency_ns\": {\"count\": %llu, ", (unsigned long long)r->latency->count);
    for (size_t i = 0; i < NPCT; i++)
        fprintf(out, "\"%s\": %llu, ", percentiles[i].name,
                (unsigned long long)histogram_percentile(r->latency, percentiles[i].p));
    fprintf(out, "\"mean\": %.1f, \"from_intended_time\": %s},\n", histogram_mean(r->latency),
            r->rate > 0 ? "true" : "false");
    fprintf(out, "  \"errors\": ");
    json_errors(out, t);
    fprintf(out, ",\n  \"lost\": %llu,\n  \"unsent\": %llu,\n  \"connects\": %llu,\n",
            (unsigned long long)r->lost, (unsigned long long)r->unsent,
            (unsigned long long)r->connects);
    fprintf(out, "  \"never_connected\": %u,\n  \"extra_replies\": %llu,\n", r->never_up,
            (unsigned long long)r->extra);
    json_series(out, r);
}

void report_csv(FILE *out, const struct report *r)
{
    fprintf(out, "t,dt,requests,requests_per_second,bytes_out,bytes_in,mb_per_second_out,"
                 "mb_per_second_in");
    for (int k = 0; k < REPORT_ERROR_KINDS; k++)
        fprintf(out, ",%s", report_error_names[k]);
    fputc('\n', out);
    for (size_t i = 0; i < r->nseries; i++) {
        const struct report_second *s = &r->series[i];
        fprintf(out, "%.3f,%.3f,%llu,%.1f,%llu,%llu,%.6f,%.6f", s->t, s->dt,
                (unsigned long long)s->c.ok, per_second(s->c.ok, s->dt),
                (unsigned long long)s->c.bytes_out, (unsigned long long)s->c.bytes_in,
                per_second(s->c.bytes_out, s->dt) / 1e6, per_second(s->c.bytes_in, s->dt) / 1e6);
        for (int k = 0; k < REPORT_ERROR_KINDS; k++)
            fprintf(out, ",%llu", (unsigned long long)s->c.errors[k]);
        fputc('\n', out);
    }
}

void report_progress(char *buf, size_t len, const struct report_second *s)
{
    char a[32], b[32];
    snprintf(buf, len, "[%6.1fs] %s req/s  %.2f MB/s in  %.2f MB/s out  errors %s", s->t,
             fmt_thousands(a, sizeof a, (uint64_t)per_second(s->c.ok, s->dt)),
             per_second(s->c.bytes_in, s->dt) / 1e6, per_second(s->c.bytes_out, s->dt) / 1e6,
             fmt_thousands(b, sizeof b, report_errors_total(&s->c)));
}

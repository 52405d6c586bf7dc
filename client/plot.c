/* plot - gnuplot data and script for throughput, latency over time and the spectrum. */
#include "plot.h"

#include "hdr.h"
#include "hgrm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct json *totals(const struct json *run)
{
    return json_get(json_get(run, "ALL STATS"), "Totals");
}

static void value(FILE *out, const struct json *e, const char *key)
{
    double v;
    if (json_double(json_get(e, key), &v))
        fprintf(out, " NaN"); /* gnuplot leaves the point out */
    else
        fprintf(out, " %.6f", v);
}

int plot_series(FILE *out, const struct json *run, char *err, size_t errlen)
{
    const struct json *ts = json_get(totals(run), "Time-Serie");
    if (!ts || ts->type != JSON_OBJECT) {
        snprintf(err, errlen, "no \"ALL STATS\" Totals Time-Serie: not a bench result");
        return -EINVAL;
    }
    fprintf(out, "# second requests/s p50 p99 p99.9 max (ms)\n");
    for (const struct json *e = ts->child; e; e = e->next) {
        uint64_t count = 0;
        json_u64(json_get(e, "Count"), &count);
        fprintf(out, "%s %llu", e->key, (unsigned long long)count);
        value(out, e, "p50.00");
        value(out, e, "p99.00");
        value(out, e, "p99.90");
        value(out, e, "Max Latency");
        fputc('\n', out);
    }
    return 0;
}

int plot_spectrum(FILE *out, const struct json *run, int k, char *err, size_t errlen)
{
    const struct json *tot = totals(run), *ex = json_get(tot, "linepool");
    const struct json *s =
        json_get(ex, k ? "Uncorrected Compressed Histogram ns" : "Compressed Histogram ns");
    double scale = 1e6; /* ns to ms */
    if (!s && !k) {
        /* memtier's own file: its µs histogram */
        s = json_get(json_get(json_get(tot, "Percentile Latencies"), "Histogram log format"),
                     "Compressed Histogram");
        scale = 1e3;
    }
    if (!s || s->type != JSON_STRING)
        return 1;
    struct hdr h;
    char why[160];
    int rc = hdr_decode(&h, s->string, s->len, why, sizeof why);
    if (rc == -EINVAL)
        snprintf(err, errlen, "%s", why);
    if (rc)
        return rc;
    double mean = 0, sum = 0;
    for (uint32_t i = 0; i < h.len; i++)
        sum +=
            ((double)hdr_value_at(&h, i) + (double)hdr_width_at(&h, i) / 2) * (double)h.counts[i];
    mean = h.total ? sum / (double)h.total : 0;
    hgrm_write(out, &h, mean, 5, scale);
    hdr_free(&h);
    return 0;
}

/* A label as a gnuplot string: double quotes and backslashes escaped. */
static void label(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void plot_each(FILE *out, const struct plot_run *runs, int n, const char *fmt, int panel)
{
    fprintf(out, "plot ");
    int first = 1;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < (panel == 2 ? 2 : 1); k++) {
            const char *path = panel == 2 ? runs[i].spectrum_path[k] : runs[i].series_path;
            if (!path)
                continue;
            fprintf(out, "%s'%s' %s title ", first ? "" : ", \\\n     ", path, fmt);
            char t[512];
            snprintf(t, sizeof t, "%s%s", runs[i].label, k ? " (uncorrected)" : "");
            label(out, t);
            fprintf(out, " with lines lw 2 dt %d", k ? 2 : 1);
            first = 0;
        }
    }
    if (first) /* nothing to draw in this panel: keep the layout */
        fprintf(out, "NaN notitle");
    fputc('\n', out);
}

void plot_script(FILE *out, const char *out_path, const struct plot_run *runs, int n)
{
    size_t len = strlen(out_path);
    int png = len > 4 && strcmp(out_path + len - 4, ".png") == 0;
    fprintf(out, "set terminal %s size 1280,1440 noenhanced\n", png ? "pngcairo" : "svg");
    fprintf(out, "set output '%s'\n", out_path);
    fprintf(out, "set datafile missing 'NaN'\nset key outside right top\nset grid\n");
    fprintf(out, "set multiplot layout 3,1 title 'linepool-client runs'\n");
    fprintf(out, "set title 'Throughput'\nset xlabel 'second'\nset ylabel 'requests/s'\n");
    plot_each(out, runs, n, "using 1:2", 0);
    fprintf(out, "set title 'Latency over time (p50 solid, p99 dashed, p99.9 dotted)'\n"
                 "set ylabel 'ms'\nset logscale y\n");
    fprintf(out, "plot ");
    for (int i = 0; i < n; i++) {
        static const char *const cols[] = {"3", "4", "5"};
        for (int c = 0; c < 3; c++) {
            fprintf(out, "%s'%s' using 1:%s title ", i || c ? ", \\\n     " : "",
                    runs[i].series_path, cols[c]);
            char t[512];
            snprintf(t, sizeof t, "%s %s", runs[i].label,
                     c == 0   ? "p50"
                     : c == 1 ? "p99"
                              : "p99.9");
            label(out, t);
            fprintf(out, " with lines lw 2 dt %d", c + 1);
        }
    }
    fprintf(out, "\nunset logscale y\n");
    fprintf(out,
            "set title 'Latency by percentile'\nset xlabel 'percentile'\nset ylabel 'ms'\n"
            "set logscale x\nset xtics ('0%%%%' 1, '90%%%%' 10, '99%%%%' 100, '99.9%%%%' 1000, "
            "'99.99%%%%' 10000, '99.999%%%%' 100000, '99.9999%%%%' 1000000)\n");
    plot_each(out, runs, n, "skip 2 using 4:1", 2);
    fprintf(out, "unset multiplot\n");
}

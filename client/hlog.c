/* hlog - HdrHistogram interval log writing and line parsing (format version 1.2). */
#include "hlog.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void hlog_header(FILE *out, const char *version, double start_epoch_s)
{
    char date[64];
    time_t t = (time_t)start_epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
    fprintf(out, "#[Logged with linepool-client %s]\n", version);
    fprintf(out, "#[Histogram log format version 1.2]\n");
    fprintf(out, "#[StartTime: %.3f (seconds since epoch), %s]\n", start_epoch_s, date);
    fprintf(out, "#[BaseTime: %.3f (seconds since epoch)]\n", start_epoch_s);
    fprintf(out, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                 "\"Interval_Compressed_Histogram\"\n");
}

int hlog_interval(FILE *out, const char *tag, double start, double length, const struct hdr *h)
{
    char *s = hdr_encode(h);
    if (!s)
        return -ENOMEM;
    uint64_t max = 0;
    for (uint32_t i = h->len; i-- > 0;) {
        if (h->counts[i]) {
            max = hdr_value_at(h, i) + hdr_width_at(h, i) - 1;
            break;
        }
    }
    if (tag && *tag)
        fprintf(out, "Tag=%s,", tag);
    fprintf(out, "%.3f,%.3f,%.3f,%s\n", start, length, (double)max / 1e6, s);
    free(s);
    return 0;
}

static int number(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end || !isfinite(*out) || *out < 0 ? -1 : 0;
}

/* "#[StartTime: 1403476110.183 (seconds ..." and "#[BaseTime: ..." */
static void comment(const char *line, size_t len, double *start_time, double *base_time)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {{"#[StartTime: ", 0}, {"#[BaseTime: ", 1}};
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(keys[k].key);
        double *dst = keys[k].off ? base_time : start_time;
        if (!dst || len <= n || memcmp(line, keys[k].key, n) != 0)
            continue;
        const char *sp = memchr(line + n, ' ', len - n);
        double v;
        if (number(line + n, (size_t)((sp ? sp : line + len) - (line + n)), &v) == 0)
            *dst = v;
    }
}

int hlog_parse_line(const char *line, size_t len, struct hlog_line *l, double *start_time,
                    double *base_time, char *err, size_t errlen)
{
    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return 0;
    if (line[0] == '#') {
        comment(line, len, start_time, base_time);
        return 0;
    }
    if (line[0] == '"')
        return 0; /* the legend */
    memset(l, 0, sizeof *l);
    const char *p = line, *end = line + len;
    if (len > 4 && memcmp(line, "Tag=", 4) == 0) {
        const char *comma = memchr(line, ',', len);
        size_t tl = comma ? (size_t)(comma - line - 4) : 0;
        if (!comma || tl == 0 || tl >= sizeof l->tag) {
            snprintf(err, errlen, "a Tag= field without a name or comma");
            return -EINVAL;
        }
        memcpy(l->tag, line + 4, tl);
        p = comma + 1;
    }
    double *fields[3] = {&l->start, &l->length, &l->max};
    for (int f = 0; f < 3; f++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (!comma || number(p, (size_t)(comma - p), fields[f])) {
            snprintf(err, errlen, "expected [Tag=T,]start,length,max,histogram");
            return -EINVAL;
        }
        p = comma + 1;
    }
    if (p == end || memchr(p, ',', (size_t)(end - p))) {
        snprintf(err, errlen, "expected [Tag=T,]start,length,max,histogram");
        return -EINVAL;
    }
    l->b64 = p;
    l->b64_len = (size_t)(end - p);
    return 1;
}

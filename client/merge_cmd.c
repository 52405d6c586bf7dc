/* merge_cmd - `linepool-client merge`: reads the runs, merges them (merge.c) and writes one
 * memtier-schema file atomically; any bad input is one line on stderr and exit 2. */
#include "bench_out.h"
#include "commands.h"
#include "fmt.h"
#include "merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (1024u * 1024 * 1024) /* a 1 GiB result file is already absurd */

/* The whole file, NUL-terminated. NULL after one line on stderr. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "linepool-client: merge: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap || ferror(f))
            break;
        char *grown = cap >= MAX_INPUT ? NULL : realloc(buf, 2 * cap + 1);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        fprintf(stderr, "linepool-client: merge: cannot read %s: %s\n", path,
                bad ? "read error" : "too large or out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* JSON when the first non-blank byte is '{', otherwise an .hlog. */
static int load(struct merge_input *in, char **text, const char *path)
{
    size_t len;
    char err[300];
    if (!(*text = slurp(path, &len)))
        return -1;
    in->name = path;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", (*text)[i]))
        i++;
    if (i < len && (*text)[i] == '{') {
        if (!(in->json = json_parse(*text, len, err, sizeof err))) {
            fprintf(stderr, "linepool-client: merge: %s: %s\n", path, err);
            return -1;
        }
    } else {
        in->hlog = *text;
        in->hlog_len = len;
    }
    if (merge_inspect(in, err, sizeof err)) {
        fprintf(stderr, "linepool-client: merge: %s\n", err);
        return -1;
    }
    return 0;
}

static void summary(const struct merge *m, const struct memtier_run *r, int n)
{
    char a[32], b[32], c[32], d[32], e[32];
    const struct histogram *h = m->totals.whole[CMDSTAT_CORRECTED];
    printf("merged %d runs: %s requests in %.3f s; latency p50 %s p99 %s p99.9 %s max %s\n", n,
           fmt_thousands(a, sizeof a, h->count), (double)(r->finish_ms - r->start_ms) / 1000.0,
           fmt_ns(b, sizeof b, histogram_percentile(h, 50)),
           fmt_ns(c, sizeof c, histogram_percentile(h, 99)),
           fmt_ns(d, sizeof d, histogram_percentile(h, 99.9)), fmt_ns(e, sizeof e, h->max));
    if (!m->relative)
        printf("start times differ by up to %.0f ms (seconds are aligned on the wall clock; "
               "--relative aligns each run's start)\n",
               m->max_start_skew_ms);
    if (m->micro)
        printf("note: some inputs have memtier's µs histograms only: merged in µs, per-second "
               "percentiles null\n");
}

int cmd_merge(const struct client_opts *o)
{
    int n = o->ninputs, status = 2;
    struct merge_input *in = calloc((size_t)n, sizeof *in);
    char **texts = calloc((size_t)n, sizeof *texts);
    struct merge *m = calloc(1, sizeof *m);
    const char *words[MERGE_MAX_TYPES], *names[MERGE_MAX_TYPES];
    char err[300];
    if (!in || !texts || !m) {
        fprintf(stderr, "linepool-client: out of memory\n");
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (load(&in[i], &texts[i], o->inputs[i]))
            goto out;
    if (merge_begin(m, in, (size_t)n, o->relative)) {
        fprintf(stderr, "linepool-client: out of memory\n");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int rc = merge_add(m, &in[i], err, sizeof err);
        if (rc) {
            fprintf(stderr, "linepool-client: merge: %s\n", rc == -ENOMEM ? "out of memory" : err);
            goto out;
        }
    }
    struct memtier_run r;
    if (merge_finish(m, &r, words, names)) {
        fprintf(stderr, "linepool-client: out of memory\n");
        goto out;
    }
    if (bench_out_json(o->out_path, &r))
        goto out;
    summary(m, &r, n);
    status = 0;
out:
    if (m)
        merge_free(m);
    free(m);
    for (int i = 0; in && i < n; i++) {
        json_free(in[i].json);
        free(texts[i]);
    }
    free(in);
    free(texts);
    return status;
}

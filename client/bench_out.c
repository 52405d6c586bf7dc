/* bench_out - memtier JSON, .hgrm and .hlog files, each written atomically. */
#include "bench_out.h"

#include "hgrm.h"
#include "hlog.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LP_VERSION
#define LP_VERSION "dev"
#endif

int bench_out_atomic(const char *path, int (*fn)(FILE *out, const void *ctx), const void *ctx)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = f ? 0 : -errno;
    if (f) {
        rc = fn(f, ctx);
        if (fclose(f) && !rc)
            rc = -errno;
        if (!rc && rename(tmp, path))
            rc = -errno;
        if (rc)
            unlink(tmp);
    }
    if (rc)
        fprintf(stderr, "linepool-client: cannot write %s: %s\n", path, strerror(-rc));
    free(tmp);
    return rc;
}

static int json_fn(FILE *out, const void *ctx)
{
    return memtier_json(out, ctx);
}

int bench_out_json(const char *path, const struct memtier_run *m)
{
    return bench_out_atomic(path, json_fn, m);
}

struct hgrm_ctx {
    const struct histogram *h;
};

static int hgrm_fn(FILE *out, const void *ctx)
{
    const struct histogram *h = ((const struct hgrm_ctx *)ctx)->h;
    struct hdr e;
    if (hdr_from_histogram(&e, h))
        return -ENOMEM;
    hgrm_write(out, &e, histogram_mean(h), 5, 1e6);
    hdr_free(&e);
    return ferror(out) ? -EIO : 0;
}

static int one_hgrm(const char *prefix, const char *type, int k, const struct histogram *h)
{
    size_t n = strlen(prefix) + strlen(type) + 32;
    char *path = malloc(n);
    if (!path)
        return -ENOMEM;
    snprintf(path, n, "%s_%s%s.hgrm", prefix, type, k ? ".uncorrected" : "");
    struct hgrm_ctx c = {.h = h};
    int rc = bench_out_atomic(path, hgrm_fn, &c);
    free(path);
    return rc;
}

static void upper(char *dst, size_t len, const char *word)
{
    size_t i = 0;
    for (; word[i] && i + 1 < len; i++)
        dst[i] = (char)toupper((unsigned char)word[i]);
    dst[i] = '\0';
}

int bench_out_hgrm(const char *prefix, const struct memtier_run *m)
{
    int kinds = m->totals->both ? 2 : 1;
    for (int k = 0; k < kinds; k++) {
        if (one_hgrm(prefix, "FULL_RUN", k, m->totals->whole[k]))
            return -EIO;
        for (unsigned c = 0; c < m->ncmds; c++) {
            char type[64];
            upper(type, sizeof type, m->words[c]);
            if (one_hgrm(prefix, type, k, m->cmds[c].whole[k]))
                return -EIO;
        }
    }
    return 0;
}

static void lower_tag(char *dst, size_t len, const char *word, int k)
{
    size_t i = 0;
    /* a tag may hold no commas, spaces or line breaks */
    for (; word[i] && i + 1 < len; i++)
        dst[i] = strchr(", \t\r\n", word[i]) ? '_' : (char)tolower((unsigned char)word[i]);
    dst[i] = '\0';
    if (k)
        snprintf(dst + i, len - i, ".uncorrected");
}

static int hlog_fn(FILE *out, const void *ctx)
{
    const struct memtier_run *m = ctx;
    double secs = (double)(m->finish_ms - m->start_ms) / 1000.0;
    hlog_header(out, LP_VERSION, (double)m->start_ms / 1000.0);
    struct histogram *h = malloc(sizeof *h);
    if (!h)
        return -ENOMEM;
    int rc = 0, kinds = m->totals->both ? 2 : 1;
    for (size_t s = 0; s < m->nseconds && !rc; s++) {
        double len = secs - (double)s < 1.0 ? secs - (double)s : 1.0;
        for (unsigned c = 0; c < m->ncmds && !rc; c++) {
            for (int k = 0; k < kinds && !rc; k++) {
                char tag[80];
                struct hdr e;
                lower_tag(tag, 64, m->words[c], k);
                cmdstat_second_histogram(&m->cmds[c], s, k, h);
                rc = hdr_from_histogram(&e, h);
                if (!rc)
                    rc = hlog_interval(out, tag, (double)s, len > 0 ? len : 0, &e);
                hdr_free(&e);
            }
        }
    }
    free(h);
    return rc ? rc : ferror(out) ? -EIO : 0;
}

int bench_out_hlog(const char *path, const struct memtier_run *m)
{
    return bench_out_atomic(path, hlog_fn, m);
}

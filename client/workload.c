/* workload - weighted templates, random integers and key distributions for bench. */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int workload_finish(struct workload *w, char *err, size_t errlen)
{
    if (w->key_max < w->key_min) {
        snprintf(err, errlen, "--key-maximum is below --key-minimum");
        return -EINVAL;
    }
    if (w->pattern == KEYS_ZIPF && !(w->zipf_exp > 0 && w->zipf_exp < 5)) {
        snprintf(err, errlen, "--key-zipf-exp must be above 0 and below 5");
        return -EINVAL;
    }
    double span = (double)(w->key_max - w->key_min);
    if (w->key_median <= 0)
        w->key_median = (double)w->key_min + span / 2;
    if (w->key_stddev <= 0)
        w->key_stddev = span / 6 > 1 ? span / 6 : 1;
    w->key_prefix_len = w->key_prefix ? strlen(w->key_prefix) : 0;
    if (!(w->data = malloc(w->data_size ? w->data_size : 1)))
        return -ENOMEM;
    memset(w->data, 'x', w->data_size);
    w->weight_total = 0;
    w->nwords = 0;
    for (unsigned i = 0; i < w->ncmds; i++) {
        const struct template *t = &w->cmds[i];
        unsigned k = 0;
        while (k < w->nwords && strcmp(w->words[k], t->word))
            k++;
        if (k == w->nwords)
            memcpy(w->words[w->nwords++], t->word, sizeof w->words[0]);
        w->stat_of[i] = k;
        w->weight_total += t->weight;
        size_t m = template_max_len(t, w->key_prefix_len, w->data_size);
        if (m > w->max_len)
            w->max_len = m;
    }
    return 0;
}

void workload_free(struct workload *w)
{
    for (unsigned i = 0; i < w->ncmds; i++)
        template_free(&w->cmds[i]);
    free(w->data);
    w->data = NULL;
}

/* splitmix64: small, fast, good enough for load generation. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s) /* (0, 1) */
{
    return ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static uint64_t below(uint64_t *s, uint64_t n) /* [0, n) */
{
    return n ? (uint64_t)(((unsigned __int128)next_u64(s) * n) >> 64) : 0;
}

/* Zipf by rejection-inversion (Hörmann and Derflinger 1996): O(1) per key, any range. */
static double zipf_h(double x, double s)
{
    return fabs(1 - s) < 1e-9 ? log(x) : (pow(x, 1 - s) - 1) / (1 - s);
}

static double zipf_h_inv(double x, double s)
{
    return fabs(1 - s) < 1e-9 ? exp(x) : pow(1 + x * (1 - s), 1 / (1 - s));
}

static uint64_t zipf(struct workload_gen *g, uint64_t n)
{
    double s = g->w->zipf_exp;
    for (;;) {
        double u = g->zipf_hxm + next_unit(&g->rng) * (g->zipf_hx0 - g->zipf_hxm);
        double x = zipf_h_inv(u, s);
        double k = floor(x + 0.5);
        if (k < 1)
            k = 1;
        if (k > (double)n)
            k = (double)n;
        if (k - x <= g->zipf_s || u >= zipf_h(k + 0.5, s) - pow(k, -s))
            return (uint64_t)k - 1; /* rank 1 is the hottest key */
    }
}

void workload_gen_init(struct workload_gen *g, const struct workload *w, uint64_t seed,
                       unsigned from, unsigned n, unsigned conns)
{
    memset(g, 0, sizeof *g);
    g->w = w;
    g->rng = seed * 0x9e3779b97f4a7c15ull + 1;
    unsigned __int128 range = (unsigned __int128)(w->key_max - w->key_min) + 1;
    g->seq_lo = w->key_min + (uint64_t)(range * from / conns);
    g->seq_hi = w->key_min + (uint64_t)(range * (from + n) / conns);
    g->seq_next = g->seq_lo;
    if (w->pattern == KEYS_ZIPF) {
        double s = w->zipf_exp, num = (double)(w->key_max - w->key_min) + 1;
        g->zipf_hxm = zipf_h(num + 0.5, s);
        g->zipf_hx0 = zipf_h(1.5, s) - 1;
        g->zipf_s = 2 - zipf_h_inv(zipf_h(2.5, s) - pow(2, -s), s);
    }
}

uint64_t workload_next_key(struct workload_gen *g)
{
    const struct workload *w = g->w;
    uint64_t span = w->key_max - w->key_min;
    switch (w->pattern) {
    case KEYS_SEQUENTIAL: {
        uint64_t k = g->seq_next;
        g->seq_next = g->seq_next + 1 >= g->seq_hi ? g->seq_lo : g->seq_next + 1;
        return k;
    }
    case KEYS_GAUSSIAN: {
        double r = sqrt(-2 * log(next_unit(&g->rng))) * cos(2 * M_PI * next_unit(&g->rng));
        double k = floor(w->key_median + r * w->key_stddev + 0.5);
        if (k < (double)w->key_min)
            k = (double)w->key_min;
        if (k > (double)w->key_max)
            k = (double)w->key_max;
        return (uint64_t)k;
    }
    case KEYS_ZIPF:
        return w->key_min + zipf(g, span + 1);
    default:
        return w->key_min + (span == UINT64_MAX ? next_u64(&g->rng) : below(&g->rng, span + 1));
    }
}

static size_t put_u64(char *out, uint64_t v, int pad)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, pad ? "%012llu" : "%llu", (unsigned long long)v);
    memcpy(out, tmp, (size_t)n);
    return (size_t)n;
}

static const struct template *choose(struct workload_gen *g, unsigned *index)
{
    const struct workload *w = g->w;
    unsigned i = 0;
    if (w->ncmds > 1) {
        uint64_t pick = below(&g->rng, w->weight_total);
        while (pick >= w->cmds[i].weight)
            pick -= w->cmds[i++].weight;
    }
    *index = i;
    return &w->cmds[i];
}

size_t workload_render(struct workload_gen *g, char *out, unsigned *word)
{
    const struct workload *w = g->w;
    unsigned i;
    const struct template *t = choose(g, &i);
    *word = w->stat_of[i];
    size_t n = 0;
    for (unsigned s = 0; s < t->nsegs; s++) {
        const struct template_seg *seg = &t->segs[s];
        switch (seg->part) {
        case TEMPLATE_LITERAL:
            memcpy(out + n, t->lit + seg->off, seg->len);
            n += seg->len;
            break;
        case TEMPLATE_RAND_INT:
            n += put_u64(out + n, below(&g->rng, w->rand_range), 1);
            break;
        case TEMPLATE_KEY:
            memcpy(out + n, w->key_prefix, w->key_prefix_len);
            n += w->key_prefix_len;
            n += put_u64(out + n, workload_next_key(g), 0);
            break;
        case TEMPLATE_DATA:
            memcpy(out + n, w->data, w->data_size);
            n += w->data_size;
            break;
        }
    }
    if (!t->ends_with_newline)
        out[n++] = '\n';
    return n;
}

/* workload - what bench sends when given --command templates: a weighted choice of template
 * per request, __rand_int__ (redis-benchmark's -r), keys with memtier's patterns (R uniform,
 * S sequential, G gaussian, Z zipf) between --key-minimum and --key-maximum, and __data__.
 * One workload_gen per worker thread (its own random state); the spec is shared read-only.
 * Pure: no I/O.
 */
#ifndef LINEPOOL_CLIENT_WORKLOAD_H
#define LINEPOOL_CLIENT_WORKLOAD_H

#include "template.h"

#include <stddef.h>
#include <stdint.h>

#define WORKLOAD_MAX_COMMANDS 64

enum workload_pattern {
    KEYS_UNIFORM = 'R',
    KEYS_SEQUENTIAL = 'S',
    KEYS_GAUSSIAN = 'G',
    KEYS_ZIPF = 'Z'
};

struct workload {
    struct template cmds[WORKLOAD_MAX_COMMANDS];
    unsigned ncmds;
    unsigned stat_of[WORKLOAD_MAX_COMMANDS]; /* template -> command word index */
    char words[WORKLOAD_MAX_COMMANDS][TEMPLATE_WORD_MAX + 1];
    unsigned nwords;
    uint64_t weight_total;
    uint64_t rand_range; /* -r: __rand_int__ in [0, r); 0 = always 0 */
    const char *key_prefix;
    size_t key_prefix_len;
    uint64_t key_min, key_max;
    char pattern;
    double key_median, key_stddev, zipf_exp;
    char *data; /* data_size bytes of 'x'; owned */
    size_t data_size;
    size_t max_len; /* of any request */
};

/* After the templates and fields are set: words, weights, data, limits. 0 or -EINVAL with
 * err / -ENOMEM. */
int workload_finish(struct workload *w, char *err, size_t errlen);
void workload_free(struct workload *w);

struct workload_gen {
    const struct workload *w;
    uint64_t rng;
    uint64_t seq_next, seq_lo, seq_hi; /* S: this generator's share [lo, hi) of the keys */
    double zipf_hxm, zipf_hx0, zipf_s; /* rejection-inversion constants */
};

/* Seeds g; share [from, from + n) of conns decides its part of a sequential key range. */
void workload_gen_init(struct workload_gen *g, const struct workload *w, uint64_t seed,
                       unsigned from, unsigned n, unsigned conns);

/* Writes one request into out (room for w->max_len bytes). Returns its length; *word gets
 * the command word index for the statistics. */
size_t workload_render(struct workload_gen *g, char *out, unsigned *word);

/* The next key id (exposed for tests of the distributions). */
uint64_t workload_next_key(struct workload_gen *g);

#endif

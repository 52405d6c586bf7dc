/* cmdstat - the statistics of one command word: whole-run latency histograms and one sparse
 * histogram per second, both for latency from the intended send time ("corrected"; service
 * time in closed loop) and from the actual send time ("uncorrected", open loop only), plus
 * per-second bytes. A worker records into its own cmdstat (no lock); the main thread merges
 * them after join, and merge reads them back from files. Pure: no I/O.
 */
#ifndef LINEPOOL_CLIENT_CMDSTAT_H
#define LINEPOOL_CLIENT_CMDSTAT_H

#include "histogram.h"

#include <stddef.h>
#include <stdint.h>

enum { CMDSTAT_CORRECTED = 0, CMDSTAT_UNCORRECTED = 1, CMDSTAT_KINDS = 2 };

struct cmdstat_cell {
    uint32_t index; /* histogram bucket */
    uint64_t count;
};

/* One second, its histograms stored as the non-empty buckets only (a few hundred). */
struct cmdstat_second {
    uint64_t bytes_in, bytes_out;
    uint64_t nohist; /* replies known only by count (merged from memtier's files) */
    uint64_t count[CMDSTAT_KINDS];
    uint64_t min[CMDSTAT_KINDS], max[CMDSTAT_KINDS], sum[CMDSTAT_KINDS];
    uint32_t ncells[CMDSTAT_KINDS];
    struct cmdstat_cell *cells[CMDSTAT_KINDS];
};

struct cmdstat {
    int both; /* record the uncorrected kind too (open loop) */
    struct histogram *whole[CMDSTAT_KINDS];
    struct histogram *cur[CMDSTAT_KINDS]; /* the second being recorded */
    uint64_t cur_sec, cur_in, cur_out;
    struct cmdstat_second *secs; /* [0, nsecs): second s since the start */
    size_t nsecs, capsecs;
    uint64_t bytes_in, bytes_out;
    uint64_t misses; /* replies that found nothing (RESP $-1, memcache END alone) */
    int oom;         /* a second could not be stored: its counts are in whole only */
};

/* Allocates the histograms. both: keep the uncorrected kind. 0 or -ENOMEM; free with
 * cmdstat_free (also after a failed init). Owner: the thread that records. */
int cmdstat_init(struct cmdstat *s, int both);
void cmdstat_free(struct cmdstat *s);

/* Moves the current second into secs and starts second sec (> the current one). */
void cmdstat_roll(struct cmdstat *s, uint64_t sec);

/* Records one reply in second sec (never decreasing between calls). */
static inline void cmdstat_record(struct cmdstat *s, uint64_t sec, uint64_t corrected,
                                  uint64_t uncorrected)
{
    if (sec != s->cur_sec)
        cmdstat_roll(s, sec);
    histogram_record(s->whole[0], corrected);
    histogram_record(s->cur[0], corrected);
    if (s->both) {
        histogram_record(s->whole[1], uncorrected);
        histogram_record(s->cur[1], uncorrected);
    }
}

static inline void cmdstat_bytes(struct cmdstat *s, uint64_t sec, uint64_t in, uint64_t out)
{
    if (sec != s->cur_sec)
        cmdstat_roll(s, sec);
    s->cur_in += in;
    s->cur_out += out;
    s->bytes_in += in;
    s->bytes_out += out;
}

/* Closes the current second, so secs holds everything. */
void cmdstat_finish(struct cmdstat *s);

/* Adds src into dst (both finished): whole histograms, bytes and every second. 0 or -ENOMEM. */
int cmdstat_merge(struct cmdstat *dst, const struct cmdstat *src);

/* Second sec, kind k, as a dense histogram (out reset first; empty past the end). */
void cmdstat_second_histogram(const struct cmdstat *s, size_t sec, int k, struct histogram *out);

/* Adds replies known only by their count, and bytes, to second sec. 0 or -ENOMEM. */
int cmdstat_put_counts(struct cmdstat *s, size_t sec, uint64_t replies, uint64_t bytes_in,
                       uint64_t bytes_out);

/* Stores a dense histogram h as second sec, kind k, with the given bytes (used when reading
 * files back). 0 or -ENOMEM. */
int cmdstat_put_second(struct cmdstat *s, size_t sec, int k, const struct histogram *h);

#endif

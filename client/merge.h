/* merge - adds the runs of several bench processes (memtier-schema JSON files written by
 * --json-out-file, memtier_benchmark's own files, or .hlog interval logs) into one run:
 * histograms added bucket by bucket, per second aligned on absolute seconds (or on each
 * run's start with relative), counts, bytes and errors summed, every percentile recomputed
 * from the merged histograms and never averaged. Pure: the caller reads the files and
 * writes the result (memtier_json).
 *
 * Exact when every input carries linepool's ns histograms; with a memtier file among them
 * the µs histograms (same parameters required) are used for all, and seconds without a
 * histogram get null percentiles.
 */
#ifndef LINEPOOL_CLIENT_MERGE_H
#define LINEPOOL_CLIENT_MERGE_H

#include "cmdstat.h"
#include "json.h"
#include "memtier.h"

#include <stddef.h>

#define MERGE_MAX_TYPES   64
#define MERGE_MAX_SECONDS 864000 /* 10 days of per-second series, from the earliest start */

/* One input, parsed: a JSON tree or .hlog text (borrowed from the caller for the merge). */
struct merge_input {
    const char *name;  /* for messages */
    struct json *json; /* NULL for an .hlog */
    const char *hlog;
    size_t hlog_len;
    uint64_t start_ms; /* filled by merge_inspect */
    int has_ns, has_uncorrected;
};

struct merge {
    int relative;
    int micro; /* µs mode: some input has no ns histograms */
    unsigned ntypes;
    char names[MERGE_MAX_TYPES][64 + 1]; /* "Gets": a word and its "s" */
    char words[MERGE_MAX_TYPES][64];     /* "GET" */
    struct cmdstat cmds[MERGE_MAX_TYPES];
    struct cmdstat totals;
    uint64_t start_ms, finish_ms, base_s;
    uint64_t errors, connects;
    unsigned threads, conns, inputs;
    double rate, max_start_skew_ms;
    int both;
    size_t nseconds;
    const struct json *config; /* the first JSON input's "configuration" */
};

/* Reads what the merge needs to know up front (start time, histogram kinds, well-formed
 * structure). 0, or -EINVAL with one line in err naming the file. */
int merge_inspect(struct merge_input *in, char *err, size_t errlen);

/* Prepares m for inputs (all inspected): the time base, µs or ns mode. 0 or -ENOMEM. */
int merge_begin(struct merge *m, struct merge_input *in, size_t n, int relative);

/* Adds one input. 0, -EINVAL (different commands, incompatible histograms, corrupt
 * histogram or line; reason in err) or -ENOMEM. */
int merge_add(struct merge *m, const struct merge_input *in, char *err, size_t errlen);

/* Totals and the run's figures, then m describes the result as a memtier_run (pointers
 * into m; words and names arrays provided by the caller, MERGE_MAX_TYPES long). */
int merge_finish(struct merge *m, struct memtier_run *out, const char **words, const char **names);

void merge_free(struct merge *m);

#endif

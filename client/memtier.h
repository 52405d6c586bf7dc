/* memtier - bench results in memtier_benchmark's JSON schema (--json-out-file), so scripts
 * written for memtier read them unchanged: "configuration", "run information" (Format
 * version 2), "ALL STATS" with "Runtime", one "<Word>s" object per command word, "Totals" and
 * the distribution arrays; field names, order and units (ms, KB = 1024 bytes) as memtier
 * writes them (shared/notes/load-testing.md §1). linepool's extras sit under new keys only:
 * "Uncorrected Percentile Latencies" (open loop) and "linepool" (exact ns histograms, also
 * one per second, which is what `merge` adds). Pure: writes only to the FILE it is given.
 */
#ifndef LINEPOOL_CLIENT_MEMTIER_H
#define LINEPOOL_CLIENT_MEMTIER_H

#include "cmdstat.h"

#include <stdint.h>
#include <stdio.h>

struct memtier_config {
    const char *server;
    unsigned port;
    const char *protocol;
    unsigned conns, threads, pipeline; /* conns in all threads */
    double test_time;                  /* seconds, 0 = until requests */
    uint64_t requests;
    double rate;       /* total requests/s, 0 = closed loop */
    double warmup;     /* seconds before the measured window */
    const char *ratio; /* "1:0" style, the command weights */
    const char *key_prefix, *key_pattern;
    uint64_t key_minimum, key_maximum, data_size, reconnect_interval;
    uint64_t connection_duration_ms;
};

struct memtier_run {
    struct memtier_config cfg;
    uint64_t start_ms, finish_ms; /* wall clock of the measured window */
    int interrupted;
    size_t nseconds; /* Time-Serie entries to write */
    unsigned ncmds;
    const char *const *words;                /* each command's first word, as the user wrote it */
    const char *const *type_names;           /* when set: the op type names as they are ("Gets") */
    const struct cmdstat *cmds;              /* per command word */
    const struct cmdstat *totals;            /* every command together */
    uint64_t errors;                         /* connection errors (all kinds) */
    uint64_t connects;                       /* successful connects */
    const struct histogram *connect_latency; /* ns; NULL = none recorded */
};

/* memtier's name of an op type: "set" and "SET" give "Sets", "hset" gives "Hsets". */
void memtier_type_name(char *buf, size_t len, const char *word);

/* Writes the whole file. Returns 0, or -ENOMEM (encoding a histogram) with out half written;
 * callers write to a temporary and rename. */
int memtier_json(FILE *out, const struct memtier_run *m);

#endif

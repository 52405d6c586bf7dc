/* bench_out - the result files of a bench run beyond --json/--csv: memtier's JSON
 * (--json-out-file), .hgrm percentile files (--hdr-file-prefix) and the interval log
 * (--hlog). Each file is written to a temporary beside it and renamed, so a failure never
 * leaves half a file. Main thread, after the workers are joined. */
#ifndef LINEPOOL_CLIENT_BENCH_OUT_H
#define LINEPOOL_CLIENT_BENCH_OUT_H

#include "cmdstat.h"
#include "memtier.h"

#include <stdio.h>

/* Writes path through fn(out, ctx) atomically. 0, or -errno after one line on stderr. */
int bench_out_atomic(const char *path, int (*fn)(FILE *out, const void *ctx), const void *ctx);

/* The .hgrm files P_FULL_RUN.hgrm and P_<WORD>.hgrm (+ .uncorrected.hgrm in open loop). */
int bench_out_hgrm(const char *prefix, const struct memtier_run *m);

/* The interval log: one line per second per command word and kind. */
int bench_out_hlog(const char *path, const struct memtier_run *m);

/* memtier's JSON. */
int bench_out_json(const char *path, const struct memtier_run *m);

#endif

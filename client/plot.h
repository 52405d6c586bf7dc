/* plot - the data and the gnuplot script behind `linepool-client plot`: throughput over
 * time, latency percentiles over time and the percentile spectrum (x = 1/(1-p), log scale,
 * labelled 0% 90% 99% ... as HdrHistogram's plotter), several runs overlaid, the open
 * loop's uncorrected spectrum beside the corrected one (wrk2's chart). Pure: writes only
 * to the FILEs it is given.
 */
#ifndef LINEPOOL_CLIENT_PLOT_H
#define LINEPOOL_CLIENT_PLOT_H

#include "json.h"

#include <stdio.h>

/* One run's series: "second req/s p50 p99 p99.9 max" (ms), from Totals' Time-Serie. 0, or
 * -EINVAL with err when the file has no Totals. */
int plot_series(FILE *out, const struct json *run, char *err, size_t errlen);

/* One run's spectrum, k 0 corrected, 1 uncorrected, as .hgrm rows (ms). 0, 1 when the run
 * has no such histogram, -EINVAL with err for a corrupt one, -ENOMEM. */
int plot_spectrum(FILE *out, const struct json *run, int k, char *err, size_t errlen);

struct plot_run {
    const char *label;
    const char *series_path;
    const char *spectrum_path[2]; /* NULL when absent */
};

/* The script drawing runs into out_path; terminal from its extension (.svg or .png). */
void plot_script(FILE *out, const char *out_path, const struct plot_run *runs, int n);

#endif

/* hgrm - HdrHistogram's percentile distribution (.hgrm), in the layout of HdrHistogram
 * Java's outputPercentileDistribution, which plotFiles.html and gnuplot scripts read: a
 * header, rows "Value Percentile TotalCount 1/(1-Percentile)" from a percentile iterator
 * with `ticks` steps per half distance to 100%, a 3-field 100% row and three #[...] footer
 * lines. Pure: writes only to the FILE it is given.
 */
#ifndef LINEPOOL_CLIENT_HGRM_H
#define LINEPOOL_CLIENT_HGRM_H

#include "hdr.h"

#include <stdio.h>

/* Writes h with values divided by scale (1e6: ns to ms), mean as given (exact when known). */
void hgrm_write(FILE *out, const struct hdr *h, double mean, unsigned ticks, double scale);

#endif

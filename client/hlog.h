/* hlog - HdrHistogram interval logs (.hlog), log format version 1.2, as HdrHistogram Java's
 * HistogramLogWriter writes them and its HistogramLogReader reads them: "#[...]" comments,
 * the legend, then "Tag=T,start,length,max,HISTF..." lines (field 2 is the interval's
 * length, not its end). Pure: no I/O beyond the FILE given or the text passed in.
 */
#ifndef LINEPOOL_CLIENT_HLOG_H
#define LINEPOOL_CLIENT_HLOG_H

#include "hdr.h"

#include <stddef.h>
#include <stdio.h>

/* The header: tool line, format version, StartTime and BaseTime, legend. */
void hlog_header(FILE *out, const char *version, double start_epoch_s);

/* One interval: start relative to StartTime (s), length (s), histogram h (values in ns; the
 * max column is in ms, HistogramLogProcessor's default ratio). Returns 0 or -ENOMEM. */
int hlog_interval(FILE *out, const char *tag, double start, double length, const struct hdr *h);

struct hlog_line {
    char tag[64]; /* "" when untagged */
    double start, length, max;
    const char *b64; /* into the line given to hlog_parse_line */
    size_t b64_len;
};

/* Parses one line (without its '\n'). Returns 1 for an interval (fields in l), 0 for a
 * comment, the legend or a blank line, -EINVAL with the reason in err for anything else.
 * StartTime and BaseTime comments set *start_time / *base_time when given. */
int hlog_parse_line(const char *line, size_t len, struct hlog_line *l, double *start_time,
                    double *base_time, char *err, size_t errlen);

#endif

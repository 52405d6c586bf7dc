/* answer - collects a server's answer lines for stream: keeps the last few for printing and
 * picks the figures out of the rate-meter's lines ("Processed 50,000,002 bytes in 2,412
 * chunks." / "Total time: 0.123 seconds."). Pure: no I/O, no allocation. */
#ifndef LINEPOOL_CLIENT_ANSWER_H
#define LINEPOOL_CLIENT_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#define ANSWER_KEEP     16   /* lines kept for printing: the last ones */
#define ANSWER_LINE_MAX 1024 /* longer lines are kept cut to this, and counted whole */

struct answer {
    char lines[ANSWER_KEEP][ANSWER_LINE_MAX + 1]; /* ring, '\r' and '\n' removed */
    uint64_t nlines;                              /* complete lines seen */
    uint64_t bytes;                               /* all bytes seen */
    char cur[ANSWER_LINE_MAX + 1];                /* the line being assembled */
    size_t curlen;
    int has_processed; /* a "Processed B bytes in C chunks." line was seen */
    uint64_t processed_bytes;
    uint64_t processed_chunks;
    int has_time; /* a "Total time: T seconds." line was seen */
    double seconds;
    int has_rate; /* a "Data rate: R bytes/second." line was seen */
    uint64_t rate;
};

/* Zeroes a. */
void answer_init(struct answer *a);

/* Feeds answer bytes, split anywhere. */
void answer_feed(struct answer *a, const char *data, size_t n);

/* End of answer: an unterminated last line counts as a line. */
void answer_finish(struct answer *a);

/* The i-th kept line, oldest first, for i < answer_kept(a). */
const char *answer_line(const struct answer *a, unsigned i);
unsigned answer_kept(const struct answer *a);

/* Parses "50,000,002" or "50000002" (the whole string). Returns 0 or -EINVAL. */
int answer_parse_count(const char *text, size_t len, uint64_t *out);

#endif

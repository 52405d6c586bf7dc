/* hdr - the HdrHistogram V2 compressed interchange encoding ("HISTF..." base64 strings, as
 * written by HdrHistogram Java, HdrHistogram_c and memtier_benchmark) to and from a generic
 * histogram of any lowest value and precision, and from linepool's own histogram.
 *
 * linepool's histogram (7 sub-bits) has exactly the buckets of an HdrHistogram with lowest 1
 * and 2 significant figures, so its ns counts are encoded as they are and decode back exactly.
 * Pure: no I/O; allocates only the counts array and the output string.
 */
#ifndef LINEPOOL_CLIENT_HDR_H
#define LINEPOOL_CLIENT_HDR_H

#include "histogram.h"

#include <stddef.h>
#include <stdint.h>

/* linepool's parameters: 1 ns .. 1 hour (more when a value needs it), 2 significant digits. */
#define HDR_NS_LOWEST  1
#define HDR_NS_HIGHEST 3600000000000LL
#define HDR_NS_SIG     2
/* memtier_benchmark's: hdr_init(10, 600000000, 2) in microseconds (run_stats_types.h). */
#define HDR_US_LOWEST  10
#define HDR_US_HIGHEST 600000000LL
#define HDR_US_SIG     2

/* The largest decompressed payload accepted, so a hostile string cannot make us allocate. */
#define HDR_MAX_PAYLOAD (8u * 1024 * 1024)
#define HDR_MAX_COUNTS  (1u << 22)

struct hdr {
    int64_t lowest;   /* lowest discernible value, >= 1 */
    int64_t highest;  /* highest trackable value, >= 2 * lowest */
    int32_t sig;      /* significant figures, 0..5 */
    double ratio;     /* integer-to-double conversion ratio, carried through */
    uint32_t len;     /* counts array length, derived from the three above */
    uint64_t *counts; /* owned */
    /* derived layout */
    unsigned unit_mag, half_mag;
    uint64_t total;
};

/* Sets up an empty histogram. Returns 0, -EINVAL for parameters HdrHistogram rejects, or
 * -ENOMEM. h owns its counts: hdr_free. */
int hdr_init(struct hdr *h, int64_t lowest, int64_t highest, int32_t sig);
void hdr_free(struct hdr *h);

/* Index of value v (v above highest goes to the last bucket), and the bucket at index i:
 * its lowest value and its width. */
uint32_t hdr_index(const struct hdr *h, uint64_t v);
uint64_t hdr_value_at(const struct hdr *h, uint32_t i);
uint64_t hdr_width_at(const struct hdr *h, uint32_t i);

/* Adds n values of v. */
void hdr_record(struct hdr *h, uint64_t v, uint64_t n);

/* Adds every count of src into dst. -EINVAL (and dst unchanged) unless both have the same
 * lowest value and precision, so the buckets line up and the sum is exact; a src with a
 * longer counts array than dst grows dst. */
int hdr_add(struct hdr *dst, const struct hdr *src);

/* The V2 compressed base64 string of h, NUL-terminated, malloc'd; NULL and errno on failure. */
char *hdr_encode(const struct hdr *h);

/* Decodes one V2 compressed string (len bytes, no NUL needed) into h, which it initialises.
 * Returns 0, or -EINVAL with the reason in err (bad base64, wrong cookie, corrupt zlib
 * stream, counts past the end, ...), or -ENOMEM. On error h holds nothing to free. */
int hdr_decode(struct hdr *h, const char *text, size_t len, char *err, size_t errlen);

/* linepool's ns histogram as an HdrHistogram (lowest 1, 2 digits): identical buckets. */
int hdr_from_histogram(struct hdr *h, const struct histogram *src);

/* The same values in microseconds with memtier's parameters (10, 600000000, 2): each ns
 * bucket recorded at its middle / 1000. Approximate by nature; the ns form is the exact one. */
int hdr_from_histogram_us(struct hdr *h, const struct histogram *src);

/* Into linepool's histogram (reset first), values multiplied by scale (1 for ns, 1000 for
 * µs). With linepool's parameters and scale 1 the buckets are copied as they are; otherwise
 * each bucket is recorded at its middle. min and max are the lowest and highest value the
 * occupied buckets can hold; sum uses bucket middles. */
void hdr_to_histogram(const struct hdr *h, uint64_t scale, struct histogram *dst);

#endif

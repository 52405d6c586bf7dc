/* hdr - HdrHistogram V2 compressed encoding: bucket layout, ZigZag LEB128 counts, zlib, base64.
 * Layout and wire format as in HdrHistogram Java (AbstractHistogram, ZigZagEncoding) and
 * HdrHistogram_c (hdr_histogram_log.c); written from the format, not from their code. */
#include "hdr.h"

#include "errbuf.h"

#include "base64.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define COOKIE_ENCODING   0x1c849303u /* + 0x10: 8-byte word size; low nibble masked off */
#define COOKIE_COMPRESSED 0x1c849304u
#define COOKIE_MASK       0xffffff0fu
#define HEADER_LEN        40
#define VARINT_MAX        9

static unsigned log2_floor(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

/* Buckets (powers of two above the first) needed so that highest has an index. */
static uint32_t buckets_for(int64_t highest, unsigned sub_mag, unsigned unit_mag)
{
    uint64_t untrackable = (uint64_t)1 << (sub_mag + unit_mag);
    uint32_t n = 1;
    while (untrackable <= (uint64_t)highest) {
        if (untrackable > (uint64_t)INT64_MAX / 2)
            return n + 1;
        untrackable <<= 1;
        n++;
    }
    return n;
}

int hdr_init(struct hdr *h, int64_t lowest, int64_t highest, int32_t sig)
{
    memset(h, 0, sizeof *h);
    if (lowest < 1 || sig < 0 || sig > 5 || highest < 2 || highest / 2 < lowest)
        return -EINVAL;
    uint64_t largest = 2;
    for (int i = 0; i < sig; i++)
        largest *= 10;
    unsigned sub_mag = 0;
    while (((uint64_t)1 << sub_mag) < largest)
        sub_mag++;
    h->half_mag = (sub_mag > 1 ? sub_mag : 1) - 1;
    h->unit_mag = log2_floor((uint64_t)lowest);
    if (h->unit_mag + h->half_mag > 61)
        return -EINVAL;
    uint32_t buckets = buckets_for(highest, h->half_mag + 1, h->unit_mag);
    h->len = (buckets + 1) << h->half_mag;
    h->lowest = lowest;
    h->highest = highest;
    h->sig = sig;
    h->ratio = 1.0;
    if (!(h->counts = calloc(h->len, sizeof *h->counts)))
        return -ENOMEM;
    return 0;
}

void hdr_free(struct hdr *h)
{
    free(h->counts);
    h->counts = NULL;
    h->len = 0;
}

uint32_t hdr_index(const struct hdr *h, uint64_t v)
{
    uint64_t mask = (((uint64_t)2 << h->half_mag) - 1) << h->unit_mag;
    int bucket = (int)log2_floor(v | mask) - (int)h->unit_mag - (int)h->half_mag;
    uint64_t sub = v >> (bucket + (int)h->unit_mag);
    return ((uint32_t)bucket << h->half_mag) + (uint32_t)sub;
}

static int bucket_of(const struct hdr *h, uint32_t i, uint64_t *sub)
{
    uint64_t half = (uint64_t)1 << h->half_mag;
    int bucket = (int)(i >> h->half_mag) - 1;
    *sub = (i & (half - 1)) + half;
    if (bucket < 0) {
        *sub -= half;
        bucket = 0;
    }
    return bucket;
}

uint64_t hdr_value_at(const struct hdr *h, uint32_t i)
{
    uint64_t sub;
    int bucket = bucket_of(h, i, &sub);
    return sub << (bucket + (int)h->unit_mag);
}

uint64_t hdr_width_at(const struct hdr *h, uint32_t i)
{
    uint64_t sub;
    int bucket = bucket_of(h, i, &sub);
    return (uint64_t)1 << (bucket + (int)h->unit_mag);
}

void hdr_record(struct hdr *h, uint64_t v, uint64_t n)
{
    if (v > (uint64_t)h->highest)
        v = (uint64_t)h->highest;
    uint32_t i = hdr_index(h, v);
    if (i >= h->len)
        i = h->len - 1;
    h->counts[i] += n;
    h->total += n;
}

int hdr_add(struct hdr *dst, const struct hdr *src)
{
    if (dst->unit_mag != src->unit_mag || dst->half_mag != src->half_mag)
        return -EINVAL;
    if (src->len > dst->len) {
        uint64_t *grown = realloc(dst->counts, src->len * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        memset(grown + dst->len, 0, (src->len - dst->len) * sizeof *grown);
        dst->counts = grown;
        dst->len = src->len;
        dst->highest = src->highest;
    }
    for (uint32_t i = 0; i < src->len; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ZigZag then LEB128; the ninth byte carries 8 bits, so any int64 fits in 9 bytes. */
static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (n < VARINT_MAX - 1 && z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* Reads one varint at *pos (< end). Returns 0, or -1 when it runs past end. */
static int get_varint(const uint8_t *p, size_t *pos, size_t end, int64_t *out)
{
    uint64_t z = 0;
    for (unsigned k = 0; k < VARINT_MAX; k++) {
        if (*pos >= end)
            return -1;
        uint8_t b = p[(*pos)++];
        if (k == VARINT_MAX - 1) {
            z |= (uint64_t)b << 56;
            break;
        }
        z |= (uint64_t)(b & 0x7f) << (7 * k);
        if (!(b & 0x80))
            break;
    }
    *out = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    return 0;
}

/* Counts up to the highest non-zero one; a run of k > 1 zeros as -k. Returns the length. */
static size_t encode_counts(const struct hdr *h, uint8_t *out)
{
    uint32_t limit = h->len;
    while (limit > 0 && h->counts[limit - 1] == 0)
        limit--;
    size_t n = 0;
    for (uint32_t i = 0; i < limit;) {
        uint64_t c = h->counts[i++];
        int64_t zeros = 0;
        if (c == 0) {
            zeros = 1;
            while (i < limit && h->counts[i] == 0) {
                zeros++;
                i++;
            }
        }
        n += put_varint(out + n, zeros > 1 ? -zeros : (int64_t)(c > INT64_MAX ? INT64_MAX : c));
    }
    return n;
}

char *hdr_encode(const struct hdr *h)
{
    size_t cap = HEADER_LEN + (size_t)h->len * VARINT_MAX;
    uLongf zcap = compressBound((uLong)cap);
    uint8_t *raw = malloc(cap), *packed = malloc(8 + zcap);
    char *text = NULL;
    if (!raw || !packed)
        goto out;
    size_t payload = encode_counts(h, raw + HEADER_LEN);
    uint64_t ratio;
    memcpy(&ratio, &h->ratio, sizeof ratio);
    put32(raw, COOKIE_ENCODING | 0x10);
    put32(raw + 4, (uint32_t)payload);
    put32(raw + 8, 0); /* normalizing index offset */
    put32(raw + 12, (uint32_t)h->sig);
    put64(raw + 16, (uint64_t)h->lowest);
    put64(raw + 24, (uint64_t)h->highest);
    put64(raw + 32, ratio);
    if (compress(packed + 8, &zcap, raw, (uLong)(HEADER_LEN + payload)) != Z_OK) {
        errno = ENOMEM;
        goto out;
    }
    put32(packed, COOKIE_COMPRESSED | 0x10);
    put32(packed + 4, (uint32_t)zcap);
    if ((text = malloc(BASE64_ENCODED_SIZE(8 + (size_t)zcap))))
        base64_encode(packed, 8 + (size_t)zcap, text);
out:
    free(raw);
    free(packed);
    return text;
}

/* Inflates up to want bytes of z into out; *got says how many came. 0 when the stream is
 * intact (it may end early), -1 when it is corrupt or cut before its end. */
static int inflate_some(z_stream *z, uint8_t *out, size_t want, size_t *got)
{
    z->next_out = out;
    z->avail_out = (uInt)want;
    int rc = Z_OK;
    while (z->avail_out && rc == Z_OK)
        rc = inflate(z, Z_SYNC_FLUSH);
    *got = want - z->avail_out;
    return rc == Z_OK || rc == Z_STREAM_END ? 0 : -1;
}

/* The header and payload out of the zlib stream; *payload malloc'd (HEADER_LEN + *len). */
static int inflate_all(const uint8_t *zdata, size_t zlen, uint8_t **payload, size_t *len, char *err,
                       size_t errlen)
{
    z_stream z = {.next_in = (Bytef *)zdata, .avail_in = (uInt)zlen};
    if (inflateInit(&z) != Z_OK)
        return -ENOMEM;
    uint8_t head[HEADER_LEN];
    size_t got;
    int rc = 0;
    if (inflate_some(&z, head, HEADER_LEN, &got) || got < HEADER_LEN) {
        rc = errbuf_set(err, errlen, -EINVAL, "corrupt or truncated zlib data");
        goto out;
    }
    if ((get32(head) & COOKIE_MASK) != COOKIE_ENCODING) {
        rc = errbuf_set(err, errlen, -EINVAL, "not a V2 histogram encoding (cookie 0x%08x)",
                        get32(head));
        goto out;
    }
    *len = get32(head + 4);
    if (*len > HDR_MAX_PAYLOAD) {
        rc = errbuf_set(err, errlen, -EINVAL, "payload of %zu bytes is too large", *len);
        goto out;
    }
    if (!(*payload = malloc(HEADER_LEN + *len + 1))) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(*payload, head, HEADER_LEN);
    /* HdrHistogram_c counts the 40 header bytes in the payload length: take what the stream
     * holds, never more than announced */
    if (inflate_some(&z, *payload + HEADER_LEN, *len, len)) {
        free(*payload);
        *payload = NULL;
        rc = errbuf_set(err, errlen, -EINVAL, "corrupt or truncated zlib data");
    }
out:
    inflateEnd(&z);
    return rc;
}

static int fill_counts(struct hdr *h, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    size_t pos = 0;
    uint32_t i = 0;
    while (pos < len) {
        int64_t v;
        if (get_varint(p, &pos, len, &v))
            return errbuf_set(err, errlen, -EINVAL, "truncated count");
        if (v < 0) {
            if (v == INT64_MIN || (uint64_t)-v > h->len - i)
                return errbuf_set(err, errlen, -EINVAL, "zero run past the end of the counts");
            i += (uint32_t)-v;
            continue;
        }
        if (i >= h->len)
            return errbuf_set(err, errlen, -EINVAL, "more counts than the histogram has buckets");
        h->counts[i++] = (uint64_t)v;
        h->total = h->total + (uint64_t)v < h->total ? UINT64_MAX : h->total + (uint64_t)v;
    }
    return 0;
}

static int decode_payload(struct hdr *h, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    if (get32(p + 8) != 0)
        return errbuf_set(err, errlen, -EINVAL, "normalizing index offset %d is not supported",
                          (int)get32(p + 8));
    int64_t lowest = (int64_t)get64(p + 16), highest = (int64_t)get64(p + 24);
    int32_t sig = (int32_t)get32(p + 12);
    int rc = hdr_init(h, lowest, highest, sig);
    if (rc == -EINVAL)
        return errbuf_set(err, errlen, -EINVAL,
                          "invalid parameters (lowest %lld, highest %lld, %d digits)",
                          (long long)lowest, (long long)highest, (int)sig);
    if (rc)
        return rc;
    if (h->len > HDR_MAX_COUNTS) {
        hdr_free(h);
        return errbuf_set(err, errlen, -EINVAL, "%d digits up to %lld need too many buckets",
                          (int)sig, (long long)highest);
    }
    uint64_t ratio = get64(p + 32);
    memcpy(&h->ratio, &ratio, sizeof h->ratio);
    if ((rc = fill_counts(h, p + HEADER_LEN, len, err, errlen)))
        hdr_free(h);
    return rc;
}

int hdr_decode(struct hdr *h, const char *text, size_t len, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    if (len > 4 * (size_t)HDR_MAX_PAYLOAD)
        return errbuf_set(err, errlen, -EINVAL, "histogram string too long");
    uint8_t *bin = malloc(len / 4 * 3 + 3), *payload = NULL;
    if (!bin)
        return -ENOMEM;
    long n = base64_decode(text, len, bin);
    size_t plen = 0;
    int rc;
    if (n < 0)
        rc = errbuf_set(err, errlen, -EINVAL, "not base64");
    else if (n < 8 || (get32(bin) & COOKIE_MASK) != COOKIE_COMPRESSED)
        rc = errbuf_set(err, errlen, -EINVAL,
                        "not a V2 compressed histogram (expected a HISTF... string)");
    else if (get32(bin + 4) > (uint64_t)n - 8)
        rc = errbuf_set(err, errlen, -EINVAL,
                        "truncated: %u compressed bytes announced, %ld present", get32(bin + 4),
                        n - 8);
    else if (!(rc = inflate_all(bin + 8, get32(bin + 4), &payload, &plen, err, errlen)))
        rc = decode_payload(h, payload, plen, err, errlen);
    free(bin);
    free(payload);
    return rc;
}

static int64_t ns_highest(const struct histogram *src)
{
    int64_t want = src->count && src->max > (uint64_t)HDR_NS_HIGHEST
                       ? (int64_t)(src->max > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : src->max)
                       : HDR_NS_HIGHEST;
    return want;
}

int hdr_from_histogram(struct hdr *h, const struct histogram *src)
{
    int rc = hdr_init(h, HDR_NS_LOWEST, ns_highest(src), HDR_NS_SIG);
    if (rc)
        return rc;
    /* the same bucket layout (notes §2g): index for index */
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        if (!src->buckets[i])
            continue;
        uint32_t j = i < h->len ? i : h->len - 1;
        h->counts[j] += src->buckets[i];
        h->total += src->buckets[i];
    }
    return 0;
}

int hdr_from_histogram_us(struct hdr *h, const struct histogram *src)
{
    int rc = hdr_init(h, HDR_US_LOWEST, HDR_US_HIGHEST, HDR_US_SIG);
    if (rc)
        return rc;
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        if (src->buckets[i])
            hdr_record(h, (histogram_bucket_low(i) + histogram_bucket_width(i) / 2) / 1000,
                       src->buckets[i]);
    }
    return 0;
}

static int is_native(const struct hdr *h, uint64_t scale)
{
    return scale == 1 && h->unit_mag == 0 && h->half_mag == HISTOGRAM_SUB_BITS;
}

void hdr_to_histogram(const struct hdr *h, uint64_t scale, struct histogram *dst)
{
    histogram_reset(dst);
    for (uint32_t i = 0; i < h->len; i++) {
        uint64_t n = h->counts[i];
        if (!n)
            continue;
        uint64_t low = hdr_value_at(h, i) * scale, width = hdr_width_at(h, i) * scale;
        unsigned k =
            is_native(h, scale) && i < HISTOGRAM_BUCKETS ? i : histogram_index(low + width / 2);
        dst->buckets[k] += n;
        dst->count += n;
        unsigned __int128 add = (unsigned __int128)(low + width / 2) * n + dst->sum;
        dst->sum = add > UINT64_MAX ? UINT64_MAX : (uint64_t)add;
        if (low < dst->min)
            dst->min = low;
        if (low + width - 1 > dst->max)
            dst->max = low + width - 1;
    }
}

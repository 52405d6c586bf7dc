/* fuzz_hdr - client/hdr.c's V2 decoder on hostile input: no crash, leak or huge allocation;
 * an error line with every refusal; an accepted histogram's total is the sum of its counts,
 * and it encodes to a string that decodes to the same parameters and counts. Byte 0 picks
 * what the rest is: 0 the base64 text itself, 1 the binary before base64 (cookie, length,
 * zlib), 2 the inflated payload (header and counts), which the target compresses, so each
 * layer gets coverage of its own. */
#include "base64.h"
#include "fuzz.h"
#include "hdr.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

static char *as_text(const uint8_t *data, size_t size, int mode)
{
    uint8_t *bin = NULL;
    if (mode == 2) {
        uLongf zl = compressBound((uLong)size);
        bin = malloc(8 + zl);
        FUZZ_CHECK(bin && compress(bin + 8, &zl, data, (uLong)size) == Z_OK);
        uint32_t words[2] = {0x1c849314u, (uint32_t)zl};
        for (int w = 0; w < 2; w++)
            for (int i = 0; i < 4; i++)
                bin[4 * w + i] = (uint8_t)(words[w] >> (24 - 8 * i));
        data = bin;
        size = 8 + zl;
    }
    char *text = malloc(mode ? BASE64_ENCODED_SIZE(size) : size + 1);
    FUZZ_CHECK(text);
    if (mode) {
        base64_encode(data, size, text);
    } else {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    free(bin);
    return text;
}

static void check_accepted(const struct hdr *h)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < h->len; i++)
        sum = sum + h->counts[i] < sum ? UINT64_MAX : sum + h->counts[i];
    FUZZ_CHECK(sum == h->total);
    char *again = hdr_encode(h);
    FUZZ_CHECK(again && strncmp(again, "HISTF", 5) == 0);
    struct hdr back;
    char err[200];
    FUZZ_CHECK(hdr_decode(&back, again, strlen(again), err, sizeof err) == 0);
    FUZZ_CHECK(back.lowest == h->lowest && back.highest == h->highest && back.sig == h->sig);
    FUZZ_CHECK(back.len == h->len);
    for (uint32_t i = 0; i < h->len; i++) {
        /* counts above INT64_MAX cannot be written; the encoder clamps them */
        uint64_t want = h->counts[i] > INT64_MAX ? INT64_MAX : h->counts[i];
        FUZZ_CHECK(back.counts[i] == want);
    }
    hdr_free(&back);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int mode = data[0] % 3;
    char *text = as_text(data + 1, size - 1, mode);
    size_t len = mode ? strlen(text) : size - 1;
    struct hdr h;
    char err[200] = "";
    int rc = hdr_decode(&h, text, len, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc == -EINVAL)
        FUZZ_CHECK(err[0] != '\0' && h.counts == NULL);
    if (rc == 0) {
        check_accepted(&h);
        hdr_free(&h);
    }
    free(text);
    return 0;
}

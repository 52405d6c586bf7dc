/* base64 - RFC 4648 standard alphabet, with padding on output; input padding optional.
 * Pure: no I/O, no allocation. */
#ifndef LINEPOOL_CLIENT_BASE64_H
#define LINEPOOL_CLIENT_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes base64_encode writes for n input bytes, plus one for the NUL. */
#define BASE64_ENCODED_SIZE(n) (((n) + 2) / 3 * 4 + 1)

/* Writes the encoding of src[0..n) and a NUL into out (BASE64_ENCODED_SIZE(n) bytes). */
void base64_encode(const uint8_t *src, size_t n, char *out);

/* Decodes text[0..len) into out (room for len * 3 / 4 bytes). Returns the byte count, or -1
 * on a character outside the alphabet, padding anywhere but the end, or a length that no
 * encoding has. */
long base64_decode(const char *text, size_t len, uint8_t *out);

#endif

/* template - request templates for bench --command: literal text with placeholders
 * (__rand_int__, __key__, __data__) and escapes (\r \n \t \\), parsed once into segments so
 * that rendering a request is a few memcpy calls. Pure: no I/O.
 */
#ifndef LINEPOOL_CLIENT_TEMPLATE_H
#define LINEPOOL_CLIENT_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#define TEMPLATE_MAX_LEN     (1024 * 1024) /* of the template text */
#define TEMPLATE_MAX_SEGS    256
#define TEMPLATE_WORD_MAX    32
#define TEMPLATE_RAND_DIGITS 12 /* redis-benchmark's __rand_int__: 12 digits, zero-padded */

enum template_part { TEMPLATE_LITERAL, TEMPLATE_RAND_INT, TEMPLATE_KEY, TEMPLATE_DATA };

struct template_seg {
    enum template_part part;
    uint32_t off, len; /* TEMPLATE_LITERAL: bytes in lit */
};

struct template
{
    char *lit; /* the literal bytes, escapes resolved; owned */
    size_t litlen;
    struct template_seg segs[TEMPLATE_MAX_SEGS];
    unsigned nsegs;
    unsigned weight;                  /* --command-ratio, default 1 */
    char word[TEMPLATE_WORD_MAX + 1]; /* the first word, upper-cased: "SET" */
    int has_placeholders;
    int ends_with_newline; /* otherwise a '\n' is appended to each request */
};

/* Parses text. Returns 0, or -EINVAL with one line in err (empty template, raw newline,
 * bad escape, unknown placeholder "__foo__", too long), or -ENOMEM. t owns lit:
 * template_free (also after an error). */
int template_parse(struct template *t, const char *text, char *err, size_t errlen);

void template_free(struct template *t);

/* Bytes one request takes at most, given the key prefix length and the data size. */
size_t template_max_len(const struct template *t, size_t key_prefix_len, size_t data_size);

#endif

/* template - parses request templates into literal and placeholder segments. */
#include "template.h"

#include "errbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum template_part part;
} placeholders[] = {
    {"rand_int", TEMPLATE_RAND_INT},
    {"key", TEMPLATE_KEY},
    {"data", TEMPLATE_DATA},
};

#define NAME_MAX_LEN 24

static int add_seg(struct template *t, enum template_part part, size_t off, size_t len)
{
    if (part == TEMPLATE_LITERAL && len == 0)
        return 0;
    if (part == TEMPLATE_LITERAL && t->nsegs && t->segs[t->nsegs - 1].part == TEMPLATE_LITERAL) {
        t->segs[t->nsegs - 1].len += (uint32_t)len; /* literal bytes are contiguous in lit */
        return 0;
    }
    if (t->nsegs == TEMPLATE_MAX_SEGS)
        return -1;
    t->segs[t->nsegs++] = (struct template_seg){part, (uint32_t)off, (uint32_t)len};
    return 0;
}

/* At "__": the length of "__name__" when name looks like a placeholder, else 0. */
static size_t placeholder_at(const char *p, char *name)
{
    size_t n = 0;
    while (n < NAME_MAX_LEN &&
           (islower((unsigned char)p[2 + n]) || isdigit((unsigned char)p[2 + n]) ||
            (p[2 + n] == '_' && p[3 + n] != '_')))
        n++;
    if (n == 0 || p[2 + n] != '_' || p[3 + n] != '_')
        return 0;
    memcpy(name, p + 2, n);
    name[n] = '\0';
    return n + 4;
}

static int escape(char c, char *out)
{
    static const char from[] = "rnt\\", to[] = "\r\n\t\\";
    const char *e = c ? strchr(from, c) : NULL;
    if (!e)
        return -1;
    *out = to[e - from];
    return 0;
}

static void first_word(struct template *t)
{
    size_t n = 0;
    const char *s = t->lit;
    /* the first segment is literal in every sensible template; otherwise no word */
    if (t->nsegs && t->segs[0].part == TEMPLATE_LITERAL)
        while (n < t->segs[0].len && n < TEMPLATE_WORD_MAX && !isspace((unsigned char)s[n]))
            n++;
    for (size_t i = 0; i < n; i++)
        t->word[i] = (char)toupper((unsigned char)s[i]);
    t->word[n] = '\0';
    if (n == 0)
        snprintf(t->word, sizeof t->word, "REQUEST");
}

int template_parse(struct template *t, const char *text, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->weight = 1;
    size_t len = strlen(text);
    if (len == 0)
        return errbuf_set(err, errlen, -EINVAL, "empty template");
    if (len > TEMPLATE_MAX_LEN)
        return errbuf_set(err, errlen, -EINVAL, "template longer than %d bytes", TEMPLATE_MAX_LEN);
    if (!(t->lit = malloc(len + 1)))
        return -ENOMEM;
    for (size_t i = 0; i < len;) {
        char name[NAME_MAX_LEN + 1], c;
        size_t ph = text[i] == '_' && text[i + 1] == '_' ? placeholder_at(text + i, name) : 0;
        if (ph) {
            size_t k = 0;
            while (k < sizeof placeholders / sizeof *placeholders &&
                   strcmp(placeholders[k].name, name))
                k++;
            if (k == sizeof placeholders / sizeof *placeholders)
                return errbuf_set(err, errlen, -EINVAL,
                                  "unknown placeholder __%s__ (known: __rand_int__, "
                                  "__key__, __data__)",
                                  name);
            if (add_seg(t, placeholders[k].part, 0, 0))
                return errbuf_set(err, errlen, -EINVAL, "more than %d parts", TEMPLATE_MAX_SEGS);
            t->has_placeholders = 1;
            i += ph;
            continue;
        }
        if (text[i] == '\n' || text[i] == '\r')
            return errbuf_set(err, errlen, -EINVAL, "a raw line break (write \\r or \\n)");
        if (text[i] == '\\') {
            if (escape(text[i + 1], &c))
                return errbuf_set(err, errlen, -EINVAL, "bad escape \\%c (known: \\r \\n \\t \\\\)",
                                  text[i + 1] ? text[i + 1] : ' ');
            i += 2;
        } else {
            c = text[i++];
        }
        t->lit[t->litlen] = c;
        if (add_seg(t, TEMPLATE_LITERAL, t->litlen, 1))
            return errbuf_set(err, errlen, -EINVAL, "more than %d parts", TEMPLATE_MAX_SEGS);
        t->litlen++;
    }
    const struct template_seg *last = &t->segs[t->nsegs - 1];
    t->ends_with_newline =
        last->part == TEMPLATE_LITERAL && t->lit[last->off + last->len - 1] == '\n';
    first_word(t);
    return 0;
}

void template_free(struct template *t)
{
    free(t->lit);
    t->lit = NULL;
}

size_t template_max_len(const struct template *t, size_t key_prefix_len, size_t data_size)
{
    size_t n = t->ends_with_newline ? 0 : 1;
    for (unsigned i = 0; i < t->nsegs; i++) {
        switch (t->segs[i].part) {
        case TEMPLATE_LITERAL:
            n += t->segs[i].len;
            break;
        case TEMPLATE_RAND_INT:
            n += 20; /* -r up to 2^64: more digits than the 12 of the padding */
            break;
        case TEMPLATE_KEY:
            n += key_prefix_len + 20;
            break;
        case TEMPLATE_DATA:
            n += data_size;
            break;
        }
    }
    return n;
}

/* answer - last lines of a server's answer, and the rate-meter's figures in them. */
#include "answer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void answer_init(struct answer *a)
{
    memset(a, 0, sizeof *a);
}

int answer_parse_count(const char *text, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ',' && digits)
            continue;
        if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(text[i] - '0');
        digits++;
    }
    if (!digits)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Reads one count word at *p (up to the next space) and moves *p past it. */
static int take_count(const char **p, uint64_t *out)
{
    const char *end = strchr(*p, ' ');
    if (!end)
        return -EINVAL;
    int rc = answer_parse_count(*p, (size_t)(end - *p), out);
    *p = end + 1;
    return rc;
}

static void parse_figures(struct answer *a, const char *line)
{
    uint64_t b, c;
    const char *p = line;
    if (strncmp(p, "Processed ", 10) == 0) {
        p += 10;
        if (take_count(&p, &b) == 0 && strncmp(p, "bytes in ", 9) == 0) {
            p += 9;
            if (take_count(&p, &c) == 0 &&
                strncmp(p, "chunk", 5) == 0) { /* "1 chunk", "2 chunks" */
                a->has_processed = 1;
                a->processed_bytes = b;
                a->processed_chunks = c;
            }
        }
        return;
    }
    if (strncmp(p, "Data rate: ", 11) == 0) {
        p += 11;
        if (take_count(&p, &b) == 0 && strncmp(p, "bytes/second", 12) == 0) {
            a->has_rate = 1;
            a->rate = b;
        }
        return;
    }
    if (strncmp(p, "Total time: ", 12) == 0) {
        char *end;
        double s = strtod(p + 12, &end);
        if (end != p + 12 && strncmp(end, " second", 7) == 0 && s >= 0) {
            a->has_time = 1;
            a->seconds = s;
        }
    }
}

static void end_line(struct answer *a)
{
    if (a->curlen && a->cur[a->curlen - 1] == '\r')
        a->curlen--;
    a->cur[a->curlen] = '\0';
    parse_figures(a, a->cur);
    memcpy(a->lines[a->nlines % ANSWER_KEEP], a->cur, a->curlen + 1);
    a->nlines++;
    a->curlen = 0;
}

static void append(struct answer *a, const char *data, size_t n)
{
    size_t room = ANSWER_LINE_MAX - a->curlen;
    if (n > room)
        n = room;
    memcpy(a->cur + a->curlen, data, n);
    a->curlen += n;
}

void answer_feed(struct answer *a, const char *data, size_t n)
{
    a->bytes += n;
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        append(a, data, take);
        if (!nl)
            return;
        end_line(a);
        data += take + 1;
        n -= take + 1;
    }
}

void answer_finish(struct answer *a)
{
    if (a->curlen)
        end_line(a);
}

unsigned answer_kept(const struct answer *a)
{
    return a->nlines < ANSWER_KEEP ? (unsigned)a->nlines : ANSWER_KEEP;
}

const char *answer_line(const struct answer *a, unsigned i)
{
    uint64_t first = a->nlines - answer_kept(a);
    return a->lines[(first + i) % ANSWER_KEEP];
}

/* fuzz_framer - a differential oracle for server/framer.c: the input's stream, cut into
 * arbitrary chunks, must come out as exactly its '\n'-split, under any max_line and with the
 * callback stopping at any message. Input: [max_line][stop][ncuts][ncuts chunk lengths]
 * [stream...]; max_line 255 = no limit, stop >= 128 = never stop. */
#include "framer.h"
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#define STOP 7 /* what the callback returns to stop framing */

struct line {
    size_t start, len;
};

struct oracle {
    const uint8_t *stream;
    struct line *lines; /* the '\n'-split; the last one is the unterminated tail, maybe "" */
    size_t nlines;
    size_t next;    /* messages delivered so far */
    size_t stop_at; /* the message whose callback returns STOP; SIZE_MAX = none */
    int finishing;  /* inside framer_finish: only the tail may come now */
};

/* The expected end of framing: the push that fails, at which stream offset, with what. */
struct event {
    size_t pos;       /* the event happens in the push whose chunk holds this offset */
    int rc;           /* -EMSGSIZE or STOP */
    size_t delivered; /* messages delivered by then */
};

static int check_message(void *ctx, const char *msg, size_t len)
{
    struct oracle *o = ctx;
    FUZZ_CHECK(o->next < o->nlines);
    FUZZ_CHECK(o->finishing == (o->next == o->nlines - 1));
    const struct line *l = &o->lines[o->next];
    FUZZ_CHECK(len == l->len);
    FUZZ_CHECK(memcmp(msg, o->stream + l->start, len) == 0);
    return o->next++ == o->stop_at ? STOP : 0;
}

static size_t split_lines(const uint8_t *s, size_t n, struct line *lines)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            lines[k++] = (struct line){start, i - start};
            start = i + 1;
        }
    }
    lines[k++] = (struct line){start, n - start};
    return k;
}

/* The first thing that must stop the pushes: an oversize line (known at its max_line+1th
 * byte) or the STOP message (at its '\n'), whichever comes first. pos = SIZE_MAX: none. */
static struct event first_event(const struct oracle *o, size_t max_line)
{
    for (size_t i = 0; i < o->nlines; i++) {
        if (o->lines[i].len > max_line)
            return (struct event){o->lines[i].start + max_line, -EMSGSIZE, i};
        if (i == o->stop_at && i < o->nlines - 1)
            return (struct event){o->lines[i].start + o->lines[i].len, STOP, i + 1};
    }
    return (struct event){SIZE_MAX, 0, 0};
}

/* Pushes one chunk from a buffer of exactly its size, so an over-read trips ASan. */
static int push_chunk(struct framer *f, const uint8_t *p, size_t n, size_t max_line,
                      struct oracle *o)
{
    char *chunk = malloc(n ? n : 1);
    FUZZ_CHECK(chunk);
    memcpy(chunk, p, n);
    int rc = framer_push(f, chunk, n, max_line, check_message, o);
    free(chunk);
    return rc;
}

/* Feeds the chunks; returns 1 when an expected event ended the stream early. */
static int feed(struct framer *f, struct oracle *o, const uint8_t *cuts, size_t ncuts, size_t n,
                size_t max_line)
{
    struct event ev = first_event(o, max_line);
    size_t off = 0, done = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t len = i < ncuts && cuts[i] < n - off ? cuts[i] : n - off;
        size_t end = off + len;
        int rc = push_chunk(f, o->stream + off, len, max_line, o);
        if (ev.pos < end) {
            FUZZ_CHECK(rc == ev.rc);
            FUZZ_CHECK(o->next == ev.delivered);
            return 1;
        }
        FUZZ_CHECK(rc == 0);
        while (done < o->nlines - 1 && o->lines[done].start + o->lines[done].len < end)
            done++;
        FUZZ_CHECK(o->next == done);
        FUZZ_CHECK(framer_pending(f) == end - o->lines[done].start);
        FUZZ_CHECK(framer_pending(f) <= max_line);
        off = end;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t max_line = data[0] == 0xff ? SIZE_MAX : data[0];
    size_t ncuts = data[2] < size - 3 ? data[2] : size - 3;
    const uint8_t *cuts = data + 3;
    struct oracle o = {.stream = cuts + ncuts, .stop_at = data[1] < 0x80 ? data[1] : SIZE_MAX};
    size_t n = size - 3 - ncuts;
    o.lines = malloc((n + 1) * sizeof *o.lines);
    FUZZ_CHECK(o.lines);
    o.nlines = split_lines(o.stream, n, o.lines);

    struct framer f = {0};
    if (!feed(&f, &o, cuts, ncuts, n, max_line)) {
        const struct line *tail = &o.lines[o.nlines - 1];
        o.finishing = 1;
        int rc = framer_finish(&f, check_message, &o);
        FUZZ_CHECK(o.next == (tail->len ? o.nlines : o.nlines - 1));
        FUZZ_CHECK(rc == (tail->len && o.stop_at == o.nlines - 1 ? STOP : 0));
    }
    framer_reset(&f); /* what a connection does after an error; a no-op after finish */
    FUZZ_CHECK(framer_pending(&f) == 0 && f.carry == NULL);
    free(o.lines);
    return 0;
}

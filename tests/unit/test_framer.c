/* Unit tests of the framer: every split point of multi-message inputs, oversize lines, NUL
 * bytes, CRLF, unterminated tails. Inputs sit right before a PROT_NONE page, so any read past
 * the end crashes the test instead of passing by luck. */
#include "cunit_main.h"
#include "framer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_MSGS 64

struct sink {
    size_t n;
    size_t len[MAX_MSGS];
    char data[MAX_MSGS][256];
    size_t stop_after; /* return non-zero after this many messages; 0 = never */
};

static int collect(void *ctx, const char *msg, size_t len)
{
    struct sink *s = ctx;
    CU_ASSERT_FATAL(s->n < MAX_MSGS);
    CU_ASSERT_FATAL(len < sizeof s->data[0]);
    memcpy(s->data[s->n], msg, len);
    s->len[s->n++] = len;
    return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

/* A copy of bytes ending exactly at a PROT_NONE page. */
static char *guarded(const char *bytes, size_t n, void **map, size_t *maplen)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t body = ((n + (size_t)page - 1) / (size_t)page) * (size_t)page;
    *maplen = body + (size_t)page;
    char *m = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(m != MAP_FAILED);
    mprotect(m + body, (size_t)page, PROT_NONE);
    *map = m;
    char *p = m + body - n;
    memcpy(p, bytes, n);
    return p;
}

/* Pushes `in` cut at every pair of split points (three pieces) and checks the messages. */
static void check_all_splits(const char *in, size_t n, const char *const *want, size_t nwant)
{
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            struct framer f = {0};
            struct sink s = {0};
            size_t cuts[4] = {0, a, b, n};
            for (int k = 0; k < 3; k++) {
                void *map;
                size_t maplen;
                size_t len = cuts[k + 1] - cuts[k];
                char *piece = guarded(in + cuts[k], len, &map, &maplen);
                CU_ASSERT_EQUAL(framer_push(&f, piece, len, 1024, collect, &s), 0);
                munmap(map, maplen);
            }
            CU_ASSERT_EQUAL_FATAL(s.n, nwant);
            for (size_t i = 0; i < nwant; i++) {
                CU_ASSERT_EQUAL(s.len[i], strlen(want[i]));
                CU_ASSERT(memcmp(s.data[i], want[i], s.len[i]) == 0);
            }
            framer_reset(&f);
        }
    }
}

static void messages_at_every_split_point(void)
{
    const char in[] = "alpha\nb\n\nlonger message here\nz\n";
    const char *want[] = {"alpha", "b", "", "longer message here", "z"};
    check_all_splits(in, sizeof in - 1, want, 5);
}

static void crlf_is_kept_at_every_split_point(void)
{
    const char in[] = "PING\r\nSET a 1\r\n\r\n";
    const char *want[] = {"PING\r", "SET a 1\r", "\r"};
    check_all_splits(in, sizeof in - 1, want, 3);
}

static void nul_bytes_are_data(void)
{
    const char in[] = "a\0b\n\0\n";
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, in, sizeof in - 1, 1024, collect, &s), 0);
    CU_ASSERT_EQUAL_FATAL(s.n, 2);
    CU_ASSERT_EQUAL(s.len[0], 3);
    CU_ASSERT(memcmp(s.data[0], "a\0b", 3) == 0);
    CU_ASSERT_EQUAL(s.len[1], 1);
    CU_ASSERT_EQUAL(s.data[1][0], '\0');
}

static void unterminated_tail_delivered_at_finish(void)
{
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, "Hello, ", 7, 1024, collect, &s), 0);
    CU_ASSERT_EQUAL(framer_push(&f, "World!", 6, 1024, collect, &s), 0);
    CU_ASSERT_EQUAL(s.n, 0);
    CU_ASSERT_EQUAL(framer_pending(&f), 13);
    CU_ASSERT_EQUAL(framer_finish(&f, collect, &s), 0);
    CU_ASSERT_EQUAL_FATAL(s.n, 1);
    CU_ASSERT_EQUAL(s.len[0], 13);
    CU_ASSERT(memcmp(s.data[0], "Hello, World!", 13) == 0);
    CU_ASSERT_EQUAL(framer_pending(&f), 0);
    CU_ASSERT_PTR_NULL(f.carry);
}

static void finish_without_tail_delivers_nothing(void)
{
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, "a\n", 2, 1024, collect, &s), 0);
    CU_ASSERT_EQUAL(framer_finish(&f, collect, &s), 0);
    CU_ASSERT_EQUAL(s.n, 1);
}

static void line_of_exactly_max_is_accepted(void)
{
    char in[11];
    memset(in, 'x', 10);
    in[10] = '\n';
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, in, 5, 10, collect, &s), 0);
    CU_ASSERT_EQUAL(framer_push(&f, in + 5, 6, 10, collect, &s), 0);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT_EQUAL(s.len[0], 10);
    framer_reset(&f);
}

static void oversize_in_one_push_stops_after_earlier_messages(void)
{
    const char in[] = "ok\n0123456789AB\nnever\n";
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, in, sizeof in - 1, 10, collect, &s), -EMSGSIZE);
    CU_ASSERT_EQUAL_FATAL(s.n, 1);
    CU_ASSERT_EQUAL(s.len[0], 2);
    framer_reset(&f);
}

static void oversize_detected_before_newline_arrives(void)
{
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, "0123456", 7, 10, collect, &s), 0);
    /* 7 + 4 = 11 bytes and still no newline: known too long now, not when '\n' comes */
    CU_ASSERT_EQUAL(framer_push(&f, "7890", 4, 10, collect, &s), -EMSGSIZE);
    CU_ASSERT_EQUAL(s.n, 0);
    CU_ASSERT(framer_pending(&f) <= 10);
    framer_reset(&f);
}

static void oversize_tail_in_one_push(void)
{
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, "a\n0123456789A", 13, 10, collect, &s), -EMSGSIZE);
    CU_ASSERT_EQUAL(s.n, 1);
    framer_reset(&f);
}

static void oversize_across_carry_and_newline(void)
{
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, "012345", 6, 10, collect, &s), 0);
    CU_ASSERT_EQUAL(framer_push(&f, "6789A\nb\n", 8, 10, collect, &s), -EMSGSIZE);
    CU_ASSERT_EQUAL(s.n, 0);
    framer_reset(&f);
}

static void callback_result_stops_framing(void)
{
    struct framer f = {0};
    struct sink s = {.stop_after = 2};
    CU_ASSERT_EQUAL(framer_push(&f, "a\nb\nc\nd", 7, 10, collect, &s), 7);
    CU_ASSERT_EQUAL(s.n, 2);
    framer_reset(&f);
}

/* Counts every delivery and checks each is the whole line, byte for byte. */
struct big_sink {
    size_t calls, len, wrong;
};

static int big_counter(void *ctx, const char *msg, size_t len)
{
    struct big_sink *seen = ctx;
    seen->calls++;
    seen->len = len;
    for (size_t i = 0; i < len; i++)
        seen->wrong += msg[i] != 'X';
    return 0;
}

static void huge_line_reassembled_from_many_pushes(void)
{
    size_t n = 300000 - 1;
    char *big = malloc(n + 1);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'X', n);
    big[n] = '\n';
    struct framer f = {0};
    struct big_sink seen = {0};
    for (size_t off = 0; off < n + 1; off += 65535) {
        size_t len = n + 1 - off < 65535 ? n + 1 - off : 65535;
        CU_ASSERT_EQUAL(framer_push(&f, big + off, len, 1 << 20, big_counter, &seen), 0);
    }
    CU_ASSERT_EQUAL(seen.calls, 1); /* exactly one delivery: a duplicate would be a second */
    CU_ASSERT_EQUAL(seen.len, n);
    CU_ASSERT_EQUAL(seen.wrong, 0);
    CU_ASSERT_EQUAL(framer_pending(&f), 0);
    CU_ASSERT_PTR_NULL(f.carry); /* the 300 KB carry was freed */
    CU_ASSERT_EQUAL(framer_finish(&f, big_counter, &seen), 0);
    CU_ASSERT_EQUAL(seen.calls, 1); /* and nothing is left to deliver at the end */
    free(big);
}

static void empty_push_is_harmless(void)
{
    struct framer f = {0};
    struct sink s = {0};
    CU_ASSERT_EQUAL(framer_push(&f, "", 0, 10, collect, &s), 0);
    CU_ASSERT_EQUAL(s.n, 0);
    CU_ASSERT_EQUAL(framer_pending(&f), 0);
}

static CU_TestInfo framer_tests[] = {
    {"messages_at_every_split_point", messages_at_every_split_point},
    {"crlf_is_kept_at_every_split_point", crlf_is_kept_at_every_split_point},
    {"nul_bytes_are_data", nul_bytes_are_data},
    {"unterminated_tail_delivered_at_finish", unterminated_tail_delivered_at_finish},
    {"finish_without_tail_delivers_nothing", finish_without_tail_delivers_nothing},
    {"line_of_exactly_max_is_accepted", line_of_exactly_max_is_accepted},
    {"oversize_in_one_push_stops_after_earlier_messages",
     oversize_in_one_push_stops_after_earlier_messages},
    {"oversize_detected_before_newline_arrives", oversize_detected_before_newline_arrives},
    {"oversize_tail_in_one_push", oversize_tail_in_one_push},
    {"oversize_across_carry_and_newline", oversize_across_carry_and_newline},
    {"callback_result_stops_framing", callback_result_stops_framing},
    {"huge_line_reassembled_from_many_pushes", huge_line_reassembled_from_many_pushes},
    {"empty_push_is_harmless", empty_push_is_harmless},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "framer", .pTests = framer_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

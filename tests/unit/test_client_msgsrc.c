/* Unit tests of the client's message source: whatever the write sizes, the bytes are exactly
 * COUNT messages of SIZE bytes then the tail, for small and for huge messages, and a peek
 * never exceeds the fixed buffer. */
#include "cunit_main.h"
#include "msgsrc.h"

#include <stdlib.h>
#include <string.h>

/* Drains s taking at most `step` bytes per peek (0 = all offered) and checks every byte. */
static void check_stream(uint64_t count, uint64_t size, const char *tail, size_t step)
{
    struct msgsrc s;
    CU_ASSERT_FATAL(msgsrc_init(&s, count, size, tail, strlen(tail)) == 0);
    CU_ASSERT_EQUAL(msgsrc_total(&s), count * size + strlen(tail));
    uint64_t pos = 0, bad = 0, peeks = 0;
    const char *p;
    size_t n;
    while ((n = msgsrc_peek(&s, &p)) > 0) {
        CU_ASSERT(n <= MSGSRC_BUF + 1);
        if (step && n > step)
            n = step;
        for (size_t i = 0; i < n; i++, pos++) {
            char want = pos >= count * size      ? tail[pos - count * size]
                        : pos % size == size - 1 ? '\n'
                                                 : 'X';
            bad += p[i] != want;
        }
        msgsrc_advance(&s, n);
        peeks++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pos, msgsrc_total(&s));
    msgsrc_free(&s);
}

static void small_messages_any_write_size(void)
{
    static const size_t steps[] = {0, 1, 7, 49, 50, 51, 4096, 100003};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        check_stream(20000, 50, "Y\n", steps[i]);
        check_stream(3, 1, "Y\n", steps[i]); /* messages that are only '\n' */
        check_stream(1000, 1024, "", steps[i]);
    }
}

/* Messages bigger than half the buffer are assembled from runs of X. */
static void big_messages_any_write_size(void)
{
    static const size_t steps[] = {0, 1000, 65536, MSGSRC_BUF - 1, 333333};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        check_stream(1, MSGSRC_BUF / 2 + 1, "", steps[i]);
        check_stream(2, MSGSRC_BUF, "Y\n", steps[i]);
        check_stream(1, MSGSRC_BUF + 1, "", steps[i]);
        check_stream(1, 3 * MSGSRC_BUF + 17, "tail", steps[i]);
    }
}

/* A many-GB message needs no more memory than the buffer: checked by peeking its end. */
static void huge_message_is_bounded(void)
{
    struct msgsrc s;
    uint64_t size = 5ull << 30;
    CU_ASSERT_FATAL(msgsrc_init(&s, 1, size, "", 0) == 0);
    CU_ASSERT(s.patlen <= MSGSRC_BUF + 1);
    const char *p;
    CU_ASSERT_EQUAL(msgsrc_peek(&s, &p), MSGSRC_BUF);
    msgsrc_advance(&s, size - 10);
    size_t n = msgsrc_peek(&s, &p);
    CU_ASSERT_EQUAL(n, 10);
    CU_ASSERT_EQUAL(memcmp(p, "XXXXXXXXX\n", 10), 0);
    msgsrc_advance(&s, n);
    CU_ASSERT_EQUAL(msgsrc_peek(&s, &p), 0);
    msgsrc_free(&s);
}

/* Many messages per peek: the point of the fixed buffer for stream. */
static void one_peek_carries_thousands_of_messages(void)
{
    struct msgsrc s;
    CU_ASSERT_FATAL(msgsrc_init(&s, 1000000, 50, "Y\n", 2) == 0);
    const char *p;
    CU_ASSERT(msgsrc_peek(&s, &p) >= 5000 * 50);
    msgsrc_free(&s);
}

static void tail_only_and_empty(void)
{
    check_stream(0, 50, "Hello, World!\n", 0);
    check_stream(0, 50, "Hello, World!\n", 3);
    struct msgsrc s;
    CU_ASSERT_FATAL(msgsrc_init(&s, 0, 0, "", 0) == 0);
    const char *p;
    CU_ASSERT_EQUAL(msgsrc_peek(&s, &p), 0);
    msgsrc_free(&s);
    msgsrc_free(&s); /* twice is harmless */
}

static CU_TestInfo msgsrc_tests[] = {
    {"small_messages_any_write_size", small_messages_any_write_size},
    {"big_messages_any_write_size", big_messages_any_write_size},
    {"huge_message_is_bounded", huge_message_is_bounded},
    {"one_peek_carries_thousands_of_messages", one_peek_carries_thousands_of_messages},
    {"tail_only_and_empty", tail_only_and_empty},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "client_msgsrc", .pTests = msgsrc_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

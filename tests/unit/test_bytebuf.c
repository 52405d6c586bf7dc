/* Unit tests of bytebuf: the buffer exists only while it holds bytes (or is small enough to
 * keep), appends keep the bytes in order across growth, and consuming frees by the rule. */
#include "bytebuf.h"
#include "cunit_main.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static void starts_as_null_and_reads_as_empty(void)
{
    struct bytebuf *b = NULL;
    CU_ASSERT_EQUAL(bytebuf_pending(b), 0);
    bytebuf_consume(&b, 0, 0); /* harmless on NULL */
    CU_ASSERT_PTR_NULL(b);
    bytebuf_free(&b);
    CU_ASSERT_PTR_NULL(b);
}

static void appends_keep_order_across_growth(void)
{
    struct bytebuf *b = NULL;
    char want[5000];
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (char)('a' + i % 26);
        CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, &want[i], 1, 16), 0);
    }
    CU_ASSERT_EQUAL(bytebuf_pending(b), sizeof want);
    CU_ASSERT(b->cap >= sizeof want);
    CU_ASSERT_EQUAL(memcmp(bytebuf_data(b), want, sizeof want), 0);
    bytebuf_free(&b);
    CU_ASSERT_PTR_NULL(b);
}

static void first_room_is_first_cap(void)
{
    struct bytebuf *b = NULL;
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, "xy", 2, 512), 0);
    CU_ASSERT_EQUAL(b->cap, 512);
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, "z", 1, 512), 0);
    CU_ASSERT_EQUAL(b->cap, 512); /* room left: no regrowth */
    CU_ASSERT_EQUAL(memcmp(bytebuf_data(b), "xyz", 3), 0);
    bytebuf_free(&b);
}

static void partial_consume_moves_the_start(void)
{
    struct bytebuf *b = NULL;
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, "hello world", 11, 0), 0);
    bytebuf_consume(&b, 6, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b); /* bytes left: never freed, whatever keep_cap says */
    CU_ASSERT_EQUAL(bytebuf_pending(b), 5);
    CU_ASSERT_EQUAL(memcmp(bytebuf_data(b), "world", 5), 0);
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, "!", 1, 0), 0);
    CU_ASSERT_EQUAL(memcmp(bytebuf_data(b), "world!", 6), 0);
    bytebuf_free(&b);
}

static void drained_small_buffer_is_kept_empty(void)
{
    struct bytebuf *b = NULL;
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, "abc", 3, 64), 0);
    struct bytebuf *kept = b;
    bytebuf_consume(&b, 3, 4096);
    CU_ASSERT_PTR_EQUAL(b, kept);
    CU_ASSERT_EQUAL(bytebuf_pending(b), 0);
    CU_ASSERT_EQUAL(b->off, 0); /* reused from its start */
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, "d", 1, 64), 0);
    CU_ASSERT_PTR_EQUAL(b, kept);
    CU_ASSERT_EQUAL(*bytebuf_data(b), 'd');
    bytebuf_free(&b);
}

static void drained_large_buffer_is_freed(void)
{
    struct bytebuf *b = NULL;
    static char big[10000];
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, big, sizeof big, 64), 0);
    bytebuf_consume(&b, 4000, 4096);
    CU_ASSERT_PTR_NOT_NULL(b);
    bytebuf_consume(&b, 6000, 4096);
    CU_ASSERT_PTR_NULL(b);
}

static void absurd_size_is_refused_unchanged(void)
{
    struct bytebuf *b = NULL;
    CU_ASSERT_EQUAL_FATAL(bytebuf_append(&b, "ab", 2, 0), 0);
    struct bytebuf *before = b;
    CU_ASSERT_EQUAL(bytebuf_append(&b, "x", SIZE_MAX - 1, 0), -ENOMEM);
    CU_ASSERT_PTR_EQUAL(b, before);
    CU_ASSERT_EQUAL(bytebuf_pending(b), 2);
    bytebuf_free(&b);
}

static CU_TestInfo bytebuf_tests[] = {
    {"starts_as_null_and_reads_as_empty", starts_as_null_and_reads_as_empty},
    {"appends_keep_order_across_growth", appends_keep_order_across_growth},
    {"first_room_is_first_cap", first_room_is_first_cap},
    {"partial_consume_moves_the_start", partial_consume_moves_the_start},
    {"drained_small_buffer_is_kept_empty", drained_small_buffer_is_kept_empty},
    {"drained_large_buffer_is_freed", drained_large_buffer_is_freed},
    {"absurd_size_is_refused_unchanged", absurd_size_is_refused_unchanged},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "bytebuf", .pTests = bytebuf_tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

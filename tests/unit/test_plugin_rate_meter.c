/* test_plugin_rate_meter - the rate-meter plugin through the fake host, with a fake clock:
 * the tutorial's three programs, figures formatting, Y handling and restart, show=N, progress
 * lines, argument errors. */
#include "cunit_main.h"
#include "fake_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct lp_plugin lp_plugin;

#define T0 5000000000ull

static char err[256];
static void *st;
static struct fake_conn conn;

static int load(const char *args)
{
    fake_log_clear();
    fake_set_now(T0);
    return fake_load(&lp_plugin, args, &st, err, sizeof err);
}

static void finish(void)
{
    fake_close(&conn);
    fake_conn_free(&conn);
    lp_plugin.unload(st);
}

/* Feeds data as reads of `chunk` bytes, framing messages across reads like the host; the
 * clock jumps to T0 + last_ns just before the last read. Returns messages delivered. */
static size_t stream(const char *data, size_t len, size_t chunk, uint64_t last_ns)
{
    size_t start = 0, n = 0;
    for (size_t a = 0, b; a < len; a = b) {
        b = a + chunk < len ? a + chunk : len;
        if (b == len)
            fake_set_now(T0 + last_ns);
        lp_plugin.read(st, (struct lp_conn *)&conn, conn.state, b - a);
        for (const char *p = data + a, *nl; (nl = memchr(p, '\n', (size_t)(data + b - p)));
             p = nl + 1, n++) {
            size_t mlen = (size_t)(nl - data) - start; /* only its Y is rate-meter's own */
            enum lp_verdict want = mlen == 1 && data[start] == 'Y' ? LP_NEXT : LP_NOT_MINE;
            CU_ASSERT_EQUAL(fake_message(&conn, data + start, mlen), want);
            start = (size_t)(nl - data) + 1;
        }
    }
    return n;
}

static void tutorial_stream_of_a_million_then_Y(void)
{
    size_t len = 1000000 * 50 + 2;
    char *data = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    memset(data, 'X', len);
    for (size_t i = 49; i < len; i += 50)
        data[i] = '\n';
    memcpy(data + len - 2, "Y\n", 2);
    CU_ASSERT_EQUAL_FATAL(load("interval=0"), 0);
    fake_open(&conn, &lp_plugin, st, 4, 50696);
    CU_ASSERT_EQUAL(stream(data, len, 65536, 123000000), 1000001);
    CU_ASSERT_STRING_EQUAL(conn.out, "Processed 50,000,002 bytes in 763 chunks.\n"
                                     "Total time: 0.123 seconds.\n"
                                     "Data rate: 406,504,081 bytes/second.\n"
                                     "Message rate: 8,130,089 messages/second.\n");
    CU_ASSERT_PTR_NOT_NULL(fake_log_find(
        "INFO rate-meter: conn 4 127.0.0.1:50696: Processed 50,000,002 bytes in 763 chunks. "
        "Total time: 0.123 seconds. Data rate: 406,504,081 bytes/second. Message rate: "
        "8,130,089 messages/second."));
    fake_clear(&conn);
    finish();
    CU_ASSERT_EQUAL(conn.outlen, 0); /* nothing more at close: the stream was reported */
    free(data);
}

static void hello_world_without_newline_reported_at_close(void)
{
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 1, 50696);
    lp_plugin.read(st, (struct lp_conn *)&conn, conn.state, 13);
    fake_message(&conn, "Hello, World!", 13); /* the host delivers the tail at EOF */
    fake_advance(1000000);
    fake_close(&conn);
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO rate-meter: Data from 127.0.0.1:50696 \"Hello, World!\""));
    CU_ASSERT_STRING_EQUAL(conn.out, "Processed 13 bytes in 1 chunk.\nTotal time: 0.001 seconds.\n"
                                     "Data rate: 13,000 bytes/second.\n"
                                     "Message rate: 1,000 messages/second.\n");
    fake_conn_free(&conn);
    lp_plugin.unload(st);
}

static void large_message_in_six_chunks(void)
{
    char *data = malloc(300000);
    memset(data, 'X', 299999);
    data[299999] = '\n';
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 2, 40000);
    CU_ASSERT_EQUAL(stream(data, 300000, 50000, 2000000), 1);
    CU_ASSERT_EQUAL(conn.outlen, 0);
    fake_close(&conn);
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("Data from 127.0.0.1:40000 \"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
                      "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX...\" (299,999 bytes)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(conn.out, "Processed 300,000 bytes in 6 chunks.\n"
                                            "Total time: 0.002 seconds.\n"
                                            "Data rate: 150,000,000 bytes/second.\n"));
    fake_conn_free(&conn);
    lp_plugin.unload(st);
    free(data);
}

static void Y_mid_read_starts_the_next_stream_at_once(void)
{
    CU_ASSERT_EQUAL_FATAL(load("show=0"), 0);
    fake_open(&conn, &lp_plugin, st, 3, 1);
    CU_ASSERT_EQUAL(FAKE_FEED(&conn, "a\nY\nbb\n"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(conn.out, "Processed 4 bytes in 1 chunk.\n"));
    fake_clear(&conn);
    fake_advance(500000000);
    FAKE_FEED(&conn, "c\nY\n");
    CU_ASSERT_STRING_EQUAL(conn.out, "Processed 7 bytes in 2 chunks.\nTotal time: 0.500 seconds.\n"
                                     "Data rate: 14 bytes/second.\n"
                                     "Message rate: 6 messages/second.\n");
    fake_clear(&conn);
    finish();
    CU_ASSERT_EQUAL(conn.outlen, 0);
    CU_ASSERT_EQUAL(fake_log_count(), 2);
}

static void Y_at_end_of_read_waits_for_next_first_byte(void)
{
    CU_ASSERT_EQUAL_FATAL(load("show=0"), 0);
    fake_open(&conn, &lp_plugin, st, 3, 1);
    FAKE_FEED(&conn, "a\nY\n");
    fake_clear(&conn);
    fake_advance(60000000000ull); /* an idle minute does not count */
    FAKE_FEED(&conn, "bb\n");
    fake_advance(250000000);
    FAKE_FEED(&conn, "Y\n");
    CU_ASSERT_STRING_EQUAL(conn.out, "Processed 5 bytes in 2 chunks.\nTotal time: 0.250 seconds.\n"
                                     "Data rate: 20 bytes/second.\n"
                                     "Message rate: 8 messages/second.\n");
    finish();
}

static void unterminated_Y_at_eof_counts_only_received_bytes(void)
{
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 3, 1);
    lp_plugin.read(st, (struct lp_conn *)&conn, conn.state, 3);
    fake_message(&conn, "a", 1);
    fake_message(&conn, "Y", 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(conn.out, "Processed 3 bytes in 1 chunk.\n"));
    fake_clear(&conn);
    finish();
    CU_ASSERT_EQUAL(conn.outlen, 0);
}

static void Y_is_passed_on_and_quiet_connection_reports_nothing(void)
{
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 3, 1);
    CU_ASSERT_EQUAL(fake_feed(&conn, "Y\n", 2), 0); /* 0 = nobody said LP_STOP */
    fake_clear(&conn);
    finish();
    fake_log_clear();
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 4, 1);
    finish();
    CU_ASSERT_EQUAL(conn.outlen, 0);
    CU_ASSERT_EQUAL(fake_log_count(), 0);
}

static void show_n_logs_first_messages_escaped(void)
{
    CU_ASSERT_EQUAL_FATAL(load("show=2"), 0);
    fake_open(&conn, &lp_plugin, st, 9, 7);
    FAKE_FEED(&conn, "a\"b\\c\r\n");
    fake_message(&conn, "\t\0\x01\xff", 4);
    FAKE_FEED(&conn, "third\n");
    finish();
    CU_ASSERT_PTR_NOT_NULL(fake_log_find("Data from 127.0.0.1:7 \"a\\\"b\\\\c\\r\""));
    CU_ASSERT_PTR_NOT_NULL(fake_log_find("Data from 127.0.0.1:7 \"\\t\\x00\\x01\\xff\""));
    CU_ASSERT_PTR_NULL(fake_log_find("third"));
}

static void progress_line_once_per_interval(void)
{
    CU_ASSERT_EQUAL_FATAL(load("show=0"), 0);
    fake_open(&conn, &lp_plugin, st, 3, 1);
    lp_plugin.read(st, (struct lp_conn *)&conn, conn.state, 1000);
    fake_advance(999999999);
    lp_plugin.read(st, (struct lp_conn *)&conn, conn.state, 1000);
    CU_ASSERT_EQUAL(fake_log_count(), 0);
    fake_advance(1);
    lp_plugin.read(st, (struct lp_conn *)&conn, conn.state, 1000);
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO rate-meter: conn 3 [ 0.00- 1.00 s] 3,000 bytes 3,000 bytes/s"));
    fake_advance(1500000000);
    lp_plugin.read(st, (struct lp_conn *)&conn, conn.state, 3000000);
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO rate-meter: conn 3 [ 1.00- 2.50 s] 3,000,000 bytes 2,000,000 bytes/s"));
    CU_ASSERT_EQUAL(fake_log_count(), 2);
    finish();
}

static void bad_arguments_are_one_clear_line(void)
{
    static const char *cases[][2] = {
        {"foo=1", "unknown argument 'foo' (accepted: show, interval)"},
        {"show=-1", "show=-1: expected a whole number from 0 to 4294967295"},
        {"interval=3601", "interval=3601: expected a duration from 0 to 3600 s (e.g. 2, 0.5, "
                          "1500ms)"},
        {"interval=99999999999999999999999", "interval=99999999999999999999999: expected a "
                                             "duration from 0 to 3600 s (e.g. 2, 0.5, 1500ms)"},
        {"show", "expected KEY=VALUE, got 'show'"},
        {"show=1,show=2", "argument 'show' given twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CU_ASSERT_EQUAL(load(cases[i][0]), -EINVAL);
        CU_ASSERT_STRING_EQUAL(err, cases[i][1]);
    }
    CU_ASSERT_EQUAL(load("show=0,interval=0"), 0);
    lp_plugin.unload(st);
}

static CU_TestInfo tests[] = {
    {"tutorial_stream_of_a_million_then_Y", tutorial_stream_of_a_million_then_Y},
    {"hello_world_without_newline_reported_at_close",
     hello_world_without_newline_reported_at_close},
    {"large_message_in_six_chunks", large_message_in_six_chunks},
    {"Y_mid_read_starts_the_next_stream_at_once", Y_mid_read_starts_the_next_stream_at_once},
    {"Y_at_end_of_read_waits_for_next_first_byte", Y_at_end_of_read_waits_for_next_first_byte},
    {"unterminated_Y_at_eof_counts_only_received_bytes",
     unterminated_Y_at_eof_counts_only_received_bytes},
    {"Y_is_passed_on_and_quiet_connection_reports_nothing",
     Y_is_passed_on_and_quiet_connection_reports_nothing},
    {"show_n_logs_first_messages_escaped", show_n_logs_first_messages_escaped},
    {"progress_line_once_per_interval", progress_line_once_per_interval},
    {"bad_arguments_are_one_clear_line", bad_arguments_are_one_clear_line},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "rate-meter", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

/* test_plugin_counter - the counter plugin through the fake host: answers, marker, reset,
 * logs, argument errors, and exact totals with threads hammering their own connections. */
#include "cunit_main.h"
#include "fake_host.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct lp_plugin lp_plugin;

static char err[256];
static void *st;
static struct fake_conn conn;

static int load(const char *args)
{
    fake_log_clear();
    fake_host_reset(); /* each test its own totals: the previous one's version is unloaded */
    return fake_load(&lp_plugin, args, &st, err, sizeof err);
}

static void finish(void)
{
    fake_close(&conn);
    fake_conn_free(&conn);
    lp_plugin.unload(st);
}

static void answers_totals_on_Y_excluding_it(void)
{
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    CU_ASSERT_EQUAL(fake_open(&conn, &lp_plugin, st, 7, 5555), 0);
    CU_ASSERT_EQUAL(FAKE_FEED(&conn, "ab\n\nxyz\r\n"), 0);
    CU_ASSERT_EQUAL(fake_message(&conn, "a\0b", 3), LP_NOT_MINE); /* counted, not handled */
    CU_ASSERT_EQUAL(fake_message(&conn, "Y", 1), LP_STOP);
    CU_ASSERT_STRING_EQUAL(conn.out, "count messages=4 bytes=13\n");
    finish();
}

static void tutorial_stream_of_a_million(void)
{
    char msg[49];
    memset(msg, 'X', sizeof msg);
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 1, 5007);
    for (int i = 0; i < 1000000; i++)
        fake_message(&conn, msg, sizeof msg);
    CU_ASSERT_EQUAL(FAKE_FEED(&conn, "Y\n"), 1);
    CU_ASSERT_STRING_EQUAL(conn.out, "count messages=1000000 bytes=50000000\n");
    finish();
}

static void marker_is_exact(void)
{
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 1, 5007);
    CU_ASSERT_EQUAL(FAKE_FEED(&conn, "Y\r\ny\nYY\n Y\n"), 0);
    CU_ASSERT_EQUAL(conn.outlen, 0);
    CU_ASSERT_EQUAL(FAKE_FEED(&conn, "Y\n"), 1);
    CU_ASSERT_STRING_EQUAL(conn.out, "count messages=4 bytes=11\n");
    finish();
}

static void totals_accumulate_without_reset(void)
{
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 1, 5007);
    FAKE_FEED(&conn, "a\nY\nbb\nY\nY\n");
    CU_ASSERT_STRING_EQUAL(conn.out, "count messages=1 bytes=2\ncount messages=2 bytes=5\n"
                                     "count messages=2 bytes=5\n");
    finish();
}

static void reset_starts_each_answer_afresh(void)
{
    CU_ASSERT_EQUAL_FATAL(load("reset=1"), 0);
    fake_open(&conn, &lp_plugin, st, 3, 4000);
    FAKE_FEED(&conn, "a\nY\nbb\nY\nY\n");
    CU_ASSERT_STRING_EQUAL(conn.out, "count messages=1 bytes=2\ncount messages=1 bytes=3\n"
                                     "count messages=0 bytes=0\n");
    fake_close(&conn);
    CU_ASSERT_PTR_NOT_NULL(fake_log_find("INFO counter: conn 3 127.0.0.1:4000 closed: "
                                         "messages=2 bytes=5"));
    fake_conn_free(&conn);
    lp_plugin.unload(st);
}

static void custom_marker(void)
{
    CU_ASSERT_EQUAL_FATAL(load("marker=END OF DATA,reset=0"), 0);
    fake_open(&conn, &lp_plugin, st, 1, 5007);
    CU_ASSERT_EQUAL(FAKE_FEED(&conn, "Y\nEND OF DATA\n"), 1);
    CU_ASSERT_STRING_EQUAL(conn.out, "count messages=1 bytes=2\n");
    finish();
}

static void close_logs_connection_and_unload_logs_server_totals(void)
{
    struct fake_conn other;
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    fake_open(&conn, &lp_plugin, st, 7, 5555);
    fake_open(&other, &lp_plugin, st, 8, 5556);
    FAKE_FEED(&conn, "abc\nY\n");
    FAKE_FEED(&other, "x\ny\n");
    fake_close(&other);
    fake_conn_free(&other);
    finish();
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO counter: conn 7 127.0.0.1:5555 closed: messages=1 bytes=4"));
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO counter: conn 8 127.0.0.1:5556 closed: messages=2 bytes=4"));
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO counter: server totals: connections=2 messages=3 bytes=8"));
}

static void quiet_logs_only_server_totals(void)
{
    CU_ASSERT_EQUAL_FATAL(load("quiet=1"), 0);
    fake_open(&conn, &lp_plugin, st, 7, 5555);
    FAKE_FEED(&conn, "abc\n");
    finish();
    CU_ASSERT_EQUAL(fake_log_count(), 1);
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO counter: server totals: connections=1 messages=1 bytes=4"));
}

static void close_without_open_state_is_harmless(void)
{
    CU_ASSERT_EQUAL_FATAL(load(""), 0);
    lp_plugin.close(st, (struct lp_conn *)&conn, NULL);
    lp_plugin.unload(st);
    /* counter served nobody: no totals line at exit (it used to say connections=0) */
    CU_ASSERT_PTR_NULL(fake_log_find("server totals"));
    CU_ASSERT_EQUAL(fake_log_count(), 0);
}

static void bad_arguments_are_one_clear_line(void)
{
    static const char *cases[][2] = {
        {"foo=1", "unknown argument 'foo' (accepted: marker, reset, quiet)"},
        {"reset=2", "reset=2: expected a bool (1/0, true/false, yes/no, on/off)"},
        {"quiet=maybe", "quiet=maybe: expected a bool (1/0, true/false, yes/no, on/off)"},
        {"reset", "expected KEY=VALUE, got 'reset'"},
        {"=1", "expected KEY=VALUE, got '=1'"},
        {"reset=1,", "expected KEY=VALUE after the last ','"},
        {"reset=1,,quiet=1", "expected KEY=VALUE, got ''"},
        {"marker=", "marker=: expected 1 to 127 bytes without ',' or newline"},
        {"reset=1,reset=0", "argument 'reset' given twice"},
        {"marker=a,quiet=1,marker=b", "argument 'marker' given twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CU_ASSERT_EQUAL(load(cases[i][0]), -EINVAL);
        CU_ASSERT_STRING_EQUAL(err, cases[i][1]);
    }
}

#define THREADS   8
#define PER_CONN  20000
#define CONNS_PER 4

/* One worker: CONNS_PER connections in turn, each PER_CONN messages of lengths 0..9, then
 * Y, checking its own answer. Returns the number of wrong answers. */
static void *hammer(void *arg)
{
    uintptr_t id = (uintptr_t)arg, wrong = 0;
    char msg[16] = "0123456789", want[96];
    for (int k = 0; k < CONNS_PER; k++) {
        struct fake_conn c;
        uint64_t bytes = 0;
        fake_open(&c, &lp_plugin, st, id * 100 + (uint64_t)k, 1000);
        for (int i = 0; i < PER_CONN; i++) {
            fake_message(&c, msg, (size_t)(i % 10));
            bytes += (uint64_t)(i % 10) + 1;
        }
        fake_message(&c, "Y", 1);
        snprintf(want, sizeof want, "count messages=%d bytes=%llu\n", PER_CONN,
                 (unsigned long long)bytes);
        wrong += strcmp(c.out, want) != 0;
        fake_close(&c);
        fake_conn_free(&c);
    }
    return (void *)wrong;
}

static void server_totals_exact_under_threads(void)
{
    pthread_t t[THREADS];
    CU_ASSERT_EQUAL_FATAL(load("quiet=1"), 0);
    for (uintptr_t i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, hammer, (void *)(i + 1)), 0);
    for (int i = 0; i < THREADS; i++) {
        void *wrong;
        pthread_join(t[i], &wrong);
        CU_ASSERT_PTR_NULL(wrong);
    }
    lp_plugin.unload(st);
    char want[128];
    unsigned long long conns = THREADS * CONNS_PER, msgs = conns * PER_CONN;
    unsigned long long bytes = conns * (PER_CONN / 10) * 55; /* 1+2+...+10 per ten messages */
    snprintf(want, sizeof want,
             "INFO counter: server totals: connections=%llu messages=%llu "
             "bytes=%llu",
             conns, msgs, bytes);
    CU_ASSERT_PTR_NOT_NULL(fake_log_find(want));
}

static int64_t metric(const char *name)
{
    int64_t v = -1;
    CU_ASSERT_EQUAL(fake_metric_value(name, &v), 0);
    return v;
}

/* Two versions of one instance, as a reload makes them: the second load gets the first's
 * metrics and shared totals back, so /metrics and the exit line count both versions'
 * connections once, and only the last unload speaks. */
static void metrics_and_shared_totals_span_versions(void)
{
    void *v1, *v2;
    struct fake_conn a, b;
    fake_log_clear();
    fake_host_reset();
    CU_ASSERT_EQUAL_FATAL(fake_load(&lp_plugin, "quiet=1", &v1, err, sizeof err), 0);
    fake_open(&a, &lp_plugin, v1, 1, 4001);
    FAKE_FEED(&a, "abc\nde\n");
    fake_close(&a);
    CU_ASSERT_EQUAL(metric("counted_connections_total"), 1);
    CU_ASSERT_EQUAL(metric("counted_messages_total"), 2);
    CU_ASSERT_EQUAL(metric("counted_bytes_total"), 7);
    CU_ASSERT_EQUAL_FATAL(fake_load(&lp_plugin, "quiet=1", &v2, err, sizeof err), 0);
    fake_open(&b, &lp_plugin, v2, 2, 4002);
    FAKE_FEED(&b, "xyzw\n");
    fake_close(&b);
    CU_ASSERT_EQUAL(metric("counted_connections_total"), 2);
    CU_ASSERT_EQUAL(metric("counted_messages_total"), 3);
    CU_ASSERT_EQUAL(metric("counted_bytes_total"), 12);
    lp_plugin.unload(v1); /* an older version retiring: silent */
    CU_ASSERT_PTR_NULL(fake_log_find("server totals"));
    lp_plugin.unload(v2);
    CU_ASSERT_PTR_NOT_NULL(
        fake_log_find("INFO counter: server totals: connections=2 messages=3 bytes=12"));
    CU_ASSERT_EQUAL(fake_log_count(), 1);
    /* outside a load hook the host refuses both, as the server does */
    errno = 0;
    CU_ASSERT_PTR_NULL(fake_host.metric_new(LP_METRIC_COUNTER, "x_total", "x"));
    CU_ASSERT_EQUAL(errno, EPERM);
    CU_ASSERT_PTR_NULL(fake_host.shared("totals.v1", 8));
    fake_conn_free(&a);
    fake_conn_free(&b);
}

static CU_TestInfo tests[] = {
    {"answers_totals_on_Y_excluding_it", answers_totals_on_Y_excluding_it},
    {"tutorial_stream_of_a_million", tutorial_stream_of_a_million},
    {"marker_is_exact", marker_is_exact},
    {"totals_accumulate_without_reset", totals_accumulate_without_reset},
    {"reset_starts_each_answer_afresh", reset_starts_each_answer_afresh},
    {"custom_marker", custom_marker},
    {"close_logs_connection_and_unload_logs_server_totals",
     close_logs_connection_and_unload_logs_server_totals},
    {"quiet_logs_only_server_totals", quiet_logs_only_server_totals},
    {"close_without_open_state_is_harmless", close_without_open_state_is_harmless},
    {"bad_arguments_are_one_clear_line", bad_arguments_are_one_clear_line},
    {"server_totals_exact_under_threads", server_totals_exact_under_threads},
    {"metrics_and_shared_totals_span_versions", metrics_and_shared_totals_span_versions},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "counter", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

/* test_greet - greet's unit test, through the SDK's fake host: its hooks are called as the
 * server would call them, with no server and no socket. Plain C, so it needs nothing but
 * the installed SDK; `ctest` runs it (linepool_add_plugin_test in CMakeLists.txt). */
#include <linepool/fake_host.h>

#include <stdio.h>
#include <string.h>

extern const struct lp_plugin lp_plugin;

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

int main(void)
{
    void *state;
    char err[256];
    CHECK(fake_load(&lp_plugin, "hi", &state, err, sizeof err) == 0);

    struct fake_conn c;
    CHECK(fake_open(&c, &lp_plugin, state, 1, 5000) == 0);
    FAKE_FEED(&c, "world\nagain\r\n"); /* one read, two messages (CRLF tolerated) */
    CHECK(c.out && strcmp(c.out, "hi #1: world\nhi #2: again\n") == 0);
    fake_close(&c);
    CHECK(fake_log_find("INFO greet: 127.0.0.1:5000 greeted 2 times") != NULL);
    fake_conn_free(&c);
    lp_plugin.unload(state);

    char too_long[100];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    CHECK(fake_load(&lp_plugin, too_long, &state, err, sizeof err) < 0);
    CHECK(strcmp(err, "greeting longer than 63 bytes") == 0);

    printf("test_greet: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}

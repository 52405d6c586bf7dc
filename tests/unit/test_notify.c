/* test_notify - the sd_notify datagrams, the watchdog's environment, the after-READY switch,
 * and the upgrade's path resolution. */
#include "cunit_main.h"
#include "notify.h"
#include "upgrade.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void watchdog_environment(void)
{
    CU_ASSERT_EQUAL(notify_parse_watchdog("500000", NULL, 42), 500000000ull);
    CU_ASSERT_EQUAL(notify_parse_watchdog("500000", "42", 42), 500000000ull);
    CU_ASSERT_EQUAL(notify_parse_watchdog("500000", "43", 42), 0); /* another process's */
    CU_ASSERT_EQUAL(notify_parse_watchdog("0", NULL, 42), 0);
    CU_ASSERT_EQUAL(notify_parse_watchdog("5s", NULL, 42), 0);
    CU_ASSERT_EQUAL(notify_parse_watchdog(NULL, "42", 42), 0);
    CU_ASSERT_EQUAL(notify_parse_watchdog("500000", "x", 42), 0);
}

/* An abstract datagram socket standing for systemd; returns its fd, name in where. */
static int manager(char *where, size_t len, const char *tag)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "lp-test-notify-%d-%s", (int)getpid(),
                     tag);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, (socklen_t)(sizeof(sa_family_t) + 1 + n)) < 0)
        return -1;
    snprintf(where, len, "@%s", sa.sun_path + 1);
    return fd;
}

static void got(int fd, const char *want)
{
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    CU_ASSERT_TRUE_FATAL(n >= 0);
    buf[n] = '\0';
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void abstract_and_path_targets(void)
{
    char where[108], back[108];
    int m = manager(where, sizeof where, "a");
    CU_ASSERT_TRUE_FATAL(m >= 0);
    struct notify n = {.fd = -1};
    CU_ASSERT_EQUAL(notify_open(&n, where), 0);
    CU_ASSERT_STRING_EQUAL(notify_target(&n, back, sizeof back), where);
    CU_ASSERT_EQUAL(notify_send(&n, "STATUS=hello"), 0);
    got(m, "STATUS=hello");
    notify_close(&n);
    CU_ASSERT_EQUAL(notify_send(&n, "WATCHDOG=1"), 0); /* nowhere: a no-op */
    CU_ASSERT_STRING_EQUAL(notify_target(&n, back, sizeof back), "");
    CU_ASSERT_EQUAL(notify_open(&n, "relative"), -EINVAL);
    CU_ASSERT_EQUAL(notify_open(&n, "@"), -EINVAL);
    CU_ASSERT_EQUAL(notify_open(&n, "/run/x"), 0);
    CU_ASSERT_STRING_EQUAL(notify_target(&n, back, sizeof back), "/run/x");
    notify_close(&n);
    close(m);
}

static void ready_switches_to_the_after_ready_target(void)
{
    char first[108], second[108];
    int a = manager(first, sizeof first, "first"), b = manager(second, sizeof second, "second");
    CU_ASSERT_TRUE_FATAL(a >= 0 && b >= 0);
    setenv("NOTIFY_SOCKET", first, 1);
    setenv("LINEPOOL_NOTIFY_AFTER_READY", second, 1);
    setenv("WATCHDOG_USEC", "200000", 1);
    struct notify n;
    char err[256];
    CU_ASSERT_EQUAL(notify_from_env(&n, err, sizeof err), 0);
    CU_ASSERT_PTR_NULL(getenv("NOTIFY_SOCKET"));
    CU_ASSERT_PTR_NULL(getenv("LINEPOOL_NOTIFY_AFTER_READY"));
    CU_ASSERT_PTR_NULL(getenv("WATCHDOG_USEC"));
    CU_ASSERT_EQUAL(n.watchdog_ns, 200000000ull);
    CU_ASSERT_EQUAL(notify_ready(&n, "STATUS=up"), 0);
    got(a, "READY=1\nSTATUS=up");
    CU_ASSERT_EQUAL(notify_send(&n, "WATCHDOG=1"), 0);
    got(b, "WATCHDOG=1");
    notify_close(&n);
    close(a);
    close(b);
}

static void exe_path_as_started(void)
{
    char out[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 32];
    CU_ASSERT_EQUAL(upgrade_resolve_exe("/usr/bin/linepool-server", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/usr/bin/linepool-server");
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    CU_ASSERT_EQUAL(upgrade_resolve_exe("build/linepool-server", out, sizeof out), 0);
    snprintf(want, sizeof want, "%s/build/linepool-server", cwd);
    CU_ASSERT_STRING_EQUAL(out, want);
    setenv("PATH", "/nonexistent:/bin", 1);
    CU_ASSERT_EQUAL(upgrade_resolve_exe("sh", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/bin/sh");
    CU_ASSERT_EQUAL(upgrade_resolve_exe("no-such-program-here", out, sizeof out), -ENOENT);
    CU_ASSERT_EQUAL(upgrade_resolve_exe("", out, sizeof out), -ENOENT);
}

static CU_TestInfo tests[] = {
    {"watchdog_environment", watchdog_environment},
    {"abstract_and_path_targets", abstract_and_path_targets},
    {"ready_switches_to_the_after_ready_target", ready_switches_to_the_after_ready_target},
    {"exe_path_as_started", exe_path_as_started},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "notify", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

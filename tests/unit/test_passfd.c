/* test_passfd - LISTEN_FDS/LISTEN_FDNAMES taken from the environment, names, claims. */
#include "cunit_main.h"
#include "passfd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void names_split_on_colons(void)
{
    char **n;
    CU_ASSERT_EQUAL(passfd_parse_names("web:admin", 2, &n), 0);
    CU_ASSERT_STRING_EQUAL(n[0], "web");
    CU_ASSERT_STRING_EQUAL(n[1], "admin");
    passfd_free_names(n, 2);
    CU_ASSERT_EQUAL(passfd_parse_names(NULL, 2, &n), 0); /* unset: systemd's "unknown" */
    CU_ASSERT_STRING_EQUAL(n[1], "unknown");
    passfd_free_names(n, 2);
    CU_ASSERT_EQUAL(passfd_parse_names("", 0, &n), 0);
    passfd_free_names(n, 0);
}

static void names_of_the_wrong_count_are_refused(void)
{
    char **n = NULL, long_name[300];
    CU_ASSERT_EQUAL(passfd_parse_names("web", 2, &n), -EINVAL);
    CU_ASSERT_EQUAL(passfd_parse_names("a:b:c", 2, &n), -EINVAL);
    CU_ASSERT_EQUAL(passfd_parse_names("a:", 2, &n), -EINVAL); /* an empty name */
    CU_ASSERT_EQUAL(passfd_parse_names(":b", 2, &n), -EINVAL);
    CU_ASSERT_EQUAL(passfd_parse_names("", 1, &n), -EINVAL);
    CU_ASSERT_EQUAL(passfd_parse_names("x", 0, &n), -EINVAL);
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    CU_ASSERT_EQUAL(passfd_parse_names(long_name, 1, &n), -EINVAL);
    long_name[255] = '\0';
    CU_ASSERT_EQUAL(passfd_parse_names(long_name, 1, &n), 0);
    passfd_free_names(n, 1);
}

static void keys_have_no_colon(void)
{
    char key[PASSFD_NAME_MAX + 1];
    passfd_key("127.0.0.1", 0, key, sizeof key);
    CU_ASSERT_STRING_EQUAL(key, "127.0.0.1/0");
    passfd_key("::1", 5005, key, sizeof key);
    CU_ASSERT_STRING_EQUAL(key, "..1/5005");
}

/* A listening socket moved to fd 3 + LISTEN_* naming this process, as systemd does. */
static int pass_listener(const char *names, const char *count)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || listen(s, 1) < 0 || dup2(s, 3) < 0)
        return -1;
    close(s);
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", count, 1);
    if (names)
        setenv("LISTEN_FDNAMES", names, 1);
    else
        unsetenv("LISTEN_FDNAMES");
    return 0;
}

static void environment_is_taken_then_unset(void)
{
    CU_ASSERT_EQUAL_FATAL(pass_listener("web", "1"), 0);
    struct passfds p;
    char err[256] = "";
    CU_ASSERT_EQUAL(passfd_from_env(&p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(p.n, 1);
    CU_ASSERT_PTR_NULL(getenv("LISTEN_PID"));
    CU_ASSERT_PTR_NULL(getenv("LISTEN_FDS"));
    CU_ASSERT_PTR_NULL(getenv("LISTEN_FDNAMES"));
    CU_ASSERT_EQUAL(passfd_count(&p, "web"), 1);
    CU_ASSERT_EQUAL(passfd_claim(&p, "other"), -ENOENT);
    int fd = passfd_claim(&p, "web");
    CU_ASSERT_EQUAL(fd, 3);
    CU_ASSERT_EQUAL(passfd_claim(&p, "web"), -ENOENT); /* claimed once */
    CU_ASSERT_EQUAL(passfd_check_listening(fd, err, sizeof err), 0);
    passfd_finish(&p);
    close(3);
}

static void another_pid_passes_nothing(void)
{
    CU_ASSERT_EQUAL_FATAL(pass_listener("web", "1"), 0);
    setenv("LISTEN_PID", "1", 1);
    struct passfds p;
    char err[256] = "";
    CU_ASSERT_EQUAL(passfd_from_env(&p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(p.n, 0);
    CU_ASSERT_PTR_NULL(getenv("LISTEN_FDS"));
    passfd_finish(&p);
    close(3);
}

static void bad_counts_are_errors(void)
{
    struct passfds p;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(pass_listener("web:more", "1"), 0);
    CU_ASSERT_EQUAL(passfd_from_env(&p, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "LISTEN_FDNAMES=web:more"));
    passfd_finish(&p);
    CU_ASSERT_EQUAL_FATAL(pass_listener(NULL, "x"), 0);
    CU_ASSERT_EQUAL(passfd_from_env(&p, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "LISTEN_FDS=x"));
    passfd_finish(&p);
    CU_ASSERT_EQUAL_FATAL(pass_listener(NULL, "2"), 0); /* fd 4 is not open */
    close(4);
    CU_ASSERT_EQUAL(passfd_from_env(&p, err, sizeof err), -EBADF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "fd 4"));
    passfd_finish(&p);
    close(3);
}

static void a_datagram_socket_is_not_listening(void)
{
    char why[128];
    int d = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(passfd_check_listening(d, why, sizeof why), -EINVAL);
    CU_ASSERT_STRING_EQUAL(why, "not a stream socket");
    CU_ASSERT_EQUAL(passfd_check_listening(s, why, sizeof why), -EINVAL);
    CU_ASSERT_STRING_EQUAL(why, "a stream socket that is not listening");
    CU_ASSERT_EQUAL(passfd_check_listening(0 + 1000, why, sizeof why), -ENOTSOCK);
    close(d);
    close(s);
}

static CU_TestInfo tests[] = {
    {"names_split_on_colons", names_split_on_colons},
    {"names_of_the_wrong_count_are_refused", names_of_the_wrong_count_are_refused},
    {"keys_have_no_colon", keys_have_no_colon},
    {"environment_is_taken_then_unset", environment_is_taken_then_unset},
    {"another_pid_passes_nothing", another_pid_passes_nothing},
    {"bad_counts_are_errors", bad_counts_are_errors},
    {"a_datagram_socket_is_not_listening", a_datagram_socket_is_not_listening},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "passfd", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}

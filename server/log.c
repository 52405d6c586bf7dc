/* log - timestamped, levelled lines on stderr. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level max_level = LOG_INFO;
static const char *const level_names[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};

void log_set_level(enum log_level level)
{
    max_level = level;
}

int log_enabled(enum log_level level)
{
    return level <= max_level;
}

void log_vmsg(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
    if (level > max_level)
        return;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(line + n, sizeof line - n, ".%03ldZ %s %s%s", ts.tv_nsec / 1000000,
                     level_names[level], prefix ? prefix : "", prefix ? ": " : "");
    n += (size_t)k;
    k = vsnprintf(line + n, sizeof line - n, fmt, ap);
    n = k < 0 ? n : n + (size_t)k;
    if (n > sizeof line - 2)
        n = sizeof line - 2; /* truncated: still one whole line */
    line[n++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, n);
    (void)rc; /* nowhere left to report a failing stderr */
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, NULL, fmt, ap);
    va_end(ap);
}

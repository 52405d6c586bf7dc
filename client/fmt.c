/* fmt - thousands separators and latency units for the human-readable reports. */
#include "fmt.h"

#include <stdio.h>

char *fmt_thousands(char *buf, size_t len, uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t out = 0;
    for (int i = 0; i < n && out + 1 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0 && out + 2 < len)
            buf[out++] = ',';
        buf[out++] = digits[i];
    }
    if (len)
        buf[out < len ? out : len - 1] = '\0';
    return buf;
}

char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
    static const struct {
        double scale;
        const char *unit;
    } units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        double v = (double)ns / units[i].scale;
        if (v >= 1.0) {
            snprintf(buf, len,
                     v >= 100  ? "%.1f%s"
                     : v >= 10 ? "%.2f%s"
                               : "%.3f%s",
                     v, units[i].unit);
            return buf;
        }
    }
    snprintf(buf, len, "%lluns", (unsigned long long)ns);
    return buf;
}

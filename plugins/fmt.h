/* fmt - text helpers of the bundled plugins: thousands separators, and a quoted, escaped,
 * truncated view of a message for a log line. Static inline; no allocation, no locale. */
#ifndef LINEPOOL_PLUGINS_FMT_H
#define LINEPOOL_PLUGINS_FMT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FMT_GROUP_MAX 32 /* 18,446,744,073,709,551,615 and a NUL fit */

/* v as "50,000,002" into buf (FMT_GROUP_MAX bytes); returns buf. */
static inline char *fmt_group(char *buf, uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    char *out = buf;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            *out++ = ',';
        *out++ = digits[i];
    }
    *out = '\0';
    return buf;
}

/* n events in ns nanoseconds as a whole number per second, rounded. */
static inline uint64_t fmt_per_second(uint64_t n, uint64_t ns)
{
    return (uint64_t)((double)n * 1e9 / (double)(ns ? ns : 1) + 0.5);
}

/* One byte as it appears between the quotes; returns how many chars it wrote (1 to 4). */
static inline size_t fmt_escape(char *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out[0] = (char)c;
        return 1;
    }
    const char *named = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                                    : NULL;
    if (named) {
        memcpy(out, named, 2);
        return 2;
    }
    out[0] = '\\', out[1] = 'x', out[2] = hex[c >> 4], out[3] = hex[c & 15];
    return 4;
}

#define FMT_QUOTE_SIZE(max) (4 * (max) + 56)

/* msg as "Hello, World!" into buf (FMT_QUOTE_SIZE(max) bytes): non-printable bytes escaped
 * (\r \t \" \\ \xHH); longer than max bytes: the first max, then ..." (300,000 bytes). */
static inline char *fmt_quote(char *buf, const char *msg, size_t len, size_t max)
{
    size_t o = 0, n = len < max ? len : max;
    buf[o++] = '"';
    for (size_t i = 0; i < n; i++)
        o += fmt_escape(buf + o, (unsigned char)msg[i]);
    if (len > n) {
        char g[FMT_GROUP_MAX];
        snprintf(buf + o, 48, "...\" (%s bytes)", fmt_group(g, len));
    } else {
        buf[o++] = '"';
        buf[o] = '\0';
    }
    return buf;
}

#endif

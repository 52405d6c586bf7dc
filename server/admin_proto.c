/* admin_proto - see admin_proto.h. */
#include "admin_proto.h"

#include <string.h>

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* "GET /": an upper-case token, one space, a '/'. */
static int begins_like_http(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 16 && is_upper(p[i]))
        i++;
    return i > 0 && i + 1 < n && p[i] == ' ' && p[i + 1] == '/';
}

/* The end of the head after the request line: the index just past the empty line, or 0. */
static size_t head_end(const char *buf, size_t len, size_t from)
{
    for (size_t i = from; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        /* line [from, i): empty, or just "\r" */
        if (i == from || (i == from + 1 && buf[from] == '\r'))
            return i + 1;
        from = i + 1;
    }
    return 0;
}

static enum admin_kind request_line(const char *line, size_t n, struct admin_request *out)
{
    const char *sp1 = memchr(line, ' ', n);
    if (!sp1 || sp1 == line)
        return ADMIN_BAD_HTTP;
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(line + n - target));
    if (!sp2 || sp2 == target || *target != '/')
        return ADMIN_BAD_HTTP;
    const char *version = sp2 + 1;
    size_t vlen = (size_t)(line + n - version);
    if (memchr(version, ' ', vlen))
        return ADMIN_BAD_HTTP;
    for (const char *m = line; m < sp1; m++)
        if (!is_upper(*m))
            return ADMIN_BAD_HTTP;
    if (vlen == 8 && memcmp(version, "HTTP/1.", 7) == 0 && (version[7] == '0' || version[7] == '1'))
        out->http_minor = version[7] - '0';
    else
        return ADMIN_BAD_VERSION;
    out->method = line;
    out->method_len = (size_t)(sp1 - line);
    out->path = target;
    const char *query = memchr(target, '?', (size_t)(sp2 - target));
    out->path_len = (size_t)((query ? query : sp2) - target);
    return ADMIN_HTTP;
}

/* The line's last word starts with "HTTP/". */
static int is_http_line(const char *line, size_t n)
{
    size_t i = n;
    while (i > 0 && line[i - 1] != ' ')
        i--;
    return i > 0 && n - i >= 5 && memcmp(line + i, "HTTP/", 5) == 0;
}

enum admin_kind admin_parse(const char *buf, size_t len, struct admin_request *out)
{
    memset(out, 0, sizeof *out);
    size_t scan = len < ADMIN_LINE_MAX ? len : ADMIN_LINE_MAX;
    const char *nl = memchr(buf, '\n', scan);
    if (!nl) {
        if (len < ADMIN_LINE_MAX)
            return out->kind = ADMIN_MORE;
        out->looks_http = begins_like_http(buf, len);
        return out->kind = ADMIN_LINE_TOO_LONG;
    }
    size_t n = (size_t)(nl - buf);
    size_t line_len = n > 0 && buf[n - 1] == '\r' ? n - 1 : n;
    if (is_http_line(buf, line_len)) {
        size_t end = head_end(buf, len < ADMIN_HEAD_MAX ? len : ADMIN_HEAD_MAX, n + 1);
        if (!end)
            return out->kind = len < ADMIN_HEAD_MAX ? ADMIN_MORE : ADMIN_HEAD_TOO_LONG;
        out->kind = request_line(buf, line_len, out);
        out->used = end;
        return out->kind;
    }
    const char *w = buf, *e = buf + n;
    while (w < e && is_blank(*w))
        w++;
    while (e > w && is_blank(e[-1]))
        e--;
    out->word = w;
    out->word_len = (size_t)(e - w);
    out->used = n + 1;
    return out->kind = ADMIN_LINE;
}

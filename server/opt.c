/* opt - table-driven options: values, getopt, config-file lines and --help; see opt.h. */
#include "opt.h"

#include "errbuf.h"

#include "values.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_BASE  256 /* getopt keys of entries without a short name: KEY_BASE + index */
#define HELP_COL  26  /* --help's column of the help text */
#define NS_PER_S  1000000000ull
#define NS_PER_MS 1000000ull
#define OPTS_MAX  128 /* entries in one table (getopt's arrays live on the stack) */

static int in_scope(const struct opt_table *t, const struct opt *o)
{
    return !t->scope || !o->scope || (o->scope & t->scope);
}

static uint64_t type_max(enum opt_type type)
{
    switch (type) {
    case OPT_UINT:
        return UINT_MAX;
    case OPT_SIZE:
        return SIZE_MAX;
    case OPT_PORT:
        return 65535;
    case OPT_SECONDS:
        return VALUES_MAX_SECONDS * NS_PER_S;
    default:
        return UINT64_MAX;
    }
}

/* "2", "0.5", "1500ms": the shortest way to write ns. */
static void seconds_text(char *buf, size_t len, uint64_t ns)
{
    if (ns % NS_PER_S == 0)
        snprintf(buf, len, "%llu", (unsigned long long)(ns / NS_PER_S));
    else if (ns % NS_PER_MS == 0)
        snprintf(buf, len, "%llums", (unsigned long long)(ns / NS_PER_MS));
    else
        snprintf(buf, len, "%.9g", (double)ns / 1e9);
}

/* The reason a value of o is refused, naming its grammar and limits. */
static int refuse(const struct opt *o, int rc, char *err, size_t errlen)
{
    uint64_t max = o->max ? o->max : type_max(o->type);
    unsigned long long lo = o->min, hi = max;
    char a[32], b[32];
    switch (o->type) {
    case OPT_UINT:
    case OPT_U64:
        return errbuf_set(err, errlen, rc, "expected a whole number from %llu to %llu", lo, hi);
    case OPT_SIZE:
    case OPT_SIZE64:
        if (max == type_max(o->type))
            return errbuf_set(err, errlen, rc,
                              "expected a size of at least %llu bytes (suffixes K, M, G, T)", lo);
        return errbuf_set(err, errlen, rc,
                          "expected a size from %llu to %llu bytes (suffixes K, M, G, T)", lo, hi);
    case OPT_SECONDS:
        seconds_text(a, sizeof a, o->min);
        seconds_text(b, sizeof b, max);
        if (o->min == 0 && max == type_max(o->type))
            return errbuf_set(err, errlen, rc, "expected seconds (e.g. 2, 0.5, 1500ms)");
        if (o->min == 1 && max == type_max(o->type))
            return errbuf_set(err, errlen, rc, "expected seconds above 0 (e.g. 2, 0.5, 1500ms)");
        return errbuf_set(err, errlen, rc, "expected seconds from %s to %s (e.g. 2, 0.5, 1500ms)",
                          a, b);
    case OPT_PORT:
        return errbuf_set(err, errlen, rc, "expected a port from %llu to %llu", lo, hi);
    default:
        return errbuf_set(err, errlen, rc, "bad value");
    }
}

/* Parses value as o's type into u (seconds as ns); checks min..max. */
static int parse_number(const struct opt *o, const char *value, uint64_t *u)
{
    size_t len = strlen(value);
    int rc;
    switch (o->type) {
    case OPT_SIZE:
    case OPT_SIZE64:
        rc = values_parse_size(value, len, u);
        break;
    case OPT_SECONDS:
        rc = values_parse_duration(value, len, u);
        break;
    default:
        rc = values_parse_uint(value, len, u);
        break;
    }
    if (rc)
        return rc;
    uint64_t max = o->max ? o->max : type_max(o->type);
    return *u < o->min || *u > max ? -ERANGE : 0;
}

static void *field(void *base, const struct opt *o)
{
    return (char *)base + o->offset;
}

/* Stores value; the reason alone in err on a refusal. */
static int store(const struct opt *o, void *base, const char *value, char *err, size_t errlen)
{
    uint64_t u = 0;
    int rc;
    switch (o->type) {
    case OPT_FLAG:
        *(int *)field(base, o) = 1;
        return 0;
    case OPT_FUNC:
        return o->apply(base, value, err, errlen);
    default:
        break;
    }
    if (!value) /* an OPT_OPTIONAL entry of a type that needs one */
        return errbuf_set(err, errlen, -EINVAL, "needs a value");
    if (o->type == OPT_STRING) {
        char *copy = strdup(value);
        if (!copy)
            return errbuf_set(err, errlen, -ENOMEM, "out of memory");
        free(*(char **)field(base, o));
        *(char **)field(base, o) = copy;
        return 0;
    }
    if ((rc = parse_number(o, value, &u)))
        return refuse(o, rc, err, errlen);
    if (o->type == OPT_UINT)
        *(unsigned *)field(base, o) = (unsigned)u;
    else if (o->type == OPT_U64 || o->type == OPT_SIZE64)
        *(uint64_t *)field(base, o) = u;
    else if (o->type == OPT_SIZE)
        *(size_t *)field(base, o) = (size_t)u;
    else if (o->type == OPT_PORT)
        *(uint16_t *)field(base, o) = (uint16_t)u;
    else
        *(double *)field(base, o) = (double)u / 1e9;
    return 0;
}

static int takes_value(const struct opt *o)
{
    return o->type != OPT_FLAG && !(o->flags & OPT_NOVALUE);
}

int opt_defaults(const struct opt_table *t, void *base, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct opt *o = &t->opts[i];
        if (!o->def || o->type == OPT_FLAG || !in_scope(t, o))
            continue;
        char why[200];
        int rc = store(o, base, o->def, why, sizeof why);
        if (rc)
            return errbuf_set(err, errlen, rc, "default of --%s '%s': %s", o->name, o->def, why);
    }
    return 0;
}

int opt_apply(const struct opt_table *t, const struct opt *o, void *base, const char *value,
              enum opt_source src, struct opt_state *st, char *err, size_t errlen)
{
    size_t i = (size_t)(o - t->opts);
    const char *dash = src == OPT_SRC_CLI ? "--" : "";
    if (st && i < st->n) {
        if ((o->flags & OPT_REPEAT) && o->clear && st->src[i] < src)
            o->clear(base); /* a later source's list replaces the earlier one's */
        st->src[i] = (unsigned char)src;
    }
    char why[512];
    why[0] = '\0';
    int rc = store(o, base, value, why, sizeof why);
    if (rc == -ENOMEM)
        return errbuf_set(err, errlen, rc, "out of memory");
    if (rc > 0)
        return rc; /* an .apply's own result, such as a request for help */
    if (rc && value)
        return errbuf_set(err, errlen, rc, "%s%s %s: %s", dash, o->name, value, why);
    if (rc)
        return errbuf_set(err, errlen, rc, "%s%s: %s", dash, o->name, why);
    return 0;
}

const struct opt *opt_find(const struct opt_table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct opt *o = &t->opts[i];
        if (in_scope(t, o) && strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

/* getopt's arrays for the entries in scope. */
static void build_getopt(const struct opt_table *t, struct option *longs, char *shorts)
{
    size_t nl = 0, ns = 0;
    shorts[ns++] = ':'; /* a missing value is ':' rather than '?' */
    for (size_t i = 0; i < t->n && i < OPTS_MAX; i++) {
        const struct opt *o = &t->opts[i];
        if (!in_scope(t, o))
            continue;
        int has = !takes_value(o)             ? no_argument
                  : (o->flags & OPT_OPTIONAL) ? optional_argument
                                              : required_argument;
        int key = o->short_name ? (unsigned char)o->short_name : KEY_BASE + (int)i;
        longs[nl++] = (struct option){o->name, has, NULL, key};
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (has == required_argument)
                shorts[ns++] = ':';
        }
    }
    longs[nl] = (struct option){0};
    shorts[ns] = '\0';
}

static const struct opt *entry_of_key(const struct opt_table *t, int key)
{
    if (key >= KEY_BASE)
        return (size_t)(key - KEY_BASE) < t->n ? &t->opts[key - KEY_BASE] : NULL;
    for (size_t i = 0; i < t->n; i++)
        if (in_scope(t, &t->opts[i]) && (unsigned char)t->opts[i].short_name == key)
            return &t->opts[i];
    return NULL;
}

int opt_getopt(const struct opt_table *t, int argc, char **argv,
               int (*visit)(void *ctx, const struct opt *o, const char *value), void *ctx,
               int *first_arg, char *err, size_t errlen)
{
    struct option longs[OPTS_MAX + 1];
    char shorts[2 * OPTS_MAX + 2];
    if (t->n > OPTS_MAX)
        return errbuf_set(err, errlen, -E2BIG, "option table too large");
    build_getopt(t, longs, shorts);
    optind = 0; /* glibc: full re-initialisation, so parsing can run more than once */
    opterr = 0;
    int c, rc = 0;
    while (!rc && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct opt *o = c == '?' || c == ':' ? NULL : entry_of_key(t, c);
        if (c == ':')
            rc = errbuf_set(err, errlen, -EINVAL, "option '%s' needs a value", argv[optind - 1]);
        else if (!o)
            rc = errbuf_set(err, errlen, -EINVAL, "unknown option '%s'", argv[optind - 1]);
        else
            rc = visit(ctx, o, optarg);
    }
    if (first_arg)
        *first_arg = optind;
    return rc;
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One line of a config file (no '\n'; a copy the caller owns, written into). */
static int parse_line(const struct opt_table *t, void *base, char *line, size_t len,
                      struct opt_state *st, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && blank(line[i]))
        i++;
    while (len > i && blank(line[len - 1]))
        len--;
    if (i == len || line[i] == '#')
        return 0;
    size_t name = i;
    while (i < len && !blank(line[i]))
        i++;
    size_t name_len = i - name;
    while (i < len && blank(line[i]))
        i++;
    line[len] = '\0';
    const char *value = i < len ? line + i : NULL;
    const struct opt *o = opt_find(t, line + name, name_len);
    if (!o || (o->flags & OPT_CLI))
        return errbuf_set(err, errlen, -EINVAL, "unknown directive '%.*s'%s", (int)name_len,
                          line + name, o ? " (command line only)" : "");
    if (takes_value(o) && !value && !(o->flags & OPT_OPTIONAL))
        return errbuf_set(err, errlen, -EINVAL, "'%s' needs a value", o->name);
    if (!takes_value(o) && value)
        return errbuf_set(err, errlen, -EINVAL, "'%s' takes no value", o->name);
    return opt_apply(t, o, base, value, OPT_SRC_FILE, st, err, errlen);
}

int opt_parse_text(const struct opt_table *t, void *base, const char *path, const char *text,
                   size_t len, struct opt_state *st, char *err, size_t errlen)
{
    size_t lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        lineno++;
        char why[1024];
        int rc = 0;
        char *line = malloc(n + 1);
        if (!line)
            return errbuf_set(err, errlen, -ENOMEM, "out of memory");
        memcpy(line, text + at, n);
        if (memchr(line, '\0', n))
            rc = errbuf_set(why, sizeof why, -EINVAL, "NUL byte in the line");
        else
            rc = parse_line(t, base, line, n, st, why, sizeof why);
        free(line);
        if (rc)
            return errbuf_set(err, errlen, rc, "%s:%zu: %s", path, lineno, why);
        at += n + 1;
    }
    return 0;
}

/* The whole of fd, up to OPT_FILE_MAX bytes, into a malloc'd buffer. */
static int read_all(int fd, char **out, size_t *outlen)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            char *grown = cap >= OPT_FILE_MAX ? NULL : realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return cap >= OPT_FILE_MAX ? -EFBIG : -ENOMEM;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

int opt_parse_file(const struct opt_table *t, void *base, const char *path, unsigned flags,
                   struct opt_state *st, char *err, size_t errlen)
{
    int regular = (flags & OPT_FILE_REGULAR) != 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | (regular ? O_NONBLOCK : 0));
    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "%s: %s", path, strerror(errno));
    struct stat sb;
    int rc = fstat(fd, &sb) < 0 ? -errno : S_ISDIR(sb.st_mode) ? -EISDIR : 0;
    if (!rc && regular && !S_ISREG(sb.st_mode)) {
        close(fd);
        return errbuf_set(err, errlen, -EINVAL, "%s: not a regular file", path);
    }
    char *text = NULL;
    size_t len = 0;
    if (!rc)
        rc = read_all(fd, &text, &len);
    close(fd);
    if (rc == -EFBIG)
        return errbuf_set(err, errlen, rc, "%s: larger than %d bytes", path, OPT_FILE_MAX);
    if (rc)
        return errbuf_set(err, errlen, rc, "%s: %s", path, strerror(-rc));
    rc = opt_parse_text(t, base, path, text, len, st, err, errlen);
    free(text);
    return rc;
}

/* "  -s, --name METAVAR" (or "      --name[=METAVAR]"). */
static int print_left(FILE *out, const struct opt *o)
{
    char left[128];
    int n = snprintf(left, sizeof left, o->short_name ? "  -%c, " : "  %c   ",
                     o->short_name ? o->short_name : ' ');
    const char *m = takes_value(o) && o->metavar ? o->metavar : NULL;
    if (m && (o->flags & OPT_OPTIONAL))
        snprintf(left + n, sizeof left - (size_t)n, "--%s[=%s]", o->name, m);
    else
        snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name, m ? " " : "", m ? m : "");
    fputs(left, out);
    return (int)strlen(left);
}

#define HELP_WIDTH 100    /* help lines wrap before this column */
#define NBSP       '\x1f' /* printed as a space where no line may break */

/* Words of text from column col on, wrapped before HELP_WIDTH to continue at the help
 * column ('\n' counts as a space); returns the column reached. */
static int print_wrapped(FILE *out, const char *text, int col)
{
    for (const char *p = text; *p;) {
        if (*p == '\n' || *p == ' ') {
            p++;
            continue;
        }
        int len = (int)strcspn(p, " \n");
        int gap = col > HELP_COL ? 1 : 0;
        if (col + gap + len > HELP_WIDTH && col > HELP_COL) {
            fprintf(out, "\n%*s", HELP_COL, "");
            col = HELP_COL;
            gap = 0;
        }
        fprintf(out, "%*s", gap, "");
        for (int k = 0; k < len; k++)
            fputc(p[k] == NBSP ? ' ' : p[k], out);
        col += gap + len;
        p += len;
    }
    return col;
}

void opt_usage(FILE *out, const struct opt_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct opt *o = &t->opts[i];
        if (!in_scope(t, o))
            continue;
        int col = print_left(out, o);
        if (col >= HELP_COL)
            fprintf(out, "\n%*s", HELP_COL, "");
        else
            fprintf(out, "%*s", HELP_COL - col, "");
        col = print_wrapped(out, o->help, HELP_COL);
        const char *def = o->def_note ? o->def_note : o->def;
        if (def) {
            char text[512];
            snprintf(text, sizeof text, "(default:%c%s)", NBSP, def); /* kept together */
            print_wrapped(out, text, col);
        }
        fputc('\n', out);
    }
}

void opt_free_strings(const struct opt_table *t, void *base)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->opts[i].type != OPT_STRING)
            continue;
        char **s = field(base, &t->opts[i]);
        free(*s);
        *s = NULL;
    }
}

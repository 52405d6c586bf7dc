/* opt - one table of options per program: the command line (getopt_long built from the
 * table), a config file whose directives are the long names, and --help, all from the same
 * entries, with the value parsers of values.h. Shared by the server and the client. Pure: no
 * logging, no exit(); errors are one line in the caller's err buffer. Not thread-safe (getopt's
 * globals): parse on one thread. */
#ifndef LINEPOOL_OPT_H
#define LINEPOOL_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
    OPT_FLAG,    /* int = 1; takes no value */
    OPT_UINT,    /* unsigned, digits only, min..max */
    OPT_U64,     /* uint64_t, digits only, min..max */
    OPT_SIZE,    /* size_t bytes, "64K" "1MiB" (values_parse_size), min..max */
    OPT_SIZE64,  /* uint64_t bytes, same grammar */
    OPT_SECONDS, /* double seconds, "2" "0.5" "1500ms" (values_parse_duration), min..max ns */
    OPT_PORT,    /* uint16_t, min..max within 0..65535 */
    OPT_STRING,  /* char *, owned (strdup), replaced when given again */
    OPT_FUNC,    /* .apply(base, value) does it: lists, modes, compound values */
};

/* Entry flags. */
#define OPT_REPEAT                                                                                 \
    1u                 /* a list: given again adds; a later source (the command line over the      \
                        * config file) replaces the earlier source's list (.clear first) */
#define OPT_CLI     2u /* command line only (--help, --config): refused in a config file */
#define OPT_NOVALUE 4u /* an OPT_FUNC that takes no value (apply gets NULL) */
#define OPT_OPTIONAL                                                                               \
    8u /* the value may be left out (only as --name=VALUE then; apply gets                         \
        * NULL without one) */

struct opt {
    const char *name;    /* long name; also the directive in a config file */
    char short_name;     /* 0 = none */
    const char *metavar; /* NULL for flags */
    const char *help;    /* --help wraps it to the width ('\n' is a space) */
    enum opt_type type;
    const char *def;      /* default as text (parsed by opt_defaults; shown by --help), or NULL */
    const char *def_note; /* shown instead of def when the default is computed ("CPUs") */
    uint64_t min, max;    /* limits of numbers, sizes, ports; of seconds in nanoseconds.
                           * max 0 = the type's own maximum */
    size_t offset;        /* where the value goes: offsetof(struct ..., field) */
    unsigned flags;
    unsigned scope; /* bits of where it applies (the client's commands); 0 = everywhere */
    /* OPT_FUNC: stores value (NULL for OPT_NOVALUE) into base. Returns 0, or a negative errno
     * with the reason alone in err (the caller prefixes "--name value: "). */
    int (*apply)(void *base, const char *value, char *err, size_t errlen);
    /* OPT_REPEAT: empties the list before a later source's first entry. */
    void (*clear)(void *base);
};

struct opt_table {
    const struct opt *opts;
    size_t n;
    unsigned scope; /* entries whose scope has none of these bits are left out; 0 = all */
};

#define OPT_TABLE(arr) ((struct opt_table){(arr), sizeof(arr) / sizeof((arr)[0]), 0})

/* Where a value came from, for precedence and error lines. */
enum opt_source { OPT_SRC_DEFAULT = 0, OPT_SRC_FILE = 1, OPT_SRC_CLI = 2 };

/* Per parse: which source last set each entry (so a repeatable option's list from the config
 * file is replaced by the command line's, not added to). n = the table's n. */
struct opt_state {
    unsigned char *src;
    size_t n;
};

/* Sets every entry in scope that has a .def to it (an OPT_FUNC through its .apply). */
int opt_defaults(const struct opt_table *t, void *base, char *err, size_t errlen);

/* Applies one value to one entry, from source src (st may be NULL when there is one source).
 * Errors: "--name value: reason" on the command line, "name value: reason" from a file.
 * -EINVAL (grammar), -ERANGE (overflow or outside min..max), -ENOMEM, or what .apply returned
 * (a positive result of .apply is passed through, err untouched). */
int opt_apply(const struct opt_table *t, const struct opt *o, void *base, const char *value,
              enum opt_source src, struct opt_state *st, char *err, size_t errlen);

/* The entry named name (long name), or NULL. */
const struct opt *opt_find(const struct opt_table *t, const char *name, size_t len);

/* Runs getopt_long over argv with the table's options. For each option calls
 * visit(ctx, entry, value); stops at the first non-zero result and returns it. Errors:
 * "unknown option 'X'", "option 'X' needs a value" (-EINVAL). *first_arg is
 * set to optind (the first operand; getopt permutes argv). */
int opt_getopt(const struct opt_table *t, int argc, char **argv,
               int (*visit)(void *ctx, const struct opt *o, const char *value), void *ctx,
               int *first_arg, char *err, size_t errlen);

/* Parses the text of a config file: one directive per line, "NAME VALUE" (NAME a long
 * option, VALUE the rest of the line less surrounding blanks; a flag has no VALUE), blank
 * lines and lines starting with '#' ignored. Errors are "PATH:LINE: ..." (-EINVAL and the
 * like). A NUL byte or an OPT_CLI name is refused. Applies each with OPT_SRC_FILE. */
int opt_parse_text(const struct opt_table *t, void *base, const char *path, const char *text,
                   size_t len, struct opt_state *st, char *err, size_t errlen);

/* Reads path (a regular file or a pipe, at most OPT_FILE_MAX bytes) and opt_parse_text()s
 * it. A missing file, a directory or a read error is "PATH: reason". With OPT_FILE_REGULAR
 * only a regular file is read, and opening never blocks (a FIFO without a writer would):
 * for a re-read on a thread that must not wait, anything else is "PATH: not a regular file". */
#define OPT_FILE_MAX     (1024 * 1024)
#define OPT_FILE_REGULAR 1u
int opt_parse_file(const struct opt_table *t, void *base, const char *path, unsigned flags,
                   struct opt_state *st, char *err, size_t errlen);

/* Prints one block per entry: "  -s, --name METAVAR", the help from column 26 wrapped before
 * column 100, and "(default: X)" for every entry with a default. */
void opt_usage(FILE *out, const struct opt_table *t);

/* Frees every OPT_STRING of base (the caller frees OPT_FUNC lists). */
void opt_free_strings(const struct opt_table *t, void *base);

#endif

/* values - the parsers of every typed value a user writes: on the server's and the client's
 * command lines and in the config file (sizes, durations, counts, ports, addresses) and in
 * plugin arguments (bool, unsigned, size, duration). One grammar for all of them. Self-contained:
 * no allocation, no logging, no globals, any thread. Inputs are (text, len) and need no NUL. Every
 * function returns 0, or -EINVAL for text outside the grammar, -ERANGE for a well-formed value that
 * does not fit; *out is written only on success. */
#ifndef LINEPOOL_VALUES_H
#define LINEPOOL_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* Decimal digits only (no sign, no space, leading zeros fine): "0" .. "18446744073709551615". */
int values_parse_uint(const char *text, size_t len, uint64_t *out);

/* Bytes: digits, then an optional unit K, M, G or T (any case, powers of 1024), optionally
 * followed by "i" and/or "B" ("64K", "1MiB", "2gb"). A bare "B" is refused. */
int values_parse_size(const char *text, size_t len, uint64_t *out);

/* A duration in nanoseconds: digits with an optional fraction, then "s" (the default) or
 * "ms": "2", "0.5", "1500ms", "2s". At most 1e9 seconds. Fraction digits past 1 ns are cut. */
int values_parse_duration(const char *text, size_t len, uint64_t *ns);

/* "1", "0", "true", "false", "yes", "no", "on", "off" (lower case) -> 1 or 0. */
int values_parse_bool(const char *text, size_t len, int *out);

/* A TCP port 0-65535 (digits only). */
int values_parse_port(const char *text, size_t len, uint16_t *out);

/* An address "HOST:PORT" or "[IPV6]:PORT": HOST is non-empty and holds no ':' unless it is in
 * brackets, and no '[' or ']' inside; PORT as values_parse_port. *host, *hostlen: the host
 * (brackets removed), a slice of text. *why, when not NULL, names what is wrong on an error
 * ("missing :PORT", "write IPv6 hosts as [ADDR]:PORT", ...). -ERANGE: a port past 65535. */
int values_parse_address(const char *text, size_t len, const char **host, size_t *hostlen,
                         uint16_t *port, const char **why);

/* Largest duration values_parse_duration accepts, in seconds. */
#define VALUES_MAX_SECONDS 1000000000ull

#endif

/* cidr - address ranges ("127.0.0.0/8", "::1", "10.0.0.0/8,fd00::/8") and matching a socket
 * address against them: who may send a PROXY header. Pure: no I/O, no logging. */
#ifndef LINEPOOL_CIDR_H
#define LINEPOOL_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

struct cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned prefix;        /* leading bits that must match: 0-32 or 0-128 */
    unsigned char addr[16]; /* network order; 4 bytes used for AF_INET */
};

/* Parses a comma-separated list of ADDR or ADDR/BITS (numeric addresses only; an address
 * alone is /32 or /128; host bits set below the prefix are refused, as a typo). On success
 * *out (malloc'd, the caller frees) holds *n >= 1 entries. Returns 0 or -EINVAL with one line
 * in err (the reason alone), or -ENOMEM. */
int cidr_parse_list(const char *text, struct cidr **out, size_t *n, char *err, size_t errlen);

/* 1 when sa (AF_INET, AF_INET6, or an IPv4-mapped AF_INET6) is inside one of the ranges. */
int cidr_match(const struct cidr *list, size_t n, const struct sockaddr *sa);

#endif

/* cidr - parsing and matching address ranges. */
#include "cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_one(const char *s, size_t len, struct cidr *c)
{
    char text[INET6_ADDRSTRLEN + 5];
    if (len == 0 || len >= sizeof text)
        return -EINVAL;
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    memset(c, 0, sizeof *c);
    if (inet_pton(AF_INET, text, c->addr) == 1)
        c->family = AF_INET, c->prefix = 32;
    else if (inet_pton(AF_INET6, text, c->addr) == 1)
        c->family = AF_INET6, c->prefix = 128;
    else
        return -EINVAL;
    if (slash) {
        const char *bits = slash + 1;
        unsigned v = 0;
        size_t nb = strlen(bits);
        if (nb == 0 || nb > 3 || (bits[0] == '0' && nb > 1))
            return -EINVAL;
        for (size_t i = 0; i < nb; i++) {
            if (bits[i] < '0' || bits[i] > '9')
                return -EINVAL;
            v = v * 10 + (unsigned)(bits[i] - '0');
        }
        if (v > c->prefix)
            return -EINVAL;
        c->prefix = v;
    }
    size_t bytes = c->family == AF_INET ? 4 : 16;
    for (size_t bit = c->prefix; bit < bytes * 8; bit++) /* host bits must be zero */
        if (c->addr[bit / 8] & (0x80 >> (bit % 8)))
            return -EINVAL;
    return 0;
}

int cidr_parse_list(const char *text, struct cidr **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    struct cidr *list = calloc(cap, sizeof *list);
    if (!list)
        return -ENOMEM;
    const char *start = text;
    for (;;) {
        const char *comma = strchr(start, ',');
        size_t len = comma ? (size_t)(comma - start) : strlen(start);
        if (parse_one(start, len, &list[*n])) {
            snprintf(err, errlen, "'%.*s' is not ADDR or ADDR/BITS (numeric, host bits zero)",
                     (int)len, start);
            free(list);
            *n = 0;
            return -EINVAL;
        }
        (*n)++;
        if (!comma)
            break;
        start = comma + 1;
    }
    *out = list;
    return 0;
}

static int match_bits(const unsigned char *a, const unsigned char *net, unsigned prefix)
{
    size_t whole = prefix / 8;
    if (memcmp(a, net, whole))
        return 0;
    unsigned rest = prefix % 8;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[whole] & mask) == net[whole];
}

int cidr_match(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
    const unsigned char *a;
    int family = sa->sa_family;
    if (family == AF_INET) {
        a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        a = a6->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            family = AF_INET;
            a += 12;
        }
    } else {
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (list[i].family == family && match_bits(a, list[i].addr, list[i].prefix))
            return 1;
    return 0;
}

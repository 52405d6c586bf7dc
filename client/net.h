/* net - the socket helpers every subcommand shares: resolve once, connect, name errors. */
#ifndef LINEPOOL_CLIENT_NET_H
#define LINEPOOL_CLIENT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[80]; /* "127.0.0.1:5005" or "[::1]:5005", for messages */
};

/* Resolves host (name, IPv4 or IPv6 literal) and port to the first TCP address. Returns 0,
 * or -EINVAL with one line in err. */
int net_resolve(struct net_addr *out, const char *host, uint16_t port, char *err, size_t errlen);

/* A non-blocking TCP socket connecting to a (close-on-exec). Returns the fd, whose connect may
 * still be in progress (check net_connect_result once writable), or a negative errno when the
 * connect failed at once (-ECONNREFUSED, -EMFILE, ...). */
int net_connect_start(const struct net_addr *a);

/* After a non-blocking connect: 0 when connected, else the negative errno it failed with. */
int net_connect_result(int fd);

/* Connects within timeout seconds. Returns a connected non-blocking fd or a negative errno
 * (-ETIMEDOUT when the timeout passed). */
int net_connect_wait(const struct net_addr *a, double timeout);

/* Disables Nagle: each write goes out at once, as the tutorial's sender does. */
void net_nodelay(int fd);

#endif

/* listener - binds and listens on one address, formats addresses. Accepting is done by the
 * server's main loop, which owns the back-off on EMFILE. */
#ifndef LINEPOOL_LISTENER_H
#define LINEPOOL_LISTENER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text of "[ffff:...:ffff]:65535". */
#define ADDR_TEXT_MAX 64

/* Binds a non-blocking, close-on-exec listening socket on host:port (SO_REUSEADDR; IPv6
 * sockets are v6-only). host is a numeric address or a name; the first address that binds
 * is used. Writes the bound address ("127.0.0.1:41234", "[::1]:5005") into name. Returns the
 * fd, or a negative errno with one line in err. */
int listener_open(const char *host, uint16_t port, char name[ADDR_TEXT_MAX], char *err,
                  size_t errlen);

/* Formats a socket address as "1.2.3.4:port" or "[v6]:port". */
void addr_format(const struct sockaddr *sa, char out[ADDR_TEXT_MAX]);

#endif

/* admin - the admin listener (--admin HOST:PORT): Prometheus metrics and health checks over
 * HTTP/1.x, and line commands (PING, stats, plugins), on one port.
 *
 * It runs on a thread of its own with its own epoll set, so no admin client (a slow scraper,
 * a slowloris, a thousand scrapers at once) ever delays the main thread's accepts and
 * signals or a worker's connections; everything it reports it reads from atomics that the
 * hot path writes anyway (metrics.h). Bounds: at most ADMIN_MAX_CONNS clients at once (the
 * rest wait in the listen backlog), ADMIN_HEAD_MAX bytes per request, ADMIN_TIMEOUT_S from
 * accept or the last answer to the next complete request. */
#ifndef LINEPOOL_ADMIN_H
#define LINEPOOL_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#define ADMIN_MAX_CONNS 32
#define ADMIN_TIMEOUT_S 5

struct admin;
struct metrics_src;

/* Binds host:port (a numeric address or a name, first address that binds). NULL with one
 * line in err. Main thread, at startup. */
struct admin *admin_open(const char *host, uint16_t port, char *err, size_t errlen);

/* Like admin_open, on fd, a socket that listens already (handed over by a SIGUSR2 upgrade:
 * passfd.h). Owns fd. NULL with one line in err. */
struct admin *admin_adopt(int fd, char *err, size_t errlen);

/* The listening socket, for an upgrade to hand over. */
int admin_fd(const struct admin *a);

/* The bound address, "127.0.0.1:9090". */
const char *admin_addr(const struct admin *a);

/* Starts the admin thread answering from src, which must stay valid until admin_free.
 * Returns 0 or a negative errno. */
int admin_start(struct admin *a, const struct metrics_src *src);

/* Stops the thread (clients still connected are closed), closes the socket, frees. NULL is
 * a no-op. */
void admin_free(struct admin *a);

#endif

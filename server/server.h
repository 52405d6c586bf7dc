/* server - owns everything: plugins, listeners, the worker pool, the set of connections.
 * Its main loop (on the main thread) accepts, handles signals, sweeps timeouts and drives
 * the graceful shutdown; workers do all connection I/O (see conn.h, pool.h). */
#ifndef LINEPOOL_SERVER_H
#define LINEPOOL_SERVER_H

#include "config.h"

#include <stddef.h>

struct server;

/* Loads plugins, binds listeners (printing one 'listening on' line each on stdout), starts
 * the workers. Returns NULL with one line in err. The config must outlive the server. */
struct server *server_start(const struct config *cfg, char *err, size_t errlen);

/* --check-config: loads the plugins of cfg (their load hooks run, their arguments are
 * checked) and resolves every listener's chain, binding nothing, then unloads them. Returns
 * 0, or a negative errno with one line in err. */
int server_check(const struct config *cfg, char *err, size_t errlen);

/* Lets SIGUSR2 start exe (an absolute path) with argv as the server's successor. Both must
 * outlive the server. Without this call SIGUSR2 is logged and ignored. */
void server_allow_upgrade(struct server *s, const char *exe, char *const argv[]);

/* Tells the service manager READY=1 (notify.h), then serves until SIGINT/SIGTERM, then drains.
 * Returns the exit status: 0 after a clean drain, 1 when the drain deadline passed or a second
 * signal forced the stop (the process should then _exit: a worker may still be inside a plugin). */
int server_run(struct server *s);

/* Frees a server whose run returned 0, or one that never ran. */
void server_free(struct server *s);

#endif

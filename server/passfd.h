/* passfd - listening sockets handed over at exec (the systemd socket-activation protocol,
 * sd_listen_fds(3)): fds 3..3+N-1, N in LISTEN_FDS, for the process in LISTEN_PID, named by
 * the ':'-separated LISTEN_FDNAMES. systemd passes them for `--listen systemd:NAME`; a
 * binary upgrade (upgrade.h) passes every listener the same way, named by passfd_key. */
#ifndef LINEPOOL_PASSFD_H
#define LINEPOOL_PASSFD_H

#include <stddef.h>
#include <stdint.h>

/* systemd's limit on a FileDescriptorName (fdname_is_valid): 255 printable bytes, no ':'. */
#define PASSFD_NAME_MAX 255

struct passfd {
    int fd;
    char *name;
    int used;
};

struct passfds {
    struct passfd *v;
    size_t n;
};

/* Takes the sockets passed to this process and unsets LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES (so nothing this process starts inherits them). None when LISTEN_PID or
 * LISTEN_FDS is absent, or LISTEN_PID is another process's. Marks each close-on-exec.
 * Returns 0, or a negative errno with one line in err: a malformed count, a count of names
 * that differs from LISTEN_FDS, a passed fd that is not open. Main thread, before other
 * threads read the environment. */
int passfd_from_env(struct passfds *p, char *err, size_t errlen);

/* Splits LISTEN_FDNAMES text into exactly n names (NULL text: n times "unknown"). Returns
 * 0 with *out an array of n malloc'd strings (passfd_free_names), -EINVAL when the count
 * differs or a name is empty or too long, -ENOMEM. Pure. */
int passfd_parse_names(const char *text, size_t n, char ***out);
void passfd_free_names(char **names, size_t n);

/* The first passed socket named `name` not claimed yet, now claimed; -ENOENT if none. */
int passfd_claim(struct passfds *p, const char *name);

/* How many passed sockets carry `name`. */
size_t passfd_count(const struct passfds *p, const char *name);

/* 0 when fd is a listening stream socket, else -ENOTSOCK/-EINVAL with the reason in why. */
int passfd_check_listening(int fd, char *why, size_t len);

/* The name an upgrade gives the socket of `--listen HOST:PORT`: HOST (each ':' of an IPv6
 * address written '.') + '/' + PORT, e.g. "127.0.0.1/0", "..1/5005". Names have no ':'. */
void passfd_key(const char *host, uint16_t port, char *out, size_t len);

/* Closes every passed socket nobody claimed, logging one warning each; frees p. */
void passfd_finish(struct passfds *p);

#endif

/* listener - binds and listens on an address, and accepts on a set of listeners with the
 * back-off at the fd limit (EMFILE): the set stops being polled for a while instead of
 * spinning on a backlog it cannot accept. Main thread only. */
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

/* One bound listening socket. user is the caller's (the server keeps the listener's plugin
 * chain there); the epoll event of a listener carries the struct listener pointer. */
struct listener {
    int fd;
    char name[ADDR_TEXT_MAX];
    void *user;
};

/* Called for each accepted socket; the callee owns fd from then on. */
typedef void (*listener_admit_fn)(void *ctx, struct listener *l, int fd, const struct sockaddr *sa);

/* The listeners polled by one epoll set, with the state of the fd-limit back-off. */
struct listeners {
    struct listener *items;
    size_t n;
    int epfd;       /* the set they are polled in (level-triggered, EPOLLIN) */
    int reserve_fd; /* kept open only to be closed at EMFILE, so one client can be told why */
    int paused;
    int fds_short; /* out of fds at the last back-off, and no accept has succeeded since */
    uint64_t resume_ns;
    listener_admit_fn admit;
    void *admit_ctx;
};

/* Prepares an empty set polled in epfd; admit receives every accepted socket. 0 or -errno. */
int listeners_init(struct listeners *ls, size_t capacity, int epfd, listener_admit_fn admit,
                   void *admit_ctx);

/* Binds the next listener (see listener_open) and polls it. 0 or -errno with a line in err. */
int listeners_add(struct listeners *ls, const char *host, uint16_t port, void *user, char *err,
                  size_t errlen);

/* Polls fd, a socket that listens already (passed at exec: passfd.h), as the next listener:
 * made non-blocking (a flag of the socket, shared with whoever else holds it) and named by
 * its address. Owns fd from then on. 0 or -errno with a line in err. */
int listeners_adopt(struct listeners *ls, int fd, void *user, char *err, size_t errlen);

/* Accepts up to a burst on l (ls's listener with an event). Out of fds it pauses the whole
 * set for 100 ms (the second pause in a row also tells one waiting client why, through the
 * reserve fd); stats count the refusals. */
void listeners_accept(struct listeners *ls, struct listener *l, uint64_t now_ns);

/* Resumes polling after a pause once now_ns has reached its end. */
void listeners_tick(struct listeners *ls, uint64_t now_ns);

/* Stops polling and closes every listener (the drain); accepts nothing from then on. */
void listeners_close(struct listeners *ls);

/* Closes what is still open and frees the set. */
void listeners_free(struct listeners *ls);

#endif

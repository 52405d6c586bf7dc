/* floor_echo - the floor for linepool's CPU-per-request row: the least a server can do for
 * echo over TCP, one thread, level-triggered epoll, one read and one write per readable
 * socket, nothing else (issue 11 calls it "a 60-line single-threaded level-triggered epoll
 * echo server"). A bench peer only: it echoes bytes, not lines, and drops a reply the socket
 * has no room for, which the bench's small requests never meet. Usage: floor_echo [PORT];
 * prints "listening on 127.0.0.1:PORT" (0 picks a free port). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    a.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    socklen_t alen = sizeof a;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        perror("floor_echo");
        return 2;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, ready[64];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static char buf[16384];
    for (;;) {
        int n = epoll_wait(ep, ready, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = ready[i].data.fd;
            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0)
                    continue;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                ev.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
            } else {
                ssize_t got = read(fd, buf, sizeof buf);
                if (got <= 0)
                    close(fd); /* end of stream or error (EAGAIN cannot be: it was readable) */
                else if (write(fd, buf, (size_t)got) < 0)
                    close(fd);
            }
        }
    }
}

/*
 * forwarder: the benchmark's "floor" peer, the cheapest TCP proxy we know how to write.
 *
 * Why it exists: issue 4 sets per-request targets (CPU, added latency, SSE gap) for a proxy on this
 * machine's loopback. Most of a proxy's cost there is the kernel's (accept, epoll, read, write, TCP on
 * loopback), which no user-space proxy can avoid. This program does only that work, so its figures,
 * measured in the same run, are the floor any user-space proxy reaches here; a target below the floor
 * cannot be met by better code in the proxy.
 *
 * It is NOT an HTTP proxy and NOT a competitor: it does not parse HTTP, rewrite paths or bodies
 * (no max_tokens rename), pool upstream connections or add headers. It opens one upstream connection
 * per client connection and copies bytes both ways, so a client must send the upstream's own path.
 * It uses read()/write(), not splice(): a proxy that parses HTTP must see the bytes in user space, so
 * one copy in and one copy out per direction is the honest floor for such a proxy.
 *
 * Design (one thread, epoll, non-blocking sockets, nothing unbounded):
 *   - edge-triggered epoll on every connection, registered once (EPOLLIN|EPOLLOUT|EPOLLRDHUP) and never
 *     modified: readiness is kept in flags (as nginx does), so the steady state costs no epoll_ctl and
 *     a fully shut socket cannot make epoll spin;
 *   - one fixed 64 KiB buffer per direction. A direction reads its source only when its buffer is empty;
 *     when the destination cannot take the bytes (EAGAIN or a short write), the direction stops reading
 *     until the destination's EPOLLOUT edge: backpressure goes back to the sender through TCP;
 *   - EOF from a side: flush what is buffered, then shutdown(SHUT_WR) the other side; the pair is
 *     closed when both directions have done so, or at once on any error. Errors never end the process.
 *
 * Usage: forwarder --listen 127.0.0.1:P --upstream 127.0.0.1:Q   (IPv4 only)
 * Build: cc -O2 -Wall -Wextra -o forwarder bench/forwarder.c   (C11, glibc, no other dependency)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_CAP 65536
#define MAX_EVENTS 1024

struct pair;

/* One socket of a pair. `readable`/`writable` are the edge-triggered readiness we have not used up. */
typedef struct {
    int fd;
    int readable, writable, rdhup, connecting;
    struct pair *pair;
} End;

/* Bytes read from e[d] waiting to be written to e[1 - d] (data[off..<len]); `eof` once e[d] said EOF,
 * `shut` once the other side got SHUT_WR. */
typedef struct {
    size_t off, len;
    int eof, shut;
    char *data;
} Dir;

typedef struct pair {
    End e[2];
    Dir d[2];
    int dead;
    struct pair *next_dead;
    char bufs[2][BUF_CAP]; /* last, and never cleared: pages are touched only by the bytes read */
} Pair;

static int listen_marker; /* epoll data for the listener: its address, never a Pair's */

static int parse_addr(const char *s, struct sockaddr_in *sa) {
    const char *colon = strrchr(s, ':');
    char host[64];
    if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    long port = strtol(colon + 1, NULL, 10);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)port);
    return (port > 0 && port < 65536 && inet_pton(AF_INET, host, &sa->sin_addr) == 1) ? 0 : -1;
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* best effort: a failure only slows */
}

/* Closes both sockets (which also removes them from epoll) and queues the pair to be freed after the
 * current batch of events, which may still name it. */
static void kill_pair(Pair *p, Pair **dead) {
    if (p->dead) return;
    p->dead = 1;
    for (int i = 0; i < 2; i++)
        if (p->e[i].fd >= 0) close(p->e[i].fd);
    p->next_dead = *dead;
    *dead = p;
}

/* Moves bytes from e[d] to e[1 - d] as far as readiness allows. Returns -1 on a socket error. */
static int pump(Pair *p, int d) {
    End *src = &p->e[d], *dst = &p->e[1 - d];
    Dir *b = &p->d[d];
    for (;;) {
        if (b->off < b->len) { /* flush first: we read only into an empty buffer */
            if (!dst->writable) return 0;
            ssize_t n = write(dst->fd, b->data + b->off, b->len - b->off);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) { dst->writable = 0; return 0; }
                return -1;
            }
            b->off += (size_t)n;
            /* A short write means the send buffer is full; an EPOLLOUT edge comes when it drains. */
            if (b->off < b->len) { dst->writable = 0; return 0; }
            b->off = b->len = 0;
        }
        if (b->eof) {
            if (!b->shut && !dst->connecting) { shutdown(dst->fd, SHUT_WR); b->shut = 1; }
            return 0;
        }
        if (!src->readable) return 0;
        ssize_t n = read(src->fd, b->data, BUF_CAP);
        if (n > 0) {
            b->len = (size_t)n;
            /* A short read emptied the socket (edge-triggered: new data brings a new edge), unless the
             * peer's FIN already arrived (EPOLLRDHUP): then read on until read() returns 0. */
            if ((size_t)n < BUF_CAP && !src->rdhup) src->readable = 0;
        } else if (n == 0) {
            b->eof = 1;
            src->readable = 0;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            src->readable = 0;
            return 0;
        } else if (errno != EINTR) {
            return -1;
        }
    }
}

/* One accepted client: open its upstream connection and register both ends. */
static void open_pair(int epfd, int cfd, const struct sockaddr_in *up) {
    nodelay(cfd);
    Pair *p = malloc(sizeof *p);
    int ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!p || ufd < 0) goto fail;
    memset(p, 0, offsetof(Pair, bufs));
    p->d[0].data = p->bufs[0];
    p->d[1].data = p->bufs[1];
    nodelay(ufd);
    p->e[0] = (End){.fd = cfd, .pair = p}; /* e[0] the client, e[1] the upstream */
    p->e[1] = (End){.fd = ufd, .pair = p};
    if (connect(ufd, (const struct sockaddr *)up, sizeof *up) < 0) {
        if (errno != EINPROGRESS) goto fail;
        p->e[1].connecting = 1; /* done when the EPOLLOUT edge comes; SO_ERROR says how it went */
    }
    for (int i = 0; i < 2; i++) {
        /* Registering reports the current readiness at once (bytes the client already sent, etc.). */
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &p->e[i]};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, p->e[i].fd, &ev) < 0) goto fail;
    }
    return;
fail:
    close(cfd);
    if (ufd >= 0) close(ufd);
    free(p);
}

static void accept_all(int epfd, int lfd, const struct sockaddr_in *up) {
    for (;;) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) { open_pair(epfd, cfd, up); continue; }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return; /* EAGAIN: all taken. EMFILE etc.: the listener is level-triggered, so it is retried on the
                 * next wakeup (silently: a message per wakeup would flood stderr) */
    }
}

/* Events on one end: record readiness, finish a pending connect, then run both directions. */
static void on_event(End *e, uint32_t ev, Pair **dead) {
    Pair *p = e->pair;
    if (p->dead) return;
    /* A pending socket error (reset, refused connect): the received bytes are gone with it, and with
     * edge triggering nothing would report it again, so close now. */
    if (ev & EPOLLERR) { kill_pair(p, dead); return; }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) e->readable = 1;
    if (ev & (EPOLLRDHUP | EPOLLHUP)) e->rdhup = 1;
    if (ev & (EPOLLOUT | EPOLLHUP)) e->writable = 1; /* after HUP, write() reports the error */
    if (e->connecting && (ev & (EPOLLOUT | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) { kill_pair(p, dead); return; }
        e->connecting = 0;
    }
    if (e->connecting) e->writable = 0;
    if (pump(p, 0) < 0 || pump(p, 1) < 0) { kill_pair(p, dead); return; }
    if (p->d[0].shut && p->d[1].shut) kill_pair(p, dead);
}

int main(int argc, char **argv) {
    struct sockaddr_in lsa, usa;
    const char *listen_s = NULL, *up_s = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0) listen_s = argv[i + 1];
        else if (strcmp(argv[i], "--upstream") == 0) up_s = argv[i + 1];
    }
    if (!listen_s || !up_s || parse_addr(listen_s, &lsa) < 0 || parse_addr(up_s, &usa) < 0) {
        fputs("usage: forwarder --listen 127.0.0.1:P --upstream 127.0.0.1:Q\n", stderr);
        return 64;
    }
    signal(SIGPIPE, SIG_IGN); /* a write to a reset peer returns EPIPE instead of killing us */
    struct rlimit rl; /* 1,000 streams are 2,000 descriptors: raise the soft limit to the hard one */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (lfd < 0) { perror("forwarder: socket"); return 1; }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&lsa, sizeof lsa) < 0 || listen(lfd, 4096) < 0) {
        perror("forwarder: bind/listen");
        return 1;
    }
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_marker};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) { perror("forwarder: epoll"); return 1; }
    static struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("forwarder: epoll_wait");
            return 1;
        }
        Pair *dead = NULL;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &listen_marker) accept_all(epfd, lfd, &usa);
            else on_event(evs[i].data.ptr, evs[i].events, &dead);
        }
        while (dead) { /* freed only now: a later event of the same batch may have named the pair */
            Pair *next = dead->next_dead;
            free(dead);
            dead = next;
        }
    }
}

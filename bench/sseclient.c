/*
 * sseclient: the benchmark's SSE load client in C, the same measurement as `loadclient.py sse`.
 *
 * Why it exists: at 1,000 streams x 64 events 20 ms apart (~50,000 events/s) the Python client is
 * itself the bottleneck; its worst gaps and first-event times grow by tens of ms even against the
 * upstream directly, which hides the proxy's own added gap. This client does the same work in one
 * thread with epoll and no allocation per event, so its own delay stays far below a millisecond.
 *
 * What it does (mirrors run_sse() and class Stream in loadclient.py; keep the two in step):
 *   - connects all N sockets first (blocking connect, then TCP_NODELAY, then non-blocking);
 *   - writes the same request to each, back to back; a stream's t0 is taken just before its write;
 *   - reads the response head (status, "transfer-encoding: chunked"), de-chunks the body, splits
 *     events on "\n\n" across reads (as Python's bytes.split: "\n\n\n\n" is two events);
 *   - per stream: time to first complete event, worst gap between *content* events (text deltas),
 *     events, and "ok" when [DONE]/message_stop is seen or the chunked terminator arrives;
 *   - --pids: peak VmRSS of those processes, sampled every 50 ms while the streams run;
 *   - prints one JSON line with the same keys, order and rounding as the Python client.
 * Errors (connect, read) end that stream: it counts as incomplete (and non200 if no head came).
 * Nothing hangs: connecting all streams is bounded by --timeout (SO_SNDTIMEO bounds each connect), and
 * streaming by --timeout again from the first write, as in Python.
 *
 * Usage: sseclient [sse] --host H --port P --path /x --body '{...}' -n N --timeout S --pids PID...
 *        [--kernel-ts]   (opt-in, not in Python: event times from the kernel's receive stamps)
 * Build: cc -O2 -Wall -Wextra -o sseclient bench/sseclient.c   (C11, glibc, no other dependency)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A growable byte buffer: the response head, a partial chunk-size line, the unfinished event. */
typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static int buf_append(Buf *b, const char *d, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static void buf_consume(Buf *b, size_t n) {  /* drops the first n bytes */
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

enum { CH_SIZE = -1, CH_CRLF = -2 };  /* chunk_left states, as in Python: size line due, CRLF due */

typedef struct {
    int fd;
    int64_t t0, first, last, gap;  /* ns; first/last: -1 = not yet */
    long events;
    int in_head, chunked, done, ok, status, failed;
    long chunk_left;   /* bytes of chunk data left, or CH_SIZE / CH_CRLF */
    int crlf_left;     /* bytes of the CRLF after a chunk still to skip (CH_CRLF state) */
    size_t sent;       /* request bytes written so far */
    Buf head;          /* head bytes until "\r\n\r\n"; then a partial chunk-size line */
    Buf tail;          /* body bytes after the last "\n\n" */
} Stream;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t real_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --kernel-ts: the time the kernel received the data (SO_TIMESTAMPNS, CLOCK_REALTIME) instead of
 * the time this client got round to reading it. At 1,000 streams a burst of 1,000 ready sockets
 * takes this client ~5 ms of (mostly kernel) time to read; kernel stamps take that queueing out. */
static ssize_t recv_stamped(int fd, char *buf, size_t cap, int64_t *stamp) {
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union {
        char b[CMSG_SPACE(sizeof(struct timespec)) * 2];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    ssize_t r = recvmsg(fd, &mh, 0);
    *stamp = real_ns();
    if (r > 0)
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec k;
                memcpy(&k, CMSG_DATA(c), sizeof k);
                *stamp = (int64_t)k.tv_sec * 1000000000 + k.tv_nsec;
            }
    return r;
}

static long rss_kb(long pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long kb = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static int has(const char *p, size_t n, const char *needle) {
    return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* One complete event: the gap is measured between content events only (as loadclient.py). */
static void on_event(Stream *s, const char *ev, size_t n, int64_t now) {
    if (has(ev, n, "text_delta") ||
        (has(ev, n, "\"delta\":{\"content\":\"") && !has(ev, n, "\"content\":\"\""))) {
        if (s->last >= 0 && now - s->last > s->gap) s->gap = now - s->last;
        s->last = now;
    } else if (has(ev, n, "[DONE]") || has(ev, n, "message_stop")) {
        s->ok = 1;
    }
}

/* Body bytes: appended to the unfinished event, every "\n\n" ends one (Python's tail.split). */
static int count(Stream *s, const char *d, size_t n, int64_t now) {
    if (n == 0) return 0;
    size_t from = s->tail.len ? s->tail.len - 1 : 0;  /* the tail holds no "\n\n" of its own */
    if (buf_append(&s->tail, d, n) < 0) return -1;
    char *p = s->tail.p;
    size_t len = s->tail.len, start = 0, i = from;
    long found = 0;
    while (i + 1 < len) {
        char *q = memchr(p + i, '\n', len - 1 - i);
        if (!q) break;
        i = (size_t)(q - p);
        if (p[i + 1] == '\n') {
            if (found == 0 && s->first < 0) s->first = now - s->t0;
            found++;
            on_event(s, p + start, i - start, now);
            start = i + 2;
            i = start;
        } else {
            i++;
        }
    }
    s->events += found;
    if (start) buf_consume(&s->tail, start);
    return 0;
}

/* Python's int(x, 16) for a chunk-size field: optional blanks, optional 0x, hex digits. */
static int parse_hex(const char *p, size_t n, long *out) {
    while (n && strchr(" \t\r\n\v\f", *p)) p++, n--;
    while (n && strchr(" \t\r\n\v\f", p[n - 1])) n--;
    if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2, n -= 2;
    if (n == 0 || n > 15) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else if (c == '_') continue;
        else return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* De-chunks one read; body pieces go straight to count(). */
static int feed_chunked(Stream *s, const char *d, size_t n, int64_t now) {
    size_t i = 0;
    while (i < n && !s->done) {
        if (s->chunk_left == CH_CRLF) {
            size_t k = n - i < (size_t)s->crlf_left ? n - i : (size_t)s->crlf_left;
            i += k;
            s->crlf_left -= (int)k;
            if (s->crlf_left == 0) s->chunk_left = CH_SIZE;
        } else if (s->chunk_left == CH_SIZE) {
            const char *nl = memchr(d + i, '\n', n - i);
            size_t k = nl ? (size_t)(nl - (d + i)) + 1 : n - i;
            if (buf_append(&s->head, d + i, k) < 0) return -1;
            i += k;
            if (!nl) {
                if (s->head.len > 4096) s->done = 1;  /* no size line is this long */
                break;
            }
            /* a complete line ending in "\n": Python looks for "\r\n"; a bare "\n" keeps waiting */
            if (s->head.len < 2 || s->head.p[s->head.len - 2] != '\r') continue;
            const char *line = s->head.p;
            size_t ll = s->head.len - 2;
            const char *semi = memchr(line, ';', ll);
            if (semi) ll = (size_t)(semi - line);
            long size;
            s->head.len = 0;
            if (parse_hex(line, ll, &size) < 0) {
                s->done = 1;
                break;
            }
            if (size == 0) {
                s->done = s->ok = 1;
                break;
            }
            s->chunk_left = size;
        } else {
            size_t k = n - i < (size_t)s->chunk_left ? n - i : (size_t)s->chunk_left;
            if (count(s, d + i, k, now) < 0) return -1;
            i += k;
            s->chunk_left -= (long)k;
            if (s->chunk_left == 0) {
                s->chunk_left = CH_CRLF;
                s->crlf_left = 2;
            }
        }
    }
    return 0;
}

static int feed(Stream *s, const char *d, size_t n, int64_t now) {
    if (s->in_head) {
        size_t old = s->head.len;
        if (buf_append(&s->head, d, n) < 0) return -1;
        size_t from = old >= 3 ? old - 3 : 0;
        char *h = memmem(s->head.p + from, s->head.len - from, "\r\n\r\n", 4);
        if (!h) return 0;
        size_t hl = (size_t)(h - s->head.p);
        for (size_t i = 0; i < hl; i++)
            if (s->head.p[i] >= 'A' && s->head.p[i] <= 'Z') s->head.p[i] += 'a' - 'A';
        /* status: the second space-separated field, as int(head.split(" ", 2)[1]) */
        const char *sp = memchr(s->head.p, ' ', hl);
        s->status = 0;
        if (sp) {
            const char *e = memchr(sp + 1, ' ', hl - (size_t)(sp + 1 - s->head.p));
            size_t fl = e ? (size_t)(e - (sp + 1)) : hl - (size_t)(sp + 1 - s->head.p);
            char tmp[16];
            if (fl > 0 && fl < sizeof tmp) {
                memcpy(tmp, sp + 1, fl);
                tmp[fl] = 0;
                char *end;
                long v = strtol(tmp, &end, 10);
                while (*end == '\r' || *end == '\n' || *end == '\t') end++;
                if (*end == 0 && end != tmp) s->status = (int)v;
            }
        }
        s->chunked = memmem(s->head.p, hl, "transfer-encoding: chunked", 26) != NULL;
        s->in_head = 0;
        size_t body_at = hl + 4, body_n = s->head.len - body_at;
        /* the head buffer is reused for chunk-size lines: move the body out first */
        char *rest = NULL;
        if (body_n) {
            rest = malloc(body_n);
            if (!rest) return -1;
            memcpy(rest, s->head.p + body_at, body_n);
        }
        s->head.len = 0;
        int r = 0;
        if (body_n) r = s->chunked ? feed_chunked(s, rest, body_n, now) : count(s, rest, body_n, now);
        free(rest);
        return r;
    }
    return s->chunked ? feed_chunked(s, d, n, now) : count(s, d, n, now);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A float as Python's json.dumps(round(x, 3)) prints it: no trailing zeros, at least one decimal. */
static void put3(double x) {
    char b[64];
    snprintf(b, sizeof b, "%.3f", x);
    size_t l = strlen(b);
    while (l > 0 && b[l - 1] == '0') b[--l] = 0;
    if (l > 0 && b[l - 1] == '.') b[l++] = '0', b[l] = 0;
    fputs(b, stdout);
}

static void put_ms(int64_t ns, int valid) {
    if (valid) put3((double)ns / 1e6);
    else fputs("null", stdout);
}

static void usage(void) {
    fputs("usage: sseclient [sse] [--host H] [--port P] [--path P] [--body B] [-n N] [--timeout S] "
          "[--pids PID...] [--kernel-ts]\n", stderr);
    exit(2);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *path = "/", *body = "", *port_s = "0";
    long n = 1, npids = 0;
    double timeout = 60;
    int kernel_ts = 0;
    long *pids = calloc((size_t)argc + 1, sizeof *pids);
    if (!pids) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        char key[32];
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq && (size_t)(eq - a) < sizeof key) {  /* --key=value */
            memcpy(key, a, (size_t)(eq - a));
            key[eq - a] = 0;
            a = key;
            v = eq + 1;
        }
#define VAL() (v ? v : (i + 1 < argc ? argv[++i] : (usage(), "")))
        if (strcmp(a, "sse") == 0 && i == 1) continue;
        else if (strcmp(a, "--host") == 0) host = VAL();
        else if (strcmp(a, "--port") == 0) port_s = VAL();
        else if (strcmp(a, "--path") == 0) path = VAL();
        else if (strcmp(a, "--body") == 0) body = VAL();
        else if (strcmp(a, "--timeout") == 0) timeout = atof(VAL());
        else if (strcmp(a, "-n") == 0) n = atol(VAL());
        else if (strncmp(a, "-n", 2) == 0 && a[2] >= '0' && a[2] <= '9') n = atol(a + 2);
        else if (strcmp(a, "--kernel-ts") == 0) kernel_ts = 1;
        else if (strcmp(a, "--pids") == 0) {
            if (v) pids[npids++] = atol(v);
            while (i + 1 < argc && argv[i + 1][0] != '-') pids[npids++] = atol(argv[++i]);
        } else usage();
#undef VAL
    }
    if (n < 0) n = 0;
    /* the same pid twice is one key in Python's dict: keep the first */
    long np = 0;
    for (long i = 0; i < npids; i++) {
        int dup = 0;
        for (long j = 0; j < np; j++) dup |= pids[j] == pids[i];
        if (!dup) pids[np++] = pids[i];
    }
    npids = np;
    long *peak = calloc((size_t)npids + 1, sizeof *peak);
    if (!peak) return 1;
    for (long i = 0; i < npids; i++) peak[i] = rss_kb(pids[i]);

    /* the request, byte for byte as loadclient.request_bytes(..., keep_alive=False) */
    size_t body_len = strlen(body);
    size_t req_cap = strlen(path) + strlen(host) + body_len + 512;
    char *req = malloc(req_cap);
    if (!req) return 1;
    int rl = snprintf(req, req_cap, "POST %s HTTP/1.1\r\nHost: %s:%s\r\n", path, host, port_s);
    if (body_len)
        rl += snprintf(req + rl, req_cap - (size_t)rl,
                       "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
    if (strstr(body, "\"stream\""))
        rl += snprintf(req + rl, req_cap - (size_t)rl, "Accept: text/event-stream\r\n");
    rl += snprintf(req + rl, req_cap - (size_t)rl, "Connection: close\r\n\r\n");
    memcpy(req + rl, body, body_len);
    size_t req_len = (size_t)rl + body_len;

    /* enough descriptors for every stream */
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)n + 64) {
        lim.rlim_cur = (rlim_t)n + 64;
        if (lim.rlim_max != RLIM_INFINITY && lim.rlim_cur > lim.rlim_max) lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, port_s, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "sseclient: %s:%s: %s\n", host, port_s, gai_strerror(gai));
        return 1;
    }
    Stream *ss = calloc((size_t)n + 1, sizeof *ss);
    struct epoll_event *evs = calloc(1024, sizeof *evs);
    char *rbuf = malloc(65536);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!ss || !evs || !rbuf || ep < 0) return 1;
    struct timeval ctv = {.tv_sec = (time_t)timeout, .tv_usec = (suseconds_t)((timeout - (time_t)timeout) * 1e6)};

    /* connect everyone first (blocking: loopback connects complete on the SYN-ACK), then fire */
    long connect_errors = 0;
    int64_t connect_deadline = now_ns() + (int64_t)(timeout * 1e9);
    for (long i = 0; i < n; i++) {
        Stream *s = &ss[i];
        s->fd = -1;
        s->first = s->last = -1;
        s->in_head = 1;
        s->chunk_left = CH_SIZE;
        int fd = now_ns() < connect_deadline ? socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol) : -1;
        if (fd < 0) {
            s->done = s->failed = 1;
            connect_errors++;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &ctv, sizeof ctv);  /* bounds connect() */
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            s->done = s->failed = 1;
            connect_errors++;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (kernel_ts) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        s->fd = fd;
    }
    freeaddrinfo(ai);
    if (connect_errors) fprintf(stderr, "sseclient: %ld connects failed: %s\n", connect_errors, strerror(errno));

    int64_t start = now_ns();
    long open_n = 0;
    for (long i = 0; i < n; i++) {
        Stream *s = &ss[i];
        if (s->fd < 0) continue;
        s->t0 = kernel_ts ? real_ns() : now_ns();
        ssize_t w = send(s->fd, req, req_len, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            close(s->fd);
            s->fd = -1;
            s->done = s->failed = 1;
            continue;
        }
        s->sent = w > 0 ? (size_t)w : 0;
        struct epoll_event e = {.events = EPOLLIN | (s->sent < req_len ? EPOLLOUT : 0), .data.u64 = (uint64_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e);
        open_n++;
    }

    int64_t deadline = start + (int64_t)(timeout * 1e9), next_sample = now_ns();
    int64_t t;
    while (open_n > 0 && (t = now_ns()) < deadline) {
        int64_t wait_ns = deadline - t;
        if (wait_ns > 50000000) wait_ns = 50000000;
        int k = epoll_wait(ep, evs, 1024, (int)((wait_ns + 999999) / 1000000));
        if (k < 0 && errno != EINTR) break;
        for (int j = 0; j < k; j++) {
            Stream *s = &ss[evs[j].data.u64];
            if (s->fd < 0) continue;
            int close_it = 0;
            if (s->sent < req_len && (evs[j].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                ssize_t w = send(s->fd, req + s->sent, req_len - s->sent, MSG_NOSIGNAL);
                if (w > 0) s->sent += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) close_it = 1;
                if (!close_it && s->sent == req_len) {
                    struct epoll_event e = {.events = EPOLLIN, .data.u64 = evs[j].data.u64};
                    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
                }
            }
            if (!close_it && (evs[j].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                int64_t now;
                ssize_t r = kernel_ts ? recv_stamped(s->fd, rbuf, 65536, &now) : (now = now_ns(), recv(s->fd, rbuf, 65536, 0));
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
                if (r > 0 && feed(s, rbuf, (size_t)r, now) < 0) s->failed = 1;
                if (r <= 0 || s->done || s->failed) close_it = 1;
            }
            if (close_it) {
                epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                close(s->fd);
                s->fd = -1;
                s->done = 1;
                open_n--;
            }
        }
        if (npids && now_ns() >= next_sample) {
            for (long i = 0; i < npids; i++) {
                long kb = rss_kb(pids[i]);
                if (kb > peak[i]) peak[i] = kb;
            }
            next_sample = now_ns() + 50000000;
        }
    }
    for (long i = 0; i < n; i++)
        if (ss[i].fd >= 0) close(ss[i].fd);
    int64_t wall = now_ns() - start;

    int64_t *firsts = malloc(sizeof(int64_t) * ((size_t)n + 1));
    int64_t *gaps = malloc(sizeof(int64_t) * ((size_t)n + 1));
    if (!firsts || !gaps) return 1;
    long nf = 0, ng = 0, events = 0, emin = 0, emax = 0, incomplete = 0, non200 = 0;
    for (long i = 0; i < n; i++) {
        Stream *s = &ss[i];
        if (s->first >= 0) firsts[nf++] = s->first;
        if (s->events > 1) gaps[ng++] = s->gap;
        events += s->events;
        if (i == 0 || s->events < emin) emin = s->events;
        if (i == 0 || s->events > emax) emax = s->events;
        /* a stream cut by a client-side failure never counts as ok, whatever it saw */
        if (!s->ok || s->failed) incomplete++;
        if (s->status != 200) non200++;
    }
    qsort(firsts, (size_t)nf, sizeof *firsts, cmp_i64);
    qsort(gaps, (size_t)ng, sizeof *gaps, cmp_i64);
    printf("{\"streams\": %ld, \"ttfe_ms_p50\": ", n);
    put_ms(nf ? firsts[nf / 2] : 0, nf > 0);
    fputs(", \"ttfe_ms_max\": ", stdout);
    put_ms(nf ? firsts[nf - 1] : 0, nf > 0);
    fputs(", \"gap_ms_max\": ", stdout);
    put_ms(ng ? gaps[ng - 1] : 0, ng > 0);
    fputs(", \"gap_ms_p50\": ", stdout);
    put_ms(ng ? gaps[ng / 2] : 0, ng > 0);
    printf(", \"events\": %ld, \"events_min\": %ld, \"events_max\": %ld, \"incomplete\": %ld, \"non200\": %ld, "
           "\"wall_s\": ", events, emin, emax, incomplete, non200);
    put3((double)wall / 1e9);
    fputs(", \"rss_peak_kb\": {", stdout);
    for (long i = 0; i < npids; i++) printf("%s\"%ld\": %ld", i ? ", " : "", pids[i], peak[i]);
    fputs("}}\n", stdout);
    fflush(stdout);
    for (long i = 0; i < n; i++) {
        free(ss[i].head.p);
        free(ss[i].tail.p);
    }
    free(ss), free(evs), free(rbuf), free(req), free(pids), free(peak), free(firsts), free(gaps);
    close(ep);
    return 0;
}

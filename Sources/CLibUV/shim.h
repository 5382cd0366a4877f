#ifndef CLIBUV_SHIM_H
#define CLIBUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <sys/prctl.h>

/// Sets SO_REUSEPORT on a socket before it is bound (libuv 1.44 has no flag for it).
static inline int CLibUV_set_reuseport(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
}

/// Names the calling thread (15 bytes show in top and ps); prctl is variadic, so Swift cannot call it.
static inline int CLibUV_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
#endif

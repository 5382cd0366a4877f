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
#include <malloc.h>

/// Sets SO_REUSEPORT on a socket before it is bound (libuv 1.44 has no flag for it).
static inline int CLibUV_set_reuseport(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
}

/// Names the calling thread (15 bytes show in top and ps); prctl is variadic, so Swift cannot call it.
static inline int CLibUV_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
/// Keeps large buffers on the heap between requests: below `mmap_threshold` bytes malloc takes them
/// from the heap instead of mapping fresh pages (an mmap, a munmap and a page fault per 4 KiB for each
/// 120 KB agent request otherwise), and it returns the heap's free top to the kernel only beyond
/// `trim_threshold` bytes. mallopt is glibc's; elsewhere this does nothing.
static inline void CLibUV_keep_large_buffers(int mmap_threshold, int trim_threshold) {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
#endif
}
#endif

#ifndef CBYTESEARCH_SHIM_H
#define CBYTESEARCH_SHIM_H
#include <stddef.h>

/// glibc's memrchr (vectorized), which Swift's Glibc module does not show (a GNU extension, declared
/// only under _GNU_SOURCE). Declared here and linked from libc; Providers uses it to find a JSON key
/// near the end of an answer it forwards without walking the JSON.
extern void *memrchr(const void *s, int c, size_t n);

/// The offset of the last `c` in the first `n` bytes of `s`, or -1.
static inline long CByteSearch_last_byte(const void *s, int c, size_t n) {
    const char *hit = (const char *)memrchr(s, c, n);
    return hit ? (long)(hit - (const char *)s) : -1;
}

#endif

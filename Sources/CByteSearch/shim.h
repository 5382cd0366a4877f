#ifndef CBYTESEARCH_SHIM_H
#define CBYTESEARCH_SHIM_H
#include <stddef.h>

/// glibc's memmem (vectorized), which Swift's Glibc module does not show (it is a GNU extension,
/// declared only under _GNU_SOURCE). Declared here and linked from libc; Providers uses it to find a
/// JSON key in an answer it forwards without walking the JSON.
extern void *memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);
/// glibc's memrchr (vectorized), hidden the same way.
extern void *memrchr(const void *s, int c, size_t n);

/// The offset of the last `c` in the first `n` bytes of `s`, or -1.
static inline long CByteSearch_last_byte(const void *s, int c, size_t n) {
    const char *hit = (const char *)memrchr(s, c, n);
    return hit ? (long)(hit - (const char *)s) : -1;
}

static inline long CByteSearch_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    const char *hit = (const char *)memmem(haystack, haystack_len, needle, needle_len);
    return hit ? (long)(hit - (const char *)haystack) : -1;
}
#endif

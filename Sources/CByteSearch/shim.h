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

#if defined(__SSE2__)
#include <emmintrin.h>

/// The index of the first byte at or after `i` (and before `n`) that is `"`, `\\`, below 0x20 or at
/// least 0x80: the end of a JSON string's plain run (JSONFastScan.plainRun, the reference). SSE2 (every
/// x86-64): sixteen bytes compared at once, one mask bit per byte, 32 bytes a step on long runs.
/// A signed `< 0x20` takes the control bytes and every byte from 0x80 at once. Returns `n` when there
/// is none; the last fifteen or fewer bytes are looked at one by one.
static inline long CByteSearch_json_plain_run(const unsigned char *p, long n, long i) {
    const __m128i quote = _mm_set1_epi8(0x22), backslash = _mm_set1_epi8(0x5C), space = _mm_set1_epi8(0x20);
#define CBYTESEARCH_STOPS(v) _mm_movemask_epi8(_mm_or_si128( \
        _mm_or_si128(_mm_cmpeq_epi8((v), quote), _mm_cmpeq_epi8((v), backslash)), _mm_cmplt_epi8((v), space)))
    if (n - i >= 16) {
        unsigned m = (unsigned)CBYTESEARCH_STOPS(_mm_loadu_si128((const __m128i *)(p + i)));
        if (m) return i + __builtin_ctz(m);
        i += 16;
        while (n - i >= 32) {
            unsigned a = (unsigned)CBYTESEARCH_STOPS(_mm_loadu_si128((const __m128i *)(p + i)));
            unsigned b = (unsigned)CBYTESEARCH_STOPS(_mm_loadu_si128((const __m128i *)(p + i + 16)));
            unsigned both = a | b << 16;
            if (both) return i + __builtin_ctz(both);
            i += 32;
        }
        if (n - i >= 16) {
            m = (unsigned)CBYTESEARCH_STOPS(_mm_loadu_si128((const __m128i *)(p + i)));
            if (m) return i + __builtin_ctz(m);
            i += 16;
        }
    }
#undef CBYTESEARCH_STOPS
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x20 || c >= 0x80 || c == 0x22 || c == 0x5C) return i;
        i++;
    }
    return i;
}
#endif

#include "json_skip.h"

#endif

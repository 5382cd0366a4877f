#ifndef CBYTESEARCH_JSON_SKIP_H
#define CBYTESEARCH_JSON_SKIP_H
/// A validating skip of one JSON value that looks at string bytes 64 at a time (x86-64 only; the
/// Swift `JSONFastScan.scalarValue` is the reference and the path elsewhere).
///
/// Same contract as `JSONFastScan.value`: strict RFC 8259 (UTF-8 validated, escapes checked, escaped
/// surrogates paired), a container at `max_depth` or deeper is invalid, and past 64 open containers the
/// answer is `CBYTESEARCH_JSON_TOO_DEEP` (the caller finishes with the detailed reader). Returns the
/// index after the value, or -1. Never reads at or past `n`.
///
/// How: strings are ~90% of a request's bytes and cost the byte-at-a-time scan a stop at every escape,
/// non-ASCII byte and quote. Here each 64-byte block of the value gets three bitmasks (quotes,
/// backslashes, and the bytes a string must look at: controls and non-ASCII) from vector compares;
/// arithmetic on the backslash mask gives the escaped characters (with a carry into the next block),
/// so a string's closing quote is the first unescaped quote after its opening one, found with one
/// count of trailing zeros. What lies between is checked only where the masks have a bit: the common
/// one-letter escapes (`\n`, `\"`, `\\`, ...) when their block is loaded, other escapes (`\u`, invalid
/// ones) and each non-ASCII sequence one by one (rare; sequences may cross blocks); a control byte is
/// an error. The grammar outside strings (structure, numbers, literals, whitespace) is walked byte by
/// byte, with the Swift scan's checks in the Swift scan's order: it is a few percent of a request's
/// bytes, and walking it in order keeps every answer (valid, end index, invalid, too deep) the Swift
/// scan's.
///
/// Why the masks can be trusted without an in-string mask: the walk reaches a string's opening quote
/// only after everything before it validated, so no quote or backslash outside strings came before it,
/// and whether a byte inside the string is escaped depends only on the backslash run before it, which
/// starts inside the string (or, for a string crossing blocks, is carried from the previous block).
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define CBYTESEARCH_JSON_TOO_DEEP (-2)

/// The masks of one 64-byte block: bit k is byte k.
typedef struct {
    uint64_t quote, backslash, special;
} CByteSearch_json_masks;

/// One of the two mask functions below. The skip takes it as a constant argument, so each of its two
/// copies (SSE2, AVX2) calls its own directly and inlines it.
typedef CByteSearch_json_masks (*CByteSearch_json_masks_fn)(const unsigned char *);

/// The block the skip's masks describe, [base, base + 64), and what they say.
typedef struct {
    long base;
    /// Unescaped quotes.
    uint64_t quote;
    /// Bytes a string must check: controls, non-ASCII, escape characters other than the one-letter ones.
    uint64_t content;
    /// Escaped characters (the byte after an escaping backslash).
    uint64_t escaped;
    /// 1 when the byte at base + 64 is escaped (the block ends in an odd backslash run).
    uint64_t carry;
} CByteSearch_json_block;

/// SSE2 (every x86-64): four 16-byte loads. A signed `< 0x20` takes the control bytes and every byte
/// from 0x80 at once.
static inline CByteSearch_json_masks CByteSearch_json_masks_sse2(const unsigned char *b) {
    const __m128i quote = _mm_set1_epi8(0x22), backslash = _mm_set1_epi8(0x5C), space = _mm_set1_epi8(0x20);
    CByteSearch_json_masks m = {0, 0, 0};
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(b + 16 * k));
        m.quote |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) << (16 * k);
        m.backslash |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash)) << (16 * k);
        m.special |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, space)) << (16 * k);
    }
    return m;
}

/// AVX2: two 32-byte loads.
static inline __attribute__((target("avx2,bmi,bmi2"))) CByteSearch_json_masks CByteSearch_json_masks_avx2(
    const unsigned char *b) {
    const __m256i quote = _mm256_set1_epi8(0x22), backslash = _mm256_set1_epi8(0x5C), space = _mm256_set1_epi8(0x20);
    __m256i lo = _mm256_loadu_si256((const __m256i *)b), hi = _mm256_loadu_si256((const __m256i *)(b + 32));
#define CBYTESEARCH_MASK64(cmp) ((uint64_t)(unsigned)_mm256_movemask_epi8(cmp(lo)) | \
        (uint64_t)(unsigned)_mm256_movemask_epi8(cmp(hi)) << 32)
#define CBYTESEARCH_QUOTE(v) _mm256_cmpeq_epi8((v), quote)
#define CBYTESEARCH_BACKSLASH(v) _mm256_cmpeq_epi8((v), backslash)
#define CBYTESEARCH_SPECIAL(v) _mm256_cmpgt_epi8(space, (v))
    CByteSearch_json_masks m = {
        CBYTESEARCH_MASK64(CBYTESEARCH_QUOTE), CBYTESEARCH_MASK64(CBYTESEARCH_BACKSLASH),
        CBYTESEARCH_MASK64(CBYTESEARCH_SPECIAL)};
#undef CBYTESEARCH_MASK64
#undef CBYTESEARCH_QUOTE
#undef CBYTESEARCH_BACKSLASH
#undef CBYTESEARCH_SPECIAL
    return m;
}

/// AVX-512 (BW): one 64-byte load, compares straight into the masks.
static inline __attribute__((target("avx512f,avx512bw,bmi,bmi2"))) CByteSearch_json_masks CByteSearch_json_masks_avx512(
    const unsigned char *b) {
    __m512i v = _mm512_loadu_si512((const void *)b);
    CByteSearch_json_masks m = {
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x22)), _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x5C)),
        _mm512_cmplt_epi8_mask(v, _mm512_set1_epi8(0x20))};
    return m;
}

/// The escaped characters of a block: each byte after an odd-length backslash run, and the first byte
/// when `carry` (0 or 1) says the previous block escapes it; `*carry_out` whether the next block's first
/// byte is escaped. (The escaped backslashes inside a run are not marked: nothing needs them.)
///
/// A run that starts on an even bit, plus its start bit, carries to the bit just past the run; that
/// bit is escaped when the run's length is odd, i.e. when it lands on an odd bit. The same with odd
/// starts and even landing bits. A run that reaches bit 63 carries out of the word: with an odd start
/// its length is odd, so the next block's first byte is escaped.
static inline __attribute__((always_inline)) uint64_t CByteSearch_json_escaped(uint64_t backslash, uint64_t carry,
                                                                               uint64_t *carry_out) {
    const uint64_t even = 0x5555555555555555ULL, odd = ~even;
    uint64_t b = backslash & ~carry;  // an escaped backslash starts no run
    uint64_t starts = b & ~(b << 1);
    uint64_t from_even, from_odd;
    (void)__builtin_add_overflow(b, starts & even, &from_even);
    *carry_out = __builtin_add_overflow(b, starts & odd, &from_odd);
    return (from_even & ~b & odd) | (from_odd & ~b & even) | carry;
}

/// 1 for the bytes that make a whole escape after a backslash: `"\\/bfnrt`.
static const unsigned char CByteSearch_json_simple_escapes[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1};

/// Of the escaped characters `escaped` of the 64 bytes at `bytes`, those that are not a whole escape
/// (`\u`, invalid ones): `CByteSearch_json_check` looks at them. The escapes strings are full of (`\n`,
/// `\"`, `\\`, `\t`, ...) are valid here and now.
static inline __attribute__((always_inline)) uint64_t CByteSearch_json_other_escapes(const unsigned char *bytes,
                                                                                    uint64_t escaped) {
    uint64_t others = 0;
    for (; escaped; escaped &= escaped - 1) {
        int k = __builtin_ctzll(escaped);
        others |= (uint64_t)(CByteSearch_json_simple_escapes[bytes[k]] ^ 1) << k;
    }
    return others;
}

/// The block of the 64 bytes at `bytes`, which are the input's from `base`. `carry` is the previous
/// block's when that block is the one before `base`; otherwise no string crosses into this block and
/// the carry is 0.
static inline __attribute__((always_inline)) CByteSearch_json_block CByteSearch_json_masked(
    const unsigned char *bytes, long base, uint64_t carry, CByteSearch_json_masks_fn masks) {
    CByteSearch_json_masks m = masks(bytes);
    CByteSearch_json_block b = {base, m.quote, m.special, 0, 0};
    if (__builtin_expect((m.backslash | carry) != 0, 0)) {
        b.escaped = CByteSearch_json_escaped(m.backslash, carry, &b.carry);
        b.quote &= ~b.escaped;
        b.content |= CByteSearch_json_other_escapes(bytes, b.escaped);
    }
    return b;
}

/// The block of the last bytes of a value's input, fewer than 64 from `base`, copied into a block of
/// spaces (which no mask marks): nothing at or past `n` is read. Out of line: once a value at most.
static inline __attribute__((noinline)) CByteSearch_json_block CByteSearch_json_tail(const unsigned char *p, long n,
                                                                                    long base, uint64_t carry,
                                                                                    CByteSearch_json_masks_fn masks) {
    unsigned char pad[64];
    memset(pad, 0x20, sizeof pad);
    memcpy(pad, p + base, (size_t)(n - base));
    return CByteSearch_json_masked(pad, base, carry, masks);
}

/// The block at `base` (see `CByteSearch_json_masked`).
static inline __attribute__((always_inline)) CByteSearch_json_block CByteSearch_json_load(
    const unsigned char *p, long n, long base, uint64_t carry, CByteSearch_json_masks_fn masks) {
    if (__builtin_expect(n - base >= 64, 1)) return CByteSearch_json_masked(p + base, base, carry, masks);
    return CByteSearch_json_tail(p, n, base, carry, masks);
}

/// The value of four hex digits at `i`, or -1.
static inline long CByteSearch_json_hex4(const unsigned char *p, long n, long i) {
    if (n - i < 4) return -1;
    long value = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = p[i + k], d;
        if ((unsigned char)(c - '0') < 10) d = (unsigned char)(c - '0');
        else if ((unsigned char)((c | 0x20) - 'a') < 6) d = (unsigned char)((c | 0x20) - 'a' + 10);
        else return -1;
        value = value << 4 | d;
    }
    return value;
}

/// The escape whose character (after the backslash) is at `j`: the index after it, or -1.
static inline long CByteSearch_json_escape(const unsigned char *p, long n, long j) {
    switch (p[j]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': return j + 1;
    case 'u': {
        long unit = CByteSearch_json_hex4(p, n, j + 1);
        if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return -1;
        if (unit < 0xD800 || unit > 0xDBFF) return j + 5;
        // A high surrogate: a `\u` low surrogate must follow.
        if (j + 6 >= n || p[j + 5] != '\\' || p[j + 6] != 'u') return -1;
        long low = CByteSearch_json_hex4(p, n, j + 7);
        if (low < 0xDC00 || low > 0xDFFF) return -1;
        return j + 11;
    }
    default: return -1;
    }
}

/// The UTF-8 sequence at `i` (its first byte is at least 0x80): the index after it, or -1. Overlong
/// forms, surrogates and code points past U+10FFFF are invalid.
static inline long CByteSearch_json_utf8(const unsigned char *p, long n, long i) {
    unsigned char c = p[i], low = 0x80, high = 0xBF;
    long length;
    if (c >= 0xC2 && c <= 0xDF) length = 2;
    else if (c == 0xE0) { length = 3; low = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) length = 3;
    else if (c == 0xED) { length = 3; high = 0x9F; }
    else if (c == 0xF0) { length = 4; low = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) length = 4;
    else if (c == 0xF4) { length = 4; high = 0x8F; }
    else return -1;  // continuation bytes, C0, C1, F5...FF
    if (n - i < length) return -1;
    if (p[i + 1] < low || p[i + 1] > high) return -1;
    for (long k = 2; k < length; k++)
        if ((p[i + k] & 0xC0) != 0x80) return -1;
    return i + length;
}

/// Checks the marked bytes `bits` of the block at `base`, all inside one string: an escape character
/// must be valid, a non-ASCII byte must start a valid sequence or lie in one checked before (bytes
/// before `checked` were), a control byte is invalid. Returns how far bytes are checked, or -1.
static inline __attribute__((noinline)) long CByteSearch_json_check(const unsigned char *p, long n, long base,
                                                                   uint64_t bits, uint64_t escaped, long checked) {
    do {
        long at = base + __builtin_ctzll(bits);
        bits &= bits - 1;
        if (at < checked) continue;
        if (at >= n) return -1;  // an escape of the padding: the string is unterminated anyway
        if (escaped >> (at - base) & 1) checked = CByteSearch_json_escape(p, n, at);
        else if (p[at] >= 0x80) checked = CByteSearch_json_utf8(p, n, at);
        else return -1;
        if (checked < 0) return -1;
    } while (bits);
    return checked;
}

static inline __attribute__((always_inline)) long CByteSearch_json_whitespace(const unsigned char *p, long n, long i) {
    while (i < n) {
        unsigned char c = p[i];
        if (c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09)) return i;
        i++;
    }
    return i;
}

/// The index after the number at `i`, or -1.
static inline long CByteSearch_json_number(const unsigned char *p, long n, long i) {
    if (p[i] == '-') i++;
    if (i >= n) return -1;
    unsigned char first = p[i];
    if ((unsigned char)(first - '0') >= 10) return -1;
    i++;
    if (first != '0') {
        while (i < n && (unsigned char)(p[i] - '0') < 10) i++;
    } else if (i < n && (unsigned char)(p[i] - '0') < 10) {
        return -1;  // leading zero
    }
    if (i < n && p[i] == '.') {
        long digits = ++i;
        while (i < n && (unsigned char)(p[i] - '0') < 10) i++;
        if (i == digits) return -1;
    }
    if (i < n && (p[i] | 0x20) == 'e') {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        long digits = i;
        while (i < n && (unsigned char)(p[i] - '0') < 10) i++;
        if (i == digits) return -1;
    }
    return i;
}

/// The index after `true`, `null` or `false` (`word`: its first four bytes, little-endian) at `i`, or -1.
static inline __attribute__((always_inline)) long CByteSearch_json_literal(const unsigned char *p, long n, long i,
                                                                          uint32_t word, long length) {
    if (n - i < length) return -1;
    uint32_t w;
    memcpy(&w, p + i, 4);
    if (w != word || (length == 5 && p[i + 4] != 'e')) return -1;
    return i + length;
}

/// The index after the string whose opening quote is at `q`, or -1: the first unescaped quote after
/// it, and a check of the bytes the masks mark between. `*b` is the block at hand (loaded here when the
/// string starts past it), `*checked` how far sequence checks reached.
static inline __attribute__((always_inline)) long CByteSearch_json_string(const unsigned char *p, long n,
                                                                         long start, long q,
                                                                         CByteSearch_json_block *b, long *checked,
                                                                         CByteSearch_json_masks_fn masks) {
    if (__builtin_expect((unsigned long)(q - b->base) >= 64, 0)) {
        long base = start + ((q - start) & ~63L);
        *b = CByteSearch_json_load(p, n, base, base == b->base + 64 ? b->carry : 0, masks);
    }
    uint64_t after = ~1ULL << (q - b->base);  // the bits after the opening quote
    for (;;) {
        uint64_t quotes = b->quote & after;
        uint64_t before = (quotes & (0 - quotes)) - 1;  // below the closing quote; all when none
        uint64_t content = b->content & after & before;
        if (__builtin_expect(content != 0, 0)) {
            *checked = CByteSearch_json_check(p, n, b->base, content, b->escaped, *checked);
            if (*checked < 0) return -1;
        }
        if (__builtin_expect(quotes != 0, 1)) {
            long end = b->base + __builtin_ctzll(quotes) + 1;
            __builtin_assume(end > 0);  // a block's base is never below `start` (at least 0)
            return end;
        }
        // The string goes on: to the next block with a quote or something to check.
        do {
            if (b->base + 64 >= n) return -1;
            *b = CByteSearch_json_load(p, n, b->base + 64, b->carry, masks);
        } while (!(b->quote | b->content));
        after = ~0ULL;
    }
}

/// The skip: `JSONFastScan.scalarValue`'s grammar and answers (the same checks in the same order, so
/// the same verdict, end index and `tooDeep`), written as jumps between its states, with strings
/// ended through the block masks.
static inline __attribute__((always_inline)) long CByteSearch_json_skip_with(const unsigned char *p, long n,
                                                                            long start, long depth, long max_depth,
                                                                            CByteSearch_json_masks_fn masks) {
    CByteSearch_json_block b = {start - 128, 0, 0, 0, 0};  // no block yet
    long checked = 0;  // bytes before this index were checked by a sequence check
    long i = start;
    uint64_t stack = 0;  // open containers, one bit each (1: object), innermost in bit 0
    long open = 0;
    unsigned char c;
// The next byte at `i` into `c`, past whitespace; -1 at the end of the input.
#define CBYTESEARCH_NEXT()                                                \
    do {                                                                  \
        if (__builtin_expect(i >= n, 0)) return -1;                       \
        c = p[i];                                                         \
        if (__builtin_expect(c <= 0x20, 0)) {                             \
            i = CByteSearch_json_whitespace(p, n, i);                     \
            if (i >= n) return -1;                                        \
            c = p[i];                                                     \
        }                                                                 \
    } while (0)
value:  // a value at `i` (whitespace skipped)
    if (__builtin_expect(i >= n, 0)) return -1;
    c = p[i];
    switch (c) {
    case '"':
        i = CByteSearch_json_string(p, n, start, i, &b, &checked, masks);
        if (i < 0) return -1;
        goto complete;
    case '{':
    case '[':
        if (depth + open >= max_depth) return -1;
        i = __builtin_expect(i + 1 < n && p[i + 1] > 0x20, 1) ? i + 1 : CByteSearch_json_whitespace(p, n, i + 1);
        if (i < n && p[i] == c + 2) {  // empty: `}` is `{` + 2, `]` is `[` + 2
            i++;
            goto complete;
        }
        if (open >= 64) return CBYTESEARCH_JSON_TOO_DEEP;
        open++;
        if (c == '[') {
            stack <<= 1;
            goto value;
        }
        stack = stack << 1 | 1;
        if (i >= n) return -1;
        c = p[i];
        goto key;
    case 't': i = CByteSearch_json_literal(p, n, i, 0x65757274u, 4); break;  // true
    case 'n': i = CByteSearch_json_literal(p, n, i, 0x6C6C756Eu, 4); break;  // null
    case 'f': i = CByteSearch_json_literal(p, n, i, 0x736C6166u, 5); break;  // fals, e
    default: i = CByteSearch_json_number(p, n, i); break;
    }
    if (i < 0) return -1;
complete:  // a value ends at `i`: close containers until one expects another element
    if (open == 0) return i;
    CBYTESEARCH_NEXT();
    if (stack & 1) {
        if (c == ',') {
            i++;
            CBYTESEARCH_NEXT();
            goto key;
        }
        if (c != '}') return -1;
    } else {
        if (c == ',') {
            i++;
            if (__builtin_expect(i < n && p[i] > 0x20, 1)) goto value;
            i = CByteSearch_json_whitespace(p, n, i);
            goto value;
        }
        if (c != ']') return -1;
    }
    i++;
    stack >>= 1;
    open--;
    goto complete;
key:  // a member's key at `i`, `c` its first byte
    if (c != '"') return -1;
    i = CByteSearch_json_string(p, n, start, i, &b, &checked, masks);
    if (i < 0) return -1;
    if (__builtin_expect(i + 1 < n && p[i] == ':' && p[i + 1] > 0x20, 1)) {
        i++;  // `"key":value`, no whitespace
        goto value;
    }
    i = CByteSearch_json_whitespace(p, n, i);
    if (i >= n || p[i] != ':') return -1;
    i = CByteSearch_json_whitespace(p, n, i + 1);
    goto value;
#undef CBYTESEARCH_NEXT
}

/// The skip with SSE2 masks (every x86-64). `JSONFastScan.value` does not take it: on a Claude Code
/// request it spends more instructions than the Swift scalar scan (four loads, twelve compares and
/// movemasks a block) and no less time. The tests run it beside the AVX2 one.
static inline __attribute__((noinline)) long CByteSearch_json_skip_sse2(const unsigned char *p, long n, long start,
                                                                       long depth, long max_depth) {
    return CByteSearch_json_skip_with(p, n, start, depth, max_depth, CByteSearch_json_masks_sse2);
}

/// The skip with AVX2 masks: only where `CByteSearch_json_skip_level()` is at least 1.
static inline __attribute__((noinline, target("avx2,bmi,bmi2"))) long CByteSearch_json_skip_avx2(
    const unsigned char *p, long n, long start, long depth, long max_depth) {
    return CByteSearch_json_skip_with(p, n, start, depth, max_depth, CByteSearch_json_masks_avx2);
}

/// The skip with AVX-512 masks: only where `CByteSearch_json_skip_level()` is 2.
static inline __attribute__((noinline, target("avx512f,avx512bw,bmi,bmi2"))) long CByteSearch_json_skip_avx512(
    const unsigned char *p, long n, long start, long depth, long max_depth) {
    return CByteSearch_json_skip_with(p, n, start, depth, max_depth, CByteSearch_json_masks_avx512);
}

/// Which block skip this CPU (and its OS) runs: 2 with AVX-512 (F, BW), 1 with AVX2, 0 without (both
/// also need BMI1 and BMI2, which they are compiled for). Asked once, then remembered.
static inline int CByteSearch_json_skip_level(void) {
    static int known = -1;  // -1: not asked yet
    int level = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (level < 0) {
        __builtin_cpu_init();
        int bmi = __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
        level = !bmi || !__builtin_cpu_supports("avx2") ? 0
                : __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? 2 : 1;
        __atomic_store_n(&known, level, __ATOMIC_RELAXED);
    }
    return level;
}

/// The block skip the CPU runs best (`CByteSearch_json_skip_level()` must not be 0).
static inline long CByteSearch_json_skip(const unsigned char *p, long n, long start, long depth, long max_depth) {
    return CByteSearch_json_skip_level() == 2 ? CByteSearch_json_skip_avx512(p, n, start, depth, max_depth)
                                              : CByteSearch_json_skip_avx2(p, n, start, depth, max_depth);
}

#endif

#endif

#ifndef CCOMPRESSION_SHIM_H
#define CCOMPRESSION_SHIM_H
// Request-body decoders for Content-Encoding: zlib (gzip, deflate; Debian zlib1g-dev), zstd
// (libzstd-dev) and brotli (libbrotli-dev). Used by Sources/UVProxy/Proxy/ContentDecoding.swift.
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#include <brotli/decode.h>

/// inflateInit2 is a macro over inflateInit2_ (it passes the version and the stream's size).
static inline int CCompression_inflateInit2(z_stream *s, int windowBits) {
    return inflateInit2(s, windowBits);
}
#endif

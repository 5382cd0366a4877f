import CCompression

/// Request bodies with `Content-Encoding` (`gzip`, `deflate`, `br`, `zstd`; Codex compresses with
/// zstd when signed in with ChatGPT to a provider named OpenAI) decoded before a route translates
/// them. The decoded size is bounded: a body that
/// would pass `limit` (the route's `max_body_bytes`) stops at the limit, so a decompression bomb costs
/// at most `limit` bytes of memory and one pass.
package enum ContentDecoding {
    package enum Coding: Equatable { case gzip, deflate, br, zstd }

    package enum Failure: Error, Equatable {
        /// A coding this proxy does not decode (415).
        case unsupported(String)
        /// The decoded body would be larger than the limit (413).
        case tooLarge(limit: Int)
        /// The bytes are not valid in their coding (400).
        case corrupt(String)
    }

    /// The codings of a `Content-Encoding` value in the order they were applied; empty for
    /// `identity` or an empty value.
    package static func codings(_ header: String) throws(Failure) -> [Coding] {
        var out: [Coding] = []
        for raw in header.split(separator: ",") {
            let name = raw.trimmingSpaces().lowercased()
            switch name {
            case "", "identity": continue
            case "gzip", "x-gzip": out.append(.gzip)
            case "deflate": out.append(.deflate)
            case "br": out.append(.br)
            case "zstd": out.append(.zstd)
            default: throw .unsupported(name)
            }
        }
        return out
    }

    /// `body` with `codings` undone (the last applied first).
    package static func decode(_ body: [UInt8], codings: [Coding], limit: Int) throws(Failure) -> [UInt8] {
        var bytes = body
        for coding in codings.reversed() {
            switch coding {
            case .gzip: bytes = try inflate(bytes, windowBits: 15 + 16, limit: limit)
            case .deflate:
                // RFC 9110's deflate is zlib-wrapped; some clients send a raw stream: accept both.
                do throws(Failure) {
                    bytes = try inflate(bytes, windowBits: 15, limit: limit)
                } catch .corrupt {
                    bytes = try inflate(bytes, windowBits: -15, limit: limit)
                }
            case .br: bytes = try brotli(bytes, limit: limit)
            case .zstd: bytes = try zstd(bytes, limit: limit)
            }
        }
        return bytes
    }

    /// Output grows in steps of this much (or less, near the limit).
    private static let step = 64 * 1024

    /// Room for `room` more bytes without letting the buffer's capacity pass `limit + 1` (plain array
    /// growth doubles, which could hold twice the limit).
    @inline(__always)
    private static func grow(_ out: inout [UInt8], by room: Int, limit: Int) {
        if out.count + room > out.capacity {
            out.reserveCapacity(min(limit + 1, max(out.capacity * 2, out.count + room)))
        }
        out.append(contentsOf: repeatElement(0, count: room))
    }

    private static func inflate(_ input: [UInt8], windowBits: Int32, limit: Int) throws(Failure) -> [UInt8] {
        var s = z_stream()
        guard CCompression_inflateInit2(&s, windowBits) == Z_OK else { throw .corrupt("cannot start inflate") }
        defer { inflateEnd(&s) }
        var out: [UInt8] = []
        var result: Int32 = Z_OK
        var failure: Failure?
        input.withUnsafeBufferPointer { inBuf in
            s.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            s.avail_in = UInt32(inBuf.count)
            while true {
                let room = min(step, limit + 1 - out.count)
                if room <= 0 {
                    failure = .tooLarge(limit: limit)
                    return
                }
                let before = out.count
                Self.grow(&out, by: room, limit: limit)
                out.withUnsafeMutableBufferPointer { o in
                    s.next_out = o.baseAddress! + before
                    s.avail_out = UInt32(room)
                    result = CCompression.inflate(&s, Z_NO_FLUSH)
                }
                out.removeLast(Int(s.avail_out))
                if out.count > limit {
                    failure = .tooLarge(limit: limit)
                    return
                }
                if result == Z_STREAM_END {
                    if s.avail_in == 0 { return }
                    // Another gzip member follows (RFC 1952 allows several); anything else is not valid.
                    guard windowBits > 15 else {
                        failure = .corrupt("data after the end of the stream")
                        return
                    }
                    inflateReset(&s)
                    continue
                }
                if result == Z_BUF_ERROR && s.avail_in == 0 {
                    failure = .corrupt("truncated")
                    return
                }
                if result != Z_OK && result != Z_BUF_ERROR {
                    failure = .corrupt(s.msg.map { String(cString: $0) } ?? "inflate error \(result)")
                    return
                }
            }
        }
        if let failure { throw failure }
        return out
    }

    private static func zstd(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        guard let d = ZSTD_createDStream() else { throw .corrupt("cannot start zstd") }
        defer { ZSTD_freeDStream(d) }
        ZSTD_initDStream(d)
        // The frame's window is memory too: no larger than the limit needs (libzstd allows 128 MiB).
        var windowLog: Int32 = 10
        while windowLog < 27, (1 << windowLog) < limit { windowLog += 1 }
        ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, windowLog)
        var out: [UInt8] = []
        var failure: Failure?
        input.withUnsafeBytes { inBuf in
            var inb = ZSTD_inBuffer(src: inBuf.baseAddress, size: inBuf.count, pos: 0)
            var lastHint = 1
            while true {
                if inb.pos == inb.size, lastHint == 0 { return }
                let room = min(step, limit + 1 - out.count)
                if room <= 0 {
                    failure = .tooLarge(limit: limit)
                    return
                }
                let before = out.count
                Self.grow(&out, by: room, limit: limit)
                var produced = 0
                var hint = 0
                out.withUnsafeMutableBytes { o in
                    var outb = ZSTD_outBuffer(dst: o.baseAddress! + before, size: room, pos: 0)
                    hint = ZSTD_decompressStream(d, &outb, &inb)
                    produced = outb.pos
                }
                out.removeLast(room - produced)
                if ZSTD_isError(hint) != 0 {
                    // A window larger than the limit needs means more output than the limit allows.
                    failure = ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge
                        ? .tooLarge(limit: limit) : .corrupt(String(cString: ZSTD_getErrorName(hint)))
                    return
                }
                if out.count > limit {
                    failure = .tooLarge(limit: limit)
                    return
                }
                lastHint = hint
                if hint == 0, inb.pos == inb.size { return }
                if produced == 0, inb.pos == inb.size {
                    failure = .corrupt("truncated")
                    return
                }
            }
        }
        if let failure { throw failure }
        return out
    }

    private static func brotli(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        guard let d = BrotliDecoderCreateInstance(nil, nil, nil) else { throw .corrupt("cannot start brotli") }
        defer { BrotliDecoderDestroyInstance(d) }
        var out: [UInt8] = []
        var failure: Failure?
        input.withUnsafeBufferPointer { inBuf in
            var availIn = inBuf.count
            var nextIn: UnsafePointer<UInt8>? = inBuf.baseAddress
            while true {
                let room = min(step, limit + 1 - out.count)
                if room <= 0 {
                    failure = .tooLarge(limit: limit)
                    return
                }
                let before = out.count
                Self.grow(&out, by: room, limit: limit)
                var availOut = room
                var result = BROTLI_DECODER_RESULT_ERROR
                out.withUnsafeMutableBufferPointer { o in
                    var nextOut: UnsafeMutablePointer<UInt8>? = o.baseAddress! + before
                    result = BrotliDecoderDecompressStream(d, &availIn, &nextIn, &availOut, &nextOut, nil)
                }
                out.removeLast(availOut)
                if out.count > limit {
                    failure = .tooLarge(limit: limit)
                    return
                }
                switch result {
                case BROTLI_DECODER_RESULT_SUCCESS: return
                case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: continue
                case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                    failure = .corrupt("truncated")
                    return
                default:
                    failure = .corrupt(String(cString: BrotliDecoderErrorString(BrotliDecoderGetErrorCode(d))))
                    return
                }
            }
        }
        if let failure { throw failure }
        return out
    }
}

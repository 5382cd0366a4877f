import HTTP1

/// How this proxy makes request ids: a random per-process prefix, the worker's tag and a counter in base 36.
enum RequestIds {
    /// Random per process, so ids from restarts and from other instances do not collide.
    static let processPrefix: String = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    /// `prefix` followed by `counter` in base 36 (lowercase), written in one pass: this runs per request.
    static func make(prefix: String, counter: UInt64) -> String {
        var prefix = prefix
        return prefix.withUTF8 { p in
            String(unsafeUninitializedCapacity: p.count + 13) { out in
                _ = out.initialize(fromContentsOf: p)
                return p.count + writeDigits(counter, into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: out[p.count...])))
            }
        }
    }

    /// `counter` in base 36 (lowercase) appended to `out`, with no String in between.
    static func appendDigits(_ counter: UInt64, into out: inout [UInt8]) {
        var digits: (UInt64, UInt64) = (0, 0)  // 13 digits: 36^13 > 2^64
        let n = withUnsafeMutableBytes(of: &digits) { writeDigits(counter, into: $0) }
        withUnsafeBytes(of: &digits) { HTTPWriter.appendBytes(UnsafeRawBufferPointer(rebasing: $0[0..<n]), into: &out) }
    }

    /// Writes `counter`'s base-36 digits at the start of `out` (room for 13); returns how many.
    private static func writeDigits(_ counter: UInt64, into out: UnsafeMutableRawBufferPointer) -> Int {
        var n = counter
        var count = 0
        repeat {
            n /= 36
            count += 1
        } while n > 0
        n = counter
        for i in stride(from: count - 1, through: 0, by: -1) {
            let r = UInt8(truncatingIfNeeded: n % 36)
            out[i] = r < 10 ? r + 48 : r + 87
            n /= 36
        }
        return count
    }

    /// A client's id is kept when it is short and plain (it goes into headers and logs).
    static func isAcceptable(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f }
    }
}

/// A request's id: the client's own (`X-Request-Id`, kept when acceptable) or one this worker made
/// from its prefix and a counter. A made one is written into headers as bytes; the String (longer than
/// the 15 bytes Swift keeps inline, so an allocation) is made only for a log line or an error.
enum RequestID {
    case client(String)
    case generated(prefix: [UInt8], counter: UInt64)

    var string: String {
        switch self {
        case .client(let s): s
        case .generated(let prefix, let counter): RequestIds.make(prefix: String(decoding: prefix, as: UTF8.self), counter: counter)
        }
    }

    /// `X-Request-Id: <id>\r\n`.
    func appendHeader(into out: inout [UInt8]) {
        switch self {
        case .client(let s):
            HTTPWriter.appendTrustedHeader("X-Request-Id", s, into: &out)
        case .generated(let prefix, let counter):
            HTTPWriter.appendStatic("X-Request-Id: ", into: &out)
            prefix.withUnsafeBytes { HTTPWriter.appendBytes($0, into: &out) }
            RequestIds.appendDigits(counter, into: &out)
            HTTPWriter.appendCRLF(into: &out)
        }
    }
}

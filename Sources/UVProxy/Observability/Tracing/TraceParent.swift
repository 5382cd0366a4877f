/// A W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
/// `{version:2}-{trace-id:32}-{parent-id:16}-{trace-flags:2}`, lowercase hex.
///
/// Parsing is strict where the spec is (an invalid header is ignored: the request starts a new trace,
/// never fails) and open where it asks to be: a version above `00` is read as `00` when its first 55
/// bytes have that shape and a `-` follows them. No allocation.
struct TraceParent: Equatable {
    /// The trace id's high and low 8 bytes (big-endian order on the wire).
    var traceHi: UInt64
    var traceLo: UInt64
    /// The parent's span id.
    var spanId: UInt64
    var flags: UInt8

    var sampled: Bool { flags & 0x01 != 0 }

    static let length = 55

    /// The header value in `value`, or nil when it is not a valid `traceparent`.
    static func parse(_ value: UnsafeRawBufferPointer) -> TraceParent? {
        guard value.count >= length else { return nil }
        guard let version = hexByte(value, 0), version != 0xFF else { return nil }
        if version == 0 {
            guard value.count == length else { return nil }
        } else if value.count > length, value[length] != UInt8(ascii: "-") {
            return nil
        }
        guard value[2] == 0x2D, value[35] == 0x2D, value[52] == 0x2D,
              let hi = hex64(value, 3), let lo = hex64(value, 19), let span = hex64(value, 36),
              let flags = hexByte(value, 53)
        else { return nil }
        guard hi | lo != 0, span != 0 else { return nil }
        return TraceParent(traceHi: hi, traceLo: lo, spanId: span, flags: flags)
    }

    static func parse(_ text: String) -> TraceParent? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Lowercase hex digit value; uppercase and anything else are invalid (`HEXDIGLC`).
    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt64? {
        switch c {
        case 0x30...0x39: UInt64(c &- 0x30)
        case 0x61...0x66: UInt64(c &- 0x61 &+ 10)
        default: nil
        }
    }

    private static func hexByte(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt8? {
        guard let h = nibble(b[at]), let l = nibble(b[at + 1]) else { return nil }
        return UInt8(h << 4 | l)
    }

    private static func hex64(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt64? {
        var v: UInt64 = 0
        for i in at..<(at + 16) {
            guard let n = nibble(b[i]) else { return nil }
            v = v << 4 | n
        }
        return v
    }

    // MARK: Writing

    /// `00-<trace>-<span>-<flags>` for this trace with `span` as the parent the next hop sees.
    static func write(traceHi: UInt64, traceLo: UInt64, span: UInt64, sampled: Bool, into b: inout [UInt8]) {
        b.append(contentsOf: [0x30, 0x30, 0x2D])
        appendHex(traceHi, into: &b)
        appendHex(traceLo, into: &b)
        b.append(0x2D)
        appendHex(span, into: &b)
        b.append(contentsOf: [0x2D, 0x30, sampled ? 0x31 : 0x30])
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// 16 lowercase hex digits.
    static func appendHex(_ v: UInt64, into b: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buf in
            digits.withUnsafeBufferPointer { d in
                var v = v
                for i in stride(from: 15, through: 0, by: -1) {
                    buf[i] = d[Int(v & 0xF)]
                    v >>= 4
                }
            }
            b.append(contentsOf: buf)
        }
    }
}

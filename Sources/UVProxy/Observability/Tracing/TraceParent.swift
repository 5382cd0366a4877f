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

    private static func hexByte(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt8? {
        var bad: UInt8 = 0
        let v = hexDigits(b, at, 2, &bad)
        return bad == 0 ? UInt8(v) : nil
    }

    private static func hex64(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt64? {
        var bad: UInt8 = 0
        let v = hexDigits(b, at, 16, &bad)
        return bad == 0 ? v : nil
    }

    /// `count` lowercase hex digits at `at` (`HEXDIGLC`: uppercase and anything else set `bad`).
    /// Branch-light: one pass, no optional per digit.
    @inline(__always)
    private static func hexDigits(_ b: UnsafeRawBufferPointer, _ at: Int, _ count: Int, _ bad: inout UInt8) -> UInt64 {
        var v: UInt64 = 0
        for i in at..<(at + count) {
            let c = b[i]
            let d = c &- 0x30
            let l = c &- 0x61
            let isDigit = d < 10
            bad |= (isDigit || l < 6) ? 0 : 1
            v = v << 4 | UInt64(isDigit ? d : l &+ 10)
        }
        return v
    }

    // MARK: Writing

    /// `00-<trace>-<span>-<flags>` for this trace with `span` as the parent the next hop sees.
    static func write(traceHi: UInt64, traceLo: UInt64, span: UInt64, sampled: Bool, into b: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { p in
            write(traceHi: traceHi, traceLo: traceLo, span: span, sampled: sampled, at: p.baseAddress!)
            b.append(contentsOf: UnsafeRawBufferPointer(p))
        }
    }

    /// The same into `length` bytes at `p`.
    @inline(__always)
    static func write(traceHi: UInt64, traceLo: UInt64, span: UInt64, sampled: Bool, at p: UnsafeMutableRawPointer) {
        p.storeBytes(of: 0x30, toByteOffset: 0, as: UInt8.self)
        p.storeBytes(of: 0x30, toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: 0x2D, toByteOffset: 2, as: UInt8.self)
        writeHex(traceHi, at: p + 3)
        writeHex(traceLo, at: p + 19)
        p.storeBytes(of: 0x2D, toByteOffset: 35, as: UInt8.self)
        writeHex(span, at: p + 36)
        p.storeBytes(of: 0x2D, toByteOffset: 52, as: UInt8.self)
        p.storeBytes(of: 0x30, toByteOffset: 53, as: UInt8.self)
        p.storeBytes(of: sampled ? 0x31 : 0x30, toByteOffset: 54, as: UInt8.self)
    }

    /// 16 lowercase hex digits at `p`.
    @inline(__always)
    static func writeHex(_ v: UInt64, at p: UnsafeMutableRawPointer) {
        var v = v
        var i = 15
        while i >= 0 {
            let n = UInt8(truncatingIfNeeded: v & 0xF)
            p.storeBytes(of: n < 10 ? 0x30 &+ n : 0x57 &+ n, toByteOffset: i, as: UInt8.self)
            v >>= 4
            i -= 1
        }
    }

    /// 16 lowercase hex digits.
    static func appendHex(_ v: UInt64, into b: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 1) { p in
            writeHex(v, at: p.baseAddress!)
            b.append(contentsOf: UnsafeRawBufferPointer(p))
        }
    }
}

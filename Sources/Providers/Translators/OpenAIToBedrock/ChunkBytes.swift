/// Small byte writers for the OpenAI chunks this translator streams.
///
/// Stream frames are written straight into the caller's output buffer, without building a JSON tree per
/// event: the fixed parts are static ASCII, the variable parts are integers and escaped strings.
enum ChunkBytes {
    @inline(__always)
    static func append(_ literal: StaticString, to out: inout [UInt8]) {
        appendBytes(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount), to: &out)
    }

    /// `p`'s bytes at the end of `out`: one capacity check and one copy. `Array.append(contentsOf:)`
    /// goes through the generic sequence path (~90 instructions a call, ~50 here; a translated answer
    /// takes ~20 of these). Capacity grows geometrically, as appends do.
    @inline(__always)
    static func appendBytes(_ p: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let n = p.count
        guard n > 0, let src = p.baseAddress else { return }
        let needed = out.count &+ n
        if out.capacity < needed { out.reserveCapacity(Swift.max(needed, out.capacity &* 2)) }
        out.append(addingCapacity: n) { (o: inout OutputSpan<UInt8>) in
            o.withUnsafeMutableBufferPointer { buf, initialized in
                UnsafeMutableRawPointer(buf.baseAddress! + initialized).copyMemory(from: src, byteCount: n)
                initialized &+= n
            }
        }
    }

    /// Decimal digits, written backwards into a stack buffer and appended once.
    static func append(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes; UInt.max has 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var i = buffer.count
            while magnitude > 0 {
                i &-= 1
                buffer[i] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            }
            appendBytes(UnsafeRawBufferPointer(rebasing: buffer[i...]), to: &out)
        }
    }

    /// Appends `text` as a JSON string literal (the JSON writer's escaping: raw UTF-8, escaped quotes,
    /// backslashes and control characters).
    @inline(__always)
    static func appendString(_ text: String, to out: inout [UInt8]) {
        JSON.writeString(text, to: &out)
    }
}

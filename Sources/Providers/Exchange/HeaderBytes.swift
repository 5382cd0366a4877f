/// Header names and values as bytes: what the proxy compares and copies from a parsed head without
/// making a String of them.
@usableFromInline
enum HeaderBytes {
    /// True when `name` starts with `lowercasedPrefix` in any ASCII case. `lowercasedPrefix` holds
    /// lowercase letters and bytes below 0x40 only (digits, `-`): those are the names compared here.
    @inlinable @inline(__always)
    static func hasLowercasedPrefix(_ name: UnsafeRawBufferPointer, _ lowercasedPrefix: StaticString) -> Bool {
        name.count >= lowercasedPrefix.utf8CodeUnitCount && startsLowercased(name, lowercasedPrefix)
    }

    /// `name` (at least as long as `t`, which holds lowercase letters and bytes below 0x40) starts with
    /// `t`, compared eight bytes at a time: a byte of `t` that is a lowercase letter (bit 6 set) also
    /// takes its uppercase form, which differs in bit 5 only; every other byte of `t` must match
    /// exactly. The last word overlaps the one before it.
    @inlinable @inline(__always)
    static func startsLowercased(_ name: UnsafeRawBufferPointer, _ t: StaticString) -> Bool {
        let n = t.utf8CodeUnitCount
        guard n > 0 else { return true }
        let p = name.baseAddress!
        let q = UnsafeRawPointer(t.utf8Start)
        if n < 8 {
            for i in 0..<n {
                let c = q.load(fromByteOffset: i, as: UInt8.self)
                if p.load(fromByteOffset: i, as: UInt8.self) | (c >> 1) & 0x20 != c { return false }
            }
            return true
        }
        var i = 0
        while true {
            let j = Swift.min(i, n &- 8)
            let c = q.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            let b = p.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            if b | (c >> 1) & 0x2020_2020_2020_2020 != c { return false }
            if j == n &- 8 { return true }
            i &+= 8
        }
    }

    /// `<name>: <value>\r\n` in one capacity check and one copy (separate appends cost ~60
    /// instructions each). `value` as a parsed head holds it (no CR, LF or NUL).
    @inlinable @inline(__always)
    static func appendLine(_ name: StaticString, _ value: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = name.utf8CodeUnitCount
        let v = value.count
        let total = n &+ v &+ 4
        let needed = out.count &+ total
        if out.capacity < needed { out.reserveCapacity(Swift.max(needed, out.capacity &* 2)) }
        out.append(addingCapacity: total) { (o: inout OutputSpan<UInt8>) in
            o.withUnsafeMutableBufferPointer { buf, initialized in
                let d = UnsafeMutableRawPointer(buf.baseAddress! + initialized)
                d.copyMemory(from: name.utf8Start, byteCount: n)
                d.storeBytes(of: 0x3A, toByteOffset: n, as: UInt8.self)  // ':'
                d.storeBytes(of: 0x20, toByteOffset: n &+ 1, as: UInt8.self)
                if v > 0 { (d + (n &+ 2)).copyMemory(from: value.baseAddress!, byteCount: v) }
                d.storeBytes(of: 0x0D, toByteOffset: n &+ v &+ 2, as: UInt8.self)
                d.storeBytes(of: 0x0A, toByteOffset: n &+ v &+ 3, as: UInt8.self)
                initialized &+= total
            }
        }
    }

    /// True when no byte of `p` is 0x80 or above.
    @inlinable @inline(__always)
    static func isASCII(_ p: UnsafeRawBufferPointer) -> Bool {
        for b in p where b >= 0x80 { return false }
        return true
    }
}

/// Compact serialization. Strings escape `"`, `\` and control characters (`\n \r \t \b \f`, others as
/// `\u00XX`); every other character is written as raw UTF-8. Numbers write their kept text.
extension JSON {
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b):
            if b { out.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) } else {
                out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
            }
        case .number(let n): out.append(contentsOf: n.text.utf8)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let a):
            out.append(0x5B)
            for (i, element) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                element.write(to: &out)
            }
            out.append(0x5D)
        case .object(let o): o.write(to: &out)
        }
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    /// Writes `s` as a quoted, escaped JSON string.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { writeString(utf8: UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Writes UTF-8 bytes as a quoted, escaped JSON string. Runs without escapes are found eight bytes at
    /// a time and copied in bulk.
    public static func writeString(utf8: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x22)
        var runStart = 0
        var i = 0
        let n = utf8.count
        while i < n {
            while n - i >= 8 {
                let found = escapedBytes(utf8.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if found != 0 {
                    i += found.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < n else { break }
            let c = utf8[i]
            guard c < 0x20 || c == 0x22 || c == 0x5C else {
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart..<i])) }
            i += 1
            runStart = i
            out.append(0x5C)
            switch c {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x0A: out.append(0x6E)
            case 0x0D: out.append(0x72)
            case 0x09: out.append(0x74)
            case 0x08: out.append(0x62)
            case 0x0C: out.append(0x66)
            default:
                let high = c >> 4, low = c & 0xF
                out.append(0x75)
                out.append(0x30)
                out.append(0x30)
                out.append(0x30 + high)  // control characters are < 0x20, so the high nibble is 0 or 1
                out.append(low < 10 ? 0x30 + low : 0x57 + low)
            }
        }
        if runStart < n { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart...])) }
        out.append(0x22)
    }

    /// A mask with the high bit set in each byte of the little-endian word `word` that must be escaped
    /// (`"`, `\`, below 0x20; UTF-8 bytes are not). The lowest set bit is exact (borrows only run upwards,
    /// so a false mark can only sit above a true one), which is all the caller uses.
    @inline(__always) static func escapedBytes(_ word: UInt64) -> UInt64 {
        let w = UInt64(littleEndian: word)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let q = w ^ (ones &* 0x22)
        let b = w ^ (ones &* 0x5C)
        let quote = (q &- ones) & ~q
        let backslash = (b &- ones) & ~b
        let control = (w &- ones &* 0x20) & ~w
        return (quote | backslash | control) & (ones &* 0x80)
    }
}

extension JSONObject {
    public func write(to out: inout [UInt8]) {
        out.append(0x7B)
        for (i, member) in members.enumerated() {
            if i > 0 { out.append(0x2C) }
            JSON.writeString(member.key, to: &out)
            out.append(0x3A)
            member.value.write(to: &out)
        }
        out.append(0x7D)
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }
}

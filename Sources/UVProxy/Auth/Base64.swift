/// Decodes base64 in either alphabet (standard `+/` or URL-safe `-_`), padded or not: what a JWT
/// segment holds. Cold path (once per fetched token); Foundation's decoder is not linked.
enum Base64 {
    /// The bytes, or nil on any character outside the alphabets, a misplaced `=`, or a length that no
    /// encoding produces (one leftover character).
    static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let v = value(c) else { return nil }  // data after '=' or a foreign byte
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // 6 leftover bits mean a lone trailing character; padding must not exceed what the length needs.
        guard bits < 6, padding <= 2, (text.utf8.count - padding) % 4 != 1 else { return nil }
        if padding > 0, text.utf8.count % 4 != 0 { return nil }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}

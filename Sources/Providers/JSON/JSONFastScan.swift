/// The validating fast path under `JSONObjectScanner` and `JSONReader.skipValue`: the same strict
/// RFC 8259 grammar as `JSONReader` (UTF-8 validated, no lone surrogate escapes, depth-limited), but it
/// only answers "valid, and where the value ends" or "invalid" (-1).
///
/// Why a second implementation: skipping is the per-byte cost of every pass-through request. These are
/// static functions over a pointer, a length and a local index, so the whole state stays in registers;
/// there is no error value to build and no `throws` in the loop. Strings are scanned eight bytes at a
/// time (`JSONReader.stopBytes`). When the answer is "invalid", callers run the detailed `JSONReader`
/// over the same bytes to get the message and offset, so both must agree on validity: the tests check
/// them against each other.
///
/// Nesting past 64 open containers (legal up to `JSONParser.maxDepth`, never seen in real requests)
/// returns `tooDeep`: callers finish such a value with the detailed reader.
enum JSONFastScan {
    /// Returned for a value nested deeper than the fast path's register stack.
    static let tooDeep = -2
    typealias Bytes = UnsafePointer<UInt8>

    @inline(__always) static func whitespace(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = start
        while i < n {
            let c = p[i]
            guard c <= 0x20, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return i }
            i &+= 1
        }
        return i
    }

    /// The index after the string whose opening quote is at `start`, or -1. Sets `escaped` when the
    /// string holds a backslash escape.
    @inline(__always) static func string(_ p: Bytes, _ n: Int, _ start: Int, _ escaped: inout Bool) -> Int {
        var i = start &+ 1
        while true {
            while n - i >= 8 {
                let stops = JSONReader.stopBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                if stops != 0 {
                    i &+= stops.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 { return i &+ 1 }
            if c >= 0x20 && c < 0x80 && c != 0x5C {
                i &+= 1
            } else {
                i = special(p, n, i, &escaped)
                if i < 0 { return -1 }
            }
        }
    }

    /// An escape, a control byte (invalid) or a multi-byte UTF-8 sequence at `i`.
    @inline(never) static func special(_ p: Bytes, _ n: Int, _ i: Int, _ escaped: inout Bool) -> Int {
        let c = p[i]
        if c == 0x5C {
            escaped = true
            guard i + 1 < n else { return -1 }
            switch p[i + 1] {
            case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: return i + 2
            case 0x75:
                let unit = hex4(p, n, i + 2)
                if unit < 0 { return -1 }
                if unit >= 0xDC00 && unit <= 0xDFFF { return -1 }
                guard unit >= 0xD800 && unit <= 0xDBFF else { return i + 6 }
                guard i + 7 < n, p[i + 6] == 0x5C, p[i + 7] == 0x75 else { return -1 }
                let low = hex4(p, n, i + 8)
                guard low >= 0xDC00 && low <= 0xDFFF else { return -1 }
                return i + 12
            default: return -1
            }
        }
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return -1  // control bytes, continuation bytes, C0, C1, F5...FF
        }
        guard n - i >= length else { return -1 }
        let b1 = p[i + 1]
        guard b1 >= low && b1 <= high else { return -1 }
        var k = 2
        while k < length {
            if p[i + k] & 0xC0 != 0x80 { return -1 }
            k += 1
        }
        return i + length
    }

    /// The value of four hex digits at `i`, or -1.
    static func hex4(_ p: Bytes, _ n: Int, _ i: Int) -> Int {
        guard n - i >= 4 else { return -1 }
        var value = 0
        for k in 0..<4 {
            guard let d = JSONReader.hexValue(p[i + k]) else { return -1 }
            value = value << 4 | Int(d)
        }
        return value
    }

    /// The index after the number at `start`, or -1.
    static func number(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = start
        if p[i] == 0x2D { i &+= 1 }
        guard i < n else { return -1 }
        let first = p[i]
        guard first &- 0x30 < 10 else { return -1 }
        i &+= 1
        if first != 0x30 {
            while i < n, p[i] &- 0x30 < 10 { i &+= 1 }
        } else if i < n, p[i] &- 0x30 < 10 {
            return -1  // leading zero
        }
        if i < n, p[i] == 0x2E {
            i &+= 1
            let digits = i
            while i < n, p[i] &- 0x30 < 10 { i &+= 1 }
            if i == digits { return -1 }
        }
        if i < n, p[i] | 0x20 == 0x65 {
            i &+= 1
            if i < n, p[i] == 0x2B || p[i] == 0x2D { i &+= 1 }
            let digits = i
            while i < n, p[i] &- 0x30 < 10 { i &+= 1 }
            if i == digits { return -1 }
        }
        return i
    }

    /// The index after `word` at `i`, or -1.
    @inline(__always) static func literal(_ p: Bytes, _ n: Int, _ i: Int, _ word: UInt32, _ length: Int) -> Int {
        guard n - i >= length else { return -1 }
        if UInt32(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self)) != word { return -1 }
        if length == 5 && p[i + 4] != 0x65 { return -1 }
        return i + length
    }

    /// Inside an object before a member: whitespace, the key, whitespace, `:`, whitespace. The index of
    /// the value, or -1.
    @inline(__always) static func memberKey(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = whitespace(p, n, start)
        guard i < n, p[i] == 0x22 else { return -1 }
        var escaped = false
        i = string(p, n, i, &escaped)
        if i < 0 { return -1 }
        i = whitespace(p, n, i)
        guard i < n, p[i] == 0x3A else { return -1 }
        return whitespace(p, n, i &+ 1)
    }

    /// The index after the value at `start` (no leading whitespace), or -1. `depth` is the value's own
    /// nesting depth; containers at `maxDepth` or deeper are invalid. No recursion: open containers are
    /// a bit stack.
    static func value(_ p: Bytes, _ n: Int, _ start: Int, depth: Int, maxDepth: Int) -> Int {
        var i = start
        // Open containers, one bit each (1: object), innermost in bit 0.
        var stack: UInt64 = 0
        var open = 0
        var escaped = false
        while true {
            guard i < n else { return -1 }
            let c = p[i]
            switch c {
            case 0x22:
                i = string(p, n, i, &escaped)
            case 0x7B, 0x5B:
                guard depth &+ open < maxDepth else { return -1 }
                i = whitespace(p, n, i &+ 1)
                if i < n, p[i] == c &+ 2 {  // `}` is `{` + 2, `]` is `[` + 2
                    i &+= 1
                } else {
                    guard open < 64 else { return tooDeep }
                    let isObject = c == 0x7B
                    stack = stack << 1 | (isObject ? 1 : 0)
                    open &+= 1
                    if isObject {
                        i = memberKey(p, n, i)
                        if i < 0 { return -1 }
                    }
                    continue
                }
            case 0x74: i = literal(p, n, i, 0x6575_7274, 4)  // true
            case 0x6E: i = literal(p, n, i, 0x6C6C_756E, 4)  // null
            case 0x66: i = literal(p, n, i, 0x736C_6166, 5)  // fals, e
            default: i = number(p, n, i)
            }
            if i < 0 { return -1 }
            // A value is complete: close containers until one expects another element.
            while true {
                if open == 0 { return i }
                i = whitespace(p, n, i)
                guard i < n else { return -1 }
                let d = p[i]
                let inObject = stack & 1 != 0
                if d == 0x2C {
                    if inObject {
                        i = memberKey(p, n, i &+ 1)
                        if i < 0 { return -1 }
                    } else {
                        i = whitespace(p, n, i &+ 1)
                    }
                    break
                }
                guard d == (inObject ? 0x7D : 0x5D) else { return -1 }
                i &+= 1
                stack >>= 1
                open &-= 1
            }
        }
    }
}

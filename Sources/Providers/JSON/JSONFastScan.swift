import CByteSearch

/// The validating fast path under `JSONObjectScanner` and `JSONReader.skipValue`: the same strict
/// RFC 8259 grammar as `JSONReader` (UTF-8 validated, no lone surrogate escapes, depth-limited), but it
/// only answers "valid, and where the value ends" or "invalid" (-1).
///
/// Why a second implementation: skipping is the per-byte cost of every pass-through request. These are
/// static functions over a pointer, a length and a local index, so the whole state stays in registers;
/// there is no error value to build and no `throws` in the loop. Strings are scanned sixteen bytes at
/// a time (`plainRun`, `stopBytes`); on x86-64 with AVX2 or AVX-512, large values go through the C
/// block skip instead (`value`: 64 bytes of bitmasks at a time, the same answers, held to
/// `scalarValue` by `JSONBlockSkipTests`). When the answer is "invalid", callers run the detailed `JSONReader`
/// over the same bytes to get the message and offset, so both must agree on validity: the tests check
/// them against each other.
///
/// Nesting past 64 open containers (legal up to `JSONParser.maxDepth`, never seen in real requests)
/// returns `tooDeep`: callers finish such a value with the detailed reader.
enum JSONFastScan {
    /// Returned for a value nested deeper than the fast path's register stack.
    static let tooDeep = -2
    typealias Bytes = UnsafePointer<UInt8>

    /// A member's key at `start` (its opening quote), spelled without escapes, then `:` and the
    /// whitespace after it: the index after the key's closing quote and where its value starts, or nil
    /// (an invalid or escaped key, no colon, nothing after it). The byte-level request translators read
    /// keys this way: an escaped key might spell a name they read, so they leave it to the general path.
    @inline(__always) static func plainKey(_ p: Bytes, _ n: Int, _ start: Int) -> (keyEnd: Int, valueStart: Int)? {
        var escaped = false
        let keyEnd = string(p, n, start, &escaped)
        guard keyEnd > 0, !escaped else { return nil }
        let colon = whitespace(p, n, keyEnd)
        guard colon < n, p[colon] == 0x3A else { return nil }
        let valueStart = whitespace(p, n, colon + 1)
        guard valueStart < n else { return nil }
        return (keyEnd, valueStart)
    }

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
    ///
    /// For callers that scan a few short strings (keys): plain runs (printable ASCII other than `"` and
    /// `\`) are skipped a word at a time, and a run longer than 32 bytes goes on in `longRun`. `value`
    /// inlines `vectorString` instead.
    @inline(__always) static func string(_ p: Bytes, _ n: Int, _ start: Int, _ escaped: inout Bool) -> Int {
        var i = start &+ 1
        while true {
            i = wordRun(p, n, i)
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 { return i &+ 1 }
            i = afterStop(p, n, i, c, &escaped)
            if i < 0 { return -1 }
        }
    }

    /// `string` with the vector scan inline: for `value`, whose loop keeps the constants in registers.
    @inline(__always) static func vectorString(_ p: Bytes, _ n: Int, _ start: Int, _ escaped: inout Bool) -> Int {
        var i = start &+ 1
        while true {
            i = plainRun(p, n, i)
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 { return i &+ 1 }
            i = afterStop(p, n, i, c, &escaped)
            if i < 0 { return -1 }
        }
    }

    /// Past the byte `c` at `i` that stopped a plain run and is not the closing quote: the index after
    /// its escape or UTF-8 sequence, or -1.
    @inline(__always) static func afterStop(_ p: Bytes, _ n: Int, _ i: Int, _ c: UInt8, _ escaped: inout Bool) -> Int {
        if c == 0x5C, n &- i >= 2 {
            // `\n`, `\"`, `\\`, `\t`: the escapes text is full of.
            let e = p[i &+ 1]
            if e == 0x6E || e == 0x22 || e == 0x5C || e == 0x74 {
                escaped = true
                return i &+ 2
            }
        }
        return special(p, n, i, &escaped)
    }

    /// `plainRun` a word at a time for the first 32 bytes, then `longRun`.
    @inline(__always) static func wordRun(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = start
        let end = n &- i > 32 ? i &+ 32 : n
        while end &- i >= 8 {
            let stops = JSONReader.stopBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            if stops != 0 { return i &+ (stops.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        if i < n && end != n { return longRun(p, n, i) }
        while i < n {
            let c = p[i]
            if c < 0x20 || c >= 0x80 || c == 0x22 || c == 0x5C { return i }
            i &+= 1
        }
        return i
    }

    @inline(never) static func longRun(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        plainRun(p, n, start)
    }

    /// The index of the first byte at or after `start` that is `"`, `\`, below 0x20 or at least 0x80
    /// (`n` when there is none).
    ///
    /// On x86-64 SSE2 in C (`CByteSearch_json_plain_run`: byte compares and a mask, ~half the
    /// instructions of the word arithmetic below, which Swift's SIMD types do not lower to); elsewhere
    /// `wordPlainRun`. Strings are most of a request's bytes: this is the scan's inner loop.
    @inline(__always) static func plainRun(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        #if arch(x86_64)
            return CByteSearch_json_plain_run(p, n, start)
        #else
            return wordPlainRun(p, n, start)
        #endif
    }

    /// `plainRun` with 64-bit word arithmetic (two words at a time in a vector register).
    @inline(__always) static func wordPlainRun(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = start
        #if _endian(little)
            // Sixteen bytes (two words in one vector register; a lane's lowest mark is exact, see
            // `stopBytes`); past them the run is long, and 32 bytes at a time pay off.
            if n &- i >= 16 {
                let stops = stopBytes(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD2<UInt64>.self))
                if stops[0] | stops[1] != 0 { return i &+ firstMark(stops) }
                i &+= 16
                while n &- i >= 32 {
                    let a = stopBytes(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD2<UInt64>.self))
                    let b = stopBytes(UnsafeRawPointer(p + (i &+ 16)).loadUnaligned(as: SIMD2<UInt64>.self))
                    let both = a | b
                    if both[0] | both[1] != 0 {
                        if a[0] | a[1] != 0 { return i &+ firstMark(a) }
                        return i &+ 16 &+ firstMark(b)
                    }
                    i &+= 32
                }
                if n &- i >= 16 {
                    let stops = stopBytes(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD2<UInt64>.self))
                    if stops[0] | stops[1] != 0 { return i &+ firstMark(stops) }
                    i &+= 16
                }
            }
        #endif
        while n &- i >= 8 {
            let stops = JSONReader.stopBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            if stops != 0 { return i &+ (stops.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < n {
            let c = p[i]
            if c < 0x20 || c >= 0x80 || c == 0x22 || c == 0x5C { return i }
            i &+= 1
        }
        return i
    }

    /// The offset of the first marked byte in a non-zero `stopBytes` result.
    @inline(__always) static func firstMark(_ stops: SIMD2<UInt64>) -> Int {
        let low = stops[0]
        if low != 0 { return low.trailingZeroBitCount &>> 3 }
        return 8 &+ (stops[1].trailingZeroBitCount &>> 3)
    }

    /// `JSONReader.stopBytes` on two little-endian words at once (SSE2 or NEON: the adds stay in their
    /// 64-bit lane, so each lane's lowest mark is exact).
    @inline(__always) static func stopBytes(_ w: SIMD2<UInt64>) -> SIMD2<UInt64> {
        let ones = SIMD2<UInt64>(repeating: 0x0101_0101_0101_0101)
        let high = SIMD2<UInt64>(repeating: 0x8080_8080_8080_8080)
        let q = w ^ SIMD2(repeating: 0x2222_2222_2222_2222)
        let b = w ^ SIMD2(repeating: 0x5C5C_5C5C_5C5C_5C5C)
        let quote = (q &- ones) & ~q
        let backslash = (b &- ones) & ~b
        let control = (w &- SIMD2(repeating: 0x2020_2020_2020_2020)) & ~w
        return (quote | backslash | control | w) & high
    }

    /// `string` one byte at a time: the reference the tests hold the word-at-a-time scan to.
    static func stringBytewise(_ p: Bytes, _ n: Int, _ start: Int, _ escaped: inout Bool) -> Int {
        var i = start &+ 1
        while i < n {
            let c = p[i]
            if c == 0x22 { return i &+ 1 }
            if c >= 0x20 && c < 0x80 && c != 0x5C {
                i &+= 1
            } else {
                i = special(p, n, i, &escaped)
                if i < 0 { return -1 }
            }
        }
        return -1
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
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
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

    /// `value` for callers that walk an object's members themselves: a string, number or literal is
    /// scanned inline (no call, no vector constants to load for a short value), a container by `value`.
    @inline(__always) static func member(_ p: Bytes, _ n: Int, _ start: Int, depth: Int) -> Int {
        guard start < n else { return -1 }
        switch p[start] {
        case 0x22:
            #if arch(x86_64)
                // A string that does not end plain within its first 32 bytes (a text, a tool result)
                // goes on in blocks, from its start: escapes and non-ASCII bytes cost no stop there.
                if n &- start >= blockSkipMinimum && CByteSearch_json_skip_level() != 0 {
                    let stop = CByteSearch_json_plain_run(p, start &+ 33, start &+ 1)
                    if p[stop] == 0x22 { return stop &+ 1 }
                    return CByteSearch_json_skip(p, n, start, depth, JSONParser.maxDepth)
                }
            #endif
            var escaped = false
            return vectorString(p, n, start, &escaped)
        case 0x7B, 0x5B: return value(p, n, start, depth: depth, maxDepth: JSONParser.maxDepth)
        case 0x74: return literal(p, n, start, 0x6575_7274, 4)  // true
        case 0x6E: return literal(p, n, start, 0x6C6C_756E, 4)  // null
        case 0x66: return literal(p, n, start, 0x736C_6166, 5)  // fals, e
        default: return number(p, n, start)
        }
    }

    /// The index after the value at `start` (no leading whitespace), or -1 (or `tooDeep`). `depth` is
    /// the value's own nesting depth; containers at `maxDepth` or deeper are invalid.
    ///
    /// On an x86-64 CPU with AVX2 (or AVX-512) and at least `blockSkipMinimum` bytes left, the block-at-a-time
    /// skip in C (`CByteSearch_json_skip`: string bytes looked at 64 at a time through bitmasks, so
    /// escapes, non-ASCII bytes and closing quotes cost no stop each); elsewhere, and for the last bytes
    /// of a body, `scalarValue`. Both give the same answer. (With SSE2 masks the block skip spends more
    /// instructions than `scalarValue` on a Claude Code request, 352k against 301k, and no less time:
    /// not taken.)
    static func value(_ p: Bytes, _ n: Int, _ start: Int, depth: Int, maxDepth: Int) -> Int {
        #if arch(x86_64)
            if n &- start >= blockSkipMinimum && CByteSearch_json_skip_level() != 0 {
                return CByteSearch_json_skip(p, n, start, depth, maxDepth)
            }
        #endif
        return scalarValue(p, n, start, depth: depth, maxDepth: maxDepth)
    }

    /// Bytes left from which `value` takes the block skip. A small body's values are cheaper byte by byte
    /// (from 64 bytes left, the 178-byte pass-through request cost 2.6% more); a large body's values,
    /// small or not, are cheaper in blocks.
    static let blockSkipMinimum = 256

    #if arch(x86_64)
        /// The block skip's mask variants: SSE2 (every x86-64), AVX2, AVX-512.
        enum BlockMasks: CaseIterable { case sse2, avx2, avx512 }

        /// The block skip with the given masks, whatever `value` would take (only those in
        /// `blockMasksHere`): the tests hold each to `scalarValue`, on any length.
        static func blockValue(_ p: Bytes, _ n: Int, _ start: Int, depth: Int, maxDepth: Int, masks: BlockMasks) -> Int
        {
            switch masks {
            case .sse2: CByteSearch_json_skip_sse2(p, n, start, depth, maxDepth)
            case .avx2: CByteSearch_json_skip_avx2(p, n, start, depth, maxDepth)
            case .avx512: CByteSearch_json_skip_avx512(p, n, start, depth, maxDepth)
            }
        }

        /// The mask variants this CPU runs.
        static var blockMasksHere: [BlockMasks] {
            Array(BlockMasks.allCases.prefix(1 + Int(CByteSearch_json_skip_level())))
        }
    #endif

    /// `value` byte by byte (strings through `vectorString`): the path off x86-64 and the reference the
    /// tests hold the block skip to. No recursion: open containers are a bit stack.
    static func scalarValue(_ p: Bytes, _ n: Int, _ start: Int, depth: Int, maxDepth: Int) -> Int {
        var i = start
        // Open containers, one bit each (1: object), innermost in bit 0.
        var stack: UInt64 = 0
        var open = 0
        var escaped = false
        // The next string is a member's key (after `{` or `,` in an object). Keys go through the same
        // `string` as values, so the scan is one inlined loop whose constants stay in registers.
        var key = false
        while true {
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 {
                i = vectorString(p, n, i, &escaped)
                if i < 0 { return -1 }
                if key {
                    i = whitespace(p, n, i)
                    guard i < n, p[i] == 0x3A else { return -1 }
                    i = whitespace(p, n, i &+ 1)
                    key = false
                    continue
                }
            } else {
                if key { return -1 }
                switch c {
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
                        key = isObject
                        continue
                    }
                case 0x74: i = literal(p, n, i, 0x6575_7274, 4)  // true
                case 0x6E: i = literal(p, n, i, 0x6C6C_756E, 4)  // null
                case 0x66: i = literal(p, n, i, 0x736C_6166, 5)  // fals, e
                default: i = number(p, n, i)
                }
                if i < 0 { return -1 }
            }
            // A value is complete: close containers until one expects another element.
            while true {
                if open == 0 { return i }
                i = whitespace(p, n, i)
                guard i < n else { return -1 }
                let d = p[i]
                let inObject = stack & 1 != 0
                if d == 0x2C {
                    i = whitespace(p, n, i &+ 1)
                    key = inObject
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

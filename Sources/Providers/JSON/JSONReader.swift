/// The byte-level core shared by `JSONParser` (builds a tree) and `JSONObjectScanner` (validates and
/// returns spans). Strict RFC 8259: no comments, no trailing commas, no leading zeros, no NaN, strings
/// must be valid UTF-8 with no raw control characters, and escaped surrogates must pair. A lone
/// surrogate escape (`"\uD800"`) is **rejected**, because it cannot become valid UTF-8 and silently
/// replacing it would change what the client sent.
///
/// State lives in this struct, on the caller's stack; the buffer is read in place.
///
/// Speed: this is on every request's path, so bytes are read through a raw pointer after an explicit
/// bounds check (`p[i]` with `i < count`), string content is scanned eight bytes at a time for the
/// bytes that end a plain ASCII run (`"`, `\`, control bytes, non-ASCII), values are skipped without
/// recursion (`JSONReader+Skip.swift`), and error values (with their message strings) are only built
/// on failure.
struct JSONReader {
    let buffer: UnsafeRawBufferPointer
    /// `buffer`'s bytes; never read at or past `count`. (An empty buffer may have no base address: a
    /// dummy non-nil pointer stands in, and is never read because `count` is 0.)
    let p: UnsafePointer<UInt8>
    let count: Int
    var index: Int = 0
    let maxDepth: Int

    init(_ buffer: UnsafeRawBufferPointer, maxDepth: Int = JSONParser.maxDepth) {
        self.buffer = buffer
        self.count = buffer.count
        if let base = buffer.baseAddress {
            self.p = base.assumingMemoryBound(to: UInt8.self)
        } else {
            self.p = UnsafePointer(bitPattern: MemoryLayout<UInt64>.alignment).unsafelyUnwrapped
        }
        self.maxDepth = maxDepth
    }

    @inline(__always) var atEnd: Bool { index >= count }

    @inline(__always) func peek() -> UInt8? { index < count ? p[index] : nil }

    @inline(__always) mutating func skipWhitespace() {
        while index < count {
            let c = p[index]
            // Most calls find a structural byte or a quote at once: one compare for those.
            guard c <= 0x20, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            index += 1
        }
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONError {
        JSONError(message: message, offset: offset ?? index)
    }

    func unexpected() -> JSONError {
        guard index < count else { return error("unexpected end of input") }
        let c = p[index]
        if c >= 0x20 && c < 0x7F {
            return error("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
        return error("unexpected byte 0x\(String(c, radix: 16, uppercase: true))")
    }

    @inline(__always) mutating func expect(_ byte: UInt8, _ what: StaticString) throws(JSONError) {
        guard index < count, p[index] == byte else { throw expectError(what) }
        index += 1
    }

    @inline(never) func expectError(_ what: StaticString) -> JSONError {
        if index >= count { return error("unexpected end of input, expected \(what)") }
        return error("expected \(what)")
    }

    /// Matches a literal (`true`, `false`, `null`) at `index`.
    mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        let start = index
        guard count - index >= n else { throw error("invalid literal", at: start) }
        let w = word.utf8Start
        for k in 0..<n where p[index + k] != w[k] { throw error("invalid literal", at: start) }
        index += n
    }

    // MARK: Strings

    /// Scans a string starting at the opening quote. Returns the content span (without quotes) and
    /// whether it contains escapes. Validates escapes, surrogate pairs and UTF-8.
    @inline(__always)
    mutating func scanString() throws(JSONError) -> (start: Int, end: Int, escaped: Bool) {
        index += 1  // opening quote
        let start = index
        var i = index
        let n = count
        var escaped = false
        while true {
            // Plain ASCII runs, eight bytes at a time.
            while n - i >= 8 {
                let stops = Self.stopBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                if stops != 0 {
                    i += stops.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < n else { break }
            let c = p[i]
            if c == 0x22 {
                index = i + 1
                return (start, i, escaped)
            } else if c == 0x5C {
                escaped = true
                index = i
                try scanEscape()
                i = index
            } else if c < 0x20 {
                index = i
                throw error("unescaped control character in string")
            } else if c < 0x80 {
                i += 1
            } else {
                index = i
                try scanUTF8Sequence(lead: c)
                i = index
            }
        }
        index = i
        throw error("unterminated string", at: start - 1)
    }

    /// A mask with the high bit set in each byte of the little-endian word `w` that is `"`, `\`, below
    /// 0x20 or at least 0x80. The lowest set bit is always exact (borrows only run upwards, so a false
    /// mark can only sit above a true one), which is all the caller uses.
    @inline(__always) static func stopBytes(_ word: UInt64) -> UInt64 {
        let w = UInt64(littleEndian: word)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ (ones &* 0x22)
        let b = w ^ (ones &* 0x5C)
        let quote = (q &- ones) & ~q
        let backslash = (b &- ones) & ~b
        let control = (w &- ones &* 0x20) & ~w
        return (quote | backslash | control | w) & high
    }

    private mutating func scanEscape() throws(JSONError) {
        let at = index
        index += 1
        guard index < count else { throw error("unterminated string") }
        switch p[index] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
            index += 1
        case 0x75:
            index += 1
            let unit = try hex4()
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard count - index >= 2, p[index] == 0x5C, p[index + 1] == 0x75 else {
                    throw error("lone surrogate \\u escape", at: at)
                }
                index += 2
                let low = try hex4()
                guard low >= 0xDC00 && low <= 0xDFFF else { throw error("lone surrogate \\u escape", at: at) }
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw error("lone surrogate \\u escape", at: at)
            }
        default:
            throw error("invalid escape", at: at)
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard count - index >= 4 else { throw error("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let d = Self.hexValue(p[index]) else { throw error("invalid \\u escape") }
            value = value << 4 | UInt32(d)
            index += 1
        }
        return value
    }

    @inline(__always) static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// Validates one multi-byte UTF-8 sequence (no overlongs, no surrogates, at most U+10FFFF).
    private mutating func scanUTF8Sequence(lead: UInt8) throws(JSONError) {
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw error("invalid UTF-8")
        }
        guard count - index >= length else { throw error("invalid UTF-8") }
        let b1 = p[index + 1]
        guard b1 >= low && b1 <= high else { throw error("invalid UTF-8") }
        for k in 2..<max(length, 2) where p[index + k] & 0xC0 != 0x80 { throw error("invalid UTF-8") }
        index += length
    }

    /// Decodes a span found by `scanString` (already validated).
    func decodeString(start: Int, end: Int, escaped: Bool) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        guard escaped else { return String(decoding: raw, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(end - start)
        JSONReader.unescape(raw, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the unescaped UTF-8 of validated string content. The bytes between escapes are appended
    /// as whole runs, found eight bytes at a time (text full of `\n` and base64 in tool results is most of
    /// a large request's bytes).
    static func unescape(_ raw: UnsafeRawBufferPointer, into bytes: inout [UInt8]) {
        var i = 0
        var runStart = 0
        let n = raw.count
        while i < n {
            // To the next backslash, eight bytes at a time.
            while n - i >= 8 {
                let found = backslashes(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if found != 0 {
                    i += found.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < n else { break }
            guard raw[i] == 0x5C, i + 1 < n else {
                i += 1
                continue
            }
            if runStart < i { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[runStart..<i])) }
            let e = raw[i + 1]
            i += 2
            switch e {
            case 0x62: bytes.append(0x08)
            case 0x66: bytes.append(0x0C)
            case 0x6E: bytes.append(0x0A)
            case 0x72: bytes.append(0x0D)
            case 0x74: bytes.append(0x09)
            case 0x75:
                var scalar = hex4(raw, i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF && i + 6 <= n {
                    let low = hex4(raw, i + 2)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                appendUTF8(scalar, to: &bytes)
            default: bytes.append(e)  // " \ /
            }
            runStart = i
        }
        if runStart < n { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[runStart..<n])) }
    }

    /// A mask with the high bit set in each byte of the little-endian word `word` that is `\`; the lowest
    /// set bit is exact (see `stopBytes`), the only one the caller reads.
    @inline(__always) static func backslashes(_ word: UInt64) -> UInt64 {
        let w = UInt64(littleEndian: word)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let b = w ^ (ones &* 0x5C)
        return (b &- ones) & ~b & (ones &* 0x80)
    }

    private static func hex4(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 where at + k < raw.count { value = value << 4 | UInt32(hexValue(raw[at + k]) ?? 0) }
        return value
    }

    static func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            bytes.append(UInt8(scalar))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | scalar >> 6))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | scalar >> 12))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | scalar >> 18))
            bytes.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Numbers

    /// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` and returns its span.
    mutating func scanNumber() throws(JSONError) -> Range<Int> {
        let start = index
        if p[index] == 0x2D { index += 1 }
        guard let first = peek(), first >= 0x30 && first <= 0x39 else { throw error("invalid number", at: start) }
        index += 1
        if first == 0x30 {
            if let c = peek(), c >= 0x30 && c <= 0x39 { throw error("leading zero in number", at: start) }
        } else {
            skipDigits()
        }
        if peek() == 0x2E {
            index += 1
            guard skipDigits() > 0 else { throw error("invalid number", at: start) }
        }
        if let c = peek(), c == 0x65 || c == 0x45 {
            index += 1
            if let s = peek(), s == 0x2B || s == 0x2D { index += 1 }
            guard skipDigits() > 0 else { throw error("invalid number", at: start) }
        }
        return start..<index
    }

    @discardableResult @inline(__always) private mutating func skipDigits() -> Int {
        let start = index
        while index < count, p[index] &- 0x30 < 10 { index += 1 }
        return index - start
    }

    // MARK: Tree

    mutating func parseValue(depth: Int) throws(JSONError) -> JSON {
        guard let c = peek() else { throw error("unexpected end of input") }
        switch c {
        case 0x22:
            let s = try scanString()
            return .string(decodeString(start: s.start, end: s.end, escaped: s.escaped))
        case 0x7B:
            guard depth < maxDepth else { throw error("nesting too deep") }
            index += 1
            var object = JSONObject()
            skipWhitespace()
            if peek() == 0x7D { index += 1; return .object(object) }
            while true {
                skipWhitespace()
                guard peek() == 0x22 else { throw atEnd ? unexpected() : error("expected a string key") }
                let k = try scanString()
                let key = decodeString(start: k.start, end: k.end, escaped: k.escaped)
                skipWhitespace()
                try expect(0x3A, "':'")
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                object.members.append(JSONObject.Member(key: key, value: value))
                skipWhitespace()
                guard let d = peek() else { throw error("unexpected end of input, expected ',' or '}'") }
                index += 1
                if d == 0x7D { return .object(object) }
                guard d == 0x2C else { index -= 1; throw error("expected ',' or '}'") }
            }
        case 0x5B:
            guard depth < maxDepth else { throw error("nesting too deep") }
            index += 1
            var array: [JSON] = []
            skipWhitespace()
            if peek() == 0x5D { index += 1; return .array(array) }
            while true {
                skipWhitespace()
                array.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard let d = peek() else { throw error("unexpected end of input, expected ',' or ']'") }
                index += 1
                if d == 0x5D { return .array(array) }
                guard d == 0x2C else { index -= 1; throw error("expected ',' or ']'") }
            }
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6E: try literal("null"); return .null
        case 0x2D, 0x30...0x39:
            let r = try scanNumber()
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[r]), as: UTF8.self)
            return .number(JSONNumber(text))
        default: throw unexpected()
        }
    }
}

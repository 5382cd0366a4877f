#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fast path's reading of the bytes (objects, arrays, values, all validated as they are read) and
/// its writing of pieces.
extension ResponsesRequestFastPath {
    // MARK: Reading

    /// At `{`: moves `i` to the first key (true) or past `}` (false); nil when `i` is not at an object.
    mutating func openObject(_ i: inout Int) -> Bool? {
        guard i < n, p[i] == 0x7B else { return nil }
        i = ws(i + 1)
        guard i < n else { return nil }
        if p[i] == 0x7D {
            i += 1
            return false
        }
        return true
    }

    /// At `[`: moves `i` to the first element (true) or past `]` (false); nil when not at an array.
    mutating func openArray(_ i: inout Int) -> Bool? {
        guard i < n, p[i] == 0x5B else { return nil }
        i = ws(i + 1)
        guard i < n else { return nil }
        if p[i] == 0x5D {
            i += 1
            return false
        }
        return true
    }

    /// A member's key at `i`: the range of its text; `i` moves to the value. Nil when invalid, and for a
    /// key with an escape (it may spell a name this path reads).
    mutating func key(_ i: inout Int) -> Range<Int>? {
        guard i < n, p[i] == 0x22 else { return nil }
        var canonical = true
        var escaped = false
        let end = JSONCanonicalScan.string(p, n, i, &canonical, &escaped)
        guard end > 0, !escaped else { return nil }
        let k = (i + 1)..<(end - 1)
        i = ws(end)
        guard i < n, p[i] == 0x3A else { return nil }
        i = ws(i + 1)
        guard i < n else { return nil }
        return k
    }

    /// After a member's value: true with `i` at the next key, false past `}`, nil when invalid.
    mutating func nextMember(_ i: inout Int) -> Bool? {
        i = ws(i)
        guard i < n else { return nil }
        if p[i] == 0x2C {
            i = ws(i + 1)
            return true
        }
        guard p[i] == 0x7D else { return nil }
        i += 1
        return false
    }

    /// After an element: true with `i` at the next one, false past `]`, nil when invalid.
    mutating func nextElement(_ i: inout Int) -> Bool? {
        i = ws(i)
        guard i < n else { return nil }
        if p[i] == 0x2C {
            i = ws(i + 1)
            return true
        }
        guard p[i] == 0x5D else { return nil }
        i += 1
        return false
    }

    /// The value at `i` (at nesting `depth`), validated; nil when invalid.
    mutating func value(_ i: Int, depth: Int) -> Slot? {
        guard i < n else { return nil }
        var canonical = true
        var escaped = false
        let end =
            p[i] == 0x22
            ? JSONCanonicalScan.string(p, n, i, &canonical, &escaped)
            : JSONCanonicalScan.value(p, n, i, depth: depth, &canonical)
        guard end > 0 else { return nil }
        if !canonical { canon = false }
        return Slot(start: i, end: end, canonical: canonical, escaped: escaped)
    }

    @inline(__always) mutating func ws(_ i: Int) -> Int {
        let j = JSONFastScan.whitespace(p, n, i)
        if j != i { canon = false }
        return j
    }

    // MARK: Values

    @inline(__always) static func eq(_ p: UnsafePointer<UInt8>, _ at: Int, _ s: StaticString) -> Bool {
        memcmp(p + at, s.utf8Start, s.utf8CodeUnitCount) == 0
    }

    @inline(__always) func keyIs(_ k: Range<Int>, _ s: StaticString) -> Bool {
        k.count == s.utf8CodeUnitCount && memcmp(p + k.lowerBound, s.utf8Start, k.count) == 0
    }

    /// True for an unescaped string value whose text is `s`.
    func isString(_ v: Slot, _ s: StaticString) -> Bool {
        p[v.start] == 0x22 && !v.escaped && v.end - v.start - 2 == s.utf8CodeUnitCount
            && memcmp(p + v.start + 1, s.utf8Start, s.utf8CodeUnitCount) == 0
    }

    func slice(_ s: Slot) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[s.start..<s.end])
    }

    /// A string value's text; nil for other values.
    func decode(_ s: Slot) -> String? {
        guard p[s.start] == 0x22 else { return nil }
        if !s.escaped {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(s.start + 1)..<(s.end - 1)]), as: UTF8.self)
        }
        return JSONObjectScanner.decodeString(bytes, at: s.start..<s.end)
    }

    func bool(_ s: Slot) -> Bool? {
        switch p[s.start] {
        case 0x74: return true
        case 0x66: return false
        default: return nil
        }
    }

    func isNumber(_ s: Slot) -> Bool {
        let c = p[s.start]
        return c == 0x2D || (c >= 0x30 && c <= 0x39)
    }

    /// `JSON.intValue`: an integer literal that fits in `Int`.
    func int(_ s: Slot) -> Int? {
        guard isNumber(s) else { return nil }
        return Int(String(decoding: slice(s), as: UTF8.self))
    }

    // MARK: Pieces

    /// Body bytes `lo..<hi`, joined to the run before when it ends at `lo`.
    mutating func copy(_ lo: Int, _ hi: Int) {
        guard hi > lo else { return }
        if pieces.count > floor, !pieces[pieces.count - 1].side, pieces[pieces.count - 1].hi == lo {
            pieces[pieces.count - 1].hi = hi
            return
        }
        pieces.append(Piece(lo: lo, hi: hi, side: false))
    }

    /// The side bytes written since `lo` as a piece.
    mutating func sideWritten(from lo: Int) {
        let hi = side.count
        guard hi > lo else { return }
        if pieces.count > floor, pieces[pieces.count - 1].side, pieces[pieces.count - 1].hi == lo {
            pieces[pieces.count - 1].hi = hi
            return
        }
        pieces.append(Piece(lo: lo, hi: hi, side: true))
    }

    mutating func lit(_ s: StaticString) {
        let lo = side.count
        side.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        sideWritten(from: lo)
    }

    /// A string written by `JSON.writeString`.
    mutating func writeString(_ s: String) {
        let lo = side.count
        JSON.writeString(s, to: &side)
        sideWritten(from: lo)
    }

    /// A string value as the mapping writes its text: its bytes when they are in that form.
    mutating func string(_ s: Slot) {
        if s.canonical {
            copy(s.start, s.end)
            return
        }
        let lo = side.count
        var text: [UInt8] = []
        JSONReader.unescape(UnsafeRawBufferPointer(rebasing: bytes[(s.start + 1)..<(s.end - 1)]), into: &text)
        text.withUnsafeBytes { JSON.writeString(utf8: $0, to: &side) }
        sideWritten(from: lo)
    }

    /// A value (object, array, number, literal) as `JSON.write` writes it.
    mutating func canonicalValue(_ s: Slot) -> Bool {
        if s.canonical {
            copy(s.start, s.end)
            return true
        }
        guard let value = try? JSONParser.parse(Array(slice(s))) else { return false }
        let lo = side.count
        value.write(to: &side)
        sideWritten(from: lo)
        return true
    }

    /// Starts a block: its pieces never join the ones before.
    mutating func beginBlock() -> Int {
        floor = pieces.count
        return pieces.count
    }

    @discardableResult
    mutating func endBlock(
        _ start: Int, _ kind: Block.Kind, turn: Int = -2, text: Range<Int> = 0..<0, cache: Bool = false
    )
        -> Int
    {
        blocks.append(Block(pieces: start..<pieces.count, turn: turn, kind: kind, text: text, cache: cache))
        floor = pieces.count
        return blocks.count - 1
    }

    /// `{"type":"text","text":...}` for a non-empty string value.
    mutating func textBlock(_ s: Slot, turn: Int, cache: Bool = false) -> Int {
        let start = beginBlock()
        lit(#"{"type":"text","text":"#)
        floor = pieces.count
        let textStart = pieces.count
        string(s)
        let textEnd = pieces.count
        floor = pieces.count
        if cache { lit(#","cache_control":{"type":"ephemeral"}}"#) } else { lit("}") }
        return endBlock(start, .text, turn: turn, text: textStart..<textEnd, cache: cache)
    }

    /// Where the output stands, to take back what a value turned out not to need.
    struct Mark {
        var pieces: Int
        var lastHi: Int
        var side: Int
        var blocks: Int
        var floor: Int
    }

    func mark() -> Mark {
        Mark(pieces: pieces.count, lastHi: pieces.last?.hi ?? 0, side: side.count, blocks: blocks.count, floor: floor)
    }

    mutating func reset(_ m: Mark) {
        pieces.removeSubrange(m.pieces...)
        if m.pieces > 0 { pieces[m.pieces - 1].hi = m.lastHi }
        side.removeSubrange(m.side...)
        blocks.removeSubrange(m.blocks...)
        floor = m.floor
    }
}

/// `JSONFastScan`'s validating scan, telling as it goes whether the bytes are already what a parse and
/// `JSON.write` would write (`canonical`): no whitespace between tokens, and every escape in a string one
/// that `JSON.writeString` writes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, and `\u00xx` in lower-case
/// hex for the other control characters; every other character raw UTF-8). So `\/`, `\u00e9`, `\u001F`
/// and `\u000a` are valid JSON that a tree round trip spells differently. Such a value can be copied as
/// it stands where a general mapping would write it from a tree (numbers keep their text, objects their
/// members and their order).
///
/// Why: the byte-level request translators (`ResponsesRequestFastPath`, `MessagesRequestFastPath`) copy
/// strings, schemas and echoed fields from the client's body; they must know, from the one scan that
/// validates them, that the copy is byte-identical to what their tree mapping writes. Responses rewrites
/// a string that is not canonical; Anthropic -> OpenAI takes its tree mapping then (`string(_:_:_:)` and
/// `compactValue` answer -1). The grammar is `JSONFastScan`'s (the same functions), so validity agrees
/// with `JSONParser`; only nesting past 64 open containers is refused here (-1), which the fast paths
/// leave to the general mappings.
enum JSONCanonicalScan {
    typealias Bytes = UnsafePointer<UInt8>

    /// The index after the string whose quote is at `start`, or -1. Clears `canonical` for an escape
    /// `JSON.writeString` would write differently (`\/`, `\u00e9`, `\u000A`, upper-case hex, ...).
    @inline(__always) static func string(
        _ p: Bytes, _ n: Int, _ start: Int, _ canonical: inout Bool, _ escaped: inout Bool
    ) -> Int {
        var i = start &+ 1
        while true {
            i = JSONFastScan.plainRun(p, n, i)
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 { return i &+ 1 }
            if c == 0x5C {
                guard n &- i >= 2 else { return -1 }
                switch p[i &+ 1] {
                case 0x22, 0x5C, 0x6E, 0x74, 0x72, 0x62, 0x66:
                    escaped = true
                    i &+= 2
                    continue
                case 0x75:
                    if !isWrittenUnicodeEscape(p, n, i) { canonical = false }
                default:
                    canonical = false
                }
            }
            i = JSONFastScan.special(p, n, i, &escaped)
            if i < 0 { return -1 }
        }
    }

    /// `\u00xx` at `i` as `JSON.writeString` writes a control character that has no short escape.
    @inline(__always) static func isWrittenUnicodeEscape(_ p: Bytes, _ n: Int, _ i: Int) -> Bool {
        guard n &- i >= 6, p[i &+ 2] == 0x30, p[i &+ 3] == 0x30 else { return false }
        let high = p[i &+ 4]
        let low = p[i &+ 5]
        guard high == 0x30 || high == 0x31 else { return false }
        let value: UInt8
        switch low {
        case 0x30...0x39: value = (high &- 0x30) << 4 | (low &- 0x30)
        case 0x61...0x66: value = (high &- 0x30) << 4 | (low &- 0x57)
        default: return false
        }
        // These have short escapes (`\b`, `\t`, `\n`, `\f`, `\r`).
        return value != 0x08 && value != 0x09 && value != 0x0A && value != 0x0C && value != 0x0D
    }

    /// Whitespace from `i`; clears `canonical` when there is any.
    @inline(__always) static func whitespace(_ p: Bytes, _ n: Int, _ i: Int, _ canonical: inout Bool) -> Int {
        let j = JSONFastScan.whitespace(p, n, i)
        if j != i { canonical = false }
        return j
    }

    /// The index after the value at `start` (no leading whitespace), or -1 (invalid, or more than 64
    /// containers open). `depth` is the value's own nesting depth, as `JSONFastScan.value` counts it.
    static func value(_ p: Bytes, _ n: Int, _ start: Int, depth: Int, _ canonical: inout Bool) -> Int {
        var i = start
        var stack: UInt64 = 0
        var open = 0
        var key = false
        var escaped = false
        while true {
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 {
                i = string(p, n, i, &canonical, &escaped)
                if i < 0 { return -1 }
                if key {
                    i = whitespace(p, n, i, &canonical)
                    guard i < n, p[i] == 0x3A else { return -1 }
                    i = whitespace(p, n, i &+ 1, &canonical)
                    key = false
                    continue
                }
            } else {
                if key { return -1 }
                switch c {
                case 0x7B, 0x5B:
                    guard depth &+ open < JSONParser.maxDepth else { return -1 }
                    i = whitespace(p, n, i &+ 1, &canonical)
                    if i < n, p[i] == c &+ 2 {
                        i &+= 1
                    } else {
                        guard open < 64 else { return -1 }
                        let isObject = c == 0x7B
                        stack = stack << 1 | (isObject ? 1 : 0)
                        open &+= 1
                        key = isObject
                        continue
                    }
                case 0x74: i = JSONFastScan.literal(p, n, i, 0x6575_7274, 4)
                case 0x6E: i = JSONFastScan.literal(p, n, i, 0x6C6C_756E, 4)
                case 0x66: i = JSONFastScan.literal(p, n, i, 0x736C_6166, 5)
                default: i = JSONFastScan.number(p, n, i)
                }
                if i < 0 { return -1 }
            }
            while true {
                if open == 0 { return i }
                i = whitespace(p, n, i, &canonical)
                guard i < n else { return -1 }
                let d = p[i]
                let inObject = stack & 1 != 0
                if d == 0x2C {
                    i = whitespace(p, n, i &+ 1, &canonical)
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

    /// The whole of `bytes` as one JSON document: the range of its value (surrounding whitespace left
    /// out), or nil when invalid; `canonical` as for `value`.
    static func document(_ bytes: UnsafeRawBufferPointer, _ canonical: inout Bool) -> Range<Int>? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        let start = JSONFastScan.whitespace(p, n, 0)
        guard start < n else { return nil }
        let end = value(p, n, start, depth: 0, &canonical)
        guard end > 0, JSONFastScan.whitespace(p, n, end) == n else { return nil }
        return start..<end
    }

    /// The index after the string whose opening quote is at `start`, or -1 when it is invalid or holds
    /// an escape that `JSON.writeString` would spell differently (for callers that fall back then).
    @inline(__always) static func string(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var canonical = true
        var escaped = false
        let end = string(p, n, start, &canonical, &escaped)
        return canonical ? end : -1
    }

    /// The index after the value at `start`, or -1 when it is invalid, holds whitespace between tokens,
    /// a string `string` refuses, or more than 64 open containers.
    static func compactValue(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var canonical = true
        let end = value(p, n, start, depth: 0, &canonical)
        return canonical ? end : -1
    }
}

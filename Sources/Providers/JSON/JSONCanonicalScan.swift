/// Validating scans that also answer "would `JSON.write` give back these very bytes?": a string whose
/// escapes are all spelled as `JSON.writeString` spells them, a value with no whitespace between its
/// tokens and only such strings. Byte-level translators copy such bytes to the upstream body as they
/// are and still match a translation that decodes the body into a `JSON` tree and writes it back.
///
/// `JSON.writeString` writes `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control characters as
/// `\u00xx` (lowercase hex), and every other character as raw UTF-8. So `\/`, `\u00e9`, `\u001F` and
/// `\u000a` are valid JSON that a tree round trip spells differently: these scans return -1 for them
/// as for invalid input, and the caller takes its general path. The grammar is `JSONFastScan`'s (same
/// UTF-8 and escape checks, through its `special`), so nothing invalid is ever accepted.
enum JSONCanonicalScan {
    typealias Bytes = UnsafePointer<UInt8>

    /// The index after the string whose opening quote is at `start`, or -1 when it is invalid or holds
    /// an escape that `JSON.writeString` would spell differently.
    @inline(__always) static func string(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = start &+ 1
        while true {
            i = JSONFastScan.plainRun(p, n, i)
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 { return i &+ 1 }
            if c == 0x5C {
                guard n &- i >= 2 else { return -1 }
                switch p[i &+ 1] {
                case 0x6E, 0x22, 0x5C, 0x74, 0x72, 0x62, 0x66: i &+= 2  // n " \ t r b f
                case 0x75:
                    guard isWrittenUnicodeEscape(p, n, i) else { return -1 }
                    i &+= 6
                default: return -1  // `\/`, or invalid
                }
            } else {
                var escaped = false
                i = JSONFastScan.special(p, n, i, &escaped)  // a UTF-8 sequence, or invalid
                if i < 0 { return -1 }
            }
        }
    }

    /// `\u00xx` at `i` as `JSON.writeString` writes a control character: lowercase hex, below 0x20, and
    /// not one of those it writes as `\b`, `\t`, `\n`, `\f`, `\r`.
    @inline(__always) static func isWrittenUnicodeEscape(_ p: Bytes, _ n: Int, _ i: Int) -> Bool {
        guard n &- i >= 6, p[i &+ 2] == 0x30, p[i &+ 3] == 0x30 else { return false }
        let high = p[i &+ 4]
        let low = p[i &+ 5]
        guard high == 0x30 || high == 0x31 else { return false }
        let value: UInt8
        if low &- 0x30 < 10 {
            value = (high &- 0x30) << 4 | (low &- 0x30)
        } else if low &- 0x61 < 6 {
            value = (high &- 0x30) << 4 | (low &- 0x57)
        } else {
            return false
        }
        return value != 0x08 && value != 0x09 && value != 0x0A && value != 0x0C && value != 0x0D
    }

    /// The index after the value at `start`, or -1 when it is invalid, holds whitespace between tokens,
    /// a string `string` refuses, or more than 64 open containers.
    static func compactValue(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = start
        var stack: UInt64 = 0
        var open = 0
        // The next string is a member's key.
        var key = false
        while true {
            guard i < n else { return -1 }
            let c = p[i]
            if c == 0x22 {
                i = string(p, n, i)
                if i < 0 { return -1 }
                if key {
                    guard i < n, p[i] == 0x3A else { return -1 }
                    i &+= 1
                    key = false
                    continue
                }
            } else {
                if key { return -1 }
                switch c {
                case 0x7B, 0x5B:
                    i &+= 1
                    if i < n, p[i] == c &+ 2 {  // `}` is `{` + 2, `]` is `[` + 2
                        i &+= 1
                    } else {
                        guard open < 64 else { return -1 }
                        let isObject = c == 0x7B
                        stack = stack << 1 | (isObject ? 1 : 0)
                        open &+= 1
                        key = isObject
                        continue
                    }
                case 0x74: i = JSONFastScan.literal(p, n, i, 0x6575_7274, 4)  // true
                case 0x6E: i = JSONFastScan.literal(p, n, i, 0x6C6C_756E, 4)  // null
                case 0x66: i = JSONFastScan.literal(p, n, i, 0x736C_6166, 5)  // fals, e
                default: i = JSONFastScan.number(p, n, i)
                }
                if i < 0 { return -1 }
            }
            // A value is complete: close containers until one expects another element.
            while true {
                if open == 0 { return i }
                guard i < n else { return -1 }
                let d = p[i]
                let inObject = stack & 1 != 0
                if d == 0x2C {
                    i &+= 1
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

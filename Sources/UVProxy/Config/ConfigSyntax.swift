/// The small value grammars of the config file: durations, byte sizes, HTTP tokens and header values.
///
/// Each parser returns nil (or a message) rather than throwing, so the caller can attach the key path.
enum ConfigSyntax {
    // MARK: Durations

    /// Parses a duration into milliseconds.
    ///
    /// Accepts a plain number of seconds (`30`, `0.5`) or one or more number+unit parts, Go style:
    /// `250ms`, `30s`, `2m`, `1h`, `1m30s`, `1.5s`. Negative values and unknown units are rejected;
    /// a fraction of a millisecond is rounded to the nearest millisecond.
    static func durationMilliseconds(_ text: String) -> Int? {
        let s = text.trimmingSpaces()
        guard !s.isEmpty else { return nil }
        if let seconds = Double(s), s.utf8.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            return milliseconds(seconds, unit: 1000)
        }
        var total = 0.0
        var rest = Substring(s)
        while !rest.isEmpty {
            let number = rest.prefix { isDigit($0.asciiValue ?? 0) || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { ($0.asciiValue ?? 0) >= 0x61 && ($0.asciiValue ?? 0) <= 0x7A }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += value
            case "s": total += value * 1000
            case "m": total += value * 60_000
            case "h": total += value * 3_600_000
            default: return nil
            }
        }
        return milliseconds(total, unit: 1)
    }

    private static func milliseconds(_ value: Double, unit: Double) -> Int? {
        let ms = (value * unit).rounded()
        guard ms.isFinite, ms >= 0, ms < 1e15 else { return nil }
        return Int(ms)
    }

    // MARK: Byte sizes

    /// Parses a byte count: `65536`, `64KiB`, `32MiB`, `1GiB` (powers of 1024), `1KB`, `1MB`, `1GB`
    /// (powers of 1000). Whole numbers only.
    static func byteCount(_ text: String) -> Int? {
        let s = text.trimmingSpaces()
        let digits = s.prefix { isDigit($0.asciiValue ?? 0) }
        guard !digits.isEmpty, let n = Int(digits) else { return nil }
        let multiplier: Int
        switch s.dropFirst(digits.count).trimmingSpaces() {
        case "", "B": multiplier = 1
        case "KiB", "K", "k": multiplier = 1 << 10
        case "MiB", "M": multiplier = 1 << 20
        case "GiB", "G": multiplier = 1 << 30
        case "KB", "kB": multiplier = 1000
        case "MB": multiplier = 1_000_000
        case "GB": multiplier = 1_000_000_000
        default: return nil
        }
        let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    // MARK: HTTP syntax

    /// RFC 9110 `token`: the characters allowed in header names and methods.
    static func isToken<S: StringProtocol>(_ s: S) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy(isTokenByte)
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        if isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) { return true }
        switch b {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Why a header value cannot be sent, or nil when it can. CR, LF and NUL would let a value
    /// smuggle extra header lines (or truncate them in C code), so they are refused, as are the other
    /// control characters; horizontal tab is allowed, as HTTP allows it.
    static func headerValueProblem(_ value: String) -> String? {
        for b in value.utf8 {
            switch b {
            case 0x0D, 0x0A: return "header values must not contain CR or LF"
            case 0x00: return "header values must not contain NUL"
            case 0x09: continue
            case 0x01...0x1F, 0x7F: return "header values must not contain control characters"
            default: continue
            }
        }
        return nil
    }

    /// Headers the proxy owns: framing, hop-by-hop and `Host`. Configuring them would break the
    /// exchange or the upstream's TLS virtual hosting, so config may neither set nor remove them.
    static let reservedHeaders: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
        "trailer", "upgrade",
    ]

    /// A path the proxy can match or send: starts with `/`, no whitespace, controls, `?` or `#`.
    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "must start with '/'" }
        for b in path.utf8 {
            switch b {
            case 0x00...0x20, 0x7F: return "must not contain spaces or control characters"
            case UInt8(ascii: "?"): return "must not contain a query ('?')"
            case UInt8(ascii: "#"): return "must not contain a fragment ('#')"
            default: continue
            }
        }
        return nil
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

extension StringProtocol {
    /// Trims ASCII spaces and tabs (Foundation's trimming would also accept Unicode spaces).
    package func trimmingSpaces() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

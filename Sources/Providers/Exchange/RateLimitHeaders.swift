/// Rate-limit headers in the client's dialect when the upstream speaks another: OpenAI's
/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` and Anthropic's
/// `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` say the same things under other
/// names (and resets in other forms: OpenAI a duration such as `6m0s`, Anthropic an RFC 3339 time).
/// The upstream's own headers are passed on as well; this adds the client's names beside them, so a
/// client that waits on its own dialect's headers (and gives up without them) sees them.
///
/// On the bytes: the proxy hands over a response field's name and value as received and gets the
/// client's field appended to its header block, with no String and no allocation (translating them
/// through Strings cost ~13,000 instructions per response carrying three of them).
public enum RateLimitHeaders {
    /// Header `k` (0..<6) under OpenAI's name, lowercased. `k % 3`: 0 limit, 1 remaining, 2 reset.
    static func openAIName(_ k: Int) -> StaticString {
        switch k {
        case 0: "x-ratelimit-limit-requests"
        case 1: "x-ratelimit-remaining-requests"
        case 2: "x-ratelimit-reset-requests"
        case 3: "x-ratelimit-limit-tokens"
        case 4: "x-ratelimit-remaining-tokens"
        default: "x-ratelimit-reset-tokens"
        }
    }

    /// Header `k` under Anthropic's name, lowercased (the same order as `openAIName`).
    static func anthropicName(_ k: Int) -> StaticString {
        switch k {
        case 0: "anthropic-ratelimit-requests-limit"
        case 1: "anthropic-ratelimit-requests-remaining"
        case 2: "anthropic-ratelimit-requests-reset"
        case 3: "anthropic-ratelimit-tokens-limit"
        case 4: "anthropic-ratelimit-tokens-remaining"
        default: "anthropic-ratelimit-tokens-reset"
        }
    }

    static func isAnthropic(_ d: Dialect) -> Bool { d == .anthropicMessages || d == .bedrockAnthropic }
    static func isOpenAI(_ d: Dialect) -> Bool { d == .openAIChat || d == .openAIResponses }

    /// Which of the six headers the upstream's field `name` (any case) is, when a client of `client`'s
    /// dialect knows it under another name; nil when the dialects agree or the name has no counterpart.
    static func counterpartIndex(name: UnsafeRawBufferPointer, upstream: Dialect, client: Dialect) -> Int? {
        let fromAnthropic: Bool
        if isAnthropic(upstream), isOpenAI(client) {
            fromAnthropic = true
        } else if isOpenAI(upstream), isAnthropic(client) {
            fromAnthropic = false
        } else {
            return nil
        }
        // Compared whole: the length picks at most two candidates: the names are 24 (OpenAI) or 32 (Anthropic) bytes
        // long plus 0 (tokens limit, reset), 2 (requests limit, reset), 4 (tokens remaining) or 6.
        let candidates: (Int, Int)
        switch name.count &- (fromAnthropic ? 32 : 24) {
        case 0: candidates = (3, 5)
        case 2: candidates = (0, 2)
        case 4: candidates = (4, 4)
        case 6: candidates = (1, 1)
        default: return nil
        }
        if HeaderBytes.startsLowercased(name, fromAnthropic ? anthropicName(candidates.0) : openAIName(candidates.0)) {
            return candidates.0
        }
        if candidates.1 != candidates.0,
           HeaderBytes.startsLowercased(name, fromAnthropic ? anthropicName(candidates.1) : openAIName(candidates.1)) {
            return candidates.1
        }
        return nil
    }

    /// Appends `<client's name>: <value>\r\n` for the upstream's field `name: value` (bytes as a parsed
    /// head holds them: the name a token in any case, the value trimmed, no control byte but HT) when a
    /// client of `client`'s dialect knows it under another name, and says whether it did (not when the
    /// dialects agree, the name has no counterpart, or a reset cannot be read or is absurd). A limit or
    /// remaining count is copied (bytes that are not UTF-8 as U+FFFD); a reset is converted: an RFC 3339
    /// time to the seconds from `now` (`60s`), a duration to the time `now` plus it, rounded up.
    /// `now` in Unix seconds.
    @discardableResult
    public static func appendCounterpart(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, upstream: Dialect, client: Dialect, now: Int,
        into out: inout [UInt8]
    ) -> Bool {
        guard let k = counterpartIndex(name: name, upstream: upstream, client: client) else { return false }
        let toOpenAI = isOpenAI(client)
        let clientName = toOpenAI ? openAIName(k) : anthropicName(k)
        guard HeaderBytes.isASCII(value) else {
            // What a String made of these bytes holds (obs-text that is not UTF-8 becomes U+FFFD), as the
            // client got it when this went through Strings; seen only from an odd upstream.
            var s = String(decoding: value, as: UTF8.self)
            return s.withUTF8 { appendLine(k, clientName, UnsafeRawBufferPointer($0), toOpenAI: toOpenAI, now: now, into: &out) }
        }
        return appendLine(k, clientName, value, toOpenAI: toOpenAI, now: now, into: &out)
    }

    /// `<clientName>: <value in the client's form>\r\n`, or false (nothing appended) for a reset that
    /// cannot be read or is absurd.
    @inline(__always)
    private static func appendLine(_ k: Int, _ clientName: StaticString, _ value: UnsafeRawBufferPointer, toOpenAI: Bool,
                                   now: Int, into out: inout [UInt8]) -> Bool {
        guard k % 3 == 2 else {
            HeaderBytes.appendLine(clientName, value, into: &out)
            return true
        }
        if toOpenAI {
            // Seconds from now, `60s`: under 10^9, so at most 9 digits, written into a stack buffer.
            guard let when = rfc3339Seconds(value), when > now - 1_000_000_000, when < now + 1_000_000_000 else { return false }
            var v = max(0, when - now)
            var digits: (UInt64, UInt64) = (0, 0)
            return withUnsafeMutableBytes(of: &digits) { d in
                var i = d.count &- 1
                d[i] = 0x73  // 's'
                repeat {
                    i &-= 1
                    d[i] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                } while v > 0
                HeaderBytes.appendLine(clientName, UnsafeRawBufferPointer(rebasing: d[i...]), into: &out)
                return true
            }
        }
        let start = out.count
        ChunkBytes.append(clientName, to: &out)
        out.append(0x3A)  // ':'
        out.append(0x20)
        guard appendValue(value, now: now, into: &out) else {
            out.removeSubrange(start...)
            return false
        }
        out.append(0x0D)
        out.append(0x0A)
        return true
    }

    /// A duration reset as the time `now` plus it, rounded up, appended to `out`, or false (nothing
    /// appended) when it cannot be read or is absurd.
    private static func appendValue(_ value: UnsafeRawBufferPointer, now: Int, into out: inout [UInt8]) -> Bool {
        guard let seconds = durationSeconds(value), seconds.isFinite, seconds < 1e9 else { return false }
        ModelList.appendRFC3339(now + Int(seconds.rounded(.up)), into: &out)
        return true
    }

    /// The header a `client` of this dialect knows for the upstream's `name` and `value`, or nil when the
    /// dialects agree, the name has no counterpart or a reset cannot be read (`appendCounterpart` with Strings).
    public static func counterpart(name: String, value: String, upstream: Dialect, client: Dialect, now: Int)
        -> (name: String, value: String)?
    {
        var name = name
        var value = value
        var line: [UInt8] = []
        let written = name.withUTF8 { n in
            value.withUTF8 { v in
                appendCounterpart(name: UnsafeRawBufferPointer(n), value: UnsafeRawBufferPointer(v), upstream: upstream,
                                  client: client, now: now, into: &line)
            }
        }
        guard written, let colon = line.firstIndex(of: 0x3A) else { return nil }
        return (String(decoding: line[..<colon], as: UTF8.self),
                String(decoding: line[(colon + 2)..<(line.count - 2)], as: UTF8.self))
    }

    /// `6m0s`, `1s`, `20ms`, `1h2m3.5s` → seconds.
    static func durationSeconds(_ s: String) -> Double? {
        var s = s
        return s.withUTF8 { durationSeconds(UnsafeRawBufferPointer($0)) }
    }

    /// The same on bytes. Numbers are runs of ASCII digits and dots, each read as `Double(String)` reads
    /// it; any other byte (every byte of a non-ASCII character) ends the reading with nil.
    static func durationSeconds(_ u: UnsafeRawBufferPointer) -> Double? {
        var total = 0.0
        var numberStart = 0
        var i = 0
        let n = u.count
        guard n > 0 else { return nil }
        while i < n {
            let c = u[i]
            if c >= 0x30 && c <= 0x39 || c == 0x2E {
                i += 1
                continue
            }
            guard let v = number(u, numberStart, i) else { return nil }
            if c == 0x6D, i + 1 < n, u[i + 1] == 0x73 {  // "ms"
                total += v / 1000
                i += 2
                numberStart = i
                continue
            }
            switch c {
            case 0x68: total += v * 3600  // h
            case 0x6D: total += v * 60  // m
            case 0x73: total += v  // s
            default: return nil
            }
            i += 1
            numberStart = i
        }
        return numberStart == n ? total : nil
    }

    /// `u[start..<end]` (ASCII digits and dots) as `Double(String)` reads it; nil when empty or not a number.
    private static func number(_ u: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Double? {
        guard start < end else { return nil }
        // A String of 15 bytes or fewer lives inline (no allocation); Double(String) is the reading the
        // durations always had (its rounding, and its refusals: `1.2.3`, `.`).
        return Double(String(decoding: UnsafeRawBufferPointer(rebasing: u[start..<end]), as: UTF8.self))
    }

    /// `2026-12-06T20:15:32Z` (fractional seconds and offsets allowed) → Unix seconds.
    static func rfc3339Seconds(_ s: String) -> Int? {
        var s = s
        return s.withUTF8 { rfc3339Seconds(UnsafeRawBufferPointer($0)) }
    }

    /// The same on bytes. Out-of-range fields count on as `timegm` counts them (month 13 is January of
    /// the next year, second 60 the next minute); the separators are not checked.
    static func rfc3339Seconds(_ u: UnsafeRawBufferPointer) -> Int? {
        guard u.count >= 20 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int? {
            var v = 0
            for i in a..<b {
                guard u[i] >= 0x30, u[i] <= 0x39 else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
            let se = num(17, 19)
        else { return nil }
        var seconds = unixSeconds(year: y, month: mo, day: d) + h * 3600 + mi * 60 + se
        // An offset after the (optional) fraction: `+02:00` / `-05:30`.
        var i = 19
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1 }
        }
        if i + 6 <= u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-"), let oh = num(i + 1, i + 3), let om = num(i + 4, i + 6) {
            let offset = oh * 3600 + om * 60
            seconds += u[i] == UInt8(ascii: "+") ? -offset : offset
        }
        return seconds
    }

    /// Midnight UTC of `year`-`month`-`day` in Unix seconds, `month` and `day` counted on past their
    /// range as `timegm` does (month 0 is December of the year before, day 0 the month's eve), with
    /// Howard Hinnant's days-from-civil algorithm (no libc call: `timegm` cost ~1,000 instructions).
    static func unixSeconds(year: Int, month: Int, day: Int) -> Int {
        let m0 = month - 1
        let carry = m0 >= 0 ? m0 / 12 : (m0 - 11) / 12
        let m = m0 - carry * 12 + 1  // 1...12
        let y = year + carry - (m <= 2 ? 1 : 0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468 + day - 1) * 86400
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Rate-limit headers in the client's dialect when the upstream speaks another: OpenAI's
/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` and Anthropic's
/// `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` say the same things under other
/// names (and resets in other forms: OpenAI a duration such as `6m0s`, Anthropic an RFC 3339 time).
/// The upstream's own headers are passed on as well; this adds the client's names beside them, so a
/// client that waits on its own dialect's headers (and gives up without them) sees them.
public enum RateLimitHeaders {
    private static let pairs: [(openAI: String, anthropic: String)] = [
        ("x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit"),
        ("x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining"),
        ("x-ratelimit-reset-requests", "anthropic-ratelimit-requests-reset"),
        ("x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit"),
        ("x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining"),
        ("x-ratelimit-reset-tokens", "anthropic-ratelimit-tokens-reset"),
    ]

    static func isAnthropic(_ d: Dialect) -> Bool { d == .anthropicMessages || d == .bedrockAnthropic }
    static func isOpenAI(_ d: Dialect) -> Bool { d == .openAIChat || d == .openAIResponses }

    /// The header a `client` of this dialect knows for the upstream's `name` (lowercased) and
    /// `value`, or nil when the dialects agree or the name has no counterpart. `now` in Unix seconds.
    public static func counterpart(name: String, value: String, upstream: Dialect, client: Dialect, now: Int)
        -> (name: String, value: String)?
    {
        if isAnthropic(upstream), isOpenAI(client) {
            guard let pair = pairs.first(where: { $0.anthropic == name }) else { return nil }
            if pair.openAI.hasPrefix("x-ratelimit-reset") {
                guard let when = rfc3339Seconds(value), when > now - 1_000_000_000, when < now + 1_000_000_000 else { return nil }
                return (pair.openAI, "\(max(0, when - now))s")
            }
            return (pair.openAI, value)
        }
        if isOpenAI(upstream), isAnthropic(client) {
            guard let pair = pairs.first(where: { $0.openAI == name }) else { return nil }
            if pair.anthropic.hasSuffix("-reset") {
                guard let seconds = durationSeconds(value), seconds.isFinite, seconds < 1e9 else { return nil }
                return (pair.anthropic, ModelList.rfc3339(now + Int(seconds.rounded(.up))))
            }
            return (pair.anthropic, value)
        }
        return nil
    }

    /// `6m0s`, `1s`, `20ms`, `1h2m3.5s` → seconds.
    static func durationSeconds(_ s: String) -> Double? {
        var total = 0.0
        var number = ""
        let chars = Array(s)
        var i = 0
        guard !chars.isEmpty else { return nil }
        while i < chars.count {
            let c = chars[i]
            if c.isNumber || c == "." {
                number.append(c)
                i += 1
                continue
            }
            guard let n = Double(number) else { return nil }
            number = ""
            if c == "m", i + 1 < chars.count, chars[i + 1] == "s" {
                total += n / 1000
                i += 2
                continue
            }
            switch c {
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            default: return nil
            }
            i += 1
        }
        return number.isEmpty ? total : nil
    }

    /// `2026-12-06T20:15:32Z` (fractional seconds and offsets allowed) → Unix seconds.
    static func rfc3339Seconds(_ s: String) -> Int? {
        let u = Array(s.utf8)
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
        var t = tm()
        t.tm_year = Int32(y - 1900)
        t.tm_mon = Int32(mo - 1)
        t.tm_mday = Int32(d)
        t.tm_hour = Int32(h)
        t.tm_min = Int32(mi)
        t.tm_sec = Int32(se)
        var seconds = Int(timegm(&t))
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
}

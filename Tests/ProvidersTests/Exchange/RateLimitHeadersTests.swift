import Foundation
import Glibc
import XCTest
@testable import Providers

final class RateLimitHeadersTests: XCTestCase {
    func testAnthropicToOpenAIAndBack() {
        let now = 1_893_456_000  // 2030-01-01T00:00:00Z
        XCTAssertEqual(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-requests-remaining", value: "99",
                                                    upstream: .bedrockAnthropic, client: .openAIChat, now: now)?.name,
                       "x-ratelimit-remaining-requests")
        let reset = RateLimitHeaders.counterpart(name: "anthropic-ratelimit-tokens-reset", value: "2030-01-01T00:01:00Z",
                                                 upstream: .bedrockAnthropic, client: .openAIResponses, now: now)
        XCTAssertEqual(reset?.name, "x-ratelimit-reset-tokens")
        XCTAssertEqual(reset?.value, "60s")
        let back = RateLimitHeaders.counterpart(name: "x-ratelimit-reset-requests", value: "1m30s",
                                                upstream: .openAIChat, client: .anthropicMessages, now: now)
        XCTAssertEqual(back?.name, "anthropic-ratelimit-requests-reset")
        XCTAssertEqual(back?.value, "2030-01-01T00:01:30Z")
        XCTAssertEqual(RateLimitHeaders.counterpart(name: "x-ratelimit-limit-tokens", value: "30000", upstream: .openAIChat,
                                                    client: .anthropicMessages, now: now)?.name, "anthropic-ratelimit-tokens-limit")
        XCTAssertNil(RateLimitHeaders.counterpart(name: "x-ratelimit-limit-tokens", value: "1", upstream: .openAIChat, client: .openAIChat, now: now))
        XCTAssertNil(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-input-tokens-limit", value: "1", upstream: .bedrockAnthropic,
                                                  client: .openAIChat, now: now), "no OpenAI name for it")
        XCTAssertNil(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-requests-reset", value: "soon", upstream: .bedrockAnthropic,
                                                  client: .openAIChat, now: now))
        // Absurd values are dropped, not trapped on.
        XCTAssertNil(RateLimitHeaders.counterpart(name: "x-ratelimit-reset-tokens", value: "99999999999999999999s", upstream: .openAIChat,
                                                  client: .anthropicMessages, now: now))
        XCTAssertNil(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-tokens-reset", value: "9999-12-31T23:59:59Z", upstream: .bedrockAnthropic,
                                                  client: .openAIChat, now: now))
    }

    func testDurationsAndTimes() {
        XCTAssertEqual(RateLimitHeaders.durationSeconds("6m0s"), 360)
        XCTAssertEqual(RateLimitHeaders.durationSeconds("20ms"), 0.02)
        XCTAssertEqual(RateLimitHeaders.durationSeconds("1h2m3.5s"), 3723.5)
        XCTAssertNil(RateLimitHeaders.durationSeconds("5"))
        XCTAssertNil(RateLimitHeaders.durationSeconds("x"))
        XCTAssertEqual(RateLimitHeaders.rfc3339Seconds("1970-01-01T00:01:00Z"), 60)
        XCTAssertEqual(RateLimitHeaders.rfc3339Seconds("1970-01-01T01:00:00.123+01:00"), 0)
        XCTAssertNil(RateLimitHeaders.rfc3339Seconds("yesterday"))
    }
}

/// The byte path (`appendCounterpart`, `ForwardedResponseHeaders.isForwarded`) against the String
/// implementation it replaced (`Legacy` below, kept verbatim: names lowercased and compared as Strings,
/// values read as Strings, durations Character by Character, times through `timegm`), for every dialect
/// pair, names in mixed case, absent and near-miss names and odd values. The proxy wrote a counterpart
/// as `<name>: <value>\r\n` (`HTTPWriter.appendHeader`, which takes every value a parsed head holds).
final class RateLimitHeadersBytesTests: XCTestCase {
    private let now = 1_796_083_200  // 2026-12-01T00:00:00Z

    private func bytes(name: String, value: String, upstream: Dialect, client: Dialect, now: Int) -> [UInt8]? {
        var out: [UInt8] = [0x41]  // appended after what is there
        let n = Array(name.utf8)
        let v = Array(value.utf8)
        let written = n.withUnsafeBytes { nb in
            v.withUnsafeBytes { vb in
                RateLimitHeaders.appendCounterpart(name: nb, value: vb, upstream: upstream, client: client, now: now, into: &out)
            }
        }
        XCTAssertEqual(out.first, 0x41)
        XCTAssertEqual(written, out.count > 1, "\(name): \(value)")
        return written ? Array(out.dropFirst()) : nil
    }

    private func legacy(name: String, value: String, upstream: Dialect, client: Dialect, now: Int) -> [UInt8]? {
        // The proxy read the value from the head's bytes as a String (obs-text that is not UTF-8 as U+FFFD).
        let v = String(decoding: Array(value.utf8), as: UTF8.self)
        guard let c = Legacy.counterpart(name: name.lowercased(), value: v, upstream: upstream, client: client, now: now) else { return nil }
        return Array("\(c.name): \(c.value)\r\n".utf8)
    }

    private static let names: [String] = {
        var names: [String] = []
        for (o, a) in Legacy.pairs {
            names += [o, a, o.uppercased(), a.uppercased(), String(o.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element }),
                      String(a.enumerated().map { $0.offset % 3 == 0 ? Character($0.element.uppercased()) : $0.element }),
                      String(o.dropLast()), String(a.dropLast()), o + "s", a + "x", "x" + o, String(a.dropFirst())]
        }
        names += ["", "x", "x-ratelimit-", "anthropic-ratelimit-", "anthropic-ratelimit-input-tokens-limit",
                  "anthropic-ratelimit-output-tokens-reset", "x-ratelimit-limit_requests", "x-ratelimit-limit-requestS",
                  "anthropic-ratelimit-requests-Limit", "x-ratelimit-limit-requests~", "content-type", "retry-after",
                  "x-should-retry", "request-id", "X-RATELIMIT-RESET-TOKENS", "Anthropic-RateLimit-Tokens-Reset",
                  "anthropic-ratelimit-requests_limit", "x-ratelimit-limit.requests", "anthropic-ratelimit-tokens-limiT"]
        return names
    }()

    private static let values: [String] = [
        "", "0", "99", "100", "30000", "9 9", "1\t2", "1,000", "-5", "abc", "é", "日本",
        "\u{FFFD}", "99\u{301}",
        // Times.
        "2030-01-01T00:01:00Z", "2026-12-01T00:00:00Z", "2026-11-30T23:59:59Z", "2026-12-01T00:00:00.999Z",
        "2026-12-01T01:00:00+01:00", "2026-12-01T00:00:00-05:30", "2026-12-01T00:00:00+0100", "2026-12-01T00:00:00+01:0x",
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-30T24:60:60Z", "2026-99-99T99:99:99Z", "0000-00-00T00:00:00Z",
        "1970-01-01T00:00:00Z", "2058-01-01T00:00:00Z", "2059-09-01T00:00:00Z", "9999-12-31T23:59:59Z", "1995-01-01T00:00:00Z",
        "2026x12y01T00:00:00Z", "2026-12-01", "2026-12-01T00:00:00", "2026-12-01T00:00:0aZ", "2026-12-01T00:00:00Zjunk",
        "2026-12-01T00:00:00.5+02:00", "2026-12-01T00:00:00.+02:00", "2026-12-01T00:00:00é", "2026-12-01T00:00:00Z日本",
        "2026é12-01T00:00:00Z",
        // Durations.
        "6m0s", "1s", "20ms", "1h2m3.5s", "0s", "0.1s", "1.s", ".5s", ".s", "1.2.3s", "s", "ms", "h", "5", "5x", "1m", "1m30",
        "1h", "999999999s", "1000000000s", "99999999999999999999s", "1e3s", "0x10s", "1 s", "1S", "1M", "１s", "٣s",
        "1\u{301}s", "1ms\u{301}", "1m\u{301}s", "2h60m3600s", "0.000001s", "123456789.987654321s", "1h1h1h", "3ms2m1s",
        String(repeating: "9", count: 40) + "s", "0." + String(repeating: "0", count: 330) + "1s",
        "1" + String(repeating: "0", count: 320) + "s",
    ]

    func testEveryPairNameAndValueAsTheStringsGaveThem() {
        var compared = 0
        var written = 0
        for upstream in Dialect.allCases {
            for client in Dialect.allCases {
                for name in Self.names {
                    for value in Self.values {
                        let got = bytes(name: name, value: value, upstream: upstream, client: client, now: now)
                        let want = legacy(name: name, value: value, upstream: upstream, client: client, now: now)
                        XCTAssertEqual(got, want, "\(upstream) → \(client): \(name): \(value)")
                        compared += 1
                        if want != nil { written += 1 }
                    }
                }
            }
        }
        XCTAssertGreaterThan(written, 1000, "the cases must reach the writing branches")
        XCTAssertGreaterThan(compared, written)
    }

    /// Names a parsed head cannot hold (not tokens) are not the rate-limit names, whatever Unicode
    /// lowercasing makes of them (the Kelvin sign lowercases to `k`) or `| 0x20` would (CR to `-`).
    func testNonTokenNamesAreNotCounterparts() {
        for name in ["anthropic-ratelimit-to\u{212A}ens-limit", "anthropic-ratelimit-requests-limit\u{0}",
                     "anthropic-ratelimit\u{0D}requests-limit", "anthropic\u{0D}ratelimit-tokens-limit"] {
            XCTAssertNil(bytes(name: name, value: "1", upstream: .bedrockAnthropic, client: .openAIChat, now: now), name)
        }
        XCTAssertNil(bytes(name: "x-ratelimit-limit\u{0D}requests", value: "1", upstream: .openAIChat, client: .anthropicMessages, now: now))
    }

    /// Bytes that are not UTF-8 (obs-text a head may carry): the client got them as U+FFFD.
    func testValuesThatAreNotUTF8() {
        let name = Array("anthropic-ratelimit-requests-limit".utf8)
        for raw: [UInt8] in [[0xFF], [0x39, 0xFF, 0x39], [0xC3], [0xE6, 0x97], [0x80, 0x80], [0x32, 0x30, 0x33, 0x30, 0xFF]] {
            var out: [UInt8] = []
            let ok = name.withUnsafeBytes { n in
                raw.withUnsafeBytes { RateLimitHeaders.appendCounterpart(name: n, value: $0, upstream: .bedrockAnthropic, client: .openAIChat, now: now, into: &out) }
            }
            XCTAssertTrue(ok)
            XCTAssertEqual(out, Array("x-ratelimit-limit-requests: \(String(decoding: raw, as: UTF8.self))\r\n".utf8))
        }
        // A reset whose separators are obs-text: read from the String's bytes, as before (the raw bytes
        // would have read as a time).
        let reset = Array("anthropic-ratelimit-requests-reset".utf8)
        for raw: [[UInt8]] in [[Array("2026".utf8), [0xFF], Array("12-01T00:01:00Z".utf8)],
                               [Array("2026-12-01T00:01:00".utf8), [0xFF], Array("+01:00".utf8)]] {
            let value = raw.flatMap { $0 }
            var out: [UInt8] = []
            let ok = reset.withUnsafeBytes { n in
                value.withUnsafeBytes { RateLimitHeaders.appendCounterpart(name: n, value: $0, upstream: .bedrockAnthropic, client: .openAIChat, now: now, into: &out) }
            }
            let want = legacy(name: "anthropic-ratelimit-requests-reset", value: String(decoding: value, as: UTF8.self),
                              upstream: .bedrockAnthropic, client: .openAIChat, now: now)
            XCTAssertEqual(ok ? out : nil, want)
        }
    }

    /// Exact values: a mangled name or value fails here even where the legacy model would agree.
    func testExactLines() {
        func line(_ n: String, _ v: String, _ u: Dialect, _ c: Dialect) -> String? {
            bytes(name: n, value: v, upstream: u, client: c, now: now).map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(line("Anthropic-RateLimit-Requests-Remaining", "99", .bedrockAnthropic, .openAIChat),
                       "x-ratelimit-remaining-requests: 99\r\n")
        XCTAssertEqual(line("ANTHROPIC-RATELIMIT-TOKENS-LIMIT", "80000", .anthropicMessages, .openAIResponses),
                       "x-ratelimit-limit-tokens: 80000\r\n")
        XCTAssertEqual(line("anthropic-ratelimit-tokens-reset", "2026-12-01T00:01:00Z", .bedrockAnthropic, .openAIChat),
                       "x-ratelimit-reset-tokens: 60s\r\n")
        XCTAssertEqual(line("anthropic-ratelimit-requests-reset", "2026-11-30T23:00:00Z", .bedrockAnthropic, .openAIChat),
                       "x-ratelimit-reset-requests: 0s\r\n", "a reset in the past is now")
        XCTAssertEqual(line("anthropic-ratelimit-requests-reset", "2026-12-01T03:00:00+02:00", .bedrockAnthropic, .openAIChat),
                       "x-ratelimit-reset-requests: 3600s\r\n")
        XCTAssertEqual(line("X-RateLimit-Reset-Requests", "1m30s", .openAIChat, .anthropicMessages),
                       "anthropic-ratelimit-requests-reset: 2026-12-01T00:01:30Z\r\n")
        XCTAssertEqual(line("x-ratelimit-reset-tokens", "20ms", .openAIResponses, .bedrockAnthropic),
                       "anthropic-ratelimit-tokens-reset: 2026-12-01T00:00:01Z\r\n", "rounded up")
        XCTAssertEqual(line("x-ratelimit-remaining-tokens", "1\t2", .openAIChat, .anthropicMessages),
                       "anthropic-ratelimit-tokens-remaining: 1\t2\r\n")
        XCTAssertNil(line("x-ratelimit-remaining-tokens", "1", .openAIChat, .openAIResponses))
        XCTAssertNil(line("anthropic-ratelimit-tokens-remaining", "1", .bedrockAnthropic, .anthropicMessages))
        XCTAssertNil(line("anthropic-ratelimit-tokens-remaining", "1", .passthrough, .openAIChat))
        XCTAssertNil(line("x-ratelimit-reset-tokens", "soon", .openAIChat, .anthropicMessages))
    }

    func testDaysFromCivilCountsAsTimegm() {
        var rng = SystemRandomNumberGenerator()
        var cases: [(Int, Int, Int)] = [(1970, 1, 1), (2000, 2, 29), (2000, 3, 0), (1900, 2, 29), (2024, 0, 0), (0, 0, 0),
                                        (0, 1, 1), (9999, 99, 99), (2026, 13, 1), (1969, 12, 31), (1600, 1, 1), (400, 2, 29)]
        for _ in 0..<20_000 {
            cases.append((Int.random(in: 0...9999, using: &rng), Int.random(in: 0...99, using: &rng), Int.random(in: 0...99, using: &rng)))
        }
        for (y, m, d) in cases {
            var t = tm()
            t.tm_year = Int32(y - 1900)
            t.tm_mon = Int32(m - 1)
            t.tm_mday = Int32(d)
            XCTAssertEqual(RateLimitHeaders.unixSeconds(year: y, month: m, day: d), Int(timegm(&t)), "\(y)-\(m)-\(d)")
        }
        // Hours, minutes and seconds past their range too (the whole reading against timegm).
        for _ in 0..<5_000 {
            let f = (0..<6).map { i in Int.random(in: 0...(i == 0 ? 9999 : 99), using: &rng) }
            let s = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", f[0], f[1], f[2], f[3], f[4], f[5])
            XCTAssertEqual(RateLimitHeaders.rfc3339Seconds(s), Legacy.rfc3339Seconds(s), s)
        }
    }

    func testTimesWrittenAsTheStringWroteThem() {
        var rng = SystemRandomNumberGenerator()
        var seconds = [0, -1, 59, 86_399, 86_400, 951_782_400, 1_709_251_199, 4_102_444_800, 253_402_300_799, 253_402_300_800,
                       -62_135_596_800, -62_167_219_200, -62_167_219_201, -99_999_999_999, 9_999_999_999_999]
        for _ in 0..<20_000 { seconds.append(Int.random(in: -100_000_000_000...100_000_000_000, using: &rng)) }
        for s in seconds {
            var out: [UInt8] = [0x41]
            ModelList.appendRFC3339(s, into: &out)
            XCTAssertEqual(String(decoding: out.dropFirst(), as: UTF8.self), Legacy.rfc3339(s), "\(s)")
            XCTAssertEqual(ModelList.rfc3339(s), Legacy.rfc3339(s), "\(s)")
        }
    }

    func testForwardedNamesAsThePrefixesSay() {
        func model(_ name: [UInt8]) -> Bool {
            let lower = name.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
            return ForwardedResponseHeaders.prefixes.contains { lower.starts(with: $0) }
        }
        var names: [[UInt8]] = Self.names.map { Array($0.utf8) }
        for p in ForwardedResponseHeaders.prefixes {
            names += [p, p.map { $0 >= 97 && $0 <= 122 ? $0 & ~0x20 : $0 }, Array(p.dropLast()), p + Array("z".utf8),
                      [p[0] ^ 0x20 | 0x40] + p.dropFirst(), [p[0] & 0x1F] + p.dropFirst(), [p[0] | 0x80] + p.dropFirst()]
            for i in p.indices { var q = p; q[i] ^= 0x20; names.append(q); q[i] = 0x0D; names.append(q) }
        }
        names += [[], [0x78], [0x58], [0x38], Array("openai".utf8), Array("OpenAI-Organization".utf8), Array("request-idx".utf8),
                  Array("requestid".utf8), Array("x-amzn-RequestId".utf8), Array("X-Amzn-Trace-Id".utf8)]
        var forwarded = 0
        for n in names {
            let got = n.withUnsafeBytes { ForwardedResponseHeaders.isForwarded($0) }
            XCTAssertEqual(got, model(n), String(decoding: n, as: UTF8.self))
            if got { forwarded += 1 }
        }
        XCTAssertGreaterThan(forwarded, 50)
    }
}

/// The String implementation the byte path replaced (df11618), the model the tests above compare with.
private enum Legacy {
    static let pairs: [(openAI: String, anthropic: String)] = [
        ("x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit"),
        ("x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining"),
        ("x-ratelimit-reset-requests", "anthropic-ratelimit-requests-reset"),
        ("x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit"),
        ("x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining"),
        ("x-ratelimit-reset-tokens", "anthropic-ratelimit-tokens-reset"),
    ]

    static func isAnthropic(_ d: Dialect) -> Bool { d == .anthropicMessages || d == .bedrockAnthropic }
    static func isOpenAI(_ d: Dialect) -> Bool { d == .openAIChat || d == .openAIResponses }

    static func counterpart(name: String, value: String, upstream: Dialect, client: Dialect, now: Int)
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
                return (pair.anthropic, rfc3339(now + Int(seconds.rounded(.up))))
            }
            return (pair.anthropic, value)
        }
        return nil
    }

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

    static func rfc3339(_ seconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = seconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs % 3600 / 60, 2)):\(pad(secs % 60, 2))Z"
    }
}

/// What the dialects say in HTTP headers rather than in bodies: the request header a client names its
/// betas in, and the response headers of an upstream that a client may act on. The proxy reads and
/// copies the bytes; which names matter is known here.
extension Dialect {
    /// The request header (lowercased) in which a client of this dialect lists the betas it asks for
    /// (a translator reads them: `ClientRequest.anthropicBeta`), nil when the dialect has none.
    public var betaHeader: String? { self == .anthropicMessages ? "anthropic-beta" : nil }
}

extension ClientRequest {
    /// The betas in the values of a client's beta header (one field or several, each a comma-separated
    /// list): split at every `,` byte, spaces and tabs trimmed, empty entries dropped.
    ///
    /// On the bytes: `String.split` walks a value `Character` by `Character` (grapheme breaking), which
    /// cost ~97,000 instructions per request for Claude Code's 8-beta header, more than the profile's
    /// whole cut of its 120 KB body.
    public static func betas(fromHeaderValues values: [String]) -> [String] {
        var out: [String] = []
        for var value in values {
            value.withUTF8 { b in
                let n = b.count
                var start = 0
                while start < n {
                    var end = start
                    while end < n && b[end] != 0x2C { end += 1 }
                    var s = start
                    var e = end
                    while s < e && (b[s] == 0x20 || b[s] == 0x09) { s += 1 }
                    while e > s && (b[e - 1] == 0x20 || b[e - 1] == 0x09) { e -= 1 }
                    if s < e { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self)) }
                    start = end + 1
                }
            }
        }
        return out
    }
}

/// Response headers of an upstream that the client of a translated route gets as received: rate
/// limits (OpenAI's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`; `RateLimitHeaders` adds them
/// under the client's names when its dialect calls them otherwise), the upstream's request ids
/// (`openai-*` also carries OpenAI's organization and processing time; `request-id` is Anthropic's,
/// `x-amzn-requestid` Bedrock's) and its retry advice (`x-should-retry`). Every dialect's, whatever the
/// route's: a gateway in front of one vendor may pass on another's.
public enum ForwardedResponseHeaders {
    /// Lowercased prefixes of the names passed on.
    public static let prefixes: [[UInt8]] = [
        "x-ratelimit-", "anthropic-ratelimit-", "openai-", "x-amzn-requestid", "request-id", "x-should-retry",
    ].map { Array($0.utf8) }

    /// A cheap first test for a field name: bit `b & 31` is set for the first byte `b` of every prefix
    /// (ASCII letters, either case), so a name whose first byte's bit is clear matches no prefix.
    public static let firstBytes: UInt32 = prefixes.reduce(0) { $0 | 1 << UInt32($1[0] & 31) }

    /// True when a field `name` (bytes as received, any case) starts with one of `prefixes`: most
    /// names (content-type, date, server, ...) are ruled out by their first byte.
    @inlinable
    public static func isForwarded(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let first = name.first else { return false }
        switch first | 0x20 {
        case UInt8(ascii: "x"):
            return HeaderBytes.hasLowercasedPrefix(name, "x-ratelimit-") || HeaderBytes.hasLowercasedPrefix(name, "x-amzn-requestid")
                || HeaderBytes.hasLowercasedPrefix(name, "x-should-retry")
        case UInt8(ascii: "a"): return HeaderBytes.hasLowercasedPrefix(name, "anthropic-ratelimit-")
        case UInt8(ascii: "o"): return HeaderBytes.hasLowercasedPrefix(name, "openai-")
        case UInt8(ascii: "r"): return HeaderBytes.hasLowercasedPrefix(name, "request-id")
        default: return false
        }
    }
}

extension RateLimitHeaders {
    /// A client of `client`'s dialect knows the upstream's rate-limit headers under other names
    /// (OpenAI ↔ Anthropic): `appendCounterpart` then gives them.
    public static func translates(upstream: Dialect, client: Dialect) -> Bool {
        (isAnthropic(upstream) && isOpenAI(client)) || (isOpenAI(upstream) && isAnthropic(client))
    }
}

/// Request headers in which a client says who it is, recorded in the access log (lowercased names):
/// Claude Code's session id, and the id a client gives its own request (the OpenAI SDKs' and Codex's).
public enum ClientIdentityHeaders {
    public static let session: [UInt8] = Array("x-claude-code-session-id".utf8)
    public static let clientRequestId: [UInt8] = Array("x-client-request-id".utf8)
}

import HTTP1
/// How the mock upstream should answer one request. Options come from `x-mock-*` headers, or from
/// `+key=value` suffixes on the model name (`claude-sonnet+tools+chunks=3`), which also travel
/// through translated routes where client headers do not reach the upstream.
struct MockOptions {
    var chunks = 8
    var delayMs = 0
    var scenario = "text"          // text, tools, parallel-tools, thinking, unicode, echo
    var fault: String?             // see MockUpstream.applyFault
    var status: Int?               // answer with this error status
    var streamBytes = 0            // a long SSE stream of about this many bytes (backpressure tests)
    var anthropicEvents = false    // standard Anthropic SSE (`event:` lines) instead of data-only
    var waitMs = 0                 // silence before the response head (a slow first token)
    var endDelayMs = 0             // silence between a stream's last event and the end of its framing
    var failFirst = 0              // only the first N requests with these same options get status/fault
    var failRate = 0               // only this percentage of requests gets status/fault
    var retryAfter: String?        // Retry-After on a status answer (default 7 for 429 and 503)
    var shouldRetry: String?       // x-should-retry on a status answer
    /// The model name with its options, as sent: requests with the same one share `failFirst`'s count.
    var key = ""

    mutating func apply(key: String, value: String?) {
        switch key {
        case "chunks": if let v = value.flatMap(Int.init) { chunks = max(0, min(v, 100_000)) }
        case "delay", "delay-ms", "delay_ms": if let v = value.flatMap(Int.init) { delayMs = max(0, min(v, 600_000)) }
        case "fault": fault = value
        case "wait", "wait-ms": if let v = value.flatMap(Int.init) { waitMs = max(0, min(v, 600_000)) }
        case "end-delay", "end-delay-ms": if let v = value.flatMap(Int.init) { endDelayMs = max(0, min(v, 600_000)) }
        case "status": status = value.flatMap(Int.init)
        case "fail-first": if let v = value.flatMap(Int.init) { failFirst = max(0, v) }
        case "fail-rate": if let v = value.flatMap(Int.init) { failRate = max(0, min(v, 100)) }
        case "retry-after": retryAfter = value
        case "should-retry": shouldRetry = value
        case "tag": break  // only makes a key unique
        case "bytes", "stream-bytes": if let v = value.flatMap(Int.init) { streamBytes = max(0, v) }
        case "sse": anthropicEvents = value == "anthropic"
        case "scenario": if let value { scenario = value }
        default: scenario = key  // a bare word names the scenario: +tools, +thinking, +echo
        }
    }

    /// Reads `+opt` suffixes off a model name; returns the plain model.
    mutating func parseModel(_ model: String) -> String {
        guard model.utf8.contains(UInt8(ascii: "+")) else { return model }  // the common case, on bytes
        key = model
        var parts = model.utf8.split(separator: UInt8(ascii: "+"), omittingEmptySubsequences: true).map { String(Substring($0)) }
        guard !parts.isEmpty else { return model }
        let base = parts.removeFirst()
        for p in parts {
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
            apply(key: kv[0], value: kv.count > 1 ? kv[1] : nil)
        }
        return base
    }

    private static let headerPrefix = Array("x-mock-".utf8)

    mutating func parseHeaders(_ head: HTTPRequestHead) {
        for i in 0..<head.fields.count where head.nameHasPrefix(i, Self.headerPrefix) {
            let name = head.name(at: i).lowercased()
            apply(key: String(name.dropFirst(7)), value: head.value(at: i))
        }
    }
}

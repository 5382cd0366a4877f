/// `retries`: when a route tries its upstream again before answering (issue "Keep answering").
///
/// A retry happens only before any byte of the upstream's response reached the client (keep-alive
/// pings aside), for a connect failure, a connection closed or reset before the response head, or
/// a response whose status is listed (429, 503 and Anthropic's 529 "overloaded" by default), unless
/// the upstream says `x-should-retry: false` (and also for any status when it says `true`). Waits grow
/// exponentially with jitter from `backoff` to `max_backoff`, or follow `Retry-After` (seconds or an
/// HTTP date); no retry starts later than `deadline` after the request arrived: a `Retry-After`
/// beyond it is answered at once, with the header. A pass-through request whose body streamed to
/// the upstream (not kept) is not retried.
package struct RetryPolicy: Sendable, Equatable {
    /// Tries in all, the first included; 1 turns retries off. Default 3.
    package var attempts = 3
    package var statuses: [Int] = [429, 503, 529]
    /// First wait (ms) without `Retry-After`; doubles per retry, with jitter (50-100% of it).
    package var backoff = 250
    package var maxBackoff = 8_000
    /// No retry starts later than this (ms) after the request arrived. Default 30 s.
    package var deadline = 30_000

    package init() {}

    package static let off: RetryPolicy = {
        var p = RetryPolicy()
        p.attempts = 1
        return p
    }()
}

/// One entry of a route's `fallbacks`: another upstream, another model id, or both.
package struct FallbackTarget: Sendable, Equatable {
    /// An upstream name (nil: the route's own).
    package var upstream: String?
    /// The upstream model id every request goes to on this target (Bedrock egress; nil: the client's,
    /// resolved as on the route).
    package var model: String?

    package init(upstream: String? = nil, model: String? = nil) {
        self.upstream = upstream
        self.model = model
    }
}

/// Passive health per target: `failures` consecutive retryable failures open its circuit for
/// `cooldown` ms (requests skip it); then one request probes it, and a success closes it.
package struct CircuitPolicy: Sendable, Equatable {
    package var failures = 3
    package var cooldown = 30_000

    package init() {}
}

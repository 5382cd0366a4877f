import Glibc

/// Decides whether and when an exchange tries its upstream again (`RetryPolicy`), from what the
/// failed try gave: no sockets, no clock of its own (the caller passes `now`), so every rule is tested
/// directly.
struct RetryPlanner {
    enum Failure: Equatable {
        /// No connection (refused, unreachable, TLS failure, connect timeout).
        case connect
        /// The connection closed or reset before the response head.
        case closedBeforeHead
        /// A complete response head with this status, `Retry-After` and `x-should-retry` values.
        case status(Int, retryAfter: String?, shouldRetry: String?)
    }

    enum Decision: Equatable {
        /// Try again after this many ms.
        case retry(afterMs: UInt64)
        /// Answer the client with what the failed try gave; `why` says why not (for the log), nil when
        /// the failure is simply not retryable.
        case answer(why: String?)
    }

    let policy: RetryPolicy

    /// Whether a response with this head is one a retry may follow (decided before its body is read,
    /// so a pass-through route does not start sending it to the client).
    func mayRetry(status: Int, shouldRetry: String?) -> Bool {
        policy.attempts > 1 && isRetryable(status: status, shouldRetry: shouldRetry)
    }

    /// Whether the status is one to try again (here or on a fallback target), whatever the attempts left.
    func isRetryable(status: Int, shouldRetry: String?) -> Bool {
        switch shouldRetry?.lowercased() {
        case "false": return false
        case "true": return status >= 400
        default: return policy.statuses.contains(status)
        }
    }

    /// `attempt` is the number of tries made so far (1 after the first); `startedAt` and `now` in ms
    /// of the loop's clock; `wallNow` in Unix seconds (for an HTTP-date `Retry-After`); `jitter` in
    /// 0...1 (random in use, fixed in tests).
    func decide(_ failure: Failure, attempt: Int, startedAt: UInt64, now: UInt64, wallNow: Int, jitter: Double) -> Decision {
        guard attempt < policy.attempts else {
            return .answer(why: policy.attempts > 1 ? "gave up after \(attempt) tries" : nil)
        }
        var wait: UInt64
        let exponential = min(policy.maxBackoff, policy.backoff << min(attempt - 1, 20))
        let backoff = UInt64(Double(exponential) * (0.5 + 0.5 * min(max(jitter, 0), 1)))
        switch failure {
        case .connect, .closedBeforeHead:
            wait = backoff
        case .status(let status, let retryAfter, let shouldRetry):
            guard mayRetry(status: status, shouldRetry: shouldRetry) else { return .answer(why: nil) }
            if let retryAfter, let seconds = Self.retryAfterSeconds(retryAfter, wallNow: wallNow) {
                // Capped past the deadline, so that the product cannot overflow (the upstream's header is input).
                wait = UInt64(min(seconds, policy.deadline / 1000 + 1)) * 1000
            } else {
                wait = backoff
            }
        }
        let deadline = startedAt + UInt64(policy.deadline)
        guard now <= deadline, wait <= deadline - now else {
            return .answer(why: "the upstream asked to wait \(wait) ms, past the retry deadline of \(policy.deadline) ms")
        }
        return .retry(afterMs: wait)
    }

    /// `Retry-After` as seconds from now: delay-seconds, or an HTTP date (IMF-fixdate,
    /// `Sun, 06 Nov 1994 08:49:37 GMT`; a date in the past is 0). nil when it is neither.
    static func retryAfterSeconds(_ value: String, wallNow: Int) -> Int? {
        let v = value.trimmingSpaces()
        if let n = Int(v), n >= 0 { return n }
        if !v.isEmpty, v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return Int.max }  // more digits than an Int
        // "Sun, 06 Nov 1994 08:49:37 GMT"
        let parts = v.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (1970...9999).contains(year), (1...31).contains(day), (0..<24).contains(hms[0]),
              (0..<60).contains(hms[1]), (0..<61).contains(hms[2]) else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(hms[0])
        t.tm_min = Int32(hms[1])
        t.tm_sec = Int32(hms[2])
        let when = Int(timegm(&t))
        return max(0, when - wallNow)
    }
}

/// Label values interned to small ids, per worker: the request path stores ids, a scrape turns them
/// back into strings. Ids are never reused or renumbered (a reload adds names, it does not move them),
/// so counters keyed by them keep their meaning for the life of the process. Loop-confined.
final class LabelSet {
    private(set) var names: [String] = []
    private var ids: [String: Int] = [:]

    init(_ initial: [String] = []) {
        for n in initial { _ = id(n) }
    }

    /// The id of `name`, added when new. Cold path (bind, pool events, credential runs).
    func id(_ name: String) -> Int {
        if let i = ids[name] { return i }
        let i = names.count
        names.append(name)
        ids[name] = i
        return i
    }
}

/// The `kind` label of `mini_proxy_tokens_total`.
enum TokenKind: Int, CaseIterable, Sendable {
    case input, output, cacheRead, cacheCreation, reasoning

    var label: String {
        switch self {
        case .input: "input"
        case .output: "output"
        case .cacheRead: "cache_read"
        case .cacheCreation: "cache_creation"
        case .reasoning: "reasoning"
        }
    }
}

/// The `reason` label of `mini_proxy_retries_total`: why the upstream was tried again.
enum RetryReason: Int, CaseIterable, Sendable {
    /// The connection could not be made (refused, unreachable, connect timeout).
    case connect
    /// The connection closed before the response head.
    case closedBeforeHead
    /// A pooled connection turned out closed: tried once more on a fresh one.
    case staleConnection
    /// An upstream status the route's retry policy retries (429, 5xx...).
    case status
    /// A 401 with a command credential: the token was refreshed.
    case auth
    /// The upstream refused part of the request and the translator removed it (healing).
    case rejection

    var label: String {
        switch self {
        case .connect: "connect"
        case .closedBeforeHead: "closed_before_head"
        case .staleConnection: "stale_connection"
        case .status: "status"
        case .auth: "auth"
        case .rejection: "rejection"
        }
    }
}

/// The `kind` label of `mini_proxy_healed_total`: what the proxy removed after an upstream refused it.
enum HealedKind: Int, CaseIterable, Sendable {
    case beta, field, messageKey, toolKey, thinkingKey, systemRole
    /// The refusal named something another request had just learned (nothing new removed).
    case known
    case other

    var label: String {
        switch self {
        case .beta: "beta"
        case .field: "field"
        case .messageKey: "message_key"
        case .toolKey: "tool_key"
        case .thinkingKey: "thinking_key"
        case .systemRole: "system_role"
        case .known: "known"
        case .other: "other"
        }
    }

    /// The kind of a `RejectionRetry.learned` description (`field x`, `tool key y`, `every beta ...`).
    init(learned: String?) {
        guard let learned else {
            self = .known
            return
        }
        if learned.hasPrefix("field ") {
            self = .field
        } else if learned.hasPrefix("message key ") {
            self = .messageKey
        } else if learned.hasPrefix("tool key ") {
            self = .toolKey
        } else if learned.hasPrefix("thinking key ") {
            self = .thinkingKey
        } else if learned.hasPrefix("role system") {
            self = .systemRole
        } else if learned.contains("beta") {
            self = .beta
        } else {
            self = .other
        }
    }
}

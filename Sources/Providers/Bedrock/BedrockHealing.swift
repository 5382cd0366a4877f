import Synchronization

/// What a Bedrock 400 names as the reason it refused a request body, when the proxy can remove it.
public enum BedrockRejection: Sendable, Equatable {
    /// `invalid beta flag`: one of `anthropic_beta` (unnamed).
    case invalidBeta
    /// A top-level key: `#: extraneous key [X] is not permitted`, `X: Extra inputs are not permitted`.
    case field(String)
    /// A key of a message object: `#/messages/N: extraneous key [X] ...`, `messages.N.X: Extra inputs ...`.
    case messageKey(String)
    /// A key of a tool: `tools.N.custom.X: Extra inputs are not permitted`, `tools.N.X: ...`.
    case toolKey(String)
    /// A key of `thinking`: `thinking.X: Extra inputs ...`, `thinking.enabled.X: ...`.
    case thinkingKey(String)
    /// `#/messages/N/role: expected user or assistant`: a `role: system` message.
    case systemRole

    /// The rejection a Bedrock (or AI-Gateway) error body describes, or nil when it names nothing the
    /// proxy can remove. Reads `message`, `Message` or `error.message`.
    public static func parse(status: Int, body: [UInt8]) -> BedrockRejection? {
        guard status == 400, let message = errorMessage(body) else { return nil }
        return parse(message: message)
    }

    public static func parse(message: String) -> BedrockRejection? {
        let m = message
        if m.range(of: "invalid beta flag", caseInsensitive: true) { return .invalidBeta }
        if m.contains("expected user or assistant"), m.contains("/role") { return .systemRole }
        if let key = between(m, "extraneous key [", "]") {
            // `#: extraneous key [X]` (top level), `#/messages/3: ...`, `#/tools/2: ...`, `#/thinking: ...`,
            // after a prefix such as "Malformed input request: ".
            let before = m.firstRange(of: "extraneous key").map { m[..<$0.lowerBound] } ?? ""
            let location = before.split(separator: " ").last.map(String.init) ?? ""
            return classify(location: location.replacingSlashes(), key: key)
        }
        if let end = m.firstRange(of: ": Extra inputs are not permitted") {
            // The path before it, possibly after a prefix such as "Malformed input request: ".
            var path = String(m[..<end.lowerBound])
            if let space = path.lastIndex(of: " ") { path = String(path[path.index(after: space)...]) }
            let parts = path.split(separator: ".").map(String.init)
            guard let key = parts.last, !key.isEmpty else { return nil }
            return classify(location: parts.dropLast().joined(separator: "."), key: key)
        }
        return nil
    }

    /// `location` is a dotted path without the key (`messages.3`, `tools.2.custom`, `thinking`, ``).
    private static func classify(location: String, key: String) -> BedrockRejection? {
        var loc = location
        while loc.hasPrefix("#") || loc.hasPrefix(".") { loc.removeFirst() }
        while loc.hasSuffix(":") || loc.hasSuffix(" ") || loc.hasSuffix(".") { loc.removeLast() }
        let parts = loc.split(separator: ".")
        guard let first = parts.first else { return .field(key) }
        switch first {
        case "messages" where parts.count == 2: return .messageKey(key)
        case "tools" where parts.count >= 2 && parts.count <= 3: return .toolKey(key)
        case "thinking" where parts.count <= 2: return .thinkingKey(key)
        default: return nil
        }
    }

    private static func between(_ s: String, _ open: String, _ close: String) -> String? {
        guard let a = s.firstRange(of: open) else { return nil }
        let rest = s[a.upperBound...]
        guard let b = rest.firstIndex(of: Character(close)) else { return nil }
        let key = String(rest[..<b])
        return key.isEmpty ? nil : key
    }

    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let json = try? JSONParser.parse(body) else {
            let text = String(decoding: body.prefix(512), as: UTF8.self)
            return text.isEmpty ? nil : text
        }
        if let m = json["message"]?.stringValue ?? json["Message"]?.stringValue { return m }
        if let m = json["error"]?["message"]?.stringValue { return m }
        return nil
    }
}

/// What the upstream refused for one model, learned from its 400s (see `BedrockHealing`).
public struct LearnedRejections: Sendable, Equatable {
    public enum BetaCeiling: Sendable, Equatable {
        /// The profile's list.
        case profile
        /// Only the built-in known-good list (the profile let anything through and one was refused).
        case knownGood
        /// No beta at all (even known-good ones were refused: some models take none).
        case none
    }

    public var betas = BetaCeiling.profile
    public var fields: Set<String> = []
    public var messageKeys: Set<String> = []
    public var toolKeys: Set<String> = []
    public var thinkingKeys: Set<String> = []
    public var foldSystem = false

    public init() {}
}

/// Rejections learned per upstream model id for the life of the process: after one 400 that names a
/// beta, field, key or role, the next request for that model is cut right the first time. Shared by
/// every worker and kept across config reloads; read once per translated request (one lock).
public final class BedrockHealing: Sendable {
    private let learned = Mutex<[String: LearnedRejections]>([:])
    /// Non-zero once anything was learned: requests skip the lock until then.
    private let count = Atomic<Int>(0)

    public init() {}

    public func rejections(for model: String) -> LearnedRejections? {
        guard count.load(ordering: .relaxed) > 0 else { return nil }
        return learned.withLock { $0[model] }
    }

    /// Records `rejection` for `model` given what the refused request sent. Returns a description of
    /// what is now removed for that model, or nil when nothing new can be removed (a retry would be
    /// the same request).
    public func learn(_ rejection: BedrockRejection, model: String, sentBetas: [String], profile: BedrockProfile) -> String? {
        // What no request can do without is never learned away (a 400 naming it is answered as it is).
        switch rejection {
        case .field(let k) where ["anthropic_version", "messages", "max_tokens"].contains(k): return nil
        case .messageKey(let k) where ["role", "content"].contains(k): return nil
        case .toolKey(let k) where ["name", "input_schema", "type"].contains(k): return nil
        case .thinkingKey(let k) where k == "type": return nil
        default: break
        }
        return learned.withLock { all -> String? in
            var r = all[model] ?? LearnedRejections()
            var what: String?
            switch rejection {
            case .invalidBeta:
                guard !sentBetas.isEmpty else { return nil }
                let knownGood = Set(profile.betas ?? BedrockProfile.claudeOnBedrock.betas ?? [])
                if r.betas == .profile, profile.betas == nil, !sentBetas.allSatisfy({ knownGood.contains($0) }) {
                    r.betas = .knownGood
                    what = "betas outside the known-good list (sent: \(sentBetas.joined(separator: ",")))"
                } else if r.betas != .none {
                    r.betas = .none
                    what = "every beta (sent: \(sentBetas.joined(separator: ",")))"
                }
            case .field(let k): if r.fields.insert(k).inserted { what = "field \(k)" }
            case .messageKey(let k): if r.messageKeys.insert(k).inserted { what = "message key \(k)" }
            case .toolKey(let k): if r.toolKeys.insert(k).inserted { what = "tool key \(k)" }
            case .thinkingKey(let k): if r.thinkingKeys.insert(k).inserted { what = "thinking key \(k)" }
            case .systemRole:
                if !r.foldSystem {
                    r.foldSystem = true
                    what = "role system inside messages (folded into the user turn)"
                }
            }
            guard let what else { return nil }
            all[model] = r
            count.wrappingAdd(1, ordering: .relaxed)
            return what
        }
    }
}

extension String {
    fileprivate func range(of needle: String, caseInsensitive: Bool) -> Bool {
        lowercased().contains(needle.lowercased())
    }

    fileprivate func replacingSlashes() -> String {
        String(map { $0 == "/" ? "." : $0 })
    }
}

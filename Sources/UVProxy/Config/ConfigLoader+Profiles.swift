import Providers

/// `profiles:` and a route's `profile:`: what a Bedrock upstream accepts (see `BedrockProfile`).
///
/// ```yaml
/// profiles:
///   strict-opus:              # a named profile, based on the built-in bedrock-claude unless `base` says
///     base: bedrock-claude
///     betas: [claude-code-20250219]   # replaces the list; `any` lets every value through
/// routes:
///   - path: /bedrock/claude/v1/messages
///     profile: strict-opus    # or a built-in name (bedrock-claude, none), or an inline mapping
/// ```
extension ConfigLoader {
    static let profileKeys = [
        "base", "betas", "top_level_fields", "message_keys", "tool_keys", "tool_types", "thinking_keys",
        "system_messages", "field_betas", "long_context_beta",
    ]

    static func parseProfiles(_ node: ConfigNode) throws(ConfigError) -> [String: BedrockProfile] {
        var profiles: [String: BedrockProfile] = [:]
        for (name, value) in try node.mapping().entries {
            guard BedrockProfile.builtIn[name] == nil else {
                throw value.error("'\(name)' is a built-in profile; give yours another name and `base: \(name)`")
            }
            profiles[name] = try parseProfile(value, name: name, known: profiles)
        }
        return profiles
    }

    /// A route's `profile:`: a name or an inline mapping.
    static func routeProfile(_ node: ConfigNode, known: [String: BedrockProfile]) throws(ConfigError) -> BedrockProfile {
        if case .scalar = node.node {
            let name = try node.string()
            guard let p = known[name] ?? BedrockProfile.builtIn[name] else {
                let names = (Array(BedrockProfile.builtIn.keys) + Array(known.keys)).sorted().joined(separator: ", ")
                throw node.error("no profile named '\(name)' (known: \(names))")
            }
            return p
        }
        return try parseProfile(node, name: "(inline)", known: known)
    }

    static func parseProfile(_ node: ConfigNode, name: String, known: [String: BedrockProfile]) throws(ConfigError) -> BedrockProfile {
        let m = try node.mapping(allowed: profileKeys)
        var p = BedrockProfile.claudeOnBedrock
        if let n = m["base"] {
            let base = try n.string()
            guard let b = known[base] ?? BedrockProfile.builtIn[base] else { throw n.error("no profile named '\(base)'") }
            p = b
        }
        p.name = name
        func list(_ key: String) throws(ConfigError) -> [String]?? {
            guard let n = m[key] else { return .none }
            if case .scalar = n.node, try n.string() == "any" { return .some(nil) }
            return .some(try n.stringList(allowSingle: false))
        }
        if let v = try list("betas") { p.betas = v }
        if let v = try list("top_level_fields") { p.topLevelFields = v }
        if let v = try list("message_keys") { p.messageKeys = v }
        if let v = try list("tool_keys") { p.toolKeys = v }
        if let v = try list("tool_types") { p.toolTypes = v }
        if let v = try list("thinking_keys") { p.thinkingKeys = v }
        if let n = m["system_messages"] {
            let s = try n.string()
            guard let v = BedrockProfile.SystemMessages(rawValue: s) else { throw n.error("expected fold or keep, got '\(s)'") }
            p.systemMessages = v
        }
        if let n = m["field_betas"] {
            var fb: [String: [String]] = [:]
            for (field, betas) in try n.mapping().entries { fb[field] = try betas.stringList() }
            p.fieldBetas = fb
        }
        if let n = m["long_context_beta"] {
            let s = try n.string()
            p.longContextBeta = s.isEmpty ? nil : s
        }
        return p
    }
}

import Providers
import UVProxy

/// How strictly the mock validates a Bedrock invoke body, as Bedrock does (DESIGN.md §7). On by
/// default, so that every end-to-end test of a Bedrock route meets an upstream that refuses what the
/// real one refuses; `mini-proxy mock --lenient` turns it off, `--rules FILE` (JSON) changes the data.
///
/// These lists are written down here on purpose instead of reusing the proxy's `BedrockProfile`: the
/// mock is the other side of the wire, and a mistake shared by both would hide itself.
package struct MockBedrockRules: Sendable {
    package var strict = true
    /// Accepted `anthropic_beta` values per model id (`*`: every model without its own entry).
    package var betas: [String: [String]] = [
        "*": [
            "claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
            "structured-outputs-2025-12-15", "effort-2025-11-24", "context-1m-2025-08-07",
            "token-efficient-tools-2025-02-19", "output-128k-2025-02-19",
        ]
    ]
    /// Accepted model ids; nil: Bedrock's id forms (see `isCatalogModel`).
    package var models: [String]?
    package var topLevelFields = [
        "anthropic_version", "anthropic_beta", "max_tokens", "messages", "system", "stop_sequences", "temperature",
        "top_p", "top_k", "tools", "tool_choice", "thinking", "metadata", "context_management", "output_config",
    ]
    /// A field that is "Extra inputs are not permitted" unless one of these betas is sent.
    package var fieldBetas: [String: [String]] = [
        "context_management": ["context-management-2025-06-27"],
        "output_config": ["effort-2025-11-24", "structured-outputs-2025-12-15"],
    ]
    package var messageKeys = ["role", "content"]
    package var toolKeys = ["type", "name", "description", "input_schema", "cache_control"]
    package var thinkingKeys = ["type", "budget_tokens"]

    package init() {}

    package static let lenient: MockBedrockRules = {
        var r = MockBedrockRules()
        r.strict = false
        return r
    }()

    /// Rules from a JSON file's bytes: any of `betas` (a list for every model, or an object by model id),
    /// `models`, `top_level_fields`, `message_keys`, `tool_keys`, `thinking_keys`, `field_betas`,
    /// `strict`; absent keys keep their defaults.
    package static func parse(_ bytes: [UInt8]) throws -> MockBedrockRules {
        guard case .object(let o) = try JSONParser.parse(bytes) else { throw JSONError(message: "expected an object", offset: 0) }
        var r = MockBedrockRules()
        func strings(_ v: JSON?) -> [String]? { v?.arrayValue?.compactMap(\.stringValue) }
        if let b = o["betas"] {
            if let list = strings(b) {
                r.betas = ["*": list]
            } else if case .object(let byModel) = b {
                r.betas = [:]
                for member in byModel.members { let (k, v) = (member.key, member.value); r.betas[k] = strings(v) ?? [] }
            }
        }
        if let v = o["models"] { r.models = strings(v) }
        if let v = strings(o["top_level_fields"]) { r.topLevelFields = v }
        if let v = strings(o["message_keys"]) { r.messageKeys = v }
        if let v = strings(o["tool_keys"]) { r.toolKeys = v }
        if let v = strings(o["thinking_keys"]) { r.thinkingKeys = v }
        if case .object(let fb)? = o["field_betas"] {
            r.fieldBetas = [:]
            for member in fb.members { let (k, v) = (member.key, member.value); r.fieldBetas[k] = strings(v) ?? [] }
        }
        if let v = o["strict"]?.boolValue { r.strict = v }
        return r
    }

    /// Rules from a JSON file.
    package static func load(path: String) throws -> MockBedrockRules {
        let bytes: [UInt8]
        do { bytes = try ConfigFile.read(path) } catch { throw JSONError(message: "cannot read \(path): \(error.message)", offset: 0) }
        return try parse(bytes)
    }

    /// The signature of every thinking block the mock sends; one sent back must match byte for byte.
    static let thinkingSignature = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"

    /// Bedrock's answer to a body it refuses: the message, or nil when it takes the body.
    /// `model` is the id from the invoke path (without the mock's `+options`).
    func problem(model: String, body: JSON?) -> String? {
        guard case .object(let o)? = body else { return "Malformed input request: the body is not a JSON object" }
        guard o["anthropic_version"]?.stringValue == "bedrock-2023-05-31" else {
            return "Malformed input request: #: required key [anthropic_version] not found or not bedrock-2023-05-31"
        }
        guard strict else { return nil }
        if let models {
            if !models.contains(model) { return "The provided model identifier is invalid." }
        } else if !Self.isCatalogModel(model) {
            return "The provided model identifier is invalid."
        }
        for key in o.keys where !topLevelFields.contains(key) {
            return "Malformed input request: #: extraneous key [\(key)] is not permitted, please reformat your input and try again."
        }
        let sent = o["anthropic_beta"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if o["anthropic_beta"] != nil, o["anthropic_beta"]?.arrayValue == nil {
            return "Malformed input request: #/anthropic_beta: expected type: JSONArray"
        }
        for (field, needs) in fieldBetas where o[field] != nil && !needs.contains(where: { sent.contains($0) }) {
            return "\(field): Extra inputs are not permitted"
        }
        let accepted = betas[Self.baseModel(model)] ?? betas[model] ?? betas["*"] ?? []
        for b in sent where !accepted.contains(b) { return "invalid beta flag" }
        if let messages = o["messages"]?.arrayValue {
            for (i, m) in messages.enumerated() {
                guard case .object(let message) = m else { return "Malformed input request: #/messages/\(i): expected type: JSONObject" }
                for key in message.keys where !messageKeys.contains(key) {
                    return "Malformed input request: #/messages/\(i): extraneous key [\(key)] is not permitted, please reformat your input and try again."
                }
                let role = message["role"]?.stringValue
                guard role == "user" || role == "assistant" else {
                    return "Malformed input request: #/messages/\(i)/role: expected user or assistant, please reformat your input and try again."
                }
                for (j, block) in (message["content"]?.arrayValue ?? []).enumerated()
                where block["type"]?.stringValue == "thinking" {
                    guard role == "assistant", block["signature"]?.stringValue == Self.thinkingSignature else {
                        return "messages.\(i).content.\(j): Invalid `signature` in `thinking` block"
                    }
                }
            }
        }
        if let tools = o["tools"]?.arrayValue {
            for (i, t) in tools.enumerated() {
                guard case .object(let tool) = t else { continue }
                let type = tool["type"]?.stringValue ?? "custom"
                guard type == "custom" else { continue }
                for key in tool.keys where !toolKeys.contains(key) {
                    return "tools.\(i).custom.\(key): Extra inputs are not permitted"
                }
            }
        }
        if case .object(let thinking)? = o["thinking"] {
            let type = thinking["type"]?.stringValue ?? "enabled"
            for key in thinking.keys where !thinkingKeys.contains(key) {
                return "thinking.\(type).\(key): Extra inputs are not permitted"
            }
        }
        return nil
    }

    /// Bedrock's id forms for Claude: `anthropic.claude-…-YYYYMMDD-vN:M` for dated models,
    /// `anthropic.claude-…-vN` (no `:M`) for dateless ones, either behind a `us.`/`eu.`/`apac.`/`global.`
    /// inference-profile prefix; ARNs pass; anything else (a bare name, a dateless `-v1:0`) is invalid.
    static func isCatalogModel(_ id: String) -> Bool {
        if id.hasPrefix("arn:") { return true }
        var rest = Substring(id)
        for region in ["us.", "eu.", "apac.", "global."] where rest.hasPrefix(region) {
            rest = rest.dropFirst(region.count)
            break
        }
        guard rest.hasPrefix("anthropic.claude-") else { return false }
        let bytes = Array(rest.utf8)
        let dated = bytes.withUnsafeBytes { BedrockModelID.hasDate($0) }
        // The version: `-v<digits>` then, for dated ids only, `:<digits>`.
        var i = bytes.count
        var minor = false
        while i > 0, bytes[i - 1] >= 0x30, bytes[i - 1] <= 0x39 { i -= 1 }
        if i < bytes.count, i > 0, bytes[i - 1] == UInt8(ascii: ":") {
            minor = true
            i -= 1
            while i > 0, bytes[i - 1] >= 0x30, bytes[i - 1] <= 0x39 { i -= 1 }
        }
        guard i >= 2, i < bytes.count, bytes[i - 1] == UInt8(ascii: "v"), bytes[i - 2] == UInt8(ascii: "-") else {
            return false
        }
        // Dated ids take `:M`; dateless ones do not (`-v1:0` is the classic mistake), except the old
        // `anthropic.claude-v2:1` family.
        if dated { return minor }
        return !minor || bytes[i] != UInt8(ascii: "1")
    }

    /// The id in an invoke path segment without the mock's `+options`, which the proxy's id rules may
    /// have placed before the version (`anthropic.claude-x-20250219+tools-v1:0`) or which follow it.
    static func catalogID(_ segment: String) -> String {
        guard let plus = segment.firstIndex(of: "+") else { return segment }
        let head = Array(segment.utf8[..<plus])
        let tail = Array(segment.utf8[plus...])
        var i = tail.count - 2
        while i > 0 {
            if tail[i] == UInt8(ascii: "-"), tail[i + 1] == UInt8(ascii: "v") { return String(decoding: head + tail[i...], as: UTF8.self) }
            i -= 1
        }
        return String(decoding: head, as: UTF8.self)
    }

    /// A model id without a region prefix (`us.anthropic.x` → `anthropic.x`), for per-model beta lists.
    static func baseModel(_ id: String) -> String {
        for region in ["us.", "eu.", "apac.", "global."] where id.hasPrefix(region) { return String(id.dropFirst(region.count)) }
        return id
    }
}

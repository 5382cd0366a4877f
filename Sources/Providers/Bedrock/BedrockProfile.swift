/// What a Claude-on-Bedrock upstream accepts in an Anthropic Messages body, so that a request can be cut
/// down to it before it leaves (`BedrockRequestShaper`).
///
/// Bedrock validates bodies strictly: an unknown top-level key is `#: extraneous key [X] is not
/// permitted`, a `role: system` message is `#/messages/N/role: expected user or assistant`, an unknown
/// tool key is `tools.N.custom.X: Extra inputs are not permitted`, and an unsupported beta is `invalid
/// beta flag`. Clients such as Claude Code add new fields and betas every few releases, so the proxy
/// keeps only what the profile lists, and what the upstream still rejects is learned at run time
/// (`BedrockHealing`).
///
/// A list that is nil lets everything through (no filtering on that axis).
public struct BedrockProfile: Sendable, Equatable {
    public enum SystemMessages: String, Sendable {
        /// `{"role":"system"}` messages inside `messages` are folded into the adjacent user turn.
        case fold
        /// They are sent as they are (an upstream that takes them).
        case keep
    }

    public var name: String
    /// `anthropic_beta` values sent on (header and body merged); others are removed.
    public var betas: [String]?
    /// Top-level body keys sent on.
    public var topLevelFields: [String]? { didSet { names = Names(self) } }
    /// Keys of a message object (`role`, `content`).
    public var messageKeys: [String]? { didSet { names = Names(self) } }
    /// Keys of a client (custom) tool definition.
    public var toolKeys: [String]? { didSet { names = Names(self) } }
    /// `type`s of tools sent on; a tool without a `type`, or with `custom`, is a client tool and always
    /// kept. A tool of another type is removed.
    public var toolTypes: [String]? { didSet { names = Names(self) } }
    /// Keys of the `thinking` object.
    public var thinkingKeys: [String]? { didSet { names = Names(self) } }
    public var systemMessages: SystemMessages
    /// A top-level field that the upstream takes only with one of these betas; without any of them in
    /// the final beta list, the field is removed.
    public var fieldBetas: [String: [String]] { didSet { names = Names(self) } }
    /// The lists above as bytes, kept in step with them (the translation's fast path compares keys
    /// with them without decoding).
    private(set) var names = Names.empty
    /// The beta that `[1m]` after a model name asks for (1M-token context), when `betas` allows it.
    public var longContextBeta: String?

    public init(
        name: String, betas: [String]? = nil, topLevelFields: [String]? = nil, messageKeys: [String]? = nil,
        toolKeys: [String]? = nil, toolTypes: [String]? = nil, thinkingKeys: [String]? = nil,
        systemMessages: SystemMessages = .keep, fieldBetas: [String: [String]] = [:], longContextBeta: String? = nil
    ) {
        self.name = name
        self.betas = betas
        self.topLevelFields = topLevelFields
        self.messageKeys = messageKeys
        self.toolKeys = toolKeys
        self.toolTypes = toolTypes
        self.thinkingKeys = thinkingKeys
        self.systemMessages = systemMessages
        self.fieldBetas = fieldBetas
        self.longContextBeta = longContextBeta
        self.names = Names(self)
    }

    /// The built-in profile for Anthropic's models on Bedrock (and AI-Gateway's Bedrock routes), from
    /// the public reports collected in DESIGN.md §7. Betas Bedrock is reported to accept; everything
    /// else a client sends is removed (a beta the upstream accepts but this list lacks is lost, which
    /// costs a feature; one it rejects would cost every request).
    public static let claudeOnBedrock = BedrockProfile(
        name: "bedrock-claude",
        betas: [
            "claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
            "structured-outputs-2025-12-15", "effort-2025-11-24", "context-1m-2025-08-07",
            "token-efficient-tools-2025-02-19", "output-128k-2025-02-19",
        ],
        topLevelFields: [
            "anthropic_version", "anthropic_beta", "max_tokens", "messages", "system", "stop_sequences",
            "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "metadata",
            "context_management", "output_config",
        ],
        messageKeys: ["role", "content"],
        toolKeys: ["type", "name", "description", "input_schema", "cache_control"],
        toolTypes: [
            "custom", "bash_20241022", "bash_20250124", "text_editor_20241022", "text_editor_20250124",
            "text_editor_20250429", "text_editor_20250728", "computer_20241022", "computer_20250124",
        ],
        thinkingKeys: ["type", "budget_tokens"],
        systemMessages: .fold,
        fieldBetas: [
            "context_management": ["context-management-2025-06-27"],
            "output_config": ["effort-2025-11-24", "structured-outputs-2025-12-15"],
        ],
        longContextBeta: "context-1m-2025-08-07"
    )

    /// A profile that changes nothing (`profile: none`).
    public static let none = BedrockProfile(name: "none")

    /// The built-in profiles by name.
    public static let builtIn: [String: BedrockProfile] = ["bedrock-claude": claudeOnBedrock, "none": none]

    /// True when the profile filters nothing (the shaper can be skipped unless something was learned).
    public var isPassThrough: Bool {
        betas == nil && topLevelFields == nil && messageKeys == nil && toolKeys == nil && toolTypes == nil
            && thinkingKeys == nil && systemMessages == .keep && fieldBetas.isEmpty
    }

    /// Lines describing the profile, for `mini-proxy check`.
    public var description: [String] {
        func list(_ l: [String]?) -> String { l.map { $0.joined(separator: ", ") } ?? "any" }
        var lines = [
            "profile \(name):",
            "  betas: \(list(betas))",
            "  top_level_fields: \(list(topLevelFields))",
            "  message_keys: \(list(messageKeys))",
            "  tool_keys: \(list(toolKeys))",
            "  tool_types: \(list(toolTypes))",
            "  thinking_keys: \(list(thinkingKeys))",
            "  system_messages: \(systemMessages.rawValue)",
        ]
        for (field, needs) in fieldBetas.sorted(by: { $0.key < $1.key }) {
            lines.append("  field_betas: \(field) needs one of \(needs.joined(separator: ", "))")
        }
        if let longContextBeta { lines.append("  long_context_beta: \(longContextBeta)") }
        return lines
    }
}

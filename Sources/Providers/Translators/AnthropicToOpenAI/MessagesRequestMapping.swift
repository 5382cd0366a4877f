/// An Anthropic Messages request → an OpenAI Chat Completions request.
///
/// Mapped: `model` (through the route's aliases: Claude Code sends Claude names; a `[1m]` suffix is
/// dropped), `system` and `messages` (`MessagesContentMapping`), `max_tokens` → `max_completion_tokens`,
/// `stream: true` → `stream: true` + `stream_options: {include_usage: true}`, `temperature` and `top_p`
/// (0 is a value), `stop_sequences` → `stop`, `metadata.user_id` → `user`, `tools` and `tool_choice`
/// (`MessagesToolMapping`), effort (below), and a JSON-schema output format (`output_config.format`, or
/// the older top-level `output_format`) → `response_format` `json_schema` (strict, named `response`).
///
/// Effort → `reasoning_effort`, from `output_config.effort` when given (`low`, `medium`, `high`; `max` →
/// `high`, which every reasoning model takes), else from `thinking`: `enabled` with `budget_tokens`
/// < 4096 → `low`, < 16384 → `medium`, else `high`; `adaptive` → `medium`; `disabled` → none (the
/// model's default: not every model takes `minimal` or `none`).
///
/// Dropped and named in `removedForUpstream` (never values): `top_k` (OpenAI has none), a `user_id`
/// longer than OpenAI's 64-character `user`, and every other top-level key: Anthropic-only controls
/// (`context_management`, `container`, `service_tier`, `inference_geo`, `anthropic_version`,
/// `anthropic_beta`, other `output_config` keys...) and keys added later. Refused: `mcp_servers` (tools
/// Anthropic would connect to; silently dropping them would hide tools the client expects).
///
/// The reference: `MessagesRequestFastPath` maps the common requests from their bytes in one scan and is
/// tested to write the same bytes; this tree mapping runs for what it declines and gives every error.
struct MessagesRequestMapping {
    /// The client's model name, echoed in responses.
    var model: String
    /// The model id sent upstream.
    var upstreamModel: String
    var stream: Bool
    var body: JSONObject
    var removed: RemovedNotes

    static let openAIUserMaxLength = 64

    init(_ bytes: [UInt8], options: TranslationOptions, adjustments: UpstreamAdjustments) throws(APIError) {
        let root: JSON
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw .invalidRequest("request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard let object = root.objectValue else {
            throw .invalidRequest("request body must be a JSON object, not \(MessagesField.kind(of: root))")
        }
        var notes = RemovedNotes()

        model = try MessagesField.string(root, "model", path: "")
        if model.isEmpty { throw .invalidRequest("model: must not be empty") }
        upstreamModel = Self.upstreamModel(model, aliases: options.modelAliases)

        guard let maxTokensValue = MessagesField.optional(root, "max_tokens") else {
            throw MessagesField.missing("max_tokens")
        }
        guard var maxTokens = maxTokensValue.intValue else {
            throw MessagesField.typeError("max_tokens", "an integer", maxTokensValue)
        }
        guard maxTokens >= 1 else { throw .invalidRequest("max_tokens: must be at least 1") }
        if let cap = adjustments.maxTokensCap, maxTokens > cap { maxTokens = cap }

        guard let messagesValue = MessagesField.optional(root, "messages") else {
            throw MessagesField.missing("messages")
        }
        guard let messages = messagesValue.arrayValue else {
            throw MessagesField.typeError("messages", "an array", messagesValue)
        }
        if messages.isEmpty { throw .invalidRequest("messages: at least one message is required") }
        let content = try MessagesContentMapping(system: root["system"], messages: messages, notes: &notes)

        stream = try MessagesField.bool(root, "stream", path: "") ?? false

        var body = JSONObject()
        body["model"] = .string(upstreamModel)
        body["messages"] = .array(content.messages)
        body["max_completion_tokens"] = .number(JSONNumber(maxTokens))
        if stream {
            body["stream"] = true
            body["stream_options"] = .object(JSONObject([("include_usage", true)]))
        }
        if let temperature = try MessagesField.number(root, "temperature", path: "") {
            body["temperature"] = .number(temperature)
        }
        if let topP = try MessagesField.number(root, "top_p", path: "") { body["top_p"] = .number(topP) }
        if let stops = try Self.stopSequences(root), !stops.isEmpty { body["stop"] = .array(stops) }
        if let user = try Self.user(root, notes: &notes) { body["user"] = .string(user) }

        if let toolsValue = MessagesField.optional(root, "tools") {
            let tools = try MessagesToolMapping.tools(toolsValue, notes: &notes)
            if !tools.isEmpty { body["tools"] = .array(tools) }
        }
        if let choiceValue = MessagesField.optional(root, "tool_choice") {
            let (choice, parallel) = try MessagesToolMapping.toolChoice(choiceValue)
            if body["tools"] != nil {
                body["tool_choice"] = choice
                if let parallel { body["parallel_tool_calls"] = .bool(parallel) }
            } else {
                notes.add("field tool_choice (no tools)")
            }
        }

        let outputConfig = try Self.outputConfig(root, notes: &notes)
        if let effort = try Self.reasoningEffort(
            thinking: MessagesField.optional(root, "thinking"), effort: outputConfig.effort)
        {
            body["reasoning_effort"] = .string(effort)
        }
        var format = outputConfig.format
        if format == nil {
            format = try Self.outputFormat(MessagesField.optional(root, "output_format"), path: "output_format")
        }
        if let format { body["response_format"] = format }
        if let servers = MessagesField.optional(root, "mcp_servers"), servers.arrayValue?.isEmpty != true {
            throw .invalidRequest(
                "mcp_servers: MCP servers that Anthropic connects to cannot be used with an OpenAI model")
        }

        for member in object.members {
            switch member.key {
            case "model", "messages", "max_tokens", "system", "stream", "temperature", "top_p", "stop_sequences",
                "metadata", "tools", "tool_choice", "thinking", "output_config", "output_format", "mcp_servers":
                break
            default: notes.add("field \(member.key)")
            }
        }

        for name in adjustments.dropped where body[name] != nil {
            body[name] = nil
            notes.add("field \(name) (refused by the upstream)")
        }
        if adjustments.maxTokensCap != nil { notes.add("max_tokens above the upstream's limit") }
        self.body = body
        self.removed = notes
    }

    /// The route's alias for `model`; else `model` without a trailing `[1m]` (Claude Code's 1M-context
    /// marker, meaningless to OpenAI), whose alias is tried too.
    static func upstreamModel(_ model: String, aliases: [String: String]) -> String {
        if let alias = aliases[model] { return alias }
        if model.count > 4, model.lowercased().hasSuffix("[1m]") {
            let base = String(model.dropLast(4))
            return aliases[base] ?? base
        }
        return model
    }

    private static func stopSequences(_ root: JSON) throws(APIError) -> [JSON]? {
        guard let value = MessagesField.optional(root, "stop_sequences") else { return nil }
        guard let list = value.arrayValue else { throw MessagesField.typeError("stop_sequences", "an array", value) }
        for (i, item) in list.enumerated() where item.stringValue == nil {
            throw MessagesField.typeError("stop_sequences.\(i)", "a string", item)
        }
        return list
    }

    private static func user(_ root: JSON, notes: inout RemovedNotes) throws(APIError) -> String? {
        guard let metadata = MessagesField.optional(root, "metadata") else { return nil }
        guard let object = metadata.objectValue else {
            throw MessagesField.typeError("metadata", "an object", metadata)
        }
        for member in object.members where member.key != "user_id" { notes.add("field metadata.\(member.key)") }
        guard let id = try MessagesField.optionalString(metadata, "user_id", path: "metadata"), !id.isEmpty else {
            return nil
        }
        if id.count > openAIUserMaxLength {
            notes.add("field metadata.user_id (longer than OpenAI's 64-character user)")
            return nil
        }
        return id
    }

    /// `output_config`: its `effort` and `format`; other keys are noted and dropped.
    private static func outputConfig(
        _ root: JSON, notes: inout RemovedNotes
    ) throws(APIError) -> (effort: String?, format: JSON?) {
        guard let config = MessagesField.optional(root, "output_config") else { return (nil, nil) }
        guard let object = config.objectValue else {
            throw MessagesField.typeError("output_config", "an object", config)
        }
        for member in object.members where member.key != "effort" && member.key != "format" {
            notes.add("field output_config.\(member.key)")
        }
        var effort: String?
        if let value = try MessagesField.optionalString(config, "effort", path: "output_config") {
            switch value {
            case "low", "medium", "high": effort = value
            case "max": effort = "high"
            default: notes.add("field output_config.effort (unknown value)")
            }
        }
        let format = try outputFormat(MessagesField.optional(config, "format"), path: "output_config.format")
        return (effort, format)
    }

    /// `{"type":"json_schema","schema":{...}}` → `{"type":"json_schema","json_schema":{"name":"response",
    /// "schema":{...},"strict":true}}` (Anthropic's structured output is always constrained).
    private static func outputFormat(_ value: JSON?, path: String) throws(APIError) -> JSON? {
        guard let value else { return nil }
        let type = try MessagesField.type(value, path: path)
        guard type == "json_schema" else {
            throw .invalidRequest("\(path).type: expected 'json_schema', got '\(type)'")
        }
        guard let schema = MessagesField.optional(value, "schema") else {
            throw MessagesField.missing("\(path).schema")
        }
        guard schema.objectValue != nil else { throw MessagesField.typeError("\(path).schema", "an object", schema) }
        let jsonSchema = JSONObject([("name", "response"), ("schema", schema), ("strict", true)])
        return .object(JSONObject([("type", "json_schema"), ("json_schema", .object(jsonSchema))]))
    }

    /// The effort table (see the type's comment). `effort` is `output_config.effort`, already mapped.
    static func reasoningEffort(thinking: JSON?, effort: String?) throws(APIError) -> String? {
        var fromThinking: String?
        if let thinking {
            let type = try MessagesField.type(thinking, path: "thinking")
            switch type {
            case "enabled":
                guard let budgetValue = MessagesField.optional(thinking, "budget_tokens") else {
                    throw MessagesField.missing("thinking.budget_tokens")
                }
                guard let budget = budgetValue.intValue else {
                    throw MessagesField.typeError("thinking.budget_tokens", "an integer", budgetValue)
                }
                fromThinking = budget < 4096 ? "low" : budget < 16384 ? "medium" : "high"
            case "adaptive": fromThinking = "medium"
            case "disabled": fromThinking = nil
            default:
                throw .invalidRequest("thinking.type: expected 'enabled', 'adaptive' or 'disabled', got '\(type)'")
            }
        }
        return effort ?? fromThinking
    }
}

/// What an upstream 400 taught this request (`OpenAIRejection`), applied when the request is mapped again.
struct UpstreamAdjustments: Equatable {
    /// Optional top-level fields to leave out (`reasoning_effort`, `temperature`, `top_p`, `user`).
    var dropped: [String] = []
    /// The upstream's own maximum for `max_completion_tokens`.
    var maxTokensCap: Int?
}

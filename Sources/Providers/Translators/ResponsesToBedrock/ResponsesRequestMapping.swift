/// A Responses API request (`POST /v1/responses`) → an Anthropic-on-Bedrock `invoke` request.
///
/// Field rules (input, tools and reasoning have their own files):
/// - `model` → the path (`BedrockModelID`), echoed back; `stream` → the action.
/// - `instructions` → the first `system` block.
/// - `max_output_tokens` → `max_tokens` (absent: `options.defaultMaxTokens`); `temperature` (Anthropic's
///   range is 0...1: above is a 400) and `top_p` pass.
/// - `reasoning.effort` → `thinking` by `ReasoningBudget` (absent or `none`: no thinking).
/// - Refused with a 400, because this proxy keeps no state: `store: true`, `previous_response_id`,
///   `conversation`, `background: true`, `prompt` (stored templates), and `top_logprobs` above 0
///   (Anthropic gives no log probabilities).
/// - Read for the answer only: `include` (`reasoning.encrypted_content` turns on `encrypted_content`),
///   `metadata` (echoed). Ignored because they change nothing upstream: `user` and `safety_identifier`
///   (Bedrock has no such field), `prompt_cache_key` and `prompt_cache_retention` (Anthropic caches by
///   `cache_control`), `service_tier`, `truncation` (nothing is truncated; a too-long input is the
///   upstream's 400), `max_tool_calls` (there are no hosted tools), `text.verbosity`, `stream_options`,
///   and unknown fields.
struct ResponsesRequestMapping {
    var stream: Bool
    var path: String
    var body: [UInt8]
    var removed: [String]
    var context: ResponseContext

    init(_ bytes: [UInt8], options: TranslationOptions, createdAt: Int) throws(APIError) {
        let root: JSON
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw .invalidRequest("The request body is not valid JSON: \(error.message) at offset \(error.offset).")
        }
        guard root.objectValue != nil else {
            throw .invalidRequest("The request body must be a JSON object, not \(RequestField.kind(of: root)).")
        }
        let model = try RequestField.string(root, "model", path: "")
        if model.isEmpty { throw .invalidRequest("Invalid value for 'model': must not be empty.") }
        try Self.refuseStateful(root)
        stream = try Self.bool(root, "stream") ?? false

        let instructionsValue = RequestField.optional(root, "instructions")
        if let value = instructionsValue, value.stringValue == nil {
            throw RequestField.typeError("instructions", "a string", value)
        }
        guard let input = RequestField.optional(root, "input") else { throw RequestField.missing("input") }
        let mapped = try ResponsesInputMapping(instructions: instructionsValue?.stringValue, input: input)
        if mapped.turns.isEmpty {
            throw .invalidRequest(
                "Invalid value for 'input': at least one non-empty user or assistant item is required.")
        }

        var declared: [(JSON, String)] = []
        if let toolsValue = RequestField.optional(root, "tools") {
            guard let list = toolsValue.arrayValue else {
                throw RequestField.typeError("tools", "an array", toolsValue)
            }
            declared = list.enumerated().map { ($0.element, "tools[\($0.offset)]") }
        }
        declared += mapped.extraTools
        let text = RequestField.optional(root, "text")
        if let text, text.objectValue == nil { throw RequestField.typeError("text", "an object", text) }
        let tools = try ResponsesToolMapping(
            tools: declared, toolChoice: RequestField.optional(root, "tool_choice"),
            parallelToolCalls: try Self.bool(root, "parallel_tool_calls"),
            textFormat: text.flatMap { RequestField.optional($0, "format") })
        var removed = tools.removed
        for phrase in mapped.removed where !removed.contains(phrase) { removed.append(phrase) }

        // Sampling and thinking.
        var maxTokens = try Self.maxOutputTokens(root) ?? options.defaultMaxTokens
        var temperature = try Self.number(root, "temperature")
        if let value = temperature?.doubleValue, value < 0 || value > 1 {
            throw .invalidRequest("Invalid value for 'temperature': Anthropic models accept 0 to 1.")
        }
        var topP = try Self.number(root, "top_p")
        let reasoning = RequestField.optional(root, "reasoning")
        if let reasoning, reasoning.objectValue == nil {
            throw RequestField.typeError("reasoning", "an object", reasoning)
        }
        let effort = try reasoning.flatMap { value throws(APIError) in
            try Self.string(value, "effort", path: "reasoning")
        }
        var thinking: JSON?
        if let budget = try ReasoningBudget.tokens(forEffort: effort) {
            if tools.forcesTool {
                removed.append("thinking (tool_choice forces a tool)")
            } else if Self.pendingToolCallLacksThinking(mapped.turns) {
                removed.append("thinking (no reasoning item before the pending tool call)")
            } else {
                thinking = ["type": "enabled", "budget_tokens": .number(JSONNumber(budget))]
                if maxTokens <= budget { maxTokens += budget }
                // Anthropic refuses other sampling settings with thinking on.
                if let value = temperature?.doubleValue, value != 1 {
                    temperature = nil
                    removed.append("temperature (thinking)")
                }
                if let value = topP?.doubleValue, value < 0.95 {
                    topP = nil
                    removed.append("top_p (thinking)")
                }
            }
        }
        self.removed = removed

        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 256)
        Self.append(#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":"#, to: &out)
        Self.append(String(maxTokens), to: &out)
        if mapped.system.count == 1, mapped.system[0]["cache_control"] == nil, let text = mapped.system[0]["text"] {
            Self.append(#","system":"#, to: &out)
            text.write(to: &out)
        } else if !mapped.system.isEmpty {
            Self.append(#","system":"#, to: &out)
            JSON.array(mapped.system).write(to: &out)
        }
        Self.append(#","messages":["#, to: &out)
        for (i, turn) in mapped.turns.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            Self.append(#"{"role":"#, to: &out)
            JSON.writeString(turn.role, to: &out)
            Self.append(#","content":["#, to: &out)
            for (j, block) in turn.blocks.enumerated() {
                if j > 0 { out.append(UInt8(ascii: ",")) }
                block.write(to: &out)
            }
            Self.append("]}", to: &out)
        }
        out.append(UInt8(ascii: "]"))
        if !tools.tools.isEmpty {
            Self.append(#","tools":"#, to: &out)
            JSON.array(tools.tools).write(to: &out)
            if let choice = tools.choice {
                Self.append(#","tool_choice":"#, to: &out)
                choice.write(to: &out)
            }
        }
        if let thinking {
            Self.append(#","thinking":"#, to: &out)
            thinking.write(to: &out)
        }
        if let temperature {
            Self.append(#","temperature":"#, to: &out)
            Self.append(temperature.text, to: &out)
        }
        if let topP {
            Self.append(#","top_p":"#, to: &out)
            Self.append(topP.text, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        body = out

        // The id is percent-encoded into one path segment by `BedrockModelID`; a segment of only dots
        // would still climb the path (`/model/../invoke`), and is never a model id.
        let modelID = BedrockModelID.id(for: model, aliases: options.modelAliases)
        if modelID.utf8.allSatisfy({ $0 == UInt8(ascii: ".") }) {
            throw .invalidRequest("Invalid value for 'model': '\(model)' is not a model id.")
        }
        path = BedrockModelID.path(
            template: options.upstreamPath, model: model, aliases: options.modelAliases, stream: stream)

        context = ResponseContext(
            model: model, createdAt: createdAt, includeEncryptedReasoning: try Self.includesEncryptedReasoning(root),
            toolNames: tools.names, outputTool: tools.outputTool,
            echo: try Self.echo(root, model: model, effort: effort, reasoning: reasoning, text: text))
    }

    // MARK: Fields

    private static func refuseStateful(_ root: JSON) throws(APIError) {
        let stateless = "this proxy is stateless and keeps no responses; send the whole conversation in 'input'"
        if try bool(root, "store") == true {
            throw .invalidRequest(
                "Invalid value for 'store': true is not supported: \(stateless) with 'store': false.",
                code: "unsupported_parameter")
        }
        for key in ["previous_response_id", "conversation", "prompt"] where RequestField.optional(root, key) != nil {
            throw .invalidRequest("Unsupported parameter: '\(key)': \(stateless).", code: "unsupported_parameter")
        }
        if try bool(root, "background") == true {
            throw .invalidRequest(
                "Invalid value for 'background': background responses need stored state; \(stateless).",
                code: "unsupported_parameter")
        }
        if let value = RequestField.optional(root, "top_logprobs") {
            guard let count = value.intValue else { throw RequestField.typeError("top_logprobs", "an integer", value) }
            if count > 0 {
                throw .invalidRequest(
                    "Invalid value for 'top_logprobs': Anthropic models do not return log probabilities.",
                    code: "unsupported_parameter")
            }
        }
    }

    private static func maxOutputTokens(_ root: JSON) throws(APIError) -> Int? {
        guard let value = RequestField.optional(root, "max_output_tokens") else { return nil }
        guard let count = value.intValue else { throw RequestField.typeError("max_output_tokens", "an integer", value) }
        guard count >= 1 else { throw .invalidRequest("Invalid value for 'max_output_tokens': must be at least 1.") }
        return count
    }

    private static func includesEncryptedReasoning(_ root: JSON) throws(APIError) -> Bool {
        guard let value = RequestField.optional(root, "include") else { return false }
        guard let list = value.arrayValue else { throw RequestField.typeError("include", "an array", value) }
        var found = false
        for (i, item) in list.enumerated() {
            guard let word = item.stringValue else { throw RequestField.typeError("include[\(i)]", "a string", item) }
            if word == "reasoning.encrypted_content" { found = true }
        }
        return found
    }

    /// A thinking request whose last assistant turn called a tool without a thinking block first: Anthropic
    /// refuses it ("a final assistant message must start with a thinking block"), and a signature cannot
    /// be made up, so thinking is left off for this request.
    private static func pendingToolCallLacksThinking(_ turns: [(role: String, blocks: [UpstreamBlock])]) -> Bool {
        guard let last = turns.last(where: { $0.role == "assistant" }) else { return false }
        guard last.blocks.contains(where: { $0.type == "tool_use" }) else { return false }
        return !(last.blocks.first?.isThinking ?? false)
    }

    /// The request fields a `Response` object repeats, written once: `"instructions":...,...,"metadata":...`.
    private static func echo(_ root: JSON, model: String, effort: String?, reasoning: JSON?, text: JSON?)
        throws(APIError)
        -> [UInt8]
    {
        var out: [UInt8] = []
        func member(_ key: StaticString, _ value: JSON?, default fallback: JSON = .null) {
            if !out.isEmpty { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            Self.append("\":", to: &out)
            (value ?? fallback).write(to: &out)
        }
        member("instructions", RequestField.optional(root, "instructions"))
        member("max_output_tokens", RequestField.optional(root, "max_output_tokens"))
        member("model", .string(model))
        member("parallel_tool_calls", RequestField.optional(root, "parallel_tool_calls"), default: true)
        member("previous_response_id", nil)
        let summary = try reasoning.flatMap { value throws(APIError) in
            try Self.string(value, "summary", path: "reasoning")
        }
        member(
            "reasoning",
            ["effort": effort.map { .string($0) } ?? .null, "summary": summary.map { .string($0) } ?? .null])
        member("store", false)
        member("temperature", RequestField.optional(root, "temperature"))
        member("text", text, default: ["format": ["type": "text"]])
        member("tool_choice", RequestField.optional(root, "tool_choice"), default: "auto")
        member("tools", RequestField.optional(root, "tools"), default: [])
        member("top_p", RequestField.optional(root, "top_p"))
        member("truncation", RequestField.optional(root, "truncation"), default: "disabled")
        member("metadata", RequestField.optional(root, "metadata"), default: .object(JSONObject()))
        return out
    }

    private static func bool(_ object: JSON, _ key: String) throws(APIError) -> Bool? {
        guard let value = RequestField.optional(object, key) else { return nil }
        guard let flag = value.boolValue else { throw RequestField.typeError(key, "a boolean", value) }
        return flag
    }

    private static func number(_ object: JSON, _ key: String) throws(APIError) -> JSONNumber? {
        guard let value = RequestField.optional(object, key) else { return nil }
        guard case .number(let number) = value else { throw RequestField.typeError(key, "a number", value) }
        return number
    }

    private static func string(_ object: JSON, _ key: String, path: String) throws(APIError) -> String? {
        guard let value = RequestField.optional(object, key) else { return nil }
        guard let string = value.stringValue else { throw RequestField.typeError("\(path).\(key)", "a string", value) }
        return string
    }

    @inline(__always) private static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }
}

/// `reasoning.effort` → Claude's thinking budget (`budget_tokens`; Anthropic's minimum is 1024).
///
/// | effort  | budget_tokens |
/// |---------|---------------|
/// | none    | no thinking   |
/// | minimal | 1024          |
/// | low     | 4096          |
/// | medium  | 8192          |
/// | high    | 16384         |
/// | xhigh   | 32768         |
///
/// Anthropic counts thinking inside `max_tokens`, as OpenAI counts reasoning inside `max_output_tokens`;
/// when `max_tokens` is not above the budget, the budget is added to it, so the visible answer keeps the
/// room the client asked for.
enum ReasoningBudget {
    static func tokens(forEffort effort: String?) throws(APIError) -> Int? {
        switch effort {
        case nil, "none": return nil
        case "minimal": return 1024
        case "low": return 4096
        case "medium": return 8192
        case "high": return 16384
        case "xhigh": return 32768
        case let other?:
            throw .invalidRequest(
                "Invalid value for 'reasoning.effort': '\(other)'. Supported values are: 'none', 'minimal', 'low', "
                    + "'medium', 'high' and 'xhigh'.")
        }
    }
}

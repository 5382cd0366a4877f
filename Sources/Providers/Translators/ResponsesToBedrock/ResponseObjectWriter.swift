/// What the answer needs from the request: names to echo and map back, and the fields a `Response` repeats.
struct ResponseContext {
    /// The client's model name, echoed.
    var model: String
    var createdAt: Int
    /// `include` asked for `reasoning.encrypted_content`.
    var includeEncryptedReasoning: Bool
    /// Upstream tool name → the client's name for it (`ResponsesToolMapping`).
    var toolNames: [String: ClientToolName]
    /// The tool that carries a `text.format` answer; its calls become assistant messages.
    var outputTool: String?
    /// `"instructions":...,"max_output_tokens":...,...,"metadata":...` (see `ResponsesRequestMapping.echo`).
    var echo: [UInt8]

    static let empty = ResponseContext(
        model: "", createdAt: 0, includeEncryptedReasoning: false, toolNames: [:], outputTool: nil, echo: [])
}

/// How an upstream content block appears to the client.
enum OutputItemKind: Equatable {
    /// Text: an assistant `message` with one `output_text` part.
    case message
    /// A `text.format` answer through the output tool: a `message` whose text is the tool's input JSON.
    case structuredOutput
    case functionCall(ClientToolName)
    case customToolCall(ClientToolName)
    /// `thinking` or `redacted_thinking`: a `reasoning` item.
    case reasoning
}

/// Ids for one response: `resp_<base>`, and per output item `<prefix>_<base>_<output index>`, where the base
/// is the upstream message id without its `msg_` (`msg_bdrk_01` → `resp_bdrk_01`, `msg_bdrk_01_0`).
struct ResponseIDs {
    let base: String

    init(upstreamMessageID: String?) {
        let id = upstreamMessageID ?? ""
        base = id.isEmpty ? "bedrock" : (id.hasPrefix("msg_") ? String(id.dropFirst(4)) : id)
    }

    var response: String { "resp_" + base }

    func item(_ kind: OutputItemKind, index: Int) -> String {
        let prefix: String
        switch kind {
        case .message, .structuredOutput: prefix = "msg_"
        case .functionCall: prefix = "fc_"
        case .customToolCall: prefix = "ctc_"
        case .reasoning: prefix = "rs_"
        }
        return prefix + base + "_" + String(index)
    }
}

/// Writes Responses JSON straight as bytes. Text arrives already escaped as JSON string content (without
/// quotes): upstream deltas are copied in that form (`FieldPicker.appendStringContent`), so a stream never
/// decodes and re-encodes its text.
enum ResponseObjectWriter {
    /// A failure in a `Response`'s `error`: `code` uses the words Codex and the SDKs act on.
    struct Failure {
        var code: String
        var message: String

        init(_ error: APIError) {
            message = error.message
            let lower = error.message.lowercased()
            if lower.contains("prompt is too long") || lower.contains("input is too long")
                || lower.contains("context window") || lower.contains("context length")
            {
                code = "context_length_exceeded"
            } else {
                switch (error.status, error.type) {
                case (429, _), (_, "rate_limit_error"): code = "rate_limit_exceeded"
                case (503, _), (529, _), (_, "overloaded_error"): code = "server_is_overloaded"
                case (401, _), (_, "authentication_error"): code = "unauthorized"
                case (400, _), (_, "invalid_request_error"): code = "invalid_prompt"
                default: code = "server_error"
                }
            }
        }
    }

    /// The `Response` object. `output` is the items, comma-separated, without brackets.
    static func response(
        id: String, status: StaticString, output: [UInt8], usage: AnthropicUsage?, failure: Failure? = nil,
        incompleteReason: StaticString? = nil, context: ResponseContext, into out: inout [UInt8]
    ) {
        append(#"{"id":"#, to: &out)
        JSON.writeString(id, to: &out)
        append(#","object":"response","created_at":"#, to: &out)
        ChunkBytes.append(context.createdAt, to: &out)
        append(#","status":""#, to: &out)
        append(status, to: &out)
        append(#"","background":false,"error":"#, to: &out)
        if let failure {
            append(#"{"code":"#, to: &out)
            JSON.writeString(failure.code, to: &out)
            append(#","message":"#, to: &out)
            JSON.writeString(failure.message, to: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            append("null", to: &out)
        }
        append(#","incomplete_details":"#, to: &out)
        if let incompleteReason {
            append(#"{"reason":""#, to: &out)
            append(incompleteReason, to: &out)
            append(#""}"#, to: &out)
        } else {
            append("null", to: &out)
        }
        append(#","output":["#, to: &out)
        out.append(contentsOf: output)
        append(#"],"usage":"#, to: &out)
        if let usage { writeUsage(usage, into: &out) } else { append("null", to: &out) }
        if !context.echo.isEmpty {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: context.echo)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Responses `usage`: cached and cache-written tokens count inside `input_tokens`, as OpenAI counts
    /// them; Anthropic reports no separate reasoning count, so `reasoning_tokens` is 0.
    static func writeUsage(_ usage: AnthropicUsage, into out: inout [UInt8]) {
        append(#"{"input_tokens":"#, to: &out)
        ChunkBytes.append(usage.promptTokens, to: &out)
        append(#","input_tokens_details":{"cached_tokens":"#, to: &out)
        ChunkBytes.append(usage.cacheRead, to: &out)
        append(#","cache_write_tokens":"#, to: &out)
        ChunkBytes.append(usage.cacheCreation, to: &out)
        append(#"},"output_tokens":"#, to: &out)
        ChunkBytes.append(usage.output, to: &out)
        append(#","output_tokens_details":{"reasoning_tokens":0},"total_tokens":"#, to: &out)
        ChunkBytes.append(usage.promptTokens &+ usage.output, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    // MARK: Output items

    /// `{"id","type":"message","status","role":"assistant","content":[{"type":"output_text","annotations":[],"text"}]}`;
    /// `text` nil writes `content: []` (the item as first added).
    static func message(id: String, status: StaticString, text: [UInt8]?, into out: inout [UInt8]) {
        append(#"{"id":"#, to: &out)
        JSON.writeString(id, to: &out)
        append(#","type":"message","status":""#, to: &out)
        append(status, to: &out)
        append(#"","role":"assistant","content":["#, to: &out)
        if let text { outputText(text, into: &out) }
        append("]}", to: &out)
    }

    /// `{"type":"output_text","annotations":[],"logprobs":[],"text":...}`
    static func outputText(_ text: [UInt8], into out: inout [UInt8]) {
        append(#"{"type":"output_text","annotations":[],"logprobs":[],"text":""#, to: &out)
        out.append(contentsOf: text)
        append(#""}"#, to: &out)
    }

    /// A `function_call` or `custom_tool_call` item; `payload` is the escaped `arguments` or `input`.
    static func toolCall(
        id: String, kind: OutputItemKind, callID: String, status: StaticString, payload: [UInt8],
        into out: inout [UInt8]
    ) {
        let name: ClientToolName
        let custom: Bool
        switch kind {
        case .customToolCall(let n):
            name = n
            custom = true
        case .functionCall(let n):
            name = n
            custom = false
        default:
            return
        }
        append(#"{"id":"#, to: &out)
        JSON.writeString(id, to: &out)
        append(custom ? #","type":"custom_tool_call","status":""# : #","type":"function_call","status":""#, to: &out)
        append(status, to: &out)
        append(#"","call_id":"#, to: &out)
        JSON.writeString(callID, to: &out)
        append(#","name":"#, to: &out)
        JSON.writeString(name.name, to: &out)
        if let namespace = name.namespace {
            append(#","namespace":"#, to: &out)
            JSON.writeString(namespace, to: &out)
        }
        append(custom ? #","input":""# : #","arguments":""#, to: &out)
        out.append(contentsOf: payload)
        append(#""}"#, to: &out)
    }

    /// `{"id","type":"reasoning","status","summary":[...],"encrypted_content"?}`; `summary` nil writes `[]`.
    static func reasoning(
        id: String, status: StaticString, summary: [UInt8]?, encrypted: [UInt8]?, into out: inout [UInt8]
    ) {
        append(#"{"id":"#, to: &out)
        JSON.writeString(id, to: &out)
        append(#","type":"reasoning","status":""#, to: &out)
        append(status, to: &out)
        append(#"","summary":["#, to: &out)
        if let summary { summaryText(summary, into: &out) }
        out.append(UInt8(ascii: "]"))
        if let encrypted {
            append(#","encrypted_content":""#, to: &out)
            out.append(contentsOf: encrypted)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `{"type":"summary_text","text":...}`
    static func summaryText(_ text: [UInt8], into out: inout [UInt8]) {
        append(#"{"type":"summary_text","text":""#, to: &out)
        out.append(contentsOf: text)
        append(#""}"#, to: &out)
    }

    // MARK: Bytes

    @inline(__always) static func append(_ literal: StaticString, to out: inout [UInt8]) {
        ChunkBytes.append(literal, to: &out)
    }

    /// `text` escaped as JSON string content, without the quotes.
    static func escaped(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        JSON.writeString(text, to: &out)
        out.removeFirst()
        out.removeLast()
        return out
    }
}

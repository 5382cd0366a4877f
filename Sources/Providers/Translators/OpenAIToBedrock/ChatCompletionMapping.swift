/// A complete Anthropic response (a `message`, or an error body) → the OpenAI client's response.
enum ChatCompletionMapping {
    /// A 2xx Anthropic `message` → `chat.completion`.
    ///
    /// `content` is every text block joined (thinking is not content); `null` when there is no text but
    /// there are tool calls, as OpenAI sends it. `finish_reason` follows the stop-reason table, except that
    /// any tool call makes it `tool_calls` (the same rule as the stream).
    static func completion(_ body: [UInt8], model: String, created: Int) -> ClientResponse {
        guard let message = try? JSONParser.parse(body), message.objectValue != nil,
            let blocks = message["content"]?.arrayValue
        else {
            return errorResponse(.upstreamProtocol("upstream returned a response that is not an Anthropic message"))
        }
        var text: [UInt8] = []
        var hasText = false
        var toolCalls: [JSON] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text":
                if let piece = block["text"]?.stringValue {
                    text.append(contentsOf: piece.utf8)
                    hasText = true
                }
            case "tool_use":
                let arguments = block["input"]?.bytes ?? Array("{}".utf8)
                let function = JSONObject([
                    ("name", .string(block["name"]?.stringValue ?? "")),
                    ("arguments", .string(String(decoding: arguments, as: UTF8.self))),
                ])
                toolCalls.append(
                    .object(
                        JSONObject([
                            ("id", .string(block["id"]?.stringValue ?? "")), ("type", "function"),
                            ("function", .object(function)),
                        ])))
            default:
                break
            }
        }
        var reply = JSONObject([("role", "assistant")])
        reply["content"] = hasText || toolCalls.isEmpty ? .string(String(decoding: text, as: UTF8.self)) : .null
        if !toolCalls.isEmpty { reply["tool_calls"] = .array(toolCalls) }

        let finishReason: String
        if !toolCalls.isEmpty {
            finishReason = "tool_calls"
        } else {
            finishReason = FinishReason.openAI(forStopReason: message["stop_reason"]?.stringValue ?? "end_turn")
        }
        var usage = AnthropicUsage()
        usage.update(from: message["usage"])

        let completion = JSONObject([
            ("id", .string("chatcmpl-" + (message["id"]?.stringValue ?? "bedrock"))),
            ("object", "chat.completion"),
            ("created", .number(JSONNumber(created))),
            ("model", .string(model)),
            (
                "choices",
                [.object(JSONObject([("index", 0), ("message", .object(reply)), ("finish_reason", .string(finishReason))]))]
            ),
            ("usage", usage.openAI),
        ])
        return ClientResponse(status: 200, contentType: "application/json", body: JSON.object(completion).bytes)
    }

    /// A non-2xx upstream response → an OpenAI error with the upstream's status and message, and its
    /// `Retry-After`. Bedrock's `{"message":...}`, Anthropic's `{"type":"error","error":{...}}` and
    /// non-JSON bodies are all read by `UpstreamErrorBody`.
    static func upstreamError(status: Int, body: [UInt8], retryAfter: String?) -> ClientResponse {
        UpstreamErrorBody.openAIError(status: status, body: body, retryAfter: retryAfter).response(for: .openAIChat)
    }

    static func errorResponse(_ error: APIError) -> ClientResponse {
        error.response(for: .openAIChat)
    }
}

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

    /// A non-2xx upstream response → an OpenAI error with the upstream's status and message.
    ///
    /// Bedrock errors are `{"message":"..."}` (AWS sometimes capitalises it `Message`); Anthropic's are
    /// `{"type":"error","error":{"type":...,"message":...}}`. A body that is neither (an HTML page from a
    /// gateway, say) gives a generic message naming the status. `Retry-After` is kept.
    static func upstreamError(status: Int, body: [UInt8], retryAfter: String?) -> ClientResponse {
        var message: String?
        var type: String?
        if let parsed = try? JSONParser.parse(body) {
            if let error = parsed["error"], error.objectValue != nil {
                message = error["message"]?.stringValue
                type = error["type"]?.stringValue
            } else {
                message = parsed["message"]?.stringValue ?? parsed["Message"]?.stringValue
            }
        }
        let error = APIError(
            status: status, type: type ?? errorType(forStatus: status),
            message: message ?? "upstream returned HTTP \(status)", retryAfter: retryAfter)
        return errorResponse(error)
    }

    /// OpenAI's error `type` for an HTTP status.
    static func errorType(forStatus status: Int) -> String {
        switch status {
        case 400, 404, 409, 413, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 429: "rate_limit_error"
        case 503, 529: "overloaded_error"
        default: "api_error"
        }
    }

    /// `{"error":{"message","type","param","code"}}` with the error's status and `Retry-After`.
    static func errorResponse(_ error: APIError) -> ClientResponse {
        let body = JSONObject([
            (
                "error",
                .object(
                    JSONObject([
                        ("message", .string(error.message)), ("type", .string(error.type)), ("param", .null),
                        ("code", error.code.map { .string($0) } ?? .null),
                    ]))
            )
        ])
        var headers: [(name: String, value: String)] = []
        if let retryAfter = error.retryAfter { headers.append(("Retry-After", retryAfter)) }
        return ClientResponse(
            status: error.status, contentType: "application/json", body: JSON.object(body).bytes, headers: headers)
    }
}

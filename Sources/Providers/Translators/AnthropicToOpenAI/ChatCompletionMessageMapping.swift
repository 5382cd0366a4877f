/// A complete OpenAI response (a `chat.completion`, or an error body) → the Anthropic client's response.
enum ChatCompletionMessageMapping {
    /// A 2xx `chat.completion` → an Anthropic `message`:
    /// `{"id":"msg_<id>","type":"message","role":"assistant","model":<the client's model>,"content":[...],
    /// "stop_reason":...,"stop_sequence":null,"usage":{...}}`.
    ///
    /// Content (choice 0): a text block for `message.content` (a string, or text parts), a text block for
    /// `message.refusal`, then one `tool_use` block per `tool_calls` entry, `input` = the arguments
    /// parsed. Arguments that are empty are `{}`; arguments that are not a JSON object (invalid JSON
    /// from the model) are also `{}`: Anthropic's `input` must be an object, and the tool's own check
    /// then reports the missing parameters to the model, which can retry. Stop reason per `StopReason`;
    /// usage per `OpenAIUsage`. A 2xx body with an `error` member, without `choices`, or with a tool call
    /// without a name, is a 502.
    static func message(_ body: [UInt8], model: String) -> ClientResponse {
        guard let root = try? JSONParser.parse(body), root.objectValue != nil else {
            return errorResponse(.upstreamProtocol("upstream returned a response that is not JSON"))
        }
        if let error = root["error"], !error.isNull {
            return UpstreamErrorBody.anthropicError(status: 502, body: body, retryAfter: nil).response(
                for: .anthropicMessages)
        }
        guard let choices = root["choices"]?.arrayValue else {
            return errorResponse(.upstreamProtocol("upstream returned a response that is not a chat completion"))
        }
        let choice = choices.first { ($0["index"]?.intValue ?? 0) == 0 } ?? choices.first
        let message = choice?["message"]

        var content: [JSON] = []
        if let text = message?["content"]?.stringValue {
            if !text.isEmpty { content.append(textBlock(text)) }
        } else if let parts = message?["content"]?.arrayValue {
            for part in parts {
                if let text = part["text"]?.stringValue, !text.isEmpty { content.append(textBlock(text)) }
            }
        }
        var refused = false
        if let refusal = message?["refusal"]?.stringValue, !refusal.isEmpty {
            refused = true
            content.append(textBlock(refusal))
        }
        var sawToolCall = false
        for (i, call) in (message?["tool_calls"]?.arrayValue ?? []).enumerated() {
            guard call.objectValue != nil else { continue }
            sawToolCall = true
            let function = call["function"]
            guard let name = function?["name"]?.stringValue, !name.isEmpty else {
                return errorResponse(.upstreamProtocol("upstream sent a tool call without a name"))
            }
            var id = call["id"]?.stringValue ?? ""
            if id.isEmpty { id = "call_\(i)" }
            content.append(
                .object(
                    JSONObject([
                        ("type", "tool_use"), ("id", .string(id)),
                        ("name", .string(name)),
                        ("input", toolInput(function?["arguments"])),
                    ])))
        }

        var usage = OpenAIUsage()
        usage.update(from: root["usage"])
        let id = root["id"]?.stringValue ?? ""
        let stopReason = StopReason.anthropic(
            finishReason: choice?["finish_reason"]?.stringValue, sawToolCall: sawToolCall, refused: refused)
        let out = JSONObject([
            ("id", .string("msg_" + (id.isEmpty ? "openai" : id))), ("type", "message"), ("role", "assistant"),
            ("model", .string(model)), ("content", .array(content)), ("stop_reason", .string(stopReason)),
            ("stop_sequence", .null), ("usage", usage.anthropic),
        ])
        return ClientResponse(status: 200, contentType: "application/json", body: out.bytes)
    }

    private static func textBlock(_ text: String) -> JSON {
        .object(JSONObject([("type", "text"), ("text", .string(text))]))
    }

    /// The arguments string parsed; `{}` when empty or not a JSON object. Some servers send the
    /// arguments as an object already: taken as is.
    static func toolInput(_ arguments: JSON?) -> JSON {
        if let object = arguments, object.objectValue != nil { return object }
        guard let text = arguments?.stringValue,
            let value = try? JSONParser.parse(Array(text.utf8)), value.objectValue != nil
        else { return .object(JSONObject()) }
        return value
    }

    /// A non-2xx upstream response → an Anthropic error with the upstream's status, message and
    /// `Retry-After`; the type by status (429 `rate_limit_error`, 401 `authentication_error`, 500
    /// `api_error`, 503/529 `overloaded_error`, ...), as `UpstreamErrorBody` reads any body shape.
    static func upstreamError(status: Int, body: [UInt8], retryAfter: String?) -> ClientResponse {
        UpstreamErrorBody.anthropicError(status: status, body: body, retryAfter: retryAfter).response(
            for: .anthropicMessages)
    }

    static func errorResponse(_ error: APIError) -> ClientResponse {
        error.response(for: .anthropicMessages)
    }
}

/// A complete Anthropic response (a `message`, or an error body) → the Responses client's response.
///
/// Content blocks become output items in order: `text` → a `message`; `tool_use` → a `function_call`
/// (`arguments`: the input as compact JSON), or a `custom_tool_call` for a custom tool (`input`: the
/// `input` string), or, for the `text.format` tool, a `message` whose text is the input JSON as the
/// upstream wrote it; `thinking` → a `reasoning` item with the thinking as its summary text and, when
/// asked, the block's exact bytes in `encrypted_content`; `redacted_thinking` → a `reasoning` item with
/// no summary. Other blocks are not output.
///
/// `stop_reason` `max_tokens` (and `model_context_window_exceeded`) → `status: incomplete` with
/// `incomplete_details.reason: max_output_tokens`; `refusal` → incomplete, `content_filter`; anything
/// else → `completed`.
enum ResponsesOutputMapping {
    static func response(_ body: [UInt8], context: ResponseContext) -> ClientResponse {
        let out: [UInt8]? = body.withUnsafeBytes { buffer in
            guard let scan = try? JSONObjectScanner.scan(buffer), let content = scan.first("content"),
                content.kind == .array,
                let elements = try? JSONObjectScanner.arrayElements(buffer, in: content.valueRange)
            else { return nil }
            func member(_ key: String) -> JSON? {
                guard let m = scan.first(key) else { return nil }
                return try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: buffer[m.valueRange]))
            }
            let ids = ResponseIDs(upstreamMessageID: member("id")?.stringValue)
            var output: [UInt8] = []
            var index = 0
            for range in elements {
                let raw = UnsafeRawBufferPointer(rebasing: buffer[range])
                guard let block = try? JSONParser.parse(raw), block.objectValue != nil else { continue }
                if item(block, raw: raw, index: index, ids: ids, context: context, into: &output) { index += 1 }
            }
            var usage = AnthropicUsage()
            usage.update(from: member("usage"))
            var result: [UInt8] = []
            result.reserveCapacity(output.count + context.echo.count + 512)
            switch member("stop_reason")?.stringValue {
            case "max_tokens", "model_context_window_exceeded":
                ResponseObjectWriter.response(
                    id: ids.response, status: "incomplete", output: output, usage: usage,
                    incompleteReason: "max_output_tokens", context: context, into: &result)
            case "refusal":
                ResponseObjectWriter.response(
                    id: ids.response, status: "incomplete", output: output, usage: usage,
                    incompleteReason: "content_filter", context: context, into: &result)
            default:
                ResponseObjectWriter.response(
                    id: ids.response, status: "completed", output: output, usage: usage, context: context, into: &result
                )
            }
            return result
        }
        guard let out else {
            return APIError(
                status: 502, type: "api_error",
                message: "upstream returned a response that is not an Anthropic message",
                code: "bad_upstream_response"
            ).response(for: .openAIResponses)
        }
        return ClientResponse(status: 200, contentType: "application/json", body: out)
    }

    /// Writes the item for one content block (after a comma when it is not the first); false when the
    /// block is not output.
    private static func item(
        _ block: JSON, raw: UnsafeRawBufferPointer, index: Int, ids: ResponseIDs, context: ResponseContext,
        into out: inout [UInt8]
    ) -> Bool {
        let start = out.count
        if index > 0 { out.append(UInt8(ascii: ",")) }
        switch block["type"]?.stringValue {
        case "text":
            let text = ResponseObjectWriter.escaped(block["text"]?.stringValue ?? "")
            ResponseObjectWriter.message(
                id: ids.item(.message, index: index), status: "completed", text: text, into: &out)
        case "tool_use":
            let name = block["name"]?.stringValue ?? ""
            let callID = block["id"]?.stringValue ?? ""
            let input = block["input"] ?? .object(JSONObject())
            if name == context.outputTool {
                // The upstream's own bytes of the input: the JSON answer as the model wrote it.
                var text: [UInt8] = []
                if let range = inputRange(raw) {
                    JSON.writeString(utf8: UnsafeRawBufferPointer(rebasing: raw[range]), to: &text)
                    text.removeFirst()
                    text.removeLast()
                }
                ResponseObjectWriter.message(
                    id: ids.item(.structuredOutput, index: index), status: "completed", text: text, into: &out)
            } else if let client = context.toolNames[name], client.kind == .custom {
                let kind = OutputItemKind.customToolCall(client)
                let payload = ResponseObjectWriter.escaped(
                    input["input"]?.stringValue ?? String(decoding: input.bytes, as: UTF8.self))
                ResponseObjectWriter.toolCall(
                    id: ids.item(kind, index: index), kind: kind, callID: callID, status: "completed", payload: payload,
                    into: &out)
            } else {
                let client = context.toolNames[name] ?? ClientToolName(kind: .function, name: name, namespace: nil)
                let kind = OutputItemKind.functionCall(client)
                ResponseObjectWriter.toolCall(
                    id: ids.item(kind, index: index), kind: kind, callID: callID, status: "completed",
                    payload: ResponseObjectWriter.escaped(String(decoding: input.bytes, as: UTF8.self)), into: &out)
            }
        case "thinking", "redacted_thinking":
            var encrypted: [UInt8]?
            if context.includeEncryptedReasoning {
                var base64: [UInt8] = []
                ReasoningBlockCodec.encode(raw, into: &base64)
                encrypted = base64
            }
            let summary = block["thinking"]?.stringValue.map(ResponseObjectWriter.escaped)
            ResponseObjectWriter.reasoning(
                id: ids.item(.reasoning, index: index), status: "completed", summary: summary, encrypted: encrypted,
                into: &out)
        default:
            out.removeSubrange(start...)
            return false
        }
        return true
    }

    /// The bytes of a block's `input` value.
    private static func inputRange(_ raw: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let scan = try? JSONObjectScanner.scan(raw), let input = scan.first("input") else { return nil }
        return input.valueRange
    }

    /// A non-2xx upstream response → an OpenAI error with the upstream's status and message, and its
    /// `Retry-After`. Where the upstream gave no `code`, the two that clients act on are added as OpenAI
    /// sends them: `context_length_exceeded` (Claude's "prompt is too long"; Codex then compacts) and
    /// `rate_limit_exceeded` for a 429.
    static func upstreamError(status: Int, body: [UInt8], retryAfter: String?) -> ClientResponse {
        var error = UpstreamErrorBody.openAIError(status: status, body: body, retryAfter: retryAfter)
        if error.code == nil {
            let failure = ResponseObjectWriter.Failure(error)
            if failure.code == "context_length_exceeded" || failure.code == "rate_limit_exceeded" {
                error.code = failure.code
            }
        }
        return error.response(for: .openAIResponses)
    }
}

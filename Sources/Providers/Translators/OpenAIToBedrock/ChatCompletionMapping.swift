/// A complete Anthropic response (a `message`, or an error body) → the OpenAI client's response.
enum ChatCompletionMapping {
    /// A 2xx Anthropic `message` → `chat.completion`.
    ///
    /// `content` is every text block joined (thinking is not content); `null` when there is no text but
    /// there are tool calls, as OpenAI sends it. `finish_reason` follows the stop-reason table, except that
    /// any tool call makes it `tool_calls` (the same rule as the stream).
    ///
    /// Written straight as bytes from the fields `FieldPicker` finds: the output is byte-identical to
    /// building the OpenAI object as a `JSON` tree and writing it.
    static func completion(_ body: [UInt8], model: String, created: Int) -> ClientResponse {
        let result: ClientResponse? = body.withUnsafeBytes { bytes in
            guard let message = FieldPicker.pick(bytes, "content", "id", "stop_reason", "usage"),
                let content = message[0], content.kind == .array
            else { return nil }
            return completion(message, content: content.range, model: model, created: created)
        }
        return result
            ?? errorResponse(.upstreamProtocol("upstream returned a response that is not an Anthropic message"))
    }

    private static func completion(
        _ message: FieldPicker, content: Range<Int>, model: String, created: Int
    ) -> ClientResponse? {
        let bytes = message.bytes
        var out: [UInt8] = []
        out.reserveCapacity(256 + bytes.count + model.utf8.count)
        ChunkBytes.append("{\"id\":\"chatcmpl-", to: &out)
        if let id = message[1], id.kind == .string {
            message.appendStringContent(id, to: &out)
        } else {
            ChunkBytes.append("bedrock", to: &out)
        }
        ChunkBytes.append("\",\"object\":\"chat.completion\",\"created\":", to: &out)
        ChunkBytes.append(created, to: &out)
        ChunkBytes.append(",\"model\":", to: &out)
        ChunkBytes.appendString(model, to: &out)
        ChunkBytes.append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"", to: &out)

        // The joined text goes straight into `out` (escaping is per byte, so pieces escape alone); tool
        // calls, rare, into their own buffer: `[{tool call},...]` members, without the brackets.
        var hasText = false
        var toolCalls: [UInt8] = []
        var toolCount = 0
        // The array was validated with the whole body: its blocks are walked in place.
        var next = content.lowerBound + 1
        while bytes[next] == 0x20 || bytes[next] == 0x0A || bytes[next] == 0x0D || bytes[next] == 0x09 { next += 1 }
        while next < content.upperBound - 1 {
            guard bytes[next] == UInt8(ascii: "{") else {
                guard FieldPicker.skipElement(bytes, at: &next, end: content.upperBound) else { return nil }
                continue
            }
            guard
                let block = FieldPicker.walk(
                    bytes, at: &next, end: content.upperBound, "type", "text", "input", "name", "id")
            else { return nil }
            if block.isString(block[0], "text") {
                if let piece = block[1], piece.kind == .string {
                    block.appendStringContent(piece, to: &out)
                    hasText = true
                }
            } else if block.isString(block[0], "tool_use") {
                let arguments: [UInt8]
                if let input = block[2], let value = try? JSONParser.parse(block.slice(input)) {
                    arguments = value.bytes  // re-written compact, as the tree writer writes it
                } else {
                    arguments = Array("{}".utf8)
                }
                if toolCount > 0 { toolCalls.append(UInt8(ascii: ",")) }
                toolCount += 1
                ChunkBytes.append("{\"id\":", to: &toolCalls)
                if let id = block[4], id.kind == .string {
                    block.appendString(id, to: &toolCalls)
                } else {
                    ChunkBytes.append("\"\"", to: &toolCalls)
                }
                ChunkBytes.append(",\"type\":\"function\",\"function\":{\"name\":", to: &toolCalls)
                if let name = block[3], name.kind == .string {
                    block.appendString(name, to: &toolCalls)
                } else {
                    ChunkBytes.append("\"\"", to: &toolCalls)
                }
                ChunkBytes.append(",\"arguments\":", to: &toolCalls)
                arguments.withUnsafeBytes { JSON.writeString(utf8: $0, to: &toolCalls) }
                ChunkBytes.append("}}", to: &toolCalls)
            }
        }
        if hasText || toolCount == 0 {
            out.append(UInt8(ascii: "\""))
        } else {
            // No text was written after the opening quote: the content is null.
            out.removeLast()
            ChunkBytes.append("null", to: &out)
        }
        if toolCount > 0 {
            ChunkBytes.append(",\"tool_calls\":[", to: &out)
            out.append(contentsOf: toolCalls)
            out.append(UInt8(ascii: "]"))
        }

        let finishReason: String
        if toolCount > 0 {
            finishReason = "tool_calls"
        } else {
            finishReason = FinishReason.openAI(forStopReason: message.string(message[2]) ?? "end_turn")
        }
        var usage = AnthropicUsage()
        usage.update(from: message[3], in: message)

        ChunkBytes.append("},\"finish_reason\":", to: &out)
        ChunkBytes.appendString(finishReason, to: &out)
        ChunkBytes.append("}],\"usage\":", to: &out)
        usage.writeOpenAI(into: &out)
        out.append(UInt8(ascii: "}"))
        return ClientResponse(status: 200, contentType: "application/json", body: out)
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

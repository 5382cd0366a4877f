/// Error bodies and stream error events in each client dialect.
extension APIError {
    /// The error body for a client speaking `dialect`. Anthropic shape for `anthropic-messages` and
    /// `bedrock-anthropic` ingress; OpenAI shape otherwise (passthrough included).
    public func body(for dialect: Dialect) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + message.utf8.count)
        switch dialect {
        case .anthropicMessages, .bedrockAnthropic: writeAnthropic(into: &out)
        case .openAIChat, .openAIResponses, .passthrough: writeOpenAI(into: &out)
        }
        return out
    }

    /// `{"error":{"message":...,"type":...,"param":null,"code":...}}`
    public func writeOpenAI(into out: inout [UInt8]) {
        out.append(contentsOf: #"{"error":{"message":"#.utf8)
        JSON.writeString(message, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        JSON.writeString(type, to: &out)
        out.append(contentsOf: #","param":null,"code":"#.utf8)
        if let code { JSON.writeString(code, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: "}}".utf8)
    }

    /// `{"type":"error","error":{"type":...,"message":...}}`
    public func writeAnthropic(into out: inout [UInt8]) {
        out.append(contentsOf: #"{"type":"error","error":{"type":"#.utf8)
        JSON.writeString(APIError.anthropicType(status: status, fallback: type), to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSON.writeString(message, to: &out)
        out.append(contentsOf: "}}".utf8)
    }

    /// The complete client response for this error.
    public func response(for dialect: Dialect) -> ClientResponse {
        var headers: [(name: String, value: String)] = []
        if let retryAfter { headers.append(("Retry-After", retryAfter)) }
        return ClientResponse(
            status: status, contentType: "application/json", body: body(for: dialect), headers: headers)
    }

    /// OpenAI stream error: `data: {"error":{...}}\n\n` then `data: [DONE]\n\n`.
    public func writeOpenAIStreamError(into out: inout [UInt8]) {
        out.append(contentsOf: "data: ".utf8)
        writeOpenAI(into: &out)
        out.append(contentsOf: "\n\ndata: [DONE]\n\n".utf8)
    }

    /// Anthropic stream error: `event: error\ndata: {"type":"error","error":{...}}\n\n`.
    public func writeAnthropicStreamError(into out: inout [UInt8]) {
        out.append(contentsOf: "event: error\ndata: ".utf8)
        writeAnthropic(into: &out)
        out.append(contentsOf: "\n\n".utf8)
    }

    /// The stream error event(s) for `dialect`.
    public func streamEvent(for dialect: Dialect) -> [UInt8] {
        var out: [UInt8] = []
        switch dialect {
        case .anthropicMessages, .bedrockAnthropic: writeAnthropicStreamError(into: &out)
        case .openAIChat, .openAIResponses, .passthrough: writeOpenAIStreamError(into: &out)
        }
        return out
    }
}

/// The stream half of the Anthropic → OpenAI translation: OpenAI `chat.completion.chunk` lines in,
/// Anthropic SSE events out, each written as soon as the line that causes it is complete.
///
/// Choices made where the wire leaves room (also in the tests):
/// - `message_start` goes out with the first chunk (id `msg_` + the chunk's id, the client's model,
///   usage zero: OpenAI counts tokens only at the end). Content blocks follow as `ContentBlockSequencer`
///   orders them. `delta.refusal` text is text (and makes the stop reason `refusal`); reasoning fields
///   some servers add (`reasoning_content`) are not content for an Anthropic client.
/// - Only choice 0 is read (the request never asks for more).
/// - `finish_reason` closes the blocks; `message_delta` (stop reason per `StopReason`, the final usage
///   chunk's counts) and `message_stop` go out on `data: [DONE]`, or when the upstream ends after a
///   finish reason without `[DONE]`.
/// - An `{"error":...}` chunk, invalid JSON, an oversized line or queue, a tool call without a name, a
///   stream that ends before any chunk or without a finish reason: an Anthropic `error` event, and
///   nothing after it.
struct MessageEventStream: SSEJSONEventReader {
    enum Phase {
        /// Nothing sent yet.
        case waiting
        /// `message_start` is out.
        case streaming
        /// `message_stop` or an error is out; everything else is ignored.
        case done
    }

    let model: String
    private(set) var phase = Phase.waiting
    private var blocks: ContentBlockSequencer
    private var usage = OpenAIUsage()
    private var finishReason: String?
    private var refused = false
    /// SSE allows one event's data over several lines, joined with `\n`; OpenAI never does this.
    var dataLines: SSEDataLines

    init(model: String, maxEventBytes: Int) {
        self.model = model
        self.dataLines = SSEDataLines(maxEventBytes: maxEventBytes)
        self.blocks = ContentBlockSequencer(maxQueuedBytes: maxEventBytes)
    }

    // MARK: SSE lines

    var isOver: Bool { phase == .done }

    /// `data: [DONE]` ends the answer; any other value is a chunk (see `handleChunk`).
    mutating func event(_ value: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        if value.elementsEqual("[DONE]".utf8) {
            done(into: &out)
            return true
        }
        return handleChunk(value, into: &out)
    }

    // MARK: Chunks

    /// Handles `value` when it is a JSON object; false (nothing done) when it is not valid JSON. A valid
    /// value that is not an object means nothing.
    private mutating func handleChunk(_ value: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        guard let chunk = FieldPicker.pick(value, "choices", "usage", "error", "id") else {
            return (try? JSONParser.parse(value)) != nil
        }
        if let error = chunk[2], error.kind != .null {
            fail(Self.streamError(error, in: chunk), into: &out)
            return true
        }
        if phase == .waiting {
            phase = .streaming
            let id = chunk.string(chunk[3]).map { $0.isEmpty ? "openai" : $0 } ?? "openai"
            AnthropicEventBytes.messageStart(id: "msg_" + id, model: model, into: &out)
        }
        usage.update(from: chunk[1], in: chunk)
        if let choices = chunk[0], choices.kind == .array { handleChoices(choices.range, in: chunk, into: &out) }
        if blocks.overflowed {
            fail(.upstreamProtocol("upstream tool calls went past the translator's limits"), into: &out)
        }
        return true
    }

    private mutating func handleChoices(_ range: Range<Int>, in chunk: FieldPicker, into out: inout [UInt8]) {
        let bytes = chunk.bytes
        var next = range.lowerBound + 1
        Self.skipWhitespace(bytes, &next)
        while next < range.upperBound - 1 {
            guard bytes[next] == UInt8(ascii: "{") else {
                guard FieldPicker.skipElement(bytes, at: &next, end: range.upperBound) else { return }
                continue
            }
            guard
                let choice = FieldPicker.walk(
                    bytes, at: &next, end: range.upperBound, "index", "delta", "finish_reason")
            else { return }
            if let index = choice[0], choice.int(index) != 0 { continue }
            if let delta = choice.object(choice[1], "content", "tool_calls", "refusal") {
                if let content = delta[0], content.kind == .string { blocks.text(content, in: delta, into: &out) }
                if let refusal = delta[2], refusal.kind == .string, !delta.isEmptyString(refusal) {
                    refused = true
                    blocks.text(refusal, in: delta, into: &out)
                }
                if let calls = delta[1], calls.kind == .array { handleToolCalls(calls.range, in: delta, into: &out) }
            }
            if let reason = choice.string(choice[2]) {
                finishReason = reason
                if !blocks.finish(into: &out) {
                    fail(.upstreamProtocol("upstream sent a tool call without a name"), into: &out)
                    return
                }
            }
        }
    }

    private mutating func handleToolCalls(_ range: Range<Int>, in delta: FieldPicker, into out: inout [UInt8]) {
        let bytes = delta.bytes
        var next = range.lowerBound + 1
        Self.skipWhitespace(bytes, &next)
        var position = 0
        while next < range.upperBound - 1 {
            guard bytes[next] == UInt8(ascii: "{") else {
                guard FieldPicker.skipElement(bytes, at: &next, end: range.upperBound) else { return }
                position += 1
                continue
            }
            guard let call = FieldPicker.walk(bytes, at: &next, end: range.upperBound, "index", "id", "function")
            else { return }
            // Servers that leave `index` out send one call per position.
            let index = call.int(call[0]) ?? position
            position += 1
            let function = call.object(call[2], "name", "arguments")
            blocks.toolCall(
                index: index, id: call.string(call[1]), name: function?.string(function?[0]),
                arguments: function?[1], in: function ?? call, into: &out)
        }
    }

    private static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, _ i: inout Int) {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    /// An upstream `error` chunk (an object with `message`, `type`, `code`, or a bare string).
    private static func streamError(_ value: PickedValue, in chunk: FieldPicker) -> APIError {
        let fields = chunk.object(value, "message", "type", "code")
        let message = fields?.string(fields?[0]) ?? chunk.string(value) ?? "upstream error"
        let type = fields?.string(fields?[1]) ?? "api_error"
        let code = fields?.string(fields?[2]) ?? ""
        let anthropicType: String
        if type.contains("rate_limit") || code.contains("rate_limit") {
            anthropicType = "rate_limit_error"
        } else if type.contains("overloaded") || code.contains("overloaded") {
            anthropicType = "overloaded_error"
        } else {
            anthropicType = APIError.anthropicType(status: 502, fallback: type)
        }
        return APIError(status: 502, type: anthropicType, message: message)
    }

    // MARK: End

    /// `data: [DONE]`: the answer is complete.
    private mutating func done(into out: inout [UInt8]) {
        guard phase == .streaming else {
            fail(.upstreamProtocol("upstream stream ended before any chunk"), into: &out)
            return
        }
        guard blocks.finish(into: &out) else {
            fail(.upstreamProtocol("upstream sent a tool call without a name"), into: &out)
            return
        }
        let reason = StopReason.anthropic(finishReason: finishReason, sawToolCall: blocks.sawToolCall, refused: refused)
        AnthropicEventBytes.messageDelta(stopReason: reason, usage: usage, into: &out)
        AnthropicEventBytes.messageStop(into: &out)
        phase = .done
    }

    /// The upstream ended. Complete after a finish reason (even without `[DONE]`); an error otherwise.
    mutating func end(into out: inout [UInt8]) {
        switch phase {
        case .done:
            return
        case .waiting:
            fail(.upstreamProtocol("upstream stream ended before any chunk"), into: &out)
        case .streaming:
            if failOnUnfinishedData(into: &out) {
                return
            } else if finishReason == nil {
                fail(.upstreamProtocol("upstream stream ended before the answer was complete"), into: &out)
            } else {
                done(into: &out)
            }
        }
    }

    /// An Anthropic `error` event; nothing is written after it.
    mutating func fail(_ error: APIError, into out: inout [UInt8]) {
        if phase == .done { return }
        error.writeAnthropicStreamError(into: &out)
        phase = .done
    }
}

/// The stream half of the OpenAI → Bedrock translation: Anthropic stream events in, OpenAI
/// `chat.completion.chunk` frames out.
///
/// It receives SSE lines (data-only SSE from AI-Gateway, or standard SSE with `event:` lines: the event's
/// own `type` field says what it is, so `event:` lines are not needed) and writes each client frame as
/// soon as the event that causes it is complete.
///
/// Choices made where the wire leaves room (also in the tests):
/// - The role chunk (`role: "assistant"`, `content: ""`) is sent on `message_start`; the finish chunk on
///   the first `message_delta` with a `stop_reason`; the usage chunk (if asked) and `[DONE]` on
///   `message_stop`.
/// - `finish_reason` is `tool_calls` whenever a tool call was streamed, whatever the stop reason.
/// - The upstream ending without a stop reason (no `message_delta`) means the answer was cut short:
///   the finish reason is then `length` (or `tool_calls`), so a client never takes it as complete text.
/// - An upstream that ends before sending any event, an `error` event, a JSON object with only a
///   `message` (Bedrock's exception shape), invalid JSON, or an oversized line: an OpenAI error chunk
///   then `[DONE]`; nothing after that is sent.
struct ChatChunkStream: SSEJSONEventReader {
    enum Phase {
        /// Nothing sent yet.
        case waiting
        /// The role chunk is out.
        case streaming
        /// The finish chunk is out; waiting for `message_stop`.
        case finished
        /// `[DONE]` is out; everything else is ignored.
        case done
    }

    let model: String
    let includeUsage: Bool
    let created: Int
    private(set) var phase = Phase.waiting
    /// `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[`
    private var prefix: [UInt8] = []
    /// Anthropic content block index → OpenAI tool call index.
    private var toolIndexByBlock: [Int: Int] = [:]
    private var toolCount = 0
    private var stopReason: String?
    private var usage = AnthropicUsage()
    /// SSE allows one event's data over several lines, joined with `\n`. Anthropic never does this, but a
    /// faithful decoder must.
    var dataLines: SSEDataLines

    init(model: String, includeUsage: Bool, created: Int, maxEventBytes: Int) {
        self.model = model
        self.includeUsage = includeUsage
        self.created = created
        self.dataLines = SSEDataLines(maxEventBytes: maxEventBytes)
    }

    // MARK: SSE lines

    var isOver: Bool { phase == .done }

    /// Handles `value` when it is one whole JSON value; false (nothing done) when it is not valid JSON.
    /// A valid value that is not an object means nothing, and so does OpenAI's `[DONE]` marker.
    mutating func event(_ value: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        if let event = BedrockStreamEvent.pick(value) {
            handle(event, into: &out)
            return true
        }
        return (try? JSONParser.parse(value)) != nil || value.elementsEqual("[DONE]".utf8)
    }

    // MARK: Anthropic events

    /// One event object; its fields in `BedrockStreamEvent.pick`'s order: type, index, delta, content_block,
    /// message, usage, error, Message.
    private mutating func handle(_ event: FieldPicker, into out: inout [UInt8]) {
        if phase == .done { return }
        guard let typeValue = event[0], typeValue.kind == .string else {
            if let exception = BedrockStreamEvent.exception(event) { fail(exception, into: &out) }
            return
        }
        if event.isString(typeValue, "content_block_delta") {
            startIfNeeded(into: &out)
            guard let deltaValue = event[2] else { return }
            guard let delta = event.object(deltaValue, "type", "text", "partial_json") else { return }
            if delta.isString(delta[0], "text_delta") {
                if let text = delta[1], text.kind == .string, !delta.isEmptyString(text) {
                    writeContent(text, in: delta, into: &out)
                }
            } else if delta.isString(delta[0], "input_json_delta") {
                guard let index = event.int(event[1]), let toolIndex = toolIndexByBlock[index],
                    let piece = delta[2], piece.kind == .string, !delta.isEmptyString(piece)
                else { return }
                writeToolArguments(index: toolIndex, piece, in: delta, into: &out)
            }
            // thinking_delta, signature_delta: not content for an OpenAI client
        } else if event.isString(typeValue, "message_start") {
            if phase == .waiting {
                let message = event.object(event[4], "usage", "id")
                if let message { usage.update(from: message[0], in: message) }
                start(id: message?.string(message?[1]), into: &out)
            }
        } else if event.isString(typeValue, "content_block_start") {
            startIfNeeded(into: &out)
            guard let blockValue = event[3], let index = event.int(event[1]) else { return }
            guard let block = event.object(blockValue, "type", "text", "id", "name") else { return }
            if block.isString(block[0], "text") {
                if let text = block[1], text.kind == .string, !block.isEmptyString(text) {
                    writeContent(text, in: block, into: &out)
                }
            } else if block.isString(block[0], "tool_use") {
                let toolIndex = toolCount
                toolCount += 1
                toolIndexByBlock[index] = toolIndex
                writeToolOpen(
                    index: toolIndex, id: block.string(block[2]) ?? "", name: block.string(block[3]) ?? "",
                    into: &out)
            }
            // thinking, redacted_thinking, server tools: not content for an OpenAI client
        } else if event.isString(typeValue, "message_delta") {
            startIfNeeded(into: &out)
            usage.update(from: event[5], in: event)
            if let delta = event.object(event[2], "stop_reason"), let reason = delta.string(delta[0]) {
                stopReason = reason
                if phase == .streaming { writeFinish(into: &out) }
            }
        } else if event.isString(typeValue, "message_stop") {
            finishStream(into: &out)
        } else if event.isString(typeValue, "error") {
            let error = event.object(event[6], "type", "message")
            fail(
                APIError(
                    status: 502, type: error?.string(error?[0]) ?? "api_error",
                    message: error?.string(error?[1]) ?? "upstream error"),
                into: &out)
        }
        // ping, content_block_stop, and event types added later: nothing
    }

    /// The upstream ended. A stream that never started is an error; one that did is finished cleanly.
    mutating func end(into out: inout [UInt8]) {
        switch phase {
        case .done:
            return
        case .waiting:
            fail(.upstreamProtocol("upstream stream ended before any event"), into: &out)
        case .streaming, .finished:
            if failOnUnfinishedData(into: &out) { return }
            finishStream(into: &out)
        }
    }

    /// An OpenAI error chunk, then `[DONE]`.
    mutating func fail(_ error: APIError, into out: inout [UInt8]) {
        if phase == .done { return }
        error.writeOpenAIStreamError(into: &out)
        phase = .done
    }

    // MARK: Frames

    private mutating func startIfNeeded(into out: inout [UInt8]) {
        if phase == .waiting { start(id: nil, into: &out) }
    }

    private mutating func start(id: String?, into out: inout [UInt8]) {
        prefix.removeAll(keepingCapacity: true)
        ChunkBytes.append("data: {\"id\":", to: &prefix)
        ChunkBytes.appendString("chatcmpl-" + (id ?? "bedrock"), to: &prefix)
        ChunkBytes.append(",\"object\":\"chat.completion.chunk\",\"created\":", to: &prefix)
        ChunkBytes.append(created, to: &prefix)
        ChunkBytes.append(",\"model\":", to: &prefix)
        ChunkBytes.appendString(model, to: &prefix)
        ChunkBytes.append(",\"choices\":[", to: &prefix)
        phase = .streaming
        out.append(contentsOf: prefix)
        ChunkBytes.append("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n", to: &out)
    }

    private func writeContent(_ text: PickedValue, in fields: FieldPicker, into out: inout [UInt8]) {
        out.append(contentsOf: prefix)
        ChunkBytes.append("{\"index\":0,\"delta\":{\"content\":", to: &out)
        fields.appendString(text, to: &out)
        ChunkBytes.append("},\"finish_reason\":null}]}\n\n", to: &out)
    }

    private func writeToolOpen(index: Int, id: String, name: String, into out: inout [UInt8]) {
        out.append(contentsOf: prefix)
        ChunkBytes.append("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":", to: &out)
        ChunkBytes.append(index, to: &out)
        ChunkBytes.append(",\"id\":", to: &out)
        ChunkBytes.appendString(id, to: &out)
        ChunkBytes.append(",\"type\":\"function\",\"function\":{\"name\":", to: &out)
        ChunkBytes.appendString(name, to: &out)
        ChunkBytes.append(",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n", to: &out)
    }

    private func writeToolArguments(index: Int, _ piece: PickedValue, in fields: FieldPicker, into out: inout [UInt8]) {
        out.append(contentsOf: prefix)
        ChunkBytes.append("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":", to: &out)
        ChunkBytes.append(index, to: &out)
        ChunkBytes.append(",\"function\":{\"arguments\":", to: &out)
        fields.appendString(piece, to: &out)
        ChunkBytes.append("}}]},\"finish_reason\":null}]}\n\n", to: &out)
    }

    private mutating func writeFinish(into out: inout [UInt8]) {
        let reason: String
        if toolCount > 0 {
            reason = "tool_calls"
        } else if let stopReason {
            reason = FinishReason.openAI(forStopReason: stopReason)
        } else {
            reason = "length"
        }
        out.append(contentsOf: prefix)
        ChunkBytes.append("{\"index\":0,\"delta\":{},\"finish_reason\":", to: &out)
        ChunkBytes.appendString(reason, to: &out)
        ChunkBytes.append("}]}\n\n", to: &out)
        phase = .finished
    }

    /// Finish chunk if not yet sent, usage chunk if asked, `[DONE]`.
    private mutating func finishStream(into out: inout [UInt8]) {
        startIfNeeded(into: &out)
        if phase == .streaming { writeFinish(into: &out) }
        if includeUsage {
            out.append(contentsOf: prefix)
            ChunkBytes.append("],\"usage\":", to: &out)
            usage.writeOpenAI(into: &out)
            ChunkBytes.append("}\n\n", to: &out)
        }
        writeDone(into: &out)
    }

    private mutating func writeDone(into out: inout [UInt8]) {
        ChunkBytes.append("data: [DONE]\n\n", to: &out)
        phase = .done
    }
}

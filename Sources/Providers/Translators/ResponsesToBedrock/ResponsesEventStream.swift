/// The stream half of the Responses → Bedrock translation: Anthropic stream events in, Responses API
/// events out (`event: <type>\ndata: <json>\n\n`, every event with its `type` and a `sequence_number`
/// counting from 0).
///
/// It receives SSE lines (data-only SSE from AI-Gateway, or standard SSE with `event:` lines: the JSON's
/// own `type` says what an event is) and writes each client event as soon as the upstream event that
/// causes it is complete.
///
/// Order, as the OpenAI SDKs' stream accumulators and Codex read it:
/// - `message_start` → `response.created`, `response.in_progress` (status `in_progress`, no output).
/// - Each content block that is output gets the next `output_index` (`ResponsesOutputMapping` says which):
///   `response.output_item.added` (status `in_progress`) at its start, its deltas, and at its stop the
///   `.done` events and `response.output_item.done` (status `completed`). Text: `content_part.added`,
///   `output_text.delta`…, `output_text.done`, `content_part.done`. Function calls:
///   `function_call_arguments.delta`…, `.done` (empty arguments become `{}`). Custom tool calls:
///   `custom_tool_call_input.delta`… (`CustomInputStream`), `.done`. Thinking: `reasoning_summary_part.added`,
///   `reasoning_summary_text.delta`…, `.done`, `reasoning_summary_part.done`; the item's `encrypted_content`
///   (when asked) is the rebuilt block (`ReasoningBlockCodec`). Redacted thinking: added and done only.
/// - `message_stop` → `response.completed` with every item and the usage, or `response.incomplete` for
///   `max_tokens` (reason `max_output_tokens`) and `refusal` (reason `content_filter`).
/// - An Anthropic `error` event, a Bedrock exception (`{"message":...}`), an invalid or oversized event,
///   an upstream that ends without a stop reason, or `fail` from the proxy → `response.failed` with the
///   error (and `response.created` first if nothing was sent yet). Nothing is written after a final event.
struct ResponsesEventStream: SSEJSONEventReader {
    enum Phase {
        /// Nothing sent yet.
        case waiting
        /// `response.created` is out.
        case streaming
        /// A final event is out; everything else is ignored.
        case done
    }

    /// An upstream content block being streamed as an output item.
    struct OpenItem {
        var upstreamIndex: Int
        var kind: OutputItemKind
        var outputIndex: Int
        var id: String
        /// `,"item_id":...,"output_index":n`
        var fields: [UInt8]
        var callID = ""
        /// Escaped JSON string content so far: text, arguments, the thinking, or the output tool's JSON.
        var text: [UInt8] = []
        /// Escaped signature of a thinking block.
        var signature: [UInt8] = []
        /// A `redacted_thinking` block, and its exact bytes.
        var redacted = false
        var raw: [UInt8] = []
        var custom = CustomInputStream()
    }

    let context: ResponseContext
    private(set) var phase = Phase.waiting
    private var sequence = 0
    private var ids = ResponseIDs(upstreamMessageID: nil)
    private var responseID = ""
    /// Items done so far, comma-separated: the final response's `output`.
    private var output: [UInt8] = []
    private var outputCount = 0
    /// The output items whose upstream blocks have not stopped (`ResponsesEventStream+Items.swift`).
    var open: [OpenItem] = []
    private var usage = AnthropicUsage()
    private var stopReason: String?
    /// SSE allows one event's data over several lines.
    var dataLines: SSEDataLines
    /// Reused for the bytes of one item or piece.
    var scratch: [UInt8] = []
    var decodedScratch: [UInt8] = []

    init(context: ResponseContext, maxEventBytes: Int) {
        self.context = context
        self.dataLines = SSEDataLines(maxEventBytes: maxEventBytes)
    }

    // MARK: SSE lines

    var isOver: Bool { phase == .done }

    /// Handles `value` when it is one whole JSON value; false (nothing done) when it is not valid JSON.
    mutating func event(_ value: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        if let event = BedrockStreamEvent.pick(value) {
            handle(event, into: &out)
            return true
        }
        return (try? JSONParser.parse(value)) != nil
    }

    // MARK: Anthropic events

    /// One event object; its fields in `BedrockStreamEvent.pick`'s order.
    private mutating func handle(_ event: FieldPicker, into out: inout [UInt8]) {
        if phase == .done { return }
        guard let type = event[0], type.kind == .string else {
            if let exception = BedrockStreamEvent.exception(event) { fail(exception, into: &out) }
            return
        }
        if event.isString(type, "content_block_delta") {
            startIfNeeded(into: &out)
            guard let index = event.int(event[1]), let slot = open.firstIndex(where: { $0.upstreamIndex == index }),
                let delta = event.object(event[2], "type", "text", "partial_json", "thinking", "signature")
            else { return }
            self.delta(delta, slot: slot, into: &out)
        } else if event.isString(type, "content_block_start") {
            startIfNeeded(into: &out)
            guard let index = event.int(event[1]), let blockValue = event[3],
                let block = event.object(blockValue, "type", "text", "id", "name", "thinking", "signature")
            else { return }
            start(block, raw: event.slice(blockValue), upstreamIndex: index, into: &out)
        } else if event.isString(type, "content_block_stop") {
            guard let index = event.int(event[1]), let slot = open.firstIndex(where: { $0.upstreamIndex == index })
            else { return }
            finish(open.remove(at: slot), into: &out)
        } else if event.isString(type, "message_start") {
            guard phase == .waiting else { return }
            let message = event.object(event[4], "usage", "id")
            if let message { usage.update(from: message[0], in: message) }
            start(id: message?.string(message?[1]), into: &out)
        } else if event.isString(type, "message_delta") {
            startIfNeeded(into: &out)
            usage.update(from: event[5], in: event)
            if let delta = event.object(event[2], "stop_reason"), let reason = delta.string(delta[0]) {
                stopReason = reason
            }
        } else if event.isString(type, "message_stop") {
            complete(into: &out)
        } else if event.isString(type, "error") {
            let error = event.object(event[6], "type", "message")
            let errorType = error?.string(error?[0]) ?? "api_error"
            fail(
                APIError(
                    status: Self.status(forAnthropicType: errorType), type: errorType,
                    message: error?.string(error?[1]) ?? "upstream error"),
                into: &out)
        }
        // ping, and event types added later: nothing
    }

    /// The upstream ended: complete when it gave a stop reason, otherwise the answer was cut short.
    mutating func end(into out: inout [UInt8]) {
        switch phase {
        case .done:
            return
        case .waiting:
            fail(.upstreamProtocol("upstream stream ended before any event"), into: &out)
        case .streaming:
            if failOnUnfinishedData(into: &out) {
                return
            } else if stopReason == nil {
                fail(.upstreamProtocol("upstream stream ended before message_stop"), into: &out)
            } else {
                complete(into: &out)
            }
        }
    }

    /// `response.failed` (after `response.created` if nothing was sent yet), then nothing more.
    mutating func fail(_ error: APIError, into out: inout [UInt8]) {
        if phase == .done { return }
        startIfNeeded(into: &out)
        begin("response.failed", into: &out)
        ResponseObjectWriter.append(#","response":"#, to: &out)
        ResponseObjectWriter.response(
            id: responseID, status: "failed", output: output, usage: usage, failure: .init(error), context: context,
            into: &out)
        closeEvent(into: &out, final: true)
    }

    static func status(forAnthropicType type: String) -> Int {
        switch type {
        case "invalid_request_error": 400
        case "authentication_error": 401
        case "permission_error": 403
        case "not_found_error": 404
        case "request_too_large": 413
        case "rate_limit_error": 429
        case "overloaded_error": 529
        default: 502
        }
    }

    // MARK: Response lifecycle

    private mutating func startIfNeeded(into out: inout [UInt8]) {
        if phase == .waiting { start(id: nil, into: &out) }
    }

    private mutating func start(id: String?, into out: inout [UInt8]) {
        ids = ResponseIDs(upstreamMessageID: id)
        responseID = ids.response
        phase = .streaming
        for type: StaticString in ["response.created", "response.in_progress"] {
            begin(type, into: &out)
            ResponseObjectWriter.append(#","response":"#, to: &out)
            ResponseObjectWriter.response(
                id: responseID, status: "in_progress", output: [], usage: nil, context: context, into: &out)
            closeEvent(into: &out)
        }
    }

    /// Closes what is still open, then `response.completed` or `response.incomplete`.
    private mutating func complete(into out: inout [UInt8]) {
        startIfNeeded(into: &out)
        while !open.isEmpty { finish(open.removeFirst(), into: &out) }
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded":
            final("response.incomplete", status: "incomplete", reason: "max_output_tokens", into: &out)
        case "refusal":
            final("response.incomplete", status: "incomplete", reason: "content_filter", into: &out)
        default:
            final("response.completed", status: "completed", reason: nil, into: &out)
        }
    }

    private mutating func final(
        _ type: StaticString, status: StaticString, reason: StaticString?, into out: inout [UInt8]
    ) {
        begin(type, into: &out)
        ResponseObjectWriter.append(#","response":"#, to: &out)
        ResponseObjectWriter.response(
            id: responseID, status: status, output: output, usage: usage, incompleteReason: reason, context: context,
            into: &out)
        closeEvent(into: &out, final: true)
    }

    // MARK: Event framing

    /// `event: <type>\ndata: {"type":"<type>","sequence_number":<n>` — the caller adds `,<fields>` and
    /// calls `closeEvent`.
    mutating func begin(_ type: StaticString, into out: inout [UInt8]) {
        ResponseObjectWriter.append("event: ", to: &out)
        ResponseObjectWriter.append(type, to: &out)
        ResponseObjectWriter.append("\ndata: {\"type\":\"", to: &out)
        ResponseObjectWriter.append(type, to: &out)
        ResponseObjectWriter.append("\",\"sequence_number\":", to: &out)
        ChunkBytes.append(sequence, to: &out)
        sequence += 1
    }

    mutating func closeEvent(into out: inout [UInt8], final: Bool = false) {
        ResponseObjectWriter.append("}\n\n", to: &out)
        if final { phase = .done }
    }

    /// `,"item_id":...,"output_index":n`, written once per item (every event about it repeats them).
    static func itemFields(id: String, outputIndex: Int) -> [UInt8] {
        var out: [UInt8] = []
        ResponseObjectWriter.append(#","item_id":"#, to: &out)
        JSON.writeString(id, to: &out)
        ResponseObjectWriter.append(#","output_index":"#, to: &out)
        ChunkBytes.append(outputIndex, to: &out)
        return out
    }

    @inline(__always) func itemFields(_ item: OpenItem, into out: inout [UInt8]) {
        out.append(contentsOf: item.fields)
    }

    // MARK: Items (ResponsesEventStream+Items.swift)

    mutating func nextOutputIndex() -> Int {
        defer { outputCount += 1 }
        return outputCount
    }

    func itemID(_ kind: OutputItemKind, index: Int) -> String { ids.item(kind, index: index) }

    /// Records an item's final JSON for the response's `output`, and writes `response.output_item.done`.
    mutating func itemDone(_ item: OpenItem, json: [UInt8], into out: inout [UInt8]) {
        if !output.isEmpty { output.append(UInt8(ascii: ",")) }
        output.append(contentsOf: json)
        begin("response.output_item.done", into: &out)
        ResponseObjectWriter.append(#","output_index":"#, to: &out)
        ChunkBytes.append(item.outputIndex, to: &out)
        ResponseObjectWriter.append(#","item":"#, to: &out)
        out.append(contentsOf: json)
        closeEvent(into: &out)
    }
}

/// The output items of a Responses stream: one per upstream content block that is output, opened at the
/// block's start, fed by its deltas and finished at its stop.
extension ResponsesEventStream {
    /// `content_block_start`; `block`'s picked fields: type, text, id, name, thinking, signature.
    mutating func start(_ block: FieldPicker, raw: UnsafeRawBufferPointer, upstreamIndex: Int, into out: inout [UInt8])
    {
        let kind: OutputItemKind
        var callID = ""
        let redacted = block.isString(block[0], "redacted_thinking")
        if block.isString(block[0], "text") {
            kind = .message
        } else if block.isString(block[0], "tool_use") {
            let name = block.string(block[3]) ?? ""
            callID = block.string(block[2]) ?? ""
            if name == context.outputTool {
                kind = .structuredOutput
            } else if let client = context.toolNames[name] {
                kind = client.kind == .custom ? .customToolCall(client) : .functionCall(client)
            } else {
                kind = .functionCall(ClientToolName(kind: .function, name: name, namespace: nil))
            }
        } else if redacted || block.isString(block[0], "thinking") {
            kind = .reasoning
        } else {
            return  // server tool blocks and types added later are not output
        }
        let index = nextOutputIndex()
        let id = itemID(kind, index: index)
        var item = OpenItem(
            upstreamIndex: upstreamIndex, kind: kind, outputIndex: index, id: id,
            fields: Self.itemFields(id: id, outputIndex: index))
        item.callID = callID
        item.redacted = redacted
        if redacted { item.raw.append(contentsOf: raw) }

        var json: [UInt8] = []
        swap(&json, &scratch)
        json.removeAll(keepingCapacity: true)
        writeItem(item, done: false, into: &json)
        begin("response.output_item.added", into: &out)
        ResponseObjectWriter.append(#","output_index":"#, to: &out)
        ChunkBytes.append(index, to: &out)
        ResponseObjectWriter.append(#","item":"#, to: &out)
        out.append(contentsOf: json)
        closeEvent(into: &out)
        scratch = json

        switch kind {
        case .message, .structuredOutput:
            begin("response.content_part.added", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","content_index":0,"part":"#, to: &out)
            ResponseObjectWriter.outputText([], into: &out)
            closeEvent(into: &out)
        case .reasoning where !redacted:
            begin("response.reasoning_summary_part.added", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","summary_index":0,"part":"#, to: &out)
            ResponseObjectWriter.summaryText([], into: &out)
            closeEvent(into: &out)
        default:
            break
        }
        // A start block may already hold text (Anthropic sends it empty, but need not).
        if kind == .message, let text = block[1], text.kind == .string, !block.isEmptyString(text) {
            appendText(text, in: block, to: &item, into: &out)
        } else if kind == .reasoning, !redacted {
            if let thinking = block[4], thinking.kind == .string, !block.isEmptyString(thinking) {
                appendText(thinking, in: block, to: &item, into: &out)
            }
            if let signature = block[5], signature.kind == .string {
                block.appendStringContent(signature, to: &item.signature)
            }
        }
        open.append(item)
    }

    /// `content_block_delta`; `delta`'s picked fields: type, text, partial_json, thinking, signature.
    mutating func delta(_ delta: FieldPicker, slot: Int, into out: inout [UInt8]) {
        // Moved out while it grows, so its buffers stay uniquely referenced.
        var item = open.remove(at: slot)
        defer { open.insert(item, at: slot) }
        switch item.kind {
        case .message:
            guard delta.isString(delta[0], "text_delta"), let text = delta[1], text.kind == .string,
                !delta.isEmptyString(text)
            else { return }
            appendText(text, in: delta, to: &item, into: &out)
        case .reasoning:
            if delta.isString(delta[0], "thinking_delta"), let text = delta[3], text.kind == .string,
                !delta.isEmptyString(text)
            {
                appendText(text, in: delta, to: &item, into: &out)
            } else if delta.isString(delta[0], "signature_delta"), let signature = delta[4], signature.kind == .string {
                delta.appendStringContent(signature, to: &item.signature)
            }
        case .structuredOutput, .functionCall, .customToolCall:
            guard delta.isString(delta[0], "input_json_delta"), let piece = delta[2], piece.kind == .string,
                !delta.isEmptyString(piece)
            else { return }
            if case .customToolCall = item.kind {
                delta.appendStringContent(piece, to: &item.text)
                decodedScratch.removeAll(keepingCapacity: true)
                JSONReader.unescape(
                    UnsafeRawBufferPointer(
                        rebasing: delta.bytes[(piece.range.lowerBound + 1)..<(piece.range.upperBound - 1)]),
                    into: &decodedScratch)
                var escaped: [UInt8] = []
                swap(&escaped, &scratch)
                escaped.removeAll(keepingCapacity: true)
                decodedScratch.withUnsafeBytes { item.custom.feed($0, into: &escaped) }
                if !escaped.isEmpty { writeInputDelta(escaped, item: item, into: &out) }
                scratch = escaped
            } else {
                appendText(piece, in: delta, to: &item, into: &out)
            }
        }
    }

    /// Adds a piece to the item's text and writes its delta event.
    private mutating func appendText(
        _ piece: PickedValue, in fields: FieldPicker, to item: inout OpenItem, into out: inout [UInt8]
    ) {
        let before = item.text.count
        fields.appendStringContent(piece, to: &item.text)
        switch item.kind {
        case .message, .structuredOutput:
            begin("response.output_text.delta", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","content_index":0,"delta":""#, to: &out)
        case .functionCall:
            begin("response.function_call_arguments.delta", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","delta":""#, to: &out)
        case .reasoning:
            begin("response.reasoning_summary_text.delta", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","summary_index":0,"delta":""#, to: &out)
        case .customToolCall:
            return
        }
        out.append(contentsOf: item.text[before...])
        if item.kind == .message || item.kind == .structuredOutput {
            ResponseObjectWriter.append(#"","logprobs":[]"#, to: &out)
        } else {
            out.append(UInt8(ascii: "\""))
        }
        closeEvent(into: &out)
    }

    private mutating func writeInputDelta(_ escaped: [UInt8], item: OpenItem, into out: inout [UInt8]) {
        begin("response.custom_tool_call_input.delta", into: &out)
        itemFields(item, into: &out)
        ResponseObjectWriter.append(#","delta":""#, to: &out)
        out.append(contentsOf: escaped)
        ResponseObjectWriter.append("\"", to: &out)
        closeEvent(into: &out)
    }

    /// `content_block_stop` (or the message's end): the `.done` events and `response.output_item.done`.
    mutating func finish(_ item: OpenItem, into out: inout [UInt8]) {
        var item = item
        switch item.kind {
        case .message, .structuredOutput:
            begin("response.output_text.done", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","content_index":0,"text":""#, to: &out)
            out.append(contentsOf: item.text)
            ResponseObjectWriter.append(#"","logprobs":[]"#, to: &out)
            closeEvent(into: &out)
            begin("response.content_part.done", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","content_index":0,"part":"#, to: &out)
            ResponseObjectWriter.outputText(item.text, into: &out)
            closeEvent(into: &out)
        case .functionCall(let name):
            if item.text.isEmpty {
                // A call without arguments streams none; its arguments are an empty object.
                item.text.append(contentsOf: "{}".utf8)
                begin("response.function_call_arguments.delta", into: &out)
                itemFields(item, into: &out)
                ResponseObjectWriter.append(#","delta":"{}""#, to: &out)
                closeEvent(into: &out)
            }
            begin("response.function_call_arguments.done", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","name":"#, to: &out)
            JSON.writeString(name.name, to: &out)
            ResponseObjectWriter.append(#","arguments":""#, to: &out)
            out.append(contentsOf: item.text)
            ResponseObjectWriter.append("\"", to: &out)
            closeEvent(into: &out)
        case .customToolCall:
            let input = Self.customInput(item.text)
            if !item.custom.streamed && !input.isEmpty {
                writeInputDelta(input, item: item, into: &out)
            }
            item.text = input
            begin("response.custom_tool_call_input.done", into: &out)
            itemFields(item, into: &out)
            ResponseObjectWriter.append(#","input":""#, to: &out)
            out.append(contentsOf: input)
            ResponseObjectWriter.append("\"", to: &out)
            closeEvent(into: &out)
        case .reasoning:
            if !item.redacted {
                begin("response.reasoning_summary_text.done", into: &out)
                itemFields(item, into: &out)
                ResponseObjectWriter.append(#","summary_index":0,"text":""#, to: &out)
                out.append(contentsOf: item.text)
                ResponseObjectWriter.append("\"", to: &out)
                closeEvent(into: &out)
                begin("response.reasoning_summary_part.done", into: &out)
                itemFields(item, into: &out)
                ResponseObjectWriter.append(#","summary_index":0,"part":"#, to: &out)
                ResponseObjectWriter.summaryText(item.text, into: &out)
                closeEvent(into: &out)
            }
        }
        var json: [UInt8] = []
        swap(&json, &scratch)
        json.removeAll(keepingCapacity: true)
        writeItem(item, done: true, into: &json)
        itemDone(item, json: json, into: &out)
        scratch = json
    }

    /// The item's JSON: as added (`in_progress`: no content yet) or as done (`completed`: all of it).
    private func writeItem(_ item: OpenItem, done: Bool, into out: inout [UInt8]) {
        let status: StaticString = done ? "completed" : "in_progress"
        switch item.kind {
        case .message, .structuredOutput:
            ResponseObjectWriter.message(id: item.id, status: status, text: done ? item.text : nil, into: &out)
        case .functionCall, .customToolCall:
            ResponseObjectWriter.toolCall(
                id: item.id, kind: item.kind, callID: item.callID, status: status, payload: done ? item.text : [],
                into: &out)
        case .reasoning:
            guard done else {
                ResponseObjectWriter.reasoning(id: item.id, status: status, summary: nil, encrypted: nil, into: &out)
                return
            }
            var encrypted: [UInt8]?
            if context.includeEncryptedReasoning {
                var base64: [UInt8] = []
                if item.redacted {
                    item.raw.withUnsafeBytes { ReasoningBlockCodec.encode($0, into: &base64) }
                } else {
                    var block: [UInt8] = []
                    block.reserveCapacity(item.text.count + item.signature.count + 64)
                    block.append(contentsOf: #"{"type":"thinking","thinking":""#.utf8)
                    block.append(contentsOf: item.text)
                    block.append(contentsOf: #"","signature":""#.utf8)
                    block.append(contentsOf: item.signature)
                    block.append(contentsOf: #""}"#.utf8)
                    block.withUnsafeBytes { ReasoningBlockCodec.encode($0, into: &base64) }
                }
                encrypted = base64
            }
            ResponseObjectWriter.reasoning(
                id: item.id, status: status, summary: item.redacted ? nil : item.text, encrypted: encrypted, into: &out)
        }
    }

    /// A custom tool's input, escaped, from its whole arguments (escaped JSON text): the `input` string of
    /// `{"input": ...}`; else the arguments themselves (a model that answered in another shape).
    static func customInput(_ escapedArguments: [UInt8]) -> [UInt8] {
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: escapedArguments)
        quoted.append(UInt8(ascii: "\""))
        guard let text = (try? JSONParser.parse(quoted))?.stringValue,
            let arguments = try? JSONParser.parse(Array(text.utf8)), let input = arguments["input"]?.stringValue
        else { return escapedArguments }
        return ResponseObjectWriter.escaped(input)
    }
}

/// Writes Anthropic stream events (`event: <type>\ndata: <json>\n\n`) straight into the output buffer:
/// static ASCII for the fixed parts, integers and escaped strings for the rest. No tree per event.
enum AnthropicEventBytes {
    static func messageStart(id: String, model: String, into out: inout [UInt8]) {
        ChunkBytes.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":", to: &out)
        ChunkBytes.appendString(id, to: &out)
        ChunkBytes.append(",\"type\":\"message\",\"role\":\"assistant\",\"model\":", to: &out)
        ChunkBytes.appendString(model, to: &out)
        // Input tokens are a placeholder: OpenAI reports usage only at the end (see `messageDelta`).
        ChunkBytes.append(",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":", to: &out)
        OpenAIUsage().writeAnthropic(into: &out)
        ChunkBytes.append("}}\n\n", to: &out)
    }

    static func textBlockStart(index: Int, into out: inout [UInt8]) {
        ChunkBytes.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":", to: &out)
        ChunkBytes.append(index, to: &out)
        ChunkBytes.append(",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n", to: &out)
    }

    static func toolBlockStart(index: Int, id: String, name: String, into out: inout [UInt8]) {
        ChunkBytes.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":", to: &out)
        ChunkBytes.append(index, to: &out)
        ChunkBytes.append(",\"content_block\":{\"type\":\"tool_use\",\"id\":", to: &out)
        ChunkBytes.appendString(id, to: &out)
        ChunkBytes.append(",\"name\":", to: &out)
        ChunkBytes.appendString(name, to: &out)
        ChunkBytes.append(",\"input\":{}}}\n\n", to: &out)
    }

    /// Everything of a `text_delta` event before its JSON string literal; `deltaEnd` closes it.
    static func textDeltaStart(index: Int, into out: inout [UInt8]) {
        ChunkBytes.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":", to: &out)
        ChunkBytes.append(index, to: &out)
        ChunkBytes.append(",\"delta\":{\"type\":\"text_delta\",\"text\":", to: &out)
    }

    /// Everything of an `input_json_delta` event before its JSON string literal; `deltaEnd` closes it.
    static func inputJSONDeltaStart(index: Int, into out: inout [UInt8]) {
        ChunkBytes.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":", to: &out)
        ChunkBytes.append(index, to: &out)
        ChunkBytes.append(",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":", to: &out)
    }

    static func deltaEnd(into out: inout [UInt8]) {
        ChunkBytes.append("}}\n\n", to: &out)
    }

    static func blockStop(index: Int, into out: inout [UInt8]) {
        ChunkBytes.append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":", to: &out)
        ChunkBytes.append(index, to: &out)
        ChunkBytes.append("}\n\n", to: &out)
    }

    /// The final counts go here: Anthropic's `message_delta` usage is cumulative and includes the input.
    static func messageDelta(stopReason: String, usage: OpenAIUsage, into out: inout [UInt8]) {
        ChunkBytes.append(
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":", to: &out)
        ChunkBytes.appendString(stopReason, to: &out)
        ChunkBytes.append(",\"stop_sequence\":null},\"usage\":", to: &out)
        usage.writeAnthropic(into: &out)
        ChunkBytes.append("}\n\n", to: &out)
    }

    static func messageStop(into out: inout [UInt8]) {
        ChunkBytes.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", to: &out)
    }

    static func ping(into out: inout [UInt8]) {
        ChunkBytes.append("event: ping\ndata: {\"type\": \"ping\"}\n\n", to: &out)
    }
}

/// OpenAI token counts, and their Anthropic `usage` form.
///
/// OpenAI counts cached prompt tokens inside `prompt_tokens`; Anthropic reports them apart. So
/// `input_tokens = prompt_tokens - cached_tokens`, `cache_read_input_tokens = cached_tokens`,
/// `cache_creation_input_tokens = 0` (OpenAI caches without a write charge), and `output_tokens =
/// completion_tokens` (reasoning tokens included, as Anthropic counts thinking).
struct OpenAIUsage: Equatable {
    var prompt = 0
    var completion = 0
    var cached = 0

    var input: Int { max(0, prompt &- cached) }

    /// Takes every count present in an OpenAI `usage` object found by a `FieldPicker`.
    mutating func update(from usage: PickedValue?, in picker: FieldPicker) {
        guard let fields = picker.object(usage, "prompt_tokens", "completion_tokens", "prompt_tokens_details") else {
            return
        }
        if let value = fields.int(fields[0]) { prompt = max(0, value) }
        if let value = fields.int(fields[1]) { completion = max(0, value) }
        if let details = fields.object(fields[2], "cached_tokens"), let value = details.int(details[0]) {
            cached = max(0, value)
        }
    }

    /// The same from a parsed `usage` value.
    mutating func update(from usage: JSON?) {
        guard let usage else { return }
        if let value = usage["prompt_tokens"]?.intValue { prompt = max(0, value) }
        if let value = usage["completion_tokens"]?.intValue { completion = max(0, value) }
        if let value = usage["prompt_tokens_details"]?["cached_tokens"]?.intValue { cached = max(0, value) }
    }

    /// `{"input_tokens":…,"cache_creation_input_tokens":0,"cache_read_input_tokens":…,"output_tokens":…}`
    func writeAnthropic(into out: inout [UInt8]) {
        ChunkBytes.append("{\"input_tokens\":", to: &out)
        ChunkBytes.append(input, to: &out)
        ChunkBytes.append(",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":", to: &out)
        ChunkBytes.append(cached, to: &out)
        ChunkBytes.append(",\"output_tokens\":", to: &out)
        ChunkBytes.append(completion, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    var anthropic: JSON {
        .object(
            JSONObject([
                ("input_tokens", .number(JSONNumber(input))), ("cache_creation_input_tokens", 0),
                ("cache_read_input_tokens", .number(JSONNumber(cached))),
                ("output_tokens", .number(JSONNumber(completion))),
            ]))
    }
}

/// OpenAI `finish_reason` → Anthropic `stop_reason`.
///
/// `length` → `max_tokens` and `content_filter` → `refusal` whatever else happened (a call cut by the
/// limit is not a finished call); otherwise any tool call makes it `tool_use` (agents look for it), a
/// refusal makes it `refusal`, and the rest (`stop`, `tool_calls` without a call, unknown, none) is
/// `end_turn`. OpenAI does not say whether a stop sequence ended the text, so `stop_sequence` is never
/// reported.
enum StopReason {
    static func anthropic(finishReason: String?, sawToolCall: Bool, refused: Bool) -> String {
        switch finishReason {
        case "length": return "max_tokens"
        case "content_filter": return "refusal"
        default:
            if sawToolCall { return "tool_use" }
            return refused ? "refusal" : "end_turn"
        }
    }
}

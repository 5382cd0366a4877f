/// Anthropic token counts, and their OpenAI `usage` form.
///
/// OpenAI counts cached prompt tokens inside `prompt_tokens`; Anthropic reports them apart. So
/// `prompt_tokens = input + cache_read + cache_creation` and `cached_tokens = cache_read`.
struct AnthropicUsage: Equatable {
    var input = 0
    var cacheRead = 0
    var cacheCreation = 0
    var output = 0

    /// Takes every count present in an Anthropic `usage` object. In a stream, `message_start` carries
    /// the input counts and `message_delta` the final output count (and, from newer models, input
    /// counts again), so later values replace earlier ones.
    mutating func update(from usage: JSON?) {
        guard let usage else { return }
        if let value = usage["input_tokens"]?.intValue { input = value }
        if let value = usage["cache_read_input_tokens"]?.intValue { cacheRead = value }
        if let value = usage["cache_creation_input_tokens"]?.intValue { cacheCreation = value }
        if let value = usage["output_tokens"]?.intValue { output = value }
    }

    /// The same, from a `usage` value found by a `FieldPicker` (ignored unless it is an object).
    mutating func update(from usage: PickedValue?, in picker: FieldPicker) {
        guard
            let fields = picker.object(
                usage, "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")
        else { return }
        if let value = fields.int(fields[0]) { input = value }
        if let value = fields.int(fields[1]) { cacheRead = value }
        if let value = fields.int(fields[2]) { cacheCreation = value }
        if let value = fields.int(fields[3]) { output = value }
    }

    var promptTokens: Int { input &+ cacheRead &+ cacheCreation }

    /// The OpenAI `usage` object.
    var openAI: JSON {
        .object(
            JSONObject([
                ("prompt_tokens", .number(JSONNumber(promptTokens))),
                ("completion_tokens", .number(JSONNumber(output))),
                ("total_tokens", .number(JSONNumber(promptTokens &+ output))),
                ("prompt_tokens_details", .object(JSONObject([("cached_tokens", .number(JSONNumber(cacheRead)))]))),
            ]))
    }

    /// The same object written straight as bytes, for stream chunks.
    func writeOpenAI(into out: inout [UInt8]) {
        ChunkBytes.append("{\"prompt_tokens\":", to: &out)
        ChunkBytes.append(promptTokens, to: &out)
        ChunkBytes.append(",\"completion_tokens\":", to: &out)
        ChunkBytes.append(output, to: &out)
        ChunkBytes.append(",\"total_tokens\":", to: &out)
        ChunkBytes.append(promptTokens &+ output, to: &out)
        ChunkBytes.append(",\"prompt_tokens_details\":{\"cached_tokens\":", to: &out)
        ChunkBytes.append(cacheRead, to: &out)
        ChunkBytes.append("}}", to: &out)
    }
}

/// Anthropic `stop_reason` → OpenAI `finish_reason`.
enum FinishReason {
    static func openAI(forStopReason stopReason: String) -> String {
        switch stopReason {
        case "end_turn", "stop_sequence", "pause_turn": "stop"
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }
}

/// One event of Claude's stream as a Bedrock upstream sends it, read with `FieldPicker` (no tree): what
/// the two streams that read one (`ChatChunkStream` for OpenAI Chat clients, `ResponsesEventStream` for
/// Responses clients) look at.
enum BedrockStreamEvent {
    /// The event's fields, in this order: 0 type, 1 index, 2 delta, 3 content_block, 4 message, 5 usage,
    /// 6 error, 7 Message. Nil when `value` is not a JSON object.
    @inline(__always)
    static func pick(_ value: UnsafeRawBufferPointer) -> FieldPicker? {
        FieldPicker.pick(value, "type", "index", "delta", "content_block", "message", "usage", "error", "Message")
    }

    /// For an event without a string `type`: Bedrock's exception shape in a data-only stream
    /// (`{"message":"..."}`, or `Message`) as a 502 with its message; nil for anything else (it means
    /// nothing).
    static func exception(_ event: FieldPicker) -> APIError? {
        guard let message = event.string(event[4]) ?? event.string(event[7]) else { return nil }
        return APIError(status: 502, type: "api_error", message: message)
    }
}

/// Reads an OpenAI 400 for something this translation added that the model does not take, so the
/// request can be sent once more without it (`ExchangeTranslator.learnFromRejection`).
///
/// Claude Code always asks for thinking (→ `reasoning_effort`) and large `max_tokens`; the anthropic
/// SDK often sends `temperature`. Models differ: non-reasoning models refuse `reasoning_effort`
/// (`Unsupported parameter: 'reasoning_effort' ...`), reasoning models refuse a `temperature` other than
/// 1, older models cap output (`max_tokens is too large: 128000. This model supports at most 16384
/// completion tokens...`). Recognized, on a 400 only:
/// - an optional hint named by the error's `param`, or quoted in its message (`'temperature'`):
///   `reasoning_effort`, `temperature`, `top_p`, `user` → left out;
/// - a `max_tokens`/`max_completion_tokens` error saying `at most N` → capped at N.
/// Never dropped: constraints whose loss would change what the client asked for (`stop`, tools,
/// `tool_choice`, `parallel_tool_calls`, `response_format`). What was left out is named in
/// `removedForUpstream` for the access log. It applies to this request only: the proxy retries once.
enum OpenAIRejection {
    static let droppable = ["reasoning_effort", "temperature", "top_p", "user"]

    /// The adjustments after this rejection, or nil when it names nothing the request can leave out.
    /// `sent` says what the refused body held.
    static func adjust(
        _ adjustments: UpstreamAdjustments, status: Int, body: [UInt8], sent: SentHints
    ) -> UpstreamAdjustments? {
        guard status == 400, let root = try? JSONParser.parse(body) else { return nil }
        let error = root["error"]
        guard let message = error?["message"]?.stringValue ?? error?.stringValue ?? root["message"]?.stringValue else {
            return nil
        }
        let param = error?["param"]?.stringValue
        let named = param ?? quotedName(in: message)
        var result = adjustments

        let maxTokensNames: Set<String> = ["max_tokens", "max_completion_tokens"]
        let aboutMaxTokens =
            maxTokensNames.contains(named ?? "")
            || message.hasPrefix("max_tokens") || message.hasPrefix("max_completion_tokens")
        if aboutMaxTokens, let limit = atMost(in: message), limit >= 1,
            limit < sent.maxCompletionTokens
        {
            result.maxTokensCap = limit
            return result
        }
        if let named, droppable.contains(named), sent.droppable.contains(named), !result.dropped.contains(named) {
            result.dropped.append(named)
            return result
        }
        return nil
    }

    /// The first `'name'` in `message` made only of lowercase letters and underscores.
    static func quotedName(in message: String) -> String? {
        let bytes = Array(message.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "'") {
                var j = i + 1
                while j < bytes.count, bytes[j] == UInt8(ascii: "_") || (bytes[j] >= 0x61 && bytes[j] <= 0x7A) {
                    j += 1
                }
                if j < bytes.count, bytes[j] == UInt8(ascii: "'"), j > i + 1 {
                    return String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
                }
            }
            i += 1
        }
        return nil
    }

    /// N in `at most N`.
    static func atMost(in message: String) -> Int? {
        let bytes = Array(message.utf8)
        let key = Array("at most ".utf8)
        guard bytes.count > key.count else { return nil }
        for start in 0...(bytes.count - key.count) where bytes[start..<(start + key.count)].elementsEqual(key) {
            var value = 0
            var i = start + key.count
            var digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, digits < 12 {
                value = value * 10 + Int(bytes[i] - 0x30)
                i += 1
                digits += 1
            }
            if digits > 0 { return value }
        }
        return nil
    }
}

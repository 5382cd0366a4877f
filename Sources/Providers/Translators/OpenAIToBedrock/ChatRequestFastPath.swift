#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The common OpenAI chat request (text messages, token limit, sampling numbers, stream flags) mapped
/// straight from its bytes to the Anthropic body, without a `JSON` tree.
///
/// Why a second path: building the tree and writing it back was most of the cost of a request. This path
/// only accepts requests it can map completely and that `ChatRequestMapping` would accept; for anything
/// else (tools, content parts, tool messages, `null`s, escaped keys, any field it does not know, any
/// invalid value) it returns nil and the caller runs `ChatRequestMapping`, which maps the rest and
/// produces every error message. So its output must be, and is tested to be, byte-identical to that
/// mapping's for the requests it takes.
struct ChatRequestFastPath {
    var model: String
    var stream: Bool
    var includeUsage: Bool
    /// The client's `model` value as written (quotes included).
    var modelRange: Range<Int>? = nil
    var path: String
    var body: [UInt8]

    static func map(_ bytes: [UInt8], options: TranslationOptions) -> ChatRequestFastPath? {
        bytes.withUnsafeBytes { map($0, options: options) }
    }

    private static func map(_ bytes: UnsafeRawBufferPointer, options: TranslationOptions) -> ChatRequestFastPath? {
        var root = RootFields(bytes: bytes)
        guard JSONObjectScanner.fastScanMembers(bytes, into: &root) != nil, !root.fallback else { return nil }
        let fields = root.fields
        guard let model = fields.string(fields[0]), !model.isEmpty else { return nil }

        // Messages: every one an object with a known role and string content.
        guard let messagesValue = fields[1], messagesValue.kind == .array, let base = bytes.baseAddress else { return nil }
        /// Text pieces in message order: role (0 system, 1 user, 2 assistant) and the content's range.
        var pieces: [(role: UInt8, text: Range<Int>)] = []
        pieces.reserveCapacity(8)
        var systemCount = 0
        var turnCount = 0
        var lastTurnRole: UInt8 = 0
        // The array was validated with the whole body: walk its elements in place.
        let end = messagesValue.range.upperBound
        var next = JSONFastScan.whitespace(
            base.assumingMemoryBound(to: UInt8.self), end, messagesValue.range.lowerBound + 1)
        while next < end - 1 {
            guard let message = FieldPicker.walk(bytes, at: &next, end: end, "role", "content", "tool_calls")
            else { return nil }
            guard message[2] == nil, let content = message[1], content.kind == .string else { return nil }
            let role: UInt8
            if message.isString(message[0], "user") {
                role = 1
            } else if message.isString(message[0], "assistant") {
                role = 2
            } else if message.isString(message[0], "system") || message.isString(message[0], "developer") {
                role = 0
            } else {
                return nil
            }
            if message.isEmptyString(content) { continue }
            pieces.append((role, content.range))
            if role == 0 {
                systemCount += 1
            } else if role != lastTurnRole {
                turnCount += 1
                lastTurnRole = role
            }
        }
        if turnCount == 0 { return nil }

        // Scalars.
        var stream = false
        if let flag = fields[2] {
            guard flag.kind == .bool else { return nil }
            stream = bytes[flag.range.lowerBound] == UInt8(ascii: "t")
        }
        var includeUsage = false
        if let streamOptions = fields[3] {
            guard let options = fields.object(streamOptions, "include_usage") else { return nil }
            if let flag = options[0] {
                guard flag.kind == .bool else { return nil }
                includeUsage = bytes[streamOptions.range.lowerBound + flag.range.lowerBound] == UInt8(ascii: "t")
            }
        }
        var maxTokens = options.defaultMaxTokens
        if let value = fields[4] ?? fields[5] {
            guard let count = fields.int(value), count >= 1 else { return nil }
            maxTokens = count
        }
        if let temperature = fields[6] {
            guard temperature.kind == .number, Self.isUnitInterval(fields.slice(temperature)) else { return nil }
        }
        if let topP = fields[7], topP.kind != .number { return nil }
        if let topK = root.topK, topK.kind != .number { return nil }
        if let user = root.user, user.kind != .string { return nil }
        var stops: [PickedValue] = []
        if let stop = root.stop {
            if stop.kind == .string {
                stops.append(stop)
            } else {
                guard stop.kind == .array, Self.strings(in: stop, bytes, into: &stops) else { return nil }
            }
        }

        guard let path = Self.upstreamPath(model, options: options, stream: stream) else { return nil }

        // The body, in `ChatRequestMapping`'s member order.
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 128)
        ChunkBytes.append("{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":", to: &out)
        ChunkBytes.append(maxTokens, to: &out)
        if systemCount == 1 {
            ChunkBytes.append(",\"system\":", to: &out)
            for piece in pieces where piece.role == 0 { fields.appendString(PickedValue(range: piece.text, kind: .string), to: &out) }
        } else if systemCount > 1 {
            ChunkBytes.append(",\"system\":[", to: &out)
            var first = true
            for piece in pieces where piece.role == 0 {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                appendTextBlock(piece.text, fields, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        ChunkBytes.append(",\"messages\":[", to: &out)
        var openRole: UInt8 = 0
        for piece in pieces where piece.role != 0 {
            if piece.role == openRole {
                out.append(UInt8(ascii: ","))
            } else {
                if openRole != 0 { ChunkBytes.append("]},", to: &out) }
                openRole = piece.role
                if piece.role == 1 {
                    ChunkBytes.append("{\"role\":\"user\",\"content\":[", to: &out)
                } else {
                    ChunkBytes.append("{\"role\":\"assistant\",\"content\":[", to: &out)
                }
            }
            appendTextBlock(piece.text, fields, to: &out)
        }
        ChunkBytes.append("]}]", to: &out)
        if let temperature = fields[6] {
            ChunkBytes.append(",\"temperature\":", to: &out)
            out.append(contentsOf: fields.slice(temperature))
        }
        if let topP = fields[7] {
            ChunkBytes.append(",\"top_p\":", to: &out)
            out.append(contentsOf: fields.slice(topP))
        }
        if let topK = root.topK {
            ChunkBytes.append(",\"top_k\":", to: &out)
            out.append(contentsOf: fields.slice(topK))
        }
        if !stops.isEmpty {
            ChunkBytes.append(",\"stop_sequences\":[", to: &out)
            for (i, stop) in stops.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                fields.appendString(stop, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        if let user = root.user {
            ChunkBytes.append(",\"metadata\":{\"user_id\":", to: &out)
            fields.appendString(user, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return ChatRequestFastPath(model: model, stream: stream, includeUsage: includeUsage, modelRange: fields[0]?.range,
                                   path: path, body: out)
    }

    /// The elements of the (validated) array `array` if every one is a string, as absolute ranges; false
    /// for any other element, which the mapping reports as a type error.
    private static func strings(in array: PickedValue, _ bytes: UnsafeRawBufferPointer, into out: inout [PickedValue]) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let end = array.range.upperBound - 1  // the closing bracket
        var i = JSONFastScan.whitespace(p, end, array.range.lowerBound + 1)
        while i < end {
            guard p[i] == UInt8(ascii: "\"") else { return false }
            let valueEnd = JSONFastScan.value(p, end, i, depth: 1, maxDepth: JSONParser.maxDepth)
            guard valueEnd > i else { return false }
            out.append(PickedValue(range: i..<valueEnd, kind: .string))
            i = JSONFastScan.whitespace(p, end, valueEnd)
            if i < end {
                guard p[i] == UInt8(ascii: ",") else { return false }
                i = JSONFastScan.whitespace(p, end, i + 1)
            }
        }
        return true
    }

    /// The upstream path for `model`, or nil for an id the mapping refuses: one that is empty or only
    /// dots once resolved (`pathSegment` writes `.` and `..` as `%2E` and `%2E%2E` and keeps longer runs of
    /// dots; every other id becomes something else).
    ///
    /// A name with no alias (nearly every request) is resolved and written from its bytes by
    /// `BedrockModelID.path(template:modelBytes:...)`: resolving it as a `String` (prefix checks, two
    /// concatenations) and filling the template cost ~4,500 instructions and 3 allocations per request. Such
    /// a name resolves to only dots exactly when it is only dots: every other form adds `anthropic.` or
    /// keeps a byte that is not a dot.
    static func upstreamPath(_ model: String, options: TranslationOptions, stream: Bool) -> String? {
        if options.modelAliases.isEmpty || (options.modelAliases[model] == nil && options.modelAliases[BedrockModelID.anyModel] == nil) {
            var name = model
            return name.withUTF8 { u -> String? in
                let m = UnsafeRawBufferPointer(u)
                if m.allSatisfy({ $0 == UInt8(ascii: ".") }) { return nil }
                return BedrockModelID.path(template: options.upstreamPath, modelBytes: m, aliases: [:], stream: stream)
            }
        }
        let segment = BedrockModelID.resolve(model, aliases: options.modelAliases)
        if segment == "%2E" || segment == "%2E%2E" || segment.utf8.allSatisfy({ $0 == UInt8(ascii: ".") }) {
            return nil
        }
        return fillPath(options.upstreamPath, segment: segment, stream: stream)
    }

    /// `BedrockModelID.path` with the segment already resolved: `{model}` → the segment, `{action}` →
    /// `invoke` or `invoke-with-response-stream`, every other byte as it is.
    static func fillPath(_ template: String, segment: String, stream: Bool) -> String {
        var template = template
        var segment = segment
        return template.withUTF8 { t in
            segment.withUTF8 { seg in
                let action: StaticString = stream ? "invoke-with-response-stream" : "invoke"
                let actionBytes = UnsafeBufferPointer(start: action.utf8Start, count: action.utf8CodeUnitCount)
                var size = 0
                pathPieces(t, seg, actionBytes) { size += $0.count }
                return String(unsafeUninitializedCapacity: size) { buffer in
                    var written = 0
                    pathPieces(t, seg, actionBytes) { piece in
                        guard let base = buffer.baseAddress, let from = piece.baseAddress else { return }
                        (base + written).update(from: from, count: piece.count)
                        written += piece.count
                    }
                    return written
                }
            }
        }
    }

    /// The template's pieces in order: runs of its bytes, and the segment or action in place of
    /// `{model}` and `{action}`.
    private static func pathPieces(
        _ t: UnsafeBufferPointer<UInt8>, _ segment: UnsafeBufferPointer<UInt8>,
        _ action: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        guard let tp = t.baseAddress else { return }
        let n = t.count
        var copied = 0
        var i = 0
        while i < n {
            guard tp[i] == UInt8(ascii: "{") else {
                i += 1
                continue
            }
            let model = n - i >= 7 && memcmp(tp + i, "{model}", 7) == 0
            guard model || (n - i >= 8 && memcmp(tp + i, "{action}", 8) == 0) else {
                i += 1
                continue
            }
            body(UnsafeBufferPointer(rebasing: t[copied..<i]))
            body(model ? segment : action)
            i += model ? 7 : 8
            copied = i
        }
        body(UnsafeBufferPointer(rebasing: t[copied..<n]))
    }

    /// True when the JSON number `literal` is in 0...1 as a `Double` (the mapping's temperature rule).
    /// `0`, `0.ddd` and `1`, `1.000` are accepted on the bytes; other forms are parsed.
    static func isUnitInterval(_ literal: UnsafeRawBufferPointer) -> Bool {
        if let first = literal.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") {
            var simple = true
            var allZero = true
            for (k, c) in literal.enumerated() where k > 0 {
                if k == 1 {
                    if c != UInt8(ascii: ".") { simple = false; break }
                } else if c &- 0x30 >= 10 {
                    simple = false
                    break
                } else if c != UInt8(ascii: "0") {
                    allZero = false
                }
            }
            // `1.0…01` can still round to 1: only the sure answers are taken here.
            if simple && (first == UInt8(ascii: "0") || allZero) { return true }
        }
        guard let value = Double(String(decoding: literal, as: UTF8.self)) else { return false }
        return value >= 0 && value <= 1
    }

    private static func appendTextBlock(_ text: Range<Int>, _ fields: FieldPicker, to out: inout [UInt8]) {
        ChunkBytes.append("{\"type\":\"text\",\"text\":", to: &out)
        fields.appendString(PickedValue(range: text, kind: .string), to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The top-level members: the first of each handled name (as `JSONObject`'s subscript reads them),
    /// and `fallback` for any member this path does not map, a `null` in a handled one, or an escaped key.
    private struct RootFields: JSONMemberVisitor {
        let bytes: UnsafeRawBufferPointer
        /// 0 model, 1 messages, 2 stream, 3 stream_options, 4 max_completion_tokens, 5 max_tokens,
        /// 6 temperature, 7 top_p.
        var fields: FieldPicker
        var topK: PickedValue?
        /// `user` (→ `metadata.user_id`) and `stop` (→ `stop_sequences`): common in SDK requests.
        var user: PickedValue?
        var stop: PickedValue?
        var fallback = false

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            fields = FieldPicker(
                bytes, "model", "messages", "stream", "stream_options", "max_completion_tokens", "max_tokens",
                "temperature", "top_p")
        }

        /// The first member of a name wins; a `null` is left to the mapping.
        private static func pick(_ member: JSONMemberSpan, into slot: inout PickedValue?, fallback: inout Bool) {
            if member.kind == .null { fallback = true }
            if slot == nil { slot = PickedValue(range: member.valueRange, kind: member.kind) }
        }

        mutating func member(_ member: JSONMemberSpan) {
            if member.keyEscaped {
                fallback = true
                return
            }
            if fields.take(member) {
                if member.kind == .null { fallback = true }
                return
            }
            if member.keyIs("top_k", in: bytes) { return Self.pick(member, into: &topK, fallback: &fallback) }
            if member.keyIs("user", in: bytes) { return Self.pick(member, into: &user, fallback: &fallback) }
            if member.keyIs("stop", in: bytes) { return Self.pick(member, into: &stop, fallback: &fallback) }
            // Fields `ChatRequestMapping` reads (refuses, checks or maps) that this path leaves to it.
            let n = member.keyRange.count - 2
            guard n >= 1, n <= 21 else { return }
            if member.keyIs("n", in: bytes) || member.keyIs("logprobs", in: bytes)
                || member.keyIs("top_logprobs", in: bytes) || member.keyIs("response_format", in: bytes)
                || member.keyIs("modalities", in: bytes) || member.keyIs("audio", in: bytes)
                || member.keyIs("functions", in: bytes) || member.keyIs("function_call", in: bytes)
                || member.keyIs("tools", in: bytes) || member.keyIs("tool_choice", in: bytes)
                || member.keyIs("parallel_tool_calls", in: bytes) || member.keyIs("thinking", in: bytes)
            {
                fallback = true
            }
        }
    }
}

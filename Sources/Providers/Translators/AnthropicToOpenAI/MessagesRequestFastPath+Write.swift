/// The fast path's end: the top-level fields checked as `MessagesRequestMapping` checks them, the notes
/// in its order, and the upstream body written in its member order from the pieces the scan noted.
extension MessagesRequestFastPath {
    mutating func finish(options: TranslationOptions, adjustments: UpstreamAdjustments) -> Result? {
        guard model.start >= 0, maxTokens.start >= 0, seen & (1 << Field.messages.rawValue) != 0,
            var tokens = int(maxTokens), tokens >= 1
        else { return nil }
        if let cap = adjustments.maxTokensCap, tokens > cap { tokens = cap }
        let modelName = Self.string(bytes, model.inner)
        let upstreamModel = MessagesRequestMapping.upstreamModel(modelName, aliases: options.modelAliases)
        let isStream = stream.present && p[stream.start] == 0x74

        var user = Value()
        if userID.isString && userID.end - userID.start > 2 {
            let id = JSONObjectScanner.decodeString(bytes, at: userID.start..<userID.end) ?? ""
            if id.count > MessagesRequestMapping.openAIUserMaxLength {
                metadataNotes.add("field metadata.user_id (longer than OpenAI's 64-character user)")
            } else {
                user = userID
            }
        }
        let reasoningEffort = effort ?? thinkingEffort
        let responseSchema = format.present ? format : formatFallback

        // What may be left out on a retry (`OpenAIRejection`), and what was.
        var dropped: [String] = []
        var sent = SentHints(maxCompletionTokens: tokens)
        for name in OpenAIRejection.droppable {
            let present: Bool
            switch name {
            case "reasoning_effort": present = reasoningEffort != nil
            case "temperature": present = temperature.present
            case "top_p": present = topP.present
            default: present = user.present
            }
            guard present else { continue }
            if adjustments.dropped.contains(name) { dropped.append(name) } else { sent.droppable.append(name) }
        }

        var notes = RemovedNotes()
        for list in [systemNotes, messageNotes, metadataNotes, toolNotes] {
            for phrase in list.list { notes.add(phrase) }
        }
        if choice.start >= 0 && toolCount == 0 { notes.add("field tool_choice (no tools)") }
        for list in [configNotes, fieldNotes] {
            for phrase in list.list { notes.add(phrase) }
        }
        for name in adjustments.dropped where dropped.contains(name) {
            notes.add("field \(name) (refused by the upstream)")
        }
        if adjustments.maxTokensCap != nil { notes.add("max_tokens above the upstream's limit") }

        // The body, in the mapping's member order.
        var out: [UInt8] = []
        out.reserveCapacity(n + n / 8 + 1024)
        append(#"{"model":"#, to: &out)
        JSON.writeString(upstreamModel, to: &out)
        append(#","messages":["#, to: &out)
        if systemHasText {
            append(#"{"role":"system","content":""#, to: &out)
            write(system, skippingComma: false, to: &out)
            append(#""}"#, to: &out)
        }
        write(messages, skippingComma: !systemHasText, to: &out)
        append(#"],"max_completion_tokens":"#, to: &out)
        out.append(contentsOf: String(tokens).utf8)
        if isStream { append(#","stream":true,"stream_options":{"include_usage":true}"#, to: &out) }
        if temperature.present && !dropped.contains("temperature") {
            append(#","temperature":"#, to: &out)
            copy(temperature.start, temperature.end, to: &out)
        }
        if topP.present && !dropped.contains("top_p") {
            append(#","top_p":"#, to: &out)
            copy(topP.start, topP.end, to: &out)
        }
        if !stops.isEmpty {
            append(#","stop":["#, to: &out)
            for (k, stop) in stops.enumerated() {
                if k > 0 { out.append(0x2C) }
                copy(stop.lowerBound, stop.upperBound, to: &out)
            }
            out.append(0x5D)
        }
        if user.present && !dropped.contains("user") {
            append(#","user":"#, to: &out)
            copy(user.start, user.end, to: &out)
        }
        if toolCount > 0 {
            append(#","tools":["#, to: &out)
            write(tools, skippingComma: true, to: &out)
            out.append(0x5D)
            if choice.start >= 0 {
                switch choiceType {
                case "auto": append(#","tool_choice":"auto""#, to: &out)
                case "any": append(#","tool_choice":"required""#, to: &out)
                case "none": append(#","tool_choice":"none""#, to: &out)
                default:
                    append(#","tool_choice":{"type":"function","function":{"name":"#, to: &out)
                    copy(choiceName.start, choiceName.end, to: &out)
                    append("}}", to: &out)
                }
                if disableParallel && choiceType != "none" { append(#","parallel_tool_calls":false"#, to: &out) }
            }
        }
        if let reasoningEffort, !dropped.contains("reasoning_effort") {
            append(#","reasoning_effort":""#, to: &out)
            append(reasoningEffort, to: &out)
            out.append(0x22)
        }
        if responseSchema.present {
            append(#","response_format":{"type":"json_schema","json_schema":{"name":"response","schema":"#, to: &out)
            copy(responseSchema.start, responseSchema.end, to: &out)
            append(#","strict":true}}"#, to: &out)
        }
        out.append(0x7D)

        var request = UpstreamRequest(
            path: options.upstreamPath, body: out, stream: isStream,
            accept: isStream ? "text/event-stream" : "application/json")
        request.clientModel = model.start..<model.end
        return Result(
            request: request, model: modelName, upstreamModel: upstreamModel, removed: notes.list, sent: sent)
    }

    /// The pieces of a section in order; `skippingComma` leaves out the comma that leads its first piece.
    private func write(_ section: Range<Int>, skippingComma: Bool, to out: inout [UInt8]) {
        var skip = skippingComma
        for k in section {
            switch pieces[k] {
            case .body(let from, let to):
                copy(from, to, to: &out)
            case .quoted(let from, let to):
                JSON.writeString(utf8: UnsafeRawBufferPointer(rebasing: bytes[from..<to]), to: &out)
            case .text(let s):
                let drop = skip ? 1 : 0
                out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start + drop, count: s.utf8CodeUnitCount - drop))
            case .imageNote(let count):
                append("[", to: &out)
                out.append(contentsOf: String(count).utf8)
                append(count == 1 ? " image" : " images", to: &out)
                append(" of this result follow in the next user message]", to: &out)
            }
            skip = false
        }
    }

    @inline(__always) private func copy(_ from: Int, _ to: Int, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: p + from, count: to - from))
    }

    @inline(__always) private func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

/// What the upstream body held that `OpenAIRejection` may leave out on a retry, and its token limit.
struct SentHints: Equatable {
    /// The names of `OpenAIRejection.droppable` that were sent.
    var droppable: [String] = []
    var maxCompletionTokens = 0

    init(maxCompletionTokens: Int) { self.maxCompletionTokens = maxCompletionTokens }

    init(body: JSONObject) {
        droppable = OpenAIRejection.droppable.filter { body[$0] != nil }
        maxCompletionTokens = body["max_completion_tokens"]?.intValue ?? 0
    }
}

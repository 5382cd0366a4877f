#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fast path's `input`: `ResponsesInputMapping`'s rules on the bytes. Each content part becomes a
/// block of pieces as it is read; turns are placed when an item ends.
extension ResponsesRequestFastPath {
    enum ItemType { case message, functionCall, customToolCall, toolOutput, reasoning, hosted }

    /// Reads `input` at `i` (its first occurrence); sets `inputEnd`. False: the mapping must run.
    mutating func input(at start: Int) -> Bool {
        var i = start
        if p[i] == 0x22 {
            guard let s = value(i, depth: 1) else { return false }
            if s.end - s.start > 2 {
                let b = textBlock(s, turn: -2)
                appendTurn(assistant: false, b..<(b + 1))
            }
            inputEnd = s.end
            return true
        }
        guard let any = openArray(&i) else { return false }
        if any {
            while true {
                guard item(&i) else { return false }
                guard let more = nextElement(&i) else { return false }
                if !more { break }
            }
        }
        inputEnd = i
        return true
    }

    /// One input item at `i`; moves past it.
    private mutating func item(_ i: inout Int) -> Bool {
        // `{}` has neither a type nor a role: the mapping's error.
        guard openObject(&i) == true else { return false }
        var type: Slot?
        var role: Slot?
        var content: Slot?
        var name: Slot?
        var arguments: Slot?
        var callID: Slot?
        var namespace: Slot?
        var inputText: Slot?
        var output: Slot?
        var encrypted: Slot?
        /// Blocks made from `content` or `output` while the item was read.
        var made: Range<Int>?
        var resultBlock = -1
        var madeAs: ItemType?
        var madeRole: UInt8 = 0
        var madeMark = mark()
        while true {
            guard let k = key(&i) else { return false }
            var slot: Slot
            if keyIs(k, "content"), content == nil, let t = knownType(type, role), t.0 == .message, t.1 != 0 {
                // The usual order (`type`, `role`, `content`): the parts are read once, here.
                madeMark = mark()
                let first = blocks.count
                guard let end = contentParts(i, depth: 3, allowed: t.1, inline: false) else { return false }
                made = first..<blocks.count
                madeAs = .message
                madeRole = t.1
                slot = Slot(start: i, end: end, canonical: true, escaped: false)
            } else if keyIs(k, "output"), output == nil, let t = knownType(type, role), t.0 == .toolOutput {
                madeMark = mark()
                guard let result = toolResult(outputAt: i) else { return false }
                let end = result.end
                resultBlock = result.block
                madeAs = .toolOutput
                slot = Slot(start: i, end: end, canonical: true, escaped: false)
            } else {
                guard let v = value(i, depth: 3) else { return false }
                slot = v
            }
            i = slot.end
            if keyIs(k, "type") {
                if type == nil { type = slot }
            } else if keyIs(k, "role") {
                if role == nil { role = slot }
            } else if keyIs(k, "content") {
                if content == nil { content = slot }
            } else if keyIs(k, "name") {
                if name == nil { name = slot }
            } else if keyIs(k, "arguments") {
                if arguments == nil { arguments = slot }
            } else if keyIs(k, "call_id") {
                if callID == nil { callID = slot }
            } else if keyIs(k, "namespace") {
                if namespace == nil { namespace = slot }
            } else if keyIs(k, "input") {
                if inputText == nil { inputText = slot }
            } else if keyIs(k, "output") {
                if output == nil { output = slot }
            } else if keyIs(k, "encrypted_content") {
                if encrypted == nil { encrypted = slot }
            }
            guard let more = nextMember(&i) else { return false }
            if !more { break }
        }
        guard let (kind, roleCode) = knownType(type, role) else { return false }
        // What was read ahead under an assumption the whole item did not confirm is taken back.
        if madeAs != nil && (madeAs != kind || (kind == .message && madeRole != roleCode)) {
            reset(madeMark)
            made = nil
            resultBlock = -1
            madeAs = nil
        }
        switch kind {
        case .message:
            guard roleCode != 0 else { return false }
            if made == nil {
                let first = blocks.count
                if let content, p[content.start] != 0x6E {
                    guard contentParts(content.start, depth: 3, allowed: roleCode, inline: false) != nil else {
                        return false
                    }
                }
                made = first..<blocks.count
            }
            guard let made else { return false }
            if roleCode == 1 {
                for b in made { blocks[b].turn = -1 }
                systemBlocks.append(contentsOf: made)
            } else {
                appendTurn(assistant: roleCode == 3, made)
            }
        case .functionCall, .customToolCall:
            guard let name, let callID, p[name.start] == 0x22, p[callID.start] == 0x22 else { return false }
            var space: String?
            if let namespace, p[namespace.start] != 0x6E {
                guard let text = decode(namespace) else { return false }
                space = text
            }
            guard let nameText = decode(name) else { return false }
            let start = beginBlock()
            lit(#"{"type":"tool_use","id":"#)
            string(callID)
            lit(#","name":"#)
            writeString(ResponsesToolMapping.upstreamName(namespace: space, name: nameText))
            if kind == .functionCall {
                guard let arguments, p[arguments.start] == 0x22 else { return false }
                lit(#","input":"#)
                guard toolInput(arguments) else { return false }
                lit("}")
            } else {
                guard let inputText, p[inputText.start] == 0x22 else { return false }
                lit(#","input":{"input":"#)
                string(inputText)
                lit("}}")
            }
            let b = endBlock(start, .toolUse)
            appendTurn(assistant: true, b..<(b + 1))
        case .toolOutput:
            guard let callID, p[callID.start] == 0x22 else { return false }
            if resultBlock < 0 {
                guard let output, let result = toolResult(outputAt: output.start) else { return false }
                resultBlock = result.block
            }
            // The id goes where `toolResult` left room for it.
            let holder = blocks[resultBlock].pieces.lowerBound + 1
            if callID.canonical {
                pieces[holder] = Piece(lo: callID.start, hi: callID.end, side: false)
            } else {
                let lo = side.count
                if let text = decode(callID) { JSON.writeString(text, to: &side) }
                pieces[holder] = Piece(lo: lo, hi: side.count, side: true)
            }
            appendToolResult(resultBlock)
        case .reasoning:
            if let encrypted, p[encrypted.start] != 0x6E {
                guard p[encrypted.start] == 0x22 else { return false }
                let decoded: [UInt8]?
                if encrypted.escaped {
                    decoded = decode(encrypted).flatMap { ReasoningBlockCodec.decode($0) }
                } else {
                    let text = UnsafeRawBufferPointer(rebasing: bytes[(encrypted.start + 1)..<(encrypted.end - 1)])
                    decoded = ReasoningBlockCodec.Base64.decode(text)
                }
                if let block = decoded, Self.isThinkingBlock(block) {
                    let start = beginBlock()
                    let lo = side.count
                    side.append(contentsOf: block)
                    sideWritten(from: lo)
                    pending.append(endBlock(start, .thinking))
                    return true
                }
            }
            note("reasoning items Claude cannot read")
        case .hosted:
            guard let type, let text = decode(type) else { return false }
            note("input item \(text)")
        }
        return true
    }

    /// The item's type from its `type` (or, without one, its `role`), with the role of a message:
    /// 1 system or developer, 2 user, 3 assistant, 0 not known yet or not a message. Nil: the mapping.
    private func knownType(_ type: Slot?, _ role: Slot?) -> (ItemType, UInt8)? {
        var kind: ItemType
        if let type, p[type.start] != 0x6E {
            guard p[type.start] == 0x22, !type.escaped else { return nil }
            if isString(type, "message") {
                kind = .message
            } else if isString(type, "function_call") {
                kind = .functionCall
            } else if isString(type, "function_call_output") || isString(type, "custom_tool_call_output") {
                kind = .toolOutput
            } else if isString(type, "reasoning") {
                kind = .reasoning
            } else if isString(type, "custom_tool_call") {
                kind = .customToolCall
            } else if let text = decode(type), ResponsesInputMapping.hostedItemTypes.contains(text) {
                kind = .hosted
            } else {
                return nil
            }
        } else if role != nil {
            kind = .message
        } else {
            return nil
        }
        guard kind == .message, let role, p[role.start] == 0x22, !role.escaped else { return (kind, 0) }
        if isString(role, "user") { return (kind, 2) }
        if isString(role, "assistant") { return (kind, 3) }
        if isString(role, "system") || isString(role, "developer") { return (kind, 1) }
        return nil
    }

    static func isThinkingBlock(_ block: [UInt8]) -> Bool {
        block.withUnsafeBytes { buffer in
            guard let picked = FieldPicker.pick(buffer, "type") else { return false }
            return picked.isString(picked[0], "thinking") || picked.isString(picked[0], "redacted_thinking")
        }
    }

    /// `arguments` as the `input` object (`ToolArguments.input`): blank is `{}`; otherwise the JSON object
    /// it holds. False when it is not one.
    private mutating func toolInput(_ arguments: Slot) -> Bool {
        var text: [UInt8] = []
        let inner = UnsafeRawBufferPointer(rebasing: bytes[(arguments.start + 1)..<(arguments.end - 1)])
        if arguments.escaped { JSONReader.unescape(inner, into: &text) } else { text.append(contentsOf: inner) }
        if text.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            lit("{}")
            return true
        }
        var canonical = true
        let range: Range<Int>? = text.withUnsafeBytes { JSONCanonicalScan.document($0, &canonical) }
        guard let range, text[range.lowerBound] == 0x7B else { return false }
        let lo = side.count
        if canonical {
            side.append(contentsOf: text[range])
        } else {
            guard let value = try? JSONParser.parse(text) else { return false }
            value.write(to: &side)
        }
        sideWritten(from: lo)
        return true
    }

    /// A `tool_result` block for the output value at `i`, with an empty piece for its `tool_use_id` right
    /// after the first: `(end of the value, block)`. Nil when the output is neither a string nor parts.
    private mutating func toolResult(outputAt i: Int) -> (end: Int, block: Int)? {
        let start = beginBlock()
        lit(#"{"type":"tool_result","tool_use_id":"#)
        pieces.append(Piece(lo: 0, hi: 0, side: false))
        floor = pieces.count
        let end: Int
        if p[i] == 0x22 {
            guard let s = value(i, depth: 3) else { return nil }
            if s.end - s.start > 2 {
                lit(#","content":"#)
                string(s)
            }
            end = s.end
        } else if p[i] == 0x5B {
            let before = mark()
            lit(#","content":["#)
            guard let e = contentParts(i, depth: 3, allowed: 2, inline: true) else { return nil }
            if inlineCount == 0 {
                reset(before)
            } else {
                lit("]")
            }
            end = e
        } else {
            return nil
        }
        lit("}")
        return (end, endBlock(start, .toolResult))
    }

    // MARK: Content parts

    /// The content at `i` (a string, `null`, or parts) as blocks for a message of `allowed` role (1 system,
    /// 2 user, 3 assistant), or (`inline`) as the comma-separated blocks of a tool result, counted in
    /// `inlineCount`. The index after the value; nil when the mapping must run.
    mutating func contentParts(_ start: Int, depth: Int, allowed: UInt8, inline: Bool) -> Int? {
        inlineCount = 0
        var i = start
        if p[i] == 0x22 {
            guard let s = value(i, depth: depth) else { return nil }
            if s.end - s.start > 2 { _ = textBlock(s, turn: -2) }
            return s.end
        }
        if p[i] == 0x6E { return value(i, depth: depth)?.end }
        guard let any = openArray(&i) else { return nil }
        guard any else { return i }
        while true {
            guard part(&i, depth: depth + 1, allowed: allowed, inline: inline) else { return nil }
            guard let more = nextElement(&i) else { return nil }
            if !more { break }
        }
        return i
    }

    /// One content part at `i`; moves past it.
    private mutating func part(_ i: inout Int, depth: Int, allowed: UInt8, inline: Bool) -> Bool {
        guard let any = openObject(&i), any else { return false }
        var type: Slot?
        var text: Slot?
        var refusal: Slot?
        var url: Slot?
        var cache: Slot?
        var file = FileFields()
        while true {
            guard let k = key(&i), let v = value(i, depth: depth + 1) else { return false }
            i = v.end
            if keyIs(k, "type") {
                if type == nil { type = v }
            } else if keyIs(k, "text") {
                if text == nil { text = v }
            } else if keyIs(k, "refusal") {
                if refusal == nil { refusal = v }
            } else if keyIs(k, "image_url") {
                if url == nil { url = v }
            } else if keyIs(k, "prompt_cache_breakpoint") {
                if cache == nil { cache = v }
            } else if keyIs(k, "file_data") {
                if file.data == nil { file.data = v }
            } else if keyIs(k, "file_url") {
                if file.url == nil { file.url = v }
            } else if keyIs(k, "file_id") {
                if file.id == nil { file.id = v }
            } else if keyIs(k, "filename") {
                if file.name == nil { file.name = v }
            }
            guard let more = nextMember(&i) else { return false }
            if !more { break }
        }
        guard let type, p[type.start] == 0x22 else { return false }
        let cached = cache.map { p[$0.start] != 0x6E } ?? false
        var body: Slot
        if isString(type, "input_text") || (isString(type, "output_text") && allowed != 2) {
            guard let text, p[text.start] == 0x22 else { return false }
            body = text
        } else if isString(type, "refusal") && allowed == 3 {
            guard let refusal, p[refusal.start] == 0x22 else { return false }
            body = refusal
        } else if isString(type, "input_image") && allowed == 2 {
            guard let url else { return false }  // an uploaded image (`file_id`), or none: the mapping's 400
            return image(url, cached: cached, inline: inline)
        } else if isString(type, "input_file") && allowed == 2 {
            return document(file, cached: cached, inline: inline)
        } else {
            return false
        }
        if body.end - body.start == 2 { return true }
        if inline {
            if inlineCount > 0 { lit(",") }
            inlineCount += 1
            lit(#"{"type":"text","text":"#)
            string(body)
            lit(cached ? #","cache_control":{"type":"ephemeral"}}"# : "}")
        } else {
            _ = textBlock(body, turn: -2, cache: cached)
        }
        return true
    }

    /// An `input_file` part's members.
    struct FileFields {
        var data: Slot?
        var url: Slot?
        var id: Slot?
        var name: Slot?
    }

    /// An `input_file` part: a PDF as a base64 data URL (`file_data`) or an https URL (`file_url`), with its
    /// `filename` as the title. Nil slots and `null`s are absent, as the mapping reads them.
    private mutating func document(_ file: FileFields, cached: Bool, inline: Bool) -> Bool {
        func present(_ s: Slot?) -> Slot? { s.flatMap { p[$0.start] == 0x6E ? nil : $0 } }
        var start = 0
        if inline {
            if inlineCount > 0 { lit(",") }
            inlineCount += 1
        } else {
            start = beginBlock()
        }
        lit(#"{"type":"document","source":"#)
        if let data = present(file.data) {
            guard p[data.start] == 0x22 else { return false }
            if data.escaped {
                guard let text = decode(data), text.hasPrefix("data:"),
                    let (mediaType, base64) = try? Base64DataURL.parse(text, path: ""), mediaType == "application/pdf"
                else { return false }
                lit(#"{"type":"base64","media_type":"application/pdf","data":"#)
                writeString(base64)
                lit("}")
            } else {
                let lo = data.start + 1
                let hi = data.end - 1
                // Exactly `data:application/pdf;base64,<data>`; anything else is the mapping's 400.
                let head: StaticString = "data:application/pdf;base64,"
                let n = head.utf8CodeUnitCount
                guard hi - lo > n, Self.eq(p, lo, head) else { return false }
                lit(#"{"type":"base64","media_type":"application/pdf","data":""#)
                copy(lo + n, hi)
                lit(#""}"#)
            }
        } else if let url = present(file.url) {
            guard p[url.start] == 0x22, let text = decode(url), text.hasPrefix("https://") else { return false }
            lit(#"{"type":"url","url":"#)
            string(url)
            lit("}")
        } else {
            return false  // `file_id` (uploaded files) or nothing: the mapping's 400
        }
        if let name = present(file.name), p[name.start] == 0x22, name.end - name.start > 2 {
            lit(#","title":"#)
            string(name)
        }
        lit(cached ? #","cache_control":{"type":"ephemeral"}}"# : "}")
        if !inline { endBlock(start, .other) }
        return true
    }

    /// An `input_image` part: a base64 data URL or an https URL.
    private mutating func image(_ url: Slot, cached: Bool, inline: Bool) -> Bool {
        guard p[url.start] == 0x22 else { return false }
        let lo = url.start + 1
        let hi = url.end - 1
        var start = 0
        if inline {
            if inlineCount > 0 { lit(",") }
            inlineCount += 1
        } else {
            start = beginBlock()
        }
        if url.escaped {
            // An escaped URL (`\/`, `\u0026`): decoded, and the mapping's own rules applied to the text.
            guard let text = decode(url) else { return false }
            if text.hasPrefix("data:") {
                guard let (mediaType, data) = try? Base64DataURL.parse(text, path: "") else { return false }
                lit(#"{"type":"image","source":{"type":"base64","media_type":"#)
                writeString(mediaType)
                lit(#","data":"#)
                writeString(data)
                lit("}")
            } else if text.hasPrefix("https://") {
                lit(#"{"type":"image","source":{"type":"url","url":"#)
                writeString(text)
                lit("}")
            } else {
                return false
            }
        } else if hi - lo >= 5, Self.eq(p, lo, "data:") {
            // `data:<media type>;base64,<data>`: the media type and the data are copied as they are.
            guard let comma = memchr(p + lo, 0x2C, hi - lo) else { return false }
            let c = lo + (UnsafeRawPointer(comma) - UnsafeRawPointer(p + lo))
            guard c - lo >= 13, Self.eq(p, c - 7, ";base64"), c + 1 < hi else { return false }
            let media = (lo + 5)..<(c - 7)
            for k in media where p[k] < 0x21 || p[k] > 0x7E { return false }
            lit(#"{"type":"image","source":{"type":"base64","media_type":""#)
            copy(media.lowerBound, media.upperBound)
            lit(#"","data":""#)
            copy(c + 1, hi)
            lit(#""}"#)
        } else if hi - lo >= 8, Self.eq(p, lo, "https://") {
            guard hi - lo == 8 || p[lo + 8] < 0x80 else { return false }
            lit(#"{"type":"image","source":{"type":"url","url":"#)
            copy(url.start, url.end)
            lit("}")
        } else {
            return false
        }
        lit(cached ? #","cache_control":{"type":"ephemeral"}}"# : "}")
        if !inline { endBlock(start, .other) }
        return true
    }

    // MARK: Turns

    /// `ResponsesInputMapping.append`: the blocks of one item into the turn of `assistant`'s role.
    mutating func appendTurn(assistant: Bool, _ made: Range<Int>) {
        if made.isEmpty { return }
        var first = made.lowerBound
        if assistant {
            if let p = pending.first { first = p }
        } else {
            dropPending()
        }
        let t: Int
        if let last = turns.indices.last, turns[last].assistant == assistant {
            t = last
        } else {
            turns.append(Turn(assistant: assistant, first: first, end: made.upperBound))
            t = turns.count - 1
        }
        if assistant {
            for b in pending { blocks[b].turn = t }
            pending.removeAll()
        }
        for b in made { blocks[b].turn = t }
        turns[t].first = min(turns[t].first, first)
        turns[t].end = max(turns[t].end, made.upperBound)
    }

    /// `ResponsesInputMapping.appendToolResult`: into the last turn when it is the user's (tool results
    /// lead it: `write` places them), else a user turn of its own.
    mutating func appendToolResult(_ b: Int) {
        dropPending()
        if let last = turns.indices.last, !turns[last].assistant {
            blocks[b].turn = last
            turns[last].end = max(turns[last].end, b + 1)
        } else {
            turns.append(Turn(assistant: false, first: b, end: b + 1))
            blocks[b].turn = turns.count - 1
        }
    }

    /// Reasoning that no assistant content followed (a cancelled turn).
    mutating func dropPending() {
        guard !pending.isEmpty else { return }
        for b in pending { blocks[b].turn = -3 }
        pending.removeAll()
        note("reasoning items with no answer after them")
    }

    mutating func note(_ phrase: String) {
        if !inputRemoved.contains(phrase) { inputRemoved.append(phrase) }
    }
}

/// The fast path's `messages` (and the top-level `system`'s text): each message read, then written to
/// the messages section as `MessagesContentMapping` maps it.
extension MessagesRequestFastPath {
    /// The `messages` array at `start`: the index after it, or -1. An empty list is the mapping's error.
    mutating func scanMessages(_ start: Int) -> Int {
        var i = JSONFastScan.whitespace(p, n, start + 1)
        guard i < n, p[i] != 0x5D else { return -1 }
        while true {
            guard i < n, p[i] == 0x7B else { return -1 }
            i = scanMessage(i)
            guard i > 0 else { return -1 }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return -1 }
            if p[i] == 0x5D { return i + 1 }
            guard p[i] == 0x2C else { return -1 }
            i = JSONFastScan.whitespace(p, n, i + 1)
        }
    }

    private mutating func scanMessage(_ start: Int) -> Int {
        var role = Value()
        var content = Value()
        let end = members(start, depth: 2) { path, key, valueStart, c in
            if Self.isKey(path.p, key, "role") {
                guard role.start < 0 else { return -1 }
                let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 3)
                role = Value(start: valueStart, end: end, kind: JSONKind(firstByte: c))
                return end
            }
            if Self.isKey(path.p, key, "content") {
                guard content.start < 0 else { return -1 }
                if c == 0x5B {
                    content = Value(start: valueStart, end: path.readBlocks(valueStart, depth: 3), kind: .array)
                } else {
                    content = path.copied(valueStart, JSONKind(firstByte: c), 3)
                }
                return content.end
            }
            path.messageNotes.add("message key " + Self.string(path.bytes, key))
            return JSONFastScan.member(path.p, path.n, valueStart, depth: 3)
        }
        guard end > 0, content.present, let kind = plainString(role) else { return -1 }
        let ok: Bool
        switch kind {
        case "user": ok = user(content)
        case "assistant": ok = assistant(content)
        case "system": ok = systemMessage(content)
        default: ok = false
        }
        return ok ? end : -1
    }

    /// A message whose content is the client's string, copied as it is: `head` is the text before it.
    private mutating func stringMessage(_ head: StaticString, _ content: Value) {
        pieces.append(.text(head))
        pieces.append(.body(content.start, content.end))
        pieces.append(.text("}"))
    }

    // MARK: System

    /// The blocks read into `blocks` as system text: the non-empty texts joined with a blank line,
    /// appended to `pieces` (inside the quotes). Nil when a block is not text; else whether any text was.
    mutating func systemBlocks(notes: inout RemovedNotes) -> Bool? {
        var hasText = false
        for k in blocks.indices {
            let b = blocks[k]
            guard plainString(b.type) == "text" else { return nil }
            if b.cacheControl { notes.add("cache_control") }
            if b.citations { notes.add("citations") }
            guard b.text.isString else { return nil }
            if b.text.end - b.text.start > 2 {
                if hasText { pieces.append(.text(#"\n\n"#)) }
                pieces.append(.body(b.text.start + 1, b.text.end - 1))
                hasText = true
            }
        }
        return hasText
    }

    /// A `role: system` message inside `messages`: a `system` message where it stands.
    private mutating func systemMessage(_ content: Value) -> Bool {
        if content.kind == .string {
            if content.end - content.start > 2 { stringMessage(#",{"role":"system","content":"#, content) }
            return true
        }
        guard content.kind == .array else { return false }
        let mark = pieces.count
        pieces.append(.text(#",{"role":"system","content":""#))
        var notes = messageNotes
        messageNotes = RemovedNotes()  // so that `notes` holds the only reference: no copy
        let result = systemBlocks(notes: &notes)
        messageNotes = notes
        guard let hasText = result else { return false }
        if hasText {
            pieces.append(.text(#""}"#))
        } else {
            pieces.removeSubrange(mark...)
        }
        return true
    }

    // MARK: User

    /// A user turn: its `tool_result`s as `tool` messages, then one user message with the results'
    /// images and the other parts (a lone text part as a plain string).
    private mutating func user(_ content: Value) -> Bool {
        if content.kind == .string {
            stringMessage(#",{"role":"user","content":"#, content)
            return true
        }
        guard content.kind == .array else { return false }
        toolMessages.removeAll(keepingCapacity: true)
        images.removeAll(keepingCapacity: true)
        parts.removeAll(keepingCapacity: true)
        var partCount = 0
        var single = Value()
        for k in blocks.indices {
            let b = blocks[k]
            guard let type = plainString(b.type) else { return false }
            if b.cacheControl { messageNotes.add("cache_control") }
            if b.citations { messageNotes.add("citations") }
            switch type {
            case "text":
                guard b.text.isString else { return false }
                if partCount > 0 { parts.append(.text(",")) }
                parts.append(.text(#"{"type":"text","text":"#))
                parts.append(.body(b.text.start, b.text.end))
                parts.append(.text("}"))
                partCount += 1
                single = b.text
            case "image":
                guard Self.isImage(b, p) else { return false }
                if partCount > 0 { parts.append(.text(",")) }
                Self.appendImagePart(b, to: &parts)
                partCount += 1
                single = Value()
            case "tool_result":
                guard toolResult(b) else { return false }
            case "thinking", "redacted_thinking":
                messageNotes.add("thinking blocks")
            default:
                return false
            }
        }
        pieces.append(contentsOf: toolMessages)
        if images.isEmpty && partCount == 0 { return true }
        if images.isEmpty && partCount == 1 && single.start >= 0 {
            pieces.append(.text(#",{"role":"user","content":"#))
            pieces.append(.body(single.start, single.end))
            pieces.append(.text("}"))
            return true
        }
        pieces.append(.text(#",{"role":"user","content":["#))
        pieces.append(contentsOf: images)
        if !images.isEmpty && partCount > 0 { pieces.append(.text(",")) }
        pieces.append(contentsOf: parts)
        pieces.append(.text("]}"))
        return true
    }

    /// A `tool_result` → a `tool` message in `toolMessages`; its images (after a line naming the call)
    /// in `images`. Its text: the string, or the text blocks joined with a newline; `Error: ` first for
    /// `is_error`; a line saying where the images went last.
    private mutating func toolResult(_ b: Block) -> Bool {
        guard b.toolUseID.isString else { return false }
        var isError = false
        if b.isError.present {
            guard b.isError.kind == .bool else { return false }
            isError = p[b.isError.start] == 0x74
        }
        texts.removeAll(keepingCapacity: true)
        var imageCount = 0
        if b.content.present {
            switch b.content.kind {
            case .string: texts.append(b.content.inner)
            case .array:
                for k in b.inner {
                    let inner = innerBlocks[k]
                    guard let type = plainString(inner.type) else { return false }
                    if inner.cacheControl { messageNotes.add("cache_control") }
                    if inner.citations { messageNotes.add("citations") }
                    switch type {
                    case "text":
                        guard inner.text.isString else { return false }
                        texts.append(inner.text.inner)
                    case "image":
                        guard Self.isImage(inner, p) else { return false }
                        imageCount += 1
                    default: return false  // `document` included: the general path maps it
                    }
                }
            default: return false
            }
        }
        let id = b.toolUseID
        toolMessages.append(.text(#",{"role":"tool","tool_call_id":"#))
        toolMessages.append(.body(id.start, id.end))
        toolMessages.append(.text(#","content":""#))
        let joinedEmpty = texts.isEmpty || (texts.count == 1 && texts[0].isEmpty)
        if isError { toolMessages.append(.text(joinedEmpty ? "Error" : "Error: ")) }
        for (k, text) in texts.enumerated() {
            if k > 0 { toolMessages.append(.text(#"\n"#)) }
            if !text.isEmpty { toolMessages.append(.body(text.lowerBound, text.upperBound)) }
        }
        if imageCount > 0 {
            if isError || !joinedEmpty { toolMessages.append(.text(#"\n"#)) }
            toolMessages.append(.imageNote(imageCount))
        }
        toolMessages.append(.text(#""}"#))
        guard imageCount > 0 else { return true }
        if !images.isEmpty { images.append(.text(",")) }
        images.append(.text(#"{"type":"text","text":"Images returned by tool call "#))
        images.append(.body(id.start + 1, id.end - 1))
        images.append(.text(#":"}"#))
        for k in b.inner {
            let inner = innerBlocks[k]
            guard plainString(inner.type) == "image" else { continue }
            images.append(.text(","))
            Self.appendImagePart(inner, to: &images)
        }
        return true
    }

    /// An image block the mapping takes: a base64 source with a media type and data, or an http(s) URL.
    static func isImage(_ b: Block, _ p: UnsafePointer<UInt8>) -> Bool {
        guard b.source.present, b.source.kind == .object, b.sourceType.isString else { return false }
        let type = b.sourceType
        if type.end - type.start == 8 && equals(p, type.start + 1, "base64") {
            return b.mediaType.isString && b.data.isString
        }
        if type.end - type.start == 5 && equals(p, type.start + 1, "url") {
            // The URL's spelling is the mapping's (`JSONCanonicalScan`): its first bytes are the decoded ones.
            let url = b.url
            guard url.isString else { return false }
            let length = url.end - url.start - 2
            return (length >= 8 && equals(p, url.start + 1, "https://"))
                || (length >= 7 && equals(p, url.start + 1, "http://"))
        }
        return false
    }

    /// `{"type":"image_url","image_url":{"url":...}}`: a `data:` URL for base64, else the URL.
    static func appendImagePart(_ b: Block, to list: inout [Piece]) {
        list.append(.text(#"{"type":"image_url","image_url":{"url":"#))
        if b.sourceType.end - b.sourceType.start == 8 {  // "base64" (`isImage` checked it)
            list.append(.text(#""data:"#))
            list.append(.body(b.mediaType.start + 1, b.mediaType.end - 1))
            list.append(.text(";base64,"))
            list.append(.body(b.data.start + 1, b.data.end - 1))
            list.append(.text(#""}}"#))
        } else {
            list.append(.body(b.url.start, b.url.end))
            list.append(.text("}}"))
        }
    }

    // MARK: Assistant

    /// An assistant turn: its texts (joined with a blank line, or null) and `tool_use` blocks as
    /// `tool_calls` with the input as the `arguments` string; nothing for a turn with neither.
    private mutating func assistant(_ content: Value) -> Bool {
        if content.kind == .string {
            if content.end - content.start > 2 { stringMessage(#",{"role":"assistant","content":"#, content) }
            return true
        }
        guard content.kind == .array else { return false }
        texts.removeAll(keepingCapacity: true)
        parts.removeAll(keepingCapacity: true)
        var calls = 0
        for k in blocks.indices {
            let b = blocks[k]
            guard let type = plainString(b.type) else { return false }
            if b.cacheControl { messageNotes.add("cache_control") }
            if b.citations { messageNotes.add("citations") }
            switch type {
            case "text":
                guard b.text.isString else { return false }
                if b.text.end - b.text.start > 2 { texts.append(b.text.inner) }
            case "tool_use":
                guard b.id.isString, b.name.isString, b.input.start >= 0, b.input.kind == .object else { return false }
                parts.append(.text(calls == 0 ? #"{"id":"# : #",{"id":"#))
                parts.append(.body(b.id.start, b.id.end))
                parts.append(.text(#","type":"function","function":{"name":"#))
                parts.append(.body(b.name.start, b.name.end))
                parts.append(.text(#","arguments":"#))
                parts.append(.quoted(b.input.start, b.input.end))
                parts.append(.text("}}"))
                calls += 1
            case "thinking", "redacted_thinking":
                messageNotes.add("thinking blocks")
            default:
                return false
            }
        }
        if texts.isEmpty && calls == 0 { return true }
        if texts.isEmpty {
            pieces.append(.text(#",{"role":"assistant","content":null"#))
        } else {
            pieces.append(.text(#",{"role":"assistant","content":""#))
            for (k, text) in texts.enumerated() {
                if k > 0 { pieces.append(.text(#"\n\n"#)) }
                pieces.append(.body(text.lowerBound, text.upperBound))
            }
            pieces.append(.text(#"""#))
        }
        if calls > 0 {
            pieces.append(.text(#","tool_calls":["#))
            pieces.append(contentsOf: parts)
            pieces.append(.text("]"))
        }
        pieces.append(.text("}"))
        return true
    }
}

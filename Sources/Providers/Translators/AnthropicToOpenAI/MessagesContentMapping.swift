/// Anthropic `system` and `messages` → OpenAI Chat `messages`.
///
/// - `system` (a string or text blocks) becomes the first message, role `system` (not `developer`:
///   OpenAI reads a `system` message as the developer message on reasoning models, and every chat model
///   takes it). Text blocks are joined with a blank line. A `{"role":"system"}` message inside
///   `messages` (Claude Code sends one) stays a `system` message where it stands.
/// - `user` content: a string stays a string; blocks become parts: `text`; `image` (base64 source → a
///   `data:` URL, url source → that URL); `document` (base64 PDF → a `file` part, plain-text source →
///   text, a content source → its parts). A single text block is sent as a plain string.
/// - `tool_result` blocks become `tool` messages, one per result in order, placed before the rest of the
///   turn (OpenAI wants them right after the assistant's `tool_calls`). Their content is the string, or
///   the text blocks joined with a newline; `is_error: true` prefixes `Error: ` (OpenAI has no error
///   flag). Images in a result cannot go in a `tool` message: they follow in the user message, after a
///   line naming the call, and the tool text says so.
/// - `assistant` content: text (blocks joined with a blank line) and `tool_use` blocks → `tool_calls`
///   (`arguments` = the input written as compact JSON: key order and number text kept as sent). A
///   turn with neither is left out.
/// - `thinking` and `redacted_thinking` blocks are dropped: their signatures mean nothing to OpenAI and
///   GPT cannot take them back. `cache_control` and `citations` are dropped everywhere.
/// - Any other block type (server tool calls and results, search results, containers...) is a 400:
///   there is no honest OpenAI form for it.
/// - OpenAI has no assistant prefill: a last assistant message is sent as history and the model answers
///   after it.
struct MessagesContentMapping {
    private(set) var messages: [JSON] = []

    init(system: JSON?, messages: [JSON], notes: inout RemovedNotes) throws(APIError) {
        if let system, !system.isNull {
            let text = try Self.systemText(system, path: "system", notes: &notes)
            if !text.isEmpty { self.messages.append(Self.message("system", .string(text))) }
        }
        for (i, message) in messages.enumerated() {
            let path = "messages.\(i)"
            guard let object = message.objectValue else { throw MessagesField.typeError(path, "an object", message) }
            for member in object.members where member.key != "role" && member.key != "content" {
                notes.add("message key \(member.key)")
            }
            let role = try MessagesField.string(message, "role", path: path)
            guard let content = MessagesField.optional(message, "content") else {
                throw MessagesField.missing("\(path).content")
            }
            switch role {
            case "user": try appendUser(content, path: "\(path).content", notes: &notes)
            case "assistant": try appendAssistant(content, path: "\(path).content", notes: &notes)
            case "system":
                let text = try Self.systemText(content, path: "\(path).content", notes: &notes)
                if !text.isEmpty { self.messages.append(Self.message("system", .string(text))) }
            default:
                throw .invalidRequest("\(path).role: expected 'user' or 'assistant', got '\(role)'")
            }
        }
    }

    static func message(_ role: String, _ content: JSON) -> JSON {
        .object(JSONObject([("role", .string(role)), ("content", content)]))
    }

    static func textPart(_ text: String) -> JSON {
        .object(JSONObject([("type", "text"), ("text", .string(text))]))
    }

    // MARK: System

    /// A string, or text blocks joined with a blank line (empty ones skipped).
    private static func systemText(_ value: JSON, path: String, notes: inout RemovedNotes) throws(APIError) -> String {
        if let text = value.stringValue { return text }
        guard let blocks = value.arrayValue else {
            throw MessagesField.typeError(path, "a string or an array of text blocks", value)
        }
        var texts: [String] = []
        for (j, block) in blocks.enumerated() {
            let blockPath = "\(path).\(j)"
            let type = try MessagesField.type(block, path: blockPath)
            guard type == "text" else {
                throw .invalidRequest("\(blockPath).type: system content must be text blocks, got '\(type)'")
            }
            noteDropped(block, notes: &notes)
            let text = try MessagesField.string(block, "text", path: blockPath)
            if !text.isEmpty { texts.append(text) }
        }
        return texts.joined(separator: "\n\n")
    }

    /// Notes the keys of a block that have no OpenAI form.
    private static func noteDropped(_ block: JSON, notes: inout RemovedNotes) {
        if block["cache_control"] != nil { notes.add("cache_control") }
        if block["citations"] != nil { notes.add("citations") }
    }

    // MARK: User turns

    private mutating func appendUser(_ content: JSON, path: String, notes: inout RemovedNotes) throws(APIError) {
        if let text = content.stringValue {
            messages.append(Self.message("user", .string(text)))
            return
        }
        guard let blocks = content.arrayValue else {
            throw MessagesField.typeError(path, "a string or an array of content blocks", content)
        }
        var toolMessages: [JSON] = []
        var toolImages: [JSON] = []
        var parts: [JSON] = []
        for (j, block) in blocks.enumerated() {
            let blockPath = "\(path).\(j)"
            let type = try MessagesField.type(block, path: blockPath)
            Self.noteDropped(block, notes: &notes)
            switch type {
            case "text":
                parts.append(Self.textPart(try MessagesField.string(block, "text", path: blockPath)))
            case "image":
                parts.append(try Self.imagePart(block, path: blockPath))
            case "document":
                parts.append(contentsOf: try Self.documentParts(block, path: blockPath, allowFile: true))
            case "tool_result":
                let result = try Self.toolResult(block, path: blockPath, notes: &notes)
                toolMessages.append(result.message)
                toolImages.append(contentsOf: result.images)
            case "thinking", "redacted_thinking":
                notes.add("thinking blocks")
            default:
                throw Self.unsupportedBlock(type, path: blockPath)
            }
        }
        messages.append(contentsOf: toolMessages)
        parts = toolImages + parts
        if parts.isEmpty { return }
        if parts.count == 1, parts[0]["type"]?.stringValue == "text", let text = parts[0]["text"] {
            messages.append(Self.message("user", text))
        } else {
            messages.append(Self.message("user", .array(parts)))
        }
    }

    static func unsupportedBlock(_ type: String, path: String) -> APIError {
        .invalidRequest("\(path).type: '\(type)' content blocks cannot be sent to an OpenAI model")
    }

    /// `image` → `{"type":"image_url","image_url":{"url":...}}`.
    private static func imagePart(_ block: JSON, path: String) throws(APIError) -> JSON {
        let url = try imageURL(block, path: path)
        return .object(
            JSONObject([("type", "image_url"), ("image_url", .object(JSONObject([("url", .string(url))])))]))
    }

    private static func imageURL(_ block: JSON, path: String) throws(APIError) -> String {
        let sourcePath = "\(path).source"
        guard let source = MessagesField.optional(block, "source") else { throw MessagesField.missing(sourcePath) }
        switch try MessagesField.type(source, path: sourcePath) {
        case "base64":
            let mediaType = try MessagesField.string(source, "media_type", path: sourcePath)
            let data = try MessagesField.string(source, "data", path: sourcePath)
            return "data:\(mediaType);base64,\(data)"
        case "url":
            let url = try MessagesField.string(source, "url", path: sourcePath)
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw .invalidRequest("\(sourcePath).url: expected an http(s) URL")
            }
            return url
        case let other:
            throw .invalidRequest("\(sourcePath).type: '\(other)' image sources cannot be sent to an OpenAI model")
        }
    }

    /// `document` → a `file` part (base64 PDF; only in user content) or text parts (plain-text or content
    /// sources).
    private static func documentParts(_ block: JSON, path: String, allowFile: Bool) throws(APIError) -> [JSON] {
        let sourcePath = "\(path).source"
        guard let source = MessagesField.optional(block, "source") else { throw MessagesField.missing(sourcePath) }
        switch try MessagesField.type(source, path: sourcePath) {
        case "base64" where allowFile:
            let mediaType = try MessagesField.string(source, "media_type", path: sourcePath)
            let data = try MessagesField.string(source, "data", path: sourcePath)
            let title = try MessagesField.optionalString(block, "title", path: path)
            let file = JSONObject([
                ("filename", .string(title.map { $0.isEmpty ? "document.pdf" : $0 } ?? "document.pdf")),
                ("file_data", .string("data:\(mediaType);base64,\(data)")),
            ])
            return [.object(JSONObject([("type", "file"), ("file", .object(file))]))]
        case "text":
            return [textPart(try MessagesField.string(source, "data", path: sourcePath))]
        case "content":
            if let text = MessagesField.optional(source, "content")?.stringValue { return [textPart(text)] }
            guard let blocks = MessagesField.optional(source, "content")?.arrayValue else {
                throw MessagesField.missing("\(sourcePath).content")
            }
            var parts: [JSON] = []
            for (k, inner) in blocks.enumerated() {
                let innerPath = "\(sourcePath).content.\(k)"
                switch try MessagesField.type(inner, path: innerPath) {
                case "text": parts.append(textPart(try MessagesField.string(inner, "text", path: innerPath)))
                case "image": parts.append(try imagePart(inner, path: innerPath))
                case let other: throw unsupportedBlock(other, path: innerPath)
                }
            }
            return parts
        case let other:
            throw .invalidRequest("\(sourcePath).type: '\(other)' document sources cannot be sent to an OpenAI model")
        }
    }

    /// `tool_result` → a `tool` message, and the image parts that must follow in the user message.
    private static func toolResult(
        _ block: JSON, path: String, notes: inout RemovedNotes
    ) throws(APIError) -> (message: JSON, images: [JSON]) {
        let id = try MessagesField.string(block, "tool_use_id", path: path)
        let isError = try MessagesField.bool(block, "is_error", path: path) ?? false
        var texts: [String] = []
        var images: [JSON] = []
        if let content = MessagesField.optional(block, "content") {
            if let text = content.stringValue {
                texts.append(text)
            } else if let blocks = content.arrayValue {
                for (k, inner) in blocks.enumerated() {
                    let innerPath = "\(path).content.\(k)"
                    let type = try MessagesField.type(inner, path: innerPath)
                    noteDropped(inner, notes: &notes)
                    switch type {
                    case "text": texts.append(try MessagesField.string(inner, "text", path: innerPath))
                    case "image": images.append(try imagePart(inner, path: innerPath))
                    case "document":
                        for part in try documentParts(inner, path: innerPath, allowFile: false) {
                            if let text = part["text"]?.stringValue {
                                texts.append(text)
                            } else {
                                images.append(part)
                            }
                        }
                    default: throw unsupportedBlock(type, path: innerPath)
                    }
                }
            } else {
                throw MessagesField.typeError("\(path).content", "a string or an array of content blocks", content)
            }
        }
        var text = texts.joined(separator: "\n")
        if isError { text = text.isEmpty ? "Error" : "Error: " + text }
        if !images.isEmpty {
            let note =
                "[\(images.count) image\(images.count == 1 ? "" : "s") of this result follow in the next user message]"
            text = text.isEmpty ? note : text + "\n" + note
            images.insert(textPart("Images returned by tool call \(id):"), at: 0)
        }
        let message = JSONObject([("role", "tool"), ("tool_call_id", .string(id)), ("content", .string(text))])
        return (.object(message), images)
    }

    // MARK: Assistant turns

    private mutating func appendAssistant(_ content: JSON, path: String, notes: inout RemovedNotes) throws(APIError) {
        if let text = content.stringValue {
            if !text.isEmpty { messages.append(Self.message("assistant", .string(text))) }
            return
        }
        guard let blocks = content.arrayValue else {
            throw MessagesField.typeError(path, "a string or an array of content blocks", content)
        }
        var texts: [String] = []
        var calls: [JSON] = []
        for (j, block) in blocks.enumerated() {
            let blockPath = "\(path).\(j)"
            let type = try MessagesField.type(block, path: blockPath)
            Self.noteDropped(block, notes: &notes)
            switch type {
            case "text":
                let text = try MessagesField.string(block, "text", path: blockPath)
                if !text.isEmpty { texts.append(text) }
            case "tool_use":
                calls.append(try Self.toolCall(block, path: blockPath))
            case "thinking", "redacted_thinking":
                notes.add("thinking blocks")
            default:
                throw Self.unsupportedBlock(type, path: blockPath)
            }
        }
        if texts.isEmpty && calls.isEmpty { return }
        var message = JSONObject([("role", "assistant")])
        message["content"] = texts.isEmpty ? .null : .string(texts.joined(separator: "\n\n"))
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        messages.append(.object(message))
    }

    /// `tool_use` → `{"id","type":"function","function":{"name","arguments"}}`.
    private static func toolCall(_ block: JSON, path: String) throws(APIError) -> JSON {
        let id = try MessagesField.string(block, "id", path: path)
        let name = try MessagesField.string(block, "name", path: path)
        guard let input = block["input"] else { throw MessagesField.missing("\(path).input") }
        guard input.objectValue != nil else { throw MessagesField.typeError("\(path).input", "an object", input) }
        let function = JSONObject([
            ("name", .string(name)), ("arguments", .string(String(decoding: input.bytes, as: UTF8.self))),
        ])
        return .object(JSONObject([("id", .string(id)), ("type", "function"), ("function", .object(function))]))
    }
}

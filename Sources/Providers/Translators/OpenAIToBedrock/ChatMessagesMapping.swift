/// OpenAI `messages` → Anthropic `system` and alternating `messages` turns.
///
/// - `system` and `developer` messages, wherever they stand, become `system` text blocks, in order.
/// - `user` parts: `text`; `image_url` (a base64 `data:` URL → a base64 image source, an `https` URL → a
///   url source); `file` with base64 `file_data` → a `document` block. Audio is refused.
/// - `assistant`: its text, then one `tool_use` block per `tool_calls` entry (arguments parsed; an empty
///   string is `{}`; anything else that is not a JSON object is a 400).
/// - `tool` → a `tool_result` block in a user turn.
/// - Anthropic wants user and assistant turns to alternate, so consecutive messages of one role are
///   merged into one turn; in a user turn, `tool_result` blocks stay ahead of other content, as Anthropic
///   requires.
/// - Empty text is dropped (Anthropic rejects empty text blocks); a message left with no content adds
///   nothing.
struct ChatMessagesMapping {
    private(set) var system: [JSON] = []
    private(set) var turns: [(role: String, content: [JSON])] = []

    init(_ messages: [JSON]) throws(APIError) {
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            guard message.objectValue != nil else { throw RequestField.typeError(path, "an object", message) }
            guard let roleValue = message["role"] else { throw RequestField.missing("\(path).role") }
            guard let role = roleValue.stringValue else {
                throw RequestField.typeError("\(path).role", "a string", roleValue)
            }
            switch role {
            case "system", "developer":
                system.append(contentsOf: try Self.textBlocks(message["content"], path: "\(path).content"))
            case "user":
                append(role: "user", try Self.userBlocks(message["content"], path: "\(path).content"))
            case "assistant":
                append(role: "assistant", try Self.assistantBlocks(message, path: path))
            case "tool":
                appendToolResult(try Self.toolResult(message, path: path))
            case "function":
                throw .invalidRequest(
                    "Invalid value for '\(path).role': the deprecated 'function' role is not supported; use 'tool'.")
            default:
                throw .invalidRequest(
                    "Invalid value for '\(path).role': '\(role)'. Supported values are: 'system', 'developer', "
                        + "'user', 'assistant' and 'tool'.")
            }
        }
    }

    private mutating func append(role: String, _ blocks: [JSON]) {
        if blocks.isEmpty { return }
        if let last = turns.indices.last, turns[last].role == role {
            turns[last].content.append(contentsOf: blocks)
        } else {
            turns.append((role, blocks))
        }
    }

    private mutating func appendToolResult(_ block: JSON) {
        guard let last = turns.indices.last, turns[last].role == "user" else {
            turns.append(("user", [block]))
            return
        }
        let firstOther = turns[last].content.firstIndex { $0["type"]?.stringValue != "tool_result" }
        turns[last].content.insert(block, at: firstOther ?? turns[last].content.endIndex)
    }

    // MARK: Content

    /// `content` that may only hold text: a string or `text` parts.
    private static func textBlocks(_ content: JSON?, path: String) throws(APIError) -> [JSON] {
        guard let content, !content.isNull else { return [] }
        if let text = content.stringValue { return text.isEmpty ? [] : [textBlock(text)] }
        guard let parts = content.arrayValue else {
            throw RequestField.typeError(path, "a string or an array of content parts", content)
        }
        var blocks: [JSON] = []
        for (j, part) in parts.enumerated() {
            let partPath = "\(path)[\(j)]"
            let type = try partType(part, path: partPath)
            guard type == "text" || type == "refusal" else {
                throw .invalidRequest("Invalid value for '\(partPath).type': only text parts are allowed here.")
            }
            let text = try RequestField.string(part, type == "text" ? "text" : "refusal", path: partPath)
            if !text.isEmpty { blocks.append(textBlock(text)) }
        }
        return blocks
    }

    private static func userBlocks(_ content: JSON?, path: String) throws(APIError) -> [JSON] {
        guard let content, !content.isNull else { return [] }
        if let text = content.stringValue { return text.isEmpty ? [] : [textBlock(text)] }
        guard let parts = content.arrayValue else {
            throw RequestField.typeError(path, "a string or an array of content parts", content)
        }
        var blocks: [JSON] = []
        for (j, part) in parts.enumerated() {
            let partPath = "\(path)[\(j)]"
            switch try partType(part, path: partPath) {
            case "text":
                let text = try RequestField.string(part, "text", path: partPath)
                if !text.isEmpty { blocks.append(textBlock(text)) }
            case "image_url":
                blocks.append(try imageBlock(part["image_url"], path: "\(partPath).image_url"))
            case "file":
                blocks.append(try documentBlock(part["file"], path: "\(partPath).file"))
            case "input_audio":
                throw .invalidRequest("Invalid value for '\(partPath).type': audio input is not supported by Anthropic models.")
            case let other:
                throw .invalidRequest("Invalid value for '\(partPath).type': unsupported content part type '\(other)'.")
            }
        }
        return blocks
    }

    private static func partType(_ part: JSON, path: String) throws(APIError) -> String {
        guard part.objectValue != nil else { throw RequestField.typeError(path, "an object", part) }
        return try RequestField.string(part, "type", path: path)
    }

    private static func textBlock(_ text: String) -> JSON {
        .object(JSONObject([("type", "text"), ("text", .string(text))]))
    }

    private static func imageBlock(_ image: JSON?, path: String) throws(APIError) -> JSON {
        guard let image else { throw RequestField.missing(path) }
        // Some clients send the URL as a bare string; the spec says `{url, detail}`.
        let url: String
        if let bare = image.stringValue {
            url = bare
        } else if image.objectValue != nil {
            url = try RequestField.string(image, "url", path: path)
        } else {
            throw RequestField.typeError(path, "an object", image)
        }
        if url.hasPrefix("data:") {
            let (mediaType, data) = try Base64DataURL.parse(url, path: "\(path).url")
            return .object(JSONObject([("type", "image"), ("source", Base64DataURL.source(mediaType, data))]))
        }
        if url.hasPrefix("https://") {
            return .object(
                JSONObject([("type", "image"), ("source", .object(JSONObject([("type", "url"), ("url", .string(url))])))]))
        }
        throw .invalidRequest("Invalid value for '\(path).url': expected an https URL or a base64 data URL.")
    }

    private static func documentBlock(_ file: JSON?, path: String) throws(APIError) -> JSON {
        guard let file else { throw RequestField.missing(path) }
        guard file.objectValue != nil else { throw RequestField.typeError(path, "an object", file) }
        guard let fileData = file["file_data"], !fileData.isNull else {
            throw .invalidRequest("Invalid value for '\(path)': only inline 'file_data' is supported, not 'file_id'.")
        }
        guard let url = fileData.stringValue else { throw RequestField.typeError("\(path).file_data", "a string", fileData) }
        let (mediaType, data) = try Base64DataURL.parse(url, path: "\(path).file_data")
        return .object(JSONObject([("type", "document"), ("source", Base64DataURL.source(mediaType, data))]))
    }

    // MARK: Assistant and tool messages

    private static func assistantBlocks(_ message: JSON, path: String) throws(APIError) -> [JSON] {
        var blocks = try textBlocks(message["content"], path: "\(path).content")
        guard let toolCalls = message["tool_calls"], !toolCalls.isNull else { return blocks }
        guard let calls = toolCalls.arrayValue else { throw RequestField.typeError("\(path).tool_calls", "an array", toolCalls) }
        for (j, call) in calls.enumerated() {
            let callPath = "\(path).tool_calls[\(j)]"
            guard call.objectValue != nil else { throw RequestField.typeError(callPath, "an object", call) }
            let id = try RequestField.string(call, "id", path: callPath)
            guard let function = call["function"] else { throw RequestField.missing("\(callPath).function") }
            guard function.objectValue != nil else {
                throw RequestField.typeError("\(callPath).function", "an object", function)
            }
            let name = try RequestField.string(function, "name", path: "\(callPath).function")
            let arguments = try RequestField.string(function, "arguments", path: "\(callPath).function")
            blocks.append(
                .object(
                    JSONObject([
                        ("type", "tool_use"), ("id", .string(id)), ("name", .string(name)),
                        ("input", try ToolArguments.input(arguments, path: "\(callPath).function.arguments")),
                    ])))
        }
        return blocks
    }

    private static func toolResult(_ message: JSON, path: String) throws(APIError) -> JSON {
        let id = try RequestField.string(message, "tool_call_id", path: path)
        var block = JSONObject([("type", "tool_result"), ("tool_use_id", .string(id))])
        let content = message["content"]
        if let text = content?.stringValue {
            if !text.isEmpty { block["content"] = .string(text) }
        } else {
            let blocks = try textBlocks(content, path: "\(path).content")
            if !blocks.isEmpty { block["content"] = .array(blocks) }
        }
        return .object(block)
    }
}

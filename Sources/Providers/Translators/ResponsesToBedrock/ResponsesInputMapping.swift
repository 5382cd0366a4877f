/// One Anthropic content block: built as a `JSON` tree, or bytes kept exactly as they were (a thinking
/// block coming back from `encrypted_content`, whose signature covers its content).
enum UpstreamBlock: Equatable {
    case json(JSON)
    case raw([UInt8])

    var isThinking: Bool {
        if case .raw = self { return true }
        return false
    }

    var type: String? {
        if case .json(let block) = self { return block["type"]?.stringValue }
        return nil
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .json(let block): block.write(to: &out)
        case .raw(let bytes): out.append(contentsOf: bytes)
        }
    }
}

/// Responses `input` (a string, or items) → Anthropic `system` blocks and alternating `messages` turns.
///
/// - `message` items (also the SDK's "easy" form without `type`): `system` and `developer` → `system`
///   text blocks, wherever they stand, in order; `user` parts `input_text`, `input_image` (data URL →
///   base64 source, https URL → url source), `input_file` (PDF as a data URL or https URL → `document`);
///   `assistant` parts `output_text` and `refusal` → text. `prompt_cache_breakpoint` on a part →
///   `cache_control: {"type":"ephemeral"}`. `file_id` references need the OpenAI files store: 400.
/// - `function_call` → a `tool_use` block (arguments parsed; empty → `{}`), `custom_tool_call` → a
///   `tool_use` with `{"input": <input>}`; both named by `ResponsesToolMapping.upstreamName`.
/// - `function_call_output` and `custom_tool_call_output` → `tool_result` blocks in a user turn
///   (consecutive ones merged, kept ahead of other user content as Anthropic requires); an output given
///   as parts keeps its text, images and files.
/// - `reasoning` with an `encrypted_content` made by this proxy → that exact thinking block, placed right
///   before the assistant content that follows it (first in its turn, as Claude wrote it). Reasoning that
///   no assistant content follows (a cancelled turn) is dropped: Claude refuses an assistant turn of
///   thinking alone. Other reasoning items (no `encrypted_content`, or OpenAI's own) are dropped too, and
///   noted: Claude cannot read them.
/// - `additional_tools` items add their tools to the request's tools.
/// - Items that record hosted tools (`web_search_call`, `file_search_call`, `computer_call`,
///   `image_generation_call`, `code_interpreter_call`, `local_shell_call`, `shell_call`,
///   `apply_patch_call`, `mcp_*`, `tool_search_*`, `compaction`, `program*`, and their outputs) are
///   dropped and noted. `item_reference` needs stored responses: 400. Any other type: 400.
/// - Consecutive turns of one role merge (Anthropic wants user and assistant to alternate); empty text is
///   dropped.
struct ResponsesInputMapping {
    private(set) var system: [JSON] = []
    private(set) var turns: [(role: String, blocks: [UpstreamBlock])] = []
    /// Tools from `additional_tools` items, with their paths for error messages.
    private(set) var extraTools: [(JSON, String)] = []
    private(set) var removed: [String] = []
    /// Thinking blocks waiting for the assistant content they belong to.
    private var pendingThinking: [UpstreamBlock] = []

    static let hostedItemTypes: Set<String> = [
        "web_search_call", "file_search_call", "computer_call", "computer_call_output", "image_generation_call",
        "code_interpreter_call", "local_shell_call", "local_shell_call_output", "shell_call", "shell_call_output",
        "apply_patch_call", "apply_patch_call_output", "mcp_call", "mcp_list_tools", "mcp_approval_request",
        "mcp_approval_response", "tool_search_call", "tool_search_output", "compaction", "compaction_trigger",
        "program", "program_output",
    ]

    init(instructions: String?, input: JSON) throws(APIError) {
        if let instructions, !instructions.isEmpty { system.append(Self.textBlock(instructions)) }
        if let text = input.stringValue {
            if !text.isEmpty { append(role: "user", [.json(Self.textBlock(text))]) }
        } else if let items = input.arrayValue {
            for (i, item) in items.enumerated() { try add(item, path: "input[\(i)]") }
        } else {
            throw RequestField.typeError("input", "a string or an array of input items", input)
        }
        dropPendingThinking()
    }

    // MARK: Items

    private mutating func add(_ item: JSON, path: String) throws(APIError) {
        guard item.objectValue != nil else { throw RequestField.typeError(path, "an object", item) }
        let type: String
        if let typeValue = RequestField.optional(item, "type") {
            guard let name = typeValue.stringValue else {
                throw RequestField.typeError("\(path).type", "a string", typeValue)
            }
            type = name
        } else if item["role"] != nil {
            type = "message"
        } else {
            throw RequestField.missing("\(path).type")
        }
        switch type {
        case "message":
            try addMessage(item, path: path)
        case "function_call":
            let name = try RequestField.string(item, "name", path: path)
            let arguments = try RequestField.string(item, "arguments", path: path)
            let block: JSON = .object(
                JSONObject([
                    ("type", "tool_use"), ("id", .string(try RequestField.string(item, "call_id", path: path))),
                    (
                        "name",
                        .string(
                            ResponsesToolMapping.upstreamName(namespace: try Self.namespace(item, path), name: name))
                    ),
                    ("input", try ToolArguments.input(arguments, path: "\(path).arguments")),
                ]))
            append(role: "assistant", [.json(block)])
        case "custom_tool_call":
            let name = try RequestField.string(item, "name", path: path)
            let input = try RequestField.string(item, "input", path: path)
            let block: JSON = .object(
                JSONObject([
                    ("type", "tool_use"), ("id", .string(try RequestField.string(item, "call_id", path: path))),
                    (
                        "name",
                        .string(
                            ResponsesToolMapping.upstreamName(namespace: try Self.namespace(item, path), name: name))
                    ),
                    ("input", .object(JSONObject([("input", .string(input))]))),
                ]))
            append(role: "assistant", [.json(block)])
        case "function_call_output", "custom_tool_call_output":
            appendToolResult(try Self.toolResult(item, path: path))
        case "reasoning":
            if let encrypted = RequestField.optional(item, "encrypted_content") {
                guard let text = encrypted.stringValue else {
                    throw RequestField.typeError("\(path).encrypted_content", "a string", encrypted)
                }
                if let block = ReasoningBlockCodec.decode(text) {
                    pendingThinking.append(.raw(block))
                    return
                }
            }
            note("reasoning items Claude cannot read")
        case "additional_tools":
            guard let toolsValue = RequestField.optional(item, "tools") else {
                throw RequestField.missing("\(path).tools")
            }
            guard let tools = toolsValue.arrayValue else {
                throw RequestField.typeError("\(path).tools", "an array", toolsValue)
            }
            for (j, tool) in tools.enumerated() { extraTools.append((tool, "\(path).tools[\(j)]")) }
        case "item_reference":
            throw .invalidRequest(
                "Invalid value for '\(path).type': 'item_reference' needs stored responses, and this proxy is "
                    + "stateless; send the item itself.",
                code: "unsupported_parameter")
        default:
            guard Self.hostedItemTypes.contains(type) else {
                throw .invalidRequest("Invalid value for '\(path).type': unsupported input item type '\(type)'.")
            }
            note("input item \(type)")
        }
    }

    private mutating func addMessage(_ item: JSON, path: String) throws(APIError) {
        let role = try RequestField.string(item, "role", path: path)
        let content = item["content"]
        switch role {
        case "system", "developer":
            system.append(contentsOf: try Self.blocks(content, path: "\(path).content", allowed: .text))
        case "user":
            append(role: "user", try Self.blocks(content, path: "\(path).content", allowed: .user).map { .json($0) })
        case "assistant":
            append(
                role: "assistant",
                try Self.blocks(content, path: "\(path).content", allowed: .assistant).map { .json($0) })
        default:
            throw .invalidRequest(
                "Invalid value for '\(path).role': '\(role)'. Supported values are: 'user', 'assistant', 'system' and 'developer'."
            )
        }
    }

    // MARK: Turns

    private mutating func append(role: String, _ blocks: [UpstreamBlock]) {
        if blocks.isEmpty { return }
        var blocks = blocks
        if role == "assistant" {
            if !pendingThinking.isEmpty {
                blocks.insert(contentsOf: pendingThinking, at: 0)
                pendingThinking.removeAll()
            }
        } else {
            dropPendingThinking()
        }
        if let last = turns.indices.last, turns[last].role == role {
            turns[last].blocks.append(contentsOf: blocks)
        } else {
            turns.append((role, blocks))
        }
    }

    private mutating func appendToolResult(_ block: JSON) {
        dropPendingThinking()
        guard let last = turns.indices.last, turns[last].role == "user" else {
            turns.append(("user", [.json(block)]))
            return
        }
        let firstOther = turns[last].blocks.firstIndex { $0.type != "tool_result" }
        turns[last].blocks.insert(.json(block), at: firstOther ?? turns[last].blocks.endIndex)
    }

    /// Reasoning that no assistant content followed (a cancelled turn).
    private mutating func dropPendingThinking() {
        guard !pendingThinking.isEmpty else { return }
        pendingThinking.removeAll()
        note("reasoning items with no answer after them")
    }

    private mutating func note(_ phrase: String) {
        if !removed.contains(phrase) { removed.append(phrase) }
    }

    // MARK: Content parts

    enum Allowed { case text, user, assistant }

    /// `content`: a string, or parts of the kinds `allowed` takes.
    static func blocks(_ content: JSON?, path: String, allowed: Allowed) throws(APIError) -> [JSON] {
        guard let content, !content.isNull else { return [] }
        if let text = content.stringValue { return text.isEmpty ? [] : [textBlock(text)] }
        guard let parts = content.arrayValue else {
            throw RequestField.typeError(path, "a string or an array of content parts", content)
        }
        var blocks: [JSON] = []
        for (j, part) in parts.enumerated() {
            let partPath = "\(path)[\(j)]"
            guard part.objectValue != nil else { throw RequestField.typeError(partPath, "an object", part) }
            let type = try RequestField.string(part, "type", path: partPath)
            var block: JSONObject
            switch (type, allowed) {
            case ("input_text", _), ("output_text", .assistant), ("output_text", .text):
                let text = try RequestField.string(part, "text", path: partPath)
                if text.isEmpty { continue }
                block = JSONObject([("type", "text"), ("text", .string(text))])
            case ("refusal", .assistant):
                let text = try RequestField.string(part, "refusal", path: partPath)
                if text.isEmpty { continue }
                block = JSONObject([("type", "text"), ("text", .string(text))])
            case ("input_image", .user):
                block = try imageBlock(part, path: partPath)
            case ("input_file", .user):
                block = try documentBlock(part, path: partPath)
            case ("input_image", _), ("input_file", _):
                throw .invalidRequest(
                    "Invalid value for '\(partPath).type': '\(type)' is only allowed in user messages.")
            case ("input_audio", _):
                throw .invalidRequest(
                    "Invalid value for '\(partPath).type': audio input is not supported by Anthropic models.")
            default:
                throw .invalidRequest("Invalid value for '\(partPath).type': unsupported content part type '\(type)'.")
            }
            if RequestField.optional(part, "prompt_cache_breakpoint") != nil {
                block["cache_control"] = .object(JSONObject([("type", "ephemeral")]))
            }
            blocks.append(.object(block))
        }
        return blocks
    }

    static func textBlock(_ text: String) -> JSON {
        .object(JSONObject([("type", "text"), ("text", .string(text))]))
    }

    private static func imageBlock(_ part: JSON, path: String) throws(APIError) -> JSONObject {
        guard let urlValue = RequestField.optional(part, "image_url") else {
            if RequestField.optional(part, "file_id") != nil {
                throw .invalidRequest(
                    "Invalid value for '\(path).file_id': uploaded files are not available through this proxy; "
                        + "send the image as a data URL or an https URL.")
            }
            throw RequestField.missing("\(path).image_url")
        }
        guard let url = urlValue.stringValue else {
            throw RequestField.typeError("\(path).image_url", "a string", urlValue)
        }
        if url.hasPrefix("data:") {
            let (mediaType, data) = try Base64DataURL.parse(url, path: "\(path).image_url")
            return JSONObject([("type", "image"), ("source", Base64DataURL.source(mediaType, data))])
        }
        if url.hasPrefix("https://") {
            return JSONObject([
                ("type", "image"), ("source", .object(JSONObject([("type", "url"), ("url", .string(url))]))),
            ])
        }
        throw .invalidRequest("Invalid value for '\(path).image_url': expected an https URL or a base64 data URL.")
    }

    private static func documentBlock(_ part: JSON, path: String) throws(APIError) -> JSONObject {
        var block = JSONObject([("type", "document")])
        if let data = RequestField.optional(part, "file_data") {
            guard let text = data.stringValue else {
                throw RequestField.typeError("\(path).file_data", "a string", data)
            }
            guard text.hasPrefix("data:") else {
                throw .invalidRequest("Invalid value for '\(path).file_data': expected a base64 data URL.")
            }
            let (mediaType, base64) = try Base64DataURL.parse(text, path: "\(path).file_data")
            guard mediaType == "application/pdf" else {
                throw .invalidRequest(
                    "Invalid value for '\(path).file_data': Anthropic models read PDF files, not '\(mediaType)'.")
            }
            block["source"] = Base64DataURL.source(mediaType, base64)
        } else if let urlValue = RequestField.optional(part, "file_url") {
            guard let url = urlValue.stringValue else {
                throw RequestField.typeError("\(path).file_url", "a string", urlValue)
            }
            guard url.hasPrefix("https://") else {
                throw .invalidRequest("Invalid value for '\(path).file_url': expected an https URL.")
            }
            block["source"] = .object(JSONObject([("type", "url"), ("url", .string(url))]))
        } else if RequestField.optional(part, "file_id") != nil {
            throw .invalidRequest(
                "Invalid value for '\(path).file_id': uploaded files are not available through this proxy; "
                    + "send the file as 'file_data' (a base64 data URL) or 'file_url'.")
        } else {
            throw RequestField.missing("\(path).file_data")
        }
        if let filename = RequestField.optional(part, "filename")?.stringValue, !filename.isEmpty {
            block["title"] = .string(filename)
        }
        return block
    }

    // MARK: Tool calls

    private static func namespace(_ item: JSON, _ path: String) throws(APIError) -> String? {
        guard let value = RequestField.optional(item, "namespace") else { return nil }
        guard let namespace = value.stringValue else {
            throw RequestField.typeError("\(path).namespace", "a string", value)
        }
        return namespace
    }

    private static func toolResult(_ item: JSON, path: String) throws(APIError) -> JSON {
        let id = try RequestField.string(item, "call_id", path: path)
        var block = JSONObject([("type", "tool_result"), ("tool_use_id", .string(id))])
        guard let output = item["output"] else { throw RequestField.missing("\(path).output") }
        if let text = output.stringValue {
            if !text.isEmpty { block["content"] = .string(text) }
        } else if output.arrayValue != nil {
            let parts = try blocks(output, path: "\(path).output", allowed: .user)
            if !parts.isEmpty { block["content"] = .array(parts) }
        } else {
            throw RequestField.typeError("\(path).output", "a string or an array of content parts", output)
        }
        return .object(block)
    }
}

/// Anthropic `tools` and `tool_choice` → OpenAI `tools`, `tool_choice` and `parallel_tool_calls`.
///
/// - A custom tool (no `type`, or `type: "custom"`) → `{"type":"function","function":{"name",
///   "description","parameters": input_schema}}`, with `strict` kept. Its other keys (`cache_control`,
///   `defer_loading`, `eager_input_streaming`, `input_examples`, ...) are dropped and noted: every tool
///   is sent up front, so a deferred one is simply visible at once.
/// - Tool search (`tool_search_tool_*`) is dropped and noted: with every tool sent up front there is
///   nothing left to search for.
/// - Every other typed tool is one Anthropic runs or defines (`web_search_*`, `web_fetch_*`,
///   `code_execution_*`, `bash_*`, `text_editor_*`, `computer_*`, `memory_*`, `mcp_toolset`...): a 400
///   naming it. OpenAI cannot run it, and a made-up schema would misrepresent it.
/// - `tool_choice`: `auto` → `"auto"`, `any` → `"required"`, `none` → `"none"`, `{type: tool, name}` →
///   `{"type":"function","function":{"name"}}`; `disable_parallel_tool_use: true` →
///   `parallel_tool_calls: false`. With no tool left, `tool_choice` is dropped (OpenAI refuses it
///   without tools, as it refuses an empty `tools`).
enum MessagesToolMapping {
    static func tools(_ value: JSON, notes: inout RemovedNotes) throws(APIError) -> [JSON] {
        guard let list = value.arrayValue else { throw MessagesField.typeError("tools", "an array", value) }
        var mapped: [JSON] = []
        for (i, tool) in list.enumerated() {
            let path = "tools.\(i)"
            guard let object = tool.objectValue else { throw MessagesField.typeError(path, "an object", tool) }
            if let type = try MessagesField.optionalString(tool, "type", path: path), type != "custom" {
                if type.hasPrefix("tool_search_tool_") {
                    notes.add("tool \(type)")
                    continue
                }
                let name = tool["name"]?.stringValue.map { " ('\($0)')" } ?? ""
                throw .invalidRequest(
                    "\(path).type: '\(type)'\(name) is a tool Anthropic runs or defines; an OpenAI model cannot use it. "
                        + "Remove it from 'tools' or give a custom tool with an input_schema.")
            }
            var function = JSONObject([("name", .string(try MessagesField.string(tool, "name", path: path)))])
            if let description = try MessagesField.optionalString(tool, "description", path: path) {
                function["description"] = .string(description)
            }
            guard let schema = MessagesField.optional(tool, "input_schema") else {
                throw MessagesField.missing("\(path).input_schema")
            }
            guard schema.objectValue != nil else {
                throw MessagesField.typeError("\(path).input_schema", "an object", schema)
            }
            function["parameters"] = schema
            if let strict = try MessagesField.bool(tool, "strict", path: path) { function["strict"] = .bool(strict) }
            for member in object.members {
                switch member.key {
                case "type", "name", "description", "input_schema", "strict": break
                default: notes.add("tool key \(member.key)")
                }
            }
            mapped.append(.object(JSONObject([("type", "function"), ("function", .object(function))])))
        }
        return mapped
    }

    /// The OpenAI `tool_choice` (nil: not sent) and `parallel_tool_calls` (nil: not sent).
    static func toolChoice(_ value: JSON) throws(APIError) -> (choice: JSON?, parallel: Bool?) {
        let path = "tool_choice"
        let type = try MessagesField.type(value, path: path)
        let choice: JSON
        switch type {
        case "auto": choice = "auto"
        case "any": choice = "required"
        case "none": choice = "none"
        case "tool":
            let name = try MessagesField.string(value, "name", path: path)
            choice = .object(
                JSONObject([("type", "function"), ("function", .object(JSONObject([("name", .string(name))])))]))
        default:
            throw .invalidRequest("tool_choice.type: expected 'auto', 'any', 'tool' or 'none', got '\(type)'")
        }
        let disable = try MessagesField.bool(value, "disable_parallel_tool_use", path: path) ?? false
        return (choice, disable && type != "none" ? false : nil)
    }
}

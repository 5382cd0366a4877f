/// How a tool that Claude calls is named back to the Responses client.
struct ClientToolName: Equatable, Sendable {
    enum Kind: Sendable { case function, custom }
    var kind: Kind
    /// The tool's own name (inside its namespace, if any).
    var name: String
    /// The namespace tool it was declared in; the client routes calls by (namespace, name).
    var namespace: String?
}

/// Responses `tools`, `tool_choice`, `parallel_tool_calls` and `text.format` → Anthropic `tools` and
/// `tool_choice`.
///
/// Rules (README-level; the tests hold them):
/// - `function` → `{name, description, input_schema: parameters}` (no parameters: an empty object schema).
///   `strict`, `defer_loading`, `allowed_callers`, `output_schema` have no Anthropic meaning and are left out.
/// - `custom` (Codex's freeform tools, e.g. `apply_patch`) → a tool whose input is `{"input": string}`;
///   a `grammar` format's syntax and definition are appended to the description, since Claude cannot be
///   held to a grammar. Claude's call comes back as a `custom_tool_call` with that string as `input`.
/// - `namespace` → its `function` and `custom` children, flattened: the upstream name is
///   `<namespace>__<name>` (`functions`, Codex's default namespace, adds no prefix). A call comes back
///   with the bare `name` and `namespace` set, as Codex routes by (namespace, name) and never splits
///   names. Names longer than Anthropic's 64 characters are cut to 55 and given `_` and 8 hex digits of
///   their FNV-1a hash. The same rule names the calls found in `input`, so history and tools agree.
/// - Hosted tools (`web_search*`, `file_search`, `computer*`, `image_generation`, `code_interpreter`,
///   `local_shell`, `shell`, `apply_patch`, `mcp`, `tool_search`, and any type added later) run on
///   OpenAI's side; Claude on Bedrock has none of them. They are dropped from the upstream request and
///   listed in `removed` (the proxy logs it), never passed off as function tools.
/// - `text.format` `json_schema` (and `json_object`) is honoured with a tool named after the format whose
///   `input_schema` is the schema, and a `tool_choice` that makes Claude answer through a tool: `auto` and
///   `required` → `any` (with other tools, Claude may still call those first), `none` → that tool. Its
///   call comes back as an assistant message whose `output_text` is the JSON. A schema whose root is not
///   an object cannot be a tool input: 400.
/// - `tool_choice`: `auto` → auto, `none` → none, `required` → any, `{type: function|custom, name}` →
///   `{type: tool, name}`, `allowed_tools` → the tools cut to the listed ones (mode `required` → any), a
///   hosted tool type → auto (noted in `removed`). `parallel_tool_calls: false` →
///   `disable_parallel_tool_use: true`.
/// - No tools left: neither `tools` nor `tool_choice` is sent (Anthropic refuses a choice without tools).
struct ResponsesToolMapping {
    static let maxNameBytes = 64
    static let defaultNamespace = "functions"

    private(set) var tools: [JSON] = []
    /// Upstream tool name → the client's name for it.
    private(set) var names: [String: ClientToolName] = [:]
    /// The tool that carries a `text.format` answer.
    private(set) var outputTool: String?
    private(set) var choice: JSONObject?
    private(set) var removed: [String] = []

    /// The choice makes Claude call a tool (`any` or a named one), which Anthropic refuses with thinking.
    var forcesTool: Bool {
        guard let type = choice?["type"]?.stringValue else { return false }
        return type == "any" || type == "tool"
    }

    init(tools declared: [(JSON, String)], toolChoice: JSON?, parallelToolCalls: Bool?, textFormat: JSON?)
        throws(APIError)
    {
        for (tool, path) in declared { try add(tool, path: path) }
        try addOutputTool(textFormat)
        try mapChoice(toolChoice)
        if parallelToolCalls == false, !tools.isEmpty, choice?["type"]?.stringValue != "none" {
            var withFlag = choice ?? JSONObject([("type", "auto")])
            withFlag["disable_parallel_tool_use"] = true
            choice = withFlag
        }
        if tools.isEmpty { choice = nil }
    }

    // MARK: Names

    /// The upstream name for a tool `name` in `namespace`.
    static func upstreamName(namespace: String?, name: String) -> String {
        var flat = name
        if let namespace, !namespace.isEmpty, namespace != defaultNamespace { flat = namespace + "__" + name }
        guard flat.utf8.count > maxNameBytes else { return flat }
        var hash: UInt32 = 2_166_136_261
        for byte in flat.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        let head = String(decoding: flat.utf8.prefix(maxNameBytes - 9), as: UTF8.self)
        return head + "_" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    // MARK: Tools

    private mutating func add(_ tool: JSON, path: String) throws(APIError) {
        guard tool.objectValue != nil else { throw RequestField.typeError(path, "an object", tool) }
        let type = try RequestField.string(tool, "type", path: path)
        switch type {
        case "function":
            try addFunction(tool, path: path, namespace: nil, namespaceDescription: nil)
        case "custom":
            try addCustom(tool, path: path, namespace: nil, namespaceDescription: nil)
        case "namespace":
            let namespace = try RequestField.string(tool, "name", path: path)
            let description = try Self.optionalString(tool, "description", path: path)
            guard let childrenValue = RequestField.optional(tool, "tools") else {
                throw RequestField.missing("\(path).tools")
            }
            guard let children = childrenValue.arrayValue else {
                throw RequestField.typeError("\(path).tools", "an array", childrenValue)
            }
            for (i, child) in children.enumerated() {
                let childPath = "\(path).tools[\(i)]"
                guard child.objectValue != nil else { throw RequestField.typeError(childPath, "an object", child) }
                switch try RequestField.string(child, "type", path: childPath) {
                case "function":
                    try addFunction(child, path: childPath, namespace: namespace, namespaceDescription: description)
                case "custom":
                    try addCustom(child, path: childPath, namespace: namespace, namespaceDescription: description)
                case let other:
                    throw .invalidRequest(
                        "Invalid value for '\(childPath).type': '\(other)'. A namespace holds 'function' and 'custom' tools."
                    )
                }
            }
        default:
            note("tool \(type)")
        }
    }

    private mutating func addFunction(
        _ tool: JSON, path: String, namespace: String?, namespaceDescription: String?
    ) throws(APIError) {
        let name = try RequestField.string(tool, "name", path: path)
        var out = JSONObject([("name", .string(try register(name, namespace: namespace, kind: .function, path: path)))])
        if let description = Self.join(namespaceDescription, try Self.optionalString(tool, "description", path: path)) {
            out["description"] = .string(description)
        }
        if let parameters = RequestField.optional(tool, "parameters") {
            guard parameters.objectValue != nil else {
                throw RequestField.typeError("\(path).parameters", "an object", parameters)
            }
            out["input_schema"] = parameters
        } else {
            out["input_schema"] = .object(JSONObject([("type", "object"), ("properties", .object(JSONObject()))]))
        }
        tools.append(.object(out))
    }

    private mutating func addCustom(
        _ tool: JSON, path: String, namespace: String?, namespaceDescription: String?
    ) throws(APIError) {
        let name = try RequestField.string(tool, "name", path: path)
        var description =
            Self.join(namespaceDescription, try Self.optionalString(tool, "description", path: path)) ?? ""
        if let format = RequestField.optional(tool, "format") {
            guard format.objectValue != nil else { throw RequestField.typeError("\(path).format", "an object", format) }
            let type = try RequestField.string(format, "type", path: "\(path).format")
            if type == "grammar" {
                let syntax = try Self.optionalString(format, "syntax", path: "\(path).format") ?? "lark"
                let definition = try RequestField.string(format, "definition", path: "\(path).format")
                description +=
                    (description.isEmpty ? "" : "\n\n")
                    + "Put the whole tool input in the `input` string. It must follow this \(syntax) grammar:\n"
                    + definition
            } else if type != "text" {
                throw .invalidRequest(
                    "Invalid value for '\(path).format.type': '\(type)'. Supported values are: 'text' and 'grammar'.")
            }
        }
        let inputSchema: JSON = [
            "type": "object",
            "properties": ["input": ["type": "string", "description": "The raw input for the tool."]],
            "required": ["input"],
        ]
        var out = JSONObject([("name", .string(try register(name, namespace: namespace, kind: .custom, path: path)))])
        if !description.isEmpty { out["description"] = .string(description) }
        out["input_schema"] = inputSchema
        tools.append(.object(out))
    }

    private mutating func register(_ name: String, namespace: String?, kind: ClientToolName.Kind, path: String)
        throws(APIError)
        -> String
    {
        let upstream = Self.upstreamName(namespace: namespace, name: name)
        guard names[upstream] == nil else {
            throw .invalidRequest(
                "Invalid value for '\(path).name': '\(name)' is declared twice (as the upstream tool '\(upstream)').")
        }
        names[upstream] = ClientToolName(kind: kind, name: name, namespace: namespace)
        return upstream
    }

    private mutating func addOutputTool(_ format: JSON?) throws(APIError) {
        guard let format else { return }
        guard format.objectValue != nil else { throw RequestField.typeError("text.format", "an object", format) }
        let type = try RequestField.string(format, "type", path: "text.format")
        let name: String
        let schema: JSON
        switch type {
        case "text": return
        case "json_object":
            name = "json_response"
            schema = ["type": "object"]
        case "json_schema":
            name = try RequestField.string(format, "name", path: "text.format")
            guard let value = RequestField.optional(format, "schema") else {
                throw RequestField.missing("text.format.schema")
            }
            guard value.objectValue != nil else {
                throw RequestField.typeError("text.format.schema", "an object", value)
            }
            if let root = value["type"], root.stringValue != "object" {
                throw .invalidRequest(
                    "Invalid value for 'text.format.schema': Anthropic models return structured output as a tool's "
                        + "input, which must be a JSON object; wrap the schema in an object.")
            }
            schema = value
        default:
            throw .invalidRequest(
                "Invalid value for 'text.format.type': '\(type)'. Supported values are: 'text', 'json_schema' and 'json_object'."
            )
        }
        guard names[name] == nil else {
            throw .invalidRequest("Invalid value for 'text.format.name': '\(name)' is also the name of a tool.")
        }
        var description = "Give your final answer by calling this tool; its input is the answer, as JSON."
        if let extra = try Self.optionalString(format, "description", path: "text.format"), !extra.isEmpty {
            description += " " + extra
        }
        tools.append(
            .object(
                JSONObject([("name", .string(name)), ("description", .string(description)), ("input_schema", schema)])))
        outputTool = name
    }

    // MARK: tool_choice

    private mutating func mapChoice(_ value: JSON?) throws(APIError) {
        var choiceType: String?
        var named: String?
        if let value {
            if let word = value.stringValue {
                switch word {
                case "auto", "none", "required": choiceType = word
                default:
                    throw .invalidRequest(
                        "Invalid value for 'tool_choice': '\(word)'. Supported values are: 'auto', 'none' and 'required'."
                    )
                }
            } else if value.objectValue != nil {
                let type = try RequestField.string(value, "type", path: "tool_choice")
                switch type {
                case "function", "custom":
                    let name = try RequestField.string(value, "name", path: "tool_choice")
                    named = try lookUp(name, kind: type == "function" ? .function : .custom)
                case "allowed_tools":
                    choiceType = try allowOnly(value)
                default:
                    // A hosted tool (`web_search_preview`, `file_search`, `mcp`, ...): it is not upstream.
                    note("tool_choice \(type)")
                    choiceType = "auto"
                }
            } else {
                throw RequestField.typeError("tool_choice", "a string or an object", value)
            }
        }
        if let named {
            choice = JSONObject([("type", "tool"), ("name", .string(named))])
        } else if let outputTool {
            choice =
                choiceType == "none"
                ? JSONObject([("type", "tool"), ("name", .string(outputTool))]) : JSONObject([("type", "any")])
        } else if let choiceType {
            choice = JSONObject([("type", .string(choiceType == "required" ? "any" : choiceType))])
        }
    }

    /// The upstream name of the declared tool the client calls `name`: a top-level one first, else the one
    /// namespaced tool of that name.
    private func lookUp(_ name: String, kind: ClientToolName.Kind) throws(APIError) -> String {
        let matches = names.filter { $0.value.name == name && $0.value.kind == kind }.sorted { $0.key < $1.key }
        if let plain = matches.first(where: { $0.value.namespace == nil }) { return plain.key }
        guard matches.count == 1, let only = matches.first else {
            throw .invalidRequest(
                matches.isEmpty
                    ? "Invalid value for 'tool_choice': no tool named '\(name)' is in 'tools'."
                    : "Invalid value for 'tool_choice': '\(name)' names tools in several namespaces.")
        }
        return only.key
    }

    /// `{"type":"allowed_tools","mode":...,"tools":[...]}`: keeps only the listed function and custom
    /// tools. Returns the choice type for the mode.
    private mutating func allowOnly(_ value: JSON) throws(APIError) -> String {
        let mode = try Self.optionalString(value, "mode", path: "tool_choice") ?? "auto"
        guard mode == "auto" || mode == "required" else {
            throw .invalidRequest(
                "Invalid value for 'tool_choice.mode': '\(mode)'. Supported values are: 'auto' and 'required'.")
        }
        guard let listValue = RequestField.optional(value, "tools") else {
            throw RequestField.missing("tool_choice.tools")
        }
        guard let list = listValue.arrayValue else {
            throw RequestField.typeError("tool_choice.tools", "an array", listValue)
        }
        var keep: Set<String> = []
        for (i, entry) in list.enumerated() {
            let path = "tool_choice.tools[\(i)]"
            guard entry.objectValue != nil else { throw RequestField.typeError(path, "an object", entry) }
            let type = try RequestField.string(entry, "type", path: path)
            guard type == "function" || type == "custom" else {
                note("tool_choice \(type)")
                continue
            }
            keep.insert(
                try lookUp(
                    try RequestField.string(entry, "name", path: path), kind: type == "function" ? .function : .custom))
        }
        tools.removeAll { tool in
            guard let name = tool["name"]?.stringValue else { return false }
            return names[name] != nil && !keep.contains(name)
        }
        return mode
    }

    // MARK: Helpers

    private mutating func note(_ phrase: String) {
        if !removed.contains(phrase) { removed.append(phrase) }
    }

    private static func optionalString(_ object: JSON, _ key: String, path: String) throws(APIError) -> String? {
        guard let value = RequestField.optional(object, key) else { return nil }
        guard let string = value.stringValue else { throw RequestField.typeError("\(path).\(key)", "a string", value) }
        return string
    }

    private static func join(_ first: String?, _ second: String?) -> String? {
        switch (first?.isEmpty == false ? first : nil, second?.isEmpty == false ? second : nil) {
        case (let a?, let b?): return a + "\n\n" + b
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }
}

/// An OpenAI Chat Completions request → an Anthropic-on-Bedrock `invoke` request.
///
/// Fields with no Anthropic meaning (`frequency_penalty`, `presence_penalty`, `logit_bias`, `seed`,
/// `store`, `service_tier`, `metadata`, `prediction`, `reasoning_effort`, `response_format` of type
/// `text`, ...) are dropped. Fields that would change the answer if ignored are refused with a 400:
/// `n` > 1, `logprobs: true`, `top_logprobs`, `response_format` `json_object`/`json_schema` (Anthropic
/// has no JSON mode; describe the format in the prompt or use a tool), audio output
/// (`modalities: ["audio"]`, `audio`), the deprecated `functions`/`function_call`, and a `temperature`
/// above 1 (Anthropic's range is 0...1). Two Anthropic fields are passed through for clients that know
/// them: `top_k` and `thinking`.
struct ChatRequestMapping {
    /// The client's model name, echoed in responses.
    var model: String
    var stream: Bool
    var includeUsage: Bool
    var path: String
    var body: JSON

    init(_ bytes: [UInt8], options: TranslationOptions) throws(APIError) {
        let root: JSON
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw .invalidRequest("The request body is not valid JSON: \(error.message) at offset \(error.offset).")
        }
        guard root.objectValue != nil else {
            throw .invalidRequest("The request body must be a JSON object, not \(RequestField.kind(of: root)).")
        }
        model = try RequestField.string(root, "model", path: "")
        if model.isEmpty { throw .invalidRequest("Invalid value for 'model': must not be empty.") }
        try Self.refuseUnsupported(root)

        guard let messagesValue = RequestField.optional(root, "messages") else { throw RequestField.missing("messages") }
        guard let messages = messagesValue.arrayValue else {
            throw RequestField.typeError("messages", "an array", messagesValue)
        }
        let mapped = try ChatMessagesMapping(messages)
        if mapped.turns.isEmpty {
            throw .invalidRequest("Invalid value for 'messages': at least one non-empty user or assistant message is required.")
        }

        stream = try Self.bool(root, "stream") ?? false
        includeUsage = false
        if let streamOptions = RequestField.optional(root, "stream_options") {
            guard streamOptions.objectValue != nil else {
                throw RequestField.typeError("stream_options", "an object", streamOptions)
            }
            includeUsage = try Self.bool(streamOptions, "include_usage", path: "stream_options") ?? false
        }

        var body = JSONObject()
        body["anthropic_version"] = "bedrock-2023-05-31"
        body["max_tokens"] = .number(JSONNumber(try Self.maxTokens(root) ?? options.defaultMaxTokens))
        if mapped.system.count == 1, let text = mapped.system[0]["text"] {
            body["system"] = text
        } else if !mapped.system.isEmpty {
            body["system"] = .array(mapped.system)
        }
        body["messages"] = .array(
            mapped.turns.map { .object(JSONObject([("role", .string($0.role)), ("content", .array($0.content))])) })
        try Self.mapTools(root, into: &body)
        if let temperature = try Self.number(root, "temperature") {
            guard let value = temperature.doubleValue, value >= 0, value <= 1 else {
                throw .invalidRequest("Invalid value for 'temperature': Anthropic models accept 0 to 1.")
            }
            body["temperature"] = .number(temperature)
        }
        if let topP = try Self.number(root, "top_p") { body["top_p"] = .number(topP) }
        if let topK = try Self.number(root, "top_k") { body["top_k"] = .number(topK) }
        if let stops = try Self.stopSequences(root) { body["stop_sequences"] = .array(stops) }
        if let user = RequestField.optional(root, "user") {
            guard let id = user.stringValue else { throw RequestField.typeError("user", "a string", user) }
            body["metadata"] = .object(JSONObject([("user_id", .string(id))]))
        }
        if let thinking = RequestField.optional(root, "thinking") {
            guard thinking.objectValue != nil else { throw RequestField.typeError("thinking", "an object", thinking) }
            body["thinking"] = thinking
        }
        self.body = .object(body)

        // The id is percent-encoded into one path segment by `BedrockModelID`; a segment of only dots
        // would still climb the path (`/model/../invoke`), and is never a model id.
        let modelID = BedrockModelID.id(for: model, aliases: options.modelAliases)
        if modelID.utf8.allSatisfy({ $0 == UInt8(ascii: ".") }) {
            throw .invalidRequest("Invalid value for 'model': '\(model)' is not a model id.")
        }
        path = BedrockModelID.path(
            template: options.upstreamPath, model: model, aliases: options.modelAliases, stream: stream)
    }

    // MARK: Fields

    private static func refuseUnsupported(_ root: JSON) throws(APIError) {
        if let n = RequestField.optional(root, "n") {
            guard let count = n.intValue else { throw RequestField.typeError("n", "an integer", n) }
            if count != 1 { throw .invalidRequest("Invalid value for 'n': Anthropic models return one choice; use n = 1.") }
        }
        if let logprobs = RequestField.optional(root, "logprobs") {
            guard let on = logprobs.boolValue else { throw RequestField.typeError("logprobs", "a boolean", logprobs) }
            if on { throw .invalidRequest("Invalid value for 'logprobs': Anthropic models do not return log probabilities.") }
        }
        if RequestField.optional(root, "top_logprobs") != nil {
            throw .invalidRequest("Invalid value for 'top_logprobs': Anthropic models do not return log probabilities.")
        }
        if let format = RequestField.optional(root, "response_format") {
            guard format.objectValue != nil else { throw RequestField.typeError("response_format", "an object", format) }
            let type = try RequestField.string(format, "type", path: "response_format")
            if type != "text" {
                throw .invalidRequest(
                    "Invalid value for 'response_format.type': '\(type)' is not supported by Anthropic models; "
                        + "describe the format in the prompt or use a tool.")
            }
        }
        if let modalities = RequestField.optional(root, "modalities") {
            guard let list = modalities.arrayValue else { throw RequestField.typeError("modalities", "an array", modalities) }
            for item in list where item.stringValue != "text" {
                throw .invalidRequest("Invalid value for 'modalities': Anthropic models only produce text.")
            }
        }
        if RequestField.optional(root, "audio") != nil {
            throw .invalidRequest("Invalid value for 'audio': Anthropic models do not produce audio.")
        }
        if RequestField.optional(root, "functions") != nil || RequestField.optional(root, "function_call") != nil {
            throw .invalidRequest("The deprecated 'functions' and 'function_call' are not supported; use 'tools'.")
        }
    }

    /// `max_completion_tokens` wins over the older `max_tokens`.
    private static func maxTokens(_ root: JSON) throws(APIError) -> Int? {
        for key in ["max_completion_tokens", "max_tokens"] {
            guard let value = RequestField.optional(root, key) else { continue }
            guard let count = value.intValue else { throw RequestField.typeError(key, "an integer", value) }
            guard count >= 1 else { throw .invalidRequest("Invalid value for '\(key)': must be at least 1.") }
            return count
        }
        return nil
    }

    private static func stopSequences(_ root: JSON) throws(APIError) -> [JSON]? {
        guard let stop = RequestField.optional(root, "stop") else { return nil }
        if stop.stringValue != nil { return [stop] }
        guard let list = stop.arrayValue else {
            throw RequestField.typeError("stop", "a string or an array of strings", stop)
        }
        for (i, item) in list.enumerated() where item.stringValue == nil {
            throw RequestField.typeError("stop[\(i)]", "a string", item)
        }
        return list.isEmpty ? nil : list
    }

    private static func mapTools(_ root: JSON, into body: inout JSONObject) throws(APIError) {
        guard let toolsValue = RequestField.optional(root, "tools") else { return }
        guard let tools = toolsValue.arrayValue else { throw RequestField.typeError("tools", "an array", toolsValue) }
        // Anthropic refuses `tool_choice` without tools; OpenAI clients send `tool_choice: "none"` and
        // `parallel_tool_calls` with an empty list freely, so those are dropped with the list.
        if tools.isEmpty { return }
        var mapped: [JSON] = []
        for (i, tool) in tools.enumerated() {
            let path = "tools[\(i)]"
            guard tool.objectValue != nil else { throw RequestField.typeError(path, "an object", tool) }
            let type = try RequestField.string(tool, "type", path: path)
            guard type == "function" else {
                throw .invalidRequest("Invalid value for '\(path).type': only 'function' tools are supported.")
            }
            guard let function = RequestField.optional(tool, "function") else { throw RequestField.missing("\(path).function") }
            guard function.objectValue != nil else { throw RequestField.typeError("\(path).function", "an object", function) }
            var out = JSONObject([("name", .string(try RequestField.string(function, "name", path: "\(path).function")))])
            if let description = RequestField.optional(function, "description") {
                guard description.stringValue != nil else {
                    throw RequestField.typeError("\(path).function.description", "a string", description)
                }
                out["description"] = description
            }
            if let parameters = RequestField.optional(function, "parameters") {
                guard parameters.objectValue != nil else {
                    throw RequestField.typeError("\(path).function.parameters", "an object", parameters)
                }
                out["input_schema"] = parameters
            } else {
                out["input_schema"] = .object(JSONObject([("type", "object"), ("properties", .object(JSONObject()))]))
            }
            mapped.append(.object(out))
        }
        body["tools"] = .array(mapped)

        var choice: JSONObject?
        if let value = RequestField.optional(root, "tool_choice") {
            if let word = value.stringValue {
                switch word {
                case "auto": choice = JSONObject([("type", "auto")])
                case "none": choice = JSONObject([("type", "none")])
                case "required": choice = JSONObject([("type", "any")])
                default:
                    throw .invalidRequest(
                        "Invalid value for 'tool_choice': '\(word)'. Supported values are: 'auto', 'none' and 'required'.")
                }
            } else if value.objectValue != nil {
                let type = try RequestField.string(value, "type", path: "tool_choice")
                guard type == "function", let function = value["function"] else {
                    throw .invalidRequest("Invalid value for 'tool_choice': expected {\"type\":\"function\",\"function\":{\"name\":...}}.")
                }
                let name = try RequestField.string(function, "name", path: "tool_choice.function")
                choice = JSONObject([("type", "tool"), ("name", .string(name))])
            } else {
                throw RequestField.typeError("tool_choice", "a string or an object", value)
            }
        }
        if try bool(root, "parallel_tool_calls") == false, choice?["type"]?.stringValue != "none" {
            var withFlag = choice ?? JSONObject([("type", "auto")])
            withFlag["disable_parallel_tool_use"] = true
            choice = withFlag
        }
        if let choice { body["tool_choice"] = .object(choice) }
    }

    private static func bool(_ object: JSON, _ key: String, path: String = "") throws(APIError) -> Bool? {
        guard let value = RequestField.optional(object, key) else { return nil }
        guard let flag = value.boolValue else {
            throw RequestField.typeError(path.isEmpty ? key : "\(path).\(key)", "a boolean", value)
        }
        return flag
    }

    private static func number(_ object: JSON, _ key: String) throws(APIError) -> JSONNumber? {
        guard let value = RequestField.optional(object, key) else { return nil }
        guard case .number(let number) = value else { throw RequestField.typeError(key, "a number", value) }
        return number
    }
}

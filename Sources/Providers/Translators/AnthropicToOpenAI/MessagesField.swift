/// Field checks for Anthropic Messages requests. Errors name the field as Anthropic's own validation
/// does (`messages.2.content.0.type: ...`), and are 400 `invalid_request_error`s, which the proxy renders
/// in Anthropic's error shape.
enum MessagesField: FieldChecks {
    static func missing(_ path: String) -> APIError {
        .invalidRequest("\(path): Field required")
    }

    static func typeError(_ path: String, _ expected: String, _ got: JSON) -> APIError {
        .invalidRequest("\(path): expected \(expected), got \(kind(of: got))")
    }

    /// An optional string member.
    static func optionalString(_ object: JSON, _ key: String, path: String) throws(APIError) -> String? {
        guard let value = optional(object, key) else { return nil }
        guard let text = value.stringValue else { throw typeError(join(path, key), "a string", value) }
        return text
    }

    static func bool(_ object: JSON, _ key: String, path: String) throws(APIError) -> Bool? {
        guard let value = optional(object, key) else { return nil }
        guard let flag = value.boolValue else { throw typeError(join(path, key), "a boolean", value) }
        return flag
    }

    static func number(_ object: JSON, _ key: String, path: String) throws(APIError) -> JSONNumber? {
        guard let value = optional(object, key) else { return nil }
        guard let number = value.numberValue else { throw typeError(join(path, key), "a number", value) }
        return number
    }

    /// The `type` of a content block or tool; required.
    static func type(_ block: JSON, path: String) throws(APIError) -> String {
        guard block.objectValue != nil else { throw typeError(path, "an object", block) }
        return try string(block, "type", path: path)
    }
}

/// What the translation removed from the client's request, as short phrases without values
/// (`field context_management`, `cache_control`, `tool key defer_loading`), each once, in the order met.
/// The proxy logs them (`ExchangeTranslator.removedForUpstream`).
struct RemovedNotes {
    private(set) var list: [String] = []

    mutating func add(_ phrase: String) {
        if !list.contains(phrase) { list.append(phrase) }
    }
}

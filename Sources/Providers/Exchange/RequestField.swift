/// Field checks for client requests, with OpenAI-style messages that name the offending field
/// (`'messages[2].content'`), since `APIError` has no separate `param`.
enum RequestField {
    static func missing(_ path: String) -> APIError {
        .invalidRequest("Missing required parameter: '\(path)'.")
    }

    static func typeError(_ path: String, _ expected: String, _ got: JSON) -> APIError {
        .invalidRequest("Invalid type for '\(path)': expected \(expected), but got \(kind(of: got)).")
    }

    static func kind(of value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A required string member of `object`.
    static func string(_ object: JSON, _ key: String, path: String) throws(APIError) -> String {
        let fieldPath = path.isEmpty ? key : "\(path).\(key)"
        guard let value = object[key], !value.isNull else { throw missing(fieldPath) }
        guard let string = value.stringValue else { throw typeError(fieldPath, "a string", value) }
        return string
    }

    /// An optional member: absent and `null` are the same.
    static func optional(_ object: JSON, _ key: String) -> JSON? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }
}

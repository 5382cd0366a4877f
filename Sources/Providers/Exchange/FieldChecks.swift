/// Field checks on a client's JSON request, the same for every ingress. A dialect's conformer
/// (`RequestField` for OpenAI's, `MessagesField` for Anthropic's) words the two errors as its API does;
/// the checks below build on them.
protocol FieldChecks {
    /// A required member is absent (or `null`); `path` names it.
    static func missing(_ path: String) -> APIError
    /// A member at `path` is `got` where `expected` (e.g. `a string`) was required.
    static func typeError(_ path: String, _ expected: String, _ got: JSON) -> APIError
}

extension FieldChecks {
    /// What a value is, in the words of a type error: `a string`, `an object`, `null`...
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

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// An optional member: absent and `null` are the same.
    static func optional(_ object: JSON, _ key: String) -> JSON? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    /// A required string member of `object`, at `path`.
    static func string(_ object: JSON, _ key: String, path: String) throws(APIError) -> String {
        let fieldPath = join(path, key)
        guard let value = optional(object, key) else { throw missing(fieldPath) }
        guard let text = value.stringValue else { throw typeError(fieldPath, "a string", value) }
        return text
    }
}

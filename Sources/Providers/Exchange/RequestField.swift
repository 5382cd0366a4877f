/// Field checks for client requests, with OpenAI-style messages that name the offending field
/// (`'messages[2].content'`), since `APIError` has no separate `param`.
enum RequestField: FieldChecks {
    static func missing(_ path: String) -> APIError {
        .invalidRequest("Missing required parameter: '\(path)'.")
    }

    static func typeError(_ path: String, _ expected: String, _ got: JSON) -> APIError {
        .invalidRequest("Invalid type for '\(path)': expected \(expected), but got \(kind(of: got)).")
    }
}

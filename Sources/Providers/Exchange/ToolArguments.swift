/// An OpenAI function call's `arguments` (a JSON text in a string) as the `input` object of the Anthropic
/// `tool_use` block both OpenAI-shaped ingresses (Chat `tool_calls`, Responses `function_call` items)
/// turn it into.
enum ToolArguments {
    /// The object `arguments` holds; blank arguments are `{}`. Errors name `path`.
    static func input(_ arguments: String, path: String) throws(APIError) -> JSON {
        if arguments.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .object(JSONObject())
        }
        let input: JSON
        do {
            input = try JSONParser.parse(Array(arguments.utf8))
        } catch {
            throw .invalidRequest(
                "Invalid value for '\(path)': not valid JSON (\(error.message) at offset \(error.offset)).")
        }
        guard input.objectValue != nil else {
            throw .invalidRequest("Invalid value for '\(path)': must be a JSON object.")
        }
        return input
    }
}

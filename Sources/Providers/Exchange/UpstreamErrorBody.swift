/// Reads an upstream error body, whatever its shape, into a type and a message.
///
/// Shapes seen: Anthropic `{"type":"error","error":{"type","message"}}`, OpenAI
/// `{"error":{"message","type","code"}}`, `{"error":"text"}`, Bedrock/AI-Gateway `{"message":"..."}` and
/// `{"Message":"..."}`; anything else yields a generic message naming the status.
public enum UpstreamErrorBody {
    public struct Parsed: Sendable, Equatable {
        public var type: String?
        public var message: String
        public var code: String?
    }

    public static func parse(status: Int, body: [UInt8]) -> Parsed {
        let generic = Parsed(type: nil, message: "upstream returned HTTP \(status)", code: nil)
        guard let json = try? JSONParser.parse(body), case .object(let o) = json else {
            return generic
        }
        if let error = o["error"] {
            if let m = error.stringValue { return Parsed(type: nil, message: m, code: nil) }
            if let e = error.objectValue, let m = e["message"]?.stringValue {
                return Parsed(type: e["type"]?.stringValue, message: m, code: e["code"]?.stringValue)
            }
        }
        if let m = o["message"]?.stringValue ?? o["Message"]?.stringValue {
            return Parsed(type: nil, message: m, code: nil)
        }
        return generic
    }

    /// The upstream error as an `APIError` for an Anthropic client (type mapped by status).
    public static func anthropicError(status: Int, body: [UInt8], retryAfter: String?) -> APIError {
        let p = parse(status: status, body: body)
        return APIError(
            status: status, type: APIError.anthropicType(status: status, fallback: p.type ?? "api_error"),
            message: p.message, retryAfter: retryAfter)
    }

    /// The upstream error as an `APIError` for an OpenAI client.
    public static func openAIError(status: Int, body: [UInt8], retryAfter: String?) -> APIError {
        let p = parse(status: status, body: body)
        return APIError(
            status: status, type: p.type ?? APIError.openAIType(status: status), message: p.message, code: p.code,
            retryAfter: retryAfter)
    }
}

/// An error the client sees, rendered in the client's own API dialect.
///
/// `type` uses OpenAI's and Anthropic's words (`invalid_request_error`, `authentication_error`,
/// `rate_limit_error`, `api_error`, `overloaded_error`, ...). The message must never contain a credential.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var type: String
    public var message: String
    /// OpenAI's `code` (e.g. `upstream_timeout`); Anthropic has none.
    public var code: String?
    /// Kept from an upstream 429/503.
    public var retryAfter: String?

    public init(status: Int, type: String, message: String, code: String? = nil, retryAfter: String? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.code = code
        self.retryAfter = retryAfter
    }

    public static func invalidRequest(_ message: String, code: String? = nil) -> APIError {
        APIError(status: 400, type: "invalid_request_error", message: message, code: code)
    }
}

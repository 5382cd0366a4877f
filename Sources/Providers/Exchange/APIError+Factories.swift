/// The proxy's own errors. `type` uses OpenAI's words; the Anthropic rendering maps by status
/// (see `APIError.anthropicType`).
extension APIError {
    public static func badGateway(_ message: String) -> APIError {
        APIError(status: 502, type: "api_error", message: message)
    }

    public static func gatewayTimeout(_ message: String) -> APIError {
        APIError(status: 504, type: "api_error", message: message, code: "upstream_timeout")
    }

    public static func serviceUnavailable(_ message: String, retryAfter: String? = nil) -> APIError {
        APIError(status: 503, type: "api_error", message: message, retryAfter: retryAfter)
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(status: 404, type: "invalid_request_error", message: message, code: "not_found")
    }

    public static func methodNotAllowed(_ message: String) -> APIError {
        APIError(status: 405, type: "invalid_request_error", message: message, code: "method_not_allowed")
    }

    public static func payloadTooLarge(_ message: String) -> APIError {
        APIError(status: 413, type: "invalid_request_error", message: message, code: "request_too_large")
    }

    public static func unauthorized(_ message: String) -> APIError {
        APIError(status: 401, type: "authentication_error", message: message)
    }

    /// The upstream broke the protocol it promised: a 502 in OpenAI's words.
    static func upstreamProtocol(_ message: String) -> APIError {
        APIError(status: 502, type: "api_error", message: message, code: "bad_upstream_response")
    }

    /// Anthropic's error type for an HTTP status. Statuses without a dedicated type keep `type` when it is
    /// one of Anthropic's words and otherwise become `api_error`.
    public static func anthropicType(status: Int, fallback type: String = "api_error") -> String {
        switch status {
        case 400: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        case 429: return "rate_limit_error"
        case 500: return "api_error"
        case 503, 529: return "overloaded_error"
        default:
            switch type {
            case "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
                "request_too_large", "rate_limit_error", "api_error", "overloaded_error", "timeout_error":
                return type
            default: return "api_error"
            }
        }
    }

    /// OpenAI's error type for an upstream status, when an upstream error body gave none.
    public static func openAIType(status: Int) -> String {
        switch status {
        case 400, 404, 405, 413, 422: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 429: return "rate_limit_error"
        default: return "api_error"
        }
    }
}

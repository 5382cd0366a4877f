/// Cross-origin settings: how the proxy answers a browser's `OPTIONS` preflight locally and which
/// `Access-Control-*` headers it adds to responses (YAML `cors:`, globally or per route).
///
/// `Access-Control-Allow-Headers: *` would not cover `Authorization` (the Fetch standard exempts it
/// from the wildcard), so the default is an explicit list of what the OpenAI and Anthropic SDKs send.
package struct CORSConfig: Sendable, Equatable {
    package static let defaultAllowHeaders = [
        "authorization", "content-type", "x-api-key", "x-request-id",
        "anthropic-version", "anthropic-beta", "anthropic-dangerous-direct-browser-access",
        "openai-organization", "openai-project", "openai-beta",
        "x-stainless-arch", "x-stainless-async", "x-stainless-helper-method", "x-stainless-lang",
        "x-stainless-os", "x-stainless-package-version", "x-stainless-retry-count", "x-stainless-runtime",
        "x-stainless-runtime-version", "x-stainless-timeout",
    ].joined(separator: ", ")

    /// `allow_origin`: `*` or one origin (`https://app.example.com`). Default `*`.
    package var allowOrigin: String = "*"
    /// `allow_methods`: default `GET, POST, OPTIONS`.
    package var allowMethods: String = "GET, POST, OPTIONS"
    /// `allow_headers`: default `CORSConfig.defaultAllowHeaders`.
    package var allowHeaders: String = CORSConfig.defaultAllowHeaders
    /// `expose_headers`: response headers a page may read. Default `x-request-id, request-id, retry-after`.
    package var exposeHeaders: String = "x-request-id, request-id, retry-after"
    /// `max_age`: seconds a browser may cache the preflight. Default 86400.
    package var maxAge: Int = 86400
    /// `allow_credentials`: send `Access-Control-Allow-Credentials: true`. Needs a specific origin.
    package var allowCredentials: Bool = false

    package init() {}
}

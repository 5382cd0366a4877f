import Providers

/// One route (YAML `routes[i]`): which requests it takes, where they go, and how they are translated.
package struct RouteConfig: Sendable {
    /// HTTP methods a passthrough route takes by default.
    package static let allMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Exact path, or for a prefix route (`/google/*` in YAML) the prefix without the `*` (`/google/`).
    package var path: String
    package var isPrefix: Bool
    /// Uppercased. Default `["POST"]`, or `RouteConfig.allMethods` for passthrough routes.
    /// An `OPTIONS` preflight is answered locally whenever CORS is on, whatever this list says.
    package var methods: [String]
    /// Name of an entry in `ProxyConfig.upstreams` (checked at load).
    package var upstream: String
    /// The upstream request path, appended to the upstream URL's base path.
    /// openai-chat egress: the path itself. bedrock-anthropic egress: a template with `{model}` and
    /// `{action}`, default `/v1/bedrock/model/{model}/{action}`. Passthrough: the path, or for a prefix
    /// route the replacement prefix (ends with `/`; the rest of the client path is appended).
    package var upstreamPath: String
    package var ingress: Dialect
    package var egress: Dialect
    /// `rename_max_tokens`: rewrite a client's `max_tokens` into `max_completion_tokens`.
    package var renameMaxTokens: Bool
    /// `default_max_tokens`: sent to Anthropic when an OpenAI client gave none. Default 4096.
    package var defaultMaxTokens: Int
    /// `model_aliases`: client model name → upstream model id, before the built-in Bedrock id rules.
    package var modelAliases: [String: String]
    /// `set_headers`: added to (or replacing) upstream request headers, after the upstream's headers.
    package var setHeaders: [(name: String, value: String)]
    /// `remove_headers`: lowercased names of client headers not to forward.
    package var removeHeaders: [String]
    /// The **effective** CORS settings, resolved at load: a route without `cors:` gets the global
    /// `cors:`, `cors: false` gives nil, `cors: true` the defaults, a mapping overrides keys of the
    /// global one. nil means CORS is off on this route: do not fall back to `ProxyConfig.cors`.
    package var cors: CORSConfig?
    /// `timeouts`: the upstream's timeouts with this route's keys applied over them (already merged);
    /// nil when the route sets none. `ProxyConfig.timeouts(for:)` gives the effective ones.
    package var timeouts: UpstreamTimeouts?
    /// `keep_alive_interval`: while a streaming request waits for its first upstream byte, send an
    /// SSE comment (or Anthropic `ping`) this often. Milliseconds, default 15 s, 0 = off.
    package var keepAliveInterval: Int
    /// `models_path`: also answer `GET <modelsPath>` with `models` in this route's ingress dialect.
    package var modelsPath: String?
    /// `profile`: what the Bedrock upstream accepts (anthropic-messages → bedrock-anthropic routes;
    /// `bedrock-claude` by default there). nil: the body goes as translated.
    package var profile: BedrockProfile?
    /// `retries`: when the upstream is tried again before the client gets an answer.
    package var retries = RetryPolicy()
    /// `fallbacks`: further targets, in order, tried when the one before fails in a retryable way
    /// (or its circuit is open).
    package var fallbacks: [FallbackTarget] = []
    /// `circuit`: consecutive retryable failures that open a target's circuit, and for how long.
    package var circuit = CircuitPolicy()

    package init(
        path: String, isPrefix: Bool = false, methods: [String]? = nil, upstream: String, upstreamPath: String,
        ingress: Dialect, egress: Dialect, renameMaxTokens: Bool = false, defaultMaxTokens: Int = 4096,
        modelAliases: [String: String] = [:], setHeaders: [(name: String, value: String)] = [],
        removeHeaders: [String] = [], cors: CORSConfig? = nil, timeouts: UpstreamTimeouts? = nil,
        keepAliveInterval: Int = 15_000, modelsPath: String? = nil
    ) {
        self.path = path
        self.isPrefix = isPrefix
        self.methods = methods ?? (ingress == .passthrough ? RouteConfig.allMethods : ["POST"])
        self.upstream = upstream
        self.upstreamPath = upstreamPath
        self.ingress = ingress
        self.egress = egress
        self.renameMaxTokens = renameMaxTokens
        self.defaultMaxTokens = defaultMaxTokens
        self.modelAliases = modelAliases
        self.setHeaders = setHeaders
        self.removeHeaders = removeHeaders
        self.cors = cors
        self.timeouts = timeouts
        self.keepAliveInterval = keepAliveInterval
        self.modelsPath = modelsPath
    }

    /// The dialect pairs a route may name; everything else is refused at load.
    package static let supportedPairs: [(ingress: Dialect, egress: Dialect)] = [
        (.openAIChat, .openAIChat), (.anthropicMessages, .bedrockAnthropic), (.openAIChat, .bedrockAnthropic),
        (.openAIResponses, .bedrockAnthropic), (.anthropicMessages, .openAIChat), (.passthrough, .passthrough),
    ]

    package static func isSupported(ingress: Dialect, egress: Dialect) -> Bool {
        supportedPairs.contains { $0.ingress == ingress && $0.egress == egress }
    }

    /// Whether a request path falls under this route (exact match, or prefix match for prefix routes).
    package func matches(path requestPath: String) -> Bool {
        isPrefix ? requestPath.hasPrefix(path) : requestPath == path
    }

    /// For a request this route matched, the upstream path (before the upstream's base path).
    /// Prefix routes replace the prefix; exact routes use `upstreamPath` as is.
    package func upstreamPath(forRequestPath requestPath: String) -> String {
        guard isPrefix, requestPath.hasPrefix(path) else { return upstreamPath }
        return upstreamPath + requestPath.dropFirst(path.count)
    }

    /// The `TranslationOptions` this route hands to its translator.
    package var translationOptions: TranslationOptions {
        TranslationOptions(
            upstreamPath: upstreamPath, renameMaxTokens: renameMaxTokens, defaultMaxTokens: defaultMaxTokens,
            modelAliases: modelAliases, profile: profile)
    }
}

import Providers

/// The whole configuration, validated: every upstream name resolves, every dialect pair is supported,
/// every header is sendable. Built by `ConfigLoader`; the server reads it and never mutates it.
package struct ProxyConfig: Sendable {
    /// `listen`, default `127.0.0.1:3001`.
    package var listen: HostPort
    /// `workers`: event loops (threads), 1...64, default 1.
    package var workers: Int
    package var limits: ServerLimits
    package var upstreams: [String: UpstreamConfig]
    /// In file order; matching is first-match.
    package var routes: [RouteConfig]
    package var models: [ModelConfig]
    /// `inbound_keys` (or `auth_keys`): when non-empty, clients must send one of them as
    /// `Authorization: Bearer <key>` or `x-api-key: <key>`. Entries that expand to empty are dropped.
    package var inboundKeys: [String]
    /// The keys' names, for the access log (`{name: team-a, key: ...}`; a bare key is `key-N`, N
    /// counting from 1 in file order). Never the key itself.
    package var inboundKeyNames: [String] = []
    /// The global `cors:`; routes already carry their effective settings in `RouteConfig.cors`.
    package var cors: CORSConfig?
    /// `log_level`: `debug`, `info` (default), `warning` or `error`.
    package var logLevel: String
    /// `access_log`: one line per exchange. Default true.
    package var accessLog: Bool
    /// Things that load but deserve a look (TLS verification off, package listener without keys...).
    /// Each is `key.path: message`. The CLI prints them at start and in `check`.
    package var warnings: [String]
    /// `access_log: {format: …}`: `text` (one line of `key=value`s) or `json` (JSON lines).
    package var accessLogFormat = "text"
    /// `access_log: {path: …}`: `stderr`, `stdout` or a file (reopened on SIGUSR1).
    package var accessLogPath = "stderr"
    /// `profiles`: named upstream profiles routes can refer to (beside the built-in ones).
    package var profiles: [String: BedrockProfile] = [:]
    /// `metrics`: the Prometheus endpoint (on by default at `/metrics` on the main listener).
    package var metrics = MetricsConfig()
    /// `tracing`: OpenTelemetry spans over OTLP/HTTP (off by default).
    package var tracing = TracingConfig()

    package init(
        listen: HostPort = HostPort(host: "127.0.0.1", port: 3001), workers: Int = 1,
        limits: ServerLimits = ServerLimits(), upstreams: [String: UpstreamConfig] = [:],
        routes: [RouteConfig] = [], models: [ModelConfig] = [], inboundKeys: [String] = [],
        cors: CORSConfig? = nil, logLevel: String = "info", accessLog: Bool = true, warnings: [String] = []
    ) {
        self.listen = listen
        self.workers = workers
        self.limits = limits
        self.upstreams = upstreams
        self.routes = routes
        self.models = models
        self.inboundKeys = inboundKeys
        self.cors = cors
        self.logLevel = logLevel
        self.accessLog = accessLog
        self.warnings = warnings
    }

    /// The models a route's models endpoint lists: those whose `dialects` include the route's egress.
    package func models(for route: RouteConfig) -> [ModelConfig] {
        models.filter { $0.dialects?.contains(route.egress) ?? true }
    }

    /// The timeouts that apply to a route: its own (merged at load) or its upstream's.
    package func timeouts(for route: RouteConfig) -> UpstreamTimeouts {
        route.timeouts ?? upstreams[route.upstream]?.timeouts ?? UpstreamTimeouts()
    }
}

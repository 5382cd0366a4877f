/// Limits and timeouts for client connections (YAML `limits:`).
///
/// Sizes are bytes, durations are milliseconds. Each limit has its own HTTP status in the server:
/// the head (431), the header count (431), the body (413), connections (503).
package struct ServerLimits: Sendable, Equatable {
    /// Request line plus headers. `max_head_bytes`, default 64 KiB.
    package var maxHeadBytes: Int = 65536
    /// `max_header_count`, default 100.
    package var maxHeaderCount: Int = 100
    /// `max_body_bytes`, default 32 MiB.
    package var maxBodyBytes: Int = 32 << 20
    /// Open client connections per worker; past it, new connections get a 503. `max_connections`.
    package var maxConnections: Int = 10000
    /// From a connection's first byte (or the end of the previous response) to the end of the head:
    /// the slowloris guard. `head_timeout`, default 30 s.
    package var headTimeout: Int = 30_000
    /// Longest gap while reading a request body. `body_timeout`, default 60 s.
    package var bodyTimeout: Int = 60_000
    /// How long an idle keep-alive connection stays open. `keep_alive_timeout`, default 75 s
    /// (longer than common load-balancer idle limits of 60 s, so the balancer closes first).
    package var keepAliveTimeout: Int = 75_000
    /// On SIGTERM/SIGINT, how long in-flight exchanges may finish. `shutdown_grace`, default 30 s.
    package var shutdownGrace: Int = 30_000

    package init() {}
}

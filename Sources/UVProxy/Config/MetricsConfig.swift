/// `metrics`: the Prometheus endpoint. On by default, at `GET /metrics` on the main listener; `listen`
/// moves it to an admin listener of its own (the main listener then does not answer it).
package struct MetricsConfig: Sendable, Equatable {
    /// `enabled`, default true. Off: no endpoint and nothing recorded (no clock read per request).
    package var enabled = true
    /// `path`, default `/metrics`.
    package var path = "/metrics"
    /// `listen`: an admin address for the endpoint alone (served by the first worker's loop).
    package var listen: HostPort?

    package init(enabled: Bool = true, path: String = "/metrics", listen: HostPort? = nil) {
        self.enabled = enabled
        self.path = path
        self.listen = listen
    }
}

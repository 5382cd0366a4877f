/// `metrics: true | false | {enabled, path, listen}`.
extension ConfigLoader {
    static let metricsKeys = ["enabled", "path", "listen"]

    static func parseMetrics(_ node: ConfigNode, config: ProxyConfig, warnings: inout [String]) throws(ConfigError)
        -> MetricsConfig
    {
        var metrics = MetricsConfig()
        if case .scalar = node.node {
            metrics.enabled = try node.bool()
            return metrics
        }
        let m = try node.mapping(allowed: metricsKeys)
        if let n = m["enabled"] { metrics.enabled = try n.bool() }
        if let n = m["path"] {
            let path = try n.string()
            if let problem = ConfigSyntax.pathProblem(path) { throw n.error("'\(path)' \(problem)") }
            metrics.path = path
        }
        if let n = m["listen"] {
            let listen = try HostPort.parse(try n.string(), path: n.path)
            if listen.port != 0, listen.port == config.listen.port, listen.host == config.listen.host {
                throw n.error("\(listen) is the main listener; leave listen out to serve metrics there")
            }
            if !listen.isLoopback {
                warnings.append(
                    "\(n.path): \(listen) is reachable from other machines and serves metrics without a key")
            }
            metrics.listen = listen
        }
        return metrics
    }

    /// A route on the metrics path, which the endpoint hides on the main listener (it is answered
    /// before routing). Prefix routes are not named: a catch-all `/*` would warn in every such config.
    static func metricsWarnings(_ config: ProxyConfig) -> [String] {
        let m = config.metrics
        guard m.enabled, m.listen == nil else { return [] }
        return config.routes.enumerated().compactMap { i, r in
            !r.isPrefix && r.path == m.path ? "metrics.path: \(m.path) is answered before routes[\(i)] sees it" : nil
        }
    }
}

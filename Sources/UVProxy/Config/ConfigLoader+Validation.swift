/// Whole-config checks that need every route at once: conflicts, shadowing, risky settings.
extension ConfigLoader {
    /// The path the built-in health check answers (GET), which no route may take.
    package static let healthPath = "/healthz"

    /// One (path, methods) claim a route makes: its own path, and its models endpoint.
    private struct Claim {
        var keyPath: String
        var route: Int
        var path: String
        var isPrefix: Bool
        var methods: [String]
    }

    /// Two claims on the same path and method are an error (the second could never be reached); a
    /// claim fully covered by an earlier prefix route is a warning (first-match makes it dead).
    static func checkRouteConflicts(_ routes: [RouteConfig], warnings: inout [String]) throws(ConfigError) {
        var claims: [Claim] = []
        for (i, route) in routes.enumerated() {
            claims.append(Claim(keyPath: "routes[\(i)].path", route: i, path: route.path, isPrefix: route.isPrefix,
                                methods: route.methods))
            if let modelsPath = route.modelsPath {
                claims.append(Claim(keyPath: "routes[\(i)].models_path", route: i, path: modelsPath, isPrefix: false,
                                    methods: ["GET"]))
            }
        }
        for (j, later) in claims.enumerated() {
            if !later.isPrefix && later.path == healthPath && later.methods.contains("GET") {
                throw ConfigError(path: later.keyPath, message: "GET \(healthPath) is the built-in health check")
            }
            for earlier in claims[..<j] {
                let shared = later.methods.filter(earlier.methods.contains)
                if later.isPrefix == earlier.isPrefix && later.path == earlier.path, let method = shared.first {
                    let shown = later.isPrefix ? later.path + "*" : later.path
                    let owner = earlier.route == later.route ? earlier.keyPath : "routes[\(earlier.route)]"
                    throw ConfigError(path: later.keyPath, message: "\(method) \(shown) is already routed by \(owner)")
                }
            }
        }
    }

    static func usageWarnings(_ config: ProxyConfig) -> [String] {
        var warnings: [String] = []
        if !config.listen.isLoopback && config.inboundKeys.isEmpty {
            warnings.append(
                "listen: \(config.listen) is reachable from other machines and inbound_keys is empty: "
                    + "anyone who can connect uses the upstream credentials")
        }
        let used = Set(config.routes.map(\.upstream))
        for name in config.upstreams.keys.sorted() where !used.contains(name) {
            warnings.append("upstreams.\(name): not used by any route")
        }
        if config.routes.contains(where: { $0.modelsPath != nil }) && config.models.isEmpty {
            warnings.append("models: empty, so the models endpoints list nothing")
        }
        return warnings
    }
}

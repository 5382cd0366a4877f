import Glibc
import UVNet

/// Reads the YAML config into a validated `ProxyConfig`.
///
/// The document is composed into a `YAMLNode` tree by libyaml (not decoded with Codable) so that
/// every problem is reported with its key path. Loading is a cold path: allocation is fine here, but
/// Foundation is not linked at all (it would cost ~11 MB of resident memory for the whole run).
package enum ConfigLoader {
    static let topLevelKeys = [
        "listen", "workers", "limits", "upstreams", "routes", "models", "inbound_keys", "auth_keys", "cors",
        "log_level", "access_log", "profiles", "metrics", "tracing",
    ]
    static let logLevels = ["debug", "info", "warning", "error"]

    /// `workers: auto`: one loop per CPU this process may run on (its affinity mask, so a container's
    /// CPU set counts, as nginx's `worker_processes auto`), 1...64.
    package static var autoWorkers: Int { min(64, max(1, EventLoop.availableParallelism)) }

    /// A `--workers` value: `auto`, or a count in 1...64; nil otherwise.
    package static func workerCount(_ text: String) -> Int? {
        if text == "auto" { return autoWorkers }
        guard let n = Int(text), (1...64).contains(n) else { return nil }
        return n
    }

    package static func load(
        path: String, environment: [String: String] = ProcessEnvironment.current()
    ) throws(ConfigError) -> ProxyConfig {
        let bytes: [UInt8]
        do {
            bytes = try ConfigFile.read(path)
        } catch {
            throw ConfigError(path: "(file)", message: "cannot read \(path): \(error.message)")
        }
        return try parse(yaml: bytes, environment: environment)
    }

    package static func parse(yaml: String, environment: [String: String]) throws(ConfigError) -> ProxyConfig {
        try parse(yaml: Array(yaml.utf8), environment: environment)
    }

    /// The config in `yaml`'s bytes: libyaml checks that they are text and says where they are not.
    package static func parse(yaml: [UInt8], environment: [String: String]) throws(ConfigError) -> ProxyConfig {
        let rootNode: YAMLNode?
        do {
            rootNode = try YAMLComposer.compose(yaml)
        } catch {
            throw ConfigError(path: "(yaml)", message: error.description)
        }
        guard let rootNode else { throw ConfigError(path: "(root)", message: "the config is empty") }
        let root = ConfigNode(node: rootNode, path: "", environment: environment)
        if root.isNull { throw ConfigError(path: "(root)", message: "the config is empty") }
        guard case .mapping = rootNode else {
            throw ConfigError(path: "(root)", message: "expected a mapping of settings, got \(root.kind)")
        }
        let top = try root.mapping(allowed: topLevelKeys)
        var config = ProxyConfig()
        var warnings: [String] = []

        if let node = top["listen"] { config.listen = try HostPort.parse(try node.string(), path: node.path) }
        if let node = top["workers"] {
            if case .scalar = node.node, try node.string().trimmingSpaces() == "auto" {
                config.workers = Self.autoWorkers
            } else {
                config.workers = try node.int(in: 1...64)
            }
        }
        if let node = top["limits"] { config.limits = try parseLimits(node) }
        if let node = top["log_level"] {
            var level = try node.string().lowercased()
            if level == "warn" { level = "warning" }
            guard logLevels.contains(level) else {
                throw node.error("expected one of \(logLevels.joined(separator: ", ")), got '\(level)'")
            }
            config.logLevel = level
        }
        if let node = top["access_log"] {
            if case .scalar = node.node {
                config.accessLog = try node.bool()
            } else {
                let m = try node.mapping(allowed: ["enabled", "format", "path"])
                if let n = m["enabled"] { config.accessLog = try n.bool() }
                if let n = m["format"] {
                    let f = try n.string()
                    guard f == "text" || f == "json" else { throw n.error("expected text or json, got '\(f)'") }
                    config.accessLogFormat = f
                }
                if let n = m["path"] {
                    let path = try n.string()
                    guard !path.isEmpty else { throw n.error("empty path (stderr, stdout or a file)") }
                    config.accessLogPath = path
                }
            }
        }
        if let node = top["metrics"] { config.metrics = try parseMetrics(node, config: config, warnings: &warnings) }
        if let node = top["tracing"] {
            config.tracing = try parseTracing(node, environment: environment, warnings: &warnings)
        }
        (config.inboundKeys, config.inboundKeyNames) = try parseInboundKeys(top)
        if let node = top["cors"] { config.cors = try parseCORS(node, base: nil) }

        if let node = top["upstreams"] {
            for (name, value) in try node.mapping().entries {
                config.upstreams[name] = try parseUpstream(name: name, value, warnings: &warnings)
            }
        }
        if let node = top["profiles"] { config.profiles = try parseProfiles(node) }
        guard let routesNode = top["routes"] else {
            throw ConfigError(path: "routes", message: "required key is missing (at least one route)")
        }
        let routeNodes = try routesNode.sequence()
        guard !routeNodes.isEmpty else { throw routesNode.error("at least one route is required") }
        for node in routeNodes {
            config.routes.append(try parseRoute(node, config: config, warnings: &warnings))
        }
        if let node = top["models"] { config.models = try parseModels(node) }

        try checkRouteConflicts(config.routes, warnings: &warnings)
        warnings += usageWarnings(config)
        warnings += metricsWarnings(config)
        config.warnings = warnings
        return config
    }

    static func parseLimits(_ node: ConfigNode) throws(ConfigError) -> ServerLimits {
        let m = try node.mapping(allowed: [
            "max_head_bytes", "max_header_count", "max_body_bytes", "max_connections", "head_timeout",
            "body_timeout", "keep_alive_timeout", "shutdown_grace",
        ])
        var limits = ServerLimits()
        if let n = m["max_head_bytes"] { limits.maxHeadBytes = try n.byteCount(in: 1024...(16 << 20)) }
        if let n = m["max_header_count"] { limits.maxHeaderCount = try n.int(in: 1...10_000) }
        if let n = m["max_body_bytes"] { limits.maxBodyBytes = try n.byteCount(in: 1...(4 << 30)) }
        if let n = m["max_connections"] { limits.maxConnections = try n.int(in: 1...1_000_000) }
        if let n = m["head_timeout"] { limits.headTimeout = try positiveDuration(n) }
        if let n = m["body_timeout"] { limits.bodyTimeout = try positiveDuration(n) }
        if let n = m["keep_alive_timeout"] { limits.keepAliveTimeout = try positiveDuration(n) }
        if let n = m["shutdown_grace"] { limits.shutdownGrace = try n.duration() }
        return limits
    }

    static func positiveDuration(_ node: ConfigNode) throws(ConfigError) -> Int {
        let ms = try node.duration()
        guard ms > 0 else { throw node.error("must be greater than 0") }
        return ms
    }

    /// `inbound_keys: [KEY, {name: NAME, key: KEY}, ...]`: the keys and their names for the log.
    static func parseInboundKeys(_ top: ConfigMapping) throws(ConfigError) -> (keys: [String], names: [String]) {
        if top.has("inbound_keys") && top.has("auth_keys") {
            throw ConfigError(path: "auth_keys", message: "auth_keys and inbound_keys are the same setting; use one")
        }
        guard let node = top["inbound_keys"] ?? top["auth_keys"] else { return ([], []) }
        var keys: [String] = []
        var names: [String] = []
        for (i, element) in try node.sequence().enumerated() {
            let key: String
            var name = "key-\(i + 1)"
            if case .mapping = element.node {
                let m = try element.mapping(allowed: ["name", "key"])
                let keyNode = try m.required("key")
                key = try keyNode.string()
                name = try m.required("name").string()
                guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 }) else {
                    throw element.error("an inbound key's name must be 1 to 64 printable ASCII characters, no spaces or quotes")
                }
                guard !names.contains(name) else { throw element.error("inbound key name '\(name)' is used twice") }
                if key.isEmpty { throw keyNode.error("inbound key '\(name)' is empty") }
            } else {
                key = try element.string()
                if key.isEmpty { continue }
            }
            guard key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw element.error("inbound keys must be printable ASCII without spaces")
            }
            keys.append(key)
            names.append(name)
        }
        return (keys, names)
    }

    /// `cors: true | false | {mapping}`. A mapping overrides keys of `base` (the global settings for
    /// a route) or of the defaults.
    static func parseCORS(_ node: ConfigNode, base: CORSConfig?) throws(ConfigError) -> CORSConfig? {
        if case .scalar = node.node { return try node.bool() ? (base ?? CORSConfig()) : nil }
        let m = try node.mapping(allowed: [
            "allow_origin", "allow_methods", "allow_headers", "expose_headers", "max_age", "allow_credentials",
        ])
        var cors = base ?? CORSConfig()
        func headerList(_ key: String) throws(ConfigError) -> String? {
            guard let n = m[key] else { return nil }
            let value = try n.stringList().joined(separator: ", ")
            if let problem = ConfigSyntax.headerValueProblem(value) { throw n.error(problem) }
            return value
        }
        if let v = try headerList("allow_origin") { cors.allowOrigin = v }
        if let v = try headerList("allow_methods") { cors.allowMethods = v }
        if let v = try headerList("allow_headers") { cors.allowHeaders = v }
        if let v = try headerList("expose_headers") { cors.exposeHeaders = v }
        if let n = m["max_age"] { cors.maxAge = try n.duration() / 1000 }
        if let n = m["allow_credentials"] { cors.allowCredentials = try n.bool() }
        if cors.allowOrigin.contains(",") {
            throw ConfigError(path: "\(node.path).allow_origin", message: "give one origin or '*', not a list")
        }
        if cors.allowCredentials && cors.allowOrigin == "*" {
            throw ConfigError(
                path: "\(node.path).allow_credentials",
                message: "browsers refuse credentials with allow_origin '*'; name the origin")
        }
        return cors
    }
}

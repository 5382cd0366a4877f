/// `upstreams.<name>`: URL, trust, static headers, credentials and timeouts.
extension ConfigLoader {
    static let upstreamKeys = [
        "url", "ca_file", "insecure_skip_verify", "headers", "auth", "timeouts", "max_idle_connections",
        "surplus_idle_timeout",
    ]
    static let authKeys = ["header", "prefix", "value", "env", "command", "command_timeout", "ttl", "refresh_skew"]
    static let timeoutKeys = ["connect", "tls_handshake", "first_byte", "idle", "total"]

    static func parseUpstream(
        name: String, _ node: ConfigNode, warnings: inout [String]
    ) throws(ConfigError) -> UpstreamConfig {
        guard !name.isEmpty,
            name.utf8.allSatisfy({ ConfigSyntax.isTokenByte($0) && $0 != UInt8(ascii: "*") })
        else {
            throw node.error("upstream names use letters, digits, '-', '_' and '.'")
        }
        let m = try node.mapping(allowed: upstreamKeys)
        let urlNode = try m.required("url")
        let url = try UpstreamURL.parse(try urlNode.string(), path: urlNode.path)
        var upstream = UpstreamConfig(name: name, url: url)
        upstream.caFile = try m.optionalString("ca_file")
        if let n = m["insecure_skip_verify"] {
            upstream.insecureSkipVerify = try n.bool()
            if upstream.insecureSkipVerify {
                warnings.append("\(n.path): TLS verification is OFF (certificates and host names are not checked)")
            }
        }
        if !url.isTLS && (upstream.caFile != nil || upstream.insecureSkipVerify) {
            warnings.append("\(node.path).url: ca_file and insecure_skip_verify have no effect on an http:// upstream")
        }
        if let n = m["headers"] { upstream.headers = try parseHeaders(n, warnings: &warnings) }
        if let n = m["auth"] { upstream.auth = try parseAuth(n) }
        if let n = m["timeouts"] { upstream.timeouts = try parseTimeouts(n, base: UpstreamTimeouts()) }
        if let n = m["max_idle_connections"] { upstream.maxIdleConnections = try n.int(in: 0...10_000) }
        if let n = m["surplus_idle_timeout"] {
            let ms = try n.duration()
            // Pooled connections idle for 60 s are closed instead of reused: a longer surplus would only hold sockets.
            guard ms <= 60_000 else { throw n.error("at most 60s (a pooled connection idle for 60 s is not reused)") }
            upstream.surplusIdleTimeoutMs = ms
        }
        if let auth = upstream.auth,
            let clash = upstream.headers.first(where: { $0.name.lowercased() == auth.header.lowercased() })
        {
            throw ConfigError(
                path: "\(node.path).headers.\(clash.name)", message: "also set by auth; configure it in one place")
        }
        return upstream
    }

    /// A mapping of header name → value, in file order. Names must be tokens and not proxy-owned;
    /// values must be sendable. A value that expands to empty drops the header, with a warning.
    static func parseHeaders(
        _ node: ConfigNode, warnings: inout [String]
    ) throws(ConfigError) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for (name, valueNode) in try node.mapping().entries {
            try checkHeaderName(name, at: valueNode)
            if headers.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                throw valueNode.error("header is listed twice (names are case-insensitive)")
            }
            let value = valueNode.isNull ? "" : try valueNode.string()
            if let problem = ConfigSyntax.headerValueProblem(value) { throw valueNode.error(problem) }
            if value.isEmpty {
                warnings.append("\(valueNode.path): value is empty, header not sent")
                continue
            }
            headers.append((name, value))
        }
        return headers
    }

    static func checkHeaderName(_ name: String, at node: ConfigNode) throws(ConfigError) {
        guard ConfigSyntax.isToken(name) else {
            throw node.error("'\(name)' is not a valid header name (RFC 9110 token)")
        }
        guard !ConfigSyntax.reservedHeaders.contains(name.lowercased()) else {
            throw node.error("\(name) is managed by the proxy and cannot be configured")
        }
    }

    static func parseAuth(_ node: ConfigNode) throws(ConfigError) -> AuthConfig {
        let m = try node.mapping(allowed: authKeys)
        let sources = ["value", "env", "command"].filter { m.has($0) }
        guard sources.count == 1 else {
            if sources.isEmpty { throw node.error("one of value, env or command is required") }
            throw node.error("value, env and command are exclusive (found \(sources.joined(separator: " and ")))")
        }
        var header = "Authorization"
        if let n = m["header"] {
            header = try n.string()
            try checkHeaderName(header, at: n)
        }
        var prefix = "Bearer "
        if let n = m["prefix"] {
            prefix = try n.string()
            if let problem = ConfigSyntax.headerValueProblem(prefix) { throw n.error(problem) }
        }
        let source: AuthConfig.Source
        var token: String? = nil
        if let n = m["value"] {
            let value = try n.string()
            guard !value.isEmpty else { throw n.error("the credential is empty") }
            if let problem = ConfigSyntax.headerValueProblem(value) { throw n.error(problem) }
            source = .staticValue(value)
        } else if let n = m["env"] {
            let name = try n.string()
            guard EnvExpansion.isVariableName(name) else { throw n.error("'\(name)' is not a variable name") }
            guard let value = n.environment[name], !value.isEmpty else {
                throw n.error("environment variable \(name) is not set")
            }
            if let problem = ConfigSyntax.headerValueProblem(value) { throw n.error("\(name): \(problem)") }
            source = .env(name)
            token = value
        } else {
            source = .command(try parseCommand(try m.required("command")))
        }
        var auth = AuthConfig(header: header, prefix: prefix, source: source, token: token)
        if let n = m["command_timeout"] { auth.commandTimeout = try positiveDuration(n) }
        if let n = m["ttl"] { auth.ttl = try positiveDuration(n) }
        if let n = m["refresh_skew"] { auth.refreshSkew = try n.duration() }
        return auth
    }

    /// A list is an argv (exec'd directly); a string is a shell command line for `/bin/sh -c`.
    static func parseCommand(_ node: ConfigNode) throws(ConfigError) -> AuthConfig.Command {
        if case .scalar = node.node {
            let line = try node.string().trimmingSpaces()
            guard !line.isEmpty else { throw node.error("the command is empty") }
            return .shell(line)
        }
        guard case .sequence = node.node else {
            throw node.error("expected a command line (string) or an argv list, got \(node.kind)")
        }
        let argv = try node.stringList(allowSingle: false)
        guard let first = argv.first, !first.isEmpty else { throw node.error("the command is empty") }
        return .argv(argv)
    }

    /// Timeouts over `base`: keys given replace the base's, others keep it (so a route's partial
    /// `timeouts:` merges over its upstream's).
    static func parseTimeouts(_ node: ConfigNode, base: UpstreamTimeouts) throws(ConfigError) -> UpstreamTimeouts {
        let m = try node.mapping(allowed: timeoutKeys)
        var t = base
        if let n = m["connect"] { t.connect = try n.duration() }
        if let n = m["tls_handshake"] { t.tlsHandshake = try n.duration() }
        if let n = m["first_byte"] { t.firstByte = try n.duration() }
        if let n = m["idle"] { t.idle = try n.duration() }
        if let n = m["total"] { t.total = try n.duration() }
        return t
    }
}

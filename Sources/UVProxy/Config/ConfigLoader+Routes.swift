import Providers

/// `routes[i]` and `models[i]`.
extension ConfigLoader {
    static let routeKeys = [
        "path", "methods", "upstream", "upstream_path", "ingress", "egress", "rename_max_tokens",
        "default_max_tokens", "model_aliases", "set_headers", "remove_headers", "cors", "timeouts",
        "keep_alive_interval", "models_path", "profile", "retries", "fallbacks", "circuit",
    ]
    static let modelKeys = ["id", "owned_by", "created", "display_name", "dialects"]
    static let bedrockPathTemplate = "/v1/bedrock/model/{model}/{action}"

    static func parseRoute(
        _ node: ConfigNode, config: ProxyConfig, warnings: inout [String]
    ) throws(ConfigError) -> RouteConfig {
        let m = try node.mapping(allowed: routeKeys)

        let pathNode = try m.required("path")
        var path = try pathNode.string()
        if let problem = ConfigSyntax.pathProblem(path) { throw pathNode.error("'\(path)' \(problem)") }
        var isPrefix = false
        if path.hasSuffix("/*") {
            isPrefix = true
            path.removeLast()
        }
        if path.contains("*") { throw pathNode.error("'*' is only allowed as a final '/*' (a prefix route)") }

        let ingressNode = try m.required("ingress")
        let ingress = try dialect(ingressNode)
        var egress = ingress
        if let n = m["egress"] { egress = try dialect(n) }
        guard RouteConfig.isSupported(ingress: ingress, egress: egress) else {
            let supported = RouteConfig.supportedPairs.map { "\($0.ingress.rawValue) → \($0.egress.rawValue)" }
            throw (m["egress"] ?? ingressNode).error(
                "unsupported dialect pair \(ingress.rawValue) → \(egress.rawValue) "
                    + "(supported: \(supported.joined(separator: ", ")))")
        }
        if isPrefix && ingress != .passthrough {
            throw pathNode.error("prefix paths ('/*') are only for passthrough routes")
        }

        let upstreamNode = try m.required("upstream")
        let upstream = try upstreamNode.string()
        guard config.upstreams[upstream] != nil else { throw upstreamNode.error("no upstream named '\(upstream)'") }

        var upstreamPath: String
        if let n = m["upstream_path"] {
            upstreamPath = try n.string()
            if let problem = ConfigSyntax.pathProblem(upstreamPath) { throw n.error("'\(upstreamPath)' \(problem)") }
            if egress == .bedrockAnthropic {
                guard upstreamPath.contains("{model}"), upstreamPath.contains("{action}") else {
                    throw n.error("a bedrock-anthropic upstream_path needs {model} and {action}")
                }
            } else if upstreamPath.contains("{") {
                throw n.error("placeholders ({model}, {action}) are only for bedrock-anthropic egress")
            }
            if isPrefix {
                if upstreamPath.hasSuffix("/*") { upstreamPath.removeLast() }
                if !upstreamPath.hasSuffix("/") { upstreamPath += "/" }
            }
            if upstreamPath.contains("*") { throw n.error("'*' is only allowed as a final '/*'") }
        } else if egress == .bedrockAnthropic {
            upstreamPath = bedrockPathTemplate
        } else {
            throw ConfigError(path: "\(node.path).upstream_path", message: "required for \(egress.rawValue) egress")
        }

        var route = RouteConfig(
            path: path, isPrefix: isPrefix, upstream: upstream, upstreamPath: upstreamPath, ingress: ingress,
            egress: egress, cors: config.cors)
        if let n = m["methods"] { route.methods = try methods(n) }
        if let n = m["rename_max_tokens"] {
            route.renameMaxTokens = try n.bool()
            if route.renameMaxTokens && egress != .openAIChat {
                warnings.append("\(n.path): only applies to openai-chat egress; ignored")
            }
        }
        if let n = m["default_max_tokens"] { route.defaultMaxTokens = try n.int(in: 1...10_000_000) }
        if let n = m["model_aliases"] {
            if egress == .openAIChat && ingress == .openAIChat || ingress == .passthrough {
                warnings.append("\(n.path): model_aliases apply where a route translates (bedrock-anthropic egress, "
                    + "anthropic-messages → openai-chat); this route forwards the model as sent, so they are ignored")
            }
            for (alias, target) in try n.mapping().entries {
                let id = try target.string()
                guard !id.isEmpty else { throw target.error("empty model id") }
                route.modelAliases[alias] = id
            }
        }
        if let n = m["set_headers"] { route.setHeaders = try parseHeaders(n, warnings: &warnings) }
        if let n = m["remove_headers"] {
            for element in try n.sequence() {
                let name = try element.string()
                try checkHeaderName(name, at: element)
                route.removeHeaders.append(name.lowercased())
            }
        }
        if let n = m["cors"] { route.cors = try parseCORS(n, base: config.cors) }
        if let n = m["timeouts"] {
            let base = config.upstreams[upstream]?.timeouts ?? UpstreamTimeouts()
            route.timeouts = try parseTimeouts(n, base: base)
        }
        if let n = m["keep_alive_interval"] { route.keepAliveInterval = try n.duration() }
        if ingress == .anthropicMessages, egress == .bedrockAnthropic {
            route.profile = BedrockProfile.claudeOnBedrock
        }
        if let n = m["retries"] { route.retries = try parseRetries(n) }
        if let n = m["fallbacks"] {
            for element in try n.sequence() {
                let f = try element.mapping(allowed: ["upstream", "model"])
                var target = FallbackTarget()
                if let u = f["upstream"] {
                    let name = try u.string()
                    guard config.upstreams[name] != nil else { throw u.error("no upstream named '\(name)'") }
                    target.upstream = name
                }
                if let mo = f["model"] {
                    guard egress == .bedrockAnthropic else { throw mo.error("a fallback model is for bedrock-anthropic egress") }
                    target.model = try mo.string()
                }
                guard target.upstream != nil || target.model != nil else { throw element.error("name an upstream, a model or both") }
                route.fallbacks.append(target)
            }
        }
        if let n = m["circuit"] {
            let c = try n.mapping(allowed: ["failures", "cooldown"])
            if let f = c["failures"] { route.circuit.failures = try f.int(in: 1...1000) }
            if let d = c["cooldown"] { route.circuit.cooldown = try positiveDuration(d) }
        }
        if let n = m["profile"] {
            guard ingress == .anthropicMessages, egress == .bedrockAnthropic else {
                throw n.error("profiles apply to anthropic-messages → bedrock-anthropic routes")
            }
            route.profile = try routeProfile(n, known: config.profiles)
        }
        if let n = m["models_path"] {
            let modelsPath = try n.string()
            if let problem = ConfigSyntax.pathProblem(modelsPath) { throw n.error("'\(modelsPath)' \(problem)") }
            guard ingress != .passthrough else {
                throw n.error("models endpoints exist for openai-chat, openai-responses and anthropic-messages ingress only")
            }
            route.modelsPath = modelsPath
        }
        return route
    }

    /// `retries: false` (off), or a mapping over the defaults.
    static func parseRetries(_ node: ConfigNode) throws(ConfigError) -> RetryPolicy {
        if case .scalar = node.node { return try node.bool() ? RetryPolicy() : .off }
        let m = try node.mapping(allowed: ["attempts", "statuses", "backoff", "max_backoff", "deadline"])
        var p = RetryPolicy()
        if let n = m["attempts"] { p.attempts = try n.int(in: 1...10) }
        if let n = m["statuses"] {
            p.statuses = []
            for e in try n.sequence() { p.statuses.append(try e.int(in: 400...599)) }
        }
        if let n = m["backoff"] { p.backoff = try positiveDuration(n) }
        if let n = m["max_backoff"] { p.maxBackoff = try positiveDuration(n) }
        if let n = m["deadline"] { p.deadline = try n.duration() }
        if p.maxBackoff < p.backoff { throw ConfigError(path: "\(node.path).max_backoff", message: "must not be less than backoff") }
        return p
    }

    static func dialect(_ node: ConfigNode) throws(ConfigError) -> Dialect {
        let name = try node.string()
        guard let dialect = Dialect(rawValue: name) else {
            let names = Dialect.allCases.map(\.rawValue).joined(separator: ", ")
            throw node.error("unknown dialect '\(name)' (expected one of: \(names))")
        }
        return dialect
    }

    static func methods(_ node: ConfigNode) throws(ConfigError) -> [String] {
        var out: [String] = []
        for (i, raw) in try node.stringList().enumerated() {
            let method = raw.uppercased()
            let at = ConfigNode(node: node.node, path: node.isSequence ? "\(node.path)[\(i)]" : node.path,
                                environment: node.environment)
            guard ConfigSyntax.isToken(method) else { throw at.error("'\(raw)' is not an HTTP method") }
            guard !out.contains(method) else { throw at.error("\(method) is listed twice") }
            out.append(method)
        }
        guard !out.isEmpty else { throw node.error("at least one method is required") }
        return out
    }

    static func parseModels(_ node: ConfigNode) throws(ConfigError) -> [ModelConfig] {
        var models: [ModelConfig] = []
        for element in try node.sequence() {
            let m = try element.mapping(allowed: modelKeys)
            let idNode = try m.required("id")
            let id = try idNode.string()
            guard !id.isEmpty else { throw idNode.error("empty model id") }
            guard !models.contains(where: { $0.id == id }) else { throw idNode.error("model '\(id)' is listed twice") }
            var model = ModelConfig(id: id)
            if let n = m["owned_by"] { model.ownedBy = try n.string() }
            if let n = m["created"] { model.created = try n.int(in: 0...Int(Int32.max) * 4) }
            model.displayName = try m.optionalString("display_name")
            if let n = m["dialects"] {
                var dialects: [Dialect] = []
                for d in try n.sequence() {
                    let dialect = try self.dialect(d)
                    guard dialect != .passthrough else { throw d.error("passthrough routes have no models endpoint") }
                    dialects.append(dialect)
                }
                model.dialects = dialects
            }
            models.append(model)
        }
        return models
    }
}

extension ConfigNode {
    var isSequence: Bool {
        if case .sequence = node { return true }
        return false
    }
}

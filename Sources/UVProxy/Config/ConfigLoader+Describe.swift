/// `mini-proxy check`: the config as a person reads it, with every secret masked.
extension ConfigLoader {
    /// A human-readable summary: listener, upstreams, the route table in match order, models, warnings.
    /// Header values and static credentials are shown as `***`; a command shows its program name only
    /// (its arguments could carry a secret); an env source shows the variable's name.
    package static func describe(_ config: ProxyConfig) -> String {
        var lines: [String] = []
        lines.append("listen \(config.listen)  workers \(config.workers)  log_level \(config.logLevel)"
            + "  access_log \(config.accessLog ? "on (\(config.accessLogFormat), \(config.accessLogPath))" : "off")")
        lines.append(config.inboundKeys.isEmpty
            ? "inbound keys: none (clients are not authenticated)"
            : "inbound keys: \(config.inboundKeys.count) configured")
        let m = config.metrics
        lines.append(!m.enabled ? "metrics: off"
            : "metrics: GET \(m.path) on " + (m.listen.map { "\($0) (admin listener)" } ?? "the main listener"))
        let t = config.tracing
        lines.append(!t.enabled ? "tracing: off"
            : "tracing: OTLP/HTTP JSON to \(t.endpoint) as \(t.serviceName), sample_ratio \(t.sampleRatio)"
                + (t.headers.isEmpty ? "" : ", headers \(t.headers.map(\.name).joined(separator: ","))"))
        lines.append("")
        lines.append("upstreams:")
        for name in config.upstreams.keys.sorted() {
            guard let u = config.upstreams[name] else { continue }
            var line = "  \(name)  \(u.url)"
            if let ca = u.caFile { line += "  ca_file \(ca)" }
            if u.insecureSkipVerify { line += "  TLS VERIFICATION OFF" }
            lines.append(line)
            if let auth = u.auth { lines.append("    auth: \(auth.header): \(auth.prefix)<\(describe(auth.source))>") }
            for h in u.headers { lines.append("    header: \(h.name): ***") }
            let t = u.timeouts
            lines.append("    timeouts: connect \(ms(t.connect)), tls \(ms(t.tlsHandshake)), first byte "
                + "\(ms(t.firstByte)), idle \(ms(t.idle)), total \(ms(t.total))")
        }
        lines.append("")
        lines.append("routes (first match wins):")
        for route in config.routes {
            let methods = route.methods == RouteConfig.allMethods ? "ANY" : route.methods.joined(separator: ",")
            let path = route.isPrefix ? route.path + "*" : route.path
            let target = route.isPrefix ? route.upstreamPath + "*" : route.upstreamPath
            var line = "  \(methods) \(path)  \(route.ingress.rawValue) → \(route.egress.rawValue)  "
                + "\(route.upstream) \(target)"
            var flags: [String] = []
            if route.renameMaxTokens { flags.append("rename_max_tokens") }
            if route.cors != nil { flags.append("cors") }
            if !route.modelAliases.isEmpty { flags.append("\(route.modelAliases.count) aliases") }
            if !route.setHeaders.isEmpty { flags.append("set \(route.setHeaders.map(\.name).joined(separator: ","))") }
            if !route.removeHeaders.isEmpty { flags.append("remove \(route.removeHeaders.joined(separator: ","))") }
            if route.timeouts != nil { flags.append("own timeouts") }
            if let p = route.profile { flags.append("profile \(p.name)") }
            if !flags.isEmpty { line += "  [\(flags.joined(separator: ", "))]" }
            lines.append(line)
            if let modelsPath = route.modelsPath {
                let count = config.models(for: route).count
                lines.append("  GET \(modelsPath)  models list (\(route.ingress.rawValue) shape, \(count) models)")
            }
        }
        var printed = Set<String>()
        for route in config.routes {
            guard let p = route.profile, !printed.contains(p.name + p.description.joined()) else { continue }
            printed.insert(p.name + p.description.joined())
            lines.append("")
            lines += p.description
        }
        if !config.models.isEmpty {
            lines.append("")
            lines.append("models: " + config.models.map(\.id).joined(separator: ", "))
        }
        if !config.warnings.isEmpty {
            lines.append("")
            lines.append("warnings:")
            for w in config.warnings { lines.append("  \(w)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ source: AuthConfig.Source) -> String {
        switch source {
        case .staticValue: return "***"
        case .env(let name): return "env \(name)"
        case .command(.argv(let argv)): return "command \(argv.first ?? "") …"
        case .command(.shell(let line)):
            return "shell command \(line.split(separator: " ").first.map(String.init) ?? "") …"
        }
    }

    private static func ms(_ value: Int) -> String {
        if value == 0 { return "off" }
        if value % 1000 != 0 { return "\(value)ms" }
        return "\(value / 1000)s"
    }
}

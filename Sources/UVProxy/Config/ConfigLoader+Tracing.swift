/// `tracing: true | false | {enabled, endpoint, service_name, sample_ratio, headers, batch, max_queue, timeout_ms}`.
///
/// Keys left out take the standard OpenTelemetry environment (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER_ARG` with a ratio sampler,
/// `OTEL_EXPORTER_OTLP_HEADERS`), then the defaults. Tracing is only ever turned on by the config.
extension ConfigLoader {
    static let tracingKeys = [
        "enabled", "endpoint", "service_name", "sample_ratio", "headers", "batch", "max_queue", "timeout_ms",
    ]
    /// Headers the exporter writes itself.
    static let tracingOwnHeaders: Set<String> = [
        "host", "content-type", "content-length", "connection", "transfer-encoding", "te", "upgrade", "expect",
    ]

    static func parseTracing(_ node: ConfigNode, environment: [String: String], warnings: inout [String])
        throws(ConfigError) -> TracingConfig
    {
        var t = try tracingDefaults(environment: environment, path: node.path)
        if case .scalar = node.node {
            t.enabled = try node.bool()
            return t
        }
        let m = try node.mapping(allowed: tracingKeys)
        t.enabled = try m["enabled"]?.bool() ?? true
        if let n = m["endpoint"] { t.endpoint = try tracingEndpoint(try n.string(), path: n.path) }
        if let n = m["service_name"] {
            let name = try n.string()
            guard !name.isEmpty, name.utf8.count <= 256 else { throw n.error("expected a name of 1 to 256 bytes") }
            t.serviceName = name
        }
        if let n = m["sample_ratio"] {
            let text = try n.string().trimmingSpaces()
            guard let r = Double(text), r >= 0, r <= 1 else {
                throw n.error("expected a ratio from 0 to 1 (1: every new trace), got '\(text)'")
            }
            t.sampleRatio = r
        }
        if let n = m["headers"] {
            t.headers = []
            for (name, valueNode) in try n.mapping().entries {
                guard ConfigSyntax.isToken(name) else {
                    throw valueNode.error("'\(name)' is not a valid header name (RFC 9110 token)")
                }
                guard !tracingOwnHeaders.contains(name.lowercased()) else {
                    throw valueNode.error("\(name) is written by the exporter and cannot be configured")
                }
                let value = valueNode.isNull ? "" : try valueNode.string()
                if let problem = ConfigSyntax.headerValueProblem(value) { throw valueNode.error(problem) }
                if value.isEmpty {
                    warnings.append("\(valueNode.path): value is empty, header not sent")
                    continue
                }
                t.headers.removeAll { $0.name.lowercased() == name.lowercased() }
                t.headers.append((name, value))
            }
        }
        if let n = m["batch"] {
            let b = try n.mapping(allowed: ["max_spans", "interval_ms"])
            if let v = b["max_spans"] { t.batchMaxSpans = try v.int(in: 1...8192) }
            if let v = b["interval_ms"] { t.batchIntervalMs = try v.int(in: 10...60_000) }
        }
        if let n = m["max_queue"] { t.maxQueue = try n.int(in: 1...1_000_000) }
        if let n = m["timeout_ms"] { t.timeoutMs = try n.int(in: 100...60_000) }
        if t.maxQueue < t.batchMaxSpans {
            throw ConfigError(path: node.path + ".max_queue",
                              message: "\(t.maxQueue) is smaller than batch.max_spans (\(t.batchMaxSpans))")
        }
        if t.enabled, !t.endpointIsLoopback {
            warnings.append("\(node.path).endpoint: \(t.endpoint) is not a loopback address: spans (models, paths, "
                + "statuses; never bodies or credentials) leave this machine unencrypted")
        }
        return t
    }

    /// The collector's URL: `http://HOST[:PORT]/PATH`. https is refused (the exporter speaks plain HTTP;
    /// run a local collector or agent to forward over TLS).
    static func tracingEndpoint(_ text: String, path: String) throws(ConfigError) -> UpstreamURL {
        let url = try UpstreamURL.parse(text, path: path)
        guard !url.isTLS else {
            throw ConfigError(path: path, message: "https is not supported for traces yet: export to a local "
                + "collector over http:// (e.g. http://127.0.0.1:4318/v1/traces) and let it forward over TLS")
        }
        return url
    }

    /// The defaults with the OpenTelemetry environment applied (the config's own keys win over both).
    static func tracingDefaults(environment env: [String: String], path: String) throws(ConfigError) -> TracingConfig {
        var t = TracingConfig()
        if let e = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !e.isEmpty {
            t.endpoint = try tracingEndpoint(e, path: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (for \(path))")
        } else if let e = env["OTEL_EXPORTER_OTLP_ENDPOINT"], !e.isEmpty {
            let base = e.hasSuffix("/") ? String(e.dropLast()) : e
            t.endpoint = try tracingEndpoint(base + "/v1/traces", path: "OTEL_EXPORTER_OTLP_ENDPOINT (for \(path))")
        }
        if let s = env["OTEL_SERVICE_NAME"], !s.isEmpty, s.utf8.count <= 256 { t.serviceName = s }
        if let sampler = env["OTEL_TRACES_SAMPLER"], sampler.hasSuffix("traceidratio"),
           let arg = env["OTEL_TRACES_SAMPLER_ARG"].flatMap(Double.init), arg >= 0, arg <= 1 {
            t.sampleRatio = arg
        }
        if let h = env["OTEL_EXPORTER_OTLP_HEADERS"] {
            // `key1=value1,key2=value2`, values percent-encoded (W3C Baggage octets).
            for pair in h.split(separator: ",") {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<eq]).trimmingSpaces()
                let value = percentDecoded(String(pair[pair.index(after: eq)...]).trimmingSpaces())
                guard ConfigSyntax.isToken(name), !tracingOwnHeaders.contains(name.lowercased()), !value.isEmpty,
                      ConfigSyntax.headerValueProblem(value) == nil else { continue }
                t.headers.append((name, value))
            }
        }
        return t
    }

    private static func percentDecoded(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        while i < b.count {
            if b[i] == 0x25, i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension TracingConfig {
    /// The endpoint is on this machine (a name other than `localhost` counts as remote).
    var endpointIsLoopback: Bool {
        let h = endpoint.host
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }
}

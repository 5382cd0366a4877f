import Providers

/// Spans in the OTLP/HTTP JSON encoding (`ExportTraceServiceRequest`, opentelemetry-proto's
/// `docs/specification.md#json-protobuf-encoding`): lowerCamelCase keys, trace and span ids as
/// lowercase hex (not base64), 64-bit integers as decimal strings, enums as numbers. Runs on the
/// exporter's thread: strings and small arrays are fine here.
enum OTLPJSON {
    /// `SpanKind`.
    static let kindServer = 2
    static let kindClient = 3
    /// `Status.StatusCode`.
    static let statusError = 2
    /// `SpanFlags`: the parent's remote-ness is known (bit 8), and it is remote (bit 9).
    static let flagHasIsRemote: UInt32 = 0x100
    static let flagIsRemote: UInt32 = 0x200

    static func encode(_ spans: [SpanRecord], serviceName: String, into out: inout [UInt8]) {
        var w = JSONWriter(out: out)
        out = []
        w.raw(#"{"resourceSpans":[{"resource":{"attributes":["#)
        w.beginAttrs()
        w.attr("service.name", serviceName)
        w.attr("service.version", MiniProxyVersion.string)
        w.raw(#"]},"scopeSpans":[{"scope":{"name":"mini-proxy","version":"#)
        w.string(MiniProxyVersion.string)
        w.raw(#"},"spans":["#)
        var first = true
        for s in spans {
            if !first { w.raw(",") }
            first = false
            serverSpan(s, &w)
            if s.clientStartNs != 0 {
                w.raw(",")
                clientSpan(s, &w)
            }
        }
        w.raw("]}]}]}")
        out = w.out
    }

    /// The exchange: what the client asked and got.
    private static func serverSpan(_ s: SpanRecord, _ w: inout JSONWriter) {
        let facts = SpanFacts(s)
        w.raw(#"{"traceId":""#)
        w.hex(s.traceHi)
        w.hex(s.traceLo)
        w.raw(#"","spanId":""#)
        w.hex(s.spanId)
        w.raw("\"")
        if s.parentSpanId != 0 {
            w.raw(#","parentSpanId":""#)
            w.hex(s.parentSpanId)
            w.raw("\"")
        }
        if let state = s.traceState {
            w.raw(#","traceState":"#)
            w.string(state)
        }
        let remote = s.parentSpanId != 0 ? flagHasIsRemote | flagIsRemote : flagHasIsRemote
        w.raw(#","flags":"#)
        w.int(Int(remote | 0x01))
        w.raw(#","name":"#)
        w.string(facts.serverName)
        w.raw(#","kind":"#)
        w.int(kindServer)
        times(s.startNs, s.endNs, &w)
        w.raw(#","attributes":["#)
        w.beginAttrs()
        if let op = facts.operation { w.attr("gen_ai.operation.name", op) }
        if let p = facts.provider { w.attr("gen_ai.provider.name", p) }
        if let m = s.requestModel { w.attr("gen_ai.request.model", m) }
        if let m = s.responseModel ?? facts.upstreamModel { w.attr("gen_ai.response.model", m) }
        if s.inputTokens >= 0 { w.attr("gen_ai.usage.input_tokens", int: s.inputTokens) }
        if s.outputTokens >= 0 { w.attr("gen_ai.usage.output_tokens", int: s.outputTokens) }
        if let r = s.finishReason { w.attr("gen_ai.response.finish_reasons", strings: [r]) }
        w.attr("http.request.method", s.method)
        w.attr("http.response.status_code", int: Int64(s.status))
        w.attr("url.path", s.path)
        w.attr("http.route", facts.routePath)
        if let (host, port) = facts.server {
            w.attr("server.address", host)
            w.attr("server.port", int: Int64(port))
        }
        w.attr("mini_proxy.route", facts.routePath)
        w.attr("mini_proxy.upstream", s.route.config.upstream)
        w.attr("mini_proxy.retries", int: Int64(s.retries))
        if s.status >= 500 { w.attr("error.type", String(s.status)) }
        w.raw("]")
        if s.status >= 500 { status(message: s.note, &w) }
        w.raw("}")
    }

    /// The upstream call (its last try): what went to the provider and what it answered.
    private static func clientSpan(_ s: SpanRecord, _ w: inout JSONWriter) {
        let facts = SpanFacts(s)
        w.raw(#"{"traceId":""#)
        w.hex(s.traceHi)
        w.hex(s.traceLo)
        w.raw(#"","spanId":""#)
        w.hex(s.clientSpanId)
        w.raw(#"","parentSpanId":""#)
        w.hex(s.spanId)
        w.raw("\"")
        if let state = s.traceState {
            w.raw(#","traceState":"#)
            w.string(state)
        }
        w.raw(#","flags":"#)
        w.int(Int(flagHasIsRemote | 0x01))
        w.raw(#","name":"#)
        w.string(facts.clientName)
        w.raw(#","kind":"#)
        w.int(kindClient)
        times(s.clientStartNs, s.endNs, &w)
        w.raw(#","attributes":["#)
        w.beginAttrs()
        w.attr("http.request.method", s.method)
        if let op = facts.operation { w.attr("gen_ai.operation.name", op) }
        if let p = facts.provider { w.attr("gen_ai.provider.name", p) }
        if let m = facts.upstreamModel { w.attr("gen_ai.request.model", m) }
        if let m = s.responseModel { w.attr("gen_ai.response.model", m) }
        if let (host, port) = facts.server {
            w.attr("server.address", host)
            w.attr("server.port", int: Int64(port))
        }
        if let full = facts.upstreamURL { w.attr("url.full", full) }
        if s.upstreamStatus > 0 { w.attr("http.response.status_code", int: Int64(s.upstreamStatus)) }
        let failed = s.upstreamStatus >= 500 || (s.upstreamStatus == 0 && s.status >= 500)
        if failed { w.attr("error.type", s.upstreamStatus > 0 ? String(s.upstreamStatus) : "no_response") }
        w.raw("]")
        if failed { status(message: s.upstreamStatus == 0 ? s.note : nil, &w) }
        w.raw("}")
    }

    private static func times(_ start: UInt64, _ end: UInt64, _ w: inout JSONWriter) {
        w.raw(#","startTimeUnixNano":""#)
        w.int(Int(start))
        w.raw(#"","endTimeUnixNano":""#)
        w.int(Int(max(start, end)))
        w.raw("\"")
    }

    private static func status(message: String?, _ w: inout JSONWriter) {
        w.raw(#","status":{"code":"#)
        w.int(statusError)
        if let m = message {
            w.raw(#","message":"#)
            w.string(String(m.prefix(256)))
        }
        w.raw("}")
    }
}

/// What a span says, derived from a record's facts (exporter thread).
struct SpanFacts {
    /// `gen_ai.operation.name`: every dialect the proxy translates is a chat API; nil for pass-through.
    let operation: String?
    /// `gen_ai.provider.name`, from the route's egress dialect.
    let provider: String?
    /// The model id the upstream was asked for (Bedrock: from the path; OpenAI: after aliases).
    let upstreamModel: String?
    let routePath: String
    let server: (String, Int)?
    let upstreamURL: String?
    let serverName: String
    let clientName: String

    init(_ s: SpanRecord) {
        let config = s.route.config
        routePath = config.isPrefix ? config.path + "*" : config.path
        provider = Self.provider(config.egress)
        operation = config.ingress == .passthrough ? nil : "chat"
        switch config.egress {
        case .bedrockAnthropic:
            upstreamModel = s.upstreamPath.flatMap(Self.bedrockModel)
        case .openAIChat, .openAIResponses, .anthropicMessages:
            upstreamModel = s.requestModel.map { m in
                config.modelAliases[m] ?? config.modelAliases[BedrockModelID.anyModel] ?? m
            }
        case .passthrough:
            upstreamModel = nil
        }
        if let up = s.route.upstreamBox?.config.url {
            server = (up.host, up.port)
            upstreamURL = s.upstreamPath.map { p in
                let path = p.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? p
                return "\(up.scheme)://\(up.hostHeader)\(up.basePath)\(path)"
            }
        } else {
            server = nil
            upstreamURL = nil
        }
        if let operation {
            serverName = s.requestModel.map { "\(operation) \($0)" } ?? operation
            clientName = upstreamModel.map { "\(operation) \($0)" } ?? operation
        } else {
            serverName = "\(s.method) \(routePath)"
            clientName = s.method
        }
    }

    static func provider(_ egress: Dialect) -> String? {
        switch egress {
        case .bedrockAnthropic: "aws.bedrock"
        case .openAIChat, .openAIResponses: "openai"
        case .anthropicMessages: "anthropic"
        case .passthrough: nil
        }
    }

    /// `…/model/<id>/invoke…` → the id, percent-decoded.
    static func bedrockModel(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard let i = parts.firstIndex(of: "model"), i + 1 < parts.count, !parts[i + 1].isEmpty else { return nil }
        return percentDecoded(parts[i + 1])
    }

    private static func percentDecoded(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == 0x25, i + 2 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A minimal JSON byte writer for the encoder.
struct JSONWriter {
    var out: [UInt8]
    /// An attribute list is open and has an entry: the next one needs a comma.
    private var attrsWritten = false

    /// Opens an attribute list: the next `attr` is its first entry.
    mutating func beginAttrs() { attrsWritten = false }

    private mutating func separate() {
        if attrsWritten { out.append(0x2C) }
        attrsWritten = true
    }

    init(out: [UInt8]) {
        self.out = out
        self.out.removeAll(keepingCapacity: true)
    }

    mutating func raw(_ s: StaticString) {
        out.append(contentsOf: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func int(_ v: Int) {
        HTTPWriter.appendDecimal(v, into: &out)
    }

    mutating func hex(_ v: UInt64) {
        TraceParent.appendHex(v, into: &out)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string: quotes, backslashes and control characters escaped (the text is valid UTF-8).
    mutating func string(_ s: String) {
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Self.hexDigits[Int(b >> 4)], Self.hexDigits[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }

    /// `{"key":…,"value":{"stringValue":…}}` (after a comma unless it is the list's first).
    mutating func attr(_ key: String, _ value: String) {
        separate()
        raw(#"{"key":"#)
        string(key)
        raw(#","value":{"stringValue":"#)
        string(value)
        raw("}}")
    }

    /// An int64 attribute (a decimal string, as the JSON mapping writes 64-bit integers).
    mutating func attr(_ key: String, int value: Int64) {
        separate()
        raw(#"{"key":"#)
        string(key)
        raw(#","value":{"intValue":""#)
        int(Int(value))
        raw("\"}}")
    }

    mutating func attr(_ key: String, strings values: [String]) {
        separate()
        raw(#"{"key":"#)
        string(key)
        raw(#","value":{"arrayValue":{"values":["#)
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(0x2C) }
            raw(#"{"stringValue":"#)
            string(v)
            raw("}")
        }
        raw("]}}}")
    }
}

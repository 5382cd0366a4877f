import Glibc
import Providers

/// Spans in the OTLP/HTTP JSON encoding (`ExportTraceServiceRequest`, opentelemetry-proto's
/// `docs/specification.md#json-protobuf-encoding`): lowerCamelCase keys, trace and span ids as
/// lowercase hex (not base64), 64-bit integers as decimal strings, enums as numbers. Runs on the
/// exporter's thread, one encoder per thread: it appends bytes to one reused buffer, the attribute
/// keys are constants written whole, and what a route contributes (provider, operation, `http.route`,
/// the server, the upstream) is rendered once per route and copied. Text from the exchange is
/// escaped and made valid UTF-8 (an invalid sequence becomes U+FFFD) as it is copied.
final class OTLPJSON {
    /// `SpanKind`.
    static let kindServer = 2
    static let kindClient = 3
    /// `Status.StatusCode`.
    static let statusError = 2
    /// `SpanFlags`: the parent's remote-ness is known (bit 8), and it is remote (bit 9).
    static let flagHasIsRemote: UInt32 = 0x100
    static let flagIsRemote: UInt32 = 0x200
    /// The longest status message (bytes, cut at a character's boundary).
    static let maxMessage = 256

    /// Everything before the first span: the resource and the scope.
    private let head: [UInt8]
    private let w = JSONBuffer()
    /// What each route contributes, rendered once (keyed by the route object, which the entry keeps alive).
    private var routes: [ObjectIdentifier: RouteFragments] = [:]
    private var lastRoute: RouteFragments?
    /// A Bedrock model id, percent-decoded from the upstream path.
    private var scratch: [UInt8] = []

    init(serviceName: String) {
        let h = JSONBuffer()
        h.raw(#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"#)
        h.string(serviceName)
        h.raw(#"}},{"key":"service.version","value":{"stringValue":"#)
        h.string(MiniProxyVersion.string)
        h.raw(#"}}]},"scopeSpans":[{"scope":{"name":"mini-proxy","version":"#)
        h.string(MiniProxyVersion.string)
        h.raw(#"},"spans":["#)
        head = h.bytes
    }

    /// One export request's body: every record of `batches`, a SERVER span each and a CLIENT span for
    /// those that went upstream.
    func encode<R>(_ batches: [SpanBatch], then use: (UnsafeRawBufferPointer) -> R) -> R {
        w.count = 0
        w.append(head)
        var first = true
        for b in batches {
            b.text.withUnsafeBytes { text in
                for r in b.records {
                    if !first { w.byte(0x2C) }
                    first = false
                    span(r, text)
                }
            }
        }
        w.raw("]}]}]}")
        if routes.count > 4096 {  // many reloads: start over
            routes.removeAll()
            lastRoute = nil
        }
        return use(UnsafeRawBufferPointer(start: w.base, count: w.count))
    }

    /// One body, with a new encoder (tests).
    static func encode(_ batches: [SpanBatch], serviceName: String) -> [UInt8] {
        OTLPJSON(serviceName: serviceName).encode(batches) { Array($0) }
    }

    private func fragments(_ route: CompiledRoute) -> RouteFragments {
        if let f = lastRoute, f.route === route { return f }
        let id = ObjectIdentifier(route)
        let f: RouteFragments
        if let known = routes[id] {
            f = known
        } else {
            f = RouteFragments(route)
            routes[id] = f
        }
        lastRoute = f
        return f
    }

    private func span(_ r: SpanRecord, _ text: UnsafeRawBufferPointer) {
        let f = fragments(r.route)
        @inline(__always) func bytes(_ t: SpanText) -> UnsafeRawBufferPointer {
            t.isNone ? UnsafeRawBufferPointer(start: nil, count: 0)
                : UnsafeRawBufferPointer(rebasing: text[Int(t.start)..<Int(t.start) + Int(t.count)])
        }
        let method = bytes(r.method)
        let requestModel = bytes(r.requestModel)
        let responseModel = bytes(r.responseModel)
        let upstreamPath = bytes(r.upstreamPath)
        @inline(__always) func spans(_ upstreamModel: UnsafeRawBufferPointer?) {
            serverSpan(r, f, text, method: method, requestModel: requestModel, responseModel: responseModel,
                       upstreamModel: upstreamModel)
            if r.clientStartNs != 0 {
                w.byte(0x2C)
                clientSpan(r, f, text, method: method, responseModel: responseModel, upstreamModel: upstreamModel,
                           upstreamPath: upstreamPath)
            }
        }
        // The model id the upstream was asked for (from the path where the dialect puts it there, else after aliases).
        switch f.model {
        case .none:
            spans(nil)
        case .inPath:
            if !r.upstreamPath.isNone, BedrockModelID.model(inPath: upstreamPath, into: &scratch) {
                scratch.withUnsafeBytes { spans($0) }
            } else {
                spans(nil)
            }
        case .aliased:
            if r.requestModel.isNone {
                spans(nil)
            } else if let alias = f.alias(requestModel) {
                alias.withUnsafeBytes { spans($0) }
            } else {
                spans(requestModel)
            }
        }
    }

    private func ids(_ r: SpanRecord, span: UInt64, parent: UInt64, _ text: UnsafeRawBufferPointer) {
        w.raw(#"{"traceId":""#)
        w.hex(r.traceHi)
        w.hex(r.traceLo)
        w.raw(#"","spanId":""#)
        w.hex(span)
        w.byte(0x22)
        if parent != 0 {
            w.raw(#","parentSpanId":""#)
            w.hex(parent)
            w.byte(0x22)
        }
        if !r.traceState.isNone {
            w.raw(#","traceState":"#)
            w.string(UnsafeRawBufferPointer(rebasing: text[Int(r.traceState.start)..<Int(r.traceState.start) + Int(r.traceState.count)]))
        }
    }

    /// The exchange: what the client asked and got.
    private func serverSpan(_ r: SpanRecord, _ f: RouteFragments, _ text: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
                            requestModel: UnsafeRawBufferPointer, responseModel: UnsafeRawBufferPointer,
                            upstreamModel: UnsafeRawBufferPointer?) {
        ids(r, span: r.spanId, parent: r.parentSpanId, text)
        w.raw(r.parentSpanId != 0 ? #","flags":769,"name":""# : #","flags":257,"name":""#)
        if f.chat {
            w.raw("chat")
            if !r.requestModel.isNone {
                w.byte(0x20)
                w.escaped(requestModel)
            }
        } else {
            w.escaped(method)
            w.byte(0x20)
            w.append(f.routePath)
        }
        w.raw(#"","kind":2"#)
        times(r.startNs, r.endNs)
        w.raw(#","attributes":[{"key":"http.request.method","value":{"stringValue":"#)
        w.string(method)
        w.raw(#"}},{"key":"http.response.status_code","value":{"intValue":""#)
        w.decimal(Int64(r.status))
        w.raw(#""}},{"key":"url.path","value":{"stringValue":"#)
        w.string(UnsafeRawBufferPointer(rebasing: text[Int(r.path.start)..<Int(r.path.start) + Int(max(0, r.path.count))]))
        w.raw("}}")
        w.append(f.operationProvider)
        if !r.requestModel.isNone {
            w.raw(#",{"key":"gen_ai.request.model","value":{"stringValue":"#)
            w.string(requestModel)
            w.raw("}}")
        }
        if !r.responseModel.isNone {
            w.raw(#",{"key":"gen_ai.response.model","value":{"stringValue":"#)
            w.string(responseModel)
            w.raw("}}")
        } else if let upstreamModel {
            w.raw(#",{"key":"gen_ai.response.model","value":{"stringValue":"#)
            w.string(upstreamModel)
            w.raw("}}")
        }
        if r.inputTokens >= 0 {
            w.raw(#",{"key":"gen_ai.usage.input_tokens","value":{"intValue":""#)
            w.decimal(r.inputTokens)
            w.raw(#""}}"#)
        }
        if r.outputTokens >= 0 {
            w.raw(#",{"key":"gen_ai.usage.output_tokens","value":{"intValue":""#)
            w.decimal(r.outputTokens)
            w.raw(#""}}"#)
        }
        if !r.finishReason.isNone {
            w.raw(#",{"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"#)
            w.string(UnsafeRawBufferPointer(rebasing: text[Int(r.finishReason.start)..<Int(r.finishReason.start) + Int(r.finishReason.count)]))
            w.raw("}]}}}")
        }
        w.append(f.serverAttributes)
        w.raw(#",{"key":"mini_proxy.retries","value":{"intValue":""#)
        w.decimal(Int64(r.retries))
        w.raw(#""}}"#)
        if r.status >= 500 {
            w.raw(#",{"key":"error.type","value":{"stringValue":""#)
            w.decimal(Int64(r.status))
            w.raw(#""}}]"#)
            status(message: r.note, text)
        } else {
            w.byte(0x5D)
        }
        w.byte(0x7D)
    }

    /// The upstream call (its last try): what went to the provider and what it answered.
    private func clientSpan(_ r: SpanRecord, _ f: RouteFragments, _ text: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
                            responseModel: UnsafeRawBufferPointer, upstreamModel: UnsafeRawBufferPointer?,
                            upstreamPath: UnsafeRawBufferPointer) {
        ids(r, span: r.clientSpanId, parent: r.spanId, text)
        w.raw(#","flags":257,"name":""#)
        if f.chat {
            w.raw("chat")
            if let upstreamModel {
                w.byte(0x20)
                w.escaped(upstreamModel)
            }
        } else {
            w.escaped(method)
        }
        w.raw(#"","kind":3"#)
        times(r.clientStartNs, r.endNs)
        w.raw(#","attributes":[{"key":"http.request.method","value":{"stringValue":"#)
        w.string(method)
        w.raw("}}")
        w.append(f.operationProvider)
        if let upstreamModel {
            w.raw(#",{"key":"gen_ai.request.model","value":{"stringValue":"#)
            w.string(upstreamModel)
            w.raw("}}")
        }
        if !r.responseModel.isNone {
            w.raw(#",{"key":"gen_ai.response.model","value":{"stringValue":"#)
            w.string(responseModel)
            w.raw("}}")
        }
        w.append(f.clientAttributes)
        if let prefix = f.urlPrefix, !r.upstreamPath.isNone {
            w.raw(#",{"key":"url.full","value":{"stringValue":""#)
            w.append(prefix)
            var n = upstreamPath.count
            if let base = upstreamPath.baseAddress, let q = memchr(base, Int32(UInt8(ascii: "?")), n) {
                n = base.distance(to: UnsafeRawPointer(q))
            }
            w.escaped(UnsafeRawBufferPointer(rebasing: upstreamPath[0..<n]))
            w.raw(#""}}"#)
        }
        if r.upstreamStatus > 0 {
            w.raw(#",{"key":"http.response.status_code","value":{"intValue":""#)
            w.decimal(Int64(r.upstreamStatus))
            w.raw(#""}}"#)
        }
        if r.upstreamStatus >= 500 {
            w.raw(#",{"key":"error.type","value":{"stringValue":""#)
            w.decimal(Int64(r.upstreamStatus))
            w.raw(#""}}]"#)
            status(message: .none, text)
        } else if r.upstreamStatus == 0 && r.status >= 500 {
            w.raw(#",{"key":"error.type","value":{"stringValue":"no_response"}}]"#)
            status(message: r.note, text)
        } else {
            w.byte(0x5D)
        }
        w.byte(0x7D)
    }

    private func times(_ start: UInt64, _ end: UInt64) {
        w.raw(#","startTimeUnixNano":""#)
        w.decimal(start)
        w.raw(#"","endTimeUnixNano":""#)
        w.decimal(max(start, end))
        w.byte(0x22)
    }

    private func status(message: SpanText, _ text: UnsafeRawBufferPointer) {
        w.raw(#","status":{"code":2"#)
        if !message.isNone {
            var n = min(Int(message.count), Self.maxMessage)
            let start = Int(message.start)
            // Cut at a character's boundary.
            if n < Int(message.count) {
                while n > 0 && text[start + n] & 0xC0 == 0x80 { n -= 1 }
            }
            w.raw(#","message":"#)
            w.string(UnsafeRawBufferPointer(rebasing: text[start..<start + n]))
        }
        w.byte(0x7D)
    }
}

/// What a route contributes to its spans, rendered once per route on the exporter's thread.
final class RouteFragments {
    enum Model { case none, inPath, aliased }

    let route: CompiledRoute
    /// A translated route (`gen_ai.operation.name` is `chat`); pass-through routes are not.
    let chat: Bool
    /// How the model id the upstream was asked for is found.
    let model: Model
    /// The route's path as span-name text (escaped, no quotes; prefix routes end in `*`).
    let routePath: [UInt8]
    /// `,{gen_ai.operation.name},{gen_ai.provider.name}` (each when known).
    let operationProvider: [UInt8]
    /// The SERVER span's `,{http.route},{server.address},{server.port},{mini_proxy.route},{mini_proxy.upstream}`.
    let serverAttributes: [UInt8]
    /// The CLIENT span's `,{server.address},{server.port}`.
    let clientAttributes: [UInt8]
    /// `scheme://host[:port]/base` (escaped, no quotes), nil without an upstream.
    let urlPrefix: [UInt8]?
    private let aliases: [(key: [UInt8], value: [UInt8])]
    private let anyAlias: [UInt8]?

    init(_ route: CompiledRoute) {
        self.route = route
        let config = route.config
        chat = config.ingress != .passthrough
        model = config.egress == .passthrough ? .none : (config.egress.carriesModelInPath ? .inPath : .aliased)
        let path = config.isPrefix ? config.path + "*" : config.path
        let b = JSONBuffer()
        b.escaped(path)
        routePath = b.bytes
        func attr(_ key: String, _ value: String) {
            b.raw(#",{"key":"#)
            b.string(key)
            b.raw(#","value":{"stringValue":"#)
            b.string(value)
            b.raw("}}")
        }
        func attr(_ key: String, int: Int) {
            b.raw(#",{"key":"#)
            b.string(key)
            b.raw(#","value":{"intValue":""#)
            b.decimal(Int64(int))
            b.raw(#""}}"#)
        }
        b.count = 0
        if chat { attr("gen_ai.operation.name", "chat") }
        if let p = config.egress.genAIProviderName { attr("gen_ai.provider.name", p) }
        operationProvider = b.bytes
        let url = route.upstreamBox?.config.url
        b.count = 0
        if let url {
            attr("server.address", url.host)
            attr("server.port", int: url.port)
        }
        clientAttributes = b.bytes
        b.count = 0
        attr("http.route", path)
        b.append(clientAttributes)
        attr("mini_proxy.route", path)
        attr("mini_proxy.upstream", config.upstream)
        serverAttributes = b.bytes
        if let url {
            b.count = 0
            b.escaped("\(url.scheme)://\(url.hostHeader)\(url.basePath)")
            urlPrefix = b.bytes
        } else {
            urlPrefix = nil
        }
        aliases = config.modelAliases.filter { $0.key != BedrockModelID.anyModel }
            .map { (Array($0.key.utf8), Array($0.value.utf8)) }
        anyAlias = config.modelAliases[BedrockModelID.anyModel].map { Array($0.utf8) }
    }

    /// The alias of a client's model (`model_aliases`, then its `*` entry), nil when there is none.
    func alias(_ model: UnsafeRawBufferPointer) -> [UInt8]? {
        for a in aliases where a.key.count == model.count {
            if a.key.withUnsafeBytes({ $0.elementsEqual(model) }) { return a.value }
        }
        return anyAlias
    }
}

/// A growing byte buffer for the encoder (exporter thread): appends are a bounds check and a copy.
final class JSONBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written; set to 0 to start over (the capacity stays).
    var count = 0

    init(capacity: Int = 64 * 1024) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// A copy of what was written.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    @inline(__always)
    func reserve(_ n: Int) {
        if count &+ n > capacity { grow(count + n) }
    }

    @inline(never)
    private func grow(_ need: Int) {
        var c = capacity * 2
        while c < need { c *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = c
    }

    @inline(__always)
    func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count &+= 1
    }

    @inline(__always)
    func raw(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        reserve(n)
        (base + count).update(from: s.utf8Start, count: n)
        count &+= n
    }

    @inline(__always)
    func append(_ p: UnsafeRawBufferPointer) {
        guard let src = p.baseAddress, p.count > 0 else { return }
        reserve(p.count)
        memcpy(base + count, src, p.count)
        count &+= p.count
    }

    @inline(__always)
    func append(_ a: [UInt8]) {
        a.withUnsafeBytes { append($0) }
    }

    /// 16 lowercase hex digits.
    @inline(__always)
    func hex(_ v: UInt64) {
        reserve(16)
        TraceParent.writeHex(v, at: UnsafeMutableRawPointer(base + count))
        count &+= 16
    }

    func decimal(_ v: UInt64) {
        reserve(20)
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { t in
            var i = 24
            var v = v
            repeat {
                i -= 1
                let q = v / 10
                t[i] = UInt8(truncatingIfNeeded: v &- q &* 10) &+ 0x30
                v = q
            } while v != 0
            let n = 24 - i
            memcpy(base + count, t.baseAddress! + i, n)
            count &+= n
        }
    }

    func decimal(_ v: Int64) {
        if v < 0 {
            byte(0x2D)
            decimal(UInt64(0) &- UInt64(bitPattern: v))
        } else {
            decimal(UInt64(v))
        }
    }

    /// A JSON string of `text` with its quotes.
    @inline(__always)
    func string(_ text: UnsafeRawBufferPointer) {
        byte(0x22)
        escaped(text)
        byte(0x22)
    }

    func string(_ s: String) {
        byte(0x22)
        escaped(s)
        byte(0x22)
    }

    func escaped(_ s: String) {
        var s = s
        s.withUTF8 { escaped(UnsafeRawBufferPointer($0)) }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// `text` as the inside of a JSON string: `"`, `\` and control characters escaped, valid UTF-8
    /// copied, each byte of an invalid sequence replaced by U+FFFD. Eight bytes at a time while they
    /// need nothing.
    func escaped(_ text: UnsafeRawBufferPointer) {
        let n = text.count
        guard n > 0, let src = text.baseAddress else { return }
        reserve(n &* 6)
        var out = base + count
        var i = 0
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i < n {
            if i &+ 8 <= n {
                let v = src.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let q = v ^ (ones &* 0x22)
                let b = v ^ (ones &* 0x5C)
                let special = (v | ((v &- ones &* 0x20) & ~v) | ((q &- ones) & ~q) | ((b &- ones) & ~b)) & highs
                if special == 0 {
                    UnsafeMutableRawPointer(out).storeBytes(of: v, as: UInt64.self)
                    out += 8
                    i &+= 8
                    continue
                }
            }
            let c = src.load(fromByteOffset: i, as: UInt8.self)
            if c >= 0x20 && c < 0x80 {
                if c == 0x22 || c == 0x5C {
                    out[0] = 0x5C
                    out[1] = c
                    out += 2
                } else {
                    out[0] = c
                    out += 1
                }
                i &+= 1
            } else if c < 0x20 {
                out[0] = 0x5C
                switch c {
                case 0x0A: out[1] = 0x6E; out += 2
                case 0x0D: out[1] = 0x72; out += 2
                case 0x09: out[1] = 0x74; out += 2
                default:
                    out[1] = 0x75
                    out[2] = 0x30
                    out[3] = 0x30
                    out[4] = Self.hexDigits.utf8Start[Int(c >> 4)]
                    out[5] = Self.hexDigits.utf8Start[Int(c & 0xF)]
                    out += 6
                }
                i &+= 1
            } else {
                let len = Self.utf8Sequence(src, i, n)
                if len == 0 {
                    out[0] = 0xEF
                    out[1] = 0xBF
                    out[2] = 0xBD
                    out += 3
                    i &+= 1
                } else {
                    (out).update(from: src.assumingMemoryBound(to: UInt8.self) + i, count: len)
                    out += len
                    i &+= len
                }
            }
        }
        count = base.distance(to: out)
    }

    /// The length of the valid UTF-8 sequence at `i` (a lead byte ≥ 0x80), 0 when it is not one.
    private static func utf8Sequence(_ p: UnsafeRawPointer, _ i: Int, _ n: Int) -> Int {
        @inline(__always) func at(_ k: Int) -> UInt8 { p.load(fromByteOffset: k, as: UInt8.self) }
        @inline(__always) func cont(_ k: Int) -> Bool { k < n && at(k) & 0xC0 == 0x80 }
        let b0 = at(i)
        switch b0 {
        case 0xC2...0xDF:
            return cont(i + 1) ? 2 : 0
        case 0xE0...0xEF:
            guard i + 2 < n else { return 0 }
            let b1 = at(i + 1)
            let ok1 = b0 == 0xE0 ? (0xA0...0xBF).contains(b1) : b0 == 0xED ? (0x80...0x9F).contains(b1) : b1 & 0xC0 == 0x80
            return ok1 && cont(i + 2) ? 3 : 0
        case 0xF0...0xF4:
            guard i + 3 < n else { return 0 }
            let b1 = at(i + 1)
            let ok1 = b0 == 0xF0 ? (0x90...0xBF).contains(b1) : b0 == 0xF4 ? (0x80...0x8F).contains(b1) : b1 & 0xC0 == 0x80
            return ok1 && cont(i + 2) && cont(i + 3) ? 4 : 0
        default:
            return 0
        }
    }
}

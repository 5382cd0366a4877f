import Providers
import UVNet
import HTTP1

/// One worker's proxy: routes requests, answers local endpoints (health, models, CORS preflight),
/// and starts an `Exchange` for each proxied request. Owns this loop's upstream pools.
final class ProxyWorker: HTTPRequestHandler {
    let loop: EventLoop
    private(set) var runtime: ProxyRuntime
    let log: AccessLogBuffer
    private let resolver: Resolver
    private(set) var pools: [ObjectIdentifier: UpstreamPool] = [:]
    /// This worker's metrics (nil when `metrics.enabled` is false): only this loop writes them.
    let metrics: WorkerMetrics?
    /// Set when this listener answers `GET /metrics` (metrics on, no admin listener of their own).
    var metricsEndpoint: MetricsEndpoint?
    /// This worker's tracing (nil when `tracing.enabled` is false).
    var tracer: WorkerTracer?
    private var requestCounter: UInt64 = 0
    /// Responses answered straight from the read buffer (`Exchange.respondInPlace`); tests read it.
    var inPlaceResponses = 0
    /// The last credential header `HTTPWriter.appendHeader` accepted. A credential source hands every
    /// request the same String until the token changes, so `Exchange.buildRequestHead` writes it again
    /// without re-checking its bytes (~800 instructions per request) when name and value are this pair.
    var acceptedAuthHeader: (name: String, value: String)?
    private let workerTag: String
    private let idPrefix: String
    private let idPrefixBytes: [UInt8]

    init(loop: EventLoop, runtime: ProxyRuntime, log: AccessLogBuffer, workerIndex: Int) {
        self.loop = loop
        self.runtime = runtime
        self.log = log
        resolver = Resolver(loop: loop)
        workerTag = String(workerIndex, radix: 36)
        idPrefix = "mp-\(RequestIds.processPrefix)-\(workerTag)-"
        idPrefixBytes = Array(idPrefix.utf8)
        metrics = runtime.config.metrics.enabled ? WorkerMetrics() : nil
        metrics?.bind(runtime)
    }

    /// The pool used last: most workers proxy to one upstream, and this skips hashing per request.
    private var lastPool: (key: ObjectIdentifier, pool: UpstreamPool)?

    func pool(for upstream: UpstreamBox) -> UpstreamPool {
        let key = ObjectIdentifier(upstream)
        if let last = lastPool, last.key == key { return last.pool }
        let p: UpstreamPool
        if let existing = pools[key] {
            p = existing
        } else {
            p = UpstreamPool(loop: loop, upstream: upstream.config, resolver: resolver,
                             tlsContext: runtime.tlsContexts[upstream.config.name])
            p.metrics = metrics
            pools[key] = p
        }
        lastPool = (key, p)
        return p
    }

    func closePools() { for p in pools.values { p.closeAll() } }

    /// Serves new requests with a reloaded config. In-flight exchanges keep the route they started
    /// with; connections they return to a retired pool are closed.
    /// Passive health of routes' targets (routes with fallbacks only).
    var circuits = CircuitBreakers()

    func replace(runtime: ProxyRuntime) {
        circuits.removeAll()
        for p in pools.values { p.retire() }
        pools = [:]
        lastPool = nil
        self.runtime = runtime
        metrics?.bind(runtime)
    }

    /// The pools' connections now, for a metrics snapshot.
    func poolGauges() -> [PoolGauge] {
        pools.values.map { PoolGauge(upstream: $0.upstream.name, idle: $0.idleCount, busy: max(0, $0.openCount - $0.idleCount)) }
    }

    /// A request id unique per process run: random prefix, worker, counter (as bytes until a String
    /// is needed: a generated id is longer than the 15 bytes a String keeps inline).
    func nextRequestId() -> RequestID {
        requestCounter &+= 1
        return .generated(prefix: idPrefixBytes, counter: requestCounter)
    }

    // MARK: HTTPRequestHandler

    func handle(_ request: HTTPRequest, on connection: HTTPServerConnection) {
        let started = loop.now
        let head = request.head
        let id = head.value("x-request-id").flatMap { RequestIds.isAcceptable($0) ? RequestID.client($0) : nil } ?? nextRequestId()
        // Local answers and errors take the id as a String; a proxied request writes its bytes.
        var requestId: String { id.string }
        if let endpoint = metricsEndpoint, endpoint.matches(head) {
            serveMetrics(endpoint, head, id, on: connection, started: started)
            return
        }

        // The route is found on bytes; the path becomes a String only where a message or a log needs it.
        let pathRange = head.pathRange
        let (local, candidates) = head.bytes.withUnsafeBytes { p in
            (localAnswer(UnsafeRawBufferPointer(rebasing: p[pathRange]), head: head),
             runtime.candidates(path: UnsafeRawBufferPointer(rebasing: p[pathRange])))
        }
        if let local, candidates.isEmpty {
            let body: [UInt8] = local == .health && !head.isMethod("HEAD") ? Array(#"{"status":"ok"}"#.utf8) : []
            connection.respond(status: 200, headers: [("Content-Type", "application/json"), ("X-Request-Id", requestId)], body: body)
            logLocal(head, id, status: 200, started: started)
            return
        }
        var path: String { head.pathString }
        // No WebSocket upgrades (Codex tries one on Responses routes): 426 makes it use HTTP at once
        // (a 404 makes it retry for ~10 s first; a 400 makes it give up).
        if head.isMethod("GET"), let i = head.firstIndex(ofLowercased: "upgrade"), head.valueHasPrefix(at: i, "websocket") {
            let dialect = candidates.first.map { runtime.routes[$0].errorDialect } ?? Self.guessDialect(path)
            respondError(APIError(status: 426, type: "invalid_request_error",
                                  message: "WebSocket upgrades are not supported by this proxy: use HTTP (POST with SSE streaming)"),
                         dialect: dialect, cors: nil, requestId: requestId, connection: connection, head: head, started: started)
            return
        }
        guard let first = candidates.first else {
            let dialect = Self.guessDialect(path)
            let message = path.hasSuffix("/messages/count_tokens")
                ? "token counting is not configured here: add a route for POST \(path) to forward it to an upstream that counts tokens"
                : "no route for \(head.methodString) \(path)"
            respondError(APIError(status: 404, type: "not_found_error", message: message),
                         dialect: dialect, cors: nil, requestId: requestId, connection: connection, head: head, started: started)
            return
        }
        let route = head.bytes.withUnsafeBytes { raw -> CompiledRoute? in
            let m = UnsafeRawBufferPointer(rebasing: raw[head.method])
            return candidates.lazy.map { self.runtime.routes[$0] }.first { $0.allows(method: m) }
        }
        if head.isMethod("OPTIONS"), let cors = (route ?? runtime.routes[first]).cors {
            var headers = Self.corsHeaders(cors, preflight: true)
            headers.append(("X-Request-Id", requestId))
            connection.respond(status: 204, headers: headers, body: [])
            logLocal(head, id, status: 204, started: started, route: route ?? runtime.routes[first])
            return
        }
        guard let route else {
            let r = runtime.routes[first]
            respondError(APIError(status: 405, type: "invalid_request_error", message: "method \(head.methodString) is not allowed on \(path)"),
                         dialect: r.errorDialect, cors: r.cors, requestId: requestId, connection: connection, head: head, started: started, route: r)
            return
        }
        // Model lists are public (clients discover models before they hold a key, as Claude Code does).
        var keyName: [UInt8]?
        if case .models = route.action {} else if !runtime.inboundKeys.isEmpty {
            guard let k = InboundAuth.match(head, keys: runtime.inboundKeys) else {
                respondError(APIError(status: 401, type: "authentication_error", message: "missing or invalid API key", code: "invalid_api_key"),
                             dialect: route.errorDialect, cors: route.cors, requestId: requestId, connection: connection, head: head, started: started, route: route)
                return
            }
            keyName = runtime.inboundKeyNames[k]
        }
        switch route.action {
        case .models(let dialect):
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-Request-Id", requestId)]
            if let cors = route.cors { headers += Self.corsHeaders(cors, preflight: false) }
            var models = ModelList.ordered(runtime.modelList(for: route), for: dialect)
            if let limit = Self.queryInt(head.queryString, "limit"), limit > 0, limit < models.count { models = Array(models.prefix(limit)) }
            connection.respond(status: 200, headers: headers, body: head.isMethod("HEAD") ? [] : ModelList.body(models, dialect: dialect))
            logLocal(head, id, status: 200, started: started, route: route)
        case .exchange, .passthrough:
            let exchange = Exchange(worker: self, route: route, request: request, client: connection,
                                    requestId: id, startedAt: started, keyName: keyName)
            exchange.start()
        }
    }

    private enum LocalAnswer { case health, base }

    /// `/healthz`, `/health`, `<route base>/health[z]` (GET or HEAD) and `HEAD <route base>` (`HEAD /`
    /// included) are answered here. Checked on the bytes: most paths end in neither.
    private func localAnswer(_ path: UnsafeRawBufferPointer, head: HTTPRequestHead) -> LocalAnswer? {
        guard head.isMethod("GET") || head.isMethod("HEAD") else { return nil }
        for suffix in [Self.raw("/healthz"), Self.raw("/health")] where path.count >= suffix.count {
            let start = path.count - suffix.count
            guard memcmpEqual(path, start..<path.count, suffix) else { continue }
            if start == 0 || runtime.routeBases.contains(Array(path[0..<start])) { return .health }
        }
        if head.isMethod("HEAD"), path.count > 0, runtime.routeBases.contains(Array(path)) { return .base }
        return nil
    }

    /// `name=<digits>` from a query string (`?limit=1000`).
    static func queryInt(_ query: String, _ name: String) -> Int? {
        for pair in query.drop(while: { $0 == "?" }).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == name { return Int(kv[1]) }
        }
        return nil
    }

    private static func raw(_ s: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
    }

    /// Pass-through routes stream request bodies to the upstream as they arrive.
    func streamsRequestBody(_ head: HTTPRequestHead) -> Bool {
        runtime.isPassthrough(head) && !head.isMethod("OPTIONS")
    }

    func requestEndedOnConnection(_ head: HTTPRequestHead?, status: Int, note: String) {
        metrics?.localAnswer(route: nil, status: status)
        guard log.enabled else { return }
        let id = head?.value("x-request-id").flatMap { RequestIds.isAcceptable($0) ? RequestID.client($0) : nil } ?? nextRequestId()
        log.line { w in
            if let head {
                head.bytes.withUnsafeBytes { b in
                    w.begin(requestId: id, method: UnsafeRawBufferPointer(rebasing: b[head.method]),
                            path: UnsafeRawBufferPointer(rebasing: b[head.pathRange]), status: status, durationMs: 0)
                }
            } else {
                w.begin(requestId: id, method: "-", path: "-", status: status, durationMs: 0)
            }
            w.string("note", note)
        }
    }

    func errorResponse(status: Int, message: String, target: String?) -> (contentType: String, body: [UInt8]) {
        var dialect = Dialect.openAIChat
        if let target {
            let path = target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
            if let i = runtime.candidates(path: path).first { dialect = runtime.routes[i].errorDialect } else { dialect = Self.guessDialect(path) }
        }
        let type = status == 413 ? "request_too_large" : (status == 408 ? "timeout_error" : "invalid_request_error")
        return ("application/json", APIError(status: status, type: type, message: message).body(for: dialect))
    }

    /// The access-log line and the metrics of a request answered here (health, models, preflight,
    /// local errors); `route` is nil when no route took it.
    func logLocal(_ head: HTTPRequestHead, _ id: RequestID, status: Int, started: UInt64, note: String? = nil, route: CompiledRoute? = nil) {
        metrics?.localAnswer(route: route, status: status)
        guard log.enabled else { return }
        let duration = loop.now - started
        log.line { w in
            head.bytes.withUnsafeBytes { b in
                w.begin(requestId: id, method: UnsafeRawBufferPointer(rebasing: b[head.method]),
                        path: UnsafeRawBufferPointer(rebasing: b[head.pathRange]), status: status, durationMs: duration)
            }
            if let note { w.string("note", note) }
        }
    }

    func respondError(_ error: APIError, dialect: Dialect, cors: CORSConfig?, requestId: String,
                      connection: HTTPServerConnection, head: HTTPRequestHead, started: UInt64, route: CompiledRoute? = nil) {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-Request-Id", requestId)]
        if let cors { headers += Self.corsHeaders(cors, preflight: false) }
        if let ra = error.retryAfter { headers.append(("Retry-After", ra)) }
        connection.respond(status: error.status, headers: headers, body: error.body(for: dialect))
        logLocal(head, .client(requestId), status: error.status, started: started, note: error.message, route: route)
    }

    /// `GET /metrics` on this listener: keys are asked for when inbound keys are configured
    /// (Prometheus sends one with `authorization: {credentials: ...}`); the scrape itself is not counted.
    private func serveMetrics(_ endpoint: MetricsEndpoint, _ head: HTTPRequestHead, _ id: RequestID,
                              on connection: HTTPServerConnection, started: UInt64) {
        if !runtime.inboundKeys.isEmpty, !InboundAuth.accepts(head, keys: runtime.inboundKeys) {
            respondError(APIError(status: 401, type: "authentication_error", message: "missing or invalid API key", code: "invalid_api_key"),
                         dialect: .openAIChat, cors: nil, requestId: id.string, connection: connection, head: head, started: started)
            return
        }
        endpoint.serve(head, requestId: id.string, on: connection) { status in
            guard self.log.enabled else { return }
            let duration = self.loop.now - started
            self.log.line { w in
                head.bytes.withUnsafeBytes { b in
                    w.begin(requestId: id, method: UnsafeRawBufferPointer(rebasing: b[head.method]),
                            path: UnsafeRawBufferPointer(rebasing: b[head.pathRange]), status: status, durationMs: duration)
                }
            }
        }
    }

    static func guessDialect(_ path: String) -> Dialect {
        Dialect.guess(path: path)
    }

    static func corsHeaders(_ cors: CORSConfig, preflight: Bool) -> [(name: String, value: String)] {
        var h: [(name: String, value: String)] = [("Access-Control-Allow-Origin", cors.allowOrigin)]
        if cors.allowOrigin != "*" { h.append(("Vary", "Origin")) }
        if preflight {
            h.append(("Access-Control-Allow-Methods", cors.allowMethods))
            h.append(("Access-Control-Allow-Headers", cors.allowHeaders))
            h.append(("Access-Control-Max-Age", String(cors.maxAge)))
        } else if !cors.exposeHeaders.isEmpty {
            h.append(("Access-Control-Expose-Headers", cors.exposeHeaders))
        }
        return h
    }
}

/// Optional inbound API keys (`Authorization: Bearer <key>` or `x-api-key`), compared in constant time.
enum InboundAuth {
    static func accepts(_ head: HTTPRequestHead, keys: [[UInt8]]) -> Bool { match(head, keys: keys) != nil }

    /// The index of the key the request presents (every key is compared, in constant time each).
    static func match(_ head: HTTPRequestHead, keys: [[UInt8]]) -> Int? {
        var presented: [UInt8]?
        if let v = head.value("x-api-key") {
            presented = Array(v.utf8)
        } else if let v = head.value("authorization") {
            let lower = v.lowercased()
            if lower.hasPrefix("bearer ") { presented = Array(v.utf8.dropFirst(7)) }
        }
        guard let presented else { return nil }
        var found: Int?
        for (i, k) in keys.enumerated() where constantTimeEqual(k, presented) && found == nil { found = i }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}

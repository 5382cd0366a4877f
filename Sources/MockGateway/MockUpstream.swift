import Providers
import UVNet
import HTTP1
import UVProxy

/// The bundled upstream: speaks AI-Gateway's OpenAI routes (Chat Completions, and Responses in
/// MockResponses.swift; JSON and SSE) and its Bedrock invoke
/// routes (Anthropic JSON and data-only SSE), fast, on the same libuv stack as the proxy, with
/// faults on request for the tests (`x-mock-fault` header or `+fault=` on the model name).
final class MockUpstream: HTTPRequestHandler {
    let loop: EventLoop
    let rules: MockBedrockRules

    init(loop: EventLoop, rules: MockBedrockRules = MockBedrockRules()) {
        self.loop = loop
        self.rules = rules
    }

    func errorResponse(status: Int, message: String, target: String?) -> (contentType: String, body: [UInt8]) {
        ("application/json", MockBodies.openAIError(status: status, message: message))
    }

    /// What `handle` read off a request once: options, the parsed body and the model.
    private struct Parsed {
        var options = MockOptions()
        var json: JSON?
        var model: String?
        /// The model named in a Bedrock invoke path, `+options` included.
        var pathModel: String?
    }

    /// Response bodies and stream frames by what determines them: the mock answers the same
    /// request shapes over and over in benchmarks, so each is built once (loop-confined).
    private var bodyCache: [String: [UInt8]] = [:]
    private var framesCache: [String: [[UInt8]]] = [:]
    private static let cacheLimit = 256

    /// `cache[key]`, made once; a full cache starts over (request shapes are few, keys unbounded).
    private static func cached<V>(_ cache: inout [String: V], _ key: String, _ make: () -> V) -> V {
        if let hit = cache[key] { return hit }
        let value = make()
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[key] = value
        return value
    }

    func handle(_ request: HTTPRequest, on connection: HTTPServerConnection) {
        var parsed = Parsed()
        parsed.options.parseHeaders(request.head)
        parsed.json = try? JSONParser.parse(request.body)
        parsed.pathModel = Self.pathModel(request.head.targetString)
        if let model = parsed.json?["model"]?.stringValue {
            parsed.model = parsed.options.parseModel(model)
        } else if let model = parsed.pathModel {
            parsed.model = parsed.options.parseModel(model)
        }
        if parsed.options.waitMs > 0 {
            // A slow first token: answer later, unless the client went away meanwhile.
            let t = Timer(loop: loop)
            t.keepLoopAlive()
            t.start(after: UInt64(parsed.options.waitMs)) { [weak self, weak connection] in
                t.close()
                guard let self, let connection, !connection.isClosed else { return }
                self.answer(request, parsed, on: connection)
            }
            return
        }
        answer(request, parsed, on: connection)
    }

    private func answer(_ request: HTTPRequest, _ parsed: Parsed, on connection: HTTPServerConnection) {
        let target = request.head.targetString
        // Split on the bytes: a Character-wise split of the target costs more than the rest of the request.
        let path = String(target[..<(target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.utf8.endIndex)])
        var options = parsed.options
        let json = parsed.json
        if path == "/healthz" {
            connection.respond(status: 200, headers: [("Content-Type", "application/json")], body: Array(#"{"status":"ok"}"#.utf8))
            return
        }
        if let auth = request.head.value("authorization"), auth.contains("rejected") {
            // Lets tests check that a 401 makes the proxy refresh its token and retry once.
            connection.respond(status: 401, headers: [("Content-Type", "application/json")],
                               body: MockBodies.openAIError(status: 401, message: "token rejected by the mock upstream"))
            return
        }
        if path.hasSuffix("/responses") {
            // The OpenAI Responses API (Codex CLI, the SDKs' Responses clients): MockResponses.swift.
            var exchange = MockResponses.Exchange(request, json: json, options: options, model: parsed.model)
            if exchange.refusal == nil, applyFault(&exchange.options, connection: connection, openAI: true) { return }
            exchange.respond(to: request, path: path, on: connection)
            return
        }
        if path.hasSuffix("/chat/completions") {
            let model = json?["model"]?.stringValue != nil ? (parsed.model ?? "mock-model") : "mock-model"
            let stream = json?["stream"]?.boolValue ?? false
            let includeUsage = json?["stream_options"]?["include_usage"]?.boolValue ?? false
            if applyFault(&options, connection: connection, openAI: true) { return }
            if options.scenario == "echo" {
                let echo = Self.echo(request, path: path)
                connection.respond(status: 200, headers: [("Content-Type", "application/json")],
                                   body: MockBodies.chatCompletion(model: model, content: echo))
                return
            }
            let directives = MockChatDirectives(json)
            if directives.isActive, options.scenario == "text" {
                // Steered by the request itself (not cached: the answer depends on the body).
                if stream {
                    MockStreamer(connection: connection, frames: directives.frames(model: model, includeUsage: includeUsage),
                                 options: options, openAI: true).start()
                } else {
                    connection.respond(status: 200, headers: [("Content-Type", "application/json")], body: directives.completion(model: model))
                }
                return
            }
            if stream, options.streamBytes > 0 {
                // A long stream for backpressure and memory tests.
                MockStreamer(connection: connection, frames: [], options: options, openAI: true).start()
            } else if stream {
                let key = "chat|\(model)|\(options.scenario)|\(options.chunks)|\(includeUsage)"
                let frames = Self.cached(&framesCache, key) {
                    var frames: [[UInt8]] = [MockBodies.chatChunk(model: model, delta: #"{"role":"assistant","content":""}"#, finish: nil)]
                    for i in 0..<options.chunks {
                        frames.append(MockBodies.chatChunk(model: model, delta: "{\"content\":\(MockBodies.jsonString(MockBodies.token(i, scenario: options.scenario)))}", finish: nil))
                    }
                    frames.append(MockBodies.chatChunk(model: model, delta: "{}", finish: "stop"))
                    if includeUsage { frames.append(MockBodies.chatUsageChunk(model: model, completionTokens: options.chunks)) }
                    frames.append(Array("data: [DONE]\n\n".utf8))
                    return frames
                }
                MockStreamer(connection: connection, frames: frames, options: options, openAI: true).start()
            } else {
                connection.respond(status: 200, headers: [("Content-Type", "application/json"), ("x-ratelimit-remaining-requests", "999")],
                                   body: Self.cached(&bodyCache, "chat|\(model)") { MockBodies.chatCompletion(model: model, content: MockBodies.reply) })
            }
            return
        }
        if path.hasPrefix("/v1/bedrock/model/") || path.hasPrefix("/model/") {
            guard let model = parsed.pathModel, let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else {
                connection.respond(status: 404, headers: [("Content-Type", "application/json")], body: MockBodies.bedrockError(status: 404, message: "no such route"))
                return
            }
            let action = path[path.utf8.index(after: slash)...]
            if json?["model"] != nil || json?["stream"] != nil {
                connection.respond(status: 400, headers: [("Content-Type", "application/json")],
                                   body: MockBodies.bedrockError(status: 400, message: "Malformed input request: #: extraneous key [\(json?["model"] != nil ? "model" : "stream")] is not permitted, please reformat your input and try again."))
                return
            }
            let id = MockBedrockRules.catalogID(Self.pathSegment(target) ?? model)
            if let problem = rules.problem(model: id, body: json) {
                connection.respond(status: 400, headers: [("Content-Type", "application/json")],
                                   body: MockBodies.bedrockError(status: 400, message: problem))
                return
            }
            if applyFault(&options, connection: connection, openAI: false) { return }
            let directives = MockDirectives(json)
            if directives.isActive, options.scenario == "text" {
                // Steered by the request itself (not cached: the answer depends on the body).
                if action == "invoke-with-response-stream" {
                    let frames = MockBodies.anthropicEvents(model: model, directives: directives, text: directives.text)
                        .map { Array("data: \($0)\n\n".utf8) }
                    MockStreamer(connection: connection, frames: frames, options: options, openAI: false).start()
                } else {
                    connection.respond(status: 200, headers: [("Content-Type", "application/json")],
                                       body: MockBodies.message(model: model, directives: directives, text: directives.text))
                }
                return
            }
            if options.scenario == "echo" {
                connection.respond(status: 200, headers: [("Content-Type", "application/json")],
                                   body: MockBodies.message(model: model, scenario: "text", text: Self.echo(request, path: path)))
                return
            }
            if action == "invoke-with-response-stream" {
                let key = "bedrock|\(model)|\(options.scenario)|\(options.chunks)|\(options.fault ?? "")|\(options.anthropicEvents)"
                let frames = Self.cached(&framesCache, key) {
                    let events = MockBodies.anthropicEvents(model: model, scenario: options.scenario, chunks: options.chunks)
                    var frames: [[UInt8]] = []
                    for (i, e) in events.enumerated() {
                        if options.fault == "midstream-error", i == 3 {
                            frames.append(Array("data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".utf8))
                            break
                        }
                        if options.anthropicEvents {
                            let type = (try? JSONParser.parse(Array(e.utf8)))?["type"]?.stringValue ?? "unknown"
                            frames.append(Array("event: \(type)\ndata: \(e)\n\n".utf8))
                        } else {
                            frames.append(Array("data: \(e)\n\n".utf8))
                        }
                    }
                    return frames
                }
                MockStreamer(connection: connection, frames: frames, options: options, openAI: false).start()
            } else {
                // Anthropic's rate-limit headers (a reset 60 s from the start of the current minute).
                connection.respond(status: 200, headers: [("Content-Type", "application/json"),
                                                          ("anthropic-ratelimit-requests-limit", "100"),
                                                          ("anthropic-ratelimit-requests-remaining", "99"),
                                                          ("anthropic-ratelimit-requests-reset", "2030-01-01T00:01:00Z")],
                                   body: Self.cached(&bodyCache, "bedrock|\(model)|\(options.scenario)") {
                                       MockBodies.message(model: model, scenario: options.scenario, text: MockBodies.reply)
                                   })
            }
            return
        }
        // Anything else: echo, so pass-through routes can be checked end to end.
        if applyFault(&options, connection: connection, openAI: true) { return }
        if options.streamBytes > 0 {
            MockStreamer(connection: connection, frames: [], options: options, openAI: true).start()
            return
        }
        connection.respond(status: 200, headers: [("Content-Type", "application/json")], body: Array(Self.echo(request, path: path).utf8))
    }

    /// The model of a Bedrock invoke path (`/v1/bedrock/model/<id>/invoke`), without the `-v1:0` the
    /// proxy appended after any `+options`.
    static func pathModel(_ target: String) -> String? {
        guard let model = pathSegment(target) else { return nil }
        return model.contains("+") ? removingVersionSuffix(model) : model
    }

    /// The model segment of a Bedrock invoke path, percent-decoded, as the proxy wrote it.
    static func pathSegment(_ target: String) -> String? {
        let u = target.utf8
        let path = target[..<(u.firstIndex(of: UInt8(ascii: "?")) ?? u.endIndex)]
        guard path.hasPrefix("/v1/bedrock/model/") || path.hasPrefix("/model/") else { return nil }
        // Non-empty segments over the bytes (a Character-wise split costs more than the rest of a request).
        var segments: [Range<String.Index>] = []
        var start = path.startIndex
        for i in path.utf8.indices where path.utf8[i] == UInt8(ascii: "/") {
            if start < i { segments.append(start..<i) }
            start = path.utf8.index(after: i)
        }
        if start < path.endIndex { segments.append(start..<path.endIndex) }
        guard segments.count >= 3 else { return nil }
        let segment = target[segments[segments.count - 2]]
        return percentDecoded(segment) ?? String(segment)
    }

    /// `%XX` escapes decoded; nil when an escape is malformed or the result is not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else {
                    return nil
                }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `model` without a final `-v<digits>` or `-v<digits>:<digits>` (the version the proxy appends).
    static func removingVersionSuffix(_ model: String) -> String {
        let bytes = Array(model.utf8)
        func digitsStart(before end: Int) -> Int {
            var i = end
            while i > 0, bytes[i - 1] >= UInt8(ascii: "0"), bytes[i - 1] <= UInt8(ascii: "9") { i -= 1 }
            return i
        }
        var end = bytes.count
        let minorStart = digitsStart(before: end)
        if minorStart < end, minorStart > 0, bytes[minorStart - 1] == UInt8(ascii: ":") { end = minorStart - 1 }
        let majorStart = digitsStart(before: end)
        guard majorStart < end, majorStart >= 2, bytes[majorStart - 1] == UInt8(ascii: "v"),
              bytes[majorStart - 2] == UInt8(ascii: "-")
        else { return model }
        return String(decoding: bytes[..<(majorStart - 2)], as: UTF8.self)
    }

    /// What the upstream received, as JSON text (method, path, headers, body).
    static func echo(_ request: HTTPRequest, path: String) -> String {
        var headers = JSONObject()
        for i in 0..<request.head.fields.count {
            headers[request.head.name(at: i).lowercased()] = .string(request.head.value(at: i))
        }
        let body = String(decoding: request.body, as: UTF8.self)
        let o = JSON.object(JSONObject([
            ("method", .string(request.head.methodString)), ("path", .string(request.head.targetString)),
            ("headers", .object(headers)), ("body", .string(body)),
        ]))
        return String(decoding: o.bytes, as: UTF8.self)
    }

    /// Answers with a fault when one was asked for. Returns true when it did.
    /// Requests seen per options key, for `fail-first` (loop-confined; keys are few in tests).
    private var failCounts: [String: Int] = [:]

    /// With `fail-first`/`fail-rate`, a request not chosen to fail loses its `fault` too, so that a
    /// stream fault (which the streamer applies later) obeys the same rate.
    private func applyFault(_ options: inout MockOptions, connection: HTTPServerConnection, openAI: Bool) -> Bool {
        if options.failFirst > 0 || options.failRate > 0 {
            let failing: Bool
            if options.failFirst > 0 {
                let seen = failCounts[options.key, default: 0]
                if failCounts.count > 10_000 { failCounts.removeAll() }
                failCounts[options.key] = seen + 1
                failing = seen < options.failFirst
            } else {
                failing = Int.random(in: 0..<100) < options.failRate
            }
            guard failing else {
                options.fault = nil
                options.status = nil
                return false
            }
            if options.status == nil && options.fault == nil { options.status = 529 }
        }
        if let status = options.status {
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
            if let retryAfter = options.retryAfter {
                headers.append(("Retry-After", retryAfter))
            } else if status == 429 || status == 503 {
                headers.append(("Retry-After", "7"))
            }
            if let shouldRetry = options.shouldRetry { headers.append(("x-should-retry", shouldRetry)) }
            let message = "mock upstream error \(status)"
            connection.respond(status: status, headers: headers,
                               body: openAI ? MockBodies.openAIError(status: status, message: message) : MockBodies.bedrockError(status: status, message: message))
            return true
        }
        guard let fault = options.fault else { return false }
        let stream = connection.stream
        switch fault {
        case "reset-before-head":
            stream.resetAndClose()
        case "close-before-head":
            stream.close()
        case "stall-head":
            break  // never answers; the proxy's first-byte timeout must fire
        case "bad-status":
            connection.writeRaw(Array("HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}".utf8))
            stream.closeAfterFlush()
        case "bad-header":
            connection.writeRaw(Array("HTTP/1.1 200 OK\r\nContent-Type application/json\r\n\r\n".utf8))
            stream.closeAfterFlush()
        case "bad-chunk":
            connection.writeRaw(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n".utf8))
            stream.closeAfterFlush()
        case "truncated-json":
            connection.writeRaw(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":\"chatcmpl-mock\",\"choi".utf8))
            stream.closeAfterFlush()
        case "close-delimited":
            let body = openAI ? MockBodies.chatCompletion(model: "mock", content: "close-delimited") : MockBodies.message(model: "mock", scenario: "text", text: "close-delimited")
            connection.writeRaw(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".utf8) + body)
            stream.closeAfterFlush()
        default:
            return false  // stream faults (reset-mid, stall-mid, midstream-error, invalid-sse) are the streamer's
        }
        return true
    }
}

/// Writes a stream's frames with the requested delay between them, honouring backpressure.
final class MockStreamer: ClientObserver {
    private let connection: HTTPServerConnection
    private var frames: [[UInt8]]
    private let options: MockOptions
    private let openAI: Bool
    private var next = 0
    private var timer: Timer?
    private var bytesLeft: Int
    private var waitingWritable = false
    private var endDelayed = false
    private var selfRetain: MockStreamer?
    /// Loop time of the first frame: frame i is due at `startedAt + i × delay`, so the cadence does
    /// not drift when a busy loop (a thousand streams) fires a timer late.
    private var startedAt: UInt64 = 0
    private static let bulkFrame: [UInt8] = {
        let payload = String(repeating: "x", count: 16 * 1024 - 64)
        return Array("data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\(payload)\"}}\n\n".utf8)
    }()

    init(connection: HTTPServerConnection, frames: [[UInt8]], options: MockOptions, openAI: Bool) {
        self.connection = connection
        self.frames = frames
        self.options = options
        self.openAI = openAI
        bytesLeft = options.streamBytes
    }

    func start() {
        selfRetain = self  // Lifetime: released in finish().
        connection.observer = self
        if options.fault == "invalid-sse" {
            frames.insert(Array("data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_del\n\n".utf8), at: min(2, frames.count))
        }
        connection.startStream(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
        timer = Timer(loop: connection.stream.loop)
        timer?.keepLoopAlive()
        startedAt = connection.stream.loop.now
        step()
    }

    private func step() {
        if connection.isClosed { return finish() }
        if bytesLeft > 0 {
            // Bulk mode: write while the client keeps up; wait for writability otherwise.
            while bytesLeft > 0 {
                if connection.isClientBackedUp {
                    waitingWritable = true
                    return
                }
                connection.streamWrite(Self.bulkFrame)
                bytesLeft -= Self.bulkFrame.count
                if connection.isClosed { return finish() }
            }
            connection.streamWrite(Array("data: [DONE]\n\n".utf8))
            connection.endStream()
            return finish()
        }
        while next < frames.count {
            if next == 3 {
                switch options.fault {
                case "reset-mid", "reset-mid-body":
                    connection.stream.resetAndClose()
                    return finish()
                case "stall-mid":
                    return  // holds the connection open, sending nothing more
                case "close-mid":
                    connection.stream.close()
                    return finish()
                default: break
                }
            }
            connection.streamWrite(frames[next])
            next += 1
            if options.delayMs > 0, next < frames.count {
                let due = startedAt + UInt64(next * options.delayMs)
                let now = connection.stream.loop.now
                timer?.start(after: due > now ? due - now : 0) { [weak self] in self?.step() }
                return
            }
        }
        if options.endDelayMs > 0, !endDelayed {
            // The last event is out; the framing's end comes later (a client may close in between).
            endDelayed = true
            timer?.start(after: UInt64(options.endDelayMs)) { [weak self] in self?.step() }
            return
        }
        connection.endStream()
        finish()
    }

    func clientWritable() {
        guard waitingWritable else { return }
        waitingWritable = false
        step()
    }

    func clientGone() { finish() }

    private func finish() {
        timer?.close()
        timer = nil
        selfRetain = nil
    }
}

/// Runs the mock upstream on its own thread (for tests and `make run`).
package final class MockServer: @unchecked Sendable {
    private let loop = EventLoop()
    private var server: HTTPServer!
    private var handler: MockUpstream!
    private let finished = Latch()
    package private(set) var port = 0

    package init(host: String = "127.0.0.1", port: Int = 0, tlsCertificate: String? = nil, tlsKey: String? = nil,
                rules: MockBedrockRules = MockBedrockRules()) throws {
        handler = MockUpstream(loop: loop, rules: rules)
        var tls: TLSContext?
        if let tlsCertificate, let tlsKey { tls = try TLSContext.server(certificateFile: tlsCertificate, keyFile: tlsKey) }
        let settings = ServerSettings(limits: HTTPLimits(), headTimeoutMs: 30_000, bodyTimeoutMs: 60_000, keepAliveTimeoutMs: 120_000)
        server = try HTTPServer(loop: loop, host: host, port: port, reusePort: false, settings: settings,
                                maxConnections: 20_000, handler: handler, tls: tls)
        self.port = server.port
    }

    /// Serves on a background thread.
    package func start() {
        do {
            try DetachedThread.start(name: "mini-proxy-mock") { [self] in
                loop.unrefWakeup()
                loop.run()
                finished.open()
            }
        } catch {
            Log.error("mock: cannot start its thread: \(error)")
            finished.open()
        }
    }

    /// Serves on the calling thread until the process ends.
    package func run() {
        loop.unrefWakeup()
        loop.run()
    }

    package func stop() {
        loop.execute { [self] in
            server.drain {}
            server.closeAll()
        }
        finished.wait()
    }
}

import Providers
import XCTest

@testable import UVProxy
@testable import UVNet
@testable import HTTP1

/// W3C trace context, sampling, the OTLP JSON encoding and the export queue, without sockets.
final class TracingTests: XCTestCase {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    // MARK: traceparent

    func testValidTraceparent() throws {
        let p = try XCTUnwrap(TraceParent.parse(Self.valid))
        XCTAssertEqual(p.traceHi, 0x4bf9_2f35_77b3_4da6)
        XCTAssertEqual(p.traceLo, 0xa3ce_929d_0e0e_4736)
        XCTAssertEqual(p.spanId, 0x00f0_67aa_0ba9_02b7)
        XCTAssertTrue(p.sampled)
        let unsampled = try XCTUnwrap(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        XCTAssertFalse(unsampled.sampled)
        // Other flag bits are kept as sent (only bit 0 means sampled).
        XCTAssertEqual(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")?.flags, 3)
    }

    func testInvalidTraceparentsAreIgnored() {
        let invalid = [
            "",
            "00",
            String(Self.valid.dropLast()),  // short
            Self.valid + "-",  // version 00 takes exactly 55 bytes
            Self.valid + "0",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero span id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff is forbidden
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",  // uppercase span id
            "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // uppercase version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0G",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // a future version: `-` must follow
        ]
        for v in invalid { XCTAssertNil(TraceParent.parse(v), v) }
    }

    func testFutureVersionIsReadAsVersion00() throws {
        let p = try XCTUnwrap(TraceParent.parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"))
        XCTAssertEqual(p.spanId, 0x00f0_67aa_0ba9_02b7)
        XCTAssertNotNil(TraceParent.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
    }

    func testWriteRoundTrips() throws {
        var b: [UInt8] = []
        TraceParent.write(traceHi: 0x4bf9_2f35_77b3_4da6, traceLo: 0xa3ce_929d_0e0e_4736, span: 0xf0_67aa_0ba9_02b7,
                          sampled: true, into: &b)
        XCTAssertEqual(String(decoding: b, as: UTF8.self), Self.valid)
        b = []
        TraceParent.write(traceHi: 0, traceLo: 1, span: 2, sampled: false, into: &b)
        XCTAssertEqual(String(decoding: b, as: UTF8.self), "00-00000000000000000000000000000001-0000000000000002-00")
    }

    // MARK: Sampling

    func testSamplerRatios() {
        var ids = TraceIdGenerator(seed: 1)
        func share(_ ratio: Double) -> Double {
            let s = TraceSampler(ratio: ratio)
            var n = 0
            for _ in 0..<20_000 where s.samples(traceLo: ids.nextId()) { n += 1 }
            return Double(n) / 20_000
        }
        XCTAssertEqual(share(1), 1)
        XCTAssertEqual(share(0), 0)
        XCTAssertEqual(share(0.25), 0.25, accuracy: 0.02)
        XCTAssertEqual(share(0.999999), 1, accuracy: 0.001)
        let none = TraceSampler(ratio: 0)
        XCTAssertTrue(none.samples(parent: TraceParent.parse(Self.valid)!), "a sampled parent wins over the ratio")
        XCTAssertFalse(TraceSampler(ratio: 1).samples(parent: TraceParent.parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")!), "so does an unsampled one")
    }

    func testIdsAreNonZeroAndDistinct() {
        var ids = TraceIdGenerator(seed: 0)
        var seen = Set<UInt64>()
        for _ in 0..<10_000 {
            let v = ids.nextId()
            XCTAssertNotEqual(v, 0)
            seen.insert(v)
        }
        XCTAssertEqual(seen.count, 10_000)
    }

    // MARK: begin / end on a worker

    func head(_ fields: String) throws -> HTTPRequestHead {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        let bytes = Array("POST /v1/chat?key=secret HTTP/1.1\r\nHost: x\r\n\(fields)\r\n".utf8)
        guard case .complete(let head, _) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
            throw XCTSkip("head did not parse")
        }
        return head
    }

    func makeTracer(ratio: Double = 1, maxSpans: Int = 512, maxQueue: Int = 2048,
                    transport: SpanExporter.Transport? = nil) -> (WorkerTracer, SpanExporter, EventLoop) {
        var c = TracingConfig()
        c.enabled = true
        c.sampleRatio = ratio
        c.batchMaxSpans = maxSpans
        c.maxQueue = maxQueue
        let exporter = SpanExporter(config: c, transport: transport ?? { _, _ in true })
        let loop = EventLoop()
        return (WorkerTracer(loop: loop, exporter: exporter), exporter, loop)
    }

    func testBeginContinuesTheClientsTrace() throws {
        let (tracer, _, _) = makeTracer(ratio: 0)
        let t = tracer.begin(try head("traceparent: \(Self.valid)\r\ntracestate: congo=t61rcWkgMzE\r\nTraceState: rojo=00f0\r\n"))
        XCTAssertEqual(t.traceHi, 0x4bf9_2f35_77b3_4da6)
        XCTAssertEqual(t.traceLo, 0xa3ce_929d_0e0e_4736)
        XCTAssertEqual(t.parentSpanId, 0x00f0_67aa_0ba9_02b7)
        XCTAssertTrue(t.sampled, "the parent's sampled flag decides, not the ratio")
        XCTAssertNotEqual(t.spanId, t.parentSpanId)
        XCTAssertNotEqual(t.spanId, t.clientSpanId)
        let h = try head("traceparent: \(Self.valid)\r\ntracestate: congo=t61rcWkgMzE\r\nTraceState: rojo=00f0\r\n")
        XCTAssertEqual(t.traceState(in: h), "congo=t61rcWkgMzE", "the first tracestate field")
        var t2 = t
        var b: [UInt8] = []
        t2.appendHeaders(h, into: &b)
        var expected: [UInt8] = []
        TraceParent.write(traceHi: t.traceHi, traceLo: t.traceLo, span: t.clientSpanId, sampled: true, into: &expected)
        XCTAssertEqual(String(decoding: b, as: UTF8.self),
                       "traceparent: \(String(decoding: expected, as: UTF8.self))\r\ntracestate: congo=t61rcWkgMzE\r\n")
        XCTAssertNotEqual(t2.clientStartNs, 0)
    }

    func testBeginStartsANewTraceWithoutAValidParent() throws {
        let (tracer, _, _) = makeTracer()
        for fields in ["", "traceparent: garbage\r\ntracestate: a=b\r\n",
                       "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n",
                       "traceparent: \(Self.valid)\r\ntraceparent: \(Self.valid)\r\n"] {
            let h = try head(fields)
            let t = tracer.begin(h)
            XCTAssertEqual(t.parentSpanId, 0, fields)
            XCTAssertNotEqual(t.traceHi | t.traceLo, 0)
            XCTAssertNotEqual(t.traceLo, 0xa3ce_929d_0e0e_4736)
            XCTAssertNil(t.traceState(in: h), "a tracestate without its traceparent is dropped")
            XCTAssertTrue(t.sampled)
        }
        let (off, _, _) = makeTracer(ratio: 0)
        let h = try head("")
        let t = off.begin(h)
        XCTAssertFalse(t.sampled)
        var b: [UInt8] = []
        var t2 = t
        t2.appendHeaders(h, into: &b)
        XCTAssertTrue(String(decoding: b, as: UTF8.self).hasSuffix("-00\r\n"), "unsampled context still goes upstream")
    }

    // MARK: OTLP JSON

    static let yaml = """
        upstreams:
          gw: { url: "http://ai-gateway.example:8080/base" }
        routes:
          - { path: /bedrock/claude/v1/messages, upstream: gw, ingress: anthropic-messages, egress: bedrock-anthropic }
          - { path: /openai/v1/chat/completions, upstream: gw, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/chat/completions, model_aliases: { fast: gpt-5-mini } }
          - { path: /raw/*, upstream: gw, ingress: passthrough, egress: passthrough, upstream_path: /r/* }
        tracing: { enabled: true }
        """

    func runtime() throws -> ProxyRuntime {
        try ProxyRuntime(config: try ConfigLoader.parse(yaml: Self.yaml, environment: [:]))
    }

    /// A span's facts as plain values (the old record's shape); `batch` packs them as the tracer does.
    struct TestSpan {
        var traceHi: UInt64, traceLo: UInt64, spanId: UInt64, parentSpanId: UInt64, clientSpanId: UInt64
        var startNs: UInt64, endNs: UInt64, clientStartNs: UInt64
        var traceState: String?
        var route: CompiledRoute
        var method: String
        var path: String
        var requestModel: String?
        var upstreamPath: String?
        var status: Int32, upstreamStatus: Int32, retries: Int32
        var note: String?
        var inputTokens: Int64, outputTokens: Int64
        var finishReason: String?
        var responseModel: String?
    }

    func batch(_ spans: [TestSpan]) -> SpanBatch {
        var b = SpanBatch()
        for s in spans {
            var r = SpanRecord(traceHi: s.traceHi, traceLo: s.traceLo, spanId: s.spanId, parentSpanId: s.parentSpanId,
                               clientSpanId: s.clientSpanId, startNs: s.startNs, endNs: s.endNs,
                               clientStartNs: s.clientStartNs, route: s.route)
            r.traceState = b.text(s.traceState)
            r.method = b.text(s.method)
            r.path = b.text(s.path, limit: SpanRecord.maxPath)
            r.requestModel = b.text(s.requestModel, limit: SpanRecord.maxModel)
            r.upstreamPath = b.text(s.upstreamPath, limit: SpanRecord.maxPath)
            r.note = b.text(s.note)
            r.finishReason = b.text(s.finishReason)
            r.responseModel = b.text(s.responseModel)
            r.status = s.status
            r.upstreamStatus = s.upstreamStatus
            r.retries = s.retries
            r.inputTokens = s.inputTokens
            r.outputTokens = s.outputTokens
            b.append(r)
        }
        return b
    }

    func record(_ route: CompiledRoute, status: Int32 = 200, upstreamStatus: Int32 = 200, model: String? = "claude-sonnet-4",
                upstreamPath: String? = "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke") -> TestSpan {
        TestSpan(
            traceHi: 0x4bf9_2f35_77b3_4da6, traceLo: 0xa3ce_929d_0e0e_4736, spanId: 0x1111, parentSpanId: 0x00f0_67aa_0ba9_02b7,
            clientSpanId: 0x2222, startNs: 1_700_000_000_000_000_000, endNs: 1_700_000_000_250_000_000,
            clientStartNs: 1_700_000_000_010_000_000, traceState: "congo=t61rcWkgMzE", route: route, method: "POST",
            path: "/bedrock/claude/v1/messages", requestModel: model, upstreamPath: upstreamPath, status: status,
            upstreamStatus: upstreamStatus, retries: 1, note: nil, inputTokens: 12, outputTokens: 34,
            finishReason: "end_turn", responseModel: nil)
    }

    func encode(_ spans: [TestSpan]) throws -> [JSON] {
        let out = OTLPJSON.encode([batch(spans)], serviceName: "svc \"quoted\"")
        let doc = try JSONParser.parse(out)
        let rs = try XCTUnwrap(doc["resourceSpans"]?.arrayValue?.first)
        let attrs = try XCTUnwrap(rs["resource"]?["attributes"]?.arrayValue)
        XCTAssertEqual(attrs.first?["key"], "service.name")
        XCTAssertEqual(attrs.first?["value"]?["stringValue"], "svc \"quoted\"")
        let scope = try XCTUnwrap(rs["scopeSpans"]?.arrayValue?.first)
        XCTAssertEqual(scope["scope"]?["name"], "mini-proxy")
        return try XCTUnwrap(scope["spans"]?.arrayValue)
    }

    func attributes(_ span: JSON) -> [String: JSON] {
        var d: [String: JSON] = [:]
        for a in span["attributes"]?.arrayValue ?? [] {
            guard let k = a["key"]?.stringValue, let value = a["value"]?.objectValue?.members.first?.value else { continue }
            XCTAssertNil(d[k], "attribute \(k) twice")
            d[k] = value
        }
        return d
    }

    func testEncodesServerAndClientSpans() throws {
        let rt = try runtime()
        let spans = try encode([record(rt.routes[0])])
        XCTAssertEqual(spans.count, 2)
        let server = spans[0]
        XCTAssertEqual(server["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(server["spanId"], "0000000000001111")
        XCTAssertEqual(server["parentSpanId"], "00f067aa0ba902b7")
        XCTAssertEqual(server["traceState"], "congo=t61rcWkgMzE")
        XCTAssertEqual(server["kind"], 2)
        XCTAssertEqual(server["flags"], 0x301)
        XCTAssertEqual(server["name"], "chat claude-sonnet-4")
        XCTAssertEqual(server["startTimeUnixNano"], "1700000000000000000")
        XCTAssertEqual(server["endTimeUnixNano"], "1700000000250000000")
        XCTAssertNil(server["status"], "success leaves the status unset")
        let a = attributes(server)
        XCTAssertEqual(a["gen_ai.operation.name"], "chat")
        XCTAssertEqual(a["gen_ai.provider.name"], "aws.bedrock")
        XCTAssertEqual(a["gen_ai.request.model"], "claude-sonnet-4")
        XCTAssertEqual(a["gen_ai.response.model"], "us.anthropic.claude-sonnet-4-20250514-v1:0")
        XCTAssertEqual(a["gen_ai.usage.input_tokens"], "12")
        XCTAssertEqual(a["gen_ai.usage.output_tokens"], "34")
        XCTAssertEqual(a["gen_ai.response.finish_reasons"]?["values"]?.arrayValue?.first?["stringValue"], "end_turn")
        XCTAssertEqual(a["http.request.method"], "POST")
        XCTAssertEqual(a["http.response.status_code"], "200")
        XCTAssertEqual(a["url.path"], "/bedrock/claude/v1/messages")
        XCTAssertEqual(a["server.address"], "ai-gateway.example")
        XCTAssertEqual(a["server.port"], "8080")
        XCTAssertEqual(a["mini_proxy.route"], "/bedrock/claude/v1/messages")
        XCTAssertEqual(a["mini_proxy.retries"], "1")
        XCTAssertNil(a["error.type"])

        let client = spans[1]
        XCTAssertEqual(client["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(client["spanId"], "0000000000002222")
        XCTAssertEqual(client["parentSpanId"], "0000000000001111")
        XCTAssertEqual(client["kind"], 3)
        XCTAssertEqual(client["name"], "chat us.anthropic.claude-sonnet-4-20250514-v1:0")
        XCTAssertEqual(client["startTimeUnixNano"], "1700000000010000000")
        let c = attributes(client)
        XCTAssertEqual(c["gen_ai.request.model"], "us.anthropic.claude-sonnet-4-20250514-v1:0")
        XCTAssertEqual(c["url.full"], "http://ai-gateway.example:8080/base/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke")
    }

    func testFailuresAliasesAndPassThrough() throws {
        let rt = try runtime()
        var failed = record(rt.routes[1], status: 502, upstreamStatus: 0, model: "fast", upstreamPath: "/v1/chat/completions")
        failed.parentSpanId = 0
        failed.traceState = nil
        failed.note = "cannot connect to upstream gw (ai-gateway.example:8080): connection refused"
        failed.inputTokens = -1
        failed.outputTokens = -1
        failed.finishReason = nil
        var raw = record(rt.routes[2], model: nil, upstreamPath: "/r/x?api_key=secret")
        raw.path = "/raw/x"
        raw.clientStartNs = 0
        let spans = try encode([failed, raw])
        XCTAssertEqual(spans.count, 3)
        let s = spans[0]
        XCTAssertNil(s["parentSpanId"])
        XCTAssertEqual(s["flags"], 0x101)
        XCTAssertEqual(s["status"]?["code"], 2)
        XCTAssertEqual(s["status"]?["message"]?.stringValue, failed.note)
        let a = attributes(s)
        XCTAssertEqual(a["error.type"], "502")
        XCTAssertEqual(a["gen_ai.provider.name"], "openai")
        XCTAssertEqual(a["gen_ai.response.model"], "gpt-5-mini", "the alias the upstream was asked for")
        XCTAssertNil(a["gen_ai.usage.input_tokens"])
        XCTAssertNil(a["gen_ai.response.finish_reasons"])
        let c = attributes(spans[1])
        XCTAssertEqual(c["error.type"], "no_response")
        XCTAssertNil(c["http.response.status_code"])
        XCTAssertEqual(spans[1]["status"]?["code"], 2)

        let p = spans[2]
        XCTAssertEqual(p["name"], "POST /raw/*")
        let pa = attributes(p)
        XCTAssertNil(pa["gen_ai.operation.name"])
        XCTAssertNil(pa["gen_ai.provider.name"])
        XCTAssertEqual(pa["url.path"], "/raw/x")
        XCTAssertEqual(pa["mini_proxy.route"], "/raw/*")
    }

    func testEndRecordsOnlySampledSpansAndCutsTheQuery() throws {
        let rt = try runtime()
        let (tracer, exporter, _) = makeTracer(maxSpans: 2)
        let body = Array(#"{"model":"claude-sonnet-4","max_tokens":5}"#.utf8)
        let h = try head("")
        let t = tracer.begin(h)
        tracer.end(t, route: rt.routes[0], method: "POST", head: h, status: 200, upstreamStatus: 200, retries: 0,
                   model: 9..<26, body: body, upstreamPath: nil, note: nil)
        XCTAssertEqual(tracer.pendingCount, 1)
        let (off, offExporter, _) = makeTracer(ratio: 0)
        off.end(off.begin(h), route: rt.routes[0], method: "POST", head: h, status: 200, upstreamStatus: 200, retries: 0,
                model: nil, body: body, upstreamPath: nil, note: nil)
        XCTAssertEqual(off.pendingCount, 0)
        XCTAssertEqual(offExporter.snapshot().queued, 0)
        // The second span fills the batch: handed to the exporter at once.
        tracer.end(t, route: rt.routes[0], method: "POST", head: h, status: 200, upstreamStatus: 200, retries: 0,
                   model: 9..<26, body: body, upstreamPath: nil, note: nil)
        XCTAssertEqual(tracer.pendingCount, 0)
        XCTAssertEqual(exporter.snapshot().queued, 2)
        final class Box: @unchecked Sendable { var bytes: [UInt8] = [] }
        let captured = Box()
        let lock = Lock()
        let (t2, e2, _) = makeTracer(transport: { b, _ in lock.withLock { captured.bytes = Array(b) }; return true })
        t2.end(t2.begin(h), route: rt.routes[0], method: "POST", head: h, status: 200, upstreamStatus: 200, retries: 0,
               model: 9..<26, body: body, upstreamPath: nil, note: nil)
        t2.close()
        try e2.start()
        e2.shutdown(waitMs: 5_000)
        XCTAssertEqual(e2.snapshot().exported, 1)
        let text = lock.withLock { String(decoding: captured.bytes, as: UTF8.self) }
        XCTAssertTrue(text.contains(#""stringValue":"/v1/chat""#), text)
        XCTAssertFalse(text.contains("secret"), "no query value in a span")
        XCTAssertTrue(text.contains(#""name":"chat claude-sonnet-4""#), text)
    }

    // MARK: The queue

    func testQueueIsBoundedAndDropsAreCounted() throws {
        let rt = try runtime()
        let gate = Latch()
        let calls = Lock()
        final class Sizes: @unchecked Sendable { var list: [Int] = [] }
        let sizes = Sizes()
        let exporter = SpanExporter(config: {
            var c = TracingConfig()
            c.enabled = true
            c.batchMaxSpans = 3
            c.maxQueue = 5
            return c
        }(), transport: { body, _ in
            gate.wait()
            let n = String(decoding: body, as: UTF8.self).components(separatedBy: #""kind":2"#).count - 1
            calls.withLock { sizes.list.append(n) }
            return true
        })
        let r = record(rt.routes[0])
        exporter.submit(batch([r, r]))
        exporter.submit(batch([r, r]))
        exporter.submit(batch([r, r]))  // one fits, one is dropped
        exporter.submit(batch([r]))  // full: dropped
        var c = exporter.snapshot()
        XCTAssertEqual(c.queued, 5)
        XCTAssertEqual(c.droppedQueueFull, 4, "two exchanges of a SERVER and a CLIENT span")
        try exporter.start()
        gate.open()
        exporter.shutdown(waitMs: 5_000)
        c = exporter.snapshot()
        XCTAssertEqual(c.exported, 10)
        XCTAssertEqual(c.queued, 0)
        XCTAssertEqual(calls.withLock { sizes.list }, [2, 3], "batches joined up to batch.max_spans")
    }

    func testFailedExportsDropAndCount() throws {
        let rt = try runtime()
        let exporter = SpanExporter(config: { var c = TracingConfig(); c.enabled = true; return c }(),
                                    transport: { _, _ in false })
        try exporter.start()
        exporter.submit(batch([record(rt.routes[0]), record(rt.routes[0])]))
        exporter.shutdown(waitMs: 5_000)
        let c = exporter.snapshot()
        XCTAssertEqual(c.exported, 0)
        XCTAssertEqual(c.droppedFailed, 4)
        XCTAssertEqual(c.failedExports, 1)
        exporter.submit(batch([record(rt.routes[0])]))
        XCTAssertEqual(exporter.snapshot().droppedQueueFull, 2, "after shutdown nothing is queued")
    }

    func testShutdownWaitIsBounded() throws {
        let rt = try runtime()
        let gate = Latch()
        let exporter = SpanExporter(config: { var c = TracingConfig(); c.enabled = true; return c }(),
                                    transport: { _, _ in gate.wait(); return true })
        try exporter.start()
        exporter.submit(batch([record(rt.routes[0])]))
        let start = monotonicNanoseconds()
        exporter.shutdown(waitMs: 100)
        XCTAssertLessThan(monotonicNanoseconds() - start, 2_000_000_000)
        gate.open()
    }

    func testTheRealClientAgainstNothingFailsFast() throws {
        var c = TracingConfig()
        c.endpoint = UpstreamURL(scheme: "http", host: "127.0.0.1", port: 9, basePath: "/v1/traces")
        let client = OTLPHTTPClient(config: c)
        XCTAssertFalse([UInt8]([0x7B, 0x7D]).withUnsafeBytes { client.post($0, deadlineNs: monotonicNanoseconds() + 2_000_000_000) })
        let request = String(decoding: client.request(Array("{}".utf8)), as: UTF8.self)
        XCTAssertTrue(request.hasPrefix("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"), request)
        XCTAssertTrue(request.contains("Content-Type: application/json\r\n"))
        XCTAssertTrue(request.hasSuffix("Content-Length: 2\r\n\r\n{}"))
        XCTAssertTrue(OTLPHTTPClient.isSuccess(ArraySlice("HTTP/1.1 200 OK\r\n".utf8)))
        XCTAssertFalse(OTLPHTTPClient.isSuccess(ArraySlice("HTTP/1.1 503 Unavailable\r\n".utf8)))
    }
}

import Foundation
import Providers
import XCTest

@testable import UVProxy

/// The OTLP JSON encoder's output, decoded with Foundation's JSONSerialization and the project's
/// JSONParser, against the whole expected structure: every attribute kind, missing optional fields,
/// escapes, non-ASCII and invalid UTF-8.
final class TracingJSONTests: XCTestCase {
    typealias Obj = [String: Any]

    func s(_ v: String) -> Obj { ["stringValue": v] }
    func i(_ v: String) -> Obj { ["intValue": v] }

    func text(_ b: inout SpanBatch, _ s: String?) -> SpanText { b.text(s, limit: .max) }

    func testEveryAttributeKindAndEscapeDecodes() throws {
        let rt = try ProxyRuntime(config: try ConfigLoader.parse(yaml: TracingTests.yaml, environment: [:]))
        var b = SpanBatch()
        let model = "claude \"q\" \\ \u{01}\t é漢字🙂"
        let path = "/bedrock/claude/v1/messages/é\"x"
        let responseModel = "us.anthropic.claude-é"
        // A: Bedrock, a client's parent and tracestate, usage, a finish reason with a newline.
        var a = SpanRecord(traceHi: 0x4bf9_2f35_77b3_4da6, traceLo: 0xa3ce_929d_0e0e_4736, spanId: 0x1111,
                           parentSpanId: 0x00f0_67aa_0ba9_02b7, clientSpanId: 0x2222, startNs: 1_700_000_000_000_000_000,
                           endNs: 1_700_000_000_250_000_000, clientStartNs: 1_700_000_000_010_000_000, route: rt.routes[0])
        a.traceState = text(&b, "k=v \"q\"")
        a.method = text(&b, "POST")
        a.path = text(&b, path)
        a.requestModel = text(&b, model)
        a.upstreamPath = text(&b, "/model/us.anthropic.claude-%C3%A9%22x/invoke?q=secret")
        a.finishReason = text(&b, "end\n_turn")
        a.responseModel = text(&b, responseModel)
        a.status = 200
        a.upstreamStatus = 200
        a.retries = 1
        a.inputTokens = 12
        a.outputTokens = 0
        b.append(a)
        // B: OpenAI with an alias, no parent, the upstream never answered; the note is cut before its é.
        let note = "\"q\"\n" + String(repeating: "x", count: 251) + "é and more"
        var f = SpanRecord(traceHi: 1, traceLo: 2, spanId: 3, parentSpanId: 0, clientSpanId: 4, startNs: 10, endNs: 5,
                           clientStartNs: 7, route: rt.routes[1])
        f.method = text(&b, "POST")
        f.path = text(&b, "/openai/v1/chat/completions")
        f.requestModel = text(&b, "fast")
        f.upstreamPath = text(&b, "/v1/chat/completions")
        f.note = text(&b, note)
        f.status = 502
        b.append(f)
        // C: pass-through, never went upstream, invalid UTF-8 and a control byte in the path.
        var p = SpanRecord(traceHi: 1, traceLo: 2, spanId: 5, parentSpanId: 0, clientSpanId: 6, startNs: 10, endNs: 20,
                           clientStartNs: 0, route: rt.routes[2])
        p.method = text(&b, "GET")
        p.path = [UInt8]([0x2F, 0x72, 0x61, 0x77, 0x2F, 0x66, 0xFF, 0x6F, 0x01, 0xE2, 0x82]).withUnsafeBytes { b.text($0) }
        p.status = 200
        b.append(p)

        let out = OTLPJSON.encode([b], serviceName: "svc")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out)) as? Obj)
        XCTAssertNoThrow(try JSONParser.parse(out), "the project's parser reads it too")
        let rs = try XCTUnwrap((doc["resourceSpans"] as? [Obj])?.first)
        XCTAssertEqual(rs["resource"] as? NSDictionary, [
            "attributes": [["key": "service.name", "value": s("svc")],
                           ["key": "service.version", "value": s(MiniProxyVersion.string)]],
        ] as NSDictionary)
        let scope = try XCTUnwrap((rs["scopeSpans"] as? [Obj])?.first)
        XCTAssertEqual(scope["scope"] as? NSDictionary, ["name": "mini-proxy", "version": MiniProxyVersion.string] as NSDictionary)
        let spans = try XCTUnwrap(scope["spans"] as? [Obj])
        XCTAssertEqual(spans.count, 5)
        guard spans.count == 5 else { return }

        let gw: Obj = ["server.address": s("ai-gateway.example"), "server.port": i("8080")]
        let upstreamModel = "us.anthropic.claude-é\"x"
        check(spans[0], [
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "0000000000001111", "parentSpanId": "00f067aa0ba902b7",
            "traceState": "k=v \"q\"", "flags": 0x301, "name": "chat " + model, "kind": 2,
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000250000000",
        ], attributes: gw.merging([
            "http.request.method": s("POST"), "http.response.status_code": i("200"), "url.path": s(path),
            "gen_ai.operation.name": s("chat"), "gen_ai.provider.name": s("aws.bedrock"),
            "gen_ai.request.model": s(model), "gen_ai.response.model": s(responseModel),
            "gen_ai.usage.input_tokens": i("12"), "gen_ai.usage.output_tokens": i("0"),
            "gen_ai.response.finish_reasons": ["arrayValue": ["values": [s("end\n_turn")]]],
            "http.route": s("/bedrock/claude/v1/messages"), "mini_proxy.route": s("/bedrock/claude/v1/messages"),
            "mini_proxy.upstream": s("gw"), "mini_proxy.retries": i("1"),
        ]) { x, _ in x })
        check(spans[1], [
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "0000000000002222", "parentSpanId": "0000000000001111",
            "traceState": "k=v \"q\"", "flags": 0x101, "name": "chat " + upstreamModel, "kind": 3,
            "startTimeUnixNano": "1700000000010000000", "endTimeUnixNano": "1700000000250000000",
        ], attributes: gw.merging([
            "http.request.method": s("POST"), "http.response.status_code": i("200"),
            "gen_ai.operation.name": s("chat"), "gen_ai.provider.name": s("aws.bedrock"),
            "gen_ai.request.model": s(upstreamModel), "gen_ai.response.model": s(responseModel),
            "url.full": s("http://ai-gateway.example:8080/base/model/us.anthropic.claude-%C3%A9%22x/invoke"),
        ]) { x, _ in x })
        let message = "\"q\"\n" + String(repeating: "x", count: 251)
        check(spans[2], [
            "traceId": "00000000000000010000000000000002", "spanId": "0000000000000003", "flags": 0x101,
            "name": "chat fast", "kind": 2, "startTimeUnixNano": "10", "endTimeUnixNano": "10",
            "status": ["code": 2, "message": message],
        ], attributes: gw.merging([
            "http.request.method": s("POST"), "http.response.status_code": i("502"), "url.path": s("/openai/v1/chat/completions"),
            "gen_ai.operation.name": s("chat"), "gen_ai.provider.name": s("openai"),
            "gen_ai.request.model": s("fast"), "gen_ai.response.model": s("gpt-5-mini"),
            "http.route": s("/openai/v1/chat/completions"), "mini_proxy.route": s("/openai/v1/chat/completions"),
            "mini_proxy.upstream": s("gw"), "mini_proxy.retries": i("0"), "error.type": s("502"),
        ]) { x, _ in x })
        check(spans[3], [
            "traceId": "00000000000000010000000000000002", "spanId": "0000000000000004", "parentSpanId": "0000000000000003",
            "flags": 0x101, "name": "chat gpt-5-mini", "kind": 3, "startTimeUnixNano": "7", "endTimeUnixNano": "7",
            "status": ["code": 2, "message": message],
        ], attributes: gw.merging([
            "http.request.method": s("POST"), "gen_ai.operation.name": s("chat"), "gen_ai.provider.name": s("openai"),
            "gen_ai.request.model": s("gpt-5-mini"), "url.full": s("http://ai-gateway.example:8080/base/v1/chat/completions"),
            "error.type": s("no_response"),
        ]) { x, _ in x })
        check(spans[4], [
            "traceId": "00000000000000010000000000000002", "spanId": "0000000000000005", "flags": 0x101,
            "name": "GET /raw/*", "kind": 2, "startTimeUnixNano": "10", "endTimeUnixNano": "20",
        ], attributes: gw.merging([
            "http.request.method": s("GET"), "http.response.status_code": i("200"), "url.path": s("/raw/f\u{FFFD}o\u{01}\u{FFFD}\u{FFFD}"),
            "http.route": s("/raw/*"), "mini_proxy.route": s("/raw/*"), "mini_proxy.upstream": s("gw"), "mini_proxy.retries": i("0"),
        ]) { x, _ in x })
    }

    /// `span` is `expected` plus `attributes` (a key → value map; each key once).
    func check(_ span: Obj, _ expected: Obj, attributes: Obj, file: StaticString = #filePath, line: UInt = #line) {
        var rest = span
        let list = rest.removeValue(forKey: "attributes") as? [Obj] ?? []
        XCTAssertEqual(rest as NSDictionary, expected as NSDictionary, file: file, line: line)
        var found: Obj = [:]
        for a in list {
            guard let k = a["key"] as? String, let v = a["value"] else { return XCTFail("attribute \(a)", file: file, line: line) }
            XCTAssertNil(found[k], "attribute \(k) twice", file: file, line: line)
            found[k] = v
        }
        XCTAssertEqual(found as NSDictionary, attributes as NSDictionary, file: file, line: line)
    }

    func testEscapesEveryByte() throws {
        // Every ASCII byte, then valid sequences of 2, 3 and 4 bytes and invalid ones (overlong, surrogate, too big, cut).
        var bytes = [UInt8](0..<0x80)
        bytes += Array("é漢🙂".utf8) + [0xC0, 0xAF, 0xED, 0xA0, 0x80, 0xF4, 0x90, 0x80, 0x80, 0xF0, 0x9F]
        let b = JSONBuffer()
        bytes.withUnsafeBytes { b.string($0) }
        let decoded = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(b.bytes), options: .fragmentsAllowed) as? String)
        let expected = String(decoding: [UInt8](0..<0x80), as: UTF8.self) + "é漢🙂" + String(repeating: "\u{FFFD}", count: 11)
        XCTAssertEqual(decoded, expected)
        XCTAssertEqual(try JSONParser.parse(b.bytes).stringValue, expected)
    }
}

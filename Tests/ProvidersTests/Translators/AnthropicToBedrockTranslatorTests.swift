import XCTest
@testable import Providers

final class AnthropicToBedrockTranslatorTests: XCTestCase {
    private let folder = "anthropic-bedrock"
    private let options = TranslationOptions(upstreamPath: "/v1/bedrock/model/{model}/{action}")

    private func make() -> AnthropicToBedrockTranslator { AnthropicToBedrockTranslator(options: options) }

    private func request(_ body: String, beta: [String] = []) throws(APIError) -> UpstreamRequest {
        try make().upstreamRequest(for: ClientRequest(body: bytes(body), anthropicBeta: beta))
    }

    private func requestError(_ body: String) -> APIError? {
        do throws(APIError) {
            _ = try request(body)
            return nil
        } catch {
            return error
        }
    }

    func testRequestFixtures() throws {
        let names = Fixture.names(folder, suffix: ".request.json")
        XCTAssertEqual(names, ["blocks-nostream", "text-stream"])
        for name in names {
            let up = try make().upstreamRequest(
                for: ClientRequest(
                    body: Fixture.bytes(folder, "\(name).request.json"), anthropicBeta: ["interleaved-thinking-2025-05-14"]))
            XCTAssertEqual(up.body.utf8String, Fixture.bytes(folder, "\(name).upstream.json").utf8String, name)
            XCTAssertEqual(up.path, Fixture.bytes(folder, "\(name).upstream.path").utf8String, name)
            XCTAssertEqual(up.stream, name.contains("-stream"), name)
            XCTAssertNoThrow(try JSONParser.parse(up.body), name)
        }
    }

    func testRequestDetails() throws {
        let r = try request(#"{"model":"claude-v2","messages":[],"max_tokens":1,"stream":false,"anthropic_version":"x","anthropic_version":"y"}"#)
        XCTAssertEqual(r.path, "/v1/bedrock/model/anthropic.claude-v2:0/invoke")
        XCTAssertFalse(r.stream)
        XCTAssertEqual(r.body.utf8String, #"{"messages":[],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31"}"#)
        // Header betas merge with a body list without duplicates; no header: body byte-exact.
        let b = try request(#"{"model":"claude-v2","messages":[],"max_tokens":1,"anthropic_beta":["a", "b"]}"#, beta: ["b", "c"])
        XCTAssertEqual(b.body.utf8String, #"{"messages":[],"max_tokens":1,"anthropic_beta":["a","b","c"],"anthropic_version":"bedrock-2023-05-31"}"#)
        let c = try request(#"{"model":"claude-v2","messages":[],"max_tokens":1,"anthropic_beta":["a", "b"]}"#)
        XCTAssertEqual(c.body.utf8String, #"{"messages":[],"max_tokens":1,"anthropic_beta":["a", "b"],"anthropic_version":"bedrock-2023-05-31"}"#)
        // Aliases and ARNs.
        let opts = TranslationOptions(upstreamPath: "/m/{model}/{action}", modelAliases: ["fast": "arn:aws:bedrock:us-east-1:1:inference-profile/us.x"])
        let d = try AnthropicToBedrockTranslator(options: opts).upstreamRequest(
            for: ClientRequest(body: bytes(#"{"model":"fast","messages":[],"max_tokens":1,"stream":true}"#)))
        XCTAssertEqual(d.path, "/m/arn:aws:bedrock:us-east-1:1:inference-profile%2Fus.x/invoke-with-response-stream")
        XCTAssertTrue(d.stream)
    }

    func testRequestErrors() {
        let cases: [(String, String)] = [
            ("not json", "request body is not valid JSON: expected a JSON object at byte 0"),
            ("[1]", "request body is not valid JSON: expected a JSON object at byte 0"),
            (#"{"messages":[],"max_tokens":1}"#, "model: Field required"),
            (#"{"model":1,"messages":[],"max_tokens":1}"#, "model: must be a non-empty string"),
            (#"{"model":"","messages":[],"max_tokens":1}"#, "model: must be a non-empty string"),
            (#"{"model":"claude-x","max_tokens":1}"#, "messages: Field required"),
            (#"{"model":"claude-x","messages":{},"max_tokens":1}"#, "messages: must be an array"),
            (#"{"model":"claude-x","messages":[]}"#, "max_tokens: Field required"),
            (#"{"model":"claude-x","messages":[],"max_tokens":"1"}"#, "max_tokens: must be an integer"),
            (#"{"model":"claude-x","messages":[],"max_tokens":1,"stream":"yes"}"#, "stream: must be a boolean"),
            (#"{"model":"claude-x","messages":["hi"],"max_tokens":1}"#, "messages.0: must be an object"),
        ]
        for (body, message) in cases {
            let e = requestError(body)
            XCTAssertEqual(e?.message, message, body)
            XCTAssertEqual(e?.status, 400, body)
            XCTAssertEqual(e.map { $0.body(for: .anthropicMessages).utf8String },
                           "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\(JSON.string(message).bytes.utf8String)}}")
        }
    }

    func testResponses() {
        let t = make()
        let ok = t.clientResponse(
            status: 200, contentType: "application/json",
            body: bytes(#"{"id":"m","content":[{"type":"text","text":"hi"}],"amazon-bedrock-invocationMetrics":{"x":1},"usage":{"input_tokens":1}}"#),
            retryAfter: nil)
        XCTAssertEqual(ok.body.utf8String, #"{"id":"m","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":1}}"#)
        XCTAssertEqual(ok.status, 200)
        let plain = bytes(#"{"id":"m" ,"content":[]}"#)
        XCTAssertEqual(t.clientResponse(status: 200, contentType: nil, body: plain, retryAfter: nil).body, plain)

        let errors: [(Int, String, String?, String)] = [
            (429, #"{"message":"Too many requests"}"#, "7", #"{"type":"error","error":{"type":"rate_limit_error","message":"Too many requests"}}"#),
            (400, #"{"Message":"Malformed input"}"#, nil, #"{"type":"error","error":{"type":"invalid_request_error","message":"Malformed input"}}"#),
            (529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, nil, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            (502, "<html>bad</html>", nil, #"{"type":"error","error":{"type":"api_error","message":"upstream returned HTTP 502"}}"#),
            (403, #"{"error":{"message":"no","type":"permission_error"}}"#, nil, #"{"type":"error","error":{"type":"permission_error","message":"no"}}"#),
        ]
        for (status, body, retry, expected) in errors {
            let r = t.clientResponse(status: status, contentType: "application/json", body: bytes(body), retryAfter: retry)
            XCTAssertEqual(r.status, status)
            XCTAssertEqual(r.body.utf8String, expected)
            XCTAssertEqual(r.headers.first?.value, retry)
        }
    }

    func testStreamFixturesEverySplit() {
        let names = Fixture.names(folder, suffix: ".upstream.sse")
        XCTAssertEqual(names.count, 5)
        for name in names {
            let input = Fixture.bytes(folder, "\(name).upstream.sse")
            let expected = Fixture.bytes(folder, "\(name).client.sse").utf8String
            assertEverySplit(input, expected: expected) { replayStream(make, $0) }
            // Every client event is well-formed.
            var decoder = SSEDecoder()
            var events: [SSEEvent] = []
            XCTAssertNoThrow(try decoder.feed(bytes(expected)) { events.append($0) })
            for e in events {
                let json = try? JSONParser.parse(e.data)
                XCTAssertNotNil(json, name)
                XCTAssertEqual(e.eventName, json?["type"]?.stringValue, name)
            }
            XCTAssertGreaterThan(events.count, 0, name)
        }
    }

    func testMetricsStrippedAndSignatureByteExact() {
        let out = replayStream(make, [Fixture.bytes(folder, "thinking-tools.upstream.sse")])
        XCTAssertFalse(out.contains("invocationMetrics"))
        XCTAssertTrue(out.contains(#""signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds/+==""#))
        XCTAssertTrue(out.contains(#""partial_json":"{\"city\": \"Z\u00fcrich""#))
    }

    func testStreamFailAndKeepAlive() {
        let t = make()
        var out: [UInt8] = []
        t.keepAlive(into: &out)
        bytes("data: {\"type\":\"message_start\",\"message\":{}}\n\ndata: {\"type\":\"content_block_delta\",\"ind").withUnsafeBytes {
            t.streamChunk($0, into: &out)
        }
        t.streamFail(.gatewayTimeout("upstream timed out"), into: &out)
        t.streamFail(.gatewayTimeout("again"), into: &out)
        bytes("ex\":0}\n\n").withUnsafeBytes { t.streamChunk($0, into: &out) }
        t.streamEnd(into: &out)
        XCTAssertEqual(out.utf8String, """
            event: ping\ndata: {"type": "ping"}\n\nevent: message_start\ndata: {"type":"message_start","message":{}}\n\n\
            event: error\ndata: {"type":"error","error":{"type":"api_error","message":"upstream timed out"}}\n\n
            """)
        XCTAssertEqual(t.streamContentType, "text/event-stream")
    }

    func testInvalidEventsBecomeErrors() {
        XCTAssertEqual(replayStream(make, [bytes("data: not json\n\ndata: {\"type\":\"ping\"}\n\n")]),
                       "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream sent an invalid stream event\"}}\n\n")
        XCTAssertEqual(replayStream(make, [bytes("data: {\"type\":\"a\\nb\"}\n\n")]),
                       "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream sent an invalid stream event type\"}}\n\n")
        let small = { AnthropicToBedrockTranslator(options: self.options, maxEventBytes: 16) }
        XCTAssertEqual(replayStream(small, [bytes("data: {\"type\":\"message_start\",\"message\":{}}\n\n")]),
                       "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream stream event too large: SSE event larger than 16 bytes\"}}\n\n")
    }

    func testFactory() {
        XCTAssertTrue(Translators.make(ingress: .anthropicMessages, egress: .bedrockAnthropic, options: options) is AnthropicToBedrockTranslator)
        XCTAssertTrue(Translators.make(ingress: .openAIChat, egress: .openAIChat, options: options) is OpenAIPassthroughTranslator)
        XCTAssertTrue(Translators.make(ingress: .anthropicMessages, egress: .openAIChat, options: options) is AnthropicToOpenAITranslator)
        XCTAssertTrue(Translators.make(ingress: .openAIResponses, egress: .bedrockAnthropic, options: options) is ResponsesToBedrockTranslator)
        XCTAssertNil(Translators.make(ingress: .openAIResponses, egress: .openAIChat, options: options))
        XCTAssertNil(Translators.make(ingress: .passthrough, egress: .passthrough, options: options))
    }
}

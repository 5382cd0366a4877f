import Foundation
import XCTest

@testable import Providers

/// Golden response fixtures: `response/<name>.json` holds the client's request, the upstream's complete
/// response (status, optional `retryAfter`, `bodyText`) and the expected client response.
final class OpenAIToBedrockResponseTests: XCTestCase {
    func testFixtures() throws {
        let (directory, names) = try OpenAIBedrockFixtures.names("response")
        let required = [
            "text", "tool-use-with-text", "tool-use-parallel-no-text", "thinking-signature", "stop-sequence", "max-tokens",
            "refusal", "cache-usage", "unicode-escapes", "model-echoed", "error-400-anthropic", "error-400-bedrock",
            "error-429-retry-after", "error-500-not-json", "error-2xx-not-a-message",
        ]
        for name in required { XCTAssertTrue(names.contains(name), "missing response fixture \(name)") }
        for name in names {
            let fixture = try OpenAIBedrockFixtures.json(directory.appendingPathComponent(name + ".json"))
            let translator = OpenAIBedrockFixtures.translator()
            _ = try translator.upstreamRequest(for: ClientRequest(body: try XCTUnwrap(fixture["request"], name).bytes))
            let upstream = try XCTUnwrap(fixture["upstream"], name)
            let response = translator.clientResponse(
                status: try XCTUnwrap(upstream["status"]?.intValue, name), contentType: "application/json",
                body: Array(try XCTUnwrap(upstream["bodyText"]?.stringValue, name).utf8),
                retryAfter: upstream["retryAfter"]?.stringValue)
            let expected = try XCTUnwrap(fixture["expected"], name)
            XCTAssertEqual(response.status, expected["status"]?.intValue, name)
            XCTAssertEqual(response.contentType, "application/json", name)
            let expectedHeaders = (expected["headers"]?.arrayValue ?? []).map {
                "\($0.arrayValue?.first?.stringValue ?? ""): \($0.arrayValue?.last?.stringValue ?? "")"
            }
            XCTAssertEqual(response.headers.map { "\($0.name): \($0.value)" }, expectedHeaders, name)
            OpenAIBedrockFixtures.assertSameJSON(response.body, try XCTUnwrap(expected["body"]), name)
        }
    }

    /// `tool_calls[].function.arguments` is compact JSON with the upstream's numbers kept as written.
    func testToolArgumentsAreCompactJSON() throws {
        let translator = OpenAIBedrockFixtures.translator()
        let upstream = #"{"id":"m","type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":{ "a" : [ 1 , 2.50 ] , "b" : "\u00e9" }}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}"#
        let response = translator.clientResponse(status: 200, contentType: nil, body: bytes(upstream), retryAfter: nil)
        let body = try JSONParser.parse(response.body)
        let arguments = body["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first?["function"]?[
            "arguments"]
        XCTAssertEqual(arguments?.stringValue, #"{"a":[1,2.50],"b":"é"}"#)
    }

    /// Without a clock injected, `created` is the current Unix time.
    func testDefaultClockIsUnixSeconds() throws {
        let translator = OpenAIToBedrockTranslator(options: OpenAIBedrockFixtures.options)
        let body = #"{"id":"m","type":"message","content":[],"stop_reason":"end_turn","usage":{}}"#
        let response = translator.clientResponse(status: 200, contentType: nil, body: bytes(body), retryAfter: nil)
        let created = try XCTUnwrap(try JSONParser.parse(response.body)["created"]?.intValue)
        XCTAssertEqual(Double(created), Date().timeIntervalSince1970, accuracy: 5)
    }
}

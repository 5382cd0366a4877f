import Foundation
import XCTest

@testable import Providers

/// Golden response fixtures: `response/<name>.json` holds the client's request, the upstream's complete
/// response (status, optional `retryAfter`, `bodyText`) and the expected client response.
final class OpenAIToBedrockResponseTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text", "tool-use-with-text", "tool-use-parallel-no-text", "thinking-signature", "stop-sequence", "max-tokens",
            "refusal", "cache-usage", "unicode-escapes", "model-echoed", "error-400-anthropic", "error-400-bedrock",
            "error-429-retry-after", "error-500-not-json", "error-2xx-not-a-message",
        ]
        try OpenAIBedrockFixtures.checkResponseFixtures(required: required)
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

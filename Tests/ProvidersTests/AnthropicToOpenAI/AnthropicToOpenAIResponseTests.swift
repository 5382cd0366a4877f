import Foundation
import XCTest

@testable import Providers

/// Golden response fixtures: `response/<name>.json` holds the client's request, the upstream's complete
/// response (status, optional `retryAfter`, `bodyText`) and the expected client response.
final class AnthropicToOpenAIResponseTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text", "tool-calls-with-text", "tool-call-bad-arguments", "finish-stop-with-tool-call", "length",
            "content-filter", "refusal", "cache-usage", "unicode-escapes", "error-429-retry-after", "error-400-openai",
            "error-401", "error-500-not-json", "error-529-overloaded", "error-2xx-not-a-completion",
            "error-2xx-tool-call-without-name",
        ]
        try AnthropicOpenAIFixtures.checkResponseFixtures(required: required)
    }

    /// The client's model name comes back, not the upstream's, even when an alias changed it.
    func testModelIsTheClients() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        let request = try translator.upstreamRequest(
            for: ClientRequest(
                body: bytes(#"{"model":"claude-opus-5-5","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#)))
        XCTAssertEqual(try JSONParser.parse(request.body)["model"], "gpt-5")
        let body =
            #"{"id":"c","model":"gpt-5-2025-08-07","choices":[{"index":0,"message":{"role":"assistant","content":"y"},"finish_reason":"stop"}]}"#
        let response = translator.clientResponse(status: 200, contentType: nil, body: bytes(body), retryAfter: nil)
        XCTAssertEqual(try JSONParser.parse(response.body)["model"], "claude-opus-5-5")
    }
}

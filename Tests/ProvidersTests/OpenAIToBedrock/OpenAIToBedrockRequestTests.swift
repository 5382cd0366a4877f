import Foundation
import XCTest

@testable import Providers

/// Golden request fixtures: `request/<name>.json` holds the client's body (`client`, or raw `clientText`)
/// and either the expected upstream request (`upstream`: path, stream, body) or the expected 400 (`error`).
final class OpenAIToBedrockRequestTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text-basic", "system-developer-sampling", "images-stream-alias", "tool-single-history",
            "tool-parallel-history", "tool-choice-default-no-parallel", "tool-choice-none-thinking",
            "no-tools-drops-tool-choice", "model-path-encoded", "error-model-dots", "unicode-escapes",
            "error-missing-model", "error-missing-messages", "error-n-2", "error-logprobs",
            "error-response-format-json-schema", "error-tool-arguments-invalid", "error-body-not-json",
            "error-audio-modality",
        ]
        let checked = try OpenAIBedrockFixtures.checkRequestFixtures(
            required: required,
            error: { name, error, expected in try OpenAIBedrockFixtures.assertMessage(error, expected, name) })
        XCTAssertGreaterThanOrEqual(checked, required.count)
    }

    /// `max_tokens` falls back to the route's configured default, not a constant.
    func testDefaultMaxTokensComesFromOptions() throws {
        var options = OpenAIBedrockFixtures.options
        options.defaultMaxTokens = 1234
        let translator = OpenAIToBedrockTranslator(options: options)
        let request = try translator.upstreamRequest(
            for: ClientRequest(body: bytes(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)))
        XCTAssertEqual(try JSONParser.parse(request.body)["max_tokens"], 1234)
    }

    /// The upstream path template is the route's, with both placeholders filled.
    func testPathTemplateFromOptions() throws {
        var options = OpenAIBedrockFixtures.options
        options.upstreamPath = "/custom/{action}/for/{model}"
        let translator = OpenAIToBedrockTranslator(options: options)
        let request = try translator.upstreamRequest(
            for: ClientRequest(body: bytes(#"{"model":"sonnet","stream":true,"messages":[{"role":"user","content":"x"}]}"#)))
        XCTAssertEqual(request.path, "/custom/invoke-with-response-stream/for/us.anthropic.claude-sonnet-4-20250514-v1:0")
        XCTAssertTrue(request.stream)
    }
}

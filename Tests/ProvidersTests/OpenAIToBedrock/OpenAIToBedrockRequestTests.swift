import Foundation
import XCTest

@testable import Providers

/// Golden request fixtures: `request/<name>.json` holds the client's body (`client`, or raw `clientText`)
/// and either the expected upstream request (`upstream`: path, stream, body) or the expected 400 (`error`).
final class OpenAIToBedrockRequestTests: XCTestCase {
    func testFixtures() throws {
        let (directory, names) = try OpenAIBedrockFixtures.names("request")
        let required = [
            "text-basic", "system-developer-sampling", "images-stream-alias", "tool-single-history",
            "tool-parallel-history", "tool-choice-default-no-parallel", "tool-choice-none-thinking",
            "no-tools-drops-tool-choice", "model-path-encoded", "error-model-dots", "unicode-escapes",
            "error-missing-model", "error-missing-messages", "error-n-2", "error-logprobs",
            "error-response-format-json-schema", "error-tool-arguments-invalid", "error-body-not-json",
            "error-audio-modality",
        ]
        for name in required { XCTAssertTrue(names.contains(name), "missing request fixture \(name)") }
        var checked = 0
        for name in names {
            let fixture = try OpenAIBedrockFixtures.json(directory.appendingPathComponent(name + ".json"))
            let body: [UInt8]
            if let text = fixture["clientText"]?.stringValue {
                body = Array(text.utf8)
            } else {
                body = try XCTUnwrap(fixture["client"], name).bytes
            }
            let translator = OpenAIBedrockFixtures.translator()
            let result = Result { () throws(APIError) in try translator.upstreamRequest(for: ClientRequest(body: body)) }
            if let expected = fixture["upstream"] {
                guard case .success(let request) = result else {
                    XCTFail("\(name): unexpected error \(result)")
                    continue
                }
                XCTAssertEqual(request.path, expected["path"]?.stringValue, "\(name): path")
                XCTAssertEqual(request.stream, expected["stream"]?.boolValue, "\(name): stream")
                XCTAssertEqual(request.contentType, "application/json", name)
                OpenAIBedrockFixtures.assertSameJSON(request.body, try XCTUnwrap(expected["body"]), "\(name): body")
            } else {
                let expected = try XCTUnwrap(fixture["error"], name)
                guard case .failure(let error) = result else {
                    XCTFail("\(name): expected an error, got \(result)")
                    continue
                }
                XCTAssertEqual(error.status, expected["status"]?.intValue, name)
                XCTAssertEqual(error.type, expected["type"]?.stringValue, name)
                if let message = expected["message"]?.stringValue {
                    XCTAssertEqual(error.message, message, name)
                } else {
                    let prefix = try XCTUnwrap(expected["messagePrefix"]?.stringValue, name)
                    XCTAssertTrue(error.message.hasPrefix(prefix), "\(name): \(error.message)")
                    XCTAssertGreaterThan(error.message.count, prefix.count, "\(name): the parser's reason is missing")
                }
            }
            checked += 1
        }
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

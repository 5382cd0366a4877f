import Foundation
import XCTest

@testable import Providers

/// Golden request fixtures: `request/<name>.json` holds the client's body (`client`, or raw `clientText`)
/// and either the expected upstream request (`upstream`: path, stream, body; `removed`: what the
/// translator reports it left out) or the expected 400 (`error`: status, type, message, code).
final class ResponsesToBedrockRequestTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text-string-input", "codex-first-turn", "multi-turn-function-calls", "reasoning-round-trip",
            "reasoning-foreign-dropped", "images-and-files", "custom-tool-history", "namespace-tools",
            "hosted-tools-dropped", "only-hosted-tools", "tool-choice-required-no-parallel",
            "tool-choice-named-function",
            "tool-choice-none", "tool-choice-allowed-tools", "text-format-json-schema-with-tools",
            "text-format-json-schema-tool-choice-none", "text-format-json-object", "thinking-dropped-pending-tool-call",
            "thinking-drops-sampling", "reasoning-none", "error-store-true", "error-previous-response-id",
            "error-body-not-json", "error-missing-model", "error-bad-input-item", "error-item-reference",
            "error-json-schema-not-object",
        ]
        let checked = try ResponsesBedrockFixtures.checkRequestFixtures(required: required) {
            name, request, translator, fixture in
            XCTAssertEqual(request.accept, request.stream ? "text/event-stream" : "application/json", name)
            XCTAssertEqual(
                translator.removedForUpstream, (fixture["removed"]?.arrayValue ?? []).compactMap(\.stringValue),
                "\(name): removed")
        } error: { name, error, expected in
            XCTAssertEqual(error.message, expected["message"]?.stringValue, name)
            XCTAssertEqual(error.code, expected["code"]?.stringValue, name)
            // The proxy renders it in OpenAI's error shape for this dialect.
            let rendered = try JSONParser.parse(error.body(for: .openAIResponses))
            XCTAssertEqual(rendered["error"]?["message"]?.stringValue, error.message, name)
            XCTAssertNotNil(rendered["error"]?["param"], name)
        }
        XCTAssertGreaterThanOrEqual(checked, required.count)
    }

    /// A reasoning item's `encrypted_content` goes back as the exact bytes it encodes, spacing and
    /// escapes included, first in the assistant turn that follows it.
    func testReasoningBlockGoesBackByteExact() throws {
        let (directory, _) = try ResponsesBedrockFixtures.names("request")
        let fixture = try ResponsesBedrockFixtures.json(directory.appendingPathComponent("reasoning-round-trip.json"))
        let request = try ResponsesBedrockFixtures.translator().upstreamRequest(
            for: ClientRequest(body: try XCTUnwrap(fixture["client"]).bytes))
        let block =
            #"{"type": "thinking", "thinking": "The user wants the weather.\nCall the tool \u2014 then answer.", "signature": "EqQBCkYIARgCIkB0aGlzLWlzLWEtc2lnbmF0dXJl"}"#
        XCTAssertTrue(
            request.body.utf8String.contains(#"{"role":"assistant","content":["# + block + ",{"),
            request.body.utf8String)
    }

    /// `max_tokens` falls back to the route's configured default, and is raised above a thinking budget.
    func testDefaultMaxTokensComesFromOptions() throws {
        var options = ResponsesBedrockFixtures.options
        options.defaultMaxTokens = 1234
        let plain = try ResponsesToBedrockTranslator(options: options).upstreamRequest(
            for: ClientRequest(body: bytes(#"{"model":"m","input":"x"}"#)))
        XCTAssertEqual(try JSONParser.parse(plain.body)["max_tokens"], 1234)
        let thinking = try ResponsesToBedrockTranslator(options: options).upstreamRequest(
            for: ClientRequest(body: bytes(#"{"model":"m","input":"x","reasoning":{"effort":"low"}}"#)))
        XCTAssertEqual(try JSONParser.parse(thinking.body)["max_tokens"], .number(JSONNumber(1234 + 4096)))
    }

    /// The effort table.
    func testReasoningBudgets() throws {
        let table: [(String?, Int?)] = [
            (nil, nil), ("none", nil), ("minimal", 1024), ("low", 4096), ("medium", 8192), ("high", 16384),
            ("xhigh", 32768),
        ]
        for (effort, budget) in table { XCTAssertEqual(try ReasoningBudget.tokens(forEffort: effort), budget) }
    }

    /// The upstream path template is the route's, with both placeholders filled.
    func testPathTemplateFromOptions() throws {
        var options = ResponsesBedrockFixtures.options
        options.upstreamPath = "/custom/{action}/for/{model}"
        let request = try ResponsesToBedrockTranslator(options: options).upstreamRequest(
            for: ClientRequest(body: bytes(#"{"model":"sonnet","stream":true,"input":"x"}"#)))
        XCTAssertEqual(
            request.path, "/custom/invoke-with-response-stream/for/us.anthropic.claude-sonnet-4-20250514-v1:0")
    }

    /// Namespaced names: flat upstream, and the same rule for calls in `input`; long names stay within 64
    /// bytes and distinct.
    func testUpstreamToolNames() {
        XCTAssertEqual(ResponsesToolMapping.upstreamName(namespace: nil, name: "shell"), "shell")
        XCTAssertEqual(ResponsesToolMapping.upstreamName(namespace: "functions", name: "exec"), "exec")
        XCTAssertEqual(
            ResponsesToolMapping.upstreamName(namespace: "mcp__github", name: "create_issue"),
            "mcp__github__create_issue")
        let long1 = ResponsesToolMapping.upstreamName(
            namespace: "mcp__" + String(repeating: "s", count: 60), name: "tool_one_x")
        let long2 = ResponsesToolMapping.upstreamName(
            namespace: "mcp__" + String(repeating: "s", count: 60), name: "tool_one_y")
        XCTAssertEqual(long1.utf8.count, 64)
        XCTAssertNotEqual(long1, long2)
    }

    /// The translator is what `Translators.make` gives for the pair.
    func testMadeForThePair() {
        XCTAssertTrue(
            Translators.make(
                ingress: .openAIResponses, egress: .bedrockAnthropic, options: ResponsesBedrockFixtures.options)
                is ResponsesToBedrockTranslator)
        XCTAssertEqual(Dialect(rawValue: "openai-responses"), .openAIResponses)
    }
}

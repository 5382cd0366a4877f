import Foundation
import XCTest

@testable import Providers

/// Golden request fixtures: `request/<name>.json` holds the client's body (`client`, or raw `clientText`)
/// and either the expected upstream request (`upstream`: path, stream, body; `removed`: what the
/// translator must report it left out) or the expected 400 (`error`).
final class AnthropicToOpenAIRequestTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text-system-sampling", "system-blocks-cache-control", "images-base64-and-url", "tool-round-trip-parallel",
            "tool-use-only-turn", "tool-choice-any-no-parallel", "tool-choice-named", "tool-choice-none",
            "tool-choice-without-tools", "thinking-budget-low", "thinking-budget-medium", "thinking-budget-high",
            "thinking-adaptive", "thinking-disabled", "effort-max-wins-over-thinking", "metadata-long-user-id",
            "error-server-tool-web-search", "tool-search-dropped", "tool-result-image", "system-message-in-messages",
            "error-body-not-json", "error-missing-model", "error-missing-messages", "error-missing-max-tokens",
            "error-block-unknown-type", "error-block-server-tool-use",
        ]
        let checked = try AnthropicOpenAIFixtures.checkRequestFixtures(required: required) {
            name, request, translator, fixture in
            XCTAssertEqual(request.accept, request.stream ? "text/event-stream" : "application/json", name)
            if let removed = fixture["removed"]?.arrayValue {
                XCTAssertEqual(
                    translator.removedForUpstream.sorted(), removed.compactMap(\.stringValue).sorted(),
                    "\(name): removed")
            }
        } error: { name, error, expected in
            try AnthropicOpenAIFixtures.assertMessage(error, expected, name)
            // The proxy renders it in Anthropic's shape.
            let rendered = try JSONParser.parse(error.body(for: .anthropicMessages))
            XCTAssertEqual(rendered["type"], "error", name)
            XCTAssertEqual(rendered["error"]?["type"], "invalid_request_error", name)
        }
        XCTAssertGreaterThanOrEqual(checked, required.count)
    }

    /// The fixtures' numbers are written back as they were sent (2.50 stays 2.50 in the arguments).
    func testToolArgumentsKeepNumberTextAndKeyOrder() throws {
        let body = bytes(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{ "z" : 1.50e3 , "a" : [ true , null ] }}]}]}"#
        )
        let request = try AnthropicOpenAIFixtures.translator().upstreamRequest(for: ClientRequest(body: body))
        let sent = try JSONParser.parse(request.body)
        let arguments = sent["messages"]?.arrayValue?[1]["tool_calls"]?.arrayValue?[0]["function"]?["arguments"]
        XCTAssertEqual(arguments?.stringValue, #"{"z":1.50e3,"a":[true,null]}"#)
    }

    /// The upstream path is the route's, whatever the model.
    func testPathComesFromOptions() throws {
        let translator = AnthropicToOpenAITranslator(options: TranslationOptions(upstreamPath: "/custom/chat"))
        let request = try translator.upstreamRequest(
            for: ClientRequest(
                body: bytes(#"{"model":"gpt-5","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#)))
        XCTAssertEqual(request.path, "/custom/chat")
        XCTAssertFalse(request.stream)
    }

    /// The pair is made by `Translators.make`.
    func testTranslatorsMakeThePair() {
        let made = Translators.make(
            ingress: .anthropicMessages, egress: .openAIChat, options: AnthropicOpenAIFixtures.options)
        XCTAssertTrue(made is AnthropicToOpenAITranslator)
    }

    /// Claude Code's captured requests (Fixtures/claude-code) all map: every tool becomes a function,
    /// Anthropic-only fields are named in `removedForUpstream`, and nothing Anthropic-only reaches the body.
    func testClaudeCodeCapturesMap() throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "claude-code", withExtension: nil, subdirectory: "Fixtures"))
        let files = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".json") }
            .sorted()
        XCTAssertGreaterThanOrEqual(files.count, 4)
        for file in files {
            let capture = try AnthropicOpenAIFixtures.json(url.appendingPathComponent(file))
            let client = try XCTUnwrap(capture["body"], file)
            let beta = (capture["anthropic-beta"]?.stringValue ?? "").split(separator: ",").map(String.init)
            let translator = AnthropicOpenAIFixtures.translator()
            let request = try translator.upstreamRequest(for: ClientRequest(body: client.bytes, anthropicBeta: beta))
            let sent = try JSONParser.parse(request.body)
            let keys = Set(sent.objectValue?.keys ?? [])
            XCTAssertTrue(
                keys.isSubset(of: [
                    "model", "messages", "max_completion_tokens", "stream", "stream_options", "tools",
                    "reasoning_effort",
                ]),
                "\(file): \(keys.sorted())")
            XCTAssertEqual(sent["stream"], client["stream"], file)
            XCTAssertEqual(sent["max_completion_tokens"], client["max_tokens"], file)
            XCTAssertEqual(sent["tools"]?.arrayValue?.count, client["tools"]?.arrayValue?.count, file)
            XCTAssertNotNil(sent["reasoning_effort"]?.stringValue, file)
            let roles = sent["messages"]?.arrayValue?.compactMap { $0["role"]?.stringValue } ?? []
            XCTAssertEqual(roles.first, "system", file)
            XCTAssertTrue(Set(roles).isSubset(of: ["system", "user", "assistant", "tool"]), file)
            // Claude's long user_id does not fit OpenAI's `user`; Anthropic-only fields are named.
            let removed = translator.removedForUpstream
            for phrase in [
                "field context_management", "cache_control", "tool key defer_loading",
                "field metadata.user_id (longer than OpenAI's 64-character user)",
            ] {
                XCTAssertTrue(removed.contains(phrase), "\(file): \(removed)")
            }
            for text in [request.body.utf8String] {
                for word in [
                    "cache_control", "defer_loading", "context_management", "output_config", "input_schema",
                    "signature",
                ] {
                    XCTAssertFalse(text.contains("\"\(word)\""), "\(file): \(word) reached the body")
                }
            }
        }
    }

    /// The tool round trip of the capture: the assistant's tool_use and the user's tool_result pair up
    /// as a `tool_calls` entry and a `tool` message with the same id.
    func testClaudeCodeToolRoundTrip() throws {
        let url = try XCTUnwrap(
            Bundle.module.url(
                forResource: "tool-round-trip", withExtension: "json", subdirectory: "Fixtures/claude-code"))
        let capture = try AnthropicOpenAIFixtures.json(url)
        let request = try AnthropicOpenAIFixtures.translator().upstreamRequest(
            for: ClientRequest(body: try XCTUnwrap(capture["body"]).bytes))
        let messages = try XCTUnwrap(try JSONParser.parse(request.body)["messages"]?.arrayValue)
        let assistant = try XCTUnwrap(messages.first { $0["role"] == "assistant" })
        let call = try XCTUnwrap(assistant["tool_calls"]?.arrayValue?.first)
        let tool = try XCTUnwrap(messages.first { $0["role"] == "tool" })
        XCTAssertEqual(tool["tool_call_id"], call["id"])
        XCTAssertEqual(tool["content"], "mock-tool-ok-42")
        XCTAssertEqual(call["function"]?["name"], "Bash")
        let arguments = try JSONParser.parse(Array(try XCTUnwrap(call["function"]?["arguments"]?.stringValue).utf8))
        XCTAssertEqual(arguments["command"], "echo mock-tool-ok-$((6*7))")
        // The tool message directly follows the assistant's call.
        let assistantIndex = try XCTUnwrap(messages.firstIndex { $0["role"] == "assistant" })
        XCTAssertEqual(messages[assistantIndex + 1]["role"], "tool")
    }
}

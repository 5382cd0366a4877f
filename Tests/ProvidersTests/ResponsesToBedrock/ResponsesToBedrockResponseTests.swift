import Foundation
import XCTest

@testable import Providers

/// Golden response fixtures: `response/<name>.json` holds the client's request, the upstream's complete
/// response (status, optional `retryAfter`, `bodyText`) and the expected client response.
final class ResponsesToBedrockResponseTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text", "cache-usage", "tool-calls", "thinking-encrypted", "thinking-without-include", "max-tokens",
            "refusal",
            "structured-output", "error-400-bedrock", "error-400-anthropic", "error-429-retry-after",
            "error-500-not-json",
            "error-529-overloaded", "error-2xx-not-a-message",
        ]
        try ResponsesBedrockFixtures.checkResponseFixtures(required: required)
    }

    /// A whole response and the stream of the same answer give the same output items (what a client
    /// stores and sends back does not depend on whether it streamed).
    func testWholeAndStreamedOutputsAgree() throws {
        let request: JSON = [
            "model": "claude-sonnet-4-5-20250929", "input": "hi", "include": ["reasoning.encrypted_content"],
            "reasoning": ["effort": "low"],
            "tools": [["type": "function", "name": "f"], ["type": "custom", "name": "c"]],
        ]
        let message =
            #"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"T","signature":"S"},{"type":"text","text":"A"},{"type":"tool_use","id":"t1","name":"f","input":{"a":1}},{"type":"tool_use","id":"t2","name":"c","input":{"input":"raw"}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}"#
        let whole = ResponsesBedrockFixtures.translator()
        _ = try whole.upstreamRequest(for: ClientRequest(body: request.bytes))
        let wholeBody = try JSONParser.parse(
            whole.clientResponse(status: 200, contentType: nil, body: bytes(message), retryAfter: nil).body)

        var streamRequest = try XCTUnwrap(request.objectValue)
        streamRequest["stream"] = true
        let streamed = ResponsesBedrockFixtures.translator()
        _ = try streamed.upstreamRequest(for: ClientRequest(body: JSON.object(streamRequest).bytes))
        let events = [
            #"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":1,"output_tokens":1}}}"#,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"T"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"S"}}"#,
            #"{"type":"content_block_stop","index":0}"#,
            #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"A"}}"#,
            #"{"type":"content_block_stop","index":1}"#,
            #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}"#,
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"#,
            #"{"type":"content_block_stop","index":2}"#,
            #"{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"t2","name":"c","input":{}}}"#,
            #"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"input\":\"raw\"}"}}"#,
            #"{"type":"content_block_stop","index":3}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":2}}"#,
            #"{"type":"message_stop"}"#,
        ].map { "data: \($0)\n\n" }.joined()
        var out: [UInt8] = []
        bytes(events).withUnsafeBytes { streamed.streamChunk($0, into: &out) }
        streamed.streamEnd(into: &out)
        let final = try XCTUnwrap(ResponsesBedrockFixtures.events(out, "stream").last?.data["response"])
        ResponsesBedrockFixtures.assertSameJSON(
            try XCTUnwrap(final["output"]), try XCTUnwrap(wholeBody["output"]), "output items")
        ResponsesBedrockFixtures.assertSameJSON(
            try XCTUnwrap(final["usage"]), try XCTUnwrap(wholeBody["usage"]), "usage")
    }
}

import Foundation
import XCTest

@testable import Providers

/// Golden stream fixtures: `stream/<name>/` holds `case.json` (the client's request, and how the upstream
/// ends: `"end"` or `{"fail": APIError}`), `upstream.sse` (bytes as the upstream sends them) and
/// `client.sse` (what the client must get). Every fixture is replayed whole, byte by byte and split at
/// every index, and every replay must write the same bytes; every output passes `ResponsesEventChecker`.
final class ResponsesToBedrockStreamTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text-data-only", "text-event-lines-crlf", "text-event-lines-cr-only", "text-no-blank-lines",
            "bom-then-text",
            "tool-calls-in-pieces", "custom-tool-streamed", "thinking-then-text", "thinking-without-include",
            "structured-output", "max-tokens-incomplete", "refusal-incomplete", "stop-reason-without-message-stop",
            "error-event-mid-stream", "context-error-event", "bedrock-exception-mid-stream", "stream-fail-mid-stream",
            "truncated-no-stop", "empty-stream", "invalid-json-event", "multiline-data-event",
        ]
        try ResponsesBedrockFixtures.checkStreamFixtures(required: required) { name, whole, testCase in
            let actual = ResponsesBedrockFixtures.events(whole, name)
            let expected = ResponsesBedrockFixtures.events(testCase.expected, "\(name) (fixture)")
            XCTAssertEqual(actual.map(\.name), expected.map(\.name), "\(name): event names")
            for (a, e) in zip(actual, expected) {
                ResponsesBedrockFixtures.assertSameJSON(a.data, e.data, "\(name): \(e.name)")
            }
            ResponsesEventChecker.check(actual, name)
        }
    }

    /// The same events whatever the upstream's SSE dialect: data-only, `event:` lines with CRLF or CR, no
    /// blank lines, a byte order mark.
    func testSSEDialectsGiveTheSameEvents() throws {
        let (directory, _) = try ResponsesBedrockFixtures.names("stream")
        let reference = try ResponsesBedrockFixtures.streamCase(directory, "text-event-lines-crlf")
        let expected = ResponsesBedrockFixtures.replay(reference, [reference.upstream])
        for name in ["text-event-lines-cr-only", "text-no-blank-lines", "bom-then-text"] {
            let testCase = try ResponsesBedrockFixtures.streamCase(directory, name)
            XCTAssertEqual(ResponsesBedrockFixtures.replay(testCase, [testCase.upstream]).utf8String, expected.utf8String, name)
        }
    }

    /// Each client event is written as soon as the upstream line that causes it is complete: nothing while
    /// a line is cut, its events once its newline arrives.
    func testEventsAreWrittenAsSoonAsTheirUpstreamEventIsComplete() throws {
        let (directory, _) = try ResponsesBedrockFixtures.names("stream")
        let testCase = try ResponsesBedrockFixtures.streamCase(directory, "text-no-blank-lines")
        let translator = ResponsesBedrockFixtures.translator()
        _ = try translator.upstreamRequest(for: ClientRequest(body: testCase.request))
        var out: [UInt8] = []
        var eventsAfterEachLine: [Int] = []
        for line in testCase.upstream.split(separator: 0x0A) {
            let before = out.count
            Array(line).withUnsafeBytes { translator.streamChunk($0, into: &out) }
            XCTAssertEqual(out.count, before, "wrote before the line was complete")
            [UInt8]([0x0A]).withUnsafeBytes { translator.streamChunk($0, into: &out) }
            eventsAfterEachLine.append(ResponsesBedrockFixtures.events(out, "line by line").count)
        }
        // message_start, content_block_start, ping, delta, delta, content_block_stop, message_delta, message_stop
        XCTAssertEqual(eventsAfterEachLine, [2, 4, 4, 5, 6, 9, 9, 10])
        let beforeEnd = out.count
        translator.streamEnd(into: &out)
        XCTAssertEqual(out.count, beforeEnd, "everything was already written at message_stop")
    }

    func testKeepAliveIsAnSSEComment() {
        var out: [UInt8] = []
        ResponsesBedrockFixtures.translator().keepAlive(into: &out)
        XCTAssertEqual(out.utf8String, ": keep-alive\n\n")
        XCTAssertEqual(ResponsesBedrockFixtures.translator().streamContentType, "text/event-stream")
    }

    /// `streamFail` before any upstream byte still gives the SDK what it needs: created, in_progress, failed.
    func testFailBeforeAnythingIsAWholeFailedResponse() throws {
        let translator = ResponsesBedrockFixtures.translator()
        _ = try translator.upstreamRequest(for: ClientRequest(body: bytes(#"{"model":"m","stream":true,"input":"x"}"#)))
        var out: [UInt8] = []
        translator.streamFail(.gatewayTimeout("upstream did not answer"), into: &out)
        let events = ResponsesBedrockFixtures.events(out, "fail first")
        XCTAssertEqual(events.map(\.name), ["response.created", "response.in_progress", "response.failed"])
        XCTAssertEqual(events.last?.data["response"]?["error"]?["message"]?.stringValue, "upstream did not answer")
        ResponsesEventChecker.check(events, "fail first")
    }

    /// An upstream line longer than the limit fails the stream, without unbounded memory.
    func testOversizedLineFailsTheStream() throws {
        let translator = ResponsesBedrockFixtures.translator()
        _ = try translator.upstreamRequest(for: ClientRequest(body: bytes(#"{"model":"m","stream":true,"input":"x"}"#)))
        var out: [UInt8] = []
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        for _ in 0..<5 { piece.withUnsafeBytes { translator.streamChunk($0, into: &out) } }
        translator.streamEnd(into: &out)
        let events = ResponsesBedrockFixtures.events(out, "oversized")
        XCTAssertEqual(events.last?.name, "response.failed")
        XCTAssertTrue(
            events.last?.data["response"]?["error"]?["message"]?.stringValue?.contains("larger than") ?? false)
    }

    /// A thinking block streamed to the client comes back, through `encrypted_content`, as the block
    /// rebuilt from its deltas, byte for byte, first in the next request's assistant turn.
    func testStreamedThinkingRoundTripsIntoTheNextRequest() throws {
        let (directory, _) = try ResponsesBedrockFixtures.names("stream")
        let testCase = try ResponsesBedrockFixtures.streamCase(directory, "thinking-then-text")
        let events = ResponsesBedrockFixtures.events(ResponsesBedrockFixtures.replay(testCase, [testCase.upstream]), "round trip")
        let output = try XCTUnwrap(events.last?.data["response"]?["output"]?.arrayValue)
        let reasoning = output.filter { $0["type"]?.stringValue == "reasoning" }
        XCTAssertEqual(reasoning.count, 2)
        let next: JSON = [
            "model": "claude-sonnet-4-5-20250929", "reasoning": ["effort": "medium"],
            "input": .array([["role": "user", "content": "hi"]] + output + [["role": "user", "content": "more"]]),
        ]
        let request = try ResponsesBedrockFixtures.translator().upstreamRequest(for: ClientRequest(body: next.bytes))
        let body = request.body.utf8String
        let thinking = #"{"type":"thinking","thinking":"Let me think step by step.\n","signature":"EqQBCkYIARgCIkA="}"#
        let redacted = #"{"type":"redacted_thinking","data":"EmwKAhgB"}"#
        XCTAssertTrue(
            body.contains(
                #"{"role":"assistant","content":["# + thinking + "," + redacted
                    + #",{"type":"text","text":"The answer is 42."}]}"#),
            body)
    }
}

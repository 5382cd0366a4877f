import Foundation
import XCTest

@testable import Providers

/// Golden stream fixtures: `stream/<name>/` holds `case.json` (the client's request, and how the upstream
/// ends: `"end"` or `{"fail": APIError}`), `upstream.sse` (bytes as the upstream sends them) and
/// `client.sse` (what the client must get). Every fixture is replayed whole, byte by byte and split at
/// every index, and every replay must write the same bytes.
final class OpenAIToBedrockStreamTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text-data-only", "text-no-blank-lines", "text-event-lines-crlf-usage", "text-event-lines-cr-only",
            "tool-single-usage", "tool-parallel-empty-args", "thinking-signature", "stop-sequence", "max-tokens",
            "cache-usage", "error-event-mid-stream", "bedrock-exception-mid-stream", "unicode-split", "truncated-no-stop",
            "truncated-tool-call", "stream-fail-mid-stream", "empty-stream", "invalid-json-event", "multiline-data-event",
            "last-line-without-newline", "bom-then-text",
        ]
        try OpenAIBedrockFixtures.checkStreamFixtures(required: required) { name, whole, testCase in
            OpenAIBedrockFixtures.assertSameSSE(whole, testCase.expected, name)
        }
    }

    /// Each client frame is written as soon as the upstream line that causes it is complete: feeding
    /// `text-data-only` line by line, the output grows by the expected number of frames at each line.
    func testEachFrameIsWrittenAsSoonAsItsEventIsComplete() throws {
        let (directory, _) = try OpenAIBedrockFixtures.names("stream")
        let testCase = try OpenAIBedrockFixtures.streamCase(directory, "text-data-only")
        let translator = OpenAIBedrockFixtures.translator()
        _ = try translator.upstreamRequest(for: ClientRequest(body: testCase.request))
        var out: [UInt8] = []
        var framesAfterEachEvent: [Int] = []
        for event in OpenAIBedrockFixtures.frames(testCase.upstream) {
            // Everything of the event but its final newline: not complete yet, nothing new may be written.
            let before = out.count
            let line = event + [0x0A]
            line.withUnsafeBytes { translator.streamChunk(UnsafeRawBufferPointer(rebasing: $0[..<($0.count - 1)]), into: &out) }
            XCTAssertEqual(out.count, before, "wrote before the line was complete")
            [UInt8]([0x0A, 0x0A]).withUnsafeBytes { translator.streamChunk($0, into: &out) }
            framesAfterEachEvent.append(OpenAIBedrockFixtures.frames(out).count)
        }
        // message_start, content_block_start, ping, delta, delta, content_block_stop, message_delta, message_stop
        XCTAssertEqual(framesAfterEachEvent, [1, 1, 1, 2, 3, 3, 4, 5])
        let beforeEnd = out.count
        translator.streamEnd(into: &out)
        XCTAssertEqual(out.count, beforeEnd, "everything was already written at message_stop")
        OpenAIBedrockFixtures.assertSameSSE(out, testCase.expected, "line by line")
    }

    /// One id and one `created` for the whole stream, even when the clock moves.
    func testOneIDAndCreatedPerStream() throws {
        let (directory, _) = try OpenAIBedrockFixtures.names("stream")
        let testCase = try OpenAIBedrockFixtures.streamCase(directory, "tool-single-usage")
        let clock = TickingClock()
        let translator = OpenAIToBedrockTranslator(options: OpenAIBedrockFixtures.options, now: { clock.tick() })
        _ = try translator.upstreamRequest(for: ClientRequest(body: testCase.request))
        var out: [UInt8] = []
        for byte in testCase.upstream { [byte].withUnsafeBytes { translator.streamChunk($0, into: &out) } }
        translator.streamEnd(into: &out)
        var ids = Set<String>()
        var createds = Set<Int>()
        for frame in OpenAIBedrockFixtures.frames(out) where frame != Array("data: [DONE]".utf8) {
            let chunk = try JSONParser.parse(Array(frame.dropFirst(6)))
            ids.insert(chunk["id"]?.stringValue ?? "")
            createds.insert(chunk["created"]?.intValue ?? -1)
        }
        XCTAssertEqual(ids, ["chatcmpl-msg_bdrk_01"])
        XCTAssertEqual(createds.count, 1)
    }

    func testKeepAliveIsAnSSEComment() {
        var out: [UInt8] = []
        OpenAIBedrockFixtures.translator().keepAlive(into: &out)
        XCTAssertEqual(out.utf8String, ": keep-alive\n\n")
        XCTAssertEqual(OpenAIBedrockFixtures.translator().streamContentType, "text/event-stream")
    }

    /// An upstream line longer than the limit is an error chunk, not unbounded memory.
    func testOversizedLineFailsTheStream() throws {
        let translator = OpenAIBedrockFixtures.translator()
        _ = try translator.upstreamRequest(
            for: ClientRequest(body: bytes(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)))
        var out: [UInt8] = []
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        for _ in 0..<5 { piece.withUnsafeBytes { translator.streamChunk($0, into: &out) } }
        translator.streamEnd(into: &out)
        let frames = OpenAIBedrockFixtures.frames(out)
        XCTAssertEqual(frames.count, 2, out.utf8String)
        XCTAssertTrue(frames.first?.utf8String.contains("larger than") ?? false, out.utf8String)
        XCTAssertEqual(frames.last?.utf8String, "data: [DONE]")
    }
}

/// A clock that moves one second per reading.
final class TickingClock: @unchecked Sendable {
    private var now = 1_700_000_000
    func tick() -> Int {
        now += 1
        return now
    }
}

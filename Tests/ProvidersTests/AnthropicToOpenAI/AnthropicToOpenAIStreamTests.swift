import Foundation
import XCTest

@testable import Providers

/// Golden stream fixtures: `stream/<name>/` holds `case.json` (the client's request, and how the upstream
/// ends: `"end"` or `{"fail": APIError}`), `upstream.sse` (OpenAI chunks as the upstream sends them) and
/// `client.sse` (the Anthropic events the client must get). Every fixture is replayed whole, byte by byte
/// and split at every index; every replay must write the same bytes, and they must form a well-formed
/// Anthropic stream.
final class AnthropicToOpenAIStreamTests: XCTestCase {
    func testFixtures() throws {
        let required = [
            "text", "text-crlf-cached-usage", "tool-single-pieces", "text-then-parallel-tools", "tools-interleaved",
            "tools-one-chunk-first-unfinished", "finish-stop-with-tool-call", "length", "refusal", "unicode-escapes",
            "finish-without-done", "truncated-no-finish", "truncated-mid-line", "error-chunk-mid-stream",
            "error-chunk-rate-limit-first", "invalid-json-chunk", "empty-stream", "done-without-chunks",
            "stream-fail-mid-stream", "index-missing-and-name-late", "tool-call-without-name",
        ]
        try AnthropicOpenAIFixtures.checkStreamFixtures(required: required) { name, whole, testCase in
            AnthropicOpenAIFixtures.assertSameSSE(whole, testCase.expected, name)
            XCTAssertEqual(AnthropicEventSequence.problems(whole), [], name)
        }
    }

    /// Each event is written as soon as the upstream line that causes it is complete: in `text`, fed line
    /// by line, nothing is written before a line's newline, and the events appear line by line.
    func testEventsAreWrittenAsSoonAsTheirChunkIsComplete() throws {
        let (directory, _) = try AnthropicOpenAIFixtures.names("stream")
        let testCase = try AnthropicOpenAIFixtures.streamCase(directory, "text")
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try translator.upstreamRequest(for: ClientRequest(body: testCase.request))
        var out: [UInt8] = []
        var eventsAfterEachChunk: [Int] = []
        for frame in AnthropicOpenAIFixtures.frames(testCase.upstream) {
            let before = out.count
            frame.withUnsafeBytes { translator.streamChunk($0, into: &out) }
            XCTAssertEqual(out.count, before, "wrote before the line was complete")
            [UInt8]([0x0A, 0x0A]).withUnsafeBytes { translator.streamChunk($0, into: &out) }
            eventsAfterEachChunk.append(AnthropicOpenAIFixtures.frames(out).count)
        }
        // role → message_start; "Hel" → block start + delta; "lo"; " world."; finish → block stop;
        // usage → nothing; [DONE] → message_delta + message_stop.
        XCTAssertEqual(eventsAfterEachChunk, [1, 3, 4, 5, 6, 6, 8])
        let beforeEnd = out.count
        translator.streamEnd(into: &out)
        XCTAssertEqual(out.count, beforeEnd, "everything was already written at [DONE]")
    }

    /// A tool call's arguments stream as they arrive: each piece is an `input_json_delta` at once.
    func testToolArgumentsStreamPieceByPiece() throws {
        let (directory, _) = try AnthropicOpenAIFixtures.names("stream")
        let testCase = try AnthropicOpenAIFixtures.streamCase(directory, "tool-single-pieces")
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try translator.upstreamRequest(for: ClientRequest(body: testCase.request))
        var out: [UInt8] = []
        var deltas: [Int] = []
        for frame in AnthropicOpenAIFixtures.frames(testCase.upstream) {
            (frame + [0x0A, 0x0A]).withUnsafeBytes { translator.streamChunk($0, into: &out) }
            deltas.append(out.utf8String.components(separatedBy: "input_json_delta").count - 1)
        }
        XCTAssertEqual(Array(deltas.prefix(6)), [0, 0, 1, 2, 3, 4])
    }

    func testKeepAliveIsAnAnthropicPing() {
        var out: [UInt8] = []
        AnthropicOpenAIFixtures.translator().keepAlive(into: &out)
        XCTAssertEqual(out.utf8String, "event: ping\ndata: {\"type\": \"ping\"}\n\n")
        XCTAssertEqual(AnthropicOpenAIFixtures.translator().streamContentType, "text/event-stream")
    }

    /// An upstream line longer than the limit is an error event, not unbounded memory.
    func testOversizedLineFailsTheStream() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try translator.upstreamRequest(
            for: ClientRequest(
                body: bytes(#"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)))
        var out: [UInt8] = []
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        for _ in 0..<5 { piece.withUnsafeBytes { translator.streamChunk($0, into: &out) } }
        translator.streamEnd(into: &out)
        let frames = AnthropicOpenAIFixtures.frames(out)
        XCTAssertEqual(frames.count, 1, out.utf8String)
        XCTAssertTrue(frames.first?.utf8String.hasPrefix("event: error\n") ?? false, out.utf8String)
        XCTAssertTrue(out.utf8String.contains("larger than"), out.utf8String)
    }

    /// Tool calls held back behind an unfinished one are bounded too.
    func testHeldBackToolCallsAreBounded() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try translator.upstreamRequest(
            for: ClientRequest(
                body: bytes(#"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)))
        var out: [UInt8] = []
        func send(_ line: String) { Array(line.utf8).withUnsafeBytes { translator.streamChunk($0, into: &out) } }
        send(
            #"data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"a","arguments":"{"}}]}}]}"#
                + "\n\n")
        send(
            #"data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"b","arguments":""}}]}}]}"#
                + "\n\n")
        let big = String(repeating: "x", count: 1 << 20)
        for _ in 0..<5 {
            send(
                #"data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\#(big)"}}]}}]}"#
                    + "\n\n")
        }
        translator.streamEnd(into: &out)
        XCTAssertEqual(AnthropicEventSequence.problems(out), [])
        XCTAssertTrue(out.utf8String.hasSuffix("\n\n"))
        XCTAssertTrue(out.utf8String.contains("event: error\n"), String(out.utf8String.suffix(300)))
        XCTAssertLessThan(out.count, 10_000, "held-back bytes were written")
    }

    /// Calls without arguments held back count too: many of them are an error, not unbounded memory.
    func testManyHeldBackEmptyToolCallsAreBounded() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try translator.upstreamRequest(
            for: ClientRequest(
                body: bytes(#"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)))
        var out: [UInt8] = []
        var upstream =
            #"data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"a","arguments":"{"}}]}}]}"#
            + "\n\n"
        for k in 1...2000 {
            upstream +=
                #"data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":\#(k),"id":"i","function":{"name":"n"}}]}}]}"#
                + "\n\n"
        }
        Array(upstream.utf8).withUnsafeBytes { translator.streamChunk($0, into: &out) }
        translator.streamEnd(into: &out)
        XCTAssertEqual(AnthropicEventSequence.problems(out), [])
        XCTAssertTrue(out.utf8String.contains("went past the translator's limits"), String(out.utf8String.suffix(300)))
    }

    /// Random interleavings of three tool calls' pieces and text: every call's arguments arrive whole and
    /// in order in its own block, whatever the order of the pieces, and the stream stays well formed.
    func testInterleavedToolCallsKeepTheirArguments() throws {
        var generator = SplitMix(seed: 7)
        let arguments = [#"{"city":"Paris","n":[1,{"a":"}"}]}"#, #"{"tz":"UTC"}"#, #"{"q":"\"{[\\"}"#]
        for _ in 0..<300 {
            // Pieces per call, in order within a call; calls interleaved at random.
            var queues: [[String]] = arguments.map { text in
                var pieces: [String] = []
                var rest = Substring(text)
                while !rest.isEmpty {
                    let n = min(rest.count, 1 + Int(generator.next() % 5))
                    pieces.append(String(rest.prefix(n)))
                    rest = rest.dropFirst(n)
                }
                return pieces
            }
            var headerSent = [false, false, false]
            var upstream = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
            while queues.contains(where: { !$0.isEmpty }) {
                let k = Int(generator.next() % 4)
                if k == 3 {
                    upstream += "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t\"}}]}\n\n"
                    continue
                }
                guard !queues[k].isEmpty else { continue }
                let piece = queues[k].removeFirst()
                var call: JSONObject = ["index": .number(JSONNumber(k))]
                if !headerSent[k] {
                    call["id"] = .string("call_\(k)")
                    call["function"] = ["name": .string("f\(k)"), "arguments": .string(piece)]
                    headerSent[k] = true
                } else {
                    call["function"] = ["arguments": .string(piece)]
                }
                let chunk: JSON = ["id": "c", "choices": [["index": 0, "delta": ["tool_calls": [.object(call)]]]]]
                upstream += "data: " + chunk.bytes.utf8String + "\n\n"
            }
            upstream +=
                "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n"

            let translator = AnthropicOpenAIFixtures.translator()
            _ = try translator.upstreamRequest(
                for: ClientRequest(
                    body: bytes(
                        #"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)))
            var out: [UInt8] = []
            Array(upstream.utf8).withUnsafeBytes { translator.streamChunk($0, into: &out) }
            translator.streamEnd(into: &out)
            XCTAssertEqual(AnthropicEventSequence.problems(out), [], upstream)
            // Reassemble each tool block's input as the SDK does.
            var inputs: [String: String] = [:]
            var names: [Int: String] = [:]
            for frame in AnthropicOpenAIFixtures.frames(out) {
                let event = try JSONParser.parse(Array(AnthropicOpenAIFixtures.split(frame).1.utf8))
                let index = event["index"]?.intValue ?? -1
                if let name = event["content_block"]?["name"]?.stringValue { names[index] = name }
                if let piece = event["delta"]?["partial_json"]?.stringValue, let name = names[index] {
                    inputs[name, default: ""] += piece
                }
            }
            XCTAssertEqual(inputs, ["f0": arguments[0], "f1": arguments[1], "f2": arguments[2]], upstream)
            XCTAssertTrue(out.utf8String.contains(#""stop_reason":"tool_use""#))
        }
    }
}

/// A small deterministic generator for the interleaving test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
import XCTest

@testable import Providers

/// The golden files under `Fixtures/anthropic-openai` (`PairFixtures`), and the Anthropic SSE comparison.
enum AnthropicOpenAIFixtures: PairFixtures {
    static let folder = "anthropic-openai"
    static let lateUpstreamEvent = Array("data: {\"choices\":[]}\n\n".utf8)
    static let path = "/v1/openai/v1/chat/completions"
    static let options = TranslationOptions(
        upstreamPath: path, modelAliases: ["claude-opus-5-5": "gpt-5", "sonnet": "gpt-5-mini"])

    static func translator() -> AnthropicToOpenAITranslator {
        AnthropicToOpenAITranslator(options: options)
    }

    /// Anthropic SSE output: each frame's `event:` line byte-exact, its data JSON compared without regard
    /// to key order; the output must end on a frame boundary.
    static func assertSameSSE(
        _ actual: [UInt8], _ expected: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        assertSameFrames(actual, expected, context, emptyAllowed: true, file: file, line: line) { index, a, e in
            let (aEvent, aData) = split(a)
            let (eEvent, eData) = split(e)
            XCTAssertEqual(aEvent, eEvent, "\(context): frame \(index) event", file: file, line: line)
            guard let expectedJSON = try? JSONParser.parse(Array(eData.utf8)) else {
                XCTFail("\(context): fixture frame \(index) is not JSON: \(eData)", file: file, line: line)
                return
            }
            assertSameJSON(
                Array(aData.utf8), expectedJSON, "\(context): frame \(index)", file: file, line: line)
        }
    }

    /// `event: <name>\ndata: <json>` → (`event: <name>`, `<json>`).
    static func split(_ frame: [UInt8]) -> (String, String) {
        let text = frame.utf8String
        guard let newline = text.firstIndex(of: "\n") else { return (text, "") }
        let data = text[text.index(after: newline)...]
        return (String(text[..<newline]), data.hasPrefix("data: ") ? String(data.dropFirst(6)) : String(data))
    }
}

/// Checks that bytes written for an Anthropic client form a stream an Anthropic SDK accepts: whole
/// `event:` + `data:` frames whose event name is the JSON's `type`; `message_start` first (unless the
/// stream is one error); content blocks with indexes 0, 1, 2... each started, given deltas of its own
/// kind, and stopped before the next starts; `message_delta` then `message_stop` last, or an `error`
/// last; `ping` anywhere. Returns the problems found (empty: the stream is well formed).
enum AnthropicEventSequence {
    static func problems(_ bytes: [UInt8]) -> [String] {
        var problems: [String] = []
        if !bytes.isEmpty && bytes.suffix(2) != [0x0A, 0x0A] { problems.append("does not end on a frame boundary") }
        var started = false
        var ended = false
        var open: (index: Int, kind: String)?
        var nextIndex = 0
        var sawDelta = false
        for (n, frame) in AnthropicOpenAIFixtures.frames(bytes).enumerated() {
            let (eventLine, data) = AnthropicOpenAIFixtures.split(frame)
            guard let event = try? JSONParser.parse(Array(data.utf8)), let type = event["type"]?.stringValue else {
                problems.append("frame \(n) has no JSON with a type: \(frame.utf8String)")
                continue
            }
            if eventLine != "event: \(type)" { problems.append("frame \(n): \(eventLine) carries type \(type)") }
            if ended { problems.append("frame \(n) (\(type)) after the end") }
            switch type {
            case "ping": continue
            case "error":
                ended = true
                continue
            case "message_start":
                if started { problems.append("second message_start") }
                started = true
                continue
            default:
                if !started { problems.append("\(type) before message_start") }
            }
            let index = event["index"]?.intValue
            switch type {
            case "content_block_start":
                if open != nil { problems.append("block \(index ?? -1) starts while \(open!.index) is open") }
                if index != nextIndex { problems.append("block index \(index ?? -1), expected \(nextIndex)") }
                let kind = event["content_block"]?["type"]?.stringValue ?? "?"
                if kind == "tool_use" && (event["content_block"]?["name"]?.stringValue ?? "").isEmpty {
                    problems.append("tool_use block \(nextIndex) without a name")
                }
                open = (nextIndex, kind)
                nextIndex += 1
            case "content_block_delta":
                guard let current = open, current.index == index else {
                    problems.append("delta for block \(index ?? -1), which is not open")
                    continue
                }
                let deltaType = event["delta"]?["type"]?.stringValue
                let expected = current.kind == "tool_use" ? "input_json_delta" : "text_delta"
                if deltaType != expected { problems.append("\(deltaType ?? "?") in a \(current.kind) block") }
            case "content_block_stop":
                if open?.index != index { problems.append("stop for block \(index ?? -1), which is not open") }
                open = nil
            case "message_delta":
                if open != nil { problems.append("message_delta while block \(open!.index) is open") }
                if event["delta"]?["stop_reason"]?.stringValue == nil {
                    problems.append("message_delta without a stop_reason")
                }
                sawDelta = true
            case "message_stop":
                if !sawDelta { problems.append("message_stop without message_delta") }
                ended = true
            default:
                problems.append("unknown event type \(type)")
            }
        }
        if !bytes.isEmpty && !ended { problems.append("the stream has neither message_stop nor error") }
        return problems
    }
}

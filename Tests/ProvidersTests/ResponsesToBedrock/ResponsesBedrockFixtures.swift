import Foundation
import XCTest

@testable import Providers

/// Loads the golden files under `Fixtures/responses-bedrock` (`request`, `response`, `stream`), the same
/// layout as `openai-bedrock`: request in / upstream request out, upstream response in / client response
/// out, upstream stream in / client stream out.
enum ResponsesBedrockFixtures: PairFixtures {
    static let folder = "responses-bedrock"
    static let lateUpstreamEvent = Array("data: {\"type\":\"message_stop\"}\n\n".utf8)
    static let created = 1_700_000_000
    static let options = TranslationOptions(
        upstreamPath: "/v1/bedrock/model/{model}/{action}", defaultMaxTokens: 4096,
        modelAliases: ["sonnet": "us.anthropic.claude-sonnet-4-20250514-v1:0", "dots": ".."])

    static func translator() -> ResponsesToBedrockTranslator {
        ResponsesToBedrockTranslator(options: options, now: { created })
    }

    /// Client events: `(event name, data JSON)`, with the framing checked on the way: every event is
    /// `event: <name>\ndata: <one line>\n\n`, and the output ends on an event boundary.
    static func events(
        _ bytes: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) -> [(name: String, data: JSON)] {
        var events: [(String, JSON)] = []
        let text = bytes.utf8String
        XCTAssertTrue(
            text.isEmpty || text.hasSuffix("\n\n"), "\(context): output must end on an event boundary", file: file,
            line: line)
        for frame in text.components(separatedBy: "\n\n") where !frame.isEmpty {
            if frame.hasPrefix(":") { continue }  // a comment (keep-alive)
            let lines = frame.components(separatedBy: "\n")
            guard lines.count == 2, lines[0].hasPrefix("event: "), lines[1].hasPrefix("data: "),
                let data = try? JSONParser.parse(Array(lines[1].dropFirst(6).utf8))
            else {
                XCTFail("\(context): not an event: \(frame)", file: file, line: line)
                continue
            }
            events.append((String(lines[0].dropFirst(7)), data))
        }
        return events
    }
}

import Foundation
import XCTest

@testable import Providers

/// Loads the golden files under `Fixtures/responses-bedrock` (`request`, `response`, `stream`), the same
/// layout as `openai-bedrock`: request in / upstream request out, upstream response in / client response
/// out, upstream stream in / client stream out.
enum ResponsesBedrockFixtures {
    static let created = 1_700_000_000
    static let options = TranslationOptions(
        upstreamPath: "/v1/bedrock/model/{model}/{action}", defaultMaxTokens: 4096,
        modelAliases: ["sonnet": "us.anthropic.claude-sonnet-4-20250514-v1:0", "dots": ".."])

    static func translator() -> ResponsesToBedrockTranslator {
        ResponsesToBedrockTranslator(options: options, now: { created })
    }

    /// The fixture directory `kind` and the names in it (without `.json`), sorted.
    static func names(_ kind: String) throws -> (URL, [String]) {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: kind, withExtension: nil, subdirectory: "Fixtures/responses-bedrock"),
            "missing fixture directory \(kind)")
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            .map { $0.hasSuffix(".json") ? String($0.dropLast(5)) : $0 }
            .sorted()
        return (url, names)
    }

    static func read(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    static func json(_ url: URL) throws -> JSON { try JSONParser.parse(read(url)) }

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

    /// Object members sorted by key, recursively: equality that ignores key order and nothing else.
    static func normalized(_ value: JSON) -> JSON {
        switch value {
        case .array(let items): return .array(items.map(normalized))
        case .object(let object):
            var sorted = JSONObject()
            for member in object.members.sorted(by: { $0.key < $1.key }) {
                sorted.append(member.key, normalized(member.value))
            }
            return .object(sorted)
        default: return value
        }
    }

    static func assertSameJSON(
        _ actual: JSON, _ expected: JSON, _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(
            normalized(actual), normalized(expected),
            "\(context):\n actual   \(actual.bytes.utf8String)\n expected \(expected.bytes.utf8String)", file: file,
            line: line)
    }
}

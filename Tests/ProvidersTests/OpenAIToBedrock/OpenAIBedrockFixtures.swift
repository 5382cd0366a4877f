import Foundation
import XCTest

@testable import Providers

/// Loads the golden files under `Fixtures/openai-bedrock` and compares what the translator wrote with them.
enum OpenAIBedrockFixtures {
    static let created = 1_700_000_000
    static let options = TranslationOptions(
        upstreamPath: "/v1/bedrock/model/{model}/{action}", defaultMaxTokens: 4096,
        modelAliases: [
            "sonnet": "us.anthropic.claude-sonnet-4-20250514-v1:0", "evil": "../x/y?z w#f", "dots": "..",
        ])

    static func translator() -> OpenAIToBedrockTranslator {
        OpenAIToBedrockTranslator(options: options, now: { created })
    }

    /// The fixture directory `kind` (`request`, `response`, `stream`) and the names in it, sorted.
    static func names(_ kind: String) throws -> (URL, [String]) {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: kind, withExtension: nil, subdirectory: "Fixtures/openai-bedrock"),
            "missing fixture directory \(kind)")
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            .map { $0.hasSuffix(".json") ? String($0.dropLast(5)) : $0 }
            .sorted()
        return (url, names)
    }

    static func read(_ url: URL) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url))
    }

    static func json(_ url: URL) throws -> JSON {
        try JSONParser.parse(read(url))
    }

    /// Object members sorted by key, recursively: equality that ignores key order and nothing else
    /// (numbers still compare by their text, strings exactly).
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
        _ actual: [UInt8], _ expected: JSON, _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let parsed = try? JSONParser.parse(actual) else {
            XCTFail("\(context): output is not JSON: \(actual.utf8String)", file: file, line: line)
            return
        }
        XCTAssertEqual(
            normalized(parsed), normalized(expected),
            "\(context):\n actual   \(actual.utf8String)\n expected \(expected.bytes.utf8String)", file: file, line: line)
    }

    /// SSE output: the framing (`data: ` ... `\n\n`, `[DONE]`, comments) byte-exact, each frame's JSON
    /// compared without regard to key order.
    static func assertSameSSE(
        _ actual: [UInt8], _ expected: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let actualFrames = frames(actual)
        let expectedFrames = frames(expected)
        XCTAssertEqual(
            actualFrames.count, expectedFrames.count,
            "\(context): frame count\n actual:\n\(actual.utf8String)\n expected:\n\(expected.utf8String)", file: file,
            line: line)
        XCTAssertEqual(actual.suffix(2), [0x0A, 0x0A], "\(context): output must end on a frame boundary", file: file, line: line)
        for (index, (a, e)) in zip(actualFrames, expectedFrames).enumerated() {
            let dataPrefix = Array("data: ".utf8)
            guard e.starts(with: dataPrefix), e != Array("data: [DONE]".utf8) else {
                XCTAssertEqual(a.utf8String, e.utf8String, "\(context): frame \(index)", file: file, line: line)
                continue
            }
            guard a.starts(with: dataPrefix) else {
                XCTFail("\(context): frame \(index) is not a data frame: \(a.utf8String)", file: file, line: line)
                continue
            }
            guard let expectedJSON = try? JSONParser.parse(Array(e.dropFirst(6))) else {
                XCTFail("\(context): fixture frame \(index) is not JSON", file: file, line: line)
                continue
            }
            assertSameJSON(Array(a.dropFirst(6)), expectedJSON, "\(context): frame \(index)", file: file, line: line)
        }
    }

    /// Frames split on the blank line that ends each one (the translator writes `\n` line ends only).
    static func frames(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A, bytes[index + 1] == 0x0A {
                frames.append(Array(bytes[start..<index]))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        if start < bytes.count { frames.append(Array(bytes[start...])) }
        return frames
    }
}

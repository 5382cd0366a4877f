import Foundation
import XCTest

@testable import Providers

/// The golden files under `Fixtures/openai-bedrock` (`PairFixtures`), and the OpenAI SSE comparison.
enum OpenAIBedrockFixtures: PairFixtures {
    static let folder = "openai-bedrock"
    static let lateUpstreamEvent = Array("data: {\"type\":\"message_stop\"}\n\n".utf8)
    static let created = 1_700_000_000
    static let options = TranslationOptions(
        upstreamPath: "/v1/bedrock/model/{model}/{action}", defaultMaxTokens: 4096,
        modelAliases: [
            "sonnet": "us.anthropic.claude-sonnet-4-20250514-v1:0", "evil": "../x/y?z w#f", "dots": "..",
        ])

    static func translator() -> OpenAIToBedrockTranslator {
        OpenAIToBedrockTranslator(options: options, now: { created })
    }

    /// SSE output: the framing (`data: ` ... `\n\n`, `[DONE]`, comments) byte-exact, each frame's JSON
    /// compared without regard to key order.
    static func assertSameSSE(
        _ actual: [UInt8], _ expected: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        assertSameFrames(actual, expected, context, file: file, line: line) { index, a, e in
            let dataPrefix = Array("data: ".utf8)
            guard e.starts(with: dataPrefix), e != Array("data: [DONE]".utf8) else {
                XCTAssertEqual(a.utf8String, e.utf8String, "\(context): frame \(index)", file: file, line: line)
                return
            }
            guard a.starts(with: dataPrefix) else {
                XCTFail("\(context): frame \(index) is not a data frame: \(a.utf8String)", file: file, line: line)
                return
            }
            guard let expectedJSON = try? JSONParser.parse(Array(e.dropFirst(6))) else {
                XCTFail("\(context): fixture frame \(index) is not JSON", file: file, line: line)
                return
            }
            assertSameJSON(Array(a.dropFirst(6)), expectedJSON, "\(context): frame \(index)", file: file, line: line)
        }
    }
}

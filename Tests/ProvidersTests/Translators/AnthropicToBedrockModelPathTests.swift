import XCTest

@testable import Providers

/// `BedrockModelID.path(template:modelBytes:...)` must equal the `String` version for every name.
final class AnthropicToBedrockModelPathTests: XCTestCase {
    private let templates = [
        "/model/{model}/{action}", "/v1/bedrock/model/{model}/{action}", "", "{model}", "{action}{model}{model}",
        "/{mod/{model}{act}{action", "/x/{{model}}/{ACTION}/{action}/é",
    ]

    private func names() -> [String] {
        var out = [
            "claude-sonnet-4-5", "claude-3-7-sonnet-20250219", "claude-v2", "claude-v2.1", "claude-instant-v1",
            "claude-v", "claude-v.1", "claude-v2.", "claude-v2.1.3", "claude-2v2", "claude", "claud", "Claude-v2",
            "anthropic.claude-v2:0", "us.anthropic.claude-3", "us-east.claude", ".claude", "claude.x", "claude-x.y",
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude", "a/b c", "gpt-4o", ".", "..",
            "...", "a.", "-.", "claude/..", "claude%2F", "claude~_-", "cl:aude", "claudé", "claude\u{301}-v2",
            "claude-v2\u{301}", "ｃlaude", "claude\r\n", "claude-v1\u{0}", "é.claude", "x\u{7F}y", "😀",
        ]
        // Every short name over a small alphabet that exercises each rule.
        let alphabet: [Character] = ["c", "-", "v", "1", ".", ":", "/"]
        var words = [""]
        for _ in 0..<4 {
            words = words.flatMap { w in alphabet.map { w + String($0) } }
            out += words
        }
        out += out.map { "claude" + $0 } + out.map { "claude-v" + $0 }
        return out
    }

    func testByteVariantMatchesTheStringVersion() {
        let aliasSets: [[String: String]] = [[:], ["claude-v2": "..", "gpt-4o": "anthropic.x/y", "x": "claude-3"]]
        var checked = 0
        for aliases in aliasSets {
            for template in templates {
                for name in names() {
                    for stream in [false, true] {
                        let expected = BedrockModelID.path(template: template, model: name, aliases: aliases, stream: stream)
                        let got = Array(name.utf8).withUnsafeBytes {
                            BedrockModelID.path(template: template, modelBytes: $0, aliases: aliases, stream: stream)
                        }
                        XCTAssertEqual(got, expected, "\(template) \(name) \(aliases) \(stream)")
                        checked += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 50_000)
    }
}

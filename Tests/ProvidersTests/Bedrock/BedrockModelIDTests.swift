import XCTest
@testable import Providers

final class BedrockModelIDTests: XCTestCase {
    func testTable() {
        let aliases = ["sonnet": "us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-v2": "anthropic.claude-v2:1"]
        let table: [(String, String)] = [
            ("claude-3-7-sonnet-20250219", "anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ("claude-sonnet-4-20250514", "anthropic.claude-sonnet-4-20250514-v1:0"),
            ("claude-3-5-haiku-20241022", "anthropic.claude-3-5-haiku-20241022-v1:0"),
            ("claude-v2", "anthropic.claude-v2:1"),  // alias first
            ("claude-instant-v1", "anthropic.claude-instant-v1:0"),
            ("claude-3-5-sonnet-20241022-v2", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
            ("claude-2-v2.1", "anthropic.claude-2-v2.1:0"),
            ("sonnet", "us.anthropic.claude-sonnet-4-20250514-v1:0"),
            ("anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ("apac.anthropic.claude-3-7-sonnet-20250219-v1:0", "apac.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ("global.anthropic.claude-sonnet-4-20250514-v1:0", "global.anthropic.claude-sonnet-4-20250514-v1:0"),
            ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
             "arn:aws:bedrock:us-east-1:123456789012:inference-profile%2Fus.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ("gpt-4o", "gpt-4o"),
            ("claude x/y", "anthropic.claude%20x%2Fy-v1"),
            ("claude-é", "anthropic.claude-%C3%A9-v1"),
        ]
        for (input, expected) in table {
            XCTAssertEqual(BedrockModelID.resolve(input, aliases: input == "claude-v2" || input == "sonnet" ? aliases : [:]), expected, input)
        }
        // Without the alias, `claude-v2` follows the `-v2` rule.
        XCTAssertEqual(BedrockModelID.resolve("claude-v2", aliases: [:]), "anthropic.claude-v2:0")
        XCTAssertEqual(BedrockModelID.resolve("claude-v", aliases: [:]), "anthropic.claude-v-v1")
        XCTAssertEqual(BedrockModelID.resolve("claude-v2.", aliases: [:]), "anthropic.claude-v2.-v1")
    }

    /// Every ASCII byte alone and inside an id: unreserved bytes stay, others become `%XX`; ids with
    /// nothing to encode come back as they are (the fast path), `.` and `..` are encoded whole.
    func testPathSegmentEncodesEachByteByTheRule() {
        let unreserved = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:".utf8))
        for b in UInt8(1)...UInt8(127) {
            let s = String(decoding: [b], as: UTF8.self)
            let expected = unreserved.contains(b) ? s : "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            if s == "." { continue }
            XCTAssertEqual(BedrockModelID.pathSegment(s), expected, "byte \(b)")
            XCTAssertEqual(BedrockModelID.pathSegment("us.anthropic" + s + "x-v1:0"), "us.anthropic" + expected + "x-v1:0", "byte \(b)")
        }
        XCTAssertEqual(BedrockModelID.pathSegment("."), "%2E")
        XCTAssertEqual(BedrockModelID.pathSegment(".."), "%2E%2E")
        XCTAssertEqual(BedrockModelID.pathSegment("..."), "...")
        XCTAssertEqual(BedrockModelID.pathSegment("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        XCTAssertEqual(BedrockModelID.pathSegment("é"), "%C3%A9")
        XCTAssertEqual(BedrockModelID.pathSegment(""), "")
    }

    func testPathTemplate() {
        XCTAssertEqual(
            BedrockModelID.path(template: "/v1/bedrock/model/{model}/{action}", model: "claude-v2", aliases: [:], stream: false),
            "/v1/bedrock/model/anthropic.claude-v2:0/invoke")
        XCTAssertEqual(
            BedrockModelID.path(template: "/model/{model}/{action}?x={model}", model: "a.b", aliases: [:], stream: true),
            "/model/a.b/invoke-with-response-stream?x=a.b")
    }

    /// Dateless names (Claude Code's defaults) take Bedrock's current `-v1` form, never `-v1:0`; dated
    /// ones keep `-v1:0`.
    func testDatelessAndDatedNames() {
        let table = [
            ("claude-opus-4-6", "anthropic.claude-opus-4-6-v1"),
            ("claude-opus-5-5", "anthropic.claude-opus-5-5-v1"),
            ("claude-sonnet-5-5", "anthropic.claude-sonnet-5-5-v1"),
            ("claude-haiku-5-5", "anthropic.claude-haiku-5-5-v1"),
            ("claude-sonnet-4-6", "anthropic.claude-sonnet-4-6-v1"),
            ("claude-sonnet-4-5-20250929", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("claude-haiku-4-5-20251001", "anthropic.claude-haiku-4-5-20251001-v1:0"),
            ("claude-3-7-sonnet-20250219+tools", "anthropic.claude-3-7-sonnet-20250219+tools-v1:0"),
            // Eight digits that are not a date (no `20` first), or seven: dateless.
            ("claude-x-12345678", "anthropic.claude-x-12345678-v1"),
            ("claude-x-2025021", "anthropic.claude-x-2025021-v1"),
            ("claude-x-202502190", "anthropic.claude-x-202502190-v1"),
            ("us.anthropic.claude-opus-4-6-v1", "us.anthropic.claude-opus-4-6-v1"),
            ("global.anthropic.claude-opus-4-6-v1", "global.anthropic.claude-opus-4-6-v1"),
        ]
        for (name, id) in table {
            XCTAssertEqual(BedrockModelID.id(for: name, aliases: [:]), id, name)
            var n = name
            let bytesPath = n.withUTF8 {
                BedrockModelID.path(template: "/m/{model}/{action}", modelBytes: UnsafeRawBufferPointer($0), aliases: [:], stream: false)
            }
            XCTAssertEqual(bytesPath, "/m/\(BedrockModelID.pathSegment(id))/invoke", name)
        }
    }

    /// The model id a span names for a Bedrock upstream, read back from the path the request went to:
    /// the segment after the first `model` segment, percent-decoded (as `pathSegment` encodes it).
    func testModelInPath() {
        func model(_ path: String) -> String? {
            var out: [UInt8] = [0x78]
            var p = path
            let found = p.withUTF8 { BedrockModelID.model(inPath: UnsafeRawBufferPointer($0), into: &out) }
            return found ? String(decoding: out, as: UTF8.self) : nil
        }
        let id = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        XCTAssertEqual(model("/v1/bedrock/model/\(BedrockModelID.pathSegment(id))/invoke"), id)
        XCTAssertEqual(model("/model/\(BedrockModelID.pathSegment(id))/invoke-with-response-stream"), id)
        XCTAssertEqual(model("/model/a%2Fb%3a0"), "a/b:0", "lower- and upper-case hex, last segment")
        XCTAssertEqual(model("/model/a%zz%2"), "a%zz%2", "a broken escape stays as it is")
        XCTAssertEqual(model("/models/x/model/y/invoke"), "y", "only a segment that is exactly `model`")
        XCTAssertNil(model("/v1/chat/completions"))
        XCTAssertNil(model("/model"), "no segment after it")
        XCTAssertNil(model("/model//invoke"), "an empty id")
        XCTAssertNil(model(""))
    }

    func testGenAIProviderNames() {
        XCTAssertEqual(Dialect.bedrockAnthropic.genAIProviderName, "aws.bedrock")
        XCTAssertEqual(Dialect.openAIChat.genAIProviderName, "openai")
        XCTAssertEqual(Dialect.openAIResponses.genAIProviderName, "openai")
        XCTAssertEqual(Dialect.anthropicMessages.genAIProviderName, "anthropic")
        XCTAssertNil(Dialect.passthrough.genAIProviderName)
        XCTAssertEqual(Dialect.allCases.filter(\.carriesModelInPath), [.bedrockAnthropic])
        XCTAssertEqual(Dialect.anthropicMessages.modelListDialect, .anthropicMessages)
        for d in Dialect.allCases where d != .anthropicMessages { XCTAssertEqual(d.modelListDialect, .openAIChat, "\(d)") }
    }
}

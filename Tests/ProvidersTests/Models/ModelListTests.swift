import XCTest
@testable import Providers

final class ModelListTests: XCTestCase {
    private let models = [
        ModelInfo(id: "claude-sonnet-4-20250514", ownedBy: "anthropic", created: 1_747_267_200, displayName: "Claude Sonnet 4"),
        ModelInfo(id: "gpt-5", ownedBy: "openai", created: 0),
    ]

    func testOpenAIShape() {
        XCTAssertEqual(ModelList.body(models, dialect: .openAIChat).utf8String,
                       #"{"object":"list","data":[{"id":"claude-sonnet-4-20250514","object":"model","created":1747267200,"owned_by":"anthropic"},{"id":"gpt-5","object":"model","created":0,"owned_by":"openai"}]}"#)
    }

    func testAnthropicShape() {
        XCTAssertEqual(ModelList.body(models, dialect: .anthropicMessages).utf8String,
                       #"{"data":[{"type":"model","id":"claude-sonnet-4-20250514","display_name":"Claude Sonnet 4","created_at":"2025-05-15T00:00:00Z"},{"type":"model","id":"gpt-5","display_name":"gpt-5","created_at":"1970-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-20250514","last_id":"gpt-5"}"#)
        XCTAssertEqual(ModelList.body([], dialect: .bedrockAnthropic).utf8String,
                       #"{"data":[],"has_more":false,"first_id":null,"last_id":null}"#)
    }

    func testClaudeIdsFirstForAnthropicClientsOnly() {
        let list = [
            ModelInfo(id: "gpt-5", ownedBy: "openai", created: 0),
            ModelInfo(id: "claude-sonnet-4-5", ownedBy: "anthropic", created: 0),
            ModelInfo(id: "o3", ownedBy: "openai", created: 0),
            ModelInfo(id: "anthropic.claude-haiku-4-5-v1:0", ownedBy: "anthropic", created: 0),
        ]
        XCTAssertEqual(ModelList.ordered(list, for: .anthropicMessages).map(\.id),
                       ["claude-sonnet-4-5", "anthropic.claude-haiku-4-5-v1:0", "gpt-5", "o3"])
        for dialect in [Dialect.openAIChat, .openAIResponses, .bedrockAnthropic] {
            XCTAssertEqual(ModelList.ordered(list, for: dialect).map(\.id), list.map(\.id), "\(dialect)")
        }
        XCTAssertEqual(ModelList.ordered([], for: .anthropicMessages), [])
    }

    func testRFC3339() {
        XCTAssertEqual(ModelList.rfc3339(951_782_400), "2000-02-29T00:00:00Z")
        XCTAssertEqual(ModelList.rfc3339(1_709_251_199), "2024-02-29T23:59:59Z")
        XCTAssertEqual(ModelList.rfc3339(4_102_444_800), "2100-01-01T00:00:00Z")
        XCTAssertEqual(ModelList.rfc3339(-1), "1969-12-31T23:59:59Z")
    }
}

import Foundation
import XCTest
@testable import Providers
@testable import UVProxy
@testable import MockGateway

/// The bundled mock refuses what Bedrock refuses; the proxy's profile and healing make Claude Code's
/// requests pass it.
final class StrictBedrockTests: XCTestCase {
    func testCatalogIdForms() {
        let valid = [
            "anthropic.claude-opus-4-6-v1", "us.anthropic.claude-opus-5-5-v1", "global.anthropic.claude-sonnet-4-6-v1",
            "anthropic.claude-sonnet-4-5-20250929-v1:0", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "apac.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-v2:1", "anthropic.claude-instant-v1",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-6-v1",
        ]
        let invalid = [
            "anthropic.claude-opus-4-6-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1", "claude-opus-4-6",
            "claude-sonnet-4-5", "gpt-5", "anthropic.claude-opus-4-6", "us.anthropic.claude-opus-4-6-v1:0",
            "mock-model", "",
        ]
        for id in valid { XCTAssertTrue(MockBedrockRules.isCatalogModel(id), id) }
        for id in invalid { XCTAssertFalse(MockBedrockRules.isCatalogModel(id), id) }
        XCTAssertEqual(MockBedrockRules.catalogID("anthropic.claude-3-7-sonnet-20250219+tools+chunks=3-v1:0"),
                       "anthropic.claude-3-7-sonnet-20250219-v1:0")
        XCTAssertEqual(MockBedrockRules.catalogID("us.anthropic.claude-sonnet-4-5-20250929-v1:0+thinking"),
                       "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    }

    func testEachRuleRefusesAsBedrockDoes() throws {
        let rules = MockBedrockRules()
        let model = "anthropic.claude-opus-4-6-v1"
        let ok = #""anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]"#
        func problem(_ body: String, model m: String = model) throws -> String? {
            rules.problem(model: m, body: try JSONParser.parse(Array(body.utf8)))
        }
        XCTAssertNil(try problem("{\(ok)}"))
        XCTAssertEqual(try problem("{\(ok)}", model: "anthropic.claude-opus-4-6-v1:0"), "The provided model identifier is invalid.")
        XCTAssertEqual(try problem(#"{"max_tokens":5,"messages":[]}"#)?.contains("anthropic_version"), true)
        XCTAssertEqual(try problem(#"{\#(ok),"speed":"fast"}"#),
                       "Malformed input request: #: extraneous key [speed] is not permitted, please reformat your input and try again.")
        XCTAssertEqual(try problem(#"{\#(ok),"context_management":{}}"#), "context_management: Extra inputs are not permitted")
        XCTAssertNil(try problem(#"{\#(ok),"context_management":{},"anthropic_beta":["context-management-2025-06-27"]}"#))
        XCTAssertEqual(try problem(#"{\#(ok),"anthropic_beta":["oauth-2025-04-20"]}"#), "invalid beta flag")
        XCTAssertEqual(try problem(#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"system","content":"s"}]}"#),
                       "Malformed input request: #/messages/0/role: expected user or assistant, please reformat your input and try again.")
        XCTAssertEqual(try problem(#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":"s","output_config":{}}]}"#)?
            .contains("#/messages/0: extraneous key [output_config]"), true)
        XCTAssertEqual(try problem(#"{\#(ok),"tools":[{"name":"a","input_schema":{},"defer_loading":true}]}"#),
                       "tools.0.custom.defer_loading: Extra inputs are not permitted")
        XCTAssertEqual(try problem(#"{\#(ok),"thinking":{"type":"adaptive","display":"omitted"}}"#),
                       "thinking.adaptive.display: Extra inputs are not permitted")
        XCTAssertEqual(try problem(#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"forged"}]}]}"#),
                       "messages.0.content.0: Invalid `signature` in `thinking` block")
        // Every message parses back through the proxy's healing.
        for body in [#"{\#(ok),"speed":"fast"}"#, #"{\#(ok),"anthropic_beta":["x"]}"#,
                     #"{\#(ok),"tools":[{"name":"a","input_schema":{},"defer_loading":true}]}"#,
                     #"{\#(ok),"thinking":{"type":"adaptive","display":"omitted"}}"#] {
            XCTAssertNotNil(BedrockRejection.parse(message: try XCTUnwrap(try problem(body))), body)
        }
        var lenient = rules
        lenient.strict = false
        XCTAssertNil(lenient.problem(model: "anything", body: try JSONParser.parse(Array(#"{\#(ok),"speed":"fast"}"#.utf8))))
        let custom = try MockBedrockRules.parse(Array(#"{"betas":{"anthropic.claude-opus-4-6-v1":[]},"models":["x"]}"#.utf8))
        XCTAssertEqual(custom.betas["anthropic.claude-opus-4-6-v1"], [])
        XCTAssertEqual(custom.models, ["x"])
    }

    /// Without the profile, every captured Claude Code request is refused by the strict mock; with it,
    /// every one passes.
    func testCapturedClaudeCodeRequestsPassOnlyWithTheProfile() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tests/e2e/fixtures/claude-code")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        var checked = 0
        for file in files.sorted() {
            let capture = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(file))) as? [String: Any])
            guard capture["method"] as? String == "POST", let body = capture["body"] as? [String: Any] else { continue }
            let headers = capture["headers"] as? [String: String] ?? [:]
            let betas = (headers["anthropic-beta"] ?? "").split(separator: ",").map(String.init)
            let bytes = Array(try JSONSerialization.data(withJSONObject: body))
            for profile in [BedrockProfile.none, .claudeOnBedrock] {
                let t = AnthropicToBedrockTranslator(options: TranslationOptions(upstreamPath: "/model/{model}/{action}", profile: profile))
                let request = try t.upstreamRequest(for: ClientRequest(body: bytes, anthropicBeta: betas))
                let id = String(request.path.split(separator: "/")[1])
                let problem = MockBedrockRules().problem(model: id, body: try JSONParser.parse(request.body))
                if profile == .none {
                    XCTAssertNotNil(problem, "\(file): the strict mock must refuse the raw request")
                } else {
                    XCTAssertNil(problem, "\(file): \(problem ?? "")")
                }
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 5)
    }

    /// The upstream refuses a beta the profile allows: the proxy retries once without it, the client
    /// gets 200, and the next request for that model is right the first time.
    func testSelfHealingRetriesOnceAndRemembers() throws {
        var rules = MockBedrockRules()
        rules.betas["*"]?.removeAll { $0 == "interleaved-thinking-2025-05-14" }
        let stack = try TestStack(yaml: TestStack.basicConfig, mockRules: rules)
        defer { stack.stop() }
        let body = #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"context_management":{"edits":[]}}"#
        let headers = ["anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27"]
        let c = try stack.client()
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages", body: body, headers: headers))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200, r.text)
        let learned = stack.proxy.runtime.healing.rejections(for: "/v1/bedrock/model/anthropic.claude-opus-4-6-v1")
        XCTAssertEqual(learned?.betas, LearnedRejections.BetaCeiling.none, "the profile's own list was refused: no betas for this model")
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages", body: body, headers: headers))
        XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 200)
        // Without healing (profile none), the same request is the upstream's 400 in Anthropic's shape.
        let plain = try TestStack(yaml: TestStack.basicConfig.replacingOccurrences(
            of: "ingress: anthropic-messages, egress: bedrock-anthropic }",
            with: "ingress: anthropic-messages, egress: bedrock-anthropic, profile: none }"), mockRules: rules)
        defer { plain.stop() }
        let p = try plain.client()
        p.send(RawHTTPClient.post("/bedrock/claude/v1/messages", body: body, headers: headers))
        let refused = try XCTUnwrap(p.readResponse())
        XCTAssertEqual(refused.status, 400)
        XCTAssertTrue(refused.text.contains("invalid beta flag"), refused.text)
        XCTAssertTrue(refused.text.contains(#""type":"error""#), refused.text)
    }

    /// A refusal the profile cannot fix (an invalid model id) reaches the client once, not retried.
    func testInvalidModelIsNotRetried() throws {
        let stack = try TestStack(yaml: TestStack.basicConfig)
        defer { stack.stop() }
        let c = try stack.client()
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages", body: #"{"model":"anthropic.claude-opus-4-6-v1:0","max_tokens":5,"messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 400)
        XCTAssertTrue(r.text.contains("The provided model identifier is invalid."), r.text)
    }
}

import Foundation
import XCTest
@testable import Providers

/// The Bedrock profile on real Claude Code requests (captured from the CLI, `Fixtures/claude-code`) and
/// on hand-made edge cases: what goes, what stays byte-exact, where a system message's text lands.
final class BedrockRequestShaperTests: XCTestCase {
    /// A captured request: the body's raw bytes as they stand in the file, and the client's betas.
    struct Captured {
        var body: [UInt8]
        var betas: [String]
    }

    static func captured(_ name: String) throws -> Captured {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/claude-code"))
        let file = Array(try Data(contentsOf: url))
        let scan = try JSONObjectScanner.scan(file)
        let body = try XCTUnwrap(scan.first("body"))
        let beta = try XCTUnwrap(scan.first("anthropic-beta"))
        let betas = file.withUnsafeBytes { JSONObjectScanner.decodeString($0, at: beta.valueRange) } ?? ""
        return Captured(body: Array(file[body.valueRange]),
                        betas: betas.split(separator: ",").map { String($0) })
    }

    static func translate(_ c: Captured, profile: BedrockProfile?, healing: BedrockHealing? = nil) throws -> (UpstreamRequest, AnthropicToBedrockTranslator) {
        let options = TranslationOptions(upstreamPath: "/v1/bedrock/model/{model}/{action}", profile: profile, healing: healing)
        let t = AnthropicToBedrockTranslator(options: options)
        return (try t.upstreamRequest(for: ClientRequest(body: c.body, anthropicBeta: c.betas)), t)
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return needle.isEmpty }
        var i = 0
        while i + needle.count <= haystack.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    func testClaudeCodeDefaultRequestIsCutToTheProfile() throws {
        let c = try Self.captured("default")
        let (request, translator) = try Self.translate(c, profile: .claudeOnBedrock)
        XCTAssertEqual(request.path, "/v1/bedrock/model/anthropic.claude-opus-5-5-v1/invoke-with-response-stream")
        let out = try Self.object(request.body)
        XCTAssertEqual(Set(out.keys), ["messages", "system", "tools", "metadata", "max_tokens", "thinking",
                                       "context_management", "output_config", "anthropic_version", "anthropic_beta"])
        XCTAssertEqual(out["anthropic_beta"] as? [String],
                       ["claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27", "effort-2025-11-24"])
        XCTAssertEqual(out["thinking"] as? [String: String], ["type": "adaptive"])
        let messages = try XCTUnwrap(out["messages"] as? [[String: Any]])
        XCTAssertEqual(messages.count, 1, "the system message is folded into the user turn")
        XCTAssertEqual(Set(messages[0].keys), ["role", "content"])
        let tools = try XCTUnwrap(out["tools"] as? [[String: Any]])
        XCTAssertEqual(tools.count, 12)
        XCTAssertTrue(tools.allSatisfy { $0["defer_loading"] == nil })
        for phrase in ["beta per-turn-control-2026-07-01", "beta mid-conversation-tool-changes-2026-07-01",
                       "beta thinking-token-count-2026-05-13", "beta advanced-tool-use-2025-11-20",
                       "message key output_config", "tool key defer_loading", "thinking key display",
                       "role system (folded into the user turn)"] {
            XCTAssertTrue(translator.removedForUpstream.contains(phrase), "\(phrase) in \(translator.removedForUpstream)")
        }
    }

    /// The system message's blocks follow the user's own, byte for byte (its `cache_control` included).
    func testSystemMessageTextIsKeptInOrderAndByteExact() throws {
        let c = try Self.captured("default")
        let (request, _) = try Self.translate(c, profile: .claudeOnBedrock)
        let input = try Self.object(c.body)
        let inMessages = try XCTUnwrap(input["messages"] as? [[String: Any]])
        let userBlocks = try XCTUnwrap(inMessages[0]["content"] as? [[String: Any]])
        let systemBlocks = try XCTUnwrap(inMessages[1]["content"] as? [[String: Any]])
        let out = try Self.object(request.body)
        let folded = try XCTUnwrap((out["messages"] as? [[String: Any]])?[0]["content"] as? [[String: Any]])
        XCTAssertEqual(folded.count, userBlocks.count + systemBlocks.count)
        XCTAssertEqual(folded.map { $0["text"] as? String }, (userBlocks + systemBlocks).map { $0["text"] as? String })
        XCTAssertNotNil(folded.last?["cache_control"])
        // Every block of the system message appears in the output exactly as the client wrote it.
        let elements = try c.body.withUnsafeBytes { b -> [Range<Int>] in
            let scan = try JSONObjectScanner.scan(b)
            let messages = try XCTUnwrap(scan.first("messages"))
            let m1 = try JSONObjectScanner.arrayElements(b, in: messages.valueRange)[1]
            let content = try XCTUnwrap(try JSONObjectScanner.scan(b, in: m1).first("content"))
            return try JSONObjectScanner.arrayElements(b, in: content.valueRange)
        }
        for e in elements { XCTAssertTrue(contains(request.body, Array(c.body[e])), "block kept byte-exact") }
    }

    /// Thinking blocks with their signature, tool results with `cache_control`: byte-exact after a
    /// round trip through the profile.
    func testToolRoundTripKeepsAssistantTurnsByteExact() throws {
        var c = try Self.captured("tool-round-trip")
        // The captured round trip had no thinking block in history (the capture server sent none): add
        // one as Claude sends it, with a signature whose bytes must survive.
        let signature = #""signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/=""#
        let thinking = #"{"type":"thinking","thinking":"Let me \u0074hink.",\#(signature)}"#
        let text = c.body.utf8String
        let marker = #""role": "assistant","#
        XCTAssertTrue(text.contains(marker), "the fixture has an assistant turn")
        let withThinking = text.replacingOccurrences(of: "\"content\": [\n     {\n      \"type\": \"tool_use\"",
                                                     with: "\"content\": [\(thinking),{\"type\": \"tool_use\"")
        XCTAssertNotEqual(withThinking, text, "the thinking block went in")
        c.body = Array(withThinking.utf8)
        let (request, _) = try Self.translate(c, profile: .claudeOnBedrock)
        XCTAssertTrue(contains(request.body, Array(thinking.utf8)), "thinking block byte-exact")
        let out = try Self.object(request.body)
        let messages = try XCTUnwrap(out["messages"] as? [[String: Any]])
        XCTAssertEqual(messages.map { $0["role"] as? String }, ["user", "assistant", "user"])
        let last = try XCTUnwrap(messages[2]["content"] as? [[String: Any]])
        XCTAssertEqual(last.first?["type"] as? String, "tool_result", "tool results stay first in their turn")
        XCTAssertNotNil(last.first?["cache_control"])
    }

    func testFoldPlacesSystemTextBesideTheNearestUserTurn() throws {
        func shaped(_ messages: String) throws -> [[String: Any]] {
            let body = #"{"model":"claude-opus-4-6","max_tokens":5,"messages":\#(messages)}"#
            let (request, _) = try Self.translate(Captured(body: Array(body.utf8), betas: []), profile: .claudeOnBedrock)
            return try XCTUnwrap(try Self.object(request.body)["messages"] as? [[String: Any]])
        }
        func texts(_ m: [String: Any]) -> [String] {
            ((m["content"] as? [[String: Any]]) ?? []).map { ($0["text"] as? String) ?? ($0["type"] as? String ?? "") }
        }
        // After a user turn: appended to it.
        var m = try shaped(#"[{"role":"user","content":"q"},{"role":"system","content":"s"}]"#)
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(texts(m[0]), ["q", "s"])
        // After an assistant turn, before a user turn with tool results: after the results.
        m = try shaped(#"[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{}}]},{"role":"system","content":[{"type":"text","text":"s"}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"},{"type":"text","text":"u"}]}]"#)
        XCTAssertEqual(m.map { $0["role"] as? String }, ["user", "assistant", "user"])
        XCTAssertEqual(texts(m[2]), ["tool_result", "s", "u"])
        // Alone, or between assistant turns: a user message of its own.
        m = try shaped(#"[{"role":"system","content":"only"}]"#)
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(m[0]["role"] as? String, "user")
        XCTAssertEqual(texts(m[0]), ["only"])
        // Two system messages in a row after a user turn: both appended, in order.
        m = try shaped(#"[{"role":"user","content":"q"},{"role":"system","content":"a"},{"role":"system","content":"b"}]"#)
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(texts(m[0]), ["q", "a", "b"])
        // An empty system message disappears.
        m = try shaped(#"[{"role":"user","content":"q"},{"role":"system","content":[]}]"#)
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(texts(m[0]), ["q"])
    }

    func testLearnedRejectionsApplyToTheModel() throws {
        let healing = BedrockHealing()
        let profile = BedrockProfile.claudeOnBedrock
        let c = try Self.captured("model-claude-opus-4-6")
        let (first, translator) = try Self.translate(c, profile: profile, healing: healing)
        XCTAssertNotNil(try Self.object(first.body)["anthropic_beta"])
        XCTAssertNotNil(try Self.object(first.body)["metadata"])
        // Bedrock refuses every beta for this model, then `metadata`.
        let retry = translator.learnFromRejection(status: 400, body: Array(#"{"message":"invalid beta flag"}"#.utf8))
        XCTAssertEqual(retry?.model, "/v1/bedrock/model/anthropic.claude-opus-4-6-v1")
        XCTAssertNotNil(retry?.learned)
        // The proxy translates again for the retry; the same refusal then has nothing left to remove.
        let retried = try translator.upstreamRequest(for: ClientRequest(body: c.body, anthropicBeta: c.betas))
        XCTAssertNil(try Self.object(retried.body)["anthropic_beta"])
        XCTAssertNil(translator.learnFromRejection(status: 400, body: Array(#"{"message":"invalid beta flag"}"#.utf8)),
                     "nothing more to remove: no second retry")
        _ = translator.learnFromRejection(status: 400, body: Array(#"{"message":"Malformed input request: #: extraneous key [metadata] is not permitted, please reformat your input and try again."}"#.utf8))
        let (second, _) = try Self.translate(c, profile: profile, healing: healing)
        let out = try Self.object(second.body)
        XCTAssertNil(out["anthropic_beta"])
        XCTAssertNil(out["metadata"])
        XCTAssertNil(out["context_management"], "its beta is gone, so it goes too")
        XCTAssertNil(out["output_config"])
        // Another model is not affected.
        var sonnet = c
        sonnet.body = Array(c.body.utf8String.replacingOccurrences(of: #""claude-opus-4-6""#, with: #""claude-sonnet-4-6""#).utf8)
        let (other, _) = try Self.translate(sonnet, profile: profile, healing: healing)
        XCTAssertNotNil(try Self.object(other.body)["anthropic_beta"])
        XCTAssertNotNil(try Self.object(other.body)["metadata"])
    }

    func testOtherStatusesAndUnnamedRefusalsDoNotRetry() throws {
        let c = try Self.captured("default")
        let (_, translator) = try Self.translate(c, profile: .claudeOnBedrock, healing: BedrockHealing())
        XCTAssertNil(translator.learnFromRejection(status: 429, body: Array(#"{"message":"invalid beta flag"}"#.utf8)))
        XCTAssertNil(translator.learnFromRejection(status: 400, body: Array(#"{"message":"The provided model identifier is invalid."}"#.utf8)))
        XCTAssertNil(translator.learnFromRejection(status: 400, body: Array("not json".utf8)))
    }

    func testLongContextSuffixLeavesTheIdAndAddsItsBeta() throws {
        for fast in [true, false] {
            // An escaped character in the body sends it down the general path.
            let extra = fast ? "" : #","x\u0079":1"#
            let body = #"{"model":"claude-opus-4-6[1m]","max_tokens":5,"messages":[{"role":"user","content":"hi"}]\#(extra)}"#
            let (request, _) = try Self.translate(Captured(body: Array(body.utf8), betas: ["claude-code-20250219"]), profile: .claudeOnBedrock)
            XCTAssertEqual(request.path, "/v1/bedrock/model/anthropic.claude-opus-4-6-v1/invoke", "fast \(fast)")
            XCTAssertEqual(try Self.object(request.body)["anthropic_beta"] as? [String], ["claude-code-20250219", "context-1m-2025-08-07"])
        }
        // A profile without the beta: the id still loses the suffix, no beta is added.
        var profile = BedrockProfile.claudeOnBedrock
        profile.betas = ["claude-code-20250219"]
        let body = #"{"model":"claude-opus-4-6[1m]","max_tokens":5,"messages":[]}"#
        let (request, _) = try Self.translate(Captured(body: Array(body.utf8), betas: []), profile: profile)
        XCTAssertEqual(request.path, "/v1/bedrock/model/anthropic.claude-opus-4-6-v1/invoke")
        XCTAssertNil(try Self.object(request.body)["anthropic_beta"])
    }

    func testProfileNoneAndNilChangeNothing() throws {
        let c = try Self.captured("default")
        let (plain, _) = try Self.translate(c, profile: nil)
        let (none, _) = try Self.translate(c, profile: BedrockProfile.none)
        XCTAssertEqual(plain.body, none.body)
        XCTAssertTrue(plain.body.utf8String.contains(#""role": "system""#))
    }

    func testTypedToolsOutsideTheProfileAreRemoved() throws {
        let body = #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3},{"name":"a","input_schema":{"type":"object"},"eager_input_streaming":true},{"type":"bash_20250124","name":"bash"}]}"#
        let (request, translator) = try Self.translate(Captured(body: Array(body.utf8), betas: []), profile: .claudeOnBedrock)
        let tools = try XCTUnwrap(try Self.object(request.body)["tools"] as? [[String: Any]])
        XCTAssertEqual(tools.map { $0["name"] as? String }, ["a", "bash"])
        XCTAssertNil(tools[0]["eager_input_streaming"])
        XCTAssertTrue(translator.removedForUpstream.contains("tool web_search (type web_search_20250305)"))
    }
}

final class BedrockRejectionTests: XCTestCase {
    func testMessagesBedrockSends() {
        let table: [(String, BedrockRejection?)] = [
            ("invalid beta flag", .invalidBeta),
            ("Invalid Beta Flag", .invalidBeta),
            ("Malformed input request: #: extraneous key [context_management] is not permitted, please reformat your input and try again.", .field("context_management")),
            ("Malformed input request: #/messages/1: extraneous key [output_config] is not permitted", .messageKey("output_config")),
            ("Malformed input request: #/messages/1/role: expected user or assistant, please reformat your input and try again.", .systemRole),
            ("tools.11.custom.defer_loading: Extra inputs are not permitted", .toolKey("defer_loading")),
            ("tools.3.eager_input_streaming: Extra inputs are not permitted", .toolKey("eager_input_streaming")),
            ("context_management: Extra inputs are not permitted", .field("context_management")),
            ("thinking.adaptive.display: Extra inputs are not permitted", .thinkingKey("display")),
            ("messages.2.output_config: Extra inputs are not permitted", .messageKey("output_config")),
            ("messages.2.content.0.citations: Extra inputs are not permitted", nil),
            ("The provided model identifier is invalid.", nil),
            ("Too many tokens", nil),
        ]
        for (message, expected) in table {
            XCTAssertEqual(BedrockRejection.parse(message: message), expected, message)
        }
        XCTAssertEqual(BedrockRejection.parse(status: 400, body: Array(#"{"message":"invalid beta flag"}"#.utf8)), .invalidBeta)
        XCTAssertEqual(BedrockRejection.parse(status: 400, body: Array(#"{"Message":"invalid beta flag"}"#.utf8)), .invalidBeta)
        XCTAssertEqual(BedrockRejection.parse(status: 400, body: Array(#"{"type":"error","error":{"type":"invalid_request_error","message":"invalid beta flag"}}"#.utf8)), .invalidBeta)
        XCTAssertNil(BedrockRejection.parse(status: 500, body: Array(#"{"message":"invalid beta flag"}"#.utf8)))
    }

    func testHealingLearnsOncePerModelAndItem() {
        let h = BedrockHealing()
        let p = BedrockProfile.claudeOnBedrock
        XCTAssertNil(h.rejections(for: "m"))
        XCTAssertNotNil(h.learn(.field("x"), model: "m", sentBetas: [], profile: p))
        XCTAssertNil(h.learn(.field("x"), model: "m", sentBetas: [], profile: p), "known already")
        XCTAssertNotNil(h.learn(.field("x"), model: "n", sentBetas: [], profile: p), "per model")
        XCTAssertNil(h.learn(.invalidBeta, model: "m", sentBetas: [], profile: p), "no beta was sent: nothing to remove")
        var any = p
        any.betas = nil
        XCTAssertNotNil(h.learn(.invalidBeta, model: "m", sentBetas: ["new-beta-2027"], profile: any))
        XCTAssertEqual(h.rejections(for: "m")?.betas, .knownGood)
        XCTAssertNotNil(h.learn(.invalidBeta, model: "m", sentBetas: ["claude-code-20250219"], profile: any))
        XCTAssertEqual(h.rejections(for: "m")?.betas, LearnedRejections.BetaCeiling.none)
        XCTAssertNotNil(h.learn(.systemRole, model: "m", sentBetas: [], profile: p))
        XCTAssertEqual(h.rejections(for: "m")?.foldSystem, true)
    }
}

import Foundation
import XCTest

@testable import Providers

/// With a profile, `AnthropicToBedrockFastPath` translates and cuts in one pass; wherever it answers,
/// its result must be byte for byte what the general path gives: the general translation, then
/// `BedrockRequestShaper` (body, path, what was removed, the betas sent, what had been learned).
final class AnthropicToBedrockFastPathProfileTests: XCTestCase {
    private static let template = "/v1/bedrock/model/{model}/{action}"
    /// Bodies long enough to be left in pieces that the tests compared.
    private var piecesSeen = 0

    /// One request through both paths, with `options` and the client's `beta` header values.
    private struct Outcome: Equatable {
        var body: [UInt8]
        var path: String
        var stream: Bool
        var accept: String
        var longContext: Bool
        var clientModel: Range<Int>?
        var upstreamModel: String
        var removed: [String]
        var sentBetas: [String]
        var learned: LearnedRejections?
    }

    private func reference(_ body: [UInt8], beta: [String], options: TranslationOptions) -> Outcome? {
        let t = AnthropicToBedrockTranslator(options: options)
        do throws(APIError) {
            var request = try t.generalUpstreamRequest(for: ClientRequest(body: body, anthropicBeta: beta))
            if let profile = options.profile { t.shape(&request, profile: profile, clientBetas: beta) }
            return Outcome(
                body: request.body, path: request.path, stream: request.stream, accept: request.accept,
                longContext: request.longContext, clientModel: request.clientModel, upstreamModel: t.upstreamModel,
                removed: t.removedForUpstream, sentBetas: t.sentBetas, learned: t.shapedWith)
        } catch {
            return nil
        }
    }

    /// The fast path as the translator runs it: given the client's body, long kept spans are left in
    /// pieces, which must join to what the copying run (no body given) writes.
    private func fast(_ body: [UInt8], beta: [String], options: TranslationOptions, line: UInt = #line) -> Outcome? {
        guard let profile = options.profile,
            let shaped = body.withUnsafeBytes({
                AnthropicToBedrockFastPath.translate($0, options: options, beta: beta, profile: profile, source: body)
            })
        else { return nil }
        let r = shaped.request
        let copied = body.withUnsafeBytes {
            AnthropicToBedrockFastPath.translate($0, options: options, beta: beta, profile: profile)
        }
        XCTAssertEqual(r.body, copied?.request.body, "pieces and copy differ", line: line)
        XCTAssertEqual(r.bodyCount, r.body.count, line: line)
        if r.bodyCount >= 2 * AnthropicToBedrockFastPath.pieceMinimum { piecesSeen += 1 }
        return Outcome(
            body: r.body, path: r.path, stream: r.stream, accept: r.accept, longContext: r.longContext,
            clientModel: r.clientModel, upstreamModel: shaped.upstreamModel,
            removed: shaped.applied ? shaped.removed.strings : [], sentBetas: shaped.sentBetas,
            learned: shaped.learned)
    }

    /// True when the fast path answered (and then agreed with the reference).
    @discardableResult
    private func assertSame(
        _ body: [UInt8], beta: [String] = [], options: TranslationOptions, _ note: @autoclosure () -> String = "",
        line: UInt = #line
    ) -> Bool {
        guard let got = fast(body, beta: beta, options: options, line: line) else { return false }
        guard let expected = reference(body, beta: beta, options: options) else {
            XCTFail("the fast path answered where the general path refuses: \(note()) \(body.utf8String)", line: line)
            return true
        }
        if got.body != expected.body {
            // Where they part, with some context (bodies are up to 100 KB).
            var at = 0
            while at < got.body.count, at < expected.body.count, got.body[at] == expected.body[at] { at += 1 }
            func around(_ b: [UInt8]) -> String { Array(b[max(0, at - 60)..<min(b.count, at + 60)]).utf8String }
            XCTFail(
                "body differs at \(at): \(around(got.body).debugDescription) != \(around(expected.body).debugDescription) \(note())",
                line: line)
        }
        var a = got
        var b = expected
        a.body = []
        b.body = []
        XCTAssertEqual(a, b, note(), line: line)
        return true
    }

    private func options(_ profile: BedrockProfile, healing: BedrockHealing? = nil) -> TranslationOptions {
        TranslationOptions(upstreamPath: Self.template, profile: profile, healing: healing)
    }

    /// Profiles that exercise each rule (and none).
    private var profiles: [BedrockProfile] {
        var anyBeta = BedrockProfile.claudeOnBedrock
        anyBeta.betas = nil
        var keep = BedrockProfile.claudeOnBedrock
        keep.systemMessages = .keep
        keep.messageKeys = nil
        var narrow = BedrockProfile.claudeOnBedrock
        narrow.topLevelFields = ["max_tokens", "messages", "tools", "anthropic_beta", "thinking"]
        narrow.toolTypes = ["custom"]
        narrow.thinkingKeys = ["type"]
        narrow.fieldBetas = ["tools": ["claude-code-20250219"], "thinking": ["x"]]
        let keysOnly = BedrockProfile(
            name: "keys", toolKeys: ["name", "input_schema"], thinkingKeys: ["budget_tokens"])
        return [.claudeOnBedrock, .none, anyBeta, keep, narrow, keysOnly]
    }

    /// Healing stores that learned something for `model` (and one that learned for another model).
    private func healings(for model: String) -> [BedrockHealing] {
        let key = "/v1/bedrock/model/\(BedrockModelID.id(for: model, aliases: [:]))"
        let p = BedrockProfile.claudeOnBedrock
        var out: [BedrockHealing] = []
        let rejections: [[BedrockRejection]] = [
            [.field("metadata")], [.messageKey("role")], [.messageKey("cache_control")], [.toolKey("name")],
            [.toolKey("cache_control")], [.thinkingKey("type")], [.systemRole], [.invalidBeta],
            [.field("anthropic_version"), .field("max_tokens")],
        ]
        for list in rejections {
            let h = BedrockHealing()
            for r in list { _ = h.learn(r, model: key, sentBetas: ["claude-code-20250219", "new-2027"], profile: p) }
            out.append(h)
        }
        let other = BedrockHealing()
        _ = other.learn(.field("messages"), model: "/v1/bedrock/model/elsewhere", sentBetas: [], profile: p)
        out.append(other)
        return out
    }

    private static let betaHeaders: [[String]] = [
        [],
        [
            "claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
            "per-turn-control-2026-07-01", "effort-2025-11-24",
        ],
        ["context-1m-2025-08-07", "", "x\"y", "context-1m-2025-08-07"],
        [""],
    ]

    /// Hand-made bodies: folds in every position, typed tools, thinking keys, fields needing betas,
    /// body betas, whitespace, a long-context model.
    static let bodies: [String] = [
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"system","content":"s"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{}}]},{"role":"system","content":[{"type":"text","text":"s"}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"},{"type":"text","text":"u"}]}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"system","content":"only"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"system","content":"a"},{"role":"system","content":"b"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"system","content":[]}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"assistant","content":"a"},{"role":"system","content":"x"},{"role":"system","content":[ {"type":"text","text":"y"} ]},{"role":"user","content":[ {"type":"tool_result","tool_use_id":"t"} , {"type":"tool_result","tool_use_id":"u","content":[]} ]},{"role":"system","content":"z","output_config":{}}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"system","content":"x"},{"role":"user","content":[]},{"role":"system","content":"y"},{"role":"user","content":"u"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t"}]},{"role":"system","content":"x"},{"role":"user","content":"v","cache_control":{"type":"ephemeral"}},{"content":"w","role":"user","output_config":1}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"assistant","content":[]},{"role":"system","content":"x"},{"role":"user","content":[{"type":"text","text":"t"},{"type":"tool_result"}]}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"system","content":"x"},{"role":"user"},{"role":"user","content":5},{"role":7,"content":"r"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3},{"name":"a","input_schema":{"type":"object"},"eager_input_streaming":true},{"type":"bash_20250124","name":"bash","cache_control":{}},{"type":"custom","name":"c","defer_loading":true},"odd",{"type":"x","name":"n\u00e9"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[],"tools":[{"name":"a","input_schema":{}}],"thinking":{"type":"adaptive","display":"omitted","budget_tokens":9}}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[],"thinking":{"display":"omitted"},"context_management":{"edits":[]},"output_config":{"effort":"high"},"speed":"fast","metadata":{"user_id":"u"}}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[],"anthropic_beta":["context-management-2025-06-27","oauth-2025-04-20"],"context_management":{}}"#,
        #"{"anthropic_beta":"effort-2025-11-24, x ,effort-2025-11-24","output_config":{},"model":"claude-opus-4-6[1m]","max_tokens":5,"messages":[]}"#,
        #"{"model":"claude-opus-4-6[1M]","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"anthropic_beta":[]}"#,
        #"{"max_tokens":5,"messages":[{"role":"user","content":"hi"}],"speed":"fast","model":"claude-sonnet-4-6","stream":true}"#,
        #"{"speed":1,"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"stream":false,"anthropic_version":"v"}"#,
        " {\n  \"model\" : \"claude-opus-4-6\" ,\n  \"messages\" : [\n   { \"role\" : \"user\" , \"content\" : \"q\" } ,\n   { \"role\" : \"system\" , \"content\" : [ {\"type\":\"text\",\"text\":\"s\"} ] , \"output_config\" : {} }\n  ] ,\n  \"tools\" : [ {\"name\":\"a\",\"defer_loading\":true} , {\"name\":\"b\"} ] ,\n  \"thinking\" : { \"type\" : \"adaptive\" , \"display\" : \"x\" } ,\n  \"max_tokens\" : 5 ,\n  \"speed\" : 1\n } \n",
        " {\n  \"model\" : \"claude-opus-4-6\" ,\n  \"messages\" : [\n   { \"role\" : \"user\" , \"content\" : \"q\" } , { \"role\" : \"assistant\" , \"content\" : \"a\" }\n  ] ,\n  \"max_tokens\" : 5\n } \n",
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q","role":"user"}],"tools":[]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"}],"tools":[],"tools":[{"name":"x","defer_loading":1}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"\u0073ystem","content":"q"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q","outp\u00fct":1}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"}],"tools":[{"type":"bash\u005f20250124","name":"b"}]}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"}],"m\u00e9ta":1}"#,
        #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q","outpüt":1}],"métadata":2}"#,
    ]

    func testHandMadeBodiesMatchTheGeneralPath() {
        var answered = 0
        for text in Self.bodies {
            let body = Array(text.utf8)
            for profile in profiles {
                for beta in Self.betaHeaders {
                    if assertSame(body, beta: beta, options: options(profile), "\(profile.name) \(beta)") {
                        answered += 1
                    }
                }
            }
            for healing in healings(for: "claude-opus-4-6") {
                if assertSame(body, options: options(.claudeOnBedrock, healing: healing), "healing") { answered += 1 }
            }
        }
        XCTAssertGreaterThan(answered, Self.bodies.count * 10)
    }

    /// Every captured Claude Code request (pretty-printed as captured, and compact), with its betas,
    /// through every profile and every learned state: the fast path answers and agrees.
    func testCapturedRequestsMatchTheGeneralPath() throws {
        for name in ["default", "model-claude-opus-4-6", "stream-json", "tool-round-trip"] {
            let c = try BedrockRequestShaperTests.captured(name)
            let compact = try JSONSerialization.data(
                withJSONObject: try JSONSerialization.jsonObject(with: Data(c.body)))
            for body in [c.body, Array(compact)] {
                for profile in profiles {
                    XCTAssertTrue(
                        assertSame(body, beta: c.betas, options: options(profile), "\(name) \(profile.name)"),
                        "\(name) \(profile.name) is taken")
                }
                let model =
                    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])["model"]
                    as? String
                for healing in healings(for: model ?? "") {
                    XCTAssertTrue(
                        assertSame(
                            body, beta: c.betas, options: options(.claudeOnBedrock, healing: healing), "\(name) learned"
                        ))
                }
            }
        }
        XCTAssertGreaterThan(piecesSeen, 0, "some compared bodies were long enough to go in pieces")
    }

    /// Every prefix and one-byte change of the hand-made bodies, and one-byte changes spread over a
    /// captured request: wherever the fast path answers, the general path accepts and says the same.
    func testMutatedBodiesNeverAnswerDifferently() throws {
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x7B, 0x5D, 0x20, 0x73, 0xC3]
        var answered = 0
        let learned = healings(for: "claude-opus-4-6")[6]  // folds system messages
        for (n, text) in Self.bodies.prefix(12).enumerated() {
            for v in prefixesAndByteChanges(Array(text.utf8), replacements: replacements, includingWhole: true) {
                if n % 2 == 0 {
                    if assertSame(v, beta: Self.betaHeaders[1], options: options(.claudeOnBedrock), "mutation") {
                        answered += 1
                    }
                } else {
                    if assertSame(v, options: options(.claudeOnBedrock, healing: learned), "mutation, learned") {
                        answered += 1
                    }
                }
            }
        }
        let c = try BedrockRequestShaperTests.captured("tool-round-trip")
        let compact = Array(
            try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: Data(c.body))))
        for i in stride(from: 0, to: compact.count, by: 1531) {
            for r in replacements where r != compact[i] {
                var v = compact
                v[i] = r
                if assertSame(v, beta: c.betas, options: options(.claudeOnBedrock), "captured mutation at \(i)") {
                    answered += 1
                }
            }
        }
        XCTAssertGreaterThan(answered, 1_000)
    }

    /// What the fast path leaves to the general path still goes through the translator unchanged.
    func testDeclinedRequestsGoThroughTheGeneralPath() throws {
        let declined = [
            #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"\u0073ystem","content":"q"}]}"#,
            #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q","outp\u00fct":1}]}"#,
            #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"system","content":5}]}"#,
            #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"}],"tools":[],"tools":[]}"#,
            #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q","content":"r"}]}"#,
            #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q"}],"métadata":2}"#,
            #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"q","outpüt":1}]}"#,
        ]
        for text in declined {
            let body = Array(text.utf8)
            let o = options(.claudeOnBedrock)
            XCTAssertNil(fast(body, beta: [], options: o), text)
            let t = AnthropicToBedrockTranslator(options: o)
            let got = try t.upstreamRequest(for: ClientRequest(body: body))
            let expected = try XCTUnwrap(reference(body, beta: [], options: o))
            XCTAssertEqual(got.body, expected.body, text)
            XCTAssertEqual(t.removedForUpstream, expected.removed, text)
        }
    }

    /// The translator's public entry point takes the fast path on the route and keeps what healing needs.
    func testTranslatorUsesTheFastPathAndRemembersWhatItSent() throws {
        let c = try BedrockRequestShaperTests.captured("default")
        let healing = BedrockHealing()
        let o = options(.claudeOnBedrock, healing: healing)
        let t = AnthropicToBedrockTranslator(options: o)
        let request = try t.upstreamRequest(for: ClientRequest(body: c.body, anthropicBeta: c.betas))
        let expected = try XCTUnwrap(reference(c.body, beta: c.betas, options: o))
        XCTAssertEqual(request.body, expected.body)
        // The long spans it keeps stay in the client's body: the request goes out in pieces that join to it.
        var parts: [[UInt8]] = []
        request.withBodyParts { parts = $0.map { Array($0) } }
        XCTAssertGreaterThan(parts.count, 2)
        XCTAssertEqual(parts.flatMap { $0 }, expected.body)
        XCTAssertEqual(request.bodyCount, expected.body.count)
        var inClient = 0
        c.body.withUnsafeBytes { client in
            request.withBodyParts { parts in
                inClient = parts.filter { $0.baseAddress.map { $0 >= client.baseAddress! && $0 < client.baseAddress! + client.count } ?? false }.count
            }
        }
        XCTAssertGreaterThan(inClient, 0, "pieces point into the client's body, not copies")
        XCTAssertEqual(t.removedForUpstream, expected.removed)
        XCTAssertEqual(t.sentBetas, expected.sentBetas)
        let retry = t.learnFromRejection(status: 400, body: Array(#"{"message":"invalid beta flag"}"#.utf8))
        XCTAssertEqual(retry?.model, "/v1/bedrock/model/anthropic.claude-opus-5-5-v1")
        let again = try t.upstreamRequest(for: ClientRequest(body: c.body, anthropicBeta: c.betas))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.body)) as? [String: Any])
        XCTAssertNil(object["anthropic_beta"], "the model refused every beta")
        XCTAssertEqual(again.body, try XCTUnwrap(reference(c.body, beta: c.betas, options: o)).body)
        XCTAssertEqual(t.sentBetas, [])
        // Setting the body replaces the pieces.
        var replaced = again
        replaced.body = Array("{}".utf8)
        var replacedParts: [[UInt8]] = []
        replaced.withBodyParts { replacedParts = $0.map { Array($0) } }
        XCTAssertEqual(replacedParts, [Array("{}".utf8)])
        XCTAssertEqual(replaced.bodyCount, 2)
    }
}

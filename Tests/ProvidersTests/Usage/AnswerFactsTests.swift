import Foundation
import XCTest
@testable import Providers

/// Usage, stop reason, first token and end of stream, read from the bytes a client gets.
final class AnswerFactsTests: XCTestCase {
    private func watch(_ dialect: Dialect, _ chunks: [[UInt8]]) -> AnswerFacts {
        var w = StreamWatcher(dialect: dialect)
        for c in chunks { c.withUnsafeBytes { w.feed($0) } }
        return w.facts
    }

    private func json(_ dialect: Dialect, _ body: String) -> AnswerFacts {
        Array(body.utf8).withUnsafeBytes { AnswerReader.json($0, dialect: dialect) }
    }

    /// Every golden stream, in the dialect it is written in, read whole, byte by byte and split at
    /// every index, gives the same facts; the end is seen exactly when the stream has its dialect's
    /// terminal event.
    func testEveryFixtureStreamReadsTheSameAtEverySplit() throws {
        let root = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Fixtures"))
        // folder → (dialect of client.sse, dialect of upstream.sse when it is SSE)
        let folders: [(String, Dialect, Dialect?)] = [
            ("anthropic-openai/stream", .anthropicMessages, .openAIChat),
            ("openai-bedrock/stream", .openAIChat, nil),
            ("responses-bedrock/stream", .openAIResponses, nil),
        ]
        var files = 0
        for (folder, clientDialect, upstreamDialect) in folders {
            let dir = root.appendingPathComponent(folder)
            for case_ in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
                var sides: [(String, Dialect)] = [("client.sse", clientDialect)]
                if let upstreamDialect { sides.append(("upstream.sse", upstreamDialect)) }
                for (name, dialect) in sides {
                    guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent("\(case_)/\(name)").path) else { continue }
                    let bytes = [UInt8](data)
                    files += 1
                    let whole = watch(dialect, [bytes])
                    assertEverySplit(bytes, expected: whole) { watch(dialect, $0) }
                    let text = String(decoding: bytes, as: UTF8.self)
                    let terminal: Bool
                    switch dialect {
                    case .anthropicMessages: terminal = text.contains("event: message_stop") || text.contains("event: error")
                    case .openAIChat: terminal = text.contains("data: [DONE]")
                    default: terminal = text.contains("event: response.completed") || text.contains("event: response.incomplete")
                        || text.contains("event: response.failed") || text.contains("event: error")
                    }
                    XCTAssertEqual(whole.ended, terminal, "\(folder)/\(case_)/\(name)")
                }
            }
        }
        XCTAssertGreaterThan(files, 60)
    }

    func testAnthropicStreamUsageCountsCacheInInput() {
        let sse = Fixture.bytes("anthropic-openai/stream/text-crlf-cached-usage", "client.sse")
        let f = watch(.anthropicMessages, [sse])
        XCTAssertEqual(f.usage, TokenUsage(input: 86 + 1920, output: 3, cacheRead: 1920, cacheCreation: 0))
        XCTAssertEqual(f.stopReason, "end_turn")
        XCTAssertEqual(f.model, "claude-sonnet-4-5")
        XCTAssertTrue(f.firstToken)
        XCTAssertTrue(f.ended)
    }

    func testChatStreamUsageFromTheUsageChunk() {
        let sse = Fixture.bytes("anthropic-openai/stream/text-crlf-cached-usage", "upstream.sse")
        let f = watch(.openAIChat, [sse])
        XCTAssertEqual(f.usage, TokenUsage(input: 2006, output: 3, cacheRead: 1920, reasoning: 0))
        XCTAssertEqual(f.stopReason, "stop")
        XCTAssertEqual(f.model, "gpt-5-2025-08-07")
        XCTAssertTrue(f.firstToken)
        XCTAssertTrue(f.ended)
    }

    func testResponsesStreamUsageAndStatus() {
        let f = watch(.openAIResponses, [Fixture.bytes("responses-bedrock/stream/bom-then-text", "client.sse")])
        XCTAssertEqual(f.usage, TokenUsage(input: 25, output: 12, cacheRead: 0, reasoning: 0))
        XCTAssertEqual(f.stopReason, "completed")
        XCTAssertEqual(f.model, "claude-sonnet-4-5-20250929")
        XCTAssertTrue(f.firstToken)
        XCTAssertTrue(f.ended)
        let cut = watch(.openAIResponses, [Fixture.bytes("responses-bedrock/stream/max-tokens-incomplete", "client.sse")])
        XCTAssertEqual(cut.stopReason, "max_output_tokens")
        XCTAssertTrue(cut.ended)
    }

    func testNoTokenUntilContentAndNoEndWithoutTheTerminalEvent() {
        let role = #"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"# + "\n\n"
        var f = watch(.openAIChat, [bytes(role)])
        XCTAssertFalse(f.firstToken)
        XCTAssertFalse(f.ended)
        let text = #"data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"# + "\n\n"
        f = watch(.openAIChat, [bytes(role + text)])
        XCTAssertTrue(f.firstToken)
        XCTAssertNil(f.stopReason)
        // A tool call is a first token too; a quoted key inside text is not a key.
        let tool = #"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"finish_reason\":\"x\"}"}}]},"finish_reason":null}]}"# + "\n\n"
        f = watch(.openAIChat, [bytes(role + tool)])
        XCTAssertTrue(f.firstToken)
        XCTAssertNil(f.stopReason)
        let anthropic = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
        f = watch(.anthropicMessages, [bytes(anthropic)])
        XCTAssertFalse(f.firstToken)
        XCTAssertFalse(f.ended)
        XCTAssertEqual(f.usage, TokenUsage(input: 5, output: 1))
    }

    func testSpacedJSONAndStreamsWithoutEventLines() {
        let chunk = "data: {\"choices\": [{\"delta\": {}, \"finish_reason\": \"length\"}], \"usage\": {\"prompt_tokens\": 7, \"completion_tokens\": 9}}\n\ndata: [DONE]\n\n"
        let f = watch(.openAIChat, [bytes(chunk)])
        XCTAssertEqual(f.stopReason, "length")
        XCTAssertEqual(f.usage, TokenUsage(input: 7, output: 9))
        XCTAssertTrue(f.ended)
        // Anthropic events told apart by their `type` when a server sends no `event:` lines.
        let bare = "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"x\"}}\n\n"
            + "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":4}}\n\n"
            + "data: {\"type\":\"message_stop\"}\n\n"
        let a = watch(.anthropicMessages, [bytes(bare)])
        XCTAssertTrue(a.firstToken)
        XCTAssertEqual(a.stopReason, "tool_use")
        XCTAssertEqual(a.usage.output, 4)
        XCTAssertTrue(a.ended)
    }

    func testErrorEventsEndTheStream() {
        let anthropic = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n"
        XCTAssertEqual(watch(.anthropicMessages, [bytes(anthropic)]).stopReason, "error")
        XCTAssertTrue(watch(.anthropicMessages, [bytes(anthropic)]).ended)
        var out: [UInt8] = []
        APIError.badGateway("boom").writeOpenAIStreamError(into: &out)
        let chat = watch(.openAIChat, [out])
        XCTAssertEqual(chat.stopReason, "error")
        XCTAssertTrue(chat.ended)
        let failed = "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\"}}}\n\n"
        let responses = watch(.openAIResponses, [bytes(failed)])
        XCTAssertTrue(responses.ended)
        XCTAssertEqual(responses.stopReason, "failed")
        let error = watch(.openAIResponses, [bytes("event: error\ndata: {\"type\":\"error\",\"code\":\"x\"}\n\n")])
        XCTAssertTrue(error.ended)
        XCTAssertEqual(error.stopReason, "error")
    }

    func testAnOverlongLineIsPassedOverAndReadingGoesOn() {
        var w = StreamWatcher(dialect: .openAIChat)
        let long = [UInt8]("data: {\"x\":\"".utf8) + [UInt8](repeating: 0x61, count: StreamWatcher.maxLine + 10)
        long.withUnsafeBytes { w.feed($0) }
        bytes("\"}\n\ndata: [DONE]\n\n").withUnsafeBytes { w.feed($0) }
        XCTAssertTrue(w.facts.ended)
    }

    func testJSONAnswersInEveryDialect() {
        let anthropic = json(.anthropicMessages, #"{"id":"m","type":"message","model":"claude-x","content":[{"type":"tool_use","input":{"usage":{"input_tokens":999}}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"cache_creation_input_tokens":4,"cache_read_input_tokens":100,"output_tokens":20}}"#)
        XCTAssertEqual(anthropic.usage, TokenUsage(input: 114, output: 20, cacheRead: 100, cacheCreation: 4))
        XCTAssertEqual(anthropic.stopReason, "tool_use")
        XCTAssertEqual(anthropic.model, "claude-x")
        let chat = Fixture.bytes("anthropic-openai/response", "cache-usage.json")
        let body = try! JSONSerialization.jsonObject(with: Data(chat)) as! [String: Any]
        let upstream = (body["upstream"] as! [String: Any])["bodyText"] as! String
        let c = json(.openAIChat, upstream)
        XCTAssertEqual(c.usage, TokenUsage(input: 1200, output: 50, cacheRead: 1000, reasoning: 20))
        XCTAssertEqual(c.stopReason, "stop")
        XCTAssertEqual(c.model, "gpt-5-2025-08-07")
        let r = json(.openAIResponses, #"{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"m","usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":1},"output_tokens":8,"output_tokens_details":{"reasoning_tokens":6}}}"#)
        XCTAssertEqual(r.usage, TokenUsage(input: 3, output: 8, cacheRead: 1, reasoning: 6))
        XCTAssertEqual(r.stopReason, "max_output_tokens")
        // Not JSON, not an object, no usage: empty facts, no trap.
        for bad in ["", "[]", "{", "null", #"{"usage":5}"#, #"{"usage":{"input_tokens":-1,"output_tokens":1e3}}"#, #"{"choices":"x"}"#] {
            for d in Dialect.allCases { XCTAssertEqual(json(d, bad).usage, TokenUsage(), "\(d) \(bad)") }
        }
    }

    /// The key search a Chat completion gets agrees with the walk on every Chat answer the fixtures
    /// hold, on spaced JSON, and on answers whose text contains the keys (escaped, so not keys).
    func testChatKeySearchAgreesWithTheWalk() throws {
        var bodies: [[UInt8]] = []
        let root = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Fixtures/anthropic-openai/response"))
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path) where name.hasSuffix(".json") {
            let data = try Data(contentsOf: root.appendingPathComponent(name))
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            if let up = object["upstream"] as? [String: Any], let text = up["bodyText"] as? String, (up["status"] as? Int) == 200 {
                bodies.append(Array(text.utf8))
            }
        }
        XCTAssertGreaterThan(bodies.count, 5)
        bodies.append(bytes(#"{"id":"x","model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":"say \"usage\":{\"prompt_tokens\":99} \"model\":\"no\""},"finish_reason":"length"}],"usage":{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}},"system_fingerprint":"fp_g"}"#))
        bodies.append(bytes(#"{ "model" : "m", "choices" : [ { "finish_reason" : "tool_calls" } ], "usage" : { "prompt_tokens" : 1, "completion_tokens" : 2 } }"#))
        var searched = 0
        for body in bodies {
            var keys = AnswerFacts()
            var walk = AnswerFacts()
            let found = body.withUnsafeBytes { AnswerReader.chatByKeys($0, into: &keys) }
            body.withUnsafeBytes { AnswerReader.chatByWalk($0, into: &walk) }
            if found {
                searched += 1
                XCTAssertEqual(keys, walk, body.utf8String)
            }
            // What the log gets either way: the walk's facts.
            XCTAssertEqual(json(.openAIChat, body.utf8String), walk, body.utf8String)
        }
        XCTAssertGreaterThan(searched, 5, "the key search took the compact answers")
        XCTAssertEqual(json(.openAIChat, bodies[bodies.count - 1].utf8String).usage, TokenUsage(input: 1, output: 2))
    }

    /// The same for Anthropic messages: the key search agrees with the walk on the fixtures' Bedrock
    /// answers, on a tool_use input that holds `usage` and `stop_reason` keys of its own, and falls
    /// back to the walk when the usage is not the message's last member.
    func testAnthropicKeySearchAgreesWithTheWalk() throws {
        var bodies: [[UInt8]] = []
        let root = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Fixtures/openai-bedrock/response"))
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path) where name.hasSuffix(".json") {
            let data = try Data(contentsOf: root.appendingPathComponent(name))
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            if let up = object["upstream"] as? [String: Any], let text = up["bodyText"] as? String, (up["status"] as? Int) == 200 {
                bodies.append(Array(text.utf8))
            }
        }
        XCTAssertGreaterThan(bodies.count, 3)
        bodies.append(bytes(#"{"id":"m","type":"message","role":"assistant","model":"claude-x","content":[{"type":"tool_use","id":"t","name":"f","input":{"model":"no","stop_reason":"no","usage":{"input_tokens":999}}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":4,"cache_read_input_tokens":100,"output_tokens":20,"service_tier":"standard","cache_creation":{"ephemeral_5m_input_tokens":4}}}"#))
        bodies.append(bytes(#"{"usage":{"input_tokens":1,"output_tokens":2},"stop_reason":"end_turn","model":"first"}"#))
        var searched = 0
        for body in bodies {
            var keys = AnswerFacts()
            var walk = AnswerFacts()
            let found = body.withUnsafeBytes { AnswerReader.anthropicByKeys($0, into: &keys) }
            body.withUnsafeBytes { AnswerReader.anthropicByWalk($0, into: &walk) }
            if found {
                searched += 1
                XCTAssertEqual(keys, walk, body.utf8String)
            }
            XCTAssertEqual(json(.anthropicMessages, body.utf8String), walk, body.utf8String)
        }
        XCTAssertGreaterThan(searched, 3)
        XCTAssertEqual(json(.anthropicMessages, bodies[bodies.count - 1].utf8String).model, "first")
    }

    func testModelSegmentOfABedrockPath() {
        var r = UpstreamRequest(path: "/v1/bedrock/model/us.anthropic.claude-opus-4-1-20250805-v1%3A0/invoke", body: [], stream: false)
        XCTAssertEqual(r.modelSegment(template: "/v1/bedrock/model/{model}/{action}"), "us.anthropic.claude-opus-4-1-20250805-v1:0")
        r.path = "/other/path"
        XCTAssertNil(r.modelSegment(template: "/v1/bedrock/model/{model}/{action}"))
        XCTAssertNil(r.modelSegment(template: "/no/placeholder"))
    }

    /// The bytes the log gets are the String's: no escape, one, several, at the ends, a `%` that is
    /// not an escape; nothing when the path does not fit.
    func testModelSegmentBytesAreTheString() {
        let template = "/v1/bedrock/model/{model}/{action}"
        let models = ["anthropic.claude-sonnet-4-5-20250929-v1%3A0", "plain", "%3Aa%3Ab%3A", "50%25%2", "a%zzb%", "%41", "%"]
        for m in models {
            for action in ["/invoke", "/invoke-with-response-stream", ""] {
                let r = UpstreamRequest(path: "/v1/bedrock/model/" + m + action, body: [], stream: false)
                var bytes: [UInt8]?
                let found = r.withModelSegment(template: template) { bytes = Array($0) }
                XCTAssertTrue(found, m)
                XCTAssertEqual(bytes.map { String(decoding: $0, as: UTF8.self) }, r.modelSegment(template: template), m)
            }
        }
        XCTAssertEqual(UpstreamRequest(path: "/v1/bedrock/model/a%3Ab/invoke", body: [], stream: false).modelSegment(template: template), "a:b")
        XCTAssertEqual(UpstreamRequest(path: "/v1/bedrock/model/50%25%2/invoke", body: [], stream: false).modelSegment(template: template), "50%%2")
        for path in ["/other/path", "/v1/bedrock/model/", "/v1/bedrock/model//invoke", "/v1/bedrock/mode"] {
            let r = UpstreamRequest(path: path, body: [], stream: false)
            XCTAssertFalse(r.withModelSegment(template: template) { _ in XCTFail(path) }, path)
        }
        XCTAssertFalse(UpstreamRequest(path: "/x/y", body: [], stream: false).withModelSegment(template: "{mode}") { _ in XCTFail() })
        XCTAssertEqual(UpstreamRequest(path: "m1/invoke", body: [], stream: false).modelSegment(template: "{model}/{action}"), "m1")
    }

    /// OpenAI's and Anthropic's compact usage objects are read by searching their few keys; what they
    /// give is what the walk gives, with keys missing, in another order, nested, and the numbers at
    /// every width; a usage object that does not start with the expected key is walked.
    func testCompactUsageSearchAgreesWithTheWalk() {
        let chatUsages = [
            #"{"prompt_tokens":12,"completion_tokens":40,"total_tokens":52,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#,
            #"{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16}"#,
            #"{"prompt_tokens":123456789012345,"total_tokens":1,"completion_tokens_details":{"reasoning_tokens":5},"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":64}}"#,
            #"{"prompt_tokens":1}"#,
            #"{"prompt_tokens":"x","completion_tokens":2}"#,
            #"{"completion_tokens":2,"prompt_tokens":1}"#,
            #"{ "prompt_tokens":1,"completion_tokens":2}"#,
        ]
        for u in chatUsages {
            let body = #"{"id":"c","object":"chat.completion","model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":"# + u + #","system_fingerprint":"fp_h"}"#
            var keys = AnswerFacts()
            var walk = AnswerFacts()
            XCTAssertTrue(bytes(body).withUnsafeBytes { AnswerReader.chatByKeys($0, into: &keys) }, u)
            bytes(body).withUnsafeBytes { AnswerReader.chatByWalk($0, into: &walk) }
            XCTAssertEqual(keys, walk, u)
        }
        XCTAssertEqual(json(.openAIChat, #"{"model":"m","choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":40,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}"#).usage,
                       TokenUsage(input: 12, output: 40, cacheRead: 3, reasoning: 2))
        let anthropicUsages = [
            #"{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":40}"#,
            #"{"input_tokens":86,"cache_creation_input_tokens":100,"cache_read_input_tokens":1920,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":0},"output_tokens":3,"service_tier":"standard"}"#,
            #"{"input_tokens":5,"output_tokens":6}"#,
            #"{"input_tokens":5}"#,
            #"{"output_tokens":6,"input_tokens":5,"cache_read_input_tokens":7}"#,
            #"{"input_tokens":null,"output_tokens":6}"#,
        ]
        for u in anthropicUsages {
            let body = #"{"id":"msg","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":"# + u + "}"
            var keys = AnswerFacts()
            var walk = AnswerFacts()
            XCTAssertTrue(bytes(body).withUnsafeBytes { AnswerReader.anthropicByKeys($0, into: &keys) }, u)
            bytes(body).withUnsafeBytes { AnswerReader.anthropicByWalk($0, into: &walk) }
            XCTAssertEqual(keys, walk, u)
        }
        XCTAssertEqual(json(.anthropicMessages, #"{"model":"m","stop_reason":"end_turn","usage":{"input_tokens":86,"cache_creation_input_tokens":100,"cache_read_input_tokens":1920,"output_tokens":3}}"#).usage,
                       TokenUsage(input: 86 + 100 + 1920, output: 3, cacheRead: 1920, cacheCreation: 100))
    }

    /// The usage objects read in their provider's order (`UsageRun`): what they give is what the walk
    /// gives, for counts of 1 to 15 digits (16 digits are not a count: the search takes over), and for
    /// the short Chat usage that ends after `total_tokens`. A body whose every byte of the usage object
    /// is changed in turn (to a digit, a letter, a space, a quote, a comma, a brace), or which is cut
    /// at every length: the ordered read either gives what the search for each key gives (the way
    /// such bodies were read before it), or where the usage object visibly ends before the keys the
    /// search goes on to find, what the walk gives; or it declines. Nothing traps.
    func testUsageInTheProvidersOrderAgreesWithTheWalk() {
        let chatTail = #","service_tier":"default","system_fingerprint":"fp_h"}"#
        func chat(_ u: String) -> [UInt8] {
            Array((#"{"id":"c","object":"chat.completion","model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":"# + u + chatTail).utf8)
        }
        func anthropic(_ u: String) -> [UInt8] {
            Array((#"{"id":"msg","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":"# + u + "}").utf8)
        }
        func chatUsage(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            #"{"prompt_tokens":\#(a),"completion_tokens":\#(b),"total_tokens":52,"prompt_tokens_details":{"cached_tokens":\#(c),"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":\#(d),"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#
        }
        func anthropicUsage(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            #"{"input_tokens":\#(a),"cache_creation_input_tokens":\#(b),"cache_read_input_tokens":\#(c),"output_tokens":\#(d)}"#
        }
        func keys(_ dialect: Dialect, _ body: [UInt8]) -> (AnswerFacts, Bool) {
            var f = AnswerFacts()
            let found = body.withUnsafeBytes {
                dialect == .openAIChat ? AnswerReader.chatByKeys($0, into: &f) : AnswerReader.anthropicByKeys($0, into: &f)
            }
            return (f, found)
        }
        func walk(_ dialect: Dialect, _ body: [UInt8]) -> AnswerFacts {
            var f = AnswerFacts()
            body.withUnsafeBytes { dialect == .openAIChat ? AnswerReader.chatByWalk($0, into: &f) : AnswerReader.anthropicByWalk($0, into: &f) }
            return f
        }
        /// The usage object's offset and its first count (`prompt_tokens` or `input_tokens`), as the
        /// compact readers start.
        func start(_ dialect: Dialect, _ b: UnsafeRawBufferPointer) -> (v: Int, at: Int, first: Int)? {
            guard let u = KeySearch.lastKey(b, #""usage":"#, anchor: 4, before: b.count) else { return nil }
            let at = u + 8 + (dialect == .openAIChat ? 17 : 16)
            guard at < b.count, let n = UsageKeys.int(b, at) else { return nil }
            return (u + 8, at, n)
        }
        func searched(_ dialect: Dialect, _ body: [UInt8]) -> TokenUsage? {
            body.withUnsafeBytes { b -> TokenUsage? in
                guard let s = start(dialect, b) else { return nil }
                return dialect == .openAIChat ? AnswerReader.searchedChatUsage(b, from: s.v, prompt: s.first)
                    : AnswerReader.searchedAnthropicUsage(b, from: s.v, input: s.first)
            }
        }
        func ordered(_ dialect: Dialect, _ body: [UInt8]) -> TokenUsage? {
            body.withUnsafeBytes { b -> TokenUsage? in
                guard let s = start(dialect, b) else { return nil }
                return dialect == .openAIChat ? UsageRun.openAIOrder(b, after: s.at, prompt: s.first)
                    : UsageRun.anthropicOrder(b, after: s.at, input: s.first)
            }
        }
        // Where the ordered read sees the usage object end (a `}` after `total_tokens`) the search
        // still takes detail keys from the bytes after it: there the ordered read is the walk's.
        func agrees(_ dialect: Dialect, _ m: [UInt8]) {
            guard let u = ordered(dialect, m) else { return }
            if u != searched(dialect, m) { XCTAssertEqual(u, walk(dialect, m).usage, "\(m.utf8String)") }
        }
        let numbers = ["0", "7", "12", "99999", "123456789012345"]
        var bodies: [(Dialect, [UInt8])] = []
        for (i, a) in numbers.enumerated() {
            let b = numbers[(i + 1) % numbers.count], c = numbers[(i + 2) % numbers.count], d = numbers[(i + 3) % numbers.count]
            bodies.append((.openAIChat, chat(chatUsage(a, b, c, d))))
            bodies.append((.anthropicMessages, anthropic(anthropicUsage(a, b, c, d))))
        }
        bodies.append((.openAIChat, chat(#"{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16}"#)))
        for (dialect, body) in bodies {
            XCTAssertNotNil(ordered(dialect, body), body.utf8String)
            XCTAssertEqual(ordered(dialect, body), searched(dialect, body), body.utf8String)
            let (k, found) = keys(dialect, body)
            XCTAssertTrue(found, body.utf8String)
            XCTAssertEqual(k, walk(dialect, body), body.utf8String)
        }
        // 16 digits: not a count; the search and the walk agree on what is left.
        for dialect in [Dialect.openAIChat, .anthropicMessages] {
            let body = dialect == .openAIChat ? chat(chatUsage("1", "1234567890123456", "2", "3")) : anthropic(anthropicUsage("1", "1234567890123456", "2", "3"))
            XCTAssertNil(ordered(dialect, body))
            XCTAssertEqual(keys(dialect, body).0, walk(dialect, body), body.utf8String)
        }
        // Every byte of the usage object changed, and every cut.
        for (dialect, body) in [(Dialect.openAIChat, chat(chatUsage("12", "40", "3", "5"))),
                                (.anthropicMessages, anthropic(anthropicUsage("12", "4", "100", "20")))] {
            let start = body.withUnsafeBytes { KeySearch.lastKey($0, #""usage":"#, anchor: 4, before: $0.count)! } + 8
            for at in start..<body.count {
                for c in Array("5x \",}{".utf8) where c != body[at] {
                    var m = body
                    m[at] = c
                    agrees(dialect, m)
                    _ = keys(dialect, m)
                }
            }
            for cut in 0...body.count {
                let m = Array(body[..<cut])
                agrees(dialect, m)
                _ = keys(dialect, m)
            }
        }
    }

    /// `json(_:dialect:into:)` leaves in the facts it is given exactly what `json` returns, whatever
    /// they held before (an earlier answer's usage, stop reason, model, stream flags).
    func testReadingIntoFactsReplacesWhatTheyHeld() {
        var old = AnswerFacts()
        old.usage = TokenUsage(input: 1, output: 2, cacheRead: 3, cacheCreation: 4, reasoning: 5)
        old.stopReason = "length"
        old.model = "a-model-name-longer-than-fifteen-bytes"
        old.firstToken = true
        old.ended = true
        let bodies: [(Dialect, String)] = [
            (.openAIChat, #"{"model":"gpt-5","choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#),
            (.anthropicMessages, #"{"model":"claude-x","stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":2}}"#),
            (.openAIResponses, #"{"status":"completed","model":"m","usage":{"input_tokens":3,"output_tokens":8}}"#),
            (.openAIChat, #"{"choices":[]}"#), (.anthropicMessages, "not json"),
        ]
        for (dialect, body) in bodies {
            for (model, stop) in [(true, true), (false, true), (true, false), (false, false)] {
                var facts = old
                Array(body.utf8).withUnsafeBytes { AnswerReader.json($0, dialect: dialect, model: model, stop: stop, into: &facts) }
                XCTAssertEqual(facts, Array(body.utf8).withUnsafeBytes { AnswerReader.json($0, dialect: dialect, model: model, stop: stop) }, body)
            }
        }
    }

    /// `model: false` reads everything but the model, `stop: false` everything but the stop reason, on
    /// the key search and on the walk.
    func testAnswerModelLeftUnreadWhenNotWanted() {
        let bodies: [(Dialect, String)] = [
            (.openAIChat, #"{"model":"gpt-5","choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#),
            (.openAIChat, #"{ "model" : "gpt-5", "choices" : [ { "finish_reason" : "stop" } ], "usage" : { "prompt_tokens" : 1 } }"#),
            (.anthropicMessages, #"{"model":"claude-x","stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":2}}"#),
            (.anthropicMessages, #"{"usage":{"input_tokens":1,"output_tokens":2},"model":"claude-x","stop_reason":"end_turn"}"#),
        ]
        for (dialect, body) in bodies {
            let all = json(dialect, body)
            XCTAssertNotNil(all.model, body)
            var expected = all
            expected.model = nil
            let some = Array(body.utf8).withUnsafeBytes { AnswerReader.json($0, dialect: dialect, model: false) }
            XCTAssertEqual(some, expected, body)
            XCTAssertNotNil(all.stopReason, body)
            expected.stopReason = nil
            let tokens = Array(body.utf8).withUnsafeBytes { AnswerReader.json($0, dialect: dialect, model: false, stop: false) }
            XCTAssertEqual(tokens, expected, body)
            var noStop = all
            noStop.stopReason = nil
            XCTAssertEqual(Array(body.utf8).withUnsafeBytes { AnswerReader.json($0, dialect: dialect, stop: false) }, noStop, body)
        }
    }

    func testDialectGuessedFromThePath() {
        XCTAssertEqual(Dialect.guess(path: "/openai/v1/responses"), .openAIResponses)
        XCTAssertEqual(Dialect.guess(path: "/openai/v1/chat/completions"), .openAIChat)
        XCTAssertEqual(Dialect.guess(path: "/anthropic/v1/messages"), .anthropicMessages)
        XCTAssertEqual(Dialect.guess(path: "/bedrock/claude"), .anthropicMessages)
    }
}

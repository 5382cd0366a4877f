import Foundation
import XCTest

@testable import Providers

/// `MessagesRequestFastPath` must give byte-identical upstream bodies (and the same path, stream, client
/// model range, `removedForUpstream` in the same order, retry hints) to `MessagesRequestMapping` whenever
/// it answers, answer for what agents send, and never answer where the mapping refuses: refusals always
/// come from the mapping, so the public entry point gives its exact errors.
final class MessagesRequestFastPathTests: XCTestCase {
    private let options = AnthropicOpenAIFixtures.options

    /// The public entry point against the tree mapping alone; true when the fast path answered.
    @discardableResult
    private func check(_ body: [UInt8], _ context: @autoclosure () -> String = "", line: UInt = #line) -> Bool {
        let viaPublic = AnthropicToOpenAITranslator(options: options)
        let general = AnthropicToOpenAITranslator(options: options)
        let a = Result { () throws(APIError) in try viaPublic.upstreamRequest(for: ClientRequest(body: body)) }
        let b = Result { () throws(APIError) in try general.generalUpstreamRequest(for: ClientRequest(body: body)) }
        switch (a, b) {
        case (.success(let x), .success(let y)):
            if x.body != y.body {
                XCTFail(
                    "\(context()): bodies differ\nfast:    \(x.body.utf8String)\ngeneral: \(y.body.utf8String)\nin: \(body.utf8String)",
                    line: line)
                return viaPublic.tookFastPath
            }
            XCTAssertEqual(x.path, y.path, context(), line: line)
            XCTAssertEqual(x.stream, y.stream, context(), line: line)
            XCTAssertEqual(x.accept, y.accept, context(), line: line)
            XCTAssertEqual(x.contentType, y.contentType, context(), line: line)
            XCTAssertEqual(x.clientModel, y.clientModel, context(), line: line)
            XCTAssertEqual(viaPublic.removedForUpstream, general.removedForUpstream, context(), line: line)
            XCTAssertEqual(viaPublic.sent, general.sent, context(), line: line)
            XCTAssertEqual(viaPublic.upstreamModel(of: x), general.upstreamModel(of: y), context(), line: line)
        case (.failure(let x), .failure(let y)):
            XCTAssertEqual(x, y, context(), line: line)
            XCTAssertFalse(viaPublic.tookFastPath, context(), line: line)
        default:
            XCTFail("\(context()): different outcome: \(a) vs \(b)\nin: \(body.utf8String)", line: line)
        }
        return viaPublic.tookFastPath
    }

    /// Every request fixture (the golden ones and Claude Code's captures): the same result both ways, and
    /// every fixture the mapping accepts takes the fast path (they are written compact).
    func testFixturesMatchTheMapping() throws {
        let (directory, names) = try AnthropicOpenAIFixtures.names("request")
        var taken = 0
        var accepted = 0
        for name in names {
            let fixture = try AnthropicOpenAIFixtures.json(directory.appendingPathComponent(name + ".json"))
            let body = fixture["clientText"]?.stringValue.map { Array($0.utf8) } ?? (fixture["client"]?.bytes ?? [])
            let fast = check(body, name)
            if fast { taken += 1 }
            if fixture["upstream"] != nil {
                accepted += 1
                // `document` blocks are left to the mapping.
                if !name.hasPrefix("document") { XCTAssertTrue(fast, "\(name) did not take the fast path") }
            }
        }
        XCTAssertGreaterThanOrEqual(taken, accepted - 1)
        XCTAssertGreaterThan(accepted, 20)
    }

    /// Claude Code's captured requests take the fast path, with the `anthropic-beta` header they came with.
    func testClaudeCodeCapturesTakeTheFastPath() throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "claude-code", withExtension: nil, subdirectory: "Fixtures"))
        let files = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 4)
        for file in files {
            let capture = try AnthropicOpenAIFixtures.json(url.appendingPathComponent(file))
            let body = try XCTUnwrap(capture["body"], file).bytes
            XCTAssertTrue(check(body, file), "\(file) did not take the fast path")
            // As Claude Code writes it (JSON.stringify: compact, and `/` not escaped) and re-spelled.
            let text = body.utf8String
            XCTAssertFalse(check(Array(text.replacingOccurrences(of: "/", with: "\\/").utf8), file) && text.contains("/"))
        }
    }

    /// Shapes the fast path leaves to the mapping, valid or not: the result is still the mapping's.
    func testDeclinedShapesKeepTheMappingsResult() {
        let declined = [
            // Spelled differently by a tree round trip.
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"caf\u00e9"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a\/b"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"\u001F"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f","input_schema":{ "type":"object"}}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"a": 1}}]}]}"#,
            // Escaped keys and values it reads, repeated keys.
            #"{"m\u006fdel":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
            #"{"model":"m\n","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"us\u0065r","content":"x"}]}"#,
            #"{"model":"m","model":"n","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}"#,
            // Documents.
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"d"}}]}]}"#,
            // Errors.
            #"{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[]}"#,
            #"{"model":"","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"tool","content":"x"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"mcp_servers":[{}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"w"}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"ftp://x"}}]}]}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled"}}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]} x"#,
            #"[1]"#,
            "",
        ]
        for text in declined {
            XCTAssertFalse(check(Array(text.utf8), text), "taken: \(text)")
        }
    }

    /// Whitespace between the members it reads, members in any order: the same bytes out.
    func testLayoutAndOrderDoNotMatter() {
        let bodies = [
            " { \"messages\" : [ { \"content\" : [ { \"text\" : \"hi\" , \"type\" : \"text\" } ] , \"role\" : \"user\" } ] ,\n \"max_tokens\" : 7 , \"model\" : \"m\" , \"system\" : [ {\"text\":\"s1\",\"type\":\"text\"} , {\"type\":\"text\",\"text\":\"\"}, {\"type\":\"text\",\"text\":\"s2\"} ] } ",
            #"{"tools":[{"input_schema":{"type":"object"},"name":"f","cache_control":{"type":"ephemeral"}}],"tool_choice":{"name":"f","type":"tool","disable_parallel_tool_use":true},"messages":[{"content":[{"tool_use_id":"t1","content":[{"text":"a","type":"text"},{"type":"image","source":{"data":"QUJD","media_type":"image/png","type":"base64"}}],"type":"tool_result","is_error":true},{"type":"text","text":"next"}],"role":"user"}],"model":"m","max_tokens":3}"#,
        ]
        for text in bodies { XCTAssertTrue(check(Array(text.utf8), text)) }
    }

    /// A retry after a rejection (`UpstreamAdjustments`): the fast path leaves out and caps the same.
    func testAdjustmentsMatch() throws {
        let body = bytes(
            #"{"model":"claude-opus-5-5","max_tokens":128000,"temperature":0.7,"top_p":0.9,"thinking":{"type":"adaptive"},"metadata":{"user_id":"u"},"messages":[{"role":"user","content":"x"}]}"#
        )
        let cases: [UpstreamAdjustments] = [
            UpstreamAdjustments(dropped: ["reasoning_effort"]),
            UpstreamAdjustments(dropped: ["temperature", "top_p", "user"], maxTokensCap: 16384),
            UpstreamAdjustments(dropped: ["user", "reasoning_effort"], maxTokensCap: 200_000),
        ]
        for adjustments in cases {
            let fast = try XCTUnwrap(MessagesRequestFastPath.translate(body, options: options, adjustments: adjustments))
            let mapping = try MessagesRequestMapping(body, options: options, adjustments: adjustments)
            XCTAssertEqual(fast.request.body, mapping.body.bytes, "\(adjustments)")
            XCTAssertEqual(fast.removed, mapping.removed.list, "\(adjustments)")
            XCTAssertEqual(fast.sent, SentHints(body: mapping.body), "\(adjustments)")
        }
        // A name it does not know: the mapping's.
        XCTAssertNil(
            MessagesRequestFastPath.translate(
                body, options: options, adjustments: UpstreamAdjustments(dropped: ["stop"])))
    }

    /// Every prefix and every one-byte change of a request using most of the mapping: wherever the fast
    /// path answers, the mapping accepts and writes the same; and both agree on accept and refuse.
    func testMutatedBodiesAgree() {
        let sources = [
            #"{"model":"sonnet","max_tokens":64,"system":[{"type":"text","text":"S\n","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"Hi \"x\""},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}}]},{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"ok"},{"type":"tool_use","id":"t1","name":"f","input":{"a":[1,"\\"]}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r","is_error":true},{"type":"text","text":"go"}]}],"tools":[{"name":"f","description":"d","input_schema":{"type":"object"},"strict":true}],"tool_choice":{"type":"any"},"stop_sequences":["E"],"temperature":0.5,"thinking":{"type":"enabled","budget_tokens":5000},"metadata":{"user_id":"u1"},"stream":true}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"text","text":"x"},{"type":"image","source":{"type":"url","url":"https://i/p.png"}}]}]}],"output_config":{"effort":"max","format":{"type":"json_schema","schema":{"type":"object"}}}}"#,
        ]
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D, 0x30, 0x20, 0x6E, 0x74, 0x01, 0xC3, 0x2F]
        var answered = 0
        var variants = 0
        for text in sources {
            let body = Array(text.utf8)
            XCTAssertTrue(check(body, text))
            for v in prefixesAndByteChanges(body, replacements: replacements, includingWhole: true) {
                variants += 1
                if check(v, "variant of \(text.prefix(40))") { answered += 1 }
            }
        }
        XCTAssertGreaterThan(answered, variants / 10)
    }

    /// Random requests over what the mapping reads (`RandomMessages`): both paths agree on every one, and
    /// the fast path answers for most of those the mapping accepts.
    func testRandomRequestsAgree() {
        var generator = RandomMessages(seed: 0x5EED_1234)
        var accepted = 0
        var taken = 0
        for k in 0..<3000 {
            let body = generator.body()
            let viaMapping = Result { () throws(APIError) in
                try AnthropicToOpenAITranslator(options: options).generalUpstreamRequest(for: ClientRequest(body: body))
            }
            if case .success = viaMapping { accepted += 1 }
            if check(body, "random \(k)") { taken += 1 }
        }
        XCTAssertGreaterThan(accepted, 1000)
        XCTAssertGreaterThan(taken, accepted / 2, "taken \(taken) of \(accepted)")
        print("random requests: \(accepted) of 3000 accepted by the mapping, \(taken) took the fast path")
    }
}

/// Random Anthropic request bodies: system as a string or blocks; text, image (base64 and url),
/// tool_use, tool_result (string and blocks, is_error), thinking blocks; tools, tool_choice, stop
/// sequences, max_tokens, thinking, output_config, metadata, stream, unknown fields; members in random
/// order; now and then an invalid value, a block the mapping refuses, whitespace, or a string spelled
/// with other escapes.
struct RandomMessages {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    private mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 17
    }

    private mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    private mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    private mutating func pick<T>(_ list: [T]) -> T { list[below(list.count)] }

    private mutating func text() -> JSON {
        let pieces = ["", "hi", "a\nb", "q\"uote", "back\\slash", "tab\there", "é", "😀", "\u{1}", "\u{7f}", "/path/x",
            "line\r\n", "\u{2028}", "plain text "]
        var s = ""
        for _ in 0..<below(4) { s += pick(pieces) }
        return .string(s)
    }

    private mutating func object(_ depth: Int) -> JSON {
        var members: [(String, JSON)] = []
        for k in 0..<below(4) {
            let value: JSON
            switch below(depth > 2 ? 4 : 7) {
            case 0: value = text()
            case 1: value = .number(JSONNumber(pick(["0", "1.50", "-2e3", "42"])))
            case 2: value = .bool(chance(50))
            case 3: value = .null
            case 4, 5: value = object(depth + 1)
            default: value = .array([text(), object(depth + 1)])
            }
            members.append((pick(["type", "a", "path", "é", "q\"k", "properties"]) + (k > 1 ? "\(k)" : ""), value))
        }
        return .object(JSONObject(members))
    }

    private mutating func shuffled(_ members: [(String, JSON)]) -> JSON {
        var m = members
        if chance(40) {
            for i in stride(from: m.count - 1, to: 0, by: -1) { m.swapAt(i, below(i + 1)) }
        }
        return .object(JSONObject(m))
    }

    private mutating func extras(_ members: inout [(String, JSON)]) {
        if chance(20) { members.append(("cache_control", ["type": "ephemeral"])) }
        if chance(5) { members.append(("citations", [])) }
    }

    private mutating func image() -> JSON {
        var source: [(String, JSON)]
        switch below(10) {
        case 0..<6: source = [("type", "base64"), ("media_type", "image/png"), ("data", .string(pick(["iVBORw0K", "QUJD+/=", ""])))]
        case 6, 7: source = [("type", "url"), ("url", .string(pick(["https://x/y.png", "http://h/i", "https:/"])))]
        case 8: source = [("type", "url"), ("url", "ftp://x")]
        default: source = [("type", "file"), ("file_id", "f")]
        }
        if chance(5) { source.removeLast() }
        var block: [(String, JSON)] = [("type", "image"), ("source", shuffled(source))]
        extras(&block)
        return shuffled(block)
    }

    private mutating func textBlock() -> JSON {
        var block: [(String, JSON)] = [("type", "text"), ("text", text())]
        if chance(3) { block[1].1 = 5 }
        extras(&block)
        return shuffled(block)
    }

    private mutating func userBlock() -> JSON {
        switch below(12) {
        case 0..<4: return textBlock()
        case 4, 5: return image()
        case 6..<10:
            var block: [(String, JSON)] = [("type", "tool_result"), ("tool_use_id", .string(pick(["toolu_1", "t\"2"])))]
            switch below(5) {
            case 0: block.append(("content", text()))
            case 1: break
            case 2: block.append(("content", .null))
            default:
                var inner: [JSON] = []
                for _ in 0..<below(4) { inner.append(chance(60) ? textBlock() : image()) }
                if chance(3) { inner.append(["type": "document", "source": ["type": "text", "data": "d"]]) }
                block.append(("content", .array(inner)))
            }
            if chance(40) { block.append(("is_error", .bool(chance(50)))) }
            if chance(3) { block.append(("is_error", "yes")) }
            extras(&block)
            return shuffled(block)
        case 10: return ["type": "thinking", "thinking": text(), "signature": "sig"]
        default:
            return chance(50) ? ["type": "redacted_thinking", "data": "abc"] : ["type": pick(["server_tool_use", "search_result"])]
        }
    }

    private mutating func assistantBlock() -> JSON {
        switch below(6) {
        case 0, 1: return textBlock()
        case 2, 3:
            var block: [(String, JSON)] = [
                ("type", "tool_use"), ("id", .string(pick(["toolu_1", "t2"]))), ("name", "f"), ("input", object(0)),
            ]
            if chance(4) { block[3].1 = "not an object" }
            extras(&block)
            return shuffled(block)
        case 4: return ["type": "thinking", "thinking": text(), "signature": "sig"]
        default: return chance(80) ? ["type": "redacted_thinking", "data": "x"] : image()
        }
    }

    private mutating func message() -> JSON {
        let role = below(20) == 0 ? pick(["system", "tool"]) : pick(["user", "assistant"])
        let content: JSON
        if chance(25) {
            content = text()
        } else {
            var blocks: [JSON] = []
            for _ in 0..<below(5) {
                blocks.append(role == "assistant" ? assistantBlock() : role == "system" ? textBlock() : userBlock())
            }
            content = .array(blocks)
        }
        var members: [(String, JSON)] = [("role", .string(role)), ("content", content)]
        if chance(5) { members.append(("output_config", ["effort": "low"])) }
        if chance(2) { members.removeLast() }
        return shuffled(members)
    }

    private mutating func tool() -> JSON {
        var members: [(String, JSON)] = [("name", .string(pick(["Bash", "Read", "f\"n"]))), ("input_schema", object(0))]
        if chance(60) { members.append(("description", chance(90) ? text() : .null)) }
        if chance(20) { members.append(("strict", .bool(chance(50)))) }
        if chance(20) { members.append(("defer_loading", true)) }
        if chance(10) { members.append(("type", .string(pick(["custom", "tool_search_tool_regex_20251119", "web_search_20250305"])))) }
        if chance(3) { members.remove(at: 1) }
        extras(&members)
        return shuffled(members)
    }

    mutating func body() -> [UInt8] {
        var members: [(String, JSON)] = [
            ("model", .string(chance(95) ? pick(["gpt-5", "claude-opus-5-5", "sonnet", "claude-x[1m]"]) : "m\"q")),
            ("max_tokens", .number(JSONNumber(chance(90) ? pick(["64", "128000", "1"]) : pick(["0", "1.5", "99999999999999999999"])))),
        ]
        var messages: [JSON] = []
        for _ in 0..<(1 + below(5)) { messages.append(message()) }
        members.append(("messages", .array(messages)))
        switch below(4) {
        case 0: members.append(("system", text()))
        case 1:
            var blocks: [JSON] = []
            for _ in 0..<below(4) { blocks.append(chance(95) ? textBlock() : image()) }
            members.append(("system", .array(blocks)))
        case 2 where chance(20): members.append(("system", .null))
        default: break
        }
        if chance(50) {
            var tools: [JSON] = []
            for _ in 0..<below(4) { tools.append(tool()) }
            members.append(("tools", .array(tools)))
        }
        if chance(40) {
            var choice: [(String, JSON)] = [("type", .string(pick(["auto", "any", "tool", "none", "some"])))]
            if chance(70) { choice.append(("name", "Bash")) }
            if chance(40) { choice.append(("disable_parallel_tool_use", .bool(chance(50)))) }
            members.append(("tool_choice", shuffled(choice)))
        }
        if chance(30) { members.append(("stop_sequences", .array((0..<below(3)).map { _ in text() }))) }
        if chance(30) { members.append(("temperature", chance(90) ? .number(JSONNumber(pick(["0", "0.7", "1e-3"]))) : .null)) }
        if chance(20) { members.append(("top_p", .number(JSONNumber("0.9")))) }
        if chance(40) {
            switch below(4) {
            case 0: members.append(("thinking", ["type": "enabled", "budget_tokens": .number(JSONNumber(pick(["1000", "8000", "20000"])))]))
            case 1: members.append(("thinking", ["type": "adaptive", "display": "omitted"]))
            case 2: members.append(("thinking", ["type": "disabled"]))
            default: members.append(("thinking", ["type": "enabled"]))
            }
        }
        if chance(30) {
            var config: [(String, JSON)] = []
            if chance(70) { config.append(("effort", .string(pick(["low", "medium", "high", "max", "xx"])))) }
            if chance(20) { config.append(("format", ["type": "json_schema", "schema": object(0)])) }
            if chance(20) { config.append(("task_budget", 5)) }
            members.append(("output_config", shuffled(config)))
        }
        if chance(5) { members.append(("output_format", ["type": "json_schema", "schema": ["type": "object"]])) }
        if chance(40) {
            var metadata: [(String, JSON)] = [("user_id", .string(pick(["", "u-1", String(repeating: "x", count: 70), "é\"" ])))]
            if chance(20) { metadata.append(("other", 1)) }
            members.append(("metadata", shuffled(metadata)))
        }
        if chance(50) { members.append(("stream", chance(90) ? .bool(chance(50)) : .null)) }
        if chance(20) { members.append(("context_management", ["edits": [["type": "clear_thinking_20251015"]]])) }
        if chance(5) { members.append(("mcp_servers", [])) }
        let root = shuffled(members)
        var serialized = root.bytes.utf8String
        switch below(20) {
        case 0: serialized = serialized.replacingOccurrences(of: "/", with: "\\/")  // only in strings: still valid
        case 1: serialized = serialized.replacingOccurrences(of: "é", with: "\\u00e9")
        case 2:
            serialized = serialized.replacingOccurrences(of: ",\"", with: ", \"")
                .replacingOccurrences(of: "\":", with: "\" : ")
        default: break
        }
        return Array(serialized.utf8)
    }
}

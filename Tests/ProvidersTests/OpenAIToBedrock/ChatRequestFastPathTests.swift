import XCTest

@testable import Providers

/// `ChatRequestFastPath` must give byte-identical results to `ChatRequestMapping` whenever it answers,
/// answer for the common shapes, and never answer where the mapping throws.
final class ChatRequestFastPathTests: XCTestCase {
    let options = OpenAIBedrockFixtures.options

    /// Requests the fast path must take.
    let fastBodies = [
        #"{"model":"gpt-5","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":64,"temperature":0.2}"#,
        #"{"model":"sonnet","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"assistant","content":"c"},{"role":"user","content":""},{"role":"user","content":"d"}],"stream":true,"stream_options":{"include_usage":true,"x":1}}"#,
        #" { "model" : "m\u00e9" , "messages" : [ { "role" : "developer" , "content" : "s1\n\"q\" \/ \u00e9 \ud83d\ude00" } , {"role":"system","content":"s2"}, { "role" : "user" , "content" : "x\u0001y" , "name" : "bob" } ] , "max_completion_tokens" : 10 , "max_tokens" : "ignored" , "top_p" : 1e-1 , "top_k" : 5 , "seed" : 1 , "frequency_penalty" : null } "#,
        #"{"model":"evil","messages":[{"role":"assistant","content":"only assistant"}],"temperature":1,"stream":false,"model":"second"}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi","role":"tool"}],"temperature":0}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1.0000000000000000001,"top_p":0.5}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1e-1}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":"z","user":"u"}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"user":"bench-client-0001","temperature":0.2,"max_tokens":64}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":[ "a" , "\n\u00e9\"" ,"END"],"user":"\u00e9\/x","user":5}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":[],"stop":7}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":["only"]}"#,
    ]

    /// Requests the fast path leaves to the mapping (valid or not).
    let otherBodies = [
        #"{"model":"x","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"tools":[]}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"n":null}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"n":2}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":5}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":null}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":["a",1]}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":[null]}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":[["a"]]}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stop":{"a":"b"}}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"user":5}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"user":null}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"user":["u"]}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1.5}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":"1"}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1.01}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":-0.5}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1e400}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"max_tokens":0}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"max_tokens":1.0}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stream":1}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":1}}"#,
        #"{"model":"x","messages":[{"role":"user","content":"hi"}],"top_k":"5"}"#,
        #"{"model":"x","messages":[{"role":"system","content":"hi"}]}"#,
        #"{"model":"x","messages":[{"role":"user","content":""}]}"#,
        #"{"model":"x","messages":[{"role":"tool","content":"hi","tool_call_id":"t"}]}"#,
        #"{"model":"x","messages":[{"role":"assistant","content":"hi","tool_calls":[]}]}"#,
        #"{"model":"x","messages":[{"role":"wizard","content":"hi"}]}"#,
        #"{"model":"x","messages":[{"content":"hi"}]}"#,
        #"{"model":"x","messages":[{"role":"user","content":null}]}"#,
        #"{"model":"x","messages":["hi"]}"#,
        #"{"model":"x","messages":{}}"#,
        #"{"model":"","messages":[{"role":"user","content":"hi"}]}"#,
        #"{"model":"dots","messages":[{"role":"user","content":"hi"}]}"#,
        #"{"model":"..","messages":[{"role":"user","content":"hi"}]}"#,
        #"{"model":5,"messages":[{"role":"user","content":"hi"}]}"#,
        #"{"\u006dodel":"x","messages":[{"role":"user","content":"hi"}]}"#,
        #"{"messages":[{"role":"user","content":"hi"}]}"#,
        #"[{"model":"x"}]"#,
        #"{"model":"x","messages":[{"role":"user","content":"\ud800"}]}"#,
    ]

    func testFastPathMatchesTheMappingByteForByte() throws {
        for text in fastBodies {
            let body = Array(text.utf8)
            let fast = try XCTUnwrap(ChatRequestFastPath.map(body, options: options), "not taken: \(text)")
            try assertSame(fast, body)
        }
    }

    func testFastPathDeclinesOtherRequests() throws {
        for text in otherBodies {
            XCTAssertNil(ChatRequestFastPath.map(Array(text.utf8), options: options), text)
        }
    }

    /// Every prefix and every one-byte change of the bodies: wherever the fast path answers, the mapping
    /// accepts and says the same.
    func testFastPathNeverAnswersDifferently() throws {
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x7B, 0x7D, 0x5B, 0x5D, 0x30, 0x20, 0x6E, 0x01, 0xC3]
        for text in fastBodies + otherBodies {
            let body = Array(text.utf8)
            for variant in prefixesAndByteChanges(body, replacements: replacements) {
                if let fast = ChatRequestFastPath.map(variant, options: options) { try assertSame(fast, variant) }
            }
        }
    }

    /// The fixture requests (with their whitespace) through the fast path, where it takes them.
    func testFixtureRequests() throws {
        let (dir, names) = try OpenAIBedrockFixtures.names("request")
        var taken = 0
        for name in names {
            let file = try OpenAIBedrockFixtures.read(dir.appendingPathComponent(name + ".json"))
            let scan = try JSONObjectScanner.scan(file)
            guard let client = scan.first("client") else { continue }
            let body = Array(file[client.valueRange])
            if let fast = ChatRequestFastPath.map(body, options: options) {
                taken += 1
                try assertSame(fast, body)
            }
        }
        XCTAssertGreaterThan(taken, 0)
    }

    func testTemperatureRuleMatchesDouble() {
        let literals = [
            "0", "1", "0.0", "1.0", "1.000", "0.2", "0.999999999999999999999", "1.0000000000000000001", "1.5", "10",
            "2", "-0", "-0.0", "-1", "1e0", "1E-1", "0.5e1", "0e5", "1.01", "01", "9", "1e-400", "1e400",
        ]
        for literal in literals {
            let bytes = Array(literal.utf8)
            let expected = Double(literal).map { $0 >= 0 && $0 <= 1 } ?? false
            XCTAssertEqual(bytes.withUnsafeBytes { ChatRequestFastPath.isUnitInterval($0) }, expected, literal)
        }
    }

    func testPathTemplateMatchesBedrockModelID() {
        let templates = [
            "/model/{model}/{action}", "{model}{action}{model}", "/{mode}/{actio}/{model", "{{model}}", "", "{",
            "/x/{action}", "é/{model}/ü",
        ]
        for template in templates {
            for model in ["claude-3-7-sonnet-20250219", "a/b c", "sonnet"] {
                for stream in [false, true] {
                    let segment = BedrockModelID.resolve(model, aliases: options.modelAliases)
                    XCTAssertEqual(
                        ChatRequestFastPath.fillPath(template, segment: segment, stream: stream),
                        BedrockModelID.path(template: template, model: model, aliases: options.modelAliases, stream: stream),
                        "\(template) \(model)")
                }
            }
        }
    }

    /// The model's path on bytes (names without an alias) and through `String` (aliased names) against the
    /// mapping: every kind of name, with the fixtures' aliases and with none, stream and not. Where the
    /// mapping refuses the resolved id (only dots), the fast path must decline.
    func testModelPathMatchesTheMappingForEveryKindOfName() throws {
        let names = [
            "claude-3-7-sonnet-20250219", "claude-v2", "claude-v2.1", "claude-instant-v1", "claude", "claude-",
            "claude-x-v", "claude-3-haiku-v12", "anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0", "global.x", "a-b.c", ".x", "x.", "arn:aws:bedrock:us-east-1:1:x/y",
            "gpt-5", "a/b c", "50%", "q?x#y", "~_-.:", "sonnet", "evil", "dots", ".", "..", "...", "....", "claudé-3",
            "m\\u00e9", "x\\u002ey", "\\u002e", "\\u002e\\u002e",
        ]
        let none = TranslationOptions(upstreamPath: options.upstreamPath, defaultMaxTokens: 4096, modelAliases: [:])
        let aliased = TranslationOptions(
            upstreamPath: "/m/{model}:{action}/{model}", defaultMaxTokens: 4096,
            modelAliases: options.modelAliases.merging(["empty": "", "dot": ".", "many": "...", "ok": "a b"]) { a, _ in a })
        var taken = 0
        var declined = 0
        for opts in [options, none, aliased] {
            for name in names + ["empty", "dot", "many", "ok"] {
                for stream in [false, true] {
                    let text = #"{"model":"\#(name)","messages":[{"role":"user","content":"hi"}],"stream":\#(stream)}"#
                    let body = Array(text.utf8)
                    let mapped = try? ChatRequestMapping(body, options: opts)
                    guard let fast = ChatRequestFastPath.map(body, options: opts) else {
                        XCTAssertNil(mapped, "declined a request the mapping takes: \(text)")
                        declined += 1
                        continue
                    }
                    taken += 1
                    let slow = try XCTUnwrap(mapped, "fast path took a request the mapping refuses: \(text)")
                    XCTAssertEqual(fast.path, slow.path, text)
                    XCTAssertEqual(fast.body, slow.body.bytes, text)
                }
            }
        }
        // Most names are taken; the dotted ones (and aliases to dots or nothing) are declined.
        XCTAssertGreaterThan(taken, 150)
        XCTAssertGreaterThan(declined, 20)
    }

    private func assertSame(_ fast: ChatRequestFastPath, _ body: [UInt8], line: UInt = #line) throws {
        let text = String(decoding: body, as: UTF8.self)
        let slow: ChatRequestMapping
        do {
            slow = try ChatRequestMapping(body, options: options)
        } catch {
            XCTFail("fast path took a request the mapping refuses (\(error.message)): \(text)", line: line)
            return
        }
        XCTAssertEqual(String(decoding: fast.body, as: UTF8.self), String(decoding: slow.body.bytes, as: UTF8.self), text, line: line)
        XCTAssertEqual(fast.model, slow.model, text, line: line)
        XCTAssertEqual(fast.stream, slow.stream, text, line: line)
        XCTAssertEqual(fast.includeUsage, slow.includeUsage, text, line: line)
        XCTAssertEqual(fast.path, slow.path, text, line: line)
    }
}

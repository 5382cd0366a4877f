import Foundation
import XCTest

@testable import Providers

/// `ResponsesRequestFastPath` must give the same result as `ResponsesRequestMapping` (body bytes, path,
/// stream, `removed`, and the whole `ResponseContext` with its echo) whenever it answers, answer for the
/// shapes agents send (Codex's requests above all), and never answer where the mapping refuses: then the
/// translator runs the mapping, so the client gets the mapping's 400.
final class ResponsesRequestFastPathTests: XCTestCase {
    let options = ResponsesBedrockFixtures.options
    let created = ResponsesBedrockFixtures.created

    /// Asserts the fast path's answer equals the mapping's; the mapping must accept the body.
    func assertSame(
        _ fast: (mapping: ResponsesRequestMapping, model: Range<Int>), _ body: [UInt8], _ context: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let mapping: ResponsesRequestMapping
        do {
            mapping = try ResponsesRequestMapping(body, options: options, createdAt: created)
        } catch {
            XCTFail("\(context): fast path answered, the mapping refused: \(error.message)", file: file, line: line)
            return
        }
        let f = fast.mapping
        if f.body != mapping.body {
            XCTFail(
                "\(context): body\nfast:    \(f.body.utf8String.prefix(3000))\nmapping: \(mapping.body.utf8String.prefix(3000))",
                file: file, line: line)
        }
        XCTAssertEqual(f.path, mapping.path, context, file: file, line: line)
        XCTAssertEqual(f.stream, mapping.stream, context, file: file, line: line)
        XCTAssertEqual(f.removed, mapping.removed, context, file: file, line: line)
        XCTAssertEqual(f.context.model, mapping.context.model, context, file: file, line: line)
        XCTAssertEqual(f.context.createdAt, mapping.context.createdAt, context, file: file, line: line)
        XCTAssertEqual(
            f.context.includeEncryptedReasoning, mapping.context.includeEncryptedReasoning, context, file: file,
            line: line)
        XCTAssertEqual(f.context.toolNames, mapping.context.toolNames, context, file: file, line: line)
        XCTAssertEqual(f.context.outputTool, mapping.context.outputTool, context, file: file, line: line)
        if f.context.echo != mapping.context.echo {
            XCTFail(
                "\(context): echo\nfast:    \(f.context.echo.utf8String.prefix(2000))\nmapping: \(mapping.context.echo.utf8String.prefix(2000))",
                file: file, line: line)
        }
        XCTAssertEqual(fast.model, UpstreamRequest.modelValueRange(in: body), context, file: file, line: line)
    }

    /// Runs `body` through both; true when the fast path answered.
    @discardableResult
    func compare(_ body: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        guard let fast = ResponsesRequestFastPath.map(body, options: options, createdAt: created) else { return false }
        assertSame(fast, body, context, file: file, line: line)
        return true
    }

    // MARK: Fixtures

    /// Every request fixture (pretty-printed as stored, and compacted): where the mapping refuses, the
    /// fast path declines; where it answers, it answers the same. Most accepted fixtures take it.
    func testEveryRequestFixture() throws {
        let (directory, names) = try ResponsesBedrockFixtures.names("request")
        var accepted = 0
        var taken = 0
        for name in names {
            let fixture = try ResponsesBedrockFixtures.json(directory.appendingPathComponent(name + ".json"))
            let file = try ResponsesBedrockFixtures.read(directory.appendingPathComponent(name + ".json"))
            var bodies: [[UInt8]] = []
            if let text = fixture["clientText"]?.stringValue {
                bodies.append(Array(text.utf8))
            } else {
                let scan = try JSONObjectScanner.scan(file)
                let client = try XCTUnwrap(scan.members.first { $0.key == "client" }, name)
                bodies.append(Array(file[client.valueRange]))
                bodies.append(try XCTUnwrap(fixture["client"]).bytes)
            }
            for body in bodies {
                let ok = (try? ResponsesRequestMapping(body, options: options, createdAt: created)) != nil
                if ok { accepted += 1 }
                if compare(body, name) { taken += 1 }
            }
        }
        XCTAssertGreaterThanOrEqual(taken, accepted * 3 / 4, "taken \(taken) of \(accepted)")
    }

    /// The captured Codex CLI requests (tests/e2e fixtures) all take the fast path.
    func testCodexRequestsTakeTheFastPath() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("tests/e2e/fixtures/codex")
        var taken = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        where name.hasSuffix(".json") {
            let file = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
            let scan = try JSONObjectScanner.scan(file)
            guard let member = scan.members.first(where: { $0.key == "body" }), member.kind == .object else { continue }
            let body = Array(file[member.valueRange])
            guard (try? JSONParser.parse(body))?["input"] != nil else { continue }
            XCTAssertTrue(compare(body, name), "\(name) did not take the fast path")
            XCTAssertTrue(
                compare(try JSONParser.parse(body).bytes, name), "\(name) (compact) did not take the fast path")
            taken += 1
        }
        XCTAssertGreaterThanOrEqual(taken, 3)
    }

    /// The translator counts which path it took.
    func testTranslatorReportsTheFastPath() throws {
        let translator = ResponsesBedrockFixtures.translator()
        _ = try translator.upstreamRequest(for: ClientRequest(body: bytes(#"{"model":"m","input":"hi"}"#)))
        XCTAssertTrue(translator.tookFastPath)
        _ = try translator.upstreamRequest(
            for: ClientRequest(
                body: bytes(
                    #"{"model":"m","input":[{"type":"additional_tools","tools":[]},{"role":"user","content":"x"}]}"#)))
        XCTAssertFalse(translator.tookFastPath)
        XCTAssertThrowsError(
            try translator.upstreamRequest(for: ClientRequest(body: bytes(#"{"model":"m","input":"hi","store":true}"#)))
        )
        XCTAssertFalse(translator.tookFastPath)
    }

    /// Hand-written shapes: each taken, and the same as the mapping.
    func testShapesTaken() {
        let bodies = [
            #"{"model":"m","input":"hi"}"#,
            #" { "model" : "m\u00e9" , "input" : [ { "role" : "user" , "content" : "a\/b \u00e9 \ud83d\ude00 \u0001 \u000A" } ] } "#,
            #"{"input":[{"content":[{"type":"input_text","text":"x"}],"role":"user"}],"model":"m"}"#,
            #"{"model":"m","input":[{"role":"user","content":"x","type":"message"}]}"#,
            #"{"model":"m","input":[{"output":"o","call_id":"c","type":"function_call_output"},{"role":"user","content":"u"},{"type":"function_call_output","call_id":"d","output":[{"type":"input_text","text":"t"}]}]}"#,
            #"{"model":"m","input":[{"type":"function_call_output","call_id":"d","output":[]},{"type":"function_call_output","call_id":"e","output":""}]}"#,
            #"{"model":"m","instructions":"","input":[{"role":"developer","content":[{"type":"input_text","text":"d","prompt_cache_breakpoint":{}}]},{"role":"user","content":"x"}]}"#,
            #"{"model":"m","input":[{"role":"assistant","content":[{"type":"refusal","refusal":"no"},{"type":"output_text","text":""}]},{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}"#,
            #"{"model":"m","input":[{"type":"function_call","name":"f","arguments":" ","call_id":"c","namespace":null},{"type":"custom_tool_call","name":"g","input":"*** Begin","call_id":"d","namespace":"ns"}]}"#,
            #"{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{ \"a\" : [1, 2.50, {\"b\":\"\\u00e9\"}] }","call_id":"c"}]}"#,
            #"{"model":"m","input":"x","tools":[{"type":"custom","name":"apply_patch","description":"d","format":{"type":"grammar","syntax":"lark","definition":"start: x"}},{"type":"custom","name":"c2","format":{"type":"text"}}],"tool_choice":{"type":"custom","name":"c2"}}"#,
            #"{"model":"m","input":"x","tools":[{"type":"namespace","name":"ns","description":"N","tools":[{"type":"function","name":"a","description":"A"},{"type":"custom","name":"b"}]},{"type":"web_search"}],"tool_choice":{"type":"function","name":"a"},"parallel_tool_calls":false}"#,
            #"{"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":{ "type" : "object" }}],"text":{"format":{"type":"json_schema","name":"out","schema":{"type":"object","properties":{}},"description":"more"}},"tool_choice":"none"}"#,
            #"{"model":"m","input":"x","text":{"format":{"type":"json_object"},"verbosity":"low"},"reasoning":{"effort":"low","summary":"auto"},"temperature":0.5,"top_p":0.9,"max_output_tokens":100}"#,
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"data:application/pdf;base64,AA==","filename":"a.pdf"},{"type":"input_file","file_url":"https:\/\/x\/a.pdf","filename":5,"prompt_cache_breakpoint":true}]}]}"#,
            #"{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_file","file_data":"data:application\/pdf;base64,AA=="}]}]}"#,
            #"{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"custom","name":"g"},{"type":"namespace","name":"ns","tools":[{"type":"function","name":"h"}]}],"text":{"format":{"type":"json_object"}},"tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"custom","name":"g"},{"type":"mcp"},{"type":"function","name":"h"}]},"parallel_tool_calls":false}"#,
            #"{"model":"m","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","tools":[]}}"#,
            #"{"model":"m","input":"x","tool_choice":{"type":"web_search_preview"},"tools":[{"type":"function","name":"f"}],"include":["a","reasoning.encrypted_content"],"metadata":{"k":"v"},"truncation":"auto","store":false,"background":false,"top_logprobs":0,"previous_response_id":null}"#,
        ]
        for text in bodies {
            XCTAssertTrue(compare(bytes(text), text), "not taken: \(text)")
        }
    }

    /// Shapes the fast path leaves to the mapping (valid or not).
    func testShapesDeclined() {
        let bodies = [
            #"{"model":"m","input":"x","store":true}"#,
            #"{"model":"m","input":"x","previous_response_id":"resp_1"}"#,
            #"{"model":"m","input":"x","conversation":"c"}"#,
            #"{"model":"m","input":"x","background":true}"#,
            #"{"model":"m","input":"x","top_logprobs":2}"#,
            #"{"model":"m","input":""}"#,
            #"{"model":"","input":"x"}"#,
            #"{"model":"dots","input":"x"}"#,
            #"{"model":"m"}"#,
            #"{"model":"m","input":null}"#,
            #"{"\u006dodel":"m","input":"x"}"#,
            #"{"model":"m","input":[{"type":"item_reference","id":"x"}]}"#,
            #"{"model":"m","input":[{"type":"input_file"}]}"#,
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}"#,
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"data:image/png;base64,AA=="}]}]}"#,
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_url":"http://x/a.pdf"}]}]}"#,
            #"{"model":"m","input":[{"role":"assistant","content":[{"type":"input_file","file_url":"https://x/a.pdf"}]}]}"#,
            #"{"model":"m","input":[{"role":"wizard","content":"x"}]}"#,
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:;base64,AA=="}]}]}"#,
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"http://x"}]}]}"#,
            #"{"model":"m","input":[{"type":"function_call","name":"f","arguments":"[1]","call_id":"c"}]}"#,
            #"{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"function","name":"f"}]}"#,
            #"{"model":"m","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","mode":"none","tools":[]}}"#,
            #"{"model":"m","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","tools":[{"type":"function","name":"g"}]}}"#,
            #"{"model":"m","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools"}}"#,
            #"{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"o","schema":{"type":"array"}}}}"#,
            #"{"model":"m","input":"x","temperature":1.5}"#,
            #"{"model":"m","input":"x","reasoning":{"effort":"max"}}"#,
            #"{"model":"m","input":"x"} x"#,
        ]
        for text in bodies {
            XCTAssertNil(ResponsesRequestFastPath.map(bytes(text), options: options, createdAt: created), text)
            // The translator then answers as the mapping does: the same request, or the same 400.
            let translator = ResponsesBedrockFixtures.translator()
            do {
                let mapping = try ResponsesRequestMapping(bytes(text), options: options, createdAt: created)
                XCTAssertEqual(try translator.upstreamRequest(for: ClientRequest(body: bytes(text))).body, mapping.body)
            } catch {
                XCTAssertThrowsError(try translator.upstreamRequest(for: ClientRequest(body: bytes(text))), text) {
                    let thrown = $0 as? APIError
                    XCTAssertEqual(thrown?.status, error.status, text)
                    XCTAssertEqual(thrown?.message, error.message, text)
                    XCTAssertEqual(thrown?.code, error.code, text)
                    XCTAssertEqual(thrown.map { $0.body(for: .openAIResponses) }, error.body(for: .openAIResponses))
                }
            }
            XCTAssertFalse(translator.tookFastPath, text)
        }
    }

    // MARK: Generated requests

    /// Random Responses bodies over every item kind, tool kind and top-level field, in random member
    /// orders, spacing and escape styles: where the fast path answers it agrees with the mapping, and it
    /// answers for most of the bodies the mapping accepts.
    func testGeneratedRequests() {
        var generator = ResponsesBodyGenerator(seed: 0x5EED_13)
        var accepted = 0
        var taken = 0
        for k in 0..<3000 {
            let body = generator.body()
            let ok = (try? ResponsesRequestMapping(body, options: options, createdAt: created)) != nil
            if ok { accepted += 1 }
            if compare(body, "generated #\(k): \(body.utf8String.prefix(4000))") { taken += 1 }
        }
        XCTAssertGreaterThan(accepted, 1500)
        XCTAssertGreaterThanOrEqual(taken, accepted * 2 / 3, "taken \(taken) of \(accepted)")
        print("generated: \(accepted) of 3000 accepted by the mapping, \(taken) taken by the fast path")
    }

    /// Every prefix and many one-byte changes of generated bodies the fast path takes: wherever the fast
    /// path answers, the mapping accepts and says the same (so both agree on accept and refuse).
    func testMutatedRequests() {
        var generator = ResponsesBodyGenerator(seed: 0xB17E5)
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x7B, 0x7D, 0x5B, 0x5D, 0x30, 0x20, 0x6E, 0x01, 0xC3, 0x3A]
        var bodies: [[UInt8]] = []
        while bodies.count < 16 {
            let body = generator.body(small: true)
            if body.count < 700, ResponsesRequestFastPath.map(body, options: options, createdAt: created) != nil {
                bodies.append(body)
            }
        }
        var agreed = 0
        for body in bodies {
            for variant in prefixesAndByteChanges(body, replacements: replacements) {
                if compare(variant, "mutated: \(variant.utf8String)") { agreed += 1 }
            }
        }
        XCTAssertGreaterThan(agreed, bodies.count)
    }

    /// Claude's thinking block (from `encrypted_content`) reaches the upstream as the exact bytes.
    func testEncryptedReasoningGoesBackByteExact() throws {
        let block = #"{"type": "thinking", "thinking": "a\u00e9 \"b\"", "signature": "EqQB/+=="}"#
        var encoded: [UInt8] = []
        Array(block.utf8).withUnsafeBytes { ReasoningBlockCodec.encode($0, into: &encoded) }
        let body =
            #"{"model":"m","reasoning":{"effort":"low"},"input":[{"role":"user","content":"q"},{"type":"reasoning","summary":[],"encrypted_content":""#
            + encoded.utf8String
            + #""},{"type":"function_call","name":"f","arguments":"{}","call_id":"c"}]}"#
        let fast = try XCTUnwrap(ResponsesRequestFastPath.map(bytes(body), options: options, createdAt: created))
        XCTAssertTrue(fast.mapping.body.utf8String.contains(#"{"role":"assistant","content":["# + block + ",{"))
        assertSame(fast, bytes(body), "reasoning")
    }
}

import CCompression
import Foundation
import XCTest
@testable import Providers
@testable import UVProxy
@testable import MockGateway

/// The mock upstream's OpenAI Responses API (MockResponses.swift): the event sequence and its sequence
/// numbers, the function-call and tool-result steering Codex is driven with, reasoning items, faults,
/// and over loopback a compressed body, a WebSocket attempt and the refusals.
final class MockResponsesTests: XCTestCase {
    private func json(_ text: String) throws -> JSON { try JSONParser.parse(Array(text.utf8)) }

    private func options(_ model: String = "gpt-5") -> MockOptions {
        var o = MockOptions()
        _ = o.parseModel(model)
        return o
    }

    /// (type, parsed data) of each event; checks that `event:` names the data's type and that sequence
    /// numbers count up from 0.
    private func parsed(_ events: [(type: String, json: String)], file: StaticString = #filePath, line: UInt = #line) throws -> [(String, JSON)] {
        var out: [(String, JSON)] = []
        for (i, e) in events.enumerated() {
            let data = try json(e.json)
            XCTAssertEqual(data["type"]?.stringValue, e.type, "event: and data.type differ at \(i)", file: file, line: line)
            XCTAssertEqual(data["sequence_number"]?.intValue, i, "sequence_number at \(i)", file: file, line: line)
            out.append((e.type, data))
        }
        return out
    }

    /// Codex's own request shape: a developer message, the environment context and the prompt.
    private func codexInput(_ prompt: String, extra: String = "") -> String {
        #"{"model":"gpt-5","instructions":"You are Codex.","input":[{"type":"message","role":"developer","content":[{"type":"input_text","text":"<permissions/>"}]},{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context/>"}]},{"type":"message","role":"user","content":[{"type":"input_text","text":\#(MockBodies.jsonString(prompt))}]}\#(extra)],"tools":[{"type":"function","name":"exec_command","parameters":{"type":"object"}}],"tool_choice":"auto","parallel_tool_calls":false,"reasoning":{"summary":"auto"},"store":false,"stream":true,"include":["reasoning.encrypted_content"],"prompt_cache_key":"k"}"#
    }

    func testTextStreamOrderSequenceNumbersAndUsage() throws {
        let o = options("gpt-5+chunks=3")
        let answer = MockResponses.answer(for: try json(codexInput("say hi")), options: o, stream: true)
        XCTAssertFalse(answer.reasoning, #"Codex's default `reasoning: {"summary":"auto"}` has no effort"#)
        let events = try parsed(MockResponses.events(model: "gpt-5", answer: answer))
        XCTAssertEqual(events.map(\.0), [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
        ])
        XCTAssertEqual(events[0].1["response"]?["status"]?.stringValue, "in_progress")
        XCTAssertEqual(events[0].1["response"]?["model"]?.stringValue, "gpt-5")
        XCTAssertEqual(events[2].1["item"]?["type"]?.stringValue, "message")
        XCTAssertEqual(events[2].1["item"]?["content"]?.arrayValue?.count, 0)
        let deltas = events.filter { $0.0 == "response.output_text.delta" }.compactMap { $0.1["delta"]?.stringValue }
        XCTAssertEqual(deltas.joined(), "tok0 tok1 tok2 ")
        for (_, e) in events.dropFirst(3).prefix(6) {
            XCTAssertEqual(e["item_id"]?.stringValue, "msg_mock_1")
            XCTAssertEqual(e["output_index"]?.intValue, 0)
            XCTAssertEqual(e["content_index"]?.intValue, 0)
        }
        XCTAssertEqual(events[7].1["text"]?.stringValue, "tok0 tok1 tok2 ")
        XCTAssertEqual(events[9].1["item"]?["content"]?.arrayValue?.first?["text"]?.stringValue, "tok0 tok1 tok2 ")
        let completed = try XCTUnwrap(events.last?.1["response"])
        XCTAssertEqual(completed["status"]?.stringValue, "completed")
        XCTAssertEqual(completed["output"]?.arrayValue?.count, 1)
        let usage = try XCTUnwrap(completed["usage"])
        XCTAssertEqual(usage["input_tokens"]?.intValue, 12)
        XCTAssertGreaterThan(usage["output_tokens"]?.intValue ?? 0, 0)
        XCTAssertEqual(usage["output_tokens_details"]?["reasoning_tokens"]?.intValue, 0)
        XCTAssertEqual(usage["total_tokens"]?.intValue, 12 + (usage["output_tokens"]?.intValue ?? 0))

        // Frames: `event: <type>` then `data: <json>`, a blank line after each.
        let frames = MockResponses.frames(model: "gpt-5", answer: answer)
        XCTAssertEqual(frames.count, events.count)
        let first = String(decoding: frames[0], as: UTF8.self)
        XCTAssertTrue(first.hasPrefix("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,"), first)
        XCTAssertTrue(first.hasSuffix("}\n\n"), first)
    }

    func testFunctionCallFromDirectives() throws {
        let prompt = "Run the tool.\nmock:tool=exec_command\nmock:input={\"cmd\":\"echo mock-tool-ok-$((6*7))\"}"
        let answer = MockResponses.answer(for: try json(codexInput(prompt)), options: options(), stream: true)
        XCTAssertEqual(answer.calls, [MockResponses.Call(callID: "call_mock_d1", name: "exec_command", arguments: #"{"cmd":"echo mock-tool-ok-$((6*7))"}"#)])
        XCTAssertNil(answer.text, "a steered call has no message item")
        let events = try parsed(MockResponses.events(model: "gpt-5", answer: answer))
        let types = events.map(\.0)
        XCTAssertEqual(types.first(where: { $0 != "response.created" && $0 != "response.in_progress" }), "response.output_item.added")
        XCTAssertEqual(Array(types.suffix(3)), ["response.function_call_arguments.done", "response.output_item.done", "response.completed"])
        XCTAssertFalse(types.contains("response.output_text.delta"))
        let added = try XCTUnwrap(events.first { $0.0 == "response.output_item.added" }?.1["item"])
        XCTAssertEqual(added["type"]?.stringValue, "function_call")
        XCTAssertEqual(added["arguments"]?.stringValue, "")
        let streamed = events.filter { $0.0 == "response.function_call_arguments.delta" }.compactMap { $0.1["delta"]?.stringValue }.joined()
        XCTAssertEqual(streamed, #"{"cmd":"echo mock-tool-ok-$((6*7))"}"#)
        let output = try XCTUnwrap(events.last?.1["response"]?["output"]?.arrayValue)
        XCTAssertEqual(output.count, 1)
        XCTAssertEqual(output[0]["type"]?.stringValue, "function_call")
        XCTAssertEqual(output[0]["call_id"]?.stringValue, "call_mock_d1")
        XCTAssertEqual(output[0]["name"]?.stringValue, "exec_command")
        XCTAssertEqual(output[0]["status"]?.stringValue, "completed")
        // Arguments are the directive's JSON as a string.
        let arguments = try json(try XCTUnwrap(output[0]["arguments"]?.stringValue))
        XCTAssertEqual(arguments["cmd"]?.stringValue, "echo mock-tool-ok-$((6*7))")
        // A mock:input that is not a JSON object leaves `{}`.
        XCTAssertEqual(MockResponses.directive("mock:tool=x\nmock:input=[1]")?.arguments, "{}")
        XCTAssertNil(MockResponses.directive("mock:tool=\nmock:input={}"))
    }

    func testFunctionCallOutputIsAnsweredWithItsText() throws {
        let call = #",{"type":"function_call","name":"exec_command","arguments":"{}","call_id":"call_mock_d1"}"#
        let long = String(repeating: "x", count: 400)
        let result = #",{"type":"function_call_output","call_id":"call_mock_d1","output":"Process exited with code 0\nOutput:\nmock-tool-ok-42\n\#(long)"}"#
        let answer = MockResponses.answer(for: try json(codexInput("mock:tool=exec_command", extra: call + result)), options: options(), stream: true)
        XCTAssertTrue(answer.calls.isEmpty, "a tool result is not answered with another call")
        let text = try XCTUnwrap(answer.text)
        XCTAssertTrue(text.hasPrefix("tool result: Process exited with code 0\nOutput:\nmock-tool-ok-42\n"), text)
        XCTAssertEqual(text.count, "tool result: ".count + 300, "the first 300 characters of the output")
        XCTAssertEqual(answer.deltas?.allSatisfy { $0.count <= 24 }, true)
        // Output as content parts; and a user turn after the output starts over.
        let parts = #",{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"from parts"}]}"#
        XCTAssertEqual(MockResponses.answer(for: try json(codexInput("go", extra: parts)), options: options(), stream: false).text,
                       "tool result: from parts")
        let later = parts + #",{"type":"message","role":"user","content":[{"type":"input_text","text":"mock:tool=again"}]}"#
        XCTAssertEqual(MockResponses.answer(for: try json(codexInput("go", extra: later)), options: options(), stream: false).calls.map(\.name),
                       ["again"])
    }

    func testReasoningItem() throws {
        let base = #"{"model":"gpt-5","input":"hi","stream":true"#
        let withEffort = MockResponses.answer(for: try json(base + #","reasoning":{"effort":"high","summary":"auto"},"include":["reasoning.encrypted_content"]}"#), options: options(), stream: true)
        XCTAssertTrue(withEffort.reasoning)
        XCTAssertTrue(withEffort.encryptedContent)
        let events = try parsed(MockResponses.events(model: "gpt-5", answer: withEffort))
        XCTAssertEqual(events[2].0, "response.output_item.added")
        XCTAssertEqual(events[2].1["item"]?["type"]?.stringValue, "reasoning")
        XCTAssertNil(events[2].1["item"]?["encrypted_content"])
        let done = try XCTUnwrap(events.first { $0.0 == "response.output_item.done" }?.1["item"])
        XCTAssertEqual(done["encrypted_content"]?.stringValue, MockResponses.encryptedReasoning)
        XCTAssertEqual(done["summary"]?.arrayValue?.first?["text"]?.stringValue, MockResponses.reasoningSummary)
        XCTAssertTrue(events.contains { $0.0 == "response.reasoning_summary_text.delta" })
        let completed = try XCTUnwrap(events.last?.1["response"])
        XCTAssertEqual(completed["output"]?.arrayValue?.map { $0["type"]?.stringValue ?? "" }, ["reasoning", "message"])
        XCTAssertEqual(completed["output"]?.arrayValue?.last?["type"]?.stringValue, "message")
        XCTAssertEqual(events.first { $0.0 == "response.output_text.delta" }?.1["output_index"]?.intValue, 1)
        XCTAssertEqual(completed["usage"]?["output_tokens_details"]?["reasoning_tokens"]?.intValue, 8)

        let noInclude = MockResponses.answer(for: try json(base + #","reasoning":{"effort":"low"}}"#), options: options(), stream: true)
        XCTAssertTrue(noInclude.reasoning)
        XCTAssertFalse(noInclude.encryptedContent)
        XCTAssertFalse(MockResponses.frames(model: "m", answer: noInclude).contains { String(decoding: $0, as: UTF8.self).contains("encrypted_content") })
        XCTAssertFalse(MockResponses.answer(for: try json(base + #","reasoning":{"effort":"none"}}"#), options: options(), stream: true).reasoning)
        XCTAssertTrue(MockResponses.answer(for: try json(base + "}"), options: options("gpt-5+thinking"), stream: true).reasoning)
    }

    func testNonStreamObjectAndScenarios() throws {
        let answer = MockResponses.answer(for: try json(#"{"model":"gpt-5","input":"hi"}"#), options: options(), stream: false)
        let body = try JSONParser.parse(MockResponses.body(model: "gpt-5", answer: answer))
        XCTAssertEqual(body["object"]?.stringValue, "response")
        XCTAssertEqual(body["status"]?.stringValue, "completed")
        XCTAssertEqual(body["model"]?.stringValue, "gpt-5")
        XCTAssertEqual(body["output"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"]?.stringValue, MockBodies.reply)
        XCTAssertNotNil(body["usage"]?["output_tokens"]?.intValue)

        let tools = MockResponses.answer(for: try json(#"{"model":"gpt-5","input":"hi","stream":true}"#), options: options("gpt-5+parallel-tools+chunks=1"), stream: true)
        XCTAssertEqual(tools.calls.map(\.name), ["get_weather", "get_time"])
        let events = try parsed(MockResponses.events(model: "gpt-5", answer: tools))
        let output = try XCTUnwrap(events.last?.1["response"]?["output"]?.arrayValue)
        XCTAssertEqual(output.map { $0["type"]?.stringValue ?? "" }, ["message", "function_call", "function_call"])
        XCTAssertEqual(Set(output.dropFirst().compactMap { $0["call_id"]?.stringValue }).count, 2, "call ids are distinct")
        XCTAssertEqual(events.filter { $0.0 == "response.output_item.added" }.compactMap { $0.1["output_index"]?.intValue }, [0, 1, 2])
    }

    func testMidStreamFailure() throws {
        let answer = MockResponses.answer(for: try json(#"{"model":"gpt-5","input":"hi","stream":true}"#), options: options(), stream: true)
        let events = try parsed(MockResponses.events(model: "gpt-5", answer: answer, failAt: 3))
        XCTAssertEqual(events.map(\.0), ["response.created", "response.in_progress", "response.output_item.added", "response.failed"])
        XCTAssertEqual(events[3].1["response"]?["status"]?.stringValue, "failed")
        XCTAssertEqual(events[3].1["response"]?["error"]?["code"]?.stringValue, "server_error")
    }

    // MARK: over loopback

    private static func zstd(_ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = input.withUnsafeBytes { i in out.withUnsafeMutableBytes { o in ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, 3) } }
        return Array(out[0..<n])
    }

    private func post(_ c: RawHTTPClient, _ body: [UInt8], headers: [String: String] = [:]) -> RawHTTPClient.Response? {
        var head = "POST /v1/openai/v1/responses HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        c.send(Array((head + "\r\n").utf8) + body)
        return c.readResponse()
    }

    /// (event, data) pairs of an SSE body.
    private func sse(_ body: [UInt8]) -> [(String, String)] {
        String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n").compactMap { block in
            var event: String?
            var data: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            guard let event, let data else { return nil }
            return (event, data)
        }
    }

    func testOverLoopback() throws {
        let mock = try MockServer(host: "127.0.0.1", port: 0)
        mock.start()
        defer { mock.stop() }
        let c = try RawHTTPClient(port: mock.port)

        // A stream with +chunks: event lines, sequence numbers, completed last.
        let r = try XCTUnwrap(post(c, Array(#"{"model":"gpt-5+chunks=2","input":"hi","stream":true}"#.utf8)))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("content-type"), "text/event-stream")
        let events = sse(r.body)
        XCTAssertEqual(events.first?.0, "response.created")
        XCTAssertEqual(events.last?.0, "response.completed")
        XCTAssertEqual(events.filter { $0.0 == "response.output_text.delta" }.count, 2)
        for (i, e) in events.enumerated() {
            let data = try json(e.1)
            XCTAssertEqual(data["type"]?.stringValue, e.0)
            XCTAssertEqual(data["sequence_number"]?.intValue, i)
        }
        XCTAssertEqual(try json(events[0].1)["response"]?["model"]?.stringValue, "gpt-5", "options are not part of the model")

        // Codex's zstd body (as a ChatGPT login sends it), steering a tool call.
        let prompt = "mock:tool=exec_command\nmock:input={\"cmd\":\"echo hi\"}"
        let plain = Array(codexInput(prompt).replacingOccurrences(of: #""model":"gpt-5""#, with: #""model":"gpt-5+chunks=1""#).utf8)
        let z = try XCTUnwrap(post(c, Self.zstd(plain), headers: ["Content-Encoding": "zstd"]))
        XCTAssertEqual(z.status, 200, z.text)
        let zEvents = sse(z.body)
        let completed = try json(try XCTUnwrap(zEvents.last?.1))
        XCTAssertEqual(completed["response"]?["output"]?.arrayValue?.first?["name"]?.stringValue, "exec_command")
        XCTAssertEqual(completed["response"]?["model"]?.stringValue, "gpt-5")

        // Non-stream: one Responses object.
        let j = try XCTUnwrap(post(c, Array(#"{"model":"gpt-5","input":"hi"}"#.utf8)))
        XCTAssertEqual(j.status, 200)
        XCTAssertEqual(j.json?["object"] as? String, "response")

        // Refusals: an unknown coding, a corrupt zstd body, a body that is not JSON, a fault status.
        XCTAssertEqual(post(c, plain, headers: ["Content-Encoding": "compress"])?.status, 415)
        XCTAssertEqual(post(c, Array("garbage".utf8), headers: ["Content-Encoding": "zstd"])?.status, 400)
        XCTAssertEqual(post(c, Array("not json".utf8))?.status, 400)
        let limited = try XCTUnwrap(post(c, Array(#"{"model":"gpt-5+status=429","input":"hi"}"#.utf8)))
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.header("retry-after"), "7")
        // The echo scenario keeps its chat-completion shape.
        let echo = try XCTUnwrap(post(c, Array(#"{"model":"gpt-5+echo","input":"hi"}"#.utf8)))
        XCTAssertEqual((echo.json?["choices"] as? [[String: Any]])?.count, 1)

        // A WebSocket attempt is 426 (Codex then falls back to HTTP at once), with or without `Upgrade`
        // (a proxy drops it); any other GET is 405.
        c.send("GET /v1/openai/v1/responses HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 426)
        let c2 = try RawHTTPClient(port: mock.port)
        c2.send("GET /v1/openai/v1/responses HTTP/1.1\r\nHost: localhost\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        XCTAssertEqual(c2.readResponse()?.status, 426)
        c2.send("GET /v1/openai/v1/responses HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let get = try XCTUnwrap(c2.readResponse())
        XCTAssertEqual(get.status, 405)
        XCTAssertEqual(get.header("allow"), "POST")
    }
}

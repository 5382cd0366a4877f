import Providers
import UVProxy

/// The OpenAI Responses API on the mock upstream (`POST .../responses`: what Codex CLI and the OpenAI
/// SDKs' Responses clients send; DESIGN.md §7 "Responses API stream").
///
/// `stream: true` gets the Responses SSE sequence, every event `event: <type>` + `data:` JSON with its
/// `type` and an increasing `sequence_number`: `response.created`, `response.in_progress`, per output
/// item `response.output_item.added` / its parts and deltas / `response.output_item.done`, then
/// `response.completed` with `usage`. Without it, one Responses object.
///
/// Steered like the Bedrock side (`MockDirectives`): `mock:tool=NAME` and `mock:input=<JSON object>`
/// lines in the last user message ask for a `function_call` item (arguments: that JSON as a string); a
/// `function_call_output` after the last user message is answered with the text
/// `tool result: <output, first 300 characters>`; `reasoning.effort` in the request (or `+thinking`)
/// puts a `reasoning` item first, with `encrypted_content` when `include` asks for
/// `reasoning.encrypted_content`. Model options (`+chunks=N+delay=MS`, `+fault=`, `+status=`, `+tools`,
/// `+parallel-tools`, `+unicode`) and `x-mock-*` headers work as on the other paths.
///
/// A body with `Content-Encoding` (Codex sends zstd when it talks to OpenAI with a ChatGPT login) is
/// decoded as the proxy decodes (`ContentDecoding`): an unknown coding is 415, a corrupt body 400. A
/// WebSocket attempt (`GET .../responses` with `Upgrade: websocket` or `Sec-WebSocket-Key`; a proxy drops
/// the hop-by-hop `Upgrade`) is 426 Upgrade Required, which makes Codex fall back to HTTP at once.
enum MockResponses {
    /// A function call the answer makes.
    struct Call: Equatable {
        var callID: String
        var name: String
        var arguments: String
    }

    /// What the answer holds, in output order: a reasoning item, a message, function calls.
    struct Answer: Equatable {
        var reasoning = false
        var encryptedContent = false
        /// The message's text in the pieces it streams in; nil: no message item.
        var deltas: [String]? = []
        var calls: [Call] = []

        var text: String? { deltas?.joined() }
    }

    static let reasoningSummary = "Let me think."
    /// The `encrypted_content` of every reasoning item the mock sends.
    static let encryptedReasoning = "gAAAAABmock-encrypted-reasoning-bW9jaw=="
    /// Decoded bodies larger than this are refused (413), as an upstream would.
    static let decodedBodyLimit = 64 << 20

    // MARK: Reading the request

    /// The answer a request body asks for (see the type's comment).
    static func answer(for json: JSON?, options: MockOptions, stream: Bool) -> Answer {
        var a = Answer()
        if let effort = json?["reasoning"]?["effort"]?.stringValue, effort != "none" { a.reasoning = true }
        if options.scenario == "thinking" { a.reasoning = true }
        a.encryptedContent = a.reasoning
            && (json?["include"]?.arrayValue?.contains { $0.stringValue == "reasoning.encrypted_content" } ?? false)
        var userText: String?
        var toolOutput: String?
        if let s = json?["input"]?.stringValue { userText = s }
        for item in json?["input"]?.arrayValue ?? [] {
            let type = item["type"]?.stringValue ?? "message"
            if type == "function_call_output" {
                toolOutput = outputText(item["output"])
            } else if type == "message", item["role"]?.stringValue == "user" {
                userText = contentText(item["content"])
                toolOutput = nil
            }
        }
        if let toolOutput {
            a.deltas = pieces("tool result: " + String(toolOutput.prefix(300)), size: 24)
            return a
        }
        if let call = directive(userText ?? "") {
            a.deltas = nil
            a.calls = [call]
            return a
        }
        if stream {
            a.deltas = (0..<options.chunks).map { MockBodies.token($0, scenario: options.scenario) }
        } else {
            a.deltas = [MockBodies.reply]
        }
        if options.scenario == "tools" || options.scenario == "parallel-tools" {
            a.calls.append(Call(callID: "call_mock_1", name: "get_weather", arguments: #"{"city":"Paris","unit":"celsius"}"#))
            if options.scenario == "parallel-tools" {
                a.calls.append(Call(callID: "call_mock_2", name: "get_time", arguments: #"{"tz":"UTC"}"#))
            }
        }
        return a
    }

    /// The call that `mock:tool=NAME` / `mock:input=<JSON object>` lines ask for.
    static func directive(_ text: String) -> Call? {
        var name: String?
        var arguments = "{}"
        for line in text.split(separator: "\n") {
            let l = line.drop { $0 == " " }
            if l.hasPrefix("mock:tool=") { name = String(l.dropFirst(10)).trimmingSpaces() }
            if l.hasPrefix("mock:input=") {
                let raw = String(l.dropFirst(11)).trimmingSpaces()
                if case .object? = try? JSONParser.parse(Array(raw.utf8)) { arguments = raw }
            }
        }
        guard let name, !name.isEmpty else { return nil }
        return Call(callID: "call_mock_d1", name: name, arguments: arguments)
    }

    /// A message's text: a string, or its `input_text`/`output_text`/`text` parts joined by newlines.
    private static func contentText(_ content: JSON?) -> String {
        if let s = content?.stringValue { return s }
        var parts: [String] = []
        for part in content?.arrayValue ?? [] {
            switch part["type"]?.stringValue {
            case "input_text", "output_text", "text": parts.append(part["text"]?.stringValue ?? "")
            default: break
            }
        }
        return parts.joined(separator: "\n")
    }

    /// A function_call_output's `output`: a string, or its text parts.
    private static func outputText(_ output: JSON?) -> String {
        if let s = output?.stringValue { return s }
        return contentText(output)
    }

    private static func pieces(_ text: String, size: Int) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            out.append(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return out
    }

    // MARK: Bodies

    private static func js(_ s: String) -> String { MockBodies.jsonString(s) }

    static func usage(_ a: Answer) -> String {
        let reasoning = a.reasoning ? 8 : 0
        let output = (a.deltas?.count ?? 0) + a.calls.count * 10 + reasoning + 1
        return #"{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":\#(output),"output_tokens_details":{"reasoning_tokens":\#(reasoning)},"total_tokens":\#(12 + output)}"#
    }

    /// A Responses object (`status` in_progress, completed or failed).
    static func response(model: String, status: String, output: [String], usage: String?, error: String? = nil) -> String {
        #"{"id":"resp_mock","object":"response","created_at":\#(MockBodies.created),"status":"\#(status)","background":false,"error":\#(error ?? "null"),"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":\#(js(model)),"output":[\#(output.joined(separator: ","))],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":false,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":\#(usage ?? "null"),"user":null,"metadata":{}}"#
    }

    static func reasoningItem(done: Bool, encrypted: Bool) -> String {
        let summary = done ? #"[{"type":"summary_text","text":\#(js(reasoningSummary))}]"# : "[]"
        let enc = done && encrypted ? #","encrypted_content":\#(js(encryptedReasoning))"# : ""
        return #"{"id":"rs_mock_1","type":"reasoning","summary":\#(summary)\#(enc)}"#
    }

    static func messageItem(text: String?) -> String {
        guard let text else {
            return #"{"id":"msg_mock_1","type":"message","status":"in_progress","role":"assistant","content":[]}"#
        }
        return #"{"id":"msg_mock_1","type":"message","status":"completed","role":"assistant","content":[\#(textPart(text))]}"#
    }

    static func textPart(_ text: String) -> String {
        #"{"type":"output_text","text":\#(js(text)),"annotations":[],"logprobs":[]}"#
    }

    static func callItem(_ c: Call, index: Int, done: Bool) -> String {
        #"{"id":"fc_mock_\#(index)","type":"function_call","status":"\#(done ? "completed" : "in_progress")","call_id":\#(js(c.callID)),"name":\#(js(c.name)),"arguments":\#(js(done ? c.arguments : ""))}"#
    }

    /// The completed output items, in order.
    static func outputItems(_ a: Answer) -> [String] {
        var items: [String] = []
        if a.reasoning { items.append(reasoningItem(done: true, encrypted: a.encryptedContent)) }
        if let text = a.text { items.append(messageItem(text: text)) }
        for (i, c) in a.calls.enumerated() { items.append(callItem(c, index: i + 1, done: true)) }
        return items
    }

    /// The non-stream answer.
    static func body(model: String, answer a: Answer) -> [UInt8] {
        Array(response(model: model, status: "completed", output: outputItems(a), usage: usage(a)).utf8)
    }

    /// The stream's events, in order: (type, JSON with `type` and `sequence_number`). With `failAt`, the
    /// event at that index is `response.failed` and the stream ends there (the mid-stream error fault).
    static func events(model: String, answer a: Answer, failAt: Int? = nil) -> [(type: String, json: String)] {
        var out: [(type: String, json: String)] = []
        func emit(_ type: String, _ fields: String) {
            let seq = out.count
            out.append((type, #"{"type":"\#(type)","sequence_number":\#(seq)\#(fields.isEmpty ? "" : ",")\#(fields)}"#))
        }
        emit("response.created", #""response":\#(response(model: model, status: "in_progress", output: [], usage: nil))"#)
        emit("response.in_progress", #""response":\#(response(model: model, status: "in_progress", output: [], usage: nil))"#)
        var index = 0
        if a.reasoning {
            let at = #""item_id":"rs_mock_1","output_index":\#(index),"summary_index":0"#
            emit("response.output_item.added", #""output_index":\#(index),"item":\#(reasoningItem(done: false, encrypted: false))"#)
            emit("response.reasoning_summary_part.added", #"\#(at),"part":{"type":"summary_text","text":""}"#)
            emit("response.reasoning_summary_text.delta", #"\#(at),"delta":\#(js(reasoningSummary))"#)
            emit("response.reasoning_summary_text.done", #"\#(at),"text":\#(js(reasoningSummary))"#)
            emit("response.reasoning_summary_part.done", #"\#(at),"part":{"type":"summary_text","text":\#(js(reasoningSummary))}"#)
            emit("response.output_item.done", #""output_index":\#(index),"item":\#(reasoningItem(done: true, encrypted: a.encryptedContent))"#)
            index += 1
        }
        if let deltas = a.deltas {
            let text = deltas.joined()
            let at = #""item_id":"msg_mock_1","output_index":\#(index),"content_index":0"#
            emit("response.output_item.added", #""output_index":\#(index),"item":\#(messageItem(text: nil))"#)
            emit("response.content_part.added", #"\#(at),"part":\#(textPart(""))"#)
            for d in deltas { emit("response.output_text.delta", #"\#(at),"delta":\#(js(d)),"logprobs":[]"#) }
            emit("response.output_text.done", #"\#(at),"text":\#(js(text)),"logprobs":[]"#)
            emit("response.content_part.done", #"\#(at),"part":\#(textPart(text))"#)
            emit("response.output_item.done", #""output_index":\#(index),"item":\#(messageItem(text: text))"#)
            index += 1
        }
        for (i, c) in a.calls.enumerated() {
            let at = #""item_id":"fc_mock_\#(i + 1)","output_index":\#(index)"#
            emit("response.output_item.added", #""output_index":\#(index),"item":\#(callItem(c, index: i + 1, done: false))"#)
            for piece in pieces(c.arguments, size: 16) {
                emit("response.function_call_arguments.delta", #"\#(at),"delta":\#(js(piece))"#)
            }
            emit("response.function_call_arguments.done", #"\#(at),"arguments":\#(js(c.arguments))"#)
            emit("response.output_item.done", #""output_index":\#(index),"item":\#(callItem(c, index: i + 1, done: true))"#)
            index += 1
        }
        emit("response.completed", #""response":\#(response(model: model, status: "completed", output: outputItems(a), usage: usage(a)))"#)
        if let failAt, failAt < out.count {
            out.removeSubrange(failAt...)
            let error = #"{"code":"server_error","message":"The mock upstream failed mid-stream (fault=midstream-error)."}"#
            emit("response.failed", #""response":\#(response(model: model, status: "failed", output: [], usage: nil, error: error))"#)
        }
        return out
    }

    /// The stream's SSE frames.
    static func frames(model: String, answer: Answer, failAt: Int? = nil) -> [[UInt8]] {
        events(model: model, answer: answer, failAt: failAt).map { Array("event: \($0.type)\ndata: \($0.json)\n\n".utf8) }
    }

    static func error(status: Int, message: String, type: String = "invalid_request_error", code: String? = nil) -> [UInt8] {
        Array(#"{"error":{"message":\#(js(message)),"type":"\#(type)","param":null,"code":\#(code.map(js) ?? "null")}}"#.utf8)
    }

    // MARK: One exchange

    /// One request to `.../responses`, read once: a refusal, or the body, options and model to answer with.
    struct Exchange {
        var refusal: (status: Int, headers: [(name: String, value: String)], body: [UInt8])?
        var json: JSON?
        var options: MockOptions
        var model = "mock-model"
        var stream = false

        /// `json` and `model` as `MockUpstream.handle` read them (nil when the body did not parse, as a
        /// compressed one does not); `options` with any `+options` of the model already applied.
        init(_ request: HTTPRequest, json: JSON?, options: MockOptions, model: String?) {
            self.options = options
            let head = request.head
            guard head.methodString == "POST" else {
                let upgrade = head.value("upgrade")?.lowercased().contains("websocket") == true
                if upgrade || head.value("sec-websocket-key") != nil {
                    refusal = (426, [("Content-Type", "application/json"), ("Upgrade", "websocket")],
                               MockResponses.error(status: 426, message: "The mock upstream speaks the Responses API over HTTP only; use POST.", code: "websocket_not_supported"))
                } else {
                    refusal = (405, [("Content-Type", "application/json"), ("Allow", "POST")],
                               MockResponses.error(status: 405, message: "Method \(head.methodString) not allowed on \(head.targetString); use POST."))
                }
                return
            }
            var json = json
            if let encoding = head.value("content-encoding") {
                do throws(ContentDecoding.Failure) {
                    let codings = try ContentDecoding.codings(encoding)
                    if !codings.isEmpty {
                        let body = try ContentDecoding.decode(request.body, codings: codings, limit: MockResponses.decodedBodyLimit)
                        json = try? JSONParser.parse(body)
                        // `handle` could not read the model's options off the encoded bytes.
                        if let m = json?["model"]?.stringValue { self.model = self.options.parseModel(m) }
                    } else if let model, json?["model"]?.stringValue != nil {
                        self.model = model
                    }
                } catch {
                    switch error {
                    case .unsupported(let name):
                        refusal = (415, [("Content-Type", "application/json")],
                                   MockResponses.error(status: 415, message: "Unsupported Content-Encoding: \(name)", code: "unsupported_content_encoding"))
                    case .tooLarge(let limit):
                        refusal = (413, [("Content-Type", "application/json")],
                                   MockResponses.error(status: 413, message: "The decoded body is larger than \(limit) bytes."))
                    case .corrupt(let why):
                        refusal = (400, [("Content-Type", "application/json")],
                                   MockResponses.error(status: 400, message: "Could not decode the body (Content-Encoding \(encoding)): \(why)"))
                    }
                    return
                }
            } else if let model, json?["model"]?.stringValue != nil {
                self.model = model
            }
            guard case .object? = json else {
                refusal = (400, [("Content-Type", "application/json")],
                           MockResponses.error(status: 400, message: "We could not parse the JSON body of your request."))
                return
            }
            self.json = json
            stream = json?["stream"]?.boolValue ?? false
        }

        func respond(to request: HTTPRequest, path: String, on connection: HTTPServerConnection) {
            if let refusal {
                connection.respond(status: refusal.status, headers: refusal.headers, body: refusal.body)
                return
            }
            if options.scenario == "echo" {
                // What the upstream received, in a chat completion (as before this path spoke Responses;
                // tests/e2e/test_openai_sdk.py reads the echo there).
                connection.respond(status: 200, headers: [("Content-Type", "application/json")],
                                   body: MockBodies.chatCompletion(model: model, content: MockUpstream.echo(request, path: path)))
                return
            }
            if stream, options.streamBytes > 0 {
                MockStreamer(connection: connection, frames: [], options: options, openAI: true).start()
                return
            }
            let answer = MockResponses.answer(for: json, options: options, stream: stream)
            if stream {
                let frames = MockResponses.frames(model: model, answer: answer, failAt: options.fault == "midstream-error" ? 3 : nil)
                MockStreamer(connection: connection, frames: frames, options: options, openAI: true).start()
            } else {
                connection.respond(status: 200, headers: [("Content-Type", "application/json"), ("x-ratelimit-remaining-requests", "999")],
                                   body: MockResponses.body(model: model, answer: answer))
            }
        }
    }
}

import Providers

/// The bodies the mock upstream sends, in AI-Gateway's OpenAI and Bedrock shapes.
enum MockBodies {
    static let created = 1_700_000_000
    static let reply = "Hello from the mini-proxy mock upstream. This fixed reply has about six hundred bytes in all, so that benchmarks measure a realistic completion."

    static func token(_ i: Int, scenario: String) -> String {
        if scenario == "unicode" { return ["héllo ", "✓ ", "日本語 ", "😀 ", "\"quoted\"\n"][i % 5] }
        return "tok\(i) "
    }

    static func jsonString(_ s: String) -> String {
        var out = [UInt8]()
        JSON.string(s).write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: OpenAI

    static func chatCompletion(model: String, content: String) -> [UInt8] {
        let body = #"{"id":"chatcmpl-mock","object":"chat.completion","created":\#(created),"model":\#(jsonString(model)),"choices":[{"index":0,"message":{"role":"assistant","content":\#(jsonString(content)),"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":40,"total_tokens":52,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_mock"}"#
        return Array(body.utf8)
    }

    static func chatChunk(model: String, delta: String, finish: String?) -> [UInt8] {
        let f = finish.map { "\"\($0)\"" } ?? "null"
        return Array("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(jsonString(model)),\"system_fingerprint\":\"fp_mock\",\"choices\":[{\"index\":0,\"delta\":\(delta),\"logprobs\":null,\"finish_reason\":\(f)}]}\n\n".utf8)
    }

    static func chatUsageChunk(model: String, completionTokens: Int) -> [UInt8] {
        Array("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(jsonString(model)),\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":\(completionTokens),\"total_tokens\":\(12 + completionTokens)}}\n\n".utf8)
    }

    static func openAIError(status: Int, message: String) -> [UInt8] {
        let type = status == 429 ? "rate_limit_exceeded" : (status >= 500 ? "server_error" : "invalid_request_error")
        return Array(#"{"error":{"message":\#(jsonString(message)),"type":"\#(type)","param":null,"code":"mock_\#(status)"}}"#.utf8)
    }

    // MARK: Anthropic on Bedrock

    static func usage(output: Int) -> String {
        #"{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":\#(output)}"#
    }

    static func message(model: String, scenario: String, text: String) -> [UInt8] {
        var content: [String] = []
        var stop = "end_turn"
        if scenario == "thinking" {
            content.append(#"{"type":"thinking","thinking":"Let me think about this.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}"#)
        }
        content.append(#"{"type":"text","text":\#(jsonString(text))}"#)
        if scenario == "tools" || scenario == "parallel-tools" {
            content.append(#"{"type":"tool_use","id":"toolu_mock_1","name":"get_weather","input":{"city":"Paris","unit":"celsius"}}"#)
            if scenario == "parallel-tools" {
                content.append(#"{"type":"tool_use","id":"toolu_mock_2","name":"get_time","input":{}}"#)
            }
            stop = "tool_use"
        }
        let body = #"{"id":"msg_mock","type":"message","role":"assistant","model":\#(jsonString(model)),"content":[\#(content.joined(separator: ","))],"stop_reason":"\#(stop)","stop_sequence":null,"usage":\#(usage(output: 40))}"#
        return Array(body.utf8)
    }

    /// Anthropic stream events (JSON), in order, for a scenario.
    static func anthropicEvents(model: String, scenario: String, chunks: Int) -> [String] {
        var e: [String] = []
        e.append(#"{"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","model":\#(jsonString(model)),"content":[],"stop_reason":null,"stop_sequence":null,"usage":\#(usage(output: 1))}}"#)
        var index = 0
        if scenario == "thinking" {
            e.append(#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#)
            e.append(#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think."}}"#)
            e.append(#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}"#)
            e.append(#"{"type":"content_block_stop","index":0}"#)
            index = 1
        }
        e.append(#"{"type":"content_block_start","index":\#(index),"content_block":{"type":"text","text":""}}"#)
        for i in 0..<chunks {
            e.append(#"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":\#(jsonString(token(i, scenario: scenario)))}}"#)
        }
        e.append(#"{"type":"content_block_stop","index":\#(index)}"#)
        var stop = "end_turn"
        if scenario == "tools" || scenario == "parallel-tools" {
            stop = "tool_use"
            let tools = scenario == "tools" ? [("toolu_mock_1", "get_weather", ["{\"city\": ", "\"Par", "is\"}"])]
                : [("toolu_mock_1", "get_weather", ["{\"city\": ", "\"Par", "is\"}"]), ("toolu_mock_2", "get_time", ["{\"tz\":", "\"UTC\"}"])]
            for (id, name, pieces) in tools {
                index += 1
                e.append(#"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":"\#(id)","name":"\#(name)","input":{}}}"#)
                for p in pieces {
                    e.append(#"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":\#(jsonString(p))}}"#)
                }
                e.append(#"{"type":"content_block_stop","index":\#(index)}"#)
            }
        }
        e.append(#"{"type":"message_delta","delta":{"stop_reason":"\#(stop)","stop_sequence":null},"usage":{"output_tokens":\#(chunks + 1)}}"#)
        e.append(#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":\#(chunks + 1),"invocationLatency":120,"firstByteLatency":20}}"#)
        return e
    }

    /// The events of an answer shaped by `MockDirectives`: an optional thinking block, a text block of
    /// `text` in a few deltas, an optional tool call.
    static func anthropicEvents(model: String, directives d: MockDirectives, text: String) -> [String] {
        var e: [String] = []
        e.append(#"{"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","model":\#(jsonString(model)),"content":[],"stop_reason":null,"stop_sequence":null,"usage":\#(usage(output: 1))}}"#)
        var index = 0
        if d.thinking {
            e.append(#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#)
            e.append(#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think."}}"#)
            e.append(#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"\#(MockBedrockRules.thinkingSignature)"}}"#)
            e.append(#"{"type":"content_block_stop","index":0}"#)
            index = 1
        }
        e.append(#"{"type":"content_block_start","index":\#(index),"content_block":{"type":"text","text":""}}"#)
        var rest = Substring(text)
        while !rest.isEmpty {
            let piece = rest.prefix(24)
            rest = rest.dropFirst(piece.count)
            e.append(#"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":\#(jsonString(String(piece)))}}"#)
        }
        e.append(#"{"type":"content_block_stop","index":\#(index)}"#)
        if let tool = d.tool {
            index += 1
            e.append(#"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":"toolu_mock_d1","name":\#(jsonString(tool.name)),"input":{}}}"#)
            var input = Substring(tool.input)
            while !input.isEmpty {
                let piece = input.prefix(16)
                input = input.dropFirst(piece.count)
                e.append(#"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":\#(jsonString(String(piece)))}}"#)
            }
            e.append(#"{"type":"content_block_stop","index":\#(index)}"#)
        }
        let stop = d.tool == nil ? "end_turn" : "tool_use"
        e.append(#"{"type":"message_delta","delta":{"stop_reason":"\#(stop)","stop_sequence":null},"usage":{"output_tokens":20}}"#)
        e.append(#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":20,"invocationLatency":120,"firstByteLatency":20}}"#)
        return e
    }

    /// The same answer as one message.
    static func message(model: String, directives d: MockDirectives, text: String) -> [UInt8] {
        var content: [String] = []
        if d.thinking {
            content.append(#"{"type":"thinking","thinking":"Let me think.","signature":"\#(MockBedrockRules.thinkingSignature)"}"#)
        }
        content.append(#"{"type":"text","text":\#(jsonString(text))}"#)
        if let tool = d.tool {
            content.append(#"{"type":"tool_use","id":"toolu_mock_d1","name":\#(jsonString(tool.name)),"input":\#(tool.input)}"#)
        }
        let stop = d.tool == nil ? "end_turn" : "tool_use"
        return Array(#"{"id":"msg_mock","type":"message","role":"assistant","model":\#(jsonString(model)),"content":[\#(content.joined(separator: ","))],"stop_reason":"\#(stop)","stop_sequence":null,"usage":\#(usage(output: 20))}"#.utf8)
    }

    static func bedrockError(status: Int, message: String) -> [UInt8] {
        Array(#"{"message":\#(jsonString(message))}"#.utf8)
    }
}

/// What an Anthropic request asks of the mock in its own words, so that real clients (Claude Code)
/// can be steered without options on the model name: `mock:tool=NAME` and `mock:input=<JSON>` lines in
/// the last user message ask for a tool call; a `tool_result` there is answered with its text; a
/// `thinking` request gets a thinking block first.
struct MockDirectives {
    var tool: (name: String, input: String)?
    var toolResult: String?
    var thinking = false

    var isActive: Bool { tool != nil || toolResult != nil || thinking }

    init(_ json: JSON?) {
        if let type = json?["thinking"]?["type"]?.stringValue { thinking = type == "enabled" || type == "adaptive" }
        guard let messages = json?["messages"]?.arrayValue,
            let last = messages.last(where: { $0["role"]?.stringValue == "user" })
        else { return }
        var text = ""
        if let s = last["content"]?.stringValue { text = s }
        for block in last["content"]?.arrayValue ?? [] {
            switch block["type"]?.stringValue {
            case "text": text += (block["text"]?.stringValue ?? "") + "\n"
            case "tool_result":
                var result = block["content"]?.stringValue ?? ""
                for part in block["content"]?.arrayValue ?? [] { result += part["text"]?.stringValue ?? "" }
                toolResult = (toolResult ?? "") + result
            default: break
            }
        }
        if toolResult != nil { return }
        var name: String?
        var input = "{}"
        for line in text.split(separator: "\n") {
            let l = line.drop { $0 == " " }
            if l.hasPrefix("mock:tool=") { name = String(l.dropFirst(10)).trimmingSpaces() }
            if l.hasPrefix("mock:input=") {
                let raw = String(l.dropFirst(11)).trimmingSpaces()
                if case .object? = try? JSONParser.parse(Array(raw.utf8)) { input = raw }
            }
        }
        if let name, !name.isEmpty { tool = (name, input) }
    }

    /// The answer's text.
    var text: String {
        if let toolResult { return "tool result: " + String(toolResult.prefix(300)) }
        if let tool { return "Calling \(tool.name)." }
        return MockBodies.reply
    }
}

/// `MockDirectives` for OpenAI Chat requests (the Anthropic → OpenAI route): `mock:tool=` and
/// `mock:input=` lines in the last user message ask for a tool call; a last `tool` message is
/// answered with `tool result: <its text>`.
struct MockChatDirectives {
    var tool: (name: String, input: String)?
    var toolResult: String?

    var isActive: Bool { tool != nil || toolResult != nil }

    init(_ json: JSON?) {
        guard let messages = json?["messages"]?.arrayValue, let last = messages.last else { return }
        func text(_ m: JSON) -> String {
            if let s = m["content"]?.stringValue { return s }
            return (m["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        }
        if last["role"]?.stringValue == "tool" {
            // Every tool message of the last turn, in order.
            var results: [String] = []
            for m in messages.reversed() {
                guard m["role"]?.stringValue == "tool" else { break }
                results.insert(text(m), at: 0)
            }
            toolResult = results.joined(separator: "\n")
            return
        }
        guard let user = messages.last(where: { $0["role"]?.stringValue == "user" }) else { return }
        var name: String?
        var input = "{}"
        for line in text(user).split(separator: "\n") {
            let l = line.drop { $0 == " " }
            if l.hasPrefix("mock:tool=") { name = String(l.dropFirst(10)).trimmingSpaces() }
            if l.hasPrefix("mock:input=") {
                let raw = String(l.dropFirst(11)).trimmingSpaces()
                if case .object? = try? JSONParser.parse(Array(raw.utf8)) { input = raw }
            }
        }
        if let name, !name.isEmpty { tool = (name, input) }
    }

    var text: String { toolResult.map { "tool result: " + String($0.prefix(300)) } ?? "Calling a tool." }

    func completion(model: String) -> [UInt8] {
        let message: String
        let finish: String
        if let tool {
            message = #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_mock_d1","type":"function","function":{"name":\#(MockBodies.jsonString(tool.name)),"arguments":\#(MockBodies.jsonString(tool.input))}}]}"#
            finish = "tool_calls"
        } else {
            message = #"{"role":"assistant","content":\#(MockBodies.jsonString(text))}"#
            finish = "stop"
        }
        return Array(#"{"id":"chatcmpl-mock","object":"chat.completion","created":\#(MockBodies.created),"model":\#(MockBodies.jsonString(model)),"choices":[{"index":0,"message":\#(message),"logprobs":null,"finish_reason":"\#(finish)"}],"usage":{"prompt_tokens":12,"completion_tokens":20,"total_tokens":32}}"#.utf8)
    }

    func frames(model: String, includeUsage: Bool) -> [[UInt8]] {
        var frames: [[UInt8]] = [MockBodies.chatChunk(model: model, delta: #"{"role":"assistant","content":""}"#, finish: nil)]
        if let tool {
            frames.append(MockBodies.chatChunk(model: model, delta: #"{"tool_calls":[{"index":0,"id":"call_mock_d1","type":"function","function":{"name":\#(MockBodies.jsonString(tool.name)),"arguments":""}}]}"#, finish: nil))
            var rest = Substring(tool.input)
            while !rest.isEmpty {
                let piece = rest.prefix(16)
                rest = rest.dropFirst(piece.count)
                frames.append(MockBodies.chatChunk(model: model, delta: #"{"tool_calls":[{"index":0,"function":{"arguments":\#(MockBodies.jsonString(String(piece)))}}]}"#, finish: nil))
            }
            frames.append(MockBodies.chatChunk(model: model, delta: "{}", finish: "tool_calls"))
        } else {
            var rest = Substring(text)
            while !rest.isEmpty {
                let piece = rest.prefix(24)
                rest = rest.dropFirst(piece.count)
                frames.append(MockBodies.chatChunk(model: model, delta: "{\"content\":\(MockBodies.jsonString(String(piece)))}", finish: nil))
            }
            frames.append(MockBodies.chatChunk(model: model, delta: "{}", finish: "stop"))
        }
        if includeUsage { frames.append(MockBodies.chatUsageChunk(model: model, completionTokens: 20)) }
        frames.append(Array("data: [DONE]\n\n".utf8))
        return frames
    }
}

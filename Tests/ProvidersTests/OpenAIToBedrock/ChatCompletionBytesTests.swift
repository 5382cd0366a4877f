import XCTest

@testable import Providers

/// The byte-written `chat.completion` against the tree-built one it replaced (kept here as the oracle),
/// for whole messages, every prefix and one-byte changes.
final class ChatCompletionBytesTests: XCTestCase {
    /// The former `ChatCompletionMapping.completion`, which built a `JSON` tree.
    enum Oracle {
        static func completion(_ body: [UInt8], model: String, created: Int) -> ClientResponse {
            guard let message = try? JSONParser.parse(body), message.objectValue != nil,
                let blocks = message["content"]?.arrayValue
            else {
                return ChatCompletionMapping.errorResponse(.upstreamProtocol("upstream returned a response that is not an Anthropic message"))
            }
            var text: [UInt8] = []
            var hasText = false
            var toolCalls: [JSON] = []
            for block in blocks {
                switch block["type"]?.stringValue {
                case "text":
                    if let piece = block["text"]?.stringValue {
                        text.append(contentsOf: piece.utf8)
                        hasText = true
                    }
                case "tool_use":
                    let arguments = block["input"]?.bytes ?? Array("{}".utf8)
                    let function = JSONObject([
                        ("name", .string(block["name"]?.stringValue ?? "")),
                        ("arguments", .string(String(decoding: arguments, as: UTF8.self))),
                    ])
                    toolCalls.append(
                        .object(
                            JSONObject([
                                ("id", .string(block["id"]?.stringValue ?? "")), ("type", "function"),
                                ("function", .object(function)),
                            ])))
                default:
                    break
                }
            }
            var reply = JSONObject([("role", "assistant")])
            reply["content"] = hasText || toolCalls.isEmpty ? .string(String(decoding: text, as: UTF8.self)) : .null
            if !toolCalls.isEmpty { reply["tool_calls"] = .array(toolCalls) }
    
            let finishReason: String
            if !toolCalls.isEmpty {
                finishReason = "tool_calls"
            } else {
                finishReason = FinishReason.openAI(forStopReason: message["stop_reason"]?.stringValue ?? "end_turn")
            }
            var usage = AnthropicUsage()
            usage.update(from: message["usage"])
    
            let completion = JSONObject([
                ("id", .string("chatcmpl-" + (message["id"]?.stringValue ?? "bedrock"))),
                ("object", "chat.completion"),
                ("created", .number(JSONNumber(created))),
                ("model", .string(model)),
                (
                    "choices",
                    [.object(JSONObject([("index", 0), ("message", .object(reply)), ("finish_reason", .string(finishReason))]))]
                ),
                ("usage", usage.openAI),
            ])
            return ClientResponse(status: 200, contentType: "application/json", body: JSON.object(completion).bytes)
        }
    }

    static let deep = String(repeating: #"{"a":["#, count: 70) + "1" + String(repeating: "]}", count: 70)

    let bodies = [
        #"{"id":"msg_1","type":"message","content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}"#,
        #" { "id" : "m\u00e9\n" , "content" : [ { "type" : "text" , "text" : "a\/b \"q\" \u0001 \ud83d\ude00" } , {"type":"thinking","thinking":"x"}, {"type":"text","text":""}, {"type":"text","text":5}, 7, {"text":"no type"} ] , "stop_reason" : "max_tokens" , "usage" : { "input_tokens" : 10 , "cache_read_input_tokens" : 4 , "cache_creation_input_tokens" : 1 , "output_tokens" : 9 , "input_tokens" : 99 } } "#,
        #"{"content":[{"type":"tool_use","id":"toolu_1","name":"get","input":{ "city" : "Paris\u00e9" , "n" : [1, 2.50, true, null] }},{"type":"tool_use","input":"s"},{"type":"tool_use"}],"stop_reason":"tool_use"}"#,
        #"{"content":[{"type":"text","text":"t"},{"type":"tool_use","id":5,"name":null,"input":{}}],"id":7,"stop_reason":3,"usage":[1]}"#,
        #"{"content":[],"usage":{"input_tokens":1.0,"output_tokens":-3,"cache_read_input_tokens":99999999999999999999}}"#,
        #"{"content":[{"type":"tool_use","id":"d","name":"deep","input":"# + deep + #"}]}"#,
        #"{"content":{}}"#,
        #"{"id":"x"}"#,
        #"[1]"#,
        #"{"content":[1,2,"#,
    ]

    func testBytesMatchTheTree() {
        for text in bodies {
            let body = Array(text.utf8)
            let expected = Oracle.completion(body, model: "gpt-x\u{1}é", created: 17)
            let got = ChatCompletionMapping.completion(body, model: "gpt-x\u{1}é", created: 17)
            XCTAssertEqual(got.status, expected.status, text)
            XCTAssertEqual(String(decoding: got.body, as: UTF8.self), String(decoding: expected.body, as: UTF8.self), text)
        }
    }

    func testEveryPrefixAndByteChangeMatchesTheTree() {
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x7B, 0x7D, 0x5B, 0x5D, 0x30, 0x20, 0x01]
        for text in bodies.prefix(5) {
            let body = Array(text.utf8)
            for variant in prefixesAndByteChanges(body, replacements: replacements) {
                let expected = Oracle.completion(variant, model: "m", created: 1)
                let got = ChatCompletionMapping.completion(variant, model: "m", created: 1)
                if got.body != expected.body || got.status != expected.status {
                    XCTFail("differs for \(String(decoding: variant, as: UTF8.self))")
                    return
                }
            }
        }
    }
}

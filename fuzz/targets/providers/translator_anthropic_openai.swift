/// libFuzzer target: `AnthropicToOpenAITranslator` (Anthropic Messages clients → OpenAI Chat upstreams).
///
/// The payload is fed as an upstream OpenAI stream cut anywhere: the same client bytes for any cuts,
/// nothing after the end (flag: end with `streamFail`), every event whole SSE with JSON data, and the
/// events a well-formed Anthropic stream (message_start first; blocks 0, 1, 2... started, given deltas
/// of their own kind and stopped one at a time; message_delta then message_stop, or an error, last).
/// The same payload is also a client request body and a complete upstream response: no trap, JSON out,
/// and an upstream path fit for a request line.
import Providers

private let request = Array(
    #"{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
private let statuses = [200, 400, 401, 429, 500, 529]

private func make() -> any ExchangeTranslator {
    let t = AnthropicToOpenAITranslator(options: TranslationOptions(upstreamPath: "/v1/openai/v1/chat/completions"))
    _ = try? t.upstreamRequest(for: ClientRequest(body: request))
    return t
}

private func isJSON(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { p in
        do throws(JSONError) {
            try JSONParser.validate(p)
            return true
        } catch { return false }
    }
}

/// The Anthropic event order (see the file comment).
private func checkAnthropicSequence(_ out: [UInt8]) {
    var decoder = SSEDecoder(maxEventBytes: 1 << 24)
    var events: [SSEEvent] = []
    do throws(SSEDecoderError) {
        try decoder.feed(out) { events.append($0) }
    } catch {
        fuzzFail("client stream is not SSE: \(error)")
    }
    var started = false
    var ended = false
    var open: (index: Int, tool: Bool)?
    var next = 0
    for e in events {
        guard let json = try? JSONParser.parse(e.data), let type = json["type"]?.stringValue else {
            fuzzFail("event without a JSON type: \(String(decoding: e.data, as: UTF8.self))")
        }
        if e.eventName != type { fuzzFail("event: \(e.eventName ?? "-") carries type \(type)") }
        if ended { fuzzFail("\(type) after the end") }
        switch type {
        case "error": ended = true
        case "ping": break
        case "message_start":
            if started { fuzzFail("second message_start") }
            started = true
        case "content_block_start":
            if !started || open != nil || json["index"]?.intValue != next {
                fuzzFail("bad content_block_start \(json.bytes)")
            }
            let tool = json["content_block"]?["type"]?.stringValue == "tool_use"
            if tool && (json["content_block"]?["name"]?.stringValue ?? "").isEmpty {
                fuzzFail("tool_use without a name")
            }
            open = (next, tool)
            next += 1
        case "content_block_delta":
            guard let current = open, json["index"]?.intValue == current.index else {
                fuzzFail("delta outside its block")
            }
            let kind = json["delta"]?["type"]?.stringValue
            if kind != (current.tool ? "input_json_delta" : "text_delta") {
                fuzzFail("\(kind ?? "-") in the wrong block")
            }
        case "content_block_stop":
            if open?.index != json["index"]?.intValue { fuzzFail("stop for a block that is not open") }
            open = nil
        case "message_delta":
            if !started || open != nil { fuzzFail("message_delta with a block open or before message_start") }
        case "message_stop":
            ended = true
        default:
            fuzzFail("unknown event type \(type)")
        }
    }
    if !ended { fuzzFail("stream ended without message_stop or error") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let out = checkStream(make, input)
    checkClientEvents(out, allowDone: false)
    checkAnthropicSequence(out)

    let body = Array(input.payload)
    let t = AnthropicToOpenAITranslator(
        options: TranslationOptions(
            upstreamPath: "/v1/openai/v1/chat/completions",
            modelAliases: ["alias": "gpt-5"]))
    do throws(APIError) {
        let up = try t.upstreamRequest(for: ClientRequest(body: body))
        if !isJSON(up.body) { fuzzFail("upstream body is not JSON: \(String(decoding: up.body, as: UTF8.self))") }
    } catch {
        if error.status != 400 { fuzzFail("request error with status \(error.status)") }
    }
    let status = statuses[size > 1 ? Int(data[1]) % statuses.count : 0]
    let r = t.clientResponse(status: status, contentType: "application/json", body: body, retryAfter: nil)
    if !isJSON(r.body) {
        fuzzFail("client body is not JSON (status \(status)): \(String(decoding: r.body, as: UTF8.self))")
    }
    _ = t.learnFromRejection(status: 400, body: body)
    return 0
}

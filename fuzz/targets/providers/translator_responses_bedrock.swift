/// libFuzzer target: `ResponsesToBedrockTranslator` (Responses API clients → Claude on Bedrock).
///
/// The payload is read twice. As an upstream stream (Bedrock's Anthropic SSE) cut anywhere: the client
/// stream is the same bytes for any cuts (fixed clock), every event is `event: <type>` + JSON data whose
/// `type` is that name, `sequence_number` counts 0, 1, 2, …, `response.created` comes first and exactly
/// one final event (`response.completed`, `.incomplete` or `.failed`) comes last (flag: end with
/// `streamFail`). As a client request body: nothing traps, and an accepted request gives a JSON body and a
/// path that can go in a request line.
import Providers

/// Tools of every kind the answer maps back: a function, a custom tool, a namespaced function, and a
/// `text.format` tool (`answer`), with encrypted reasoning asked for.
private let request = Array(
    #"{"model":"claude-sonnet-4-5-20250929","stream":true,"input":"hi","include":["reasoning.encrypted_content"],"tools":[{"type":"function","name":"f"},{"type":"custom","name":"apply_patch"},{"type":"namespace","name":"mcp__x","description":"","tools":[{"type":"function","name":"g"}]}],"text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"}}}}"#
        .utf8)

private let finals: Set<String> = ["response.completed", "response.incomplete", "response.failed"]

private func make() -> any ExchangeTranslator {
    let t = ResponsesToBedrockTranslator(
        options: TranslationOptions(upstreamPath: "/model/{model}/{action}"), now: { 1_700_000_000 })
    _ = try? t.upstreamRequest(for: ClientRequest(body: request))
    return t
}

private func checkEventOrder(_ out: [UInt8]) {
    var decoder = SSEDecoder(maxEventBytes: 1 << 24)
    var events: [SSEEvent] = []
    do throws(SSEDecoderError) {
        try decoder.feed(out) { events.append($0) }
    } catch {
        fuzzFail("client stream is not SSE: \(error)")
    }
    if events.count < 3 { fuzzFail("fewer than three events: \(String(decoding: out, as: UTF8.self))") }
    for (i, event) in events.enumerated() {
        guard let data = try? JSONParser.parse(event.data), let type = data["type"]?.stringValue else {
            fuzzFail("event \(i) has no JSON type")
        }
        if event.eventName != type { fuzzFail("event \(i): name \(event.eventName ?? "-") but type \(type)") }
        if data["sequence_number"]?.intValue != i { fuzzFail("event \(i): sequence_number is not \(i)") }
        if i == 0 && type != "response.created" { fuzzFail("first event is \(type)") }
        if finals.contains(type) != (i == events.count - 1) {
            fuzzFail("event \(i) \(type): a final event must be last and only last")
        }
    }
}

private func isJSON(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { p in
        do throws(JSONError) {
            try JSONParser.validate(p)
            return true
        } catch { return false }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let out = checkStream(make, input)
    checkClientEvents(out, allowDone: false)
    checkEventOrder(out)

    let t = ResponsesToBedrockTranslator(
        options: TranslationOptions(
            upstreamPath: "/model/{model}/{action}", modelAliases: ["alias": "anthropic.claude-x"]),
        now: { 1_700_000_000 })
    do throws(APIError) {
        let up = try t.upstreamRequest(for: ClientRequest(body: Array(input.payload)))
        if !isJSON(up.body) { fuzzFail("upstream body is not JSON: \(String(decoding: up.body, as: UTF8.self))") }
        if up.path.isEmpty || up.path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            fuzzFail("upstream path has a byte that cannot go in a request line: \(up.path)")
        }
    } catch {
        if error.status != 400 { fuzzFail("a refused request must be a 400, not \(error.status)") }
    }
    return 0
}

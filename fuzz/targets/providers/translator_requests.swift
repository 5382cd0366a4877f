/// libFuzzer target: each translator's `upstreamRequest` (client body → upstream body) and
/// `clientResponse` (upstream body → client body). Control byte 0 picks the translator, byte 1 the
/// upstream status. Nothing may trap; an accepted request must produce valid JSON for the upstream,
/// and a translated response body (the passthrough's, and Anthropic→Bedrock's 2xx, are copied) must be valid JSON.
import Providers

private let statuses = [200, 201, 400, 401, 403, 404, 413, 429, 500, 502, 503, 529]

private func isJSON(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { p in
        do throws(JSONError) { try JSONParser.validate(p); return true } catch { return false }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let control = UnsafeRawBufferPointer(start: data, count: min(size, 4))
    let which = control.count > 0 ? Int(control[0] & 0x7F) % 3 : 0
    let status = statuses[control.count > 1 ? Int(control[1]) % statuses.count : 0]
    let body = Array(input.payload)
    let options = TranslationOptions(upstreamPath: which == 0 ? "/v1/chat/completions" : "/model/{model}/{action}",
                                     renameMaxTokens: input.flag, modelAliases: ["alias": "anthropic.claude-x"])
    let t: any ExchangeTranslator
    switch which {
    case 0: t = OpenAIPassthroughTranslator(options: options)
    case 1: t = AnthropicToBedrockTranslator(options: options)
    default: t = OpenAIToBedrockTranslator(options: options, now: { 1_700_000_000 })
    }
    do throws(APIError) {
        let up = try t.upstreamRequest(for: ClientRequest(body: body, anthropicBeta: input.flag ? ["tools-2024-04-04"] : []))
        if !isJSON(up.body) { fuzzFail("upstream body is not JSON: \(String(decoding: up.body, as: UTF8.self))") }
        if up.path.isEmpty || up.path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            fuzzFail("upstream path has a byte that cannot go in a request line: \(up.path)")
        }
    } catch {
        _ = error
    }
    // The same bytes as an upstream response.
    let r = t.clientResponse(status: status, contentType: "application/json", body: body, retryAfter: status == 429 ? "7" : nil)
    // The passthrough copies every body; Anthropic→Bedrock copies 2xx bodies (minus Bedrock's metrics).
    let copied = which == 0 || (which == 1 && (200..<300).contains(status))
    if !copied && !isJSON(r.body) {
        fuzzFail("client body is not JSON (translator \(which), status \(status)): \(String(decoding: r.body, as: UTF8.self))")
    }
    return 0
}

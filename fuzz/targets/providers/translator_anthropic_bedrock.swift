/// libFuzzer target: `AnthropicToBedrockTranslator.streamChunk` (Bedrock's stream → Anthropic SSE) over
/// arbitrary bytes cut anywhere: same output for any cuts, and every client event is SSE with JSON data.
import Providers

private let request = Array(#"{"model":"claude-3-7-sonnet-20250219","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8)

private func make() -> any ExchangeTranslator {
    let t = AnthropicToBedrockTranslator(options: TranslationOptions(upstreamPath: "/model/{model}/{action}"), maxEventBytes: 1 << 16)
    _ = try? t.upstreamRequest(for: ClientRequest(body: request))
    return t
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    checkClientEvents(checkStream(make, input), allowDone: false)
    return 0
}

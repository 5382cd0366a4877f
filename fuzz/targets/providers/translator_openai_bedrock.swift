/// libFuzzer target: `OpenAIToBedrockTranslator.streamChunk` (Bedrock's Anthropic stream → OpenAI chunks)
/// over arbitrary bytes cut anywhere: same output for any cuts (fixed clock), every client event is SSE
/// with JSON data or `[DONE]`.
import Providers

private let request = Array(#"{"model":"claude-3-7-sonnet-20250219","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#.utf8)

private func make() -> any ExchangeTranslator {
    let t = OpenAIToBedrockTranslator(options: TranslationOptions(upstreamPath: "/model/{model}/{action}"), now: { 1_700_000_000 })
    _ = try? t.upstreamRequest(for: ClientRequest(body: request))
    return t
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    checkClientEvents(checkStream(make, input), allowDone: true)
    return 0
}

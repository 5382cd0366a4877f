/// libFuzzer target: `OpenAIPassthroughTranslator.streamChunk` over arbitrary upstream bytes cut anywhere.
/// The output must not depend on the cuts, nothing may follow the end, and a failed stream ends on an
/// event boundary with a JSON error event.
import Providers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let out = checkStream({ OpenAIPassthroughTranslator(options: TranslationOptions(upstreamPath: "/v1/chat/completions")) }, input)
    // streamEnd forwards a truncated stream as it came; streamFail must close it on an event boundary.
    if input.flag && !(out.suffix(2) == [0x0A, 0x0A] || out.suffix(4) == [0x0D, 0x0A, 0x0D, 0x0A] || out.suffix(2) == [0x0D, 0x0D]) {
        fuzzFail("passthrough stream does not end on a blank line: \(Array(out.suffix(8)))")
    }
    return 0
}

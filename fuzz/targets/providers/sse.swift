/// libFuzzer target: `SSEDecoder`. Events (and a size failure) must not depend on where the bytes are
/// cut; the flag selects a small event limit so the failure path is reached.
import Providers

struct SSEOutcome: Equatable, CustomStringConvertible {
    var events: [SSEEvent] = []
    var error: String?
    var description: String { "\(events.count) events \(events.map { "\($0.event):\($0.data)" }) error \(error ?? "-")" }
}

func decodeSSE(_ pieces: [UnsafeRawBufferPointer], limit: Int) -> SSEOutcome {
    var decoder = SSEDecoder(maxEventBytes: limit)
    var out = SSEOutcome()
    for piece in pieces {
        do throws(SSEDecoderError) {
            try decoder.feed(piece) { out.events.append($0) }
        } catch {
            out.error = error.message
            return out
        }
    }
    decoder.finish { out.events.append($0) }
    if !decoder.isIdle { fuzzFail("not idle after finish") }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let limit = input.flag ? 48 : 1 << 20
    let expected = decodeSSE([input.payload], limit: limit)
    compare(expected, decodeSSE(input.pieces, limit: limit), "SSE events, cuts \(input.cuts)")
    if input.payload.count <= 512 {
        compare(expected, decodeSSE(input.bytewise, limit: limit), "SSE events fed one byte at a time")
    }
    return 0
}

/// Equal outcomes for every way of cutting the input. (The decoder's event limit once depended on
/// where reads cut a long ignored line; fixed, see Tests/ProvidersTests/Regression/
/// SSEDecoderLimitRegressionTests, so no tolerance is left here.)
private func compare(_ whole: SSEOutcome, _ split: SSEOutcome, _ what: String) {
    fuzzExpectEqual(whole, split, what)
}

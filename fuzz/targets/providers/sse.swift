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

/// Equal outcomes, except for one known discrepancy (Tests/ProvidersTests/Regression/
/// SSEDecoderLimitRegressionTests): a long line the decoder ignores (comment, `id`, unknown field) counts
/// against the limit only when a feed ends inside it. Then the events before the error must still agree.
private func compare(_ whole: SSEOutcome, _ split: SSEOutcome, _ what: String) {
    if whole == split { return }
    // A size failure may come earlier in one run than the other; the events before it must agree.
    let sizeError = "SSE event larger than"
    let known = [whole.error, split.error].contains { $0?.hasPrefix(sizeError) ?? false }
    let shorter = whole.events.count <= split.events.count ? whole : split
    let longer = whole.events.count <= split.events.count ? split : whole
    if known && Array(longer.events.prefix(shorter.events.count)) == shorter.events {
        return
    }
    fuzzExpectEqual(whole, split, what)
}

/// Shared checks for the Providers targets: run a stream translator over cut input, and read the
/// client-side SSE a translator wrote.
import Providers

/// Feeds `pieces` to a fresh translator, then ends the stream (or, with `fail`, fails it), and
/// returns every byte written for the client. `make` builds the translator and primes it with its request.
func runStream(_ make: () -> any ExchangeTranslator, _ pieces: [UnsafeRawBufferPointer], fail: Bool) -> [UInt8] {
    let t = make()
    var out: [UInt8] = []
    for piece in pieces { t.streamChunk(piece, into: &out) }
    if fail {
        t.streamFail(.badGateway("upstream reset mid-stream"), into: &out)
    } else {
        t.streamEnd(into: &out)
    }
    // After the end nothing more may be written.
    let ended = out.count
    t.streamEnd(into: &out)
    t.streamFail(.badGateway("late"), into: &out)
    if out.count != ended { fuzzFail("bytes written after the stream ended: \(Array(out[ended...]))") }
    return out
}

/// The translator's output fed whole, cut, and (when short) bytewise must be the same bytes.
func checkStream(_ make: () -> any ExchangeTranslator, _ input: FuzzInput) -> [UInt8] {
    let whole = runStream(make, [input.payload], fail: input.flag)
    let cut = runStream(make, input.pieces, fail: input.flag)
    if whole != cut {
        fuzzFail("stream output differs for cuts \(input.cuts)\n  whole: \(String(decoding: whole, as: UTF8.self))\n  split: \(String(decoding: cut, as: UTF8.self))")
    }
    if input.payload.count <= 256 {
        let bytewise = runStream(make, input.bytewise, fail: input.flag)
        if whole != bytewise {
            fuzzFail("stream output differs fed bytewise\n  whole: \(String(decoding: whole, as: UTF8.self))\n  bytes: \(String(decoding: bytewise, as: UTF8.self))")
        }
    }
    return whole
}

/// Every event the translator wrote must be whole SSE whose data is valid JSON (or `[DONE]`), and the
/// output must end on an event boundary.
func checkClientEvents(_ out: [UInt8], allowDone: Bool) {
    var decoder = SSEDecoder(maxEventBytes: 1 << 24)
    var events: [SSEEvent] = []
    do throws(SSEDecoderError) {
        try decoder.feed(out) { events.append($0) }
    } catch {
        fuzzFail("client stream is not SSE: \(error)")
    }
    if !decoder.isIdle { fuzzFail("client stream does not end on an event boundary: \(String(decoding: out.suffix(200), as: UTF8.self))") }
    for e in events {
        if allowDone && e.data == Array("[DONE]".utf8) { continue }
        let ok: Bool = e.data.withUnsafeBytes { p in
            do throws(JSONError) { try JSONParser.validate(p); return true } catch { return false }
        }
        if !ok { fuzzFail("client event data is not JSON: \(String(decoding: e.data, as: UTF8.self))") }
    }
}

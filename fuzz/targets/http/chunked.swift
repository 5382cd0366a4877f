/// libFuzzer target: `ChunkedDecoder` alone. The flag picks a tiny body limit (to reach the limit
/// paths). The body bytes, the bytes consumed and the error code must not depend on how input is cut.
import HTTP1

struct ChunkedOutcome: Equatable, CustomStringConvertible {
    var body: [UInt8] = []
    var consumed = 0
    var done = false
    var error: String?
    var description: String { "body \(body.count) consumed \(consumed) done \(done) error \(error ?? "-")" }
}

func decodeChunked(_ pieces: [UnsafeRawBufferPointer], limit: Int) -> ChunkedOutcome {
    var decoder = ChunkedDecoder(maxBodyBytes: limit, maxTrailerBytes: 256)
    var out = ChunkedOutcome()
    for piece in pieces {
        var delivered = 0
        let r = decoder.decode(piece) { span in
            delivered += span.count
            out.body.append(contentsOf: span)
        }
        switch r {
        case .needMore(let consumed):
            if consumed != piece.count { fuzzFail("needMore consumed \(consumed) of \(piece.count)") }
            out.consumed += consumed
        case .done(let consumed):
            if consumed > piece.count { fuzzFail("done consumed \(consumed) of \(piece.count)") }
            if !out.done { out.consumed += consumed }
            out.done = true
            if !decoder.isDone { fuzzFail("done but not isDone") }
        case .failure(let e):
            out.error = "\(e.code) \(e.status)"
            out.consumed = -1  // a failure reports no position the caller could act on
            return out
        }
        if out.body.count > limit { fuzzFail("body \(out.body.count) past the limit \(limit)") }
        if decoder.bodyBytes != out.body.count { fuzzFail("bodyBytes \(decoder.bodyBytes) != \(out.body.count)") }
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let limit = input.flag ? 64 : 1 << 20
    let expected = decodeChunked([input.payload], limit: limit)
    fuzzExpectEqual(expected, decodeChunked(input.pieces, limit: limit), "chunked, cuts \(input.cuts)")
    if input.payload.count <= 512 {
        fuzzExpectEqual(expected, decodeChunked(input.bytewise, limit: limit), "chunked, one byte at a time")
    }
    return 0
}

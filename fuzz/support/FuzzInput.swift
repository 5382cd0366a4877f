/// The shape every split-checking target reads: four control bytes, then the payload.
///
/// The control bytes pick two cut points (little-endian UInt16 each, reduced modulo `payload.count + 1`),
/// so libFuzzer mutates where a stream is cut as freely as what it carries. A target feeds the payload
/// whole, cut at those points, and (when short) one byte at a time, and requires the same outcome.
struct FuzzInput {
    static let controlBytes = 4
    /// The payload, a view of the fuzzer's buffer (valid during the call only).
    let payload: UnsafeRawBufferPointer
    /// Cut points into `payload`, sorted, each in `0...payload.count`.
    let cuts: [Int]
    /// A spare control bit for targets that want a flag (the top bit of the first control byte).
    let flag: Bool

    init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        let all = UnsafeRawBufferPointer(start: data, count: size)
        if size < Self.controlBytes {
            payload = UnsafeRawBufferPointer(rebasing: all[size..<size])
            cuts = [0, 0]
            flag = false
            return
        }
        payload = UnsafeRawBufferPointer(rebasing: all[Self.controlBytes..<size])
        let n = payload.count + 1
        let a = (Int(all[0] & 0x7F) | Int(all[1]) << 7) % n
        let b = (Int(all[2]) | Int(all[3]) << 8) % n
        cuts = [min(a, b), max(a, b)]
        flag = all[0] & 0x80 != 0
    }

    /// The payload as pieces cut at `cuts` (empty pieces kept: feeding zero bytes must be harmless).
    var pieces: [UnsafeRawBufferPointer] {
        var out: [UnsafeRawBufferPointer] = []
        var start = 0
        for c in cuts {
            out.append(UnsafeRawBufferPointer(rebasing: payload[start..<c]))
            start = c
        }
        out.append(UnsafeRawBufferPointer(rebasing: payload[start..<payload.count]))
        return out
    }

    /// One piece per byte.
    var bytewise: [UnsafeRawBufferPointer] {
        (0..<payload.count).map { UnsafeRawBufferPointer(rebasing: payload[$0..<($0 + 1)]) }
    }
}

/// Fails the run with a message (libFuzzer reports the trap as a crash and saves the input).
func fuzzFail(_ message: @autoclosure () -> String) -> Never {
    fatalError("FUZZ INVARIANT BROKEN: \(message())")
}

/// Requires two outcomes to be equal, naming both when they differ.
func fuzzExpectEqual<T: Equatable>(_ a: T, _ b: T, _ what: @autoclosure () -> String) {
    if a != b { fuzzFail("\(what())\n  whole: \(a)\n  split: \(b)") }
}

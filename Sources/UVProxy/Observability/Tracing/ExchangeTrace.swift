import Glibc
import HTTP1

/// One exchange's place in a trace, made when the exchange starts (`WorkerTracer.begin`): the trace
/// it belongs to (the client's, or a new one), its own SERVER span id, the id of the CLIENT span that
/// stands for the upstream call, and whether the spans are recorded. Plain values only (copies are
/// a memcpy: no retain, no allocation); the client's `tracestate` stays in the request head.
struct ExchangeTrace {
    let traceHi: UInt64
    let traceLo: UInt64
    /// The SERVER span (the whole exchange).
    let spanId: UInt64
    /// The CLIENT span (the call to the upstream, its last try); the upstream's `traceparent` names it.
    let clientSpanId: UInt64
    /// The client's span, 0 when the trace starts here.
    let parentSpanId: UInt64
    /// Recorded and exported; otherwise the context is only passed on (flag 00).
    let sampled: Bool
    /// The index of the client's `tracestate` field in the request head, passed on unchanged (-1: none,
    /// or longer than the spec's 512 bytes; of several such fields the first).
    let traceStateField: Int
    /// Wall-clock start, Unix nanoseconds (0 when not sampled).
    let startNs: UInt64
    /// When the request last went upstream (0: never).
    private(set) var clientStartNs: UInt64 = 0

    init(traceHi: UInt64, traceLo: UInt64, spanId: UInt64, clientSpanId: UInt64, parentSpanId: UInt64,
         sampled: Bool, traceStateField: Int, startNs: UInt64) {
        self.traceHi = traceHi
        self.traceLo = traceLo
        self.spanId = spanId
        self.clientSpanId = clientSpanId
        self.parentSpanId = parentSpanId
        self.sampled = sampled
        self.traceStateField = traceStateField
        self.startNs = startNs
    }

    private static let traceparentName: StaticString = "traceparent: "

    /// The upstream request's `traceparent` (naming the CLIENT span) and the client's `tracestate`
    /// from `head`; notes the time as the CLIENT span's start (once per try, as the request is written).
    mutating func appendHeaders(_ head: HTTPRequestHead, into b: inout [UInt8]) {
        if sampled { clientStartNs = wallClockNanoseconds() }
        let name = Self.traceparentName.utf8CodeUnitCount
        withUnsafeTemporaryAllocation(byteCount: name + TraceParent.length + 2, alignment: 1) { p in
            let base = p.baseAddress!
            base.copyMemory(from: Self.traceparentName.utf8Start, byteCount: name)
            TraceParent.write(traceHi: traceHi, traceLo: traceLo, span: clientSpanId, sampled: sampled, at: base + name)
            base.storeBytes(of: 0x0D, toByteOffset: name + TraceParent.length, as: UInt8.self)
            base.storeBytes(of: 0x0A, toByteOffset: name + TraceParent.length + 1, as: UInt8.self)
            b.append(contentsOf: UnsafeRawBufferPointer(p))
        }
        if traceStateField >= 0, traceStateField < head.fields.count {
            let range = head.fields[traceStateField].value
            head.bytes.withUnsafeBytes {
                HTTPWriter.appendTrustedHeader("tracestate", bytes: UnsafeRawBufferPointer(rebasing: $0[range]), into: &b)
            }
        }
    }

    /// The client's `tracestate` as text (for the span; exporter-bound, so made once per sampled exchange).
    func traceState(in head: HTTPRequestHead) -> String? {
        guard traceStateField >= 0, traceStateField < head.fields.count else { return nil }
        return head.bytes.withUnsafeBytes { String(decoding: $0[head.fields[traceStateField].value], as: UTF8.self) }
    }
}

/// Unix time in nanoseconds (CLOCK_REALTIME, a vDSO call).
@inline(__always)
func wallClockNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// xoshiro256** seeded from the system's generator once per worker: trace and span ids cost a few
/// instructions each instead of a `getrandom` call.
struct TraceIdGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var g = SystemRandomNumberGenerator()
        self.init(seed: g.next())
    }

    /// The state expanded from one seed with splitmix64 (as xoshiro's authors advise): never all zero.
    init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// A non-zero id (zero is "invalid" in W3C and OTLP).
    @inline(__always)
    mutating func nextId() -> UInt64 {
        var v = next()
        while v == 0 { v = next() }
        return v
    }
}

/// Which new traces are recorded: `TraceIdRatioBased` on the trace id's low 8 bytes, behind the
/// parent's decision when the client sent one (`ParentBased`).
struct TraceSampler: Equatable {
    /// Sample when the trace id's low half is below this; `UInt64.max` with `all` for ratio 1.
    let threshold: UInt64
    let all: Bool

    init(ratio: Double) {
        if ratio >= 1 {
            all = true
            threshold = .max
        } else if ratio <= 0 || ratio.isNaN {
            all = false
            threshold = 0
        } else {
            all = false
            let t = ratio * 18_446_744_073_709_551_616.0
            threshold = t >= 18_446_744_073_709_551_615.0 ? .max : UInt64(t)
        }
    }

    /// A new trace (no parent).
    @inline(__always)
    func samples(traceLo: UInt64) -> Bool { all || traceLo < threshold }

    /// A continued trace: the parent decided.
    @inline(__always)
    func samples(parent: TraceParent) -> Bool { parent.sampled }
}

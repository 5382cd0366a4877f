import Glibc
import UVNet
import HTTP1

/// One worker's side of tracing (loop-confined): starts each exchange's trace context, keeps the
/// worker's finished spans in a small batch, and hands the batch to the shared `SpanExporter` when it
/// is full or `batch.interval_ms` after its first span, whichever comes first. The request path takes
/// no lock: the exporter's lock is taken once per batch.
final class WorkerTracer {
    let config: TracingConfig
    private let exporter: SpanExporter
    private let loop: EventLoop
    private var ids = TraceIdGenerator()
    private let sampler: TraceSampler
    private var pending = SpanBatch()
    /// The text buffer's capacity for a new batch: the last full batch's need, at least 16 KiB.
    private var textCapacity = 16 * 1024
    private var timer: Timer?
    private var timerArmed = false
    private let maxBatch: Int

    init(loop: EventLoop, exporter: SpanExporter) {
        self.loop = loop
        self.exporter = exporter
        config = exporter.config
        sampler = TraceSampler(ratio: config.sampleRatio)
        maxBatch = max(1, config.batchMaxSpans)
        pending = SpanBatch(capacity: maxBatch, textCapacity: textCapacity)
    }

    // MARK: Request path

    private static let traceparentName: StaticString = "traceparent"
    private static let tracestateName: StaticString = "tracestate"

    @inline(__always)
    private static func raw(_ s: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
    }

    /// The trace context of a new exchange: the client's `traceparent` continued when it is valid (a
    /// repeated or invalid one is ignored), else a new trace sampled by `sample_ratio`.
    func begin(_ head: HTTPRequestHead) -> ExchangeTrace {
        var parent: TraceParent?
        var parents = 0
        var state = -1
        head.bytes.withUnsafeBytes { p in
            var i = 0
            for f in head.fields {
                switch f.name.count {
                case 11 where HTTPBytes.equalsIgnoringCase(p, f.name, Self.raw(Self.traceparentName)):
                    parents += 1
                    parent = TraceParent.parse(UnsafeRawBufferPointer(rebasing: p[f.value]))
                case 10 where state < 0 && HTTPBytes.equalsIgnoringCase(p, f.name, Self.raw(Self.tracestateName)):
                    if !f.value.isEmpty, f.value.count <= 512 { state = i }
                default: break
                }
                i += 1
            }
        }
        if parents > 1 { parent = nil }
        let spanId = ids.nextId()
        let clientSpanId = ids.nextId()
        if let parent {
            let sampled = sampler.samples(parent: parent)
            return ExchangeTrace(traceHi: parent.traceHi, traceLo: parent.traceLo, spanId: spanId,
                                 clientSpanId: clientSpanId, parentSpanId: parent.spanId, sampled: sampled,
                                 traceStateField: state, startNs: sampled ? wallClockNanoseconds() : 0)
        }
        // No (valid) parent: a tracestate without its traceparent is meaningless and dropped.
        let hi = ids.next()
        let lo = ids.nextId()
        let sampled = sampler.samples(traceLo: lo)
        return ExchangeTrace(traceHi: hi, traceLo: lo, spanId: spanId, clientSpanId: clientSpanId, parentSpanId: 0,
                             sampled: sampled, traceStateField: -1, startNs: sampled ? wallClockNanoseconds() : 0)
    }

    /// Records the exchange's spans (when sampled). `model` is the client's `model` value in `body` as
    /// the translator found it (a JSON string, quotes included).
    func end(_ trace: ExchangeTrace, route: CompiledRoute, method: String, head: HTTPRequestHead, status: Int,
             upstreamStatus: Int, retries: Int, model: Range<Int>?, body: [UInt8], upstreamPath: String?,
             note: String?, usage: TraceUsage = TraceUsage()) {
        guard trace.sampled else { return }
        var r = SpanRecord(
            traceHi: trace.traceHi, traceLo: trace.traceLo, spanId: trace.spanId, parentSpanId: trace.parentSpanId,
            clientSpanId: trace.clientSpanId, startNs: trace.startNs, endNs: wallClockNanoseconds(),
            clientStartNs: trace.clientStartNs, route: route)
        // The text goes into the batch's buffer as bytes: no String is made on the request path.
        head.bytes.withUnsafeBytes { p in
            let target = UnsafeRawBufferPointer(rebasing: p[head.target])
            var n = 0
            if let base = target.baseAddress, let q = memchr(base, Int32(UInt8(ascii: "?")), target.count) {
                n = base.distance(to: UnsafeRawPointer(q))
            } else {
                n = target.count
            }
            r.path = pending.text(UnsafeRawBufferPointer(rebasing: target[0..<n]), limit: SpanRecord.maxPath)
            if trace.traceStateField >= 0, trace.traceStateField < head.fields.count {
                r.traceState = pending.text(UnsafeRawBufferPointer(rebasing: p[head.fields[trace.traceStateField].value]))
            }
        }
        if let m = model, m.count >= 2, m.upperBound <= body.count {
            r.requestModel = body.withUnsafeBytes {
                pending.text(UnsafeRawBufferPointer(rebasing: $0[(m.lowerBound + 1)..<(m.upperBound - 1)]), limit: SpanRecord.maxModel)
            }
        }
        r.method = pending.text(method)
        r.upstreamPath = pending.text(upstreamPath, limit: SpanRecord.maxPath)
        r.note = pending.text(note)
        r.finishReason = pending.text(usage.finishReason)
        r.responseModel = pending.text(usage.responseModel)
        r.status = Int32(truncatingIfNeeded: status)
        r.upstreamStatus = Int32(truncatingIfNeeded: upstreamStatus)
        r.retries = Int32(truncatingIfNeeded: retries)
        r.inputTokens = usage.inputTokens.map(Int64.init) ?? -1
        r.outputTokens = usage.outputTokens.map(Int64.init) ?? -1
        pending.append(r)
        if pending.count >= maxBatch {
            flush()
        } else if !timerArmed {
            armTimer()
        }
    }

    // MARK: Batching

    private func armTimer() {
        let t: Timer
        if let timer { t = timer } else {
            t = Timer(loop: loop)
            timer = t
            // Lifetime: the action holds this tracer until `close` closes the timer.
            t.setAction { self.flush() }
        }
        timerArmed = true
        t.restart(after: UInt64(config.batchIntervalMs))
    }

    /// Hands the batch to the exporter (which drops what does not fit in its queue, and counts it).
    func flush() {
        if timerArmed {
            timerArmed = false
            timer?.pause()
        }
        guard !pending.isEmpty else { return }
        if pending.count >= maxBatch { textCapacity = max(textCapacity, pending.text.count) }
        var batch = SpanBatch(capacity: maxBatch, textCapacity: textCapacity)
        swap(&batch, &pending)
        exporter.submit(batch)
    }

    /// Hands over what is left and stops (the worker's loop is ending).
    func close() {
        flush()
        timer?.close()
        timer = nil
    }

    /// Spans waiting in this worker (tests).
    var pendingCount: Int { pending.count }
}

/// What the exchange learned about usage and the response, when it did (all optional).
struct TraceUsage {
    var inputTokens: Int?
    var outputTokens: Int?
    var finishReason: String?
    var responseModel: String?
}

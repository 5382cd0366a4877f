/// A piece of a `SpanBatch`'s text: `count` bytes at `start`, or none (`count == -1`).
struct SpanText: Equatable {
    var start: UInt32
    var count: Int32

    static let none = SpanText(start: 0, count: -1)
    var isNone: Bool { count < 0 }
}

/// One finished, sampled exchange as the exporter needs it: ids, times, numbers, and the exchange's
/// text (method, path, models...) as ranges of its batch's byte buffer. Plain values apart from the
/// route: appending one to a batch copies bytes into reserved capacity (no allocation, no String).
/// Attribute names, the span's name and every derived value are made on the exporter's thread.
struct SpanRecord {
    var traceHi: UInt64
    var traceLo: UInt64
    var spanId: UInt64
    var parentSpanId: UInt64
    /// The CLIENT span's id; exported only when `clientStartNs` is set (the request went upstream).
    var clientSpanId: UInt64
    var startNs: UInt64
    var endNs: UInt64
    var clientStartNs: UInt64
    /// The route (or fallback target) that served the request: dialects, path, upstream. Immutable,
    /// shared by every worker (`CompiledRoute` is read-only after the runtime is built).
    var route: CompiledRoute
    var traceState: SpanText = .none
    var method: SpanText = .none
    /// The request's path without its query (at most `maxPath` bytes).
    var path: SpanText = .none
    /// The client's `model` (at most `maxModel` bytes, as the body had it), none when unknown.
    var requestModel: SpanText = .none
    /// The path the request took upstream (before the upstream's base path; a query is cut at export).
    var upstreamPath: SpanText = .none
    /// What the exchange noted (the error's message on failures); never a body or a credential.
    var note: SpanText = .none
    var finishReason: SpanText = .none
    var responseModel: SpanText = .none
    var status: Int32 = 0
    var upstreamStatus: Int32 = 0
    var retries: Int32 = 0
    /// Usage when the exchange knew it (-1: unknown).
    var inputTokens: Int64 = -1
    var outputTokens: Int64 = -1

    static let maxPath = 1024
    static let maxModel = 256
    /// The longest note, tracestate, finish reason or response model kept (bytes; exported as valid UTF-8).
    static let maxText = 512
}

/// A worker's finished exchanges, handed to the exporter at once: the records and one byte buffer
/// holding all their text. A worker fills one (its capacity reserved up front) and hands it over whole.
struct SpanBatch {
    var records: [SpanRecord] = []
    var text: [UInt8] = []

    init() {}

    init(capacity: Int, textCapacity: Int) {
        records.reserveCapacity(capacity)
        text.reserveCapacity(textCapacity)
    }

    var count: Int { records.count }
    var isEmpty: Bool { records.isEmpty }

    /// The OTLP spans of these records: each has its SERVER span, and a CLIENT span when it went upstream.
    var spanCount: UInt64 {
        records.reduce(0) { $0 + ($1.clientStartNs != 0 ? 2 : 1) }
    }

    /// The first `n` records (sharing the text).
    func prefix(_ n: Int) -> SpanBatch {
        var b = SpanBatch()
        b.records = Array(records.prefix(n))
        b.text = text
        return b
    }

    /// Records from `n` on (sharing the text).
    func dropFirst(_ n: Int) -> SpanBatch {
        var b = SpanBatch()
        b.records = Array(records.dropFirst(n))
        b.text = text
        return b
    }

    mutating func append(_ record: SpanRecord) { records.append(record) }

    /// Keeps `bytes` (at most `limit` of them) in the text.
    @inline(__always)
    mutating func text(_ bytes: UnsafeRawBufferPointer, limit: Int = SpanRecord.maxText) -> SpanText {
        let n = min(bytes.count, limit)
        let start = UInt32(truncatingIfNeeded: text.count)
        if n > 0 { text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<n])) }
        return SpanText(start: start, count: Int32(truncatingIfNeeded: n))
    }

    /// Keeps a string's UTF-8 (at most `limit` bytes); none for nil.
    @inline(__always)
    mutating func text(_ s: String?, limit: Int = SpanRecord.maxText) -> SpanText {
        guard var s else { return .none }
        return s.withUTF8 { text(UnsafeRawBufferPointer($0), limit: limit) }
    }

    /// The bytes of a piece of text (tests).
    func string(_ t: SpanText) -> String? {
        t.isNone ? nil : String(decoding: text[Int(t.start)..<Int(t.start) + Int(t.count)], as: UTF8.self)
    }
}

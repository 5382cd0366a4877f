/// One finished, sampled exchange as the exporter needs it: ids, times, and the facts the attributes
/// are made of, kept as numbers and the strings the exchange already had. Attribute names, the span's
/// name and every derived value are made on the exporter's thread, never on the request path.
struct SpanRecord: @unchecked Sendable {
    var traceHi: UInt64
    var traceLo: UInt64
    var spanId: UInt64
    var parentSpanId: UInt64
    /// The CLIENT span's id; exported only when `clientStartNs` is set (the request went upstream).
    var clientSpanId: UInt64
    var startNs: UInt64
    var endNs: UInt64
    var clientStartNs: UInt64
    var traceState: String?
    /// The route (or fallback target) that served the request: dialects, path, upstream. Immutable,
    /// shared by every worker (`CompiledRoute` is read-only after the runtime is built).
    var route: CompiledRoute
    var method: String
    /// The request's path without its query (at most `maxPath` bytes).
    var path: String
    /// The client's `model` (at most `maxModel` bytes), nil when unknown (pass-through, no body).
    var requestModel: String?
    /// The path the request took upstream (before the upstream's base path; a query is cut at export).
    var upstreamPath: String?
    var status: Int32
    var upstreamStatus: Int32
    var retries: Int32
    /// What the exchange noted (the error's message on failures); never a body or a credential.
    var note: String?
    /// Usage and the response's facts when the exchange knew them (-1 / nil: unknown).
    var inputTokens: Int64 = -1
    var outputTokens: Int64 = -1
    var finishReason: String?
    var responseModel: String?

    static let maxPath = 1024
    static let maxModel = 256

    /// The OTLP spans of these records: each has its SERVER span, and a CLIENT span when it went upstream.
    static func spanCount(_ records: ArraySlice<SpanRecord>) -> UInt64 {
        records.reduce(0) { $0 + ($1.clientStartNs != 0 ? 2 : 1) }
    }
}

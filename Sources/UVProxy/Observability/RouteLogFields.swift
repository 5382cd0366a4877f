/// A route's access-log fields that are the same on every line (its upstream's name, its own name),
/// formatted once per format when the route is compiled: a line copies them whole instead of
/// escaping or cleaning the same bytes per request. The four pieces live in one allocation that the
/// route owns, and a line reads them as raw spans (`Spans`, a trivial value): no array is retained
/// and released per line, as reading them from `[UInt8]` properties was (~80 instructions a line).
/// Immutable once made; freed with the route (`@unchecked Sendable`: nothing writes after `init`).
final class RouteLogFields: @unchecked Sendable {
    /// ` upstream=<name>/` and `,"upstream":"<name>","upstream_status":` (the status follows);
    /// ` route="<name>"` and `,"route":"<name>"`.
    struct Spans {
        let upstreamText: UnsafeRawBufferPointer
        let upstreamJSON: UnsafeRawBufferPointer
        let routeText: UnsafeRawBufferPointer
        let routeJSON: UnsafeRawBufferPointer

        @inline(__always)
        func upstream(_ format: AccessLog.Format) -> UnsafeRawBufferPointer {
            format == .text ? upstreamText : upstreamJSON
        }

        @inline(__always)
        func route(_ format: AccessLog.Format) -> UnsafeRawBufferPointer { format == .text ? routeText : routeJSON }
    }

    let spans: Spans
    private let storage: UnsafeMutableRawPointer

    init(upstream: [UInt8], route: [UInt8]) {
        func format(_ f: AccessLog.Format, _ build: (inout AccessLineWriter) -> Void) -> [UInt8] {
            let room = 4 * 1024
            let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: room)
            defer { storage.deallocate() }
            var w = AccessLineWriter(format: f, into: storage, capacity: room)
            build(&w)
            return w.bytes
        }
        let pieces = [
            format(.text) { $0.upstreamName(upstream) },
            format(.json) { $0.upstreamName(upstream) },
            route.withUnsafeBytes { r in format(.text) { $0.string("route", r) } },
            route.withUnsafeBytes { r in format(.json) { $0.string("route", r) } },
        ]
        let total = pieces.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, total), alignment: 8)
        var spans: [UnsafeRawBufferPointer] = []
        var at = 0
        for piece in pieces {
            piece.withUnsafeBytes { p in
                if let b = p.baseAddress { (storage + at).copyMemory(from: b, byteCount: p.count) }
            }
            spans.append(UnsafeRawBufferPointer(start: storage + at, count: piece.count))
            at += piece.count
        }
        self.storage = storage
        self.spans = Spans(upstreamText: spans[0], upstreamJSON: spans[1], routeText: spans[2], routeJSON: spans[3])
    }

    deinit { storage.deallocate() }
}

extension AccessLineWriter {
    /// `upstream=<name>/<status>` from the route's formatted fields (JSON: `"upstream"` and `"upstream_status"`).
    @inline(__always)
    mutating func upstream(_ fields: RouteLogFields.Spans, status: Int) {
        raw(fields.upstream(format))
        number(status)
    }

    /// `route="<name>"` from the route's formatted fields.
    @inline(__always)
    mutating func route(_ fields: RouteLogFields.Spans) {
        raw(fields.route(format))
    }

    @inline(__always)
    mutating func upstream(_ fields: RouteLogFields, status: Int) { upstream(fields.spans, status: status) }

    @inline(__always)
    mutating func route(_ fields: RouteLogFields) { route(fields.spans) }
}

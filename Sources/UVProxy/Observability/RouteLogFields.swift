/// A route's access-log fields that are the same on every line (its upstream's name, its own name),
/// formatted once per format when the route is compiled: a line copies them whole instead of
/// escaping or cleaning the same bytes per request. A class: a line takes one reference, not four.
final class RouteLogFields: Sendable {
    /// ` upstream=<name>/` and `,"upstream":"<name>","upstream_status":` (the status follows).
    private let upstreamText: [UInt8]
    private let upstreamJSON: [UInt8]
    /// ` route="<name>"` and `,"route":"<name>"`.
    private let routeText: [UInt8]
    private let routeJSON: [UInt8]

    init(upstream: [UInt8], route: [UInt8]) {
        func format(_ f: AccessLog.Format, _ build: (inout AccessLineWriter) -> Void) -> [UInt8] {
            let room = 4 * 1024
            let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: room)
            defer { storage.deallocate() }
            var w = AccessLineWriter(format: f, into: storage, capacity: room)
            build(&w)
            return w.bytes
        }
        upstreamText = format(.text) { $0.upstreamName(upstream) }
        upstreamJSON = format(.json) { $0.upstreamName(upstream) }
        routeText = route.withUnsafeBytes { r in format(.text) { $0.string("route", r) } }
        routeJSON = route.withUnsafeBytes { r in format(.json) { $0.string("route", r) } }
    }

    @inline(__always)
    func upstream(_ format: AccessLog.Format, _ body: (UnsafeRawBufferPointer) -> Void) {
        (format == .text ? upstreamText : upstreamJSON).withUnsafeBytes(body)
    }

    @inline(__always)
    func route(_ format: AccessLog.Format, _ body: (UnsafeRawBufferPointer) -> Void) {
        (format == .text ? routeText : routeJSON).withUnsafeBytes(body)
    }
}

extension AccessLineWriter {
    /// `upstream=<name>/<status>` from the route's formatted fields (JSON: `"upstream"` and `"upstream_status"`).
    @inline(__always)
    mutating func upstream(_ fields: RouteLogFields, status: Int) {
        fields.upstream(format) { raw($0) }
        number(status)
    }

    /// `route="<name>"` from the route's formatted fields.
    @inline(__always)
    mutating func route(_ fields: RouteLogFields) {
        fields.route(format) { raw($0) }
    }
}

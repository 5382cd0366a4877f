import Glibc
import UVNet
import HTTP1

/// `GET <path>` (and HEAD) answered with every worker's metrics in the Prometheus text format. Used by
/// the proxy's own listener (`ProxyWorker.handle` asks `matches` before routing) and, when
/// `metrics.listen` is set, as the whole handler of an admin listener on the first worker's loop.
final class MetricsEndpoint: HTTPRequestHandler {
    let loop: EventLoop
    let hub: MetricsHub
    private let path: [UInt8]
    /// A configured path with a `?` matches no request (a request's path ends before its first `?`).
    private let pathHasQuery: Bool

    init(loop: EventLoop, hub: MetricsHub, path: String) {
        self.loop = loop
        self.hub = hub
        self.path = Array(path.utf8)
        pathHasQuery = path.utf8.contains(0x3F)
    }

    /// True for a request to the endpoint's path (any method: `serve` answers 405 to the others): its
    /// target is the path, alone or before a `?`. Asked of every request on the listener: the target's
    /// first bytes are compared before its query is looked for (no `memchr` for a `?` per request).
    @inline(__always)
    func matches(_ head: HTTPRequestHead) -> Bool {
        let t = head.target
        let n = path.count
        guard t.count >= n, n > 0, !pathHasQuery else { return false }
        return head.bytes.withUnsafeBytes { b in
            guard t.upperBound <= b.count else { return false }
            return path.withUnsafeBytes { p in
                ModelMatcher.same(b.baseAddress! + t.lowerBound, p.baseAddress!, n)
                    && (t.count == n || b[t.lowerBound + n] == 0x3F)
            }
        }
    }



    /// Scrapes every worker and answers on `connection` once all replied (or the hub's timeout
    /// passed); `answered` runs after the response was written (the access log).
    func serve(
        _ head: HTTPRequestHead, requestId: String, on connection: HTTPServerConnection,
        answered: @escaping (Int) -> Void = { _ in }
    ) {
        guard head.isMethod("GET") || head.isMethod("HEAD") else {
            connection.respond(
                status: 405,
                headers: [("Content-Type", "text/plain"), ("Allow", "GET, HEAD"), ("X-Request-Id", requestId)],
                body: Array("use GET\n".utf8))
            answered(405)
            return
        }
        let isHead = head.isMethod("HEAD")
        hub.scrape(on: loop) { report in
            let body = Array(report.render().utf8)
            // The client may have left meanwhile: then the connection ignores the response.
            connection.respond(
                status: 200, headers: [("Content-Type", PrometheusText.contentType), ("X-Request-Id", requestId)],
                body: isHead ? [] : body)
            answered(200)
        }
    }

    // MARK: HTTPRequestHandler (the admin listener)

    func handle(_ request: HTTPRequest, on connection: HTTPServerConnection) {
        let head = request.head
        guard matches(head) else {
            connection.respond(
                status: 404, headers: [("Content-Type", "text/plain")],
                body: Array("not found: metrics are at \(String(decoding: path, as: UTF8.self))\n".utf8))
            return
        }
        serve(
            head, requestId: head.value("x-request-id").flatMap { RequestIds.isAcceptable($0) ? $0 : nil } ?? "metrics",
            on: connection)
    }

    func errorResponse(status: Int, message: String, target: String?) -> (contentType: String, body: [UInt8]) {
        ("text/plain", Array((message + "\n").utf8))
    }
}

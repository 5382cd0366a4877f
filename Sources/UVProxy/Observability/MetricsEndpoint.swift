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

    init(loop: EventLoop, hub: MetricsHub, path: String) {
        self.loop = loop
        self.hub = hub
        self.path = Array(path.utf8)
    }

    /// True for a request to the endpoint's path (any method: `serve` answers 405 to the others).
    @inline(__always)
    func matches(_ head: HTTPRequestHead) -> Bool {
        let r = head.pathRange
        guard r.count == path.count else { return false }
        return head.bytes.withUnsafeBytes { b in
            path.withUnsafeBytes { memcmp(b.baseAddress! + r.lowerBound, $0.baseAddress!, r.count) == 0 }
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

/// A parsed request with its whole body.
struct HTTPRequest {
    var head: HTTPRequestHead
    var body: [UInt8]
}

/// The application behind an `HTTPServerConnection`: the proxy, or the mock upstream.
protocol HTTPRequestHandler: AnyObject {
    /// Called once per complete request. The handler must answer exactly once through the
    /// connection (`respond`, or `startStream` … `endStream`), now or later.
    func handle(_ request: HTTPRequest, on connection: HTTPServerConnection)

    /// The body of an error the connection produces itself (bad request, limits, timeouts), in the
    /// dialect of the route that `target` names when it is known.
    func errorResponse(status: Int, message: String, target: String?) -> (contentType: String, body: [UInt8])
}

/// What an in-flight exchange hears from its client connection.
protocol ClientObserver: AnyObject {
    /// The client drained its write queue below the low watermark: resume reading the upstream.
    func clientWritable()
    /// The client went away (EOF, reset, timeout): abandon the upstream at once.
    func clientGone()
    /// The deadline armed with `HTTPServerConnection.armExchangeTimer` passed.
    func exchangeTimerFired()
}

extension ClientObserver {
    func exchangeTimerFired() {}
}

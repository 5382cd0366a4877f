import HTTP1
/// A parsed request with its whole body.
package struct HTTPRequest {
    package var head: HTTPRequestHead
    package var body: [UInt8]
}

/// The application behind an `HTTPServerConnection`: the proxy, or the mock upstream.
package protocol HTTPRequestHandler: AnyObject {
    /// Called once per complete request. The handler must answer exactly once through the
    /// connection (`respond`, or `startStream` … `endStream`), now or later.
    func handle(_ request: HTTPRequest, on connection: HTTPServerConnection)

    /// The body of an error the connection produces itself (bad request, limits, timeouts), in the
    /// dialect of the route that `target` names when it is known.
    func errorResponse(status: Int, message: String, target: String?) -> (contentType: String, body: [UInt8])

    /// True when this request's body should be handed over piece by piece as it arrives (pass-through
    /// routes) instead of being collected before `handle`.
    func streamsRequestBody(_ head: HTTPRequestHead) -> Bool

    /// A request that never reached `handle` ended on the connection: the client left while its body
    /// was arriving (499), or the connection answered an error itself (408, 413, 400). `head` is nil
    /// when the head itself was not complete. For the access log; the handler must not answer.
    func requestEndedOnConnection(_ head: HTTPRequestHead?, status: Int, note: String)
}

extension HTTPRequestHandler {
    package func streamsRequestBody(_ head: HTTPRequestHead) -> Bool { false }
    package func requestEndedOnConnection(_ head: HTTPRequestHead?, status: Int, note: String) {}
}

/// What an in-flight exchange hears from its client connection.
package protocol ClientObserver: AnyObject {
    /// The client drained its write queue below the low watermark: resume reading the upstream.
    func clientWritable()
    /// The client went away (EOF, reset, timeout): abandon the upstream at once.
    func clientGone()
    /// A piece of a streamed request body (valid only during the call).
    func clientBody(_ bytes: UnsafeRawBufferPointer)
    /// The streamed request body ended.
    func clientBodyEnd()
}

extension ClientObserver {
    package func clientBody(_ bytes: UnsafeRawBufferPointer) {}
    package func clientBodyEnd() {}
}

import UVNet
/// What an upstream connection reports to the exchange that holds it.
protocol UpstreamConnectionUser: AnyObject {
    func upstreamConnected(_ connection: UpstreamConnection, error: StreamError?)
    func upstreamRead(_ connection: UpstreamConnection, _ bytes: UnsafeRawBufferPointer)
    func upstreamEnded(_ connection: UpstreamConnection, error: StreamError?)
    /// The upstream's write queue drained below the low watermark (streamed request bodies).
    func upstreamWritable(_ connection: UpstreamConnection)
}

extension UpstreamConnectionUser {
    func upstreamWritable(_ connection: UpstreamConnection) {}
}

/// A connection to one upstream (TCP, or TLS over memory BIOs), owned by one exchange at a time
/// and parked in the pool between requests. Loop-confined.
final class UpstreamConnection: TCPStreamDelegate {
    let stream: TCPStream
    let pool: UpstreamPool
    /// The exchange using this connection. Strong (a weak reference costs a side-table allocation per
    /// exchange); the cycle ends when the exchange parks or closes the connection.
    var user: (any UpstreamConnectionUser)?
    /// Requests this connection has carried (0 for a fresh one).
    var requestsServed = 0
    /// When it was parked in the pool (loop ms), for idle expiry.
    var parkedAt: UInt64 = 0
    /// True while it sits in the pool's idle list (so closing one in use costs no search).
    var isParked = false
    /// True from a successful connect until close: counted in the pool's `openCount`.
    var isCounted = false

    init(stream: TCPStream, pool: UpstreamPool) {
        self.stream = stream
        self.pool = pool
        stream.delegate = self
    }

    var isClosed: Bool { stream.isClosed }

    func streamConnected(_ stream: TCPStream, error: StreamError?) {
        if error != nil { pool.connectFailed() } else { pool.connectionOpened(self) }
        user?.upstreamConnected(self, error: error)
    }

    func streamRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
        if let user {
            user.upstreamRead(self, bytes)
        } else {
            // Bytes on an idle pooled connection: the server broke the protocol. Drop the connection.
            close()
        }
    }

    func streamEnded(_ stream: TCPStream, error: StreamError?) {
        if let user {
            user.upstreamEnded(self, error: error)
        } else {
            close()
        }
    }

    func streamWritable(_ stream: TCPStream) {
        user?.upstreamWritable(self)
    }

    func close() {
        user = nil
        if isCounted {
            isCounted = false
            pool.connectionClosed()
        }
        pool.forget(self)
        stream.close()
    }
}
